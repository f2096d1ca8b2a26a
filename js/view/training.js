// The doctor in the widget (issue 18): the training chart of a watch(), its verdict, the buttons that act
// on the optimizer and the switch back to the range-test curve. The kernel owns the stream (a Trace);
// this view keeps two column snapshots (the whole run, the zoomed range) and asks for the zoomed range's
// columns with a "training_zoom" command. The buttons send "scale_lr" commands, checked in the kernel.
import { formatLR } from "../format.js";
import { drawLrInUse, drawTrainingFrame } from "../layers/training.js";
import { h } from "./dom.js";
import { applyTraining, createTrainingState, DOCTOR, panRange, shownColumns, zoomRange } from "./training_state.js";

const ZOOM_STEP = 0.8; // one wheel notch or key press

/** The verdict as words and a colour (a theme role from rules.json), with the reason in one line. */
export function verdictLook(verdict, theme) {
  const v = DOCTOR.verdicts[verdict] || DOCTOR.verdicts.watching;
  return { word: v.word, color: theme[v.color] || theme.fgMuted };
}

/** What the mode switch says and does in mode `mode` (it shows the other one). */
export function modeSwitch(mode) {
  return mode === "training"
    ? { text: "Range test curve", title: "Show the range test's curve, with the lr in use marked" }
    : { text: "Training", title: "Show the training this widget watches" };
}

/** The text under the verdict: the reason, the lr in use, the last action's refusal. */
export function doctorLine(s) {
  const parts = [s.reason || "not enough steps yet to judge"];
  if (s.lrNow !== null) parts.push(`lr ${formatLR(s.lrNow)}`);
  parts.push(`step ${s.steps.toLocaleString("en-US")}`);
  if (s.error) parts.push(`last action refused: ${s.error}`);
  return parts.join(" \u00b7 ");
}

/** The command a button sends (the kernel accepts only these factors: rules.doctor.actions). */
export function scaleCommand(action) {
  return { type: "scale_lr", factor: action.factor, rollback: action.rollback };
}

function buildBar() {
  const modeBtn = h("button", { class: "lrw-btn lrw-mode", type: "button" });
  const dot = h("span", { class: "lrw-dot", "aria-hidden": "true" });
  const word = h("span", { class: "lrw-verdict-word" });
  const reason = h("span", { class: "lrw-verdict-reason" });
  const verdict = h("div", { class: "lrw-verdict", role: "status", "aria-live": "polite" }, [dot, word, reason]);
  const actions = DOCTOR.actions.map((a) =>
    h("button", {
      class: "lrw-btn lrw-act",
      type: "button",
      text: a.label,
      "data-factor": String(a.factor),
      "aria-label": `${a.rollback ? "Roll back to the last snapshot before the trouble and multiply" : "Multiply"} the learning rate by ${a.factor}`,
    }),
  );
  const acts = h("div", { class: "lrw-acts", role: "group", "aria-label": "Act on the learning rate" }, actions);
  const bar = h("div", { class: "lrw-doctor" }, [verdict, acts, modeBtn]);
  bar.hidden = true;
  return { bar, modeBtn, dot, word, reason, actions };
}

function showBar(ui, s, theme, root) {
  ui.bar.hidden = !s.active;
  root.dataset.mode = s.mode;
  const sw = modeSwitch(s.mode);
  ui.modeBtn.textContent = sw.text;
  ui.modeBtn.title = sw.title;
  const look = verdictLook(s.verdict, theme);
  ui.dot.style.background = look.color;
  ui.word.textContent = look.word;
  ui.word.style.color = look.color;
  ui.reason.textContent = doctorLine(s);
  root.dataset.verdict = s.verdict;
  root.dataset.steps = String(s.steps);
  root.dataset.actions = String(s.events.filter((e) => e.kind === "action").length);
  for (const b of ui.actions) b.hidden = s.mode !== "training";
}

/** Draw the training chart when this view shows training (true), else mark the lr in use on the curve. */
export function drawTrainingView(ctx, size, view, root = null) {
  const s = view.training;
  if (s?.mode !== "training") return false;
  view.frame = null; // the range test's pointer and keys find no curve here
  const t0 = view.now();
  view.trainingFrame = drawTrainingFrame({
    ctx,
    ...size,
    theme: view.theme,
    cols: shownColumns(s),
    events: s.events,
  });
  // lets browser tests read the frame time and the steps shown
  if (root) root.dataset.frameMs = (view.now() - t0).toFixed(2);
  return true;
}

/** After the range-test frame: the lr the watched optimizer uses, on the curve. */
export function markLrInUse(ctx, size, view) {
  const s = view.training;
  if (s?.active) drawLrInUse(ctx, view.frame, s.lrNow, view.theme, size.dpr);
}

/** The zoom command for range `want` (null: the whole run, no command). */
export function zoomCommand(want, req, width) {
  if (!want) return null;
  const cols = Math.max(1, Math.min(DOCTOR.maxColumns, Math.round(width)));
  return { type: "training_zoom", lo: want.lo, hi: want.hi, cols, req };
}

function mountZoom({ dom, port, view, bus }) {
  const s = view.training;
  const ask = (want) => {
    s.want = want;
    s.req += 1;
    const g = view.trainingFrame;
    const width = g ? (g.plot.right - g.plot.left) * (window.devicePixelRatio || 1) : 1024;
    const cmd = zoomCommand(want, s.req, width);
    if (cmd) port.send(cmd);
    bus.emit("draw");
  };
  const stepAt = (clientX) => {
    const g = view.trainingFrame;
    if (!g) return s.steps / 2;
    return g.xScale.invert(clientX - dom.canvas.getBoundingClientRect().left);
  };
  const onWheel = (ev) => {
    if (s.mode !== "training" || !s.active) return;
    ev.preventDefault();
    ask(zoomRange(s.want, s.steps, stepAt(ev.clientX), ev.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP));
  };
  const onKey = (ev) => {
    if (s.mode !== "training" || !s.active || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const mid = s.want ? (s.want.lo + s.want.hi) / 2 : s.steps / 2;
    const span = s.want ? s.want.hi - s.want.lo : s.steps;
    const moves = {
      "+": () => zoomRange(s.want, s.steps, mid, ZOOM_STEP),
      "=": () => zoomRange(s.want, s.steps, mid, ZOOM_STEP),
      "-": () => zoomRange(s.want, s.steps, mid, 1 / ZOOM_STEP),
      0: () => null,
      ArrowLeft: () => panRange(s.want, s.steps, -span / 4),
      ArrowRight: () => panRange(s.want, s.steps, span / 4),
    };
    if (!(ev.key in moves)) return;
    ev.preventDefault();
    ev.stopPropagation(); // Jupyter's command-mode shortcuts must not see these keys
    ask(moves[ev.key]());
  };
  dom.plotBox.addEventListener("wheel", onWheel, { passive: false });
  dom.plotBox.addEventListener("keydown", onKey);
  return () => {
    dom.plotBox.removeEventListener("wheel", onWheel);
    dom.plotBox.removeEventListener("keydown", onKey);
  };
}

function mountButtons(ui, { port, view, bus, dom }) {
  const s = view.training;
  const onAct = (ev) => {
    const a = DOCTOR.actions[ui.actions.indexOf(ev.currentTarget)];
    if (!a) return;
    port.send(scaleCommand(a));
    dom.live.textContent = `Asked the kernel to ${a.rollback ? "roll back and " : ""}multiply the lr by ${a.factor}`;
  };
  const onMode = () => {
    s.mode = s.mode === "training" ? "range" : "training";
    s.chosen = true;
    bus.emit("draw");
    bus.emit("status");
  };
  for (const b of ui.actions) b.addEventListener("click", onAct);
  ui.modeBtn.addEventListener("click", onMode);
  return () => {
    for (const b of ui.actions) b.removeEventListener("click", onAct);
    ui.modeBtn.removeEventListener("click", onMode);
  };
}

/** The doctor's bar, its messages, buttons and zoom for one view. Returns the cleanup. */
export function mountTraining(env) {
  const { dom, port, view, bus } = env;
  view.training = createTrainingState();
  const ui = buildBar();
  dom.root.insertBefore(ui.bar, dom.plotBox);
  const onCustom = (msg, buffers) => {
    if (msg?.type !== "training") return;
    const res = applyTraining(view.training, msg, buffers || []);
    if (res.error) console.warn("lrwidget: ignored a malformed training message:", res.error);
    if (res.changed) {
      bus.emit("status");
      bus.emit("draw");
    }
  };
  const offs = [
    port.on("msg:custom", onCustom),
    bus.on("status", () => showBar(ui, view.training, view.theme, dom.root)),
    bus.on("closed", () => {
      for (const b of ui.actions) b.disabled = true;
    }),
    mountButtons(ui, env),
    mountZoom(env),
  ];
  return () => {
    for (const off of offs) off();
    ui.bar.remove();
  };
}

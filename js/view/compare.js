// The compare view (issue 20): several runs on one chart. Built from the single view's parts (the port, bus,
// layout, theme watch, frame scheduler, tooltip) with its own legend (one toggle per run), pointer (hover
// names the run, a click selects a (run, lr)) and Apply. The kernel checks every command: a select carries a
// run index and an lr, which the kernel snaps to a reading of that run; Apply carries nothing.
import { formatLoss, formatLR } from "../format.js";
import { createRunsCache, drawRunsFrame, pickRun } from "../layers/runs.js";
import { nearestIndex } from "../pick.js";
import { createBus } from "./bus.js";
import { applyCompareMessage, applySaved, asRunInfos, asTrend, createCompareState } from "./compare_state.js";
import { h } from "./dom.js";
import { createFrameScheduler } from "./frame_loop.js";
import { mountLayout } from "./layout.js";
import { createPort } from "./model_port.js";
import { mountThemeWatch } from "./theme_watch.js";
import { esc, showTooltip } from "./tooltip.js";
import { createView } from "./view.js";

/** Does this model belong to the compare view (a CompareWidget)? */
export function isCompareModel(model) {
  return model.get("compare_runs") !== undefined;
}

function buildCompareLayout() {
  const title = h("div", { class: "lrw-title" });
  const canvas = h("canvas", { class: "lrw-canvas", "aria-hidden": "true" });
  const tooltip = h("div", { class: "lrw-tooltip", role: "presentation" });
  tooltip.hidden = true;
  const plotBox = h(
    "div",
    {
      class: "lrw-plot",
      tabindex: "0",
      role: "application",
      "aria-roledescription": "range tests compared",
      "aria-label": "Loss against learning rate, one curve per run. Click a curve to select a run's learning rate.",
    },
    [canvas, tooltip],
  );
  const legend = h("div", { class: "lrw-legend lrw-runs", role: "group", "aria-label": "Runs (toggle)" });
  const selReadout = h("span", { class: "lrw-readout lrw-sel" });
  const appliedReadout = h("span", { class: "lrw-readout lrw-applied" });
  const applyBtn = h("button", { class: "lrw-btn lrw-apply", type: "button", text: "Apply" });
  const controls = h("div", { class: "lrw-controls" }, [
    h("div", { class: "lrw-readouts" }, [selReadout, appliedReadout]),
    h("div", { class: "lrw-buttons" }, [applyBtn]),
  ]);
  const live = h("div", { class: "lrw-sr-only", "aria-live": "polite" });
  const header = h("div", { class: "lrw-header" }, [title]);
  const root = h("div", { class: "lrw-root lrw-compare", "data-lm-suppress-shortcuts": "true" });
  root.append(header, plotBox, legend, controls, live);
  return { root, title, canvas, tooltip, plotBox, legend, selReadout, appliedReadout, applyBtn, live };
}

/** One legend entry's words (pure): label, its suggestion and, when set, the warning. */
export function runEntryText(info) {
  const lr = info.suggestion === null ? "\u2014" : formatLR(info.suggestion);
  return { name: info.label, lr, warning: info.warning ? `\u26a0 ${info.warning}` : "" };
}

function legendButton(info, k, visible, color, onToggle) {
  const t = runEntryText(info);
  const sw = h("span", { class: "lrw-swatch lrw-swatch-default", "aria-hidden": "true" });
  sw.style.setProperty("--lrw-swatch", color);
  const parts = [
    sw,
    h("span", { class: "lrw-legend-name", text: t.name }),
    h("span", { class: "lrw-legend-lr", text: t.lr }),
  ];
  if (t.warning) parts.push(h("span", { class: "lrw-legend-warning", text: t.warning }));
  const b = h(
    "button",
    {
      type: "button",
      class: "lrw-legend-item lrw-run",
      "data-run": String(k),
      "aria-pressed": String(visible),
      title: `${t.name}: suggests ${t.lr}; optimizer ${info.target}${t.warning ? `; ${info.warning}` : ""}`,
    },
    parts,
  );
  b.addEventListener("click", () => onToggle(k)); // a button: Enter and Space click it too
  return b;
}

function frameRuns(state, infos, hidden, theme) {
  return infos.map((info, k) => {
    const r = state.runs[k];
    return {
      ...r,
      visible: !hidden.has(k),
      color: theme.runs[info.color % theme.runs.length],
      suggestion: info.suggestion === null ? null : { lr: info.suggestion, index: info.suggestionIndex },
      label: info.label,
    };
  });
}

function fitCanvas(dom) {
  const width = Math.max(1, Math.floor(dom.plotBox.clientWidth));
  const height = Math.max(1, Math.floor(dom.plotBox.clientHeight));
  const dpr = window.devicePixelRatio || 1;
  if (dom.canvas.width !== Math.round(width * dpr)) dom.canvas.width = Math.round(width * dpr);
  if (dom.canvas.height !== Math.round(height * dpr)) dom.canvas.height = Math.round(height * dpr);
  dom.canvas.style.width = `${width}px`;
  dom.canvas.style.height = `${height}px`;
  return { width, height, dpr };
}

/** One draw per animation frame; the frame's time in data-frame-ms. Returns the cleanup. */
function mountCompareFrame({ dom, view, bus, c }) {
  const cache = createRunsCache();
  const draw = () => {
    const ins = c.infos();
    c.runs = frameRuns(c.state, ins, c.hidden, view.theme);
    const t0 = view.now();
    c.g = drawRunsFrame({
      ctx: dom.canvas.getContext("2d"),
      ...fitCanvas(dom),
      theme: view.theme,
      runs: c.runs,
      log: ins.every((i) => i.log),
      trend: asTrend(c.get("compare_trend", null)),
      selected: c.selected(),
      hover: c.hover,
      cache,
    });
    dom.root.dataset.frameMs = (view.now() - t0).toFixed(2); // browser tests read the frame's time
    dom.root.dataset.readings = c.runs.map((r) => r.n).join(",");
    dom.root.dataset.running = String(ins.filter((i) => i.running).length);
  };
  const loop = createFrameScheduler(draw);
  const off = bus.on("draw", loop.request);
  return () => {
    off();
    loop.stop();
  };
}

/** The legend: one toggle per run (a button: click, Enter or Space). Returns the cleanup. */
function mountRunLegend({ dom, view, bus, c }) {
  const toggle = (k) => {
    if (c.hidden.has(k)) c.hidden.delete(k);
    else c.hidden.add(k);
    bus.emit("suggestions");
    bus.emit("draw");
  };
  const rebuild = () => {
    dom.legend.innerHTML = "";
    c.infos().forEach((info, k) => {
      const color = view.theme.runs[info.color % view.theme.runs.length];
      dom.legend.append(legendButton(info, k, !c.hidden.has(k), color, toggle));
    });
  };
  rebuild();
  return bus.on("suggestions", rebuild);
}

/** Title, the selection, what Apply did (or the kernel's refusal). Returns the cleanup. */
function mountCompareReadouts({ dom, bus, c }) {
  const show = () => {
    dom.title.textContent = c.get("title", "") || "Range tests compared";
    const s = c.selected();
    const ins = c.infos();
    dom.selReadout.textContent = s && ins[s.run] ? `selected ${ins[s.run].label}: lr ${formatLR(s.lr)}` : "";
    dom.appliedReadout.textContent = c.get("compare_error", "") || c.get("compare_applied", "");
    dom.applyBtn.disabled = !s;
  };
  show();
  return bus.on("selection", show);
}

/** Hover names the run, a click selects (run, lr), Apply asks the kernel. Returns the cleanup. */
function mountRunPointer({ dom, port, bus, c }) {
  const at = (ev) => {
    const r = dom.canvas.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const y = ev.clientY - r.top;
    return { x, y, hit: c.g ? pickRun(c.g, c.runs, x, y, nearestIndex) : null };
  };
  const onMove = (ev) => {
    const { x, y, hit } = at(ev);
    const same = hit && c.hover && hit.run === c.hover.run && hit.index === c.hover.index;
    c.hover = hit;
    dom.tooltip.hidden = !hit;
    if (hit) showTooltip(dom, x, y, runTip(c.runs[hit.run].label, hit));
    if (!same) bus.emit("draw"); // the ring moved: one frame
  };
  const onLeave = () => {
    c.hover = null;
    dom.tooltip.hidden = true;
    bus.emit("draw");
  };
  const onClick = (ev) => {
    const { hit } = at(ev);
    if (hit) port.send({ type: "compare_select", run: hit.run, lr: hit.lr });
  };
  const onApply = () => port.send({ type: "compare_apply" });
  const on = [
    [dom.canvas, "pointermove", onMove],
    [dom.canvas, "pointerleave", onLeave],
    [dom.canvas, "click", onClick],
    [dom.applyBtn, "click", onApply],
  ];
  for (const [t, e, fn] of on) t.addEventListener(e, fn);
  return () => {
    for (const [t, e, fn] of on) t.removeEventListener(e, fn);
  };
}

/** The hover tip (pure HTML, escaped): the run's label, the lr and its loss. */
export function runTip(label, hit) {
  return `<b>${esc(label)}</b> lr ${esc(formatLR(hit.lr))}<div>loss ${esc(formatLoss(hit.loss))}</div>`;
}

/** The kernel's messages and traits into the view. Returns the cleanup. */
function mountCompareModel({ port, bus, c }) {
  const onSaved = () => {
    applySaved(c.state, c.get("compare_saved", null));
    bus.emit("draw");
  };
  const redraw = (topic) => () => {
    bus.emit(topic);
    bus.emit("draw");
  };
  const offs = [
    port.on("msg:custom", (msg, buffers) => {
      if (applyCompareMessage(c.state, msg, buffers)) bus.emit("draw");
    }),
    port.on("change:compare_saved", onSaved),
    port.on("change:compare_runs", redraw("suggestions")),
  ];
  for (const name of ["compare_selected", "compare_applied", "compare_error", "title", "compare_trend"]) {
    offs.push(port.on(`change:${name}`, redraw("selection")));
  }
  onSaved();
  port.send({ type: "hello" }); // the live runs' readings so far come back as messages
  return () => {
    for (const off of offs) off();
  };
}

const COMPARE_PARTS = [
  mountLayout,
  mountThemeWatch,
  mountCompareFrame,
  mountRunLegend,
  mountCompareReadouts,
  mountRunPointer,
  mountCompareModel,
];

/** This view's shared state: the readings, hidden runs, hover, last geometry and the trait readers. */
function createCompareContext(model) {
  // the compare traits (CompareWidget's, not the single view's ViewState): read here only
  const get = (name, fallback) => {
    const v = model.get(name);
    return v === undefined || v === null ? fallback : v;
  };
  return {
    get,
    state: createCompareState(),
    hidden: new Set(),
    hover: null,
    g: null,
    runs: [],
    infos: () => asRunInfos(get("compare_runs", [])),
    selected: () => {
      const s = get("compare_selected", {});
      return s && Number.isInteger(s.run) && typeof s.lr === "number" ? s : null;
    },
  };
}

/** Render one compare view; returns its cleanup (the same contract as widget.js's render). */
export function renderCompare({ model, el }) {
  const view = createView(el);
  const port = createPort(model, () => view.closed);
  const bus = createBus();
  const dom = buildCompareLayout();
  el.append(dom.root);
  const env = { el, dom, port, view, bus, c: createCompareContext(model) };
  const cleanups = COMPARE_PARTS.map((mount) => mount(env));
  bus.emit("draw");
  return () => {
    for (const off of cleanups) off();
    view.closed = true;
    dom.root.remove();
  };
}

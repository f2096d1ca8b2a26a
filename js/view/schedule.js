// The schedule (issue 19): a picker of the rules' kinds, a total-steps field, the preview of lr(step) the
// kernel computed for the brushed (else suggested) range, and Apply schedule. Every choice is a command
// ({type: "schedule_preview" | "apply_schedule", kind, total_steps}) the kernel checks; what is shown comes
// back as traits (schedule_kind, total_steps, preview, schedule_applied, schedule_error) to every view.
import rules from "../../lrwidget/pure/rules.json" with { type: "json" };
import { formatLR } from "../format.js";
import { drawSchedulePreview } from "../layers/schedule.js";
import { h } from "./dom.js";
import { asRange } from "./range.js";

const SCHEDULE = rules.schedule;
/** Most points a preview may hold (the kernel sends about 2 per column); a saved state may hold anything. */
export const MAX_PREVIEW_POINTS = 16384;
export const MIN_STEPS = SCHEDULE.minTotalSteps;
export const MAX_STEPS = SCHEDULE.maxTotalSteps;

/** The picker's kinds in order: [{name, label}] (rules.json "schedule"; the kernel accepts only these). */
export function scheduleKinds(section = SCHEDULE) {
  return (section.kinds || []).map((k) => ({ name: k.name, label: k.label }));
}

/** The label of `kind` (its name when unknown). */
export function kindLabel(kind) {
  return scheduleKinds().find((k) => k.name === kind)?.label ?? String(kind);
}

/** The total-steps field's text as a number of steps, or null with the reason (pure). */
export function parseSteps(text) {
  const s = String(text).trim();
  if (!/^\d+$/.test(s)) return { steps: null, error: `total steps must be a whole number, got "${s.slice(0, 20)}"` };
  const v = Number(s);
  if (v < MIN_STEPS || v > MAX_STEPS) return { steps: null, error: `total steps must be ${MIN_STEPS} to ${MAX_STEPS}` };
  return { steps: v, error: null };
}

const finite = (a) => Array.isArray(a) && a.every((x) => typeof x === "number" && Number.isFinite(x));

/** The `preview` trait checked (hostile when saved): {kind, lo, hi, totalSteps, steps, lrs} or null. */
export function asPreview(v) {
  if (typeof v !== "object" || v === null) return null;
  const { steps, lrs, total_steps: total } = v;
  if (!finite(steps) || !finite(lrs) || steps.length !== lrs.length || steps.length > MAX_PREVIEW_POINTS) return null;
  if (!Number.isSafeInteger(total) || total < 1 || steps.some((s, i) => s < 0 || s > total || s < (steps[i - 1] ?? 0)))
    return null;
  const range = asRange([v.lo, v.hi]);
  if (!range || lrs.some((x) => x < 0)) return null;
  const kind = typeof v.kind === "string" ? v.kind.slice(0, 40) : "";
  return { kind, ...range, totalSteps: total, steps: Float64Array.from(steps), lrs: Float64Array.from(lrs) };
}

/** What the readout says: the attached schedule, else the kernel's refusal, else nothing (pure). */
export function scheduleReadout(applied, error) {
  if (error) return { text: `Schedule refused: ${String(error).slice(0, 300)}`, error: true };
  if (!applied || typeof applied !== "object" || !asRange([applied.lo, applied.hi])) return { text: "", error: false };
  const steps = Number.isSafeInteger(applied.total_steps) ? applied.total_steps.toLocaleString("en-US") : "?";
  const text = `Attached ${kindLabel(applied.kind)} ${formatLR(applied.lo)} \u2192 ${formatLR(applied.hi)}, ${steps} steps`;
  return { text, error: false };
}

/** The preview's text for screen readers and the canvas' title. */
export function previewText(p) {
  if (!p) return "No schedule preview: select a range on the plot, or run a range test for a suggested one";
  return `Preview of ${kindLabel(p.kind)} from ${formatLR(p.lo)} to ${formatLR(p.hi)} over ${p.totalSteps.toLocaleString("en-US")} steps`;
}

function buildRow() {
  const picker = h("select", { class: "lrw-picker lrw-schedule-kind", "aria-label": "Schedule" });
  for (const k of scheduleKinds()) picker.append(h("option", { value: k.name, text: k.label }));
  const steps = h("input", {
    class: "lrw-steps",
    type: "number",
    min: String(MIN_STEPS),
    max: String(MAX_STEPS),
    step: "1",
    inputmode: "numeric",
    "aria-label": "Total steps",
  });
  const canvas = h("canvas", { class: "lrw-preview", role: "img" });
  const applyBtn = h("button", { class: "lrw-btn lrw-apply-schedule", type: "button", text: "Apply schedule" });
  const readout = h("span", { class: "lrw-schedule-readout", role: "status", "aria-live": "polite" });
  const label = (text, input) => h("label", { class: "lrw-picker-label" }, [h("span", { text }), input]);
  const row = h("div", { class: "lrw-schedule", role: "group", "aria-label": "Schedule from the range" }, [
    label("Schedule", picker),
    label("Total steps", steps),
    canvas,
    applyBtn,
    readout,
  ]);
  return { row, picker, steps, canvas, applyBtn, readout, drawn: {}, raw: undefined, preview: null };
}

/** Draw the preview when it, the canvas size or the theme changed since the last time (a tick is free). */
function drawPreview(ui, view, p) {
  const c = ui.canvas;
  const width = Math.max(1, Math.floor(c.clientWidth));
  const height = Math.max(1, Math.floor(c.clientHeight));
  const dpr = window.devicePixelRatio || 1;
  const key = `${width}|${height}|${dpr}`;
  if (ui.drawn.p === p && ui.drawn.key === key && ui.drawn.theme === view.theme) return;
  ui.drawn = { p, key, theme: view.theme };
  c.width = Math.round(width * dpr);
  c.height = Math.round(height * dpr);
  const t0 = view.now();
  const message = "select a range on the curve";
  const ctx = c.getContext("2d");
  const points = drawSchedulePreview({ ctx, width, height, dpr, theme: view.theme, preview: p, message });
  c.dataset.points = String(points);
  c.dataset.frameMs = (view.now() - t0).toFixed(2); // browser tests read the time a preview frame took
}

/** The `preview` trait checked once per value (the model hands out the same object until it changes). */
function previewOf(ui, raw) {
  if (ui.raw !== raw) {
    ui.raw = raw;
    ui.preview = asPreview(raw);
  }
  return ui.preview;
}

/** The command the row's fields make, or the field's error (shown, nothing sent). */
function command(type, ui) {
  const parsed = parseSteps(ui.steps.value);
  ui.steps.setAttribute("aria-invalid", parsed.error ? "true" : "false");
  if (parsed.error) return { error: parsed.error };
  return { cmd: { type, kind: ui.picker.value, total_steps: parsed.steps } };
}

/** Show the traits: the kind, the steps, the preview, the readout, the button's state. */
function show(ui, port, view, root) {
  const kind = port.get("schedule_kind", "");
  if (kind && ui.picker.value !== kind) ui.picker.value = kind;
  const total = port.num("total_steps");
  if (total !== null && document.activeElement !== ui.steps) ui.steps.value = String(total);
  const p = previewOf(ui, port.get("preview"));
  const hasRange = asRange(port.get("selected_range")) || asRange(port.get("suggested_range"));
  ui.applyBtn.disabled = !hasRange || port.get("status", "idle") === "running";
  const r = scheduleReadout(port.get("schedule_applied"), port.get("schedule_error", ""));
  // written only when they change: a live region re-announces any write (this runs every tick)
  if (ui.readout.textContent !== r.text) ui.readout.textContent = r.text;
  ui.readout.classList.toggle("lrw-error-text", r.error);
  const label = previewText(p);
  if (ui.canvas.getAttribute("aria-label") !== label) ui.canvas.setAttribute("aria-label", label);
  root.dataset.schedule = port.get("schedule_applied")?.kind ?? "";
  drawPreview(ui, view, p);
}

const TRAITS = ["schedule_kind", "total_steps", "preview", "schedule_applied", "schedule_error", "selected_range"];

/** The schedule row of one view. Returns the cleanup. */
export function mountSchedule({ dom, port, view, bus }) {
  const ui = buildRow();
  dom.root.insertBefore(ui.row, dom.controls);
  const refresh = () => show(ui, port, view, dom.root);
  const send = (type) => {
    const r = command(type, ui);
    if (r.error) {
      ui.readout.textContent = r.error;
      return;
    }
    port.send(r.cmd);
    if (type === "apply_schedule") dom.live.textContent = `Attaching ${kindLabel(r.cmd.kind)}`;
  };
  const onPreview = () => send("schedule_preview");
  const onApply = () => send("apply_schedule");
  const onKey = (ev) => {
    if (ev.key !== "Enter") return;
    ev.preventDefault();
    ev.stopPropagation(); // Jupyter's Shift+Enter / Enter must not see it: the field takes it
    onPreview();
  };
  ui.picker.addEventListener("change", onPreview);
  ui.steps.addEventListener("change", onPreview);
  ui.steps.addEventListener("keydown", onKey);
  ui.applyBtn.addEventListener("click", onApply);
  const offs = [
    ...[...TRAITS, "suggested_range"].map((t) => port.on(`change:${t}`, refresh)),
    bus.on("status", refresh),
    bus.on("layout", refresh), // a resize
    bus.on("suggestions", refresh), // the theme changed too: the preview's colours
    bus.on("closed", () => {
      ui.applyBtn.disabled = true;
    }),
  ];
  refresh();
  return () => {
    for (const off of offs) off();
    ui.picker.removeEventListener("change", onPreview);
    ui.steps.removeEventListener("change", onPreview);
    ui.steps.removeEventListener("keydown", onKey);
    ui.applyBtn.removeEventListener("click", onApply);
    ui.row.remove();
  };
}

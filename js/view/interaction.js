// Plot interaction: pointer hover (crosshair and tooltip), click to select, the keyboard. A click or an
// arrow key selects the NEAREST READING by x (in log space on a log axis), never an interpolated value,
// so the lr sent with {type: "select", lr, index} is exactly one the range test tried; a click on a
// suggestion marker selects that rule's lr.
import { nearestIndex, nearestMarker } from "../pick.js";
import { keyAction, keyFallback, keyTarget } from "./keys.js";
import { keyTip, markerTip, readingTip, showTooltip } from "./tooltip.js";
import { isLogAxis, isSelectable } from "./view.js";

const MARKER_RADIUS = 9; // px around a suggestion marker that count as on it

/** Is (x, y) on the plot of `frame` (a little slack around it, more at the top where the pills are)? */
export function inPlot(frame, x, y) {
  if (!frame) return false;
  const p = frame.plot;
  return x >= p.left - 6 && x <= p.right + 6 && y >= p.top - 12 && y <= p.bottom + 6;
}

/**
 * What the pointer at (x, y) is on (pure): null off the plot or with no readings, else {marker, index}:
 * marker = position in frame.markers of the suggestion marker under it (-1: none), index = the
 * nearest reading by x when it is on no marker (-1 otherwise).
 */
export function hitTest(frame, readings, x, y, log) {
  if (!frame || !inPlot(frame, x, y) || readings.n === 0) return null;
  const marker = nearestMarker(frame.markers, x, y, MARKER_RADIUS);
  const index = marker < 0 ? nearestIndex(readings.lr, readings.n, frame.xScale.invert(x), log, null) : -1;
  return { marker, index };
}

function setHover(view, bus, index, marker) {
  if (view.hover.index === index && view.hover.marker === marker) return;
  view.hover = { index, marker };
  bus.emit("draw");
}

/** Hover and click on the canvas. Returns the cleanup. */
export function mountPointer({ dom, port, view, bus, actions }) {
  const { canvas } = dom;
  const where = (ev) => {
    const r = canvas.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const y = ev.clientY - r.top;
    return { x, y, hit: hitTest(view.frame, view.readings, x, y, isLogAxis(port.get("step_mode"), view.readings)) };
  };
  const onLeave = () => {
    dom.tooltip.hidden = true;
    setHover(view, bus, -1, -1);
  };
  const onMove = (ev) => {
    const { x, y, hit } = where(ev);
    if (!hit) return onLeave();
    const m = hit.marker >= 0 ? view.frame.markers[hit.marker] : null;
    setHover(view, bus, hit.index, m ? m.k : -1);
    canvas.style.cursor = m ? "pointer" : "crosshair";
    const r = view.readings;
    if (m) showTooltip(dom, x, y, markerTip(m.suggestion));
    else if (hit.index >= 0) {
      const i = hit.index;
      showTooltip(dom, x, y, readingTip(r.lr[i], r.smoothed[i], r.loss[i], i));
    }
  };
  const onClick = (ev) => {
    if (view.dragged) return; // the end of a drag across the plot (range.js), not a click
    const { hit } = where(ev);
    if (!hit) return;
    dom.plotBox.focus({ preventScroll: true });
    if (hit.marker >= 0) actions.selectSuggestion(view.frame.markers[hit.marker].suggestion);
    else if (hit.index >= 0) actions.select(view.readings.lr[hit.index], hit.index);
  };
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerleave", onLeave);
  canvas.addEventListener("click", onClick);
  dom.plotBox.addEventListener("blur", onLeave);
  return () => {
    canvas.removeEventListener("pointermove", onMove);
    canvas.removeEventListener("pointerleave", onLeave);
    canvas.removeEventListener("click", onClick);
    dom.plotBox.removeEventListener("blur", onLeave);
  };
}

/** Show the reading the keyboard moved to: crosshair and a tooltip at its point. */
function showKeyed(dom, view, bus, i) {
  setHover(view, bus, i, -1);
  const f = view.frame;
  if (!f) return;
  const r = view.readings;
  const yv = r.smoothed[i];
  const y = Number.isFinite(yv) ? f.yScale.map(yv) : f.plot.top + 20;
  showTooltip(dom, f.xScale.map(r.lr[i]), Math.max(f.plot.top, Math.min(f.plot.bottom, y)), keyTip(r.lr[i], yv));
}

/** Arrows / Home / End select a reading, Enter applies. Returns the cleanup. */
export function mountKeyboard({ dom, port, view, bus, actions }) {
  const onKey = (ev) => {
    if (view.training?.mode === "training") return; // the training chart's keys are training.js's
    const action = keyAction(ev);
    if (!action) return;
    ev.preventDefault();
    ev.stopPropagation(); // Jupyter's command-mode shortcuts must not see these keys
    if (action.kind === "apply") return actions.apply();
    const r = view.readings;
    const valid = (i) => isSelectable(r, i);
    const fallback = keyFallback(port.suggestions(), r.n, valid, r.smoothed);
    const next = keyTarget(action, actions.selectedIndex(), r.n, valid, fallback);
    if (next < 0) return;
    actions.select(r.lr[next], next);
    showKeyed(dom, view, bus, next);
  };
  dom.plotBox.addEventListener("keydown", onKey);
  return () => dom.plotBox.removeEventListener("keydown", onKey);
}

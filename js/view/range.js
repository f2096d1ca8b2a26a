// A range of learning rates (issue 19): dragged across the curve or grown with Shift+Left/Right from the
// selection, cleared with Escape. The view only proposes: it sends {type: "select_range", lo, hi} (both
// ends tested lrs) and the kernel snaps, checks and answers with the `selected_range` trait, which every
// view draws; until it comes back this view draws its own proposal. With nothing brushed the kernel's
// `suggested_range` is drawn (dashed) and is what a schedule uses.
import { formatLR } from "../format.js";
import { nearestIndex, stepIndex } from "../pick.js";
import { keyFallback } from "./keys.js";
import { isLogAxis, isSelectable } from "./view.js";

/** Pixels the pointer must travel with the button down before a press is a drag (else it stays a click). */
export const DRAG_MIN_PX = 5;
/** How long a proposal is drawn without the kernel's answer (a refused one must not stay on screen). */
export const LOCAL_RANGE_MS = 2000;

/** A [lo, hi] trait or message field checked (a saved state may hold anything): {lo, hi} or null. */
export function asRange(v) {
  if (!Array.isArray(v) || v.length !== 2) return null;
  const [lo, hi] = v;
  const ok = (x) => typeof x === "number" && Number.isFinite(x) && x > 0;
  return ok(lo) && ok(hi) && lo < hi ? { lo, hi } : null;
}

/**
 * The range this view draws (pure): its own proposal while the kernel has not answered (at most
 * LOCAL_RANGE_MS; `localRange` = {lo, hi, t} or {clear: true, t}), else the kernel's brushed range, else
 * the kernel's suggested one (suggested: true). null: none.
 */
export function shownRange(localRange, selected, suggested, now) {
  const pending = localRange && now - localRange.t < LOCAL_RANGE_MS;
  if (pending && !localRange.clear) return { lo: localRange.lo, hi: localRange.hi, suggested: false };
  const sel = pending ? null : asRange(selected);
  if (sel) return { ...sel, suggested: false };
  const sug = asRange(suggested);
  return sug ? { ...sug, suggested: true } : null;
}

/**
 * Does the kernel's `selected_range` answer this view's pending proposal (pure)? Only then is the proposal
 * dropped: the kernel answers commands in order, so an answer to an older key press (the range one reading
 * shorter) must not replace the newer proposal, or the next key would grow from the stale range.
 */
export function answersProposal(localRange, selected) {
  if (!localRange) return true;
  const sel = asRange(selected);
  if (localRange.clear) return sel === null;
  return sel !== null && sel.lo === localRange.lo && sel.hi === localRange.hi;
}

/** Is a press that went from x0 to x1 (CSS px) a drag? */
export function isDrag(x0, x1, min = DRAG_MIN_PX) {
  return Math.abs(x1 - x0) >= min;
}

/**
 * The readings a drag from x0 to x1 covers (pure): {lo, hi} indices of the nearest selectable readings to
 * each end, lo < hi by lr; null when both ends land on one reading.
 */
export function dragReadings(frame, readings, x0, x1, log) {
  const clamp = (x) => Math.max(frame.plot.left, Math.min(frame.plot.right, x));
  const at = (x) => nearestIndex(readings.lr, readings.n, frame.xScale.invert(clamp(x)), log, readings.smoothed);
  const a = at(x0);
  const b = at(x1);
  if (a < 0 || b < 0 || readings.lr[a] === readings.lr[b]) return null;
  return readings.lr[a] < readings.lr[b] ? { lo: a, hi: b } : { lo: b, hi: a };
}

/**
 * The range keys (pure): Shift+Left / Shift+Right move the range's free end one reading ({kind: "extend",
 * delta}), Escape clears it ({kind: "clear"}); anything else (and Alt, Ctrl, Meta) is not ours: null.
 */
export function rangeKey({ key, shiftKey = false, altKey = false, ctrlKey = false, metaKey = false }) {
  if (altKey || ctrlKey || metaKey) return null;
  if (key === "Escape") return { kind: "clear" };
  if (!shiftKey) return null;
  if (key === "ArrowLeft") return { kind: "extend", delta: -1 };
  if (key === "ArrowRight") return { kind: "extend", delta: 1 };
  return null;
}

/**
 * Where the keyboard range starts (pure): the keys' own range while it still is the brushed one and is
 * anchored at the selection; else the selected reading (the range grows from the selection); else the
 * brushed range (a drag, anchored at its low end); else `fallback` (the default suggestion's reading).
 * Returns {anchor, focus} (reading indices; -1: none).
 */
export function keyRangeStart(kept, brushed, lrs, selIndex, fallback) {
  const same = kept && brushed && lrs[Math.min(kept.anchor, kept.focus)] === brushed.lo;
  if (same && lrs[Math.max(kept.anchor, kept.focus)] === brushed.hi && (selIndex < 0 || kept.anchor === selIndex)) {
    return kept;
  }
  if (selIndex >= 0) return { anchor: selIndex, focus: selIndex };
  if (brushed) {
    const lo = lrs.indexOf(brushed.lo);
    const hi = lrs.lastIndexOf(brushed.hi);
    if (lo >= 0 && hi >= 0) return { anchor: lo, focus: hi };
  }
  return { anchor: fallback, focus: fallback };
}

/** One extend key (pure): the focus moves `delta` selectable readings, the anchor stays. */
export function extendKeyRange(start, delta, n, isValid) {
  if (start.anchor < 0) return start;
  return { anchor: start.anchor, focus: stepIndex(start.focus, delta, n, isValid) };
}

/** The command for readings a..b (either order) of `lrs`: both ends null (clear) when they are one reading. */
export function rangeCommand(lrs, a, b) {
  if (a < 0 || b < 0 || lrs[a] === lrs[b]) return { type: "select_range", lo: null, hi: null };
  return { type: "select_range", lo: Math.min(lrs[a], lrs[b]), hi: Math.max(lrs[a], lrs[b]) };
}

/** What a screen reader hears for a range command. */
export function rangeText(cmd) {
  return cmd.lo === null ? "Range cleared" : `Range ${formatLR(cmd.lo)} to ${formatLR(cmd.hi)} selected`;
}

function sendRange(env, cmd) {
  const { port, view, bus, dom } = env;
  const t = view.now();
  view.localRange = cmd.lo === null ? { clear: true, t } : { lo: cmd.lo, hi: cmd.hi, t };
  port.send(cmd);
  dom.live.textContent = rangeText(cmd);
  bus.emit("draw");
  setTimeout(() => bus.emit("draw"), LOCAL_RANGE_MS + 50); // a proposal the kernel refused goes away
}

/** The drag: pointer down, move (a band follows), up (the range is proposed). Returns the cleanup. */
function mountDrag(env) {
  const { dom, port, view, bus } = env;
  const { canvas } = dom;
  const xOf = (ev) => ev.clientX - canvas.getBoundingClientRect().left;
  let press = null; // {x0, id} while the button is down on the plot
  const onDown = (ev) => {
    view.dragged = false;
    if (ev.button !== 0 || !view.frame || view.readings.n === 0) return;
    const x = xOf(ev);
    const p = view.frame.plot;
    if (x < p.left || x > p.right) return;
    press = { x0: x, id: ev.pointerId };
    canvas.setPointerCapture?.(ev.pointerId);
  };
  const onMove = (ev) => {
    if (!press || ev.pointerId !== press.id) return;
    const x = xOf(ev);
    if (!view.drag && !isDrag(press.x0, x)) return;
    view.drag = { x0: press.x0, x1: x };
    bus.emit("draw");
  };
  const onUp = (ev) => {
    if (!press || ev.pointerId !== press.id) return;
    const drag = view.drag;
    press = null;
    view.drag = null;
    if (!drag) return; // a click: interaction.js selects one reading
    view.dragged = true; // the click that follows this pointerup is the drag's end, not a click
    const log = isLogAxis(port.get("step_mode"), view.readings);
    const ends = view.frame && dragReadings(view.frame, view.readings, drag.x0, drag.x1, log);
    if (ends) sendRange(env, rangeCommand(view.readings.lr, ends.lo, ends.hi));
    else bus.emit("draw");
  };
  const events = [
    ["pointerdown", onDown],
    ["pointermove", onMove],
    ["pointerup", onUp],
    ["pointercancel", onUp],
  ];
  for (const [name, fn] of events) canvas.addEventListener(name, fn);
  return () => {
    for (const [name, fn] of events) canvas.removeEventListener(name, fn);
  };
}

/** Shift+Left/Right and Escape on the plot. Returns the cleanup. */
function mountRangeKeys(env, selectedIndex) {
  const { dom, port, view } = env;
  // The keys' own range lives on the model's page-local memo: a view rendered anew (a settled
  // range refreshes the static fallback) goes on from it (keyRangeStart checks it still holds).
  const memo = port.memo();
  const onKey = (ev) => {
    if (view.training?.mode === "training") return;
    const action = rangeKey(ev);
    if (!action) return;
    const shown = shownRange(view.localRange, port.get("selected_range"), null, view.now());
    const brushed = shown && { lo: shown.lo, hi: shown.hi };
    if (action.kind === "clear" && !brushed) return; // Escape with nothing brushed: Jupyter's
    ev.preventDefault();
    ev.stopPropagation();
    if (action.kind === "clear") {
      memo.keyRange = null;
      return sendRange(env, rangeCommand([], -1, -1));
    }
    const r = view.readings;
    const valid = (i) => isSelectable(r, i);
    const fallback = keyFallback(port.suggestions(), r.n, valid, r.smoothed);
    const start = keyRangeStart(memo.keyRange, brushed, r.lr.subarray(0, r.n), selectedIndex(), fallback);
    const kept = extendKeyRange(start, action.delta, r.n, valid);
    memo.keyRange = kept;
    if (kept.anchor >= 0) sendRange(env, rangeCommand(r.lr, kept.anchor, kept.focus));
  };
  dom.plotBox.addEventListener("keydown", onKey);
  return () => dom.plotBox.removeEventListener("keydown", onKey);
}

/** The range of one view: drag, keys, and following the kernel's answer. Returns the cleanup. */
export function mountRange(env) {
  const { port, view, bus, actions } = env;
  view.localRange = null;
  const onKernel = () => {
    // the kernel's answer to the latest proposal is the truth now; one to an earlier proposal is not (a
    // proposal the kernel snapped or refused still goes after LOCAL_RANGE_MS: see shownRange)
    if (answersProposal(view.localRange, port.get("selected_range"))) view.localRange = null;
    bus.emit("draw");
  };
  const offs = [
    mountDrag(env),
    mountRangeKeys(env, () => actions.selectedIndex()),
    port.on("change:selected_range", onKernel),
    port.on("change:suggested_range", () => bus.emit("draw")),
  ];
  return () => {
    for (const off of offs) off();
  };
}

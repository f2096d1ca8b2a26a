// The plot's keyboard (pure): which key does what, and which reading an arrow key lands on.
import { edgeIndex, stepIndex } from "../pick.js";

/**
 * The action of a keydown (pure): {kind: "step", delta} (arrows; Shift+Up/Down move 10 readings),
 * {kind: "edge", last} (Home / End), {kind: "apply"} (Enter), or null (not ours: let it through,
 * also with Alt, Ctrl or Meta held, which belong to the browser and Jupyter). Shift+Left/Right grow a
 * range (range.js), so they are not a step.
 */
export function keyAction({ key, shiftKey = false, altKey = false, ctrlKey = false, metaKey = false }) {
  if (altKey || ctrlKey || metaKey) return null;
  if (shiftKey && (key === "ArrowLeft" || key === "ArrowRight")) return null;
  const step = shiftKey ? 10 : 1;
  switch (key) {
    case "ArrowLeft":
    case "ArrowDown":
      return { kind: "step", delta: -step };
    case "ArrowRight":
    case "ArrowUp":
      return { kind: "step", delta: step };
    case "Home":
      return { kind: "edge", last: false };
    case "End":
      return { kind: "edge", last: true };
    case "Enter":
      return { kind: "apply" };
    default:
      return null;
  }
}

/**
 * Where the first arrow key lands when nothing is selected: the default suggestion's reading; else (a run
 * still going, or no rule answered) the selectable reading with the lowest smoothed loss, where the eye is
 * and away from both ends (never silently the lowest lr); -1 with none. Without `smoothed`: the last one.
 */
export function keyFallback(suggestions, n, isValid, smoothed = null) {
  const def = suggestions.find((s) => s.default && Number.isInteger(s.index));
  if (def) return def.index;
  if (!smoothed) return edgeIndex(n, isValid, true);
  let best = -1;
  for (let i = 0; i < n; i++) {
    if (isValid(i) && Number.isFinite(smoothed[i]) && (best < 0 || smoothed[i] < smoothed[best])) best = i;
  }
  return best;
}

/**
 * The reading a step or edge action selects (-1: none). `cur` is the selected reading (-1: none);
 * with none, any arrow lands on `fallback` (or the valid reading nearest to it).
 */
export function keyTarget(action, cur, n, isValid, fallback) {
  if (action.kind === "edge") return edgeIndex(n, isValid, action.last);
  if (action.kind !== "step") return -1;
  if (cur < 0) return stepIndex(-1, 0, n, isValid, fallback);
  return stepIndex(cur, action.delta, n, isValid);
}

// The state one rendered view shares between its parts, in one object. Each field has one writer (named
// below); other parts only read it. A notebook may show the same model in several views at once
// (inline, sidebar, a second tab): each has its own, never shared.
import { createViewState } from "../state.js";
import { readTheme } from "../theme.js";

const clock = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

/** A fresh view for host element `el`; `now` is the clock in ms (injectable for tests). */
export function createView(el, now = clock) {
  return {
    now,
    readings: createViewState(), // messages.js applies decoded messages; frame_loop.js resets dirtyFrom after a draw
    theme: readTheme(el), // theme_watch.js
    frame: null, // frame_loop.js: what the last drawFrame returned (scales, markers), for hit testing
    hover: { index: -1, marker: -1 }, // interaction.js: hovered reading, or hovered suggestion marker (its k)
    localSel: null, // selection.js: {lr, index}, optimistic until the kernel's selected_lr comes back
    localRange: null, // range.js: {lo, hi, t} or {clear, t}, this view's proposal until the kernel answers
    drag: null, // range.js: {x0, x1} CSS px while a drag across the plot goes on
    dragged: false, // range.js: the click after a drag's pointerup ends the drag (interaction.js skips it)
    lastTraitContact: now(), // trait_watch.js: when a status trait last changed (the kernel was alive then)
    training: null, // training.js: the doctor's state (training_state.js), null until it mounts
    trainingFrame: null, // training.js: what the last drawTrainingFrame returned, for the pointer and zoom
    closed: false, // widget.js, after the cleanups: sends stop, frames and placement polling end
  };
}

/** Is the x axis logarithmic? The step_mode trait when set, else the run's (from its "run" message). */
export function isLogAxis(stepModeTrait, readings) {
  return (stepModeTrait || readings.stepMode) !== "linear";
}

/** Can reading i be selected (a finite lr and smoothed loss)? */
export function isSelectable(readings, i) {
  return Number.isFinite(readings.lr[i]) && Number.isFinite(readings.smoothed[i]);
}

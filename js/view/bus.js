// The parts of one view talk through this small bus: a part says what changed, the parts that show it
// listen. A fixed list of topics, so a typo is an error and not a silent no-op.

/**
 * What each topic means (who emits it -> who listens):
 * - draw: something on the canvas changed -> the frame loop schedules one frame.
 * - status: the status line's inputs changed (traits, a heartbeat, the clock) -> status, Stop button.
 * - selection: the selected or applied lr changed -> readouts, Apply button, picker, legend.
 * - suggestions: the suggestion list (or the theme, for its colors) changed -> picker and legend rebuilt.
 * - theme: the host theme may have changed -> re-read it.
 * - layout: the element may have moved or resized -> placement.
 * - tick: one second passed -> status (contact timeout) and placement re-checked.
 * - closed: the model was destroyed -> status and buttons say so.
 */
export const TOPICS = Object.freeze([
  "draw",
  "status",
  "selection",
  "suggestions",
  "theme",
  "layout",
  "tick",
  "closed",
]);

/** Returns {on(topic, fn) -> disposer, emit(topic, ...args)}; listeners run in subscription order. */
export function createBus(topics = TOPICS) {
  const listeners = new Map(topics.map((t) => [t, []]));
  const known = (topic) => {
    const list = listeners.get(topic);
    if (!list) throw new Error(`lrwidget: unknown bus topic "${topic}"`);
    return list;
  };
  return {
    on(topic, fn) {
      const list = known(topic);
      list.push(fn);
      return () => {
        const i = list.indexOf(fn);
        if (i >= 0) list.splice(i, 1);
      };
    },
    emit(topic, ...args) {
      // A copy: a listener may unsubscribe (or subscribe) while this runs.
      for (const fn of known(topic).slice()) fn(...args);
    },
  };
}

// Message handling: the kernel's custom messages (DESIGN.md "Widget protocol") are decoded into the
// view's readings, and a frame is scheduled; a lost message is answered with a "hello" (a replay). A
// view with no kernel behind it (a saved notebook, an HTML export) draws the run in the saved state.
import { applySavedReadings, decodeSavedReadings, handleCustomMessage, markHelloSent } from "../state.js";

export const HELLO_MIN_INTERVAL_MS = 1000; // at most one replay request per second, however many gaps

/** Should a gap seen at `now` ask for a replay, the last request having gone out at `lastHello`? */
export function shouldSayHello(needHello, now, lastHello, minInterval = HELLO_MIN_INTERVAL_MS) {
  return needHello && now - lastHello > minInterval;
}

/**
 * Draw the `saved_readings` trait when this view has heard nothing from the kernel (its messages, when
 * they come, are the truth) and shows no readings. Returns true when it changed the view.
 */
function showSaved(port, view) {
  if (view.readings.lastContact !== null) return false;
  const saved = decodeSavedReadings(port.get("saved_readings"));
  if (saved?.error) console.warn("lrwidget: ignored the saved readings:", saved.error);
  const run = {
    numIter: port.num("num_iter"),
    startLr: port.num("start_lr"),
    endLr: port.num("end_lr"),
    stepMode: port.get("step_mode") === "linear" ? "linear" : "exp",
  };
  return applySavedReadings(view.readings, saved, run);
}

/**
 * Listen to the kernel's messages, draw the saved run if there is one, then say hello (every view does on
 * render: the kernel replays). Returns the cleanup.
 */
export function mountMessages({ port, view, bus }) {
  const hello = { last: -Infinity };
  const sayHello = () => {
    hello.last = view.now();
    markHelloSent(view.readings);
    port.send({ type: "hello" });
  };
  const onCustom = (msg, buffers) => {
    const res = handleCustomMessage(view.readings, msg, buffers || [], view.now());
    if (res.error) console.warn("lrwidget: ignored a malformed message:", res.error);
    if (shouldSayHello(res.needHello, view.now(), hello.last)) sayHello();
    if (res.changed) bus.emit("draw");
    if (msg && msg.type === "heartbeat") bus.emit("status");
  };
  const onSaved = () => {
    if (showSaved(port, view)) bus.emit("draw");
  };
  const offs = [port.on("msg:custom", onCustom), port.on("change:saved_readings", onSaved)];
  onSaved();
  sayHello();
  return () => {
    for (const off of offs) off();
  };
}

// Message handling: the kernel's custom messages (DESIGN.md "Widget protocol") are decoded into the
// view's readings, and a frame is scheduled; a lost message is answered with a "hello" (a replay).
import { handleCustomMessage, markHelloSent } from "../state.js";

export const HELLO_MIN_INTERVAL_MS = 1000; // at most one replay request per second, however many gaps

/** Should a gap seen at `now` ask for a replay, the last request having gone out at `lastHello`? */
export function shouldSayHello(needHello, now, lastHello, minInterval = HELLO_MIN_INTERVAL_MS) {
  return needHello && now - lastHello > minInterval;
}

/** Listen to the kernel's messages, then say hello (every view does on render: the kernel replays). */
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
  const off = port.on("msg:custom", onCustom);
  sayHello();
  return off;
}

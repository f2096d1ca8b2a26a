import assert from "node:assert/strict";
import { test } from "node:test";
import { createBus, TOPICS } from "../view/bus.js";
import { createFrameScheduler } from "../view/frame_loop.js";
import { shouldSayHello } from "../view/messages.js";
import { listenOptional } from "../view/model_port.js";
import { readStatusTraits } from "../view/status.js";
import { CONTACT_TRAITS, TRAIT_TOPICS } from "../view/trait_watch.js";

test("the bus calls listeners in subscription order, until they unsubscribe", () => {
  const bus = createBus();
  const seen = [];
  const offA = bus.on("draw", () => seen.push("a"));
  bus.on("draw", (x) => seen.push(`b${x}`));
  bus.emit("draw", 1);
  offA();
  bus.emit("draw", 2);
  assert.deepEqual(seen, ["a", "b1", "b2"]);
});

test("an unknown topic is an error, not a message nobody hears", () => {
  const bus = createBus();
  assert.throws(() => bus.emit("selected"), /unknown bus topic "selected"/);
  assert.throws(() => bus.on("redraw", () => undefined), /unknown bus topic/);
});

test("a listener may unsubscribe while the topic is being emitted", () => {
  const bus = createBus();
  const seen = [];
  const off = bus.on("status", () => {
    seen.push("once");
    off();
  });
  bus.on("status", () => seen.push("always"));
  bus.emit("status");
  bus.emit("status");
  assert.deepEqual(seen, ["once", "always", "always"]);
});

test("every topic a trait change emits is a bus topic", () => {
  for (const [name, topics] of Object.entries(TRAIT_TOPICS)) {
    for (const t of topics) assert.ok(TOPICS.includes(t), `${name} -> ${t}`);
  }
});

test("every trait the status line reads updates the status line, and counts as contact", () => {
  const read = [];
  const port = {
    get: (name, fallback = null) => {
      read.push(name);
      return fallback;
    },
    num: (name) => {
      read.push(name);
      return null;
    },
  };
  readStatusTraits(port, { numIter: null });
  assert.ok(read.length >= 8);
  for (const name of read) {
    assert.ok(TRAIT_TOPICS[name]?.includes("status"), `${name} does not refresh the status line`);
    assert.ok(CONTACT_TRAITS.includes(name), `${name} is not counted as contact`);
  }
});

test("many draw requests within a frame make one draw; stop cancels the pending one", () => {
  const frames = [];
  const cancelled = [];
  const raf = (fn) => frames.push(fn);
  const caf = (id) => cancelled.push(id);
  let draws = 0;
  const s = createFrameScheduler(() => draws++, raf, caf);
  s.request();
  s.request();
  s.request();
  assert.equal(frames.length, 1);
  frames.shift()();
  assert.equal(draws, 1);
  s.request();
  assert.equal(frames.length, 1, "a new frame after the last one was drawn");
  s.stop();
  assert.deepEqual(cancelled, [1]);
  s.request();
  assert.equal(frames.length, 1, "nothing scheduled after stop");
});

test("replay requests are throttled to one a second", () => {
  assert.equal(shouldSayHello(true, 5000, -Infinity), true);
  assert.equal(shouldSayHello(true, 5000, 4500), false);
  assert.equal(shouldSayHello(true, 5000, 3999), true);
  assert.equal(shouldSayHello(false, 5000, -Infinity), false);
});

test("a host without an optional event is reported with what is lost, not swallowed", () => {
  const warned = [];
  const host = {
    on(event) {
      throw new Error(`no ${event} here`);
    },
    off() {
      throw new Error("never subscribed");
    },
  };
  const off = listenOptional(
    host,
    "destroy",
    () => undefined,
    "views do not say closed",
    (...a) => warned.push(a),
  );
  assert.equal(warned.length, 1);
  assert.match(warned[0][0], /lrwidget: this host has no "destroy" event \(views do not say closed\)/);
  assert.match(String(warned[0][1]), /no destroy here/);
  assert.doesNotThrow(off, "its disposer is a no-op");

  const calls = [];
  const ok = { on: (e, fn) => calls.push(["on", e, fn]), off: (e, fn) => calls.push(["off", e, fn]) };
  const fn = () => undefined;
  listenOptional(ok, "destroy", fn, "x", () => assert.fail("no warning when the host has it"))();
  assert.deepEqual(calls, [
    ["on", "destroy", fn],
    ["off", "destroy", fn],
  ]);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CONTACT_TIMEOUT_MS,
  contactLost,
  hintShown,
  idleMessage,
  readStatusTraits,
  statusLine,
} from "../view/status.js";

const traits = (over = {}) => ({
  status: "idle",
  step: 0,
  total: 100,
  elapsed: null,
  eta: null,
  pendingApply: false,
  divergedLr: null,
  error: "",
  ...over,
});

test("the status line says what the run is doing, one part per piece", () => {
  const running = statusLine(traits({ status: "running", step: 1234, total: 2000, elapsed: 65, eta: 7 }), false);
  assert.equal(running.kind, "running");
  assert.deepEqual(running.parts, ["Running", "step 1,234/2,000", "1:05 elapsed", "ETA 0:07"]);
  const queued = statusLine(traits({ status: "running", step: 3, pendingApply: true }), false);
  assert.equal(queued.parts.at(-1), "apply queued");
  assert.deepEqual(statusLine(traits({ status: "stopped", step: 40, elapsed: 3 }), false).parts, [
    "Stopped at step 40/100",
    "0:03",
  ]);
  // the caller's loop (finder.track) ended before num_iter: said, not shown as done
  assert.deepEqual(statusLine(traits({ status: "exhausted", step: 8, elapsed: 2 }), false).parts, [
    "Loop ended at step 8/100, before num_iter",
    "0:02",
  ]);
  assert.deepEqual(statusLine(traits({ status: "done", step: 100, elapsed: 12 }), false).parts, [
    "Done",
    "100 steps in 0:12",
  ]);
  const diverged = statusLine(traits({ status: "diverged", step: 80, divergedLr: 0.5, elapsed: 9 }), false);
  assert.match(diverged.parts[0], /^Diverged at lr=5e-1$/);
  assert.deepEqual(statusLine(traits({ status: "idle" }), false), { kind: "idle", parts: ["Idle"] });
});

test("without a total the step stands alone; an error says its message or a default", () => {
  assert.equal(statusLine(traits({ status: "stopped", step: 7, total: null }), false).parts[0], "Stopped at step 7");
  assert.deepEqual(statusLine(traits({ status: "error", error: "CUDA out of memory" }), false).parts, [
    "Error: CUDA out of memory",
  ]);
  assert.deepEqual(statusLine(traits({ status: "error" }), false).parts, ["Error: the range test failed"]);
});

test("a lost kernel overrides the status: disconnected, with the last step seen", () => {
  const line = statusLine(traits({ status: "running", step: 12 }), true);
  assert.equal(line.kind, "disconnected");
  assert.deepEqual(line.parts, ["No contact with the kernel", "last seen at step 12/100"]);
});

test("contact is lost only while running and only after the timeout since the last message or trait", () => {
  const base = { status: "running", lastContact: 1000, lastTraitContact: 0 };
  assert.equal(contactLost({ ...base, now: 1000 + CONTACT_TIMEOUT_MS }), false);
  assert.equal(contactLost({ ...base, now: 1001 + CONTACT_TIMEOUT_MS }), true);
  assert.equal(contactLost({ ...base, lastTraitContact: 3000, now: 1001 + CONTACT_TIMEOUT_MS }), false);
  assert.equal(contactLost({ ...base, lastContact: null, now: 1 + CONTACT_TIMEOUT_MS }), true);
  assert.equal(contactLost({ ...base, status: "done", now: 1e9 }), false);
});

test("the empty plot's message follows the status and goes away with the first reading", () => {
  assert.match(idleMessage(0, "running"), /Waiting for the first readings/);
  assert.match(idleMessage(0, "error"), /failed before any reading/);
  assert.match(idleMessage(0, "idle"), /widget\.run\(train_loader\)/);
  assert.equal(idleMessage(1, "running"), "");
});

test("a kernel's hint (the listen() widget: how a job connects) replaces the idle message of an empty plot", () => {
  const hint = "Waiting for a job at tcp://127.0.0.1:5555\nIn the job: link = lrwidget.connect(finder)";
  assert.equal(hintShown(hint, 0, "idle"), true);
  assert.equal(idleMessage(0, "idle", hint), "", "the hint shows instead, as selectable text");
  assert.equal(hintShown(hint, 0, "running"), false);
  assert.match(idleMessage(0, "running", hint), /Waiting for the first readings/);
  assert.equal(hintShown(hint, 0, "error"), false);
  assert.equal(hintShown(hint, 3, "idle"), false, "gone once there are readings");
  assert.equal(hintShown("", 0, "idle"), false);
  for (const bad of [null, 5, { x: 1 }, ["a"]]) {
    assert.equal(hintShown(bad, 0, "idle"), false, "a saved state's hint that is not a string");
    assert.match(idleMessage(0, "idle", bad), /widget\.run/);
  }
});

test("the status traits fall back to the run's own iteration count", () => {
  const values = { status: "running", step: 5, num_iter: null, elapsed: Number.NaN, eta: 2 };
  const port = { get: (name, fallback = null) => values[name] ?? fallback, num: (name) => values[name] };
  const t = readStatusTraits(port, { numIter: 50 });
  assert.equal(t.total, 50);
  assert.equal(t.error, "");
  assert.equal(t.pendingApply, false);
  assert.equal(statusLine(t, false).parts[1], "step 5/50");
});

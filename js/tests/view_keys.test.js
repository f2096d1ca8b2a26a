import assert from "node:assert/strict";
import { test } from "node:test";
import { keyAction, keyFallback, keyTarget } from "../view/keys.js";
import { applyPlan } from "../view/selection.js";

test("arrow keys step one reading (ten with Shift), Home/End go to the ends, Enter applies", () => {
  assert.deepEqual(keyAction({ key: "ArrowLeft" }), { kind: "step", delta: -1 });
  assert.deepEqual(keyAction({ key: "ArrowDown", shiftKey: true }), { kind: "step", delta: -10 });
  assert.deepEqual(keyAction({ key: "ArrowRight" }), { kind: "step", delta: 1 });
  assert.deepEqual(keyAction({ key: "ArrowUp", shiftKey: true }), { kind: "step", delta: 10 });
  assert.deepEqual(keyAction({ key: "Home" }), { kind: "edge", last: false });
  assert.deepEqual(keyAction({ key: "End" }), { kind: "edge", last: true });
  assert.deepEqual(keyAction({ key: "Enter" }), { kind: "apply" });
});

test("other keys and modified keys are not the plot's (the browser and Jupyter keep them)", () => {
  assert.equal(keyAction({ key: "a" }), null);
  assert.equal(keyAction({ key: "Escape" }), null);
  for (const mod of ["altKey", "ctrlKey", "metaKey"]) assert.equal(keyAction({ key: "ArrowLeft", [mod]: true }), null);
});

test("steps skip invalid readings and stop at the ends", () => {
  const valid = (i) => i !== 3;
  assert.equal(keyTarget({ kind: "step", delta: 1 }, 2, 10, valid, 0), 4);
  assert.equal(keyTarget({ kind: "step", delta: -10 }, 5, 10, valid, 0), 0);
  assert.equal(keyTarget({ kind: "step", delta: 10 }, 5, 10, valid, 0), 9);
  assert.equal(
    keyTarget({ kind: "edge", last: true }, 5, 10, (i) => i < 7, 0),
    6,
  );
  assert.equal(
    keyTarget({ kind: "edge", last: false }, -1, 10, (i) => i > 1, 0),
    2,
  );
  assert.equal(keyTarget({ kind: "apply" }, 5, 10, valid, 0), -1);
});

test("with nothing selected the first arrow lands on the default suggestion's reading", () => {
  const valid = (i) => i >= 2;
  const sugg = [
    { name: "steep", index: 8, default: false },
    { name: "valley", index: 6, default: true },
  ];
  const fb = keyFallback(sugg, 10, valid);
  assert.equal(fb, 6);
  assert.equal(keyTarget({ kind: "step", delta: 1 }, -1, 10, valid, fb), 6, "not 7: the first press lands");
  assert.equal(keyTarget({ kind: "step", delta: -1 }, -1, 10, valid, fb), 6);
  assert.equal(keyTarget({ kind: "step", delta: 1 }, -1, 0, valid, -1), -1, "no readings: nothing");
});

test("during a run (no suggestion yet) the first arrow lands on the lowest smoothed loss, not the lowest lr", () => {
  // a run under way: the loss falls, bottoms out at reading 6, then climbs; reading 7 is not finite
  const smoothed = [2.3, 2.2, 2.0, 1.7, 1.4, 1.2, 1.1, Number.NaN, 1.3, 1.9];
  const valid = (i) => Number.isFinite(smoothed[i]);
  for (const sugg of [[], [{ name: "valley", index: null, default: true }], [{ name: "steep", index: 2 }]]) {
    const fb = keyFallback(sugg, 10, valid, smoothed);
    assert.equal(fb, 6);
    assert.equal(keyTarget({ kind: "step", delta: 1 }, -1, 10, valid, fb), 6, "ArrowRight does not jump to 1e-6");
    assert.equal(keyTarget({ kind: "step", delta: -1 }, -1, 10, valid, fb), 6);
  }
  assert.equal(
    keyFallback([], 3, () => true, [Number.NaN, 5, 4]),
    2,
    "the lowest among the finite ones",
  );
  assert.equal(
    keyFallback([], 4, (i) => i > 0, [0.5, 5, 4, 6]),
    2,
    "and among the selectable ones",
  );
  assert.equal(keyFallback([], 0, valid, []), -1, "no readings: nothing");
});

test("Enter applies only what the user selected, and says whether it is applied now or queued", () => {
  assert.deepEqual(applyPlan(null, false), {
    send: false,
    text: "Select a learning rate first (arrow keys or a click)",
  });
  assert.deepEqual(applyPlan(null, true), {
    send: false,
    text: "Select a learning rate first (arrow keys or a click)",
  });
  assert.deepEqual(applyPlan(0.001, false), { send: true, text: "Applying learning rate 1e-3" });
  assert.deepEqual(applyPlan(0.001, true), {
    send: true,
    text: "Apply of learning rate 1e-3 queued: it is applied when the range test ends",
  });
});

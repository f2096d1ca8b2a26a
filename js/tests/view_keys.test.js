import assert from "node:assert/strict";
import { test } from "node:test";
import { keyAction, keyFallback, keyTarget } from "../view/keys.js";

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
  assert.equal(keyFallback([{ name: "valley", index: null, default: true }], 10, valid), 2, "else the first valid");
  assert.equal(keyTarget({ kind: "step", delta: 1 }, -1, 0, valid, -1), -1, "no readings: nothing");
});

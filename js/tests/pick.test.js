import assert from "node:assert/strict";
import { test } from "node:test";
import { edgeIndex, nearestIndex, nearestMarker, stepIndex } from "../pick.js";

const lrs = new Float64Array([1e-5, 1e-4, 1e-3, 1e-2, 1e-1]);

test("nearestIndex measures distance in log space on a log axis", () => {
  // 4e-4 is nearer 1e-3 in log space (ratio 2.5) than 1e-4 (ratio 4), though nearer 1e-4 linearly.
  assert.equal(nearestIndex(lrs, 5, 4e-4, true), 2);
  assert.equal(nearestIndex(lrs, 5, 4e-4, false), 1);
  assert.equal(nearestIndex(lrs, 5, 1e-9, true), 0);
  assert.equal(nearestIndex(lrs, 5, 1e3, true), 4);
});

test("nearestIndex only considers the first n readings and finite losses when asked", () => {
  assert.equal(nearestIndex(lrs, 3, 1e-1, true), 2);
  const ys = new Float64Array([1, 1, NaN, 1, 1]);
  assert.equal(nearestIndex(lrs, 5, 1e-3, true, ys), 1);
  assert.equal(nearestIndex(lrs, 0, 1e-3, true), -1);
  assert.equal(nearestIndex(lrs, 5, -1, true), -1);
});

test("stepIndex moves reading by reading, skips invalid readings, stops at the ends", () => {
  const valid = (i) => i !== 2;
  assert.equal(stepIndex(1, 1, 5, valid), 3);
  assert.equal(stepIndex(3, -1, 5, valid), 1);
  assert.equal(stepIndex(4, 1, 5), 4);
  assert.equal(stepIndex(0, -10, 5), 0);
  assert.equal(stepIndex(0, 10, 5), 4);
  assert.equal(stepIndex(1, 2, 5), 3);
});

test("stepIndex without a selection starts at the valid reading nearest the fallback", () => {
  assert.equal(
    stepIndex(-1, 1, 5, () => true, 3),
    3,
  );
  assert.equal(
    stepIndex(-1, 1, 5, (i) => i !== 3, 3),
    4,
  );
  assert.equal(
    stepIndex(-1, 1, 5, () => false, 3),
    -1,
  );
  assert.equal(stepIndex(-1, 1, 0), -1);
});

test("edgeIndex finds the first and last valid reading", () => {
  const valid = (i) => i > 0 && i < 4;
  assert.equal(edgeIndex(5, valid), 1);
  assert.equal(edgeIndex(5, valid, true), 3);
  assert.equal(
    edgeIndex(5, () => false),
    -1,
  );
});

test("nearestMarker hits within the radius, nearest first", () => {
  const ms = [
    { x: 10, y: 10 },
    { x: 20, y: 10 },
    { x: NaN, y: 0 },
  ];
  assert.equal(nearestMarker(ms, 12, 11, 8), 0);
  assert.equal(nearestMarker(ms, 17, 10, 8), 1);
  assert.equal(nearestMarker(ms, 50, 50, 8), -1);
});

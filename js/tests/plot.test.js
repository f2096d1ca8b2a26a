import assert from "node:assert/strict";
import { test } from "node:test";
import { computeLayout, spreadLabels } from "../plot.js";

test("the plot rectangle leaves room for the y labels and shrinks its margins when narrow", () => {
  const wide = computeLayout(1000, 320, 30);
  assert.ok(wide.left >= 42 && wide.right < 1000 && wide.bottom < 320 && wide.top > 0);
  const narrow = computeLayout(300, 240, 20);
  assert.ok(narrow.narrow);
  assert.ok(narrow.left < wide.left);
  assert.ok(narrow.right - narrow.left > 240, "a 300 px sidebar still gets most of the width for the plot");
});

test("spreadLabels pushes overlapping labels apart and keeps them in bounds", () => {
  const lefts = spreadLabels([100, 110], [60, 40], 0, 1000);
  const [a, b] = lefts;
  assert.ok(a + 60 + 4 <= b + 1e-9, "no overlap");
  const clamped = spreadLabels([5], [60], 0, 1000);
  assert.equal(clamped[0], 0);
  const apart = spreadLabels([100, 500], [40, 40], 0, 1000);
  assert.deepEqual(apart, [80, 480]);
});

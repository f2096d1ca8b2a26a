import assert from "node:assert/strict";
import { test } from "node:test";
import { hitTest, inPlot } from "../view/interaction.js";
import { plotHeight } from "../view/layout.js";
import { keepLocalSelection, selectedIndex, selectedLr } from "../view/selection.js";
import { esc, markerTip, readingTip, tooltipPosition } from "../view/tooltip.js";
import { isLogAxis, isSelectable } from "../view/view.js";

function readings(lrs, smoothed = lrs.map(() => 1)) {
  return { n: lrs.length, lr: Float64Array.from(lrs), smoothed: Float64Array.from(smoothed), stepMode: "exp" };
}

test("this view's pending choice wins until the kernel's selected_lr arrives, then only if it agrees", () => {
  const local = { lr: 0.01, index: 3 };
  assert.equal(selectedLr(local, 0.5), 0.01);
  assert.equal(selectedLr(null, 0.5), 0.5);
  assert.equal(selectedLr(null, null), null);
  assert.equal(keepLocalSelection(local, 0.01), local, "same lr: keep the index the view knows");
  assert.equal(keepLocalSelection(local, 0.02), null);
  assert.equal(keepLocalSelection(null, 0.02), null);
});

test("the selected reading is the view's own index when it still holds that lr, else the nearest valid one", () => {
  const r = readings([0.001, 0.01, 0.1, 1], [1, 2, Number.NaN, 4]);
  assert.equal(selectedIndex(null, null, r, true), -1);
  assert.equal(selectedIndex({ lr: 0.01, index: 1 }, 0.01, r, true), 1);
  assert.equal(selectedIndex({ lr: 0.01, index: 0 }, 0.01, r, true), 1, "a stale index is not trusted");
  assert.equal(selectedIndex(null, 0.09, r, true), 1, "0.1 has no smoothed loss: skip it");
  assert.equal(selectedIndex(null, 0.2, r, true), 3, "ratio distance on a log axis");
  assert.equal(selectedIndex(null, 0.2, r, false), 1, "absolute distance on a linear axis");
});

test("the axis is logarithmic unless the trait or the run says linear", () => {
  assert.equal(isLogAxis(null, { stepMode: "exp" }), true);
  assert.equal(isLogAxis("linear", { stepMode: "exp" }), false);
  assert.equal(isLogAxis(null, { stepMode: "linear" }), false);
  assert.equal(isLogAxis("exp", { stepMode: "linear" }), true);
  assert.equal(isSelectable(readings([1, Number.NaN], [1, 1]), 1), false);
});

const frame = {
  plot: { left: 40, top: 20, right: 440, bottom: 220 },
  xScale: { invert: (px) => 10 ** ((px - 40) / 100 - 4) }, // 1e-4 at the left edge, a decade per 100 px
  markers: [{ x: 240, y: 100, k: 2, suggestion: { name: "valley" } }],
};

test("a pointer on a marker means the marker; elsewhere on the plot, the nearest reading by x", () => {
  const r = readings([1e-4, 1e-3, 1e-2, 1e-1, 1]);
  assert.deepEqual(hitTest(frame, r, 245, 104, true), { marker: 0, index: -1 });
  assert.deepEqual(hitTest(frame, r, 145, 180, true), { marker: -1, index: 1 });
  assert.deepEqual(hitTest(frame, r, 434, 180, true), { marker: -1, index: 4 });
  assert.equal(hitTest(frame, r, 10, 100, true), null, "left of the plot");
  assert.equal(hitTest(frame, readings([]), 145, 180, true), null, "no readings");
  assert.equal(hitTest(null, r, 145, 180, true), null, "nothing drawn yet");
  assert.equal(inPlot(frame, 40, 9), true, "the pills' strip above the plot counts");
  assert.equal(inPlot(frame, 40, 7), false);
});

test("the tooltip sits right of and above the point, flipping where it would leave the box", () => {
  assert.deepEqual(tooltipPosition(100, 100, 500, 80, 30), { left: 114, top: 60 });
  assert.deepEqual(tooltipPosition(450, 100, 500, 80, 30), { left: 356, top: 60 });
  assert.deepEqual(tooltipPosition(100, 20, 500, 80, 30), { left: 114, top: 34 });
  assert.deepEqual(tooltipPosition(10, 100, 50, 80, 30), { left: 2, top: 60 }, "never off the left edge");
});

test("tooltips escape what they show", () => {
  assert.equal(esc('<a href="x">&'), "&lt;a href=&quot;x&quot;&gt;&amp;");
  const tip = markerTip({ name: "<img>", lr: 0.001, reason: "a<b", default: true });
  assert.ok(tip.startsWith("<b>&lt;img&gt; (default)</b> lr 1e-3"));
  assert.ok(tip.includes("a&lt;b"));
  assert.match(readingTip(0.001, 1.5, 2, 9), /reading 10/);
});

test("the plot is 160 to 2000 px high, 320 by default, whatever the (saved, hostile) trait says", () => {
  assert.equal(plotHeight(null), 320);
  assert.equal(plotHeight(100), 160);
  assert.equal(plotHeight(500), 500);
  assert.equal(plotHeight(1e9), 2000);
  assert.equal(plotHeight(2000.5), 2000);
  assert.equal(plotHeight(Number.POSITIVE_INFINITY), 2000);
  assert.equal(plotHeight(Number.NaN), 320);
  assert.equal(plotHeight("1e9"), 320);
  assert.equal(plotHeight(-5), 160);
  assert.equal(plotHeight(300.7), 301, "whole pixels");
});

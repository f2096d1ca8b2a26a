import assert from "node:assert/strict";
import { test } from "node:test";
import { bandPixels, drawRange, endLabels } from "../layers/range.js";
import { drawSchedulePreview, peakLr, previewLayout, previewPoints } from "../layers/schedule.js";
import { createScale } from "../scale.js";
import { keyAction } from "../view/keys.js";
import {
  answersProposal,
  asRange,
  dragReadings,
  extendKeyRange,
  isDrag,
  keyRangeStart,
  LOCAL_RANGE_MS,
  rangeCommand,
  rangeKey,
  rangeText,
  shownRange,
} from "../view/range.js";
import {
  asPreview,
  MAX_PREVIEW_POINTS,
  parseSteps,
  previewText,
  scheduleKinds,
  scheduleReadout,
} from "../view/schedule.js";

const LRS = Float64Array.from([1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1]);
const readings = (smoothed = [3, 2.5, 2, 1, 1.5, Number.NaN]) => ({
  n: LRS.length,
  lr: LRS,
  smoothed: Float64Array.from(smoothed),
});
const PLOT = { left: 50, right: 550, top: 20, bottom: 280 };
const frame = { plot: PLOT, xScale: createScale([1e-5, 1], [PLOT.left, PLOT.right], true) };

test("a range field is [lo, hi] of positive finite numbers with lo < hi, else none", () => {
  assert.deepEqual(asRange([1e-3, 1e-1]), { lo: 1e-3, hi: 1e-1 });
  for (const bad of [null, [1], [0.1, 1e-3], [0.1, 0.1], [0, 1], [Number.NaN, 1], ["1", 2], [1, 2, 3], {}])
    assert.equal(asRange(bad), null, JSON.stringify(bad));
});

test("the view draws its proposal until the kernel answers (at most LOCAL_RANGE_MS), then the kernel's", () => {
  const local = { lo: 1e-3, hi: 1e-2, t: 1000 };
  assert.deepEqual(shownRange(local, [1e-4, 1e-1], null, 1500), { lo: 1e-3, hi: 1e-2, suggested: false });
  assert.deepEqual(shownRange(local, [1e-4, 1e-1], null, 1000 + LOCAL_RANGE_MS), {
    lo: 1e-4,
    hi: 1e-1,
    suggested: false,
  });
  assert.deepEqual(shownRange(null, null, [1e-4, 1e-2], 0), { lo: 1e-4, hi: 1e-2, suggested: true });
  const cleared = { clear: true, t: 1000 };
  assert.deepEqual(shownRange(cleared, [1e-4, 1e-1], [1e-4, 1e-2], 1500), { lo: 1e-4, hi: 1e-2, suggested: true });
  assert.equal(shownRange(null, "x", [2, 1], 0), null, "a hostile saved state draws nothing");
});

test("a press stays a click under DRAG_MIN_PX; a drag covers the nearest selectable readings, either way", () => {
  assert.equal(isDrag(100, 103), false);
  assert.equal(isDrag(100, 94), true);
  const x = (lr) => frame.xScale.map(lr);
  assert.deepEqual(dragReadings(frame, readings(), x(1.2e-4), x(0.09), true), { lo: 1, hi: 4 });
  assert.deepEqual(dragReadings(frame, readings(), x(0.09), x(1.2e-4), true), { lo: 1, hi: 4 }, "right to left");
  assert.deepEqual(dragReadings(frame, readings(), x(1e-3), 9999, true), { lo: 2, hi: 4 }, "1 has no loss");
  assert.deepEqual(dragReadings(frame, readings(), -50, x(1e-3), true), { lo: 0, hi: 2 }, "clamped to the plot");
  assert.equal(dragReadings(frame, readings(), x(1e-3), x(1.1e-3), true), null, "one reading: no range");
  assert.deepEqual(rangeCommand(LRS, 4, 1), { type: "select_range", lo: 1e-4, hi: 1e-1 });
  assert.deepEqual(rangeCommand(LRS, 2, 2), { type: "select_range", lo: null, hi: null });
  assert.equal(rangeText(rangeCommand(LRS, 1, 4)), "Range 1e-4 to 1e-1 selected");
});

test("Shift+Left/Right grow the range from the selection; Escape clears; plain arrows still step", () => {
  assert.deepEqual(rangeKey({ key: "ArrowRight", shiftKey: true }), { kind: "extend", delta: 1 });
  assert.deepEqual(rangeKey({ key: "ArrowLeft", shiftKey: true }), { kind: "extend", delta: -1 });
  assert.deepEqual(rangeKey({ key: "Escape" }), { kind: "clear" });
  assert.equal(rangeKey({ key: "ArrowRight" }), null);
  assert.equal(rangeKey({ key: "ArrowRight", shiftKey: true, ctrlKey: true }), null);
  assert.equal(keyAction({ key: "ArrowRight", shiftKey: true }), null, "not also a 10-reading step");
  assert.deepEqual(keyAction({ key: "ArrowUp", shiftKey: true }), { kind: "step", delta: 10 });
  const valid = (i) => i !== 3;
  let k = keyRangeStart(null, null, LRS, 2, 0);
  assert.deepEqual(k, { anchor: 2, focus: 2 }, "from the selected reading");
  k = extendKeyRange(k, 1, 6, valid);
  assert.deepEqual(k, { anchor: 2, focus: 4 }, "skips a reading without a loss");
  assert.deepEqual(rangeCommand(LRS, k.anchor, k.focus), { type: "select_range", lo: 1e-3, hi: 1e-1 });
  k = extendKeyRange(extendKeyRange(extendKeyRange(k, -1, 6, valid), -1, 6, valid), -1, 6, valid);
  assert.deepEqual(k, { anchor: 2, focus: 0 }, "past the anchor: the range flips to its other side");
  const dragged = { lo: 1e-4, hi: 1e-2 };
  assert.deepEqual(keyRangeStart(null, dragged, LRS, -1, 0), { anchor: 1, focus: 3 }, "no selection: the drag's");
  assert.deepEqual(keyRangeStart(null, dragged, LRS, 5, 0), { anchor: 5, focus: 5 }, "else from the selection");
  assert.deepEqual(keyRangeStart(null, null, LRS, -1, 4), { anchor: 4, focus: 4 }, "nothing selected: fallback");
  const kept = { anchor: 3, focus: 1 };
  assert.equal(keyRangeStart(kept, dragged, LRS, 3, 0), kept, "the keys' own range goes on");
  assert.equal(keyRangeStart(kept, dragged, LRS, -1, 0), kept);
  assert.deepEqual(keyRangeStart(kept, dragged, LRS, 4, 0), { anchor: 4, focus: 4 }, "a new selection: anew");
});

/** A 2-D context that records what is drawn (fillRect, fillText, moveTo) and measures 6 px a character. */
function recorder() {
  const calls = [];
  const rec =
    (name) =>
    (...a) =>
      calls.push([name, ...a]);
  return {
    calls,
    ctx: {
      ...Object.fromEntries(
        ["setTransform", "clearRect", "beginPath", "closePath", "stroke", "fill", "setLineDash"].map((m) => [
          m,
          () => undefined,
        ]),
      ),
      lineTo: rec("lineTo"),
      moveTo: rec("moveTo"),
      fillRect: rec("fillRect"),
      fillText: rec("fillText"),
      measureText: (t) => ({ width: 6 * String(t).length }),
    },
  };
}

const THEME = { font: "sans-serif", selected: "#e8710a", fg: "#111111", fgMuted: "#555555", grid: "#dddddd" };

test("the band sits between the range's ends with both labelled; a suggested one says so", () => {
  const g = { plot: PLOT, xScale: frame.xScale, log: true };
  const band = bandPixels({ lo: 1e-4, hi: 1e-1 }, g.xScale, PLOT, true);
  assert.ok(Math.abs(band.x0 - frame.xScale.map(1e-4)) < 1e-9 && Math.abs(band.x1 - frame.xScale.map(1e-1)) < 1e-9);
  assert.equal(bandPixels({ lo: 10, hi: 100 }, g.xScale, PLOT, true), null, "off the plot");
  assert.deepEqual(bandPixels({ lo: 1e-7, hi: 1e-3 }, g.xScale, PLOT, true).x0, PLOT.left, "clipped");
  const narrow = endLabels({ lo: 1e-3, hi: 2e-3 }, { x0: 100, x1: 110 }, [24, 24]);
  assert.deepEqual(
    narrow.map((l) => l.align),
    ["right", "left"],
    "too narrow: outside",
  );
  const { ctx, calls } = recorder();
  drawRange(ctx, g, { range: { lo: 1e-4, hi: 1e-1, suggested: true } }, THEME);
  const texts = calls.filter((c) => c[0] === "fillText").map((c) => c[1]);
  assert.deepEqual(texts, ["1e-4", "1e-1", "suggested range"]);
  const live = recorder();
  drawRange(live.ctx, g, { range: null, drag: { x0: 300, x1: 200 } }, THEME);
  const rect = live.calls.find((c) => c[0] === "fillRect");
  assert.deepEqual(rect.slice(1, 3), [200, PLOT.top], "a drag's band follows the pointer");
});

test("the schedule row's rules: the kinds from rules.json, the steps field, the readout", () => {
  assert.deepEqual(
    scheduleKinds().map((k) => k.label),
    ["One cycle", "Cyclic (triangular)", "Warmup + cosine", "Warmup + linear decay"],
  );
  assert.deepEqual(parseSteps(" 1000 "), { steps: 1000, error: null });
  for (const bad of ["1", "1e3", "-5", "2.5", "", "10000000000", "x"]) assert.equal(parseSteps(bad).steps, null, bad);
  assert.equal(scheduleReadout(null, "").text, "");
  assert.match(scheduleReadout(null, "no range: select one").text, /^Schedule refused: no range/);
  const applied = { kind: "one_cycle", lo: 1e-3, hi: 1e-1, total_steps: 5000, max_lrs: [0.1] };
  assert.equal(scheduleReadout(applied, "").text, "Attached One cycle 1e-3 \u2192 1e-1, 5,000 steps");
});

test("a preview from a hostile saved state is refused whole", () => {
  const good = { kind: "one_cycle", lo: 1e-3, hi: 1e-1, total_steps: 10, steps: [0, 3, 9], lrs: [1e-3, 1e-1, 1e-7] };
  const p = asPreview(good);
  assert.equal(p.totalSteps, 10);
  assert.deepEqual(Array.from(p.lrs), good.lrs);
  assert.match(previewText(p), /^Preview of One cycle from 1e-3 to 1e-1 over 10 steps/);
  const many = Array.from({ length: MAX_PREVIEW_POINTS + 1 }, (_, i) => i);
  for (const bad of [
    null,
    "x",
    { ...good, steps: [0, 3] },
    { ...good, steps: [0, 9, 3] },
    { ...good, steps: [0, 3, 11] },
    { ...good, lrs: [1, Number.NaN, 1] },
    { ...good, lrs: [1, "2", 1] },
    { ...good, lrs: [1, -2, 1] },
    { ...good, total_steps: 1e300 },
    { ...good, lo: 1, hi: 0.1 },
    { ...good, steps: many, lrs: many, total_steps: many.length },
  ])
    assert.equal(asPreview(bad), null, JSON.stringify(bad)?.slice(0, 80));
});

test("the preview maps steps across and lrs from 0 to the peak, and draws a million-step run's columns fast", () => {
  const box = previewLayout(300, 56);
  const { xs, ys } = previewPoints({ steps: [0, 5, 10], lrs: [0, 2, 1], totalSteps: 10 }, box);
  assert.deepEqual(Array.from(xs), [box.left, (box.left + box.right) / 2, box.right]);
  assert.deepEqual(Array.from(ys), [box.bottom, box.top, (box.top + box.bottom) / 2]);
  assert.equal(peakLr([0.1, 0.3, 0.2]), 0.3);
  // what the kernel sends for 1e6 steps: ~2 points per column of 512, plus the turning points
  const n = 1030;
  const steps = Array.from({ length: n }, (_, i) => Math.round((i * (1e6 - 1)) / (n - 1)));
  const preview = { steps, lrs: steps.map((s) => 0.1 * Math.sin((Math.PI * s) / 1e6)), totalSteps: 1e6 };
  const ctx = { ...recorder().ctx, lineTo: () => undefined, moveTo: () => undefined }; // drawing itself: the browser's
  let best = Infinity; // the fastest of 20: a busy machine's pauses are not the frame's work
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    drawSchedulePreview({ ctx, width: 400, height: 56, dpr: 2, theme: THEME, preview });
    best = Math.min(best, performance.now() - t0);
  }
  assert.ok(best < 8, `a preview frame takes under 8 ms (${best.toFixed(2)} ms)`);
  const empty = recorder();
  assert.equal(
    drawSchedulePreview({ ctx: empty.ctx, width: 400, height: 56, theme: THEME, preview: null, message: "m" }),
    0,
  );
});

test("only the kernel's answer to the latest proposal replaces it (answers come in order, CI stop 24)", () => {
  const local = { lo: 1e-3, hi: 3e-3, t: 0 };
  assert.equal(answersProposal(local, [1e-3, 2e-3]), false, "the answer to the press before is stale");
  assert.equal(answersProposal(local, [1e-3, 3e-3]), true);
  assert.equal(answersProposal(null, [1e-3, 2e-3]), true);
  assert.equal(answersProposal({ clear: true, t: 0 }, null), true);
  assert.equal(answersProposal({ clear: true, t: 0 }, [1e-3, 2e-3]), false);
  assert.equal(answersProposal(local, "x"), false, "a hostile value answers nothing");
});

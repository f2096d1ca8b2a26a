// The training chart's drawing work is bounded by the pixels on screen, not by the columns a snapshot
// holds (issue 18: a frame <= 8 ms on a 1,000,000-step stream), and no spike is lost on the way.
import assert from "node:assert/strict";
import { test } from "node:test";
import { drawTrainingFrame } from "../layers/training.js";
import { applyTraining, createTrainingState, SERIES, shownColumns } from "../view/training_state.js";

const THEME = {
  font: "sans-serif",
  grid: "#ddd",
  border: "#ccc",
  fgMuted: "#666",
  accent: "#1976d2",
  rawAlpha: 0.25,
  selected: "#e65100",
  rules: ["#1976d2", "#9334e6"],
};

/** A context that records the calls the chart makes: {name, args, style} per call, split by stroke(). */
function recordingCtx() {
  const calls = [];
  const state = { fillStyle: "", strokeStyle: "", lineWidth: 1, font: "" };
  const ctx = new Proxy(state, {
    get(target, name) {
      if (name in target) return target[name];
      if (name === "measureText") return (t) => ({ width: 6 * String(t).length });
      return (...args) => calls.push({ name, args, fill: target.fillStyle, stroke: target.strokeStyle });
    },
    set(target, name, value) {
      target[name] = value;
      return true;
    },
  });
  return { ctx, calls };
}

/** n columns over steps [0, steps): a falling loss with noise, a spike in column `spikeAt`, a constant lr. */
function columns(n, steps, spikeAt) {
  const s = {};
  for (const k of SERIES) s[k] = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const m = 2 * Math.exp(-j / n) + 0.05 * Math.sin(j * 12.9898);
    s.lossMax[j] = j === spikeAt ? 40 : m + 0.1;
    s.lossMin[j] = m - 0.1;
    s.lossMean[j] = m;
    s.lrMin[j] = 1e-3;
    s.lrMax[j] = 1e-3;
    s.lrMean[j] = 1e-3;
  }
  return { lo: 0, hi: steps, n, ...s };
}

/** The vertices of each stroked polyline, with its colour. */
function polylines(calls) {
  const out = [];
  let cur = 0;
  for (const c of calls) {
    if (c.name === "beginPath") cur = 0;
    else if (c.name === "moveTo" || c.name === "lineTo") cur += 1;
    else if (c.name === "stroke") out.push({ color: c.stroke, vertices: cur });
  }
  return out;
}

for (const dpr of [1, 2]) {
  test(`dpr ${dpr}: the loss band is at most one rectangle per device pixel column, and the spike reaches the top`, () => {
    const { ctx, calls } = recordingCtx();
    const cols = columns(2048, 1_000_000, 1017);
    const g = drawTrainingFrame({ ctx, width: 600, height: 300, dpr, theme: THEME, cols, events: [] });
    const pixels = Math.ceil((g.plot.right - g.plot.left) * dpr);
    const rects = calls.filter((c) => c.name === "rect" || c.name === "fillRect");
    assert.ok(rects.length <= pixels + 2, `${rects.length} rectangles for ${pixels} pixel columns`);
    // the band is drawn in device pixels: the spike's column goes up to the plot's top edge
    const spikeX = g.xScale.map(((1017 + 0.5) * 1_000_000) / 2048) * dpr;
    const spike = rects.filter((c) => c.name === "fillRect" && c.args[0] <= spikeX && c.args[0] + c.args[2] >= spikeX);
    assert.equal(spike.length, 1, "one rectangle holds the spike's column");
    assert.equal(spike[0].args[1], Math.round(g.plot.top * dpr), "the spike is clamped at the top, not dropped");
  });

  test(`dpr ${dpr}: each line has at most one vertex per CSS pixel column; a constant lr is one segment`, () => {
    const { ctx, calls } = recordingCtx();
    const g = drawTrainingFrame({ ctx, width: 600, height: 300, dpr, theme: THEME, cols: columns(2048, 1e6, -1) });
    const lines = polylines(calls).filter((l) => l.color === THEME.accent || l.color === THEME.rules[1]);
    const [lr, loss] = lines;
    assert.equal(lr.color, THEME.rules[1]);
    assert.equal(lr.vertices, 2, "a flat lr: its two ends");
    assert.ok(loss.vertices <= g.plot.right - g.plot.left + 2, `${loss.vertices} vertices`);
    assert.ok(loss.vertices >= (g.plot.right - g.plot.left) / 2, "but the line keeps its detail");
  });
}

test("a NaN column breaks the line and leaves a gap in the band", () => {
  const { ctx, calls } = recordingCtx();
  const cols = columns(64, 64, -1);
  for (const k of SERIES) cols[k][30] = Number.NaN;
  const g = drawTrainingFrame({ ctx, width: 600, height: 300, dpr: 1, theme: THEME, cols });
  const moves = calls.filter((c) => c.name === "moveTo" && c.stroke === THEME.accent);
  assert.ok(moves.length >= 2, "the loss line starts again after the gap");
  const gapX = g.xScale.map(30.5);
  const band = calls.filter((c) => c.name === "fillRect" && c.fill !== THEME.fgMuted);
  assert.ok(band.length > 0, "the band is drawn with fillRect");
  assert.ok(!band.some((c) => c.args[0] < gapX && c.args[0] + c.args[2] > gapX), "nothing over the gap");
});

/** A "training" message of the given columns (six float64 series) and its buffer. */
function message(cols, extra = {}) {
  const all = new Float64Array(SERIES.length * cols.n);
  SERIES.forEach((k, i) => {
    all.set(cols[k], i * cols.n);
  });
  const msg = { type: "training", watch_id: 1, steps: cols.hi, lo: cols.lo, hi: cols.hi, cols: cols.n, zoom: 0 };
  return [{ ...msg, ...extra }, [all.buffer]];
}

test("until the kernel answers a zoom, the overview's columns over the range asked are shown at once", () => {
  const s = createTrainingState();
  applyTraining(s, ...message(columns(1024, 1_000_000, 507)));
  s.want = { lo: 480_000, hi: 560_000 };
  s.req = 1;
  const shown = shownColumns(s);
  assert.equal(shown.lo, 480_000);
  assert.equal(shown.hi, 560_000);
  assert.ok(shown.n >= 80 && shown.n <= 84, `${shown.n} overview columns cover the range`);
  assert.ok(shown.x0 <= 480_000 && shown.x0 + shown.n * shown.dx >= 560_000, "they cover all of it");
  assert.equal(Math.max(...shown.lossMax), 40, "the spike in it is kept");
  assert.equal(shownColumns(s), shown, "the same object while nothing changed (no work per frame)");
  const { ctx } = recordingCtx();
  const g = drawTrainingFrame({ ctx, width: 600, height: 300, dpr: 1, theme: THEME, cols: shown });
  assert.deepEqual(g.xScale.domain, [480_000, 560_000], "the axis is the range asked");
});

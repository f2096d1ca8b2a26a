// The training chart's drawing work is bounded by the pixels on screen, not by the columns a snapshot
// holds (issue 18: a frame <= 8 ms on a 1,000,000-step stream), and no spike is lost on the way.
import assert from "node:assert/strict";
import { test } from "node:test";
import { drawTrainingFrame, seriesVertices } from "../layers/training.js";
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

/** The vertical segments (moveTo, lineTo pairs) stroked in `color`: [{x, top, bottom}]. */
function segments(calls, color) {
  const out = [];
  for (let i = 0; i + 1 < calls.length; i++) {
    const [m, l] = [calls[i], calls[i + 1]];
    if (m.name === "moveTo" && l.name === "lineTo" && m.stroke === color && m.args[0] === l.args[0]) {
      out.push({ x: m.args[0], top: m.args[1], bottom: l.args[1] });
    }
  }
  return out;
}

const BAND = "rgba(25,118,210,0.25)";

for (const dpr of [1, 2]) {
  test(`dpr ${dpr}: the loss band is at most one segment per device pixel column; the spike reaches the top`, () => {
    const { ctx, calls } = recordingCtx();
    const cols = columns(2048, 1_000_000, 1017);
    const g = drawTrainingFrame({ ctx, width: 600, height: 300, dpr, theme: THEME, cols, events: [] });
    const pixels = Math.round(g.plot.right * dpr) - Math.round(g.plot.left * dpr);
    const band = segments(calls, BAND);
    assert.ok(band.length <= pixels && band.length >= pixels - 2, `${band.length} segments, ${pixels} pixel columns`);
    assert.equal(calls.filter((c) => c.name === "rect" || c.name === "fillRect").length, 1, "only the clip");
    assert.equal(new Set(band.map((b) => b.x)).size, band.length, "one per pixel column");
    // the spike's column goes up to the plot's top edge
    const spikeX = g.xScale.map(((1017 + 0.5) * 1_000_000) / 2048) * dpr;
    const spike = band.find((b) => Math.abs(b.x - spikeX) <= 0.5);
    assert.equal(spike.top, Math.round(g.plot.top * dpr), "the spike is clamped at the top, not dropped");
    assert.ok(band.filter((b) => b.top === spike.top).length <= 2, "and only its column is");
  });

  test(`dpr ${dpr}: each line is at most one segment per device pixel column, through one vertex per CSS px`, () => {
    const { ctx, calls } = recordingCtx();
    const cols = columns(2048, 1e6, -1);
    const g = drawTrainingFrame({ ctx, width: 600, height: 300, dpr, theme: THEME, cols });
    const pixels = Math.round(g.plot.right * dpr) - Math.round(g.plot.left * dpr);
    for (const color of [THEME.accent, THEME.rules[1]]) {
      const line = segments(calls, color);
      assert.ok(line.length >= pixels - 2 && line.length <= pixels, `${line.length} segments`);
      assert.equal(new Set(line.map((b) => b.x)).size, line.length);
    }
    const flat = segments(calls, THEME.rules[1]);
    const thick = flat.map((b) => b.bottom - b.top);
    assert.ok(Math.min(...thick) >= 1.5 * dpr - 1e-9, "a flat line is as thick as its width");
    const lr = seriesVertices(cols, cols.lrMean, g, g.lrScale.map, true);
    assert.equal(lr.m, 2, "a flat lr: its two ends");
    const loss = seriesVertices(cols, cols.lossMean, g, g.yScale.map);
    assert.ok(loss.m <= g.plot.right - g.plot.left + 2, `${loss.m} vertices`);
    assert.ok(loss.m >= (g.plot.right - g.plot.left) / 2, "but the line keeps its detail");
  });
}

test("a steep segment is as wide as the line; a NaN column breaks the line and leaves a gap in the band", () => {
  const { ctx, calls } = recordingCtx();
  const cols = columns(64, 64, -1);
  for (const k of SERIES) cols[k][30] = Number.NaN;
  cols.lossMean[40] = 40;
  const g = drawTrainingFrame({ ctx, width: 600, height: 300, dpr: 1, theme: THEME, cols });
  const line = segments(calls, THEME.accent);
  const gapX = g.xScale.map(30.5);
  const near = (b, x, d) => Math.abs(b.x - x) < d;
  assert.ok(!line.some((b) => near(b, gapX, 2)), "the line stops around the gap");
  assert.ok(!segments(calls, BAND).some((b) => near(b, gapX, 1)), "nothing in the band over the gap");
  const peak = line.filter((b) => b.top <= g.plot.top + 1.2);
  assert.ok(peak.length >= 2, `the peak's rise and fall are drawn ${peak.length} px wide`);
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

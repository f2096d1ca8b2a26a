// The compare chart (issue 20): its readings state, the runs layer and picking.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createRunsCache, drawRunsFrame, pickRun, runsGeometry, unionDomain } from "../layers/runs.js";
import { nearestIndex } from "../pick.js";
import { pickTheme } from "../theme.js";
import { runEntryText, runTip } from "../view/compare.js";
import {
  applyCompareMessage,
  applySaved,
  asRunInfos,
  asTrend,
  createCompareState,
  MAX_RUNS,
  splitSaved,
} from "../view/compare_state.js";

const THEME = pickTheme(() => "", false);

/** A context that records fills / strokes with the colour in use (measureText: 6 px per character). */
function recordingCtx() {
  const calls = [];
  const state = { fillStyle: "", strokeStyle: "", lineWidth: 1, font: "", lineJoin: "" };
  const ctx = new Proxy(state, {
    get(target, name) {
      if (name in target) return target[name];
      if (name === "measureText") return (t) => ({ width: 6 * String(t).length });
      return (...args) => calls.push({ name, args, stroke: target.strokeStyle, fill: target.fillStyle });
    },
    set(target, name, value) {
      target[name] = value;
      return true;
    },
  });
  return { ctx, calls };
}

/** A run of n readings over [lo, hi] (log spaced) whose loss has its valley at `valley`. */
function curve(n, lo, hi, valley) {
  const lr = new Float64Array(n);
  const smoothed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    lr[i] = 10 ** (Math.log10(lo) + ((Math.log10(hi) - Math.log10(lo)) * i) / (n - 1));
    smoothed[i] = 2 - Math.exp(-((Math.log10(lr[i]) - Math.log10(valley)) ** 2)) + 0.01 * Math.sin(i);
  }
  return { lr, smoothed };
}

function f64(a) {
  return new DataView(Float64Array.from(a).buffer);
}

function stateWith(curves) {
  const st = createCompareState();
  curves.forEach((c, k) => {
    const msg = { type: "compare_readings", run: k, start: 0, count: c.lr.length };
    assert.ok(applyCompareMessage(st, msg, [f64(c.lr), f64(c.smoothed), f64(c.smoothed)]));
  });
  return st;
}

const frameRuns = (st, n, hidden = []) =>
  st.runs.slice(0, n).map((r, k) => ({ ...r, visible: !hidden.includes(k), color: THEME.runs[k], label: `r${k}` }));

test("readings messages fill each run; compare_run clears one; hostile messages are dropped", () => {
  const st = stateWith([curve(50, 1e-5, 1, 1e-2), curve(30, 1e-4, 10, 1e-1)]);
  assert.deepEqual([st.runs[0].n, st.runs[1].n], [50, 30]);
  assert.ok(Math.abs(st.runs[0].logLr[49]) < 1e-12, "log10(lr) kept beside the lrs");
  assert.ok(applyCompareMessage(st, { type: "compare_run", run: 1 }));
  assert.equal(st.runs[1].n, 0);
  const b = [f64([1]), f64([1]), f64([1])];
  for (const bad of [
    null,
    { type: "compare_run", run: MAX_RUNS },
    { type: "compare_run", run: -1 },
    { type: "compare_run", run: true },
    { type: "compare_readings", run: 0, start: -1, count: 1 },
    { type: "compare_readings", run: 0, start: 0, count: 2 }, // the buffers hold 1
    { type: "compare_readings", run: 0, start: 999, count: 1 }, // a gap
  ]) {
    assert.equal(applyCompareMessage(st, bad, b), false, JSON.stringify(bad));
  }
  assert.equal(applyCompareMessage(st, { type: "compare_readings", run: 0, start: 0, count: 1 }, []), false);
  assert.equal(st.runs[0].n, 50);
});

/** The compare_saved layout: "LRW1", run id, n, flags, n float64 lrs, n float32 losses, n float32 smoothed. */
function savedBlob(run, lr, smoothed) {
  const n = lr.length;
  const buf = new ArrayBuffer(16 + 16 * n);
  const v = new DataView(buf);
  for (let i = 0; i < 4; i++) v.setUint8(i, "LRW1".charCodeAt(i));
  v.setUint32(4, run, true);
  v.setUint32(8, n, true);
  for (let i = 0; i < n; i++) {
    v.setFloat64(16 + 8 * i, lr[i], true);
    v.setFloat32(16 + 8 * n + 4 * i, smoothed[i], true);
    v.setFloat32(16 + 12 * n + 4 * i, smoothed[i], true);
  }
  return new Uint8Array(buf);
}

test("compare_saved: the finished runs' blobs one after another; a truncated or foreign tail is ignored", () => {
  const a = savedBlob(0, [1e-3, 1e-2], [2, 1.5]);
  const b = savedBlob(2, [1e-4, 1e-3, 1e-2], [3, 2, 1]);
  const both = new Uint8Array(a.length + b.length);
  both.set(a);
  both.set(b, a.length);
  const runs = splitSaved(new DataView(both.buffer));
  assert.deepEqual(
    runs.map((r) => [r.run, r.n]),
    [
      [0, 2],
      [2, 3],
    ],
  );
  assert.equal(splitSaved(both.subarray(0, a.length + 10)).length, 1, "a cut blob is dropped");
  assert.equal(splitSaved(savedBlob(MAX_RUNS, [1], [1])).length, 0, "a run index past the limit");
  assert.deepEqual(splitSaved(null), []);
  const st = createCompareState();
  assert.ok(applySaved(st, both));
  assert.deepEqual([st.runs[0].n, st.runs[1].n, st.runs[2].n], [2, 0, 3]);
});

test("compare_runs from a hostile saved state: at most 8, fields typed, labels defaulted", () => {
  const infos = asRunInfos([null, { label: 5, suggestion: -1, warning: "w", color: 3 }, ...Array(20).fill({})]);
  assert.equal(infos.length, MAX_RUNS);
  assert.deepEqual([infos[0].label, infos[1].label, infos[1].suggestion, infos[1].color], ["run 1", "run 2", null, 3]);
  assert.deepEqual(asRunInfos("x"), []);
  assert.equal(asRunInfos([{ color: -1 }])[0].color, 0, "a negative colour index is not an index");
  assert.equal(asTrend({ points: "x", text: "t" }), null);
  assert.equal(asTrend([1, 2]), null);
  const tr = asTrend({ points: [[1e-3, 1], [-1, 2], [1e-2, Number.NaN], "p", [1e-2, 0.5]], text: 7 });
  assert.deepEqual(tr, {
    points: [
      [1e-3, 1],
      [1e-2, 0.5],
    ],
    text: "",
  });
  const t = runEntryText({ label: "SGD", suggestion: 0.1, warning: "lr 1e-3 is 100x below" });
  assert.deepEqual(t, { name: "SGD", lr: "1e-1", warning: "\u26a0 lr 1e-3 is 100x below" });
  assert.ok(!runTip("<b>x</b>", { lr: 0.1, loss: 1 }).includes("<b>x</b>"), "labels are escaped");
});

test("the x axis spans every visible run; a hidden run leaves the axis and the picture", () => {
  const st = stateWith([curve(50, 1e-5, 1e-2, 1e-3), curve(50, 1e-3, 10, 1e-1)]);
  const [lo, hi] = unionDomain(frameRuns(st, 2), true);
  assert.ok(Math.abs(lo - 1e-5) < 1e-15 && Math.abs(hi - 10) < 1e-9);
  const [lo1] = unionDomain(frameRuns(st, 2, [0]), true);
  assert.ok(Math.abs(lo1 - 1e-3) < 1e-15);
  const { ctx, calls } = recordingCtx();
  drawRunsFrame({ ctx, width: 600, height: 300, dpr: 1, theme: THEME, runs: frameRuns(st, 2, [1]), log: true });
  const strokes = new Set(calls.filter((c) => c.name === "stroke").map((c) => c.stroke));
  assert.ok(strokes.has(THEME.runs[0]) && !strokes.has(THEME.runs[1]), [...strokes].join(" "));
});

test("each run in its own colour, its default suggestion marked in that colour, and the trend drawn", () => {
  const st = stateWith([curve(80, 1e-5, 1, 1e-2), curve(80, 1e-5, 1, 1e-3)]);
  const runs = frameRuns(st, 2).map((r, k) => ({ ...r, suggestion: { lr: k ? 1e-3 : 1e-2, index: null } }));
  const { ctx, calls } = recordingCtx();
  const trend = {
    points: [
      [1e-2, 1.2],
      [1e-3, 1.1],
    ],
    text: "lr* \u221d B^0.5",
  };
  drawRunsFrame({ ctx, width: 600, height: 300, dpr: 2, theme: THEME, runs, log: true, trend });
  const arcs = calls.filter((c) => c.name === "arc");
  assert.equal(arcs.length, 2);
  const fills = calls.filter((c) => c.name === "fill").map((c) => c.fill);
  assert.ok(fills.includes(THEME.runs[0]) && fills.includes(THEME.runs[1]));
  assert.ok(calls.some((c) => c.name === "fillText" && c.args[0] === trend.text));
});

test("a pointer picks the run whose curve is nearest, and a tested lr of it", () => {
  const a = curve(100, 1e-5, 1, 1e-2);
  const b = { lr: a.lr, smoothed: a.smoothed.map((y) => y + 5) };
  const st = stateWith([a, b]);
  const runs = frameRuns(st, 2);
  const g = runsGeometry(
    recordingCtx().ctx,
    { width: 600, height: 300, theme: THEME, runs, log: true },
    createRunsCache(),
  );
  const x = g.xScale.map(a.lr[40]);
  const near = pickRun(g, runs, x, g.yScale.map(b.smoothed[40]) + 3, nearestIndex);
  assert.equal(near.run, 1);
  assert.equal(near.lr, a.lr[40], "a tested lr, never an interpolated one");
  assert.equal(pickRun(g, runs, x, g.yScale.map(a.smoothed[40]), nearestIndex).run, 0);
  assert.equal(pickRun(g, frameRuns(st, 2, [0, 1]), x, 0, nearestIndex), null);
});

test("8 runs of 10k readings draw a frame fast (decimated: no per-reading drawing work)", () => {
  const curves = Array.from({ length: 8 }, (_, k) => curve(10_000, 1e-6, 10, 10 ** (-4 + k / 2)));
  const st = stateWith(curves);
  const runs = frameRuns(st, 8);
  const { ctx, calls } = recordingCtx();
  const cache = createRunsCache();
  drawRunsFrame({ ctx, width: 800, height: 320, dpr: 2, theme: THEME, runs, log: true, cache });
  const lines = calls.filter((c) => c.name === "lineTo").length;
  assert.ok(lines < 8 * 4 * 1600, `${lines} segments: at most a few per device pixel column per run`);
  // timed on a context that does nothing: what the frame costs besides the browser's rasterizing
  const noop = () => undefined;
  const plain = { measureText: (t) => ({ width: 6 * String(t).length }) };
  for (const name of new Set(calls.map((c) => c.name))) plain[name] = noop;
  const t0 = performance.now();
  for (let i = 0; i < 10; i++)
    drawRunsFrame({ ctx: plain, width: 800, height: 320, dpr: 2, theme: THEME, runs, log: true, cache });
  const ms = (performance.now() - t0) / 10;
  assert.ok(ms < 200, `${ms} ms a frame (a recording context; the browser test measures the real one)`);
});

test("a frame with nothing new re-decimates nothing (a hover redraws only; the margin settles once)", () => {
  const st = stateWith([curve(2000, 1e-6, 10, 1e-3), curve(2000, 1e-6, 10, 1e-2)]);
  const runs = frameRuns(st, 2);
  const cache = createRunsCache();
  const frame = () =>
    drawRunsFrame({ ctx: recordingCtx().ctx, width: 600, height: 300, dpr: 1, theme: THEME, runs, log: true, cache });
  frame();
  frame();
  const before = Array.from(cache.cols[0].max.subarray(0, cache.cols[0].count));
  runs[0].smoothed.fill(100); // unseen unless the frame decimates again (the version did not change)
  frame();
  assert.deepEqual(Array.from(cache.cols[0].max.subarray(0, cache.cols[0].count)), before);
  runs[0].version++;
  frame();
  assert.equal(cache.cols[0].max[0], 100, "a new version is decimated again");
});

test("a pointer move copies the still layers and rings the hovered point; anything else draws anew", () => {
  const st = stateWith([curve(2000, 1e-6, 10, 1e-3), curve(2000, 1e-6, 10, 1e-2)]);
  const runs = frameRuns(st, 2);
  const copies = [];
  const noop = () => undefined;
  const bitmap = (w, h) => ({
    width: w,
    height: h,
    getContext: () => ({ setTransform: noop, clearRect: noop, drawImage: (src) => copies.push(src) }),
  });
  const cache = createRunsCache(bitmap);
  const rec = recordingCtx();
  rec.ctx.canvas = { width: 1200, height: 600 }; // the view's canvas at dpr 2
  const frame = (extra = {}) => {
    rec.calls.length = 0;
    drawRunsFrame({ ctx: rec.ctx, width: 600, height: 300, dpr: 2, theme: THEME, runs, log: true, cache, ...extra });
    return rec.calls.map((c) => c.name);
  };
  assert.ok(frame().includes("lineTo"), "the first frame draws the curves");
  assert.equal(copies.length, 0, "and keeps no copy (a live run's next batch changes them at once)");
  assert.ok(frame({ hover: { run: 0, lr: runs[0].lr[9], index: 9 } }).includes("lineTo"), "nor a copy yet");
  assert.equal(copies.length, 1, "the same still layers twice: kept (the canvas copied into the still bitmap)");
  const hover = frame({ hover: { run: 1, lr: runs[1].lr[500], index: 500 } });
  assert.ok(!hover.includes("lineTo"), `a pointer move draws no curve: ${hover.join(",")}`);
  assert.equal(hover.filter((n) => n === "drawImage").length, 1, "it copies the still layers back");
  assert.equal(hover.filter((n) => n === "arc").length, 1, "and rings the hovered point");
  assert.ok(frame({ selected: { run: 0, lr: runs[0].lr[100] } }).includes("lineTo"), "a selection draws anew");
  runs[0].version++;
  assert.ok(frame().includes("lineTo"), "new readings draw anew");
  runs[1].visible = false;
  assert.ok(frame().includes("lineTo"), "a hidden run draws anew");
  assert.ok(frame({ theme: { ...THEME } }).includes("lineTo"), "another theme draws anew");
  assert.ok(frame({ width: 500 }).includes("lineTo"), "another size draws anew");
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { columnStep, lossRange, lrRange, trainingGeometry } from "../layers/training_geometry.js";
import { doctorLine, modeSwitch, scaleCommand, verdictLook, zoomCommand } from "../view/training.js";
import {
  applyTraining,
  createTrainingState,
  DOCTOR,
  panRange,
  SERIES,
  shownColumns,
  zoomRange,
} from "../view/training_state.js";

/** A kernel "training" message of n columns over [lo, hi) and its buffer (six float64 series). */
function message(n, { lo = 0, hi = n, zoom = 0, watchId = 1, fill = (k, j) => k + j, ...rest } = {}) {
  const all = new Float64Array(SERIES.length * n);
  for (let k = 0; k < SERIES.length; k++) for (let j = 0; j < n; j++) all[k * n + j] = fill(k, j);
  const msg = { type: "training", watch_id: watchId, steps: hi, lo, hi, cols: n, zoom, verdict: "healthy", ...rest };
  return [msg, [new DataView(all.buffer)]];
}

test("a training message fills the overview and switches a view that did not choose", () => {
  const s = createTrainingState();
  const res = applyTraining(
    s,
    ...message(4, {
      reason: "steady",
      lr_now: 0.01,
      events: [{ step: 2, kind: "action", factor: 0.1, rollback: true }],
    }),
  );
  assert.deepEqual(res, { changed: true, error: null, switched: true });
  assert.equal(s.mode, "training");
  assert.equal(s.verdict, "healthy");
  assert.equal(s.lrNow, 0.01);
  assert.deepEqual(s.events, [{ step: 2, kind: "action", factor: 0.1, rollback: true, text: "" }]);
  assert.deepEqual(Array.from(shownColumns(s).lossMean), [2, 3, 4, 5]);
  s.mode = "range";
  s.chosen = true;
  assert.equal(applyTraining(s, ...message(4)).switched, false, "the user's choice stays");
  assert.equal(applyTraining(s, ...message(4, { watchId: 2 })).switched, false);
});

test("hostile training messages are refused or cleaned, never thrown", () => {
  const s = createTrainingState();
  const [ok, bufs] = message(4);
  for (const bad of [
    { ...ok, cols: -1 },
    { ...ok, cols: DOCTOR.maxColumns + 1 },
    { ...ok, cols: 1.5 },
    { ...ok, lo: 5, hi: 2 },
    { ...ok, lo: "0" },
    { ...ok, cols: 5 }, // the buffer holds 4 columns
  ]) {
    const res = applyTraining(s, bad, bufs);
    assert.equal(res.changed, false);
    assert.ok(res.error, JSON.stringify(bad));
  }
  assert.ok(applyTraining(s, ok, []).error, "no buffer");
  assert.ok(applyTraining(s, ok, [new ArrayBuffer(7)]).error, "not float64");
  const res = applyTraining(s, { ...ok, verdict: "<b>", reason: 5, lr_now: -1, events: "x", steps: -3 }, bufs);
  assert.equal(res.changed, true);
  assert.equal(s.verdict, "watching");
  assert.equal(s.reason, "");
  assert.equal(s.lrNow, null);
  assert.deepEqual(s.events, []);
  assert.equal(s.steps, 0);
  const many = Array.from({ length: 10000 }, (_, i) => ({ step: i, kind: "action", factor: 2 }));
  applyTraining(s, { ...ok, events: [...many, null, { step: -1 }] }, bufs);
  assert.ok(s.events.length <= DOCTOR.maxEvents, "the events kept are bounded");
});

test("a zoom answer is shown only for the range asked last", () => {
  const s = createTrainingState();
  applyTraining(s, ...message(8, { hi: 1000 }));
  s.want = { lo: 100, hi: 200 };
  s.req = 2;
  assert.equal(applyTraining(s, ...message(8, { lo: 100, hi: 200, zoom: 1 })).changed, false, "an old answer");
  assert.equal(shownColumns(s).lossMean.buffer, s.overview.lossMean.buffer, "until it comes, the overview's");
  assert.equal(shownColumns(s).lo, 100, "columns over the range asked");
  applyTraining(s, ...message(8, { lo: 100, hi: 200, zoom: 2 }));
  assert.equal(shownColumns(s), s.zoom);
  applyTraining(s, ...message(8, { hi: 2000, watchId: 9 }));
  assert.equal(s.want, null, "a new watch shows its whole run");
});

test("zoom and pan stay inside the run and never narrower than the rule", () => {
  assert.deepEqual(zoomRange(null, 1000, 500, 0.5), { lo: 250, hi: 750 });
  assert.deepEqual(zoomRange(null, 1000, 0, 0.5), { lo: 0, hi: 500 }, "around the left edge");
  assert.deepEqual(zoomRange(null, 1000, 1000, 0.5), { lo: 500, hi: 1000 });
  assert.equal(zoomRange({ lo: 0, hi: 900 }, 1000, 10, 2), null, "out past the run: the whole run");
  const tiny = zoomRange({ lo: 0, hi: 20 }, 1000, 10, 0.1);
  assert.equal(tiny.hi - tiny.lo, DOCTOR.minZoomSteps);
  assert.deepEqual(panRange({ lo: 900, hi: 1000 }, 1000, 50), { lo: 900, hi: 1000 });
  assert.deepEqual(panRange({ lo: 100, hi: 200 }, 1000, -500), { lo: 0, hi: 100 });
  assert.equal(panRange(null, 1000, 5), null);
});

test("the loss axis keeps a spike visible without flattening the rest; the lr axis is log", () => {
  const n = 100;
  const mean = new Float64Array(n).fill(1);
  const min = new Float64Array(n).fill(0.9);
  const max = new Float64Array(n).fill(1.1);
  max[50] = 1000;
  const cols = { lo: 0, hi: n, n, lossMin: min, lossMax: max, lossMean: mean, lrMin: mean, lrMax: mean, lrMean: mean };
  const r = lossRange(cols);
  assert.ok(r.clipped && r.hi < 10, `capped: ${r.hi}`);
  assert.ok(r.lo < 0.9);
  assert.equal(lossRange({ ...cols, lossMin: mean.map(() => NaN), lossMax: mean.map(() => NaN) }), null);
  const lr = lrRange({ ...cols, lrMin: mean.map(() => 0.01), lrMax: mean.map(() => 0.01) });
  assert.ok(lr.hi / lr.lo > 10 && lr.lo < 0.01 && lr.hi > 0.01, "a decade at least around a constant lr");
  const wide = lrRange({ ...cols, lrMin: mean.map(() => 0.001), lrMax: mean.map(() => 0.1) });
  assert.ok(wide.lo < 0.001 && wide.hi > 0.1, "room above and below the lrs drawn");
  const start = new Float64Array(n).fill(1);
  start[0] = 50;
  assert.ok(lossRange({ ...cols, lossMean: start, lossMax: start }).hi >= 50, "the start stays in view");
  assert.equal(columnStep({ lo: 100, hi: 200, n: 10 }, 0), 105);
  const g = trainingGeometry(cols, 600, 320, (t) => t.length * 6);
  assert.ok(g.plot.left > 0 && g.plot.right < 600);
  assert.equal(g.xScale.map(0), g.plot.left);
});

test("verdict words and colours come from rules.json; the buttons send only the rule's factors", () => {
  const theme = { error: "#f00", applied: "#0f0", fgMuted: "#888", selected: "#fa0" };
  assert.deepEqual(verdictLook("too_high", theme), { word: DOCTOR.verdicts.too_high.word, color: "#f00" });
  assert.deepEqual(verdictLook("nonsense", theme).color, "#888");
  assert.deepEqual(DOCTOR.actions.map(scaleCommand), [
    { type: "scale_lr", factor: 0.1, rollback: true },
    { type: "scale_lr", factor: 0.5, rollback: false },
    { type: "scale_lr", factor: 2, rollback: false },
  ]);
  assert.equal(modeSwitch("training").text, "Range test curve");
  assert.equal(modeSwitch("range").text, "Training");
  const s = { ...createTrainingState(), reason: "loss falls steadily", lrNow: 0.001, steps: 12345, error: "" };
  assert.equal(doctorLine(s), "loss falls steadily \u00b7 lr 1e-3 \u00b7 step 12,345");
  assert.deepEqual(zoomCommand({ lo: 5, hi: 50 }, 3, 99999), {
    type: "training_zoom",
    lo: 5,
    hi: 50,
    cols: DOCTOR.maxColumns,
    req: 3,
  });
  assert.equal(zoomCommand(null, 3, 100), null);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { linearTicks, logTicks, niceStep } from "../ticks.js";

test("niceStep picks 1-2-5 steps", () => {
  assert.equal(niceStep(10, 5), 2);
  assert.equal(niceStep(1, 4), 0.2);
  assert.equal(niceStep(7, 10), 0.5);
  assert.equal(niceStep(100, 3), 50);
});

test("linearTicks covers the range with nice, increasing values", () => {
  const t = linearTicks(0.37, 2.41, 5);
  const v = t.major.map((m) => m.value);
  assert.deepEqual(
    t.major.map((m) => m.label),
    ["0.5", "1.0", "1.5", "2.0"],
  );
  for (let i = 1; i < v.length; i++) assert.ok(v[i] > v[i - 1]);
  assert.ok(v[0] >= 0.37 && v[v.length - 1] <= 2.41);
});

test("linearTicks of an empty or reversed range is empty", () => {
  assert.deepEqual(linearTicks(1, 1).major, []);
  assert.deepEqual(linearTicks(2, 1).major, []);
});

test("logTicks labels each decade over 1e-6..10 with minor ticks between", () => {
  const t = logTicks(1e-6, 10, 10);
  assert.equal(t.major.length, 8);
  assert.equal(t.major[0].label, "10\u207b\u2076");
  assert.equal(t.major[7].label, "10");
  assert.ok(Math.abs(t.major[3].value - 1e-3) < 1e-18);
  assert.equal(t.minor.length, 7 * 8);
  assert.ok(t.minor.every((v) => v > 1e-6 && v < 10));
});

test("logTicks thins crowded decades but keeps them aligned", () => {
  const t = logTicks(1e-8, 1e2, 4);
  assert.ok(t.major.length <= 4 + 1);
  const exps = t.major.map((m) => Math.round(Math.log10(m.value)));
  const stride = exps[1] - exps[0];
  assert.ok(stride >= 2);
  assert.ok(exps.every((e) => e % stride === 0));
});

test("logTicks under a decade still gives at least two labels", () => {
  const t = logTicks(2e-3, 9e-3, 6);
  assert.ok(t.major.length >= 2);
  assert.ok(t.major.every((m) => m.value >= 2e-3 && m.value <= 9e-3));
  assert.deepEqual(
    t.major.map((m) => m.label),
    ["2e-3", "3e-3", "5e-3"],
  );
  const narrow = logTicks(1.01e-3, 1.02e-3, 6);
  assert.ok(narrow.major.length >= 2);
});

test("tick values are the decimals themselves, not multiples with float noise", () => {
  assert.deepEqual(
    linearTicks(0, 1, 5).major.map((m) => m.value),
    [0, 0.2, 0.4, 0.6, 0.8, 1],
  );
  assert.deepEqual(
    logTicks(0.02, 0.35, 8).major.map((m) => m.value),
    [0.02, 0.03, 0.05, 0.1, 0.2, 0.3],
  );
});

test("niceStep never picks 2.5", () => {
  for (let span = 0.1; span < 100; span *= 1.07) {
    const s = niceStep(span, 4);
    const mant = s / 10 ** Math.floor(Math.log10(s) + 1e-9);
    assert.ok(
      [1, 2, 5].some((m) => Math.abs(mant - m) < 1e-9),
      `${span}: ${s}`,
    );
  }
});

test("logTicks too narrow for any multiple labels its two ends, with different labels", () => {
  const t = logTicks(0.0301, 0.0302, 6);
  assert.deepEqual(
    t.major.map((m) => m.label),
    ["3.01e-2", "3.02e-2"],
  );
});

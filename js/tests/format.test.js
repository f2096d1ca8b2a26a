import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, formatLoss, formatLR, formatTick, powerOfTen } from "../format.js";

test("formatLR writes e-notation without trailing zeros or plus signs", () => {
  assert.equal(formatLR(3.16227766e-3), "3.16e-3");
  assert.equal(formatLR(1e-4), "1e-4");
  assert.equal(formatLR(2.5e-2), "2.5e-2");
  assert.equal(formatLR(1), "1");
  assert.equal(formatLR(12.5), "1.25e1");
  assert.equal(formatLR(0), "0");
});

test("formatLR names non-finite values and missing ones", () => {
  assert.equal(formatLR(NaN), "NaN");
  assert.equal(formatLR(Infinity), "inf");
  assert.equal(formatLR(null), "\u2014");
});

test("formatLoss keeps 4 significant digits and switches to e-notation at extremes", () => {
  assert.equal(formatLoss(Math.LN10), "2.303");
  assert.equal(formatLoss(0.5), "0.5");
  assert.equal(formatLoss(123456), "1.235e5");
  assert.equal(formatLoss(0.0001234), "1.234e-4");
  assert.equal(formatLoss(-Infinity), "-inf");
});

test("formatDuration gives m:ss and h:mm:ss", () => {
  assert.equal(formatDuration(7.4), "0:07");
  assert.equal(formatDuration(65), "1:05");
  assert.equal(formatDuration(3723), "1:02:03");
  assert.equal(formatDuration(null), "\u2014");
  assert.equal(formatDuration(-1), "\u2014");
});

test("powerOfTen uses superscript digits", () => {
  assert.equal(powerOfTen(-5), "10\u207b\u2075");
  assert.equal(powerOfTen(0), "1");
  assert.equal(powerOfTen(1), "10");
  assert.equal(powerOfTen(12), "10\u00b9\u00b2");
});

test("formatTick shows as many decimals as the step needs, never -0", () => {
  assert.equal(formatTick(0.5, 0.5), "0.5");
  assert.equal(formatTick(2, 1), "2");
  assert.equal(formatTick(0.25, 0.05), "0.25");
  assert.equal(formatTick(-1e-17, 0.1), "0.0");
});

test("formatLoss never writes a plus sign between 1e4 and 1e5", () => {
  assert.equal(formatLoss(12345.6), "1.235e4");
  assert.equal(formatLoss(9999.6), "10000");
});

test("statusWord gives one word per stop reason: error, never failed", async () => {
  const { statusWord } = await import("../format.js");
  assert.deepEqual(["completed", "diverged", "stopped", "exhausted", "error"].map(statusWord), [
    "done",
    "diverged",
    "stopped",
    "exhausted",
    "error",
  ]);
});

test("formatLR rounds a tie half up, like Python's rules.format_lr", () => {
  assert.equal(formatLR(0.5625), "5.63e-1");
});

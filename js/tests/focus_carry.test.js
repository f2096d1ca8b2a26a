import assert from "node:assert/strict";
import { test } from "node:test";
import { CARRY_MS, focusKey, keySelector, shouldCarry } from "../view/focus_carry.js";

const node = (tagName, attrs = {}, classes = []) => ({
  tagName,
  getAttribute: (n) => attrs[n] ?? null,
  classList: classes,
});

test("a focused control is found again by its label, else its class", () => {
  assert.deepEqual(focusKey(node("SELECT", { "aria-label": "Schedule" }, ["lrw-sched"])), {
    tag: "select",
    label: "Schedule",
    cls: "lrw-sched",
  });
  assert.equal(keySelector(focusKey(node("SELECT", { "aria-label": "Schedule" }))), 'select[aria-label="Schedule"]');
  assert.equal(keySelector(focusKey(node("DIV", {}, ["lrw-plot"]))), "div.lrw-plot");
  // a label with quotes stays one CSS string; a node with neither gives no selector (the plot is used)
  assert.equal(keySelector({ tag: "button", label: 'Apply "x"', cls: "" }), 'button[aria-label="Apply \\"x\\""]');
  assert.equal(keySelector({ tag: "div", label: "", cls: "" }), null);
  assert.equal(keySelector({ tag: "img onerror=", label: "", cls: "a" }), null);
});

test("the focus goes back only to a view that replaced a focused one, at once", () => {
  const now = 100_000;
  const note = { key: { tag: "div", label: "", cls: "lrw-plot" }, at: null };
  assert.equal(shouldCarry(note, now, true, true), true, "old view removed before its cleanup");
  assert.equal(shouldCarry({ ...note, at: now - 10 }, now, true, true), true, "cleanup just ran");
  assert.equal(shouldCarry({ ...note, at: now - CARRY_MS - 1 }, now, true, true), false, "closed long ago");
  assert.equal(shouldCarry(note, now, false, true), false, "the old view is still on the page (a second view)");
  assert.equal(shouldCarry(note, now, true, false), false, "the user focused something else");
  assert.equal(shouldCarry(null, now, true, true), false);
});

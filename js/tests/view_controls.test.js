import assert from "node:assert/strict";
import { test } from "node:test";
import { applyState, pickerOptions, pickerValue, readouts, stopEnabled } from "../view/controls.js";
import { isPressed, legendEntries } from "../view/legend.js";

const SUGG = [
  { name: "valley", lr: 3.2e-4, index: 10, reason: "longest descent", default: true },
  { name: "steep", lr: 1.1e-4, index: 4, reason: "steepest", default: false },
  { name: "slide", lr: null, index: null, reason: "too few points", default: false },
];

test("Stop is live only while a run goes and its kernel answers", () => {
  assert.equal(stopEnabled("running", false), true);
  assert.equal(stopEnabled("running", true), false, "a dead kernel cannot stop anything");
  for (const s of ["idle", "done", "stopped", "diverged", "error"]) assert.equal(stopEnabled(s, false), false);
});

test("Apply needs a selection and says what it will apply", () => {
  assert.deepEqual(applyState(null), { enabled: false, title: "Select a learning rate on the plot first" });
  assert.deepEqual(applyState(0.001), { enabled: true, title: "Apply lr=1e-3 to the optimizer" });
});

test("the readouts show the selection, the applied lr, or a queued apply", () => {
  assert.deepEqual(readouts(null, null, false), { selected: "Nothing selected", applied: null });
  assert.deepEqual(readouts(0.002, null, true), { selected: "Selected 2e-3", applied: "Apply queued" });
  assert.deepEqual(readouts(0.002, 0.001, true), { selected: "Selected 2e-3", applied: "Applied 1e-3" });
});

test("the picker lists every rule, marks the default, and disables rules without an lr", () => {
  const opts = pickerOptions(SUGG);
  assert.deepEqual(opts[0], { value: "", text: "Choose\u2026", disabled: false });
  assert.deepEqual(opts[1], { value: "valley", text: "valley (default): 3.2e-4", disabled: false });
  assert.deepEqual(opts[3], { value: "slide", text: "slide: none", disabled: true });
  assert.deepEqual(pickerOptions([]), [{ value: "", text: "none yet", disabled: false }]);
});

test("the picker shows the rule whose lr is the selection, else its placeholder", () => {
  assert.equal(pickerValue(SUGG, 1.1e-4), "steep");
  assert.equal(pickerValue(SUGG, 1.2e-4), "");
  assert.equal(pickerValue(SUGG, null), "", "a rule without an lr never matches no selection");
});

test("legend entries take the palette in order (cycling) and say why each rule chose its lr", () => {
  const e = legendEntries(SUGG, ["#a", "#b"]);
  assert.deepEqual(
    e.map((x) => x.color),
    ["#a", "#b", "#a"],
  );
  assert.equal(e[0].isDefault, true);
  assert.equal(e[0].title, "valley: 3.2e-4 \u2014 longest descent");
  assert.equal(e[2].enabled, false);
  assert.equal(e[2].lrText, "\u2014");
  assert.equal(e[2].title, "slide: no suggestion \u2014 too few points");
  assert.equal(isPressed(e[1].dataLr, 1.1e-4), true, "data-lr round-trips the exact lr");
  assert.equal(isPressed(e[2].dataLr, 0), false);
});

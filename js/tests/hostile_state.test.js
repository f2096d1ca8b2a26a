// A saved notebook's widget state is hostile: whatever its `suggestions` trait holds (null, nulls inside,
// fields of the wrong type, a huge list), the view's parts get a clean list and never throw.
import assert from "node:assert/strict";
import { test } from "node:test";
import { placeMarkers } from "../layers/markers.js";
import { createScale } from "../scale.js";
import { createViewState } from "../state.js";
import { pickerOptions, pickerValue } from "../view/controls.js";
import { keyFallback } from "../view/keys.js";
import { legendEntries } from "../view/legend.js";
import { asSuggestions, createPort } from "../view/model_port.js";
import { markerTip } from "../view/tooltip.js";

const GOOD = { name: "valley", lr: 1e-3, index: 4, reason: "longest descent", default: true };
const HOSTILE = [
  null,
  [null],
  [null, GOOD],
  [1, "x", true, [], [GOOD]],
  [{}, { name: null }, { name: 5, lr: 1e-3 }],
  [{ name: "a", lr: "1e-3", index: "4", reason: { x: 1 }, default: "yes" }],
  [{ name: "b", lr: Number.NaN, index: -1, reason: null, default: null }],
  [{ name: "c", lr: 1e308, index: 1e9, reason: 7, default: 1 }],
  [{ name: "<img src=x onerror=alert(1)>", lr: -1, index: 2.5 }],
  Array.from({ length: 10000 }, (_, i) => ({ name: `r${i}`, lr: 1e-3, index: 0, reason: "", default: false })),
  { 0: GOOD, length: 1 },
  "valley",
  42,
];

function model(suggestions) {
  const none = () => undefined; // the port only reads the trait here
  return { get: (name) => (name === "suggestions" ? suggestions : undefined), on: none, off: none, send: none };
}

test("every suggestion the view sees is a clean object, whatever the trait holds", () => {
  for (const v of HOSTILE) {
    const list = createPort(model(v), () => false).suggestions();
    assert.ok(Array.isArray(list), JSON.stringify(v)?.slice(0, 80));
    assert.ok(list.length <= 64, "a bounded list");
    for (const s of list) {
      assert.equal(typeof s.name, "string");
      assert.ok(s.lr === null || (Number.isFinite(s.lr) && s.lr > 0), `lr ${s.lr}`);
      assert.ok(s.index === null || (Number.isInteger(s.index) && s.index >= 0), `index ${s.index}`);
      assert.equal(typeof s.reason, "string");
      assert.equal(typeof s.default, "boolean");
    }
  }
  assert.deepEqual(asSuggestions([null, GOOD]), [GOOD], "a good entry survives beside a bad one");
  assert.deepEqual(asSuggestions([{ name: "a", lr: "1e-3", index: "4", reason: 3, default: "yes" }]), [
    { name: "a", lr: null, index: null, reason: "", default: false },
  ]);
});

test("legend, picker, keyboard, markers and tooltip take any of them without throwing", () => {
  const st = createViewState();
  st.n = 8;
  for (let i = 0; i < 8; i++) {
    st.lr[i] = 10 ** (-6 + i);
    st.logLr[i] = -6 + i;
    st.loss[i] = st.smoothed[i] = 2 - i / 10;
  }
  st.lrMin = 1e-6;
  st.lrMax = 10;
  const plot = { left: 50, top: 20, right: 550, bottom: 300 };
  const g = {
    plot,
    log: true,
    xScale: createScale([1e-6, 10], [50, 550], true),
    yScale: createScale([1, 2], [300, 20]),
  };
  for (const v of HOSTILE) {
    const list = asSuggestions(v);
    legendEntries(list, ["#000"]);
    pickerOptions(list);
    pickerValue(list, 1e-3);
    keyFallback(list, 8, () => true);
    placeMarkers(g, st, list);
    for (const s of list) markerTip(s);
  }
});

test("a hostile view_key never shares a memo: not a string, empty, or huge", () => {
  const port = (key) => {
    const none = () => undefined;
    return createPort(
      { get: (n) => (n === "view_key" ? key : undefined), on: none, off: none, send: none },
      () => false,
    );
  };
  for (const key of [null, 42, {}, ["k"], "", undefined]) {
    const a = port(key).memo();
    a.focus = "mine";
    assert.equal(port(key).memo().focus, undefined, `key ${JSON.stringify(key)} shared a memo`);
  }
  const big = "k".repeat(1_000_000);
  port(big).memo().keyRange = { anchor: 1, focus: 2 };
  assert.deepEqual(port(big).memo().keyRange, { anchor: 1, focus: 2 }, "one widget's views share theirs");
  for (let i = 0; i < 1000; i++) port(`w${i}`).memo(); // a long session: the memo table stays bounded
  assert.equal(port(big).memo().keyRange, undefined, "the oldest memo went first");
});

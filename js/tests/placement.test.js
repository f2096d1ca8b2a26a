import assert from "node:assert/strict";
import { test } from "node:test";
import { newViewId, placementOf, SIDEBAR_SELECTOR, shouldFold } from "../placement.js";

// A minimal element: a chain of {classes, id} ancestors (innermost first) and a visibility flag.
function fakeEl(ancestors, { connected = true, visible = true } = {}) {
  const matches = (node, sel) =>
    sel
      .split(",")
      .map((s) => s.trim())
      .some((s) => (s.startsWith("#") ? node.id === s.slice(1) : node.classes.includes(s.slice(1))));
  return {
    isConnected: connected,
    closest(sel) {
      return ancestors.find((a) => matches(a, sel)) || null;
    },
    getClientRects() {
      return visible ? [{ width: 300, height: 400 }] : [];
    },
  };
}

test("a view inside sidecar's output area is in the sidebar", () => {
  const el = fakeEl([{ classes: ["jp-OutputArea"] }, { classes: ["jupyterlab-sidecar", "jp-LinkedOutputView"] }]);
  assert.equal(placementOf(el), "sidebar");
});

test("a view in JupyterLab's right stack is in the sidebar, hidden when the panel is collapsed", () => {
  const anc = [{ classes: ["lm-Widget"] }, { classes: ["lm-StackedPanel"], id: "jp-right-stack" }];
  assert.equal(placementOf(fakeEl(anc)), "sidebar");
  assert.equal(placementOf(fakeEl(anc, { visible: false })), "hidden");
});

test("a notebook output (or a linked output view in the main area) is inline", () => {
  assert.equal(placementOf(fakeEl([{ classes: ["jp-OutputArea-output"] }, { classes: ["jp-Notebook"] }])), "inline");
  assert.equal(placementOf(fakeEl([{ classes: ["jp-LinkedOutputView"] }])), "inline");
  // an inline view in a background tab has no boxes but is still inline
  assert.equal(placementOf(fakeEl([{ classes: ["jp-Notebook"] }], { visible: false })), "inline");
});

test("a view not yet in the page has no placement", () => {
  assert.equal(placementOf(fakeEl([], { connected: false })), null);
  assert.equal(placementOf(null), null);
  assert.ok(SIDEBAR_SELECTOR.includes(".jupyterlab-sidecar"));
});

test("only an inline view of a widget sent to a visible sidebar folds, until expanded", () => {
  const base = { where: "inline", fallback: true, sidebarViews: 1, expanded: false };
  assert.equal(shouldFold(base), true);
  assert.equal(shouldFold({ ...base, expanded: true }), false);
  assert.equal(shouldFold({ ...base, sidebarViews: 0 }), false); // Notebook 7, or the sidebar closed
  assert.equal(shouldFold({ ...base, fallback: false }), false); // plain display(widget) twice
  assert.equal(shouldFold({ ...base, where: "sidebar" }), false);
  assert.equal(shouldFold({ ...base, where: null }), false); // not placed yet: show it all
});

test("view ids are 12 base-36 characters and differ", () => {
  const a = newViewId();
  const b = newViewId();
  assert.match(a, /^[0-9a-z]{12}$/);
  assert.notEqual(a, b);
  assert.equal(
    newViewId(() => 0),
    "000000000000",
  );
});

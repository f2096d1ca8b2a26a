import assert from "node:assert/strict";
import { test } from "node:test";
import { luminance, parseColor, pickTheme, withAlpha } from "../theme.js";

test("parseColor reads hex and rgb forms", () => {
  assert.deepEqual(parseColor("#fff"), [255, 255, 255, 1]);
  assert.deepEqual(parseColor("#1976d2"), [25, 118, 210, 1]);
  assert.deepEqual(parseColor("rgba(0, 0, 0, 0.54)"), [0, 0, 0, 0.54]);
  assert.deepEqual(parseColor("rgb(10 20 30 / 50%)"), [10, 20, 30, 0.5]);
  assert.equal(parseColor("var(--x)"), null);
  assert.equal(withAlpha("#ff0000", 0.3), "rgba(255,0,0,0.3)");
});

test("luminance orders dark below light", () => {
  assert.ok(luminance(parseColor("#111111")) < 0.05);
  assert.ok(luminance(parseColor("#ffffff")) > 0.95);
});

test("JupyterLab variables win and a dark layout color makes a dark theme", () => {
  const vars = {
    "--jp-layout-color0": " #111111",
    "--jp-ui-font-color1": "rgba(255,255,255,0.87)",
    "--jp-brand-color1": "#64b5f6",
  };
  const t = pickTheme((n) => vars[n] || "");
  assert.equal(t.dark, true);
  assert.equal(t.bg, "#111111");
  assert.equal(t.fg, "rgba(255,255,255,0.87)");
  assert.equal(t.accent, "#64b5f6");
});

test("VS Code variables are used when JupyterLab's are absent", () => {
  const vars = {
    "--vscode-editor-background": "#ffffff",
    "--vscode-editor-foreground": "#333333",
    "--vscode-charts-blue": "#0066bf",
  };
  const t = pickTheme((n) => vars[n] || "");
  assert.equal(t.dark, false);
  assert.equal(t.fg, "#333333");
  assert.equal(t.accent, "#0066bf");
  assert.equal(t.rules[0], "#0066bf");
});

test("without host variables the fallback follows prefers-color-scheme", () => {
  const light = pickTheme(() => "", false);
  const dark = pickTheme(() => "", true);
  assert.equal(light.dark, false);
  assert.equal(dark.dark, true);
  assert.notEqual(light.fg, dark.fg);
  assert.ok(luminance(parseColor(dark.fg)) > luminance(parseColor(dark.bg)));
  assert.ok(luminance(parseColor(light.fg)) < luminance(parseColor(light.bg)));
  assert.ok(light.fontSize >= 11);
});

test("the fallback palettes are lrwidget/rules.json's, the grid their text color at gridAlpha", async () => {
  const { readFileSync } = await import("node:fs");
  const rules = JSON.parse(readFileSync(new URL("../../lrwidget/rules.json", import.meta.url), "utf-8"));
  for (const [dark, name] of [
    [false, "light"],
    [true, "dark"],
  ]) {
    const t = pickTheme(() => "", dark);
    const p = rules.palette[name];
    for (const key of ["fg", "bg", "accent", "selected", "applied", "error", "border"])
      assert.equal(t[key], p[key], key);
    assert.deepEqual(t.rules, p.rules);
    assert.equal(t.rawAlpha, p.rawAlpha);
    assert.equal(t.grid, withAlpha(p.fg, p.gridAlpha));
  }
});

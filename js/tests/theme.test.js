import assert from "node:assert/strict";
import { test } from "node:test";
import { detectHost, HOST_VARS, luminance, parseColor, pickTheme, withAlpha } from "../theme.js";

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

test("the fallback palettes are lrwidget/pure/rules.json's, the grid their text color at gridAlpha", async () => {
  const { readFileSync } = await import("node:fs");
  const rules = JSON.parse(readFileSync(new URL("../../lrwidget/pure/rules.json", import.meta.url), "utf-8"));
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

// What a VS Code notebook webview shows a widget: ipywidgets' stylesheet (in VS Code's widget-manager
// bundle) defines JupyterLab's light --jp-* at :root whatever the editor's theme, and VS Code sets its
// own --vscode-* on <html> (Dark Modern here).
const JP_LIGHT_DEFAULTS = {
  "--jp-layout-color0": "white",
  "--jp-layout-color1": "white",
  "--jp-layout-color2": "#eeeeee",
  "--jp-ui-font-color0": "rgba(0, 0, 0, 1)",
  "--jp-ui-font-color1": "rgba(0, 0, 0, 0.8)",
  "--jp-ui-font-color2": "rgba(0, 0, 0, 0.5)",
  "--jp-ui-font-color3": "rgba(0, 0, 0, 0.3)",
  "--jp-border-color1": "#bdbdbd",
  "--jp-border-color2": "#e0e0e0",
  "--jp-brand-color1": "#2196f3",
  "--jp-warn-color0": "#ef6c00",
  "--jp-success-color1": "#43a047",
  "--jp-error-color1": "#e53935",
  "--jp-ui-font-family": "'Helvetica Neue', Helvetica, Arial, sans-serif",
};
const VSCODE_DARK = {
  "--vscode-editor-background": "#1f1f1f",
  "--vscode-editor-foreground": "#cccccc",
  "--vscode-descriptionForeground": "#9d9d9d",
  "--vscode-font-family": "-apple-system, BlinkMacSystemFont, 'Segoe WPC', 'Segoe UI', sans-serif",
  "--vscode-charts-blue": "#3794ff",
  "--vscode-charts-orange": "#d18616",
  "--vscode-charts-green": "#89d185",
  "--vscode-errorForeground": "#f85149",
};
const getter = (vars) => (n) => vars[n] || "";

test("detectHost: VS Code by its body class or its variables, marimo by its variables", () => {
  assert.equal(detectHost(getter({}), "vscode-dark"), "vscode");
  assert.equal(detectHost(getter({}), "monaco vscode-light foo"), "vscode");
  assert.equal(detectHost(getter({}), "vscode-high-contrast-light"), "vscode");
  assert.equal(detectHost(getter({ ...JP_LIGHT_DEFAULTS, ...VSCODE_DARK }), ""), "vscode");
  assert.equal(detectHost(getter({ "--marimo-code-editor-font-size": "0.875rem" }), "dark dark-theme"), "marimo");
  assert.equal(detectHost(getter(JP_LIGHT_DEFAULTS), "jp-mod-dark"), "jupyter");
  assert.equal(detectHost(getter({}), "not-vscode-dark"), "jupyter");
});

test("inside VS Code --vscode-* wins over ipywidgets' light --jp-* defaults: a dark editor gets a dark plot", () => {
  const vars = { ...JP_LIGHT_DEFAULTS, ...VSCODE_DARK };
  const t = pickTheme(getter(vars), false, detectHost(getter(vars), "vscode-dark"));
  assert.equal(t.host, "vscode");
  assert.equal(t.dark, true);
  assert.equal(t.bg, "#1f1f1f");
  assert.equal(t.fg, "#cccccc");
  assert.equal(t.fgMuted, "#9d9d9d");
  assert.equal(t.font, VSCODE_DARK["--vscode-font-family"]);
  assert.equal(t.accent, "#3794ff");
  assert.equal(t.selected, "#d18616");
  assert.equal(t.applied, "#89d185");
  assert.equal(t.error, "#f85149");
  // what VS Code does not set comes from the dark palette, never from the light --jp-* defaults
  const jpValues = new Set(Object.values(JP_LIGHT_DEFAULTS));
  for (const [k, val] of Object.entries(t)) {
    if (typeof val === "string") assert.ok(!jpValues.has(val), `${k} = ${val} is a --jp-* default`);
  }
  assert.equal(t.grid, withAlpha("#cccccc", 0.1));
  assert.equal(t.fgFaint, "#6e7681");
});

test("in JupyterLab --jp-* still wins over --vscode-* (the order there is unchanged)", () => {
  const vars = { ...JP_LIGHT_DEFAULTS, ...VSCODE_DARK };
  const t = pickTheme(getter(vars), false, "jupyter");
  assert.equal(t.host, "jupyter");
  assert.equal(t.dark, false);
  assert.equal(t.bg, "white");
  assert.equal(t.fg, "rgba(0, 0, 0, 0.8)");
  assert.equal(t.font, JP_LIGHT_DEFAULTS["--jp-ui-font-family"]);
  assert.equal(t.grid, withAlpha("#e0e0e0", 0.6));
  // and without a host argument, pickTheme is JupyterLab's as before
  assert.deepEqual(pickTheme(getter(vars), false), t);
});

test("marimo: its --background decides dark or light, its text, border and font are used", () => {
  const dark = {
    "--marimo-code-editor-font-size": "0.875rem",
    "--background": "#181c1a",
    "--foreground": "#eceeed",
    "--muted-foreground": "#aab2af",
    "--border": "#3b403e",
    "--text-font": '"PT Sans",sans-serif',
  };
  const t = pickTheme(getter(dark), false, detectHost(getter(dark), "dark dark-theme"));
  assert.equal(t.host, "marimo");
  assert.equal(t.dark, true);
  assert.equal(t.bg, "#181c1a");
  assert.equal(t.fg, "#eceeed");
  assert.equal(t.fgMuted, "#aab2af");
  assert.equal(t.border, "#3b403e");
  assert.equal(t.font, '"PT Sans",sans-serif');
  assert.equal(t.accent, "#6ea8fe"); // the dark palette's
  const light = { ...dark, "--background": "#fff", "--foreground": "#0f172a" };
  assert.equal(pickTheme(getter(light), true, "marimo").dark, false);
});

test("widget.css picks the same host's variables for the DOM as pickTheme does for the plot", async () => {
  const { readFileSync } = await import("node:fs");
  const css = readFileSync(new URL("../widget.css", import.meta.url), "utf-8");
  const block = (selector) => {
    const i = css.indexOf(`${selector} {`);
    assert.ok(i >= 0, `widget.css has no ${selector} block`);
    return css.slice(i, css.indexOf("\n}", i));
  };
  // the first variable each --lrw-* property reads, per host block
  const firstVar = (body, prop) => {
    const m = new RegExp(`${prop}:\\s*var\\(\\s*(--[\\w-]+)`).exec(body);
    return m ? m[1] : null;
  };
  const hosts = {
    jupyter: block(".lrw-root"),
    vscode: block('.lrw-root[data-lrw-host="vscode"]'),
    marimo: block('.lrw-root[data-lrw-host="marimo"]'),
  };
  const roles = { "--lrw-fg": "fg", "--lrw-fg-muted": "fgMuted", "--lrw-bg": "bg", "--lrw-font": "font" };
  for (const [host, body] of Object.entries(hosts)) {
    for (const [prop, role] of Object.entries(roles)) {
      assert.equal(firstVar(body, prop), HOST_VARS[host][0][role][0], `${host} ${prop}`);
    }
  }
  assert.ok(!/--jp-/.test(hosts.vscode), "the VS Code block reads a --jp-* variable");
  assert.ok(!/--jp-|--vscode-/.test(hosts.marimo), "the marimo block reads another host's variable");
});

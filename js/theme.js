// Colors and fonts from the host's CSS variables: JupyterLab (--jp-*), VS Code (--vscode-*), marimo,
// else light/dark fallbacks. detectHost and pickTheme are pure (they take a variable getter);
// readTheme/watchTheme touch the DOM.
import rules from "../lrwidget/pure/rules.json" with { type: "json" };

/** [r, g, b, a] (0-255, a 0-1) from "#rgb", "#rgba", "#rrggbb", "#rrggbbaa", "rgb()/rgba()", or null. */
export function parseColor(str) {
  if (typeof str !== "string") return null;
  const s = str.trim().toLowerCase();
  let m = /^#([0-9a-f]{3,8})$/.exec(s);
  if (m) {
    const h = m[1];
    if (h.length === 3 || h.length === 4) {
      const v = h.split("").map((c) => parseInt(c + c, 16));
      return [v[0], v[1], v[2], h.length === 4 ? v[3] / 255 : 1];
    }
    if (h.length === 6 || h.length === 8) {
      const v = [0, 2, 4, 6].map((i) => parseInt(h.slice(i, i + 2), 16));
      return [v[0], v[1], v[2], h.length === 8 ? v[3] / 255 : 1];
    }
    return null;
  }
  m = /^rgba?\(([^)]+)\)$/.exec(s);
  if (m) {
    const parts = m[1].split(/[\s,/]+/).filter(Boolean);
    if (parts.length < 3) return null;
    const v = parts.slice(0, 3).map((p) => (p.endsWith("%") ? (parseFloat(p) * 255) / 100 : parseFloat(p)));
    const alpha = parts.length > 3 ? parts[3] : "1";
    const a = alpha.endsWith("%") ? parseFloat(alpha) / 100 : parseFloat(alpha);
    if (v.some((x) => !Number.isFinite(x)) || !Number.isFinite(a)) return null;
    return [v[0], v[1], v[2], a];
  }
  if (s === "white") return [255, 255, 255, 1];
  if (s === "black") return [0, 0, 0, 1];
  return null;
}

/**
 * Relative luminance (0 dark .. 1 light) of a parsed color.
 * @param {number[]} rgb [r, g, b, ...] as parseColor gives it
 */
export function luminance([r, g, b]) {
  const f = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}

/** "rgba(r,g,b,alpha)" from any parseable color (used for the faint raw curve and fills). */
export function withAlpha(color, alpha) {
  const c = parseColor(color);
  if (!c) return color;
  return `rgba(${Math.round(c[0])},${Math.round(c[1])},${Math.round(c[2])},${alpha})`;
}

// The fallback palettes live in lrwidget/pure/rules.json, which the Python report and bqplot view read too.
const LIGHT = rules.palette.light;
const DARK = rules.palette.dark;

// Each host's CSS variables per role of the theme, tried in order. widget.css says the same for the DOM
// (its .lrw-root[data-lrw-host=...] blocks); js/tests/theme.test.js holds both to it.
const JUPYTER = {
  bg: ["--jp-layout-color0"],
  fg: ["--jp-ui-font-color1"],
  fgStrong: ["--jp-ui-font-color0"],
  fgMuted: ["--jp-ui-font-color2"],
  fgFaint: ["--jp-ui-font-color3"],
  panel: ["--jp-layout-color1"],
  panel2: ["--jp-layout-color2"],
  border: ["--jp-border-color1"],
  grid: ["--jp-border-color2"],
  accent: ["--jp-brand-color1"],
  selected: ["--jp-warn-color0"],
  applied: ["--jp-success-color1"],
  error: ["--jp-error-color1"],
  font: ["--jp-ui-font-family"],
};
const VSCODE = {
  bg: ["--vscode-editor-background", "--vscode-notebook-editorBackground"],
  fg: ["--vscode-editor-foreground", "--vscode-foreground"],
  fgStrong: ["--vscode-editor-foreground"],
  fgMuted: ["--vscode-descriptionForeground"],
  fgFaint: ["--vscode-disabledForeground"],
  panel: ["--vscode-editorWidget-background"],
  panel2: ["--vscode-input-background"],
  border: ["--vscode-panel-border", "--vscode-editorWidget-border"],
  accent: ["--vscode-charts-blue", "--vscode-focusBorder"],
  selected: ["--vscode-charts-orange"],
  applied: ["--vscode-charts-green"],
  error: ["--vscode-errorForeground", "--vscode-charts-red"],
  font: ["--vscode-font-family"],
};
// marimo's own theme variables (shadcn names); what it does not name comes from the palette
const MARIMO = {
  bg: ["--background"],
  fg: ["--foreground"],
  fgStrong: ["--foreground"],
  fgMuted: ["--muted-foreground"],
  border: ["--border"],
  font: ["--text-font"],
};
const VSCODE_CHARTS = ["blue", "purple", "orange", "green", "red", "yellow"].map((c) => `--vscode-charts-${c}`);

/**
 * Whose theme variables lead, per host. Inside VS Code and marimo only their own count: VS Code's
 * ipywidgets stylesheet defines light --jp-* defaults at :root whatever the theme, so a --jp-* value
 * there says nothing about the editor. JupyterLab (and Notebook 7, Voilà, anything else) reads --jp-*
 * first, then --vscode-*.
 */
export const HOST_VARS = {
  jupyter: [JUPYTER, VSCODE],
  vscode: [VSCODE],
  marimo: [MARIMO],
};

/**
 * The host a view is in: "vscode" (a VS Code notebook webview: its body class vscode-light /
 * vscode-dark / vscode-high-contrast(-light), or its --vscode-* variables), "marimo" (its
 * --marimo-* variables reach into the view's shadow root), else "jupyter".
 */
export function detectHost(getVar, bodyClass = "") {
  const has = (name) => Boolean((getVar(name) || "").trim());
  if (/(^|\s)vscode-(light|dark|high-contrast)/.test(bodyClass || "")) return "vscode";
  if (has("--vscode-editor-background") || has("--vscode-editor-foreground") || has("--vscode-font-family"))
    return "vscode";
  if (has("--marimo-code-editor-font-size")) return "marimo";
  return "jupyter";
}

/**
 * The plot's colors. `getVar(name)` returns a CSS custom property's value ("" when unset);
 * `prefersDark` decides when no host background is found; `host` (detectHost) says whose variables
 * count, in which order. Roles the host does not set come from the light or dark palette.
 */
export function pickTheme(getVar, prefersDark = false, host = "jupyter") {
  const tables = HOST_VARS[host] || HOST_VARS.jupyter;
  const first = (names) => {
    for (const n of names) {
      const x = (getVar(n) || "").trim();
      if (x) return x;
    }
    return "";
  };
  const v = (role) => first(tables.flatMap((t) => t[role] || []));
  const bgVar = v("bg");
  const bgParsed = parseColor(bgVar);
  const dark = bgParsed ? luminance(bgParsed) < 0.4 : prefersDark;
  const base = dark ? DARK : LIGHT;
  const fg = v("fg") || base.fg;
  const grid = v("grid");
  const charts = tables.includes(VSCODE) ? VSCODE_CHARTS.map((n) => first([n])) : [];
  return {
    dark,
    host: HOST_VARS[host] ? host : "jupyter",
    fg,
    fgStrong: v("fgStrong") || base.fg,
    fgMuted: v("fgMuted") || base.fgMuted,
    fgFaint: v("fgFaint") || base.fgFaint,
    bg: bgVar || base.bg,
    panel: v("panel") || base.panel,
    panel2: v("panel2") || base.panel,
    border: v("border") || base.border,
    // Grid: the host's faint border color when it has one, else a faint tint of the text color.
    grid: grid ? withAlpha(grid, dark ? 0.5 : 0.6) : withAlpha(fg, base.gridAlpha),
    accent: v("accent") || base.accent,
    selected: v("selected") || base.selected,
    applied: v("applied") || base.applied,
    error: v("error") || base.error,
    rules: base.rules.map((c, i) => charts[i] || c),
    runs: base.runs, // the compare chart's run colours (Okabe-Ito): fixed, a host's chart colours are not colour-blind safe
    // The raw loss curve: the accent at this alpha (brighter on dark backgrounds).
    rawAlpha: base.rawAlpha,
    font: v("font") || "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
    fontSize: 11,
  };
}

/** The theme as seen from `el` (CSS variables inherit, so the host's values are visible there). */
export function readTheme(el) {
  const style = getComputedStyle(el);
  const getVar = (name) => style.getPropertyValue(name);
  const prefersDark = typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
  const bodyClass = typeof document !== "undefined" && document.body ? document.body.className : "";
  return pickTheme(getVar, prefersDark, detectHost(getVar, bodyClass));
}

/**
 * Call `onChange` when the host theme may have changed: JupyterLab flips data-jp-theme-* attributes on
 * body, VS Code changes body classes / the html style, marimo body's class and data-theme; also the OS
 * color scheme. Returns a disposer.
 */
export function watchTheme(onChange) {
  const disposers = [];
  if (typeof MutationObserver === "function" && typeof document !== "undefined") {
    const mo = new MutationObserver(() => onChange());
    const opts = {
      attributes: true,
      attributeFilter: [
        "class",
        "style",
        "data-jp-theme-light",
        "data-jp-theme-name",
        "data-vscode-theme-kind",
        "data-theme",
      ],
    };
    if (document.body) mo.observe(document.body, opts);
    mo.observe(document.documentElement, opts);
    disposers.push(() => mo.disconnect());
  }
  if (typeof matchMedia === "function") {
    const mq = matchMedia("(prefers-color-scheme: dark)");
    const h = () => onChange();
    if (mq.addEventListener) {
      mq.addEventListener("change", h);
      disposers.push(() => mq.removeEventListener("change", h));
    }
  }
  return () => {
    for (const d of disposers) d();
  };
}

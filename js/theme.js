// Colors and fonts from the host's CSS variables: JupyterLab (--jp-*), VS Code (--vscode-*), else
// light/dark fallbacks. pickTheme is pure (takes a variable getter); readTheme/watchTheme touch the DOM.
import rules from "../lrwidget/rules.json" with { type: "json" };

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
    let a = parts.length > 3 ? parts[3] : "1";
    a = a.endsWith("%") ? parseFloat(a) / 100 : parseFloat(a);
    if (v.some((x) => !Number.isFinite(x)) || !Number.isFinite(a)) return null;
    return [v[0], v[1], v[2], a];
  }
  if (s === "white") return [255, 255, 255, 1];
  if (s === "black") return [0, 0, 0, 1];
  return null;
}

/** Relative luminance (0 dark .. 1 light) of a parsed color. */
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

// The fallback palettes live in lrwidget/rules.json, which the Python report and bqplot view read too.
const LIGHT = rules.palette.light;
const DARK = rules.palette.dark;

/**
 * The plot's colors. `getVar(name)` returns a CSS custom property's value ("" when unset);
 * `prefersDark` decides when no host background is found.
 */
export function pickTheme(getVar, prefersDark = false) {
  const v = (...names) => {
    for (const n of names) {
      const x = (getVar(n) || "").trim();
      if (x) return x;
    }
    return "";
  };
  const bgVar = v("--jp-layout-color0", "--vscode-editor-background", "--vscode-notebook-editorBackground");
  const bgParsed = parseColor(bgVar);
  const dark = bgParsed ? luminance(bgParsed) < 0.4 : prefersDark;
  const base = dark ? DARK : LIGHT;
  const ruleVars = [
    v("--vscode-charts-blue"),
    v("--vscode-charts-purple"),
    v("--vscode-charts-orange"),
    v("--vscode-charts-green"),
    v("--vscode-charts-red"),
    v("--vscode-charts-yellow"),
  ];
  return {
    dark,
    fg: v("--jp-ui-font-color1", "--vscode-editor-foreground", "--vscode-foreground") || base.fg,
    fgStrong: v("--jp-ui-font-color0", "--vscode-editor-foreground") || base.fg,
    fgMuted: v("--jp-ui-font-color2", "--vscode-descriptionForeground") || base.fgMuted,
    fgFaint: v("--jp-ui-font-color3", "--vscode-disabledForeground") || base.fgFaint,
    bg: bgVar || base.bg,
    panel: v("--jp-layout-color1", "--vscode-editorWidget-background") || base.panel,
    panel2: v("--jp-layout-color2", "--vscode-input-background") || base.panel,
    border: v("--jp-border-color1", "--vscode-panel-border", "--vscode-editorWidget-border") || base.border,
    // Grid: the host's faint border color when it has one, else a faint tint of the text color.
    grid: v("--jp-border-color2")
      ? withAlpha(v("--jp-border-color2"), dark ? 0.5 : 0.6)
      : withAlpha(v("--jp-ui-font-color1", "--vscode-editor-foreground") || base.fg, base.gridAlpha),
    accent: v("--jp-brand-color1", "--vscode-charts-blue", "--vscode-focusBorder") || base.accent,
    selected: v("--jp-warn-color0", "--vscode-charts-orange") || base.selected,
    applied: v("--jp-success-color1", "--vscode-charts-green") || base.applied,
    error: v("--jp-error-color1", "--vscode-errorForeground", "--vscode-charts-red") || base.error,
    rules: base.rules.map((c, i) => ruleVars[i] || c),
    // The raw loss curve: the accent at this alpha (brighter on dark backgrounds).
    rawAlpha: base.rawAlpha,
    font:
      v("--jp-ui-font-family", "--vscode-font-family") ||
      "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
    fontSize: 11,
  };
}

/** The theme as seen from `el` (CSS variables inherit, so the host's values are visible there). */
export function readTheme(el) {
  const style = getComputedStyle(el);
  const prefersDark = typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
  return pickTheme((name) => style.getPropertyValue(name), prefersDark);
}

/**
 * Call `onChange` when the host theme may have changed: JupyterLab flips data-jp-theme-* attributes on
 * body, VS Code changes body classes / the html style; also the OS color scheme. Returns a disposer.
 */
export function watchTheme(onChange) {
  const disposers = [];
  if (typeof MutationObserver === "function" && typeof document !== "undefined") {
    const mo = new MutationObserver(() => onChange());
    const opts = {
      attributes: true,
      attributeFilter: ["class", "style", "data-jp-theme-light", "data-jp-theme-name", "data-vscode-theme-kind"],
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

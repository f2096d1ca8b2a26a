// Overlay layers: the applied (dashed) and selected (solid) learning rates with their labels above the
// plot, the hover crosshair at the nearest reading, and the centred message of an empty plot.
import { formatLR } from "../format.js";
import { withAlpha } from "../theme.js";
import { font } from "./geometry.js";

/**
 * Left edges for labels of widths `ws` centred at `xs`, pushed apart so they do not overlap and kept
 * within [lo, hi] (pure; labels arrive in any order).
 */
export function spreadLabels(xs, ws, lo, hi, gap = 4) {
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const left = xs.map((x, i) => x - ws[i] / 2);
  for (let pass = 0; pass < 4; pass++) {
    for (let k = 1; k < order.length; k++) {
      const a = order[k - 1];
      const b = order[k];
      const overlap = left[a] + ws[a] + gap - left[b];
      if (overlap > 0) {
        left[a] -= overlap / 2;
        left[b] += overlap / 2;
      }
    }
    for (const i of order) left[i] = Math.max(lo, Math.min(hi - ws[i], left[i]));
  }
  return left;
}

function pillWidth(ctx, theme, text) {
  ctx.font = font(theme, 11, "600");
  return ctx.measureText(text).width + 10;
}

function drawPill(ctx, theme, text, bx, y, w, color) {
  ctx.font = font(theme, 11, "600");
  ctx.fillStyle = color;
  ctx.beginPath();
  if (ctx.roundRect) ctx.roundRect(bx, y - 8, w, 16, 4);
  else ctx.rect(bx, y - 8, w, 16);
  ctx.fill();
  ctx.fillStyle = theme.bg;
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  ctx.fillText(text, bx + 5, y + 0.5);
}

/** The applied and selected lrs that have a line in this frame, in drawing order: [{lr, color, dash, text}]. */
function rateLines(g, f, theme) {
  const wanted = [
    { lr: f.appliedLr, color: theme.applied, dash: [5, 4], text: () => `applied ${formatLR(f.appliedLr)}` },
    { lr: f.selectedLr, color: theme.selected, dash: [], text: () => formatLR(f.selectedLr) },
  ];
  const lines = [];
  for (const w of wanted) {
    if (!Number.isFinite(w.lr) || (g.log && !(w.lr > 0))) continue;
    const x = g.xScale.map(w.lr);
    if (!(x >= g.plot.left - 1 && x <= g.plot.right + 1)) continue;
    lines.push({ x, color: w.color, dash: w.dash, text: w.text() });
  }
  return lines;
}

export function drawRateLines(ctx, g, f, theme) {
  const { plot } = g;
  const lines = rateLines(g, f, theme);
  for (const l of lines) {
    ctx.strokeStyle = l.color;
    ctx.lineWidth = 1.75;
    ctx.setLineDash(l.dash);
    ctx.beginPath();
    ctx.moveTo(Math.round(l.x) + 0.5, plot.top);
    ctx.lineTo(Math.round(l.x) + 0.5, plot.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (!lines.length) return;
  const widths = lines.map((l) => pillWidth(ctx, theme, l.text));
  const lo = Math.max(plot.left - 4, g.titleRight);
  const lefts = spreadLabels(
    lines.map((l) => l.x),
    widths,
    lo,
    g.width - 2,
  );
  lines.forEach((l, i) => {
    drawPill(ctx, theme, l.text, lefts[i], plot.top - 10, widths[i], l.color);
  });
}

function dot(ctx, x, y, r) {
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
}

/** Crosshair at the hovered reading, with its raw reading (small) and smoothed loss (large) as dots. */
export function drawHover(ctx, g, f, theme) {
  const { data } = f;
  const hi = f.hoverIndex;
  if (!(Number.isInteger(hi) && hi >= 0 && hi < g.n && Number.isFinite(data.lr[hi]))) return;
  const { plot, yScale, yr } = g;
  const x = g.xScale.map(data.lr[hi]);
  const ys = data.smoothed[hi];
  const yraw = data.loss[hi];
  ctx.strokeStyle = withAlpha(theme.fg, 0.45);
  ctx.lineWidth = 1;
  ctx.setLineDash([3, 3]);
  ctx.beginPath();
  ctx.moveTo(Math.round(x) + 0.5, plot.top);
  ctx.lineTo(Math.round(x) + 0.5, plot.bottom);
  if (Number.isFinite(ys)) {
    const y = Math.round(Math.max(plot.top, Math.min(plot.bottom, yScale.map(ys)))) + 0.5;
    ctx.moveTo(plot.left, y);
    ctx.lineTo(plot.right, y);
  }
  ctx.stroke();
  ctx.setLineDash([]);
  if (Number.isFinite(yraw) && yraw <= yr.hi && yraw >= yr.lo) {
    ctx.fillStyle = withAlpha(theme.accent, 0.6);
    dot(ctx, x, yScale.map(yraw), 2.5);
    ctx.fill();
  }
  if (Number.isFinite(ys) && ys <= yr.hi && ys >= yr.lo) {
    ctx.fillStyle = theme.accent;
    ctx.strokeStyle = theme.bg;
    ctx.lineWidth = 2;
    dot(ctx, x, yScale.map(ys), 4);
    ctx.stroke();
    ctx.fill();
  }
}

/** The message of an empty plot ("Waiting for the first readings…"), centred. */
export function drawMessage(ctx, g, f, theme) {
  if (!f.message) return;
  ctx.fillStyle = theme.fgMuted;
  ctx.font = font(theme, 12);
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText(f.message, (g.plot.left + g.plot.right) / 2, (g.plot.top + g.plot.bottom) / 2);
}

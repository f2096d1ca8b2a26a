// The schedule's preview (issue 19): lr(step) over the whole run, drawn from the points the kernel computed
// with the real torch scheduler (js never re-implements a schedule). x: steps 0..total, linear; y: the lr
// from 0 to the peak, linear. A frame's work is one pass over the points (a few thousand at most).
import { formatLR } from "../format.js";
import { withAlpha } from "../theme.js";
import { font } from "./geometry.js";

/** The chart's rectangle in a canvas of width x height CSS px (room for the labels on the left). */
export function previewLayout(width, height) {
  return { left: 6, top: 14, right: Math.max(16, width - 6), bottom: Math.max(24, height - 4) };
}

/** The largest lr of the preview (0 when there is none). */
export function peakLr(lrs) {
  let m = 0;
  for (let i = 0; i < lrs.length; i++) if (lrs[i] > m) m = lrs[i];
  return m;
}

/**
 * Pixel points of the preview (pure): xs, ys (Float64Array) for `p` = {steps, lrs, totalSteps} in `box`;
 * the y axis runs from 0 (bottom) to the peak lr (top).
 */
export function previewPoints(p, box) {
  const n = Math.min(p.steps.length, p.lrs.length);
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const kx = (box.right - box.left) / Math.max(1, p.totalSteps);
  const top = peakLr(p.lrs);
  const ky = top > 0 ? (box.bottom - box.top) / top : 0;
  for (let i = 0; i < n; i++) {
    xs[i] = box.left + p.steps[i] * kx;
    ys[i] = box.bottom - p.lrs[i] * ky;
  }
  return { xs, ys };
}

function tracePath(ctx, xs, ys) {
  ctx.beginPath();
  for (let i = 0; i < xs.length; i++) {
    if (i === 0) ctx.moveTo(xs[i], ys[i]);
    else ctx.lineTo(xs[i], ys[i]);
  }
}

function drawText(ctx, theme, p, box) {
  ctx.font = font(theme, 10);
  ctx.fillStyle = theme.fgMuted;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(`peak ${formatLR(peakLr(p.lrs))}`, box.left, 1);
  ctx.textAlign = "right";
  ctx.fillText(`${p.totalSteps.toLocaleString("en-US")} steps`, box.right, 1);
}

/**
 * Draw the preview. `f` = {ctx, width, height, dpr, theme, preview: {steps, lrs, totalSteps} | null,
 * message}. Returns the points drawn.
 */
export function drawSchedulePreview(f) {
  const { ctx, width, height, theme, preview } = f;
  ctx.setTransform(f.dpr || 1, 0, 0, f.dpr || 1, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const box = previewLayout(width, height);
  ctx.strokeStyle = theme.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(box.left, Math.round(box.bottom) + 0.5);
  ctx.lineTo(box.right, Math.round(box.bottom) + 0.5);
  ctx.stroke();
  if (!preview || preview.steps.length < 2) {
    ctx.font = font(theme, 11);
    ctx.fillStyle = theme.fgMuted;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(f.message || "", width / 2, height / 2);
    return 0;
  }
  const { xs, ys } = previewPoints(preview, box);
  tracePath(ctx, xs, ys);
  ctx.lineTo(xs[xs.length - 1], box.bottom);
  ctx.lineTo(xs[0], box.bottom);
  ctx.closePath();
  ctx.fillStyle = withAlpha(theme.selected, 0.16);
  ctx.fill();
  tracePath(ctx, xs, ys);
  ctx.strokeStyle = theme.selected;
  ctx.lineWidth = 1.5;
  ctx.lineJoin = "round";
  ctx.stroke();
  drawText(ctx, theme, preview, box);
  return xs.length;
}

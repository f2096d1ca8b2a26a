// Axes layer: grid, axis lines and ticks, tick labels, axis titles. Each function is a layer:
// (ctx, frame geometry, frame input, theme), drawing in CSS px.
import { font } from "./geometry.js";

const crisp = (v) => Math.round(v) + 0.5; // a 1 px line on a pixel, not across two

export function drawGrid(ctx, g, _f, theme) {
  const { plot, xScale, yScale } = g;
  ctx.lineWidth = 1;
  ctx.strokeStyle = theme.grid;
  ctx.beginPath();
  for (const t of g.xt.major) {
    const x = crisp(xScale.map(t.value));
    ctx.moveTo(x, plot.top);
    ctx.lineTo(x, plot.bottom);
  }
  if (g.hasData) {
    for (const t of g.yt.major) {
      const y = crisp(yScale.map(t.value));
      ctx.moveTo(plot.left, y);
      ctx.lineTo(plot.right, y);
    }
  }
  ctx.stroke();
}

export function drawAxisLines(ctx, g, _f, theme) {
  const { plot, xScale } = g;
  ctx.lineWidth = 1;
  ctx.strokeStyle = theme.border;
  ctx.beginPath();
  ctx.moveTo(plot.left + 0.5, plot.top);
  ctx.lineTo(plot.left + 0.5, plot.bottom + 0.5);
  ctx.lineTo(plot.right, plot.bottom + 0.5);
  for (const t of g.xt.major) {
    const x = crisp(xScale.map(t.value));
    ctx.moveTo(x, plot.bottom);
    ctx.lineTo(x, plot.bottom + 5);
  }
  for (const v of g.xt.minor) {
    const x = crisp(xScale.map(v));
    ctx.moveTo(x, plot.bottom);
    ctx.lineTo(x, plot.bottom + 3);
  }
  ctx.stroke();
}

export function drawTickLabels(ctx, g, _f, theme) {
  const { plot, xScale, yScale } = g;
  ctx.fillStyle = theme.fgMuted;
  ctx.font = font(theme, 11);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  let lastRight = -Infinity;
  for (const t of g.xt.major) {
    const x = xScale.map(t.value);
    const w = ctx.measureText(t.label).width;
    if (x - w / 2 < lastRight + 6) continue; // never overlap labels
    ctx.fillText(t.label, x, plot.bottom + 7);
    lastRight = x + w / 2;
  }
  if (g.hasData) {
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of g.yt.major) ctx.fillText(t.label, plot.left - 6, yScale.map(t.value));
  }
}

/** x title under the ticks at the right, y title above the axis at the top-left (no rotated text). */
export function drawAxisTitles(ctx, g, _f, theme) {
  ctx.fillStyle = theme.fgMuted;
  ctx.font = font(theme, 11, "600");
  ctx.textBaseline = "bottom";
  ctx.textAlign = "right";
  ctx.fillText(g.log ? "learning rate (log scale)" : "learning rate", g.plot.right, g.height - 2);
  ctx.textAlign = "left";
  ctx.fillText("loss", 4, g.plot.top - 6);
}

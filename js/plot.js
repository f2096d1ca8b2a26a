// Canvas drawing of one frame of the finder plot. No DOM beyond the 2-D context it is handed; all
// data-dependent work (ranges, decimation) is redone each frame, because while a run streams every
// frame brings new readings anyway.
import { createScale, xDomain, yRangeColumns } from "./scale.js";
import { linearTicks, logTicks } from "./ticks.js";
import { createColumns, decimate } from "./decimate.js";
import { nearestIndex } from "./pick.js";
import { formatLR } from "./format.js";
import { withAlpha } from "./theme.js";

/** Reusable per-view scratch buffers for drawFrame (keeps steady-state drawing allocation-free). */
export function createPlotCache() {
  return { raw: createColumns(0), smooth: createColumns(0), key: "", n: 0, left: 48, logLr: null };
}

/**
 * Decimate raw and smoothed losses into the cache for an x mapping described by `key`. When the key
 * is unchanged since the last frame only readings from `dirtyFrom` on are redone (a streaming run
 * appends a few readings per frame); anything else (resize, new x range, new run) redoes all.
 */
function decimateInto(cache, data, n, log, x0, x1, left, right, dpr, dirtyFrom) {
  const xDev = createScale([x0, x1], [left * dpr, right * dpr], log);
  const key = `${log}|${xDev.t0}|${xDev.k}|${left * dpr}`;
  let xs = data.lr;
  let mapX = xDev.map;
  if (log) {
    // Decimate in log10(lr), precomputed per reading by the view state (computed here otherwise).
    if (data.logLr && data.logLr.length >= n) {
      xs = data.logLr;
    } else {
      if (!cache.logLr || cache.logLr.length < n) cache.logLr = new Float64Array(Math.max(n, 256));
      for (let i = 0; i < n; i++) cache.logLr[i] = Math.log10(data.lr[i]);
      xs = cache.logLr;
      dirtyFrom = 0;
    }
    const { t0, k } = xDev;
    const r0 = left * dpr;
    mapX = (t) => r0 + (t - t0) * k;
  }
  let from = 0;
  if (key === cache.key && n >= cache.n) {
    from = Math.min(Number.isFinite(dirtyFrom) ? dirtyFrom : n, cache.n);
  }
  if (from < n || key !== cache.key || n !== cache.n) {
    decimate(xs, data.loss, n, mapX, cache.raw, from);
    decimate(xs, data.smoothed, n, mapX, cache.smooth, from);
  }
  cache.key = key;
  cache.n = n;
  return xDev;
}

function font(theme, size, weight = "") {
  return `${weight ? weight + " " : ""}${size}px ${theme.font}`;
}

/** Plot rectangle inside a canvas of width x height CSS px, leaving room for tick labels of `yLabelWidth`. */
export function computeLayout(width, height, yLabelWidth) {
  const narrow = width < 420;
  const left = Math.max(narrow ? 30 : 40, Math.ceil(yLabelWidth) + (narrow ? 8 : 12));
  const top = 22;
  const right = width - (narrow ? 10 : 16);
  const bottom = height - (narrow ? 34 : 38);
  return { left, top, right: Math.max(left + 10, right), bottom: Math.max(top + 10, bottom), narrow };
}

/**
 * Polyline builder that drops points lying within `tol` px (vertically) of the straight line between
 * the points it keeps: a smooth curve over 2,000 pixel columns becomes a few hundred segments, which
 * rasterize far faster than thousands of tiny ones and look the same. O(1) per point (a slope cone).
 */
function createSimplifier(ctx, tol) {
  let ax = 0, ay = 0; // last point emitted
  let px = 0, py = 0; // last point seen (pending)
  let pending = false;
  let lo = -Infinity, hi = Infinity; // slopes from (ax, ay) that keep every skipped point within tol
  return {
    move(x, y) {
      if (pending) ctx.lineTo(px, py);
      ctx.moveTo(x, y);
      ax = x; ay = y; pending = false; lo = -Infinity; hi = Infinity;
    },
    line(x, y) {
      const dx = x - ax;
      if (dx <= 0.01) {
        // Vertical or backwards (a column's min/max): keep it as it is.
        if (pending) ctx.lineTo(px, py);
        ctx.lineTo(x, y);
        ax = x; ay = y; pending = false; lo = -Infinity; hi = Infinity;
        return;
      }
      const slope = (y - ay) / dx;
      if (pending && (slope < lo || slope > hi)) {
        // The new point leaves the cone: keep the pending one and restart the cone from it.
        ctx.lineTo(px, py);
        ax = px; ay = py; lo = -Infinity; hi = Infinity;
        const d = x - ax;
        if (d <= 0.01) {
          ctx.lineTo(x, y);
          ax = x; ay = y; pending = false;
          return;
        }
      }
      const d = x - ax;
      const s0 = (y - ay - tol) / d;
      const s1 = (y - ay + tol) / d;
      if (s0 > lo) lo = s0;
      if (s1 < hi) hi = s1;
      px = x; py = y; pending = true;
    },
    end() {
      if (pending) ctx.lineTo(px, py);
      pending = false;
    },
  };
}

/**
 * Stroke decimated columns as one polyline. A column that merged several readings adds its min and
 * max only where they stick out of the first..last span by more than half a pixel, so spikes inside a
 * column still show; nearly collinear points are then dropped (0.3 px tolerance).
 */
function strokeColumns(ctx, cols, yMap, tol = 0.3) {
  const { count, x0, x1, first, last, min, max, brk } = cols;
  const cnt = cols.n;
  const p = createSimplifier(ctx, tol);
  ctx.beginPath();
  for (let j = 0; j < count; j++) {
    const yf = yMap(first[j]);
    if (brk[j]) p.move(x0[j], yf);
    else p.line(x0[j], yf);
    if (cnt[j] > 1) {
      const yl = yMap(last[j]);
      // Screen y grows downwards: min loss is the largest y.
      const yMin = yMap(min[j]);
      const yMax = yMap(max[j]);
      const lo = Math.max(yf, yl);
      const hi = Math.min(yf, yl);
      const xm = (x0[j] + x1[j]) * 0.5;
      if (yMin > lo + 0.5 || yMax < hi - 0.5) {
        p.line(xm, yMin);
        p.line(xm, yMax);
      }
      if (x1[j] - x0[j] > 0.5 || Math.abs(yl - yf) > 0.5) p.line(x1[j], yl);
    }
  }
  p.end();
  ctx.stroke();
}

/**
 * Fill decimated columns as a band of one-pixel bars from each column's min to its max (joined to the
 * previous column's last reading so the band has no holes). Used for the faint raw readings when they
 * are denser than the pixels: a noisy polyline with thousands of overlapping segments is very slow to
 * rasterize; whole-pixel rectangles are not (no anti-aliasing to compute), and show the same envelope.
 */
function fillBand(ctx, cols, yMap, thickness) {
  const { count, x0, min, max, last, brk } = cols;
  const half = thickness / 2;
  for (let j = 0; j < count; j++) {
    let top = yMap(max[j]);
    let bottom = yMap(min[j]);
    if (!brk[j] && j > 0) {
      const yp = yMap(last[j - 1]);
      if (yp < top) top = yp;
      if (yp > bottom) bottom = yp;
    }
    const y0 = Math.floor(top - half);
    ctx.fillRect(Math.floor(x0[j]), y0, 1, Math.max(1, Math.ceil(bottom + half) - y0));
  }
}

function smoothedAt(data, log, lr, index) {
  let i = Number.isInteger(index) && index >= 0 && index < data.n ? index : -1;
  if (i < 0 || !Number.isFinite(data.smoothed[i])) i = nearestIndex(data.lr, data.n, lr, log, data.smoothed);
  return i >= 0 ? data.smoothed[i] : NaN;
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

/**
 * Draw one frame. `f` = {ctx, width, height, dpr, theme, data: {lr, loss, smoothed, n}, log, startLr,
 * endLr, suggestions, selectedLr, appliedLr, divergedLr, hoverIndex, hoverMarker, message, cache}.
 * Returns what interaction needs: {plot, xScale, yScale, markers: [{x, y, suggestion}], yr}.
 */
export function drawFrame(f) {
  const { ctx, width, height, theme, data } = f;
  const dpr = f.dpr || 1;
  const log = f.log !== false;
  const cache = f.cache || createPlotCache();
  const n = data.n;

  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);

  const extent = Number.isFinite(data.lrMin) && data.lrMin <= data.lrMax && log ? [data.lrMin, data.lrMax] : null;
  const [x0, x1] = xDomain(data.lr, n, f.startLr, f.endLr, log, extent);
  const dirtyFrom = f.dirtyFrom === undefined ? 0 : f.dirtyFrom;
  const right0 = computeLayout(width, height, 0).right;
  // The y range comes from the decimated columns, whose x mapping needs the left margin, which needs
  // the y tick labels: decimate with last frame's margin, and again only if the margin changed.
  let xDev = decimateInto(cache, data, n, log, x0, x1, cache.left, right0, dpr, dirtyFrom);
  let yr = yRangeColumns(cache.raw, cache.smooth);
  const hasData = cache.raw.count > 0 || cache.smooth.count > 0;

  ctx.font = font(theme, 11);
  const approxRows = Math.max(2, Math.floor((height - 60) / 42));
  let yt = linearTicks(yr.lo, yr.hi, approxRows);
  let yLabelW = 0;
  if (hasData) for (const t of yt.major) yLabelW = Math.max(yLabelW, ctx.measureText(t.label).width);
  const L = computeLayout(width, height, yLabelW);
  if (L.left !== cache.left || L.right !== right0) {
    cache.left = L.left;
    xDev = decimateInto(cache, data, n, log, x0, x1, L.left, L.right, dpr, 0);
    yr = yRangeColumns(cache.raw, cache.smooth);
    yt = linearTicks(yr.lo, yr.hi, approxRows);
  }
  const plot = { left: L.left, top: L.top, right: L.right, bottom: L.bottom };

  const xScale = createScale([x0, x1], [plot.left, plot.right], log);
  const yScale = createScale([yr.lo, yr.hi], [plot.bottom, plot.top], false);
  const xt = log
    ? logTicks(xScale.domain[0], xScale.domain[1], Math.max(2, Math.floor((plot.right - plot.left) / 58)))
    : linearTicks(xScale.domain[0], xScale.domain[1], Math.max(2, Math.floor((plot.right - plot.left) / 90)));

  // Grid.
  ctx.lineWidth = 1;
  ctx.strokeStyle = theme.grid;
  ctx.beginPath();
  for (const t of xt.major) {
    const x = Math.round(xScale.map(t.value)) + 0.5;
    ctx.moveTo(x, plot.top);
    ctx.lineTo(x, plot.bottom);
  }
  if (hasData) {
    for (const t of yt.major) {
      const y = Math.round(yScale.map(t.value)) + 0.5;
      ctx.moveTo(plot.left, y);
      ctx.lineTo(plot.right, y);
    }
  }
  ctx.stroke();

  // Axes and ticks.
  ctx.strokeStyle = theme.border;
  ctx.beginPath();
  ctx.moveTo(plot.left + 0.5, plot.top);
  ctx.lineTo(plot.left + 0.5, plot.bottom + 0.5);
  ctx.lineTo(plot.right, plot.bottom + 0.5);
  for (const t of xt.major) {
    const x = Math.round(xScale.map(t.value)) + 0.5;
    ctx.moveTo(x, plot.bottom);
    ctx.lineTo(x, plot.bottom + 5);
  }
  for (const v of xt.minor) {
    const x = Math.round(xScale.map(v)) + 0.5;
    ctx.moveTo(x, plot.bottom);
    ctx.lineTo(x, plot.bottom + 3);
  }
  ctx.stroke();

  ctx.fillStyle = theme.fgMuted;
  ctx.font = font(theme, 11);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  let lastRight = -Infinity;
  for (const t of xt.major) {
    const x = xScale.map(t.value);
    const w = ctx.measureText(t.label).width;
    if (x - w / 2 < lastRight + 6) continue; // never overlap labels
    ctx.fillText(t.label, x, plot.bottom + 7);
    lastRight = x + w / 2;
  }
  if (hasData) {
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of yt.major) ctx.fillText(t.label, plot.left - 6, yScale.map(t.value));
  }
  // Axis titles: x under the ticks at the right, y above the axis at the top-left (no rotated text).
  ctx.fillStyle = theme.fgMuted;
  ctx.font = font(theme, 11, "600");
  ctx.textBaseline = "bottom";
  ctx.textAlign = "right";
  ctx.fillText(log ? "learning rate (log scale)" : "learning rate", plot.right, height - 2);
  ctx.textAlign = "left";
  ctx.fillText("loss", 4, plot.top - 6);
  const titleRight = 4 + ctx.measureText("loss").width + 6;

  const markers = [];
  if (n > 0) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.left + 1, plot.top - 1, plot.right - plot.left, plot.bottom - plot.top + 1);
    ctx.clip();

    // Curves in device pixels: one column per device pixel keeps lines sharp on high-DPI screens.
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    const yDev = createScale([yr.lo, yr.hi], [plot.bottom * dpr, plot.top * dpr], false);
    const yMap = yDev.map;
    const rawColor = withAlpha(theme.accent, theme.dark ? 0.55 : 0.3);
    if (n >= 2 * cache.raw.count) {
      ctx.fillStyle = rawColor;
      fillBand(ctx, cache.raw, yMap, dpr);
    } else {
      ctx.strokeStyle = rawColor;
      ctx.lineWidth = 1 * dpr;
      strokeColumns(ctx, cache.raw, yMap);
    }

    ctx.strokeStyle = theme.accent;
    ctx.lineWidth = 2.25 * dpr;
    // Round joins look best on sparse curves; bevel joins are much cheaper on dense ones.
    ctx.lineJoin = cache.smooth.count < 1500 ? "round" : "bevel";
    strokeColumns(ctx, cache.smooth, yMap);

    // Points above the top of the y range: small up-triangles on the top edge, at most one per 8 px.
    if (yr.clipped) {
      const sm = cache.smooth;
      ctx.fillStyle = theme.fgMuted;
      let lastX = -Infinity;
      const topY = (plot.top + 1) * dpr;
      const s = 4 * dpr;
      ctx.beginPath();
      for (let j = 0; j < sm.count; j++) {
        if (!(sm.max[j] > yr.hi)) continue;
        const x = sm.x0[j];
        if (x - lastX < 8 * dpr) continue;
        lastX = x;
        ctx.moveTo(x, topY);
        ctx.lineTo(x - s, topY + s * 1.4);
        ctx.lineTo(x + s, topY + s * 1.4);
        ctx.closePath();
      }
      ctx.fill();
    }
    ctx.restore();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  // Divergence: the first NaN/inf reading, and the lr Python reports as diverged.
  let firstBad = Number.isInteger(data.firstBad) ? data.firstBad : -1;
  if (!Number.isInteger(data.firstBad)) {
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(data.lr[i])) continue;
      if (!Number.isFinite(data.loss[i]) || !Number.isFinite(data.smoothed[i])) {
        firstBad = i;
        break;
      }
    }
  }
  const divLr = Number.isFinite(f.divergedLr) ? f.divergedLr : firstBad >= 0 ? data.lr[firstBad] : NaN;
  if (Number.isFinite(divLr)) {
    const x = xScale.map(divLr);
    if (x >= plot.left - 1 && x <= plot.right + 1) {
      ctx.strokeStyle = theme.error;
      ctx.lineWidth = 1.25;
      ctx.setLineDash([2, 3]);
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, plot.top);
      ctx.lineTo(Math.round(x) + 0.5, plot.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      // An "x" mark at the top with the reason.
      const my = plot.top + 10;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x - 4, my - 4);
      ctx.lineTo(x + 4, my + 4);
      ctx.moveTo(x + 4, my - 4);
      ctx.lineTo(x - 4, my + 4);
      ctx.stroke();
      const what = firstBad >= 0 ? (Number.isNaN(data.loss[firstBad]) ? "NaN" : "inf") : "diverged";
      ctx.fillStyle = theme.error;
      ctx.font = font(theme, 11, "600");
      ctx.textBaseline = "middle";
      const label = firstBad >= 0 ? `loss ${what}` : "diverged";
      const lw = ctx.measureText(label).width;
      const right = x + 8 + lw <= plot.right;
      ctx.textAlign = right ? "left" : "right";
      ctx.fillText(label, right ? x + 8 : x - 8, my);
    }
  }

  // Applied (dashed) and selected (solid) learning rates, labelled above the plot.
  const lines = [];
  const vline = (lr, color, dash, text) => {
    if (!Number.isFinite(lr) || (log && !(lr > 0))) return;
    const x = xScale.map(lr);
    if (!(x >= plot.left - 1 && x <= plot.right + 1)) return;
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.75;
    ctx.setLineDash(dash);
    ctx.beginPath();
    ctx.moveTo(Math.round(x) + 0.5, plot.top);
    ctx.lineTo(Math.round(x) + 0.5, plot.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    lines.push({ x, text, color, w: pillWidth(ctx, theme, text) });
  };
  vline(f.appliedLr, theme.applied, [5, 4], `applied ${formatLR(f.appliedLr)}`);
  vline(f.selectedLr, theme.selected, [], formatLR(f.selectedLr));
  if (lines.length) {
    const lefts = spreadLabels(lines.map((l) => l.x), lines.map((l) => l.w), Math.max(plot.left - 4, titleRight), width - 2);
    lines.forEach((l, i) => drawPill(ctx, theme, l.text, lefts[i], plot.top - 10, l.w, l.color));
  }

  // Suggestion markers on the smoothed curve; the default rule's is the largest.
  const sugg = f.suggestions || [];
  for (let k = 0; k < sugg.length; k++) {
    const s = sugg[k];
    if (!Number.isFinite(s.lr) || (log && !(s.lr > 0))) continue;
    const x = xScale.map(s.lr);
    let yv = smoothedAt(data, log, s.lr, s.index);
    if (!Number.isFinite(yv)) continue;
    const y = Math.max(plot.top + 4, Math.min(plot.bottom - 4, yScale.map(yv)));
    if (x < plot.left - 2 || x > plot.right + 2) continue;
    markers.push({ x, y, suggestion: s, k });
  }
  // Draw defaults last so they sit on top.
  const order = markers.slice().sort((a, b) => (a.suggestion.default ? 1 : 0) - (b.suggestion.default ? 1 : 0));
  for (const m of order) {
    const color = m.suggestion.color || theme.rules[m.k % theme.rules.length];
    const hot = f.hoverMarker === m.k;
    const r = (m.suggestion.default ? 6 : 4.5) + (hot ? 1.5 : 0);
    ctx.beginPath();
    if (m.suggestion.default) {
      // A diamond for the default rule, circles for the others.
      ctx.moveTo(m.x, m.y - r - 1.5);
      ctx.lineTo(m.x + r + 1.5, m.y);
      ctx.lineTo(m.x, m.y + r + 1.5);
      ctx.lineTo(m.x - r - 1.5, m.y);
      ctx.closePath();
      ctx.fillStyle = color;
      ctx.strokeStyle = theme.bg;
      ctx.lineWidth = 2;
      ctx.stroke();
      ctx.fill();
    } else {
      ctx.arc(m.x, m.y, r, 0, Math.PI * 2);
      ctx.fillStyle = theme.bg;
      ctx.fill();
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.stroke();
    }
  }

  // Hover crosshair at the nearest reading.
  const hi = f.hoverIndex;
  if (Number.isInteger(hi) && hi >= 0 && hi < n && Number.isFinite(data.lr[hi])) {
    const x = xScale.map(data.lr[hi]);
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
      ctx.beginPath();
      ctx.arc(x, yScale.map(yraw), 2.5, 0, Math.PI * 2);
      ctx.fill();
    }
    if (Number.isFinite(ys) && ys <= yr.hi && ys >= yr.lo) {
      ctx.fillStyle = theme.accent;
      ctx.strokeStyle = theme.bg;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(x, yScale.map(ys), 4, 0, Math.PI * 2);
      ctx.stroke();
      ctx.fill();
    }
  }

  if (f.message) {
    ctx.fillStyle = theme.fgMuted;
    ctx.font = font(theme, 12);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(f.message, (plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2);
  }

  return { plot, xScale, yScale, markers, yr };
}

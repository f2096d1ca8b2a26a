// The training chart's marks as one vertical span per device pixel column (issue 18: a frame <= 8 ms on a
// 1,000,000-step stream, every frame). A software canvas (headless Chromium, a machine without a GPU)
// strokes a path of 1-px vertical segments at pixel centres (Skia's hairlines) several times faster than
// it fills a path of thousands of sub-pixel rectangles or strokes a 2 px polyline with round joins, and
// their count follows the pixels on screen, not the columns of the snapshot. Pure but for strokeSpans.

/** Empty spans over the plot's device pixel columns: {left, n, dpr, top, bottom} (device px). */
export function createSpans(plot, dpr) {
  const left = Math.round(plot.left * dpr);
  const n = Math.max(0, Math.round(plot.right * dpr) - left);
  return clearSpans({ left, n, dpr, top: new Float64Array(n), bottom: new Float64Array(n) });
}

/** Empty `s` again (one buffer serves each mark of a frame in turn); returns it. */
export function clearSpans(s) {
  s.top.fill(Infinity);
  s.bottom.fill(-Infinity);
  return s;
}

/** Widen the spans of device pixel columns [a, b) to hold [t, u] (device px; a column off the plot is skipped). */
export function coverColumns(s, a, b, t, u) {
  const end = Math.min(b, s.left + s.n);
  for (let x = Math.max(a, s.left); x < end; x++) {
    const i = x - s.left;
    if (t < s.top[i]) s.top[i] = t;
    if (u > s.bottom[i]) s.bottom[i] = u;
  }
}

/** The segment (x0, y0)-(x1, y1) (device px, x0 <= x1) swept by a square brush of half-width h. */
function coverSegment(s, x0, y0, x1, y1, h) {
  const slope = x1 > x0 ? (y1 - y0) / (x1 - x0) : 0;
  const first = Math.ceil(x0 - h - 0.5);
  const last = Math.floor(x1 + h - 0.5);
  for (let x = first; x <= last; x++) {
    // the part of the segment within the brush centred on this column's middle
    const a = Math.max(x0, x + 0.5 - h);
    const b = Math.min(x1, x + 0.5 + h);
    const ya = y0 + (a - x0) * slope;
    const yb = x1 > x0 ? y0 + (b - x0) * slope : y1;
    coverColumns(s, x, x + 1, Math.min(ya, yb) - h, Math.max(ya, yb) + h);
  }
}

/**
 * Cover a line `width` device px wide through vertices `v` ({x, y, m}: CSS px, a NaN x lifts the pen),
 * scaled by `dpr`: each segment swept by a square brush (a lone vertex is a dot).
 */
export function coverLine(s, v, width, dpr) {
  const h = Math.max(1, width) / 2;
  const ok = (i) => i >= 0 && i < v.m && !Number.isNaN(v.x[i]);
  for (let i = 0; i < v.m; i++) {
    if (!ok(i)) continue;
    if (ok(i + 1)) coverSegment(s, v.x[i] * dpr, v.y[i] * dpr, v.x[i + 1] * dpr, v.y[i + 1] * dpr, h);
    else if (!ok(i - 1)) coverSegment(s, v.x[i] * dpr, v.y[i] * dpr, v.x[i] * dpr, v.y[i] * dpr, h);
  }
}

/** Stroke each column's span as a 1-device-px vertical segment at the column's centre, in one path. */
export function strokeSpans(ctx, s, color) {
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.strokeStyle = color;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let i = 0; i < s.n; i++) {
    if (!(s.top[i] < s.bottom[i])) continue;
    ctx.moveTo(s.left + i + 0.5, s.top[i]);
    ctx.lineTo(s.left + i + 0.5, s.bottom[i]);
  }
  ctx.stroke();
  ctx.restore();
}

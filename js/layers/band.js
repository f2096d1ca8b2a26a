// A dense decimated line drawn as the polygon its stroke covers: a fill rasterizes several times faster than
// a stroke of thousands of short segments on a software canvas, and the pixels are the stroke's.
import { columnTail, createSimplifier, traceColumns } from "./polyline.js";

/** Columns at most this far apart (px, last reading to next first) are dense: a band covers their link. */
export const DENSE_GAP = 1.5;

/**
 * The dense spans of `cols` (pure): maximal runs [a, b) of at least two columns, each joined to the one before
 * (no break) at most DENSE_GAP px to its right. Returns a flat array [a0, b0, a1, b1, ...].
 */
export function denseSpans(cols) {
  const { count, x0, x1, brk } = cols;
  const spans = [];
  let a = 0;
  while (a < count) {
    let b = a + 1;
    // a column left of the one before (readings out of order: a hostile state) starts a new span too
    while (b < count && !brk[b] && x0[b] > x1[b - 1] && x0[b] - x1[b - 1] <= DENSE_GAP) b++;
    if (b - a >= 2) spans.push(a, b);
    a = b;
  }
  return spans;
}

/**
 * What the bands of `spans` (denseSpans) leave to stroke (pure): [from, to] column ranges, inclusive, flat.
 * Each runs a column into the bands either side, so that the stroke's joins and its butt ends lie under a
 * band (drawn twice there, in the same colour); a band's first and last columns are stroked too where it
 * starts or ends the line (at the curve's ends, or a break): a steep last segment's stroke reaches past the
 * band's end, which stops at the last reading's x.
 */
export function sparseStretches(cols, spans) {
  const { count } = cols;
  if (spans.length === 0) return count > 0 ? [0, count - 1] : [];
  const out = [0, Math.min(spans[0] + 1, spans[1] - 1)];
  for (let s = 1; s + 2 < spans.length; s += 2) {
    out.push(Math.max(spans[s] - 2, spans[s - 1]), Math.min(spans[s + 1] + 1, spans[s + 2] - 1));
  }
  out.push(Math.max(spans[spans.length - 1] - 2, spans[spans.length - 2]), count - 1);
  return out;
}

// Scratch arrays reused frame to frame (grown, never shrunk): a frame allocates nothing per curve. Per sample:
// x, top, bottom; per segment of the polyline: its ends (px, py, qx, qy), slope and vertical half-thickness.
const scratch = { size: 0, segs: 0 };
const SAMPLE_FIELDS = ["x", "top", "bottom"];
const SEGMENT_FIELDS = ["px", "py", "qx", "qy", "s", "h", "off"];

function room(m) {
  const grow = (fields, have, need) => {
    const size = Math.max(need, 2 * have, 256);
    for (const f of fields) scratch[f] = new Float64Array(size);
    return size;
  };
  if (scratch.size < m) scratch.size = grow(SAMPLE_FIELDS, scratch.size, m);
  if (scratch.segs < 4 * m) scratch.segs = grow(SEGMENT_FIELDS, scratch.segs, 4 * m);
  return scratch;
}

/**
 * What a stroke `hw` px either side of the line covers over the dense span cols[a..b) (pure but for the
 * scratch it returns views of, valid until the next call), sampled at each column's `x` (its middle; the
 * first and last readings' x at the ends): the polyline strokeColumns would draw there (each column's link
 * from the one before, its first reading, min and max where they stick out, last reading), widened by a disk
 * of radius hw; so a band filled between the samples is the stroke's footprint with round joins, exact at
 * the samples. Returns {x, top, bottom} (Float64Array views of b - a; screen y: top <= bottom).
 */
export function curveBand(cols, yMap, hw, a, b) {
  const m = b - a;
  const S = room(m);
  const n = segments(S, cols, yMap, a, b, hw);
  const { x, top, bottom, px, py, qx, qy, s, h, off } = S;
  const hw2 = hw * hw;
  let first = 0; // the first segment that reaches the sample (the polyline goes left to right)
  for (let i = 0; i < m; i++) {
    const xi = x[i];
    let t = Number.POSITIVE_INFINITY;
    let u = Number.NEGATIVE_INFINITY;
    while (first < n && qx[first] < xi - hw) first++;
    for (let j = first; j < n && px[j] <= xi + hw; j++) {
      const p = py[j];
      const q = qy[j];
      // every point the stroke covers lies within hw of the segment: nothing past its ends' y +- hw
      if (Math.min(p, q) - hw >= t && Math.max(p, q) + hw <= u) continue;
      // its end's disk (its start is the end of the segment before: the first one starts and ends there)
      const d = xi - qx[j];
      const r2 = hw2 - d * d;
      if (r2 >= 0) {
        const r = Math.sqrt(r2);
        if (q - r < t) t = q - r;
        if (q + r > u) u = q + r;
      }
      if (Number.isNaN(s[j])) continue; // vertical: its ends' disks are its extremes
      // the offset edges of the segment's line cross x where their foot on the line lies inside it
      const y = p + s[j] * (xi - px[j]);
      const lo = xi - off[j];
      if (lo >= px[j] && lo <= qx[j] && y - h[j] < t) t = y - h[j];
      const hi = xi + off[j];
      if (hi >= px[j] && hi <= qx[j] && y + h[j] > u) u = y + h[j];
    }
    top[i] = t;
    bottom[i] = u;
  }
  return { x: x.subarray(0, m), top: top.subarray(0, m), bottom: bottom.subarray(0, m) };
}

/**
 * The polyline strokeColumns draws over cols[a..b) as segments into `S` (left to right), and each column's
 * sample x; returns the number of segments. A lone first point is a segment of no length (its disk).
 */
function segments(S, cols, yMap, a, b, hw) {
  const { x0, x1, first } = cols;
  const m = b - a;
  let n = 0;
  let ex = 0; // where the pen is
  let ey = 0;
  const to = (x, y) => {
    const dx = x - ex;
    const slope = dx > 1e-9 ? (y - ey) / dx : Number.NaN;
    const k = Math.sqrt(1 + slope * slope);
    S.px[n] = ex;
    S.py[n] = ey;
    S.qx[n] = x;
    S.qy[n] = y;
    S.s[n] = slope;
    S.h[n] = hw * k;
    S.off[n] = (hw * slope) / k;
    n++;
    ex = x;
    ey = y;
  };
  for (let k = 0; k < m; k++) {
    const j = a + k;
    const yf = yMap(first[j]);
    S.x[k] = k === 0 ? x0[j] : k === m - 1 ? x1[j] : (x0[j] + x1[j]) * 0.5;
    if (k === 0) {
      ex = x0[j];
      ey = yf;
    }
    to(x0[j], yf); // the link from the column before (the first column: its first point)
    columnTail(cols, yMap, j, yf, to);
  }
  return n;
}

/** A path that takes points mirrored in x (x -> -x) and adds them to `ctx`'s path as lines (the first too). */
function mirror(ctx) {
  const line = (x, y) => ctx.lineTo(-x, y);
  return { moveTo: line, lineTo: line };
}

/**
 * Draw decimated columns as a line `2 hw` px wide, as strokeColumns would with that lineWidth (round joins),
 * but much cheaper where the readings are dense: each dense span is one filled polygon (curveBand: two
 * vertices a column before simplification, no stroker), the rest (sparse links, lone columns) is stroked
 * with the context's lineWidth and join. Set fillStyle and strokeStyle to the line's colour first. 8 curves
 * of 10,000 readings take ~0.6 of a stroke's time (benchmarks/draw.py --modes compare).
 */
export function fillCurve(ctx, cols, yMap, hw, tol = 0.3) {
  const spans = denseSpans(cols);
  ctx.beginPath();
  for (let s = 0; s < spans.length; s += 2) {
    const { x, top, bottom } = curveBand(cols, yMap, hw, spans[s], spans[s + 1]);
    const m = x.length;
    // each edge simplified as a stroke's line is (the bottom one right to left: mirrored, as the simplifier
    // goes right)
    const upper = createSimplifier(ctx, tol);
    upper.move(x[0], top[0]);
    for (let i = 1; i < m; i++) upper.line(x[i], top[i]);
    upper.end();
    const lower = createSimplifier(mirror(ctx), tol);
    lower.move(-x[m - 1], bottom[m - 1]);
    for (let i = m - 2; i >= 0; i--) lower.line(-x[i], bottom[i]);
    lower.end();
    ctx.closePath();
  }
  if (spans.length > 0) ctx.fill();
  const rest = sparseStretches(cols, spans);
  if (rest.length === 0) return;
  const p = createSimplifier(ctx, tol);
  ctx.beginPath();
  for (let s = 0; s < rest.length; s += 2) traceColumns(p, cols, yMap, rest[s], rest[s + 1]);
  p.end();
  ctx.stroke();
}

// Rasterizing decimated columns fast: a simplified polyline for lines, one-pixel bars for dense bands.

/**
 * Polyline builder that drops points lying within `tol` px (vertically) of the straight line between
 * the points it keeps: a smooth curve over 2,000 pixel columns becomes a few hundred segments, which
 * rasterize far faster than thousands of tiny ones and look the same. O(1) per point (a slope cone).
 */
export function createSimplifier(ctx, tol) {
  let ax = 0; // last point emitted
  let ay = 0;
  let px = 0; // last point seen (pending)
  let py = 0;
  let pending = false;
  let lo = -Infinity; // slopes from (ax, ay) that keep every skipped point within tol
  let hi = Infinity;
  const anchor = (x, y) => {
    ax = x;
    ay = y;
    pending = false;
    lo = -Infinity;
    hi = Infinity;
  };
  const flush = () => {
    if (pending) ctx.lineTo(px, py);
  };
  return {
    move(x, y) {
      flush();
      ctx.moveTo(x, y);
      anchor(x, y);
    },
    line(x, y) {
      if (x - ax <= 0.01) {
        // Vertical or backwards (a column's min/max): keep it as it is.
        flush();
        ctx.lineTo(x, y);
        anchor(x, y);
        return;
      }
      const slope = (y - ay) / (x - ax);
      if (pending && (slope < lo || slope > hi)) {
        // The new point leaves the cone: keep the pending one and restart the cone from it.
        ctx.lineTo(px, py);
        anchor(px, py);
        if (x - ax <= 0.01) {
          ctx.lineTo(x, y);
          anchor(x, y);
          return;
        }
      }
      const d = x - ax;
      const s0 = (y - ay - tol) / d;
      const s1 = (y - ay + tol) / d;
      if (s0 > lo) lo = s0;
      if (s1 < hi) hi = s1;
      px = x;
      py = y;
      pending = true;
    },
    end() {
      flush();
      pending = false;
    },
  };
}

/** Add columns `from..to` (inclusive) to the simplifier's path: each column's link from the one before, its
 * min and max where they stick out, and its last reading (strokeColumns' rule). */
function traceColumns(p, cols, yMap, from, to) {
  const { x0, x1, first, last, min, max, brk } = cols;
  const cnt = cols.n;
  for (let j = from; j <= to; j++) {
    const yf = yMap(first[j]);
    if (j === from || brk[j]) p.move(x0[j], yf);
    else p.line(x0[j], yf);
    if (cnt[j] > 1) {
      const yl = yMap(last[j]);
      // Screen y grows downwards: min loss is the largest y.
      const yMin = yMap(min[j]);
      const yMax = yMap(max[j]);
      const xm = (x0[j] + x1[j]) * 0.5;
      if (yMin > Math.max(yf, yl) + 0.5 || yMax < Math.min(yf, yl) - 0.5) {
        p.line(xm, yMin);
        p.line(xm, yMax);
      }
      if (x1[j] - x0[j] > 0.5 || Math.abs(yl - yf) > 0.5) p.line(x1[j], yl);
    }
  }
}

/**
 * Stroke decimated columns as one polyline. A column that merged several readings adds its min and
 * max only where they stick out of the first..last span by more than half a pixel, so spikes inside a
 * column still show; nearly collinear points are then dropped (0.3 px tolerance).
 */
export function strokeColumns(ctx, cols, yMap, tol = 0.3) {
  const p = createSimplifier(ctx, tol);
  ctx.beginPath();
  if (cols.count > 0) traceColumns(p, cols, yMap, 0, cols.count - 1);
  p.end();
  ctx.stroke();
}

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

/** Steeper than this (in px per px over a column's neighbours), a stretch of line is a cliff: its links are
 * added to the columns' extents (a band's vertical thickness there would be too thin a line). */
export const STEEP = 2;

/**
 * What a stroke `hw` px either side of the line covers over the dense span cols[a..b) (pure), sampled at each
 * column's middle `x` (a band filled between those samples is the stroke's footprint; exact for a straight
 * line):
 * - where the line is shallow (slope s over the column's neighbours, |s| <= STEEP), the line through the
 *   column's first and last readings widened by hw * sqrt(1 + s^2), the vertical half-thickness of a
 *   straight line of that slope;
 * - where it is steep, the column's readings and its link from the column before, widened by hw;
 * - a min or max that sticks out (strokeColumns' rule), widened by hw;
 * - then a disk of radius hw around those of the columns less than hw px away (a cliff inside one column is
 *   2 hw wide, as stroked; at 1x only the nearest ends of the two neighbours are that near).
 * Returns {x, top, bottom} (Float64Array of b - a; screen y: top <= bottom).
 */
export function curveBand(cols, yMap, hw, a, b) {
  const band = columnBands(cols, yMap, hw, a, b);
  widenByNeighbours(band, cols, hw, a);
  return { x: band.x, top: band.top, bottom: band.bottom };
}

/** curveBand's columns on their own, before their neighbours' disks: with each column's points for those. */
function columnBands(cols, yMap, hw, a, b) {
  const { x0, x1, min, max, first, last } = cols;
  const m = b - a;
  const x = new Float64Array(m);
  const top = new Float64Array(m);
  const bottom = new Float64Array(m);
  // each column's points for its neighbours' disks: first and last at their x, what sticks out at the middle
  const yf = new Float64Array(m);
  const yl = new Float64Array(m);
  const exTop = new Float64Array(m).fill(Number.POSITIVE_INFINITY);
  const exBottom = new Float64Array(m).fill(Number.NEGATIVE_INFINITY);
  const lo = new Float64Array(m); // the highest and lowest of those points
  const hi = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const j = a + i;
    x[i] = (x0[j] + x1[j]) * 0.5;
    yf[i] = yMap(first[j]);
    yl[i] = yMap(last[j]);
    const t = Math.min(yf[i], yl[i]);
    const u = Math.max(yf[i], yl[i]);
    // the slope across the column: from the last reading before it to the first after it
    const xa = i > 0 ? x1[j - 1] : x0[j];
    const xb = i < m - 1 ? x0[j + 1] : x1[j];
    const ya = i > 0 ? yMap(last[j - 1]) : yf[i];
    const yb = i < m - 1 ? yMap(first[j + 1]) : yl[i];
    const s = xb - xa > 0.01 ? (yb - ya) / (xb - xa) : Number.POSITIVE_INFINITY;
    if (Math.abs(s) <= STEEP) {
      // the line through first and last, as thick as a stroke of slope s; first and last themselves, each a
      // disk of radius hw around it (x0 and x1 lie within half a pixel of x)
      const e = Math.sqrt(Math.max(0, hw * hw - ((x1[j] - x0[j]) * (x1[j] - x0[j])) / 4));
      const mid = (yf[i] + yl[i]) / 2;
      const h = hw * Math.sqrt(1 + s * s);
      top[i] = Math.min(mid - h, t - e);
      bottom[i] = Math.max(mid + h, u + e);
    } else {
      // a cliff: the link from the column before, as a vertical line here
      exTop[i] = Math.min(t, ya);
      exBottom[i] = Math.max(u, ya);
      top[i] = exTop[i] - hw;
      bottom[i] = exBottom[i] + hw;
    }
    // min and max where they stick out of first..last by more than half a pixel (strokeColumns' rule)
    const ym = Math.min(yMap(max[j]), yMap(min[j]));
    const yM = Math.max(yMap(max[j]), yMap(min[j]));
    if (ym < t - 0.5) exTop[i] = Math.min(exTop[i], ym);
    if (yM > u + 0.5) exBottom[i] = Math.max(exBottom[i], yM);
    top[i] = Math.min(top[i], exTop[i] - hw);
    bottom[i] = Math.max(bottom[i], exBottom[i] + hw);
    lo[i] = Math.min(t, exTop[i]);
    hi[i] = Math.max(u, exBottom[i]);
  }
  return { x, top, bottom, yf, yl, exTop, exBottom, lo, hi };
}

/** Widen `band` (columnBands) by a disk of radius hw around each point of the columns less than hw px away. */
function widenByNeighbours(band, cols, hw, a) {
  const { x0, x1 } = cols;
  const { x, top, bottom, yf, yl, exTop, exBottom, lo, hi } = band;
  const m = x.length;
  // (at 1x only the nearest ends of the two neighbours: columns lie a pixel apart)
  const hw2 = hw * hw;
  for (let i = 0; i < m; i++) {
    const xi = x[i];
    let t = top[i];
    let u = bottom[i];
    let k = i - 1;
    while (k >= 0 && xi - x[k] < hw + 1) k--;
    for (k++; k < m && x[k] - xi < hw + 1; k++) {
      // no point of column k can reach past what column i covers already (most columns of a smooth curve)
      if (k === i || (lo[k] - hw >= t && hi[k] + hw <= u)) continue;
      const j = a + k;
      for (let p = 0; p < 4; p++) {
        const px = p === 0 ? x0[j] : p === 1 ? x1[j] : x[k];
        const py = p === 0 ? yf[k] : p === 1 ? yl[k] : p === 2 ? exTop[k] : exBottom[k];
        const r2 = hw2 - (px - xi) * (px - xi);
        if (!(r2 > 0) || !Number.isFinite(py)) continue;
        const r = Math.sqrt(r2);
        if (py - r < t) t = py - r;
        if (py + r > u) u = py + r;
      }
    }
    top[i] = t;
    bottom[i] = u;
  }
}

/** A path that takes points mirrored in x (x -> -x) and adds them to `ctx`'s path as lines (the first too). */
function mirror(ctx) {
  const line = (x, y) => ctx.lineTo(-x, y);
  return { moveTo: line, lineTo: line };
}

/**
 * Draw decimated columns as a line `2 hw` px wide, as strokeColumns would with that lineWidth, but much
 * cheaper where the readings are dense: each dense span is one filled polygon (curveBand: two vertices a
 * column, no stroker), the rest (sparse links, lone columns) is stroked with the context's lineWidth and
 * join. Set fillStyle and strokeStyle to the line's colour first. 8 curves of 10,000 readings rasterize ~3x
 * faster than stroked (benchmarks/draw.py --modes compare).
 */
export function fillCurve(ctx, cols, yMap, hw, tol = 0.3) {
  const spans = denseSpans(cols);
  ctx.beginPath();
  for (let s = 0; s < spans.length; s += 2) {
    const a = spans[s];
    const b = spans[s + 1];
    const { x, top, bottom } = curveBand(cols, yMap, hw, a, b);
    const m = b - a;
    // The ends at the first and last readings' x, so that the band spans what a stroke would; each edge
    // simplified as a stroke's line is (the bottom one right to left: mirrored, as the simplifier goes right).
    const xAt = (i) => (i === 0 ? cols.x0[a] : i === m - 1 ? cols.x1[b - 1] : x[i]);
    const upper = createSimplifier(ctx, tol);
    upper.move(xAt(0), top[0]);
    for (let i = 1; i < m; i++) upper.line(xAt(i), top[i]);
    upper.end();
    const lower = createSimplifier(mirror(ctx), tol);
    lower.move(-xAt(m - 1), bottom[m - 1]);
    for (let i = m - 2; i >= 0; i--) lower.line(-xAt(i), bottom[i]);
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

/**
 * What the bands of `spans` (denseSpans) leave to stroke (pure): [from, to] column ranges, inclusive, flat.
 * Each takes the columns either side of a gap between two bands (drawn twice, hidden under the band in the
 * same colour) so the stroke joins them; a break between two adjacent bands leaves nothing to draw.
 */
export function sparseStretches(cols, spans) {
  const { count, brk } = cols;
  if (spans.length === 0) return count > 0 ? [0, count - 1] : [];
  const out = [];
  if (spans[0] > 0) out.push(0, spans[0]);
  for (let s = 1; s + 2 < spans.length; s += 2) {
    const from = spans[s] - 1;
    const to = spans[s + 1];
    if (!(to === from + 1 && brk[to])) out.push(from, to);
  }
  const end = spans[spans.length - 1];
  if (end < count) out.push(end - 1, count - 1);
  return out;
}

/**
 * Fill decimated columns as a band of one-pixel bars from each column's min to its max (joined to the
 * previous column's last reading so the band has no holes). Used for the faint raw readings when they
 * are denser than the pixels: a noisy polyline with thousands of overlapping segments is very slow to
 * rasterize; whole-pixel bars are not (no anti-aliasing to compute), and show the same envelope.
 * Side by side bars are filled as one staircase polygon per run of adjacent pixel columns: the same
 * pixels as a fillRect per bar (its edges lie on pixel boundaries), in one fill instead of thousands
 * (where a gap puts two bars in one pixel column, their overlap is filled once, not blended twice).
 */
export function fillBand(ctx, cols, yMap, thickness) {
  const { count, x0, min, max, last, brk } = cols;
  const half = thickness / 2;
  // The bar of column j covers pixel rows [barTop(j), barBottom(j, barTop(j))).
  const barTop = (j) => {
    let top = yMap(max[j]);
    if (!brk[j] && j > 0) {
      const yp = yMap(last[j - 1]);
      if (yp < top) top = yp;
    }
    return Math.floor(top - half);
  };
  const barBottom = (j, y0) => {
    let bottom = yMap(min[j]);
    if (!brk[j] && j > 0) {
      const yp = yMap(last[j - 1]);
      if (yp > bottom) bottom = yp;
    }
    return y0 + Math.max(1, Math.ceil(bottom + half) - y0);
  };
  ctx.beginPath();
  let a = 0;
  while (a < count) {
    let b = a + 1;
    while (b < count && Math.floor(x0[b]) === Math.floor(x0[b - 1]) + 1) b++;
    // Along the tops left to right, back along the bottoms right to left.
    for (let j = a; j < b; j++) {
      const x = Math.floor(x0[j]);
      const y0 = barTop(j);
      if (j === a) ctx.moveTo(x, y0);
      else ctx.lineTo(x, y0);
      ctx.lineTo(x + 1, y0);
    }
    for (let j = b - 1; j >= a; j--) {
      const x = Math.floor(x0[j]);
      const y1 = barBottom(j, barTop(j));
      ctx.lineTo(x + 1, y1);
      ctx.lineTo(x, y1);
    }
    ctx.closePath();
    a = b;
  }
  ctx.fill();
}

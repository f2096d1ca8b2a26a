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

/**
 * Column j's points after its first reading (x0, yf), as the line draws them, each given to `point(x, y)`:
 * its min and max where they stick out of first..last by more than half a pixel (so a spike inside a
 * column shows), then its last reading unless that is within half a pixel of the first.
 */
export function columnTail(cols, yMap, j, yf, point) {
  if (cols.n[j] <= 1) return;
  const yl = yMap(cols.last[j]);
  // Screen y grows downwards: min loss is the largest y.
  const yMin = yMap(cols.min[j]);
  const yMax = yMap(cols.max[j]);
  const x0 = cols.x0[j];
  const x1 = cols.x1[j];
  if (yMin > Math.max(yf, yl) + 0.5 || yMax < Math.min(yf, yl) - 0.5) {
    point((x0 + x1) * 0.5, yMin);
    point((x0 + x1) * 0.5, yMax);
  }
  if (x1 - x0 > 0.5 || Math.abs(yl - yf) > 0.5) point(x1, yl);
}

/** Add columns `from..to` (inclusive) to the simplifier's path: each column's link from the one before, then
 * its own points (columnTail). */
export function traceColumns(p, cols, yMap, from, to) {
  const { x0, first, brk } = cols;
  for (let j = from; j <= to; j++) {
    const yf = yMap(first[j]);
    if (j === from || brk[j]) p.move(x0[j], yf);
    else p.line(x0[j], yf);
    columnTail(cols, yMap, j, yf, p.line);
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

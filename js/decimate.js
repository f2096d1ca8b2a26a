// Decimation of many readings to pixel columns (pure), so 100k readings draw as ~width line segments.

/** Reusable output buffers; grown on demand, never shrunk, so steady-state drawing allocates nothing. */
export function createColumns(capacity = 0) {
  return {
    capacity,
    count: 0,
    x0: new Float64Array(capacity), // pixel x of the first reading in the column
    x1: new Float64Array(capacity), // pixel x of the last reading in the column
    first: new Float64Array(capacity),
    last: new Float64Array(capacity),
    min: new Float64Array(capacity),
    max: new Float64Array(capacity),
    n: new Uint32Array(capacity), // readings merged into the column
    i0: new Uint32Array(capacity), // index of the column's first reading (to resume decimation)
    brk: new Uint8Array(capacity), // 1: the line is broken before this column (non-finite readings between)
  };
}

function grow(out, need) {
  if (out.capacity >= need) return out;
  const cap = Math.max(need, Math.ceil(out.capacity * 1.5), 64);
  const fresh = createColumns(cap);
  for (const key of ["x0", "x1", "first", "last", "min", "max", "n", "i0", "brk"]) {
    fresh[key].set(out[key].subarray(0, out.count));
  }
  out.capacity = cap;
  for (const key of ["x0", "x1", "first", "last", "min", "max", "n", "i0", "brk"]) out[key] = fresh[key];
  return out;
}

/**
 * Merge consecutive readings (i = 0..n-1) that fall in the same pixel column (floor of mapX(x)) into
 * first / last / min / max, which is all a line plot at that resolution can show. Readings with a
 * non-finite x or y break the line (`brk`) instead of being drawn. Readings must come in drawing order
 * (the range test's lrs are monotone); out-of-order readings still draw right, merged less.
 * Returns `out` (reused when given).
 *
 * With `from` > 0, `out` must hold this series' columns from an earlier call with the same mapX,
 * and only readings from index `from` on may have changed since: the columns before the one holding
 * reading `from` are kept and the rest recomputed (O(new readings) per frame while a run streams).
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: the per-frame hot loop; the open column lives in locals because a helper call per reading measurably slows 100k-reading frames
export function decimate(xs, ys, n, mapX, out = createColumns(0), from = 0) {
  const m = Math.min(n, xs.length, ys.length);
  grow(out, m);
  const { x0, x1, first, last, min, max, brk, i0 } = out;
  const cnt = out.n;
  let count = 0;
  // The open column lives in locals (no typed-array stores per reading) and is flushed when it ends.
  let cur = NaN;
  let gap = true;
  let open = false;
  let cx0 = 0,
    cx1 = 0,
    cf = 0,
    cl = 0,
    cmin = 0,
    cmax = 0,
    cn = 0,
    cbrk = 0,
    ci0 = 0;
  let start = 0;
  if (from > 0 && out.count > 0) {
    // Last column starting at or before `from` (i0 increases with the column index).
    let lo = 0;
    let hi = out.count - 1;
    if (i0[0] > from) hi = -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (i0[mid] <= from) lo = mid;
      else hi = mid - 1;
    }
    if (hi >= 0) {
      count = lo;
      start = i0[lo];
      gap = brk[lo] === 1;
      cur = lo > 0 ? Math.floor(x1[lo - 1]) : NaN;
    }
  }
  for (let i = start; i < m; i++) {
    const y = ys[i];
    if (!(y - y === 0)) {
      // NaN or +-inf (x - x is NaN for both): a hole in the line.
      gap = true;
      continue;
    }
    const px = mapX(xs[i]);
    if (!(px - px === 0)) {
      gap = true;
      continue;
    }
    const c = Math.floor(px);
    if (c === cur && !gap) {
      cmin = Math.min(cmin, y);
      cmax = Math.max(cmax, y);
      cl = y;
      cx1 = px;
      cn++;
    } else {
      if (open) {
        x0[count] = cx0;
        x1[count] = cx1;
        first[count] = cf;
        last[count] = cl;
        min[count] = cmin;
        max[count] = cmax;
        cnt[count] = cn;
        brk[count] = cbrk;
        i0[count] = ci0;
        count++;
      }
      open = true;
      ci0 = i;
      cx0 = cx1 = px;
      cf = cl = cmin = cmax = y;
      cn = 1;
      cbrk = gap ? 1 : 0;
      cur = c;
      gap = false;
    }
  }
  if (open) {
    x0[count] = cx0;
    x1[count] = cx1;
    first[count] = cf;
    last[count] = cl;
    min[count] = cmin;
    max[count] = cmax;
    cnt[count] = cn;
    brk[count] = cbrk;
    i0[count] = ci0;
    count++;
  }
  out.count = count;
  return out;
}

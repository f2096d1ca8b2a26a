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

const COLUMN_KEYS = ["x0", "x1", "first", "last", "min", "max", "n", "i0", "brk"];

/** Room for `need` columns, keeping the first `keep` (the frame reserves about one per pixel column). */
export function grow(out, need, keep = out.count) {
  if (out.capacity >= need) return out;
  const cap = Math.max(need, Math.ceil(out.capacity * 1.5), 64);
  const fresh = createColumns(cap);
  for (const key of COLUMN_KEYS) fresh[key].set(out[key].subarray(0, keep));
  out.capacity = cap;
  for (const key of COLUMN_KEYS) out[key] = fresh[key];
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
 *
 * The frame geometry calls decimateAffine instead, whose pixel x is computed inline: a call of `mapX`
 * per reading is most of the cost of a 100k-reading frame.
 */
export function decimate(xs, ys, n, mapX, out = createColumns(0), from = 0) {
  const m = Math.min(n, xs.length, ys.length);
  const px = new Float64Array(m);
  for (let i = 0; i < m; i++) px[i] = mapX(xs[i]);
  return decimateAffine(px, ys, m, 0, 0, 1, out, from); // 0 + (px - 0) * 1 is px
}

/** The index of the first reading to redo and the column state there, for decimateAffine resuming at `from`. */
function resumePoint(out, from) {
  const { x1, brk, i0 } = out;
  if (!(from > 0 && out.count > 0) || i0[0] > from) return { count: 0, start: 0, gap: true, cur: Number.NaN };
  // Last column starting at or before `from` (i0 increases with the column index).
  let lo = 0;
  let hi = out.count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (i0[mid] <= from) lo = mid;
    else hi = mid - 1;
  }
  return { count: lo, start: i0[lo], gap: brk[lo] === 1, cur: lo > 0 ? Math.floor(x1[lo - 1]) : Number.NaN };
}

/**
 * decimate() for the pixel mapping x -> r0 + (x - t0) * k, computed inline (a log axis passes log10(lr)
 * as `xs`). Same columns, same `from` contract.
 */
export function decimateAffine(xs, ys, n, r0, t0, k, out = createColumns(0), from = 0) {
  const m = Math.min(n, xs.length, ys.length);
  const r = resumePoint(out, from);
  let count = r.count;
  let cur = r.cur;
  let gap = r.gap;
  // The open column lives in locals (no typed-array stores per reading: a helper call or a store per
  // reading measurably slows 100k-reading frames) and is stored once, when it ends.
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
  for (let i = r.start; i < m; i++) {
    const y = ys[i];
    const x = r0 + (xs[i] - t0) * k;
    // NaN or +-inf (v - v is NaN for both): a hole in the line.
    if (!(y - y === 0 && x - x === 0)) {
      gap = true;
      continue;
    }
    const c = Math.floor(x);
    if (c === cur && !gap) {
      if (y < cmin) cmin = y;
      else if (y > cmax) cmax = y;
      cl = y;
      cx1 = x;
      cn++;
      continue;
    }
    if (open) storeColumn(out, count++, cx0, cx1, cf, cl, cmin, cmax, cn, cbrk, ci0);
    open = true;
    ci0 = i;
    cx0 = cx1 = x;
    cf = cl = cmin = cmax = y;
    cn = 1;
    cbrk = gap ? 1 : 0;
    cur = c;
    gap = false;
  }
  if (open) storeColumn(out, count++, cx0, cx1, cf, cl, cmin, cmax, cn, cbrk, ci0);
  out.count = count;
  return out;
}

/** Column `i` of `out` (grown when full: a first frame of 100k readings grows it as columns are made,
 * not to one per reading, which would allocate and zero megabytes for the ~2,000 columns it fills). */
function storeColumn(out, i, x0, x1, first, last, min, max, n, brk, i0) {
  if (i >= out.capacity) grow(out, i + 1, i);
  out.x0[i] = x0;
  out.x1[i] = x1;
  out.first[i] = first;
  out.last[i] = last;
  out.min[i] = min;
  out.max[i] = max;
  out.n[i] = n;
  out.brk[i] = brk;
  out.i0[i] = i0;
}

/**
 * Columns `width` pixels wide from 1-pixel ones (pure but for `out`): adjacent columns whose x0 fall in
 * one span floor(x0 / width) merge into first / last / min / max, unless the line breaks between them.
 * The same columns decimate() makes with the mapping divided by `width`, in pixels of `cols`, in
 * O(columns). Returns `out` (reused, grown as needed).
 */
export function mergeColumns(cols, width, out = createColumns(0)) {
  grow(out, cols.count, 0);
  let c = -1;
  let cur = Number.NaN;
  for (let j = 0; j < cols.count; j++) {
    const span = Math.floor(cols.x0[j] / width);
    if (span === cur && !cols.brk[j]) {
      out.x1[c] = cols.x1[j];
      out.last[c] = cols.last[j];
      if (cols.min[j] < out.min[c]) out.min[c] = cols.min[j];
      if (cols.max[j] > out.max[c]) out.max[c] = cols.max[j];
      out.n[c] += cols.n[j];
      continue;
    }
    c++;
    cur = span;
    out.x0[c] = cols.x0[j];
    out.x1[c] = cols.x1[j];
    out.first[c] = cols.first[j];
    out.last[c] = cols.last[j];
    out.min[c] = cols.min[j];
    out.max[c] = cols.max[j];
    out.n[c] = cols.n[j];
    out.i0[c] = cols.i0[j];
    out.brk[c] = cols.brk[j];
  }
  out.count = c + 1;
  return out;
}

// Picking (pure): which reading or marker the pointer means.
//
// A click selects the NEAREST READING (by x, in log space on a log axis), never an interpolated lr:
// the lr sent to Python is exactly one the range test tried, together with its index.

/**
 * Index of the reading whose lr is nearest to `x` (ratio distance on a log axis, absolute on a
 * linear one), among readings with a finite lr (> 0 on a log axis) and, when `ys` is given, a finite
 * loss. Returns -1 when there is none.
 */
export function nearestIndex(xs, n, x, log = true, ys = null) {
  if (!Number.isFinite(x) || (log && !(x > 0))) return -1;
  let best = -1;
  let bestD = Infinity;
  const m = Math.min(n, xs.length);
  for (let i = 0; i < m; i++) {
    const xi = xs[i];
    if (!Number.isFinite(xi)) continue;
    if (ys !== null && !Number.isFinite(ys[i])) continue;
    let d;
    if (log) {
      if (!(xi > 0)) continue;
      // max(xi/x, x/xi) grows with |log xi - log x|, without a log per reading.
      d = xi > x ? xi / x : x / xi;
    } else {
      d = Math.abs(xi - x);
    }
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/**
 * The reading `delta` valid readings away from `index` (stopping at the ends), where `isValid(i)` says
 * which readings can be selected. With no current index (index < 0 or >= n) it returns the valid
 * reading nearest to `fallback`, so the first arrow key lands on, e.g., the default suggestion.
 * Returns -1 when no reading is valid.
 * @param {(i: number) => boolean} [isValid]
 */
export function stepIndex(index, delta, n, isValid = () => true, fallback = 0) {
  if (n <= 0) return -1;
  if (!(index >= 0 && index < n)) {
    const f = Math.max(0, Math.min(n - 1, Number.isInteger(fallback) ? fallback : 0));
    for (let d = 0; d < n; d++) {
      if (f + d < n && isValid(f + d)) return f + d;
      if (f - d >= 0 && isValid(f - d)) return f - d;
    }
    return -1;
  }
  const dir = delta >= 0 ? 1 : -1;
  let steps = Math.abs(Math.trunc(delta));
  let last = index;
  for (let j = index + dir; steps > 0 && j >= 0 && j < n; j += dir) {
    if (isValid(j)) {
      last = j;
      steps--;
    }
  }
  return last;
}

/**
 * First (or last, with `fromEnd`) index that `isValid` accepts, or -1.
 * @param {number} n
 * @param {(i: number) => boolean} [isValid]
 * @param {boolean} [fromEnd]
 */
export function edgeIndex(n, isValid = () => true, fromEnd = false) {
  if (fromEnd) {
    for (let i = n - 1; i >= 0; i--) if (isValid(i)) return i;
  } else {
    for (let i = 0; i < n; i++) if (isValid(i)) return i;
  }
  return -1;
}

/** Index of the marker ({x, y} in pixels) within `radius` px of (px, py), nearest first; -1 if none. */
export function nearestMarker(markers, px, py, radius = 8) {
  let best = -1;
  let bestD = radius * radius;
  for (let i = 0; i < markers.length; i++) {
    const m = markers[i];
    if (!Number.isFinite(m.x) || !Number.isFinite(m.y)) continue;
    const dx = m.x - px;
    const dy = m.y - py;
    const d = dx * dx + dy * dy;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

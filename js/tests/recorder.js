// A 2D context that records the path: its subpaths (lists of [x, y]), what each fill and stroke drew, and
// how many fills and closed subpaths (for the line-drawing tests: polyline, band).
export function recorder() {
  const r = { subpaths: [], filled: [], stroked: [], fills: 0, closed: 0 };
  return {
    r,
    beginPath() {
      r.subpaths = [];
    },
    moveTo(x, y) {
      r.subpaths.push([[x, y]]);
    },
    lineTo(x, y) {
      r.subpaths.at(-1).push([x, y]);
    },
    closePath() {
      r.closed++;
    },
    fill() {
      r.fills++;
      r.filled.push(...r.subpaths);
    },
    stroke() {
      r.stroked.push(...r.subpaths);
    },
  };
}

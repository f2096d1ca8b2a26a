// Canvas drawing of one frame of the finder plot: the frame's geometry is computed once, then layers
// draw on it in z-order. No DOM beyond the 2-D context it is handed; data-dependent work (ranges,
// decimation) is redone each frame, because while a run streams every frame brings new readings anyway.
import { drawAxisLines, drawAxisTitles, drawGrid, drawTickLabels } from "./layers/axes.js";
import { drawCurves } from "./layers/curves.js";
import { createPlotCache, frameGeometry } from "./layers/geometry.js";
import { drawDivergence, drawSuggestions, markerMemo, placeMarkers } from "./layers/markers.js";
import { drawHover, drawMessage, drawRateLines } from "./layers/overlays.js";
import { drawRange } from "./layers/range.js";

export { computeLayout, createPlotCache } from "./layers/geometry.js";
export { spreadLabels } from "./layers/overlays.js";

/** The layers bottom to top; each is (ctx, geometry, frame input, theme) and leaves the transform in CSS px. */
export const LAYERS = [
  drawGrid,
  drawAxisLines,
  drawTickLabels,
  drawAxisTitles,
  drawRange, // the brushed (or suggested) range, under the curve
  drawCurves,
  drawDivergence,
  drawRateLines,
  drawSuggestions,
  drawHover,
  drawMessage,
];

/**
 * Draw one frame. `f` = {ctx, width, height, dpr, theme, data: {lr, loss, smoothed, n, ...}, log, startLr,
 * endLr, suggestions, selectedLr, appliedLr, divergedLr, hoverIndex, hoverMarker, message, cache, dirtyFrom,
 * range: {lo, hi, suggested} | null, drag: {x0, x1} | null}.
 * Returns what interaction needs: {plot, xScale, yScale, markers: [{x, y, suggestion, k}], yr}.
 */
export function drawFrame(f) {
  const { ctx, width, height, theme } = f;
  const dpr = f.dpr || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const cache = f.cache || createPlotCache();
  const g = frameGeometry(ctx, f, cache);
  const memo = markerMemo(cache, f.data, g.log, f.dirtyFrom === undefined ? 0 : f.dirtyFrom);
  g.markers = placeMarkers(g, f.data, f.suggestions || [], memo);
  for (const layer of LAYERS) layer(ctx, g, f, theme);
  return { plot: g.plot, xScale: g.xScale, yScale: g.yScale, markers: g.markers, yr: g.yr };
}

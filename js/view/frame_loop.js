// The frame loop: at most one draw per animation frame, whatever asked for it and how often.
import { createPlotCache, drawFrame } from "../plot.js";
import { shownRange } from "./range.js";
import { selectedLr } from "./selection.js";
import { idleMessage } from "./status.js";
import { drawTrainingView, markLrInUse } from "./training.js";
import { isLogAxis } from "./view.js";

/**
 * Coalesce draw requests into one call of `draw` per animation frame. `raf`/`caf` default to the
 * browser's. Returns {request(), stop()}; after stop() nothing is drawn any more.
 */
export function createFrameScheduler(draw, raf = requestAnimationFrame, caf = cancelAnimationFrame) {
  const s = { id: null, stopped: false };
  return {
    request() {
      if (s.id !== null || s.stopped) return;
      s.id = raf(() => {
        s.id = null;
        draw();
      });
    },
    stop() {
      s.stopped = true;
      if (s.id !== null) caf(s.id);
      s.id = null;
    },
  };
}

/** drawFrame's inputs that come from the traits and the view (all but the canvas and its size). */
export function frameInputs(port, view) {
  const data = view.readings;
  return {
    theme: view.theme,
    data,
    log: isLogAxis(port.get("step_mode"), data),
    startLr: port.num("start_lr") ?? data.startLr,
    endLr: port.num("end_lr") ?? data.endLr,
    suggestions: port.suggestions(),
    selectedLr: selectedLr(view.localSel, port.num("selected_lr")),
    appliedLr: port.num("applied_lr"),
    divergedLr: port.num("diverged_lr"),
    hoverIndex: view.hover.index,
    hoverMarker: view.hover.marker,
    message: idleMessage(data.n, port.get("status", "idle"), port.get("hint", "")),
    dirtyFrom: data.dirtyFrom,
    range: shownRange(view.localRange, port.get("selected_range"), port.get("suggested_range"), view.now()),
    drag: view.drag,
  };
}

/** Size the canvas to its box in device pixels; returns the CSS size and the pixel ratio. */
function fitCanvas(canvas, box) {
  const width = Math.max(1, Math.floor(box.clientWidth));
  const height = Math.max(1, Math.floor(box.clientHeight));
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(width * dpr);
  const hpx = Math.round(height * dpr);
  if (canvas.width !== w || canvas.height !== hpx) {
    canvas.width = w;
    canvas.height = hpx;
  }
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  return { width, height, dpr };
}

/** Draw the plot of one view on "draw" requests. Returns the cleanup. */
export function mountFrameLoop({ dom, port, view, bus }) {
  const cache = createPlotCache();
  const draw = () => {
    const size = fitCanvas(dom.canvas, dom.plotBox);
    const ctx = dom.canvas.getContext("2d");
    if (drawTrainingView(ctx, size, view, dom.root)) return; // this view shows a watch()'s training
    view.frame = drawFrame({ ctx, ...size, cache, ...frameInputs(port, view) });
    markLrInUse(ctx, size, view);
    view.readings.dirtyFrom = Number.POSITIVE_INFINITY; // this view's cache now holds everything written so far
    dom.root.dataset.readings = String(view.readings.n); // lets browser tests watch the curve grow
    dom.root.dataset.lineLow = String(view.readings.lineLow); // and see the finished run's line (no lag) drawn
  };
  const loop = createFrameScheduler(draw);
  const off = bus.on("draw", loop.request);
  return () => {
    off();
    loop.stop();
  };
}

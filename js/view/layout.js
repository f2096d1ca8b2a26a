// Layout: the plot's height (trait `height`) and watching the view's size, which redraws the plot and
// lets placement re-check where the view is.
import rules from "../../lrwidget/pure/rules.json" with { type: "json" };

const HEIGHT = rules.plotHeight; // {min, max, default}: the Python views refuse any other height

/**
 * The plot box height in whole CSS px for the `height` trait: clamped to the rule's range, the default
 * for anything not a number (a saved state is hostile: 1e9 would be a billion-pixel canvas).
 */
export function plotHeight(height) {
  if (typeof height !== "number" || Number.isNaN(height)) return HEIGHT.default;
  return Math.round(Math.min(HEIGHT.max, Math.max(HEIGHT.min, height)));
}

/** Apply the height now and follow it and the view's size. Returns the cleanup. */
export function mountLayout({ el, dom, port, bus }) {
  const applyHeight = () => {
    dom.plotBox.style.height = `${plotHeight(port.num("height"))}px`;
  };
  applyHeight();
  const offs = [
    port.on("change:height", () => {
      applyHeight();
      bus.emit("draw");
    }),
  ];
  if (typeof ResizeObserver === "function") {
    const ro = new ResizeObserver(() => {
      bus.emit("layout");
      bus.emit("draw");
    });
    ro.observe(dom.plotBox);
    ro.observe(el);
    offs.push(() => ro.disconnect());
  }
  // A changed devicePixelRatio (browser zoom, another screen) arrives as a window resize.
  const onResize = () => bus.emit("draw");
  window.addEventListener("resize", onResize);
  offs.push(() => window.removeEventListener("resize", onResize));
  return () => {
    for (const off of offs) off();
  };
}

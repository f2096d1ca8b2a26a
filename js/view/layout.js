// Layout: the plot's height (trait `height`) and watching the view's size, which redraws the plot and
// lets placement re-check where the view is.

/** The plot box height in CSS px for the `height` trait (null: the default). */
export function plotHeight(height) {
  return Math.max(160, height || 320);
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

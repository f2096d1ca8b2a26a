// The host theme (JupyterLab light/dark, VS Code, marimo): re-read when the host switches it, or when
// asked (the first read may run before the element is in the page, where CSS variables do not resolve
// yet). The root carries the host and the scheme (data-lrw-host, data-lrw-scheme): widget.css picks the
// same host's variables for the DOM as js/theme.js does for the plot.
import { readTheme, watchTheme } from "../theme.js";

/** Re-read the theme on host theme changes and on the bus's "theme". Returns the cleanup. */
export function mountThemeWatch({ el, dom, view, bus }) {
  const mark = () => {
    dom.root.dataset.lrwHost = view.theme.host;
    dom.root.dataset.lrwScheme = view.theme.dark ? "dark" : "light";
  };
  const refresh = () => {
    view.theme = readTheme(el);
    mark();
    bus.emit("suggestions"); // the legend's swatches
    bus.emit("selection");
    bus.emit("draw");
  };
  mark();
  const offs = [bus.on("theme", refresh), watchTheme(refresh)];
  return () => {
    for (const off of offs) off();
  };
}

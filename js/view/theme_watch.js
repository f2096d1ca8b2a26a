// The host theme (JupyterLab light/dark, VS Code): re-read when the host switches it, or when asked
// (the first read may run before the element is in the page, where CSS variables do not resolve yet).
import { readTheme, watchTheme } from "../theme.js";

/** Re-read the theme on host theme changes and on the bus's "theme". Returns the cleanup. */
export function mountThemeWatch({ el, view, bus }) {
  const refresh = () => {
    view.theme = readTheme(el);
    bus.emit("suggestions"); // the legend's swatches
    bus.emit("selection");
    bus.emit("draw");
  };
  const offs = [bus.on("theme", refresh), watchTheme(refresh)];
  return () => {
    for (const off of offs) off();
  };
}

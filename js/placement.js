// Where a view is shown (pure; DOM access only through the element passed in).
//
// A view reports its place to the kernel ({type: "placement", where, view}); the kernel counts the
// sidebar views that are visible (trait sidebar_views), and an inline view of a widget that was sent
// to the sidebar (trait sidebar_fallback) folds to a one-line note while one is visible there.

// sidecar 0.8 gives its output area the class "jupyterlab-sidecar" (with any anchor); JupyterLab's
// right side panel is "#jp-right-stack". Notebook 7 and VS Code have neither around a notebook output.
export const SIDEBAR_SELECTOR = ".jupyterlab-sidecar, #jp-right-stack";

/**
 * "sidebar" (in the sidebar and visible), "hidden" (in the sidebar, panel collapsed or tab not shown),
 * "inline" (anywhere else), or null while the element is not in a page yet.
 * `el` needs isConnected, closest(selector) and getClientRects() (a DOM element has them).
 */
export function placementOf(el) {
  if (!el?.isConnected) return null;
  const host = el.closest(SIDEBAR_SELECTOR);
  if (!host) return "inline";
  return el.getClientRects().length > 0 ? "sidebar" : "hidden";
}

/** Should an inline view show the one-line note instead of the widget? */
export function shouldFold({ where, fallback, sidebarViews, expanded }) {
  return where === "inline" && fallback === true && sidebarViews > 0 && !expanded;
}

/** A random id for one view (unique enough among the views of one page). */
export function newViewId(random = Math.random) {
  let s = "";
  while (s.length < 12)
    s += Math.floor(random() * 36 ** 4)
      .toString(36)
      .padStart(4, "0");
  return s.slice(0, 12);
}

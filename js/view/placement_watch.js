// Placement: where this view is (sidebar / hidden / inline), reported to the kernel as "placement"
// messages, and the fold of an inline view into a one-line note while the widget shows in the sidebar.
import { newViewId, placementOf, shouldFold } from "../placement.js";

const MAX_PLACE_FRAMES = 600; // frames to wait for the host to put the view in the page

// Output areas whose view the user unfolded with "Show here": the widget re-renders its inline view
// when a run ends (display refresh), and that new view must stay unfolded too.
const unfoldedAreas = new WeakSet();
const outputAreaOf = (el) => el?.closest?.(".jp-OutputArea") || null;

/** The fold of an inline view: returns update(), which folds or unfolds it as the traits and `place` say. */
function folder({ el, dom, port, bus }, place) {
  return () => {
    if (!place.expanded && place.where === "inline" && unfoldedAreas.has(outputAreaOf(el))) place.expanded = true;
    const folded = shouldFold({
      where: place.where,
      fallback: port.get("sidebar_fallback", false) === true,
      sidebarViews: port.get("sidebar_views", 0),
      expanded: place.expanded,
    });
    if (dom.root.hidden === folded) return;
    dom.root.hidden = folded;
    dom.foldNote.hidden = !folded;
    if (!folded) bus.emit("draw");
  };
}

/** The reports of one view's place: {update(), sayGone()}; update() reads the place and says it when it changed. */
function reporter({ el, dom, port, bus }, place) {
  const id = newViewId();
  const say = (where) => port.send({ type: "placement", where, view: id });
  const sayGone = () => {
    if (place.where !== null) say("gone");
    place.where = null;
    delete dom.root.dataset.placement;
  };
  const update = () => {
    const w = placementOf(el);
    // A view taken out of the page without its cleanup (JupyterLab replacing an output, a closed
    // sidecar tab) would count as a sidebar view forever: out of the page is gone. Back in the page
    // (a windowed notebook re-attaching a cell), it reports its place again.
    if (w === null && place.where !== null) sayGone();
    if (w === null || w === place.where) return;
    if (place.where === null) bus.emit("theme"); // CSS variables resolve only now that el is in the page
    place.where = w;
    dom.root.dataset.placement = w; // browser tests read it
    say(w);
  };
  return { update, sayGone };
}

/** Report this view's place and fold it when it should. Returns the cleanup (which says "gone"). */
export function mountPlacementWatch(env) {
  const { el, dom, port, view, bus } = env;
  const place = { where: null, expanded: false, tries: 0 }; // where: null until the view is in the page
  const updateFold = folder(env, place);
  const report = reporter(env, place);
  const update = () => {
    report.update();
    updateFold();
  };
  const placeSoon = () => {
    // render() runs before the host attaches el; look again each frame until it is in the page (then
    // the resize observer and the 1 s ticker catch moves, a collapsed panel and the like).
    if (view.closed || place.where !== null || place.tries++ > MAX_PLACE_FRAMES) return;
    requestAnimationFrame(() => {
      update();
      placeSoon();
    });
  };
  const showHere = () => {
    place.expanded = true;
    const area = outputAreaOf(el);
    if (area) unfoldedAreas.add(area);
    updateFold();
  };
  dom.showHereBtn.addEventListener("click", showHere);
  window.addEventListener("pagehide", report.sayGone); // a reload runs no cleanup
  const offs = [
    port.on("change:sidebar_views", updateFold),
    port.on("change:sidebar_fallback", updateFold),
    bus.on("layout", update),
    () => window.removeEventListener("pagehide", report.sayGone),
    () => dom.showHereBtn.removeEventListener("click", showHere),
  ];
  placeSoon();
  return () => {
    for (const off of offs) off();
    report.sayGone();
  };
}

// Focus survives a view rendered anew. The kernel refreshes the output's static fallback at a
// run's end, an Apply schedule and a settled range; the host then renders a new view and removes
// the old one, and the focus would fall to the page: a keyboard user (Shift + arrows, then Enter)
// would lose their place. The old view leaves a note on the model's page-local memo; the new one
// takes the focus back to the same control.

export const CARRY_MS = 5000; // a note older than this is a view closed long ago, not replaced

/**
 * What to find again in the new view (pure): the focused node's tag and its label or first class.
 * `node`: {tagName, getAttribute(name), classList}. Returns {tag, label, cls}.
 */
export function focusKey(node) {
  return {
    tag: String(node.tagName || "").toLowerCase(),
    label: node.getAttribute("aria-label") || "",
    cls: node.classList?.[0] || "",
  };
}

/** A CSS selector for `key` in the new view (pure); labels are quoted for CSS. */
export function keySelector(key) {
  if (!/^[a-z][a-z0-9-]*$/.test(key.tag)) return null;
  if (key.label) return `${key.tag}[aria-label="${key.label.replace(/["\\]/g, "\\$&")}"]`;
  if (/^[A-Za-z][\w-]*$/.test(key.cls)) return `${key.tag}.${key.cls}`;
  return null;
}

/**
 * Whether the focus goes back (pure): the note's view is gone from the page (`oldGone`), nothing
 * else took the focus (`pageHasFocus`), and the view went now or within CARRY_MS (`at`: when its
 * cleanup ran; null: not yet, the host removes the old view after rendering the new one).
 */
export function shouldCarry(note, now, oldGone, pageHasFocus) {
  if (!note?.key || !oldGone || !pageHasFocus) return false;
  return note.at === null || now - note.at <= CARRY_MS;
}

const WATCH_MS = 1000; // how long a new view waits for the old one to leave the page
const WATCH_EVERY_MS = 50;

export function mountFocusCarry({ el, dom, port }) {
  const memo = port.memo();
  const doc = el.ownerDocument;
  const pageHasFocus = () => !doc.activeElement || doc.activeElement === doc.body;
  // Take the focus back once, after the first paint (the parts are mounted by then); the host
  // may remove the old view a little after rendering this one, so look again for a moment.
  const note = memo.focus;
  memo.focus = null;
  const tryCarry = () => {
    // this view may be rendered before the host puts it on the page: focus() does nothing then
    if (!el.isConnected || !shouldCarry(note, Date.now(), !note.el.isConnected, pageHasFocus())) return false;
    const sel = keySelector(note.key);
    const target = (sel && dom.root.querySelector(sel)) || dom.plotBox;
    target.focus({ preventScroll: true });
    return doc.activeElement === target;
  };
  let watch = null;
  if (note && !tryCarry()) {
    const until = Date.now() + WATCH_MS;
    watch = setInterval(() => {
      if (tryCarry() || Date.now() > until || memo.focus) {
        clearInterval(watch);
        watch = null;
      }
    }, WATCH_EVERY_MS);
  }
  let mine = null; // this view's note while it holds the focus
  const onIn = (ev) => {
    mine = { key: focusKey(ev.target), el, at: null };
    memo.focus = mine;
  };
  const onOut = (ev) => {
    if (ev.relatedTarget && el.contains(ev.relatedTarget)) return; // moved within the view
    // The focus left the view: by the user (the view is still on the page), or with the view
    // itself (removed: the note stays for the view that replaces it).
    setTimeout(() => {
      if (mine && memo.focus === mine && el.isConnected && !el.contains(doc.activeElement)) memo.focus = null;
    }, 0);
  };
  el.addEventListener("focusin", onIn);
  el.addEventListener("focusout", onOut);
  return () => {
    if (watch !== null) clearInterval(watch);
    el.removeEventListener("focusin", onIn);
    el.removeEventListener("focusout", onOut);
    if (mine && memo.focus === mine) mine.at = Date.now(); // replaced or closed: the clock starts
  };
}

// The model as the parts see it: trait reads with fallbacks, guarded sends, listeners that come with
// their disposer. The only module that touches the anywidget model object.

/** A finite number, else null (traits arrive as JSON: None, NaN and strings are not numbers here). */
export function num(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export const MAX_SUGGESTIONS = 64; // the kernel sends one per rule (a handful); a saved state may hold anything

/** One entry of the `suggestions` trait, its fields checked (null: not a suggestion, dropped). */
function asSuggestion(s) {
  if (typeof s !== "object" || s === null || Array.isArray(s) || typeof s.name !== "string") return null;
  const lr = num(s.lr);
  return {
    name: s.name,
    lr: lr !== null && lr > 0 ? lr : null,
    index: Number.isSafeInteger(s.index) && s.index >= 0 ? s.index : null,
    reason: typeof s.reason === "string" ? s.reason : "",
    default: s.default === true,
  };
}

/**
 * The `suggestions` trait as a clean list of {name, lr, index, reason, default} (a saved notebook's state is
 * hostile: null, nulls inside, fields of the wrong type, a huge list); anything else: none.
 */
export function asSuggestions(v) {
  if (!Array.isArray(v)) return [];
  const out = [];
  for (const s of v.slice(0, MAX_SUGGESTIONS)) {
    const clean = asSuggestion(s);
    if (clean) out.push(clean);
  }
  return out;
}

/**
 * Subscribe `fn` to `event` where the host may not know the event. Returns the disposer; when the host
 * refuses (it throws), reports through `warn` with what is lost and returns a no-op disposer.
 */
export function listenOptional(model, event, fn, lost, warn = console.warn) {
  try {
    model.on(event, fn);
  } catch (err) {
    warn(`lrwidget: this host has no "${event}" event (${lost})`, err);
    return () => undefined; // nothing to unsubscribe
  }
  return () => model.off(event, fn);
}

// What the views of one widget keep between them in this page (never synced): a view rendered anew
// reads what the one it replaces left (focus_carry.js). Keyed by the kernel's `view_key`: anywidget
// hands each view its own model object, so the object is no key.
const memos = new Map();
const MAX_MEMOS = 256; // widgets of a long session; the oldest goes first

/** The page-local memo of the widget named `key`: one plain object shared by its views. */
export function memoOf(key) {
  let m = memos.get(key);
  if (!m) {
    m = {};
    memos.set(key, m);
    if (memos.size > MAX_MEMOS) memos.delete(memos.keys().next().value);
  }
  return m;
}

/** @typedef {import("./view_state.js").ViewState} ViewState */
/** @typedef {import("./view_state.js").Command} Command */

/**
 * Wrap `model` for one view. `isClosed()` says the view was cleaned up: sends are dropped then.
 * Returns {get(name, fallback), num(name), suggestions(), send(content), on(event, fn) -> disposer, onOptional,
 * memo() (the page-local object the model's views share)}.
 */
export function createPort(model, isClosed) {
  /**
   * @param {keyof ViewState} name
   * @param {any} [fallback]
   */
  const get = (name, fallback = null) => {
    const v = model.get(name);
    return v === undefined || v === null ? fallback : v;
  };
  /** @param {Command} content */
  const send = (content) => {
    if (isClosed()) return;
    try {
      model.send(content);
    } catch (err) {
      console.warn("lrwidget: send failed", err);
    }
  };
  const on = (event, fn) => {
    model.on(event, fn);
    return () => model.off(event, fn);
  };
  // Checked once per value of the trait, not per frame (the model hands out the same object until it changes).
  let rawSugg;
  let cleanSugg = [];
  const suggestions = () => {
    const raw = get("suggestions", []);
    if (raw !== rawSugg) {
      rawSugg = raw;
      cleanSugg = asSuggestions(raw);
    }
    return cleanSugg;
  };
  return {
    get,
    num: (/** @type {keyof ViewState} */ name) => num(get(name)),
    suggestions,
    send,
    on,
    onOptional: (event, fn, lost) => listenOptional(model, event, fn, lost),
    memo: () => {
      const key = get("view_key", "");
      return typeof key === "string" && key ? memoOf(key) : {}; // no key (an old saved state): no memo
    },
  };
}

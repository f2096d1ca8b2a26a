// The model as the parts see it: trait reads with fallbacks, guarded sends, listeners that come with
// their disposer. The only module that touches the anywidget model object.

/** A finite number, else null (traits arrive as JSON: None, NaN and strings are not numbers here). */
export function num(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** The `suggestions` trait as a list (anything else: none). */
export function asSuggestions(v) {
  return Array.isArray(v) ? v : [];
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

/**
 * Wrap `model` for one view. `isClosed()` says the view was cleaned up: sends are dropped then.
 * Returns {get(name, fallback), num(name), suggestions(), send(content), on(event, fn) -> disposer, onOptional}.
 */
export function createPort(model, isClosed) {
  const get = (name, fallback = null) => {
    const v = model.get(name);
    return v === undefined || v === null ? fallback : v;
  };
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
  return {
    get,
    num: (name) => num(get(name)),
    suggestions: () => asSuggestions(get("suggestions", [])),
    send,
    on,
    onOptional: (event, fn, lost) => listenOptional(model, event, fn, lost),
  };
}

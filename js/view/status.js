// Run status: the status line under the title ("Running · step 40/100 · …"), the title, and the
// contact timeout that tells a dead kernel. The texts are pure functions of the traits.
import { formatDuration, formatLR } from "../format.js";
import { h } from "./dom.js";

export const CONTACT_TIMEOUT_MS = 5000; // no message for this long while "running": the kernel is gone
export const SEPARATOR = " \u00b7 ";

/** Has the kernel gone quiet during a run? Times in ms; lastContact: last message (null: none yet). */
export function contactLost({ status, lastContact, lastTraitContact, now, timeout = CONTACT_TIMEOUT_MS }) {
  if (status !== "running") return false;
  return now - Math.max(lastContact ?? -Infinity, lastTraitContact) > timeout;
}

/** The status traits statusLine reads, from the model (with the run's own numIter as fallback). */
export function readStatusTraits(port, readings) {
  return {
    status: port.get("status", "idle"),
    step: port.get("step", 0),
    total: port.get("num_iter", readings.numIter) || readings.numIter,
    elapsed: port.num("elapsed"),
    eta: port.num("eta"),
    pendingApply: port.get("pending_apply", false),
    divergedLr: port.num("diverged_lr"),
    error: port.get("error", ""),
  };
}

/** Is this view's kernel silent past the timeout? */
export function isContactLost(port, view) {
  return contactLost({
    status: port.get("status"),
    lastContact: view.readings.lastContact,
    lastTraitContact: view.lastTraitContact,
    now: view.now(),
  });
}

const count = (v) => (typeof v === "number" ? v.toLocaleString("en-US") : String(v));

/**
 * What the status line says (pure). `t` as readStatusTraits returns; `lost`: contact lost.
 * Returns {kind, parts}: kind is the status shown (the status, or "disconnected"), parts the pieces
 * of text (joined by SEPARATOR).
 */
export function statusLine(t, lost) {
  const of = t.total ? `${count(t.step)}/${count(t.total)}` : count(t.step);
  if (lost) return { kind: "disconnected", parts: ["No contact with the kernel", `last seen at step ${of}`] };
  return { kind: t.status, parts: lineParts(t, of) };
}

function lineParts(t, of) {
  switch (t.status) {
    case "running": {
      const parts = ["Running", `step ${of}`, `${formatDuration(t.elapsed)} elapsed`, `ETA ${formatDuration(t.eta)}`];
      if (t.pendingApply) parts.push("apply queued");
      return parts;
    }
    case "diverged":
      return [`Diverged at lr=${formatLR(t.divergedLr)}`, `step ${of}`, formatDuration(t.elapsed)];
    case "stopped":
      return [`Stopped at step ${of}`, formatDuration(t.elapsed)];
    case "exhausted": // finder.track: the caller's loop ran out of batches first
      return [`Loop ended at step ${of}, before num_iter`, formatDuration(t.elapsed)];
    case "done":
      return ["Done", `${count(t.step)} steps in ${formatDuration(t.elapsed)}`];
    case "error":
      return [`Error: ${t.error || "the range test failed"}`];
    default:
      return ["Idle"];
  }
}

/** Does an empty plot show the kernel's `hint` (a string; the listen() widget's how-to-connect) now? */
export function hintShown(hint, n, status) {
  return typeof hint === "string" && hint !== "" && n === 0 && status === "idle";
}

/** The message an empty plot draws, by status ("" once there are readings, or while the hint shows). */
export function idleMessage(n, status, hint = "") {
  if (n > 0 || hintShown(hint, n, status)) return "";
  if (status === "running") return "Waiting for the first readings\u2026";
  if (status === "error") return "The range test failed before any reading";
  return "No range test yet \u2014 call widget.run(train_loader)";
}

export const CLOSED_TEXT = "Widget closed \u2014 no kernel behind this view";

function showLine(dom, line) {
  const text = line.parts.join(SEPARATOR);
  if (dom.statusText.textContent !== text) {
    // One unbreakable span per part: a narrow view wraps between parts, never inside "ETA 0:05".
    const spans = line.parts.flatMap((p, i) => {
      const span = h("span", { class: "lrw-status-part", text: p });
      return i ? [document.createTextNode(SEPARATOR), span] : [span];
    });
    dom.statusText.replaceChildren(...spans);
  }
  dom.status.dataset.state = line.kind;
  dom.root.dataset.status = line.kind;
}

/** The status line and title of one view. Returns the cleanup. */
export function mountStatus({ dom, port, view, bus }) {
  const update = () => {
    showLine(dom, statusLine(readStatusTraits(port, view.readings), isContactLost(port, view)));
    // text, never HTML: a saved state's hint is hostile
    const hint = port.get("hint", "");
    dom.hint.hidden = !hintShown(hint, view.readings.n, port.get("status", "idle"));
    if (!dom.hint.hidden && dom.hint.textContent !== hint) dom.hint.textContent = hint;
    const title = port.get("title", "") || "Learning-rate range test";
    if (dom.title.textContent !== title) dom.title.textContent = title;
  };
  // The model was closed (comm closed, widget destroyed): no kernel behind this view any more.
  const closed = () => {
    dom.statusText.textContent = CLOSED_TEXT;
    dom.status.dataset.state = "disconnected";
    dom.root.dataset.status = "disconnected";
  };
  const offs = [bus.on("status", update), bus.on("closed", closed)];
  return () => {
    for (const off of offs) off();
  };
}

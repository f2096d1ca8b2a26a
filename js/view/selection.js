// Selection and commands: which lr is selected (the kernel's selected_lr, or this view's optimistic
// choice until it comes back), and the commands that change it or act on it (select, apply, stop).
import { formatLR } from "../format.js";
import { nearestIndex } from "../pick.js";
import { num } from "./model_port.js";
import { isLogAxis } from "./view.js";

/** The selected lr: this view's pending choice, else the kernel's (null: nothing selected). */
export function selectedLr(localSel, kernelLr) {
  return localSel ? localSel.lr : kernelLr;
}

/**
 * Index of the selected reading: the one this view selected when it is still the selection, else the
 * reading nearest to the selected lr with a finite smoothed loss; -1 with nothing selected.
 */
export function selectedIndex(localSel, lr, readings, log) {
  if (lr === null) return -1;
  if (localSel && Number.isInteger(localSel.index) && readings.lr[localSel.index] === lr) return localSel.index;
  return nearestIndex(readings.lr, readings.n, lr, log, readings.smoothed);
}

/** The kernel's selected_lr arrived: the pending choice stays (for its index) only if it names the same lr. */
export function keepLocalSelection(localSel, kernelLr) {
  return localSel && kernelLr === localSel.lr ? localSel : null;
}

/**
 * What Apply (the button, Enter) does with the selection `lr` (pure): {send, text}. Only a selection the
 * user made is applied (nothing selected: nothing sent, and the view says how to select); during a run the
 * kernel queues it until the test ended and the model was restored, and the view says so.
 */
export function applyPlan(lr, running) {
  if (lr === null) return { send: false, text: "Select a learning rate first (arrow keys or a click)" };
  if (running) {
    return {
      send: true,
      text: `Apply of learning rate ${formatLR(lr)} queued: it is applied when the range test ends`,
    };
  }
  return { send: true, text: `Applying learning rate ${formatLR(lr)}` };
}

/**
 * The commands of one view. `announce(text)` tells screen readers. Returns {select(lr, index),
 * selectSuggestion(s), apply(), stop(), selectedLr(), selectedIndex()}.
 */
export function createActions({ port, view, bus, announce }) {
  const current = () => selectedLr(view.localSel, port.num("selected_lr"));
  const select = (lr, index) => {
    if (!Number.isFinite(lr)) return;
    view.localSel = { lr, index: Number.isInteger(index) ? index : null };
    port.send({ type: "select", lr, index: view.localSel.index });
    announce(`Selected learning rate ${formatLR(lr)}`);
    bus.emit("selection");
    bus.emit("draw");
  };
  return {
    select,
    selectSuggestion(s) {
      if (num(s.lr) === null) return;
      select(s.lr, Number.isInteger(s.index) ? s.index : null);
    },
    apply() {
      const lr = current();
      const plan = applyPlan(lr, port.get("status") === "running");
      if (plan.send) port.send({ type: "apply", lr });
      announce(plan.text);
    },
    stop: () => port.send({ type: "stop" }),
    selectedLr: current,
    selectedIndex: () =>
      selectedIndex(view.localSel, current(), view.readings, isLogAxis(port.get("step_mode"), view.readings)),
  };
}

/** Follow the kernel's selected_lr (its value wins once it arrives). Returns the cleanup. */
export function mountSelectionSync({ port, view, bus }) {
  return port.on("change:selected_lr", () => {
    const kept = keepLocalSelection(view.localSel, port.num("selected_lr"));
    view.localSel = kept;
    bus.emit("selection");
    if (!kept) bus.emit("draw");
  });
}

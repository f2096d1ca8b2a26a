// Controls: the Apply and Stop buttons, the suggestion picker and the selected / applied readouts.
// What they show is a pure function of the traits and the selection.
import { formatLR } from "../format.js";
import { h } from "./dom.js";
import { num } from "./model_port.js";
import { isContactLost } from "./status.js";

/** Stop is live only during a run whose kernel still answers (a dead kernel cannot stop anything). */
export function stopEnabled(status, lost) {
  return status === "running" && !lost;
}

/** Apply's state for the selected lr (null: nothing selected): {enabled, title}. */
export function applyState(sel) {
  if (sel === null) return { enabled: false, title: "Select a learning rate on the plot first" };
  return { enabled: true, title: `Apply lr=${formatLR(sel)} to the optimizer` };
}

/** Readout texts: {selected, applied}; applied is null when there is nothing to say. */
export function readouts(sel, applied, pendingApply) {
  return {
    selected: sel === null ? "Nothing selected" : `Selected ${formatLR(sel)}`,
    applied: applied !== null ? `Applied ${formatLR(applied)}` : pendingApply ? "Apply queued" : null,
  };
}

/** Picker entries: a placeholder ("" value) then one per suggestion; rules without an lr are disabled. */
export function pickerOptions(suggestions) {
  const head = { value: "", text: suggestions.length ? "Choose\u2026" : "none yet", disabled: false };
  return [
    head,
    ...suggestions.map((s) => {
      const has = num(s.lr) !== null;
      const label = `${s.name}${s.default ? " (default)" : ""}`;
      return { value: s.name, text: has ? `${label}: ${formatLR(s.lr)}` : `${label}: none`, disabled: !has };
    }),
  ];
}

/** The picker shows the rule whose lr is the selection, else the placeholder. */
export function pickerValue(suggestions, sel) {
  for (const s of suggestions) if (s.lr !== null && s.lr === sel) return s.name;
  return "";
}

function keyed(kind, text) {
  return [h("span", { class: `lrw-key lrw-key-${kind}`, "aria-hidden": "true" }), document.createTextNode(text)];
}

function showSelection(dom, port, sel) {
  const apply = applyState(sel);
  dom.applyBtn.disabled = !apply.enabled;
  dom.applyBtn.title = apply.title;
  const r = readouts(sel, port.num("applied_lr"), port.get("pending_apply", false));
  dom.selReadout.innerHTML = "";
  dom.selReadout.append(...keyed("sel", r.selected));
  dom.appliedReadout.innerHTML = "";
  if (r.applied !== null) dom.appliedReadout.append(...keyed("applied", r.applied));
  const value = pickerValue(port.suggestions(), sel);
  if (dom.picker.value !== value) dom.picker.value = value;
}

function fillPicker(picker, suggestions) {
  picker.innerHTML = "";
  for (const o of pickerOptions(suggestions)) {
    const opt = h("option", { value: o.value, text: o.text });
    if (o.disabled) opt.disabled = true;
    picker.append(opt);
  }
  picker.disabled = !suggestions.some((s) => num(s.lr) !== null);
}

/** Buttons, picker and readouts of one view. Returns the cleanup. */
export function mountControls({ dom, port, view, bus, actions }) {
  const onPick = () => {
    const s = port.suggestions().find((x) => x.name === dom.picker.value);
    if (s) actions.selectSuggestion(s);
  };
  const onStop = () => actions.stop();
  const onApply = () => actions.apply();
  dom.applyBtn.addEventListener("click", onApply);
  dom.stopBtn.addEventListener("click", onStop);
  dom.picker.addEventListener("change", onPick);
  const offs = [
    bus.on("status", () => {
      dom.stopBtn.disabled = !stopEnabled(port.get("status", "idle"), isContactLost(port, view));
    }),
    bus.on("selection", () => showSelection(dom, port, actions.selectedLr())),
    bus.on("suggestions", () => fillPicker(dom.picker, port.suggestions())),
    bus.on("closed", () => {
      dom.applyBtn.disabled = true;
      dom.stopBtn.disabled = true;
    }),
  ];
  return () => {
    for (const off of offs) off();
    dom.applyBtn.removeEventListener("click", onApply);
    dom.stopBtn.removeEventListener("click", onStop);
    dom.picker.removeEventListener("change", onPick);
  };
}

// The DOM of one view: built once per render, handed to the parts as named elements.

/** document.createElement with attributes ("class", "text" and plain attributes) and children. */
export function h(tag, attrs = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.appendChild(c);
  return e;
}

function buildHeader() {
  const title = h("div", { class: "lrw-title" });
  const statusDot = h("span", { class: "lrw-dot", "aria-hidden": "true" });
  const statusText = h("span", { class: "lrw-status-text" });
  const status = h("div", { class: "lrw-status", role: "status", "aria-live": "polite" }, [statusDot, statusText]);
  return { title, status, statusText, header: h("div", { class: "lrw-header" }, [title, status]) };
}

function buildPlot() {
  const canvas = h("canvas", { class: "lrw-canvas", "aria-hidden": "true" });
  const tooltip = h("div", { class: "lrw-tooltip", role: "presentation" });
  tooltip.hidden = true;
  // the kernel's hint for an empty plot (the listen() widget: how a job connects), selectable to copy
  const hint = h("div", { class: "lrw-hint", role: "note" });
  hint.hidden = true;
  const plotBox = h(
    "div",
    {
      class: "lrw-plot",
      tabindex: "0",
      role: "application",
      "aria-roledescription": "learning-rate finder plot",
      "aria-label":
        "Loss against learning rate. Click or use Left/Right arrows to select a learning rate, Enter to apply; " +
        "drag or Shift+Left/Right to select a range, Escape to clear it.",
    },
    [canvas, hint, tooltip],
  );
  return { canvas, tooltip, hint, plotBox };
}

function buildControls() {
  const picker = h("select", { class: "lrw-picker", "aria-label": "Suggestion" });
  const pickerLabel = h("label", { class: "lrw-picker-label" }, [h("span", { text: "Suggestion" }), picker]);
  const selReadout = h("span", { class: "lrw-readout lrw-sel" });
  const appliedReadout = h("span", { class: "lrw-readout lrw-applied" });
  const readouts = h("div", { class: "lrw-readouts" }, [selReadout, appliedReadout]);
  const stopBtn = h("button", { class: "lrw-btn lrw-stop", type: "button", text: "Stop" });
  const applyBtn = h("button", { class: "lrw-btn lrw-apply", type: "button", text: "Apply" });
  const buttons = h("div", { class: "lrw-buttons" }, [stopBtn, applyBtn]);
  const controls = h("div", { class: "lrw-controls" }, [pickerLabel, readouts, buttons]);
  return { picker, selReadout, appliedReadout, stopBtn, applyBtn, controls };
}

/** The one-line stand-in of an inline view while the widget shows in the sidebar (show_in_sidebar). */
function buildFoldNote() {
  const showHereBtn = h("button", { class: "lrw-btn lrw-show-here", type: "button", text: "Show here" });
  const foldNote = h("div", { class: "lrw-elsewhere", role: "note" }, [
    h("span", { class: "lrw-elsewhere-text", text: "LR finder: shown in the right sidebar" }),
    showHereBtn,
  ]);
  foldNote.hidden = true;
  return { showHereBtn, foldNote };
}

/**
 * The elements of one view, not yet in the page: root (header, plot, legend, controls, a screen-reader
 * live region) and foldNote. The caller appends foldNote and root to the host element.
 */
export function buildLayout() {
  const { header, ...head } = buildHeader();
  const plot = buildPlot();
  const legend = h("div", { class: "lrw-legend", role: "group", "aria-label": "Suggestions" });
  const { controls, ...ctl } = buildControls();
  const live = h("div", { class: "lrw-sr-only", "aria-live": "polite" });
  const root = h("div", { class: "lrw-root", "data-lm-suppress-shortcuts": "true" });
  root.append(header, plot.plotBox, legend, controls, live);
  return { root, legend, live, ...head, ...plot, ...ctl, ...buildFoldNote() };
}

// anywidget front end of LRFinderWidget: render({model, el}) wires ONE view to the model and returns its
// cleanup. Protocol: DESIGN.md "Widget protocol".
//
// A view is a composition of parts (js/view/): each takes explicit inputs — the model (through its
// port), the view's shared state (view.js, one writer per field), the bus the parts talk through, the
// DOM it shows things in — and returns its cleanup. Everything per view lives in render: a notebook may
// show the same model inline, in the sidebar and in a second tab at once.
import { createBus } from "./view/bus.js";
import { isCompareModel, renderCompare } from "./view/compare.js";
import { mountControls } from "./view/controls.js";
import { buildLayout } from "./view/dom.js";
import { mountFocusCarry } from "./view/focus_carry.js";
import { mountFrameLoop } from "./view/frame_loop.js";
import { mountKeyboard, mountPointer } from "./view/interaction.js";
import { mountLayout } from "./view/layout.js";
import { mountLegend } from "./view/legend.js";
import { mountMessages } from "./view/messages.js";
import { createPort } from "./view/model_port.js";
import { mountPlacementWatch } from "./view/placement_watch.js";
import { mountRange } from "./view/range.js";
import { mountSchedule } from "./view/schedule.js";
import { createActions, mountSelectionSync } from "./view/selection.js";
import { mountStatus } from "./view/status.js";
import { mountThemeWatch } from "./view/theme_watch.js";
import { mountTraining } from "./view/training.js";
import { mountTraitWatch } from "./view/trait_watch.js";
import { createView } from "./view/view.js";

const TICK_MS = 1000; // re-check what changes without a message: the contact timeout, the view's place

function mountTicker(bus) {
  const ticker = setInterval(() => {
    bus.emit("status");
    bus.emit("layout");
  }, TICK_MS);
  return () => clearInterval(ticker);
}

function mountClosed({ port, bus }) {
  return port.onOptional("destroy", () => bus.emit("closed"), "a view cannot tell that its widget was closed");
}

// Mounted in this order; each returns its cleanup. Messages and placement come last, after the first paint.
const PARTS = [
  mountLayout,
  mountFrameLoop,
  mountStatus,
  mountControls,
  mountLegend,
  mountPointer,
  mountKeyboard,
  mountRange, // issue 19: a range dragged or keyed on the curve
  mountSchedule, // issue 19: the schedule picker, total steps, preview and Apply schedule
  mountSelectionSync,
  mountTraitWatch,
  mountClosed,
  mountThemeWatch,
  mountTraining, // the doctor (issue 18): a watch()'s training chart, verdict and buttons
];

function render({ model, el }) {
  if (isCompareModel(model)) return renderCompare({ model, el }); // lrwidget.compare's chart (issue 20)
  const view = createView(el);
  const port = createPort(model, () => view.closed);
  const bus = createBus();
  const dom = buildLayout();
  el.append(dom.foldNote, dom.root);
  const announce = (text) => {
    dom.live.textContent = text;
  };
  const env = { el, dom, port, view, bus, actions: createActions({ port, view, bus, announce }) };
  const cleanups = PARTS.map((mount) => mount(env));
  cleanups.push(mountTicker(bus));
  for (const topic of ["status", "suggestions", "selection", "draw"]) bus.emit(topic); // the first paint
  // Last: say hello (the kernel replays what it has), then look for the page to report the place.
  cleanups.push(mountMessages(env), mountPlacementWatch(env), mountFocusCarry(env));

  return () => {
    for (const c of cleanups.splice(0)) {
      try {
        c();
      } catch (err) {
        console.warn("lrwidget: cleanup failed", err);
      }
    }
    view.closed = true; // after the cleanups: the last one says "gone"
    dom.root.remove();
    dom.foldNote.remove();
  };
}

export default { render };

// anywidget front end of LRFinderWidget: render({model, el}) wires ONE view to the model and returns
// its cleanup. Everything per view lives inside render (a notebook may show the same model inline, in
// the sidebar and in a second tab at once). Protocol: DESIGN.md "Widget protocol".
//
// Selection: a click (or the arrow keys) selects the NEAREST READING by x, in log space on a log axis,
// never an interpolated value, so the lr sent with {type: "select", lr, index} is exactly one the range
// test tried. Clicking a suggestion marker, its legend entry or the picker selects that rule's lr.
import { createViewState, handleCustomMessage, markHelloSent } from "./state.js";
import { createPlotCache, drawFrame } from "./plot.js";
import { edgeIndex, nearestIndex, nearestMarker, stepIndex } from "./pick.js";
import { formatDuration, formatLoss, formatLR } from "./format.js";
import { readTheme, watchTheme } from "./theme.js";
import { newViewId, placementOf, shouldFold } from "./placement.js";

const CONTACT_TIMEOUT_MS = 5000; // no message for this long while "running": the kernel is gone
const HELLO_MIN_INTERVAL_MS = 1000;

function h(tag, attrs = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.appendChild(c);
  return e;
}

function num(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

// Output areas whose view the user unfolded with "Show here": the widget re-renders its inline view
// when a run ends (display refresh), and that new view must stay unfolded too.
const unfoldedAreas = new WeakSet();
const outputAreaOf = (el) => (el && typeof el.closest === "function" && el.closest(".jp-OutputArea")) || null;

function render({ model, el }) {
  const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());
  const state = createViewState();
  const cache = createPlotCache();
  const cleanups = [];
  let theme = readTheme(el);
  let frame = null; // what the last draw returned (scales, markers) for hit testing
  let rafId = null;
  let hoverIndex = -1;
  let hoverMarker = -1;
  let localSel = null; // {lr, index}: optimistic until selected_lr comes back
  let lastHello = -Infinity;
  let closed = false;
  let lastTraitContact = now();

  // ---- DOM -------------------------------------------------------------------------------------
  const root = h("div", { class: "lrw-root", "data-lm-suppress-shortcuts": "true" });
  const title = h("div", { class: "lrw-title" });
  const statusDot = h("span", { class: "lrw-dot", "aria-hidden": "true" });
  const statusText = h("span", { class: "lrw-status-text" });
  const status = h("div", { class: "lrw-status", role: "status", "aria-live": "polite" }, [statusDot, statusText]);
  const header = h("div", { class: "lrw-header" }, [title, status]);

  const canvas = h("canvas", { class: "lrw-canvas", "aria-hidden": "true" });
  const tooltip = h("div", { class: "lrw-tooltip", role: "presentation" });
  tooltip.hidden = true;
  const plotBox = h("div", {
    class: "lrw-plot",
    tabindex: "0",
    role: "application",
    "aria-roledescription": "learning-rate finder plot",
    "aria-label": "Loss against learning rate. Click or use Left/Right arrows to select a learning rate, Enter to apply.",
  }, [canvas, tooltip]);

  const legend = h("div", { class: "lrw-legend", role: "group", "aria-label": "Suggestions" });

  const picker = h("select", { class: "lrw-picker", "aria-label": "Suggestion" });
  const pickerLabel = h("label", { class: "lrw-picker-label" }, [h("span", { text: "Suggestion" }), picker]);
  const selReadout = h("span", { class: "lrw-readout lrw-sel" });
  const appliedReadout = h("span", { class: "lrw-readout lrw-applied" });
  const readouts = h("div", { class: "lrw-readouts" }, [selReadout, appliedReadout]);
  const stopBtn = h("button", { class: "lrw-btn lrw-stop", type: "button", text: "Stop" });
  const applyBtn = h("button", { class: "lrw-btn lrw-apply", type: "button", text: "Apply" });
  const buttons = h("div", { class: "lrw-buttons" }, [stopBtn, applyBtn]);
  const controls = h("div", { class: "lrw-controls" }, [pickerLabel, readouts, buttons]);
  const live = h("div", { class: "lrw-sr-only", "aria-live": "polite" });

  root.append(header, plotBox, legend, controls, live);
  // The one-line stand-in of an inline view while the widget shows in the sidebar (show_in_sidebar).
  const showHereBtn = h("button", { class: "lrw-btn lrw-show-here", type: "button", text: "Show here" });
  const foldNote = h("div", { class: "lrw-elsewhere", role: "note" }, [
    h("span", { class: "lrw-elsewhere-text", text: "LR finder: shown in the right sidebar" }), showHereBtn]);
  foldNote.hidden = true;
  el.append(foldNote, root);

  // ---- model access ------------------------------------------------------------------------------
  const get = (name, fallback = null) => {
    const v = model.get(name);
    return v === undefined || v === null ? fallback : v;
  };
  const send = (content) => {
    if (closed) return;
    try {
      model.send(content);
    } catch (err) {
      console.warn("lrwidget: send failed", err);
    }
  };
  const sendHello = () => {
    lastHello = now();
    markHelloSent(state);
    send({ type: "hello" });
  };
  const suggestions = () => {
    const s = get("suggestions", []);
    return Array.isArray(s) ? s : [];
  };
  const logAxis = () => (get("step_mode", state.stepMode) || state.stepMode) !== "linear";
  const selectedLr = () => (localSel ? localSel.lr : num(get("selected_lr")));
  const validReading = (i) => Number.isFinite(state.lr[i]) && Number.isFinite(state.smoothed[i]);
  const selectedIndex = () => {
    const lr = selectedLr();
    if (lr === null) return -1;
    if (localSel && Number.isInteger(localSel.index) && state.lr[localSel.index] === lr) return localSel.index;
    return nearestIndex(state.lr, state.n, lr, logAxis(), state.smoothed);
  };

  // ---- drawing ------------------------------------------------------------------------------------
  function requestDraw() {
    if (rafId !== null || closed) return;
    rafId = requestAnimationFrame(() => {
      rafId = null;
      draw();
    });
  }

  function idleMessage() {
    if (state.n > 0) return "";
    const st = get("status", "idle");
    if (st === "running") return "Waiting for the first readings\u2026";
    if (st === "error") return "The range test failed before any reading";
    return "No range test yet \u2014 call widget.run(train_loader)";
  }

  function draw() {
    const cssW = Math.max(1, Math.floor(plotBox.clientWidth));
    const cssH = Math.max(1, Math.floor(plotBox.clientHeight));
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(cssW * dpr);
    const hpx = Math.round(cssH * dpr);
    if (canvas.width !== w || canvas.height !== hpx) {
      canvas.width = w;
      canvas.height = hpx;
    }
    canvas.style.width = cssW + "px";
    canvas.style.height = cssH + "px";
    const ctx = canvas.getContext("2d");
    const sugg = suggestions();
    frame = drawFrame({
      ctx, width: cssW, height: cssH, dpr, theme,
      data: state,
      log: logAxis(),
      startLr: num(get("start_lr")) ?? state.startLr,
      endLr: num(get("end_lr")) ?? state.endLr,
      suggestions: sugg,
      selectedLr: selectedLr(),
      appliedLr: num(get("applied_lr")),
      divergedLr: num(get("diverged_lr")),
      hoverIndex,
      hoverMarker,
      message: idleMessage(),
      cache,
      dirtyFrom: state.dirtyFrom,
    });
    state.dirtyFrom = Infinity; // this view's cache now holds everything written so far
    root.dataset.readings = String(state.n); // lets browser tests watch the curve grow
  }

  // ---- status line, legend, controls ------------------------------------------------------------
  function contactLost() {
    if (get("status") !== "running") return false;
    const last = Math.max(state.lastContact ?? -Infinity, lastTraitContact);
    return now() - last > CONTACT_TIMEOUT_MS;
  }

  function updateStatus() {
    const st = get("status", "idle");
    const step = get("step", 0);
    const total = get("num_iter", state.numIter) || state.numIter;
    const elapsed = num(get("elapsed"));
    const eta = num(get("eta"));
    const fmt = (v) => (typeof v === "number" ? v.toLocaleString("en-US") : String(v));
    const of = total ? `${fmt(step)}/${fmt(total)}` : fmt(step);
    let parts;
    let kind = st;
    if (contactLost()) {
      kind = "disconnected";
      parts = ["No contact with the kernel", `last seen at step ${of}`];
    } else if (st === "running") {
      parts = ["Running", `step ${of}`, `${formatDuration(elapsed)} elapsed`, `ETA ${formatDuration(eta)}`];
      if (get("pending_apply", false)) parts.push("apply queued");
    } else if (st === "diverged") {
      parts = [`Diverged at lr=${formatLR(num(get("diverged_lr")))}`, `step ${of}`, formatDuration(elapsed)];
    } else if (st === "stopped") {
      parts = [`Stopped at step ${of}`, formatDuration(elapsed)];
    } else if (st === "done") {
      parts = ["Done", `${fmt(step)} steps in ${formatDuration(elapsed)}`];
    } else if (st === "error") {
      parts = [`Error: ${get("error", "") || "the range test failed"}`];
    } else {
      parts = ["Idle"];
    }
    const text = parts.join(" \u00b7 ");
    if (statusText.textContent !== text) {
      // One unbreakable span per part: a narrow view wraps between parts, never inside "ETA 0:05".
      statusText.replaceChildren(...parts.flatMap((p, i) => {
        const span = h("span", { class: "lrw-status-part", text: p });
        return i ? [document.createTextNode(" \u00b7 "), span] : [span];
      }));
    }
    status.dataset.state = kind;
    root.dataset.status = kind;
    // A dead kernel cannot stop anything: a live-looking Stop would be a lie.
    stopBtn.disabled = st !== "running" || kind === "disconnected";
    const t = get("title", "") || "Learning-rate range test";
    if (title.textContent !== t) title.textContent = t;
  }

  function updateSelectionUi() {
    const sel = selectedLr();
    const applied = num(get("applied_lr"));
    applyBtn.disabled = sel === null;
    applyBtn.title = sel === null ? "Select a learning rate on the plot first" : `Apply lr=${formatLR(sel)} to the optimizer`;
    selReadout.innerHTML = "";
    selReadout.append(h("span", { class: "lrw-key lrw-key-sel", "aria-hidden": "true" }),
      document.createTextNode(sel === null ? "Nothing selected" : `Selected ${formatLR(sel)}`));
    appliedReadout.innerHTML = "";
    if (applied !== null || get("pending_apply", false)) {
      appliedReadout.append(h("span", { class: "lrw-key lrw-key-applied", "aria-hidden": "true" }),
        document.createTextNode(applied !== null ? `Applied ${formatLR(applied)}` : "Apply queued"));
    }
    // Keep the picker on the rule whose lr is the selection, else on the placeholder.
    let match = "";
    for (const s of suggestions()) if (s.lr !== null && s.lr === sel) { match = s.name; break; }
    if (picker.value !== match) picker.value = match;
    for (const item of legend.querySelectorAll(".lrw-legend-item")) {
      item.setAttribute("aria-pressed", String(item.dataset.lr !== "" && Number(item.dataset.lr) === sel));
    }
  }

  function updateSuggestions() {
    const sugg = suggestions();
    picker.innerHTML = "";
    picker.append(h("option", { value: "", text: sugg.length ? "Choose\u2026" : "none yet" }));
    legend.innerHTML = "";
    sugg.forEach((s, k) => {
      const has = num(s.lr) !== null;
      const label = `${s.name}${s.default ? " (default)" : ""}`;
      const opt = h("option", { value: s.name, text: has ? `${label}: ${formatLR(s.lr)}` : `${label}: none` });
      if (!has) opt.disabled = true;
      picker.append(opt);
      const color = theme.rules[k % theme.rules.length];
      const sw = h("span", { class: `lrw-swatch${s.default ? " lrw-swatch-default" : ""}`, "aria-hidden": "true" });
      sw.style.setProperty("--lrw-swatch", color);
      const item = h("button", {
        type: "button",
        class: `lrw-legend-item${s.default ? " lrw-default" : ""}`,
        title: `${s.name}: ${has ? formatLR(s.lr) : "no suggestion"} \u2014 ${s.reason || ""}`,
        "data-lr": has ? String(s.lr) : "",
        "aria-pressed": "false",
      }, [sw, h("span", { class: "lrw-legend-name", text: s.name }),
        h("span", { class: "lrw-legend-lr", text: has ? formatLR(s.lr) : "\u2014" })]);
      if (!has) item.disabled = true;
      item.addEventListener("click", () => selectSuggestion(s));
      legend.append(item);
    });
    legend.hidden = sugg.length === 0;
    picker.disabled = !sugg.some((s) => num(s.lr) !== null);
    updateSelectionUi();
  }

  // ---- selection and commands -----------------------------------------------------------------------
  function select(lr, index) {
    if (!Number.isFinite(lr)) return;
    localSel = { lr, index: Number.isInteger(index) ? index : null };
    send({ type: "select", lr, index: localSel.index });
    live.textContent = `Selected learning rate ${formatLR(lr)}`;
    updateSelectionUi();
    requestDraw();
  }
  function selectSuggestion(s) {
    if (num(s.lr) === null) return;
    select(s.lr, Number.isInteger(s.index) ? s.index : null);
  }
  function apply() {
    const lr = selectedLr();
    if (lr === null) return;
    send({ type: "apply", lr });
    live.textContent = `Applying learning rate ${formatLR(lr)}`;
  }

  applyBtn.addEventListener("click", apply);
  stopBtn.addEventListener("click", () => send({ type: "stop" }));
  picker.addEventListener("change", () => {
    const s = suggestions().find((x) => x.name === picker.value);
    if (s) selectSuggestion(s);
  });

  // ---- pointer ----------------------------------------------------------------------------------------
  function pointerPos(ev) {
    const r = canvas.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  }
  function inPlot(x, y) {
    if (!frame) return false;
    const p = frame.plot;
    return x >= p.left - 6 && x <= p.right + 6 && y >= p.top - 12 && y <= p.bottom + 6;
  }
  function showTooltip(x, y, html) {
    tooltip.innerHTML = html;
    tooltip.hidden = false;
    const bw = plotBox.clientWidth;
    const tw = tooltip.offsetWidth;
    const th = tooltip.offsetHeight;
    let tx = x + 14;
    if (tx + tw > bw - 4) tx = x - 14 - tw;
    let ty = y - th - 10;
    if (ty < 2) ty = y + 14;
    tooltip.style.transform = `translate(${Math.max(2, tx)}px, ${ty}px)`;
  }
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

  function onMove(ev) {
    const [x, y] = pointerPos(ev);
    if (!frame || !inPlot(x, y) || state.n === 0) {
      onLeave();
      return;
    }
    const mk = nearestMarker(frame.markers, x, y, 9);
    const newMarker = mk >= 0 ? frame.markers[mk].k : -1;
    let idx = -1;
    if (mk < 0) idx = nearestIndex(state.lr, state.n, frame.xScale.invert(x), logAxis(), null);
    if (newMarker !== hoverMarker || idx !== hoverIndex) {
      hoverMarker = newMarker;
      hoverIndex = idx;
      requestDraw();
    }
    canvas.style.cursor = mk >= 0 ? "pointer" : "crosshair";
    if (mk >= 0) {
      const s = frame.markers[mk].suggestion;
      showTooltip(x, y, `<b>${esc(s.name)}${s.default ? " (default)" : ""}</b> lr ${esc(formatLR(s.lr))}` +
        `<div class="lrw-tip-reason">${esc(s.reason || "")}</div><div class="lrw-tip-hint">click to select</div>`);
    } else if (idx >= 0) {
      const raw = state.loss[idx];
      const sm = state.smoothed[idx];
      showTooltip(x, y, `<b>lr ${esc(formatLR(state.lr[idx]))}</b>` +
        `<div>loss ${esc(formatLoss(sm))} <span class="lrw-tip-raw">raw ${esc(formatLoss(raw))}</span></div>` +
        `<div class="lrw-tip-hint">reading ${idx + 1}</div>`);
    }
  }
  function onLeave() {
    tooltip.hidden = true;
    if (hoverIndex !== -1 || hoverMarker !== -1) {
      hoverIndex = -1;
      hoverMarker = -1;
      requestDraw();
    }
  }
  function onClick(ev) {
    const [x, y] = pointerPos(ev);
    if (!frame || !inPlot(x, y) || state.n === 0) return;
    plotBox.focus({ preventScroll: true });
    const mk = nearestMarker(frame.markers, x, y, 9);
    if (mk >= 0) {
      selectSuggestion(frame.markers[mk].suggestion);
      return;
    }
    const idx = nearestIndex(state.lr, state.n, frame.xScale.invert(x), logAxis(), null);
    if (idx >= 0) select(state.lr[idx], idx);
  }
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerleave", onLeave);
  canvas.addEventListener("click", onClick);

  // ---- keyboard --------------------------------------------------------------------------------------
  function onKey(ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const n = state.n;
    let handled = true;
    const cur = selectedIndex();
    let fallback = -1;
    const def = suggestions().find((s) => s.default && Number.isInteger(s.index));
    if (def) fallback = def.index;
    else fallback = edgeIndex(n, validReading);
    let next = -2;
    switch (ev.key) {
      case "ArrowLeft":
      case "ArrowDown":
        next = cur < 0 ? stepIndex(-1, 0, n, validReading, fallback) : stepIndex(cur, ev.shiftKey ? -10 : -1, n, validReading);
        break;
      case "ArrowRight":
      case "ArrowUp":
        next = cur < 0 ? stepIndex(-1, 0, n, validReading, fallback) : stepIndex(cur, ev.shiftKey ? 10 : 1, n, validReading);
        break;
      case "Home":
        next = edgeIndex(n, validReading);
        break;
      case "End":
        next = edgeIndex(n, validReading, true);
        break;
      case "Enter":
        apply();
        break;
      default:
        handled = false;
    }
    if (!handled) return;
    ev.preventDefault();
    ev.stopPropagation(); // Jupyter's command-mode shortcuts must not see these keys
    if (next >= 0) {
      select(state.lr[next], next);
      hoverIndex = next;
      hoverMarker = -1;
      requestDraw();
      if (frame) {
        const x = frame.xScale.map(state.lr[next]);
        const yv = state.smoothed[next];
        const y = Number.isFinite(yv) ? frame.yScale.map(yv) : frame.plot.top + 20;
        showTooltip(x, Math.max(frame.plot.top, Math.min(frame.plot.bottom, y)),
          `<b>lr ${esc(formatLR(state.lr[next]))}</b><div>loss ${esc(formatLoss(yv))}</div>` +
          `<div class="lrw-tip-hint">Enter applies</div>`);
      }
    }
  }
  plotBox.addEventListener("keydown", onKey);
  plotBox.addEventListener("blur", () => onLeave());

  // ---- model events ---------------------------------------------------------------------------------
  function onCustom(msg, buffers) {
    const res = handleCustomMessage(state, msg, buffers || [], now());
    if (res.error) console.warn("lrwidget: ignored a malformed message:", res.error);
    if (res.needHello && now() - lastHello > HELLO_MIN_INTERVAL_MS) sendHello();
    if (res.changed) requestDraw();
    if (msg && msg.type === "heartbeat") updateStatus();
  }
  model.on("msg:custom", onCustom);
  cleanups.push(() => model.off("msg:custom", onCustom));

  const traitHandlers = {
    "change:selected_lr": () => {
      const v = num(get("selected_lr"));
      // The kernel's value wins once it arrives; keep the local index when it names the same lr.
      if (localSel && v === localSel.lr) return updateSelectionUi();
      localSel = null;
      updateSelectionUi();
      requestDraw();
    },
    "change:suggestions": () => {
      updateSuggestions();
      requestDraw();
    },
  };
  for (const name of ["status", "step", "num_iter", "elapsed", "eta", "diverged_lr", "error", "title", "pending_apply"]) {
    traitHandlers[`change:${name}`] = () => {
      lastTraitContact = now();
      updateStatus();
      if (name === "diverged_lr" || name === "status" || name === "pending_apply") {
        updateSelectionUi();
        requestDraw();
      }
    };
  }
  for (const name of ["applied_lr", "start_lr", "end_lr", "step_mode"]) {
    traitHandlers[`change:${name}`] = () => {
      updateSelectionUi();
      requestDraw();
    };
  }
  traitHandlers["change:height"] = () => {
    applyHeight();
    requestDraw();
  };
  for (const [ev, fn] of Object.entries(traitHandlers)) {
    model.on(ev, fn);
    cleanups.push(() => model.off(ev, fn));
  }
  // When the model is closed (comm closed, widget destroyed) there is no kernel behind this view.
  const onDestroy = () => {
    statusText.textContent = "Widget closed \u2014 no kernel behind this view";
    status.dataset.state = "disconnected";
    root.dataset.status = "disconnected";
    applyBtn.disabled = true;
    stopBtn.disabled = true;
  };
  try {
    model.on("destroy", onDestroy);
    cleanups.push(() => model.off("destroy", onDestroy));
  } catch (err) {
    // Older hosts without a destroy event: the contact timeout still catches a dead kernel.
  }

  function applyHeight() {
    const hgt = num(get("height"));
    plotBox.style.height = `${Math.max(160, hgt || 320)}px`;
  }

  // ---- placement (sidebar or inline) ------------------------------------------------------------------
  const viewId = newViewId();
  let where = null; // null until the view is in the page
  let expanded = false; // "Show here" pressed: this inline view (and its successors there) stays whole
  let placeTries = 0;
  function updateFold() {
    if (!expanded && where === "inline" && unfoldedAreas.has(outputAreaOf(el))) expanded = true;
    const folded = shouldFold({
      where,
      fallback: get("sidebar_fallback", false) === true,
      sidebarViews: get("sidebar_views", 0),
      expanded,
    });
    if (root.hidden !== folded) {
      root.hidden = folded;
      foldNote.hidden = !folded;
      if (!folded) requestDraw();
    }
  }
  function updatePlacement() {
    const w = placementOf(el);
    // A view taken out of the page without its cleanup (JupyterLab replacing an output, a closed
    // sidecar tab) would count as a sidebar view forever: out of the page is gone. Back in the page
    // (a windowed notebook re-attaching a cell), it reports its place again.
    if (w === null && where !== null) sayGone();
    if (w !== null && w !== where) {
      // CSS variables only resolve once el is in the page: the theme read in render() may be the
      // fallback, so read it again on the first placement.
      if (where === null) refreshTheme();
      where = w;
      root.dataset.placement = w; // browser tests read it
      send({ type: "placement", where: w, view: viewId });
    }
    updateFold();
  }
  function placeSoon() {
    // render() runs before the host attaches el; look again each frame until it is in the page
    // (then ResizeObserver and the 1 s ticker catch moves, a collapsed panel and the like).
    if (closed || where !== null || placeTries++ > 600) return;
    requestAnimationFrame(() => {
      updatePlacement();
      placeSoon();
    });
  }
  showHereBtn.addEventListener("click", () => {
    expanded = true;
    const area = outputAreaOf(el);
    if (area) unfoldedAreas.add(area);
    updateFold();
  });
  for (const ev of ["change:sidebar_views", "change:sidebar_fallback"]) {
    model.on(ev, updateFold);
    cleanups.push(() => model.off(ev, updateFold));
  }
  function sayGone() {
    if (where !== null) send({ type: "placement", where: "gone", view: viewId });
    where = null;
    delete root.dataset.placement;
  }
  window.addEventListener("pagehide", sayGone); // a reload runs no cleanup
  cleanups.push(() => window.removeEventListener("pagehide", sayGone));
  cleanups.push(sayGone);

  // ---- size, theme, timers ------------------------------------------------------------------------
  applyHeight();
  if (typeof ResizeObserver === "function") {
    const ro = new ResizeObserver(() => {
      updatePlacement();
      requestDraw();
    });
    ro.observe(plotBox);
    ro.observe(el);
    cleanups.push(() => ro.disconnect());
  }
  const onDpr = () => requestDraw();
  window.addEventListener("resize", onDpr);
  cleanups.push(() => window.removeEventListener("resize", onDpr));
  function refreshTheme() {
    theme = readTheme(el);
    updateSuggestions();
    requestDraw();
  }
  cleanups.push(watchTheme(refreshTheme));
  const ticker = setInterval(() => {
    // Re-evaluate "no contact" even when nothing arrives (that is the point).
    updateStatus();
    updatePlacement();
  }, 1000);
  cleanups.push(() => clearInterval(ticker));

  updateStatus();
  updateSuggestions();
  requestDraw();
  sendHello();
  placeSoon();

  return () => {
    if (rafId !== null) cancelAnimationFrame(rafId);
    for (const c of cleanups.splice(0)) {
      try {
        c();
      } catch (err) {
        console.warn("lrwidget: cleanup failed", err);
      }
    }
    closed = true; // after the cleanups: the last one says "gone"
    root.remove();
    foldNote.remove();
  };
}

export default { render };

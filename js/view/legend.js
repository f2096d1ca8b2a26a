// Legend: one button per suggestion rule (swatch, name, lr); clicking one selects that rule's lr.
import { formatLR } from "../format.js";
import { h } from "./dom.js";
import { num } from "./model_port.js";

/**
 * What each legend entry shows (pure), in the suggestions' order; `rules` is the theme's palette.
 * Returns [{suggestion, name, lrText, title, dataLr, color, isDefault, enabled}].
 */
export function legendEntries(suggestions, rules) {
  return suggestions.map((s, k) => {
    const has = num(s.lr) !== null;
    return {
      suggestion: s,
      name: s.name,
      lrText: has ? formatLR(s.lr) : "\u2014",
      title: `${s.name}: ${has ? formatLR(s.lr) : "no suggestion"} \u2014 ${s.reason || ""}`,
      dataLr: has ? String(s.lr) : "",
      color: rules[k % rules.length],
      isDefault: Boolean(s.default),
      enabled: has,
    };
  });
}

/** Is the entry whose data-lr is `dataLr` the selection? */
export function isPressed(dataLr, sel) {
  return dataLr !== "" && Number(dataLr) === sel;
}

function legendItem(e, onSelect) {
  const sw = h("span", { class: `lrw-swatch${e.isDefault ? " lrw-swatch-default" : ""}`, "aria-hidden": "true" });
  sw.style.setProperty("--lrw-swatch", e.color);
  const item = h(
    "button",
    {
      type: "button",
      class: `lrw-legend-item${e.isDefault ? " lrw-default" : ""}`,
      title: e.title,
      "data-lr": e.dataLr,
      "aria-pressed": "false",
    },
    [sw, h("span", { class: "lrw-legend-name", text: e.name }), h("span", { class: "lrw-legend-lr", text: e.lrText })],
  );
  if (!e.enabled) item.disabled = true;
  item.addEventListener("click", () => onSelect(e.suggestion));
  return item;
}

/** The legend of one view. Returns the cleanup. */
export function mountLegend({ dom, port, view, bus, actions }) {
  const rebuild = () => {
    const sugg = port.suggestions();
    dom.legend.innerHTML = "";
    for (const e of legendEntries(sugg, view.theme.rules)) dom.legend.append(legendItem(e, actions.selectSuggestion));
    dom.legend.hidden = sugg.length === 0;
  };
  const press = () => {
    const sel = actions.selectedLr();
    for (const item of dom.legend.querySelectorAll(".lrw-legend-item")) {
      item.setAttribute("aria-pressed", String(isPressed(item.dataset.lr, sel)));
    }
  };
  const offs = [bus.on("suggestions", rebuild), bus.on("selection", press)];
  return () => {
    for (const off of offs) off();
  };
}

// The plot's tooltip: its texts (pure HTML builders, escaped) and where it goes next to the pointer.
import { formatLoss, formatLR } from "../format.js";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
export const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ESCAPES[c]);

/** A suggestion marker under the pointer. */
export function markerTip(s) {
  return (
    `<b>${esc(s.name)}${s.default ? " (default)" : ""}</b> lr ${esc(formatLR(s.lr))}` +
    `<div class="lrw-tip-reason">${esc(s.reason || "")}</div><div class="lrw-tip-hint">click to select</div>`
  );
}

/** The reading nearest to the pointer (index i, shown 1-based). */
export function readingTip(lr, smoothed, raw, i) {
  return (
    `<b>lr ${esc(formatLR(lr))}</b>` +
    `<div>loss ${esc(formatLoss(smoothed))} <span class="lrw-tip-raw">raw ${esc(formatLoss(raw))}</span></div>` +
    `<div class="lrw-tip-hint">reading ${i + 1}</div>`
  );
}

/** The reading the arrow keys moved to. */
export function keyTip(lr, smoothed) {
  return (
    `<b>lr ${esc(formatLR(lr))}</b><div>loss ${esc(formatLoss(smoothed))}</div>` +
    `<div class="lrw-tip-hint">Enter applies</div>`
  );
}

/**
 * Top-left corner (px in the plot box) of a tip of tipW x tipH for the point (x, y): right of and
 * above the point, flipped left / below where it would leave a box `boxW` wide or its top.
 */
export function tooltipPosition(x, y, boxW, tipW, tipH) {
  let tx = x + 14;
  if (tx + tipW > boxW - 4) tx = x - 14 - tipW;
  let ty = y - tipH - 10;
  if (ty < 2) ty = y + 14;
  return { left: Math.max(2, tx), top: ty };
}

export function showTooltip(dom, x, y, html) {
  const { tooltip } = dom;
  tooltip.innerHTML = html;
  tooltip.hidden = false;
  const p = tooltipPosition(x, y, dom.plotBox.clientWidth, tooltip.offsetWidth, tooltip.offsetHeight);
  tooltip.style.transform = `translate(${p.left}px, ${p.top}px)`;
}

// Number and time formatting for labels, tooltips and the status line (pure). The formats the Python
// side writes too (lr, loss, tick labels, status words) follow lrwidget/pure/rules.json; lrwidget/pure/rules.py is
// the Python twin of each function here, and tests/test_rules.py checks both give the same text.
import rules from "../lrwidget/pure/rules.json" with { type: "json" };

const LR_DIGITS = rules.lrFormat.digits;
const LOSS = rules.lossFormat;
const TICK = rules.tickFormat;

const SUPERSCRIPT = {
  "-": "\u207b",
  0: "\u2070",
  1: "\u00b9",
  2: "\u00b2",
  3: "\u00b3",
  4: "\u2074",
  5: "\u2075",
  6: "\u2076",
  7: "\u2077",
  8: "\u2078",
  9: "\u2079",
};

/** "10⁻⁵" for exponent -5: the decade labels of a log axis. */
export function powerOfTen(exponent) {
  if (exponent === 0) return "1";
  if (exponent === 1) return "10";
  const digits = String(Math.round(exponent))
    .split("")
    .map((c) => SUPERSCRIPT[c] || c)
    .join("");
  return `10${digits}`;
}

function nonFinite(x) {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  return null;
}

/** The status word shown for a RangeTestResult.stop_reason ("completed" -> "done"); unknown -> itself. */
export function statusWord(stopReason) {
  return Object.hasOwn(rules.status, stopReason) ? rules.status[stopReason] : String(stopReason);
}

/**
 * A learning rate with `digits` (3) significant digits in the e-notation people type into code:
 * 3.16e-3, 1e-4, 2.5e-2, 2.5 (trailing zeros dropped, no "+" in the exponent; ties round half up).
 */
export function formatLR(x, digits = LR_DIGITS) {
  if (x === null || x === undefined) return "\u2014";
  const bad = nonFinite(x);
  if (bad) return bad;
  if (x === 0) return "0";
  const [mant, exp] = x.toExponential(Math.max(0, digits - 1)).split("e");
  const m = mant.includes(".") ? mant.replace(/0+$/, "").replace(/\.$/, "") : mant;
  const e = parseInt(exp, 10);
  return e === 0 ? m : `${m}e${e}`;
}

/**
 * A loss value with 4 significant digits; in formatLR's e-notation below 1e-3 and from 1e4 on (where
 * plain digits would need more than four).
 */
export function formatLoss(y, digits = LOSS.digits) {
  if (y === null || y === undefined) return "\u2014";
  const bad = nonFinite(y);
  if (bad) return bad;
  if (y === 0) return "0";
  const a = Math.abs(y);
  if (a >= 10 ** digits || a < LOSS.expBelow) return formatLR(y, digits);
  const s = y.toFixed(Math.max(0, digits - 1 - Math.floor(Math.log10(a))));
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

/** Seconds as m:ss or h:mm:ss ("0:07", "1:05", "1:02:03"); null/negative/NaN -> "—". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "\u2014";
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Label for a linear-axis tick, with just enough decimals for the tick spacing `step`. */
export function formatTick(value, step) {
  if (!Number.isFinite(value)) return "";
  if (step > 0 && Math.abs(value) < step * 1e-6) value = 0; // float noise at the zero tick
  const a = Math.abs(value);
  if (a !== 0 && (a >= TICK.expAtOrAbove || a < TICK.expBelow)) return formatLR(value, LR_DIGITS);
  const decimals = step > 0 ? Math.max(0, Math.min(TICK.maxDecimals, -Math.floor(Math.log10(step) + 1e-9))) : 2;
  // Avoid "-0" after rounding.
  const s = value.toFixed(decimals);
  return /^-0(\.0+)?$/.test(s) ? s.slice(1) : s;
}

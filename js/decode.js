// Decoding of the custom messages Python sends (pure). See DESIGN.md "Widget protocol".

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A Float64Array of `count` little-endian float64 values from a message buffer, which arrives as a
 * DataView, an ArrayBuffer or a typed array. A DataView may start at any byteOffset into a larger
 * buffer: aligned views are used in place, unaligned ones (or a big-endian host) are copied.
 */
export function toFloat64Array(buf, count = null) {
  let buffer;
  let offset;
  let length;
  if (buf instanceof ArrayBuffer) {
    buffer = buf;
    offset = 0;
    length = buf.byteLength;
  } else if (buf && ArrayBuffer.isView(buf)) {
    buffer = buf.buffer;
    offset = buf.byteOffset;
    length = buf.byteLength;
  } else {
    throw new TypeError(`buffer must be a DataView, ArrayBuffer or typed array, got ${typeof buf}`);
  }
  if (length % 8 !== 0) throw new RangeError(`buffer of ${length} bytes is not a whole number of float64`);
  const n = length / 8;
  if (count !== null && count !== n) {
    throw new RangeError(`buffer holds ${n} float64 values, the message says count=${count}`);
  }
  if (LITTLE_ENDIAN && offset % 8 === 0) return new Float64Array(buffer, offset, n);
  const view = new DataView(buffer, offset, length);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

function num(x) {
  return typeof x === "number" ? x : x === null || x === undefined ? null : Number(x);
}

/**
 * A `line` message (a finished run's line, drawn without lag): {type: "line", runId, count, line} with one
 * Float64Array of `count` values, finite or NaN (a gap); anything else is {type: "invalid", reason}.
 */
function decodeLine(msg, buffers) {
  const count = num(msg.count);
  if (!Number.isInteger(msg.run_id)) return { type: "invalid", reason: `line: bad run_id ${msg.run_id}` };
  if (!Number.isInteger(count) || count < 0) return { type: "invalid", reason: `line: bad count ${msg.count}` };
  if (buffers?.length !== 1) {
    return { type: "invalid", reason: `line needs 1 buffer, got ${buffers?.length ?? 0}` };
  }
  let line;
  try {
    line = toFloat64Array(buffers[0], count);
  } catch (err) {
    return { type: "invalid", reason: `line: ${err.message}` };
  }
  const inf = line.findIndex((y) => y === Infinity || y === -Infinity);
  if (inf >= 0) return { type: "invalid", reason: `line: value ${inf} is infinite` };
  return { type: "line", runId: msg.run_id, count, line };
}

/**
 * One decoded message: {type: "run" | "readings" | "line" | "heartbeat", ...} with camelCase fields and, for
 * readings, Float64Arrays lr / loss / smoothed (for a line, `line`). Returns {type: "invalid", reason} for malformed input
 * and null for message types this module does not know (they are ignored, for forward compatibility).
 */
export function decodeMessage(msg, buffers = []) {
  if (!msg || typeof msg !== "object") return { type: "invalid", reason: "message is not an object" };
  switch (msg.type) {
    case "run":
      return {
        type: "run",
        runId: msg.run_id,
        numIter: num(msg.num_iter),
        startLr: num(msg.start_lr),
        endLr: num(msg.end_lr),
        stepMode: msg.step_mode === "linear" ? "linear" : "exp",
      };
    case "readings": {
      const count = num(msg.count);
      const start = num(msg.start);
      if (!Number.isInteger(count) || count < 0) return { type: "invalid", reason: `bad count ${msg.count}` };
      if (!Number.isInteger(start) || start < 0) return { type: "invalid", reason: `bad start ${msg.start}` };
      if (!buffers || buffers.length < 3) {
        return { type: "invalid", reason: `readings needs 3 buffers, got ${buffers ? buffers.length : 0}` };
      }
      try {
        return {
          type: "readings",
          runId: msg.run_id,
          seq: num(msg.seq),
          start,
          count,
          replay: Boolean(msg.replay),
          lr: toFloat64Array(buffers[0], count),
          loss: toFloat64Array(buffers[1], count),
          smoothed: toFloat64Array(buffers[2], count),
        };
      } catch (err) {
        return { type: "invalid", reason: err.message };
      }
    }
    case "line":
      return decodeLine(msg, buffers);
    case "heartbeat":
      return { type: "heartbeat", t: num(msg.t) };
    default:
      return null;
  }
}

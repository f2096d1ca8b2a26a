// A tiny in-page stand-in for the kernel side of LRFinderWidget, for development screenshots only
// (the real JupyterLab tests live in tests/browser/). It speaks DESIGN.md's widget protocol.

function encode(arr) {
  // Like ipywidgets: buffers arrive as DataViews, here deliberately at a non-zero byteOffset.
  const bytes = new Uint8Array(8 + arr.length * 8);
  new Float64Array(bytes.buffer, 8, arr.length).set(arr);
  return new DataView(bytes.buffer, 8, arr.length * 8);
}

export function syntheticRun(num, startLr = 1e-6, endLr = 10, divergeAt = 0.93, seed = 7) {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lrs = new Float64Array(num);
  const loss = new Float64Array(num);
  const smoothed = new Float64Array(num);
  let avg = 0;
  for (let i = 0; i < num; i++) {
    const t = i / Math.max(1, num - 1);
    const lr = startLr * Math.pow(endLr / startLr, t);
    const l = Math.log10(lr);
    let y = 0.35 + 1.95 / (1 + Math.exp((l + 3.3) * 2.4)) + Math.exp((l + 0.2) * 3.2) * 0.6;
    y *= 1 + (rand() - 0.5) * 0.12;
    if (t > divergeAt) y = t > divergeAt + 0.02 ? Infinity : y * 40;
    lrs[i] = lr;
    loss[i] = y;
    avg = 0.95 * avg + 0.05 * y;
    smoothed[i] = avg / (1 - Math.pow(0.95, i + 1));
  }
  return { lrs, loss, smoothed };
}

export class FakeModel {
  constructor(traits) {
    this.traits = { ...traits };
    this.handlers = new Map();
    this.sent = [];
    this.run = null;
  }
  get(name) {
    return this.traits[name];
  }
  set(name, value) {
    this.traits[name] = value;
    this.emit(`change:${name}`, value);
  }
  save_changes() {}
  on(name, fn) {
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name).add(fn);
  }
  off(name, fn) {
    this.handlers.get(name)?.delete(fn);
  }
  emit(name, ...args) {
    for (const fn of this.handlers.get(name) || []) fn(...args);
  }
  // JS -> "Python".
  send(content) {
    this.sent.push(content);
    if (content.type === "hello") this.replay();
    if (content.type === "select") this.set("selected_lr", content.lr);
    if (content.type === "apply") this.set("applied_lr", content.lr ?? this.traits.selected_lr);
    if (content.type === "stop" && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
      this.set("status", "stopped");
    }
  }
  // "Python" -> JS.
  pushRun(run) {
    this.run = { ...run, seq: -1, sent: 0 };
    this.emit("msg:custom", { type: "run", run_id: run.id, num_iter: run.lrs.length, start_lr: run.startLr, end_lr: run.endLr, step_mode: "exp" }, []);
  }
  pushReadings(upto) {
    const r = this.run;
    const start = r.sent;
    if (upto <= start) return;
    r.seq++;
    const sl = (a) => a.slice(start, upto);
    this.emit("msg:custom", { type: "readings", run_id: r.id, seq: r.seq, start, count: upto - start, replay: false },
      [encode(sl(r.lrs)), encode(sl(r.loss)), encode(sl(r.smoothed))]);
    r.sent = upto;
  }
  replay() {
    const r = this.run;
    if (!r) return;
    this.emit("msg:custom", { type: "run", run_id: r.id, num_iter: r.lrs.length, start_lr: r.startLr, end_lr: r.endLr, step_mode: "exp" }, []);
    if (r.sent === 0) return;
    const sl = (a) => a.slice(0, r.sent);
    this.emit("msg:custom", { type: "readings", run_id: r.id, seq: Math.max(0, r.seq), start: 0, count: r.sent, replay: true },
      [encode(sl(r.lrs)), encode(sl(r.loss)), encode(sl(r.smoothed))]);
  }
}

"""Front-end drawing benchmark: one frame of the finder plot with 100,000 readings in headless
Chromium.

Bundles js/plot.js and js/state.js with esbuild (the code the widget ships), serves them on
127.0.0.1, feeds the readings through the view state as the widget gets them, and draws whole
frames (ranges, decimation, curves, markers, crosshair, labels) into a 1000x320 CSS-px canvas,
alternating 100,000 readings and 1,000 readings (the baseline) in interleaved pairs. Each sample
forces the canvas to rasterize (getImageData), so the time includes the pixels, not only the JS.
Three kinds of frame:
  live   the frame after a streamed batch (the last 50 readings new): what a running test draws;
  cold   nothing reusable but the view's buffers (a resize, a new x range): every reading
         decimated again;
  first  a view's first frame (a fresh plot cache: its buffers made, the left margin not yet
         known), as when a notebook opens or a late view gets the whole run at once.
Prints the median ms per frame for both sizes and the median ratio of the pairs. Target: <= 8 ms.

A fourth kind, ``compare``, is the compare chart (issue 20): 8 overlaid curves of 10,000 readings
each (the baseline: 8 of 1,000), frames as hovering draws them (the pointer on another reading of
another run each frame, the runs' columns reused) and cold (the column caches dropped, as after a
resize), rasterized inside the timing; interleaved pairs as for the curve. Then the cold frames of
the code at ``--compare-old`` (git; default: before the curves were filled as bands) against the
working tree's, alternating samples in two pages as for the training chart.

A fifth kind, ``training``, is the doctor's training chart (issue 18) of a 1,000,000-step
stream (the kernel's Trace, a spike at step 496,017): every frame draws columns it has not drawn
before (the overview, then 24 zooms in and out around the spike as the kernel answers them, the
canvas resized every 8th frame), rasterized inside the timing. The code at ``--old`` (git) and the
working tree's draw alternate sample by sample, each in a page of its own; prints both's
p10, median, p95 and max ms per frame and the median ratio.

Usage: .venv/bin/python benchmarks/draw.py [--pairs 40] [--dpr 1 2]
       [--modes live cold first compare training] [--old REV] [--compare-old REV]
"""

import argparse
import base64
import functools
import http.server
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Both size pages' timing: `frame(k, i)` draws frame i of "big" or "small"; samples of `frames`
# frames in interleaved pairs, which goes first alternating so that drift favours neither.
INTERLEAVED = """function interleaved(frame, frames, pairs, mode) {
  const sample = (k) => {
    const t0 = performance.now();
    for (let f = 0; f < frames; f++) frame(k, f);
    return (performance.now() - t0) / frames;
  };
  for (let w = 0; w < 5; w++) { sample("big"); sample("small"); } // warm up the JIT
  const big = [], small = [], ratio = [];
  for (let p = 0; p < pairs; p++) {
    const got = {};
    for (const k of p % 2 ? ["small", "big"] : ["big", "small"]) got[k] = sample(k);
    big.push(got.big); small.push(got.small); ratio.push(got.big / got.small);
  }
  const med = (a) => {
    const x = a.slice().sort((u, v) => u - v);
    const m = x.length >> 1;
    return x.length % 2 ? x[m] : (x[m - 1] + x[m]) / 2;
  };
  return { mode, big_ms: med(big), small_ms: med(small), ratio: med(ratio), pairs };
}"""

PAGE = """<!doctype html><meta charset="utf-8"><body style="margin:0">
<canvas id="c"></canvas>
<script type="module">
import { drawFrame, createPlotCache, createViewState, applyMessage } from "./plot.bundle.js";
/*INTERLEAVED*/
function viewState(n) {
  // Readings go through the view state exactly as the widget receives them (in 50-reading batches).
  const lr = new Float64Array(n), loss = new Float64Array(n), smoothed = new Float64Array(n);
  let s = 1, avg = 0;
  for (let i = 0; i < n; i++) {
    const t = i / (n - 1), x = Math.log10(1e-7) + t * 8;
    lr[i] = Math.pow(10, x);
    s = (s * 16807) % 2147483647;
    const clean = 0.4 + 1.9 / (1 + Math.exp((x + 3.3) * 2.4)) + 0.6 * Math.exp((x + 0.2) * 3.2);
    loss[i] = clean * (0.94 + 0.12 * s / 2147483647);
    avg = 0.98 * avg + 0.02 * loss[i];
    smoothed[i] = avg / (1 - Math.pow(0.98, i + 1));
  }
  const st = createViewState();
  applyMessage(st, { type: "run", runId: 1, numIter: n, startLr: 1e-7, endLr: 10,
    stepMode: "exp" });
  for (let i = 0, seq = 0; i < n; i += 50, seq++) {
    const e = Math.min(n, i + 50);
    applyMessage(st, { type: "readings", runId: 1, seq, start: i, count: e - i, replay: false,
      lr: lr.subarray(i, e), loss: loss.subarray(i, e), smoothed: smoothed.subarray(i, e) });
  }
  return st;
}
const theme = { dark: false, fg: "#1f2328", fgStrong: "#000", fgMuted: "#57606a",
  fgFaint: "#8c959f", bg: "#fff", panel: "#f6f8fa", panel2: "#eee", border: "#d0d7de",
  grid: "rgba(0,0,0,0.1)", accent: "#1976d2", selected: "#e65100",
  applied: "#388e3c", error: "#d32f2f", rules: ["#1976d2", "#9334e6", "#e8710a", "#188038"],
  font: "system-ui, sans-serif", fontSize: 11 };
window.bench = (pairs, dpr, frames, mode) => {
  const W = 1000, H = 320;
  const canvas = document.getElementById("c");
  canvas.width = W * dpr; canvas.height = H * dpr;
  canvas.style.width = W + "px"; canvas.style.height = H + "px";
  // CPU raster (as headless Chromium without a GPU does anyway): getImageData then costs a copy
  // of one pixel, not a GPU readback, and the timing holds the drawing work itself.
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const sets = { big: viewState(100000), small: viewState(1000) };
  const caches = { big: createPlotCache(), small: createPlotCache() };
  const frame = (k, i) => {
    const d = sets[k];
    // cold: nothing reusable (resize, new x range); first: a fresh view; live: the last 50 readings
    // are new, as when a streaming batch arrives (one batch per frame at most at ~20 batches/s).
    if (mode === "cold") caches[k].key = "";
    if (mode === "first") caches[k] = createPlotCache();
    const dirtyFrom = mode === "live" ? d.n - 50 : 0;
    const at = (f) => Math.floor(d.n * f);
    const sugg = [{ name: "valley", lr: d.lr[at(0.4)], index: at(0.4), default: true },
                  { name: "steep", lr: d.lr[at(0.35)], index: at(0.35), default: false }];
    drawFrame({ ctx, width: W, height: H, dpr, theme, data: d, log: true, startLr: 1e-7, endLr: 10,
      suggestions: sugg, selectedLr: d.lr[at(0.4)], appliedLr: d.lr[at(0.3)], divergedLr: null,
      hoverIndex: (i * 7919) % d.n, hoverMarker: -1, message: "", cache: caches[k], dirtyFrom });
    ctx.getImageData(0, 0, 1, 1); // make the canvas rasterize now, inside the timing
  };
  return interleaved(frame, frames, pairs, mode);
};
window.ready = true;
</script>""".replace("/*INTERLEAVED*/", INTERLEAVED)


COMPARE_PAGE = """<!doctype html><meta charset="utf-8"><body style="margin:0">
<canvas id="c"></canvas>
<script type="module">
// the working tree's code, or with ?code=old the one at --compare-old (a page, a renderer each)
const code = new URLSearchParams(location.search).get("code") || "new";
const { drawRunsFrame, createRunsCache, createCompareState, writeReadings } =
  await import(`./compare-${code}.bundle.js`);
/*INTERLEAVED*/
// 8 runs through the view's own state (writeReadings, as the kernel's messages fill it): noisy
// valleys half a decade apart, smoothed as the finder does (EMA 0.05, bias-corrected)
function runs(n) {
  const st = createCompareState();
  let s = 7;
  for (let k = 0; k < 8; k++) {
    const lr = new Float64Array(n), smoothed = new Float64Array(n);
    let avg = 0;
    for (let i = 0; i < n; i++) {
      const x = -6 + 7 * i / (n - 1), v = x - (-5 + k / 2);
      lr[i] = Math.pow(10, x);
      s = (s * 16807) % 2147483647;
      const raw = 2 - Math.exp(-v * v) + 0.2 * (s / 2147483647 - 0.5) + (v > 1.5 ? 3 : 0);
      avg = 0.05 * raw + 0.95 * avg;
      smoothed[i] = avg / (1 - Math.pow(0.95, i + 1));
    }
    writeReadings(st, k, 0, lr, smoothed);
  }
  return st.runs.map((r, k) => ({ ...r, visible: true, color: theme.runs[k], label: `run ${k}`,
    suggestion: { lr: r.lr[Math.floor(n * 0.4)], index: Math.floor(n * 0.4) } }));
}
const theme = { dark: false, fg: "#1f2328", fgMuted: "#57606a", bg: "#fff", border: "#d0d7de",
  grid: "rgba(0,0,0,0.1)", font: "system-ui, sans-serif", fontSize: 11,
  runs: ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000"] };
window.bench = (pairs, dpr, frames, mode) => {
  const W = 1000, H = 320;
  const canvas = document.getElementById("c");
  canvas.width = W * dpr; canvas.height = H * dpr;
  canvas.style.width = W + "px"; canvas.style.height = H + "px";
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const sets = { big: runs(10000), small: runs(1000) };
  const caches = { big: createRunsCache(), small: createRunsCache() };
  let i = 0;
  const frame = (k) => {
    const rs = sets[k], n = rs[0].n, run = i % 8, at = (i * 7919) % n;
    i++;
    if (mode === "compare-cold") caches[k] = createRunsCache();
    drawRunsFrame({ ctx, width: W, height: H, dpr, theme, runs: rs, log: true, trend: null,
      selected: { run: 1, lr: rs[1].lr[Math.floor(n / 3)] },
      hover: { run, lr: rs[run].lr[at], index: at }, cache: caches[k] });
    ctx.getImageData(0, 0, 1, 1); // rasterize now, inside the timing
  };
  return interleaved(frame, frames, pairs, mode);
};
// `n` cold frames of 8 x 10,000 readings (ms each), for the old code against the new
let cold = null;
window.coldSample = (n, dpr) => {
  const W = 1000, H = 320;
  const canvas = document.getElementById("c");
  if (canvas.width !== W * dpr) { canvas.width = W * dpr; canvas.height = H * dpr; }
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  cold ??= runs(10000);
  const ms = [];
  for (let f = 0; f < n; f++) {
    const t0 = performance.now();
    drawRunsFrame({ ctx, width: W, height: H, dpr, theme, runs: cold, log: true, trend: null,
      selected: { run: 1, lr: cold[1].lr[3333] },
      hover: { run: f % 8, lr: cold[f % 8].lr[f * 7919 % 10000], index: f * 7919 % 10000 },
      cache: createRunsCache() });
    ctx.getImageData(0, 0, 1, 1); // rasterize now, inside the timing
    ms.push(performance.now() - t0);
  }
  return ms;
};
window.ready = true;
</script>""".replace("/*INTERLEAVED*/", INTERLEAVED)


TRAINING_PAGE = """<!doctype html><meta charset="utf-8"><body style="margin:0">
<canvas id="c"></canvas>
<script type="module">
// one code per page (?code=old|new), each page in a renderer process of its own
const mod = await import(`./${new URLSearchParams(location.search).get("code")}.bundle.js`);
const theme = { dark: false, fgMuted: "#57606a", border: "#d0d7de", grid: "rgba(0,0,0,0.1)",
  accent: "#1976d2", rawAlpha: 0.3, selected: "#e65100", rules: ["#1976d2", "#9334e6"],
  font: "system-ui, sans-serif", fontSize: 11 };
const canvas = document.getElementById("c");
const ctx = canvas.getContext("2d", { willReadFrequently: true });
const run = { frames: [], i: 0, dpr: 1 };
// The snapshots go through the code's own applyTraining and shownColumns, as in the view.
window.setup = (snaps, dpr) => {
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
  const s = mod.createTrainingState();
  run.frames = snaps.map(({ msg, buf }) => {
    if (msg.zoom) {
      s.want = { lo: msg.lo, hi: msg.hi };
      s.req = msg.zoom;
    }
    mod.applyTraining(s, msg, [bytes(buf)]);
    return { cols: mod.shownColumns(s), events: s.events };
  });
  Object.assign(run, { i: 0, dpr });
  window.sample(2 * snaps.length); // warm up the JIT
};
// `n` frames, each of columns not drawn before; the canvas resized (cleared, reallocated) every 8th
window.sample = (n) => {
  const ms = [];
  for (let k = 0; k < n; k++, run.i++) {
    const { cols, events } = run.frames[run.i % run.frames.length];
    const width = run.i % 8 === 7 ? 700 : 1000, height = 320, dpr = run.dpr;
    const t0 = performance.now();
    if (canvas.width !== width * dpr) {
      canvas.width = width * dpr; canvas.height = height * dpr;
    }
    mod.drawTrainingFrame({ ctx, width, height, dpr, theme, cols, events });
    ctx.getImageData(0, 0, 1, 1); // rasterize now, inside the timing
    ms.push(performance.now() - t0);
  }
  return ms;
};
window.ready = true;
</script>"""


def training_snapshots(dpr: float) -> list:
    """The kernel's training messages for the chart of a 1,000,000-step stream (as in
    tests/browser/test_doctor_lab.py): the overview, then 12 zooms in and 12 out around the spike
    at step 496,017, each answered with a column per device pixel of a 1000-px-wide chart."""
    from lrwidget.channel.protocol import TrainingZoom
    from lrwidget.engine.watch_events import Chunk
    from lrwidget.views.training import TrainingFeed

    class Stream:  # what a feed listens to; the chunks come in by hand below
        def listen(self, callback):
            return lambda: None

        def scale_lr(self, factor, rollback=False):
            pass

    feed = TrainingFeed(lambda content, buffers: None)
    feed.attach(Stream())
    rng = np.random.default_rng(0)
    for start in range(0, 1_000_000, 8000):
        losses = 2.0 * np.exp(-start / 3e5) + 0.05 * rng.standard_normal(8000)
        if start == 496_000:
            losses[17] = 40.0
        lrs = np.full((8000, 1), 1e-3 * (0.1 if start > 7e5 else 1))
        feed.on_event(Chunk(start, losses, lrs, np.full(1, np.nan)))
    snaps = [feed.snapshot()]
    lo, hi, at = 0, 1_000_000, 496_017
    for req in range(1, 25):
        span = max(16, round((hi - lo) * (0.8 if req <= 12 else 1.25)))
        lo = max(0, min(1_000_000 - span, round(at - (at - lo) / (hi - lo) * span)))
        hi = lo + span
        snaps.append(feed.snapshot(TrainingZoom(lo, hi, min(2048, round(910 * dpr)), req)))
    feed.close()
    return [{"msg": c, "buf": base64.b64encode(b[0]).decode()} for c, b in snaps]


def old_tree(rev: str, dest: Path) -> Path:
    """The front end at git revision ``rev`` (js/ and the rules it reads), unpacked in ``dest``."""
    archive = subprocess.run(
        ["git", "archive", rev, "js", "lrwidget/pure/rules.json"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if archive.returncode:
        sys.exit(f"--old {rev}: git archive failed: {archive.stderr.decode().strip()}")
    dest.mkdir()
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def bundle(esbuild: Path, modules: list, out: Path) -> None:
    """One ES module exporting all that ``modules`` (paths) export, bundled as the widget is."""
    entry = out.with_suffix(".entry.js")
    entry.write_text("".join(f'export * from "{m}";\n' for m in modules))
    cmd = [str(esbuild), str(entry), "--bundle", "--format=esm", "--target=es2020"]
    subprocess.run([*cmd, f"--outfile={out}", "--log-level=warning"], cwd=ROOT, check=True)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def run_plot(page, args) -> list:
    """The range-test curve's frames (modes live, cold, first), 100,000 readings against 1,000."""
    results = []
    for mode in [m for m in args.modes if m in ("live", "cold", "first")]:
        for dpr in args.dpr:
            r = page.evaluate(f"window.bench({args.pairs}, {dpr}, {args.frames}, '{mode}')")
            r["dpr"] = dpr
            results.append(r)
            print(
                f"{mode:5} frame, dpr {dpr:g}: "
                f"100,000 readings {r['big_ms']:.2f} ms/frame (target <= 8), "
                f"1,000 readings {r['small_ms']:.2f} ms/frame, "
                f"ratio {r['ratio']:.2f} (median of {r['pairs']} interleaved pairs)",
                flush=True,
            )
    return results


def run_compare(page, args) -> list:
    """The compare chart's frames (8 curves): hover frames and cold ones, 10,000 readings a curve
    against 1,000."""
    results = []
    for mode in ("compare", "compare-cold"):
        for dpr in args.dpr:
            r = page.evaluate(f"window.bench({args.pairs}, {dpr}, {args.frames}, '{mode}')")
            r["dpr"] = dpr
            results.append(r)
            print(
                f"{mode:12} frame, dpr {dpr:g}: 8 x 10,000 readings {r['big_ms']:.2f} ms/frame "
                f"(target <= 8), 8 x 1,000 readings {r['small_ms']:.2f} ms/frame, "
                f"ratio {r['ratio']:.2f} (median of {r['pairs']} interleaved pairs)",
                flush=True,
            )
    return results


def run_compare_old(pages: dict, args) -> list:
    """The compare chart's cold frames (8 x 10,000 readings), the code at ``--compare-old``
    against the working tree's, alternating samples of ``--frames`` frames as for the training
    chart."""

    def setup(dpr):
        for page in pages.values():
            page.evaluate(f"window.coldSample(10, {dpr})")  # warm up the JIT
        return f"window.coldSample({args.frames}, {dpr})"

    what = f"compare-cold frame, {args.compare_old} against the working tree"
    return old_against_new(pages, args, "compare-cold-old", what, setup)


def old_against_new(pages: dict, args, mode: str, what: str, setup) -> list:
    """For each ``--dpr``: ``setup(dpr)`` (it returns the JS of one sample: a list of ms), then
    ``--pairs`` pairs of samples on the old and the new page; prints and returns both's p10,
    median, p95 and max ms per frame and the median new/old ratio."""
    results = []
    for dpr in args.dpr:
        ms, ratio = alternate(pages, setup(dpr), args.pairs)
        old, new = quantiles(ms["old"]), quantiles(ms["new"])
        r = {"mode": mode, "dpr": dpr, "old": old, "new": new}
        r.update(ratio=ratio, pairs=args.pairs, frames=len(ms["new"]))
        results.append(r)
        print(
            f"{what}, dpr {dpr:g}, ms/frame p10 / median / p95 / max: "
            f"old {' / '.join(f'{x:.2f}' for x in old)}, "
            f"new {' / '.join(f'{x:.2f}' for x in new)} (target <= 8) over "
            f"{r['frames']} frames each; new/old {ratio:.3f} (median of {args.pairs} "
            "interleaved pairs)",
            flush=True,
        )
    return results


def alternate(pages: dict, sample: str, pairs: int) -> tuple:
    """``pairs`` pairs of ``sample`` (JS returning a list of ms) on the "old" and the "new" page,
    which goes first alternating; returns both pages' ms and the median new/old ratio of means."""
    ms: dict = {"old": [], "new": []}
    ratio = []
    for p in range(pairs):
        got = {}
        for code in ("old", "new") if p % 2 else ("new", "old"):
            got[code] = pages[code].evaluate(sample)
            ms[code] += got[code]
        ratio.append(float(np.mean(got["new"]) / np.mean(got["old"])))
    return ms, float(np.median(ratio))


def quantiles(ms: list) -> list:
    """The p10 (the code's own cost: frames the shared machine did not interrupt), median, p95
    and max of ``ms``."""
    return [float(np.quantile(ms, q)) for q in (0.1, 0.5, 0.95)] + [max(ms)]


def run_training(pages: dict, args) -> list:
    """The training chart's frames: the code at ``--old`` and the working tree's, each in a page
    of its own, alternating samples of ``--frames`` frames (which goes first alternates too)."""

    def setup(dpr):
        snaps = training_snapshots(dpr)
        for page in pages.values():
            page.evaluate("([s, d]) => window.setup(s, d)", [snaps, dpr])
        return f"window.sample({args.frames})"

    return old_against_new(pages, args, "training", "training chart (1,000,000 steps)", setup)


def code_pages(browser, port: int, name: str) -> dict:
    """The old and the new code's page ``name`` (training.html, compare.html), on two origins (two
    renderer processes: the old code's long frames do not use up the new code's share of the
    CPU)."""
    pages = {}
    for code, host in (("old", "127.0.0.1"), ("new", "localhost")):
        page = browser.new_page(viewport={"width": 1100, "height": 400})
        page.goto(f"http://{host}:{port}/{name}?code={code}")
        page.wait_for_function("window.ready === true")
        pages[code] = page
    return pages


def build_pages(tmp: Path, esbuild: Path, old: str, compare_old: str) -> None:
    """The pages and their bundles under ``tmp``: index.html (the curve), compare.html,
    training.html (the last two with the code at ``compare_old`` and ``old``, as ?code=old)."""
    bundle(esbuild, [ROOT / "js/plot.js", ROOT / "js/state.js"], tmp / "plot.bundle.js")
    Path(tmp, "index.html").write_text(PAGE)
    for name, root in (("old", old_tree(compare_old, tmp / "old-compare")), ("new", ROOT)):
        compare = [root / "js/layers/runs.js", root / "js/view/compare_state.js"]
        bundle(esbuild, compare, tmp / f"compare-{name}.bundle.js")
    Path(tmp, "compare.html").write_text(COMPARE_PAGE)
    before = old_tree(old, tmp / "old")
    for name, root in (("old", before), ("new", ROOT)):
        mods = [root / "js/layers/training.js", root / "js/view/training_state.js"]
        bundle(esbuild, mods, tmp / f"{name}.bundle.js")
    Path(tmp, "training.html").write_text(TRAINING_PAGE)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=40)
    ap.add_argument("--frames", type=int, default=5, help="frames per timed sample")
    ap.add_argument("--dpr", type=float, nargs="+", default=[1.0, 2.0])
    ap.add_argument("--modes", nargs="+", default=["live", "cold", "first", "compare", "training"])
    # the training chart before issue 18's frame work (a git revision)
    ap.add_argument("--old", default="ecab886", help="git revision to compare with")
    # the compare chart's curves before they were filled as bands (stroked)
    ap.add_argument(
        "--compare-old", default="64433d1", help="git revision for the compare chart's cold frames"
    )
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    chromium = shutil.which("chromium")
    if not esbuild.exists() or chromium is None:
        sys.exit(
            "needs node_modules/.bin/esbuild (npm ci) and Debian chromium "
            "(scripts/setup.sh --browser)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        build_pages(Path(tmp), esbuild, args.old, args.compare_old)
        handler = functools.partial(Quiet, directory=tmp)
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        port = srv.server_address[1]
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=ARGS)
                page = browser.new_page(viewport={"width": 1100, "height": 400})
                page.goto(f"http://127.0.0.1:{port}/index.html")
                page.wait_for_function("window.ready === true")
                results = run_plot(page, args)
                if "compare" in args.modes:
                    page.goto(f"http://127.0.0.1:{port}/compare.html")
                    page.wait_for_function("window.ready === true")
                    results += run_compare(page, args)
                    results += run_compare_old(code_pages(browser, port, "compare.html"), args)
                if "training" in args.modes:
                    results += run_training(code_pages(browser, port, "training.html"), args)
                browser.close()
        finally:
            srv.shutdown()
    print(json.dumps(results))


if __name__ == "__main__":
    main()

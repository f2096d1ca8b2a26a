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

Usage: .venv/bin/python benchmarks/draw.py [--pairs 40] [--dpr 1 2] [--modes live cold first]
"""

import argparse
import functools
import http.server
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

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

PAGE = """<!doctype html><meta charset="utf-8"><body style="margin:0">
<canvas id="c"></canvas>
<script type="module">
import { drawFrame, createPlotCache, createViewState, applyMessage } from "./plot.bundle.js";
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
  const sample = (k) => {
    const t0 = performance.now();
    for (let f = 0; f < frames; f++) frame(k, f);
    return (performance.now() - t0) / frames;
  };
  for (let w = 0; w < 5; w++) { sample("big"); sample("small"); } // warm up the JIT
  const big = [], small = [], ratio = [];
  for (let p = 0; p < pairs; p++) {
    // Alternate which goes first so drift does not favour either.
    let b, s;
    if (p % 2) {
      s = sample("small"); b = sample("big");
    } else {
      b = sample("big"); s = sample("small");
    }
    big.push(b); small.push(s); ratio.push(b / s);
  }
  const med = (a) => {
    const x = a.slice().sort((u, v) => u - v);
    const m = x.length >> 1;
    return x.length % 2 ? x[m] : (x[m - 1] + x[m]) / 2;
  };
  return { mode, big_ms: med(big), small_ms: med(small), ratio: med(ratio), pairs };
};
window.ready = true;
</script>"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=40)
    ap.add_argument("--frames", type=int, default=5, help="frames per timed sample")
    ap.add_argument("--dpr", type=float, nargs="+", default=[1.0, 2.0])
    ap.add_argument("--modes", nargs="+", default=["live", "cold", "first"])
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
        entry = Path(tmp, "entry.js")
        entry.write_text(
            f'export * from "{ROOT}/js/plot.js";\nexport * from "{ROOT}/js/state.js";\n'
        )
        subprocess.run(
            [
                str(esbuild),
                str(entry),
                "--bundle",
                "--format=esm",
                "--target=es2020",
                f"--outfile={tmp}/plot.bundle.js",
                "--log-level=warning",
            ],
            cwd=ROOT,
            check=True,
        )
        Path(tmp, "index.html").write_text(PAGE)
        handler = functools.partial(Quiet, directory=tmp)
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=ARGS)
                page = browser.new_page(viewport={"width": 1100, "height": 400})
                page.goto(f"http://127.0.0.1:{srv.server_address[1]}/index.html")
                page.wait_for_function("window.ready === true")
                results = []
                for mode in args.modes:
                    for dpr in args.dpr:
                        call = f"window.bench({args.pairs}, {dpr}, {args.frames}, '{mode}')"
                        r = page.evaluate(call)
                        r["dpr"] = dpr
                        results.append(r)
                        print(
                            f"{mode:5} frame, dpr {dpr:g}: "
                            f"100,000 readings {r['big_ms']:.2f} ms/frame (target <= 8), "
                            f"1,000 readings {r['small_ms']:.2f} ms/frame, "
                            f"ratio {r['ratio']:.2f} (median of {r['pairs']} interleaved pairs)",
                            flush=True,
                        )
                browser.close()
        finally:
            srv.shutdown()
    print(json.dumps(results))


if __name__ == "__main__":
    main()

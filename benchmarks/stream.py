"""Cost of streaming a range test into a live LRFinderWidget, and what goes over the wire.

(a) Overhead, same conditions as ``benchmarks/overhead.py`` (MLP 64-64-10 on digits, batch 64,
    one torch thread, 300 steps, median of interleaved pairs): ``widget.run(...); widget.wait()``
    with a real :class:`lrwidget.LRFinderWidget` attached (its writer thread encodes every
    message; the comm is replaced by a counter, as no kernel runs here) against the bare loop.
    The plain range test without a widget is timed beside for reference. Target: <= 1.08.
(b) Wire: 5,000 steps of a very fast model (Linear(2, 1) on one batch), messages per second of
    the run (custom messages AND trait-update messages, heartbeats included; target <= 20) and
    bytes sent (buffers + JSON of every message) over the raw bytes of the readings (3 float64
    per reading; target <= 1.5).

Run: ``python benchmarks/stream.py [--pairs 31] [--steps 300] [--fast-steps 5000]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from overhead import END, START, _clock, _since, bare, data, fresh  # noqa: E402

from lrwidget import LRFinder, LRFinderWidget  # noqa: E402


class Counter:
    """Stands in for the comm: counts every message a widget sends, and its bytes."""

    def __init__(self, widget):
        self.n = 0
        self.json_bytes = 0
        self.buffer_bytes = 0
        self.saved_bytes = 0  # the finished run in the widget state (saved_readings), once a run
        self.kinds = {}
        widget._send = self

    def __call__(self, msg, buffers=None):
        self.n += 1
        kind = msg.get("content", {}).get("type") if msg.get("method") == "custom" else "update"
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.json_bytes += len(json.dumps(msg, separators=(",", ":")))
        n = sum(len(b) for b in buffers or ())
        if kind == "update":
            self.saved_bytes += n  # the only binary trait: written once, when the run ends
        else:
            self.buffer_bytes += n


def plain(loader, steps):
    model, opt = fresh()
    t = _clock()
    r = LRFinder(model, opt, nn.CrossEntropyLoss()).range_test(
        loader, start_lr=START, end_lr=END, num_iter=steps, diverge_th=float("inf")
    )
    dt = _since(t)
    assert len(r) == steps
    return dt


def with_widget(loader, steps):
    model, opt = fresh()
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    w = LRFinderWidget(finder)
    c = Counter(w)
    try:
        t = _clock()
        w.run(loader, start_lr=START, end_lr=END, num_iter=steps, diverge_th=float("inf"))
        r = w.wait()
        dt = _since(t)
    finally:
        w.close()
    assert len(r) == steps and c.n > 0
    return dt


def fast_wire(steps):
    torch.manual_seed(0)
    m = nn.Linear(2, 1)
    opt = torch.optim.SGD(m.parameters(), lr=1e-4)
    x, y = torch.randn(8, 2), torch.randn(8, 1)
    w = LRFinderWidget(LRFinder(m, opt))
    c = Counter(w)
    try:
        t0 = time.perf_counter()
        w.run(
            [(x, y)],
            start_lr=1e-4,
            end_lr=1e-2,
            num_iter=steps,
            diverge_th=float("inf"),
            step_fn=lambda mod, b: nn.functional.mse_loss(mod(b[0]), b[1]),
        )
        r = w.wait()
        dt = time.perf_counter() - t0
    finally:
        w.close()
    assert len(r) == steps
    raw = steps * 3 * 8
    return dt, c, raw


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=31)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--fast-steps", type=int, default=5000)
    a = p.parse_args(argv)
    if a.pairs < 5:
        p.error("--pairs must be >= 5 (median of at least 5 interleaved pairs)")
    torch.set_num_threads(1)
    loader = data()
    for _ in range(2):  # warm-up
        bare(loader, 30), plain(loader, 30), with_widget(loader, 30)

    wall, cpu, wall_plain = [], [], []
    for k in range(a.pairs):
        runs = [("bare", bare), ("plain", plain), ("widget", with_widget)]
        if k % 2:
            runs.reverse()  # alternate the order so drift does not favour one side
        t = {name: fn(loader, a.steps) for name, fn in runs}
        wall.append(t["widget"][0] / t["bare"][0])
        cpu.append(t["widget"][1] / t["bare"][1])
        wall_plain.append(t["plain"][0] / t["bare"][0])

    med = statistics.median
    print(
        f"(a) widget overhead: MLP 64-64-10 on digits, batch 64, 1 thread, {a.steps} steps, "
        f"{a.pairs} interleaved pairs"
    )
    print(
        f"  range test + widget / bare: wall {med(wall):.3f} [{min(wall):.3f}..{max(wall):.3f}]"
        f"   cpu-time {med(cpu):.3f} [{min(cpu):.3f}..{max(cpu):.3f}]   (target <= 1.08)"
    )
    print(f"  range test alone / bare:    wall {med(wall_plain):.3f}")

    dt, c, raw = fast_wire(a.fast_steps)
    sent = c.buffer_bytes + c.json_bytes
    print(
        f"(b) wire: {a.fast_steps} steps of Linear(2, 1) in {dt:.2f} s "
        f"({a.fast_steps / dt:.0f} steps/s)"
    )
    print(
        f"  messages: {c.n} ({', '.join(f'{k} {v}' for k, v in sorted(c.kinds.items()))})"
        f" -> {c.n / dt:.1f} messages/s (target <= 20)"
    )
    print(
        f"  bytes while streaming: {sent} sent ({c.buffer_bytes} buffers + {c.json_bytes} JSON) "
        f"/ {raw} raw = {sent / raw:.3f} (target <= 1.5)"
    )
    print(
        f"  plus the saved state at the end: {c.saved_bytes} bytes "
        f"({c.saved_bytes / a.fast_steps:.1f} per reading, target <= 30)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

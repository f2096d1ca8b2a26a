"""``python -m lrwidget demo``: a headless range test on scikit-learn's digits, summarised as text.

Example
-------
    python -m lrwidget demo --num-iter 100 --report report.html
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from typing import List, Optional

import numpy as np

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values, width: int = 60, top: Optional[float] = None) -> str:
    """Values as a row of block characters (NaN/inf as '×'), resampled to ``width``.

    ``top`` clips the scale (higher values show as a full block), so one exploding reading at
    the end does not flatten the rest of the curve.

    Example
    -------
    >>> sparkline([1, 2, 3, float("nan")], width=4)
    '▁▅█×'
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return ""
    if v.size > width:
        # mean of each bucket; a bucket holding a non-finite value shows it
        edges = np.linspace(0, v.size, width + 1).astype(int)
        v = np.array([v[a:b].mean() if np.isfinite(v[a:b]).all() else np.nan
                      for a, b in zip(edges[:-1], edges[1:])])
    fin = np.isfinite(v)
    if not fin.any():
        return "×" * v.size
    lo, hi = v[fin].min(), v[fin].max()
    if top is not None and lo < top < hi:
        hi = top
    span = hi - lo if hi > lo else 1.0
    out = []
    for x in v:
        if not math.isfinite(x):
            out.append("×")
        else:
            out.append(BARS[max(0, min(len(BARS) - 1, int((x - lo) / span * (len(BARS) - 1) + 0.5)))])
    return "".join(out)


def _digits_setup(batch_size: int = 64, seed: int = 0):
    import torch
    from torch import nn
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(0)) / (X.std(0) + 1e-6)
    ds = torch.utils.data.TensorDataset(torch.tensor(X, dtype=torch.float32),
                                        torch.tensor(y, dtype=torch.int64))
    g = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True, generator=g)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9)
    return model, opt, nn.CrossEntropyLoss(), loader


def summary(result, width: int = 60) -> str:
    """A compact text summary of a RangeTestResult."""
    from . import suggest as sg

    r = result
    lines = [f"readings: {len(r)} of {r.num_iter}   stop: {r.stop_reason}   "
             f"time: {r.elapsed:.2f}s   sweep: {r.start_lr:.1e} -> {r.end_lr:.1e} ({r.step_mode})"]
    if r.error:
        lines.append(f"error: {r.error}")
    if len(r):
        fin = np.isfinite(r.smoothed)
        lo = float(np.min(r.smoothed[fin])) if fin.any() else math.nan
        hi = float(np.max(r.smoothed[fin])) if fin.any() else math.nan
        # scale to the start of the curve: the explosion at the end is clipped, not the descent
        head = r.smoothed[: max(1, len(r) // 10)]
        head = head[np.isfinite(head)]
        top = float(head.max()) * 1.2 if head.size else None
        top_s = f"{min(top, hi):.3g}" if top is not None else f"{hi:.3g}"
        lines.append("")
        lines.append(f"smoothed loss  {sparkline(r.smoothed, width, top)}  "
                     f"[{lo:.3g} .. {top_s}, max {hi:.3g}]")
        lines.append(f"raw loss       {sparkline(r.losses, width, top)}")
        lines.append(f"lr             {r.lrs[0]:.1e}{' ' * max(1, width - 14)}{r.lrs[-1]:.1e}")
        # a few rows of the curve itself
        lines.append("")
        lines.append(f"{'step':>6} {'lr':>10} {'loss':>10} {'smoothed':>10}")
        n = len(r)
        for i in sorted(set(np.linspace(0, n - 1, min(n, 8)).astype(int).tolist())):
            lines.append(f"{i:>6} {r.lrs[i]:>10.3e} {r.losses[i]:>10.4g} {r.smoothed[i]:>10.4g}")
    lines.append("")
    lines.append("suggestions:")
    for name, s in r.suggestions.items():
        mark = "*" if name == sg.DEFAULT else " "
        lr = "   none  " if s.lr is None else f"{s.lr:.2e}"
        lines.append(f" {mark} {name:<8} {lr}  {s.reason}")
    lines.append(f"   (* default: {sg.DEFAULT})")
    return "\n".join(lines)


def demo(num_iter: int = 100, report: Optional[str] = None, end_lr: float = 10.0) -> int:
    import torch

    from .finder import LRFinder

    torch.set_num_threads(1)
    model, opt, crit, loader = _digits_setup()
    finder = LRFinder(model, opt, crit)
    t = time.perf_counter()
    result = finder.range_test(loader, start_lr=1e-5, end_lr=end_lr, num_iter=num_iter)
    print(f"lrwidget demo: LR range test, MLP 64-64-10 on scikit-learn digits, SGD momentum 0.9 "
          f"({time.perf_counter() - t:.2f}s)")
    print(summary(result))
    if report:
        try:
            from .report import save_html
        except ImportError as e:
            print(f"\nno HTML report: lrwidget.report is not available ({e})", file=sys.stderr)
            return 1
        save_html(result, report)
        print(f"\nHTML report written to {report}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lrwidget", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="run a range test on scikit-learn digits and print a summary")
    d.add_argument("--num-iter", type=int, default=100, help="steps of the test (default 100)")
    d.add_argument("--end-lr", type=float, default=10.0, help="last lr (default 10)")
    d.add_argument("--report", metavar="PATH", help="also write a self-contained HTML report")
    a = p.parse_args(argv)
    if a.cmd == "demo":
        if a.num_iter < 2:
            p.error("--num-iter must be >= 2")
        return demo(a.num_iter, a.report, a.end_lr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

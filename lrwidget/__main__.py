"""``python -m lrwidget demo``: a headless range test on scikit-learn's digits, summarised as text.

Needs scikit-learn (``pip install "lrwidget[demo]"``). Every argument, the ``--report`` path
included, is checked before the test starts; a bad one is a usage error (exit code 2).

Example
-------
    python -m lrwidget demo --num-iter 100 --report report.html
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

    from .engine.finder import LRFinder
    from .engine.history import RangeTestResult

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Any, width: int = 60, top: float | None = None) -> str:
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
        v = np.array(
            [
                v[a:b].mean() if np.isfinite(v[a:b]).all() else np.nan
                for a, b in zip(edges[:-1], edges[1:])
            ]
        )
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
            level = int((x - lo) / span * (len(BARS) - 1) + 0.5)
            out.append(BARS[max(0, min(len(BARS) - 1, level))])
    return "".join(out)


DEMO_START_LR = 1e-5
NEEDS_SKLEARN = 'python -m lrwidget demo needs scikit-learn: pip install "lrwidget[demo]"'
# the demo's options that are range_test arguments, by the name range_test's messages start with
_OPTIONS = {"end_lr": "--end-lr", "num_iter": "--num-iter"}


def _digits_setup(
    batch_size: int = 64, seed: int = 0
) -> tuple[torch.nn.Module, torch.optim.Optimizer, torch.nn.Module, Any]:
    """(model, optimizer, criterion, loader) of the demo; ImportError without scikit-learn."""
    import torch
    from sklearn.datasets import load_digits
    from torch import nn

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(0)) / (X.std(0) + 1e-6)
    ds = torch.utils.data.TensorDataset(
        torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.int64)
    )
    g = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True, generator=g)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9)
    return model, opt, nn.CrossEntropyLoss(), loader


def summary(result: RangeTestResult, width: int = 60) -> str:
    """A compact text summary of a RangeTestResult."""
    from .pure import suggest as sg

    r = result
    lines = [
        f"readings: {len(r)} of {r.num_iter}   stop: {r.stop_reason}   "
        f"time: {r.elapsed:.2f}s   sweep: {r.start_lr:.1e} -> {r.end_lr:.1e} ({r.step_mode})"
    ]
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
        lines.append(
            f"smoothed loss  {sparkline(r.smoothed, width, top)}  "
            f"[{lo:.3g} .. {top_s}, max {hi:.3g}]"
        )
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


def finite_number(text: str) -> float:
    """argparse type: a finite float (``inf`` and ``nan`` parse as floats but are no lr).

    Example
    -------
    >>> finite_number("1e-3")
    0.001
    >>> finite_number("inf")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a finite number, got 'inf'
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def report_problem(path: str) -> str | None:
    """Why an HTML report cannot be written to ``path``, or None when it can.

    Asked before the test starts, so a bad path does not cost a run. An existing file is left
    as it is; a file that did not exist is created to find out and removed again.

    Example
    -------
    >>> report_problem("/no/such/dir/report.html")
    "directory '/no/such/dir' does not exist"
    """
    full = os.path.abspath(path)
    if os.path.isdir(full):
        return (
            f"{path!r} is a directory; give a file name, e.g. "
            f"{os.path.join(path, 'lrwidget-report.html')!r}"
        )
    parent = os.path.dirname(full)
    if not os.path.exists(parent):
        return f"directory {parent!r} does not exist"
    if not os.path.isdir(parent):
        return f"{parent!r} is not a directory"
    existed = os.path.exists(full)
    try:
        with open(full, "a"):
            pass
    except OSError as e:
        return f"{path!r} is not writable ({e.strerror or e})"
    if not existed:
        os.remove(full)
    return None


def prepare_demo(num_iter: int = 100, end_lr: float = 10.0) -> tuple[LRFinder, Any, dict[str, Any]]:
    """(finder, loader, range_test kwargs) of the demo, its arguments checked; nothing run yet.

    Raises ImportError without scikit-learn and ValueError (naming ``num_iter`` or ``end_lr``)
    for a bad argument; :func:`main` turns both into a message.
    """
    from .engine.finder import LRFinder

    model, opt, crit, loader = _digits_setup()
    finder = LRFinder(model, opt, crit)
    kwargs = dict(start_lr=DEMO_START_LR, end_lr=end_lr, num_iter=num_iter)
    finder.check_range_test_args(loader, **kwargs)
    return finder, loader, kwargs


def run_demo(
    finder: LRFinder, loader: Any, kwargs: dict[str, Any], report: str | None = None
) -> int:
    """Run the prepared demo, print its summary and write the report; returns the exit code."""
    import torch

    torch.set_num_threads(1)
    t = time.perf_counter()
    result = finder.range_test(loader, **kwargs)
    print(
        f"lrwidget demo: LR range test, MLP 64-64-10 on scikit-learn digits, SGD momentum 0.9 "
        f"({time.perf_counter() - t:.2f}s)"
    )
    print(summary(result))
    if report:
        from .views.report import save_html

        save_html(result, report)
        print(f"\nHTML report written to {report}")
    return 0


def demo(num_iter: int = 100, report: str | None = None, end_lr: float = 10.0) -> int:
    """The demo from Python: :func:`prepare_demo`, then :func:`run_demo`."""
    return run_demo(*prepare_demo(num_iter, end_lr), report=report)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m lrwidget`` (help texts are plain text, not reST)."""
    from . import __version__

    p = argparse.ArgumentParser(
        prog="python -m lrwidget",
        description="lrwidget: a live, clickable learning-rate finder (LR range test) for "
        "PyTorch. In Jupyter, use lrwidget.find_lr(...); from the shell, run the demo.",
    )
    p.add_argument("--version", action="version", version=f"lrwidget {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    d = sub.add_parser(
        "demo",
        help="run a range test on scikit-learn's digits and print a summary",
        description="Run an LR range test (MLP 64-64-10 on scikit-learn's digits, SGD with "
        "momentum 0.9) and print the loss curve, a few readings and the suggested "
        'learning rates. Needs scikit-learn: pip install "lrwidget[demo]".',
        epilog="example: python -m lrwidget demo --num-iter 200 --report report.html",
    )
    d.add_argument(
        "--num-iter",
        type=int,
        default=100,
        metavar="N",
        help="steps of the test, at least 2 (default 100)",
    )
    d.add_argument(
        "--end-lr",
        type=finite_number,
        default=10.0,
        metavar="LR",
        help=f"last learning rate of the sweep, above the start {DEMO_START_LR:g} (default 10)",
    )
    d.add_argument(
        "--report", metavar="PATH", help="also write a self-contained HTML report to PATH"
    )
    d.set_defaults(parser=d)  # its errors read "python -m lrwidget demo: error: ..."
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m lrwidget`` and the ``lrwidget`` script; returns the exit code.

    Bad arguments end in argparse's usage error (``SystemExit(2)``), a missing scikit-learn in
    ``SystemExit(1)`` with the extra to install; both before any training step.
    """
    a = build_parser().parse_args(argv)
    d = a.parser
    if a.report is not None:
        problem = report_problem(a.report)
        if problem:
            d.error(f"argument --report: {problem}")
    try:
        prepared = prepare_demo(a.num_iter, a.end_lr)
    except ModuleNotFoundError as e:
        if e.name is None or e.name.split(".")[0] != "sklearn":
            raise
        d.exit(1, NEEDS_SKLEARN + "\n")
    except ValueError as e:
        # range_test's own check (the one rule for its arguments): name the option instead
        msg = str(e)
        for name, option in _OPTIONS.items():
            if msg.startswith(name + " "):
                d.error(f"argument {option}: {msg[len(name) + 1 :]}")
        raise
    return run_demo(*prepared, report=a.report)


if __name__ == "__main__":
    sys.exit(main())

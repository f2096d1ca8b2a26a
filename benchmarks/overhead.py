"""Overhead of lrwidget's range test over a bare training loop (and torch-lr-finder's, if present).

Setup (issue 2): a small MLP (64-64-10) on scikit-learn's digits, batch 64, one torch thread,
300 steps. The bare loop does the same steps with the same lr schedule and nothing else: set
the lr, zero_grad, forward, loss, backward, step. The range test's time includes everything it
does around that (snapshot, readings, restore). Runs are interleaved (the order alternates
between pairs) and the median of the per-pair ratios is printed. Target: <= 1.03.

torch-lr-finder is timed beside when importable (it is not a dependency; e.g.
``pip install --target /tmp/tlf torch-lr-finder tqdm --no-deps`` and run with
``PYTHONPATH=/tmp/tlf``).

Run: ``python benchmarks/overhead.py [--pairs 21] [--steps 300]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lrwidget import LRFinder
from lrwidget.engine.history import History
from lrwidget.pure.schedule import schedule

START, END = 1e-4, 0.5


def _clock():
    return time.perf_counter(), time.process_time()


def _since(t):
    # wall time, and CPU time of this process (less disturbed by other load on a shared machine)
    return time.perf_counter() - t[0], time.process_time() - t[1]


def data(batch_size=64):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(0)) / (X.std(0) + 1e-6)
    ds = torch.utils.data.TensorDataset(
        torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.int64)
    )
    return torch.utils.data.DataLoader(
        ds, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(0)
    )


def fresh(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    return model, torch.optim.SGD(model.parameters(), lr=START, momentum=0.9)


def bare(loader, steps):
    model, opt = fresh()
    crit = nn.CrossEntropyLoss()
    lrs = schedule(START, END, steps, "exp")[:, 0].tolist()
    g = opt.param_groups[0]
    t = _clock()
    model.train()
    it = iter(loader)
    for i in range(steps):
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        g["lr"] = lrs[i]
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
    return _since(t)


def ours(loader, steps):
    model, opt = fresh()
    t = _clock()
    r = LRFinder(model, opt, nn.CrossEntropyLoss()).range_test(
        loader, start_lr=START, end_lr=END, num_iter=steps, diverge_th=float("inf")
    )
    dt = _since(t)
    assert len(r) == steps, (len(r), r.stop_reason)
    return dt


def theirs(loader, steps):
    import contextlib
    import io

    from torch_lr_finder import LRFinder as TLF

    model, opt = fresh()
    t = _clock()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        f = TLF(model, opt, nn.CrossEntropyLoss())
        f.range_test(loader, start_lr=START, end_lr=END, num_iter=steps, diverge_th=1e30)
        f.reset()
    return _since(t)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=21)
    p.add_argument("--steps", type=int, default=300)
    a = p.parse_args(argv)
    if a.pairs < 5:
        p.error("--pairs must be >= 5 (median of at least 5 interleaved pairs)")
    torch.set_num_threads(1)
    loader = data()
    try:
        import torch_lr_finder  # noqa: F401

        have_tlf = True
    except ImportError:
        have_tlf = False

    for _ in range(2):  # warm-up: allocator, autograd, imports
        bare(loader, 30), ours(loader, 30)
        if have_tlf:
            theirs(loader, 30)

    ratios = {"ours": ([], []), "tlf": ([], [])}
    t_bare = []
    for k in range(a.pairs):
        runs = [("bare", bare), ("ours", ours)] + ([("tlf", theirs)] if have_tlf else [])
        if k % 2:
            runs.reverse()  # alternate the order so drift does not favour one side
        t = {name: fn(loader, a.steps) for name, fn in runs}
        t_bare.append(t["bare"][0])
        for name in ratios:
            if name in t:
                for j in (0, 1):
                    ratios[name][j].append(t[name][j] / t["bare"][j])

    med = statistics.median
    print(
        f"range-test overhead: MLP 64-64-10 on digits, batch 64, 1 thread, {a.steps} steps, "
        f"{a.pairs} interleaved pairs"
    )
    print(
        f"  bare loop: median {med(t_bare) * 1e3:.1f} ms wall "
        f"({med(t_bare) / a.steps * 1e6:.0f} us/step)"
    )
    print(f"  {'':24} {'wall ratio':>22}   {'cpu-time ratio':>22}")
    for name, label in (("ours", "lrwidget / bare"), ("tlf", "torch-lr-finder / bare")):
        w, c = ratios[name]
        if not w:
            print(f"  {label:24} not installed (optional; see the module docstring)")
            continue
        print(
            f"  {label:24} {med(w):6.3f} [{min(w):.3f}..{max(w):.3f}]   "
            f"{med(c):6.3f} [{min(c):.3f}..{max(c):.3f}]"
        )
    print("  target for lrwidget: <= 1.03 (median ratio)")
    h = History(100_000, 0.05)
    print(
        f"memory: {h.nbytes / 100_000:.0f} bytes per reading, "
        f"{h.nbytes / 1e6:.1f} MB per 100k readings (target <= 4 MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

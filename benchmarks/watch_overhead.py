"""Overhead of ``finder.watch()`` over the bare training loop (issue 18: goal <= 1.03).

Setup: a small MLP (64-64-10; ``--hidden 512 512`` for 64-512-512-10) on scikit-learn's digits,
batch 64, SGD with momentum and a LambdaLR, one torch thread, ``--steps`` steps per run. The
default width is the worst case: the watch's work per step is nearly fixed (tens of us), and a
64-64-10 step is only ~0.7 ms here. The bare loop: forward, loss, backward,
step, scheduler step, zero_grad. The watched loop adds ``watch.record(loss)`` and everything the
watch does (its step hooks, one sync per 16 steps, the doctor, the update/weight ratios, a
snapshot every 64 steps into the ring). Batches are made beforehand (the same list for both).
Runs are interleaved (the order rotates between rounds); the median of the per-round ratios of
CPU time (less disturbed by other load on a shared machine) and of wall time is printed, beside
the ratio of two bare runs (the machine's noise floor).

Run: ``python benchmarks/watch_overhead.py [--pairs 21] [--steps 400] [--hidden 64]``

``--instructions``: instead, count the instructions each loop executes (valgrind's callgrind,
instrumenting only the timed loop, after a warm-up run of 80 steps; ``PYTHONHASHSEED=0``): the
bare loop's and the watched loop's per step, and their ratio. A count does not depend on the
machine's load (2 cores shared by 3 people give wall ratios +-8%), so it compares two versions
of the watch where time cannot; it ignores cache misses (the watch's cold code costs more per
instruction than the training step's), so it is a lower bound of the time ratio. About 2 minutes
(two valgrind runs side by side); needs ``valgrind`` on the PATH. ``--without PART`` (with
``--instructions``) makes one part a no-op first, to count what it costs: ``snapshots``,
``ratios`` or ``doctor``.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lrwidget import LRFinder


def batches(n: int) -> list:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(0)) / (X.std(0) + 1e-6)
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.int64)
    g = torch.Generator().manual_seed(0)
    out = []
    while len(out) < n:
        perm = torch.randperm(len(X), generator=g)
        out += [(X[perm[i : i + 64]], y[perm[i : i + 64]]) for i in range(0, len(X) - 63, 64)]
    return out[:n]


# the MLP's hidden widths (--hidden)
HIDDEN = [64]


def fresh():
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for a, b in zip([64, *HIDDEN], HIDDEN):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(HIDDEN[-1], 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.999**s)
    return model, opt, sched


def run(data: list, watched: bool) -> tuple[float, float]:
    model, opt, sched = fresh()
    crit = nn.CrossEntropyLoss()
    t0, c0 = time.perf_counter(), time.process_time()
    if watched:
        with LRFinder(model, opt, crit).watch(sched, progress=False) as watch:
            for x, y in data:
                loss = crit(model(x), y)
                loss.backward()
                opt.step()
                sched.step()
                opt.zero_grad()
                watch.record(loss)
    else:
        for x, y in data:
            loss = crit(model(x), y)
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
    return time.perf_counter() - t0, time.process_time() - c0


def clock_cost(n: int = 20000) -> float:
    """Seconds a timed interval adds by itself: what lands inside it of two reads of the thread's
    CPU clock (a system call here, ~1 us: as much as the work timed on some steps)."""
    inside = 0.0
    for _ in range(n):
        a = time.thread_time()
        inside += time.thread_time() - a
    return inside / n


def bare_cpu(data: list, rounds: int = 5) -> float:
    """The bare loop's thread CPU time per step, best of ``rounds``."""
    best = math.inf
    for _ in range(rounds):
        model, opt, sched = fresh()
        crit = nn.CrossEntropyLoss()
        c0 = time.thread_time()
        for x, y in data:
            loss = crit(model(x), y)
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
        best = min(best, (time.thread_time() - c0) / len(data))
    return best


def parts(data: list, rounds: int = 5) -> dict[str, float]:
    """The watch's own work, timed inside a watched run: microseconds per step of thread CPU
    time spent in ``record()`` (staging, and at each sync the chunk, the doctor, a snapshot when
    due) and in its optimizer step hooks (the lrs, the update/weight ratios on each chunk's last
    step), less the clock's own cost; the best of ``rounds`` runs. CPU time, not wall: a
    preemption by another process (a 5-10 ms slice on a loaded machine) inside a 2 us hook would
    count as the watch's. Both scale with the machine's load alike with the bare step, so their
    ratio to it says the overhead even where wall-clock pairs are noisy."""
    best: dict[str, float] = {}
    cost = clock_cost()
    for _ in range(rounds):
        model, opt, sched = fresh()
        crit = nn.CrossEntropyLoss()
        spent = {"record": 0.0, "hooks": 0.0}
        calls = {"record": 0, "hooks": 0}
        watch = LRFinder(model, opt, crit).watch(sched, progress=False)

        def timed(fn, key, spent=spent, calls=calls):
            def wrapper(*a):
                t = time.thread_time()
                fn(*a)
                spent[key] += time.thread_time() - t
                calls[key] += 1

            return wrapper

        watch._before_step = timed(watch._before_step, "hooks")
        watch._after_step = timed(watch._after_step, "hooks")
        record = timed(watch.record, "record")
        with watch:
            for x, y in data:
                loss = crit(model(x), y)
                loss.backward()
                opt.step()
                sched.step()
                opt.zero_grad()
                record(loss)
        for k, v in spent.items():
            best[k] = min(best.get(k, math.inf), (v - calls[k] * cost) * 1e6 / len(data))
    return best


def without(part: str) -> None:
    """Make one part of the watch a no-op (``--without``): what the rest costs without it."""
    from lrwidget.engine.watch_ratios import UpdateRatios
    from lrwidget.engine.watch_ring import Ring
    from lrwidget.pure.verdict import Doctor

    if part == "snapshots":
        Ring.take = lambda self, step, nbytes: None
    elif part == "ratios":
        UpdateRatios.before = UpdateRatios.after = lambda self: None
    elif part == "doctor":
        Doctor.update = lambda self, losses, lrs: self.diagnosis


def counted(mode: str, steps: int) -> None:
    """The child under callgrind: warm up, then run the loop once between the parent's
    "instrument on" and "off" (the parent toggles it: a subprocess spawned here would be
    counted, ~5 M instructions)."""
    data = batches(steps)
    run(data[:80], mode == "watch")  # every path taken once (imports, first calls)
    print("ready", flush=True)
    sys.stdin.readline()  # the parent turned the instrumentation on
    run(data, mode == "watch")
    print("done", flush=True)
    sys.stdin.readline()


def instructions(steps: int, part: str | None) -> None:
    """Count each loop's instructions under callgrind (two runs side by side) and print them."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    jobs = {}
    for mode in ("bare", "watch"):
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--cache-sim=no"]
        cmd += ["--callgrind-out-file=/dev/null", sys.executable, __file__, "--steps", str(steps)]
        cmd += ["--hidden", *map(str, HIDDEN)]
        cmd += ["--child", mode] + (["--without", part] if part else [])
        pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        jobs[mode] = subprocess.Popen(cmd, env=env, text=True, **pipes)
    for step in ("on", "off"):  # each child: ready, instrument on, go; done, off, end
        for job in jobs.values():
            job.stdout.readline()
            ctl = ["callgrind_control", "-i", step, str(job.pid)]
            subprocess.run(ctl, check=True, capture_output=True, timeout=600)
            job.stdin.write("\n")
            job.stdin.flush()
    per_step = {}
    for mode, job in jobs.items():
        _, err = job.communicate(timeout=1800)
        found = re.findall(r"Collected : (\d+)", err)
        if job.returncode or not found:
            raise SystemExit(f"valgrind failed ({mode}): {err[-2000:]}")
        per_step[mode] = int(found[-1]) / steps
    bare, watch = per_step["bare"], per_step["watch"]
    print(
        f"instructions per step ({steps} steps{', without ' + part if part else ''}): "
        f"bare {bare:,.0f}, watch() {watch:,.0f} (+{watch - bare:,.0f}): watch()/bare "
        f"{watch / bare:.4f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=21)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--instructions", action="store_true", help="count instructions (valgrind)")
    ap.add_argument("--without", choices=["snapshots", "ratios", "doctor"])
    ap.add_argument("--hidden", type=int, nargs="+", default=[64], help="the MLP's hidden widths")
    ap.add_argument("--child", choices=["bare", "watch"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    HIDDEN[:] = args.hidden
    torch.set_num_threads(1)
    if args.without:
        without(args.without)
    if args.child:
        return counted(args.child, args.steps)
    if args.instructions:
        return instructions(args.steps, args.without)
    data = batches(args.steps)
    run(data, True), run(data, False)  # warm up
    t: dict[str, list] = {"watch": [], "bare": [], "bare2": []}
    for i in range(args.pairs):
        # a second bare run in each round: the ratio bare2 / bare is this machine's noise floor
        order = ["watch", "bare", "bare2"]
        for name in order[i % 3 :] + order[: i % 3]:
            t[name].append(run(data, name == "watch"))
    for j, what in ((1, "CPU time"), (0, "wall")):
        w = statistics.median(a[j] / b[j] for a, b in zip(t["watch"], t["bare"]))
        c = statistics.median(a[j] / b[j] for a, b in zip(t["bare2"], t["bare"]))
        best = min(a[j] for a in t["watch"]) / min(b[j] for b in t["bare"])
        print(f"{what}: watch()/bare median {w:.3f}, best/best {best:.3f}; bare/bare {c:.3f}")
    bare = min(b[0] for b in t["bare"]) / args.steps
    widths = "-".join(map(str, [64, *HIDDEN, 10]))
    print(
        f"bare loop ({widths} MLP): {bare * 1e6:.0f} us/step (best), {args.steps} steps, "
        f"{args.pairs} rounds"
    )
    own, cpu = parts(data), bare_cpu(data)
    print(
        f"the watch's own work (thread CPU time): record() {own['record']:.1f} us/step, step hooks "
        f"{own['hooks']:.1f} us/step: {sum(own.values()) / (cpu * 1e6):.1%} of the bare step's "
        f"{cpu * 1e6:.0f} us"
    )
    print("goal: <= 1.03")


if __name__ == "__main__":
    main()

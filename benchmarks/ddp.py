"""Overhead of a collective range test over a bare DDP training loop, 2 ranks (issue 11).

Setup: an MLP (64-64-10) on scikit-learn's digits wrapped in DistributedDataParallel, gloo on
CPU, each rank its own half of the data (as a DistributedSampler gives), batch 64, one torch
thread per rank, 300 steps. The bare loop does the same steps with the same lr schedule on
every rank and nothing else: set the lr, zero_grad, forward, loss, backward (DDP's all-reduce),
step. The range test's time includes everything it does around that: the start agreement of
the ranks, the snapshot, the readings, one reduction of the losses per 16 steps, the restore.
Each run starts after a barrier and is timed on rank 0 up to the end of the slower rank (a
second barrier, in both). Runs are interleaved (the order alternates between pairs); the median
of the per-pair ratios is printed. Target: <= 1.05.

Run: ``python benchmarks/ddp.py [--pairs 15] [--steps 300]`` (it starts torchrun itself).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = 1e-4, 0.5


def _clock():
    return time.perf_counter(), time.process_time()


def _since(t):
    # wall time, and CPU time of this process (less disturbed by other load on a shared machine)
    return time.perf_counter() - t[0], time.process_time() - t[1]


def launch(argv: list[str]) -> int:
    """Run this file under torchrun with 2 ranks (the workers do the measuring)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "--max_restarts=0",
        __file__,
        "--worker",
        *argv,
    ]
    return subprocess.run(cmd, env=env, check=False).returncode


def worker(pairs: int, steps: int) -> int:
    import torch
    import torch.distributed as dist
    from torch import nn

    sys.path.insert(0, str(ROOT))
    from lrwidget import LRFinder
    from lrwidget.pure.schedule import schedule

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()

    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(0)) / (X.std(0) + 1e-6)
    X = torch.tensor(X, dtype=torch.float32)[rank::world]  # this rank's shard
    y = torch.tensor(y, dtype=torch.int64)[rank::world]
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X, y),
        batch_size=64,
        shuffle=True,
        generator=torch.Generator().manual_seed(rank),
    )
    crit = nn.CrossEntropyLoss()

    def fresh():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        ddp = nn.parallel.DistributedDataParallel(model)
        return ddp, torch.optim.SGD(ddp.parameters(), lr=START, momentum=0.9)

    def bare(n):
        model, opt = fresh()
        lrs = schedule(START, END, n, "exp")[:, 0].tolist()
        g = opt.param_groups[0]
        dist.barrier()
        t = _clock()
        model.train()
        it = iter(loader)
        for i in range(n):
            try:
                xb, yb = next(it)
            except StopIteration:
                it = iter(loader)
                xb, yb = next(it)
            g["lr"] = lrs[i]
            opt.zero_grad()
            loss = crit(model(xb), yb)
            loss.backward()
            opt.step()
        dist.barrier()
        return _since(t)

    def ours(n):
        model, opt = fresh()
        finder = LRFinder(model, opt, crit)
        dist.barrier()
        t = _clock()
        r = finder.range_test(
            loader, start_lr=START, end_lr=END, num_iter=n, diverge_th=1e30, progress=False
        )
        dist.barrier()
        dt = _since(t)
        assert len(r) == n, (len(r), r.stop_reason)
        return dt

    for _ in range(2):  # warm-up: allocator, autograd, DDP's buckets, imports
        bare(30), ours(30)
    ratios: tuple[list, list] = ([], [])
    t_bare = []
    for k in range(pairs):
        runs = [("bare", bare), ("ours", ours)]
        if k % 2:
            runs.reverse()  # alternate the order so drift does not favour one side
        t = {name: fn(steps) for name, fn in runs}
        t_bare.append(t["bare"][0])
        for j in (0, 1):
            ratios[j].append(t["ours"][j] / t["bare"][j])
    if rank == 0:
        med = statistics.median
        print(
            f"DDP range-test overhead: MLP 64-64-10 on digits, {world} ranks (gloo, CPU), "
            f"batch 64 per rank, 1 thread each, {steps} steps, {pairs} interleaved pairs"
        )
        print(
            f"  bare DDP loop: median {med(t_bare) * 1e3:.1f} ms wall "
            f"({med(t_bare) / steps * 1e6:.0f} us/step)"
        )
        w, c = ratios
        print(
            f"  lrwidget / bare: wall median {med(w):.3f} [{min(w):.3f}..{max(w):.3f}], "
            f"rank 0's cpu time median {med(c):.3f} [{min(c):.3f}..{max(c):.3f}]   "
            "(target <= 1.05)"
        )
    dist.destroy_process_group()
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--pairs", type=int, default=15)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.pairs < 5:
        p.error("--pairs must be >= 5 (median of at least 5 interleaved pairs)")
    if a.worker:
        return worker(a.pairs, a.steps)
    return launch(["--pairs", str(a.pairs), "--steps", str(a.steps)])


if __name__ == "__main__":
    sys.exit(main())

"""Batch size, measured (issue 20): how the suggested lr scales with the batch size on the digits
MLP, fitted as lr* ∝ B^a by ``lrwidget.compare_batch_sizes``.

For SGD (momentum 0.9) and Adam: the digits MLP of ``tasks.digits_mlp`` (64-128-10, init seed 0),
a range test 1e-7 -> 10 in 100 steps at each batch size and seed (the seed orders the data), the
default suggestion of each run, and the fit: the exponent ``a`` (mean over the seeds), its spread
(their standard deviation), the 95 % interval's half width the rule is read from (never below
one tested-lr step over the batch sizes' span) and the rule. The rules it is compared with:
linear (a = 1, SGD: Goyal et al. 2017) and square root (a = 0.5, Adam: Malladi et al. 2022),
each also told apart from no scaling (a = 0).

Run ``python benchmarks/batch_scaling.py`` (about a minute on 1 thread); writes
``benchmarks/results/batch_scaling.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import tasks as T  # noqa: E402

import lrwidget  # noqa: E402

START_LR, END_LR, NUM_ITER = 1e-7, 10.0, 100
OPTIMIZERS = {"SGD (momentum 0.9)": "sgd", "Adam": "adam"}
SETS = ((32, 256), (32, 64, 128, 256))


def measure(opt_name: str, sizes: tuple[int, ...], seeds: int):
    task = T.digits_mlp()
    torch.manual_seed(0)
    model = task.make_model()
    opt = T.make_optimizer(opt_name, model.parameters(), START_LR)
    ds = torch.utils.data.TensorDataset(task.x_train, task.y_train)
    loaders = {
        b: torch.utils.data.DataLoader(
            ds, batch_size=b, shuffle=True, generator=torch.Generator().manual_seed(0)
        )
        for b in sizes
    }
    return lrwidget.compare_batch_sizes(
        model,
        opt,
        loaders,
        task.criterion,
        seeds=seeds,
        start_lr=START_LR,
        end_lr=END_LR,
        num_iter=NUM_ITER,
    )


def row(label: str, sizes: tuple[int, ...], res) -> str:
    fit = res.fit
    per_b = "; ".join(
        f"B={b}: "
        + ", ".join(f"{res[f'B={b} seed {s}'].suggested_lr or float('nan'):.1e}" for s in res.seeds)
        for b in sizes
    )
    return (
        f"| {label} | {', '.join(map(str, sizes))} | {fit.exponent:.2f} | {fit.spread:.2f} | "
        f"{fit.half_width:.2f} | {', '.join(f'{a:.2f}' for a in fit.exponents)} | **{fit.rule}** "
        f"| {per_b} |"
    )


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    lines = [
        f"lr* ∝ B^a on the digits MLP (64-128-10, init seed 0): range test {START_LR:g} -> "
        f"{END_LR:g}, {NUM_ITER} steps per batch size and seed (seeds 0..{a.seeds - 1} order "
        "the data), lr* = each run's default suggestion, fitted by `lrwidget.compare_batch_sizes`. "
        "a: the mean of the seeds' exponents; spread: their standard deviation; ± band: the "
        "95 % interval's half width (Student's t over the seeds, at least one tested-lr step over "
        "the batch sizes' span) from which the rule is read: linear (a = 1) or square root "
        "(a = 0.5) when only that one is inside (and not a = 0, no scaling), neither when no "
        "rule is, undecided when a rule is inside with the other or with no scaling. "
        "`python benchmarks/batch_scaling.py`.",
        "",
        "| optimizer | batch sizes | a | spread | ± band | per seed | rule | lr* per seed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, name in OPTIMIZERS.items():
        for sizes in SETS:
            res = measure(name, sizes, a.seeds)
            lines.append(row(label, sizes, res))
            print(lines[-1], flush=True)
    lines += ["", f"({time.perf_counter() - t0:.0f} s on 1 thread)"]
    md = "\n".join(lines) + "\n"
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "batch_scaling.md"), "w") as f:
        f.write(md)
    return md


if __name__ == "__main__":
    main()

"""Spread: how much does a suggestion move from one data order to the next (issue 21)?

Users report that the suggested lr changes from run to run with a fixed seed (tsai #290,
neural_prophet PR #892): the range test's batches come in another order, the curve's noise
moves, and so does the pick. For every family of ``tasks.py`` x optimizer x seed (the model's
init), the range test of ``choice_quality.py`` (1e-7 -> 10, 100 steps) is run with ``--orders``
data orders (the same init; order 0 is choice_quality's own), and each rule's lr is read off each
curve. The spread of a rule is the standard deviation of log10(lr) across the orders, pooled over
the (optimizer, seed) pairs of a family (the root of the mean of their variances): 0.1 is a
factor of 1.26 from run to run, 0.42 a whole grid step (x2.6).

The cheap ensembles, against the default on one test:
  - the median of the default's lrs of 3 range tests (3 data orders; 3x the cost),
  - the geometric mean of the default's lrs of 2 range tests (2x the cost),
  - the geometric mean of two rules on one test (the default and ``valley``).
A 3-test median is measured on disjoint triples of the orders (0-2, 3-5, 6-8), a 2-test mean on
disjoint pairs, so each estimate is an independent draw, as a user's would be.

Their quality: the gap (points, as in choice_quality.md) of each pick to the best lr of that
seed's 13-point grid, **interpolated** in log10(lr) between the grid's scores (the grid is trained
by choice_quality.py and shares its cache; nothing is trained at the picks themselves): an
estimate of the gap, good enough to say whether an ensemble costs quality, not a measurement.

Run ``python benchmarks/spread.py`` (all families, 3 seeds, 9 orders; ~5 min on one thread
with choice_quality's grid cached, more without). Writes ``benchmarks/results/spread.md``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import Callable

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import choice_quality as CQ  # noqa: E402
import tasks as T  # noqa: E402

from lrwidget.pure import suggest as S  # noqa: E402

DEFAULT = f"{S.DEFAULT} (default)"


def curve(cache: CQ.Cache, task: T.Task, opt: str, seed: int, order: int):
    """The range test's (lrs, raw, smoothed) on a fresh model (init ``seed``), the batches in
    data order ``order`` (0: choice_quality's own); cached."""
    if order == 0:
        return CQ.curve_of(cache, task, opt, seed)
    k = f"curve|{task.name}|{opt}|{seed}|{CQ.START_LR}|{CQ.END_LR}|{CQ.NUM_ITER}|order {order}"
    v = cache.get(k)
    if v is None:
        from lrwidget import LRFinder

        torch.manual_seed(seed)
        model = task.make_model()
        optimizer = T.make_optimizer(opt, model.parameters(), CQ.START_LR)
        g = torch.Generator().manual_seed(seed + 2000 + 100 * order)
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(task.x_train, task.y_train),
            batch_size=task.batch_size,
            shuffle=True,
            generator=g,
        )
        r = LRFinder(model, optimizer, task.criterion).range_test(
            loader, start_lr=CQ.START_LR, end_lr=CQ.END_LR, num_iter=CQ.NUM_ITER
        )
        v = [CQ.S_list(r.lrs), CQ.S_list(r.losses), CQ.S_list(r.smoothed)]
        cache.put(k, v)
    return tuple(np.array([math.nan if a is None else a for a in arr], dtype=float) for arr in v)


def single_rules() -> dict[str, Callable]:
    """The rules read off one curve: choice_quality's, and the geometric mean of two of them."""
    R = {n: r for n, r in CQ.rules().items() if "not shipped" not in n}
    default, valley = R[DEFAULT], R["valley"]

    def two_rules(lrs, raw, sm):
        a, b = default(lrs, raw, sm), valley(lrs, raw, sm)
        return None if a is None or b is None else math.sqrt(a * b)

    R[f"geometric mean of {S.DEFAULT} and valley (1 test)"] = two_rules
    return R


def pooled_sd(groups: list[list[float]]) -> float:
    """The root of the mean within-group variance of log10 of the values (groups of >= 2)."""
    v = [np.var(np.log10(g), ddof=1) for g in groups if len(g) >= 2]
    return float(math.sqrt(np.mean(v))) if v else math.nan


def gap_at(grid: list[float], lr: float | None) -> float:
    """The gap of ``lr`` to the grid's best, its score interpolated in log10(lr) between the
    grid's (clamped at the ends); a rule with no answer scores as the grid's worst."""
    best = max(grid)
    if lr is None or not lr > 0:
        return best - min(grid)
    return best - float(np.interp(math.log10(lr), np.log10(CQ.GRID), grid))


def measure(families: list[str], seeds: list[int], orders: int, cache: CQ.Cache, log=print):
    """Per family: per estimator, its picks grouped by (optimizer, seed) and their gaps."""
    R = single_rules()
    out = {}
    for fam in families:
        task = T.FAMILIES[fam]()
        t0 = time.perf_counter()
        est: dict[str, dict] = {}

        def add(name, lr, grid, key, est=est):
            e = est.setdefault(name, {"groups": {}, "gaps": [], "none": 0})
            e["gaps"].append(gap_at(grid, lr))
            if lr is None:
                e["none"] += 1
            else:
                e["groups"].setdefault(key, []).append(lr)

        for opt in task.optimizers:
            for seed in seeds:
                grid = [CQ.score_at(cache, task, opt, seed, float(lr)) for lr in CQ.GRID]
                picks = {name: [] for name in R}
                for d in range(orders):
                    lrs, raw, sm = curve(cache, task, opt, seed, d)
                    for name, rule in R.items():
                        picks[name].append(rule(lrs, raw, sm))
                for name, lrs_ in picks.items():
                    for lr in lrs_:
                        add(name, lr, grid, (opt, seed))
                mine = picks[DEFAULT]
                for k, how in ((3, "median of 3 tests"), (2, "geometric mean of 2 tests")):
                    for i in range(0, orders - k + 1, k):
                        part = mine[i : i + k]
                        ok = [x for x in part if x is not None]
                        lr = None
                        if ok:
                            lr = (
                                float(np.median(ok)) if k == 3 else float(np.exp(np.log(ok).mean()))
                            )
                        add(f"{S.DEFAULT}, {how}", lr, grid, (opt, seed))
        cache.flush()
        out[fam] = est
        log(f"  {fam}: {time.perf_counter() - t0:.0f}s")
    return out


COST = {"median of 3 tests": 3, "geometric mean of 2 tests": 2}


def markdown(res: dict, families: list[str], seeds: list[int], orders: int) -> str:
    names = list(next(iter(res.values())).keys())
    names.sort(key=lambda n: (n != DEFAULT, not n.startswith(S.DEFAULT), n))
    head = (
        "Spread of each rule's lr across data orders: the standard deviation of log10(lr) over "
        f"{orders} range tests per (optimizer, seed) with the same init and the batches in "
        "another order, pooled over the (optimizer, seed) pairs of a family (0.1: x1.26 from run "
        "to run; 0.42: a whole grid step, x2.6). Ensembles of several tests use disjoint groups "
        "of the orders. *Gap*: mean / worst points to the best of the 13-point grid, the pick's "
        "score **interpolated** in log10(lr) between the grid's (trained by choice_quality.py): "
        "an estimate, nothing is trained at the picks. "
        f"Seeds {seeds}; `python benchmarks/spread.py`.\n\n"
    )
    cols = " | ".join(families)
    lines = [
        head + f"| rule | cost (range tests) | spread, all | {cols} | gap, all |",
        "|---|---|---|" + "---|" * len(families) + "---|",
    ]
    for n in names:
        cost = next((c for how, c in COST.items() if how in n), 1)
        groups = [g for fam in families for g in res[fam][n]["groups"].values()]
        per = [pooled_sd(list(res[fam][n]["groups"].values())) for fam in families]
        gaps = [x for fam in families for x in res[fam][n]["gaps"]]
        none = sum(res[fam][n]["none"] for fam in families)
        label = f"**{n}**" if n == DEFAULT else n
        label += f" ({none} without an answer)" if none else ""
        lines.append(
            f"| {label} | {cost} | {pooled_sd(groups):.2f} | "
            + " | ".join(f"{x:.2f}" for x in per)
            + f" | {np.mean(gaps):.1f} / {np.max(gaps):.1f} |"
        )
    lines += [
        "",
        "Gap per family (mean / worst, interpolated), the same picks:",
        "",
        f"| rule | {cols} |",
        "|---|" + "---|" * len(families),
    ]
    for n in names:
        label = f"**{n}**" if n == DEFAULT else n
        cells = []
        for fam in families:
            g = res[fam][n]["gaps"]
            cells.append(f"{np.mean(g):.1f} / {np.max(g):.1f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--orders", type=int, default=9, help="data orders per (optimizer, seed)")
    p.add_argument("--families", nargs="*", default=list(T.FAMILIES), choices=list(T.FAMILIES))
    p.add_argument("--cache", default="/tmp/lrwidget_choice_cache.json")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    a = p.parse_args(argv)
    if a.orders < 3:
        p.error("--orders: at least 3 (a 3-test median needs them)")
    torch.set_num_threads(1)
    cache = CQ.Cache(a.cache)
    t0 = time.perf_counter()
    seeds = list(range(a.seeds))
    res = measure(a.families, seeds, a.orders, cache)
    md = markdown(res, a.families, seeds, a.orders)
    print(md)
    print(f"({time.perf_counter() - t0:.0f}s)")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "spread.md"), "w") as f:
        f.write(md)


if __name__ == "__main__":
    main()

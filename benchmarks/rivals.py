"""The rivals users pick instead of a finder: learning-rate-free and schedule-free optimizers.

Prodigy (``prodigyopt``), D-Adapt Adam (``dadaptation``) and schedule-free AdamW / SGD
(``schedulefree``) promise no lr tuning (the ``bench`` extra installs them). Each is trained on
the families of ``choice_quality.py`` (same tasks, init, data order, scoring, 13-point grid
1e-5..1) and scored as a gap in points to a grid best:

- Prodigy (its defaults: lr=1.0, with ``safeguard_warmup`` or not) and D-Adapt Adam (lr=1.0)
  against the family's **AdamW grid** (the optimizer a user would tune instead), next to
  lrwidget's default suggestion on AdamW against the same grid;
- schedule-free AdamW at its default lr (0.0025) and at lrwidget's suggestion (a range test on
  the schedule-free optimizer itself), and schedule-free SGD likewise (default lr 1.0), each
  against **its own grid** (the same optimizer trained at the 13 grid lrs).

AdamW-like rivals take the family's AdamW weight decay (0.01), Adam-like ones none, as the
families' own optimizers. Schedule-free optimizers train in train mode and are scored in eval
mode (their averaged weights), at a constant lr; the others follow the family's schedule (the
fine-tuning family's linear decay multiplies Prodigy's lr). Every row at the family's budget
(1x) and at 4x its epochs: LR-free methods are said to need longer runs to ramp up d.
The cost column counts the training steps spent to choose the lr and train: a range test
(100 steps) + 1 run, 1 run for an LR-free method, 13 runs for the grid.

Run ``python benchmarks/rivals.py`` (under ``nice``; ``--quick``: 1 seed, two small families,
1x only). Results cached per run in a JSON file (default under /tmp), written to
``benchmarks/results/rivals.md``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import choice_quality as CQ  # noqa: E402
import tasks as T  # noqa: E402

from lrwidget.engine.optimizer_kinds import is_schedule_free  # noqa: E402
from lrwidget.pure import suggest as S  # noqa: E402

#: bumped when a rival's training changes (the cache key of the rows below)
VERSION = "r1"
LENGTHS = (1, 4)
#: families whose 4x run is not measured by default (``--families`` still takes them)
NO_4X = ("finetune_text",)


def _prodigy(params, lr, **kw):
    from prodigyopt import Prodigy

    return Prodigy(params, lr=lr, weight_decay=0.01, **kw)


def _dadapt_adam(params, lr):
    from dadaptation import DAdaptAdam

    return DAdaptAdam(params, lr=lr)


def _sf_adamw(params, lr):
    from schedulefree import AdamWScheduleFree

    return AdamWScheduleFree(params, lr=lr, weight_decay=0.01)


def _sf_sgd(params, lr):
    from schedulefree import SGDScheduleFree

    return SGDScheduleFree(params, lr=lr)


#: the optimizers trained here that choice_quality does not know, by name
OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "prodigy": _prodigy,
    "prodigy_sw": lambda ps, lr: _prodigy(ps, lr, safeguard_warmup=True),
    "dadapt_adam": _dadapt_adam,
    "sf_adamw": _sf_adamw,
    "sf_sgd": _sf_sgd,
}


@dataclass(frozen=True)
class Row:
    """A benchmark row: an optimizer, where its lr comes from, and its reference grid."""

    label: str
    opt: str  # a choice_quality optimizer ("adamw") or a key of OPTIMIZERS
    lr: float | None  # a fixed lr; None: lrwidget's default suggestion on ``opt``
    grid: str  # the optimizer whose 13-point grid is the reference
    cost: str  # what choosing the lr costs, in words
    #: the suggestion times this (the schedule-free authors' advice: 1x-10x a scheduled lr for
    #: AdamW, 10x-50x for SGD), measured, not shipped
    factor: float = 1.0


#: a row whose lr is lrwidget's suggestion on a schedule-free optimizer, against its own grid
SF_X = [(k, None, k, "range test + 1 run") for k in ("sf_adamw", "sf_sgd")]
ROWS = (
    Row("lrwidget default on AdamW", "adamw", None, "adamw", "range test + 1 run"),
    Row("Prodigy (defaults)", "prodigy", 1.0, "adamw", "1 run"),
    Row("Prodigy, safeguard_warmup=True", "prodigy_sw", 1.0, "adamw", "1 run"),
    Row("D-Adapt Adam (defaults)", "dadapt_adam", 1.0, "adamw", "1 run"),
    Row("schedule-free AdamW, default lr 0.0025", "sf_adamw", 0.0025, "sf_adamw", "1 run"),
    Row("schedule-free AdamW, lrwidget's suggestion", *SF_X[0]),
    Row("schedule-free SGD, default lr 1.0", "sf_sgd", 1.0, "sf_sgd", "1 run"),
    Row("schedule-free SGD, lrwidget's suggestion", *SF_X[1]),
    Row("schedule-free AdamW, 3x the suggestion (not shipped)", *SF_X[0], 3.0),
    Row("schedule-free AdamW, 10x the suggestion (not shipped)", *SF_X[0], 10.0),
    Row("schedule-free SGD, 10x the suggestion (not shipped)", *SF_X[1], 10.0),
)
GRID_ROW = "the 13-point grid itself (reference)"


def make_optimizer(name: str, params: Any, lr: float) -> torch.optim.Optimizer:
    """choice_quality's optimizers (``tasks.make_optimizer``) and the rivals, by name."""
    if name in OPTIMIZERS:
        return OPTIMIZERS[name](params, lr)
    return T.make_optimizer(name, params, lr)


def longer(task: T.Task, k: int) -> T.Task:
    """``task`` trained ``k`` times as many epochs (its own name, so its scores cache apart)."""
    if k == 1:
        return task
    return T.Task(**{**task.__dict__, "name": f"{task.name}_x{k}", "epochs": task.epochs * k})


# --- training: the same init, data order and scoring as tasks.train_score ------------------------


def train_score(task: T.Task, name: str, lr: float, seed: int) -> float:
    """Test points after training a fresh model (init from ``seed``) with optimizer ``name``.

    A schedule-free optimizer trains in train mode at a constant lr and is scored in eval mode
    (its averaged weights); any other follows the family's schedule, as ``tasks.train`` does.
    """
    torch.manual_seed(seed)
    model = task.make_model()
    opt = make_optimizer(name, model.parameters(), lr)
    free = is_schedule_free(opt)
    if free:
        opt.train()
    total = task.epochs * T.steps_per_epoch(task)
    for step, (xb, yb) in enumerate(T.batches(task, seed + 1000, task.epochs)):
        if not free:
            for group in opt.param_groups:
                group["lr"] = T.lr_at(task.schedule, lr, step, total)
        loss = task.criterion(model(xb), yb)
        if not torch.isfinite(loss):
            break  # diverged: scored as chance
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if free:
        opt.eval()
    return task.score(model)


def score(cache: CQ.Cache, task: T.Task, name: str, seed: int, lr: float) -> float:
    """Cached score; choice_quality's optimizers through its own cache keys and training."""
    if name not in OPTIMIZERS:
        return CQ.score_at(cache, task, name, seed, lr)
    k = f"rival|{VERSION}|{task.name}|{name}|{seed}|{lr:.6e}"
    v = cache.get(k)
    if v is None:
        v = train_score(task, name, lr, seed)
        cache.put(k, v)
    return float(v)


def range_test(task: T.Task, name: str, seed: int):
    """lrwidget's range test (choice_quality's settings) with optimizer ``name``, on the
    optimizer as made: a schedule-free one in its initial eval mode (the finder switches it)."""
    from lrwidget import LRFinder

    torch.manual_seed(seed)
    model = task.make_model()
    opt = make_optimizer(name, model.parameters(), CQ.START_LR)
    g = torch.Generator().manual_seed(seed + 2000)
    data = torch.utils.data.TensorDataset(task.x_train, task.y_train)
    loader = torch.utils.data.DataLoader(
        data, batch_size=task.batch_size, shuffle=True, generator=g
    )
    r = LRFinder(model, opt, task.criterion).range_test(
        loader, start_lr=CQ.START_LR, end_lr=CQ.END_LR, num_iter=CQ.NUM_ITER, progress=False
    )
    return np.asarray(r.lrs), np.asarray(r.losses), np.asarray(r.smoothed)


def suggestion(cache: CQ.Cache, task: T.Task, name: str, seed: int) -> float | None:
    """lrwidget's default suggestion for ``name`` on ``task`` (the range test cached)."""
    if name not in OPTIMIZERS:
        lrs, raw, sm = CQ.curve_of(cache, task, name, seed)
    else:
        k = f"rival|{VERSION}|curve|{task.name}|{name}|{seed}"
        v = cache.get(k)
        if v is None:
            v = [CQ.S_list(a) for a in range_test(task, name, seed)]
            cache.put(k, v)
        lrs, raw, sm = (np.array([math.nan if a is None else a for a in x]) for x in v)
    return CQ.lrwidget_rule(S.DEFAULT)(lrs, raw, sm)


# --- the benchmark ----------------------------------------------------------------------------


def grid_of(cache: CQ.Cache, task: T.Task, name: str, seed: int) -> list[float]:
    return [score(cache, task, name, seed, float(lr)) for lr in CQ.GRID]


def evaluate(
    families: list[str],
    seeds: dict[int, list[int]],
    cache: CQ.Cache,
    no_longer=NO_4X,
    log=print,
):
    """One dict per (family, length, seed, row): the lr, its score and its gap to the grid
    best of the row's reference optimizer; ``seeds``: the seeds of each length measured."""
    out = []
    for k, ks in seeds.items():  # every family at 1x first: the longer runs cost 4x as much
        for fam in [f for f in families if k == 1 or f not in no_longer]:
            t0 = time.perf_counter()
            for seed in ks:
                out += family_rows(cache, T.ALL[fam](), k, seed)
            cache.flush()
            log(f"  {fam} {k}x: {time.perf_counter() - t0:.0f}s")
    return out


def family_rows(cache: CQ.Cache, base: T.Task, k: int, seed: int) -> list[dict]:
    """The rows of one family, length and seed (those of its optimizers, and the rivals)."""
    out = []
    task = longer(base, k)
    rows = [r for r in ROWS if r.opt in OPTIMIZERS or r.opt in base.optimizers]
    grids = {r.grid: grid_of(cache, task, r.grid, seed) for r in rows}
    for r in rows:
        lr = r.lr if r.lr is not None else suggestion(cache, base, r.opt, seed)
        lr = None if lr is None else lr * r.factor
        best = max(grids[r.grid])
        sc = min(grids[r.grid]) if lr is None else score(cache, task, r.opt, seed, lr)
        steps = run_steps(task) + (CQ.NUM_ITER if r.lr is None else 0)
        out.append(dict(family=base.name, length=k, seed=seed, row=r, lr=lr, gap=best - sc))
        out[-1]["steps"] = steps
    return out


def run_steps(task: T.Task) -> int:
    """Training steps of one run of ``task``."""
    return task.epochs * T.steps_per_epoch(task)


# --- the report -------------------------------------------------------------------------------


def cell(gaps: list[float]) -> str:
    return f"{np.mean(gaps):.1f} / {np.max(gaps):.1f}" if gaps else "-"


def table(results: list[dict], families: list[str], k: int) -> list[str]:
    """The markdown table of one length: a row per benchmark row, mean / worst gap a family."""
    at = [x for x in results if x["length"] == k]
    fams = [f for f in families if any(x["family"] == f for x in at)]
    lines = [
        f"| {k}x the epochs | cost | all | " + " | ".join(fams) + " |",
        "|---|---|---|" + "---|" * len(fams),
    ]
    for r in ROWS:
        mine = [x for x in at if x["row"] is r]
        if not mine:
            continue
        runs = np.mean([x["steps"] / run_steps(longer(T.ALL[x["family"]](), k)) for x in mine])
        cells = [cell([x["gap"] for x in mine])]
        cells += [cell([x["gap"] for x in mine if x["family"] == f]) for f in fams]
        label = f"**{r.label}**" if r.lr is None and r.factor == 1 else r.label
        lines.append(f"| {label} | {r.cost} ({runs:.2f} runs) | " + " | ".join(cells) + " |")
    zeros = " | ".join("0.0 / 0.0" for _ in range(len(fams) + 1))
    lines.append(f"| *{GRID_ROW}* | 13 runs | {zeros} |")
    return lines


def goals(results: list[dict]) -> list[str]:
    """The issue's two goals, checked: lrwidget's default on AdamW <= Prodigy's mean and worst
    on every family and length; its suggestion on schedule-free AdamW within 1 point of that
    optimizer's own grid best (mean)."""
    out = []
    keys = sorted({(x["family"], x["length"]) for x in results}, key=lambda t: (t[1], t[0]))

    def gaps(row, f, k):
        return [x["gap"] for x in results if (x["family"], x["length"], x["row"]) == (f, k, row)]

    for f, k in keys:
        d, p, sf = gaps(ROWS[0], f, k), gaps(ROWS[1], f, k), gaps(ROWS[5], f, k)
        if d and p:
            ok = np.mean(d) <= np.mean(p) and np.max(d) <= np.max(p)
            said = "met" if ok else "NOT met"
            out.append(f"- {f} {k}x: default {cell(d)} vs Prodigy {cell(p)}: {said}")
        if sf:
            ok = np.mean(sf) <= 1.0
            said = "within 1 point" if ok else "NOT within 1 point"
            out.append(f"- {f} {k}x: schedule-free AdamW at the suggestion {cell(sf)}: {said}")
    return out


def markdown(results: list[dict], families: list[str], command: str = "") -> str:
    seeds = {k: sorted({x["seed"] for x in results if x["length"] == k}) for k in LENGTHS}
    head = (
        "Gap to a 13-point log grid 1e-5..1, in points (accuracy %, R^2 x 100 for diabetes), "
        "**mean / worst** over seeds "
        + ", ".join(f"{s} at {k}x" for k, s in seeds.items() if s)
        + "; same tasks, init, data order and scoring as choice_quality.md. Reference grid: "
        "AdamW's for lrwidget's default on AdamW, Prodigy and D-Adapt Adam; the schedule-free "
        "optimizer's own for its rows. Bold: lrwidget's suggestion (its range test on the same "
        "optimizer). Cost: training spent to choose the lr and train, in runs of that length (a "
        "range test is 100 steps). Prodigy with and without safeguard_warmup are the same bits "
        "at a constant lr of 1.0 (it only changes the estimate when the lr moves away from 1.0: "
        "a warmup, a schedule)."
    )
    lines = [head, *([f"Made by `{command}`."] if command else []), ""]
    for k in LENGTHS:
        if any(x["length"] == k for x in results):
            lines += [*table(results, families, k), ""]
    lines += ["Goals of issue 21:", *goals(results)]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="1 seed, diabetes and noisy_blobs, 1x")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--seeds-4x", type=int, default=None, help="seeds at 4x (default: --seeds)")
    p.add_argument("--families", nargs="*", default=None, choices=list(T.FAMILIES))
    p.add_argument("--lengths", nargs="*", type=int, default=list(LENGTHS), choices=LENGTHS)
    p.add_argument("--no-4x", nargs="*", default=list(NO_4X), help="families measured at 1x only")
    p.add_argument("--cache", default="/tmp/lrwidget_rivals_cache.json")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    families = a.families or (["diabetes", "noisy_blobs"] if a.quick else list(T.FAMILIES))
    seeds = {k: list(range(a.seeds_4x if k > 1 and a.seeds_4x else a.seeds)) for k in a.lengths}
    seeds = {1: [0]} if a.quick else seeds
    cache = CQ.Cache(None if a.no_cache else a.cache)
    t0 = time.perf_counter()
    results = evaluate(families, seeds, cache, a.no_4x)
    command = " ".join(["python benchmarks/rivals.py", *(sys.argv[1:] if argv is None else argv)])
    md = markdown(results, families, command)
    print(md)
    print(f"({time.perf_counter() - t0:.0f}s)")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, f"rivals{'_quick' if a.quick else ''}.md"), "w") as f:
        f.write(md)
    return results


if __name__ == "__main__":
    main()

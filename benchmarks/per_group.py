"""Per-group lrs, measured (issue 20): on choice_quality.py's fine-tuning family (a pre-trained
transformer with a new head, AdamW, lr decayed linearly to 0), does a suggestion per param group
(``finder.range_test_groups``: backbone and head each swept alone, the other held) train better
than the single-lr default suggestion?

Per seed: the 13-point single-lr grid and the default suggestion's gap, exactly as
``choice_quality.py`` computes them (its cache is read); then two param groups, "backbone" (the
encoder) and "head", a range test per group (1e-7 -> 10, 100 steps, the same loader as
choice_quality's range test) and a training run at each group's default suggestion (each group's
own peak decayed linearly; same init and data order as the grid), scored the same way. The gap is
the best single-lr grid score minus the score, in accuracy points (negative: better than the best
single lr of the grid).

Run ``python benchmarks/per_group.py`` (a few minutes on 1 thread); writes
``benchmarks/results/per_group.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import choice_quality as C  # noqa: E402
import tasks as T  # noqa: E402

from lrwidget import LRFinder  # noqa: E402
from lrwidget.pure import suggest as S  # noqa: E402

OPT = "adamw"


def grouped(model, lrs: dict[str, float]) -> torch.optim.AdamW:
    """AdamW as ``tasks.make_optimizer`` makes it, over two named groups."""
    return torch.optim.AdamW(
        [
            {"params": model.encoder.parameters(), "lr": lrs["backbone"], "name": "backbone"},
            {"params": model.head.parameters(), "lr": lrs["head"], "name": "head"},
        ],
        weight_decay=0.01,
    )


def group_suggestions(task: T.Task, seed: int) -> dict[str, float | None]:
    """A range test per group on the range test's model and loader of choice_quality.py."""
    torch.manual_seed(seed)
    model = task.make_model()
    opt = grouped(model, {"backbone": C.START_LR, "head": C.START_LR})
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(task.x_train, task.y_train),
        batch_size=task.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed + 2000),
    )
    finder = LRFinder(model, opt, task.criterion)
    res = finder.range_test_groups(loader, end_lr=C.END_LR, num_iter=C.NUM_ITER)
    return {str(k): r.suggested_lr for k, r in res.items()}


def train_groups(task: T.Task, seed: int, peaks: dict[str, float]) -> float:
    """``tasks.train_score`` with each group's own peak (the task's schedule per group)."""
    torch.manual_seed(seed)
    model = task.make_model()
    opt = grouped(model, peaks)
    total = task.epochs * T.steps_per_epoch(task)
    for step, (xb, yb) in enumerate(T.batches(task, seed + 1000, task.epochs)):
        for g in opt.param_groups:
            g["lr"] = T.lr_at(task.schedule, peaks[g["name"]], step, total)
        loss = task.criterion(model(xb), yb)
        if not torch.isfinite(loss):
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return task.score(model)


def seed_row(task: T.Task, cache: C.Cache, seed: int) -> dict:
    lrs, raw, sm = C.curve_of(cache, task, OPT, seed)
    grid = [C.score_at(cache, task, OPT, seed, float(lr)) for lr in C.GRID]
    best, worst = max(grid), min(grid)
    default = S.suggest(lrs, sm, S.DEFAULT, raw=raw).lr
    d_score = worst if default is None else C.score_at(cache, task, OPT, seed, default)
    per = group_suggestions(task, seed)
    ok = all(v is not None for v in per.values())
    g_score = train_groups(task, seed, per) if ok else worst  # type: ignore[arg-type]
    # which group's pick costs what: one group at its own pick, the other at the single default
    mixed = {}
    for name in ("backbone", "head"):
        peaks = {"backbone": default, "head": default, name: per[name]}
        fine = all(v is not None for v in peaks.values())
        mixed[name] = best - (train_groups(task, seed, peaks) if fine else worst)  # type: ignore[arg-type]
    return dict(
        seed=seed,
        best=best,
        best_lr=float(C.GRID[int(np.argmax(grid))]),
        default=default,
        d_gap=best - d_score,
        per=per,
        g_gap=best - g_score,
        mixed=mixed,
    )


def check_trainer(task: T.Task, cache: C.Cache, lr: float) -> None:
    """The per-group trainer at one lr for both groups is choice_quality's trainer, bit for bit
    (so the two gaps differ by the lrs alone)."""
    same = train_groups(task, 0, {"backbone": lr, "head": lr})
    ref = T.train_score(task, OPT, lr, 0)
    assert same == ref, f"the per-group trainer differs: {same} vs {ref}"


def markdown(rows: list[dict], elapsed: float) -> str:
    d = [r["d_gap"] for r in rows]
    g = [r["g_gap"] for r in rows]
    lines = [
        "Fine-tuning family of `choice_quality.py` (pre-trained transformer, new head, AdamW, lr "
        "decayed linearly to 0): gap to the best lr of the 13-point single-lr grid, in accuracy "
        "points (lower is better; negative beats the grid's best single lr). Per-group: "
        "`finder.range_test_groups` with two groups, backbone (the encoder) and head, each "
        "swept alone (1e-7 -> 10, 100 steps) while the other is held, each trained at its own "
        "default suggestion. `python benchmarks/per_group.py`.",
        "",
        "| seed | best grid lr | single-lr default: lr | gap | per-group: backbone lr | "
        "head lr | gap | backbone's pick only | head's pick only |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['best_lr']:.1e} | {_lr(r['default'])} | {r['d_gap']:.1f} | "
            f"{_lr(r['per']['backbone'])} | {_lr(r['per']['head'])} | {r['g_gap']:.1f} | "
            f"{r['mixed']['backbone']:.1f} | {r['mixed']['head']:.1f} |"
        )
    mb = [r["mixed"]["backbone"] for r in rows]
    mh = [r["mixed"]["head"] for r in rows]
    lines += [
        f"| **mean / worst** | | | **{np.mean(d):.1f} / {np.max(d):.1f}** | | | "
        f"**{np.mean(g):.1f} / {np.max(g):.1f}** | {np.mean(mb):.1f} / {np.max(mb):.1f} | "
        f"{np.mean(mh):.1f} / {np.max(mh):.1f} |",
        "",
        "*backbone's pick only* / *head's pick only*: that group at its per-group suggestion, the "
        "other at the single-lr default (which group's pick costs what).",
        "",
        f"({elapsed:.0f} s on 1 thread)",
    ]
    return "\n".join(lines) + "\n"


def _lr(v: float | None) -> str:
    return "none" if v is None else f"{v:.1e}"


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--cache", default="/tmp/lrwidget_per_group_cache.json")
    p.add_argument(
        "--from-cache",
        default="/tmp/lrwidget_choice_cache.json",
        help="choice_quality.py's cache, copied (never written) when --cache is new",
    )
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    if not os.path.exists(a.cache) and os.path.exists(a.from_cache):
        shutil.copyfile(a.from_cache, a.cache)
    t0 = time.perf_counter()
    task = T.finetune_text()
    cache = C.Cache(a.cache)
    check_trainer(task, cache, 1e-3)
    rows = []
    for seed in range(a.seeds):
        rows.append(seed_row(task, cache, seed))
        cache.flush()
        print(rows[-1], flush=True)
    md = markdown(rows, time.perf_counter() - t0)
    print(md)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "per_group.md"), "w") as f:
        f.write(md)
    return md


if __name__ == "__main__":
    main()

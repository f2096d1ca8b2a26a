"""Does the fine-tuning family discriminate, and does the verdict hang on one set-up?

1. ``finetune_digits`` (``tasks.finetune_digits``) against the same model trained from scratch on
   the same data: the grid curves (test accuracy per lr, mean over seeds and data orders), each
   seed's best lr, torch-lr-finder's gap, and the default's lr per run (3 seeds x 3 data
   orders) on the range test's training loss and on its validation loss (``val_loader``): how
   many runs are within one grid step (x2.6) of that run's best lr.
2. ``finetune_text`` set up otherwise (choice_quality.py's measure): a Trainer-like budget (400
   labels, 3 epochs), a narrower model (width 64, whose best lr is higher), and a constant lr.
   Every variant: AdamW, seeds 0-2, the same grid, range test and scoring as
   ``choice_quality.py``; only the first reads and writes choice_quality.py's cache (the variants
   share the family's name, so theirs would collide).

Run ``python benchmarks/finetune_variants.py`` (~12 min on 1 thread; ``--skip-text``: part 1
only, ~1 min); writes ``benchmarks/results/finetune_variants.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import choice_quality as C  # noqa: E402
import tasks as T  # noqa: E402

VARIANTS = {
    "as benchmarked (width 128, 80 labels, 10 epochs, linear decay)": T.finetune_text,
    "Trainer-like budget: 400 labels, 3 epochs": lambda: T.finetune_text(labelled=400, epochs=3),
    "narrower: width 64": lambda: T.finetune_text(width=64),
    "constant lr": lambda: T.Task(**{**T.finetune_text().__dict__, "schedule": "constant"}),
}
SHOWN = ("minimum (default)", "valley", "steep", "torch-lr-finder", "lightning", C.NOISE_ROWS[1])
#: one grid step: the grid's lrs are 10 ** (5 / 12) ~ x2.6 apart
STEP = 10 ** (5 / 12)


def grids(cache: C.Cache, task: T.Task, seeds: list[int]) -> np.ndarray:
    """Test scores [seed, data order, grid lr] (AdamW)."""
    return np.array(
        [
            [
                [C._score_order(cache, task, "adamw", s, float(lr), d) for lr in C.GRID]
                for d in C.DATA_ORDERS
            ]
            for s in seeds
        ]
    )


def per_run(cache: C.Cache, task: T.Task, seeds: list[int], g: np.ndarray, lrs: list) -> tuple:
    """(mean gap, runs within one grid step, runs) of the lr per seed ``lrs`` against each
    (seed, order)'s best grid lr."""
    gaps, near = [], 0
    for k, s in enumerate(seeds):
        for j, d in enumerate(C.DATA_ORDERS):
            best = int(np.argmax(g[k, j]))
            sc = C._score_order(cache, task, "adamw", s, lrs[k], d)
            gaps.append(g[k, j, best] - sc)
            near += abs(np.log(lrs[k] / C.GRID[best])) <= np.log(STEP) * 1.01
    return float(np.mean(gaps)), near, len(gaps)


def discriminates(cache: C.Cache, seeds: list[int]) -> list[str]:
    """Part 1: the fine-tuning family against the same model from scratch."""
    ft, scratch = T.finetune_digits(), T.finetune_digits(pretrained=False)
    g_ft, g_sc = grids(cache, ft, seeds), grids(cache, scratch, seeds)
    best = {
        n: [C.GRID[int(np.argmax(g.mean(1)[k]))] for k in range(len(seeds))]
        for n, g in (("ft", g_ft), ("sc", g_sc))
    }
    lines = [
        "## finetune_digits: fine-tuned vs from scratch",
        "",
        f"Test accuracy (%) per grid lr, mean over seeds {seeds} x {len(C.DATA_ORDERS)} data "
        "orders (AdamW, lr decayed linearly to 0); best lr per seed on the mean over orders.",
        "",
        "| model | " + " | ".join(f"{lr:.1e}" for lr in C.GRID) + " | best lr per seed |",
        "|" + "---|" * (len(C.GRID) + 2),
    ]
    for name, g, b in (("fine-tuned", g_ft, best["ft"]), ("from scratch", g_sc, best["sc"])):
        cells = " | ".join(f"{v:.0f}" for v in g.mean((0, 1)))
        lines.append(f"| {name} | {cells} | {', '.join(f'{v:.1e}' for v in b)} |")
    ratio = [s / f for s, f in zip(best["sc"], best["ft"])]
    lines += [
        "",
        "From-scratch best lr / fine-tuned best lr per seed: "
        + ", ".join(f"{r:.0f}x" for r in ratio)
        + ".",
        "",
    ]
    picks = {}
    for s in seeds:
        lrs, raw, sm = C.curve_of(cache, ft, "adamw", s)
        picks.setdefault("torch-lr-finder", []).append(C.torch_lr_finder_rule(lrs, raw, sm))
        picks.setdefault("minimum (default)", []).append(
            C.S.suggest(lrs, sm, C.S.DEFAULT, raw=raw).lr
        )
        picks.setdefault(C.VAL_ROW, []).append(C.val_lr(cache, ft, "adamw", s))
    lines += [
        f"Per run (seed x data order, {len(seeds) * len(C.DATA_ORDERS)} runs): the mean gap to "
        "that run's best grid lr, and the runs whose lr is within one grid step (x2.6) of it.",
        "",
        "| rule | lr per seed | mean gap (points) | within one grid step |",
        "|---|---|---|---|",
    ]
    for name, lrs in picks.items():
        gap, near, n = per_run(cache, ft, seeds, g_ft, lrs)
        lines.append(
            f"| {name} | {', '.join(f'{v:.1e}' for v in lrs)} | {gap:.1f} | {near} of {n} |"
        )
    return [*lines, ""]


def text_variants(cache_path: str, seeds: list[int]) -> list[str]:
    """Part 2: finetune_text set up otherwise."""
    lines = [
        "## finetune_text set up otherwise",
        "",
        "Gap to the best lr of the 13-point grid, in accuracy points, **mean / worst** over seeds "
        f"{seeds} (AdamW); the best grid lr and the default's lr per seed.",
        "",
        "| variant | best grid lr | default's lr | " + " | ".join(SHOWN) + " |",
        "|" + "---|" * (3 + len(SHOWN)),
    ]
    original = T.ALL["finetune_text"]
    try:
        for name, family in VARIANTS.items():
            # evaluate() builds a family's task from T.ALL
            T.ALL["finetune_text"] = family
            t0 = time.perf_counter()
            cache = C.Cache(cache_path if family is original else None)
            rows = C.evaluate(["finetune_text"], seeds, cache, log=lambda *_: None, confirm=False)
            _, table = C.summarize(rows, ["finetune_text"])
            per_seed = [[r for r in rows if r["seed"] == s] for s in seeds]
            best = ", ".join(f"{rs[0]['best_lr']:.1e}" for rs in per_seed)
            default = ", ".join(
                f"{next(r['lr'] for r in rs if r['rule'] == SHOWN[0]):.1e}" for rs in per_seed
            )
            cells = [
                "{:.1f} / {:.1f}".format(*table[(n, "finetune_text")])
                if (n, "finetune_text") in table
                else "-"
                for n in SHOWN
            ]
            lines.append(f"| {name} | {best} | {default} | " + " | ".join(cells) + " |")
            print(lines[-1], f"({time.perf_counter() - t0:.0f}s)", flush=True)
    finally:
        T.ALL["finetune_text"] = original
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--cache", default="/tmp/lrwidget_choice_cache.json")
    p.add_argument("--skip-text", action="store_true", help="part 1 only")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    seeds = list(range(a.seeds))
    cache = C.Cache(a.cache)
    lines = ["`python benchmarks/finetune_variants.py`.", "", *discriminates(cache, seeds)]
    cache.flush()
    print("\n".join(lines), flush=True)
    if not a.skip_text:
        lines += text_variants(a.cache, seeds)
    md = "\n".join(lines) + "\n"
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "finetune_variants.md"), "w") as f:
        f.write(md)
    return md


if __name__ == "__main__":
    main()

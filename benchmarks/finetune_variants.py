"""How the rules fare when the fine-tuning family is set up otherwise (choice_quality.py's measure).

``choice_quality.py`` scores the rules on one fine-tuning set-up (``tasks.finetune_text``: width
128, 80 labels, 10 epochs, lr decayed linearly to 0). This checks that its verdict does not hang
on those choices: a Trainer-like budget (400 labels, 3 epochs), a narrower model (width 64, whose
best lr is higher), and a constant lr. Every variant: AdamW, seeds 0-2, the same grid, range test
and scoring as ``choice_quality.py``; only the first reads and writes choice_quality.py's cache
(the variants share the family's name, so theirs would collide).

Run ``python benchmarks/finetune_variants.py`` (~5 min on 1 thread); writes
``benchmarks/results/finetune_variants.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--cache", default="/tmp/lrwidget_choice_cache.json")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    seeds = list(range(a.seeds))
    lines = [
        "Gap to the best lr of the 13-point grid, in accuracy points, **mean / worst** over seeds "
        f"{seeds} (AdamW); the best grid lr and the default's lr per seed. "
        "`python benchmarks/finetune_variants.py`.",
        "",
        "| variant | best grid lr | default's lr | " + " | ".join(SHOWN) + " |",
        "|" + "---|" * (3 + len(SHOWN)),
    ]
    original = T.FAMILIES["finetune_text"]
    try:
        for name, family in VARIANTS.items():
            T.FAMILIES["finetune_text"] = family
            t0 = time.perf_counter()
            cache = C.Cache(a.cache if family is original else None)
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
        T.FAMILIES["finetune_text"] = original
    md = "\n".join(lines) + "\n"
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "finetune_variants.md"), "w") as f:
        f.write(md)
    return md


if __name__ == "__main__":
    main()

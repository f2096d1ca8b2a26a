"""Smoothing and spread of the suggestions (issue 21): lag against a raw-curve oracle, and the
suggestion's spread across data orders, on benchmarks/choice_quality.py's families.

For every family x optimizer x seed, the range test of choice_quality.py is run with ``ORDERS``
data orders (same init; order 0 is the benchmark's own curve). Then:

* **Oracle agreement.** The *raw-curve oracle* applies a rule to the mean of the raw losses over
  all orders: noise averaged out by repetition, no smoother, so no lag. Each order's own curve,
  smoothed by the live causal EMA (the product before) or by the centred smoother
  (``lrwidget.pure.smooth.centered``, the product after), gives a suggestion; its distance to the
  oracle's is counted in grid steps (one step: x2.6 in lr, the 13-point grid of choice_quality).
* **Spread.** The std of log10(lr) across the orders, per rule and smoother (the mean over the
  family's optimizers and seeds), and for the cheap ensembles: the median of 3 range tests
  (every triple of orders) and the geometric mean of two rules (minimum and valley).

Run ``python benchmarks/smoothing.py`` (range tests only, ~10 min on 1 thread; the range tests
are cached with choice_quality's); writes ``benchmarks/results/smoothing.md``.
``--widths`` compares the centred smoother's widths on the design families only.
"""

from __future__ import annotations

import argparse
import itertools
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

import choice_quality as Q  # noqa: E402
import tasks as T  # noqa: E402

from lrwidget.pure import suggest as S  # noqa: E402
from lrwidget.pure.smooth import HALF_WIDTH, centered  # noqa: E402

#: data orders of the range test per (family, optimizer, seed)
ORDERS = 9
#: one grid step of choice_quality's 13-point grid 1e-5..1, in decades (x2.6 in lr)
STEP = float(np.log10(Q.GRID[1] / Q.GRID[0]))
RULES = ("minimum", "valley", "steep", "slide")


def curves(cache: Q.Cache, task: T.Task, opt: str, seed: int) -> list[tuple[np.ndarray, ...]]:
    """The range tests of every data order, as (lrs, raw, ema)."""
    return [Q.curve_of(cache, task, opt, seed, o) for o in range(ORDERS)]


def oracle_curve(cs: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """(lrs, mean raw loss over the orders): NaN from the first reading where any order has
    none (diverged or stopped), which the rules then treat as the divergence cut."""
    n = max(c[0].size for c in cs)
    raw = np.full((len(cs), n), np.nan)
    for k, c in enumerate(cs):
        raw[k, : c[1].size] = c[1]
    lrs = max(cs, key=lambda c: c[0].size)[0]
    return lrs, raw.mean(axis=0)


def smoothers(width: float = HALF_WIDTH) -> dict[str, Callable]:
    """How a finished curve is smoothed for the rules: (lrs, raw, ema) -> the line."""
    return {
        "live EMA (before)": lambda lrs, raw, ema: ema,
        f"centred {width:g} dec (after)": lambda lrs, raw, ema: centered(lrs, raw, width),
    }


def lr_of(rule: str, lrs, line, raw) -> float | None:
    if rule == "minimum+valley":
        a, b = (S.suggest(lrs, line, r, raw=raw).lr for r in ("minimum", "valley"))
        return None if a is None or b is None else math.sqrt(a * b)
    return S.suggest(lrs, line, rule, raw=raw).lr


def _log(lr: float | None) -> float:
    return math.nan if lr is None else math.log10(lr)


def measure(families, seeds, cache, width=HALF_WIDTH, rules=RULES, log=print) -> list[dict]:
    """One row per (family, optimizer, seed, smoother, rule): the log10 lr of every order, the
    oracle's, and the log10 lr of every triple's median."""
    rows = []
    for fam in families:
        task = T.ALL[fam]()
        t0 = time.perf_counter()
        for opt in task.optimizers:
            for seed in seeds:
                cs = curves(cache, task, opt, seed)
                o_lrs, o_raw = oracle_curve(cs)
                for sname, smooth in smoothers(width).items():
                    lines = [smooth(*c) for c in cs]
                    for rule in rules:
                        orc = _log(lr_of(rule, o_lrs, o_raw, o_raw))
                        got = np.array(
                            [_log(lr_of(rule, c[0], ln, c[1])) for c, ln in zip(cs, lines)]
                        )
                        med3 = [
                            float(np.median(got[list(t)]))
                            for t in itertools.combinations(range(ORDERS), 3)
                        ]
                        rows.append(
                            dict(
                                family=fam,
                                opt=opt,
                                seed=seed,
                                smoother=sname,
                                rule=rule,
                                oracle=orc,
                                got=got,
                                med3=np.array(med3),
                            )
                        )
        cache.flush()
        log(f"  {fam}: {time.perf_counter() - t0:.0f}s")
    return rows


def _steps(rows: list[dict], key: str = "got") -> np.ndarray:
    """Distances to the oracle in grid steps (inf where a rule or the oracle had no answer)."""
    d = np.concatenate([np.abs(r[key] - r["oracle"]) / STEP for r in rows])
    return np.where(np.isnan(d), np.inf, d)


def _spread(rows: list[dict], key: str = "got") -> float:
    return float(
        np.mean([np.nanstd(r[key]) if np.isfinite(r[key]).sum() > 1 else math.nan for r in rows])
    )


def agreement_table(rows: list[dict], families: list[str], rule: str) -> list[str]:
    """Per smoother: within one grid step of the oracle (share), worst distance, per family."""
    out = [
        "| smoother | " + " | ".join(families) + " |",
        "|---|" + "---|" * len(families),
    ]
    for sname in dict.fromkeys(r["smoother"] for r in rows):
        cells = []
        for f in families:
            d = _steps(
                [
                    r
                    for r in rows
                    if r["family"] == f and r["smoother"] == sname and r["rule"] == rule
                ]
            )
            cells.append(f"{100 * np.mean(d <= 1):.0f}% / {np.max(d):.2f}")
        out.append(f"| {sname} | " + " | ".join(cells) + " |")
    return out


def spread_table(rows: list[dict], families: list[str]) -> list[str]:
    out = [
        "| rule, smoother | " + " | ".join(families) + " |",
        "|---|" + "---|" * len(families),
    ]
    for sname in dict.fromkeys(r["smoother"] for r in rows):
        for rule in dict.fromkeys(r["rule"] for r in rows):
            for key, label in (("got", ""), ("med3", ", median of 3 tests")):
                cells = []
                for f in families:
                    sel = [
                        r
                        for r in rows
                        if r["family"] == f and r["smoother"] == sname and r["rule"] == rule
                    ]
                    cells.append(f"{_spread(sel, key):.2f}")
                out.append(f"| {rule}{label}, {sname} | " + " | ".join(cells) + " |")
    return out


def _of(rows: list[dict], rule: str, sname: str) -> list[dict]:
    return [r for r in rows if r["rule"] == rule and r["smoother"] == sname]


def markdown(rows, families, seeds) -> str:
    d = [f for f in families if f in T.DESIGN]
    h = [f for f in families if f not in T.DESIGN]
    lines = [
        f"Range tests {Q.START_LR:g} -> {Q.END_LR:g}, {Q.NUM_ITER} steps, {ORDERS} data orders "
        f"(same init) per family x optimizer x seed {seeds}. Design families: {', '.join(d)}; "
        f"held out (never used to choose the smoother's width): {', '.join(h) or '-'}.",
        "",
        f"**Lag: the default rule ({S.DEFAULT}) against the raw-curve oracle** (the rule on the "
        "mean raw loss of all orders: no smoother, noise averaged out). Each order's suggestion "
        "is compared with it: share within one grid step (x2.6 in lr) / worst distance in grid "
        "steps.",
        "",
        *agreement_table(rows, families, S.DEFAULT),
        "",
        "Every rule, share within one grid step of its own oracle, all families: "
        + "; ".join(
            f"{rule} {sname}: {100 * np.mean(_steps(_of(rows, rule, sname)) <= 1):.0f}%"
            for rule in dict.fromkeys(r["rule"] for r in rows)
            for sname in dict.fromkeys(r["smoother"] for r in rows)
        ),
        "",
        "**Spread: std of log10(lr) across data orders** (mean over optimizers and seeds; a grid "
        f"step is {STEP:.2f}). 'median of 3 tests': the median suggestion of 3 range tests "
        "(every triple of orders); 'minimum+valley': the geometric mean of the two rules.",
        "",
        *spread_table(rows, families),
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--families", nargs="*", default=None, choices=list(T.FAMILIES))
    p.add_argument(
        "--widths", nargs="*", type=float, default=None, help="compare widths (design families)"
    )
    p.add_argument("--cache", default="/tmp/lrwidget_choice_cache.json")
    p.add_argument("--out", default=os.path.join(Q.HERE, "results"))
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    seeds = list(range(a.seeds))
    cache = Q.Cache(a.cache)
    if a.widths:
        families = a.families or list(T.DESIGN)
        for w in a.widths:
            rows = measure(families, seeds, cache, w, rules=(S.DEFAULT,), log=lambda *_: None)
            print(f"width {w}:", *agreement_table(rows, families, S.DEFAULT)[2:], sep="\n")
        return
    families = a.families or list(T.FAMILIES)
    rows = measure(families, seeds, cache, rules=(*RULES, "minimum+valley"))
    md = markdown(rows, families, seeds)
    print(md)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "smoothing.md"), "w") as f:
        f.write(md)


if __name__ == "__main__":
    main()

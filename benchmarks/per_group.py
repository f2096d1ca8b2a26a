"""Per-group lrs, measured (issue 20): does a suggestion per param group
(``finder.range_test_groups``: backbone and head each swept alone, the other held) train better
than the single-lr default?

Two fine-tuning families (AdamW, lr decayed linearly to 0, a pre-trained backbone with a new
head), each with two param groups, "backbone" and "head":

- ``finetune_text``, choice_quality.py's fine-tuning family (a pre-trained transformer): the family
  the per-group rules were tuned on;
- ``digits_finetune``, held out (no rule was chosen on it): an MLP pre-trained on sklearn's digits
  0-4, fine-tuned on 60 labelled digits 5-9 with a new linear head.

Per seed: the 13-point single-lr grid and the single-lr default suggestion's gap, exactly as
``choice_quality.py`` computes them (its cache is read); then ``range_test_groups`` (1e-7 -> 10,
100 steps, the same loader as choice_quality's range test) and a training run per candidate rule
(each group at its own peak, decayed linearly; same init and data order as the grid), scored the
same way. The gap is the best single-lr grid score minus the score, in accuracy points (negative:
better than the best single lr of the grid). Candidate rules, each from the same two group curves:

- *per-group default*: each group at its own curve's default suggestion (what ``apply_groups``
  does with the results);
- *per-group valley*: each group at its own curve's ``valley`` suggestion;
- *capped*: each group at its own default, never above the single-lr default.

``--stepped`` adds the candidates that step the held group during a group's sweep (at the
single-lr default, or the groups in turn; see ``stepped_candidates``), 3 more sweeps a seed.

A rule passes when its gap (mean and worst) is <= the single-lr default's on the tuned family and
not worse on the held-out one; only a passing rule would be shipped in the library.

Run ``python benchmarks/per_group.py --stepped`` (~5 min on 1 thread, nearly all of it the
transformer); ``--quick`` is 1 seed of each family. Writes ``benchmarks/results/per_group.md``.
Scores are cached by family name and tasks.py's code (choice_quality's cache): rename
``digits_finetune`` after changing it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from typing import Callable

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import choice_quality as C  # noqa: E402
import tasks as T  # noqa: E402

from lrwidget import LRFinder  # noqa: E402
from lrwidget.engine.batches import cycle  # noqa: E402
from lrwidget.engine.history import History  # noqa: E402
from lrwidget.engine.loop import StopRule  # noqa: E402
from lrwidget.pure import suggest as S  # noqa: E402

OPT = "adamw"
GROUPS = ("backbone", "head")

# --- the held-out family -------------------------------------------------------------------------


class _DigitsNet(nn.Module):
    """A two-layer MLP backbone (``encoder``) and a linear ``head``."""

    def __init__(self, classes: int = 5):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.head = nn.Linear(64, classes)

    def forward(self, x):
        return self.head(self.encoder(x))


#: the pre-trained backbone's weights: pre-training runs once per process
_PRETRAINED: dict[str, torch.Tensor] = {}


def _pretrain_digits(x: torch.Tensor, y: torch.Tensor, steps: int = 600) -> dict:
    """Adam 1e-3, batch 32, on digits 0-4 (task A); leaves torch's global RNG as it was."""
    if not _PRETRAINED:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = _DigitsNet()
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            g = torch.Generator().manual_seed(0)
            for _ in range(steps):
                j = torch.randint(0, len(x), (32,), generator=g)
                loss = nn.functional.cross_entropy(model(x[j]), y[j])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        _PRETRAINED.update({k: v.detach().clone() for k, v in model.encoder.state_dict().items()})
    return _PRETRAINED


def digits_finetune(labelled: int = 60, epochs: int = 10) -> T.Task:
    """Task B: digits 5-9 from ``labelled`` examples (the other ~840 are the test split), the
    backbone pre-trained on digits 0-4, a new head; AdamW decayed linearly to 0, batch 16."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.long)
    weights = _pretrain_digits(x[y < 5], y[y < 5])
    xb, yb = x[y >= 5], y[y >= 5] - 5
    idx = np.random.default_rng(0).permutation(len(xb))
    tr, te = idx[:labelled], idx[labelled:]

    def make():
        model = _DigitsNet()
        model.encoder.load_state_dict(weights)
        return model

    return T.Task(
        "digits_finetune",
        xb[tr],
        yb[tr],
        xb[te],
        yb[te],
        make,
        nn.CrossEntropyLoss(),
        16,
        epochs,
        "classification",
        optimizers=(OPT,),
        schedule="linear",
    )


#: name -> (task factory, role, seeds by default)
FAMILIES: dict[str, tuple[Callable[[], T.Task], str, int]] = {
    "finetune_text": (T.finetune_text, "tuned", 3),
    "digits_finetune": (digits_finetune, "held-out", 5),
}

# --- groups, curves, training ---------------------------------------------------------------------


def grouped(model, lrs: dict[str, float]) -> torch.optim.AdamW:
    """AdamW as ``tasks.make_optimizer`` makes it, over two named groups."""
    return torch.optim.AdamW(
        [
            {"params": model.encoder.parameters(), "lr": lrs["backbone"], "name": "backbone"},
            {"params": model.head.parameters(), "lr": lrs["head"], "name": "head"},
        ],
        weight_decay=0.01,
    )


def group_curves(task: T.Task, seed: int) -> dict[str, tuple]:
    """``range_test_groups`` on the range test's model and loader of choice_quality.py: group ->
    (lrs, raw losses, smoothed losses)."""
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
    return {
        str(k): (np.asarray(r.lrs), np.asarray(r.losses), np.asarray(r.smoothed))
        for k, r in res.items()
    }


def rule_lrs(curves: dict[str, tuple], rule: str) -> dict[str, float | None]:
    return {g: S.suggest(lrs, sm, rule, raw=raw).lr for g, (lrs, raw, sm) in curves.items()}


def candidates(curves: dict[str, tuple], default: float | None) -> dict[str, dict]:
    """Each candidate rule's lr per group."""
    own = rule_lrs(curves, S.DEFAULT)
    capped = {
        g: (default if v is None or default is None else min(v, default)) for g, v in own.items()
    }
    return {
        "per-group default": own,
        "per-group valley": rule_lrs(curves, "valley"),
        "capped": capped,
    }


def stepped_curve(task: T.Task, seed: int, swept: str, held_lr: float) -> tuple:
    """Group ``swept`` swept as ``range_test_groups`` sweeps it (same model, loader, lrs, EMA and
    stop rule: the engine's own History and StopRule), the other group stepped at ``held_lr``
    meanwhile (0: not stepped, which is range_test_groups' hold; ``check_stepped`` checks that
    case against it). Returns (lrs, raw losses, smoothed losses)."""
    torch.manual_seed(seed)
    model = task.make_model()
    opt = grouped(model, {g: C.START_LR for g in GROUPS})
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(task.x_train, task.y_train),
        batch_size=task.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed + 2000),
    )
    everything = opt.param_groups
    mine = [g for g in everything if g["name"] == swept]
    held = [g for g in everything if g["name"] != swept]
    for g in held:
        g["lr"] = held_lr
    stepping = mine + held if held_lr > 0 else mine
    n = C.NUM_ITER
    sweep = C.START_LR * (C.END_LR / C.START_LR) ** (np.arange(n) / (n - 1))
    readings, rule, batches = History(n), StopRule(n, 5.0), cycle(loader, "train_loader")
    for i, lr in enumerate(sweep.tolist()):
        mine[0]["lr"] = lr
        opt.param_groups = stepping
        opt.zero_grad()
        xb, yb = next(batches)
        loss = task.criterion(model(xb), yb)
        loss.backward()
        opt.step()
        opt.param_groups = everything
        v = loss.item()
        if rule.decide(i + 1, v, readings.append(lr, v), readings.best) is not None:
            break
    return readings.view()


def censored(curve: tuple) -> bool:
    """The curve never turns up nor diverges: its lowest loss is the sweep's end, so the default
    rule's lr there is a property of end_lr, not of the group."""
    lrs, raw, sm = curve
    c = S.prepare(lrs, sm, raw)
    return not (c.turned_up or c.diverged)


def stepped_candidates(task: T.Task, seed: int, default: float, own: dict) -> dict[str, dict]:
    """The candidates that step the held group (--stepped): each group swept with the other at
    the single-lr default (its own default; censored -> the single default), and the groups in
    turn (the backbone at its own pick, then the head swept with the backbone stepped at it)."""
    at_default = {g: stepped_curve(task, seed, g, default) for g in GROUPS}
    held = rule_lrs(at_default, S.DEFAULT)
    fallback = {g: default if censored(at_default[g]) else held[g] for g in GROUPS}
    turn = {"backbone": own["backbone"]}
    head = stepped_curve(task, seed, "head", own["backbone"] or default)
    turn["head"] = rule_lrs({"head": head}, S.DEFAULT)["head"]
    return {"held at the default": held, "held at the default, censored": fallback, "in turn": turn}


def check_stepped(task: T.Task, curves: dict[str, tuple]) -> None:
    """``stepped_curve`` with the other group not stepped is range_test_groups' curve, bit for
    bit (so the stepped candidates differ from the others by the held group's steps alone)."""
    mine = stepped_curve(task, 0, "head", 0.0)
    for a, b in zip(mine, curves["head"]):
        assert np.array_equal(a, b), "stepped_curve differs from range_test_groups' sweep"


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


def seed_row(task: T.Task, cache: C.Cache, seed: int, stepped: bool = False) -> dict:
    lrs, raw, sm = C.curve_of(cache, task, OPT, seed)
    grid = [C.score_at(cache, task, OPT, seed, float(lr)) for lr in C.GRID]
    default = S.suggest(lrs, sm, S.DEFAULT, raw=raw).lr
    d_score = min(grid) if default is None else C.score_at(cache, task, OPT, seed, default)
    curves = group_curves(task, seed)
    if stepped and seed == 0:
        check_stepped(task, curves)
    picks = candidates(curves, default)
    if stepped and default is not None:
        own = picks["per-group default"]
        picks.update(stepped_candidates(task, seed, default, own))
    gaps = {
        k: max(grid) - score(task, seed, v, default, d_score, min(grid)) for k, v in picks.items()
    }
    best_lr = float(C.GRID[int(np.argmax(grid))])
    return dict(
        seed=seed,
        best_lr=best_lr,
        default=default,
        d_gap=max(grid) - d_score,
        picks=picks,
        gaps=gaps,
    )


def score(task: T.Task, seed: int, lrs: dict, default: float | None, d_score: float, worst: float):
    if any(v is None for v in lrs.values()):
        return worst  # a rule with no answer scores as the worst grid point
    if all(v == default for v in lrs.values()):
        return d_score  # the single-lr run, bit for bit (check_trainer)
    return train_groups(task, seed, lrs)


def check_trainer(task: T.Task, lr: float) -> None:
    """The per-group trainer at one lr for both groups is choice_quality's trainer, bit for bit
    (so the gaps differ by the lrs alone)."""
    same = train_groups(task, 0, {"backbone": lr, "head": lr})
    ref = T.train_score(task, OPT, lr, 0)
    assert same == ref, f"the per-group trainer differs: {same} vs {ref}"


# --- the report ----------------------------------------------------------------------------------


def _lr(v: float | None) -> str:
    return "none" if v is None else f"{v:.1e}"


def _mw(values: list[float]) -> str:
    return f"{np.mean(values):.1f} / {np.max(values):.1f}"


def family_table(name: str, role: str, rows: list[dict]) -> list[str]:
    """A row per rule, a column per seed: each group's lr (backbone / head) and the gap."""
    lines = [
        f"**{name}** ({role}): per seed, backbone lr / head lr: gap.",
        "",
        "| rule | " + " | ".join(f"seed {r['seed']}" for r in rows) + " | mean / worst |",
        "|---" * (len(rows) + 2) + "|",
        "| best grid lr | " + " | ".join(_lr(r["best_lr"]) for r in rows) + " | |",
    ]
    cells = [f"{_lr(r['default'])}: {r['d_gap']:.1f}" for r in rows]
    lines.append(f"| single-lr default | {' | '.join(cells)} | {_mw([r['d_gap'] for r in rows])} |")
    for k in rows[0]["gaps"]:
        cells = [
            f"{_lr(r['picks'][k]['backbone'])} / {_lr(r['picks'][k]['head'])}: {r['gaps'][k]:.1f}"
            for r in rows
        ]
        lines.append(f"| {k} | {' | '.join(cells)} | {_mw([r['gaps'][k] for r in rows])} |")
    return [*lines, ""]


def passes(results: dict[str, list[dict]], rule: str) -> bool:
    """Mean and worst gap <= the single-lr default's on every family (tuned and held-out)."""
    for rows in results.values():
        d = [r["d_gap"] for r in rows]
        g = [r["gaps"][rule] for r in rows]
        if np.mean(g) > np.mean(d) + 1e-9 or np.max(g) > np.max(d) + 1e-9:
            return False
    return True


def summary(results: dict[str, list[dict]]) -> list[str]:
    names = list(results)
    head = " | ".join(f"{n} ({FAMILIES[n][1]}) mean / worst" for n in names)
    lines = [f"| rule | {head} | passes |", "|---" * (len(names) + 2) + "|"]
    single = " | ".join(_mw([r["d_gap"] for r in results[n]]) for n in names)
    lines.append(f"| single-lr default | {single} | (the bar) |")
    for k in results[names[0]][0]["gaps"]:
        cells = " | ".join(_mw([r["gaps"][k] for r in results[n]]) for n in names)
        lines.append(f"| {k} | {cells} | {'yes' if passes(results, k) else 'no'} |")
    return [*lines, ""]


def markdown(results: dict[str, list[dict]], elapsed: float, command: str) -> str:
    lines = [
        "Per-group lrs on two fine-tuning families (pre-trained backbone, new head, AdamW, lr "
        "decayed linearly to 0): gap to the best lr of the 13-point single-lr grid, in accuracy "
        "points (lower is better; negative beats the grid's best single lr). "
        "`finder.range_test_groups` with two groups, backbone and head, each swept alone "
        "(1e-7 -> 10, 100 steps) while the other is held; each candidate rule trains each group "
        "at its own lr. *capped*: a group's own default, never above the single-lr default. A "
        "rule passes when its mean and worst gap are <= the single-lr default's on both "
        f"families. `{command}`.",
        "",
    ]
    if "--stepped" in command:
        lines += [STEPPED, ""]
    lines += summary(results)
    for name, rows in results.items():
        lines += family_table(name, FAMILIES[name][1], rows)
    lines.append(f"({elapsed:.0f} s on 1 thread)")
    return "\n".join(lines) + "\n"


STEPPED = (
    "With `--stepped`, the candidates that step the held group during a group's sweep (a sweep of "
    "the benchmark's own, checked bit for bit against range_test_groups' with the held group not "
    "stepped): *held at the default*: each group swept with the other stepped at the single-lr "
    "default, each at its own default; *..., censored*: the same, but a group whose curve never "
    "turns up (its lowest loss is the sweep's end) at the single-lr default; *in turn*: the "
    "backbone at its own default, the head swept with the backbone stepped at it."
)


def run_family(name: str, seeds: int, cache: C.Cache, stepped: bool) -> list[dict]:
    task = FAMILIES[name][0]()
    check_trainer(task, 1e-3)
    rows = []
    for seed in range(seeds):
        rows.append(seed_row(task, cache, seed, stepped))
        cache.flush()
        print(name, rows[-1], flush=True)
    return rows


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="1 seed of each family")
    p.add_argument("--cache", default="/tmp/lrwidget_per_group_cache.json")
    p.add_argument(
        "--from-cache",
        default="/tmp/lrwidget_choice_cache.json",
        help="choice_quality.py's cache, copied (never written) when --cache is new",
    )
    p.add_argument(
        "--stepped",
        action="store_true",
        help="also the candidates that step the held group (3 more sweeps a seed)",
    )
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    if not os.path.exists(a.cache) and os.path.exists(a.from_cache):
        shutil.copyfile(a.from_cache, a.cache)
    t0 = time.perf_counter()
    cache = C.Cache(a.cache)
    results = {
        n: run_family(n, 1 if a.quick else f[2], cache, a.stepped) for n, f in FAMILIES.items()
    }
    command = "python benchmarks/per_group.py" + (" --stepped" if a.stepped else "")
    md = markdown(results, time.perf_counter() - t0, command)
    print(md)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "per_group.md"), "w") as f:
        f.write(md)
    return md


if __name__ == "__main__":
    main()

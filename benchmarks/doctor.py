"""The training doctor (lrwidget.pure.verdict.Doctor) on real training runs, beside KillLossSpike.

For every family x optimizer (SGD momentum 0.9, Adam) of ``doctor_runs``: a real range test of
the fresh model (lrwidget.LRFinder, its curve handed to the doctor), then seeded runs of
``STEPS`` steps, the doctor fed 16 steps at a time as the engine does:

- healthy: the family's good lr; spike: the same with one bad batch at step ``AT`` (labels
  shuffled, inputs x4): both must never alarm, and end "healthy";
- high_start x30 / x100: the lr 30x / 100x too high from step 0: "too_high" inside the first 100
  steps;
- high_later x30: the good lr, then 30x from step ``AT`` (a warm-up gone too far): "too_high",
  steps from the rise (step ``AT``) to the flag counted (goal <= 20);
- low /100, /1000: the lr 100x / 1000x too low: "too_low" (from the range test's curve).

Tuning families (used to choose the rules): mlp, cnn on digits. Held out (never used to choose a
rule): a GRU on a synthetic sequence task. Beside the doctor, llm-foundry's KillLossSpike rule on
the same losses (window 100, outlier_multiplier 2, patience 4, loss_cap 10; only the rule).
The rollback check reruns each high_later run with the doctor in the loop and the watch's own
ring (lrwidget.engine.watch_ring.Ring, its selection rule) kept as each of ``MODES`` says (every
64 steps: ``watch()``'s default ``snapshot_every``; with the snapshot before each raise of the lr
that ``watch()`` takes; acting again at each new flag), and at the flag the ring's last snapshot
at or before the step the trouble began restored, the lr x0.1; steps from the first flag until
the median of the last 8 losses is back at the median of the 16 before the rise counted (goal
<= 50).

Run ``python benchmarks/doctor.py`` (about 3 minutes on one thread).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import doctor_runs as R  # noqa: E402

from lrwidget.engine.snapshot import Snapshot  # noqa: E402
from lrwidget.engine.watch_ring import RaiseWatch, Ring, state_bytes  # noqa: E402
from lrwidget.pure.verdict import Doctor  # noqa: E402

STEPS = 200
AT = 100
CHUNK = 16


@dataclass(frozen=True)
class Mode:
    """How the rollback check keeps its ring and acts (see :func:`rollback_steps`)."""

    name: str
    every: int
    raises: bool
    again: bool


#: before this stop's raise rule (for comparison); watch()'s default ring; and acting again
MODES = (
    Mode("every 64", 64, False, False),
    Mode("64 + before raises", 64, True, False),
    Mode("64 + before raises, acting again", 64, True, True),
)


@dataclass
class Scenario:
    name: str
    label: str
    factor: float
    later: bool = False
    bad: bool = False

    def lrs(self, good: float) -> np.ndarray:
        lrs = np.full(STEPS, good * self.factor)
        if self.later:
            lrs[:AT] = good
        return lrs


SCENARIOS = [
    Scenario("healthy", "healthy", 1),
    Scenario("spike", "healthy", 1, bad=True),
    Scenario("high_start x30", "too_high", 30),
    Scenario("high_start x100", "too_high", 100),
    Scenario("high_later x30", "too_high", 30, later=True),
    Scenario("low /100", "too_low", 1e-2),
    Scenario("low /1000", "too_low", 1e-3),
]


class KillLossSpike:
    """llm-foundry's rule (KillLossSpike, 2024): a loss >= outlier_multiplier x the mean of the
    last ``window`` losses for more than ``patience`` steps in a row, or (after 2 windows) half
    of the window above ``loss_cap``; nothing before the window is full."""

    def __init__(self, window: int = 100, multiplier: float = 2, patience: int = 4, cap=10):
        self.window: deque[float] = deque(maxlen=window)
        self.multiplier, self.patience, self.cap = multiplier, patience, cap
        self.outliers = 0

    def step(self, i: int, loss: float) -> bool:
        fired = False
        if len(self.window) == self.window.maxlen:
            mean = float(np.mean(self.window))
            if loss >= mean * self.multiplier:
                self.outliers += 1
                fired = self.outliers > self.patience
            else:
                self.outliers = 0
                high = sum(v > self.cap for v in self.window)
                fired = i >= 2 * self.window.maxlen and high >= self.window.maxlen / 2
        self.window.append(loss)
        return fired


def doctor_flags(losses: np.ndarray, lrs: np.ndarray, curve) -> tuple[int | None, str, set]:
    """(step after which too_high was first read, final verdict, every verdict read)."""
    d = Doctor(curve=curve)
    seen, flag = set(), None
    for i in range(0, len(losses), CHUNK):
        v = d.update(losses[i : i + CHUNK], lrs[i : i + CHUNK]).verdict
        seen.add(v)
        if v == "too_high" and flag is None:
            flag = min(i + CHUNK, len(losses))
    return flag, d.diagnosis.verdict, seen


def kls_flag(losses: np.ndarray) -> int | None:
    k = KillLossSpike()
    return next((i + 1 for i, v in enumerate(losses) if k.step(i, float(v))), None)


def onset(losses: np.ndarray) -> int:
    """Where the loss starts to rise after the lr change, read off the losses alone: the first
    step from ``AT`` whose next 8 losses have a median over 2x the 16 before ``AT``."""
    before = 2 * float(np.median(losses[AT - CHUNK : AT]))
    return next(
        (s for s in range(AT, len(losses) - 8) if np.median(losses[s : s + 8]) > before), AT
    )


def shape(losses: np.ndarray, healthy: np.ndarray) -> str:
    """What a run looks like, for the labels' honesty: its last 32 steps' median over the
    healthy run's, and its swings (8-step medians 1.2x or more over the one before)."""
    m = np.median(losses[: len(losses) // 8 * 8].reshape(-1, 8), 1)
    end = np.median(losses[-32:]) / np.median(healthy[-32:])
    return f"end={end:.1f}x_healthy swings={int(np.sum(m[1:] >= 1.2 * m[:-1]))}"


def score(sc: Scenario, losses: np.ndarray, lrs: np.ndarray, curve) -> dict:
    flag, final, seen = doctor_flags(losses, lrs, curve)
    alarm = bool(seen & {"too_high", "too_low"})
    if sc.label == "healthy":
        right = final == "healthy" and not alarm
    elif sc.label == "too_high":
        right = flag is not None and (flag <= AT or sc.later)
    else:
        right = final == "too_low" and flag is None
    kls = kls_flag(losses)
    rise = AT if sc.later else 0
    return {
        "right": right,
        "alarm": alarm and sc.label == "healthy",
        "latency": None if flag is None or sc.label != "too_high" else flag - rise,
        "from_onset": None if flag is None or not sc.later else flag - onset(losses),
        "early": flag is not None and flag <= rise,
        "final": final,
        "kls_right": (kls is not None) == (sc.label == "too_high"),
        "kls_alarm": kls is not None and sc.label == "healthy",
        "kls_latency": None if kls is None or sc.label != "too_high" else kls - rise,
    }


@dataclass
class Back:
    """A rollback + x0.1: the snapshot restored, the steps from the flag until the loss is
    back (nan: never), and the run's last 32 losses' median over the pre-rise loss (whether it
    stays back)."""

    restored: int | None
    steps: float
    end: float


def rollback_steps(fam: R.Family, opt: str, seed: int, curve, lrs: np.ndarray, mode: Mode) -> Back:
    """Roll back + x0.1 at the doctor's flag, the ring kept as ``watch()`` keeps it: a snapshot
    after the first step (``watch()`` takes one when it starts), every ``mode.every`` steps while
    there is no trouble, and (``mode.raises``) between two steps when the next step's lr is 2x
    the last snapshot's (the engine's own ``RaiseWatch``). ``mode.again``: the doctor keeps
    watching after the action (a new Doctor, as ``Watch`` starts one) and each new too_high flag
    is answered alike (what a user pressing the button again, or an automatic doctor, does)."""
    st: dict = {"at": None, "ring": None, "restored": None, "target": math.nan, "scale": 1.0}
    st["doctor"], st["from"], st["last"] = Doctor(curve=curve), 0, 0
    buf: list[float] = []
    nxt = [{"lr": float(lrs[0])}]  # the next step's lr, as a param group holds it
    raised = RaiseWatch(nxt)

    def snapshot(step: int, model, optimizer) -> None:
        if st["ring"] is None:
            st["ring"] = Ring(lambda: Snapshot.capture(model, optimizer), [], cap=2**30)
        st["ring"].take(step, state_bytes(model, optimizer))
        st["last"] = step
        raised.taken()

    def act(i: int, d) -> float | None:
        entry = st["ring"].before(None if d.since is None else st["from"] + d.since)
        if entry is None:  # trouble from the first step: nothing before it to go back to
            return None
        entry.restore()
        st["ring"].drop_after(entry.step)
        if st["at"] is None:
            st["at"], st["target"] = i, float(np.median(buf[AT - CHUNK : AT]))
        # Watch.scale_lr: a new doctor from the action on; the lrs x0.1 compose
        st["restored"], st["doctor"], st["from"], st["last"] = (
            entry.step,
            Doctor(curve),
            i + 1,
            i + 1,
        )
        st["scale"] *= 0.1
        st["post"] = []
        nxt[0]["lr"] = float(lrs[min(i + 1, len(lrs) - 1)]) * st["scale"]
        raised.taken()
        return st["scale"]

    def on_step(i, loss, model, optimizer):
        if i == 0:
            snapshot(1, model, optimizer)
            st["last"] = 0  # watch()'s own is at step 0: the cadence counts from there
        buf.append(loss)
        if st["at"] is not None and "done" not in st:
            st["post"].append(loss)  # the losses since the last action
            if len(st["post"]) >= 8 and np.median(st["post"][-8:]) <= st["target"]:
                st["done"] = i - st["at"]
        if st["at"] is not None and not mode.again:
            return None
        nxt[0]["lr"] = float(lrs[min(i + 1, len(lrs) - 1)]) * st["scale"]
        if (i + 1 - st["from"]) % CHUNK:
            if mode.raises and raised.due():
                snapshot(i + 1, model, optimizer)
            return None
        d = st["doctor"].update(np.array(buf[-CHUNK:]), lrs[i + 1 - CHUNK : i + 1] * st["scale"])
        if d.verdict == "too_high":
            return act(i, d)
        if i + 1 - st["last"] >= mode.every or (mode.raises and raised.due()):
            snapshot(i + 1, model, optimizer)
        return None

    run = R.train(fam, opt, seed, lrs, on_step=on_step)
    end = float(np.median(run.losses[-32:])) / st["target"]
    return Back(st["restored"], float(st.get("done", math.nan)), end)


def run_family(fam: R.Family, seed: int = 0) -> tuple[list[dict], dict[str, list[Back]]]:
    rows: list[dict] = []
    backs: dict[str, list[Back]] = {m.name: [] for m in MODES}
    for opt in ("sgd", "adam"):
        curve = R.range_curve(fam, opt, seed)
        healthy = np.array([])
        good = fam.good[opt]
        for sc in SCENARIOS:
            lrs = sc.lrs(good)
            run = R.train(fam, opt, seed, lrs, bad_step=AT if sc.bad else None)
            healthy = run.losses if sc.name == "healthy" else healthy  # healthy comes first
            rows.append({"opt": opt, "scenario": sc.name, **score(sc, run.losses, lrs, curve)})
            rows[-1]["shape"] = shape(run.losses, healthy)
            if sc.later:
                for m in MODES:
                    backs[m.name].append(rollback_steps(fam, opt, seed, curve, lrs, m))
    return rows, backs


def _steps(values: list) -> str:
    got = [v for v in values if v is not None]
    return "-" if not got else f"{max(got)}"


def _backs(backs: list[Back]) -> str:
    return "/".join("never" if math.isnan(b.steps) else f"{b.steps:.0f}" for b in backs) or "-"


def summary(name: str, rows: list[dict], backs: dict[str, list[Back]]) -> str:
    n = len(rows)
    healthy = [r for r in rows if r["scenario"] in ("healthy", "spike")]
    later = [r for r in rows if r["scenario"].startswith("high_later")]
    start = [r for r in rows if r["scenario"].startswith("high_start")]
    high = later + start
    back = " ; ".join(_backs(backs[m.name]) for m in MODES)
    return (
        f"| {name} | {n} | {sum(r['right'] for r in rows)}/{n} "
        f"| {sum(r['alarm'] for r in healthy)}/{len(healthy)} "
        f"| {_steps([r['latency'] for r in later])} / {_steps([r['from_onset'] for r in later])} "
        f"| {sum(r['latency'] is not None and r['latency'] <= 100 for r in start)}/{len(start)} "
        f"| {back} "
        f"| {sum(r['kls_right'] for r in high)}/{len(high)} "
        f"| {sum(r['kls_alarm'] for r in healthy)}/{len(healthy)} "
        f"| {_steps([r['kls_latency'] for r in later])} |"
    )


HEADER = (
    "| family | runs | doctor: right | alarms on healthy | steps lr up / loss up -> flag (max) "
    "| flagged in first 100 (start) | rollback+x0.1 steps back, SGD/Adam ("
    + " ; ".join(m.name for m in MODES)
    + ") | KillLossSpike: too-high flagged "
    "| its alarms on healthy | its steps rise->flag |\n" + "|---" * 10 + "|"
)


def main() -> None:
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    lines, detail = [], []
    for fam in R.families():
        rows, backs = run_family(fam)
        lines.append(summary(fam.name + (" (held out)" if fam.held_out else ""), rows, backs))
        detail += [
            f"{fam.name:4s} {r['opt']:4s} {r['scenario']:16s} {r['final']:9s} "
            f"right={r['right']!s:5s} latency={r['latency']} from_onset={r['from_onset']} "
            f"kls={r['kls_latency']} {r['shape']}"
            for r in rows
        ]
        detail += [
            f"{fam.name:4s} {opt:4s} rollback, {mode}: restored step "
            f"{b.restored}, back in {b.steps:.0f} steps, the last 32 steps at {b.end:.1f}x the "
            "pre-rise loss"
            for mode, got in backs.items()
            for opt, b in zip(("sgd", "adam"), got)
        ]
    print("\n".join(detail))
    print()
    print(HEADER)
    print("\n".join(lines))
    print(f"\n{time.perf_counter() - t0:.0f} s on one thread")


if __name__ == "__main__":
    main()

"""The hot loop of a range test: write each lr of the sweep into the optimizer, run one step, put
its loss into the readings and ask the :class:`StopRule` whether to end.

Per step the loop does only that (no call it does not need, nothing proportional to
``num_iter``: the lrs come in chunks of the sweep). On CPU each loss is read with ``.item()``
at once (:func:`loop_cpu`); on an accelerator the :class:`Recorder` stages the losses on the
device and fetches them every ``fetch_every`` steps (:func:`loop_staged`), so the host never
waits for the device inside a step. :class:`lrwidget.engine.track.Tracker` (the user's own
loop) uses
the same StopRule, Recorder and :func:`lr_writer`.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import Tensor
from torch.types import Device

from ..pure.schedule import Sweep
from .history import History

_isfinite = math.isfinite


class StopRule:
    """The one place where a range test decides to end.

    Every reading goes through :meth:`decide`; between fetched readings (accelerators) the loop
    asks :meth:`pending`. A distributed version subclasses this and all-reduces the answer so
    that every rank stops at the same step.

    Parameters
    ----------
    num_iter : int
        Readings after which the test is complete.
    diverge_th : float
        Diverged when the smoothed loss exceeds ``diverge_th`` times the best smoothed loss.

    Example
    -------
    >>> r = StopRule(3, 5.0)
    >>> r.decide(1, 1.0, 1.0, 1.0), r.decide(2, 9.0, 6.0, 1.0), r.decide(3, 1.0, 1.0, 1.0)
    (None, 'diverged', 'completed')
    >>> r.decide(2, float("nan"), float("nan"), 1.0)
    'diverged'
    """

    __slots__ = ("num_iter", "diverge_th", "requested")

    def __init__(self, num_iter: int, diverge_th: float) -> None:
        self.num_iter = num_iter
        self.diverge_th = diverge_th
        self.requested = False  # set by stop() from any thread; a bool store is atomic

    def decide(self, n: int, loss: float, smoothed: float, best: float) -> str | None:
        """Reason to end after the ``n``-th reading, or None to go on."""
        if not (_isfinite(loss) and _isfinite(smoothed)) or smoothed > self.diverge_th * best:
            return "diverged"
        if self.requested:
            return "stopped"
        if n >= self.num_iter:
            return "completed"
        return None

    def pending(self) -> str | None:
        """Reason to end before the next step when readings are not yet known."""
        return "stopped" if self.requested else None


class Recorder:
    """Turns losses into readings; on accelerators stages them on the device first.

    Parameters
    ----------
    readings : History
        Where the readings go.
    rule : StopRule
        Asked after each reading.
    fetch_every : int
        Losses staged on the device before one fetch; 1: none staged, each read at once.
    device : torch.device
        Where the staged losses wait.

    Example
    -------
    >>> from lrwidget.engine.history import History
    >>> rec = Recorder(History(4), StopRule(4, 5.0), fetch_every=2, device="cpu")
    >>> [rec.add(i, 0.1 * (i + 1), torch.tensor(1.0)) for i in range(4)]  # fetched in pairs
    [None, None, None, 'completed']
    >>> rec.readings.n
    4
    """

    def __init__(self, readings: History, rule: StopRule, fetch_every: int, device: Device) -> None:
        self.readings = readings
        self.rule = rule
        self.fetch_every = fetch_every
        self.n_staged = 0  # losses waiting on the device
        self.first_step = 0  # step index of the first of them
        self.staged_lrs: list[float] = []  # their lrs
        self.staged_losses = torch.empty(fetch_every, device=device) if fetch_every > 1 else None

    def add(self, i: int, lr: float, loss: Tensor | float) -> str | None:
        """Record step ``i`` (run with ``lr``); the reason to end, or None."""
        if self.staged_losses is None or not isinstance(loss, Tensor):
            if self.n_staged:  # a float after staged tensors: keep the order
                r = self.flush()
                if r:
                    return r
            v = loss.item() if isinstance(loss, Tensor) else float(loss)
            s = self.readings.append(lr, v)
            return self.rule.decide(i + 1, v, s, self.readings.best)
        if self.n_staged == 0:
            self.first_step = i
        self.staged_losses[self.n_staged] = loss.detach()
        self.staged_lrs.append(lr)
        self.n_staged += 1
        if self.n_staged == self.fetch_every or i + 1 >= self.rule.num_iter:
            return self.flush()
        return self.rule.pending()

    def flush(self) -> str | None:
        """Fetch the staged losses into the readings; the reason to end, or None."""
        staged = self.staged_losses
        if not self.n_staged or staged is None:
            return self.rule.pending()
        losses = staged[: self.n_staged].tolist()  # the one host sync per chunk
        lrs, self.staged_lrs = self.staged_lrs, []
        self.n_staged = 0
        readings, decide, first = self.readings, self.rule.decide, self.first_step
        for j, (lr, v) in enumerate(zip(lrs, losses)):
            s = readings.append(lr, v)
            r = decide(first + j + 1, v, s, readings.best)
            if r:
                return r  # readings after the one that ended the test are dropped
        return self.rule.pending()


def write_lr(holder: Any, key: Any, value: float) -> None:
    """Write the lr ``value`` at ``holder[key]`` (a param group's key, a scheduler list's index).

    A tensor there (capturable/fused optimizers hold their lrs as tensors, and the schedulers
    built on them hold tensors too) is filled in place: a float put in its place breaks a
    capturable optimizer, and a scheduler's arithmetic on it differs. Anything else is replaced.

    Example
    -------
    >>> held = torch.tensor(1e-3, dtype=torch.float64)
    >>> g = {"lr": held, "initial_lr": 1e-3}
    >>> write_lr(g, "lr", 0.5); write_lr(g, "initial_lr", 0.5)
    >>> g["lr"] is held, float(held), g["initial_lr"]
    (True, 0.5, 0.5)
    """
    cur = holder[key]
    if isinstance(cur, Tensor):
        cur.fill_(value)
    else:
        holder[key] = value


def lr_writer(optimizer: Any) -> tuple[dict[str, Any] | None, Callable[[list[float]], None]]:
    """``(group0, write)``: ``write(lrs)`` writes one lr per param group; ``group0`` is the one
    plain-float param group when that is all there is (the fast case: the loop writes
    ``group0["lr"]`` itself), else None.

    Example
    -------
    >>> p = [torch.nn.Parameter(torch.ones(1))]
    >>> opt = torch.optim.SGD([{"params": p[:1]}, {"params": []}], lr=0.1)
    >>> group0, write = lr_writer(opt); write([0.5, 0.05])
    >>> group0, [g["lr"] for g in opt.param_groups]
    (None, [0.5, 0.05])
    """
    groups = optimizer.param_groups

    def write(lrs: list[float]) -> None:
        for g, lr in zip(groups, lrs):
            write_lr(g, "lr", lr)

    if len(groups) == 1 and not isinstance(groups[0]["lr"], Tensor):
        return groups[0], write
    return None, write


def loop_cpu(
    sweep: Sweep, readings: History, rule: StopRule, optimizer: Any, step: Callable[[], Tensor]
) -> str | None:
    """Run the sweep, reading each loss at once; the reason it ended.

    Example
    -------
    >>> from lrwidget.engine.history import History
    >>> p = torch.nn.Parameter(torch.ones(1)); opt = torch.optim.SGD([p], lr=1e-3)
    >>> readings = History(5)
    >>> loop_cpu(Sweep([1e-3], 1e-1, 5), readings, StopRule(5, 5.0), opt,
    ...          lambda: torch.tensor(1.0)), readings.n
    ('completed', 5)
    """
    # per step only the lr write, the step, one .item() and three array writes
    group0, write = lr_writer(optimizer)
    append = readings.append
    decide = rule.decide
    for first, rows in sweep.chunks():
        lrs = rows[:, 0].tolist()
        group_lrs = rows.tolist() if group0 is None else []
        for j, lr in enumerate(lrs):
            if group0 is not None:
                group0["lr"] = lr
            else:
                write(group_lrs[j])
            v = step().item()
            r = decide(first + j + 1, v, append(lr, v), readings.best)
            if r is not None:
                return r
    return "completed"


def loop_staged(
    sweep: Sweep,
    readings: History,
    rule: StopRule,
    optimizer: Any,
    step: Callable[[], Tensor],
    fetch_every: int,
    device: Device,
    recorder: Recorder | None = None,
) -> str | None:
    """Run the sweep with the losses staged on ``device`` (see :class:`Recorder`); the reason
    it ended. ``recorder``: a recorder of its own (the collective one,
    :class:`lrwidget.engine.collective.CollectiveRecorder`) instead of a new :class:`Recorder`.

    Example
    -------
    >>> from lrwidget.engine.history import History
    >>> p = torch.nn.Parameter(torch.ones(1)); opt = torch.optim.SGD([p], lr=1e-3)
    >>> readings = History(5)
    >>> loop_staged(Sweep([1e-3], 1e-1, 5), readings, StopRule(5, 5.0), opt,
    ...             lambda: torch.tensor(1.0), fetch_every=4, device="cpu"), readings.n
    ('completed', 5)
    """
    group0, write = lr_writer(optimizer)
    rec = recorder if recorder is not None else Recorder(readings, rule, fetch_every, device)
    for first, rows in sweep.chunks():
        lrs = rows[:, 0].tolist()
        group_lrs = rows.tolist() if group0 is None else []
        for j, lr in enumerate(lrs):
            if group0 is not None:
                group0["lr"] = lr
            else:
                write(group_lrs[j])
            r = rec.add(first + j, lr, step())
            if r is not None:
                return r
    return rec.flush() or "completed"


def hooked_optimizer(optimizer: Any) -> torch.optim.Optimizer | None:
    """The optimizer that takes step hooks: the one a wrapper holds, or ``optimizer``.

    The wrapped one first: accelerate's AcceleratedOptimizer is a torch Optimizer that never ran
    its ``__init__`` (no hook registry) and steps the one it wraps."""
    for opt in (getattr(optimizer, "optimizer", None), optimizer):
        if isinstance(opt, torch.optim.Optimizer):
            return opt
    return None

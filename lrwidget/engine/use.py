"""Using a test's result on :class:`lrwidget.LRFinder`: :meth:`apply`, :meth:`one_cycle` and
:meth:`schedule` (a mixin of LRFinder; under torch.distributed rank 0's numbers on every rank)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Callable, TypeVar

import torch

from ..pure.ranges import check_range, check_total_steps, suggest_range
from .checks import real
from .collective import Collective
from .history import RangeTestResult
from .loop import write_lr
from .range_schedule import all_or_nothing, build_schedule, check_kind, group_lrs
from .schedules import base_lrs
from .session import Runs
from .stream import LrApplied

T = TypeVar("T")


class UseLr:
    """apply / one_cycle / schedule of LRFinder."""

    optimizer: torch.optim.Optimizer
    result: RangeTestResult | None
    _runs: Runs

    def _collective(self) -> Collective | None:
        raise NotImplementedError

    def _lr_arg(self, lr: object, name: str = "lr") -> float:
        if lr is None:
            lr = self.result.suggested_lr if self.result is not None else None
            if lr is None:
                raise ValueError(f"{name} is None and there is no suggested lr; pass an lr")
        v = real(name, lr, "a positive finite real number")
        if not (v > 0 and math.isfinite(v)):
            raise ValueError(f"{name} must be a positive finite real number, got {lr}")
        return v

    def _ratio_lrs(self, lr: float) -> list[float]:
        return group_lrs(self.optimizer, lr)

    def apply(self, lr: float | None = None) -> list[float]:
        """Write ``lr`` into the first param group and scale the others alike.

        Parameters
        ----------
        lr : float, optional
            New lr of the first param group; None: the last result's suggested lr.

        Returns
        -------
        list of float
            Every param group's new lr.

        Under torch.distributed (:attr:`collective`) every rank calls ``apply``: rank 0's ``lr``
        is used on every rank (what the other ranks pass is ignored), and when it or any rank
        refuses (a bad lr on rank 0, a test still running or not restored on some rank) every
        rank raises and none applies anything.

        Example
        -------
        >>> import torch; from torch import nn; from lrwidget import LRFinder
        >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
        >>> opt = torch.optim.SGD([{"params": a.parameters(), "lr": 1e-2},
        ...                        {"params": b.parameters(), "lr": 1e-3}])
        >>> LRFinder(nn.Sequential(a, b), opt).apply(0.1)
        [0.1, 0.01]
        """
        if self._runs.claim is not None:  # local even when collective: a test is using the group
            raise RuntimeError(
                "apply() during a running test would be undone by the restore; apply after it ended"
            )
        new = self._ratio_lrs(self._agreed_lr(lr))
        for g, v in zip(self.optimizer.param_groups, new):
            write_lr(g, "lr", v)
        return self._tell_applied()

    def _tell_applied(
        self, schedule: tuple | None = None, peaks: Sequence[float] | None = None
    ) -> list[float]:
        """The lrs the optimizer holds, told to the views (however they got there); ``schedule``:
        the ``(kind, lo, hi, total_steps)`` they start (None: one lr, no schedule), and
        ``peaks`` its built scheduler's peak lr of each group."""
        held = [float(g["lr"]) for g in self.optimizer.param_groups]
        with self._runs.lock:
            subs = list(self._runs.subs)
        for sub in subs:
            sub.callback(LrApplied(tuple(held), schedule, None if peaks is None else tuple(peaks)))
        return held

    def _agreed_lr(self, lr: float | None) -> float:
        """``lr`` checked (None: the suggestion); under torch.distributed rank 0's on every rank,
        or the same error on every rank."""
        return self._agreed(lambda: self._lr_arg(lr))

    def _agreed(self, checked: Callable[[], T]) -> T:
        """``checked()`` (the arguments checked) after the restore check; under
        torch.distributed rank 0's answer on every rank, or the same error on every rank."""
        comm = self._collective()
        if comm is None:
            self._check_restored()
            return checked()
        problem = None
        v = None
        try:
            self._check_restored()
            if comm.rank == 0:
                v = checked()
        except (ValueError, TypeError, RuntimeError) as e:  # raised on every rank, below
            problem = e
        return comm.choose(v, problem)  # rank 0's value on every rank, or an error on every rank

    def _check_restored(self) -> None:
        if self._runs.pending is not None:
            raise RuntimeError(
                "the last range test's restore failed and finder.restore() would undo "
                "a new lr; call finder.restore() first"
            )

    def one_cycle(
        self, lr: float | None = None, total_steps: int | None = None, **kwargs: Any
    ) -> torch.optim.lr_scheduler.OneCycleLR:
        """A ``torch.optim.lr_scheduler.OneCycleLR`` peaking at ``lr`` (group ratios kept).

        Parameters
        ----------
        lr : float, optional
            Max lr of the first param group; None: the last result's suggested lr.
        total_steps : int
            Passed to OneCycleLR, as are ``kwargs`` (``pct_start``, ``div_factor``, ...).

        Notes
        -----
        Under torch.distributed (:attr:`collective`) every rank calls ``one_cycle``, like
        :meth:`apply`: every rank's schedule peaks at rank 0's ``lr``, or every rank raises.

        Example
        -------
        >>> import torch; from torch import nn; from lrwidget import LRFinder
        >>> m = nn.Linear(2, 1); opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        >>> sched = LRFinder(m, opt).one_cycle(0.5, total_steps=100)
        >>> [g["max_lr"] for g in opt.param_groups]
        [0.5]
        """
        if self._runs.claim is not None:
            raise RuntimeError("one_cycle() during a running test; call it after the test ended")
        max_lrs = self._ratio_lrs(self._agreed_lr(lr))
        return torch.optim.lr_scheduler.OneCycleLR(
            self.optimizer, max_lr=max_lrs, total_steps=total_steps, **kwargs
        )

    def _schedule_args(
        self, kind: object, lo: object, hi: object, total_steps: object
    ) -> tuple[str, float, float, int]:
        """The schedule's numbers, checked; a missing end from the suggested range."""
        kind = check_kind(kind)
        n = check_total_steps(total_steps)
        r = self.result
        if lo is None or hi is None:
            suggested = suggest_range(r) if r is not None else None
            if suggested is None:
                missing = "lo" if lo is None else "hi"
                raise ValueError(
                    f"{missing} is None and there is no suggested range (no range test, or "
                    "its rules suggest no lr); pass lo and hi"
                )
            lo = suggested[0] if lo is None else lo
            hi = suggested[1] if hi is None else hi
        a, b = check_range(r.lrs if r is not None and len(r) else None, lo, hi)
        return kind, a, b, n

    def schedule(
        self,
        kind: str,
        lo: float | None = None,
        hi: float | None = None,
        total_steps: int | None = None,
        **kwargs: Any,
    ) -> torch.optim.lr_scheduler.LRScheduler:
        """A torch lr scheduler over the range ``lo .. hi``, attached to the optimizer.

        Parameters
        ----------
        kind : str
            "one_cycle" (``OneCycleLR(max_lr=hi, div_factor=hi / lo)``), "cyclic"
            (``CyclicLR(base_lr=lo, max_lr=hi)``, triangular), "cosine" or "linear" (a warmup
            from lo to hi, then a decay to lo / 100). See
            :mod:`lrwidget.engine.range_schedule` and the docs' "Schedules" page.
        lo, hi : float, optional
            The first param group's range (the others keep their ratios); within the last
            range test's lrs when there is one. None: that end of
            :func:`lrwidget.pure.ranges.suggest_range` (3 x the default suggestion as the peak).
        total_steps : int
            Optimizer steps the schedule spans (2 to 1e9).
        **kwargs
            Passed to OneCycleLR / CyclicLR (``pct_start``, ``cycle_momentum``, ...).

        Returns
        -------
        torch.optim.lr_scheduler.LRScheduler
            Step it after each ``optimizer.step()``.

        Raises
        ------
        ValueError
            A bad argument (named, with the accepted values); nothing is attached.
        RuntimeError
            A range test is running, or its restore failed.

        Notes
        -----
        Under torch.distributed (:attr:`collective`) every rank calls ``schedule``, like
        :meth:`apply`: every rank builds rank 0's schedule (what the other ranks pass is
        ignored), or every rank raises and none keeps anything attached.

        Example
        -------
        >>> import torch; from torch import nn; from lrwidget import LRFinder
        >>> m = nn.Linear(2, 1); opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        >>> sched = LRFinder(m, opt).schedule("cyclic", 1e-3, 1e-2, total_steps=800)
        >>> sched.base_lrs, sched.max_lrs, sched.total_size
        ([0.001], [0.01], 200.0)
        """
        if self._runs.claim is not None:
            raise RuntimeError("schedule() during a running test; call it after the test ended")
        args = self._agreed(lambda: self._schedule_args(kind, lo, hi, total_steps))
        comm = self._collective()
        if comm is None:
            sched = build_schedule(self.optimizer, *args, **kwargs)
        else:
            sched = self._build_everywhere(comm, args, kwargs)
        self._tell_applied(args, base_lrs(self.optimizer, [sched]))
        return sched

    def _build_everywhere(
        self, comm: Collective, args: tuple, kwargs: dict[str, Any]
    ) -> torch.optim.lr_scheduler.LRScheduler:
        """Every rank builds the schedule, or none keeps it (a rank's kwargs may be refused)."""
        with all_or_nothing(self.optimizer):
            sched, problem = None, None
            try:
                sched = build_schedule(self.optimizer, *args, **kwargs)
            except (ValueError, TypeError, RuntimeError) as e:  # raised on every rank, below
                problem = e
            comm.choose(None, problem)
        assert sched is not None  # choose raised otherwise
        return sched

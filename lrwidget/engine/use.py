"""Using a test's result on :class:`lrwidget.LRFinder`: :meth:`apply` and :meth:`one_cycle` (a
mixin of LRFinder; under torch.distributed rank 0's lr on every rank)."""

from __future__ import annotations

import math
from typing import Any

import torch

from .checks import real
from .collective import Collective
from .history import RangeTestResult
from .loop import write_lr
from .session import Runs
from .stream import LrApplied


class UseLr:
    """apply / one_cycle of LRFinder."""

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
        cur = [float(g["lr"]) for g in self.optimizer.param_groups]
        ref = cur[0]
        if ref > 0 and math.isfinite(ref):
            k = lr / ref
            # a group with the first one's lr gets exactly lr too (c * k may be off in the last bit)
            return [lr] + [lr if c == ref else c * k for c in cur[1:]]
        return [lr] * len(cur)

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
        held = [float(g["lr"]) for g in self.optimizer.param_groups]
        with self._runs.lock:
            subs = list(self._runs.subs)
        for sub in subs:  # views show what the optimizer holds, however it got there
            sub.callback(LrApplied(tuple(held)))
        return held

    def _agreed_lr(self, lr: float | None) -> float:
        """``lr`` checked (None: the suggestion); under torch.distributed rank 0's on every rank,
        or the same error on every rank."""
        comm = self._collective()
        if comm is None:
            self._check_restored()
            return self._lr_arg(lr)
        problem = None
        v = None
        try:
            self._check_restored()
            if comm.rank == 0:
                v = self._lr_arg(lr)
        except (ValueError, TypeError, RuntimeError) as e:  # raised on every rank, below
            problem = e
        return comm.choose(v, problem)  # rank 0's lr on every rank, or an error on every rank

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

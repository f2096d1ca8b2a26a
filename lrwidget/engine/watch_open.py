"""``LRFinder.watch``: the doctor after the click (a mixin of LRFinder), and its argument checks.

The watch itself is :class:`lrwidget.engine.watch.Watch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..pure.numbers import is_int
from .collective import Collective
from .progress import check_progress
from .session import Runs
from .snapshot import Snapshot
from .watch import Watch

__all__ = ["Watching", "check_watch_args", "loaders_arg"]


class Watching:
    """watch() of LRFinder."""

    optimizer: torch.optim.Optimizer
    _runs: Runs

    def _collective(self) -> Collective | None:
        raise NotImplementedError

    def _capture(self, *loaders: Any) -> Snapshot:
        raise NotImplementedError

    def watch(
        self,
        scheduler: Any = None,
        *,
        every: int = 16,
        snapshot_every: int = 64,
        ring_bytes: int = 512 * 2**20,
        loaders: Any = None,
        progress: bool | None = None,
        auto_act: bool = False,
    ) -> Watch:
        """Watch training with the doctor (verdict, reason, events) and act on it (``scale_lr``).

        Parameters
        ----------
        scheduler : lr scheduler or list of them, optional
            The schedulers stepping the optimizer: an action scales their whole schedule, and a
            rollback brings their state back.
        every : int
            Steps per host sync (the chunk the doctor reads, the listeners get).
        snapshot_every : int
            Steps between two snapshots of the ring (taken at a sync point, while there is no
            trouble; the first when the ``with`` block begins).
        ring_bytes : int
            Bytes the ring of snapshots may hold (CPU memory, or the disk cache with
            ``memory_cache=False``); the oldest are dropped first. Default 512 MiB.
        loaders : DataLoader or list of them, optional
            Loaders whose generators a rollback brings back too.
        progress : bool, optional
            Print each verdict change and action as one line on standard error while no
            listener is attached (None: when standard error is a terminal).
        auto_act : bool
            The doctor acts by itself: at each too_high verdict it rolls back to the last
            snapshot before the trouble and cuts the lr 10x (``scale_lr(0.1, rollback=True)``:
            the seed's advice), again at each new too_high (actions compose: x0.01, ...).
            False (default): only ``scale_lr`` and the view's buttons act.

        Returns
        -------
        Watch
            A context manager: call ``record(loss)`` once per training step inside it.

        Raises
        ------
        ValueError, TypeError
            A bad argument (named), before anything is touched.
        RuntimeError
            A range test is running on this finder (or its restore failed): nothing is changed.

        Example
        -------
        >>> import torch; from torch import nn; from lrwidget import LRFinder
        >>> model = nn.Linear(3, 1); opt = torch.optim.SGD(model.parameters(), lr=1e-2)
        >>> x, y = torch.randn(32, 3), torch.randn(32, 1)
        >>> with LRFinder(model, opt).watch() as watch:
        ...     for _ in range(40):
        ...         loss = nn.functional.mse_loss(model(x), y); loss.backward()
        ...         opt.step(); opt.zero_grad(); watch.record(loss)
        ...     _ = watch.scale_lr(0.5)
        >>> watch.step, opt.param_groups[0]["lr"], [type(e).__name__ for e in watch.events][-2:]
        (40, 0.005, ['ActionTaken', 'VerdictChanged'])
        """
        schedulers = check_watch_args(scheduler, every, snapshot_every, ring_bytes, progress)
        if not isinstance(auto_act, bool):
            raise TypeError(f"auto_act must be True or False, got {auto_act!r}")
        if self._runs.claim is not None or self._runs.pending is not None:
            raise RuntimeError(
                "watch() while a range test is running on this LRFinder (or after one whose "
                "restore failed: see finder.restore()); nothing was changed, watch after it ended"
            )
        gens = loaders_arg(loaders)
        return Watch(
            self,
            lambda: self._capture(*gens),
            schedulers,
            self._collective(),
            every=every,
            snapshot_every=snapshot_every,
            ring_bytes=ring_bytes,
            progress=progress,
            auto_act=auto_act,
        )


def check_watch_args(
    scheduler: Any, every: Any, snapshot_every: Any, ring_bytes: Any, progress: Any
) -> list[Any]:
    """Check :meth:`lrwidget.LRFinder.watch`'s arguments; the schedulers as a list.

    Example
    -------
    >>> check_watch_args(None, 0, 64, 2**20, None)
    Traceback (most recent call last):
    ...
    ValueError: every must be an integer >= 1 (steps per host sync), got 0
    """
    for name, v, what in (
        ("every", every, "steps per host sync"),
        ("snapshot_every", snapshot_every, "steps between two snapshots"),
    ):
        if not is_int(v) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1 ({what}), got {v!r}")
    if not is_int(ring_bytes) or ring_bytes < 0:
        raise ValueError(
            f"ring_bytes must be an integer >= 0 (bytes of snapshots), got {ring_bytes!r}"
        )
    check_progress(progress)
    schedulers = list(scheduler) if isinstance(scheduler, (list, tuple)) else [scheduler]
    schedulers = [s for s in schedulers if s is not None]
    for s in schedulers:
        if not all(hasattr(s, a) for a in ("step", "state_dict", "load_state_dict")):
            raise TypeError(
                "scheduler must be None, an lr scheduler (torch.optim.lr_scheduler) or a list "
                f"of them, got {s!r}"
            )
    return schedulers


def loaders_arg(loaders: Any) -> Sequence[Any]:
    """``loaders`` of :meth:`lrwidget.LRFinder.watch` as a sequence (one loader or several)."""
    if loaders is None:
        return ()
    return list(loaders) if isinstance(loaders, (list, tuple)) else [loaders]

"""What a range test will do, checked: :class:`Plan`, made by :func:`range_test_plan` and
:func:`track_plan` from the arguments of ``range_test`` / ``track`` before anything is touched.

A plan is frozen: what was checked is what runs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import torch

from ..pure.schedule import Sweep
from .checks import (
    check_cache_dir,
    check_loaders,
    check_scaler,
    check_step_args,
    check_trainable,
    sweep_args,
)
from .optimizer_kinds import lr_note
from .progress import check_progress

if TYPE_CHECKING:
    from .finder import LRFinder

#: run the accelerator's loop (losses staged on the device, fetched in chunks) on CPU too:
#: a switch for tests, which have no accelerator
STAGE_ON_CPU = False


def staged(device: torch.device) -> bool:
    """Whether the losses stay on ``device`` and are fetched in chunks (the accelerator loop)."""
    return device.type != "cpu" or STAGE_ON_CPU


@dataclass(frozen=True)
class Plan:
    """A checked range test (``range_test``'s arguments; ``track`` uses the first four)."""

    sweep: Sweep
    smooth_f: float
    diverge_th: float
    progress: bool | None = None
    val_loader: Any = None
    accumulation_steps: int = 1
    non_blocking: bool = True
    step_fn: Callable | None = None

    def agreement(self, kind: str, fetch_every: int, **steps: Any) -> dict:
        """What every rank of a collective test must agree on: the sweep, the rule, and
        ``steps``, what decides the collectives of one step (a rank that accumulates more
        batches runs more of a DDP model's gradient reductions: the ranks' collectives would
        no longer pair up)."""
        sweep = self.sweep
        return {
            "test": kind,
            "num_iter": sweep.num_iter,
            "start_lr": [float(v) for v in sweep.starts],
            "end_lr": sweep.end_lr,
            "step_mode": sweep.step_mode,
            "smooth_f": self.smooth_f,
            "diverge_th": self.diverge_th,
            "fetch_every": fetch_every,
            **steps,
        }


def warn_lr_note(optimizer: Any) -> None:
    """Warn, before the test, when the lr it sweeps is not a step size for ``optimizer`` (a
    d-adaptive optimizer's multiplier of d: :func:`lrwidget.engine.optimizer_kinds.lr_note`)."""
    note = lr_note(optimizer)
    if note is not None:
        warnings.warn(note, UserWarning, stacklevel=4)  # range_test's / track's caller


def track_plan(
    finder: LRFinder,
    start_lr: Any,
    end_lr: Any,
    num_iter: Any,
    step_mode: Any,
    smooth_f: Any,
    diverge_th: Any,
    progress: Any,
) -> Plan:
    """``track``'s checks (the finder is free, checked by the caller)."""
    sweep, smooth_f, diverge_th = sweep_args(
        finder.optimizer, start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th
    )
    check_trainable(finder.optimizer)
    check_cache_dir(finder.memory_cache, finder.cache_dir)
    check_progress(progress)
    warn_lr_note(finder.optimizer)
    return Plan(sweep, smooth_f, diverge_th, progress)


def range_test_plan(
    finder: LRFinder,
    train_loader: Any,
    val_loader: Any,
    start_lr: Any,
    end_lr: Any,
    num_iter: Any,
    step_mode: Any,
    smooth_f: Any,
    diverge_th: Any,
    accumulation_steps: Any,
    non_blocking_transfer: Any,
    step_fn: Any,
    progress: Any,
) -> Plan:
    """All of ``range_test``'s checks but the finder's being free (checked by the caller);
    ``val_loader`` as :func:`lrwidget.engine.batches.val_batches` made it."""
    sweep, smooth_f, diverge_th = sweep_args(
        finder.optimizer, start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th
    )
    check_trainable(finder.optimizer)
    check_step_args(accumulation_steps, step_fn, finder.criterion)
    check_loaders(train_loader, val_loader)
    check_cache_dir(finder.memory_cache, finder.cache_dir)
    check_scaler(finder.grad_scaler, finder.optimizer)
    check_progress(progress)
    warn_lr_note(finder.optimizer)
    return Plan(
        sweep,
        smooth_f,
        diverge_th,
        progress,
        val_loader,
        int(accumulation_steps),
        non_blocking_transfer,
        step_fn,
    )

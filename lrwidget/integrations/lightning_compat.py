"""The Lightning internals :mod:`lrwidget.integrations.lightning` reaches into, in one place.

A range test inside ``fit`` runs training steps as Lightning's own loop does, which no public API
offers: the result collection ``self.log`` writes into, the fit loop's combined loader, the
module's batch-transfer hook and its trainer, torchmetrics' metric states, the name of Lightning's
banner logger. Each is read or written here only, behind a version
check: a Lightning outside the tested range fails at import with a clear error, not deep in a fit.
Also here: the scheduler a schedule from a range puts in place (:func:`use_schedule`) and the
find step's bare trainer (:func:`bare_settings`).
"""

# The one module that reaches into Lightning's (and torchmetrics') privates (SLF001 ignored here).

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.trainer.connectors.logger_connector.result import _ResultCollection
from torchmetrics import Metric

#: the Lightning versions whose internals this module was written against: [lowest, below)
SUPPORTED = ((2, 0), (3, 0))


def _version(text: str) -> tuple[int, int]:
    parts = [*text.split("+")[0].split("."), "0"][:2]
    try:
        return int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0)
    except ValueError:
        return (0, 0)


def check_version(version: str = pl.__version__) -> None:
    """Raise ImportError unless ``version`` of lightning is in :data:`SUPPORTED`.

    Example
    -------
    >>> check_version("2.4.0")
    >>> check_version("3.1.0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ImportError: lrwidget's Lightning callback supports lightning >=2.0,<3.0; found 3.1.0...
    """
    lo, hi = SUPPORTED
    if not lo <= _version(version) < hi:
        raise ImportError(
            f"lrwidget's Lightning callback supports lightning >={lo[0]}.{lo[1]},<{hi[0]}.{hi[1]}; "
            f"found {version} (install a supported lightning, or use LRFinder with your own loop)"
        )


check_version()


def new_results() -> Any:
    """An empty collection of logged training-step values (what ``self.log`` writes into)."""
    return _ResultCollection(training=True)


def fit_loaders(trainer: pl.Trainer) -> list[Any]:
    """The fit's train loaders, as its loop combined them (none before the loop set up its data)."""
    combined = trainer.fit_loop._combined_loader
    return [] if combined is None else list(combined.flattened)


def reset_fit_loaders(trainer: pl.Trainer) -> None:
    """Make the fit loop build its train loaders (and their iterators) again."""
    loop = trainer.fit_loop
    loop._combined_loader = None
    loop.setup_data()


def before_batch_transfer(module: pl.LightningModule, batch: Any) -> Any:
    """The module's ``on_before_batch_transfer`` hook as the fit loop calls it."""
    return module._on_before_batch_transfer(batch, dataloader_idx=0)


def trainer_of(module: pl.LightningModule) -> Any:
    """The trainer the module is attached to now (None when none), without Lightning's error."""
    return module._trainer


@contextlib.contextmanager
def logging_into(trainer: pl.Trainer, module: pl.LightningModule, results: Any) -> Iterator[None]:
    """While inside: ``self.log`` works as in ``training_step`` and writes into ``results``;
    afterwards the fit's own results and hook names as they were (the module's only while
    ``trainer`` still holds it: another fit may have taken it meanwhile)."""
    epoch_loop = trainer.fit_loop.epoch_loop
    kept = (epoch_loop._results, module._current_fx_name, trainer._logger_connector._current_fx)
    epoch_loop._results = results
    module._current_fx_name = "training_step"
    try:
        yield
    finally:
        epoch_loop._results, trainer._logger_connector._current_fx = kept[0], kept[2]
        if module._trainer is trainer:
            module._current_fx_name = kept[1]


def metric_states(module: torch.nn.Module) -> list[tuple[Metric, dict[str, Any]]]:
    """Copies of the states of every torchmetrics metric in ``module`` (kept outside its
    state_dict: a metric updated in ``training_step`` would count the test's batches)."""
    out = []
    for m in module.modules():
        if isinstance(m, Metric):
            state = {k: _copy(getattr(m, k)) for k in m._defaults}
            for k in ("_update_count", "_computed", "_forward_cache"):
                if hasattr(m, k):
                    state[k] = _copy(getattr(m, k))
            out.append((m, state))
    return out


def _copy(v: Any) -> Any:
    if isinstance(v, torch.Tensor):
        return v.detach().clone()
    if isinstance(v, list):
        return [_copy(x) for x in v]
    return v


@contextlib.contextmanager
def no_banner() -> Iterator[None]:
    """Without Lightning's INFO lines of a new trainer (the devices it found, a tip): the find
    step's trainer would repeat the user's banner in the cell."""
    banner = logging.getLogger("lightning.pytorch.utilities.rank_zero")

    def drop(record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO

    banner.addFilter(drop)
    try:
        yield
    finally:
        banner.removeFilter(drop)


def use_schedule(trainer: pl.Trainer, scheduler: Any) -> None:
    """Train with ``scheduler`` stepped after every optimizer step: in place of the one
    scheduler of ``configure_optimizers`` (its name kept, for the lr monitor), or as the first.

    Raises
    ------
    ValueError
        ``configure_optimizers`` returned more than one scheduler (nothing is changed).
    """
    from lightning.pytorch.utilities.types import LRSchedulerConfig

    check_one_schedule(trainer)
    configs = trainer.strategy.lr_scheduler_configs
    name = configs[0].name if configs else None
    trainer.strategy.lr_scheduler_configs = [
        LRSchedulerConfig(scheduler, name=name, interval="step", frequency=1)
    ]


def check_one_schedule(trainer: pl.Trainer) -> None:
    """A ValueError unless ``configure_optimizers`` returned at most one lr scheduler."""
    configs = trainer.strategy.lr_scheduler_configs
    if len(configs) > 1:
        raise ValueError(
            "schedule: configure_optimizers returned "
            f"{len(configs)} lr schedulers; a schedule from a range replaces one (or none)"
        )


def bare_settings(trainer: pl.Trainer | None) -> dict[str, Any]:
    """The find step's trainer: one device, nothing written, no validation; the settings of
    ``trainer`` that change a step or what ``configure_optimizers`` may read."""
    s: dict[str, Any] = dict(
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        max_epochs=1,
    )
    if trainer is None:
        return s
    device = trainer.strategy.root_device
    s.update(
        accelerator=trainer.accelerator,
        devices=[device.index] if device.type == "cuda" and device.index is not None else 1,
        precision=trainer.precision,
        accumulate_grad_batches=trainer.accumulate_grad_batches,
        max_steps=trainer.max_steps,
        default_root_dir=trainer.default_root_dir,
    )
    s["max_epochs"] = trainer.max_epochs if trainer.max_epochs is not None else -1
    if s["max_epochs"] == -1 and s["max_steps"] == -1:
        s["max_epochs"] = 1  # a trainer that runs for ever (max_time): one epoch to estimate from
    return s


class Combined:
    """Several train loaders as Lightning gives them to ``training_step`` (max_size_cycle); an
    iterable the range test can start again."""

    def __init__(self, iterables: Any):
        self.iterables = iterables

    def __iter__(self) -> Iterator[Any]:
        from lightning.pytorch.utilities import CombinedLoader

        for batch, _idx, _dl_idx in CombinedLoader(self.iterables, "max_size_cycle"):
            yield batch

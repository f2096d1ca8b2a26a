"""Capture and restore everything a range test changes, bit for bit.

A :class:`Snapshot` holds CPU copies (or a file under ``cache_dir``) of

- the model's ``state_dict`` (parameters and persistent buffers such as BatchNorm running
  stats), its non-persistent buffers, every parameter's ``.grad`` and every module's
  ``training`` flag; the same for each module in ``extra_modules`` (a criterion with learnable
  parameters or running statistics);
- every other tensor in the optimizer's param groups (a learnable temperature, a head that is
  not a submodule, a bare ``nn.Parameter``) with its ``.grad``: the optimizer trains them, so
  they come back too;
- the optimizer's per-parameter state (Adam moments, step counts, momentum buffers) with each
  tensor's original device, and every param group's settings (lr, betas, weight decay, extra
  keys such as ``initial_lr``);
- the GradScaler's state (the one given, else the one the optimizer steps with itself:
  accelerate's ``AcceleratedOptimizer.scaler`` with fp16);
- an optimizer wrapper's step flags (accelerate's: whether gradients are synced now, and
  whether its last step was skipped by the scaler), kept in memory;
- torch's RNG states (CPU, and every CUDA device already initialised), so that training after a
  range test draws the same dropout masks and shuffles as it would have without one.

Restoring writes into the existing parameter tensors and param-group dicts (``copy_`` /
``dict.update``), so references held elsewhere (a scheduler's optimizer, a DDP wrapper's
parameters) stay valid. It first checks that everything saved still has a place of the same shape
and dtype, so a model that changed during the run (a buffer registered by a step, a param group
added) is refused before anything is written. Ctrl-C cannot cut a restore in half: a SIGINT that
arrives during it raises its KeyboardInterrupt after it
(:mod:`lrwidget.engine.interrupts`). A restore
that fails raises :class:`RestoreError` and keeps the snapshot for another try.
:meth:`Snapshot.free` drops the copies.

Where the parts live: what is saved and its layout in :mod:`lrwidget.engine.snapshot_state`, the
check and the writes of a restore in :mod:`lrwidget.engine.snapshot_restore`, the cache file in
:mod:`lrwidget.engine.files`.

Example
-------
>>> import torch
>>> m = torch.nn.Linear(2, 1); opt = torch.optim.Adam(m.parameters(), lr=1e-3)
>>> snap = Snapshot.capture(m, opt)
>>> before = m.weight.detach().clone()
>>> _ = m(torch.ones(1, 2)).sum().backward(); opt.step()
>>> snap.restore(); snap.free()
>>> torch.equal(m.weight, before), len(opt.state)
(True, 0)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from .files import SnapshotWriteError, remove_file, write_file
from .interrupts import defer_sigint
from .snapshot_restore import (
    clear_scaler_stage,
    problems,
    write_loose,
    write_modules,
    write_optimizer,
)
from .snapshot_state import (
    entries,
    live_state,
    restore_devices,
    rng_states,
    scaler_on,
    to_cpu,
    wrapper_flags,
)
from .steps import own_scaler

if TYPE_CHECKING:
    from torch.amp import GradScaler

__all__ = ["Snapshot", "RestoreError", "SnapshotWriteError"]

log = logging.getLogger("lrwidget.snapshot")


class RestoreError(RuntimeError):
    """:meth:`Snapshot.restore` could not write the saved state back.

    The snapshot is kept (not freed): once the cause is removed, ``restore()`` can be called
    again. ``__cause__`` is the underlying exception.
    """


class Snapshot:
    """The saved state of a model, its optimizer, extra modules and (optionally) a GradScaler.

    Use :meth:`capture` to create one.

    Attributes
    ----------
    restored : bool
        True after a :meth:`restore` that completed, False before the first and after one that
        failed.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        grad_scaler: GradScaler | None,
        extra_modules: tuple[torch.nn.Module, ...],
        data: dict[str, Any] | None,
        devices: dict[str, Any],
        path: str | None,
        flags: list[tuple[Any, str, bool]] | None = None,
        generators: list[tuple[torch.Generator, torch.Tensor]] | None = None,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.grad_scaler = grad_scaler
        self.extra_modules = extra_modules
        self.restored = False
        self._data = data
        self._devices = devices
        self._path = path
        self._flags = flags or []
        self._generators = generators or []

    @classmethod
    def capture(
        cls,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        grad_scaler: GradScaler | None = None,
        memory_cache: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
        rng: bool = True,
        extra_modules: Sequence[torch.nn.Module] = (),
        generators: Sequence[torch.Generator] = (),
    ) -> Snapshot:
        """Copy the state of ``model``, ``optimizer``, ``extra_modules`` and ``grad_scaler``.

        Parameters
        ----------
        model : torch.nn.Module
        optimizer : torch.optim.Optimizer
            Every tensor in its param groups is saved, the model's or not.
        grad_scaler : torch.amp.GradScaler, optional
            None: the one the optimizer steps with itself, if any
            (:func:`lrwidget.engine.steps.own_scaler`).
        memory_cache : bool
            True keeps the copy in CPU memory; False writes it to a file under ``cache_dir``
            (the system temp dir when None) and reads it back on restore.
        cache_dir : str, optional
        rng : bool
            Also save torch's RNG states (CPU and initialised CUDA devices).
        extra_modules : sequence of torch.nn.Module
            Modules outside ``model`` whose whole state (parameters, buffers, grads, training
            flags) comes back too, e.g. a criterion that is a module.
        generators : sequence of torch.Generator
            Generators whose state comes back too (a DataLoader's own; kept in memory, a few
            bytes each).

        Raises
        ------
        SnapshotWriteError
            ``memory_cache=False`` and the file could not be written (disk full, ``cache_dir``
            missing or not writable); no partial file is left behind.
        TypeError
            An entry of ``extra_modules`` is not a ``torch.nn.Module``.

        Example
        -------
        >>> import torch
        >>> m = torch.nn.Linear(2, 1); crit = torch.nn.CrossEntropyLoss()
        >>> o = torch.optim.SGD(m.parameters(), lr=0.1)
        >>> Snapshot.capture(m, o, memory_cache=False, extra_modules=[crit]).free()
        """
        extra = _checked_extra(extra_modules)
        if grad_scaler is None:
            grad_scaler = own_scaler(optimizer)
        live, loose_places = live_state(model, optimizer, extra, grad_scaler)
        data = to_cpu(live)
        for entry, m in zip(entries(data), (model, *extra)):
            entry["training"] = [sub.training for sub in m.modules()]
        data["loose_places"] = loose_places
        data["group_sizes"] = [len(g["params"]) for g in optimizer.param_groups]
        if rng:
            data.update(rng_states())
        path = None if memory_cache else write_file(data, cache_dir)
        return cls(
            model,
            optimizer,
            grad_scaler,
            extra,
            data if path is None else None,
            restore_devices(live),
            path,
            wrapper_flags(optimizer),
            [(g, g.get_state()) for g in generators],
        )

    def _read(self) -> dict[str, Any]:
        if self._data is not None:
            return self._data
        if self._path is None:
            raise RuntimeError("this snapshot was freed")
        try:
            # our own file, written by capture(): it may hold non-tensor group values (betas, ...)
            data: dict[str, Any] = torch.load(self._path, map_location="cpu", weights_only=False)
        except Exception as e:
            raise RestoreError(
                f"the model and optimizer were not restored: could not read the "
                f"snapshot file {self._path}: {e}"
            ) from e
        return data

    def restore(self) -> None:
        """Write the saved state back (into the same tensors and param-group dicts).

        It completes even when Ctrl-C is pressed meanwhile: on the main thread a SIGINT that
        arrives during the restore raises its KeyboardInterrupt after it (``restored`` is then
        already True, or False when the restore failed).

        The snapshot is never freed here; a failed restore can be retried. With a cache file the
        file is read first; after a failure what was read stays in memory, so the retry does not
        need the file any more (:meth:`free` drops it).

        Raises
        ------
        RestoreError
            The state could not be written back: the cache file could not be read, or the model,
            an extra module or the optimizer changed in a way the saved state no longer fits
            (a parameter or buffer added, removed, reshaped or cast; a param group added; a
            submodule added). These are found before anything is written, so the model is left
            as it was; the message names what changed. Any other failure while writing (say,
            out of device memory) may leave it partly restored; the message says which case it
            is. Remove the cause, then call ``restore()`` again.
        RuntimeError
            The snapshot was freed.

        Example
        -------
        >>> import torch
        >>> m = torch.nn.Linear(2, 1); o = torch.optim.SGD(m.parameters(), lr=0.1)
        >>> snap = Snapshot.capture(m, o)
        >>> m.register_buffer("added", torch.zeros(1))
        >>> try:
        ...     snap.restore()
        ... except RestoreError as e:
        ...     print(str(e).split(":")[0])
        the model and optimizer were not restored (nothing was written back)
        >>> del m._buffers["added"]; snap.restore(); snap.restored
        True
        """
        with defer_sigint():
            self._restore()

    def _restore(self) -> None:
        self.restored = False
        d = self._read()
        written = False
        try:
            self._check(d)
            written = True
            self._write(d)
        except BaseException as e:
            self._data = d  # a retry must not depend on the file (it may be gone by then)
            if not isinstance(e, Exception):
                raise
            how = "they may be partly restored" if written else "nothing was written back"
            raise RestoreError(
                f"the model and optimizer were not restored ({how}): {e}. The "
                "snapshot is kept: remove the cause and call restore() again"
            ) from e
        self.restored = True

    def _modules(self) -> tuple[torch.nn.Module, ...]:
        return (self.model, *self.extra_modules)

    def _check(self, d: dict[str, Any]) -> None:
        """Raise ValueError naming every saved tensor that no longer has a place to go."""
        found = problems(self._modules(), self.optimizer, d)
        if found:
            raise ValueError("; ".join(found))

    def _write(self, d: dict[str, Any]) -> None:
        write_modules(self._modules(), d, self._devices["grads"])
        write_loose(self.optimizer, d, self._devices["loose_grads"])
        write_optimizer(self.optimizer, list(self.model.parameters()), d, self._devices)
        if d["scaler"] is not None and scaler_on(self.grad_scaler):
            self.grad_scaler.load_state_dict(d["scaler"])
            clear_scaler_stage(self.grad_scaler)
        for obj, name, value in self._flags:
            setattr(obj, name, value)
        for gen, gen_state in self._generators:
            gen.set_state(gen_state)
        if "rng_cpu" in d:
            torch.set_rng_state(d["rng_cpu"])
        if "rng_cuda" in d:
            torch.cuda.set_rng_state_all(d["rng_cuda"])

    def free(self) -> None:
        """Drop the saved copies (and delete the cache file). Safe to call twice."""
        self._data = None
        if self._path is not None:
            path, self._path = self._path, None
            remove_file(path, "the snapshot file", log)

    @property
    def freed(self) -> bool:
        return self._data is None and self._path is None


def _checked_extra(extra_modules: Sequence[torch.nn.Module]) -> tuple[torch.nn.Module, ...]:
    extra = tuple(extra_modules)
    for i, m in enumerate(extra):
        if not isinstance(m, torch.nn.Module):
            raise TypeError(f"extra_modules[{i}] must be a torch.nn.Module, got {type(m).__name__}")
    return extra

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

import copy
import logging
import os
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from .interrupts import defer_sigint
from .steps import own_scaler, sync_state

if TYPE_CHECKING:
    from typing import TypeGuard  # Python 3.10; only read by type checkers

    from torch.amp import GradScaler

__all__ = ["Snapshot", "RestoreError", "SnapshotWriteError"]

log = logging.getLogger("lrwidget.snapshot")


class RestoreError(RuntimeError):
    """:meth:`Snapshot.restore` could not write the saved state back.

    The snapshot is kept (not freed): once the cause is removed, ``restore()`` can be called
    again. ``__cause__`` is the underlying exception.
    """


class SnapshotWriteError(OSError):
    """:meth:`Snapshot.capture` could not write its cache file; nothing is left in ``cache_dir``.

    ``errno`` is the underlying error's (e.g. ``errno.ENOSPC``, ``errno.EFBIG``) when there is
    one; ``__cause__`` is the underlying exception.
    """


def _to_cpu(v: Any) -> Any:
    if isinstance(v, torch.Tensor):
        # clone even on CPU: the saved copy must not alias the live tensor
        return v.detach().to("cpu", copy=True)
    if isinstance(v, dict):
        return {k: _to_cpu(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_to_cpu(x) for x in v)
    return copy.deepcopy(v)


def _devices(v: Any) -> Any:
    if isinstance(v, torch.Tensor):
        return v.device
    if isinstance(v, dict):
        return {k: _devices(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_devices(x) for x in v)
    return None


def _back(v: Any, dev: Any) -> Any:
    if isinstance(v, torch.Tensor):
        return v.to(dev, copy=True)
    if isinstance(v, dict):
        return {k: _back(x, dev[k]) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_back(x, d) for x, d in zip(v, dev))
    return copy.deepcopy(v)


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
        extra = tuple(extra_modules)
        if grad_scaler is None:
            grad_scaler = own_scaler(optimizer)
        for i, m in enumerate(extra):
            if not isinstance(m, torch.nn.Module):
                raise TypeError(
                    f"extra_modules[{i}] must be a torch.nn.Module, got {type(m).__name__}"
                )
        modules = (model, *extra)
        params = list(model.parameters())
        index = {id(p): i for i, p in enumerate(params)}
        covered = {id(p) for m in modules for p in m.parameters()}
        # tensors the optimizer trains that no module above owns: keyed by their place
        loose = [
            ((gi, pi), p)
            for gi, g in enumerate(optimizer.param_groups)
            for pi, p in enumerate(g["params"])
            if id(p) not in covered
        ]
        opt_state: dict[int | tuple[str, tuple[int, int]], Any] = {}
        for p, st in optimizer.state.items():
            key: int | tuple[str, tuple[int, int]] | None = index.get(id(p))
            if key is None:  # a parameter outside the model: keyed by its place in the groups
                key = ("opt", _opt_index(optimizer, p))
            opt_state[key] = st
        groups = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
        # the model's entry is the top level itself (its state_dict under "model"); each extra
        # module gets an entry of the same keys
        live = {
            **_module_state(model),
            "extra": [_module_state(m) for m in extra],
            "loose_values": [p for _, p in loose],
            "loose_grads": [p.grad for _, p in loose],
            "opt_state": opt_state,
            "groups": groups,
            "scaler": grad_scaler.state_dict() if _scaler_on(grad_scaler) else None,
        }
        devices = {
            "grads": [_devices(e["grads"]) for e in (live, *live["extra"])],
            "loose_grads": _devices(live["loose_grads"]),
            "opt_state": _devices(opt_state),
            "groups": _devices(groups),
        }
        data = _to_cpu(live)
        for entry, m in zip(_entries(data), modules):
            entry["training"] = [sub.training for sub in m.modules()]
        data["loose_places"] = [where for where, _ in loose]
        data["group_sizes"] = [len(g["params"]) for g in optimizer.param_groups]
        if rng:
            data["rng_cpu"] = torch.get_rng_state()
            if torch.cuda.is_available() and torch.cuda.is_initialized():
                data["rng_cuda"] = torch.cuda.get_rng_state_all()
        path = None
        if not memory_cache:
            path = _write_file(data, cache_dir)
            data = None
        return cls(
            model,
            optimizer,
            grad_scaler,
            extra,
            data,
            devices,
            path,
            _wrapper_flags(optimizer),
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
        problems = []
        for i, (m, saved) in enumerate(zip(self._modules(), _entries(d))):
            name = "the model" if i == 0 else f"extra_modules[{i - 1}] ({type(m).__name__})"
            problems += _module_problems(name, m, saved)
        opt = self.optimizer
        sizes = [len(g["params"]) for g in opt.param_groups]
        if sizes != d["group_sizes"]:
            problems.append(
                f"the optimizer's param groups changed: {d['group_sizes']} tensors "
                f"per group then, {sizes} now"
            )
        else:
            for (gi, pi), v in zip(d["loose_places"], d["loose_values"]):
                p = opt.param_groups[gi]["params"][pi]
                why = _mismatch(p, v)
                if why:
                    problems.append(f"optimizer.param_groups[{gi}]['params'][{pi}] {why}")
        if problems:
            raise ValueError("; ".join(problems))

    def _write(self, d: dict[str, Any]) -> None:  # noqa: C901 (to split: issue 17)
        opt = self.optimizer
        with torch.no_grad():
            for m, saved, devs in zip(self._modules(), _entries(d), self._devices["grads"]):
                m.load_state_dict(saved["model"])
                bufs = dict(m.named_buffers())
                for n, v in saved["non_persistent"].items():
                    bufs[n].copy_(v)
                for p, g, dev in zip(m.parameters(), saved["grads"], devs):
                    p.grad = None if g is None else g.to(dev, copy=True)
                for sub, flag in zip(m.modules(), saved["training"]):
                    sub.training = flag
            for (gi, pi), v, g, dev in zip(
                d["loose_places"], d["loose_values"], d["loose_grads"], self._devices["loose_grads"]
            ):
                p = opt.param_groups[gi]["params"][pi]
                p.copy_(v)
                p.grad = None if g is None else g.to(dev, copy=True)
        params = list(self.model.parameters())
        state = {}
        for key, st in d["opt_state"].items():
            p = params[key] if not isinstance(key, tuple) else _opt_param(opt, key[1])
            state[p] = _back(st, self._devices["opt_state"][key])
        opt.state.clear()
        opt.state.update(state)
        for g, saved, dev in zip(opt.param_groups, d["groups"], self._devices["groups"]):
            for k in [k for k in g if k != "params" and k not in saved]:
                del g[k]
            for k, v in saved.items():
                live = g.get(k)
                if (
                    isinstance(v, torch.Tensor)
                    and isinstance(live, torch.Tensor)
                    and live.shape == v.shape
                ):
                    with torch.no_grad():
                        live.copy_(v)  # a tensor lr (capturable optimizers) stays the same object
                else:
                    g[k] = _back(v, dev[k])
        if d["scaler"] is not None and _scaler_on(self.grad_scaler):
            self.grad_scaler.load_state_dict(d["scaler"])
            _clear_scaler_stage(self.grad_scaler)
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
            _remove(path)

    @property
    def freed(self) -> bool:
        return self._data is None and self._path is None


def _wrapper_flags(optimizer: torch.optim.Optimizer) -> list[tuple[Any, str, bool]]:
    """``(object, attribute, value)`` of the step flags an optimizer wrapper keeps outside its
    state_dict (accelerate's): a test run through ``accelerator.accumulate`` moves the sync
    flag, and a step the scaler skipped sets ``step_was_skipped``, which makes accelerate's
    scheduler skip its next step."""
    flags = []
    state = sync_state(optimizer)
    if state is not None:
        flags.append((state, "sync_gradients", state.sync_gradients))
    skipped = getattr(optimizer, "_is_overflow", None)
    if isinstance(skipped, bool):
        flags.append((optimizer, "_is_overflow", skipped))
    return flags


def _module_state(m: torch.nn.Module) -> dict[str, Any]:
    persistent = m.state_dict(keep_vars=True)
    return {
        "model": m.state_dict(),
        "non_persistent": {n: b for n, b in m.named_buffers() if n not in persistent},
        "grads": [p.grad for p in m.parameters()],
    }


def _entries(d: dict[str, Any]) -> list[dict[str, Any]]:
    """The saved entries of the model (the top level) and of each extra module, in order."""
    return [d, *d["extra"]]


def _mismatch(live: Any, saved: Any) -> str | None:
    """Why ``saved`` cannot be copied into ``live`` bit for bit (None when it can)."""
    if not isinstance(saved, torch.Tensor):
        return None
    if not isinstance(live, torch.Tensor):
        return f"is now a {type(live).__name__}, not a tensor"
    if live.shape != saved.shape or live.dtype != saved.dtype:
        return f"changed from {_describe(saved)} to {_describe(live)}"
    return None


def _describe(t: torch.Tensor) -> str:
    return f"{str(t.dtype).replace('torch.', '')}{list(t.shape)}"


def _module_problems(name: str, m: torch.nn.Module, saved: dict[str, Any]) -> list[str]:
    out = []
    now = m.state_dict(keep_vars=True)
    then = saved["model"]
    new = [k for k in now if k not in then]
    gone = [k for k in then if k not in now]
    if new:
        out.append(
            f"{name} has {new}, which it did not have at the snapshot (registered during the run?)"
        )
    if gone:
        out.append(f"{name} no longer has {gone}")
    for k in now:
        if k in then:
            why = _mismatch(now[k], then[k])
            if why:
                out.append(f"{name}'s {k} {why}")
    bufs = dict(m.named_buffers())
    for k, v in saved["non_persistent"].items():
        why = "is gone" if k not in bufs else _mismatch(bufs[k], v)
        if why:
            out.append(f"{name}'s non-persistent buffer {k} {why}")
    n_params, n_modules = len(list(m.parameters())), len(list(m.modules()))
    if n_params != len(saved["grads"]) and not (new or gone):
        out.append(f"{name} has {n_params} parameters, it had {len(saved['grads'])}")
    if n_modules != len(saved["training"]):
        out.append(
            f"{name} has {n_modules} modules, it had {len(saved['training'])} "
            "(a submodule added or removed during the run?)"
        )
    return out


def _write_file(data: dict[str, Any], cache_dir: str | os.PathLike[str] | None) -> str:
    """torch.save ``data`` to a new file under ``cache_dir``; on any failure remove it."""
    where = os.fspath(cache_dir) if cache_dir else tempfile.gettempdir()
    path = None
    try:
        fd, path = tempfile.mkstemp(prefix="lrwidget-snapshot-", suffix=".pt", dir=where)
        # a Python file object: a failed write then surfaces as the OSError (EFBIG, ENOSPC)
        # behind torch's own error, which names neither
        with os.fdopen(fd, "wb") as f:
            torch.save(data, f)
    except BaseException as e:
        if path is not None:
            _remove(path)
        if not isinstance(e, Exception):
            raise
        cause = _os_error(e)
        why = (cause.strerror or str(cause)) if cause is not None else f"{type(e).__name__}: {e}"
        err = SnapshotWriteError(
            f"could not write the snapshot to {where}: {why} (pass a "
            "cache_dir with room to write, or memory_cache=True)"
        )
        err.errno = None if cause is None else cause.errno
        raise err from e
    return path


def _os_error(e: BaseException) -> OSError | None:
    seen = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, OSError):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        log.warning("could not remove the snapshot file %s: %s", path, e)


def _scaler_on(scaler: GradScaler | None) -> TypeGuard[GradScaler]:
    return scaler is not None and scaler.is_enabled()


def _clear_scaler_stage(scaler: GradScaler) -> None:
    # an exception between unscale_() and update() leaves the scaler believing this optimizer is
    # already unscaled; the next real step would then skip unscaling. Reset that bookkeeping.
    try:
        from torch.amp.grad_scaler import _refresh_per_optimizer_state
    except ImportError:  # pragma: no cover - older torch
        return
    import collections

    # torch keeps this state in a private member only (no public reset)
    scaler._per_optimizer_states = collections.defaultdict(  # noqa: SLF001
        _refresh_per_optimizer_state
    )


def _opt_index(opt: torch.optim.Optimizer, p: torch.Tensor) -> tuple[int, int]:
    for gi, g in enumerate(opt.param_groups):
        for pi, q in enumerate(g["params"]):
            if q is p:
                return (gi, pi)
    raise ValueError(
        "optimizer.state holds state for a tensor that is neither a parameter of "
        "the model nor in any param group: it cannot be saved by place"
    )


def _opt_param(opt: torch.optim.Optimizer, where: tuple[int, int]) -> Any:
    gi, pi = where
    return opt.param_groups[gi]["params"][pi]

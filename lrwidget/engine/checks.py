"""Checks of an LRFinder's and a range test's arguments, done before anything is touched: each
refuses bad input with an error that names the parameter and the values it accepts.

They run in the order :meth:`lrwidget.engine.finder.LRFinder.range_test` documents; none iterates a
loader (that would draw from its sampler) or allocates the readings.
"""

from __future__ import annotations

import collections.abc
import os
import tempfile
from typing import Any

import torch

from ..pure.numbers import is_int, is_real
from ..pure.schedule import Sweep, start_lrs_for
from .history import History
from .steps import needs_closure

#: values of ``LRFinder(amp_backend=...)`` besides None
AMP_BACKENDS = ("torch",)
#: bytes each reading holds in :class:`lrwidget.engine.history.History` (three float64 arrays)
READING_BYTES = 24


def real(name: str, v: object, what: str) -> float:
    """``v`` as a float; a TypeError naming ``name`` and ``what`` it must be otherwise.

    Example
    -------
    >>> real("smooth_f", 1, "a real number in [0, 1)")
    1.0
    >>> real("smooth_f", True, "a real number in [0, 1)")
    Traceback (most recent call last):
    ...
    TypeError: smooth_f must be a real number in [0, 1), got True
    """
    if not is_real(v):
        raise TypeError(f"{name} must be {what}, got {v!r}")
    return float(v)


def check_finder_args(
    model: object, optimizer: object, criterion: object, amp_backend: object, amp_config: object
) -> None:
    """The checks of ``LRFinder(...)``: types, an optimizer of this model, the AMP settings."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}"
        )
    if criterion is not None and not callable(criterion):
        raise TypeError(f"criterion must be callable or None, got {type(criterion).__name__}")
    mine = {id(p) for p in model.parameters()}
    if not any(id(p) in mine for g in optimizer.param_groups for p in g["params"]):
        raise ValueError(
            "optimizer holds none of the model's parameters: build it from "
            "model.parameters() (or pass the model it was built for)"
        )
    if amp_backend is not None and amp_backend not in AMP_BACKENDS:
        raise ValueError(
            f"amp_backend must be None or one of {AMP_BACKENDS} "
            f"(apex is not supported), got {amp_backend!r}"
        )
    if amp_config is not None and not isinstance(amp_config, dict):
        raise TypeError(
            f"amp_config must be a dict of torch.autocast arguments, got "
            f"{type(amp_config).__name__}"
        )


def sweep_args(
    optimizer: Any,
    start_lr: Any,
    end_lr: Any,
    num_iter: Any,
    step_mode: Any,
    smooth_f: object,
    diverge_th: object,
) -> tuple[Sweep, float, float]:
    """``(sweep, smooth_f, diverge_th)`` checked, for a test on ``optimizer``'s param groups.

    Example
    -------
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=1e-3)
    >>> sweep, sf, th = sweep_args(opt, None, 1.0, 10, "exp", 0.05, 5)
    >>> sweep.num_iter, sf, th
    (10, 0.05, 5.0)
    >>> sweep_args(opt, None, 1.0, 10, "exp", 1.0, 5)
    Traceback (most recent call last):
    ...
    ValueError: smooth_f must be a real number in [0, 1), got 1.0
    """
    current = [g["lr"] for g in optimizer.param_groups]
    current = [float(v) if isinstance(v, torch.Tensor) else v for v in current]
    starts = start_lrs_for(start_lr, current)
    sweep = Sweep(starts, end_lr, num_iter, step_mode)
    check_readings_fit(sweep.num_iter)
    sf = real("smooth_f", smooth_f, "a real number in [0, 1)")
    if not (0.0 <= sf < 1.0):
        raise ValueError(f"smooth_f must be a real number in [0, 1), got {smooth_f}")
    th = real("diverge_th", diverge_th, "a real number > 1")
    if not th > 1.0:
        raise ValueError(f"diverge_th must be a real number > 1, got {diverge_th}")
    return sweep, sf, th


def check_trainable(optimizer: Any) -> None:
    """Refuse an optimizer none of whose parameters requires grad: no step could change one,
    and torch's own error would come from backward, after a forward, naming no cause.

    Example
    -------
    >>> p = torch.nn.Parameter(torch.ones(1), requires_grad=False)
    >>> check_trainable(torch.optim.SGD([p], lr=0.1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: optimizer: none of the 1 parameters it holds requires grad (a frozen model...
    """
    params = [p for g in optimizer.param_groups for p in g["params"]]
    if not any(p.requires_grad for p in params):
        raise ValueError(
            f"optimizer: none of the {len(params)} parameters it holds requires grad (a frozen "
            "model, or requires_grad=False on every parameter given to the optimizer), so no "
            "step can change them: unfreeze the ones to train (p.requires_grad_(True)) or "
            "build the optimizer from the trainable ones "
            "(p for p in model.parameters() if p.requires_grad)"
        )


def check_step_args(accumulation_steps: object, step_fn: object, criterion: object) -> None:
    """``accumulation_steps`` an int >= 1; ``step_fn`` callable or None, and given when there
    is no criterion."""
    if not is_int(accumulation_steps):
        raise TypeError(f"accumulation_steps must be an int >= 1, got {accumulation_steps!r}")
    if accumulation_steps < 1:
        raise ValueError(f"accumulation_steps must be an int >= 1, got {accumulation_steps}")
    if step_fn is not None and not callable(step_fn):
        raise TypeError(
            f"step_fn must be callable(model, batch) -> loss or None, got {type(step_fn).__name__}"
        )
    if step_fn is None and criterion is None:
        raise ValueError(
            "criterion is None: pass a criterion to LRFinder(...) or a "
            "step_fn(model, batch) -> loss to range_test"
        )


def check_loaders(train_loader: object, val_loader: object) -> None:
    """Both iterables, neither with a length of 0, and ``val_loader`` not a one-shot iterator.

    Example
    -------
    >>> check_loaders([1], iter([1]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: val_loader (a list_iterator) can be iterated only once, but it is read in full ...
    """
    for name, ld in (("train_loader", train_loader), ("val_loader", val_loader)):
        if ld is None:
            if name == "train_loader":
                raise TypeError(
                    "train_loader must be an iterable of batches (e.g. a DataLoader), got None"
                )
            continue
        if not hasattr(ld, "__iter__"):
            raise TypeError(
                f"{name} must be an iterable of batches (e.g. a DataLoader), "
                f"got {type(ld).__name__}"
            )
        try:
            # cheap: a DataLoader's len; never iterates (that would draw from its sampler)
            empty = hasattr(ld, "__len__") and len(ld) == 0
        except (TypeError, NotImplementedError):  # an IterableDataset's loader may not know it
            empty = False
        if empty:
            raise ValueError(f"{name} is empty: it must yield at least one batch")
    if isinstance(val_loader, collections.abc.Iterator):
        # read in full after every step: an iterator would be exhausted after the first
        raise ValueError(
            f"val_loader (a {type(val_loader).__name__}) can be iterated only "
            "once, but it is read in full after every step; pass a DataLoader "
            "or a list of batches"
        )


def check_cache_dir(memory_cache: bool, cache_dir: Any) -> None:
    """With ``memory_cache=False`` the snapshot is a file: ``cache_dir`` must take one."""
    if memory_cache:
        return
    try:
        path = os.fspath(cache_dir) if cache_dir is not None else tempfile.gettempdir()
    except TypeError:
        raise TypeError(
            f"cache_dir must be a directory path (str or os.PathLike) or None, "
            f"got {type(cache_dir).__name__}"
        ) from None
    fix = "pass an existing, writable directory as cache_dir, or memory_cache=True"
    if not os.path.exists(path):
        raise ValueError(f"cache_dir {path!r} does not exist; {fix}")
    if not os.path.isdir(path):
        raise ValueError(f"cache_dir {path!r} is not a directory; {fix}")
    why = _why_not_writable(path)
    if why is not None:
        raise ValueError(f"cache_dir {path!r} is not writable ({why}); {fix}")


def _why_not_writable(path: str) -> str | None:
    kw = {"effective_ids": True} if os.access in os.supports_effective_ids else {}
    if not os.access(path, os.W_OK | os.X_OK, **kw):
        return "permission denied"
    # permission bits are not the whole story (read-only mounts, /proc, root): try it
    try:
        fd, probe = tempfile.mkstemp(prefix=".lrwidget-probe-", dir=path)
        os.close(fd)
        os.remove(probe)
    except OSError as e:
        return e.strerror or str(e)
    return None


def check_scaler(grad_scaler: torch.amp.GradScaler | None, optimizer: Any) -> None:
    """Refuse an enabled GradScaler with an optimizer stepped with a closure (LBFGS)."""
    if grad_scaler is not None and grad_scaler.is_enabled() and needs_closure(optimizer):
        raise ValueError(
            f"{type(optimizer).__name__} steps with a closure "
            "(optimizer.step(closure)), which a GradScaler cannot drive: pass "
            "grad_scaler=None (amp_backend='torch' alone is fine)"
        )


def available_memory() -> int | None:
    """Bytes this process can still allocate (MemAvailable, capped by a cgroup v2 limit)."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, AttributeError):
            avail = None
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        if limit != "max":
            with open("/sys/fs/cgroup/memory.current") as f:
                left = int(limit) - int(f.read().strip())
            avail = left if avail is None else min(avail, left)
    except (OSError, ValueError):
        pass  # no cgroup v2 limit readable: MemAvailable alone
    return avail


def gib(n: float) -> str:
    """``n`` bytes in GiB, for messages.

    Example
    -------
    >>> gib(3 * 2**29)
    '1.5 GiB'
    """
    return f"{n / 2**30:.1f} GiB"


def check_readings_fit(num_iter: int) -> None:
    """Refuse a ``num_iter`` whose readings cannot be held, before anything is allocated."""
    need = READING_BYTES * num_iter
    avail = available_memory()
    if avail is not None and need > avail:
        raise ValueError(
            f"num_iter={num_iter} is too large: its readings need {gib(need)} "
            f"({READING_BYTES} bytes each), more than the {gib(avail)} of memory "
            "available; use a smaller num_iter"
        )


def new_readings(num_iter: int, smooth_f: float) -> History:
    """The readings of a test, allocated; a ValueError naming ``num_iter`` when they cannot be.

    Example
    -------
    >>> new_readings(100, 0.05).capacity
    100
    """
    try:
        return History(num_iter, smooth_f)
    except MemoryError as e:
        raise ValueError(
            f"num_iter={num_iter}: its readings ({gib(READING_BYTES * num_iter)}"
            f", {READING_BYTES} bytes each) cannot be allocated; use a smaller "
            "num_iter"
        ) from e

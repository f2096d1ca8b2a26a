"""The watch's bounded ring of snapshots: what ``scale_lr(..., rollback=True)`` goes back to.

Each entry is a :class:`lrwidget.engine.snapshot.Snapshot` (model, optimizer, GradScaler, RNG,
the loaders' generators: what the range test restores) plus the schedulers' ``state_dict``,
taken between two steps. The ring holds at most ``cap`` bytes (CPU memory, or the disk cache
with the finder's ``memory_cache=False``): before a snapshot is taken its size is computed from
the tensors it will copy, and the oldest entries are dropped (freed) until it fits; a snapshot
larger than the whole cap is not taken (a warning says so once), and a rollback then has
nothing to go back to.

Example
-------
>>> import torch
>>> m = torch.nn.Linear(4, 4); opt = torch.optim.SGD(m.parameters(), lr=0.1)
>>> one = state_bytes(m, opt)                      # 16 weights + 4 biases, float32
>>> ring = Ring(lambda: Snapshot.capture(m, opt), [], cap=2 * one)
>>> for step in (16, 32, 48):
...     _ = ring.take(step, one)
>>> ring.steps(), ring.nbytes <= ring.cap
([32, 48], True)
>>> ring.before(40).step
32
"""

from __future__ import annotations

import copy
import logging
import math
from collections import deque
from collections.abc import Sequence
from typing import Any, Callable

import torch

from .snapshot import Snapshot

__all__ = ["Entry", "RaiseWatch", "Ring", "StateSize", "state_bytes"]

log = logging.getLogger("lrwidget.watch")


def _tensor_bytes(v: Any) -> int:
    if isinstance(v, torch.Tensor):
        return v.numel() * v.element_size()
    if isinstance(v, dict):
        return sum(_tensor_bytes(x) for x in v.values())
    if isinstance(v, (list, tuple)):
        return sum(_tensor_bytes(x) for x in v)
    return 0


def state_bytes(model: torch.nn.Module, optimizer: Any, extra: Sequence[Any] = ()) -> int:
    """Bytes a :class:`Snapshot` of ``model``, ``optimizer`` and ``extra`` modules copies:
    their tensors (parameters, buffers, grads), the tensors the optimizer holds that no module
    owns, and the optimizer's state (moments, momentum buffers)."""
    modules = [model, *(m for m in extra if isinstance(m, torch.nn.Module))]
    seen = {id(p) for m in modules for p in m.parameters()}
    n = 0
    for m in modules:
        n += _tensor_bytes(list(m.state_dict(keep_vars=True).values()))
        n += sum(_tensor_bytes(p.grad) for p in m.parameters())
    for g in optimizer.param_groups:
        loose = [p for p in g["params"] if id(p) not in seen]
        n += _tensor_bytes(loose) + sum(_tensor_bytes(p.grad) for p in loose)
    return n + _tensor_bytes(list(optimizer.state.values()))


class StateSize:
    """:func:`state_bytes` of ``model``, ``optimizer`` and ``extra``, walked again only when a
    size it depends on may have changed: a grad came or went, a parameter was resized, the
    optimizer's state gained an entry or a key (a snapshot every 64 steps need not walk the
    model's state_dict each time).

    Example
    -------
    >>> m = torch.nn.Linear(4, 4); opt = torch.optim.Adam(m.parameters())
    >>> size = StateSize(m, opt)
    >>> size() == state_bytes(m, opt)
    True
    >>> m(torch.ones(1, 4)).sum().backward(); opt.step()    # grads and Adam's moments
    >>> size() == state_bytes(m, opt) > 20 * 4
    True
    """

    def __init__(self, model: torch.nn.Module, optimizer: Any, extra: Sequence[Any] = ()):
        self.model, self.optimizer, self.extra = model, optimizer, list(extra)
        self._key: tuple[Any, ...] | None = None
        self._bytes = 0

    def __call__(self) -> int:
        key = self._shape_key()
        if key != self._key:
            self._bytes = state_bytes(self.model, self.optimizer, self.extra)
            self._key = key
        return self._bytes

    def _shape_key(self) -> tuple[Any, ...]:
        opt = self.optimizer
        params = [p for g in opt.param_groups for p in g["params"]]
        shapes = tuple((p.numel(), p.grad is None) for p in params)
        return shapes, tuple(len(s) for s in opt.state.values())


class Entry:
    """One snapshot of the ring: the state after ``step`` steps."""

    __slots__ = ("step", "snapshot", "schedulers", "nbytes")

    def __init__(self, step: int, snapshot: Snapshot, schedulers: list[Any], nbytes: int):
        self.step = step
        self.snapshot = snapshot
        self.schedulers = schedulers  # (scheduler, its state_dict) pairs
        self.nbytes = nbytes

    def restore(self) -> None:
        """Write the state back, bit for bit (the snapshot is kept: it can be gone back to
        again)."""
        self.snapshot.restore()
        for s, state in self.schedulers:
            s.load_state_dict(copy.deepcopy(state))


class Ring:
    """Snapshots every few steps, at most ``cap`` bytes, the oldest dropped first.

    Parameters
    ----------
    capture : callable
        ``capture() -> Snapshot`` of the training state (the finder's own).
    schedulers : list
        The lr schedulers whose state comes back with each snapshot.
    cap : int
        Bytes the ring may hold (CPU memory, or disk with a disk cache).
    """

    def __init__(self, capture: Callable[[], Snapshot], schedulers: list[Any], cap: int) -> None:
        self.capture = capture
        self.schedulers = schedulers
        self.cap = int(cap)
        self.entries: deque[Entry] = deque()
        self.nbytes = 0
        self._warned = False

    def __len__(self) -> int:
        return len(self.entries)

    def steps(self) -> list[int]:
        return [e.step for e in self.entries]

    def take(self, step: int, nbytes: int) -> Entry | None:
        """Snapshot the state after ``step`` steps (``nbytes``: its size, :func:`state_bytes`),
        dropping the oldest entries until it fits; None when it can never fit."""
        if nbytes > self.cap:
            if not self._warned:
                self._warned = True
                log.warning(
                    "watch: a snapshot takes %d bytes, more than ring_bytes=%d; no snapshot is "
                    "kept and a rollback has nothing to go back to (raise ring_bytes)",
                    nbytes,
                    self.cap,
                )
            return None
        while self.entries and self.nbytes + nbytes > self.cap:
            self._drop(self.entries.popleft())
        states = [(s, copy.deepcopy(s.state_dict())) for s in self.schedulers]
        entry = Entry(step, self.capture(), states, nbytes)
        self.entries.append(entry)
        self.nbytes += nbytes
        return entry

    def before(self, step: int | None) -> Entry | None:
        """The newest entry taken at or before ``step`` (None: the newest of all)."""
        for e in reversed(self.entries):
            if step is None or e.step <= step:
                return e
        return None

    def drop_after(self, step: int) -> None:
        """Drop the entries of steps after ``step`` (a future that a rollback abandoned)."""
        while self.entries and self.entries[-1].step > step:
            self._drop(self.entries.pop())

    def clear(self) -> None:
        while self.entries:
            self._drop(self.entries.pop())

    def _drop(self, e: Entry) -> None:
        e.snapshot.free()
        self.nbytes -= e.nbytes


class RaiseWatch:
    """Is the next step's lr a raise (any group >= ``factor`` x its lr at the last snapshot)?

    A snapshot taken there holds the state just before the raise: the trouble a raise causes
    begins at it, so a rollback goes back to the last good state instead of up to
    ``snapshot_every`` steps before it (where the x0.1 lr must train the loss down again).
    Read between two steps (``record()``, after ``scheduler.step()``), from the groups' own
    numbers; a tensor lr is not read (on an accelerator that would be a host sync each step).
    A warmup from 0 takes one snapshot per doubling (log2 of its range).

    Example
    -------
    >>> groups = [{"lr": 0.1}]
    >>> w = RaiseWatch(groups); w.taken()
    >>> groups[0]["lr"] = 0.15; w.due()
    False
    >>> groups[0]["lr"] = 0.3; w.due()
    True
    """

    def __init__(self, groups: list[dict[str, Any]], factor: float = 2.0) -> None:
        self.groups, self.factor = groups, factor
        self._at: list[float] = []

    def taken(self) -> None:
        """A snapshot was taken (or the state was restored and scaled): the lrs now are the base."""
        self._at = [
            math.inf if isinstance(g["lr"], torch.Tensor) else self.factor * float(g["lr"])
            for g in self.groups
        ]

    def due(self) -> bool:
        for g, at in zip(self.groups, self._at):
            lr = g["lr"]
            # at == 0: a warmup from 0 (its first positive lr is a raise)
            if not isinstance(lr, torch.Tensor) and (lr >= at if at > 0 else lr > 0):
                return True
        return False

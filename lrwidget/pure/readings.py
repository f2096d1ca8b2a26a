"""A consumer's copy of one run's readings, growing as they arrive (pure numpy).

The engine's :class:`lrwidget.engine.history.History` is preallocated for the run; a consumer (the
channel, the bqplot view) cannot trust a size announced by a source it does not own, so it keeps
its own buffer that grows geometrically and never drops a reading. Writes are idempotent
(readings land at their index), so a replay or a duplicate batch is harmless.

Example
-------
>>> b = ReadingsBuffer()
>>> b.write(0, [1e-3, 1e-2], [2.0, 1.5], [2.0, 1.8])
>>> b.write(1, [1e-2], [1.5], [1.8])     # a duplicate: nothing changes
>>> b.n, b.lrs.tolist()
(2, [0.001, 0.01])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

import numpy as np
from numpy.typing import NDArray

__all__ = ["ReadingsBuffer"]

_Floats = Union[Sequence[float], NDArray[np.floating[Any]]]


class ReadingsBuffer:
    """Readings ``lrs, losses, smoothed`` (float64), ``n`` of them.

    Parameters
    ----------
    capacity : int
        Initial room; grows by doubling. Start small: a run announcing 10**7 readings that
        stops after 300 costs 300 readings here, not 10**7.
    """

    __slots__ = ("_lrs", "_losses", "_smoothed", "n")

    def __init__(self, capacity: int = 1024) -> None:
        cap = max(int(capacity), 1)
        self._lrs, self._losses, self._smoothed = (np.full(cap, np.nan) for _ in range(3))
        self.n = 0

    def clear(self) -> None:
        """Forget every reading (keeps the room)."""
        self.n = 0

    def write(self, start: int, lrs: _Floats, losses: _Floats, smoothed: _Floats) -> None:
        """Put readings ``[start, start + len(lrs))`` in place; grows as needed."""
        end = int(start) + len(lrs)
        if end > self._lrs.size:
            cap = max(end, 2 * self._lrs.size)
            for name in ("_lrs", "_losses", "_smoothed"):
                old = getattr(self, name)
                new = np.full(cap, np.nan)
                new[: old.size] = old
                setattr(self, name, new)
        self._lrs[start:end] = lrs
        self._losses[start:end] = losses
        self._smoothed[start:end] = smoothed
        self.n = max(self.n, end)

    def view(
        self, start: int = 0, stop: int | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Readings ``[start:stop]`` (default: all) as views, not copies."""
        stop = self.n if stop is None else min(int(stop), self.n)
        return self._lrs[start:stop], self._losses[start:stop], self._smoothed[start:stop]

    @property
    def lrs(self) -> NDArray[np.float64]:
        return self._lrs[: self.n]

    @property
    def losses(self) -> NDArray[np.float64]:
        return self._losses[: self.n]

    @property
    def smoothed(self) -> NDArray[np.float64]:
        return self._smoothed[: self.n]

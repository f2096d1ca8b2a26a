"""Hold Ctrl-C back while a block that must not be cut in half runs.

:class:`defer_sigint` is a context manager: on the main thread, while SIGINT is handled by Python
(the default handler that raises KeyboardInterrupt, or any other Python callable), it installs a
handler that only records the signal, and on exit puts the previous handler back and calls it with
the recorded signal, so the KeyboardInterrupt is raised after the block has finished. Elsewhere it
does nothing: other threads never receive signals, and SIG_IGN / SIG_DFL / a handler installed
outside Python are left alone.

If the block raises and a SIGINT arrived too, the KeyboardInterrupt wins (the user asked to stop)
and carries the block's exception as its ``__context__``. Blocks nest: an inner block's deferred
signal is handed to the outer block's recorder and raised once, after the outer block.

Example
-------
>>> with defer_sigint():
...     pass  # e.g. writing a saved state back into a model
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any, Callable, Literal, Optional

__all__ = ["defer_sigint"]

_Handler = Callable[[int, Optional[FrameType]], Any]


class defer_sigint:
    """Context manager deferring SIGINT to the end of the block (main thread only).

    Attributes
    ----------
    active : bool
        Whether this block installed its recorder (False off the main thread or when SIGINT is
        not handled by Python).

    Example
    -------
    Off the main thread it does nothing:

    >>> import threading
    >>> seen = []
    >>> def work():
    ...     with defer_sigint() as d:
    ...         seen.append(d.active)
    >>> t = threading.Thread(target=work); t.start(); t.join()
    >>> seen
    [False]
    """

    __slots__ = ("active", "_previous", "_pending")

    def __init__(self) -> None:
        self.active = False
        self._previous: _Handler | None = None
        self._pending: tuple[int, FrameType | None] | None = None

    def _record(self, signum: int, frame: FrameType | None) -> None:
        if self._pending is None:
            self._pending = (signum, frame)

    def __enter__(self) -> defer_sigint:
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = signal.getsignal(signal.SIGINT)
        if not callable(previous):  # SIG_IGN, SIG_DFL, or not installed from Python
            return self
        self._previous = previous
        self._pending = None
        try:
            signal.signal(signal.SIGINT, self._record)
        except ValueError:  # the main thread of a sub-interpreter: signals are not ours
            return self
        self.active = True
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        previous = self._previous
        if not self.active or previous is None:
            return False
        self.active = False
        signal.signal(signal.SIGINT, previous)
        pending, self._pending = self._pending, None
        if pending is not None:
            previous(*pending)  # the default handler raises KeyboardInterrupt here
        return False

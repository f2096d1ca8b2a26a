"""Traits the kernel owns: a front end's plain state update cannot write them.

ipywidgets lets any front end set any synced trait with a standard ``update`` comm message
(``Widget._handle_msg`` -> ``set_state``), which would skip every check the typed commands get
(:func:`lrwidget.channel.protocol.parse_command`, :class:`lrwidget.channel.core.Channel`):
a ``selected_lr``
of 1e308 would reach the optimizer through ``widget.apply()``, an ``applied_lr`` could claim an
lr the optimizer does not hold. lrwidget's views send commands (``model.send``) and write no
trait, so :class:`KernelOwned` (a mixin before the ipywidgets class in the bases) takes only
the traits a class names in ``front_end_writable`` from an update, none by default; the rest
is ignored and logged (at most once per :data:`LOG_INTERVAL` seconds and class, with a count).

Example
-------
>>> import ipywidgets
>>> Slider = kernel_owned(ipywidgets.IntSlider)
>>> s = Slider(value=3)
>>> s.set_state({"value": 9})   # what a front end's update calls
>>> s.value
3
>>> s.close()
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any, ClassVar

__all__ = ["KernelOwned", "kernel_owned", "LOG_INTERVAL"]

log = logging.getLogger("lrwidget.views")

#: seconds between two log lines about refused updates of one class (a front end may flood them)
LOG_INTERVAL = 10.0


class _Refusals:
    """Counts refused updates per class; logs the first, then one line per interval."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._quiet: dict[str, int] = {}  # refused since the last line

    def note(self, cls: str, names: list[str]) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(cls, -float("inf")) < LOG_INTERVAL:
                self._quiet[cls] = self._quiet.get(cls, 0) + 1
                return
            self._last[cls] = now
            quiet = self._quiet.pop(cls, 0)
        log.warning(
            "ignored a front end's update of %s trait(s) %s: the kernel owns them (views send "
            "commands, which are checked)%s",
            cls,
            ", ".join(names) or "(none named)",
            f"; {quiet} more such update(s) ignored since the last line" if quiet else "",
        )


_refusals = _Refusals()


class KernelOwned:
    """Mixin for an ipywidgets ``Widget``: a front end may write only ``front_end_writable``.

    Put it before the widget class in the bases. Only ``set_state`` is overridden, the method
    ipywidgets calls for a front end's ``update`` message; the kernel's own writes (plain
    attribute assignment) are untouched.
    """

    #: synced traits a front end's update may set (every other one is the kernel's)
    front_end_writable: ClassVar[frozenset[str]] = frozenset()

    def set_state(self, sync_data: Any) -> None:
        """Take the writable traits of a front end's update; ignore and log the rest."""
        if not isinstance(sync_data, dict):
            _refusals.note(type(self).__name__, [f"<{type(sync_data).__name__}, not a dict>"])
            return
        allowed = {k: v for k, v in sync_data.items() if k in self.front_end_writable}
        if len(allowed) < len(sync_data):
            refused = sorted(str(k)[:40] for k in sync_data if k not in allowed)
            _refusals.note(type(self).__name__, refused[:8] + (["..."] if len(refused) > 8 else []))
        if allowed:
            super().set_state(allowed)  # type: ignore[misc]  # the widget class's, next in the MRO


@functools.cache
def _subclass(cls: type, writable: frozenset[str]) -> type:
    return type(
        cls.__name__,
        (KernelOwned, cls),
        {"front_end_writable": writable, "__module__": __name__, "__doc__": cls.__doc__},
    )


def kernel_owned(cls: type, writable: Iterable[str] = ()) -> type:
    """``cls`` (an ipywidgets ``Widget`` class) with :class:`KernelOwned`: a front end may
    write only the traits in ``writable``. The same arguments give the same class.

    For widgets lrwidget builds from other libraries' classes (the bqplot view's marks).
    """
    return _subclass(cls, frozenset(writable))

"""The widget's static fallback: what front ends without widgets show, and its refresh.

GitHub, nbviewer, nbconvert and plain IPython render no widget: they show the bundle's other
representations. :func:`with_static_fallback` adds them to anywidget's bundle (the curve as SVG,
the summary line); :class:`Displays` keeps the IPython displays of one widget so that the
saved notebook's fallback is refreshed when a run ends (the bundle at display time has no curve
yet), at an Apply schedule, and once a brushed range settles (:class:`Settled`: a refresh
re-renders the live view, so not on every change).
"""

from __future__ import annotations

import base64
import html
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import report

if TYPE_CHECKING:
    from ..engine.history import RangeTestResult

__all__ = ["with_static_fallback", "Displays", "Bundle", "Settled"]

log = logging.getLogger("lrwidget.widget")

#: an IPython mime bundle: (data, metadata)
Bundle = tuple[dict[str, Any], dict[str, Any]]


def with_static_fallback(
    bundle: Bundle | None,
    summary: str,
    result: RangeTestResult | None,
    selected_lr: float | None,
    applied_lr: float | None,
    shown: dict[str, Any] | None = None,
    svg: str | None = None,
) -> Bundle | None:
    """anywidget's ``bundle`` (the widget view) plus ``text/plain`` (``summary``) and, once
    ``result`` has readings, ``image/svg+xml`` and ``text/html`` of the curve; ``shown``: the
    range drawn on it (``brushed``, ``suggested``) and a schedule's ``preview`` under it.
    ``svg``: a picture drawn elsewhere instead of the result's (the compare chart's)."""
    shown = dict(shown or {})
    preview = report.preview_svg(shown.pop("preview", None) or {})
    if bundle is None:
        return None
    data, metadata = bundle
    data = dict(data)
    data["text/plain"] = summary
    if svg is None and result is not None and len(result):
        svg = report.to_svg(result, selected_lr, applied_lr, **shown)
    if svg is not None:
        data["image/svg+xml"] = svg
        # nbconvert and nbviewer show ONE representation per output: text/html carries the
        # curve and the summary line together (widget front ends still pick the view). The
        # curve is an <img> of the SVG: an untrusted notebook (one nbconvert executed, one
        # downloaded) gets its HTML sanitized, which keeps an image but strips <svg> down to
        # the text of its labels.
        text = html.escape(summary)
        imgs = "".join(f'<img src="{_data_url(s)}" alt="{text}">' for s in (svg, preview) if s)
        data["text/html"] = f'<div class="lrwidget-static">{imgs}<p>{text}</p></div>'

    return data, metadata


def _data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


class Displays:
    """The IPython displays of one widget, each with a display id, refreshed on demand."""

    def __init__(self) -> None:
        self._handles: list[Any] = []  # IPython.display.DisplayHandle

    def show(self, bundle: Bundle | None) -> None:
        """Display ``bundle`` (raw) with a display id, and keep its handle."""
        from IPython.display import display

        if bundle is None:  # no view to show
            return
        data, md = bundle
        h = display(data, metadata=md, raw=True, display_id=True)
        if h is not None:
            self._handles.append(h)

    def refresh(self, bundle: Callable[[], Bundle | None]) -> None:
        """Update every display kept with ``bundle()`` (built only when there is one)."""
        if not self._handles:
            return
        made = bundle()
        if made is None:
            return
        data, md = made
        for h in list(self._handles):
            try:
                h.update(data, metadata=md, raw=True)
            except Exception as e:  # a closed front end must not break the widget  # noqa: BLE001
                log.warning("could not refresh the static view of the widget: %s", e)


class Settled:
    """Call ``fn`` once, ``quiet()`` seconds after the last :meth:`poke` (a trailing debounce):
    a burst of changes (Shift + arrows, drags one after another) makes one call, when it ends.

    One timer thread at a time, however many pokes; ``fn`` runs on it (post to a writer from
    there). ``quiet`` is read at each poke, so a test may shorten it.
    """

    def __init__(self, fn: Callable[[], None], quiet: Callable[[], float]) -> None:
        self._fn, self._quiet = fn, quiet
        self._lock = threading.Lock()
        self._due = 0.0  # time.monotonic() of the call
        self._timer: threading.Timer | None = None

    def poke(self) -> None:
        """Something changed: the call waits until ``quiet()`` seconds pass without a change."""
        with self._lock:
            delay = max(0.0, float(self._quiet()))
            self._due = time.monotonic() + delay
            if self._timer is None:
                self._arm(delay)

    def _arm(self, delay: float) -> None:
        self._timer = threading.Timer(delay, self._fire)
        self._timer.name = "lrwidget-settled"  # lrwidget's, like its other threads (by name)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            left = self._due - time.monotonic()
            if left > 0:  # poked since: wait for the rest
                self._arm(left)
                return
            self._timer = None
        self._fn()

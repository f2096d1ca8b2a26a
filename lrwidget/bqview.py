"""BqplotView: the range test drawn with bqplot, live, as an alternative to the canvas widget.

For people whose dashboards are built from bqplot (or ipywidgets layouts) already: a
``bqplot.Figure`` with a log (or linear) lr axis, the raw and smoothed losses, the suggestions
and the selected lr. It subscribes to the finder's events like :class:`LRFinderWidget` does, so
it fills while the test runs, and it works beside a widget of the same finder.

Clicks: a click on (near) the curve selects that reading, a click on a suggestion marker selects
that rule's lr. Built from a widget, the selection goes through ``widget.select(lr)`` (so the
widget's Apply uses it) and the view follows the widget's ``selected_lr``.

bqplot is an optional dependency (it pulls pandas): ``pip install "lrwidget[bqplot]"``; without
it the rest of lrwidget works and this class raises an ImportError that says so.

Threads: events arrive on the finder's stream thread, clicks on the kernel's thread and the
widget's ``selected_lr`` changes on the widget's writer thread; one lock keeps the marks'
updates whole.

Example
-------
>>> import torch; from torch import nn
>>> from lrwidget import LRFinder, BqplotView
>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> model = nn.Linear(4, 3); opt = torch.optim.SGD(model.parameters(), lr=1e-4)
>>> data = [(torch.randn(16, 4), torch.randint(0, 3, (16,))) for _ in range(4)]
>>> finder = LRFinder(model, opt, nn.CrossEntropyLoss())
>>> view = BqplotView(finder)            # in a notebook: display(view) or view.figure
>>> result = finder.range_test(data, end_lr=1.0, num_iter=30)
>>> len(view.smoothed_line.x) == len(result.lrs)
True
>>> view.select(1e-2) == view.selected_lr    # the nearest reading's lr
True
>>> view.close()
"""
from __future__ import annotations

import math
import threading
from numbers import Real
from typing import Optional

import numpy as np

from .finder import LRFinder
from .history import RangeTestResult
from .rules import LOSS_DIGITS, LR_DIGITS, marker_loss, palette, y_range
from .stream import Readings, RunEnded, RunStarted

__all__ = ["BqplotView", "nearest_reading", "suggestion_points"]

# the canvas widget's light palette and number formats (lrwidget/rules.json), so both views tell
# the same story; bqplot formats with d3 format strings: ".2~e" is 3 significant digits
_PAL = palette(dark=False)
_CURVE, _SELECTED, _RULES, _RAW_ALPHA = _PAL["accent"], _PAL["selected"], _PAL["rules"], _PAL["rawAlpha"]
_LR_D3, _LOSS_D3 = f".{LR_DIGITS - 1}~e", f".{LOSS_DIGITS}~g"
_INSTALL_HINT = 'BqplotView needs bqplot, an optional dependency: pip install "lrwidget[bqplot]"'
_UNSET = object()  # "not given", where None is a value


def nearest_reading(lrs, lr: float, log: bool = True) -> int:
    """Index of the reading whose lr is nearest ``lr`` (in log space on a log axis); -1 if none.

    Example
    -------
    >>> nearest_reading([1e-4, 1e-3, 1e-2], 2e-3), nearest_reading([1e-4, 1e-3, 1e-2], 6e-3, log=False)
    (1, 2)
    """
    a = np.asarray(lrs, dtype=float)
    ok = np.isfinite(a) & ((a > 0) if log else True)
    if not ok.any() or not (isinstance(lr, Real) and math.isfinite(lr)) or (log and lr <= 0):
        return -1
    d = np.abs(np.log(np.where(ok, a, 1.0)) - math.log(lr)) if log else np.abs(a - lr)
    d = np.where(ok, d, np.inf)
    return int(np.argmin(d))


def suggestion_points(result: RangeTestResult, log: bool = True):
    """``(names, lrs, losses)`` of the suggestions that have an lr: where their markers go.

    The loss is :func:`lrwidget.rules.marker_loss`: the smoothed loss of the reading the rule
    names (``index``), else the smoothed curve interpolated at the lr (log space on a log axis),
    as the canvas widget and the report place their markers.

    Example
    -------
    >>> from lrwidget.history import RangeTestResult
    >>> r = RangeTestResult.from_dict({"lrs": [1e-3, 1e-2, 1e-1], "losses": [2, 1, 3],
    ...     "smoothed": [2, 1.5, 2.5], "stop_reason": "completed", "step_mode": "exp",
    ...     "start_lr": 1e-3, "end_lr": 1e-1, "num_iter": 3, "elapsed": 0.1})
    >>> names, lrs, ys = suggestion_points(r)
    >>> len(names) == len(lrs) == len(ys)
    True
    """
    names, xs, ys = [], [], []
    sm = np.asarray(result.smoothed, dtype=float)
    lr_all = np.asarray(result.lrs, dtype=float)
    for name, s in result.suggestions.items():
        if s.lr is None or not math.isfinite(s.lr):
            continue
        y = marker_loss(lr_all, sm, s.lr, s.index, log)
        if y is None:
            continue
        names.append(name)
        xs.append(float(s.lr))
        ys.append(y)
    return names, np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


class BqplotView:
    """A live bqplot figure of a finder's range tests.

    Parameters
    ----------
    source : LRFinderWidget or LRFinder
        A widget: clicks call ``widget.select(lr)`` and the view shows the widget's
        ``selected_lr``. A finder: the view keeps its own selection (:attr:`selected_lr`).
    title : str
        The figure's title.
    height : int
        Figure height in pixels (>= 160).
    interval : float
        Seconds between redraws while a test runs (> 0; each redraw sends the whole curve).

    Attributes
    ----------
    figure : bqplot.Figure
    raw_line, smoothed_line : bqplot.Lines
        The raw and smoothed losses against the lr.
    suggestion_marks : bqplot.Scatter
        One marker per suggestion with an lr (``names`` are the rules).
    selection_line : bqplot.Lines
        The vertical line at the selected lr (empty when nothing is selected).
    readings_marks : bqplot.Scatter
        Near-invisible points on the smoothed curve that take the clicks.
    selected_lr : float or None

    Example
    -------
    >>> import torch; from torch import nn
    >>> from lrwidget import LRFinder, LRFinderWidget
    >>> m = nn.Linear(2, 2); opt = torch.optim.SGD(m.parameters(), lr=1e-3)
    >>> w = LRFinderWidget(LRFinder(m, opt, nn.CrossEntropyLoss()))
    >>> view = BqplotView(w, title="same finder, bqplot")
    >>> type(view.figure).__name__, view.figure.title
    ('Figure', 'same finder, bqplot')
    >>> view.close(); w.close()
    """

    def __init__(self, source, title: str = "", height: int = 320, interval: float = 0.2):
        try:
            import bqplot as bq
        except ImportError as e:
            raise ImportError(_INSTALL_HINT) from e

        from .widget import LRFinderWidget  # the widget module imports anywidget: only here

        if isinstance(source, LRFinderWidget):
            self.widget: Optional[LRFinderWidget] = source
            self.finder: LRFinder = source.finder
        elif isinstance(source, LRFinder):
            self.widget = None
            self.finder = source
        else:
            raise TypeError("source must be an lrwidget.LRFinderWidget or an lrwidget.LRFinder, "
                            f"got {type(source).__name__}")
        if not isinstance(title, str):
            raise TypeError(f"title must be a str, got {type(title).__name__}")
        if isinstance(height, bool) or not isinstance(height, int) or height < 160:
            raise ValueError(f"height must be an int >= 160 (pixels), got {height!r}")
        if isinstance(interval, bool) or not isinstance(interval, Real) or \
                not (interval > 0 and math.isfinite(interval)):
            raise ValueError(f"interval must be a positive number of seconds, got {interval!r}")

        self._lock = threading.RLock()
        self._run_id: Optional[int] = None
        self._log = True
        self._lr = self._loss = self._sm = np.empty(0)
        self._n = 0
        self._selected: Optional[float] = None
        self._closed = False

        self._xlog = bq.LogScale()
        self._xlin = bq.LinearScale()
        self._y = bq.LinearScale()
        sx = {"x": self._xlog, "y": self._y}
        self.raw_line = bq.Lines(x=[], y=[], scales=sx, colors=[_CURVE], opacities=[_RAW_ALPHA],
                                 stroke_width=1, labels=["raw loss"])
        self.smoothed_line = bq.Lines(x=[], y=[], scales=sx, colors=[_CURVE], stroke_width=2.5,
                                      labels=["smoothed loss"])
        self.readings_marks = bq.Scatter(
            x=[], y=[], scales=sx, colors=[_CURVE], default_size=64, opacities=[0.02],
            tooltip=bq.Tooltip(fields=["x", "y"], formats=[_LR_D3, _LOSS_D3],
                               labels=["lr", "loss"]))
        self.suggestion_marks = bq.Scatter(
            x=[], y=[], scales=sx, names=[], display_names=True, colors=_RULES,
            default_size=90, stroke="white", marker="diamond",
            tooltip=bq.Tooltip(fields=["name", "x"], formats=["", _LR_D3],
                               labels=["rule", "lr"]))
        self.selection_line = bq.Lines(x=[], y=[], scales=sx, colors=[_SELECTED],
                                       stroke_width=2, line_style="dashed")
        self._xaxis = bq.Axis(scale=self._xlog, side="bottom", label="learning rate", tick_format=".0e")
        self._yaxis = bq.Axis(scale=self._y, side="left", label="loss",
                              tick_format=".3~g")
        self.figure = bq.Figure(
            marks=[self.raw_line, self.smoothed_line, self.readings_marks,
                   self.suggestion_marks, self.selection_line],
            axes=[self._xaxis, self._yaxis], title=title,
            fig_margin={"top": 40, "bottom": 50, "left": 60, "right": 20},
            layout={"height": f"{height}px", "width": "100%", "min_width": "0"})

        self.readings_marks.on_element_click(self._on_reading_click)
        self.suggestion_marks.on_element_click(self._on_suggestion_click)
        if self.widget is not None:
            self.widget.observe(self._on_widget_selection, names="selected_lr")
            self._selected = self.widget.selected_lr
        last = self.finder.result
        if last is not None and not self.finder.running:
            self._show_result(last)
        self._unsubscribe = self.finder.subscribe(self._on_event, interval=float(interval))

    # ------------------------------------------------------------------ public
    @property
    def selected_lr(self) -> Optional[float]:
        """The selected lr: the widget's ``selected_lr`` when built from a widget."""
        return self.widget.selected_lr if self.widget is not None else self._selected

    def select(self, lr: Optional[float]) -> Optional[float]:
        """Select the reading nearest ``lr`` (None clears); returns the selected lr.

        Built from a widget this is ``widget.select(...)`` with that reading's lr.
        """
        if lr is None:
            return self._set_selected(None)
        if isinstance(lr, bool) or not isinstance(lr, Real) or not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"lr must be a positive finite number or None, got {lr!r}")
        with self._lock:
            i = nearest_reading(self._lr[:self._n], float(lr), self._log)
            chosen = float(self._lr[i]) if i >= 0 else float(lr)
        return self._set_selected(chosen)

    def close(self) -> None:
        """Stop following the finder (and the widget) and close the figure's widgets."""
        if self._closed:
            return
        self._closed = True
        self._unsubscribe()
        if self.widget is not None:
            self.widget.unobserve(self._on_widget_selection, names="selected_lr")
        for w in (self.figure, self._xaxis, self._yaxis, self.raw_line, self.smoothed_line,
                  self.readings_marks, self.suggestion_marks, self.selection_line,
                  self._xlog, self._xlin, self._y):
            w.close()

    def _ipython_display_(self):
        from IPython.display import display
        display(self.figure)

    # ------------------------------------------------------------------ events (stream thread)
    def _on_event(self, ev) -> None:
        if self._closed:
            return
        if isinstance(ev, RunStarted):
            with self._lock:
                self._run_id = ev.run_id
                cap = max(int(ev.num_iter), 1)
                self._lr, self._loss, self._sm = (np.full(cap, np.nan) for _ in range(3))
                self._n = 0
                self._set_log(ev.step_mode != "linear")
                with self.figure.hold_sync():
                    self.suggestion_marks.x, self.suggestion_marks.y = [], []
                    self.suggestion_marks.names = []
                    self._draw_curve()
            if self.widget is None:
                self._set_selected(None)  # the widget clears its own selection on a new run
        elif isinstance(ev, Readings):
            with self._lock:
                if ev.run_id != self._run_id:
                    return
                self._write(ev.start, ev.lrs, ev.losses, ev.smoothed)
                self._draw_curve()
        elif isinstance(ev, RunEnded):
            if ev.run_id == self._run_id and ev.result is not None:
                self._show_result(ev.result)

    def _write(self, start, lrs, losses, smoothed) -> None:
        end = start + len(lrs)
        if end > self._lr.size:
            grow = max(end, 2 * self._lr.size)
            for name in ("_lr", "_loss", "_sm"):
                new = np.full(grow, np.nan)
                new[: self._n] = getattr(self, name)[: self._n]
                setattr(self, name, new)
        self._lr[start:end] = lrs
        self._loss[start:end] = losses
        self._sm[start:end] = smoothed
        self._n = max(self._n, end)

    def _show_result(self, r: RangeTestResult) -> None:
        with self._lock:
            self._lr, self._loss, self._sm = (np.array(a, dtype=float)
                                              for a in (r.lrs, r.losses, r.smoothed))
            self._n = len(self._lr)
            self._set_log(r.step_mode != "linear")
            names, xs, ys = suggestion_points(r, self._log)
            with self.figure.hold_sync():
                self._draw_curve()
                self.suggestion_marks.x, self.suggestion_marks.y = xs, ys
                self.suggestion_marks.names = names

    def _set_log(self, log: bool) -> None:
        if log == self._log and self.raw_line.scales["x"] is (self._xlog if log else self._xlin):
            return
        self._log = log
        x = self._xlog if log else self._xlin
        for m in (self.raw_line, self.smoothed_line, self.readings_marks, self.suggestion_marks,
                  self.selection_line):
            m.scales = {"x": x, "y": self._y}
        self._xaxis.scale = x
        self._xaxis.tick_format = ".0e" if log else ".3~g"

    def _draw_curve(self) -> None:
        n = self._n
        lr, loss, sm = self._lr[:n].copy(), self._loss[:n].copy(), self._sm[:n].copy()
        rng = y_range(sm, loss)  # the canvas widget's rule: a diverging tail is cut off
        with self.figure.hold_sync():
            self._y.min, self._y.max = rng
            self.raw_line.x, self.raw_line.y = lr, loss
            self.smoothed_line.x, self.smoothed_line.y = lr, sm
            self.readings_marks.x, self.readings_marks.y = lr, sm
            self._draw_selection(rng)

    def _draw_selection(self, rng=_UNSET) -> None:
        """The selection line over the loss range ``rng`` (computed here when not given)."""
        lr = self.selected_lr
        if rng is _UNSET:
            rng = y_range(self._sm[:self._n], self._loss[:self._n])
        if lr is None:
            self.selection_line.x, self.selection_line.y = [], []
        else:
            self.selection_line.x, self.selection_line.y = [lr, lr], list(rng)

    # ------------------------------------------------------------------ selection
    def _set_selected(self, lr: Optional[float]) -> Optional[float]:
        if self.widget is not None:
            self.widget.select(lr)  # the widget's observer redraws the line
            return lr
        with self._lock:
            self._selected = lr
            self._draw_selection()
        return lr

    def _on_widget_selection(self, change) -> None:
        with self._lock:
            self._draw_selection()

    def _on_reading_click(self, _mark, content) -> None:
        i = (content or {}).get("data", {}).get("index")
        with self._lock:
            ok = isinstance(i, int) and 0 <= i < self._n and math.isfinite(self._lr[i])
            lr = float(self._lr[i]) if ok else None
        if lr is not None:
            self._set_selected(lr)

    def _on_suggestion_click(self, _mark, content) -> None:
        i = (content or {}).get("data", {}).get("index")
        xs = self.suggestion_marks.x
        if isinstance(i, int) and 0 <= i < len(xs):
            self._set_selected(float(xs[i]))

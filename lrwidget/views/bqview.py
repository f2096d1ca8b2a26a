"""BqplotView: the range test drawn with bqplot, live, as an alternative to the canvas widget.

For people whose dashboards are built from bqplot (or ipywidgets layouts) already: a
``bqplot.Figure`` with a log (or linear) lr axis, the raw and smoothed losses, the suggestions
and the selected lr. Like :class:`LRFinderWidget` it is a view of the finder's
:class:`~lrwidget.channel.core.Channel`, so it fills while the test runs and shows the
same selection
as every widget of the same finder.

Clicks: a click on (near) the curve selects that reading, a click on a suggestion marker selects
that rule's lr; the selection goes through the channel (validated there), so a widget's Apply
uses it, and a selection made in a widget moves this view's line.

The range (issue 19): a band over the kernel's range, never one a front end drew (bqplot's brush
selectors write their selection from the browser): made from a widget, the widget's
``selected_range`` (solid), else its ``suggested_range`` (dashed), and its schedule ``preview``
in :attr:`BqplotView.preview_figure`; made from a finder, the suggested range of its last run
(:func:`lrwidget.pure.ranges.suggest_range`, the widget's rule).

bqplot is an optional dependency (it pulls pandas): ``pip install "lrwidget[bqplot]"``; without
it the rest of lrwidget works and this class raises an ImportError that says so.

Threads: the marks are written by the channel's writer thread alone; clicks (kernel thread)
only hand a command to the channel.

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
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from ..channel.core import Channel, ChannelView, Source
from ..channel.protocol import nearest_reading
from ..engine.finder import LRFinder
from ..engine.history import RangeTestResult
from ..engine.stream import RunStarted
from ..pure.numbers import is_int, is_real
from ..pure.ranges import suggest_range
from ..pure.rules import LOSS_DIGITS, LR_DIGITS, check_height, marker_loss, palette, y_range
from ..pure.smooth import centered
from .owned import kernel_owned

if TYPE_CHECKING:
    from .widget import LRFinderWidget

__all__ = ["BqplotView", "nearest_reading", "suggestion_points"]

# the canvas widget's light palette and number formats (lrwidget/pure/rules.json), so both views
# tell the same story; bqplot formats with d3 format strings: ".2~e" is 3 significant digits
_PAL = palette(dark=False)
_CURVE, _SELECTED = _PAL["accent"], _PAL["selected"]
_RULES, _RAW_ALPHA = _PAL["rules"], _PAL["rawAlpha"]
_LR_D3, _LOSS_D3 = f".{LR_DIGITS - 1}~e", f".{LOSS_DIGITS}~g"
_INSTALL_HINT = 'BqplotView needs bqplot, an optional dependency: pip install "lrwidget[bqplot]"'
#: what bqplot's own front end writes on a mark (a click's or hover's highlight; lrwidget reads
#: neither): every other trait of the figure's widgets is the kernel's (lrwidget.views.owned)
_MARK_WRITABLE = ("selected", "hovered_point")
#: the widget's traits the range's marks follow
_RANGE_TRAITS = ["selected_range", "suggested_range", "preview"]
#: the band's fill: the brushed range's, the suggested one's (the report's, report_schedule.py)
_BAND_OPACITY = {False: 0.14, True: 0.06}


def suggestion_points(
    result: RangeTestResult, log: bool = True, line: np.ndarray | None = None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``(names, lrs, losses)`` of the suggestions that have an lr: where their markers go.

    The loss is :func:`lrwidget.pure.rules.marker_loss`: on the line drawn (``line``, by default
    the finished run's loss smoothed without lag, :func:`lrwidget.pure.smooth.centered`), at the
    reading the rule names (``index``), else interpolated at the lr (log space on a log axis),
    as the canvas widget and the report place their markers.

    Example
    -------
    >>> from lrwidget.engine.history import RangeTestResult
    >>> r = RangeTestResult.from_dict({"lrs": [1e-3, 1e-2, 1e-1], "losses": [2, 1, 3],
    ...     "smoothed": [2, 1.5, 2.5], "stop_reason": "completed", "step_mode": "exp",
    ...     "start_lr": 1e-3, "end_lr": 1e-1, "num_iter": 3, "elapsed": 0.1})
    >>> names, lrs, ys = suggestion_points(r)
    >>> len(names) == len(lrs) == len(ys)
    True
    """
    names, xs, ys = [], [], []
    lr_all = np.asarray(result.lrs, dtype=float)
    sm = centered(lr_all, result.losses) if line is None else np.asarray(line, dtype=float)
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


class BqplotView(ChannelView):
    """A live bqplot figure of a finder's range tests.

    Parameters
    ----------
    source : LRFinderWidget or LRFinder
        The finder to draw (or a widget of it). Either way the view shows the selection of
        every view of that finder.
    title : str
        The figure's title.
    height : int
        Figure height in pixels, 160 to 2000 (:data:`lrwidget.pure.rules.PLOT_HEIGHT`).
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
    range_band : bqplot.Lines
        The range as a closed band over the loss axis (``x``: lo, hi, hi, lo, lo), dashed when it
        is the suggested one; empty when there is none.
    preview_figure : bqplot.Figure
        lr against step of the widget's schedule preview (``preview_line``; empty without one).
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

    def __init__(
        self,
        source: LRFinderWidget | LRFinder,
        title: str = "",
        height: int = 320,
        interval: float = 0.2,
    ) -> None:
        try:
            import bqplot as bq
        except ImportError as e:
            raise ImportError(_INSTALL_HINT) from e

        self.finder: LRFinder | Source = _finder_of(source)
        if not isinstance(title, str):
            raise TypeError(f"title must be a str, got {type(title).__name__}")
        check_height(height)
        if not is_real(interval) or not (float(interval) > 0 and math.isfinite(interval)):
            raise ValueError(f"interval must be a positive number of seconds, got {interval!r}")

        self._widget = _widget_of(source)  # its range traits, when made from a widget
        self._suggested: tuple[float, float] | None = None  # a finder's: its last run's
        self._channel = Channel.of(self.finder)
        self._log = True
        self._interval = float(interval)
        self._t_draw = -math.inf
        self._drawn = 0  # readings on the marks
        self._closed = False
        self._build_marks(bq)
        self._build_figure(bq, title, height)
        self._build_preview(bq)
        self.readings_marks.on_element_click(self._on_reading_click)
        self.suggestion_marks.on_element_click(self._on_suggestion_click)
        if self._widget is not None:  # its traits are set on the writer: drawn there
            self._widget.observe(self._range_changed, names=_RANGE_TRAITS)
        self._channel.attach(self)  # draws the last run at once, if there is one

    def _build_marks(self, bq: Any) -> None:
        """The scales and marks, as kernel-owned classes: a front end's update of a mark's x
        (which a click's lr is read from) or of anything else is ignored."""
        Lines, Scatter = (kernel_owned(c, _MARK_WRITABLE) for c in (bq.Lines, bq.Scatter))
        LogScale, LinearScale, Tooltip = (
            kernel_owned(c) for c in (bq.LogScale, bq.LinearScale, bq.Tooltip)
        )
        self._xlog = LogScale()
        self._xlin = LinearScale()
        self._y = LinearScale()
        sx = {"x": self._xlog, "y": self._y}
        self.raw_line = Lines(
            x=[],
            y=[],
            scales=sx,
            colors=[_CURVE],
            opacities=[_RAW_ALPHA],
            stroke_width=1,
            labels=["raw loss"],
        )
        self.smoothed_line = Lines(
            x=[], y=[], scales=sx, colors=[_CURVE], stroke_width=2.5, labels=["smoothed loss"]
        )
        self.readings_marks = Scatter(
            x=[],
            y=[],
            scales=sx,
            colors=[_CURVE],
            default_size=64,
            opacities=[0.02],
            tooltip=Tooltip(fields=["x", "y"], formats=[_LR_D3, _LOSS_D3], labels=["lr", "loss"]),
        )
        self.suggestion_marks = Scatter(
            x=[],
            y=[],
            scales=sx,
            names=[],
            display_names=True,
            colors=_RULES,
            default_size=90,
            stroke="white",
            marker="diamond",
            tooltip=Tooltip(fields=["name", "x"], formats=["", _LR_D3], labels=["rule", "lr"]),
        )
        self.selection_line = Lines(
            x=[], y=[], scales=sx, colors=[_SELECTED], stroke_width=2, line_style="dashed"
        )
        self.range_band = Lines(
            x=[],
            y=[],
            scales=sx,
            colors=[_SELECTED],
            fill="inside",
            fill_colors=[_SELECTED],
            fill_opacities=[_BAND_OPACITY[False]],
            stroke_width=1.25,
        )

    def _build_preview(self, bq: Any) -> None:
        """The schedule preview's small figure: lr against step (kernel-owned too)."""
        Lines, Axis, Figure = (kernel_owned(c) for c in (bq.Lines, bq.Axis, bq.Figure))
        LinearScale = kernel_owned(bq.LinearScale)
        xs, ys = LinearScale(), LinearScale(min=0.0)
        self.preview_line = Lines(
            x=[], y=[], scales={"x": xs, "y": ys}, colors=[_SELECTED], stroke_width=1.5
        )
        self._preview_parts = [
            Axis(scale=xs, side="bottom", label="step", tick_format="~s"),
            Axis(scale=ys, side="left", label="lr", tick_format=".0e"),
            xs,
            ys,
        ]
        self.preview_figure = Figure(
            marks=[self.preview_line],
            axes=self._preview_parts[:2],
            fig_margin={"top": 10, "bottom": 40, "left": 60, "right": 20},
            layout={"height": "140px", "width": "100%", "min_width": "0"},
        )

    def _build_figure(self, bq: Any, title: str, height: int) -> None:
        """The axes and the figure around the marks (kernel-owned too)."""
        Axis, Figure = (kernel_owned(c) for c in (bq.Axis, bq.Figure))
        self._xaxis = Axis(
            scale=self._xlog, side="bottom", label="learning rate", tick_format=".0e"
        )
        self._yaxis = Axis(scale=self._y, side="left", label="loss", tick_format=".3~g")
        self.figure = Figure(
            marks=self._marks(),
            axes=[self._xaxis, self._yaxis],
            title=title,
            fig_margin={"top": 40, "bottom": 50, "left": 60, "right": 20},
            layout={"height": f"{height}px", "width": "100%", "min_width": "0"},
        )

    def _marks(self) -> list[Any]:
        """The marks, back to front."""
        return [
            self.range_band,
            self.raw_line,
            self.smoothed_line,
            self.readings_marks,
            self.suggestion_marks,
            self.selection_line,
        ]

    # ------------------------------------------------------------------ public
    @property
    def selected_lr(self) -> float | None:
        """The selected lr: the one every view of the finder shows."""
        return self._channel.state["selected_lr"]

    def select(self, lr: float | None) -> float | None:
        """Select the reading nearest ``lr`` (None clears), as a click does; returns its lr.

        Raises
        ------
        ValueError
            ``lr`` is not a positive finite number, or outside the tested range.
        """
        if lr is not None and (not is_real(lr) or not (float(lr) > 0 and math.isfinite(lr))):
            raise ValueError(f"lr must be a positive finite number or None, got {lr!r}")
        v = None if lr is None else float(lr)
        return self._channel.call(lambda: self._channel.select(v))

    def close(self) -> None:
        """Stop following the finder and close the figure's widgets."""
        if self._closed:
            return
        self._closed = True
        if self._widget is not None:
            self._widget.unobserve(self._range_changed, names=_RANGE_TRAITS)
        self._channel.detach(self)
        for w in (
            self.figure,
            self._xaxis,
            self._yaxis,
            *self._marks(),
            self._xlog,
            self._xlin,
            self._y,
            self.preview_figure,
            self.preview_line,
            *self._preview_parts,
        ):
            w.close()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.figure, self.preview_figure)

    # ------------------------------------------------------------------ ChannelView (writer)
    def channel_attached(self) -> None:
        run, result = self._channel.run, self._channel.result
        if run is not None:
            self.channel_run(run)
        if result is not None and not self.finder.running and self._widget is None:
            self._suggested = suggest_range(result)  # made after the run ended
            self._draw_range()

    def channel_state(self, changes: dict[str, Any]) -> None:
        if "selected_lr" in changes:
            self._draw_selection()
        if "suggestions" in changes and self._channel.result is not None:
            r = self._channel.result
            names, xs, ys = suggestion_points(r, self._log, self._channel.runs.line())
            with self.figure.hold_sync():
                self.suggestion_marks.x, self.suggestion_marks.y = xs, ys
                self.suggestion_marks.names = names

    def channel_run(self, run: RunStarted) -> None:
        self._drawn = 0
        self._suggested = None
        self._set_log(run.step_mode != "linear")
        with self.figure.hold_sync():
            self.suggestion_marks.x, self.suggestion_marks.y = [], []
            self.suggestion_marks.names = []
            self._draw_curve()

    def channel_readings(self, seq: int, start: int, stop: int, replay: bool) -> None:
        # each redraw sends the whole curve: at most one per interval while the test runs
        if time.monotonic() - self._t_draw >= self._interval:
            self._draw_curve()

    def channel_ended(self, result: RangeTestResult | None) -> None:
        if result is not None:
            self._set_log(result.step_mode != "linear")
            if self._widget is None:
                self._suggested = suggest_range(result)
        self._draw_curve()

    def _set_log(self, log: bool) -> None:
        if log == self._log and self.raw_line.scales["x"] is (self._xlog if log else self._xlin):
            return
        self._log = log
        x = self._xlog if log else self._xlin
        for m in self._marks():
            m.scales = {"x": x, "y": self._y}
        self._xaxis.scale = x
        self._xaxis.tick_format = ".0e" if log else ".3~g"

    def _draw_curve(self) -> None:
        b = self._channel.readings
        lr, loss, sm = (np.array(a) for a in self._channel.drawn())  # a finished run's: no lag
        rng = y_range(sm, loss)  # the canvas widget's rule: a diverging tail is cut off
        with self.figure.hold_sync():
            self._y.min, self._y.max = rng
            self.raw_line.x, self.raw_line.y = lr, loss
            self.smoothed_line.x, self.smoothed_line.y = lr, sm
            self.readings_marks.x, self.readings_marks.y = lr, sm
            self._draw_selection(rng)
            self._draw_range(rng)
        self._drawn = b.n
        self._t_draw = time.monotonic()

    def _y_range(self) -> tuple[float, float]:
        _, loss, line = self._channel.drawn()
        return y_range(line, loss)

    def _draw_selection(self, rng: tuple[float, float] | None = None) -> None:
        """The selection line over the loss range ``rng`` (computed here when not given)."""
        lr = self.selected_lr
        if rng is None:
            rng = self._y_range()
        if lr is None:
            self.selection_line.x, self.selection_line.y = [], []
        else:
            self.selection_line.x, self.selection_line.y = [lr, lr], list(rng)

    def _range_changed(self, _change: Any) -> None:
        """The widget's range or preview changed (on the writer, which sets its traits)."""
        if not self._closed:
            with self.figure.hold_sync():
                self._draw_range()

    def _range_shown(self) -> tuple[tuple[float, float] | None, bool]:
        """The range drawn and whether it is the suggested one (the widget's, else ours)."""
        w = self._widget
        if w is None:
            return self._suggested, True
        return (w.selected_range, False) if w.selected_range else (w.suggested_range, True)

    def _draw_range(self, rng: tuple[float, float] | None = None) -> None:
        """The band of the range over the loss range ``rng`` (computed when not given), and the
        widget's schedule preview."""
        band, suggested = self._range_shown()
        if rng is None:
            rng = self._y_range()
        if band is None:
            self.range_band.x, self.range_band.y = [], []
        else:
            lo, hi = band
            y0, y1 = rng
            self.range_band.x, self.range_band.y = [lo, hi, hi, lo, lo], [y0, y0, y1, y1, y0]
            self.range_band.line_style = "dashed" if suggested else "solid"
            self.range_band.fill_opacities = [_BAND_OPACITY[suggested]]
        p = self._widget.preview if self._widget is not None else {}
        with self.preview_figure.hold_sync():
            self.preview_line.x, self.preview_line.y = p.get("steps", []), p.get("lrs", [])

    # ------------------------------------------------------------------ clicks (kernel thread)
    def _on_reading_click(self, _mark: object, content: Any) -> None:
        xs = self.readings_marks.x
        i = _clicked(content, len(xs))
        if i is not None:
            self._channel.command(self, {"type": "select", "lr": float(xs[i]), "index": i})

    def _on_suggestion_click(self, _mark: object, content: Any) -> None:
        xs = self.suggestion_marks.x
        i = _clicked(content, len(xs))
        if i is not None:
            self._channel.command(self, {"type": "select", "lr": float(xs[i])})


def _finder_of(source: object) -> LRFinder | Source:
    """The finder a view draws: the widget's, or the finder itself."""
    from .widget import LRFinderWidget  # the widget module imports anywidget: only here

    if isinstance(source, LRFinderWidget):
        return source.finder
    if isinstance(source, LRFinder):
        return source
    raise TypeError(
        "source must be an lrwidget.LRFinderWidget or an lrwidget.LRFinder, "
        f"got {type(source).__name__}"
    )


def _widget_of(source: object) -> Any:
    """The widget a view was made from (None: a finder): the range it draws is the widget's."""
    return None if isinstance(source, LRFinder) else source


def _clicked(content: Any, n: int) -> int | None:
    """The point a click on a mark of ``n`` points names (bqplot's ``data.index``), if any."""
    i = (content or {}).get("data", {}).get("index")
    k = int(i) if is_int(i) else -1
    return k if 0 <= k < n else None

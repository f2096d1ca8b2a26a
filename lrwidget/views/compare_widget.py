"""Several range tests on one chart (issue 20): :func:`compare` -> :class:`CompareWidget`.

Up to 8 runs overlaid, each in a colour-blind-safe colour with its default suggestion marked;
the legend toggles a curve, hovering names the run, a click selects a (run, lr) and Apply puts
that lr into that run's optimizer. A live :class:`~lrwidget.LRFinderWidget` keeps drawing while
its test runs (its channel is followed, :class:`~lrwidget.views.compare_feeds.LiveFeed`);
finished curves are sent once, in the ``compare_saved`` trait, which a notebook saved with
widget state keeps. The front end is untrusted: its commands are parsed by
:mod:`lrwidget.channel.compare_protocol` and an lr is snapped to one that run tested before
anything touches an optimizer.

Example
-------
>>> import numpy as np, torch
>>> from lrwidget.engine.history import RangeTestResult
>>> lrs = np.logspace(-4, 0, 41); loss = 2 - np.exp(-(np.log10(lrs) + 2) ** 2)
>>> r = RangeTestResult(lrs, loss, loss, "completed", "exp", 1e-4, 1.0, 41, 0.1)
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.5)
>>> cmp = compare(r, r, labels=["a", "b"], optimizers=[None, opt])
>>> cmp.runs
('a', 'b')
>>> cmp.select("b", 0.0101)
('b', 0.01)
>>> cmp.apply(), opt.param_groups[0]["lr"]
(0.01, 0.01)
>>> cmp.close()
"""

from __future__ import annotations

import logging
import math
import os
import pathlib
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import anywidget
import traitlets

from ..channel.compare_protocol import CompareApply, CompareSelect, parse_compare_command
from ..channel.core import Channel
from ..channel.protocol import BadCommand, encode_readings, encode_saved_readings
from ..engine.compare_runs import CompareResults
from ..pure.compare import check_run_count, lr_mismatch, run_labels
from ..pure.numbers import is_real
from ..pure.ranges import snap_lr
from ..pure.rules import PLOT_HEIGHT, check_height, format_lr
from .compare_feeds import CompareRun, LiveFeed, make_run
from .owned import KernelOwned
from .report_compare import CompareCurve, compare_html, compare_svg
from .static_fallback import Bundle, Displays, with_static_fallback

__all__ = ["CompareWidget", "TrendLike", "compare"]

log = logging.getLogger("lrwidget.views")
_STATIC = pathlib.Path(__file__).parent / "static"
#: most points of a trend line (a fit through a handful of batch sizes' suggestions)
MAX_TREND_POINTS = 64


class TrendLike(Protocol):
    """What a trend line needs (``lrwidget.pure.scaling.ScalingFit`` is one)."""

    @property
    def points(self) -> Sequence[tuple[float, float]]: ...

    @property
    def text(self) -> str: ...


def compare(
    *runs: Any,
    labels: Sequence[str] | None = None,
    optimizers: Sequence[Any] | None = None,
    trend: TrendLike | None = None,
    title: str = "",
    height: int | None = None,
) -> CompareWidget:
    """Overlay up to 8 range tests on one chart.

    Parameters
    ----------
    *runs : LRFinderWidget, RangeTestResult, str or os.PathLike
        A live widget (keeps drawing while its test runs; Apply writes to its finder's
        optimizer), a finished result, or the path of a saved result (``RangeTestResult.load``);
        or one ``compare_optimizers`` / ``compare_batch_sizes`` result (its labels, optimizers
        and batch-size fit as defaults).
    labels : sequence of str, optional
        One unique label per run; default: a widget's title, else "run 1", "run 2", ...
    optimizers : sequence of torch.optim.Optimizer or None, optional
        The optimizer each run's Apply writes to (for results and files; None for a live
        widget's), and whose lr the legend checks against the curve's suggestion.
    trend : TrendLike, optional
        A line through ``trend.points`` ((lr, loss) pairs) captioned ``trend.text``.
    title : str
    height : int, optional
        Plot height in pixels (160 to 2000).

    Returns
    -------
    CompareWidget

    Raises
    ------
    TypeError, ValueError
        For a run of another type, more than 8 runs, labels or optimizers of the wrong length,
        duplicate labels, or a bad trend; before anything is shown.
    """
    if len(runs) == 1 and isinstance(runs[0], CompareResults):  # compare_optimizers' and co.
        results, own_labels, own_optimizers, own_trend = runs[0].for_chart()
        runs = tuple(results)
        labels = own_labels if labels is None else labels
        optimizers = own_optimizers if optimizers is None else optimizers
        trend = own_trend if trend is None else trend
    return CompareWidget(
        runs, labels=labels, optimizers=optimizers, trend=trend, title=title, height=height
    )


def _check_trend(trend: Any) -> dict[str, Any]:
    if trend is None:
        return {}
    pts, text = getattr(trend, "points", None), getattr(trend, "text", None)
    if not isinstance(text, str) or pts is None:
        raise TypeError("trend must have .points ((lr, loss) pairs) and .text (a str)")
    points = [tuple(p) for p in pts]
    if len(points) > MAX_TREND_POINTS or any(
        len(p) != 2 or not all(is_real(v) for v in p) for p in points
    ):
        raise ValueError(f"trend.points must be at most {MAX_TREND_POINTS} (lr, loss) number pairs")
    # JSON has no NaN or inf (a front end's parser refuses them): such a point is left out
    finite = [
        [float(a), float(b)] for a, b in points if math.isfinite(a) and a > 0 and math.isfinite(b)
    ]
    return {"points": finite, "text": text[:200]}


class CompareWidget(KernelOwned, anywidget.AnyWidget):
    """Several range tests on one chart (see :func:`compare`); the traits are the kernel's.

    Attributes
    ----------
    runs : tuple of str
        The runs' labels, in order.
    selected : (str, float) or None
        The selected run and tested lr (a click, or :meth:`select`).
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    title = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Int(PLOT_HEIGHT["default"]).tag(sync=True)
    #: one dict per run: label, color (index), live, running, suggestion, suggestion_index,
    #: optimizer_lr, warning, target
    compare_runs: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    #: the finished curves: encode_saved_readings blobs one after another, run id = run index
    compare_saved = traitlets.Bytes(b"").tag(sync=True)
    compare_trend = traitlets.Dict().tag(sync=True)
    #: {"run": index, "lr": a tested lr of that run}, or {} for none
    compare_selected = traitlets.Dict().tag(sync=True)
    compare_applied = traitlets.Unicode("").tag(sync=True)
    compare_error = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        runs: Sequence[Any],
        labels: Sequence[str] | None = None,
        optimizers: Sequence[Any] | None = None,
        trend: TrendLike | None = None,
        title: str = "",
        height: int | None = None,
    ) -> None:
        check_run_count(len(runs))
        if optimizers is not None and len(optimizers) != len(runs):
            raise ValueError(f"optimizers: {len(optimizers)} optimizers for {len(runs)} runs")
        if not isinstance(title, str):
            raise TypeError(f"title must be a str, got {type(title).__name__}")
        opts = list(optimizers) if optimizers is not None else [None] * len(runs)
        made = [make_run(r, o, i) for i, (r, o) in enumerate(zip(runs, opts))]
        names = run_labels(labels, [d for _, d in made])
        h = check_height(PLOT_HEIGHT["default"] if height is None else height)
        super().__init__(title=title, height=h, compare_trend=_check_trend(trend))
        self._lock = threading.RLock()
        self._runs: list[CompareRun] = []
        for (run, _), name in zip(made, names):
            run.label = name
            self._runs.append(run)
        self._displays = Displays()
        self._closed = False
        self._bad = 0  # refused front-end messages (logged the first few)
        self.on_msg(self._on_msg)
        for i, run in enumerate(self._runs):
            if run.widget is not None:
                channel = Channel.of(run.widget.finder)
                run.feed = LiveFeed(channel, self._feed_callback(i))
        self._refresh()
        for run in self._runs:
            if run.feed is not None and run.widget is not None:
                Channel.of(run.widget.finder).attach(run.feed)

    # ------------------------------------------------------------------ public API
    @property
    def runs(self) -> tuple[str, ...]:
        """The runs' labels, in order."""
        return tuple(r.label for r in self._runs)

    @property
    def selected(self) -> tuple[str, float] | None:
        """(label, lr) of the selection, or None."""
        sel = self.compare_selected
        return None if not sel else (self._runs[sel["run"]].label, float(sel["lr"]))

    def select(self, label: str, lr: float | None) -> tuple[str, float] | None:
        """Select run ``label``'s tested lr nearest ``lr`` (None clears); returns :attr:`selected`.

        Raises ValueError for an unknown label or an lr outside that run's tested range.
        """
        i = self._index(label)
        if lr is not None and not (is_real(lr) and float(lr) > 0):
            raise ValueError(f"lr must be a positive finite number or None, got {lr!r}")
        self._select(i, None if lr is None else float(lr))
        return self.selected

    def apply(self, label: str | None = None, lr: float | None = None) -> float:
        """Put an lr into a run's optimizer; returns the lr written.

        Parameters
        ----------
        label : str, optional
            The run; default: the selected run.
        lr : float, optional
            Default: the selection when it is that run's, else the run's default suggestion.
            Checked: a positive finite number.

        Raises
        ------
        ValueError
            No run named or selected, no lr to apply, a bad lr, or a run without an optimizer.
        """
        sel = self.compare_selected
        if label is None and not sel:
            raise ValueError("label is None and no run is selected: pass label, or click a curve")
        i = self._index(label) if label is not None else int(sel["run"])
        if lr is None:
            lr = float(sel["lr"]) if sel and sel["run"] == i else self._runs[i].suggestion()[0]
        if lr is None or not (is_real(lr) and 0 < float(lr) < float("inf")):
            raise ValueError(
                f"lr must be a positive finite number, got {lr!r} (run {self.runs[i]!r})"
            )
        run = self._runs[i]
        run.apply(float(lr))  # outside the lock: a live widget's apply waits for its channel
        with self._lock:
            self.compare_applied = f"lr {format_lr(float(lr))} applied to {run.target()}"
            self.compare_error = ""
            self._refresh()
        return float(lr)

    def save_html(self, path: str | os.PathLike[str], dark: bool = False) -> str:
        """Write every curve as a self-contained HTML page; returns the path written."""
        path = os.fspath(path)
        page = compare_html(
            self.curves(), self.compare_trend, self.title or "Range tests compared", dark
        )
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
        return path

    def to_svg(self, dark: bool = False) -> str:
        """Every curve as one SVG (:func:`lrwidget.views.report_compare.compare_svg`)."""
        return compare_svg(self.curves(), self.compare_trend, dark, title=self.title)

    def curves(self) -> list[CompareCurve]:
        """Each run's curve so far, as the static pictures draw it."""
        out = []
        for run, info in zip(self._runs, self.compare_runs):
            _, (lrs, losses, sm), result = run.curve()
            log = result is None or result.step_mode != "linear"
            out.append(
                CompareCurve(
                    run.label,
                    lrs,
                    losses,
                    sm,
                    info["suggestion"],
                    info["suggestion_index"],
                    info["warning"],
                    log,
                )
            )
        return out

    def summary(self) -> str:
        """One line per run: its suggestion and warning."""
        return "\n".join(
            f"{r['label']}: suggests {format_lr(r['suggestion'])}"
            + (f" ({r['warning']})" if r["warning"] else "")
            for r in self.compare_runs
        )

    def close(self) -> None:
        """Stop following the live widgets and close the comm (their tests go on)."""
        if not getattr(self, "_closed", True):
            self._closed = True
            for run in self._runs:
                if run.feed is not None and run.widget is not None:
                    Channel.of(run.widget.finder).detach(run.feed)
        super().close()

    # ------------------------------------------------------------------ static fallback
    def _repr_mimebundle_(self, **kwargs: Any) -> Bundle | None:
        """The widget view plus text/plain, image/svg+xml and text/html of every curve, for
        front ends without widgets (GitHub, nbviewer, nbconvert)."""
        base = super()._repr_mimebundle_(**kwargs)
        return with_static_fallback(base, self.summary(), None, None, None, svg=self.to_svg())

    def _ipython_display_(self) -> None:
        self._displays.show(self._repr_mimebundle_())

    # ------------------------------------------------------------------ runs
    def _index(self, label: str) -> int:
        if label not in self.runs:
            raise ValueError(f"label must be one of {list(self.runs)}, got {label!r}")
        return self.runs.index(label)

    def _select(self, i: int, lr: float | None) -> None:
        if lr is None:
            self.compare_selected = {}
            return
        lrs = self._runs[i].curve()[1][0]
        v, _ = snap_lr(lr, lrs)
        self.compare_selected = {"run": i, "lr": v}

    def _feed_callback(self, i: int) -> Callable[[str, int, int], None]:
        return lambda kind, start, stop: self._on_feed(i, kind, start, stop)

    def _on_feed(self, i: int, kind: str, start: int, stop: int) -> None:
        """A live run's news (on its channel's writer thread)."""
        if self._closed:
            return
        if kind == "readings":
            self._send_readings(i, start, stop)
            return
        with self._lock:
            if kind == "run":
                sel = self.compare_selected
                if sel and sel["run"] == i:
                    self.compare_selected = {}  # the lrs it snapped to are gone
                self.send({"type": "compare_run", "run": i})
            self._refresh()
        if kind == "ended":
            self._displays.refresh(self._repr_mimebundle_)

    def _send_readings(self, i: int, start: int, stop: int) -> None:
        feed = self._runs[i].feed
        assert feed is not None
        _, (lrs, losses, sm) = feed.snapshot()
        content, buffers = encode_readings(
            i, 0, start, lrs[start:stop], losses[start:stop], sm[start:stop]
        )
        content.update(type="compare_readings", run=i)
        self.send(content, buffers)

    def _refresh(self) -> None:
        """The runs' info and the finished curves, written again (kernel-side state only)."""
        with self._lock:
            info, saved = [], []
            for i, run in enumerate(self._runs):
                running, curve, result = run.curve()
                lr, index = run.suggestion()
                held = run.optimizer_lr()
                info.append(
                    {
                        "label": run.label,
                        "color": i,
                        "live": run.live,
                        "running": running,
                        "suggestion": lr,
                        "suggestion_index": index,
                        "optimizer_lr": held,
                        "warning": lr_mismatch(held, lr) or "",
                        "target": run.target(),
                        "log": result is None or result.step_mode != "linear",
                    }
                )
                if result is not None:
                    saved.append(encode_saved_readings(i, *curve))
            self.compare_runs = info
            self.compare_saved = b"".join(saved)

    # ------------------------------------------------------------------ the front end
    def _on_msg(self, _widget: object, content: Any, _buffers: object) -> None:
        """A front end's command: checked here before anything touches an optimizer."""
        try:
            cmd = parse_compare_command(content, len(self._runs))
            if isinstance(cmd, CompareSelect):
                self._select(cmd.run, cmd.lr)
            elif isinstance(cmd, CompareApply):
                self.apply()
            else:
                self._replay()
        except (BadCommand, ValueError, RuntimeError) as e:
            self._bad += 1
            if self._bad <= 10:
                log.warning("compare view: refused a front end's command: %s", e)
            self.compare_error = str(e)[:300]

    def _replay(self) -> None:
        """Hello: the live runs' readings so far (the finished ones are in compare_saved)."""
        for i, run in enumerate(self._runs):
            if run.feed is None:
                continue
            running, (lrs, _, _) = run.feed.snapshot()
            if running:
                self.send({"type": "compare_run", "run": i})
                self._send_readings(i, 0, len(lrs))

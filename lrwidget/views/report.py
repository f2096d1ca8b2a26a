"""Static pictures of a range test: an SVG of the curve and a self-contained HTML report.

Used where no widget front end runs (GitHub, nbviewer, ``jupyter nbconvert``, plain IPython:
the widget's static fallback) and to keep a finished test as a file. Pure Python string
building, no matplotlib and nothing fetched from the network.

This module is the report's public face and builds the HTML page; the SVG is drawn in
:mod:`lrwidget.views.report_svg`, its geometry (:class:`Scale`, :func:`segments`, pure, tested
without drawing anything) is :mod:`lrwidget.views.report_geometry` and its words
(:func:`summary_line`) :mod:`lrwidget.views.report_text`. What the picture shares with the live
widget (palette, status words, number formats, ticks, axis ranges, marker placement) comes from
:mod:`lrwidget.pure.rules`, the rules the front end reads from the same ``rules.json``: the
static picture looks like the live one.

Example
-------
>>> import numpy as np
>>> from lrwidget.engine.history import RangeTestResult
>>> lrs = np.geomspace(1e-5, 1.0, 50)
>>> loss = 2 - np.exp(-((np.log10(lrs) + 2.5) ** 2)) + np.where(lrs > 0.1, 50 * lrs, 0)
>>> r = RangeTestResult(lrs, loss, loss, "completed", "exp", 1e-5, 1.0, 50, 1.0)
>>> svg = to_svg(r, selected_lr=3e-3)
>>> svg.startswith("<svg") and "learning rate" in svg
True
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ..pure.rules import format_loss, format_lr, palette, status_word
from .report_geometry import Scale, segments
from .report_schedule import preview_svg
from .report_svg import X_TICKS, to_svg
from .report_text import esc, suggestion_rows, summary_line

if TYPE_CHECKING:
    from ..engine.history import RangeTestResult

# format_lr is re-exported: callers of the report format the lrs it shows with it
__all__ = [
    "to_svg",
    "to_html",
    "save_html",
    "summary_line",
    "format_lr",
    "Scale",
    "segments",
    "X_TICKS",
    "preview_svg",
]

_NONE = "\u2014"  # a table cell with nothing to show

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       color: {fg}; background: {bg}; margin: 2rem auto; max-width: 800px;
       padding: 0 1rem; line-height: 1.45; }}
h1 {{ font-size: 1.35rem; margin-bottom: .2rem; }}
.chosen {{ font-size: 1.1rem; margin: .6rem 0 1rem; }}
.chosen b {{ color: {applied}; }}
table {{ border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }}
th, td {{ text-align: left; padding: .3rem .6rem; border-bottom: 1px solid {border};
         vertical-align: top; }}
th {{ color: {fgMuted}; font-weight: 500; width: 14rem; }}
td.num {{ font-variant-numeric: tabular-nums; white-space: nowrap; }}
tr.default td {{ font-weight: 600; }}
svg {{ max-width: 100%; height: auto; }}
footer {{ color: {fgMuted}; font-size: .85rem; }}
</style></head>
<body>
<h1>{title}</h1>
<p class="chosen">Chosen learning rate: <b>{chosen}</b></p>
<figure>{svg}</figure>
<h2>Suggestions</h2>
<table><thead><tr><th>Rule</th><th>lr</th><th>Why</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Readings</h2>
<table><tbody>{table}</tbody></table>
<footer>{footer}. Made by lrwidget.</footer>
</body></html>
"""


def to_html(
    result: RangeTestResult,
    selected_lr: float | None = None,
    applied_lr: float | None = None,
    title: str = "Learning-rate range test",
    dark: bool = False,
    brushed: tuple[float, float] | None = None,
    suggested: bool = False,
    preview: dict[str, Any] | None = None,
) -> str:
    """A self-contained HTML page: the curve (inline SVG), a readings summary, the suggestions
    with their reasons and the chosen lr. Opens offline (no scripts, fonts or images fetched).
    ``brushed`` / ``suggested``: a range drawn on the curve (:func:`to_svg`); ``preview``: a
    schedule's preview (a widget's ``preview`` trait) drawn under it.

    Example
    -------
    >>> import numpy as np
    >>> from lrwidget.engine.history import RangeTestResult
    >>> r = RangeTestResult(np.geomspace(1e-4, 1, 20), np.linspace(2, 1, 20),
    ...                     np.linspace(2, 1, 20), "completed", "exp", 1e-4, 1.0, 20, 0.2)
    >>> page = to_html(r, applied_lr=1e-2)
    >>> "<svg" in page and "http://" not in page.replace("http://www.w3.org", "")
    True
    """
    pal = palette(dark)
    colours = {k: pal[k] for k in ("fg", "bg", "applied", "border", "fgMuted")}
    return _PAGE.format(
        title=esc(title),
        chosen=esc(_chosen_text(result, selected_lr, applied_lr)),
        svg=to_svg(result, selected_lr, applied_lr, 760, 380, dark, brushed, suggested)
        + preview_svg(preview or {}, width=760, dark=dark),
        rows=_suggestions_table(result),
        table="".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in _readings(result)),
        footer=esc(summary_line(result, selected_lr, applied_lr)),
        **colours,
    )


def _chosen_text(
    result: RangeTestResult, selected_lr: float | None, applied_lr: float | None
) -> str:
    chosen = applied_lr if applied_lr is not None else selected_lr
    if chosen is None:
        return f"none chosen; the default suggestion is {format_lr(result.suggested_lr)}"
    return f"{format_lr(chosen)} ({'applied' if applied_lr is not None else 'selected'})"


def _suggestions_table(result: RangeTestResult) -> str:
    return "".join(
        f"<tr{' class=default' if r['default'] else ''}><td>{esc(r['name'])}"
        f"{' <small>(default)</small>' if r['default'] else ''}</td>"
        f"<td class=num>{esc(format_lr(r['lr']))}</td><td>{esc(r['reason'])}</td></tr>"
        for r in suggestion_rows(result)
    )


def _readings(result: RangeTestResult) -> list[tuple[str, str]]:
    """The readings table: (what, value) rows."""
    lrs, raw, sm = (
        np.asarray(a, dtype=np.float64) for a in (result.lrs, result.losses, result.smoothed)
    )
    fin = np.isfinite(sm)
    best_i = int(np.nanargmin(np.where(fin, sm, np.nan))) if fin.any() else None
    error = f" ({result.error})" if result.error else ""
    return [
        ("Status", status_word(result.stop_reason) + error),
        ("Readings", f"{len(result)} of {result.num_iter}"),
        (
            "Sweep",
            f"{format_lr(result.start_lr)} \u2192 {format_lr(result.end_lr)} ({result.step_mode})",
        ),
        (
            "Tested lr range",
            f"{format_lr(lrs.min())} \u2192 {format_lr(lrs.max())}" if len(lrs) else _NONE,
        ),
        (
            "Loss (raw) first / last",
            f"{format_loss(raw[0])} / {format_loss(raw[-1])}" if len(raw) else _NONE,
        ),
        (
            "Lowest smoothed loss",
            f"{format_loss(sm[best_i])} at lr={format_lr(lrs[best_i])}"
            if best_i is not None
            else _NONE,
        ),
        ("Non-finite losses", str(int((~np.isfinite(raw)).sum()))),
        ("Elapsed", f"{result.elapsed:.2f} s"),
    ]


def save_html(
    result: RangeTestResult,
    path: str | os.PathLike[str],
    selected_lr: float | None = None,
    applied_lr: float | None = None,
    **kwargs: Any,
) -> str:
    """Write :func:`to_html` to ``path`` (UTF-8); returns the path written.

    ``kwargs`` are :func:`to_html`'s ``title`` and ``dark``.

    Example
    -------
    >>> import numpy as np, tempfile, os
    >>> from lrwidget.engine.history import RangeTestResult
    >>> r = RangeTestResult(np.geomspace(1e-4, 1, 5), np.ones(5), np.ones(5), "completed",
    ...                     "exp", 1e-4, 1.0, 5, 0.1)
    >>> p = save_html(r, os.path.join(tempfile.mkdtemp(), "r.html"))
    >>> open(p, encoding="utf-8").read().startswith("<!DOCTYPE html>")
    True
    """
    path = os.fspath(path)
    page = to_html(result, selected_lr, applied_lr, **kwargs)
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path

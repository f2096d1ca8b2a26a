"""The words of a static picture and report: the summary line, the suggestion rows, escaping.

Shared by the SVG (its title and accessible label), the HTML report (its tables and footer) and
the widget's static fallback (its ``text/plain``). Pure string building.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, TypedDict

from ..pure.rules import format_lr, status_word
from ..pure.suggest import DEFAULT

if TYPE_CHECKING:
    from ..engine.history import RangeTestResult

__all__ = ["summary_line", "suggestion_rows", "SuggestionRow", "esc", "title_line"]


class SuggestionRow(TypedDict):
    """One suggestion as the picture and the report show it."""

    name: str
    lr: float | None
    index: int | None
    reason: str
    default: bool


def suggestion_rows(result: RangeTestResult) -> list[SuggestionRow]:
    """The result's suggestions in order (the default rule marked)."""
    return [
        SuggestionRow(name=name, lr=s.lr, index=s.index, reason=s.reason, default=name == DEFAULT)
        for name, s in (result.suggestions or {}).items()
    ]


def summary_line(
    result: RangeTestResult | None,
    selected_lr: float | None = None,
    applied_lr: float | None = None,
) -> str:
    """One line: status, readings, suggested lr (and the chosen one).

    >>> import numpy as np
    >>> from lrwidget.engine.history import RangeTestResult
    >>> r = RangeTestResult(np.array([1e-3, 1e-2]), np.array([2.0, 1.0]), np.array([2.0, 1.5]),
    ...                     "stopped", "exp", 1e-3, 1e-2, 10, 0.5)
    >>> summary_line(r, applied_lr=1e-3).startswith("LR range test stopped: 2/10 readings")
    True
    """
    if result is None:
        return "LR range test: no run yet"
    parts = [
        f"LR range test {status_word(result.stop_reason)}: "
        f"{len(result)}/{result.num_iter} readings in {result.elapsed:.1f} s"
    ]
    if result.stop_reason == "diverged" and len(result):
        parts.append(f"diverged at lr={format_lr(result.lrs[-1])}")
    s = result.suggestions
    if s:
        name, first = next(iter(s.items()))
        parts.append(
            f"suggested lr={format_lr(first.lr)} ({name})"
            if first.lr is not None
            else f"no suggestion ({name}: {first.reason})"
        )
    if selected_lr is not None:
        parts.append(f"selected {format_lr(selected_lr)}")
    if applied_lr is not None:
        parts.append(f"applied {format_lr(applied_lr)}")
    if result.stop_reason == "error" and getattr(result, "error", None):
        parts.append(f"error: {result.error}")
    return "; ".join(parts)


def title_line(result: RangeTestResult) -> str:
    """The picture's title: status and readings."""
    st = status_word(result.stop_reason)
    return f"LR range test \u00b7 {st} \u00b7 {len(result)}/{result.num_iter} readings"


def esc(s: object) -> str:
    """``s`` as text for HTML / SVG (attribute-safe)."""
    return html.escape(str(s), quote=True)

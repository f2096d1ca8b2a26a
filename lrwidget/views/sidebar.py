"""Show a widget in JupyterLab's right sidebar (through ``sidecar``), and inline where it cannot be.

``sidecar`` puts an output area in JupyterLab's right panel. Notebook 7 and VS Code show nothing
for it, and the code cannot tell which front end will render it, so :func:`show_in_sidebar`
shows the widget in both places and lets the views sort it out: each view reports where it
rendered (the ``placement`` message, DESIGN.md), the widget counts the visible sidebar views
(``sidebar_views``) and an inline view folds to a one-line note while that count is above 0.
In Notebook 7 no view ever reports "sidebar", so the inline one stays whole.

The sidebar gets the widget's view with no display id on purpose: the widget refreshes its
own displays when a run ends (for the static fallback saved in the notebook) and a refreshed
sidecar output would tear down and rebuild the sidebar view under the user's pointer.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ipywidgets
    from sidecar import Sidecar

__all__ = ["show_in_sidebar", "ANCHORS"]

#: where sidecar can put its panel ("right": the right sidebar; the others split the main area)
ANCHORS = (
    "right",
    "split-right",
    "split-left",
    "split-top",
    "split-bottom",
    "tab-before",
    "tab-after",
)


def _view_output(widget: ipywidgets.DOMWidget) -> dict[str, Any]:
    """One ``display_data`` output holding just the widget's view (no display id)."""
    return {
        "output_type": "display_data",
        "data": {
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2,
                "version_minor": 0,
                "model_id": widget.model_id,
            },
            "text/plain": repr(widget) if not hasattr(widget, "summary") else widget.summary(),
        },
        "metadata": {},
    }


def show_in_sidebar(
    widget: ipywidgets.DOMWidget,
    title: str = "LR finder",
    anchor: str = "right",
    *,
    inline: bool = True,
) -> Sidecar | None:
    """Show ``widget`` in JupyterLab's right sidebar, and inline where a sidebar cannot show it.

    In JupyterLab the inline view folds to a one-line note ("shown in the right sidebar", with
    a *Show here* button) while the sidebar view is visible, and unfolds when the sidebar panel
    is closed or collapsed. In Notebook 7, VS Code and other front ends without sidecar the
    inline view is the whole widget.

    Parameters
    ----------
    widget : ipywidgets.DOMWidget
        Usually an :class:`~lrwidget.LRFinderWidget` (other widgets are shown in both places,
        without folding).
    title : str
        The sidebar tab's title.
    anchor : str
        One of :data:`ANCHORS`; "right" is the right sidebar, the others place the panel in
        the main area (as sidecar does).
    inline : bool
        Also display the widget in the cell's output (the fallback). False shows it in the
        sidebar only.

    Returns
    -------
    sidecar.Sidecar or None
        The sidebar panel (``.close()`` removes it); None when ``sidecar`` is not installed
        (the widget is then shown inline only, with a warning).

    Raises
    ------
    TypeError
        ``widget`` is not an ipywidgets widget, or ``title`` not a str.
    ValueError
        ``anchor`` is not one of :data:`ANCHORS`.

    Example
    -------
    >>> import torch; from torch import nn
    >>> from lrwidget import LRFinder, LRFinderWidget, show_in_sidebar
    >>> m = nn.Linear(4, 3); opt = torch.optim.SGD(m.parameters(), lr=1e-4)
    >>> w = LRFinderWidget(LRFinder(m, opt, nn.CrossEntropyLoss()))
    >>> panel = show_in_sidebar(w, title="LR finder")  # doctest: +SKIP
    >>> panel = show_in_sidebar(w, title="LR finder", inline=False)  # sidebar only
    >>> panel.title, panel.anchor, panel.outputs[0]["data"][
    ...     "application/vnd.jupyter.widget-view+json"]["model_id"] == w.model_id
    ('LR finder', 'right', True)
    >>> panel.close(); w.close()
    """
    import ipywidgets

    if not isinstance(widget, ipywidgets.DOMWidget):
        raise TypeError(
            f"widget must be an ipywidgets DOMWidget (e.g. an LRFinderWidget), got "
            f"{type(widget).__name__}"
        )
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    if anchor not in ANCHORS:
        raise ValueError(f"anchor must be one of {', '.join(map(repr, ANCHORS))}, got {anchor!r}")
    if not isinstance(inline, bool):
        raise TypeError(f"inline must be a bool, got {type(inline).__name__}")
    try:
        from sidecar import Sidecar
    except ImportError:
        Sidecar = None
        warnings.warn(
            "show_in_sidebar: the `sidecar` package is not installed (pip install "
            "sidecar); showing the widget inline only",
            stacklevel=2,
        )

    panel: Any = None  # a sidecar.Sidecar (untyped) or None
    if Sidecar is not None:
        panel = Sidecar(title=title, anchor=anchor)
        panel.outputs = (_view_output(widget),)
        if inline and widget.has_trait("sidebar_fallback"):
            _set(widget, "sidebar_fallback", True)
    if inline or panel is None:
        from IPython.display import display

        display(widget)
    return panel


def _set(widget: ipywidgets.DOMWidget, name: str, value: object) -> None:
    # LRFinderWidget writes its traits from one thread only (see lrwidget.views.widget)
    call = getattr(widget, "call_on_writer", None)
    if callable(call):
        call(lambda: setattr(widget, name, value))
    else:
        setattr(widget, name, value)

"""The view state: every trait the widget syncs to its views, with its type and default.

One list. :class:`ViewState` declares the traits (the widget inherits them, nothing else
declares a synced trait), :data:`VIEW_STATE_NAMES` is that list by name (what the bqplot view,
the report and the JS side read; ``tests/test_view_state.py`` checks js/ against it), and
``js/view/view_state.js`` holds the JSDoc typedef of the same fields.

Example
-------
>>> from lrwidget.views.view_state import VIEW_STATE_NAMES, view_state_defaults
>>> VIEW_STATE_NAMES[:3]
('status', 'step', 'num_iter')
>>> view_state_defaults()["step_mode"]
'exp'
"""

from __future__ import annotations

import uuid
from typing import Any

import traitlets

from ..pure.rules import PLOT_HEIGHT, SCHEDULE, SCHEDULE_KINDS, check_height

__all__ = ["ViewState", "VIEW_STATE_NAMES", "view_state_defaults"]


def _range() -> Any:
    """A synced (lo, hi) of floats, or None."""
    ends = (traitlets.Float(), traitlets.Float())
    return traitlets.Tuple(*ends, default_value=None, allow_none=True).tag(sync=True)


class ViewState(traitlets.HasTraits):
    """The synced traits of :class:`~lrwidget.views.widget.LRFinderWidget` (see its docstring)."""

    status = traitlets.Unicode("idle").tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    num_iter = traitlets.Int(0).tag(sync=True)
    elapsed = traitlets.Float(0.0).tag(sync=True)
    eta = traitlets.Float(None, allow_none=True).tag(sync=True)
    start_lr = traitlets.Float(None, allow_none=True).tag(sync=True)
    end_lr = traitlets.Float(None, allow_none=True).tag(sync=True)
    step_mode = traitlets.Unicode("exp").tag(sync=True)
    diverged_lr = traitlets.Float(None, allow_none=True).tag(sync=True)
    suggestions: traitlets.List[Any] = traitlets.List([]).tag(sync=True)
    selected_lr = traitlets.Float(None, allow_none=True).tag(sync=True)
    applied_lr = traitlets.Float(None, allow_none=True).tag(sync=True)
    pending_apply = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    #: the last finished run's readings for a view with no kernel behind it (a saved notebook):
    #: :func:`lrwidget.channel.protocol.encode_saved_readings`; written once when a run ends
    saved_readings = traitlets.Bytes(b"").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    #: what an empty plot says instead of how to start a run ("" for a local finder; the listen()
    #: widget says how a job connects): set when the widget is made
    hint = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Int(PLOT_HEIGHT["default"]).tag(sync=True)
    #: views that report being in the (visible) right sidebar; see :func:`lrwidget.show_in_sidebar`
    sidebar_views = traitlets.Int(0).tag(sync=True)
    #: set by show_in_sidebar: inline views fold to a note while ``sidebar_views > 0``
    sidebar_fallback = traitlets.Bool(False).tag(sync=True)
    # ---- the range and its schedule (issue 19; lrwidget/views/schedule_feed.py)
    #: the brushed range (lo, hi): two tested lrs, or None
    selected_range = _range()
    #: the range a schedule uses when none is brushed (pure.ranges.suggest_range of the last run)
    suggested_range = _range()
    #: the picker's kind and the steps field (what the preview shows)
    schedule_kind = traitlets.Unicode(next(iter(SCHEDULE_KINDS))).tag(sync=True)
    total_steps = traitlets.Int(int(SCHEDULE["defaultTotalSteps"])).tag(sync=True)
    #: the preview: {"kind", "lo", "hi", "total_steps", "steps": [...], "lrs": [...]} ({}: none)
    preview: traitlets.Dict[str, Any] = traitlets.Dict(default_value={}).tag(sync=True)
    #: what Apply schedule attached: {"kind", "lo", "hi", "total_steps", "max_lrs"}, or None
    schedule_applied: traitlets.Dict[str, Any] = traitlets.Dict(
        default_value=None, allow_none=True
    ).tag(sync=True)
    #: why the views' last schedule command was refused ("": it was not)
    schedule_error = traitlets.Unicode("").tag(sync=True)
    #: this widget's name among the page's views (a view rendered anew takes the focus back from
    #: the one it replaces: js/view/focus_carry.js); each widget its own, set once
    view_key = traitlets.Unicode("").tag(sync=True)

    @traitlets.default("view_key")
    def _new_view_key(self) -> str:
        return uuid.uuid4().hex

    @traitlets.validate("height")
    def _check_height(self, proposal: dict[str, Any]) -> int:
        return check_height(proposal["value"])


#: the synced traits by name, in declaration order
VIEW_STATE_NAMES: tuple[str, ...] = tuple(
    name for name in vars(ViewState) if isinstance(vars(ViewState)[name], traitlets.TraitType)
)


def view_state_defaults() -> dict[str, Any]:
    """Each synced trait's default value, by name (what a fresh widget's views start from)."""
    traits = ViewState.class_traits()
    return {name: traits[name].default() for name in VIEW_STATE_NAMES}

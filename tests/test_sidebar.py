"""show_in_sidebar and the placement bookkeeping, without a browser: a real LRFinderWidget, a real
sidecar.Sidecar and IPython's own display capture; placement messages go in through the comm's
path (``_handle_msg``). The browser side (where views really render) is in tests/browser/."""

from __future__ import annotations

import threading

import pytest
import torch
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from torch import nn

import lrwidget
from lrwidget import LRFinder, LRFinderWidget, show_in_sidebar
from lrwidget.views.sidebar import ANCHORS

VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def comm_msg(widget, content):
    widget._handle_msg(
        {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
    )


@pytest.fixture
def widget():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)
    w = LRFinderWidget(LRFinder(model, opt, nn.CrossEntropyLoss()), title="t")
    yield w
    w.close()


@pytest.fixture
def shell():
    return InteractiveShell.instance()  # display() then goes through a real display publisher


def test_exported_lazily():
    assert "show_in_sidebar" in lrwidget.__all__ and "show_in_sidebar" in dir(lrwidget)
    assert lrwidget.show_in_sidebar is show_in_sidebar


def test_sidebar_gets_the_view_without_display_id_and_the_cell_gets_the_widget(widget, shell):
    with capture_output() as cap:
        panel = show_in_sidebar(widget, title="LR finder", anchor="split-right")
    try:
        assert type(panel).__name__ == "Sidecar"
        assert panel.title == "LR finder" and panel.anchor == "split-right"
        (out,) = panel.outputs
        assert out["output_type"] == "display_data"
        assert out["data"][VIEW_MIME]["model_id"] == widget.model_id
        # no display id: the widget's end-of-run display refresh must not rebuild the sidebar view
        assert "transient" not in out and "display_id" not in str(out)
        assert widget.sidebar_fallback is True
        # the inline fallback: the widget's own bundle (view + static fallback) in the cell
        (inline,) = cap.outputs
        assert inline.data[VIEW_MIME]["model_id"] == widget.model_id
        assert "text/plain" in inline.data
    finally:
        panel.close()


def test_inline_false_shows_only_the_sidebar(widget, shell):
    with capture_output() as cap:
        panel = show_in_sidebar(widget, inline=False)
    try:
        assert cap.outputs == []
        assert widget.sidebar_fallback is False  # nothing inline to fold
        assert panel.outputs[0]["data"][VIEW_MIME]["model_id"] == widget.model_id
    finally:
        panel.close()


@pytest.mark.parametrize(
    "args, kwargs, exc, words",
    [
        (("not a widget",), {}, TypeError, "widget must be an ipywidgets DOMWidget"),
        ((None,), {}, TypeError, "widget must be"),
        ((), {"title": 3}, TypeError, "title must be a str"),
        ((), {"anchor": "left"}, ValueError, "anchor must be one of 'right'"),
        ((), {"inline": "yes"}, TypeError, "inline must be a bool"),
    ],
)
def test_bad_arguments(widget, shell, args, kwargs, exc, words):
    with capture_output() as cap:
        with pytest.raises(exc, match=words):
            show_in_sidebar(*(args or (widget,)), **kwargs)
    assert cap.outputs == [] and widget.sidebar_fallback is False


def test_every_sidecar_anchor_is_accepted(widget, shell):
    for anchor in ANCHORS:
        panel = show_in_sidebar(widget, anchor=anchor, inline=False)
        assert panel.anchor == anchor
        panel.close()


def test_placements_count_visible_sidebar_views(widget):
    def count_after(*msgs):
        for view, where in msgs:
            comm_msg(widget, {"type": "placement", "where": where, "view": view})
        widget.wait()  # the writer handled everything queued before
        return widget.sidebar_views

    assert widget.sidebar_views == 0
    assert count_after(("inline1", "inline")) == 0
    assert count_after(("side1", "sidebar")) == 1
    assert count_after(("side1", "sidebar")) == 1  # a repeated report is one view
    assert count_after(("side2", "sidebar")) == 2
    assert count_after(("side1", "hidden")) == 1  # panel collapsed: not visible, not counted
    assert count_after(("side2", "gone")) == 0
    assert count_after(("side1", "sidebar")) == 1  # panel shown again
    assert count_after(("side1", "gone"), ("inline1", "gone")) == 0
    assert count_after(("never-seen", "gone")) == 0


@pytest.mark.parametrize(
    "content",
    [
        {"type": "placement", "where": "floating", "view": "v1"},
        {"type": "placement", "where": "sidebar"},
        {"type": "placement", "where": "sidebar", "view": ""},
        {"type": "placement", "where": "sidebar", "view": 12},
        {"type": "placement", "where": "sidebar", "view": "x" * 65},
    ],
)
def test_malformed_placements_are_ignored(widget, caplog, content):
    with caplog.at_level("WARNING", logger="lrwidget"):
        comm_msg(widget, content)
        widget.wait()
    assert widget.sidebar_views == 0
    assert "placement: view must be" in caplog.text


def test_placement_traits_are_synced(widget):
    state = widget.get_state()
    assert state["sidebar_views"] == 0 and state["sidebar_fallback"] is False


def test_the_fallback_trait_is_written_on_the_widget_writer_thread(widget, shell):
    # the writer thread alone writes a widget's traits: show_in_sidebar goes through the widget's
    # public call_on_writer, not around it
    # by name: the writer thread may end when idle and a new one start
    writer = widget.call_on_writer(lambda: threading.current_thread().name)
    seen = []
    widget.observe(lambda _ch: seen.append(threading.current_thread().name), "sidebar_fallback")
    with capture_output():
        panel = show_in_sidebar(widget)
    try:
        assert widget.sidebar_fallback is True and seen == [writer]
        assert writer != threading.current_thread().name
    finally:
        panel.close()

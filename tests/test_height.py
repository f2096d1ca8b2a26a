"""The plot's height is bounded (rules.json ``plotHeight``) in every view's constructor: a
``height=10**9`` would make a plot box of a billion pixels (the front end clamps too, as saved
state is hostile: js/tests/view_selection.test.js)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import lrwidget
from lrwidget import LRFinder, LRFinderWidget
from lrwidget.pure.rules import PLOT_HEIGHT, check_height


def test_the_bounds_are_the_shared_rule():
    assert PLOT_HEIGHT == {"min": 160, "max": 2000, "default": 320}
    assert check_height(160) == 160 and check_height(2000) == 2000
    # a numpy int counts (lrwidget.pure.numbers) and comes back as the int a trait holds
    got = check_height(np.int64(400))
    assert got == 400 and type(got) is int


@pytest.mark.parametrize("height", [10**9, 2001, 159, -1, True, 320.0, "320", None])
def test_every_view_refuses_a_height_out_of_range_naming_it(mlp, height):
    finder = LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=1e-3), nn.CrossEntropyLoss())
    makers = [lambda: LRFinderWidget(finder, height=height)]
    try:
        import bqplot  # noqa: F401

        makers.append(lambda: lrwidget.BqplotView(finder, height=height))
    except ImportError:
        pass
    try:
        import zmq  # noqa: F401

        makers.append(lambda: lrwidget.listen(display=False, height=height))
    except ImportError:
        pass
    for make in makers:
        with pytest.raises(ValueError, match=r"height must be an int from 160 to 2000 \(pixels\)"):
            make()
    with pytest.raises(ValueError, match="height must be"):
        lrwidget.find_lr(mlp, finder.optimizer, [], height=height, display=False)


def test_a_later_assignment_is_checked_too(mlp):
    w = LRFinderWidget(LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=1e-3)), height=2000)
    try:
        with pytest.raises(ValueError, match="height must be an int from 160 to 2000"):
            w.height = 10**9
        assert w.height == 2000
    finally:
        w.close()


def test_a_refused_listen_leaves_nothing_for_the_garbage_collector():
    # ipywidgets' __del__ closes a widget whose constructor raised: RemoteWidget.close() must
    # not fail on what __init__ never set (it did: AttributeError '_off_watch', CI stop 23)
    pytest.importorskip("zmq")
    import gc
    import sys

    seen = []
    old, sys.unraisablehook = sys.unraisablehook, seen.append
    try:
        with pytest.raises(ValueError, match="height must be"):
            lrwidget.listen(display=False, height=10**9)
        gc.collect()
    finally:
        sys.unraisablehook = old
    assert [str(u.exc_value) for u in seen] == []

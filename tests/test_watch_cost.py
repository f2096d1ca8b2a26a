"""What keeps ``watch()`` cheap (issue 18: <= 1.03 over the bare loop) without changing a value.

The post-step hook is on the optimizer only for the step whose update/weight ratio is measured;
the ring's snapshot size is walked again only when a size may have changed, and is then always
:func:`state_bytes`'s.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lrwidget import LRFinder
from lrwidget.engine import watch_ring
from lrwidget.engine.watch_ring import StateSize, state_bytes
from tests.digits import digits_tensors


def test_the_post_step_hook_is_there_only_for_the_measured_step():
    X, y = digits_tensors()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    crit = nn.CrossEntropyLoss()
    during: list[int] = []
    opt.register_step_post_hook(lambda o, a, k: during.append(len(o._optimizer_step_post_hooks)))
    with LRFinder(model, opt, crit).watch(every=8, progress=False) as watch:
        for i in range(40):
            loss = crit(model(X[i * 32 : i * 32 + 32]), y[i * 32 : i * 32 + 32])
            loss.backward()
            opt.step()
            opt.zero_grad()
            watch.record(loss)
            assert len(opt._optimizer_step_post_hooks) == 1, i  # only the test's own, between steps
            if i % 8 == 7:
                assert math.isfinite(watch.ratios["0"]), i  # still measured on each chunk
    # the watch's hook was there for steps 8, 16, ...: the 8th of each chunk, and gone after it
    assert during == [2 if i % 8 == 7 else 1 for i in range(40)]
    assert len(opt._optimizer_step_post_hooks) == 1 and not opt._optimizer_step_pre_hooks


def test_the_snapshot_size_is_state_bytes_and_walked_only_when_a_size_may_change(monkeypatch):
    walks = []
    real = watch_ring.state_bytes
    monkeypatch.setattr(watch_ring, "state_bytes", lambda *a: walks.append(1) or real(*a))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    size = StateSize(model, opt)
    x = torch.randn(4, 8)

    def same(walked):
        n = len(walks)
        got = size()
        assert got == real(model, opt)
        assert len(walks) - n == walked

    same(1)  # the first time
    same(0)  # nothing changed
    model(x).sum().backward()
    same(1)  # grads came
    opt.step()
    same(1)  # Adam's moments came
    same(0)
    opt.zero_grad()
    same(1)  # grads went
    extra = nn.Parameter(torch.zeros(5))
    opt.add_param_group({"params": [extra]})
    same(1)  # a tensor the optimizer trains that no module owns
    assert size() == state_bytes(model, opt) > 0

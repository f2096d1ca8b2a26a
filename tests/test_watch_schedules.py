"""scale_lr under schedules that recompute the lr from their base at every step: every later lr
is factor x the schedule's, exactly (rel 1e-9) for 100 steps, against the same schedule built
by hand at the scaled base. The lrs compared are those the optimizer used (the watch's chunks).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lrwidget import LRFinder
from lrwidget.engine.watch_events import Chunk
from tests.digits import digits_sgd

LR = 0.05
BEFORE, AFTER, FACTOR = 20, 100, 0.1

SCHEDULES = {
    "lambda": lambda opt, k: torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 10) * 0.99**s
    ),
    "one_cycle": lambda opt, k: torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=LR * k, total_steps=BEFORE + AFTER + 5
    ),
    "cyclic": lambda opt, k: torch.optim.lr_scheduler.CyclicLR(
        opt, base_lr=LR * k / 10, max_lr=LR * k, step_size_up=15, mode="triangular2"
    ),
    "cosine": lambda opt, k: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30),
}


def reference(kind, k=FACTOR, lo=BEFORE, hi=BEFORE + AFTER):
    """The lrs the schedule gives at steps lo .. hi, built by hand at k x LR."""
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=LR * k, momentum=0.9)
    sched = SCHEDULES[kind](opt, k)
    out = []
    for step in range(hi):
        if step >= lo:
            out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_an_action_scales_every_later_lr_of_the_schedule_exactly(kind):
    model, opt, loader = digits_sgd()
    for g in opt.param_groups:
        g["lr"] = LR
    sched = SCHEDULES[kind](opt, 1.0)
    crit = nn.CrossEntropyLoss()
    got = []
    batches = iter(list(loader) * 5)
    with LRFinder(model, opt, crit).watch(sched, progress=False) as watch:
        watch.listen(got.append)
        for step in range(BEFORE + AFTER):
            if step == BEFORE:
                watch.scale_lr(FACTOR)  # the training thread, between two steps: at once
            x, y = next(batches)
            loss = crit(model(x), y)
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            watch.record(loss)
    used = np.concatenate([c.lrs[:, 0] for c in got if isinstance(c, Chunk)])
    assert used.shape == (BEFORE + AFTER,)
    np.testing.assert_allclose(used[BEFORE:], reference(kind), rtol=1e-9, atol=0)
    # the steps before the action ran the schedule as built
    np.testing.assert_allclose(used[:BEFORE], reference(kind, 1.0, 0, BEFORE), rtol=1e-12)

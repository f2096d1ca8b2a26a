"""The learning-rate-free optimizers as citizens (issue 21): schedule-free optimizers in any mode,
Prodigy's lr as a multiplier of its d. The real packages (the dev extra), no stand-ins."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from torch import nn

from lrwidget import LRFinder
from lrwidget.engine.watch_events import Chunk
from tests.digits import digits_sgd

schedulefree = pytest.importorskip("schedulefree")
prodigyopt = pytest.importorskip("prodigyopt")

SCHEDULE_FREE = {
    "adamw": lambda ps: schedulefree.AdamWScheduleFree(ps, lr=1e-3, weight_decay=0.01),
    "sgd": lambda ps: schedulefree.SGDScheduleFree(ps, lr=0.1),
}


def _steps(model, opt, loader, n):
    for x, y in itertools.islice(itertools.cycle(loader), n):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


def _modes(opt):
    return [g["train_mode"] for g in opt.param_groups]


@pytest.mark.parametrize("kind", SCHEDULE_FREE)
@pytest.mark.parametrize("trained", [False, True], ids=["fresh", "trained"])
def test_range_test_on_a_schedule_free_optimizer_in_eval_mode_runs_and_restores_mode_and_weights(
    kind, trained, full_state, assert_same_state
):
    model, _, loader = digits_sgd()
    opt = SCHEDULE_FREE[kind](model.parameters())
    if trained:  # state exists and eval() swapped the weights for the averaged ones
        opt.train()
        _steps(model, opt, loader, 5)
        opt.eval()
    before = full_state(model, opt)
    r = LRFinder(model, opt, nn.CrossEntropyLoss()).range_test(
        loader, start_lr=1e-5, end_lr=1.0, num_iter=20, diverge_th=1e9, progress=False
    )
    assert r.error is None and len(r) == 20 and np.isfinite(r.losses).all()
    assert _modes(opt) == [False]
    assert_same_state(full_state(model, opt), before)


def test_a_schedule_free_optimizer_in_train_mode_stays_in_it_bit_for_bit(
    full_state, assert_same_state
):
    model, _, loader = digits_sgd()
    opt = SCHEDULE_FREE["adamw"](model.parameters())
    opt.train()
    _steps(model, opt, loader, 3)
    before = full_state(model, opt)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    finder.range_test(loader, end_lr=1.0, num_iter=10, diverge_th=1e9, progress=False)
    assert _modes(opt) == [True]
    assert_same_state(full_state(model, opt), before)


def test_track_on_a_schedule_free_optimizer_in_eval_mode_steps_and_restores(
    full_state, assert_same_state
):
    model, _, loader = digits_sgd()
    opt = SCHEDULE_FREE["sgd"](model.parameters())
    before = full_state(model, opt)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    with finder.track(start_lr=1e-4, end_lr=1.0, num_iter=10, progress=False) as run:
        for _, (x, y) in zip(run, itertools.cycle(loader)):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()  # the user's own step: raises outside train mode
            run.record(loss)
    assert len(run.result) == 10 and _modes(opt) == [False]
    assert_same_state(full_state(model, opt), before)


def _prodigy(**kw):
    model, _, loader = digits_sgd()
    return model, prodigyopt.Prodigy(model.parameters(), **kw), loader


def test_a_range_test_on_prodigy_warns_that_its_lr_multiplies_d():
    model, opt, loader = _prodigy()
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    with pytest.warns(UserWarning, match=r"Prodigy's lr multiplies the step size d .*lr=1.0"):
        finder.range_test(loader, end_lr=10.0, num_iter=5, progress=False)


def test_a_plain_optimizer_gets_no_lr_note(recwarn):
    model, opt, loader = digits_sgd()
    LRFinder(model, opt, nn.CrossEntropyLoss()).range_test(loader, num_iter=5, progress=False)
    assert not [w for w in recwarn if "multiplies" in str(w.message)]


def test_a_watched_prodigy_run_draws_d_times_lr_each_step():
    model, opt, loader = _prodigy(lr=0.5)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    chunks, expected = [], []
    with finder.watch(every=8, progress=False) as watch:
        watch.listen(lambda e: chunks.append(e) if isinstance(e, Chunk) else None)
        for x, y in itertools.islice(itertools.cycle(loader), 24):
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            expected.append(opt.param_groups[0]["d"] * 0.5)  # the d this step runs with
            opt.step()
            opt.zero_grad()
            watch.record(loss)
    drawn = np.concatenate([c.lrs[:, 0] for c in chunks])
    np.testing.assert_array_equal(drawn, expected)
    assert expected[-1] > 10 * expected[0]  # d grew: lr alone (0.5) would be a flat line

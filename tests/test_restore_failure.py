"""A restore that fails is an error, never a silent success, and can be retried.

Two real ways the end-of-run restore fails: the step registers a new buffer on the model (the
saved state dict no longer matches it) and the snapshot file is deleted during the run
(``memory_cache=False``).
"""

import pytest
import torch
from torch import nn

from lrwidget import LRFinder
from lrwidget.engine.stream import RunEnded


@pytest.fixture
def setup(mlp, digits_loader):
    opt = torch.optim.Adam(mlp.parameters(), lr=1e-4)
    it = iter(digits_loader)
    for _ in range(2):  # Adam state exists before the test
        x, y = next(it)
        opt.zero_grad()
        nn.functional.cross_entropy(mlp(x), y).backward()
        opt.step()
    return mlp, opt


def _causes(e):
    while e is not None:
        yield e
        e = e.__cause__


def _registers_a_buffer(model, batch):
    if not hasattr(model, "added_during_the_run"):
        model.register_buffer("added_during_the_run", torch.zeros(3))
    return nn.functional.cross_entropy(model(batch[0]), batch[1])


def test_a_restore_that_raises_ends_the_run_as_an_error_and_can_be_retried(
    setup, digits_loader, full_state, assert_same_state
):
    model, opt = setup
    before = full_state(model, opt)
    finder = LRFinder(model, opt)
    events = []
    finder.subscribe(events.append)
    with pytest.raises(RuntimeError, match="NOT restored") as info:
        finder.range_test(
            digits_loader, start_lr=1e-4, end_lr=1e-1, num_iter=6, step_fn=_registers_a_buffer
        )
    msg = str(info.value)
    assert "finder.restore()" in msg and "added_during_the_run" in msg  # what to do, and why
    assert info.value.__cause__ is not None  # chained from the restore's own error
    r = finder.result
    assert r.stop_reason == "error" and "NOT restored" in r.error and len(r) == 6
    assert isinstance(events[-1], RunEnded) and events[-1].stop_reason == "error"
    assert events[-1].error == r.error
    assert not finder.running
    # a new test is refused while the model is not restored, pointing to finder.restore()
    with pytest.raises(RuntimeError, match=r"finder\.restore\(\)"):
        finder.range_test(digits_loader, end_lr=1e-2, num_iter=3, step_fn=_registers_a_buffer)
    with pytest.raises(RuntimeError, match=r"finder\.restore\(\)"):
        finder.check_range_test_args(digits_loader, end_lr=1e-2, num_iter=3)
    with pytest.raises(RuntimeError, match=r"finder\.restore\(\)"):
        finder.track(end_lr=1e-2, num_iter=3)
    # retry: the snapshot was kept; fix the cause, restore, bit for bit
    with pytest.raises(RuntimeError, match="NOT restored"):
        finder.restore()  # the cause is still there: still an error, still retryable
    del model._buffers["added_during_the_run"]
    assert finder.restore() is True
    assert_same_state(full_state(model, opt), before)
    assert finder.restore() is False  # nothing pending any more
    r2 = finder.range_test(
        digits_loader,
        start_lr=1e-4,
        end_lr=1e-2,
        num_iter=3,
        step_fn=lambda m, b: nn.functional.cross_entropy(m(b[0]), b[1]),
    )
    assert r2.stop_reason == "completed"
    assert_same_state(full_state(model, opt), before)


def test_a_deleted_snapshot_file_is_reported_and_can_be_given_up(
    setup, digits_loader, tmp_path, full_state, assert_same_state
):
    model, opt = setup
    finder = LRFinder(model, opt, nn.CrossEntropyLoss(), memory_cache=False, cache_dir=tmp_path)
    calls = {"n": 0}

    def step(m, batch):
        calls["n"] += 1
        if calls["n"] == 2:
            for p in tmp_path.iterdir():
                p.unlink()
        return nn.functional.cross_entropy(m(batch[0]), batch[1])

    with pytest.raises(RuntimeError, match="NOT restored") as info:
        finder.range_test(digits_loader, start_lr=1e-4, end_lr=1e-1, num_iter=5, step_fn=step)
    assert any(isinstance(c, FileNotFoundError) for c in _causes(info.value))
    assert finder.result.stop_reason == "error" and "NOT restored" in finder.result.error
    with pytest.raises(RuntimeError, match="NOT restored"):
        finder.restore()  # the file is gone: it cannot succeed
    with pytest.raises(RuntimeError, match=r"finder\.restore\(\)"):
        finder.range_test(digits_loader, end_lr=1e-2, num_iter=3)
    assert finder.restore(discard=True) is False  # accept the model as it is now
    now = full_state(model, opt)
    r = finder.range_test(digits_loader, start_lr=1e-4, end_lr=1e-2, num_iter=3)
    assert r.stop_reason == "completed"
    assert_same_state(full_state(model, opt), now)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_restore_after_a_failing_step_keeps_both_reasons(setup, digits_loader):
    model, opt = setup
    finder = LRFinder(model, opt)

    def step(m, batch):
        _registers_a_buffer(m, batch)
        raise ValueError("the user's bug")

    with pytest.raises(RuntimeError, match="NOT restored") as info:
        finder.range_test(digits_loader, end_lr=1e-2, num_iter=5, step_fn=step)
    assert "the user's bug" in str(info.value) and "the user's bug" in finder.result.error
    del model._buffers["added_during_the_run"]
    assert finder.restore() is True


def test_track_reports_a_failed_restore_too(setup, digits_loader, full_state, assert_same_state):
    model, opt = setup
    before = full_state(model, opt)
    finder = LRFinder(model, opt)
    batches = iter(digits_loader)
    with pytest.raises(RuntimeError, match="NOT restored"):
        with finder.track(end_lr=1e-2, num_iter=4) as run:
            for _ in run:
                opt.zero_grad()
                loss = _registers_a_buffer(model, next(batches))
                loss.backward()
                opt.step()
                run.record(loss)
    assert run.result.stop_reason == "error" and "NOT restored" in run.result.error
    del model._buffers["added_during_the_run"]
    assert finder.restore() is True
    assert_same_state(full_state(model, opt), before)


def test_restore_while_running_is_refused(setup, digits_loader):
    model, opt = setup
    finder = LRFinder(model, opt)
    errors = []

    def step(m, batch):
        try:
            finder.restore()
        except RuntimeError as e:
            errors.append(str(e))
        return nn.functional.cross_entropy(m(batch[0]), batch[1])

    finder.range_test(digits_loader, end_lr=1e-2, num_iter=2, step_fn=step)
    assert errors and all("running" in e for e in errors)

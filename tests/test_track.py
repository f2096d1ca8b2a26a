import io
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from lrwidget import LRFinder
from lrwidget.engine import plan
from lrwidget.engine.history import RangeTestResult
from lrwidget.engine.progress import ProgressBar
from lrwidget.engine.stream import Readings, RunEnded, RunStarted
from lrwidget.pure.rules import status_word
from lrwidget.pure.schedule import schedule
from lrwidget.views.report import summary_line


@pytest.fixture
def setup(mlp, digits_loader):
    opt = torch.optim.Adam(mlp.parameters(), lr=1e-4)
    it = iter(digits_loader)
    for _ in range(2):  # Adam state exists before the test
        x, y = next(it)
        opt.zero_grad()
        nn.functional.cross_entropy(mlp(x), y).backward()
        opt.step()
    return mlp, opt, LRFinder(mlp, opt)


def _step(model, opt, batch, scale=1.0):
    x, y = batch
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y) * scale
    loss.backward()
    opt.step()
    return loss


def test_user_loop_gets_the_schedule_and_everything_is_restored(
    setup, digits_loader, full_state, assert_same_state
):
    model, opt, finder = setup
    before = full_state(model, opt)
    events = []
    finder.subscribe(events.append, interval=0.01)
    in_optimizer = []
    with finder.track(start_lr=1e-5, end_lr=1e-2, num_iter=30, diverge_th=1e9) as run:
        for lr, batch in zip(run, _forever(digits_loader)):
            in_optimizer.append(opt.param_groups[0]["lr"])
            assert run.lr == lr
            run.record(_step(model, opt, batch))
        assert finder.running
    assert not finder.running
    r = run.result
    assert r is finder.result and r.stop_reason == "completed" and len(r) == 30
    expect = schedule(1e-5, 1e-2, 30, "exp")[:, 0]
    np.testing.assert_array_equal(in_optimizer, expect)
    np.testing.assert_array_equal(r.lrs, expect)
    assert_same_state(full_state(model, opt), before)
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunEnded)
    got = np.concatenate([e.losses for e in events if isinstance(e, Readings)])
    np.testing.assert_array_equal(got, r.losses)


def _forever(loader):
    while True:
        yield from loader


def test_divergence_ends_the_iteration(setup, digits_loader):
    model, opt, finder = setup
    steps = 0
    with finder.track(start_lr=1e-5, end_lr=1e-2, num_iter=100) as run:
        for _lr, batch in zip(run, _forever(digits_loader)):
            steps += 1
            loss = _step(model, opt, batch, scale=1.0 if steps < 12 else 1e3)
            run.record(loss)
    assert run.result.stop_reason == "diverged" and steps == 12 == len(run.result)


def test_floats_nan_and_a_short_loader(setup, digits):
    model, opt, finder = setup
    X, y = digits
    loader = [(X[:32], y[:32])] * 5
    with pytest.warns(UserWarning, match="5 of num_iter=50"):
        with finder.track(end_lr=1.0, num_iter=50) as run:
            for _lr, batch in zip(run, loader):
                run.record(_step(model, opt, batch).item())
    assert run.result.stop_reason == "exhausted" and len(run.result) == 5  # loader ended first
    with finder.track(end_lr=1.0, num_iter=50) as run:
        for i, _lr in enumerate(run):
            run.record(float("nan") if i == 3 else 1.0)
    assert run.result.stop_reason == "diverged" and len(run.result) == 4


def test_stop_and_break(setup, digits_loader):
    model, opt, finder = setup
    with finder.track(end_lr=1.0, num_iter=50) as run:
        for i, (_lr, batch) in enumerate(zip(run, _forever(digits_loader))):
            run.record(_step(model, opt, batch))
            if i == 4:
                finder.stop()
    assert run.result.stop_reason == "stopped" and len(run.result) == 5
    with pytest.warns(UserWarning, match="1 of num_iter=50"):  # a break: finder.stop() is
        with finder.track(end_lr=1.0, num_iter=50) as run:  # the way to end on purpose
            for _lr in run:
                run.record(1.0)
                break
    assert run.result.stop_reason == "exhausted" and len(run.result) == 1


@pytest.mark.parametrize("exc", [ValueError("user bug"), KeyboardInterrupt()])
def test_exceptions_in_the_block_restore(setup, digits_loader, full_state, assert_same_state, exc):
    model, opt, finder = setup
    before = full_state(model, opt)
    with pytest.raises(type(exc)):
        with finder.track(end_lr=1.0, num_iter=50) as run:
            for i, (_lr, batch) in enumerate(zip(run, _forever(digits_loader))):
                run.record(_step(model, opt, batch))
                if i == 6:
                    raise exc
    assert run.result.stop_reason == "error" and len(run.result) == 7
    assert_same_state(full_state(model, opt), before)
    assert not finder.running


def test_staged_recording_matches(setup, digits_loader, monkeypatch):
    model, opt, finder = setup
    finder.fetch_every = 4
    # the accelerator path (losses staged, fetched every 4 steps), run on CPU
    monkeypatch.setattr(plan, "STAGE_ON_CPU", True)
    with finder.track(end_lr=1e-2, num_iter=10, diverge_th=100) as run:
        for i, _lr in enumerate(run):
            run.record(torch.tensor(float(i + 1)))
    np.testing.assert_array_equal(run.result.losses, np.arange(1, 11))
    assert run.result.stop_reason == "completed"


@pytest.mark.filterwarnings("ignore:the range test's loop ended")  # ends after 1 reading
def test_misuse_is_explained(setup):
    model, opt, finder = setup
    run = finder.track(end_lr=1.0, num_iter=5)
    with pytest.raises(RuntimeError, match=r"with finder\.track"):
        next(iter(run))
    with finder.track(end_lr=1.0, num_iter=5) as run:
        with pytest.raises(RuntimeError, match="record"):
            run.record(1.0)
        next(run)
        with pytest.raises(RuntimeError, match="record"):
            next(run)
        with pytest.raises(ValueError, match="scalar"):
            run.record(torch.ones(3))
        with pytest.raises(TypeError, match="number"):
            run.record("1.0")
        run.record(torch.tensor(1.0))
        with pytest.raises(RuntimeError, match="once per step"):
            run.record(1.0)
    with pytest.raises(ValueError, match="end_lr"):
        finder.track(start_lr=1.0, end_lr=0.5)


# ------------------------------------- the loop ends before num_iter: said (issue 16, newcomer 4)
@pytest.mark.parametrize("order", ["run first", "loader first"])
def test_a_loader_that_runs_out_first_ends_as_exhausted_with_a_warning(
    setup, digits_loader, full_state, assert_same_state, tmp_path, order
):
    model, opt, finder = setup
    before = full_state(model, opt)
    loader = list(digits_loader)[:8]  # docs/frameworks.md's accelerate snippet: 8 batches
    ended = []
    finder.subscribe(lambda e: ended.append(e) if isinstance(e, RunEnded) else None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with finder.track(end_lr=1.0, num_iter=100) as run:
            pairs = zip(run, loader) if order == "run first" else zip(loader, run)
            for pair in pairs:
                batch = pair[1] if order == "run first" else pair[0]
                run.record(_step(model, opt, batch))
    r = run.result
    assert r.stop_reason == "exhausted" and len(r) == 8
    assert ended[-1].stop_reason == "exhausted"
    (w,) = [w for w in caught if issubclass(w.category, UserWarning)]
    msg = str(w.message)
    assert "8 of num_iter=100" in msg and "finder.stop()" in msg, msg
    assert w.filename == __file__  # pointed at the user's with-block, not at lrwidget
    assert_same_state(full_state(model, opt), before)
    # every view names it: the status word, the report, the saved file
    assert status_word("exhausted") == "exhausted"
    assert summary_line(r).startswith("LR range test exhausted: 8/100 readings")
    r.save(tmp_path / "r.json")
    assert RangeTestResult.load(tmp_path / "r.json").stop_reason == "exhausted"
    out = io.StringIO()
    bar = ProgressBar(RunStarted(1, 100, 1e-4, 1.0, "exp", 0.0), file=out)
    bar(ended[-1])
    assert "exhausted" in out.getvalue()


def test_a_loop_that_completes_or_is_stopped_gives_no_warning(setup, digits_loader):
    model, opt, finder = setup
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with finder.track(end_lr=1e-2, num_iter=5) as run:
            for _lr, batch in zip(run, _forever(digits_loader)):
                run.record(_step(model, opt, batch))
        assert run.result.stop_reason == "completed"
        with finder.track(end_lr=1e-2, num_iter=50) as run:
            for _lr, batch in zip(run, _forever(digits_loader)):
                run.record(_step(model, opt, batch))
                finder.stop()
        assert run.result.stop_reason == "stopped" and len(run.result) == 1

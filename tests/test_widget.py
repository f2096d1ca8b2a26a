"""LRFinderWidget with a real LRFinder and torch, no kernel: every outgoing comm message is
captured by replacing the widget's ``_send`` (both custom messages and trait updates go
through it), and commands go in through the same path the comm uses (``_handle_msg``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from lrwidget import LRFinder, LRFinderWidget, find_lr
from lrwidget.channel.core import Channel
from lrwidget.pure.schedule import schedule
from lrwidget.pure.smooth import centered
from lrwidget.views.widget import encode_readings
from tests.widgets import Capture, comm_msg, decode, same, slow_step, wait_until


@pytest.fixture
def setup(make_mlp, digits_loader):
    """A digits MLP, its SGD optimizer, a finder and a captured widget (closed afterwards)."""
    made = []

    def make(lr=1e-5, **kw):
        model = make_mlp()
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        finder = LRFinder(model, opt, nn.CrossEntropyLoss())
        w = LRFinderWidget(finder, **kw)
        cap = Capture(w)
        made.append(w)
        return model, opt, finder, w, cap

    yield make
    for w in made:
        w.close()


def test_stream_loses_and_duplicates_nothing(setup, digits_loader):
    model, opt, finder, w, cap = setup()
    w.run(digits_loader, start_lr=1e-5, end_lr=10, num_iter=300)
    result = w.wait(60)
    msgs = cap.custom("readings")
    assert msgs, "no readings message was sent"
    assert [c["seq"] for _, c, _ in msgs] == list(range(len(msgs)))
    assert all(not c["replay"] for _, c, _ in msgs)
    starts = [c["start"] for _, c, _ in msgs]
    counts = [c["count"] for _, c, _ in msgs]
    assert starts == [0, *np.cumsum(counts)[:-1]], "readings not contiguous"
    arrays = [np.concatenate(x) for x in zip(*(decode(b) for _, _, b in msgs))]
    assert same(arrays[0], result.lrs)
    assert same(arrays[1], result.losses)
    assert same(arrays[2], result.smoothed)
    run = cap.custom("run")
    assert len(run) == 1 and run[0][1]["num_iter"] == 300
    # issue 21: after the last readings ONE line message: the finished run drawn without lag
    kinds = [c["type"] for _, c, _ in cap.custom() if c["type"] != "heartbeat"]
    assert kinds.count("line") == 1 and kinds[-1] == "line", kinds
    ((_, c, bufs),) = cap.custom("line")
    assert c["run_id"] == run[0][1]["run_id"] and c["count"] == len(result) and len(bufs) == 1
    (line,) = decode(bufs)
    assert same(line, centered(result.lrs, result.losses))
    assert not same(line, result.smoothed)
    assert w.status == {"completed": "done", "diverged": "diverged"}[result.stop_reason]
    assert w.step == len(result) and w.num_iter == 300 and w.eta is None
    if result.stop_reason == "diverged":
        assert w.diverged_lr == result.lrs[-1]
    names = [s["name"] for s in w.suggestions]
    assert names == list(result.suggestions)
    assert [s["default"] for s in w.suggestions].count(True) == 1
    assert w.suggestions[0]["default"]
    assert w.suggestions[0]["lr"] == result.suggested_lr


def test_readings_messages_are_rate_limited(setup):
    # a very fast model: thousands of steps a second must still give few messages
    m = nn.Linear(2, 1)
    opt = torch.optim.SGD(m.parameters(), lr=1e-4)
    w = LRFinderWidget(LRFinder(m, opt))
    cap = Capture(w)
    x, y = torch.randn(8, 2), torch.randn(8, 1)
    try:
        w.run(
            [(x, y)],
            end_lr=1e-2,
            num_iter=3000,
            step_fn=lambda mod, b: nn.functional.mse_loss(mod(b[0]), b[1]),
        )
        result = w.wait(60)
    finally:
        w.close()
    assert len(result) == 3000
    times = [t for t, _, _ in cap.custom("readings")]
    gaps = np.diff(times)
    # every gap but the final flush respects the writer's interval
    assert len(gaps) >= 1 and (gaps[:-1] >= Channel.send_interval * 0.95).all(), gaps.min()
    assert len(times) < 3000 / 20, "one message per handful of steps: not batched"
    total = sum(sum(len(b) for b in bufs) for _, c, bufs in cap.custom("readings"))
    assert total == 3000 * 3 * 8


def test_hello_gets_a_replay_of_the_whole_run(setup, digits_loader):
    model, opt, finder, w, cap = setup()
    w.run(digits_loader, end_lr=1, num_iter=60)
    result = w.wait(60)
    last_seq = cap.custom("readings")[-1][1]["seq"]
    cap.clear()
    comm_msg(w, {"type": "hello"})
    wait_until(lambda: len(cap.custom()) >= 3, what="the replay")
    w.call_on_writer(lambda: None)  # nothing more comes of this hello
    msgs = cap.custom()
    # the readings as they streamed (the live EMA), then the finished run's line, once
    assert [c["type"] for _, c, _ in msgs] == ["run", "readings", "line"]
    c, bufs = msgs[1][1], msgs[1][2]
    assert c["replay"] is True and c["start"] == 0 and c["count"] == len(result)
    assert c["seq"] == last_seq and c["run_id"] == msgs[0][1]["run_id"]
    lr, loss, sm = decode(bufs)
    assert same(lr, result.lrs) and same(loss, result.losses) and same(sm, result.smoothed)
    c, bufs = msgs[2][1], msgs[2][2]
    assert c["run_id"] == msgs[0][1]["run_id"] and c["count"] == len(result)
    assert same(decode(bufs)[0], centered(result.lrs, result.losses))


def test_hello_during_a_run_then_stream_goes_on(setup, digits_loader):
    model, opt, finder, w, cap = setup()
    w.run(digits_loader, end_lr=1, num_iter=80, step_fn=slow_step(0.01))
    wait_until(lambda: w.step >= 10, what="some readings")
    comm_msg(w, {"type": "hello"})
    result = w.wait(60)
    msgs = cap.custom("readings")
    replays = [c for _, c, _ in msgs if c["replay"]]
    assert len(replays) == 1 and replays[0]["start"] == 0 and replays[0]["count"] >= 10
    # regular messages stay contiguous across the replay, and cover the run exactly once
    reg = [(c, b) for _, c, b in msgs if not c["replay"]]
    assert [c["seq"] for c, _ in reg] == list(range(len(reg)))
    assert same(np.concatenate([decode(b)[0] for _, b in reg]), result.lrs)


def test_select_and_apply_when_idle_go_through_the_comm_handler(setup, digits_loader):
    model, opt, finder, w, cap = setup()
    w.run(digits_loader, end_lr=1, num_iter=50)
    result = w.wait(60)
    lr = float(result.lrs[20])
    comm_msg(w, {"type": "select", "lr": lr, "index": 20})
    wait_until(lambda: w.selected_lr == lr, what="selected_lr")
    assert w.applied_lr is None and opt.param_groups[0]["lr"] == 1e-5
    comm_msg(w, {"type": "apply", "lr": None})  # null: the selected one
    wait_until(lambda: w.applied_lr is not None, what="applied_lr")
    assert opt.param_groups[0]["lr"] == w.applied_lr == lr
    assert w.pending_apply is False
    # garbage is ignored, not applied
    comm_msg(w, {"type": "apply", "lr": -1})
    comm_msg(w, {"type": "select", "lr": "x"})
    w.wait(10)
    assert opt.param_groups[0]["lr"] == lr and w.selected_lr == lr


def test_apply_during_a_run_takes_effect_after_the_restore(
    setup, digits_loader, full_state, assert_same_state
):
    model, opt, finder, w, cap = setup()
    before = full_state(model)
    w.run(digits_loader, start_lr=1e-4, end_lr=1, num_iter=60, step_fn=slow_step(0.01))
    wait_until(lambda: w.step >= 5, what="the run to be under way")
    chosen = float(schedule([1e-4], 1.0, 60)[3, 0])  # a tested lr: a view can choose no other
    comm_msg(w, {"type": "select", "lr": chosen, "index": None})
    comm_msg(w, {"type": "apply", "lr": chosen})
    wait_until(lambda: w.pending_apply, what="pending_apply")
    assert finder.running and w.status == "running"
    assert opt.param_groups[0]["lr"] != chosen  # the sweep owns the lr while it runs
    w.wait(60)
    assert w.pending_apply is False
    assert opt.param_groups[0]["lr"] == w.applied_lr == chosen
    after = full_state(model)
    before.pop("rng"), after.pop("rng")
    assert_same_state(before, after)  # the model was restored, then only the lr changed


def test_stop_from_the_view_ends_the_run(setup, digits_loader, full_state, assert_same_state):
    model, opt, finder, w, cap = setup()
    before = full_state(model, opt)
    w.run(digits_loader, end_lr=1, num_iter=2000, step_fn=slow_step(0.002))
    wait_until(lambda: w.step >= 5, what="the run to be under way")
    comm_msg(w, {"type": "stop"})
    result = w.wait(30)
    assert result.stop_reason == "stopped" and w.status == "stopped"
    assert 5 <= len(result) < 2000 and w.step == len(result)
    after = full_state(model, opt)
    before.pop("rng"), after.pop("rng")
    assert_same_state(before, after)


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        ({"num_iter": 1}, ValueError, "num_iter"),
        ({"step_mode": "cubic"}, ValueError, "step_mode"),
        ({"end_lr": -1}, ValueError, "end_lr"),
        ({"smooth_f": 1.5}, ValueError, "smooth_f"),
        ({"accumulation_steps": 0}, ValueError, "accumulation_steps"),
        ({"step_fn": 3}, TypeError, "step_fn"),
        ({"bogus": 1}, TypeError, "bogus"),
    ],
)
def test_bad_input_raises_in_run_before_any_step(setup, digits_loader, kwargs, exc, words):
    model, opt, finder, w, cap = setup()
    calls = []
    finder.criterion = lambda out, y: calls.append(1) or nn.functional.cross_entropy(out, y)
    with pytest.raises(exc, match=words):
        w.run(digits_loader, **kwargs)
    assert calls == [] and w._runner is None and w.status == "idle"
    assert cap.custom() == [] and opt.param_groups[0]["lr"] == 1e-5


def test_bad_loaders_raise_in_run(setup):
    model, opt, finder, w, cap = setup()
    with pytest.raises(ValueError, match="train_loader is empty"):
        w.run([])
    with pytest.raises(TypeError, match="train_loader"):
        w.run(None)
    with pytest.raises(TypeError, match="train_loader"):
        w.run(42)
    assert w.status == "idle"


def test_second_run_while_running_is_refused(setup, digits_loader):
    model, opt, finder, w, cap = setup()
    w.run(digits_loader, end_lr=1, num_iter=100, step_fn=slow_step(0.005))
    with pytest.raises(RuntimeError, match="already running"):
        w.run(digits_loader)
    w.stop()
    assert w.wait(30).stop_reason == "stopped"


def test_an_error_in_the_thread_is_shown_and_reraised_by_wait(setup, digits_loader):
    model, opt, finder, w, cap = setup()
    n = []

    def broken(model, batch):
        n.append(1)
        if len(n) > 5:
            raise ZeroDivisionError("bad batch")
        return nn.functional.cross_entropy(model(batch[0]), batch[1])

    w.run(digits_loader, end_lr=1, num_iter=50, step_fn=broken)
    with pytest.raises(ZeroDivisionError, match="bad batch"):
        w.wait(30)
    assert w.status == "error" and "ZeroDivisionError" in w.error
    assert w.step == 5
    assert opt.param_groups[0]["lr"] == 1e-5


def test_an_empty_iterator_fails_in_the_thread_with_status_error(setup):
    model, opt, finder, w, cap = setup()
    w.run(iter([]))  # no len(): only found empty when the thread starts reading it
    with pytest.raises(ValueError):
        w.wait(30)
    assert w.status == "error" and "empty" in w.error


def test_the_users_own_loop_streams_into_the_widget(setup, digits_loader):
    model, opt, finder, w, cap = setup()
    crit = nn.CrossEntropyLoss()
    batches = list(digits_loader) * 2  # more batches than steps: the tracker ends the loop
    with finder.track(end_lr=1, num_iter=40) as run:
        for _lr, (x, y) in zip(run, batches):
            opt.zero_grad()
            loss = crit(model(x), y)
            loss.backward()
            opt.step()
            run.record(loss)
    result = w.wait(30)
    assert result is run.result and w.step == len(result) > 0
    got = np.concatenate([decode(b)[0] for _, c, b in cap.custom("readings")])
    assert same(got, result.lrs)


def test_static_fallback_in_the_mimebundle(setup, digits_loader):
    model, opt, finder, w, cap = setup()
    data, md = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"] == "LR range test: no run yet"
    assert "image/svg+xml" not in data
    w.run(digits_loader, end_lr=10, num_iter=80)
    result = w.wait(60)
    w.apply(float(result.lrs[30]))
    data, md = w._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == w.model_id
    assert "readings" in data["text/plain"] and "suggested lr=" in data["text/plain"]
    assert "applied" in data["text/plain"]
    svg = data["image/svg+xml"]
    assert svg.startswith("<svg") and svg.count("<polyline") >= 2 and "applied" in svg


def test_a_widget_made_after_a_run_shows_that_run(make_mlp, digits_loader):
    model = make_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=1e-5)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    result = finder.range_test(digits_loader, end_lr=1, num_iter=30)
    w = LRFinderWidget(finder)
    try:
        cap = Capture(w)
        assert w.wait(10) is result
        assert w.status in ("done", "diverged") and w.step == len(result)
        comm_msg(w, {"type": "hello"})
        wait_until(lambda: len(cap.custom("readings")) == 1, what="the replay")
        assert same(decode(cap.custom("readings")[0][2])[1], result.losses)
    finally:
        w.close()


def test_apply_from_python(setup, digits_loader):
    model, opt, finder, w, cap = setup()
    with pytest.raises(ValueError, match="no lr is selected"):
        w.apply()
    with pytest.raises(ValueError, match="positive finite"):
        w.apply(float("nan"))
    w.run(digits_loader, end_lr=1, num_iter=40)
    result = w.wait(60)
    if result.suggested_lr is not None:
        assert w.apply() == [result.suggested_lr]  # falls back to the default suggestion
    chosen = w.select(3e-3)  # snapped to the nearest reading, as a click is
    near = result.lrs[np.argmin(np.abs(np.log(result.lrs) - np.log(3e-3)))]
    assert chosen == near == w.selected_lr
    assert w.apply() == [chosen] and opt.param_groups[0]["lr"] == chosen == w.applied_lr


def test_find_lr_builds_and_runs(make_mlp, digits_loader):
    model = make_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=1e-5)
    with pytest.raises(ValueError, match="num_iter"):
        find_lr(model, opt, digits_loader, nn.CrossEntropyLoss(), display=False, num_iter=0)
    w = find_lr(
        model, opt, digits_loader, nn.CrossEntropyLoss(), display=False, num_iter=30, end_lr=1
    )
    try:
        assert isinstance(w, LRFinderWidget)
        assert len(w.wait(60)) > 0 and w.status in ("done", "diverged")
    finally:
        w.close()


def test_encode_readings_is_little_endian_float64():
    c, b = encode_readings(3, 7, 10, [1e-3, 2e-3], [np.nan, np.inf], [1.0, 2.0], replay=True)
    assert c == {"type": "readings", "run_id": 3, "seq": 7, "start": 10, "count": 2, "replay": True}
    assert b[0] == np.array([1e-3, 2e-3], dtype="<f8").tobytes()
    loss = np.frombuffer(b[1], "<f8")
    assert math.isnan(loss[0]) and loss[1] == math.inf
    with pytest.raises(ValueError):
        encode_readings(1, 0, 0, [1.0], [1.0, 2.0], [1.0])


def test_constructor_checks_its_arguments(mlp):
    with pytest.raises(TypeError, match="finder"):
        LRFinderWidget(object())
    finder = LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=1e-3))
    with pytest.raises(ValueError, match="height"):
        LRFinderWidget(finder, height=10)


def test_run_checks_through_the_finder_and_names_run_in_its_errors(setup, digits_loader):
    model, opt, finder, w, cap = setup()
    with pytest.raises(
        TypeError,
        match=r"^run\(\) got an unexpected keyword argument 'num_iters'"
        r".*accepted keyword arguments: .*num_iter",
    ):
        w.run(digits_loader, num_iters=10)
    # the finder's own check, same words: one source of truth
    with pytest.raises(ValueError, match="val_loader is empty") as from_run:
        w.run(digits_loader, val_loader=[])
    with pytest.raises(ValueError) as from_finder:
        finder.check_range_test_args(digits_loader, val_loader=[])
    assert str(from_run.value) == str(from_finder.value)
    assert w._runner is None and w.status == "idle" and cap.custom() == []

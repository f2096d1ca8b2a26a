"""The doctor in the widget (issue 18), kernel side: ``widget.watch()`` streams a real
training run to the views as column snapshots (bounded, rate limited, replayed on hello,
zoomable), the buttons' commands reach the optimizer through ``watch.scale_lr`` and hostile ones
never do, and ``widget.train(fn)`` runs the loop on a thread so a command is read while it trains.

No kernel: the widget's outgoing messages are captured (tests/widgets.py) and commands go in
through the comm's own path; torch trains for real.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
import torch
from torch import nn

from lrwidget import LRFinder, LRFinderWidget
from lrwidget.channel import protocol as P
from lrwidget.engine.watch_events import Chunk
from tests.widgets import Capture, comm_msg, wait_until

N_SERIES = 6


@pytest.fixture
def made():
    """A tiny regression model, its SGD optimizer, a captured widget; closed afterwards."""
    torch.set_num_threads(1)
    out = []

    def make(lr=0.01):
        torch.manual_seed(0)
        model = nn.Linear(8, 1)
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        w = LRFinderWidget(LRFinder(model, opt, nn.MSELoss()))
        cap = Capture(w)
        out.append(w)
        return model, opt, w, cap

    yield make
    for w in out:
        w.close()


def _steps(model, opt, watch, n, seed=0, spike_at=None):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 8, generator=g)
    y = x.sum(1, keepdim=True)
    for i in range(n):
        j = (i * 16) % 240
        loss = nn.functional.mse_loss(model(x[j : j + 16]), y[j : j + 16])
        opt.zero_grad()
        loss.backward()
        opt.step()
        watch.record(loss * 1000 if i == spike_at else loss)


def _columns(cap, zoom=0):
    """The last training message answering ``zoom`` (0: the overview) and its six series."""
    msgs = [(c, b) for _, c, b in cap.custom("training") if c["zoom"] == zoom]
    assert msgs, f"no training message with zoom={zoom}"
    c, b = msgs[-1]
    assert len(b) == 1
    return c, np.frombuffer(b[0], dtype="<f8").reshape(N_SERIES, c["cols"])


def test_watch_streams_bounded_snapshots_with_every_spike(made):
    model, opt, w, cap = made()
    with w.watch() as watch:
        t0 = time.monotonic()
        _steps(model, opt, watch, 3000, spike_at=1234)
    wait_until(lambda: cap.custom("training") and _columns(cap)[0]["steps"] == 3000, 10, "the end")
    took = time.monotonic() - t0
    c, cols = _columns(cap)
    assert c["lo"] == 0 and c["hi"] == 3000 and c["cols"] == P.DOCTOR["overviewColumns"]
    loss_min, loss_max, loss_mean, lr_min, lr_max, lr_mean = cols
    assert np.all(loss_min <= loss_mean + 1e-12) and np.all(loss_mean <= loss_max + 1e-12)
    assert loss_max.max() > 100 * np.median(loss_mean), "the spike at step 1234 is in the overview"
    assert np.allclose(lr_mean, 0.01) and c["lr_now"] == pytest.approx(0.01)
    assert c["verdict"] in P.DOCTOR["verdicts"]
    n = len(cap.custom("training"))
    assert n <= 20 * (took + 1), f"{n} messages in {took:.2f} s: more than 20 a second"


def test_zoom_answers_the_range_asked_and_hello_replays(made):
    model, opt, w, cap = made()
    with w.watch() as watch:
        _steps(model, opt, watch, 512, spike_at=300)
    wait_until(lambda: cap.custom("training") and _columns(cap)[0]["steps"] == 512, 10, "the end")
    comm_msg(w, {"type": "training_zoom", "lo": 290, "hi": 310, "cols": 20, "req": 7})
    wait_until(lambda: any(c["zoom"] == 7 for _, c, _ in cap.custom("training")), 5, "the answer")
    c, cols = _columns(cap, zoom=7)
    assert (c["lo"], c["hi"], c["cols"]) == (290, 310, 20)
    assert np.argmax(cols[1]) == 10, "one column per step: the spike at step 300"
    cap.clear()
    comm_msg(w, {"type": "hello"})  # a view rendered late
    wait_until(lambda: cap.custom("training"), 5, "the replay")
    assert _columns(cap)[0]["steps"] == 512


def test_a_view_rendered_mid_watch_gets_the_training_so_far_with_its_actions(made):
    """A second view, a re-rendered output, a reopened notebook: each says hello when it renders
    and gets the whole run so far (steps, lrs, the action marked), while the watch trains on."""
    model, opt, w, cap = made()
    with w.watch() as watch:
        _steps(model, opt, watch, 40)
        watch.scale_lr(0.5)
        _steps(model, opt, watch, 32, seed=1)  # the chunks: to 40 (the action), 56, 72
        wait_until(lambda: cap.custom("training") and _columns(cap)[0]["steps"] == 72, 10, "72")
        cap.clear()
        comm_msg(w, {"type": "hello"})  # the view that renders now
        wait_until(lambda: cap.custom("training"), 5, "the replay")
        c, cols = _columns(cap)
        assert (c["lo"], c["hi"], c["cols"]) == (0, 72, 72) and c["lr_now"] == 0.005
        assert np.isfinite(cols[:3]).all()  # every step, from the first
        assert cols[3].tolist() == pytest.approx([0.01] * 40 + [0.005] * 32, rel=1e-12)
        assert [(e["step"], e["factor"]) for e in c["events"] if e["kind"] == "action"] == [
            (40, 0.5)
        ]


HOSTILE = [
    {"type": "scale_lr"},
    {"type": "scale_lr", "factor": 0.3},
    {"type": "scale_lr", "factor": 1e9},
    {"type": "scale_lr", "factor": -0.1},
    {"type": "scale_lr", "factor": math.nan},
    {"type": "scale_lr", "factor": math.inf},
    {"type": "scale_lr", "factor": True},
    {"type": "scale_lr", "factor": "0.1"},
    {"type": "scale_lr", "factor": [0.1]},
    {"type": "scale_lr", "factor": 0.1, "rollback": "yes"},
    {"type": "scale_lr", "factor": 0.1, "rollback": 1},
    {"type": "scale_lr", "factor": 10**400},
    {"type": "scale_lr", "factor": 1e308},
    {"type": "scale_lr", "factor": "x" * 10_000_000},  # 10 MB
    {"type": "scale_lr", "factor": 0.1, "rollback": [[[[[[[[[[False]]]]]]]]]]},
    {"type": "training_zoom", "lo": 5, "hi": 5, "cols": 10, "req": 1},
    {"type": "training_zoom", "lo": -1, "hi": 5, "cols": 10, "req": 1},
    {"type": "training_zoom", "lo": 0, "hi": 5, "cols": 10**9, "req": 1},
    {"type": "training_zoom", "lo": 0, "hi": 5, "cols": 10, "req": 0},
    {"type": "training_zoom", "lo": 0.5, "hi": 5, "cols": 10, "req": 1},
    {"type": "training_zoom", "lo": False, "hi": 5, "cols": 10, "req": 1},
]


@pytest.mark.parametrize("content", HOSTILE, ids=lambda c: repr(c)[:60])
def test_hostile_commands_are_refused_with_the_reason(content):
    with pytest.raises(P.BadCommand, match=content["type"]):
        P.parse_training_command(content)


def test_hostile_commands_never_reach_the_optimizer_and_a_button_does(made, caplog):
    model, opt, w, cap = made()
    with w.watch() as watch:
        _steps(model, opt, watch, 32)
        for content in [*HOSTILE, "x", None, [1], {"type": "scale_lr", "factor": {"a": 1}}]:
            comm_msg(w, content)
        _steps(model, opt, watch, 32)
        assert opt.param_groups[0]["lr"] == 0.01, "a hostile message changed the lr"
        assert not [e for e in watch.events if type(e).__name__ == "ActionTaken"]
        comm_msg(w, {"type": "scale_lr", "factor": 0.5, "rollback": False})
        _steps(model, opt, watch, 1)
        assert opt.param_groups[0]["lr"] == 0.005, "the button's x0.5 did not reach the optimizer"
        comm_msg(w, {"type": "scale_lr", "factor": 0.1, "rollback": True})
        _steps(model, opt, watch, 16)
        # the snapshot holds the lr before or after the x0.5 (it is taken at the same boundary)
        assert min(abs(opt.param_groups[0]["lr"] / v - 1) for v in (0.0005, 0.001)) < 1e-12
    wait_until(lambda: _columns(cap)[0]["steps"] == 81, 10, "the end")
    actions = [e for e in _columns(cap)[0]["events"] if e["kind"] == "action"]
    assert [(a["factor"], a["rollback"]) for a in actions] == [(0.5, False), (0.1, True)]
    assert "ignored a message from the front end" in caplog.text


def test_train_runs_the_loop_on_a_thread_and_reads_a_click_while_it_trains(made):
    model, opt, w, cap = made()
    seen = {}
    go = threading.Event()

    def loop(watch):
        _steps(model, opt, watch, 16)
        go.set()
        t0 = time.monotonic()
        while opt.param_groups[0]["lr"] == 0.01 and time.monotonic() - t0 < 5:
            _steps(model, opt, watch, 1)
        seen["lr"], seen["took"] = opt.param_groups[0]["lr"], time.monotonic() - t0
        return "finished"

    t0 = time.monotonic()
    run = w.train(loop)
    assert time.monotonic() - t0 < 1, "train() must return at once (the cell returns)"
    assert go.wait(10) and run.running
    comm_msg(w, {"type": "scale_lr", "factor": 0.1, "rollback": False})  # the kernel's thread
    assert run.wait(10) == "finished"
    assert seen["lr"] == pytest.approx(0.001, rel=1e-12)
    assert seen["took"] < 1, f"the click reached the optimizer after {seen['took']:.2f} s"


def test_train_reraises_the_loop_error_and_checks_fn(made):
    model, opt, w, cap = made()
    with pytest.raises(TypeError, match="fn must be callable"):
        w.train(42)

    def bad(watch):
        raise KeyError("boom")

    run = w.train(bad)
    with pytest.raises(KeyError, match="boom"):
        run.wait(10)


def test_a_million_steps_keep_the_snapshot_and_memory_bounded(made):
    """1M steps through the listener (chunks as the watch sends them): the message stays the
    overview's size and every spike of more than 3x the running median is in its columns."""
    _, _, w, cap = made()
    feed = w._training
    rng = np.random.default_rng(0)
    spikes = set(rng.choice(1_000_000, 20, replace=False).tolist())
    chunk = 4096
    for start in range(0, 1_000_000, chunk):
        losses = 1.0 + 0.01 * rng.standard_normal(min(chunk, 1_000_000 - start))
        for s in spikes:
            if start <= s < start + losses.size:
                losses[s - start] = 5.0
        lrs = np.full((losses.size, 1), 1e-3)
        feed.on_event(Chunk(start, losses, lrs, np.full(1, np.nan)))
    content, buffers = feed.snapshot()
    assert content["steps"] == 1_000_000
    assert len(buffers[0]) == N_SERIES * 8 * P.DOCTOR["overviewColumns"]
    cols = np.frombuffer(buffers[0], "<f8").reshape(N_SERIES, -1)
    width = 1_000_000 / cols.shape[1]
    # each spike in its column (or the next: a bucket of steps may straddle a column's edge)
    for s in spikes:
        j = int(s // width)
        assert cols[1, j : j + 2].max() == 5.0, f"the spike at step {s} is missing"
    assert (cols[1] == 5.0).sum() <= 2 * len(spikes), "a spike smeared over many columns"
    assert np.all(np.abs(cols[2] - 1.0) < 0.05), "the means stay on the loss"

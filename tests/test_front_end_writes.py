"""A front end's plain ipywidgets state update ("update" comm message, ``Widget._handle_msg`` ->
``set_state``) writes none of the traits the kernel owns: not the widget's, not the ``listen()``
widget's, not the bqplot view's marks. Everything goes in through the real comm
(``widget.comm.handle_msg``, the callback ipywidgets registers), exactly as a front end's
``model.set(...); model.save_changes()`` arrives; the typed commands stay the only way in."""

from __future__ import annotations

import logging
import math

import pytest
import torch
from torch import nn

import lrwidget
from lrwidget import LRFinder, LRFinderWidget
from lrwidget.views.owned import KernelOwned, kernel_owned
from tests.widgets import Capture, comm_msg, wait_until

torch.set_num_threads(1)

#: what a hostile (or confused) front end writes: every value a lie
HOSTILE = {
    "selected_lr": 1e308,
    "applied_lr": 0.5,
    "pending_apply": True,
    "status": "done",
    "step": 7,
    "num_iter": 9,
    "suggestions": [{"name": "valley", "lr": 1e308, "index": 0, "reason": "", "default": True}],
    "error": "",
    "height": 10**9,
    "title": "<b>not yours</b>",
    "sidebar_views": 3,
    "sidebar_fallback": True,
    "saved_readings": b"LRW1",
    "view_key": "x" * 10_000_000,  # another widget's memo in the page, or a 10 MB string
    "_esm": "export default {}",
    "_model_name": "Other",
    "tabbable": True,
}


@pytest.fixture(autouse=True)
def _fresh_log_limit(monkeypatch):
    """Each test sees its first refusal logged (the limit is per class and process)."""
    from lrwidget.views import owned

    monkeypatch.setattr(owned, "_refusals", owned._Refusals())


def update(widget, state, buffer_paths=()):
    """Deliver a front end's state update through the widget's comm, as ipywidgets does."""
    widget.comm.handle_msg(
        {
            "content": {
                "comm_id": widget.comm.comm_id,
                "data": {"method": "update", "state": state, "buffer_paths": list(buffer_paths)},
            },
            "buffers": [],
        }
    )


def synced(widget):
    return {k: v for k, v in widget.get_state().items() if k != "layout"}


@pytest.fixture
def setup(make_mlp):
    made = []

    def make(**kw):
        model = make_mlp()
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        finder = LRFinder(model, opt, nn.CrossEntropyLoss())
        w = LRFinderWidget(finder, **kw)
        cap = Capture(w)
        made.append(w)
        return opt, finder, w, cap

    yield make
    for w in made:
        w.close()


def test_an_update_from_the_front_end_changes_nothing_and_apply_tells_the_truth(
    setup, digits_loader, caplog
):
    opt, finder, w, cap = setup()
    w.run(digits_loader, end_lr=1, num_iter=40)
    result = w.wait(60)
    before = synced(w)
    cap.clear()
    with caplog.at_level(logging.WARNING, logger="lrwidget"):
        update(w, HOSTILE)
    w.wait(10)
    assert synced(w) == before
    assert w._channel.call(lambda: dict(w._channel.state))["selected_lr"] is None
    # nothing echoed to the other front ends either
    assert not [m for _, m, _ in cap.items if m.get("method") == "echo_update"]
    assert "applied_lr" in caplog.text and "ignored" in caplog.text
    # the README's `if widget.applied_lr is None: widget.apply()` still applies
    assert w.applied_lr is None and opt.param_groups[0]["lr"] == 1e-3
    assert w.apply() == [result.suggested_lr]  # the real default, not 1e308
    assert opt.param_groups[0]["lr"] == w.applied_lr == result.suggested_lr
    update(w, {"applied_lr": 1e-9})
    assert w.applied_lr == opt.param_groups[0]["lr"]


def test_before_any_run_apply_still_refuses(setup):
    opt, finder, w, cap = setup()
    update(w, {"selected_lr": 1e308})
    assert w.selected_lr is None
    with pytest.raises(ValueError, match="no lr is selected"):
        w.apply()
    assert opt.param_groups[0]["lr"] == 1e-3


def test_the_typed_commands_still_work_after_a_refused_update(setup, digits_loader):
    opt, finder, w, cap = setup()
    result = (w.run(digits_loader, end_lr=1, num_iter=30), w.wait(60))[1]
    update(w, {"selected_lr": 1e308})
    lr = float(result.lrs[10])
    comm_msg(w, {"type": "select", "lr": lr, "index": 10})
    wait_until(lambda: w.selected_lr == lr, what="the selection")
    comm_msg(w, {"type": "apply", "lr": None})
    wait_until(lambda: w.applied_lr == lr, what="the apply")
    assert opt.param_groups[0]["lr"] == lr


@pytest.mark.parametrize(
    "state",
    [[1, 2], "selected_lr", None, 5, {"selected_lr": {"nested": [1] * 3}}, {1: 2}],
    ids=["list", "str", "null", "int", "nested", "int-key"],
)
def test_malformed_updates_are_refused_without_an_exception(setup, state, caplog):
    opt, finder, w, cap = setup()
    before = synced(w)
    with caplog.at_level(logging.WARNING, logger="lrwidget"):
        update(w, state)
    assert synced(w) == before
    assert "Traceback" not in caplog.text


def test_the_log_is_rate_limited(setup, caplog):
    opt, finder, w, cap = setup()
    with caplog.at_level(logging.WARNING, logger="lrwidget"):
        for i in range(500):
            update(w, {"selected_lr": float(i + 1)})
    refusals = [r for r in caplog.records if "ignored" in r.getMessage()]
    assert 1 <= len(refusals) <= 2, [r.getMessage() for r in refusals]
    assert w.selected_lr is None


def test_a_writable_trait_of_a_kernel_owned_widget_goes_through():
    import ipywidgets

    cls = kernel_owned(ipywidgets.IntSlider, writable=("value",))
    assert issubclass(cls, KernelOwned) and cls is kernel_owned(ipywidgets.IntSlider, ("value",))
    s = cls(value=1, max=10)
    try:
        update(s, {"value": 4, "max": 1000})
        assert (s.value, s.max) == (4, 10)
    finally:
        s.close()


# ---------------------------------------------------------------------------- listen()
def test_the_listen_widget_refuses_updates_too():
    pytest.importorskip("zmq")
    w = lrwidget.listen(display=False)
    try:
        Capture(w)
        before = synced(w)
        update(w, HOSTILE)
        assert synced(w) == before
        with pytest.raises(ValueError, match="no lr is selected"):
            w.apply()
    finally:
        w.close()


def test_a_remote_jobs_optimizer_gets_the_real_choice_not_the_front_ends(tmp_path):
    pytest.importorskip("zmq")
    from tests.remote_jobs import Job, job_env

    w = lrwidget.listen(display=False)
    try:
        Capture(w)
        with Job(tmp_path, job_env(w), num_iter=40, sleep=0.0, wait=60) as job:
            result = w.wait(timeout=60)
            update(w, {"selected_lr": 1e308, "applied_lr": 0.5})
            assert w.applied_lr is None
            held = w.apply()
            out = job.finish(30)
        assert held == [result.suggested_lr]
        assert f"CHOICE rank=0 lr={result.suggested_lr!r}" in out, out
    finally:
        w.close()


# ---------------------------------------------------------------------------- bqplot view
def test_the_bqplot_views_marks_refuse_updates_and_clicks_pick_tested_lrs(setup, digits_loader):
    pytest.importorskip("bqplot")
    from lrwidget import BqplotView
    from tests.test_bqview import click

    opt, finder, w, cap = setup()
    view = BqplotView(w)
    try:
        result = (w.run(digits_loader, end_lr=1, num_iter=30), w.wait(60))[1]
        marks = view.readings_marks
        xs = list(marks.x)
        update(marks, {"x": [1e308] * len(xs), "y": [0.0] * len(xs)})
        update(view.suggestion_marks, {"x": [1e308]})
        n_marks = len(view.figure.marks)
        update(view.figure, {"title": "not yours", "marks": []})
        assert list(marks.x) == xs and view.figure.title == "" and len(view.figure.marks) == n_marks
        # what bqplot's front end writes itself on a click or hover is still taken
        update(marks, {"selected": [3], "hovered_point": 3})
        assert list(marks.selected) == [3]
        click(marks, 0)
        w.wait(10)
        assert w.selected_lr == float(result.lrs[0])
        click(view.suggestion_marks, 0)
        w.wait(10)
        assert math.isfinite(w.selected_lr) and w.selected_lr <= float(result.lrs[-1])
        assert w.apply() == [w.selected_lr] and opt.param_groups[0]["lr"] == w.selected_lr
    finally:
        view.close()


# ---------------------------------------------------------------------------- the find step
def test_a_find_step_then_train_does_not_train_at_a_front_ends_lr(tmp_path):
    pytest.importorskip("transformers")
    from transformers import Trainer

    from lrwidget.integrations.transformers import LRFinderCallback
    from tests.test_transformers import Probe, Tokens, make_args, tiny_bert

    cb, probe = LRFinderCallback(num_iter=20), Probe()
    trainer = Trainer(
        model=tiny_bert(), args=make_args(tmp_path), train_dataset=Tokens(), callbacks=[cb, probe]
    )
    w = cb.find(trainer)
    result = w.wait()
    update(w, {"selected_lr": 1e308, "applied_lr": 1e308})
    trainer.train()  # nothing was applied: the default suggestion, with a warning in the log
    assert cb.chosen_by == "default" and cb.chosen_lr == result.suggested_lr
    assert max(s[0] for s in probe.step_lrs) == pytest.approx(result.suggested_lr, rel=1e-12)


# ---------------------------------------------------------------------------- listen()'s hint
def test_the_listen_widget_says_how_a_job_connects_without_the_token():
    pytest.importorskip("zmq")
    w = lrwidget.listen(display=False)
    try:
        hint = w.hint
        assert w.address in hint and "lrwidget.connect(finder)" in hint
        assert f"LRWIDGET_ADDRESS={w.address}" in hint and "LRWIDGET_TOKEN=" in hint
        assert ".token" in hint and ".env" in hint  # where the token is
        # what a notebook saved with widget state keeps, and its static fallback, hold no token
        data, _ = w._repr_mimebundle_()
        assert w.token not in repr(w.get_state()) and w.token not in repr(data)
        update(w, {"hint": "connect to tcp://evil:1"})
        assert w.hint == hint
    finally:
        w.close()


def test_a_local_widget_has_no_hint(setup):
    opt, finder, w, cap = setup()
    assert w.hint == ""

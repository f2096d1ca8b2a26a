"""The range and its schedule in the widget (issue 19), kernel side, through the comm's own
path: a view's range is snapped to tested lrs, the preview is the real scheduler's, Apply
schedule attaches what the source builds (group ratios kept), and hostile messages change nothing.

No kernel: the widget's outgoing messages are captured (tests/widgets.py); torch trains for real.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from lrwidget import LRFinder, LRFinderWidget
from lrwidget.channel import protocol as P
from lrwidget.channel.range_protocol import ScheduleCommand, SelectRange, parse_range_command
from lrwidget.pure.rules import SCHEDULE, SCHEDULE_KINDS, format_lr
from tests.widgets import Capture, comm_msg, wait_until


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 8, generator=g)
    y = (x[:, :3].sum(1) > 0).long() + (x[:, 3] > 0).long()
    return [(x[i : i + 32], y[i : i + 32]) for i in range(0, 256, 32)]


@pytest.fixture
def tested():
    """A widget whose finder ran a range test (two param groups, 1 : 0.1); closed afterwards."""
    torch.set_num_threads(1)
    made = []

    def make():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
        groups = [
            {"params": model[0].parameters(), "lr": 1e-3},
            {"params": model[2].parameters(), "lr": 1e-4},
        ]
        opt = torch.optim.SGD(groups, lr=1e-3, momentum=0.9)
        w = LRFinderWidget(LRFinder(model, opt, nn.CrossEntropyLoss()))
        cap = Capture(w)
        made.append(w)
        w.run(_data(), start_lr=1e-5, end_lr=10, num_iter=60)
        w.wait(60)
        return opt, w, cap

    yield make
    for w in made:
        w.close()


def _barrier(w):
    w.call_on_writer(lambda: None)  # every queued command handled


def test_a_drag_is_snapped_to_tested_lrs_and_previewed(tested):
    opt, w, cap = tested()
    lrs = w.result.lrs
    comm_msg(w, {"type": "select_range", "lo": lrs[10] * 1.01, "hi": lrs[40] * 0.99})
    _barrier(w)
    assert w.selected_range == (lrs[10], lrs[40]), "both ends are tested lrs"
    steps, pl = w.schedule_preview
    assert w.preview["lo"] == lrs[10] and w.preview["hi"] == lrs[40]
    assert w.preview["kind"] == w.schedule_kind == next(iter(SCHEDULE_KINDS))
    assert steps[0] == 0 and steps[-1] == w.total_steps - 1 and pl.max() == pytest.approx(lrs[40])
    assert "max_lr" not in opt.param_groups[0], "a preview attaches nothing"
    comm_msg(w, {"type": "select_range", "lo": None, "hi": None})  # Escape
    _barrier(w)
    assert w.selected_range is None
    assert w.preview["lo"] == w.suggested_range[0], "nothing brushed: the suggested range"


def test_select_range_in_python_snaps_or_refuses_naming_the_end(tested):
    _, w, _ = tested()
    lrs = w.result.lrs
    assert w.select_range(lrs[5] * 1.02, lrs[30]) == (lrs[5], lrs[30])
    for lo, hi, name in [
        (1e-9, lrs[30], "lo"),
        (lrs[5], 1e6, "hi"),
        (math.nan, lrs[30], "lo"),
        (lrs[30], lrs[5], "lo must be below hi"),
        (lrs[5], None, "lo must be below hi"),
    ]:
        with pytest.raises(ValueError, match=name):
            w.select_range(lo, hi)
        assert w.selected_range == (lrs[5], lrs[30]), "a refused range changes nothing"


def test_schedule_builds_on_the_optimizer_with_the_preview_the_user_gets(tested):
    opt, w, _ = tested()
    lrs = w.result.lrs
    lo, hi = w.select_range(lrs[12], lrs[45])
    n = 700
    sched = w.schedule("one_cycle", total_steps=n)
    assert isinstance(sched, torch.optim.lr_scheduler.OneCycleLR)
    assert opt.param_groups[0]["max_lr"] == hi
    assert opt.param_groups[1]["max_lr"] == pytest.approx(hi * 0.1, rel=1e-12), "ratios kept"
    assert w.schedule_applied["max_lrs"] == [g["max_lr"] for g in opt.param_groups]
    assert (w.schedule_kind, w.total_steps) == ("one_cycle", n)
    steps, preview = w.schedule_preview
    got = []
    for _ in range(n):
        got.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(preview, np.asarray(got)[steps], rtol=1e-9, atol=0)


def test_nothing_brushed_uses_the_suggested_range(tested):
    opt, w, _ = tested()
    assert w.selected_range is None and w.suggested_range is not None
    lo, hi = w.suggested_range
    assert lo in w.result.lrs and hi in w.result.lrs and lo < hi
    w.schedule("cyclic", total_steps=400)
    assert w.schedule_applied["lo"] == lo and w.schedule_applied["hi"] == hi


def test_the_views_apply_attaches_and_hostile_messages_change_nothing(tested, caplog):
    opt, w, _ = tested()
    lrs = w.result.lrs
    before = [dict((k, v) for k, v in g.items() if k != "params") for g in opt.param_groups]
    comm_msg(w, {"type": "select_range", "lo": lrs[10], "hi": lrs[40]})
    for content in HOSTILE:
        comm_msg(w, content)
    _barrier(w)
    assert w.selected_range == (lrs[10], lrs[40]), "a hostile range was taken"
    after = [dict((k, v) for k, v in g.items() if k != "params") for g in opt.param_groups]
    assert after == before, "a hostile message touched the optimizer"
    assert "ignored a message from the front end" in caplog.text
    comm_msg(w, {"type": "apply_schedule", "kind": "cosine", "total_steps": 300})
    wait_until(lambda: w.schedule_applied is not None, 10, "the apply")
    assert opt.param_groups[0]["initial_lr"] == lrs[40], "the peak is hi"
    assert w.schedule_applied["kind"] == "cosine" and w.schedule_error == ""


def test_a_refused_apply_is_shown_and_attaches_nothing(tested):
    opt, w, _ = tested()
    w.call_on_writer(lambda: w.channel_state({"suggested_range": None}))  # nothing to use
    comm_msg(w, {"type": "apply_schedule", "kind": "linear", "total_steps": 300})
    wait_until(lambda: w.schedule_error, 10, "the refusal")
    assert "no range" in w.schedule_error and w.schedule_applied is None
    assert "initial_lr" not in opt.param_groups[0]
    with pytest.raises(ValueError, match="kind must be one of"):
        w.schedule("step", total_steps=100)
    with pytest.raises(ValueError, match="total_steps"):
        w.schedule("linear", total_steps=1)


def test_hello_keeps_the_range_and_a_new_run_clears_it(tested):
    _, w, _ = tested()
    lrs = w.result.lrs
    w.select_range(lrs[10], lrs[40])
    comm_msg(w, {"type": "hello"})  # a view rendered later: the same run replayed
    _barrier(w)
    assert w.selected_range == (lrs[10], lrs[40]) and w.preview
    state = w.get_state()
    assert tuple(state["selected_range"]) == (lrs[10], lrs[40]), "saved with the widget state"
    assert state["preview"]["lrs"] and state["suggested_range"]
    w.run(_data(), start_lr=1e-5, end_lr=10, num_iter=40)
    w.wait(60)
    assert w.selected_range is None, "the old run's range is not this run's"
    assert w.suggested_range is not None and w.suggested_range[1] in w.result.lrs


HOSTILE = [
    {"type": "select_range", "lo": math.nan, "hi": 0.1},
    {"type": "select_range", "lo": 1e-3, "hi": math.inf},
    {"type": "select_range", "lo": 0.1, "hi": 1e-3},
    {"type": "select_range", "lo": 0.1, "hi": 0.1},
    {"type": "select_range", "lo": -1e-3, "hi": 0.1},
    {"type": "select_range", "lo": "1e-3", "hi": 0.1},
    {"type": "select_range", "lo": 1e-3, "hi": None},
    {"type": "select_range", "lo": True, "hi": 0.1},
    {"type": "select_range", "lo": 1e-3, "hi": 10**400},
    {"type": "select_range", "lo": "x" * 10_000_000, "hi": 0.1},  # 10 MB
    {"type": "select_range", "lo": [[[[[[[[[[1e-3]]]]]]]]]], "hi": 0.1},
    {"type": "schedule_preview", "kind": "step", "total_steps": 100},
    {"type": "schedule_preview", "kind": "one_cycle", "total_steps": 1},
    {"type": "schedule_preview", "kind": "one_cycle", "total_steps": 10**10},
    {"type": "schedule_preview", "kind": "one_cycle", "total_steps": 100.0},
    {"type": "schedule_preview", "kind": "one_cycle", "total_steps": True},
    {"type": "schedule_preview", "kind": "one_cycle", "total_steps": 10**400},
    {"type": "apply_schedule", "kind": "x" * 10_000_000, "total_steps": 100},
    {"type": "apply_schedule", "kind": {"a": [[["one_cycle"]]]}, "total_steps": 100},
    {"type": "apply_schedule", "kind": "one_cycle", "total_steps": math.nan},
    {"type": "apply_schedule", "kind": "one_cycle"},
]


@pytest.mark.parametrize("content", HOSTILE, ids=lambda c: repr(c)[:60])
def test_hostile_commands_are_refused_naming_the_field(content):
    with pytest.raises(P.BadCommand, match=content["type"]) as e:
        parse_range_command(content)
    assert len(str(e.value)) < 400, "a 10 MB value is not repeated in the reason"


def test_good_commands_parse_and_others_are_not_ours():
    assert parse_range_command({"type": "select_range", "lo": 1e-3, "hi": 2e-3}) == SelectRange(
        1e-3, 2e-3
    )
    assert parse_range_command({"type": "select_range"}) == SelectRange(None, None)
    top = SCHEDULE["maxTotalSteps"]
    for kind in SCHEDULE_KINDS:
        cmd = parse_range_command({"type": "schedule_preview", "kind": kind, "total_steps": top})
        assert cmd == ScheduleCommand(False, kind, top)
    for other in [{"type": "select", "lr": 0.1}, {"type": "hello"}, "x", None, [1]]:
        assert parse_range_command(other) is None


def test_the_report_and_the_static_fallback_show_the_range_and_the_preview(tested, tmp_path):
    _, w, _ = tested()
    lrs = w.result.lrs
    lo, hi = w.select_range(lrs[10], lrs[40])
    w.call_on_writer(lambda: None)
    page = open(w.save_html(tmp_path / "r.html"), encoding="utf-8").read()
    assert page.count("<svg") == 2, "the curve and the schedule's preview"
    assert '<g class="range">' in page and format_lr(lo) in page and format_lr(hi) in page
    assert "One cycle from" in page and "suggested range" not in page
    data, _ = w._repr_mimebundle_()
    assert '<g class="range">' in data["image/svg+xml"]
    assert data["text/html"].count("<img") == 2
    w.select_range(None, None)
    assert "suggested range" in w.to_svg(), "nothing brushed: the suggested range, dashed"


def test_a_widget_made_after_the_run_shows_its_suggested_range_through_a_hello(tested):
    opt, w, _ = tested()
    late = LRFinderWidget(w.finder)  # a second widget of the finder, made after its run
    try:
        Capture(late)
        late.call_on_writer(lambda: None)
        assert late.suggested_range == w.suggested_range is not None
        comm_msg(late, {"type": "hello"})  # its view rendered: the run is replayed to it
        late.call_on_writer(lambda: None)
        assert late.suggested_range == w.suggested_range and late.preview
    finally:
        late.close()


def test_a_settled_range_and_an_applied_schedule_refresh_what_a_saved_notebook_shows(tested):
    # a notebook saved after a brush or an Apply schedule shows the range in its static picture
    # (GitHub, nbviewer); a refresh re-renders the live view, so a burst of brushes (a drag,
    # Shift + arrows) refreshes once, when the kernel's range stopped changing
    import time

    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()  # display() goes through a real display publisher
    _, w, _ = tested()
    w.static_quiet = 2.0
    lrs = w.result.lrs
    with capture_output() as cap:
        display(w)
        shown = len(cap.outputs)
        t0 = time.monotonic()
        for k in range(5):
            w.select_range(lrs[10], lrs[40 - k])
        burst = time.monotonic() - t0
        refreshed_early = len(cap.outputs) != shown
        wait_until(lambda: len(cap.outputs) > shown, 20, "the refresh once the range settled")
        time.sleep(2.5)
        settled = len(cap.outputs) - shown
        svg = cap.outputs[-1].data["image/svg+xml"]
        w.schedule("one_cycle", total_steps=100)
        w.call_on_writer(lambda: None)
        applied = len(cap.outputs) - shown - settled
    if burst < 1.5:  # a loaded machine may pause longer than the quiet between two brushes
        assert not refreshed_early and settled == 1, "one refresh for the burst, after it"
    assert '<g class="range">' in svg and format_lr(lrs[36]) in svg, "the settled range drawn"
    assert applied == 1, "one refresh, at the Apply"


def test_an_lr_apply_after_a_schedule_detaches_it_in_every_view(tested):
    # the optimizer holds one lr after an Apply: every view stops saying a schedule is attached,
    # however the lr got there (the widget's apply, a view's click + Apply, finder.apply)
    opt, w, _ = tested()
    late = LRFinderWidget(w.finder)  # a second view of the finder
    lrs = w.result.lrs
    try:
        for how in ("widget", "view", "finder"):
            w.schedule("one_cycle", total_steps=100)
            _barrier(w)
            assert w.schedule_applied["kind"] == late.schedule_applied["kind"] == "one_cycle"
            if how == "widget":
                w.apply(lrs[20])
            elif how == "view":
                comm_msg(w, {"type": "select", "lr": lrs[20]})
                comm_msg(w, {"type": "apply"})
            else:
                w.finder.apply(lrs[20])
            _barrier(w)
            assert opt.param_groups[0]["lr"] == lrs[20] == w.applied_lr, how
            assert w.schedule_applied is None and late.schedule_applied is None, how
    finally:
        late.close()


def test_apply_schedule_while_the_doctor_trains_is_refused_and_changes_nothing(tested):
    # the loop under widget.train steps its own scheduler: a schedule built now would only set
    # one lr (and OneCycleLR's keys) under it; refused, shown, the optimizer untouched
    opt, w, _ = tested()
    inside, done = __import__("threading").Event(), __import__("threading").Event()

    def loop(watch):
        inside.set()
        done.wait(30)

    run = w.train(loop)
    try:
        assert inside.wait(10)
        before = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
        comm_msg(w, {"type": "apply_schedule", "kind": "one_cycle", "total_steps": 300})
        wait_until(lambda: w.schedule_error, 10, "the refusal")
        assert "training" in w.schedule_error and w.schedule_applied is None
        with pytest.raises(RuntimeError, match="training"):
            w.schedule("cyclic", total_steps=300)
        after = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
        assert after == before, "a schedule was built under the running loop"
    finally:
        done.set()
        run.wait(30)
    w.schedule("cyclic", total_steps=300)  # after the loop: attached
    assert w.schedule_applied["kind"] == "cyclic"

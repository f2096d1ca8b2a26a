"""The framework callbacks' shared core, without a framework: moving a real torch schedule to a
chosen lr (compared with the schedule built at that lr from scratch), and the Chooser's ways to
choose on a real range test (digits MLP)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler as S

from lrwidget import LRFinder
from lrwidget.engine.schedules import base_lrs, move_to, rebase
from lrwidget.integrations.choice import DEFAULT_START_LR, Chooser

# each builds a scheduler around the optimizer's configured lr(s)
SCHEDULES = {
    "warmup+linear decay (transformers)": lambda o: S.LambdaLR(
        o, lambda s: min((s + 1) / 5, max(0.0, (40 - s) / 35))
    ),
    "one cycle": lambda o: S.OneCycleLR(
        o, max_lr=[float(g["lr"]) for g in o.param_groups], total_steps=40
    ),
    "cosine": lambda o: S.CosineAnnealingLR(o, T_max=40),
    "step": lambda o: S.StepLR(o, step_size=7, gamma=0.5),
    "linear": lambda o: S.LinearLR(o, start_factor=0.1, total_iters=10),
    "sequential warmup, cosine": lambda o: S.SequentialLR(
        o,
        [S.LinearLR(o, start_factor=0.01, total_iters=5), S.CosineAnnealingLR(o, T_max=35)],
        milestones=[5],
    ),
    "cyclic": lambda o: S.CyclicLR(
        o,
        base_lr=[float(g["lr"]) / 10 for g in o.param_groups],
        max_lr=[float(g["lr"]) for g in o.param_groups],
        step_size_up=6,
    ),
}


def _optimizer(lr0, lr1, dtype=None):
    """SGD with two param groups; ``dtype``: their lrs as tensors of it (capturable/fused)."""
    a, b = nn.Linear(3, 3), nn.Linear(3, 1)
    if dtype is not None:
        lr0, lr1 = torch.tensor(lr0, dtype=dtype), torch.tensor(lr1, dtype=dtype)
    return torch.optim.SGD(
        [{"params": a.parameters(), "lr": lr0}, {"params": b.parameters(), "lr": lr1}],
        lr=lr0,
        momentum=0.9,
    )


def _trace(opt, sched, n=40):
    out = []
    for _ in range(n):
        out.append([float(g["lr"]) for g in opt.param_groups])
        opt.step()
        sched.step()
    return np.array(out)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_a_rebased_schedule_is_the_schedule_built_at_the_new_lr(name):
    make = SCHEDULES[name]
    opt = _optimizer(1e-3, 1e-4)
    sched = make(opt)
    rebase(opt, [sched], [0.02, 0.002])
    fresh_opt = _optimizer(0.02, 0.002)
    fresh = make(fresh_opt)
    np.testing.assert_allclose(_trace(opt, sched), _trace(fresh_opt, fresh), rtol=1e-12)
    assert base_lrs(opt, [sched]) == pytest.approx([0.02, 0.002], rel=1e-12)


# torch's SequentialLR cannot step tensor lrs at all (it has no base_lrs of its own)
TENSOR_SCHEDULES = sorted(set(SCHEDULES) - {"sequential warmup, cosine"})


# float64 lrs must match to the last bits; float32 ones hold the new lr rounded to float32
@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
@pytest.mark.parametrize("name", TENSOR_SCHEDULES)
def test_tensor_lrs_are_rebased_in_place_to_the_schedule_built_at_the_new_lr(name, dtype, rtol):
    make = SCHEDULES[name]
    opt = _optimizer(1e-3, 1e-4, dtype)
    sched = make(opt)
    held = [g["lr"] for g in opt.param_groups]
    kinds = {k: type(v) for k, v in opt.param_groups[0].items() if k != "params"}
    rebase(opt, [sched], [0.02, 0.002])
    # the same tensors, not floats put in their place (a capturable optimizer reads them)
    assert all(a is b for a, b in zip(held, (g["lr"] for g in opt.param_groups)))
    assert {k: type(v) for k, v in opt.param_groups[0].items() if k != "params"} == kinds
    assert base_lrs(opt, [sched]) == pytest.approx([0.02, 0.002], rel=rtol)
    fresh_opt = _optimizer(0.02, 0.002)
    fresh = make(fresh_opt)
    np.testing.assert_allclose(_trace(opt, sched), _trace(fresh_opt, fresh), rtol=rtol)
    assert all(a is b for a, b in zip(held, (g["lr"] for g in opt.param_groups)))


def test_move_to_with_a_tensor_lr_and_a_warmup_ends_at_the_new_lr():
    # the case: it ended at 0.2 (the warmup's base was not found in a tensor)
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=torch.tensor(1e-3, dtype=torch.float64))
    sched = S.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 4))
    move_to(opt, [sched], 0.05)
    lrs = []
    for _ in range(6):
        lrs.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        sched.step()
    assert lrs == pytest.approx([0.0125, 0.025, 0.0375, 0.05, 0.05, 0.05], rel=1e-12)


def test_rebase_refuses_without_changing_anything():
    opt = _optimizer(1e-3, 1e-4)
    sched = SCHEDULES["cosine"](opt)
    before = [dict(g, params=None) for g in opt.param_groups]
    for bad in ([1e-3], [1e-3, math.inf], [1e-3, -1.0], [1e-3, math.nan]):
        with pytest.raises(ValueError, match="new_base"):
            rebase(opt, [sched], bad)
    assert [dict(g, params=None) for g in opt.param_groups] == before
    assert sched.base_lrs == [1e-3, 1e-4]


# ---------------------------------------------------------------------------- the Chooser


@pytest.fixture
def setup(make_mlp, digits_loader):
    model = make_mlp(bn=False, dropout=0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    sched = S.LambdaLR(opt, lambda s: min(1.0, s / 10))  # warmup from 0: lr is 0 now
    steps = []

    def step_fn(m, batch):
        steps.append(1)
        x, y = batch
        return nn.functional.cross_entropy(m(x), y)

    return model, opt, sched, digits_loader, step_fn, steps


def _state(model, opt):
    import copy

    return copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())


def test_default_choice_restores_then_moves_lr_and_schedule(setup):
    model, opt, sched, loader, step_fn, steps = setup
    w0, o0 = _state(model, opt)
    c = Chooser(None, 10, 60, "default", None, {})
    lr = c.test_and_choose(LRFinder(model, opt), loader, step_fn, [sched])
    assert steps, "the range test ran"
    assert c.chosen_by == "default" and lr == c.chosen_lr == c.result.suggested_lr
    assert c.result.lrs[0] == pytest.approx(DEFAULT_START_LR)  # not the warmup's 0
    # weights and optimizer state exactly as before; only the schedule moved to the chosen lr
    w1, o1 = _state(model, opt)
    assert all(torch.equal(w0[k], w1[k]) for k in w0)
    assert o1["state"] == o0["state"] == {}
    assert sched.base_lrs == [lr] and opt.param_groups[0]["initial_lr"] == lr
    assert opt.param_groups[0]["lr"] == 0.0  # warmup's first step, of the new base
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(lr / 10, rel=1e-12)


@pytest.mark.parametrize("warmup", [False, True], ids=["no schedule", "warmup"])
def test_a_tensor_lr_trains_at_the_chosen_lr_held_in_the_same_tensor(setup, warmup):
    # fused/capturable optimizers hold lr as a tensor: without a schedule training ran at the
    # configured lr, with a warmup at 10x the chosen one
    model, _, _, loader, step_fn, steps = setup
    held = torch.tensor(3e-4, dtype=torch.float64)
    opt = torch.optim.AdamW(model.parameters(), lr=held, foreach=False)
    scheds = [S.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 4))] if warmup else []
    w0, _ = _state(model, opt)
    c = Chooser(None, 10, 60, "default", None, {})
    lr = c.test_and_choose(LRFinder(model, opt), loader, step_fn, scheds)
    assert steps and c.chosen_by == "default"
    assert lr == c.chosen_lr == c.result.suggested_lr != 3e-4
    w1, o1 = _state(model, opt)
    assert all(torch.equal(w0[k], w1[k]) for k in w0) and o1["state"] == {}
    assert opt.param_groups[0]["lr"] is held and held.dtype == torch.float64
    lrs = []
    for _ in range(5):
        lrs.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        for s in scheds:
            s.step()
    expected = [lr / 4, lr / 2, 3 * lr / 4, lr, lr] if warmup else [lr] * 5
    assert lrs == pytest.approx(expected, rel=1e-12)


def test_a_range_test_restores_a_tensor_lr_bit_for_bit_in_the_same_tensor(setup):
    model, _, _, loader, step_fn, _ = setup
    held = torch.tensor(3e-4)  # float32, torch's default
    opt = torch.optim.AdamW(model.parameters(), lr=held, foreach=False)
    before = held.clone()
    LRFinder(model, opt).range_test(loader, step_fn=step_fn, end_lr=10, num_iter=30)
    assert opt.param_groups[0]["lr"] is held
    assert held.dtype == before.dtype and torch.equal(held, before)


def _said(caplog) -> list[str]:
    """The INFO lines saying which lr training runs at."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("lrwidget") and r.levelname == "INFO" and "training at" in r.msg
    ]


def test_the_chosen_lr_and_where_it_came_from_are_said_in_one_info_line(setup, caplog):
    model, opt, sched, loader, step_fn, steps = setup
    c = Chooser(None, 10, 60, "default", None, {}, rule="steep")
    with caplog.at_level("INFO", logger="lrwidget"):
        lr = c.test_and_choose(LRFinder(model, opt), loader, step_fn, [sched])
    assert lr == c.result.suggestions["steep"].lr
    assert _said(caplog) == [f"lrwidget: training at lr={lr:.2e} (default suggestion 'steep')"]
    assert c.source == "default suggestion 'steep'"


def test_a_click_in_the_find_step_is_said_as_such(setup, caplog):
    model, opt, sched, loader, step_fn, steps = setup
    c = Chooser(None, 10, 50, "click", None, {})
    w = c.find(LRFinder(model, torch.optim.AdamW(model.parameters(), lr=3e-4)), loader, step_fn)
    try:
        chosen = float(w.wait(60).lrs[20])
        w.apply(chosen)
        with caplog.at_level("INFO", logger="lrwidget"):
            c.test_and_choose(LRFinder(model, opt), loader, step_fn, [sched])
    finally:
        w.close()
    assert _said(caplog) == [f"lrwidget: training at lr={chosen:.2e} (applied in the widget)"]


def test_no_suggestion_says_training_keeps_the_configured_lr(setup, caplog):
    model, opt, sched, loader, _, _ = setup
    n = []

    def rising(m, batch):  # a loss that only grows: the minimum rule suggests nothing
        n.append(1)
        return m(batch[0]).sum() * 0 + 1.0 + 0.01 * len(n)

    c = Chooser(None, 10, 30, "default", None, {})
    with caplog.at_level("INFO", logger="lrwidget"):
        lr = c.test_and_choose(LRFinder(model, opt), loader, rising, [sched])
    assert c.chosen_by is None and lr == 3e-4
    assert _said(caplog) == [
        "lrwidget: training at lr=3.00e-04 (the configured lr: the 'minimum' rule suggests none)"
    ]


def test_click_without_a_notebook_refuses_before_any_step(setup, monkeypatch):
    monkeypatch.delenv("LRWIDGET_ADDRESS", raising=False)
    model, opt, sched, loader, step_fn, steps = setup
    w0, _ = _state(model, opt)
    c = Chooser(None, 10, 60, "click", None, {})
    with pytest.raises(RuntimeError, match=r"choose='click' needs somewhere to click.*find\(\)"):
        c.test_and_choose(LRFinder(model, opt), loader, step_fn, [sched])
    assert steps == [] and c.result is None and c.chosen_lr is None
    assert all(torch.equal(w0[k], v) for k, v in model.state_dict().items())
    assert sched.base_lrs == [3e-4]


def test_the_find_steps_applied_lr_is_used_without_a_second_test(setup):
    model, opt, sched, loader, step_fn, steps = setup
    c = Chooser(None, 10, 50, "click", None, {})
    # the find step runs on pieces of its own (a framework builds a new optimizer for fit)
    find_opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    w = c.find(LRFinder(model, find_opt), loader, step_fn)
    try:
        r = w.wait(60)
        chosen = float(r.lrs[20])
        w.apply(chosen)  # what the Apply button does
        n = len(steps)
        lr = c.test_and_choose(LRFinder(model, opt), loader, step_fn, [sched])
        assert len(steps) == n, "no second range test"
        assert lr == chosen and c.chosen_by == "click"
        assert sched.base_lrs == [chosen]
    finally:
        w.close()


def test_nothing_applied_in_the_find_step_takes_the_default_and_says_so(setup, caplog):
    model, opt, sched, loader, step_fn, steps = setup
    c = Chooser(None, 10, 50, "click", None, {})
    w = c.find(LRFinder(model, torch.optim.AdamW(model.parameters(), lr=3e-4)), loader, step_fn)
    try:
        with caplog.at_level("WARNING", logger="lrwidget.integrations"):
            lr = c.test_and_choose(LRFinder(model, opt), loader, step_fn, [sched])
        assert lr == c.result.suggested_lr and c.chosen_by == "default"
        assert "nothing was applied in the find step's widget" in caplog.text
    finally:
        w.close()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(choose="auto"), "choose must be one of 'click', 'default'"),
        (dict(timeout=-1), "timeout must be None or a number >= 0 of seconds"),
        (dict(num_iter=1), "num_iter must be an int >= 2"),
        (dict(end_lr=math.inf), "end_lr"),
        (dict(range_test_kwargs={"step_fn": None}), "step_fn cannot be passed"),
        (dict(range_test_kwargs={"smoothing": 0.1}), "unexpected keyword argument 'smoothing'"),
    ],
)
def test_bad_settings_are_refused_when_made(kwargs, match):
    args = dict(
        start_lr=None, end_lr=10, num_iter=100, choose="click", timeout=None, range_test_kwargs={}
    )
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        Chooser(**args)


def test_making_a_chooser_draws_nothing_from_torchs_rng():
    # a seeded script gives the same model whether a callback was made before it or not
    torch.manual_seed(0)
    before = torch.get_rng_state()
    Chooser(None, 10, 100, "default", None, {})
    assert torch.equal(torch.get_rng_state(), before)


# ---------------------------------------------------------------------------- in a real kernel

KERNEL_SETUP = """
import logging, sys, threading, time
import torch
from torch import nn
from tests.digits import digits_sgd
from lrwidget import LRFinder
from lrwidget.integrations.choice import Chooser
logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="%(levelname)s %(message)s")

def parts(lr=None):
    model, opt, loader = digits_sgd()
    if lr is not None:
        opt.param_groups[0]["lr"] = lr
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 4))
    step = lambda m, b: nn.functional.cross_entropy(m(b[0]), b[1])
    return LRFinder(model, opt), loader, step, sched
"""

BUSY_CELL = """
finder, loader, step, sched = parts()
c = Chooser(None, 10, 60, "click", None, {})
lr = c.test_and_choose(finder, loader, step, [sched])   # on the kernel's main thread, as fit is
t0 = time.monotonic()
while c.widget.applied_lr is None and time.monotonic() - t0 < 30:
    time.sleep(0.05)
print("busy cell:", c.chosen_by, lr == c.result.suggested_lr, sched.base_lrs == [lr])
print("the widget shows it applied:", c.widget.applied_lr == lr)
"""

TENSOR_LR = """
held = torch.tensor(1e-5, dtype=torch.float64)   # a capturable/fused optimizer's lr
finder3, loader3, step3, sched3 = parts(held)
c3 = Chooser(None, 10, 60, "default", None, {})
lr3 = c3.test_and_choose(finder3, loader3, step3, [sched3])   # applied in the widget it shows
opt3, lrs3 = finder3.optimizer, []
for _ in range(5):
    lrs3.append(float(opt3.param_groups[0]["lr"]))
    opt3.step()
    sched3.step()
want = [lr3 / 4, lr3 / 2, 3 * lr3 / 4, lr3, lr3]
print("tensor lr:", opt3.param_groups[0]["lr"] is held,
      all(abs(a / b - 1) < 1e-12 for a, b in zip(lrs3, want)), lrs3, want)
"""

FIT_IN_A_THREAD = """
finder2, loader2, step2, sched2 = parts()
c2 = Chooser(None, 10, 60, "click", 60, {})
t = threading.Thread(target=lambda: c2.test_and_choose(finder2, loader2, step2, [sched2]))
t.start()
"""

CLICK = """
t0 = time.monotonic()
while (c2.widget is None or c2.widget.result is None) and time.monotonic() - t0 < 60:
    time.sleep(0.05)
picked = float(c2.widget.result.lrs[25])
c2.widget.apply(picked)        # what the widget's Apply does (a front end's click ends here)
t.join(60)
print("thread:", c2.chosen_by, c2.chosen_lr == picked, sched2.base_lrs == [picked])
"""

SCHEDULE_IN_A_THREAD = """
finder4, loader4, step4, sched4 = parts()
opt4 = finder4.optimizer
settings4 = [{k: v for k, v in g.items() if k != "params"} for g in opt4.param_groups]
c4, placed = Chooser(None, 10, 60, "click", 60, {}), []
c4.schedule_steps(300)
t4 = threading.Thread(target=lambda: c4.test_and_choose(finder4, loader4, step4, [sched4],
                                                         placed.append))
t4.start()
t0 = time.monotonic()
while (c4.widget is None or c4.widget.result is None) and time.monotonic() - t0 < 60:
    time.sleep(0.05)
lo4, hi4 = c4.widget.select_range(float(c4.widget.result.lrs[10]),
                                  float(c4.widget.result.lrs[30]))
c4.widget.schedule("cyclic", total_steps=100)   # what a view's Apply schedule does
t4.join(60)
print("schedule in a thread:", c4.chosen_by, c4.chosen_lr == hi4,
      [p.as_dict() for p in placed] == [dict(kind="cyclic", lo=lo4, hi=hi4, total_steps=300)],
      [{k: v for k, v in g.items() if k != "params"} for g in opt4.param_groups] == settings4)
"""


def test_in_a_kernel_the_widget_is_shown_and_a_busy_cell_says_how_to_click(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    root = __import__("pathlib").Path(__file__).resolve().parent.parent
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(c)
        for c in (KERNEL_SETUP, BUSY_CELL, FIT_IN_A_THREAD, CLICK, TENSOR_LR, SCHEDULE_IN_A_THREAD)
    ]
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(root)}}
    ).execute()
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    views = [
        o
        for o in nb.cells[1].outputs
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert len(views) == 1, "the busy cell shows the live widget"
    assert "a click cannot reach a notebook cell while it runs fit" in text
    assert "find()" in text
    assert "busy cell: default True True" in text
    assert "the widget shows it applied: True" in text
    assert "thread: click True True" in text
    assert "tensor lr: True True" in text
    # a range's schedule applied in the widget of a fit in a thread is trained with (placed by
    # the framework), not read as a click; the widget's own build on the optimizer is undone
    assert "schedule in a thread: schedule True True True" in text

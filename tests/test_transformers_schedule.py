"""The Hugging Face callback with a schedule over a range (issue 19): the Trainer's own LambdaLR is
moved in place so that every step's lr is ``build_schedule``'s over the chosen range (each param
group at its configured ratio), through a checkpoint and a resume too; anything else is refused
before the range test. A tiny BERT on CPU (tests/test_transformers.py's)."""

from __future__ import annotations

import pytest
import torch
from torch.optim.lr_scheduler import CyclicLR, OneCycleLR

from lrwidget.pure.ranges import cyclic_step_size

transformers = pytest.importorskip("transformers")
from transformers import Trainer  # noqa: E402

from lrwidget.integrations.framework_schedule import Following, range_around  # noqa: E402
from lrwidget.integrations.transformers import LRFinderCallback  # noqa: E402
from tests.test_framework_schedule import assert_lrs_equal, reference_lrs  # noqa: E402
from tests.test_transformers import (  # noqa: E402
    Probe,
    Tokens,
    count_forwards,
    make_args,
    tiny_bert,
    weights,
)

CONFIGURED = [5e-5, 5e-6]


def two_groups(model):
    """AdamW with the classifier's head at a tenth of the encoder's lr."""
    head = [p for n, p in model.named_parameters() if n.startswith("classifier")]
    rest = [p for n, p in model.named_parameters() if not n.startswith("classifier")]
    return torch.optim.AdamW(
        [{"params": rest, "lr": CONFIGURED[0]}, {"params": head, "lr": CONFIGURED[1]}]
    )


def train(tmp_path, cb, steps=8, scheduler=None, resume=None, **kw):
    model, probe = tiny_bert(), Probe()
    opt = two_groups(model)
    sched = None if scheduler is None else scheduler(opt)
    trainer = Trainer(
        model=model,
        args=make_args(tmp_path, max_steps=steps, **kw),
        train_dataset=Tokens(),
        callbacks=[probe, cb],
        optimizers=(opt, sched),
    )
    trainer.train(resume_from_checkpoint=resume)
    return trainer, probe


def reference_momenta(kind, lo, hi, n):
    """Each group's beta1 before each of ``n`` steps under torch's own OneCycleLR / CyclicLR
    (cycle_momentum, their default bounds) built by hand on two_groups' AdamW; the linear
    schedule cycles none."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in CONFIGURED]
    opt = torch.optim.AdamW([{"params": [p], "lr": lr} for p, lr in zip(params, CONFIGURED)])
    r = CONFIGURED[1] / CONFIGURED[0]
    sched = None
    if kind == "one_cycle":
        sched = OneCycleLR(opt, max_lr=[hi, hi * r], total_steps=n, div_factor=hi / lo)
    elif kind == "cyclic":
        up = cyclic_step_size(n)
        sched = CyclicLR(opt, base_lr=[lo, lo * r], max_lr=[hi, hi * r], step_size_up=up)
    out = []
    for _ in range(n):
        out.append([g["betas"][0] for g in opt.param_groups])
        opt.step()
        if sched is not None:
            sched.step()
    return out


@pytest.mark.parametrize("kind", ["one_cycle", "cyclic", "linear"])
def test_the_trainers_schedule_gives_build_schedules_lrs_every_step(tmp_path, kind):
    cb = LRFinderCallback(num_iter=20, choose="default", schedule=kind)
    trainer, probe = train(tmp_path, cb)

    lo, hi = range_around(cb.result, cb.result.suggested_lr)
    # and the momentum (AdamW's beta1) cycles as torch's own scheduler cycles it
    assert_lrs_equal(probe.step_momenta, reference_momenta(kind, lo, hi, 8))
    assert cb.chosen_schedule == {"kind": kind, "lo": lo, "hi": hi, "total_steps": 8}
    assert cb.chosen_lr == hi == trainer.args.learning_rate
    assert trainer.state.log_history[0]["chosen_schedule"] == cb.chosen_schedule
    # the Trainer's own LambdaLR (what it steps, logs and saves), moved
    assert type(trainer.lr_scheduler) is torch.optim.lr_scheduler.LambdaLR
    assert isinstance(trainer.lr_scheduler.lr_lambdas[0], Following) == (kind != "linear")
    assert_lrs_equal(probe.step_lrs, reference_lrs(CONFIGURED, kind, lo, hi, 8))


def test_a_resumed_training_goes_on_with_the_moved_schedule(tmp_path):
    cb = LRFinderCallback(num_iter=20, choose="default").schedule("one_cycle", 1e-4, 3e-3)
    _, first = train(tmp_path, cb, steps=6, save_strategy="steps", save_steps=3)
    expected = reference_lrs(CONFIGURED, "one_cycle", 1e-4, 3e-3, 6)
    assert_lrs_equal(first.step_lrs, expected)

    # a new process's callback knows nothing: the checkpoint's scheduler state says it all
    again = LRFinderCallback(num_iter=20, choose="default")
    trainer, probe = train(tmp_path, again, steps=6, resume=str(tmp_path / "out" / "checkpoint-3"))
    assert again.result is None  # no second test
    assert isinstance(trainer.lr_scheduler.lr_lambdas[0], Following)
    assert_lrs_equal(probe.step_lrs, expected[3:])
    momenta = reference_momenta("one_cycle", 1e-4, 3e-3, 6)
    assert_lrs_equal(first.step_momenta, momenta)
    assert_lrs_equal(probe.step_momenta, momenta[3:])  # the checkpoint's momentum goes on


def test_a_scheduler_that_is_not_the_trainers_lambda_is_refused_before_the_test(tmp_path):
    model = tiny_bert()
    start, forwards = weights(model), count_forwards(model)
    opt = two_groups(model)
    step_lr = torch.optim.lr_scheduler.StepLR(opt, step_size=2)
    cb = LRFinderCallback(num_iter=20, choose="default", schedule="cosine")
    trainer = Trainer(
        model=model,
        args=make_args(tmp_path),
        train_dataset=Tokens(),
        callbacks=[cb],
        optimizers=(opt, step_lr),
    )
    with pytest.raises(ValueError, match="lr_scheduler must be the LambdaLR it builds"):
        trainer.train()
    assert forwards[0] == 0 and cb.result is None and cb.chosen_schedule is None
    assert all(torch.equal(v, start[k]) for k, v in weights(model).items())


def test_too_few_total_steps_are_refused_before_the_test(tmp_path):
    cb = LRFinderCallback(num_iter=20, choose="default", schedule="linear", total_steps=4)
    with pytest.raises(ValueError, match="total_steps must cover the training's 8 optimizer"):
        train(tmp_path, cb)
    assert cb.result is None


def test_a_range_applied_in_the_find_steps_widget_is_trained_with(tmp_path):
    from lrwidget.views.widget import LRFinderWidget

    if not hasattr(LRFinderWidget, "select_range"):
        pytest.skip("the widget's range selection (issue 19, views) is not in this tree")
    cb, probe = LRFinderCallback(num_iter=20), Probe()
    model = tiny_bert()
    trainer = Trainer(
        model=model,
        args=make_args(tmp_path, max_steps=8),
        train_dataset=Tokens(),
        callbacks=[cb, probe],
        optimizers=(two_groups(model), None),
    )
    w = cb.find(trainer)
    result = w.wait()
    lo, hi = w.select_range(float(result.lrs[5]), float(result.lrs[12]))
    w.schedule("cosine", total_steps=100)  # the widget's own total: the Trainer's is used
    trainer.train()
    assert cb.chosen_by == "schedule" and cb.result is result
    assert cb.chosen_schedule == {"kind": "cosine", "lo": lo, "hi": hi, "total_steps": 8}
    assert_lrs_equal(probe.step_lrs, reference_lrs(CONFIGURED, "cosine", lo, hi, 8))

"""A schedule over a range where people train (issue 19): the Lightning and Hugging Face callbacks
with ``schedule=`` (or a range applied in the widget) train with exactly the lrs of
``build_schedule`` over the chosen range, every param group at its configured ratio; bad input is
refused before any step, with nothing changed. Real fits on CPU (digits, a tiny BERT); the DDP
and listen() case is in tests/test_lightning.py's torchrun job."""

from __future__ import annotations

import pytest
import torch

from lrwidget.engine.range_schedule import build_schedule
from lrwidget.integrations.framework_schedule import Following, range_around

torch.set_num_threads(1)

REL = 1e-9


def reference_lrs(configured, kind, lo, hi, n):
    """Every group's lr before each of ``n`` steps of build_schedule's scheduler, on an optimizer
    configured with the lrs ``configured`` (what the callback must reproduce)."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in configured]
    opt = torch.optim.SGD(
        [{"params": [p], "lr": lr} for p, lr in zip(params, configured)], momentum=0.9
    )
    sched = build_schedule(opt, kind, lo, hi, n)
    out = []
    for _ in range(n):
        out.append([float(g["lr"]) for g in opt.param_groups])
        opt.step()
        sched.step()
    return out


def assert_lrs_equal(got, expected):
    assert len(got) == len(expected)
    for step, (a, b) in enumerate(zip(got, expected)):
        assert a == pytest.approx(b, rel=REL), f"step {step}: {a} != {b}"


def test_following_is_the_real_schedulers_lr_over_its_peak():
    expected = reference_lrs([1.0], "one_cycle", 1e-3, 1e-1, 50)
    f = Following("one_cycle", 1e-3, 1e-1, 50)
    assert [0.1 * f(s) for s in range(50)] == pytest.approx([e for (e,) in expected], rel=1e-12)
    assert vars(f) == {"kind": "one_cycle", "lo": 1e-3, "hi": 1e-1, "total_steps": 50}


def test_the_range_around_a_chosen_lr_is_the_suggested_ranges_rule():
    from types import SimpleNamespace

    import numpy as np

    lrs = np.logspace(-5, 0, 51)
    fall = 2 / (1 + np.exp(4 * (np.log10(lrs) + 3))) + 0.1
    r = SimpleNamespace(lrs=lrs, smoothed=fall, losses=fall, suggested_lr=None)
    lo, hi = range_around(r, 1.1e-2)
    assert hi == pytest.approx(1e-2) and hi in lrs and lo in lrs and lo <= hi / 4 * 1.3
    with pytest.raises(ValueError, match="no tested lr below it; pass lo and hi"):
        range_around(r, 1e-5)


# ------------------------------------------------------------------------------------ Lightning
pl = pytest.importorskip("lightning.pytorch")

from tests.lightning_jobs import (  # noqa: E402
    DigitsModule,
    Probe,
    digits_loader,
    quiet_trainer,
    same_state,
    state_of,
)


class TwoGroups(DigitsModule):
    """DigitsModule with two param groups (the last layer at a tenth of the lr), recording every
    group's lr at each batch."""

    def on_train_batch_start(self, batch, batch_idx):
        self.lrs.append([float(g["lr"]) for g in self.trainer.optimizers[0].param_groups])

    def configure_optimizers(self):
        first, last = self.net[0], self.net[3]
        rest = [p for m in (self.net[1], first) for p in m.parameters()]
        opt = torch.optim.SGD(
            [{"params": rest}, {"params": last.parameters(), "lr": self.lr / 10}],
            lr=self.lr,
            momentum=0.9,
        )
        if self.schedule is None:
            return opt
        s = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: min(1.0, (k + 1) / 4))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": s, "interval": "epoch"}}


def lightning_fit(tmp_path, model, cb, max_steps=12):
    probe = Probe()
    trainer = pl.Trainer(**quiet_trainer(tmp_path, max_steps=max_steps), callbacks=[probe, cb])
    trainer.fit(model, digits_loader())
    return trainer, probe


@pytest.mark.parametrize(
    "kind, configured", [("one_cycle", None), ("cosine", "warmup")], ids=["attached", "replaced"]
)
def test_lightning_trains_with_build_schedules_lrs_every_step(tmp_path, kind, configured):
    model = TwoGroups(lr=1e-3, schedule=configured)
    cb = pl_callback(num_iter=30, choose="default", schedule=kind)
    trainer, probe = lightning_fit(tmp_path, model, cb)

    chosen = cb.chosen_schedule
    lo, hi = range_around(cb.result, cb.result.suggested_lr)
    assert chosen == {"kind": kind, "lo": lo, "hi": hi, "total_steps": 12}
    assert cb.chosen_lr == hi and cb.chosen_by == "default"
    assert same_state(probe.before, probe.first) == []  # restored before training
    (config,) = trainer.lr_scheduler_configs  # ours, stepped every optimizer step
    assert config.interval == "step" and config.frequency == 1
    expected = reference_lrs([1e-3, 1e-4], kind, lo, hi, 12)
    assert_lrs_equal(model.lrs, expected)
    assert [b / a for a, b in model.lrs] == pytest.approx([0.1] * 12, rel=1e-12)


def test_lightning_takes_the_range_given_and_refuses_too_few_steps_before_any_step(tmp_path):
    model = TwoGroups(lr=1e-3)
    cb = pl_callback(num_iter=30, choose="default").schedule("linear", 1e-3, 3e-2)
    lightning_fit(tmp_path, model, cb, max_steps=6)
    assert cb.chosen_schedule == {"kind": "linear", "lo": 1e-3, "hi": 3e-2, "total_steps": 6}
    assert_lrs_equal(model.lrs, reference_lrs([1e-3, 1e-4], "linear", 1e-3, 3e-2, 6))

    model = TwoGroups(lr=1e-3, schedule="warmup")
    before = state_of(model)
    cb = pl_callback(num_iter=30, choose="default", schedule="one_cycle", total_steps=5)
    with pytest.raises(ValueError, match="total_steps must cover the training's 6 optimizer"):
        lightning_fit(tmp_path, model, cb, max_steps=6)
    assert model.steps == 0 and cb.result is None and cb.chosen_schedule is None
    assert same_state(before, state_of(model)) == []


def test_a_resumed_lightning_fit_goes_on_with_the_schedule_over_the_range(tmp_path):
    # the checkpoint holds our scheduler's state where configure_optimizers builds a LambdaLR
    # (whose load_state_dict would raise): the callback keeps it and rebuilds ours from it
    model = TwoGroups(lr=1e-3, schedule="warmup")
    cb = pl_callback(num_iter=30, choose="default").schedule("one_cycle", 1e-3, 3e-2, 6)
    kw = quiet_trainer(tmp_path, max_steps=3, enable_checkpointing=True)
    pl.Trainer(**kw, callbacks=[cb]).fit(model, digits_loader())
    expected = reference_lrs([1e-3, 1e-4], "one_cycle", 1e-3, 3e-2, 6)
    assert_lrs_equal(model.lrs, expected[:3])
    (ckpt,) = (tmp_path / "checkpoints").glob("*.ckpt")

    again = TwoGroups(lr=1e-3, schedule="warmup")
    fresh = pl_callback(num_iter=30, choose="default")  # a new process's: nothing chosen yet
    pl.Trainer(**{**kw, "max_steps": 6}, callbacks=[fresh]).fit(
        again, digits_loader(), ckpt_path=str(ckpt)
    )
    assert fresh.result is None and again.steps == 3  # no second test
    assert fresh.chosen_schedule == cb.chosen_schedule
    assert_lrs_equal(again.lrs, expected[3:])


def pl_callback(**kw):
    from lrwidget.integrations.lightning import LRFinderCallback

    return LRFinderCallback(**kw)


# ------------------------------------------------------------------------- the callbacks' settings
@pytest.mark.parametrize(
    "kw, match",
    [
        ({"schedule": "onecycle"}, r"kind must be one of \['one_cycle', 'cyclic'"),
        ({"schedule": "cosine", "total_steps": 1}, "total_steps must be an int from 2"),
        ({"schedule": "cosine", "total_steps": 2.5}, "total_steps must be an int from 2"),
        ({"schedule": "cosine", "total_steps": True}, "total_steps must be an int from 2"),
    ],
)
def test_bad_settings_are_refused_when_the_callback_is_made(kw, match):
    with pytest.raises(ValueError, match=match):
        pl_callback(**kw)


@pytest.mark.parametrize(
    "args, match",
    [
        (("cyclic", 1e-2, 1e-3), "lo must be below hi"),
        (("cyclic", 1e-3, None), "give both ends or neither"),
        (("cyclic", float("nan"), 1e-2), "lo must be a positive finite number"),
        (("exp", None, None), "kind must be one of"),
    ],
)
def test_bad_ranges_are_refused_and_leave_the_setting_as_it_was(args, match):
    cb = pl_callback(schedule="cosine")
    with pytest.raises(ValueError, match=match):
        cb.schedule(*args)
    assert cb._chooser.asked.kind == "cosine" and cb._chooser.asked.lo is None

"""lrwidget.integrations.lightning: LRFinderCallback in real Lightning fits (CPU, digits).

A probe callback placed before LRFinderCallback copies the state when training starts and at
the first real batch: the range test ran in between, so they must be equal bit for bit, with
the optimizer (and its schedule) moved to the chosen lr. The DDP case runs as a 2-rank torchrun
job (gloo), every process killed by pid at the end.
"""

from __future__ import annotations

import logging
import math
import threading
import time

import pytest

pl = pytest.importorskip("lightning.pytorch")

import torch  # noqa: E402

from lrwidget.integrations.lightning import LRFinderCallback  # noqa: E402
from tests.lightning_jobs import (  # noqa: E402
    DDPJob,
    DigitsModule,
    Probe,
    digits_loader,
    quiet_trainer,
    same_state,
    state_of,
)


@pytest.fixture(autouse=True)
def _no_notebook(monkeypatch):
    monkeypatch.delenv("LRWIDGET_ADDRESS", raising=False)
    monkeypatch.delenv("LRWIDGET_TOKEN", raising=False)


def fit(tmp_path, model, *callbacks, max_steps=3, **kw):
    trainer = pl.Trainer(
        **quiet_trainer(tmp_path, max_steps=max_steps, **kw), callbacks=list(callbacks)
    )
    trainer.fit(model, digits_loader())
    return trainer


# ---------------------------------------------------------------------- training at the choice
def test_default_trains_at_the_chosen_lr_with_the_warmup_moved_and_the_model_restored(tmp_path):
    model, probe = DigitsModule(lr=1e-3, schedule="warmup"), Probe()
    cb = LRFinderCallback(end_lr=10, num_iter=40, choose="default")
    fit(tmp_path, model, probe, cb, max_steps=5)

    assert cb.chosen_by == "default" and cb.result is not None
    lr = cb.chosen_lr
    assert lr == cb.result.suggested_lr and lr != 1e-3
    assert same_state(probe.before, probe.first) == []  # restored before training, bit for bit
    assert probe.before["optimizer_state"] == {}  # no momentum left from the test
    # the warmup is built around the chosen lr: 1/4, 2/4, 3/4 of it, then all of it
    assert probe.group["initial_lr"] == lr
    assert probe.base_lrs == pytest.approx([lr], rel=1e-12)
    assert model.lrs == pytest.approx([lr / 4, lr / 2, 3 * lr / 4, lr, lr], rel=1e-12)
    assert model.steps == len(cb.result) + 5  # the test's steps, then training's


@pytest.mark.parametrize("schedule", [None, "warmup"])
def test_a_tensor_lr_trains_at_the_chosen_lr_in_the_same_tensor(tmp_path, schedule):
    # capturable/fused optimizers hold lr as a tensor: training ran at the configured 0.001
    # (no schedule) or headed for 10x the chosen lr (a warmup) while chosen_lr said otherwise
    model, probe = DigitsModule(lr=1e-3, schedule=schedule, tensor_lr=True), Probe()
    cb = LRFinderCallback(end_lr=10, num_iter=40, choose="default")
    trainer = fit(tmp_path, model, probe, cb, max_steps=5)

    lr = cb.chosen_lr
    assert cb.chosen_by == "default" and lr == cb.result.suggested_lr != 1e-3
    assert same_state(probe.before, probe.first) == []
    assert trainer.optimizers[0].param_groups[0]["lr"] is model.held_lr  # moved in place
    expected = [lr / 4, lr / 2, 3 * lr / 4, lr, lr] if schedule else [lr] * 5
    assert model.lrs == pytest.approx(expected, rel=1e-12)


def test_the_chosen_lr_is_said_once_and_shown_in_the_progress_bar(tmp_path, caplog, capsys):
    model = DigitsModule(lr=1e-3)
    cb = LRFinderCallback(end_lr=10, num_iter=30, choose="default")
    with caplog.at_level("INFO", logger="lrwidget"):
        trainer = fit(tmp_path, model, cb, max_steps=3, enable_progress_bar=True)
    lr = cb.chosen_lr
    said = [r.getMessage() for r in caplog.records if "training at" in r.getMessage()]
    assert said == [f"lrwidget: training at lr={lr:.2e} (default suggestion 'minimum')"]
    # what the bar shows (rich's metrics, tqdm's postfix), and nothing a logger, a checkpoint
    # or early stopping reads
    shown = "".join(capsys.readouterr())
    assert "chosen_lr" in shown and f"{lr:.2e}" in shown
    assert trainer.progress_bar_metrics["chosen_lr"] == f"{lr:.2e}"
    assert "chosen_lr" not in trainer.callback_metrics
    assert "chosen_lr" not in trainer.logged_metrics


def test_default_moves_a_one_cycle_schedule_to_peak_at_the_rules_lr(tmp_path):
    model, probe = DigitsModule(lr=1e-3, schedule="onecycle"), Probe()
    cb = LRFinderCallback(start_lr=1e-5, end_lr=10, num_iter=40, choose="default", rule="steep")
    fit(tmp_path, model, probe, cb, max_steps=10)
    lr = cb.chosen_lr
    assert lr == cb.result.suggestions["steep"].lr != cb.result.suggested_lr
    assert probe.group["max_lr"] == lr and probe.group["initial_lr"] == pytest.approx(lr / 25)
    assert model.lrs[0] == pytest.approx(lr / 25, rel=1e-12)  # OneCycleLR starts at max_lr/25
    assert max(model.lrs) <= lr * (1 + 1e-12) and max(model.lrs) > lr / 2
    assert same_state(probe.before, probe.first) == []


def test_a_fit_with_the_callback_equals_a_fit_configured_by_hand_at_that_lr(tmp_path):
    # 40 steps over two epochs of a loader shuffled by its own generator, an accuracy metric and
    # self.log(on_step, on_epoch) in training_step, every step logged: the test's steps must
    # leave no trace in the weights, the batches, the metric or anything logged
    from lightning.pytorch.loggers import CSVLogger

    def run(root, model, *callbacks):
        logger = CSVLogger(root, name="", version="")
        t = pl.Trainer(
            **{**quiet_trainer(root, max_steps=40), "logger": logger},
            log_every_n_steps=1,
            callbacks=list(callbacks),
        )
        t.fit(model, digits_loader())
        return (root / "metrics.csv").read_text()

    found = DigitsModule(lr=1e-3, metric=True)
    cb = LRFinderCallback(end_lr=10, num_iter=40, choose="default")
    logged = run(tmp_path / "a", found, cb)
    by_hand = DigitsModule(lr=cb.chosen_lr, metric=True)
    logged_by_hand = run(tmp_path / "b", by_hand)

    assert found.lrs == by_hand.lrs == [cb.chosen_lr] * 40
    a, b = found.state_dict(), by_hand.state_dict()
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    assert "train_acc" in logged and "train_loss_epoch" in logged
    assert logged.splitlines() == logged_by_hand.splitlines()


def test_a_value_logged_every_10th_batch_counts_none_of_the_tests_steps(tmp_path):
    from lightning.pytorch.loggers import CSVLogger

    def run(root, model, *callbacks):
        t = pl.Trainer(
            **{**quiet_trainer(root, max_epochs=1), "logger": CSVLogger(root, name="", version="")},
            callbacks=list(callbacks),
        )
        t.fit(model, digits_loader())
        return (root / "metrics.csv").read_text()

    cb = LRFinderCallback(end_lr=10, num_iter=40, choose="default")
    logged = run(tmp_path / "a", DigitsModule(sparse=True), cb)
    assert "sparse_loss" in logged
    assert logged == run(tmp_path / "b", DigitsModule(lr=cb.chosen_lr, sparse=True))


def test_self_log_in_training_step_works_during_the_test_and_logs_nothing(tmp_path):
    from lightning.pytorch.loggers import CSVLogger

    model = DigitsModule()
    cb = LRFinderCallback(end_lr=10, num_iter=30, choose="default")
    trainer = pl.Trainer(
        **{**quiet_trainer(tmp_path, max_steps=2), "logger": CSVLogger(tmp_path)},
        log_every_n_steps=1,
        callbacks=[cb],
    )
    trainer.fit(model, digits_loader())
    rows = (tmp_path / "lightning_logs" / "version_0" / "metrics.csv").read_text().splitlines()
    steps = [r.split(",") for r in rows[1:]]
    header = rows[0].split(",")
    logged = [int(r[header.index("step")]) for r in steps if r[header.index("train_loss_step")]]
    assert logged == [0, 1], rows  # the two training steps only, none of the test's 30


def test_several_train_loaders_reach_training_step_together(tmp_path):
    class Two(DigitsModule):
        def training_step(self, batch, batch_idx):
            return super().training_step(batch["a"], batch_idx)

    model = Two()
    cb = LRFinderCallback(end_lr=10, num_iter=20, choose="default")
    trainer = pl.Trainer(**quiet_trainer(tmp_path, max_steps=2), callbacks=[cb])
    trainer.fit(model, {"a": digits_loader(), "b": digits_loader(batch_size=32)})
    assert len(cb.result) == 20 and model.lrs == [cb.chosen_lr] * 2


def test_a_loader_with_persistent_workers_gives_training_a_fresh_epoch(tmp_path):
    found = DigitsModule()
    cb = LRFinderCallback(end_lr=10, num_iter=20, choose="default")
    t = pl.Trainer(**quiet_trainer(tmp_path, max_epochs=1), callbacks=[cb])
    t.fit(found, digits_loader(num_workers=1, persistent_workers=True))
    assert found.steps == 20 + math.ceil(1797 / 64)  # the whole epoch after the test


def test_a_continued_fit_does_not_test_again(tmp_path):
    model = DigitsModule()
    cb = LRFinderCallback(end_lr=10, num_iter=20, choose="default")
    trainer = fit(tmp_path, model, cb, max_steps=2)
    first = cb.result
    trainer.fit_loop.epoch_loop.max_steps = 4
    trainer.fit(model, digits_loader())
    assert cb.result is first and model.steps == 20 + 4
    assert model.lrs == [cb.chosen_lr] * 4


def test_a_fit_resumed_from_a_checkpoint_trains_on_at_the_chosen_lr_without_a_test(tmp_path):
    cb = LRFinderCallback(end_lr=10, num_iter=20, choose="default")
    t = fit(tmp_path, DigitsModule(schedule="warmup"), cb, max_steps=2)
    lr = cb.chosen_lr
    t.save_checkpoint(tmp_path / "step2.ckpt")

    model, again = DigitsModule(schedule="warmup"), LRFinderCallback(choose="default")
    trainer = pl.Trainer(**quiet_trainer(tmp_path, max_steps=4), callbacks=[again])
    trainer.fit(model, digits_loader(), ckpt_path=tmp_path / "step2.ckpt")
    assert model.steps == 2 and again.result is None  # no test
    assert again.chosen_lr == lr  # kept in the checkpoint
    assert model.lrs == pytest.approx([3 * lr / 4, lr], rel=1e-12)  # the warmup goes on


# ---------------------------------------------------------------------- refused, before any step
@pytest.mark.parametrize(
    "kw, exc, name",
    [
        ({"choose": "auto"}, ValueError, "choose"),
        ({"timeout": -1}, ValueError, "timeout"),
        ({"end_lr": -1.0}, ValueError, "end_lr"),
        ({"num_iter": 1}, ValueError, "num_iter"),
        ({"start_lr": 1.0, "end_lr": 0.1}, ValueError, "start_lr"),
        ({"step_mod": "exp"}, TypeError, "step_mod"),
        ({"train_loader": []}, TypeError, "train_loader"),
        ({"smooth_f": 2.0}, ValueError, "smooth_f"),
        ({"rule": "fastest"}, ValueError, "rule"),
    ],
)
def test_bad_settings_raise_at_construction_naming_them(kw, exc, name):
    with pytest.raises(exc, match=name):
        LRFinderCallback(**kw)


def test_click_in_a_plain_script_raises_before_any_step(tmp_path):
    model = DigitsModule()
    cb = LRFinderCallback(end_lr=10, num_iter=20)  # choose="click"
    before = state_of(model)
    with pytest.raises(RuntimeError, match=r"choose='click' needs somewhere to click.*find\(\)"):
        fit(tmp_path, model, cb)
    assert model.steps == 0 and same_state(before, state_of(model)) == []


def test_manual_optimization_is_refused_before_any_step(tmp_path):
    class Manual(DigitsModule):
        def __init__(self):
            super().__init__()
            self.automatic_optimization = False

    model = Manual()
    with pytest.raises(ValueError, match="automatic_optimization=True"):
        fit(tmp_path, model, LRFinderCallback(choose="default"))
    assert model.steps == 0


def test_a_training_step_without_a_loss_is_refused_with_the_model_restored(tmp_path):
    class NoLoss(DigitsModule):
        def training_step(self, batch, batch_idx):
            super().training_step(batch, batch_idx)
            return None

    model = NoLoss()
    cb = LRFinderCallback(num_iter=20, choose="default")
    before = state_of(model)
    with pytest.raises(TypeError, match="training_step returned NoneType"):
        fit(tmp_path, model, cb)
    assert same_state(before, state_of(model)) == []


# ---------------------------------------------------------------------- the find step
def test_find_returns_while_the_test_runs_and_fit_trains_at_the_applied_lr(tmp_path):
    go, reached = threading.Event(), threading.Event()
    model = DigitsModule(schedule="warmup", hold=(5, go, reached))
    probe = Probe()
    cb = LRFinderCallback(end_lr=10, num_iter=40)  # choose="click"
    before = state_of(model)
    trainer = pl.Trainer(**quiet_trainer(tmp_path, max_steps=4), callbacks=[probe, cb])
    w = cb.find(model, digits_loader(), trainer=trainer)
    assert reached.wait(60), "the find step's test did not start"
    assert w.status == "running" and w.result is None  # find() returned during the test
    go.set()
    result = w.wait(timeout=60)
    lr = float(result.lrs[len(result) // 3])
    w.apply(lr)
    steps = model.steps
    assert same_state(before, state_of(model)) == []  # the find step restored the model

    trainer.fit(model, digits_loader())
    assert model.steps == steps + 4  # no second test
    assert cb.chosen_by == "click" and cb.chosen_lr == lr and cb.result is result
    assert probe.base_lrs == pytest.approx([lr], rel=1e-12)
    assert model.lrs == pytest.approx([lr / 4, lr / 2, 3 * lr / 4, lr], rel=1e-12)
    assert same_state(before, probe.before) == []


def test_find_without_an_apply_trains_at_the_default_suggestion_with_a_warning(tmp_path, caplog):
    model = DigitsModule()
    cb = LRFinderCallback(end_lr=10, num_iter=30)
    said = []
    heard = logging.getLogger("lightning.pytorch")  # does not propagate: listen to it
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: said.append(record.getMessage())
    heard.addHandler(handler)
    try:
        w = cb.find(model, digits_loader())
    finally:
        heard.removeHandler(handler)
    assert not [m for m in said if "GPU available" in m]  # no banner from the find's trainer
    w.wait(timeout=60)
    with caplog.at_level(logging.WARNING, logger="lrwidget"):
        fit(tmp_path, model, cb, max_steps=2)
    assert cb.chosen_by == "default" and model.lrs == [w.result.suggested_lr] * 2
    assert "nothing was applied in the find step's widget" in caplog.text


def test_a_fit_started_during_the_find_steps_test_ends_it_and_says_so(tmp_path):
    go, reached = threading.Event(), threading.Event()
    model = DigitsModule(hold=(5, go, reached))
    cb = LRFinderCallback(end_lr=10, num_iter=200)
    before = state_of(model)

    class Release(pl.Callback):  # runs once this fit took the module, before cb's setup
        def setup(self, trainer, pl_module, stage):
            go.set()

    w = cb.find(model, digits_loader())
    assert reached.wait(60)
    with pytest.raises(RuntimeError, match=r"trainer\.fit started while the find step"):
        fit(tmp_path, model, Release(), cb)
    assert w.status == "error" and model.steps == 5
    assert same_state(before, state_of(model)) == []


# ---------------------------------------------------------------------- DDP, Lightning's finder
def _next_result(w, job, after=None):
    """The widget's first range test's result that is not ``after``."""
    deadline = time.monotonic() + 150
    while True:
        try:
            result = w.wait(timeout=1)
            if result is not None and result is not after:
                return result
            time.sleep(0.2)
        except TimeoutError:
            pass
        if job.proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"no new range test reached the widget:\n{job.output()}")


def test_ddp_two_ranks_test_together_and_train_at_the_same_lr(tmp_path):
    import lrwidget
    from lrwidget.engine.history import RangeTestResult
    from tests.test_framework_schedule import reference_lrs

    pytest.importorskip("zmq")
    w = lrwidget.listen(display=False)
    try:
        env = {"LRWIDGET_ADDRESS": w.address, "LRWIDGET_TOKEN": w.token}
        with DDPJob(tmp_path, env, num_iter=40, range=True) as job:
            # the job's "default" fit streams nowhere, its "click" and "range" fits here
            result = _next_result(w, job)
            clicked = float(result.lrs[len(result) // 2])
            w.apply(clicked)
            ranged = _next_result(w, job, after=result)
            lo, hi = float(ranged.lrs[10]), float(ranged.lrs[20])
            w.source.schedule("one_cycle", lo, hi, total_steps=100)
            e = job.finish(120)
    finally:
        w.close()
    assert e.returncode == 0, f"the job did not end well ({e.returncode}):\n{e.output}"
    assert sorted(e.ranks) == [0, 1], e.output
    r0, r1 = e.ranks[0], e.ranks[1]
    for choose, lr in (("default", r0["default"]["chosen_lr"]), ("click", clicked)):
        a, b = r0[choose], r1[choose]
        assert a["result"] == b["result"], f"{choose}: the ranks' results differ"
        assert a["chosen_lr"] == b["chosen_lr"] == lr and a["chosen_by"] == choose
        for rec in (a, b):
            assert rec["differ"] == [], f"{choose}: not restored: {rec['differ']}"
            assert rec["base_lrs"] == pytest.approx([lr], rel=1e-12)
            assert rec["lrs"] == pytest.approx([lr / 4, lr / 2, 3 * lr / 4], rel=1e-12)
        assert a["weights"] == b["weights"]  # DDP kept the replicas equal
    # a schedule over the range applied in the notebook: the same on both ranks, exactly
    # build_schedule's over the trainer's own total (3 steps), in place of the warmup
    a, b = r0["range"], r1["range"]
    assert (
        a["schedule"]
        == b["schedule"]
        == {"kind": "one_cycle", "lo": lo, "hi": hi, "total_steps": 3}
    )
    assert a["chosen_by"] == b["chosen_by"] == "schedule" and a["differ"] == b["differ"] == []
    expected = [v for (v,) in reference_lrs([1e-3], "one_cycle", lo, hi, 3)]
    assert a["lrs"] == b["lrs"] and a["lrs"] == pytest.approx(expected, rel=1e-9)
    assert a["weights"] == b["weights"]
    default = RangeTestResult.from_dict(r0["default"]["result"])
    assert r0["default"]["chosen_lr"] == default.suggested_lr
    assert RangeTestResult.from_dict(r0["click"]["result"]).to_dict() == result.to_dict()


def test_lightnings_own_finder_and_this_callback_work_on_the_same_module(tmp_path, capsys):
    # the comparison row of docs/comparison.md: both run on the same module; Lightning's runs
    # its fit loop, sets the `lr` attribute and the optimizer's lr, and leaves the schedule built in
    # configure_optimizers at the configured lr; this callback moves the schedule
    from lightning.pytorch.callbacks import LearningRateFinder

    theirs_model = DigitsModule(lr=1e-3, schedule="warmup")
    theirs = LearningRateFinder(min_lr=1e-7, max_lr=10, num_training_steps=100)
    fit(tmp_path / "lightning", theirs_model, theirs, max_steps=4)
    their_lr = theirs.optimal_lr.suggestion()

    ours_model = DigitsModule(lr=1e-3, schedule="warmup")
    ours = LRFinderCallback(end_lr=10, num_iter=100, choose="default")
    fit(tmp_path / "lrwidget", ours_model, ours, max_steps=4)
    lr = ours.chosen_lr

    assert their_lr is not None and theirs_model.lr == their_lr
    # its test went through the module's hooks (on_train_batch_start saw its steps); training
    # then starts at the found lr, and the warmup takes the configured 1e-3 back from step 2
    # (if this fails, Lightning changed: update the comparison row of docs/comparison.md)
    assert len(theirs_model.lrs) > 90 + 4
    assert theirs_model.lrs[-4:] == pytest.approx([their_lr, 1e-3 / 2, 3e-3 / 4, 1e-3])
    assert ours_model.lrs == pytest.approx([lr / 4, lr / 2, 3 * lr / 4, lr], rel=1e-12)
    assert ours_model.lr == 1e-3 and ours_model.steps == len(ours.result) + 4
    with capsys.disabled():  # the comparison row of docs/comparison.md quotes these
        print(
            f"\n[lightning comparison] LearningRateFinder: {their_lr:.3g} "
            f"(steepest fall, {len(theirs.optimal_lr.results['lr'])} steps); "
            f"LRFinderCallback: {lr:.3g} ({len(ours.result)} steps, "
            f"{ours.result.stop_reason}); suggestions: "
            + ", ".join(f"{s.name}={s.lr:.3g}" for s in ours.result.suggestions.values() if s.lr)
        )

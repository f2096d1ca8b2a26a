"""``LRFinderCallback(watch=True)`` in a real Hugging Face Trainer (issue 18): the doctor watches
the training that follows the range test. A tiny BERT classifier built from its config (no
download), synthetic tokens, CPU, seeded.

One reading per optimizer step, equal to the loss the Trainer logs (gradient accumulation too);
a too-high lr applied in the find step's widget flagged too_high there, and its x0.1 button
obeyed; ``scale_lr`` from another thread scaling the Trainer's warmup schedule exactly; the line a
terminal gets.
"""

from __future__ import annotations

import os
import threading

import pytest
import torch

os.environ["HF_HUB_OFFLINE"] = "1"
pytest.importorskip("transformers")
from transformers import (
    Trainer,
    TrainerCallback,
    TrainingArguments,
    get_linear_schedule_with_warmup,
)

from lrwidget.engine.watch_events import ActionTaken, Chunk
from lrwidget.integrations.transformers import LRFinderCallback
from tests.terminal import check_watch_lines, terminal_stderr
from tests.test_transformers import Tokens, tiny_bert
from tests.widgets import Capture, comm_msg, wait_until

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _no_notebook(monkeypatch):
    monkeypatch.delenv("LRWIDGET_ADDRESS", raising=False)
    monkeypatch.delenv("LRWIDGET_TOKEN", raising=False)


class Probe(TrainerCallback):
    """After the LRFinderCallback: the watch's chunks (a listener from train begin), the lr of
    every optimizer step; ``at_step_end(step)`` runs at the end of each optimizer step."""

    def __init__(self, cb, at_step_end=None):
        self.cb, self.at_step_end = cb, at_step_end
        self.chunks, self.step_lrs = [], []
        self.watch_at_begin = "unset"

    def on_train_begin(self, args, state, control, **kw):
        self.watch_at_begin = self.cb.watch
        self.cb.watch.listen(lambda e: self.chunks.append(e) if isinstance(e, Chunk) else None)

    def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kw):
        self.step_lrs.append(float(optimizer.param_groups[0]["lr"]))

    def on_step_end(self, args, state, control, **kw):
        if self.at_step_end is not None:
            self.at_step_end(state.global_step)

    def readings(self):
        return [float(v) for c in self.chunks for v in c.losses]


def trainer_with(tmp_path, callbacks, **kw):
    args = TrainingArguments(
        **{
            "output_dir": str(tmp_path / "out"),
            "learning_rate": 5e-5,
            "warmup_steps": 2,
            "lr_scheduler_type": "linear",
            "per_device_train_batch_size": 8,
            "save_strategy": "no",
            "report_to": "none",
            "logging_strategy": "no",
            "use_cpu": True,
            "disable_tqdm": True,
            "seed": 0,
            **kw,
        }
    )
    return Trainer(
        model=tiny_bert(),
        args=args,
        train_dataset=Tokens(),
        callbacks=callbacks,
    )


def test_one_reading_per_optimizer_step_is_the_loss_the_trainer_logs(tmp_path):
    # gradient_accumulation_steps=2: 6 optimizer steps of 2 batches each, one reading each
    cb = LRFinderCallback(choose="default", num_iter=10, watch=True)
    probe = Probe(cb)
    assert cb.watch is None  # before training
    trainer = trainer_with(
        tmp_path,
        [cb, probe],
        max_steps=6,
        gradient_accumulation_steps=2,
        logging_strategy="steps",
        logging_steps=1,
    )
    trainer.train()

    watch = cb.watch
    assert probe.watch_at_begin is watch and watch.step == 6
    logged = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(logged) == 6
    # the Trainer logs each step's loss rounded to 4 decimals
    assert probe.readings() == pytest.approx(logged, abs=1e-4)
    # the watch's lrs are the ones the optimizer used
    used = [float(v) for c in probe.chunks for v in c.lrs[:, 0]]
    assert used == probe.step_lrs


def test_a_too_high_lr_applied_in_the_find_step_is_flagged_there_and_its_button_obeyed(tmp_path):
    cb = LRFinderCallback(start_lr=1e-5, end_lr=1, num_iter=20, watch=True)
    clicked = []

    def click_once(step):  # the x0.1 button of the find step's widget, once it says too_high
        if cb.watch.verdict == "too_high" and not clicked:
            clicked.append(step)
            t = threading.Thread(target=comm_msg, args=(w, {"type": "scale_lr", "factor": 0.1}))
            t.start()
            t.join(10)

    probe = Probe(cb, at_step_end=click_once)
    trainer = trainer_with(
        tmp_path, [cb, probe], max_steps=64, warmup_steps=0, lr_scheduler_type="constant"
    )
    w = cb.find(trainer)
    cap = Capture(w)
    w.wait()
    w.apply(30.0)  # far past the curve's minimum
    trainer.train()

    watch = cb.watch
    flagged = [e for e in watch.events if getattr(e, "verdict", None) == "too_high"]
    assert flagged, watch.events
    acted = [e for e in watch.events if isinstance(e, ActionTaken)]
    assert [(a.factor, a.error) for a in acted] == [(0.1, None)], acted
    # every step after the click at a tenth of the applied lr (a constant schedule)
    k = acted[0].step
    assert probe.step_lrs == pytest.approx([30.0] * k + [3.0] * (64 - k), rel=1e-9)

    def shown():
        msgs = [c for _, c, _ in cap.custom("training")]
        return (
            msgs
            and msgs[-1]["steps"] == 64
            and any(e.get("verdict") == "too_high" for e in msgs[-1]["events"])
        )

    wait_until(shown, 10, "the widget drawing the training with its too_high verdict")
    w.close()


def test_scale_lr_from_another_thread_scales_every_later_lr_of_the_warmup_exactly(tmp_path):
    cb = LRFinderCallback(choose="default", num_iter=10, watch=True)

    def from_a_thread(step):
        if step == 5:
            t = threading.Thread(target=cb.watch.scale_lr, args=(0.1,))
            t.start()
            t.join(10)

    probe = Probe(cb, at_step_end=from_a_thread)
    trainer = trainer_with(tmp_path, [cb, probe], max_steps=24, warmup_steps=8)
    trainer.train()

    (action,) = [e for e in cb.watch.events if isinstance(e, ActionTaken)]
    assert action.error is None and 5 <= action.step <= 6
    lr = cb.chosen_lr

    def reference(base):  # the Trainer's schedule built at ``base`` from scratch
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base)
        s = get_linear_schedule_with_warmup(opt, 8, 24)
        out = []
        for _ in range(24):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            s.step()
        return out

    k = action.step
    expected = reference(lr)[:k] + reference(0.1 * lr)[k:]
    assert probe.step_lrs == pytest.approx(expected, rel=1e-9, abs=0)


def test_in_a_terminal_each_verdict_change_is_one_line(tmp_path):
    cb = LRFinderCallback(choose="default", num_iter=10, watch=True)
    trainer = trainer_with(tmp_path, [cb], max_steps=96, warmup_steps=0)
    with terminal_stderr() as lines:
        trainer.train()
    check_watch_lines(lines, cb.watch.events)


@pytest.mark.parametrize("watch", ["yes", 1, None])
def test_watch_must_be_a_bool_named_when_the_callback_is_made(watch):
    with pytest.raises(TypeError, match="watch must be True or False"):
        LRFinderCallback(choose="default", watch=watch)


def test_attached_the_watch_reads_the_loss_of_a_compute_loss_func_as_the_trainer_logs(tmp_path):
    """A loss computed outside the model (label smoothing through compute_loss_func): without
    attach() the watch would read the model's own cross-entropy; attached, each reading is the
    loss the Trainer trains on and logs (gradient accumulation too)."""

    def smoothed(outputs, labels, num_items_in_batch=None):
        return torch.nn.functional.cross_entropy(outputs.logits, labels, label_smoothing=0.3)

    cb = LRFinderCallback(choose="default", num_iter=10, watch=True)
    probe = Probe(cb)
    trainer = trainer_with(
        tmp_path,
        [probe],
        max_steps=4,
        gradient_accumulation_steps=2,
        logging_strategy="steps",
        logging_steps=1,
    )
    trainer.compute_loss_func = smoothed
    assert cb.attach(trainer) is trainer
    trainer.callback_handler.callbacks.remove(probe)
    trainer.add_callback(probe)  # after the LRFinderCallback, as Probe needs
    trainer.train()
    logged = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(logged) == 4 and cb.watch.step == 4
    assert probe.readings() == pytest.approx(logged, abs=1e-4)
    with pytest.raises(TypeError, match=r"attach\(\) needs a transformers\.Trainer"):
        cb.attach(object())

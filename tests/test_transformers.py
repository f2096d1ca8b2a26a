"""LRFinderCallback in a real Hugging Face Trainer: a tiny BERT classifier built from its config
(no download), synthetic token data, CPU. Training after the callback runs at the chosen lr
(optimizer, schedule, args), with exactly the weights a Trainer configured with that lr by hand
gets, so the range test left nothing behind."""

from __future__ import annotations

import math
import os
import threading

import pytest
import torch

os.environ["HF_HUB_OFFLINE"] = "1"
transformers = pytest.importorskip("transformers")
from transformers import (  # noqa: E402
    BertConfig,
    BertForSequenceClassification,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from lrwidget.integrations.transformers import LRFinderCallback  # noqa: E402

torch.set_num_threads(1)

VOCAB, SEQ = 40, 8


class Tokens(torch.utils.data.Dataset):
    """Token sequences labelled by whether their first token is in the upper half of the
    vocabulary; ``gate``, when given, holds every item until it is set."""

    def __init__(self, n=64, gate=None):
        g = torch.Generator().manual_seed(1)
        self.x = torch.randint(1, VOCAB, (n, SEQ), generator=g)
        self.y = (self.x[:, 0] >= VOCAB // 2).long()
        self.gate = gate

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        if self.gate is not None:
            assert self.gate.wait(30)
        return {"input_ids": self.x[i], "attention_mask": torch.ones(SEQ), "labels": self.y[i]}


def tiny_bert():
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=SEQ,
    )
    return BertForSequenceClassification(cfg)


def make_args(tmp_path, lr=5e-5, **kw):
    kw = {
        "max_steps": 6,
        "warmup_steps": 2,
        "lr_scheduler_type": "linear",
        "per_device_train_batch_size": 8,
        "save_strategy": "no",
        **kw,
    }
    return TrainingArguments(
        output_dir=str(tmp_path / "out"),
        learning_rate=lr,
        report_to="none",
        logging_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
        **kw,
    )


class Probe(TrainerCallback):
    """Records the state at train begin (where it stands among the callbacks) and the lrs of
    every optimizer step, read just before the step."""

    def __init__(self):
        self.begin = None
        self.step_lrs = []
        self.step_momenta = []  # Adam's beta1 (else the momentum) of each group, before a step
        self.forwards = 0

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kw):
        self.begin = {
            "params": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "opt_state": len(optimizer.state),
            "lrs": [float(g["lr"]) for g in optimizer.param_groups],
            "held": [g["lr"] for g in optimizer.param_groups],  # the objects (tensor lrs)
        }

    def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kw):
        self.step_lrs.append([float(g["lr"]) for g in optimizer.param_groups])
        self.step_momenta.append(
            [g["betas"][0] if "betas" in g else g.get("momentum") for g in optimizer.param_groups]
        )


def count_forwards(model):
    n = [0]
    model.register_forward_pre_hook(lambda *a: n.__setitem__(0, n[0] + 1))
    return n


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def by_hand(tmp_path, lr, **kw):
    """The same training with ``lr`` configured in TrainingArguments, no callback."""
    probe = Probe()
    model = tiny_bert()
    Trainer(
        model=model,
        args=make_args(tmp_path, lr=lr, **kw),
        train_dataset=Tokens(),
        callbacks=[probe],
    ).train()
    return weights(model), probe.step_lrs


def assert_same_lrs(a, b):
    # exactly: the schedule moved to the chosen lr is the one built at it
    assert list(a) == list(b)


def assert_identical(a, b):
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"weights differ: {different}"


def test_default_trains_at_the_chosen_lr_after_a_restored_test(tmp_path, caplog):
    before, cb, after = Probe(), LRFinderCallback(choose="default", num_iter=20), Probe()
    model = tiny_bert()
    forwards = count_forwards(model)
    trainer = Trainer(
        model=model,
        args=make_args(tmp_path),
        train_dataset=Tokens(),
        callbacks=[before, cb, after],
    )
    with caplog.at_level("INFO", logger="lrwidget"):
        trainer.train()

    lr = cb.chosen_lr
    assert len(cb.result) == 20 and cb.chosen_by == "default"
    assert lr == cb.result.suggested_lr and lr != 5e-5
    # said once, and in the Trainer's log history (trainer_state.json)
    said = [r.getMessage() for r in caplog.records if "training at" in r.getMessage()]
    assert said == [f"lrwidget: training at lr={lr:.2e} (default suggestion 'minimum')"]
    assert trainer.state.log_history[0] == {"chosen_lr": lr, "chosen_by": "default", "step": 0}
    # the test ran (20 forwards) and left the model and optimizer as they were
    assert forwards[0] == 20 + 6
    for k, v in before.begin["params"].items():
        assert torch.equal(v, after.begin["params"][k]), k
    assert after.begin["opt_state"] == 0
    # training at lr: args, every group's base, the schedule's base lrs, warmup then linear decay
    assert trainer.args.learning_rate == lr
    assert [g["initial_lr"] for g in trainer.optimizer.param_groups] == [lr, lr]
    assert trainer.lr_scheduler.base_lrs == [lr, lr]  # exactly
    expected = [lr * f for f in (0, 0.5, 1, 0.75, 0.5, 0.25)]
    assert [s[0] for s in after.step_lrs] == pytest.approx(expected, rel=1e-12)
    assert after.begin["lrs"] == [0.0, 0.0]  # the first step of the warmup, restored as such

    # nothing left behind: the same weights as training configured with lr by hand
    hand_weights, hand_lrs = by_hand(tmp_path, lr)
    assert_same_lrs(hand_lrs, after.step_lrs)
    assert_identical(weights(model), hand_weights)


def test_a_tensor_lr_with_a_warmup_trains_at_the_chosen_lr_in_the_same_tensor(tmp_path):
    # a capturable/fused optimizer's lr is a tensor: this raised ZeroDivisionError (the
    # warmup's lr 0 was taken for the base)
    before, cb, after = Probe(), LRFinderCallback(choose="default", num_iter=20), Probe()
    model = tiny_bert()
    lr0 = torch.tensor(5e-5, dtype=torch.float64)
    opt = torch.optim.AdamW(model.parameters(), lr=lr0, foreach=False)
    trainer = Trainer(
        model=model,
        args=make_args(tmp_path),
        train_dataset=Tokens(),
        callbacks=[before, cb, after],
        optimizers=(opt, None),  # the Trainer builds its warmup + linear decay on it
    )
    trainer.train()

    lr = cb.chosen_lr
    assert cb.chosen_by == "default" and lr == cb.result.suggested_lr != 5e-5
    for k, v in before.begin["params"].items():
        assert torch.equal(v, after.begin["params"][k]), k
    assert after.begin["opt_state"] == 0 and after.begin["lrs"] == [0.0]
    # the tensor the Trainer's optimizer holds (accelerate's prepare copies the groups) is the
    # one moved, not replaced by a float
    held = before.begin["held"][0]
    assert isinstance(held, torch.Tensor) and trainer.optimizer.param_groups[0]["lr"] is held
    assert trainer.args.learning_rate == lr
    expected = [lr * f for f in (0, 0.5, 1, 0.75, 0.5, 0.25)]
    assert [s[0] for s in after.step_lrs] == pytest.approx(expected, rel=1e-12)


def test_a_test_step_is_an_optimizer_step_of_the_trainer(tmp_path):
    # gradient_accumulation_steps=2: each of the 10 sweep steps takes 2 batches
    cb = LRFinderCallback(choose="default", num_iter=10)
    model = tiny_bert()
    forwards = count_forwards(model)
    Trainer(
        model=model,
        args=make_args(tmp_path, max_steps=2, gradient_accumulation_steps=2),
        train_dataset=Tokens(),
        callbacks=[cb],
    ).train()
    assert len(cb.result) == 10
    assert forwards[0] == 10 * 2 + 2 * 2


def test_find_step_then_train_uses_the_applied_lr_without_testing_again(tmp_path):
    cb, probe = LRFinderCallback(num_iter=20), Probe()
    model = tiny_bert()
    forwards = count_forwards(model)
    trainer = Trainer(
        model=model, args=make_args(tmp_path), train_dataset=Tokens(), callbacks=[cb, probe]
    )
    w = cb.find(trainer)
    assert w is cb.widget
    result = w.wait()
    chosen = result.suggested_lr * 3  # a click elsewhere than the suggestion
    w.apply(chosen)
    assert forwards[0] == 20
    trainer.train()

    assert forwards[0] == 20 + 6  # no second test
    assert cb.result is result and cb.chosen_by == "click" and cb.chosen_lr == chosen
    assert trainer.args.learning_rate == chosen
    assert trainer.lr_scheduler.base_lrs == [chosen, chosen]  # exactly
    expected = [chosen * f for f in (0, 0.5, 1, 0.75, 0.5, 0.25)]
    assert [s[0] for s in probe.step_lrs] == pytest.approx(expected, rel=1e-12)

    hand_weights, hand_lrs = by_hand(tmp_path, chosen)
    assert_same_lrs(hand_lrs, probe.step_lrs)
    assert_identical(weights(model), hand_weights)


def test_train_during_the_find_steps_test_is_refused_with_nothing_trained(tmp_path):
    gate = threading.Event()
    gate.set()
    data = Tokens(gate=gate)
    cb = LRFinderCallback(num_iter=30)
    model = tiny_bert()
    start = weights(model)

    class OpenAtTrainBegin(TrainerCallback):
        # called before the finder's callback: the test is surely still running while train()
        # prepared; it may go on once training is about to begin
        def on_train_begin(self, args, state, control, **kwargs):
            gate.set()

    trainer = Trainer(
        model=model,
        args=make_args(tmp_path),
        train_dataset=data,
        callbacks=[OpenAtTrainBegin(), cb],
    )
    w = cb.find(trainer)
    gate.clear()  # the test's next batch waits until training is about to begin
    opener = threading.Timer(60, gate.set)  # a test that never gets there must not hang
    opener.start()
    try:
        with pytest.raises(RuntimeError, match=r"find step's range test was still running"):
            trainer.train()
    finally:
        opener.cancel()
        gate.set()
    assert_identical(weights(model), start)
    assert cb.chosen_lr is None

    # the way out the message names: find again, wait, train
    w = cb.find(trainer)
    w.wait()
    w.apply(1e-3)
    trainer.train()
    assert trainer.args.learning_rate == 1e-3 and trainer.lr_scheduler.base_lrs == [1e-3] * 2


def test_click_in_a_plain_script_raises_before_any_step(tmp_path, monkeypatch):
    monkeypatch.delenv("LRWIDGET_ADDRESS", raising=False)
    cb = LRFinderCallback(num_iter=10)
    model = tiny_bert()
    start, forwards = weights(model), count_forwards(model)
    trainer = Trainer(model=model, args=make_args(tmp_path), train_dataset=Tokens(), callbacks=[cb])
    with pytest.raises(RuntimeError, match=r"choose='click' needs somewhere to click.*find\(\)"):
        trainer.train()
    assert forwards[0] == 0 and trainer.state.global_step == 0
    assert_identical(weights(model), start)
    assert len(trainer.optimizer.state) == 0


def test_a_resumed_training_keeps_the_checkpoints_lr_without_testing(tmp_path):
    cb = LRFinderCallback(choose="default", num_iter=20)
    args = make_args(tmp_path, max_steps=3, save_strategy="steps", save_steps=3)
    Trainer(model=tiny_bert(), args=args, train_dataset=Tokens(), callbacks=[cb]).train()
    chosen = cb.chosen_lr
    assert chosen is not None

    again, probe = LRFinderCallback(choose="default", num_iter=20), Probe()
    model = tiny_bert()
    forwards = count_forwards(model)
    trainer = Trainer(
        model=model,
        args=make_args(tmp_path, lr=chosen, max_steps=5, save_strategy="no"),
        train_dataset=Tokens(),
        callbacks=[again, probe],
    )
    trainer.train(resume_from_checkpoint=str(tmp_path / "out" / "checkpoint-3"))
    assert again.result is None and again.chosen_lr is None
    assert forwards[0] == 2
    assert trainer.lr_scheduler.base_lrs == [chosen] * 2  # exactly


def test_the_rule_of_the_default_choice_is_one_setting(tmp_path, monkeypatch):
    # the hook for a fine-tuning rule: DEFAULT_RULE (one place), or the callback's rule
    import lrwidget.integrations.transformers as integration

    monkeypatch.setattr(integration, "DEFAULT_RULE", "valley")
    for rule, expected in ((None, "valley"), ("steep", "steep")):
        cb = LRFinderCallback(choose="default", num_iter=20, rule=rule)
        trainer = Trainer(
            model=tiny_bert(),
            args=make_args(tmp_path, max_steps=1, warmup_steps=0),
            train_dataset=Tokens(),
            callbacks=[cb],
        )
        trainer.train()
        lr = cb.result.suggestions[expected].lr
        assert lr != cb.result.suggested_lr  # not lrwidget's default rule's
        assert cb.chosen_lr == lr and trainer.args.learning_rate == lr


@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"choose": "auto"}, ValueError, "choose must be one of 'click', 'default'"),
        ({"timeout": -1}, ValueError, "timeout must be None or a number >= 0"),
        ({"timeout": math.inf}, ValueError, "timeout"),
        ({"rule": "best"}, ValueError, "rule must be None or one of"),
        ({"num_iter": 1}, ValueError, "num_iter"),
        ({"end_lr": -1.0}, ValueError, "end_lr"),
        ({"start_lr": 1.0, "end_lr": 0.1}, ValueError, "start_lr"),
        ({"smooth_f": 1.5}, ValueError, "smooth_f"),
        ({"step_mode": "cubic"}, ValueError, "step_mode"),
        ({"train_loader": []}, TypeError, "train_loader cannot be passed"),
        ({"bogus": 1}, TypeError, "bogus"),
    ],
)
def test_bad_arguments_raise_at_construction_naming_the_parameter(kwargs, error, names):
    with pytest.raises(error, match=names):
        LRFinderCallback(**kwargs)


def test_find_refuses_a_trainer_without_the_callback(tmp_path):
    cb = LRFinderCallback()
    trainer = Trainer(model=tiny_bert(), args=make_args(tmp_path), train_dataset=Tokens())
    with pytest.raises(ValueError, match=r"trainer: this callback is not one of its callbacks"):
        cb.find(trainer)
    with pytest.raises(TypeError, match=r"trainer must be a transformers.Trainer"):
        cb.find(object())

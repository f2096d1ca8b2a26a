"""``LRFinderCallback(watch=True)`` in real Lightning fits (issue 18): the doctor watches the
training that follows the range test. The digits MLP of tests/lightning_jobs.py, CPU, seeded.

One reading per optimizer step (the mean of the accumulated batches' losses); a too-high lr
applied in the find step's widget flagged too_high and drawn there; ``scale_lr`` from another
thread scaling the fit's OneCycleLR exactly; the line a terminal gets.
"""

from __future__ import annotations

import threading

import pytest

pl = pytest.importorskip("lightning.pytorch")

import torch  # noqa: E402

from lrwidget.engine.watch_events import ActionTaken, Chunk  # noqa: E402
from lrwidget.integrations.lightning import LRFinderCallback  # noqa: E402
from tests.lightning_jobs import DigitsModule, digits_loader, quiet_trainer  # noqa: E402
from tests.terminal import check_watch_lines, terminal_stderr  # noqa: E402
from tests.widgets import Capture, wait_until  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _no_notebook(monkeypatch):
    monkeypatch.delenv("LRWIDGET_ADDRESS", raising=False)
    monkeypatch.delenv("LRWIDGET_TOKEN", raising=False)


class Recording(DigitsModule):
    """Also keeps the loss of each training batch by the optimizer step it belongs to (not the
    range test's: those come before the first ``on_train_batch_start``)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.losses = {}

    def training_step(self, batch, batch_idx):
        out = super().training_step(batch, batch_idx)
        if self.lrs:
            self.losses.setdefault(self.trainer.global_step, []).append(out["loss"].item())
        return out


class Probe(pl.Callback):
    """After the LRFinderCallback: the watch's chunks (a listener from train start);
    ``at_batch_end(trainer, batch_idx)`` runs at the end of each batch."""

    def __init__(self, cb, at_batch_end=None):
        self.cb, self.at_batch_end = cb, at_batch_end
        self.chunks = []
        self.watch_at_start = "unset"

    def on_train_start(self, trainer, pl_module):
        self.watch_at_start = self.cb.watch
        if self.cb.watch is not None:  # a probe put before the callback sees none yet
            self.cb.watch.listen(lambda e: self.chunks.append(e) if isinstance(e, Chunk) else None)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.at_batch_end is not None:
            self.at_batch_end(trainer, batch_idx)


def trainer_with(tmp_path, callbacks, **kw):
    return pl.Trainer(**quiet_trainer(tmp_path, **kw), callbacks=list(callbacks))


def test_one_reading_per_optimizer_step_with_accumulation(tmp_path):
    cb = LRFinderCallback(end_lr=10, num_iter=30, choose="default", watch=True)
    probe = Probe(cb)
    assert cb.watch is None  # before training
    model = Recording(lr=1e-3)
    trainer_with(tmp_path, [cb, probe], max_steps=20, accumulate_grad_batches=2).fit(
        model, digits_loader()
    )

    watch = cb.watch
    assert probe.watch_at_start is watch and watch.step == 20
    # 29 batches an epoch: a step of 2 batches, and one of 1 at each epoch's end
    sizes = [len(v) for v in model.losses.values()]
    assert list(model.losses) == list(range(20)) and sizes.count(1) == 1 and sum(sizes) == 39
    readings = [float(v) for c in probe.chunks for v in c.losses]
    means = [sum(v) / len(v) for v in model.losses.values()]
    assert readings == pytest.approx(means, rel=1e-6)
    used = [float(v) for c in probe.chunks for v in c.lrs[:, 0]]
    assert used == [cb.chosen_lr] * 20  # what the optimizer used: the chosen lr, no schedule


def test_a_too_high_lr_applied_in_the_find_step_is_flagged_and_drawn_in_its_widget(tmp_path):
    cb = LRFinderCallback(start_lr=1e-4, end_lr=10, num_iter=30, watch=True)
    model = DigitsModule(lr=1e-3)
    trainer = trainer_with(tmp_path, [cb], max_steps=48)
    w = cb.find(model, digits_loader(), trainer=trainer)
    cap = Capture(w)
    w.wait()
    w.apply(30.0)  # far past the curve's minimum
    trainer.fit(model, digits_loader())

    watch = cb.watch
    assert model.lrs[0] == 30.0
    assert [e.verdict for e in watch.events if hasattr(e, "verdict")][-1] == "too_high"

    def shown():
        msgs = [c for _, c, _ in cap.custom("training")]
        return msgs and msgs[-1]["steps"] == 48 and msgs[-1]["verdict"] == "too_high"

    wait_until(shown, 10, "the find step's widget drawing the training, too_high")
    w.close()


def test_scale_lr_from_another_thread_scales_every_later_lr_of_the_one_cycle_exactly(tmp_path):
    cb = LRFinderCallback(end_lr=10, num_iter=30, choose="default", watch=True)

    def from_a_thread(trainer, batch_idx):
        if batch_idx == 15:
            t = threading.Thread(target=cb.watch.scale_lr, args=(0.1,))
            t.start()
            t.join(10)

    model = DigitsModule(lr=1e-3, schedule="onecycle")
    steps = 40
    trainer_with(tmp_path, [Probe(cb, from_a_thread), cb], max_steps=steps).fit(
        model, digits_loader()
    )

    (action,) = [e for e in cb.watch.events if isinstance(e, ActionTaken)]
    assert action.error is None and action.step == 16
    lr = cb.chosen_lr

    def reference(max_lr):  # the module's OneCycleLR built at ``max_lr`` from scratch
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=max_lr, momentum=0.9)
        s = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=steps)
        out = []
        for _ in range(steps):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            s.step()
        return out

    k = action.step
    expected = reference(lr)[:k] + reference(0.1 * lr)[k:]
    assert model.lrs == pytest.approx(expected, rel=1e-9, abs=0)


def test_in_a_terminal_each_verdict_change_is_one_line(tmp_path):
    cb = LRFinderCallback(end_lr=10, num_iter=30, choose="default", watch=True)
    trainer = trainer_with(tmp_path, [cb], max_steps=96)
    with terminal_stderr() as lines:
        trainer.fit(DigitsModule(lr=1e-3), digits_loader())
    check_watch_lines(lines, cb.watch.events)


@pytest.mark.parametrize("watch", ["yes", 1, None])
def test_watch_must_be_a_bool_named_when_the_callback_is_made(watch):
    with pytest.raises(TypeError, match="watch must be True or False"):
        LRFinderCallback(choose="default", watch=watch)

"""A small LightningModule on the digits data, a probe callback, and 2-rank DDP jobs (torchrun,
gloo, CPU) for tests/test_lightning.py and tests/browser/test_lightning_lab.py.

Every process of a job is killed by its pid at the end, whatever happened (tests/jobs.py:
torchrun's workers run in sessions of their own).
"""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from torch import nn
from torch.nn import functional as F
from torchmetrics.classification import MulticlassAccuracy

from tests.digits import digits_tensors
from tests.jobs import Ended, Job


def quiet_trainer(root, **kw) -> dict:
    """Trainer settings that write nothing and print little (tmp ``root``)."""
    return {
        "accelerator": "cpu",
        "devices": 1,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "default_root_dir": str(root),
        **kw,
    }


def digits_loader(batch_size: int = 64, seed: int = 0, **kw) -> torch.utils.data.DataLoader:
    """Shuffled by a generator of its own (whose state the callback must hand back)."""
    X, y = digits_tensors()
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X, y),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
        **kw,
    )


class DigitsModule(pl.LightningModule):
    """MLP 64-32-10 with BatchNorm, cross-entropy, SGD with momentum.

    ``schedule``: None, "warmup" (LambdaLR, per step: 1/4, 2/4, 3/4, 1, 1...) or "onecycle"
    (OneCycleLR over the fit's steps). ``metric``: a torchmetrics accuracy updated and logged
    in ``training_step``; ``sparse``: log nothing but one value every 10th batch (Lightning
    clears the values logged before an epoch only when something is logged in its first
    batch). ``self.lr`` is the attribute Lightning's own finder sets. ``tensor_lr``: the
    optimizer holds its lr as a float64 tensor (as capturable/fused optimizers do), kept as
    ``held_lr``. Records ``steps`` (training_step calls) and ``lrs`` (the lr at the start of
    each real batch, as a float).
    """

    def __init__(
        self,
        lr=1e-3,
        schedule=None,
        metric=False,
        dict_loss=True,
        hold=None,
        sparse=False,
        tensor_lr=False,
    ):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(
            nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10)
        )
        self.lr = lr
        self.schedule = schedule
        self.acc = MulticlassAccuracy(num_classes=10) if metric else None
        self.dict_loss = dict_loss
        self.hold = hold  # (step, event, reached): training_step waits there for the event
        self.sparse = sparse  # log only every 10th batch (from the 6th)
        self.tensor_lr = tensor_lr
        self.held_lr = None
        self.steps = 0
        self.lrs = []

    def training_step(self, batch, batch_idx):
        self.steps += 1
        if self.hold is not None and self.steps == self.hold[0]:
            self.hold[2].set()
            self.hold[1].wait(60)
        x, y = batch
        logits = self.net(x)
        loss = F.cross_entropy(logits, y)
        if self.sparse:
            if batch_idx % 10 == 5:
                self.log("sparse_loss", loss, on_step=False, on_epoch=True)
            return loss
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        if self.acc is not None:
            self.acc(logits, y)
            self.log("train_acc", self.acc, on_step=False, on_epoch=True)
        return {"loss": loss} if self.dict_loss else loss

    def on_train_batch_start(self, batch, batch_idx):
        self.lrs.append(float(self.trainer.optimizers[0].param_groups[0]["lr"]))

    def configure_optimizers(self):
        lr = self.lr
        if self.tensor_lr:
            lr = self.held_lr = torch.tensor(self.lr, dtype=torch.float64)
        opt = torch.optim.SGD(self.parameters(), lr=lr, momentum=0.9)
        if self.schedule is None:
            return opt
        if self.schedule == "warmup":
            s = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: min(1.0, (k + 1) / 4))
        elif self.schedule == "onecycle":
            s = torch.optim.lr_scheduler.OneCycleLR(
                opt, max_lr=self.lr, total_steps=int(self.trainer.estimated_stepping_batches)
            )
        else:
            raise ValueError(self.schedule)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": s, "interval": "step"}}


def state_of(module, optimizer=None) -> dict:
    """Everything a range test could leave behind, copied: parameters and buffers, grads,
    train/eval flags, the global RNG, the optimizer's per-parameter state."""
    out = {
        "model": {k: v.detach().clone() for k, v in module.state_dict().items()},
        "grads": [None if p.grad is None else p.grad.clone() for p in module.parameters()],
        "training": [m.training for m in module.modules()],
        "rng": torch.get_rng_state(),
    }
    if optimizer is not None:
        out["optimizer_state"] = {
            k: {n: t.clone() for n, t in s.items()}
            for k, s in optimizer.state_dict()["state"].items()
        }
    return out


def same_state(a, b) -> list[str]:
    """The keys of ``state_of`` results that differ (empty: bit for bit the same)."""
    differ = []
    for key in a:
        x, y = a[key], b[key]
        if key == "model" or key == "optimizer_state":
            ok = x.keys() == y.keys() and all(_equal(x[k], y[k]) for k in x)
        elif key == "grads":
            ok = len(x) == len(y) and all(_equal(p, q) for p, q in zip(x, y))
        else:
            ok = _equal(x, y)
        if not ok:
            differ.append(key)
    return differ


def _equal(x, y) -> bool:
    if isinstance(x, dict):
        return isinstance(y, dict) and x.keys() == y.keys() and all(_equal(x[k], y[k]) for k in x)
    if isinstance(x, torch.Tensor):
        return isinstance(y, torch.Tensor) and x.dtype == y.dtype and torch.equal(x, y)
    return x == y


class Probe(pl.Callback):
    """Put it before LRFinderCallback: ``before`` is the state when training starts, ``first``
    the state at the first real batch, with the scheduler's base lrs and the group's keys."""

    def __init__(self):
        self.before = self.first = None
        self.base_lrs = self.group = None

    def on_train_start(self, trainer, pl_module):
        self.before = state_of(pl_module, trainer.optimizers[0])

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.first is None:
            self.first = state_of(pl_module, trainer.optimizers[0])
            g = trainer.optimizers[0].param_groups[0]
            self.group = {k: g[k] for k in ("lr", "initial_lr", "max_lr") if k in g}
            configs = trainer.lr_scheduler_configs
            self.base_lrs = list(configs[0].scheduler.base_lrs) if configs else None


# ------------------------------------------------------------------------------ DDP jobs
JOB = r"""
import json, logging, os, sys, time
T0 = time.monotonic()
rank = int(os.environ["RANK"])
import torch
torch.set_num_threads(1)
logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                    format=f"LOG rank{rank} %(name)s %(levelname)s %(message)s")
import lightning.pytorch as pl
from lrwidget.integrations.lightning import LRFinderCallback
from tests.lightning_jobs import DigitsModule, Probe, digits_loader, quiet_trainer, same_state

cfg = json.loads(os.environ["JOB_CONFIG"])
out = {}
print(f"IMPORTED rank={rank} after {time.monotonic() - T0:.1f} s", flush=True)


def fit(name, choose=None):
    choose = choose or name
    model, probe = DigitsModule(schedule="warmup"), Probe()
    cb = LRFinderCallback(end_lr=10, num_iter=cfg["num_iter"], choose=choose)
    trainer = pl.Trainer(**quiet_trainer(".", devices=2, strategy="ddp", max_steps=3),
                         callbacks=[probe, cb])
    trainer.fit(model, digits_loader())
    out[name] = {
        "chosen_lr": cb.chosen_lr, "chosen_by": cb.chosen_by, "schedule": cb.chosen_schedule,
        "result": cb.result.to_dict(), "lrs": model.lrs, "base_lrs": probe.base_lrs,
        "differ": same_state(probe.before, probe.first),
        "weights": [float(p.detach().double().sum()) for p in model.parameters()],
    }
    print(f"FIT rank={rank} {name} lr={cb.chosen_lr!r} by={cb.chosen_by} "
          f"at {time.monotonic() - T0:.1f} s", flush=True)


address = os.environ.pop("LRWIDGET_ADDRESS", None)  # the default first: no notebook
fit("default")
if address is not None:
    os.environ["LRWIDGET_ADDRESS"] = address
    fit("click")
    if cfg.get("range"):
        fit("range", "click")  # the notebook applies a schedule over a range
with open(f"rank{rank}.json.tmp", "w") as f:
    json.dump(out, f)
os.replace(f"rank{rank}.json.tmp", f"rank{rank}.json")
"""


class DDPJob(Job):
    """A 2-rank torchrun job fitting ``DigitsModule`` with ``LRFinderCallback`` under
    ``strategy="ddp"`` (choose="default"; then choose="click" when ``env`` points it at a
    listening widget, and with ``range=True`` a third fit that takes a schedule over a range
    applied there). Use as a context manager: every process of it is killed at the end."""

    def __init__(self, workdir, env=None, ranks: int = 2, **config):
        super().__init__(workdir, JOB, ranks, config={"num_iter": 40, **config}, env=env)

    def finish(self, timeout: float) -> Ended:
        """Wait for the job (killing every process of it after ``timeout`` s)."""
        return self.end(timeout)

"""The training runs benchmarks/doctor.py judges: small families, seeded, CPU, no download.

A family gives a model factory, the data (scikit-learn's bundled sets only) and a good lr per
optimizer (inside the range test's descent, checked by the healthy runs); a run trains it for a
fixed number of steps at an lr given per step and returns the raw losses, so every scenario
(too high from the start or later, too low, healthy, one bad batch) is a list of lrs and an
optional bad step. Tuning families: ``mlp``, ``cnn`` (digits). Held out, never used to choose a
rule: ``gru`` (a synthetic sequence task). Logistic regression was tried and dropped: on a
separable set (wine) a 100x lr only trains faster, no test of a too-high lr.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

BATCH = 64
#: how much one bad batch's inputs are scaled
BAD_SCALE = 4


@dataclass
class Family:
    name: str
    x: torch.Tensor
    y: torch.Tensor
    make_model: Callable[[], nn.Module]
    #: a good lr per optimizer ("sgd": momentum 0.9, "adam")
    good: dict[str, float]
    held_out: bool = False

    def corrupt(
        self, x: torch.Tensor, y: torch.Tensor, seed: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One bad batch: labels shuffled, inputs scaled (symbols redrawn for a sequence)."""
        g = torch.Generator().manual_seed(seed)
        y = y[torch.randperm(len(y), generator=g)]
        if self.name == "gru":
            return torch.randint(0, 6, x.shape, generator=g).float(), y
        return x * BAD_SCALE, y


def _standard(x: np.ndarray) -> torch.Tensor:
    return torch.tensor((x - x.mean(0)) / (x.std(0) + 1e-6), dtype=torch.float32)


def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return _standard(x), torch.tensor(y, dtype=torch.int64)


class _Cnn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU()
        )
        self.head = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = nn.functional.max_pool2d(self.body(x.view(-1, 1, 8, 8)), 2)
        return self.head(h.flatten(1))


class _Gru(nn.Module):
    """Reads a sequence of symbols, says which symbol was most frequent."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(6, 16)
        self.gru = nn.GRU(16, 24, batch_first=True)
        self.head = nn.Linear(24, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(self.embed(x.long()))
        return self.head(out[:, -1])


def _sequences(n: int = 2048, length: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = np.random.default_rng(7)
    x = g.integers(0, 6, size=(n, length))
    counts = np.stack([(x == k).sum(1) for k in range(6)], 1)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(counts.argmax(1), dtype=torch.int64)


def families() -> list[Family]:
    x, y = _digits()
    sx, sy = _sequences()
    mlp = lambda: nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))  # noqa: E731
    return [
        Family("mlp", x, y, mlp, {"sgd": 0.1, "adam": 3e-3}),
        Family("cnn", x, y, _Cnn, {"sgd": 0.05, "adam": 3e-3}),
        Family("gru", sx, sy, _Gru, {"sgd": 0.1, "adam": 3e-3}, True),
    ]


def make_optimizer(name: str, model: nn.Module, lr: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return torch.optim.Adam(model.parameters(), lr=lr)


def loader(fam: Family, seed: int) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(fam.x, fam.y),
        batch_size=min(BATCH, len(fam.y) // 4),
        shuffle=True,
        drop_last=True,
        generator=torch.Generator().manual_seed(seed),
    )


def batches(fam: Family, seed: int):
    """The loader cycled forever."""
    while True:
        yield from loader(fam, seed)


def fresh(fam: Family, opt: str, seed: int, lr: float):
    torch.manual_seed(seed)
    model = fam.make_model()
    return model, make_optimizer(opt, model, lr)


def range_curve(fam: Family, opt: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A real range test of the fresh model (lrwidget.LRFinder): (lrs, smoothed losses)."""
    from lrwidget import LRFinder

    model, optimizer = fresh(fam, opt, seed, 1e-7)
    finder = LRFinder(model, optimizer, nn.CrossEntropyLoss())
    finder.range_test(loader(fam, seed), start_lr=1e-7, end_lr=10, num_iter=100)
    result = finder.result
    assert result is not None
    return np.asarray(result.lrs), np.asarray(result.smoothed)


@dataclass
class Run:
    """A training run's record: the raw loss and the lr of every step."""

    losses: np.ndarray
    lrs: np.ndarray


def train(
    fam: Family,
    opt: str,
    seed: int,
    lrs: np.ndarray,
    bad_step: int | None = None,
    on_step: Callable[[int, float, nn.Module, torch.optim.Optimizer], float | None] | None = None,
) -> Run:
    """Train ``len(lrs)`` steps, the lr of step i being ``lrs[i]``.

    ``bad_step``: that step's batch is corrupted (inputs x8, labels shuffled): one bad batch.
    ``on_step(i, loss, model, optimizer)`` may return a new lr factor for every later step
    (the rollback check uses it to restore and scale).
    """
    model, optimizer = fresh(fam, opt, seed, float(lrs[0]))
    crit = nn.CrossEntropyLoss()
    data = batches(fam, seed)
    out = np.empty(len(lrs))
    scale = 1.0
    for i, lr in enumerate(lrs):
        x, y = next(data)
        if i == bad_step:
            x, y = fam.corrupt(x, y, i)
        for g in optimizer.param_groups:
            g["lr"] = float(lr) * scale
        loss = crit(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        out[i] = loss.item()
        if on_step is not None:
            got = on_step(i, out[i], model, optimizer)
            scale = scale if got is None else got
    return Run(out, np.asarray(lrs, dtype=np.float64))


def state_of(model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    return copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict())

"""Task families for the choice-quality benchmark: small, offline, seconds per training run.

Each family gives tensors (train / test split), a model factory, a loss, a batch size, a
training budget (epochs) and a score in "points" (accuracy in %, or R^2 x 100 for regression,
so a gap of 1 point means the same thing everywhere). Nothing here downloads anything.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn


@dataclass
class Task:
    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    make_model: Callable[[], nn.Module]
    criterion: nn.Module
    batch_size: int
    epochs: int
    kind: str  # "classification" or "regression"

    def score(self, model: nn.Module) -> float:
        """Points on the test split; a diverged model (non-finite output) scores as chance /
        mean."""
        model.eval()
        with torch.no_grad():
            out = model(self.x_test)
        model.train()
        if self.kind == "regression":
            pred = out.reshape(-1).double()
            y = self.y_test.reshape(-1).double()
            if not torch.isfinite(pred).all():
                return 0.0
            r2 = 1 - float(((pred - y) ** 2).mean() / ((y - y.mean()) ** 2).mean())
            return 100 * max(r2, 0.0)  # worse than predicting the mean counts as the mean
        if not torch.isfinite(out).all():
            return 100.0 / out.shape[-1]
        return 100.0 * float((out.argmax(-1) == self.y_test).double().mean())


def _split(x, y, seed=0, test=0.25):
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(x))
    k = int(len(x) * (1 - test))
    return x[idx[:k]], y[idx[:k]], x[idx[k:]], y[idx[k:]]


def digits_mlp() -> Task:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.long)
    xtr, ytr, xte, yte = _split(x, y)

    def make():
        return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))

    return Task(
        "digits_mlp", xtr, ytr, xte, yte, make, nn.CrossEntropyLoss(), 64, 3, "classification"
    )


def digits_cnn() -> Task:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(d.target, dtype=torch.long)
    xtr, ytr, xte, yte = _split(x, y)

    def make():
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 16, 10),
        )

    return Task(
        "digits_cnn", xtr, ytr, xte, yte, make, nn.CrossEntropyLoss(), 64, 3, "classification"
    )


def diabetes() -> Task:
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    x = (d.data - d.data.mean(0)) / d.data.std(0)
    y = (d.target - d.target.mean()) / d.target.std()
    x = torch.tensor(x, dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.float32).unsqueeze(1)
    xtr, ytr, xte, yte = _split(x, y)

    def make():
        return nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))

    return Task("diabetes", xtr, ytr, xte, yte, make, nn.MSELoss(), 32, 10, "regression")


def noisy_blobs() -> Task:
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=3000,
        n_features=20,
        n_informative=10,
        n_redundant=4,
        n_classes=4,
        n_clusters_per_class=2,
        flip_y=0.2,
        class_sep=1.0,
        random_state=0,
    )
    x = torch.tensor((x - x.mean(0)) / x.std(0), dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.long)
    xtr, ytr, xte, yte = _split(x, y)

    def make():
        return nn.Sequential(
            nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4)
        )

    return Task(
        "noisy_blobs", xtr, ytr, xte, yte, make, nn.CrossEntropyLoss(), 64, 3, "classification"
    )


class _CharModel(nn.Module):
    """Next character from the previous `context` characters: embedding -> 1D conv -> linear."""

    def __init__(self, vocab: int, context: int, emb: int = 24, hidden: int = 96):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.conv = nn.Conv1d(emb, hidden, 4, stride=2)
        width = hidden * ((context - 4) // 2 + 1)  # conv output, flattened
        self.head = nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(width, vocab))

    def forward(self, x):
        return self.head(self.conv(self.emb(x).transpose(1, 2)))


def text_chars(context: int = 16, n: int = 8000) -> Task:
    """Char-level model on the source of a few stdlib modules (ships with Python)."""
    import collections
    import contextlib
    import io
    import json.decoder
    import string
    import textwrap

    with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the Zen
        import this  # the Zen, rot13-encoded in this.s

    codec = {
        **{c: chr((ord(c) - 65 + 13) % 26 + 65) for c in string.ascii_uppercase},
        **{c: chr((ord(c) - 97 + 13) % 26 + 97) for c in string.ascii_lowercase},
    }
    zen = "".join(codec.get(c, c) for c in this.s)
    text = zen + "".join(inspect.getsource(m) for m in (textwrap, json.decoder, collections))
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text], dtype=np.int64)
    rng = np.random.default_rng(0)
    starts = rng.choice(len(ids) - context - 1, size=n, replace=False)
    x = np.stack([ids[s : s + context] for s in starts])
    y = ids[starts + context]
    x, y = torch.tensor(x), torch.tensor(y)
    # contiguous split would be fairer for text; random windows keep it simple and the task stable
    xtr, ytr, xte, yte = _split(x, y)

    def make():
        return _CharModel(len(chars), context)

    return Task(
        "text_chars", xtr, ytr, xte, yte, make, nn.CrossEntropyLoss(), 64, 1, "classification"
    )


FAMILIES: dict[str, Callable[[], Task]] = {
    "digits_mlp": digits_mlp,
    "noisy_blobs": noisy_blobs,
    "diabetes": diabetes,
    "digits_cnn": digits_cnn,
    "text_chars": text_chars,
}
#: the default rule was designed on these ...
DESIGN = ("digits_mlp", "noisy_blobs", "diabetes")
#: ... and only checked on these afterwards
HELD_OUT = ("digits_cnn", "text_chars")


def make_optimizer(name: str, params, lr: float):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    raise ValueError(f"optimizer must be one of 'sgd', 'adam', 'adamw', got {name!r}")


OPTIMIZERS = ("sgd", "adam", "adamw")


def batches(task: Task, seed: int, epochs: int):
    """Shuffled mini-batches for `epochs` epochs, reproducible from `seed`."""
    g = torch.Generator().manual_seed(seed)
    n = len(task.x_train)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, task.batch_size):
            j = perm[i : i + task.batch_size]
            yield task.x_train[j], task.y_train[j]


def train_score(task: Task, opt_name: str, lr: float, seed: int) -> float:
    """Train a fresh model (init from `seed`) for the task's budget at a constant lr; test
    points."""
    torch.manual_seed(seed)
    model = task.make_model()
    opt = make_optimizer(opt_name, model.parameters(), lr)
    for xb, yb in batches(task, seed + 1000, task.epochs):
        loss = task.criterion(model(xb), yb)
        if not torch.isfinite(loss):
            break  # diverged: scored as chance below
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return task.score(model)


def steps_per_epoch(task: Task) -> int:
    return math.ceil(len(task.x_train) / task.batch_size)

"""Shared fixtures: real data (scikit-learn's bundled digits), small real models, state compare.

Every test runs with one torch thread (the machine is shared) and a fixed seed.

Fixtures
--------
digits            (X float32 [1797, 64] standardised, y int64) tensors
digits_loader     DataLoader over digits, batch 64, shuffled with a seeded generator
make_loader       make_loader(batch_size=64, shuffle=True, seed=0, n=None) -> DataLoader
make_mlp          make_mlp(hidden=32, bn=True, dropout=0.2, seed=0) -> nn.Sequential(64 -> 10)
mlp               make_mlp() : Linear, BatchNorm1d, ReLU, Dropout, Linear
full_state        full_state(model, optimizer=None, scaler=None) -> deep copy of everything
assert_same_state assert_same_state(a, b): every tensor torch.equal, every other value ==
"""

from __future__ import annotations

import copy
import os

import numpy as np
import pytest
import torch
from hypothesis import settings
from torch import nn

from tests.digits import digits_tensors

torch.set_num_threads(1)

# CI runs the property tests on a fixed set of examples, so a red CI is never a roll of the dice;
# locally they keep exploring new ones (and remember failures in .hypothesis/)
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture(scope="session")
def digits():
    return digits_tensors()


@pytest.fixture
def make_loader(digits):
    X, y = digits

    def make(batch_size=64, shuffle=True, seed=0, n=None):
        ds = torch.utils.data.TensorDataset(X[:n] if n else X, y[:n] if n else y)
        g = torch.Generator().manual_seed(seed)
        return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=g)

    return make


@pytest.fixture
def digits_loader(make_loader):
    return make_loader()


@pytest.fixture
def make_mlp():
    def make(hidden=32, bn=True, dropout=0.2, seed=0):
        torch.manual_seed(seed)
        layers = [nn.Linear(64, hidden)]
        if bn:
            layers.append(nn.BatchNorm1d(hidden))
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(hidden, 10))
        return nn.Sequential(*layers)

    return make


@pytest.fixture
def mlp(make_mlp):
    return make_mlp()


def _copy(v):
    if isinstance(v, torch.Tensor):
        return v.detach().clone()
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_copy(x) for x in v)
    return copy.deepcopy(v)


def _full_state(model, optimizer=None, scaler=None):
    out = {
        "model": _copy(model.state_dict()),
        "grads": [None if p.grad is None else p.grad.detach().clone() for p in model.parameters()],
        "training": [m.training for m in model.modules()],
        "rng": torch.get_rng_state(),
    }
    if optimizer is not None:
        out["optimizer"] = _copy(optimizer.state_dict())
    if scaler is not None:
        out["scaler"] = _copy(scaler.state_dict())
    return out


def _assert_same(a, b, path="state"):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), f"{path}: tensor vs {type(b).__name__}"
        assert a.dtype == b.dtype and a.shape == b.shape, (
            f"{path}: {a.dtype}{tuple(a.shape)} vs {b.dtype}{tuple(b.shape)}"
        )
        assert torch.equal(a, b), f"{path}: values differ"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), (
            f"{path}: keys {sorted(map(str, a))} vs {sorted(map(str, b))}"
        )
        for k in a:
            _assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{path}: length differs"
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.fixture
def full_state():
    return _full_state


@pytest.fixture
def assert_same_state():
    return _assert_same

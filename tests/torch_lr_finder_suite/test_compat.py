"""lrwidget's side of the torch-lr-finder drop-in, beyond what the vendored suite checks: its
ValDataLoaderIter read in full at every step, the suggestion marked on the curve, ``history``
that keeps what is written into it, and the suite's marks still naming real tests.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import random
import sys

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch_lr_finder.lr_finder import TrainDataLoaderIter, ValDataLoaderIter

from lrwidget import LRFinder, suggest

from .conftest import DIFFERENCES, UPSTREAM

matplotlib.use("Agg")
import matplotlib.pyplot as plt


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    return x, (x[:, :1] * 2 - x[:, 1:2] + 0.1 * torch.randn(n, 1, generator=g))


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))


def _finder(model=None):
    model = model or _model()
    return LRFinder(model, torch.optim.SGD(model.parameters(), lr=1e-4), nn.MSELoss())


def _quiet(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):  # plot() prints its suggestion
        return fn(*args, **kwargs)


def _suite_tests() -> set[str]:
    tree = ast.parse((UPSTREAM / "test_lr_finder.py").read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {
                f"{node.name}::{f.name}"
                for f in node.body
                if isinstance(f, ast.FunctionDef) and f.name.startswith("test")
            }
    return names


def test_every_documented_difference_names_a_test_of_the_suite():
    assert set(DIFFERENCES) <= _suite_tests()


# --------------------------------------------------------------- torch-lr-finder's loader iters


def test_a_val_data_loader_iter_is_read_in_full_at_every_step_like_its_data_loader():
    x, y = _data()
    train = DataLoader(TensorDataset(x[:64], y[:64]), batch_size=8)
    val = DataLoader(TensorDataset(x[64:], y[64:]), batch_size=8)
    kw = dict(end_lr=1e-1, num_iter=6, diverge_th=1e9)
    plain = _finder().range_test(train, val_loader=val, **kw)
    it = ValDataLoaderIter(val)
    seen = []
    it.inputs_labels_from_batch = lambda b: seen.append(len(b[0])) or (b[0], b[1])
    wrapped = _finder().range_test(train, val_loader=it, **kw)
    # no batch taken ahead (by a check before the first step) and missing from a pass
    np.testing.assert_array_equal(wrapped.losses, plain.losses)
    assert seen == [8, 8, 8, 8] * 6


def test_a_subclassed_loader_iter_splits_dict_batches_as_in_torch_lr_finder():
    x, y = _data()

    class Dicts(torch.utils.data.Dataset):
        def __len__(self):
            return 64

        def __getitem__(self, i):
            return {"x": x[i], "y": y[i]}

    class TrainIter(TrainDataLoaderIter):
        def inputs_labels_from_batch(self, batch):
            return batch["x"], batch["y"]

    class ValIter(ValDataLoaderIter):
        def inputs_labels_from_batch(self, batch):
            return batch["x"], batch["y"]

    kw = dict(end_lr=1e-1, num_iter=5, diverge_th=1e9)
    pairs = DataLoader(TensorDataset(x[:64], y[:64]), batch_size=16)
    plain = _finder().range_test(pairs, val_loader=pairs, **kw)
    dicts = DataLoader(Dicts(), batch_size=16)
    r = _finder().range_test(TrainIter(dicts), val_loader=ValIter(dicts), **kw)
    np.testing.assert_array_equal(r.losses, plain.losses)


def test_an_empty_val_data_loader_iter_is_refused_before_any_step():
    x, y = _data()
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    empty = ValDataLoaderIter(DataLoader(TensorDataset(x[:0], y[:0]), batch_size=8))
    with pytest.raises(ValueError, match="val_loader is empty"):
        _finder(model).range_test([(x, y)], val_loader=empty, end_lr=1e-1, num_iter=5)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


# --------------------------------------------------------------- plot


def _run(num_iter=30):
    x, y = _data()
    f = _finder()
    f.range_test([(x[i : i + 16], y[i : i + 16]) for i in range(0, 96, 16)], end_lr=10,
                 num_iter=num_iter, diverge_th=1e9)  # fmt: skip
    return f


def test_the_suggestion_is_marked_on_the_curve_and_is_the_one_apply_uses():
    f = _run()
    s = f.result.suggestions[suggest.DEFAULT]
    assert s.lr is not None and s.index is None  # the default rule's lr is no reading's
    ax, lr = _quiet(f.plot, ax=plt.subplots()[1])
    assert lr == f.result.suggested_lr
    (point,) = ax.collections[0].get_offsets()
    ok = np.isfinite(f.result.smoothed)
    expected = np.interp(np.log10(lr), np.log10(f.result.lrs[ok]), f.result.smoothed[ok])
    assert point[0] == lr and np.isclose(point[1], expected)


def test_too_few_readings_for_a_suggestion_on_the_plot_say_what_to_change():
    f = _run(num_iter=12)
    with pytest.raises(RuntimeError, match=r"Need at least 17 .*got 12.*skip_start.*skip_end"):
        f.plot(ax=plt.subplots()[1])  # the defaults skip 10 + 5
    ax = f.plot(ax=plt.subplots()[1], suggest_lr=False)
    assert len(ax.lines[0].get_xdata()) == 0
    ax, lr = _quiet(f.plot, skip_start=2, skip_end=2, ax=plt.subplots()[1])
    assert len(ax.lines[0].get_xdata()) == 8


def test_skip_end_beyond_the_readings_draws_nothing_rather_than_wrapping_around():
    f = _run(num_iter=12)
    ax = f.plot(skip_start=0, skip_end=20, suggest_lr=False, ax=plt.subplots()[1])
    assert len(ax.lines[0].get_xdata()) == 0


# --------------------------------------------------------------- history


def test_history_keeps_what_is_written_into_it_and_plot_draws_it():
    f = _run()
    f.history["loss"] = [v * 2 for v in f.history["loss"]]
    ax = f.plot(skip_start=0, skip_end=0, suggest_lr=False, ax=plt.subplots()[1])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), f.result.smoothed * 2)
    # the suggestion then comes from the curve drawn: the default rule on it
    lrs, losses = np.logspace(-4, 0, 20), (np.linspace(-2, 2, 20) ** 2) + 1
    f.history = {"lr": list(lrs), "loss": list(losses)}
    ax, lr = _quiet(f.plot, skip_start=0, skip_end=0, ax=plt.subplots()[1])
    assert lr == suggest.suggest(lrs, losses).lr
    # a new test starts a new history, as in torch-lr-finder
    x, y = _data()
    r = f.range_test([(x, y)], end_lr=1e-2, num_iter=5)
    assert f.history == {"lr": r.lrs.tolist(), "loss": r.smoothed.tolist()}


def test_plot_takes_numpy_ints_for_skips_and_refuses_bools():
    f = _run()
    n = len(f.history["lr"])
    ax = f.plot(
        skip_start=np.int64(1), skip_end=np.int64(2), suggest_lr=False, ax=plt.subplots()[1]
    )
    assert len(ax.lines[0].get_xdata()) == n - 3
    with pytest.raises(ValueError, match="skip_start must be an int >= 0, got True"):
        f.plot(skip_start=True, suggest_lr=False)


@pytest.mark.parametrize(
    "bad, match",
    [
        ([1, 2], "history must be a dict"),
        ({"lr": [1e-3, 1e-2]}, "history must be a dict"),
        ({"lr": [1e-3, 1e-2], "loss": [1.0]}, "history.*same length.*2 and 1"),
        ({"lr": ["a", "b"], "loss": [1.0, 2.0]}, "history.*numbers"),
    ],
)
def test_a_history_plot_cannot_draw_is_refused_naming_it(bad, match):
    f = _run()
    with pytest.raises((TypeError, ValueError), match=match):
        f.history = bad
        f.plot(ax=plt.subplots()[1])


# ------------------------------------ lrwidget's own loader iters: the one import (issue 16)
def _suite():
    # torch-lr-finder's test module, as pytest imports it (upstream/ is on sys.path: conftest)
    return importlib.import_module("test_lr_finder")


@pytest.mark.parametrize(
    "name",
    [
        "test_traindataloaderiter",
        "test_valdataloaderiter",
        "test_run_range_test_with_traindataloaderiter",
        "test_run_range_test_with_valdataloaderiter",
    ],
)
def test_lrwidgets_loader_iters_pass_torch_lr_finders_own_tests_of_them(monkeypatch, mocker, name):
    import lrwidget

    suite = _suite()
    for cls in ("DataLoaderIter", "TrainDataLoaderIter", "ValDataLoaderIter"):
        monkeypatch.setattr(suite, cls, getattr(lrwidget, cls), raising=False)
    test = getattr(suite.TestDataLoaderIter(), name)
    test(mocker) if "range_test" in name else test()


def test_a_subclass_of_lrwidgets_loader_iters_splits_batches_like_torch_lr_finders():
    from lrwidget import DataLoaderIter
    from lrwidget import TrainDataLoaderIter as Train
    from lrwidget import ValDataLoaderIter as Val

    x, y = _data()
    dicts = DataLoader([{"x": x[i], "y": y[i]} for i in range(64)], batch_size=16)
    results = []
    for train_cls, val_cls in ((Train, Val), (TrainDataLoaderIter, ValDataLoaderIter)):

        class TrainIter(train_cls):
            def inputs_labels_from_batch(self, batch):
                return batch["x"], batch["y"]

        class ValIter(val_cls):
            def inputs_labels_from_batch(self, batch):
                return batch["x"], batch["y"]

        kw = dict(end_lr=1e-1, num_iter=9, diverge_th=1e9)  # 9 steps: 2 epochs and a bit
        results.append(_finder().range_test(TrainIter(dicts), val_loader=ValIter(dicts), **kw))
        results.append(_finder().range_test(TrainIter(dicts), **kw))
    for a, b in zip(results[:2], results[2:]):
        np.testing.assert_array_equal(a.losses, b.losses)
    assert issubclass(Train, DataLoaderIter) and issubclass(Val, DataLoaderIter)
    assert Train(dicts).dataset is dicts.dataset
    with pytest.raises(ValueError, match=r"dict.*inputs_labels_from_batch"):
        next(Train(dicts))  # a dict batch needs a subclass, as in torch-lr-finder
    one_epoch = Train(DataLoader(TensorDataset(x[:64], y[:64]), batch_size=16), auto_reset=False)
    with pytest.raises(StopIteration):  # 4 batches, then the end, as in torch-lr-finder
        for _ in range(5):
            next(one_epoch)


def test_plot_without_matplotlib_names_the_extra_to_install(monkeypatch):
    f = _run()
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # as if not installed
    with pytest.raises(ImportError, match=r'pip install "lrwidget\[plot\]"'):
        _quiet(f.plot)


def test_a_curve_that_never_falls_gets_no_marker_where_torch_lr_finder_marks_one():
    # torch-lr-finder's test_plot_with_skip_and_suggest_lr asserts a marker on an 11-step XOR
    # curve; it passes here only because the conftest seeds each test with 1, where the loss
    # falls. With seed 4 it never does: lrwidget marks nothing and returns None
    # (docs/torch-lr-finder.md), so that test fails, whatever ran before it.
    random.seed(4)
    np.random.seed(4)
    torch.manual_seed(4)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(AssertionError):
        _suite().test_plot_with_skip_and_suggest_lr(True, 0, 0)
    assert "No suggested LR (minimum): the loss never decreases" in out.getvalue()

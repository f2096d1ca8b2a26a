"""torch-lr-finder's own test suite (``upstream/``, vendored unchanged) run against lrwidget.

The shim is the README's "one import to switch": torch-lr-finder stays what it is (its
``DataLoaderIter`` classes, vendored in ``upstream/torch_lr_finder``, so the suite needs neither
the network nor the package installed) and its ``LRFinder`` is lrwidget's.

Also here, in place of the suite's own conftest.py (see README.md): the ``mocker.spy`` fixture
its tests use, its seed, its CPU-only switch, and the tests marked as lrwidget's documented
differences (``DIFFERENCES``), each an ``xfail(strict=True)``: it must keep failing, for the
reason given, or the mark (and docs/torch-lr-finder.md) is out of date.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import pathlib
import random
import sys
from unittest import mock

import numpy as np
import pytest
import torch

import lrwidget

UPSTREAM = pathlib.Path(__file__).parent / "upstream"

# the vendored package is the suite's torch_lr_finder, whatever else is installed
sys.path.insert(0, str(UPSTREAM))
for _name in [m for m in sys.modules if m == "torch_lr_finder" or m.startswith("torch_lr_finder.")]:
    del sys.modules[_name]
torch_lr_finder = importlib.import_module("torch_lr_finder")
assert pathlib.Path(torch_lr_finder.__file__).parent == UPSTREAM / "torch_lr_finder"

# the shim: the one line a user changes
torch_lr_finder.LRFinder = torch_lr_finder.lr_finder.LRFinder = lrwidget.LRFinder

# the library itself is no test (its docstrings' examples need a model they do not define)
collect_ignore = ["upstream/torch_lr_finder"]

#: test id (relative to upstream/test_lr_finder.py) -> (what fails, why lrwidget differs)
DIFFERENCES = {
    "test_suggest_lr": (
        AssertionError,
        "lrwidget's default suggestion is the lr at the lowest loss / 10, not the steepest "
        "gradient of the plotted curve (docs/torch-lr-finder.md)",
    ),
    "TestDataLoaderIter::test_run_range_test_with_trainloaderiter_without_subclassing": (
        pytest.fail.Exception,
        "lrwidget takes any iterable of batches as train_loader (a list, a generator), not "
        "only a DataLoader or a TrainDataLoaderIter, so there is no 'unsupported type' error",
    ),
    "TestDataLoaderIter::test_run_range_test_with_valloaderiter_without_subclassing": (
        pytest.fail.Exception,
        "lrwidget takes any re-iterable of batches as val_loader (a list of batches), not "
        "only a DataLoader or a ValDataLoaderIter, so there is no 'unsupported type' error",
    ),
}


def pytest_collection_modifyitems(config, items):
    # (test_compat.py checks that every name in DIFFERENCES is a test of the suite)
    suite = UPSTREAM / "test_lr_finder.py"
    for item in items:
        if item.path == suite:
            test_id = item.nodeid.split("::", 1)[1]
            if test_id in DIFFERENCES:
                raises, reason = DIFFERENCES[test_id]
                item.add_marker(pytest.mark.xfail(strict=True, raises=raises, reason=reason))


# --------------------------------------------------------------- the suite's conftest.py, here


class _CmdOpt:
    """``pytest.custom_cmdopt`` of the suite's conftest: only ``cpu_only`` is read (task.py).

    The suite takes it from a ``--cpu_only`` option; a command-line option can only be added by
    a conftest.py at the root of a run, so here it is the environment variable
    ``LRWIDGET_TLF_CPU_ONLY=1``. Unset, CUDA is used when there is one, as in the suite.
    """

    cpu_only = os.environ.get("LRWIDGET_TLF_CPU_ONLY", "") not in ("", "0")


pytest.custom_cmdopt = _CmdOpt()


@pytest.fixture(autouse=True)
def _seeded():
    """The suite's seed (1, chosen there so that its 1e-5..1e-1 sweeps do not diverge), set
    before each test instead of once per session: the same run whatever ran before it.
    (Overrides tests/conftest.py's fixture of the same name.)"""
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    yield


class _Mocker:
    """The one pytest-mock feature the suite uses, ``mocker.spy``, as pytest-mock does it: the
    real attribute is called through (``side_effect``) and the calls are counted."""

    def __init__(self):
        self._patches = []

    def spy(self, obj, name):
        real = getattr(obj, name)
        autospec = inspect.ismethod(real) or inspect.isfunction(real)

        @functools.wraps(real)
        def through(*args, **kwargs):
            return real(*args, **kwargs)

        patch = mock.patch.object(obj, name, side_effect=through, autospec=autospec)
        spied = patch.start()
        self._patches.append(patch)
        return spied

    def stop_all(self):
        while self._patches:
            self._patches.pop().stop()


@pytest.fixture
def mocker():
    m = _Mocker()
    yield m
    m.stop_all()

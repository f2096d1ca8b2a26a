"""Kernel-side code that several tests run in a real kernel (JupyterLab, nbclient): one copy."""

from __future__ import annotations

#: scikit-learn's digits (``X``, ``y`` as ``load_digits(return_X_y=True)`` gives them) read from
#: its own file as load_digits does: importing sklearn would cost every kernel ~2 CPU-s
DIGITS_DATA = """\
import importlib.util, pathlib, numpy as np
_sklearn = pathlib.Path(importlib.util.find_spec("sklearn").origin).parent
_digits = np.loadtxt(_sklearn / "datasets/data/digits.csv.gz", delimiter=",")
X, y = _digits[:, :-1], _digits[:, -1].astype(int)
"""

DIGITS_SETUP = (
    """\
import time, copy, torch
torch.set_num_threads(1)
from torch import nn
import lrwidget
from lrwidget import LRFinder, LRFinderWidget
"""
    + DIGITS_DATA
    + """\
X = (X - X.mean(0)) / (X.std(0) + 1e-6)
data = torch.utils.data.TensorDataset(torch.tensor(X, dtype=torch.float32), torch.tensor(y))
loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True,
                                     generator=torch.Generator().manual_seed(0))
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9)
criterion = nn.CrossEntropyLoss()

def step(model, batch):
    time.sleep({sleep!r})  # slow enough for the test to act while the range test runs
    x, y = batch
    return criterion(model(x), y)

finder = LRFinder(model, optimizer, criterion)
widget = LRFinderWidget(finder, title={title!r})
print("SETUP OK")"""
)


GATED = """
from tests.browser.gate import held
step = held(step, {gate!r})  # the browser test releases the steps (tests/browser/gate.py)"""


def digits_setup(
    sleep: float = 0.05, title: str = "digits MLP, SGD", gate: str | None = None
) -> str:
    """Cell source: digits loader, a small MLP, SGD, an LRFinder and an LRFinderWidget named
    `widget`; with ``gate`` (a path), ``step`` waits on that gate (tests/browser/gate.py)."""
    source = DIGITS_SETUP.format(sleep=sleep, title=title)
    return source if gate is None else source + GATED.format(gate=str(gate))

"""Kernel-side code that several tests run in a real kernel (JupyterLab, nbclient): one copy."""

from __future__ import annotations

DIGITS_SETUP = """\
import time, copy, torch
torch.set_num_threads(1)
from torch import nn
from sklearn.datasets import load_digits
import lrwidget
from lrwidget import LRFinder, LRFinderWidget
X, y = load_digits(return_X_y=True)
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

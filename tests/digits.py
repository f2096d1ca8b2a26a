"""The digits data and the small SGD set-up several tests train on, as plain functions.

Plain (not fixtures) so module-scoped fixtures and the browser tests can call them too; the
kernel-side copy of the same set-up is the cell source in ``tests/kernel_code.py``.
"""

import torch
from torch import nn


def digits_tensors():
    """scikit-learn's digits: (X float32 [1797, 64] standardised, y int64).

    Read from scikit-learn's own file as the kernels read it (``kernel_code.DIGITS_DATA``, checked
    equal to ``load_digits`` by tests/test_export.py): importing sklearn costs ~5 CPU-s, paid by
    every job and torchrun rank the tests start.
    """
    from tests.kernel_code import DIGITS_DATA

    data: dict = {}
    exec(DIGITS_DATA, data)
    X, y = data["X"], data["y"]
    X = (X - X.mean(0)) / (X.std(0) + 1e-6)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.int64)


def digits_sgd():
    """(model, optimizer, loader): MLP 64-32-10, SGD lr 1e-5 momentum 0.9, batch 64, seed 0."""
    torch.set_num_threads(1)
    X, y = digits_tensors()
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X, y),
        batch_size=64,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    return model, torch.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9), loader

"""Tensors the optimizer trains outside the model (a criterion's temperature) come back too."""

import pytest
import torch
from torch import nn

from lrwidget import LRFinder


class TemperatureCE(nn.Module):
    """Cross-entropy of logits / a learnable temperature; counts its calls in a buffer."""

    def __init__(self):
        super().__init__()
        self.temperature = nn.Parameter(torch.tensor(1.0))
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def forward(self, out, y):
        self.calls += 1
        return nn.functional.cross_entropy(out / self.temperature, y)


def _state(model, crit, opt, full_state):
    s = full_state(model, opt)
    s["criterion"] = {k: v.detach().clone() for k, v in crit.state_dict().items()}
    s["criterion_grad"] = [None if p.grad is None else p.grad.clone() for p in crit.parameters()]
    return s


@pytest.fixture
def setup(mlp, digits_loader):
    crit = TemperatureCE()
    opt = torch.optim.Adam(
        [{"params": mlp.parameters()}, {"params": crit.parameters(), "lr": 1e-3}], lr=1e-4
    )
    it = iter(digits_loader)
    for _ in range(2):  # Adam state for the temperature too
        x, y = next(it)
        opt.zero_grad()
        crit(mlp(x), y).backward()
        opt.step()
    return mlp, crit, opt


def test_range_test_restores_the_criterion_bit_for_bit(
    setup, digits_loader, full_state, assert_same_state
):
    model, crit, opt = setup
    before = _state(model, crit, opt, full_state)
    r = LRFinder(model, opt, crit).range_test(
        digits_loader, start_lr=1e-3, end_lr=10.0, num_iter=30, diverge_th=1e9
    )
    assert len(r) == 30
    assert_same_state(_state(model, crit, opt, full_state), before)


def test_track_restores_the_criterion_bit_for_bit(
    setup, digits_loader, full_state, assert_same_state
):
    model, crit, opt = setup
    before = _state(model, crit, opt, full_state)
    finder = LRFinder(model, opt, crit)
    batches = iter(digits_loader)
    with finder.track(start_lr=1e-3, end_lr=10.0, num_iter=20, diverge_th=1e9) as run:
        for _ in run:
            x, y = next(batches)
            opt.zero_grad()
            loss = crit(model(x), y)
            loss.backward()
            opt.step()
            run.record(loss)
    assert len(run.result) == 20
    assert_same_state(_state(model, crit, opt, full_state), before)

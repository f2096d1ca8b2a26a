import os

import pytest
import torch
from torch import nn

from lrwidget.snapshot import Snapshot


def _train(model, opt, loader, steps, scaler=None):
    model.train()
    it = iter(loader)
    for _ in range(steps):
        x, y = next(it)
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()


def _two_group_adam(model):
    first, rest = list(model[0].parameters()), [p for m in list(model)[1:] for p in m.parameters()]
    return torch.optim.Adam([{"params": first, "lr": 1e-3}, {"params": rest, "lr": 1e-4}],
                            weight_decay=1e-4)


@pytest.mark.parametrize("memory_cache", [True, False])
def test_restore_is_bit_for_bit(mlp, digits_loader, full_state, assert_same_state, tmp_path,
                                memory_cache):
    opt = _two_group_adam(mlp)
    _train(mlp, opt, digits_loader, 3)  # Adam moments, BN stats and grads exist now
    mlp.eval()  # a non-default mode, to see it come back
    before = full_state(mlp, opt)
    params = list(mlp.parameters())
    groups = list(opt.param_groups)

    snap = Snapshot.capture(mlp, opt, memory_cache=memory_cache, cache_dir=tmp_path)
    if not memory_cache:
        assert len(os.listdir(tmp_path)) == 1
    _train(mlp, opt, digits_loader, 5)
    for g in opt.param_groups:
        g["lr"] *= 10
        g["extra"] = 1
    torch.rand(10)
    assert not torch.equal(mlp[0].weight, before["model"]["0.weight"])

    snap.restore()
    assert_same_state(full_state(mlp, opt), before)
    assert all(a is b for a, b in zip(mlp.parameters(), params))
    assert all(a is b for a, b in zip(opt.param_groups, groups))
    assert "extra" not in opt.param_groups[0]
    snap.free()
    assert snap.freed and os.listdir(tmp_path) == []
    with pytest.raises(RuntimeError, match="freed"):
        snap.restore()


def test_fresh_optimizer_state_comes_back_empty(mlp, digits_loader, full_state, assert_same_state):
    opt = torch.optim.Adam(mlp.parameters(), lr=1e-3)
    before = full_state(mlp, opt)
    snap = Snapshot.capture(mlp, opt)
    _train(mlp, opt, digits_loader, 2)
    assert len(opt.state) > 0
    snap.restore()
    assert len(opt.state) == 0
    assert all(p.grad is None for p in mlp.parameters())
    assert_same_state(full_state(mlp, opt), before)
    # the optimizer still works on the same parameters afterwards
    _train(mlp, opt, digits_loader, 1)
    assert len(opt.state) == len(list(mlp.parameters()))


def test_grad_scaler_and_rng_come_back(mlp, digits_loader, full_state, assert_same_state):
    opt = torch.optim.SGD(mlp.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=1)
    _train(mlp, opt, digits_loader, 2, scaler)
    before = full_state(mlp, opt, scaler)
    snap = Snapshot.capture(mlp, opt, scaler)
    _train(mlp, opt, digits_loader, 3, scaler)  # growth_interval=1: the scale grows each step
    assert scaler.get_scale() != before["scaler"]["scale"]
    snap.restore()
    assert_same_state(full_state(mlp, opt, scaler), before)
    a = torch.rand(5)
    snap.restore()
    assert torch.equal(torch.rand(5), a)  # the same draws again


def test_rng_can_be_left_alone(mlp):
    opt = torch.optim.SGD(mlp.parameters(), lr=0.1)
    snap = Snapshot.capture(mlp, opt, rng=False)
    a = torch.rand(3)
    snap.restore()
    assert not torch.equal(torch.rand(3), a)


def test_non_persistent_buffers_come_back():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.register_buffer("scratch", torch.zeros(3), persistent=False)

    m = M()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    snap = Snapshot.capture(m, opt)
    m.scratch.add_(5)
    snap.restore()
    assert torch.equal(m.scratch, torch.zeros(3))

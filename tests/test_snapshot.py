import os

import pytest
import torch
from torch import nn

from lrwidget.engine.snapshot import RestoreError, Snapshot


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
    return torch.optim.Adam(
        [{"params": first, "lr": 1e-3}, {"params": rest, "lr": 1e-4}], weight_decay=1e-4
    )


@pytest.mark.parametrize("memory_cache", [True, False])
def test_restore_is_bit_for_bit(
    mlp, digits_loader, full_state, assert_same_state, tmp_path, memory_cache
):
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
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=1)
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


# ------------------------------------------------------ tensors outside the model (issue 9, item 2)
class _TemperedCE(nn.Module):
    """Cross-entropy of ``logits / temperature + offset``: a criterion with state of its own."""

    def __init__(self):
        super().__init__()
        self.temperature = nn.Parameter(torch.tensor(1.0))  # trained: in the optimizer
        self.offset = nn.Parameter(torch.zeros(10))  # not in the optimizer, gets grads
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)

    def forward(self, logits, y):
        if self.training:
            self.calls += 1
            self.scratch += 1
        return nn.functional.cross_entropy(logits / self.temperature + self.offset, y)


def _outside_setup(mlp, kind):
    crit = _TemperedCE()
    free = nn.Parameter(torch.zeros(10))  # a bare parameter added to the logits
    groups = [
        {"params": list(mlp.parameters())},
        {"params": [crit.temperature], "lr": 1e-2},
        {"params": [free]},
    ]
    if kind == "adam":
        opt = torch.optim.Adam(groups, lr=1e-3)
    else:
        opt = torch.optim.SGD(groups, lr=1e-2, momentum=0.9)
    return crit, free, opt


def _train_outside(mlp, crit, free, opt, loader, steps, lrs=None):
    mlp.train()
    crit.train()
    it = iter(loader)
    for i in range(steps):
        if lrs is not None:
            for g in opt.param_groups:
                g["lr"] = lrs[i]
        x, y = next(it)
        opt.zero_grad()
        crit(mlp(x) + free, y).backward()
        opt.step()


def _outside_state(full_state, mlp, crit, free, opt):
    return {
        "main": full_state(mlp, opt),
        "crit": {k: v.detach().clone() for k, v in crit.state_dict().items()},
        "crit_scratch": crit.scratch.clone(),
        "crit_grads": [None if p.grad is None else p.grad.clone() for p in crit.parameters()],
        "crit_training": crit.training,
        "free": free.detach().clone(),
        "free_grad": None if free.grad is None else free.grad.clone(),
    }


@pytest.mark.parametrize("kind", ["adam", "sgd"])
@pytest.mark.parametrize("memory_cache", [True, False])
def test_tensors_outside_the_model_come_back_bit_for_bit(
    mlp, digits_loader, full_state, assert_same_state, tmp_path, kind, memory_cache
):
    crit, free, opt = _outside_setup(mlp, kind)
    _train_outside(mlp, crit, free, opt, digits_loader, 3)  # moments / momentum and grads exist
    crit.eval()
    before = _outside_state(full_state, mlp, crit, free, opt)
    assert before["free_grad"] is not None and before["crit_grads"][1] is not None

    snap = Snapshot.capture(
        mlp, opt, memory_cache=memory_cache, cache_dir=tmp_path, extra_modules=(crit,)
    )
    _train_outside(mlp, crit, free, opt, digits_loader, 5)
    after = _outside_state(full_state, mlp, crit, free, opt)
    assert not torch.equal(after["crit"]["temperature"], before["crit"]["temperature"])
    assert not torch.equal(after["free"], before["free"])
    assert after["crit"]["calls"] != before["crit"]["calls"] and after["crit_training"]

    temperature, offset = crit.temperature, crit.offset
    snap.restore()
    assert_same_state(_outside_state(full_state, mlp, crit, free, opt), before)
    assert crit.temperature is temperature and crit.offset is offset
    assert opt.param_groups[1]["params"][0] is temperature
    assert opt.param_groups[2]["params"][0] is free
    snap.free()


def test_the_issue_case_a_learnable_temperature_moved_by_a_sweep_comes_back(mlp, digits_loader):
    # issue 9 item 2: after a range test the criterion's temperature had moved from 1.0 to 16.3.
    # Capture as the finder did before (model and optimizer only): every tensor in the param
    # groups must still come back, extra_modules or not.
    crit, free, opt = _outside_setup(mlp, "sgd")
    snap = Snapshot.capture(mlp, opt)
    lrs = torch.logspace(-3, 1, 25).tolist()
    _train_outside(mlp, crit, free, opt, digits_loader, 25, lrs)
    assert abs(crit.temperature.item() - 1.0) > 0.5, crit.temperature.item()
    assert free.abs().max() > 0.1
    snap.restore()
    assert crit.temperature.item() == 1.0 and crit.temperature.grad is None
    assert torch.equal(free, torch.zeros(10)) and free.grad is None
    assert [g["lr"] for g in opt.param_groups] == [1e-2] * 3
    assert len(opt.state) == 0


def test_extra_modules_state_comes_back_even_when_not_in_the_optimizer(mlp, digits_loader):
    crit = _TemperedCE()
    opt = torch.optim.SGD(mlp.parameters(), lr=0.1)
    snap = Snapshot.capture(mlp, opt, extra_modules=[crit])
    _train_outside(mlp, crit, torch.zeros(10), opt, digits_loader, 2)
    assert crit.calls.item() == 2 and crit.offset.grad is not None
    snap.restore()
    assert crit.calls.item() == 0 and torch.equal(crit.scratch, torch.zeros(2))
    assert crit.offset.grad is None and crit.temperature.grad is None


# ---------------------------------------------------------------- a failed restore can be retried
@pytest.mark.parametrize("memory_cache", [True, False])
def test_a_failed_restore_keeps_the_snapshot_and_a_retry_is_bit_for_bit(
    mlp, digits_loader, full_state, assert_same_state, tmp_path, memory_cache
):
    opt = torch.optim.Adam(mlp.parameters(), lr=1e-3)
    _train(mlp, opt, digits_loader, 2)
    before = full_state(mlp, opt)
    snap = Snapshot.capture(mlp, opt, memory_cache=memory_cache, cache_dir=tmp_path)
    _train(mlp, opt, digits_loader, 3)
    mlp[0].register_buffer("added_during_the_run", torch.ones(1))  # load_state_dict now fails
    during = full_state(mlp, opt)

    with pytest.raises(RestoreError, match="added_during_the_run") as info:
        snap.restore()
    assert "not restored" in str(info.value) and "restore() again" in str(info.value)
    assert not snap.freed and not snap.restored
    # nothing was half-written: the failure was found before anything was touched
    assert_same_state(full_state(mlp, opt), during)
    if not memory_cache:
        # what restore read is kept: a retry needs the file no longer
        [name] = os.listdir(tmp_path)
        os.remove(tmp_path / name)

    del mlp[0]._buffers["added_during_the_run"]  # the cause, removed
    snap.restore()
    assert snap.restored
    assert_same_state(full_state(mlp, opt), before)
    snap.free()
    assert snap.freed and os.listdir(tmp_path) == []


def test_a_removed_cache_file_is_a_clear_restore_error(
    mlp, digits_loader, full_state, assert_same_state, tmp_path
):
    opt = torch.optim.SGD(mlp.parameters(), lr=0.1, momentum=0.9)
    snap = Snapshot.capture(mlp, opt, memory_cache=False, cache_dir=tmp_path)
    _train(mlp, opt, digits_loader, 2)
    during = full_state(mlp, opt)
    [name] = os.listdir(tmp_path)
    os.rename(tmp_path / name, tmp_path / "elsewhere")  # a temp-dir cleaner took it
    with pytest.raises(RestoreError, match="could not read") as info:
        snap.restore()
    assert isinstance(info.value.__cause__, FileNotFoundError) and str(tmp_path) in str(info.value)
    assert not snap.freed
    assert_same_state(full_state(mlp, opt), during)
    os.rename(tmp_path / "elsewhere", tmp_path / name)  # put back: the retry works
    snap.restore()
    assert len(opt.state) == 0
    snap.free()


@pytest.mark.parametrize("change", ["shape", "dtype", "param_group", "group_params", "module"])
def test_a_changed_model_or_optimizer_is_refused_before_anything_is_written(
    mlp, digits_loader, full_state, assert_same_state, change
):
    opt = torch.optim.SGD(mlp.parameters(), lr=0.1, momentum=0.9)
    snap = Snapshot.capture(mlp, opt)
    _train(mlp, opt, digits_loader, 2)
    if change == "shape":
        mlp[4].bias = nn.Parameter(torch.zeros(11))
    elif change == "dtype":
        mlp[0].double()
    elif change == "param_group":
        opt.add_param_group({"params": [nn.Parameter(torch.zeros(2))]})
    elif change == "group_params":
        opt.param_groups[0]["params"].append(nn.Parameter(torch.zeros(3)))
    else:
        mlp.append(nn.Identity())
    during = full_state(mlp, opt)
    with pytest.raises(RestoreError, match="not restored"):
        snap.restore()
    assert_same_state(full_state(mlp, opt), during)
    assert not snap.freed


# ------------------------------------------------------ a failed snapshot write (issue 9, item 7)
def test_a_snapshot_write_that_hits_the_disk_limit_leaves_nothing_behind(tmp_path):
    from tests.subproc import run_script

    cache = tmp_path / "cache"
    cache.mkdir()
    out = run_script(
        f"""
        import errno, resource, signal
        from torch import nn
        from lrwidget.engine.snapshot import Snapshot, SnapshotWriteError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the real disk-full path: EFBIG
        model = nn.Sequential(nn.Linear(1024, 1024), nn.Linear(1024, 10))  # about 4 MB
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        before = [p.detach().clone() for p in model.parameters()]
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.RLIM_INFINITY))
        try:
            Snapshot.capture(model, opt, memory_cache=False, cache_dir={str(cache)!r})
        except SnapshotWriteError as e:
            assert isinstance(e, OSError)
            print(errno.errorcode[e.errno])
            print(e)
        assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before))
    """,
        tmp_path / "child",
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    code, message = out.stdout.strip().splitlines()
    assert code == "EFBIG"
    assert f"could not write the snapshot to {cache}" in message and "File too large" in message
    assert os.listdir(cache) == []


def test_a_missing_cache_dir_is_a_clear_error(mlp, tmp_path):
    opt = torch.optim.SGD(mlp.parameters(), lr=0.1)
    with pytest.raises(OSError, match=f"could not write the snapshot to {tmp_path / 'nope'}"):
        Snapshot.capture(mlp, opt, memory_cache=False, cache_dir=tmp_path / "nope")

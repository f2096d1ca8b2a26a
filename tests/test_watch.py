"""finder.watch(): the doctor on real training (scikit-learn's digits, seeded, one torch thread).

Verdicts from the loss and from the range test's curve, a param group 100x off named, the
listener API, the terminal lines, actions from the training thread and from another thread,
and every bad input refused with nothing changed.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch
from torch import nn

from lrwidget import LRFinder, Watch
from lrwidget.engine.watch_events import ActionTaken, Chunk, VerdictChanged
from tests.digits import digits_sgd, digits_tensors


def train(watch, model, opt, loader, steps, crit=None, sched=None, hook=None):
    """``steps`` real steps (the loader cycled), each recorded."""
    crit = crit or nn.CrossEntropyLoss()
    done = 0
    while done < steps:
        for x, y in loader:
            loss = crit(model(x), y)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            opt.zero_grad()
            watch.record(loss)
            done += 1
            if hook is not None:
                hook(done)
            if done == steps:
                return


def setup(lr):
    model, opt, loader = digits_sgd()
    for g in opt.param_groups:
        g["lr"] = lr
    return model, opt, loader, LRFinder(model, opt, nn.CrossEntropyLoss())


def test_a_good_lr_is_healthy_and_a_100x_lr_is_too_high_with_its_start():
    model, opt, loader, finder = setup(0.05)
    with finder.watch(progress=False) as watch:
        train(watch, model, opt, loader, 64)
        assert watch.verdict == "healthy", watch.reason
        watch.scale_lr(100.0)
        train(watch, model, opt, loader, 64)
    assert watch.verdict == "too_high", watch.reason
    assert "too high" in watch.reason
    assert watch.since is not None and 64 <= watch.since < 128
    kinds = [(type(e).__name__, getattr(e, "verdict", None)) for e in watch.events]
    assert kinds[0] == ("VerdictChanged", "healthy")
    assert ("ActionTaken", None) in kinds and kinds[-1] == ("VerdictChanged", "too_high")
    assert all(e.step <= f.step for e, f in zip(watch.events, watch.events[1:]))


def test_too_low_comes_from_the_range_tests_curve_and_says_so():
    model, opt, loader, finder = setup(1e-5)
    finder.range_test(loader, start_lr=1e-7, end_lr=10, num_iter=100)
    with finder.watch(progress=False) as watch:
        train(watch, model, opt, loader, 80)
    assert watch.verdict == "too_low", watch.reason
    assert watch.diagnosis.evidence == "curve" and "flat region" in watch.reason


def test_without_a_curve_a_plateau_is_never_called_too_low():
    model, opt, loader, finder = setup(1e-5)  # no range test: no curve
    with finder.watch(progress=False) as watch:
        train(watch, model, opt, loader, 80)
    assert watch.verdict == "watching", watch.reason


def test_a_param_group_with_a_100x_lr_is_named_in_the_reason():
    torch.manual_seed(0)
    X, y = digits_tensors()
    a, b, head = nn.Linear(64, 32), nn.Linear(32, 32), nn.Linear(32, 10)
    model = nn.Sequential(a, nn.ReLU(), b, nn.ReLU(), head)
    opt = torch.optim.SGD(
        [
            {"params": a.parameters(), "lr": 1e-3, "name": "a"},
            {"params": b.parameters(), "lr": 1e-3, "name": "b"},
            {"params": head.parameters(), "lr": 1e-1, "name": "head"},
        ]
    )
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X, y), batch_size=64, shuffle=False
    )
    got = []
    with LRFinder(model, opt).watch(progress=False) as watch:
        watch.listen(got.append)
        train(watch, model, opt, loader, 32)
    assert set(watch.ratios) == {"a", "b", "head"}
    assert watch.ratios["head"] - max(watch.ratios["a"], watch.ratios["b"]) > 1.5, watch.ratios
    assert -6 < watch.ratios["a"] < -2
    assert "group head's updates are" in watch.reason and "too high" in watch.reason
    # measured on the device on each chunk's last step, fetched with its losses
    chunks = [e for e in got if isinstance(e, Chunk)]
    assert len(chunks) == 2 and all(np.isfinite(c.ratios).all() for c in chunks)
    assert [e.verdict for e in watch.events] == ["watching"]  # the reason changed: an event


def ratios_on(opt, groups: int):
    """A chunk's slice of ``groups`` ratios and the UpdateRatios that write them for ``opt``."""
    from lrwidget.engine.watch_ratios import UpdateRatios

    out = torch.zeros(groups, dtype=torch.float64)
    return out, UpdateRatios(opt, out)


def measured_step(ratios, opt) -> None:
    """One measured step as the watch takes it: the weights copied, the step, the ratios."""
    ratios.before()
    opt.step()
    ratios.after()
    opt.zero_grad()


def test_each_groups_ratio_is_log10_std_update_over_std_weight_bit_for_bit():
    # the ratios reuse their buffers and compute in place: the value must stay the formula's

    torch.manual_seed(0)
    body, head = nn.Linear(64, 32), nn.Linear(32, 10)
    frozen = nn.Parameter(torch.ones(3), requires_grad=False)
    opt = torch.optim.Adam(
        [{"params": body.parameters()}, {"params": head.parameters()}, {"params": [frozen]}],
        lr=1e-3,
    )
    out, ratios = ratios_on(opt, 3)
    groups = [list(body.parameters()), list(head.parameters())]
    for _ in range(3):
        head(torch.relu(body(torch.randn(8, 64)))).sum().backward()
        before = [torch.cat([p.detach().reshape(-1) for p in ps]) for ps in groups]
        measured_step(ratios, opt)
        for g, (ps, w0) in enumerate(zip(groups, before)):
            w = torch.cat([p.detach().reshape(-1) for p in ps])
            want = torch.log10((w0 - w).std() / w.std()).double()
            assert torch.equal(out[g], want), (g, out[g], want)
        assert math.isnan(out[2])  # a group with nothing that trains


def test_a_large_groups_ratio_is_measured_on_a_fixed_sample_within_a_percent_of_the_whole():
    # a group of more than SAMPLE elements: its ratio is the formula's over a fixed sample (the
    # copies and the passes cost the same for any model), close to the whole group's
    from lrwidget.engine.watch_ratios import SAMPLE, sample_indices

    torch.manual_seed(0)
    conv = nn.Conv2d(16, 32, 3).to(memory_format=torch.channels_last)  # non-contiguous weight
    body, head = nn.Linear(256, 256), nn.Linear(256, 10)
    big = [conv.weight, conv.bias, *body.parameters()]
    assert sum(p.numel() for p in big) > SAMPLE and not conv.weight.is_contiguous()
    opt = torch.optim.Adam([{"params": big}, {"params": head.parameters()}], lr=1e-3)
    rng = torch.get_rng_state()
    out, ratios = ratios_on(opt, 2)
    assert torch.equal(torch.get_rng_state(), rng)  # the sample leaves torch's RNG alone
    idx = sample_indices(big)
    assert idx is not None and abs(sum(len(i) for i in idx) - SAMPLE) <= len(big)
    assert sample_indices(list(head.parameters())) is None  # small: measured whole
    x = torch.randn(4, 16, 12, 12).to(memory_format=torch.channels_last)
    for _ in range(3):
        h = conv(x).mean((2, 3)).repeat(1, 8)
        head(torch.relu(body(h))).sum().backward()
        before = [p.detach().clone() for p in big]
        measured_step(ratios, opt)
        take = [torch.cat([p.reshape(-1)[i] for p, i in zip(ps, idx)]) for ps in (before, big)]
        w0, w = take[0], take[1].detach()
        assert torch.equal(out[0], torch.log10((w0 - w).std() / w.std()).double())
        whole = [torch.cat([p.detach().reshape(-1) for p in ps]) for ps in (before, big)]
        full = torch.log10((whole[0] - whole[1]).std() / whole[1].std()).item()
        assert abs(out[0].item() - full) < 0.02, (out[0].item(), full)


def test_a_sampled_group_whose_updates_are_too_sparse_reads_minus_inf_then_is_measured_whole():
    # an embedding a step of which changes 4 of its 20,000 rows: a sample of 8,192 elements sees
    # about 2 of them change, which says nothing of the update's spread

    torch.manual_seed(0)
    emb = nn.Embedding(20000, 32)
    opt = torch.optim.SGD(emb.parameters(), lr=0.1)
    out, ratios = ratios_on(opt, 1)
    got = []
    for step in range(3):
        emb(torch.tensor([step, 7, 11, 12345 + step])).sum().backward()
        w0 = emb.weight.detach().reshape(-1).clone()
        measured_step(ratios, opt)
        got.append(out[0].item())
        ratios.seen(out.numpy())  # what the watch does with each chunk's ratios
        w = emb.weight.detach().reshape(-1)
        whole = torch.log10((w0 - w).std() / w.std()).double()
    assert got[0] == -math.inf  # no measurement: the verdict skips it
    assert torch.equal(out[0], whole) and math.isfinite(got[2])  # then the whole group's


def test_a_sampled_group_that_did_not_move_reads_nan_and_keeps_its_sample():
    # an lr of 0 (a warmup's first step): nothing changed, which is no reason to copy it whole
    from lrwidget.engine.watch_ratios import SAMPLE

    torch.manual_seed(0)
    body = nn.Linear(200, 200)
    opt = torch.optim.AdamW(body.parameters(), lr=0.0)
    out, ratios = ratios_on(opt, 1)
    body(torch.randn(4, 200)).sum().backward()
    measured_step(ratios, opt)
    assert math.isnan(out[0].item())
    ratios.seen(out.numpy())
    (group,) = ratios.groups
    assert not group.wide and group.idx is not None and len(group.before[0]) <= SAMPLE


def test_a_sample_of_a_huge_tensor_is_drawn_without_permuting_all_of_it():
    from lrwidget.engine.watch_ratios import _draw

    g = torch.Generator().manual_seed(0)
    idx = _draw(3_000_000_000, 8192, g)  # a permutation would take 24 GB
    assert len(idx) == 8192 and len(idx.unique()) == 8192
    assert bool((idx[1:] > idx[:-1]).all()) and 0 <= int(idx[0]) and int(idx[-1]) < 3_000_000_000
    assert int(idx[-1]) > 2_900_000_000 and int(idx[0]) < 100_000_000  # spread over all of it
    again = _draw(3_000_000_000, 8192, torch.Generator().manual_seed(0))
    assert torch.equal(idx, again)  # the same sample each time
    small = _draw(100, 40, torch.Generator().manual_seed(0))
    assert len(small.unique()) == 40 and int(small.max()) < 100


def test_listeners_get_every_chunk_with_the_lrs_used_and_verdicts_and_actions_in_order():
    model, opt, loader, finder = setup(0.05)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (1 + s))
    got = []
    with finder.watch(sched, every=16, progress=False) as watch:
        off = watch.listen(got.append)
        train(watch, model, opt, loader, 40, sched=sched)
        watch.scale_lr(0.5)
        train(watch, model, opt, loader, 10, sched=sched)
        off()
        train(watch, model, opt, loader, 16, sched=sched)
    chunks = [e for e in got if isinstance(e, Chunk)]
    # 16 + 16 + 8 (flushed by the action); the steps after off() are not heard
    assert [c.start for c in chunks] == [0, 16, 32]
    lrs = np.concatenate([c.lrs[:, 0] for c in chunks])
    np.testing.assert_allclose(lrs, [0.05 / (1 + s) for s in range(40)], rtol=1e-12)
    losses = np.concatenate([c.losses for c in chunks])
    assert losses.shape == (40,) and np.isfinite(losses).all()
    actions = [e for e in got if isinstance(e, ActionTaken)]
    assert [(a.step, a.factor, a.error) for a in actions] == [(40, 0.5, None)]
    assert isinstance(got[-1], VerdictChanged) and got[-1].verdict == "watching"
    assert len(watch.events) >= 2 and watch.step == 66


def test_the_last_steps_are_delivered_when_the_block_ends():
    model, opt, loader, finder = setup(0.05)
    got = []
    with finder.watch(every=16, progress=False) as watch:
        watch.listen(got.append)
        train(watch, model, opt, loader, 21)
    assert [(c.start, c.count) for c in got if isinstance(c, Chunk)] == [(0, 16), (16, 5)]


def test_a_listener_that_raises_does_not_end_training(caplog):
    model, opt, loader, finder = setup(0.05)
    with finder.watch(progress=False) as watch:
        watch.listen(lambda e: 1 / 0)
        train(watch, model, opt, loader, 32)
    assert watch.step == 32 and "listener failed" in caplog.text


def test_in_a_terminal_each_verdict_change_is_one_line_unless_a_view_listens(capsys):
    model, opt, loader, finder = setup(0.05)
    with finder.watch(progress=True) as watch:
        train(watch, model, opt, loader, 64)
        watch.scale_lr(0.5)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("lrwidget watch:")]
    first = watch.events[0]
    assert first.verdict == "healthy", err
    assert lines[0] == f"lrwidget watch: step {first.step}: healthy: {first.reason}", err
    assert any("lr x0.5" in ln and "lr now 0.025" in ln for ln in lines), lines
    with finder.watch(progress=True) as watch:
        watch.listen(lambda e: None)
        train(watch, model, opt, loader, 64)
    assert "lrwidget watch:" not in capsys.readouterr().err


def test_scale_lr_from_another_thread_is_applied_at_the_next_record():
    model, opt, loader, finder = setup(0.05)
    with finder.watch(progress=False) as watch:
        train(watch, model, opt, loader, 10)
        out = []
        t = threading.Thread(target=lambda: out.append(watch.scale_lr(0.1)))
        t.start()
        t.join(10)
        assert out == [None] and opt.param_groups[0]["lr"] == 0.05  # not between two steps yet
        train(watch, model, opt, loader, 1)
        assert opt.param_groups[0]["lr"] == pytest.approx(0.005, rel=1e-12)
    taken = [e for e in watch.events if isinstance(e, ActionTaken)]
    assert [(a.step, a.factor) for a in taken] == [(11, 0.1)]


@pytest.mark.parametrize("factor", [0, -1.0, math.nan, math.inf, True, "0.1", None])
def test_a_bad_factor_is_refused_naming_it_and_nothing_changes(factor):
    model, opt, loader, finder = setup(0.05)
    with finder.watch(progress=False) as watch:
        train(watch, model, opt, loader, 20)
        with pytest.raises(ValueError, match="factor must be a finite number > 0"):
            watch.scale_lr(factor)
        with pytest.raises(TypeError, match="rollback must be True or False"):
            watch.scale_lr(0.1, rollback="yes")
        assert opt.param_groups[0]["lr"] == 0.05
    assert not [e for e in watch.events if isinstance(e, ActionTaken)]


def test_record_of_a_non_scalar_loss_or_a_non_number_is_refused():
    model, opt, loader, finder = setup(0.05)
    with finder.watch(progress=False) as watch:
        with pytest.raises(ValueError, match=r"scalar loss, got a tensor of shape \(3,\)"):
            watch.record(torch.ones(3))
        with pytest.raises(TypeError, match="loss tensor or a number, got str"):
            watch.record("1.0")
        assert watch.step == 0
        watch.record(torch.tensor([2.0]))  # one element is a scalar
        watch.record(1.5)
    assert watch.step == 2
    with pytest.raises(RuntimeError, match="outside"):
        watch.record(1.0)


def test_watch_on_a_finder_running_a_range_test_is_refused_and_nothing_changes(full_state):
    model, opt, loader, finder = setup(0.05)
    with finder.track(end_lr=1.0, num_iter=5) as run:
        before = full_state(model, opt)
        with pytest.raises(RuntimeError, match="while a range test is running"):
            finder.watch()
        after = full_state(model, opt)
        for _lr in run:
            run.record(1.0)
    torch.testing.assert_close(before["model"], after["model"], rtol=0, atol=0)
    assert opt.param_groups[0]["lr"] == 0.05


@pytest.mark.parametrize(
    ("kw", "err", "match"),
    [
        ({"every": 0}, ValueError, "every must be an integer >= 1"),
        ({"every": 2.5}, ValueError, "every must be an integer"),
        ({"snapshot_every": -1}, ValueError, "snapshot_every must be an integer >= 1"),
        ({"ring_bytes": -5}, ValueError, "ring_bytes must be an integer >= 0"),
        ({"progress": "yes"}, TypeError, "progress must be True, False or None"),
        ({"scheduler": "cosine"}, TypeError, "scheduler must be None, an lr scheduler"),
    ],
)
def test_bad_watch_arguments_are_refused_naming_them(kw, err, match):
    _, _, _, finder = setup(0.05)
    with pytest.raises(err, match=match):
        finder.watch(**kw)


def test_a_watch_runs_once_and_its_repr_states_the_ring():
    model, opt, loader, finder = setup(0.05)
    watch = finder.watch(ring_bytes=2**20, progress=False)
    assert isinstance(watch, Watch)
    with watch:
        train(watch, model, opt, loader, 16)
        text = repr(watch)
    assert "ring: 1 snapshots (steps [0])" in text and "ring_bytes=1.0 MiB in CPU memory" in text
    with pytest.raises(RuntimeError, match="runs once"):
        watch.__enter__()

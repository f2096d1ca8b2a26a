import threading

import numpy as np
import pytest
import torch
from torch import nn

from lrwidget import LRFinder, RangeTestResult, suggest
from lrwidget.engine import plan
from lrwidget.engine.stream import Readings, RunEnded, RunStarted
from lrwidget.pure.schedule import schedule


def _adam_two_groups(model, lr=1e-4):
    first = list(model[0].parameters())
    rest = [p for m in list(model)[1:] for p in m.parameters()]
    return torch.optim.Adam([{"params": first, "lr": lr}, {"params": rest, "lr": lr / 10}])


def _range_test(finder, *args, staged=False, **kwargs):
    """finder.range_test(*args, **kwargs), on the staged (accelerator) loop when staged."""
    was = plan.STAGE_ON_CPU
    plan.STAGE_ON_CPU = staged
    try:
        return finder.range_test(*args, **kwargs)
    finally:
        plan.STAGE_ON_CPU = was


def _warm(model, opt, loader, steps=3):
    # real optimizer state (Adam moments), BN stats and grads before the test
    it = iter(loader)
    for _ in range(steps):
        x, y = next(it)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


@pytest.fixture
def warmed(mlp, digits_loader):
    opt = _adam_two_groups(mlp)
    _warm(mlp, opt, digits_loader)
    return mlp, opt


def test_completed_run_restores_everything_bit_for_bit(
    warmed, digits_loader, full_state, assert_same_state
):
    model, opt = warmed
    before = full_state(model, opt)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    r = finder.range_test(digits_loader, start_lr=1e-5, end_lr=1e-2, num_iter=40, diverge_th=1e9)
    assert r is finder.result and isinstance(r, RangeTestResult)
    assert r.stop_reason == "completed" and len(r) == 40
    np.testing.assert_array_equal(r.lrs, schedule([1e-5, 1e-6], 1e-2, 40, "exp")[:, 0])
    assert np.isfinite(r.losses).all() and r.smoothed[0] == r.losses[0]
    assert_same_state(full_state(model, opt), before)
    assert finder.history["lr"] == r.lrs.tolist()
    assert list(r.suggestions) == list(suggest.suggest_all(r.lrs, r.smoothed, raw=r.losses))
    assert r.suggested_lr == r.suggestions[suggest.DEFAULT].lr
    finder.reset()  # still safe
    assert_same_state(full_state(model, opt), before)


def test_groups_keep_ratios_during_the_sweep(warmed, digits_loader):
    model, opt = warmed
    seen = []
    opt.register_step_pre_hook(lambda o, a, k: seen.append([g["lr"] for g in o.param_groups]))
    LRFinder(model, opt, nn.CrossEntropyLoss()).range_test(
        digits_loader, start_lr=[1e-4, 3e-6], end_lr=1e-1, num_iter=10, diverge_th=1e9
    )
    seen = np.array(seen)
    np.testing.assert_allclose(seen[:, 1] / seen[:, 0], 0.03, rtol=1e-12)
    assert seen[0, 0] == 1e-4 and seen[-1, 0] == 1e-1


def test_readings_match_a_hand_written_loop(make_mlp, make_loader):
    # no dropout, fixed batch order: the finder must do exactly the steps a plain loop does
    loader = make_loader(shuffle=False)
    a, b = make_mlp(dropout=0, seed=3), make_mlp(dropout=0, seed=3)
    opt_a = torch.optim.SGD(a.parameters(), lr=0.1, momentum=0.9)
    opt_b = torch.optim.SGD(b.parameters(), lr=0.1, momentum=0.9)
    r = LRFinder(a, opt_a, nn.CrossEntropyLoss()).range_test(
        loader, start_lr=1e-4, end_lr=1.0, num_iter=35, diverge_th=1e9
    )
    lrs = schedule(1e-4, 1.0, 35, "exp")[:, 0]
    losses, it = [], iter(loader)
    b.train()
    for lr in lrs:
        try:
            x, y = next(it)
        except StopIteration:  # 29 batches: the finder starts the loader again
            it = iter(loader)
            x, y = next(it)
        opt_b.param_groups[0]["lr"] = lr
        opt_b.zero_grad()
        loss = nn.functional.cross_entropy(b(x), y)
        loss.backward()
        opt_b.step()
        losses.append(loss.item())
    np.testing.assert_array_equal(r.losses, losses)


def test_divergence_stops_early_and_restores(warmed, digits_loader, full_state, assert_same_state):
    model, opt = warmed
    before = full_state(model, opt)
    r = LRFinder(model, opt, nn.CrossEntropyLoss()).range_test(
        digits_loader, start_lr=1e-4, end_lr=1e4, num_iter=200, diverge_th=3
    )
    assert r.stop_reason == "diverged" and len(r) < 200
    last = r.smoothed[-1]
    best = np.nanmin(r.smoothed[:-1])
    assert (not np.isfinite(last)) or last > 3 * best
    assert np.all(r.smoothed[:-1] <= 3 * np.minimum.accumulate(r.smoothed[:-1]))
    assert_same_state(full_state(model, opt), before)


def _nan_at(k):
    calls = {"n": 0}

    def step_fn(model, batch):
        x, y = batch
        calls["n"] += 1
        loss = nn.functional.cross_entropy(model(x), y)
        return loss * float("nan") if calls["n"] == k else loss

    return step_fn


@pytest.mark.parametrize("staged", [False, True])
def test_nan_loss_is_recorded_and_ends_the_test(warmed, digits_loader, staged):
    model, opt = warmed
    finder = LRFinder(model, opt)
    # staged: the accelerator path, fetch every 16 steps
    r = _range_test(
        finder,
        digits_loader,
        start_lr=1e-5,
        end_lr=1e-3,
        num_iter=60,
        step_fn=_nan_at(21),
        staged=staged,
    )
    assert r.stop_reason == "diverged" and len(r) == 21  # readings after it dropped
    assert np.isnan(r.losses[-1]) and np.isfinite(r.losses[:-1]).all()
    s = r.suggestions  # rules cope with the NaN
    assert all(v.lr is None or np.isfinite(v.lr) for v in s.values())


def test_staged_path_reads_the_same_losses(make_mlp, make_loader):
    runs = []
    for staged in (False, True):
        m = make_mlp(dropout=0, seed=1)
        f = LRFinder(m, torch.optim.SGD(m.parameters(), lr=0.1), nn.CrossEntropyLoss())
        runs.append(
            _range_test(
                f,
                make_loader(shuffle=False),
                start_lr=1e-4,
                end_lr=0.5,
                num_iter=37,
                diverge_th=1e9,
                staged=staged,
            )
        )
    np.testing.assert_array_equal(runs[0].losses, runs[1].losses)
    assert runs[1].stop_reason == "completed"


def test_stop_from_another_thread(warmed, digits_loader, full_state, assert_same_state):
    model, opt = warmed
    before = full_state(model, opt)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    hits = []

    def on_event(e):  # runs on the stream thread, like the widget's stop button
        if isinstance(e, Readings) and e.start + e.count >= 10 and not hits:
            hits.append(threading.get_ident())
            finder.stop()

    finder.subscribe(on_event, interval=0.005)
    r = finder.range_test(digits_loader, start_lr=1e-6, end_lr=1e-4, num_iter=100_000)
    assert r.stop_reason == "stopped" and 10 <= len(r) < 100_000
    assert hits and hits[0] != threading.get_ident()
    assert_same_state(full_state(model, opt), before)
    assert not finder.running
    finder.stop()  # no run: nothing happens
    r2 = finder.range_test(digits_loader, start_lr=1e-6, end_lr=1e-4, num_iter=5)
    assert r2.stop_reason == "completed"


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_exceptions_inside_the_loop_restore(
    warmed, digits_loader, full_state, assert_same_state, exc
):
    model, opt = warmed
    before = full_state(model, opt)
    calls = {"n": 0}

    def step_fn(m, batch):
        calls["n"] += 1
        if calls["n"] == 7:
            raise exc
        return nn.functional.cross_entropy(m(batch[0]), batch[1])

    finder = LRFinder(model, opt)
    events = []
    finder.subscribe(events.append)
    with pytest.raises(type(exc)):
        finder.range_test(digits_loader, start_lr=1e-5, end_lr=1.0, num_iter=50, step_fn=step_fn)
    assert_same_state(full_state(model, opt), before)
    r = finder.result
    assert r.stop_reason == "error" and len(r) == 6 and type(exc).__name__ in r.error
    assert isinstance(events[-1], RunEnded) and events[-1].stop_reason == "error"
    assert events[-1].error == r.error
    assert not finder.running


def test_events_complete_ordered_and_after_restore(
    warmed, digits_loader, full_state, assert_same_state
):
    model, opt = warmed
    before = full_state(model, opt)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    events, at_end = [], []

    def cb(e):
        if isinstance(e, RunEnded):
            at_end.append(full_state(model, opt))  # restored before RunEnded is sent
        events.append(e)

    unsub = finder.subscribe(cb, interval=0.01)
    r = finder.range_test(digits_loader, start_lr=1e-5, end_lr=1e-2, num_iter=60)
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunEnded)
    assert events[0].num_iter == 60 and events[0].start_lr == 1e-5 and events[0].step_mode == "exp"
    rd = [e for e in events if isinstance(e, Readings)]
    assert [e.seq for e in rd] == list(range(len(rd)))
    np.testing.assert_array_equal(np.concatenate([e.lrs for e in rd]), r.lrs)
    np.testing.assert_array_equal(np.concatenate([e.losses for e in rd]), r.losses)
    assert events[-1].result is r and events[-1].run_id == events[0].run_id
    assert_same_state(at_end[0], before)
    unsub()
    n = len(events)
    finder.range_test(digits_loader, start_lr=1e-5, end_lr=1e-2, num_iter=5)
    assert len(events) == n


def test_run_ids_increase(mlp, digits_loader):
    finder = LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=1e-3), nn.CrossEntropyLoss())
    ids = []
    finder.subscribe(lambda e: ids.append(e.run_id) if isinstance(e, RunStarted) else None)
    for _ in range(2):
        finder.range_test(digits_loader, end_lr=1e-2, num_iter=3)
    assert ids == [1, 2]


def test_step_fn_with_dict_batches_and_a_model_returning_its_loss(digits):
    X, y = digits

    class HFStyle(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Linear(64, 10)

        def forward(self, input_ids, labels):
            logits = self.net(input_ids)
            return {"loss": nn.functional.cross_entropy(logits, labels), "logits": logits}

    model = HFStyle()
    batches = [{"input_ids": X[i : i + 32], "labels": y[i : i + 32]} for i in range(0, 320, 32)]
    r = LRFinder(model, torch.optim.SGD(model.parameters(), lr=1e-3)).range_test(
        batches, end_lr=1.0, num_iter=25, step_fn=lambda m, b: m(**b)["loss"]
    )
    assert len(r) == 25 and np.isfinite(r.losses).all()


def test_gradient_accumulation_uses_the_mean_of_its_batches(make_mlp, make_loader):
    loader = make_loader(batch_size=32, shuffle=False)
    m = make_mlp(dropout=0, seed=2)
    ref = make_mlp(dropout=0, seed=2)
    it = iter(loader)
    with torch.no_grad():
        ref.train()
        expect = (
            sum(nn.functional.cross_entropy(ref(x), y).item() for x, y in (next(it), next(it))) / 2
        )
    opt = torch.optim.SGD(m.parameters(), lr=1e-3)
    pre = []
    opt.register_step_pre_hook(lambda *a: pre.append(1))
    r = LRFinder(m, opt, nn.CrossEntropyLoss()).range_test(
        loader, end_lr=1e-2, num_iter=4, accumulation_steps=2
    )
    assert len(pre) == 4 and len(r) == 4
    assert r.losses[0] == pytest.approx(expect, rel=1e-6)


def test_val_loader_mode_records_the_validation_loss(make_mlp, make_loader):
    train, val = make_loader(shuffle=False, n=640), make_loader(batch_size=100, shuffle=False)
    m, twin = make_mlp(dropout=0, seed=4), make_mlp(dropout=0, seed=4)
    r = LRFinder(m, torch.optim.SGD(m.parameters(), lr=1e-3), nn.CrossEntropyLoss()).range_test(
        train, val_loader=val, start_lr=0.05, end_lr=0.5, num_iter=2
    )
    # the same first step by hand, then the dataset-weighted mean validation loss
    opt = torch.optim.SGD(twin.parameters(), lr=0.05)
    twin.train()
    x, y = next(iter(train))
    opt.zero_grad()
    nn.functional.cross_entropy(twin(x), y).backward()
    opt.step()
    twin.eval()
    with torch.no_grad():
        tot = sum(nn.functional.cross_entropy(twin(a), b, reduction="sum").item() for a, b in val)
    assert r.losses[0] == pytest.approx(tot / len(val.dataset), rel=1e-5)
    assert m.training  # mode restored


def test_amp_bf16_on_cpu_with_a_grad_scaler(warmed, digits_loader, full_state, assert_same_state):
    model, opt = warmed
    scaler = torch.amp.GradScaler("cpu")
    before = full_state(model, opt, scaler)
    dtypes = []
    model[0].register_forward_hook(lambda mod, i, o: dtypes.append(o.dtype))
    finder = LRFinder(model, opt, nn.CrossEntropyLoss(), amp_backend="torch", grad_scaler=scaler)
    r = finder.range_test(digits_loader, start_lr=1e-5, end_lr=1e-2, num_iter=12)
    assert len(r) == 12 and np.isfinite(r.losses).all()
    assert dtypes and set(dtypes) == {torch.bfloat16}
    assert_same_state(full_state(model, opt, scaler), before)


def test_cache_dir_snapshot_is_removed(
    warmed, digits_loader, tmp_path, full_state, assert_same_state
):
    model, opt = warmed
    before = full_state(model, opt)
    files = []
    finder = LRFinder(model, opt, nn.CrossEntropyLoss(), memory_cache=False, cache_dir=tmp_path)
    finder.subscribe(lambda e: files.append(len(list(tmp_path.iterdir()))))
    finder.range_test(digits_loader, start_lr=1e-5, end_lr=1e-2, num_iter=10)
    assert files[0] == 1  # the snapshot lived there during the run
    assert list(tmp_path.iterdir()) == []
    assert_same_state(full_state(model, opt), before)


def test_apply_and_one_cycle_keep_group_ratios(warmed):
    model, opt = warmed
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    assert finder.apply(0.02) == pytest.approx([0.02, 0.002])
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.02, 0.002])
    sched = finder.one_cycle(0.5, total_steps=100)
    assert isinstance(sched, torch.optim.lr_scheduler.OneCycleLR)
    assert [g["max_lr"] for g in opt.param_groups] == pytest.approx([0.5, 0.05])
    with pytest.raises(ValueError, match="lr"):
        finder.apply(-1.0)
    with pytest.raises(ValueError, match="suggested"):
        finder.apply(None)


def test_apply_none_uses_the_suggestion(mlp, digits_loader):
    opt = torch.optim.SGD(mlp.parameters(), lr=1e-3, momentum=0.9)
    finder = LRFinder(mlp, opt, nn.CrossEntropyLoss())
    r = finder.range_test(digits_loader, start_lr=1e-5, end_lr=10, num_iter=80)
    if r.suggested_lr is None:
        pytest.skip(f"no suggestion on this curve: {r.suggestions}")
    assert finder.apply() == [r.suggested_lr]


def test_plot_returns_axes_and_lr(mlp, digits_loader):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    finder = LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=1e-3), nn.CrossEntropyLoss())
    with pytest.raises(RuntimeError, match="range_test"):
        finder.plot()
    r = finder.range_test(digits_loader, start_lr=1e-5, end_lr=1.0, num_iter=40)
    ax, lr = finder.plot(show_lr=1e-3)
    assert lr == r.suggested_lr and ax.get_xscale() == "log"
    assert len(ax.lines[0].get_xdata()) == 40 - 10 - 5
    fig, ax2 = plt.subplots()
    assert finder.plot(ax=ax2, suggest_lr=False, log_lr=False) is ax2
    plt.close("all")


def test_a_finished_loader_is_cycled_and_one_shot_iterators_are_explained(mlp, digits):
    X, y = digits
    batches = [(X[:16], y[:16]), (X[16:32], y[16:32])]
    opt = torch.optim.SGD(mlp.parameters(), lr=1e-4)
    finder = LRFinder(mlp, opt, nn.CrossEntropyLoss())
    assert len(finder.range_test(batches, end_lr=1e-2, num_iter=7)) == 7
    with pytest.raises(ValueError, match="ran out after 2 batches"):
        finder.range_test(iter(batches), end_lr=1e-2, num_iter=7)
    assert opt.param_groups[0]["lr"] == 1e-4


def test_a_second_test_while_one_runs_is_refused(mlp, digits_loader):
    finder = LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=1e-4), nn.CrossEntropyLoss())
    errors = []

    def cb(e):
        if isinstance(e, Readings) and not errors:
            try:
                finder.range_test(digits_loader, num_iter=5)
            except RuntimeError as ex:
                errors.append(str(ex))
            try:
                finder.apply(0.1)
            except RuntimeError as ex:
                errors.append(str(ex))
            finder.stop()

    finder.subscribe(cb, interval=0.005)
    finder.range_test(digits_loader, end_lr=1e-2, num_iter=100_000)
    assert len(errors) == 2 and "already running" in errors[0]


def test_import_is_light_and_widget_names_are_lazy():
    import subprocess
    import sys

    code = (
        "import sys, lrwidget; assert 'anywidget' not in sys.modules; "
        "assert 'ipywidgets' not in sys.modules; "
        "assert {'LRFinder', 'RangeTestResult', 'suggest'} <= set(dir(lrwidget)); "
        "assert 'LRFinderWidget' in dir(lrwidget); print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_demo_prints_a_summary(capsys, tmp_path):
    from lrwidget.__main__ import main, sparkline

    assert sparkline([0, 1, 2, float("inf")], width=4) == "▁▅█×"
    report = tmp_path / "r.html"
    rc = main(["demo", "--num-iter", "40", "--report", str(report)])
    out, err = capsys.readouterr()
    assert "readings: " in out and "suggestions:" in out and "(* default:" in out
    for name in suggest.RULES:
        assert name in out
    assert f" * {suggest.DEFAULT}" in out
    if rc == 0:
        assert report.exists() and report.stat().st_size > 0
    else:  # report.py not written yet: the message says so
        assert "lrwidget.report is not available" in err


def test_a_late_subscriber_gets_the_whole_run(mlp, digits_loader):
    finder = LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=1e-4), nn.CrossEntropyLoss())
    late = []

    def first(e):
        if isinstance(e, Readings) and e.start + e.count >= 5 and not late:
            late.append("subscribed")
            finder.subscribe(late.append, interval=0.005)
        if isinstance(e, Readings) and e.start + e.count >= 20:
            finder.stop()

    finder.subscribe(first, interval=0.005)
    r = finder.range_test(digits_loader, end_lr=1e-2, num_iter=100_000)
    events = late[1:]
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunEnded)
    rd = [e for e in events if isinstance(e, Readings)]
    assert rd[0].start == 0 and rd[0].seq == 0
    np.testing.assert_array_equal(np.concatenate([e.losses for e in rd]), r.losses)
    assert all(b.elapsed >= a.elapsed for a, b in zip(rd, rd[1:]))


@pytest.mark.parametrize("how", ["completed", "error"])
def test_the_snapshot_is_freed_after_the_run(mlp, digits_loader, monkeypatch, how):
    import weakref

    seen = []
    real = LRFinder._capture

    def capture(self, *loaders):
        snap = real(self, *loaders)
        seen.append((snap, [weakref.ref(t) for t in snap._data["model"].values()]))
        return snap

    monkeypatch.setattr(LRFinder, "_capture", capture)
    finder = LRFinder(mlp, torch.optim.Adam(mlp.parameters(), lr=1e-4), nn.CrossEntropyLoss())

    def step_fn(m, b):
        if how == "error":
            raise RuntimeError("x")
        return nn.functional.cross_entropy(m(b[0]), b[1])

    try:
        finder.range_test(digits_loader, end_lr=1e-2, num_iter=5, step_fn=step_fn)
    except RuntimeError:
        pass
    snap, refs = seen[0]
    assert snap.freed
    assert all(r() is None for r in refs)  # the CPU copies are gone, not just unreferenced by us


# ---- issue 9: extra batch items, one-shot train iterators, closure optimizers, _move ----------


class _Triples(torch.utils.data.Dataset):
    """digits as (inputs, labels, index, name): extra items after the first two."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.X[i], self.y[i], i, f"sample-{i}"


@pytest.mark.parametrize("path", ["fast", "accumulation", "validation"])
def test_batches_with_extra_items_use_the_first_two(make_mlp, make_loader, digits, path):
    X, y = digits
    pairs = make_loader(shuffle=False)
    extras = torch.utils.data.DataLoader(_Triples(X, y), batch_size=64, shuffle=False)
    kw = dict(start_lr=1e-4, end_lr=0.5, num_iter=12, diverge_th=1e9)
    if path == "accumulation":
        kw["accumulation_steps"] = 2
    runs = []
    for loader in (pairs, extras):
        m = make_mlp(dropout=0, seed=5)
        f = LRFinder(m, torch.optim.SGD(m.parameters(), lr=0.1), nn.CrossEntropyLoss())
        if path == "validation":
            runs.append(f.range_test(pairs, val_loader=loader, **kw))
        else:
            runs.append(f.range_test(loader, **kw))
    assert len(runs[1]) == 12
    np.testing.assert_array_equal(runs[0].losses, runs[1].losses)


def test_a_one_shot_train_iterator_loses_no_batch(mlp, digits):
    # the emptiness probe takes the first batch; it must still be the first one trained on
    X, y = digits
    batches = [(X[i : i + 16], y[i : i + 16]) for i in range(0, 160, 16)]
    seen = []

    def step(m, batch):
        seen.append(batch[0].data_ptr())
        return nn.functional.cross_entropy(m(batch[0]), batch[1])

    finder = LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=1e-4))
    r = finder.range_test(iter(batches), end_lr=1e-2, num_iter=10, step_fn=step)
    assert r.stop_reason == "completed" and len(r) == 10
    assert seen == [b[0].data_ptr() for b in batches]
    gen = (b for b in batches)
    r = LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=1e-4), nn.CrossEntropyLoss()).range_test(
        gen, end_lr=1e-2, num_iter=10
    )
    assert len(r) == 10


def test_a_batch_that_cannot_move_says_so(mlp, digits, full_state, assert_same_state):
    X, y = digits

    class Batch:
        def __init__(self, x, y):
            self.x, self.y = x, y

        def to(self, device):
            raise RuntimeError("Batch.to() is broken")

    opt = torch.optim.SGD(mlp.parameters(), lr=1e-4)
    before = full_state(mlp, opt)
    steps = []
    opt.register_step_pre_hook(lambda *a: steps.append(1))
    finder = LRFinder(mlp, opt)
    with pytest.raises(RuntimeError, match=r"Batch.*to.*broken") as info:
        finder.range_test(
            [Batch(X[:8], y[:8])] * 3,
            end_lr=1e-2,
            num_iter=3,
            step_fn=lambda m, b: nn.functional.cross_entropy(m(b.x), b.y),
        )
    assert "moving a Batch batch" in str(info.value)
    assert steps == [] and finder.result.stop_reason == "error"
    assert_same_state(full_state(mlp, opt), before)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"accumulation_steps": 2},
        {"step_fn": lambda m, b: nn.functional.cross_entropy(m(b[0]), b[1])},
    ],
)
def test_lbfgs_runs_with_a_closure_and_is_restored(
    make_mlp, make_loader, full_state, assert_same_state, kw
):
    loader = make_loader(shuffle=False)
    model = make_mlp(dropout=0, seed=6)
    opt = torch.optim.LBFGS(model.parameters(), lr=1e-3, max_iter=4, history_size=5)
    x0, y0 = next(iter(loader))

    def closure():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x0), y0)
        loss.backward()
        return loss

    opt.step(closure)  # real LBFGS state (history, direction) before the test
    with torch.no_grad():
        model.train()
        first_loss = nn.functional.cross_entropy(model(x0), y0).item()
    before = full_state(model, opt)  # after that forward: it moved the BatchNorm statistics
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    r = finder.range_test(loader, start_lr=1e-3, end_lr=1.0, num_iter=10, diverge_th=1e9, **kw)
    assert r.stop_reason == "completed" and len(r) == 10 and np.isfinite(r.losses).all()
    if not kw:  # the recorded loss is the closure's first evaluation, before the step
        assert r.losses[0] == pytest.approx(first_loss, rel=1e-6)
    assert_same_state(full_state(model, opt), before)


def test_a_loaders_own_generator_is_back_after_the_test(digits, make_mlp):
    # training after a range test sees the batches it would have seen without one
    X, y = digits
    ds = torch.utils.data.TensorDataset(X[:512], y[:512])  # 8 batches: val_loader read per step

    def loader():
        return torch.utils.data.DataLoader(
            ds, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(5)
        )

    def order(dl):
        return [yb[:4].tolist() for _, yb in dl]

    untouched = order(loader())
    model = make_mlp()
    finder = LRFinder(model, torch.optim.SGD(model.parameters(), lr=1e-4), nn.CrossEntropyLoss())
    dl, val = loader(), loader()
    finder.range_test(dl, val_loader=val, end_lr=1, num_iter=40)  # cycles dl: 5 epochs drawn
    assert order(dl) == untouched
    assert order(val) == untouched

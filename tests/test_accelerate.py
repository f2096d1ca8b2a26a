"""Range tests on a model, optimizer and dataloader that went through ``accelerator.prepare``.

Real accelerate, real torch, scikit-learn's digits. What is checked:

- ``range_test`` on the prepared objects (criterion and ``step_fn``), with mixed precision: the
  model, the AcceleratedOptimizer (and its inner optimizer), the accelerator's GradScaler and
  accelerate's step flags come back bit for bit after completed, diverged and raising tests;
- the optimizer really steps at every step of the test, even when an ``accelerator.accumulate``
  loop left accelerate's sync flag off (the AcceleratedOptimizer then skips ``step``);
- an optimizer that steps with its own GradScaler (accelerate with fp16) gets a scaled loss;
- ``track()`` inside an accelerate loop with ``accelerator.accumulate``: one reading (and one lr)
  per real optimizer step, not per micro-batch;
- ``apply`` reaches the inner optimizer, and a scheduler built on it afterwards and prepared
  steps around the applied lr;
- two processes (torchrun, gloo) with a DDP model prepared by accelerate: the same result and lr
  on both ranks, no hang (``tests/accelerate_jobs.py``).

Mixed precision on CPU: accelerate runs bf16 for real (autocast around the prepared model's
forward). With ``mixed_precision="fp16"`` on CPU it builds neither autocast nor a GradScaler
(fp16 needs a GPU in accelerate); the fp16 case here builds what accelerate builds on a GPU
(``native_amp`` and a ``GradScaler``) on CPU tensors, before ``prepare``.
"""

from __future__ import annotations

import contextlib
import itertools

import numpy as np
import pytest
import torch
from torch import nn

from lrwidget import LRFinder
from lrwidget.pure.schedule import schedule

pytest.importorskip("accelerate")

from accelerate import Accelerator
from accelerate.state import AcceleratorState, GradientState

PRECISIONS = ["no", "bf16", "fp16"]


@pytest.fixture
def make_accelerator():
    """``make(precision="no", **kw) -> Accelerator`` on CPU; accelerate's shared state is
    reset before and after (it is a process-wide singleton)."""

    def reset():
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()

    reset()

    def make(precision="no", growth_interval=2000, **kw):
        if precision == "fp16":
            acc = Accelerator(mixed_precision="fp16", cpu=True, **kw)
            # accelerate's fp16 on CPU is no mixed precision at all: no autocast, no scaler
            assert acc.scaler is None and not acc.native_amp
            # what it builds on a GPU, on CPU tensors: autocast(float16) around the prepared
            # model's forward, and a GradScaler the AcceleratedOptimizer steps with
            acc.native_amp = True
            acc.scaler = torch.amp.GradScaler("cpu", growth_interval=growth_interval)
            return acc
        if precision == "scaler":  # fp32 compute with a GradScaler: scaling is then exact
            acc = Accelerator(cpu=True, **kw)
            acc.scaler = torch.amp.GradScaler("cpu", growth_interval=growth_interval)
            return acc
        return Accelerator(mixed_precision=precision, cpu=True, **kw)

    yield make
    reset()


def prepared(acc, make_mlp, make_loader, opt="adam", warm=3, shuffle=True, **mlp_kw):
    """(model, optimizer, loader) through ``acc.prepare``, trained ``warm`` real steps with
    ``accumulate`` / ``backward`` first (optimizer state, grads and the scaler's scale exist)."""
    model = make_mlp(**mlp_kw)
    if opt == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    elif opt == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    else:
        optimizer = opt(model.parameters())
    model, optimizer, loader = acc.prepare(model, optimizer, make_loader(shuffle=shuffle))
    for batch in itertools.islice(_forever(loader), warm * acc.gradient_accumulation_steps):
        micro_step(acc, model, optimizer, batch)
    return model, optimizer, loader


def _forever(loader):
    while True:
        yield from loader


def micro_step(acc, model, opt, batch, sched=None):
    """One micro-batch of the usual accelerate loop (``sched`` steps with the optimizer); its
    loss."""
    x, y = batch
    with acc.accumulate(model):
        loss = nn.functional.cross_entropy(model(x), y)
        acc.backward(loss)
        opt.step()
        if sched is not None:
            sched.step()
        opt.zero_grad()
    return loss


def everything(acc, model, opt, full_state):
    """All a range test could change: model, AcceleratedOptimizer, its inner optimizer, the
    accelerator's GradScaler (state and live scale tensor), accelerate's step flags."""
    s = full_state(model, opt, acc.scaler)
    s["inner"] = full_state(model, opt.optimizer)["optimizer"]
    s["groups"] = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    s["sync_gradients"] = acc.sync_gradients
    s["step_was_skipped"] = opt.step_was_skipped
    if acc.scaler is not None:  # what its next scale() uses (the initial values before any)
        s["scale"] = acc.scaler.get_scale()
        s["growth_tracker"] = acc.scaler._get_growth_tracker()
    return s


def real_steps(opt):
    """The inner optimizer's lr at each of its real steps (accelerate skips the rest)."""
    seen = []
    handle = opt.optimizer.register_step_pre_hook(
        lambda o, args, kwargs: seen.append(o.param_groups[0]["lr"])
    )
    return seen, handle


def lrs_of_steps(acc, model, opt, loader, sched, micro_batches):
    """The inner optimizer's lr at each real step of ``micro_batches`` micro-batches of the
    usual accelerate loop with ``sched``."""
    seen, handle = real_steps(opt)
    for batch in itertools.islice(_forever(loader), micro_batches):
        micro_step(acc, model, opt, batch, sched)
    handle.remove()
    return seen


def reference_lrs(make_sched, steps):
    """The lr at each of ``steps`` steps of ``make_sched(optimizer)`` on a plain optimizer."""
    opt = torch.optim.AdamW([nn.Parameter(torch.zeros(1))], lr=3e-3)
    sched = make_sched(opt)
    want = []
    for _ in range(steps):
        want.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return want


# ---------------------------------------------------------------- range_test


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("outcome", ["completed", "diverged", "raised"])
def test_range_test_on_prepared_objects_restores_everything_bit_for_bit(
    make_accelerator, make_mlp, make_loader, full_state, assert_same_state, precision, outcome
):
    acc = make_accelerator(precision, gradient_accumulation_steps=2)
    model, opt, loader = prepared(acc, make_mlp, make_loader)
    before = everything(acc, model, opt, full_state)
    seen, handle = real_steps(opt)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    if outcome == "completed":
        r = finder.range_test(loader, start_lr=1e-4, end_lr=3e-2, num_iter=30, diverge_th=1e9)
        assert r.stop_reason == "completed" and len(r) == 30
        # the optimizer stepped: the loss fell
        assert r.losses[-5:].mean() < r.losses[:5].mean() - 0.2, r.losses
    elif outcome == "diverged":
        r = finder.range_test(loader, start_lr=1e-4, end_lr=100.0, num_iter=100)
        assert r.stop_reason == "diverged" and len(r) < 100
    else:
        calls = []

        def step_fn(m, batch):
            calls.append(1)
            if len(calls) == 8:
                raise RuntimeError("boom at step 8")
            x, y = batch
            return nn.functional.cross_entropy(m(x), y)

        with pytest.raises(RuntimeError, match="boom at step 8"):
            finder.range_test(loader, end_lr=1.0, num_iter=50, step_fn=step_fn)
        assert finder.result.stop_reason == "error"
    handle.remove()
    assert len(seen) >= 7  # the inner optimizer really stepped during the test
    assert_same_state(everything(acc, model, opt, full_state), before)
    assert not finder.running


def test_bf16_runs_the_forward_under_autocast(make_accelerator, make_mlp, make_loader):
    # the prepared model's forward is accelerate's autocast wrapper: the test's forward passes
    # compute in bf16 (the checks above are then about a real mixed-precision test)
    acc = make_accelerator("bf16")
    model, opt, loader = prepared(acc, make_mlp, make_loader, warm=0)
    dtypes = []
    handle = model[0].register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    LRFinder(model, opt, nn.CrossEntropyLoss()).range_test(loader, end_lr=1e-2, num_iter=3)
    handle.remove()
    assert dtypes == [torch.bfloat16] * 3


def test_the_optimizer_steps_even_when_an_accumulate_loop_left_sync_off(
    make_accelerator, make_mlp, make_loader
):
    # accelerate's optimizer skips step() and zero_grad() while sync_gradients is False; a
    # training loop stopped in the middle of an accumulation leaves it False
    def run(mid_accumulation):
        acc = make_accelerator(gradient_accumulation_steps=4)
        model, opt, loader = prepared(acc, make_mlp, make_loader, shuffle=False, dropout=0)
        x, y = next(iter(loader))
        if mid_accumulation:
            with acc.accumulate(model):
                acc.backward(nn.functional.cross_entropy(model(x), y))
            assert not acc.sync_gradients
        finder = LRFinder(model, opt, nn.CrossEntropyLoss())
        r = finder.range_test(loader, start_lr=1e-4, end_lr=3e-2, num_iter=25, diverge_th=1e9)
        return r, acc.sync_gradients

    left, sync_after = run(mid_accumulation=True)
    assert sync_after is False  # the flag is the loop's again afterwards
    clean, _ = run(mid_accumulation=False)
    # the same readings as with the flag on: every step of the test stepped the optimizer
    np.testing.assert_array_equal(left.losses, clean.losses)
    assert left.losses[-5:].mean() < left.losses[:5].mean() - 0.2, left.losses


def test_an_optimizer_with_its_own_grad_scaler_gets_a_scaled_loss(
    make_accelerator, make_mlp, make_loader, full_state, assert_same_state
):
    # accelerate's optimizer with a GradScaler unscales the grads in its step(): the loss must
    # be scaled for backward, or every step is 2**16 times too small (and before the first
    # scale() the scaler has no scale at all). In fp32 scaling by a power of two is exact, so
    # the readings must be those of the same test without a scaler, bit for bit; the scale
    # grows every 2 steps during the test and comes back afterwards
    def run(precision, warm):
        acc = make_accelerator(precision, growth_interval=2)
        model, opt, loader = prepared(acc, make_mlp, make_loader, shuffle=False, warm=warm)
        before = everything(acc, model, opt, full_state)
        r = LRFinder(model, opt, nn.CrossEntropyLoss()).range_test(
            loader, start_lr=1e-4, end_lr=3e-2, num_iter=25, diverge_th=1e9
        )
        assert_same_state(everything(acc, model, opt, full_state), before)
        return r

    for warm in (3, 0):  # a scale in use; no scale() yet
        plain = run("no", warm)
        scaled = run("scaler", warm)
        np.testing.assert_array_equal(scaled.losses, plain.losses)


def test_a_grad_scaler_other_than_the_optimizers_own_is_refused(
    make_accelerator, make_mlp, make_loader
):
    acc = make_accelerator("fp16")
    model, opt, _ = prepared(acc, make_mlp, make_loader, warm=0)
    with pytest.raises(ValueError, match="grad_scaler"):
        LRFinder(model, opt, nn.CrossEntropyLoss(), grad_scaler=torch.amp.GradScaler("cpu"))
    # its own scaler (or none) is fine
    LRFinder(model, opt, nn.CrossEntropyLoss(), grad_scaler=acc.scaler)


def test_an_own_grad_scaler_with_a_closure_optimizer_is_refused(
    make_accelerator, make_mlp, make_loader
):
    # a GradScaler cannot step LBFGS (torch refuses closures): said before anything runs
    acc = make_accelerator("fp16")
    model, opt, _ = prepared(
        acc, make_mlp, make_loader, opt=lambda ps: torch.optim.LBFGS(ps), warm=0
    )
    with pytest.raises(ValueError, match=r"optimizer: AcceleratedOptimizer .*\(LBFGS\)"):
        LRFinder(model, opt, nn.CrossEntropyLoss())


def test_an_optimizer_stepped_with_a_closure_through_accelerate(
    make_accelerator, make_mlp, make_loader
):
    # LBFGS needs optimizer.step(closure); the wrapper's own step takes an optional closure
    def lbfgs(params):
        return torch.optim.LBFGS(params, lr=1e-3, max_iter=2)

    def run(wrap):
        acc = make_accelerator()
        if wrap:
            model, opt, loader = prepared(acc, make_mlp, make_loader, opt=lbfgs, warm=0)
        else:
            model, loader = make_mlp(), make_loader()
            opt = lbfgs(model.parameters())
        return LRFinder(model, opt, nn.CrossEntropyLoss()).range_test(
            loader, end_lr=1.0, num_iter=10, diverge_th=1e9
        )

    np.testing.assert_array_equal(run(wrap=True).losses, run(wrap=False).losses)


@pytest.mark.parametrize("mid_accumulation", [False, True])
def test_training_after_a_range_test_is_as_without_one(
    make_accelerator, make_mlp, make_loader, mid_accumulation
):
    # end to end: the same accumulate loop, with and without a range test in it, ends with the
    # same weights bit for bit (GradScaler, accelerate's flags, RNG, grads)
    def run(with_test):
        acc = make_accelerator("fp16", gradient_accumulation_steps=3, growth_interval=2)
        model, opt, loader = prepared(acc, make_mlp, make_loader, shuffle=False, warm=2)
        x, y = next(iter(loader))
        if mid_accumulation:  # the loop is in the middle of an accumulation
            micro_step(acc, model, opt, (x, y))
        if with_test:
            finder = LRFinder(model, opt, nn.CrossEntropyLoss())
            finder.range_test(loader, end_lr=100.0, num_iter=60)
        for batch in itertools.islice(loader, 11):
            micro_step(acc, model, opt, batch)
        return [p.detach().clone() for p in model.parameters()], acc.scaler.state_dict()

    (w_test, s_test), (w_plain, s_plain) = run(True), run(False)
    assert s_test == s_plain
    for a, b in zip(w_test, w_plain):
        assert torch.equal(a, b)


# ---------------------------------------------------------------- track() in an accelerate loop


@pytest.mark.parametrize("precision", PRECISIONS)
def test_track_in_an_accumulate_loop_reads_once_per_optimizer_step(
    make_accelerator, make_mlp, make_loader, full_state, assert_same_state, precision
):
    acc = make_accelerator(precision, gradient_accumulation_steps=4)
    model, opt, loader = prepared(acc, make_mlp, make_loader)
    before = everything(acc, model, opt, full_state)
    seen, handle = real_steps(opt)
    finder = LRFinder(model, opt)
    micro, losses, syncs = [], [], []
    with finder.track(start_lr=1e-4, end_lr=3e-2, num_iter=12, diverge_th=1e9) as run:
        for lr, batch in zip(run, _forever(loader)):
            loss = micro_step(acc, model, opt, batch)
            micro.append(lr)
            losses.append(loss.item())
            syncs.append(acc.sync_gradients)
            run.record(loss)
    handle.remove()
    r = run.result
    assert r.stop_reason == "completed" and len(r) == 12
    # accelerate's optimizer steps: every 4th micro-batch, and at the loader's end (29
    # batches an epoch), where accelerate ends the accumulation early
    ends = np.flatnonzero(syncs)
    assert len(ends) == 12 and ends[-1] == len(micro) - 1
    steps = np.split(np.arange(len(micro)), ends[:-1] + 1)
    assert [len(s) for s in steps].count(4) >= 10, [len(s) for s in steps]
    want = schedule(1e-4, 3e-2, 12, "exp")[:, 0]
    np.testing.assert_array_equal(r.lrs, want)
    for k, s in enumerate(steps):
        # the lr advances once per optimizer step: the same lr for all its micro-batches
        assert [micro[i] for i in s] == [want[k]] * len(s), k
        # a reading is the mean loss of its step's micro-batches
        np.testing.assert_allclose(r.losses[k], np.mean([losses[i] for i in s]), rtol=1e-6)
    if precision == "fp16":  # a step the scaler skipped (inf grads) is not an optimizer step
        assert set(seen) <= set(want)
    else:  # each real step ran with its own lr
        np.testing.assert_array_equal(seen, want)
    assert_same_state(everything(acc, model, opt, full_state), before)


@pytest.mark.parametrize("outcome", ["diverged", "raised", "stopped"])
def test_track_in_an_accumulate_loop_restores_everything_however_it_ends(
    make_accelerator, make_mlp, make_loader, full_state, assert_same_state, outcome
):
    acc = make_accelerator("fp16", gradient_accumulation_steps=3, growth_interval=2)
    model, opt, loader = prepared(acc, make_mlp, make_loader)
    before = everything(acc, model, opt, full_state)
    finder = LRFinder(model, opt)
    micro = 0
    raised = pytest.raises(RuntimeError, match="boom")
    with raised if outcome == "raised" else contextlib.nullcontext():
        with finder.track(start_lr=1e-4, end_lr=1e3, num_iter=200) as run:
            for _lr, batch in zip(run, _forever(loader)):
                micro += 1
                if outcome == "raised" and micro == 20:  # in the middle of an accumulation
                    raise RuntimeError("boom")
                if outcome == "stopped" and micro == 20:
                    finder.stop()
                run.record(micro_step(acc, model, opt, batch))
    r = finder.result
    if outcome == "diverged":
        assert r.stop_reason == "diverged" and len(r) < 200
    elif outcome == "stopped":
        # asked in the middle of step 7's accumulation: it ends once that step is done
        assert r.stop_reason == "stopped" and len(r) == 7 and micro == 21
    else:
        assert r.stop_reason == "error"
    assert_same_state(everything(acc, model, opt, full_state), before)


def test_track_record_stepped_says_which_micro_batches_ended_an_optimizer_step(mlp, digits):
    # a hand-written accumulation loop (no accelerate): stepped= marks the optimizer steps
    X, y = digits
    opt = torch.optim.SGD(mlp.parameters(), lr=1e-4)
    finder = LRFinder(mlp, opt)
    in_opt = []
    with finder.track(start_lr=1e-4, end_lr=1e-2, num_iter=5) as run:
        for i, _lr in enumerate(run):
            x, t = X[32 * i : 32 * i + 32], y[32 * i : 32 * i + 32]
            loss = nn.functional.cross_entropy(mlp(x), t)
            (loss / 2).backward()
            last = i % 2 == 1
            if last:
                in_opt.append(opt.param_groups[0]["lr"])
                opt.step()
                opt.zero_grad()
            run.record(loss, stepped=last)
    assert len(run.result) == 5
    np.testing.assert_array_equal(in_opt, schedule(1e-4, 1e-2, 5, "exp")[:, 0])
    with finder.track(num_iter=3) as run:
        next(iter(run))
        with pytest.raises(TypeError, match="stepped must be a bool or None"):
            run.record(1.0, stepped=1)
        run.record(1.0)


def test_a_step_that_never_comes_is_reported(mlp, caplog):
    # e.g. accelerate's sync flag left False by an earlier accumulate loop, in a loop that no
    # longer accumulates: accelerate then never steps, and the tracker waits for a step
    finder = LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=1e-4))
    with caplog.at_level("WARNING", logger="lrwidget.track"):
        with finder.track(num_iter=3) as run:
            for i, _lr in enumerate(run):
                run.record(1.0, stepped=False)
                if i == 1200:
                    break
    assert len(finder.result) == 0
    warned = [r for r in caplog.records if r.name == "lrwidget.track"]
    assert len(warned) == 1 and "1000 micro-batches recorded without an optimizer step" in (
        warned[0].getMessage()
    )


# ---------------------------------------------------------------- using the result


def test_apply_reaches_the_inner_optimizer_and_a_prepared_scheduler_builds_on_it(
    make_accelerator, make_mlp, make_loader
):
    acc = make_accelerator(gradient_accumulation_steps=2)
    model, opt, loader = prepared(acc, make_mlp, make_loader)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    finder.range_test(loader, end_lr=10.0, num_iter=40)
    assert finder.apply(3e-3) == [3e-3]
    assert opt.optimizer.param_groups[0]["lr"] == 3e-3
    # a schedule built after apply, prepared by accelerate, steps once per optimizer step
    sched = acc.prepare(finder.one_cycle(3e-3, total_steps=10))
    seen = lrs_of_steps(acc, model, opt, loader, sched, micro_batches=16)
    want = reference_lrs(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=3e-3, total_steps=10), steps=8
    )
    np.testing.assert_allclose(seen, want, rtol=1e-12)
    assert max(seen) <= 3e-3


# ---------------------------------------------------------------- two processes


def test_two_processes_prepared_by_accelerate_agree_and_do_not_hang(tmp_path):
    from tests.accelerate_jobs import run_job

    e = run_job(tmp_path, ranks=2, timeout=150)
    assert e.returncode == 0, f"the job did not end well within 150 s ({e.returncode}):\n{e.output}"
    assert sorted(e.ranks) == [0, 1], e.output
    r0, r1 = e.ranks[0], e.ranks[1]
    assert r0["distributed_type"] == "MULTI_CPU" and r0["ddp"], r0
    for key in ("range_test", "track"):
        assert r0[key] == r1[key], f"{key}: the ranks' results differ"
    assert r0["range_test"]["stop_reason"] == "diverged"
    assert r0["track"]["stop_reason"] == "completed" and len(r0["track"]["lrs"]) == 8
    for rec in (r0, r1):
        assert rec["restored_range_test"] and rec["restored_track"], rec
        # apply is collective: rank 0's lr on both, whatever each passed
        assert rec["applied"] == [2e-3] and rec["inner_lr"] == 2e-3, rec
        # 8 optimizer steps of 2 micro-batches, the first of which completes the accumulation
        # the loop was in the middle of when the tests began
        assert rec["micro_batches"] == 15


@pytest.mark.parametrize("handed", ["inner", "prepared"])
def test_a_scheduler_prepared_before_the_test_is_rebased_onto_the_chosen_lr(
    make_accelerator, make_mlp, make_loader, handed
):
    # the usual accelerate script: a warmup schedule built and prepared with the rest
    from lrwidget.engine.schedules import rebase

    def warmup(step):
        return min(1.0, (step + 1) / 4)

    acc = make_accelerator(gradient_accumulation_steps=2)
    model = make_mlp()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup)
    model, opt, loader, sched = acc.prepare(model, opt, make_loader(), sched)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    finder.range_test(loader, start_lr=1e-5, end_lr=10.0, num_iter=40)
    rebase(opt, [sched.scheduler if handed == "inner" else sched], [3e-3])
    seen = lrs_of_steps(acc, model, opt, loader, sched, micro_batches=12)
    want = reference_lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, warmup), steps=6)
    np.testing.assert_allclose(seen, want, rtol=1e-12)

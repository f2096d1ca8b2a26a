"""``range_test``'s run: the checked :class:`Plan` stepped through its sweep inside a
:class:`Session` (which ends it however it ends)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from .batches import check_val_loader, cycle, first_checked
from .checks import new_readings
from .collective import Collective, CollectiveRecorder, CollectiveRule
from .history import RangeTestResult
from .loop import loop_cpu, loop_staged
from .plan import Plan, staged
from .progress import wanted
from .session import Run, Session
from .steps import Step, stepping_every_call, then_validate, train_step, validation_loss

if TYPE_CHECKING:
    from .finder import LRFinder


def run_test(finder: LRFinder, train_loader: Any, plan: Plan, session: Session) -> RangeTestResult:
    """Run a checked test: take the finder, snapshot, check the first batches, agree with
    the other ranks, then step through the sweep; the session ends it however it ends."""
    session.take()  # from here on this call owns the finder, or it has raised
    cycled = None
    try:
        readings = new_readings(plan.sweep.num_iter, plan.smooth_f)
        session.capture(train_loader, plan.val_loader)
        cycled = cycle(train_loader, "train_loader")
        # the first batches are checked before anything is moved or announced
        batches = first_checked(cycled, "train_loader", pairs=plan.step_fn is None)
        if plan.val_loader is not None:
            check_val_loader(plan.val_loader, pairs=plan.step_fn is None)
        session.agree(
            plan.agreement(
                "range_test",
                max(1, int(finder.fetch_every)),
                accumulation_steps=plan.accumulation_steps,
                val_loader=plan.val_loader is not None,
            )
        )
        comm = session.comm
        run = session.begin(plan.sweep, readings, wanted(plan.progress, comm.rank if comm else 0))
        finder.model.train()
        with stepping_every_call(finder.optimizer):  # accelerate: even mid-accumulation
            sweep(finder, run, step_of(finder, batches, plan), comm)
    except BaseException as e:
        session.failed(e)
        raise
    finally:
        if cycled is not None:
            cycled.close()  # lets a DataLoader shut its workers down now, not at collection
        session.close()
    return cast(RangeTestResult, finder.result)  # set when the session ended


def sweep(finder: LRFinder, run: Run, step: Step, comm: Collective | None) -> None:
    """Step through the run's sweep: the CPU loop, the staged (accelerator) loop, or the
    staged loop whose losses are reduced over the ranks."""
    fetch = max(1, int(finder.fetch_every))
    args = (run.sweep, run.readings, run.rule, finder.optimizer, step)
    if comm is not None:
        rule = cast(CollectiveRule, run.rule)
        rec = CollectiveRecorder(run.readings, rule, fetch, finder.device, comm, run.perf0)
        run.reason = loop_staged(*args, 1, finder.device, recorder=rec)
        run.elapsed = rec.elapsed
    elif staged(finder.device):
        run.reason = loop_staged(*args, fetch, finder.device)
    else:
        run.reason = loop_cpu(*args)


def step_of(finder: LRFinder, batches: Any, plan: Plan) -> Step:
    """The closure one step of the test runs: train, then validate when there is a
    ``val_loader``."""
    val_loader, step_fn, non_blocking = plan.val_loader, plan.step_fn, plan.non_blocking
    autocast = finder.amp_config if finder.amp_backend is not None else None
    step = train_step(
        finder.model,
        finder.optimizer,
        finder.criterion,
        batches,
        device=finder.device,
        non_blocking=non_blocking,
        accumulation_steps=plan.accumulation_steps,
        step_fn=step_fn,
        autocast=autocast,
        grad_scaler=finder.grad_scaler,
    )
    if val_loader is None:
        return step
    validate = validation_loss(
        finder.model,
        finder.criterion,
        val_loader,
        device=finder.device,
        non_blocking=non_blocking,
        step_fn=step_fn,
        autocast=autocast,
    )
    return then_validate(step, validate)

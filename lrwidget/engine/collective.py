"""A range test under torch.distributed: every rank runs the same sweep and ends on the same step.

When a process group is in use (``torch.distributed`` is initialized with more than one rank, or
``LRFinder(..., process_group=pg)`` names one), :class:`lrwidget.engine.finder.LRFinder` is
*collective*: every rank of the group calls ``range_test`` (or ``track``) alike, and

* **what is reduced, and when:** each rank stages its own losses (:class:`CollectiveRecorder`);
  every ``fetch_every`` steps (16) one all-reduce (SUM) of one float64 tensor
  ``[losses of the chunk..., stop requested, elapsed]`` turns them into the **mean over the
  ranks**. The reduction is started asynchronously at the chunk's end and waited for after the
  next step, so no rank waits for it while it could train. Every rank then writes the same mean
  losses into its readings and asks the same :class:`CollectiveRule`, so the curve, the result
  and the step the test ends on are the same everywhere: divergence, a NaN and ``num_iter`` are
  decided on the reduced values, and a ``stop()`` on any rank (the notebook's Stop reaches rank
  0 through the link) counts once the reduction says some rank asked. Readings after the
  deciding one are dropped on every rank; every rank has run the same steps.
* **before the first step** every rank says whether it can start and with which sweep
  (:meth:`Collective.agree_start`, one ``all_gather_object``): a rank whose arguments, snapshot
  or first batch failed makes every rank raise before any step (that rank its own error, the
  others one naming it), and sweeps that differ between ranks are refused on every rank. The
  group is left with no collective half-done, so the job can go on.
* **what is broadcast:** :meth:`Collective.choose` gives every rank rank 0's lr in
  ``LRFinder.apply`` (and with it every rank's reason to refuse, so all apply or none does).

A rank that raises during the test (a failing step, a loader) does nothing collective on its
way out: its restore is local, its exception propagates, and the ranks still waiting on it
fail with the process group's error when its process ends (under torchrun the agent also ends
them at once).

**Bounded waits.** No rank waits longer than ``LRFinder.collective_timeout`` (120 s) at one of
these collectives: the start and ``apply`` begin with :meth:`Collective.arrive` (gloo:
``monitored_barrier`` on a thread, so rank 0 names the ranks that did not arrive and the others
are bounded too; other backends: an all-reduce polled to a deadline), and each reduction is
polled to a deadline (:meth:`Collective.wait`). Past it, :class:`CollectiveTimeout` (a rank
that caught its test's error and went on, a rank that never called the test). A rank stuck
inside a collective of the model's own (DDP's gradient reduction, FSDP's gathers) is beyond
lrwidget: the process group's own ``timeout`` bounds that.

Only rank 0 shows a progress bar; subscribers get their events on every rank (the readings are
the same everywhere), and :func:`lrwidget.connect` streams from rank 0 only.

Example
-------
>>> plan_differences([{"num_iter": 100, "end_lr": 10.0}, {"num_iter": 60, "end_lr": 10.0}])
['num_iter: 100 on rank 0, 60 on rank 1']
"""

from __future__ import annotations

import math
import re
import threading
import time
from datetime import timedelta
from typing import Any

import torch
from torch import Tensor

from .checks import real
from .history import History
from .loop import Recorder, StopRule

__all__ = [
    "Collective",
    "CollectiveRule",
    "CollectiveRecorder",
    "CollectiveTimeout",
    "StartRefused",
    "collective_of",
    "plan_differences",
]

_isfinite = math.isfinite

#: seconds a rank waits for the others at one of a test's collectives (LRFinder.collective_timeout)
DEFAULT_TIMEOUT = 120.0

# what keeps a rank from a collective the others are in (said in every timeout's message)
_ABSENT = (
    "every rank must call range_test / track / apply alike; a rank that caught a failed test's "
    "error and went on, that left a track() loop early or that is stuck elsewhere never comes"
)


class StartRefused(RuntimeError):
    """Another rank could not start the range test, so no rank started it (nothing ran)."""


class CollectiveTimeout(RuntimeError):
    """Not every rank took part in one of a test's collectives within the finder's
    ``collective_timeout``; the process group is not usable any more (end the job)."""


def _describe(e: BaseException) -> str:
    return type(e).__name__ + (f": {e}" if str(e) else "")


def check_process_group(process_group: Any) -> None:
    """Refuse a ``process_group`` that is not a ``torch.distributed.ProcessGroup``, None or
    False, or a group given while torch.distributed is not initialized.

    Example
    -------
    >>> check_process_group(None), check_process_group(False)
    (None, None)
    >>> check_process_group("gloo")
    Traceback (most recent call last):
    ...
    TypeError: process_group must be a torch.distributed.ProcessGroup, None (the default group when torch.distributed is initialized) or False (this process alone), got 'gloo'
    """  # noqa: E501
    if process_group is None or process_group is False:
        return
    import torch.distributed as dist

    if not (dist.is_available() and isinstance(process_group, dist.ProcessGroup)):
        raise TypeError(
            "process_group must be a torch.distributed.ProcessGroup, None (the default group "
            "when torch.distributed is initialized) or False (this process alone), got "
            f"{process_group!r}"
        )
    if not dist.is_initialized():
        raise ValueError(
            "process_group was given but torch.distributed is not initialized; call "
            "torch.distributed.init_process_group() first"
        )


class Collective:
    """This process's place in a process group, and the collectives a range test needs.

    Parameters
    ----------
    group : torch.distributed.ProcessGroup or None
        None: the default group.
    rank, world : int
        This process's rank in ``group`` and the group's size (> 1).
    device : torch.device
        Where the reductions' tensors live (CPU for gloo, the current CUDA device for NCCL).
    timeout : float
        Seconds this rank waits for the others at one collective before it raises
        :class:`CollectiveTimeout` (the finder's ``collective_timeout``).
    """

    def __init__(
        self,
        group: Any,
        rank: int,
        world: int,
        device: torch.device,
        timeout: float = DEFAULT_TIMEOUT,
    ):
        self.group = group
        self.rank = rank
        self.world = world
        self.device = device
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Collective(rank={self.rank}, world={self.world}, device={self.device})"

    def _gather(self, value: Any) -> list:
        import torch.distributed as dist

        out: list = [None] * self.world
        dist.all_gather_object(out, value, group=self.group)
        return out

    def _timed_out(self, what: str, who: str) -> CollectiveTimeout:
        return CollectiveTimeout(
            f"{who} within {self.timeout:g} s (collective_timeout) at {what}, seen on rank "
            f"{self.rank} of {self.world}: {_ABSENT}; the process group is not usable any more, "
            "end the job"
        )

    def wait(self, work: Any, what: str) -> None:
        """Wait for an async collective's ``work``, at most ``timeout`` s.

        Polled rather than ``work.wait(timeout)``: that bounds the host only on some backends
        (NCCL's wait only orders streams)."""
        deadline = time.monotonic() + self.timeout
        pause = 5e-5
        while not work.is_completed():
            if time.monotonic() > deadline:
                raise self._timed_out(what, "not every rank took part")
            time.sleep(pause)
            pause = min(2 * pause, 2e-3)
        work.wait()  # raises the backend's error when the collective failed

    def arrive(self, what: str) -> None:
        """Return once every rank has arrived here for ``what``; raise
        :class:`CollectiveTimeout` after ``timeout`` s, naming the ranks that did not arrive
        where the backend can tell (gloo: ``monitored_barrier`` names them on rank 0)."""
        import torch.distributed as dist

        if str(dist.get_backend(self.group)).lower() != "gloo":
            one = torch.ones(1, device=self.device)
            self.wait(dist.all_reduce(one, group=self.group, async_op=True), what)
            return
        failed: list[BaseException] = []

        def barrier() -> None:
            try:
                dist.monitored_barrier(
                    self.group, timeout=timedelta(seconds=self.timeout), wait_all_ranks=True
                )
            except Exception as e:  # noqa: BLE001 - the barrier's timeout: raised by the caller
                failed.append(e)

        # on a thread: a rank other than 0 waits for rank 0's answer without a bound of its own
        t = threading.Thread(target=barrier, name="lrwidget-arrive", daemon=True)
        t.start()
        t.join(self.timeout + 2.0)
        if t.is_alive():
            raise self._timed_out(what, "rank 0 did not say that every rank arrived")
        if failed:
            m = re.search(r"Ranks? ([\d, ]+) failed to pass monitoredBarrier", str(failed[0]))
            who = (
                f"rank(s) {m.group(1)} did not arrive"
                if m
                else f"not every rank arrived ({_describe(failed[0])})"
            )
            raise self._timed_out(what, who) from failed[0]

    def agree(self, value: Any, what: str) -> list:
        """Every rank's ``value``, in rank order, once every rank arrived at ``what`` (bounded:
        :meth:`arrive`)."""
        self.arrive(what)
        return self._gather(value)

    def all_reduce(self, t: Tensor, async_op: bool) -> Any:
        """SUM ``t`` over the ranks in place; the work handle when ``async_op``."""
        import torch.distributed as dist

        return dist.all_reduce(t, op=dist.ReduceOp.SUM, group=self.group, async_op=async_op)

    def agree_start(self, error: BaseException | None, plan: dict | None) -> None:
        """Every rank says whether it can start a test, and with which sweep (``plan``).

        A collective: every rank calls it once per test, before its first step. A rank that
        passes its own ``error`` returns (and raises that error itself); the others raise
        :class:`StartRefused` naming it. Plans that differ raise ValueError on every rank.
        """
        self.arrive("the range test's start")
        said = self._gather((None if error is None else _describe(error), plan))
        if error is not None:
            return
        failed = [(r, e) for r, (e, _) in enumerate(said) if e is not None]
        if failed:
            why = "; ".join(f"rank {r} could not start it ({e})" for r, e in failed)
            raise StartRefused(
                f"the range test did not start on any of the {self.world} ranks: {why}; "
                "nothing was run"
            )
        diffs = plan_differences([p for _, p in said])
        if diffs:
            raise ValueError(
                "the range test's arguments differ between ranks (every rank must run the same "
                f"sweep): {'; '.join(diffs)}; nothing was run"
            )

    def choose(self, value: Any, error: BaseException | None) -> Any:
        """Rank 0's ``value`` on every rank; or, when any rank passes an ``error``, raise on
        every rank (this rank's own error where it had one)."""
        self.arrive("apply")
        said = self._gather((None if error is None else _describe(error), value))
        if error is not None:
            raise error
        failed = [(r, e) for r, (e, _) in enumerate(said) if e is not None]
        if failed:
            why = "; ".join(f"rank {r}: {e}" for r, e in failed)
            raise RuntimeError(f"refused on {len(failed)} of {self.world} ranks ({why})")
        return said[0][1]


def collective_of(
    process_group: Any, device: torch.device, timeout: Any = DEFAULT_TIMEOUT
) -> Collective | None:
    """The :class:`Collective` a finder on ``device`` uses now, or None when it runs alone
    (torch.distributed not initialized, or a group of one rank). ``timeout``: the finder's
    ``collective_timeout`` (checked here: a positive finite number of seconds).

    Example
    -------
    >>> collective_of(None, torch.device("cpu")) is None   # no process group here
    True
    """
    if process_group is False:  # this process tests alone, even under torch.distributed
        return None
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        if process_group is not None:
            check_process_group(process_group)  # raises: not initialized
        return None
    world = dist.get_world_size(process_group)
    if world <= 1:
        return None
    rank = dist.get_rank(process_group)
    if rank < 0:
        raise ValueError("this process is not a member of the finder's process_group")
    backend = str(dist.get_backend(process_group)).lower()
    if backend == "nccl":
        where = torch.device("cuda", torch.cuda.current_device())
    elif backend in ("gloo", "mpi"):
        where = torch.device("cpu")
    else:  # a backend per device ("cpu:gloo,cuda:nccl"), or another accelerator's
        where = device
    return Collective(process_group, rank, world, where, checked_timeout(timeout))


def checked_timeout(timeout: Any) -> float:
    """``collective_timeout`` as a float, or ValueError naming it.

    Example
    -------
    >>> checked_timeout(30)
    30.0
    >>> checked_timeout(0)
    Traceback (most recent call last):
    ...
    ValueError: collective_timeout must be a positive finite number of seconds, got 0
    """
    what = "a positive finite number of seconds"
    v = real("collective_timeout", timeout, what)
    if not 0 < v < math.inf:
        raise ValueError(f"collective_timeout must be {what}, got {timeout!r}")
    return v


def plan_differences(plans: list) -> list[str]:
    """What differs between the ranks' plans (dicts of argument -> value), one line per
    argument; empty when they agree."""
    out = []
    first = plans[0] or {}
    for k in first:
        values = [(p or {}).get(k) for p in plans]
        if any(v != values[0] for v in values):
            out.append(f"{k}: " + ", ".join(f"{v!r} on rank {r}" for r, v in enumerate(values)))
    return out


class CollectiveRule(StopRule):
    """The :class:`~lrwidget.engine.loop.StopRule` of a collective test: decides on reduced
    values only.

    ``requested`` (set by ``stop()`` on this rank) is not an answer by itself: it travels in
    the next reduction, and :attr:`agreed` is the reason every rank decided on.

    Example
    -------
    >>> r = CollectiveRule(3, 5.0); r.requested = True
    >>> r.decide(1, 1.0, 1.0, 1.0), r.pending()      # a local stop() alone ends nothing
    (None, None)
    >>> r.decide(2, 9.0, 6.0, 1.0)
    'diverged'
    """

    __slots__ = ("agreed",)

    def __init__(self, num_iter: int, diverge_th: float):
        super().__init__(num_iter, diverge_th)
        self.agreed: str | None = None  # set by the reduction that ended the test

    def decide(self, n: int, loss: float, smoothed: float, best: float) -> str | None:
        if not (_isfinite(loss) and _isfinite(smoothed)) or smoothed > self.diverge_th * best:
            return "diverged"
        if n >= self.num_iter:
            return "completed"
        return None

    def pending(self) -> str | None:
        return self.agreed


class CollectiveRecorder(Recorder):
    """Stages this rank's losses and turns each chunk into the ranks' mean, in one reduction.

    Per step: one copy of the loss into a preallocated tensor. At the end of a chunk
    (``fetch_every`` steps, or the last step): the stop flag and the elapsed time are written
    after the losses and the whole tensor is all-reduced (SUM) asynchronously; the result is
    read after the next step (or at once after the last), divided by the number of ranks and
    written into the readings, each reading asked to the rule. Two tensors take turns, so the
    next chunk is staged while the last one is reduced.

    Parameters
    ----------
    readings : History
    rule : CollectiveRule
    fetch_every : int
        Steps per reduction (>= 1).
    device : torch.device
        Where the losses are staged (the finder's device).
    comm : Collective
    perf0 : float
        ``time.perf_counter()`` at the start of the run (the elapsed time is reduced too, so
        the result is the same on every rank).
    """

    def __init__(
        self,
        readings: History,
        rule: CollectiveRule,
        fetch_every: int,
        device: Any,
        comm: Collective,
        perf0: float,
    ):
        super().__init__(readings, rule, 1, device)
        self.rule: CollectiveRule = rule
        self.fetch_every = size = max(1, int(fetch_every))
        self.comm = comm
        self.perf0 = perf0
        self._bufs = [torch.zeros(size + 2, dtype=torch.float64, device=device) for _ in "ab"]
        self._cur = 0
        self._inflight: tuple | None = None  # (work, tensor, lrs, first step, count)
        self.elapsed: float | None = None  # the ranks' mean elapsed time at the last reduction

    def add(self, i: int, lr: float, loss: Any) -> str | None:
        if self._inflight is not None:  # the last chunk's reduction: its step is done
            r = self._complete()
            if r is not None:
                return r  # this step's loss is dropped on every rank alike
        buf = self._bufs[self._cur]
        n = self.n_staged
        if n == 0:
            self.first_step = i
        if isinstance(loss, Tensor):
            buf[n] = loss.detach()
        else:
            buf[n] = float(loss)
        self.staged_lrs.append(lr)
        self.n_staged = n + 1
        if self.n_staged == self.fetch_every or i + 1 >= self.rule.num_iter:
            self._launch()
            if i + 1 >= self.rule.num_iter:
                return self._complete()  # the last step: no next step to overlap with
        return None

    def flush(self) -> str | None:
        if self.n_staged:
            self._launch()
        if self._inflight is not None:
            return self._complete()
        return self.rule.agreed

    def _launch(self) -> None:
        size = self.fetch_every
        buf = self._bufs[self._cur]
        buf[size] = 1.0 if self.rule.requested else 0.0
        buf[size + 1] = time.perf_counter() - self.perf0
        send = buf if buf.device == self.comm.device else buf.to(self.comm.device)
        try:
            work = self.comm.all_reduce(send, async_op=True)
        except Exception as e:
            raise self._failed(e) from e
        self._inflight = (work, send, self.staged_lrs, self.first_step, self.n_staged)
        self.staged_lrs = []
        self.n_staged = 0
        self._cur ^= 1

    def _complete(self) -> str | None:
        work, buf, lrs, first, count = self._inflight  # type: ignore[misc]
        self._inflight = None
        try:
            self.comm.wait(work, f"the range test's reduction of steps {first + 1}-{first + count}")
            vals = buf.tolist()  # the one host sync per chunk
        except CollectiveTimeout:
            raise
        except Exception as e:
            raise self._failed(e) from e
        world, size = self.comm.world, self.fetch_every
        self.elapsed = vals[size + 1] / world
        readings, rule = self.readings, self.rule
        for j in range(count):
            v = vals[j] / world
            s = readings.append(lrs[j], v)
            r = rule.decide(first + j + 1, v, s, readings.best)
            if r is not None:
                rule.agreed = r  # the readings after this one are dropped
                return r
        if vals[size] > 0:
            rule.agreed = "stopped"
            return "stopped"
        return None

    def _failed(self, e: Exception) -> RuntimeError:
        return RuntimeError(
            f"the range test's reduction across the {self.comm.world} ranks failed on rank "
            f"{self.comm.rank} ({_describe(e)}); another rank has probably failed or ended: "
            "its own error says why"
        )

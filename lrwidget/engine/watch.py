"""The training doctor's engine: :class:`Watch`, made by :meth:`lrwidget.LRFinder.watch`.

The seed's lesson, after the click: *watch the first few hundred steps.* ::

    with finder.watch(scheduler) as watch:
        for x, y in loader:
            loss = criterion(model(x), y); loss.backward()
            optimizer.step(); scheduler.step(); optimizer.zero_grad()
            watch.record(loss)                  # returns at once
    watch.verdict, watch.reason, watch.events
    watch.scale_lr(0.1, rollback=True)          # what the view's buttons do

**The hot path.** ``record(loss)`` copies the loss into a preallocated buffer (on an
accelerator a device tensor: no host sync), and a step pre-hook notes each group's lr. Every
``every`` steps (16) one host sync fetches the chunk (losses, each group's update/weight ratio:
:mod:`lrwidget.engine.watch_ratios`) for the :class:`lrwidget.pure.verdict.Doctor`, whose
verdict the listeners hear; every ``snapshot_every`` steps while there is no trouble, and
whenever the next step's lr is 2x the last snapshot's (``RaiseWatch``), a snapshot goes in the
ring (:mod:`lrwidget.engine.watch_ring`).

**Actions** (:meth:`Watch.scale_lr`) are applied between two steps (a button's thread: at
the next ``record()``) and scale the whole schedule (:func:`lrwidget.engine.schedules.scale`).
Under torch.distributed (:mod:`lrwidget.engine.watch_collective`) the chunk is all-reduced with
the actions asked from other threads in it, so every rank applies them after the same step; on
the training thread ``scale_lr`` and ``probe`` are collective calls, as ``finder.apply`` is.
"""

from __future__ import annotations

import math
import sys
import threading
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Literal

import numpy as np
import torch
from torch import Tensor

from ..pure.numbers import is_real
from ..pure.verdict import Diagnosis, Doctor, group_ratios
from .collective import Collective
from .loop import hooked_optimizer
from .optimizer_kinds import lr_reader
from .progress import wanted
from .schedules import base_lrs, scale
from .watch_collective import agree_call, exchange
from .watch_events import (
    Action,
    ActionTaken,
    Chunk,
    Event,
    Listeners,
    ProbeStarted,
    VerdictChanged,
    check_factor,
    describe_event,
    log,
)
from .watch_probe import ProbeAsk, Prober
from .watch_ratios import UpdateRatios, lr_rows
from .watch_ring import Entry, RaiseWatch, Ring, StateSize

if TYPE_CHECKING:
    from .snapshot import Snapshot

__all__ = ["Watch"]


class Watch:
    """A training run watched by the doctor; made by :meth:`lrwidget.LRFinder.watch`.

    Use as a context manager and call :meth:`record` once per training step.

    Attributes
    ----------
    step : int
        Steps recorded (a rollback does not rewind it: it counts training time).
    events : list
        Every :class:`VerdictChanged` and :class:`ActionTaken`, in order.
    ratios : dict
        Param group name (``"name"``, else its index) -> log10 std(update) / std(weight).
    """

    def __init__(
        self,
        finder: Any,
        capture: Callable[[], Snapshot],
        schedulers: list[Any],
        comm: Collective | None,
        *,
        every: int,
        snapshot_every: int,
        ring_bytes: int,
        progress: bool | None,
        auto_act: bool = False,
    ) -> None:
        self.finder = finder
        self.optimizer = finder.optimizer
        self.schedulers = schedulers
        self.comm = comm
        self.every = int(every)
        self.snapshot_every, self.auto_act = int(snapshot_every), auto_act
        self.ring = Ring(capture, schedulers, int(ring_bytes))
        extra = [finder.criterion] if isinstance(finder.criterion, torch.nn.Module) else []
        self._size = StateSize(finder.model, self.optimizer, extra)
        self.events: list[Event] = []
        self.step = 0
        groups = self.optimizer.param_groups
        self._names = [str(g.get("name", i)) for i, g in enumerate(groups)]
        self.ratios: dict[str, float] = dict.fromkeys(self._names, math.nan)
        self._listeners = Listeners()
        self._lock = threading.Lock()
        self._queue: list[Action] = []
        self._print = wanted(progress, comm.rank if comm else 0)
        curve = finder.result
        self._curve = curve if curve is not None and len(curve.lrs) >= 5 else None
        self._new_doctor("not enough steps yet")
        n, slots = len(groups), 2 * (comm.world if comm else 1)
        # losses | each group's ratio | each rank's asked action: one buffer, one sync
        self._host = np.zeros(self.every) if comm is None and finder.device.type == "cpu" else None
        dev = finder.device if self._host is None else torch.device("cpu")
        self._buf = torch.full((self.every + n + slots,), math.nan, dtype=torch.float64, device=dev)
        self._groups = groups
        self._raise, self._lr_of = RaiseWatch(groups), lr_reader(groups)
        # each step's effective lrs (d x lr for Prodigy; a tensor lr is read at the sync, not here)
        self._lrs: list[list[Any]] = [[]] * self.every
        self._k = 0  # steps staged in the chunk at hand
        self._stepped = False  # the optimizer stepped since the last record()
        self._last_snap = 0
        self._thread: int | None = None
        self._hooks: list[Any] = []
        self._post: Any = None  # the post-step hook, there only for the measured step
        self._ratio_slice = self._buf[self.every : self.every + n]
        self._ratio = UpdateRatios(self.optimizer, self._ratio_slice)
        self.training = False  # inside ``with watch:``: a loop trains (steps its own schedulers)
        self._probe = Prober(self, self._tell, self._snapshot, self._new_doctor)

    def __repr__(self) -> str:
        where = "CPU memory" if self.finder.memory_cache else "the disk cache"
        return (
            f"Watch(step={self.step}, verdict={self.verdict!r}, every={self.every}, "
            f"ring: {len(self.ring)} snapshots (steps {self.ring.steps()}), "
            f"{self.ring.nbytes / 2**20:.1f} MiB of ring_bytes={self.ring.cap / 2**20:.1f} MiB "
            f"in {where})"
        )

    # ------------------------------------------------------------------ the verdict
    @property
    def verdict(self) -> str:
        """ "watching" (not enough evidence yet), "healthy", "too_high" or "too_low"."""
        return self._diagnosis.verdict

    @property
    def reason(self) -> str:
        """One line: what in the loss (or the curve, or a param group) says so."""
        return self._reason

    @property
    def diagnosis(self) -> Diagnosis:
        """The doctor's last :class:`lrwidget.pure.verdict.Diagnosis` (``since`` in the
        doctor's own steps; :attr:`since` in the watch's)."""
        return self._diagnosis

    @property
    def since(self) -> int | None:
        """The step the trouble began (None: no trouble): a rollback goes back to the last
        snapshot taken at or before it."""
        s = self._diagnosis.since
        return None if s is None else self._doctor_start + s

    def _new_doctor(self, why: str) -> None:
        self._doctor = Doctor(self._curve)
        self._doctor_start = self.step
        self._diagnosis = Diagnosis("watching", why, step=0)
        self._reason = why
        self._outlier: str | None = None

    # ------------------------------------------------------------------ context
    def __enter__(self) -> Watch:
        if self.training or self._thread is not None:
            raise RuntimeError("a Watch runs once; call finder.watch(...) again")
        self._thread = threading.get_ident()
        opt = hooked_optimizer(self.optimizer)
        if opt is not None:
            self._hooks = [opt.register_step_pre_hook(self._before_step)]
        self.training = True
        self._snapshot()  # step 0: there is always a state before any trouble
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        try:
            if self._k and exc is None:
                self._chunk()  # the last steps, heard by every rank alike
        finally:
            self._probe.close(exc is not None)
            self.training = False
            for h in self._hooks:
                h.remove()
            self._hooks = []
            self._unhook_after()
            self.ring.clear()
        return False

    def listen(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Call ``callback(event)`` with every :class:`Chunk`, :class:`VerdictChanged` and
        :class:`ActionTaken` from now on (on the training thread: return at once). Returns the
        function that stops it. While any listener is there, nothing is printed."""
        return self._listeners.add(callback)

    # ------------------------------------------------------------------ the hot path
    def _before_step(self, opt: Any, args: Any, kwargs: Any) -> None:
        self._lrs[self._k] = list(map(self._lr_of, self._groups))  # map: no comprehension frame
        self._stepped = True
        if self._k == self.every - 1:
            self._ratio.before()
            if self._post is None:  # registered for this step only: no call on the others
                self._post = opt.register_step_post_hook(self._after_step)

    def _after_step(self, opt: Any, args: Any, kwargs: Any) -> None:
        self._ratio.after()

    def _unhook_after(self) -> None:
        # between two steps, never from the hook itself: torch iterates the hooks' dict
        if self._post is not None:
            self._post.remove()
            self._post = None

    def record(self, loss: Tensor | float) -> None:
        """Record the loss of the step just taken; returns at once (one host sync every
        ``every`` steps).

        Parameters
        ----------
        loss : torch.Tensor or float
            A scalar: a tensor of one element (its graph is not kept) or a number.

        Raises
        ------
        ValueError, TypeError, RuntimeError
            ``loss`` has more than one element / is not a tensor or number; outside the block.
        """
        if not self.training:
            raise RuntimeError("record() outside `with finder.watch(...) as watch:`")
        k = self._k
        self._stage(k, loss)
        if not self._stepped:  # no hook saw a step (a skipped AMP step, a wrapper): lr held now
            self._lrs[k] = list(map(self._lr_of, self._groups))
        self._stepped, self._k = False, k + 1
        self.step += 1
        if self._k == self.every or (self._queue and self.comm is None):
            self._boundary()
        elif self._raise.due() and self._calm():
            self._snapshot()  # the state before a raise: where its trouble would begin

    def _stage(self, k: int, loss: Any) -> None:
        if isinstance(loss, Tensor):
            if loss.numel() != 1:
                raise ValueError(
                    f"record() needs a scalar loss, got a tensor of shape {tuple(loss.shape)}"
                )
            if self._host is not None:
                self._host[k] = loss.item()  # on CPU reading a value waits for nothing
            else:
                self._buf[k] = loss.detach().reshape(())  # stays on the device until the sync
        elif is_real(loss):
            if self._host is not None:
                self._host[k] = float(loss)
            else:
                self._buf[k] = float(loss)
        else:
            raise TypeError(f"record() needs a loss tensor or a number, got {type(loss).__name__}")

    # ------------------------------------------------------------------ sync points
    def _boundary(self) -> None:
        """Between two steps: the chunk's sync, the asked actions, a snapshot when due."""
        remote = self._chunk() if self._k else []
        with self._lock:
            local, self._queue = (self._queue, []) if self.comm is None else ([], self._queue)
        for action in remote + local:
            self._act(action, raises=False)
        if remote or local:
            return
        auto = self.auto_act and self.verdict == "too_high"
        if auto and self.ring.before(self.since) is not None:  # the seed's "cut it 10x"
            self._act(Action(0.1, True), raises=False)
            return
        due = self.step - self._last_snap >= self.snapshot_every or self._raise.due()
        if due and self._calm():
            self._snapshot()

    def _calm(self) -> bool:
        return self.verdict != "too_high" and not self._probe.busy  # not a troubled state

    def _chunk(self) -> list[Action]:
        """Fetch the chunk at hand (one host sync), judge it, tell the listeners; the actions
        every rank asked (collective)."""
        count, n, every = self._k, len(self._names), self.every
        buf = self._buf
        actions: list[Action] = []
        if self.comm is not None:
            with self._lock:
                mine = self._queue.pop(0) if self._queue else None
            vals, actions = exchange(self.comm, buf, every + n, mine, self.step)
        else:
            vals = buf.tolist()  # the one host sync of the chunk
        losses = self._host[:count].copy() if self._host is not None else np.array(vals[:count])
        ratios = np.array(vals[every : every + n])
        self._ratio.seen(ratios)  # a sampled group whose updates are too sparse: measured whole
        lrs = lr_rows(self._lrs[:count])
        self._ratio_slice.fill_(math.nan)  # a view's fill_: no slice to index each chunk
        self._unhook_after()
        self._k = 0
        start = self.step - count
        if self._listeners:  # no event built when nobody listens (the plain training loop)
            self._listeners.emit(Chunk(start, losses, lrs, ratios))
        self._judge(losses, lrs, ratios)
        return actions

    def _judge(self, losses: np.ndarray, lrs: np.ndarray, ratios: np.ndarray) -> None:
        for name, r in zip(self._names, ratios.tolist()):
            if math.isfinite(r):
                self.ratios[name] = r
        d = self._probe.judged(self._doctor.update(losses, lrs[:, 0]), losses)
        off = group_ratios(self.ratios) if len(self._names) > 1 else None
        reason = d.reason if off is None else f"{d.reason}; {off.reason}"
        changed = d.verdict != self._diagnosis.verdict or (off and off.group) != self._outlier
        self._diagnosis, self._reason = d, reason
        self._outlier = off.group if off else None
        if changed:
            self._tell(VerdictChanged(self.step, d.verdict, reason, d.evidence, self.since))

    def _tell(self, event: Event) -> None:
        self.events.append(event)
        self._listeners.emit(event)
        line = describe_event(event)
        if self._print and not self._listeners:
            from tqdm.auto import tqdm  # type: ignore[import-untyped]

            tqdm.write(line, file=sys.stderr)  # beside a progress bar, not through it
        else:
            log.info(line)

    def _snapshot(self) -> None:
        self.ring.take(self.step, self._size())
        self._last_snap = self.step
        self._raise.taken()

    # ------------------------------------------------------------------ actions
    def scale_lr(self, factor: float, rollback: bool = False) -> ActionTaken | None:
        """Multiply the lr in use, and every lr the schedule gives later, by ``factor``, between
        two steps; with ``rollback=True`` first restore the last snapshot taken before the trouble
        began (:attr:`since`; no trouble: the newest), bit for bit but for the lrs (actions
        compose: a second rollback and x0.1 to the same snapshot leaves x0.01).

        Parameters
        ----------
        factor : float
            A finite number > 0 (0.1: cut the lr 10x).
        rollback : bool
            Go back to the snapshot first (model, optimizer, schedulers, GradScaler, RNG, the
            loaders' generators).

        Returns
        -------
        ActionTaken or None
            Applied at once (the training thread; under torch.distributed a collective call);
            None from another thread: applied at the next ``record()`` (every rank at the next
            sync), shown in :attr:`events`.

        Raises
        ------
        ValueError
            ``factor`` is not a finite number > 0; a param group's base lr is 0.
        TypeError
            ``rollback`` is not a bool.
        RuntimeError
            Outside the ``with`` block, or ``rollback=True`` with no snapshot to go back to;
            nothing is changed then. Under torch.distributed also: another rank refused it;
            CollectiveTimeout: a rank did not call it.
        """
        if self.comm is not None and self.training and threading.get_ident() == self._thread:
            return self._together("scale_lr", partial(self._asked, factor, rollback))  # type: ignore[return-value]
        action = self._asked(factor, rollback)
        if threading.get_ident() != self._thread:
            with self._lock:
                self._queue.append(action)
            return None
        if self._k:
            self._chunk()  # the steps before the action are judged as they were
        return self._apply(action, raises=True)

    def _asked(self, factor: Any, rollback: Any) -> Action:
        f = check_factor(factor)
        if not isinstance(rollback, bool):
            raise TypeError(f"rollback must be True or False, got {rollback!r}")
        if not self.training:
            raise RuntimeError("scale_lr() outside `with finder.watch(...) as watch:`")
        self._check_action(rollback)
        return Action(f, rollback)

    def _together(self, name: str, ask: Callable[[], Action]) -> ActionTaken | ProbeStarted:
        """Every rank's training thread: agreed, the steps exchanged, applied on every rank."""
        assert self.comm is not None
        action = agree_call(self.comm, name, self.step, ask)
        for earlier in self._chunk() if self._k else []:
            self._act(earlier, raises=False)
        return self._act(action, raises=True)

    def _act(self, action: Action, raises: bool) -> ActionTaken | ProbeStarted:
        if isinstance(action, ProbeAsk):
            return self._probe.start(action, raises=raises)
        return self._apply(action, raises=raises)

    def _check_action(self, rollback: bool) -> Entry | None:
        """Raise when the action cannot be applied now (nothing is changed)."""
        bases = base_lrs(self.optimizer, self.schedulers)
        if not all(b > 0 and math.isfinite(b) for b in bases):
            raise ValueError(f"scale_lr needs positive base lrs to scale, the groups have {bases}")
        if not rollback:
            return None
        entry = self.ring.before(self.since)
        if entry is None:
            since = self.since
            when = "" if since is None else f" at or before step {since} (where the trouble began)"
            raise RuntimeError(
                f"no snapshot to go back to{when}: the ring holds {len(self.ring)} snapshots "
                f"(steps {self.ring.steps()}, ring_bytes={self.ring.cap}); nothing was changed"
            )
        return entry

    def _apply(self, action: Action, raises: bool) -> ActionTaken:
        self._probe.interrupt(f"scale_lr x{action.factor:g} at step {self.step}")
        try:
            entry = self._check_action(action.rollback)
            before = base_lrs(self.optimizer, self.schedulers)  # actions compose across rollbacks
            if entry is not None:
                entry.restore()
                self.ring.drop_after(entry.step)
            lrs = scale(self.optimizer, self.schedulers, action.factor, before)
        except Exception as e:
            held = tuple(float(g["lr"]) for g in self.optimizer.param_groups)
            event = ActionTaken(self.step, action.factor, None, held, f"{type(e).__name__}: {e}")
            self._tell(event)
            if raises:
                raise
            return event
        to = None if entry is None else entry.step
        event = ActionTaken(self.step, action.factor, to, tuple(lrs), None)
        self._tell(event)
        self._new_doctor(f"lr x{action.factor:g} at step {self.step}: watching again")
        if entry is not None:  # the state now is that snapshot's: the next one comes later
            self._last_snap = self.step
        self._raise.taken()  # the scaled lrs are the base (a x2 is not a raise to keep)
        self._tell(VerdictChanged(self.step, "watching", self._reason, "loss", None))
        return event

    def probe(self, steps: int = 32, factor: float = 2.0) -> ProbeStarted | None:
        """Is the lr too low? Try it x``factor`` for ``steps`` steps, reversibly: keep it if the
        loss falls clearly faster (verdict too_low, evidence "probe"), else back to the probe's
        snapshot, bit for bit (:mod:`lrwidget.engine.watch_probe`); between steps like scale_lr.

        Parameters
        ----------
        steps : int
            8 to 1024, a multiple of ``every``; the losses before compared with (as many).
        factor : float
            A finite number > 1 (2.0: the lr x2).

        Returns
        -------
        ProbeStarted or None
            Started at once (the training thread; collective under torch.distributed, decided
            on the mean losses), or None: it starts at the next ``record()`` (or sync).

        Raises
        ------
        ValueError, RuntimeError
            Bad ``steps`` / ``factor``; outside the block, a probe running, verdict too_high, too
            few losses; nothing is changed then.
        """
        if self.comm is not None and self.training and threading.get_ident() == self._thread:
            check = partial(self._probe.check, steps, factor, True, mark=False)
            return self._together("probe", check)  # type: ignore[return-value]
        ask = self._probe.check(steps, factor, self.training)
        if threading.get_ident() != self._thread:
            with self._lock:
                self._queue.append(ask)
            return None
        if self._k:
            self._chunk()  # the steps before the probe are its base
        return self._probe.start(ask, raises=True)

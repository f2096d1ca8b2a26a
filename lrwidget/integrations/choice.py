"""What the framework callbacks share: their settings, the range test, and where the lr comes from.

A callback runs inside the framework's ``fit``/``train``, i.e. inside a notebook cell that is
busy until training ends. A kernel handles no message from the front end while a cell runs, so a
click on a widget displayed by that cell could never arrive. Hence three ways to choose:

- **the find step** (notebooks): :meth:`Chooser.find` runs the range test in a background thread
  on the framework's own pieces and returns the live widget at once; the user clicks and
  applies; the next ``fit`` trains with the applied lr without testing again.
- **a listening notebook** (jobs): with ``LRWIDGET_ADDRESS``/``LRWIDGET_TOKEN`` set (as
  ``lrwidget.listen()`` shows), the test streams there and the job waits for Apply
  (:meth:`lrwidget.remote.link.Link.wait_for_choice`).
- **the default suggestion** (``choose="default"``: scripts, CI), also what a busy cell gets,
  with a warning that names the find step.

Either way the chosen lr is moved into the optimizer *and* its schedule
(:func:`lrwidget.engine.schedules.rebase`); with a schedule asked for (``schedule=``, or a range
applied in the widget) the framework's schedule is built around a range instead
(:mod:`lrwidget.integrations.framework_schedule`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any, Callable

from ..engine.finder import LRFinder
from ..engine.loop import write_lr
from ..engine.schedules import base_lrs, move_to
from ..engine.stream import LrApplied
from ..pure.numbers import is_real
from ..pure.suggest import DEFAULT, RULES
from ..remote.link import ENV_ADDRESS
from ..remote.transport import check_seconds
from .framework_schedule import Asked, Chosen, range_around

log = logging.getLogger("lrwidget.integrations")

#: accepted values of the callbacks' ``choose``
CHOOSE = ("click", "default")
#: the first lr of a callback's test when ``start_lr`` is None: a framework's optimizer holds a
#: scheduled lr (0 during warmup, max_lr / 25 in a one cycle), not a start for a sweep
DEFAULT_START_LR = 1e-7
# what a callback passes to range_test itself
_OWN = ("train_loader", "step_fn", "start_lr", "end_lr", "num_iter")


def check_settings(
    start_lr: Any,
    end_lr: Any,
    num_iter: Any,
    choose: object,
    timeout: object,
    range_test_kwargs: dict[str, Any],
    rule: object = None,
) -> None:
    """Refuse what the range test would refuse later, when the callback is made.

    Example
    -------
    >>> check_settings(None, 10, 100, "clik", None, {})
    Traceback (most recent call last):
    ...
    ValueError: choose must be one of 'click', 'default', got 'clik'
    """
    if choose not in CHOOSE:
        raise ValueError(f"choose must be one of {', '.join(map(repr, CHOOSE))}, got {choose!r}")
    check_seconds(timeout, "timeout", none=True)
    if rule is not None and rule not in RULES:
        raise ValueError(f"rule must be None or one of {', '.join(map(repr, RULES))}, got {rule!r}")
    clash = sorted(set(range_test_kwargs) & set(_OWN))
    if clash:
        raise TypeError(
            f"{', '.join(clash)} cannot be passed as range_test keyword arguments: the callback "
            "takes the data and the loss from the framework (start_lr, end_lr and num_iter "
            "are the callback's own arguments)"
        )
    # the sweep's own checks (positive finite lrs, start < end, num_iter >= 2, known names...)
    _probe().check_range_test_args(
        [(None,)],
        start_lr=DEFAULT_START_LR if start_lr is None else start_lr,
        end_lr=end_lr,
        num_iter=num_iter,
        step_fn=lambda m, b: None,
        **range_test_kwargs,
    )


def _probe() -> LRFinder:
    import torch

    m = torch.nn.Module()
    m.w = torch.nn.Parameter(torch.zeros(1))  # no initialiser: torch's RNG is not drawn from
    return LRFinder(m, torch.optim.SGD(m.parameters(), lr=1e-3))


def in_busy_cell() -> bool:
    """True on the main thread of a Jupyter kernel: the cell running now blocks front-end
    messages until it ends."""
    return threading.current_thread() is threading.main_thread() and in_kernel()


def to_listener() -> bool:
    """Whether this job reports to a notebook's ``lrwidget.listen()``: ``LRWIDGET_ADDRESS`` set,
    outside a kernel (a notebook's own cell draws in the notebook)."""
    return os.environ.get(ENV_ADDRESS) is not None and not in_kernel()


def in_kernel() -> bool:
    """True in a Jupyter kernel (any thread): a widget displayed here is drawn."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


def _group_settings(optimizer: Any) -> list[dict[str, Any]]:
    """Each param group's settings but its params and lr (momentum, betas, a scheduler's keys)."""
    return [
        {k: v for k, v in g.items() if k not in ("params", "lr")} for g in optimizer.param_groups
    ]


def _put_back(optimizer: Any, kept: list[dict[str, Any]]) -> None:
    """The settings of :func:`_group_settings` back (keys added since removed)."""
    for g, settings in zip(optimizer.param_groups, kept):
        for k in [k for k in g if k not in ("params", "lr") and k not in settings]:
            del g[k]
        g.update(settings)


def _scheduled(optimizer: Any) -> list[float]:
    # values, not the objects: a tensor lr is the same object after an apply fills it
    return [float(g["lr"]) for g in optimizer.param_groups]


class ChoiceRecord:
    """What a framework callback shows of its :class:`Chooser` (``self._chooser``): read-only."""

    _chooser: Chooser

    @property
    def result(self) -> Any:
        """The last range test's :class:`lrwidget.RangeTestResult` (None before one ran)."""
        return self._chooser.result

    @property
    def chosen_lr(self) -> float | None:
        """The first param group's base lr training runs with (None: nothing chosen)."""
        return self._chooser.chosen_lr

    @property
    def chosen_by(self) -> str | None:
        """ "click" or "default" (None: nothing chosen; the configured lr was kept)."""
        return self._chooser.chosen_by

    @property
    def widget(self) -> Any:
        """The live view, when one was shown (the find step's, or one shown during fit)."""
        return self._chooser.widget

    @property
    def chosen_schedule(self) -> dict[str, Any] | None:
        """The schedule training runs with: ``{"kind", "lo", "hi", "total_steps"}`` (None: a
        single lr, or nothing chosen)."""
        c = self._chooser.chosen_schedule
        return None if c is None else c.as_dict()

    def schedule(
        self,
        kind: str,
        lo: float | None = None,
        hi: float | None = None,
        total_steps: int | None = None,
    ) -> ChoiceRecord:
        """Train with a ``kind`` schedule over a range instead of a single lr (as ``schedule=``).

        Parameters
        ----------
        kind : str
            "one_cycle", "cyclic", "cosine" or "linear" (the mapping:
            :func:`lrwidget.engine.range_schedule.build_schedule`).
        lo, hi : float, optional
            The first param group's range (both or neither). None: the range test's: the chosen
            lr as the peak, the suggested range's low end below it.
        total_steps : int, optional
            Optimizer steps the schedule spans; None: the framework's own total.

        Returns
        -------
        The callback itself.

        Raises
        ------
        ValueError
            A bad argument (named, with the accepted values); the setting is then unchanged.
        """
        self._chooser.asked = Asked.checked(kind, lo, hi, total_steps)
        return self


class Chooser:
    """The range test and the choice of lr of one framework callback.

    Parameters
    ----------
    start_lr, end_lr, num_iter
        The sweep; ``start_lr=None`` starts at :data:`DEFAULT_START_LR`.
    choose : {"click", "default"}
        "click": the lr applied in the widget (the find step's, a listening notebook's, or
        the widget of a fit run in a thread); "default": the result's default suggestion.
    timeout : float, optional
        Seconds to wait for a click before taking the default suggestion (None: no limit).
    range_test_kwargs : dict
        Passed to :meth:`lrwidget.LRFinder.range_test` (``step_mode``, ``smooth_f``,
        ``diverge_th``, ``accumulation_steps``, ``val_loader``, ...).
    rule : str, optional
        The rule whose suggestion is taken when no click does (a name in
        :data:`lrwidget.pure.suggest.RULES`); None: the result's default suggestion.

    Attributes
    ----------
    result : RangeTestResult or None
    chosen_lr : float or None
        The first param group's base lr training runs with.
    chosen_by : {"click", "default", None}
    widget : LRFinderWidget or None
        The live view, when one was shown.
    """

    def __init__(
        self,
        start_lr: Any,
        end_lr: Any,
        num_iter: Any,
        choose: str,
        timeout: float | None,
        range_test_kwargs: dict[str, Any],
        rule: str | None = None,
        schedule: str | None = None,
        total_steps: int | None = None,
    ) -> None:
        check_settings(start_lr, end_lr, num_iter, choose, timeout, range_test_kwargs, rule)
        self.asked = Asked.checked(schedule, None, None, total_steps)
        self.rule = rule
        self.start_lr, self.end_lr, self.num_iter = start_lr, end_lr, num_iter
        self.choose, self.timeout = choose, timeout
        self.range_test_kwargs = dict(range_test_kwargs)
        self._user_kwargs = dict(range_test_kwargs)
        self.result: Any = None
        self.chosen_lr: float | None = None
        self.chosen_by: str | None = None
        self.widget: Any = None
        self.chosen_schedule: Chosen | None = None
        self.picked: tuple[str, float, float] | None = None  # a range applied in a widget
        self.steps: int | None = None  # what a schedule spans in this fit
        self._found: Any = None  # the find step's widget, until a fit takes its choice

    # ------------------------------------------------------------------ the find step
    def find(
        self, finder: LRFinder, loader: Any, step_fn: Callable, schedulers: Sequence[Any] = ()
    ) -> Any:
        """Start the range test in a background thread and return its widget at once."""
        from ..views.widget import LRFinderWidget

        w = LRFinderWidget(finder)
        w.run(loader, step_fn=step_fn, **self._sweep(finder, schedulers))
        self._found = self.widget = w
        return w

    def use_accumulation(self, steps: int) -> None:
        """Batches per test step as the framework accumulates them (one test step is one
        optimizer step of training), unless the user passed ``accumulation_steps``."""
        self.range_test_kwargs = {"accumulation_steps": max(1, int(steps)), **self._user_kwargs}

    def schedule_steps(self, framework_total: float) -> None:
        """Before the test: the steps a schedule spans in this training of ``framework_total``
        optimizer steps (``inf``: unknown); a ValueError when they cannot be what was asked."""
        self.steps = self.asked.steps_in(framework_total)

    def discard_find(self) -> None:
        """Forget the find step: the next fit/train runs a test of its own."""
        self._found = None

    # ------------------------------------------------------------------ inside fit / train
    def test_and_choose(
        self,
        finder: LRFinder,
        loader: Any,
        step_fn: Callable,
        schedulers: list[Any],
        place: Callable[[Chosen], None] | None = None,
    ) -> float:
        """Run the test (or take the find step's), choose, and move optimizer and schedule there.

        Returns the chosen base lr of the first param group (a schedule's peak). The model and
        optimizer are restored by the test before the lr is moved; when the test raises,
        nothing is moved. With a schedule asked for or applied in a widget, ``place`` (the
        framework's) puts it in place of the lr's move (:meth:`schedule_steps` first).
        """
        opt = finder.optimizer
        if self._found is not None:
            found, self._found = self._found, None
            lr = self._from_find(found)  # waits for its test: the optimizer may be the same
            before = _scheduled(opt)
        else:
            before = _scheduled(opt)
            lr = self._run(finder, loader, step_fn, schedulers)
        for g, v in zip(opt.param_groups, before):
            write_lr(g, "lr", v)  # a choice applied through the finder set lr: the schedule decides
        chosen = self._schedule_for(lr) if place is not None else None
        if chosen is not None:
            assert place is not None  # for the type checker
            place(chosen)
            self.chosen_schedule, self.chosen_lr = chosen, chosen.hi
            log.info(
                "lrwidget: training with a %s schedule %.2e .. %.2e over %d steps (%s)",
                *(chosen.kind, chosen.lo, chosen.hi, chosen.total_steps, self.source),
            )
            return chosen.hi
        if lr is None:
            kept = base_lrs(opt, schedulers)[0]
            log.info("lrwidget: training at lr=%.2e (%s)", kept, self.source)
            return kept
        move_to(opt, schedulers, lr)
        self.chosen_lr = float(lr)
        log.info("lrwidget: training at lr=%.2e (%s)", self.chosen_lr, self.source)
        return self.chosen_lr

    def _schedule_for(self, lr: float | None) -> Chosen | None:
        """The schedule to train with: a range applied in a widget, else the one asked for
        (its ends, or the suggested range around the chosen lr); None: a single lr."""
        a = self.asked
        if self.picked is not None:
            kind, lo, hi = self.picked
        elif a.kind is not None and a.lo is not None and a.hi is not None:
            kind, lo, hi = a.kind, a.lo, a.hi
        elif a.kind is not None and lr is not None:
            kind, (lo, hi) = a.kind, range_around(self.result, lr)
        else:
            return None  # no schedule asked for, or nothing chosen: the configured one stays
        if self.steps is None:
            raise ValueError(
                "total_steps: this training's steps are unknown or fewer than 2; pass "
                "total_steps= to the callback for a schedule"
            )
        return Chosen(kind, lo, hi, self.steps)

    @property
    def source(self) -> str:
        """Where the lr training runs at came from, in words (for the line that says it)."""
        rule = self.rule or DEFAULT
        if self.chosen_by == "click":
            return "applied in the widget"
        if self.chosen_by == "schedule":
            return "a range applied in the widget"
        if self.chosen_by == "default":
            return f"default suggestion {rule!r}"
        return f"the configured lr: the {rule!r} rule suggests none"

    def _sweep(self, finder: LRFinder, schedulers: Sequence[Any]) -> dict[str, Any]:
        start = DEFAULT_START_LR if self.start_lr is None else self.start_lr
        if is_real(start):
            base = base_lrs(finder.optimizer, schedulers)
            # groups keep the ratios of their configured lrs (the scheduled ones may all be 0)
            start = [float(start) * b / base[0] for b in base] if base[0] > 0 else float(start)
        return dict(
            start_lr=start, end_lr=self.end_lr, num_iter=self.num_iter, **self.range_test_kwargs
        )

    def _from_find(self, w: Any) -> float | None:
        self.result = w.wait()
        if w.exception is not None:
            raise w.exception
        applied = getattr(w, "schedule_applied", None)  # a range and its kind, applied
        if applied:
            self.picked = (applied["kind"], float(applied["lo"]), float(applied["hi"]))
            self.chosen_by = "schedule"
            return self.picked[2]
        if w.applied_lr is not None:
            self.chosen_by = "click"
            return float(w.applied_lr)
        return self._default("nothing was applied in the find step's widget")

    def _run(
        self, finder: LRFinder, loader: Any, step_fn: Callable, schedulers: Sequence[Any]
    ) -> float | None:
        sweep = self._sweep(finder, schedulers)
        finder.check_range_test_args(loader, step_fn=step_fn, **sweep)
        remote = to_listener()
        if self.choose == "click" and not remote and not in_kernel():
            raise RuntimeError(
                "choose='click' needs somewhere to click: a notebook (call the callback's "
                "find() in a cell before fit), or a notebook that runs lrwidget.listen() with "
                f"{ENV_ADDRESS} and LRWIDGET_TOKEN set in this job's environment; scripts and "
                "CI pass choose='default'"
            )
        if remote:
            return self._run_remote(finder, loader, step_fn, sweep)
        if in_kernel():
            return self._run_shown(finder, loader, step_fn, sweep)
        self.result = finder.range_test(loader, step_fn=step_fn, **sweep)
        return self._default(None)

    def _run_remote(
        self, finder: LRFinder, loader: Any, step_fn: Callable, sweep: dict[str, Any]
    ) -> float | None:
        from ..remote.link import connect

        with connect(finder) as link:
            self.result = finder.range_test(loader, step_fn=step_fn, **sweep)
            if self.choose == "default":
                return self._shown_default(finder, None)
            kept = _group_settings(finder.optimizer)
            lr = link.wait_for_choice(timeout=self.timeout)
            self.chosen_by = link.chosen_by
            if link.schedule_args is not None:  # the link built it on the optimizer
                return self._take_schedule(finder, kept, link.schedule_args)
            return lr

    def _take_schedule(self, finder: LRFinder, kept: list[dict[str, Any]], args: tuple) -> float:
        """A schedule applied in a widget (``args``: ``(kind, lo, hi, total_steps)``), built on
        the optimizer there: those settings undone (``kept``: before it), the range kept for the
        framework to place over its own steps; returns its peak."""
        _put_back(finder.optimizer, kept)
        kind, lo, hi, _ = args
        self.picked, self.chosen_by = (kind, float(lo), float(hi)), "schedule"
        return float(hi)

    def _run_shown(
        self, finder: LRFinder, loader: Any, step_fn: Callable, sweep: dict[str, Any]
    ) -> float | None:
        from IPython.display import display

        from ..views.widget import LRFinderWidget

        self.widget = w = LRFinderWidget(finder)
        display(w)
        applied: list[LrApplied] = []
        clicked = threading.Event()
        kept = _group_settings(finder.optimizer)  # what the test restores: before any choice

        def on_event(ev: Any) -> None:
            # the choice from the event itself (an lr, or a schedule's numbers): the widget's
            # traits follow later, on its writer
            if isinstance(ev, LrApplied) and not clicked.is_set():
                applied.append(ev)
                clicked.set()

        unsubscribe = finder.subscribe(on_event)
        try:
            self.result = finder.range_test(loader, step_fn=step_fn, **sweep)
            if self.choose == "default":
                return self._shown_default(finder, None)
            if in_busy_cell():
                return self._shown_default(
                    finder,
                    "a click cannot reach a notebook cell while it runs fit; to click, call "
                    "the callback's find() in a cell before fit",
                )
            if clicked.wait(self.timeout):
                if applied[0].schedule is not None:  # Apply schedule, not an lr
                    return self._take_schedule(finder, kept, applied[0].schedule)
                self.chosen_by = "click"
                return float(applied[0].lrs[0])
            return self._shown_default(
                finder, f"nothing was applied within timeout={self.timeout} s"
            )
        finally:
            unsubscribe()

    def _shown_default(self, finder: LRFinder, why: str | None) -> float | None:
        """The default suggestion, applied through the finder so that its views show it."""
        lr = self._default(why)
        if lr is not None:
            finder.apply(lr)  # the schedule's own values are written after (test_and_choose)
        return lr

    def _default(self, why: str | None) -> float | None:
        r = self.result
        rule = self.rule or DEFAULT
        s = None if r is None else r.suggestions.get(rule)
        if s is None or s.lr is None:
            log.warning(
                "the %s rule suggests no lr (%s); training keeps the configured lr",
                rule,
                getattr(s, "reason", None) or f"the test ended: {getattr(r, 'stop_reason', None)}",
            )
            self.chosen_by = None
            return None
        if why is not None:
            log.warning("%s: training with the %s rule's suggestion, lr=%.3g", why, rule, s.lr)
        self.chosen_by = "default"
        return float(s.lr)

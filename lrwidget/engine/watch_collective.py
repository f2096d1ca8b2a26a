"""The watch under torch.distributed (:attr:`lrwidget.LRFinder.collective`): the chunk's
exchange, and ``scale_lr`` / ``probe`` called on every rank alike.

* **The exchange** (:func:`exchange`, every ``every`` steps): one all-reduce (SUM) of
  ``[losses | each group's ratio | two slots per rank]`` turns the chunk into the ranks' mean
  (every rank's doctor reads the same losses, so it decides the same) and carries the one action
  each rank asked from another thread (a button, a ``listen()`` widget's link on rank 0): its
  factor and a kind (0: scale, 1: scale with rollback, ``-steps``: a probe). Every rank applies
  every asked action after the same step, in rank order.
* **A collective call** (:func:`agree_call`): ``scale_lr`` or ``probe`` called on the training
  thread of every rank between the same two steps, as ``finder.apply`` is. The ranks first
  agree (bounded by ``collective_timeout``): the same step, the same arguments, and no rank
  refusing (a bad argument, no snapshot): else every rank raises, nothing changed; a rank that
  does not call it makes the others raise :class:`~lrwidget.engine.collective.CollectiveTimeout`.
  Then the staged steps are exchanged and the action applied on every rank at once: what decides
  a refusal after that (the verdict, the ring, the losses since the lr changed) is the same on
  every rank, so all apply or all refuse alike.

Example
-------
>>> decode([0.1, 1.0, 0.0, 0.0, 2.0, -32.0], 3)
[Action(factor=0.1, rollback=True), ProbeAsk(factor=2.0, rollback=False, steps=32)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .collective import CollectiveTimeout, plan_differences
from .watch_events import Action
from .watch_probe import ProbeAsk

if TYPE_CHECKING:
    from torch import Tensor

    from .collective import Collective

__all__ = ["SLOTS", "agree_call", "decode", "encode", "exchange"]

#: the exchange's slots per rank: the asked factor and its kind
SLOTS = 2

_REFUSALS = (ValueError, TypeError, RuntimeError)


def encode(action: Action) -> tuple[float, float]:
    """An asked action as its two slots: ``(factor, kind)``."""
    if isinstance(action, ProbeAsk):
        return action.factor, -float(action.steps)
    return action.factor, 1.0 if action.rollback else 0.0


def decode(slots: list[float], world: int) -> list[Action]:
    """The actions the ranks asked (their slots, summed over the ranks), in rank order."""
    out: list[Action] = []
    for r in range(world):
        factor, kind = slots[SLOTS * r], slots[SLOTS * r + 1]
        if factor > 0:  # a probe's kind is -steps
            probe = kind < 0
            out.append(ProbeAsk(factor, False, round(-kind)) if probe else Action(factor, kind > 0))
    return out


def exchange(
    comm: Collective, buf: Tensor, base: int, mine: Action | None, step: int
) -> tuple[list[float], list[Action]]:
    """All-reduce the chunk ``buf`` (its first ``base`` values: losses and ratios) with this
    rank's asked action ``mine``: the ranks' means, and every rank's asked action."""
    buf[base:] = 0.0
    if mine is not None:
        at = base + SLOTS * comm.rank
        buf[at], buf[at + 1] = encode(mine)
    send = buf if buf.device == comm.device else buf.to(comm.device)
    what = f"the watch's sync after step {step}"
    try:
        comm.wait(comm.all_reduce(send, async_op=True), what)
        vals = send.tolist()
    except CollectiveTimeout:
        raise
    except Exception as e:  # the backend's own words: a rank that ended, or gave up on this one
        raise RuntimeError(
            f"{what} failed on rank {comm.rank} of {comm.world} ({type(e).__name__}: {e}); "
            "another rank has probably failed, ended or timed out: its own error says why"
        ) from e
    vals[:base] = [v / comm.world for v in vals[:base]]  # the ranks' mean losses and ratios
    return vals, decode(vals[base:], comm.world)


def agree_call(comm: Collective, name: str, step: int, ask: Callable[[], Action]) -> Action:
    """``ask()``'s action once every rank called ``name`` alike after ``step``.

    Parameters
    ----------
    comm : Collective
    name : str
        ``"scale_lr"`` or ``"probe"``, as the errors name it.
    step : int
        The steps this rank recorded: every rank must be between the same two steps.
    ask : callable
        This rank's checks; returns the asked action or raises (ValueError, TypeError,
        RuntimeError): that error is then raised here and every other rank raises too.

    Raises
    ------
    CollectiveTimeout
        Not every rank called it within ``collective_timeout``.
    ValueError
        The ranks called it after different steps or with different arguments.
    RuntimeError
        Another rank refused it (its error is named).
    """
    try:
        action, error = ask(), None
    except _REFUSALS as e:
        action, error = None, e
    said: list[Any] = comm.agree(
        (None if error is None else f"{type(error).__name__}: {error}", _plan(step, action)),
        f"{name} after step {step}",
    )
    if error is not None:
        raise error
    failed = [(r, e) for r, (e, _) in enumerate(said) if e is not None]
    if failed:
        why = "; ".join(f"rank {r}: {e}" for r, e in failed)
        raise RuntimeError(f"{name} was refused on {len(failed)} of {comm.world} ranks ({why})")
    diffs = plan_differences([p for _, p in said])
    if diffs:
        raise ValueError(
            f"{name} is collective under torch.distributed: every rank calls it alike between "
            f"the same two steps (as finder.apply); {'; '.join(diffs)}; nothing was changed"
        )
    assert action is not None
    return action


def _plan(step: int, action: Action | None) -> dict[str, Any]:
    if action is None:
        return {"step": step}
    if isinstance(action, ProbeAsk):
        return {"step": step, "factor": action.factor, "steps": action.steps}
    return {"step": step, "factor": action.factor, "rollback": action.rollback}

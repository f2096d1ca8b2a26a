"""Optimizer kinds whose lr is not a plain step size: schedule-free and d-adaptive ones.

- Schedule-free optimizers (``schedulefree.AdamWScheduleFree``, ``SGDScheduleFree``, ...) keep a
  ``train_mode`` flag in every param group and refuse to step outside train mode; their
  ``eval()`` swaps the model's weights for the averaged ones and ``train()`` swaps them back.
  A test puts them in train mode after its snapshot, so the snapshot's restore puts back the
  mode the user left them in and the weights of that mode, bit for bit.
- D-adaptive optimizers (Prodigy, D-Adaptation) estimate a step size ``d`` of their own and keep
  it in each group: the lr only multiplies it (lr=1.0 is their default), and the step the model
  sees is ``d * lr``.

Recognised by what they hold, not by class (no import of either package), so a wrapper that
passes ``param_groups`` and ``train()`` through (accelerate's) is recognised too.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Callable

import torch

#: what a range test on a d-adaptive optimizer means, said once (the warning and the docs)
D_ADAPTIVE_NOTE = (
    "{name}'s lr multiplies the step size d it estimates itself (lr=1.0 is its default; the "
    "step the model sees is d x lr): a range test sweeps that multiplier while d is still "
    "being estimated from d0, so its curve and suggestion are not an lr for {name}. Keep lr=1.0 "
    "(or the optimizer's recommended value); finder.watch() draws its effective lr, d x lr"
)


def is_schedule_free(optimizer: Any) -> bool:
    """Whether ``optimizer`` is schedule-free: a ``train_mode`` flag in every param group and a
    ``train()`` method.

    >>> is_schedule_free(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1))
    False
    """
    groups = getattr(optimizer, "param_groups", None) or []
    return (
        bool(groups)
        and all("train_mode" in g for g in groups)
        and callable(getattr(optimizer, "train", None))
    )


def enter_train_mode(optimizer: Any) -> bool:
    """Put a schedule-free optimizer in train mode for a test's steps; whether it was switched.

    Call it after the test's snapshot: restoring that snapshot writes back the groups'
    ``train_mode`` and the weights of the mode the user left the optimizer in (``eval()``'s
    averaged weights included), so no ``eval()`` is needed (it would not give the same bits).
    """
    if not is_schedule_free(optimizer):
        return False
    if all(g["train_mode"] for g in optimizer.param_groups):
        return False
    optimizer.train()
    return True


def is_d_adaptive(group: dict[str, Any]) -> bool:
    """Whether a param group is a d-adaptive optimizer's (Prodigy, D-Adaptation): it holds the
    estimated step size ``d`` and its ``growth_rate``.

    >>> is_d_adaptive({"lr": 1.0, "d": 1e-6, "growth_rate": float("inf")}), is_d_adaptive({"lr": 1})
    (True, False)
    """
    return "d" in group and "growth_rate" in group


def effective_lr(group: dict[str, Any]) -> float | torch.Tensor:
    """The lr a param group's step runs at: ``d * lr`` for a d-adaptive optimizer, else ``lr``
    as the group holds it (a tensor lr stays a tensor: read at the caller's sync, not here).

    >>> effective_lr({"lr": 0.5, "d": 1e-3, "growth_rate": float("inf")}), effective_lr({"lr": 0.1})
    (0.0005, 0.1)
    """
    lr = group["lr"]
    return lr * group["d"] if is_d_adaptive(group) else lr


def lr_reader(groups: list[dict[str, Any]]) -> Callable[[dict[str, Any]], Any]:
    """The function that reads a group's :func:`effective_lr`, chosen once per optimizer (its
    kind does not change while it trains): a plain ``group["lr"]`` unless a group is d-adaptive,
    so a training step's hook does no kind check.

    >>> prodigy = {"lr": 1.0, "d": 0.5, "growth_rate": 2.0}
    >>> lr_reader([{"lr": 0.1}])({"lr": 0.1}), lr_reader([prodigy])(prodigy)
    (0.1, 0.5)
    """
    return effective_lr if any(is_d_adaptive(g) for g in groups) else itemgetter("lr")


def lr_note(optimizer: Any) -> str | None:
    """What a range test's lr means for ``optimizer`` when it is not a step size (a d-adaptive
    optimizer's multiplier of d); None for every other optimizer."""
    groups = getattr(optimizer, "param_groups", None) or []
    if not any(is_d_adaptive(g) for g in groups):
        return None
    return D_ADAPTIVE_NOTE.format(name=type(optimizer).__name__)

"""What a snapshot saves, and its layout: the live state of a model, its optimizer and extra
modules gathered by reference (:func:`live_state`), copied to the CPU (:func:`to_cpu`) with each
tensor's device kept (:func:`devices_of`) to put it back there (:func:`back`).

The model's entry is the top level of the saved dict (its state_dict under ``"model"``); each
extra module gets an entry of the same keys (:func:`entries`). Tensors the optimizer trains that
no module owns ("loose") are keyed by their place in the param groups.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import torch

from .steps import sync_state

if TYPE_CHECKING:
    from typing import TypeGuard  # Python 3.10; only read by type checkers

    from torch.amp import GradScaler

__all__ = [
    "back",
    "devices_of",
    "entries",
    "live_state",
    "opt_param",
    "restore_devices",
    "rng_states",
    "scaler_on",
    "to_cpu",
    "wrapper_flags",
]


#: the types copy.deepcopy returns as they are (immutable): no call to it for each lr, beta, flag
_ATOMS = frozenset({type(None), bool, int, float, complex, str, bytes})


def to_cpu(v: Any) -> Any:
    """A CPU copy of a tree of tensors, dicts, lists and tuples (never an alias)."""
    if type(v) in _ATOMS:
        return v
    if isinstance(v, torch.Tensor):
        # clone even on CPU: the saved copy must not alias the live tensor
        return v.detach().to("cpu", copy=True)
    if isinstance(v, dict):
        return {k: to_cpu(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(to_cpu(x) for x in v)
    return copy.deepcopy(v)


def devices_of(v: Any) -> Any:
    """The tree of ``v`` with each tensor's device in its place (None elsewhere)."""
    if type(v) in _ATOMS:
        return None
    if isinstance(v, torch.Tensor):
        return v.device
    if isinstance(v, dict):
        return {k: devices_of(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(devices_of(x) for x in v)
    return None


def back(v: Any, dev: Any) -> Any:
    """A copy of the tree ``v`` with each tensor on its device in ``dev`` (:func:`devices_of`)."""
    if isinstance(v, torch.Tensor):
        return v.to(dev, copy=True)
    if isinstance(v, dict):
        return {k: back(x, dev[k]) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(back(x, d) for x, d in zip(v, dev))
    return copy.deepcopy(v)


def live_state(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    extra: tuple[torch.nn.Module, ...],
    grad_scaler: GradScaler | None,
) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """The state to save, by reference (not copied yet), and the places of the loose tensors."""
    covered = {id(p) for m in (model, *extra) for p in m.parameters()}
    loose = [
        ((gi, pi), p)
        for gi, g in enumerate(optimizer.param_groups)
        for pi, p in enumerate(g["params"])
        if id(p) not in covered
    ]
    live = {
        **_module_state(model),
        "extra": [_module_state(m) for m in extra],
        "loose_values": [p for _, p in loose],
        "loose_grads": [p.grad for _, p in loose],
        "opt_state": _opt_state(model, optimizer),
        "groups": [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups],
        "scaler": grad_scaler.state_dict() if scaler_on(grad_scaler) else None,
    }
    return live, [where for where, _ in loose]


def _opt_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[Any, Any]:
    index = {id(p): i for i, p in enumerate(model.parameters())}
    out: dict[Any, Any] = {}
    for p, st in optimizer.state.items():
        key: int | tuple[str, tuple[int, int]] | None = index.get(id(p))
        if key is None:  # a parameter outside the model: keyed by its place in the groups
            key = ("opt", _opt_index(optimizer, p))
        out[key] = st
    return out


def _module_state(m: torch.nn.Module) -> dict[str, Any]:
    persistent = m.state_dict(keep_vars=True)
    return {
        # the same tensors state_dict() would give, not yet detached: to_cpu detaches them (one
        # walk of the modules, not two)
        "model": persistent,
        "non_persistent": {n: b for n, b in m.named_buffers() if n not in persistent},
        "grads": [p.grad for p in m.parameters()],
    }


def restore_devices(live: dict[str, Any]) -> dict[str, Any]:
    """Where the tensors of :func:`live_state` that a restore moves back live."""
    return {
        "grads": [devices_of(e["grads"]) for e in entries(live)],
        "loose_grads": devices_of(live["loose_grads"]),
        "opt_state": devices_of(live["opt_state"]),
        "groups": devices_of(live["groups"]),
    }


def entries(d: dict[str, Any]) -> list[dict[str, Any]]:
    """The saved entries of the model (the top level) and of each extra module, in order."""
    return [d, *d["extra"]]


def rng_states() -> dict[str, Any]:
    """torch's RNG states: the CPU's, and every CUDA device's once CUDA is initialised."""
    out: dict[str, Any] = {"rng_cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["rng_cuda"] = torch.cuda.get_rng_state_all()
    return out


def wrapper_flags(optimizer: torch.optim.Optimizer) -> list[tuple[Any, str, bool]]:
    """``(object, attribute, value)`` of the step flags an optimizer wrapper keeps outside its
    state_dict (accelerate's): a test run through ``accelerator.accumulate`` moves the sync
    flag, and a step the scaler skipped sets ``step_was_skipped``, which makes accelerate's
    scheduler skip its next step."""
    flags = []
    state = sync_state(optimizer)
    if state is not None:
        flags.append((state, "sync_gradients", state.sync_gradients))
    skipped = getattr(optimizer, "_is_overflow", None)
    if isinstance(skipped, bool):
        flags.append((optimizer, "_is_overflow", skipped))
    return flags


def scaler_on(scaler: GradScaler | None) -> TypeGuard[GradScaler]:
    """Whether ``scaler`` is a GradScaler that is enabled (it has state to save)."""
    return scaler is not None and scaler.is_enabled()


def _opt_index(opt: torch.optim.Optimizer, p: torch.Tensor) -> tuple[int, int]:
    for gi, g in enumerate(opt.param_groups):
        for pi, q in enumerate(g["params"]):
            if q is p:
                return (gi, pi)
    raise ValueError(
        "optimizer.state holds state for a tensor that is neither a parameter of "
        "the model nor in any param group: it cannot be saved by place"
    )


def opt_param(opt: torch.optim.Optimizer, where: tuple[int, int]) -> Any:
    """The tensor at ``where`` (group, index) of the optimizer's param groups."""
    gi, pi = where
    return opt.param_groups[gi]["params"][pi]

"""Writing a snapshot back: first the check that everything saved still has a place of the same
shape and dtype (:func:`problems`), then the writes, into the same tensors and param-group dicts
(:func:`write_modules`, :func:`write_loose`, :func:`write_optimizer`).

The layout of what is saved is :mod:`lrwidget.engine.snapshot_state`'s.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any

import torch

from .snapshot_state import back, entries, opt_param

if TYPE_CHECKING:
    from torch.amp import GradScaler

__all__ = [
    "clear_scaler_stage",
    "problems",
    "write_loose",
    "write_modules",
    "write_optimizer",
]


def problems(
    modules: tuple[torch.nn.Module, ...], opt: torch.optim.Optimizer, d: dict[str, Any]
) -> list[str]:
    """Every saved tensor that no longer has a place to go, named (empty: the state fits)."""
    out = []
    for i, (m, saved) in enumerate(zip(modules, entries(d))):
        name = "the model" if i == 0 else f"extra_modules[{i - 1}] ({type(m).__name__})"
        out += _module_problems(name, m, saved)
    sizes = [len(g["params"]) for g in opt.param_groups]
    if sizes != d["group_sizes"]:
        out.append(
            f"the optimizer's param groups changed: {d['group_sizes']} tensors "
            f"per group then, {sizes} now"
        )
        return out
    for (gi, pi), v in zip(d["loose_places"], d["loose_values"]):
        why = _mismatch(opt.param_groups[gi]["params"][pi], v)
        if why:
            out.append(f"optimizer.param_groups[{gi}]['params'][{pi}] {why}")
    return out


def _mismatch(live: Any, saved: Any) -> str | None:
    """Why ``saved`` cannot be copied into ``live`` bit for bit (None when it can)."""
    if not isinstance(saved, torch.Tensor):
        return None
    if not isinstance(live, torch.Tensor):
        return f"is now a {type(live).__name__}, not a tensor"
    if live.shape != saved.shape or live.dtype != saved.dtype:
        return f"changed from {_describe(saved)} to {_describe(live)}"
    return None


def _describe(t: torch.Tensor) -> str:
    return f"{str(t.dtype).replace('torch.', '')}{list(t.shape)}"


def _module_problems(name: str, m: torch.nn.Module, saved: dict[str, Any]) -> list[str]:
    out = []
    now = m.state_dict(keep_vars=True)
    then = saved["model"]
    new = [k for k in now if k not in then]
    gone = [k for k in then if k not in now]
    if new:
        out.append(
            f"{name} has {new}, which it did not have at the snapshot (registered during the run?)"
        )
    if gone:
        out.append(f"{name} no longer has {gone}")
    for k in now:
        why = _mismatch(now[k], then[k]) if k in then else None
        if why:
            out.append(f"{name}'s {k} {why}")
    bufs = dict(m.named_buffers())
    for k, v in saved["non_persistent"].items():
        why = "is gone" if k not in bufs else _mismatch(bufs[k], v)
        if why:
            out.append(f"{name}'s non-persistent buffer {k} {why}")
    return out + _count_problems(name, m, saved, changed=bool(new or gone))


def _count_problems(
    name: str, m: torch.nn.Module, saved: dict[str, Any], changed: bool
) -> list[str]:
    out = []
    n_params, n_modules = len(list(m.parameters())), len(list(m.modules()))
    if n_params != len(saved["grads"]) and not changed:
        out.append(f"{name} has {n_params} parameters, it had {len(saved['grads'])}")
    if n_modules != len(saved["training"]):
        out.append(
            f"{name} has {n_modules} modules, it had {len(saved['training'])} "
            "(a submodule added or removed during the run?)"
        )
    return out


def write_modules(
    modules: tuple[torch.nn.Module, ...], d: dict[str, Any], grad_devices: list[Any]
) -> None:
    """Each module's state_dict, non-persistent buffers, grads and training flags."""
    with torch.no_grad():
        for m, saved, devs in zip(modules, entries(d), grad_devices):
            m.load_state_dict(saved["model"])
            bufs = dict(m.named_buffers())
            for n, v in saved["non_persistent"].items():
                bufs[n].copy_(v)
            for p, g, dev in zip(m.parameters(), saved["grads"], devs):
                p.grad = None if g is None else g.to(dev, copy=True)
            for sub, flag in zip(m.modules(), saved["training"]):
                sub.training = flag


def write_loose(opt: torch.optim.Optimizer, d: dict[str, Any], grad_devices: list[Any]) -> None:
    """The tensors the optimizer trains that no module owns, with their grads."""
    with torch.no_grad():
        for (gi, pi), v, g, dev in zip(
            d["loose_places"], d["loose_values"], d["loose_grads"], grad_devices
        ):
            p = opt.param_groups[gi]["params"][pi]
            p.copy_(v)
            p.grad = None if g is None else g.to(dev, copy=True)


def write_optimizer(
    opt: torch.optim.Optimizer,
    params: list[torch.nn.Parameter],
    d: dict[str, Any],
    devices: dict[str, Any],
) -> None:
    """The optimizer's per-parameter state (on each tensor's own device) and its groups'
    settings (``params`` are the model's, by which the state of its parameters is keyed)."""
    state = {}
    for key, st in d["opt_state"].items():
        p = params[key] if not isinstance(key, tuple) else opt_param(opt, key[1])
        state[p] = back(st, devices["opt_state"][key])
    opt.state.clear()
    opt.state.update(state)
    for g, saved, dev in zip(opt.param_groups, d["groups"], devices["groups"]):
        _write_group(g, saved, dev)


def _write_group(g: dict[str, Any], saved: dict[str, Any], dev: dict[str, Any]) -> None:
    for k in [k for k in g if k != "params" and k not in saved]:
        del g[k]
    for k, v in saved.items():
        live = g.get(k)
        if isinstance(v, torch.Tensor) and isinstance(live, torch.Tensor) and live.shape == v.shape:
            with torch.no_grad():
                live.copy_(v)  # a tensor lr (capturable optimizers) stays the same object
        else:
            g[k] = back(v, dev[k])


def clear_scaler_stage(scaler: GradScaler) -> None:
    """Forget which optimizers a GradScaler already unscaled this step.

    An exception between unscale_() and update() leaves the scaler believing this optimizer is
    already unscaled; the next real step would then skip unscaling.
    """
    try:
        from torch.amp.grad_scaler import _refresh_per_optimizer_state
    except ImportError:  # pragma: no cover - older torch
        return
    # torch keeps this state in a private member only (no public reset)
    scaler._per_optimizer_states = collections.defaultdict(  # noqa: SLF001
        _refresh_per_optimizer_state
    )

"""Capture and restore everything a range test changes, bit for bit.

A :class:`Snapshot` holds CPU copies (or a file under ``cache_dir``) of

- the model's ``state_dict`` (parameters and persistent buffers such as BatchNorm running
  stats), its non-persistent buffers, every parameter's ``.grad`` and every module's
  ``training`` flag;
- the optimizer's per-parameter state (Adam moments, step counts, momentum buffers) with each
  tensor's original device, and every param group's settings (lr, betas, weight decay, extra
  keys such as ``initial_lr``);
- the GradScaler's state;
- torch's RNG states (CPU, and every CUDA device already initialised), so that training after a
  range test draws the same dropout masks and shuffles as it would have without one.

Restoring writes into the existing parameter tensors and param-group dicts (``copy_`` /
``dict.update``), so references held elsewhere (a scheduler's optimizer, a DDP wrapper's
parameters) stay valid. :meth:`Snapshot.free` drops the copies.

Example
-------
>>> import torch
>>> m = torch.nn.Linear(2, 1); opt = torch.optim.Adam(m.parameters(), lr=1e-3)
>>> snap = Snapshot.capture(m, opt)
>>> before = m.weight.detach().clone()
>>> _ = m(torch.ones(1, 2)).sum().backward(); opt.step()
>>> snap.restore(); snap.free()
>>> torch.equal(m.weight, before), len(opt.state)
(True, 0)
"""
from __future__ import annotations

import copy
import os
import tempfile
from typing import Any, Dict, List, Optional

import torch

__all__ = ["Snapshot"]


def _to_cpu(v: Any) -> Any:
    if isinstance(v, torch.Tensor):
        # clone even on CPU: the saved copy must not alias the live tensor
        return v.detach().to("cpu", copy=True)
    if isinstance(v, dict):
        return {k: _to_cpu(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_to_cpu(x) for x in v)
    return copy.deepcopy(v)


def _devices(v: Any) -> Any:
    if isinstance(v, torch.Tensor):
        return v.device
    if isinstance(v, dict):
        return {k: _devices(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_devices(x) for x in v)
    return None


def _back(v: Any, dev: Any) -> Any:
    if isinstance(v, torch.Tensor):
        return v.to(dev, copy=True)
    if isinstance(v, dict):
        return {k: _back(x, dev[k]) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_back(x, d) for x, d in zip(v, dev))
    return copy.deepcopy(v)


class Snapshot:
    """The saved state of a model, its optimizer and (optionally) a GradScaler.

    Use :meth:`capture` to create one.
    """

    def __init__(self, model, optimizer, grad_scaler, data: Dict[str, Any], devices: Dict[str, Any],
                 path: Optional[str]):
        self.model = model
        self.optimizer = optimizer
        self.grad_scaler = grad_scaler
        self._data = data
        self._devices = devices
        self._path = path

    @classmethod
    def capture(cls, model: torch.nn.Module, optimizer: torch.optim.Optimizer, grad_scaler=None,
                memory_cache: bool = True, cache_dir: Optional[str] = None,
                rng: bool = True) -> "Snapshot":
        """Copy the state of ``model``, ``optimizer`` and ``grad_scaler``.

        Parameters
        ----------
        model : torch.nn.Module
        optimizer : torch.optim.Optimizer
        grad_scaler : torch.amp.GradScaler, optional
        memory_cache : bool
            True keeps the copy in CPU memory; False writes it to a file under ``cache_dir``
            (the system temp dir when None) and reads it back on restore.
        cache_dir : str, optional
        rng : bool
            Also save torch's RNG states (CPU and initialised CUDA devices).

        Example
        -------
        >>> import torch
        >>> m = torch.nn.Linear(2, 1); o = torch.optim.SGD(m.parameters(), lr=0.1)
        >>> Snapshot.capture(m, o, memory_cache=False).free()
        """
        params = list(model.parameters())
        index = {id(p): i for i, p in enumerate(params)}
        opt_state = {}
        for p, st in optimizer.state.items():
            key = index.get(id(p))
            if key is None:  # a parameter outside the model: keyed by its place in the groups
                key = ("opt", _opt_index(optimizer, p))
            opt_state[key] = st
        groups = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
        persistent = model.state_dict(keep_vars=True)
        non_persistent = {n: b for n, b in model.named_buffers() if n not in persistent}
        live = {
            "model": model.state_dict(),
            "non_persistent": non_persistent,
            "grads": [p.grad for p in params],
            "opt_state": opt_state,
            "groups": groups,
            "scaler": grad_scaler.state_dict() if _scaler_on(grad_scaler) else None,
        }
        devices = {"grads": _devices(live["grads"]), "opt_state": _devices(opt_state),
                   "groups": _devices(groups), "non_persistent": _devices(non_persistent)}
        data = _to_cpu(live)
        data["training"] = [m.training for m in model.modules()]
        if rng:
            data["rng_cpu"] = torch.get_rng_state()
            if torch.cuda.is_available() and torch.cuda.is_initialized():
                data["rng_cuda"] = torch.cuda.get_rng_state_all()
        path = None
        if not memory_cache:
            fd, path = tempfile.mkstemp(prefix="lrwidget-snapshot-", suffix=".pt",
                                        dir=os.fspath(cache_dir) if cache_dir else None)
            os.close(fd)
            torch.save(data, path)
            data = None
        return cls(model, optimizer, grad_scaler, data, devices, path)

    def _load(self) -> Dict[str, Any]:
        if self._data is not None:
            return self._data
        if self._path is None:
            raise RuntimeError("this snapshot was freed")
        # our own file, written by capture(): it may hold non-tensor group values (betas, ...)
        return torch.load(self._path, map_location="cpu", weights_only=False)

    def restore(self) -> None:
        """Write the saved state back (into the same tensors and param-group dicts)."""
        d = self._load()
        model, opt = self.model, self.optimizer
        params = list(model.parameters())
        with torch.no_grad():
            model.load_state_dict(d["model"])
            bufs = dict(model.named_buffers())
            for n, v in d["non_persistent"].items():
                if n in bufs:
                    bufs[n].copy_(v)
            for p, g, dev in zip(params, d["grads"], self._devices["grads"]):
                p.grad = None if g is None else g.to(dev, copy=True)
        for m, flag in zip(model.modules(), d["training"]):
            m.training = flag
        state = {}
        for key, st in d["opt_state"].items():
            p = params[key] if not isinstance(key, tuple) else _opt_param(opt, key[1])
            state[p] = _back(st, self._devices["opt_state"][key])
        opt.state.clear()
        opt.state.update(state)
        for g, saved, dev in zip(opt.param_groups, d["groups"], self._devices["groups"]):
            for k in [k for k in g if k != "params" and k not in saved]:
                del g[k]
            for k, v in saved.items():
                live = g.get(k)
                if isinstance(v, torch.Tensor) and isinstance(live, torch.Tensor) \
                        and live.shape == v.shape:
                    with torch.no_grad():
                        live.copy_(v)  # a tensor lr (capturable optimizers) stays the same object
                else:
                    g[k] = _back(v, dev[k])
        if d["scaler"] is not None and _scaler_on(self.grad_scaler):
            self.grad_scaler.load_state_dict(d["scaler"])
            _clear_scaler_stage(self.grad_scaler)
        if "rng_cpu" in d:
            torch.set_rng_state(d["rng_cpu"])
        if "rng_cuda" in d:
            torch.cuda.set_rng_state_all(d["rng_cuda"])

    def free(self) -> None:
        """Drop the saved copies (and delete the cache file). Safe to call twice."""
        self._data = None
        if self._path is not None:
            try:
                os.remove(self._path)
            except OSError:
                pass
            self._path = None

    @property
    def freed(self) -> bool:
        return self._data is None and self._path is None


def _scaler_on(scaler) -> bool:
    return scaler is not None and scaler.is_enabled()


def _clear_scaler_stage(scaler) -> None:
    # an exception between unscale_() and update() leaves the scaler believing this optimizer is
    # already unscaled; the next real step would then skip unscaling. Reset that bookkeeping.
    try:
        from torch.amp.grad_scaler import _refresh_per_optimizer_state
    except ImportError:  # pragma: no cover - older torch
        return
    import collections
    scaler._per_optimizer_states = collections.defaultdict(_refresh_per_optimizer_state)


def _opt_index(opt, p) -> List[int]:
    for gi, g in enumerate(opt.param_groups):
        for pi, q in enumerate(g["params"]):
            if q is p:
                return (gi, pi)
    raise KeyError("optimizer state for a parameter that is in no param group")


def _opt_param(opt, where):
    gi, pi = where
    return opt.param_groups[gi]["params"][pi]

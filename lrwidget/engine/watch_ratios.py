"""The update/weight ratio of each param group, measured on the device on one step per chunk.

``log10(std(update) / std(weight))`` over a group's tensors (healthy around -3): before the
measured step's ``optimizer.step()`` the group's weights are copied into one flat buffer per
group, allocated once (on their device), by one ``torch._foreach_copy_`` into views of it; after
the step the new weights go into a second such buffer, the first becomes the update (in place)
and two standard deviations give the ratio. The values are written into a slice of the watch's
chunk buffer, so they come back with the losses in the chunk's one host sync. Nothing here reads
a value on the host.

Example
-------
>>> import torch
>>> p = torch.nn.Parameter(torch.ones(1000) + torch.randn(1000))
>>> opt = torch.optim.SGD([p], lr=1e-3)
>>> out = torch.full((1,), float("nan"), dtype=torch.float64)
>>> r = UpdateRatios(opt, out)
>>> p.grad = torch.randn(1000); r.before(); opt.step(); r.after()
>>> -4 < float(out[0]) < -2
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["UpdateRatios", "lr_rows"]


def _flat(ps: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """A flat buffer of ``ps``' values (cat's dtype and device) and one view of it per tensor."""
    flat = torch.cat([p.detach().reshape(-1) for p in ps])
    views = [v.view(p.shape) for v, p in zip(flat.split([p.numel() for p in ps]), ps)]
    return flat, views


class UpdateRatios:
    """Measures each param group's update/weight ratio into ``out[g]`` (a float64 tensor).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    out : torch.Tensor
        ``len(param_groups)`` float64 values (a slice of the chunk buffer); NaN where a group
        has no tensor that trains, or its weights have no spread.

    Notes
    -----
    Memory: two flat copies of each group's tensors (the weights before and after the
    measured step), kept on their device.
    """

    def __init__(self, optimizer: Any, out: torch.Tensor) -> None:
        groups = [
            [p for p in g["params"] if isinstance(p, torch.Tensor) and p.requires_grad]
            for g in optimizer.param_groups
        ]
        self.out = out
        # (params, before, after): the flat buffers and their views, allocated once
        self.parts = [(ps, _flat(ps), _flat(ps)) for ps in groups if ps]
        self.empty = [out[g] for g, ps in enumerate(groups) if not ps]
        # one 0-d view per measured group: copy_ writes (and casts) the ratio in place
        self.slots = [out[g] for g, ps in enumerate(groups) if ps]
        self.armed = False

    def before(self) -> None:
        """Copy the weights (just before the measured step)."""
        for ps, (_, views), _ in self.parts:
            # one call for the group's tensors; detached each time: `p.data = ...` moves them
            torch._foreach_copy_(views, [p.detach() for p in ps])
        self.armed = True

    def after(self) -> None:
        """The step was taken: write each group's ratio into ``out``."""
        if not self.armed:
            return
        self.armed = False
        for (ps, (c, _), (w, views)), slot in zip(self.parts, self.slots):
            torch._foreach_copy_(views, [p.detach() for p in ps])
            c.sub_(w)  # the copy becomes -(update); its spread is the update's
            slot.copy_(c.std().div_(w.std()).log10_())  # in place: no new 0-d tensors
        for slot in self.empty:
            slot.fill_(float("nan"))


def lr_rows(rows: list[list[Any]]) -> np.ndarray:
    """The lrs the groups held at each step of a chunk, as float64 (an lr may be a tensor)."""
    if all(type(v) is float for row in rows for v in row):
        return np.array(rows, dtype=np.float64)  # the usual case: one conversion, not a loop
    return np.array([[float(v) for v in row] for row in rows], dtype=np.float64)

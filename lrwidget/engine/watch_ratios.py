"""The update/weight ratio of each param group, measured on the device on one step per chunk.

``log10(std(update) / std(weight))`` over a group's tensors (healthy around -3): before the
measured step's ``optimizer.step()`` the group's weights are copied into one flat buffer per
group, allocated once (on their device); after it the copies become the update
(in place) and two standard deviations give the ratio. The values are written into
a slice of the watch's chunk buffer, so they come back with the losses in the chunk's one host
sync. Nothing here reads a value on the host.

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

import torch

__all__ = ["UpdateRatios"]


def _flat(ps: list[torch.Tensor], out: torch.Tensor | None = None) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in ps], out=out)


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
    Memory: one flat copy of each group's tensors, kept (on their device), and one more while
    a ratio is computed.
    """

    def __init__(self, optimizer: Any, out: torch.Tensor) -> None:
        self.groups = [
            [p for p in g["params"] if isinstance(p, torch.Tensor) and p.requires_grad]
            for g in optimizer.param_groups
        ]
        self.out = out
        self.copies = [_flat(ps) if ps else None for ps in self.groups]
        # one 0-d view per group: copy_ writes (and casts) the ratio in place, no index op
        self.slots = [out[g] for g in range(len(self.groups))]
        self.armed = False

    def before(self) -> None:
        """Copy the weights (just before the measured step)."""
        # no autograd context needed: _flat reads detached tensors (a no_grad costs ~5 us)
        for ps, c in zip(self.groups, self.copies):
            if c is not None:
                _flat(ps, out=c)
        self.armed = True

    def after(self) -> None:
        """The step was taken: write each group's ratio into ``out``."""
        if not self.armed:
            return
        self.armed = False
        for ps, c, slot in zip(self.groups, self.copies, self.slots):
            if c is None:
                slot.fill_(float("nan"))
            else:
                w = _flat(ps)
                c.sub_(w)  # the copy becomes -(update); its spread is the update's
                slot.copy_(c.std().div_(w.std()).log10_())  # in place: no new 0-d tensors

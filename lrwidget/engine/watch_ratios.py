"""The update/weight ratio of each param group, measured on the device on one step per chunk.

``log10(std(update) / std(weight))`` over a group's tensors (healthy around -3): before the
measured step's ``optimizer.step()`` the group's weights are copied into buffers allocated once
(one copy of the trained tensors, on their device); after it the copies become the update
(in place) and four sums per tensor give both standard deviations. The values are written into
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


def _moments(ts: list[torch.Tensor]) -> torch.Tensor:
    """[n, sum, sum of squares] over the tensors' elements (float64, on their device)."""
    sums = torch.stack([t.sum(dtype=torch.float64) for t in ts]).sum()
    sq = torch.stack([torch.linalg.vector_norm(t, dtype=torch.float64) ** 2 for t in ts]).sum()
    n = float(sum(t.numel() for t in ts))
    return torch.stack([sums.new_tensor(n), sums, sq])


def _std(m: torch.Tensor) -> torch.Tensor:
    n, s, q = m[0], m[1], m[2]
    return torch.sqrt(torch.clamp(q / n - (s / n) ** 2, min=0.0))


class UpdateRatios:
    """Measures each param group's update/weight ratio into ``out[g]`` (a float64 tensor).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    out : torch.Tensor
        ``len(param_groups)`` float64 values (a slice of the chunk buffer); NaN where a group
        has no tensor that trains, or its weights have no spread.
    """

    def __init__(self, optimizer: Any, out: torch.Tensor) -> None:
        self.groups = [
            [p for p in g["params"] if isinstance(p, torch.Tensor) and p.requires_grad]
            for g in optimizer.param_groups
        ]
        self.out = out
        self.copies = [[torch.empty_like(p) for p in ps] for ps in self.groups]
        self.armed = False

    def before(self) -> None:
        """Copy the weights (just before the measured step)."""
        with torch.no_grad():
            for ps, cs in zip(self.groups, self.copies):
                for p, c in zip(ps, cs):
                    c.copy_(p)
        self.armed = True

    def after(self) -> None:
        """The step was taken: write each group's ratio into ``out``."""
        if not self.armed:
            return
        self.armed = False
        with torch.no_grad():
            for g, (ps, cs) in enumerate(zip(self.groups, self.copies)):
                if not ps:
                    self.out[g] = float("nan")
                    continue
                for p, c in zip(ps, cs):
                    c.sub_(p)  # the copy becomes -(update); its spread is the update's
                ratio = _std(_moments(cs)) / _std(_moments([p.detach() for p in ps]))
                self.out[g] = torch.log10(ratio).to(self.out.device)

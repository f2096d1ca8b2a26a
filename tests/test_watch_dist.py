"""A watch under torch.distributed: a real 2-rank torchrun job (gloo, CPU), hard timeout.

Rank 1 asks x0.1 from a button's thread at its step 20 and rank 0 a rollback x2 at its step 40
(a ``listen()`` widget's link asks from its thread too; on the training thread ``scale_lr`` is a
collective call instead: tests/test_watch_dist_calls.py): every rank applies each at the same
sync point (steps 32 and 48), the lrs used are the same on every rank, and every rank's doctor
reads the same mean losses.
"""

from __future__ import annotations

import pytest
import torch.distributed as dist

from tests.jobs import Job

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is missing")

JOB = r"""
import json, os, threading
import torch
torch.set_num_threads(1)
import torch.distributed as dist
from torch import nn
from lrwidget import LRFinder
from lrwidget.engine.watch_events import ActionTaken, Chunk

rank = int(os.environ["RANK"])
dist.init_process_group("gloo")
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
g = torch.Generator().manual_seed(rank)  # each rank its own data: its own losses
data = [(torch.randn(16, 8, generator=g), torch.randn(16, 1, generator=g)) for _ in range(64)]
finder = LRFinder(model, opt)
finder.collective_timeout = 30
chunks, actions = [], []
with finder.watch(every=16, snapshot_every=16, progress=False) as watch:
    watch.listen(lambda e: (chunks if isinstance(e, Chunk) else actions).append(e))
    for i, (x, y) in enumerate(data):
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward(); opt.step(); opt.zero_grad()
        local = float(loss)
        watch.record(loss)
        if rank == 1 and i + 1 == 20:  # waits for the next sync point
            t = threading.Thread(target=watch.scale_lr, args=(0.1,)); t.start(); t.join()
        if rank == 0 and i + 1 == 40:
            t = threading.Thread(target=watch.scale_lr, args=(2.0,), kwargs={"rollback": True})
            t.start(); t.join()
out = {
    "lrs": [v for c in chunks for v in c.lrs[:, 0].tolist()],
    "losses": [v for c in chunks for v in c.losses.tolist()],
    "actions": [[a.step, a.factor, a.rolled_back_to, a.error] for a in actions
                if isinstance(a, ActionTaken)],
    "weights": [p.detach().sum().item() for p in model.parameters()],
}
with open(f"rank{rank}.json", "w") as f:
    json.dump(out, f)
dist.destroy_process_group()
"""


def test_an_action_asked_on_one_rank_is_applied_on_every_rank_at_the_same_step(tmp_path):
    with Job(tmp_path, JOB, ranks=2) as job:
        e = job.end(timeout=120)
    assert e.returncode == 0, e.output
    r0, r1 = e.ranks[0], e.ranks[1]
    assert r0["actions"] == r1["actions"] == [[32, 0.1, None, None], [48, 2.0, 16, None]]
    assert r0["lrs"] == r1["lrs"]
    assert r0["lrs"][:32] == [0.01] * 32
    assert r0["lrs"][32:48] == pytest.approx([0.001] * 16, rel=1e-12)
    # rolled back to step 16, x2 of the lr in use (0.001): actions compose across rollbacks
    assert r0["lrs"][48:] == pytest.approx([0.002] * 16, rel=1e-12)
    assert r0["losses"] == r1["losses"]  # every rank's doctor reads the ranks' mean

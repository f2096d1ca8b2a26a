"""A button in the notebook's ``listen()`` widget reaches a 2-rank torchrun job's watch: both
ranks' optimizers and schedules (real processes: the job under torchrun with gloo, a DDP model;
a hard timeout, every process killed by its pid, tests/jobs.py).

Only rank 0 has a socket (``lrwidget.connect``), as for the range test's Apply; its link's
thread hands the notebook's ``scale_lr`` to rank 0's watch, and the watch's own exchange takes
it to every rank, applied after the same step (no broadcast of its own, as ``finder.apply``
under a collective finder carries the range test's choice).
"""

from __future__ import annotations

import pytest
import torch.distributed as dist

from lrwidget.engine.watch_events import ActionTaken
from tests import jobs
from tests.remote_jobs import job_env
from tests.widgets import Capture, comm_msg, wait_until

pytest.importorskip("zmq")
pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is missing")

JOB = r"""
import hashlib, json, os, time
import torch
torch.set_num_threads(1)
import torch.distributed as dist
from torch import nn
import lrwidget
from lrwidget.engine.watch_events import ActionTaken, Chunk

rank = int(os.environ["RANK"])
dist.init_process_group("gloo")
torch.manual_seed(0)  # the same start on every rank, as DDP requires
model = nn.parallel.DistributedDataParallel(
    nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1)))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (1.0 + 0.01 * s))
g = torch.Generator().manual_seed(rank)  # each rank its own data
finder = lrwidget.LRFinder(model, opt)
finder.collective_timeout = 60
link = lrwidget.connect(finder, timeout=20)
print(f"CONNECTED rank={rank} socket={link.opened}", flush=True)
chunks, acted = [], []
with link.watch(finder.watch(sched, every=16, progress=False)) as watch:
    watch.listen(lambda e: chunks.append(e) if isinstance(e, Chunk) else
                 acted.append(e) if isinstance(e, ActionTaken) else None)
    # every rank ends on the same step: 48 after the action (applied on every rank at one
    # step), or at the cap when no click came
    while watch.step < 6000 and not (acted and watch.step >= acted[0].step + 48):
        x = torch.randn(16, 8, generator=g)
        loss = nn.functional.mse_loss(model(x), x.sum(1, keepdim=True))
        loss.backward(); opt.step(); sched.step(); opt.zero_grad()
        watch.record(loss)
        time.sleep(0.01)
h = hashlib.sha256()
for t in model.state_dict().values():
    h.update(t.numpy().tobytes())
with open(f"rank{rank}.json", "w") as f:
    json.dump({"lrs": [v for c in chunks for v in c.lrs[:, 0].tolist()],
               "actions": [[a.step, a.factor, a.rolled_back_to, a.error] for a in acted],
               "epoch": sched.last_epoch, "weights": h.hexdigest()}, f)
link.close()
dist.destroy_process_group()
print(f"DONE rank={rank}", flush=True)
"""


@pytest.fixture
def listener():
    import lrwidget

    made = []

    def make(**kw):
        w = lrwidget.listen(display=False, **kw)
        Capture(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def test_a_click_in_the_listen_widget_reaches_both_ranks_optimizers_and_schedules(
    listener, tmp_path
):
    w = listener()
    with jobs.Job(tmp_path, JOB, ranks=2, env=job_env(w)) as job:
        wait_until(lambda: w.finder.watch.step >= 64, 180, f"rank 0's steps:\n{job.output()}")
        comm_msg(w, {"type": "scale_lr", "factor": 0.1, "rollback": False})  # the button
        wait_until(
            lambda: any(isinstance(e, ActionTaken) for e in w.finder.watch.events),
            60,
            "the job's action",
        )
        e = job.end(timeout=120)
    assert e.returncode == 0, e.output
    for line in ("CONNECTED rank=0 socket=True", "CONNECTED rank=1 socket=False"):
        assert line in e.output, e.output
    r0, r1 = e.ranks[0], e.ranks[1]
    assert len(r0["actions"]) == 1 and r0["actions"] == r1["actions"], (r0, r1)
    step, factor, back, error = r0["actions"][0]
    assert (factor, back, error) == (0.1, None, None)
    assert r0["lrs"] == r1["lrs"] and len(r0["lrs"]) == step + 48
    # LambdaLR recomputes from its base every step: x0.1 holds only with the base scaled
    lam = [0.01 / (1.0 + 0.01 * s) for s in range(step + 48)]
    assert r0["lrs"][:step] == pytest.approx(lam[:step], rel=1e-12)
    assert r0["lrs"][step:] == pytest.approx([0.1 * v for v in lam[step:]], rel=1e-12)
    assert r0["epoch"] == r1["epoch"] == step + 48
    assert r0["weights"] == r1["weights"]  # both ranks trained on the same lrs
    shown = [x for x in w._training.snapshot()[0]["events"] if x["kind"] == "action"]
    assert [(x["step"], x["factor"]) for x in shown] == [(step, 0.1)]

"""A two-process accelerate job for tests/test_accelerate.py: torchrun ranks (gloo, CPU), each
with ``Accelerator(cpu=True)``, a model that ``prepare`` wraps in DDP, the digits loader sharded
by accelerate, a ``range_test`` and a ``track()`` loop with ``accelerator.accumulate``, then a
collective ``apply``.

:func:`run_job` runs it from a fresh directory under a hard timeout; each rank writes what it saw
to ``rank<r>.json``. Every process of the job is killed by its pid at the end, whatever
happened (:class:`tests.jobs.Job`).
"""

from __future__ import annotations

import dataclasses

from tests.jobs import Ended, Job

JOB = r"""
import json, os, sys
rank = int(os.environ["RANK"])
sys.stderr = open(f"err{rank}.txt", "w", buffering=1)
import torch
torch.set_num_threads(1)
import torch.distributed as dist
from torch import nn
from accelerate import Accelerator
from lrwidget import LRFinder
from tests.digits import digits_tensors

acc = Accelerator(cpu=True, gradient_accumulation_steps=2)
out = {"rank": rank, "distributed_type": str(acc.distributed_type).split(".")[-1]}


def save():
    with open(f"rank{rank}.json.tmp", "w") as f:
        json.dump(out, f)
    os.replace(f"rank{rank}.json.tmp", f"rank{rank}.json")


X, y = digits_tensors()
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=32)
torch.manual_seed(0)  # the same start on every rank, as DDP requires
model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
model, opt, loader = acc.prepare(model, opt, loader)  # each rank gets its own shard
out["ddp"] = isinstance(model, nn.parallel.DistributedDataParallel)
crit = nn.CrossEntropyLoss()


def forever():
    while True:
        yield from loader


def micro_step(batch):
    with acc.accumulate(model):
        loss = crit(model(batch[0]), batch[1])
        acc.backward(loss)
        opt.step()
        opt.zero_grad()
    return loss


def state():
    t = [v.detach().clone() for v in model.state_dict().values()]
    t += [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    for st in opt.state_dict()["state"].values():
        t += [v.clone() if torch.is_tensor(v) else v for _, v in sorted(st.items())]
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    return t, groups, acc.sync_gradients


def same(a, b):
    (ta, ga, sa), (tb, gb, sb) = a, b
    if len(ta) != len(tb) or ga != gb or sa != sb:
        return False
    return all((x is None and y is None) or (x is not None and y is not None and torch.equal(x, y))
               for x, y in zip(ta, tb))


batches = forever()
for _ in range(4):  # two real steps: momentum and grads exist before the tests
    micro_step(next(batches))
micro_step(next(batches))  # and the loop is in the middle of an accumulation
before = state()
finder = LRFinder(model, opt, crit)
out["collective"] = finder.collective
r = finder.range_test(loader, start_lr=1e-4, end_lr=100.0, num_iter=200)
out["range_test"] = r.to_dict()
out["restored_range_test"] = same(before, state())

micro = 0
with finder.track(start_lr=1e-4, end_lr=1e-2, num_iter=8) as run:
    for _lr, batch in zip(run, forever()):
        micro += 1
        run.record(micro_step(batch))
out["track"] = run.result.to_dict()
out["micro_batches"] = micro
out["restored_track"] = same(before, state())
save()
dist.barrier()
out["applied"] = finder.apply(2e-3 if rank == 0 else 5e-3)  # rank 0's lr on every rank
out["inner_lr"] = opt.optimizer.param_groups[0]["lr"]
save()
print(f"DONE rank={rank}", flush=True)
acc.end_training()
"""


def run_job(workdir, ranks: int = 2, timeout: float = 150) -> Ended:
    """Run the job under torchrun with ``ranks`` ranks in ``workdir``; kill it whole after
    ``timeout`` seconds. Returns what it left (never leaves a process behind), the ranks'
    stderr after torchrun's output."""
    with Job(workdir, JOB, ranks) as job:
        e = job.end(timeout)
    return dataclasses.replace(e, output=e.output + "".join(e.errs.values()))

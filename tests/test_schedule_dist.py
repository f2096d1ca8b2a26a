"""LRFinder.schedule under torch.distributed (issue 19): a real 2-rank torchrun job (gloo, CPU).
Every rank builds rank 0's schedule whatever it passed (the same lr at each of 100 steps), and a
refusal on any rank (rank 0's bad range, rank 1's bad keyword) raises on every rank with
nothing attached anywhere.
"""

from __future__ import annotations

import pytest

from tests.jobs import Job

pytestmark = pytest.mark.skipif(
    not __import__("torch").distributed.is_available(), reason="torch.distributed is not built"
)

JOB = r"""
import json, os
rank = int(os.environ["RANK"])
import torch
torch.set_num_threads(1)
import torch.distributed as dist
from torch import nn
from lrwidget import LRFinder

dist.init_process_group("gloo")
torch.manual_seed(0)
a, b = nn.Linear(4, 4), nn.Linear(4, 1)
opt = torch.optim.SGD([{"params": a.parameters(), "lr": 1e-2},
                       {"params": b.parameters(), "lr": 1e-3}], lr=1e-2, momentum=0.9)
finder = LRFinder(nn.Sequential(a, b), opt)
out = {"collective": finder.collective, "lrs": {}, "errors": {}, "untouched": {}}


def groups():
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


def steps(sched, n=100):
    seen = []
    opt.step()
    for _ in range(n):
        seen.append([g["lr"] for g in opt.param_groups])
        sched.step()
    return seen


for kind in ("one_cycle", "cyclic", "cosine", "linear"):
    # every rank passes its own lo: rank 0's is used
    sched = finder.schedule(kind, lo=1e-3 * (rank + 1), hi=1e-1, total_steps=100)
    out["lrs"][kind] = steps(sched)

clean = groups()
bad = {
    "rank0_lo_above_hi": dict(lo=1.0 if rank == 0 else 1e-3, hi=1e-1),
    "rank1_bad_pct_start": dict(lo=1e-3, hi=1e-1, pct_start=2.0 if rank == 1 else 0.3),
}
for name, kw in bad.items():
    before = groups()
    try:
        finder.schedule("one_cycle", total_steps=100, **kw)
        out["errors"][name] = None
    except Exception as e:
        out["errors"][name] = f"{type(e).__name__}: {e}"
    out["untouched"][name] = groups() == before
# the group still works after the refusals
out["after"] = steps(finder.schedule("cyclic", lo=1e-3, hi=1e-1, total_steps=100), 10)
with open(f"rank{rank}.json", "w") as f:
    json.dump(out, f)
dist.destroy_process_group()
"""


def test_every_rank_builds_rank_0s_schedule_or_every_rank_raises(tmp_path):
    with Job(tmp_path, JOB, ranks=2) as job:
        e = job.end(timeout=90)
    assert e.returncode == 0, f"the job did not end well within 90 s ({e.returncode}):\n{e.output}"
    r0, r1 = e.ranks[0], e.ranks[1]
    assert r0["collective"] and r1["collective"]
    for kind in ("one_cycle", "cyclic", "cosine", "linear"):
        assert r0["lrs"][kind] == r1["lrs"][kind], kind  # identical, bit for bit
        first = [lr for lr, _ in r0["lrs"][kind]]
        assert first[0] == pytest.approx(1e-3, rel=1e-12)  # rank 0's lo, on rank 1 too
        assert max(first) == pytest.approx(1e-1, rel=1e-12)
        assert all(g1 == pytest.approx(g0 / 10, rel=1e-12) for g0, g1 in r0["lrs"][kind])
    for rec in (r0, r1):
        err = rec["errors"]
        assert err["rank0_lo_above_hi"] is not None and err["rank1_bad_pct_start"] is not None
        assert rec["untouched"] == {"rank0_lo_above_hi": True, "rank1_bad_pct_start": True}
    # each rank's words: its own error, or which rank refused
    assert "lo must be below hi" in r0["errors"]["rank0_lo_above_hi"]
    assert "rank 0" in r1["errors"]["rank0_lo_above_hi"]
    assert "pct_start" in r1["errors"]["rank1_bad_pct_start"]
    assert "rank 1" in r0["errors"]["rank1_bad_pct_start"]
    assert r0["after"] == r1["after"]

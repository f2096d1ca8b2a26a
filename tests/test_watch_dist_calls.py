"""``scale_lr`` and ``probe`` called on every rank's training thread (as ``finder.apply`` is):
real 2-rank torchrun jobs (gloo, CPU, a DDP model, each rank its own data), a hard timeout,
every process killed by its pid (tests/jobs.py).

* every rank calls ``scale_lr(0.1, rollback=True)`` between the same two steps: it is applied
  once (not once per rank), both ranks use the same lrs after it and come back to the same
  snapshot, bit for bit; arguments that differ between ranks are refused on every rank;
* a rank that does not call it: both ranks raise a CollectiveTimeout within the
  ``collective_timeout``, nothing changed;
* ``probe`` called on every rank, and asked on one rank from another thread: it runs on both
  ranks over the same steps and both decide alike (from the ranks' mean losses).

The first and the last run one after the other in one launch (``batch``): a launch costs each
rank a torch import and a gloo start.
"""

from __future__ import annotations

import pytest
import torch.distributed as dist

from tests.jobs import Job

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is missing")

PRELUDE = r"""
import hashlib, json, os, threading, time
import torch
torch.set_num_threads(1)
import torch.distributed as dist
from torch import nn
from lrwidget import LRFinder
from lrwidget.engine.collective import CollectiveTimeout
from lrwidget.engine.watch_events import ActionTaken, Chunk, ProbeEnded, ProbeStarted

rank = int(os.environ["RANK"])
dist.init_process_group("gloo")

def start(config):
    # a fresh model, optimizer, data and finder for one scenario
    global cfg, model, opt, data, finder
    cfg = config
    torch.manual_seed(0)  # the same start on every rank, as DDP requires
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    if cfg.get("ddp", True):
        model = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"])
    g = torch.Generator().manual_seed(rank)  # each rank its own data: its own losses
    w = torch.randn(8, 1, generator=torch.Generator().manual_seed(9))
    data = []
    for _ in range(cfg["steps"]):
        x = torch.randn(16, 8, generator=g)
        data.append((x, x @ w))
    finder = LRFinder(model, opt)
    finder.collective_timeout = cfg["timeout"]

def weights():
    h = hashlib.sha256()
    for t in list(model.state_dict().values()) + [
            s for st in opt.state_dict()["state"].values() for s in st.values()]:
        h.update(t.detach().numpy().tobytes())
    return h.hexdigest()

def train(watch, i):
    x, y = data[i]
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward(); opt.step(); opt.zero_grad()
    watch.record(loss)

def attempt(fn, *args, **kw):
    t0 = time.monotonic()
    try:
        got = fn(*args, **kw)
        return {"ok": type(got).__name__, "seconds": time.monotonic() - t0}
    except Exception as e:
        return {"error": type(e).__name__, "message": str(e), "seconds": time.monotonic() - t0}

def save(out):
    with open(f"rank{rank}.json", "w") as f:
        json.dump(out, f)
"""

SCALE = r"""
def scale():
    chunks, out, at = [], {}, {}
    with finder.watch(every=16, snapshot_every=16, progress=False) as watch:
        watch.listen(lambda e: chunks.append(e) if isinstance(e, Chunk) else None)
        for i in range(cfg["steps"]):
            train(watch, i)
            at[watch.step] = weights()
            if watch.step == 20:  # different factors: refused on both ranks, nothing changed
                out["differ"] = attempt(watch.scale_lr, 0.5 if rank == 0 else 0.1)
                out["lr_after_differ"] = opt.param_groups[0]["lr"]
            if watch.step == 40:
                out["taken"] = attempt(watch.scale_lr, 0.1, rollback=True)
                out["back_to_32"] = weights() == at[32]
                out["lr_after"] = opt.param_groups[0]["lr"]
    out["lrs"] = [v for c in chunks for v in c.lrs[:, 0].tolist()]
    out["actions"] = [[e.step, e.factor, e.rolled_back_to, e.error] for e in watch.events
                      if isinstance(e, ActionTaken)]
    out["weights"] = weights()
    return out
"""


def test_scale_lr_called_on_every_rank_is_applied_once_and_rolls_both_back_alike(batch):
    e = batch
    assert e.returncode == 0, e.output
    r0, r1 = e.ranks[0]["scale"], e.ranks[1]["scale"]
    for r in (r0, r1):
        assert r["differ"]["error"] == "ValueError", r["differ"]
        assert "factor: 0.5 on rank 0, 0.1 on rank 1" in r["differ"]["message"]
        assert r["lr_after_differ"] == 0.01
        assert r["taken"]["ok"] == "ActionTaken", r["taken"]
        assert r["back_to_32"]  # the newest snapshot (no trouble), bit for bit
        assert r["lr_after"] == pytest.approx(0.001, rel=1e-12)  # x0.1 once, not once per rank
        assert r["actions"] == [[40, 0.1, 32, None]]
    assert r0["lrs"] == r1["lrs"]
    assert r0["lrs"][:40] == [0.01] * 40
    assert r0["lrs"][40:] == pytest.approx([0.001] * 24, rel=1e-12)
    assert r0["weights"] == r1["weights"]  # DDP: the same model and optimizer on every rank


ABSENT_JOB = (
    PRELUDE
    + r"""
start(json.loads(os.environ["JOB_CONFIG"]))
out = {}
try:
    with finder.watch(every=16, snapshot_every=16, progress=False) as watch:
        for i in range(cfg["steps"]):
            t_step = time.monotonic()
            train(watch, i)
            if watch.step == 40 and rank == 0:  # rank 1 never calls it
                out["call"] = attempt(watch.scale_lr, 0.1, rollback=True)
                out["lr"] = opt.param_groups[0]["lr"]
                break
except Exception as e:
    out["train"] = {"message": str(e), "seconds": time.monotonic() - t_step}
out["step"] = watch.step
save(out)
if rank == 0:  # stay until rank 1's own wait is over (its timeout, not this process's end)
    t_end = time.monotonic() + cfg["timeout"] + 4
    while not os.path.exists("rank1.json") and time.monotonic() < t_end:
        time.sleep(0.05)
os._exit(0)  # the group is not usable any more
"""
)


def test_a_rank_that_does_not_call_scale_lr_makes_both_raise_a_bounded_timeout(tmp_path):
    # no DDP: rank 1 trains on alone (DDP would hold it in the model's own gradient
    # reduction, which the process group's timeout bounds, not lrwidget's)
    cfg = {"lr": 0.01, "steps": 64, "timeout": 4, "ddp": False}
    with Job(tmp_path, ABSENT_JOB, ranks=2, config=cfg) as job:
        e = job.end(timeout=120)
    assert e.returncode == 0, e.output
    r0, r1 = e.ranks[0], e.ranks[1]
    assert r0["call"]["error"] == "CollectiveTimeout", r0
    assert "rank(s) 1 did not arrive" in r0["call"]["message"]
    assert r0["call"]["seconds"] < 4 + 10 and r0["lr"] == 0.01  # nothing changed
    # rank 1 trains on to its next sync (step 48), where rank 0 never comes: bounded too (its
    # own timeout, or gloo's word that rank 0 gave up on it, whichever comes first)
    assert "the watch's sync after step 48" in r1["train"]["message"], r1
    assert r1["train"]["seconds"] < 4 + 10 and r1["step"] == 48


PROBE = r"""
def probe():
    out, probes = {}, []
    with finder.watch(every=16, snapshot_every=16, progress=False) as watch:
        for i in range(cfg["steps"]):
            train(watch, i)
            if watch.step == 40:  # every rank, on its training thread
                out["called"] = attempt(watch.probe, 16)
            if watch.step == 72 and rank == 0:  # one rank, from another thread
                t = threading.Thread(target=watch.probe, args=(16,)); t.start(); t.join()
    for e in watch.events:
        if isinstance(e, ProbeStarted):
            probes.append(["started", e.step, e.factor, e.steps, e.snapshot, e.lrs, e.error])
        elif isinstance(e, ProbeEnded):
            probes.append(["ended", e.step, e.kept, e.rolled_back_to, e.base_slope, e.probe_slope,
                           e.verdict, e.lrs])
    out["probes"] = probes
    out["weights"] = weights()
    return out
"""


#: the scenarios that leave the group usable, one after the other in one launch (a launch: two
#: torch imports and a gloo start); each rank records {scenario: what it saw}
BATCH_JOB = (
    PRELUDE
    + SCALE
    + PROBE
    + r"""
records = {}
for name, config in json.loads(os.environ["JOB_CONFIG"]).items():
    start(config)
    records[name] = {"scale": scale, "probe": probe}[name]()
    save(records)
dist.destroy_process_group()
"""
)
BATCH = {
    "scale": {"lr": 0.01, "steps": 64, "timeout": 60},
    "probe": {"lr": 0.001, "steps": 112, "timeout": 60},
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    with Job(tmp_path_factory.mktemp("batch"), BATCH_JOB, ranks=2, config=BATCH) as job:
        return job.end(timeout=300)  # 180 s each alone


def test_a_probe_runs_on_both_ranks_over_the_same_steps_and_both_decide_alike(batch):
    e = batch
    assert e.returncode == 0, e.output
    r0, r1 = e.ranks[0]["probe"], e.ranks[1]["probe"]
    assert r0["called"]["ok"] == r1["called"]["ok"] == "ProbeStarted", (r0, r1)
    assert r0["probes"] == r1["probes"]  # the same steps, slopes, decisions and lrs
    kinds = [(p[0], p[1]) for p in r0["probes"]]
    # called at step 40 (mid-chunk: the 8 staged steps are exchanged then, so the next syncs
    # come at 56, 72, 88...): 16 steps; asked at 72 from a thread: from the next sync, 88
    assert kinds == [("started", 40), ("ended", 56), ("started", 88), ("ended", 104)], kinds
    assert all(p[-1] is None for p in r0["probes"] if p[0] == "started")  # none refused
    assert r0["weights"] == r1["weights"]

"""torchrun jobs for the distributed tests: real ranks (gloo, CPU) running a real LRFinder.

:func:`run_job` writes :data:`JOB` to a fresh directory and starts it under
``python -m torch.distributed.run`` with that many ranks, one torch thread each, this checkout
on ``sys.path``. The job's scenario comes from ``JOB_CONFIG`` (JSON); each rank writes what it
saw to ``rank<r>.json`` and its stderr (where a progress bar goes) to ``err<r>.txt``.

No process is left behind, whatever happens: torchrun starts its workers in sessions of their
own (so killing torchrun's process group does not reach them), so every process of a job
carries a marker in its environment (``LRWIDGET_TEST_JOB=<random id>``, inherited by each
worker) and, on a timeout and again at the end, every process that carries it is killed by its
pid, until none is left.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = "LRWIDGET_TEST_JOB"

JOB = r'''
import json, logging, os, sys, time
rank = int(os.environ["RANK"]); world = int(os.environ["WORLD_SIZE"])
sys.stderr = open(f"err{rank}.txt", "w", buffering=1)  # a progress bar goes here, per rank
import torch
torch.set_num_threads(1)
import torch.distributed as dist
from torch import nn
logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                    format=f"LOG rank{rank} %(name)s %(levelname)s %(message)s")
from lrwidget import LRFinder

cfg = json.loads(os.environ["JOB_CONFIG"])
kind = cfg["kind"]
dist.init_process_group("gloo")
out = {"rank": rank, "world": world}


def save():
    with open(f"rank{rank}.json.tmp", "w") as f:
        json.dump(out, f)
    os.replace(f"rank{rank}.json.tmp", f"rank{rank}.json")


def data(scale, seed, noise=0.1, n=8):
    # rank-dependent data: a rank whose labels are noisier has a higher floor under its loss, so
    # its own loss takes longer to rise 5-fold above its best when the shared weights blow up
    w = torch.randn(16, 1, generator=torch.Generator().manual_seed(7))  # one truth for all
    g = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(n):
        x = torch.randn(32, 16, generator=g) * scale
        batches.append((x, x @ w + noise * torch.randn(32, 1, generator=g)))
    return batches


def mlp():
    torch.manual_seed(0)  # the same start on every rank, as DDP requires
    return nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 1))


def linear():
    # fits the rank's noiseless labels exactly: that rank's loss falls far below the noisy ranks'
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 1))


def state(model, opt):
    """Every tensor of the model's state and the optimizer's, as local (per-rank) tensors."""
    def local(t):
        t = t.detach()
        return t.to_local() if hasattr(t, "to_local") else t
    tensors = [local(v).clone() for v in model.state_dict().values()]
    tensors += [local(p.grad).clone() if p.grad is not None else None for p in model.parameters()]
    for st in opt.state_dict()["state"].values():
        tensors += [local(v).clone() if torch.is_tensor(v) else v for _, v in sorted(st.items())]
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    return tensors, groups


def same_state(a, b):
    (ta, ga), (tb, gb) = a, b
    if len(ta) != len(tb) or ga != gb:
        return False
    for x, y in zip(ta, tb):
        if torch.is_tensor(x) != torch.is_tensor(y):
            return False
        if torch.is_tensor(x):
            if x.dtype != y.dtype or x.shape != y.shape or not torch.equal(x, y):
                return False
        elif x != y:
            return False
    return True


def warm_up(model, opt, batches, crit, steps=3):
    # optimizer state (momentum) and grads exist before the test: the restore must bring them
    for x, y in batches[:steps]:
        opt.zero_grad()
        crit(model(x), y).backward()
        opt.step()


kw = cfg.get("finder", {})
if kind in ("diverge", "stop", "raise", "startfail", "progress"):
    model = nn.parallel.DistributedDataParallel(linear() if kind == "diverge" else mlp())
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)
    scale = cfg["scales"][rank] if "scales" in cfg else 1.0
    noise = cfg["noise"][rank] if "noise" in cfg else 0.1
    batches = data(scale, seed=100 + rank, noise=noise)
    crit = nn.MSELoss()
    warm_up(model, opt, batches, crit)
    before = state(model, opt)
    local = []  # this rank's own losses, step by step

    def step(m, b):
        if kind == "raise" and rank == cfg["fail_rank"] and len(local) == cfg["fail_at"]:
            raise RuntimeError(f"boom on rank {rank} at step {len(local)}")
        loss = crit(m(b[0]), b[1])
        local.append(loss.item())
        if cfg.get("trace"):
            print(f"TRACE rank={rank} step={len(local)} loss={local[-1]:.6g}", flush=True)
        if kind == "stop" and rank == cfg["stop_rank"] and len(local) == cfg["stop_at"]:
            finder.stop()
        return loss

    finder = LRFinder(model, opt, **kw)
    args = dict(start_lr=1e-4, end_lr=cfg.get("end_lr", 10.0), num_iter=cfg["num_iter"],
                step_fn=step)
    args.update(cfg.get("range_test", {}))
    if kind == "startfail":
        # tests that cannot start on some rank, one after the other; then a good one
        def differing_num_iter():
            finder.range_test(batches, **dict(args, num_iter=args["num_iter"] + 10 * rank))

        def bad_batch_on_rank_1():
            loader = [torch.ones(3)] if rank == 1 else batches
            finder.range_test(loader, start_lr=1e-4, end_lr=1e-2, num_iter=40)

        def bad_track_args_on_rank_1():
            end_lr = 1e-5 if rank == 1 else 1e-2  # below start_lr on rank 1
            with finder.track(start_lr=1e-4, end_lr=end_lr, num_iter=40) as run:
                for _ in run:
                    run.record(1.0)

        finder.criterion = crit
        out["refused"], out["restored_after"] = {}, {}
        for attempt in (differing_num_iter, bad_batch_on_rank_1, bad_track_args_on_rank_1):
            try:
                attempt()
                why = "ran"
            except Exception as e:
                why = f"{type(e).__name__}: {e}"
            out["refused"][attempt.__name__] = why
            out["restored_after"][attempt.__name__] = same_state(before, state(model, opt))
        args = dict(start_lr=1e-4, end_lr=1e-2, num_iter=40, step_fn=step)
    if "progress" in cfg:
        args["progress"] = cfg["progress"]
    if cfg.get("track"):
        targs = {k: v for k, v in args.items() if k in ("start_lr", "end_lr", "num_iter",
                                                          "progress")}
        with finder.track(**targs) as run:
            it = iter(batches * 1000)
            for lr in run:  # the caller's own step
                opt.zero_grad()
                loss = step(model, next(it))
                loss.backward()
                opt.step()
                run.record(loss)
        result = run.result
    else:
        result = finder.range_test(batches, **args)
    out["result"] = result.to_dict()
    out["local"] = local
    out["restored"] = same_state(before, state(model, opt))
    out["held"] = [g["lr"] for g in opt.param_groups]
    save()  # what this rank saw, before it waits for the others
    # as a job goes on after its range test: every rank meets the others (here at a barrier)
    dist.barrier()
    if cfg.get("apply"):
        out["applied"] = finder.apply(cfg["apply"][rank])
        out["held_after_apply"] = [g["lr"] for g in opt.param_groups]
    if kind == "startfail":
        # a plain model tested on rank 0 alone (process_group=False), while rank 1 waits
        plain = linear()
        popt = torch.optim.SGD(plain.parameters(), lr=1e-4)
        out["alone_collective_by_default"] = LRFinder(plain, popt).collective
        if rank == 0:
            alone = LRFinder(plain, popt, nn.MSELoss(), process_group=False)
            out["alone_collective"] = alone.collective
            r = alone.range_test(data(1.0, seed=100), start_lr=1e-4, end_lr=1e-2, num_iter=30)
            out["alone_result"] = r.to_dict()
            out["alone_applied"] = alone.apply(3e-3)  # local too
        dist.barrier()
elif kind == "fsdp":
    from torch.distributed.fsdp import fully_shard
    model = mlp()
    for layer in (model[0], model[3]):
        fully_shard(layer)
    fully_shard(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    batches = data(1.0 + rank, seed=100 + rank)
    crit = nn.MSELoss()
    warm_up(model, opt, batches, crit)
    before = state(model, opt)
    local = []

    def step(m, b):
        loss = crit(m(b[0]), b[1])
        local.append(loss.item())
        return loss

    finder = LRFinder(model, opt, **kw)
    result = finder.range_test(batches, start_lr=1e-4, end_lr=10.0, num_iter=cfg["num_iter"],
                               step_fn=step)
    out["result"] = result.to_dict()
    out["local"] = local
    out["restored"] = same_state(before, state(model, opt))
    out["shard_shapes"] = [list(p.to_local().shape) for p in model.parameters()]
    # the restored model still trains as an FSDP model
    opt.zero_grad(); crit(model(batches[0][0]), batches[0][1]).backward(); opt.step()
    out["trains_after"] = True
save()
print(f"DONE rank={rank}", flush=True)
dist.destroy_process_group()
'''


@dataclass
class Ended:
    """What a job left: its exit code, its output, how long it ran and each rank's record."""

    returncode: int | None  # None: killed after the timeout
    output: str
    seconds: float
    ranks: dict
    errs: dict
    dir: str


def _marked(mark: str) -> list[int]:
    """Pids of the processes whose environment carries ``MARK=mark``."""
    needle = f"{MARK}={mark}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if needle in env.split(b"\0"):
            pids.append(int(entry))
    return pids


def kill_marked(mark: str, grace: float = 10.0) -> None:
    """SIGKILL every process of the job, by pid, until none is left (or fail after ``grace``)."""
    t0 = time.monotonic()
    while True:
        pids = [p for p in _marked(mark) if p != os.getpid()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() - t0 > grace:
            raise AssertionError(f"processes of the job are still alive: {pids}")
        time.sleep(0.05)


def run_job(workdir, ranks: int, timeout: float = 90, **config) -> Ended:
    """Run the job with ``ranks`` ranks under torchrun in ``workdir``; kill it whole after
    ``timeout`` seconds. Returns what it left (never leaves a process behind)."""
    d = os.fspath(workdir)
    os.makedirs(d, exist_ok=True)
    script = os.path.join(d, "job.py")
    with open(script, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(JOB))
    mark = secrets.token_hex(8)
    env = dict(
        os.environ,
        PYTHONPATH=ROOT,
        OMP_NUM_THREADS="1",
        PYTHONDONTWRITEBYTECODE="1",
        JOB_CONFIG=json.dumps(config),
        **{MARK: mark},
    )
    env.pop("LRWIDGET_ADDRESS", None)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={ranks}",
        "--max_restarts=0",
        "--monitor_interval=0.1",
        script,
    ]
    out_path = os.path.join(d, "out.txt")
    t0 = time.monotonic()
    with open(out_path, "w") as out:
        proc = subprocess.Popen(
            cmd, cwd=d, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            rc: int | None = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            took = time.monotonic() - t0
            kill_marked(mark)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
    with open(out_path, encoding="utf-8", errors="replace") as f:
        output = f.read()
    recs, errs = {}, {}
    for r in range(ranks):
        p = os.path.join(d, f"rank{r}.json")
        if os.path.exists(p):
            with open(p) as f:
                recs[r] = json.load(f)
        p = os.path.join(d, f"err{r}.txt")
        if os.path.exists(p):
            with open(p, encoding="utf-8", errors="replace") as f:
                errs[r] = f.read()
    return Ended(rc, output, took, recs, errs, d)

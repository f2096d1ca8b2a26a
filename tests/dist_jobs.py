"""torchrun jobs for the distributed tests: real ranks (gloo, CPU) running a real LRFinder.

:func:`run_job` runs :data:`JOB` from a fresh directory under torchrun with that many ranks
(:class:`tests.jobs.Job`: one torch thread each, this checkout on ``sys.path``, every process
killed by its pid at the end). The job's scenario comes from ``JOB_CONFIG`` (JSON); each rank
writes what it saw to ``rank<r>.json`` and its stderr (where a progress bar goes) to
``err<r>.txt``. :func:`run_batch` runs several scenarios one after the other in one launch (a
launch costs every rank a torch import and a gloo start, ~5 CPU-s each).
"""

from __future__ import annotations

import dataclasses

from tests.jobs import MARK, Ended, Job, kill_marked

# MARK and kill_marked are imported from here too (tests/test_notebooks.py)
__all__ = ["JOB", "MARK", "Ended", "kill_marked", "run_batch", "run_job"]

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

# one scenario; or several ("scenarios": a list of them), one after the other in this launch,
# each with a record of its own (rank<r>.json holds the list of them then)
config = json.loads(os.environ["JOB_CONFIG"])
dist.init_process_group("gloo")
records = []


def save():
    with open(f"rank{rank}.json.tmp", "w") as f:
        json.dump(records if "scenarios" in config else records[0], f)
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


def scenario(cfg, out):
    kind = cfg["kind"]
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

            def differing_accumulation_steps():
                # a DDP step per batch: rank 1 would run twice the others' gradient reductions
                finder.range_test(batches, **dict(args, accumulation_steps=1 + rank))

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
            attempts = (differing_num_iter, differing_accumulation_steps, bad_batch_on_rank_1,
                        bad_track_args_on_rank_1)
            for attempt in attempts:
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
        if cfg.get("one_cycle"):
            finder.one_cycle(cfg["one_cycle"][rank], total_steps=10)
            out["one_cycle_max_lr"] = [g["max_lr"] for g in opt.param_groups]
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
    elif kind == "absent":
        # a rank that is not there, each case on a process group of its own; the other rank waits
        # (and does not end) meanwhile
        timeout = cfg["collective_timeout"]
        out["errors"], out["seconds"] = {}, {}
        groups = {name: dist.new_group(backend="gloo") for name in ("alone", "caught")}
        batches = data(1.0, seed=100 + rank)
        crit = nn.MSELoss()
        fail = {"at": None, "n": 0}

        def step(m, b):  # no collective of its own: the test's reductions are the only ones
            if rank == 1 and fail["n"] == fail["at"]:
                raise RuntimeError(f"boom on rank 1 at step {fail['n']}")
            fail["n"] += 1
            return crit(m(b[0]), b[1])

        def finder_on(name):
            model = linear()
            f = LRFinder(model, torch.optim.SGD(model.parameters(), lr=1e-4),
                         process_group=groups[name])
            f.collective_timeout = timeout
            return f

        def attempt(name, fn):
            t0 = time.monotonic()
            try:
                fn()
                why = "ran"
            except Exception as e:
                why = f"{type(e).__name__}: {e}"
            out["errors"][name] = why
            out["seconds"][name] = time.monotonic() - t0
            save()

        def wait_for(name):  # this rank does nothing collective until the other is done
            while not os.path.exists(name):
                time.sleep(0.05)

        # rank 1's step raises mid-test; it catches that and goes on without the others (rank 0's
        # reduction is left pending in gloo: the other group is not touched)
        fail.update(at=20, n=0)
        finder = finder_on("caught")
        attempt("caught", lambda: finder.range_test(
            batches, start_lr=1e-4, end_lr=1e-2, num_iter=200, step_fn=step))
        if rank == 0:
            open("caught.done", "w").close()
        else:
            wait_for("caught.done")
        # rank 0 alone calls the collective API (rank 1 never does); last: gloo closes the
        # connections to a rank that timed out in a barrier, on every group
        if rank == 0:
            attempt("alone", lambda: finder_on("alone").range_test(
                batches, start_lr=1e-4, end_lr=1e-2, num_iter=40, step_fn=step))
            open("alone.done", "w").close()
        else:
            wait_for("alone.done")
        print(f"DONE rank={rank}", flush=True)
        os._exit(0)  # the timed-out groups cannot be torn down collectively
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


for cfg in config.get("scenarios", [config]):
    records.append({"rank": rank, "world": world})
    scenario(cfg, records[-1])
print(f"DONE rank={rank}", flush=True)
dist.destroy_process_group()
'''


def run_job(workdir, ranks: int, timeout: float = 90, **config) -> Ended:
    """Run the job with ``ranks`` ranks under torchrun in ``workdir``; kill it whole after
    ``timeout`` seconds. Returns what it left (never leaves a process behind)."""
    with Job(workdir, JOB, ranks, config=config) as job:
        return job.end(timeout)


def run_batch(workdir, ranks: int, timeout: float, scenarios: dict[str, dict]) -> dict[str, Ended]:
    """Run ``scenarios`` (name -> the config :func:`run_job` takes) one after the other in one
    job; each name's :class:`Ended` holds that scenario's records (the job's exit code, output,
    duration and stderr are shared). A scenario must leave the process group usable for the
    next: one that ends its rank or the job (``raise``, ``absent``) runs alone."""
    e = run_job(workdir, ranks, timeout, scenarios=list(scenarios.values()))
    return {
        name: dataclasses.replace(
            e, ranks={r: recs[i] for r, recs in e.ranks.items() if i < len(recs)}
        )
        for i, name in enumerate(scenarios)
    }

"""Range tests under torch.distributed: real torchrun jobs (gloo, CPU), 2 and 4 ranks.

Every job runs from a fresh directory under a hard timeout; whatever is left of it (torchrun and
its workers, which run in sessions of their own) is killed by pid at the end
(tests/dist_jobs.py). Each rank writes what it saw (its result, its own losses step by step,
whether its model and optimizer came back bit for bit) for the checks here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrwidget.engine.history import History, RangeTestResult
from lrwidget.engine.loop import StopRule
from tests.dist_jobs import run_batch, run_job

pytestmark = pytest.mark.skipif(
    not __import__("torch").distributed.is_available(), reason="torch.distributed is not built"
)

#: steps between two reductions of the losses (LRFinder.fetch_every)
CHUNK = 16


def own_stop(losses, num_iter, smooth_f=0.05, diverge_th=5.0):
    """The reading at which a rank's own losses would have ended the test (None: never)."""
    h, rule = History(num_iter, smooth_f), StopRule(num_iter, diverge_th)
    for i, v in enumerate(losses[:num_iter]):
        s = h.append(1.0, v)
        if rule.decide(i + 1, v, s, h.best):
            return i + 1
    return None


def results_of(e, ranks):
    assert sorted(e.ranks) == list(range(ranks)), f"ranks missing a record:\n{e.output}"
    return [RangeTestResult.from_dict(e.ranks[r]["result"]) for r in range(ranks)]


def diverge(ranks):
    """Rank 0's labels nearly noiseless, the others' noisy; each rank applies and builds a one
    cycle from a value of its own."""
    return dict(
        kind="diverge",
        num_iter=200,
        noise=[0.01] + [3.0] * (ranks - 1),
        apply=[1e-3 * (r + 1) for r in range(ranks)],  # every rank passes its own value
        one_cycle=[1e-2 * (r + 1) for r in range(ranks)],
    )


#: the two-rank scenarios that leave the process group usable, one after the other in one launch
#: (the tests below read each one's records): a launch is 2 torch imports and a gloo start
BATCH = {
    "diverge": diverge(2),
    "stop": dict(
        kind="stop",
        track=True,
        num_iter=300,
        end_lr=1e-2,
        stop_rank=1,
        stop_at=37,
        progress=True,
    ),
    "startfail": dict(kind="startfail", num_iter=60, end_lr=1e-2),
    "fsdp": dict(kind="fsdp", num_iter=60),  # last: sharding may leave state behind
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    # each scenario had 90-120 s alone
    return run_batch(tmp_path_factory.mktemp("batch"), 2, 300, BATCH)


def assert_identical(results):
    first = results[0].to_dict()
    for r, res in enumerate(results[1:], 1):
        assert res.to_dict() == first, f"rank {r}'s result differs from rank 0's"


@pytest.mark.parametrize("ranks", [2, 4])
def test_ranks_whose_losses_differ_stop_on_the_same_step_on_their_mean(tmp_path, ranks, request):
    # rank 0's labels are nearly noiseless, the others' noisy: when the shared weights blow up,
    # rank 0's own loss rises 5-fold above its best long before the others' do. Each rank on
    # its own would stop at another step, and a rank still stepping waits forever in DDP's
    # all-reduce for one that stopped (the hang torchrun jobs had)
    if ranks == 2:
        e = request.getfixturevalue("batch")["diverge"]
    else:
        e = run_job(tmp_path, ranks, timeout=90, **diverge(ranks))
    assert e.returncode == 0, f"the job did not end well in time ({e.returncode}):\n{e.output}"
    recs = [e.ranks[r] for r in range(ranks)]
    results = results_of(e, ranks)
    assert_identical(results)
    res = results[0]
    n = len(res)
    assert res.stop_reason == "diverged"
    # the scenario: on its own, rank 0 would have stopped earlier than the test did
    own = [own_stop(r["local"], 200) for r in recs]
    assert own[0] is not None and own[0] < n, own
    # every reading is the mean over the ranks of each rank's own loss at that step
    local = np.array([r["local"][:n] for r in recs], dtype=np.float64)
    np.testing.assert_allclose(res.losses, local.mean(axis=0), rtol=1e-12, atol=0)
    assert not np.allclose(res.losses, local[0])
    # every rank ran the same steps; a bounded number past the deciding one (the chunk's rest,
    # and one step while the chunk's reduction was in flight)
    steps = {len(r["local"]) for r in recs}
    assert len(steps) == 1, steps
    assert n <= steps.pop() <= n + CHUNK + 1
    for r, rec in enumerate(recs):
        assert rec["restored"], f"rank {r}'s model or optimizer was not restored bit for bit"
        assert rec["held"] == [1e-4], rec["held"]
        # apply is collective: rank 0's value on every rank, whatever each passed
        assert rec["applied"] == rec["held_after_apply"] == [1e-3], (r, rec)
        # and one_cycle: every rank's schedule peaks at rank 0's lr
        assert rec["one_cycle_max_lr"] == [1e-2], (r, rec)


def test_stop_on_rank_1_ends_every_rank_on_the_same_step_in_a_tracked_loop(batch):
    e = batch["stop"]
    assert e.returncode == 0, e.output
    results = results_of(e, 2)
    assert_identical(results)
    res = results[0]
    assert res.stop_reason == "stopped"
    # asked during step 37: honoured at the next reduction both ranks take part in
    assert 37 <= len(res) <= 37 + CHUNK + 1, len(res)
    assert len(e.ranks[0]["local"]) == len(e.ranks[1]["local"])
    local = np.array([e.ranks[r]["local"][: len(res)] for r in (0, 1)])
    np.testing.assert_allclose(res.losses, local.mean(axis=0), rtol=1e-12, atol=0)
    for r in (0, 1):
        assert e.ranks[r]["restored"], r
    # the progress bar: on rank 0 only, with the step count and why it ended
    assert f"{len(res)}/300" in e.errs[0] and "stopped" in e.errs[0], e.errs[0]
    assert "/300" not in e.errs[1], e.errs[1]


def test_an_exception_on_one_rank_ends_the_whole_job_quickly_with_the_error(tmp_path):
    e = run_job(
        tmp_path, 2, timeout=120, kind="raise", num_iter=400, end_lr=1e-2, fail_rank=1, fail_at=32
    )
    # step 33 is the first after a reduction was started (steps 17-32): rank 1 leaves it in
    # flight, and its way out does nothing collective
    assert e.returncode is not None, f"the job hung (killed after 120 s):\n{e.output}"
    assert e.seconds < 60, e.seconds
    assert e.returncode != 0
    assert "boom on rank 1 at step 32" in e.output + "".join(e.errs.values())


def test_a_rank_that_is_not_there_fails_the_others_within_the_collective_timeout(tmp_path):
    # the process group's own timeout (30 min for gloo) is no bound: each rank waits at most
    # collective_timeout at the test's start and at each reduction. The job's bound (60 s) is
    # small so that a regression fails here rather than hanging
    e = run_job(tmp_path, 2, timeout=60, kind="absent", collective_timeout=3)
    assert e.returncode == 0, f"the job did not end well within 60 s ({e.returncode}):\n{e.output}"
    errors, seconds = e.ranks[0]["errors"], e.ranks[0]["seconds"]
    # rank 0 alone called range_test: rank 1 is named, nothing ran
    assert errors["alone"].startswith("CollectiveTimeout: rank(s) 1 did not arrive within 3 s"), (
        errors
    )
    assert "at the range test's start" in errors["alone"]
    # rank 1's step raised and rank 1 caught it and went on: rank 0 leaves its reduction
    assert errors["caught"].startswith("CollectiveTimeout: not every rank took part within 3 s")
    assert "reduction of steps 17-32" in errors["caught"], errors["caught"]
    assert e.ranks[1]["errors"]["caught"] == "RuntimeError: boom on rank 1 at step 20"
    for name in ("alone", "caught"):
        assert 3 <= seconds[name] < 15, seconds


def test_a_test_that_cannot_start_on_one_rank_starts_on_none_and_the_group_goes_on(batch):
    e = batch["startfail"]
    assert e.returncode == 0, e.output
    for r in (0, 1):
        refused = e.ranks[r]["refused"]
        # the ranks disagree on num_iter: every rank says so, naming it
        assert refused["differing_num_iter"].startswith("ValueError: the range test's "), refused
        assert "num_iter: 60 on rank 0, 70 on rank 1" in refused["differing_num_iter"]
        # rank 1's own bad input: its own error there, one naming rank 1 on the others
        # so do their accumulation_steps (a DDP step per batch): refused before any step,
        # not a rank killed by gloo when their gradient reductions no longer pair up
        acc = refused["differing_accumulation_steps"]
        assert acc.startswith("ValueError: the range"), refused
        assert "accumulation_steps: 1 on rank 0, 2 on rank 1" in acc, acc
        for name, own in (
            ("bad_batch_on_rank_1", "TypeError: train_loader yields Tensor batches"),
            ("bad_track_args_on_rank_1", "ValueError: end_lr"),
        ):
            if r == 1:
                assert refused[name].startswith(own), refused[name]
            else:
                assert refused[name].startswith("StartRefused: the range test did not start")
                assert f"rank 1 could not start it ({own}" in refused[name], refused[name]
        assert all(e.ranks[r]["restored_after"].values()), e.ranks[r]["restored_after"]
        # no collective was left half-done: the next test runs on every rank alike
        assert e.ranks[r]["result"]["stop_reason"] == "completed"
        assert e.ranks[r]["alone_collective_by_default"] is True
    assert_identical(results_of(e, 2))
    # process_group=False: a plain model tested on rank 0 alone while rank 1 waited
    assert e.ranks[0]["alone_collective"] is False
    assert RangeTestResult.from_dict(e.ranks[0]["alone_result"]).stop_reason == "completed"
    assert e.ranks[0]["alone_applied"] == [3e-3]


def test_fsdp2_shards_are_restored_on_every_rank(batch):
    e = batch["fsdp"]
    assert e.returncode == 0, e.output
    results = results_of(e, 2)
    assert_identical(results)
    n = len(results[0])
    local = np.array([e.ranks[r]["local"][:n] for r in (0, 1)])
    np.testing.assert_allclose(results[0].losses, local.mean(axis=0), rtol=1e-12, atol=0)
    for r in (0, 1):
        rec = e.ranks[r]
        assert rec["restored"], f"rank {r}'s shard was not restored bit for bit"
        assert rec["trains_after"]
    # each rank holds its own half of the first layer's weight (32 x 16 -> 16 x 16)
    assert e.ranks[0]["shard_shapes"][0] == [16, 16]


def test_a_process_group_that_is_not_one_is_refused_naming_it():
    import torch
    from torch import nn

    from lrwidget import LRFinder

    m = nn.Linear(2, 1)
    with pytest.raises(TypeError, match=r"process_group must be a torch\.distributed"):
        LRFinder(m, torch.optim.SGD(m.parameters(), lr=0.1), process_group="gloo")


def test_own_stop_helper_agrees_with_the_finder_rule():
    # the helper the tests above use to tell when one rank alone would have stopped
    assert own_stop([1.0, 1.0, 100.0, 1.0], 4) == 3
    assert own_stop([1.0] * 4, 4) == 4
    assert own_stop([1.0, math.nan], 4) == 2

"""A schedule chosen in the notebook reaches a job (issue 19): ``RemoteSource.schedule`` -> a
signed ``schedule`` request -> the job's link checks it and builds it with ``finder.schedule`` on
every rank of a real 2-rank torchrun job (gloo) in ``link.wait_for_choice()`` -> the answer.
Hostile requests are refused in the job with the reason, and the job goes on.
"""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
import torch
from torch import nn

import lrwidget
from lrwidget.remote import wire
from lrwidget.remote.schedule_wire import SCHEDULE
from lrwidget.remote.source import RemoteSource
from tests import jobs

zmq = pytest.importorskip("zmq")

TOKEN = "s" * 32

JOB = r"""
import json, logging, os, sys
import torch
torch.set_num_threads(1)
from torch import nn
logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                    format="LOG %(name)s %(levelname)s %(message)s")
import lrwidget
from lrwidget import LRFinder
from tests.digits import digits_sgd

rank = int(os.environ.get("RANK", "0"))
torch.distributed.init_process_group("gloo")
model, _, loader = digits_sgd()
opt = torch.optim.SGD([{"params": model[0].parameters(), "lr": 1e-5},
                       {"params": model[2].parameters(), "lr": 1e-6}], momentum=0.9)
finder = LRFinder(model, opt, nn.CrossEntropyLoss())
link = lrwidget.connect(finder, timeout=20)
finder.range_test(loader, start_lr=1e-5, end_lr=10, num_iter=60)
lr = link.wait_for_choice(timeout=120)
sched = link.scheduler
lrs = []
for _ in range(5):
    lrs.append([g["lr"] for g in opt.param_groups])
    opt.step()
    sched.step()
print("SCHEDULED " + json.dumps({"rank": rank, "by": link.chosen_by, "lr": lr,
      "type": type(sched).__name__, "max_lr": [g["max_lr"] for g in opt.param_groups],
      "lrs": lrs}) + "\n", end="", flush=True)  # one write: the two ranks share the pipe
link.close()
torch.distributed.destroy_process_group()
print(f"DONE rank={rank}\n", end="", flush=True)
"""


def _hostile(result_lrs: np.ndarray) -> list[tuple[dict, str]]:
    lo, hi = float(result_lrs[10]), float(result_lrs[40])
    ok = {"schedule_kind": "one_cycle", "lo": lo, "hi": hi, "total_steps": 1000}
    return [
        ({**ok, "schedule_kind": "step"}, "kind must be one of"),
        ({**ok, "schedule_kind": "x" * 500_000}, "kind must be one of"),
        ({**ok, "schedule_kind": {"a": [1, [2]]}}, "kind must be one of"),
        ({**ok, "lo": float("nan")}, "lo must be finite and > 0"),
        ({**ok, "hi": float("inf")}, "hi must be finite and > 0"),
        ({**ok, "lo": "0.001"}, "lo must be a number"),
        ({**ok, "lo": True}, "lo must be a number"),
        ({**ok, "lo": 10**400}, "lo must be a number a float can hold"),
        ({**ok, "lo": hi, "hi": lo}, "lo must be below hi"),
        ({**ok, "lo": 1e-9}, "lo: lr 1e-09 is outside the tested range"),
        ({**ok, "total_steps": 10**12}, "total_steps must be an integer in \\[2, 1000000000\\]"),
        ({**ok, "total_steps": 2.5}, "total_steps must be an integer"),
        ({**ok, "total_steps": True}, "total_steps must be an integer"),
        ({"lo": lo}, "kind must be one of"),
    ]


def test_a_schedule_from_the_notebook_is_built_on_every_rank_and_hostile_ones_are_refused(
    tmp_path,
):
    src = RemoteSource(token=TOKEN, apply_timeout=60)
    env = {"LRWIDGET_ADDRESS": src.address, "LRWIDGET_TOKEN": TOKEN}
    try:
        with jobs.Job(tmp_path, JOB, ranks=2, env=env) as job:
            result = src.wait_for_run(timeout=90)
            # signed (through the notebook's own socket) but hostile: each refused with why
            futures = []
            for fields, words in _hostile(result.lrs):
                request, future = src._requests.add(1.0, "a hostile schedule")
                src._receiving.request(SCHEDULE, request, {**fields, "id": request})
                futures.append((future, words))
            for future, words in futures:
                with pytest.raises(RuntimeError, match="did not apply a hostile schedule") as e:
                    future.result(timeout=30)
                assert re.search(words, str(e.value)), (words, str(e.value))
                assert len(str(e.value)) < 700
            with pytest.raises(ValueError, match="kind must be one of"):
                src.schedule("exp", 1e-3, 1e-2, 100)  # refused here, never sent
            lo, hi = float(result.lrs[10]), float(result.lrs[40])
            peaks = src.schedule("one_cycle", lo, hi, 1000)
            ended = job.end(timeout=60)
    finally:
        src.close()
    out = ended.output
    assert ended.returncode == 0, out
    assert peaks == [hi, pytest.approx(hi / 10, rel=1e-12)]
    runs = [json.loads(m) for m in re.findall(r"^SCHEDULED (.*)$", out, re.M)]
    assert sorted(r["rank"] for r in runs) == [0, 1], out
    r0, r1 = sorted(runs, key=lambda r: r["rank"])
    assert r0["by"] == r1["by"] == "schedule" and r0["type"] == "OneCycleLR"
    assert r0["max_lr"] == r1["max_lr"] == peaks
    assert r0["lrs"] == r1["lrs"]  # the same schedule on both ranks, bit for bit
    assert r0["lrs"][0][0] == pytest.approx(lo, rel=1e-12) == r0["lr"]
    assert out.count("refused a schedule from the notebook") >= len(_hostile(result.lrs)) - 1
    assert "DONE rank=0" in out and "DONE rank=1" in out


@pytest.fixture
def zctx():
    """A ZeroMQ context for the test's own sockets: every one of them closed at the end."""
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def test_an_unsigned_or_id_less_schedule_is_dropped_and_the_link_goes_on(zctx):
    nb = zctx.socket(zmq.ROUTER)
    nb.setsockopt(zmq.LINGER, 0)
    address = f"tcp://127.0.0.1:{nb.bind_to_random_port('tcp://127.0.0.1')}"
    torch.manual_seed(0)
    m = nn.Linear(4, 1)
    opt = torch.optim.SGD(m.parameters(), lr=1e-2, momentum=0.9)
    finder = lrwidget.LRFinder(m, opt)
    good = {"schedule_kind": "cyclic", "lo": 1e-3, "hi": 1e-1, "total_steps": 100}
    with lrwidget.connect(finder, address, TOKEN, timeout=0) as link:
        ident = _next(nb, "hello")[0]
        nb.send_multipart([ident, *wire.pack(TOKEN, "sync", {})])
        assert _next(nb, "state") is not None
        nb.send_multipart([ident, *wire.pack("x" * 32, SCHEDULE, {**good, "id": 1})])
        nb.send_multipart([ident, *wire.pack(TOKEN, SCHEDULE, {**good, "id": "2"})])
        assert _next(nb, "answer", 1.0) is None
        nb.send_multipart([ident, *wire.pack(TOKEN, SCHEDULE, {**good, "id": 3})])
        assert link.wait_for_choice(timeout=10) == pytest.approx(1e-3)
        answer = _next(nb, "answer")[1]
        assert answer["id"] == 3 and answer["lrs"] == [1e-1]
        assert link.chosen_by == "schedule" and link.scheduler.max_lrs == [1e-1]


def _next(sock, kind: str, timeout: float = 10):
    """(routing id, fields) of the next signed ``kind`` message, or None after ``timeout`` s."""
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if sock.poll(100):
            frames = sock.recv_multipart()
            m = wire.unpack(TOKEN, frames[1:])
            if m.kind == kind:
                return frames[0], m.fields
    return None

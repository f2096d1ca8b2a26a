"""A training job in another process streams its range test to ``lrwidget.listen()`` in this
process, and the choice made in the widget goes back into the job's optimizer.

The jobs are real (tests/remote_jobs.py: an LRFinder on the digits data, a process group of
their own, killed whole at the end of each test); the widget is the real one, driven through the
path its comm uses (tests/widgets.py), with no kernel.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import threading
import time

import numpy as np
import pytest
import torch
from torch import nn

import lrwidget
from lrwidget.engine.history import RangeTestResult
from lrwidget.pure.smooth import centered
from tests import jobs
from tests.remote_jobs import Job, job_env
from tests.widgets import Capture, comm_msg, same, wait_until

pytest.importorskip("zmq")

TOKEN = "t" * 32


@pytest.fixture
def listener():
    made = []

    def make(**kw):
        kw.setdefault("display", False)
        w = lrwidget.listen(**kw)
        w.cap = Capture(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def free_address() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"tcp://127.0.0.1:{port}"


def line(out: str, pattern: str) -> re.Match:
    m = re.search(pattern, out)
    assert m, f"no line matching {pattern!r} in the job's output:\n{out}"
    return m


def assert_same_result(a: RangeTestResult, b: RangeTestResult):
    assert len(a) == len(b)
    for k in ("lrs", "losses", "smoothed"):
        assert same(getattr(a, k), getattr(b, k)), k
    assert (a.stop_reason, a.step_mode, a.start_lr, a.end_lr, a.num_iter) == (
        b.stop_reason,
        b.step_mode,
        b.start_lr,
        b.end_lr,
        b.num_iter,
    )


def saved_result(job) -> RangeTestResult:
    """The job's own result (written after its range test returned)."""
    wait_until(lambda: "ENDED rank=0" in job.output(), 30, "the job to save its result")
    return RangeTestResult.load(os.path.join(job.dir, "result.json"))


def readings_of(w):
    return w._channel.call(lambda: tuple(a.copy() for a in w._channel.readings.view()))


# ---------------------------------------------------------------------------- a job streams
def test_the_widget_draws_the_job_live_and_a_click_apply_reaches_its_optimizer(listener, tmp_path):
    w = listener()
    assert re.fullmatch(r"tcp://127\.0\.0\.1:\d+", w.address) and not w.address.endswith(":0")
    assert len(w.token) == 64 and w.status == "idle"
    with Job(tmp_path, job_env(w), num_iter=150, sleep=0.02, wait=60) as job:
        wait_until(lambda: w.status == "running" and w.step > 0, 60, "the job's first readings")
        first = w.step
        wait_until(lambda: w.step > first, 20, "more readings")
        assert w.status == "running", "the readings came only at the end, not live"
        result = w.wait(timeout=60)
        assert w.status in ("done", "diverged")
        job_result = saved_result(job)
        assert_same_result(result, job_result)
        lrs, losses, smoothed = readings_of(w)
        assert same(lrs, job_result.lrs) and same(losses, job_result.losses)
        assert same(smoothed, job_result.smoothed)
        assert w.suggestions[0]["lr"] == job_result.suggested_lr
        # issue 21: the finished run is drawn without lag, the job's readings smoothed here
        wait_until(lambda: w.cap.custom("line"), 10, "the finished run's line")
        ((_, c, bufs),) = w.cap.custom("line")
        assert c["count"] == len(job_result)
        assert same(np.frombuffer(bufs[0], "<f8"), centered(job_result.lrs, job_result.losses))
        assert len(w.finder.jobs) == 1 and w.finder.jobs[0]["pid"] > 0

        i = len(result) // 3
        lr = float(result.lrs[i])
        comm_msg(w, {"type": "select", "lr": lr, "index": i})
        wait_until(lambda: w.selected_lr == lr, 10, "the selection")
        comm_msg(w, {"type": "apply", "lr": None})
        wait_until(lambda: w.applied_lr == lr, 20, "the job's answer")
        out = job.finish(30)
    m = line(out, r"CHOICE rank=0 lr=(\S+) held=\[(\S+)\] by=click")
    assert float(m.group(1)) == lr and float(m.group(2)) == lr, out
    assert "DONE rank=0" in out


def test_stop_in_the_widget_ends_the_jobs_test_and_w_apply_returns_what_the_job_holds(
    listener, tmp_path
):
    w = listener()
    with Job(tmp_path, job_env(w), num_iter=3000, sleep=0.01, wait=60, groups=True) as job:
        wait_until(lambda: w.step >= 20, 60, "readings")
        comm_msg(w, {"type": "stop"})
        result = w.wait(timeout=30)
        assert result.stop_reason == "stopped" and 20 <= len(result) < 3000
        assert w.status == "stopped"
        lr = float(result.lrs[len(result) // 2])
        held = w.apply(lr)  # through the channel, to the job and back
        assert w.applied_lr == lr
        out = job.finish(30)
    line(out, rf"ENDED rank=0 reason=stopped n={len(result)} ")
    m = line(out, r"CHOICE rank=0 lr=(\S+) held=\[(\S+), (\S+)\]")
    assert held == [float(m.group(2)), float(m.group(3))], (held, out)
    assert held[0] == lr and held[1] == pytest.approx(lr / 10, rel=1e-12)


def test_a_job_with_a_wrong_token_is_refused_and_nothing_reaches_the_widget(
    listener, tmp_path, caplog
):
    w = listener()
    caplog.set_level(logging.WARNING, logger="lrwidget.remote")
    env = dict(job_env(w), LRWIDGET_TOKEN="x" * 40)
    with Job(tmp_path, env, num_iter=50) as job:
        out = job.finish(60)
        assert job.proc.returncode == 3, out
    assert f"REFUSED token refused by the notebook at {w.address}" in out, out
    time.sleep(0.3)
    assert w.status == "idle" and w.step == 0 and w.result is None
    assert readings_of(w)[0].size == 0
    assert w.finder.jobs == []
    assert any("token" in r.getMessage() for r in caplog.records), caplog.text


def test_a_job_whose_notebook_went_away_finishes_and_takes_the_default(listener, tmp_path):
    w = listener()
    with Job(tmp_path, job_env(w), num_iter=250, sleep=0.01, wait=2) as job:
        wait_until(lambda: w.step >= 10, 60, "readings")
        w.close()  # the notebook is gone mid-run
        out = job.finish(60)
    job_result = saved_result(job)
    assert job_result.stop_reason in ("completed", "diverged")
    m = line(out, r"ENDED rank=0 reason=\w+ n=(\d+) suggested=(\S+)")
    assert int(m.group(1)) == len(job_result)
    suggested = float(m.group(2))
    assert "applying the default suggestion" in out, out
    m = line(out, r"CHOICE rank=0 lr=(\S+) held=\[(\S+)\] by=default")
    assert float(m.group(1)) == float(m.group(2)) == suggested


def test_a_notebook_that_comes_back_gets_the_whole_curve_and_can_choose(listener, tmp_path):
    address = free_address()
    w = listener(address=address, token=TOKEN)
    assert w.address == address
    with Job(tmp_path, job_env(w), num_iter=400, sleep=0.01, wait=60) as job:
        wait_until(lambda: w.step >= 10, 60, "readings")
        w.close()
        time.sleep(1.0)  # the job goes on alone
        w2 = listener(address=address, token=TOKEN)
        result = w2.wait(timeout=60)
        job_result = saved_result(job)
        assert_same_result(result, job_result)
        assert same(readings_of(w2)[1], job_result.losses)
        lr = float(result.lrs[len(result) // 4])
        assert w2.apply(lr)[0] == lr
        out = job.finish(30)
    assert float(line(out, r"CHOICE rank=0 lr=(\S+)").group(1)) == lr


def test_a_job_that_dies_mid_run_shows_as_disconnected(listener, tmp_path):
    w = listener(liveness_timeout=1.5)
    with Job(tmp_path, job_env(w), num_iter=3000, sleep=0.01) as job:
        wait_until(lambda: w.step >= 5, 60, "readings")
        t0 = time.monotonic()
        os.killpg(job.proc.pid, signal.SIGKILL)
        wait_until(lambda: w.status == "error", 10, "the widget to show the job is gone")
        took = time.monotonic() - t0
    assert "job disconnected" in w.error
    assert took < 4, took
    with pytest.raises(ConnectionError, match="job disconnected"):
        w.wait(timeout=5)
    assert not w.finder.connected


def test_two_ranks_under_torchrun_only_rank_0_connects_stop_ends_both_both_get_the_choice(
    listener, tmp_path
):
    w = listener()
    with Job(tmp_path, job_env(w), ranks=2, num_iter=3000, sleep=0.01, wait=90) as job:
        wait_until(lambda: w.step >= 20, 150, "readings from rank 0")
        comm_msg(w, {"type": "stop"})  # the collective finder stops every rank on one step
        result = w.wait(timeout=60)
        assert result.stop_reason == "stopped" and len(result) < 3000
        lr = float(result.lrs[len(result) // 2])
        assert w.apply(lr)[0] == lr
        out = job.finish(60)
    assert "CONNECTED rank=1 world=2 socket=False" in out, out
    assert "CONNECTED rank=0 world=2 socket=True" in out, out
    assert [(j["rank"], j["world"]) for j in w.finder.jobs] == [(0, 2)]
    for rank in (0, 1):
        line(out, rf"ENDED rank={rank} reason=stopped n={len(result)} ")
        m = line(out, rf"CHOICE rank={rank} lr=(\S+) held=\[(\S+)\] by=click")
        assert float(m.group(1)) == float(m.group(2)) == lr, out


# ---------------------------------------------------------------------------- in one process
def _tiny(n_steps_ok=True):
    torch.manual_seed(0)
    m = nn.Linear(2, 1)
    opt = torch.optim.SGD(m.parameters(), lr=1e-4)
    data = [(torch.randn(8, 2), torch.randn(8, 1))]

    def step(mod, b):
        return nn.functional.mse_loss(mod(b[0]), b[1])

    return lrwidget.LRFinder(m, opt), opt, data, step


def test_a_job_that_connects_before_the_notebook_listens_is_shown_whole_when_it_does(listener):
    finder, opt, data, step = _tiny()
    address = free_address()
    t0 = time.monotonic()
    with lrwidget.connect(finder, address, TOKEN, timeout=0.3) as link:
        assert time.monotonic() - t0 < 2
        assert not link.connected
        r = finder.range_test(
            data, start_lr=1e-4, end_lr=1e-1, num_iter=300, step_fn=step, diverge_th=float("inf")
        )
        w = listener(address=address, token=TOKEN)
        got = w.wait(timeout=30)
        assert_same_result(got, r)
        wait_until(lambda: link.connected, 10, "the link to say it is connected")


def test_a_stalled_notebook_never_blocks_the_job_and_catches_up(tmp_path):
    """The notebook process is frozen (SIGSTOP) while the job runs 4000 fast steps: the job
    does not wait for it; once it runs again it shows every reading."""
    from tests.subproc import ROOT

    nb = tmp_path / "nb"
    nb.mkdir()
    (nb / "nb.py").write_text(
        "import json, sys, lrwidget\n"
        f"w = lrwidget.listen(display=False, token={TOKEN!r})\n"
        "open('address', 'w').write(w.address)\n"
        "r = w.wait(timeout=120)\n"
        "open('seen.json', 'w').write(json.dumps({'n': len(r), 'losses': r.losses.tolist(),"
        " 'readings': int(w._channel.call(lambda: w._channel.readings.n))}))\n"
        "w.close()\n"
    )
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1")
    proc = __import__("subprocess").Popen(
        [os.sys.executable, "nb.py"], cwd=nb, env=env, start_new_session=True
    )
    try:
        wait_until(
            lambda: (nb / "address").exists() and (nb / "address").read_text(),
            60,
            "the notebook to listen",
        )
        address = (nb / "address").read_text()
        finder, opt, data, step = _tiny()
        link = lrwidget.connect(finder, address, TOKEN, timeout=10)
        assert link.connected
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            done = []
            t = threading.Thread(
                target=lambda: done.append(
                    finder.range_test(
                        data,
                        start_lr=1e-4,
                        end_lr=1e-1,
                        num_iter=4000,
                        step_fn=step,
                        diverge_th=float("inf"),
                    )
                ),
                daemon=True,
            )
            t.start()
            t.join(60)
            assert done, "the range test waited for a frozen notebook"
            assert link._sending.queue.maxsize > 0  # bounded
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        proc.wait(60)
        link.close()
        import json

        seen = json.loads((nb / "seen.json").read_text())
        assert seen["n"] == seen["readings"] == 4000
        assert same(np.array(seen["losses"], dtype=float), done[0].losses)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


# ---------------------------------------------------------------------------- bad input
def test_connect_without_address_or_token_names_the_environment_variables(monkeypatch):
    finder, *_ = _tiny()
    monkeypatch.delenv("LRWIDGET_ADDRESS", raising=False)
    monkeypatch.delenv("LRWIDGET_TOKEN", raising=False)
    with pytest.raises(ValueError, match="LRWIDGET_ADDRESS"):
        lrwidget.connect(finder)
    monkeypatch.setenv("LRWIDGET_ADDRESS", "tcp://127.0.0.1:5999")
    with pytest.raises(ValueError, match="LRWIDGET_TOKEN"):
        lrwidget.connect(finder)
    monkeypatch.setenv("LRWIDGET_TOKEN", "short")
    with pytest.raises(ValueError, match="LRWIDGET_TOKEN must have at least 16"):
        lrwidget.connect(finder)
    monkeypatch.setenv("LRWIDGET_ADDRESS", "localhost:5999")
    with pytest.raises(ValueError, match='LRWIDGET_ADDRESS must be "tcp://HOST:PORT"'):
        lrwidget.connect(finder, token=TOKEN)


@pytest.mark.parametrize(
    "kw, exc, msg",
    [
        ({"address": "tcp://127.0.0.1:0"}, ValueError, "port must be 1..65535"),
        ({"address": "udp://127.0.0.1:5"}, ValueError, 'address must be "tcp://HOST:PORT"'),
        ({"address": 5}, TypeError, "address must be a str"),
        ({"token": 5}, TypeError, "token must be a str"),
        ({"timeout": -1}, ValueError, "timeout must be"),
        ({"timeout": "2"}, TypeError, "timeout must be"),
        ({"interval": 0}, ValueError, "interval must be"),
        ({"interval": 1e-4}, ValueError, r"interval must be >= 0\.01 seconds"),
    ],
)
def test_connect_refuses_bad_arguments_naming_them(kw, exc, msg):
    finder, *_ = _tiny()
    args = {"address": "tcp://127.0.0.1:5999", "token": TOKEN, **kw}
    with pytest.raises(exc, match=msg):
        lrwidget.connect(finder, **args)


def test_connect_refuses_what_is_not_a_finder():
    with pytest.raises(TypeError, match=r"finder must be an lrwidget\.LRFinder"):
        lrwidget.connect(object(), "tcp://127.0.0.1:5999", TOKEN)


@pytest.mark.parametrize(
    "kw, exc, msg",
    [
        ({"address": "tcp://127.0.0.1:70000"}, ValueError, "port must be 0..65535"),
        ({"address": "ipc:///tmp/x"}, ValueError, 'address must be "tcp://HOST:PORT"'),
        ({"token": "short"}, ValueError, "token must have at least 16"),
        ({"display": "yes"}, TypeError, "display must be True or False"),
        ({"liveness_timeout": 0}, ValueError, "liveness_timeout must be"),
    ],
)
def test_listen_refuses_bad_arguments_naming_them(kw, exc, msg):
    with pytest.raises(exc, match=msg):
        lrwidget.listen(**{"display": False, **kw})


def test_listen_on_a_port_in_use_says_so(listener):
    w = listener(token=TOKEN)
    with pytest.raises(OSError, match=f"cannot listen at {re.escape(w.address)}"):
        lrwidget.listen(address=w.address, display=False, replace=False)


def test_wait_for_choice_refuses_a_bad_timeout():
    finder, *_ = _tiny()
    with lrwidget.connect(finder, free_address(), TOKEN, timeout=0) as link:
        with pytest.raises(ValueError, match="timeout must be"):
            link.wait_for_choice(timeout=-1)


def test_wait_for_choice_without_a_notebook_or_a_suggestion_says_why():
    finder, *_ = _tiny()
    with lrwidget.connect(finder, free_address(), TOKEN, timeout=0) as link:
        with pytest.raises(RuntimeError, match="no range test"):
            link.wait_for_choice(timeout=0.1)


def test_processes_that_listen_or_connect_and_exit_without_closing_exit(tmp_path):
    """No close(): the atexit handlers close the widget, the listener and the link (a widget
    left to ipywidgets' __del__ at interpreter shutdown would wait forever for a thread)."""
    from tests.subproc import run_script

    r = run_script(
        f"""
        import lrwidget
        from torch import nn
        w = lrwidget.listen(display=False, token={TOKEN!r})
        m = nn.Linear(2, 1)
        finder = lrwidget.LRFinder(m, torch.optim.SGD(m.parameters(), lr=1e-3))
        link = lrwidget.connect(finder, w.address, {TOKEN!r}, timeout=10)
        print("CONNECTED", link.connected)
        """,
        tmp_path,
        timeout=60,
    )
    assert r.returncode == 0 and "CONNECTED True" in r.stdout, r.stdout + r.stderr


def test_a_choice_made_before_the_job_waits_is_kept_one_made_after_it_went_on_is_refused(listener):
    finder, opt, data, step = _tiny()
    w = listener(token=TOKEN)
    with lrwidget.connect(finder, w.address, TOKEN, timeout=10) as link:
        r = finder.range_test(
            data, start_lr=1e-4, end_lr=1e-1, num_iter=50, step_fn=step, diverge_th=float("inf")
        )
        w.wait(timeout=30)
        lr = float(r.lrs[10])
        held = []
        t = threading.Thread(target=lambda: held.append(w.apply(lr)), daemon=True)
        t.start()  # w.apply waits for the job's answer: the job is not waiting yet
        time.sleep(0.5)
        assert opt.param_groups[0]["lr"] == 1e-4  # not applied behind the job's back
        assert link.wait_for_choice(timeout=10) == lr == opt.param_groups[0]["lr"]
        t.join(10)
        assert held == [[lr]] and w.applied_lr == lr
        # the job went on: a later choice is refused at once, and the widget says why
        with pytest.raises(RuntimeError, match="already took lr="):
            w.apply(float(r.lrs[20]))
        assert opt.param_groups[0]["lr"] == lr
        comm_msg(w, {"type": "apply", "lr": float(r.lrs[30])})
        wait_until(lambda: "already took" in w.error, 10, "the widget to show the refusal")
        assert opt.param_groups[0]["lr"] == lr and w.applied_lr == lr


# ---------------------------------------------------------------------------- under attack
from lrwidget.remote import wire  # noqa: E402

zmq = pytest.importorskip("zmq")

FLOOD = """\
import json, os, time
import zmq
cfg = json.loads(os.environ["JOB_CONFIG"])
ctx = zmq.Context()
socks = []
for _ in range(cfg["connections"]):
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SNDHWM, 4)
    s.connect(cfg["address"])
    socks.append(s)
tag, sig = b"lrwidget/1", b"0" * 64  # no token: every signature is wrong
big = bytes(cfg["big"])              # far over the frame limit
near = bytes(cfg["near"])            # just under it
messages = [[tag, sig, b"{}", big], [tag, sig, b"{}", *[near] * 6], [tag, sig, near]]
t_end = time.monotonic() + cfg["seconds"]
sent = 0
while time.monotonic() < t_end:
    for s in socks:
        for m in messages:
            try:
                s.send_multipart(m, zmq.NOBLOCK, copy=False)
                sent += 1
            except zmq.Again:
                time.sleep(0.001)
print("SENT", sent, flush=True)
"""


@pytest.fixture
def zctx():
    """A ZeroMQ context for the test's own sockets: every one of them closed at the end."""
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_a_flood_of_big_unsigned_messages_does_not_grow_the_kernel(listener, tmp_path):
    w = listener(token=TOKEN)
    limit = 100 << 20
    cfg = {
        "address": w.address,
        "connections": 2,
        "seconds": 6,
        "big": 200 << 20,
        "near": wire.MAX_FRAME - 64,
    }
    before = peak = rss()
    with jobs.Job(tmp_path, FLOOD, config=cfg) as flood:
        while flood.proc.poll() is None:
            peak = max(peak, rss())
            if peak - before > limit:
                break  # failed: stop before the machine runs out of memory
            time.sleep(0.05)
        flood.kill()
        out = flood.output()
    assert peak - before < limit, f"+{(peak - before) >> 20} MB under attack\n{out}"
    assert "SENT" in out and int(line(out, r"SENT (\d+)").group(1)) > 10, out
    # and the listener still shows a job
    finder, opt, data, step = _tiny()
    with lrwidget.connect(finder, w.address, TOKEN, timeout=10) as link:
        assert link.connected
        r = finder.range_test(data, start_lr=1e-4, end_lr=1e-1, num_iter=30, step_fn=step)
        assert_same_result(w.wait(timeout=30), r)


def _signed(body: bytes, buffers=()) -> list:
    frames = [wire.TAG, b"", body, *buffers]
    frames[1] = wire.sign(TOKEN.encode(), [wire.TAG, body, *buffers])
    return frames


def _dealer(ctx, address, identity: bytes | None = None):
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    if identity is not None:
        s.setsockopt(zmq.IDENTITY, identity)
    s.connect(address)
    return s


def test_every_hostile_signed_message_leaves_the_listener_working(listener, zctx):
    w = listener(token=TOKEN)
    s = _dealer(zctx, w.address)
    big = "9" * 400
    deep = "[" * 100_000 + "]" * 100_000
    run = '"run_id":1,"num_iter":10,"start_lr":1e-4,"end_lr":1,"step_mode":"exp","t0":0'
    zeros = [bytes(8)] * 3
    watch = '"watch":1,"start":0,"events":[],'
    hostile = [
        (f'{{"kind":"hello","nbytes":[],"session":"evil","n":0,"pid":{big}}}', []),
        (f'{{"kind":"run","nbytes":[],"session":"evil","n":1,{run}}}', []),
        (f'{{"kind":"applied","nbytes":[],"session":"evil","n":2,"lrs":[{big}]}}', []),
        (f'{{"kind":"applied","nbytes":[],"session":"evil","n":3,"lrs":{deep}}}', []),
        (
            '{"kind":"readings","nbytes":[8,8,8],"session":"evil","n":4,"run_id":1,"seq":0,'
            '"start":4611686018427387904,"count":1,"elapsed":0}',
            zeros,
        ),
        (
            '{"kind":"readings","nbytes":[8,8,8],"session":"evil","n":5,"run_id":1,"seq":1,'
            f'"start":{wire.MAX_READINGS - 1},"count":1,"elapsed":0}}',
            zeros,
        ),
        # the doctor's watch messages (issue 18): counts, steps, events, nesting
        (f'{{"kind":"watch","nbytes":[8,8],"session":"evil","n":6,{watch}"count":2}}', zeros[:2]),
        (
            f'{{"kind":"watch","nbytes":[8,8],"session":"evil","n":7,{watch}"count":{big}}}',
            zeros[:2],
        ),
        (
            f'{{"kind":"watch","nbytes":[8,8],"session":"evil","n":8,"watch":1,"events":[],'
            f'"start":{2**53},"count":1}}',
            zeros[:2],
        ),
        (f'{{"kind":"watch","nbytes":[8],"session":"evil","n":9,{watch}"count":1}}', zeros[:1]),
        (
            '{"kind":"watch","nbytes":[8,8],"session":"evil","n":10,"watch":1,"start":0,'
            '"count":1,"events":[{"kind":"verdict","step":1,"verdict":"evil","reason":"",'
            '"evidence":"loss","since":null}]}',
            zeros[:2],
        ),
        (
            f'{{"kind":"watch","nbytes":[8,8],"session":"evil","n":11,"watch":1,"start":0,'
            f'"count":1,"events":[{{"kind":"action","step":1,"factor":0.1,"lrs":[{big}],'
            f'"rolled_back_to":null,"error":null}}]}}',
            zeros[:2],
        ),
        (
            f'{{"kind":"watch","nbytes":[8,8],"session":"evil","n":12,"watch":1,"start":0,'
            f'"count":1,"events":{deep}}}',
            zeros[:2],
        ),
        (
            f'{{"kind":"watch","nbytes":[8,8],"session":"evil","n":13,"watch":1,"start":0,'
            f'"count":1,"events":[{",".join(["{}"] * 65)}]}}',
            zeros[:2],
        ),
        (f'{{"kind":"heartbeat","nbytes":[],"session":{big},"n":14}}', []),
        (f'{{"kind":"heartbeat","nbytes":[],"session":"evil","n":{big}}}', []),
    ]
    for body, bufs in hostile:
        s.send_multipart(_signed(body.encode(), bufs))
    time.sleep(1.0)
    assert w._channel.call(lambda: w._channel.readings.n, timeout=10) <= 1
    assert w.finder._receiving.thread.is_alive() and w.finder._delivery.thread.is_alive()
    assert w.finder.watch.watch_id == 0 and w.finder.watch.step == 0  # no watch message taken
    finder, opt, data, step = _tiny()
    with lrwidget.connect(finder, w.address, TOKEN, timeout=10):
        r = finder.range_test(data, start_lr=1e-4, end_lr=1e-1, num_iter=30, step_fn=step)
        assert_same_result(w.wait(timeout=30), r)


def _fake_notebook(ctx):
    """A ROUTER bound where a link connects: the test plays the notebook."""
    r = ctx.socket(zmq.ROUTER)
    r.setsockopt(zmq.LINGER, 0)
    port = r.bind_to_random_port("tcp://127.0.0.1")
    return r, f"tcp://127.0.0.1:{port}"


def _recv_kind(sock, timeout: float):
    """(routing id, kind) of the next signed message, or None after ``timeout`` s."""
    if not sock.poll(timeout * 1000):
        return None
    frames = sock.recv_multipart()
    return frames[0], wire.unpack(TOKEN, frames[1:]).kind


def test_hostile_and_garbage_frames_leave_the_jobs_link_working_and_log_little(caplog, zctx):
    caplog.set_level(logging.WARNING, logger="lrwidget.remote")
    nb, address = _fake_notebook(zctx)
    finder, *_ = _tiny()
    with lrwidget.connect(finder, address, TOKEN, timeout=0) as link:
        got = _recv_kind(nb, 10)
        assert got is not None and got[1] == "hello"
        ident = got[0]
        deep = b'{"kind":"refused","reason":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        nb.send_multipart([ident, wire.TAG, b"", deep])  # unsigned, nested: a refusal?
        for i in range(200):
            nb.send_multipart([ident, b"garbage", str(i).encode()])
        for fields in ({"id": 1, "factor": 1e300, "rollback": "yes"}, {"id": [1] * 9}):
            nb.send_multipart([ident, *wire.pack(TOKEN, "scale_lr", fields)])  # no watch: refused
        nb.send_multipart([ident, *wire.pack("u" * 32, "scale_lr", {"id": 2, "factor": 0.1})])
        nb.send_multipart([ident, *wire.pack(TOKEN, "sync", {})])
        kinds = []
        t_end = time.monotonic() + 10
        while "state" not in kinds and time.monotonic() < t_end:
            got = _recv_kind(nb, 1)
            if got is not None:
                kinds.append(got[1])
        assert "state" in kinds, kinds
        assert link._sending.thread.is_alive() and link.refused is None
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) <= 5, [r.getMessage() for r in lines]


def test_a_new_connection_per_message_without_the_token_logs_a_few_lines(listener, caplog, zctx):
    caplog.set_level(logging.WARNING, logger="lrwidget.remote")
    w = listener(token=TOKEN)
    for _ in range(100):
        s = _dealer(zctx, w.address)
        s.send_multipart(wire.pack("x" * 32, "hello", {"session": "s", "n": 0}))
        s.send_multipart([b"garbage"])
        s.close(100)
    time.sleep(1.0)
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert 1 <= len(lines) <= 8, len(lines)
    assert any("another token" in r.getMessage() for r in lines)


def test_a_replayed_message_from_another_connection_does_not_take_the_jobs_place(listener, zctx):
    finder, opt, data, step = _tiny()
    w = listener(token=TOKEN)
    with lrwidget.connect(finder, w.address, TOKEN, timeout=10) as link:
        r = finder.range_test(data, start_lr=1e-4, end_lr=1e-1, num_iter=30, step_fn=step)
        w.wait(timeout=30)
        # the job's first message, as it went over the network, sent again by someone else,
        # who also names its connection after the job's session
        hello = wire.pack(
            TOKEN, "hello", dict(link._sending.hello(), session=link._sending.session, n=0)
        )
        thief = _dealer(zctx, w.address, identity=link._sending.session.encode())
        thief.send_multipart(hello)
        time.sleep(0.5)
        lr = float(r.lrs[10])
        chosen = []
        t = threading.Thread(
            target=lambda: chosen.append(link.wait_for_choice(timeout=20)), daemon=True
        )
        t.start()
        assert w.apply(lr) == [lr]
        t.join(10)
        assert chosen == [lr] == [opt.param_groups[0]["lr"]]
        assert not thief.poll(200), "the notebook sent something to the replayer"


def test_an_apply_the_job_takes_late_never_freezes_the_views_and_shows_when_taken(listener):
    finder, opt, data, step = _tiny()
    w = listener(token=TOKEN, apply_timeout=1.0)
    with lrwidget.connect(finder, w.address, TOKEN, timeout=10) as link:
        r = finder.range_test(data, start_lr=1e-4, end_lr=1e-1, num_iter=30, step_fn=step)
        w.wait(timeout=30)
        lr = float(r.lrs[12])
        comm_msg(w, {"type": "apply", "lr": lr})  # the job is not in wait_for_choice yet
        t0 = time.monotonic()
        w._channel.call(lambda: None, timeout=0.5)  # the writer is free: views update
        assert time.monotonic() - t0 < 0.5
        wait_until(lambda: "did not apply" in w.error, 10, "the timeout to show")
        assert w.applied_lr is None and w.pending_apply is False
        assert link.wait_for_choice(timeout=10) == lr  # the job takes it late
        wait_until(lambda: w.applied_lr == lr, 10, "the late apply to show")
        wait_until(lambda: w.error == "", 10, "the error to clear")
        assert opt.param_groups[0]["lr"] == lr


def test_listening_on_every_interface_warns(listener):
    with pytest.warns(UserWarning, match="every machine that can reach this one"):
        w = listener(address="tcp://0.0.0.0:0")
    assert w.address.startswith("tcp://0.0.0.0:")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        listener()  # loopback: no warning


def test_re_running_a_listen_cell_leaves_no_ports_or_threads_behind():
    made = []
    try:
        made.append(lrwidget.listen(display=False))
        base = threads()
        for _ in range(20):
            made.append(lrwidget.listen(display=False))
        # bounded: at most one more listener's worth (its 2 threads, ZeroMQ's 2), not 20
        wait_until(lambda: threads() <= base + 4, 10, f"threads to end ({base} -> {threads()})")
        for w in made[:-1]:
            host, port = w.address[len("tcp://") :].rsplit(":", 1)
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((host, int(port)), timeout=2).close()
        assert made[-1].finder._receiving.thread.is_alive()
        keep = lrwidget.listen(display=False, replace=False)
        made.append(keep)
        assert made[-2].finder._receiving.thread.is_alive()  # replace=False: both listen
    finally:
        for w in made:
            w.close()


def test_a_limited_log_line_says_how_many_like_it_were_left_out(caplog):
    from lrwidget.remote.transport import LogLimit

    caplog.set_level(logging.WARNING, logger="lrwidget.remote")
    limit = LogLimit(logging.getLogger("lrwidget.remote"), first=2, every=0.3)
    said = [limit.warning("refused %d", i) for i in range(50)]
    assert said == [True, True] + [False] * 48
    time.sleep(0.35)
    assert limit.warning("refused %d", 50)
    msgs = [r.getMessage() for r in caplog.records]
    assert msgs == [
        "refused 0",
        "refused 1",
        "refused 50 (and 48 more like it in the last 0.3 s, not logged)",
    ]

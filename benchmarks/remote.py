"""Cost of streaming a job's range test to a listening notebook, and how late its readings arrive.

Same conditions as ``benchmarks/overhead.py`` (MLP 64-64-10 on digits, batch 64, one torch
thread, 300 steps, medians of interleaved pairs whose order alternates):

(a) This process is the job. A notebook process (``lrwidget.listen()``, its widget's comm
    replaced by a counter, as no kernel runs here) listens on 127.0.0.1. Ratio: the range test
    with ``lrwidget.connect(finder, ...)`` to that notebook / the same range test not connected.
    Both timed from ``range_test`` call to return (connect and close are outside). Target <= 1.03.
(a') The same with a bare peer in place of the notebook (a ZeroMQ ROUTER that checks each message's
    signature and answers the job's hello, nothing else): what the job itself pays, without a
    second busy process on the same cores.
(b) The notebook is gone (its process was killed; its port is closed): the job connected to it
    / not connected. Target <= 1.03.
    Wall time, and CPU time of this process (the link's thread included: what the job pays).
(c) Lag: this process listens; a job in a subprocess (400 steps, 5 ms each) stamps each step's
    end with time.time(); the time each reading arrives here is taken (i) when the listening
    source hands it to its subscribers (the widget's channel) and (ii) when the widget sends it
    to the front end (the channel merges readings into a message every 0.1 s). Same machine,
    same clock. Target: median <= 250 ms.

Run: ``python benchmarks/remote.py [--pairs 21] [--steps 300]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from overhead import END, START, _clock, _since, data, fresh  # noqa: E402

import lrwidget  # noqa: E402
from lrwidget import LRFinder  # noqa: E402

TOKEN = "benchmark-token-0123456789"

NOTEBOOK = """\
import sys, lrwidget
w = lrwidget.listen(display=False, token=sys.argv[1])
w._send = lambda msg, buffers=None: None   # the comm: no kernel here
print(w.address, flush=True)
sys.stdin.read()                           # until the benchmark closes stdin
w.close()
"""

BARE_PEER = """\
import sys, zmq
from lrwidget.remote import wire
s = zmq.Context().socket(zmq.ROUTER)
s.bind("tcp://127.0.0.1:0")
print(s.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
while True:
    f = s.recv_multipart()
    m = wire.unpack(sys.argv[1], f[1:])
    if m.kind == "hello":
        s.send_multipart([f[0], *wire.pack(sys.argv[1], "sync")])
"""

LAG_JOB = """\
import json, sys, time, torch
torch.set_num_threads(1)
from torch import nn
import lrwidget
sys.path.insert(0, sys.argv[1])
from overhead import data, fresh
model, opt = fresh()
crit = nn.CrossEntropyLoss()
stamps = []

def step(m, b):
    time.sleep(0.005)
    loss = crit(m(b[0]), b[1])
    loss.item()
    stamps.append(time.time())   # the reading of this step is taken right after
    return loss

finder = lrwidget.LRFinder(model, opt, crit)
with lrwidget.connect(finder, timeout=10) as link:
    assert link.connected
    finder.range_test(data(), start_lr=1e-4, end_lr=0.5, num_iter=400, step_fn=step,
                      diverge_th=float("inf"))
json.dump(stamps, open("stamps.json", "w"))
"""


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")


def start_notebook(workdir, source=NOTEBOOK):
    script = Path(workdir) / "notebook.py"
    script.write_text(source)
    proc = subprocess.Popen(
        [sys.executable, str(script), TOKEN],
        cwd=workdir,
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    address = proc.stdout.readline().strip()
    if not address.startswith("tcp://"):
        proc.kill()
        raise RuntimeError(f"the notebook process did not start: {address!r}")
    return proc, address


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def plain(loader, steps, address=None):
    model, opt = fresh()
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    t = _clock()
    r = finder.range_test(
        loader, start_lr=START, end_lr=END, num_iter=steps, diverge_th=float("inf")
    )
    dt = _since(t)
    assert len(r) == steps
    return dt


def linked(loader, steps, address, live):
    model, opt = fresh()
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    link = lrwidget.connect(finder, address, TOKEN, timeout=5 if live else 0)
    try:
        if live and not link.connected:
            raise RuntimeError("the notebook did not answer")
        t = _clock()
        r = finder.range_test(
            loader, start_lr=START, end_lr=END, num_iter=steps, diverge_th=float("inf")
        )
        dt = _since(t)
    finally:
        link.close()
    assert len(r) == steps
    return dt


def pairs(loader, steps, n, address, live):
    wall, cpu = [], []
    for k in range(n):
        runs = [
            ("plain", lambda: plain(loader, steps)),
            ("linked", lambda: linked(loader, steps, address, live)),
        ]
        if k % 2:
            runs.reverse()  # alternate the order so drift does not favour one side
        t = {name: fn() for name, fn in runs}
        wall.append(t["linked"][0] / t["plain"][0])
        cpu.append(t["linked"][1] / t["plain"][1])
    return wall, cpu


def show(name, wall, cpu, target):
    med = statistics.median
    print(
        f"  {name}: wall {med(wall):.3f} [{min(wall):.3f}..{max(wall):.3f}]   "
        f"cpu-time {med(cpu):.3f} [{min(cpu):.3f}..{max(cpu):.3f}]   (target <= {target})"
    )


def lag(workdir):
    w = lrwidget.listen(display=False, token=TOKEN)
    arrived = np.full(400, np.nan)
    sent = np.full(400, np.nan)

    def on_event(ev):
        if type(ev).__name__ == "Readings":
            arrived[ev.start : ev.start + ev.count] = time.time()

    def on_send(msg, buffers=None):
        c = msg.get("content") if msg.get("method") == "custom" else None
        if c and c.get("type") == "readings" and not c.get("replay"):
            sent[c["start"] : c["start"] + c["count"]] = time.time()

    w._send = on_send
    unsubscribe = w.source.subscribe(on_event)
    script = Path(workdir) / "lag_job.py"
    script.write_text(textwrap.dedent(LAG_JOB))
    try:
        subprocess.run(
            [sys.executable, str(script), str(HERE)],
            cwd=workdir,
            check=True,
            timeout=300,
            env=dict(_env(), **w.env),
        )
        w.wait(timeout=30)
        w._channel.call(lambda: None)
    finally:
        unsubscribe()
        w.close()
    stamps = np.array(json.loads((Path(workdir) / "stamps.json").read_text()))
    return (arrived - stamps) * 1e3, (sent - stamps) * 1e3


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=21)
    p.add_argument("--steps", type=int, default=300)
    a = p.parse_args(argv)
    if a.pairs < 5:
        p.error("--pairs must be >= 5 (median of at least 5 interleaved pairs)")
    torch.set_num_threads(1)
    loader = data()
    with tempfile.TemporaryDirectory() as workdir:
        nb, address = start_notebook(workdir)
        try:
            for _ in range(2):  # warm-up
                plain(loader, 30), linked(loader, 30, address, True)
            print(
                f"(a) job streaming to a listening notebook (another process) / not connected:"
                f" MLP 64-64-10 on digits, 1 thread, {a.steps} steps, {a.pairs} pairs"
            )
            show("connected / not", *pairs(loader, a.steps, a.pairs, address, True), 1.03)
        finally:
            nb.stdin.close()
            stop(nb)
        peer, peer_address = start_notebook(workdir, BARE_PEER)
        try:
            print(
                "(a') the same with a bare peer (checks signatures, answers hello) for the notebook"
            )
            show("connected / not", *pairs(loader, a.steps, a.pairs, peer_address, True), 1.03)
        finally:
            stop(peer)
        print("(b) the notebook is gone (its process killed, its port closed)")
        show("connected to nobody / not", *pairs(loader, a.steps, a.pairs, address, False), 1.03)
        at_source, at_widget = lag(workdir)
    for name, ms in (
        ("reaches the listening source", at_source),
        ("sent by the widget to the front end", at_widget),
    ):
        ms = ms[np.isfinite(ms)]
        print(
            f"(c) lag from a step to its reading, {name}: median {np.median(ms):.0f} ms, "
            f"p95 {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms over {ms.size} readings"
            " (target: median <= 250 ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

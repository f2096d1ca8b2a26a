"""JupyterLab + headless Chromium: a notebook listens (``lrwidget.listen()``), starts a training
job with ``subprocess`` (torchrun, 2 ranks, gloo), the widget draws the job's range test live,
and a click + Apply reaches both ranks' optimizers (checked by the job's own output)."""

from __future__ import annotations

import os
import re
import signal
import time

LISTEN = """\
import os, pathlib, subprocess, sys
import lrwidget
w = lrwidget.listen(title="torchrun job, 2 ranks")
print("LISTEN", w.address)"""

JOB = '''\
JOB = """
import os, time, torch
torch.set_num_threads(1)
from torch import nn
import lrwidget
from lrwidget import LRFinder
from tests.digits import digits_sgd
torch.distributed.init_process_group("gloo")
rank = torch.distributed.get_rank()
model, opt, loader = digits_sgd()
crit = nn.CrossEntropyLoss()
def step(m, b):
    time.sleep(0.08)  # slow enough to watch the curve grow
    return crit(m(b[0]), b[1])
finder = LRFinder(model, opt, crit)
link = lrwidget.connect(finder, timeout=10)
print(f"CONNECTED rank={rank} socket={link.opened}", flush=True)
r = finder.range_test(loader, start_lr=1e-5, end_lr=10, num_iter=200, step_fn=step)
lr = link.wait_for_choice(timeout=180)
print(f"CHOICE rank={rank} lr={lr!r} held={opt.param_groups[0]['lr']!r}", flush=True)
link.close()
torch.distributed.destroy_process_group()
"""
pathlib.Path("job.py").write_text(JOB)
log = open("job.log", "w")
job = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone",
                        "--nproc_per_node=2", "--max_restarts=0", "job.py"],
                       env={**os.environ, **w.env, "OMP_NUM_THREADS": "1"},
                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
pathlib.Path("job.pid").write_text(str(job.pid))
print("JOB STARTED")'''

CHECK = """\
rc = job.wait(120)
log.close()
print("JOB EXIT", rc)
print(pathlib.Path("job.log").read_text())
print(f"APPLIED {w.applied_lr!r}")"""


def _kill_job(root) -> None:
    pid_file = root / "job.pid"
    if not pid_file.exists():
        return
    pgid = int(pid_file.read_text())
    try:
        os.killpg(pgid, signal.SIGKILL)  # the job's own process group: torchrun and its ranks
    except ProcessLookupError:
        return
    t0 = time.time()
    while time.time() - t0 < 10:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def test_a_torchrun_job_streams_to_listen_and_apply_reaches_both_ranks(
    jupyter, open_notebook, shot
):
    jupyter.write_notebook("remote.ipynb", [LISTEN, JOB, CHECK])
    nb = open_notebook("remote.ipynb")
    page = nb.page
    try:
        assert "LISTEN tcp://127.0.0.1:" in nb.run(0)
        root = nb.widget(0)
        root.wait_for(state="visible")
        assert nb.attr(root, "data-status") == "idle"

        assert "JOB STARTED" in nb.run(1)
        page.wait_for_function(
            "() => { const r = document.querySelector('.lrw-root');"
            " return r && r.dataset.status === 'running' && Number(r.dataset.readings) > 0; }",
            timeout=120_000,
        )
        n1 = int(nb.attr(root, "data-readings"))
        time.sleep(1.5)
        n2 = int(nb.attr(root, "data-readings"))
        status = nb.attr(root, "data-status")
        root.scroll_into_view_if_needed()
        shot(page, "remote_lab_running")
        assert status == "running", f"the job ended too soon to watch it ({status})"
        assert n2 > n1 > 0, f"readings did not grow while the job ran: {n1} -> {n2}"

        page.wait_for_function(
            "() => ['done', 'diverged'].includes("
            "document.querySelector('.lrw-root').dataset.status)",
            timeout=120_000,
        )
        page.wait_for_function(
            "n => { const r = document.querySelectorAll('.lrw-root');"
            " return r.length === 1 && Number(r[0].dataset.readings) >= n; }",
            arg=n2,
            timeout=15_000,
        )
        root = nb.widget(0)
        canvas = root.locator("canvas.lrw-canvas")
        box = canvas.bounding_box()
        canvas.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.5})
        page.wait_for_function(
            "() => /Selected /.test(document.querySelector('.lrw-root .lrw-sel').textContent)"
        )
        root.get_by_role("button", name="Apply").click()
        root.locator(".lrw-applied").filter(has_text="Applied").wait_for(timeout=60_000)
        root.scroll_into_view_if_needed()
        shot(page, "remote_lab_applied")

        out = nb.run(2, timeout=150)
        assert "JOB EXIT 0" in out, out
        applied = float(re.search(r"APPLIED (\S+)", out).group(1))
        assert "CONNECTED rank=1 socket=False" in out and "CONNECTED rank=0 socket=True" in out
        for rank in (0, 1):
            m = re.search(rf"CHOICE rank={rank} lr=(\S+) held=(\S+)", out)
            assert m, out
            assert float(m.group(1)) == float(m.group(2)) == applied, out
        tried = jupyter.kernel_eval(f"float({applied!r}) in w.result.lrs.tolist()")
        assert tried == "True"
    except Exception:
        shot(page, "remote_lab_failure")
        print(jupyter.log()[-3000:])
        raise
    finally:
        _kill_job(jupyter.root)

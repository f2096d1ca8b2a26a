"""JupyterLab + headless Chromium: a notebook listens (``lrwidget.listen()``), starts a training
job with ``subprocess`` (torchrun, 2 ranks, gloo), the widget draws the job's range test live,
and a click + Apply reaches both ranks' optimizers (checked by the job's own output)."""

from __future__ import annotations

import re
import secrets
import warnings

from lrwidget import LRFinder
from tests.browser.stable import into_view
from tests.jobs import MARK, kill_marked

# under torch.distributed the readings come a chunk at a time (every fetch_every steps, reduced
# over the ranks one step later): the gate lets a chunk and a step through before it holds
CHUNK = LRFinder.fetch_every

LISTEN = """\
import os, pathlib, subprocess, sys
import lrwidget
w = lrwidget.listen(title="torchrun job, 2 ranks")
print("LISTEN", w.address)"""

JOB = '''\
JOB = """
import os, torch
torch.set_num_threads(1)
from torch import nn
import lrwidget
from lrwidget import LRFinder
from tests.browser.gate import Hold
from tests.digits import digits_sgd
torch.distributed.init_process_group("gloo")
rank = torch.distributed.get_rank()
model, opt, loader = digits_sgd()
crit = nn.CrossEntropyLoss()
hold = Hold(os.environ["LRW_TEST_GATE"])  # the test watches the curve grow, then opens it
def step(m, b):
    hold()
    return crit(m(b[0]), b[1])
finder = LRFinder(model, opt, crit)
link = lrwidget.connect(finder, timeout=10)
# one write per line: the two ranks share job.log (an unbuffered print writes the newline apart)
print(f"CONNECTED rank={rank} socket={link.opened}\\\\n", end="", flush=True)
r = finder.range_test(loader, start_lr=1e-5, end_lr=10, num_iter=200, step_fn=step)
lr = link.wait_for_choice(timeout=180)
print(f"CHOICE rank={rank} lr={lr!r} held={opt.param_groups[0]['lr']!r}\\\\n", end="", flush=True)
link.close()
torch.distributed.destroy_process_group()
"""
from tests.jobs import EPILOGUE  # its last lines, as every test job's (tests.jobs.teardown_abort)
pathlib.Path("job.py").write_text(JOB + EPILOGUE)
for r in (0, 1):
    pathlib.Path(f"ended{r}").unlink(missing_ok=True)
log = open("job.log", "w")
job = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone",
                        "--nproc_per_node=2", "--max_restarts=0", "job.py"],
                       env={**os.environ, **w.env, "OMP_NUM_THREADS": "1", **job_env},
                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
print("JOB STARTED")'''

CHECK = """\
from tests.jobs import teardown_abort
rc = job.wait(120)
log.close()
text = pathlib.Path("job.log").read_text()
if rc and teardown_abort(".", 2, text):
    print("TEARDOWN ABORT", rc)
    rc = 0
print("JOB EXIT", rc)
print(text)
print(f"APPLIED {w.applied_lr!r}")"""


def test_a_torchrun_job_streams_to_listen_and_apply_reaches_both_ranks(
    jupyter, open_notebook, gate, shot
):
    # torchrun's workers run in sessions of their own: every process of the job carries this
    # marker in its environment and is killed by its pid at the end, whatever happened; the
    # ranks' steps wait on the test's gate
    mark = secrets.token_hex(8)
    job_env = {MARK: mark, "LRW_TEST_GATE": str(gate.path)}
    job = f"job_env = {job_env!r}\n" + JOB
    gate.allow(CHUNK + 4)
    jupyter.write_notebook("remote.ipynb", [LISTEN, job, CHECK])
    nb = open_notebook("remote.ipynb")
    page = nb.page
    try:
        assert "LISTEN tcp://127.0.0.1:" in nb.run(0)
        root = nb.widget(0)
        root.wait_for(state="visible")
        assert nb.attr(root, "data-status") == "idle"
        # until a job's run arrives, the widget says how a job connects, and never the token
        hint = root.locator(".lrw-hint")
        hint.wait_for(state="visible")
        text = hint.inner_text()
        address = jupyter.kernel_eval("w.address").strip("'")
        assert f"LRWIDGET_ADDRESS={address}" in text and "lrwidget.connect(finder)" in text, text
        assert jupyter.kernel_eval(f"w.token in {text!r}") == "False"
        shot(page, "remote_lab_waiting")

        assert "JOB STARTED" in nb.run(1)
        n = nb.watch_it_grow(root, gate, timeout=120, more=CHUNK)
        assert not hint.is_visible()
        shot(page, "remote_lab_running")
        gate.open()
        root = nb.wait_ended(n)
        nb.select_on_plot(root, 0.45)
        nb.apply(root, timeout=60)
        into_view(root)
        shot(page, "remote_lab_applied")

        out = nb.run(2, timeout=150)
        assert "JOB EXIT 0" in out, out
        if "TEARDOWN ABORT" in out:  # as tests.jobs.Job.end counts it
            warnings.warn(
                "both ranks ran the job's last line, then torch's teardown aborted one",
                stacklevel=1,
            )
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
        kill_marked(mark)

"""``LRFinderCallback(watch=True)`` in a job that reports to a notebook's ``lrwidget.listen()``
(issue 18): the fit's training streams to that widget, and its x0.1 button reaches the job's
optimizer. The job is a real Lightning fit in a process of its own (tests/jobs.py, killed by its
pid); the widget is the real one, its button sent through the path its comm uses.
"""

from __future__ import annotations

import os
import re

import pytest

pytest.importorskip("lightning.pytorch")
pytest.importorskip("zmq")

import lrwidget
from lrwidget.engine.watch_events import ActionTaken, Chunk
from tests import jobs
from tests.remote_jobs import job_env
from tests.widgets import Capture, comm_msg, wait_until

FIT_JOB = """\
import os, time
import torch
torch.set_num_threads(1)
import lightning.pytorch as pl
from lrwidget.integrations.lightning import LRFinderCallback
from tests.lightning_jobs import DigitsModule, digits_loader, quiet_trainer

class UntilStopped(pl.Callback):  # trains until the test says stop (a file), a little slowly
    def on_train_batch_end(self, trainer, *args):
        time.sleep(0.005)
        if os.path.exists("stop"):
            trainer.should_stop = True

cb = LRFinderCallback(end_lr=10, num_iter=30, choose="default", watch=True)
trainer = pl.Trainer(**quiet_trainer(".", max_steps=20000, callbacks=[cb, UntilStopped()]))
trainer.fit(DigitsModule(lr=1e-3), digits_loader())
actions = [(e.factor, e.error) for e in cb.watch.events if type(e).__name__ == "ActionTaken"]
lr = trainer.optimizers[0].param_groups[0]["lr"]
print(f"FINAL chosen={cb.chosen_lr!r} lr={lr!r} actions={actions!r}", flush=True)
"""


def test_a_fit_with_watch_true_streams_to_listen_and_its_button_reaches_the_job(tmp_path):
    w = lrwidget.listen(display=False)
    Capture(w)
    got: list = []
    w.finder.watch.listen(got.append)
    try:
        with jobs.Job(tmp_path, FIT_JOB, env=job_env(w)) as job:
            wait_until(lambda: w.finder.watch.step >= 48, 120, "the fit's steps")
            assert any(isinstance(e, Chunk) for e in got)
            comm_msg(w, {"type": "scale_lr", "factor": 0.1, "rollback": False})
            acted = lambda: [e for e in list(got) if isinstance(e, ActionTaken)]  # noqa: E731
            wait_until(acted, 60, "the job's action")
            assert acted()[0].factor == 0.1 and acted()[0].error is None, acted()
            open(os.path.join(job.dir, "stop"), "w").close()
            if job.wait(120) is None:
                raise AssertionError(f"the fit did not end:\n{job.output()}")
            out = job.output()
    finally:
        w.close()
    m = re.search(r"FINAL chosen=(\S+) lr=(\S+) actions=(.*)", out)
    assert m, out
    chosen, lr = float(m.group(1)), float(m.group(2))
    assert m.group(3) == "[(0.1, None)]", out
    # no schedule: the lr in use is the chosen one times 0.1, exactly as the watch wrote it
    assert lr == pytest.approx(chosen * 0.1, rel=1e-12), out

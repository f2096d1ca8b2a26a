"""Training jobs for the remote tests: a real LRFinder on the digits data in a process of its own.

Each job runs from a fresh directory, with this checkout on ``sys.path`` and one torch thread.
``Job`` is a context manager: on leaving it, whatever is left of the job (torchrun and its ranks
included) is killed by its pid (:class:`tests.jobs.Job`), so no test leaves a process behind,
even when it fails.

The job prints one line per milestone (``CONNECTED``, ``ENDED``, ``CHOICE``), with its logging
on stdout too (the lines the remote link logs, e.g. the default suggestion on a timeout), and
rank 0 saves its result to ``result.json`` in its directory.
"""

from __future__ import annotations

from tests import jobs

JOB = """\
import json, logging, os, sys, time
import torch
torch.set_num_threads(1)
from torch import nn
logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                    format="LOG %(name)s %(levelname)s %(message)s")
import lrwidget
from lrwidget import LRFinder
from tests.digits import digits_sgd

cfg = json.loads(os.environ["JOB_CONFIG"])
rank = int(os.environ.get("RANK", "0"))
world = int(os.environ.get("WORLD_SIZE", "1"))
if world > 1:
    torch.distributed.init_process_group("gloo")
model, opt, loader = digits_sgd()
if cfg.get("groups"):  # two param groups: the second keeps a tenth of the first's lr
    opt = torch.optim.SGD([{"params": model[0].parameters(), "lr": 1e-5},
                           {"params": model[2].parameters(), "lr": 1e-6}], momentum=0.9)
crit = nn.CrossEntropyLoss()
finder = LRFinder(model, opt, crit)

def step(m, batch):
    time.sleep(cfg["sleep"])  # slow enough for the test to act while the range test runs
    x, y = batch
    return crit(m(x), y)

try:
    link = lrwidget.connect(finder, timeout=cfg.get("connect_timeout", 10))
except PermissionError as e:
    print("REFUSED", e, flush=True)
    sys.exit(3)
print(f"CONNECTED rank={rank} world={world} socket={link.opened}", flush=True)
result = finder.range_test(loader, start_lr=1e-5, end_lr=10, num_iter=cfg["num_iter"],
                           step_fn=step)
if rank == 0:
    result.save("result.json")
print(f"ENDED rank={rank} reason={result.stop_reason} n={len(result)} "
      f"suggested={result.suggested_lr!r}", flush=True)
lr = link.wait_for_choice(timeout=cfg.get("wait", 60))
print(f"CHOICE rank={rank} lr={lr!r} held={[g['lr'] for g in opt.param_groups]!r} "
      f"by={link.chosen_by}", flush=True)
link.close()
if world > 1:
    torch.distributed.destroy_process_group()
print(f"DONE rank={rank}", flush=True)
"""


class Job(jobs.Job):
    """A job process (``ranks`` > 0: under torchrun with that many ranks, gloo).

    Parameters
    ----------
    workdir : path
        A fresh directory: the job's cwd, where it writes ``job.py``, ``out.txt`` and
        ``result.json``.
    env : dict
        Extra environment (``LRWIDGET_ADDRESS`` / ``LRWIDGET_TOKEN``).
    **config
        ``num_iter``, ``sleep`` (s per step), ``wait`` (wait_for_choice timeout), ``groups``,
        ``connect_timeout``.
    """

    def __init__(self, workdir, env, ranks: int = 0, **config):
        cfg = {"num_iter": 100, "sleep": 0.0, **config}
        super().__init__(workdir, JOB, ranks, config=cfg, env=env)

    def finish(self, timeout: float = 60) -> str:
        """Wait for the job to exit (killing it after ``timeout`` s); its output."""
        if self.wait(timeout) is None:
            self.kill()
            raise AssertionError(f"the job did not end within {timeout} s:\n{self.output()}")
        return self.output()


def job_env(widget) -> dict:
    """The environment that points a job at ``widget`` (``lrwidget.listen()``'s)."""
    return {"LRWIDGET_ADDRESS": widget.address, "LRWIDGET_TOKEN": widget.token}

"""Jobs in processes of their own for the multi-process tests (torchrun ranks, or one plain
process), each from a fresh directory, with this checkout on ``sys.path`` and one torch thread.

:class:`Job` writes the job's source to ``job.py`` in its directory and starts it there, its
stdout and stderr going to ``out.txt``; the job's scenario comes from ``JOB_CONFIG`` (JSON).
A job talks to a widget only when the ``env`` it is given says so (an inherited
``LRWIDGET_ADDRESS`` is dropped).

No process is left behind, whatever happens: torchrun starts its workers in sessions of their
own (so killing torchrun's process group does not reach them), so every process of a job
carries a marker in its environment (``LRWIDGET_TEST_JOB=<random id>``, inherited by each
worker) and, on a timeout and again at the end, every process that carries it is killed by its
pid, until none is left (:func:`kill_marked`).

torch's teardown after a job's last line has aborted a rank ("terminate called without an
active exception", SIGABRT, after ``destroy_process_group()``): in 3 of ~10 runs of the suite,
each time in another two-rank job, never in 90 runs of one of them alone; no thread of
lrwidget's is alive then, and faulthandler shows no Python frame left on any thread (the
interpreter's finalization; pytorch/pytorch#179291 describes how gloo's threads can meet it).
Every job ends with lines that write ``ended<RANK>`` (the threads still alive); :meth:`Job.end`
counts a job as ended well, with a warning in the test's report, when every rank wrote it with
no thread of lrwidget's alive, and torchrun saw only that abort and the SIGTERMs it then sent
(:func:`teardown_abort`). Any other failure is the test's.
"""

from __future__ import annotations

import glob
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = "LRWIDGET_TEST_JOB"


@dataclass
class Ended:
    """What a job left: its exit code, its output, how long it ran, each rank's record
    (``rank<r>.json``) and stderr (``err<r>.txt``), and its directory."""

    returncode: int | None  # None: killed after the timeout
    output: str
    seconds: float
    ranks: dict
    errs: dict
    dir: str
    teardown: int | None = None  # torchrun's exit code when only torch's teardown failed (0 above)


# A job's last line: this rank ran the whole job; it writes which threads are still alive
EPILOGUE = """
# tests/jobs.py: this rank ran the job's last line
import os as _jobs_os, threading as _jobs_threading
with open(f"ended{_jobs_os.environ.get('RANK', '')}", "w") as _jobs_f:
    _jobs_f.writelines(f"{t.name}\\n" for t in _jobs_threading.enumerate())
"""
TEARDOWN = "terminate called without an active exception"


def teardown_abort(workdir: str, ranks: int, output: str) -> bool:
    """Whether a torchrun job of ``ranks`` ranks that failed did so only in torch's teardown:
    every rank ran the job's last line (``ended<r>``) with no thread of lrwidget's still alive
    (one that sat in a collective at exit would be lrwidget's fault), a rank aborted with
    :data:`TEARDOWN`, and torchrun saw no other failure than that abort (SIGABRT, -6) and the
    SIGTERM (-15) it then sends the other ranks.

    >>> import tempfile; d = tempfile.mkdtemp()
    >>> for r in (0, 1):
    ...     with open(os.path.join(d, f"ended{r}"), "w") as f: _ = f.write("MainThread\\n")
    >>> out = TEARDOWN + "\\n  exitcode  : -15 (pid: 7)\\n  exitcode  : -6 (pid: 8)\\n"
    >>> teardown_abort(d, 2, out), teardown_abort(d, 2, out.replace("-15", "1"))
    (True, False)
    >>> teardown_abort(d, 2, "Traceback ...\\n  exitcode  : -6 (pid: 8)")
    False
    >>> with open(os.path.join(d, "ended1"), "a") as f: _ = f.write("lrwidget-arrive\\n")
    >>> teardown_abort(d, 2, out)
    False
    >>> os.remove(os.path.join(d, "ended1")); teardown_abort(d, 2, out)
    False
    """
    codes = re.findall(r"exitcode\s*:\s*(-?\d+)", output)
    if ranks < 1 or TEARDOWN not in output or "-6" not in codes:
        return False
    if not set(codes) <= {"-6", "-15"}:
        return False
    for r in range(ranks):
        try:
            with open(os.path.join(workdir, f"ended{r}")) as f:
                alive = f.read().split()
        except FileNotFoundError:
            return False
        if any(name.startswith("lrwidget") for name in alive):
            return False
    return True


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


class Job:
    """``source`` running in ``workdir``: under torchrun with ``ranks`` ranks (gloo), or as one
    plain process when ``ranks`` is 0.

    Use as a context manager: on leaving it every process of the job is killed by its pid.

    Parameters
    ----------
    workdir : path
        A fresh directory: the job's cwd, where it writes ``job.py`` and ``out.txt``.
    source : str
        The job's Python source (dedented).
    ranks : int
        torchrun's ``--nproc_per_node``; 0: no torchrun.
    config : dict
        The job's ``JOB_CONFIG``.
    env : dict
        Extra environment (``LRWIDGET_ADDRESS`` / ``LRWIDGET_TOKEN``).
    """

    def __init__(self, workdir, source: str, ranks: int = 0, config=None, env=None):
        self.dir = os.path.abspath(workdir)
        self.ranks = ranks
        os.makedirs(self.dir, exist_ok=True)
        script = os.path.join(self.dir, "job.py")
        for stale in glob.glob(os.path.join(self.dir, "ended*")):  # an earlier job's here
            os.remove(stale)
        with open(script, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(source).rstrip("\n") + "\n" + EPILOGUE)
        self.mark = secrets.token_hex(8)
        full = dict(
            os.environ,
            PYTHONPATH=ROOT,
            OMP_NUM_THREADS="1",
            PYTHONDONTWRITEBYTECODE="1",
            # a rank that dies of a signal (SIGABRT, SIGSEGV) prints every thread's Python stack
            # (see teardown_abort)
            PYTHONFAULTHANDLER="1",
            JOB_CONFIG=json.dumps(config or {}),
            **{MARK: self.mark},
        )
        full.pop("LRWIDGET_ADDRESS", None)
        full.update(env or {})
        torchrun = [
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={ranks}",
            "--max_restarts=0",
            "--monitor_interval=0.1",
        ]
        cmd = [sys.executable, *(torchrun if ranks else []), script]
        self.out_path = os.path.join(self.dir, "out.txt")
        self._out = open(self.out_path, "w")
        self.t0 = time.monotonic()
        self.seconds = 0.0
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.dir,
            env=full,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        with open(self.out_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait(self, timeout: float) -> int | None:
        """The job's exit code, or None when it still runs after ``timeout`` s."""
        try:
            rc: int | None = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            rc = None
        self.seconds = time.monotonic() - self.t0
        return rc

    def kill(self) -> None:
        """SIGKILL every process of the job (torchrun and its ranks), by pid."""
        kill_marked(self.mark)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass

    def end(self, timeout: float) -> Ended:
        """Wait for the job (killing every process of it after ``timeout`` s); what it left."""
        rc = self.wait(timeout)
        self.kill()
        teardown = None
        if rc and teardown_abort(self.dir, self.ranks, self.output()):
            teardown, rc = rc, 0
            warnings.warn(
                f"every rank of the job in {self.dir} ran its last line, then torch's teardown "
                f"aborted one ({TEARDOWN!r}; torchrun exit {teardown}): counted as ended well",
                stacklevel=2,
            )
        recs, errs = {}, {}
        for r in range(self.ranks):
            p = os.path.join(self.dir, f"rank{r}.json")
            if os.path.exists(p):
                with open(p) as f:
                    recs[r] = json.load(f)
            p = os.path.join(self.dir, f"err{r}.txt")
            if os.path.exists(p):
                with open(p, encoding="utf-8", errors="replace") as f:
                    errs[r] = f.read()
        return Ended(rc, self.output(), self.seconds, recs, errs, self.dir, teardown)

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.kill()
        finally:
            self._out.close()

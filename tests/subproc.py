"""Run a Python script in a child process: fault injection (signals, disk limits) that must not
touch the pytest process itself.

The script runs from a fresh directory (a stray file in a shared temp dir cannot shadow the stdlib),
with this checkout first on ``sys.path`` and one torch thread, under a hard timeout after which
``subprocess.run`` kills it (no process is left behind: the scripts start no children).
"""

import os
import signal
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PRELUDE = "import torch\ntorch.set_num_threads(1)\n"


def _interruptible() -> None:
    """In the child before exec: SIGINT back to its default. A process started in the background
    by a non-interactive shell (``cmd &``) ignores SIGINT, its children inherit that, and a
    Python that starts with SIGINT ignored never raises KeyboardInterrupt: the Ctrl-C tests
    would then test nothing (they failed so when .ci/run itself was started with ``&``)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_script(source: str, workdir, timeout: float = 120, args=()) -> subprocess.CompletedProcess:
    """Write ``source`` (dedented) to ``workdir/child.py`` and run it there; return the result."""
    workdir = os.fspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    script = os.path.join(workdir, "child.py")
    with open(script, "w", encoding="utf-8") as f:
        f.write(PRELUDE + textwrap.dedent(source))
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, script, *map(str, args)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_interruptible,
    )

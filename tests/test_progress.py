"""The progress bar of a range test (lrwidget/engine/progress.py): on in a terminal by default, off
elsewhere, forced with progress=True / False, updated off the training thread."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading

import pytest
import torch
from torch import nn

from lrwidget import LRFinder
from tests.subproc import PRELUDE, ROOT
from tests.terminal import read_pty

CHILD = """
import sys
import torch
from torch import nn
from lrwidget import LRFinder
torch.manual_seed(0)
m = nn.Linear(4, 1)
opt = torch.optim.SGD(m.parameters(), lr=1e-4)
data = [(torch.randn(8, 4), torch.randn(8, 1))]
progress = {"none": None, "false": False}[sys.argv[1]]
r = LRFinder(m, opt, nn.MSELoss()).range_test(data, end_lr=1e-2, num_iter=50, progress=progress)
print("READINGS", len(r), r.stop_reason, flush=True)
"""


def _in_a_terminal(tmp_path, arg: str) -> tuple[str, str]:
    """Run CHILD with a pseudo-terminal as its stderr; (stdout, what the terminal showed)."""
    script = tmp_path / "child.py"
    script.write_text(PRELUDE + CHILD)
    master, slave = pty.openpty()
    # a terminal of 120 x 40, as a person's is (a new pseudo-terminal has no size)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    try:
        proc = subprocess.Popen(
            [sys.executable, str(script), arg],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=slave,
            text=True,
        )
    finally:
        os.close(slave)
    shown: list[bytes] = []
    reader = read_pty(master, shown)
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(10)
        os.close(master)
    return out, b"".join(shown).decode("utf-8", "replace")


def test_in_a_terminal_a_range_test_shows_a_bar_by_default(tmp_path):
    out, shown = _in_a_terminal(tmp_path, "none")
    n, reason = out.split()[1:3]
    assert "lr range test" in shown, shown
    assert f"{n}/50" in shown and reason in shown and "lr=" in shown and "loss=" in shown, shown


def test_progress_false_shows_nothing_even_in_a_terminal(tmp_path):
    out, shown = _in_a_terminal(tmp_path, "false")
    assert out.startswith("READINGS")
    assert "lr range test" not in shown, shown


def _setup():
    torch.manual_seed(0)
    m = nn.Linear(4, 1)
    opt = torch.optim.SGD(m.parameters(), lr=1e-4)
    data = [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(3)]
    return m, opt, data, LRFinder(m, opt, nn.MSELoss())


def test_no_bar_by_default_when_standard_error_is_not_a_terminal(capsys):
    m, opt, data, finder = _setup()
    finder.range_test(data, end_lr=1e-2, num_iter=30)
    assert capsys.readouterr().err == ""


def test_progress_true_shows_the_steps_lr_loss_and_why_it_ended(capsys):
    m, opt, data, finder = _setup()
    r = finder.range_test(data, end_lr=100.0, num_iter=200, progress=True)
    err = capsys.readouterr().err
    assert r.stop_reason == "diverged"
    assert f"{len(r)}/200" in err and "diverged" in err, err
    assert "lr range test" in err and "lr=" in err and "loss=" in err, err


def test_a_tracked_loop_shows_the_bar_too(capsys):
    m, opt, data, finder = _setup()
    with finder.track(end_lr=1e-2, num_iter=20, progress=True) as run:
        for _lr in run:
            opt.zero_grad()
            loss = nn.functional.mse_loss(m(data[0][0]), data[0][1])
            loss.backward()
            opt.step()
            run.record(loss)
    err = capsys.readouterr().err
    assert "20/20" in err and "completed" in err, err


class _Sink:
    """A standard error that remembers which thread wrote each piece."""

    def __init__(self):
        self.writes: list[tuple[str, str]] = []

    def write(self, s):
        self.writes.append((threading.current_thread().name, s))
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return False


def test_the_bar_is_updated_from_the_stream_thread_not_the_training_loop(monkeypatch):
    sink = _Sink()
    monkeypatch.setattr(sys, "stderr", sink)
    m, opt, data, finder = _setup()
    r = finder.range_test(data, end_lr=1e-2, num_iter=300, progress=True)
    assert len(r) == 300
    training = threading.current_thread().name
    counts = [(who, s) for who, s in sink.writes if "/300" in s]
    # the training thread only draws the empty bar when the test starts
    assert all("0/300" in s for who, s in counts if who == training), counts
    assert any(who == "lrwidget-stream" and "300/300" in s for who, s in counts), counts
    # far fewer draws than steps: one per update interval at most
    assert len(counts) < 300 / 4, len(counts)


@pytest.mark.parametrize("bad", ["yes", 1, 0.0])
def test_a_bad_progress_is_refused_before_any_step(bad):
    m, opt, data, finder = _setup()
    before = m.weight.detach().clone()
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        finder.range_test(data, num_iter=10, progress=bad)
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        finder.track(num_iter=10, progress=bad)
    assert torch.equal(m.weight, before) and not finder.running

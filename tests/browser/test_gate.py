"""The gate the browser tests hold a run's steps with (tests/browser/gate.py): steps run up to the
count allowed and wait there, the rest run once it opens; no browser needed."""

from __future__ import annotations

import threading
import time

from tests.browser.gate import FIRST, Gate, held, wait_until


def _run_steps(path, n: int) -> tuple[list[int], threading.Thread]:
    done: list[int] = []
    step = held(lambda i: done.append(i), path)
    t = threading.Thread(target=lambda: [step(i) for i in range(n)], daemon=True)
    t.start()
    return done, t


def test_steps_wait_at_the_count_allowed_and_run_once_it_opens(tmp_path):
    gate = Gate(tmp_path / "steps.gate")
    done, t = _run_steps(gate.path, 50)
    wait_until(lambda: len(done) == FIRST, f"{FIRST} steps", timeout=10)
    time.sleep(0.2)  # a gate that leaks lets more through meanwhile
    assert len(done) == FIRST, done
    gate.more(3)
    wait_until(lambda: len(done) == FIRST + 3, f"{FIRST + 3} steps", timeout=10)
    time.sleep(0.2)
    assert len(done) == FIRST + 3 and t.is_alive(), done
    gate.open()
    t.join(10)
    assert not t.is_alive() and done == list(range(50))


def test_wait_until_says_what_it_waited_for():
    try:
        wait_until(lambda: False, "the moon", timeout=0.1)
    except AssertionError as e:
        assert "the moon" in str(e)
    else:
        raise AssertionError("wait_until returned for a condition never met")

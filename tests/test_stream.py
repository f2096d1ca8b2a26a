import threading
import time

import numpy as np

from lrwidget.engine.history import History
from lrwidget.engine.stream import Readings, RunEnded, RunStarted, Stream


def _started(n=1000):
    return RunStarted(7, n, 1e-5, 1.0, "exp", time.time())


def _check_sequence(events, history, run_id=7):
    assert isinstance(events[0], RunStarted)
    readings = [e for e in events if isinstance(e, Readings)]
    assert all(isinstance(e, Readings) for e in events[1:-1])
    assert [e.seq for e in readings] == list(range(len(readings)))
    assert all(e.run_id == run_id for e in readings)
    pos = 0
    for e in readings:
        assert e.start == pos and e.count > 0
        pos += e.count
    assert pos == history.n
    for name in ("lrs", "losses", "smoothed"):
        got = np.concatenate([getattr(e, name) for e in readings])
        np.testing.assert_array_equal(got, getattr(history, name)[: history.n])
    return readings


def test_batches_arrive_in_order_and_complete_while_writing():
    n = 3000
    h = History(n, 0.05)
    events, threads = [], set()

    def cb(e):
        threads.add(threading.get_ident())
        events.append(e)

    s = Stream(cb, 0.01, h, _started(n)).start()
    for i in range(n):
        h.append(1e-5 * 1.01**i, 1.0 + np.sin(i))
        if i % 300 == 0:
            time.sleep(0.02)  # let the stream thread see partial histories
    s.finish(RunEnded(7, "completed", None, None, 1.0))
    assert isinstance(events[-1], RunEnded)
    readings = _check_sequence(events, h)
    assert 2 <= len(readings) < n // 10  # batched, not one event per reading
    assert threading.get_ident() not in threads


def test_arrays_are_copies():
    h = History(10, 0.0)
    events = []
    s = Stream(events.append, 0.01, h, _started(10)).start()
    h.append(0.1, 1.0)
    s.finish(None)
    r = next(e for e in events if isinstance(e, Readings))
    h.losses[0] = 99.0
    assert r.losses[0] == 1.0


def test_a_raising_subscriber_keeps_getting_events(capsys, caplog):
    h = History(100, 0.05)
    seen = []

    def cb(e):
        seen.append(e)
        raise RuntimeError("subscriber bug")

    s = Stream(cb, 0.005, h, _started(100)).start()
    for i in range(100):
        h.append(0.1, 1.0)
        if i % 20 == 0:
            time.sleep(0.01)
    s.finish(RunEnded(7, "completed", None, None, 1.0))
    assert isinstance(seen[0], RunStarted) and isinstance(seen[-1], RunEnded)
    assert sum(e.count for e in seen if isinstance(e, Readings)) == 100
    assert s.errors == len(seen)
    # reported through logging (the first 3, with their traceback), not printed to stderr
    recs = [r for r in caplog.records if r.name == "lrwidget.stream"]
    assert len(recs) == 3
    assert all(r.levelname == "ERROR" and "subscriber bug" in str(r.exc_info[1]) for r in recs)
    assert capsys.readouterr().err == ""


def test_cancel_stops_without_run_ended():
    h = History(10, 0.05)
    events = []
    s = Stream(events.append, 0.01, h, _started(10)).start()
    s.cancel()
    s._thread.join(1)
    assert not s._thread.is_alive()
    assert not any(isinstance(e, RunEnded) for e in events)


def test_nan_and_inf_pass_through():
    h = History(3, 0.05)
    events = []
    s = Stream(events.append, 0.01, h, _started(3)).start()
    h.append(0.1, 1.0)
    h.append(0.2, float("nan"))
    h.append(0.3, float("inf"))
    s.finish(None)
    losses = np.concatenate([e.losses for e in events if isinstance(e, Readings)])
    assert losses[0] == 1.0 and np.isnan(losses[1]) and losses[2] == np.inf

"""Two range tests on one finder at once: exactly one runs, the other is refused untouched.

Real threads released together by a barrier, on a real model, many times: the check "is the
finder free" and taking it must be one step, before the snapshot or anything else is touched.
"""

import threading

import pytest
import torch
from torch import nn

from lrwidget import LRFinder

TRIES = 25


def _watch_threads(model, opt):
    """Per thread id: forwards and optimizer steps run by that thread."""
    seen = {}
    lock = threading.Lock()

    def count(kind):
        def hook(*_):
            with lock:
                d = seen.setdefault(threading.get_ident(), {"forward": 0, "step": 0})
                d[kind] += 1

        return hook

    model.register_forward_hook(count("forward"))
    opt.register_step_pre_hook(count("step"))
    return seen


class _Overlap:
    """Makes the two calls overlap whatever the machine's load: a job that got as far as its
    first batch (it took the finder) waits there until every other job has either got as far or
    ended. Without it, on a loaded machine one 8-step test could end before the other thread was
    scheduled, and the second would then rightly run too (CI saw it under 3 pytest workers)."""

    def __init__(self, n: int):
        self.reached = [False] * n
        self.ended = [False] * n
        self.cond = threading.Condition()

    def _mark(self, flags, k: int) -> None:
        with self.cond:
            flags[k] = True
            self.cond.notify_all()

    def arrive(self, k: int) -> None:
        self._mark(self.reached, k)
        with self.cond:
            others = [j for j in range(len(self.reached)) if j != k]
            done = lambda: all(self.reached[j] or self.ended[j] for j in others)  # noqa: E731
            assert self.cond.wait_for(done, timeout=60), "the other call never came"

    def end(self, k: int) -> None:
        self._mark(self.ended, k)

    def loader(self, k: int, loader):
        """``loader`` whose first batch waits at :meth:`arrive` (a generator: it runs on the first
        ``next``, inside the test, after the finder was taken)."""
        overlap = self

        class Held:
            def __iter__(self):
                overlap.arrive(k)
                yield from loader

            def __len__(self):
                return len(loader)

        return Held()


def _race(overlap, *jobs):
    """Run every job in its own thread, released together; per job (ident, error or None)."""
    barrier = threading.Barrier(len(jobs))
    out = [None] * len(jobs)

    def runner(k, job):
        barrier.wait()
        try:
            job()
            out[k] = (threading.get_ident(), None)
        except BaseException as e:  # collected and asserted on by the test
            out[k] = (threading.get_ident(), e)
        finally:
            overlap.end(k)

    threads = [threading.Thread(target=runner, args=(k, j)) for k, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), "a range test thread hung"
    return out


def _track_job(finder, model, opt, loader, num_iter):
    def job():
        batches = iter(loader)
        with finder.track(start_lr=1e-4, end_lr=1e-2, num_iter=num_iter) as run:
            for _ in run:
                x, y = next(batches)
                opt.zero_grad()
                loss = nn.functional.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                run.record(loss)

    return job


def _range_job(finder, loader, num_iter):
    return lambda: finder.range_test(loader, start_lr=1e-4, end_lr=1e-2, num_iter=num_iter)


@pytest.mark.parametrize(
    "kinds", [("range_test", "range_test"), ("range_test", "track"), ("track", "track")]
)
def test_two_tests_started_together_one_runs_the_other_is_refused(
    make_mlp, make_loader, full_state, assert_same_state, kinds
):
    model = make_mlp(dropout=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    seen = _watch_threads(model, opt)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    before = full_state(model, opt)
    for attempt in range(TRIES):
        seen.clear()
        overlap = _Overlap(len(kinds))
        loaders = [overlap.loader(k, make_loader(seed=k)) for k in range(len(kinds))]
        jobs = [
            (
                _range_job(finder, loaders[k], 8)
                if kind == "range_test"
                else _track_job(finder, model, opt, loaders[k], 8)
            )
            for k, kind in enumerate(kinds)
        ]
        out = _race(overlap, *jobs)
        errors = [e for _, e in out if e is not None]
        ran = [ident for ident, e in out if e is None]
        assert len(ran) == 1 and len(errors) == 1, f"try {attempt}: {out}"
        assert isinstance(errors[0], RuntimeError), f"try {attempt}: {errors[0]!r}"
        assert "already running on this LRFinder" in str(errors[0])
        refused = next(ident for ident, e in out if e is not None)
        # the refused caller trained nothing (its thread ran no forward and no step)
        assert seen.get(refused, {"forward": 0, "step": 0}) == {"forward": 0, "step": 0}
        assert seen[ran[0]]["step"] == 8
        assert not finder.running
        assert_same_state(full_state(model, opt), before)
        assert finder.result.stop_reason == "completed" and len(finder.result) == 8


def test_check_range_test_args_from_another_thread_sees_the_claim(mlp, digits_loader):
    # a pre-check in another thread while a test runs says busy, with the same message
    finder = LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=1e-4), nn.CrossEntropyLoss())
    errors = []

    def step(m, batch):
        if not errors:
            t = threading.Thread(
                target=lambda: _collect(errors, finder.check_range_test_args, digits_loader)
            )
            t.start()
            t.join()
        return nn.functional.cross_entropy(m(batch[0]), batch[1])

    finder.range_test(digits_loader, end_lr=1e-2, num_iter=3, step_fn=step)
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    assert "already running on this LRFinder" in str(errors[0])


def _collect(errors, fn, *args):
    try:
        fn(*args)
    except BaseException as e:
        errors.append(e)

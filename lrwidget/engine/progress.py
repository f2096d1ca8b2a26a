"""A range test's progress bar in a terminal (tqdm): step i/N, lr, smoothed loss, ETA, and why
it ended.

The bar is one more subscriber of the run's events: a :class:`lrwidget.engine.stream.Stream` thread
updates it about every :data:`INTERVAL` seconds from the readings already written, so the
training loop does nothing for it (no call per step). It is created on the thread that started
the test (where tqdm.auto decides between a terminal and a notebook bar) and closed by the
run's ``RunEnded``, after the model and optimizer were restored.

When it shows (``progress`` of ``range_test`` / ``track``): True always, False never, None (the
default) when standard error is a terminal (tqdm's own rule for ``disable=None``): a script or a
torchrun job started from a shell, not a notebook (whose widget is the view) nor a job whose
output goes to a file. Under torch.distributed only rank 0 shows it.

Example
-------
>>> import io; import numpy as np
>>> from lrwidget.engine.stream import Readings, RunEnded, RunStarted
>>> out = io.StringIO()
>>> bar = ProgressBar(RunStarted(1, 4, 1e-3, 1.0, "exp", 0.0), file=out)
>>> bar(Readings(1, 0, 0, np.array([1e-3, 1e-2]), np.array([2.0, 1.5]), np.array([2.0, 1.7]), 0.1))
>>> bar(RunEnded(1, "diverged", None, None, 0.2))
>>> out.getvalue().rstrip().rsplit("\\r", 1)[-1]  # doctest: +ELLIPSIS
'lr range test:  50%|...| 2/4 [...step/s, lr=1e-2, loss=1.7, diverged]'
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from ..pure.rules import format_loss, format_lr
from .stream import Readings, RunEnded, RunStarted

__all__ = ["ProgressBar", "wanted", "check_progress", "INTERVAL"]

#: seconds between two updates of the bar
INTERVAL = 0.1


def check_progress(progress: Any) -> None:
    """Refuse a ``progress`` that is not True, False or None.

    Example
    -------
    >>> check_progress("yes")
    Traceback (most recent call last):
    ...
    TypeError: progress must be True, False or None (None: a bar when standard error is a terminal), got 'yes'
    """  # noqa: E501
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(
            "progress must be True, False or None (None: a bar when standard error is a "
            f"terminal), got {progress!r}"
        )


def wanted(progress: bool | None, rank: int = 0, stream: Any = None) -> bool:
    """Whether a test shows a bar: never on a rank other than 0; ``progress`` when it is a bool;
    for None, whether ``stream`` (default: ``sys.stderr``) is a terminal.

    Example
    -------
    >>> import io
    >>> wanted(True), wanted(True, rank=1), wanted(None, stream=io.StringIO())
    (True, False, False)
    """
    if rank != 0 or progress is False:
        return False
    if progress:
        return True
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream: not a terminal
        return False


class ProgressBar:
    """A tqdm bar fed by a run's events (call it with each event).

    Parameters
    ----------
    started : RunStarted
        The run it shows (its ``num_iter`` is the bar's total).
    file : file-like, optional
        Where a terminal bar is written (default: ``sys.stderr`` now).
    """

    def __init__(self, started: RunStarted, file: TextIO | None = None):
        try:
            from tqdm.auto import tqdm  # type: ignore[import-untyped]
        except ImportError as e:  # pragma: no cover - tqdm is a dependency
            raise ImportError(
                "the progress bar needs tqdm: pip install tqdm (or pass progress=False)"
            ) from e
        self.total = started.num_iter
        self.shown = 0
        self.post = ""
        self.bar = tqdm(
            total=started.num_iter,
            desc="lr range test",
            unit="step",
            file=sys.stderr if file is None else file,
            mininterval=INTERVAL,
            dynamic_ncols=True,
            leave=True,
        )

    def __call__(self, event: Any) -> None:
        if isinstance(event, Readings):
            end = event.start + event.count
            if end > self.shown:
                lr = float(event.lrs[-1])
                loss = float(event.smoothed[-1])
                self.post = f"lr={format_lr(lr)}, loss={format_loss(loss)}"
                self.bar.set_postfix_str(self.post, refresh=False)
                self.bar.update(end - self.shown)
                self.shown = end
        elif isinstance(event, RunEnded):
            why = event.stop_reason
            if event.error:
                why = f"error: {event.error}"
            self.bar.set_postfix_str(f"{self.post}, {why}" if self.post else why, refresh=False)
            self.bar.close()

"""A real terminal for standard error (a pseudo-terminal), for the lines a watch prints only
where a person reads them (``sys.stderr.isatty()``)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator


def read_pty(master: int, chunks: list[bytes]) -> threading.Thread:
    """A started thread appending what the pty ``master`` reads to ``chunks`` until its
    terminal side closes (a pty's buffer is small: it must be read as it is written)."""

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the terminal side closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    return reader


def check_watch_lines(lines: list[str], events: list) -> None:
    """The terminal shows one ``lrwidget watch:`` line per verdict change, the first exactly."""
    printed = [ln for ln in lines if ln.startswith("lrwidget watch:")]
    assert events, "no verdict after 96 steps"
    e = events[0]
    assert printed[0] == f"lrwidget watch: step {e.step}: {e.verdict}: {e.reason}", lines
    assert len(printed) == len(events)


@contextlib.contextmanager
def terminal_stderr() -> Iterator[list[str]]:
    """``sys.stderr`` is a pty's terminal inside; afterwards the list holds what was written,
    one entry per line (the terminal's ``\\r\\n`` read as a line end)."""
    master, slave = os.openpty()
    tty = os.fdopen(slave, "w", buffering=1)
    chunks: list[bytes] = []
    reader = read_pty(master, chunks)
    lines: list[str] = []
    kept = sys.stderr
    sys.stderr = tty
    try:
        yield lines
    finally:
        sys.stderr = kept
        tty.close()
        reader.join(10)
        os.close(master)
        lines.extend(b"".join(chunks).decode(errors="replace").splitlines())

"""A real terminal for standard error (a pseudo-terminal), for the lines a watch prints only
where a person reads them (``sys.stderr.isatty()``)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def terminal_stderr() -> Iterator[list[str]]:
    """``sys.stderr`` is a pty's terminal inside; afterwards the list holds what was written,
    one entry per line (the terminal's ``\\r\\n`` read as a line end)."""
    master, slave = os.openpty()
    tty = os.fdopen(slave, "w", buffering=1)
    chunks: list[bytes] = []

    def drain() -> None:  # a pty's buffer is small: read as it is written
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

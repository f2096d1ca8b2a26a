"""The files the engine writes: a snapshot's cache file (``memory_cache=False``), written whole
or not at all (:func:`write_file`), and the one way such a file is removed (:func:`remove_file`:
also a saved result's temporary file).

A cache file that cannot be written (disk full, a size limit, ``cache_dir`` missing) raises
:class:`SnapshotWriteError` naming the OS's reason, and no partial ``lrwidget-snapshot-*.pt``
is left behind.
"""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

__all__ = ["SnapshotWriteError", "remove_file", "write_file"]

log = logging.getLogger("lrwidget.snapshot")


class SnapshotWriteError(OSError):
    """:meth:`Snapshot.capture` could not write its cache file; nothing is left in ``cache_dir``.

    ``errno`` is the underlying error's (e.g. ``errno.ENOSPC``, ``errno.EFBIG``) when there is
    one; ``__cause__`` is the underlying exception.
    """


def write_file(data: dict[str, Any], cache_dir: str | os.PathLike[str] | None) -> str:
    """torch.save ``data`` to a new file under ``cache_dir``; on any failure remove it."""
    import torch  # here: history.py (no torch) takes remove_file from this module

    where = os.fspath(cache_dir) if cache_dir else tempfile.gettempdir()
    path = None
    try:
        fd, path = tempfile.mkstemp(prefix="lrwidget-snapshot-", suffix=".pt", dir=where)
        # a Python file object: a failed write then surfaces as the OSError (EFBIG, ENOSPC)
        # behind torch's own error, which names neither
        with os.fdopen(fd, "wb") as f:
            torch.save(data, f)
    except BaseException as e:
        if path is not None:
            remove_file(path, "the snapshot file", log)
        if not isinstance(e, Exception):
            raise
        raise _write_error(where, e) from e
    return path


def _write_error(where: str, e: Exception) -> SnapshotWriteError:
    cause = _os_error(e)
    why = (cause.strerror or str(cause)) if cause is not None else f"{type(e).__name__}: {e}"
    err = SnapshotWriteError(
        f"could not write the snapshot to {where}: {why} (pass a "
        "cache_dir with room to write, or memory_cache=True)"
    )
    err.errno = None if cause is None else cause.errno
    return err


def _os_error(e: BaseException) -> OSError | None:
    seen = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, OSError):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


def remove_file(path: str, what: str, logger: logging.Logger) -> None:
    """Delete a file the engine wrote: one already gone is no error, another failure only a
    warning on ``logger`` naming ``what`` it was (the caller's error, if any, is the news)."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        logger.warning("could not remove %s %s: %s", what, path, e)

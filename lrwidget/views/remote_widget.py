"""The notebook side of a remote range test, its widget: :func:`listen` shows a widget that
draws a job in another process, through a :class:`~lrwidget.remote.source.RemoteSource`.

Example
-------
>>> w = listen(display=False)
>>> w.address.startswith("tcp://127.0.0.1:"), len(w.token), w.status
(True, 64, 'idle')
>>> sorted(w.env)
['LRWIDGET_ADDRESS', 'LRWIDGET_TOKEN']
>>> w.close()
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any

from ..remote.source import DEFAULT_ADDRESS, RemoteSource
from ..remote.transport import ENV_ADDRESS, ENV_TOKEN, closed_at_exit
from .widget import LRFinderWidget

__all__ = ["listen", "RemoteWidget", "connect_hint"]

log = logging.getLogger("lrwidget.remote")

# Closed at exit before the sources (their registry is older), while threads can still start:
# a widget left open is closed again by ipywidgets' __del__ during interpreter finalization,
# where its channel could not start the writer thread it waits for (the process would hang).
_open_widgets = closed_at_exit()
_listened: weakref.WeakSet = weakref.WeakSet()  # what listen() opened (replace=True closes)


def connect_hint(address: str) -> str:
    """What the ``listen()`` widget shows until a job's run arrives: how a job connects.

    The token is never in it (the widget's state is saved with the notebook): it says where the
    token is instead (``w.token``, ``w.env``).

    >>> print(connect_hint("tcp://127.0.0.1:5555"))
    Waiting for a job at tcp://127.0.0.1:5555
    In the job: link = lrwidget.connect(finder); finder.range_test(...); link.wait_for_choice()
    Run it: LRWIDGET_ADDRESS=tcp://127.0.0.1:5555 LRWIDGET_TOKEN=... python train.py
    The token: this widget's .token (not shown); from here: env={**os.environ, **w.env}
    """
    return (
        f"Waiting for a job at {address}\n"
        "In the job: link = lrwidget.connect(finder); finder.range_test(...); "
        "link.wait_for_choice()\n"
        f"Run it: {ENV_ADDRESS}={address} {ENV_TOKEN}=... python train.py\n"
        "The token: this widget's .token (not shown); from here: env={**os.environ, **w.env}"
    )


class RemoteWidget(LRFinderWidget):
    """The widget :func:`listen` returns: an :class:`~lrwidget.LRFinderWidget` of a
    :class:`RemoteSource`, with where it listens.

    ``run()`` is not for it (the job runs its range test); ``wait()``, ``apply()``, ``stop()``,
    ``select()`` and the view work as for a local test. ``close()`` also stops listening.
    A job's ``link.watch(watch)`` shows its training here (``source.watch``: verdict, events);
    the buttons reach the job's watch.

    Attributes
    ----------
    address, token : str
        What the job needs (:func:`lrwidget.connect`, or ``env`` for its environment).
    env : dict
        ``{"LRWIDGET_ADDRESS": address, "LRWIDGET_TOKEN": token}``, e.g.
        ``subprocess.Popen(cmd, env={**os.environ, **w.env})``.
    connected : bool
        Whether a job is connected and alive now.
    """

    # a constructor that fails (a bad height) still gets close() from ipywidgets' __del__
    _off_watch: Callable[[], None] = staticmethod(lambda: None)

    def __init__(self, source: RemoteSource, title: str = "", height: int = 320, **kwargs: Any):
        if not isinstance(source, RemoteSource):
            raise TypeError(f"source must be a RemoteSource, got {type(source).__name__}")
        self._source = source
        kwargs.setdefault("hint", connect_hint(source.address))
        # LRFinderWidget takes any channel.Source (its annotation says LRFinder only)
        super().__init__(source, title=title, height=height, **kwargs)
        # the job's link.watch(): its training in this widget's chart, a new chart per watch
        self._off_watch = source.watch.on_start(self._training.attach)
        _open_widgets.add(self)

    @property
    def source(self) -> RemoteSource:
        return self._source

    @property
    def address(self) -> str:
        return self._source.address

    @property
    def token(self) -> str:
        return self._source.token

    @property
    def env(self) -> dict:
        return {ENV_ADDRESS: self.address, ENV_TOKEN: self.token}

    @property
    def connected(self) -> bool:
        return self._source.connected

    def close(self) -> None:
        """Close the widget and stop listening (the job goes on without the notebook)."""
        _open_widgets.discard(self)
        self._off_watch()
        try:
            super().close()
        finally:
            self._source.close()


def listen(
    address: str = DEFAULT_ADDRESS,
    token: str | None = None,
    display: bool = True,
    title: str = "",
    height: int = 320,
    *,
    liveness_timeout: float = 5.0,
    apply_timeout: float = 30.0,
    replace: bool = True,
) -> RemoteWidget:
    """Show a widget that draws a range test running in another process, and send it the lr
    chosen there.

    The job connects with :func:`lrwidget.connect` (``LRWIDGET_ADDRESS`` and
    ``LRWIDGET_TOKEN`` in its environment: ``w.env``).

    Parameters
    ----------
    address : str
        ``"tcp://HOST:PORT"`` to listen at. Default ``"tcp://127.0.0.1:0"``: this machine only,
        a free port (``w.address`` says which). A job on a cluster node reaches it through an
        SSH tunnel (README, "Distributed and remote").
    token : str, optional
        The secret the job must sign its messages with (>= 16 printable ASCII characters).
        None makes one (64 hex characters from :mod:`secrets`).
    display : bool
        Show the widget (``IPython.display``).
    title, height
        As for :class:`~lrwidget.LRFinderWidget`.
    liveness_timeout : float
        Seconds without a message from a running job before the widget says "job
        disconnected".
    apply_timeout : float
        Seconds an Apply waits for the job to apply the lr (in ``link.wait_for_choice``).
    replace : bool
        Close the listeners that earlier ``listen()`` calls of this process opened (their
        ports and threads), as a re-run cell expects. False keeps them: two jobs shown at once.

    Returns
    -------
    RemoteWidget
        ``w.address``, ``w.token``, ``w.env``; ``w.wait()`` returns the job's result,
        ``w.apply(lr)`` the lrs the job's optimizer then holds.

    Raises
    ------
    OSError
        The address cannot be listened at (e.g. the port is in use).

    Warns
    -----
    UserWarning
        ``address`` is not a loopback address (e.g. ``"tcp://0.0.0.0:0"``, every interface):
        anyone who reaches the port can connect; only the token keeps them out.

    Example
    -------
    >>> w = listen(display=False)
    >>> w.address.startswith("tcp://127.0.0.1:") and w.connected is False
    True
    >>> w.close()
    """
    if not isinstance(display, bool):
        raise TypeError(f"display must be True or False, got {display!r}")
    if not isinstance(replace, bool):
        raise TypeError(f"replace must be True or False, got {replace!r}")
    if replace:
        _close_listened()
    source = RemoteSource(
        address, token, liveness_timeout=liveness_timeout, apply_timeout=apply_timeout
    )
    try:
        w = RemoteWidget(source, title=title, height=height)
    except BaseException:
        source.close()
        raise
    _listened.add(w)
    if display:
        from IPython.display import display as _display

        _display(w)
    return w


def _close_listened() -> None:
    """Close the listeners earlier ``listen()`` calls opened (a re-run cell replaces them)."""
    for old in list(_listened):
        log.info("closing the listener at %s (replaced by a new listen())", old.address)
        old.close()

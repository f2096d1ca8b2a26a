"""The job side of a remote range test: stream a finder's runs to a listening notebook and take
the lr chosen there.

::

    # in the notebook                       # in the job (a script, a torchrun job)
    w = lrwidget.listen()                   link = lrwidget.connect(finder)   # LRWIDGET_ADDRESS,
    w.address, w.token  ---- env ---->                                        # LRWIDGET_TOKEN
                                            finder.range_test(loader, ...)    # live in w
    (click, Apply in w)  <--- choice ---    lr = link.wait_for_choice(timeout=600)

The parts: :func:`connect` (here: its checks, the handshake, every rank alike), the job's end
:class:`~lrwidget.remote.job_link.Link` (the finder's runs, ``wait_for_choice``), its thread
(:mod:`lrwidget.remote.link_thread`: off the training thread, bounded, never blocking; replay by
state, not by log) and the choice (:mod:`lrwidget.remote.choosing`: applied on the job's own
thread, on every rank).

* **torch.distributed: only rank 0 opens a socket.** :func:`connect` and
  :meth:`Link.wait_for_choice` are collective when a process group is initialized: every rank
  calls them.
* **A wrong token** is refused by the notebook; :func:`connect` waits up to ``timeout`` seconds
  for the notebook's answer and raises ``PermissionError("token refused by the notebook at
  ...")``. Without an answer it returns: the job goes on, and the notebook gets the whole run
  when it listens.

Security: the token is a bearer secret. Whoever can reach the notebook's port and knows the
token can send it readings and receive the choice; whoever knows it can also answer a job as
its notebook. Messages are signed (HMAC-SHA256), not encrypted: on a network you do not trust,
carry the link through an SSH tunnel (README, "Distributed and remote").

Example
-------
>>> import torch; from torch import nn; import lrwidget
>>> m = nn.Linear(2, 1); opt = torch.optim.SGD(m.parameters(), lr=1e-3)
>>> finder = lrwidget.LRFinder(m, opt)
>>> w = lrwidget.listen(display=False)                      # the notebook, here in one process
>>> link = lrwidget.connect(finder, w.address, w.token)
>>> link.connected
True
>>> r = finder.range_test([(torch.ones(4, 2), torch.ones(4, 1))], end_lr=0.1, num_iter=20,
...                       step_fn=lambda m, b: (m(b[0]) - b[1]).pow(2).mean())
>>> len(w.wait(timeout=30)) == len(r)
True
>>> link.wait_for_choice(timeout=0.1) == r.suggested_lr     # nobody chose: the default
True
>>> link.close(); w.close()
"""

from __future__ import annotations

import logging
import os
from typing import Any

from . import wire
from .job_link import Link
from .transport import (
    ENV_ADDRESS,
    ENV_TOKEN,
    broadcast,
    check_address,
    check_seconds,
    dist_info,
)

__all__ = ["connect", "Link", "ENV_ADDRESS", "ENV_TOKEN", "MIN_INTERVAL"]

log = logging.getLogger("lrwidget.remote")

#: shortest ``interval`` of :func:`connect`: batches more often than this cost the job time
#: (a message each, 2.2x slower at 1e-4 s), not the curve anything (a view draws ~10 a second)
MIN_INTERVAL = 0.01


def connect(
    finder: Any,
    address: str | None = None,
    token: str | None = None,
    *,
    timeout: float = 2.0,
    interval: float = 0.05,
    process_group: Any = None,
) -> Link:
    """Stream ``finder``'s range tests to the notebook that :func:`lrwidget.listen` at
    ``address``, and take the lr chosen there with :meth:`Link.wait_for_choice`.

    Under torch.distributed (a process group is initialized, or ``process_group`` is given)
    every rank calls ``connect``: only rank 0 opens a socket; the others return a link that
    takes part in the choice's broadcast.

    Parameters
    ----------
    finder : LRFinder
        The job's finder; its runs (the current one too) stream from a thread of the link's
        own, never from the training thread.
    address : str, optional
        ``"tcp://HOST:PORT"`` as the notebook's ``w.address`` shows; default: the environment
        variable ``LRWIDGET_ADDRESS``.
    token : str, optional
        The notebook's ``w.token``; default: ``LRWIDGET_TOKEN``.
    timeout : float
        Seconds to wait for the notebook's answer (0: do not wait). Without an answer the job
        goes on and the notebook gets the whole run when it listens.
    interval : float
        Seconds between batches of readings (>= ``MIN_INTERVAL``, 0.01: more often only slows
        the job).
    process_group : torch.distributed.ProcessGroup, optional
        The group whose rank 0 connects (default: the default group, if initialized).

    Returns
    -------
    Link
        Also a context manager (``close()`` on exit).

    Raises
    ------
    PermissionError
        "token refused by the notebook at ...": the notebook answered that the token is wrong.
    TypeError, ValueError
        For bad arguments, or when ``address`` / ``token`` are None and their environment
        variables are not set (the message names them).

    Example
    -------
    >>> import torch; from torch import nn; import lrwidget
    >>> m = nn.Linear(2, 1)
    >>> finder = lrwidget.LRFinder(m, torch.optim.SGD(m.parameters(), lr=1e-3))
    >>> lrwidget.connect(finder, "tcp://127.0.0.1:5555", token="short")
    Traceback (most recent call last):
    ...
    ValueError: token must have at least 16 characters (a secret shared by the notebook and the job; lrwidget.listen() makes one), got 5
    """  # noqa: E501
    _check_finder(finder)
    address, a_name = _from_env(address, "address", ENV_ADDRESS, f" (and {ENV_TOKEN})")
    token, t_name = _from_env(token, "token", ENV_TOKEN)
    address = check_address(address, a_name)
    wire.check_token(token, t_name)
    t = check_seconds(timeout, "timeout")
    iv = _check_interval(interval)
    group, rank, world, src = dist_info(process_group)
    link = Link(finder, address, token, group=group, rank=rank, world=world, src=src, interval=iv)
    outcome = link.handshake(t) if link.opened else None
    if world > 1:
        outcome = broadcast(outcome, group, src)
    if outcome is not None and outcome[0] == "refused":
        link.close()
        raise PermissionError(
            f"token refused by the notebook at {address}: use the token its "
            f"lrwidget.listen() shows (w.token), e.g. through {ENV_TOKEN}"
        )
    if outcome is not None and outcome[0] == "none" and link.opened:
        log.info(
            "no notebook answered at %s within %g s; the job goes on, and the notebook "
            "gets the whole run when it listens there",
            address,
            t,
        )
    return link


def _check_finder(finder: Any) -> None:
    if not all(callable(getattr(finder, n, None)) for n in ("subscribe", "apply", "stop")):
        raise TypeError(
            "finder must be an lrwidget.LRFinder (something with subscribe, apply "
            f"and stop), got {type(finder).__name__}"
        )


def _from_env(value: Any, name: str, env: str, also: str = "") -> tuple[Any, str]:
    """``(value, name)``, or the environment variable ``env``'s value and name when ``value``
    is None; a ValueError saying what to pass or set when neither is there."""
    if value is not None:
        return value, name
    value = os.environ.get(env)
    if value is None:
        raise ValueError(
            f"{name} is None and {env} is not set: pass the {name} the notebook's "
            f"lrwidget.listen() shows (w.{name}), or set {env}{also} in the job's environment"
        )
    return value, env


def _check_interval(interval: Any) -> float:
    iv = check_seconds(interval, "interval", zero=False)
    if iv < MIN_INTERVAL:
        raise ValueError(
            f"interval must be >= {MIN_INTERVAL} seconds (more often only slows the job: a "
            f"message a batch), got {interval!r}"
        )
    return iv

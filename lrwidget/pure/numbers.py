"""What counts as a number in an argument or a message: one rule for every check.

``bool`` is an ``int`` to Python, but ``lr=True`` or ``height=False`` is a mistake, never a
number, so both predicates refuse it; numpy's scalars count (a user's ``np.float32(1e-3)``).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import TypeGuard

__all__ = ["is_int", "is_real"]


def is_real(v: object) -> TypeGuard[Real]:
    """Whether ``v`` is a real number that is not a ``bool`` (it may be nan or inf).

    Parameters
    ----------
    v : object
        Anything.

    Returns
    -------
    bool

    Example
    -------
    >>> import numpy as np
    >>> is_real(0.1), is_real(np.float32(2)), is_real(True), is_real("1")
    (True, True, False, False)
    """
    return isinstance(v, Real) and not isinstance(v, bool)


def is_int(v: object) -> TypeGuard[Integral]:
    """Whether ``v`` is an integer that is not a ``bool`` (numpy's integers count).

    Parameters
    ----------
    v : object
        Anything.

    Returns
    -------
    bool

    Example
    -------
    >>> import numpy as np
    >>> is_int(3), is_int(np.int64(3)), is_int(False), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(v, Integral) and not isinstance(v, bool)

"""find_lr: a finder and its widget in one call, shown and started.

One call for the common case; :class:`LRFinderWidget` and :class:`LRFinder` for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..engine.finder import LRFinder
from .widget import LRFinderWidget, check_run_args

if TYPE_CHECKING:
    import torch

__all__ = ["find_lr"]


def find_lr(
    model: Any,
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable[Any],
    criterion: Callable[..., torch.Tensor] | None = None,
    *,
    display: bool = True,
    title: str = "",
    height: int = 320,
    **range_test_kwargs: Any,
) -> LRFinderWidget:
    """Build an :class:`LRFinder` and a widget, show the widget and start the range test.

    Parameters
    ----------
    model : torch.nn.Module
    optimizer : torch.optim.Optimizer
    train_loader : iterable
        ``(inputs, labels)`` batches, or anything ``step_fn`` understands.
    criterion : callable, optional
        Loss function; may be None with ``step_fn=``.
    display : bool
        Show the widget (``IPython.display``) before starting.
    title, height
        Passed to :class:`LRFinderWidget`.
    **range_test_kwargs
        ``start_lr``, ``end_lr``, ``num_iter``, ``step_mode``, ``step_fn``, ... as for
        :meth:`LRFinder.range_test`.

    Returns
    -------
    LRFinderWidget
        Running; ``widget.wait()`` returns the result, ``widget.apply()`` the chosen lr.

    Example
    -------
    >>> import torch; from torch import nn
    >>> m = nn.Linear(4, 3); opt = torch.optim.SGD(m.parameters(), lr=1e-4)
    >>> data = [(torch.randn(16, 4), torch.randint(0, 3, (16,)))] * 4
    >>> w = find_lr(m, opt, data, nn.CrossEntropyLoss(), display=False, num_iter=20)
    >>> len(w.wait()) > 0
    True
    >>> w.close()
    """
    finder = LRFinder(model, optimizer, criterion)
    w = LRFinderWidget(finder, title=title, height=height)
    try:
        check_run_args(finder, train_loader, range_test_kwargs)
    except BaseException:
        w.close()
        raise
    if display:
        from IPython.display import display as _display

        _display(w)
    w.run(train_loader, **range_test_kwargs)
    return w

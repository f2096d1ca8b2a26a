"""torch-lr-finder's extras on :class:`lrwidget.LRFinder`: the ``history`` dict, ``best_loss``
and ``plot`` (matplotlib), kept for code that switched from torch-lr-finder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..pure.numbers import is_int
from ..pure.rules import marker_loss
from .checks import real

if TYPE_CHECKING:
    from ..pure.suggest import Suggestion
    from .history import RangeTestResult


class TorchLrFinderExtras:
    """The history dict, best_loss and plot of torch-lr-finder's LRFinder (a mixin)."""

    result: RangeTestResult | None
    _history: dict[str, list] | None = None
    _history_of: RangeTestResult | None = None

    @property
    def history(self) -> dict[str, list]:
        """``{"lr": [...], "loss": [...]}`` of the last test (smoothed losses).

        As in torch-lr-finder it is one dict, kept until the next test: what is written into
        it (or assigned to it) stays, and :meth:`plot` draws it. :attr:`result` keeps the
        readings as they were.

        Example
        -------
        >>> import torch; from torch import nn; from lrwidget import LRFinder
        >>> m = nn.Linear(2, 1); finder = LRFinder(m, torch.optim.SGD(m.parameters(), lr=0.1))
        >>> finder.history["loss"] = [3.0, 2.0, 4.0]; finder.history["lr"] = [0.1, 1.0, 10.0]
        >>> finder.history
        {'lr': [0.1, 1.0, 10.0], 'loss': [3.0, 2.0, 4.0]}
        """
        if self._history is None or self._history_of is not self.result:
            made = self.result.history if self.result is not None else {"lr": [], "loss": []}
            self._history, self._history_of = made, self.result
        return self._history

    @history.setter
    def history(self, value: dict[str, list]) -> None:
        _history_arrays(value)  # refuse what plot() could not draw, here, naming it
        self._history, self._history_of = value, self.result

    @property
    def best_loss(self) -> float | None:
        """Lowest smoothed loss of the last test (torch-lr-finder's attribute)."""
        if self.result is None or not len(self.result):
            return None
        import numpy as np

        s = self.result.smoothed[np.isfinite(self.result.smoothed)]
        return float(s.min()) if s.size else None

    def plot(
        self,
        skip_start: int = 10,
        skip_end: int = 5,
        log_lr: bool = True,
        show_lr: float | None = None,
        ax: Any = None,
        suggest_lr: bool = True,
    ) -> Any:
        """Plot :attr:`history` (smoothed loss against lr) with matplotlib (torch-lr-finder's
        signature).

        ``skip_start`` / ``skip_end`` readings are left out of the curve drawn. The suggestion
        (``suggest_lr``) is the default rule's (:mod:`lrwidget.pure.suggest`) on the whole
        curve, the
        lr :meth:`apply` takes, whatever is skipped; it is marked on the curve. When
        :attr:`history` was edited, the suggestion is the default rule's on the edited curve.

        Returns
        -------
        matplotlib.axes.Axes, or (Axes, float or None) when ``suggest_lr``
            None when the rule has no answer (its reason is printed), e.g. a flat curve.

        Raises
        ------
        RuntimeError
            No range test has run (and :attr:`history` is empty); or ``suggest_lr`` with fewer
            than ``skip_start + skip_end + 2`` readings, as torch-lr-finder: the curve drawn
            would have no two points to mark the suggestion on.
        ValueError
            A bad ``skip_start`` / ``skip_end`` / ``show_lr``, or a :attr:`history` that is not
            two equally long lists of numbers.

        Example
        -------
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import numpy as np, torch; from torch import nn; from lrwidget import LRFinder
        >>> m = nn.Linear(2, 1); finder = LRFinder(m, torch.optim.SGD(m.parameters(), lr=0.1))
        >>> finder.history = {"lr": np.logspace(-4, 0, 40).tolist(),
        ...                   "loss": (np.linspace(-2, 1, 40) ** 2).tolist()}
        >>> ax, lr = finder.plot()  # doctest: +ELLIPSIS
        Suggested LR (minimum): ...
        >>> len(ax.lines[0].get_xdata()), bool(lr == ax.collections[0].get_offsets()[0][0])
        (25, True)
        """
        for name, v in (("skip_start", skip_start), ("skip_end", skip_end)):
            if not is_int(v) or int(v) < 0:
                raise ValueError(f"{name} must be an int >= 0, got {v!r}")
        if show_lr is not None:
            show_lr = real("show_lr", show_lr, "a number or None")
        all_lrs, all_losses = _history_arrays(self.history)
        n = all_lrs.size
        if n == 0 and self.result is None:
            raise RuntimeError("no range test has run yet: call range_test() first")
        if suggest_lr and n < skip_start + skip_end + 2:
            raise RuntimeError(
                f"Need at least {skip_start + skip_end + 2} readings to mark a suggested lr on "
                f"the curve with skip_start={skip_start} and skip_end={skip_end}, got {n}: "
                "pass a smaller skip_start and skip_end, or suggest_lr=False"
            )
        ax, best = self._draw(
            all_lrs,
            all_losses,
            slice(skip_start, max(n - skip_end, 0)),
            log_lr,
            show_lr,
            ax,
            suggest_lr,
        )
        if suggest_lr:
            return ax, best
        return ax

    def _suggestion_of(self, lrs: np.ndarray, losses: np.ndarray) -> Suggestion:
        """The default rule's suggestion for the curve ``plot`` draws: the result's own (the
        one :meth:`apply` takes, divergence seen in the raw losses too) unless the history
        was edited."""
        import numpy as np

        from ..pure.suggest import DEFAULT
        from ..pure.suggest import suggest as rule

        r = self.result
        if (
            r is not None
            and np.array_equal(lrs, r.lrs)
            and np.array_equal(losses, r.smoothed, equal_nan=True)
        ):
            return r.suggestions[DEFAULT]
        return rule(lrs, losses)

    def _draw(
        self,
        all_lrs: np.ndarray,
        all_losses: np.ndarray,
        sl: slice,
        log_lr: bool,
        show_lr: float | None,
        ax: Any,
        suggest_lr: bool,
    ) -> tuple[Any, float | None]:
        """Draw the curve's ``sl`` (and the suggestion) on ``ax`` (a new figure when None);
        returns ``(ax, suggested lr or None)``."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                'plot() needs matplotlib, an optional dependency: pip install "lrwidget[plot]"'
            ) from e
        fig = None
        if ax is None:
            fig, ax = plt.subplots()
        ax.plot(all_lrs[sl], all_losses[sl])
        best = None
        if suggest_lr:
            s = self._suggestion_of(all_lrs, all_losses)
            best = s.lr
            if best is not None:
                ax.scatter(
                    [best],
                    [_marker_y(best, s.index, all_lrs, all_losses)],
                    s=75,
                    marker="o",
                    color="red",
                    zorder=3,
                    label=f"{s.name}: {best:.2E}",
                )
                ax.legend()
                # torch-lr-finder prints it; code that switched from it may read it there
                print(f"Suggested LR ({s.name}): {best:.2E}")  # noqa: T201
            else:
                print(f"No suggested LR ({s.name}): {s.reason}")  # noqa: T201
        if log_lr:
            ax.set_xscale("log")
        ax.set_xlabel("Learning rate")
        ax.set_ylabel("Loss")
        if show_lr is not None:
            ax.axvline(x=show_lr, color="red")
        if fig is not None and plt.get_backend().lower() not in (
            "agg",
            "pdf",
            "svg",
            "ps",
            "cairo",
            "template",
        ):
            plt.show()
        return ax, best


def _history_arrays(history: object) -> tuple[np.ndarray, np.ndarray]:
    """``(lrs, losses)`` of a torch-lr-finder history as float arrays; an error naming
    ``history`` for anything plot could not draw."""
    import numpy as np

    if not isinstance(history, dict) or not {"lr", "loss"} <= history.keys():
        raise TypeError(
            'history must be a dict {"lr": [...], "loss": [...]}, got '
            + (
                f"keys {sorted(map(str, history))}"
                if isinstance(history, dict)
                else type(history).__name__
            )
        )
    try:
        lrs = np.asarray(history["lr"], dtype=float)
        losses = np.asarray(history["loss"], dtype=float)
    except (TypeError, ValueError) as e:
        raise ValueError(f'history["lr"] and history["loss"] must be lists of numbers: {e}') from e
    if lrs.ndim != 1 or losses.ndim != 1 or lrs.size != losses.size:
        raise ValueError(
            'history["lr"] and history["loss"] must be flat lists of the same length, got '
            f"{lrs.size} and {losses.size}"
        )
    return lrs, losses


def _marker_y(lr: float, index: int | None, lrs: np.ndarray, losses: np.ndarray) -> float:
    """Where the suggestion's marker sits on the curve drawn: the one marker rule of the views
    (:func:`lrwidget.pure.rules.marker_loss`), NaN where it has no answer."""
    y = marker_loss(lrs, losses, lr, index)
    return float("nan") if y is None else y

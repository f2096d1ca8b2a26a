"""One range test per param group (head vs backbone, LoRA A / B, a no-decay group):
:meth:`range_test_groups` and :meth:`apply_groups` (a mixin of :class:`lrwidget.LRFinder`).

During a group's test the optimizer sees that group alone (its ``param_groups`` list is narrowed
to it and put back after): the sweep writes that group's lr only, and the optimizer steps that
group's parameters only, so every other group keeps its lr, its parameters and its state exactly
(a group is measured with the rest of the model as it is). The finder's snapshot restores the
model, the optimizer and the RNG after each test as after any range test.

A group is named by its ``"name"`` key when it has one (``{"params": ..., "name": "head"}``),
else by its index.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Union, cast

import torch

from ..pure.numbers import is_real
from .history import RangeTestResult
from .loop import write_lr
from .use import UseLr

if TYPE_CHECKING:
    from .finder import LRFinder

__all__ = ["GroupName", "GroupTests", "group_names", "only_group"]

#: a param group's name: its "name" key, else its index
GroupName = Union[int, str]


def group_names(optimizer: torch.optim.Optimizer) -> list[GroupName]:
    """Each param group's name: its ``"name"`` (a str) when it has one, else its index.

    Example
    -------
    >>> import torch
    >>> a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    >>> opt = torch.optim.SGD([{"params": a.parameters(), "name": "head"},
    ...                        {"params": b.parameters()}], lr=0.1)
    >>> group_names(opt)
    ['head', 1]
    """
    names: list[GroupName] = []
    for i, g in enumerate(optimizer.param_groups):
        name = g.get("name", i)
        if not isinstance(name, (str, int)) or isinstance(name, bool):
            raise TypeError(
                f"optimizer.param_groups[{i}]['name'] must be a str, got {type(name).__name__}"
            )
        if name in names:
            raise ValueError(
                f"optimizer.param_groups[{i}]['name'] is {name!r}, which names an earlier group "
                "too: param groups need distinct names to be tested one by one"
            )
        names.append(name)
    return names


@contextmanager
def only_group(optimizer: torch.optim.Optimizer, index: int) -> Iterator[None]:
    """The optimizer sees its param group ``index`` alone inside the block (the same dict, so
    what is written to it stays); the whole list is put back however the block ends."""
    groups = optimizer.param_groups
    try:
        optimizer.param_groups = [groups[index]]
    except AttributeError as e:
        raise TypeError(
            f"range_test_groups needs an optimizer whose param_groups can be narrowed to one "
            f"group; {type(optimizer).__name__}'s cannot ({e})"
        ) from None
    try:
        if len(optimizer.param_groups) != 1:  # a wrapper that ignored the narrowing
            raise TypeError(
                f"range_test_groups cannot narrow {type(optimizer).__name__}'s param_groups "
                "to one group (it kept them all)"
            )
        yield
    finally:
        optimizer.param_groups = groups


def _chosen(names: list[GroupName], groups: Sequence[GroupName] | None) -> list[GroupName]:
    if groups is None:
        return names
    if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence) or not groups:
        raise TypeError(f"groups must be a non-empty list of group names {names}, got {groups!r}")
    for name in groups:
        if name not in names or isinstance(name, bool):
            raise ValueError(f"groups: {name!r} is not a param group; the groups are {names}")
    return list(dict.fromkeys(groups))


class GroupTests(UseLr):
    """range_test_groups / apply_groups of LRFinder (and UseLr's apply, one_cycle, schedule)."""

    def range_test_groups(
        self,
        train_loader: Iterable[Any],
        val_loader: Iterable[Any] | None = None,
        groups: Sequence[GroupName] | None = None,
        **range_test_kwargs: Any,
    ) -> dict[GroupName, RangeTestResult]:
        """One range test per param group, every other group held as it is.

        During group ``g``'s test only ``g``'s lr is swept and only ``g``'s parameters are
        stepped: the other groups' lrs, parameters and optimizer state do not change. The
        model, optimizer and RNG are restored after each test, as by :meth:`range_test`.

        Parameters
        ----------
        train_loader, val_loader : iterable
            As for :meth:`range_test`.
        groups : list of group names, optional
            The groups to test (a group's ``"name"`` key, else its index); default: all.
        **range_test_kwargs
            :meth:`range_test`'s other keywords; ``start_lr`` (one float, or None: each group
            starts at its own lr) and ``end_lr`` apply to each group's own test.

        Returns
        -------
        dict
            Group name -> :class:`RangeTestResult` (its ``suggested_lr`` is the group's
            suggestion); :attr:`result` is the last group's. Pass it to :meth:`apply_groups`.

        Raises
        ------
        TypeError, ValueError
            Bad arguments, checked for every group before the first test.

        Notes
        -----
        Measured on two fine-tuning families (``benchmarks/results/per_group.md``), each group
        trained at its own suggestion did worse than the whole model at the single-lr default:
        a new head's curve on a held backbone can keep falling up to ``end_lr``, so its
        suggestion says more about the sweep's end than about the head. Compare the curves
        before applying them.

        Example
        -------
        >>> import torch; from torch import nn; from lrwidget import LRFinder
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> body, head = nn.Linear(4, 8), nn.Linear(8, 2)
        >>> opt = torch.optim.SGD([{"params": body.parameters(), "name": "body", "lr": 1e-4},
        ...                        {"params": head.parameters(), "name": "head", "lr": 1e-3}])
        >>> data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(5)]
        >>> finder = LRFinder(nn.Sequential(body, nn.ReLU(), head), opt, nn.CrossEntropyLoss())
        >>> results = finder.range_test_groups(data, end_lr=1.0, num_iter=20)
        >>> sorted(results), [g["lr"] for g in opt.param_groups]
        (['body', 'head'], [0.0001, 0.001])
        """
        finder = cast("LRFinder", self)
        names = group_names(self.optimizer)
        chosen = _chosen(names, groups)
        start = range_test_kwargs.get("start_lr")
        if start is not None and not is_real(start):
            raise TypeError(
                f"start_lr must be one lr (or None) in range_test_groups: each test sweeps one "
                f"group, got {start!r}"
            )
        for name in chosen:  # every group's test checked before the first step of any
            with only_group(self.optimizer, names.index(name)):
                finder.check_range_test_args(train_loader, val_loader, **range_test_kwargs)
        results: dict[GroupName, RangeTestResult] = {}
        for name in chosen:
            with only_group(self.optimizer, names.index(name)):
                results[name] = finder.range_test(train_loader, val_loader, **range_test_kwargs)
        return results

    def apply_groups(self, lrs: Mapping[GroupName, float | RangeTestResult]) -> list[float]:
        """Write each named group's own lr (the groups not named keep theirs).

        Parameters
        ----------
        lrs : mapping
            Group name (its ``"name"``, else its index) -> lr, or -> a :class:`RangeTestResult`
            whose suggested lr is taken (what :meth:`range_test_groups` returns).

        Returns
        -------
        list of float
            Every param group's lr now.

        Raises
        ------
        ValueError, TypeError
            An unknown group, a result without a suggestion, an lr that is not a positive finite
            number (named), before anything is written. RuntimeError: a test is running.

        Notes
        -----
        Under torch.distributed every rank calls it; rank 0's lrs are written on every rank.

        Example
        -------
        >>> import torch; from torch import nn; from lrwidget import LRFinder
        >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
        >>> opt = torch.optim.SGD([{"params": a.parameters(), "name": "backbone"},
        ...                        {"params": b.parameters(), "name": "head"}], lr=0.1)
        >>> LRFinder(nn.Sequential(a, b), opt).apply_groups({"head": 0.5})
        [0.1, 0.5]
        >>> LRFinder(nn.Sequential(a, b), opt).apply_groups({"neck": 0.5})
        Traceback (most recent call last):
        ...
        ValueError: lrs: 'neck' is not a param group; the groups are ['backbone', 'head']
        """
        if self._runs.claim is not None:
            raise RuntimeError(
                "apply_groups() during a running test would be undone by the restore; apply "
                "after it ended"
            )
        new = self._agreed(lambda: self._group_lrs(lrs))
        for i, v in new.items():
            write_lr(self.optimizer.param_groups[i], "lr", v)
        return self._tell_applied()

    def _group_lrs(self, lrs: object) -> dict[int, float]:
        """``lrs`` checked: param group index -> lr."""
        if not isinstance(lrs, Mapping) or not lrs:
            raise TypeError(f"lrs must be a non-empty dict of group name -> lr, got {lrs!r}")
        names = group_names(self.optimizer)
        out = {}
        for key, v in lrs.items():
            if key not in names or isinstance(key, bool):
                raise ValueError(f"lrs: {key!r} is not a param group; the groups are {names}")
            if v is None:  # not the finder's last suggestion (UseLr's None): say which group
                raise ValueError(f"lrs[{key!r}] is None; pass an lr or a range test's result")
            if isinstance(v, RangeTestResult):
                v = v.suggested_lr
                if v is None:
                    raise ValueError(f"lrs[{key!r}]: its range test suggests no lr; pass an lr")
            out[names.index(key)] = self._lr_arg(v, f"lrs[{key!r}]")
        return out

"""Several range tests on one model, for one chart: :func:`compare_optimizers` (one test per
optimizer) and :func:`compare_batch_sizes` (one test per batch size and seed, and the fit of
``lr* ∝ B^a`` over them, :mod:`lrwidget.pure.scaling`).

Every test is an ordinary :meth:`lrwidget.LRFinder.range_test`, which restores the model, the
optimizer, torch's RNG and the loaders' generators bit for bit after it: so each test starts from
the model that went in, and the model that comes out is that one too. Every argument (each
optimizer a factory builds, each loader) is checked before the first step of any test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import torch

from ..pure.numbers import is_int
from ..pure.ranges import nearest_reading
from ..pure.scaling import ScalingFit, check_batch_sizes, fit_scaling
from .batches import loader_generators
from .finder import LRFinder
from .history import RangeTestResult
from .snapshot import Snapshot

__all__ = ["BatchSizeResults", "CompareResults", "compare_batch_sizes", "compare_optimizers"]

#: most curves one chart overlays (the compare view's limit): ``show`` keeps to it
MAX_SHOWN = 8

OptimizerFactory = Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer]


class CompareResults(Mapping[str, RangeTestResult]):
    """Label -> :class:`RangeTestResult`, in the order the tests ran, with each run's optimizer.

    Attributes
    ----------
    optimizers : mapping
        Label -> the optimizer that run tested (read-only mapping): the one an lr chosen on
        that run's curve belongs to (``results.optimizers["Adam"]``).
    """

    def __init__(
        self,
        results: Mapping[str, RangeTestResult],
        optimizers: Mapping[str, torch.optim.Optimizer],
    ) -> None:
        self._results = dict(results)
        self.optimizers: Mapping[str, torch.optim.Optimizer] = MappingProxyType(dict(optimizers))

    def __getitem__(self, label: str) -> RangeTestResult:
        return self._results[label]

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    def __repr__(self) -> str:
        lrs = ", ".join(f"{k}: {_fmt(r.suggested_lr)}" for k, r in self._results.items())
        return f"{type(self).__name__}({lrs})"

    def suggestions(self) -> dict[str, float | None]:
        """Each run's default suggestion (None where its rule has none)."""
        return {k: r.suggested_lr for k, r in self._results.items()}

    def _shown(self) -> list[str]:
        return list(self._results)

    def _trend(self) -> ScalingFit | None:
        return None

    def for_chart(self) -> tuple[list[RangeTestResult], list[str], list[Any], ScalingFit | None]:
        """What one chart overlays: the results, their labels, their optimizers (where an Apply
        writes) and the trend; ``lrwidget.compare(results)`` draws it (the engine imports no
        view: tests/test_layers.py)."""
        shown = self._shown()
        optimizers = [self.optimizers[k] for k in shown]
        return [self._results[k] for k in shown], shown, optimizers, self._trend()


class BatchSizeResults(CompareResults):
    """The runs of :func:`compare_batch_sizes` (labels ``"B=32 seed 0"``, ...) and the fit.

    Attributes
    ----------
    fit : ScalingFit
        ``lr* ∝ B^a`` over the batch sizes: the exponent, its spread across seeds and the rule
        it agrees with (``fit.text``); ``fit.points`` is the line through the suggestions.
    batch_sizes, seeds : tuple of int
    """

    def __init__(
        self,
        results: Mapping[str, RangeTestResult],
        optimizer: torch.optim.Optimizer,
        fit: ScalingFit,
        batch_sizes: Sequence[int],
        seeds: Sequence[int],
    ) -> None:
        super().__init__(results, {k: optimizer for k in results})
        self.fit = fit
        self.batch_sizes = tuple(batch_sizes)
        self.seeds = tuple(seeds)

    def __repr__(self) -> str:
        return f"BatchSizeResults({len(self)} runs; {self.fit.text})"

    def _shown(self) -> list[str]:
        # more runs than a chart holds: the first seed's curve of each batch size
        labels = list(self)
        return labels if len(labels) <= MAX_SHOWN else labels[: len(self.batch_sizes)]

    def _trend(self) -> ScalingFit | None:
        return self.fit


def _fmt(lr: float | None) -> str:
    return "none" if lr is None else f"{lr:.3g}"


# ---------------------------------------------------------------------- compare_optimizers


def compare_optimizers(
    model: torch.nn.Module,
    optimizers: Mapping[str, OptimizerFactory],
    train_loader: Iterable[Any],
    criterion: Callable[..., torch.Tensor] | None = None,
    val_loader: Iterable[Any] | None = None,
    **range_test_kwargs: Any,
) -> CompareResults:
    """One range test per optimizer on the same model, from the same starting state.

    Parameters
    ----------
    model : torch.nn.Module
    optimizers : mapping of str -> callable
        Label -> factory: ``factory(model.parameters())`` returns that optimizer (e.g.
        ``lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9)``). Every factory is called, and
        its optimizer checked to train this model's parameters, before any test.
    train_loader, criterion, val_loader, **range_test_kwargs
        As for :class:`lrwidget.LRFinder` and :meth:`~lrwidget.LRFinder.range_test`.

    Returns
    -------
    CompareResults
        Label -> result; ``.optimizers[label]`` the optimizer each ran; the chart:
        ``lrwidget.compare(results)``.
        The model (and torch's RNG) come out exactly as they went in.

    Raises
    ------
    TypeError, ValueError
        An empty or non-mapping ``optimizers``, a label that is not a non-empty str, a factory
        that is not callable or returns no optimizer, an optimizer over parameters that are not
        the model's, any bad range-test argument; all before any step.

    Example
    -------
    >>> import torch; from torch import nn
    >>> model = nn.Linear(4, 2)
    >>> data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(4)]
    >>> res = compare_optimizers(model, {"SGD": lambda p: torch.optim.SGD(p, lr=1e-4),
    ...                                  "Adam": lambda p: torch.optim.Adam(p, lr=1e-4)},
    ...                          data, nn.CrossEntropyLoss(), end_lr=1.0, num_iter=10)
    >>> list(res), type(res.optimizers["Adam"]).__name__
    (['SGD', 'Adam'], 'Adam')
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    built = {label: _built(model, label, f) for label, f in _factories(optimizers).items()}
    finders = {label: LRFinder(model, opt, criterion) for label, opt in built.items()}
    for f in finders.values():
        f.check_range_test_args(train_loader, val_loader, **range_test_kwargs)
    results = {
        label: f.range_test(train_loader, val_loader, **range_test_kwargs)
        for label, f in finders.items()
    }
    return CompareResults(results, built)


def _factories(optimizers: object) -> dict[str, OptimizerFactory]:
    if not isinstance(optimizers, Mapping):
        raise TypeError(
            "optimizers must be a dict of label -> factory (e.g. {'SGD': lambda p: "
            f"torch.optim.SGD(p, lr=1e-3)}}), got {type(optimizers).__name__}"
        )
    if not optimizers:
        raise ValueError("optimizers is empty: give at least one label -> optimizer factory")
    for label, f in optimizers.items():
        if not isinstance(label, str) or not label:
            raise TypeError(f"optimizers' labels must be non-empty strs, got {label!r}")
        if not callable(f):
            raise TypeError(
                f"optimizers[{label!r}] must be a callable taking the model's parameters and "
                f"returning an optimizer, got {type(f).__name__}"
            )
    return dict(optimizers)


def _built(model: torch.nn.Module, label: str, factory: OptimizerFactory) -> torch.optim.Optimizer:
    """``factory(model.parameters())``, checked to be an optimizer of this model alone."""
    opt = factory(model.parameters())
    if not isinstance(opt, torch.optim.Optimizer):
        raise TypeError(
            f"optimizers[{label!r}] returned {type(opt).__name__}, not a torch.optim.Optimizer"
        )
    mine = {id(p) for p in model.parameters()}
    foreign = sum(id(p) not in mine for g in opt.param_groups for p in g["params"])
    if foreign:
        total = sum(len(g["params"]) for g in opt.param_groups)
        raise ValueError(
            f"optimizers[{label!r}] built an optimizer over {foreign} of {total} tensors that are "
            "not this model's parameters (a mismatched model): build it from the parameters the "
            "factory is given"
        )
    return opt


# ---------------------------------------------------------------------- compare_batch_sizes


def compare_batch_sizes(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loaders: Mapping[int, Iterable[Any]],
    criterion: Callable[..., torch.Tensor] | None = None,
    seeds: int | Sequence[int] = 3,
    val_loader: Iterable[Any] | None = None,
    **range_test_kwargs: Any,
) -> BatchSizeResults:
    """A range test per batch size and seed, and ``lr* ∝ B^a`` fitted over them.

    Parameters
    ----------
    model, optimizer, criterion
        As for :class:`lrwidget.LRFinder`.
    loaders : mapping of int -> loader
        Batch size -> a loader of batches of that size (at least two batch sizes; a
        DataLoader's own ``batch_size`` must agree with its key).
    seeds : int or sequence of int
        How many seeds (0, 1, ...) or which: before each test torch's RNG and the loader's own
        generator are seeded with it (data order, dropout). At least two: the fit's spread is
        the seeds', and a rule is never claimed without one.
    val_loader, **range_test_kwargs
        As for :meth:`~lrwidget.LRFinder.range_test` (the same sweep for every test).

    Returns
    -------
    BatchSizeResults
        Label (``"B=32 seed 0"``) -> result, and ``.fit`` (:class:`ScalingFit`) over each run's
        default suggestion. The model, the optimizer, torch's RNG and the loaders' generators
        come out exactly as they went in.

    Raises
    ------
    TypeError, ValueError
        Fewer than two batch sizes, a key that is not an int >= 1, a loader whose
        ``batch_size`` is not its key, fewer than two seeds, any bad range-test argument; all
        before any step.
    """
    sizes = _loaders(loaders)
    seed_list = _seeds(seeds)
    finder = LRFinder(model, optimizer, criterion)
    for b in sizes:
        finder.check_range_test_args(loaders[b], val_loader, **range_test_kwargs)
    outer = Snapshot.capture(model, optimizer, generators=loader_generators(*loaders.values()))
    try:
        runs = {
            (b, s): _seeded_test(finder, loaders[b], s, val_loader, range_test_kwargs)
            for s in seed_list
            for b in sizes
        }
    finally:
        outer.restore()  # the RNG and the loaders' generators, which the seeding moved
        outer.free()
    fit = batch_size_fit(runs, sizes, seed_list, type(optimizer).__name__)
    results = {f"B={b} seed {s}": r for (b, s), r in runs.items()}
    return BatchSizeResults(results, optimizer, fit, sizes, seed_list)


def _loaders(loaders: object) -> list[int]:
    if not isinstance(loaders, Mapping):
        raise TypeError(
            f"loaders must be a dict of batch size -> loader, got {type(loaders).__name__}"
        )
    if not loaders:
        raise ValueError("loaders is empty: give a loader for each of at least two batch sizes")
    sizes = check_batch_sizes(list(loaders), "loaders' keys (batch sizes)")
    for b in sizes:
        own = getattr(loaders[b], "batch_size", None)
        if is_int(own) and own != b:
            raise ValueError(
                f"loaders[{b}] yields batches of {own}, not {b}: its key must be its batch size"
            )
    return sizes


def _seeds(seeds: object) -> list[int]:
    if is_int(seeds):
        out = list(range(int(seeds)))
    elif isinstance(seeds, Sequence) and all(is_int(s) for s in seeds):
        out = [int(s) for s in seeds]
    else:
        raise TypeError(f"seeds must be an int (how many) or a list of ints, got {seeds!r}")
    if len(set(out)) < 2 or len(set(out)) != len(out):
        raise ValueError(
            f"seeds={seeds!r}: the fit of lr* ∝ B^a needs at least two distinct seeds (its spread "
            "is the seeds', and a rule is never claimed from one); e.g. seeds=3"
        )
    return out


def _seeded_test(
    finder: LRFinder, loader: Any, seed: int, val_loader: Any, kw: dict[str, Any]
) -> RangeTestResult:
    """One test with torch's RNG and the loader's own generator seeded with ``seed``."""
    torch.manual_seed(seed)
    for g in loader_generators(loader):
        g.manual_seed(seed)
    return finder.range_test(loader, val_loader, **kw)


def batch_size_fit(
    runs: Mapping[tuple[int, int], RangeTestResult],
    sizes: Sequence[int],
    seeds: Sequence[int],
    label: str = "",
) -> ScalingFit:
    """:func:`lrwidget.pure.scaling.fit_scaling` of the runs' default suggestions
    (``runs[(batch size, seed)]``), with the loss at each and the sweep's step."""
    lrs = [[runs[(b, s)].suggested_lr for b in sizes] for s in seeds]
    losses = [[_loss_at(runs[(b, s)]) for b in sizes] for s in seeds]
    return fit_scaling(sizes, lrs, losses, _lr_step(runs[(sizes[0], seeds[0])]), label)


def _loss_at(r: RangeTestResult) -> float | None:
    """The smoothed loss at the reading nearest the default suggestion (its lr may be derived,
    e.g. the minimum's / 10)."""
    i = -1 if r.suggested_lr is None else nearest_reading(r.lrs, r.suggested_lr)
    v = float(r.smoothed[i]) if i >= 0 else math.nan
    return v if math.isfinite(v) else None


def _lr_step(r: RangeTestResult) -> float:
    """The factor between tested lrs of an exp sweep (0 for a linear one: no one step)."""
    if r.step_mode != "exp" or r.num_iter < 2:
        return 0.0
    return float((r.end_lr / r.start_lr) ** (1.0 / (r.num_iter - 1)))

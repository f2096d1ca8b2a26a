"""Batches of a range test: the loader cycled, each batch moved to the device and split into
``(inputs, labels)``, and what a step returns checked to be a scalar loss.

Every error names the loader (or ``criterion`` / ``step_fn``) and says what is accepted, so a
batch of the wrong shape fails before the first step with a message, not deep inside the model.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator, Iterable, Iterator
from typing import Any

import torch
from torch import Tensor
from torch.types import Device

#: batch types unpacked as ``(inputs, labels, *extras)`` when there is no ``step_fn``
PAIR_TYPES = (tuple, list)


def cycle(loader: Iterable[Any], name: str) -> Generator[Any, None, None]:
    """Batches of ``loader`` forever, starting it again when it runs out (like torch-lr-finder).

    Example
    -------
    >>> list(itertools.islice(cycle([1, 2], "train_loader"), 5))
    [1, 2, 1, 2, 1]
    >>> next(cycle(iter([]), "train_loader"))
    Traceback (most recent call last):
    ...
    ValueError: train_loader is empty: it must yield at least one batch
    """
    total = 0
    while True:
        got = 0
        for b in loader:
            got += 1
            yield b
        total += got
        if got == 0:
            if total == 0:
                raise ValueError(f"{name} is empty: it must yield at least one batch")
            raise ValueError(
                f"{name} ran out after {total} batches and cannot be iterated again; "
                "pass a re-iterable loader (a DataLoader, a list) or fewer num_iter"
            )


def move(obj: Any, device: Device, non_blocking: bool) -> Any:
    """``obj`` (a tensor, or tuples, lists, dicts of them) on ``device``.

    Anything else with a ``.to(device)`` (a Hugging Face ``BatchEncoding``) is moved with it; an
    error there is raised, naming the batch type, since a batch left on the wrong device would
    fail later, obscurely. Other objects (ints, strings) are returned as they are.

    Example
    -------
    >>> b = move({"x": torch.ones(2), "ids": [torch.zeros(1), 3]}, "cpu", False)
    >>> b["x"].device.type, b["ids"][1]
    ('cpu', 3)
    """
    if isinstance(obj, Tensor):
        return obj.to(device, non_blocking=non_blocking)
    if isinstance(obj, tuple):
        if hasattr(obj, "_fields"):  # namedtuple
            return type(obj)(*(move(o, device, non_blocking) for o in obj))
        return tuple(move(o, device, non_blocking) for o in obj)
    if isinstance(obj, list):
        return [move(o, device, non_blocking) for o in obj]
    if isinstance(obj, dict):
        return {k: move(v, device, non_blocking) for k, v in obj.items()}
    to = getattr(obj, "to", None)  # e.g. Hugging Face BatchEncoding
    if callable(to) and not isinstance(obj, torch.nn.Module):
        try:
            return to(device)
        except Exception as e:  # a batch left on the wrong device would fail later, obscurely
            raise RuntimeError(
                f"moving a {type(obj).__name__} batch to {device} failed: its "
                f".to({str(device)!r}) raised {type(e).__name__}: {e}"
            ) from e
    return obj


def inputs_and_labels(batch: Any, name: str) -> tuple[Any, Any]:
    """``(inputs, labels)`` of a batch ``(inputs, labels, *extras)``; a clear error otherwise.

    Example
    -------
    >>> inputs_and_labels(("x", "y", 7), "train_loader")
    ('x', 'y')
    >>> inputs_and_labels({"x": 1}, "val_loader")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: val_loader yields dict batches; without step_fn each batch must be a tuple or ...
    """
    if isinstance(batch, PAIR_TYPES) and len(batch) >= 2:
        return batch[0], batch[1]
    if isinstance(batch, PAIR_TYPES):
        what = f"{type(batch).__name__}s of {len(batch)} item{'s' if len(batch) != 1 else ''}"
    else:
        what = f"{type(batch).__name__} batches"
    raise TypeError(
        f"{name} yields {what}; without step_fn each batch must be a tuple or list "
        "(inputs, labels, *extras) (extras are ignored). For other batches pass "
        "step_fn(model, batch) -> loss to range_test"
    )


def first_checked(batches: Iterator[Any], name: str, pairs: bool) -> Iterator[Any]:
    """``batches`` with its first batch taken (and, when ``pairs``, checked) before any step.

    An empty loader raises here; the batch taken is put back in front, not lost.

    Example
    -------
    >>> list(first_checked(iter([(1, 2), (3, 4)]), "train_loader", pairs=True))
    [(1, 2), (3, 4)]
    """
    first = next(batches)
    if pairs:
        inputs_and_labels(first, name)
    return itertools.chain([first], batches)


class DataLoaderIter:
    """torch-lr-finder's ``DataLoaderIter``, for code that switched to lrwidget: an iterator
    over ``data_loader`` that yields ``inputs_labels_from_batch(batch)`` for each batch.

    Subclass :class:`TrainDataLoaderIter` / :class:`ValDataLoaderIter` and override
    :meth:`inputs_labels_from_batch` for batches that are not ``(inputs, labels, *extras)``;
    ``range_test`` then reads them through it (as does any object with a ``data_loader`` and
    an ``inputs_labels_from_batch``, torch-lr-finder's own included).

    Parameters
    ----------
    data_loader : iterable
        Usually a ``torch.utils.data.DataLoader``.

    Example
    -------
    >>> list(DataLoaderIter([(1, 2, "extra"), [3, 4]]))
    [(1, 2), (3, 4)]
    """

    def __init__(self, data_loader: Any) -> None:
        self.data_loader = data_loader
        self._iterator = iter(data_loader)

    @property
    def dataset(self) -> Any:
        """The ``data_loader``'s dataset."""
        return self.data_loader.dataset

    def inputs_labels_from_batch(self, batch_data: Any) -> Any:
        """``(inputs, labels)`` of one batch; override it for other batches (dicts, ...)."""
        if not isinstance(batch_data, PAIR_TYPES):
            raise ValueError(
                f"batches of type {type(batch_data).__name__} are not (inputs, labels, "
                "*extras): subclass TrainDataLoaderIter or ValDataLoaderIter and override "
                "inputs_labels_from_batch(batch) -> (inputs, labels)"
            )
        return inputs_and_labels(batch_data, type(self).__name__)

    def __iter__(self) -> DataLoaderIter:
        return self

    def __next__(self) -> Any:
        return self.inputs_labels_from_batch(next(self._iterator))


class TrainDataLoaderIter(DataLoaderIter):
    """torch-lr-finder's ``TrainDataLoaderIter``: starts ``data_loader`` again when it runs out
    (``auto_reset=True``), so it never ends; ``auto_reset=False`` ends after one pass.

    Example
    -------
    >>> it = TrainDataLoaderIter([(1, 2), (3, 4)])
    >>> [next(it) for _ in range(3)]
    [(1, 2), (3, 4), (1, 2)]
    """

    def __init__(self, data_loader: Any, auto_reset: bool = True) -> None:
        super().__init__(data_loader)
        self.auto_reset = auto_reset

    def __next__(self) -> Any:
        try:
            batch = next(self._iterator)
        except StopIteration:
            if not self.auto_reset:
                raise
            self._iterator = iter(self.data_loader)
            batch = next(self._iterator)
        return self.inputs_labels_from_batch(batch)


class ValDataLoaderIter(DataLoaderIter):
    """torch-lr-finder's ``ValDataLoaderIter``: one pass over ``data_loader`` per ``iter()``
    (a ``for`` loop), started again only once the last pass was read to its end. As a
    ``val_loader`` it is read in full at every step (:class:`LoaderIterPasses`).

    Example
    -------
    >>> it = ValDataLoaderIter([(1, 2), (3, 4)])
    >>> list(it), list(it)
    ([(1, 2), (3, 4)], [(1, 2), (3, 4)])
    """

    def __init__(self, data_loader: Any) -> None:
        super().__init__(data_loader)
        self.run_limit = len(data_loader)  # batches in one pass
        self.run_counter = 0  # batches taken in this pass

    def __iter__(self) -> ValDataLoaderIter:
        if self.run_counter >= self.run_limit:
            self._iterator = iter(self.data_loader)
            self.run_counter = 0
        return self

    def __next__(self) -> Any:
        self.run_counter += 1
        return super().__next__()


def is_loader_iter(obj: object) -> bool:
    """Whether ``obj`` is one of torch-lr-finder's ``DataLoaderIter`` objects (its
    ``TrainDataLoaderIter``, ``ValDataLoaderIter`` or a subclass): a ``data_loader`` and an
    ``inputs_labels_from_batch(batch) -> (inputs, labels)``. Recognised by those two
    attributes, so that torch-lr-finder need not be installed, nor imported here.

    Example
    -------
    >>> class ValIter:  # what torch-lr-finder's ValDataLoaderIter has
    ...     def __init__(self, data_loader): self.data_loader = data_loader
    ...     def inputs_labels_from_batch(self, batch): return batch["x"], batch["y"]
    >>> is_loader_iter(ValIter([])), is_loader_iter([])
    (True, False)
    """
    return hasattr(obj, "data_loader") and callable(getattr(obj, "inputs_labels_from_batch", None))


class LoaderIterPasses:
    """A torch-lr-finder ``ValDataLoaderIter`` as a ``val_loader`` read in full at every step.

    Each iteration is one pass over its ``data_loader``, every batch split by its
    ``inputs_labels_from_batch``, as torch-lr-finder's validation reads it. The object is an
    iterator, which lrwidget otherwise refuses as a ``val_loader`` (it would be exhausted after
    the first step); its ``data_loader`` is read again instead.

    Example
    -------
    >>> class ValIter:
    ...     def __init__(self, data_loader): self.data_loader = data_loader
    ...     def inputs_labels_from_batch(self, batch): return batch["x"], batch["y"]
    >>> passes = LoaderIterPasses(ValIter([{"x": 1, "y": 2}, {"x": 3, "y": 4}]))
    >>> list(passes), list(passes), len(passes)
    ([(1, 2), (3, 4)], [(1, 2), (3, 4)], 2)
    """

    def __init__(self, loader_iter: Any) -> None:
        self.loader_iter = loader_iter

    def __iter__(self) -> Iterator[Any]:
        split = self.loader_iter.inputs_labels_from_batch
        for batch in self.loader_iter.data_loader:
            yield split(batch)

    def __len__(self) -> int:
        # a TypeError (a loader without len) tells check_loaders that the length is unknown
        return len(self.loader_iter.data_loader)


def val_batches(val_loader: Any) -> Any:
    """``val_loader`` as the range test reads it: a torch-lr-finder ``ValDataLoaderIter`` (see
    :func:`is_loader_iter`) as :class:`LoaderIterPasses`, anything else as it is.

    Example
    -------
    >>> val_batches([(1, 2)])
    [(1, 2)]
    """
    return LoaderIterPasses(val_loader) if is_loader_iter(val_loader) else val_loader


def check_val_loader(val_loader: Any, pairs: bool) -> None:
    """Refuse an empty ``val_loader`` (and, when ``pairs``, a first batch that is no pair).

    A :class:`LoaderIterPasses` is checked on its ``data_loader``, without splitting a batch:
    the split is the user's ``inputs_labels_from_batch``, called once per batch of each pass
    only, as in torch-lr-finder.

    Example
    -------
    >>> check_val_loader([], pairs=True)
    Traceback (most recent call last):
    ...
    ValueError: val_loader is empty: it must yield at least one batch
    """
    if isinstance(val_loader, LoaderIterPasses):
        val_loader, pairs = val_loader.loader_iter.data_loader, False
    for b in val_loader:
        if pairs:
            inputs_and_labels(b, "val_loader")
        return
    raise ValueError("val_loader is empty: it must yield at least one batch")


def check_loss(loss: object, source: str, trains: bool = True) -> None:
    """Refuse what ``source`` (``"criterion"`` or ``"step_fn"``) returned unless it is a
    scalar tensor, and, when ``trains`` (a training step's loss, not a validation loss), one
    that backward can go through.

    Called before the loss's backward, so a step that would fail never reaches the optimizer.

    Example
    -------
    >>> check_loss(torch.ones((), requires_grad=True), "criterion")
    >>> check_loss(torch.ones(3), "step_fn")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: step_fn must return a scalar loss tensor, got a tensor of shape (3,) (reduce it...
    >>> check_loss(torch.ones(()), "step_fn")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: step_fn returned a loss that does not require grad: it is not connected to ...
    """
    if not isinstance(loss, Tensor):
        raise TypeError(f"{source} must return a scalar loss tensor, got {type(loss).__name__}")
    if loss.numel() != 1:
        raise ValueError(
            f"{source} must return a scalar loss tensor, got a tensor of shape "
            f"{tuple(loss.shape)} (reduce it, e.g. .mean())"
        )
    if trains and not loss.requires_grad:
        raise ValueError(f"{source} returned a loss that does not require grad: {_no_graph()}")


def _no_graph() -> str:
    """Why a loss has no graph, and what to do."""
    if not torch.is_grad_enabled():
        return (
            "gradients are disabled where the range test runs (inside torch.no_grad() or "
            "torch.inference_mode()); call it outside that block"
        )
    return (
        "it is not connected to the model's parameters, so backward cannot run. Return the "
        "loss as computed, without .detach(), .item() or torch.tensor(...) around it; if the "
        "model is frozen, unfreeze the parameters the optimizer holds"
    )


def loader_generators(*loaders: Any) -> list[torch.Generator]:
    """The random generators each loader draws its order and worker seeds from, each once.

    A DataLoader given ``generator=`` (or a sampler given one) draws from it, not from torch's
    global RNG, so the range test puts these back too: training afterwards sees the batches it
    would have seen without the test.

    Example
    -------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> dl = torch.utils.data.DataLoader(range(8), shuffle=True, generator=g)
    >>> loader_generators(dl, [1, 2], None) == [g]
    True
    """
    found: dict[int, torch.Generator] = {}
    for dl in loaders:
        sampler = getattr(dl, "sampler", None)
        batch_sampler = getattr(dl, "batch_sampler", None)
        for g in (
            getattr(dl, "generator", None),
            getattr(sampler, "generator", None),
            getattr(getattr(batch_sampler, "sampler", None), "generator", None),
        ):
            if isinstance(g, torch.Generator):
                found[id(g)] = g
    return list(found.values())

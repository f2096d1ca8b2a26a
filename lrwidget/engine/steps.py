"""The step of a range test as a closure: one optimizer step on the next batch(es), returning the
loss to record; and the validation loss that replaces it when there is a ``val_loader``.

Each closure is built once per test for the case at hand (plain; autocast, accumulation or a
GradScaler; a closure optimizer such as LBFGS), so that a step does nothing it does not need:
the plain step, the one almost every test runs, is the bare training loop plus a type check.

Optimizer wrappers (accelerate's ``AcceleratedOptimizer``) are seen through where they differ
from the optimizer they wrap: their ``step`` may drive a GradScaler of their own
(:func:`own_scaler`: the loss is then scaled for backward and the wrapper steps and updates
it), it takes a closure when the inner optimizer needs one (:func:`needs_closure`), and it
skips ``step`` and ``zero_grad`` between gradient-accumulation boundaries
(:func:`stepping_every_call` holds that off while a range test steps).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterable, Iterator
from typing import Any, Callable

import torch
from torch import Tensor
from torch.types import Device

from .batches import PAIR_TYPES, check_loss, inputs_and_labels, move

Step = Callable[[], Tensor]


def inner_optimizer(optimizer: Any) -> Any:
    """The optimizer a wrapper steps (accelerate's ``AcceleratedOptimizer.optimizer``), or
    ``optimizer`` itself when it wraps none.

    Example
    -------
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)
    >>> inner_optimizer(opt) is opt
    True
    """
    inner = getattr(optimizer, "optimizer", None)
    if isinstance(inner, torch.optim.Optimizer) and inner is not optimizer:
        return inner
    return optimizer


def needs_closure(optimizer: Any) -> bool:
    """Whether ``optimizer.step`` must be given a closure (torch.optim.LBFGS and the like, also
    inside a wrapper whose own ``step`` takes an optional closure).

    Example
    -------
    >>> p = [torch.nn.Parameter(torch.ones(1))]
    >>> needs_closure(torch.optim.LBFGS(p)), needs_closure(torch.optim.SGD(p, lr=0.1))
    (True, False)
    """
    optimizer = inner_optimizer(optimizer)
    try:
        p = inspect.signature(optimizer.step).parameters.get("closure")
    except (TypeError, ValueError):  # a builtin or C step: assume the usual optional closure
        return False
    return (
        p is not None
        and p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    )


def own_scaler(optimizer: object) -> torch.amp.GradScaler | None:
    """The enabled GradScaler that ``optimizer.step()`` drives itself, or None.

    accelerate's ``AcceleratedOptimizer`` with fp16 (on a GPU) holds the accelerator's
    ``scaler`` and calls its ``step`` and ``update`` inside its own ``step``: whoever steps it
    must scale the loss for backward with that scaler (``accelerator.backward`` does), and a
    range test must save and restore that scaler's state.

    Example
    -------
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)
    >>> own_scaler(opt) is None
    True
    """
    s = getattr(optimizer, "scaler", None)
    if isinstance(s, torch.amp.GradScaler) and s.is_enabled():
        return s
    return None


def check_own_scaler(grad_scaler: torch.amp.GradScaler | None, optimizer: Any) -> None:
    """Refuse a ``grad_scaler`` other than the one ``optimizer`` steps with itself, and an
    optimizer whose own GradScaler would have to drive a closure optimizer (LBFGS)."""
    own = own_scaler(optimizer)
    if own is None:
        return
    if grad_scaler is not None and grad_scaler is not own and grad_scaler.is_enabled():
        raise ValueError(
            f"grad_scaler: the optimizer ({type(optimizer).__name__}) steps with a GradScaler "
            "of its own (optimizer.scaler, e.g. accelerate's for fp16); pass grad_scaler=None "
            "(that one is used) or grad_scaler=optimizer.scaler"
        )
    if needs_closure(optimizer):
        raise ValueError(
            f"optimizer: {type(optimizer).__name__} steps with a GradScaler of its own "
            "(optimizer.scaler), which cannot drive an optimizer stepped with a closure "
            f"({type(inner_optimizer(optimizer)).__name__}); prepare it without fp16"
        )


def sync_state(optimizer: object) -> Any:
    """The object whose ``sync_gradients`` flag gates ``optimizer``'s ``step`` and
    ``zero_grad`` (accelerate's ``GradientState``: while it is False, in the middle of a
    gradient accumulation, the ``AcceleratedOptimizer`` skips both), or None.

    Example
    -------
    >>> sync_state(torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)) is None
    True
    """
    state = getattr(optimizer, "gradient_state", None)
    if isinstance(getattr(state, "sync_gradients", None), bool):
        return state
    return None


@contextlib.contextmanager
def stepping_every_call(optimizer: Any) -> Iterator[None]:
    """Hold an optimizer that skips steps between accumulation boundaries (see
    :func:`sync_state`) to stepping on every call; its flag is put back afterwards.

    A range test steps the optimizer itself once per reading (its own ``accumulation_steps``
    decide the batches per step), so a flag left False by an ``accelerator.accumulate`` loop
    must not turn every step of the test into nothing.

    Example
    -------
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)
    >>> with stepping_every_call(opt):   # a plain optimizer: nothing to hold
    ...     pass
    """
    state = sync_state(optimizer)
    if state is None:
        yield
        return
    was = state.sync_gradients
    state.sync_gradients = True
    try:
        yield
    finally:
        state.sync_gradients = was


def train_step(
    model: torch.nn.Module,
    optimizer: Any,
    criterion: Callable[..., Any] | None,
    batches: Iterator[Any],
    *,
    device: Device,
    non_blocking: bool,
    accumulation_steps: int = 1,
    step_fn: Callable[..., Any] | None = None,
    autocast: dict[str, Any] | None = None,
    grad_scaler: torch.amp.GradScaler | None = None,
) -> Step:
    """``step()``: one optimizer step on the next ``accumulation_steps`` batches; returns the
    step's loss, detached (the sum of the accumulated ones, each divided by their number; for
    an optimizer stepped with a closure, the closure's first evaluation, before the step).

    Parameters
    ----------
    batches : iterator
        Where each batch comes from (``next``).
    autocast : dict, optional
        ``torch.autocast`` arguments; forward and loss run under it when given.
    step_fn : callable, optional
        ``step_fn(model, batch) -> loss`` instead of ``criterion(model(inputs), labels)``.
    grad_scaler : torch.amp.GradScaler, optional
        Scales the loss for backward, steps the optimizer and updates. An optimizer with a
        scaler of its own (:func:`own_scaler`) gets its losses scaled by that one and
        steps and updates it itself.

    Example
    -------
    >>> m = torch.nn.Linear(2, 1); opt = torch.optim.SGD(m.parameters(), lr=0.1)
    >>> step = train_step(m, opt, torch.nn.MSELoss(), iter([(torch.ones(1, 2), torch.ones(1, 1))]),
    ...                   device="cpu", non_blocking=False)
    >>> step().shape
    torch.Size([])
    """
    nxt = batches.__next__
    closure_opt = needs_closure(optimizer)
    own = own_scaler(optimizer)
    if own is not None:
        grad_scaler = own
    if (
        autocast is None
        and grad_scaler is None
        and accumulation_steps == 1
        and step_fn is None
        and not closure_opt
    ):
        return _plain_step(model, optimizer, criterion, nxt, device, non_blocking)
    loss_of = _loss_fn(
        model, criterion, device, non_blocking, step_fn, autocast, accumulation_steps
    )
    if closure_opt:
        return _closure_step(optimizer, nxt, loss_of, accumulation_steps)
    return _general_step(optimizer, nxt, loss_of, accumulation_steps, grad_scaler, own is not None)


def _plain_step(
    model: torch.nn.Module,
    opt: Any,
    crit: Any,
    nxt: Callable[[], Any],
    dev: Device,
    non_blocking: bool,
) -> Step:
    # the hot path: the bare training loop, plus the checks a wrong batch or loss needs
    def step() -> Tensor:
        opt.zero_grad()
        b = nxt()
        if type(b) not in PAIR_TYPES or len(b) < 2:
            inputs, labels = inputs_and_labels(b, "train_loader")
        else:
            inputs, labels = b[0], b[1]
        loss = crit(model(move(inputs, dev, non_blocking)), move(labels, dev, non_blocking))
        if type(loss) is not Tensor or loss.numel() != 1 or not loss.requires_grad:
            check_loss(loss, "criterion")
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def _autocast_context(
    autocast: dict[str, Any] | None,
) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    if autocast is None:
        return contextlib.nullcontext
    return lambda: torch.autocast(**autocast)


def _loss_fn(
    model: torch.nn.Module,
    crit: Any,
    dev: Device,
    non_blocking: bool,
    step_fn: Callable[..., Any] | None,
    autocast: dict[str, Any] | None,
    acc: int,
) -> Callable[[Any], Tensor]:
    """``loss_of(batch)``: the batch's scalar loss, divided by ``acc``, with its graph."""
    context = _autocast_context(autocast)
    src = "step_fn" if step_fn is not None else "criterion"

    def loss_of(batch: Any) -> Tensor:
        with context():
            if step_fn is None:
                inputs, labels = inputs_and_labels(batch, "train_loader")
                loss = crit(model(move(inputs, dev, non_blocking)), move(labels, dev, non_blocking))
            else:
                loss = step_fn(model, move(batch, dev, non_blocking))
        if not isinstance(loss, Tensor) or loss.numel() != 1 or not loss.requires_grad:
            check_loss(loss, src)
        loss = loss.reshape(())
        return loss / acc if acc > 1 else loss

    return loss_of


def _closure_step(
    opt: Any, nxt: Callable[[], Any], loss_of: Callable[[Any], Tensor], acc: int
) -> Step:
    def step() -> Tensor:
        # every evaluation of the closure sees the same batches, as the optimizer expects
        batches = [nxt() for _ in range(acc)]
        first: list[Tensor] = []

        def closure() -> Tensor:
            opt.zero_grad()
            total = _backward(loss_of(batches[0]), None)
            for batch in batches[1:]:
                total = total + _backward(loss_of(batch), None)
            if not first:
                first.append(total)  # the loss before the step is the one recorded
            return total

        opt.step(closure)
        return first[0]

    return step


def _general_step(
    opt: Any,
    nxt: Callable[[], Any],
    loss_of: Callable[[Any], Tensor],
    acc: int,
    scaler: torch.amp.GradScaler | None,
    scaler_in_step: bool,
) -> Step:
    # autocast (inside loss_of), accumulation, a GradScaler: any of them.
    # scaler_in_step: the optimizer's own step() unscales, steps and updates the scaler
    steps_scaler = scaler if not scaler_in_step else None

    def step() -> Tensor:
        opt.zero_grad()
        total = _backward(loss_of(nxt()), scaler)
        for _ in range(acc - 1):
            total = total + _backward(loss_of(nxt()), scaler)
        if steps_scaler is not None:
            steps_scaler.step(opt)
            steps_scaler.update()
        else:
            opt.step()
        return total

    return step


def _backward(loss: Tensor, scaler: torch.amp.GradScaler | None) -> Tensor:
    """Backward through ``loss`` (scaled by ``scaler`` when given); the loss, detached, as a
    float32 tensor to add up."""
    if scaler is not None:
        scaler.scale(loss).backward()
    else:
        loss.backward()
    return loss.detach().float()


def validation_loss(
    model: torch.nn.Module,
    criterion: Callable[..., Any] | None,
    val_loader: Iterable[Any],
    *,
    device: Device,
    non_blocking: bool,
    step_fn: Callable[..., Any] | None = None,
    autocast: dict[str, Any] | None = None,
) -> Step:
    """``validate()``: the mean loss over all of ``val_loader``, in ``model.eval()`` without
    gradients (weighted by batch size when the labels have a length); the model is back in
    ``train()`` mode afterwards.

    Example
    -------
    >>> m = torch.nn.Linear(2, 1)
    >>> val = [(torch.zeros(3, 2), torch.ones(3, 1))]
    >>> validate = validation_loss(m, torch.nn.MSELoss(), val, device="cpu", non_blocking=False)
    >>> float(validate()) >= 0, m.training
    (True, True)
    """
    context = _autocast_context(autocast)
    src = "step_fn" if step_fn is not None else "criterion"
    # called only without a step_fn, where check_step_args required a criterion
    crit: Any = criterion
    dev = device

    def validate() -> Tensor:
        model.eval()
        total = torch.zeros((), device=dev)
        count = 0
        try:
            with torch.no_grad():
                for batch in val_loader:
                    with context():
                        if step_fn is None:
                            inputs, labels = inputs_and_labels(batch, "val_loader")
                            labels = move(labels, dev, non_blocking)
                            loss = crit(model(move(inputs, dev, non_blocking)), labels)
                            w = len(labels) if hasattr(labels, "__len__") else 1
                        else:
                            loss = step_fn(model, move(batch, dev, non_blocking))
                            w = 1
                    if not isinstance(loss, Tensor) or loss.numel() != 1:
                        check_loss(loss, src, trains=False)
                    total += loss.detach().float().reshape(()) * w
                    count += w
        finally:
            model.train()
        return total / max(count, 1)

    return validate


def then_validate(train: Step, validate: Step) -> Step:
    """``step()``: a training step whose recorded loss is the validation loss after it.

    Example
    -------
    >>> then_validate(lambda: torch.tensor(1.0), lambda: torch.tensor(2.0))()
    tensor(2.)
    """

    def step() -> Tensor:
        train()
        return validate()

    return step

"""Every bad input raises a clear error naming the parameter, before any training step."""
import pytest
import torch
from torch import nn

from lrwidget import LRFinder


@pytest.fixture
def watched(mlp, digits_loader, full_state):
    opt = torch.optim.Adam(mlp.parameters(), lr=1e-4)
    calls = {"forward": 0, "step": 0}
    mlp.register_forward_hook(lambda *a: calls.__setitem__("forward", calls["forward"] + 1))
    opt.register_step_pre_hook(lambda *a: calls.__setitem__("step", calls["step"] + 1))
    return mlp, opt, calls, full_state(mlp, opt)


BAD_RANGE_TEST = [
    (dict(start_lr=0.0), ValueError, "start_lr"),
    (dict(start_lr=-1e-3), ValueError, "start_lr"),
    (dict(start_lr=float("nan")), ValueError, "start_lr"),
    (dict(start_lr=[1e-3, 1e-4]), ValueError, "start_lr"),  # one group only
    (dict(start_lr="0.001"), TypeError, "start_lr"),
    (dict(start_lr=1e-3, end_lr=1e-3), ValueError, "end_lr"),
    (dict(start_lr=1e-3, end_lr=1e-4), ValueError, "end_lr"),
    (dict(end_lr=1e-5), ValueError, "end_lr"),  # below the optimizer's lr (start_lr=None)
    (dict(num_iter=1), ValueError, "num_iter"),
    (dict(num_iter=0), ValueError, "num_iter"),
    (dict(num_iter=10.0), TypeError, "num_iter"),
    (dict(step_mode="log"), ValueError, "step_mode"),
    (dict(smooth_f=1.0), ValueError, "smooth_f"),
    (dict(smooth_f=-0.1), ValueError, "smooth_f"),
    (dict(diverge_th=1.0), ValueError, "diverge_th"),
    (dict(diverge_th=0.5), ValueError, "diverge_th"),
    (dict(accumulation_steps=0), ValueError, "accumulation_steps"),
    (dict(accumulation_steps=1.5), TypeError, "accumulation_steps"),
    (dict(step_fn="not callable"), TypeError, "step_fn"),
    (dict(train_loader=[]), ValueError, "train_loader is empty"),
    (dict(train_loader=torch.utils.data.DataLoader(torch.utils.data.TensorDataset(
        torch.zeros(0, 64), torch.zeros(0, dtype=torch.long)))), ValueError, "empty"),
    (dict(train_loader=5), TypeError, "train_loader"),
    (dict(val_loader=[]), ValueError, "val_loader is empty"),
]


@pytest.mark.parametrize("method", ["range_test", "check_range_test_args"])
@pytest.mark.parametrize("kwargs, exc, words", BAD_RANGE_TEST,
                         ids=[str(k)[:60] for k, _, _ in BAD_RANGE_TEST])
def test_bad_range_test_arguments(watched, digits_loader, full_state, assert_same_state,
                                  kwargs, exc, words, method):
    # check_range_test_args (what the widget calls before its thread starts) raises what
    # range_test raises, and neither trains a step
    model, opt, calls, before = watched
    kwargs = dict(kwargs)
    loader = kwargs.pop("train_loader", digits_loader)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    with pytest.raises(exc, match=words):
        getattr(finder, method)(loader, **kwargs)
    assert calls == {"forward": 0, "step": 0}
    assert_same_state(full_state(model, opt), before)
    assert finder.result is None and not finder.running


@pytest.mark.parametrize("result, exc, words", [
    (lambda out, y: nn.functional.cross_entropy(out, y, reduction="none"), ValueError, "shape"),
    (lambda out, y: 1.0, TypeError, "scalar loss tensor"),
])
def test_criterion_result_must_be_a_scalar_tensor(watched, digits_loader, full_state,
                                                  assert_same_state, result, exc, words):
    model, opt, calls, before = watched
    finder = LRFinder(model, opt, result)
    with pytest.raises(exc, match=f"criterion must return a {words}|{words}"):
        finder.range_test(digits_loader, end_lr=1.0, num_iter=10)
    assert calls["step"] == 0  # the forward had to run to see the loss; no step did
    assert_same_state(full_state(model, opt), before)


def test_step_fn_result_must_be_a_scalar_tensor(watched, digits_loader, full_state,
                                                assert_same_state):
    model, opt, calls, before = watched
    with pytest.raises(ValueError, match="step_fn must return a scalar loss tensor"):
        LRFinder(model, opt).range_test(digits_loader, end_lr=1.0, num_iter=10,
                                        step_fn=lambda m, b: m(b[0]))
    assert calls["step"] == 0
    assert_same_state(full_state(model, opt), before)


def test_missing_criterion_and_step_fn(watched, digits_loader):
    model, opt, calls, _ = watched
    with pytest.raises(ValueError, match="criterion is None"):
        LRFinder(model, opt).range_test(digits_loader, end_lr=1.0)
    assert calls == {"forward": 0, "step": 0}


def test_constructor_checks(mlp):
    other = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="optimizer holds none of the model's parameters"):
        LRFinder(mlp, torch.optim.SGD(other.parameters(), lr=0.1))
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        LRFinder(lambda x: x, torch.optim.SGD(mlp.parameters(), lr=0.1))
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        LRFinder(mlp, "sgd")
    with pytest.raises(TypeError, match="criterion must be callable"):
        LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=0.1), criterion=3)
    with pytest.raises(ValueError, match="amp_backend"):
        LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=0.1), amp_backend="apex")


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(start_lr=0), ValueError, "start_lr"),
    (dict(end_lr=1e-6), ValueError, "end_lr"),
    (dict(num_iter=1), ValueError, "num_iter"),
    (dict(step_mode="cos"), ValueError, "step_mode"),
    (dict(smooth_f=2), ValueError, "smooth_f"),
    (dict(diverge_th=1), ValueError, "diverge_th"),
])
def test_bad_track_arguments(watched, full_state, assert_same_state, kwargs, exc, words):
    model, opt, calls, before = watched
    with pytest.raises(exc, match=words):
        LRFinder(model, opt).track(**kwargs)
    assert_same_state(full_state(model, opt), before)


def test_subscribe_and_apply_arguments(mlp):
    finder = LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=0.1))
    with pytest.raises(TypeError, match="callback"):
        finder.subscribe(None)
    with pytest.raises(ValueError, match="interval"):
        finder.subscribe(print, interval=0)
    for bad in (0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="lr"):
            finder.apply(bad)
    with pytest.raises(TypeError, match="lr"):
        finder.apply("0.1")


# ---- LRFinder.check_range_test_args: the same checks, without running anything ------------------

def test_check_range_test_args_accepts_good_arguments_and_runs_nothing(watched, digits_loader,
                                                                      full_state,
                                                                      assert_same_state):
    model, opt, calls, before = watched
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    seen = []

    class Watched:  # a loader that records being iterated
        def __iter__(self):
            seen.append(1)
            return iter(digits_loader)

        def __len__(self):
            return len(digits_loader)

    assert finder.check_range_test_args(Watched(), val_loader=Watched(), start_lr=1e-5,
                                        end_lr=1.0, num_iter=20, step_mode="linear",
                                        smooth_f=0.1, diverge_th=3, accumulation_steps=2,
                                        non_blocking_transfer=False) is None
    assert seen == [] and calls == {"forward": 0, "step": 0} and finder.result is None
    assert_same_state(full_state(model, opt), before)


def test_check_range_test_args_names_unknown_keywords_and_the_accepted_ones(watched,
                                                                           digits_loader):
    model, opt, _, _ = watched
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'num_iters'.*"
                                        r"accepted keyword arguments: val_loader, start_lr"):
        finder.check_range_test_args(digits_loader, num_iters=10)
    with pytest.raises(ValueError, match="criterion is None"):
        LRFinder(model, opt).check_range_test_args(digits_loader)


def test_check_range_test_args_refuses_while_a_test_runs(watched, digits_loader):
    model, opt, _, _ = watched
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    errors = []

    def step(m, batch):
        if not errors:
            try:
                finder.check_range_test_args(digits_loader)
            except RuntimeError as e:
                errors.append(str(e))
        x, y = batch
        return nn.functional.cross_entropy(m(x), y)

    finder.range_test(digits_loader, end_lr=1.0, num_iter=3, step_fn=step)
    assert errors and "already running" in errors[0]

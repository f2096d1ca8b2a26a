"""Several range tests on one model (lrwidget.compare_optimizers, lrwidget.compare_batch_sizes):
the model restored bit for bit between tests and at the end, the fit, the refusals."""

import pytest
import torch
from torch import nn

import lrwidget
from lrwidget.engine.batches import loader_generators

SGD = lambda p: torch.optim.SGD(p, lr=1e-5, momentum=0.9)  # noqa: E731
ADAM = lambda p: torch.optim.Adam(p, lr=1e-5)  # noqa: E731


def _state_with_generators(full_state, model, *loaders):
    return {
        "model": full_state(model),
        "generators": [g.get_state() for g in loader_generators(*loaders)],
    }


def test_compare_optimizers_starts_each_test_from_the_model_that_went_in(
    mlp, digits_loader, full_state, assert_same_state
):
    before = _state_with_generators(full_state, mlp, digits_loader)
    res = lrwidget.compare_optimizers(
        mlp,
        {"SGD": SGD, "Adam": ADAM, "SGD again": SGD},
        digits_loader,
        nn.CrossEntropyLoss(),
        end_lr=1.0,
        num_iter=15,
    )
    assert list(res) == ["SGD", "Adam", "SGD again"]
    assert isinstance(res.optimizers["Adam"], torch.optim.Adam)
    assert {type(o) for o in res.optimizers.values()} == {torch.optim.SGD, torch.optim.Adam}
    # the third test ran from the same model, RNG (dropout) and data order as the first
    assert torch.equal(torch.as_tensor(res["SGD"].losses), torch.as_tensor(res["SGD again"].losses))
    assert not torch.equal(torch.as_tensor(res["SGD"].losses), torch.as_tensor(res["Adam"].losses))
    assert_same_state(before, _state_with_generators(full_state, mlp, digits_loader))
    assert res.suggestions() == {k: r.suggested_lr for k, r in res.items()}


def _other_models_sgd(p):
    return torch.optim.SGD(nn.Linear(64, 10).parameters(), lr=1e-3)


@pytest.mark.parametrize(
    "factories, error, match",
    [
        ({}, ValueError, "optimizers is empty"),
        ([SGD], TypeError, "optimizers must be a dict of label -> factory"),
        ({"": SGD}, TypeError, "labels must be non-empty strs"),
        (
            {"SGD": torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1)},
            TypeError,
            r"optimizers\['SGD'\] must be a callable",
        ),
        ({"SGD": lambda p: list(p)}, TypeError, r"optimizers\['SGD'\] returned list"),
        (
            {"SGD": SGD, "other": _other_models_sgd},
            ValueError,
            r"optimizers\['other'\] built an optimizer over 2 of 2 tensors that are not",
        ),
    ],
)
def test_compare_optimizers_refuses_bad_input_before_any_step(
    mlp, digits_loader, factories, error, match
):
    before = [p.detach().clone() for p in mlp.parameters()]
    with pytest.raises(error, match=match):
        lrwidget.compare_optimizers(mlp, factories, digits_loader, nn.CrossEntropyLoss())
    assert all(torch.equal(p, q) for p, q in zip(mlp.parameters(), before))


def test_compare_optimizers_checks_every_test_before_the_first(mlp, digits_loader):
    with pytest.raises(TypeError, match="num_iters"):
        lrwidget.compare_optimizers(
            mlp, {"SGD": SGD}, digits_loader, nn.CrossEntropyLoss(), num_iters=5
        )
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        lrwidget.compare_optimizers("mlp", {"SGD": SGD}, digits_loader)


# ---------------------------------------------------------------------- batch sizes


def _regression(batch_sizes):
    """A linear regression whose loss is the batch mean divided by B: its gradient shrinks as
    1/B, so plain SGD's usable lr grows exactly as B (lr* ∝ B^1)."""
    X = torch.randn(512, 8)
    Y = X @ torch.randn(8, 1) + 0.1 * torch.randn(512, 1)
    ds = torch.utils.data.TensorDataset(X, Y)
    loaders = {
        b: torch.utils.data.DataLoader(
            ds, batch_size=b, shuffle=True, generator=torch.Generator().manual_seed(0)
        )
        for b in batch_sizes
    }
    model = nn.Linear(8, 1)
    return model, torch.optim.SGD(model.parameters(), lr=1e-3), loaders


def _per_b(out, y):
    return nn.functional.mse_loss(out, y) / len(y)


def test_the_batch_size_exponent_of_a_known_case_is_recovered_and_nothing_moves(
    full_state, assert_same_state
):
    model, opt, loaders = _regression((8, 64))
    torch.manual_seed(123)
    before = _state_with_generators(full_state, model, *loaders.values())
    before["optimizer"] = full_state(model, opt)["optimizer"]
    res = lrwidget.compare_batch_sizes(
        model, opt, loaders, _per_b, seeds=3, start_lr=1e-3, end_lr=1e4, num_iter=60
    )
    assert res.fit.rule == "linear", res.fit
    assert abs(res.fit.exponent - 1) < 0.25 and res.fit.spread < 0.25
    assert res.fit.text.endswith(": linear (SGD)")
    assert list(res) == [f"B={b} seed {s}" for s in range(3) for b in (8, 64)]
    assert res.batch_sizes == (8, 64) and res.seeds == (0, 1, 2)
    assert len(res.fit.points) == 2 and res.fit.points[0][0] < res.fit.points[1][0]
    assert all(o is opt for o in res.optimizers.values())
    # the seeds did vary the data order
    assert not torch.equal(
        torch.as_tensor(res["B=8 seed 0"].losses), torch.as_tensor(res["B=8 seed 1"].losses)
    )
    after = _state_with_generators(full_state, model, *loaders.values())
    after["optimizer"] = full_state(model, opt)["optimizer"]
    assert_same_state(before, after)


def test_the_mean_loss_has_no_batch_size_rule(full_state):
    model, opt, loaders = _regression((8, 64))
    res = lrwidget.compare_batch_sizes(
        model, opt, loaders, nn.MSELoss(), seeds=[4, 5, 6], start_lr=1e-3, end_lr=1e4, num_iter=60
    )
    assert res.fit.rule in ("neither", "undecided"), res.fit
    assert res.fit.rule != "linear" and abs(res.fit.exponent) < 0.5


@pytest.mark.parametrize(
    "loaders, seeds, error, match",
    [
        ({}, 3, ValueError, "loaders is empty"),
        ([8, 64], 3, TypeError, "loaders must be a dict of batch size -> loader"),
        ({8: None}, 3, ValueError, "at least two batch sizes"),
        ({"8": None, 64: None}, 3, TypeError, r"loaders' keys \(batch sizes\) must be ints"),
        ({8.0: None, 64: None}, 3, TypeError, "must be ints"),
        ({True: None, 64: None}, 3, TypeError, "must be ints"),
        (
            {8: None, 64: None},
            1,
            ValueError,
            "seeds=1: the fit of lr\\* ∝ B\\^a needs at least two",
        ),
        ({8: None, 64: None}, [3, 3], ValueError, "at least two distinct seeds"),
        ({8: None, 64: None}, "3", TypeError, "seeds must be an int"),
    ],
)
def test_compare_batch_sizes_refuses_bad_input_clearly(loaders, seeds, error, match):
    model, opt, real = _regression((8, 64))
    loaders = (
        {k: real.get(k, real[8]) if v is None else v for k, v in loaders.items()}
        if isinstance(loaders, dict)
        else loaders
    )
    with pytest.raises(error, match=match):
        lrwidget.compare_batch_sizes(model, opt, loaders, _per_b, seeds=seeds)


def test_a_loader_whose_batch_size_is_not_its_key_is_refused():
    model, opt, loaders = _regression((8, 64))
    with pytest.raises(ValueError, match=r"loaders\[64\] yields batches of 8, not 64"):
        lrwidget.compare_batch_sizes(model, opt, {8: loaders[8], 64: loaders[8]}, _per_b)


def test_compare_batch_sizes_refuses_an_optimizer_of_another_model():
    model, _, loaders = _regression((8, 64))
    other = torch.optim.SGD(nn.Linear(8, 1).parameters(), lr=1e-3)
    with pytest.raises(ValueError, match="optimizer holds none of the model's parameters"):
        lrwidget.compare_batch_sizes(model, other, loaders, _per_b)


def test_compare_hands_every_run_its_label_and_optimizer_to_the_chart(mlp, digits_loader):
    res = lrwidget.compare_optimizers(
        mlp, {"SGD": SGD, "Adam": ADAM}, digits_loader, nn.CrossEntropyLoss(), num_iter=10
    )
    cmp = lrwidget.compare(res)
    assert cmp.runs == ("SGD", "Adam")
    assert cmp.apply("Adam", res["Adam"].lrs[5]) == res["Adam"].lrs[5]
    assert res.optimizers["Adam"].param_groups[0]["lr"] == res["Adam"].lrs[5]
    model, opt, loaders = _regression((8, 64))
    fits = lrwidget.compare_batch_sizes(model, opt, loaders, _per_b, seeds=3, num_iter=10)
    cmp = lrwidget.compare(fits)
    assert cmp.runs == tuple(fits)  # 6 runs: all shown, with the fit as the trend
    assert cmp.compare_trend["text"] == fits.fit.text

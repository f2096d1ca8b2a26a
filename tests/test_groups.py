"""One range test per param group (LRFinder.range_test_groups) and apply_groups."""

import pytest
import torch
from torch import nn

from lrwidget import LRFinder


def _two_groups(make_mlp, names=("backbone", "head")):
    """The digits MLP, Adam with a backbone group (all but the last layer) and a head group, a
    few steps trained so that Adam's moments exist."""
    model = make_mlp(bn=True, dropout=0.2)
    head = list(model[-1].parameters())
    body = [p for m in list(model)[:-1] for p in m.parameters()]
    groups = [{"params": body, "lr": 1e-4}, {"params": head, "lr": 1e-3}]
    for g, n in zip(groups, names):
        if n is not None:
            g["name"] = n
    return model, torch.optim.Adam(groups, weight_decay=1e-4)


def _train(model, opt, loader, steps=3):
    for (x, y), _ in zip(loader, range(steps)):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


def test_each_group_is_swept_alone_and_the_held_groups_never_change(
    make_mlp, digits_loader, full_state, assert_same_state
):
    model, opt = _two_groups(make_mlp)
    _train(model, opt, digits_loader)
    before = full_state(model, opt)
    held_lrs, swept_lrs = [], []

    def step(m, batch):
        # runs inside every step of every group's test: what the held group holds right now
        testing = opt.param_groups[0]
        held = next(g for g in groups if g is not testing)
        held_lrs.append((held["name"], held["lr"]))
        for p, p0 in zip(held["params"], held_params[held["name"]]):
            assert torch.equal(p, p0), f"a parameter of the held group {held['name']!r} changed"
        for p in held["params"]:
            assert opt.state[p]["step"] == held_steps[id(p)], "the held group's state moved"
        swept_lrs.append((testing["name"], testing["lr"]))
        x, y = batch
        return nn.functional.cross_entropy(m(x), y)

    groups = list(opt.param_groups)
    held_params = {g["name"]: [p.detach().clone() for p in g["params"]] for g in groups}
    held_steps = {id(p): opt.state[p]["step"].clone() for g in groups for p in g["params"]}
    finder = LRFinder(model, opt)
    results = finder.range_test_groups(digits_loader, end_lr=10.0, num_iter=30, step_fn=step)

    assert list(results) == ["backbone", "head"]
    assert {n for n, _ in held_lrs} == {"backbone", "head"}  # each was held once
    assert all(lr == (1e-4 if n == "backbone" else 1e-3) for n, lr in held_lrs)
    for name in results:  # the swept group's lr did move, from its own lr to end_lr
        mine = [lr for n, lr in swept_lrs if n == name]
        assert mine[0] == (1e-4 if name == "backbone" else 1e-3) and mine[-1] > 1.0
        assert results[name].suggested_lr is not None
    assert opt.param_groups == groups  # the same list of the same dicts
    assert_same_state(before, full_state(model, opt))


def test_groups_without_names_are_their_indices_and_a_subset_can_be_tested(make_mlp, digits_loader):
    model, opt = _two_groups(make_mlp, names=(None, "head"))
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    results = finder.range_test_groups(digits_loader, groups=[0], num_iter=10)
    assert list(results) == [0]
    assert finder.result is results[0]
    with pytest.raises(
        ValueError, match=r"groups: 'neck' is not a param group; the groups are \[0, 'head'\]"
    ):
        finder.range_test_groups(digits_loader, groups=["neck"], num_iter=10)


def test_bad_arguments_are_refused_for_every_group_before_any_step(make_mlp, digits_loader):
    model, opt = _two_groups(make_mlp)
    before = [p.detach().clone() for p in model.parameters()]
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    with pytest.raises(TypeError, match="start_lr must be one lr"):
        finder.range_test_groups(digits_loader, start_lr=[1e-5, 1e-4], num_iter=10)
    with pytest.raises(TypeError, match="num_iters"):
        finder.range_test_groups(digits_loader, num_iters=10)
    # the head's sweep from 1e-3 to 1e-4 is backwards: found before the backbone's test ran
    with pytest.raises(ValueError, match="end_lr"):
        finder.range_test_groups(digits_loader, end_lr=5e-4, num_iter=10)
    assert finder.result is None
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))
    opt.param_groups[1]["name"] = "backbone"
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['name'\] is 'backbone'"):
        finder.range_test_groups(digits_loader, num_iter=10)


def test_apply_groups_writes_each_groups_own_lr_or_its_suggestion(make_mlp, digits_loader):
    model, opt = _two_groups(make_mlp)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    results = finder.range_test_groups(digits_loader, num_iter=40)
    want = [results["backbone"].suggested_lr, results["head"].suggested_lr]
    assert finder.apply_groups(results) == want == [g["lr"] for g in opt.param_groups]
    assert finder.apply_groups({"head": 0.25}) == [want[0], 0.25]


@pytest.mark.parametrize(
    "lrs, error, match",
    [
        ({}, TypeError, "lrs must be a non-empty dict"),
        ([0.1, 0.2], TypeError, "lrs must be a non-empty dict"),
        ({"neck": 0.1}, ValueError, "'neck' is not a param group"),
        ({1: 0.1}, ValueError, "1 is not a param group"),
        ({"head": None}, ValueError, r"lrs\['head'\] is None"),
        ({"head": -1.0}, ValueError, r"lrs\['head'\] must be a positive finite"),
        ({"head": True}, TypeError, r"lrs\['head'\]"),
        ({"head": float("nan")}, ValueError, r"lrs\['head'\] must be a positive finite"),
    ],
)
def test_apply_groups_refuses_bad_input_naming_it_and_writes_nothing(make_mlp, lrs, error, match):
    model, opt = _two_groups(make_mlp)
    with pytest.raises(error, match=match):
        LRFinder(model, opt).apply_groups(
            {"backbone": 0.5, **lrs} if isinstance(lrs, dict) and lrs else lrs
        )
    assert [g["lr"] for g in opt.param_groups] == [1e-4, 1e-3]

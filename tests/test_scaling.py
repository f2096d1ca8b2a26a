"""lr* ∝ B^a fitted over batch sizes and seeds (lrwidget.pure.scaling): pure, given lr*s."""

import math

import numpy as np
import pytest

from lrwidget.pure.scaling import fit_scaling

SIZES = [32, 64, 256]


def _lrs(a, noise, seeds=3, c=1e-4, seed=0):
    """Each seed's lr* = c B^a, times a log-normal noise of sd ``noise`` (in log units)."""
    rng = np.random.default_rng(seed)
    return [
        [c * b**a * math.exp(noise * rng.standard_normal()) for b in SIZES] for _ in range(seeds)
    ]


@pytest.mark.parametrize(
    "a, rule", [(1.0, "linear"), (0.5, "square root"), (0.0, "neither"), (-1.0, "neither")]
)
def test_the_exponent_of_a_known_lr_star_is_recovered_with_its_rule(a, rule):
    fit = fit_scaling(SIZES, _lrs(a, noise=0.05))
    assert abs(fit.exponent - a) < 0.05
    assert 0 < fit.spread < 0.1
    assert fit.rule == rule
    assert len(fit.exponents) == 3 and fit.text.startswith(f"lr* ∝ B^{fit.exponent:.2f} ± ")


def test_a_spread_that_cannot_separate_the_rules_claims_no_rule():
    fit = fit_scaling(SIZES, _lrs(0.75, noise=0.6, seed=3))
    assert fit.spread > 0.2
    assert fit.rule == "undecided", fit


def test_a_rule_that_cannot_be_told_from_no_scaling_is_not_claimed():
    # 0.25 +- a band of ~0.3: 0.5 is inside, 1 is not, but neither is 0 excluded
    fit = fit_scaling(SIZES, _lrs(0.25, noise=0.1, seed=5), lr_step=2.2)
    assert abs(fit.exponent) < fit.half_width and abs(fit.exponent - 0.5) < fit.half_width
    assert fit.rule == "undecided"
    assert fit.text.endswith(": undecided (square root or no scaling)")


def test_a_tested_lr_grid_coarser_than_the_spread_widens_the_band():
    lrs = _lrs(0.8, noise=0.0)  # no spread at all: exactly 0.8, neither rule
    assert fit_scaling(SIZES, lrs).rule == "neither"
    # but with one lr step of x3 over a x8 span of batch sizes, 0.8 is within 0.53 of both
    assert fit_scaling(SIZES, lrs, lr_step=3.0).rule == "undecided"


def test_points_are_the_geometric_mean_lr_and_mean_loss_per_batch_size():
    fit = fit_scaling([32, 256], [[1e-3, 4e-3], [4e-3, 16e-3]], [[1.0, 2.0], [3.0, None]])
    assert np.allclose(fit.points, [(2e-3, 2.0), (8e-3, 2.0)])


def test_a_seed_without_two_suggestions_is_left_out_and_too_few_say_undecided():
    fit = fit_scaling([32, 256], [[1e-3, 8e-3], [1e-3, None], [1e-3, 8e-3]])
    assert fit.exponents == pytest.approx((1.0, 1.0))
    few = fit_scaling([32, 256], [[1e-3, 8e-3], [None, 2e-3]])
    assert few.rule == "undecided" and math.isnan(few.spread)
    assert "fewer than two seeds" in few.text


@pytest.mark.parametrize(
    "sizes, lrs, match",
    [
        ([32], [[1e-3], [1e-3]], "at least two batch sizes"),
        ([32, 32], [[1e-3, 1e-3], [1e-3, 1e-3]], "at least two batch sizes"),
        ([32, 64, 32], [[1e-3] * 3] * 2, "a batch size twice"),
        ([32, 256], [[1e-3, 8e-3]], "at least two seeds"),
        ([32, 256], [[1e-3, 8e-3], [1e-3]], r"lrs\[1\] must hold one value per batch size"),
        ([32, 256], [[1e-3, 8e-3], [1e-3, -1.0]], r"lrs\[1\]\[1\] must be a positive"),
        ([32, 256], [[1e-3, 8e-3], [1e-3, True]], r"lrs\[1\]\[1\] must be a positive"),
        ([0, 256], [[1e-3, 8e-3], [1e-3, 1e-3]], "ints >= 1"),
    ],
)
def test_bad_input_is_refused_naming_it(sizes, lrs, match):
    with pytest.raises(ValueError, match=match):
        fit_scaling(sizes, lrs)


def test_a_batch_size_that_is_not_an_int_is_refused():
    with pytest.raises(TypeError, match="batch_sizes must be ints"):
        fit_scaling([32.0, 256], [[1e-3, 8e-3], [1e-3, 8e-3]])
    with pytest.raises(ValueError, match="lr_step must be 0 or a finite factor"):
        fit_scaling([32, 256], [[1e-3, 8e-3], [1e-3, 8e-3]], lr_step=0.5)

"""Suggestion rules: properties on arbitrary input, and known answers on synthetic curves."""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lrwidget.pure import suggest as S

ALL = list(S.RULES)


def _finite_sweep_bounds(lrs, losses):
    """[min, max] lr over the readings before the first non-finite loss (the finite-loss sweep)."""
    lrs, losses = np.asarray(lrs, float), np.asarray(losses, float)
    bad = ~np.isfinite(losses)
    cut = int(np.argmax(bad)) if bad.any() else losses.size
    x = lrs[:cut]
    x = x[np.isfinite(x) & (x > 0)]
    return (x.min(), x.max()) if x.size else (None, None)


def _check(lrs, losses, s, name):
    assert isinstance(s, S.Suggestion)
    assert s.name == name
    assert isinstance(s.reason, str) and s.reason and "\n" not in s.reason
    if s.lr is None:
        assert s.index is None
        return
    assert isinstance(s.lr, float) and math.isfinite(s.lr)
    lo, hi = _finite_sweep_bounds(lrs, losses)
    assert lo is not None and lo <= s.lr <= hi
    if s.index is not None:
        assert isinstance(s.index, int)
        assert s.lr == float(np.asarray(lrs, float)[s.index])
        assert math.isfinite(float(np.asarray(losses, float)[s.index]))


any_floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), n=st.integers(0, 120))
def test_any_float_arrays_never_raise(data, n):
    lrs = data.draw(hnp.arrays(np.float64, n, elements=any_floats))
    losses = data.draw(hnp.arrays(np.float64, n, elements=any_floats))
    out = S.suggest_all(lrs, losses)
    assert list(out) == [S.DEFAULT] + [r for r in ALL if r != S.DEFAULT]
    for name, s in out.items():
        _check(lrs, losses, s, name)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), n=st.integers(0, 200), lo=st.floats(-9, -1), span=st.floats(0.5, 8))
def test_real_sweeps_with_any_losses(data, n, lo, span):
    # the sweeps the engine produces (geometric, increasing), arbitrary, partly non-finite losses
    lrs = np.logspace(lo, lo + span, n)
    losses = data.draw(hnp.arrays(np.float64, n, elements=any_floats))
    raw = data.draw(st.none() | hnp.arrays(np.float64, n, elements=any_floats))
    for name in ALL:
        s = S.suggest(lrs, losses, name, raw=raw)
        # raw can only cut the curve earlier, so the bounds of the smoothed curve still hold
        _check(lrs, losses, s, name)
        if raw is not None and s.index is not None:
            assert np.isfinite(np.asarray(raw)[: s.index + 1]).all()


@settings(max_examples=200, deadline=None)
@given(n=st.integers(20, 300), noise=st.floats(0, 0.3), seed=st.integers(0, 2**31 - 1))
def test_noisy_descent_then_explosion_lands_before_the_explosion(n, noise, seed):
    rng = np.random.default_rng(seed)
    lrs = np.logspace(-6, 1, n)
    losses = _descent(lrs) * np.exp(noise * 0.1 * rng.standard_normal(n))
    # the engine stops once the loss exceeds 5x its best (diverge_th=5)
    over = losses > 5 * np.minimum.accumulate(losses)
    if over.any():
        lrs, losses = lrs[: np.argmax(over) + 1], losses[: np.argmax(over) + 1]
    for name, s in S.suggest_all(lrs, losses).items():
        _check(lrs, losses, s, name)
        assert s.lr is not None, (name, s.reason)
        assert s.lr < 0.5, (name, s.lr)


def _descent(lrs, mid=-3.0, blow=-0.5):
    """Sigmoid-like fall centred at 10**mid (from 2.3 to 0.1), then an explosion past 10**blow."""
    x = np.log10(lrs)
    fall = 2.2 / (1 + np.exp(3.0 * (x - mid))) + 0.1
    return fall + np.where(x > blow, 20 * (x - blow) ** 2, 0.0)


# --- table: synthetic curves with a known answer -------------------------------------------------


def test_clean_descent_then_explosion():
    lrs = np.logspace(-6, 1, 100)
    losses = _descent(lrs)
    out = S.suggest_all(lrs, losses)
    # the descent spans roughly 1e-4.5 .. 1e-1.5 (sigmoid's 1%..99%); its steepest point is 1e-3
    assert 10**-4.6 < out["valley"].lr < 10**-1.5
    assert 10**-3.3 < out["steep"].lr < 10**-2.7
    # lowest loss just before the explosion (~1e-0.8), /10
    assert 10**-2.2 < out["minimum"].lr < 10**-1.4
    assert out["slide"].lr < 10**-0.5
    assert "longest descent" in out["valley"].reason
    assert out["valley"].index is not None and out["steep"].index is not None
    assert out["minimum"].index is None  # derived, not a reading


def test_reasons_write_lrs_as_every_view_does():
    # the lrs quoted in a reason read exactly as the legend, the report and the widget write them
    from lrwidget.pure.rules import format_lr

    lrs = np.logspace(-6, 1, 100)
    out = S.suggest_all(lrs, _descent(lrs))
    number = r"\d(?:\.\d+)?(?:e-?\d+)?"
    quoted = re.findall(rf"lr ({number})(?:\.\.({number}))?", out["valley"].reason)
    assert quoted, out["valley"].reason
    written = {format_lr(v) for v in lrs}
    for a, b in quoted:
        assert a in written and b in written, out["valley"].reason
    m = out["minimum"]
    assert f"lowest loss at lr {format_lr(m.lr * 10)}" in m.reason


def test_diverged_curve_is_cut_at_the_first_nan():
    lrs = np.logspace(-6, 1, 100)
    losses = _descent(lrs)
    cut = 85
    losses[cut:] = np.nan
    losses[cut + 3] = 0.0  # a finite, low value after divergence must be ignored
    out = S.suggest_all(lrs, losses)
    for name, s in out.items():
        assert s.lr is not None and s.lr <= lrs[cut - 1], name
        if s.index is not None:
            assert s.index < cut


def test_raw_nan_marks_divergence_even_when_smoothed_is_finite():
    lrs = np.logspace(-6, 1, 100)
    losses = _descent(lrs)
    raw = losses.copy()
    raw[60] = np.inf
    s = S.suggest(lrs, losses, "minimum", raw=raw)
    # without raw the minimum is near 1e-0.8; with raw the curve ends at reading 59
    assert s.lr <= lrs[59] / 10 * 1.0000001
    assert S.suggest(lrs, losses, "minimum").lr > lrs[59] / 10


def test_monotone_fall_to_the_end():
    lrs = np.logspace(-5, -1, 80)
    losses = np.linspace(3.0, 0.5, 80)
    out = S.suggest_all(lrs, losses)
    # a single descent over the whole (skipped) curve: valley is about halfway in log lr
    assert 10**-3.6 < out["valley"].lr < 10**-2.4
    m = out["minimum"]
    assert m.lr == pytest.approx(lrs[80 - 5 - 1] / 10)
    assert "still falling" in m.reason


def test_constant_curve_has_no_suggestion():
    lrs = np.logspace(-5, 0, 50)
    for name, s in S.suggest_all(lrs, np.full(50, 1.7)).items():
        assert s.lr is None, name
        assert "decrease" in s.reason or "flat" in s.reason


def test_rising_curve_has_no_descent():
    lrs = np.logspace(-5, 0, 50)
    losses = np.linspace(1, 5, 50)
    for rule in (S.valley, S.steep, S.minimum):
        assert rule(lrs, losses).lr is None
        assert "never decreases" in rule(lrs, losses).reason


@pytest.mark.parametrize(
    "losses", [np.full(40, np.nan), np.full(40, np.inf), np.r_[1.0, np.full(39, np.nan)]]
)
def test_all_nan_or_inf(losses):
    lrs = np.logspace(-5, 0, 40)
    for s in S.suggest_all(lrs, losses).values():
        assert s.lr is None and s.index is None
        assert "finite" in s.reason


@pytest.mark.parametrize("n", [0, 1, 2, 4])
def test_too_few_points(n):
    lrs = np.logspace(-5, 0, n)
    s = S.suggest(lrs, np.linspace(2, 1, n), "valley")
    assert s.lr is None and "too few" in s.reason


def test_steep_uses_log_lr_not_lr():
    # a linear-in-lr slope of the early noise must not win: against lr, the tiny first steps
    # (1e-6 apart) show huge slopes for a small wiggle; against log10(lr) the real cliff wins
    lrs = np.logspace(-6, 0, 100)
    losses = 1.0 / (1 + np.exp(4 * (np.log10(lrs) + 2))) + 0.2
    losses[12] -= 0.002  # a wiggle among the small lrs
    s = S.steep(lrs, losses)
    assert 10**-2.3 < s.lr < 10**-1.7
    lightning_like = lrs[10:-1][np.argmin(np.gradient(losses[10:-1], lrs[10:-1]))]
    assert lightning_like < 1e-4  # what the lr-axis gradient does with the same curve


def test_slide_walks_back_from_the_explosion():
    lrs = np.logspace(-5, 0, 100)
    losses = np.r_[np.linspace(2.0, 0.3, 70), 0.3 + np.linspace(0, 3, 30) ** 2]
    s = S.slide(lrs, losses)
    assert s.lr is not None and s.lr <= lrs[70]


def test_index_refers_to_the_callers_arrays_when_lrs_are_dropped():
    lrs = np.logspace(-6, 1, 100)
    losses = _descent(lrs)
    lrs = lrs.copy()
    lrs[[5, 30, 31]] = [np.nan, -1.0, 0.0]
    for s in S.suggest_all(lrs, losses).values():
        if s.index is not None:
            assert lrs[s.index] == s.lr


def test_bad_input():
    with pytest.raises(ValueError, match="same length"):
        S.suggest([1e-3, 1e-2], [1.0])
    with pytest.raises(ValueError, match="one-dimensional"):
        S.suggest(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="method must be one of"):
        S.suggest([1e-3, 1e-2], [1.0, 0.5], method="nope")
    with pytest.raises(ValueError, match="raw"):
        S.suggest([1e-3, 1e-2], [1.0, 0.5], raw=[1.0])


def test_default_is_a_rule_and_comes_first():
    assert S.DEFAULT in S.RULES
    lrs = np.logspace(-6, 1, 100)
    out = S.suggest_all(lrs, _descent(lrs))
    assert next(iter(out)) == S.DEFAULT
    assert S.suggest(lrs, _descent(lrs)) == out[S.DEFAULT]


def test_longest_descent_matches_fastai_quadratic_search():
    rng = np.random.default_rng(0)
    for _ in range(50):
        y = rng.standard_normal(int(rng.integers(2, 60)))
        n = y.size
        lds, ms, me = [1] * n, 0, 0
        for i in range(1, n):  # fastai.callback.schedule.valley, verbatim logic
            for j in range(i):
                if y[i] < y[j] and lds[i] < lds[j] + 1:
                    lds[i] = lds[j] + 1
                if lds[me] < lds[i]:
                    me = i
                    ms = me - lds[me]
        start, end, length = S._longest_descent(y)
        assert (end, length) == (me, lds[me])
        assert start == max(0, ms) or length == 1


def test_minimum_notes_a_curve_still_falling_only_when_it_never_turned_up():
    lrs = np.logspace(-6, 1, 100)
    falling = np.linspace(3.0, 1.0, 100)
    turned = falling.copy()
    turned[-3:] = [2.0, 4.0, 8.0]  # rise hidden in the skipped tail
    assert "still falling" in S.minimum(lrs, falling).reason
    assert "still falling" not in S.minimum(lrs, turned).reason

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lrwidget.schedule import factors, schedule, start_lrs_for


def test_exp_formula_and_exact_endpoints():
    s = schedule(1e-7, 10.0, 100, "exp")[:, 0]
    i = np.arange(100)
    np.testing.assert_allclose(s, 1e-7 * (10.0 / 1e-7) ** (i / 99), rtol=1e-12)
    assert s[0] == 1e-7 and s[-1] == 10.0
    assert np.all(np.diff(s) > 0)
    # geometric: constant ratio between neighbours
    r = s[1:] / s[:-1]
    np.testing.assert_allclose(r, r[0], rtol=1e-9)


def test_linear_is_evenly_spaced():
    s = schedule(0.1, 1.0, 10, "linear")[:, 0]
    assert s[0] == 0.1 and s[-1] == 1.0
    np.testing.assert_allclose(np.diff(s), 0.1, rtol=1e-9)


def test_groups_keep_their_ratios():
    s = schedule([1e-4, 1e-5, 3e-4], 1.0, 50, "exp")
    np.testing.assert_allclose(s[:, 1] / s[:, 0], 0.1, rtol=1e-12)
    np.testing.assert_allclose(s[:, 2] / s[:, 0], 3.0, rtol=1e-12)
    assert s[0].tolist() == [1e-4, 1e-5, 3e-4]
    assert s[-1, 0] == 1.0


def test_start_lr_resolution():
    assert start_lrs_for(None, [0.1, 0.01]) == [0.1, 0.01]
    assert start_lrs_for(1e-3, [0.1, 0.01]) == pytest.approx([1e-3, 1e-4])
    assert start_lrs_for([1e-3, 5e-3], [0.1, 0.01]) == [1e-3, 5e-3]
    with pytest.raises(ValueError, match="one number per param group"):
        start_lrs_for([1e-3], [0.1, 0.01])
    with pytest.raises(ValueError, match="start_lr"):
        start_lrs_for(None, [0.0])


@pytest.mark.parametrize("args, exc, words", [
    ((0.0, 1.0, 10, "exp"), ValueError, "start_lr"),
    ((-1.0, 1.0, 10, "exp"), ValueError, "start_lr"),
    ((1.0, 1.0, 10, "exp"), ValueError, "end_lr"),
    ((1.0, 0.5, 10, "exp"), ValueError, "end_lr"),
    ((1e-3, float("inf"), 10, "exp"), ValueError, "end_lr"),
    ((1e-3, 1.0, 1, "exp"), ValueError, "num_iter"),
    ((1e-3, 1.0, 2.5, "exp"), TypeError, "num_iter"),
    ((1e-3, 1.0, 10, "log"), ValueError, "step_mode"),
    (("1e-3", 1.0, 10, "exp"), TypeError, "start_lr"),
])
def test_bad_sweeps_name_the_parameter(args, exc, words):
    with pytest.raises(exc, match=words):
        factors(*args)


@settings(max_examples=200, deadline=None)
@given(start=st.floats(1e-10, 1e3), ratio=st.floats(1.0001, 1e12),
       n=st.integers(2, 3000), mode=st.sampled_from(["exp", "linear"]),
       g=st.floats(1e-3, 1e3))
def test_property_endpoints_monotone_ratio(start, ratio, n, mode, g):
    end = start * ratio
    if not math.isfinite(end) or end <= start:
        return
    s = schedule([start, start * g], end, n, mode)
    assert s[0, 0] == start and s[-1, 0] == end
    assert np.all(np.isfinite(s))
    assert np.all(np.diff(s[:, 0]) >= 0)
    np.testing.assert_allclose(s[1:-1, 1] / s[1:-1, 0], g, rtol=1e-9)

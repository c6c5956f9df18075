"""Tests of rixsim.analysis.normalize: exact limits on synthetic spectra built from analytic pieces."""
import numpy as np
import pytest

from rixsim.errors import InputError
from rixsim.analysis.normalize import divide_by_i0, edge_step_normalize, normalize_area, normalize_max, subtract_pre_edge
from rixsim.results import Spectrum

E = np.arange(620.0, 680.0001, 0.05)
E0 = 641.0
PRE, POST = (620.0, 630.0), (660.0, 680.0)


def _edge(width, jump=3.7, pre=(0.8, 0.012), post_extra_slope=0.0):
    """Linear background + arctan step of FWHM-like width ``width`` at E0 + Gaussian white line."""
    step = 0.5 + np.arctan((E - E0) / width) / np.pi
    peak = 5.0 * np.exp(-0.5 * ((E - (E0 + 2.0)) / 1.0) ** 2)  # < 1e-40 inside both fit ranges
    extra = np.where(E > E0, post_extra_slope * (E - E0), 0.0)
    return Spectrum(E, pre[0] + pre[1] * (E - 600.0) + jump * step + peak + extra, meta={"sample": "A"})


def test_edge_jump_one_and_pre_edge_zero_to_1e6():
    # A width of 1e-6 eV makes the arctan tails at >=11 eV from E0 below 3e-8 (tail ≈ width / (π |E - E0|)),
    # so the pre- and post-edges are lines to that accuracy and the answer is exact at 1e-6 (the extrapolated
    # tails move the jump by ~2e-7 × 2 × 3.7: measured 6.5e-8 relative).
    s = _edge(width=1e-6)
    n = edge_step_normalize(s, pre_range=PRE, post_range=POST, e0=E0)
    step = n.meta["processing"][-1]
    assert abs(step["edge_jump"] - 3.7) < 1e-6 * 3.7
    pre = (E >= PRE[0]) & (E <= PRE[1])
    post = (E >= POST[0]) & (E <= POST[1])
    assert np.abs(n.intensity[pre]).max() < 1e-6
    assert np.abs(n.intensity[post] - 1).max() < 1e-6
    assert abs(step["pre_coefficients"][1] - 0.012) < 1e-8     # the pre-edge slope, to the tails' 3e-8/10 eV
    assert n.units == "normalized" and n.meta["sample"] == "A"   # meta kept, step recorded
    np.testing.assert_array_equal(s.intensity, _edge(width=1e-6).intensity)  # input unchanged


def test_edge_jump_with_physical_arctan_width_within_analytic_tail_bound():
    # With width w the step deviates from a Heaviside by arctan(w/|x|)/π <= w/(π d) beyond distance d from E0;
    # the normalised pre-edge and jump can be off by at most a few times that (line extrapolation to E0).
    w = 0.5
    bound = w / (np.pi * 11.0)
    n = edge_step_normalize(_edge(width=w), pre_range=PRE, post_range=POST, e0=E0)
    pre = (E >= PRE[0]) & (E <= PRE[1])
    assert np.abs(n.intensity[pre]).max() < 3 * bound
    assert abs(n.meta["processing"][-1]["edge_jump"] / 3.7 - 1) < 6 * bound


def test_flatten_removes_post_edge_slope_difference():
    s = _edge(width=1e-5, post_extra_slope=0.02)
    plain = edge_step_normalize(s, pre_range=PRE, post_range=POST, e0=E0)
    flat = edge_step_normalize(s, pre_range=PRE, post_range=POST, e0=E0, flatten=True)
    post = (E >= POST[0]) & (E <= POST[1])
    np.testing.assert_allclose(plain.intensity[post], 1 + 0.02 * (E[post] - E0) / 3.7, atol=1e-6)
    np.testing.assert_allclose(flat.intensity[post], 1.0, atol=1e-6)
    below = E < E0
    np.testing.assert_array_equal(flat.intensity[below], plain.intensity[below])


def test_e0_found_at_steepest_rise():
    n = edge_step_normalize(_edge(width=0.3), pre_range=PRE, post_range=POST)
    # the steepest rise of step + Gaussian (centred 2 eV above) lies between E0 and the peak centre
    assert E0 - 0.1 <= n.meta["processing"][-1]["e0"] <= E0 + 2.0


def test_edge_normalization_errors():
    s = _edge(width=0.3)
    with pytest.raises(InputError, match="must end below"):
        edge_step_normalize(s, pre_range=(620, 665), post_range=POST)
    with pytest.raises(InputError, match="outside"):
        edge_step_normalize(s, pre_range=(500, 510), post_range=POST)
    with pytest.raises(InputError, match="e0=650"):
        edge_step_normalize(s, pre_range=PRE, post_range=(645, 680), e0=650)
    falling = Spectrum(E, s.intensity[::-1])
    with pytest.raises(InputError, match="not positive"):
        edge_step_normalize(falling, pre_range=PRE, post_range=POST, e0=E0)
    with pytest.raises(InputError, match="point"):
        edge_step_normalize(s, pre_range=(620.0, 620.04), post_range=POST)


def test_subtract_pre_edge_line():
    s = _edge(width=1e-5)
    out = subtract_pre_edge(s, PRE)
    pre = (E >= PRE[0]) & (E <= PRE[1])
    assert np.abs(out.intensity[pre]).max() < 1e-6
    post = (E >= POST[0]) & (E <= POST[1])
    np.testing.assert_allclose(out.intensity[post], 3.7, atol=1e-5)


def test_divide_by_i0():
    s = _edge(width=0.3)
    i0 = 1e5 * (1 + 0.1 * np.sin(E))
    out = divide_by_i0(s, i0)
    np.testing.assert_array_equal(out.intensity, s.intensity / i0)
    assert out.meta["processing"][-1]["step"] == "divide_by_i0"
    out2 = divide_by_i0(s, Spectrum(E, i0))
    np.testing.assert_array_equal(out2.intensity, out.intensity)
    bad = i0.copy()
    bad[123] = 0.0
    with pytest.raises(InputError, match=r"index 123 \(626.15"):
        divide_by_i0(s, bad)
    bad[123] = -5.0
    with pytest.raises(InputError, match="index 123"):
        divide_by_i0(s, bad)
    with pytest.raises(InputError, match="shape"):
        divide_by_i0(s, i0[:-1])
    with pytest.raises(InputError, match="different energy axis"):
        divide_by_i0(s, Spectrum(E + 0.01, i0))


def test_normalize_area_exact_for_linear_data():
    e = np.arange(630.0, 660.001, 1.0)
    s = Spectrum(e, e - 600.0)
    lo, hi = 633.5, 650.25  # not on grid points: end points interpolated
    analytic = ((hi - 600.0) ** 2 - (lo - 600.0) ** 2) / 2.0
    out = normalize_area(s, (lo, hi), target=2.0)
    np.testing.assert_allclose(out.intensity, (e - 600.0) * 2.0 / analytic, rtol=1e-13)
    full = normalize_area(s)
    assert abs(full.integral() - 1.0) < 1e-13
    with pytest.raises(InputError, match="not positive"):
        normalize_area(Spectrum(e, -(e - 600.0)))


def test_normalize_max():
    s = _edge(width=0.3)
    out = normalize_max(s)
    assert out.intensity.max() == 1.0
    window = normalize_max(s, (620.0, 630.0))
    assert window.intensity[(E >= 620) & (E <= 630)].max() == 1.0
    assert window.meta["processing"][-1]["at_ev"] == pytest.approx(630.0)
    with pytest.raises(InputError, match="not positive"):
        normalize_max(Spectrum(E, -s.intensity))


def test_processing_chain_recorded_in_order():
    s = _edge(width=0.3)
    out = normalize_max(divide_by_i0(s, np.full(E.size, 2.0)))
    assert [p["step"] for p in out.meta["processing"]] == ["divide_by_i0", "normalize_max"]
    assert "processing" not in s.meta


def test_divide_map_by_i0_rows():
    from rixsim.analysis.normalize import divide_map_by_i0
    from rixsim.results import RixsMap

    x = np.array([640.0, 641.0, 642.0])
    z = np.arange(1.0, 13.0).reshape(3, 4)
    m = RixsMap(excitation=x, emission=[600.0, 610.0, 620.0, 630.0], intensity=z, elastic=z / 2, meta={"k": 1})
    i0 = np.array([2.0, 4.0, 8.0])
    out = divide_map_by_i0(m, i0)
    np.testing.assert_array_equal(out.intensity, z / i0[:, None])  # each row by its own excitation's flux
    np.testing.assert_array_equal(out.elastic, z / 2 / i0[:, None])
    assert out.meta["k"] == 1 and out.meta["processing"][-1]["step"] == "divide_map_by_i0"
    with pytest.raises(InputError, match="index 1 \\(641 eV"):
        divide_map_by_i0(m, np.array([2.0, 0.0, 8.0]))
    with pytest.raises(InputError, match="shape"):
        divide_map_by_i0(m, np.ones(4))

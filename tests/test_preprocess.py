"""Map preprocessing: count-conserving rebinning, the elastic-line calibration, and ROI channels whose error bars
cover the truth as often as one standard deviation should (simulated Poisson data with known means)."""
import layout_writers as lw
import numpy as np
import pytest

from rixsim.analysis.preprocess import (
    ElasticCalibration,
    bin_edges,
    calibrate_emission,
    ccpfy,
    fit_elastic_line,
    ipfy,
    normalize_by_monitor,
    pfy,
    rebin_counts,
    rebin_map,
    spfy,
    subtract_background,
    tfy,
)
from rixsim.errors import InputError
from rixsim.io import read_als_rixs
from rixsim.results import RixsMap, Scan

EXC = np.linspace(636.0, 644.0, 9)
EMI = np.linspace(520.0, 650.0, 131)  # 1 eV pixels: O K (≈525 eV) and the Mn L3 region


def _truth():
    """Mean counts: a resonant Mn L emission (≈ 637 eV) that grows with the excitation, an elastic line, and a
    non-resonant O K line (≈ 525 eV) that is absorbed as the edge rises."""
    absorb = 1 + np.exp(-0.5 * ((EXC - 640.0) / 1.5) ** 2)
    mn = 400 * (absorb - 0.5)[:, None] * np.exp(-0.5 * ((EMI[None, :] - 637.0) / 3.0) ** 2)
    elastic = 300 * np.exp(-0.5 * ((EMI[None, :] - EXC[:, None]) / 0.8) ** 2)
    ok = 2000 / absorb[:, None] * np.exp(-0.5 * ((EMI[None, :] - 525.0) / 2.0) ** 2)
    return mn + elastic + ok + 5.0


def _coverage(estimates, sigmas, truth):
    return np.mean(np.abs(np.asarray(estimates) - truth) <= np.asarray(sigmas))


# 0.6827 ± 3 binomial standard deviations for 200 trials × 9 excitation points
LOW, HIGH = 0.6827 - 0.032, 0.6827 + 0.032


def test_roi_error_bars_cover_the_truth_68_percent():
    rng = np.random.default_rng(2024)
    lam = _truth()
    i0_mean = np.full(EXC.size, 5e4)
    pf_window, nr_window = (630.0, 645.0), (519.0, 531.0)
    in_pf = (EMI >= pf_window[0]) & (EMI <= pf_window[1])
    in_nr = (EMI >= nr_window[0]) & (EMI <= nr_window[1])
    true_pfy = lam[:, in_pf].sum(axis=1) / i0_mean
    true_ipfy = i0_mean / lam[:, in_nr].sum(axis=1)
    true_tfy = lam.sum(axis=1)
    est = {k: ([], []) for k in ("pfy", "ipfy", "tfy", "norm")}
    for _ in range(200):
        counts = rng.poisson(lam).astype(float)
        i0 = rng.poisson(i0_mean).astype(float)
        m = RixsMap(EXC, EMI, counts, units="counts")
        for key, sp in (("pfy", pfy(m, pf_window, monitor=i0, monitor_sigma="poisson")),
                        ("ipfy", ipfy(m, nr_window, monitor=i0, monitor_sigma="poisson")),
                        ("tfy", tfy(m))):
            est[key][0].append(sp.intensity)
            est[key][1].append(sp.sigma)
        nm = normalize_by_monitor(m, i0, monitor_sigma="poisson")
        est["norm"][0].append(nm.intensity[:, 117])  # the Mn L emission pixel (637 eV)
        est["norm"][1].append(nm.sigma[:, 117])
    for key, truth in (("pfy", true_pfy), ("ipfy", true_ipfy), ("tfy", true_tfy),
                       ("norm", lam[:, 117] / i0_mean)):
        c = _coverage(*est[key], truth)
        assert LOW <= c <= HIGH, (key, c)


def test_ipfy_falls_where_the_edge_absorbs_and_channels_agree_with_sums():
    lam = _truth()
    m = RixsMap(EXC, EMI, lam)
    sp = ipfy(m, (519.0, 531.0))
    assert np.argmin(1 / sp.intensity) == 4  # the O K line is weakest at the 640 eV absorption maximum
    np.testing.assert_allclose(tfy(m).intensity, lam.sum(axis=1))
    sel = (EMI >= 634.5) & (EMI <= 635.5)
    np.testing.assert_allclose(spfy(m, 635.0, 1.0).intensity, lam[:, sel].sum(axis=1))
    np.testing.assert_allclose(ccpfy(m, (600.0, 610.0)).intensity, pfy(m, (600.0, 610.0)).intensity)
    np.testing.assert_allclose(pfy(m, (600.0, 610.0)).sigma ** 2,
                               lam[:, (EMI >= 600) & (EMI <= 610)].sum(axis=1))


def test_roi_on_a_loss_map_uses_emission_energies():
    lam = _truth()
    m = RixsMap(EXC, EMI, lam)
    loss_map = rebin_map(m, np.arange(-15.0, 125.1, 1.0), axis="loss")  # covers 636−650 … 644−520 eV
    # PFY over the whole detector is the TFY on either axis (every pixel is in some loss bin).
    np.testing.assert_allclose(tfy(loss_map).intensity, tfy(m).intensity, rtol=1e-12)


def test_roi_errors_name_the_problem():
    m = RixsMap(EXC, EMI, _truth())
    with pytest.raises(InputError, match=r"holds no pixel at excitation 636.0 eV"):
        pfy(m, (700.0, 710.0))
    with pytest.raises(InputError, match="monitor has 3 values, the map 9"):
        pfy(m, (600.0, 610.0), monitor=[1.0, 2.0, 3.0])
    with pytest.raises(InputError, match=r"monitor\[2\] = 0.0"):
        pfy(m, (600.0, 610.0), monitor=np.r_[1.0, 1.0, 0.0, np.ones(6)])
    zero = RixsMap(EXC, EMI, np.zeros((EXC.size, EMI.size)))
    with pytest.raises(InputError, match="iPFY: the sum over the non-resonant window is 0.0"):
        ipfy(zero, (519.0, 531.0))
    with pytest.raises(InputError, match="negative value"):
        pfy(RixsMap(EXC, EMI, -np.ones((EXC.size, EMI.size))), (600.0, 610.0))


def test_monitor_from_a_scan_and_background_variances_add():
    lam = _truth()
    scan = Scan(EXC, {"Izero": np.full(EXC.size, 1e4)}, aliases={"I0": "Izero"})
    m = RixsMap(EXC, EMI, lam)
    nm = normalize_by_monitor(m, scan)
    np.testing.assert_allclose(nm.intensity, lam / 1e4)
    np.testing.assert_allclose(nm.sigma ** 2, lam / 1e8 + lam ** 2 / 1e12)
    dark = np.full(EMI.size, 4.0)
    b = subtract_background(m, constant=1.0, constant_sigma=0.5, dark=dark)
    np.testing.assert_allclose(b.intensity, lam - 5.0)
    np.testing.assert_allclose(b.sigma ** 2, lam + 0.25 + 4.0)
    assert b.meta["preprocessing"][-1]["step"] == "subtract_background"
    with pytest.raises(InputError, match=r"dark has shape \(3,\)"):
        subtract_background(m, dark=[1.0, 2.0, 3.0])


# --------------------------------------------------------------------------------------------------------------
# Rebinning
# --------------------------------------------------------------------------------------------------------------

def test_rebin_conserves_the_total_on_an_irregular_axis():
    rng = np.random.default_rng(1)
    centres = np.cumsum(rng.uniform(0.05, 0.3, 200)) + 500.0
    counts = rng.poisson(30, (3, 200)).astype(float)
    old = bin_edges(centres)
    new = np.linspace(old[0] - 1.0, old[-1] + 1.0, 57)
    out, var = rebin_counts(old, counts, new, counts)
    np.testing.assert_allclose(out.sum(axis=1), counts.sum(axis=1), rtol=1e-13)
    # each old bin's weights sum to one, so squared weights never exceed one: variance <= counts
    assert np.all(var.sum(axis=1) <= counts.sum(axis=1) * (1 + 1e-12))
    # a new grid that *is* the old one changes nothing
    same, _ = rebin_counts(old, counts, old)
    np.testing.assert_allclose(same, counts, rtol=1e-12)


def test_rebin_to_loss_conserves_each_row_and_places_the_elastic_line_at_zero():
    lam = _truth()
    m = RixsMap(EXC, EMI, lam)
    edges = np.arange(-15.0, 125.1, 0.5)  # covers excitation − emission (−14.5 … 124.5 eV) for every row
    lm = rebin_map(m, edges, axis="loss")
    assert lm.on_loss_axis and lm.loss.size == edges.size - 1
    np.testing.assert_allclose(lm.intensity.sum(axis=1), lam.sum(axis=1), rtol=1e-13)
    # the elastic line (emission = excitation) sits in the loss bins around 0
    near0 = np.abs(lm.loss) <= 1.0
    assert np.all(lm.intensity[:, near0].sum(axis=1) > 0.5 * 300 * np.sqrt(2 * np.pi) * 0.8)
    em = rebin_map(m, np.linspace(519.5, 650.5, 263), axis="emission")
    np.testing.assert_allclose(em.intensity.sum(axis=1), lam.sum(axis=1), rtol=1e-13)


def test_rebin_says_when_counts_fall_outside_the_new_bins(caplog):
    m = RixsMap(EXC, EMI, _truth())
    with caplog.at_level("WARNING", logger="rixsim.analysis.preprocess"):
        r = rebin_map(m, np.linspace(600.0, 650.5, 20))
    assert "do not cover the old ones" in caplog.text
    assert r.meta["preprocessing"][-1]["max_fraction_dropped"] > 0.1


def test_rebin_refuses_bad_edges():
    m = RixsMap(EXC, EMI, _truth())
    with pytest.raises(InputError, match="strictly increasing"):
        rebin_map(m, [3.0, 2.0, 1.0])
    with pytest.raises(InputError, match="axis must be 'emission' or 'loss'"):
        rebin_map(m, [1.0, 2.0, 3.0], axis="pixel")


# --------------------------------------------------------------------------------------------------------------
# Elastic line → emission energy
# --------------------------------------------------------------------------------------------------------------

def _pixel_map(rng, coef, origin=1000.0, npix=2048, exc=None, amp=800.0):
    """A CCD map with an elastic peak at the pixel p where E(p) = excitation, for E(p) = Σ c_k (p − origin)^k."""
    exc = np.linspace(770.0, 790.0, 11) if exc is None else exc
    p = np.arange(npix, dtype=float)
    energy = sum(c * (p - origin) ** k for k, c in enumerate(coef))
    centre = np.interp(exc, energy, p) if energy[-1] > energy[0] else np.interp(exc, energy[::-1], p[::-1])
    lam = 20.0 + amp * np.exp(-0.5 * ((p[None, :] - centre[:, None]) / 4.0) ** 2)
    return RixsMap(exc, p, rng.poisson(lam).astype(float), relative=True, meta={"emission_units": "pixel"})


@pytest.mark.parametrize("coef,order", [((780.0, 0.012), 1), ((780.0, -0.012, 2e-6), 2)])
def test_elastic_line_recovers_a_known_dispersion(coef, order):
    rng = np.random.default_rng(5)
    m = _pixel_map(rng, coef)
    cal = fit_elastic_line(m, (0, 2047), order=order, halfwidth=20)
    assert isinstance(cal, ElasticCalibration) and cal.order == order
    pixels = np.array([200.0, 1000.0, 1800.0])
    truth = sum(c * (pixels - 1000.0) ** k for k, c in enumerate(coef))
    err = cal.energy_sigma(pixels)
    assert np.all(np.abs(cal.energy(pixels) - truth) < 4 * err), (cal.energy(pixels) - truth, err)
    assert np.all(err < 0.01)
    assert 0.2 < cal.chi2_dof < 3.0
    em = calibrate_emission(m, cal)
    assert np.all(np.diff(em.emission) > 0) and not em.relative
    # after calibration the brightest pixel of every row is at emission ≈ excitation
    peak = em.emission[np.argmax(em.intensity, axis=1)]
    np.testing.assert_allclose(peak, m.excitation, atol=0.03)


def test_elastic_fit_needs_enough_points_and_a_valid_order():
    rng = np.random.default_rng(3)
    m = _pixel_map(rng, (780.0, 0.012))
    with pytest.raises(InputError, match="order must be 1 .* or 2"):
        fit_elastic_line(m, (0, 2047), order=3)
    with pytest.raises(InputError, match="fewer than 2 excitation points"):
        fit_elastic_line(m, (0, 2047), excitation_range=(770.5, 771.5))
    with pytest.raises(InputError, match="holds 2 points"):
        fit_elastic_line(m, (10, 11))


def test_als_folder_to_calibrated_pfy(tmp_path):
    """The beamline chain: read an ALS CCD scan folder, calibrate the pixels on the elastic line, take PFY / I0."""
    rng = np.random.default_rng(11)
    m = _pixel_map(rng, (780.0, 0.012), npix=2048)
    i0 = rng.integers(2.8e7, 2.9e7, m.excitation.size)
    folder = lw.write_als_scan(tmp_path / "CCD Scan 1", "MnL3_1", m.excitation, {"Izero": i0}, m.intensity)
    r = read_als_rixs(folder)
    cal = fit_elastic_line(r.ccd, (0, 2047), halfwidth=20)
    assert cal.dispersion == pytest.approx(0.012, rel=1e-3)
    em = calibrate_emission(r.ccd, cal)
    sp = pfy(em, (760.0, 800.0), monitor=r.scan)
    np.testing.assert_allclose(sp.intensity, m.intensity.sum(axis=1) / i0, rtol=1e-12)
    assert np.all(sp.sigma > 0)
    other = Scan(m.excitation + 1.0, {"I0": i0.astype(float)})
    with pytest.raises(InputError, match="they must be the same points"):
        pfy(em, (760.0, 800.0), monitor=other)

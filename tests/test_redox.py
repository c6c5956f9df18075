"""Tests of rixsim.oxygen.redox: exact recovery, calibrated significance (false-positive rate over many Poisson maps),
detection power at the predicted detection limit, the decision rule, the sPFY quick look and bad input."""
import numpy as np
import pytest

from rixsim.errors import InputError
from rixsim.oxygen.redox import (decide, detection_limit, fit_redox_map, oxidised_oxygen_template, resample_map,
                          spfy_quick_look, synthetic_lattice_map)
from rixsim.results import RixsMap

EXC = np.arange(527.0, 535.001, 0.2)
EMI = np.arange(518.0, 530.001, 0.1)
BG = 2.0            # flat background, counts per pixel


@pytest.fixture(scope="module")
def templates():
    return synthetic_lattice_map(EXC, EMI), oxidised_oxygen_template(EXC, EMI)


def _counts(lat, ox, lattice_peak, amp, rng):
    mu = lattice_peak * lat.intensity + amp * ox.intensity + BG
    return RixsMap(EXC, EMI, rng.poisson(mu))


def test_templates_sit_where_the_physics_puts_them(templates):
    lat, ox = templates
    i, j = np.unravel_index(np.argmax(ox.intensity), ox.intensity.shape)
    # oxidised-oxygen feature: 531 eV excitation, 523.7–523.8 eV emission (seed review §5.2)
    assert abs(EXC[i] - 531.0) <= 0.2 and abs(EMI[j] - 523.75) <= 0.15
    # lattice band: broad, emission maximum near 525 eV at every excitation above the pre-edge
    row = lat.intensity[np.argmin(np.abs(EXC - 534.0))]
    assert abs(EMI[np.argmax(row)] - 525.3) < 0.3
    assert lat.intensity.max() == pytest.approx(1.0) and ox.intensity.max() == pytest.approx(1.0)


def test_noise_free_mixture_is_recovered_exactly(templates):
    lat, ox = templates
    mu = 300.0 * lat.intensity + 25.0 * ox.intensity + BG
    for sigma in ("poisson", 1.0):
        r = fit_redox_map(RixsMap(EXC, EMI, mu), lat, ox, sigma=sigma)
        assert r.lattice_amplitude == pytest.approx(300.0, rel=1e-9)
        assert r.oxidised_amplitude == pytest.approx(25.0, rel=1e-8)
        assert r.amplitudes["bg_0_0"] == pytest.approx(BG, rel=1e-8)
        assert r.ratio == pytest.approx(25.0 / 300.0, rel=1e-8)


def test_false_positive_rate_and_significance_calibration(templates):
    # 500 feature-free maps, lattice peak 200 counts/pixel: the decision "present" (z ≥ 3) must fire in
    # ≤ 5 % of them (one-sided Gaussian: 0.13 %), and z must be standard normal: mean 0 ± 3/√500 = ±0.134,
    # sd 1 ± 0.1 (the sd of a sample sd of 500 normals is 0.032)
    lat, ox = templates
    rng = np.random.default_rng(2024)
    z, present = [], 0
    for _ in range(500):
        r = fit_redox_map(_counts(lat, ox, 200.0, 0.0, rng), lat, ox)
        z.append(r.decision.significance)
        present += r.decision.verdict == "present"
    z = np.array(z)
    assert present / 500 <= 0.05
    assert abs(z.mean()) < 0.134
    assert 0.9 < z.std() < 1.1


def test_detection_power_at_the_predicted_limit(templates):
    # A_min = (3 + 1.645)·σ_ox should be detected in ≈ 95 % of maps (σ grows slightly with the feature's own
    # counts, so a little less); 200 maps: require ≥ 87 % (0.95 − 0.87 is > 5 binomial σ of 0.015)
    lat, ox = templates
    a_min, s = detection_limit(lat, ox, 200.0, background_counts=BG)
    assert a_min == pytest.approx((3.0 + 1.6448536) * s)
    rng = np.random.default_rng(99)
    hits = sum(fit_redox_map(_counts(lat, ox, 200.0, a_min, rng), lat, ox).decision.verdict == "present"
               for _ in range(200))
    assert hits >= 174
    # and the fitted amplitude is unbiased: mean over trials within 3 standard errors of the truth
    rng = np.random.default_rng(5)
    amps = [fit_redox_map(_counts(lat, ox, 200.0, 30.0, rng), lat, ox).oxidised_amplitude for _ in range(60)]
    assert abs(np.mean(amps) - 30.0) < 3 * s / np.sqrt(60) + 0.3


def test_more_counts_lower_the_relative_detection_limit(templates):
    lat, ox = templates
    rel = [detection_limit(lat, ox, lp, background_counts=BG)[0] / lp for lp in (50.0, 200.0, 500.0)]
    assert rel[0] > rel[1] > rel[2]


def test_decision_rule_boundaries():
    assert decide(3.0, 1.0, 10.0).verdict == "present"
    assert decide(2.99, 1.0, 10.0).verdict == "absent"            # 2.99 + 1.645 < 10
    assert decide(2.0, 1.0, 3.0).verdict == "inconclusive"        # 2 + 1.645 ≥ 3, z < 3
    d = decide(-1.0, 2.0, 5.0)
    assert d.verdict == "absent" and d.upper_limit == pytest.approx(-1.0 + 1.6448536 * 2.0, rel=1e-6)
    assert "present if a/σ ≥ 3" in d.rule
    with pytest.raises(InputError):
        decide(1.0, 0.0, 1.0)


def test_spfy_quick_look_is_biased_by_the_lattice_band(templates):
    # on a noise-free, feature-free map the full fit gives exactly zero, while the sPFY contrast at 523.7 eV
    # picks up the lattice band's curvature along excitation — the reason the map fit is the decision tool
    lat, ox = templates
    clean = RixsMap(EXC, EMI, 500.0 * lat.intensity + BG)
    r = fit_redox_map(clean, lat, ox)
    assert abs(r.oxidised_amplitude) < 1e-6
    q = spfy_quick_look(clean)
    assert abs(q.contrast) > 1.0
    # with the feature alone the quick look sees it at 531 eV
    q2 = spfy_quick_look(RixsMap(EXC, EMI, 100.0 * ox.intensity))
    assert q2.contrast > 0 and q2.spectrum.energy[np.argmax(q2.spectrum.intensity)] == pytest.approx(531.0, abs=0.2)


def test_loss_axis_and_resampling(templates):
    lat, ox = templates
    loss = np.arange(2.0, 12.0, 0.1)
    lat_l = RixsMap(EXC, None, np.array([np.interp(x - loss, EMI, row) for x, row in zip(EXC, lat.intensity)]),
                    loss=loss)
    ox_l = RixsMap(EXC, None, np.array([np.interp(x - loss, EMI, row) for x, row in zip(EXC, ox.intensity)]),
                   loss=loss)
    mu = 100 * lat_l.intensity + 10 * ox_l.intensity / ox_l.intensity.max() + 1.0
    r = fit_redox_map(RixsMap(EXC, None, mu, loss=loss), lat_l, ox_l)
    assert r.oxidised_amplitude == pytest.approx(10.0, rel=1e-7)
    coarse = resample_map(lat, EXC[::2], EMI[::3])
    np.testing.assert_allclose(coarse.intensity, lat.intensity[::2, ::3], atol=1e-12)


def test_bad_input(templates):
    lat, ox = templates
    data = RixsMap(EXC, EMI, 100 * lat.intensity + 1)
    with pytest.raises(InputError, match="resample_map"):
        fit_redox_map(data, resample_map(lat, EXC[:-1], EMI), ox)
    with pytest.raises(InputError, match="linearly dependent"):
        fit_redox_map(data, lat, lat)
    bad = np.array(data.intensity)
    bad[3, 4] = np.nan
    with pytest.raises(InputError, match="non-finite"):
        fit_redox_map(RixsMap(EXC, EMI, bad), lat, ox)
    with pytest.raises(InputError, match="negative"):
        fit_redox_map(RixsMap(EXC, EMI, -data.intensity), lat, ox)
    with pytest.raises(InputError, match="background_order"):
        fit_redox_map(data, lat, ox, background_order=7)
    with pytest.raises(InputError, match="reserved"):
        fit_redox_map(data, lat, ox, extra={"lattice": lat})
    with pytest.raises(InputError, match="outside the map"):
        spfy_quick_look(data, feature_excitation=540.0)


def test_shift_term_protects_against_a_misaligned_lattice_template(templates):
    # the data's lattice band sits 0.2 eV lower in emission than its template: without the shift nuisance
    # term the residual at 523.7 eV looks like oxidised oxygen (measured: 64 % false positives); with it the
    # false-positive rate stays ≤ 5 % (measured 0 %)
    lat, ox = templates
    moved = synthetic_lattice_map(EXC, EMI + 0.2)
    rng = np.random.default_rng(8)
    maps = [RixsMap(EXC, EMI, rng.poisson(200.0 * moved.intensity + BG)) for _ in range(60)]
    fp_with = sum(fit_redox_map(d, lat, ox).decision.verdict == "present" for d in maps) / 60
    fp_without = sum(fit_redox_map(d, lat, ox, lattice_shift=False).decision.verdict == "present"
                     for d in maps) / 60
    assert fp_with <= 0.05
    assert fp_without > 0.3

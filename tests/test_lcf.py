"""Tests of rixsim.analysis.lcf: recovery of known mixtures, honest uncertainties, constraints and failure modes.

The references here are synthetic Mn L2,3-like spectra of distinct shapes (Voigt multiplets at energies
that rise with valence, as in the seed review's Fig. 4a, plus an arctan edge step); a second set uses
rixsim's own simulated Mn2+/3+/4+ references when the core engine (``rixsim.xas``) is available.
"""
import numpy as np
import pytest
from scipy.interpolate import CubicSpline

import rixsim
from rixsim.spectroscopy.broadening import voigt
from rixsim.errors import ConvergenceError, InputError
from rixsim.analysis.lcf import (_fraction_jacobian, _fractions_from_t, _t_from_fractions, fit_all_combinations,
                        fit_linear_combination)
from rixsim.results import Spectrum

E_REF = np.arange(630.0, 660.0001, 0.1)
VALENCES = {"Mn2+": 2, "Mn3+": 3, "Mn4+": 4}


def _ref(peaks, step=0.3, e=E_REF):
    y = sum(a * voigt(e, c, 0.3, 0.4) for c, a in peaks)
    return Spectrum(e, y + step * (0.5 + np.arctan((e - 643.0) / 0.5) / np.pi))


def _references():
    # Main L3 peak moves up by ~1-2 eV per valence step; shapes differ in their multiplet side peaks.
    return {"Mn2+": _ref([(639.6, 0.3), (640.5, 1.0), (641.2, 0.4), (650.8, 0.4)]),
            "Mn3+": _ref([(640.8, 0.4), (641.8, 0.8), (642.6, 0.5), (652.2, 0.4)]),
            "Mn4+": _ref([(641.6, 0.3), (643.4, 1.0), (644.6, 0.3), (653.6, 0.4)])}


def _mixture(refs, fractions, e, shift=0.0, shifts=None):
    """Noise-free mixture, built with scipy's spline directly (independent of rixsim.analysis.lcf's code path)."""
    shifts = [shift] * len(fractions) if shifts is None else shifts
    return sum(f * CubicSpline(r.energy, r.intensity)(e - d) for f, r, d in zip(fractions, refs.values(), shifts))


# ------------------------------------------------------------------------------------------------ algebra

def test_stick_breaking_sums_to_one_and_jacobian_matches_finite_differences():
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 5):
        t = rng.uniform(0.05, 0.95, n - 1)
        f = _fractions_from_t(t)
        assert f.min() >= 0 and abs(f.sum() - 1) < 1e-15
        np.testing.assert_allclose(_fractions_from_t(_t_from_fractions(f)), f, atol=1e-14)
        if n > 1:
            h = 1e-6
            num = np.column_stack([(_fractions_from_t(t + h * np.eye(n - 1)[k]) -
                                    _fractions_from_t(t - h * np.eye(n - 1)[k])) / (2 * h) for k in range(n - 1)])
            np.testing.assert_allclose(_fraction_jacobian(t), num, atol=1e-8)
            np.testing.assert_allclose(_fraction_jacobian(t).sum(axis=0), 0, atol=1e-14)  # Σf stays 1


def test_noise_free_mixture_is_exact():
    refs = _references()
    y = _mixture(refs, [0.2, 0.45, 0.35], E_REF) * 7.0
    r = fit_linear_combination(Spectrum(E_REF, y), refs, shift="none", sigma=1e-6, valences=VALENCES)
    np.testing.assert_allclose(r.fraction_array, [0.2, 0.45, 0.35], atol=1e-7)
    assert abs(r.scale - 7.0) < 1e-6
    assert abs(r.average_valence - (0.4 + 1.35 + 1.4)) < 1e-6
    assert abs(sum(r.fractions.values()) - 1) < 1e-12
    np.testing.assert_allclose(r.fit.intensity + r.residual_spectrum.intensity, y, atol=1e-9)
    np.testing.assert_allclose(sum(c.intensity for c in r.components.values()), r.fit.intensity, atol=1e-9)


# ------------------------------------------------------------------------------------------------ statistics

@pytest.mark.parametrize("peak_counts", [1e4, 1e5])
def test_recovers_mixture_with_consistent_uncertainties(peak_counts):
    """50 Poisson realisations: fractions within ±0.03, pulls of unit width, valence σ matching the scatter,
    a 0.3 eV shift recovered."""
    refs = _references()
    truth = np.array([0.5, 0.3, 0.2])
    e = np.arange(632.0, 658.0, 0.1)
    clean = _mixture(refs, truth, e, shift=0.3)
    counts = clean * (peak_counts / clean.max())
    v_true = truth @ [2, 3, 4]
    rng = np.random.default_rng(20240611)
    f_fit, f_sig, v_fit, v_sig, s_fit, s_sig = [], [], [], [], [], []
    for _ in range(50):
        y = rng.poisson(counts).astype(float)
        r = fit_linear_combination(Spectrum(e, y), refs, valences=VALENCES, sigma="poisson")
        f_fit.append(r.fraction_array)
        f_sig.append(r.sigma_array)
        v_fit.append(r.average_valence)
        v_sig.append(r.average_valence_sigma)
        s_fit.append(r.shift)
        s_sig.append(r.shift_sigma)
    f_fit, f_sig = np.array(f_fit), np.array(f_sig)
    v_fit, v_sig, s_fit, s_sig = map(np.array, (v_fit, v_sig, s_fit, s_sig))

    assert np.abs(f_fit - truth).max() < 0.03
    pulls = (f_fit - truth) / f_sig
    assert np.all((pulls.std(axis=0) > 0.7) & (pulls.std(axis=0) < 1.4)), pulls.std(axis=0)
    assert np.all(np.abs(pulls.mean(axis=0)) < 0.5), pulls.mean(axis=0)
    # valence: the propagated σ agrees with the scatter of the fitted valences
    assert 0.7 < v_fit.std() / v_sig.mean() < 1.4
    assert 0.7 < ((v_fit - v_true) / v_sig).std() < 1.4
    assert abs(v_fit.mean() - v_true) < 3 * v_sig.mean()
    # shift
    assert np.abs(s_fit - 0.3).max() < 0.02
    assert 0.7 < ((s_fit - 0.3) / s_sig).std() < 1.4


def test_user_sigma_gaussian_noise_pulls():
    refs = _references()
    truth = np.array([0.1, 0.6, 0.3])
    e = np.arange(634.0, 656.0, 0.1)
    clean = _mixture(refs, truth, e)
    sigma = 0.01 * clean.max()
    rng = np.random.default_rng(7)
    pulls = []
    for _ in range(40):
        y = clean + rng.normal(0, sigma, e.size)
        r = fit_linear_combination(Spectrum(e, y), refs, sigma=sigma, fit_scale=False, shift="none")
        pulls.append((r.fraction_array - truth) / r.sigma_array)
        assert r.weighting == "given sigma"
    pulls = np.array(pulls)
    assert np.all((pulls.std(axis=0) > 0.7) & (pulls.std(axis=0) < 1.4)), pulls.std(axis=0)


def test_covariance_is_consistent():
    refs = _references()
    e = np.arange(632.0, 658.0, 0.1)
    y = np.random.default_rng(3).poisson(_mixture(refs, [0.3, 0.3, 0.4], e, 0.1) * 2e4)
    r = fit_linear_combination(Spectrum(e, y.astype(float)), refs, valences=VALENCES)
    cov = r.fraction_covariance
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), r.sigma_array, rtol=1e-12)
    np.testing.assert_allclose(cov.sum(axis=0), 0, atol=1e-12 * np.abs(cov).max() * 10)  # Σf fixed
    np.testing.assert_allclose(np.diag(r.correlation), 1, rtol=1e-12)
    assert np.all(np.abs(r.correlation) <= 1 + 1e-12)
    v = np.array([2.0, 3.0, 4.0])
    assert abs(r.average_valence_sigma - np.sqrt(v @ cov @ v)) < 1e-12  # σ_v from the fraction covariance
    assert abs(r.reduced_chi_square - r.chi_square / (r.n_points - r.n_varying)) < 1e-12


# ------------------------------------------------------------------------------------------------ options

def test_per_reference_shifts_and_background():
    refs = _references()
    e = np.arange(633.0, 657.0, 0.05)
    shifts = [0.2, -0.3, 0.5]
    u = (e - 0.5 * (e[0] + e[-1])) / (0.5 * (e[-1] - e[0]))
    y = _mixture(refs, [0.4, 0.35, 0.25], e, shifts=shifts) * 3.0 + 0.2 + 0.05 * u
    r = fit_linear_combination(Spectrum(e, y), refs, shift="per_reference", background_order=1, sigma=1e-6)
    np.testing.assert_allclose(r.shifts, shifts, atol=1e-5)
    np.testing.assert_allclose(r.fraction_array, [0.4, 0.35, 0.25], atol=1e-5)
    np.testing.assert_allclose(r.background_coefficients, [0.2, 0.05], atol=1e-5)
    np.testing.assert_allclose(r.background.intensity, 0.2 + 0.05 * u, atol=1e-5)


def test_free_weights_without_sum_constraint():
    refs = _references()
    y = _mixture(refs, [0.6, 0.5, 0.1], E_REF)
    r = fit_linear_combination(Spectrum(E_REF, y + 1e-3), refs, sum_to_one=False, shift="none",
                               sigma=1e-3, background_order=0, valences=VALENCES)
    np.testing.assert_allclose(r.fraction_array, [0.6, 0.5, 0.1], atol=1e-4)
    assert r.scale == 1.0
    assert abs(r.average_valence - (0.6 * 2 + 0.5 * 3 + 0.1 * 4) / 1.2) < 1e-4


@pytest.mark.parametrize("sum_to_one", [True, False])
def test_absent_reference_raises_or_is_fixed_at_zero(sum_to_one):
    refs = _references()
    # A "negative" amount of Mn4+ (e.g. a normalisation mismatch) pins its fraction at the bound 0.
    y = _mixture(refs, [0.6, 0.42, -0.02], E_REF)
    kw = dict(sum_to_one=sum_to_one, shift="none", sigma=1e-3, valences=VALENCES)
    with pytest.raises(ConvergenceError, match=r"\['Mn4\+'\].*at_bound='fix'"):
        fit_linear_combination(Spectrum(E_REF, y), refs, **kw)
    r = fit_linear_combination(Spectrum(E_REF, y), refs, at_bound="fix", **kw)
    assert r.fixed_at_zero == ("Mn4+",)
    assert r.fractions["Mn4+"] == 0.0 and r.fraction_sigmas["Mn4+"] == 0.0
    assert r.fraction_covariance.shape == (3, 3) and np.all(r.fraction_covariance[2] == 0)
    # the refit with the two remaining references is the exact two-reference fit
    r2 = fit_linear_combination(Spectrum(E_REF, y), {k: refs[k] for k in ("Mn2+", "Mn3+")},
                                **dict(kw, valences={"Mn2+": 2, "Mn3+": 3}))
    assert r.fractions["Mn2+"] == r2.fractions["Mn2+"] and r.average_valence == r2.average_valence
    if sum_to_one:
        assert abs(r.fractions["Mn2+"] + r.fractions["Mn3+"] - 1) < 1e-12


def test_energy_range_restricts_the_fit():
    refs = _references()
    y = _mixture(refs, [0.3, 0.3, 0.4], E_REF)
    y[E_REF > 650] += 5.0  # garbage outside the window must not matter
    r = fit_linear_combination(Spectrum(E_REF, y), refs, energy_range=(635, 648), sigma=1e-6, shift="none")
    np.testing.assert_allclose(r.fraction_array, [0.3, 0.3, 0.4], atol=1e-6)
    assert r.data.energy[0] >= 635 and r.data.energy[-1] <= 648


def test_all_combinations_ranks_the_true_pair_first():
    refs = _references()
    e = np.arange(632.0, 658.0, 0.1)
    clean = _mixture(refs, [0.0, 0.6, 0.4], e)
    y = np.random.default_rng(4).poisson(clean * 2e4 / clean.max()).astype(float)
    ranked = fit_all_combinations(Spectrum(e, y), refs, valences=VALENCES, shift="none")
    pairs = [r for r in ranked if len(r.names) == 2]
    assert pairs[0].names == ("Mn3+", "Mn4+")
    assert pairs[0].reduced_chi_square < 2.0 < pairs[1].reduced_chi_square
    assert all(r.reduced_chi_square > 2.0 for r in ranked if len(r.names) == 1)
    assert ranked[0].average_valence == pytest.approx(3.4, abs=0.01)


# ------------------------------------------------------------------------------------------------ failures

def test_linearly_dependent_references_raise_convergence_error():
    refs = _references()
    refs["copy"] = Spectrum(E_REF, 2.0 * refs["Mn3+"].intensity)
    y = np.random.default_rng(1).poisson(_mixture(refs, [0.3, 0.3, 0.4], E_REF) * 1e4).astype(float)
    with pytest.raises(ConvergenceError, match="linearly dependent"):
        fit_linear_combination(Spectrum(E_REF, y), refs)


def test_non_convergence_raises():
    refs = _references()
    y = np.random.default_rng(1).poisson(_mixture(refs, [0.3, 0.3, 0.4], E_REF, 0.4) * 1e4).astype(float)
    with pytest.raises(ConvergenceError, match="did not converge"):
        fit_linear_combination(Spectrum(E_REF, y), refs, max_nfev=3)


def test_shift_beyond_max_shift_raises():
    # One reference: nothing but the shift can move the peak, so the fit must end at the +1 eV bound.
    refs = {"Mn3+": _references()["Mn3+"]}
    e = np.arange(634.0, 656.0, 0.1)
    y = _mixture(refs, [1.0], e, shift=1.5) + np.random.default_rng(2).normal(0, 1e-3, e.size)
    with pytest.raises(ConvergenceError, match="bound"):
        fit_linear_combination(Spectrum(e, y), refs, sigma=None, max_shift=1.0)
    r = fit_linear_combination(Spectrum(e, y), refs, sigma=None, max_shift=2.0)
    assert abs(r.shift - 1.5) < 5 * r.shift_sigma and r.fractions["Mn3+"] == 1.0
    with pytest.raises(ConvergenceError, match="exact"):  # nothing to scale σ by
        fit_linear_combination(Spectrum(e, _mixture(refs, [1.0], e, shift=1.5)), refs, sigma=None)


def test_bad_inputs():
    refs = _references()
    data = Spectrum(E_REF, _mixture(refs, [0.3, 0.3, 0.4], E_REF))
    with pytest.raises(InputError, match="missing \\['Mn4\\+'\\]"):
        fit_linear_combination(data, refs, valences={"Mn2+": 2, "Mn3+": 3})
    short = dict(refs, Mn4=Spectrum(E_REF[:100], refs["Mn4+"].intensity[:100]))
    with pytest.raises(InputError, match="covers"):
        fit_linear_combination(data, short)
    with pytest.raises(InputError, match="shift must be one of"):
        fit_linear_combination(data, refs, shift="each")
    with pytest.raises(InputError, match="counts >= 0"):
        fit_linear_combination(Spectrum(E_REF, data.intensity - 1.0), refs, sigma="poisson")
    with pytest.raises(InputError, match="empty"):
        fit_linear_combination(data, {})
    with pytest.raises(InputError, match="sigma"):
        fit_linear_combination(data, refs, sigma=np.ones(3))
    with pytest.raises(InputError, match="energy_range"):
        fit_linear_combination(data, refs, energy_range=(650, 640))


# ------------------------------------------------------------------------------------------------ simulated refs

def _simulation_api():
    """rixsim.xas / rixsim.atomic_model, from the top level once exported, else from their modules."""
    try:
        return rixsim.xas, rixsim.atomic_model
    except AttributeError:
        pass
    try:
        from rixsim.cluster.model import atomic_model
        from rixsim.spectroscopy.xas import xas
    except ImportError:
        return None
    return xas, atomic_model


@pytest.fixture(scope="module")
def simulated_references():
    api = _simulation_api()
    if api is None:
        pytest.skip("the core engine (rixsim.xas, rixsim.atomic_model) is not available")
    xas, atomic_model = api
    e = np.arange(630.0, 660.0, 0.1)
    # 10Dq grows with valence (octahedral Mn oxides: ~1 eV for Mn2+ to ~2 eV for Mn4+)
    return {ion: xas(atomic_model(ion, tendq=tq), e, polarization="isotropic", temperature_k=300, gauss_fwhm=0.2)
            for ion, tq in (("Mn2+", 0.9), ("Mn3+", 1.5), ("Mn4+", 2.2))}


@pytest.mark.slow  # the fits take ~1 s; building the three references costs the engine's JIT, 2-30 s
def test_recovers_mixtures_of_simulated_mn_references(simulated_references):
    """The seed review's Fig. 4a analysis on rixsim's own multiplet references: 50 Poisson realisations of a
    Mn2+/3+/4+ mixture (3e4 counts at the peak, references shifted by 0.3 eV)."""
    refs = simulated_references
    truth = np.array([0.25, 0.5, 0.25])
    de = np.arange(633.0, 657.0, 0.1)
    clean = _mixture(refs, truth, de, shift=0.3)
    counts = clean * 3e4 / clean.max()
    rng = np.random.default_rng(11)
    fits, sigs, vals, vsig, shifts = [], [], [], [], []
    for _ in range(50):
        r = fit_linear_combination(Spectrum(de, rng.poisson(counts).astype(float)), refs, valences=VALENCES)
        fits.append(r.fraction_array)
        sigs.append(r.sigma_array)
        vals.append(r.average_valence)
        vsig.append(r.average_valence_sigma)
        shifts.append(r.shift)
    fits, sigs, vals, vsig, shifts = map(np.array, (fits, sigs, vals, vsig, shifts))
    assert np.abs(fits - truth).max() < 0.03
    pulls = (fits - truth) / sigs
    assert np.all((pulls.std(axis=0) > 0.7) & (pulls.std(axis=0) < 1.4)), pulls.std(axis=0)
    assert 0.7 < vals.std() / vsig.mean() < 1.4
    assert abs(vals.mean() - 3.0) < 3 * vsig.mean()
    assert np.abs(shifts - 0.3).max() < 0.03

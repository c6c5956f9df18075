"""Fit health (rixsim.fit_result): every fit says which parameters the data do not determine and whether χ²
agrees with counting statistics.

Cases: the criteria one by one on hand-made parameters; a fit of pure noise; a fit of the wrong element (Mn²⁺
data with a Ni²⁺ model); an undetermined Δ (charge transfer without hybridisation); good Poisson fits that are
trustworthy and whose σ cover the truth (LCF: 200 trials; model fits: 24 trials, marked slow); the CLI exit
code 5.
"""
import math

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from rixsim.analysis.fit_result import FitParameter, FitResult, assess_health
from rixsim.analysis.fitting import FitModel, fit_xas, simulate_xas
from rixsim.analysis.lcf import fit_linear_combination
from rixsim.errors import InputError
from rixsim.results import Spectrum
from rixsim.spectroscopy.broadening import voigt

E_NI = np.linspace(848.0, 876.0, 281)


# ------------------------------------------------------------------------------------------ the criteria
def _p(name, value, sigma, lo=-math.inf, hi=math.inf, **kw):
    return FitParameter(name, value, sigma, lo, hi, True, **kw)


def test_each_criterion_flags_its_parameter():
    params = {p.name: p for p in (
        _p("good", 2.0, 0.1, 0.0, 10.0),
        _p("nan_sigma", 1.0, math.nan),
        _p("wider_than_bounds", 0.5, 2.0, 0.0, 1.0),
        _p("huge_sigma", 3.0, 1e8, sigma_limit=3.0),
        _p("consistent_with_zero", 0.2, 0.5, 0.0, math.inf),
        _p("at_bound", 0.0, 0.1, 0.0, 5.0),
        _p("signed_small", 0.01, 0.05),            # a signed quantity near 0 without a limit: not flagged
        _p("a", 1.0, 0.1), _p("b", 1.0, 0.1))}
    names = tuple(params)
    corr = np.eye(len(names))
    ia, ib = names.index("a"), names.index("b")
    corr[ia, ib] = corr[ib, ia] = -0.995
    h = assess_health(params, names, corr, chi_square=100.0, dof=100, weighting="poisson")
    assert not h.trustworthy
    assert set(h.undetermined) == {"nan_sigma", "wider_than_bounds", "huge_sigma", "consistent_with_zero",
                                   "at_bound", "a", "b"}
    assert h.at_bounds == ("at_bound",)
    assert h.correlated[0][:2] == ("a", "b") and h.correlated[0][2] == pytest.approx(-0.995)
    assert h.chi2_consistent is True
    text = " ".join(h.reasons)
    assert "1e+08" in text and "not computed" in text and "correlation -0.9950" in text


def test_chi_square_quantiles_follow_the_chi2_distribution():
    params = {"s": _p("s", 1.0, 0.01, 0.0)}
    dof = 200
    ok = assess_health(params, ("s",), None, chi_square=dof * 1.2, dof=dof, weighting="poisson")
    assert ok.trustworthy and 0.9 < ok.chi2_probability < 0.999      # 1.2 for 200 dof: P ≈ 0.97
    bad = assess_health(params, ("s",), None, chi_square=dof * 1.4, dof=dof, weighting="poisson")
    assert not bad.trustworthy and bad.chi2_consistent is False and "too large" in bad.reasons[0]
    low = assess_health(params, ("s",), None, chi_square=dof * 0.6, dof=dof, weighting="poisson")
    assert not low.trustworthy and "too small" in low.reasons[0]
    # given σ: the quantile is reported, not judged; unit weights: χ² has no absolute meaning
    given = assess_health(params, ("s",), None, chi_square=dof * 1.4, dof=dof, weighting="given sigma")
    assert given.trustworthy and given.chi2_consistent is None and given.chi2_probability > 0.999
    unit = assess_health(params, ("s",), None, chi_square=1e-20, dof=dof, weighting="unit")
    assert unit.trustworthy and unit.chi2_probability is None
    with pytest.raises(InputError, match="weighting"):
        assess_health(params, ("s",), None, 1.0, 1, "user")


def test_result_repr_is_short_and_summary_names_the_problems():
    params = {"x": _p("x", 1.0, math.nan)}
    h = assess_health(params, ("x",), None, 10.0, 9, "poisson")
    r = FitResult(kind="xas", data=np.zeros(10), best_fit=np.zeros(10), residual=np.ones(10), parameters=params,
                  varied=("x",), covariance=None, correlation=None, chi_square=10.0, dof=9, weighting="poisson",
                  success=True, n_evaluations=3, health=h)
    assert len(repr(r).splitlines()) == 1 and len(repr(r)) < 200 and "NOT trustworthy" in repr(r)
    s = r.summary()
    assert "UNDETERMINED" in s and "Health: NOT trustworthy" in s and "x: σ not computed" in s
    with pytest.raises(AttributeError):
        r.kind = "lcf"
    with pytest.raises(InputError, match="weighting"):
        FitResult(kind="xas", data=None, best_fit=None, residual=np.ones(2), parameters=params, varied=("x",),
                  covariance=None, correlation=None, chi_square=1.0, dof=1, weighting="unweighted", success=True,
                  n_evaluations=1, health=h)


# ----------------------------------------------------------------------------------------- model fits
@pytest.fixture(scope="module")
def ni():
    return FitModel("Ni2+")


def test_scale_is_kept_non_negative(ni):
    # data that want a negative scale (an inverted spectrum on a background): the scale stops at 0 and the
    # result says it is at its bound
    clean = simulate_xas(ni, E_NI, dict(tendq=1.1, scale=50.0)).intensity
    data = Spectrum(E_NI, 200.0 - clean + 1.0)
    r = fit_xas(data, ni, start=dict(tendq=1.1, scale=1.0, background=150.0), vary=["scale", "background"],
                sigma=1.0)
    assert r.parameters["scale"].min == 0.0 and r.values["scale"] >= 0.0
    assert not r.trustworthy and "scale" in r.health.undetermined


def test_fit_of_pure_noise_is_flagged(ni):
    rng = np.random.default_rng(1)
    data = Spectrum(E_NI, rng.poisson(40.0, E_NI.size).astype(float))
    r = fit_xas(data, ni, start=dict(tendq=1.1, scale=5.0, background=40.0), vary=["scale", "background"])
    assert not r.trustworthy
    assert "scale" in r.health.undetermined                # no absorption: σ(scale) ≥ scale or scale at 0


def test_fit_of_the_wrong_element_is_flagged(ni):
    # Mn2+ L-edge counts fitted with a Ni2+ cluster (its own edge offset moved onto the Mn edge): a good
    # optimum of a wrong model, given away by χ² far outside the counting-statistics range
    mn = FitModel("Mn2+")
    e = np.linspace(632.0, 660.0, 281)
    truth = dict(tendq=0.8, scale=3000.0, gauss_fwhm=0.3)
    data = Spectrum(e, np.random.default_rng(2).poisson(simulate_xas(mn, e, truth).intensity).astype(float))
    start = dict(tendq=1.1, edge_offset=mn.defaults("xas")["edge_offset"], gauss_fwhm=0.3)
    r = fit_xas(data, ni, start=start, vary=["tendq", "slater_scale", "edge_offset", "l3_fwhm", "scale"])
    assert r.success and not r.trustworthy
    assert r.health.chi2_consistent is False and r.reduced_chi_square > 3


def test_undetermined_delta_is_flagged_not_reported_with_a_huge_sigma():
    # charge transfer without hybridisation (Veg = Vt2g = 0): the d⁹L̲ configuration never mixes into the
    # d⁸ ground state or the core-excited states the dipole reaches, so Δ does not change the spectrum
    m = FitModel("Ni2+", charge_transfer=True, n_ligand_holes=1)
    values = dict(tendq=1.0, delta=4.0, udd=7.0, upd=8.0, veg=0.0, vt2g=0.0, scale=1000.0)
    data = Spectrum(E_NI, np.random.default_rng(3).poisson(simulate_xas(m, E_NI, values).intensity).astype(float))
    r = fit_xas(data, m, start=dict(values, delta=3.5), vary=["delta", "tendq", "scale"])
    assert not r.trustworthy
    assert "delta" in r.health.undetermined
    assert "tendq" not in r.health.undetermined or not np.isfinite(r.sigmas["tendq"])
    line = [ln for ln in r.summary().splitlines() if ln.strip().startswith("delta ")][0]
    assert "UNDETERMINED" in line


def _coverage_trials(model, e, truth, start, vary, n, seed):
    rng = np.random.default_rng(seed)
    clean = simulate_xas(model, e, truth).intensity
    hits, trusted = {nm: 0 for nm in vary}, 0
    for _ in range(n):
        data = Spectrum(e, rng.poisson(clean).astype(float))
        r = fit_xas(data, model, start=start, vary=vary)
        trusted += r.trustworthy
        for nm in vary:
            hits[nm] += abs(r.values[nm] - truth[nm]) <= r.sigmas[nm]
    return hits, trusted


@pytest.mark.slow
def test_good_model_fit_is_trustworthy_and_covers_the_truth(ni):
    # 24 trials (model fits cost ~0.5 s each): binomial σ of a 68 % coverage is 0.095, so ≥ 10 of 24 hits
    # (41 %) is 2.8 σ below it and fails only for σ that are too small by a factor ≳ 1.7
    truth = dict(tendq=1.2, slater_scale=0.75, edge_offset=858.5, l3_fwhm=0.5, gauss_fwhm=0.3, scale=3000.0)
    start = dict(tendq=1.15, slater_scale=0.78, edge_offset=858.4, l3_fwhm=0.45, gauss_fwhm=0.3)
    vary = ["tendq", "slater_scale", "edge_offset", "l3_fwhm", "scale"]
    hits, trusted = _coverage_trials(ni, E_NI, truth, start, vary, 24, seed=7)
    assert trusted >= 22, trusted
    for nm, k in hits.items():
        assert 10 <= k <= 24, (nm, k)


# ---------------------------------------------------------------------------------------------- LCF
E_REF = np.arange(630.0, 660.0001, 0.1)


def _ref(peaks):
    y = sum(a * voigt(E_REF, c, 0.3, 0.4) for c, a in peaks)
    return Spectrum(E_REF, y + 0.3 * (0.5 + np.arctan((E_REF - 643.0) / 0.5) / np.pi))


REFS = {"Mn2+": _ref([(639.6, 0.3), (640.5, 1.0), (641.2, 0.4), (650.8, 0.4)]),
        "Mn3+": _ref([(640.8, 0.4), (641.8, 0.8), (642.6, 0.5), (652.2, 0.4)]),
        "Mn4+": _ref([(641.6, 0.3), (643.4, 1.0), (644.6, 0.3), (653.6, 0.4)])}
VALENCES = {"Mn2+": 2, "Mn3+": 3, "Mn4+": 4}


def test_lcf_coverage_is_68_percent_and_good_fits_are_trustworthy():
    # 200 Poisson trials: binomial σ of a 68.3 % coverage is 3.3 %; the window [0.60, 0.77] is ±2.6 σ.
    # The χ² test flags 0.2 % of correct fits by construction, so nearly all must be trustworthy.
    truth = np.array([0.5, 0.3, 0.2])
    e = np.arange(634.0, 657.0, 0.1)
    clean = sum(f * CubicSpline(r.energy, r.intensity)(e) for f, r in zip(truth, REFS.values()))
    counts = clean * (3000.0 / clean.max())
    rng = np.random.default_rng(11)
    n, hits, v_hits, trusted = 200, np.zeros(3), 0, 0
    for _ in range(n):
        r = fit_linear_combination(Spectrum(e, rng.poisson(counts).astype(float)), REFS, valences=VALENCES,
                                   shift="none")
        f = np.array([r.derived[nm].value for nm in REFS])
        s = np.array([r.derived[nm].sigma for nm in REFS])
        hits += np.abs(f - truth) <= s
        v_hits += abs(r.derived["valence"].value - truth @ [2, 3, 4]) <= r.derived["valence"].sigma
        trusted += r.trustworthy
    cover = hits / n
    assert np.all((cover > 0.60) & (cover < 0.77)), cover
    assert 0.60 < v_hits / n < 0.77, v_hits / n
    assert trusted >= 0.97 * n, trusted


def test_lcf_with_the_wrong_references_is_flagged():
    # Mn data fitted with references of another element's shape (here Ni-like multiplets moved onto the Mn
    # axis): converges, but χ² is far above counting statistics
    e = np.arange(634.0, 657.0, 0.1)
    wrong = {"A": _ref([(641.0, 1.0), (642.5, 0.2), (652.0, 0.5)]), "B": _ref([(643.0, 1.0), (654.0, 0.3)])}
    clean = CubicSpline(REFS["Mn2+"].energy, REFS["Mn2+"].intensity)(e)
    y = np.random.default_rng(5).poisson(clean * 3000.0 / clean.max()).astype(float)
    r = fit_linear_combination(Spectrum(e, y), wrong, shift="common", at_bound="fix")
    assert not r.trustworthy and r.health.chi2_consistent is False


def test_lcf_of_pure_noise_is_flagged():
    e = np.arange(634.0, 657.0, 0.1)
    y = np.random.default_rng(6).poisson(500.0, e.size).astype(float)
    r = fit_linear_combination(Spectrum(e, y), REFS, shift="none", at_bound="fix")
    assert not r.trustworthy


# ----------------------------------------------------------------------------------------------- CLI
def test_cli_fit_exits_5_when_not_trustworthy(tmp_path, capsys):
    from rixsim.interfaces.cli import EXIT_UNTRUSTWORTHY, build_parser, main
    from rixsim.io import write_spectrum_csv
    e = np.arange(634.0, 657.0, 0.1)
    noise = Spectrum(e, np.random.default_rng(8).poisson(500.0, e.size).astype(float), label="noise")
    path = write_spectrum_csv(tmp_path / "noise.csv", noise)
    refs = []
    for nm, s in REFS.items():
        refs.append(str(write_spectrum_csv(tmp_path / f"{nm.replace('+', 'p')}.csv", s)))
    code = main(["fit", str(path), "-r", *refs, "--shift", "none", "--no-plot", "-o", str(tmp_path / "out")])
    assert code == EXIT_UNTRUSTWORTHY == 5
    err = capsys.readouterr().err
    assert "not trustworthy" in err
    assert "Health: NOT trustworthy" in (tmp_path / "out" / "noise_fit.txt").read_text()
    assert "5 a fit converged but is not trustworthy" in build_parser().format_help()


def test_results_pickle_round_trip():
    # results travel to and from sweep workers
    import pickle
    e = np.arange(634.0, 657.0, 0.1)
    clean = sum(f * CubicSpline(r.energy, r.intensity)(e) for f, r in zip([0.5, 0.3, 0.2], REFS.values()))
    r = fit_linear_combination(Spectrum(e, np.random.default_rng(9).poisson(clean * 1000.0).astype(float)), REFS,
                               valences=VALENCES, shift="none")
    back = pickle.loads(pickle.dumps(r))
    assert back.summary() == r.summary() and back.fractions == dict(r.fractions)
    assert back.health == r.health and np.array_equal(back.residual, r.residual)

"""Forward-model fits of measured spectra (rixsim.analysis.measured): limits of the model, agreement with
rixsim.detection.channels, recovery of known sample and model parameters from Poisson-noisy synthetic
TEY + TFY, σ coverage, and joint σ⁺/σ⁻ (XMCD) fits."""
import math

import numpy as np
import pytest

from rixsim.analysis.measured import (ClusterAbsorption, DetectionChannel, MeasuredModel, MeasuredScan, SampleSpec,
                                      fit_measured)
from rixsim.errors import InputError
from rixsim.fit_result import FitResult
from rixsim.results import Spectrum

E = np.linspace(846.0, 878.0, 129)
SAMPLE = SampleSpec("NiO", 6.67, "Ni", thickness_nm=120.0, packing=0.6, incidence_deg=50.0, exit_deg=30.0)
CHANNELS = {"tey": DetectionChannel("TEY"), "tfy": DetectionChannel("TFY")}
# the truth of the synthetic data: ≈2e4 counts per point in the TEY post-edge, ≈3e4 in the TFY
TRUTH = {"tendq": 1.1, "white_line_area": 14.0, "step_height": 1.2, "thickness_nm": 120.0, "packing": 0.6,
         "incidence_deg": 50.0, "tey_scale": 2.0e5, "tey_bg0": 400.0, "tey_bg1": 50.0, "tfy_scale": 4.0e7,
         "tfy_bg0": 800.0, "tfy_bg1": 0.0}
CHEAP = ["white_line_area", "step_height", "thickness_nm", "packing", "incidence_deg"]


@pytest.fixture(scope="module")
def cluster():
    return ClusterAbsorption("Ni2+")


@pytest.fixture(scope="module")
def model(cluster):
    return MeasuredModel(cluster, CHANNELS, sample=SAMPLE)


def noisy(model, values, rng, polarization="isotropic", name=""):
    pred = model.predict(E, values, polarization)
    return MeasuredScan({k: Spectrum(E, rng.poisson(s.intensity).astype(float)) for k, s in pred.items()},
                        polarization, name)


# ---- the model's limits -----------------------------------------------------------------------------
def test_tey_agrees_with_detection_channels(cluster):
    """The fit's TEY equals rixsim.detection.channels.tey of a layer whose Ni L2,3 resonance is the model's
    own n(E) (erf steps: the resonance's post-edge normalisation then finds n = 1)."""
    from rixsim.detection.channels import tey
    from rixsim.detection.sample import Geometry, Layer, ResonantEdge, Sample
    m = MeasuredModel(cluster, {"tey": DetectionChannel("TEY"), "n": DetectionChannel("absorption")},
                      sample=SAMPLE, step_shape="erf")
    wide = np.union1d(E, np.linspace(828.0, 915.0, 871))     # E on the grid: no interpolation error
    v = dict(tendq=1.1, step_fwhm=0.8)
    n = m.yields(wide, v)["n"]
    layer = Layer("NiO", 6.67 * 0.6, 120.0, resonances=(ResonantEdge("Ni", "L2,3", Spectrum(wide, n)),))
    ref = tey(Sample(layer), Geometry(50.0, 30.0), E, electron_escape_nm=3.0).intensity
    ours = m.yields(E, v)["tey"]
    np.testing.assert_allclose(ours, ref, rtol=5e-3)


def test_thin_film_fluorescence_is_linear_in_the_absorption(model):
    """d → 0: Y·sin α / d = Σ_ℓ ω_ℓ (μ_L3 + f23 μ_L2) over L3 lines + Σ_ℓ ω_ℓ μ_L2 over L2 lines."""
    import xraydb

    from rixsim.detection.channels import emission_lines
    from rixsim.detection.selfabsorption import edge_jump_mu_per_nm
    d = 1e-3
    v = dict(tendq=1.1, thickness_nm=d, tfy_nonresonant=0.0)
    y = model.yields(E, v)["tfy"]
    parts = model.edge_absorption(E, v)
    jump = 0.6 * edge_jump_mu_per_nm(SAMPLE.layer(), "Ni", "L2,3", E)
    mu3, mu2 = jump * (parts["white_L3"] + parts["step_L3"]), jump * (parts["white_L2"] + parts["step_L2"])
    lines = [ln for ln in emission_lines("Ni") if ln.shell in ("L3", "L2")]
    w3 = sum(ln.yield_per_hole for ln in lines if ln.shell == "L3")
    w2 = sum(ln.yield_per_hole for ln in lines if ln.shell == "L2")
    f23 = xraydb.ck_probability("Ni", "L2", "L3", total=True)
    expect = w3 * (mu3 + f23 * mu2) + w2 * mu2
    np.testing.assert_allclose(y * math.sin(math.radians(50.0)) / d, expect, rtol=2e-3)


def test_thick_tfy_saturates_and_tey_does_not(model):
    """TFY of a thick concentrated sample flattens the white lines against the post-edge; TEY (λ_e = 3 nm)
    hardly does: the L3 peak-to-post-edge ratio is much smaller in TFY."""
    v = dict(tendq=1.1, thickness_nm=1e5, tfy_nonresonant=0.0)
    y = model.yields(E, v)
    n = model.edge_absorption(E, v)
    absn = n["white_L3"] + n["white_L2"] + n["step_L3"] + n["step_L2"]

    def contrast(a):
        a = a - a[0]
        return a.max() / a[-1]
    assert contrast(y["tey"]) > 0.8 * contrast(absn)
    assert contrast(y["tfy"]) < 0.4 * contrast(absn)


def test_xmcd_normalisation_shares_the_isotropic_area():
    """σ⁺ and σ⁻ white lines are per unit isotropic area: with no exchange field they are equal, with one
    they differ, and (σ⁺ + σ⁻ + z)/3 is the isotropic spectrum."""
    cl = ClusterAbsorption("Ni2+", temperature_k=10.0)
    m = MeasuredModel(cl, {"n": DetectionChannel("absorption")})
    wide = np.linspace(840.0, 890.0, 2001)
    for h, differ in ((0.0, False), (0.003, True)):
        v = dict(tendq=1.1, exchange=h, step_height=0.0)
        yp, ym, yz, yi = (m.yields(wide, v, p)["n"] for p in ("sigma+", "sigma-", "z", "isotropic"))
        np.testing.assert_allclose((yp + ym + yz) / 3, yi, rtol=1e-9, atol=1e-12)
        assert (np.max(abs(yp - ym)) > 0.05 * yi.max()) == differ


def test_cheap_parameters_reuse_the_eigensystem(cluster, model):
    rng = np.random.default_rng(3)
    scan = noisy(model, TRUTH, rng)
    model.yields(E, TRUTH)                          # warm the cache at tendq = 1.1
    d0 = cluster.n_diagonalisations
    res = fit_measured(scan, model, start={"tendq": 1.1}, vary=CHEAP, sigma="poisson")
    assert res.details["n_diagonalisations"] == 0 and cluster.n_diagonalisations == d0
    assert len(model._broadened) <= 16


# ---- recovery -----------------------------------------------------------------------------------------
def test_recovers_sample_and_model_parameters(model):
    """One Poisson realisation of TEY + TFY: every varied parameter, including 10Dq (re-diagonalising) and
    the edge offset, within 3σ of the truth; χ² consistent with counting statistics."""
    rng = np.random.default_rng(11)
    truth = dict(TRUTH, edge_offset=model.defaults()["edge_offset"] + 0.3)
    scan = noisy(model, truth, rng)
    start = {"tendq": 1.0, "edge_offset": truth["edge_offset"] - 0.2, "white_line_area": 12.0,
             "step_height": 1.0, "thickness_nm": 100.0, "packing": 0.5, "incidence_deg": 45.0}
    res = fit_measured(scan, model, start=start, vary=CHEAP + ["tendq", "edge_offset"], sigma="poisson")
    assert isinstance(res, FitResult) and res.kind == "measured"
    assert set(res.data) == {"scan0/tey", "scan0/tfy"}
    for nm in CHEAP + ["tendq", "edge_offset"]:
        p = res.parameters[nm]
        assert abs(p.value - truth[nm]) < 3 * p.sigma, (nm, p.value, p.sigma, truth[nm])
    assert res.health.chi2_consistent
    assert res.parameters["tendq"].sigma < 0.02


@pytest.mark.slow
def test_sigma_coverage_of_the_cheap_parameters(cluster):
    """≥100 Poisson realisations of TEY + TFY with the eigensystem cached (10Dq fixed at the truth — so only
    the cheap parameters are fitted, which is what makes 100 fits fast): each parameter's |fit − truth| < σ
    in 68 % of the trials (binomial 1σ for 100 trials: ±4.7 %)."""
    model = MeasuredModel(cluster, CHANNELS, sample=SAMPLE)
    rng = np.random.default_rng(2026)
    pred = model.predict(E, TRUTH)
    n_trials = 100
    inside = {nm: 0 for nm in CHEAP}
    for _ in range(n_trials):
        scan = MeasuredScan({k: Spectrum(E, rng.poisson(s.intensity).astype(float)) for k, s in pred.items()})
        res = fit_measured(scan, model, start={"tendq": 1.1}, vary=CHEAP, sigma="poisson")
        for nm in CHEAP:
            p = res.parameters[nm]
            inside[nm] += abs(p.value - TRUTH[nm]) < p.sigma
    cover = {nm: k / n_trials for nm, k in inside.items()}
    mean = float(np.mean(list(cover.values())))
    assert 0.62 <= mean <= 0.75, cover
    assert all(0.55 <= c <= 0.82 for c in cover.values()), cover


def test_joint_xmcd_fit_of_both_helicities():
    """σ⁺ and σ⁻ TEY + TFY of Ni2+ at 10 K in an exchange field share every parameter but the polarisation:
    the joint fit recovers the exchange field (which only the dichroism fixes), and more precisely than
    either helicity alone."""
    cl = ClusterAbsorption("Ni2+", temperature_k=10.0)
    m = MeasuredModel(cl, CHANNELS, sample=SAMPLE)
    truth = dict(TRUTH, exchange=0.0012)
    rng = np.random.default_rng(5)
    scans = [noisy(m, truth, rng, "sigma+", "plus"), noisy(m, truth, rng, "sigma-", "minus")]
    vary = ["exchange", "white_line_area", "thickness_nm", "incidence_deg"]
    start = {"tendq": 1.1, "exchange": 0.0008, "packing": 0.6}
    joint = fit_measured(scans, m, start=start, vary=vary, sigma="poisson")
    assert set(joint.data) == {"plus/tey", "plus/tfy", "minus/tey", "minus/tfy"}
    p = joint.parameters["exchange"]
    assert abs(p.value - 0.0012) < 3 * p.sigma and p.sigma < 2e-4
    alone = fit_measured(scans[0], m, start=start, vary=vary, sigma="poisson")
    assert alone.parameters["exchange"].sigma > p.sigma
    # the best fit carries the data's dichroism
    dich_data = scans[0].channels["tey"].intensity - scans[1].channels["tey"].intensity
    dich_fit = joint.best_fit["plus/tey"].intensity - joint.best_fit["minus/tey"].intensity
    assert np.corrcoef(dich_data, dich_fit)[0, 1] > 0.8
    # separate scales per scan: a scale per helicity, still recovering the field
    sep = fit_measured(scans, m, start=start, vary=vary, sigma="poisson", separate_scales=True)
    assert {"tey_scale_plus", "tey_scale_minus"} <= set(sep.varied)
    assert abs(sep.parameters["exchange"].value - 0.0012) < 3 * sep.parameters["exchange"].sigma


# ---- input checks -------------------------------------------------------------------------------------
def test_bad_input(cluster, model):
    with pytest.raises(InputError, match="kind"):
        DetectionChannel("XEOL")
    with pytest.raises(InputError, match="window"):
        DetectionChannel("PFY")
    with pytest.raises(InputError, match="only for PFY"):
        DetectionChannel("TEY", window=(840, 860))
    with pytest.raises(InputError, match="needs a sample"):
        MeasuredModel(cluster, {"tey": DetectionChannel("TEY")})
    with pytest.raises(InputError, match="not in the formula"):
        SampleSpec("Li2O", 2.0, "Ni")
    with pytest.raises(InputError, match="packing"):
        SampleSpec("NiO", 6.67, "Ni", packing=1.5)
    with pytest.raises(InputError, match="no tabulated Ni"):
        MeasuredModel(cluster, {"pfy": DetectionChannel("PFY", window=(500, 530))}, sample=SAMPLE)
    rng = np.random.default_rng(0)
    scan = noisy(model, TRUTH, rng)
    with pytest.raises(InputError, match="unknown parameter"):
        fit_measured(scan, model, vary=["tenDq"], sigma="poisson")
    with pytest.raises(InputError, match="no sigma"):
        fit_measured(scan, model, vary=["white_line_area"])
    with pytest.raises(InputError, match="does not have"):
        fit_measured(MeasuredScan({"pfy": scan.channels["tey"]}), model, vary=["white_line_area"], sigma=None)
    with pytest.raises(InputError, match="cannot be fitted"):
        fit_measured(scan, model, start={"thickness_nm": math.inf}, vary=["thickness_nm"], sigma="poisson")
    with pytest.raises(InputError, match="within its bounds"):
        fit_measured(scan, model, start={"incidence_deg": 120.0}, vary=["incidence_deg"], sigma="poisson")


def test_mixture_weights_ions_by_atom_fraction_and_holes():
    """A ClusterMixture of Ni2+ (2 holes) and Ni3+ (3 holes): fraction 0 gives Ni2+ alone; at atom fraction x
    the Ni3+ share of the (unit) white-line area is x·a3 / (x·a3 + (1 − x)·a2), a ∝ holes."""
    from rixsim.analysis.measured import ClusterMixture
    ni2, ni3 = ClusterAbsorption("Ni2+"), ClusterAbsorption("Ni3+")
    mix = ClusterMixture({"ni2": ni2, "ni3": ni3})
    wide = np.linspace(840.0, 885.0, 1801)
    single = MeasuredModel(ni2, {"n": DetectionChannel("absorption")})
    mixed = MeasuredModel(mix, {"n": DetectionChannel("absorption")})
    common = dict(step_height=0.0, white_line_area=1.0)
    alone = single.yields(wide, dict(common, tendq=1.1))["n"]
    zero = mixed.yields(wide, dict(common, ni2_tendq=1.1, ni3_tendq=2.0, ni3_fraction=0.0))["n"]
    np.testing.assert_allclose(zero, alone, rtol=1e-10, atol=1e-14)
    v = dict(ni2_tendq=1.1, ni3_tendq=2.0, ni3_fraction=0.3, ni3_shift=1.5)
    st = mix.sticks(mixed.defaults() | v)
    assert st.weight.sum() == pytest.approx(1.0, rel=1e-12)
    a2 = ni2._transitions({"tendq": 1.1, "slater_scale": 0.8, "soc_scale": 1.0, "exchange": 0.0})["area"]
    a3 = ni3._transitions({"tendq": 2.0, "slater_scale": 0.8, "soc_scale": 1.0, "exchange": 0.0})["area"]
    assert a3 / a2 == pytest.approx(3 / 2, rel=1e-6)                  # white-line area ∝ 3d holes
    n2 = ni2.sticks({"tendq": 1.1, "slater_scale": 0.8, "soc_scale": 1.0, "exchange": 0.0}).energy.size
    assert st.weight[:, n2:].sum() == pytest.approx(0.3 * a3 / (0.3 * a3 + 0.7 * a2), rel=1e-10)
    with pytest.raises(InputError, match="at least two"):
        ClusterMixture({"ni2": ni2})


def test_tfy_is_pfy_of_every_line_plus_the_non_resonant_emission(cluster):
    """TFY = PFY over a window holding every Ni L line + the O Kα of NiO (which dips on the resonance)."""
    m = MeasuredModel(cluster, {"tfy": DetectionChannel("TFY"), "pfy": DetectionChannel("PFY", window=(600, 900))},
                      sample=SAMPLE)
    y = m.yields(E, dict(tendq=1.1))
    ok = y["tfy"] - y["pfy"]
    assert np.all(ok > 0)
    assert ok.argmin() == y["pfy"].argmax() or abs(E[ok.argmin()] - E[y["pfy"].argmax()]) < 1.0
    y0 = m.yields(E, dict(tendq=1.1, tfy_nonresonant=0.0))
    np.testing.assert_allclose(y0["tfy"], y0["pfy"], rtol=1e-12)


def test_circular_degree_scales_the_dichroism():
    """P = circular_degree mixes in the opposite helicity: the XMCD scales with P, the sum σ⁺ + σ⁻ does not."""
    cl = ClusterAbsorption("Ni2+", temperature_k=10.0)
    m = MeasuredModel(cl, {"n": DetectionChannel("absorption")})
    v = dict(tendq=1.1, exchange=0.003)
    full = {p: m.yields(E, v, p)["n"] for p in ("sigma+", "sigma-")}
    half = {p: m.yields(E, dict(v, circular_degree=0.5), p)["n"] for p in ("sigma+", "sigma-")}
    np.testing.assert_allclose(half["sigma+"] - half["sigma-"], 0.5 * (full["sigma+"] - full["sigma-"]), atol=1e-12)
    np.testing.assert_allclose(half["sigma+"] + half["sigma-"], full["sigma+"] + full["sigma-"], rtol=1e-12)

"""Self-absorption correction round trips and conditioning (rixsim.detection.selfabsorption)."""
import math
import warnings

import numpy as np
import pytest

from rixsim.detection.channels import default_windows, detected_map, ipfy_from_map, pfy_from_map, tfy_from_map
from rixsim.errors import InputError
from rixsim.results import Spectrum
from rixsim.detection.sample import Geometry, Layer, ResonantEdge, Sample, layer_mu_per_nm
from rixsim.detection.selfabsorption import (IllConditionedWarning, absorption_from_ipfy, absorption_from_ipfy_angles,
                                   condition_number, correct_self_absorption_window,
                                   correct_self_absorption, edge_mu_per_nm, fluorescence_model)

E_O = np.linspace(515.0, 585.0, 281)


def o_k_edge():
    """Synthetic step-free O K XAS: a TM-3d hybridisation pre-edge at 530 eV and a broad band at 541 eV."""
    e = np.linspace(512.0, 588.0, 761)
    x = 0.5 / (1 + ((e - 530.0) / 0.5) ** 2) + 0.3 / (1 + ((e - 541.0) / 3.0) ** 2)
    return ResonantEdge("O", "K", Spectrum(e, x), white_line_peak_over_jump=3.0)


def o_k_tfy(formula, density, thickness_nm, geo):
    layer = Layer(formula, density, thickness_nm, resonances=(o_k_edge(),))
    # below 585 eV only O K is excited among lines above 100 eV (Li K is at 55 eV): TFY = O Kα
    tfy = tfy_from_map(detected_map(Sample(layer), geo, E_O, line_fwhm=0.3))
    return layer, tfy


@pytest.mark.parametrize("formula, density, d, geo, tol", [
    ("LiNi1/3Mn1/3Co1/3O2", 4.7, math.inf, Geometry(45, 45), 3e-4),   # thick: closed form
    ("LiNi1/3Mn1/3Co1/3O2", 4.7, 50.0, Geometry(45, 45), 1e-5),       # finite: iterative
    ("Li2O", 2.01, math.inf, Geometry(60, 15), 3e-4),                 # grazing exit: well-conditioned
])
def test_round_trip_where_well_conditioned(formula, density, d, geo, tol):
    layer, tfy = o_k_tfy(formula, density, d, geo)
    truth = edge_mu_per_nm(layer, "O", "K", E_O)
    with warnings.catch_warnings():
        warnings.simplefilter("error", IllConditionedWarning)
        # O Kα is the only emission: no background to subtract, the pre-edge holds the edge's own tail
        res = correct_self_absorption(tfy, layer, geo, "O", 524.9, edge="K", subtract_pre_edge=False)
    assert res.max_condition < 10
    err = np.max(abs(res.mu_edge.intensity - truth)) / truth.max()
    assert err < tol
    # the uncorrected yield is visibly distorted (saturated) in comparison
    raw = (tfy.intensity - tfy.intensity[0]) / (tfy.intensity[-8:].mean() - tfy.intensity[0])
    assert np.max(abs(raw - truth / truth[-8:].mean())) > 10 * err


def test_grazing_incidence_thick_concentrated_warns():
    geo = Geometry(10, 90)
    layer, tfy = o_k_tfy("Li2O", 2.01, math.inf, geo)
    with pytest.warns(IllConditionedWarning, match="ill-conditioned"):
        res = correct_self_absorption(tfy, layer, geo, "O", 524.9, edge="K")
    assert res.max_condition > 10
    # thin film of the same: no warning (κ → 1)
    layer, tfy = o_k_tfy("Li2O", 2.01, 5.0, geo)
    with warnings.catch_warnings():
        warnings.simplefilter("error", IllConditionedWarning)
        res = correct_self_absorption(tfy, layer, geo, "O", 524.9, edge="K")
    assert res.max_condition < 1.5


def test_condition_number_limits():
    b = 0.01
    mu = np.array([1e-6, 0.01, 0.1, 1.0])
    # thick: κ = 1 + μ_a/B, analytically
    np.testing.assert_allclose(condition_number(mu, b, math.inf, 1.0), 1 + mu / b, rtol=1e-12)
    # thin: κ → 1 whatever μ_a/B
    np.testing.assert_allclose(condition_number(mu, b, 1e-6, 1.0), 1.0, rtol=1e-5)
    # κ equals (d ln f / d ln μ)⁻¹ by finite differences at finite thickness
    for m in mu:
        h = 1e-6 * m
        dlog = (np.log(fluorescence_model(m + h, b, 30.0, 0.5)) - np.log(fluorescence_model(m - h, b, 30.0, 0.5))) \
            / (np.log(m + h) - np.log(m - h))
        assert condition_number(m, b, 30.0, 0.5) == pytest.approx(1 / dlog, rel=1e-6)


def test_thick_closed_form_equals_finite_solver_limit():
    layer, tfy = o_k_tfy("LiNi1/3Mn1/3Co1/3O2", 4.7, math.inf, Geometry(45, 45))
    thick = correct_self_absorption(tfy, layer, Geometry(45, 45), "O", 524.9, edge="K")
    deep = Layer(layer.formula, layer.density_g_cm3, 1e6, layer.resonances)
    finite = correct_self_absorption(tfy, deep, Geometry(45, 45), "O", 524.9, edge="K")
    np.testing.assert_allclose(finite.mu_edge.intensity, thick.mu_edge.intensity, rtol=1e-8, atol=1e-12)


def test_mu_from_ipfy_round_trip_mn_l_in_nmc():
    e = np.linspace(628.0, 672.0, 441)
    x = 1 / (1 + ((e - 643.5) / 0.5) ** 2) + 0.5 / (1 + ((e - 654.0) / 1.0) ** 2)
    layer = Layer("LiNi1/3Mn1/3Co1/3O2", 4.7, math.inf,
                  resonances=(ResonantEdge("Mn", "L2,3", Spectrum(e, x)),))
    geo = Geometry(45, 45)
    E = np.linspace(630.0, 670.0, 161)
    dmap = detected_map(Sample(layer), geo, E, np.arange(515.0, 535.0, 0.01), line_fwhm=0.1)
    ipfy = ipfy_from_map(dmap, default_windows("Mn").ipfy)
    res = absorption_from_ipfy(ipfy, layer, geo, "Mn")
    truth = edge_mu_per_nm(layer, "Mn", "L2,3", E)
    # the residual is the Lorentzian tail in the pre-edge window that fixes K (truth there ≈ 1e-4 of max)
    assert np.max(abs(res.mu_edge.intensity - truth)) / truth.max() < 5e-3


def test_two_angle_ipfy_gives_absolute_mu():
    """Achkar et al. (2011): two geometries give μ(E)/μ(E_OKα) with no free parameter."""
    e = np.linspace(628.0, 672.0, 441)
    x = 1 / (1 + ((e - 643.5) / 0.5) ** 2) + 0.5 / (1 + ((e - 654.0) / 1.0) ** 2)
    layer = Layer("LiNi1/3Mn1/3Co1/3O2", 4.7, math.inf, resonances=(ResonantEdge("Mn", "L2,3", Spectrum(e, x)),))
    E = np.linspace(630.0, 670.0, 81)
    emi = np.arange(515.0, 535.0, 0.01)
    # well apart: sin α/sin β = 5.7 and 0.18 (κ ≈ 6 at the L3 maximum); closer pairs lose conditioning where
    # μ(E) ≫ μ(E_F) g, as both yields then tend to K μ_nr/μ
    g1, g2 = Geometry(80, 10), Geometry(10, 80)
    ip = [ipfy_from_map(detected_map(Sample(layer), g, E, emi, line_fwhm=0.1), (519.9, 529.9)) for g in (g1, g2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", IllConditionedWarning)
        res = absorption_from_ipfy_angles(ip[0], g1, ip[1], g2, layer, "Mn")
    np.testing.assert_allclose(res.meta["mu_total_per_nm"], layer_mu_per_nm(layer, E, "total"), rtol=1e-4)
    truth = edge_mu_per_nm(layer, "Mn", "L2,3", E)
    assert np.max(abs(res.mu_edge.intensity - truth)) / truth.max() < 1e-3
    # nearly equal geometries: ill-conditioned, warned
    g3 = Geometry(75, 15)
    ip3 = ipfy_from_map(detected_map(Sample(layer), g3, E, emi, line_fwhm=0.1), (519.9, 529.9))
    with pytest.warns(IllConditionedWarning, match="two-angle"):
        absorption_from_ipfy_angles(ip[0], g1, ip3, g3, layer, "Mn")
    with pytest.raises(InputError, match="same sin"):
        absorption_from_ipfy_angles(ip[0], g1, ip[0], g1, layer, "Mn")


def test_window_correction_handles_l3_and_l2_lines():
    """Mn PFY holds Lα (L3 holes) and Lβ (L2 holes): the multi-line correction beats the single-line one."""
    from rixsim.detection.channels import r_factor
    e = np.linspace(628.0, 672.0, 441)
    x = 1 / (1 + ((e - 643.5) / 0.5) ** 2) + 0.5 / (1 + ((e - 654.0) / 1.0) ** 2)
    layer = Layer("LiNi1/3Mn1/3Co1/3O2", 4.7, math.inf, resonances=(ResonantEdge("Mn", "L2,3", Spectrum(e, x)),))
    geo = Geometry(45, 45)
    E = np.linspace(630.0, 670.0, 161)
    window = default_windows("Mn").pfy
    pfy = pfy_from_map(detected_map(Sample(layer), geo, E), window)
    truth = Spectrum(E, edge_mu_per_nm(layer, "Mn", "L2,3", E))
    single = correct_self_absorption(pfy, layer, geo, "Mn", 636.7)
    multi = correct_self_absorption_window(pfy, layer, geo, "Mn", window)
    assert multi.meta["lines"] and {"La1", "Lb1"} <= set(multi.meta["lines"])
    assert r_factor(multi.mu_edge, truth) < 5e-4
    assert r_factor(multi.mu_edge, truth) < 0.2 * r_factor(single.mu_edge, truth)
    with pytest.raises(InputError, match="no tabulated"):
        correct_self_absorption_window(pfy, layer, geo, "Mn", (600.0, 610.0))


def test_bad_input():
    layer, tfy = o_k_tfy("Li2O", 2.01, 5.0, Geometry(45, 45))
    with pytest.raises(InputError, match="Spectrum"):
        correct_self_absorption(tfy.intensity, layer, Geometry(), "O", 524.9, edge="K")
    with pytest.raises(InputError, match="not in"):
        correct_self_absorption(tfy, layer, Geometry(), "Mn", 637.0)
    with pytest.raises(InputError, match="emission_energy"):
        correct_self_absorption(tfy, layer, Geometry(), "O", -1.0, edge="K")
    with pytest.raises(InputError, match="edge step"):
        correct_self_absorption(Spectrum(E_O, np.ones_like(E_O)), layer, Geometry(), "O", 524.9, edge="K")
    with pytest.raises(InputError, match="edge"):
        correct_self_absorption(tfy, layer, Geometry(), "O", 524.9, edge="N7")


# ---- refusals: data the single-layer model cannot reach ------------------------------------------------
def _synthetic_thick_o_k(peak_jumps):
    """Thick Li2O O-K fluorescence computed with the correction's own forward model from an edge absorption
    with a white line of ``peak_jumps`` tabulated edge jumps at 531 eV (O Kα at 524.9 eV sees only the
    pre-edge, so the self-consistency is exact)."""
    from rixsim.detection.selfabsorption import background_mu_per_nm, edge_jump_mu_per_nm
    from scipy.special import erf
    layer = Layer("Li2O", 2.01, math.inf)
    geo = Geometry(45, 45)
    jump = edge_jump_mu_per_nm(layer, "O", "K", E_O)
    mu_a = jump * (0.5 * (1 + erf((E_O - 543.0) / 1.0)) + peak_jumps * np.exp(-0.5 * ((E_O - 531.0) / 0.6) ** 2))
    mu_bf = background_mu_per_nm(layer, "O", "K", [524.9])[0]
    B = background_mu_per_nm(layer, "O", "K", E_O) + geo.path_ratio * (mu_bf + np.interp(524.9, E_O, mu_a))
    return layer, geo, Spectrum(E_O, 7.0 * fluorescence_model(mu_a, B, math.inf, geo.sin_in)), mu_a


def test_correction_refuses_data_above_the_saturation_limit():
    layer, tfy = o_k_tfy("Li2O", 2.01, math.inf, Geometry(45, 45))
    pre = tfy.intensity[:12].mean()
    boost = 1.0 + 20.0 * np.exp(-0.5 * ((E_O - 530.0) / 1.0) ** 2)     # a white line no absorption can give
    data = Spectrum(E_O, pre + (tfy.intensity - pre) * boost)
    with pytest.raises(InputError, match="saturation limit"):
        correct_self_absorption(data, layer, Geometry(45, 45), "O", 524.9, edge="K")
    window_layer = Layer("LiNi1/3Mn1/3Co1/3O2", 4.7, math.inf)
    e = np.linspace(630.0, 670.0, 161)
    step = 0.5 * (1 + np.tanh((e - 642.0) / 0.5))
    with pytest.raises(InputError, match="saturation limit"):
        correct_self_absorption_window(Spectrum(e, step + 50.0 * np.exp(-0.5 * ((e - 643.5) / 0.5) ** 2)),
                                       window_layer, Geometry(45, 45), "Mn", default_windows("Mn").pfy)


def test_correction_refuses_hundreds_of_edge_jumps_but_round_trips_them_on_request():
    layer, geo, data, mu_a = _synthetic_thick_o_k(200.0)
    with pytest.raises(InputError, match="edge jumps"):
        correct_self_absorption(data, layer, geo, "O", 524.9, edge="K", subtract_pre_edge=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IllConditionedWarning)
        res = correct_self_absorption(data, layer, geo, "O", 524.9, edge="K", subtract_pre_edge=False,
                                      max_edge_jumps=None)
    np.testing.assert_allclose(res.mu_edge.intensity, mu_a, rtol=1e-6, atol=1e-9 * mu_a.max())
    assert res.normalised.intensity.max() > 150
    # a plausible white line (8 jumps) from the same model passes the default limit
    layer, geo, data, mu_a = _synthetic_thick_o_k(8.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IllConditionedWarning)
        res = correct_self_absorption(data, layer, geo, "O", 524.9, edge="K", subtract_pre_edge=False)
    np.testing.assert_allclose(res.mu_edge.intensity, mu_a, rtol=1e-6, atol=1e-9 * mu_a.max())


def test_correction_refuses_a_post_edge_too_close_to_the_edge():
    layer, tfy = o_k_tfy("Li2O", 2.01, math.inf, Geometry(45, 45))
    keep = E_O <= 550.0                      # post-edge window 547–550 eV: 4 eV above the O K edge (543.1 eV)
    short = Spectrum(E_O[keep], tfy.intensity[keep])
    with pytest.raises(InputError, match="post-edge window"):
        correct_self_absorption(short, layer, Geometry(45, 45), "O", 524.9, edge="K")
    res = correct_self_absorption(short, layer, Geometry(45, 45), "O", 524.9, edge="K", min_post_edge_ev=3.0)
    assert np.isfinite(res.mu_edge.intensity).all()

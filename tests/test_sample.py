"""Sample model: formulas, layers, geometry, attenuation with resonant edges (rixsim.detection.sample)."""
import math

import numpy as np
import pytest
import xraydb

from rixsim.errors import InputError, UnknownIonError
from rixsim.results import Spectrum
from rixsim.detection.sample import (Geometry, Layer, ResonantEdge, Sample, edge_background_cm2_g, element_mu_cm2_g,
                           element_mu_per_nm, layer_mu_per_nm, parse_formula, shell_photo_fraction)


def two_lorentzian(e, e3=643.5, e2=654.0, fwhm3=1.0, fwhm2=2.0, ratio=0.5):
    """Synthetic step-free L3/L2 absorption (peak heights 1 and ``ratio``)."""
    return 1.0 / (1 + ((e - e3) / (fwhm3 / 2)) ** 2) + ratio / (1 + ((e - e2) / (fwhm2 / 2)) ** 2)


E_MN = np.linspace(630.0, 670.0, 401)


@pytest.fixture(scope="module")
def mn_edge():
    return ResonantEdge("Mn", "L2,3", Spectrum(E_MN, two_lorentzian(E_MN)))


# ---------------------------------------------------------------- formulas
@pytest.mark.parametrize("formula, expected", [
    ("LiNi0.33Mn0.33Co0.33O2", {"Li": 1, "Ni": 0.33, "Mn": 0.33, "Co": 0.33, "O": 2}),
    ("LiNi1/3Mn1/3Co1/3O2", {"Li": 1, "Ni": 1 / 3, "Mn": 1 / 3, "Co": 1 / 3, "O": 2}),
    ("LiFePO4", {"Li": 1, "Fe": 1, "P": 1, "O": 4}),
    ("Li1.2Ni0.2Mn0.6O2", {"Li": 1.2, "Ni": 0.2, "Mn": 0.6, "O": 2}),
    ("CuO", {"Cu": 1, "O": 1}),
    ("Li(Ni0.8Co0.1Mn0.1)O2", {"Li": 1, "Ni": 0.8, "Co": 0.1, "Mn": 0.1, "O": 2}),
    ("Ca(OH)2", {"Ca": 1, "O": 2, "H": 2}),
    ("Li2Mn[O]3", {"Li": 2, "Mn": 1, "O": 3}),
    ("OMnO", {"O": 2, "Mn": 1}),
])
def test_parse_formula(formula, expected):
    got = parse_formula(formula)
    assert set(got) == set(expected)
    for el, n in expected.items():
        assert got[el] == pytest.approx(n, abs=1e-12)


@pytest.mark.parametrize("bad", ["", "   ", "Xx2O", "LiMnO2)", "(LiMnO2", "2LiO", "Li$O", "mnO", "Mn1/0O"])
def test_parse_formula_rejects(bad):
    with pytest.raises(InputError):
        parse_formula(bad)


def test_unknown_element_names_it():
    with pytest.raises(UnknownIonError, match="Qq"):
        parse_formula("LiQqO2")


# ---------------------------------------------------------------- layers, samples, geometry
@pytest.mark.parametrize("density", [-1.0, 0.0, float("nan"), "heavy"])
def test_layer_rejects_density(density):
    with pytest.raises(InputError, match="density_g_cm3"):
        Layer("MnO", density)


@pytest.mark.parametrize("thickness", [-5.0, 0.0, float("nan")])
def test_layer_rejects_thickness(thickness):
    with pytest.raises(InputError, match="thickness_nm"):
        Layer("MnO", 5.4, thickness)


def test_only_bulk_may_be_infinite():
    with pytest.raises(InputError, match="infinite"):
        Sample(Layer("MnO", 5.4), surface=(Layer("MnO", 5.4, math.inf),))
    s = Sample(Layer("MnO2", 5.0), surface=(Layer("MnO", 5.4, 2.0),))
    assert [la.formula for la in s.layers] == ["MnO", "MnO2"]


@pytest.mark.parametrize("angle", [0.0, -10.0, 90.0001, 120.0, float("nan")])
def test_geometry_rejects_angles(angle):
    with pytest.raises(InputError, match=r"\(0, 90\]"):
        Geometry(incidence_deg=angle)
    with pytest.raises(InputError, match=r"\(0, 90\]"):
        Geometry(exit_deg=angle)


def test_geometry_accepts_normal_and_rejects_solid_angle():
    g = Geometry(90.0, 30.0)
    assert g.path_ratio == pytest.approx(1.0 / 0.5)
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(InputError, match="solid_angle_fraction"):
            Geometry(45, 45, bad)


def test_frozen():
    g = Geometry()
    with pytest.raises(Exception):
        g.incidence_deg = 10.0


def test_resonance_must_belong_to_layer(mn_edge):
    with pytest.raises(InputError, match="not in"):
        Layer("NiO", 6.7, resonances=(mn_edge,))
    with pytest.raises(InputError, match="absolute"):
        ResonantEdge("Mn", "L2,3", Spectrum(E_MN - 640, two_lorentzian(E_MN), relative=True))
    with pytest.raises(InputError, match="edge"):
        ResonantEdge("Mn", "M4,5", Spectrum(E_MN, two_lorentzian(E_MN)))
    with pytest.raises(InputError, match="no peak"):
        ResonantEdge("Mn", "L2,3", Spectrum(E_MN, np.zeros_like(E_MN)))
    with pytest.raises(InputError, match="spans"):
        ResonantEdge("Mn", "L2,3", Spectrum(E_MN[:50], two_lorentzian(E_MN[:50])))


# ---------------------------------------------------------------- attenuation
def test_nonresonant_attenuation_is_mass_weighted_elam():
    # CuO at 700 eV from Elam et al. (2002) mass coefficients and standard atomic weights (IUPAC: Cu 63.546,
    # O 15.999); 1 cm⁻¹ = 1e-7 nm⁻¹.
    e = np.array([500.0, 700.0, 1000.0])
    w_cu = 63.546 / (63.546 + 15.999)
    expected = 6.31 * (w_cu * xraydb.mu_elam("Cu", e) + (1 - w_cu) * xraydb.mu_elam("O", e)) * 1e-7
    assert layer_mu_per_nm(Layer("CuO", 6.31), e) == pytest.approx(expected, rel=2e-4)


def test_resonant_mu_matches_tables_away_from_edge(mn_edge):
    layer = Layer("MnO2", 5.03, resonances=(mn_edge,))
    bare = Layer("MnO2", 5.03)
    below = np.array([600.0, 620.0, 629.0])      # below the spectrum: tables untouched
    np.testing.assert_allclose(element_mu_per_nm(layer, "Mn", below), element_mu_per_nm(bare, "Mn", below))
    far = np.array([735.0, 760.0])                # above the post-edge fit window: tables again
    np.testing.assert_allclose(element_mu_per_nm(layer, "Mn", far), element_mu_per_nm(bare, "Mn", far))
    # inside the fit window the power law joins the table smoothly (here to 1e-3)
    mid = np.array([700.0])
    assert element_mu_per_nm(layer, "Mn", mid)[0] == pytest.approx(element_mu_per_nm(bare, "Mn", mid)[0], rel=1e-3)
    # at the top of the spectrum (n ≈ 1) the model equals the post-edge power law: within 3 % of the table
    top = np.array([669.5])
    assert element_mu_cm2_g("Mn", top, (mn_edge,), "photo")[0] == pytest.approx(
        xraydb.mu_elam("Mn", top, kind="photo")[0], rel=0.03)


def test_step_free_spectrum_scaled_to_white_line_ratio(mn_edge):
    pre, jump = edge_background_cm2_g("Mn", "L2,3", E_MN)
    mu = element_mu_cm2_g("Mn", E_MN, (mn_edge,), "photo")
    scatter = 0.0
    n = (mu - scatter - pre) / jump
    # maximum = white_line_peak_over_jump + the L3 step (2/3) at the L3 maximum
    assert n.max() == pytest.approx(mn_edge.white_line_peak_over_jump + 2 / 3 * 0.5, rel=0.02)
    assert n[E_MN >= 667].mean() == pytest.approx(1.0, abs=0.02)
    assert abs(n[E_MN <= 632].mean()) < 0.02


def test_spectrum_with_step_is_normalised_like_data():
    e = np.linspace(630, 680, 501)
    x = 0.2 + 3 * two_lorentzian(e) + 1.5 * (0.5 + np.arctan((e - 645) / 0.5) / np.pi)
    edge = ResonantEdge("Mn", "L2,3", Spectrum(e, x))
    n = edge.normalised(e)
    assert n[e <= 633].mean() == pytest.approx(0.0, abs=1e-9)
    assert n[e >= 677].mean() == pytest.approx(1.0, abs=1e-9)


def test_shell_fractions(mn_edge):
    layer = Layer("MnO", 5.4, resonances=(mn_edge,))
    # O 1s share above the O K edge: 1 − 1/r with the tabulated jump ratio r = 15.4 (Elam et al. 2002)
    assert shell_photo_fraction(layer, "O", "K", [640.0])[0] == pytest.approx(1 - 1 / 15.4, rel=1e-6)
    assert shell_photo_fraction(layer, "O", "K", [520.0])[0] == 0.0
    tot = sum(shell_photo_fraction(layer, "Mn", s, E_MN) for s in ("L3", "L2", "L1", "M1"))
    assert np.all(tot <= 1 + 1e-9) and np.all(tot >= 0)
    # on the L3 white line nearly every absorption makes a 2p3/2 hole
    i = np.argmin(abs(E_MN - 643.5))
    assert shell_photo_fraction(layer, "Mn", "L3", E_MN)[i] > 0.95


def test_steps_sit_under_l3_and_l2_even_when_l2_is_higher():
    """Sharp high-valence multiplets can have the larger maximum at L2; the L3 step must stay at L3."""
    e = np.linspace(630, 680, 501)
    x = 0.6 / (1 + ((e - 643.5) / 1.5) ** 2) + 1.0 / (1 + ((e - 654.0) / 0.3) ** 2)
    edge = ResonantEdge("Mn", "L2,3", Spectrum(e, x))
    white_free = {k: v for k, v in edge.normalised_by_shell(np.array([649.0, 662.0, 670.0]), part="step").items()}
    assert white_free["L3"][0] == pytest.approx(2 / 3, abs=1e-3)   # L3 step complete before the L2 group
    assert white_free["L2"][0] < 1e-3                               # L2 step not yet begun
    assert white_free["L3"][2] + white_free["L2"][2] == pytest.approx(1.0, abs=1e-6)

"""Detected mRIXS maps (rixsim.detection.detected_map) and emission bands: exact reductions to the channel
predictions, the thin-film limit, and the O Kα dip at the TM resonance."""
from __future__ import annotations

import math

import numpy as np
import pytest
import xraydb

import rixsim
from rixsim.detection import channels as ch
from rixsim.detection.detected_map import detected_mrixs_map
from rixsim.detection.emission_bands import band_profile, emission_bands, natural_fwhm
from rixsim.detection.sample import Geometry, Layer, ResonantEdge, Sample
from rixsim.errors import InputError
from rixsim.spectroscopy.fluorescence import raman_fluorescence


@pytest.fixture(scope="module")
def mn():
    m = rixsim.atomic_model("Mn2+", tendq=0.8)
    tr = m.transitions(300.0)
    e0 = m.edge_offset
    exc = np.round(e0 - 8 + 0.5 * np.arange(48), 9)
    emi = np.round(500.0 + 0.25 * np.arange(640), 9)
    xas = rixsim.xas(m, np.arange(e0 - 15, e0 + 25, 0.05), temperature_k=300.0, gauss_fwhm=0.2)
    parts = raman_fluorescence(tr, exc, emission=emi, final_fwhm=0.1, resolution_fwhm=0.3)
    return dict(exc=exc, emi=emi, xas=xas, parts=parts)


GEO = Geometry(45.0, 45.0, solid_angle_fraction=0.01)


def _mno(xas, thickness=math.inf):
    return Layer("MnO", 5.37, thickness, resonances=(ResonantEdge("Mn", "L2,3", xas),))


@pytest.mark.parametrize("with_map", [False, True])
def test_channels_of_the_map_equal_the_channel_prediction(mn, with_map):
    """Gaussian lines only: every channel of the detected map is rixsim.detection.channels' prediction."""
    sample = Sample(_mno(mn["xas"]), surface=(Layer("C", 2.0, 5.0, name="carbon"),))
    rmap = mn["parts"].combined(0.4) if with_map else None
    d = detected_mrixs_map(sample, GEO, mn["exc"], mn["emi"], resonant_element="Mn", resonant_map=rmap,
                           resolution_fwhm=1.0, natural_widths=False, light_band_fwhm=0.0, elastic=False)
    win = ch.default_windows("Mn")
    pred = ch.predict_channels(sample, GEO, mn["exc"], "Mn", windows=win, resonant_maps=rmap,
                               emission=mn["emi"], line_fwhm=1.0)
    got = d.channels(win)
    for name, s in pred.as_dict().items():
        np.testing.assert_allclose(got[name].intensity, s.intensity, rtol=1e-8, err_msg=name)
    np.testing.assert_allclose(d.detected.intensity, pred.detected.intensity, rtol=1e-8,
                               atol=1e-12 * pred.detected.intensity.max())


def test_components_add_up(mn):
    d = detected_mrixs_map(Sample(_mno(mn["xas"])), GEO, mn["exc"], mn["emi"], resonant_element="Mn",
                           resonant_map=mn["parts"].combined(0.5))
    np.testing.assert_allclose(sum(d.components.values()), d.detected.intensity, rtol=1e-12)
    assert {"Mn valence", "Mn core-core", "O valence", "elastic"} <= set(d.components)


def test_thin_film_is_the_undistorted_map(mn):
    t = 1e-5     # nm: k t ≈ 1e-7
    d = detected_mrixs_map(Sample(_mno(mn["xas"], t)), GEO, mn["exc"], mn["emi"], resonant_element="Mn",
                           resonant_map=mn["parts"].combined(0.5))
    u = d.undistorted()
    np.testing.assert_allclose(d.detected.intensity, u.intensity, rtol=2e-6, atol=1e-12 * u.intensity.max())
    # the undistorted map has no O Kα dip: its O band follows the smooth O 1s continuum, falling
    # monotonically (≈ E^-2.5) across the Mn edge instead of dipping at the L3 maximum and recovering
    from rixsim.results import RixsMap
    o_thin = RixsMap(u.excitation, u.emission, d.components["O valence"])
    o = ch.window_yield(o_thin, (520.0, 530.0)).intensity
    assert np.all(np.diff(o) < 0) and o[-1] / o[0] > 0.85


def test_thick_electrode_oxygen_dip_and_tm_saturation(mn):
    d = detected_mrixs_map(Sample(_mno(mn["xas"])), GEO, mn["exc"], mn["emi"], resonant_element="Mn",
                           resonant_map=mn["parts"].combined(0.5))
    o = ch.window_yield(d.detected, (520.0, 530.0)).intensity
    mu = ch.true_absorption(d.sample.bulk, "Mn", mn["exc"]).intensity
    i3 = int(np.argmax(mu))
    assert o[i3] < 0.5 * o[0]          # O Kα drops where Mn absorbs (seed review Fig. 2, white arrows)
    # saturation: Mn emission rises far less than μ_Mn between pre-edge and L3 maximum
    pfy = ch.window_yield(d.detected, (629.7, 650.9)).intensity
    thin = detected_mrixs_map(Sample(_mno(mn["xas"], 1e-3)), GEO, mn["exc"], mn["emi"], resonant_element="Mn",
                              resonant_map=mn["parts"].combined(0.5))
    pfy_thin = ch.window_yield(thin.detected, (629.7, 650.9)).intensity
    assert pfy[i3] / pfy[-1] < 0.6 * pfy_thin[i3] / pfy_thin[-1]


def test_bands_carry_tabulated_energies_widths_and_yields():
    bands = {b.label: b for b in emission_bands(["Mn", "O", "C", "F"])}
    ll = bands["Mn Ll"]
    assert ll.kind == "core-core" and ll.energy == pytest.approx(556.4)
    # lifetime width of L3–M1: Γ(L3) + Γ(M1) (Campbell & Papp 2001 via xraydb)
    assert ll.natural_fwhm == pytest.approx(xraydb.core_width("Mn", "L3") + xraydb.core_width("Mn", "M1"))
    assert natural_fwhm("Mn", "L3", "M1") == pytest.approx(0.32 + 1.9454, abs=1e-3)
    assert bands["Mn La1"].kind == "valence" and bands["Mn La1"].band_fwhm == 0.0
    assert bands["O Ka1"].band_fwhm == 3.0 and bands["C Ka1"].energy == pytest.approx(277.0)
    assert bands["F Ka1"].energy == pytest.approx(676.8)
    # yield per hole = shell fluorescence yield × branching (Elam 2002)
    omega_k = xraydb.xray_edge("O", "K").fyield
    assert bands["O Ka1"].yield_per_hole == pytest.approx(omega_k * xraydb.xray_lines("O")["Ka1"].intensity)


@pytest.mark.parametrize("natural", [0.0, 0.5])
def test_band_profiles_have_unit_area(natural):
    from rixsim.detection.emission_bands import EmissionBand
    b = EmissionBand("O", "Ka1", "K", 525.0, 0.005, natural, 3.0, "valence")
    emi = np.linspace(480.0, 570.0, 9001)
    y = band_profile(b, emi, 0.3)
    tail = 0.0 if natural == 0 else natural / (np.pi * 45.0)     # Lorentzian area beyond ±45 eV
    assert np.trapezoid(y, emi) == pytest.approx(1.0 - tail, rel=2e-3)
    with pytest.raises(InputError):
        band_profile(EmissionBand("Mn", "x", "L3", 600.0, 1.0, 0.0, 0.0, "valence"), emi, 0.0)


def test_rayleigh_elastic_line_on_the_diagonal(mn):
    d = detected_mrixs_map(Sample(Layer("C", 2.0)), GEO, mn["exc"], mn["emi"], elastic=True)
    el = d.components["elastic"]
    j = np.argmax(el, axis=1)
    np.testing.assert_allclose(mn["emi"][j], mn["exc"], atol=0.25)


def test_continuum_profile_changes_the_shape_not_the_yield(mn):
    """The cluster's normal-emission profile for continuum ionisation keeps the tabulated yields: in the thin
    limit the Mn valence emission integral is unchanged, and its maximum moves to the profile's."""
    from rixsim.results import Spectrum
    emi = mn["emi"]
    prof = Spectrum(emi, mn["parts"].fluorescence.intensity[-1])
    kw = dict(resonant_element="Mn", resonant_map=mn["parts"].combined(0.5))
    sample = Sample(_mno(mn["xas"], 1e-4))
    a = detected_mrixs_map(sample, GEO, mn["exc"], emi, **kw).components["Mn valence"]
    b = detected_mrixs_map(sample, GEO, mn["exc"], emi, continuum_profile=prof, **kw).components["Mn valence"]
    # 1 %: the tabulated Lα/Lβ Lorentzians (0.34 eV) lose ≈0.5 % of their area beyond the axis end (660 eV);
    # the profile is normalised on the axis
    np.testing.assert_allclose(b.sum(axis=1), a.sum(axis=1), rtol=1e-2)
    above = mn["exc"] > mn["exc"][-1] - 2.0                      # far above the edge: continuum dominates
    assert abs(emi[np.argmax(b[above].sum(axis=0))] - emi[np.argmax(prof.intensity)]) <= 0.5
    with pytest.raises(InputError, match="continuum_profile"):
        detected_mrixs_map(sample, GEO, mn["exc"], emi, continuum_profile=prof)


def test_windows_drawn_on_the_map_and_stacked_channels(mn):
    from rixsim.interfaces.plotting import plot_rixs_map, plot_stacked
    d = detected_mrixs_map(Sample(_mno(mn["xas"])), GEO, mn["exc"], mn["emi"], resonant_element="Mn",
                           resonant_map=mn["parts"].combined(0.5))
    chans = d.channels(ch.default_windows("Mn"))
    fig = plot_rixs_map(d.detected, channels=chans, show_windows=True)
    ax = fig.axes[0]
    vlines = [ln for ln in ax.get_lines() if np.ptp(ln.get_xdata()) == 0]
    assert len(vlines) == 2 * 4                                  # PFY, iPFY, sPFY, ccPFY (not TEY, TFY)
    names = {t.get_text() for t in ax.texts}
    assert {"PFY", "iPFY", "sPFY", "ccPFY"} <= names
    ref = ch.true_absorption(d.sample.bulk, "Mn", mn["exc"])
    fig2 = plot_stacked({k: s for k, s in chans.items()}, ref, offset=1.5)
    assert len(fig2.axes[0].get_lines()) == 2 * len(chans)

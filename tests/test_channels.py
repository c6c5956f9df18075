"""Detection channels: analytic limits, surface vs bulk, map extraction, bad input (rixsim.detection.channels)."""
import math

import numpy as np
import pytest

from rixsim.detection.channels import (ChannelWindows, ccpfy_from_map, default_windows, detected_map, emission_lines,
                             hole_populations,
                             ipfy_from_map, match_to_reference, normalise_edge, pfy_from_map,
                             predict_channels, r_factor, spfy_from_map, tey, tfy_from_map, window_yield)
from rixsim.errors import InputError
from rixsim.results import RixsMap, Spectrum
from rixsim.detection.sample import (Geometry, Layer, ResonantEdge, Sample, element_mu_per_nm, layer_mu_per_nm,
                           shell_photo_fraction)

E = np.linspace(630.0, 670.0, 161)


def two_lorentzian(e, e3=643.5, e2=654.0):
    return 1.0 / (1 + ((e - e3) / 0.5) ** 2) + 0.5 / (1 + ((e - e2) / 1.0) ** 2)


def mn_edge(e3=643.5, e2=654.0, ratio=8.0):
    e = np.linspace(628.0, 672.0, 441)
    return ResonantEdge("Mn", "L2,3", Spectrum(e, two_lorentzian(e, e3, e2)), white_line_peak_over_jump=ratio)


# Coster–Kronig probabilities of Mn (Elam et al. 2002 tables): an L2 hole becomes an L3 hole with f23 = 0.39;
# L1 (769 eV) is not ionised below 670 eV.
MN_F23 = 0.39


def mn_holes(layer, E):
    """Holes per Mn absorption in L3 and L2 after Coster–Kronig transfer (written out independently)."""
    f3 = shell_photo_fraction(layer, "Mn", "L3", E)
    f2 = shell_photo_fraction(layer, "Mn", "L2", E)
    return {"L3": f3 + MN_F23 * f2, "L2": f2}


def line_fraction_in(window, centre, fwhm):
    """Share of a unit-area Gaussian inside a window (independent of the code's binning)."""
    s = fwhm / (2 * math.sqrt(2 * math.log(2)))
    hi = math.erf((window[1] - centre) / (s * math.sqrt(2)))
    lo = math.erf((window[0] - centre) / (s * math.sqrt(2)))
    return 0.5 * (hi - lo)


# ---------------------------------------------------------------- emission lines and windows
def test_lines_and_default_windows_match_seed_fig2():
    names = {ln.name: ln for ln in emission_lines("Mn")}
    # Elam et al. (2002) line energies; the seed review's Fig. 2 shows the Mn 3s→2p line "around 560 eV"
    assert names["Ll"].energy == pytest.approx(556.4) and names["Ll"].core_core
    assert names["La1"].energy == pytest.approx(636.7) and not names["La1"].core_core
    o = {ln.name: ln for ln in emission_lines("O")}
    assert o["Ka1"].energy == pytest.approx(524.9)
    w = default_windows("Mn")
    # seed review §2.3: PFY integrates 630–650 eV, iPFY 520–530 eV
    assert w.pfy[0] == pytest.approx(630, abs=1) and w.pfy[1] == pytest.approx(650, abs=1.5)
    assert w.ipfy[0] == pytest.approx(520, abs=0.5) and w.ipfy[1] == pytest.approx(530, abs=0.5)
    assert w.ccpfy[0] < 556.4 < 567.6 < w.ccpfy[1]


# ---------------------------------------------------------------- thin & dilute limit
def test_thin_dilute_limit_is_absorption_times_yield():
    """d → 0: I_window = Ω/4π · d/sin α · Σ_lines ω b μ_a h_shell · (Gaussian share in window): no
    saturation, no self-absorption."""
    layer = Layer("Mg0.99Mn0.01O", 3.58, 0.01, resonances=(mn_edge(),))
    geo = Geometry(30.0, 60.0, 0.1)
    fwhm = 1.0
    # a fine emission axis: a map is constant over each bin, so a 1 eV window on a 1 eV line needs small bins
    dmap = detected_map(Sample(layer), geo, E, np.arange(540.0, 660.0, 0.01), line_fwhm=fwhm)
    win = default_windows("Mn")
    mu = element_mu_per_nm(layer, "Mn", E, "photo")
    holes = mn_holes(layer, E)
    for name, window, extract in (("PFY", win.pfy, pfy_from_map), ("ccPFY", win.ccpfy, ccpfy_from_map),
                                  ("sPFY", win.spfy, spfy_from_map)):
        expected = np.zeros_like(E)
        for ln in emission_lines("Mn"):
            share = line_fraction_in(window, ln.energy, fwhm)
            if share > 0 and ln.shell in holes:
                expected += ln.yield_per_hole * share * holes[ln.shell]
        expected *= geo.solid_angle_fraction * layer.thickness_nm / geo.sin_in * mu
        got = extract(dmap, window).intensity
        on = expected > 1e-3 * expected.max()
        np.testing.assert_allclose(got[on], expected[on], rtol=2e-3, err_msg=name)


def test_thin_dilute_single_yield_channels_follow_absorption():
    """With one energy-independent yield for the TM (shell_resolved_yields=False), every fluorescence
    channel of a thin dilute sample is ∝ the Mn absorption: R < 1e-3 (LiF host: no other line excited)."""
    layer = Layer("Li0.99Mn0.01F", 2.64, 0.01, resonances=(mn_edge(),))
    ch = predict_channels(Sample(layer), Geometry(30, 60), E, "Mn", shell_resolved_yields=False,
                          emission=np.arange(540.0, 672.0, 0.02))
    assert ch.ipfy is None and "iPFY" not in ch.as_dict()   # no O in LiF: no iPFY
    ref = Spectrum(E, element_mu_per_nm(layer, "Mn", E, "photo"))
    for name in ("TFY", "PFY", "sPFY", "ccPFY"):
        assert r_factor(ch.as_dict()[name], ref) < 1e-3, name
    # with shell-resolved yields an L2 hole mostly decays after Coster–Kronig transfer (an L3 hole, Lα), so
    # an sPFY window on Lα sees 0.39 × the L2 white line: far from ∝ μ.  (Mn PFY stays close: per L2 hole
    # 0.0029 (Lβ) + 0.39 × 0.0045 (Lα) ≈ 0.0046 against 0.0045 per L3 hole, Elam tables.)
    resolved = predict_channels(Sample(layer), Geometry(30, 60), E, "Mn", emission=np.arange(540.0, 672.0, 0.02))
    assert r_factor(resolved.spfy, ref) > 1e-2
    assert r_factor(resolved.pfy, ref) < 1e-3


def test_thin_dilute_map_channels_follow_absorption():
    """A resonant map whose rows are the tabulated-yield white-line emission reproduces, in the thin dilute
    limit, the line model's PFY and TFY in absolute units and follows the absorption (R < 1e-3).

    Host LiF: no line of it is excited below 670 eV (F K edge 696 eV), so TFY is the Mn emission alone.
    """
    layer = Layer("Li0.99Mn0.01F", 2.64, 0.01, resonances=(mn_edge(),))
    geo = Geometry(45, 45)
    emi = np.linspace(620.0, 660.0, 321)
    mu = element_mu_per_nm(layer, "Mn", E, "photo")
    valence = {ln.shell: 0.0 for ln in emission_lines("Mn") if ln.shell in ("L3", "L2")}
    for ln in emission_lines("Mn"):
        if ln.shell in valence and not ln.core_core:
            valence[ln.shell] += ln.yield_per_hole
    f_white = {s: shell_photo_fraction(layer, "Mn", s, E, part="white") for s in ("L3", "L2")}
    h_white = {"L3": f_white["L3"] + MN_F23 * f_white["L2"], "L2": f_white["L2"]}
    white = sum(w * h_white[s] for s, w in valence.items()) * mu
    rixs = RixsMap(E, emi, white[:, None] * np.exp(-0.5 * ((emi[None, :] - 640.0) / 1.5) ** 2))
    with_map = detected_map(Sample(layer), geo, E, resonant_element="Mn", resonant_maps=rixs)
    lines_only = detected_map(Sample(layer), geo, E)
    win = default_windows("Mn")
    for extract in (lambda m: pfy_from_map(m, win.pfy), tfy_from_map):
        np.testing.assert_allclose(extract(with_map).intensity, extract(lines_only).intensity, rtol=2e-3)
    # and both follow the yield-weighted absorption Σ_s ω_s μ_s
    holes = mn_holes(layer, E)
    weighted = Spectrum(E, sum(w * holes[s] for s, w in valence.items()) * mu)
    assert r_factor(pfy_from_map(with_map, win.pfy), weighted) < 1e-3
    assert r_factor(tey(Sample(layer), geo, E), Spectrum(E, mu)) < 1e-3


# ---------------------------------------------------------------- thick & concentrated: saturation
def test_thick_limit_is_the_analytic_saturation_form():
    layer = Layer("MnO", 5.37, math.inf, resonances=(mn_edge(ratio=20.0),))
    geo = Geometry(20.0, 70.0)
    fwhm = 0.02
    emi = np.arange(634.0, 652.0, 0.005)
    dmap = detected_map(Sample(layer), geo, E, emi, line_fwhm=fwhm)
    got = pfy_from_map(dmap, (635.0, 651.0)).intensity
    mu_e = layer_mu_per_nm(layer, E, "total")
    mu_mn = element_mu_per_nm(layer, "Mn", E, "photo")
    g = geo.sin_in / geo.sin_out
    expected = np.zeros_like(E)
    holes = mn_holes(layer, E)
    for ln in emission_lines("Mn"):
        if 635.0 < ln.energy < 651.0:
            mu_f = layer_mu_per_nm(layer, [ln.energy], "total")[0]
            expected += ln.yield_per_hole * mu_mn * holes[ln.shell] / (mu_e + mu_f * g)
    on = expected > 1e-3 * expected.max()
    np.testing.assert_allclose(got[on], expected[on], rtol=2e-3)
    # saturation: the normalised L3 maximum is well below that of the true absorption
    ref = Spectrum(E, mu_mn)
    assert match_to_reference(Spectrum(E, got), ref).max() < 0.8 * normalise_edge(ref).max()


def test_finite_thickness_interpolates_thin_and_thick():
    geo = Geometry(45, 45)
    win = default_windows("Mn")
    y = {}
    for d in (1.0, 30.0, 300.0, 1e5, math.inf):
        layer = Layer("MnO", 5.37, d, resonances=(mn_edge(),))
        y[d] = pfy_from_map(detected_map(Sample(layer), geo, E), win.pfy).intensity
    assert np.all(np.diff([y[d].max() for d in (1.0, 30.0, 300.0)]) > 0)
    np.testing.assert_allclose(y[1e5], y[math.inf], rtol=1e-9)


# ---------------------------------------------------------------- iPFY
def test_ipfy_is_linear_in_total_absorption():
    """Achkar et al., Sci. Rep. 1, 182 (2011):
    1/I_O · μ_O,1s = (μ(E) + μ(E_OKα) sinα/sinβ) / (Ω/4π ω_K Σb)."""
    layer = Layer("LiNi1/3Mn1/3Co1/3O2", 4.7, math.inf, resonances=(mn_edge(),))
    geo = Geometry(35.0, 55.0, 0.2)
    dmap = detected_map(Sample(layer), geo, E, line_fwhm=0.02, emission=np.arange(515.0, 535.0, 0.002))
    ipfy = ipfy_from_map(dmap, (519.9, 529.9)).intensity
    mu_o1s = element_mu_per_nm(layer, "O", E, "photo") * shell_photo_fraction(layer, "O", "K", E)
    x = layer_mu_per_nm(layer, E, "total")
    y = ipfy * mu_o1s
    slope, intercept = np.polyfit(x, y, 1)
    assert np.max(abs(y - (slope * x + intercept))) < 1e-5 * y.max()
    # O K fluorescence yield 0.0058 and Kα1+Kα2 branching 0.6657 + 0.3342 (Elam et al. 2002 tables)
    assert slope == pytest.approx(1.0 / (0.2 * 0.0058 * (0.665714 + 0.334188)), rel=1e-3)
    mu_f = layer_mu_per_nm(layer, [524.9], "total")[0]
    assert intercept / slope == pytest.approx(mu_f * geo.path_ratio, rel=2e-3)


# ---------------------------------------------------------------- surface vs bulk
def _surface_fraction(channel, ref_surface, ref_bulk):
    design = np.column_stack([ref_surface, ref_bulk, np.ones_like(E), E - E.mean()])
    (a, b, *_), *_ = np.linalg.lstsq(design, channel / channel.max(), rcond=None)
    return a / (a + b)


def test_reduced_surface_shows_in_tey_not_in_ipfy():
    """4 nm of Mn2+ (MnO, L3 at 640 eV) over Mn4+ bulk (MnO2, L3 at 643.5 eV)."""
    surf = Layer("MnO", 5.37, 4.0, resonances=(mn_edge(640.0, 651.0),), name="Mn2+ surface")
    bulk = Layer("MnO2", 5.03, math.inf, resonances=(mn_edge(643.5, 654.0),), name="Mn4+ bulk")
    sample, geo = Sample(bulk, surface=(surf,)), Geometry(45, 45)
    ch = predict_channels(sample, geo, E, "Mn", electron_escape_nm=3.0)
    r2 = normalise_edge(Spectrum(E, element_mu_per_nm(surf, "Mn", E)))
    r4 = normalise_edge(Spectrum(E, element_mu_per_nm(bulk, "Mn", E)))
    f_tey = _surface_fraction(ch.tey.intensity, r2, r4)
    f_ipfy = _surface_fraction(ch.ipfy.intensity, r2, r4)
    # TEY: electrons from the top 4 nm with λ_e = 3 nm → 1 − exp(−4/3) ≈ 0.74 of the signal
    assert f_tey == pytest.approx(1 - math.exp(-4 / 3), abs=0.1)
    assert f_ipfy < 0.1
    assert f_tey > 5 * f_ipfy


# ---------------------------------------------------------------- extraction conserves counts
def _random_map(on_loss=False, seed=1):
    rng = np.random.default_rng(seed)
    exc = np.linspace(630, 660, 31)
    axis = np.sort(rng.uniform(0, 1, 200)).cumsum()
    axis = 500.0 + 150.0 * axis / axis[-1]
    z = rng.uniform(0, 1, (exc.size, axis.size))
    if on_loss:
        loss = np.sort(rng.uniform(-5, 140, 200))
        return RixsMap(exc, None, z, loss=loss)
    return RixsMap(exc, axis, z)


@pytest.mark.parametrize("on_loss", [False, True])
@pytest.mark.parametrize("counts", [False, True])
def test_disjoint_windows_sum_to_tfy(on_loss, counts):
    m = _random_map(on_loss)
    tfy = tfy_from_map(m, counts=counts).intensity
    # a loss map covers a different emission range on each row; windows are checked against the union
    lo_e, hi_e = tfy_from_map(m).meta["window_ev"]
    cuts = np.concatenate([[lo_e], np.sort(np.random.default_rng(2).uniform(lo_e, hi_e, 11)), [hi_e]])
    total = sum(window_yield(m, (a, b), counts=counts).intensity for a, b in zip(cuts[:-1], cuts[1:]))
    np.testing.assert_allclose(total, tfy, rtol=1e-12)
    if counts:  # counts: the TFY is the plain sum of the map
        np.testing.assert_allclose(tfy, m.intensity.sum(axis=1), rtol=1e-12)


def test_predicted_map_windows_conserve_too():
    layer = Layer("LiNi1/3Mn1/3Co1/3O2", 4.7, resonances=(mn_edge(),))
    ch = predict_channels(Sample(layer), Geometry(45, 45), E, "Mn")
    d = ch.detected
    lo, hi = tfy_from_map(d).meta["window_ev"]
    w = ch.windows
    parts = [(lo, w.ipfy[0]), w.ipfy, (w.ipfy[1], w.ccpfy[0]), w.ccpfy, (w.ccpfy[1], w.pfy[0]), w.pfy,
             (w.pfy[1], hi)]
    total = sum(window_yield(d, p).intensity for p in parts)
    np.testing.assert_allclose(total, ch.tfy.intensity, rtol=1e-12)


def test_channels_from_map_equals_prediction():
    from rixsim.detection.channels import channels_from_map
    layer = Layer("LiNi1/3Mn1/3Co1/3O2", 4.7, resonances=(mn_edge(),))
    ch = predict_channels(Sample(layer), Geometry(45, 45), E, "Mn")
    got = channels_from_map(ch.detected, ch.windows)
    for name, s in got.items():
        np.testing.assert_array_equal(s.intensity, ch.as_dict()[name].intensity)


def test_o_ka_dips_on_the_mn_resonance():
    """Seed review Fig. 2 (white arrows): the O Kα part of TFY falls where Mn absorbs."""
    layer = Layer("LiNi1/3Mn1/3Co1/3O2", 4.7, resonances=(mn_edge(),))
    ch = predict_channels(Sample(layer), Geometry(45, 45), E, "Mn")
    o = window_yield(ch.detected, ch.windows.ipfy).intensity
    i3 = np.argmin(abs(E - 643.5))
    assert o[i3] < 0.7 * o[0]
    mn = pfy_from_map(ch.detected, ch.windows.pfy).intensity
    assert np.argmin(o) == np.argmax(mn)


# ---------------------------------------------------------------- bad input
def test_window_outside_map_is_refused():
    m = _random_map()
    with pytest.raises(InputError, match="outside"):
        window_yield(m, (400.0, 520.0))
    with pytest.raises(InputError, match="outside"):
        pfy_from_map(m, (640.0, 700.0))
    with pytest.raises(InputError, match="low < high"):
        window_yield(m, (600.0, 590.0))
    with pytest.raises(InputError, match="1–2 eV"):
        spfy_from_map(m, (600.0, 605.0))
    with pytest.raises(InputError, match="pair"):
        window_yield(m, 600.0)


def test_ipfy_of_empty_window_is_refused():
    m = RixsMap(E, np.linspace(500, 700, 101), np.zeros((E.size, 101)))
    with pytest.raises(InputError, match="no intensity"):
        ipfy_from_map(m, (520, 530))


def test_bad_arguments_to_predictions():
    layer = Layer("MnO", 5.37, resonances=(mn_edge(),))
    with pytest.raises(InputError):
        detected_map(layer, Geometry(), E)  # a Layer is not a Sample
    with pytest.raises(InputError):
        tey(Sample(layer), Geometry(), E, electron_escape_nm=-1)
    with pytest.raises(InputError, match="increasing"):
        tey(Sample(layer), Geometry(), E[::-1])
    with pytest.raises(InputError, match="resonant_element"):
        detected_map(Sample(layer), Geometry(), E, resonant_maps=_random_map())
    with pytest.raises(InputError):
        default_windows("Zz")
    with pytest.raises(InputError):
        ChannelWindows(pfy=(1, 0), ipfy=(1, 2), ccpfy=(1, 2), spfy=(1, 2))


def test_coster_kronig_moves_l2_holes_to_l3():
    layer = Layer("MnO", 5.37, resonances=(mn_edge(),))
    h = hole_populations(layer, "Mn", E)
    f = {s: shell_photo_fraction(layer, "Mn", s, E) for s in ("L3", "L2", "L1")}
    # holes are conserved except those that move: Σh = Σf + f23 f_L2 (an L2 hole feeds L3, counted in both)
    np.testing.assert_allclose(h["L3"] + h["L2"], f["L3"] + f["L2"] + MN_F23 * f["L2"], rtol=1e-12)
    np.testing.assert_allclose(hole_populations(layer, "O", E)["K"], shell_photo_fraction(layer, "O", "K", E))


def _slab_weights_slow(k, t, z_max=4000.0, n=200_001):
    """Obviously-correct reference: ∫ exp(−optical depth(z)) dz over each layer by the trapezoid rule on a
    grid of its own, the optical depth accumulated layer by layer."""
    out, above = [], 0.0
    for kj, tj in zip(k, t):
        z = np.linspace(0.0, tj if np.isfinite(tj) else z_max, n)
        out.append(np.trapezoid(np.exp(-above - kj * z), z))
        above += kj * (tj if np.isfinite(tj) else z_max)
    return out


def test_layer_kernel_matches_slow_quadrature():
    from rixsim.detection.channels import _slab_weights
    k, t = [0.05, 0.2, 0.01], [3.0, 7.5, math.inf]
    fast = _slab_weights([np.array(v) for v in k], t)
    slow = _slab_weights_slow(k, t)
    np.testing.assert_allclose(np.array(fast, dtype=float), slow, rtol=1e-6)
    k, t = [0.03, 0.3], [20.0, 40.0]                         # free-standing film: nothing below
    np.testing.assert_allclose(np.array(_slab_weights([np.array(v) for v in k], t), dtype=float),
                               _slab_weights_slow(k, t), rtol=1e-6)

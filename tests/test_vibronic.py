"""Tests of the vibronic Kramers–Heisenberg model (rixsim.oxygen.vibronic).

Every expected value is an analytic closed form, a sum rule, a published number (source beside it) or a slow
reference implementation — never a number produced by the code under test.
"""
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.signal import find_peaks
from scipy.special import gammaln

from rixsim.oxygen import vibronic as vib
from rixsim.errors import ConvergenceError, InputError
from rixsim.oxygen.franck_condon import franck_condon, vibrational_energies, vibronic_structure
from rixsim.oxygen.potentials import (O_1S_CORE_HOLE_FWHM, FinalChannel, Mode, OxidisedOxygenParameters, Potential,
                                      SolvationShellParameters, VibronicModel)
from rixsim.oxygen.solvation import solvation_shell_comparison
from rixsim.oxygen.vibronic import kh_amplitudes, loss_sticks, vibronic_rixs_map, vibronic_rixs_spectrum, vibronic_xas


def poisson(g, n):
    n = np.asarray(n, dtype=float)
    return np.exp(-g + n * np.log(g) - gammaln(n + 1.0))


def harmonic_model(huang_rhys, frequency=0.1, core_hole_fwhm=0.15, channels=(), **kw):
    """Equal-frequency displaced oscillator, vertical excitation at 530 eV."""
    kw.setdefault("spectrometer_fwhm", 0.02)
    return VibronicModel(Potential(frequency), Potential.from_huang_rhys(frequency, huang_rhys, frequency),
                         530.0, channels=channels, core_hole_fwhm=core_hole_fwhm, **kw)


# ----------------------------------------------------------------------------------------------------------
# Franck–Condon overlaps and levels
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("g", [0.05, 1.0, 4.0, 12.0])
def test_displaced_oscillator_overlaps_are_poisson(g):
    w = 0.2
    s = franck_condon(Potential.from_huang_rhys(w, g, w), Potential(w), w, 60, 1)[:, 0] ** 2
    assert np.max(np.abs(s - poisson(g, np.arange(60)))) < 1e-12
    assert abs(s.sum() - 1.0) < 1e-10


@pytest.mark.parametrize("bra, n_bra", [(Potential(0.13, 0.0, 2.1), 30), (Potential(0.3, 0.0, -1.5), 40),
                                         (Potential(0.19592, 0.001485, 1.2), 30)])
def test_franck_condon_sum_rule(bra, n_bra):
    # sum over the levels of bra of |<n|0>|², 0 = Morse O2-like ground level, is 1 in a converged basis
    w = 0.19592
    s = franck_condon(bra, Potential(w, 0.001485), w, n_bra, 1)
    assert abs((s**2).sum() - 1.0) < 1e-10


def test_too_many_morse_levels_raise():
    # Potential(0.42, 0.01): we/(2 wexe) − 1/2 = 20.5, so 21 bound levels
    with pytest.raises(ConvergenceError, match="21 are bound"):
        franck_condon(Potential(0.42, 0.01, 0.8), Potential(0.2), 0.2, 25, 1)


def test_undisplaced_frequency_change_closed_form():
    # <0|0'>² = 2 sqrt(w1 w2) / (w1 + w2) for undisplaced harmonic oscillators; odd levels vanish by parity
    w1, w2 = 0.2, 0.11
    s = franck_condon(Potential(w2), Potential(w1), w1, 20, 1)[:, 0]
    assert abs(s[0] ** 2 - 2 * math.sqrt(w1 * w2) / (w1 + w2)) < 1e-12
    assert np.max(np.abs(s[1::2])) < 1e-12


def test_level_energies_harmonic_and_morse():
    assert np.allclose(vibrational_energies(Potential(0.3, 0.0, 1.7), 0.2, 12), 0.3 * np.arange(12), atol=1e-10)
    # Morse: E_n - E_0 = we n - wexe n (n+1); O2 X constants (Huber & Herzberg)
    we, wexe = 0.19592, 0.001485
    n = np.arange(30)
    assert np.allclose(vibrational_energies(Potential(we, wexe), we, 30), we * n - wexe * n * (n + 1), atol=1e-9)


def test_potential_shapes():
    wg = 0.2
    morse = Potential(0.25, 0.004, 0.7)
    d = 0.25**2 / (4 * 0.004)
    assert abs(morse.dissociation_energy - d) < 1e-12
    assert abs(morse.energy(1e3, wg)[()] - d) < 1e-9                      # dissociation limit
    h = 1e-4                                                              # curvature at the minimum
    curv = (morse.energy(0.7 + h, wg) - 2 * morse.energy(0.7, wg) + morse.energy(0.7 - h, wg)) / h**2
    assert abs(curv - 0.25**2 / wg) < 1e-5                                # = harmonic ω²/ω_g
    harm = Potential.from_huang_rhys(0.3, 1.7, wg)
    # reorganisation energy V(0) − V(x0) = S ω
    assert abs(harm.energy(0.0, wg) - 1.7 * 0.3) < 1e-12
    assert abs(harm.huang_rhys(wg) - 1.7) < 1e-12


def test_morse_continuum_is_left_out_but_accounted():
    # water-like O–H Morse ground (ωe·xe = 0.0104 eV: 20 bound levels): part of the packet is dissociative
    p = SolvationShellParameters(ground_anharmonicity=0.0104, monochromator_fwhm=0.0, inhomogeneous_fwhm=0.0)
    s = vibronic_structure(p)
    assert 0.0 < s.continuum_weight[0] <= 1e-3
    emi = np.linspace(526.0, 535.5, 1901)
    integ = np.trapezoid(vibronic_rixs_spectrum(p, 534.2, emi).intensity, emi)
    xas = vibronic_xas(p, [534.2]).intensity[0]
    assert 0.0 <= 1.0 - integ / xas < s.continuum_weight[0] + 2e-3      # intensity lost ≈ continuum part
    # a shallow well (4 bound levels) with a strongly displaced core-excited state cannot be represented
    shallow = VibronicModel(Potential(0.2, 0.02), Potential(0.2, 0.0, 3.0), 530.0, spectrometer_fwhm=0.1)
    with pytest.raises(ConvergenceError):
        vibronic_structure(shallow, basis_size=128)


def test_fixed_too_small_basis_raises():
    with pytest.raises(ConvergenceError):
        franck_condon(Potential(0.2, 0.0, 6.0), Potential(0.2), 0.2, 40, 1, basis_size=32)


# ----------------------------------------------------------------------------------------------------------
# Kramers–Heisenberg: fast vs slow, limits
# ----------------------------------------------------------------------------------------------------------
def test_kh_amplitudes_match_slow_loop():
    p = OxidisedOxygenParameters(temperature_k=800.0)
    m = p.model()
    s = vibronic_structure(m)
    photon = np.array([530.7, 531.0, 531.4])
    fast = kh_amplitudes(s, photon, m.core_hole_fwhm)
    slow = np.zeros_like(fast)
    for i, ei in enumerate(s.ground_energies):
        for k, w in enumerate(photon):
            for f in range(s.final_losses.size):
                for n, en in enumerate(s.intermediate_energies):
                    slow[i, k, f] += (s.overlap_fm[f, n] * s.overlap_mg[n, i]
                                      / (w - (en - ei) + 0.5j * m.core_hole_fwhm))
    assert s.ground_energies.size >= 2
    assert np.max(np.abs(fast - slow)) < 1e-12 * np.max(np.abs(slow))


def test_zero_coupling_leaves_only_elastic_line():
    m = harmonic_model(0.0)
    for photon in (529.6, 530.0, 530.3):
        st = loss_sticks(m, photon)
        inel = st.weight[(st.channel == 0) & ~st.elastic].sum()
        assert inel / st.weight.sum() < 1e-8
    emi = np.linspace(528.0, 531.0, 601)
    mp = vibronic_rixs_map(m, [529.8, 530.0, 530.2], emi)
    assert np.allclose(mp.elastic, mp.intensity, rtol=1e-10, atol=0)


def test_short_lifetime_limit_one_and_two_phonon_ratios():
    # Ultrashort core-hole lifetime expansion (Ament, Forte, van den Brink PRB 75, 115118 (2007); Ament et al.,
    # EPL 95, 27008 (2011)): at the vertical energy, A_1/A_0 = -M/z, A_2/A_0 = sqrt(2) M²/z² with
    # M = w sqrt(g) and z = i Γ/2 (Γ FWHM), so I_1/I_0 = 4 g w² / Γ² and I_2/I_0 = 2 (4 g w² / Γ²)².
    w, g = 0.1, 0.5
    errs = []
    for ratio in (40.0, 80.0):
        gam = ratio * w
        st = loss_sticks(harmonic_model(g, w, core_hole_fwhm=gam), 530.0)
        i = st.weight[st.channel == 0]
        x = 4 * g * w**2 / gam**2
        errs.append(abs(i[1] / i[0] / x - 1))
        assert abs(i[2] / i[0] / (2 * x**2) - 1) < 0.05
    assert errs[0] < 0.01
    assert errs[1] < errs[0] / 3.0     # corrections are O((w/Γ)²)


def test_large_detuning_collapses_to_elastic_line():
    # fast-collision (duration-time) limit, Gel'mukhanov & Ågren Phys. Rep. 312, 87 (1999): far below resonance,
    # A_1/A_0 → −M/z with z = Δ + iΓ/2 measured from the vertical energy, so I_1/I_0 → g w²/(Δ² + Γ²/4)
    w, g, gam = 0.1, 0.5, 0.15
    m = harmonic_model(g, w, core_hole_fwhm=gam)
    errs, frac = [], []
    for det in (-4.0, -8.0):
        st = loss_sticks(m, 530.0 + det)
        i = st.weight[st.channel == 0]
        errs.append(abs(i[1] / i[0] / (g * w**2 / (det**2 + gam**2 / 4)) - 1))
        frac.append(st.elastic_fraction)
    assert errs[1] < 0.03 and errs[1] < 0.6 * errs[0]      # corrections O(w/Δ)
    assert frac[0] < frac[1] and 1 - frac[1] < 2 * g * w**2 / 64


def test_long_lifetime_limit_is_franck_condon():
    # Γ << w at the 0-0 resonance: A_f ∝ <f|0_m><0_m|0_g>, so I_f/I_0 = |<f|0_m>|²/|<0|0_m>|² = g^f / f!
    w, g = 0.1, 1.3
    m = harmonic_model(g, w, core_hole_fwhm=1e-4)
    e00 = 530.0 - g * w                  # vertical − reorganisation energy
    st = loss_sticks(m, e00)
    i = st.weight[st.channel == 0]
    f = np.arange(6)
    # corrections are O((Γ/w)²) = 1e-6 here
    assert np.allclose(i[:6] / i[0], g**f / np.array([math.factorial(k) for k in f]), rtol=1e-5)


def test_harmonic_and_morse_progression_spacing():
    w = 0.1
    st = loss_sticks(harmonic_model(1.0, w), 530.0)
    assert np.allclose(np.diff(st.loss[st.channel == 0][:10]), w, atol=1e-9)
    # Morse ground (O2 X 3Σg−: we = 1580.19 cm⁻¹, wexe = 11.98 cm⁻¹, Huber & Herzberg): spacing we − 2 wexe n
    p = OxidisedOxygenParameters(temperature_k=0.0, secondary_weight=0.0, spectrometer_fwhm=0.02,
                                 monochromator_fwhm=0.0)
    st = loss_sticks(p, 531.0)
    we, wexe = 1580.19 / 8065.543937, 11.98 / 8065.543937
    n = np.arange(1, 8)
    for c in (0, 1):
        loss = st.loss[st.channel == c]
        assert np.allclose(np.diff(loss[:8]), we - 2 * wexe * n, atol=1e-6)


def test_broadened_morse_progression_peaks():
    # 30 meV resolution resolves the O2-like ground-channel progression: peak spacings we − 2 wexe n to 1e-3 eV
    p = OxidisedOxygenParameters(spectrometer_fwhm=0.03, monochromator_fwhm=0.0, secondary_weight=0.0,
                                 temperature_k=0.0)
    emi = np.arange(529.7, 531.1, 0.002)
    sp = vibronic_rixs_spectrum(p, 531.0, emi)
    pk, _ = find_peaks(sp.intensity, height=1e-3 * sp.intensity.max())
    y0, y1, y2 = sp.intensity[pk - 1], sp.intensity[pk], sp.intensity[pk + 1]
    x = emi[pk] + 0.5 * (emi[1] - emi[0]) * (y0 - y2) / (y0 - 2 * y1 + y2)
    spacing = -np.diff(np.sort(x)[::-1])
    we, wexe = 1580.19 / 8065.543937, 11.98 / 8065.543937
    n = np.arange(1, spacing.size + 1)
    assert spacing.size >= 5
    assert np.max(np.abs(spacing - (we - 2 * wexe * n))) < 1e-3


def test_broadened_progression_peaks_spaced_by_frequency():
    # peaks of a resolved RIXS spectrum (10 meV spectrometer) sit one quantum apart, to 1e-3 eV
    w = 0.1
    m = harmonic_model(1.5, w, core_hole_fwhm=0.05, spectrometer_fwhm=0.01)
    emi = np.linspace(529.05, 530.05, 2001)
    sp = vibronic_rixs_spectrum(m, 530.0, emi)
    pk, _ = find_peaks(sp.intensity, height=1e-3 * sp.intensity.max())
    y0, y1, y2 = sp.intensity[pk - 1], sp.intensity[pk], sp.intensity[pk + 1]
    x = emi[pk] + 0.5 * (emi[1] - emi[0]) * (y0 - y2) / (y0 - 2 * y1 + y2)
    spacing = np.diff(np.sort(x)[::-1][:6])
    assert spacing.size >= 4
    assert np.max(np.abs(-spacing - w)) < 1e-3


def test_emission_integrated_rixs_equals_weighted_xas():
    # sum rule of the Γ/2π-normalised Kramers–Heisenberg cross-section with a complete set of final levels
    chan = (FinalChannel("excited", 3.0, Potential(0.08, 0.0, -1.0), weight=0.7),)
    m = harmonic_model(2.0, 0.1, core_hole_fwhm=0.2, channels=chan, ground_channel_weight=0.4,
                       spectrometer_fwhm=0.05)
    exc = np.linspace(529.5, 530.8, 27)
    emi = np.linspace(525.0, 531.5, 3251)
    mp = vibronic_rixs_map(m, exc, emi)
    xas = vibronic_xas(m, exc)
    integ = np.trapezoid(mp.intensity, emi, axis=1)
    assert np.allclose(integ, 1.1 * xas.intensity, rtol=2e-3)


def test_binned_broadening_matches_direct_voigt_sum():
    from rixsim.spectroscopy.broadening import voigt
    p = OxidisedOxygenParameters(monochromator_fwhm=0.0, main_fwhm=0.1)
    emi = np.linspace(522.0, 532.0, 801)
    sp = vibronic_rixs_spectrum(p, 531.1, emi)
    st = loss_sticks(p, 531.1)
    lor = np.where(st.channel == 1, 0.1, 0.0)
    ref = sum(wt * voigt(emi, 531.1 - l, lw, p.spectrometer_fwhm) for wt, l, lw in zip(st.weight, st.loss, lor))
    assert np.max(np.abs(sp.intensity - ref)) < 2e-3 * ref.max()


def test_agrees_with_general_rixs_engine():
    # independent implementation: rixsim's multiplet RIXS engine fed the vibronic states (vibronic_transitions)
    rixs = pytest.importorskip("rixsim.spectroscopy.rixs")
    spectra = pytest.importorskip("rixsim.spectroscopy.xas")
    p = OxidisedOxygenParameters(monochromator_fwhm=0.0, temperature_k=800.0)
    tr = vib.vibronic_transitions(p)
    exc = np.linspace(530.4, 531.6, 7)
    emi = np.linspace(522.0, 532.0, 501)
    a = rixs.rixs_map(tr, exc, emission=emi, final_fwhm=0.0, resolution_fwhm=p.spectrometer_fwhm)
    b = vibronic_rixs_map(p, exc, emi)
    scale = 3 * 2 * np.pi / (p.core_hole_fwhm * p.ground_channel_weight)    # see vibronic_transitions
    assert np.max(np.abs(a.intensity - scale * b.intensity)) < 2e-3 * a.intensity.max()
    assert np.max(np.abs(a.elastic - scale * b.elastic)) < 2e-3 * a.elastic.max()
    x = spectra.xas(tr, exc)
    assert np.allclose(x.intensity, vibronic_xas(p, exc).intensity, rtol=1e-10, atol=0)


def test_bandwidth_and_disorder_average_matches_product_quadrature():
    # slow reference: explicit 2-D average over the photon offset δ (monochromator; the emission lines follow it)
    # and the site offset η (inhomogeneous; they do not), against the reduced 1-D quadrature of the module
    from rixsim.spectroscopy.broadening import gaussian
    p = SolvationShellParameters(huang_rhys=1.0, monochromator_fwhm=0.3, inhomogeneous_fwhm=0.5)
    m = p.model()
    s = vibronic_structure(m)
    w0 = 534.2
    emi = np.linspace(530.5, 535.5, 501)
    fast = vibronic_rixs_spectrum(p, w0, emi).intensity
    sig = 2.0 * math.sqrt(2.0 * math.log(2.0))
    sm, sh = 0.3 / sig, 0.5 / sig
    d = np.linspace(-5 * sm, 5 * sm, 41)
    e = np.linspace(-5 * sh, 5 * sh, 61)
    wd = np.exp(-0.5 * (d / sm) ** 2)
    we = np.exp(-0.5 * (e / sh) ** 2)
    wd, we = wd / wd.sum(), we / we.sum()
    loss = s.final_losses[None, :] - s.ground_energies[:, None]
    cw = s.channel_weights[s.final_channel]
    ref = np.zeros_like(emi)
    for di, wdi in zip(d, wd):
        a = kh_amplitudes(s, w0 + di - e, m.core_hole_fwhm)                       # (n_g, n_eta, F)
        inten = np.einsum("k,ikf->if", we, np.abs(a) ** 2) * m.core_hole_fwhm / (2 * np.pi)
        inten *= s.ground_weights[:, None] * cw[None, :]
        for i in range(inten.shape[0]):
            for f in range(inten.shape[1]):
                ref += wdi * inten[i, f] * gaussian(emi, w0 + di - loss[i, f], m.spectrometer_fwhm)
    assert np.max(np.abs(fast - ref)) < 2e-3 * ref.max()


def test_temperature_populates_anti_stokes_lines():
    m0 = harmonic_model(1.0, 0.05)
    hot = replace(m0, temperature_k=600.0)
    assert np.all(loss_sticks(m0, 530.0).loss > -1e-12)
    st = loss_sticks(hot, 530.0)
    s = vibronic_structure(hot)
    kt = 8.617333262e-5 * 600.0
    assert np.allclose(s.ground_weights[1:] / s.ground_weights[0], np.exp(-s.ground_energies[1:] / kt))
    assert st.weight[st.loss < -0.04].sum() > 1e-3 * st.weight.sum()


# ----------------------------------------------------------------------------------------------------------
# Extra (separable) modes
# ----------------------------------------------------------------------------------------------------------
def test_two_equal_modes_equal_one_rotated_mode():
    # two equal-frequency harmonic modes displaced by (d1, d2) are one mode displaced by hypot(d1, d2) plus an
    # undisplaced one (rotation of the 2-D isotropic oscillator): the RIXS weight per loss value must agree
    w, d1, d2, f = 0.1, 1.2, 0.7, 0.4          # final-state displacements f·(d1, d2), same direction
    two = VibronicModel(Potential(w), Potential(w, 0.0, d1), 530.0, core_hole_fwhm=0.15, spectrometer_fwhm=0.05,
                        channels=(FinalChannel("x", 3.0, Potential(w, 0.0, f * d1)),),
                        modes=(Mode("second", Potential(w), Potential(w, 0.0, d2), (Potential(w, 0.0, f * d2),)),))
    d = math.hypot(d1, d2)
    one = VibronicModel(Potential(w), Potential(w, 0.0, d), 530.0, core_hole_fwhm=0.15, spectrometer_fwhm=0.05,
                        channels=(FinalChannel("x", 3.0, Potential(w, 0.0, f * d)),))
    for photon in (529.8, 530.0, 530.3):
        a, b = loss_sticks(two, photon), loss_sticks(one, photon)
        ka = np.round(a.loss / w).astype(int) + 1000 * a.channel
        kb = np.round(b.loss / w).astype(int) + 1000 * b.channel
        sa = np.bincount(ka - ka.min(), a.weight)
        sb = np.bincount(kb - ka.min(), b.weight, minlength=sa.size)
        n = min(sa.size, sb.size)
        assert np.max(np.abs(sa[:n] - sb[:n])) < 1e-6 * sb.max()
        assert abs(a.weight[a.elastic].sum() / b.weight[b.elastic].sum() - 1) < 1e-8


def test_spectator_mode_changes_nothing_even_when_hot():
    # a mode with the same potential in every state only multiplies the elastic lines of its populated levels
    base = replace(harmonic_model(1.0, 0.1, channels=(FinalChannel("x", 2.0, Potential(0.1, 0.0, 0.3)),)),
                   temperature_k=300.0)
    spect = replace(base, modes=(Mode("spectator", Potential(0.02), Potential(0.02)),))
    emi = np.linspace(527.0, 530.6, 361)
    a = vibronic_rixs_map(base, [529.9, 530.1], emi)
    b = vibronic_rixs_map(spect, [529.9, 530.1], emi)
    assert vibronic_structure(spect).ground_energies.size > 5
    assert np.max(np.abs(a.intensity - b.intensity)) < 1e-5 * a.intensity.max()
    assert np.max(np.abs(a.elastic - b.elastic)) < 1e-5 * a.elastic.max()


# ----------------------------------------------------------------------------------------------------------
# Oxidised oxygen: published feature position
# ----------------------------------------------------------------------------------------------------------
def test_default_map_peaks_at_published_feature():
    # seed review §5.2 point 3 / Fig. 7: oxygen-redox feature at 531 eV excitation, 523.8 eV emission
    # (523.7 eV in parts of the literature); required: within ±0.1 eV of (531.0, 523.75)
    exc = np.arange(529.8, 532.2001, 0.02)
    emi = np.arange(520.0, 532.0001, 0.02)
    mp = vibronic_rixs_map(OxidisedOxygenParameters(), exc, emi)
    i, j = np.unravel_index(np.argmax(mp.intensity), mp.intensity.shape)
    assert abs(exc[i] - 531.0) <= 0.1
    assert abs(emi[j] - 523.75) <= 0.1
    assert mp.intensity.shape == (exc.size, emi.size)


def test_default_xas_peak_and_core_width_source():
    xaxis = np.linspace(528.0, 534.0, 601)
    xas = vibronic_xas(OxidisedOxygenParameters(), xaxis)
    assert abs(xaxis[np.argmax(xas.intensity)] - 531.0) <= 0.1
    xraydb = pytest.importorskip("xraydb")
    assert abs(xraydb.core_width("O", "K") - O_1S_CORE_HOLE_FWHM) < 1e-3


# ----------------------------------------------------------------------------------------------------------
# Solvation shell (seed §3.2, Fig. 3)
# ----------------------------------------------------------------------------------------------------------
def test_solvation_shell_moves_weight_to_elastic_line_while_xas_barely_changes():
    c = solvation_shell_comparison([1.5, 1.0, 0.5, 0.2])
    assert np.all(np.diff(c.elastic_fraction) > 0)
    assert c.elastic_fraction[-1] > 1.8 * c.elastic_fraction[0]
    # Franck–Condon principle: the XAS first moment is the vertical energy, whatever the coupling
    assert np.max(np.abs(c.xas_first_moment - 534.2)) < 2e-3
    rel_ef = c.elastic_fraction[-1] / c.elastic_fraction[0] - 1
    rel_fwhm = abs(c.xas_fwhm[-1] / c.xas_fwhm[0] - 1)
    assert rel_fwhm < 0.3 * rel_ef
    assert np.all(c.xas_shape_change[1:] < 0.35 * c.rixs_shape_change[1:])
    # sum rule through the inhomogeneous + monochromator average: ∫RIXS dω_out = XAS(534.2 eV)
    xas_at = [vibronic_xas(replace(SolvationShellParameters(), huang_rhys=g), [534.2]).intensity[0]
              for g in c.huang_rhys]
    assert np.allclose(c.rixs_integral, xas_at, rtol=2e-3)


# ----------------------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: Potential(-0.1),
    lambda: Potential(0.0),
    lambda: Potential(0.2, -0.01),
    lambda: Potential(0.2, 0.11),
    lambda: Potential(0.2, 0.0, float("nan")),
    lambda: Potential.from_huang_rhys(0.2, -1.0, 0.2),
    lambda: VibronicModel(Potential(0.2, 0.0, 1.0), Potential(0.2), 530.0, spectrometer_fwhm=0.1),
    lambda: VibronicModel(Potential(0.2), Potential(0.2), 530.0, core_hole_fwhm=-0.1, spectrometer_fwhm=0.1),
    lambda: VibronicModel(Potential(0.2), Potential(0.2), 530.0, core_hole_fwhm=0.0, spectrometer_fwhm=0.1),
    lambda: VibronicModel(Potential(0.2), Potential(0.2), 530.0, spectrometer_fwhm=0.0),
    lambda: VibronicModel(Potential(0.2), Potential(0.2), 530.0, spectrometer_fwhm=0.1, temperature_k=-1),
    lambda: FinalChannel("x", -1.0, Potential(0.2)),
    lambda: FinalChannel("x", 2.0, Potential(0.2), fwhm=-0.1),
    lambda: OxidisedOxygenParameters(monochromator_fwhm=-0.2).model(),
    lambda: OxidisedOxygenParameters(intermediate_frequency=-0.13).model(),
    lambda: SolvationShellParameters(huang_rhys=-0.5).model(),
    lambda: solvation_shell_comparison([1.0, -0.2]),
    lambda: vib.vibronic_transitions(OxidisedOxygenParameters(ground_channel_weight=0.0)),
    lambda: Mode("m", Potential(0.1, 0.0, 1.0), Potential(0.1)),
    lambda: replace(harmonic_model(1.0), modes=(Mode("m", Potential(0.1), Potential(0.1), (Potential(0.1),)),)),
])
def test_bad_parameters_raise_input_error(make):
    with pytest.raises(InputError):
        make()


def test_bad_axes_raise_input_error():
    p = OxidisedOxygenParameters()
    with pytest.raises(InputError, match="strictly increasing"):
        vibronic_rixs_map(p, [531.0, 530.0], np.linspace(520, 532, 50))
    with pytest.raises(InputError, match="strictly increasing"):
        vibronic_rixs_map(p, [531.0], [523.0, 523.0, 524.0])
    with pytest.raises(InputError):
        vibronic_xas(p, [530.0, np.nan])
    with pytest.raises(InputError):
        vibronic_rixs_spectrum(p, -531.0, np.linspace(520, 532, 50))
    with pytest.raises(InputError):
        vibronic_rixs_map("not a model", [531.0], np.linspace(520, 532, 50))
    with pytest.raises(InputError):
        franck_condon(Potential(0.2), Potential(0.2), 0.2, 0, 3)

"""Raman + fluorescence maps (rixsim.spectroscopy.fluorescence): exact limits and the per-photon sum rule."""
from __future__ import annotations

import numpy as np
import pytest

import rixsim
from rixsim.errors import InputError
from rixsim.spectroscopy.fluorescence import (
    fit_relaxed_fraction,
    fluorescence_map,
    lorentzian_absorption,
    raman_fluorescence,
    relaxed_emission,
    relaxed_fraction,
)
from rixsim.spectroscopy.rixs import rixs_map


@pytest.fixture(scope="module")
def ni2():
    m = rixsim.atomic_model("Ni2+", tendq=1.1)
    return m, m.transitions(300.0)


@pytest.fixture(scope="module")
def cu2_equal_widths():
    # d9: the intermediate 2p5 3d10 has a closed 3d shell, so Σ_f,b T_b|f><f|T_b† is a multiple of the identity
    m = rixsim.atomic_model("Cu2+", tendq=1.5, l3_fwhm=0.4, l2_fwhm=0.4)
    return m, m.transitions(300.0)


def _axes(e0, n_exc=120, n_emi=1800, lo=-60.0):
    # commensurate grids (steps 0.1 and 0.05 eV) so rixs_map evaluates every loss exactly
    exc = np.round(e0 - 8.0 + 0.1 * np.arange(n_exc), 10)
    emi = np.round(e0 + lo + 0.05 * np.arange(n_emi), 10)
    return exc, emi


def test_zero_relaxation_is_the_kramers_heisenberg_map(ni2):
    m, tr = ni2
    exc, emi = _axes(m.edge_offset, 40, 400, -12.0)
    ref = rixs_map(tr, exc, emission=emi, final_fwhm=0.1, resolution_fwhm=0.25)
    got = fluorescence_map(tr, exc, emission=emi, relaxed_fraction=0.0, final_fwhm=0.1, resolution_fwhm=0.25)
    np.testing.assert_allclose(got.intensity, ref.intensity, rtol=0, atol=1e-10 * ref.intensity.max())
    np.testing.assert_allclose(got.elastic, ref.elastic, rtol=0, atol=1e-10 * ref.intensity.max())


def test_full_relaxation_emission_profile_does_not_depend_on_excitation(ni2):
    m, tr = ni2
    exc, emi = _axes(m.edge_offset, 40, 400, -12.0)
    z = fluorescence_map(tr, exc, emission=emi, relaxed_fraction=1.0).intensity
    rows = z / z.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(rows, np.broadcast_to(rows[0], rows.shape), rtol=1e-12, atol=1e-15)
    # and it is constant-emission: the peak stays at one emission energy, above and below the resonance
    assert np.ptp(emi[np.argmax(z, axis=1)]) == 0.0


@pytest.mark.parametrize("r", [0.0, 0.2, 0.5, 0.8, 1.0])
def test_photons_per_absorbed_photon_conserved_for_a_closed_shell_intermediate(cu2_equal_widths, r):
    """d9: emission-integrated map = X(ω) × 2πK/Γ, the same constant for every relaxed fraction."""
    m, tr = cu2_equal_widths
    exc, emi = _axes(m.edge_offset, 300, 2200)
    parts = raman_fluorescence(tr, exc, emission=emi, final_fwhm=0.0, resolution_fwhm=0.5,
                               natural_widths=False, margin_fwhm=None)
    integral = np.trapezoid(parts.combined(r).intensity, emi, axis=1)
    ratio = integral / parts.absorption.intensity
    # K = Σ_b T_b T_b† on 2p5 3d10 is the number of 3d spin-orbitals times |<d|r|p>|² per polarisation: it
    # equals the per-state radiative sum, the same for every intermediate state
    y = parts.fluorescence_yield
    np.testing.assert_allclose(ratio, y, rtol=1e-8)


def test_open_shell_sum_rule_splits_into_raman_and_relaxed_parts(ni2):
    m, tr = ni2
    exc, emi = _axes(m.edge_offset, 60, 1400, -50.0)
    parts = raman_fluorescence(tr, exc, emission=emi, final_fwhm=0.0, resolution_fwhm=0.4,
                               natural_widths=False, margin_fwhm=None)
    i_kh = np.trapezoid(parts.raman.intensity, emi, axis=1)
    x = parts.absorption.intensity
    for r in (0.0, 0.4, 1.0):
        got = np.trapezoid(parts.combined(r).intensity, emi, axis=1)
        np.testing.assert_allclose(got, (1 - r) * i_kh + r * parts.fluorescence_yield * x, rtol=1e-8)
    # open shell: state-dependent radiative yields, so the Raman integral is *not* proportional to X
    q = i_kh / x
    assert np.ptp(q) / q.mean() > 1e-3


def test_relaxed_emission_against_a_slow_loop(cu2_equal_widths):
    m, tr = cu2_equal_widths
    emi = np.linspace(m.edge_offset - 20, m.edge_offset + 5, 301)
    f, p = relaxed_emission(tr, emi, relaxed_temperature_k=0.0, final_fwhm=0.1, resolution_fwhm=0.0)
    ref = np.zeros_like(emi)
    for mm in range(tr.n_intermediate):
        if p[mm] == 0:
            continue
        g = tr.intermediate_fwhm[mm]
        for ff in range(tr.n_initial):
            w = p[mm] * 2 * np.pi / g * np.sum(np.abs(tr.dipole[:, mm, ff]) ** 2)
            c = tr.edge_offset + tr.intermediate_energies[mm] - tr.initial_energies[ff]
            hw = 0.5 * (g + 0.1)
            ref += w * hw / np.pi / ((emi - c) ** 2 + hw ** 2)
    np.testing.assert_allclose(f, ref, rtol=1e-12, atol=1e-14 * ref.max())
    # 0 K: the lowest core-excited level alone (its degenerate states share the population)
    e_low = tr.intermediate_energies[p > 0]
    assert np.ptp(e_low) < 1e-6 and p.sum() == pytest.approx(1.0)


def test_loss_axis_matches_emission_axis(ni2):
    m, tr = ni2
    exc = np.round(m.edge_offset - 4 + 0.5 * np.arange(12), 10)
    loss = np.round(-1.0 + 0.05 * np.arange(200), 10)
    a = fluorescence_map(tr, exc, loss=loss, relaxed_fraction=0.7)
    emi = np.round(exc[0] - loss[::-1], 10)
    b = fluorescence_map(tr, exc[:1], emission=emi, relaxed_fraction=0.7)
    np.testing.assert_allclose(a.intensity[0, ::-1], b.intensity[0], rtol=1e-9, atol=1e-12 * b.intensity.max())


def test_fit_recovers_the_relaxed_fraction(ni2):
    m, tr = ni2
    exc, emi = _axes(m.edge_offset, 40, 400, -12.0)
    parts = raman_fluorescence(tr, exc, emission=emi)
    target = parts.combined(0.35)
    rng = np.random.default_rng(1)
    noisy = type(target)(target.excitation, target.emission,
                         3.0 * target.intensity * (1 + 0.01 * rng.standard_normal(target.intensity.shape)))
    fit = fit_relaxed_fraction(parts, noisy)
    assert fit["relaxed_fraction"] == pytest.approx(0.35, abs=2e-3)
    assert fit["scale"] == pytest.approx(3.0, rel=2e-3)
    exact = fit_relaxed_fraction(parts, target)
    assert exact["relaxed_fraction"] == pytest.approx(0.35, abs=1e-10)


def test_absorption_is_the_lorentzian_xas(ni2):
    m, tr = ni2
    e = np.linspace(m.edge_offset - 10, m.edge_offset + 20, 500)
    got = lorentzian_absorption(tr, e).intensity
    ref = rixsim.xas(tr, e, gauss_fwhm=0.0).intensity
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12 * ref.max())


def test_branching_and_bad_input():
    assert relaxed_fraction(0.3, 0.3) == 0.5
    assert relaxed_fraction(0.0, 0.4) == 0.0
    m = rixsim.atomic_model("Cu2+")
    tr = m.transitions(0.0)
    with pytest.raises(InputError, match="relaxed_fraction"):
        fluorescence_map(tr, [930.0, 931.0], emission=[920.0, 921.0], relaxed_fraction=1.5)
    with pytest.raises(InputError, match="core_fwhm"):
        relaxed_fraction(0.1, 0.0)

"""Kramers–Heisenberg RIXS engine (rixsim.spectroscopy.rixs): analytic limits, identities, selection rules, fast vs slow."""
import tracemalloc

import numpy as np
import pytest

from rixsim.spectroscopy.broadening import gaussian, voigt
from rixsim.errors import InputError
from rixsim.spectroscopy.geometry import (ScatteringGeometry, euler_rotation, isotropic_channels)
from rixsim.results import RixsMap
from rixsim.spectroscopy.rixs import (constant_emission_cut, constant_loss_cut, plan_memory, real_phases, rixs_map,
                         rixs_spectrum, scattering_tensor)
from rixsim.cluster.transitions import EdgeTransitions

from test_geometry import icosahedral_group


# ----------------------------------------------------------------------------------- toy models
def _herm(rng, n, real=False):
    a = rng.normal(size=(n, n)) + (0 if real else 1j * rng.normal(size=(n, n)))
    return (a + a.conj().T) / 2


def random_model(seed=0, n_i=6, n_m=8, real=False, kt=0.3, offset=850.0, spread=3.0):
    """Random Hermitian initial/intermediate Hamiltonians and a random bare dipole operator.

    Returns the EdgeTransitions and the bare pieces (eigenvectors and operator in the original basis)
    so that identities can be checked against quantities never seen by the engine.
    """
    rng = np.random.default_rng(seed)
    e_i, u_i = np.linalg.eigh(spread * _herm(rng, n_i, real))
    e_m, u_m = np.linalg.eigh(spread * _herm(rng, n_m, real))
    e_i -= e_i[0]
    e_m -= e_m[0]
    t = rng.normal(size=(3, n_m, n_i)) + (0 if real else 1j * rng.normal(size=(3, n_m, n_i)))
    dip = np.einsum("mk,akl,ln->amn", u_m.conj().T, t, u_i)
    p = np.exp(-e_i / kt)
    p /= p.sum()
    fwhm = rng.uniform(0.2, 0.6, n_m)
    tr = EdgeTransitions(e_i, p, e_m, fwhm, dip, edge_offset=offset, temperature_k=kt / 8.617e-5)
    return tr, dict(u_i=u_i, u_m=u_m, t=t)


def _sphere_avg(poly):
    """Average over the unit sphere of Σ c·x^a y^b z^c: (a-1)!!(b-1)!!(c-1)!!/(a+b+c+1)!! for even a, b, c."""
    def dfact(n):
        return 1 if n <= 0 else n * dfact(n - 2)
    tot = 0.0
    for (a, b, c), coef in poly.items():
        if a % 2 == 0 and b % 2 == 0 and c % 2 == 0:
            tot += coef * dfact(a - 1) * dfact(b - 1) * dfact(c - 1) / dfact(a + b + c + 1)
    return tot


def _pmul(*polys):
    out = {(0, 0, 0): 1.0}
    for p in polys:
        new = {}
        for k1, c1 in out.items():
            for k2, c2 in p.items():
                k = tuple(i + j for i, j in zip(k1, k2))
                new[k] = new.get(k, 0.0) + c1 * c2
        out = new
    return out


S15, S5, S3 = np.sqrt(15), np.sqrt(5), np.sqrt(3)
# real d orbitals normalised to <|d|²>_sphere = 1, order xy, yz, zx, x²−y², 3z²−r²
D_ORB = [{(1, 1, 0): S15}, {(0, 1, 1): S15}, {(1, 0, 1): S15},
         {(2, 0, 0): S15 / 2, (0, 2, 0): -S15 / 2},
         {(0, 0, 2): S5, (2, 0, 0): -S5 / 2, (0, 2, 0): -S5 / 2}]
P_ORB = [{(1, 0, 0): S3}, {(0, 1, 0): S3}, {(0, 0, 1): S3}]
N_HAT = [{(1, 0, 0): 1.0}, {(0, 1, 0): 1.0}, {(0, 0, 1): 1.0}]
XY, YZ, ZX, X2Y2, Z2 = range(5)


def d9_model(hole_energies=(1.5, 1.8, 1.8, 0.0, 1.0), core_fwhm=0.3):
    """One d hole (d⁹ ≡ d¹ in hole language) → one 2p hole, spinless, Cartesian real orbitals.

    ``dipole[a, p_i, d_j] = <d_j| n_a |p_i>`` from exact sphere integrals (Gaunt coefficients).  The ground
    state is the x²−y² hole (as in cuprates); other holes are d–d excitations at the given energies.
    """
    dip = np.array([[[_sphere_avg(_pmul(D_ORB[j], N_HAT[a], P_ORB[i])) for j in range(5)]
                     for i in range(3)] for a in range(3)])
    e = np.asarray(hole_energies, float)
    p = (e == 0).astype(float)
    return EdgeTransitions(e, p, np.zeros(3), np.full(3, core_fwhm), dip, edge_offset=930.0)


# ------------------------------------------------------------------------------ slow reference
def slow_tensor(tr, omega, f, g):
    """Obviously-correct F_ba(ω; f, g): a plain loop over intermediate states."""
    d = tr.dipole
    out = np.zeros((3, 3), complex)
    for b in range(3):
        for a in range(3):
            for m in range(tr.n_intermediate):
                den = omega - (tr.edge_offset + tr.intermediate_energies[m] - tr.initial_energies[g]) \
                    + 0.5j * tr.intermediate_fwhm[m]
                out[b, a] += np.conj(d[b, m, f]) * d[a, m, g] / den
    return out


def slow_map(tr, exc, loss, eps_in, eps_out_list, final_fwhm, resolution_fwhm):
    """Triple loop over incident energies, initial and final states; Voigt per stick."""
    z = np.zeros((len(exc), len(loss)))
    for iw, w in enumerate(exc):
        for g in range(tr.n_initial):
            if tr.initial_weights[g] < 1e-10 * tr.initial_weights.max():
                continue
            for f in range(tr.n_initial):
                fba = slow_tensor(tr, w, f, g)
                inten = sum(abs(np.conj(e) @ fba @ eps_in) ** 2 for e in eps_out_list)
                shift = tr.initial_energies[f] - tr.initial_energies[g]
                z[iw] += tr.initial_weights[g] * inten * voigt(loss, shift, final_fwhm, resolution_fwhm)
    return z


# ------------------------------------------------------------------------------ fast vs slow
def phase_real_model(seed=3, **kw):
    """Real eigenvectors, T_y imaginary and T_z with an arbitrary phase: the engine's real-DGEMM path."""
    tr, bare = random_model(seed=seed, real=True, **kw)
    d = tr.dipole * np.array([1.0, 1j, np.exp(0.7j)])[:, None, None]
    return EdgeTransitions(tr.initial_energies, tr.initial_weights, tr.intermediate_energies,
                           tr.intermediate_fwhm, d, edge_offset=tr.edge_offset), bare


def test_real_phases_are_detected():
    tr, _ = phase_real_model()
    c = real_phases(tr.dipole)
    assert np.allclose(c**2, np.array([1.0, 1j, np.exp(0.7j)]) ** 2)       # each phase defined up to a sign
    assert np.max(np.abs((np.conj(c)[:, None, None] * tr.dipole).imag)) < 1e-14
    assert real_phases(random_model(seed=3)[0].dipole) is None


@pytest.mark.parametrize("dipoles", ["complex", "phase_real"])
@pytest.mark.parametrize("case", ["analysed_complex", "unanalysed_geometry", "isotropic", "powder"])
def test_fast_map_equals_slow_triple_loop(case, dipoles):
    tr, _ = random_model(seed=3) if dipoles == "complex" else phase_real_model(seed=3)
    exc = np.array([849.0, 851.5, 853.0])
    loss = np.linspace(-3, 9, 41)
    if case == "analysed_complex":
        ein, eout = np.array([1, 0.5j, -0.3]), np.array([0.2, 1j, 1.0])
        ein, eout = ein / np.linalg.norm(ein), eout / np.linalg.norm(eout)
        kw = dict(polarization_in=ein, polarization_out=eout)
        ref = slow_map(tr, exc, loss, ein, [eout], 0.15, 0.1)
    elif case == "unanalysed_geometry":
        r = euler_rotation(10, 70, 35)
        g = ScatteringGeometry(two_theta_deg=150, incident="circular+", sample_rotation=r)
        kw = dict(geometry=g)
        ref = slow_map(tr, exc, loss, r.T @ g.polarization_in, g.polarization_out_basis @ r, 0.15, 0.1)
    elif case == "isotropic":
        kw = {}
        ref = sum(slow_map(tr, exc, loss, ea, np.eye(3), 0.15, 0.1) for ea in np.eye(3)) / 3
    else:   # powder at a geometry: the exact average of rotated single crystals (icosahedral 5-design)
        geo = dict(two_theta_deg=110.0, incident="circular+")
        kw = dict(geometry=ScatteringGeometry(**geo), powder=True)
        rots = icosahedral_group()
        ref = np.mean([slow_map(tr, exc, loss, r.T @ ScatteringGeometry(**geo).polarization_in,
                                ScatteringGeometry(**geo).polarization_out_basis @ r, 0.15, 0.1)
                       for r in rots], axis=0)
    fast = rixs_map(tr, exc, loss=loss, final_fwhm=0.15, resolution_fwhm=0.1, margin_fwhm=None, **kw)
    assert np.max(np.abs(fast.intensity - ref)) < 1e-10 * np.max(ref)
    # the default window drops far final states: only their Lorentzian tails (< 1/1600 of a peak) are lost
    windowed = rixs_map(tr, exc, loss=loss, final_fwhm=0.15, resolution_fwhm=0.1, **kw)
    assert windowed.meta["n_final"] < tr.n_initial
    assert np.max(np.abs(windowed.intensity - ref)) < 1e-3 * np.max(ref)


def test_scattering_tensor_equals_slow_loop():
    tr, _ = random_model(seed=4)
    st = scattering_tensor(tr, [848.0, 852.2], final=[0, 2, 5], initial=[0, 1])
    for iw, w in enumerate(st.excitation):
        for jf, f in enumerate(st.final_index):
            for jg, g in enumerate(st.initial_index):
                ref = slow_tensor(tr, w, f, g)
                assert np.allclose(st.tensor[iw, jf, jg], ref, rtol=1e-12, atol=1e-14 * abs(ref).max())


# ------------------------------------------------------------------------------ analytic limits
def test_single_intermediate_state_is_lorentzian_times_matrix_elements():
    rng = np.random.default_rng(8)
    n_i = 4
    e_i = np.array([0.0, 0.7, 1.9, 3.1])
    dip = rng.normal(size=(3, 1, n_i)) + 1j * rng.normal(size=(3, 1, n_i))
    p = np.array([0.7, 0.3, 0, 0])
    gam = 0.42
    tr = EdgeTransitions(e_i, p, np.array([5.0]), np.array([gam]), dip, edge_offset=700.0)
    ein = np.array([1.0, 1j, 0.0]) / np.sqrt(2)
    eout = np.array([0.0, 0.6, 0.8])
    exc = np.linspace(702.0, 708.0, 13)
    loss = np.linspace(-2, 5, 71)
    got = rixs_map(tr, exc, loss=loss, polarization_in=ein, polarization_out=eout, final_fwhm=0.0,
                   resolution_fwhm=0.25).intensity
    want = np.zeros_like(got)
    for g in range(2):
        absorb = abs(ein @ dip[:, 0, g]) ** 2
        res = 1.0 / ((exc - (700.0 + 5.0 - e_i[g])) ** 2 + gam**2 / 4)       # |1/(ω − Δ + iΓ/2)|²
        for f in range(n_i):
            emit = abs(np.conj(eout) @ np.conj(dip[:, 0, f])) ** 2
            want += p[g] * absorb * emit * res[:, None] * gaussian(loss, e_i[f] - e_i[g], 0.25)[None, :]
    assert np.max(np.abs(got - want)) < 1e-12 * want.max()


def _subset(tr, keep):
    return EdgeTransitions(tr.initial_energies, tr.initial_weights, tr.intermediate_energies[keep],
                           tr.intermediate_fwhm[keep], tr.dipole[:, keep, :], edge_offset=tr.edge_offset)


@pytest.mark.parametrize("spacing,interferes", [(40.0, False), (0.01, True)])
def test_well_separated_intermediate_states_do_not_interfere(spacing, interferes):
    """Spacing ≫ Γ: the map is the sum of single-state maps up to cross terms of relative size ~Γ/spacing.
    Negative control: spacing ≪ Γ gives an interference term of order one."""
    tr0, _ = random_model(seed=5, n_i=4, n_m=3)
    gam = 0.01
    tr = EdgeTransitions(tr0.initial_energies, tr0.initial_weights, spacing * np.arange(3),
                         np.full(3, gam), tr0.dipole, edge_offset=500.0)
    exc = (500.0 + spacing * np.arange(3)[:, None] + np.linspace(-0.03, 0.03, 7)[None, :]).ravel()
    exc = np.unique(exc)
    loss = np.linspace(-1, 6, 50)
    kw = dict(loss=loss, final_fwhm=0.1, resolution_fwhm=0.1)
    full = rixs_map(tr, exc, **kw).intensity
    parts = sum(rixs_map(_subset(tr, [m]), exc, **kw).intensity for m in range(3))
    rel = np.max(np.abs(full - parts)) / np.max(full)
    if interferes:
        assert rel > 0.01
    else:
        assert rel < 5 * gam / spacing


# ------------------------------------------------------------------------------ identities
def test_completeness_of_final_states_sum_rule():
    """Σ_f Σ_b |Σ_a ε_a F_ba(f, g)|² = Σ_b Xᴴ G_b X with X_m = Σ_a ε_a D[a,m,g]/(ω − Δ_mg + iΓ_m/2) and
    G_b = U_mᴴ T_b T_bᴴ U_m built from the bare operator: Σ_f |f><f| = 1 on the initial space."""
    tr, bare = random_model(seed=6, n_i=7, n_m=9)
    eps = np.array([0.3, -1.0j, 0.5])
    eps /= np.linalg.norm(eps)
    t_eig_m = np.einsum("mk,akl->aml", bare["u_m"].conj().T, bare["t"])        # <m|T_a|bare initial>
    gmat = np.einsum("aml,anl->amn", t_eig_m, t_eig_m.conj())
    omegas = np.array([849.0, 850.7, 853.3])
    st = scattering_tensor(tr, omegas, initial=np.arange(tr.n_initial))
    for iw, w in enumerate(omegas):
        for g in range(tr.n_initial):
            den = w - (tr.edge_offset + tr.intermediate_energies - tr.initial_energies[g]) \
                + 0.5j * tr.intermediate_fwhm
            x = (eps @ tr.dipole[:, :, g]) / den
            lhs = np.sum(np.abs(st.tensor[iw, :, g] @ eps) ** 2)
            rhs = sum(np.vdot(x, gmat[b] @ x).real for b in range(3))
            assert lhs == pytest.approx(rhs, rel=1e-11)


def test_map_integrated_over_loss_obeys_the_sum_rule():
    """With Gaussian-only broadening and a loss axis covering every final state, ∫ I dℓ at each ω equals
    Σ_g p_g (1/3) Σ_a Σ_b X_aᴴ G_b X_a (isotropic channels), completeness again."""
    tr, bare = random_model(seed=7, n_i=6, n_m=8)
    t_eig_m = np.einsum("mk,akl->aml", bare["u_m"].conj().T, bare["t"])
    gsum = np.einsum("aml,anl->mn", t_eig_m, t_eig_m.conj())
    span = tr.initial_energies.max()
    loss = np.arange(-span - 1.0, span + 1.0, 0.005)
    exc = np.array([850.0, 852.0])
    rmap = rixs_map(tr, exc, loss=loss, final_fwhm=0.0, resolution_fwhm=0.1)
    area = np.trapezoid(rmap.intensity, loss, axis=1)
    for iw, w in enumerate(exc):
        want = 0.0
        for g in range(tr.n_initial):
            den = w - (tr.edge_offset + tr.intermediate_energies - tr.initial_energies[g]) \
                + 0.5j * tr.intermediate_fwhm
            for a in range(3):
                x = tr.dipole[a, :, g] / den
                want += tr.initial_weights[g] * np.vdot(x, gsum @ x).real / 3
        assert area[iw] == pytest.approx(want, rel=1e-9)


def test_reciprocity_with_real_dipoles():
    """Time reversal with real eigenvectors (no magnetic field): F_ab(ω − E_f + E_g; g←f) = F_ba(ω; f←g).
    Running the process backwards at the emitted energy swaps the roles of ε_in and conj(ε_out)."""
    tr, _ = random_model(seed=9, real=True)
    e = tr.initial_energies
    w = 851.3
    fwd = scattering_tensor(tr, [w], initial=np.arange(tr.n_initial)).tensor[0]
    for f in range(tr.n_initial):
        for g in range(tr.n_initial):
            back = scattering_tensor(tr, [w - (e[f] - e[g])], final=[g], initial=[f]).tensor[0, 0, 0]
            assert np.allclose(back.T, fwd[f, g], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("real,symmetric", [(True, True), (False, False)])
def test_elastic_line_symmetric_under_exchange_of_linear_polarisations(real, symmetric):
    """Consequence for the map: with real dipoles the elastic part for ε_in = x, ε_out = y equals that for
    ε_in = y, ε_out = x.  Negative control: complex (time-reversal-breaking) dipoles break it."""
    tr, _ = random_model(seed=10, real=real)
    exc = np.linspace(848, 854, 7)
    loss = np.linspace(-0.5, 0.5, 11)
    x, y = np.array([1.0, 0, 0]), np.array([0.2, 1.0, 0.4])
    a = rixs_map(tr, exc, loss=loss, polarization_in=x, polarization_out=y).elastic
    b = rixs_map(tr, exc, loss=loss, polarization_in=y, polarization_out=x).elastic
    dev = np.max(np.abs(a - b)) / np.max(a)
    assert (dev < 1e-12) if symmetric else (dev > 1e-3)


# ------------------------------------------------------------------------------ selection rules
def test_d9_toy_orbitals_and_dipoles_are_consistent():
    gram = np.array([[_sphere_avg(_pmul(a, b)) for b in D_ORB] for a in D_ORB])
    assert np.allclose(gram, np.eye(5))
    tr = d9_model()
    # Σ over a, p, d of |<d|n_a|p>|² = Σ_p <|p|²> = 3 (every p orbital has norm 1 and n·n = 1 on the sphere,
    # projected on l=2 it keeps 2/3 of it: |x|² splits into l=0 (1/3) and l=2 (2/3) parts) -> 3 · 2/3 = 2
    assert np.sum(tr.dipole**2) == pytest.approx(2.0, rel=1e-12)


def _line_heights(tr, ein, eout):
    loss = np.array([0.0, 1.0, 1.5, 1.8])
    rmap = rixs_map(tr, [930.0], loss=loss, polarization_in=ein, polarization_out=eout,
                    final_fwhm=0.0, resolution_fwhm=0.02)
    return dict(zip(("elastic", "z2", "xy", "xz/yz"), rmap.intensity[0]))


def test_d9_selection_rules_x2y2_hole():
    """Cuprate-like x²−y² hole (cf. Moretti Sala et al., New J. Phys. 13, 043026 (2011)):
    * ε_in = z cannot excite 2p → x²−y² (z·(x²−y²) has no l=1 part in the p shell) → no RIXS at all;
    * ε_in = x creates a p_x hole only; emission ε_out·x then gives x² (elastic, 3z²−r²), xy (ε_out = y) or
      xz (ε_out = z); in-plane ε_out keeps mirror-z parity so xz/yz are forbidden."""
    tr = d9_model()
    x, y, z = np.eye(3)
    big = max(_line_heights(tr, x, x).values())
    assert big > 0
    assert max(_line_heights(tr, z, x).values()) < 1e-25 * big
    assert max(_line_heights(tr, z, z).values()) < 1e-25 * big
    xx = _line_heights(tr, x, x)
    assert xx["elastic"] > 1e-3 * big and xx["z2"] > 1e-3 * big
    assert xx["xy"] < 1e-25 * big and xx["xz/yz"] < 1e-25 * big
    xy = _line_heights(tr, x, y)
    assert xy["xy"] > 1e-3 * big and xy["elastic"] < 1e-25 * big and xy["z2"] < 1e-25 * big
    xz = _line_heights(tr, x, z)
    assert xz["xz/yz"] > 1e-3 * big and xz["xy"] < 1e-25 * big and xz["elastic"] < 1e-25 * big


def test_d9_z2_hole_absorbs_z_polarisation():
    """Counter-case: a 3z²−r² hole absorbs z-polarised light (z·z² has a p_z part)."""
    tr = d9_model(hole_energies=(1.5, 1.8, 1.8, 1.0, 0.0))
    rmap = rixs_map(tr, [930.0], loss=[0.0], polarization_in=[0, 0, 1], polarization_out="all",
                    final_fwhm=0.0, resolution_fwhm=0.02)
    assert rmap.intensity[0, 0] > 0.1


# ------------------------------------------------------------------------------ powder average
def test_powder_map_equals_exact_average_of_rotated_single_crystal_maps():
    tr, _ = random_model(seed=12, n_i=5, n_m=6)
    exc = np.array([849.5, 851.0])
    loss = np.linspace(-2, 8, 21)
    rots = icosahedral_group() @ euler_rotation(13, 41, 77)      # exact rotation 5-design
    geo = dict(two_theta_deg=120.0, incident="circular-")
    avg = np.mean([rixs_map(tr, exc, loss=loss, geometry=ScatteringGeometry(**geo, sample_rotation=r)).intensity
                   for r in rots], axis=0)
    powder = rixs_map(tr, exc, loss=loss, geometry=ScatteringGeometry(**geo), powder=True).intensity
    assert np.max(np.abs(powder - avg)) < 1e-11 * np.max(avg)


# ------------------------------------------------------------------------------ axes, elastic, cuts
def test_emission_axis_matches_loss_axis():
    tr, _ = random_model(seed=13)
    exc = np.arange(848.0, 852.01, 0.1)
    emi = np.arange(840.0, 853.01, 0.1)              # commensurate: evaluated exactly
    by_emi = rixs_map(tr, exc, emission=emi)
    loss_needed = np.round(exc[:, None] - emi[None, :], 9)
    flat = np.unique(loss_needed)
    by_loss = rixs_map(tr, exc, loss=flat)
    idx = np.searchsorted(flat, loss_needed)
    assert np.allclose(by_emi.intensity, by_loss.intensity[np.arange(exc.size)[:, None], idx],
                       rtol=1e-9, atol=1e-12 * by_loss.intensity.max())
    # incommensurate emission grid → internal fine grid + cubic spline
    emi2 = np.linspace(840.0, 853.0, 157)
    spl = rixs_map(tr, exc[::7], emission=emi2).intensity
    for i, w in enumerate(exc[::7]):
        direct = rixs_map(tr, [w], loss=np.sort(w - emi2)).intensity[0][::-1]
        assert np.max(np.abs(spl[i] - direct)) < 1e-4 * direct.max()


def test_elastic_part_is_separable():
    tr, _ = random_model(seed=14)
    exc, loss = np.linspace(848, 853, 6), np.linspace(-3, 8, 60)
    full = rixs_map(tr, exc, loss=loss)
    without = rixs_map(tr, exc, loss=loss, elastic=False)
    assert without.elastic is None
    assert np.allclose(full.intensity, without.intensity + full.elastic, rtol=1e-12, atol=0)
    # elastic part alone: only f = g terms (no degeneracies in a random model), broadened at zero loss
    st = scattering_tensor(tr, exc, initial=np.arange(tr.n_initial))
    ch = isotropic_channels()
    el = sum(tr.initial_weights[g] * ch.intensity(st.tensor[:, g, g])[:, None] * voigt(loss, 0.0, 0.1, 0.2)
             for g in range(tr.n_initial) if tr.initial_weights[g] > 1e-10 * tr.initial_weights.max())
    assert np.allclose(full.elastic, el, rtol=1e-10)


def test_degenerate_final_states_count_as_elastic():
    tr0, _ = random_model(seed=15, n_i=4)
    e = tr0.initial_energies.copy()
    e[1] = 0.0                                        # state 1 degenerate with the ground state
    tr = EdgeTransitions(e, tr0.initial_weights, tr0.intermediate_energies, tr0.intermediate_fwhm,
                         tr0.dipole, edge_offset=tr0.edge_offset)
    loss = np.linspace(-1, 1, 2001)
    r = rixs_map(tr, [850.0], loss=loss, resolution_fwhm=0.05, final_fwhm=0.0)
    st = scattering_tensor(tr, [850.0], initial=np.arange(4))
    ch = isotropic_channels()
    p = tr.initial_weights
    want = sum(p[g] * ch.intensity(st.tensor[0, f, g]) for g in tr.populated for f in range(4)
               if abs(e[f] - e[g]) < 1e-5)
    assert want > 0
    assert np.trapezoid(r.elastic[0], loss) == pytest.approx(want, rel=1e-8)


def test_cuts_and_spectrum():
    tr, _ = random_model(seed=16)
    exc, loss = np.linspace(848, 853, 11), np.linspace(-2, 10, 121)
    rmap = rixs_map(tr, exc, loss=loss)
    cut = constant_loss_cut(rmap, loss[30])
    assert np.allclose(cut.intensity, rmap.intensity[:, 30]) and np.allclose(cut.energy, exc)
    # a constant-emission cut on a loss map reads loss = excitation − emission in every row
    e_out = 845.0
    cut = constant_emission_cut(rmap, e_out)
    want = [np.interp(w - e_out, loss, row) for w, row in zip(exc, rmap.intensity)]
    assert np.allclose(cut.intensity, want)
    # a window integrates: a window over the whole loss range equals the row integral
    band = constant_loss_cut(rmap, 4.0, window=12.0)
    assert np.allclose(band.intensity, np.trapezoid(rmap.intensity, loss, axis=1))
    spec = rixs_spectrum(tr, exc[3], loss=loss)
    assert spec.relative and np.allclose(spec.intensity, rmap.intensity[3], rtol=1e-12)
    with pytest.raises(InputError):
        constant_loss_cut(rmap, 50.0)


def test_bad_input_is_refused():
    tr, _ = random_model(seed=17)
    exc = [850.0, 851.0]
    with pytest.raises(InputError, match="exactly one"):
        rixs_map(tr, exc)
    with pytest.raises(InputError, match="exactly one"):
        rixs_map(tr, exc, loss=[0, 1], emission=[840, 841])
    with pytest.raises(InputError, match="excitation"):
        rixs_map(tr, [851.0, 850.0], loss=[0, 1])
    with pytest.raises(InputError, match="final_fwhm"):
        rixs_map(tr, exc, loss=[0, 1], final_fwhm=-1)
    with pytest.raises(InputError, match="both"):
        rixs_map(tr, exc, loss=[0, 1], final_fwhm=0, resolution_fwhm=0)
    with pytest.raises(InputError, match="EdgeTransitions"):
        rixs_map("Ni2+", exc, loss=[0, 1])
    with pytest.raises(InputError, match="geometry"):
        rixs_map(tr, exc, loss=[0, 1], geometry="90deg")
    with pytest.raises(InputError, match="memory_gb"):
        rixs_map(tr, exc, loss=[0, 1], memory_gb=1e-9)


# ------------------------------------------------------------------------------ memory
def test_memory_plan_for_a_400_by_2000_map_fits_the_budget():
    for gb in (1.0, 2.0):
        for n_out, n_in in ((3, 3), (2, 1)):       # powder/isotropic and unanalysed single crystal
            plan = plan_memory(400, 2000, n_intermediate=2000, n_final=1000, n_initial=6, n_out=n_out,
                               n_in=n_in, memory_gb=gb)
            assert plan.bytes_total <= gb * 1e9
            assert 1 <= plan.block <= 400 and plan.pair_chunk >= 1
    # the estimate counts the dominant block arrays: amplitudes (16 B × 9 × n_f × n_g per energy)
    plan = plan_memory(400, 2000, 2000, 1000, 6, 3, 3, 1.0)
    assert plan.bytes_per_energy >= 16 * 9 * 1000 * 6 + 16 * 3 * 2000 * 6
    # a bigger basis only makes blocks smaller, never the estimate larger than the budget
    big = plan_memory(400, 2000, 20000, 5000, 6, 3, 3, 2.0)
    assert big.bytes_total <= 2e9 and big.block < plan_memory(400, 2000, 2000, 1000, 6, 3, 3, 2.0).block
    # whatever the basis: 10⁵ final states, 3·10⁴ intermediate, 30 populated initial states
    huge = plan_memory(400, 2000, 30000, 100000, 30, 3, 3, 2.0)
    assert huge.bytes_total <= 2e9 and huge.final_chunk < 100000
    assert huge.bytes_fixed + huge.bytes_final_chunk + huge.block * huge.bytes_per_energy \
        + huge.bytes_sticks == huge.bytes_total


def test_measured_peak_allocation_stays_within_the_estimate():
    """tracemalloc sees numpy's allocations: the engine's real peak must not exceed its own plan."""
    tr, _ = random_model(seed=18, n_i=40, n_m=150, kt=2.0)
    exc, loss = np.linspace(846, 856, 60), np.linspace(-5, 15, 400)
    budget_gb = 0.004
    plan = plan_memory(exc.size, loss.size, 150, 40, tr.populated.size, 3, 3, budget_gb)
    assert plan.block < exc.size                   # the budget forces real chunking
    kw = dict(loss=loss, powder=True, geometry=ScatteringGeometry(), margin_fwhm=None)
    rixs_map(tr, exc[:2], **kw)                    # compile the kernels outside the measurement
    tracemalloc.start()
    rmap = rixs_map(tr, exc, memory_gb=budget_gb, **kw)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert isinstance(rmap, RixsMap) and rmap.meta["block"] == plan.block
    assert peak <= budget_gb * 1e9


def test_chunking_over_final_states_and_energies_does_not_change_the_map():
    tr, _ = random_model(seed=19, n_i=40, n_m=150, kt=0.2)
    exc, loss = np.linspace(846, 856, 12), np.linspace(-5, 15, 50)
    budget = 0.0004
    plan = plan_memory(exc.size, loss.size, 150, 40, tr.populated.size, 3, 3, budget)
    assert plan.final_chunk < 40 and plan.block < exc.size and plan.bytes_total <= budget * 1e9
    kw = dict(loss=loss, powder=True, geometry=ScatteringGeometry(incident="sigma"), margin_fwhm=None)
    small = rixs_map(tr, exc, memory_gb=budget, **kw).intensity
    whole = rixs_map(tr, exc, **kw).intensity
    assert np.allclose(small, whole, rtol=1e-12, atol=1e-14 * whole.max())


def test_no_intermediate_states_gives_a_zero_map():
    """d¹⁰: no empty d orbital, no core-excited state — the map is exactly zero, not an error."""
    tr = EdgeTransitions(np.zeros(1), np.ones(1), np.zeros(0), np.zeros(0), np.zeros((3, 0, 1)),
                         edge_offset=930.0)
    r = rixs_map(tr, [930.0, 931.0], loss=[0.0, 1.0])
    assert np.all(r.intensity == 0) and np.all(r.elastic == 0)


# ------------------------------------------------------------------------------ with the cluster model
def test_cubic_ion_map_has_cubic_polarisation_symmetry():
    """Ni2+ in Oh, thermally averaged over its (degenerate) ground manifold: the map is invariant under the
    cyclic permutation x → y → z of both polarisations, and not trivially so (xy ≠ xx)."""
    model = pytest.importorskip("rixsim.cluster.model")
    tr = model.atomic_model("Ni2+", tendq=1.1).transitions(temperature_k=300)
    exc = tr.edge_offset + np.linspace(-6, 14, 9)
    loss = np.linspace(-0.5, 4, 31)
    x, y, z = np.eye(3)

    def m(a, b):
        return rixs_map(tr, exc, loss=loss, polarization_in=a, polarization_out=b).intensity
    xy, yz, zx = m(x, y), m(y, z), m(z, x)
    xx, zz = m(x, x), m(z, z)
    scale = max(xy.max(), xx.max())
    assert np.max(np.abs(xy - yz)) < 1e-10 * scale and np.max(np.abs(xy - zx)) < 1e-10 * scale
    assert np.max(np.abs(xx - zz)) < 1e-10 * scale
    assert np.max(np.abs(xx - xy)) > 1e-2 * scale


@pytest.mark.reference
@pytest.mark.slow
def test_ni2_map_agrees_with_edrixs():
    """Independent code: EDRIXS 0.2.0 ``rixs_1v1c_py`` with the same explicit parameters (HWHM widths,
    relative incident energy, F0 with zero average U; see ../shared/notes/edrixs-0.2.0.md)."""
    import contextlib
    import io
    import warnings
    edrixs = pytest.importorskip("edrixs")
    model = pytest.importorskip("rixsim.cluster.model")
    gam_c, gam_f = 0.2, 0.05                      # EDRIXS HWHM
    m = model.atomic_model("Ni2+", tendq=1.1, l3_fwhm=2 * gam_c, l2_fwhm=2 * gam_c)
    tr = m.transitions(temperature_k=300)
    mi, mc = m.initial, m.core_excited
    slater = ([2 / 63 * (mi.f2dd + mi.f4dd), mi.f2dd, mi.f4dd],
              [2 / 63 * (mc.f2dd + mc.f4dd), mc.f2dd, mc.f4dd, mc.g1pd / 15 + 3 * mc.g3pd / 70,
               mc.f2pd, mc.g1pd, mc.g3pd])
    rel, loss = np.linspace(-4, 16, 21), np.linspace(-0.5, 6, 66)
    thin, thout = np.radians(30), np.radians(60)
    pols = [("linear", 0.0, "linear", 0.0), ("linear", 0.0, "linear", np.pi / 2)]
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ei, en, top = edrixs.ed_1v1c_py(("d", "p"), v_soc=(mi.zeta_3d, mc.zeta_3d), c_soc=mc.zeta_2p,
                                        v_noccu=8, slater=slater, v_cfmat=edrixs.cf_cubic_d(1.1))
        gs = [int(i) for i in np.flatnonzero(tr.initial_weights > 0)]
        ref = edrixs.rixs_1v1c_py(ei, en, top, rel, loss, gamma_c=gam_c, gamma_f=gam_f, thin=thin,
                                  thout=thout, phi=0.0, pol_type=pols, gs_list=gs, temperature=300).sum(2)
        vecs = [edrixs.dipole_polvec_rixs(thin, thout, 0.0, a, b, np.eye(3), (i, j)) for i, a, j, b in pols]
    got = rixs_map(tr, tr.edge_offset + rel, loss=loss, polarization_in=vecs[0][0],
                   polarization_out=np.array([v[1] for v in vecs]), final_fwhm=2 * gam_f, resolution_fwhm=0.0,
                   margin_fwhm=None).intensity
    # same absolute scale (both normalise Σ|T|² = 10), so compare unnormalised
    assert np.max(np.abs(got - ref)) < 1e-9 * ref.max()

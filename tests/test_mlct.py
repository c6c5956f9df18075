"""Metal-to-ligand charge transfer (π back-donation into an empty acceptor shell L*), alone and with LMCT."""
import numpy as np
import pytest

from rixsim.cluster.crystal_field import CrystalField, t2g_acceptor_orbitals
from rixsim.cluster.model import (
    BackDonation,
    ChargeTransfer,
    ClusterModel,
    Multiplet,
    atomic_model,
)
from rixsim.errors import InputError
from rixsim.manybody import operators
from rixsim.spectroscopy.xas import xas, xas_sticks

# Hartree–Fock values of Ni2+ (Cowan RCN; as tabulated by Crispy/EDRIXS), scaled 0.8 — as in test_model.py
NI_I = Multiplet(f2dd=12.234, f4dd=7.598, zeta_3d=0.083).scaled()
NI_C = Multiplet(f2dd=13.005, f4dd=8.084, f2pd=7.720, g1pd=5.783, g3pd=3.290, zeta_3d=0.102, zeta_2p=11.506).scaled()

DELTA, DELTA_STAR, UDD, UPD, UPL = 3.0, 2.4, 6.5, 7.5, 0.7


def model(n_d=8, ct=True, **bd):
    lmct = ChargeTransfer(DELTA, UDD, UPD, 2.0, 1.0, 0.0, 2) if ct else None
    kw = {} if ct else {"udd": UDD, "upd": UPD}
    back = BackDonation(DELTA_STAR, **{"vt2g": 0.9, **kw, **bd})
    return ClusterModel(f"d{n_d}", n_d, NI_I, NI_C, CrystalField("D4h", tendq=1.1, ds=0.08, dt=0.02),
                        charge_transfer=lmct, back_donation=back, exchange_field=(0.01, 0.0, 0.02))


CASES = [{}, {"mixed": True}, {"n_ligand_electrons": 2, "mixed": True},
         {"veg": 0.4, "tenq_ligand": 0.6, "mixed": True}]


@pytest.mark.parametrize("bd", CASES)
@pytest.mark.parametrize("core_hole", [False, True])
def test_hamiltonian_is_hermitian_and_conserves_core_and_valence_electrons(bd, core_hole):
    m = model(**bd)
    basis, h = m.hamiltonian(core_hole)
    assert abs(h - h.conj().T).max() < 1e-12
    n_core = operators.number_operator(basis, "2p")
    n_val = sum(operators.number_operator(basis, s) for s in ("3d", "L", "L*"))
    assert abs(h @ n_core - n_core @ h).max() < 1e-12
    assert abs(h @ n_val - n_val @ h).max() < 1e-12
    # every determinant has the sector's electron count: n + 10 valence (dⁿ L¹⁰ L*⁰), 6 or 5 core
    n_v = m.n_d + 10 + (1 if core_hole else 0)
    np.testing.assert_array_equal(n_val.diagonal().real, n_v)
    # the acceptor really couples: dⁿ mixes with dⁿ⁻¹L*
    assert np.abs(h[basis.occupations("L*") == 0][:, basis.occupations("L*") == 1]).max() > 0.1


@pytest.mark.parametrize("bd", CASES)
@pytest.mark.parametrize("ct", [True, False])
def test_configuration_averages_follow_the_documented_definitions(bd, ct):
    """E(k, j) − E(0, 0) = kΔ + jΔ* + Udd[k(k−1)/2 + j(j−1)/2 − kj] with k ligand holes and j L* electrons;
    core-excited: Δ → Δ + Udd − Upd, Δ* → Δ* − Udd + Upd − U_pL*.  k and j are read off the configurations,
    not from the model's own bookkeeping."""
    m = model(ct=ct, core_hole_ligand=UPL, **bd)
    for core_hole in (False, True):
        basis, _ = m.hamiltonian(core_hole)
        names = [s.name for s in m.shells.shells]
        d, ds = DELTA if ct else 0.0, DELTA_STAR
        if core_hole:
            d, ds = d + UDD - UPD, ds - UDD + UPD - UPL
        expected = []
        for c in basis.configurations:
            k = 10 - c[names.index("L")] if ct else 0
            j = c[names.index("L*")]
            expected.append(k * d + j * ds + UDD * (k * (k - 1) / 2 + j * (j - 1) / 2 - k * j))
        assert len(expected) >= 2
        np.testing.assert_allclose(m.configuration_averages(core_hole), expected, atol=1e-10)


def test_configurations_of_each_kind_are_selectable():
    counts = model(ct=True, n_ligand_electrons=2, mixed=False).transfer_counts(False)
    assert counts == [(0, 0), (1, 0), (0, 1), (2, 0), (0, 2)]
    counts = model(ct=True, n_ligand_electrons=1, mixed=True).transfer_counts(False)
    assert counts == [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (2, 1)]
    # d9 core-excited 2p⁵d⁹⁺¹: no ligand hole possible, only back-donation
    assert model(n_d=9, ct=True).transfer_counts(True) == [(0, 0), (0, 1)]


@pytest.mark.parametrize("ion,tendq", [("Ni2+", 1.1), pytest.param("Fe2+", 2.6, marks=pytest.mark.slow)])
def test_back_donation_with_zero_hopping_equals_the_atomic_model(ion, tendq):
    atomic = atomic_model(ion, tendq=tendq)
    mlct = atomic_model(ion, tendq=tendq, back_donation=BackDonation(9.0, 0.0, udd=5.0, upd=6.0,
                                                                       core_hole_ligand=0.3))
    e = atomic.edge_offset + np.linspace(-12, 20, 600)
    a = xas(atomic, e, temperature_k=300, gauss_fwhm=0.2, method="dense").intensity
    b = xas(mlct, e, temperature_k=300, gauss_fwhm=0.2, method="dense").intensity
    assert np.max(np.abs(a - b)) < 1e-9 * a.max()
    ea = atomic.eigensystem(False).energies
    es = mlct.eigensystem(False)
    n_star = np.real(np.sum(es.vectors.conj() * (operators.number_operator(es.basis, "L*") @ es.vectors), axis=0))
    np.testing.assert_allclose(n_star[n_star > 1e-12], 1.0, atol=1e-12)     # no mixing at T = 0
    np.testing.assert_allclose(es.energies[n_star < 1e-12], ea, atol=1e-9)  # the dⁿ states are the atom's


def test_single_particle_limit_of_back_donation():
    """No multiplets, Udd = Upd = 0, Oh, one d electron: t2g¹ back-donates into its own L* partner, the
    2×2 problem [[−0.4·10Dq, T], [T, Δ*]] (Δ* is an average over the d orbitals; the field is traceless).
    Ground energy λ₋ and ⟨N_L*⟩ = sin²θ, exactly; an e_g electron does not couple (veg = 0)."""
    tendq, t, ds = 3.0, 1.3, 2.5
    m = ClusterModel("d1", 1, Multiplet(), Multiplet(), CrystalField("Oh", tendq=tendq),
                     back_donation=BackDonation(ds, t, udd=0.0, upd=0.0))
    es = m.eigensystem(False)
    w, v = np.linalg.eigh([[-0.4 * tendq, t], [t, ds]])
    np.testing.assert_allclose(es.energies[:6], w[0], atol=1e-10)        # 2T2g × (spin) sixfold
    assert es.energies[6] - es.energies[0] > 1.0
    g = es.vectors[:, :6]
    n_star = np.real(np.sum(g.conj() * (operators.number_operator(es.basis, "L*") @ g), axis=0))
    np.testing.assert_allclose(n_star, v[1, 0] ** 2, atol=1e-10)
    inverted = m.with_parameters(crystal_field=CrystalField("Oh", tendq=-tendq))   # e_g below t_2g
    assert inverted.eigensystem(False).energies[0] == pytest.approx(-0.6 * tendq, abs=1e-10)
    # a σ acceptor (veg) does couple it: the e_g level is pushed down
    sigma = inverted.with_parameters(back_donation=BackDonation(ds, t, veg=0.8, udd=0.0, upd=0.0))
    w_eg = np.linalg.eigvalsh([[-0.6 * tendq, 0.8], [0.8, ds]])[0]
    assert sigma.eigensystem(False).energies[0] == pytest.approx(w_eg, abs=1e-10)


def test_acceptor_orbitals_span_t2g():
    from rixsim.manybody import angular
    u = angular.real_to_complex(2)
    t2g = u[:, [0, 1, 3]]
    for sym in ("Oh", "D4h"):
        a = t2g_acceptor_orbitals(sym)
        np.testing.assert_allclose(a.conj().T @ a, np.eye(3), atol=1e-12)
        np.testing.assert_allclose(a @ a.conj().T, t2g @ t2g.conj().T, atol=1e-12)   # same subspace


def test_xas_counts_d_holes_with_back_donation():
    """Isotropic integrated intensity = ⟨10 − N_d⟩/3: back-donation opens d holes that LMCT fills."""
    m = model(ct=False)
    tr = m.transitions(0)
    es = m.eigensystem(False)
    nd = operators.number_operator(es.basis, "3d")
    pop = tr.populated
    holes = sum(tr.initial_weights[i] * (10 - np.real(es.vectors[:, i].conj() @ (nd @ es.vectors[:, i])))
                for i in pop)
    assert holes > 2.01
    assert xas_sticks(tr).total == pytest.approx(holes / 3, rel=1e-10)


def test_bad_back_donation_input():
    with pytest.raises(InputError, match="udd"):
        ClusterModel("x", 6, NI_I, NI_C, back_donation=BackDonation(2.0, 1.0))
    with pytest.raises(InputError, match="differs"):
        ClusterModel("x", 6, NI_I, NI_C, charge_transfer=ChargeTransfer(3, 6, 7, 2, 1),
                     back_donation=BackDonation(2.0, 1.0, udd=5.0))
    with pytest.raises(InputError, match="tenq_ligand"):
        BackDonation(2.0, 1.0, tenq_ligand=0.5)
    with pytest.raises(InputError, match="n_ligand_electrons"):
        BackDonation(2.0, 1.0, n_ligand_electrons=3)
    with pytest.raises(InputError, match="delta"):
        BackDonation(float("nan"), 1.0)


# ---- the ligand K edge of a back-bonded cluster (rixsim.oxygen.kedge with an acceptor shell) ------------

def _ok_edge(bd_kw=None, n_d=7, n_holes=1, **edge_kw):
    from rixsim.oxygen.kedge import OxygenKEdge
    lmct = ChargeTransfer(DELTA, UDD, UPD, 2.0, 1.0, 0.0, n_holes)
    back = BackDonation(DELTA_STAR, **{"vt2g": 0.9, **(bd_kw or {})})
    m = ClusterModel(f"d{n_d}", n_d, NI_I, NI_C, CrystalField("D4h", tendq=1.1, ds=0.08, dt=0.02),
                     charge_transfer=lmct, back_donation=back)
    return OxygenKEdge(m, **edge_kw)


# (back-donation options, d count, largest number of ligand holes): sectors small enough to diagonalise
OK_CASES = [({}, 7, 1), ({"veg": 0.4, "tenq_ligand": 0.6}, 7, 1), ({"mixed": True}, 9, 1),
            ({"n_ligand_electrons": 2, "mixed": True}, 9, 1), ({}, 8, 2)]


@pytest.mark.parametrize("bd, n_d, n_holes", OK_CASES)
@pytest.mark.parametrize("kind", ["initial", "core", "hole"])
def test_ligand_k_edge_with_back_donation_is_hermitian_and_conserves_electrons(bd, n_d, n_holes, kind):
    edge = _ok_edge(bd, n_d, n_holes)
    basis, h = edge.hamiltonian(kind, diagonalise=False)
    assert abs(h - h.conj().T).max() < 1e-12
    n_val = sum(operators.number_operator(basis, s) for s in ("3d", "L", "L*"))
    n_core = operators.number_operator(basis, "1s")
    assert abs(h @ n_val - n_val @ h).max() < 1e-12
    assert abs(h @ n_core - n_core @ h).max() < 1e-12
    n_v = n_d + 10 + {"initial": 0, "core": 1, "hole": -1}[kind]
    np.testing.assert_array_equal(n_val.diagonal().real, n_v)
    np.testing.assert_array_equal(n_core.diagonal().real, 1 if kind == "core" else 2)
    assert (basis.occupations("L*") > 0).any()


@pytest.mark.parametrize("bd, n_d, n_holes", OK_CASES)
def test_ligand_k_edge_configuration_averages_follow_the_documented_definitions(bd, n_d, n_holes):
    """Initial/hole: kΔ + jΔ* + Udd[k(k−1)/2 + j(j−1)/2 − kj]; core: the initial value at k + 1, + kQ − jQ*.
    k, j are read off the configurations (holes in L, electrons in L*), not from the edge's bookkeeping."""
    from rixsim.cluster.model import configuration_averages
    q, qs = 1.1, 0.4
    edge = _ok_edge(bd, n_d, n_holes, core_hole_ligand=q, core_hole_acceptor=qs)

    def e0(k, j):
        return k * DELTA + j * DELTA_STAR + UDD * (k * (k - 1) / 2 + j * (j - 1) / 2 - k * j)
    for kind in ("initial", "core", "hole"):
        basis, h = edge.hamiltonian(kind, diagonalise=False)
        top = 9 if kind == "hole" else 10
        expected = [e0(top - c[1] + 1, c[2]) + (top - c[1]) * q - c[2] * qs if kind == "core"
                    else e0(top - c[1], c[2]) for c in basis.configurations]
        assert len(expected) >= 2
        np.testing.assert_allclose(configuration_averages(basis, h), expected, atol=1e-10)


# the diagonalised cases (the two-electron acceptor case has ~9000 initial states: built above, not diagonalised)
@pytest.mark.parametrize("bd, n_d, n_holes", [c for c in OK_CASES if c[0].get("n_ligand_electrons", 1) == 1])
def test_ligand_k_edge_sum_rule_counts_donor_holes_with_back_donation(bd, n_d, n_holes):
    """Σ over core-excited states and the ten 1s → L channels of |⟨m|L†s|g⟩|² = ⟨number of L holes⟩ of the
    initial state, exactly, with L* present; back-donation changes that number (it pulls d charge out and
    lets LMCT grow)."""
    edge = _ok_edge(bd)
    _e_i, w, _e_m, d = edge.absorption_channels(300.0)
    total = float(np.sum(np.abs(d) ** 2, axis=(0, 1)) @ w)
    assert total == pytest.approx(edge.ligand_holes(300.0), rel=1e-10)
    no_bd = _ok_edge({**bd, "vt2g": 0.0}, n_d, n_holes)
    assert abs(edge.ligand_holes(0.0) - no_bd.ligand_holes(0.0)) > 1e-3


def test_ligand_k_edge_with_zero_acceptor_hopping_equals_the_lmct_edge():
    """T* = 0: the acceptor configurations decouple; the O-K spectrum is that of the LMCT-only cluster."""
    from rixsim.oxygen.kedge import OxygenKEdge, oxygen_k_xas
    edge = _ok_edge({"vt2g": 0.0})
    lmct = OxygenKEdge(edge.model.with_parameters(back_donation=None))
    x = np.linspace(515.0, 545.0, 601)
    a = oxygen_k_xas(edge, x, temperature_k=300.0, main_edge=False).intensity
    b = oxygen_k_xas(lmct, x, temperature_k=300.0, main_edge=False).intensity
    assert np.max(np.abs(a - b)) < 1e-9 * b.max()


def test_ligand_k_edge_refuses_a_model_without_a_donor_shell():
    from rixsim.oxygen.kedge import OxygenKEdge
    m = ClusterModel("d6", 6, NI_I, NI_C, back_donation=BackDonation(2.0, 1.0, udd=5.0, upd=6.0))
    with pytest.raises(InputError, match="donor shell"):
        OxygenKEdge(m)
    with pytest.raises(InputError, match="core_hole_acceptor"):
        OxygenKEdge(_ok_edge().model.with_parameters(back_donation=None), core_hole_acceptor=0.5)

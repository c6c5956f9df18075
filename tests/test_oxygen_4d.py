"""The O K edge of a 4d-oxide charge-transfer cluster (Ru4+ O6): the pre-edge that 4d–O 2p covalency opens.

Checks: the sectors are Hermitian and keep their electron numbers; the integrated pre-edge equals the ligand
holes of the ground state (exact sum rule); with the hopping switched off it vanishes; for small hopping it
grows as T² with the coefficient of second-order perturbation theory,
:math:`n_h = \\lVert (E_0 - H_0)^{-1} Q\\,V\\,|g_0\\rangle \\rVert^2` (H₀ the ionic Hamiltonian, V the hopping at
unit T, Q the projector off the ionic configuration) — a linear solve, independent of the diagonalisation and
of the K-edge channel operators the spectrum is computed with.
"""
import numpy as np
import pytest

from rixsim.cluster.model import cluster_model
from rixsim.manybody import operators
from rixsim.oxygen.kedge import OxygenKEdge, oxygen_k_xas

# Ru4+ (4d⁴, low spin) in O6: illustrative covalent-oxide values (eV), as validation/ru_vs_mn_oxygen.py uses
# for Ru5+ (a small Δ and a large 4d–O 2p hopping); not fitted
RU4 = {"tendq": 3.2, "delta": 2.5, "udd": 3.0, "upd": 3.5}


def _edge(veg):
    return OxygenKEdge(cluster_model("Ru4+", veg=veg, vt2g=veg / 2, n_ligand_holes=1, **RU4))


def _pre_edge_weight(edge):
    _, w, _, d = edge.absorption_channels(0.0)
    return float(np.sum(np.abs(d) ** 2, axis=(0, 1)) @ w)


@pytest.fixture(scope="module")
def covalent():
    return _edge(2.8)


def test_4d_oxygen_sectors_are_hermitian_and_keep_electron_numbers(covalent):
    for kind, n_val, n_core in (("initial", 14, 2), ("core", 15, 1)):
        basis, h = covalent.hamiltonian(kind, diagonalise=False)
        assert abs(h - h.conj().T).max() < 1e-12
        n_v = operators.number_operator(basis, "3d") + operators.number_operator(basis, "L")
        np.testing.assert_array_equal(n_v.diagonal().real, n_val)
        np.testing.assert_array_equal(operators.number_operator(basis, "1s").diagonal().real, n_core)
        assert abs(h @ n_v - n_v @ h).max() < 1e-12


def test_4d_pre_edge_integrates_to_the_ligand_holes(covalent):
    holes = covalent.ligand_holes(0.0)
    assert 0.05 < holes < 1.0                       # a covalent 4d oxide: a sizeable O 2p hole count
    assert _pre_edge_weight(covalent) == pytest.approx(holes, rel=1e-10)
    x = np.linspace(515.0, 560.0, 4501)
    y = oxygen_k_xas(covalent, x, temperature_k=0.0, gauss_fwhm=0.1, main_edge=False).intensity
    # the broadened spectrum holds the same area up to the Lorentzian tails outside the window (≲ 2 %)
    assert np.trapezoid(y, x) == pytest.approx(holes, rel=0.02)


def test_4d_pre_edge_vanishes_without_hopping_and_grows_as_t_squared():
    assert _pre_edge_weight(_edge(0.0)) < 1e-24
    t1, t2 = 0.02, 0.04
    w1, w2 = _pre_edge_weight(_edge(t1)), _pre_edge_weight(_edge(t2))
    assert w2 / w1 == pytest.approx(4.0, rel=2e-3)
    # second-order perturbation theory from the ionic ground state
    ionic, unit = _edge(0.0), _edge(1.0)
    basis, h0 = ionic.hamiltonian("initial", diagonalise=False)
    _, h1 = unit.hamiltonian("initial", diagonalise=False)
    v = (h1 - h0).tocsr()
    _, _, e, vec, _ = ionic.hamiltonian("initial")
    assert e[1] - e[0] > 1e-3                        # J = 0 ground state of t2g⁴ with 4d spin–orbit
    g0 = vec[:, 0]
    holes = 10 - basis.occupations("L")
    assert np.abs(g0[holes > 0]).max() == 0.0        # the ionic ground state has no ligand hole
    rhs = v @ g0
    sel = holes > 0                                  # Q: the dⁿ⁺¹L̲ configuration
    a = (e[0] * np.eye(int(sel.sum())) - h0[sel][:, sel].toarray())
    x = np.linalg.solve(a, rhs[sel])
    coefficient = float(np.vdot(x, x).real)
    assert w1 / t1 ** 2 == pytest.approx(coefficient, rel=2e-3)
    assert w2 / t2 ** 2 == pytest.approx(coefficient, rel=5e-3)
    assert abs(v[~sel][:, ~sel]).max() == 0.0 and abs(v[sel][:, sel]).max() == 0.0   # V only links the two

"""Fock-space engine: basis bookkeeping, fermion signs, fast kernels vs the slow reference, algebra."""
import numpy as np
import pytest

import slow_fock
from rixsim.manybody import angular, operators
from rixsim.manybody.basis import Basis, Shell, ShellSet
from rixsim.errors import InputError

SHELLS = ShellSet((Shell("3d", 2), Shell("2p", 1)))


def small_basis(configs=((2, 6), (3, 5))):
    return Basis.from_configurations(SHELLS, configs)


def test_basis_dimension_is_binomial():
    from math import comb
    b = Basis.from_configurations(SHELLS, [(3, 6), (4, 5)])
    assert b.dim == comb(10, 3) + comb(10, 4) * 6
    assert np.all(np.diff(b.states.astype(np.float64)) > 0)
    assert set(b.occupations("2p")) == {5, 6}


def test_impossible_electron_counts_are_refused():
    with pytest.raises(InputError, match="11 electrons"):
        Basis.from_configurations(SHELLS, [(11, 6)])
    with pytest.raises(InputError, match="one electron count per shell"):
        Basis.from_configurations(SHELLS, [(3,)])


def test_one_body_matches_slow_reference():
    rng = np.random.default_rng(1)
    b = small_basis()
    n = SHELLS.n_spin_orbitals
    h = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    h[np.abs(h) < 1.0] = 0
    dets = slow_fock.dets_from_states(b.states, n)
    fast = operators.one_body(b, b, h).toarray()
    slow = slow_fock.one_body_dense(dets, dets, h)
    np.testing.assert_allclose(fast, slow, atol=1e-12)


def test_two_body_matches_slow_reference():
    rng = np.random.default_rng(2)
    b = Basis.from_configurations(SHELLS, [(2, 6), (3, 5)])
    n = SHELLS.n_spin_orbitals
    u = np.zeros((n,) * 4, dtype=complex)
    idx = rng.integers(0, n, size=(300, 4))
    u[tuple(idx.T)] = rng.normal(size=300)
    dets = slow_fock.dets_from_states(b.states, n)
    fast = operators.two_body(b, u).toarray()
    slow = slow_fock.two_body_dense(dets, u)
    np.testing.assert_allclose(fast, slow, atol=1e-12)


def test_transition_operator_between_sectors_matches_slow_reference():
    b_i = Basis.from_configurations(SHELLS, [(3, 6)])
    b_m = Basis.from_configurations(SHELLS, [(4, 5)])
    t = operators.embed(SHELLS, {("3d", "2p"): angular.dipole_cartesian(2, 1)[0]})
    n = SHELLS.n_spin_orbitals
    fast = operators.one_body(b_m, b_i, t).toarray()
    slow = slow_fock.one_body_dense(slow_fock.dets_from_states(b_m.states, n),
                                    slow_fock.dets_from_states(b_i.states, n), t)
    np.testing.assert_allclose(fast, slow, atol=1e-12)


def test_anticommutators():
    """{c_p, c†_q} = δ_pq, checked on the two-electron sector of an s + p shell set (8 spin-orbitals)."""
    sh = ShellSet((Shell("s", 0), Shell("p", 1)))    # 8 spin-orbitals
    n = sh.n_spin_orbitals
    sectors = {k: Basis.from_configurations(sh, [(a, k - a) for a in range(3) if 0 <= k - a <= 6]) for k in range(1, 4)}

    def cdag(p, k):   # c†_p as a matrix from sector k to sector k + 1
        bra, ket = sectors[k + 1], sectors[k]
        out = np.zeros((bra.dim, ket.dim))
        index = {s: i for i, s in enumerate(slow_fock.dets_from_states(bra.states, n))}
        for j, det in enumerate(slow_fock.dets_from_states(ket.states, n)):
            sign, new = slow_fock.apply([(p, True)], det)
            if sign:
                out[index[new], j] = sign
        return out

    for p in range(n):
        for q in range(n):
            # on sector 2: c_p c†_q + c†_q c_p = δ_pq
            a = cdag(p, 2).T @ cdag(q, 2) + cdag(q, 1) @ cdag(p, 1).T
            np.testing.assert_allclose(a, np.eye(sectors[2].dim) * (p == q), atol=1e-14)


def test_number_operator_from_one_body_equals_occupations():
    b = small_basis()
    n = SHELLS.n_spin_orbitals
    nd = operators.one_body(b, b, operators.embed(SHELLS, {("3d", "3d"): np.eye(10)})).toarray()
    np.testing.assert_allclose(np.diag(nd), b.occupations("3d"))
    np.testing.assert_allclose(nd - np.diag(np.diag(nd)), 0)


def test_angular_momentum_algebra_and_total_l_of_a_closed_shell():
    lx, ly, lz = angular.angular_momentum(2)
    np.testing.assert_allclose(lx @ ly - ly @ lx, 1j * lz, atol=1e-13)
    l2 = lx @ lx + ly @ ly + lz @ lz
    np.testing.assert_allclose(l2, 6 * np.eye(10), atol=1e-13)
    # spin–orbit: j = 5/2 (6 states) at +ζ, j = 3/2 (4 states) at −3ζ/2
    w = np.linalg.eigvalsh(angular.spin_orbit(2, 1.0))
    np.testing.assert_allclose(np.sort(w), [-1.5] * 4 + [1.0] * 6, atol=1e-13)


def test_wigner_3j_known_values():
    # (1 1 0; 0 0 0) = -1/sqrt(3);  (2 2 2; 0 0 0) = -sqrt(2/35)  (standard tables, e.g. Edmonds)
    assert angular.wigner_3j(1, 1, 0, 0, 0, 0) == pytest.approx(-1 / np.sqrt(3))
    assert angular.wigner_3j(2, 2, 2, 0, 0, 0) == pytest.approx(-np.sqrt(2 / 35))
    # orthogonality: Σ_{m1 m2} (j1 j2 j; m1 m2 m)(j1 j2 j'; m1 m2 m) = δ_jj' / (2j+1)
    for j in range(0, 5):
        s = sum(angular.wigner_3j(2, 2, j, m1, m2, -m1 - m2) ** 2 for m1 in range(-2, 3) for m2 in range(-2, 3))
        assert s == pytest.approx(1.0, abs=1e-12)


def test_gaunt_coefficients_match_condon_shortley_table():
    # c^2(2 0, 2 0) = 2/7, c^4(2 0, 2 0) = 6/21 = 2/7, c^2(2 2, 2 2) = -2/7, c^4(2 2, 2 2) = 1/21
    # (Condon & Shortley / Slater tables of c^k for d electrons)
    assert angular.gaunt(2, 0, 2, 2, 0) == pytest.approx(2 / 7)
    assert angular.gaunt(2, 0, 4, 2, 0) == pytest.approx(6 / 21)
    assert angular.gaunt(2, 2, 2, 2, 2) == pytest.approx(-2 / 7)
    assert angular.gaunt(2, 2, 4, 2, 2) == pytest.approx(1 / 21)
    # sum rule Σ_m' c^k(l m, l' m')² = (2l'+1)(l k l'; 0 0 0)², with (2 1 1; 0 0 0)² = 2/15
    for m in range(-2, 3):
        s = sum(angular.gaunt(2, m, 1, 1, mp) ** 2 for mp in range(-1, 2))
        assert s == pytest.approx(3 * 2 / 15)


def test_real_to_complex_is_unitary_and_rotation_representation():
    u = angular.real_to_complex(2)
    np.testing.assert_allclose(u.conj().T @ u, np.eye(5), atol=1e-14)
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    q2, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q2 *= np.sign(np.linalg.det(q2))
    d1, d2, d12 = (angular.rotation_matrix_l(2, r) for r in (q, q2, q @ q2))
    np.testing.assert_allclose(d1.conj().T @ d1, np.eye(5), atol=1e-10)
    np.testing.assert_allclose(d1 @ d2, d12, atol=1e-10)     # a representation: D(R1) D(R2) = D(R1 R2)
    # L transforms as a vector: D L_a D† = Σ_b R_ba L_b
    lops = [angular._orbital_l(2)[i] for i in range(3)]
    for a in range(3):
        lhs = d1 @ lops[a] @ d1.conj().T
        rhs = sum(q[b, a] * lops[b] for b in range(3))
        np.testing.assert_allclose(lhs, rhs, atol=1e-10)

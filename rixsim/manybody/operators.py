"""Second-quantised operators on a determinant :class:`~rixsim.manybody.basis.Basis`, assembled by numba kernels.

* One-body: :math:`\\hat h = \\sum_{pq} h_{pq}\\, c^\\dagger_p c_q` from a matrix over all spin-orbitals.
* Two-body: :math:`\\hat V = \\tfrac12\\sum_{pqrs} U_{pqrs}\\, c^\\dagger_p c^\\dagger_q c_s c_r`
  (physicist's :math:`U_{pqrs} = \\langle pq|1/r_{12}|rs\\rangle`).

Operators come back as ``scipy.sparse.csr_matrix`` of shape ``(bra.dim, ket.dim)``.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from rixsim.errors import InputError
from rixsim.manybody import _kernels
from rixsim.manybody.basis import Basis

_TOL = 1e-14


def _check_same_shells(bra: Basis, ket: Basis):
    if bra.shells != ket.shells:
        raise InputError("bra and ket bases are built on different shell sets")


def one_body(bra: Basis, ket: Basis, h: np.ndarray) -> sp.csr_matrix:
    """Matrix of :math:`\\sum_{pq} h_{pq} c^\\dagger_p c_q` between two bases (may be the same)."""
    _check_same_shells(bra, ket)
    n = bra.shells.n_spin_orbitals
    h = np.asarray(h, dtype=complex)
    if h.shape != (n, n):
        raise InputError(f"one-body matrix must be {n}×{n} over all spin-orbitals; got {h.shape}")
    p, q = np.nonzero(np.abs(h) > _TOL)
    ops = np.stack([p, q], axis=1).astype(np.int64)
    return _assemble(bra, ket, ops, np.array([True, False]), h[p, q])


def two_body(basis: Basis, u: np.ndarray) -> sp.csr_matrix:
    """Matrix of :math:`\\tfrac12\\sum U_{pqrs} c^\\dagger_p c^\\dagger_q c_s c_r` within one basis."""
    n = basis.shells.n_spin_orbitals
    u = np.asarray(u, dtype=complex)
    if u.shape != (n,) * 4:
        raise InputError(f"two-body tensor must be {n}^4 over all spin-orbitals; got {u.shape}")
    p, q, r, s = np.nonzero(np.abs(u) > _TOL)
    keep = (p != q) & (r != s)          # c†_p c†_p and c_r c_r vanish
    p, q, r, s = p[keep], q[keep], r[keep], s[keep]
    ops = np.stack([p, q, s, r], axis=1).astype(np.int64)   # c†_p c†_q c_s c_r, applied right to left
    return _assemble(basis, basis, ops, np.array([True, True, False, False]), 0.5 * u[p, q, r, s])


def _assemble(bra: Basis, ket: Basis, ops, daggers, coeffs) -> sp.csr_matrix:
    if ops.shape[0] == 0:
        return sp.csr_matrix((bra.dim, ket.dim), dtype=complex)
    rows, cols, vals = _kernels.operator_triplets(bra.states, ket.states, np.ascontiguousarray(ops),
                                                  daggers, np.ascontiguousarray(coeffs, dtype=complex))
    mat = sp.coo_matrix((vals, (rows, cols)), shape=(bra.dim, ket.dim)).tocsr()
    mat.sum_duplicates()
    mat.eliminate_zeros()
    return mat


def number_operator(basis: Basis, shell: str) -> sp.csr_matrix:
    """Electron count of one shell (diagonal)."""
    return sp.diags(basis.occupations(shell).astype(complex), format="csr")


def embed(shells, blocks: dict) -> np.ndarray:
    """Full spin-orbital matrix from blocks ``{(shell_a, shell_b): matrix}`` (rows shell_a, columns shell_b)."""
    n = shells.n_spin_orbitals
    out = np.zeros((n, n), dtype=complex)
    for (a, b), m in blocks.items():
        out[shells.slice(a), shells.slice(b)] += m
    return out


def embed_two_body(shells, blocks: dict) -> np.ndarray:
    """Full two-body tensor from blocks ``{(a, b, c, d): U_block}`` of shell names."""
    n = shells.n_spin_orbitals
    out = np.zeros((n,) * 4, dtype=complex)
    for (a, b, c, d), m in blocks.items():
        out[shells.slice(a), shells.slice(b), shells.slice(c), shells.slice(d)] += m
    return out

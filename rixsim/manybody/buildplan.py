"""Memory of a sparse operator build, predicted before it starts.

:mod:`rixsim.manybody.operators` assembles every operator directly in sparse form: a numba kernel counts the
non-zero terms of each (determinant, operator string) pair, a second one fills COO triplets (row and column
int64, value complex128: 32 bytes per term), and scipy turns them into CSR.  Nothing is ever dense.  The peak
of one build is therefore the triplets plus the CSR copy scipy makes (row index, column index, value:
about 56 bytes per term before duplicates are summed); summing the one- and two-body parts and adding the
on-site energies makes two more CSR copies of the result (24 bytes per stored entry each, int64 indices), and
the dense two-body tensor over all spin-orbitals (16 n⁴ bytes) is alive meanwhile.

:func:`estimate_terms` counts the terms of a random sample of ket determinants with the same kernel and
scales up, so a build of 10⁵–10⁶ determinants can be refused before any large array exists.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rixsim.errors import InputError
from rixsim.manybody import _kernels
from rixsim.manybody.basis import Basis

__all__ = ["one_body_strings", "two_body_strings", "estimate_terms", "BuildEstimate", "estimate_build",
           "BYTES_PER_TERM", "BYTES_PER_ENTRY"]

#: peak bytes per COO term during one :func:`rixsim.manybody.operators._assemble` (triplets + CSR copy)
BYTES_PER_TERM = 32 + 24
#: bytes per stored CSR entry (complex128 value, int64 column index; row pointers are per row)
BYTES_PER_ENTRY = 24
_TOL = 1e-14


def one_body_strings(h: np.ndarray):
    """Operator strings ``c†_p c_q`` of a one-body matrix, as :func:`rixsim.manybody.operators.one_body` builds."""
    h = np.asarray(h, dtype=complex)
    p, q = np.nonzero(np.abs(h) > _TOL)
    return np.stack([p, q], axis=1).astype(np.int64), np.array([True, False])


def two_body_strings(u: np.ndarray):
    """Operator strings ``c†_p c†_q c_s c_r`` of a two-body tensor, as ``operators.two_body`` builds."""
    u = np.asarray(u)
    p, q, r, s = np.nonzero(np.abs(u) > _TOL)
    keep = (p != q) & (r != s)
    return (np.stack([p[keep], q[keep], s[keep], r[keep]], axis=1).astype(np.int64),
            np.array([True, True, False, False]))


def estimate_terms(bra: Basis, ket: Basis, ops: np.ndarray, daggers: np.ndarray, sample: int = 3000,
                   seed: int = 0) -> float:
    """Number of COO terms an operator build will produce, from a random sample of ``sample`` kets
    (exact when the ket basis is not larger than the sample)."""
    if ops.shape[0] == 0:
        return 0.0
    kets = ket.states
    if kets.size > sample:
        idx = np.sort(np.random.default_rng(seed).choice(kets.size, size=sample, replace=False))
        n = _kernels._count_terms(bra.states, np.ascontiguousarray(kets[idx]), np.ascontiguousarray(ops), daggers)
        return float(n) * kets.size / sample
    return float(_kernels._count_terms(bra.states, kets, np.ascontiguousarray(ops), daggers))


@dataclass(frozen=True)
class BuildEstimate:
    """Predicted size of a sector Hamiltonian build.

    Attributes
    ----------
    dim : int
    one_body_terms, two_body_terms : float
        Estimated COO terms of each part.
    nnz : float
        Estimated stored entries (upper bound: duplicates not merged).
    peak_bytes : float
        Estimated peak of the build.
    """

    dim: int
    one_body_terms: float
    two_body_terms: float
    nnz: float
    peak_bytes: float


def estimate_build(basis: Basis, h1: np.ndarray, u2: np.ndarray, sample: int = 3000) -> BuildEstimate:
    """Predict the memory of ``one_body(basis, basis, h1) + two_body(basis, u2)`` (+ a diagonal)."""
    n1 = estimate_terms(basis, basis, *one_body_strings(h1), sample=sample)
    n2 = estimate_terms(basis, basis, *two_body_strings(u2), sample=sample)
    nnz = n1 + n2 + basis.dim
    n_so = basis.shells.n_spin_orbitals
    # + the dense two-body tensor over all spin-orbitals and its embedding copy (7 MB for 26 spin-orbitals)
    peak = max(n1, n2) * BYTES_PER_TERM + 3 * nnz * BYTES_PER_ENTRY + 16 * basis.dim + 2 * 16 * n_so**4
    return BuildEstimate(basis.dim, n1, n2, nnz, peak)


def check_budget(estimate: BuildEstimate, memory_gb: float, what: str = "Hamiltonian") -> None:
    """Raise :class:`~rixsim.errors.InputError` when ``estimate.peak_bytes`` exceeds ``memory_gb``."""
    if estimate.peak_bytes > memory_gb * 1e9:
        raise InputError(f"building the {what} ({estimate.dim} determinants, ≈{estimate.nnz:.3g} non-zeros) needs "
                         f"≈{estimate.peak_bytes / 1e9:.3g} GB; memory_gb={memory_gb!r} is too small")

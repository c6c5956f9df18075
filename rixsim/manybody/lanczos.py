"""Lanczos tridiagonalisation and continued-fraction Green's functions for spectra in large sectors.

:math:`G(z) = \\langle v|(z - H)^{-1}|v\\rangle = \\dfrac{\\|v\\|^2}{z - a_0 - \\dfrac{b_1^2}{z - a_1 - \\cdots}}`
(Haydock's recursion method), with full re-orthogonalisation so that n = dim iterations reproduce the exact
resolvent and fewer iterations the exact spectral moments up to order 2n.
"""
from __future__ import annotations

import numpy as np


def lanczos_coefficients(h, v0: np.ndarray, n_iter: int = 100, tol: float = 1e-12):
    """Tridiagonal coefficients ``(a, b, norm2)`` of the Krylov space of ``h`` (Hermitian, sparse or dense)
    started from ``v0``; ``b[0] = 0``.

    Full re-orthogonalisation against the stored Krylov vectors, with a second Gram–Schmidt pass only when
    the first removed most of the vector (the Daniel–Gragg–Kaufman–Stewart criterion), keeps the recursion
    exact to rounding.  A real ``h`` with a start vector that is real up to a global phase runs in real
    arithmetic (the phase does not change G).
    """
    norm2 = float(np.vdot(v0, v0).real)
    if norm2 == 0.0:
        return np.zeros(1), np.zeros(1), 0.0
    v0 = np.asarray(v0)
    h_is_real = not np.issubdtype(np.dtype(getattr(h, "dtype", complex)), np.complexfloating)
    if np.iscomplexobj(v0) and h_is_real:
        pivot = v0[np.argmax(np.abs(v0))]
        rotated = v0 * (np.conj(pivot) / abs(pivot))
        if np.abs(rotated.imag).max() <= 1e-13 * np.abs(rotated).max():
            v0 = rotated.real
    n = min(n_iter, v0.size)
    basis = np.empty((n, v0.size), dtype=np.result_type(v0.dtype, getattr(h, "dtype", v0.dtype)))
    basis[0] = v0 / np.sqrt(norm2)
    a, b = [], [0.0]
    for k in range(n):
        q = basis[k]
        w = h @ q
        alpha = float(np.vdot(q, w).real)
        a.append(alpha)
        before = np.linalg.norm(w)
        for _ in range(2):
            w = w - basis[:k + 1].T @ (basis[:k + 1].conj() @ w)
            after = np.linalg.norm(w)
            if after > 0.7 * before:
                break
            before = after
        beta = float(after)
        if beta < tol * max(1.0, abs(alpha)) or k + 1 == n:
            break
        b.append(beta)
        basis[k + 1] = w / beta
    return np.array(a), np.array(b[:len(a)]), norm2


def continued_fraction(a: np.ndarray, b: np.ndarray, norm2: float, z) -> np.ndarray:
    """Evaluate G(z) for an array of complex ``z`` from Lanczos coefficients (bottom-up)."""
    z = np.asarray(z, dtype=complex)
    g = np.zeros_like(z)
    for k in range(a.size - 1, 0, -1):
        g = b[k] ** 2 / (z - a[k] - g)
    return norm2 / (z - a[0] - g)

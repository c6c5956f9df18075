"""numba kernels of the Krylov solvers (:mod:`rixsim.manybody.shifted`): arrays and scalars only, no validation.

Serial on purpose: the Gram–Schmidt products are memory-bound, and a threaded BLAS GEMV on a loaded small
machine was measured 8× slower than one thread (3.25 s against 0.43 s for 530 steps on 1260 states).
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def project_out(basis, k, w, conjugate):
    """``w -= Q^H (Q w)`` (``conjugate``) or ``w -= Q^T (Q w)`` with ``Q = basis[:k]``, in place; returns the
    coefficients.  ``basis`` (n, dim) and ``w`` (dim,) of the same dtype."""
    dim = w.shape[0]
    coef = np.zeros(k, dtype=w.dtype)
    for i in range(k):
        acc = w.dtype.type(0)
        if conjugate:
            for n in range(dim):
                acc += np.conj(basis[i, n]) * w[n]
        else:
            for n in range(dim):
                acc += basis[i, n] * w[n]
        coef[i] = acc
    for i in range(k):
        c = coef[i]
        for n in range(dim):
            w[n] -= c * basis[i, n]
    return coef

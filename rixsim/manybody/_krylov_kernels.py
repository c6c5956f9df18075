"""numba kernels of the Krylov solvers (:mod:`rixsim.manybody.shifted`): arrays and scalars only, no validation.

Serial on purpose: the Gram–Schmidt products are memory-bound, and a threaded BLAS GEMV on a loaded small
machine was measured 8× slower than one thread (3.25 s against 0.43 s for 530 steps on 1260 states).

The block kernels (``csr_spmm``, ``gauss_quadrature``, ``pseudo_voigt_spectra``) exist twice: serial (the
default) and ``*_parallel`` (numba ``prange``, chosen by :mod:`rixsim.manybody.shifted` when the environment
variable ``RIXSIM_KRYLOV_THREADS`` is above 1).  Measured on this 2-core machine with other jobs running
(load ≈ 2.5): one 40-column product with the 2352-state H_i (nnz 25 680) took 0.62 ms serial, 9.6 ms with two
OpenMP threads (the threads wait for busy cores) and 5.5 ms in scipy.  Until 2026-12-01 the ``*_parallel``
kernels shared the serial ones' numba cache entry and ran serially (see :func:`_twin`).  With that fixed, on a
nearly idle machine (load average 0.8–1.5), the 20 × 300 Krylov map of Mn2+ d5 + d6L + d7L2 (20 610
core-excited states) took 83.0 s wall serial and 66.6 s wall with two threads (1.25×; 113.6 s CPU).  The rest
is single-threaded: the numpy vector updates of the lockstep recursions, ``lanczos_update``/``lanczos_next``
and the Voigt lines of :func:`rixsim.spectroscopy.broadening.voigt`.
"""
from __future__ import annotations

import types

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


def _csr_spmm(indptr, indices, data, x, out):
    """``out = A @ x`` for a CSR matrix A (``indptr``, ``indices``, ``data``) and a C-contiguous block ``x``
    (n, p), parallel over chunks of rows: A is read once for all p columns.  ``data`` and ``x`` real or
    complex (``out`` of the result type)."""
    n, p = out.shape
    n_chunks = min(n, 64)
    for ch in nb.prange(n_chunks):
        acc = np.zeros(p, dtype=out.dtype)
        for i in range(ch * n // n_chunks, (ch + 1) * n // n_chunks):
            acc[:] = 0.0
            for jj in range(indptr[i], indptr[i + 1]):
                a = data[jj]
                xj = x[indices[jj]]
                for c in range(p):
                    acc[c] += a * xj[c]
            out[i, :] = acc


@nb.njit(cache=True)
def _gauss_one(alpha, beta, k, nodes, weights):
    """Ritz values and squared first components of the k × k Jacobi matrix (``alpha[:k]``, ``beta[:k-1]``) by
    implicit QL with Wilkinson shifts, carrying only the first row of the eigenvector matrix (Golub–Welsch)."""
    d = nodes
    e = np.zeros(k)
    z = np.zeros(k)
    for i in range(k):
        d[i] = alpha[i]
    for i in range(k - 1):
        e[i] = beta[i]
    z[0] = 1.0
    eps = 2.220446049250313e-16
    for lo in range(k):
        it = 0
        while True:
            m = lo
            while m < k - 1:
                if abs(e[m]) <= eps * (abs(d[m]) + abs(d[m + 1])):
                    break
                m += 1
            if m == lo or it > 100:
                break
            it += 1
            g = (d[lo + 1] - d[lo]) / (2.0 * e[lo])
            r = np.hypot(g, 1.0)
            g = d[m] - d[lo] + e[lo] / (g + (r if g >= 0 else -r))
            s, c, p = 1.0, 1.0, 0.0
            i = m - 1
            early = False
            while i >= lo:
                f = s * e[i]
                b = c * e[i]
                r = np.hypot(f, g)
                e[i + 1] = r
                if r == 0.0:
                    d[i + 1] -= p
                    e[m] = 0.0
                    early = True
                    break
                s = f / r
                c = g / r
                g = d[i + 1] - p
                r = (d[i] - g) * s + 2.0 * c * b
                p = s * r
                d[i + 1] = g + p
                g = c * r - b
                f = z[i + 1]
                z[i + 1] = s * z[i] + c * f
                z[i] = c * z[i] - s * f
                i -= 1
            if early:
                continue
            d[lo] -= p
            e[lo] = g
            e[m] = 0.0
    for i in range(k):
        weights[i] = z[i] * z[i]


def _gauss_quadrature(alphas, betas, ks, nodes, weights):
    """Gauss quadratures of p Jacobi matrices at once (parallel over columns): column c uses
    ``alphas[:ks[c], c]``, ``betas[:ks[c]-1, c]`` and fills ``nodes[:ks[c], c]``, ``weights[:ks[c], c]``
    (weights sum to 1)."""
    p = alphas.shape[1]
    for c in nb.prange(p):
        k = ks[c]
        if k == 0:
            continue
        nd = np.empty(k)
        wt = np.empty(k)
        _gauss_one(np.ascontiguousarray(alphas[:k, c]), np.ascontiguousarray(betas[:k, c]), k, nd, wt)
        for i in range(k):
            nodes[i, c] = nd[i]
            weights[i, c] = wt[i]


def _pseudo_voigt_spectra(nodes, weights, ks, probes, lorentz_fwhm, gauss_fwhm, out):
    """``out[c, j] = Σ_i weights[i, c] V(probes[j] − nodes[i, c])`` for the first ``ks[c]`` nodes, with V the
    unit-area pseudo-Voigt of the Voigt's FWHM (Thompson, Cox & Hastings, J. Appl. Cryst. 20, 79 (1987)):
    within ~1 % of the Voigt, used only to watch a broadened spectrum converge."""
    fl, fg = lorentz_fwhm, gauss_fwhm
    f = (fg ** 5 + 2.69269 * fg ** 4 * fl + 2.42843 * fg ** 3 * fl ** 2 + 4.47163 * fg ** 2 * fl ** 3
         + 0.07842 * fg * fl ** 4 + fl ** 5) ** 0.2
    x = fl / f
    eta = 1.36603 * x - 0.47719 * x ** 2 + 0.11116 * x ** 3
    hw = 0.5 * f
    sig2 = 2.0 * (f / 2.3548200450309493) ** 2
    gnorm = 1.0 / np.sqrt(np.pi * sig2)
    p = ks.size
    n = probes.size
    for c in nb.prange(p):
        for j in range(n):
            out[c, j] = 0.0
        for i in range(ks[c]):
            w = weights[i, c]
            if w == 0.0:
                continue
            for j in range(n):
                u = probes[j] - nodes[i, c]
                out[c, j] += w * (eta * hw / np.pi / (u * u + hw * hw) + (1.0 - eta) * gnorm * np.exp(-u * u / sig2))


@nb.njit(cache=True)
def lanczos_update(q, q_prev, w, b_prev, al, be):
    """One Lanczos three-term update for p real columns in place, after ``w = H q``: ``α = qᵀw``,
    ``w −= α q + β_prev q_prev``, one local re-orthogonalisation against q (α corrected), ``β = ‖w‖``."""
    n, p = q.shape
    for c in range(p):
        al[c] = 0.0
        be[c] = 0.0
    for i in range(n):
        for c in range(p):
            al[c] += q[i, c] * w[i, c]
    corr = np.zeros(p)
    for i in range(n):
        for c in range(p):
            x = w[i, c] - al[c] * q[i, c] - b_prev[c] * q_prev[i, c]
            w[i, c] = x
            corr[c] += q[i, c] * x
    for i in range(n):
        for c in range(p):
            x = w[i, c] - corr[c] * q[i, c]
            w[i, c] = x
            be[c] += x * x
    for c in range(p):
        al[c] += corr[c]
        be[c] = np.sqrt(be[c])


@nb.njit(cache=True)
def lanczos_next(q, q_prev, w, be):
    """``q_prev ← q``, ``q ← w / β`` (columns with β = 0 set to zero), in place."""
    n, p = q.shape
    inv = np.zeros(p)
    for c in range(p):
        if be[c] > 0:
            inv[c] = 1.0 / be[c]
    for i in range(n):
        for c in range(p):
            q_prev[i, c] = q[i, c]
            q[i, c] = w[i, c] * inv[c]


def _twin(fn):
    """A copy of ``fn`` under the name ``<name>_parallel``.  numba names its on-disk cache after the function's
    qualified name and first line, so a serial and a ``parallel=True`` compilation of one Python function
    share a cache entry and the second loads the first's machine code — the parallel kernels then ran on one
    thread (found 2026-12-01: CPU time equal to wall time with ``RIXSIM_KRYLOV_THREADS=2``; a test checks that
    the parallel kernels start numba's threading layer)."""
    name = fn.__name__ + "_parallel"
    twin = types.FunctionType(fn.__code__.replace(co_name=name, co_qualname=name), fn.__globals__, name,
                              fn.__defaults__, fn.__closure__)
    twin.__qualname__, twin.__doc__ = name, fn.__doc__
    return twin


csr_spmm = nb.njit(cache=True)(_csr_spmm)
csr_spmm_parallel = nb.njit(parallel=True, cache=True)(_twin(_csr_spmm))
gauss_quadrature = nb.njit(cache=True)(_gauss_quadrature)
gauss_quadrature_parallel = nb.njit(parallel=True, cache=True)(_twin(_gauss_quadrature))
pseudo_voigt_spectra = nb.njit(cache=True)(_pseudo_voigt_spectra)
pseudo_voigt_spectra_parallel = nb.njit(parallel=True, cache=True)(_twin(_pseudo_voigt_spectra))

"""Krylov solvers for many shifts at once: shifted Lanczos for resolvent vectors, and batched Lanczos quadrature.

Shifted Lanczos (one Krylov space, every shift)
-----------------------------------------------
For a start vector b and shifts s_j, the solutions of :math:`(s_j - A)\\,x_j = b` are taken from the one
Krylov space :math:`\\mathcal K_k(A, b)` — it does not depend on the shift — as

.. math::  x_j = \\beta_0\\, Q_k\\, (s_j - T_k)^{-1} e_1 ,\\qquad
           \\|b - (s_j - A)x_j\\| = |\\beta_0|\\,\\|w_k\\|\\,|e_k^{\\mathsf T}(s_j - T_k)^{-1}e_1| ,

with :math:`A Q_k = Q_k T_k + w_k e_k^{\\mathsf T}` the Lanczos relation.  Two forms are supported:

* ``bilinear=False``: A Hermitian (real symmetric in practice), the usual Lanczos with the Hermitian inner
  product; the shifts are complex (:math:`\\omega + i\\Gamma/2`).  This is the multi-shift form of FOM/CG.
* ``bilinear=True``: A complex symmetric (:math:`A = A^{\\mathsf T}`, e.g. :math:`H - i\\hat\\Gamma/2` with a real
  symmetric width operator), Lanczos with the bilinear form :math:`u^{\\mathsf T} v` (the space of COCG);
  the shifts are then usually real.

The cost of k steps is k products with A plus the re-orthogonalisation, independent of the number of shifts;
the tridiagonal systems of all shifts are solved together (vectorised over shifts).  With ``store=True`` the
Krylov vectors are kept (k × dim numbers) and re-orthogonalised in full (Gram–Schmidt twice when needed); with
``store=False`` a first pass gives the tridiagonal, a second identical pass accumulates the solutions (memory
of three vectors plus the solutions, local orthogonality only).  The returned residuals are always the *true*
ones, recomputed from the solutions, not the recurrence estimate.

Batched Lanczos quadrature
--------------------------
:func:`lanczos_quadrature` runs independent Lanczos recursions of one real symmetric matrix from many real
start vectors at once (one sparse × dense product per step for all of them), and returns for each the Gauss
quadrature of its spectral measure: nodes (Ritz values) and weights, :math:`\\langle v|f(H)|v\\rangle \\approx
\\sum_k w_k f(\\theta_k)`, together with the a-posteriori bound of the resolvent at complex z,
:math:`|G(z) - G_k(z)| \\le \\|v\\|^2 \\beta_k^2 |e_k^{\\mathsf T}(z - T_k)^{-1}e_1|^2 / \\operatorname{Im} z`.
No re-orthogonalisation: loss of orthogonality duplicates converged Ritz values, but the quadrature of the
nearby measure stays accurate (Greenbaum, Linear Algebra Appl. 113, 7 (1989); Knizhnerman, Comput. Math.
Math. Phys. 36, 1059 (1996)), which the tests check against exact diagonalisation.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from rixsim.errors import ConvergenceError, InputError
from rixsim.manybody import _krylov_kernels as _kk

__all__ = [
    "LanczosQuadrature",
    "ShiftedSolution",
    "apply_real",
    "lanczos_broadened",
    "lanczos_quadrature",
    "shifted_lanczos",
    "spmm",
    "tridiagonal_last",
    "tridiagonal_solve",
]

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------ products
def apply_real(h, x: np.ndarray) -> np.ndarray:
    """``h @ x`` for a real sparse ``h`` and a real or complex vector/block ``x`` without converting ``h``.

    scipy would cast a real matrix to complex (a copy of all its entries) for every complex product; here the
    real and imaginary parts of a C-contiguous complex array are viewed as two interleaved real columns.
    """
    if not np.iscomplexobj(x) or np.iscomplexobj(h.data if sp.issparse(h) else h):
        return h @ x
    x = np.ascontiguousarray(x)
    if x.ndim == 1:
        return (h @ x.view(np.float64).reshape(-1, 2)).view(np.complex128).ravel()
    p = x.shape[1]
    return (h @ x.view(np.float64)).view(np.complex128).reshape(h.shape[0], p)


class ComplexSymmetricOperator:
    """:math:`A = H - \\tfrac{i}{2}\\Gamma` from two real symmetric sparse matrices (applied without complex copies)."""

    def __init__(self, h, width):
        self.h, self.width = h, width
        self.shape = h.shape

    def __matmul__(self, x):
        return apply_real(self.h, x) - 0.5j * apply_real(self.width, x)


# ------------------------------------------------------------------------------------- tridiagonals
def tridiagonal_last(alpha, beta, shifts) -> np.ndarray:
    """``|e_k^T (s - T)^{-1} e_1|`` for every shift s, T tridiagonal (diagonal ``alpha[:k]``, off-diagonal
    ``beta[:k-1]``, real or complex); by the ratio recurrence of the determinants, in logarithms.

    ``alpha`` (k,) and ``beta`` (k-1,) give shape ``(n_shifts,)``; ``alpha`` (k, p) and ``beta`` (k-1, p)
    (p tridiagonals at once) give ``(p, n_shifts)``."""
    s = np.asarray(shifts, dtype=complex)
    alpha, beta = np.asarray(alpha), np.asarray(beta)
    if alpha.ndim == 2:
        s = s[None, :]
        alpha, beta = alpha[:, :, None], beta[:, :, None]
    k = alpha.shape[0]
    log_num = np.sum(np.log(np.abs(beta[:k - 1])), axis=0) if k > 1 else 0.0
    d = s - alpha[0]
    log_den = np.log(np.abs(d))
    for i in range(1, k):
        d = s - alpha[i] - beta[i - 1] ** 2 / d
        log_den = log_den + np.log(np.abs(d))
    return np.exp(log_num - log_den)


def tridiagonal_solve(alpha, beta, shifts) -> np.ndarray:
    """``Y[j] = (s_j - T)^{-1} e_1`` for all shifts at once (Thomas algorithm vectorised over shifts)."""
    s = np.asarray(shifts, dtype=complex)
    k = len(alpha)
    c = np.zeros((k, s.size), dtype=complex)        # modified super-diagonal
    d = np.zeros((k, s.size), dtype=complex)        # modified right-hand side
    piv = s - alpha[0]
    c[0] = -beta[0] / piv if k > 1 else 0.0
    d[0] = 1.0 / piv
    for i in range(1, k):
        piv = s - alpha[i] + beta[i - 1] * c[i - 1]
        if i < k - 1:
            c[i] = -beta[i] / piv
        d[i] = (beta[i - 1] * d[i - 1]) / piv
    y = np.empty((s.size, k), dtype=complex)
    y[:, k - 1] = d[k - 1]
    for i in range(k - 2, -1, -1):
        y[:, i] = d[i] - c[i] * y[:, i + 1]
    return y


# ------------------------------------------------------------------------------------ shifted Lanczos
@dataclass(frozen=True)
class ShiftedSolution:
    """Solutions of ``(s_j - A) x_j = b`` from one Krylov space.

    Attributes
    ----------
    x : (n_shifts, dim) complex
        The solutions (None when only the tridiagonal was asked for).
    residual : (n_shifts,) float
        True relative residuals ``‖b − (s_j − A) x_j‖ / ‖b‖`` (the recurrence estimate when ``x`` is None).
    n_iter : int
        Krylov dimension used.
    alpha, beta : ndarray
        The tridiagonal (complex for the bilinear form); ``norm`` is β₀ (so ``b = norm · q_1``).
    converged : bool
    """

    x: np.ndarray | None
    residual: np.ndarray
    n_iter: int
    alpha: np.ndarray
    beta: np.ndarray
    norm: complex
    converged: bool


def shifted_lanczos(a, b, shifts, *, bilinear: bool = False, max_iter: int = 1000, tol: float = 1e-8,
                    check_every: int = 10, store: bool = True, reorthogonalize: bool = True,
                    solution: bool = True) -> ShiftedSolution:
    """Solve ``(s_j − A) x_j = b`` for every shift ``s_j`` from one Lanczos basis (see the module docstring).

    Parameters
    ----------
    a : sparse matrix or object with ``@``
        Hermitian (``bilinear=False``) or complex symmetric (``bilinear=True``) operator.
    b : (dim,) array
        Right-hand side (real or complex).
    shifts : (n,) complex
    max_iter : int
        Largest Krylov dimension.
    tol : float
        Stop when the estimated relative residual of every shift is below ``tol``.
    check_every : int
        Iterations between residual estimates.
    store : bool
        Keep the Krylov vectors (one pass; the solutions are one product with them) or not (two passes).
    reorthogonalize : bool
        With ``store``: full re-orthogonalisation (k² dim work; exact Krylov basis, needed when k approaches
        dim).  Without it, loss of orthogonality delays convergence a little but the reported residuals are
        the true ones either way.
    solution : bool
        False: return only the tridiagonal and the estimated residuals (no second pass, ``x`` None).

    Raises
    ------
    ConvergenceError
        On a breakdown of the bilinear form (``qᵀq = 0`` for a non-zero q).
    """
    if max_iter < 1:
        raise InputError(f"max_iter must be >= 1; got {max_iter!r}")
    shifts = np.atleast_1d(np.asarray(shifts, dtype=complex))
    b = np.asarray(b)
    dim = b.size
    if sp.issparse(a):
        op_real = not np.iscomplexobj(a.data)
    else:
        op_real = isinstance(a, np.ndarray) and not np.iscomplexobj(a)
    real = (not bilinear) and op_real and not np.iscomplexobj(b)
    dtype = np.float64 if real else np.complex128
    bnorm = float(np.linalg.norm(b))
    if bnorm == 0.0:
        x = np.zeros((shifts.size, dim), dtype=complex) if solution else None
        return ShiftedSolution(x, np.zeros(shifts.size), 0, np.zeros(0), np.zeros(0), 0.0, True)

    def dot(u, v):
        return u @ v if bilinear else np.vdot(u, v)

    def matvec(v):
        return apply_real(a, v) if sp.issparse(a) else a @ v

    beta0 = np.sqrt(dot(b, b) + 0j) if bilinear else bnorm
    reorth = bool(store and reorthogonalize)
    n_max = min(max_iter, dim) if reorth else max_iter   # without re-orthogonalisation, more than dim steps may be needed
    basis = np.empty((n_max, dim), dtype=dtype) if store else None
    alpha, beta = [], []
    k_done, converged, est = 0, False, np.full(shifts.size, np.inf)
    piv = np.ones(shifts.size, dtype=complex)
    log_ratio = np.zeros(shifts.size)

    def run(accumulate=None, n_steps=None):
        """One pass of the recurrence; ``accumulate(k, q)`` gets every Krylov vector (second pass)."""
        nonlocal k_done, converged, est
        q = (b / beta0).astype(dtype)
        q_prev = np.zeros(dim, dtype=dtype)
        b_prev = 0.0
        for k in range(n_steps if n_steps is not None else n_max):
            if store and accumulate is None:
                basis[k] = q
            if accumulate is not None:
                accumulate(k, q)
                if k == n_steps - 1:
                    return
            w = matvec(q)
            al = dot(q, w)
            if not bilinear:
                al = al.real
            w = w - al * q - b_prev * q_prev
            if reorth and accumulate is None:
                before = np.linalg.norm(w)
                w = np.ascontiguousarray(w, dtype=dtype)
                for _ in range(2):                       # DGKS: a second pass only when the first cancelled
                    _kk.project_out(basis, k + 1, w, not bilinear and not real)
                    after = np.linalg.norm(w)
                    if after > 0.7 * before:
                        break
                    before = after
            wn = float(np.linalg.norm(w))
            if accumulate is None:
                alpha.append(al)
            be = np.sqrt(dot(w, w) + 0j) if bilinear else wn
            if accumulate is None:
                last = k + 1 == n_max
                # |e_k^T (s − T_k)^{-1} e_1| = Π β / Π d_i, d_i the pivots of the ratio recurrence (running)
                piv[...] = shifts - al - (beta[-1] ** 2 / piv if k > 0 else 0.0)
                log_ratio[...] += np.log(np.abs(piv)) - (np.log(abs(beta[-1])) if k > 0 else 0.0)
                if wn <= 1e-13 * max(1.0, abs(al)) or (k + 1) % check_every == 0 or last:
                    est = abs(beta0) * wn * np.exp(-log_ratio) / bnorm
                    if wn <= 1e-13 * max(1.0, abs(al)):
                        est[:] = 0.0
                    if (k + 1) % (50 * check_every) == 0:
                        log.debug("shifted Lanczos step %d: largest estimated residual %.2e", k + 1, est.max())
                    if est.max() <= tol or last:
                        k_done, converged = k + 1, bool(est.max() <= tol)
                        return
                beta.append(be)
            if bilinear and abs(be) <= 1e-12 * wn:
                raise ConvergenceError(f"bilinear Lanczos broke down at step {k + 1} (qᵀq ≈ 0 with ‖q‖ = {wn:.3g})")
            q_prev, q = q, (w / be).astype(dtype)
            b_prev = be

    run()
    al = np.array(alpha)
    be = np.array(beta[:k_done - 1]) if k_done > 1 else np.zeros(0)
    if not solution:
        return ShiftedSolution(None, est, k_done, al, be, beta0, converged)
    y = tridiagonal_solve(al, np.concatenate([be, [0.0]]), shifts) * beta0     # (n_shifts, k)
    if store:
        qs = basis[:k_done]
        if real:
            x = (y.real @ qs) + 1j * (y.imag @ qs)
        else:
            x = y @ qs
    else:
        x = np.zeros((shifts.size, dim), dtype=complex)

        def acc(k, q):
            x[...] += y[:, k, None] * q[None, :]
        run(accumulate=acc, n_steps=k_done)
    basis = None                     # free the Krylov vectors before the residuals
    # true residuals: r_j = b − s_j x_j + A x_j, all shifts in one sparse × dense product
    ax = matvec(np.ascontiguousarray(x.T)).T
    res = np.linalg.norm(b[None, :] - shifts[:, None] * x + ax, axis=1) / bnorm
    return ShiftedSolution(x, res, k_done, al, be, beta0, converged)


# --------------------------------------------------------------------------- batched Lanczos quadrature
@dataclass(frozen=True)
class LanczosQuadrature:
    """Gauss quadratures of the spectral measures of many start vectors.

    Attributes
    ----------
    nodes, weights : list of ndarray
        Per start vector: Ritz values (eV) and weights (summing to ``‖v‖²``).
    n_iter : ndarray of int
        Lanczos steps per start vector.
    bound : ndarray
        Per start vector, the largest relative resolvent bound ``β_k² |e_kᵀ(z − T_k)⁻¹e_1|²`` over the probe
        points (the error of its spectrum relative to ``‖v‖²/(π Im z)``); 0 for exhausted Krylov spaces.
    """

    nodes: list
    weights: list
    n_iter: np.ndarray
    bound: np.ndarray


def lanczos_quadrature(h, v: np.ndarray, *, probes=None, eta: float = 0.0, max_iter: int = 300,
                       tol: float = 1e-8, check_every: int = 10) -> LanczosQuadrature:
    """Batched Lanczos of a real symmetric ``h`` from the real columns of ``v`` (dim, p), no storage.

    A column stops when its resolvent bound at every ``probes`` energy (real; evaluated at ``probe + i·eta``)
    is below ``tol``, when its Krylov space is exhausted, or after ``max_iter`` steps.  ``eta = 0`` (no
    Lorentzian) runs every column ``max_iter`` steps (the bound is then reported as NaN).
    """
    v = np.asarray(v, dtype=np.float64)
    p = v.shape[1]
    norms = np.linalg.norm(v, axis=0)
    n_max = max_iter
    z = None if probes is None or eta <= 0 else np.asarray(probes, dtype=float) + 1j * eta
    alphas = np.zeros((n_max, p))
    betas = np.zeros((n_max, p))
    n_iter = np.zeros(p, dtype=np.int64)
    bound = np.full(p, np.nan if z is None else np.inf)
    active = np.flatnonzero(norms > 0)
    n_iter[norms == 0] = 0
    bound[norms == 0] = 0.0
    q = np.ascontiguousarray(v[:, active] / norms[active])
    q_prev = np.zeros_like(q)
    b_prev = np.zeros(active.size)
    n_z = 0 if z is None else z.size
    piv = np.ones((active.size, n_z), dtype=complex)       # running pivots of (z − T_k), per column and z
    log_ratio = np.zeros((active.size, n_z))               # log |det(z − T_k)| − log Π β
    for k in range(n_max):
        if active.size == 0:
            break
        w = h @ q
        al = np.einsum("np,np->p", q, w)
        w -= al * q + b_prev * q_prev
        # one local re-orthogonalisation against q (cheap; keeps α accurate)
        corr = np.einsum("np,np->p", q, w)
        w -= corr * q
        al = al + corr
        be = np.linalg.norm(w, axis=0)
        alphas[k, active] = al
        betas[k, active] = be
        n_iter[active] = k + 1
        if z is not None:
            if k == 0:
                piv = z[None, :] - al[:, None]
                log_ratio = np.log(np.abs(piv))
            else:
                piv = z[None, :] - al[:, None] - (b_prev ** 2)[:, None] / piv
                log_ratio += np.log(np.abs(piv)) - np.log(b_prev)[:, None]
        done = be <= 1e-12 * np.maximum(1.0, np.abs(al))
        bound[active[done]] = 0.0
        last = k + 1 == n_max
        if z is not None and ((k + 1) % check_every == 0 or last):
            open_ = np.flatnonzero(~done)
            bound[active[open_]] = np.max((be[open_, None] * np.exp(-log_ratio[open_])) ** 2, axis=1)
            done[open_] = bound[active[open_]] <= tol
        if last:
            break
        keep = ~done
        if not keep.all():
            active, q, w, be, q_prev = active[keep], q[:, keep], w[:, keep], be[keep], q_prev[:, keep]
            if z is not None:
                piv, log_ratio = piv[keep], log_ratio[keep]
        q_prev = q
        q = np.ascontiguousarray(w / be)
        b_prev = be
    from scipy.linalg import eigh_tridiagonal
    nodes, weights = [], []
    for c in range(p):
        k = n_iter[c]
        if k == 0:
            nodes.append(np.zeros(0))
            weights.append(np.zeros(0))
            continue
        if k == 1:
            th, s = alphas[:1, c], np.ones((1, 1))
        else:
            th, s = eigh_tridiagonal(alphas[:k, c], betas[:k - 1, c])
        nodes.append(th)
        weights.append(norms[c] ** 2 * s[0] ** 2)
    return LanczosQuadrature(nodes, weights, n_iter, bound)


# ------------------------------------------------------------- batched Lanczos, broadened-spectrum stopping
def _kernels():
    """The block kernels: parallel when ``RIXSIM_KRYLOV_THREADS`` > 1 (see :mod:`rixsim.manybody._krylov_kernels`)."""
    try:
        threads = int(os.environ.get("RIXSIM_KRYLOV_THREADS", "1"))
    except ValueError:
        threads = 1
    if threads > 1:
        return _kk.csr_spmm_parallel, _kk.gauss_quadrature_parallel, _kk.pseudo_voigt_spectra_parallel
    return _kk.csr_spmm, _kk.gauss_quadrature, _kk.pseudo_voigt_spectra


def _csr_parts(h):
    """(indptr, indices, data) of a CSR matrix with int64 indices, for the numba kernels."""
    h = sp.csr_matrix(h)
    return h.indptr.astype(np.int64), h.indices.astype(np.int64), h.data


def spmm(parts, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``A @ x`` for ``parts = _csr_parts(A)`` and a C-contiguous block ``x`` (numba, parallel over rows);
    a complex ``x`` with a real A is run as real columns (no complex copy of A)."""
    indptr, indices, data = parts
    kern_spmm = _kernels()[0]
    if np.iscomplexobj(x) and not np.iscomplexobj(data):
        xr = np.ascontiguousarray(x).view(np.float64)
        if xr.ndim == 1:
            xr = xr.reshape(-1, 2)
        o = np.empty((indptr.size - 1, xr.shape[1]))
        kern_spmm(indptr, indices, data, xr, o)
        o = o.view(np.complex128)
        return o.ravel() if x.ndim == 1 else o
    x2 = np.ascontiguousarray(x if x.ndim == 2 else x[:, None])
    dtype = np.result_type(data.dtype, x2.dtype)
    if out is None:
        out = np.empty((indptr.size - 1, x2.shape[1]), dtype=dtype)
    kern_spmm(indptr, indices, data, x2.astype(dtype, copy=False), out)
    return out if x.ndim == 2 else out[:, 0]


def lanczos_broadened(h, v: np.ndarray, *, probes, lorentz_fwhm: float, gauss_fwhm: float, max_iter: int = 1000,
                      tol: float = 1e-7, min_iter: int = 30, check_every: int = 10) -> LanczosQuadrature:
    """Batched Lanczos of a real symmetric ``h`` from the real columns of ``v`` (dim, p), stopped per column on
    the *broadened* spectrum.

    All p recursions advance together: one sparse × dense product per step (:func:`spmm`, the matrix read
    once for every column).  At checks spaced geometrically (step ``min_iter``, then ×1.5, at least
    ``check_every`` apart) each open column's Gauss quadrature (numba Golub–Welsch) is
    broadened on ``probes`` (absolute energies of h) with a line of the Voigt's width (Lorentzian FWHM
    ``lorentz_fwhm`` ⊗ Gaussian FWHM ``gauss_fwhm``), and the column stops when that spectrum moved by less
    than ``tol`` × ‖v‖² × (line peak) since the previous check — i.e. its broadened spectrum has converged to
    ``tol`` of its largest possible value.  Exhausted Krylov spaces stop exactly.  ``bound`` returns the last
    measured change (relative, as above; 0 when exhausted).
    """
    v = np.asarray(v, dtype=np.float64)
    p = v.shape[1]
    kern_spmm, kern_gq, kern_pv = _kernels()
    parts = _csr_parts(h)
    probes = np.ascontiguousarray(probes, dtype=float)
    norms = np.linalg.norm(v, axis=0)
    alphas = np.zeros((max_iter, p))
    betas = np.zeros((max_iter, p))
    n_iter = np.zeros(p, dtype=np.int64)
    bound = np.zeros(p)
    # peak of the (pseudo-)Voigt line: the scale of "tol"
    peak = np.empty((1, 1))
    kern_pv(np.zeros((1, 1)), np.ones((1, 1)), np.ones(1, dtype=np.int64), np.zeros(1),
                             float(lorentz_fwhm), float(gauss_fwhm), peak)
    peak = float(peak[0, 0])
    active = np.flatnonzero(norms > 0)
    q = np.ascontiguousarray(v[:, active] / norms[active])
    q_prev = np.zeros_like(q)
    b_prev = np.zeros(active.size)
    prev_spec = np.full((p, probes.size), np.nan)
    kept = {}
    next_check = min(min_iter, max_iter)
    w = np.empty_like(q)
    for k in range(max_iter):
        if active.size == 0:
            break
        if w.shape != q.shape:
            w = np.empty_like(q)
        kern_spmm(parts[0], parts[1], parts[2], q, w)
        al, be = np.empty(active.size), np.empty(active.size)
        _kk.lanczos_update(q, q_prev, w, b_prev, al, be)
        alphas[k, active] = al
        betas[k, active] = be
        n_iter[active] = k + 1
        done = be <= 1e-12 * np.maximum(1.0, np.abs(al))
        bound[active[done]] = 0.0
        if k + 1 == next_check or k + 1 == max_iter:
            open_ = active[~done]
            if open_.size:
                ks = n_iter[open_]
                nd = np.zeros((k + 1, open_.size))
                wt = np.zeros((k + 1, open_.size))
                kern_gq(np.ascontiguousarray(alphas[:k + 1, open_]),
                                     np.ascontiguousarray(betas[:k + 1, open_]), ks, nd, wt)
                spec = np.empty((open_.size, probes.size))
                kern_pv(nd, wt, ks, probes, float(lorentz_fwhm), float(gauss_fwhm), spec)
                change = np.max(np.abs(spec - prev_spec[open_]), axis=1) / peak
                prev_spec[open_] = spec
                bound[open_] = np.where(np.isfinite(change), change, np.inf)
                conv = bound[open_] <= tol
                for j in np.flatnonzero(conv):               # keep the quadrature of a converged column
                    kept[open_[j]] = (nd[:ks[j], j].copy(), wt[:ks[j], j].copy())
                done[~done] = conv
            next_check = max(k + 1 + check_every, int(np.ceil(1.5 * (k + 1))))
        if k + 1 == max_iter:
            break
        keep = ~done
        if not keep.all():
            active, q, w, be, q_prev = (active[keep], np.ascontiguousarray(q[:, keep]), np.ascontiguousarray(w[:, keep]),
                                        be[keep], np.ascontiguousarray(q_prev[:, keep]))
        _kk.lanczos_next(q, q_prev, w, be)
        b_prev = be
    rest = np.array([c for c in range(p) if c not in kept], dtype=np.int64)
    if rest.size:
        kmax = int(max(1, n_iter[rest].max()))
        nd = np.zeros((kmax, rest.size))
        wt = np.zeros((kmax, rest.size))
        kern_gq(np.ascontiguousarray(alphas[:kmax, rest]), np.ascontiguousarray(betas[:kmax, rest]),
                np.ascontiguousarray(n_iter[rest]), nd, wt)
        for j, c in enumerate(rest):
            kept[c] = (nd[:n_iter[c], j].copy(), wt[:n_iter[c], j].copy())
    nodes = [kept[c][0] for c in range(p)]
    weights = [norms[c] ** 2 * kept[c][1] for c in range(p)]
    return LanczosQuadrature(nodes, weights, n_iter, bound)


def shifted_lanczos_block(a, b: np.ndarray, shifts, *, bilinear: bool = False, max_iter: int = 1000,
                          tol: float = 1e-8, check_every: int = 10, store: bool = True) -> list:
    """:func:`shifted_lanczos` for the p start vectors ``b[:, c]`` at once, each with its own shifts.

    The p recursions are independent (one Krylov space per start vector, not a block Krylov space) but run in
    lockstep, so that every step is one sparse × dense product (:func:`spmm`) reading A once for all p.  All
    columns take the same number of steps (the largest any of them needs; an exhausted column stops exactly).
    No re-orthogonalisation (local orthogonality only); the residuals returned are the true ones.

    Parameters
    ----------
    a : sparse matrix
        Real symmetric or complex Hermitian (``bilinear=False``), or complex symmetric (``bilinear=True``;
        e.g. ``H − iΓ/2`` as one complex CSR matrix).
    b : (dim, p) array
    shifts : (p, n) complex
        Shifts of each start vector.
    max_iter, tol, check_every, store
        As in :func:`shifted_lanczos`.

    Returns
    -------
    list of ShiftedSolution
        One per column of ``b``.
    """
    if max_iter < 1:
        raise InputError(f"max_iter must be >= 1; got {max_iter!r}")
    b = np.asarray(b)
    if b.ndim == 1:
        b = b[:, None]
    dim, p = b.shape
    shifts = np.asarray(shifts, dtype=complex).reshape(p, -1)
    parts = _csr_parts(a)
    real = (not bilinear) and not np.iscomplexobj(parts[2]) and not np.iscomplexobj(b)
    dtype = np.float64 if real else np.complex128
    bnorm = np.linalg.norm(b, axis=0)
    if bilinear:
        beta0 = np.sqrt(np.sum(b * b, axis=0) + 0j)
    else:
        beta0 = bnorm.astype(float)
    live = bnorm > 0
    scale0 = np.where(live, beta0, 1.0)

    def dot(u, v):
        return np.einsum("np,np->p", u, v) if bilinear else np.einsum("np,np->p", u.conj(), v)

    def matvec(x):
        return spmm(parts, x)

    basis = np.empty((max_iter, p, dim), dtype=dtype) if store else None
    alphas = np.zeros((max_iter, p), dtype=complex if bilinear or not real else float)
    betas = np.zeros((max_iter, p), dtype=alphas.dtype)
    k_col = np.zeros(p, dtype=np.int64)
    stopped = ~live
    piv = np.ones(shifts.shape, dtype=complex)
    log_ratio = np.zeros(shifts.shape)
    est = np.where(live[:, None], np.inf, 0.0) * np.ones(shifts.shape)

    def start():
        q = np.ascontiguousarray((b / scale0).astype(dtype))
        q[:, stopped & ~live] = 0.0
        return q

    # first pass: the tridiagonals (and the basis when stored)
    q = start()
    q_prev = np.zeros_like(q)
    b_prev = np.zeros(p, dtype=alphas.dtype)
    k_done = 0
    for k in range(max_iter):
        if store:
            basis[k] = q.T
        w = matvec(q)
        al = dot(q, w)
        if not bilinear:
            al = al.real
        w -= al * q
        w -= b_prev * q_prev
        wn = np.linalg.norm(w, axis=0)
        be = np.sqrt(dot(w, w) + 0j) if bilinear else wn
        run = ~stopped
        alphas[k, run] = al[run]
        k_col[run] = k + 1
        # running pivots of (s − T_k) per column and shift
        if k == 0:
            piv[run] = shifts[run] - al[run, None]
            log_ratio[run] = np.log(np.abs(piv[run]))
        else:
            bp = betas[k - 1, run][:, None]
            piv[run] = shifts[run] - al[run, None] - bp ** 2 / piv[run]
            log_ratio[run] += np.log(np.abs(piv[run])) - np.log(np.abs(bp))
        exhausted = run & (wn <= 1e-13 * np.maximum(1.0, np.abs(al)))
        last = k + 1 == max_iter
        if exhausted.any() or (k + 1) % check_every == 0 or last:
            est[run] = (np.abs(beta0[run]) * wn[run] / bnorm[run])[:, None] * np.exp(-log_ratio[run])
            est[exhausted] = 0.0
        stopped = stopped | exhausted
        k_done = k + 1
        if ((k + 1) % check_every == 0 and est.max() <= tol) or last or stopped.all():
            break
        if bilinear and np.any((np.abs(be) <= 1e-12 * wn) & ~stopped):
            c = int(np.flatnonzero((np.abs(be) <= 1e-12 * wn) & ~stopped)[0])
            raise ConvergenceError(f"bilinear Lanczos broke down at step {k + 1} for start vector {c} "
                                   f"(qᵀq ≈ 0 with ‖q‖ = {wn[c]:.3g})")
        betas[k, ~stopped] = be[~stopped]
        be_safe = np.where(stopped, 1.0, be)
        q_prev, q = q, w / be_safe
        q[:, stopped] = 0.0
        b_prev = np.where(stopped, 0.0, be)
    converged = est.max(axis=1) <= tol
    # solutions: y_c = β0 (s − T)^{-1} e1 per column, x_c = Q_c y_c
    ys = []
    for c in range(p):
        kc = int(k_col[c])
        if kc == 0:
            ys.append(np.zeros((shifts.shape[1], 0), dtype=complex))
            continue
        bb = np.concatenate([betas[:kc - 1, c], [0.0]])
        ys.append(tridiagonal_solve(alphas[:kc, c], bb, shifts[c]) * beta0[c])
    xs = [np.zeros((shifts.shape[1], dim), dtype=complex) for _ in range(p)]
    if store:
        for c in range(p):
            kc = int(k_col[c])
            if kc:
                qs = basis[:kc, c, :]
                xs[c] = (ys[c].real @ qs) + 1j * (ys[c].imag @ qs) if real else ys[c] @ qs
        del basis
    else:
        q = start()
        q_prev = np.zeros_like(q)
        chunk = int(max(1, min(64, k_done, 2e8 // (16 * p * dim))))     # Krylov vectors per GEMM update
        buf = np.empty((chunk, p, dim), dtype=dtype)
        for k in range(k_done):
            buf[k % chunk] = q.T
            if (k + 1) % chunk == 0 or k + 1 == k_done:
                k0 = k + 1 - ((k % chunk) + 1)
                for c in range(p):
                    k1 = min(k + 1, int(k_col[c]))
                    if k1 > k0:
                        xs[c] += ys[c][:, k0:k1] @ buf[:k1 - k0, c, :]
            if k + 1 == k_done:
                break
            w = matvec(q)
            w -= alphas[k].real * q if real else alphas[k] * q
            if k > 0:
                w -= (betas[k - 1].real if real else betas[k - 1]) * q_prev
            be = betas[k].real if real else betas[k]
            q_prev, q = q, w / np.where(be == 0, 1.0, be)
            q[:, be == 0] = 0.0
    out = []
    for c in range(p):
        if not live[c]:
            out.append(ShiftedSolution(xs[c], np.zeros(shifts.shape[1]), 0, np.zeros(0), np.zeros(0), 0.0, True))
            continue
        ax = matvec(np.ascontiguousarray(xs[c].T)).T
        res = np.linalg.norm(b[None, :, c] - shifts[c][:, None] * xs[c] + ax, axis=1) / bnorm[c]
        kc = int(k_col[c])
        out.append(ShiftedSolution(xs[c], res, kc, alphas[:kc, c], betas[:kc - 1, c], beta0[c], bool(converged[c])))
    return out

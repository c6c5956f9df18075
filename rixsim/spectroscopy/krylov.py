"""Kramers–Heisenberg maps and XAS by Krylov methods, for clusters of 10⁵–10⁶ states (no eigenvectors of H_m).

Physics (the formula of :mod:`rixsim.spectroscopy.rixs`, evaluated without diagonalising)
---------------------------------------------------------------------------------------------
For each populated initial state g (energy E_g, Boltzmann weight p_g) and each Cartesian component a of the
incident polarisation,

.. math::  |\\psi_a(\\omega)\\rangle = (\\omega - E_0 + E_g - H_m + \\tfrac{i}{2}\\hat\\Gamma)^{-1}\\, T_a|g\\rangle

for *all* incident energies ω from one Krylov space of H_m (:func:`rixsim.manybody.shifted.shifted_lanczos`:
the shifts do not change the space, the cost does not grow with the number of ω).  The channel vectors of
:class:`~rixsim.spectroscopy.geometry.PolarizationChannels` are
:math:`|\\chi_q(\\omega)\\rangle = \\sum_{ba} K_{q,ba}\\, T_b^\\dagger|\\psi_a(\\omega)\\rangle` with
:math:`K_{q,ba} = \\sum_{uv} C_{quv}\\, u_b v_a`, so that :math:`A_q = \\langle f|\\chi_q\\rangle` is the dense engine's
amplitude, and the map is

.. math::  I(\\omega, \\ell) = \\sum_g p_g \\sum_q w_q\\, \\langle\\chi_q|\\, V(\\ell + E_g - H_i)\\,|\\chi_q\\rangle ,

evaluated by Lanczos on the initial sector (the final states): all channel vectors of a block of incident
energies start together (:func:`rixsim.manybody.shifted.lanczos_broadened`, one sparse × dense product per
step for all of them), the Gauss quadrature of each measure gives Ritz values and weights, and every node is
broadened with the exact unit-area Voigt of Lorentzian FWHM ``final_fwhm`` and Gaussian FWHM
``resolution_fwhm`` — the same lines as the dense engine.  For a real H_i the measure of a complex χ is
the sum of those of its real and imaginary parts; a complex H_i is run as the real symmetric
:math:`\\begin{pmatrix}H_r & -H_i\\\\ H_i & H_r\\end{pmatrix}`.  Elastic line, loss window margin and the
emission-axis interpolation are those of the dense engine.

Core-hole width (L3 vs L2)
--------------------------
The dense engine gives each core-excited eigenstate m the width
:math:`\\Gamma_m = c_m\\Gamma_{L_3} + (1-c_m)\\Gamma_{L_2}`, :math:`c_m = \\langle m|\\hat n^h_{3/2}|m\\rangle` (its
2p₃/₂-hole character): the *diagonal* of the width operator
:math:`\\hat\\Gamma = \\Gamma_{L_2} + (\\Gamma_{L_3}-\\Gamma_{L_2})\\,\\hat n^h_{3/2}` in the eigenbasis of H_m.  Here
(``core_width="operator"``, the default) the full operator is used: H_m − iΓ̂/2 is complex symmetric, and the
resolvent vectors come from the bilinear (COCG) Lanczos space with real shifts.  The two agree exactly when
Γ_L3 = Γ_L2 (then the real Hermitian path with the complex shift ω + iΓ/2 is taken) and differ by the
off-diagonal elements of Γ̂ between eigenstates of mixed j character closer than their widths; the tests
measure this difference against the dense engine (it is below 1 % of the map maximum for Ni2+ and Mn2+).
``core_width="l3"`` / ``"l2"`` or a number uses one Lorentzian width for every state.

Accuracy and convergence controls (:class:`KrylovOptions`)
----------------------------------------------------------
* Intermediate: one Lanczos space per (initial state, incident component); the spaces of all populated
  initial states and components run in lockstep (H_m read once per step for all of them) until the
  estimated relative residual ‖b − (s − A)ψ‖/‖b‖ of every incident energy is below ``tol`` (1e-6 by
  default), at most ``max_intermediate`` vectors; the true residuals are recomputed and reported
  (``meta["residual_max"]``).
* Final states: each Lanczos stops when its *broadened* loss spectrum — Ritz values and weights broadened
  with a line of the actual Voigt width (final Lorentzian ⊗ spectrometer Gaussian) on probes across the loss
  grid — moved by less than ``final_tol`` × ‖χ‖² × (line peak) between two checks (checks at step 30, then
  ×1.5); ``meta["final_bound_max"]`` is the largest last change.  Using the Gaussian as well as the
  Lorentzian cut the final-state Lanczos of the Mn2+ d5+d6L map from 960 to 380–520 steps at the same map
  error (the earlier rule bounded the Lorentzian-only resolvent).
* Initial states: ARPACK per symmetry block (:func:`initial_states`), all states within 30 k_BT, degenerate
  manifolds complete; their residual norms ‖H v − E v‖ are reported (``meta["initial_residual_max"]``).

With the defaults the map agrees with the dense one to ≲ 1e-8 of its maximum on the tested cases (the tests
ask for 1e-6): the map error is far below the residual.

Arithmetic and kernels: H_m, H_i and the dipoles are real whenever their imaginary parts vanish (the
Lanczos of H_i and the Hermitian intermediate path then run in real arithmetic; with the width operator the
one complex symmetric CSR matrix H_m − iΓ̂/2 is used); the products are the numba kernels of
:mod:`rixsim.manybody._krylov_kernels` (serial by default, ``RIXSIM_KRYLOV_THREADS=2`` for the parallel
ones).  ``executor`` (any ``concurrent.futures``-style object with ``submit`` or ``map``, e.g. a
``dask.distributed.Client``) runs the final-state blocks of incident energies; the intermediate Krylov
spaces stay local (one space serves every ω).

Memory
------
nnz(H_m) + nnz(H_i) + nnz(T) (12–16 bytes each), the Krylov vectors of the start vectors run together when
kept (``max_intermediate`` × dim_m × 8 or 16 bytes each; else two passes), the resolvent vectors of all ω
((n_start + 2) × n_ω × dim_m × 16) and, per block of incident energies, the final-state Lanczos vectors
(4 × 2 n_q × n_block × dim_i × 8).  :func:`plan_krylov` predicts it and refuses a ``memory_gb`` it exceeds;
:func:`check_build` predicts a sector Hamiltonian's build before it starts.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from rixsim import progress as rprogress
from rixsim import validate
from rixsim.errors import InputError
from rixsim.manybody import buildplan
from rixsim.manybody.shifted import (
    ComplexSymmetricOperator,
    apply_real,
    lanczos_broadened,
    shifted_lanczos,
    shifted_lanczos_block,
)
from rixsim.results import RixsMap
from rixsim.spectroscopy.broadening import broaden_sticks, gauss_hermite_shifts

__all__ = [
    "DENSE_LIMIT",
    "InitialStates",
    "KrylovOptions",
    "KrylovPlan",
    "check_build",
    "initial_states",
    "krylov_rixs_map",
    "plan_krylov",
]

log = logging.getLogger(__name__)

#: ``method="auto"`` of ``rixs_map`` uses the Krylov engine above this many core-excited states.  Measured side
#: by side (``benchmarks/bench_krylov.py --n-exc 20 --n-loss 150``, 2-core machine at load 4–7, CPU seconds
#: including the builds and, for dense, both diagonalisations): Mn2+ d5 (1260 states) dense 1.7 s, Krylov 5.5 s;
#: Mn2+ d5+d6L (8460 states) dense 36.9 s / 2.69 GB, Krylov 26.6 s / 0.98 GB (before the batched final-state
#: Lanczos: 61.4 s) — the crossover lies between the two.  ``auto`` still stays dense up to 30 000 states: its
#: per-state L3/L2 widths are the reference definition (the Krylov width operator differs by ≲ 3e-4 of the
#: map maximum) and its eigenvectors still fit (30 000 states: 7.2 GB); ask for ``method="krylov"`` from
#: ~5000 states for speed.
DENSE_LIMIT = 30000


@dataclass(frozen=True)
class KrylovOptions:
    """Convergence and resource controls of the Krylov engine (see the module docstring).

    Attributes
    ----------
    max_intermediate : int
        Largest Krylov space of H_m per start vector.
    tol : float
        Relative residual of the intermediate-state systems.
    max_final : int
        Largest number of Lanczos steps per final-state measure.
    final_tol : float
        Resolvent bound of the final-state Lanczos.
    check_every : int
        Steps between convergence checks.
    core_width : str or float
        ``"operator"`` (Γ̂ from the 2p₃/₂-hole number), ``"l3"``, ``"l2"`` or a FWHM in eV.
    store : {"auto", True, False}
        Keep the intermediate Krylov vectors (one pass) or use two passes ("auto": keep when they fit).
    reorthogonalize : bool
        Full re-orthogonalisation of the kept intermediate Krylov vectors (k² · dim work: it dominates for
        k ≳ nnz/dim; off by default, the residuals reported are the true ones either way).
    omega_block : int or None
        Incident energies per final-state block (and per executor task); None: from ``memory_gb``.
    initial_tol : float
        ARPACK tolerance for the initial states.
    """

    max_intermediate: int = 3000
    tol: float = 1e-6
    max_final: int = 1000
    final_tol: float = 1e-6
    check_every: int = 10
    core_width: object = "operator"
    store: object = "auto"
    reorthogonalize: bool = False
    omega_block: int | None = None
    initial_tol: float = 1e-12

    def __post_init__(self):
        for name in ("max_intermediate", "max_final", "check_every"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise InputError(f"KrylovOptions.{name} must be a positive integer; got {v!r}")
        for name in ("tol", "final_tol", "initial_tol"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise InputError(f"KrylovOptions.{name} must be a number > 0; got {v!r}")
        cw = self.core_width
        if not (cw in ("operator", "l3", "l2") or (isinstance(cw, (int, float)) and np.isfinite(cw) and cw > 0)):
            raise InputError(f"KrylovOptions.core_width must be 'operator', 'l3', 'l2' or a FWHM > 0 eV; got {cw!r}")
        if self.store not in ("auto", True, False):
            raise InputError(f"KrylovOptions.store must be 'auto', True or False; got {self.store!r}")
        if self.omega_block is not None and (not isinstance(self.omega_block, (int, np.integer))
                                             or self.omega_block < 1):
            raise InputError(f"KrylovOptions.omega_block must be a positive integer or None; got {self.omega_block!r}")


# ------------------------------------------------------------------------------------ initial states
@dataclass(frozen=True)
class InitialStates:
    """Populated initial states: energies (eV, Hamiltonian frame), vectors (columns), Boltzmann weights and
    residual norms ‖H v − E v‖ (eV)."""

    energies: np.ndarray
    vectors: np.ndarray
    weights: np.ndarray
    residuals: np.ndarray


def initial_states(model, temperature_k: float, h_i=None, n_min: int = 8) -> InitialStates:
    """All initial states within 30 k_BT of the ground state, degenerate manifolds complete
    (:meth:`~rixsim.cluster.model.ClusterModel.low_energy_states`: per symmetry block, ARPACK on the large
    ones), with their residual norms ‖H v − E v‖."""
    t = validate.nonnegative(temperature_k, "temperature_k", "K")
    if h_i is None:
        _, h_i = model.hamiltonian(False)
    e, v, w = model.low_energy_states(t, n_min=n_min, h=h_i)
    keep = w > 0
    e, v, w = e[keep], v[:, keep], w[keep] / w[keep].sum()
    res = np.linalg.norm(apply_real(h_i, np.ascontiguousarray(v)) - v * e[None, :], axis=0)
    return InitialStates(e, v, w, res)


# ------------------------------------------------------------------------------------------- memory
@dataclass(frozen=True)
class KrylovPlan:
    """Predicted memory (bytes) of a Krylov map, and the choices made from it.

    Attributes
    ----------
    operators : float
        Sparse H_m, H_i, width operator and dipoles.
    krylov : float
        Intermediate Krylov vectors of the start vectors run together (0 for two passes).
    resolvent : float
        Resolvent vectors of every ω for the initial states run together.
    final_block : float
        Final-state Lanczos vectors and channel vectors of one block of incident energies.
    total : float
    store : bool
    omega_block : int
    budget : float
    group : int
        Initial states whose intermediate systems run together.
    """

    operators: float
    krylov: float
    resolvent: float
    final_block: float
    total: float
    store: bool
    omega_block: int
    budget: float
    group: int = 1


def plan_krylov(dim_m: int, dim_i: int, nnz_ops: float, n_excitation: int, n_components: int, n_channels: int,
                options: KrylovOptions, complex_m: bool, memory_gb: float, n_initial: int = 1) -> KrylovPlan:
    """Choose Krylov storage, the initial states solved together and the incident-energy block so that the map
    fits ``memory_gb``; raise :class:`~rixsim.errors.InputError` naming the need when even two passes, one
    initial state at a time and one ω per block do not.

    The intermediate systems of ``group`` initial states × ``n_components`` run in lockstep (one product with
    H_m per step for all of them); their resolvent vectors (all ω) are kept until the final-state side of
    each has run.
    """
    budget = validate.nonnegative(memory_gb, "memory_gb", "GB") * 1e9
    item = 16 if complex_m else 8
    ops = 16.0 * nnz_ops
    # per ω: T_b†ψ_a (9), χ_q (n_q) complex, then 2·n_q real columns × (v, q, q_prev, w, h@q)
    per_omega = (9 + n_channels) * dim_i * 16.0 + 2 * n_channels * dim_i * 8.0 * 5

    def need(group, store):
        cols = group * n_components
        resolvent = (cols + 2) * n_excitation * dim_m * 16.0
        krylov = options.max_intermediate * dim_m * item * cols if store else 4 * dim_m * item * cols
        return resolvent, krylov

    choice = None
    for group in sorted({max(1, int(n_initial)), 1}, reverse=True):
        stores = [options.store] if options.store != "auto" else [True, False]
        for store in stores:
            resolvent, krylov = need(group, store)
            if ops + krylov + resolvent + per_omega <= budget:
                choice = (group, bool(store), resolvent, krylov)
                break
        if choice is not None:
            break
    if choice is None:
        store = bool(options.store) if options.store != "auto" else False
        resolvent, krylov = need(1, store)
        choice = (1, store, resolvent, krylov)
    group, store, resolvent, krylov = choice
    fixed = ops + krylov + resolvent
    if options.omega_block is not None:
        block = int(min(options.omega_block, n_excitation))
    else:
        block = int(max(0, min(n_excitation, (budget - fixed) // per_omega)))
    if block < 1 or fixed + block * per_omega > budget:
        need_gb = (fixed + max(block, 1) * per_omega) / 1e9
        raise InputError(f"memory_gb={memory_gb!r} is too small for this Krylov map: ≈{need_gb:.3g} GB needed "
                         f"({dim_m} core-excited, {dim_i} initial states, {n_excitation} incident energies)")
    return KrylovPlan(ops, krylov if store else 0.0, resolvent, block * per_omega,
                      fixed + block * per_omega, store, block, budget, group)


def check_build(model, memory_gb: float) -> dict:
    """Predict the peak memory of building both sector Hamiltonians (before building them) and refuse with
    :class:`~rixsim.errors.InputError` when it exceeds ``memory_gb``; returns the two estimates."""
    out = {}
    for core_hole in (False, True):
        basis, one_body, two_body, built = model.sector_terms(core_hole)
        if built:
            continue
        est = buildplan.estimate_build(basis, one_body, two_body)
        buildplan.check_budget(est, memory_gb, "core-excited Hamiltonian" if core_hole else "initial Hamiltonian")
        out["core_excited" if core_hole else "initial"] = est
    return out


# ----------------------------------------------------------------------------------------- helpers
def _real_or_phase(op):
    """``op = phase · R`` with R real sparse when possible; else (1, op)."""
    op = sp.csr_matrix(op)
    if not np.iscomplexobj(op.data):
        return 1.0, op
    scale = np.abs(op.data).max(initial=0.0)
    if np.abs(op.data.imag).max(initial=0.0) <= 1e-14 * scale:
        return 1.0, sp.csr_matrix(op.real)
    if np.abs(op.data.real).max(initial=0.0) <= 1e-14 * scale:
        return 1j, sp.csr_matrix(op.imag)
    return 1.0, op


def _real_symmetric(h):
    """A real symmetric matrix with the spectrum of Hermitian ``h`` (doubled when h is complex) and a map
    of complex vectors to the real vectors whose measures add up to that of the complex one."""
    h = sp.csr_matrix(h)
    if not np.iscomplexobj(h.data) or np.abs(h.data.imag).max(initial=0.0) <= 1e-14 * np.abs(h.data).max(initial=1.0):
        hr = sp.csr_matrix(h.real) if np.iscomplexobj(h.data) else h

        def split(chi):          # (dim, n) complex → (dim, 2n) real: measure(χ) = measure(Re χ) + measure(Im χ)
            return np.concatenate([chi.real, chi.imag], axis=1), 2
        return hr, split
    big = sp.bmat([[h.real, -h.imag], [h.imag, h.real]], format="csr")

    def split_c(chi):
        return np.concatenate([chi.real, chi.imag], axis=0), 1
    return big, split_c


def _core_width(model, options, dim_m):
    """``(scalar_fwhm, width_operator)``: one of them is None."""
    cw = options.core_width
    if cw == "l3":
        return float(model.l3_fwhm), None
    if cw == "l2":
        return float(model.l2_fwhm), None
    if not isinstance(cw, str):
        return float(cw), None
    if abs(model.l3_fwhm - model.l2_fwhm) <= 1e-15:
        return float(model.l3_fwhm), None
    n32 = _real_or_phase(model.j32_hole_operator())[1]
    width = (model.l2_fwhm * sp.identity(dim_m, format="csr") + (model.l3_fwhm - model.l2_fwhm) * n32).tocsr()
    return None, width


def _loss_block(h_f, columns, factors, omega_of, n_omega, e_g, e_ref, grid, lo, hi, elastic_tol, final_fwhm,
                resolution_fwhm, elastic, options, probes):
    """Final-state side of one block of incident energies (a pure function: the executor's task).

    ``columns`` (dim, p) real start vectors, ``factors[c]`` the weight of column c (p_g · w_q), ``omega_of[c]``
    its incident-energy row within the block; final states are kept when ``lo <= E_f − e_ref <= hi`` (the
    dense engine's window).  Returns the block's inelastic and elastic rows on ``grid``
    and the largest final-state bound and Lanczos length.
    """
    quad = lanczos_broadened(h_f, columns, probes=probes + e_g, lorentz_fwhm=final_fwhm,
                             gauss_fwhm=resolution_fwhm, max_iter=options.max_final, tol=options.final_tol,
                             check_every=options.check_every)
    inel = np.zeros((n_omega, grid.size))
    el = np.zeros((n_omega, grid.size))
    for j in range(n_omega):
        cols = np.flatnonzero(omega_of == j)
        pos = np.concatenate([quad.nodes[c] - e_g for c in cols])
        wts = np.concatenate([factors[c] * quad.weights[c] for c in cols])
        big = wts > 1e-14 * wts.max(initial=0.0)          # Ritz values of negligible weight add nothing
        pos, wts = pos[big], wts[big]
        fin = pos + (e_g - e_ref)
        inside = (fin >= lo) & (fin <= hi)
        pos, wts = pos[inside], wts[inside]
        is_el = np.abs(pos) < elastic_tol
        if (~is_el).any():
            inel[j] = broaden_sticks(grid, pos[~is_el], wts[~is_el], final_fwhm, resolution_fwhm)
        if elastic and is_el.any():
            el[j] = broaden_sticks(grid, pos[is_el], wts[is_el], final_fwhm, resolution_fwhm)
    bound = float(np.max(quad.bound)) if quad.bound.size else float("nan")     # inf: never checked twice
    return inel, el, bound, int(quad.n_iter.max(initial=0))


class _Star:
    """Picklable ``lambda t: fn(*t)`` for executors that only have ``map``."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, task):
        return self.fn(*task)


def _submit_all(executor, fn, tasks):
    """Run ``fn(*task)`` for every task on a concurrent.futures-style executor (or locally), in order."""
    if executor is None:
        return [fn(*t) for t in tasks]
    if hasattr(executor, "submit"):
        futures = [executor.submit(fn, *t) for t in tasks]
        return [f.result() for f in futures]
    if hasattr(executor, "map"):
        return list(executor.map(_Star(fn), tasks))
    raise InputError(f"executor must have submit(fn, *args) or map(fn, iterable); got {type(executor).__name__}")


# ------------------------------------------------------------------------------------------- the map
def krylov_rixs_map(model, excitation, *, loss=None, emission=None, geometry=None, polarization_in=None,
                    polarization_out=None, powder: bool = False, final_fwhm: float = 0.1,
                    resolution_fwhm: float = 0.2, elastic: bool = True, elastic_tol: float = 1e-5,
                    margin_fwhm: float | None = 20.0, memory_gb: float = 1.0, progress: bool | None = None,
                    temperature_k: float = 0.0, krylov: KrylovOptions | None = None, executor=None) -> RixsMap:
    """Kramers–Heisenberg map of a :class:`~rixsim.cluster.model.ClusterModel` by Krylov methods.

    Takes the inputs of :func:`rixsim.spectroscopy.rixs.rixs_map` (use that function with ``method="krylov"``)
    and returns the same :class:`~rixsim.results.RixsMap`; ``meta`` adds ``method``, the residuals and
    Krylov sizes.  ``executor`` (any ``concurrent.futures``-style object) runs the final-state blocks of
    incident energies in parallel; the result is identical to the local run.
    """
    from rixsim.spectroscopy.rixs import _channels, _map_axes, _second_axis, _voigt_fwhm
    opts = KrylovOptions() if krylov is None else krylov
    if not isinstance(opts, KrylovOptions):
        raise InputError(f"krylov must be a KrylovOptions; got {type(opts).__name__}")
    if not (hasattr(model, "hamiltonian") and hasattr(model, "dipole_operators")):
        raise InputError(f"the Krylov engine needs a cluster model; got {type(model).__name__}")
    exc, loss_ax, emi_ax, fl, fg = _map_axes(excitation, loss, emission, final_fwhm, resolution_fwhm)
    tol_el = validate.nonnegative(elastic_tol, "elastic_tol", "eV")
    t_k = validate.nonnegative(temperature_k, "temperature_k", "K")
    ch = _channels(geometry, polarization_in, polarization_out, powder)
    total_fwhm = _voigt_fwhm(fl, fg)
    grid, gather = _second_axis(exc, loss_ax, emi_ax, total_fwhm)
    margin = np.inf if margin_fwhm is None else validate.nonnegative(margin_fwhm, "margin_fwhm") * total_fwhm
    validate.nonnegative(memory_gb, "memory_gb", "GB")
    t_start = time.perf_counter()

    check_build(model, memory_gb)
    _, h_i = model.hamiltonian(False)
    _, h_m = model.hamiltonian(True)
    ini = initial_states(model, t_k, h_i)
    phases, t_real = zip(*[_real_or_phase(t) for t in model.dipole_operators()])
    t_dag = [sp.csr_matrix(t.T) for t in t_real]                  # R_b^T; T_b† = conj(c_b) R_b^T
    _, hm_r = _real_or_phase(h_m)
    scalar_fwhm, width_op = _core_width(model, opts, h_m.shape[0])
    h_f, split = _real_symmetric(h_i)

    # K_q[b, a] = Σ_uv C_quv u_b v_a, and which Cartesian components are needed
    kq = np.einsum("quv,ub,va->qba", ch.coefficients, ch.out_vectors, ch.in_vectors)
    q_used = np.flatnonzero((ch.weights > 0) & (np.abs(kq).reshape(kq.shape[0], -1).max(axis=1) > 0))
    kq, wq = kq[q_used], ch.weights[q_used]
    comps = [a for a in range(3) if np.abs(kq[:, :, a]).max() > 0]
    outs = [b for b in range(3) if np.abs(kq[:, b, :]).max() > 0]
    nnz_ops = h_m.nnz + h_i.nnz + sum(t.nnz for t in t_real) * 2 + (0 if width_op is None else width_op.nnz)
    plan = plan_krylov(h_m.shape[0], h_f.shape[0], nnz_ops, exc.size, len(comps), len(q_used), opts,
                       width_op is not None or np.iscomplexobj(hm_r.data), memory_gb,
                       n_initial=ini.energies.size)
    log.info("Krylov map: %d core-excited, %d initial states, %d populated; %s", h_m.shape[0], h_i.shape[0],
             ini.energies.size, plan)

    if width_op is None:
        a_op, bilinear = hm_r, False
    else:                                                   # H_m − iΓ̂/2: one complex symmetric CSR matrix
        a_op, bilinear = sp.csr_matrix(hm_r - 0.5j * width_op), True
    offset = float(model.edge_offset)
    e0 = float(ini.energies[0])
    lo = ini.energies.min() - e0 + grid[0] - margin          # the dense engine's final-state window, per g
    hi = ini.energies.max() - e0 + grid[-1] + margin
    # probes of the final-state stopping rule: 4 per FWHM of the broadened line across the loss grid
    n_probe = int(min(2000, max(20, np.ceil(4 * (grid[-1] - grid[0]) / total_fwhm))))
    probes = np.linspace(grid[0], grid[-1], n_probe)
    blocks = [np.arange(s, min(s + plan.omega_block, exc.size)) for s in range(0, exc.size, plan.omega_block)]

    inel = np.zeros((exc.size, grid.size))
    el = np.zeros((exc.size, grid.size))
    res_max, n_int, bound_max, n_fin = 0.0, 0, 0.0, 0
    n_ini = ini.energies.size
    # counts incident energies: each populated initial state adds its share of every energy it has done
    bar = rprogress.counter("Krylov RIXS map", total=exc.size, unit="incident energies", requested=progress,
                            start=f"{exc.size} incident energies × {grid.size} loss points, {n_ini} initial "
                                  f"state(s), {h_m.shape[0]} core-excited states")
    share = 1.0 / n_ini
    with bar:
        psi_all = {}
        for ig, (eg, vg, pg) in enumerate(zip(ini.energies, ini.vectors.T, ini.weights)):
            if ig % plan.group == 0:
                # one shifted Krylov space per (initial state, incident component), all of a group in lockstep
                # (H_m read once per step for every start vector)
                grp = range(ig, min(ig + plan.group, n_ini))
                rhs = np.stack([apply_real(t_real[a], ini.vectors[:, jg]) for jg in grp for a in comps], axis=1)
                shifts = np.stack([exc - offset + ini.energies[jg] + (0.5j * scalar_fwhm if scalar_fwhm is not None
                                                                      else 0.0) for jg in grp for a in comps])
                sols = shifted_lanczos_block(a_op, rhs, shifts, bilinear=bilinear, max_iter=opts.max_intermediate,
                                             tol=opts.tol, check_every=opts.check_every, store=plan.store)
                del rhs
                it = iter(sols)
                for jg in grp:
                    for a in comps:
                        sol = next(it)
                        psi_all[jg, a] = phases[a] * sol.x                      # (n_ω, dim_m)
                        res_max, n_int = max(res_max, float(sol.residual.max())), max(n_int, sol.n_iter)
                        log.info("g %d (E=%.4f eV), component %s: %d Krylov vectors, residual %.2e%s", jg,
                                 ini.energies[jg], "xyz"[a], sol.n_iter, sol.residual.max(),
                                 "" if sol.converged else " (NOT converged)")
                del sols, it
            psi = {a: psi_all.pop((ig, a)) for a in comps}
            tasks = []
            for blk in blocks:
                # T_b† ψ_a for the block, then χ_q = Σ_ba K_q[b, a] T_b† ψ_a
                tp = {(b, a): np.conj(phases[b]) * apply_real(t_dag[b], np.ascontiguousarray(psi[a][blk].T))
                      for b in outs for a in comps}
                chi = np.zeros((h_i.shape[0], len(q_used), blk.size), dtype=complex)
                for (b, a), vec in tp.items():
                    coef = kq[:, b, a]
                    for q in np.flatnonzero(coef):
                        chi[:, q, :] += coef[q] * vec
                del tp
                cols, rep = split(chi.reshape(h_i.shape[0], -1))
                del chi
                n_cols = len(q_used) * blk.size
                factors = np.tile(np.repeat(pg * wq, blk.size), rep)
                omega_of = np.tile(np.tile(np.arange(blk.size), len(q_used)), rep)
                tasks.append((h_f, np.ascontiguousarray(cols), factors, omega_of, blk.size, eg, e0, grid, lo, hi,
                              tol_el, fl, fg, elastic, opts, probes))
                assert factors.size == cols.shape[1] == rep * n_cols
                if executor is None:            # run now, keep memory to one block
                    tasks[-1] = _loss_block(*tasks[-1])
                    bar.update(blk.size * share)
            results = tasks if executor is None else _submit_all(executor, _loss_block, tasks)
            for blk, (bi, be_, bnd, nf) in zip(blocks, results):
                inel[blk] += bi
                el[blk] += be_
                bound_max = bound_max if np.isnan(bnd) else max(bound_max, bnd)
                n_fin = max(n_fin, nf)
            if executor is not None:
                bar.update(exc.size * share)
            del psi
    inel = gather(inel)
    if elastic:
        el = gather(el)
        z = inel + el
    else:
        el, z = None, inel
    meta = {"final_fwhm": fl, "resolution_fwhm": fg, "channels": ch.label, "powder": bool(powder), "elastic": bool(elastic),
                "elastic_tol": tol_el, "temperature_k": t_k, "n_initial": int(ini.energies.size), "method": "krylov",
                "core_width": opts.core_width if scalar_fwhm is None else scalar_fwhm,
                "residual_max": res_max, "krylov_intermediate": n_int, "final_bound_max": bound_max,
                "krylov_final": n_fin, "initial_residual_max": float(ini.residuals.max()),
                "omega_block": plan.omega_block, "store": plan.store, "predicted_bytes": plan.total,
                "seconds": time.perf_counter() - t_start, "transitions_meta": {"model": model.name, "n_d": model.n_d}}
    label = f"RIXS map ({ch.label})"
    if loss_ax is not None:
        return RixsMap(exc, None, z, loss=loss_ax, elastic=el, label=label, meta=meta)
    return RixsMap(exc, emi_ax, z, elastic=el, label=label, meta=meta)


# ---------------------------------------------------------------------------------------------- XAS
def krylov_xas(model, axis, eps, temperature_k: float, gauss_fwhm: float = 0.0, lorentz_fwhm=None,
               krylov: KrylovOptions | None = None):
    """Absorption ``(intensity, info)`` on ``axis`` (absolute eV) without diagonalising the core-excited sector.

    .. math:: \\sigma(\\omega) = -\\frac1\\pi \\operatorname{Im} \\sum_g p_g\\, \\langle b_g|(\\omega - E_0 + E_g - H_m
              + \\tfrac{i}{2}\\hat\\Gamma)^{-1}|b_g\\rangle,\\qquad b_g = \\boldsymbol\\epsilon\\cdot\\mathbf T|g\\rangle

    with the width operator Γ̂ of the module docstring (or one Lorentzian ``lorentz_fwhm``), from the
    continued fraction of the (bilinear when Γ̂ is not scalar) Lanczos space, grown until the residual of
    every energy on ``axis`` is below ``krylov.tol``.  For a real H_m the resolvent is complex symmetric, so
    a complex b contributes the sum of its real and imaginary parts' real quadratic forms.  A Gaussian
    instrument width is a 48-node Gauss–Hermite quadrature over shifted energies (as the Lanczos XAS).
    ``eps`` None is the isotropic average (x, y, z, each 1/3).
    """
    from rixsim.manybody.lanczos import continued_fraction
    opts = KrylovOptions() if krylov is None else krylov
    _, h_i = model.hamiltonian(False)
    _, h_m = model.hamiltonian(True)
    ini = initial_states(model, temperature_k, h_i)
    phases, t_real = zip(*[_real_or_phase(t) for t in model.dipole_operators()])
    _, hm_r = _real_or_phase(h_m)
    if lorentz_fwhm is not None:
        scalar_fwhm, width_op = validate.width(lorentz_fwhm, "lorentz_fwhm", allow_zero=False), None
    else:
        scalar_fwhm, width_op = _core_width(model, opts, h_m.shape[0])
    if width_op is None:
        a_op, bilinear = hm_r, False
    else:
        a_op, bilinear = ComplexSymmetricOperator(hm_r, width_op), True
    nodes, wq = gauss_hermite_shifts(gauss_fwhm)
    out = np.zeros(axis.size)
    res_max, n_max = 0.0, 0
    for eg, vg, pg in zip(ini.energies, ini.vectors.T, ini.weights):
        if eps is None:
            vecs = [(1.0 / 3.0, apply_real(t_real[a], vg)) for a in range(3)]
        else:
            b = sum(eps[a] * phases[a] * apply_real(t_real[a], vg) for a in range(3))
            vecs = [(1.0, np.ascontiguousarray(b.real)), (1.0, np.ascontiguousarray(b.imag))]
        for scale, bv in vecs:
            if np.iscomplexobj(bv):          # complex H or eigenvector: Hermitian path only
                bv = np.asarray(bv)
            if not np.any(bv):
                continue
            s0 = axis - model.edge_offset + eg
            shifts = s0 + (0.5j * scalar_fwhm if scalar_fwhm is not None else 0.0)
            sol = shifted_lanczos(a_op, bv, shifts, bilinear=bilinear, max_iter=opts.max_intermediate,
                                  tol=opts.tol, check_every=opts.check_every, store=False, solution=False)
            res_max, n_max = max(res_max, float(sol.residual.max())), max(n_max, sol.n_iter)
            bb = np.concatenate([[0.0], sol.beta])
            norm2 = sol.norm ** 2
            for s, q in zip(nodes, wq):
                z = s0 - s + (0.5j * scalar_fwhm if scalar_fwhm is not None else 0.0)
                g = continued_fraction(sol.alpha, bb, 1.0, z.astype(complex)) * norm2
                out += q * pg * scale * (-g.imag / np.pi)
    info = {"method": "krylov", "residual_max": res_max, "krylov_intermediate": n_max,
            "n_initial": int(ini.energies.size), "initial_residual_max": float(ini.residuals.max()),
            "core_width": opts.core_width if scalar_fwhm is None else scalar_fwhm}
    return out, info

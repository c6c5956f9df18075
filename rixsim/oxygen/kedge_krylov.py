"""The O K edge of :mod:`rixsim.oxygen.kedge` by Krylov methods: pre-edge XAS and lattice-oxygen RIXS of
clusters whose sectors are too large to diagonalise (Mn4+ d3 … d6L̲³: 38 760 initial, 53 160 core-excited,
84 990 valence-hole determinants), without a dense matrix of any sector.

The quantities are those of the dense functions, term by term (same sectors, channels, energies, widths and
normalisation); only the way they are evaluated differs.

Initial states
    :func:`initial_states`: the lowest eigenpairs of the sparse initial-sector Hamiltonian per symmetry block
    (the solver of :meth:`rixsim.cluster.model.ClusterModel.low_energy_states`: dense for blocks of ≤ 400
    states, ARPACK otherwise, grown until every state within 30 k_BT is found, degenerate manifolds
    complete), with their residual norms ‖H v − E v‖ (eV) and Boltzmann weights as
    :meth:`~rixsim.oxygen.kedge.OxygenKEdge.initial_states` gives them.

XAS (:func:`krylov_oxygen_k_xas`)
    For every populated initial state g and each of the ten channels :math:`T_c = L^\\dagger_c s_{\\sigma(c)}`,
    the spectral measure of :math:`T_c|g\\rangle` on the core-excited Hamiltonian H_m by Lanczos
    (:func:`rixsim.manybody.shifted.lanczos_broadened`, all start vectors in lockstep), stopped when the
    measure broadened with the actual line (O 1s Lorentzian ``core_fwhm`` ⊗ Gaussian ``gauss_fwhm``) has
    converged; its Gauss quadrature (Ritz values θ, weights) is then broadened with the exact unit-area Voigt
    at ``edge_offset + θ − E_g``, the photon energies of :func:`~rixsim.oxygen.kedge.oxygen_k_xas`, and the
    same arctan main edge is added.  The weights of each quadrature sum to ‖T_c g‖², so the pre-edge weight
    :math:`\\sum_g p_g \\sum_c \\|T_c g\\|^2` is the ligand-hole count n_L exactly (``meta["pre_edge_weight"]``);
    their first moment gives the exact centroid (``meta["pre_edge_centroid"]``).

RIXS (:func:`krylov_lattice_oxygen_map`)
    The coherent part of :func:`~rixsim.oxygen.kedge.lattice_oxygen_map` is channel-diagonal and summed
    incoherently over the ten ligand spin-orbitals and over the populated initial states, as in the dense
    code:

    .. math:: I(\\omega, \\ell) = \\frac{\\Gamma}{2\\pi}\\sum_g p_g \\sum_c \\sum_f
              |\\langle f|T_c^\\dagger (s_g(\\omega) - H_m)^{-1} T_c|g\\rangle|^2\\,
              \\delta(\\ell - E_f + E_g),\\qquad s_g(\\omega) = \\omega - E_0 + E_g + \\tfrac{i}{2}\\Gamma

    with Γ the O 1s FWHM and E_0 the edge offset.  The resolvent vectors :math:`\\psi_{gc}(\\omega)` of all
    incident energies come from one shifted Krylov space per (g, c)
    (:func:`rixsim.manybody.shifted.shifted_lanczos_block`, all start vectors in lockstep, true relative
    residuals reported in ``meta["residual_max"]``); then :math:`\\chi = T_c^\\dagger\\psi` lives on the initial
    sector (the final states of O-K RIXS are the 1s² states again) and its measure on H_i is taken by Lanczos
    quadrature (real and imaginary parts as two real start vectors).  The Ritz values are the final states:
    those with :math:`E_f - E_{\\rm ground}` above the dense code's loss window (the largest loss of the map
    plus 5 × (final + resolution FWHM)) are left out as there, the elastic line is the part with
    :math:`|E_f - E_g| < 10^{-5}` eV, and the sticks get the dense code's line shape (a Lorentzian of FWHM
    max(``final_fwhm``, 2 × grid step) on its loss grid, the resolution Gaussian by convolution on that grid,
    read off at loss = ω − emission), so the two paths differ only by the Krylov error.  The normal-emission
    band (``fluorescence_weight``) is the Krylov XAS times :func:`krylov_lattice_emission`; it is not
    computed when ``fluorescence_weight`` is 0.

Controls and memory
    :class:`rixsim.spectroscopy.krylov.KrylovOptions`: ``max_intermediate`` and ``tol`` for the shifted
    solves (relative residual), ``max_final`` and ``final_tol`` for the Lanczos quadratures (of H_m for the
    XAS, of H_i for the RIXS final states), ``check_every``, ``store``, ``omega_block``, ``initial_tol``
    unused (ARPACK runs at 1e-12); ``core_width`` is not used (the O 1s hole has one width, ``core_fwhm``).
    Before anything large is allocated the sector builds are estimated
    (:func:`rixsim.manybody.buildplan.estimate_build`) and the Krylov work is planned
    (:func:`rixsim.spectroscopy.krylov.plan_krylov` for the map, :func:`rixsim.memory.plan` for the XAS)
    against ``memory_gb`` (default: the :mod:`rixsim.memory` budget); a budget too small is refused with
    :class:`~rixsim.errors.InputError` naming the need.

The public functions of :mod:`rixsim.oxygen.kedge` (``oxygen_k_xas``, ``lattice_emission``,
``lattice_oxygen_map``) take ``method="auto" | "dense" | "krylov"`` and call the functions here for
``"krylov"``, or for ``"auto"`` when a sector has more than :data:`OK_DENSE_LIMIT` determinants.
"""
from __future__ import annotations

import logging
import time

import numpy as np
import scipy.sparse as sp

from rixsim import memory, validate
from rixsim.cluster.model import (
    K_B_EV,
    lowest_per_block,
    real_if_possible,
    boltzmann_weights,
)
from rixsim.errors import InputError
from rixsim.manybody import buildplan
from rixsim.manybody.shifted import apply_real, lanczos_broadened, shifted_lanczos_block
from rixsim.oxygen.kedge import OxygenKEdge, _removal_band, coherent_loss_grid, coherent_on_emission
from rixsim.results import RixsMap, Spectrum
from rixsim.spectroscopy import broadening
from rixsim.spectroscopy.krylov import (
    InitialStates,
    KrylovOptions,
    _real_symmetric,
    plan_krylov,
)

__all__ = [
    "OK_DENSE_LIMIT",
    "configuration_weights",
    "initial_states",
    "krylov_lattice_emission",
    "krylov_lattice_oxygen_map",
    "krylov_oxygen_k_xas",
]

log = logging.getLogger(__name__)

#: ``method="auto"`` of the O-K functions uses the Krylov path when the initial or the core-excited sector has
#: more determinants than this: the dense path keeps all eigenvectors of both sectors (10⁴ states: 0.8 GB
#: each, and the map's projections of every final state), the limit the module docstring of
#: :mod:`rixsim.oxygen.kedge` was written for.
OK_DENSE_LIMIT = 10000

#: the dense map's elastic criterion |E_f − E_g| (eV)
_ELASTIC_TOL = 1e-5


def _check_edge(edge) -> OxygenKEdge:
    if not isinstance(edge, OxygenKEdge):
        raise InputError(f"edge must be an OxygenKEdge; got {type(edge).__name__}")
    return edge


def _options(krylov) -> KrylovOptions:
    opts = KrylovOptions() if krylov is None else krylov
    if not isinstance(opts, KrylovOptions):
        raise InputError(f"krylov must be a KrylovOptions; got {type(opts).__name__}")
    return opts


def _budget_gb(memory_gb) -> float:
    if memory_gb is None:
        return memory.default_budget_bytes()[0] / 1e9
    return memory.budget_bytes(memory_gb) / 1e9


def _plan_builds(edge: OxygenKEdge, kinds, memory_gb: float) -> None:
    """Estimate the build of each sector not built yet and refuse one that exceeds the budget."""
    for kind in kinds:
        if ("sparse", kind) in edge._cache:
            continue
        basis, one, two = edge.sector_terms(kind)
        est = buildplan.estimate_build(basis, one, two)
        buildplan.check_budget(est, memory_gb, f"O-K {kind} Hamiltonian")


def _sparse(edge: OxygenKEdge, kind: str):
    """``(basis, H)`` of a sector with H real whenever its imaginary part vanishes."""
    basis, h = edge.hamiltonian(kind, diagonalise=False)
    return basis, real_if_possible(h)


def initial_states(edge: OxygenKEdge, temperature_k: float = 0.0, n_min: int = 8) -> InitialStates:
    """Populated initial states of the O-K cluster from its sparse initial-sector Hamiltonian.

    Parameters
    ----------
    edge : OxygenKEdge
        The O K edge of a charge-transfer cluster.
    temperature_k : float
        Temperature (K); every state within 30 k_BT of the ground state is found (at 0 K the ground
        manifold, states within 1e-6 eV sharing the population).
    n_min : int
        Eigenpairs asked of ARPACK per block at first (grown until the cut-off is passed).

    Returns
    -------
    InitialStates
        Energies (eV, in the Hamiltonian's frame: the same numbers as the dense eigenvalues), vectors on the
        initial-sector basis, Boltzmann weights (zero weights dropped) and residual norms ‖H v − E v‖ (eV).
    """
    edge = _check_edge(edge)
    t = validate.temperature(temperature_k)
    n_min = validate.integer(n_min, "n_min", lo=1)
    key = ("krylov_initial", float(t), int(n_min))
    if key in edge._cache:                 # the map's XAS and emission band ask for the same states again
        return edge._cache[key]
    _, h = _sparse(edge, "initial")
    span = 30 * K_B_EV * t + 1e-5
    e, v = lowest_per_block(h, span, n_min)
    rel = e - e[0]
    keep = rel <= span
    e, v = e[keep], v[:, keep]
    w = boltzmann_weights(rel[keep], t)
    live = w > 0
    e, v, w = e[live], np.ascontiguousarray(v[:, live]), w[live] / w[live].sum()
    res = np.linalg.norm(apply_real(h, v) - v * e[None, :], axis=0)
    edge._cache[key] = InitialStates(e, v, w, res)
    return edge._cache[key]


def configuration_weights(edge: OxygenKEdge, states: InitialStates) -> np.ndarray:
    """Boltzmann-averaged weight of the configurations with k ligand holes, k = 0, 1, … (dⁿ, dⁿ⁺¹L̲, …).

    Parameters
    ----------
    edge : OxygenKEdge
        The O K edge of a charge-transfer cluster.
    states : InitialStates
        From :func:`initial_states`.

    Returns
    -------
    ndarray
        ``w[k]``; they sum to 1 and Σ k w_k is the ligand-hole count n_L.
    """
    basis = edge.hamiltonian("initial", diagonalise=False)[0]
    holes = (10 - basis.occupations("L")).astype(np.int64)
    prob = np.abs(states.vectors) ** 2 @ states.weights
    return np.bincount(holes, weights=prob, minlength=int(holes.max()) + 1)


def _ligand_holes(edge: OxygenKEdge, states: InitialStates) -> float:
    basis = edge.hamiltonian("initial", diagonalise=False)[0]
    holes = 10 - basis.occupations("L")
    return float((np.abs(states.vectors) ** 2 * holes[:, None]).sum(axis=0) @ states.weights)


def _voigt_fwhm(lorentz_fwhm: float, gauss_fwhm: float) -> float:
    from rixsim.spectroscopy.rixs import _voigt_fwhm as fwhm
    return float(fwhm(lorentz_fwhm, gauss_fwhm))


def _probes(lo: float, hi: float, line_fwhm: float) -> np.ndarray:
    """Probe energies of the Lanczos stopping rule: 4 per FWHM of the broadened line (20 to 2000)."""
    n = int(min(2000, max(20, np.ceil(4 * (hi - lo) / max(line_fwhm, 1e-3)))))
    return np.linspace(lo, hi, n)


def _real_columns(vectors: np.ndarray, split, doubled: bool) -> tuple[np.ndarray, int]:
    """Real columns whose measures on the real symmetric form of H (:func:`rixsim.spectroscopy.krylov.
    _real_symmetric`; ``doubled`` when H is complex) add up to those of ``vectors`` (dim, p), and how many
    columns each vector became."""
    if doubled:
        cols, rep = split(vectors.astype(complex))
    elif np.iscomplexobj(vectors):
        cols, rep = split(vectors)
    else:
        cols, rep = vectors, 1
    return np.ascontiguousarray(cols), rep


def _merge(pos: np.ndarray, wts: np.ndarray, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Sticks of negligible weight dropped and sticks closer than ``tol`` eV merged (the converged Ritz values
    of many start vectors are the same eigenvalues; a line moved by 1e-10 eV changes by ~1e-9 of its peak)."""
    big = wts > 1e-14 * wts.max(initial=0.0)
    pos, wts = pos[big], wts[big]
    if pos.size < 2:
        return pos, wts
    order = np.argsort(pos, kind="stable")
    pos, wts = pos[order], wts[order]
    start = np.concatenate([[0], np.flatnonzero(np.diff(pos) > tol) + 1])
    return pos[start], np.add.reduceat(wts, start)


# ------------------------------------------------------------------------------------------------- XAS
def krylov_oxygen_k_xas(edge: OxygenKEdge, energies, temperature_k: float = 300.0, gauss_fwhm: float = 0.2,
                        main_edge: bool = True, *, krylov: KrylovOptions | None = None,
                        memory_gb: float | None = None) -> Spectrum:
    """O K-edge absorption (absolute photon energies, eV) by Lanczos: the quantity of
    :func:`rixsim.oxygen.kedge.oxygen_k_xas` without diagonalising either sector.

    Parameters
    ----------
    edge : OxygenKEdge
        The O K edge of a charge-transfer cluster.
    energies : array_like
        Absolute photon energies (eV), increasing.
    temperature_k : float
        Temperature (K) of the Boltzmann-populated initial states.
    gauss_fwhm : float
        Gaussian (instrument) FWHM (eV) convolved with the O 1s Lorentzian (FWHM ``edge.core_fwhm``).
    main_edge : bool
        Add the arctan main edge of :meth:`~rixsim.oxygen.kedge.OxygenKEdge.main_edge`.
    krylov : KrylovOptions, optional
        ``max_final`` (largest Lanczos space per start vector), ``final_tol`` (convergence of the broadened
        spectrum, relative to its largest possible value) and ``check_every``.
    memory_gb : float, optional
        Memory budget (GB); default the :mod:`rixsim.memory` budget.

    Returns
    -------
    Spectrum
        ``meta`` as the dense function's (``ligand_holes`` from the Krylov initial states) plus ``method``,
        ``pre_edge_weight`` (the Lanczos zeroth moment, = n_L), ``pre_edge_centroid`` (eV), ``n_initial``,
        ``initial_residual_max``, ``krylov_steps`` (largest Lanczos space), ``bound_max`` and the sector sizes.
    """
    edge = _check_edge(edge)
    axis = validate.energy_axis(energies, "energies")
    gauss = validate.width(gauss_fwhm, "gauss_fwhm")
    t = validate.temperature(temperature_k)
    main = validate.flag(main_edge, "main_edge")
    opts = _options(krylov)
    gb = _budget_gb(memory_gb)
    t0 = time.perf_counter()
    _plan_builds(edge, ("initial", "core"), gb)
    b_i, h_i = _sparse(edge, "initial")
    b_m, h_m = _sparse(edge, "core")
    h_mr, split = _real_symmetric(h_m)
    ops = [real_if_possible(op) for op in edge._channel(b_m, b_i, annihilate_core=True)]
    n_cols = 10 * (2 if np.iscomplexobj(h_m.data) else 1)
    # start vectors + 5 Lanczos vectors per column, tridiagonals and quadratures (max_final × 4 numbers), probe spectra
    ini = initial_states(edge, t)
    p = n_cols * ini.energies.size
    need = (16.0 * (h_mr.nnz + h_i.nnz) + 8.0 * h_mr.shape[0] * p * 6 + 32.0 * opts.max_final * p
            + 8.0 * p * 2000)
    memory.plan(need, f"O-K Krylov XAS ({p} Lanczos start vectors on {h_mr.shape[0]} core-excited states)", gb)

    cols, owner = [], []
    for g, vg in enumerate(ini.vectors.T):
        block = np.stack([apply_real(op, vg) for op in ops], axis=1)
        block, _ = _real_columns(block, split, h_mr.shape[0] != h_m.shape[0])
        live = np.linalg.norm(block, axis=0) > 0
        cols.append(block[:, live])
        owner += [g] * int(live.sum())
    owner = np.array(owner, dtype=np.int64)
    cols = np.ascontiguousarray(np.concatenate(cols, axis=1))
    line = _voigt_fwhm(edge.core_fwhm, gauss)
    probes = _probes(axis[0] - edge.edge_offset + ini.energies.min(), axis[-1] - edge.edge_offset
                     + ini.energies.max(), line)
    quad = lanczos_broadened(h_mr, cols, probes=probes, lorentz_fwhm=edge.core_fwhm, gauss_fwhm=gauss,
                             max_iter=opts.max_final, tol=opts.final_tol, check_every=opts.check_every)
    pos = np.concatenate([edge.edge_offset + quad.nodes[c] - ini.energies[owner[c]] for c in range(owner.size)])
    wts = np.concatenate([ini.weights[owner[c]] * quad.weights[c] for c in range(owner.size)])
    weight = float(wts.sum())
    centroid = float(wts @ pos / weight) if weight > 0 else float("nan")
    pos_m, wts_m = _merge(pos, wts)
    y = broadening.broaden_sticks(axis, pos_m, wts_m, edge.core_fwhm, gauss)
    if main:
        y = y + edge.main_edge(axis)
    meta = {"temperature_k": temperature_k, "gauss_fwhm": gauss, "main_edge": main,
            "ligand_holes": _ligand_holes(edge, ini), "method": "krylov", "pre_edge_weight": weight,
            "pre_edge_centroid": centroid, "n_initial": int(ini.energies.size),
            "initial_residual_max": float(ini.residuals.max()), "krylov_steps": int(quad.n_iter.max(initial=0)),
            "bound_max": float(np.max(quad.bound, initial=0.0)), "dim_initial": int(h_i.shape[0]),
            "dim_core": int(h_m.shape[0]), "seconds": time.perf_counter() - t0}
    return Spectrum(axis, y, label=f"{edge.model.name} O K XAS", meta=meta)


def krylov_lattice_emission(edge: OxygenKEdge, emission, temperature_k: float = 300.0, band_fwhm: float = 3.0,
                            center: float | None = None, *, krylov: KrylovOptions | None = None,
                            memory_gb: float | None = None) -> Spectrum:
    """:func:`rixsim.oxygen.kedge.lattice_emission` (unit area, absolute emission energies, eV) from the
    Krylov initial states; the removal spectrum was a Lanczos continued fraction already.

    Parameters
    ----------
    edge : OxygenKEdge
        The O K edge of a charge-transfer cluster.
    emission : array_like
        Absolute emission energies (eV).
    temperature_k : float
        Temperature (K).
    band_fwhm : float
        Gaussian FWHM (eV) of the O 2p band.
    center : float, optional
        Band centre (eV); default :data:`rixsim.oxygen.kedge.LATTICE_EMISSION`.
    krylov : KrylovOptions, optional
        Accepted for a uniform signature (the continued fraction has its own 80 steps).
    memory_gb : float, optional
        Memory budget (GB) for the sector builds.

    Returns
    -------
    Spectrum
        The normal-emission band.
    """
    from rixsim.oxygen.kedge import LATTICE_EMISSION
    edge = _check_edge(edge)
    axis = validate.energy_axis(emission, "emission")
    band = validate.width(band_fwhm, "band_fwhm", allow_zero=False)
    c = LATTICE_EMISSION if center is None else validate.number(center, "center", "eV")
    _options(krylov)
    gb = _budget_gb(memory_gb)
    _plan_builds(edge, ("initial", "hole"), gb)
    ini = initial_states(edge, temperature_k)
    return _removal_band(edge, axis, band, c, ini.energies, ini.vectors, ini.weights)


# ------------------------------------------------------------------------------------------------ RIXS
def krylov_lattice_oxygen_map(edge: OxygenKEdge, excitation, emission, temperature_k: float = 300.0,
                              final_fwhm: float = 0.1, resolution_fwhm: float = 0.3, band_fwhm: float = 3.0,
                              fluorescence_weight: float = 1.0, xas_gauss_fwhm: float = 0.2, *,
                              krylov: KrylovOptions | None = None, memory_gb: float | None = None) -> RixsMap:
    """O-K mRIXS map of lattice oxygen (rows excitation, columns emission; absolute eV) by Krylov methods: the
    quantity of :func:`rixsim.oxygen.kedge.lattice_oxygen_map` (see the module docstring for the formula).

    Parameters
    ----------
    edge : OxygenKEdge
        The O K edge of a charge-transfer cluster.
    excitation, emission : array_like
        Absolute incident and emitted photon energies (eV), increasing.
    temperature_k : float
        Temperature (K).
    final_fwhm : float
        Lorentzian FWHM (eV) of the final states.
    resolution_fwhm : float
        Gaussian FWHM (eV) of the spectrometer.
    band_fwhm : float
        Gaussian FWHM (eV) of the normal-emission band.
    fluorescence_weight : float
        Weight of the normal-emission band (0: the coherent part only, and the valence-hole sector is not
        built).
    xas_gauss_fwhm : float
        Gaussian FWHM (eV) of the absorption that multiplies the band.
    krylov : KrylovOptions, optional
        ``max_intermediate`` / ``tol`` (shifted solves, relative residual), ``max_final`` / ``final_tol``
        (final-state Lanczos), ``check_every``, ``store``, ``omega_block``.
    memory_gb : float, optional
        Memory budget (GB); default the :mod:`rixsim.memory` budget.

    Returns
    -------
    RixsMap
        ``elastic`` the elastic part of the coherent term; ``meta`` as the dense map's plus ``method``,
        ``residual_max`` (largest true relative residual of the shifted solves), ``krylov_intermediate``,
        ``krylov_final``, ``final_bound_max``, ``n_initial``, ``initial_residual_max``, ``predicted_bytes``,
        ``store``, ``omega_block`` and the sector sizes.
    """
    edge = _check_edge(edge)
    exc = validate.energy_axis(excitation, "excitation")
    emi = validate.energy_axis(emission, "emission")
    ff = validate.width(final_fwhm, "final_fwhm")
    res = validate.width(resolution_fwhm, "resolution_fwhm")
    t = validate.temperature(temperature_k)
    fw = validate.nonnegative(fluorescence_weight, "fluorescence_weight")
    opts = _options(krylov)
    gb = _budget_gb(memory_gb)
    t0 = time.perf_counter()
    _plan_builds(edge, ("initial", "core") + (("hole",) if fw else ()), gb)
    b_i, h_i = _sparse(edge, "initial")
    b_m, h_m = _sparse(edge, "core")
    h_f, split = _real_symmetric(h_i)
    ops = [sp.csr_matrix(real_if_possible(op)) for op in edge._channel(b_m, b_i, annihilate_core=True)]
    ops_t = [sp.csr_matrix(op.T.conj()) for op in ops]                       # T_c† = s† L_c
    ini = initial_states(edge, t)
    n_g = ini.energies.size

    # the dense map's loss grid, window and line width
    loss, step = coherent_loss_grid(exc, emi)
    max_loss = exc[-1] - emi[0] + 5 * (ff + res)
    lorentz = max(ff, 2 * step)
    memory.plan(8.0 * (4 * exc.size * loss.size + 3 * loss.size ** 2 + exc.size * emi.size * 3),
                f"the O-K map's loss grid ({exc.size} × {loss.size} points)", gb)
    nnz = h_m.nnz + h_i.nnz + 2 * sum(op.nnz for op in ops)
    plan = plan_krylov(h_m.shape[0], h_f.shape[0], nnz, exc.size, len(ops), len(ops), opts,
                       np.iscomplexobj(h_m.data), gb, n_initial=n_g)
    log.info("O-K Krylov map: %d core-excited, %d initial states, %d populated; %s", h_m.shape[0], h_i.shape[0],
             n_g, plan)
    e0 = float(ini.energies[0])
    hw = 0.5 * edge.core_fwhm
    probes = _probes(loss[0], min(loss[-1], max_loss), _voigt_fwhm(lorentz, res))
    blocks = [np.arange(s, min(s + plan.omega_block, exc.size)) for s in range(0, exc.size, plan.omega_block)]
    sticks = [[] for _ in range(exc.size)]                # per ω: (loss positions, weights)
    res_max, n_int, bound_max, n_fin = 0.0, 0, 0.0, 0
    for g0 in range(0, n_g, plan.group):
        grp = range(g0, min(g0 + plan.group, n_g))
        rhs = np.stack([apply_real(op, ini.vectors[:, g]) for g in grp for op in ops], axis=1)
        shifts = np.stack([exc - edge.edge_offset + ini.energies[g] + 1j * hw for g in grp for _ in ops])
        sols = shifted_lanczos_block(h_m, rhs, shifts, bilinear=False, max_iter=opts.max_intermediate, tol=opts.tol,
                                     check_every=opts.check_every, store=plan.store)
        del rhs
        for j, g in enumerate(grp):
            mine = sols[j * len(ops):(j + 1) * len(ops)]
            for s in mine:
                if s.n_iter:
                    res_max, n_int = max(res_max, float(s.residual.max())), max(n_int, s.n_iter)
            e_g, p_g = float(ini.energies[g]), float(ini.weights[g])
            for blk in blocks:
                # χ_c(ω) = T_c† ψ_c(ω) on the initial sector, every channel and ω of the block as columns
                chi = np.concatenate([apply_real(ops_t[c], np.ascontiguousarray(mine[c].x[blk].T))
                                      for c in range(len(ops))], axis=1)
                omega_of = np.tile(blk, len(ops))
                cols, rep = _real_columns(chi, split, h_f.shape[0] != h_i.shape[0])
                del chi
                omega_of = np.tile(omega_of, rep)
                live = np.linalg.norm(cols, axis=0) > 0
                cols, omega_of = np.ascontiguousarray(cols[:, live]), omega_of[live]
                if not omega_of.size:
                    continue
                quad = lanczos_broadened(h_f, cols, probes=probes + e_g, lorentz_fwhm=lorentz, gauss_fwhm=res,
                                         max_iter=opts.max_final, tol=opts.final_tol, check_every=opts.check_every)
                del cols
                bound_max = max(bound_max, float(np.max(quad.bound, initial=0.0)))
                n_fin = max(n_fin, int(quad.n_iter.max(initial=0)))
                for k in np.unique(omega_of):
                    idx = np.flatnonzero(omega_of == k)
                    nodes = np.concatenate([quad.nodes[c] for c in idx])
                    wts = p_g * np.concatenate([quad.weights[c] for c in idx])
                    inside = nodes - e0 <= max_loss                # the dense map's final-state window
                    sticks[k].append((nodes[inside] - e_g, wts[inside]))
        del sols
    # the dense map's line shape: Lorentzian sticks on the loss grid, the resolution Gaussian on that grid
    on_loss = np.zeros((exc.size, loss.size))
    on_loss_el = np.zeros((exc.size, loss.size))
    for k in range(exc.size):
        if not sticks[k]:
            continue
        pos = np.concatenate([s[0] for s in sticks[k]])
        wts = np.concatenate([s[1] for s in sticks[k]])
        pos, wts = _merge(pos, wts)
        el = np.abs(pos) < _ELASTIC_TOL
        on_loss[k] = broadening.broaden_sticks(loss, pos, wts, lorentz)
        if el.any():
            on_loss_el[k] = broadening.broaden_sticks(loss, pos[el], wts[el], lorentz)
    on_loss = broadening.gaussian_convolve(loss, on_loss, res)
    on_loss_el = broadening.gaussian_convolve(loss, on_loss_el, res)
    coherent, elastic = coherent_on_emission(edge, exc, emi, loss, on_loss, on_loss_el)
    total = coherent
    if fw:
        mu = krylov_oxygen_k_xas(edge, exc, t, xas_gauss_fwhm, krylov=krylov, memory_gb=memory_gb).intensity
        xes = krylov_lattice_emission(edge, emi, t, band_fwhm, memory_gb=memory_gb).intensity
        total = coherent + fw * mu[:, None] * xes[None, :]
    meta = {"temperature_k": temperature_k, "final_fwhm": ff, "resolution_fwhm": res, "band_fwhm": band_fwhm,
            "fluorescence_weight": fluorescence_weight, "method": "krylov", "residual_max": res_max,
            "krylov_intermediate": n_int, "krylov_final": n_fin, "final_bound_max": bound_max, "n_initial": n_g,
            "initial_residual_max": float(ini.residuals.max()), "predicted_bytes": plan.total,
            "store": plan.store, "omega_block": plan.omega_block, "dim_initial": int(h_i.shape[0]),
            "dim_core": int(h_m.shape[0]), "seconds": time.perf_counter() - t0}
    return RixsMap(exc, emi, total, elastic=elastic, label=f"{edge.model.name} lattice-oxygen O K mRIXS", meta=meta)

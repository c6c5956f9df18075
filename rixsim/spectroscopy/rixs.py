"""Resonant inelastic X-ray scattering maps from the Kramers–Heisenberg formula.

Physics
-------
For initial (thermally populated) eigenstates g with Boltzmann weights p_g, intermediate (core-excited)
states m and final states f (all eigenstates of the initial Hamiltonian), the scattering tensor is

.. math::

    F_{ba}(\\omega; f, g) = \\sum_m \\frac{\\langle f|T_b^\\dagger|m\\rangle \\langle m|T_a|g\\rangle}
                                {\\omega - (E_0 + E_m - E_g) + i\\Gamma_m/2}
                        = \\sum_m \\frac{D^*_{bmf} D_{amg}}{\\omega - (E_0 + E_m - E_g) + i\\Gamma_m/2},

with ``D = EdgeTransitions.dipole``, ``E_0 = edge_offset`` and Γ_m the intermediate-state Lorentzian FWHM.
The amplitude of a polarisation channel is ``A = Σ_ab ε_out,b* ε_in,a F_ba`` and the map is

.. math::

    I(\\omega, \\ell) = \\sum_g p_g \\sum_f |A_{fg}(\\omega)|^2 \\, V(\\ell - (E_f - E_g);
                          \\Gamma_f, \\sigma_{\\rm res}),

``ℓ = ω − ω_out`` the energy loss and V a unit-area Voigt profile of Lorentzian FWHM ``final_fwhm`` (final-state
lifetime, applied to every final state alike, including the elastic line) and Gaussian FWHM
``resolution_fwhm`` (spectrometer).  Polarisation, sample orientation and the exact powder average enter
through :class:`rixsim.spectroscopy.geometry.PolarizationChannels`.

Elastic line: pairs (f, g) with ``|E_f − E_g| < elastic_tol`` (f = g and states degenerate with g).  It is
part of ``RixsMap.intensity`` and also returned alone in ``RixsMap.elastic``.

Energies: ``excitation`` and ``emission`` are absolute photon energies in eV (``edge_offset + E_m − E_g`` is
the absolute resonance energy); ``loss`` is an energy loss in eV (excitation − emission).

Speed and memory
----------------
Final states are processed in chunks and, within a chunk, incident energies in blocks.  For a block the
resonance denominators fill ``M[m, (ω, v, g)]``; one complex GEMM with the polarisation-contracted emission
dipoles ``Dout[(u, f), m]`` gives every amplitude of the block; a numba kernel turns amplitudes into channel
intensities ``W[ω, f, g]``.  The loss broadening of the chunk is a second (real) GEMM, ``W @ B`` with the
stick matrix ``B[(f, g), ℓ]``, itself chunked over (f, g), added into the map.  Only final states within the
requested loss range (± ``margin_fwhm`` total line widths) are kept.  Chunk and block sizes follow from
``memory_gb`` via :func:`plan_memory`, so the working set does not grow with the basis size.  When every
Cartesian dipole component is a real matrix times a phase (real eigenvectors — the usual case without
magnetic fields, see :func:`real_phases`) and two or more outgoing polarisations are summed, the emission
GEMM runs as a real DGEMM on the interleaved real and imaginary parts of M (half the floating-point work).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from rixsim import memory, validate
from rixsim import progress as rprogress
from rixsim.cluster.transitions import EdgeTransitions
from rixsim.errors import InputError, MemoryBudgetError
from rixsim.results import RixsMap, Spectrum
from rixsim.spectroscopy import _kh_kernels as kk
from rixsim.spectroscopy.broadening import stick_matrix
from rixsim.spectroscopy.geometry import (
    PolarizationChannels,
    ScatteringGeometry,
    isotropic_channels,
    polarization_channels,
)

__all__ = ["rixs_map", "rixs_spectrum", "scattering_tensor", "ScatteringTensor", "constant_emission_cut",
           "constant_loss_cut", "plan_memory", "MemoryPlan"]

log = logging.getLogger(__name__)

#: final states farther than this many total line widths outside the loss range are dropped (a Lorentzian
#: tail at 20 FWHM is 1/1600 of its peak)
WINDOW_MARGIN_FWHM = 20.0
_BYTES_C = 16
_BYTES_F = 8


# ----------------------------------------------------------------------------------------- memory
@dataclass(frozen=True)
class MemoryPlan:
    """How a map is cut into pieces to stay within a memory budget (bytes are estimates of live arrays).

    The map is built one chunk of final states at a time (amplitudes → channel intensities → broadened and
    added to the map), and within a chunk one block of incident energies per GEMM.

    Attributes
    ----------
    block : int
        Incident energies per amplitude GEMM.
    final_chunk : int
        Final states per chunk.
    pair_chunk : int
        (f, g) pairs per broadening GEMM.
    bytes_fixed : int
        Arrays alive for the whole map (incident dipoles, map and elastic part with their gathered copies).
    bytes_final_chunk : int
        Per final-state chunk: contracted emission dipoles (with temporaries) and channel intensities.
    bytes_per_energy : int
        Block arrays per incident energy (denominators, amplitudes, intensities) at ``final_chunk``.
    bytes_sticks : int
        Stick-matrix chunk, scipy's temporaries and the selected weight columns.
    bytes_total : int
        Estimated peak: fixed + final chunk + ``block × per_energy`` + sticks.
    budget_bytes : int
    """

    block: int
    final_chunk: int
    pair_chunk: int
    bytes_fixed: int
    bytes_final_chunk: int
    bytes_per_energy: int
    bytes_sticks: int
    bytes_total: int
    budget_bytes: int


def plan_memory(n_excitation: int, n_second: int, n_intermediate: int, n_final: int, n_initial: int,
                n_out: int = 3, n_in: int = 3, memory_gb: float = 1.0) -> MemoryPlan:
    """Choose final-state chunk, incident-energy block and stick chunk so the working set fits ``memory_gb``.

    Parameters
    ----------
    n_excitation, n_second : int
        Map size: incident energies × points on the loss (or internal loss) axis.
    n_intermediate, n_final, n_initial : int
        Intermediate states, final states kept, populated initial states.
    n_out, n_in : int
        Polarisation vectors of the channel set (3 and 3 for powder/isotropic).
    memory_gb : float
        Budget in GB (1e9 bytes).  The input ``EdgeTransitions`` itself is not counted.

    Raises
    ------
    InputError
        When even one incident energy and one final state per block do not fit (the map, the incident
        dipoles and one of everything else exceed the budget).
    """
    budget = int(validate.nonnegative(memory_gb, "memory_gb", "GB") * 1e9)
    n_m, n_f, n_g = n_intermediate, max(n_final, 1), n_initial
    n_pairs = n_f * n_g
    fixed = (_BYTES_C * n_in * n_m * n_g                   # contracted incident dipoles
             + 4 * _BYTES_F * n_excitation * n_second)     # map, elastic part, gathered copies, their sum
    # per final state of a chunk: n_out contracted emission rows + one extracted component and its
    # conjugate, and the channel intensities W[ω, f, g] of every incident energy
    per_final = _BYTES_C * (n_out + 2) * n_m + _BYTES_F * n_excitation * n_g
    # stick matrix + voigt temporaries, and the selected weight columns, per (f, g) pair of a chunk
    per_pair = 4 * _BYTES_F * max(n_second, 1) + _BYTES_F * n_excitation

    def energy_bytes(fc):        # M + amplitudes + W block, per incident energy
        return _BYTES_C * n_m * n_in * n_g + _BYTES_C * n_out * fc * n_in * n_g + _BYTES_F * fc * n_g

    avail = budget - fixed
    if avail < per_final + energy_bytes(1) + per_pair:
        need = (fixed + per_final + energy_bytes(1) + per_pair) / 1e9
        raise MemoryBudgetError(f"memory_gb={memory_gb!r} is too small for this map; at least {need:.3g} GB "
                                f"needed ({n_excitation} incident × {n_second} loss points, {n_m} intermediate, "
                                f"{n_final} final, {n_g} initial states)")
    pair_chunk = int(min(n_pairs, max(1, (avail // 4) // per_pair)))
    sticks = pair_chunk * per_pair
    rest = avail - sticks
    f_chunk = int(max(1, min(n_f, (rest // 2) // per_final)))
    while f_chunk > 1 and f_chunk * per_final + energy_bytes(f_chunk) > rest:
        f_chunk = max(1, f_chunk // 2)
    block = int(max(1, min(n_excitation, (rest - f_chunk * per_final) // energy_bytes(f_chunk))))
    total = fixed + f_chunk * per_final + block * energy_bytes(f_chunk) + sticks
    return MemoryPlan(block, f_chunk, pair_chunk, int(fixed), int(f_chunk * per_final),
                      int(energy_bytes(f_chunk)), int(sticks), int(total), budget)


# ------------------------------------------------------------------------------------- validation
def _check_transitions(transitions) -> EdgeTransitions:
    if not isinstance(transitions, EdgeTransitions):
        raise InputError(f"transitions must be an EdgeTransitions; got {type(transitions).__name__}")
    return transitions


def _channels(geometry, polarization_in, polarization_out, powder) -> PolarizationChannels:
    if isinstance(geometry, PolarizationChannels):
        if polarization_in is not None or polarization_out is not None or powder:
            raise InputError("a PolarizationChannels geometry already fixes polarisation and averaging")
        return geometry
    if geometry is not None and not isinstance(geometry, ScatteringGeometry):
        raise InputError(f"geometry must be a ScatteringGeometry or PolarizationChannels; got {geometry!r}")
    if not isinstance(powder, (bool, np.bool_)):
        raise InputError(f"powder must be True or False; got {powder!r}")
    if geometry is None and polarization_in is None and polarization_out is None:
        return isotropic_channels()
    return polarization_channels(geometry, polarization_in, polarization_out, bool(powder))


def _voigt_fwhm(lorentz_fwhm: float, gauss_fwhm: float) -> float:
    # Olivero & Longbothum, JQSRT 17, 233 (1977): accurate to 0.02 %
    return 0.5346 * lorentz_fwhm + np.sqrt(0.2166 * lorentz_fwhm**2 + gauss_fwhm**2)


# ------------------------------------------------------------------------------------- the engine
def _emission_dipoles(d, out_vectors, f_idx) -> np.ndarray:
    """``Dout[(u, f), m] = Σ_b out_vectors[u, b] conj(d[b, m, f])`` as a C-contiguous matrix."""
    n_u, n_m = out_vectors.shape[0], d.shape[1]
    dout = np.zeros((n_u, f_idx.size, n_m), dtype=complex)
    for b in range(3):
        if not np.any(out_vectors[:, b]):
            continue
        db = np.conj(d[b][:, f_idx].T)
        for u in range(n_u):
            if out_vectors[u, b] != 0:
                dout[u] += out_vectors[u, b] * db
    return dout.reshape(n_u * f_idx.size, n_m)


def _absorption_dipoles(d, in_vectors, g_idx) -> np.ndarray:
    """``Din[v, m, g] = Σ_a in_vectors[v, a] d[a, m, g]``."""
    return np.ascontiguousarray(np.einsum("va,amg->vmg", in_vectors, d[:, :, g_idx]))


def _sparse_coefficients(coefficients, weights):
    """Non-zero channel coefficients as (q, u, v, value) arrays sorted by q, plus the channel weights."""
    q, u, v = np.nonzero(coefficients)
    return (q.astype(np.int64), u.astype(np.int64), v.astype(np.int64),
            np.ascontiguousarray(coefficients[q, u, v]), np.ascontiguousarray(weights, dtype=float))


def real_phases(dipole, rtol: float = 1e-13):
    """Phases ``c_a`` (``|c_a| = 1``) with ``dipole[a] = c_a · (real matrix)`` for a = x, y, z, or None.

    Eigenvectors of a real Hamiltonian in a basis where T_x, T_z are real and T_y imaginary (complex
    spherical harmonics) give such dipoles; the emission GEMM can then be done in real arithmetic.
    """
    d = np.asarray(dipole)
    c = np.ones(3, dtype=complex)
    if not np.iscomplexobj(d):
        return c
    for a in range(3):
        mag = np.abs(d[a])
        if mag.size == 0 or mag.max() == 0:
            continue
        k = np.argmax(mag)
        ph = d[a].flat[k] / mag.flat[k]
        if np.max(np.abs((d[a] * np.conj(ph)).imag)) > rtol * mag.flat[k]:
            return None
        c[a] = ph
    return c


def _uses_real_emission(ch: PolarizationChannels, phases) -> bool:
    # a real (3·n_f × n_m) DGEMM on complex M costs 6 real multiplies per (f, m, column) against 4·n_out for
    # the complex GEMM with contracted rows: worth it from two outgoing vectors up
    return phases is not None and ch.out_vectors.shape[0] >= 2


def _channel_weights(tr, ch, omegas, f_idx, g_idx, block: int, done=None, phases=None) -> np.ndarray:
    """``W[ω, f, g]`` = channel intensity ``Σ_q w_q |A_q|²`` for the final states ``f_idx`` (no Boltzmann
    weight, no broadening), ``block`` incident energies per GEMM; ``done(n)`` is called after each block of
    ``n`` incident energies.

    With ``phases`` (from :func:`real_phases`) and two or more outgoing vectors, the emission side is done in
    the Cartesian basis with real matrices ``R_b = Re(conj(c_b) D_b)``: the GEMM becomes a real DGEMM on the
    interleaved real/imaginary parts of M, and ``conj(c_b)`` and the outgoing vectors move into the channel
    coefficients, ``C'[q, b, v] = conj(c_b) Σ_u C[q, u, v] U[u, b]``.
    """
    d = np.asarray(tr.dipole)
    n_m, n_f, n_g = tr.n_intermediate, f_idx.size, g_idx.size
    n_v = ch.in_vectors.shape[0]
    din = _absorption_dipoles(d, ch.in_vectors, g_idx)
    real = _uses_real_emission(ch, phases)
    if real:
        n_u = 3
        dout = np.empty((3, n_f, n_m))
        for b in range(3):
            dout[b] = (np.conj(phases[b]) * d[b][:, f_idx]).real.T
        dout = dout.reshape(3 * n_f, n_m)
        coef = np.einsum("quv,ub,b->qbv", ch.coefficients, ch.out_vectors, np.conj(phases))
        coef[np.abs(coef) < 1e-15 * max(np.abs(coef).max(), 1e-300)] = 0.0
    else:
        n_u = ch.out_vectors.shape[0]
        dout = _emission_dipoles(d, ch.out_vectors, f_idx)
        coef = ch.coefficients
    sparse = _sparse_coefficients(coef, ch.weights)
    e_m = np.ascontiguousarray(tr.intermediate_energies, dtype=float)
    hw_m = np.ascontiguousarray(0.5 * tr.intermediate_fwhm, dtype=float)
    e_g = np.ascontiguousarray(tr.initial_energies[g_idx], dtype=float)
    out = np.empty((omegas.size, n_f, n_g))
    m_buf = np.empty(n_m * block * n_v * n_g, dtype=complex)
    a_buf = np.empty(n_u * n_f * block * n_v * n_g, dtype=complex)
    w_buf = np.empty(block * n_f * n_g)
    for w0 in range(0, omegas.size, block):
        om = np.ascontiguousarray(omegas[w0:w0 + block])
        nb = om.size
        n_col = nb * n_v * n_g
        m_arr = m_buf[: n_m * n_col].reshape(n_m, nb, n_v, n_g)
        kk.resonance_block(din, e_m, hw_m, e_g, om, float(tr.edge_offset), m_arr)
        a_arr = a_buf[: n_u * n_f * n_col].reshape(n_u * n_f, n_col)
        if real:   # real × complex: one DGEMM on interleaved (re, im) columns, no copies
            np.matmul(dout, m_arr.reshape(n_m, n_col).view(np.float64), out=a_arr.view(np.float64))
        else:
            np.matmul(dout, m_arr.reshape(n_m, n_col), out=a_arr)
        w_arr = w_buf[: nb * n_f * n_g].reshape(nb, n_f, n_g)
        kk.channel_intensity(a_arr.reshape(n_u, n_f, nb, n_v, n_g), *sparse, w_arr)
        out[w0:w0 + nb] = w_arr
        if done is not None:
            done(nb)
    return out


def _broaden(weights, shifts, mask, axis, final_fwhm, resolution_fwhm, pair_chunk) -> np.ndarray:
    """``weights[:, mask] (n_ω, n_pairs) @ B (n_pairs, n_axis)`` with unit-area Voigt sticks at ``shifts``.

    The mask is applied chunk by chunk so ``weights`` is never copied whole.
    """
    out = np.zeros((weights.shape[0], axis.size))
    for start in range(0, shifts.size, pair_chunk):
        sl = slice(start, start + pair_chunk)
        sel = mask[sl]
        if sel.any():
            out += weights[:, sl][:, sel] @ stick_matrix(axis, shifts[sl][sel], final_fwhm, resolution_fwhm)
    return out


def _map_axes(excitation, loss, emission, final_fwhm, resolution_fwhm):
    """Checked axes and widths of a map, shared by the dense and the Krylov engine:
    (excitation, loss or None, emission or None, final Lorentzian FWHM, spectrometer Gaussian FWHM)."""
    exc = validate.energy_axis(excitation, "excitation")
    if (loss is None) == (emission is None):
        raise InputError("give exactly one of loss (relative, eV) or emission (absolute, eV)")
    loss_ax = None if loss is None else validate.energy_axis(loss, "loss")
    emi_ax = None if emission is None else validate.energy_axis(emission, "emission")
    fl = validate.width(final_fwhm, "final_fwhm")
    fg = validate.width(resolution_fwhm, "resolution_fwhm")
    if fl == 0 and fg == 0:
        raise InputError("final_fwhm and resolution_fwhm cannot both be 0 eV")
    return exc, loss_ax, emi_ax, fl, fg


def _second_axis(exc, loss, emission, total_fwhm):
    """Loss values to evaluate and how to map them onto the requested axis.

    Returns ``(grid, gather)``: ``gather(map_on_grid) -> map on the requested axis``.
    """
    if loss is not None:
        return loss, (lambda z: z)
    targets = exc[:, None] - emission[None, :]                  # loss of every map point
    uniq, inverse = np.unique(np.round(targets, 9), return_inverse=True)
    inverse = inverse.reshape(targets.shape)
    if uniq.size <= 4 * (exc.size + emission.size):
        # commensurate grids (or few rows): every needed loss value is evaluated exactly
        rows = np.arange(exc.size)[:, None]
        return uniq, (lambda z: z[rows, inverse])
    # otherwise: a fine internal loss grid and a cubic spline per row
    from scipy.interpolate import CubicSpline
    step = min(total_fwhm / 20.0, float(np.min(np.diff(emission))) if emission.size > 1 else total_fwhm)
    grid = np.arange(targets.min() - 2 * step, targets.max() + 3 * step, step)

    def gather(z):
        return np.array([CubicSpline(grid, z[i])(targets[i]) for i in range(exc.size)])
    return grid, gather


def rixs_map(transitions: EdgeTransitions, excitation, *, loss=None, emission=None, geometry=None,
             polarization_in=None, polarization_out=None, powder: bool = False, final_fwhm: float = 0.1,
             resolution_fwhm: float = 0.2, elastic: bool = True, elastic_tol: float = 1e-5,
             margin_fwhm: float | None = WINDOW_MARGIN_FWHM, memory_gb: float = 1.0,
             progress: bool | None = None, method: str = "auto", temperature_k: float | None = None,
             krylov=None, executor=None) -> RixsMap:
    """Kramers–Heisenberg mRIXS map on an absolute excitation axis and a loss or emission axis.

    Parameters
    ----------
    transitions : EdgeTransitions or ClusterModel
        Eigenstates and dipoles of the edge (``rixsim.cluster.model`` makes one), or the model itself, which
        lets ``method`` choose how to evaluate the formula.
    excitation : array_like
        Incident photon energies in eV (absolute), strictly increasing.
    loss, emission : array_like
        Exactly one: energy loss in eV (excitation − emission, relative) or absolute emitted photon energy
        in eV, strictly increasing.
    geometry : ScatteringGeometry, PolarizationChannels or None
        Scattering geometry (incident polarisation, scattering angle, sample orientation, analysed or
        unanalysed emission).  Without it, ``polarization_in`` / ``polarization_out`` give crystal-frame
        vectors; without any of them the map is isotropic (incident averaged, emission summed over x, y, z).
    powder : bool
        Exact average over crystallite orientations at the given geometry (rank decomposition).
    final_fwhm : float
        Lorentzian FWHM of every final state in eV (default 0.1, illustrative).
    resolution_fwhm : float
        Gaussian FWHM of the spectrometer in eV (default 0.2, illustrative: set your instrument's).
    elastic : bool
        Include the elastic line (then also returned in ``RixsMap.elastic``); False drops it.
    elastic_tol : float
        ``|E_f − E_g|`` (eV) below which a final state counts as elastic.
    margin_fwhm : float or None
        Final states whose loss lies more than this many total (Voigt) line widths outside the loss range
        are skipped (their Lorentzian tails are dropped: a tail at 20 FWHM is 1/1600 of the line's peak);
        None keeps every final state.
    memory_gb : float
        Working-set budget in GB (see :func:`plan_memory`).
    progress : bool or None
        Progress over incident energies (:mod:`rixsim.progress`): None (default) a bar when stderr is a
        terminal, else a line on the ``rixsim.progress`` logger every few seconds; True the same; False none.
    method : {"auto", "dense", "krylov"}
        With a model: ``dense`` diagonalises both sectors (:meth:`ClusterModel.transitions`), ``krylov``
        never does (:mod:`rixsim.spectroscopy.krylov`, for 10⁵–10⁶ states); ``auto`` takes Krylov above
        :data:`rixsim.spectroscopy.krylov.DENSE_LIMIT` core-excited states.  With transitions: dense only.
    temperature_k : float, optional
        With a model: temperature (K) of the initial states (default 0 K).  Transitions carry their own.
    krylov : KrylovOptions, optional
        Convergence controls of the Krylov engine (:class:`rixsim.spectroscopy.krylov.KrylovOptions`).
    executor : concurrent.futures-style executor, optional
        Krylov engine only: runs blocks of incident energies in parallel (identical result).

    Returns
    -------
    RixsMap
        ``intensity[i, j]`` in arb. units (``|dipole|²`` / eV² per eV of loss), ``meta`` holding the settings.

    .. math::  I(\\omega, \\ell) = \\sum_g p_g \\sum_f |A_{fg}(\\omega)|^2 V(\\ell - E_f + E_g)
    """
    if method not in ("auto", "dense", "krylov"):
        raise InputError(f"method must be 'auto', 'dense' or 'krylov'; got {method!r}")
    elastic = validate.flag(elastic, "elastic")
    if progress is not None:
        validate.flag(progress, "progress")
    if not isinstance(transitions, EdgeTransitions) and hasattr(transitions, "dipole_operators"):
        from rixsim.spectroscopy import krylov as _krylov
        model = transitions
        t_k = 0.0 if temperature_k is None else validate.nonnegative(temperature_k, "temperature_k", "K")
        if method == "krylov" or (method == "auto" and model.basis(True).dim > _krylov.DENSE_LIMIT):
            # the dense engine's axis, grid and width checks (and its warnings) before the Krylov engine starts
            exc_c, loss_c, emi_c, _, _ = _map_axes(excitation, loss, emission, final_fwhm, resolution_fwhm)
            validate.edge_axes_near(float(model.edge_offset), exc_c, loss_c, emi_c)
            return _krylov.krylov_rixs_map(
                model, excitation, loss=loss, emission=emission, geometry=geometry,
                polarization_in=polarization_in, polarization_out=polarization_out, powder=powder,
                final_fwhm=final_fwhm, resolution_fwhm=resolution_fwhm, elastic=elastic, elastic_tol=elastic_tol,
                margin_fwhm=margin_fwhm, memory_gb=memory_gb, progress=progress, temperature_k=t_k,
                krylov=krylov, executor=executor)
        transitions = model.transitions(temperature_k=t_k)
    elif method == "krylov" or temperature_k is not None:
        raise InputError("method='krylov' and temperature_k need a model, not precomputed transitions")
    tr = _check_transitions(transitions)
    exc, loss_ax, emi_ax, fl, fg = _map_axes(excitation, loss, emission, final_fwhm, resolution_fwhm)
    tol = validate.nonnegative(elastic_tol, "elastic_tol", "eV")
    ch = _channels(geometry, polarization_in, polarization_out, powder)
    total_fwhm = _voigt_fwhm(fl, fg)
    validate.rixs_axes_near(tr, exc, loss_ax, emi_ax)
    memory.plan(48 * exc.size * (emi_ax.size if emi_ax is not None else loss_ax.size),  # map + emission→loss grid
                f"a RIXS map of {exc.size} × {(emi_ax if emi_ax is not None else loss_ax).size} points", memory_gb)

    grid, gather = _second_axis(exc, loss_ax, emi_ax, total_fwhm)
    g_idx = tr.populated
    e_i = tr.initial_energies
    if margin_fwhm is None:
        margin = np.inf
    else:
        margin = validate.nonnegative(margin_fwhm, "margin_fwhm") * total_fwhm
    lo = e_i[g_idx].min() + grid[0] - margin
    hi = e_i[g_idx].max() + grid[-1] + margin
    f_idx = np.flatnonzero((e_i >= lo) & (e_i <= hi))
    phases = real_phases(tr.dipole)
    n_u = 3 if _uses_real_emission(ch, phases) else ch.out_vectors.shape[0]
    n_v = ch.in_vectors.shape[0]
    n_second = max(grid.size, loss_ax.size if loss_ax is not None else emi_ax.size)
    plan = plan_memory(exc.size, n_second, tr.n_intermediate, f_idx.size, g_idx.size, n_u, n_v, memory_gb)
    log.debug("rixs_map: %d incident × %d loss points, %d intermediate, %d final, %d initial; %s",
              exc.size, grid.size, tr.n_intermediate, f_idx.size, g_idx.size, plan)

    inel = np.zeros((exc.size, grid.size))
    el = np.zeros((exc.size, grid.size)) if elastic else None
    chunks = range(0, f_idx.size, plan.final_chunk)
    # counts incident energies: each chunk of final states adds its share of every energy it has done
    bar = rprogress.counter("RIXS map", total=exc.size, unit="incident energies", requested=progress,
                            start=f"{exc.size} incident energies × {grid.size} loss points, "
                                  f"{f_idx.size} final states in {len(chunks)} chunk(s)")
    share = 1.0 / max(len(chunks), 1)
    p_g = tr.initial_weights[g_idx]
    with bar:
        for f0 in chunks:
            fc_idx = f_idx[f0:f0 + plan.final_chunk]
            w = _channel_weights(tr, ch, exc, fc_idx, g_idx, plan.block, lambda nb: bar.update(nb * share),
                                 phases)
            w *= p_g[None, None, :]
            w = w.reshape(exc.size, -1)
            shifts = (e_i[fc_idx][:, None] - e_i[g_idx][None, :]).ravel()
            is_el = np.abs(shifts) < tol
            inel += _broaden(w, shifts, ~is_el, grid, fl, fg, plan.pair_chunk)
            if elastic:
                el += _broaden(w, shifts, is_el, grid, fl, fg, plan.pair_chunk)
            del w
    inel = gather(inel)
    if elastic:
        el = gather(el)
        z = inel + el
    else:
        z = inel
    meta = dict(final_fwhm=fl, resolution_fwhm=fg, channels=ch.label, powder=bool(powder), method="dense",
                elastic=bool(elastic), elastic_tol=tol, temperature_k=tr.temperature_k,
                n_final=int(f_idx.size), n_initial=int(g_idx.size), block=plan.block,
                transitions_meta=dict(tr.meta))
    label = f"RIXS map ({ch.label})"
    if loss_ax is not None:
        return RixsMap(exc, None, z, loss=loss_ax, elastic=el, label=label, meta=meta)
    return RixsMap(exc, emi_ax, z, elastic=el, label=label, meta=meta)


def rixs_spectrum(transitions: EdgeTransitions, excitation_energy: float, *, loss=None, emission=None,
                  **kwargs) -> Spectrum:
    """One RIXS spectrum at ``excitation_energy`` (absolute, eV) on a loss (relative) or emission axis.

    Keywords are those of :func:`rixs_map`.  ``Spectrum.relative`` is True on a loss axis.
    """
    e = validate.number(excitation_energy, "excitation_energy", "eV")
    rmap = rixs_map(transitions, [e], loss=loss, emission=emission, **kwargs)
    axis = rmap.loss if rmap.on_loss_axis else rmap.emission
    meta = dict(rmap.meta, excitation_energy=e, axis="loss" if rmap.on_loss_axis else "emission")
    if rmap.elastic is not None:
        meta["elastic"] = rmap.elastic[0].copy()
    return Spectrum(axis, rmap.intensity[0], label=f"RIXS at {e:g} eV ({rmap.meta['channels']})",
                    relative=rmap.on_loss_axis, meta=meta)


# --------------------------------------------------------------------------------- scattering tensor
@dataclass(frozen=True, eq=False)
class ScatteringTensor:
    """``tensor[ω, f, g, b, a] = F_ba(ω; f, g)`` in the crystal frame (eV⁻¹ × ``|dipole|²``).

    Attributes
    ----------
    excitation : (n_ω,) absolute incident energies, eV
    final_index, initial_index : indices into ``EdgeTransitions.initial_energies``
    tensor : (n_ω, n_f, n_g, 3, 3) complex
    """

    excitation: np.ndarray
    final_index: np.ndarray
    initial_index: np.ndarray
    tensor: np.ndarray
    meta: Mapping[str, Any] = field(default_factory=dict)


def scattering_tensor(transitions: EdgeTransitions, excitation, *, final=None, initial=None,
                      memory_gb: float = 1.0) -> ScatteringTensor:
    """The Cartesian scattering tensor F_ba(ω; f, g) of the module formula, for small problems.

    ``final`` / ``initial``: indices of initial-Hamiltonian eigenstates (default: all / the populated ones).
    """
    tr = _check_transitions(transitions)
    exc = validate.energy_axis(excitation, "excitation")
    n = tr.n_initial

    def _idx(val, default, name):
        if val is None:
            return default
        idx = np.atleast_1d(np.asarray(val))
        if idx.ndim != 1 or idx.dtype.kind not in "iu" or (idx < 0).any() or (idx >= n).any():
            raise InputError(f"{name} must be indices in [0, {n}); got {val!r}")
        return idx.astype(np.int64)
    f_idx = _idx(final, np.arange(n), "final")
    g_idx = _idx(initial, tr.populated, "initial")
    # channel set whose amplitudes G[u=b, v=a] are the Cartesian components themselves
    ch = PolarizationChannels(np.eye(3), np.eye(3), np.eye(9).reshape(9, 3, 3), np.ones(9), "cartesian")
    plan = plan_memory(exc.size, 1, tr.n_intermediate, f_idx.size, g_idx.size, 3, 3, memory_gb)
    d = np.asarray(tr.dipole)
    dout, din = _emission_dipoles(d, ch.out_vectors, f_idx), _absorption_dipoles(d, ch.in_vectors, g_idx)
    e_m = np.ascontiguousarray(tr.intermediate_energies, dtype=float)
    hw_m = np.ascontiguousarray(0.5 * tr.intermediate_fwhm, dtype=float)
    e_g = np.ascontiguousarray(tr.initial_energies[g_idx], dtype=float)
    out = np.empty((exc.size, f_idx.size, g_idx.size, 3, 3), dtype=complex)
    for start in range(0, exc.size, plan.block):
        om = exc[start:start + plan.block]
        m_arr = np.empty((tr.n_intermediate, om.size, 3, g_idx.size), dtype=complex)
        kk.resonance_block(din, e_m, hw_m, e_g, np.ascontiguousarray(om), float(tr.edge_offset), m_arr)
        amp = (dout @ m_arr.reshape(tr.n_intermediate, -1)).reshape(3, f_idx.size, om.size, 3, g_idx.size)
        out[start:start + om.size] = amp.transpose(2, 1, 4, 0, 3)       # [ω, f, g, b, a]
    return ScatteringTensor(exc, f_idx, g_idx, out)


# ------------------------------------------------------------------------------------------- cuts
def _band(x, y, lo, hi) -> float:
    """Integral of the piecewise-linear ``y(x)`` over [lo, hi] (lo, hi inside the range of x)."""
    inner = x[(x > lo) & (x < hi)]
    pts = np.concatenate(([lo], inner, [hi]))
    return float(np.trapezoid(np.interp(pts, x, y), pts))


def _cut(rmap: RixsMap, centers: np.ndarray, window: float, what: str, label: str, meta) -> Spectrum:
    axis = rmap.loss if rmap.on_loss_axis else rmap.emission
    half = 0.5 * window
    ok = (centers - half >= axis[0] - 1e-12) & (centers + half <= axis[-1] + 1e-12)
    if not ok.any():
        raise InputError(f"the {what} cut ({label}) lies outside the map's second axis "
                         f"[{axis[0]:g}, {axis[-1]:g}] eV at every excitation energy")
    vals = []
    for i in np.flatnonzero(ok):
        row = rmap.intensity[i]
        c = centers[i]
        vals.append(np.interp(c, axis, row) if window == 0 else
                    _band(axis, row, max(c - half, axis[0]), min(c + half, axis[-1])))
    return Spectrum(rmap.excitation[ok], np.array(vals), label=label,
                    units=rmap.units if window == 0 else rmap.units + " × eV", meta=meta)


def constant_emission_cut(rmap: RixsMap, emission_energy: float, window: float = 0.0) -> Spectrum:
    """Intensity at fixed emitted photon energy (absolute, eV) versus excitation — an sPFY-like cut.

    ``window`` (eV, full width) > 0 integrates the emission over ``emission_energy ± window/2`` (partial
    fluorescence yield over that band); 0 takes the interpolated value.  Excitation energies where the cut
    leaves the map are omitted.
    """
    if not isinstance(rmap, RixsMap):
        raise InputError(f"rmap must be a RixsMap; got {type(rmap).__name__}")
    e = validate.nonnegative(emission_energy, "emission_energy", "eV")
    w = validate.width(window, "window")
    centers = rmap.excitation - e if rmap.on_loss_axis else np.full(rmap.excitation.size, e)
    return _cut(rmap, centers, w, "constant-emission", f"constant emission {e:g} eV",
                dict(rmap.meta, emission_energy=e, window=w))


def constant_loss_cut(rmap: RixsMap, loss_energy: float, window: float = 0.0) -> Spectrum:
    """Intensity at fixed energy loss (eV, relative) versus excitation; ``window`` as in
    :func:`constant_emission_cut`."""
    if not isinstance(rmap, RixsMap):
        raise InputError(f"rmap must be a RixsMap; got {type(rmap).__name__}")
    l = validate.number(loss_energy, "loss_energy", "eV")
    w = validate.width(window, "window")
    centers = np.full(rmap.excitation.size, l) if rmap.on_loss_axis else rmap.excitation - l
    return _cut(rmap, centers, w, "constant-loss", f"constant loss {l:g} eV",
                dict(rmap.meta, loss_energy=l, window=w))

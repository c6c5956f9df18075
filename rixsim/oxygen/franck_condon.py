"""Vibrational levels and Franck–Condon overlaps of the vibronic model, and the vibronic structure
(levels, Boltzmann populations, overlaps) that the Kramers–Heisenberg kernels use.

Basis conventions (the one place they are written down)
-------------------------------------------------------
Every state is diagonalised in one truncated basis of ground harmonic-oscillator functions :math:`|k\\rangle`,
k = 0 … N−1, with :math:`x = (a + a^\\dagger)/\\sqrt2`.  The kinetic energy :math:`\\frac{\\omega_g}{2}p^2` is
used exactly (non-zero on k and k±2); potentials are evaluated in the harmonic-oscillator discrete variable
representation (the Gauss–Hermite nodes are the eigenvalues of the truncated x matrix).  Franck–Condon
overlaps are products of eigenvector matrices (GEMM) — no factorials.  The basis grows (by half) until every
level used has less than 1e-12 of its weight in the top eighth of the basis, and until the kept levels
exhaust the Franck–Condon sum rules to 1e-10 / 1e-8 (see :func:`vibronic_structure`); otherwise
:class:`~rixsim.errors.ConvergenceError`.  Eigenvector signs are fixed by making the largest component
positive; no intensity depends on that choice.
"""
from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, replace

import numpy as np

from rixsim.errors import ConvergenceError, InputError
from rixsim.oxygen.potentials import (
    _BOLTZMANN_CUTOFF,
    _CONTINUUM_BASIS,
    _CONTINUUM_TOL,
    _FC_SUM_TOL,
    _FINAL_SUM_TOL,
    _K_B_EV_PER_K,
    _MAX_BASIS,
    _TAIL_TOL,
    FinalChannel,
    Potential,
    VibronicModel,
    _as_model,
    _positive,
    _potential_values,
)

__all__ = ["vibrational_energies", "franck_condon", "VibronicStructure", "vibronic_structure"]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------------------
# Vibrational levels and Franck–Condon overlaps (kernels: arrays and scalars in, arrays out)
# --------------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _ho_basis(n: int):
    """Kinetic matrix p²/2 (exact), DVR nodes x_k and the transform U (x = U diag(x_k) Uᵀ) of an n-function basis."""
    k = np.arange(n, dtype=float)
    off1 = np.sqrt(k[1:] / 2.0)
    x = np.diag(off1, 1) + np.diag(off1, -1)
    nodes, u = np.linalg.eigh(x)
    # p² = (2k+1)/2 on the diagonal, −sqrt((k+1)(k+2))/2 on the second off-diagonals
    p2 = np.diag(k + 0.5)
    off2 = -0.5 * np.sqrt((k[:-2] + 1.0) * (k[:-2] + 2.0))
    p2 += np.diag(off2, 2) + np.diag(off2, -2)
    half_p2 = 0.5 * p2
    for a in (half_p2, nodes, u):
        a.setflags(write=False)
    return half_p2, nodes, u



@functools.lru_cache(maxsize=64)
def _diagonalise(pot: Potential, ground_frequency: float, n: int):
    """Lowest n/2 eigenpairs of one state in the n-function basis: (energies from the minimum, vectors (n, n/2),
    H, tails)."""
    half_p2, nodes, u = _ho_basis(n)
    v = _potential_values(pot, nodes, ground_frequency)
    h = ground_frequency * half_p2 + (u * v) @ u.T
    h = 0.5 * (h + h.T)
    # Only the lower half of the spectrum can be converged in an n-function basis: compute just that.
    m = max(8, n // 2)
    eps, c = np.linalg.eigh(h)
    eps, c = eps[:m].copy(), c[:, :m].copy()
    big = np.argmax(np.abs(c), axis=0)
    c *= np.sign(c[big, np.arange(m)])
    top = max(4, n // 8)
    tails = np.sum(c[n - top:, :] ** 2, axis=0)
    for a in (eps, c, h, tails):
        a.setflags(write=False)
    return eps, c, h, tails


def _basis_guess(pots, ground_frequency: float, n_levels: int = 0) -> int:
    """Starting basis size (the basis grows if it is too small): room for the displacements and the levels."""
    need = 0.0
    for p in pots:
        ratio = max(ground_frequency / p.frequency, p.frequency / ground_frequency)
        need = max(need, 0.5 * (abs(p.displacement) + 6.0) ** 2 + 1.5 * n_levels * ratio)
    return int(max(64, min(_MAX_BASIS, 32 * math.ceil((need + 16) / 32))))


def _grow(n: int) -> int:
    return min(_MAX_BASIS, 32 * math.ceil(1.5 * n / 32))


def _n_bound(pot: Potential) -> int:
    """Number of bound Morse levels (levels with n < ωe/(2ωe·xe) − 1/2)."""
    return int(math.floor(pot.frequency / (2.0 * pot.anharmonicity) - 0.5)) + 1


def _check_levels(name: str, pot: Potential, eps, tails, count: int) -> bool:
    if pot.is_morse:
        n_bound = _n_bound(pot)
        if count > n_bound:
            raise ConvergenceError(f"{name}: {count} Morse levels needed but only {n_bound} are bound (dissociation "
                                   f"energy {pot.dissociation_energy:.4g} eV); reduce the displacement, the "
                                   f"temperature or the anharmonicity")
    if count > eps.size:
        return False
    return not np.any(tails[:count] > _TAIL_TOL)


def vibrational_energies(potential: Potential, ground_frequency: float, n_levels: int,
                         basis_size: int | None = None) -> np.ndarray:
    """Lowest ``n_levels`` vibrational energies of ``potential``, eV, relative to its level 0.

    Diagonalises in the ground harmonic-oscillator basis (see module docstring), growing the basis until the
    levels are converged.  Harmonic: n·ωe; Morse: ωe·n − ωe·xe·n(n+1).
    """
    wg = _positive(ground_frequency, "ground_frequency")
    n_levels = _count(n_levels, "n_levels")
    n = basis_size or _basis_guess([potential], wg, n_levels)
    while True:
        eps, c, h, tails = _diagonalise(potential, wg, n)
        if _check_levels("potential", potential, eps, tails, n_levels):
            return eps[:n_levels] - eps[0]
        if basis_size is not None or n >= _MAX_BASIS:
            raise ConvergenceError(f"{n_levels} levels not converged in a basis of {n} functions")
        n = _grow(n)


def _count(value, name: str) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a positive integer; got {value!r}") from exc
    if v != value or v < 1:
        raise InputError(f"{name} must be a positive integer; got {value!r}")
    return v


def franck_condon(bra: Potential, ket: Potential, ground_frequency: float, n_bra: int, n_ket: int,
                  basis_size: int | None = None) -> np.ndarray:
    """Franck–Condon overlap matrix ``S[j, k] = <bra_j | ket_k>`` (real), shape ``(n_bra, n_ket)``.

    Both potentials are diagonalised in one ground harmonic-oscillator basis; the overlap is the product of the
    eigenvector matrices.  The basis grows until every returned level is converged (see module docstring).
    For equal harmonic frequencies and displacement x0, :math:`|S_{n0}|^2 = e^{-g}g^n/n!` with
    :math:`g = x_0^2/2` (``ket`` undisplaced).

    Parameters
    ----------
    bra, ket : Potential
    ground_frequency : float
        ω_g in eV, the frequency that defines the coordinate unit.
    n_bra, n_ket : int
        Number of levels of each.
    basis_size : int, optional
        Fix the basis size (no growth; ConvergenceError if too small).
    """
    wg = _positive(ground_frequency, "ground_frequency")
    n_bra, n_ket = _count(n_bra, "n_bra"), _count(n_ket, "n_ket")
    for name, p in (("bra", bra), ("ket", ket)):
        if not isinstance(p, Potential):
            raise InputError(f"{name} must be a Potential; got {p!r}")
    n = basis_size or _basis_guess([bra, ket], wg, max(n_bra, n_ket))
    while True:
        eb, cb, _, tb = _diagonalise(bra, wg, n)
        ek, ck, _, tk = _diagonalise(ket, wg, n)
        if _check_levels("bra", bra, eb, tb, n_bra) and _check_levels("ket", ket, ek, tk, n_ket):
            return cb[:, :n_bra].T @ ck[:, :n_ket]
        if basis_size is not None or n >= _MAX_BASIS:
            raise ConvergenceError(f"Franck–Condon overlaps not converged in a basis of {n} functions")
        n = _grow(n)


# --------------------------------------------------------------------------------------------------------------
# The vibronic structure: levels, populations, overlaps
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VibronicStructure:
    """Levels and Franck–Condon overlaps of a :class:`VibronicModel`, converged and truncated.

    Attributes
    ----------
    ground_energies : ndarray (n_g,)
        Energies of the populated ground levels, eV, relative to ground level 0.
    ground_weights : ndarray (n_g,)
        Boltzmann populations (sum 1).
    intermediate_energies : ndarray (n_m,)
        Absolute photon energies (eV) of the transitions ground level 0 → intermediate level n.
    overlap_mg : ndarray (n_m, n_g)
        <n_m | i_g>.
    final_losses : ndarray (F,)
        Energy of every final level above ground level 0, eV (relative); ground-channel levels first.
    final_channel : ndarray of int (F,)
        Channel index of each final level: 0 = ground channel, c ≥ 1 = ``model.channels[c-1]``.
    final_level : ndarray of int (F,)
        Vibrational quantum number of each final level within its channel.
    overlap_fm : ndarray (F, n_m)
        <f | n_m>.
    channel_weights, channel_fwhm : ndarray (n_channels + 1,)
        Branching weight and final-state Lorentzian FWHM of each channel (ground channel first, FWHM 0).
    channel_names : tuple of str
    basis_size : int
    continuum_weight : ndarray (n_channels + 1,)
        Per channel, the population-weighted wave-packet norm not carried by the kept final levels because it
        lies in a Morse continuum (or in bound levels too close to dissociation to converge); 0 otherwise.
        At most 1e-3 — larger values raise :class:`~rixsim.errors.ConvergenceError`.
    elastic_mask : ndarray of bool (n_g, F)
        True where final level f is initial level i again (the elastic line).

    With extra modes, levels are product levels of all modes, ``final_level`` is the quantum number of the
    main mode, and product levels carrying negligible weight (cumulative < 1e-10 for intermediate, < 1e-9 for
    final levels) are dropped.
    """

    ground_energies: np.ndarray
    ground_weights: np.ndarray
    intermediate_energies: np.ndarray
    overlap_mg: np.ndarray
    final_losses: np.ndarray
    final_channel: np.ndarray
    final_level: np.ndarray
    overlap_fm: np.ndarray
    channel_weights: np.ndarray
    channel_fwhm: np.ndarray
    channel_names: tuple
    basis_size: int
    continuum_weight: np.ndarray
    elastic_mask: np.ndarray = None

    def __post_init__(self):
        if self.elastic_mask is None:
            mask = (self.final_channel[None, :] == 0) & (
                self.final_level[None, :] == np.arange(self.ground_energies.size)[:, None])
            object.__setattr__(self, "elastic_mask", mask)


def _boltzmann(e: np.ndarray, temperature_k: float) -> np.ndarray:
    if temperature_k == 0.0:
        p = np.zeros_like(e)
        p[0] = 1.0
        return p
    p = np.exp(-(e - e[0]) / (_K_B_EV_PER_K * temperature_k))
    return p / p.sum()


def _needed_count(cum_missing: np.ndarray, tol: float) -> int:
    """Smallest count k (>= 1) with cum_missing[k-1] <= tol, or cum_missing.size + 1 if none."""
    ok = np.flatnonzero(cum_missing <= tol)
    return int(ok[0]) + 1 if ok.size else cum_missing.size + 1


def _try_structure(model: VibronicModel, n: int, can_grow: bool = True):
    wg = model.ground.frequency
    eg, cg, _, tg = _diagonalise(model.ground, wg, n)
    p_all = _boltzmann(eg - eg[0], model.temperature_k) if model.temperature_k > 0 else None
    if p_all is None:
        n_g = 1
    else:
        n_g = int(np.count_nonzero(p_all / p_all[0] > _BOLTZMANN_CUTOFF))
    p = _boltzmann(eg[:n_g] - eg[0], model.temperature_k)
    em, cm, hm, tm = _diagonalise(model.intermediate, wg, n)
    s_mg_all = cm.T @ cg[:, :n_g]                                       # (N, n_g)
    missing = 1.0 - np.cumsum(s_mg_all**2, axis=0)                    # (N, n_g)
    n_m = _needed_count(missing @ p, _FC_SUM_TOL)
    if n_m > n:
        return None
    channel_pots = [model.ground] + [c.potential for c in model.channels]
    finals = []
    for ci, pot in enumerate(channel_pots):
        ef, cf, _, tf = (eg, cg, None, tg) if ci == 0 else _diagonalise(pot, wg, n)
        s_fm_all = cf.T @ cm[:, :n_m]                                  # (N, n_m)
        miss_f = 1.0 - np.cumsum(s_fm_all**2, axis=0)                 # (N, n_m): missing weight per n
        packet = miss_f @ (s_mg_all[:n_m] ** 2 @ p)                    # (N,)
        n_f = _needed_count(packet, _FINAL_SUM_TOL)
        lost = 0.0
        if pot.is_morse and n_f > _n_bound(pot):
            # The wave packet reaches the Morse continuum, which the model leaves out: keep the converged bound
            # levels and accept the missing weight if it is small.
            good = np.flatnonzero(tf[:min(_n_bound(pot), tf.size)] > _TAIL_TOL)
            n_f = int(good[0]) if good.size else min(_n_bound(pot), tf.size)
            lost = float(packet[n_f - 1]) if n_f > 0 else 1.0
            if can_grow and n_f < _n_bound(pot) and lost > _FINAL_SUM_TOL and n < _CONTINUUM_BASIS:
                return None          # a larger basis converges more of the bound levels
            if lost > _CONTINUUM_TOL:
                if n >= _MAX_BASIS or not can_grow:
                    raise ConvergenceError(
                        f"channel {ci} ({'ground' if ci == 0 else model.channels[ci - 1].name}): a fraction "
                        f"{lost:.2g} of the wave packet lies in the Morse continuum or in unconverged bound "
                        f"levels (allowed {_CONTINUUM_TOL:g}); reduce the displacement or the anharmonicity")
                return None
        finals.append((ef, cf, tf, n_f, lost))
    ok = (_check_levels("ground", model.ground, eg, tg, n_g)
          and _check_levels("intermediate", model.intermediate, em, tm, n_m))
    for pot, (ef, cf, tf, n_f, _) in zip(channel_pots, finals):
        ok = ok and _check_levels("final", pot, ef, tf, n_f)
    if not ok:
        return None
    # Ground-channel final levels must include every populated initial level (elastic lines).
    n_f0 = max(finals[0][3], n_g)
    finals[0] = finals[0][:3] + (n_f0, finals[0][4])
    if not _check_levels("ground", model.ground, eg, tg, n_f0):
        return None
    lost = np.array([f[4] for f in finals])
    if lost.max() > 0:
        logger.warning("vibronic model %r: Morse continuum / unconverged top bound levels left out; missing "
                       "wave-packet weight per channel %s (RIXS intensity lost by about that fraction)",
                       model.label, ", ".join(f"{x:.2g}" for x in lost))
    e_rel_g = eg - eg[0]
    mean_hm = float(cg[:, 0] @ hm @ cg[:, 0])
    e_m = model.vertical_excitation + em[:n_m] - mean_hm
    losses, chan, level, s_fm = [], [], [], []
    for ci, (ef, cf, tf, n_f, _) in enumerate(finals):
        loss0 = 0.0 if ci == 0 else model.channels[ci - 1].loss
        losses.append(loss0 + ef[:n_f] - ef[0])
        chan.append(np.full(n_f, ci))
        level.append(np.arange(n_f))
        s_fm.append(cf[:, :n_f].T @ cm[:, :n_m])
    weights = np.array([model.ground_channel_weight] + [c.weight for c in model.channels])
    fwhm = np.array([0.0] + [c.fwhm for c in model.channels])
    names = ("ground (elastic + vibrational progression)",) + tuple(c.name for c in model.channels)
    return VibronicStructure(e_rel_g[:n_g].copy(), p, e_m, s_mg_all[:n_m].copy(), np.concatenate(losses),
                             np.concatenate(chan), np.concatenate(level), np.concatenate(s_fm, axis=0),
                             weights, fwhm, names, n, lost)


def vibronic_structure(params, basis_size: int | None = None) -> VibronicStructure:
    """Converged levels and Franck–Condon overlaps of a model (or of parameters with ``.model()``).

    Kept levels (a Morse final state keeps at most its converged bound levels; see ``continuum_weight``):
    ground levels with Boltzmann weight above 1e-6 of level 0; intermediate levels until the
    population-weighted Franck–Condon sum :math:`\\sum_i p_i\\sum_n|\\langle n|i\\rangle|^2` misses < 1e-10;
    final levels of each channel until
    :math:`\\sum_{i,n} p_i|\\langle n|i\\rangle|^2 (1-\\sum_f|\\langle f|n\\rangle|^2)` < 1e-8.

    Results are cached per (model, basis_size); their arrays are read-only.
    """
    model = _as_model(params)
    if basis_size is not None:
        basis_size = _count(basis_size, "basis_size")
    return _cached_structure(model, basis_size)


@functools.lru_cache(maxsize=32)
def _cached_structure(model: VibronicModel, basis_size: int | None) -> VibronicStructure:
    s = _vibronic_structure(model, basis_size)
    for name in ("ground_energies", "ground_weights", "intermediate_energies", "overlap_mg", "final_losses",
                 "final_channel", "final_level", "overlap_fm", "channel_weights", "channel_fwhm",
                 "continuum_weight", "elastic_mask"):
        getattr(s, name).setflags(write=False)
    return s


def _vibronic_structure(model: VibronicModel, basis_size: int | None = None) -> VibronicStructure:
    if not model.modes:
        return _single_mode_structure(model, basis_size)
    main = _single_mode_structure(replace(model, modes=()), basis_size)
    parts = [main]
    for md in model.modes:
        finals = md.finals if md.finals is not None else (md.ground,) * len(model.channels)
        # A stand-in model for this coordinate alone: dummy vertical energy and losses (1 eV), removed below.
        sub = VibronicModel(ground=md.ground, intermediate=md.intermediate, vertical_excitation=1.0,
                            channels=tuple(FinalChannel(c.name, 1.0, f) for c, f in zip(model.channels, finals)),
                            core_hole_fwhm=model.core_hole_fwhm, spectrometer_fwhm=1.0,
                            temperature_k=model.temperature_k, label=f"mode {md.name}")
        parts.append(_cached_structure(sub, basis_size))
    return _combine_modes(main, parts[1:])


def _kron_index(*sizes):
    """Per-factor index arrays of the row-major product of ranges of the given sizes."""
    return [ix.ravel() for ix in np.meshgrid(*[np.arange(n) for n in sizes], indexing="ij")]


def _drop_smallest(weights: np.ndarray, tol: float) -> np.ndarray:
    """Indices (sorted) kept after dropping the smallest weights whose cumulative sum stays <= tol."""
    order = np.argsort(weights)
    drop = np.cumsum(weights[order]) <= tol
    drop[-1] = False
    return np.sort(order[~drop])


def _combine_modes(main: VibronicStructure, extras) -> VibronicStructure:
    """Product levels of separable modes: energies add, Franck–Condon overlaps multiply (Kronecker products)."""
    parts = [main] + list(extras)
    # ground
    gi = _kron_index(*[p.ground_energies.size for p in parts])
    ge = sum(p.ground_energies[ix] for p, ix in zip(parts, gi))
    gp = np.prod([p.ground_weights[ix] for p, ix in zip(parts, gi)], axis=0)
    kg = np.flatnonzero(gp / gp.max() > _BOLTZMANN_CUTOFF)
    ge, gp, gi = ge[kg], gp[kg] / gp[kg].sum(), [ix[kg] for ix in gi]
    # intermediate (extra modes carry a dummy vertical energy of 1 eV)
    mi = _kron_index(*[p.intermediate_energies.size for p in parts])
    me = main.intermediate_energies[mi[0]] + sum(p.intermediate_energies[ix] - 1.0
                                                 for p, ix in zip(parts[1:], mi[1:]))
    omg = np.prod([p.overlap_mg[ix][:, gix] for p, ix, gix in zip(parts, mi, gi)], axis=0)
    km = _drop_smallest(omg**2 @ gp, _FC_SUM_TOL)
    me, omg, mi = me[km], omg[km], [ix[km] for ix in mi]
    packet = omg**2 @ gp                                                # weight of each intermediate level
    losses, chan, level, ofm, elastic_rows = [], [], [], [], []
    n_channels = main.channel_weights.size
    for c in range(n_channels):
        rows = [np.flatnonzero(p.final_channel == c) for p in parts]
        fi = _kron_index(*[r.size for r in rows])
        rr = [r[ix] for r, ix in zip(rows, fi)]                          # row of each factor, per product level
        fl = main.final_losses[rr[0]] + sum(p.final_losses[r] - (1.0 if c > 0 else 0.0)
                                            for p, r in zip(parts[1:], rr[1:]))
        o = np.prod([p.overlap_fm[r][:, ix] for p, r, ix in zip(parts, rr, mi)], axis=0)
        kf = _drop_smallest(o**2 @ packet, 10 * _FINAL_SUM_TOL)
        if c == 0:   # keep every populated ground level as a possible final level (elastic lines)
            lv = [p.final_level[r] for p, r in zip(parts, rr)]
            is_init = np.zeros(fl.size, dtype=bool)
            for k in range(ge.size):
                is_init |= np.logical_and.reduce([lv_k == g_k[k] for lv_k, g_k in zip(lv, gi)])
            kf = np.union1d(kf, np.flatnonzero(is_init))
            lv = [x[kf] for x in lv]
            elastic_rows = np.logical_and.reduce([lv_k[None, :] == g_k[:, None] for lv_k, g_k in zip(lv, gi)])
        losses.append(fl[kf])
        chan.append(np.full(kf.size, c))
        level.append(main.final_level[rr[0][kf]])
        ofm.append(o[kf])
    f_total = sum(x.size for x in losses)
    elastic = np.zeros((ge.size, f_total), dtype=bool)
    elastic[:, :losses[0].size] = elastic_rows
    return VibronicStructure(ge, gp, me, omg, np.concatenate(losses), np.concatenate(chan),
                             np.concatenate(level), np.concatenate(ofm, axis=0), main.channel_weights.copy(),
                             main.channel_fwhm.copy(), main.channel_names, main.basis_size,
                             np.sum([p.continuum_weight for p in parts], axis=0), elastic)


def _single_mode_structure(model: VibronicModel, basis_size: int | None = None) -> VibronicStructure:
    """Grow the basis until :func:`_try_structure` succeeds."""
    pots = [model.ground, model.intermediate] + [c.potential for c in model.channels]
    n = basis_size or _basis_guess(pots, model.ground.frequency)
    while True:
        s = _try_structure(model, n, can_grow=basis_size is None)
        if s is not None:
            logger.debug("vibronic structure converged in a basis of %d functions", n)
            return s
        if basis_size is not None or n >= _MAX_BASIS:
            raise ConvergenceError(f"vibronic levels not converged in a basis of {n} functions "
                                   f"(largest allowed {_MAX_BASIS}); reduce displacements, frequency ratios "
                                   f"or the temperature")
        n = _grow(n)
        logger.debug("growing vibronic basis to %d functions", n)



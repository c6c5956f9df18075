"""Vibronic Kramers–Heisenberg model of sXAS and mRIXS: harmonic or Morse potentials along one vibrational
coordinate, optionally with further separable modes (:class:`Mode`).

Two uses in rixsim:

* the oxygen-redox mRIXS feature of localised oxidised oxygen (trapped O2-like species) in charged Li-rich
  oxides — a sharp feature at 531 eV excitation and 523.8 eV emission (seed review, section 5.2, point 3) —
  built by :class:`OxidisedOxygenParameters`;
* the ion-solvation-shell example of the seed review (section 3.2, Fig. 3): at 534.2 eV excitation of water,
  weaker vibrational coupling moves RIXS weight to the elastic line while the sXAS barely changes — built by
  :class:`SolvationShellParameters` and summarised by :func:`solvation_shell_comparison`.

Glossary (every name below uses these words in this sense)
----------------------------------------------------------
state
    An electronic state: the *ground* state g, the *intermediate* (core-excited) state m, and the *final*
    states reached by emission, grouped in *channels*.  The *ground channel* is the decay back to the
    electronic ground state (elastic line plus vibrational progression); every other channel is an
    electronically excited final state (e.g. the 7.2 eV-loss state of the oxygen-redox feature).
level
    A vibrational eigenstate of one electronic state, counted from 0.  With extra modes, a *product level*:
    energies add over modes, Franck–Condon overlaps multiply (the potentials are separable).
coordinate
    The vibrational coordinate x is dimensionless, measured in units of the zero-point length of the *ground*
    state's harmonic oscillator: :math:`x = q\\sqrt{\\mu\\omega_g/\\hbar}`.  The ground harmonic potential is
    :math:`\\omega_g x^2/2`.
potential
    A harmonic potential :math:`V(x) = \\frac{\\omega^2}{2\\omega_g}(x-x_0)^2`, or, when the anharmonicity
    :math:`\\omega_e x_e > 0`, a Morse potential :math:`V(x) = D(1 - e^{-a(x-x_0)})^2` with
    :math:`D = \\omega_e^2/(4\\omega_e x_e)` and :math:`a = \\omega_e/\\sqrt{2\\omega_g D}`, whose levels are
    :math:`\\omega_e(n+\\tfrac12) - \\omega_e x_e(n+\\tfrac12)^2`.  ``frequency`` is :math:`\\omega_e` (eV),
    ``anharmonicity`` is :math:`\\omega_e x_e` (eV), ``displacement`` is :math:`x_0` (signed, dimensionless).
Huang–Rhys factor
    :math:`S = \\lambda/\\omega_e` with :math:`\\lambda = V(0) - V(x_0)` the reorganisation energy; for a
    harmonic potential :math:`S = \\omega_e x_0^2 / (2\\omega_g)`, i.e. :math:`x_0^2/2` for equal frequencies,
    where :math:`|\\langle n|0\\rangle|^2 = e^{-S}S^n/n!`.
energies
    ``vertical_excitation`` is the absolute photon energy (eV) of the vertical core excitation from the ground
    vibrational level, :math:`\\langle 0_g|H_m|0_g\\rangle - E_{g,0}` — the first moment of the T = 0 XAS
    band (Franck–Condon principle).  A channel's ``loss`` is its 0–0 energy loss (eV, relative): the energy of
    final level 0 above ground level 0.

The vibrational basis, its conventions and its convergence criteria are written down in
:mod:`rixsim.oxygen.franck_condon`; the parameters are in :mod:`rixsim.oxygen.potentials`.

Kramers–Heisenberg
------------------
For an initial level i (Boltzmann weight :math:`p_i`) and final level f of channel c (branching weight
:math:`w_c`), at photon energy :math:`\\omega`:

.. math::

    A_{fi}(\\omega) = \\sum_n \\frac{\\langle f|n\\rangle\\langle n|i\\rangle}
                              {\\omega - (E_n - E_i) + i\\Gamma/2},
    \\qquad I(\\omega, \\omega') = \\frac{\\Gamma}{2\\pi}\\sum_{i,c,f} p_i w_c |A_{fi}(\\omega)|^2
    \\, L_c(\\omega' - \\omega + E_f - E_i),

with Γ the core-hole lifetime FWHM and :math:`L_c` the unit-area emission line shape (Gaussian spectrometer
FWHM, optional final-state Lorentzian FWHM of the channel).  With the factor Γ/2π and a complete set of final
levels, the emission-integrated RIXS of a channel equals :math:`w_c` times the XAS,
:math:`\\sum_{i,n} p_i|\\langle n|i\\rangle|^2 \\, \\mathrm{Lorentzian}(\\omega - E_n + E_i; \\Gamma)` — the
sum rule the tests check.  The incident bandwidth (``monochromator_fwhm``, emission follows the photon) and
an inhomogeneous spread of the intermediate electronic energy (``inhomogeneous_fwhm``, emission does not
follow it) are Gaussian averages: trapezoidal quadrature over the resonance offset, the rest exactly (see
:func:`_quadrature`).

References
----------
L. J. P. Ament et al., "Determining the electron-phonon coupling strength from resonant inelastic x-ray
scattering at transition metal L-edges", EPL 95, 27008 (2011); L. J. P. Ament, F. Forte, J. van den Brink, "Ultrashort lifetime expansion for indirect
resonant inelastic x-ray scattering", PRB 75, 115118 (2007); F. Gel'mukhanov and H. Ågren, "Resonant X-ray
Raman scattering", Phys. Rep. 312, 87 (1999).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from rixsim import validate
from rixsim.cluster.transitions import EdgeTransitions
from rixsim.errors import InputError
from rixsim.oxygen.franck_condon import VibronicStructure, vibronic_structure
from rixsim.oxygen.potentials import (
    _FWHM_PER_SIGMA,
    _MAX_FINE_GRID,
    VibronicModel,
    _as_model,
    _positive,
)
from rixsim.results import RixsMap, Spectrum
from rixsim.spectroscopy.broadening import broaden_sticks, gaussian, voigt

__all__ = ["kh_amplitudes", "vibronic_rixs_map", "vibronic_rixs_spectrum", "vibronic_xas", "vibronic_transitions", "LossSticks", "loss_sticks"]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------------------
# Kramers–Heisenberg kernels
# --------------------------------------------------------------------------------------------------------------
def _gauss_nodes(fwhm: float, step: float):
    """Trapezoid nodes over ±5σ of a unit-area Gaussian of ``fwhm``: offsets and weights summing to 1."""
    if fwhm == 0.0:
        return np.zeros(1), np.ones(1)
    sigma = fwhm / _FWHM_PER_SIGMA
    m = int(math.ceil(5.0 * sigma / step))
    t = np.linspace(-5.0 * sigma, 5.0 * sigma, 2 * m + 1)
    w = np.exp(-0.5 * (t / sigma) ** 2)
    return t, w / w.sum()


def _quadrature(model: VibronicModel):
    """Gaussian averages over the incident bandwidth δ (σ_m) and the site energy η (σ_h), reduced to one dimension.

    The resonance sees r = δ − η ~ N(0, σ_m² + σ_h²); the emission lines follow the photon, i.e. move by δ.
    Given r, δ is Gaussian with mean r·σ_m²/(σ_m² + σ_h²) and variance σ_m²σ_h²/(σ_m² + σ_h²), so the δ average
    is exact: shift the lines by the mean and add the conditional width to the emission Gaussian.

    Returns (emission shift, resonance offset, weight) per node and the extra emission Gaussian FWHM (eV).
    """
    var_m = (model.monochromator_fwhm / _FWHM_PER_SIGMA) ** 2
    var_h = (model.inhomogeneous_fwhm / _FWHM_PER_SIGMA) ** 2
    if var_m + var_h == 0.0:
        return np.zeros(1), np.zeros(1), np.ones(1), 0.0
    fwhm_r = _FWHM_PER_SIGMA * math.sqrt(var_m + var_h)
    # The integrand has Lorentzian structure of FWHM Γ: trapezoid steps of Γ/4 converge like exp(−πΓ/step),
    # i.e. to ~1e-6; steps of fwhm/5 resolve the Gaussian weight itself.
    r, w = _gauss_nodes(fwhm_r, min(model.core_hole_fwhm / 4.0, fwhm_r / 5.0))
    shift = r * var_m / (var_m + var_h)
    extra_fwhm = _FWHM_PER_SIGMA * math.sqrt(var_m * var_h / (var_m + var_h))
    return shift, r, w, extra_fwhm


def kh_amplitudes(structure: VibronicStructure, photon_energy, core_hole_fwhm: float) -> np.ndarray:
    """Kramers–Heisenberg amplitudes ``A[i, w, f]`` for initial level i, photon energy w, final level f.

    :math:`A = \\sum_n \\langle f|n\\rangle\\langle n|i\\rangle / (\\omega - (E_n - E_i) + i\\Gamma/2)`, computed as
    one batched matrix product over intermediate levels.  ``photon_energy`` in eV (absolute), any order.
    """
    w = np.asarray(photon_energy, dtype=float).reshape(-1)
    gamma = validate.width(core_hole_fwhm, "core_hole_fwhm", allow_zero=False)
    s = structure
    trans = s.intermediate_energies[None, :] - s.ground_energies[:, None]          # (n_g, n_m)
    den = 1.0 / (w[None, :, None] - trans[:, None, :] + 0.5j * gamma)             # (n_g, W, n_m)
    den *= s.overlap_mg.T[:, None, :]                                              # <n|i> / (ω − ΔE + iΓ/2)
    return den @ s.overlap_fm.T                                                    # (n_g, W, F)


def _rixs_sticks(s: VibronicStructure, model: VibronicModel, photon: np.ndarray, site: np.ndarray):
    """Stick weights (Γ/2π normalised) and emission positions for photon energies ``photon`` (W,).

    Returns weights (W, n_g, F), emission (W, n_g, F), elastic mask (n_g, F).
    """
    a = kh_amplitudes(s, photon - site, model.core_hole_fwhm)                   # (n_g, W, F)
    scale = model.core_hole_fwhm / (2.0 * math.pi)
    wt = (a.real**2 + a.imag**2) * (scale * s.ground_weights[:, None, None]
                                    * s.channel_weights[s.final_channel][None, None, :])
    loss = s.final_losses[None, :] - s.ground_energies[:, None]                   # (n_g, F)
    emission = photon[:, None, None] - loss[None, :, :]                            # (W, n_g, F)
    return np.moveaxis(wt, 1, 0), emission, s.elastic_mask


def _voigt_fwhm(lor: float, gau: float) -> float:
    # Olivero & Longbothum (1977) approximation, ample for choosing a grid step
    return 0.5346 * lor + math.sqrt(0.2166 * lor**2 + gau**2)


def _fine_grid(emission: np.ndarray, gauss_fwhm: float, s: VibronicStructure, channels: np.ndarray):
    """Uniform binning grid for the emission broadening: (lo, step, n_points)."""
    lor = s.channel_fwhm
    widths = [_voigt_fwhm(lor[c], gauss_fwhm) for c in channels]
    margin = 10.0 * gauss_fwhm + 40.0 * float(max(lor[c] for c in channels))
    lo, hi = emission[0] - margin, emission[-1] + margin
    h = min(widths) / 32.0
    g = int(math.ceil((hi - lo) / h)) + 2
    if g > _MAX_FINE_GRID:
        g = _MAX_FINE_GRID
        h = (hi - lo) / (g - 2)
        logger.warning("emission binning grid capped at %d points (step %.3g eV)", g, h)
    return lo, h, g


def _emission_broadening(rows, positions, weights, channel, emission, gauss_fwhm: float, s: VibronicStructure,
                         n_rows, grid, block: int = 2048):
    """Bin sticks linearly onto a fine uniform grid (area and first moment kept), then GEMMs per channel with
    the unit-area Voigt line shape of that channel (Gaussian ``gauss_fwhm``, the channel's Lorentzian), in
    blocks of grid points to bound memory.  Returns (n_rows, n_emission)."""
    out = np.zeros((n_rows, emission.size))
    lo, h, g = grid
    lor = s.channel_fwhm
    points = lo + h * np.arange(g)
    for c in np.unique(channel):
        sel = channel == c
        t = (positions[sel] - lo) / h
        j = np.floor(t).astype(np.int64)
        inside = (j >= 0) & (j < g - 1)
        j, frac, wsel, r = j[inside], (t - np.floor(t))[inside], weights[sel][inside], rows[sel][inside]
        idx = r * g + j
        hist = (np.bincount(idx, wsel * (1.0 - frac), minlength=n_rows * g)
                + np.bincount(idx + 1, wsel * frac, minlength=n_rows * g)).reshape(n_rows, g)
        nz = np.flatnonzero(hist.any(axis=0))
        for start in range(0, nz.size, block):
            cols = nz[start:start + block]
            if lor[c] == 0.0:
                # pure Gaussian: only emission points within 8 FWHM of the block matter (exp(−177) beyond)
                j0, j1 = np.searchsorted(emission, [points[cols[0]] - 8 * gauss_fwhm,
                                                    points[cols[-1]] + 8 * gauss_fwhm])
                if j1 > j0:
                    b = gaussian(emission[None, j0:j1], points[cols, None], gauss_fwhm)
                    out[:, j0:j1] += hist[:, cols] @ b
            else:
                b = voigt(emission[None, :], points[cols, None], lor[c], gauss_fwhm)   # (block, J)
                out += hist[:, cols] @ b
    return out


def _rixs_rows(model: VibronicModel, s: VibronicStructure, excitation: np.ndarray, emission: np.ndarray,
               max_elements: int = 4_000_000):
    """Intensity and elastic part (n_exc, n_emi), chunked over excitation energies to bound memory."""
    shift, res, wq, extra_fwhm = _quadrature(model)
    gauss = math.hypot(model.spectrometer_fwhm, extra_fwhm)
    used = np.flatnonzero(s.channel_weights > 0)
    total = np.zeros((excitation.size, emission.size))
    elastic = np.zeros_like(total)
    if used.size == 0:
        return total, elastic
    grid = _fine_grid(emission, gauss, s, used)
    n_g, n_f = s.ground_energies.size, s.final_losses.size
    per_row = max(shift.size * n_g * n_f, grid[2])
    chunk = max(1, max_elements // per_row)
    for start in range(0, excitation.size, chunk):
        exc = excitation[start:start + chunk]
        photon = (exc[:, None] + shift[None, :]).reshape(-1)          # where the emission lines sit
        site = np.tile(shift - res, exc.size)                         # photon − site = exc + res
        wt, pos, el = _rixs_sticks(s, model, photon, site)                         # (W, n_g, F)
        wt = wt * np.tile(wq, exc.size)[:, None, None]
        rows = np.broadcast_to(np.repeat(np.arange(exc.size), shift.size)[:, None, None], wt.shape)
        chan = np.broadcast_to(s.final_channel[None, None, :], wt.shape)
        keep = np.broadcast_to((s.channel_weights[s.final_channel] > 0)[None, None, :], wt.shape)
        total[start:start + chunk] = _emission_broadening(rows[keep], pos[keep], wt[keep], chan[keep],
                                                          emission, gauss, s, exc.size, grid)
        elm = np.broadcast_to(el[None], wt.shape) & keep
        if elm.any():
            elastic[start:start + chunk] = _emission_broadening(rows[elm], pos[elm], wt[elm], chan[elm],
                                                                emission, gauss, s, exc.size, grid)
    return total, elastic


def _meta(model: VibronicModel, s: VibronicStructure) -> dict:
    return {"model": model, "basis_size": s.basis_size, "n_intermediate_levels": int(s.intermediate_energies.size),
            "n_final_levels": int(s.final_losses.size), "channels": s.channel_names}


# --------------------------------------------------------------------------------------------------------------
# Public spectra
# --------------------------------------------------------------------------------------------------------------
def vibronic_rixs_map(params, excitation, emission) -> RixsMap:
    """mRIXS map of the vibronic model on absolute photon-energy axes.

    Parameters
    ----------
    params : OxidisedOxygenParameters, SolvationShellParameters or VibronicModel
    excitation : array_like
        Incident photon energies, eV, strictly increasing.
    emission : array_like
        Emitted photon energies, eV, strictly increasing.

    Returns
    -------
    RixsMap
        ``intensity`` of shape (n_exc, n_emi), normalised as in the module docstring (the emission integral of a
        channel is its weight times the XAS); ``elastic`` holds the elastic-line part.
    """
    model = _as_model(params)
    exc = validate.energy_axis(excitation, "excitation")
    emi = validate.energy_axis(emission, "emission", min_points=2)
    s = vibronic_structure(model)
    total, elastic = _rixs_rows(model, s, exc, emi)
    return RixsMap(excitation=exc, emission=emi, intensity=total, elastic=elastic,
                   label=f"{model.label}: vibronic RIXS", meta=_meta(model, s))


def vibronic_rixs_spectrum(params, excitation_energy: float, emission) -> Spectrum:
    """RIXS spectrum on the emission axis (absolute photon energies, eV) at one excitation energy (eV)."""
    model = _as_model(params)
    exc = validate.energy_axis([_positive(excitation_energy, "excitation_energy")], "excitation_energy")
    emi = validate.energy_axis(emission, "emission", min_points=2)
    s = vibronic_structure(model)
    total, elastic = _rixs_rows(model, s, exc, emi)
    meta = _meta(model, s)
    meta["excitation_energy"] = float(exc[0])
    meta["elastic"] = elastic[0]
    return Spectrum(emi, total[0], label=f"{model.label}: RIXS at {exc[0]:g} eV", meta=meta)


def vibronic_xas(params, energies) -> Spectrum:
    """XAS of the same model: Franck–Condon sticks, Voigt of the core-hole Lorentzian and the Gaussian
    monochromator ⊕ inhomogeneous widths.  Unit area over an infinite axis.  ``energies``: absolute eV."""
    model = _as_model(params)
    e = validate.energy_axis(energies, "energies")
    s = vibronic_structure(model)
    pos = (s.intermediate_energies[:, None] - s.ground_energies[None, :]).ravel()
    wts = (s.overlap_mg**2 * s.ground_weights[None, :]).ravel()
    gauss = math.hypot(model.monochromator_fwhm, model.inhomogeneous_fwhm)
    y = broaden_sticks(e, pos, wts, model.core_hole_fwhm, gauss)
    return Spectrum(e, y, label=f"{model.label}: XAS", units="1/eV", meta=_meta(model, s))


def vibronic_transitions(params) -> EdgeTransitions:
    """The vibronic model as :class:`~rixsim.cluster.transitions.EdgeTransitions`, for rixsim's general RIXS engine.

    Vibronic states become the engine's states: initial/final states are the kept ground-channel levels
    (Boltzmann weights) followed by the levels of every excited channel (weight 0); intermediate states are the
    core-excited levels, all with FWHM ``core_hole_fwhm``.  ``edge_offset`` is ``vertical_excitation``.  The
    transition dipole lies along z with :math:`d_z = \\sqrt3\\,\\langle n|f\\rangle\\sqrt{w_c/w_0}`, so the
    isotropic XAS is the Franck–Condon XAS of :func:`vibronic_xas` and the isotropic engine map equals
    :func:`vibronic_rixs_map` × 3·2π/(Γ w_0) (the engine's isotropic RIXS sums the emission over x, y, z;
    w_0 = ``ground_channel_weight``, which must be > 0: one dipole matrix serves absorption and emission, so the
    branching is expressed relative to the ground channel).  The
    monochromator and inhomogeneous averages and the per-channel final-state widths are not carried over.
    """
    model = _as_model(params)
    if model.ground_channel_weight <= 0:
        raise InputError("vibronic_transitions needs ground_channel_weight > 0 (absorption uses the ground "
                         f"channel's dipoles); got {model.ground_channel_weight}")
    s = vibronic_structure(model)
    n_g = s.ground_energies.size
    weights = np.zeros(s.final_losses.size)
    weights[:n_g] = s.ground_weights                  # ground-channel levels come first, in order
    scale = np.sqrt(3.0 * s.channel_weights[s.final_channel] / model.ground_channel_weight)
    dipole = np.zeros((3, s.intermediate_energies.size, s.final_losses.size))
    dipole[2] = s.overlap_fm.T * scale[None, :]
    return EdgeTransitions(initial_energies=s.final_losses, initial_weights=weights,
                           intermediate_energies=s.intermediate_energies - model.vertical_excitation,
                           intermediate_fwhm=np.full(s.intermediate_energies.size, model.core_hole_fwhm),
                           dipole=dipole, edge_offset=model.vertical_excitation, temperature_k=model.temperature_k,
                           meta={"source": "rixsim.oxygen.vibronic", "label": model.label, "channels": s.channel_names,
                                 "basis_size": s.basis_size})


@dataclass(frozen=True)
class LossSticks:
    """RIXS at one photon energy without instrumental broadening: energy losses and weights of every final level.

    ``loss`` (eV, relative: photon − emission), ``weight`` (Γ/2π-normalised ``|A|² p_i w_c``), ``channel``
    (0 = ground channel), ``level`` (final vibrational quantum number), ``initial`` (initial level index),
    ``elastic`` (bool mask).
    """

    excitation_energy: float
    loss: np.ndarray
    weight: np.ndarray
    channel: np.ndarray
    level: np.ndarray
    initial: np.ndarray
    elastic: np.ndarray

    @property
    def elastic_fraction(self) -> float:
        """Fraction of the ground-channel weight in the elastic line (final level = initial level)."""
        g = self.channel == 0
        tot = self.weight[g].sum()
        return float(self.weight[self.elastic].sum() / tot) if tot > 0 else float("nan")


def loss_sticks(params, excitation_energy: float) -> LossSticks:
    """Kramers–Heisenberg stick spectrum at a single photon energy (eV), no monochromator/inhomogeneous average."""
    model = _as_model(params)
    w = _positive(excitation_energy, "excitation_energy")
    s = vibronic_structure(model)
    wt, pos, el = _rixs_sticks(s, model, np.array([w]), np.zeros(1))
    n_g, n_f = s.ground_energies.size, s.final_losses.size
    return LossSticks(excitation_energy=w, loss=(w - pos[0]).ravel(), weight=wt[0].ravel(),
                      channel=np.broadcast_to(s.final_channel, (n_g, n_f)).ravel().copy(),
                      level=np.broadcast_to(s.final_level, (n_g, n_f)).ravel().copy(),
                      initial=np.repeat(np.arange(n_g), n_f), elastic=el.ravel().copy())



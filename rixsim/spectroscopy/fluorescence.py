"""Raman and fluorescence: the coherent Kramers–Heisenberg map plus the emission of relaxed core-excited states.

Physics
-------
A photon absorbed at ω creates a core-excited state m.  Before the core hole decays (total rate Γ_core,
the Lorentzian FWHM of :attr:`EdgeTransitions.intermediate_fwhm`) the excitation may *relax*: the electron
scatters into other core-excited states (phonons, magnons, delocalisation into a band) at a rate Γ_relax.
The standard two-channel treatment of RIXS versus fluorescence (e.g. Gel'mukhanov & Ågren, Phys. Rep. 312,
87 (1999); Ament et al., Rev. Mod. Phys. 83, 705 (2011), the discussion of "fluorescence-like" features)
splits the emission per absorbed photon by the branching

.. math::  r = \\frac{\\Gamma_\\mathrm{relax}}{\\Gamma_\\mathrm{relax} + \\Gamma_\\mathrm{core}}

into a coherent (Raman) part that keeps the energy of the incident photon (constant-loss features, the
Kramers–Heisenberg map of :func:`rixsim.spectroscopy.rixs.rixs_map`) and an incoherent part that has lost the
memory of ω: the relaxed core-excited manifold, thermalised at ``relaxed_temperature_k`` among the cluster's
own core-excited eigenstates (Boltzmann populations :math:`P_{m'}`; at low temperature the lowest-lying,
L3-like states), emits its non-resonant 3d→2p spectrum to *all* final states with its own dipoles:

.. math::
    I(\\omega, \\omega') = (1 - r)\\, I_\\mathrm{KH}(\\omega, \\omega')
        + r\\, X(\\omega)\\, F(\\omega'),\\qquad
    F(\\omega') = \\sum_{m'} P_{m'} \\frac{2\\pi}{\\Gamma_{m'}} \\sum_f \\sum_b |\\langle f|T_b^\\dagger|m'\\rangle|^2
        V(\\omega' - E_0 - E_{m'} + E_f;\\ \\Gamma_{m'} + \\Gamma_f, \\sigma_\\mathrm{res}),

with :math:`X(\\omega) = \\sum_g p_g \\sum_m \\tfrac13\\sum_a |\\langle m|T_a|g\\rangle|^2 L(\\omega - E_0 - E_m +
E_g; \\Gamma_m)` the isotropic absorption with lifetime widths only (no Gaussian along excitation: the
incident bandwidth is not in the Kramers–Heisenberg map either).  A normal-emission line is broadened by
the lifetimes of both its core-excited and its final state (``natural_widths=True``), a Raman line by the
final state only.  The fluorescence features sit at constant *emission* energy above the resonance.

Normalisation (per absorbed photon)
-----------------------------------
The factor 2π/Γ_{m'} makes the fluorescence of a state m' carry exactly what the Kramers–Heisenberg map
gives an isolated resonance m: its emission integral is :math:`X_m(\\omega)\\, Y_m` with
:math:`Y_m = 2\\pi K_{mm}/\\Gamma_m`, :math:`K_{m'm} = \\sum_{f,b}\\langle m'|T_b|f\\rangle\\langle f|T_b^\\dagger|m
\\rangle`.  When K is a multiple of the identity and the widths are equal — a closed 3d shell in the
intermediate state, 2p⁵3d¹⁰ of d⁹ ions — the Kramers–Heisenberg emission integral is exactly
:math:`Y X(\\omega)` (completeness over f removes the interference terms), and so is the total map's for
*every* r: relaxation moves photons between Raman and fluorescence without creating or losing any.
For open shells :math:`K_{mm}` differs from state to state (the multiplet-dependent radiative yields that
make fluorescence yield differ from absorption, de Groot et al., Solid State Commun. 92, 991 (1994)), and
the emission integral is :math:`(1-r)\\int I_\\mathrm{KH} + r\\,\\bar Y X(\\omega)`, :math:`\\bar Y = \\int F`.

The Raman/fluorescence balance r is linear in the map, so a fit determines it by linear least squares
(:func:`fit_relaxed_fraction`).

Polarisation: isotropic (incident averaged, emission summed over x, y, z; the powder average of a detector
collecting every direction and polarisation) for both parts.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from rixsim import validate
from rixsim.cluster.model import boltzmann_weights
from rixsim.cluster.transitions import EdgeTransitions
from rixsim.errors import InputError
from rixsim.results import RixsMap, Spectrum
from rixsim.spectroscopy.broadening import broaden_sticks
from rixsim.spectroscopy.rixs import WINDOW_MARGIN_FWHM, rixs_map

__all__ = ["RamanFluorescence", "raman_fluorescence", "fluorescence_map", "relaxed_fraction",
           "fit_relaxed_fraction", "relaxed_emission", "lorentzian_absorption"]

log = logging.getLogger(__name__)

# relaxed states with a smaller Boltzmann population are left out of the emission
_MIN_POPULATION = 1e-10


def relaxed_fraction(relax_fwhm: float, core_fwhm: float) -> float:
    """The incoherent branching :math:`r = \\Gamma_\\mathrm{relax}/(\\Gamma_\\mathrm{relax}+\\Gamma_\\mathrm{core})`
    from a relaxation rate and the core-hole decay rate, both given as Lorentzian FWHM (eV, ħ = 1)."""
    gr = validate.width(relax_fwhm, "relax_fwhm")
    gc = validate.width(core_fwhm, "core_fwhm", allow_zero=False)
    return gr / (gr + gc)


def _check_fraction(r) -> float:
    try:
        f = float(r)
    except (TypeError, ValueError) as exc:
        raise InputError(f"relaxed_fraction must be a number in [0, 1]; got {r!r}") from exc
    if not (0.0 <= f <= 1.0):
        raise InputError(f"relaxed_fraction must be in [0, 1] (Γ_relax/(Γ_relax+Γ_core)); got {r!r}")
    return f


def _check(tr) -> EdgeTransitions:
    if not isinstance(tr, EdgeTransitions):
        raise InputError(f"transitions must be an EdgeTransitions; got {type(tr).__name__}")
    if np.any(tr.intermediate_fwhm <= 0):
        raise InputError("fluorescence needs every intermediate_fwhm > 0 eV (the core-hole lifetime sets the "
                         "emission per absorbed photon, 2π/Γ)")
    return tr


def lorentzian_absorption(transitions: EdgeTransitions, excitation) -> Spectrum:
    """Isotropic absorption X(ω) with lifetime (Lorentzian) widths only, on absolute energies (eV).

    The same sticks as :func:`rixsim.spectroscopy.xas.xas` without Gaussian broadening and without merging
    or dropping weak lines (so the sum rules of this module hold to rounding).
    """
    tr = _check(transitions)
    exc = validate.energy_axis(excitation, "excitation")
    g = tr.populated
    d = np.asarray(tr.dipole)[:, :, g]
    strength = (np.sum(np.abs(d) ** 2, axis=0) / 3.0) * tr.initial_weights[g][None, :]      # (m, g)
    pos = tr.edge_offset + tr.intermediate_energies[:, None] - tr.initial_energies[g][None, :]
    width = np.broadcast_to(tr.intermediate_fwhm[:, None], pos.shape)
    y = broaden_sticks(exc, pos.ravel(), strength.ravel(), width.ravel(), 0.0)
    return Spectrum(exc, y, label="absorption (lifetime widths)", units="|dipole|² / eV",
                    meta={"polarization": "isotropic"})


def relaxed_emission(transitions: EdgeTransitions, emission, *, relaxed_temperature_k: float | None = None,
                     final_fwhm: float = 0.1, resolution_fwhm: float = 0.2,
                     natural_widths: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The normal emission F(ω') of the relaxed core-excited manifold (module formula) and its populations.

    ``emission`` may be any array of absolute emitted energies (eV), e.g. ``excitation − loss`` on a grid.
    Returns ``(F on emission, P_m')``; ``F`` is in |dipole|² / eV per eV of emission.
    """
    tr = _check(transitions)
    emi = np.asarray(emission, dtype=float)
    if emi.size == 0 or not np.all(np.isfinite(emi)):
        raise InputError("emission must be finite photon energies in eV")
    t = tr.temperature_k if relaxed_temperature_k is None else validate.nonnegative(
        relaxed_temperature_k, "relaxed_temperature_k", "K")
    fl = validate.width(final_fwhm, "final_fwhm")
    fg = validate.width(resolution_fwhm, "resolution_fwhm")
    p = boltzmann_weights(tr.intermediate_energies, float(t))
    rel = np.flatnonzero(p > _MIN_POPULATION)
    d = np.asarray(tr.dipole)[:, rel, :]                                         # (b, m', f)
    gam = tr.intermediate_fwhm[rel]
    strength = np.sum(np.abs(d) ** 2, axis=0) * (p[rel] * 2.0 * np.pi / gam)[:, None]
    pos = tr.edge_offset + tr.intermediate_energies[rel][:, None] - tr.initial_energies[None, :]
    lw = np.broadcast_to(((gam if natural_widths else 0.0 * gam) + fl)[:, None], pos.shape)
    if fg == 0 and np.any(lw == 0):
        raise InputError("fluorescence lines need a width: give final_fwhm, resolution_fwhm or "
                         "natural_widths=True")
    keep = strength.ravel() > 0
    flat = emi.ravel()
    # sticks per chunk so that one stick matrix stays below ~20 M values (160 MB) on large loss maps
    chunk = int(max(1, min(4096, 2e7 // max(flat.size, 1))))
    y = broaden_sticks(flat, pos.ravel()[keep], strength.ravel()[keep], lw.ravel()[keep], fg, chunk=chunk)
    return y.reshape(emi.shape), p


@dataclass(frozen=True)
class RamanFluorescence:
    """The two parts of a cluster map, on the same axes: combine them with :meth:`combined`.

    Attributes
    ----------
    raman : RixsMap
        Coherent Kramers–Heisenberg map (``rixs_map``, isotropic), ``r = 0``.
    fluorescence : RixsMap
        Incoherent part for ``r = 1``: :math:`X(\\omega) F(\\omega')` (module formula).
    absorption : Spectrum
        X(ω) on the excitation axis.
    relaxed_populations : ndarray
        Boltzmann populations :math:`P_{m'}` of the intermediate states in the relaxed manifold.
    fluorescence_yield : float
        :math:`\\bar Y = \\int F(\\omega')\\,d\\omega'` (exact, from the stick weights), |dipole|²/eV.
    """

    raman: RixsMap
    fluorescence: RixsMap
    absorption: Spectrum
    relaxed_populations: np.ndarray
    fluorescence_yield: float
    meta: Mapping[str, Any] = field(default_factory=dict)

    def combined(self, relaxed_fraction: float) -> RixsMap:
        """:math:`(1-r) I_\\mathrm{KH} + r X F` as one map (``elastic`` holds the Raman elastic line × (1 − r))."""
        r = _check_fraction(relaxed_fraction)
        z = (1.0 - r) * self.raman.intensity + r * self.fluorescence.intensity
        el = None if self.raman.elastic is None else (1.0 - r) * self.raman.elastic
        meta = dict(self.raman.meta, relaxed_fraction=r, **dict(self.meta))
        return RixsMap(self.raman.excitation, self.raman.emission, z, loss=self.raman.loss, elastic=el,
                       label=f"Raman + fluorescence (r = {r:g})", units=self.raman.units, meta=meta)


def raman_fluorescence(transitions: EdgeTransitions, excitation, *, loss=None, emission=None,
                       relaxed_temperature_k: float | None = None, final_fwhm: float = 0.1,
                       resolution_fwhm: float = 0.2, natural_widths: bool = True, elastic: bool = True,
                       margin_fwhm: float | None = WINDOW_MARGIN_FWHM, memory_gb: float = 1.0,
                       progress: bool = False) -> RamanFluorescence:
    """Raman (Kramers–Heisenberg) and fluorescence parts of the isotropic map, on the same axes.

    Parameters
    ----------
    transitions : EdgeTransitions
    excitation : array_like
        Incident photon energies (eV, absolute, increasing).
    loss, emission : array_like
        Exactly one, as in :func:`rixsim.spectroscopy.rixs.rixs_map`.
    relaxed_temperature_k : float, optional
        Temperature (K) of the Boltzmann populations of the relaxed core-excited manifold (default: the
        transitions' temperature; 0 K puts all of it in the lowest core-excited state(s)).
    final_fwhm, resolution_fwhm : float
        Final-state Lorentzian and spectrometer Gaussian FWHM (eV), as in ``rixs_map``.
    natural_widths : bool
        True: fluorescence lines also carry the emitting state's core-hole width Γ_{m'}.
    elastic, margin_fwhm, memory_gb, progress
        Passed to ``rixs_map``.

    Returns
    -------
    RamanFluorescence
    """
    tr = _check(transitions)
    exc = validate.energy_axis(excitation, "excitation")
    raman = rixs_map(tr, exc, loss=loss, emission=emission, final_fwhm=final_fwhm,
                     resolution_fwhm=resolution_fwhm, elastic=elastic, margin_fwhm=margin_fwhm,
                     memory_gb=memory_gb, progress=progress)
    if raman.on_loss_axis:
        out_e = exc[:, None] - raman.loss[None, :]
    else:
        out_e = raman.emission
    f, p = relaxed_emission(tr, out_e, relaxed_temperature_k=relaxed_temperature_k, final_fwhm=final_fwhm,
                            resolution_fwhm=resolution_fwhm, natural_widths=natural_widths)
    x = lorentzian_absorption(tr, exc)
    z = x.intensity[:, None] * (f if raman.on_loss_axis else f[None, :])
    rel = p > _MIN_POPULATION
    d = np.asarray(tr.dipole)[:, rel, :]
    y_bar = float(np.sum(np.sum(np.abs(d) ** 2, axis=(0, 2)) * p[rel] * 2 * np.pi / tr.intermediate_fwhm[rel]))
    t = tr.temperature_k if relaxed_temperature_k is None else float(relaxed_temperature_k)
    meta = {"relaxed_temperature_k": t, "natural_widths": bool(natural_widths),
            "relaxed_states": int(rel.sum())}
    fl = RixsMap(exc, raman.emission, z, loss=raman.loss, label="relaxed (fluorescence) emission",
                 units=raman.units, meta=dict(raman.meta, **meta))
    log.debug("raman_fluorescence: %d relaxed states, mean yield %.4g", rel.sum(), y_bar)
    return RamanFluorescence(raman, fl, x, p, y_bar, meta)


def fluorescence_map(transitions: EdgeTransitions, excitation, *, relaxed_fraction: float = 0.0,
                     **kwargs) -> RixsMap:
    """Raman + fluorescence map for one relaxed fraction r (module formula); keywords of
    :func:`raman_fluorescence`.  ``relaxed_fraction=0`` is the Kramers–Heisenberg map of ``rixs_map``."""
    r = _check_fraction(relaxed_fraction)
    return raman_fluorescence(transitions, excitation, **kwargs).combined(r)


def fit_relaxed_fraction(parts: RamanFluorescence, target: RixsMap, weights=None) -> dict:
    """Relaxed fraction r and overall scale s of ``target ≈ s[(1 − r) I_KH + r X F]`` by linear least squares.

    ``target`` must be on the axes of ``parts`` (e.g. a measured map interpolated onto them).  Returns
    ``{"relaxed_fraction", "scale", "residual"}`` (residual: root-mean-square of the weighted misfit).
    """
    if not isinstance(parts, RamanFluorescence) or not isinstance(target, RixsMap):
        raise InputError("fit_relaxed_fraction needs RamanFluorescence parts and a target RixsMap")
    if target.intensity.shape != parts.raman.intensity.shape:
        raise InputError(f"target map has shape {target.intensity.shape}; the parts have "
                         f"{parts.raman.intensity.shape} (interpolate it onto their axes first)")
    w = np.ones(target.intensity.shape) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != target.intensity.shape or np.any(w < 0) or not np.all(np.isfinite(w)):
        raise InputError("weights must be finite, >= 0 and of the target's shape")
    sw = np.sqrt(w).ravel()
    design = np.column_stack([parts.raman.intensity.ravel() * sw, parts.fluorescence.intensity.ravel() * sw])
    (a, b), *_ = np.linalg.lstsq(design, target.intensity.ravel() * sw, rcond=None)
    if a + b == 0:
        raise InputError("the target has no component along either part")
    resid = target.intensity.ravel() * sw - design @ np.array([a, b])
    return {"relaxed_fraction": float(b / (a + b)), "scale": float(a + b),
            "residual": float(np.sqrt(np.mean(resid ** 2)))}

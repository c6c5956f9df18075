"""Detection channels of soft X-ray absorption: TEY, TFY, PFY, iPFY, sPFY and ccPFY.

Every channel is obtained two ways:

(a) **predicted** for a :class:`~rixsim.detection.sample.Sample` in a :class:`~rixsim.detection.sample.Geometry`, from the model
    absorption (resonant edges from spectra, everything else from Elam et al. 2002) and, optionally, a
    resonant emission map of the scanned TM from the RIXS engine — :func:`detected_map`, :func:`tey`,
    :func:`predict_channels`;
(b) **extracted** from any :class:`~rixsim.results.RixsMap`, simulated or measured, by integrating emission
    windows — :func:`window_yield`, :func:`tfy_from_map`, :func:`pfy_from_map`, :func:`ipfy_from_map`,
    :func:`spfy_from_map`, :func:`ccpfy_from_map`.

(a) is (b) applied to the map of *detected* photons, so both share one integration rule.

Fluorescence with self-absorption
---------------------------------
A photon of energy E enters at angle α from the surface; a photon of energy E' leaves towards the detector at
angle β.  For a stack of homogeneous layers j (thickness :math:`t_j`, top at depth :math:`z_j`) the detected
emission density is, exactly,

.. math::
    D(E, E') = \\frac{\\Omega}{4\\pi} \\sum_j \\frac{S_j(E, E')}{\\sin\\alpha}
               \\, e^{-\\sum_{i<j} k_i t_i}\\, \\frac{1 - e^{-k_j t_j}}{k_j},
    \\qquad k_j = \\frac{\\mu_j(E)}{\\sin\\alpha} + \\frac{\\mu_j(E')}{\\sin\\beta},

with :math:`\\mu_j` the total linear attenuation of layer j (1/nm) and :math:`S_j(E, E')` the emission per unit
path: for a line ℓ of element a from core shell s, :math:`S = \\mu_{a,j}(E)\\, h_s(E)\\, \\omega_s\\, b_\\ell\\,
g_\\ell(E')` (photoabsorption of a, core holes in s per absorption after Coster–Kronig transfer — see
:func:`hole_populations` —, fluorescence yield, branching, unit-area line shape).
For one thick layer this is the textbook

.. math:: I_F(E) \\propto \\frac{\\varepsilon\\,\\mu_a(E)}{\\mu(E) + \\mu(E_F)\\,\\sin\\alpha/\\sin\\beta}

and for finite thickness d it gains :math:`1 - \\exp[-(\\mu(E)/\\sin\\alpha + \\mu(E_F)/\\sin\\beta)\\,d]`.
The last layer is the bulk; with finite thickness nothing lies beneath it (a free-standing film).

The emission of an oxide at a TM L edge therefore holds: the TM's own L lines (or the RIXS map), the TM
3s→2p (Ll, Ln) and 3p→2p core–core lines, and the non-resonant O Kα (≈525 eV) excited by the continuum
O 1s absorption.  O Kα passes through the sample at 525 eV, where μ is flat, but the *incoming* beam is
attenuated by the TM resonance: the O contribution to TFY dips exactly where the TM absorbs (seed review,
Fig. 2, white arrows) — which is why the inverse of it, iPFY (Achkar et al., Sci. Rep. 1, 182 (2011)),

.. math:: \\mathrm{iPFY}(E) = \\frac{I_0}{I_\\mathrm{O}(E)} \\propto
          \\frac{\\mu(E) + \\mu(E_\\mathrm{O\\,K\\alpha})\\,\\sin\\alpha/\\sin\\beta}{\\mu_{\\mathrm{O},1s}(E)},

is linear in the total absorption μ(E) (the O 1s continuum in the denominator varies slowly).

Electron yield
--------------
TEY counts electrons from all absorption events within the electron escape depth λ_e:

.. math:: Y(E) \\propto \\sum_j \\frac{\\mu^\\mathrm{photo}_j(E)}{\\sin\\alpha}\\, e^{-\\sum_{i<j} k_i t_i}
          \\frac{1 - e^{-k_j t_j}}{k_j}, \\qquad k_j = \\frac{\\mu_j(E)}{\\sin\\alpha} + \\frac{1}{\\lambda_e},

so a surface layer thicker than λ_e (default 3 nm) dominates it.  The secondary-electron gain is taken as
energy independent across one edge.

Approximations
--------------
Coster–Kronig transfer moves holes between L sub-shells (:func:`hole_populations`) but not its satellite
shift; radiative cascades and secondary fluorescence are not included; lines are
Gaussian of one FWHM (spectrometer resolution and natural width together); the TM's valence emission without
a RIXS map is its tabulated Lα/Lβ lines with energy-independent yields (fluorescence ∝ absorption).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

import numpy as np
import xraydb
from scipy.interpolate import RegularGridInterpolator
from scipy.special import erf

from rixsim import validate
from rixsim.detection.sample import (
    Geometry,
    Layer,
    Sample,
    _check_element,
    element_mu_per_nm,
    layer_mu_per_nm,
    shell_photo_fraction,
)
from rixsim.errors import InputError
from rixsim.results import RixsMap, Spectrum

log = logging.getLogger(__name__)

__all__ = [
    "EmissionLine", "emission_lines", "hole_populations", "ChannelWindows", "default_windows", "detected_map",
    "tey", "predict_channels", "Channels", "window_yield", "tfy_from_map", "pfy_from_map", "ipfy_from_map",
    "spfy_from_map", "ccpfy_from_map", "channels_from_map", "true_absorption", "normalise_edge",
    "match_to_reference", "r_factor", "l3_l2_ratio", "DEFAULT_ELECTRON_ESCAPE_NM",
]

# Electron escape depth of TEY, ≈2–3 nm for 3d metals and oxides at the TM L edges: Ni metal 2.5 ± 0.2 nm
# (Ufuktepe et al., X-Ray Spectrom. 40, 427 (2011)); Fe 1.7, Co 2.5, Ni 2.5 nm (Nakajima, Stöhr & Idzerda,
# PRB 59, 6421 (1999), values as recalled, not re-checked here).
DEFAULT_ELECTRON_ESCAPE_NM = 3.0

_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
# A line whose final level is bound by more than this (eV) is a core–core line (e.g. 3s→2p, 3p→2p of a 3d
# metal: M1 ≈ 80 eV, M2,3 ≈ 50 eV), else a valence line (3d→2p; O 2p→1s).  Binding energies: Elam 2002.
_CORE_LEVEL_MIN_EV = 30.0


# --------------------------------------------------------------------------------------------------------
# emission lines
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EmissionLine:
    """One tabulated fluorescence line (Elam et al. 2002, via ``xraydb.xray_lines``).

    ``yield_per_hole`` = fluorescence yield of ``shell`` × the line's share of that shell's radiative decay.
    """

    element: str
    shell: str
    name: str
    energy: float
    yield_per_hole: float
    final_level: str
    core_core: bool


@lru_cache(maxsize=128)
def _lines(element: str, min_energy_ev: float) -> tuple:
    edges = xraydb.xray_edges(element)
    out = []
    for name, line in xraydb.xray_lines(element).items():
        shell = line.initial_level
        if line.energy < min_energy_ev or shell not in edges:
            continue
        omega = edges[shell].fyield
        if omega <= 0 or line.intensity <= 0:
            continue
        finals = []
        for tok in (t.strip() for t in line.final_level.split(",")):
            finals.append(finals[-1][0] + tok if tok.isdigit() and finals else tok)  # "M4,5" → M4, M5
        binding = [edges[f].energy for f in finals if f in edges]
        cc = bool(binding) and min(binding) > _CORE_LEVEL_MIN_EV
        out.append(EmissionLine(element, shell, name, float(line.energy), float(omega * line.intensity),
                                line.final_level, cc))
    return tuple(sorted(out, key=lambda ln: ln.energy))


def emission_lines(element: str, min_energy_ev: float = 100.0) -> tuple:
    """Fluorescence lines of ``element`` at or above ``min_energy_ev`` (eV), with yields per core hole.

    Line energies, relative intensities and shell fluorescence yields are from Elam, Ravel & Sieber,
    Radiat. Phys. Chem. 63, 121 (2002) (yields as compiled there from Krause, J. Phys. Chem. Ref. Data 8,
    307 (1979)).  E.g. Mn: Ll (L3–M1, 556.4 eV) and Ln (L2–M1, 567.6 eV) are the 3s→2p core–core lines,
    Lα (636.7 eV) and Lβ1 (647.9 eV) the 3d→2p valence lines; O: Kα (524.9 eV).
    """
    _check_element(element)
    return _lines(element, float(validate.nonnegative(min_energy_ev, "min_energy_ev", "eV")))


_CK_SHELLS = ("L1", "L2", "L3")


def hole_populations(layer: Layer, element: str, energies, part: str = "all") -> dict:
    """Core holes per absorbed photon of ``element`` in each shell after Coster–Kronig transfer.

    .. math:: h_{L3} = f_{L3} + f_{23} f_{L2} + f_{13} f_{L1},\\qquad h_{L2} = f_{L2} + f_{12} f_{L1},
              \\qquad h_{L1} = f_{L1},\\qquad h_K = f_K

    with :math:`f_s` the shell fractions of :func:`~rixsim.detection.sample.shell_photo_fraction` and :math:`f_{ij}`
    the Coster–Kronig probabilities (``f13`` including the path via L2) of Elam et al. (2002) through
    ``xraydb.ck_probability`` (Mn: f23 = 0.39, f13 = 0.70, f12 = 0.30).  An L2 hole therefore emits L2
    lines with the L2 yield and, after transfer, L3 lines with the L3 yield: a narrow window (sPFY on Lα,
    ccPFY) weighs the L2 edge differently from the absorption even without self-absorption, while the
    whole Mn L window happens to collect nearly the same per hole (0.0046 per L2, 0.0045 per L3 hole).
    The satellite shift of emission from transferred holes (an extra M-shell spectator) is neglected.
    """
    E = np.atleast_1d(np.asarray(energies, dtype=float))
    edges = xraydb.xray_edges(element)
    f = {s: shell_photo_fraction(layer, element, s, E, part) for s in ("K",) + _CK_SHELLS if s in edges}
    h = dict(f)
    if all(s in f for s in _CK_SHELLS):
        ck = _ck(element)
        h["L3"] = f["L3"] + ck["L2", "L3"] * f["L2"] + ck["L1", "L3"] * f["L1"]
        h["L2"] = f["L2"] + ck["L1", "L2"] * f["L1"]
    return h


@lru_cache(maxsize=128)
def _ck(element: str) -> dict:
    return {(a, b): float(xraydb.ck_probability(element, a, b, total=True))
            for a, b in (("L2", "L3"), ("L1", "L3"), ("L1", "L2"))}


# --------------------------------------------------------------------------------------------------------
# windows
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChannelWindows:
    """Emission-energy windows (eV, absolute) that define the partial yields.

    pfy: the TM's valence (Lα/Lβ) emission; ipfy: a non-resonant line (O Kα); ccpfy: the TM's 3s→2p
    core–core lines; spfy: a 1–2 eV slice (super-partial fluorescence yield, seed review §2.3).
    """

    pfy: tuple
    ipfy: tuple
    ccpfy: tuple
    spfy: tuple
    element: str = ""
    ipfy_element: str = ""

    def __post_init__(self):
        for name in ("pfy", "ipfy", "ccpfy", "spfy"):
            object.__setattr__(self, name, _window(getattr(self, name), name))


def _window(w, name="window") -> tuple:
    try:
        lo, hi = (float(v) for v in w)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a pair (low, high) of emission energies in eV; got {w!r}") from exc
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        raise InputError(f"{name} must satisfy low < high (eV); got {w!r}")
    return (lo, hi)


def default_windows(element: str, ipfy_element: str = "O", spfy_center: float | None = None,
                    spfy_width_ev: float = 1.0) -> ChannelWindows:
    """Windows for the L edge of a 3d TM: PFY = Lα − 7 … Lβ1 + 3 eV, iPFY = Kα of ``ipfy_element`` ± 5 eV,
    ccPFY = Ll − 6 … Ln + 6 eV, sPFY = ``spfy_width_ev`` around ``spfy_center`` (default Lα).

    For Mn this gives PFY 629.7–650.9 eV and iPFY 519.9–529.9 eV, the ranges of the seed review's Fig. 2
    (630–650 and 520–530 eV), and ccPFY 550.4–573.6 eV around its ≈560 eV core–core line.
    """
    _check_element(element)
    _check_element(ipfy_element)
    lines = {ln.name: ln.energy for ln in emission_lines(element)}
    missing = {"La1", "Lb1", "Ll", "Ln"} - set(lines)
    if missing:
        raise InputError(f"{element} has no tabulated L lines {sorted(missing)}; give ChannelWindows yourself")
    nr = [ln for ln in emission_lines(ipfy_element) if ln.shell == "K"]
    if not nr:
        raise InputError(f"{ipfy_element} has no K line above 100 eV for iPFY; choose another element")
    e_nr = max(nr, key=lambda ln: ln.yield_per_hole).energy
    c = lines["La1"] if spfy_center is None else float(spfy_center)
    w = validate.width(spfy_width_ev, "spfy_width_ev", allow_zero=False)
    return ChannelWindows(pfy=(lines["La1"] - 7.0, lines["Lb1"] + 3.0), ipfy=(e_nr - 5.0, e_nr + 5.0),
                          ccpfy=(lines["Ll"] - 6.0, lines["Ln"] + 6.0), spfy=(c - w / 2, c + w / 2),
                          element=element, ipfy_element=ipfy_element)


# --------------------------------------------------------------------------------------------------------
# depth integral (the one kernel)
# --------------------------------------------------------------------------------------------------------
def _slab_weights(k_layers, thickness_nm) -> list:
    """``exp(−Σ_{i<j} k_i t_i) (1 − exp(−k_j t_j)) / k_j`` for each layer j (k in 1/nm, arrays broadcast)."""
    out, above = [], 0.0
    for k, t in zip(k_layers, thickness_nm):
        if np.isinf(t):
            p = 1.0 / k
        else:
            p = -np.expm1(-k * t) / k
        out.append(np.exp(-above) * p)
        above = above + (k * t if np.isfinite(t) else np.inf)
    return out


def _bin_edges(axis: np.ndarray) -> np.ndarray:
    if axis.size == 1:
        return np.array([axis[0] - 0.5, axis[0] + 0.5])
    mid = 0.5 * (axis[1:] + axis[:-1])
    return np.concatenate([[2 * axis[0] - mid[0]], mid, [2 * axis[-1] - mid[-1]]])


def _gauss_bins(edges: np.ndarray, centre: float, fwhm: float) -> np.ndarray:
    """Unit-area Gaussian integrated over each bin, divided by the bin width (a density, 1/eV)."""
    s = fwhm / _FWHM_PER_SIGMA * math.sqrt(2.0)
    cdf = 0.5 * (1.0 + erf((edges - centre) / s))
    return np.diff(cdf) / np.diff(edges)


def _map_on(rmap: RixsMap, excitation: np.ndarray, emission: np.ndarray) -> np.ndarray:
    """A map's intensity interpolated onto (excitation, emission); zero outside its range."""
    if rmap.on_loss_axis:
        out = np.zeros((excitation.size, emission.size))
        rows = np.array([np.interp(excitation, rmap.excitation, rmap.intensity[:, j], left=0.0, right=0.0)
                         for j in range(rmap.loss.size)]).T
        order = np.argsort(rmap.loss)
        for i, e in enumerate(excitation):
            emi = e - rmap.loss[order][::-1]
            out[i] = np.interp(emission, emi, rows[i, order][::-1], left=0.0, right=0.0)
        return out
    interp = RegularGridInterpolator((rmap.excitation, rmap.emission), rmap.intensity,
                                     bounds_error=False, fill_value=0.0)
    X, Y = np.meshgrid(excitation, emission, indexing="ij")
    return interp(np.stack([X, Y], axis=-1))


# --------------------------------------------------------------------------------------------------------
# prediction
# --------------------------------------------------------------------------------------------------------
def _resonant_part(rmap, layer, tm, E, Ep, edges, parts, lines):
    """The resonant map scaled to the white-line emission of ``tm`` in ``layer``: the map stands for the decay of
    the bound (white-line) excitations and is scaled by one factor, the least-squares match of its
    emission-integrated rows to the white-line emission of ``lines``."""
    m = np.clip(_map_on(rmap, E, Ep), 0.0, None)
    mu_el = element_mu_per_nm(layer, tm, E, "photo")
    white = parts["white"]
    target = sum(mu_el * white.get(ln.shell, 0.0) * ln.yield_per_hole for ln in lines)
    row = m @ np.diff(edges)
    denom = float(row @ row)
    if denom <= 0:
        raise InputError(f"resonant map for {layer.formula} has no intensity on the excitation range "
                         f"{E[0]:.2f}–{E[-1]:.2f} eV")
    return (float(target @ row) / denom) * m


def _resonant_maps(sample: Sample, resonant_maps) -> tuple:
    layers = sample.layers
    if resonant_maps is None:
        return (None,) * len(layers)
    if isinstance(resonant_maps, RixsMap):
        return (resonant_maps,) * len(layers)
    maps = tuple(resonant_maps)
    if len(maps) != len(layers):
        raise InputError(f"resonant_maps needs one RixsMap (or None) per layer ({len(layers)}); got {len(maps)}")
    for m in maps:
        if m is not None and not isinstance(m, RixsMap):
            raise InputError(f"resonant_maps entries must be RixsMap or None; got {type(m).__name__}")
    return maps


def _default_emission_axis(sample: Sample, excitation: np.ndarray, min_line_energy_ev: float,
                           line_fwhm: float) -> np.ndarray:
    lines = [ln.energy for el in sample.elements for ln in emission_lines(el, min_line_energy_ev)
             if ln.energy < excitation[-1]]
    lo = (min(lines) if lines else excitation[0]) - 4.0 * line_fwhm - 2.0
    hi = excitation[-1] + 4.0 * line_fwhm + 2.0
    step = min(0.1, line_fwhm / 10.0)
    return np.arange(max(lo, 1.0), hi + step, step)


def detected_map(sample: Sample, geometry: Geometry, excitation, emission=None, *,
                 resonant_element: str | None = None, resonant_maps=None, line_fwhm: float = 1.0,
                 min_line_energy_ev: float = 100.0, shell_resolved_yields: bool = True) -> RixsMap:
    """Map of detected photons (per incident photon per eV of emission) with self-absorption, all layers.

    Parameters
    ----------
    sample, geometry : Sample, Geometry
    excitation : array_like
        Incident photon energies (eV, absolute, increasing).
    emission : array_like, optional
        Emission axis (eV, absolute, increasing); default spans every line the sample emits between
        ``min_line_energy_ev`` and the highest excitation energy, in steps of min(0.1, line_fwhm/10) eV.
    resonant_element : str, optional
        The scanned TM.  Needed only with ``resonant_maps``.
    resonant_maps : RixsMap, or a sequence with one RixsMap or None per layer, optional
        Resonant emission of ``resonant_element`` from the RIXS engine (or a measurement, arbitrary
        units).  Inside each map's emission range it replaces the TM's tabulated valence lines (Lα, Lβ)
        for the white-line (bound 2p→3d) part of the absorption; the edge-step (continuum) part still emits
        the tabulated lines, and core–core lines are still added from the tables.  Each map is scaled so that
        its emission integral matches, in least squares over excitation energy, the tabulated yield × the
        TM's white-line absorption of that layer — the map fixes the shape, the tables the size.
    line_fwhm : float
        Gaussian FWHM (eV) of every tabulated line (spectrometer resolution and natural width).
    min_line_energy_ev : float
        Lines below this energy are left out (detector threshold; Li K, TM M lines).
    shell_resolved_yields : bool
        True (default): L3 and L2 holes of every element decay with their own tabulated yields and lines,
        after Coster–Kronig transfer (:func:`hole_populations`) — so even a thin dilute sample's narrow-window
        yields are not proportional to the absorption (cf. de Groot et al., Solid State Commun. 92, 991
        (1994), for the further, multiplet-resolved decay effects a RIXS map adds).  False: every
        L hole of ``resonant_element`` (or of any element with a resonance, when ``resonant_element`` is
        None) decays like an L3 hole — TM fluorescence ∝ TM absorption with one energy-independent yield.

    Returns
    -------
    RixsMap
        ``intensity[i, j]`` in photons / incident photon / eV.
    """
    if not isinstance(sample, Sample):
        raise InputError(f"sample must be a rixsim.detection.sample.Sample; got {type(sample).__name__}")
    if not isinstance(geometry, Geometry):
        raise InputError(f"geometry must be a rixsim.detection.sample.Geometry; got {type(geometry).__name__}")
    E = validate.energy_axis(excitation, "excitation")
    fwhm = validate.width(line_fwhm, "line_fwhm", allow_zero=False)
    min_e = validate.nonnegative(min_line_energy_ev, "min_line_energy_ev", "eV")
    Ep = (_default_emission_axis(sample, E, min_e, fwhm) if emission is None
          else validate.energy_axis(emission, "emission", min_points=2))
    maps = _resonant_maps(sample, resonant_maps)
    if any(m is not None for m in maps):
        if resonant_element is None:
            raise InputError("resonant_maps given without resonant_element (e.g. 'Mn')")
        _check_element(resonant_element)
    edges = _bin_edges(Ep)
    total = _detected_kernel(sample, geometry, E, Ep, edges, fwhm, min_e, resonant_element, maps,
                             bool(shell_resolved_yields))
    label = "detected emission, " + ", ".join(layer.name or layer.formula for layer in sample.layers)
    return RixsMap(E, Ep, total, label=label, units="photons / incident photon / eV",
                   meta={"incidence_deg": geometry.incidence_deg, "exit_deg": geometry.exit_deg,
                         "solid_angle_fraction": geometry.solid_angle_fraction, "line_fwhm": fwhm,
                         "resonant_element": resonant_element,
                         "shell_resolved_yields": bool(shell_resolved_yields)})


def _holes_single_yield(layer, element, E, part) -> dict:
    """Every primary L hole decays as an L3 hole (one yield for the whole L edge; no Coster–Kronig)."""
    h = hole_populations(layer, element, E, part)
    if "L3" in h:
        h["L3"] = sum(shell_photo_fraction(layer, element, s, E, part) for s in _CK_SHELLS if s in h)
        for s in ("L1", "L2"):
            if s in h:
                h[s] = np.zeros_like(h["L3"])
    return h


def _detected_kernel(sample, geometry, E, Ep, edges, fwhm, min_e, tm, maps, resolved=True):
    sa, sb = geometry.sin_in, geometry.sin_out
    layers = sample.layers
    mu_in = [layer_mu_per_nm(layer, E, "total") for layer in layers]
    mu_out = [layer_mu_per_nm(layer, Ep, "total") for layer in layers]
    k = [mi[:, None] / sa + mo[None, :] / sb for mi, mo in zip(mu_in, mu_out)]
    weights = _slab_weights(k, [layer.thickness_nm for layer in layers])
    total = np.zeros((E.size, Ep.size))
    for j, layer in enumerate(layers):
        src = np.zeros((E.size, Ep.size))
        rmap = maps[j] if tm in layer.composition else None
        if rmap is not None:
            covered = (Ep >= _emission_min(rmap)) & (Ep <= _emission_max(rmap))
        for el in layer.composition:
            lines = [ln for ln in emission_lines(el, min_e) if ln.energy < E[-1] + 5 * fwhm]
            if not lines:
                continue
            mu_el = element_mu_per_nm(layer, el, E, "photo")
            collapse = (not resolved) and ((el == tm) if tm is not None else bool(layer.resonances_of(el)))
            holes_of = _holes_single_yield if collapse else hole_populations
            parts = {p: holes_of(layer, el, E, p) for p in ("all", "step", "white")}
            holes = parts["all"]
            replaced = []
            for ln in lines:
                line_shape = _gauss_bins(edges, ln.energy, fwhm)[None, :]
                if rmap is not None and el == tm and not ln.core_core and covered[np.argmin(abs(Ep - ln.energy))]:
                    # the map stands for the decay of bound (white-line) excitations; continuum
                    # ionisation (the edge step) still decays by normal fluorescence
                    replaced.append(ln)
                    step = parts["step"]
                    src += (mu_el * step.get(ln.shell, 0.0) * ln.yield_per_hole)[:, None] * line_shape
                    continue
                src += (mu_el * holes.get(ln.shell, 0.0) * ln.yield_per_hole)[:, None] * line_shape
            if replaced:
                src += _resonant_part(rmap, layer, tm, E, Ep, edges, parts, replaced)
        total += weights[j] * src / sa
    return geometry.solid_angle_fraction * total


def _emission_min(rmap: RixsMap) -> float:
    if rmap.on_loss_axis:
        return float(rmap.excitation.min() - rmap.loss.max())
    return float(rmap.emission.min())


def _emission_max(rmap: RixsMap) -> float:
    if rmap.on_loss_axis:
        return float(rmap.excitation.max() - rmap.loss.min())
    return float(rmap.emission.max())


def tey(sample: Sample, geometry: Geometry, excitation,
        electron_escape_nm: float = DEFAULT_ELECTRON_ESCAPE_NM) -> Spectrum:
    """Total electron yield (arb. units ∝ absorbed photons weighted by exp(−z/λ_e)), see module notes."""
    if not isinstance(sample, Sample):
        raise InputError(f"sample must be a rixsim.detection.sample.Sample; got {type(sample).__name__}")
    if not isinstance(geometry, Geometry):
        raise InputError(f"geometry must be a rixsim.detection.sample.Geometry; got {type(geometry).__name__}")
    E = validate.energy_axis(excitation, "excitation")
    lam = validate.number(electron_escape_nm, "electron_escape_nm", "nm", lo=0.0, lo_open=True)
    sa = geometry.sin_in
    layers = sample.layers
    k = [layer_mu_per_nm(layer, E, "total") / sa + 1.0 / lam for layer in layers]
    w = _slab_weights(k, [layer.thickness_nm for layer in layers])
    y = sum(wj * layer_mu_per_nm(layer, E, "photo") / sa for wj, layer in zip(w, layers))
    return Spectrum(E, y, label="TEY", units="absorbed photons within λ_e (arb. units)",
                    meta={"channel": "TEY", "electron_escape_nm": lam, "incidence_deg": geometry.incidence_deg})


# --------------------------------------------------------------------------------------------------------
# extraction from maps
# --------------------------------------------------------------------------------------------------------
def _emission_edges_2d(rmap: RixsMap) -> np.ndarray:
    """Per-row emission bin edges (n_exc, n_second + 1), increasing along each row."""
    if not rmap.on_loss_axis:
        return np.broadcast_to(_bin_edges(rmap.emission), (rmap.excitation.size, rmap.emission.size + 1))
    le = _bin_edges(rmap.loss)
    return rmap.excitation[:, None] - le[None, :]  # decreasing in emission; sorted in _overlap


def window_yield(rmap: RixsMap, window, *, counts: bool = False, label: str = "") -> Spectrum:
    """Emission integrated over ``window = (low, high)`` (eV, absolute emission) at every excitation energy.

    Each map value is taken as constant over its bin (bins end half-way between axis points), so a bin cut by
    the window contributes the overlapping fraction.  ``counts=False`` treats the intensity as a density
    per eV (result = ∫ I dE'); ``counts=True`` as counts per bin (result = Σ counts × overlap fraction).
    Disjoint windows that tile the emission range therefore add up exactly to :func:`tfy_from_map`.

    For a map on a loss axis each row covers its own emission range (excitation − loss); the window is
    checked against the union of the rows and simply collects less on rows that cover less of it.

    Raises
    ------
    InputError
        If the window reaches outside the map's emission range.
    """
    if not isinstance(rmap, RixsMap):
        raise InputError(f"expected a RixsMap; got {type(rmap).__name__}")
    lo, hi = _window(window, "window")
    edges = _emission_edges_2d(rmap)
    e_lo, e_hi = np.minimum(edges[:, :-1], edges[:, 1:]), np.maximum(edges[:, :-1], edges[:, 1:])
    cover_lo, cover_hi = float(e_lo.min()), float(e_hi.max())
    tol = 1e-9 * max(1.0, abs(cover_hi))
    if lo < cover_lo - tol or hi > cover_hi + tol:
        raise InputError(f"window ({lo:g}, {hi:g}) eV reaches outside the map's emission range "
                         f"({cover_lo:g}, {cover_hi:g}) eV")
    overlap = np.clip(np.minimum(e_hi, hi) - np.maximum(e_lo, lo), 0.0, None)
    weight = overlap / (e_hi - e_lo) if counts else overlap
    y = np.sum(rmap.intensity * weight, axis=1)
    return Spectrum(rmap.excitation, y, label=label or f"yield {lo:g}–{hi:g} eV",
                    units=rmap.units if counts else f"({rmap.units}) × eV",
                    meta={"window_ev": (lo, hi), "counts": counts})


def _full_window(rmap: RixsMap) -> tuple:
    edges = _emission_edges_2d(rmap)
    return float(edges.min()), float(edges.max())


def tfy_from_map(rmap: RixsMap, *, counts: bool = False) -> Spectrum:
    """Total fluorescence yield: all emission in the map."""
    s = window_yield(rmap, _full_window(rmap), counts=counts, label="TFY")
    return Spectrum(s.energy, s.intensity, "TFY", s.units, meta={**s.meta, "channel": "TFY"})


def pfy_from_map(rmap: RixsMap, window, *, counts: bool = False) -> Spectrum:
    """Partial fluorescence yield in the TM emission window (e.g. Mn 630–650 eV)."""
    s = window_yield(rmap, window, counts=counts)
    return Spectrum(s.energy, s.intensity, "PFY", s.units, meta={**s.meta, "channel": "PFY"})


def spfy_from_map(rmap: RixsMap, window, *, counts: bool = False) -> Spectrum:
    """Super-partial fluorescence yield: a 1–2 eV emission window (seed review §2.3)."""
    lo, hi = _window(window, "sPFY window")
    if hi - lo > 2.0 + 1e-12:
        raise InputError(f"an sPFY window is 1–2 eV wide by definition; got {hi - lo:g} eV (use pfy_from_map)")
    s = window_yield(rmap, (lo, hi), counts=counts)
    return Spectrum(s.energy, s.intensity, "sPFY", s.units, meta={**s.meta, "channel": "sPFY"})


def ccpfy_from_map(rmap: RixsMap, window, *, counts: bool = False) -> Spectrum:
    """Core–core partial fluorescence yield (TM 3s→2p lines, ≈556–568 eV for Mn)."""
    s = window_yield(rmap, window, counts=counts)
    return Spectrum(s.energy, s.intensity, "ccPFY", s.units, meta={**s.meta, "channel": "ccPFY"})


def ipfy_from_map(rmap: RixsMap, window, *, counts: bool = False) -> Spectrum:
    """Inverse partial fluorescence yield: I0 / (non-resonant emission in ``window``), e.g. O Kα 520–530 eV.

    ``rmap`` must be normalised to the incident flux I0 already (a simulated map is per incident photon).
    """
    s = window_yield(rmap, window, counts=counts)
    if (s.intensity <= 0).any():
        i = int(np.flatnonzero(s.intensity <= 0)[0])
        raise InputError(f"iPFY window {s.meta['window_ev']} has no intensity at excitation "
                         f"{s.energy[i]:g} eV; its inverse is undefined")
    return Spectrum(s.energy, 1.0 / s.intensity, "iPFY", f"1 / ({s.units})",
                    meta={**s.meta, "channel": "iPFY"})


def channels_from_map(rmap: RixsMap, windows: ChannelWindows, *, counts: bool = False) -> dict:
    """TFY, PFY, iPFY, sPFY and ccPFY of any map (simulated or measured) for the given ``windows``.

    A measured map must already be divided by I0 for iPFY to be meaningful.  Returns ``{name: Spectrum}``.
    """
    if not isinstance(windows, ChannelWindows):
        raise InputError(f"windows must be a ChannelWindows; got {type(windows).__name__}")
    return {"TFY": tfy_from_map(rmap, counts=counts), "PFY": pfy_from_map(rmap, windows.pfy, counts=counts),
            "iPFY": ipfy_from_map(rmap, windows.ipfy, counts=counts),
            "sPFY": spfy_from_map(rmap, windows.spfy, counts=counts),
            "ccPFY": ccpfy_from_map(rmap, windows.ccpfy, counts=counts)}


# --------------------------------------------------------------------------------------------------------
# everything at once
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Channels:
    """Predicted detection channels on one excitation axis, with the detected map they came from."""

    tey: Spectrum
    tfy: Spectrum
    pfy: Spectrum
    ipfy: Spectrum | None
    spfy: Spectrum
    ccpfy: Spectrum
    windows: ChannelWindows
    detected: RixsMap
    meta: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """``{name: Spectrum}`` of the channels present (iPFY is None when its element is absent)."""
        d = {"TEY": self.tey, "TFY": self.tfy, "PFY": self.pfy, "iPFY": self.ipfy, "sPFY": self.spfy,
             "ccPFY": self.ccpfy}
        return {k: v for k, v in d.items() if v is not None}


def predict_channels(sample: Sample, geometry: Geometry, excitation, resonant_element: str, *,
                     windows: ChannelWindows | None = None, resonant_maps=None, emission=None,
                     line_fwhm: float = 1.0, electron_escape_nm: float = DEFAULT_ELECTRON_ESCAPE_NM,
                     min_line_energy_ev: float = 100.0, shell_resolved_yields: bool = True,
                     memory_gb: float | None = None) -> Channels:
    """All six channels of a TM L-edge scan: the detected map (:func:`detected_map`) cut by ``windows``
    (default :func:`default_windows` of ``resonant_element`` with O Kα for iPFY) plus :func:`tey`.

    ``excitation`` is in eV (absolute); an axis far from the element's L3 edge (keV, say) warns with
    :class:`~rixsim.errors.SuspiciousInputWarning`.  ``memory_gb`` (GB; default
    :func:`rixsim.memory.default_budget_bytes`) bounds the detected map and its per-layer parts, refused
    before any work when over the budget.
    """
    from rixsim import memory
    _check_element(resonant_element)
    exc_ax = validate.energy_axis(excitation, "excitation")
    l3 = float(xraydb.xray_edge(resonant_element, "L3").energy)
    validate.axis_near(exc_ax, l3 - 15.0, l3 + 40.0, "excitation", f"the {resonant_element} L2,3 edge", 30.0,
                       stacklevel=3)
    if emission is not None:
        n_emi = np.size(emission)
    elif isinstance(sample, Sample):
        n_emi = _default_emission_axis(sample, exc_ax, validate.number(min_line_energy_ev, "min_line_energy_ev",
                                                                       "eV", lo=0.0),
                                       validate.width(line_fwhm, "line_fwhm", allow_zero=False)).size
    else:
        n_emi = 1
    n_layers = len(getattr(sample, "layers", ())) or 1
    memory.plan(8 * exc_ax.size * n_emi * (4 + 2 * n_layers),
                f"detected channels of {exc_ax.size} excitation × {n_emi} emission energies", memory_gb)
    if isinstance(sample, Sample) and resonant_element not in sample.elements:
        raise InputError(f"resonant_element {resonant_element!r} is not in the sample (elements: "
                         f"{', '.join(sample.elements)})")
    win = windows if windows is not None else default_windows(resonant_element)
    if not isinstance(win, ChannelWindows):
        raise InputError(f"windows must be a ChannelWindows; got {type(win).__name__}")
    dmap = detected_map(sample, geometry, excitation, emission, resonant_element=resonant_element,
                        resonant_maps=resonant_maps, line_fwhm=line_fwhm, min_line_energy_ev=min_line_energy_ev,
                        shell_resolved_yields=shell_resolved_yields)
    ipfy = None
    if win.ipfy_element and win.ipfy_element not in sample.elements:
        log.warning("no %s in the sample: iPFY (window %s eV) left out; pass ChannelWindows with another "
                    "non-resonant line (e.g. F Kα for fluorides)", win.ipfy_element, win.ipfy)
    else:
        ipfy = ipfy_from_map(dmap, win.ipfy)
    return Channels(tey=tey(sample, geometry, excitation, electron_escape_nm), tfy=tfy_from_map(dmap),
                    pfy=pfy_from_map(dmap, win.pfy), ipfy=ipfy,
                    spfy=spfy_from_map(dmap, win.spfy), ccpfy=ccpfy_from_map(dmap, win.ccpfy),
                    windows=win, detected=dmap, meta={"resonant_element": resonant_element})


# --------------------------------------------------------------------------------------------------------
# reference absorption and distortion measures
# --------------------------------------------------------------------------------------------------------
def true_absorption(layer: Layer, element: str, energies, kind: str = "photo") -> Spectrum:
    """The element's own linear absorption μ_a(E) in a layer (1/nm): what an undistorted channel follows."""
    if not isinstance(layer, Layer):
        raise InputError(f"layer must be a rixsim.detection.sample.Layer; got {type(layer).__name__}")
    E = validate.energy_axis(energies, "energies")
    if element not in layer.composition:
        raise InputError(f"{element!r} is not in {layer.formula!r}")
    return Spectrum(E, element_mu_per_nm(layer, element, E, kind), label=f"μ_{element} ({layer.formula})",
                    units="1/nm")


def normalise_edge(spectrum: Spectrum, pre_ev: float = 3.0, post_ev: float = 3.0) -> np.ndarray:
    """Edge-jump normalisation as done to data: mean of the first ``pre_ev`` → 0, mean of the last
    ``post_ev`` → 1 (eV ranges at the ends of the spectrum)."""
    if not isinstance(spectrum, Spectrum):
        raise InputError(f"expected a Spectrum; got {type(spectrum).__name__}")
    e, y = spectrum.energy, spectrum.intensity
    pre = y[e <= e[0] + pre_ev].mean()
    post = y[e >= e[-1] - post_ev].mean()
    if post == pre:
        raise InputError("pre- and post-edge levels are equal; cannot normalise to an edge jump")
    return (y - pre) / (post - pre)


def match_to_reference(spectrum: Spectrum, reference: Spectrum, pre_ev: float = 3.0,
                       post_ev: float = 3.0) -> np.ndarray:
    r"""A channel put on the scale of an edge-normalised reference, as a spectroscopist would.

    The reference is edge-jump normalised (:func:`normalise_edge`); the channel ``y`` (interpolated onto
    the reference's axis) is fitted by least squares as :math:`y \approx A\,r + B + C\,E` (scale plus a
    linear background: the other elements' smooth absorption and the detector's offset) and returned as
    :math:`(y - B - C E)/A`.  A channel proportional to the absorption plus any straight background comes out
    equal to the reference; lineshape distortion cannot be fitted away.
    """
    r = normalise_edge(reference, pre_ev, post_ev)
    e = reference.energy
    y = np.interp(e, spectrum.energy, spectrum.intensity)
    design = np.column_stack([r, np.ones_like(e), e - e.mean()])
    (a, b, c), *_ = np.linalg.lstsq(design, y, rcond=None)
    if a == 0:
        raise InputError("the channel has no component along the reference; cannot normalise")
    return (y - b - c * (e - e.mean())) / a


def r_factor(spectrum: Spectrum, reference: Spectrum, pre_ev: float = 3.0, post_ev: float = 3.0) -> float:
    """R = Σ(y_n − r)² / Σ r² with r the edge-normalised reference and y_n = :func:`match_to_reference`."""
    r = normalise_edge(reference, pre_ev, post_ev)
    y = match_to_reference(spectrum, reference, pre_ev, post_ev)
    return float(np.sum((y - r) ** 2) / np.sum(r ** 2))


def l3_l2_ratio(spectrum: Spectrum, split_ev: float, reference: Spectrum | None = None) -> float:
    """Ratio of the L3 to the L2 maximum (split at ``split_ev``, eV).

    With a ``reference`` the spectrum is first put on its scale (:func:`match_to_reference`), so a channel
    with a background reports the ratio of its edge features; without, the raw maxima are compared after
    subtracting the first value (pre-edge).
    """
    e = spectrum.energy if reference is None else reference.energy
    if reference is None:
        y = spectrum.intensity - spectrum.intensity[0]
    else:
        y = match_to_reference(spectrum, reference)
    below, above = e < split_ev, e >= split_ev
    if not below.any() or not above.any():
        raise InputError(f"split_ev={split_ev} must lie inside the spectrum ({e[0]:g}–{e[-1]:g} eV)")
    return float(y[below].max() / y[above].max())

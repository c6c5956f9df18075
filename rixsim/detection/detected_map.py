"""The mRIXS map a beamline records from a sample: every emission band, self-absorption, detection channels.

:func:`detected_mrixs_map` puts on one absolute (excitation × emission) grid

* the scanned TM's resonant emission — a cluster map, e.g. Raman + fluorescence from
  :func:`rixsim.spectroscopy.fluorescence.fluorescence_map` — for its white-line (bound 2p→3d) absorption, and
  its tabulated Lα/Lβ lines for the continuum (edge-step) absorption;
* every other band of :func:`rixsim.detection.emission_bands.emission_bands` with its shape: the TM 3s→2p
  core–core lines with their lifetime widths, the O Kα band of the oxide, C/F Kα of carbon and binder layers;
* elastic (Rayleigh) scattering of every element, :math:`\\mu_\\mathrm{coh}(E)` at E' = E with the
  spectrometer resolution (the cluster's own resonant elastic line is part of its map);

and attenuates each point with the exact layer-stack formula of :mod:`rixsim.detection.channels` —
incident attenuation μ(E)/sin α at each excitation energy, exit attenuation μ(E')/sin β at each emission
energy:

.. math::
    D(E, E') = \\frac{\\Omega}{4\\pi} \\sum_j \\frac{S_j(E, E')}{\\sin\\alpha}
               \\, e^{-\\sum_{i<j} k_i t_i}\\, \\frac{1 - e^{-k_j t_j}}{k_j},
    \\qquad k_j = \\frac{\\mu_j(E)}{\\sin\\alpha} + \\frac{\\mu_j(E')}{\\sin\\beta}.

The dip of O Kα where the TM absorbs (the seed review's Fig. 2 white arrows) and the saturation of the TM
emission therefore come out of the map itself; every channel is a window of it
(:meth:`DetectedMap.channels`).  With Gaussian lines only (``natural_widths=False``, ``light_band_fwhm=0``,
``elastic=False``) the map is exactly :func:`rixsim.detection.channels.detected_map` with
``line_fwhm = resolution_fwhm``; for a thin film (k t → 0) it tends to the undistorted source
:math:`\\frac{\\Omega}{4\\pi} \\sum_j S_j t_j / \\sin\\alpha`.

The resonant map fixes the *shape* of the TM emission and the tables its *size*: it is scaled so that its
emission integral matches, in least squares over the excitation axis, the tabulated yield × the TM's
white-line absorption of the layer (as in :func:`rixsim.detection.channels.detected_map`).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import xraydb
from scipy.special import erf

from rixsim import validate
from rixsim.detection.channels import (
    DEFAULT_ELECTRON_ESCAPE_NM,
    ChannelWindows,
    _bin_edges,
    _emission_max,
    _emission_min,
    _holes_single_yield,
    _resonant_part,
    _slab_weights,
    channels_from_map,
    default_windows,
    hole_populations,
    tey,
)
from rixsim.detection.emission_bands import (
    LIGHT_ELEMENT_BAND_FWHM,
    band_profile,
    emission_bands,
)
from rixsim.detection.sample import (
    Geometry,
    Sample,
    _check_element,
    element_mu_per_nm,
    layer_mu_per_nm,
)
from rixsim.errors import InputError
from rixsim.results import RixsMap, Spectrum

__all__ = ["DetectedMap", "detected_mrixs_map"]

log = logging.getLogger(__name__)

_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
_PER_CM_TO_PER_NM = 1e-7


@dataclass(frozen=True)
class DetectedMap:
    """A detected map with what it is made of.

    Attributes
    ----------
    detected : RixsMap
        Photons / incident photon / eV of emission, self-absorption included.
    components : mapping str → ndarray
        The detected map split by emitter (``"Mn valence"``, ``"Mn core-core"``, ``"O valence"``,
        ``"elastic"``, …); they add up to ``detected.intensity``.
    sources : tuple of ndarray
        Undistorted emission per unit path of each layer, :math:`S_j(E, E')` (1/nm/eV), surface first.
    sample, geometry
    bands : tuple of EmissionBand
    """

    detected: RixsMap
    components: Mapping[str, np.ndarray]
    sources: tuple
    sample: Sample
    geometry: Geometry
    bands: tuple
    meta: Mapping[str, Any] = field(default_factory=dict)

    def undistorted(self) -> RixsMap:
        """:math:`\\frac{\\Omega}{4\\pi}\\sum_j S_j t_j / \\sin\\alpha` — what a thin film would give (finite
        layers only)."""
        layers = self.sample.layers
        if not all(np.isfinite(layer.thickness_nm) for layer in layers):
            raise InputError("the undistorted map needs finite layer thicknesses (a thin film)")
        z = sum(s * layer.thickness_nm for s, layer in zip(self.sources, layers))
        z = self.geometry.solid_angle_fraction * z / self.geometry.sin_in
        d = self.detected
        return RixsMap(d.excitation, d.emission, z, label="undistorted emission (no attenuation)",
                       units=d.units, meta=dict(d.meta))

    def channels(self, windows: ChannelWindows | None = None,
                 electron_escape_nm: float = DEFAULT_ELECTRON_ESCAPE_NM) -> dict:
        """TEY, TFY, PFY, iPFY, sPFY, ccPFY: windows of the detected map (default
        :func:`~rixsim.detection.channels.default_windows` of the resonant element) plus TEY."""
        el = self.meta.get("resonant_element")
        win = windows if windows is not None else default_windows(el)
        out = {"TEY": tey(self.sample, self.geometry, self.detected.excitation, electron_escape_nm)}
        out.update(channels_from_map(self.detected, win))
        return out




def _rayleigh(layer, E, edges, resolution_fwhm):
    """Coherent scattering per unit path, μ_coh(E) (1/nm) at E' = E, Gaussian of the spectrometer."""
    mu = sum(layer.density_g_cm3 * w * _PER_CM_TO_PER_NM * np.asarray(xraydb.mu_elam(el, E, kind="coh"))
             for el, w in layer.mass_fractions.items())
    s = max(resolution_fwhm, 1e-3) / _FWHM_PER_SIGMA * math.sqrt(2.0)
    cdf = 0.5 * (1.0 + erf((edges[None, :] - E[:, None]) / s))
    return mu[:, None] * np.diff(cdf, axis=1) / np.diff(edges)[None, :]


def detected_mrixs_map(sample: Sample, geometry: Geometry, excitation, emission, *,
                       resonant_element: str | None = None, resonant_map: RixsMap | None = None,
                       resolution_fwhm: float = 0.3, natural_widths: bool = True,
                       light_band_fwhm: float = LIGHT_ELEMENT_BAND_FWHM, elastic: bool = True,
                       min_line_energy_ev: float = 100.0, shell_resolved_yields: bool = True,
                       continuum_profile: Spectrum | None = None) -> DetectedMap:
    """The detected mRIXS map of ``sample`` (module formula), every band with its shape.

    Parameters
    ----------
    sample, geometry : Sample, Geometry
        Layers (composition, density, thickness, resonant spectra) and angles; a layer holding the TM
        should carry its ``ResonantEdge`` (the cluster XAS) so that μ(E) has the white lines.
    excitation, emission : array_like
        Absolute photon energies (eV), increasing.
    resonant_element : str, optional
        The scanned TM (e.g. ``"Mn"``); needed with ``resonant_map``.
    resonant_map : RixsMap, optional
        The TM's resonant emission (any units; on an emission or loss axis), e.g. Raman + fluorescence
        of the cluster.  It replaces the TM's tabulated valence lines for the white-line absorption in every
        layer holding the TM.
    resolution_fwhm : float
        Spectrometer Gaussian FWHM (eV) of every tabulated band.
    natural_widths : bool
        Lorentzian lifetime widths of the bands (:func:`~rixsim.detection.emission_bands.natural_fwhm`).
    light_band_fwhm : float
        Valence-band FWHM (eV) of C, N, O, F Kα.
    elastic : bool
        Add Rayleigh scattering of the sample at E' = E.
    min_line_energy_ev : float
        Bands below this energy are left out.
    shell_resolved_yields : bool
        As in :func:`rixsim.detection.channels.detected_map`.
    continuum_profile : Spectrum, optional
        Shape (any scale; made unit-area here) of the TM's normal 3d→2p emission after continuum (edge-step)
        ionisation, on absolute emission energies — e.g. the relaxed emission of the cluster
        (``RamanFluorescence.fluorescence`` at one excitation energy), which is on the model's own energy
        scale.  It replaces the shape of the tabulated Lα lines (L3 holes) and, shifted by the tabulated
        Lβ1 − Lα1 spacing, of the Lβ lines (L2 holes); their yields stay tabulated.  Default: tabulated lines.

    Returns
    -------
    DetectedMap
    """
    if not isinstance(sample, Sample):
        raise InputError(f"sample must be a rixsim.detection.sample.Sample; got {type(sample).__name__}")
    if not isinstance(geometry, Geometry):
        raise InputError(f"geometry must be a rixsim.detection.sample.Geometry; got {type(geometry).__name__}")
    E = validate.energy_axis(excitation, "excitation")
    Ep = validate.energy_axis(emission, "emission", min_points=2)
    res = validate.width(resolution_fwhm, "resolution_fwhm")
    min_e = validate.nonnegative(min_line_energy_ev, "min_line_energy_ev", "eV")
    tm = resonant_element
    if resonant_map is not None:
        if not isinstance(resonant_map, RixsMap):
            raise InputError(f"resonant_map must be a RixsMap; got {type(resonant_map).__name__}")
        if tm is None:
            raise InputError("resonant_map given without resonant_element (e.g. 'Mn')")
    if tm is not None:
        _check_element(tm)
    edges = _bin_edges(Ep)
    sa, sb = geometry.sin_in, geometry.sin_out
    layers = sample.layers
    k = [layer_mu_per_nm(layer, E, "total")[:, None] / sa + layer_mu_per_nm(layer, Ep, "total")[None, :] / sb
         for layer in layers]
    weights = _slab_weights(k, [layer.thickness_nm for layer in layers])
    omega = geometry.solid_angle_fraction
    bands = emission_bands(sample, min_energy_ev=min_e, light_band_fwhm=light_band_fwhm,
                           natural_widths=natural_widths)
    profiles = {}
    if continuum_profile is not None:
        if tm is None:
            raise InputError("continuum_profile given without resonant_element (e.g. 'Mn')")
        if not isinstance(continuum_profile, Spectrum) or continuum_profile.relative:
            raise InputError("continuum_profile must be a Spectrum on absolute emission energies (eV)")
        l3 = [b for b in bands if b.element == tm and b.kind == "valence" and b.shell == "L3"]
        if not l3:
            raise InputError(f"{tm} has no tabulated L3 valence line to place continuum_profile against")
        e_ref = max(l3, key=lambda b: b.yield_per_hole).energy
        for b in bands:
            if b.element == tm and b.kind == "valence" and b.shell in ("L2", "L3"):
                x = np.interp(Ep - (b.energy - e_ref), continuum_profile.energy,
                              np.clip(continuum_profile.intensity, 0.0, None), left=0.0, right=0.0)
                area = float(x @ np.diff(edges))
                if area <= 0:
                    raise InputError("continuum_profile has no intensity on the emission axis")
                profiles[(b.element, b.name)] = (x / area)[None, :]
    components: dict[str, np.ndarray] = {}
    sources = []

    def add(name, arr_src, j):
        det = omega * weights[j] * arr_src / sa
        components[name] = components.get(name, 0.0) + det

    for j, layer in enumerate(layers):
        src_total = np.zeros((E.size, Ep.size))
        rmap = resonant_map if (resonant_map is not None and tm in layer.composition) else None
        if rmap is not None:
            covered = (Ep >= _emission_min(rmap)) & (Ep <= _emission_max(rmap))
        for el in layer.composition:
            el_bands = [b for b in bands if b.element == el and b.energy < E[-1] + 5 * max(res, 1.0)]
            if not el_bands:
                continue
            mu_el = element_mu_per_nm(layer, el, E, "photo")
            collapse = (not shell_resolved_yields) and ((el == tm) if tm is not None
                                                        else bool(layer.resonances_of(el)))
            holes_of = _holes_single_yield if collapse else hole_populations
            parts = {p: holes_of(layer, el, E, p) for p in ("all", "step", "white")}
            by_kind = {"valence": np.zeros((E.size, Ep.size)), "core-core": np.zeros((E.size, Ep.size))}
            replaced = []
            for b in el_bands:
                key = (b.element, b.name)
                if key not in profiles:
                    profiles[key] = band_profile(b, Ep, res, edges)[None, :]
                shape = profiles[key]
                if (rmap is not None and el == tm and b.kind == "valence"
                        and covered[np.argmin(abs(Ep - b.energy))]):
                    replaced.append(b)
                    holes = parts["step"]
                else:
                    holes = parts["all"]
                by_kind[b.kind] += (mu_el * holes.get(b.shell, 0.0) * b.yield_per_hole)[:, None] * shape
            if replaced:
                by_kind["valence"] += _resonant_part(rmap, layer, tm, E, Ep, edges, parts, replaced)
            for kind, arr in by_kind.items():
                if np.any(arr):
                    add(f"{el} {kind}", arr, j)
                    src_total += arr
        if elastic:
            ray = _rayleigh(layer, E, edges, res)
            add("elastic", ray, j)
            src_total += ray
        sources.append(src_total)
    total = sum(components.values()) if components else np.zeros((E.size, Ep.size))
    label = "detected mRIXS, " + ", ".join(layer.name or layer.formula for layer in layers)
    meta = {"incidence_deg": geometry.incidence_deg, "exit_deg": geometry.exit_deg,
            "solid_angle_fraction": omega, "resolution_fwhm": res, "natural_widths": bool(natural_widths),
            "light_band_fwhm": float(light_band_fwhm), "elastic": bool(elastic), "resonant_element": tm,
            "shell_resolved_yields": bool(shell_resolved_yields)}
    dmap = RixsMap(E, Ep, total, label=label, units="photons / incident photon / eV", meta=meta)
    return DetectedMap(dmap, components, tuple(sources), sample, geometry, bands, meta)


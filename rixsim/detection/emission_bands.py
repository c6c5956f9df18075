"""Every emission band of a sample, with its shape, on one absolute emission axis.

At a TM L edge an electrode emits, besides the TM's own resonant 3d→2p emission (Raman and fluorescence,
:mod:`rixsim.spectroscopy.fluorescence`): the TM's 3s→2p core–core lines (Ll, Ln), the K emission of the
light elements of every layer (O Kα of the oxide, C Kα of carbon black and binder, F Kα of PVDF when the
beam is above the F K edge), and elastic scattering.  This module lists them as :class:`EmissionBand` and
gives each a unit-area profile.

Widths
------
Every band is a Voigt profile:

* **natural (Lorentzian) FWHM** — the sum of the core-level widths of the initial and final levels of the
  transition (``xraydb.core_width``: Campbell & Papp, At. Data Nucl. Data Tables 77, 1 (2001)).  Mn Ll
  (L3–M1): 0.32 + 1.95 = 2.27 eV, the broad ≈556 eV core–core line; Mn Lα (L3–M5) 0.34 eV; O Kα 0.16 eV.
* **band (Gaussian) FWHM** — K emission of the light elements (Z ≤ 9: C, N, O, F) comes from their 2p
  *valence band*, a few eV wide in a solid, not from an atomic level.  Default :data:`LIGHT_ELEMENT_BAND_FWHM`.
* **spectrometer (Gaussian) FWHM** — added in quadrature to the band width.

Line energies, branching and shell fluorescence yields are those of Elam, Ravel & Sieber, Radiat. Phys.
Chem. 63, 121 (2002) via :func:`rixsim.detection.channels.emission_lines` (yields from Krause 1979).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xraydb
from scipy.special import erf, voigt_profile

from rixsim import validate
from rixsim.detection.channels import emission_lines
from rixsim.detection.sample import Sample, _check_element
from rixsim.errors import InputError

__all__ = ["EmissionBand", "emission_bands", "band_profile", "LIGHT_ELEMENT_BAND_FWHM", "natural_fwhm"]

_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))

#: Gaussian FWHM (eV) of the 2p valence-band K emission of C, N, O, F in a solid.  3 eV is the default O 2p
#: band width of :func:`rixsim.oxygen.kedge.lattice_emission` (the ≈525 eV lattice-oxygen band of TM
#: oxides spans ≈3–4 eV at half maximum in the seed review's O-K maps); illustrative — set it from a
#: measured XES of your material.
LIGHT_ELEMENT_BAND_FWHM = 3.0

# K emission of elements up to F is valence-band emission (2p → 1s with 2p the valence shell)
_LIGHT_Z_MAX = 9


@dataclass(frozen=True)
class EmissionBand:
    """One emission band.

    Attributes
    ----------
    element, name, shell : str
        Emitter, line name (``"La1"``, ``"Ll"``, ``"Ka1"``, …) and the core shell whose hole it fills.
    energy : float
        Centre, eV (absolute).
    yield_per_hole : float
        Photons per ``shell`` hole into this band (fluorescence yield × branching, Elam et al. 2002).
    natural_fwhm : float
        Lorentzian FWHM, eV (initial + final level widths, Campbell & Papp 2001).
    band_fwhm : float
        Gaussian FWHM of the band's own extent, eV (valence-band emission of light elements; else 0).
    kind : str
        ``"valence"`` (3d→2p of a TM, 2p→1s of a light element) or ``"core-core"``.
    """

    element: str
    name: str
    shell: str
    energy: float
    yield_per_hole: float
    natural_fwhm: float
    band_fwhm: float
    kind: str

    @property
    def label(self) -> str:
        return f"{self.element} {self.name}"


def _level_width(element: str, level: str) -> float:
    try:
        w = xraydb.core_width(element, level)
    except (ValueError, KeyError, TypeError):
        return 0.0
    return float(w) if w is not None and np.isfinite(w) else 0.0


@lru_cache(maxsize=256)
def natural_fwhm(element: str, initial_level: str, final_levels: str) -> float:
    """Lorentzian FWHM (eV) of a line: width of the initial level + the mean width of its final levels
    (``final_levels`` as in xraydb, e.g. ``"M4,5"``), from ``xraydb.core_width`` (Campbell & Papp 2001)."""
    _check_element(element)
    finals = []
    for tok in (t.strip() for t in final_levels.split(",")):
        finals.append(finals[-1][0] + tok if tok.isdigit() and finals else tok)
    fw = [_level_width(element, f) for f in finals]
    return _level_width(element, initial_level) + (float(np.mean(fw)) if fw else 0.0)


def emission_bands(sample_or_elements, *, max_energy: float | None = None, min_energy_ev: float = 100.0,
                   light_band_fwhm: float = LIGHT_ELEMENT_BAND_FWHM, natural_widths: bool = True) -> tuple:
    """The emission bands of a :class:`~rixsim.detection.sample.Sample` (or a sequence of element symbols).

    Parameters
    ----------
    sample_or_elements : Sample or sequence of str
    max_energy : float, optional
        Drop bands above this emission energy (eV), e.g. the highest excitation energy.
    min_energy_ev : float
        Drop bands below this energy (detector threshold; Li K, TM M lines).
    light_band_fwhm : float
        Gaussian band FWHM (eV) of K emission of C, N, O, F (:data:`LIGHT_ELEMENT_BAND_FWHM`).
    natural_widths : bool
        False sets every natural width to 0 (bands are then Gaussians of band and spectrometer width, the
        line shape of :func:`rixsim.detection.channels.detected_map`).
    """
    if isinstance(sample_or_elements, Sample):
        elements = sample_or_elements.elements
    else:
        elements = tuple(sample_or_elements)
    band = validate.width(light_band_fwhm, "light_band_fwhm")
    top = np.inf if max_energy is None else float(max_energy)
    out = []
    for el in elements:
        _check_element(el)
        z = xraydb.atomic_number(el)
        for ln in emission_lines(el, min_energy_ev):
            if ln.energy > top:
                continue
            nat = natural_fwhm(el, ln.shell, ln.final_level) if natural_widths else 0.0
            light = z <= _LIGHT_Z_MAX and ln.shell == "K"
            out.append(EmissionBand(el, ln.name, ln.shell, ln.energy, ln.yield_per_hole, nat,
                                    band if light else 0.0, "core-core" if ln.core_core else "valence"))
    return tuple(sorted(out, key=lambda b: b.energy))


def band_profile(band: EmissionBand, emission, resolution_fwhm: float, edges=None) -> np.ndarray:
    """Unit-area profile (1/eV) of ``band`` on the emission axis: Voigt of its natural FWHM and the
    quadrature sum of its band and the spectrometer FWHM.

    A purely Gaussian band (no natural width) is integrated over each bin (``edges``: the bin edges, default
    half-way between the axis points), so its area on the grid is exact; a Voigt is sampled at the points.
    """
    if not isinstance(band, EmissionBand):
        raise InputError(f"band must be an EmissionBand; got {type(band).__name__}")
    emi = np.asarray(emission, dtype=float)
    res = validate.width(resolution_fwhm, "resolution_fwhm")
    gauss = math.hypot(band.band_fwhm, res)
    if band.natural_fwhm == 0.0:
        if gauss == 0.0:
            raise InputError(f"{band.label} has neither a natural nor a Gaussian width; give resolution_fwhm > 0")
        if edges is None:
            mid = 0.5 * (emi[1:] + emi[:-1])
            edges = np.concatenate([[2 * emi[0] - mid[0]], mid, [2 * emi[-1] - mid[-1]]])
        s = gauss / _FWHM_PER_SIGMA * math.sqrt(2.0)
        cdf = 0.5 * (1.0 + erf((np.asarray(edges) - band.energy) / s))
        return np.diff(cdf) / np.diff(edges)
    return voigt_profile(emi - band.energy, gauss / _FWHM_PER_SIGMA, 0.5 * band.natural_fwhm)

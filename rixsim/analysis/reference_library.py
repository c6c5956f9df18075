"""The shipped library of simulated reference L2,3-edge XAS spectra (``references/spectra/*.csv``).

Every spectrum is an ionic crystal-field multiplet calculation (:func:`rixsim.atomic_model`) of one ion in
Oh symmetry with the settings of :data:`COMMON` and the 10Dq of :data:`IONS`, made to look like a measured
spectrum of a solid:

* **widths** — Lorentzian L3 FWHM of Krause & Oliver (1979), Lorentzian L2 FWHM including the L2 → L3 M45
  Coster–Kronig decay (Keski-Rahkonen & Krause 1974, :func:`rixsim.cluster.tables.solid_state_l2_fwhm`), Gaussian instrument FWHM
  :data:`COMMON` ``["gauss_fwhm"]``;
* **chemical shift** — the whole spectrum is moved rigidly by ``shift`` (eV) so that its L3 maximum lands on the
  measured L3 maximum of a reference compound of the ion (:func:`rixsim.cluster.tables.measured_l3_maximum`),
  or, where only a measured difference to another valence is known
  (:func:`rixsim.cluster.tables.measured_l3_difference`), that difference above the other valence's shipped L3
  maximum; ions without either keep ``shift = 0`` (the element's tabulated edge energy) and say so in ``meta``;
* **edge step** — two arctan steps (2p → continuum) in the statistical 2 : 1 ratio,

  .. math::

      S(E) = h \\left[\\tfrac23\\, s\\!\\left(\\frac{E - E_3}{w_3}\\right)
                 + \\tfrac13\\, s\\!\\left(\\frac{E - E_2}{w_2}\\right)\\right],
      \\qquad s(x) = \\tfrac12 + \\tfrac1\\pi \\arctan(2x),

  placed at the simulated L3 and L2 maxima :math:`E_3, E_2` (after the shift), each as wide as that edge's
  Lorentzian FWHM :math:`w_3, w_2` (the derivative of :math:`s` is a Lorentzian of that FWHM), with a total
  height :math:`h` the same for every valence of an element (:func:`step_height`).

All values used are written into each file's ``meta`` header line; :func:`write_library` (``rixsim references``)
regenerates the shipped files exactly, and a test checks that the shipped files agree with a fresh calculation
to 1e-8 relative.  All valences of an element share one energy grid (:func:`energy_grid`), so references can be
added point by point.  Intensities per eV; without the step, the isotropic spectrum integrates to (10 − n)/3 for
dⁿ (the normalisation of :func:`rixsim.xas`).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import numpy as np

from rixsim.analysis.edge_step import unit_step
from rixsim.errors import InputError, UnknownIonError
from rixsim.results import Spectrum

__all__ = ["IONS", "COMMON", "ReferenceIon", "reference_spectrum", "write_library", "load_reference",
           "library_directory", "file_name", "energy_grid", "edge_step", "step_height", "l3_l2_maxima",
           "multiplet_part"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReferenceIon:
    """One library entry: the ion, its octahedral 10Dq (eV), the intended ground state, and the source."""

    ion: str
    tendq: float
    ground_state: str
    source: str


#: Settings shared by every reference spectrum.
COMMON = {
    "symmetry": "Oh",
    "slater_scale": 0.8,          # standard reduction of atomic HF F and G (e.g. de Groot, Coord. Chem. Rev. 249, 31 (2005))
    "soc_scale": 1.0,
    "temperature_k": 300.0,
    "polarization": "isotropic",
    # Gaussian instrument FWHM (eV): resolving power E/dE ~ 2800 at the Fe L3 edge (3200 at Mn, 3400 at Ni),
    # an assumed typical value for a soft X-ray beamline; not taken from one beamline's specification.
    "gauss_fwhm": 0.25,
    "l3_fwhm_rule": "Krause & Oliver (1979) L3 core-hole FWHM (rixsim.cluster.tables.core_hole_fwhm)",
    "l2_fwhm_rule": "L2 FWHM with Coster-Kronig broadening, Keski-Rahkonen & Krause (1974) "
                    "(rixsim.cluster.tables.solid_state_l2_fwhm, references/solid_state.json)",
    "shift_rule": "rigid shift moving the simulated L3 maximum onto the measured L3 maximum of a reference compound "
                  "(rixsim.cluster.tables.measured_l3_maximum), else onto the other valence's shipped L3 maximum plus "
                  "a measured difference (measured_l3_difference); 0 where neither is tabulated; rounded to 0.001 eV",
    "step_rule": "arctan steps 2:1 at the simulated L3 and L2 maxima (after the shift), widths = L3 and L2 Lorentzian "
                 "FWHM, total height (1/3) / step_width_per_hole_ev (see reference_library.step_height)",
    # W (eV): total step height h = (1/3) / W, i.e. the white-line area per 3d hole (1/3 in these units) equals
    # W times the step.  An assumed value (not from a source) giving L3 peak / step of 4-15 for the shipped ions.
    "step_width_per_hole_ev": 6.0,
    "energy_below_edge_offset": 15.0,
    "energy_above_edge_offset": 25.0,
    "energy_step": 0.05,
}

# 10Dq values (eV).  Values for ions common in oxide electrodes are typical of crystal-field multiplet fits of
# octahedral oxides; for the low-spin ions of strongly covalent compounds (LiNiO2, CoO2, LiCoO2) the ionic
# model needs an *effective* 10Dq above its high-/low-spin crossover (with 0.8 × HF, found with this library's
# settings: Co3+ 2.1-2.2 eV, Ni3+ 2.6-2.7 eV, Co4+ 3.5-3.6 eV, Ni4+ 2.4-2.8 eV).  The literature pointers give the typical range;
# they were not re-checked line by line when this table was written — treat the values as defaults to be
# fitted, not as measurements.
IONS: dict[str, ReferenceIon] = {r.ion: r for r in (
    ReferenceIon("Mn1+", 3.5, "low spin d6, 1A1g",
                 "illustrative strong field of C-bound CN- (Prussian-blue analogues, seed review Fig. 5); "
                 "as validation/mn1_vs_mn2.py"),
    ReferenceIon("Mn2+", 0.8, "high spin d5, 6A1g",
                 "MnO-like; CFM fits of Mn(II) give about 0.6-1.2 eV (Cramer et al., JACS 113, 7937 (1991))"),
    ReferenceIon("Mn3+", 1.8, "high spin d4, 5Eg",
                 "Mn(III) oxides, about 1.5-2.1 eV (Cramer et al., JACS 113, 7937 (1991))"),
    ReferenceIon("Mn4+", 2.4, "d3, 4A2g",
                 "Mn(IV) oxides (MnO2, Li2MnO3), about 2.1-2.7 eV (Cramer et al., JACS 113, 7937 (1991))"),
    ReferenceIon("Fe2+", 1.0, "high spin d6, 5T2g",
                 "FeO / LiFePO4-like (Miedema & de Groot, J. Electron Spectrosc. 187, 32 (2013), review)"),
    ReferenceIon("Fe3+", 1.4, "high spin d5, 6A1g",
                 "alpha-Fe2O3 / FePO4-like, about 1.4-1.5 eV (Miedema & de Groot 2013)"),
    ReferenceIon("Fe4+", 2.0, "high spin d4",
                 "illustrative (SrFeO3-type Fe4+ is strongly covalent; an ionic model is a rough stand-in)"),
    ReferenceIon("Co2+", 1.0, "high spin d7, 4T1g",
                 "CoO-like, about 0.9-1.2 eV (de Groot, Coord. Chem. Rev. 249, 31 (2005))"),
    ReferenceIon("Co3+", 2.4, "low spin d6, 1A1g", "LiCoO2-like low spin (above the ionic crossover at 2.1-2.2 eV)"),
    ReferenceIon("Co4+", 4.0, "low spin d5, 2T2g",
                 "CoO2-like low spin; effective value above the ionic crossover (3.5-3.6 eV)"),
    ReferenceIon("Ni2+", 1.1, "d8, 3A2g",
                 "NiO: first d-d absorption at 1.1 eV (Newman & Chrenko, Phys. Rev. 114, 1507 (1959))"),
    ReferenceIon("Ni3+", 3.0, "low spin d7, 2Eg",
                 "LiNiO2-like low spin; effective value above the ionic crossover (2.6-2.7 eV)"),
    ReferenceIon("Ni4+", 2.8, "low spin d6, 1A1g", "charged-cathode Ni4+ low spin; effective value above the ionic crossover (2.4-2.8 eV)"),
)}


def file_name(ion: str) -> str:
    """CSV file name of an ion's reference, e.g. ``"Mn2+_Oh_xas.csv"``."""
    return f"{ion}_Oh_xas.csv"


def library_directory() -> Path:
    """The directory holding the shipped reference spectra (``rixsim.references/spectra``)."""
    from importlib.resources import files
    return Path(str(files("rixsim.references"))) / "spectra"


def _entry(ion: str) -> ReferenceIon:
    if ion not in IONS:
        raise UnknownIonError(f"no reference spectrum for {ion!r}; the library holds {', '.join(IONS)}")
    return IONS[ion]


def _element_offset(ion: str) -> float:
    """The element's tabulated configuration-averaged 2p→3d energy (2·L3 + L2)/3 (eV), shared by its valences."""
    from rixsim.cluster.tables import edge_energy
    return (2.0 * edge_energy(ion, "L3") + edge_energy(ion, "L2")) / 3.0


def energy_grid(ion: str) -> np.ndarray:
    """The energy grid (eV) of an ion's reference: the same for every valence of the element.

    From ``E0 - 15`` to ``E0 + 25`` eV in 0.05 eV steps (801 points), ``E0`` the element's tabulated
    configuration-averaged 2p→3d energy ``(2 L3 + L2) / 3`` (``references/edges.json``).
    """
    lo = _element_offset(ion) - COMMON["energy_below_edge_offset"]
    n = int(round((COMMON["energy_below_edge_offset"] + COMMON["energy_above_edge_offset"]) / COMMON["energy_step"])) + 1
    return lo + COMMON["energy_step"] * np.arange(n)


def _split_energy(edge_offset: float, ion: str) -> float:
    """An energy between the L3 and L2 groups: 2 eV above the midpoint of the tabulated L3 and L2 edges."""
    from rixsim.cluster.tables import edge_energy
    delta = edge_energy(ion, "L2") - edge_energy(ion, "L3")
    return edge_offset + delta / 6.0 + 2.0


def l3_l2_maxima(energy, intensity, split: float) -> tuple[float, float, float, float]:
    """Positions (eV) and heights of the largest maxima below and above ``split`` eV.

    Each position is refined by a parabola through the grid maximum and its two neighbours.

    Returns
    -------
    tuple of float
        ``(e3, y3, e2, y2)``.
    """
    e = np.asarray(energy, dtype=float)
    y = np.asarray(intensity, dtype=float)
    out = []
    for sel in (e < split, e >= split):
        idx = np.flatnonzero(sel)
        if idx.size < 3:
            raise InputError(f"the grid {e[0]}..{e[-1]} eV has fewer than 3 points on one side of {split} eV")
        i = idx[np.argmax(y[idx])]
        i = min(max(i, 1), e.size - 2)
        y0, y1, y2 = y[i - 1], y[i], y[i + 1]
        den = y0 - 2.0 * y1 + y2
        dx = 0.5 * (y0 - y2) / den if den < 0 else 0.0
        dx = float(np.clip(dx, -1.0, 1.0))
        h = e[i + 1] - e[i]
        out += [float(e[i] + dx * h), float(y1 - 0.25 * (y0 - y2) * dx)]
    return out[0], out[1], out[2], out[3]


def step_height() -> float:
    """Total height of the continuum step, the same for every ion: ``(1/3) / W`` per eV.

    The white-line area per 3d hole is 1/3 in the units of :func:`rixsim.xas` (isotropic, (10 − n)/3 for dⁿ);
    ``W`` = :data:`COMMON` ``["step_width_per_hole_ev"]`` is the assumed ratio of that area to the step.
    """
    return (1.0 / 3.0) / COMMON["step_width_per_hole_ev"]


def edge_step(energy, l3_position: float, l2_position: float, height: float, l3_width: float,
              l2_width: float) -> np.ndarray:
    """The L3 + L2 arctan continuum step of the module formula (2 : 1), of total ``height`` far above L2.

    Parameters
    ----------
    energy : array_like
        Photon energies (eV).
    l3_position, l2_position : float
        Step centres (eV).
    height : float
        Total height (intensity units), ≥ 0.
    l3_width, l2_width : float
        FWHM (eV) of the derivative of each step (a Lorentzian), > 0.
    """
    if not (math.isfinite(height) and height >= 0):
        raise InputError(f"step height must be finite and >= 0; got {height!r}")
    for name, w in (("l3_width", l3_width), ("l2_width", l2_width)):
        if not (math.isfinite(w) and w > 0):
            raise InputError(f"{name} must be a finite FWHM > 0 eV; got {w!r}")
    e = np.asarray(energy, dtype=float)
    return height * (2.0 / 3.0 * unit_step(e, l3_position, l3_width)
                     + 1.0 / 3.0 * unit_step(e, l2_position, l2_width))


def _step_from_meta(energy, meta) -> np.ndarray:
    s = meta["step"]
    return edge_step(energy, s["l3_position"], s["l2_position"], s["height"], s["l3_width"], s["l2_width"])


def multiplet_part(spectrum: Spectrum) -> Spectrum:
    """A library spectrum without its edge step (recomputed from the step parameters in ``meta``)."""
    step = _step_from_meta(spectrum.energy, spectrum.meta)
    return Spectrum(spectrum.energy, spectrum.intensity - step, label=f"{spectrum.label} (no edge step)",
                    units=spectrum.units, meta=dict(spectrum.meta))


def _model(ion: str, shift: float):
    from rixsim.cluster.model import atomic_model
    from rixsim.cluster.tables import core_hole_fwhm, solid_state_l2_fwhm
    entry = _entry(ion)
    return atomic_model(ion, symmetry=COMMON["symmetry"], tendq=entry.tendq, slater_scale=COMMON["slater_scale"],
                        soc_scale=COMMON["soc_scale"], l3_fwhm=core_hole_fwhm(ion, "L3"),
                        l2_fwhm=solid_state_l2_fwhm(ion), shift=shift)


def _xas(model, energies) -> Spectrum:
    from rixsim.spectroscopy.xas import xas
    return xas(model, energies, polarization=COMMON["polarization"], temperature_k=COMMON["temperature_k"],
               gauss_fwhm=COMMON["gauss_fwhm"])


def reference_spectrum(ion: str) -> Spectrum:
    """Compute the library spectrum of ``ion`` (e.g. ``"Mn3+"``) with the library's settings (module notes)."""
    from rixsim import __version__
    from rixsim.cluster.tables import measured_l3_difference, measured_l3_maximum
    entry = _entry(ion)
    grid = energy_grid(ion)
    measured = measured_l3_maximum(ion)
    difference = None if measured is not None else measured_l3_difference(ion)
    target = None
    if measured is not None:
        target = measured.energy
    elif difference is not None:
        # the L3 maximum of the other valence as shipped (its own shift included) plus the measured difference
        other = reference_spectrum(difference.relative_to)
        om = other.meta
        target = om["step"]["l3_position"] + difference.difference
    shift = 0.0
    if target is not None:
        # The unshifted spectrum on a 0.01 eV grid around the L3 region gives the simulated L3 maximum.
        m0 = _model(ion, 0.0)
        fine = np.arange(grid[0], _split_energy(m0.edge_offset, ion) + 5.0, 0.01)
        e3_sim = l3_l2_maxima(fine, _xas(m0, fine).intensity, _split_energy(m0.edge_offset, ion))[0]
        shift = round(target - e3_sim, 3)
    model = _model(ion, shift)
    white = _xas(model, grid)
    e3, _, e2, _ = l3_l2_maxima(grid, white.intensity, _split_energy(model.edge_offset, ion))
    e3, e2 = round(e3, 3), round(e2, 3)
    step = {"l3_position": e3, "l2_position": e2, "height": step_height(), "l3_width": model.l3_fwhm,
            "l2_width": model.l2_fwhm, "ratio_l3_l2": 2.0, "shape": "arctan",
            "rule": COMMON["step_rule"]}
    intensity = white.intensity + edge_step(grid, e3, e2, step["height"], step["l3_width"], step["l2_width"])
    meta = {
        "ion": ion, "tendq": entry.tendq, "ground_state": entry.ground_state, "tendq_source": entry.source,
        **{k: v for k, v in COMMON.items()},
        "l3_fwhm": model.l3_fwhm, "l3_fwhm_source": "Krause & Oliver, J. Phys. Chem. Ref. Data 8, 329 (1979)",
        "l2_fwhm": model.l2_fwhm,
        "l2_fwhm_source": ("Keski-Rahkonen & Krause, At. Data Nucl. Data Tables 14, 139 (1974), includes L2-L3M45 "
                           "Coster-Kronig decay (references/solid_state.json)"),
        "element_edge_offset": _element_offset(ion),
        "edge_offset": model.edge_offset,
        "shift": shift,
        "measured_l3_maximum": None if measured is None else measured.energy,
        "measured_l3_compound": None if measured is None else measured.compound,
        "measured_l3_source": (measured.source if measured is not None else difference.source
                               if difference is not None else
                               "none tabulated: shift left at 0 (element's tabulated edge energy)"),
        "measured_l3_difference": (None if difference is None else
                                   {"relative_to": difference.relative_to, "difference": difference.difference,
                                    "compound": difference.compound}),
        "shift_target_l3": target,
        "step": step,
        "model": "rixsim.atomic_model (ionic crystal-field multiplet, tabulated Hartree-Fock parameters)",
        "rixsim_version": __version__,
    }
    return Spectrum(grid, intensity, label=f"{ion} Oh L2,3 XAS (isotropic, 300 K, with edge step)",
                    units="per eV (without the step, isotropic XAS integrates to (10 - n)/3)", meta=meta)


def write_library(directory, ions: Optional[Iterable[str]] = None, overwrite: bool = False,
                  progress: Optional[bool] = False) -> list[Path]:
    """Compute reference spectra and write them as CSV into ``directory`` (atomically, one file per ion).

    Raises
    ------
    FileExistsRefusal
        A file exists and ``overwrite`` is False (checked for every ion before anything is computed).
    """
    from rixsim.errors import FileExistsRefusal
    from rixsim.io import write_spectrum_csv
    from rixsim.progress import progress as bar
    d = Path(directory)
    if not d.is_dir():
        raise InputError(f"output directory '{d}' does not exist")
    names = list(IONS) if ions is None else list(ions)
    for ion in names:
        _entry(ion)
    if not overwrite:
        clash = [str(d / file_name(i)) for i in names if (d / file_name(i)).exists()]
        if clash:
            raise FileExistsRefusal(f"{clash[0]} exists ({len(clash)} file(s) would be replaced); use --overwrite")
    written = []
    for ion in bar(names, desc="references", unit="ion", requested=progress):
        log.info("computing reference %s", ion)
        written.append(write_spectrum_csv(d / file_name(ion), reference_spectrum(ion), overwrite=overwrite))
    return written


def load_reference(ion: str, directory=None) -> Spectrum:
    """Read a reference spectrum (shipped library by default) as a Spectrum with its parameters in ``meta``."""
    from rixsim.io import read_spectrum
    _entry(ion)
    p = (library_directory() if directory is None else Path(directory)) / file_name(ion)
    if not p.is_file():
        raise InputError(f"reference file '{p}' not found; regenerate with 'rixsim references --in-place'")
    return read_spectrum(p)

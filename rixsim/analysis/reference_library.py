"""The shipped library of simulated reference L2,3-edge XAS spectra (``references/spectra/*.csv``).

Every spectrum is an ionic crystal-field multiplet calculation (:func:`rixsim.atomic_model`) of one ion in
Oh symmetry with the settings of :data:`COMMON` and the 10Dq of :data:`IONS`; the files are regenerated
exactly by :func:`write_library` (``rixsim references``), and a test checks that the shipped files agree
with a fresh calculation to 1e-8 relative.

Energies are absolute photon energies in eV on the element's tabulated edge (``edge_offset``, the
configuration-averaged 2p→3d transition); **no chemical shift between valences is applied** — measured
references of different valence differ by 1–2 eV per valence step, so fit with a free shift per reference
(:func:`rixsim.analysis.lcf.fit_linear_combination` with ``shift="per_reference"``) or shift them yourself.
Intensities per eV, normalised as :func:`rixsim.xas` does (isotropic XAS integrates to (10 − n)/3 for dⁿ).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import numpy as np

from rixsim.errors import InputError, UnknownIonError
from rixsim.results import Spectrum

__all__ = ["IONS", "COMMON", "ReferenceIon", "reference_spectrum", "write_library", "load_reference",
           "library_directory", "file_name"]

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
    "gauss_fwhm": 0.2,            # eV: a typical soft X-ray beamline resolution at the 3d L edges
    "lifetime_fwhm": "tabulated L3/L2 core-hole widths (rixsim.cluster.tables.core_hole_fwhm)",
    "energy_below_edge_offset": 12.0,
    "energy_above_edge_offset": 18.0,
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


def reference_spectrum(ion: str) -> Spectrum:
    """Compute the library spectrum of ``ion`` (e.g. ``"Mn3+"``) with the library's settings."""
    from rixsim import __version__
    from rixsim.cluster.model import atomic_model
    from rixsim.spectroscopy.xas import xas
    entry = _entry(ion)
    model = atomic_model(ion, symmetry=COMMON["symmetry"], tendq=entry.tendq, slater_scale=COMMON["slater_scale"],
                         soc_scale=COMMON["soc_scale"])
    lo = model.edge_offset - COMMON["energy_below_edge_offset"]
    n = int(round((COMMON["energy_below_edge_offset"] + COMMON["energy_above_edge_offset"]) / COMMON["energy_step"])) + 1
    energies = lo + COMMON["energy_step"] * np.arange(n)
    s = xas(model, energies, polarization=COMMON["polarization"], temperature_k=COMMON["temperature_k"],
            gauss_fwhm=COMMON["gauss_fwhm"])
    meta = {
        "ion": ion, "tendq": entry.tendq, "ground_state": entry.ground_state, "tendq_source": entry.source,
        **{k: v for k, v in COMMON.items()},
        "l3_fwhm": model.l3_fwhm, "l2_fwhm": model.l2_fwhm, "edge_offset": model.edge_offset,
        "chemical_shift": "none (all valences of an element share edge_offset)",
        "model": "rixsim.atomic_model (ionic crystal-field multiplet, tabulated Hartree-Fock parameters)",
        "rixsim_version": __version__,
    }
    return Spectrum(s.energy, s.intensity, label=f"{ion} Oh L2,3 XAS (isotropic, 300 K)",
                    units="per eV (isotropic XAS integrates to (10 - n)/3)", meta=meta)


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

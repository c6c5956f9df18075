"""Reference tables: Hartree–Fock atomic parameters of 3d and 4d ions, edge energies and core-hole widths.

The numbers live in data files of the package ``rixsim.references`` (folder ``references/``), each
number with its source; ``references/README.md`` describes them and lists where the public tables
disagree.  This module only reads, validates and wraps them; files are loaded once, on first use.

Glossary
--------
ion
    A free 3d or 4d transition-metal ion written ``"Mn2+"`` (``"Mn+"`` is ``"Mn1+"``).  Its d count in
    the initial configuration is ``n = Z - 18 - charge`` for 3d ions (no 4s electrons) and
    ``n = Z - 36 - charge`` for 4d ions (``"Ru4+"`` = 4d⁴; no 5s electrons).  For a 4d ion every "3d"
    below means the valence 4d shell (``f2dd`` = F²(4d,4d), ``zeta_3d`` = ζ(4d), ``f2pd`` = F²(2p,4d));
    the cluster models treat both alike, a d shell with 2p → d dipole transitions.
configuration
    ``"initial"`` is 2p^6 3d^n; ``"core_excited"`` is the L2,3-edge (2p -> 3d) configuration
    2p^5 3d^(n+1).  ``extra_d = 1`` selects 3d^(n+1) and 2p^5 3d^(n+2) instead, the
    configurations with one ligand hole of a charge-transfer model.
atomic parameters
    Slater integrals F2(3d,3d), F4(3d,3d), F2(2p,3d), G1(2p,3d), G3(2p,3d) and spin–orbit
    parameters zeta(3d), zeta(2p) from Cowan's Hartree–Fock code (RCN31, HFR), in eV and
    **unscaled** (100 %); the caller applies the usual reduction (about 80 % for the Slater
    integrals).  F0 is not tabulated.  A parameter not defined for a configuration is 0.0
    (no 2p–3d terms in the initial state, no F(3d,3d) for fewer than two 3d electrons).
edge energy
    Absolute binding energy of the core level in eV (free-element tabulation): the position
    of the edge on a beamline's photon-energy axis to within the chemical shift.
core-hole width
    Lorentzian lifetime broadening given as **FWHM** in eV (HWHM = FWHM / 2).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from rixsim.errors import InputError, UnknownIonError

__all__ = [
    "Ion",
    "AtomicParameters",
    "EdgeLevel",
    "parse_ion",
    "available_ions",
    "atomic_parameters",
    "edge_energy",
    "core_hole_fwhm",
    "edge_level",
    "available_elements",
    "MeasuredPeak",
    "solid_state_l2_fwhm",
    "measured_l3_maximum",
    "MeasuredDifference",
    "measured_l3_difference",
]

_CONFIGURATIONS = ("initial", "core_excited")
_EDGES = ("K", "L1", "L2", "L3")
_FIELDS = ("f2dd", "f4dd", "f2pd", "g1pd", "g3pd", "zeta_3d", "zeta_2p")
# Atomic numbers of the elements whose ions have an open 3d shell (Sc..Zn) or 4d shell (Y..Cd).
_Z_3D = {"Sc": 21, "Ti": 22, "V": 23, "Cr": 24, "Mn": 25, "Fe": 26, "Co": 27, "Ni": 28,
         "Cu": 29, "Zn": 30}
_Z_4D = {"Y": 39, "Zr": 40, "Nb": 41, "Mo": 42, "Tc": 43, "Ru": 44, "Rh": 45, "Pd": 46, "Ag": 47, "Cd": 48}
_CORE = {"3d": 18, "4d": 36}      # electrons below the valence d shell (Ar, Kr cores)
_ION_PATTERN = re.compile(r"^\s*([A-Za-z]{1,2})\s*(\d*)\s*\+\s*$")


@dataclass(frozen=True)
class Ion:
    """A free 3d or 4d transition-metal ion.

    Attributes
    ----------
    element : str
        Element symbol, e.g. ``"Mn"``.
    charge : int
        Formal charge (positive), e.g. 2 for Mn2+.
    z : int
        Atomic number.
    shell : str
        Valence shell, ``"3d"`` or ``"4d"``.
    n_electrons : int
        Number of d electrons in the initial configuration, ``z - 18 - charge`` (3d) or
        ``z - 36 - charge`` (4d).
    """

    element: str
    charge: int
    z: int
    shell: str
    n_electrons: int

    @property
    def name(self) -> str:
        """Canonical name, e.g. ``"Mn2+"``, ``"Cu1+"``."""
        return f"{self.element}{self.charge}+"

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class AtomicParameters:
    """Unscaled Hartree–Fock atomic parameters of one configuration, in eV.

    Attributes
    ----------
    f2dd, f4dd : float
        Slater integrals F2(3d,3d), F4(3d,3d); 0.0 for fewer than two 3d electrons.
    f2pd, g1pd, g3pd : float
        Direct F2(2p,3d) and exchange G1(2p,3d), G3(2p,3d) integrals; 0.0 in the initial state.
    zeta_3d, zeta_2p : float
        Spin–orbit parameters of the 3d and 2p shells; ``zeta_2p`` is 0.0 in the initial state.
    source : str
        Where the numbers come from (table key and publication/code).
    configuration : str
        The configuration, e.g. ``"2p5 3d9"``.
    """

    f2dd: float
    f4dd: float
    f2pd: float
    g1pd: float
    g3pd: float
    zeta_3d: float
    zeta_2p: float
    source: str
    configuration: str = ""


@dataclass(frozen=True)
class EdgeLevel:
    """Energy and core-hole width of one absorption edge.

    Attributes
    ----------
    element, edge : str
        Element symbol and edge name (``"K"``, ``"L1"``, ``"L2"``, ``"L3"``).
    energy : float
        Absolute edge (binding) energy in eV.
    fwhm : float
        Lorentzian core-hole lifetime width, full width at half maximum, in eV.
    energy_source, fwhm_source : str
        Publications the two numbers come from.
    """

    element: str
    edge: str
    energy: float
    fwhm: float
    energy_source: str
    fwhm_source: str


@lru_cache(maxsize=None)
def _load(name: str) -> dict[str, Any]:
    text = files("rixsim.references").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


def _atomic_table() -> dict[str, Any]:
    return _load("atomic_hf.json")


def _edge_table() -> dict[str, Any]:
    return _load("edges.json")


def available_ions() -> tuple[str, ...]:
    """Names of the ions that have atomic parameters, e.g. ``("Ti2+", "Ti3+", ...)``."""
    return tuple(_atomic_table()["ions"])


def available_elements() -> tuple[str, ...]:
    """Element symbols that have edge energies and core-hole widths."""
    return tuple(_edge_table()["elements"])


def parse_ion(name: str | Ion) -> Ion:
    """Parse an ion name such as ``"Mn2+"``, ``"Mn+"``, ``"Cu1+"`` into an :class:`Ion`.

    Parameters
    ----------
    name : str or Ion
        Element symbol followed by the charge and ``+``; ``"X+"`` means charge 1.
        An :class:`Ion` is checked and returned.

    Returns
    -------
    Ion

    Raises
    ------
    UnknownIonError
        Unknown element, a 3d count outside 0..10, or an ion not in the tables.
    InputError
        A name that is not of the form ``<Element><charge>+``.
    """
    if isinstance(name, Ion):
        name = name.name
    if not isinstance(name, str):
        raise InputError(f"ion must be a string such as 'Mn2+'; got {name!r}")
    match = _ION_PATTERN.match(name)
    if match is None:
        raise InputError(f"ion {name!r} is not of the form '<Element><charge>+', e.g. 'Mn2+', 'Cu+'; "
                         f"allowed ions: {', '.join(available_ions())}")
    symbol = match.group(1).capitalize()
    charge = int(match.group(2)) if match.group(2) else 1
    if symbol not in _Z_3D and symbol not in _Z_4D:
        raise UnknownIonError(f"unknown element {symbol!r} in ion {name!r}: the tables hold 3d ions "
                              f"of {', '.join(sorted(_Z_3D, key=_Z_3D.get))} and 4d ions of "
                              f"{', '.join(sorted(_Z_4D, key=_Z_4D.get))}; allowed ions: "
                              f"{', '.join(available_ions())}")
    shell = "3d" if symbol in _Z_3D else "4d"
    z = _Z_3D.get(symbol) or _Z_4D[symbol]
    n = z - _CORE[shell] - charge
    if not 0 <= n <= 10:
        raise UnknownIonError(f"ion {name!r} would have {n} {shell} electrons (Z - {_CORE[shell]} - charge = "
                              f"{z} - {_CORE[shell]} - {charge}); a {shell} count must lie in 0..10; "
                              f"allowed ions: {', '.join(available_ions())}")
    ion = Ion(element=symbol, charge=charge, z=z, shell=shell, n_electrons=n)
    if ion.name not in available_ions():
        same = [i for i in available_ions() if re.match(rf"{symbol}\d", i)]
        raise UnknownIonError(f"ion {name!r} ({symbol} charge {charge}, 3d{n}) is not in the tables; "
                              f"tabulated {symbol} ions: {', '.join(same) or 'none'}; allowed ions: "
                              f"{', '.join(available_ions())}")
    return ion


def _configuration_key(ion: Ion, configuration: str, extra_d: int) -> tuple[str, str]:
    """Table key (``"3d8"`` / ``"2p5,3d9"``, ``"4d4"`` / ``"2p5,4d5"``) and a readable label."""
    n = ion.n_electrons + extra_d
    d = ion.shell
    if configuration == "initial":
        if n > 10:
            raise InputError(f"extra_d={extra_d} would put {n} electrons in the {d} shell of {ion.name} "
                             f"({d}{ion.n_electrons}); at most 10")
        return f"{d}{n}", f"{d}{n}"
    if n + 1 > 10:
        raise InputError(f"no 2p->{d} excitation for {ion.name} with extra_d={extra_d}: {d}{n} is a full "
                         f"shell, the core-excited configuration 2p5 {d}{n + 1} does not exist")
    return f"2p5,{d}{n + 1}", f"2p5 {d}{n + 1}"


def atomic_parameters(ion: str | Ion, configuration: str = "initial", extra_d: int = 0) -> AtomicParameters:
    """Unscaled Hartree–Fock Slater integrals and spin–orbit parameters of an ion, in eV.

    Parameters
    ----------
    ion : str or Ion
        E.g. ``"Ni2+"``; see :func:`available_ions`.
    configuration : {"initial", "core_excited"}
        ``"initial"``: 2p^6 3d^(n+extra_d); ``"core_excited"``: 2p^5 3d^(n+1+extra_d).
    extra_d : {0, 1}
        Extra 3d electrons (1 = the d^(n+1) L configurations of a charge-transfer model).

    Returns
    -------
    AtomicParameters
        100 % Hartree–Fock values (no 0.8 reduction), parameters that do not exist in the
        configuration set to 0.0.

    Raises
    ------
    UnknownIonError
        The ion is not tabulated.
    InputError
        Unknown ``configuration``, ``extra_d`` not 0 or 1, a 3d shell over-filled, or a
        configuration the tables lack.

    Examples
    --------
    >>> p = atomic_parameters("Ni2+", "core_excited")
    >>> round(p.zeta_2p, 2)
    11.51
    """
    parsed = parse_ion(ion)
    if configuration not in _CONFIGURATIONS:
        raise InputError(f"configuration must be one of {_CONFIGURATIONS}; got {configuration!r}")
    if isinstance(extra_d, bool) or not isinstance(extra_d, int) or extra_d not in (0, 1):
        raise InputError(f"extra_d must be 0 or 1 (the shipped configurations); got {extra_d!r}")
    key, label = _configuration_key(parsed, configuration, extra_d)
    table = _atomic_table()
    entry = table["configurations"].get(parsed.element, {}).get(key)
    if entry is None:
        raise InputError(f"no Hartree-Fock parameters for {parsed.element} {label} ({parsed.name}, "
                         f"configuration={configuration!r}, extra_d={extra_d}); see references/README.md")
    values = {field: float(entry["values"].get(field, 0.0)) for field in _FIELDS}
    source = f"{entry['source']}: {table['sources'][entry['source']]}"
    return AtomicParameters(**values, source=source, configuration=label.replace(",", " "))


def _element_symbol(element: str | Ion) -> str:
    if isinstance(element, Ion):
        return element.element
    if not isinstance(element, str) or not element.strip():
        raise InputError(f"element must be a symbol such as 'Ni'; got {element!r}")
    match = _ION_PATTERN.match(element)  # an ion name such as "Ni2+" stands for its element
    symbol = (match.group(1) if match else element.strip()).capitalize()
    if symbol not in _edge_table()["elements"]:
        raise UnknownIonError(f"no edge data for element {element!r}; allowed: "
                              f"{', '.join(available_elements())}")
    return symbol


def edge_level(element: str | Ion, edge: str) -> EdgeLevel:
    """Energy (eV, absolute) and core-hole FWHM (eV) of an absorption edge, with their sources.

    Parameters
    ----------
    element : str or Ion
        Element symbol, e.g. ``"Ni"`` (an :class:`Ion` or an ion name such as ``"Ni2+"`` gives
        its element).
    edge : {"K", "L1", "L2", "L3"}
        Edge name, case-insensitive.

    Raises
    ------
    UnknownIonError
        Element not tabulated.
    InputError
        Edge name not allowed, or not a core level of that element (O has no L2/L3 edge).
    """
    symbol = _element_symbol(element)
    if not isinstance(edge, str) or edge.strip().upper() not in _EDGES:
        raise InputError(f"edge must be one of {_EDGES}; got {edge!r}")
    name = edge.strip().upper()
    table = _edge_table()
    data = table["elements"][symbol]["edges"].get(name)
    if data is None:
        raise InputError(f"{symbol} has no tabulated {name} core level; available: "
                         f"{', '.join(table['elements'][symbol]['edges'])}")
    return EdgeLevel(element=symbol, edge=name, energy=float(data["energy"]), fwhm=float(data["fwhm"]),
                     energy_source=table["sources"][data["energy_source"]],
                     fwhm_source=table["sources"][data["fwhm_source"]])


def edge_energy(element: str | Ion, edge: str) -> float:
    """Absolute edge energy in eV (free-element binding energy of the core level)."""
    return edge_level(element, edge).energy


def core_hole_fwhm(element: str | Ion, edge: str) -> float:
    """Lorentzian core-hole lifetime width of an edge as FWHM in eV (atomic table value).

    The atomic L2 widths are lower bounds for 3d oxides, where L2-L3 M45 Coster–Kronig decay
    broadens the L2 edge; see references/README.md.
    """
    return edge_level(element, edge).fwhm


# --------------------------------------------------------------------------------------------------------------
# Solid-state parameters of the reference library (references/solid_state.json)
# --------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MeasuredPeak:
    """The measured L3 absorption maximum of a reference compound of one ion.

    Attributes
    ----------
    ion : str
        Canonical ion name, e.g. ``"Fe3+"``.
    energy : float
        Absolute photon energy of the L3 maximum, eV.
    compound : str
        The reference compound(s) measured.
    source : str
        The publication the number comes from.
    """

    ion: str
    energy: float
    compound: str
    source: str


def _solid_table() -> dict[str, Any]:
    return _load("solid_state.json")


def solid_state_l2_fwhm(element: str | Ion) -> float:
    """Lorentzian L2 core-hole FWHM (eV) of a 3d element including the L2 -> L3 M45 Coster–Kronig decay.

    The Keski-Rahkonen & Krause (1974) value (At. Data Nucl. Data Tables 14, 139), rounded to 0.01 eV; the
    rule, its checks and sources are in ``references/solid_state.json`` (see ``references/README.md``).

    Raises
    ------
    UnknownIonError
        No solid-state L2 width is tabulated for the element.
    """
    symbol = _element_symbol(element)
    table = _solid_table()["l2_fwhm"]
    if symbol not in table:
        raise UnknownIonError(f"no solid-state L2 width for {symbol!r}; tabulated: {', '.join(table)}")
    return float(table[symbol]["fwhm"])


def measured_l3_maximum(ion: str | Ion) -> MeasuredPeak | None:
    """The measured L3 maximum of a reference compound of ``ion`` with its source, or None when none is tabulated."""
    name = parse_ion(ion).name
    table = _solid_table()
    entry = table["l3_maximum"].get(name)
    if entry is None:
        return None
    return MeasuredPeak(ion=name, energy=float(entry["energy"]), compound=str(entry["compound"]),
                        source=table["sources"][entry["source"]])


@dataclass(frozen=True)
class MeasuredDifference:
    """A measured difference between the L3 maxima of two valences of an element, on one energy scale.

    Attributes
    ----------
    ion, relative_to : str
        The ion and the ion its L3 maximum is measured against, e.g. ``"Co3+"`` and ``"Co2+"``.
    difference : float
        L3 maximum of ``ion`` minus that of ``relative_to``, eV.
    compound : str
        The compounds measured.
    source : str
        The publication the number comes from.
    """

    ion: str
    relative_to: str
    difference: float
    compound: str
    source: str


def measured_l3_difference(ion: str | Ion) -> MeasuredDifference | None:
    """The measured L3-maximum difference of ``ion`` to another valence, or None when none is tabulated."""
    name = parse_ion(ion).name
    table = _solid_table()
    entry = table.get("l3_difference", {}).get(name)
    if entry is None:
        return None
    return MeasuredDifference(ion=name, relative_to=str(entry["relative_to"]), difference=float(entry["difference"]),
                              compound=str(entry["compound"]), source=table["sources"][entry["source"]])

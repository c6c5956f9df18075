"""Model files: TOML in, a validated model and run settings out.

A model file has up to five tables; only ``[model]`` with its ``ion`` is required::

    [model]                       # the ion and its cluster model (rixsim.atomic_model / cluster_model)
    ion = "Mn2+"
    tendq = 0.8
    [model.charge_transfer]       # optional: a ligand shell (dⁿ + dⁿ⁺¹L̲ + ...)
    delta = 4.0 ...
    [xas]                         # absorption spectrum settings
    [rixs]                        # mRIXS map settings
    [sample]                      # sample and geometry for the detection channels
    [[sample.surface]]            # optional surface layers over the bulk, top first

Every key, its type, default and meaning is in :data:`SCHEMA` (``rixsim xas --help`` prints the same
table).  Energies in eV; absolute photon energies for ``energy_*``, ``excitation_*``, ``emission_*``;
``loss_*`` are energy losses (relative).  Axes are ``*_min`` … ``*_max`` in steps of ``*_step``; a
missing ``*_min`` / ``*_max`` is placed relative to the model's edge (``edge_offset``, the absolute
energy of the configuration-averaged 2p→3d transition) as the table says.

Validation is strict, so a typo cannot silently fall back to a default: an unknown table or key, a value
of the wrong type, a value outside its allowed set, or a missing required key raises :class:`ConfigError`
(an :class:`~rixsim.errors.InputError`) whose message starts with the dotted key, e.g.
``model.tendq: expected a number (eV), got a string 'big'``.

:meth:`RunConfig.as_parameters` gives the complete, resolved parameter set (every default filled in, every
axis as numbers) as nested dicts; :func:`config_from_dict` turns it back into the same configuration.
The HDF5 files of ``rixsim rixs`` store it, so a result can be recomputed from its file alone.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np

from rixsim.errors import InputError

__all__ = ["ConfigError", "Key", "SCHEMA", "RunConfig", "load_config", "config_from_dict", "schema_help",
           "axis_from_range"]

log = logging.getLogger(__name__)


class ConfigError(InputError):
    """A model file is invalid; ``key`` is the dotted name of the offending key."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"{key}: {message}")


@dataclass(frozen=True)
class Key:
    """One allowed key of a model file.

    ``kind``: ``"float"``, ``"int"``, ``"bool"``, ``"str"``, ``"vec3"`` (3 numbers) or ``"pol"`` (a name
    or 3 numbers).  ``default`` None with ``required`` False means "automatic" (see ``help``).
    """

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple = ()
    required: bool = False


_AUTO = None
SCHEMA: dict[str, tuple[Key, ...]] = {
    "model": (
        Key("ion", "str", None, "ion name, e.g. 'Mn2+' (required)", required=True),
        Key("symmetry", "str", "Oh", "site symmetry of the crystal field", ("Oh", "D4h", "D3d", "Td", "C4v", "D2h")),
        Key("tendq", "float", 0.0, "cubic crystal field 10Dq, eV"),
        Key("ds", "float", 0.0, "D4h tetragonal Ds, eV"),
        Key("dt", "float", 0.0, "D4h tetragonal Dt, eV"),
        Key("dsigma", "float", 0.0, "D3d trigonal Dsigma, eV"),
        Key("dtau", "float", 0.0, "D3d trigonal Dtau, eV"),
        Key("b22", "float", 0.0, "D2h orthorhombic B22 (Wybourne), eV"),
        Key("b42", "float", 0.0, "D2h orthorhombic B42 (Wybourne), eV"),
        Key("slater_scale", "float", 0.8, "factor on the tabulated Hartree-Fock Slater integrals F, G"),
        Key("soc_scale", "float", 1.0, "factor on the tabulated spin-orbit constants"),
        Key("exchange_field", "vec3", (0.0, 0.0, 0.0), "exchange field h acting as h.S on the 3d shell, eV"),
        Key("l3_fwhm", "float", _AUTO, "Lorentzian FWHM of 2p3/2-hole states, eV (default: tabulated)"),
        Key("l2_fwhm", "float", _AUTO, "Lorentzian FWHM of 2p1/2-hole states, eV (default: tabulated)"),
        Key("shift", "float", 0.0, "shift of the absolute energy axis, eV"),
        Key("temperature_k", "float", 300.0, "temperature of the initial-state Boltzmann average, K"),
    ),
    "model.charge_transfer": (
        Key("delta", "float", None, "charge-transfer energy Delta, eV (required in this table)", required=True),
        Key("udd", "float", None, "configuration-averaged 3d-3d repulsion Udd, eV (required)", required=True),
        Key("upd", "float", None, "core-hole potential Upd, eV (required)", required=True),
        Key("veg", "float", None, "hopping V(eg), eV (required)", required=True),
        Key("vt2g", "float", _AUTO, "hopping V(t2g), eV (default: veg / 2)"),
        Key("tenq_ligand", "float", 0.0, "eg-t2g splitting of the ligand orbitals, eV"),
        Key("n_ligand_holes", "int", 2, "largest number of ligand holes (1, 2 or 3)", (1, 2, 3)),
    ),
    "xas": (
        Key("energy_min", "float", _AUTO, "first photon energy, eV (default: edge_offset - 12)"),
        Key("energy_max", "float", _AUTO, "last photon energy, eV (default: edge_offset + 18)"),
        Key("energy_step", "float", 0.05, "photon-energy step, eV"),
        Key("polarization", "pol", "isotropic",
            "'isotropic', 'x', 'y', 'z', 'sigma+', 'sigma-' or a crystal-frame vector [x, y, z]",
            ("isotropic", "x", "y", "z", "sigma+", "sigma-", "left", "right")),
        Key("gauss_fwhm", "float", 0.2, "Gaussian instrument resolution FWHM, eV"),
        Key("lorentz_fwhm", "float", _AUTO, "one Lorentzian FWHM for all lines, eV (default: the model's L3/L2 widths)"),
    ),
    "rixs": (
        Key("excitation_min", "float", _AUTO, "first incident energy, eV (default: edge_offset - 7)"),
        Key("excitation_max", "float", _AUTO, "last incident energy, eV (default: edge_offset + 3)"),
        Key("excitation_step", "float", 0.2, "incident-energy step, eV"),
        Key("axis", "str", "emission", "second axis of the map", ("emission", "loss")),
        Key("emission_min", "float", _AUTO, "first emission energy, eV (default: excitation_min - 15)"),
        Key("emission_max", "float", _AUTO, "last emission energy, eV (default: excitation_max + 2)"),
        Key("emission_step", "float", 0.1, "emission-energy step, eV"),
        Key("loss_min", "float", -1.0, "first energy loss, eV (relative)"),
        Key("loss_max", "float", 12.0, "last energy loss, eV (relative)"),
        Key("loss_step", "float", 0.05, "energy-loss step, eV"),
        Key("incident", "str", "pi", "incident polarisation ('isotropic' ignores the geometry)",
            ("pi", "sigma", "circular+", "circular-", "isotropic")),
        Key("outgoing", "str", "unanalysed", "analysed outgoing polarisation", ("unanalysed", "pi", "sigma")),
        Key("two_theta_deg", "float", 90.0, "scattering angle, degrees"),
        Key("powder", "bool", True, "exact average over crystallite orientations"),
        Key("final_fwhm", "float", 0.1, "Lorentzian FWHM of every final state, eV"),
        Key("resolution_fwhm", "float", 0.2, "Gaussian spectrometer resolution FWHM, eV"),
        Key("elastic", "bool", True, "include the elastic line"),
        Key("memory_gb", "float", 1.0, "working-memory budget of the map, GB"),
    ),
    "sample": (
        Key("formula", "str", None, "bulk chemical formula containing the model's element (required)", required=True),
        Key("density_g_cm3", "float", None, "bulk mass density, g/cm3 (required)", required=True),
        Key("thickness_nm", "float", math.inf, "bulk thickness, nm (inf: semi-infinite)"),
        Key("incidence_deg", "float", 45.0, "incidence angle from the surface, degrees"),
        Key("exit_deg", "float", 45.0, "detector angle from the surface, degrees"),
        Key("solid_angle_fraction", "float", 1.0, "detector solid angle / 4pi"),
        Key("line_fwhm", "float", 1.0, "Gaussian FWHM of the tabulated emission lines, eV"),
        Key("electron_escape_nm", "float", 3.0, "TEY electron escape depth, nm"),
        Key("use_rixs_map", "bool", False, "use the model's RIXS map (the [rixs] settings) as the resonant emission"),
    ),
    "sample.surface": (
        Key("formula", "str", None, "surface-layer formula (required)", required=True),
        Key("density_g_cm3", "float", None, "mass density, g/cm3 (required)", required=True),
        Key("thickness_nm", "float", None, "thickness, nm (required, finite)", required=True),
        Key("name", "str", "", "label of the layer"),
    ),
}
_TOP = ("title",)
_TABLES = ("model", "xas", "rixs", "sample")
_SUBTABLES = {"model": "charge_transfer", "sample": "surface"}


def schema_help(sections=None) -> str:
    """The allowed keys with their defaults, as text for ``--help`` (one line per key)."""
    lines = []
    for sec, keys in SCHEMA.items():
        if sections is not None and sec.split(".")[0] not in sections:
            continue
        lines.append(f"[{'[' + sec + ']' if sec == 'sample.surface' else sec}]")
        for k in keys:
            if k.required:
                d = "required"
            elif k.default is None:
                d = "auto"
            else:
                d = f"default {_fmt(k.default)}"
            extra = f" (one of {', '.join(map(str, k.choices))})" if k.choices and k.kind != "pol" else ""
            lines.append(f"  {k.name:<20s} {d:<24s} {k.help}{extra}")
    return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, tuple):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    return repr(v)


# ------------------------------------------------------------------------------------------- checking
def _describe(v) -> str:
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
            dict: "a table"}.get(type(v), type(v).__name__)
    return f"{kind} {v!r}"


def _number(where: str, v, integer: bool = False):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ConfigError(where, f"expected {'an integer' if integer else 'a number'}, got {_describe(v)}")
    if integer:
        if isinstance(v, (float, np.floating)):
            raise ConfigError(where, f"expected an integer, got {_describe(v)}")
        return int(v)
    x = float(v)
    if math.isnan(x):
        raise ConfigError(where, "expected a number, got nan")
    return x


def _check_value(where: str, key: Key, v):
    if v is None:
        if key.required:
            raise ConfigError(where, "required key has no value")
        return None
    if key.kind == "float":
        x = _number(where, v)
        if math.isinf(x) and key.name != "thickness_nm":
            raise ConfigError(where, f"expected a finite number, got {v!r}")
        return x
    if key.kind == "int":
        x = _number(where, v, integer=True)
    elif key.kind == "bool":
        if not isinstance(v, (bool, np.bool_)):
            raise ConfigError(where, f"expected true or false, got {_describe(v)}")
        return bool(v)
    elif key.kind == "str":
        if not isinstance(v, str):
            raise ConfigError(where, f"expected a string, got {_describe(v)}")
        x = v
    elif key.kind in ("vec3", "pol"):
        if key.kind == "pol" and isinstance(v, str):
            x = v.strip().lower()
        else:
            if isinstance(v, str) or not isinstance(v, (list, tuple, np.ndarray)) or len(v) != 3:
                allowed = " or a name" if key.kind == "pol" else ""
                raise ConfigError(where, f"expected 3 numbers [x, y, z]{allowed}, got {_describe(v)}")
            return tuple(_number(f"{where}[{i}]", c) for i, c in enumerate(v))
    else:  # pragma: no cover - schema error
        raise AssertionError(key.kind)
    if key.choices and x not in key.choices:
        raise ConfigError(where, f"{x!r} is not allowed; choose one of {', '.join(map(repr, key.choices))}")
    return x


def _check_table(section: str, table, allow_sub: Optional[str] = None) -> dict:
    if not isinstance(table, Mapping):
        raise ConfigError(section, f"expected a table [{section}], got {_describe(table)}")
    keys = {k.name: k for k in SCHEMA[section]}
    out = {}
    for name, value in table.items():
        if name == allow_sub:
            continue
        if name not in keys:
            allowed = sorted(keys) + ([allow_sub] if allow_sub else [])
            raise ConfigError(f"{section}.{name}", f"unknown key; allowed keys in [{section}]: {', '.join(allowed)}")
        out[name] = _check_value(f"{section}.{name}", keys[name], value)
    for k in SCHEMA[section]:
        if k.name not in out or out[k.name] is None:
            if k.required:
                raise ConfigError(f"{section}.{k.name}", "required key is missing")
            out[k.name] = k.default
    return out


# ------------------------------------------------------------------------------------------- axes
def axis_from_range(lo: float, hi: float, step: float, name: str) -> np.ndarray:
    """Points ``lo, lo + step, …`` up to ``hi`` (included when ``(hi − lo)/step`` is an integer to 1e-9)."""
    if step <= 0:
        raise ConfigError(f"{name}_step", f"must be > 0 eV, got {step!r}")
    if hi <= lo:
        raise ConfigError(f"{name}_max", f"must exceed {name}_min ({lo!r} eV), got {hi!r}")
    n = int(math.floor((hi - lo) / step + 1e-9)) + 1
    if n > 200_000:
        raise ConfigError(f"{name}_step", f"gives {n} points from {lo} to {hi} eV; use a larger step")
    return lo + step * np.arange(n)


@dataclass(frozen=True)
class RunConfig:
    """A validated model file: one dict of values per table (every key present, defaults filled in).

    ``charge_transfer`` and ``sample`` are None when their tables are absent; ``surface`` holds one dict per
    ``[[sample.surface]]`` layer.  Axis limits that are None are automatic until :meth:`resolved`.
    """

    model: Mapping[str, Any]
    charge_transfer: Optional[Mapping[str, Any]] = None
    xas: Mapping[str, Any] = field(default_factory=dict)
    rixs: Mapping[str, Any] = field(default_factory=dict)
    sample: Optional[Mapping[str, Any]] = None
    surface: tuple = ()
    title: str = ""
    source: str = ""

    # ---------------------------------------------------------------- model
    def build_model(self):
        """The :class:`~rixsim.cluster.model.ClusterModel` described by ``[model]`` (and its charge transfer)."""
        from rixsim.cluster.model import atomic_model, cluster_model
        m = self.model
        kwargs = dict(symmetry=m["symmetry"], tendq=m["tendq"], ds=m["ds"], dt=m["dt"], dsigma=m["dsigma"],
                      dtau=m["dtau"], b22=m["b22"], b42=m["b42"], slater_scale=m["slater_scale"], soc_scale=m["soc_scale"],
                      exchange_field=tuple(m["exchange_field"]), l3_fwhm=m["l3_fwhm"], l2_fwhm=m["l2_fwhm"],
                      shift=m["shift"])
        try:
            if self.charge_transfer is None:
                return atomic_model(m["ion"], **kwargs)
            ct = self.charge_transfer
            return cluster_model(m["ion"], delta=ct["delta"], udd=ct["udd"], upd=ct["upd"], veg=ct["veg"],
                                 vt2g=ct["vt2g"], tenq_ligand=ct["tenq_ligand"],
                                 n_ligand_holes=ct["n_ligand_holes"], **kwargs)
        except InputError as exc:
            if isinstance(exc, ConfigError):
                raise
            raise InputError(f"model: {exc}") from None

    @property
    def temperature_k(self) -> float:
        return float(self.model["temperature_k"])

    # ---------------------------------------------------------------- axes
    def resolved(self, edge_offset: float) -> "RunConfig":
        """A copy whose automatic axis limits are numbers, placed relative to ``edge_offset`` (eV)."""
        x = dict(self.xas)
        if x["energy_min"] is None:
            x["energy_min"] = round(edge_offset - 12.0, 6)
        if x["energy_max"] is None:
            x["energy_max"] = round(edge_offset + 18.0, 6)
        r = dict(self.rixs)
        if r["excitation_min"] is None:
            r["excitation_min"] = round(edge_offset - 7.0, 6)
        if r["excitation_max"] is None:
            r["excitation_max"] = round(edge_offset + 3.0, 6)
        if r["emission_min"] is None:
            r["emission_min"] = round(r["excitation_min"] - 15.0, 6)
        if r["emission_max"] is None:
            r["emission_max"] = round(r["excitation_max"] + 2.0, 6)
        return RunConfig(self.model, self.charge_transfer, x, r, self.sample, self.surface, self.title, self.source)

    def _need_resolved(self, table, *names):
        for n in names:
            if table[n] is None:
                raise InputError(f"axis limit {n} is automatic; call RunConfig.resolved(edge_offset) first")

    def xas_energies(self) -> np.ndarray:
        """XAS photon energies (eV, absolute)."""
        self._need_resolved(self.xas, "energy_min", "energy_max")
        x = self.xas
        return axis_from_range(x["energy_min"], x["energy_max"], x["energy_step"], "xas.energy")

    def rixs_axes(self) -> dict:
        """``{"excitation": …, "emission" | "loss": …}`` in eV for :func:`rixsim.spectroscopy.rixs.rixs_map`."""
        r = self.rixs
        self._need_resolved(r, "excitation_min", "excitation_max", "emission_min", "emission_max")
        out = {"excitation": axis_from_range(r["excitation_min"], r["excitation_max"], r["excitation_step"],
                                             "rixs.excitation")}
        if r["axis"] == "loss":
            out["loss"] = axis_from_range(r["loss_min"], r["loss_max"], r["loss_step"], "rixs.loss")
        else:
            out["emission"] = axis_from_range(r["emission_min"], r["emission_max"], r["emission_step"],
                                              "rixs.emission")
        return out

    def rixs_keywords(self) -> dict:
        """Keywords of :func:`rixsim.spectroscopy.rixs.rixs_map` other than the axes (geometry, widths, elastic, memory)."""
        from rixsim.spectroscopy.geometry import ScatteringGeometry
        r = self.rixs
        kw = dict(final_fwhm=r["final_fwhm"], resolution_fwhm=r["resolution_fwhm"], elastic=r["elastic"],
                  memory_gb=r["memory_gb"])
        if r["incident"] != "isotropic":
            try:
                kw["geometry"] = ScatteringGeometry(two_theta_deg=r["two_theta_deg"], incident=r["incident"],
                                                    outgoing=None if r["outgoing"] == "unanalysed" else r["outgoing"])
            except InputError as exc:
                raise InputError(f"rixs: {exc}") from None
            kw["powder"] = bool(r["powder"])
        return kw

    def xas_keywords(self) -> dict:
        """Keywords of :func:`rixsim.xas` other than the energies."""
        x = self.xas
        pol = x["polarization"]
        return dict(polarization=list(pol) if isinstance(pol, tuple) else pol, temperature_k=self.temperature_k,
                    gauss_fwhm=x["gauss_fwhm"], lorentz_fwhm=x["lorentz_fwhm"])

    # ---------------------------------------------------------------- sample
    def build_sample(self, element: str, spectrum, resonant_map=None):
        """``(Sample, Geometry)`` of ``[sample]`` with ``spectrum`` as the L2,3 resonance of ``element``."""
        from rixsim.detection.sample import Geometry, Layer, ResonantEdge, Sample
        if self.sample is None:
            raise ConfigError("sample", "the channels need a [sample] table (formula, density_g_cm3, ...)")
        s = self.sample
        try:
            edge = ResonantEdge(element, "L2,3", spectrum)
            bulk = Layer(s["formula"], s["density_g_cm3"], s["thickness_nm"], name="bulk")
        except InputError as exc:
            raise InputError(f"sample: {exc}") from None
        if element not in bulk.composition:
            raise ConfigError("sample.formula", f"{s['formula']!r} does not contain the model's element {element}")
        bulk = bulk.replace_resonances((edge,))
        layers = []
        for i, d in enumerate(self.surface):
            try:
                lay = Layer(d["formula"], d["density_g_cm3"], d["thickness_nm"], name=d["name"] or f"surface {i}")
            except InputError as exc:
                raise InputError(f"sample.surface[{i}]: {exc}") from None
            if element in lay.composition:
                lay = lay.replace_resonances((edge,))
            layers.append(lay)
        try:
            sample = Sample(bulk, tuple(layers))
            geometry = Geometry(s["incidence_deg"], s["exit_deg"], s["solid_angle_fraction"])
        except InputError as exc:
            raise InputError(f"sample: {exc}") from None
        return sample, geometry

    # ---------------------------------------------------------------- round trip
    def as_parameters(self) -> dict:
        """The complete parameter set as nested plain dicts (what :func:`config_from_dict` reads)."""
        from rixsim import __version__
        out: dict[str, Any] = {"title": self.title, "model": _plain(self.model)}
        if self.charge_transfer is not None:
            out["model"]["charge_transfer"] = _plain(self.charge_transfer)
        out["xas"] = _plain(self.xas)
        out["rixs"] = _plain(self.rixs)
        if self.sample is not None:
            out["sample"] = _plain(self.sample)
            if self.surface:
                out["sample"]["surface"] = [_plain(d) for d in self.surface]
        out["rixsim_version"] = __version__
        return out


def _plain(d: Mapping) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}


def config_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> RunConfig:
    """Validate a parsed model file (nested dicts as from ``tomllib``) into a :class:`RunConfig`.

    ``rixsim_version`` (written by :meth:`RunConfig.as_parameters`) is accepted and ignored; None values mean
    "default" (they appear in stored parameter sets).

    Raises
    ------
    ConfigError
        Unknown table or key, wrong type, value not allowed, or a required key missing; the message starts
        with the dotted key.
    """
    if not isinstance(data, Mapping):
        raise ConfigError("<file>", f"expected tables, got {_describe(data)}")
    for name in data:
        if name not in _TABLES and name not in _TOP and name != "rixsim_version":
            raise ConfigError(name, f"unknown table or key; allowed: {', '.join(_TOP + _TABLES)}")
    title = data.get("title", "")
    if not isinstance(title, str):
        raise ConfigError("title", f"expected a string, got {_describe(title)}")
    if "model" not in data:
        raise ConfigError("model.ion", "required key is missing (no [model] table)")
    model = _check_table("model", data["model"], allow_sub="charge_transfer")
    from rixsim.cluster.tables import parse_ion
    try:
        parse_ion(model["ion"])
    except InputError as exc:
        raise ConfigError("model.ion", str(exc)) from None
    ct = None
    if data["model"].get("charge_transfer") is not None:
        ct = _check_table("model.charge_transfer", data["model"]["charge_transfer"])
    xas = _check_table("xas", data.get("xas", {}))
    rixs = _check_table("rixs", data.get("rixs", {}))
    sample, surface = None, ()
    if data.get("sample") is not None:
        sample = _check_table("sample", data["sample"], allow_sub="surface")
        layers = data["sample"].get("surface", [])
        if isinstance(layers, Mapping):
            layers = [layers]
        if not isinstance(layers, list):
            raise ConfigError("sample.surface", f"expected [[sample.surface]] tables, got {_describe(layers)}")
        surface = tuple(_check_table("sample.surface", lay) for lay in layers)
        for i, lay in enumerate(surface):
            if not math.isfinite(lay["thickness_nm"]):
                raise ConfigError(f"sample.surface[{i}].thickness_nm", "a surface layer must have a finite thickness")
    _check_ranges("model", model)
    if ct is not None:
        _check_ranges("model.charge_transfer", ct)
    _check_ranges("xas", xas)
    _check_ranges("rixs", rixs)
    if sample is not None:
        _check_ranges("sample", sample)
        for i, lay in enumerate(surface):
            _check_ranges("sample.surface", lay, f"sample.surface[{i}]")
    if "rixsim_version" not in data:     # a stored parameter set holds every key by construction
        _check_conflicts(data)
    return RunConfig(model, ct, xas, rixs, sample, surface, title, source)


#: ranges of the keys that the library does not check as soon as it is given them (``(lo, hi, unit,
#: lo_open)``); the model keys take theirs from :data:`rixsim.validate.MODEL_RANGES`, so the model file and
#: the Python API accept the same values
_RANGES = {
    "xas.energy_step": (0.0, 100.0, "eV", True),
    "xas.gauss_fwhm": (0.0, 50.0, "eV", False),
    "xas.lorentz_fwhm": (0.0, 50.0, "eV", False),
    "rixs.excitation_step": (0.0, 100.0, "eV", True),
    "rixs.emission_step": (0.0, 100.0, "eV", True),
    "rixs.loss_step": (0.0, 100.0, "eV", True),
    "rixs.two_theta_deg": (0.0, 180.0, "degrees", True),
    "rixs.final_fwhm": (0.0, 50.0, "eV", False),
    "rixs.resolution_fwhm": (0.0, 50.0, "eV", False),
    "rixs.memory_gb": (0.0, 1e6, "GB", True),
    "sample.density_g_cm3": (0.0, 30.0, "g/cm3", True),
    "sample.thickness_nm": (0.0, math.inf, "nm", True),
    "sample.incidence_deg": (0.0, 90.0, "degrees from the surface", True),
    "sample.exit_deg": (0.0, 90.0, "degrees from the surface", True),
    "sample.solid_angle_fraction": (0.0, 1.0, "(detector solid angle / 4pi)", True),
    "sample.line_fwhm": (0.0, 50.0, "eV", False),
    "sample.electron_escape_nm": (0.0, 1e4, "nm", True),
    "sample.surface.density_g_cm3": (0.0, 30.0, "g/cm3", True),
    "sample.surface.thickness_nm": (0.0, math.inf, "nm", True),
}


def _check_ranges(section: str, table: Mapping, where: Optional[str] = None) -> None:
    """Refuse values outside their physical range, naming the dotted key and the range."""
    from rixsim import validate
    where = where or section
    for name, v in table.items():
        if v is None or isinstance(v, (str, bool)):
            continue
        key = f"{section}.{name}"
        if key == "xas.polarization" and isinstance(v, tuple) and not any(v):
            raise ConfigError(f"{where}.{name}", "a polarisation vector must not be [0, 0, 0]")
        hi_open = key == "rixs.two_theta_deg"
        if section.startswith("model") and name in validate.MODEL_RANGES:
            lo, hi, unit = validate.MODEL_RANGES[name]
            lo_open = False
        elif key in _RANGES:
            lo, hi, unit, lo_open = _RANGES[key]
        else:
            continue
        values = v if isinstance(v, tuple) else (v,)
        try:
            for x in values:
                validate.number(x, name, unit, lo=lo, hi=None if math.isinf(hi) else hi, lo_open=lo_open,
                                hi_open=hi_open, allow_inf=math.isinf(hi))
        except InputError as exc:
            raise ConfigError(f"{where}.{name}", str(exc).removeprefix(f"{name} ")) from None


#: keys that only mean something with a given value of another key: (table, key, its value, keys ignored)
_CONFLICTS = (
    ("rixs", "axis", "emission", ("loss_min", "loss_max", "loss_step")),
    ("rixs", "axis", "loss", ("emission_min", "emission_max", "emission_step")),
    ("rixs", "incident", "isotropic", ("two_theta_deg", "outgoing", "powder")),
)


def _check_conflicts(data: Mapping) -> None:
    """Refuse keys that the rest of the file makes meaningless (they would be silently ignored), unless they
    are given at their default value (as in a file listing every key, like ``rixsim/examples/mn2_oh.toml``)."""
    for section, key, value, ignored in _CONFLICTS:
        table = data.get(section) or {}
        if not isinstance(table, Mapping):
            continue
        actual = table.get(key, next(k.default for k in SCHEMA[section] if k.name == key))
        if actual != value:
            continue
        defaults = {k.name: k.default for k in SCHEMA[section]}
        given = [n for n in ignored if n in table and table[n] is not None and table[n] != defaults[n]]
        if given:
            raise ConfigError(f"{section}.{given[0]}", f"conflicts with {section}.{key} = {value!r}, which ignores "
                              f"it; remove it or change {section}.{key}")


def _tomllib():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib


def load_config(path) -> RunConfig:
    """Read and validate a TOML model file (see the module docstring).

    Raises
    ------
    InputError
        The file is missing or not valid TOML (the message gives the line), or :class:`ConfigError`.
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(f"model file '{p}' is a directory, not a TOML file")
    if not p.is_file():
        raise InputError(f"model file '{p}' does not exist")
    tomllib = _tomllib()
    try:
        with open(p, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"'{p}' is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"'{p}' is not UTF-8 text: {exc}") from None
    cfg = config_from_dict(data, str(p))
    log.debug("loaded %s", p)
    return cfg

"""What the map explorer computes, without Bokeh: files, display grids, windows, channels, cuts, differences,
model previews, fits and exports.

Everything the page shows as a number comes from here, and everything here calls rixsim's own functions:
the channel traces are :func:`rixsim.detection.channels.tfy_from_map` … ``ccpfy_from_map``, the cuts
:func:`rixsim.spectroscopy.rixs.constant_emission_cut` / ``constant_loss_cut`` (and
:func:`constant_excitation_cut` below), the model :class:`rixsim.analysis.fitting.FitModel`.  The Bokeh layer
(:mod:`rixsim.interfaces.viewer.app`) only moves these numbers to the browser and back.

Display rule
------------
A map is *shown* on a uniform grid of at most :data:`MAX_DISPLAY_POINTS` points per axis: an axis with more
points is reduced by averaging blocks of ``k = ceil(n / MAX_DISPLAY_POINTS)`` consecutive points (the block's
energy is the mean of its energies); a non-uniform axis, and a map shown on the other second axis (emission
↔ loss), is interpolated linearly onto a uniform grid.  Only the image is reduced: traces, cuts, fits and
exports use the full map.
"""
from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rixsim.errors import FileExistsRefusal, InputError, RixsimError
from rixsim.results import RixsMap, Scan, Spectrum

__all__ = [
    "MAX_DISPLAY_POINTS",
    "Coalescer",
    "FitJob",
    "Loaded",
    "MapImage",
    "ModelEngine",
    "ModelSpec",
    "PathGuard",
    "PathRefused",
    "channel_traces",
    "check_stem",
    "common_grid",
    "constant_excitation_cut",
    "cuts_at",
    "difference_map",
    "emission_coverage",
    "export_view",
    "initial_windows",
    "least_squares_scale",
    "load_file",
    "map_image",
    "measured_xas",
    "model_file_text",
    "sample_map",
    "slider_ranges",
]

#: largest number of points per axis of a displayed map (see the module's display rule)
MAX_DISPLAY_POINTS = 500
CHANNELS = ("TFY", "PFY", "iPFY", "sPFY", "ccPFY")
WINDOWED = ("PFY", "iPFY", "sPFY", "ccPFY")


# ------------------------------------------------------------------------------------------------ paths
class PathRefused(InputError):
    """A path outside the folders the viewer was started with."""


class PathGuard:
    """The folders the viewer may read from: a path is allowed when, with symlinks resolved, it is one of
    them or lies inside one.

    Parameters
    ----------
    roots : sequence of path-like
        Allowed folders (the folders of the files given on the command line, or ``--root``).
    """

    def __init__(self, roots: Sequence):
        self.roots = tuple(dict.fromkeys(Path(r).expanduser().resolve() for r in roots))
        if not self.roots:
            raise InputError("the viewer needs at least one allowed folder")

    def check(self, path) -> Path:
        """The resolved ``path``; raises :class:`PathRefused` when it lies outside every allowed folder."""
        try:
            p = Path(str(path)).expanduser().resolve()
        except (OSError, RuntimeError, ValueError) as exc:
            raise PathRefused(f"'{path}': not a usable path ({exc})") from None
        if any(p == r or r in p.parents for r in self.roots):
            return p
        raise PathRefused(f"'{path}' is outside the folders this viewer may read "
                          f"({', '.join(str(r) for r in self.roots)}); restart it with --root to widen them")


# ------------------------------------------------------------------------------------------------ files
@dataclass(frozen=True)
class Loaded:
    """One file as the viewer holds it: ``kind`` is ``"map"``, ``"spectrum"``, ``"scan"`` or ``"error"``
    (then ``error`` holds the reader's message and ``data`` is None)."""

    path: str
    name: str
    kind: str
    data: Any = None
    error: str = ""
    scan: Scan | None = None


def parse_matrix_axes(text: str) -> dict:
    """Axes of a bare text matrix, ``"ROWS=lo:hi:n,COLUMNS=lo:hi:n"`` (eV), e.g. ``"loss=0.5:2:151,
    excitation=0:12:40"`` → ``{"rows": "loss", "excitation": array, "loss": array}``; one of the two names
    is ``excitation``, the other ``emission`` or ``loss``."""
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    out: dict = {}
    try:
        if len(parts) != 2:
            raise ValueError
        for k, part in enumerate(parts):
            name, rng = part.split("=")
            lo, hi, n = rng.split(":")
            name = name.strip()
            if name not in ("excitation", "emission", "loss") or name in out or int(n) < 2:
                raise ValueError
            out[name] = np.linspace(float(lo), float(hi), int(n))
            if k == 0:
                out["rows"] = name
    except ValueError:
        raise InputError(f"matrix axes {text!r}: expected ROWS=lo:hi:n,COLUMNS=lo:hi:n with the names "
                         "excitation and one of emission or loss, e.g. 'loss=0.5:2:151,excitation=0:12:40'") from None
    if "excitation" not in out:
        raise InputError(f"matrix axes {text!r}: one axis must be excitation")
    return out


def load_file(path, guard: PathGuard | None = None, matrix: str = "") -> Loaded:
    """Read ``path`` with :func:`rixsim.io.read_any`; a failure becomes a :class:`Loaded` of kind
    ``"error"`` carrying the reader's one-line message (never an exception).

    ``matrix`` (:func:`parse_matrix_axes`) reads a file that ``read_any`` cannot read as a bare text
    matrix with those axes (:func:`rixsim.io.read_map_text`), e.g. a published map stored without axes."""
    from rixsim.io import read_any, read_map_text
    from rixsim.io.als import AlsRixsScan
    name = Path(str(path)).name
    try:
        p = guard.check(path) if guard is not None else Path(str(path))
        try:
            data = read_any(p)
        except InputError:
            if not matrix:
                raise
            ax = parse_matrix_axes(matrix)
            second = "loss" if "loss" in ax else "emission"
            data = read_map_text(p, excitation=ax["excitation"], rows=ax["rows"], **{second: ax[second]})
    except (RixsimError, OSError, ValueError) as exc:
        return Loaded(str(path), name, "error", error=" ".join(str(exc).split()) or type(exc).__name__)
    if isinstance(data, AlsRixsScan):
        return Loaded(str(p), name, "map", data.ccd, scan=data.scan)
    if isinstance(data, RixsMap):
        if not np.isfinite(data.intensity).any():
            return Loaded(str(p), name, "error", error=f"{name}: the map holds no finite intensity")
        return Loaded(str(p), name, "map", data)
    if isinstance(data, Spectrum):
        return Loaded(str(p), name, "spectrum", data)
    return Loaded(str(p), name, "scan", data, scan=data)


# ------------------------------------------------------------------------------------------------ display
@dataclass(frozen=True)
class MapImage:
    """A map on a uniform display grid: ``z[i, j]`` at excitation ``y[i]`` and second-axis value ``x[j]``
    (emission, absolute eV, or loss, relative eV, as ``axis`` says); ``block`` is the averaging block per axis
    (1 = not reduced)."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    axis: str
    block: tuple = (1, 1)

    @property
    def dw(self) -> float:
        return float(self.x[-1] - self.x[0]) + _step(self.x)

    @property
    def dh(self) -> float:
        return float(self.y[-1] - self.y[0]) + _step(self.y)


def _step(a: np.ndarray) -> float:
    return float(a[1] - a[0]) if a.size > 1 else 1.0


def _second(rmap: RixsMap) -> tuple[str, np.ndarray]:
    return ("loss", rmap.loss) if rmap.on_loss_axis else ("emission", rmap.emission)


def _uniform(a: np.ndarray) -> bool:
    if a.size < 3:
        return True
    d = np.diff(a)
    return bool(np.allclose(d, d[0], rtol=1e-6, atol=1e-9 * max(1.0, abs(a).max())))


def _block_mean(a: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Means of ``k`` consecutive entries along ``axis`` (a shorter last block is its own mean)."""
    if k <= 1:
        return a
    n = a.shape[axis]
    starts = np.arange(0, n, k)
    sums = np.add.reduceat(np.nan_to_num(a, nan=0.0), starts, axis=axis)
    counts = np.add.reduceat(np.isfinite(a).astype(float), starts, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _axis_mean(a: np.ndarray, k: int) -> np.ndarray:
    if k <= 1:
        return a
    starts = np.arange(0, a.size, k)
    return np.add.reduceat(a, starts) / np.diff(np.append(starts, a.size))


def sample_map(rmap: RixsMap, excitation, second, axis: str) -> np.ndarray:
    """The map bilinearly interpolated at ``excitation`` (rows) × ``second`` (columns) on ``axis``
    (``"emission"``, absolute eV, or ``"loss"``, relative eV), NaN outside the measured area.

    On the map's own second axis this is interpolation on its grid; on the other one the value at (E, x) is
    the map at (E, E − x) — emission and loss are converted row by row.
    """
    from scipy.interpolate import RegularGridInterpolator
    native, s = _second(rmap)
    E = np.asarray(excitation, dtype=float)
    x = np.asarray(second, dtype=float)
    EE, XX = np.meshgrid(E, x, indexing="ij")
    S = XX if native == axis else EE - XX
    exc, z = rmap.excitation, rmap.intensity
    if exc.size == 1 or s.size == 1:           # a single row or column: nearest along that axis
        raise InputError("a map needs at least two points on each axis to be resampled")
    f = RegularGridInterpolator((exc, s), z, bounds_error=False, fill_value=np.nan)
    return f(np.stack([EE.ravel(), S.ravel()], axis=1)).reshape(EE.shape)


def _second_range(rmap: RixsMap, axis: str) -> tuple[float, float, float]:
    """(low, high, step) of the second axis ``axis`` covered by the map (all rows together)."""
    native, s = _second(rmap)
    step = float(np.median(np.diff(s)))
    if native == axis:
        return float(s[0]), float(s[-1]), step
    e = rmap.excitation
    return float(e.min() - s.max()), float(e.max() - s.min()), step


def map_image(rmap: RixsMap, axis: str | None = None, max_points: int = MAX_DISPLAY_POINTS) -> MapImage:
    """The map on its display grid (module docstring: block means of at most ``max_points`` per axis,
    linear interpolation for non-uniform axes and for the other second axis)."""
    native, s = _second(rmap)
    axis = native if axis is None else axis
    if axis not in ("emission", "loss"):
        raise InputError(f"axis must be 'emission' or 'loss'; got {axis!r}")
    exc, z = rmap.excitation, rmap.intensity
    if axis == native:
        ky, kx = math.ceil(exc.size / max_points), math.ceil(s.size / max_points)
        y, x = _axis_mean(exc, ky), _axis_mean(s, kx)
        zz = _block_mean(_block_mean(z, ky, 0), kx, 1)
        if _uniform(x) and _uniform(y):
            return MapImage(x, y, zz, axis, (ky, kx))
        xu = np.linspace(x[0], x[-1], x.size)
        yu = np.linspace(y[0], y[-1], y.size)
        small = RixsMap(y, None, zz, loss=x) if native == "loss" else RixsMap(y, x, zz)
        return MapImage(xu, yu, sample_map(small, yu, xu, axis), axis, (ky, kx))
    lo, hi, step = _second_range(rmap, axis)
    n = min(max_points, round((hi - lo) / step) + 1)
    xu = np.linspace(lo, hi, max(n, 2))
    ny = min(max_points, exc.size)
    yu = np.linspace(exc[0], exc[-1], ny)
    return MapImage(xu, yu, sample_map(rmap, yu, xu, axis), axis, (math.ceil(exc.size / max_points), 1))


# ------------------------------------------------------------------------------------------------ windows
def emission_coverage(rmap: RixsMap) -> tuple[float, float]:
    """(low, high) emission energies (eV) the map covers, bin edges included, as
    :func:`rixsim.detection.channels.window_yield` checks them."""
    from rixsim.detection.channels import _emission_edges_2d
    edges = _emission_edges_2d(rmap)
    return float(edges.min()), float(edges.max())


def initial_windows(rmap: RixsMap, element: str = "") -> dict:
    """Starting windows ``{"PFY": (lo, hi), "iPFY": …, "sPFY": …, "ccPFY": …}`` (eV, emission).

    With ``element`` and all of :func:`rixsim.detection.channels.default_windows` inside the map, those;
    otherwise positions by the map's emission coverage [a, b] (width W): PFY the middle half
    [a + W/4, b − W/4], iPFY the lowest tenth, ccPFY the next 15 %, sPFY 1 eV (or W/10 if narrower) around
    the emission of the strongest total emission.  They are starting points to drag, nothing more.
    """
    lo, hi = emission_coverage(rmap)
    if element:
        from rixsim.detection.channels import default_windows
        try:
            w = default_windows(element)
            wins = {"PFY": w.pfy, "iPFY": w.ipfy, "sPFY": w.spfy, "ccPFY": w.ccpfy}
            if all(lo <= a and b <= hi for a, b in wins.values()):
                return wins
        except InputError:
            pass
    width = hi - lo
    img = map_image(rmap, "emission")
    profile = np.nansum(img.z, axis=0)
    centre = float(img.x[int(np.nanargmax(profile))]) if np.isfinite(profile).any() else 0.5 * (lo + hi)
    half = 0.5 * min(1.0, width / 10)
    centre = min(max(centre, lo + half), hi - half)
    def r(a, b):                                # 1 meV is finer than any window anyone drags
        return (round(a, 3) if round(a, 3) >= lo else a, round(b, 3) if round(b, 3) <= hi else b)
    return {"PFY": r(lo + width / 4, hi - width / 4), "iPFY": r(lo, lo + width / 10),
            "sPFY": r(centre - half, centre + half), "ccPFY": r(lo + width / 10, lo + width / 4)}


def channel_traces(rmap: RixsMap, windows: Mapping[str, tuple]) -> dict:
    """``{name: Spectrum or str}`` for TFY, PFY, iPFY, sPFY and ccPFY: rixsim's channel of that window, or
    the one-line reason it cannot be computed (a window outside the map, an iPFY window without
    intensity, an sPFY window wider than 2 eV)."""
    from rixsim.detection import channels as ch
    funcs = {"PFY": ch.pfy_from_map, "iPFY": ch.ipfy_from_map, "sPFY": ch.spfy_from_map,
             "ccPFY": ch.ccpfy_from_map}
    out = {}
    try:
        out["TFY"] = ch.tfy_from_map(rmap)
    except InputError as exc:
        out["TFY"] = str(exc)
    for name, f in funcs.items():
        try:
            out[name] = f(rmap, tuple(windows[name]))
        except InputError as exc:
            out[name] = f"{name}: {exc}"
    return out


# ------------------------------------------------------------------------------------------------ cuts
def constant_excitation_cut(rmap: RixsMap, excitation: float) -> Spectrum:
    """The spectrum at one excitation energy (eV) on the map's own second axis (emission or loss): the map
    linearly interpolated between the two neighbouring excitation rows.

    Raises
    ------
    InputError
        ``excitation`` outside the map's excitation range.
    """
    from rixsim import validate
    e = validate.number(excitation, "excitation", "eV")
    exc = rmap.excitation
    if not exc[0] - 1e-9 <= e <= exc[-1] + 1e-9:
        raise InputError(f"excitation {e:g} eV is outside the map's range [{exc[0]:g}, {exc[-1]:g}] eV")
    i = int(np.clip(np.searchsorted(exc, e) - 1, 0, exc.size - 2))
    t = float(np.clip((e - exc[i]) / (exc[i + 1] - exc[i]), 0.0, 1.0))
    row = (1.0 - t) * rmap.intensity[i] + t * rmap.intensity[i + 1]
    name, s = _second(rmap)
    return Spectrum(s, row, label=f"constant excitation {e:g} eV", units=rmap.units,
                    relative=name == "loss", meta={"excitation_energy": e, "axis": name})


def cuts_at(rmap: RixsMap, excitation: float, second: float, axis: str, window: float = 0.0) -> dict:
    """The three cuts through the point (``excitation``, ``second`` on ``axis``) of the map:
    ``{"emission": constant-emission cut, "loss": constant-loss cut, "excitation": constant-excitation cut}``,
    each a Spectrum or the one-line reason it cannot be made.  ``window`` (eV, full width) as
    :func:`rixsim.spectroscopy.rixs.constant_emission_cut`."""
    from rixsim.spectroscopy.rixs import constant_emission_cut, constant_loss_cut
    emission = second if axis == "emission" else excitation - second
    loss = excitation - second if axis == "emission" else second
    out = {}
    for key, f, v in (("emission", constant_emission_cut, emission), ("loss", constant_loss_cut, loss)):
        try:
            out[key] = f(rmap, v, window)
        except InputError as exc:
            out[key] = str(exc)
    try:
        out["excitation"] = constant_excitation_cut(rmap, excitation)
    except InputError as exc:
        out["excitation"] = str(exc)
    return out


# ------------------------------------------------------------------------------------------------ difference
def common_grid(maps: Sequence[RixsMap], axis: str) -> tuple[np.ndarray, np.ndarray]:
    """(excitation, second) of the grid two or more maps are compared on: the overlap of their ranges on
    ``axis``, with the coarsest of their (median) steps."""
    if len(maps) < 2:
        raise InputError("a difference needs two maps")
    e_lo = max(float(m.excitation[0]) for m in maps)
    e_hi = min(float(m.excitation[-1]) for m in maps)
    e_step = max(float(np.median(np.diff(m.excitation))) for m in maps)
    ranges = [_second_range(m, axis) for m in maps]
    s_lo, s_hi = max(r[0] for r in ranges), min(r[1] for r in ranges)
    s_step = max(r[2] for r in ranges)
    if not (e_hi > e_lo and s_hi > s_lo):
        raise InputError(f"the maps do not overlap on excitation × {axis}; nothing to subtract")
    ne = math.floor((e_hi - e_lo) / e_step + 1e-9) + 1
    ns = math.floor((s_hi - s_lo) / s_step + 1e-9) + 1
    # clipped: lo + step·k may overshoot hi by a rounding error and fall outside a map
    return (np.minimum(e_lo + e_step * np.arange(max(ne, 2)), e_hi),
            np.minimum(s_lo + s_step * np.arange(max(ns, 2)), s_hi))


def difference_map(a: RixsMap, b: RixsMap, axis: str, normalise: str = "max") -> RixsMap:
    """``b − a`` on :func:`common_grid`, each map bilinearly interpolated (:func:`sample_map`).

    ``normalise="max"`` first divides each map by its largest value on that grid (maps in different units,
    e.g. measured counts and a simulation); ``"none"`` subtracts as they are.
    """
    if normalise not in ("max", "none"):
        raise InputError(f"normalise must be 'max' or 'none'; got {normalise!r}")
    exc, s = common_grid([a, b], axis)
    za, zb = sample_map(a, exc, s, axis), sample_map(b, exc, s, axis)
    if normalise == "max":
        for z in (za, zb):
            m = np.nanmax(np.abs(z)) if np.isfinite(z).any() else 0.0
            if m > 0:
                z /= m
    d = zb - za
    units = "normalised" if normalise == "max" else a.units
    label = f"difference ({normalise})"
    return RixsMap(exc, None, d, loss=s, units=units, label=label) if axis == "loss" else \
        RixsMap(exc, s, d, units=units, label=label)


# ------------------------------------------------------------------------------------------------ model
def measured_xas(item: Loaded, channel: str = "PFY", windows: Mapping | None = None,
                 monitor: str = "") -> Spectrum:
    """The measured absorption the model is overlaid on and fitted to: a map's ``channel`` (TFY or a window
    channel), a spectrum itself, or a scan channel (divided by ``monitor`` when given)."""
    if item.kind == "spectrum":
        return item.data
    if item.kind == "map":
        traces = channel_traces(item.data, windows or initial_windows(item.data))
        t = traces.get(channel)
        if not isinstance(t, Spectrum):
            raise InputError(t or f"unknown channel {channel!r}; one of {CHANNELS}")
        return t
    if item.kind == "scan":
        scan = item.data
        y = np.asarray(scan[channel], dtype=float)
        if monitor:
            m = np.asarray(scan[monitor], dtype=float)
            if np.any(m == 0):
                raise InputError(f"monitor {monitor!r} is zero somewhere; cannot divide by it")
            y = y / m
        return Spectrum(scan.energy, y, label=f"{item.name} {channel}" + (f"/{monitor}" if monitor else ""))
    raise InputError(f"{item.name}: {item.error}")


@dataclass(frozen=True)
class ModelSpec:
    """The model behind the sliders: ion, symmetry, temperature and, when the model file has one, its
    charge-transfer table (``delta``, ``udd``, ``upd``, ``veg`` …)."""

    ion: str
    symmetry: str = "Oh"
    temperature_k: float = 300.0
    charge_transfer: Mapping[str, float] | None = None
    start: Mapping[str, float] = field(default_factory=dict)
    source: str = ""

    @classmethod
    def from_model_file(cls, path) -> ModelSpec:
        """The ion, symmetry, temperature, crystal field, widths and edge shift of a model file
        (:func:`rixsim.interfaces.config.load_config`)."""
        from rixsim.analysis.fitting import FitModel
        from rixsim.interfaces.config import load_config
        cfg = load_config(path)
        m = cfg.model
        ct = None
        if cfg.charge_transfer is not None:
            ct = {k: float(v) for k, v in cfg.charge_transfer.items() if v is not None and k != "n_ligand_holes"}
        start = {k: float(m[k]) for k in ("tendq", "ds", "dt", "dsigma", "dtau", "slater_scale")
                 if m.get(k) is not None}
        for k in ("l3_fwhm", "l2_fwhm"):
            if m.get(k) is not None:
                start[k] = float(m[k])
        start["gauss_fwhm"] = float(cfg.xas["gauss_fwhm"])
        start["final_fwhm"] = float(cfg.rixs["final_fwhm"])
        start["resolution_fwhm"] = float(cfg.rixs["resolution_fwhm"])
        fm = FitModel(m["ion"], symmetry=m["symmetry"])
        start["edge_offset"] = fm.defaults("xas")["edge_offset"] + float(m["shift"])
        if ct:
            start.update(ct)
        return cls(m["ion"], m["symmetry"], float(m["temperature_k"]), ct, start, str(path))


#: slider parameters: name → (label, low, high, step); edge_offset's range is set per data set
SLIDERS = {"tendq": ("10Dq (eV)", 0.0, 4.0, 0.05), "delta": ("Δ (eV)", -4.0, 12.0, 0.1),
           "slater_scale": ("Slater scale", 0.3, 1.2, 0.01), "l3_fwhm": ("L3 FWHM (eV)", 0.02, 3.0, 0.02),
           "l2_fwhm": ("L2 FWHM (eV)", 0.02, 3.0, 0.02), "gauss_fwhm": ("Gaussian FWHM (eV)", 0.0, 2.0, 0.02),
           "final_fwhm": ("final-state FWHM (eV)", 0.01, 1.0, 0.01),
           "resolution_fwhm": ("resolution FWHM (eV)", 0.01, 1.0, 0.01),
           "edge_offset": ("edge offset (eV)", 0.0, 1.0, 0.05)}


def slider_ranges(spec: ModelSpec, energies: np.ndarray | None = None) -> dict:
    """``{name: (label, low, high, step, start)}`` of the sliders this model has (Δ only with charge
    transfer); the edge offset spans ±10 eV around its start, which is the model file's value, else the
    tabulated edge when it lies within 10 eV of ``energies``, else their middle (a relative axis)."""
    from rixsim.analysis.fitting import FitModel
    fm = FitModel(spec.ion, symmetry=spec.symmetry, charge_transfer=spec.charge_transfer is not None)
    d = fm.defaults("xas")
    d.update(fm.defaults("rixs"))
    d.update(spec.charge_transfer or {})
    d.update(spec.start)
    if "edge_offset" not in spec.start and energies is not None and energies.size:
        lo, hi = float(np.min(energies)), float(np.max(energies))
        if not lo - 10.0 <= d["edge_offset"] <= hi + 10.0:
            d["edge_offset"] = round(0.5 * (lo + hi), 2)
    out = {}
    for name, (label, lo, hi, step) in SLIDERS.items():
        if name == "delta" and spec.charge_transfer is None:
            continue
        v = float(d.get(name, lo))
        if name == "edge_offset":
            lo, hi = round(v - 10.0, 2), round(v + 10.0, 2)
        out[name] = (label, min(lo, v), max(hi, v), step, v)
    return out


def least_squares_scale(model: np.ndarray, data: np.ndarray) -> float:
    """The factor ``s`` minimising ``Σ (data − s·model)²`` (display overlay of a simulation on data in other
    units); 1 when the model is zero."""
    m, d = np.asarray(model, float), np.asarray(data, float)
    ok = np.isfinite(m) & np.isfinite(d)
    den = float(np.dot(m[ok], m[ok]))
    return float(np.dot(m[ok], d[ok]) / den) if den > 0 else 1.0


class ModelEngine:
    """A :class:`~rixsim.analysis.fitting.FitModel` of ``spec`` with results cached on the full parameter
    tuple: the same slider positions are never computed twice.

    Parameters
    ----------
    spec : ModelSpec
    cache_size : int
        Results kept (least recently used dropped first).
    """

    def __init__(self, spec: ModelSpec, cache_size: int = 64):
        from collections import OrderedDict

        from rixsim.analysis.fitting import FitModel
        self.spec = spec
        self.model = FitModel(spec.ion, symmetry=spec.symmetry, temperature_k=spec.temperature_k,
                              charge_transfer=spec.charge_transfer is not None)
        self._cache: OrderedDict = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()
        self.n_computed = 0

    def values(self, sliders: Mapping[str, float]) -> dict:
        """The full parameter set: the model file's start values (charge transfer included) updated by the
        sliders, restricted to what an XAS/map model of this ion accepts."""
        allowed = set(self.model.allowed_parameters("xas")) | set(self.model.allowed_parameters("rixs"))
        v = {k: float(x) for k, x in self.spec.start.items() if k in allowed}
        v.update({k: float(x) for k, x in sliders.items() if k in allowed})
        return v

    def _cached(self, key, compute):
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        result = compute()
        with self._lock:
            self._cache[key] = result
            self.n_computed += 1
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return result

    @staticmethod
    def _key(kind, values, *axes):
        return (kind, tuple(sorted(values.items())), *(tuple(np.asarray(a, float).tolist()) for a in axes))

    def xas(self, energies, sliders: Mapping[str, float]) -> np.ndarray:
        """Model XAS (``scale`` 1, no background) on ``energies`` (eV) for the slider values."""
        v = self.values(sliders)
        v.update(scale=1.0, background=0.0, background_slope=0.0)
        xas_v = {k: x for k, x in v.items() if k in self.model.allowed_parameters("xas")}
        e = np.asarray(energies, dtype=float)
        return self._cached(self._key("xas", xas_v, e), lambda: self.model.xas(e, xas_v))

    def rixs_map(self, excitation, second, on_loss_axis: bool, sliders: Mapping[str, float]) -> np.ndarray:
        """Model map (``scale`` 1) on the given axes (powder, the defaults of
        :func:`rixsim.spectroscopy.rixs.rixs_map`)."""
        v = self.values(sliders)
        v.update(scale=1.0, background=0.0, background_slope=0.0)
        rv = {k: x for k, x in v.items() if k in self.model.allowed_parameters("rixs")}
        ex, s = np.asarray(excitation, float), np.asarray(second, float)
        return self._cached(self._key("map", rv, ex, s, [on_loss_axis]),
                            lambda: self.model.rixs(ex, s, rv, on_loss_axis=on_loss_axis))


class Coalescer:
    """Background jobs where only the newest request counts: one job runs at a time, a request made while
    one runs waits, and a newer request replaces a waiting one.  ``done(result, error)`` is called on the
    worker thread for every job that ran (the Bokeh layer hands it to the page's next tick).

    Parameters
    ----------
    executor : concurrent.futures.Executor
    """

    def __init__(self, executor):
        self._executor = executor
        self._lock = threading.Lock()
        self._running = False
        self._pending = None
        self.n_started = 0

    def submit(self, job: Callable[[], Any], done: Callable[[Any, BaseException | None], None]) -> None:
        with self._lock:
            if self._running:
                self._pending = (job, done)
                return
            self._running = True
        self._start(job, done)

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running

    def _start(self, job, done):
        self.n_started += 1
        self._executor.submit(self._run, job, done)

    def _run(self, job, done):
        try:
            result, error = job(), None
        except BaseException as exc:           # noqa: BLE001 - handed to the page as a message
            result, error = None, exc
        try:
            done(result, error)
        finally:
            with self._lock:
                nxt, self._pending = self._pending, None
                self._running = nxt is not None
            if nxt is not None:
                self._start(*nxt)


# ------------------------------------------------------------------------------------------------ export
_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def check_stem(stem: str) -> str:
    """A file stem for exports: letters, digits, ``.``, ``_``, ``-`` (no folders)."""
    s = str(stem).strip()
    if not _STEM.match(s):
        raise InputError(f"export name {stem!r}: use letters, digits, '.', '_' or '-' only (no folders)")
    return s


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, np.floating, np.integer)):
        f = float(v)
        if not math.isfinite(f):
            raise InputError(f"cannot write {v!r} to TOML")
        return repr(int(f)) if float(f).is_integer() and isinstance(v, (int, np.integer)) else repr(f)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise InputError(f"cannot write a {type(v).__name__} to TOML")


def _toml(tables: Mapping[str, Mapping], top: Mapping[str, Any] = {}, header: str = "") -> str:
    lines = [f"# {ln}" for ln in header.splitlines()]
    lines += [f"{k} = {_toml_value(v)}" for k, v in top.items()]
    for name, table in tables.items():
        lines += ["", f"[{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def model_file_text(spec: ModelSpec, values: Mapping[str, float], rmap: RixsMap | None = None) -> str:
    """A model file (TOML, loadable by :func:`rixsim.interfaces.config.load_config`) of the slider values:
    ``[model]`` with ``shift`` = edge offset − tabulated edge, ``[model.charge_transfer]`` when the model has
    one, ``[xas]`` with the Gaussian width and ``[rixs]`` with the map widths and, for a map on absolute
    energies, its axes."""
    from rixsim.analysis.fitting import FitModel
    fm = FitModel(spec.ion, symmetry=spec.symmetry)
    model = {"ion": spec.ion, "symmetry": spec.symmetry}
    for k in ("tendq", "ds", "dt", "dsigma", "dtau", "slater_scale", "l3_fwhm", "l2_fwhm"):
        if k in values:
            model[k] = float(values[k])
    model["shift"] = (float(values.get("edge_offset", fm.defaults("xas")["edge_offset"]))
                      - fm.defaults("xas")["edge_offset"])
    model["temperature_k"] = float(spec.temperature_k)
    tables = {"model": model}
    if spec.charge_transfer is not None:
        ct = dict(spec.charge_transfer)
        ct.update({k: float(values[k]) for k in ct if k in values})
        tables["model.charge_transfer"] = {k: float(v) for k, v in ct.items()}
    tables["xas"] = {"gauss_fwhm": float(values.get("gauss_fwhm", 0.2))}
    rixs = {k: float(values[k]) for k in ("final_fwhm", "resolution_fwhm") if k in values}
    if rmap is not None and not rmap.relative:
        def rng(a):
            return {"min": round(float(a[0]), 6), "max": round(float(a[-1]), 6),
                    "step": round(float(np.median(np.diff(a))), 6)}
        r = rng(rmap.excitation)
        rixs.update(excitation_min=r["min"], excitation_max=r["max"], excitation_step=r["step"])
        name, s = _second(rmap)
        r = rng(s)
        rixs.update({"axis": name, f"{name}_min": r["min"], f"{name}_max": r["max"], f"{name}_step": r["step"]})
    tables["rixs"] = rixs
    return _toml(tables, {"title": f"{spec.ion} {spec.symmetry} from the rixsim map explorer"},
                 header="Written by `rixsim view` (model panel): the slider values as a model file.\n"
                        "Energies in eV; widths are FWHM.")


def export_view(out_dir, stem: str, *, spec: ModelSpec | None, values: Mapping[str, float],
                windows: Mapping[str, tuple], cuts: Mapping[str, Any], channels: Mapping[str, Any],
                source: str = "", rmap: RixsMap | None = None, overwrite: bool = False) -> list[Path]:
    """Write the explorer's state into ``out_dir``, atomically, refusing existing files unless
    ``overwrite`` (all names are checked before anything is written).

    Files: ``<stem>.toml`` (a model file of the slider values, :func:`model_file_text`; only with a model),
    ``<stem>_view.toml`` (windows, cut positions, source, model values), ``<stem>_channels.csv`` (excitation
    and each channel that could be computed), ``<stem>_cut_<emission|loss|excitation>.csv`` (each cut, as
    :func:`rixsim.io.write_spectrum_csv`) and ``<stem>_view.h5`` (channels, cuts, windows, values).
    """
    import h5py

    from rixsim.io.atomic import atomic_write, write_text_atomic
    from rixsim.validate import output_directory
    out = output_directory(out_dir, "export folder")
    if not out.is_dir():
        raise InputError(f"export folder '{out}' does not exist")
    stem = check_stem(stem)
    names = {"view": out / f"{stem}_view.toml", "csv": out / f"{stem}_channels.csv", "h5": out / f"{stem}_view.h5"}
    if spec is not None:
        names["model"] = out / f"{stem}.toml"
    cut_spectra = {k: s for k, s in cuts.items() if isinstance(s, Spectrum)}
    for k in cut_spectra:
        names[f"cut_{k}"] = out / f"{stem}_cut_{k}.csv"
    taken = [p for p in names.values() if p.exists()]
    if taken and not overwrite:
        raise FileExistsRefusal(f"'{taken[0]}' exists" + (f" (and {len(taken) - 1} more)" if len(taken) > 1 else "")
                                + "; tick 'overwrite' to replace")
    good = {k: s for k, s in channels.items() if isinstance(s, Spectrum)}
    view = {"source": {"file": source}, "windows": {k: list(map(float, v)) for k, v in windows.items()}}
    for k, s in cut_spectra.items():
        view[f"cuts.{k}"] = {kk: float(vv) for kk, vv in s.meta.items()
                             if kk in ("emission_energy", "loss_energy", "excitation_energy", "window")}
    if spec is not None:
        view["model"] = {"ion": spec.ion, "symmetry": spec.symmetry}
        view["model.values"] = {k: float(v) for k, v in values.items()}
    written = []
    if spec is not None:
        written.append(write_text_atomic(names["model"], model_file_text(spec, values, rmap), overwrite))
    written.append(write_text_atomic(names["view"], _toml(view, header="rixsim map explorer: windows (emission, eV), "
                                                          "cut positions (eV), model values"), overwrite))
    if good:
        e = next(iter(good.values())).energy
        cols = ["excitation_eV"] + list(good)
        rows = np.column_stack([e] + [s.intensity for s in good.values()])
        head = "# rixsim map explorer channels; windows (emission, eV): " + \
               "; ".join(f"{k} {v[0]:g}-{v[1]:g}" for k, v in windows.items()) + "\n" + ",".join(cols) + "\n"
        body = "\n".join(",".join(repr(float(x)) for x in r) for r in rows) + "\n"
        written.append(write_text_atomic(names["csv"], head + body, overwrite))
    from rixsim.io import write_spectrum_csv
    for k, c in cut_spectra.items():
        meta = {kk: vv for kk, vv in c.meta.items() if isinstance(vv, (int, float, str, bool))}
        written.append(write_spectrum_csv(names[f"cut_{k}"], Spectrum(c.energy, c.intensity, c.label, c.units,
                                                                      c.relative, meta), overwrite))

    def write_h5(tmp):
        with h5py.File(tmp, "w") as f:
            f.attrs["creator"] = "rixsim view"
            f.attrs["source"] = source
            g = f.create_group("channels")
            for k, s in good.items():
                d = g.create_dataset(k, data=np.column_stack([s.energy, s.intensity]))
                d.attrs["columns"] = ["excitation_eV", k]
                d.attrs["units"] = s.units
                if k in windows:
                    d.attrs["window_ev"] = np.asarray(windows[k], float)
            g = f.create_group("cuts")
            for k, s in cut_spectra.items():
                d = g.create_dataset(k, data=np.column_stack([s.energy, s.intensity]))
                d.attrs["label"] = s.label
                d.attrs["units"] = s.units
            w = f.create_group("windows")
            for k, v in windows.items():
                w.attrs[k] = np.asarray(v, float)
            m = f.create_group("model")
            for k, v in values.items():
                m.attrs[k] = float(v)
            if spec is not None:
                m.attrs["ion"] = spec.ion
                m.attrs["symmetry"] = spec.symmetry
    written.append(atomic_write(names["h5"], overwrite, write_h5))
    return written


# ------------------------------------------------------------------------------------------------ fit
class FitJob:
    """A fit of the model's XAS to the measured one, started from the slider values, on its own
    :class:`~rixsim.analysis.fitting.FitModel` (the preview's cache is not shared across threads).

    ``n_evaluations`` can be read from another thread while :meth:`run` works: it is the progress shown.

    Parameters
    ----------
    spec : ModelSpec
    data : Spectrum
        The measured absorption (absolute eV).
    start : mapping
        Starting values (the sliders).
    vary : sequence of str
        Parameters to fit; ``scale`` is always added (data and model are in different units).
    max_nfev : int
        Limit on model evaluations.
    """

    def __init__(self, spec: ModelSpec, data: Spectrum, start: Mapping[str, float], vary: Sequence[str],
                 max_nfev: int = 300):
        from rixsim.analysis.fitting import FitModel
        self.model = FitModel(spec.ion, symmetry=spec.symmetry, temperature_k=spec.temperature_k,
                              charge_transfer=spec.charge_transfer is not None)
        allowed = set(self.model.allowed_parameters("xas"))
        self.start = {k: float(v) for k, v in start.items() if k in allowed}
        self.vary = [v for v in dict.fromkeys([*vary, "scale"]) if v in allowed]
        self.data = data
        self.max_nfev = int(max_nfev)

    @property
    def n_evaluations(self) -> int:
        return self.model.n_evaluations

    def run(self):
        """:func:`rixsim.analysis.fitting.fit_xas` (unit weights: the displayed data need not be counts);
        returns its :class:`~rixsim.fit_result.FitResult`."""
        from rixsim.analysis.fitting import fit_xas
        start = {k: v for k, v in self.start.items() if k != "scale"}
        return fit_xas(self.data, self.model, start=start, vary=self.vary, sigma=None, max_nfev=self.max_nfev,
                       allow_negative=True)

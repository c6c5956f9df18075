"""Checks and map assembly shared by every reader (axes, intensities, NaN masking)."""
from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np

from rixsim.errors import InputError, RixsimWarning
from rixsim.results import RixsMap

__all__ = ["MaskedDataWarning"]



logger = logging.getLogger(__name__)

_ROWS_ALLOWED = ("excitation", "emission", "loss")
_JSON_KEYS_ATTR = "rixsim_json_keys"
_SPECTRUM_MAGIC = "# rixsim spectrum v1"
_MAX_ATTR_BYTES = 32_000  # HDF5's compact attribute storage holds at most 64 kB per object header


class MaskedDataWarning(RixsimWarning):
    """Non-finite (NaN) data points were masked while reading a file."""


# --------------------------------------------------------------------------------------------------------------
# Small validation helpers
# --------------------------------------------------------------------------------------------------------------

def _path(path, what: str = "path") -> Path:
    try:
        return Path(os.fspath(path))
    except TypeError as exc:
        raise InputError(f"{what} must be a file path (str or os.PathLike); got {path!r}") from exc


def _existing_file(path) -> Path:
    p = _path(path)
    if p.is_dir():
        raise InputError(f"'{p}' is a directory, not a data file")
    if not p.is_file():
        raise InputError(f"file not found: '{p}'")
    if p.stat().st_size == 0:
        raise InputError(f"file '{p}' is empty")
    return p


def _monotonic_order(axis: np.ndarray, name: str, source: str) -> bool:
    """Check that ``axis`` is finite and strictly monotonic; return True when it is decreasing."""
    if axis.ndim != 1:
        raise InputError(f"{name} axis in {source} must be 1-D; got shape {axis.shape}")
    if axis.size < 2:
        raise InputError(f"{name} axis in {source} needs at least 2 points; got {axis.size}")
    bad = ~np.isfinite(axis)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{name} axis in {source} has a non-finite value {axis[i]} at index {i}")
    steps = np.diff(axis)
    if (steps > 0).all():
        return False
    if (steps < 0).all():
        return True
    # Neither: name the first index that breaks the direction set by the first step.
    direction = np.sign(steps[0]) if steps[0] != 0 else 1.0
    i = int(np.flatnonzero(np.sign(steps) != direction)[0])
    raise InputError(f"{name} axis in {source} is not strictly monotonic: {name}[{i}]={axis[i]} is followed by "
                     f"{name}[{i + 1}]={axis[i + 1]} (index {i + 1}); sort the data or remove duplicates")


def _check_intensity_values(z: np.ndarray, source: str, allow_negative: bool) -> None:
    """Refuse ±inf and (unless allowed) negative values; NaN is handled by the callers."""
    inf = np.isinf(z)
    if inf.any():
        idx = tuple(int(i) for i in np.argwhere(inf)[0])
        raise InputError(f"intensity in {source} has an infinite value at index {idx}")
    if not allow_negative:
        with np.errstate(invalid="ignore"):
            neg = z < 0
        if neg.any():
            idx = tuple(int(i) for i in np.argwhere(neg)[0])
            raise InputError(f"intensity in {source} has a negative value {z[idx]} at index {idx} "
                             f"({int(neg.sum())} negative in all); pass allow_negative=True for "
                             f"background-subtracted data")


def _check_rows(rows: str) -> str:
    if rows not in _ROWS_ALLOWED:
        raise InputError(f"rows must be one of {_ROWS_ALLOWED} (the axis that runs along the rows of the "
                         f"matrix); got {rows!r}")
    return rows




# --------------------------------------------------------------------------------------------------------------
# Maps
# --------------------------------------------------------------------------------------------------------------


def _assemble_map(intensity, excitation, second, second_name: str, rows: str, source: str,
                  allow_negative: bool, label: str, units: str, meta: dict, emission=None,
                  elastic=None, relative: bool = False) -> RixsMap:
    """Validate and orient a map; ``second_name`` is 'emission' or 'loss'."""
    z = np.asarray(intensity, dtype=float)
    if z.ndim != 2:
        raise InputError(f"intensity in {source} must be a 2-D matrix; got shape {z.shape}")
    if z.size == 0:
        raise InputError(f"intensity in {source} is empty (shape {z.shape})")
    x = np.asarray(excitation, dtype=float).reshape(-1)
    s = np.asarray(second, dtype=float).reshape(-1)
    if rows != "excitation":
        z = z.T
        if elastic is not None:
            elastic = np.asarray(elastic, dtype=float).T
    if z.shape != (x.size, s.size):
        raise InputError(f"shape mismatch in {source}: intensity is {z.shape} "
                         f"({'rows' if rows == 'excitation' else 'columns'} = excitation) but the excitation axis "
                         f"has {x.size} and the {second_name} axis {s.size} points; check rows={rows!r}")
    reversed_axes = []
    if _monotonic_order(x, "excitation", source):
        x, z = x[::-1], z[::-1, :]
        elastic = None if elastic is None else np.asarray(elastic)[::-1, :]
        reversed_axes.append("excitation")
    if _monotonic_order(s, second_name, source):
        s, z = s[::-1], z[:, ::-1]
        elastic = None if elastic is None else np.asarray(elastic)[:, ::-1]
        if emission is not None and second_name == "loss":
            emission = np.asarray(emission)[::-1]
        reversed_axes.append(second_name)
    if reversed_axes:
        logger.info("%s: decreasing %s axis reversed together with the intensity", source,
                    " and ".join(reversed_axes))
        meta["reversed_axes"] = reversed_axes
    nan = np.isnan(z)
    if nan.any():
        full_rows = np.flatnonzero(nan.all(axis=1))
        if full_rows.size:
            i = int(full_rows[0])
            raise InputError(f"{source}: every intensity at excitation index {i} ({x[i]} eV) is NaN; "
                             f"remove that row")
        full_cols = np.flatnonzero(nan.all(axis=0))
        if full_cols.size:
            j = int(full_cols[0])
            raise InputError(f"{source}: every intensity at {second_name} index {j} ({s[j]} eV) is NaN; "
                             f"remove that column")
        first = tuple(int(i) for i in np.argwhere(nan)[0])
        warnings.warn(f"{source}: {int(nan.sum())} NaN intensit{'y' if nan.sum() == 1 else 'ies'} masked (left "
                      f"NaN in the map), first at index {first}", MaskedDataWarning, stacklevel=3)
        meta["n_masked"] = int(nan.sum())
    _check_intensity_values(z, source, allow_negative)
    if second_name == "loss":
        return RixsMap(excitation=x, emission=emission, intensity=z, loss=s, elastic=elastic, label=label,
                       units=units, relative=relative, meta=meta)
    return RixsMap(excitation=x, emission=s, intensity=z, elastic=elastic, label=label, units=units,
                   relative=relative, meta=meta)


def _second_axis(emission, loss, source: str):
    if (emission is None) == (loss is None):
        raise InputError(f"{source}: give exactly one of emission= or loss= for the second axis "
                         f"(got {'both' if emission is not None else 'neither'})")
    return (emission, "emission") if emission is not None else (loss, "loss")



"""Input checks shared by the public API: each raises :class:`~rixsim.errors.InputError` naming the bad value."""
from __future__ import annotations

import numpy as np

from rixsim.errors import InputError


def energy_axis(values, name: str = "energy", min_points: int = 1) -> np.ndarray:
    """Return ``values`` as a 1-D float array that is finite and strictly increasing (eV)."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a sequence of numbers (eV); got {values!r}") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-D; got shape {arr.shape}")
    if arr.size < min_points:
        raise InputError(f"{name} needs at least {min_points} point(s); got {arr.size}")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{name} has a non-finite value {arr[i]} at index {i}")
    steps = np.diff(arr)
    if (steps <= 0).any():
        i = int(np.flatnonzero(steps <= 0)[0])
        raise InputError(f"{name} must be strictly increasing; {name}[{i}]={arr[i]} is followed by "
                         f"{name}[{i + 1}]={arr[i + 1]}")
    return arr


def width(value, name: str, allow_zero: bool = True) -> float:
    """Return a broadening width (FWHM or HWHM, eV) as float; refuse negative or non-finite values."""
    try:
        w = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a number in eV; got {value!r}") from exc
    if not np.isfinite(w) or w < 0 or (w == 0 and not allow_zero):
        allowed = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{name} must be finite and {allowed} eV; got {value!r}")
    return w


def nonnegative(value, name: str, unit: str = "") -> float:
    """Return ``value`` as a finite, non-negative float."""
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a number{(' in ' + unit) if unit else ''}; got {value!r}") from exc
    if not np.isfinite(v) or v < 0:
        raise InputError(f"{name} must be finite and >= 0{(' ' + unit) if unit else ''}; got {value!r}")
    return v


def intensities(values, name: str = "intensity", allow_negative: bool = False) -> np.ndarray:
    """Return measured or simulated intensities as a float array; refuse NaN/inf and (optionally) negatives."""
    arr = np.asarray(values, dtype=float)
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"{name} has a non-finite value at index {idx}; mask or remove it first")
    if not allow_negative and (arr < 0).any():
        idx = tuple(int(i) for i in np.argwhere(arr < 0)[0])
        raise InputError(f"{name} has a negative value {arr[idx]} at index {idx}")
    return arr


def energy_window(energy_range, axis: np.ndarray, min_points: int = 1) -> np.ndarray:
    """Boolean mask of ``axis`` inside ``energy_range = (emin, emax)`` (eV); all True when it is None."""
    if energy_range is None:
        return np.ones(axis.size, dtype=bool)
    try:
        lo, hi = (float(x) for x in energy_range)
    except (TypeError, ValueError):
        raise InputError(f"energy_range must be (emin, emax) in eV; got {energy_range!r}") from None
    if not lo < hi:
        raise InputError(f"energy_range must have emin < emax; got {energy_range!r}")
    mask = (axis >= lo) & (axis <= hi)
    if mask.sum() < min_points:
        raise InputError(f"energy_range {energy_range!r} holds fewer than {min_points} of the data's points "
                         f"({axis[0]:g}–{axis[-1]:g} eV)")
    return mask

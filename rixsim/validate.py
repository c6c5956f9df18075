"""Input checks shared by the public API: each raises :class:`~rixsim.errors.InputError` naming the bad value.

The one validation layer: public entry points call these before any work, so a bad value fails in
microseconds with a message naming it and what is allowed.  The rules:

* types are coerced or refused: a number must be a real number (a string such as ``"0.8"`` or a bool is
  refused, a NumPy scalar is accepted), an integer may be given as ``2.0`` but not ``2.5``;
* every value is finite (NaN and inf are refused, also inside arrays and matrices);
* model parameters lie in the physical ranges of :data:`MODEL_RANGES`, and the message names the range;
* legal inputs that are almost surely a mistake (keV for eV, an axis far from every resonance) warn with
  :class:`~rixsim.errors.SuspiciousInputWarning` (:func:`suspicious`, :func:`axis_near`).
"""
from __future__ import annotations

import numpy as np

from rixsim.errors import InputError


def energy_axis(values, name: str = "energy", min_points: int = 1) -> np.ndarray:
    """Return ``values`` as a 1-D float array that is finite and strictly increasing (eV)."""
    reject_strings(values, name)
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
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        raise InputError(f"{name} must be a number in eV; got {value!r}")
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
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        raise InputError(f"{name} must be a number{(' in ' + unit) if unit else ''}; got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a number{(' in ' + unit) if unit else ''}; got {value!r}") from exc
    if not np.isfinite(v) or v < 0:
        raise InputError(f"{name} must be finite and >= 0{(' ' + unit) if unit else ''}; got {value!r}")
    return v


def intensities(values, name: str = "intensity", allow_negative: bool = False) -> np.ndarray:
    """Return measured or simulated intensities as a float array; refuse NaN/inf and (optionally) negatives."""
    if isinstance(values, (str, bytes)):
        raise InputError(f"{name} must be an array of numbers; got the string {values!r}")
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be an array of numbers; got {values!r}") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"{name} has a non-finite value {arr[idx]} at index {idx}; mask or remove it first")
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


# ------------------------------------------------------------------------------------------- numbers
def number(value, name: str, unit: str = "", *, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False, hi_open: bool = False, allow_inf: bool = False) -> float:
    """Return ``value`` as a float: a real number (not a string, not a bool), finite, inside [lo, hi].

    The message names ``name``, the value and the allowed range with its unit, e.g.
    ``slater_scale must be in [0, 2]; got -1``.
    """
    u = f" {unit}" if unit else ""
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        raise InputError(f"{name} must be a number{(' in' + u) if unit else ''}; got {value!r}")
    arr = np.asarray(value) if not isinstance(value, (int, float)) else None
    if arr is not None and (arr.ndim != 0 or arr.dtype.kind not in "iuf"):
        raise InputError(f"{name} must be a single real number{(' in' + u) if unit else ''}; got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be a number{(' in' + u) if unit else ''}; got {value!r}") from None
    if np.isnan(v) or (np.isinf(v) and not allow_inf):
        both = lo is not None and hi is not None
        where = (f" and {'in ' if both else ''}{_range_text(lo, hi, lo_open, hi_open)}{u}"
                 if lo is not None or hi is not None else "")
        raise InputError(f"{name} must be finite{where}; got {value!r}")
    bad_lo = lo is not None and (v < lo or (lo_open and v == lo))
    bad_hi = hi is not None and (v > hi or (hi_open and v == hi))
    if bad_lo or bad_hi:
        both = lo is not None and hi is not None
        raise InputError(f"{name} must be {'in ' if both else ''}{_range_text(lo, hi, lo_open, hi_open)}{u}; "
                         f"got {value!r}")
    return v


def _range_text(lo, hi, lo_open=False, hi_open=False) -> str:
    if lo is None:
        return f"{'<' if hi_open else '<='} {hi:g}"
    if hi is None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    return f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def integer(value, name: str, *, lo: int | None = None, hi: int | None = None, choices=None) -> int:
    """Return ``value`` as an int (an integral float such as 2.0 is accepted); refuse strings, bools, 2.5."""
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        raise InputError(f"{name} must be an integer; got {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be an integer; got {value!r}") from None
    if not np.isfinite(f) or f != int(f):
        raise InputError(f"{name} must be an integer; got {value!r}")
    i = int(f)
    if choices is not None and i not in choices:
        raise InputError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")
    if (lo is not None and i < lo) or (hi is not None and i > hi):
        both = lo is not None and hi is not None
        raise InputError(f"{name} must be {'in ' if both else ''}{_range_text(lo, hi)}; got {value!r}")
    return i


def flag(value, name: str) -> bool:
    """``value`` as a bool: True/False (numpy bools too) only — a string such as ``"no"`` is truthy, so refuse it."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise InputError(f"{name} must be True or False; got {value!r}")


def finite_array(values, name: str, shape: tuple | None = None, dtype=float) -> np.ndarray:
    """Return ``values`` as an array of ``dtype`` with every element finite (and of ``shape`` when given)."""
    if isinstance(values, (str, bytes)):
        raise InputError(f"{name} must be an array of numbers; got {values!r}")
    try:
        arr = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be an array of numbers; got {values!r}") from None
    if shape is not None and arr.shape != shape:
        raise InputError(f"{name} must have shape {shape}; got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"{name} has a non-finite value {arr[idx]} at index {idx}")
    return arr


# ------------------------------------------------------------------------------------- physical ranges
#: Allowed ranges of model parameters (eV unless named otherwise).  Wide enough for every published
#: 3d-oxide, fluoride, sulfide and cyanide cluster fit (10Dq ≲ 4 eV, |Δ| ≲ 10 eV, Udd ≲ 10 eV, V ≲ 4 eV);
#: outside them the spectrum is a flat line or a delta, which is never what was meant.
MODEL_RANGES: dict[str, tuple[float, float, str]] = {
    "slater_scale": (0.0, 2.0, ""),
    "soc_scale": (0.0, 2.0, ""),
    "tendq": (-20.0, 20.0, "eV"),
    "ds": (-10.0, 10.0, "eV"),
    "dt": (-10.0, 10.0, "eV"),
    "dsigma": (-10.0, 10.0, "eV"),
    "dtau": (-10.0, 10.0, "eV"),
    "shift": (-200.0, 200.0, "eV"),
    "l3_fwhm": (0.0, 20.0, "eV"),
    "l2_fwhm": (0.0, 20.0, "eV"),
    "delta": (-50.0, 50.0, "eV"),
    "udd": (0.0, 30.0, "eV"),
    "upd": (0.0, 30.0, "eV"),
    "veg": (-20.0, 20.0, "eV"),
    "vt2g": (-20.0, 20.0, "eV"),
    "tenq_ligand": (-20.0, 20.0, "eV"),
    "exchange_field": (-10.0, 10.0, "eV"),
    "temperature_k": (0.0, 1e5, "K"),
}


def model_parameter(value, name: str) -> float:
    """``value`` checked against :data:`MODEL_RANGES` (a number, finite, in the physical range)."""
    lo, hi, unit = MODEL_RANGES[name]
    return number(value, name, unit, lo=lo, hi=hi)


def model_parameters(**values) -> tuple:
    """Check several model parameters at once (None passes through, meaning "default"); returns the floats
    in the order given, so an entry point coerces them in one line."""
    return tuple(None if v is None else model_parameter(v, k) for k, v in values.items())


def temperature(value, name: str = "temperature_k") -> float:
    """A temperature in K: a number in [0, 1e5]."""
    return number(value, name, "K", lo=0.0, hi=MODEL_RANGES["temperature_k"][1])


# --------------------------------------------------------------------------------------- suspicion
def suspicious(message: str, stacklevel: int = 3) -> None:
    """Warn with :class:`~rixsim.errors.SuspiciousInputWarning`: legal, but almost surely a mistake."""
    import warnings

    from rixsim.errors import SuspiciousInputWarning
    warnings.warn(message, SuspiciousInputWarning, stacklevel=stacklevel)


def axis_near(axis: np.ndarray, lo: float, hi: float, name: str, what: str, margin: float,
              stacklevel: int = 4) -> bool:
    """Warn (:func:`suspicious`) when the absolute photon-energy ``axis`` lies wholly outside
    ``[lo − margin, hi + margin]`` eV, where ``what`` happens; say so when the axis looks like keV.
    Returns True when the axis is near."""
    a0, a1 = float(axis[0]), float(axis[-1])
    if a1 >= lo - margin and a0 <= hi + margin:
        return True
    hint = ""
    if hi > 50 and 0 < a1 < 50 and a1 * 1000 >= lo - margin and a0 * 1000 <= hi + margin:
        hint = " — it looks like keV; rixsim energies are in eV"
    suspicious(f"{name} {a0:g}…{a1:g} eV lies farther than {margin:g} eV from {what} ({lo:g}…{hi:g} eV), "
               f"so the result is (nearly) zero{hint}", stacklevel=stacklevel)
    return False


def reject_strings(values, name: str):
    """Refuse a string where an array of numbers is expected (``np.asarray("850", float)`` would accept it)."""
    if isinstance(values, (str, bytes)):
        raise InputError(f"{name} must be a sequence of numbers (eV); got the string {values!r}")
    return values


_DEFAULT_IS_NONE = frozenset({"l3_fwhm", "l2_fwhm", "vt2g", "cf_matrix", "overrides"})


def model_inputs(**values) -> tuple:
    """Check the keyword arguments of a model builder (:func:`rixsim.atomic_model`, ``cluster_model``) in one
    call; returns them coerced, in the order given.  None passes through where it means "default"
    (``l3_fwhm``, ``l2_fwhm``, ``vt2g``, ``cf_matrix``, ``overrides``) and is refused elsewhere.

    Scalars are checked against :data:`MODEL_RANGES`; ``exchange_field`` must be 3 numbers in its range,
    ``cf_matrix`` a finite 5×5 matrix, ``overrides`` a mapping of finite numbers (scaled Slater/spin–orbit
    values, eV, each in [-50, 50] eV), ``n_ligand_holes`` 1, 2 or 3.
    """
    out = []
    for name, v in values.items():
        if v is None and name in _DEFAULT_IS_NONE:
            out.append(None)
        elif v is None:
            raise InputError(f"{name} must be a number; got None")
        elif name == "exchange_field":
            h = finite_array(v, name, (3,))
            lo, hi, _ = MODEL_RANGES[name]
            if (np.abs(h) > hi).any():
                raise InputError(f"exchange_field components must be in [{lo:g}, {hi:g}] eV; got {v!r}")
            out.append(tuple(float(x) for x in h))
        elif name == "cf_matrix":
            out.append(finite_array(v, name, (5, 5), dtype=complex))
        elif name == "overrides":
            if not hasattr(v, "items"):
                raise InputError(f"overrides must be a mapping {{name: eV}}; got {v!r}")
            out.append({k: number(x, f"overrides[{k!r}]", "eV", lo=-50.0, hi=50.0) for k, x in v.items()})
        elif name == "n_ligand_holes":
            out.append(integer(v, name, choices=(1, 2, 3)))
        else:
            out.append(model_parameter(v, name))
    return tuple(out)


def rixs_axes_near(transitions, excitation: np.ndarray, loss: np.ndarray | None, emission: np.ndarray | None,
                   margin: float = 30.0, stacklevel: int = 5) -> None:
    """Warn (:class:`~rixsim.errors.SuspiciousInputWarning`) when a RIXS map's axes cannot hold any signal:
    the excitation axis far from every resonance of ``transitions`` (an ``EdgeTransitions``), the emission
    axis far from every emission those excitations give, or the loss axis far from every final state."""
    tr = transitions
    g = tr.populated
    e_i, e_m = np.asarray(tr.initial_energies), np.asarray(tr.intermediate_energies)
    if e_m.size == 0 or g.size == 0:        # d10: no resonance at all, the zero map is the physics
        return
    res_lo = tr.edge_offset + e_m.min() - e_i[g].max()
    res_hi = tr.edge_offset + e_m.max() - e_i[g].min()
    if not axis_near(excitation, res_lo, res_hi, "excitation", "every resonance", margin, stacklevel):
        return
    max_loss = float(e_i.max() - e_i[g].min())
    if emission is not None:
        axis_near(emission, float(excitation[0]) - max_loss, float(excitation[-1]), "emission",
                  "every emission of these excitation energies", margin, stacklevel)
    elif loss is not None and (loss[-1] < -margin or loss[0] > max_loss + margin):
        suspicious(f"loss {loss[0]:g}…{loss[-1]:g} eV lies farther than {margin:g} eV from every final state "
                   f"(0…{max_loss:g} eV), so the map is (nearly) zero; loss is relative (excitation − emission)",
                   stacklevel=stacklevel - 1)


#: where an L2,3 map can hold signal without its eigenstates known: resonances from 15 eV below to 35 eV
#: above the edge offset (L3 multiplets to the L2 tail), losses up to 30 eV (d–d and charge-transfer)
_EDGE_SPAN = (-15.0, 35.0)
_MAX_LOSS = 30.0


def edge_axes_near(edge_offset: float, excitation: np.ndarray, loss: np.ndarray | None,
                   emission: np.ndarray | None, margin: float = 30.0, stacklevel: int = 5) -> None:
    """:func:`rixs_axes_near` for a map computed from a model without its eigenstates (the Krylov engine):
    the same warnings against the edge offset and generous spans (:data:`_EDGE_SPAN`, :data:`_MAX_LOSS`)."""
    lo, hi = edge_offset + _EDGE_SPAN[0], edge_offset + _EDGE_SPAN[1]
    if not axis_near(excitation, lo, hi, "excitation", "the edge of this model", margin, stacklevel):
        return
    if emission is not None:
        axis_near(emission, float(excitation[0]) - _MAX_LOSS, float(excitation[-1]), "emission",
                  "every emission of these excitation energies", margin, stacklevel)
    elif loss is not None and (loss[-1] < -margin or loss[0] > _MAX_LOSS + margin):
        suspicious(f"loss {loss[0]:g}…{loss[-1]:g} eV lies farther than {margin:g} eV from every final state "
                   f"(0…{_MAX_LOSS:g} eV), so the map is (nearly) zero; loss is relative (excitation − emission)",
                   stacklevel=stacklevel - 1)


# ------------------------------------------------------------------------------------------- paths
def output_directory(path, name: str = "--out"):
    """Return ``path`` as a :class:`~pathlib.Path` to a directory that exists or can be created and written,
    checked before any work (the nearest existing ancestor must be a writable directory)."""
    import os
    from pathlib import Path
    d = Path(path)
    if d.exists() and not d.is_dir():
        raise InputError(f"{name} '{d}' exists and is not a directory")
    anc = d
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.exists():
        return d
    if not anc.is_dir():
        raise InputError(f"{name} '{d}' cannot be created: '{anc}' is a file, not a directory")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise InputError(f"{name} '{d}' cannot be written: no write permission in '{anc}'")
    return d

"""Normalisation of measured spectra: I0 division, pre-edge subtraction, edge-jump, area and maximum.

Every function takes a :class:`~rixsim.results.Spectrum` and returns a new one; the input is never changed.
The returned ``meta`` is the input's meta plus one entry appended to the list ``meta["processing"]``
describing the step (name, ranges, fitted coefficients), so a chain of steps can be replayed and is stored
by :mod:`rixsim.io` writers.

Energies and ranges are absolute photon energies in eV (as read off the beamline), *not* relative to e0.

Edge-jump normalisation follows Athena/Larch (``pre_edge``): a line fitted to the pre-edge range and a
polynomial fitted to the post-edge range are extrapolated to the edge energy :math:`E_0`; the edge jump is
:math:`\\Delta\\mu = \\mathrm{post}(E_0) - \\mathrm{pre}(E_0)` and

.. math::

    \\mu_\\mathrm{norm}(E) = \\frac{\\mu(E) - \\mathrm{pre}(E)}{\\Delta\\mu},

so the pre-edge is 0 and the post-edge, at :math:`E_0`, is 1.  ``flatten=True`` also removes the difference
of the post- and pre-edge slopes above :math:`E_0` (Athena's "flattened" spectrum):
:math:`\\mu_\\mathrm{flat} = \\mu_\\mathrm{norm} - [\\mathrm{post}(E) - \\mathrm{pre}(E) - \\Delta\\mu]/\\Delta\\mu`
for :math:`E \\ge E_0`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from rixsim.errors import InputError
from rixsim.results import RixsMap, Spectrum

__all__ = ["divide_by_i0", "divide_map_by_i0", "subtract_pre_edge", "edge_step_normalize", "normalize_area", "normalize_max"]


def _check_spectrum(s, name: str = "spectrum") -> Spectrum:
    if not isinstance(s, Spectrum):
        raise InputError(f"{name} must be a Spectrum; got {type(s).__name__}")
    if not np.all(np.isfinite(s.intensity)):
        i = int(np.flatnonzero(~np.isfinite(s.intensity))[0])
        raise InputError(f"{name} has a non-finite intensity at index {i} ({s.energy[i]} eV)")
    return s


def _range(rng, s: Spectrum, name: str, min_points: int) -> tuple[float, float, np.ndarray]:
    """Validate an absolute energy range (eV) against the spectrum; return (lo, hi, mask)."""
    try:
        lo, hi = (float(x) for x in rng)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a pair (emin, emax) in eV; got {rng!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise InputError(f"{name} must be finite with emin < emax (eV); got {rng!r}")
    e = s.energy
    if hi < e[0] or lo > e[-1]:
        raise InputError(f"{name}={rng!r} eV lies outside the spectrum's {e[0]}..{e[-1]} eV")
    mask = (e >= lo) & (e <= hi)
    if mask.sum() < min_points:
        raise InputError(f"{name}={rng!r} eV holds {int(mask.sum())} point(s); at least {min_points} needed")
    return lo, hi, mask


def _with_step(s: Spectrum, intensity, step: dict[str, Any], units: str | None = None) -> Spectrum:
    meta = dict(s.meta)
    meta["processing"] = list(meta.get("processing", [])) + [step]
    return Spectrum(s.energy, intensity, label=s.label, units=s.units if units is None else units,
                    relative=s.relative, meta=meta)


def _polyfit(e, y, order: int, origin: float) -> np.ndarray:
    """Least-squares polynomial in (E - origin); coefficients in increasing powers."""
    return np.polynomial.polynomial.polyfit(e - origin, y, order)


def _polyval(e, coef, origin: float) -> np.ndarray:
    return np.polynomial.polynomial.polyval(np.asarray(e) - origin, coef)


def _order(order, name: str, allowed=(0, 1, 2, 3)) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or int(order) not in allowed:
        raise InputError(f"{name} must be one of {allowed}; got {order!r}")
    return int(order)


def divide_by_i0(spectrum: Spectrum, i0, *, min_relative: float = 1e-6) -> Spectrum:
    """Divide by the incident flux I0 (same energy points), refusing zero, negative or non-finite I0.

    Parameters
    ----------
    spectrum : Spectrum
        Raw signal (TEY, TFY, PFY, ...).
    i0 : Spectrum or array-like
        Incident flux on the same energies (a Spectrum must have the same energy axis to 1e-6 eV).
    min_relative : float
        I0 values at or below ``min_relative * max(I0)`` count as zero (beam dump, shutter closed).

    Raises
    ------
    InputError
        Length or energy mismatch, or I0 zero / negative / non-finite at some point (its index and energy
        are named).
    """
    s = _check_spectrum(spectrum)
    flux = _i0_values(i0, s.energy, "spectrum")
    top = _check_i0(flux, s.energy, min_relative)
    return _with_step(s, s.intensity / flux, {"step": "divide_by_i0", "i0_max": float(top)},
                      units=f"{s.units} / I0")


def _i0_values(i0, axis: np.ndarray, what: str) -> np.ndarray:
    if isinstance(i0, Spectrum):
        if i0.energy.shape != axis.shape or np.max(np.abs(i0.energy - axis)) > 1e-6:
            raise InputError(f"I0 spectrum is on a different energy axis than the {what}; interpolate one onto "
                             f"the other first (np.interp) or read both from the same scan")
        return i0.intensity
    flux = np.asarray(i0, dtype=float)
    if flux.shape != axis.shape:
        raise InputError(f"I0 has shape {flux.shape}; the {what} has {axis.shape} points")
    return flux


def _check_i0(flux: np.ndarray, axis: np.ndarray, min_relative: float) -> float:
    if not np.all(np.isfinite(flux)):
        i = int(np.flatnonzero(~np.isfinite(flux))[0])
        raise InputError(f"I0 is not finite at index {i} ({axis[i]:.6g} eV)")
    if not np.isfinite(min_relative) or not 0 <= min_relative < 1:
        raise InputError(f"min_relative must be in [0, 1); got {min_relative!r}")
    top = float(flux.max())
    bad = flux <= min_relative * top if top > 0 else np.ones(flux.shape, dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"I0 is zero, negative or below {min_relative:g} × max(I0) at index {i} "
                         f"({axis[i]:.6g} eV, I0={flux[i]:g}); {int(bad.sum())} such point(s) — cut them out "
                         f"before normalising")
    return top


def divide_map_by_i0(rixs_map: RixsMap, i0, *, min_relative: float = 1e-6) -> RixsMap:
    """Divide each row of an mRIXS map by the incident flux at its excitation energy.

    ``i0`` is an array over ``rixs_map.excitation`` or a Spectrum on that axis; zero, negative or non-finite
    I0 is refused as in :func:`divide_by_i0`.  The elastic part, when present, is divided alike.
    """
    if not isinstance(rixs_map, RixsMap):
        raise InputError(f"rixs_map must be a RixsMap; got {type(rixs_map).__name__}")
    x = rixs_map.excitation
    flux = _i0_values(i0, x, "map's excitation axis")
    top = _check_i0(flux, x, min_relative)
    meta = dict(rixs_map.meta)
    meta["processing"] = list(meta.get("processing", [])) + [{"step": "divide_map_by_i0", "i0_max": top}]
    return RixsMap(excitation=x, emission=rixs_map.emission, intensity=rixs_map.intensity / flux[:, None],
                   loss=rixs_map.loss,
                   elastic=None if rixs_map.elastic is None else rixs_map.elastic / flux[:, None],
                   label=rixs_map.label, units=f"{rixs_map.units} / I0", relative=rixs_map.relative, meta=meta)


def subtract_pre_edge(spectrum: Spectrum, pre_range: tuple[float, float], *, order: int = 1) -> Spectrum:
    """Subtract a polynomial (default a line) fitted to ``pre_range`` (absolute eV) from the whole spectrum."""
    s = _check_spectrum(spectrum)
    order = _order(order, "order", (0, 1, 2))
    lo, hi, mask = _range(pre_range, s, "pre_range", order + 2)
    origin = 0.5 * (lo + hi)
    coef = _polyfit(s.energy[mask], s.intensity[mask], order, origin)
    return _with_step(s, s.intensity - _polyval(s.energy, coef, origin),
                      {"step": "subtract_pre_edge", "pre_range": [lo, hi], "origin_ev": origin,
                       "coefficients": coef.tolist()})


def edge_step_normalize(spectrum: Spectrum, *, pre_range: tuple[float, float], post_range: tuple[float, float],
                        e0: float | None = None, pre_order: int = 1, post_order: int = 1,
                        flatten: bool = False) -> Spectrum:
    """Edge-jump normalisation (Athena/Larch style; formula in the module docstring).

    Parameters
    ----------
    spectrum : Spectrum
        Absorption spectrum (e.g. TEY/I0).
    pre_range, post_range : (float, float)
        Absolute energies (eV) of the pre-edge and post-edge fit ranges; ``pre_range`` must end at or below
        ``e0`` and ``post_range`` start at or above it.  For TM L2,3 edges the post-edge range lies above L2.
    e0 : float, optional
        Edge energy (eV) where the jump is measured; default the energy of the steepest rise between the
        two ranges.
    pre_order : {0, 1}
        Constant or line for the pre-edge.
    post_order : {0, 1, 2}
        Degree of the post-edge polynomial (0 = constant).
    flatten : bool
        Also flatten the post-edge (Athena's "flattened" spectrum).

    Returns
    -------
    Spectrum
        Normalised spectrum (units ``"normalized"``); ``meta["processing"][-1]`` holds ``e0``,
        ``edge_jump`` (in the input's units), the ranges and the polynomial coefficients (increasing powers
        of ``E - e0``).

    Raises
    ------
    InputError
        Ranges outside the data, too few points, overlapping or on the wrong side of e0, or a jump ≤ 0.
    """
    s = _check_spectrum(spectrum)
    pre_order = _order(pre_order, "pre_order", (0, 1))
    post_order = _order(post_order, "post_order", (0, 1, 2))
    plo, phi, pmask = _range(pre_range, s, "pre_range", pre_order + 2)
    qlo, qhi, qmask = _range(post_range, s, "post_range", post_order + 2)
    if phi >= qlo:
        raise InputError(f"pre_range {pre_range!r} must end below the start of post_range {post_range!r} (eV)")
    e, y = s.energy, s.intensity
    if e0 is None:
        between = (e >= phi) & (e <= qlo)
        if between.sum() < 3:
            raise InputError("cannot locate e0: fewer than 3 points between pre_range and post_range; give e0")
        slope = np.gradient(y, e)
        idx = np.flatnonzero(between)
        e0 = float(e[idx[np.argmax(slope[idx])]])
    else:
        try:
            e0 = float(e0)
        except (TypeError, ValueError):
            raise InputError(f"e0 must be an energy in eV; got {e0!r}") from None
        if not phi <= e0 <= qlo:
            raise InputError(f"e0={e0} eV must lie between the end of pre_range ({phi}) and the start of "
                             f"post_range ({qlo})")
    pre_coef = _polyfit(e[pmask], y[pmask], pre_order, e0)
    post_coef = _polyfit(e[qmask], y[qmask], post_order, e0)
    pre, post = _polyval(e, pre_coef, e0), _polyval(e, post_coef, e0)
    jump = float(post_coef[0] - pre_coef[0])  # both polynomials are in (E - e0): their values at e0
    if not jump > 0:
        raise InputError(f"edge jump post(e0) - pre(e0) = {jump:g} is not positive; check pre_range "
                         f"{pre_range!r}, post_range {post_range!r} and e0={e0} eV")
    norm = (y - pre) / jump
    if flatten:
        above = e >= e0
        norm = norm.copy()
        norm[above] -= (post[above] - pre[above] - jump) / jump
    step = {"step": "edge_step_normalize", "e0": e0, "edge_jump": jump, "pre_range": [plo, phi],
            "post_range": [qlo, qhi], "pre_coefficients": pre_coef.tolist(),
            "post_coefficients": post_coef.tolist(), "flatten": bool(flatten)}
    return _with_step(s, norm, step, units="normalized")


def _integral(s: Spectrum, lo: float, hi: float) -> float:
    """Trapezoidal integral over [lo, hi], with the end points interpolated linearly."""
    e, y = s.energy, s.intensity
    inside = (e > lo) & (e < hi)
    ee = np.concatenate([[lo], e[inside], [hi]])
    yy = np.concatenate([[np.interp(lo, e, y)], y[inside], [np.interp(hi, e, y)]])
    return float(np.trapezoid(yy, ee))


def normalize_area(spectrum: Spectrum, energy_range: tuple[float, float] | None = None, *,
                   target: float = 1.0) -> Spectrum:
    """Scale so that the integral over ``energy_range`` (absolute eV; default all) equals ``target``.

    The integral is trapezoidal with linearly interpolated end points, so it is exact for piecewise-linear
    data.  Units of the result: ``target`` per eV of the range.
    """
    s = _check_spectrum(spectrum)
    if energy_range is None:
        lo, hi = float(s.energy[0]), float(s.energy[-1])
    else:
        lo, hi, _ = _range(energy_range, s, "energy_range", 1)
        if lo < s.energy[0] or hi > s.energy[-1]:
            raise InputError(f"energy_range={energy_range!r} eV reaches beyond the spectrum's "
                             f"{s.energy[0]}..{s.energy[-1]} eV")
    target = float(target)
    if not np.isfinite(target) or target <= 0:
        raise InputError(f"target must be > 0; got {target!r}")
    area = _integral(s, lo, hi)
    if not area > 0:
        raise InputError(f"the area over {lo}..{hi} eV is {area:g}, not positive; cannot normalise by it")
    return _with_step(s, s.intensity * (target / area),
                      {"step": "normalize_area", "energy_range": [lo, hi], "area": area, "target": target},
                      units="area-normalized")


def normalize_max(spectrum: Spectrum, energy_range: tuple[float, float] | None = None) -> Spectrum:
    """Divide by the maximum intensity within ``energy_range`` (absolute eV; default all)."""
    s = _check_spectrum(spectrum)
    if energy_range is None:
        lo, hi, mask = float(s.energy[0]), float(s.energy[-1]), np.ones(s.energy.size, dtype=bool)
    else:
        lo, hi, mask = _range(energy_range, s, "energy_range", 1)
    top = float(s.intensity[mask].max())
    if not top > 0:
        raise InputError(f"the maximum over {lo}..{hi} eV is {top:g}, not positive; cannot normalise by it")
    e_top = float(s.energy[mask][np.argmax(s.intensity[mask])])
    return _with_step(s, s.intensity / top, {"step": "normalize_max", "energy_range": [lo, hi], "maximum": top,
                                             "at_ev": e_top}, units="max-normalized")

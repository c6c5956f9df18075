"""Linear-combination fitting (LCF) of a spectrum with reference spectra: valence fractions with uncertainties.

The quantitative TM L-edge analysis of the seed review (Sec. 4.1, Fig. 4a: Mn\\ :sup:`2+/3+/4+` fractions of
battery electrodes from a linear combination of reference spectra) fits

.. math::

    y(E) = s \\sum_i f_i\\, R_i(E - \\delta_i) + \\sum_k b_k u^k, \\qquad u = \\frac{E - E_c}{E_h},

where :math:`R_i` are the references (simulated or measured, interpolated with a cubic spline onto the
data's energies and held constant beyond their ends), :math:`f_i` the fractions, :math:`s` an overall scale,
:math:`\\delta_i` energy shifts (eV; positive moves a reference to higher energy; one common shift by
default), and the optional polynomial background is written in ``u``, which maps the fit window
``[E_c - E_h, E_c + E_h]`` onto [-1, 1] (so the coefficients ``b_k`` are in intensity units).

Constraints
-----------
* ``sum_to_one=True`` (default): the fractions are non-negative and sum to one *exactly*.  They are lmfit
  expression parameters of ``n - 1`` free "stick-breaking" variables :math:`t_j \\in [0, 1]`,
  :math:`f_1 = t_1`, :math:`f_i = t_i \\prod_{j<i} (1 - t_j)`, :math:`f_n = \\prod_{j<n} (1 - t_j)`.
  (The plain expression ``f_n = 1 - f_1 - ...`` cannot keep :math:`f_n \\ge 0`: lmfit clips a bounded
  expression parameter, which breaks the sum.)  With ``fit_scale=True`` the overall scale is free, for data
  and references in different units (counts vs. simulation); with ``fit_scale=False`` data and references
  must be normalised alike (e.g. edge-jump normalised, :mod:`rixsim.analysis.normalize`).
* A fraction that ends exactly at its bound 0 has no linearised uncertainty; by default that raises
  :class:`~rixsim.errors.ConvergenceError` naming the reference, and ``at_bound="fix"`` instead fixes it at
  0 and refits with the others.  :func:`fit_all_combinations` fits every subset of the references.
* ``sum_to_one=False``: each fraction is a free non-negative weight and the scale is fixed to 1 (a free scale
  would be degenerate with the weights); the reported sum shows how far the data are from the references'
  normalisation.

Uncertainties
-------------
Weights are :math:`1/\\sigma` with ``sigma="poisson"`` (:math:`\\sigma = \\sqrt{\\max(y, 1)}`, for raw counts;
the floor of one count overstates σ where the mean is well below one count, which makes the fitted σ
slightly conservative for spectra with empty pre-edge channels), a user-given σ (scalar or per point), or
``None`` (unweighted).  The covariance of the free variables comes
from lmfit (``leastsq``); it is rescaled by the reduced χ² only when ``scale_covar`` is true (default: only
for unweighted fits, whose χ² has no absolute meaning).  Fractions, their covariance and the average
oxidation state :math:`\\bar v = \\sum_i f_i v_i / \\sum_i f_i` are propagated through the Jacobian of
these expressions: :math:`\\mathrm{cov}(f) = J C J^T`, :math:`\\sigma_{\\bar v}^2 = g^T C g`.
"""
from __future__ import annotations

import dataclasses
import logging
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np

from rixsim import validate
from rixsim.analysis.fit_result import DerivedQuantity, FitResult, from_minimizer
from rixsim.errors import ConvergenceError, InputError
from rixsim.results import Spectrum

__all__ = ["LCFResult", "LCF_DETAILS", "fit_linear_combination", "fit_all_combinations"]

logger = logging.getLogger(__name__)

_SHIFT_MODES = ("common", "per_reference", "none")


#: The result of :func:`fit_linear_combination` is the common :class:`~rixsim.fit_result.FitResult` (``kind``
#: "lcf"); the old name is kept for code that imports it.
LCFResult = FitResult

#: LCF-specific items of ``FitResult.details`` (each also an attribute of the result):
#:
#: ``names`` (reference names, the order of every array), ``fractions``, ``fraction_sigmas`` (name → float),
#: ``fraction_array``, ``sigma_array`` (the same in ``names`` order), ``fraction_covariance`` (n × n, includes
#: the dependent fraction when they sum to one), ``shift``, ``shift_sigma`` (common shift, eV; with
#: per-reference shifts their mean and NaN), ``shifts``, ``shift_sigmas`` (per reference), ``scale``,
#: ``scale_sigma``, ``background_coefficients``, ``background_sigmas``, ``average_valence``,
#: ``average_valence_sigma`` (None without valences), ``n_varying``, ``parameter_names`` (the free lmfit
#: variables: ``t*`` stick-breaking, ``f*`` free weights, ``scale``, ``shift*``, ``b*``), ``fit``,
#: ``residual_spectrum`` (data − fit, unweighted), ``background``, ``components`` (name → Spectrum
#: :math:`s f_i R_i(E-\delta_i)`), ``valences``, ``nfev``, ``fixed_at_zero`` (references fixed at 0 by
#: ``at_bound="fix"``).  ``derived`` holds each reference's fraction (keyed by the reference name) and ``valence`` (the average
#: valence, when valences were given) with their σ.
LCF_DETAILS = ("names", "fractions", "fraction_sigmas", "fraction_array", "sigma_array", "fraction_covariance",
               "shift", "shift_sigma", "shifts", "shift_sigmas", "scale", "scale_sigma", "background_coefficients",
               "background_sigmas", "average_valence", "average_valence_sigma", "n_varying", "parameter_names",
               "fit", "residual_spectrum", "background", "components", "valences", "nfev", "fixed_at_zero")
_WEIGHTING_KIND = {"poisson": "poisson", "sigma": "given sigma", "none": "unit"}


def _derived(d: Mapping) -> dict:
    out = {nm: DerivedQuantity(nm, d["fractions"][nm], d["fraction_sigmas"][nm]) for nm in d["names"]}
    if d["average_valence"] is not None:
        out["valence"] = DerivedQuantity("valence", d["average_valence"], d["average_valence_sigma"])
    return out


def _with_details(r: FitResult, **changes) -> FitResult:
    d = dict(r.details)
    d.update(changes)
    d["fraction_array"] = _readonly([d["fractions"][nm] for nm in d["names"]])
    d["sigma_array"] = _readonly([d["fraction_sigmas"][nm] for nm in d["names"]])
    return dataclasses.replace(r, details=d, derived=_derived(d))


# --------------------------------------------------------------------------------------------------------------
# Stick-breaking parametrisation of fractions that sum to one
# --------------------------------------------------------------------------------------------------------------

def _fractions_from_t(t: np.ndarray) -> np.ndarray:
    n = t.size + 1
    f = np.empty(n)
    remaining = 1.0
    for i in range(n - 1):
        f[i] = t[i] * remaining
        remaining *= 1.0 - t[i]
    f[n - 1] = remaining
    return f


def _fraction_jacobian(t: np.ndarray) -> np.ndarray:
    """``J[i, m] = ∂f_i/∂t_m`` for the stick-breaking map (products written out: no division by 1 - t)."""
    n = t.size + 1
    jac = np.zeros((n, n - 1))
    for i in range(n):
        for m in range(min(i + 1, n - 1)):
            # f_i = t_i^[i<n-1] * prod_{j<i, j<n-1} (1 - t_j)
            prod = 1.0
            for j in range(min(i, n - 1)):
                if j != m:
                    prod *= 1.0 - t[j]
            if m == i:          # derivative of the t_i factor (only when i < n - 1)
                jac[i, m] = prod
            else:               # derivative of a (1 - t_m) factor, m < i
                jac[i, m] = -prod * (t[i] if i < n - 1 else 1.0)
    return jac


def _t_from_fractions(f: np.ndarray) -> np.ndarray:
    t = np.empty(f.size - 1)
    remaining = 1.0
    for i in range(f.size - 1):
        t[i] = f[i] / remaining if remaining > 1e-12 else 0.5
        remaining -= f[i]
    return t


# --------------------------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------------------------

def _named_references(references) -> tuple[tuple[str, ...], list[Spectrum]]:
    if isinstance(references, Mapping):
        names, spectra = tuple(str(k) for k in references), list(references.values())
    elif isinstance(references, Sequence) and not isinstance(references, (str, bytes)):
        spectra = list(references)
        names = tuple(getattr(s, "label", "") or f"ref{i}" for i, s in enumerate(spectra))
    else:
        raise InputError(f"references must be a dict name → Spectrum or a list of Spectrum; got "
                         f"{type(references).__name__}")
    if not spectra:
        raise InputError("references is empty; give at least one reference Spectrum")
    for n, s in zip(names, spectra):
        if not isinstance(s, Spectrum):
            raise InputError(f"reference {n!r} is a {type(s).__name__}, not a Spectrum")
        if not np.all(np.isfinite(s.intensity)):
            raise InputError(f"reference {n!r} has non-finite intensities")
        if s.energy.size < 4 or np.any(np.diff(s.energy) <= 0):
            raise InputError(f"reference {n!r} needs at least 4 points on a strictly increasing energy axis")
    if len(set(names)) != len(names):
        raise InputError(f"reference names must be unique; got {names}")
    return names, spectra


def _sigma_array(sigma, y: np.ndarray, data: Spectrum, mask: np.ndarray) -> tuple[np.ndarray, str]:
    if sigma is None:
        return np.ones_like(y), "none"
    if isinstance(sigma, str):
        if sigma != "poisson":
            raise InputError(f"sigma must be 'poisson', None, a number or an array; got {sigma!r}")
        if np.any(y < 0):
            i = int(np.flatnonzero(y < 0)[0])
            raise InputError(f"sigma='poisson' needs counts >= 0; the data have {y[i]} at {data.energy[mask][i]} eV")
        # σ² = counts; the floor of 1 keeps empty channels from getting infinite weight.
        return np.sqrt(np.maximum(y, 1.0)), "poisson"
    s = np.asarray(sigma, dtype=float)
    if s.ndim == 0:
        s = np.full_like(y, float(s))
    elif s.shape == data.energy.shape:
        s = s[mask]
    else:
        raise InputError(f"sigma has shape {s.shape}; the data have {data.energy.shape} points")
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise InputError("sigma must be finite and > 0 everywhere")
    return s, "sigma"


def _make_interpolants(names, spectra, kind: str):
    from scipy.interpolate import CubicSpline

    funcs = []
    for s in spectra:
        e, r = s.energy, s.intensity
        if kind == "cubic":
            spline = CubicSpline(e, r, extrapolate=False)

            def f(x, spline=spline, lo=e[0], hi=e[-1]):
                return spline(np.clip(x, lo, hi))
        elif kind == "linear":
            def f(x, e=e, r=r):
                return np.interp(x, e, r)  # np.interp holds the end values outside
        else:
            raise InputError(f"interpolation must be 'cubic' or 'linear'; got {kind!r}")
        funcs.append(f)
    return funcs


# --------------------------------------------------------------------------------------------------------------
# The fit
# --------------------------------------------------------------------------------------------------------------

def fit_linear_combination(data: Spectrum, references, *, valences: Mapping[str, float] | None = None,
                           energy_range: tuple[float, float] | None = None, sum_to_one: bool = True,
                           fit_scale: bool = True, shift: str = "common", max_shift: float = 2.0,
                           background_order: int | None = None, sigma="poisson",
                           scale_covar: bool | None = None, interpolation: str = "cubic",
                           max_nfev: int | None = None, at_bound: str = "raise") -> FitResult:
    """Fit ``data`` as a linear combination of reference spectra (see the module docstring for the model).

    Parameters
    ----------
    data : Spectrum
        Measured (or simulated) spectrum, energies in eV.
    references : dict name → Spectrum, or list of Spectrum
        Reference spectra (names from their labels when a list); each must cover the fit window.
    valences : dict name → float, optional
        Valence of each reference, e.g. ``{"Mn2+": 2, "Mn3+": 3, "Mn4+": 4}``, for the average oxidation
        state.  Must name every reference.
    energy_range : (float, float), optional
        Fit window in absolute eV (inclusive); default the whole data range.
    sum_to_one : bool
        Fractions non-negative and summing to one (default), else independent non-negative weights.
    fit_scale : bool
        Free overall scale (only with ``sum_to_one``).
    shift : {"common", "per_reference", "none"}
        Energy shift(s) of the references, bounded to ±``max_shift`` eV.
    max_shift : float
        Bound on the shifts (eV); the starting shift is the best of a 0.05 eV grid over this interval.
    background_order : int, optional
        Degree of the polynomial background (0 = constant); default none.
    sigma : "poisson", None, float or array
        Uncertainty of each data point; ``"poisson"`` takes σ = √counts (raw counts only).
    scale_covar : bool, optional
        Rescale the covariance by the reduced χ²; default True only when ``sigma`` is None.
    interpolation : {"cubic", "linear"}
        How references are put onto the data's energies.
    max_nfev : int, optional
        Limit on function evaluations passed to lmfit.
    at_bound : {"raise", "fix"}
        What to do when uncertainties cannot be estimated because fractions sit at zero (a reference that is
        absent from the sample): ``"raise"`` a ConvergenceError, or ``"fix"`` those fractions at 0 (σ = 0,
        listed in ``LCFResult.fixed_at_zero``) and refit with the other references.

    Returns
    -------
    FitResult
        ``kind`` "lcf"; the LCF items (fractions, shifts, components …) are in ``details`` (see
        ``LCF_DETAILS``) and reachable as attributes; ``health`` says which parameters are not determined.

    Raises
    ------
    InputError
        Bad data, references, valences, window or options.
    ConvergenceError
        lmfit reports failure, or it could not estimate uncertainties (singular covariance, e.g. linearly
        dependent references on the window, or a fraction stuck at 0 or 1).
    """
    if at_bound not in ("raise", "fix"):
        raise InputError(f"at_bound must be 'raise' or 'fix'; got {at_bound!r}")
    kwargs = dict(valences=valences, energy_range=energy_range, sum_to_one=sum_to_one, fit_scale=fit_scale,
                  shift=shift, max_shift=max_shift, background_order=background_order, sigma=sigma,
                  scale_covar=scale_covar, interpolation=interpolation, max_nfev=max_nfev)
    try:
        return _fit(data, references, **kwargs)
    except _AtBound as exc:
        if at_bound == "raise":
            raise ConvergenceError(str(exc)) from None
        names, spectra = _named_references(references)
        keep = [i for i, nm in enumerate(names) if nm not in exc.stuck]
        if not keep:
            raise ConvergenceError(str(exc)) from None
        logger.info("LCF: fixing fractions of %s at 0 and refitting", list(exc.stuck))
        sub = {names[i]: spectra[i] for i in keep}
        if valences is not None:
            kwargs["valences"] = {nm: valences[nm] for nm in sub if nm in valences}
        try:
            reduced = _fit(data, sub, **kwargs)
        except _AtBound as exc2:
            raise ConvergenceError(str(exc2)) from None
        return _expand(reduced, names, keep, valences, tuple(exc.stuck))


class _AtBound(ConvergenceError):
    """Uncertainties failed with fractions at zero (carries their names for the refit)."""

    def __init__(self, message: str, stuck):
        super().__init__(message)
        self.stuck = tuple(stuck)


def _expand(r: FitResult, names, keep, valences, stuck) -> FitResult:
    """Put a fit of the kept references back onto all references, with zero fractions for the rest."""
    n = len(names)
    cov = np.zeros((n, n))
    cov[np.ix_(keep, keep)] = r.fraction_covariance
    shifts = np.zeros(n)
    shift_sig = np.zeros(n)
    shifts[keep], shift_sig[keep] = r.shifts, r.shift_sigmas
    zero = Spectrum(r.fit.energy, np.zeros_like(r.fit.energy), units=r.fit.units, meta=dict(r.fit.meta))
    comps = {nm: r.components[nm] if nm in r.components else
             Spectrum(zero.energy, zero.intensity, label=nm, units=zero.units, meta=dict(zero.meta)) for nm in names}
    return _with_details(
        r, names=tuple(names),
        fractions=MappingProxyType({nm: r.fractions.get(nm, 0.0) for nm in names}),
        fraction_sigmas=MappingProxyType({nm: r.fraction_sigmas.get(nm, 0.0) for nm in names}),
        fraction_covariance=_readonly(cov), shifts=_readonly(shifts), shift_sigmas=_readonly(shift_sig),
        components=MappingProxyType(comps),
        valences=MappingProxyType({} if valences is None else {nm: float(valences[nm]) for nm in names}),
        fixed_at_zero=stuck)


def _fit(data, references, *, valences, energy_range, sum_to_one, fit_scale, shift, max_shift,
         background_order, sigma, scale_covar, interpolation, max_nfev) -> FitResult:
    import lmfit

    if not isinstance(data, Spectrum):
        raise InputError(f"data must be a Spectrum; got {type(data).__name__}")
    names, spectra = _named_references(references)
    n = len(names)
    if shift not in _SHIFT_MODES:
        raise InputError(f"shift must be one of {_SHIFT_MODES}; got {shift!r}")
    max_shift = float(max_shift)
    if not np.isfinite(max_shift) or max_shift <= 0:
        raise InputError(f"max_shift must be > 0 eV; got {max_shift!r}")
    if not sum_to_one and fit_scale:
        logger.debug("sum_to_one=False: the weights carry the scale; fit_scale ignored")
        fit_scale = False
    if background_order is not None:
        if not isinstance(background_order, (int, np.integer)) or isinstance(background_order, bool) \
                or not 0 <= background_order <= 5:
            raise InputError(f"background_order must be None or an integer 0..5; got {background_order!r}")
        background_order = int(background_order)
    if valences is not None:
        if not isinstance(valences, Mapping):
            raise InputError(f"valences must be a dict name → valence; got {type(valences).__name__}")
        missing = [nm for nm in names if nm not in valences]
        extra = [k for k in valences if k not in names]
        if missing or extra:
            raise InputError(f"valences must name exactly the references {list(names)}; missing {missing}, "
                             f"unknown {extra}")
        v = np.array([float(valences[nm]) for nm in names])
        if not np.all(np.isfinite(v)):
            raise InputError(f"valences must be finite numbers; got {dict(valences)}")

    e_all, y_all = data.energy, data.intensity
    if not np.all(np.isfinite(y_all)):
        raise InputError("data intensity has non-finite values; mask them first (rixsim.io drops NaN points)")
    mask = validate.energy_window(energy_range, e_all)
    e, y = e_all[mask], y_all[mask]
    sig, weighting = _sigma_array(sigma, y, data, mask)
    for nm, s in zip(names, spectra):
        if s.energy[0] > e[0] + 1e-9 or s.energy[-1] < e[-1] - 1e-9:
            raise InputError(f"reference {nm!r} covers {s.energy[0]}..{s.energy[-1]} eV but the fit window is "
                             f"{e[0]}..{e[-1]} eV; give energy_range= inside the references")
    interp = _make_interpolants(names, spectra, interpolation)
    e_c, e_h = 0.5 * (e[0] + e[-1]), 0.5 * (e[-1] - e[0])
    u = (e - e_c) / e_h
    n_bg = 0 if background_order is None else background_order + 1
    n_var_expected = (n - 1 if sum_to_one else n) + int(fit_scale) + n_bg \
        + {"common": 1, "per_reference": n, "none": 0}[shift]
    if e.size <= n_var_expected:
        raise InputError(f"the fit window holds {e.size} points but the model has {n_var_expected} free "
                         f"variables; widen energy_range")

    # Start: the best non-negative least-squares combination over a grid of common shifts.
    from scipy.optimize import nnls
    grid = np.arange(-max_shift, max_shift + 1e-9, 0.05) if shift != "none" else np.array([0.0])
    best = None
    for d in grid:
        a = np.column_stack([f(e - d) for f in interp]) / sig[:, None]
        w, rnorm = nnls(a, y / sig)
        if best is None or rnorm < best[0]:
            best = (rnorm, d, w)
    _, shift0, w0 = best
    total = float(w0.sum())

    params = lmfit.Parameters()
    if sum_to_one:
        f0 = w0 / total if total > 0 else np.full(n, 1.0 / n)
        f0 = np.clip(f0, 0.02, None)  # do not start on a bound: the bound transform's slope vanishes there
        f0 /= f0.sum()
        t0 = np.clip(_t_from_fractions(f0), 0.02, 0.98)
        for j in range(n - 1):
            params.add(f"t{j}", value=float(t0[j]), min=0.0, max=1.0)
        for i in range(n):
            terms = [f"(1 - t{j})" for j in range(min(i, n - 1))]
            if i < n - 1:
                terms = [f"t{i}"] + terms
            params.add(f"f{i}", expr=" * ".join(terms) if terms else "1")
        params.add("scale", value=total if (fit_scale and total > 0) else 1.0, min=0.0, vary=fit_scale)
    else:
        scale_w = max(float(w0.max()), 1e-12)
        for i in range(n):
            params.add(f"f{i}", value=float(max(w0[i], 0.02 * scale_w)), min=0.0)
        params.add("scale", value=1.0, vary=False)
    if shift == "common":
        params.add("shift", value=float(shift0), min=-max_shift, max=max_shift)
    elif shift == "per_reference":
        for i in range(n):
            params.add(f"shift{i}", value=float(shift0), min=-max_shift, max=max_shift)
    for k in range(n_bg):
        params.add(f"b{k}", value=0.0)

    def shifts_of(p) -> np.ndarray:
        if shift == "common":
            return np.full(n, p["shift"].value)
        if shift == "per_reference":
            return np.array([p[f"shift{i}"].value for i in range(n)])
        return np.zeros(n)

    def parts(p):
        d = shifts_of(p)
        comps = np.array([f(e - d[i]) for i, f in enumerate(interp)])
        fr = np.array([p[f"f{i}"].value for i in range(n)])
        bg = np.zeros_like(e)
        for k in range(n_bg):
            bg = bg + p[f"b{k}"].value * u ** k
        return p["scale"].value * fr[:, None] * comps, bg

    def residual(p):
        comps, bg = parts(p)
        return (y - comps.sum(axis=0) - bg) / sig

    if scale_covar is None:
        scale_covar = weighting == "none"
    kws = {} if max_nfev is None else {"max_nfev": int(max_nfev)}
    out = lmfit.minimize(residual, params, method="leastsq", scale_covar=bool(scale_covar),
                         nan_policy="raise", **kws)
    if not out.success:
        raise ConvergenceError(f"linear-combination fit did not converge: lmfit says {out.message!r} after "
                               f"{out.nfev} evaluations")
    p = out.params
    var_names = tuple(out.var_names)
    fr = np.array([p[f"f{i}"].value for i in range(n)])
    # A fraction pinned at 0 has no meaningful linearised σ (the bound, not the data, fixes it), even when
    # lmfit returns numbers; 1e-6 of the total is far below any σ these fits produce.
    stuck = [names[i] for i in range(n) if fr[i] <= 1e-6 * fr.sum()] if n > 1 else []
    if stuck:
        raise _AtBound(f"linear-combination fit converged with the fraction(s) of {stuck} at the bound 0, where "
                       f"no uncertainty can be estimated; drop those references or pass at_bound='fix'", stuck)
    at_limit = [nm for nm in var_names if nm.startswith("shift") and abs(p[nm].value) > 0.999 * max_shift]
    if at_limit:
        raise ConvergenceError(f"linear-combination fit ended with {at_limit} at the bound ±{max_shift} eV, where "
                               f"no uncertainty can be estimated; check the energy calibration of data and "
                               f"references, or raise max_shift")
    if scale_covar and not out.redchi > 0:
        raise ConvergenceError("linear-combination fit is exact (chi-square = 0) and its covariance is scaled by "
                               "the reduced chi-square, so no uncertainty can be estimated; pass sigma= (the "
                               "data's noise) with scale_covar=False")
    if not out.errorbars or out.covar is None:
        if stuck:
            raise _AtBound(f"linear-combination fit converged but lmfit could not estimate uncertainties "
                           f"(singular covariance): the fraction(s) of {stuck} sit at 0; drop those references "
                           f"or pass at_bound='fix'", stuck)
        raise ConvergenceError("linear-combination fit converged but lmfit could not estimate uncertainties "
                               "(singular covariance): the references may be linearly dependent on this window, "
                               "or a shift sits at ±max_shift")
    cov = np.array(out.covar, dtype=float)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    # lmfit returns a covariance even when it is numerically singular (e.g. two references proportional to
    # each other); its smallest eigenvalue gives that away.
    eig = np.linalg.eigvalsh(np.nan_to_num(corr)) if corr.size else np.ones(1)
    if not np.all(np.isfinite(corr)) or eig.min() < 1e-9 * max(eig.max(), 1.0):
        off = np.abs(np.nan_to_num(corr)) - np.eye(len(var_names))
        a, b = np.unravel_index(np.argmax(off), off.shape)
        what = (f"the fraction(s) of {stuck} sit at 0 — drop those references or pass at_bound='fix'" if stuck
                else f"the references may be linearly dependent on this window (|correlation| of "
                     f"{var_names[a]} and {var_names[b]} is {off[a, b]:.9f})")
        msg = (f"linear-combination fit converged but its uncertainties cannot be estimated (singular "
               f"covariance, smallest correlation eigenvalue {eig.min():.2e}): {what}")
        raise _AtBound(msg, stuck) if stuck else ConvergenceError(msg)
    index = {nm: k for k, nm in enumerate(var_names)}

    # Jacobian of the fractions with respect to the free variables.
    jac_f = np.zeros((n, len(var_names)))
    if sum_to_one:
        if n > 1:
            t = np.array([p[f"t{j}"].value for j in range(n - 1)])
            jt = _fraction_jacobian(t)
            for j in range(n - 1):
                jac_f[:, index[f"t{j}"]] = jt[:, j]
    else:
        for i in range(n):
            jac_f[i, index[f"f{i}"]] = 1.0
    cov_f = jac_f @ cov @ jac_f.T
    sig_f = np.sqrt(np.clip(np.diag(cov_f), 0.0, None))

    def sd_of(name):
        return float(sd[index[name]]) if name in index else 0.0

    d = shifts_of(p)
    shift_sig = np.array([sd_of("shift") if shift == "common" else sd_of(f"shift{i}") for i in range(n)])
    if shift == "common":
        shift_val, shift_sd = float(p["shift"].value), sd_of("shift")
    elif shift == "per_reference":
        shift_val, shift_sd = float(d.mean()), float("nan")
    else:
        shift_val, shift_sd = 0.0, 0.0

    avg = avg_sd = None
    if valences is not None:
        total_f = fr.sum()
        avg = float(fr @ v / total_f)
        grad = (v - avg) / total_f @ jac_f  # ∂v̄/∂x = Σ_i (v_i - v̄)/Σf · ∂f_i/∂x
        avg_sd = float(np.sqrt(max(grad @ cov @ grad, 0.0)))

    comps, bg = parts(p)
    model = comps.sum(axis=0) + bg
    common_meta = {"lcf_references": list(names), "energy_range": [float(e[0]), float(e[-1])]}
    data_win = Spectrum(e, y, label=data.label, units=data.units, relative=data.relative, meta=dict(data.meta))
    details = dict(
        names=names,
        fractions=MappingProxyType({nm: float(fr[i]) for i, nm in enumerate(names)}),
        fraction_sigmas=MappingProxyType({nm: float(sig_f[i]) for i, nm in enumerate(names)}),
        fraction_covariance=_readonly(cov_f),
        shift=shift_val, shift_sigma=shift_sd, shifts=_readonly(d), shift_sigmas=_readonly(shift_sig),
        scale=float(p["scale"].value), scale_sigma=sd_of("scale"),
        background_coefficients=_readonly([p[f"b{k}"].value for k in range(n_bg)]),
        background_sigmas=_readonly([sd_of(f"b{k}") for k in range(n_bg)]),
        average_valence=avg, average_valence_sigma=avg_sd,
        n_varying=len(var_names), parameter_names=var_names,
        fit=Spectrum(e, model, label=f"LCF of {data.label}".strip(), units=data.units, meta=common_meta),
        residual_spectrum=Spectrum(e, y - model, label="data - fit", units=data.units, meta=common_meta),
        background=Spectrum(e, bg, label="background", units=data.units, meta=common_meta),
        components=MappingProxyType({nm: Spectrum(e, comps[i], label=nm, units=data.units, meta=common_meta)
                                     for i, nm in enumerate(names)}),
        valences=MappingProxyType({} if valences is None else {nm: float(valences[nm]) for nm in names}),
        nfev=int(out.nfev), fixed_at_zero=())
    units = {nm: "eV" for nm in p if nm.startswith("shift")}
    result = from_minimizer(out, kind="lcf", data=data_win, best_fit=details["fit"], residual=(y - model) / sig,
                            weighting=_WEIGHTING_KIND[weighting], units=units, covariance_scaled=bool(scale_covar),
                            label=f"LCF of {data.label} with {', '.join(names)}".replace("LCF of  ", "LCF "),
                            details=details)
    result = _with_details(result)
    logger.debug("LCF result\n%s", result.summary())
    return result


def _readonly(a) -> np.ndarray:
    arr = np.array(a, dtype=float)
    arr.setflags(write=False)
    return arr


def fit_all_combinations(data: Spectrum, references, *, min_components: int = 1,
                         max_components: int | None = None, valences: Mapping[str, float] | None = None,
                         **kwargs) -> tuple[FitResult, ...]:
    """Fit every subset of the references (Athena's "fit all combinations"), best reduced χ² first.

    Parameters
    ----------
    data, references, valences
        As for :func:`fit_linear_combination` (valences are restricted to each subset).
    min_components, max_components : int
        Smallest and largest subset size (default 1 and all references).
    **kwargs
        Passed to :func:`fit_linear_combination` (``at_bound`` defaults to ``"raise"``, so subsets in which a
        reference gets a zero fraction are left out: the smaller subset without it is fitted anyway).

    Returns
    -------
    tuple of FitResult
        Sorted by ``reduced_chi_square``.  Subsets whose fit fails (ConvergenceError) are left out and logged
        at INFO level with the reason.  A lower χ² from more references is not by itself evidence for them:
        compare ``reduced_chi_square`` and look at the fraction uncertainties.
    """
    from itertools import combinations

    names, spectra = _named_references(references)
    n = len(names)
    max_components = n if max_components is None else int(max_components)
    if not 1 <= int(min_components) <= max_components <= n:
        raise InputError(f"need 1 <= min_components <= max_components <= {n}; got {min_components}, "
                         f"{max_components}")
    results = []
    for k in range(int(min_components), max_components + 1):
        for subset in combinations(range(n), k):
            sub = {names[i]: spectra[i] for i in subset}
            sub_val = None if valences is None else {nm: valences[nm] for nm in sub if nm in valences}
            try:
                results.append(fit_linear_combination(data, sub, valences=sub_val, **kwargs))
            except ConvergenceError as exc:
                logger.info("LCF with %s left out: %s", list(sub), exc)
    return tuple(sorted(results, key=lambda r: r.reduced_chi_square))

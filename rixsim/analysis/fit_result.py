"""The common result of every fit, and its builder from an lmfit ``MinimizerResult``.

:class:`FitResult`, :class:`FitParameter`, :class:`DerivedQuantity`, :class:`FitHealth` and
:func:`assess_health` are defined in :mod:`rixsim.fit_result` (a foundation module, so that the O K redox fit
of :mod:`rixsim.oxygen` can return the same type) and re-exported here; see that module for the health
criteria.  :func:`from_minimizer` turns an lmfit fit into a :class:`FitResult`.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Optional

import numpy as np

from rixsim.errors import InputError
from rixsim.fit_result import (CHI2_QUANTILES, MAX_CORRELATION, RELATIVE_SIGMA_LIMIT, WEIGHTINGS, DerivedQuantity,
                               FitHealth, FitParameter, FitResult, assess_health)

__all__ = ["WEIGHTINGS", "MAX_CORRELATION", "RELATIVE_SIGMA_LIMIT", "CHI2_QUANTILES", "FitParameter",
           "DerivedQuantity", "FitHealth", "FitResult", "assess_health", "from_minimizer", "covariance_of"]


def covariance_of(out) -> tuple[Optional[np.ndarray], np.ndarray]:
    """(covariance or None, σ of each varied parameter) of an lmfit ``MinimizerResult``.

    σ is NaN for every parameter when lmfit could not estimate the covariance (``errorbars`` false), and for
    a single parameter whose variance is not finite and positive.
    """
    n = len(out.var_names)
    if not getattr(out, "errorbars", False) or out.covar is None:
        return None, np.full(n, math.nan)
    cov = np.asarray(out.covar, dtype=float)
    d = np.diag(cov)
    sd = np.where(np.isfinite(d) & (d > 0), np.sqrt(np.abs(d)), math.nan)
    return cov, sd


def from_minimizer(out, *, kind: str, data: Any, best_fit: Any, residual: np.ndarray, weighting: str,
                   n_evaluations: Optional[int] = None, units: Optional[Mapping[str, str]] = None,
                   sigma_limits: Optional[Mapping[str, float]] = None,
                   derived: Optional[Mapping[str, DerivedQuantity]] = None,
                   derive: Optional[Callable[[np.ndarray, Optional[np.ndarray]], Mapping[str, DerivedQuantity]]] = None,
                   label: str = "", details: Optional[Mapping[str, Any]] = None,
                   covariance_scaled: Optional[bool] = None, **health_options) -> FitResult:
    """A :class:`FitResult` from an lmfit ``MinimizerResult``.

    Parameters
    ----------
    out : lmfit.minimizer.MinimizerResult
    kind : str
        ``"lcf"``, ``"xas"``, ``"map"``, ``"joint"`` ...
    data, best_fit : Spectrum, RixsMap or ndarray
        The data in the fit window and the model at the best fit, on the same axes.
    residual : ndarray
        Weighted residual (y − y_model)/σ; χ² is its sum of squares and ``dof = residual.size − n_varied``.
    weighting : {"poisson", "given sigma", "unit"}
    n_evaluations : int, optional
        Model evaluations (default ``out.nfev``).
    units : mapping name → str, optional
    sigma_limits : mapping name → float, optional
        :attr:`FitParameter.sigma_limit` per parameter.
    derived : mapping name → DerivedQuantity, optional
    derive : callable, optional
        ``derive(values_of_varied, covariance_or_None)`` → derived quantities, called when ``derived`` is None.
    label : str
    details : mapping, optional
        Fit-specific extras (see :attr:`FitResult.details`).
    covariance_scaled : bool, optional
        Default: ``out.scale_covar`` if lmfit recorded it.
    **health_options
        ``max_correlation``, ``relative_sigma_limit``, ``chi2_quantiles`` of :func:`assess_health`.

    Returns
    -------
    FitResult
    """
    if weighting not in WEIGHTINGS:
        raise InputError(f"weighting must be one of {WEIGHTINGS}; got {weighting!r}")
    units = dict(units or {})
    limits = dict(sigma_limits or {})
    varied = tuple(out.var_names)
    cov, sd = covariance_of(out)
    sigma_of = dict(zip(varied, sd))
    params = {}
    for nm, p in out.params.items():
        if p.vary:
            s = float(sigma_of.get(nm, math.nan))
        elif p.expr:
            s = float(p.stderr) if p.stderr is not None and np.isfinite(p.stderr) else (
                math.nan if cov is None else 0.0)
        else:
            s = 0.0
        params[nm] = FitParameter(nm, float(p.value), s, float(p.min), float(p.max), bool(p.vary),
                                  units.get(nm, ""), limits.get(nm), p.expr or None)
    corr = None
    if cov is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = cov / np.outer(sd, sd)
    res = np.asarray(residual, dtype=float)
    chi2 = float(np.sum(res ** 2))
    dof = int(res.size - len(varied))
    if derived is None and derive is not None:
        x = np.array([out.params[nm].value for nm in varied])
        derived = derive(x, cov)
    success = bool(out.success)
    health = assess_health(params, varied, corr, chi2, dof, weighting, success=success, **health_options)
    if covariance_scaled is None:
        covariance_scaled = bool(getattr(out, "scale_covar", False))
    return FitResult(kind=kind, data=data, best_fit=best_fit, residual=res, parameters=params, varied=varied,
                     covariance=cov, correlation=corr, chi_square=chi2, dof=dof, weighting=weighting,
                     success=success, n_evaluations=int(out.nfev if n_evaluations is None else n_evaluations),
                     health=health, derived=derived or {}, covariance_scaled=covariance_scaled,
                     message=str(getattr(out, "message", "")), label=label, details=details or {})

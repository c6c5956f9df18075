"""One result type for every fit (LCF, model XAS, model map, O K redox map, joint fits) and its health verdict.

A :class:`FitResult` holds the data and the best fit on their axes, the weighted residual, every parameter
(:class:`FitParameter`: value, σ, bounds, vary flag), the covariance and correlation of the varied ones, χ²,
χ²ᵣ and the degrees of freedom, the weighting, whether the optimiser succeeded, the number of model
evaluations, derived quantities (:class:`DerivedQuantity`, e.g. LCF fractions or the average valence) and a
:class:`FitHealth` verdict.  It lives among the foundations (beside :mod:`rixsim.results`) because fits are
made in two layers that may not import each other (:mod:`rixsim.analysis` and :mod:`rixsim.oxygen`); the
public home is :mod:`rixsim.analysis.fit_result`, which adds the builder from an lmfit ``MinimizerResult``.

Fit health
----------
A varied parameter is *not determined* when

* its σ was not computed (singular or indefinite covariance, or NaN / infinite σ);
* σ exceeds its allowed range ``max − min`` (both bounds finite);
* σ exceeds its stated limit :attr:`FitParameter.sigma_limit` (absolute, the parameter's units), or — for a
  parameter without a stated limit whose lower bound is ≥ 0 (a width, a scale, a fraction, an amplitude) —
  ``relative_sigma_limit × |value|`` (default 1: the value is not distinguishable from 0 at 1σ);
* it ended at a bound (within 1e-4 of the bound interval, or of max(|value|, 1) for a one-sided bound): its σ
  describes a constrained fit;
* its correlation with another varied parameter exceeds ``max_correlation`` (0.98) in magnitude: only a
  combination of the two is determined.

For counting statistics (``weighting == "poisson"``) χ² should follow the χ² distribution with ``dof`` degrees
of freedom; the fit is flagged when the observed χ² lies outside its ``chi2_quantiles`` (0.1 % and 99.9 %
by default).  χ²ᵣ ≫ 1 means the model does not describe the data (the σ are then too small); χ²ᵣ ≪ 1 that the
weights are wrong.  With ``"given sigma"`` the quantile is reported but not judged (user σ are often
approximate); with ``"unit"`` weights χ² has no absolute meaning.  The fit is *trustworthy* when it
succeeded, every varied parameter is determined and χ² is consistent.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from rixsim.errors import InputError

__all__ = ["WEIGHTINGS", "MAX_CORRELATION", "RELATIVE_SIGMA_LIMIT", "CHI2_QUANTILES", "FitParameter", "DerivedQuantity",
           "FitHealth", "FitResult", "assess_health"]

#: the weighting kinds a FitResult may carry
WEIGHTINGS = ("poisson", "given sigma", "unit")
#: default thresholds of :func:`assess_health`
MAX_CORRELATION = 0.98
RELATIVE_SIGMA_LIMIT = 1.0
CHI2_QUANTILES = (0.001, 0.999)
_BOUND_TOL = 1e-4


@dataclass(frozen=True)
class FitParameter:
    """One parameter of a fit.

    Attributes
    ----------
    name : str
    value : float
    sigma : float
        1σ uncertainty; 0 for a fixed parameter, NaN when it could not be computed.
    min, max : float
        Bounds (``-inf`` / ``inf`` when open).
    vary : bool
        Whether the fit varied it.
    units : str
        E.g. ``"eV"``; empty when dimensionless or arbitrary.
    sigma_limit : float or None
        The largest σ (same units) at which the parameter still counts as determined; None: see the module
        docstring for the default rule.
    expr : str or None
        A constraint expression, for a parameter computed from others.
    """

    name: str
    value: float
    sigma: float = 0.0
    min: float = -math.inf
    max: float = math.inf
    vary: bool = True
    units: str = ""
    sigma_limit: Optional[float] = None
    expr: Optional[str] = None

    def __post_init__(self):
        for k in ("value", "sigma", "min", "max"):
            object.__setattr__(self, k, float(getattr(self, k)))

    def __repr__(self) -> str:
        state = "varied" if self.vary else ("expr" if self.expr else "fixed")
        return f"FitParameter({self.name}={self.value:.6g} ± {self.sigma:.2g} {self.units}".rstrip() + f", {state})"


@dataclass(frozen=True)
class DerivedQuantity:
    """A quantity computed from the fitted parameters (e.g. an LCF fraction, an average valence).

    Attributes
    ----------
    name : str
    value, sigma : float
        Value and 1σ propagated through the covariance (NaN when it could not be).
    units : str
    """

    name: str
    value: float
    sigma: float
    units: str = ""

    def __repr__(self) -> str:
        return f"DerivedQuantity({self.name}={self.value:.6g} ± {self.sigma:.2g} {self.units})".replace(" )", ")")


@dataclass(frozen=True)
class FitHealth:
    """Verdict on a fit: are its parameters determined, and does χ² agree with the weights?

    Attributes
    ----------
    trustworthy : bool
        True when the fit succeeded, no varied parameter is undetermined and χ² is consistent (where judged).
    reasons : tuple of str
        One sentence per problem, each naming the parameter and the numbers.
    undetermined : tuple of str
        Varied parameters that are not determined (any of the criteria of the module docstring).
    at_bounds : tuple of str
        Varied parameters that ended at a bound.
    correlated : tuple of (str, str, float)
        Pairs of varied parameters with |ρ| above the threshold, and ρ.
    chi2_probability : float or None
        P(χ²_dof ≤ observed χ²) under the weights; None when χ² has no absolute meaning (unit weights).
    chi2_consistent : bool or None
        Whether ``chi2_probability`` lies within the quantiles (None when not judged).
    """

    trustworthy: bool
    reasons: tuple = ()
    undetermined: tuple = ()
    at_bounds: tuple = ()
    correlated: tuple = ()
    chi2_probability: Optional[float] = None
    chi2_consistent: Optional[bool] = None

    def __repr__(self) -> str:
        if self.trustworthy:
            return "FitHealth(trustworthy)"
        return f"FitHealth(not trustworthy: {len(self.reasons)} reason(s); undetermined {list(self.undetermined)})"

    def summary(self) -> str:
        """The verdict and its reasons, one per line."""
        head = "trustworthy" if self.trustworthy else "NOT trustworthy"
        return "\n".join([f"Health: {head}"] + [f"  - {r}" for r in self.reasons])


def _at_bound(p: FitParameter) -> bool:
    lo, hi = p.min, p.max
    span = (hi - lo) if math.isfinite(lo) and math.isfinite(hi) else max(abs(p.value), 1.0)
    tol = _BOUND_TOL * span
    return bool((math.isfinite(lo) and p.value - lo <= tol) or (math.isfinite(hi) and hi - p.value <= tol))


def _chi2_probability(chi2: float, dof: int) -> float:
    """P(χ²_dof ≤ chi2), the regularised lower incomplete gamma function P(dof/2, chi2/2)."""
    from scipy.special import gammainc       # scipy.special, not the much heavier scipy.stats import
    return float(gammainc(0.5 * dof, 0.5 * max(chi2, 0.0)))


def assess_health(parameters: Mapping[str, FitParameter], varied: Sequence[str], correlation, chi_square: float,
                  dof: int, weighting: str, *, success: bool = True, max_correlation: float = MAX_CORRELATION,
                  relative_sigma_limit: float = RELATIVE_SIGMA_LIMIT,
                  chi2_quantiles: tuple[float, float] = CHI2_QUANTILES) -> FitHealth:
    """The :class:`FitHealth` of a fit (criteria in the module docstring).

    Parameters
    ----------
    parameters : mapping name → FitParameter
    varied : sequence of str
        Names of the varied parameters, in the order of ``correlation``.
    correlation : ndarray, shape (n_varied, n_varied), or None
        None when the covariance could not be computed.
    chi_square : float
    dof : int
        Degrees of freedom (points − varied parameters).
    weighting : {"poisson", "given sigma", "unit"}
    success : bool
        Whether the optimiser reported success.
    max_correlation : float
        |ρ| above which two parameters count as not separately determined.
    relative_sigma_limit : float
        σ / |value| above which a non-negative parameter without a stated limit counts as undetermined.
    chi2_quantiles : (float, float)
        Lower and upper probability of the χ² test (counting statistics only).

    Returns
    -------
    FitHealth
    """
    if weighting not in WEIGHTINGS:
        raise InputError(f"weighting must be one of {WEIGHTINGS}; got {weighting!r}")
    lo_q, hi_q = chi2_quantiles
    if not 0.0 <= lo_q < hi_q <= 1.0:
        raise InputError(f"chi2_quantiles must satisfy 0 <= low < high <= 1; got {chi2_quantiles!r}")
    reasons: list[str] = []
    undetermined: list[str] = []
    if not success:
        reasons.append("the optimiser did not report success")

    def flag(name, why):
        if name not in undetermined:
            undetermined.append(name)
        reasons.append(f"{name}: {why}")

    at_bounds = []
    for nm in varied:
        p = parameters[nm]
        s = p.sigma
        if not math.isfinite(s) or s < 0:
            flag(nm, "σ not computed (singular or indefinite covariance)")
        elif math.isfinite(p.min) and math.isfinite(p.max) and s > p.max - p.min:
            flag(nm, f"σ = {s:.3g} exceeds its allowed range [{p.min:.4g}, {p.max:.4g}]")
        elif p.sigma_limit is not None and s > p.sigma_limit:
            flag(nm, f"σ = {s:.3g} exceeds its stated limit {p.sigma_limit:.3g} {p.units}".rstrip())
        elif p.sigma_limit is None and p.min >= 0.0 and s > relative_sigma_limit * abs(p.value):
            flag(nm, f"σ = {s:.3g} exceeds {relative_sigma_limit:g} × |value| = "
                     f"{relative_sigma_limit * abs(p.value):.3g} (not distinguishable from 0)")
        if _at_bound(p):
            at_bounds.append(nm)
            bound = p.min if abs(p.value - p.min) <= abs(p.value - p.max) else p.max
            flag(nm, f"ended at its bound {bound:.4g} (its σ describes a constrained fit)")
    correlated = []
    if correlation is not None and len(varied) > 1:
        c = np.asarray(correlation, dtype=float)
        for i in range(len(varied)):
            for j in range(i + 1, len(varied)):
                r = c[i, j]
                if math.isfinite(r) and abs(r) > max_correlation:
                    correlated.append((varied[i], varied[j], float(r)))
                    for a, b in ((varied[i], varied[j]), (varied[j], varied[i])):
                        if a not in undetermined:
                            undetermined.append(a)
                    reasons.append(f"{varied[i]} and {varied[j]}: correlation {r:+.4f} (|ρ| > {max_correlation:g}; "
                                   "only a combination is determined)")
    prob, consistent = None, None
    if weighting != "unit" and dof > 0 and math.isfinite(chi_square):
        prob = _chi2_probability(chi_square, dof)
        if weighting == "poisson":
            consistent = lo_q <= prob <= hi_q
            if not consistent:
                side = ("too large: the model does not describe the data, or the data are not counts"
                        if prob > hi_q else "too small: the weights overstate the noise")
                reasons.append(f"χ²ᵣ = {chi_square / dof:.4g} for {dof} dof is outside the "
                               f"{100 * lo_q:g}–{100 * hi_q:g} % quantiles of the χ² distribution "
                               f"(P = {prob:.3g}); {side}")
    elif dof <= 0:
        reasons.append(f"no degrees of freedom left (dof = {dof})")
    trustworthy = bool(success and not undetermined and consistent is not False and dof > 0)
    return FitHealth(trustworthy=trustworthy, reasons=tuple(reasons), undetermined=tuple(undetermined),
                     at_bounds=tuple(at_bounds), correlated=tuple(correlated), chi2_probability=prob,
                     chi2_consistent=consistent)


def _ro(a) -> Optional[np.ndarray]:
    if a is None:
        return None
    arr = np.array(a, dtype=float, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)   # arrays inside: element-wise == would be ambiguous
class FitResult:
    """Result of any fit of rixsim.

    Attributes
    ----------
    kind : str
        What was fitted: ``"lcf"``, ``"xas"``, ``"map"``, ``"redox"``, ``"joint"`` ...
    data : Spectrum, RixsMap, ndarray or tuple
        The fitted data (in the fit window), on their axes.
    best_fit : same type as ``data``
        The model at the best-fit values on the data's axes.
    residual : ndarray
        Weighted residual (y − y_model)/σ, the data's shape (σ = 1 for unit weights).
    parameters : mapping name → FitParameter
        Every parameter (varied, fixed and constrained).
    varied : tuple of str
        The varied parameters, in the order of ``covariance`` and ``correlation``.
    covariance, correlation : ndarray, shape (n_varied, n_varied), or None
        None when the covariance could not be computed.
    chi_square : float
        :math:`\\sum_i r_i^2` of ``residual``.
    dof : int
        Degrees of freedom, points − varied parameters.
    weighting : {"poisson", "given sigma", "unit"}
        Counting statistics (σ² = model or data), σ given by the user, or σ = 1.
    success : bool
        Whether the optimiser reported convergence.
    n_evaluations : int
        Model evaluations during the fit.
    health : FitHealth
    derived : mapping name → DerivedQuantity
        Quantities computed from the parameters (e.g. LCF ``fraction[Mn2+]``, ``average_valence``).
    covariance_scaled : bool
        Whether the covariance was multiplied by χ²ᵣ.
    message : str
        The optimiser's message.
    label : str
        A short description (ion, model, data file).
    details : mapping
        Fit-specific extras (LCF components, redox decision, number of diagonalisations …); each is also
        reachable as an attribute, ``result.decision`` for ``result.details["decision"]``.
    """

    kind: str
    data: Any = field(repr=False)
    best_fit: Any = field(repr=False)
    residual: np.ndarray = field(repr=False)
    parameters: Mapping[str, FitParameter]
    varied: tuple
    covariance: Optional[np.ndarray]
    correlation: Optional[np.ndarray]
    chi_square: float
    dof: int
    weighting: str
    success: bool
    n_evaluations: int
    health: FitHealth
    derived: Mapping[str, DerivedQuantity] = field(default_factory=dict)
    covariance_scaled: bool = False
    message: str = ""
    label: str = ""
    details: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.weighting not in WEIGHTINGS:
            raise InputError(f"weighting must be one of {WEIGHTINGS}; got {self.weighting!r}")
        missing = [nm for nm in self.varied if nm not in self.parameters]
        if missing:
            raise InputError(f"varied names {missing} are not among the parameters {list(self.parameters)}")
        object.__setattr__(self, "varied", tuple(self.varied))
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))
        object.__setattr__(self, "derived", MappingProxyType(dict(self.derived)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))
        object.__setattr__(self, "covariance", _ro(self.covariance))
        object.__setattr__(self, "correlation", _ro(self.correlation))
        object.__setattr__(self, "residual", _ro(self.residual))
        object.__setattr__(self, "chi_square", float(self.chi_square))
        object.__setattr__(self, "dof", int(self.dof))

    def __reduce__(self):                 # picklable (results travel to and from sweep workers)
        kw = {f: getattr(self, f) for f in self.__dataclass_fields__}
        for k in ("parameters", "derived"):
            kw[k] = dict(kw[k])
        kw["details"] = {k: dict(v) if isinstance(v, MappingProxyType) else v for k, v in self.details.items()}
        return (_rebuild_fit_result, (kw,))

    # ---- convenience -----------------------------------------------------------------------------
    def __getattr__(self, name):          # only called when normal look-up fails: the fit-specific extras
        details = self.__dict__.get("details")
        if details is not None and name in details:
            return details[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @property
    def trustworthy(self) -> bool:
        """``health.trustworthy``."""
        return self.health.trustworthy

    @property
    def values(self) -> Mapping[str, float]:
        """Name → value of every parameter."""
        return MappingProxyType({nm: p.value for nm, p in self.parameters.items()})

    @property
    def sigmas(self) -> Mapping[str, float]:
        """Name → 1σ of every parameter (0 when fixed, NaN when not computed)."""
        return MappingProxyType({nm: p.sigma for nm, p in self.parameters.items()})

    @property
    def reduced_chi_square(self) -> float:
        """χ² / dof (NaN without degrees of freedom)."""
        return self.chi_square / self.dof if self.dof > 0 else math.nan

    @property
    def n_points(self) -> int:
        """Number of fitted data points."""
        return int(np.size(self.residual))

    @property
    def n_varied(self) -> int:
        return len(self.varied)

    def correlation_of(self, a: str, b: str) -> float:
        """Correlation coefficient of two varied parameters (NaN when the covariance was not computed)."""
        for nm in (a, b):
            if nm not in self.varied:
                raise InputError(f"{nm!r} was not varied; varied parameters: {list(self.varied)}")
        if self.correlation is None:
            return math.nan
        return float(self.correlation[self.varied.index(a), self.varied.index(b)])

    # ---- text --------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        verdict = "trustworthy" if self.health.trustworthy else "NOT trustworthy"
        label = f" {self.label}" if self.label else ""
        return (f"<FitResult {self.kind}{label}: {len(self.varied)} varied, χ²ᵣ = {self.reduced_chi_square:.4g} "
                f"(dof {self.dof}, {self.weighting}), {self.n_evaluations} evaluations, {verdict}>")

    def summary(self) -> str:
        """A readable multi-line report: fit statistics, parameters, derived quantities, health."""
        label = f" — {self.label}" if self.label else ""
        lines = [f"Fit ({self.kind}){label}: {'converged' if self.success else 'NOT converged'}, "
                 f"{self.n_evaluations} model evaluations, weighting {self.weighting}"
                 + (", covariance scaled by χ²ᵣ" if self.covariance_scaled else "")]
        prob = self.health.chi2_probability
        lines.append(f"χ² = {self.chi_square:.6g} for {self.dof} dof ({self.n_points} points), "
                     f"χ²ᵣ = {self.reduced_chi_square:.4g}" + (f", P(χ² ≤ obs) = {prob:.3g}" if prob is not None
                                                                  else ""))
        if self.message:
            lines.append(f"optimiser: {self.message}")
        lines.append("Parameters:")
        w = max([len(n) for n in self.parameters] + [4])
        lines.append(f"  {'name':<{w}s} {'value':>13s} {'σ':>11s} {'min':>10s} {'max':>10s}  state")
        und = set(self.health.undetermined)
        for nm, p in self.parameters.items():
            state = "varied" if p.vary else ("expr" if p.expr else "fixed")
            if nm in und:
                state += "  UNDETERMINED"
            sig = f"{p.sigma:11.3g}" if p.vary or p.expr else f"{'':11s}"
            lines.append(f"  {nm:<{w}s} {p.value:13.6g} {sig} {p.min:10.4g} {p.max:10.4g}  {state}"
                         + (f" [{p.units}]" if p.units else ""))
        if self.derived:
            lines.append("Derived:")
            wd = max(len(n) for n in self.derived)
            for nm, d in self.derived.items():
                lines.append(f"  {nm:>{wd}s}: {d.value:.6g} ± {d.sigma:.3g}" + (f" {d.units}" if d.units else ""))
        lines.append(self.health.summary())
        return "\n".join(lines)


def _rebuild_fit_result(kw: dict) -> FitResult:
    return FitResult(**kw)

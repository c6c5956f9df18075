"""Oxygen-redox assignment on O-K mRIXS maps: is the oxidised-oxygen feature there, and how large is it?

Model of a measured map (counts per pixel)
------------------------------------------
.. math::

    \\mu(\\omega, \\omega') = a_{\\rm lat}\\,L(\\omega, \\omega') + a_{\\rm ox}\\,X(\\omega, \\omega')
        + \\sum_k a_k T_k(\\omega, \\omega') + \\sum_{i + j \\le d} b_{ij}\\, u^i v^j,

with templates (component maps on the data's axes, each normalised here to a maximum of 1, so every amplitude
is the component's *peak counts per pixel*): ``lattice`` L (lattice oxygen — the O-K cluster model, or
:func:`synthetic_lattice_map` until that lands), ``oxidised`` X (the oxidised-oxygen feature, e.g.
:func:`oxidised_oxygen_template` from :mod:`rixsim.oxygen.vibronic`), optional ``extra`` templates T_k, and a smooth
polynomial background of total degree ``background_order`` in ``u, v`` (the excitation and second axes
mapped onto [−1, 1]); by default also the lattice template's derivative along the second axis
(``lattice_shift``), a nuisance term that absorbs a small misalignment of the lattice template.  The model is
linear in every amplitude: the fit is a Poisson maximum-likelihood fit by iteratively reweighted least squares
(weights 1/μ, μ floored at ``MU_FLOOR`` counts; Fisher covariance :math:`(X^T W X)^{-1}`), or a weighted
least-squares fit for a user σ.  No amplitude is constrained: a
negative :math:`a_{\\rm ox}` is a legitimate downward fluctuation and keeps the false-positive rate honest.

Decision rule (stated once; :class:`RedoxDecision` carries it)
---------------------------------------------------------------
With :math:`z = a_{\\rm ox}/\\sigma_{\\rm ox}` and a *relevant amplitude* :math:`A_{\\rm rel}` (default 10 % of the
fitted lattice peak, ``relevant_fraction=0.10``):

* **present**  if :math:`z \\ge z_{\\rm detect}` (default 3: one-sided Gaussian false-alarm probability 0.13 %);
* **absent**   if the one-sided 95 % upper limit :math:`a_{\\rm ox} + 1.645\\,\\sigma_{\\rm ox} < A_{\\rm rel}` — a
  feature as large as the relevant one is excluded;
* **inconclusive** otherwise (not detected, yet not excluded: the data are too noisy for that amplitude).

Detection limit: at significance :math:`z_{\\rm detect}` and power :math:`1-\\beta` the smallest amplitude detected
is :math:`A_{\\min} = (z_{\\rm detect} + z_{1-\\beta})\\,\\sigma_{\\rm ox}`, with :math:`\\sigma_{\\rm ox}` from the
Fisher matrix of the feature-free model (:func:`detection_limit`).

sPFY quick look
---------------
Experimentalists read the oxidised-oxygen feature off a super-partial fluorescence yield: counts summed over a
narrow emission window at 523.7 eV versus excitation (seed review §5.2; 523.7–523.8 eV in the Li-rich-oxide
literature).  :func:`spfy_quick_look` gives that cut and a naive contrast: the counts at the feature's
excitation (531 eV) minus the straight line through two baseline excitations, with its Poisson σ.  It
ignores the lattice band's own curvature along the excitation axis, so its false-positive rate is not
controlled: it grows with the count level (``validation/fit_statistics.py``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Optional

import numpy as np

from rixsim import validate
from rixsim.errors import ConvergenceError, InputError
from rixsim.fit_result import DerivedQuantity, FitParameter, FitResult, assess_health
from rixsim.results import RixsMap, Spectrum

__all__ = ["RedoxFit", "RedoxDecision", "SPFYQuickLook", "fit_redox_map", "decide", "detection_limit",
           "synthetic_lattice_map", "oxidised_oxygen_template", "resample_map", "spfy_quick_look",
           "SPFY_EMISSION", "FEATURE_EXCITATION"]

log = logging.getLogger(__name__)

#: emission energy (eV) of the sPFY cut used for the oxidised-oxygen feature (seed review §5.2: 523.7 eV in
#: parts of the Li-rich oxide literature, 523.8 eV in others; rixsim.oxygen.vibronic puts the 0–0 line at 523.8)
SPFY_EMISSION = 523.7
#: excitation energy (eV) of the feature (seed review §5.2, Fig. 7)
FEATURE_EXCITATION = 531.0
#: expected counts below which the Poisson weights 1/μ are floored (μ ≤ 0 has no likelihood)
MU_FLOOR = 0.5
_Z95 = 1.6448536269514722      # one-sided 95 % Gaussian quantile


# --------------------------------------------------------------------------------------------- templates
def synthetic_lattice_map(excitation, emission) -> RixsMap:
    """Stand-in lattice-oxygen O-K map until the cluster model (``rixsim.oxygen.kedge``) lands — shapes assumed,
    chosen to look like a TM-oxide O-K mRIXS map (seed review §5.2, Fig. 7):

    * excitation profile: TM 3d–O 2p hybridised pre-edge peaks at 529.3 eV (FWHM 1.0) and 530.6 eV (FWHM 1.2,
      weights 0.6 and 0.4) plus an arctan edge step (height 1) centred at 533 eV;
    * emission: the broad O Kα band, Gaussian FWHM 2.6 eV centred at 525.0 eV moving by +0.1 eV per eV of
      excitation above 531 eV, and a weaker band (0.3) at 522.5 eV, FWHM 3.0 eV.

    Maximum 1.  Axes absolute, eV.
    """
    exc = validate.energy_axis(excitation, "excitation", min_points=2)
    emi = validate.energy_axis(emission, "emission", min_points=2)

    def g(x, c, fwhm):
        return np.exp(-4.0 * np.log(2.0) * ((x - c) / fwhm) ** 2)
    xprof = 0.6 * g(exc, 529.3, 1.0) + 0.4 * g(exc, 530.6, 1.2) + (0.5 + np.arctan((exc - 533.0) / 0.8) / np.pi)
    centre = 525.0 + 0.1 * (exc - 531.0)
    z = xprof[:, None] * (g(emi[None, :], centre[:, None], 2.6) + 0.3 * g(emi[None, :], 522.5, 3.0))
    return RixsMap(exc, emi, z / z.max(), label="synthetic lattice-oxygen O-K map (stand-in)",
                   meta={"source": "rixsim.oxygen.redox.synthetic_lattice_map (assumed shapes)"})


def oxidised_oxygen_template(excitation, emission, params=None) -> RixsMap:
    """Oxidised-oxygen component map from :mod:`rixsim.oxygen.vibronic` (default
    :class:`~rixsim.oxygen.potentials.OxidisedOxygenParameters`: feature at 531.0 eV / 523.8 eV), maximum 1."""
    from rixsim.oxygen.potentials import OxidisedOxygenParameters
    from rixsim.oxygen.vibronic import vibronic_rixs_map
    m = vibronic_rixs_map(params if params is not None else OxidisedOxygenParameters(), excitation, emission)
    z = m.intensity
    if z.max() <= 0:
        raise InputError("the oxidised-oxygen map is zero on these axes; they must include ≈531 eV excitation "
                         "and ≈524 eV emission")
    return RixsMap(m.excitation, m.emission, z / z.max(), label="oxidised oxygen (vibronic)", meta=dict(m.meta))


def resample_map(rmap: RixsMap, excitation, second) -> RixsMap:
    """``rmap`` linearly interpolated onto new excitation and second (emission or loss) axes (eV); zero
    outside its range."""
    from scipy.interpolate import RegularGridInterpolator
    if not isinstance(rmap, RixsMap):
        raise InputError(f"rmap must be a RixsMap; got {type(rmap).__name__}")
    exc = validate.energy_axis(excitation, "excitation")
    sec = validate.energy_axis(second, "second axis")
    own = rmap.loss if rmap.on_loss_axis else rmap.emission
    f = RegularGridInterpolator((rmap.excitation, own), rmap.intensity, bounds_error=False, fill_value=0.0)
    xx, yy = np.meshgrid(exc, sec, indexing="ij")
    z = f(np.stack([xx.ravel(), yy.ravel()], axis=1)).reshape(xx.shape)
    if rmap.on_loss_axis:
        return RixsMap(exc, None, z, loss=sec, label=rmap.label, meta=dict(rmap.meta))
    return RixsMap(exc, sec, z, label=rmap.label, meta=dict(rmap.meta))


# ------------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class RedoxDecision:
    """Outcome of the decision rule of the module docstring.

    Attributes
    ----------
    verdict : {"present", "absent", "inconclusive"}
    significance : float
        z = a_ox / σ_ox.
    upper_limit : float
        One-sided 95 % upper limit of a_ox (peak counts per pixel).
    relevant_amplitude : float
        The amplitude the "absent" verdict excludes (peak counts per pixel).
    rule : str
        The rule in words, with its thresholds.
    """

    verdict: str
    significance: float
    upper_limit: float
    relevant_amplitude: float
    rule: str


#: The result of :func:`fit_redox_map` is the common :class:`~rixsim.fit_result.FitResult` (``kind`` "redox").
#: Its parameters are the amplitudes (peak counts per pixel for templates, counts for the background
#: coefficients ``bg_i_j``; "lattice", "oxidised", extra names, "lattice_shift", ...), ``chi_square`` is Pearson's
#: Σ (y − μ)²/μ (Poisson) or Σ ((y − μ)/σ)² (user σ), ``n_evaluations`` the IRLS iterations, ``derived`` holds
#: ``ratio`` (a_ox / a_lat) and ``significance`` (a_ox / σ_ox), and ``details`` (also attributes): ``names``,
#: ``amplitudes``, ``oxidised_amplitude``, ``oxidised_sigma``, ``lattice_amplitude``, ``ratio``, ``ratio_sigma``,
#: ``decision`` (:class:`RedoxDecision`), ``n_iterations``.  The old name is kept for code that imports it.
RedoxFit = FitResult


# ------------------------------------------------------------------------------------------------ fitting
def _second(rmap: RixsMap) -> np.ndarray:
    return rmap.loss if rmap.on_loss_axis else rmap.emission


def _check_template(name: str, t, data: RixsMap) -> np.ndarray:
    if not isinstance(t, RixsMap):
        raise InputError(f"template {name!r} must be a RixsMap; got {type(t).__name__}")
    if t.on_loss_axis != data.on_loss_axis:
        raise InputError(f"template {name!r} is on a {'loss' if t.on_loss_axis else 'emission'} axis, the data on "
                         f"a {'loss' if data.on_loss_axis else 'emission'} axis")
    for what, a, b in (("excitation", t.excitation, data.excitation), ("second", _second(t), _second(data))):
        if a.shape != b.shape or not np.allclose(a, b, rtol=0, atol=1e-6):
            raise InputError(f"template {name!r} {what} axis differs from the data's; put it on the data's axes "
                             "with rixsim.oxygen.redox.resample_map")
    z = validate.intensities(t.intensity, f"template {name!r}", allow_negative=True)
    peak = np.abs(z).max()
    if peak == 0:
        raise InputError(f"template {name!r} is zero everywhere on the data's axes")
    return z / peak


def _shift_component(z: np.ndarray, second: np.ndarray) -> np.ndarray:
    """−∂z/∂x along the second axis, scaled to maximum 1: adding a·(this) moves the template by a small shift
    along that axis (first-order Taylor)."""
    d = -np.gradient(z, second, axis=1)
    peak = np.abs(d).max()
    return d / peak if peak > 0 else d


def _design(data: RixsMap, templates: dict, background_order: int):
    exc, sec = data.excitation, _second(data)
    u = 2 * (exc - exc[0]) / max(exc[-1] - exc[0], 1e-12) - 1
    v = 2 * (sec - sec[0]) / max(sec[-1] - sec[0], 1e-12) - 1
    cols, names = [], []
    for nm, z in templates.items():
        cols.append(z.ravel())
        names.append(nm)
    for i in range(background_order + 1):
        for j in range(background_order + 1 - i):
            cols.append(np.outer(u ** i, v ** j).ravel())
            names.append(f"bg_{i}_{j}")
    return np.column_stack(cols), tuple(names)


def _solve(a: np.ndarray, y: np.ndarray, w: np.ndarray):
    """Weighted least squares by the normal equations (columns are O(1) and their conditioning is checked
    before any fit, so squaring the condition number is harmless here)."""
    fisher = a.T @ (a * w[:, None])
    coef = np.linalg.solve(fisher, a.T @ (w * y))
    return coef, fisher


def fit_redox_map(data: RixsMap, lattice: RixsMap, oxidised: RixsMap, *, extra: Optional[Mapping[str, RixsMap]] = None,
                  background_order: int = 1, lattice_shift: bool = True, sigma="poisson", z_detect: float = 3.0,
                  relevant_fraction: float = 0.10, relevant_amplitude: Optional[float] = None,
                  max_iterations: int = 50, tol: float = 1e-6) -> FitResult:
    """Fit an O-K map as lattice + oxidised-oxygen + extra templates + smooth background; decide on the
    oxidised-oxygen feature (rule in the module docstring).

    Parameters
    ----------
    data : RixsMap
        Measured or simulated map, raw counts per pixel for ``sigma="poisson"``.
    lattice, oxidised : RixsMap
        Component maps on the data's axes (any normalisation; rescaled to maximum 1 here).
    extra : mapping name → RixsMap, optional
        Further components (e.g. a TM–O hybridisation band) on the data's axes.
    background_order : int
        Total degree 0…3 of the polynomial background.
    lattice_shift : bool
        Add the lattice template's derivative along the second axis as a nuisance component
        ("lattice_shift"): absorbs a misalignment of the lattice template to first order.  Without it a lattice
        band 0.2 eV lower in emission than its template is read as oxidised oxygen in 64 % of feature-free
        maps (lattice peak 200 counts); with it in none (tests/test_redox.py).
    sigma : "poisson" or float or array
        Poisson maximum likelihood (counts), or a known σ per pixel (weighted least squares).
    z_detect : float
        Significance for "present" (default 3).
    relevant_fraction : float
        Relevant amplitude as a fraction of the fitted lattice amplitude, for "absent" (default 0.10).  The
        lattice amplitude is the peak of the lattice template, which for a cluster map with an elastic line
        (``rixsim.oxygen.kedge.lattice_oxygen_map``) is the elastic peak: give ``relevant_amplitude`` directly there.
    relevant_amplitude : float, optional
        Relevant amplitude in peak counts per pixel (overrides ``relevant_fraction``).
    max_iterations, tol : int, float
        IRLS stops when no amplitude moves by more than ``tol`` of its standard error.

    Returns
    -------
    FitResult
        ``kind`` "redox" (see ``RedoxFit`` above for its items); ``details["decision"]`` is the verdict.

    Raises
    ------
    InputError
        Bad data, templates on other axes, degenerate templates, bad options.
    ConvergenceError
        The Poisson IRLS did not converge in ``max_iterations``.
    """
    if not isinstance(data, RixsMap):
        raise InputError(f"data must be a RixsMap; got {type(data).__name__}")
    if not isinstance(background_order, (int, np.integer)) or isinstance(background_order, bool) \
            or not 0 <= background_order <= 3:
        raise InputError(f"background_order must be an integer 0…3; got {background_order!r}")
    z_detect = validate.nonnegative(z_detect, "z_detect")
    relevant_fraction = validate.nonnegative(relevant_fraction, "relevant_fraction")
    y2 = validate.intensities(data.intensity, "data intensity", allow_negative=not isinstance(sigma, str))
    templates = {"lattice": _check_template("lattice", lattice, data),
                 "oxidised": _check_template("oxidised", oxidised, data)}
    for nm, t in (extra or {}).items():
        if nm in templates or nm.startswith("bg_") or nm == "lattice_shift":
            raise InputError(f"extra template name {nm!r} is reserved; choose another")
        templates[nm] = _check_template(nm, t, data)
    if lattice_shift:
        templates["lattice_shift"] = _shift_component(templates["lattice"], _second(data))
    a, names = _design(data, templates, int(background_order))
    y = y2.ravel()
    if y.size <= a.shape[1]:
        raise InputError(f"{y.size} pixels cannot fix {a.shape[1]} amplitudes")
    an = a / np.linalg.norm(a, axis=0)
    ev = np.linalg.eigvalsh(an.T @ an)          # squared singular values of the column-normalised design
    if ev[0] < 1e-12 * ev[-1]:
        raise InputError("the templates and background are linearly dependent on these axes (condition number "
                         f"{np.sqrt(ev[-1] / max(ev[0], 1e-300)):.3g}); drop a template or lower background_order")

    if isinstance(sigma, str):
        if sigma != "poisson":
            raise InputError(f"sigma must be 'poisson', a number or an array; got {sigma!r}")
        w = 1.0 / (y + 1.0)                     # start: Mighell-like weights
        coef, fisher = _solve(a, y, w)
        it = 0
        for it in range(1, max_iterations + 1):
            mu = np.maximum(a @ coef, MU_FLOOR)
            new, fisher = _solve(a, y, 1.0 / mu)
            # step in units of each amplitude's standard error (amplitudes near 0 need no relative precision)
            step = np.max(np.abs(new - coef) / np.sqrt(np.diag(np.linalg.inv(fisher))))
            coef = new
            if step < tol:
                break
        else:
            raise ConvergenceError(f"Poisson IRLS did not converge in {max_iterations} iterations "
                                   f"(last relative step {step:.3g}); check the templates and background")
        mu = np.maximum(a @ coef, MU_FLOOR)
        _, fisher = _solve(a, y, 1.0 / mu)
        chi2 = float(np.sum((y - a @ coef) ** 2 / mu))
    else:
        s = np.broadcast_to(np.asarray(sigma, dtype=float), y2.shape).ravel()
        if not np.all(np.isfinite(s)) or (s <= 0).any():
            raise InputError("sigma must be finite and > 0 everywhere")
        coef, fisher = _solve(a, y, 1.0 / s ** 2)
        chi2 = float(np.sum(((y - a @ coef) / s) ** 2))
        it = 0
    cov = np.linalg.inv(fisher)
    sd = np.sqrt(np.diag(cov))
    i_l, i_o = names.index("lattice"), names.index("oxidised")
    a_l, a_o = float(coef[i_l]), float(coef[i_o])
    ratio = a_o / a_l if a_l != 0 else np.nan
    grad = np.zeros(len(names))
    if a_l != 0:
        grad[i_o], grad[i_l] = 1.0 / a_l, -a_o / a_l ** 2
    ratio_sigma = float(np.sqrt(grad @ cov @ grad)) if a_l != 0 else np.nan
    rel = relevant_fraction * a_l if relevant_amplitude is None else validate.nonnegative(relevant_amplitude,
                                                                                         "relevant_amplitude")
    dec = decide(a_o, float(sd[i_o]), rel, z_detect)
    best = (a @ coef).reshape(y2.shape)
    if data.on_loss_axis:
        best_map = RixsMap(data.excitation, None, best, loss=data.loss, label="redox fit")
    else:
        best_map = RixsMap(data.excitation, data.emission, best, label="redox fit")
    if isinstance(sigma, str):
        res = (y - a @ coef) / np.sqrt(mu)
        weighting = "poisson"
    else:
        res = (y - a @ coef) / s
        weighting = "given sigma"
    params = {nm: FitParameter(nm, float(c), float(e), units="counts") for nm, c, e in zip(names, coef, sd)}
    dof = y.size - len(names)
    corr = cov / np.outer(sd, sd)
    health = assess_health(params, tuple(names), corr, chi2, dof, weighting)
    derived = {"ratio": DerivedQuantity("ratio", float(ratio), ratio_sigma),
               "significance": DerivedQuantity("significance", a_o / float(sd[i_o]), 1.0)}
    return FitResult(kind="redox", data=data, best_fit=best_map, residual=res.reshape(y2.shape), parameters=params,
                     varied=tuple(names), covariance=cov, correlation=corr, chi_square=chi2, dof=dof,
                     weighting=weighting, success=True, n_evaluations=max(it, 1), health=health, derived=derived,
                     label="O-K redox map", message=f"IRLS converged in {it} iterations" if it else "linear solve",
                     details={"names": tuple(names), "amplitudes": MappingProxyType(dict(zip(names, map(float, coef)))),
                              "oxidised_amplitude": a_o, "oxidised_sigma": float(sd[i_o]), "lattice_amplitude": a_l,
                              "ratio": float(ratio), "ratio_sigma": ratio_sigma, "decision": dec, "n_iterations": it})


def _ro(a):
    a = np.array(a, dtype=float, copy=True)
    a.setflags(write=False)
    return a


def decide(amplitude: float, sigma: float, relevant_amplitude: float, z_detect: float = 3.0) -> RedoxDecision:
    """Apply the decision rule of the module docstring to an amplitude ± σ (peak counts per pixel)."""
    sigma = validate.nonnegative(sigma, "sigma")
    if sigma == 0:
        raise InputError("sigma must be > 0 for a decision")
    z = float(amplitude) / sigma
    upper = float(amplitude) + _Z95 * sigma
    if z >= z_detect:
        verdict = "present"
    elif upper < relevant_amplitude:
        verdict = "absent"
    else:
        verdict = "inconclusive"
    rule = (f"present if a/σ ≥ {z_detect:g}; absent if a + 1.645σ < {relevant_amplitude:.4g} (the relevant "
            "amplitude); inconclusive otherwise")
    return RedoxDecision(verdict, z, upper, float(relevant_amplitude), rule)


def detection_limit(lattice: RixsMap, oxidised: RixsMap, lattice_peak_counts: float, *,
                    background_counts: float = 0.0, extra: Optional[Mapping[str, RixsMap]] = None,
                    extra_peak_counts: Optional[Mapping[str, float]] = None, background_order: int = 1,
                    lattice_shift: bool = True, z_detect: float = 3.0, power: float = 0.95) -> tuple[float, float]:
    """Smallest oxidised-oxygen peak amplitude (counts per pixel) detected with probability ``power`` at
    significance ``z_detect``, for a feature-free map of ``lattice_peak_counts`` at the lattice peak plus a
    flat ``background_counts`` per pixel:
    :math:`A_{\\min} = (z_{\\rm detect} + z_{\\rm power})\\,\\sigma_{\\rm ox}`, with the same components as
    :func:`fit_redox_map` (``lattice_shift``, ``background_order``, ``extra``).

    Returns ``(A_min, σ_ox)``; σ_ox from the Poisson Fisher matrix at the expected counts (no noise).
    """
    from scipy.stats import norm
    lp = validate.nonnegative(lattice_peak_counts, "lattice_peak_counts")
    bg = validate.nonnegative(background_counts, "background_counts")
    if not 0.5 <= power < 1:
        raise InputError(f"power must be in [0.5, 1); got {power!r}")
    base = RixsMap(lattice.excitation, lattice.emission, np.zeros_like(lattice.intensity), loss=lattice.loss)
    templates = {"lattice": _check_template("lattice", lattice, base),
                 "oxidised": _check_template("oxidised", oxidised, base)}
    for nm, t in (extra or {}).items():
        templates[nm] = _check_template(nm, t, base)
    if lattice_shift:
        templates["lattice_shift"] = _shift_component(templates["lattice"], _second(base))
    a, names = _design(base, templates, int(background_order))
    mu = lp * templates["lattice"].ravel() + bg
    for nm, c in (extra_peak_counts or {}).items():
        mu = mu + float(c) * templates[nm].ravel()
    mu = np.maximum(mu, MU_FLOOR)
    _, fisher = _solve(a, mu, 1.0 / mu)
    s = float(np.sqrt(np.linalg.inv(fisher)[names.index("oxidised"), names.index("oxidised")]))
    return (z_detect + float(norm.ppf(power))) * s, s


# --------------------------------------------------------------------------------------------- quick look
@dataclass(frozen=True)
class SPFYQuickLook:
    """sPFY cut and its naive feature contrast (counts summed over the emission window).

    Attributes
    ----------
    spectrum : Spectrum
        Summed counts of the emission window versus excitation (eV).
    contrast, contrast_sigma, significance : float
        Counts at the feature excitation minus the line through the two baseline excitations; its Poisson σ;
        their ratio.
    emission_energy, window : float
        Centre and full width (eV) of the emission window.
    """

    spectrum: Spectrum
    contrast: float
    contrast_sigma: float
    significance: float
    emission_energy: float
    window: float


def spfy_quick_look(data: RixsMap, emission_energy: float = SPFY_EMISSION, window: float = 0.4,
                    feature_excitation: float = FEATURE_EXCITATION,
                    baseline_excitations: tuple[float, float] = (529.8, 532.2)) -> SPFYQuickLook:
    """The sPFY quick look: counts summed over emission ``emission_energy ± window/2`` (absolute eV) at every
    excitation, and the contrast of the feature row over a straight baseline (module docstring).

    Pixel counts are summed (not integrated), so the Poisson σ of each point is √(sum).  For a map on a loss
    axis the window follows the constant emission energy across the rows.
    """
    if not isinstance(data, RixsMap):
        raise InputError(f"data must be a RixsMap; got {type(data).__name__}")
    e0 = validate.nonnegative(emission_energy, "emission_energy", "eV")
    w = validate.width(window, "window", allow_zero=False)
    y = validate.intensities(data.intensity, "data intensity")
    exc = data.excitation
    rows = []
    for i, x in enumerate(exc):
        emi = (x - data.loss) if data.on_loss_axis else data.emission
        sel = np.abs(emi - e0) <= 0.5 * w + 1e-9
        if not sel.any():
            raise InputError(f"the emission window {e0:g} ± {w / 2:g} eV holds no pixel at excitation {x:g} eV")
        rows.append(float(y[i, sel].sum()))
    counts = np.array(rows)

    def idx(e):
        if not exc[0] - 1e-9 <= e <= exc[-1] + 1e-9:
            raise InputError(f"excitation {e:g} eV is outside the map ({exc[0]:g}–{exc[-1]:g} eV)")
        return int(np.argmin(np.abs(exc - e)))
    i0, i1, i2 = idx(feature_excitation), idx(baseline_excitations[0]), idx(baseline_excitations[1])
    if not exc[i1] < exc[i0] < exc[i2]:
        raise InputError(f"baseline excitations {baseline_excitations} must bracket the feature at "
                         f"{feature_excitation:g} eV")
    t = (exc[i0] - exc[i1]) / (exc[i2] - exc[i1])
    contrast = counts[i0] - ((1 - t) * counts[i1] + t * counts[i2])
    var = counts[i0] + (1 - t) ** 2 * counts[i1] + t ** 2 * counts[i2]
    sig = float(np.sqrt(max(var, 1.0)))
    spec = Spectrum(exc, counts, label=f"sPFY {e0:g} ± {w / 2:g} eV", units="counts",
                    meta={"emission_energy": e0, "window": w})
    return SPFYQuickLook(spec, float(contrast), sig, float(contrast) / sig, e0, w)

"""Self-absorption correction: recover a resonant element's absorption from a fluorescence-yield spectrum.

Forward model (one detected line of effective energy :math:`E_F`, one homogeneous layer of thickness d —
the same physics as :mod:`rixsim.detection.channels`):

.. math::
    I(E) = C\\, f(\\mu_a(E)),\\qquad
    f(\\mu_a) = \\frac{\\mu_a}{\\mu_a + B}\\left[1 - e^{-(\\mu_a + B)\\,d/\\sin\\alpha}\\right],\\qquad
    B(E) = \\mu_b(E) + \\mu(E_F)\\,\\frac{\\sin\\alpha}{\\sin\\beta},

with :math:`\\mu_a` the resonant element's edge absorption (1/nm; white lines and edge step, the thing sought),
:math:`\\mu_b` everything else the layer absorbs at E (other elements, the element's own lower shells; Elam
et al., Radiat. Phys. Chem. 63, 121 (2002)), and :math:`\\mu(E_F)` the total attenuation at the emission
energy — which contains :math:`\\mu_a(E_F)` itself when the line sits on the edge (Mn Lα at 637 eV does),
so the solution is iterated to self-consistency.

* **Thick sample** (d = ∞): closed form :math:`\\mu_a = B\\,y/(1-y)` with :math:`y = I/C`.
* **Finite thickness**: f is monotonic in :math:`\\mu_a`, solved per energy by bracketing root search.
* The scale C comes from the post-edge, where :math:`\\mu_a` equals the tabulated edge jump; a constant
  pre-edge level (other emission leaking into the window) is subtracted first unless told otherwise.

Conditioning
------------
The relative error of the recovered :math:`\\mu_a` is the relative error of I times

.. math:: \\kappa(E) = \\left(\\frac{\\partial \\ln f}{\\partial \\ln \\mu_a}\\right)^{-1}
          \\;\\xrightarrow{d\\to\\infty}\\; \\frac{1}{1 - y} = 1 + \\frac{\\mu_a}{B},

which diverges when :math:`\\mu_a/(\\mu_a + B) \\to 1`: thick, concentrated samples seen with a small
sin α / sin β (grazing incidence, near-normal exit), where the yield saturates.  When the largest κ exceeds
``max_condition`` an :class:`IllConditionedWarning` is issued.  Grazing *exit* (large sin α / sin β) is the
well-conditioned direction.

Refusals
--------
The correction is for quick looks; the forward model (:mod:`rixsim.analysis.measured`) is the way to fit
saturated data.  Both corrections raise :class:`~rixsim.errors.InputError` instead of returning
infinities or absurd edge jumps when

* the post-edge window does not start at least ``min_post_edge_ev`` above the tabulated edge (the highest
  sub-edge, e.g. L2) — the scale C is fixed there on the assumption that μ_a equals the tabulated jump;
* the scaled data reach the model's saturation limit (f → 1 for one line, Σ w for several, as
  :math:`\\mu_a \\to \\infty`): no absorption reproduces them;
* the recovered absorption exceeds ``max_edge_jumps`` tabulated edge jumps — 3d L3 white lines reach
  ≲ 20 (Fe metal ≈ 8, see :data:`rixsim.detection.sample.DEFAULT_WHITE_LINE_PEAK_OVER_JUMP`); larger values
  come from data just below the saturation limit, where the inversion amplifies any error without bound.

Measured TFY of an oxide also holds the O Kα emission, whose intensity *falls* on the TM resonance; the
single-line model cannot remove it — correct a PFY (TM window) or use :func:`absorption_from_ipfy`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
from scipy.optimize import brentq

from rixsim import validate
from rixsim.detection.sample import (
    _EDGE_SHELLS,
    _PER_CM_TO_PER_NM,
    Geometry,
    Layer,
    _check_element,
    edge_background_cm2_g,
    element_mu_per_nm,
    layer_mu_per_nm,
    shell_photo_fraction,
)
from rixsim.errors import ConvergenceError, InputError
from rixsim.results import Spectrum

__all__ = ["IllConditionedWarning", "SelfAbsorptionResult", "fluorescence_model", "correct_self_absorption",
           "correct_self_absorption_window", "absorption_from_ipfy", "absorption_from_ipfy_angles", "background_mu_per_nm",
           "MAX_EDGE_JUMPS", "MIN_POST_EDGE_EV", "edge_mu_per_nm", "edge_jump_mu_per_nm", "condition_number"]


class IllConditionedWarning(UserWarning):
    """The self-absorption inversion amplifies errors in the measured yield by more than ``max_condition``."""


@dataclass(frozen=True)
class SelfAbsorptionResult:
    """Recovered absorption and the diagnostics of the inversion.

    Attributes
    ----------
    mu_edge : Spectrum
        The resonant element's edge absorption :math:`\\mu_a(E)` in 1/nm (white lines + edge step).
    normalised : Spectrum
        ``mu_edge`` divided by the tabulated edge jump (≈ 1 far above the edge), the usual XAS scale.
    condition : Spectrum
        κ(E): factor by which a relative error of the yield is amplified in :math:`\\mu_a`.
    max_condition : float
    scale : float
        The fitted C (measured units per unit f).
    iterations : int
        Self-consistency cycles for :math:`\\mu_a(E_F)`.
    """

    mu_edge: Spectrum
    normalised: Spectrum
    condition: Spectrum
    max_condition: float
    scale: float
    iterations: int
    meta: Mapping[str, Any] = field(default_factory=dict)


def _check_common(layer, geometry, element, edge):
    if not isinstance(layer, Layer):
        raise InputError(f"layer must be a rixsim.detection.sample.Layer; got {type(layer).__name__}")
    if not isinstance(geometry, Geometry):
        raise InputError(f"geometry must be a rixsim.detection.sample.Geometry; got {type(geometry).__name__}")
    _check_element(element)
    if element not in layer.composition:
        raise InputError(f"{element!r} is not in the layer's formula {layer.formula!r}")
    if edge not in _EDGE_SHELLS:
        raise InputError(f"edge {edge!r} is not supported; allowed are {sorted(_EDGE_SHELLS)}")


def edge_jump_mu_per_nm(layer: Layer, element: str, edge: str, energies) -> np.ndarray:
    """The tabulated edge jump of ``element`` in ``layer`` as linear absorption (1/nm): μ_a far above the edge."""
    _, jump = edge_background_cm2_g(element, edge, np.asarray(energies, dtype=float))
    return layer.density_g_cm3 * layer.mass_fractions[element] * _PER_CM_TO_PER_NM * jump


def edge_mu_per_nm(layer: Layer, element: str, edge: str, energies) -> np.ndarray:
    """μ_a(E): the part of the layer's attenuation due to ``element``'s ``edge`` (1/nm) — total minus
    :func:`background_mu_per_nm`; the quantity :func:`correct_self_absorption` recovers."""
    E = np.atleast_1d(np.asarray(energies, dtype=float))
    return layer_mu_per_nm(layer, E, "total") - background_mu_per_nm(layer, element, edge, E)


def background_mu_per_nm(layer: Layer, element: str, edge: str, energies) -> np.ndarray:
    """μ_b(E): total attenuation of the layer without the edge of ``element`` (1/nm).

    The element's own contribution is its extrapolated pre-edge photoabsorption plus its (tabulated)
    scattering; all other elements keep their own resonances.
    """
    E = np.atleast_1d(np.asarray(energies, dtype=float))
    rest = sum((element_mu_per_nm(layer, el, E, "total") for el in layer.composition if el != element),
               np.zeros_like(E))
    bare = Layer(layer.formula, layer.density_g_cm3, layer.thickness_nm,
                 tuple(r for r in layer.resonances if r.element != element))
    scatter = element_mu_per_nm(bare, element, E, "total") - element_mu_per_nm(bare, element, E, "photo")
    pre, _ = edge_background_cm2_g(element, edge, E)
    return rest + scatter + layer.density_g_cm3 * layer.mass_fractions[element] * _PER_CM_TO_PER_NM * pre


def fluorescence_model(mu_a, background, thickness_nm: float, sin_in: float) -> np.ndarray:
    """f(μ_a) of the module formula; ``background`` is B = μ_b + μ(E_F) sin α / sin β (1/nm)."""
    mu_a = np.asarray(mu_a, dtype=float)
    tot = mu_a + background
    sat = mu_a / tot
    if np.isinf(thickness_nm):
        return sat
    return sat * -np.expm1(-tot * thickness_nm / sin_in)


def condition_number(mu_a, background, thickness_nm: float, sin_in: float) -> np.ndarray:
    """κ = (∂ ln f / ∂ ln μ_a)⁻¹ of :func:`fluorescence_model` (1 in the thin/dilute limit)."""
    mu_a = np.asarray(mu_a, dtype=float)
    tot = mu_a + background
    dlog = background / tot  # from μ/(μ+B)
    if np.isfinite(thickness_nm):
        x = tot * thickness_nm / sin_in
        with np.errstate(over="ignore", invalid="ignore"):
            extra = np.where(x > 1e-12, mu_a * thickness_nm / sin_in * np.exp(-x) / -np.expm1(-x),
                             mu_a / np.maximum(tot, 1e-300))
        dlog = dlog + extra
    with np.errstate(divide="ignore"):
        return np.where(dlog > 0, 1.0 / dlog, np.inf)


def _invert(y, background, thickness_nm, sin_in):
    if np.isinf(thickness_nm):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y < 1.0, background * np.clip(y, 0.0, None) / (1.0 - y), np.inf)
    out = np.empty_like(y)
    for i, (yi, b) in enumerate(zip(y, background)):
        if yi <= 0:
            out[i] = 0.0
            continue
        fmax = 1.0 - 0.0  # f → 1 as μ_a → ∞
        if yi >= fmax:
            out[i] = np.inf
            continue
        hi = max(b, 1.0 / thickness_nm)
        while fluorescence_model(hi, b, thickness_nm, sin_in) < yi:
            hi *= 4.0
            if hi > 1e12:
                out[i] = np.inf
                break
        else:
            out[i] = brentq(lambda m: fluorescence_model(m, b, thickness_nm, sin_in) - yi, 0.0, hi,
                            xtol=1e-15, rtol=1e-13)
    return out


#: Default of ``max_edge_jumps`` (see the module notes, Refusals).
MAX_EDGE_JUMPS = 30.0
#: Default of ``min_post_edge_ev``: the post-edge window must start this far above the tabulated edge (eV).
MIN_POST_EDGE_EV = 10.0


def _check_post_edge(E, post_ev, element, edge, min_post_edge_ev):
    import xraydb
    top = max(xraydb.xray_edge(element, sh).energy for sh in _EDGE_SHELLS[edge])
    start = float(E[-1] - post_ev)
    if start < top + min_post_edge_ev:
        raise InputError(f"the post-edge window ({start:.2f}–{E[-1]:.2f} eV) starts {start - top:.1f} eV above the "
                         f"tabulated {element} {_EDGE_SHELLS[edge][-1]} edge ({top:.1f} eV); the correction scales "
                         f"the data to the tabulated edge jump there and needs >= {min_post_edge_ev:g} eV "
                         f"(measure further above the edge, reduce post_ev, or fit the forward model of "
                         f"rixsim.analysis.measured)")


def _refuse_unreachable(E, y, ymax, mu_a, jump, max_edge_jumps):
    """InputError where the scaled yield reaches the saturation limit or μ_a exceeds max_edge_jumps."""
    ymax = np.broadcast_to(np.asarray(ymax, dtype=float), y.shape)
    over = y >= ymax
    if over.any():
        i = int(np.argmax(np.where(over, y / ymax, -np.inf)))
        raise InputError(f"the data exceed the saturation limit of the self-absorption model at {int(over.sum())} "
                         f"energies (worst {E[i]:.2f} eV: scaled yield {y[i]:.4g}, limit {ymax[i]:.4g} for "
                         "infinite absorption): no μ_a reproduces them. The post-edge normalisation, the "
                         "layer (composition, density, thickness) or the geometry does not describe this sample; "
                         "fit the forward model of rixsim.analysis.measured instead")
    if max_edge_jumps is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            nrm = np.where(jump > 0, mu_a / jump, 0.0)
        bad = ~np.isfinite(mu_a) | (nrm > max_edge_jumps)
        if bad.any():
            i = int(np.argmax(np.where(np.isfinite(nrm), nrm, np.inf)))
            raise InputError(f"the corrected absorption reaches {nrm[i]:.4g} edge jumps at {E[i]:.2f} eV (limit "
                             f"max_edge_jumps = {max_edge_jumps:g}): the data sit at the saturation limit, where "
                             "the inversion amplifies any error without bound; use a thinner or more dilute "
                             "sample, grazing exit, iPFY, or the forward model of rixsim.analysis.measured")


def _result(E, mu_a, jump, kappa, kappa_max, scale, iterations, meta, how: str, ratio=None):
    """Warn where the inversion is ill-conditioned and wrap the corrected μ, its edge-jump normalisation and κ."""
    element, edge = meta["element"], meta["edge"]
    kmax = float(np.max(kappa))
    if kmax > kappa_max:
        i = int(np.argmax(kappa))
        share = "" if ratio is None else f"; μ_a/(μ_a+B) = {ratio[i]:.3f}"
        warnings.warn(f"self-absorption correction is ill-conditioned: κ = {kmax:.3g} at {E[i]:.2f} eV "
                      f"(a 1 % error in the yield becomes {kmax:.3g} % in μ){share}. Prefer a thinner or more "
                      f"dilute sample, larger sin α / sin β (grazing exit), or iPFY", IllConditionedWarning,
                      stacklevel=3)
    return SelfAbsorptionResult(
        mu_edge=Spectrum(E, mu_a, label=f"μ_{element} {edge} (self-absorption corrected{how})", units="1/nm",
                         meta=meta),
        normalised=Spectrum(E, mu_a / jump, label=f"{element} {edge}, edge jump = 1", units="edge jumps",
                            meta=meta),
        condition=Spectrum(E, kappa, label="condition number κ", units="1", meta=meta),
        max_condition=kmax, scale=scale, iterations=iterations, meta=meta)


def correct_self_absorption(measured: Spectrum, layer: Layer, geometry: Geometry, element: str,
                            emission_energy: float, *, edge: str = "L2,3", pre_ev: float = 3.0,
                            post_ev: float = 3.0, subtract_pre_edge: bool = True,
                            max_condition: float = 10.0, tol: float = 1e-10,
                            max_iter: int = 200, max_edge_jumps: float | None = MAX_EDGE_JUMPS,
                            min_post_edge_ev: float = MIN_POST_EDGE_EV) -> SelfAbsorptionResult:
    """Recover μ_a(E) of ``element`` from a fluorescence yield measured on ``layer`` in ``geometry``.

    Parameters
    ----------
    measured : Spectrum
        PFY (or TFY of a sample whose only emitter in the window is ``element``) on absolute incident
        energies (eV), covering ``pre_ev`` below and ``post_ev`` well above the edge (≥ 20 eV past the last
        white line, so that μ_a there is the tabulated jump).
    layer : Layer
        Composition, density and thickness (``math.inf`` = thick: closed form).  Its resonances of other
        elements are used; any resonance of ``element`` is ignored (it is what is sought).
    geometry : Geometry
    element, edge : str
        The resonant element and edge (``"L2,3"``, ``"K"``, ...).
    emission_energy : float
        Effective energy of the detected emission (eV), e.g. Mn Lα 637 eV.
    subtract_pre_edge : bool
        Subtract the mean of the first ``pre_ev`` as a constant background (emission of other elements
        leaking into the window, detector offset).  Set False for a yield with no such background whose
        pre-edge holds the tail of the edge itself.
    max_condition : float
        Warn (:class:`IllConditionedWarning`) when κ exceeds this anywhere.
    tol, max_iter
        Self-consistency of μ_a(E_F) (relative change).
    max_edge_jumps : float or None
        Refuse a result above this many tabulated edge jumps (module notes, Refusals); None: no limit.
    min_post_edge_ev : float
        The post-edge window must start this far above the tabulated edge (eV).

    Raises
    ------
    InputError
        Bad arguments; a post-edge with no signal or too close to the edge; data above the saturation limit
        or a result above ``max_edge_jumps`` (module notes, Refusals).
    ConvergenceError
        When the self-consistency for μ_a(E_F) does not converge.
    """
    _check_common(layer, geometry, element, edge)
    if not isinstance(measured, Spectrum):
        raise InputError(f"measured must be a Spectrum; got {type(measured).__name__}")
    E = validate.energy_axis(measured.energy, "measured energy", min_points=8)
    I = validate.intensities(measured.intensity, "measured intensity", allow_negative=True)
    ef = float(emission_energy)
    if not np.isfinite(ef) or ef <= 0:
        raise InputError(f"emission_energy must be a positive energy in eV; got {emission_energy!r}")
    kappa_max = validate.width(max_condition, "max_condition", allow_zero=False)
    d, sa = layer.thickness_nm, geometry.sin_in
    g = geometry.path_ratio

    pre_sel, post_sel = E <= E[0] + pre_ev, E >= E[-1] - post_ev
    if pre_sel.sum() < 1 or post_sel.sum() < 1:
        raise InputError("measured spectrum needs points in its first pre_ev and last post_ev eV")
    _check_post_edge(E, post_ev, element, edge, validate.nonnegative(min_post_edge_ev, "min_post_edge_ev", "eV"))
    signal = I - I[pre_sel].mean() if subtract_pre_edge else I.copy()
    mu_b = background_mu_per_nm(layer, element, edge, E)
    mu_b_f = float(background_mu_per_nm(layer, element, edge, [ef])[0])
    jump = edge_jump_mu_per_nm(layer, element, edge, E)
    if np.mean(signal[post_sel]) <= 0:
        raise InputError("the measured yield has no edge step (post-edge not above pre-edge)")

    mu_a_f, mu_a = 0.0, np.zeros_like(E)
    for it in range(1, max_iter + 1):
        B = mu_b + g * (mu_b_f + mu_a_f)
        f_post = fluorescence_model(jump[post_sel], B[post_sel], d, sa)
        scale = float(np.mean(signal[post_sel]) / np.mean(f_post))
        mu_a = _invert(signal / scale, B, d, sa)
        if E[0] <= ef <= E[-1]:
            finite = np.isfinite(mu_a)
            new = float(np.interp(ef, E[finite], mu_a[finite])) if finite.any() else 0.0
        elif ef > E[-1]:
            new = float(edge_jump_mu_per_nm(layer, element, edge, [ef])[0])
        else:
            new = 0.0
        if abs(new - mu_a_f) <= tol * max(abs(new), 1e-30):
            mu_a_f = new
            break
        mu_a_f = new
    else:
        raise ConvergenceError(f"μ_a at the emission energy {ef:g} eV did not converge in {max_iter} "
                               f"iterations (last {mu_a_f:.4g} 1/nm); the line sits too deep in the edge")
    _refuse_unreachable(E, signal / scale, 1.0, mu_a, jump, max_edge_jumps)
    B = mu_b + g * (mu_b_f + mu_a_f)
    kappa = condition_number(np.where(np.isfinite(mu_a), mu_a, 0.0), B, d, sa)
    kappa = np.where(np.isfinite(mu_a), kappa, np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.nan_to_num(mu_a / (mu_a + B), nan=1.0)
    meta = {"element": element, "edge": edge, "emission_energy": ef, "thickness_nm": d,
            "incidence_deg": geometry.incidence_deg, "exit_deg": geometry.exit_deg}
    return _result(E, mu_a, jump, kappa, kappa_max, scale, it, meta, "", ratio)


def absorption_from_ipfy(ipfy: Spectrum, layer: Layer, geometry: Geometry, element: str,
                         nonresonant_element: str = "O", emission_energy: float = 524.9, *,
                         edge: str = "L2,3", nonresonant_shell: str = "K", pre_ev: float = 3.0) -> SelfAbsorptionResult:
    """μ_a(E) from iPFY of a thick sample (Achkar et al., Sci. Rep. 1, 182 (2011)).

    .. math:: \\mu(E) = K\\,\\mathrm{iPFY}(E)\\,\\mu_{\\mathrm{nr},s}(E) - \\mu(E_F)\\,\\sin\\alpha/\\sin\\beta,
              \\qquad \\mu_a = \\mu - \\mu_b,

    where :math:`\\mu_{\\mathrm{nr},s}` is the non-resonant element's shell photoabsorption (slowly varying;
    dividing it out removes iPFY's residual slope) and K is fixed by the tabulated μ in the pre-edge.
    No saturation enters; the condition number is 1 by construction (reported as such).
    """
    _check_common(layer, geometry, element, edge)
    _check_element(nonresonant_element)
    if nonresonant_element not in layer.composition:
        raise InputError(f"{nonresonant_element!r} is not in {layer.formula!r}")
    if not isinstance(ipfy, Spectrum):
        raise InputError(f"ipfy must be a Spectrum; got {type(ipfy).__name__}")
    E = validate.energy_axis(ipfy.energy, "ipfy energy", min_points=4)
    y = validate.intensities(ipfy.intensity, "ipfy intensity")
    if (y <= 0).any():
        raise InputError("iPFY must be > 0 everywhere")
    g = geometry.path_ratio
    mu_f = float(layer_mu_per_nm(layer, [float(emission_energy)], "total")[0])
    nr = (element_mu_per_nm(layer, nonresonant_element, E, "photo")
          * shell_photo_fraction(layer, nonresonant_element, nonresonant_shell, E))
    mu_b = background_mu_per_nm(layer, element, edge, E)
    pre = E <= E[0] + pre_ev
    K = float(np.mean((mu_b[pre] + g * mu_f) / (y[pre] * nr[pre])))
    mu_a = K * y * nr - g * mu_f - mu_b
    jump = edge_jump_mu_per_nm(layer, element, edge, E)
    meta = {"element": element, "edge": edge, "nonresonant_element": nonresonant_element,
            "emission_energy": float(emission_energy)}
    return SelfAbsorptionResult(
        mu_edge=Spectrum(E, mu_a, label=f"μ_{element} {edge} from iPFY", units="1/nm", meta=meta),
        normalised=Spectrum(E, mu_a / jump, label=f"{element} {edge} from iPFY, edge jump = 1",
                            units="edge jumps", meta=meta),
        condition=Spectrum(E, np.ones_like(E), label="condition number κ", units="1", meta=meta),
        max_condition=1.0, scale=K, iterations=0, meta=meta)


def absorption_from_ipfy_angles(ipfy_1: Spectrum, geometry_1: Geometry, ipfy_2: Spectrum, geometry_2: Geometry,
                                layer: Layer, element: str, emission_energy: float = 524.9, *,
                                edge: str = "L2,3", max_condition: float = 10.0) -> SelfAbsorptionResult:
    """Absolute μ(E) from iPFY measured in two geometries (Achkar et al., Sci. Rep. 1, 182 (2011)).

    For a thick sample :math:`I_i = K\\,\\mu_{\\mathrm{nr}}(E)/(\\mu(E) + \\mu(E_F)\\,g_i)` with
    :math:`g_i = \\sin\\alpha_i/\\sin\\beta_i`, the same K (same detector, I0-normalised).  Two geometries
    eliminate K and the non-resonant absorption :math:`\\mu_{\\mathrm{nr}}(E)`:

    .. math:: \\frac{\\mu(E)}{\\mu(E_F)} = \\frac{g_1 I_1 - g_2 I_2}{I_2 - I_1},

    so μ comes in units of μ at the emission energy — taken here from the tables (O Kα at 524.9 eV lies
    below the O K pre-edge, where the atomic table holds) — with no fitted parameter.  μ_edge is this
    minus :func:`background_mu_per_nm`.  κ(E) is the amplification of relative errors of I₁ and I₂ (summed);
    it grows as g₁ → g₂ and where μ(E) ≫ μ(E_F) g (both yields then tend to K μ_nr/μ), so choose the two
    geometries far apart (e.g. grazing exit and grazing incidence).  ``ipfy_1``/``ipfy_2`` are I0/I on the same energies.
    """
    _check_common(layer, geometry_1, element, edge)
    if not isinstance(geometry_2, Geometry):
        raise InputError(f"geometry_2 must be a rixsim.detection.sample.Geometry; got {type(geometry_2).__name__}")
    for name, sp in (("ipfy_1", ipfy_1), ("ipfy_2", ipfy_2)):
        if not isinstance(sp, Spectrum):
            raise InputError(f"{name} must be a Spectrum; got {type(sp).__name__}")
    E = validate.energy_axis(ipfy_1.energy, "ipfy_1 energy", min_points=2)
    if ipfy_2.energy.shape != E.shape or not np.allclose(ipfy_2.energy, E):
        raise InputError("ipfy_1 and ipfy_2 must share their energy axis")
    y1 = validate.intensities(ipfy_1.intensity, "ipfy_1 intensity")
    y2 = validate.intensities(ipfy_2.intensity, "ipfy_2 intensity")
    if (y1 <= 0).any() or (y2 <= 0).any():
        raise InputError("iPFY must be > 0 everywhere")
    g1, g2 = geometry_1.path_ratio, geometry_2.path_ratio
    if abs(g1 - g2) < 1e-6 * max(g1, g2):
        raise InputError(f"the two geometries have the same sin α / sin β = {g1:.6g}; the angle method needs "
                         "different ones")
    i1, i2 = 1.0 / y1, 1.0 / y2
    num, den = g1 * i1 - g2 * i2, i2 - i1
    mu_f = float(layer_mu_per_nm(layer, [float(emission_energy)], "total")[0])
    mu_tot = mu_f * num / den
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.abs(g1 * i1 / num + i1 / den) + np.abs(g2 * i2 / num + i2 / den)
    kmax = float(np.max(kappa))
    if kmax > max_condition:
        i = int(np.argmax(kappa))
        warnings.warn(f"two-angle iPFY inversion is ill-conditioned: κ = {kmax:.3g} at {E[i]:.2f} eV "
                      f"(sin α/sin β = {g1:.3g} and {g2:.3g}); use geometries further apart",
                      IllConditionedWarning, stacklevel=2)
    mu_a = mu_tot - background_mu_per_nm(layer, element, edge, E)
    jump = edge_jump_mu_per_nm(layer, element, edge, E)
    meta = {"element": element, "edge": edge, "emission_energy": float(emission_energy),
            "mu_total_per_nm": mu_tot, "path_ratios": (g1, g2)}
    return SelfAbsorptionResult(
        mu_edge=Spectrum(E, mu_a, label=f"μ_{element} {edge} from two-angle iPFY", units="1/nm", meta=meta),
        normalised=Spectrum(E, mu_a / jump, label=f"{element} {edge} from two-angle iPFY, edge jump = 1",
                            units="edge jumps", meta=meta),
        condition=Spectrum(E, kappa, label="condition number κ", units="1", meta=meta),
        max_condition=kmax, scale=mu_f, iterations=0, meta=meta)


def correct_self_absorption_window(measured: Spectrum, layer: Layer, geometry: Geometry, element: str,
                                   window, *, edge: str = "L2,3", pre_ev: float = 3.0, post_ev: float = 3.0,
                                   subtract_pre_edge: bool = True, max_condition: float = 10.0,
                                   tol: float = 1e-10, max_iter: int = 200,
                                   max_edge_jumps: float | None = MAX_EDGE_JUMPS,
                                   min_post_edge_ev: float = MIN_POST_EDGE_EV) -> SelfAbsorptionResult:
    """Like :func:`correct_self_absorption`, for a partial yield holding several lines of ``element``.

    Every tabulated line of ``element`` whose energy lies in ``window = (low, high)`` (eV) enters with its
    own yield, its own emission energy (its own self-absorption) and the core holes it comes from:

    .. math:: f(\\mu_a; E) = \\sum_\\ell w_\\ell(E)\\,\\frac{\\mu_a}{\\mu_a + B_\\ell}
              \\left[1 - e^{-(\\mu_a + B_\\ell)\\,d/\\sin\\alpha}\\right],\\qquad
              B_\\ell = \\mu_b(E) + \\mu(E_\\ell)\\,\\frac{\\sin\\alpha}{\\sin\\beta},

    with :math:`w_\\ell = \\omega_s b_\\ell h_s(E)`, :math:`h_s` the holes per absorption in shell s after
    Coster–Kronig transfer (:func:`rixsim.detection.channels.hole_populations`).  The L3/L2 share of each energy's
    absorption is read from the measured spectrum itself (white lines below its L3/L2 minimum are L3, an
    edge step is shared 2:1, as :meth:`rixsim.detection.sample.ResonantEdge.normalised_by_shell` does for data), and
    :math:`\\mu_a(E_\\ell)` is iterated to self-consistency.  Lines are taken as wholly inside the window.
    For a Mn PFY window (Lα 636.7, Lβ 647.9 eV) this removes the L3-vs-L2 yield error that the single-line
    correction leaves.  It refuses unreachable data as :func:`correct_self_absorption` does (``max_edge_jumps``,
    ``min_post_edge_ev``).
    """
    from rixsim.detection.channels import _ck, _window, emission_lines
    from rixsim.detection.sample import ResonantEdge

    _check_common(layer, geometry, element, edge)
    if not isinstance(measured, Spectrum):
        raise InputError(f"measured must be a Spectrum; got {type(measured).__name__}")
    lo, hi = _window(window, "window")
    E = validate.energy_axis(measured.energy, "measured energy", min_points=8)
    I = validate.intensities(measured.intensity, "measured intensity", allow_negative=True)
    kappa_max = validate.width(max_condition, "max_condition", allow_zero=False)
    lines = [ln for ln in emission_lines(element) if lo <= ln.energy <= hi and ln.shell in _EDGE_SHELLS[edge]]
    if not lines:
        raise InputError(f"no tabulated {element} line of the {edge} edge lies in the window ({lo:g}, {hi:g}) eV")
    d, sa, g = layer.thickness_nm, geometry.sin_in, geometry.path_ratio
    pre_sel, post_sel = E <= E[0] + pre_ev, E >= E[-1] - post_ev
    _check_post_edge(E, post_ev, element, edge, validate.nonnegative(min_post_edge_ev, "min_post_edge_ev", "eV"))
    signal = I - I[pre_sel].mean() if subtract_pre_edge else I.copy()
    if np.mean(signal[post_sel]) <= 0:
        raise InputError("the measured yield has no edge step (post-edge not above pre-edge)")
    mu_b = background_mu_per_nm(layer, element, edge, E)
    jump = edge_jump_mu_per_nm(layer, element, edge, E)
    e_lines = np.array([ln.energy for ln in lines])
    mu_b_lines = background_mu_per_nm(layer, element, edge, e_lines)

    # shell shares of the edge absorption, from the measured shape
    shares = ResonantEdge(element, edge, Spectrum(E, I), norm_window_ev=min(pre_ev, post_ev)).normalised_by_shell(E)
    total = sum(shares.values())
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = {s: np.where(total > 0, np.clip(v, 0.0, None) / total, 1.0 / len(shares)) for s, v in shares.items()}
    holes = dict(rho)
    if "L2" in rho and "L3" in rho:
        holes["L3"] = rho["L3"] + _ck(element)["L2", "L3"] * rho["L2"]
    w = np.array([ln.yield_per_hole * holes.get(ln.shell, 0.0 * E) for ln in lines])   # (n_lines, n_E)

    def model(mu, B, wk):
        tot = mu + B
        sat = mu / tot
        if np.isfinite(d):
            sat = sat * -np.expm1(-tot * d / sa)
        return float(np.sum(wk * sat))

    mu_a_lines = np.zeros(len(lines))
    mu_a = np.zeros_like(E)
    for it in range(1, max_iter + 1):
        B = mu_b[None, :] + g * (mu_b_lines + mu_a_lines)[:, None]               # (n_lines, n_E)
        f_post = np.array([model(jump[i], B[:, i], w[:, i]) for i in np.flatnonzero(post_sel)])
        scale = float(np.mean(signal[post_sel]) / np.mean(f_post))
        y = signal / scale
        for i in range(E.size):
            if y[i] <= 0:
                mu_a[i] = 0.0
                continue
            if y[i] >= np.sum(w[:, i]):          # f → Σ w as μ_a → ∞
                mu_a[i] = np.inf
                continue
            top = max(float(B[:, i].max()), 1.0 / d if np.isfinite(d) else 0.0, 1e-12)
            while model(top, B[:, i], w[:, i]) < y[i]:
                top *= 4.0
            mu_a[i] = brentq(lambda m: model(m, B[:, i], w[:, i]) - y[i], 0.0, top, xtol=1e-15, rtol=1e-13)
        finite = np.isfinite(mu_a)
        new = np.where(e_lines > E[-1], edge_jump_mu_per_nm(layer, element, edge, e_lines),
                       np.interp(e_lines, E[finite], mu_a[finite], left=0.0))
        if np.all(np.abs(new - mu_a_lines) <= tol * np.maximum(np.abs(new), 1e-30)):
            mu_a_lines = new
            break
        mu_a_lines = new
    else:
        raise ConvergenceError(f"μ_a at the emission lines {e_lines} eV did not converge in {max_iter} iterations")
    _refuse_unreachable(E, y, np.sum(w, axis=0), mu_a, jump, max_edge_jumps)
    B = mu_b[None, :] + g * (mu_b_lines + mu_a_lines)[:, None]
    kappa = np.full(E.shape, np.inf)
    for i in range(E.size):
        m = mu_a[i]
        if not np.isfinite(m):
            continue
        if m <= 0:
            kappa[i] = 1.0
            continue
        h = 1e-6 * m
        dlog = (np.log(model(m + h, B[:, i], w[:, i])) - np.log(model(m - h, B[:, i], w[:, i]))) / (
            np.log(m + h) - np.log(m - h))
        kappa[i] = 1.0 / dlog if dlog > 0 else np.inf
    meta = {"element": element, "edge": edge, "window_ev": (lo, hi), "lines": [ln.name for ln in lines],
            "thickness_nm": d, "incidence_deg": geometry.incidence_deg, "exit_deg": geometry.exit_deg}
    return _result(E, mu_a, jump, kappa, kappa_max, scale, it, meta, ", window")

"""Continuum edge steps and polynomial backgrounds of measured L2,3 spectra (pure functions).

A measured 2p absorption holds, besides the bound 2p → 3d white lines a cluster model computes, the
2p → continuum (εs, εd) absorption: a step at each spin–orbit edge.  Its usual model (e.g. Chen et al.,
PRL 75, 152 (1995), for the XMCD sum rules) is two steps at the L3 and L2 edges whose heights are in the
statistical 2:1 ratio of the 2p₃/₂ and 2p₁/₂ occupations,

.. math::
    S(E) = \\frac{r}{1 + r}\\, s\\!\\left(\\frac{E - E_{L_3}}{w}\\right)
         + \\frac{1}{1 + r}\\, s\\!\\left(\\frac{E - E_{L_2}}{w}\\right), \\qquad r = 2,

of total height 1 far above both edges, with the unit step :math:`s` either

* ``"arctan"``: :math:`s = \\tfrac12 + \\tfrac1\\pi \\arctan(2x)`, whose derivative is a Lorentzian of FWHM
  :math:`w` (it reaches 1 only slowly: 0.94 at 5 w), or
* ``"erf"``: :math:`s = \\tfrac12[1 + \\mathrm{erf}(x\\, 2\\sqrt{\\ln 2})]`, an integrated Gaussian of FWHM
  :math:`w` (1 within a few w).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

from rixsim import validate
from rixsim.errors import InputError

__all__ = ["STEP_SHAPES", "unit_step", "edge_steps", "polynomial_background"]

#: The step shapes :func:`unit_step` knows.
STEP_SHAPES = ("arctan", "erf")
_SQRT_4LN2 = 2.0 * math.sqrt(math.log(2.0))


def unit_step(energies, centre: float, fwhm: float, shape: str = "arctan") -> np.ndarray:
    """A step from 0 to 1 at ``centre`` (eV) whose derivative has FWHM ``fwhm`` (eV); see the module notes."""
    if shape not in STEP_SHAPES:
        raise InputError(f"step shape must be one of {STEP_SHAPES}; got {shape!r}")
    w = validate.width(fwhm, "step fwhm", allow_zero=False)
    x = (np.asarray(energies, dtype=float) - float(centre)) / w
    if shape == "arctan":
        return 0.5 + np.arctan(2.0 * x) / math.pi
    return 0.5 * (1.0 + erf(_SQRT_4LN2 * x))


def edge_steps(energies, l3: float, l2: float, fwhm: float, *, ratio: float = 2.0, height: float = 1.0,
               shape: str = "arctan") -> dict:
    """The L3 and L2 continuum steps of total height ``height`` (module formula).

    Parameters
    ----------
    energies : array_like
        Photon energies (eV).
    l3, l2 : float
        Step positions (eV).
    fwhm : float
        Width of both steps (eV, FWHM of their derivative).
    ratio : float
        L3 : L2 height ratio, > 0 (2 = statistical).
    height : float
        Total height far above both edges, ≥ 0.
    shape : {"arctan", "erf"}

    Returns
    -------
    dict
        ``{"L3": array, "L2": array}``; their sum is the whole step.
    """
    r = float(ratio)
    if not math.isfinite(r) or r <= 0:
        raise InputError(f"step ratio (L3 : L2 height) must be finite and > 0; got {ratio!r}")
    h = validate.nonnegative(height, "step height", "")
    return {"L3": h * r / (1.0 + r) * unit_step(energies, l3, fwhm, shape),
            "L2": h / (1.0 + r) * unit_step(energies, l2, fwhm, shape)}


def polynomial_background(energies, coefficients, centre: float, half_span: float) -> np.ndarray:
    """:math:`\\sum_k c_k\\, u^k` with :math:`u = (E - E_c)/h` (dimensionless, in [−1, 1] on the data range
    when ``centre`` and ``half_span`` are its middle and half width), so that every coefficient is in the
    data's intensity units and the coefficients are well conditioned."""
    if not float(half_span) > 0:
        raise InputError(f"half_span must be > 0 eV; got {half_span!r}")
    u = (np.asarray(energies, dtype=float) - float(centre)) / float(half_span)
    out = np.zeros_like(u)
    for c in reversed(list(coefficients)):
        out = out * u + float(c)
    return out

"""The ion-solvation-shell example of the seed review (section 3.2, Fig. 3): water O-K at 534.2 eV with
weaker or stronger vibrational coupling — RIXS changes while the sXAS barely does."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from rixsim import validate
from rixsim.errors import InputError
from rixsim.oxygen.potentials import SolvationShellParameters, _positive
from rixsim.oxygen.vibronic import vibronic_rixs_spectrum, vibronic_xas

__all__ = ["SolvationComparison", "solvation_shell_comparison"]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------------------
# Solvation-shell recipe (seed §3.2)
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SolvationComparison:
    """RIXS and XAS figures of merit versus the core-excited Huang–Rhys factor (seed §3.2, Fig. 3).

    Attributes
    ----------
    huang_rhys : ndarray
    elastic_fraction : ndarray
        Elastic part / total of the broadened RIXS spectrum at ``excitation_energy`` (integrated over emission).
    rixs_integral : ndarray
        Emission-integrated RIXS at ``excitation_energy`` (equals the XAS there, by the sum rule).
    xas_first_moment, xas_fwhm : ndarray
        First moment (eV) and full width at half maximum (eV) of the XAS band.
    rixs_shape_change, xas_shape_change : ndarray
        Total-variation distance :math:`\\tfrac12\\int|\\hat y_k - \\hat y_0|` between the area-normalised
        spectrum of entry k and that of entry 0 (0: identical line shape, 1: disjoint).
    excitation_energy : float
    """

    huang_rhys: np.ndarray
    elastic_fraction: np.ndarray
    rixs_integral: np.ndarray
    xas_first_moment: np.ndarray
    xas_fwhm: np.ndarray
    rixs_shape_change: np.ndarray
    xas_shape_change: np.ndarray
    excitation_energy: float
    meta: Mapping[str, Any] = field(default_factory=dict)


def _fwhm_of(x: np.ndarray, y: np.ndarray) -> float:
    k = int(np.argmax(y))
    half = 0.5 * y[k]
    left = np.flatnonzero(y[:k] < half)
    right = np.flatnonzero(y[k:] < half)
    if left.size == 0 or right.size == 0:
        return float("nan")
    i, j = left[-1], k + right[0]
    xl = np.interp(half, [y[i], y[i + 1]], [x[i], x[i + 1]])
    xr = np.interp(half, [y[j], y[j - 1]], [x[j], x[j - 1]])
    return float(xr - xl)


def solvation_shell_comparison(huang_rhys_values, params: SolvationShellParameters | None = None,
                               excitation_energy: float | None = None, energies=None,
                               emission=None) -> SolvationComparison:
    """Elastic fraction of RIXS and XAS first moment / FWHM for several core-excited Huang–Rhys factors.

    The seed's point (§3.2): weaker vibrational coupling in the ion-solvation shell moves RIXS weight to the
    elastic line (elastic fraction rises) while the sXAS barely changes (first moment fixed at the vertical
    energy; width dominated by the inhomogeneous spread), and the emission-integrated RIXS stays ≈ the XAS.

    Parameters
    ----------
    huang_rhys_values : sequence of float (>= 0)
    params : SolvationShellParameters, optional (defaults)
    excitation_energy : float, optional
        eV; default ``params.excitation_energy`` (534.2 eV).
    energies, emission : array_like, optional
        XAS axis (default vertical ± 6 eV) and emission axis (default excitation − 6 eV … + 1.5 eV).
    """
    params = params or SolvationShellParameters()
    g = np.asarray(huang_rhys_values, dtype=float).reshape(-1)
    if g.size == 0 or not np.all(np.isfinite(g)) or np.any(g < 0):
        raise InputError(f"huang_rhys_values must be finite and >= 0; got {huang_rhys_values!r}")
    w = params.excitation_energy if excitation_energy is None else _positive(excitation_energy, "excitation_energy")
    e = (validate.energy_axis(energies, "energies", 3) if energies is not None
         else np.linspace(params.excitation_energy - 6.0, params.excitation_energy + 6.0, 1201))
    emi = (validate.energy_axis(emission, "emission", 2) if emission is not None
           else np.linspace(w - 6.0, w + 1.5, 1501))
    ef, integ, m1, fw, rixs_norm, xas_norm = [], [], [], [], [], []
    for gi in g:   # a handful of parameter values, not vibrational states
        p = replace(params, huang_rhys=float(gi))
        spec = vibronic_rixs_spectrum(p, w, emi)
        tot = np.trapezoid(spec.intensity, emi)
        ef.append(np.trapezoid(spec.meta["elastic"], emi) / tot)
        integ.append(tot)
        rixs_norm.append(spec.intensity / tot)
        xas = vibronic_xas(p, e)
        area = np.trapezoid(xas.intensity, e)
        m1.append(np.trapezoid(xas.intensity * e, e) / area)
        fw.append(_fwhm_of(e, xas.intensity))
        xas_norm.append(xas.intensity / area)
    rixs_tv = 0.5 * np.trapezoid(np.abs(np.array(rixs_norm) - rixs_norm[0]), emi, axis=1)
    xas_tv = 0.5 * np.trapezoid(np.abs(np.array(xas_norm) - xas_norm[0]), e, axis=1)
    return SolvationComparison(g, np.array(ef), np.array(integ), np.array(m1), np.array(fw), rixs_tv, xas_tv,
                               float(w), meta={"params": params})

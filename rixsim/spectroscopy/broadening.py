"""Line shapes and broadening.

Every width here is a full width at half maximum (FWHM, eV) unless the name says ``hwhm``.  Line shapes are
normalised to unit area, so a broadened stick spectrum keeps the sum of its stick weights as its integral.
"""
from __future__ import annotations

import numpy as np
from scipy.special import voigt_profile

from rixsim import memory, validate

_FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def lorentzian(x, center, fwhm):
    """Unit-area Lorentzian: :math:`L(x) = \\frac{1}{\\pi}\\frac{w/2}{(x-x_0)^2 + (w/2)^2}`, ``w`` = FWHM."""
    hw = 0.5 * np.asarray(fwhm, dtype=float)
    return hw / np.pi / ((np.asarray(x, dtype=float) - center) ** 2 + hw**2)


def gaussian(x, center, fwhm):
    """Unit-area Gaussian with full width at half maximum ``fwhm``."""
    sigma = np.asarray(fwhm, dtype=float) / _FWHM_PER_SIGMA
    return np.exp(-0.5 * ((np.asarray(x, dtype=float) - center) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def voigt(x, center, lorentz_fwhm, gauss_fwhm):
    """Unit-area Voigt profile from a Lorentzian FWHM and a Gaussian FWHM (either may be zero, not both)."""
    return voigt_profile(np.asarray(x, dtype=float) - center,
                         np.asarray(gauss_fwhm, dtype=float) / _FWHM_PER_SIGMA,
                         0.5 * np.asarray(lorentz_fwhm, dtype=float))


def stick_matrix(axis, positions, lorentz_fwhm, gauss_fwhm: float = 0.0) -> np.ndarray:
    """Matrix ``B[k, j]`` = unit-area Voigt of stick ``k`` (position, Lorentzian FWHM) at ``axis[j]``.

    A broadened spectrum of sticks with weights ``w`` is then ``w @ B`` — a matrix product, so many spectra
    sharing the same sticks cost one GEMM.  ``lorentz_fwhm`` may be a scalar or one width per stick.
    """
    axis = np.asarray(axis, dtype=float)
    positions = np.asarray(positions, dtype=float)
    lw = np.broadcast_to(np.asarray(lorentz_fwhm, dtype=float), positions.shape)
    if gauss_fwhm == 0.0:
        if np.any(lw == 0):
            raise validate.InputError("a stick needs a Lorentzian or a Gaussian width > 0")
        return lorentzian(axis[None, :], positions[:, None], lw[:, None])
    return voigt(axis[None, :], positions[:, None], lw[:, None], gauss_fwhm)


def broaden_sticks(axis, positions, weights, lorentz_fwhm, gauss_fwhm: float = 0.0,
                   chunk: int = 4096, memory_gb: float | None = None) -> np.ndarray:
    """Sum of unit-area Voigt lines ``weights[k]`` at ``positions[k]`` evaluated on ``axis``.

    ``weights`` may be 1-D (one spectrum) or 2-D ``(n_spectra, n_sticks)``.  Work is chunked over sticks so
    memory stays at ``chunk × len(axis)`` floats; on a long axis the chunk shrinks to the working set of
    :mod:`rixsim.memory`, and a result larger than ``memory_gb`` (default: the available memory) is refused
    before anything is allocated.
    """
    weights = np.asarray(weights)
    positions = np.asarray(positions, dtype=float)
    lw = np.broadcast_to(np.asarray(lorentz_fwhm, dtype=float), positions.shape)
    out_shape = weights.shape[:-1] + (np.size(axis),)
    if 32 * min(chunk, positions.size) * np.size(axis) > memory.WORKING_SET_BYTES or memory_gb is not None:
        what = f"broadening {positions.size} lines on {np.size(axis)} energies"
        memory.plan(8 * int(np.prod(out_shape)) + 32 * np.size(axis), what, memory_gb)
        chunk = memory.chunk_size(32 * np.size(axis), min(chunk, max(positions.size, 1)), what, memory_gb,
                                  fixed_bytes=8 * int(np.prod(out_shape)))
    out = np.zeros(out_shape, dtype=np.result_type(weights.dtype, float))
    for start in range(0, positions.size, chunk):
        sl = slice(start, start + chunk)
        out += weights[..., sl] @ stick_matrix(axis, positions[sl], lw[sl], gauss_fwhm)
    return out


def gauss_hermite_shifts(gauss_fwhm: float, n: int = 48) -> tuple:
    """Shifts (eV) and weights of an ``n``-point Gauss–Hermite rule for a unit-area Gaussian of FWHM
    ``gauss_fwhm``: Σ_k w_k f(E + s_k) ≈ (f ∗ G)(E), exact for polynomials of degree < 2n.  One shift of
    weight 1 for ``gauss_fwhm = 0``.  Used where a spectrum is a resolvent evaluated at shifted energies
    (Lanczos continued fractions), which cannot be convolved afterwards on its own grid."""
    if gauss_fwhm <= 0:
        return np.zeros(1), np.ones(1)
    x, w = np.polynomial.hermite.hermgauss(n)
    sigma = gauss_fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    return np.sqrt(2.0) * sigma * x, w / np.sqrt(np.pi)


def gaussian_convolve(axis, values, fwhm: float) -> np.ndarray:
    """Convolve ``values`` sampled on a strictly increasing ``axis`` with a unit-area Gaussian of ``fwhm``.

    On a non-uniform axis the convolution is the exact discrete integral with trapezoid weights, so the area is
    kept (up to the truncation at the ends of the axis).  Works along the last axis of ``values``.
    """
    fwhm = validate.width(fwhm, "gauss_fwhm")
    values = np.asarray(values, dtype=float)
    if fwhm == 0.0:
        return values.copy()
    axis = np.asarray(axis, dtype=float)
    memory.plan(3 * 8 * axis.size**2, f"a Gaussian convolution on {axis.size} points ({axis.size}² kernel)")
    dx = np.empty_like(axis)
    dx[1:-1] = 0.5 * (axis[2:] - axis[:-2])
    dx[0] = 0.5 * (axis[1] - axis[0]) if axis.size > 1 else 1.0
    dx[-1] = 0.5 * (axis[-1] - axis[-2]) if axis.size > 1 else 1.0
    kernel = gaussian(axis[:, None], axis[None, :], fwhm) * dx[:, None]   # [source, target]
    return values @ kernel

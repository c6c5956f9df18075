"""Map preprocessing as done at the beamline: monitor division, background subtraction, the pixel → emission
energy calibration from the elastic line, count-conserving regridding, and ROI channels with Poisson errors.

Uncertainties
    Every function carries a one-standard-deviation ``sigma`` through.  A map without ``sigma`` is taken to
    hold raw Poisson counts (variance = counts); give a ``sigma`` when that is not so.  Errors are
    propagated to first order (the delta method) and correlations between pixels are not stored, so divide
    by the monitor *after* summing a region of interest: the ROI functions take ``monitor=`` for that and
    propagate the monitor's error once per excitation point instead of once per pixel.

Channels from a measured map (rows = excitation)
    TFY: the sum over the whole detector; PFY: the sum over an emission window; sPFY: the sum over a narrow
    emission slice; ccPFY: the sum over the window of a core-to-core line; iPFY: the inverse of the sum
    over a non-resonant emission window (Achkar et al., Phys. Rev. B 83, 081106(R) (2011)), which is
    proportional to the total absorption coefficient and free of self-absorption distortion.  Pixels whose
    emission (bin centre) lies inside ``[lo, hi]`` are summed.

.. math::

    \\mathrm{PFY}(E_i) = \\frac{\\sum_{j \\in W} N_{ij}}{I_0(E_i)},\\qquad
    \\mathrm{iPFY}(E_i) = \\frac{I_0(E_i)}{\\sum_{j \\in W_\\text{nr}} N_{ij}},\\qquad
    \\frac{\\sigma_\\mathrm{iPFY}}{\\mathrm{iPFY}} = \\frac{\\sigma_\\mathrm{PFY}}{\\mathrm{PFY}}.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from rixsim.errors import ConvergenceError, InputError
from rixsim.results import RixsMap, Scan, Spectrum

logger = logging.getLogger(__name__)

__all__ = [
    "normalize_by_monitor", "subtract_background", "find_elastic_peaks", "fit_elastic_line",
    "ElasticCalibration", "calibrate_emission", "bin_edges", "rebin_counts", "rebin_map",
    "tfy", "pfy", "spfy", "ccpfy", "ipfy",
]


# --------------------------------------------------------------------------------------------------------------
# Checks and uncertainties
# --------------------------------------------------------------------------------------------------------------

def _check_map(m, name: str = "rixs_map") -> RixsMap:
    if not isinstance(m, RixsMap):
        raise InputError(f"{name} must be a RixsMap; got {type(m).__name__}")
    return m


def _variance(m: RixsMap) -> np.ndarray:
    """The map's variance: sigma² when it has sigma, else its counts (Poisson)."""
    if m.sigma is not None:
        return np.square(m.sigma)
    z = m.intensity
    if np.any(z < 0):
        idx = tuple(int(i) for i in np.argwhere(z < 0)[0])
        raise InputError(f"map {m.label!r} has no sigma and a negative value {z[idx]} at index {idx}: it cannot be "
                         f"Poisson counts; give it a sigma")
    return np.nan_to_num(z.astype(float), nan=0.0)


def _monitor(monitor, excitation: np.ndarray, monitor_sigma, what: str = "monitor"):
    """Monitor values per excitation point (array or a Scan's I0) and their variance."""
    n = excitation.size
    if isinstance(monitor, Scan):
        if monitor.energy.size != n or not np.allclose(monitor.energy, excitation, rtol=0, atol=1e-3):
            raise InputError(f"the monitor scan {monitor.label!r} is on {monitor.energy.size} energies "
                             f"{monitor.energy[0]:.3f}–{monitor.energy[-1]:.3f} eV, the map on {n} "
                             f"{excitation[0]:.3f}–{excitation[-1]:.3f} eV; they must be the same points")
        values = np.asarray(monitor["I0"], dtype=float)
        var = values.copy() if monitor_sigma is None else None  # a scanned I0 is a count: Poisson
    else:
        try:
            values = np.asarray(monitor, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise InputError(f"{what} must be numbers (one per excitation point) or a Scan with I0; got "
                             f"{type(monitor).__name__}") from None
        var = None
    if values.size == 1:
        values = np.full(n, float(values[0]))
    if values.size != n:
        raise InputError(f"{what} has {values.size} values, the map {n} excitation points")
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        i = int(np.flatnonzero(~(np.isfinite(values) & (values > 0)))[0])
        raise InputError(f"{what}[{i}] = {values[i]}; a monitor must be finite and > 0")
    if var is None:
        if monitor_sigma is None:
            var = np.zeros(n)
        elif isinstance(monitor_sigma, str) and monitor_sigma == "poisson":
            var = values.copy()
        else:
            s = np.asarray(monitor_sigma, dtype=float).reshape(-1)
            s = np.full(n, float(s[0])) if s.size == 1 else s
            if s.size != n or not np.all(np.isfinite(s)) or np.any(s < 0):
                raise InputError(f"{what}_sigma must be 'poisson' or n={n} finite values >= 0")
            var = s ** 2
    return values, var


def _with(m: RixsMap, intensity, variance, step: Mapping[str, Any], **changes) -> RixsMap:
    meta = dict(m.meta)
    meta.setdefault("preprocessing", [])
    meta["preprocessing"] = list(meta["preprocessing"]) + [dict(step)]
    return replace(m, intensity=np.asarray(intensity), sigma=np.sqrt(np.maximum(variance, 0.0)),
                   meta=meta, elastic=None, **changes)


# --------------------------------------------------------------------------------------------------------------
# Monitor and background
# --------------------------------------------------------------------------------------------------------------

def normalize_by_monitor(rixs_map: RixsMap, monitor, *, monitor_sigma=None) -> RixsMap:
    """Divide each excitation row of a map by its monitor value, with error propagation.

    .. math:: y_{ij} = N_{ij} / M_i, \\qquad
              \\sigma_{y,ij}^2 = \\sigma_{N,ij}^2 / M_i^2 + N_{ij}^2 \\sigma_{M,i}^2 / M_i^4

    Parameters
    ----------
    rixs_map : RixsMap
        Counts (Poisson when it has no ``sigma``).
    monitor : array-like or Scan
        One I0 value per excitation point, or a :class:`Scan` whose ``I0`` channel is used (as Poisson
        counts unless ``monitor_sigma`` is given).
    monitor_sigma : array-like, "poisson" or None
        Uncertainty of the monitor; None: exact (for an array).
    """
    m = _check_map(rixs_map)
    var = _variance(m)
    mon, mvar = _monitor(monitor, m.excitation, monitor_sigma)
    z = m.intensity / mon[:, None]
    v = var / mon[:, None] ** 2 + np.square(m.intensity) * (mvar / mon ** 4)[:, None]
    return _with(m, z, v, {"step": "normalize_by_monitor"}, units=f"{m.units} / monitor")


def subtract_background(rixs_map: RixsMap, *, constant: float = 0.0, constant_sigma: float = 0.0,
                        dark=None, dark_sigma=None) -> RixsMap:
    """Subtract a dark image and/or a constant from a map, adding their variances.

    Parameters
    ----------
    constant, constant_sigma : float
        A constant level (e.g. the CCD bias, in counts) and its uncertainty.
    dark : RixsMap or array-like, optional
        A dark measurement: the map's shape, one value per detector column (broadcast over excitation), or a
        RixsMap of that shape (its ``sigma``, or Poisson when it has none).
    dark_sigma : array-like, optional
        Uncertainty of an array ``dark`` (default: Poisson, ``sqrt(dark)``).
    """
    m = _check_map(rixs_map)
    var = _variance(m)
    c, cs = float(constant), float(constant_sigma)
    if not (np.isfinite(c) and np.isfinite(cs) and cs >= 0):
        raise InputError(f"constant and constant_sigma must be finite (sigma >= 0); got {constant!r}, "
                         f"{constant_sigma!r}")
    z = m.intensity - c
    v = var + cs ** 2
    if dark is not None:
        if isinstance(dark, RixsMap):
            d, dv = dark.intensity, _variance(dark)
        else:
            d = np.asarray(dark, dtype=float)
            dv = np.abs(d) if dark_sigma is None else np.square(np.asarray(dark_sigma, dtype=float))
        try:
            d, dv = np.broadcast_to(d, z.shape), np.broadcast_to(dv, z.shape)
        except ValueError:
            raise InputError(f"dark has shape {np.shape(d)}; it must be the map's {z.shape} or one value per "
                             f"detector column ({z.shape[1]})") from None
        z, v = z - d, v + dv
    return _with(m, z, v, {"step": "subtract_background", "constant": c, "dark": dark is not None})


# --------------------------------------------------------------------------------------------------------------
# Elastic line and emission calibration
# --------------------------------------------------------------------------------------------------------------

def _gauss_const(x, a, x0, s, c):
    return a * np.exp(-0.5 * ((x - x0) / s) ** 2) + c


def find_elastic_peaks(rixs_map: RixsMap, window, *, halfwidth: float | None = None,
                       excitation_range=None):
    """Fit the elastic peak of each excitation row: a Gaussian plus a constant near the row's maximum.

    Parameters
    ----------
    rixs_map : RixsMap
        Map on an emission (or pixel) axis.
    window : (float, float)
        The range of the second axis (pixels or eV) that holds the elastic line at every excitation.
    halfwidth : float, optional
        Points within ``halfwidth`` of the row's maximum inside ``window`` are fitted (default: 8 samples).
    excitation_range : (float, float), optional
        Only rows with excitation (eV) inside.

    Returns
    -------
    excitation, position, position_sigma : ndarray
        Excitation energies of the rows fitted, the peak centres (second-axis units) and their standard errors.
    """
    from scipy.optimize import curve_fit
    m = _check_map(rixs_map)
    if m.on_loss_axis:
        raise InputError("find_elastic_peaks needs a map on an emission or pixel axis, not a loss axis")
    axis = m.emission
    lo, hi = _window(window, "window")
    sel = (axis >= lo) & (axis <= hi)
    if sel.sum() < 5:
        raise InputError(f"window {window!r} holds {int(sel.sum())} points of the second axis; at least 5 needed")
    rows = np.ones(m.excitation.size, bool) if excitation_range is None else \
        _in(m.excitation, _window(excitation_range, "excitation_range"))
    if rows.sum() < 2:
        raise InputError(f"excitation_range {excitation_range!r} holds fewer than 2 excitation points")
    step = float(np.median(np.abs(np.diff(axis))))
    hw = 8 * step if halfwidth is None else float(halfwidth)
    var = _variance(m)
    pos, err, exc = [], [], []
    for i in np.flatnonzero(rows):
        y = m.intensity[i]
        j0 = np.flatnonzero(sel)[np.nanargmax(y[sel])]
        near = sel & (np.abs(axis - axis[j0]) <= hw)
        x, yy, s = axis[near], y[near], np.sqrt(np.maximum(var[i, near], 1.0))
        c0 = float(np.nanmin(yy))
        p0 = [float(y[j0]) - c0, float(axis[j0]), max(hw / 4, step), c0]
        try:
            popt, pcov = curve_fit(_gauss_const, x, yy, p0=p0, sigma=s, absolute_sigma=True, maxfev=5000)
        except (RuntimeError, ValueError) as exc_:
            raise ConvergenceError(f"elastic peak fit failed at excitation {m.excitation[i]} eV ({exc_})") from None
        if not (x.min() <= popt[1] <= x.max()) or not np.isfinite(pcov[1, 1]):
            raise ConvergenceError(f"elastic peak at excitation {m.excitation[i]} eV not found inside "
                                   f"{x.min()}–{x.max()} (fit centre {popt[1]})")
        pos.append(popt[1])
        err.append(np.sqrt(pcov[1, 1]))
        exc.append(m.excitation[i])
    return np.array(exc), np.array(pos), np.array(err)


@dataclass(frozen=True)
class ElasticCalibration:
    """Emission energy as a polynomial of the detector pixel, from the elastic line.

    .. math:: E(p) = \\sum_k c_k (p - p_0)^k

    Attributes
    ----------
    coefficients : ndarray
        :math:`c_0, c_1, \\ldots` (eV, eV/pixel, …), about ``origin`` :math:`p_0` (the mean peak pixel).
    covariance : ndarray
        Their covariance (from the peak-position errors, not rescaled by chi²).
    origin : float
        :math:`p_0` (pixel).
    excitation, position, position_sigma : ndarray
        The elastic peaks fitted: excitation energy (eV) and the peak pixel with its standard error.
    chi2_dof : float
        Chi² per degree of freedom of the dispersion fit (≈ 1 when the peak errors explain the scatter).
    """

    coefficients: np.ndarray
    covariance: np.ndarray
    origin: float
    excitation: np.ndarray
    position: np.ndarray
    position_sigma: np.ndarray
    chi2_dof: float
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def order(self) -> int:
        return self.coefficients.size - 1

    @property
    def dispersion(self) -> float:
        """dE/dp at the origin (eV per pixel)."""
        return float(self.coefficients[1])

    def energy(self, pixel) -> np.ndarray:
        """Emission energy (eV) of detector position ``pixel``."""
        t = np.asarray(pixel, dtype=float) - self.origin
        return sum(c * t ** k for k, c in enumerate(self.coefficients))

    def energy_sigma(self, pixel) -> np.ndarray:
        """Standard error (eV) of :meth:`energy` from the coefficients' covariance."""
        t = np.asarray(pixel, dtype=float) - self.origin
        jac = np.stack([t ** k for k in range(self.coefficients.size)], axis=-1)
        return np.sqrt(np.einsum("...i,ij,...j->...", jac, self.covariance, jac))


def fit_elastic_line(rixs_map: RixsMap, window, *, order: int = 1, halfwidth: float | None = None,
                     excitation_range=None) -> ElasticCalibration:
    """Calibrate the detector: fit the elastic peak per excitation energy, then E(pixel) = excitation.

    At the elastic peak the emitted energy equals the excitation energy, so the pairs (peak pixel
    :math:`p_i \\pm \\sigma_i`, excitation :math:`E_i`) fix the dispersion.  The polynomial of ``order``
    (1 linear, 2 quadratic) is fitted by weighted least squares with effective variances
    :math:`(E'(p_i)\\,\\sigma_i)^2` (the error is in the pixel), iterated to a fixed point.

    Parameters
    ----------
    rixs_map : RixsMap
        Map on a pixel axis (e.g. ``read_als_rixs(...).ccd``), counts or with ``sigma``.
    window, halfwidth, excitation_range
        As in :func:`find_elastic_peaks`.
    order : {1, 2}
        Linear or quadratic dispersion.

    Raises
    ------
    InputError
        Bad order, too few excitation points for the order (at least order + 2).
    ConvergenceError
        An elastic peak cannot be fitted.
    """
    if order not in (1, 2):
        raise InputError(f"order must be 1 (linear) or 2 (quadratic); got {order!r}")
    exc, pos, err = find_elastic_peaks(rixs_map, window, halfwidth=halfwidth, excitation_range=excitation_range)
    if exc.size < order + 2:
        raise InputError(f"{exc.size} elastic peaks fitted; a dispersion of order {order} needs at least "
                         f"{order + 2}")
    origin = float(np.mean(pos))
    t = pos - origin
    a = np.stack([t ** k for k in range(order + 1)], axis=1)
    coef = np.polyfit(t, exc, order)[::-1]
    for _ in range(20):
        slope = sum(k * coef[k] * t ** (k - 1) for k in range(1, order + 1))
        w = 1.0 / np.maximum((slope * err) ** 2, 1e-300)
        ata = a.T @ (a * w[:, None])
        new = np.linalg.solve(ata, a.T @ (w * exc))
        done = np.allclose(new, coef, rtol=1e-12, atol=0)
        coef = new
        if done:
            break
    cov = np.linalg.inv(ata)
    resid = exc - a @ coef
    dof = max(exc.size - order - 1, 1)
    chi2 = float(np.sum(w * resid ** 2) / dof)
    logger.info("elastic line: %d peaks, dispersion %.6g eV/pixel, chi2/dof %.3g", exc.size, coef[1], chi2)
    return ElasticCalibration(coefficients=coef, covariance=cov, origin=origin, excitation=exc, position=pos,
                              position_sigma=err, chi2_dof=chi2, meta={"window": list(_window(window, "window"))})


def calibrate_emission(rixs_map: RixsMap, calibration: ElasticCalibration) -> RixsMap:
    """Replace a map's pixel axis by the emission energy E(pixel) of ``calibration`` (eV, absolute).

    A negative dispersion (energy falling with pixel) reverses the columns so that emission increases.
    """
    m = _check_map(rixs_map)
    if not isinstance(calibration, ElasticCalibration):
        raise InputError(f"calibration must be an ElasticCalibration; got {type(calibration).__name__}")
    if m.on_loss_axis:
        raise InputError("calibrate_emission needs a map on a pixel axis, not a loss axis")
    e = calibration.energy(m.emission)
    d = np.diff(e)
    if not (np.all(d > 0) or np.all(d < 0)):
        raise InputError("the calibration is not monotonic over the detector (a quadratic term too large for "
                         "its pixel range)")
    z, s = m.intensity, (m.sigma if m.sigma is not None else np.sqrt(_variance(m)))
    if d[0] < 0:
        e, z, s = e[::-1], z[:, ::-1], s[:, ::-1]
    meta = dict(m.meta)
    meta.update({"emission_units": "eV", "emission_calibration": {
        "coefficients": calibration.coefficients.tolist(), "origin": calibration.origin,
        "chi2_dof": calibration.chi2_dof}})
    return RixsMap(excitation=m.excitation, emission=e, intensity=z, label=m.label, units=m.units,
                   relative=False, meta=meta, sigma=s)


# --------------------------------------------------------------------------------------------------------------
# Count-conserving regridding
# --------------------------------------------------------------------------------------------------------------

def bin_edges(centres) -> np.ndarray:
    """Edges of bins around monotonic ``centres``: midpoints, and half a step beyond each end."""
    c = np.asarray(centres, dtype=float)
    if c.ndim != 1 or c.size < 2:
        raise InputError(f"bin centres must be 1-D with at least 2 points; got shape {c.shape}")
    mid = 0.5 * (c[1:] + c[:-1])
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def _overlap(old_edges: np.ndarray, new_edges: np.ndarray) -> np.ndarray:
    """W[j, i]: the fraction of old bin i that lies in new bin j (edges increasing)."""
    lo = np.maximum(new_edges[:-1, None], old_edges[None, :-1])
    hi = np.minimum(new_edges[1:, None], old_edges[None, 1:])
    return np.clip(hi - lo, 0.0, None) / np.diff(old_edges)[None, :]


def rebin_counts(old_edges, counts, new_edges, variance=None):
    """Rebin counts by bin overlap (no interpolation): each old bin's counts are shared among the new bins in
    proportion to the overlap of the two.  The total is conserved where the new bins cover the old ones.

    Returns ``(counts, variance)`` on the new bins (``variance`` propagated with the squared fractions, or
    None when not given).  Edges may decrease (they are then reversed).
    """
    oe, ne = np.asarray(old_edges, dtype=float), np.asarray(new_edges, dtype=float)
    y = np.asarray(counts, dtype=float)
    if oe.size != y.shape[-1] + 1:
        raise InputError(f"{oe.size} old edges for {y.shape[-1]} bins; need one more edge than bins")
    if ne.ndim != 1 or ne.size < 2:
        raise InputError("new_edges needs at least 2 edges")
    if np.any(np.diff(ne) <= 0):
        raise InputError("new_edges must be strictly increasing")
    v = None if variance is None else np.asarray(variance, dtype=float)
    if oe[-1] < oe[0]:
        oe, y = oe[::-1], y[..., ::-1]
        v = None if v is None else v[..., ::-1]
    if np.any(np.diff(oe) <= 0):
        raise InputError("old edges must be strictly monotonic")
    w = _overlap(oe, ne)
    out = y @ w.T
    return out, (None if v is None else v @ (w ** 2).T)


def rebin_map(rixs_map: RixsMap, new_edges, *, axis: str = "emission") -> RixsMap:
    """Regrid a map's second axis by bin overlap, conserving counts.

    Parameters
    ----------
    rixs_map : RixsMap
        On an emission axis (to ``axis="emission"`` or ``"loss"``) or a loss axis (to ``"loss"``).
    new_edges : array-like
        Increasing edges of the new bins (eV): emission energies, or energy losses (excitation − emission).
    axis : {"emission", "loss"}
        The axis of the result.  For ``"loss"`` each excitation row is shared out on its own loss bins,
        so the map turns from emission to loss without interpolation.

    Returns
    -------
    RixsMap
        Counts per new bin (bin centres as the axis), with ``sigma`` propagated.
    """
    m = _check_map(rixs_map)
    if axis not in ("emission", "loss"):
        raise InputError(f"axis must be 'emission' or 'loss'; got {axis!r}")
    if m.on_loss_axis and axis == "emission":
        raise InputError("rebin_map from a loss axis to an emission axis is not supported; rebin the "
                         "emission map instead")
    ne = np.asarray(new_edges, dtype=float)
    if ne.ndim != 1 or ne.size < 3 or np.any(np.diff(ne) <= 0) or not np.all(np.isfinite(ne)):
        raise InputError("new_edges must be finite, strictly increasing, with at least 3 edges")
    var = _variance(m)
    z = np.nan_to_num(m.intensity, nan=0.0)
    centres = 0.5 * (ne[1:] + ne[:-1])
    second = m.loss if m.on_loss_axis else m.emission
    edges = bin_edges(second)
    if axis == "emission" or m.on_loss_axis:
        out, ov = rebin_counts(edges, z, ne, var)
    else:
        out = np.empty((z.shape[0], centres.size))
        ov = np.empty_like(out)
        for i, x in enumerate(m.excitation):
            out[i], ov[i] = rebin_counts(x - edges, z[i], ne, var[i])
    lost = z.sum(axis=1) - out.sum(axis=1)
    scale = np.maximum(np.abs(z).sum(axis=1), 1e-300)
    if np.any(np.abs(lost) > 1e-9 * scale):
        i = int(np.argmax(np.abs(lost) / scale))
        logger.warning("rebin_map: the new bins do not cover the old ones; up to %.3g%% of the counts (at "
                       "excitation %s eV) fall outside and are dropped", 100 * abs(lost[i]) / scale[i],
                       m.excitation[i])
    meta = dict(m.meta)
    meta["preprocessing"] = list(meta.get("preprocessing", [])) + [{
        "step": "rebin_map", "axis": axis, "n_bins": int(centres.size),
        "max_fraction_dropped": float(np.max(np.abs(lost) / scale))}]
    if axis == "loss":
        return RixsMap(excitation=m.excitation, emission=None, intensity=out, loss=centres, label=m.label,
                       units=m.units, relative=m.relative, meta=meta, sigma=np.sqrt(ov))
    return RixsMap(excitation=m.excitation, emission=centres, intensity=out, label=m.label, units=m.units,
                   relative=m.relative, meta=meta, sigma=np.sqrt(ov))


# --------------------------------------------------------------------------------------------------------------
# ROI channels
# --------------------------------------------------------------------------------------------------------------

def _window(window, name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in window)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be (low, high) in eV; got {window!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise InputError(f"{name} must have low < high, both finite; got {window!r}")
    return lo, hi


def _in(axis, window) -> np.ndarray:
    return (axis >= window[0]) & (axis <= window[1])


def _emission_of(m: RixsMap) -> np.ndarray:
    """Emission energy of every pixel, shape of the map (a loss map: excitation − loss)."""
    if m.on_loss_axis:
        return m.excitation[:, None] - m.loss[None, :]
    return np.broadcast_to(m.emission[None, :], m.intensity.shape)


def _roi_sum(m: RixsMap, window, name: str):
    mask = np.ones(m.intensity.shape, bool) if window is None else _in(_emission_of(m), _window(window, name))
    empty = np.flatnonzero(~mask.any(axis=1))
    if empty.size:
        i = int(empty[0])
        raise InputError(f"{name} {window!r} holds no pixel at excitation {m.excitation[i]} eV (index {i}); "
                         f"the map's emission there spans {_emission_of(m)[i].min():.3f}–"
                         f"{_emission_of(m)[i].max():.3f} eV")
    z = np.where(mask, np.nan_to_num(m.intensity, nan=0.0), 0.0)
    return z.sum(axis=1), np.where(mask, _variance(m), 0.0).sum(axis=1), int(mask.sum(axis=1).max())


def _channel(m: RixsMap, window, name: str, monitor, monitor_sigma, kind: str, inverse: bool = False) -> Spectrum:
    m = _check_map(m)
    s, v, npix = _roi_sum(m, window, name)
    meta = {"channel": kind, "window_eV": None if window is None else list(_window(window, name)),
            "map": m.label, "max_pixels": npix}
    if monitor is not None:
        mon, mvar = _monitor(monitor, m.excitation, monitor_sigma)
        y = s / mon
        rel2 = np.divide(v, s ** 2, out=np.zeros_like(s), where=s != 0) + mvar / mon ** 2
        sig = np.abs(y) * np.sqrt(rel2)
        meta["monitor"] = True
    else:
        y, sig = s, np.sqrt(v)
    if inverse:
        if np.any(y <= 0):
            i = int(np.flatnonzero(y <= 0)[0])
            raise InputError(f"iPFY: the sum over the non-resonant window is {y[i]} at excitation "
                             f"{m.excitation[i]} eV; it must be > 0 to invert")
        sig = sig / y ** 2
        y = 1.0 / y
    return Spectrum(m.excitation, y, label=f"{m.label} {kind}".strip(), units="arb. units", meta=meta, sigma=sig)


def tfy(rixs_map: RixsMap, *, monitor=None, monitor_sigma=None) -> Spectrum:
    """Total fluorescence yield: the sum over the whole detector per excitation energy, / monitor."""
    return _channel(rixs_map, None, "window", monitor, monitor_sigma, "TFY")


def pfy(rixs_map: RixsMap, window, *, monitor=None, monitor_sigma=None) -> Spectrum:
    """Partial fluorescence yield: the sum over the emission ``window = (lo, hi)`` (eV) per excitation, / monitor.

    Parameters
    ----------
    rixs_map : RixsMap
        Counts (Poisson unless it has ``sigma``), on an emission or loss axis.
    window : (float, float)
        Emission photon energies (eV).
    monitor : array-like or Scan, optional
        I0 per excitation point (a Scan: its ``I0`` channel, as Poisson counts).
    monitor_sigma : array-like or "poisson", optional
        Uncertainty of an array monitor (default exact).

    Returns
    -------
    Spectrum
        On the excitation axis, with ``sigma``.
    """
    return _channel(rixs_map, window, "window", monitor, monitor_sigma, "PFY")


def spfy(rixs_map: RixsMap, centre: float, width: float, *, monitor=None, monitor_sigma=None) -> Spectrum:
    """Selective PFY: the sum over a narrow emission slice ``centre ± width/2`` (eV), / monitor."""
    w = float(width)
    if not w > 0:
        raise InputError(f"width must be > 0 eV; got {width!r}")
    return _channel(rixs_map, (float(centre) - w / 2, float(centre) + w / 2), "slice", monitor, monitor_sigma,
                    "sPFY")


def ccpfy(rixs_map: RixsMap, window, *, monitor=None, monitor_sigma=None) -> Spectrum:
    """Core–core PFY: the sum over the emission window of a core-to-core line (e.g. 3s → 2p), / monitor."""
    return _channel(rixs_map, window, "window", monitor, monitor_sigma, "ccPFY")


def ipfy(rixs_map: RixsMap, window, *, monitor=None, monitor_sigma=None) -> Spectrum:
    """Inverse PFY: ``monitor / Σ(non-resonant window)`` per excitation (``1/Σ`` without a monitor).

    The window must hold a line that is *not* resonant with the edge scanned (e.g. the O K emission while
    scanning a transition-metal L edge); its intensity then falls as the edge absorbs (Achkar et al.,
    Phys. Rev. B 83, 081106(R) (2011)).  ``sigma`` is propagated: :math:`\\sigma_{1/S} = \\sigma_S / S^2`.
    """
    return _channel(rixs_map, window, "window", monitor, monitor_sigma, "iPFY", inverse=True)

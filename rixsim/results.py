"""Labelled results: spectra and maps that carry their axes, units and the parameters that made them.

Energies are in eV.  ``Spectrum.energy`` and ``RixsMap.excitation`` / ``RixsMap.emission`` are absolute photon
energies unless the attribute ``relative`` says otherwise; ``RixsMap.loss`` is always an energy loss
(excitation minus emission).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from rixsim.errors import InputError


def _frozen(a, name: str) -> np.ndarray:
    arr = np.array(a, dtype=float, copy=True)
    arr.setflags(write=False)
    return arr


def _uncertainty(a, shape) -> np.ndarray:
    """A frozen copy of a one-sigma uncertainty array, checked: same shape as the data, finite, non-negative."""
    sig = _frozen(a, "sigma")
    if sig.shape != shape:
        raise InputError(f"sigma has shape {sig.shape}, the intensity has {shape}")
    if not np.all(np.isfinite(sig)) or np.any(sig < 0):
        raise InputError("sigma must be finite and non-negative everywhere")
    return sig


@dataclass(frozen=True)
class Spectrum:
    """A 1-D spectrum on an energy axis.

    Attributes
    ----------
    energy : ndarray
        Photon energy in eV (absolute unless ``relative`` is true), strictly increasing.
    intensity : ndarray
        Intensity on ``energy`` (arbitrary units unless ``units`` says otherwise).
    label : str
        Short description, e.g. ``"Mn2+ Oh XAS, isotropic"``.
    units : str
        Units of ``intensity``.
    relative : bool
        True when ``energy`` is relative to an unspecified origin.
    meta : mapping
        The parameters that produced the spectrum (for reproducibility).
    sigma : ndarray or None
        One-standard-deviation uncertainty of ``intensity`` (same units and shape), e.g. Poisson errors of a
        measured scan; None for computed spectra.
    """

    energy: np.ndarray
    intensity: np.ndarray
    label: str = ""
    units: str = "arb. units"
    relative: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)
    sigma: np.ndarray | None = None

    def __post_init__(self):
        e = _frozen(self.energy, "energy")
        y = _frozen(self.intensity, "intensity")
        if e.ndim != 1 or y.shape != e.shape:
            raise InputError(f"Spectrum needs 1-D energy and intensity of equal length; got shapes "
                             f"{e.shape} and {y.shape}")
        object.__setattr__(self, "energy", e)
        object.__setattr__(self, "intensity", y)
        if self.sigma is not None:
            object.__setattr__(self, "sigma", _uncertainty(self.sigma, y.shape))

    def integral(self) -> float:
        """Trapezoidal integral of the intensity over energy (units × eV)."""
        return float(np.trapezoid(self.intensity, self.energy))

    def to_columns(self) -> np.ndarray:
        """Two-column array ``[energy, intensity]``."""
        return np.column_stack([self.energy, self.intensity])


@dataclass(frozen=True)
class RixsMap:
    """An mRIXS map: intensity over excitation (rows) and emission (columns) photon energies.

    Attributes
    ----------
    excitation : ndarray
        Incident photon energy in eV, shape ``(n_exc,)``.
    emission : ndarray
        Emitted photon energy in eV, shape ``(n_emi,)``; used when ``loss`` is None.
    intensity : ndarray
        Shape ``(n_exc, n_emi)`` or ``(n_exc, n_loss)`` when the map is on a loss axis.
    loss : ndarray or None
        Energy loss in eV (excitation − emission) when the map's second axis is loss, else None.
    elastic : ndarray or None
        The elastic-line part of ``intensity`` (same shape), when it was computed separately.
    sigma : ndarray or None
        One-standard-deviation uncertainty of ``intensity`` (same shape), e.g. Poisson errors; None when unknown.
    """

    excitation: np.ndarray
    emission: np.ndarray | None
    intensity: np.ndarray
    loss: np.ndarray | None = None
    elastic: np.ndarray | None = None
    label: str = ""
    units: str = "arb. units"
    relative: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)
    sigma: np.ndarray | None = None

    def __post_init__(self):
        x = _frozen(self.excitation, "excitation")
        second = self.loss if self.loss is not None else self.emission
        if second is None:
            raise InputError("RixsMap needs an emission or a loss axis")
        s = _frozen(second, "second axis")
        z = _frozen(self.intensity, "intensity")
        if z.shape != (x.size, s.size):
            raise InputError(f"RixsMap intensity has shape {z.shape}, axes need {(x.size, s.size)}")
        object.__setattr__(self, "excitation", x)
        object.__setattr__(self, "intensity", z)
        if self.loss is not None:
            object.__setattr__(self, "loss", s)
            if self.emission is not None:
                object.__setattr__(self, "emission", _frozen(self.emission, "emission"))
        else:
            object.__setattr__(self, "emission", s)
        if self.elastic is not None:
            el = _frozen(self.elastic, "elastic")
            if el.shape != z.shape:
                raise InputError(f"elastic part has shape {el.shape}, intensity has {z.shape}")
            object.__setattr__(self, "elastic", el)
        if self.sigma is not None:
            object.__setattr__(self, "sigma", _uncertainty(self.sigma, z.shape))

    @property
    def on_loss_axis(self) -> bool:
        return self.loss is not None

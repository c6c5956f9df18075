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


@dataclass(frozen=True)
class Scan:
    """A measured multi-channel scan: several detector channels (and the I0 monitor) on one energy axis.

    Attributes
    ----------
    energy : ndarray
        Photon energy in eV, strictly increasing (readers reverse a scan taken downwards).
    channels : mapping of str to ndarray
        Each recorded channel (TEY, TFY, PFY, I0, …) under its name in the file, same length as ``energy``.
    aliases : mapping of str to str
        Other names of channels, e.g. ``{"I0": "C2", "TEY": "C1"}``: ``scan["I0"]`` is then ``scan["C2"]``.
    label : str
        Short description (readers use the file name).
    meta : mapping
        Header metadata as read (``name → value``; numbers as floats) and where the scan came from.
    """

    energy: np.ndarray
    channels: Mapping[str, np.ndarray]
    aliases: Mapping[str, str] = field(default_factory=dict)
    label: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        e = _frozen(self.energy, "energy")
        if e.ndim != 1 or e.size < 2:
            raise InputError(f"Scan needs a 1-D energy axis of at least 2 points; got shape {e.shape}")
        if not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
            raise InputError("Scan energy must be finite and strictly increasing (eV)")
        if not isinstance(self.channels, Mapping) or not self.channels:
            raise InputError("Scan needs at least one channel (a mapping of name to values)")
        chans = {}
        for name, values in self.channels.items():
            v = _frozen(values, name)
            if v.shape != e.shape:
                raise InputError(f"Scan channel {name!r} has shape {v.shape}, the energy axis {e.shape}")
            chans[str(name)] = v
        for alias, target in dict(self.aliases).items():
            if target not in chans:
                raise InputError(f"Scan alias {alias!r} points to {target!r}, which is not a channel; "
                                 f"channels are {sorted(chans)}")
        object.__setattr__(self, "energy", e)
        object.__setattr__(self, "channels", chans)
        object.__setattr__(self, "aliases", dict(self.aliases))

    @property
    def names(self) -> list[str]:
        """Channel names as in the file, in file order."""
        return list(self.channels)

    def resolve(self, name: str) -> str:
        """The file's name of channel ``name`` (itself, or the channel an alias points to)."""
        if name in self.channels:
            return name
        if name in self.aliases:
            return self.aliases[name]
        alias_text = f"; aliases {dict(self.aliases)}" if self.aliases else ""
        raise InputError(f"no channel {name!r} in scan {self.label!r}; channels are {self.names}{alias_text}")

    def __getitem__(self, name: str) -> np.ndarray:
        return self.channels[self.resolve(name)]

    def __contains__(self, name) -> bool:
        return name in self.channels or name in self.aliases

    def spectrum(self, channel: str, monitor: str | None = "I0", poisson: bool = False,
                 label: str | None = None) -> Spectrum:
        """One channel as a :class:`Spectrum`, divided by the monitor.

        Parameters
        ----------
        channel : str
            Channel name or alias (``"TEY"``, ``"C1"``, …).
        monitor : str or None
            Monitor channel (name or alias) to divide by; None for the raw channel.
        poisson : bool
            The channel and the monitor are Poisson counts: ``sigma`` is propagated,

            .. math:: \\sigma_y = |y| \\sqrt{1/N + 1/M}, \\qquad y = N / M,

            (:math:`\\sigma_y = \\sqrt{N}` without a monitor).  Otherwise ``sigma`` is None.
        label : str, optional
            Label of the spectrum (default ``"<scan label> <channel>/<monitor>"``).

        Raises
        ------
        InputError
            Unknown channel or monitor, a monitor value <= 0, or negative counts with ``poisson``.
        """
        cname = self.resolve(channel)
        y = np.array(self.channels[cname], dtype=float)
        if poisson and np.any(y < 0):
            i = int(np.flatnonzero(y < 0)[0])
            raise InputError(f"channel {cname!r} has a negative value {y[i]} at index {i}; Poisson counts "
                             f"cannot be negative")
        meta = {"scan": self.label, "channel": cname, **dict(self.meta)}
        if monitor is None:
            sigma = np.sqrt(y) if poisson else None
            text = cname
        else:
            mname = self.resolve(monitor)
            m = np.array(self.channels[mname], dtype=float)
            if np.any(m <= 0):
                i = int(np.flatnonzero(m <= 0)[0])
                raise InputError(f"monitor {mname!r} is {m[i]} at index {i} ({self.energy[i]} eV); it must be "
                                 f"> 0 to divide by it")
            ratio = y / m
            sigma = None
            if poisson:
                with np.errstate(divide="ignore", invalid="ignore"):
                    rel = np.where(y > 0, 1.0 / np.where(y > 0, y, 1.0), 0.0) + 1.0 / m
                # A zero count has ratio 0 but not zero uncertainty: use sqrt(1)/M, the one-count level.
                sigma = np.where(y > 0, np.abs(ratio) * np.sqrt(rel), 1.0 / m)
            y = ratio
            meta["monitor"] = mname
            text = f"{cname}/{mname}"
        return Spectrum(self.energy, y, label=label if label is not None else f"{self.label} {text}".strip(),
                        meta=meta, sigma=sigma)

"""Scans and spectra in HDF5 / NeXus files, read from dataset paths the user names (maps: :mod:`rixsim.io.hdf5`)."""
from __future__ import annotations

import logging
from typing import Mapping

import numpy as np

from rixsim.errors import InputError
from rixsim.io._common import _existing_file
from rixsim.io.scans import scan_from_columns
from rixsim.results import Scan

logger = logging.getLogger(__name__)

__all__ = ["read_scan_hdf5"]


def read_scan_hdf5(path, *, energy_path: str, channel_paths: Mapping[str, str],
                   aliases: Mapping[str, str] | None = None, energy_scale: float = 1.0,
                   label: str | None = None) -> Scan:
    """Read a multi-channel scan from HDF5/NeXus datasets.

    Parameters
    ----------
    path : str or path-like
        The HDF5 file.
    energy_path : str
        Dataset of the energy axis, e.g. ``"/entry/instrument/monochromator/energy"``.
    channel_paths : mapping of str to str
        Channel name → dataset path, e.g. ``{"TEY": "/entry/tey/data", "I0": "/entry/i0/data"}``.
    aliases : mapping, optional
        Extra names of channels.
    energy_scale : float
        Factor to eV (1000 when the file stores keV).
    label : str, optional
        Default: the file name without suffix.

    Returns
    -------
    Scan
        ``meta`` holds ``source``, the paths, and the ``units`` attribute of the energy dataset when present.

    Raises
    ------
    InputError
        Not HDF5, a missing path, a group where a dataset is needed, datasets of unequal length or not 1-D.
    """
    p = _existing_file(path)
    source = f"'{p}'"
    if not isinstance(channel_paths, Mapping) or not channel_paths:
        raise InputError("channel_paths must map at least one channel name to a dataset path")
    import h5py  # imported on use
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise InputError(f"{source} is not a readable HDF5 file ({exc})") from exc

    def dataset(where, what):
        if where not in f:
            raise InputError(f"{source}: no dataset {where!r} ({what})")
        obj = f[where]
        if not isinstance(obj, h5py.Dataset):
            raise InputError(f"{source}: {where!r} ({what}) is a group, not a dataset")
        arr = np.asarray(obj[()])
        if arr.dtype.kind not in "biuf":
            raise InputError(f"{source}: dataset {where!r} ({what}) is not numeric ({arr.dtype})")
        arr = arr.astype(float).reshape(-1) if arr.ndim <= 1 or max(arr.shape) == arr.size else arr
        if arr.ndim != 1:
            raise InputError(f"{source}: dataset {where!r} ({what}) has shape {arr.shape}; a scan channel is 1-D")
        return arr, obj

    with f:
        e, de = dataset(energy_path, "energy")
        units = de.attrs.get("units")
        chans = {}
        for name, where in channel_paths.items():
            v, _ = dataset(where, f"channel {name!r}")
            if v.size != e.size:
                raise InputError(f"{source}: channel {name!r} ({where!r}) has {v.size} points, the energy "
                                 f"{e.size}")
            chans[name] = v
    meta = {"source": str(p), "format": "HDF5", "energy_path": energy_path, "channel_paths": dict(channel_paths)}
    if units is not None:
        meta["energy_units_in_file"] = units.decode() if isinstance(units, bytes) else str(units)
    return scan_from_columns(e * float(energy_scale), chans, source, aliases=aliases,
                             label=p.stem if label is None else label, meta=meta)

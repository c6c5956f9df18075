"""RIXS planes in the HDF5 layout of xraylarch (``larch.io.rixsdata.RixsData`` and the beamline readers
``larch.io.rixs_esrf_id26`` / ``rixs_aps_gsecars``, which save a dictionary with ``silx.io.dictdump.dicttoh5``).

Layout read (every key a dataset at the root of the file, as ``dicttoh5`` writes a flat dictionary)::

    _x                1-D   excitation ("energy in") of each point
    _y                1-D   emission ("energy out") of each point
    _z                1-D   signal of each point
    writer_version    str   "1.5.x" (``RixsData.load_from_h5`` refuses other versions)
    ene_unit          str   "eV" or "keV" (optional; keV values are converted to eV)
    sample_name, writer_name, counter_signal, counter_mon, mode, ...   str (optional, kept in ``meta``)
    ene_in, ene_out, rixs_map                                          gridded plane (optional;
                      written by ``RixsData.save_to_h5``; ``rixs_map`` has shape (len(ene_out), len(ene_in)))

The points ``_x, _y, _z`` are the measurement and are read by default; the gridded plane is Larch's
interpolation of them and is read only with ``use="grid"``.
"""
from __future__ import annotations

import logging

import numpy as np

from rixsim.errors import InputError
from rixsim.io._common import _assemble_map, _existing_file
from rixsim.io._encoding import _py_scalar
from rixsim.io.rixs_plane import plane_from_points
from rixsim.results import RixsMap

logger = logging.getLogger(__name__)

__all__ = ["read_larch_rixs", "is_larch_rixs"]

_POINTS = ("_x", "_y", "_z")
_GRID = ("ene_in", "ene_out", "rixs_map")


def is_larch_rixs(h5file) -> bool:
    """True when an open h5py file has Larch's ``writer_version`` and its points or gridded plane."""
    return "writer_version" in h5file and (all(k in h5file for k in _POINTS) or all(k in h5file for k in _GRID))


def _text(f, key):
    if key not in f:
        return None
    v = f[key][()]
    if isinstance(v, np.ndarray) and v.dtype.kind in "SOU" and v.size == 1:
        v = v.reshape(-1)[0]
    return _py_scalar(v) if not isinstance(v, np.ndarray) else v


def read_larch_rixs(path, *, use: str = "points", regrid=None, allow_negative: bool = False,
                    label: str | None = None) -> RixsMap:
    """Read a Larch RIXS HDF5 file (layout in the module docstring).

    Parameters
    ----------
    path : str or path-like
        The ``.h5`` file.
    use : {"points", "grid"}
        Read the measured points ``_x, _y, _z`` (default) or Larch's gridded ``rixs_map``.
    regrid : float or (float, float), optional
        Grid step(s) in eV for points that are not on a regular grid (see
        :func:`~rixsim.io.rixs_plane.plane_from_points`).
    label : str, optional
        Default: ``sample_name`` from the file, else the file name.

    Returns
    -------
    RixsMap
        On an emission axis, rows = excitation; ``meta`` holds the file's string entries.

    Raises
    ------
    InputError
        Not HDF5, no ``writer_version`` (not written by Larch), a missing dataset, an unknown energy unit.
    """
    if use not in ("points", "grid"):
        raise InputError(f"use must be 'points' or 'grid'; got {use!r}")
    p = _existing_file(path)
    source = f"'{p}'"
    import h5py  # imported on use
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise InputError(f"{source} is not a readable HDF5 file ({exc})") from exc
    with f:
        if "writer_version" not in f:
            raise InputError(f"{source} is not a Larch RIXS file: no 'writer_version' dataset at the root "
                             f"(found {sorted(f.keys())[:8]})")
        wanted = _POINTS if use == "points" else _GRID
        missing = [k for k in wanted if k not in f]
        if missing:
            raise InputError(f"{source}: Larch RIXS file without the dataset(s) {missing} needed for use={use!r}")
        arrays = {k: np.asarray(f[k][()], dtype=float) for k in wanted}
        meta = {"source": str(p), "format": "larch rixs"}
        for k in f:
            v = _text(f, k)
            if isinstance(v, (str, int, float, bool)):
                meta[k] = v
    version = str(meta.get("writer_version", ""))
    if not version.startswith("1.5"):
        logger.warning("%s: Larch writer_version %r; this reader follows version 1.5", source, version)
    unit = str(meta.get("ene_unit", "eV"))
    scale = {"eV": 1.0, "keV": 1000.0}.get(unit)
    if scale is None:
        raise InputError(f"{source}: ene_unit is {unit!r}; expected 'eV' or 'keV'")
    name = label if label is not None else str(meta.get("sample_name", p.stem))
    if use == "points":
        return plane_from_points(arrays["_x"] * scale, arrays["_y"] * scale, arrays["_z"], source, regrid=regrid,
                                 allow_negative=allow_negative, label=name, meta=meta)
    z = arrays["rixs_map"]
    if z.ndim != 2:
        raise InputError(f"{source}: rixs_map has shape {z.shape}; expected 2-D (ene_out, ene_in)")
    meta["grid"] = "larch"
    return _assemble_map(z, arrays["ene_in"] * scale, arrays["ene_out"] * scale, "emission", "emission", source,
                         allow_negative, name, "arb. units", meta)

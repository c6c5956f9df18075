"""RIXS planes stored as points: three columns (excitation, emission or loss, intensity), one point per line.

This is the "XYZ" layout that Larch's ``RixsData.load_from_ascii`` reads (``e_in(eV), e_out(eV), signal``,
xraylarch ``larch/io/rixsdata.py``).  Points on a regular grid (every excitation with the same set of
emission energies, in any order) are placed into a :class:`~rixsim.results.RixsMap` exactly; scattered points
are only put on a grid when asked (``regrid=``), by averaging the points that fall in each grid cell — no
interpolation.
"""
from __future__ import annotations

import logging

import numpy as np

from rixsim.errors import InputError
from rixsim.io._common import _assemble_map, _path
from rixsim.io.text import _column_index, _read_text_table
from rixsim.results import RixsMap

logger = logging.getLogger(__name__)

__all__ = ["read_rixs_plane", "plane_from_points"]

_DECIMALS = 6  # grid coordinates equal to 1 µeV are the same grid line


def _grid_steps(regrid) -> tuple[float, float]:
    try:
        steps = (float(regrid), float(regrid)) if np.ndim(regrid) == 0 else tuple(float(s) for s in regrid)
    except (TypeError, ValueError):
        steps = ()
    if len(steps) != 2 or not all(np.isfinite(s) and s > 0 for s in steps):
        raise InputError(f"regrid must be a positive step in eV, or (excitation step, second-axis step); "
                         f"got {regrid!r}")
    return steps


def plane_from_points(x, y, z, source: str, *, second: str = "emission", regrid=None,
                      allow_negative: bool = False, label: str = "", units: str = "arb. units",
                      meta: dict | None = None) -> RixsMap:
    """Make a map from points ``(x = excitation, y = emission or loss, z = intensity)``.

    Points on a regular grid are placed exactly.  Otherwise ``regrid`` (eV, one step or a pair) bins them on
    a grid starting at the smallest coordinates; each cell holds the mean of its points (cells without points
    are NaN and a :class:`~rixsim.io.MaskedDataWarning` says how many; rows or columns with no point at all
    are dropped).
    """
    if second not in ("emission", "loss"):
        raise InputError(f"second must be 'emission' or 'loss'; got {second!r}")
    x, y, z = (np.asarray(a, dtype=float).reshape(-1) for a in (x, y, z))
    if not x.size == y.size == z.size:
        raise InputError(f"{source}: excitation, {second} and intensity have {x.size}, {y.size} and {z.size} "
                         f"points; they must be equal")
    if x.size < 4:
        raise InputError(f"{source}: {x.size} point(s); a map needs at least 2 × 2")
    for name, a in (("excitation", x), (second, y)):
        if not np.all(np.isfinite(a)):
            i = int(np.flatnonzero(~np.isfinite(a))[0])
            raise InputError(f"{source}: {name} of point {i} is {a[i]}")
    meta = dict(meta or {})
    xr, yr = np.round(x, _DECIMALS), np.round(y, _DECIMALS)
    ux, ix = np.unique(xr, return_inverse=True)
    uy, iy = np.unique(yr, return_inverse=True)
    flat = ix * uy.size + iy
    regular = ux.size * uy.size == x.size and np.unique(flat).size == x.size
    if regular:
        grid = np.empty(ux.size * uy.size)
        grid[flat] = z
        zz = grid.reshape(ux.size, uy.size)
        meta["grid"] = "regular"
    elif regrid is None:
        raise InputError(f"{source}: the {x.size} points do not lie on a regular grid ({ux.size} distinct "
                         f"excitation and {uy.size} distinct {second} energies); pass regrid=step_eV (or "
                         f"(excitation step, {second} step)) to bin them on a grid")
    else:
        sx, sy = _grid_steps(regrid)
        bx = np.floor((x - x.min()) / sx + 1e-9).astype(int)
        by = np.floor((y - y.min()) / sy + 1e-9).astype(int)
        nx, ny = bx.max() + 1, by.max() + 1
        total = np.zeros((nx, ny))
        count = np.zeros((nx, ny))
        np.add.at(total, (bx, by), z)
        np.add.at(count, (bx, by), 1)
        keep_r, keep_c = count.sum(axis=1) > 0, count.sum(axis=0) > 0
        with np.errstate(invalid="ignore"):
            zz = (total / count)[np.ix_(keep_r, keep_c)]
        ux = (x.min() + (np.arange(nx) + 0.5) * sx)[keep_r]
        uy = (y.min() + (np.arange(ny) + 0.5) * sy)[keep_c]
        meta.update({"grid": "binned", "regrid_step_eV": [sx, sy]})
        logger.info("%s: %d scattered points binned on a %d × %d grid", source, x.size, ux.size, uy.size)
    return _assemble_map(zz, ux, uy, second, "excitation", source, allow_negative, label, units, meta)


def read_rixs_plane(path, *, columns=(0, 1, 2), second: str = "emission", regrid=None,
                    delimiter: str | None = None, comments: str = "#", allow_negative: bool = False,
                    label: str | None = None, units: str = "arb. units") -> RixsMap:
    """Read a RIXS plane stored as (excitation, emission, intensity) points, one per line.

    Parameters
    ----------
    path : str or path-like
        Text file; comments, header line and delimiter as in :func:`~rixsim.io.read_spectrum`.
    columns : (int or str, int or str, int or str)
        The excitation, second-axis and intensity columns (index or header name).
    second : {"emission", "loss"}
        What the second column is: emission photon energy or energy loss (eV).
    regrid : float or (float, float), optional
        Grid step(s) in eV used to bin scattered points; without it, scattered points are an error.

    Returns
    -------
    RixsMap
        Rows = excitation; ``meta["grid"]`` is ``"regular"`` or ``"binned"``.

    Raises
    ------
    InputError
        Fewer than three columns, scattered points without ``regrid``, a damaged or empty file.
    """
    p = _path(path)
    data, names, _, comment_names = _read_text_table(p, comments, delimiter)
    names = names or comment_names
    if data.shape[1] < 3:
        raise InputError(f"'{p}' has {data.shape[1]} column(s); a RIXS plane needs three (excitation, "
                         f"{second}, intensity)")
    if len(columns) != 3:
        raise InputError(f"columns must name three columns (excitation, {second}, intensity); got {columns!r}")
    idx = [_column_index(c, names, data.shape[1], "columns", str(p)) for c in columns]
    meta = {"source": str(p), "format": "xyz points"}
    return plane_from_points(data[:, idx[0]], data[:, idx[1]], data[:, idx[2]], f"'{p}'", second=second,
                             regrid=regrid, allow_negative=allow_negative,
                             label=p.stem if label is None else label, units=units, meta=meta)

"""Multi-column text scans: an energy column, detector channels and the I0 monitor, read into a
:class:`~rixsim.results.Scan`.

Layout read: any delimiter (tab, comma, semicolon or whitespace, sniffed), ``#`` comment lines (those of the form
``key: value`` or ``key = value`` before the data become ``meta``), the column names either on a first
non-comment header line or on the last comment line before the data (``# energy  I0  TEY  TFY``), and the rows.
A scan taken downwards in energy is reversed with all its channels.
"""
from __future__ import annotations

import logging
import warnings
from typing import Mapping, Sequence

import numpy as np

from rixsim.errors import InputError
from rixsim.io._common import MaskedDataWarning, _monotonic_order, _path
from rixsim.io.text import _column_index, _read_text_table
from rixsim.results import Scan

logger = logging.getLogger(__name__)

__all__ = ["read_scan", "scan_from_columns"]


def _number_or_text(value: str):
    v = value.strip()
    try:
        return float(v)
    except ValueError:
        return v.strip("'\"")


def _header_meta(lines: Sequence[str]) -> dict:
    meta = {}
    for line in lines:
        for sep in (":", "="):
            key, found, value = line.partition(sep)
            if found and key.strip() and " " not in key.strip():
                meta[key.strip()] = _number_or_text(value)
                break
    return meta


def scan_from_columns(energy, channels: Mapping[str, np.ndarray], source: str, *, aliases=None,
                      label: str = "", meta=None) -> Scan:
    """Validate columns read from a file and make a :class:`Scan` (rows with NaN dropped, downward scans
    reversed, non-monotonic energies refused naming the index)."""
    e = np.asarray(energy, dtype=float)
    chans = {k: np.asarray(v, dtype=float) for k, v in channels.items()}
    meta = dict(meta or {})
    bad = np.isnan(e)
    for v in chans.values():
        bad |= np.isnan(v)
    if bad.any():
        idx = np.flatnonzero(bad)
        warnings.warn(f"{source}: {idx.size} row(s) with a missing value dropped, first at row {int(idx[0])}",
                      MaskedDataWarning, stacklevel=3)
        meta["n_masked"] = int(idx.size)
        e = e[~bad]
        chans = {k: v[~bad] for k, v in chans.items()}
    for name, v in chans.items():
        if np.isinf(v).any():
            i = int(np.flatnonzero(np.isinf(v))[0])
            raise InputError(f"{source}: channel {name!r} has an infinite value at row {i}")
    if _monotonic_order(e, "energy", source):
        logger.info("%s: scan taken downwards in energy; reversed with all its channels", source)
        e = e[::-1]
        chans = {k: v[::-1] for k, v in chans.items()}
        meta["reversed_axes"] = ["energy"]
    aliases = dict(aliases or {})
    for alias, target in aliases.items():
        if target not in chans:
            raise InputError(f"{source}: alias {alias!r} names column {target!r}, which is not in the file; "
                             f"columns are {list(chans)}")
    return Scan(e, chans, aliases=aliases, label=label, meta=meta)


def read_scan(path, *, energy: int | str = 0, channels: Sequence[int | str] | None = None,
              aliases: Mapping[str, str] | None = None, monitor: str | None = None,
              delimiter: str | None = None, comments: str = "#", label: str | None = None) -> Scan:
    """Read a two- or multi-column text scan (energy, channels, I0).

    Parameters
    ----------
    path : str or path-like
        Text file (layout in the module docstring).
    energy : int or str
        The energy column (eV): index or name.
    channels : sequence of int or str, optional
        The columns to keep (default all but the energy column).
    aliases : mapping, optional
        Extra names of columns, e.g. ``{"I0": "mon", "TEY": "drain"}``.
    monitor : str, optional
        Name (or index as a string) of the I0 column; stored as the alias ``"I0"`` so that
        ``scan.spectrum("TEY")`` divides by it.  A column already named ``I0`` needs nothing.
    delimiter, comments : str, optional
        Column separator (default sniffed) and comment marker.
    label : str, optional
        Label (default: the file name without suffix).

    Returns
    -------
    Scan
        Columns named from the header (``col0``, ``col1``, … when the file has none); ``meta`` holds the
        ``key: value`` comment lines, ``source`` and ``columns``.

    Raises
    ------
    InputError
        Empty or non-numeric file, ragged or truncated rows, an unknown column, non-monotonic energies.
    """
    p = _path(path)
    data, names, header, comment_names = _read_text_table(p, comments, delimiter)
    names = names or comment_names
    ncol = data.shape[1]
    if ncol < 2:
        raise InputError(f"'{p}' has one column; a scan needs an energy column and at least one channel")
    col_names = list(names) if names else [f"col{i}" for i in range(ncol)]
    ie = _column_index(energy, col_names, ncol, "energy", str(p))
    picked = [i for i in range(ncol) if i != ie] if channels is None else \
        [_column_index(c, col_names, ncol, "channels", str(p)) for c in channels]
    if ie in picked:
        raise InputError(f"'{p}': column {col_names[ie]!r} is both the energy and a channel")
    chans = {col_names[i]: data[:, i] for i in picked}
    aliases = dict(aliases or {})
    if monitor is not None:
        im = _column_index(monitor if not str(monitor).lstrip("-").isdigit() else int(monitor), col_names, ncol,
                           "monitor", str(p))
        if col_names[im] not in chans:
            raise InputError(f"'{p}': monitor column {col_names[im]!r} is not among the channels kept")
        if col_names[im] != "I0":
            aliases["I0"] = col_names[im]
    meta = _header_meta(header)
    meta.update({"source": str(p), "energy_column": col_names[ie], "columns": col_names})
    return scan_from_columns(data[:, ie], chans, f"'{p}'", aliases=aliases,
                             label=p.stem if label is None else label, meta=meta)

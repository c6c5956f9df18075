"""SRS ``.dat`` scan files as written by GDA at Diamond Light Source, read into a :class:`~rixsim.results.Scan`.

Layout (as in the I06-1 files of DanPorter/xmcd_analysis_example, ``data/236463.dat``)::

     &SRS
     SRSRUN=236463,SRSDAT=2021124,SRSTIM=2496,          Fortran-namelist lines: NAME=value, comma separated
     ...
    <MetaDataAtStart>
    command=scan fastEnergy 0.0 199.0 1.0 fesData 0 1   one name=value per line
    magz=6.0
    ...
    </MetaDataAtStart>
     &END
    fastEnergy<TAB>pIndex<TAB>C1<TAB>C2 ...              one tab-separated line of column names
    694.928700<TAB>    0<TAB>  44127.000000000000 ...    one row per point, tab separated

The namelist and metadata values become ``meta`` (numbers as floats, strings without quotes).
"""
from __future__ import annotations

import logging
from typing import Mapping

import numpy as np

from rixsim.errors import InputError
from rixsim.io._common import _existing_file
from rixsim.io.scans import _number_or_text, scan_from_columns
from rixsim.results import Scan

logger = logging.getLogger(__name__)

__all__ = ["read_srs", "is_srs"]

#: Channels of the I06-1 XAS scans in ``../shared/data/fe-l23-xmcd-i06`` (source: that folder's README, after
#: the files' publisher): ``C1`` drain-current TEY, ``C2`` the I0 monitor, ``C3`` photodiode TFY.
I06_ALIASES = {"TEY": "C1", "I0": "C2", "TFY": "C3"}


def is_srs(text_start: str) -> bool:
    """True when a file's first characters are an SRS header."""
    return text_start.lstrip().startswith("&SRS")


def _namelist(line: str, meta: dict) -> None:
    # NAME=value pairs separated by commas; quoted values may contain commas.
    key, buf, quote = None, "", None
    for ch in line + ",":
        if quote:
            buf += ch
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            buf += ch
        elif ch == "=" and key is None:
            key, buf = buf.strip(), ""
        elif ch == ",":
            if key:
                meta[key] = _number_or_text(buf)
            key, buf = None, ""
        else:
            buf += ch


def read_srs(path, *, energy: str | int = 0, aliases: Mapping[str, str] | None = None,
             label: str | None = None) -> Scan:
    """Read an SRS ``.dat`` scan (layout in the module docstring).

    Parameters
    ----------
    path : str or path-like
        The ``.dat`` file.
    energy : str or int
        The energy column (eV), by name or index; default the first (the scanned motor, e.g. ``fastEnergy``).
    aliases : mapping, optional
        Other names of columns, e.g. :data:`I06_ALIASES` ``{"TEY": "C1", "I0": "C2", "TFY": "C3"}`` so that
        ``scan.spectrum("TEY")`` is C1/C2.
    label : str, optional
        Default: the file name without suffix (the scan number).

    Returns
    -------
    Scan
        All columns as channels; ``meta`` holds the namelist and ``<MetaDataAtStart>`` values, ``source``
        and ``columns``.

    Raises
    ------
    InputError
        Not an SRS file (no ``&SRS``), a header without ``&END`` (truncated), no column line or no data rows,
        a row with the wrong number of fields (a truncated last line), a non-number, an unknown column.
    """
    p = _existing_file(path)
    source = f"'{p}'"
    try:
        text = p.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        text = p.read_text(encoding="latin-1")
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), "")
    if first.strip() != "&SRS":
        raise InputError(f"{source} is not an SRS file: its first line is {first.strip()[:40]!r}, expected '&SRS'")
    meta: dict = {}
    in_block = False
    end = None
    for i, raw in enumerate(lines):
        line = raw.strip()
        if i == 0 or not line or line == "&SRS":
            continue
        if line == "&END":
            end = i
            break
        if line.startswith("</MetaDataAtStart"):
            in_block = False
        elif line.startswith("<MetaDataAtStart"):
            in_block = True
        elif in_block:
            key, sep, value = line.partition("=")
            if sep:
                meta[key.strip()] = _number_or_text(value)
        else:
            _namelist(line, meta)
    if end is None:
        raise InputError(f"{source}: SRS header has no '&END' line (the file is truncated or not an SRS scan)")
    body = [(j + 1, ln) for j, ln in enumerate(lines[end + 1:], start=end + 1) if ln.strip()]
    if not body:
        raise InputError(f"{source}: no column-name line after '&END' (the file is truncated)")
    sep = "\t" if "\t" in body[0][1] else None
    names = [t.strip() for t in body[0][1].split(sep)] if sep else body[0][1].split()
    if len(body) < 2:
        raise InputError(f"{source}: no data rows after the column names (the file is truncated)")
    data = np.empty((len(body) - 1, len(names)))
    for r, (lineno, ln) in enumerate(body[1:]):
        tokens = [t.strip() for t in ln.split(sep)] if sep else ln.split()
        if len(tokens) != len(names):
            raise InputError(f"{source}, line {lineno}: {len(tokens)} fields where the column line has "
                             f"{len(names)} ({names[:4]}…); the file is truncated or damaged")
        try:
            data[r] = [float(t) for t in tokens]
        except ValueError:
            bad = next(t for t in tokens if not _is_float(t))
            raise InputError(f"{source}, line {lineno}: {bad!r} is not a number") from None
    if isinstance(energy, str):
        if energy not in names:
            raise InputError(f"{source}: no energy column {energy!r}; columns are {names}")
        ie = names.index(energy)
    else:
        ie = int(energy)
        if not -len(names) <= ie < len(names):
            raise InputError(f"{source}: energy column {ie} out of range ({len(names)} columns)")
        ie %= len(names)
    chans = {n: data[:, i] for i, n in enumerate(names) if i != ie}
    meta.update({"source": str(p), "format": "SRS", "energy_column": names[ie], "columns": names})
    return scan_from_columns(data[:, ie], chans, source, aliases=aliases,
                             label=p.stem if label is None else label, meta=meta)


def _is_float(t: str) -> bool:
    try:
        float(t)
    except ValueError:
        return False
    return True

"""ALS beamline 8.0.1 (iRIXS / qRIXS end stations) CCD scan folders: the beamline channels per excitation point
and one 1-D CCD spectrum per excitation energy.

Layout (as in the public picklerixs repository, ``data/irixs/2024-3-28/CCD Scan 16491/``)::

    CCD Scan 16491/
        CoL3_16491-AI.txt            the "Andor info" table
        Andor/CoL3_16491-00001-1D.txt   one CCD spectrum per row of the table (also -2D.txt, .tif, .png: not read)

``*AI.txt``: lines of scan settings (``X Motor: BL 8 Energy``, ``ROI: 1309 526 2539 1627``, …; lines with a
``key: value`` form go to ``meta``), then one tab-separated line of column names, e.g.
``Time  Frame #  BL 8 Energy  Izero  Izero 2  TFY  TEY  Sample Current  Beam Current  Total Flux  Counts
Background  Filename``, then one tab-separated row per excitation point (``Time`` is hh:mm:ss, ``Filename`` the
stem of that point's CCD file).

``*-1D.txt``: ``key: value`` lines (``Instrument: Andor``, ``X Size: 2048``, ``Total Counts: 410282``,
``Background: 337.000000``, …), a line ``X<TAB>Counts``, then one ``pixel<TAB>counts`` row per CCD pixel.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rixsim.errors import InputError
from rixsim.io._common import _assemble_map, _path
from rixsim.io.scans import _number_or_text, scan_from_columns
from rixsim.results import RixsMap, Scan

logger = logging.getLogger(__name__)

__all__ = ["read_als_rixs", "AlsRixsScan", "find_als_info"]

ENERGY_COLUMN = "BL 8 Energy"


@dataclass(frozen=True)
class AlsRixsScan:
    """One ALS 8.0.1 CCD scan: the beamline channels and the CCD spectra.

    Attributes
    ----------
    scan : Scan
        Energy = the excitation energy (``BL 8 Energy``, eV); channels = the numeric columns of ``*AI.txt``
        (``Izero`` also as ``I0``, ``Counts`` — the CCD total — also as ``PFY`` when there is no PFY column).
    ccd : RixsMap
        Raw CCD counts, rows = excitation, columns = CCD pixel: ``emission`` holds the *pixel index*
        (``relative`` is True and ``meta["emission_units"] == "pixel"``) until it is calibrated with
        :func:`rixsim.analysis.preprocess.fit_elastic_line`.
    """

    scan: Scan
    ccd: RixsMap


def find_als_info(folder) -> Path | None:
    """The ``*AI.txt`` file of an ALS scan folder, or None."""
    p = _path(folder)
    found = sorted(p.glob("*AI.txt")) if p.is_dir() else []
    if len(found) > 1:
        logger.info("'%s': several Andor info files %s; using '%s'", p, [f.name for f in found], found[0].name)
    return found[0] if found else None


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return path.read_text(encoding="latin-1").splitlines()


def _read_info(path: Path, energy_column: str):
    lines = _lines(path)
    head = next((i for i, ln in enumerate(lines) if energy_column in ln.split("\t")), None)
    if head is None:
        raise InputError(f"'{path}' has no column line with {energy_column!r}; not an ALS 8.0.1 AI table "
                         f"(or pass energy_column=)")
    meta = {}
    for ln in lines[:head]:
        key, sep, value = ln.partition(":")
        if sep and key.strip() and not value.startswith("\\"):  # not a bare Windows path "C:\..."
            meta[key.strip()] = _number_or_text(value)
    names = [t.strip() for t in lines[head].split("\t")]
    rows = [(n, ln) for n, ln in enumerate(lines[head + 1:], start=head + 2) if ln.strip()]
    if not rows:
        raise InputError(f"'{path}': no data rows after the column line (the file is truncated)")
    table = []
    for lineno, ln in rows:
        tokens = [t.strip() for t in ln.split("\t")]
        if len(tokens) != len(names):
            raise InputError(f"'{path}', line {lineno}: {len(tokens)} fields where the column line has "
                             f"{len(names)}; the file is truncated or damaged")
        table.append(tokens)
    cols = {n: [r[j] for r in table] for j, n in enumerate(names)}
    numeric, text = {}, {}
    for n, vals in cols.items():
        try:
            numeric[n] = np.array([float(v) for v in vals])
        except ValueError:
            text[n] = vals
    if energy_column not in numeric:
        raise InputError(f"'{path}': column {energy_column!r} is not numeric")
    return meta, numeric, text


def _read_ccd_1d(path: Path):
    lines = _lines(path)
    head = next((i for i, ln in enumerate(lines) if [t.strip() for t in ln.split("\t")] == ["X", "Counts"]), None)
    if head is None:
        raise InputError(f"'{path}' has no 'X<TAB>Counts' line; not an ALS CCD 1-D spectrum")
    meta = {}
    for ln in lines[:head]:
        key, sep, value = ln.partition(":")
        if sep:
            meta[key.strip()] = _number_or_text(value)
    rows = [ln.split("\t") for ln in lines[head + 1:] if ln.strip()]
    try:
        data = np.array([[float(a), float(b)] for a, b in rows])
    except ValueError:
        raise InputError(f"'{path}': a CCD row is not two numbers (pixel, counts); the file is damaged") from None
    if data.shape[0] < 2:
        raise InputError(f"'{path}': fewer than two CCD pixels (the file is truncated)")
    size = meta.get("X Size")
    if isinstance(size, float) and int(size) != data.shape[0]:
        raise InputError(f"'{path}': header says X Size: {int(size)} but {data.shape[0]} pixel rows are there "
                         f"(the file is truncated)")
    return meta, data[:, 0], data[:, 1]


def read_als_rixs(folder, *, energy_column: str = ENERGY_COLUMN, ccd_folder: str = "Andor",
                  label: str | None = None) -> AlsRixsScan:
    """Read an ALS 8.0.1 iRIXS/qRIXS CCD scan folder (layout in the module docstring).

    Parameters
    ----------
    folder : str or path-like
        The scan folder (holding ``*AI.txt`` and ``Andor/``), or the ``*AI.txt`` file itself.
    energy_column : str
        Column of the excitation energy (eV).
    ccd_folder : str
        Sub-folder of the 1-D CCD spectra (looked for beside the table when it does not exist).

    Returns
    -------
    AlsRixsScan
        The beamline channels as a :class:`Scan` and the CCD counts as a :class:`RixsMap` on a pixel axis,
        both ordered by increasing excitation energy.

    Raises
    ------
    InputError
        No ``*AI.txt``, a missing CCD file for a row, CCD spectra with different pixel axes, a damaged file.
    """
    p = _path(folder)
    info = p if p.is_file() else find_als_info(p)
    if info is None:
        raise InputError(f"'{p}' holds no '*AI.txt' table; not an ALS 8.0.1 CCD scan folder")
    meta, numeric, text = _read_info(info, energy_column)
    energy = numeric.pop(energy_column)
    order = np.argsort(energy, kind="stable")
    if np.any(np.diff(energy) < 0):
        logger.info("'%s': excitation points sorted by energy", info)
    meta.update({"source": str(info), "format": "ALS 8.0.1 CCD scan"})
    aliases = {}
    if "Izero" in numeric and "I0" not in numeric:
        aliases["I0"] = "Izero"
    if "Counts" in numeric and "PFY" not in numeric:
        aliases["PFY"] = "Counts"
    name = info.stem.removesuffix("-AI") if label is None else label
    scan = scan_from_columns(energy[order], {k: v[order] for k, v in numeric.items()}, f"'{info}'",
                             aliases=aliases, label=name, meta=meta)
    ccd_dir = info.parent / ccd_folder
    if not ccd_dir.is_dir():
        ccd_dir = info.parent
    stems = text.get("Filename")
    if stems is None:
        raise InputError(f"'{info}' has no 'Filename' column naming the CCD spectra")
    spectra, pixels, backgrounds = [], None, []
    for k in order:
        f = ccd_dir / f"{stems[k]}-1D.txt"
        if not f.is_file():
            raise InputError(f"'{info}': CCD spectrum '{f.name}' (row {k + 1}, {energy[k]} eV) is missing from "
                             f"'{ccd_dir}'")
        m, px, counts = _read_ccd_1d(f)
        if pixels is None:
            pixels = px
        elif px.shape != pixels.shape or np.any(px != pixels):
            raise InputError(f"'{f}': its pixel axis differs from the first CCD spectrum's")
        spectra.append(counts)
        backgrounds.append(m.get("Background"))
    ccd_meta = {"source": str(info), "format": "ALS 8.0.1 CCD", "emission_units": "pixel",
                "ccd_background": [b if isinstance(b, float) else None for b in backgrounds],
                "files": [f"{stems[k]}-1D.txt" for k in order]}
    ccd = _assemble_map(np.array(spectra), energy[order], pixels, "emission", "excitation", f"'{ccd_dir}'",
                        False, name, "counts", ccd_meta, relative=True)
    return AlsRixsScan(scan=scan, ccd=ccd)

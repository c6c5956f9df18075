"""Text tables: spectra (two or more columns, any delimiter) and maps as matrices, read and written."""
from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rixsim import validate
from rixsim.errors import InputError
from rixsim.io._common import (
    _SPECTRUM_MAGIC,
    MaskedDataWarning,
    _assemble_map,
    _check_intensity_values,
    _check_rows,
    _existing_file,
    _monotonic_order,
    _path,
    _second_axis,
)
from rixsim.io._encoding import _dumps, _loads
from rixsim.io.atomic import atomic_write
from rixsim.results import RixsMap, Spectrum

logger = logging.getLogger(__name__)

__all__ = ["read_spectrum", "write_spectrum_csv", "read_map_text"]



# --------------------------------------------------------------------------------------------------------------
# Text tables
# --------------------------------------------------------------------------------------------------------------

def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _sniff_delimiter(lines: Sequence[str]) -> str | None:
    """Return ',', ';' or '\\t' when every sampled data line contains it, else None (whitespace)."""
    sample = lines[:20]
    for delim in (";", ",", "\t"):  # ";" first: with decimal commas "," is in every line too
        if all(delim in line for line in sample):
            return delim
    return None


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    return [tok.strip() for tok in line.split(delimiter)]


def _read_text_table(path, comments: str, delimiter: str | None):
    """Read a numeric table.

    Returns ``(data, names, header_comments, comment_names)``: ``data`` is a 2-D float array (rows ×
    columns), ``names`` the column names when the first non-comment line is a header (else None),
    ``header_comments`` the comment lines (without the comment character) in order, and ``comment_names``
    the tokens of the last comment line before the data when they could be column names (one per column,
    not all numbers — the usual beamline header ``# energy I0 TEY``), else None.
    """
    p = _existing_file(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"file '{p}' is not a UTF-8 text file ({exc.reason} at byte {exc.start})") from exc
    header_comments = []
    last_comment_before_data = None
    content = []  # (line number, stripped content)
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw
        if comments:
            pos = line.find(comments)
            if pos >= 0:
                if not line[:pos].strip():
                    header_comments.append(line[pos + len(comments):].strip("\r\n"))
                    if not content:
                        last_comment_before_data = header_comments[-1].strip()
                line = line[:pos]
        line = line.strip()
        if line:
            content.append((lineno, line))
    if not content:
        raise InputError(f"file '{p}' contains no data (only comments or blank lines)")
    if delimiter is None:
        delimiter = _sniff_delimiter([c for _, c in content])
    names = None
    first_tokens = _split(content[0][1], delimiter)
    if not all(_is_number(t) for t in first_tokens if t != ""):
        numeric = [_is_number(t) for t in first_tokens]
        if any(numeric) and 2 * sum(numeric) >= len(first_tokens):   # mostly numbers: a bad data row
            c = numeric.index(False)
            raise InputError(f"file '{p}', line {content[0][0]}, column {c}: {first_tokens[c]!r} is not a number "
                             "(a header line holds column names only)")
        names = first_tokens
        content = content[1:]
        if not content:
            raise InputError(f"file '{p}' has a header line but no data rows")
    ncol = len(_split(content[0][1], delimiter))
    if names is not None and len(names) != ncol:
        raise InputError(f"file '{p}': header has {len(names)} column names but line {content[0][0]} has "
                         f"{ncol} columns")
    comment_names = None
    if last_comment_before_data:
        tokens = _split(last_comment_before_data, delimiter)
        if len(tokens) == ncol and not all(_is_number(t) for t in tokens) and all(tokens):
            comment_names = tokens
    data = np.empty((len(content), ncol))
    for r, (lineno, line) in enumerate(content):
        tokens = _split(line, delimiter)
        if len(tokens) != ncol:
            raise InputError(f"file '{p}', line {lineno}: {len(tokens)} columns where line {content[0][0]} "
                             f"has {ncol}")
        try:
            data[r] = np.array(tokens, dtype=float)  # fast path; the loop below finds what went wrong
            continue
        except ValueError:
            pass
        for c, tok in enumerate(tokens):
            if tok == "":
                data[r, c] = np.nan  # an empty field is a missing value, masked later
                continue
            try:
                data[r, c] = float(tok)
            except ValueError:
                raise InputError(f"file '{p}', line {lineno}, column {c}: {tok!r} is not a number") from None
    return data, names, header_comments, comment_names


def _column_index(sel, names, ncol: int, what: str, source: str) -> int:
    if isinstance(sel, str):
        if names is None:
            raise InputError(f"{what}={sel!r} is a column name but '{source}' has no header line; "
                             f"use a column index 0..{ncol - 1}")
        if sel not in names:
            raise InputError(f"{what}={sel!r} is not a column of '{source}'; columns are {names}")
        return names.index(sel)
    if isinstance(sel, (int, np.integer)) and not isinstance(sel, bool):
        i = int(sel)
        if not -ncol <= i < ncol:
            raise InputError(f"{what}={i} is out of range: '{source}' has {ncol} column(s)")
        return i % ncol
    raise InputError(f"{what} must be a column index (int) or name (str); got {sel!r}")


def _spectrum_from_columns(energy, intensity, source: str, allow_negative: bool):
    """Validate a spectrum's columns; return (energy, intensity, notes)."""
    notes: dict[str, Any] = {}
    e_nan = np.isnan(energy)
    if e_nan.all():
        raise InputError(f"energy column in {source} has no numbers")
    y_nan = np.isnan(intensity)
    drop = e_nan | y_nan
    if drop.any():
        idx = np.flatnonzero(drop)
        warnings.warn(f"{source}: {idx.size} point(s) with NaN energy or intensity masked (dropped), first at "
                      f"row {int(idx[0])}", MaskedDataWarning, stacklevel=3)
        notes["n_masked"] = int(idx.size)
        energy, intensity = energy[~drop], intensity[~drop]
    if energy.size < 2:
        raise InputError(f"{source} has fewer than 2 finite points ({energy.size}); cannot form a spectrum")
    if _monotonic_order(energy, "energy", source):
        logger.info("%s: energy axis is decreasing; reversed it together with the intensity", source)
        energy, intensity = energy[::-1], intensity[::-1]
        notes["reversed_axes"] = ["energy"]
    _check_intensity_values(intensity, source, allow_negative)
    if energy[0] > 0 and energy[-1] < 2.5:     # soft X-ray edges lie at 50–2000 eV
        validate.suspicious(f"{source}: energies {energy[0]:g}…{energy[-1]:g} look like keV; rixsim reads "
                            "energies in eV (multiply by 1000)", stacklevel=4)
    return energy, intensity, notes


def read_spectrum(path, *, energy_column: int | str = 0, intensity_column: int | str = 1,
                  delimiter: str | None = None, comments: str = "#", allow_negative: bool = False,
                  label: str | None = None, units: str | None = None) -> Spectrum:
    """Read a 1-D spectrum from a text or CSV file.

    Parameters
    ----------
    path : str or path-like
        Text file with one point per line.  Lines or line ends starting with ``comments`` are ignored; an
        optional first non-comment line of column names is recognised.  Files written by
        :func:`write_spectrum_csv` read back with their label, units and ``meta``.
    energy_column, intensity_column : int or str
        Column index (0-based, negative counts from the end) or column name from the header line (or, when
        there is none, from the last comment line before the data, e.g. ``# energy  I0  TEY  TFY``).
    delimiter : str, optional
        Column separator; by default sniffed (``,``, ``;``, tab, else whitespace).
    comments : str
        Comment marker.
    allow_negative : bool
        Accept negative intensities (e.g. after background subtraction).
    label, units : str, optional
        Override the label (default: the file name) and intensity units.

    Returns
    -------
    Spectrum
        Energy in eV, increasing.  ``meta`` holds ``source``, the columns used, and ``n_masked`` /
        ``reversed_axes`` when points were masked or the axis reversed.

    Raises
    ------
    InputError
        Empty file, non-numeric field, ragged rows, unknown column, non-monotonic energies, negative
        intensities (unless allowed), fewer than two finite points.
    """
    p = _path(path)
    data, names, header, comment_names = _read_text_table(p, comments, delimiter)
    if names is None and (isinstance(energy_column, str) or isinstance(intensity_column, str)):
        names = comment_names
    ncol = data.shape[1]
    ie = _column_index(energy_column, names, ncol, "energy_column", str(p))
    iy = _column_index(intensity_column, names, ncol, "intensity_column", str(p))
    if ie == iy:
        raise InputError(f"energy_column and intensity_column both select column {ie} of '{p}'")
    energy, intensity, notes = _spectrum_from_columns(data[:, ie], data[:, iy], f"'{p}'", allow_negative)

    stored = _parse_spectrum_header(header, p) if header and header[0].strip() == _SPECTRUM_MAGIC[1:].strip() \
        else None
    if stored is not None:
        meta = dict(stored["meta"])
        meta.update(notes)
        return Spectrum(energy, intensity, label=stored["label"] if label is None else label,
                        units=stored["units"] if units is None else units, relative=stored["relative"],
                        meta=meta)
    meta = {"source": str(p),
            "energy_column": names[ie] if names else ie,
            "intensity_column": names[iy] if names else iy}
    meta.update(notes)
    return Spectrum(energy, intensity, label=p.stem if label is None else label,
                    units="arb. units" if units is None else units, meta=meta)


def _parse_spectrum_header(header: list[str], p: Path) -> dict:
    fields = {}
    for line in header[1:]:
        key, sep, value = line.strip().partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    try:
        return {"label": json.loads(fields["label"]), "units": json.loads(fields["units"]),
                "relative": json.loads(fields["relative"]), "meta": _loads(fields["meta"])}
    except (KeyError, json.JSONDecodeError) as exc:
        raise InputError(f"'{p}' starts like a rixsim spectrum file but its header is damaged ({exc})") from exc


def write_spectrum_csv(path, spectrum: Spectrum, overwrite: bool = False) -> Path:
    """Write a spectrum as CSV (``energy_eV,intensity``) with label, units and meta in ``#`` header lines.

    Numbers are written with 17 significant digits, so :func:`read_spectrum` returns identical arrays.
    The write is atomic (see the module docstring).

    Raises
    ------
    FileExistsRefusal
        ``path`` exists and ``overwrite`` is False.
    InputError
        ``spectrum`` is not a Spectrum, or its meta holds values that cannot be stored.
    """
    if not isinstance(spectrum, Spectrum):
        raise InputError(f"write_spectrum_csv needs a Spectrum; got {type(spectrum).__name__}")
    # Encode everything before touching the disk: a bad meta must not leave a half-made file.
    header = "\n".join([
        _SPECTRUM_MAGIC,
        f"# label: {json.dumps(spectrum.label)}",
        f"# units: {json.dumps(spectrum.units)}",
        f"# relative: {json.dumps(bool(spectrum.relative))}",
        f"# meta: {_dumps(dict(spectrum.meta), 'spectrum.meta')}",
        "energy_eV,intensity",
    ])
    rows = "\n".join(f"{e!r},{y!r}" for e, y in zip(spectrum.energy.tolist(), spectrum.intensity.tolist()))

    def write(tmp):
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            _write_text(fh, header + "\n")
            _write_text(fh, rows + "\n")
            fh.flush()

    return atomic_write(path, overwrite, write)


def _write_text(fh, text: str) -> None:
    fh.write(text)




def read_map_text(path, *, excitation=None, emission=None, loss=None, rows: str = "excitation",
                  axes_in_file: bool = False, second_axis: str = "emission", delimiter: str | None = None,
                  comments: str = "#", allow_negative: bool = False, label: str | None = None,
                  units: str = "arb. units") -> RixsMap:
    """Read an mRIXS map stored as a text matrix, with its axes given separately or in the file.

    Parameters
    ----------
    path : str or path-like
        Text matrix (comments and delimiter as in :func:`read_spectrum`; no header line).
    excitation : array-like or path
        Excitation photon energies (eV), or a text file holding them (one per line).
    emission, loss : array-like or path
        Exactly one: the emission photon energies (eV) or the energy loss (eV, excitation − emission).
    rows : {"excitation", "emission", "loss"}
        Which axis runs along the matrix rows.  ``"excitation"``: the matrix is ``(n_exc, n_second)``; the
        other values mean the matrix is ``(n_second, n_exc)`` and it is transposed.
    axes_in_file : bool
        The axes are in the file instead: the first row holds the column axis and the first column the row
        axis (the corner value is ignored).  Then ``excitation``, ``emission`` and ``loss`` must not be
        given, and ``second_axis`` says whether the non-excitation axis is ``"emission"`` or ``"loss"``.
    allow_negative : bool
        Accept negative intensities.

    Returns
    -------
    RixsMap
        Intensity of shape ``(n_exc, n_second)`` with increasing axes.
    """
    p = _path(path)
    _check_rows(rows)
    if axes_in_file:
        if excitation is not None or emission is not None or loss is not None:
            raise InputError("axes_in_file=True reads the axes from the file; do not pass excitation=, "
                             "emission= or loss=")
        if second_axis not in ("emission", "loss"):
            raise InputError(f"second_axis must be 'emission' or 'loss'; got {second_axis!r}")
        second_name = second_axis
    else:
        if excitation is None:
            raise InputError(f"'{p}': give the excitation axis (excitation=) or pass axes_in_file=True")
        second, second_name = _second_axis(emission, loss, f"'{p}'")
    if rows != "excitation" and rows != second_name:
        raise InputError(f"rows={rows!r} but the second axis is {second_name}")
    data, names, _, _ = _read_text_table(p, comments, delimiter)
    if names is not None:
        raise InputError(f"'{p}': first line {names[:4]}... is not numeric; a map matrix has no header line "
                         f"(comment it out with {comments!r})")
    if axes_in_file:
        if data.shape[0] < 3 or data.shape[1] < 3:
            raise InputError(f"'{p}' has shape {data.shape}; with the axes in the first row and column a map "
                             f"needs at least 3 × 3 values")
        column_axis, row_axis, data = data[0, 1:], data[1:, 0], data[1:, 1:]
        x, s = (row_axis, column_axis) if rows == "excitation" else (column_axis, row_axis)
    else:
        x = _axis_values(excitation, "excitation", comments)
        s = _axis_values(second, second_name, comments)
    meta = {"source": str(p), "rows": rows}
    return _assemble_map(data, x, s, second_name, rows, f"'{p}'", allow_negative,
                         p.stem if label is None else label, units, meta)

def _axis_values(axis, name: str, comments: str = "#") -> np.ndarray:
    """An axis given as an array or as a file (one value per line, or the first column)."""
    if isinstance(axis, (str, os.PathLike)):
        data, _, _, _ = _read_text_table(axis, comments, None)
        if data.shape[1] != 1:
            logger.info("%s axis file '%s' has %d columns; using the first", name, axis, data.shape[1])
        return data[:, 0]
    try:
        arr = np.asarray(axis, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} axis must be a sequence of numbers (eV) or a file path; got {axis!r}") from exc
    return arr.reshape(-1) if arr.ndim == 0 else arr

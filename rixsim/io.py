"""Reading measured spectra and maps, and writing results, with validation.

Readers turn beamline files into :class:`~rixsim.results.Spectrum` and :class:`~rixsim.results.RixsMap`;
writers store rixsim results so that they read back with the same numbers and the same ``meta``.

Validation applied by every reader
----------------------------------
* **Axes** must be finite and strictly monotonic.  A strictly *decreasing* axis (a scan taken downwards) is
  reversed together with the data, and this is logged (``logging.INFO`` on the ``rixsim.io`` logger) and
  recorded in ``meta["reversed_axes"]``.  Any other ordering raises :class:`~rixsim.errors.InputError`
  naming the first offending index.
* **NaN intensities** are masked with a :class:`MaskedDataWarning` (issued through :func:`warnings.warn`,
  so ``warnings.simplefilter("error", MaskedDataWarning)`` turns it into an exception).  For a spectrum the
  NaN points are dropped; for a map they stay NaN in ``intensity`` (a map cannot lose single points) and
  their count is in ``meta["n_masked"]``.  A map row or column that is entirely NaN, or a spectrum with
  fewer than two finite points, raises :class:`~rixsim.errors.InputError`.  ±inf is never accepted.
* **Negative intensities** raise unless ``allow_negative=True`` (e.g. data after background subtraction).
* Shapes of axes and intensities must agree; empty files and non-numeric fields raise
  :class:`~rixsim.errors.InputError` naming the file and line.

Energies are in eV and absolute photon energies, as read off the beamline, unless a file says otherwise.

Writers are atomic: the file is written to a temporary file in the destination directory, flushed and
``fsync``-ed, then moved into place with :func:`os.replace` (or :func:`os.link` when refusing to overwrite).
A failure part-way leaves any existing file untouched and no temporary file behind.  An existing file is
only replaced when ``overwrite=True``; otherwise :class:`~rixsim.errors.FileExistsRefusal` is raised.

HDF5 layout written by :func:`write_map_hdf5` (NeXus-like, readable by NeXus tools)::

    /                         attrs: default="entry", creator="rixsim", rixsim_version
    /entry          NXentry   attrs: default="data";  dataset title
    /entry/data     NXdata    attrs: signal="intensity", axes=["excitation", "emission"|"loss"],
                                     excitation_indices=0, emission_indices|loss_indices=1
        intensity                    attrs: units, long_name
        excitation, emission|loss    attrs: units="eV", long_name
        [emission] [elastic]         (present when the map has them)
    /entry/meta       NXcollection  attrs: RixsMap.meta
    /entry/parameters NXparameters  attrs: the parameter set

Dictionaries are stored one key per attribute; strings, booleans, numbers and numeric arrays are stored
natively, and anything else (nested dicts, lists, tuples, None) as a JSON string whose key is listed in the
attribute ``rixsim_json_keys``.  Inside JSON, numpy arrays, tuples and complex numbers are tagged so that
they read back as the same type; dataclasses are stored as dicts.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .errors import FileExistsRefusal, InputError
from .results import RixsMap, Spectrum

__all__ = [
    "MaskedDataWarning",
    "read_spectrum",
    "read_map_text",
    "read_map_npz",
    "read_map_hdf5",
    "read_parameters_hdf5",
    "write_spectrum_csv",
    "write_map_hdf5",
]

logger = logging.getLogger(__name__)

_ROWS_ALLOWED = ("excitation", "emission", "loss")
_JSON_KEYS_ATTR = "rixsim_json_keys"
_SPECTRUM_MAGIC = "# rixsim spectrum v1"
_MAX_ATTR_BYTES = 32_000  # HDF5's compact attribute storage holds at most 64 kB per object header


class MaskedDataWarning(UserWarning):
    """Non-finite (NaN) data points were masked while reading a file."""


# --------------------------------------------------------------------------------------------------------------
# Small validation helpers
# --------------------------------------------------------------------------------------------------------------

def _path(path, what: str = "path") -> Path:
    try:
        return Path(os.fspath(path))
    except TypeError as exc:
        raise InputError(f"{what} must be a file path (str or os.PathLike); got {path!r}") from exc


def _existing_file(path) -> Path:
    p = _path(path)
    if p.is_dir():
        raise InputError(f"'{p}' is a directory, not a data file")
    if not p.is_file():
        raise InputError(f"file not found: '{p}'")
    if p.stat().st_size == 0:
        raise InputError(f"file '{p}' is empty")
    return p


def _monotonic_order(axis: np.ndarray, name: str, source: str) -> bool:
    """Check that ``axis`` is finite and strictly monotonic; return True when it is decreasing."""
    if axis.ndim != 1:
        raise InputError(f"{name} axis in {source} must be 1-D; got shape {axis.shape}")
    if axis.size < 2:
        raise InputError(f"{name} axis in {source} needs at least 2 points; got {axis.size}")
    bad = ~np.isfinite(axis)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{name} axis in {source} has a non-finite value {axis[i]} at index {i}")
    steps = np.diff(axis)
    if (steps > 0).all():
        return False
    if (steps < 0).all():
        return True
    # Neither: name the first index that breaks the direction set by the first step.
    direction = np.sign(steps[0]) if steps[0] != 0 else 1.0
    i = int(np.flatnonzero(np.sign(steps) != direction)[0])
    raise InputError(f"{name} axis in {source} is not strictly monotonic: {name}[{i}]={axis[i]} is followed by "
                     f"{name}[{i + 1}]={axis[i + 1]} (index {i + 1}); sort the data or remove duplicates")


def _check_intensity_values(z: np.ndarray, source: str, allow_negative: bool) -> None:
    """Refuse ±inf and (unless allowed) negative values; NaN is handled by the callers."""
    inf = np.isinf(z)
    if inf.any():
        idx = tuple(int(i) for i in np.argwhere(inf)[0])
        raise InputError(f"intensity in {source} has an infinite value at index {idx}")
    if not allow_negative:
        with np.errstate(invalid="ignore"):
            neg = z < 0
        if neg.any():
            idx = tuple(int(i) for i in np.argwhere(neg)[0])
            raise InputError(f"intensity in {source} has a negative value {z[idx]} at index {idx} "
                             f"({int(neg.sum())} negative in all); pass allow_negative=True for "
                             f"background-subtracted data")


def _check_rows(rows: str) -> str:
    if rows not in _ROWS_ALLOWED:
        raise InputError(f"rows must be one of {_ROWS_ALLOWED} (the axis that runs along the rows of the "
                         f"matrix); got {rows!r}")
    return rows


# --------------------------------------------------------------------------------------------------------------
# JSON and HDF5 attribute encoding of dictionaries
# --------------------------------------------------------------------------------------------------------------

def _to_jsonable(value, where: str):
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not np.isfinite(v):
            return {"__float__": repr(v)}
        return v
    if isinstance(value, (complex, np.complexfloating)):
        return {"__complex__": [float(value.real), float(value.imag)]}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise InputError(f"cannot store {where}: array of dtype {value.dtype} (numeric arrays only)")
        data = value.tolist() if value.dtype.kind != "c" else [[z.real, z.imag] for z in value.ravel().tolist()]
        return {"__ndarray__": _to_jsonable(data, where), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InputError(f"cannot store {where}: dictionary key {k!r} is not a string")
            out[k] = _to_jsonable(v, f"{where}[{k!r}]")
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _to_jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, where)
    raise InputError(f"cannot store {where}: value of type {type(value).__name__} is not a string, number, "
                     f"bool, None, numeric array, list, tuple, dict or dataclass")


def _from_jsonable(obj):
    if isinstance(obj, list):
        return [_from_jsonable(v) for v in obj]
    if isinstance(obj, dict):
        if "__ndarray__" in obj and set(obj) == {"__ndarray__", "dtype", "shape"}:
            dtype = np.dtype(obj["dtype"])
            data = _from_jsonable(obj["__ndarray__"])
            if dtype.kind == "c":
                arr = np.array([complex(re, im) for re, im in data], dtype=dtype)
            else:
                arr = np.array(data, dtype=dtype)
            return arr.reshape(obj["shape"])
        if set(obj) == {"__tuple__"}:
            return tuple(_from_jsonable(v) for v in obj["__tuple__"])
        if set(obj) == {"__complex__"}:
            re, im = obj["__complex__"]
            return complex(re, im)
        if set(obj) == {"__float__"}:
            return float(obj["__float__"])
        return {k: _from_jsonable(v) for k, v in obj.items()}
    return obj


def _dumps(value, where: str) -> str:
    return json.dumps(_to_jsonable(value, where), allow_nan=False)


def _loads(text: str):
    return _from_jsonable(json.loads(text))


def _is_native_attr(value) -> bool:
    if isinstance(value, (str, bool, int, float, np.bool_, np.integer, np.floating)):
        return not isinstance(value, str) or "\x00" not in value
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.ndim >= 1 and value.size > 0:
        return True
    return False


def _write_dict_attrs(h5obj, mapping: Mapping[str, Any], where: str) -> None:
    if not isinstance(mapping, Mapping):
        raise InputError(f"{where} must be a dict; got {type(mapping).__name__}")
    json_keys = []
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise InputError(f"{where} key {key!r} is not a string")
        if key == _JSON_KEYS_ATTR or key.startswith("NX_") or key in ("NX_class",):
            raise InputError(f"{where} key {key!r} is reserved")
        native = _is_native_attr(value)
        stored = value if native else _dumps(value, f"{where}[{key!r}]")
        if not native:
            json_keys.append(key)
        size = stored.nbytes if isinstance(stored, np.ndarray) else len(str(stored).encode("utf-8"))
        if size > _MAX_ATTR_BYTES:
            # HDF5 attributes are limited to 64 kB in the default (compact) storage: big values go into
            # datasets of the same name in this group.
            h5obj.create_dataset(key, data=stored)
        else:
            h5obj.attrs[key] = stored
    h5obj.attrs[_JSON_KEYS_ATTR] = json.dumps(json_keys)


def _py_scalar(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _read_dict_attrs(h5obj) -> dict:
    json_keys = set(json.loads(_py_scalar(h5obj.attrs.get(_JSON_KEYS_ATTR, "[]"))))
    items = [(k, v) for k, v in h5obj.attrs.items() if k not in (_JSON_KEYS_ATTR, "NX_class")]
    items += [(k, d[()]) for k, d in h5obj.items() if hasattr(d, "shape")]  # values too big for attributes
    out = {}
    for key, value in items:
        value = _py_scalar(value)
        out[key] = _loads(value) if key in json_keys else value
    return out


# --------------------------------------------------------------------------------------------------------------
# Atomic writing
# --------------------------------------------------------------------------------------------------------------

def _fsync_dir(directory: Path) -> None:
    # Makes the rename durable on POSIX; not possible (nor needed) everywhere, so failures are ignored.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    # os.umask can only be read by setting it, which is not thread-safe; Linux shows it in /proc.
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _atomic_write(path, overwrite: bool, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, fsync it, and move it into place."""
    target = _path(path)
    if target.is_dir():
        raise InputError(f"output path '{target}' is a directory")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"output directory '{directory}' does not exist")
    if target.exists() and not overwrite:
        raise FileExistsRefusal(f"'{target}' exists; pass overwrite=True to replace it")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the permissions open() would
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(tmp, target)
        else:
            # os.link fails if the target appeared meanwhile: no clobbering even under a race.
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise FileExistsRefusal(f"'{target}' exists; pass overwrite=True to replace it") from None
            except OSError:  # file system without hard links
                if target.exists():
                    raise FileExistsRefusal(f"'{target}' exists; pass overwrite=True to replace it") from None
                os.replace(tmp, target)
            if os.path.exists(tmp):
                os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)
    logger.info("wrote %s", target)
    return target


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

    return _atomic_write(path, overwrite, write)


def _write_text(fh, text: str) -> None:
    fh.write(text)


# --------------------------------------------------------------------------------------------------------------
# Maps
# --------------------------------------------------------------------------------------------------------------

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


def _assemble_map(intensity, excitation, second, second_name: str, rows: str, source: str,
                  allow_negative: bool, label: str, units: str, meta: dict, emission=None,
                  elastic=None, relative: bool = False) -> RixsMap:
    """Validate and orient a map; ``second_name`` is 'emission' or 'loss'."""
    z = np.asarray(intensity, dtype=float)
    if z.ndim != 2:
        raise InputError(f"intensity in {source} must be a 2-D matrix; got shape {z.shape}")
    if z.size == 0:
        raise InputError(f"intensity in {source} is empty (shape {z.shape})")
    x = np.asarray(excitation, dtype=float).reshape(-1)
    s = np.asarray(second, dtype=float).reshape(-1)
    if rows != "excitation":
        z = z.T
        if elastic is not None:
            elastic = np.asarray(elastic, dtype=float).T
    if z.shape != (x.size, s.size):
        raise InputError(f"shape mismatch in {source}: intensity is {z.shape} "
                         f"({'rows' if rows == 'excitation' else 'columns'} = excitation) but the excitation axis "
                         f"has {x.size} and the {second_name} axis {s.size} points; check rows={rows!r}")
    reversed_axes = []
    if _monotonic_order(x, "excitation", source):
        x, z = x[::-1], z[::-1, :]
        elastic = None if elastic is None else np.asarray(elastic)[::-1, :]
        reversed_axes.append("excitation")
    if _monotonic_order(s, second_name, source):
        s, z = s[::-1], z[:, ::-1]
        elastic = None if elastic is None else np.asarray(elastic)[:, ::-1]
        if emission is not None and second_name == "loss":
            emission = np.asarray(emission)[::-1]
        reversed_axes.append(second_name)
    if reversed_axes:
        logger.info("%s: decreasing %s axis reversed together with the intensity", source,
                    " and ".join(reversed_axes))
        meta["reversed_axes"] = reversed_axes
    nan = np.isnan(z)
    if nan.any():
        full_rows = np.flatnonzero(nan.all(axis=1))
        if full_rows.size:
            i = int(full_rows[0])
            raise InputError(f"{source}: every intensity at excitation index {i} ({x[i]} eV) is NaN; "
                             f"remove that row")
        full_cols = np.flatnonzero(nan.all(axis=0))
        if full_cols.size:
            j = int(full_cols[0])
            raise InputError(f"{source}: every intensity at {second_name} index {j} ({s[j]} eV) is NaN; "
                             f"remove that column")
        first = tuple(int(i) for i in np.argwhere(nan)[0])
        warnings.warn(f"{source}: {int(nan.sum())} NaN intensit{'y' if nan.sum() == 1 else 'ies'} masked (left "
                      f"NaN in the map), first at index {first}", MaskedDataWarning, stacklevel=3)
        meta["n_masked"] = int(nan.sum())
    _check_intensity_values(z, source, allow_negative)
    if second_name == "loss":
        return RixsMap(excitation=x, emission=emission, intensity=z, loss=s, elastic=elastic, label=label,
                       units=units, relative=relative, meta=meta)
    return RixsMap(excitation=x, emission=s, intensity=z, elastic=elastic, label=label, units=units,
                   relative=relative, meta=meta)


def _second_axis(emission, loss, source: str):
    if (emission is None) == (loss is None):
        raise InputError(f"{source}: give exactly one of emission= or loss= for the second axis "
                         f"(got {'both' if emission is not None else 'neither'})")
    return (emission, "emission") if emission is not None else (loss, "loss")


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


def read_map_npz(path, *, intensity_key: str = "intensity", excitation_key: str = "excitation",
                 emission_key: str | None = None, loss_key: str | None = None, rows: str = "excitation",
                 allow_negative: bool = False, label: str | None = None,
                 units: str = "arb. units") -> RixsMap:
    """Read an mRIXS map from a numpy ``.npz`` archive.

    Parameters
    ----------
    intensity_key, excitation_key : str
        Names of the arrays in the archive.
    emission_key, loss_key : str, optional
        Name of the second axis array; when neither is given, ``"emission"`` or ``"loss"`` is used, whichever
        the archive holds (error if both or neither).
    rows : {"excitation", "emission", "loss"}
        Which axis runs along the rows of the intensity array (see :func:`read_map_text`).
    """
    p = _existing_file(path)
    _check_rows(rows)
    try:
        archive = np.load(p, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InputError(f"'{p}' is not a readable .npz archive ({exc})") from exc
    with archive:
        keys = list(archive.keys())
        if emission_key is None and loss_key is None:
            present = [k for k in ("emission", "loss") if k in keys]
            if len(present) != 1:
                raise InputError(f"'{p}': cannot tell the second axis; pass emission_key= or loss_key= "
                                 f"(arrays in the file: {keys})")
            emission_key, loss_key = (present[0], None) if present[0] == "emission" else (None, present[0])
        if emission_key is not None and loss_key is not None:
            raise InputError("give only one of emission_key= and loss_key=")
        second_key = emission_key if emission_key is not None else loss_key
        second_name = "emission" if emission_key is not None else "loss"
        for what, key in (("intensity_key", intensity_key), ("excitation_key", excitation_key),
                          (f"{second_name}_key", second_key)):
            if key not in keys:
                raise InputError(f"'{p}' has no array {key!r} ({what}); arrays in the file: {keys}")
        z, x, s = archive[intensity_key], archive[excitation_key], archive[second_key]
    if rows != "excitation" and rows != second_name:
        raise InputError(f"rows={rows!r} but the second axis read is {second_name}")
    meta = {"source": str(p), "keys": {"intensity": intensity_key, "excitation": excitation_key,
                                       second_name: second_key}, "rows": rows}
    return _assemble_map(z, x, s, second_name, rows, f"'{p}'", allow_negative,
                         p.stem if label is None else label, units, meta)


# --------------------------------------------------------------------------------------------------------------
# HDF5 / NeXus
# --------------------------------------------------------------------------------------------------------------

def _h5py():
    import h5py  # imported on use: reading text files must not need it
    return h5py


def _attr_str(obj, name, default=None):
    v = obj.attrs.get(name, default)
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v[()]
    return _py_scalar(v) if not isinstance(v, np.ndarray) else [_py_scalar(t) for t in v.tolist()]


def _nx_class(obj) -> str | None:
    v = _attr_str(obj, "NX_class")
    return v if isinstance(v, str) else None


def _find_nxdata(f, source: str):
    """Follow NeXus ``default`` attributes (root → NXentry → NXdata); fall back to the first NXdata found."""
    h5py = _h5py()
    group = f
    for _ in range(3):
        default = _attr_str(group, "default")
        if not isinstance(default, str) or default not in group:
            break
        group = group[default]
        if _nx_class(group) == "NXdata":
            return group
    found = []

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and _nx_class(obj) == "NXdata":
            found.append(name)
    f.visititems(visit)
    if not found:
        raise InputError(f"{source}: no NXdata group found (no 'default' attributes, no NX_class='NXdata'); "
                         f"pass intensity_path= and the axis paths")
    if len(found) > 1:
        logger.info("%s: several NXdata groups %s; using '%s'", source, found, found[0])
    return f[found[0]]


_EXC_WORDS = ("excitation", "incident", "energy_in", "mono", "photon_energy", "exc")
_EMI_WORDS = ("emission", "emitted", "energy_out", "emi")
_LOSS_WORDS = ("loss", "energy_transfer", "eloss")


def _classify_axis(name: str) -> str | None:
    low = name.lower().rsplit("/", 1)[-1]
    for kind, words in (("loss", _LOSS_WORDS), ("emission", _EMI_WORDS), ("excitation", _EXC_WORDS)):
        if any(w in low for w in words):
            return kind
    return None


def _nxdata_paths(nxdata, source: str):
    """Signal and axis dataset paths of an NXdata group, with which axis runs along the rows."""
    signal = _attr_str(nxdata, "signal")
    if not isinstance(signal, str) or signal not in nxdata:
        # Old NeXus style: the dataset carrying signal=1.
        candidates = [k for k, v in nxdata.items() if str(_attr_str(v, "signal", "")) in ("1", "True")]
        if not candidates:
            raise InputError(f"{source}: NXdata '{nxdata.name}' names no signal dataset (attribute 'signal')")
        signal = candidates[0]
    axes = _attr_str(nxdata, "axes")
    if isinstance(axes, str):
        axes = [a.strip() for a in axes.replace(":", ",").split(",")] if ("," in axes or ":" in axes) else [axes]
    if not isinstance(axes, list) or len(axes) != 2:
        raise InputError(f"{source}: NXdata '{nxdata.name}' axes attribute {axes!r} does not name two axes; "
                         f"pass the axis paths")
    # *_indices attributes take precedence over the order in `axes`.
    by_dim: dict[int, str] = {}
    for i, a in enumerate(axes):
        if a == ".":
            continue
        idx = _attr_str(nxdata, f"{a}_indices", i)
        idx = idx[0] if isinstance(idx, list) else idx
        by_dim[int(idx)] = a
    if set(by_dim) != {0, 1}:
        raise InputError(f"{source}: NXdata '{nxdata.name}' gives no axis for each dimension (axes={axes})")
    kinds = [_classify_axis(by_dim[0]) or _classify_axis(str(_attr_str(nxdata[by_dim[0]], "long_name", ""))),
             _classify_axis(by_dim[1]) or _classify_axis(str(_attr_str(nxdata[by_dim[1]], "long_name", "")))]
    if kinds[0] in ("emission", "loss") and kinds[1] in (None, "excitation"):
        row_axis, exc_name, second_name, second = kinds[0], by_dim[1], kinds[0], by_dim[0]
    else:
        second_kind = kinds[1] if kinds[1] in ("emission", "loss") else "emission"
        if kinds[1] not in ("emission", "loss"):
            logger.info("%s: cannot tell what axis '%s' is; taking rows = excitation ('%s') and columns = "
                        "emission", source, by_dim[1], by_dim[0])
        row_axis, exc_name, second_name, second = "excitation", by_dim[0], second_kind, by_dim[1]
    base = nxdata.name.rstrip("/")
    return (f"{base}/{signal}", f"{base}/{exc_name}", f"{base}/{second}", second_name, row_axis)


def _dataset(f, path: str, what: str, source: str):
    h5py = _h5py()
    if path not in f:
        raise InputError(f"{source}: no dataset at {what}={path!r}")
    obj = f[path]
    if not isinstance(obj, h5py.Dataset):
        raise InputError(f"{source}: {what}={path!r} is a group, not a dataset")
    return obj


def read_map_hdf5(path, *, intensity_path: str | None = None, excitation_path: str | None = None,
                  emission_path: str | None = None, loss_path: str | None = None, rows: str | None = None,
                  allow_negative: bool = False, label: str | None = None,
                  units: str | None = None) -> RixsMap:
    """Read an mRIXS map from HDF5/NeXus.

    Without paths, the NeXus default plot is followed: the root's ``default`` attribute names an NXentry,
    whose ``default`` names an NXdata group (else the first NXdata group found); its ``signal`` attribute
    names the intensity and its ``axes`` / ``<axis>_indices`` attributes the axes per dimension.  Axis names
    (or ``long_name`` attributes) containing "loss" / "emission" / "excitation" or "incident" tell which is
    which; otherwise the first dimension is taken as excitation and the second as emission.

    Files written by :func:`write_map_hdf5` read back with identical arrays, label, units and ``meta``;
    their parameter set is read by :func:`read_parameters_hdf5`.

    Parameters
    ----------
    intensity_path, excitation_path : str, optional
        Dataset paths; give both (with one of ``emission_path`` / ``loss_path``) to bypass NeXus discovery.
    emission_path, loss_path : str, optional
        Path of the second axis (emission photon energy or energy loss, eV).
    rows : {"excitation", "emission", "loss"}, optional
        Which axis runs along the first dimension of the intensity dataset; default from NeXus attributes,
        or "excitation" when the paths are given.
    """
    p = _existing_file(path)
    h5py = _h5py()
    source = f"'{p}'"
    if rows is not None:
        _check_rows(rows)
    given = [intensity_path, excitation_path, emission_path if emission_path is not None else loss_path]
    if any(g is not None for g in given) and not all(g is not None for g in given):
        raise InputError(f"{source}: give intensity_path, excitation_path and one of emission_path/loss_path "
                         f"together, or none of them to use the NeXus default")
    if emission_path is not None and loss_path is not None:
        raise InputError("give only one of emission_path= and loss_path=")
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise InputError(f"{source} is not a readable HDF5 file ({exc})") from exc
    with f:
        if intensity_path is None:
            nxdata = _find_nxdata(f, source)
            intensity_path, excitation_path, second_path, second_name, nx_rows = _nxdata_paths(nxdata, source)
            rows = nx_rows if rows is None else rows
        else:
            nxdata = None
            second_path = emission_path if emission_path is not None else loss_path
            second_name = "emission" if emission_path is not None else "loss"
            rows = "excitation" if rows is None else rows
        if rows != "excitation" and rows != second_name:
            raise InputError(f"rows={rows!r} but the second axis read is {second_name}")
        dz = _dataset(f, intensity_path, "intensity_path", source)
        z = dz[()]
        x = _dataset(f, excitation_path, "excitation_path", source)[()]
        s = _dataset(f, second_path, f"{second_name}_path", source)[()]
        file_units = _attr_str(dz, "units")
        ours = _py_scalar(f.attrs.get("creator", "")) == "rixsim" and nxdata is not None
        if ours:
            entry = nxdata.parent
            meta = _read_dict_attrs(entry["meta"]) if "meta" in entry else {}
            stored_label = _py_scalar(entry["title"][()]) if "title" in entry else ""
            relative = bool(_py_scalar(nxdata.attrs.get("relative", False)))
            emission = nxdata["emission"][()] if second_name == "loss" and "emission" in nxdata else None
            elastic = nxdata["elastic"][()] if "elastic" in nxdata else None
        else:
            meta = {"source": str(p), "paths": {"intensity": intensity_path, "excitation": excitation_path,
                                                second_name: second_path}, "rows": rows}
            stored_label, relative, emission, elastic = p.stem, False, None, None
    if np.asarray(z).dtype.kind not in "biuf":
        raise InputError(f"{source}: intensity dataset {intensity_path!r} is not numeric ({np.asarray(z).dtype})")
    return _assemble_map(z, x, s, second_name, rows, source, allow_negative,
                         stored_label if label is None else label,
                         (file_units if isinstance(file_units, str) else "arb. units") if units is None else units,
                         meta, emission=emission, elastic=elastic, relative=relative)


def read_parameters_hdf5(path) -> dict:
    """Return the parameter set stored by :func:`write_map_hdf5` (``/entry/parameters``)."""
    p = _existing_file(path)
    h5py = _h5py()
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise InputError(f"'{p}' is not a readable HDF5 file ({exc})") from exc
    with f:
        entry = _attr_str(f, "default", "entry")
        key = f"{entry}/parameters"
        if key not in f:
            raise InputError(f"'{p}' has no parameter group '/{key}' (not written by rixsim?)")
        return _read_dict_attrs(f[key])


def write_map_hdf5(path, rixs_map: RixsMap, parameters: Mapping[str, Any] | None = None,
                   overwrite: bool = False) -> Path:
    """Write an mRIXS map with its axes, units, meta and parameter set to HDF5 (NeXus-like layout).

    The layout is in the module docstring.  The write is atomic; :func:`read_map_hdf5` returns the same
    arrays, label, units and meta, and :func:`read_parameters_hdf5` the parameters.

    Parameters
    ----------
    path : str or path-like
        Output file (``.h5`` / ``.nxs``).
    rixs_map : RixsMap
        The map.
    parameters : dict
        The full parameter set that produced the map (nested dicts allowed; stored as attributes, nested
        values as JSON strings).
    overwrite : bool
        Replace an existing file.

    Raises
    ------
    FileExistsRefusal
        ``path`` exists and ``overwrite`` is False.
    InputError
        Not a RixsMap, or meta/parameters hold values that cannot be stored.
    """
    if not isinstance(rixs_map, RixsMap):
        raise InputError(f"write_map_hdf5 needs a RixsMap; got {type(rixs_map).__name__}")
    parameters = {} if parameters is None else parameters
    if not isinstance(parameters, Mapping):
        raise InputError(f"parameters must be a dict; got {type(parameters).__name__}")
    # Encoding errors surface here, before any file exists.
    for k, v in dict(rixs_map.meta).items():
        _to_jsonable(v, f"meta[{k!r}]")
    for k, v in parameters.items():
        _to_jsonable(v, f"parameters[{k!r}]")
    from . import __version__
    h5py = _h5py()
    second_name = "loss" if rixs_map.on_loss_axis else "emission"
    second = rixs_map.loss if rixs_map.on_loss_axis else rixs_map.emission

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            f.attrs["default"] = "entry"
            f.attrs["creator"] = "rixsim"
            f.attrs["rixsim_version"] = __version__
            entry = f.create_group("entry")
            entry.attrs["NX_class"] = "NXentry"
            entry.attrs["default"] = "data"
            entry.create_dataset("title", data=rixs_map.label)
            data = entry.create_group("data")
            data.attrs["NX_class"] = "NXdata"
            data.attrs["signal"] = "intensity"
            data.attrs["axes"] = ["excitation", second_name]
            data.attrs["excitation_indices"] = 0
            data.attrs[f"{second_name}_indices"] = 1
            data.attrs["relative"] = bool(rixs_map.relative)
            dz = data.create_dataset("intensity", data=rixs_map.intensity)
            dz.attrs["units"] = rixs_map.units
            dz.attrs["long_name"] = rixs_map.label or "intensity"
            for name, values, long_name in (
                    ("excitation", rixs_map.excitation, "excitation photon energy"),
                    (second_name, second, "energy loss (excitation - emission)" if second_name == "loss"
                     else "emission photon energy")):
                d = data.create_dataset(name, data=values)
                d.attrs["units"] = "eV"
                d.attrs["long_name"] = long_name
            if rixs_map.on_loss_axis and rixs_map.emission is not None:
                d = data.create_dataset("emission", data=rixs_map.emission)
                d.attrs["units"] = "eV"
            if rixs_map.elastic is not None:
                d = data.create_dataset("elastic", data=rixs_map.elastic)
                d.attrs["units"] = rixs_map.units
            meta = entry.create_group("meta")
            meta.attrs["NX_class"] = "NXcollection"
            _write_dict_attrs(meta, dict(rixs_map.meta), "meta")
            par = entry.create_group("parameters")
            par.attrs["NX_class"] = "NXparameters"
            _write_dict_attrs(par, dict(parameters), "parameters")

    return _atomic_write(path, overwrite, write)

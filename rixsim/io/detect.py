"""One entry point for measured files: :func:`read_any` looks at a path and calls the reader of its layout."""
from __future__ import annotations

import logging

from rixsim.errors import InputError
from rixsim.io._common import _path
from rixsim.io.als import AlsRixsScan
from rixsim.results import RixsMap, Scan, Spectrum

logger = logging.getLogger(__name__)

__all__ = ["read_any", "detect_format"]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

FORMATS = ("als", "srs", "larch", "nexus", "nexus-scan", "rixsim-spectrum", "rixs-plane", "scan")


def detect_format(path) -> str:
    """Name the layout of ``path``: one of ``als`` (an ALS 8.0.1 scan folder or its ``*AI.txt``), ``srs``,
    ``larch`` (Larch RIXS HDF5), ``nexus`` (other HDF5), ``rixsim-spectrum`` (written by
    :func:`~rixsim.io.write_spectrum_csv`), ``rixs-plane`` (three columns whose first repeats: excitation,
    emission, intensity points) or ``scan`` (any other column text).

    Raises
    ------
    InputError
        Missing path, an empty file, a directory that is not an ALS scan folder.
    """
    from rixsim.io.als import find_als_info
    p = _path(path)
    if p.is_dir():
        if find_als_info(p) is not None:
            return "als"
        raise InputError(f"'{p}' is a directory without an '*AI.txt' table; read_any reads ALS 8.0.1 scan "
                         f"folders and single files")
    if not p.is_file():
        raise InputError(f"file not found: '{p}'")
    with open(p, "rb") as fh:
        start = fh.read(4096)
    if not start:
        raise InputError(f"file '{p}' is empty")
    if start.startswith(_HDF5_SIGNATURE):
        import h5py

        from rixsim.io.larch import is_larch_rixs
        with h5py.File(p, "r") as f:
            return "larch" if is_larch_rixs(f) else "nexus"
    text = start.decode("utf-8", errors="replace")
    if text.lstrip().startswith("&SRS"):
        return "srs"
    if p.name.endswith("AI.txt") and "BL 8 Energy" in text:
        return "als"
    if text.startswith("# rixsim spectrum"):
        return "rixsim-spectrum"
    return "rixs-plane" if _looks_like_plane(p) else "scan"


def _looks_like_plane(p) -> bool:
    from rixsim.io.text import _read_text_table
    try:
        data, _, _, _ = _read_text_table(p, "#", None)
    except InputError:
        return False
    if data.shape[1] != 3 or data.shape[0] < 4:
        return False
    # A scan's energy column does not repeat; a plane's excitation column does, once per emission point.
    import numpy as np
    return np.unique(data[:, 0]).size <= data.shape[0] // 2


def read_any(path, **options) -> Scan | RixsMap | Spectrum | AlsRixsScan:
    """Read a measured file (or ALS scan folder) with the reader of its layout (:func:`detect_format`).

    Keyword options go to that reader: :func:`~rixsim.io.read_als_rixs` (returns its ``AlsRixsScan``),
    :func:`~rixsim.io.read_srs`, :func:`~rixsim.io.read_larch_rixs`, :func:`~rixsim.io.read_map_hdf5`
    (or :func:`~rixsim.io.read_scan_hdf5` when ``energy_path=`` and ``channel_paths=`` are given),
    :func:`~rixsim.io.read_spectrum`, :func:`~rixsim.io.read_rixs_plane` or :func:`~rixsim.io.read_scan`.
    ``format=`` (one of :data:`FORMATS`) skips the detection.  The format used is logged.

    Raises
    ------
    InputError
        The reader's own complaint, prefixed with the format that was detected.
    """
    fmt = options.pop("format", None) or detect_format(path)
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {FORMATS}; got {fmt!r}")
    logger.info("%s: read as %s", path, fmt)
    from rixsim.io import als, hdf5, hdf5_scans, larch, rixs_plane, scans, srs, text
    if fmt == "nexus" and "channel_paths" in options:
        fmt = "nexus-scan"
    reader = {"als": als.read_als_rixs, "srs": srs.read_srs, "larch": larch.read_larch_rixs,
              "nexus": hdf5.read_map_hdf5,
              "nexus-scan": hdf5_scans.read_scan_hdf5, "rixsim-spectrum": text.read_spectrum,
              "rixs-plane": rixs_plane.read_rixs_plane, "scan": scans.read_scan}[fmt]
    try:
        return reader(path, **options)
    except InputError as exc:
        raise InputError(f"{path} (read as {fmt}): {exc}") from exc
    except TypeError as exc:
        raise InputError(f"{path} (read as {fmt}): {exc}") from exc

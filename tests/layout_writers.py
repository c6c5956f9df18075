"""Minimal writers of the public file layouts that rixsim reads, used to make test fixtures.

Written from the layouts as published (sources beside each writer), independently of rixsim's readers: this
module imports numpy and h5py only, never ``rixsim``, so that a reader bug cannot be mirrored by its writer.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def write_srs(path, columns: dict, namelist: dict | None = None, metadata: dict | None = None) -> Path:
    """An SRS ``.dat`` file as GDA writes it at Diamond (I06-1 files of DanPorter/xmcd_analysis_example,
    ``data/236463.dat``): ``" &SRS"``, namelist lines, a ``<MetaDataAtStart>`` block of name=value lines,
    ``" &END"``, a tab-separated column line and tab-separated rows (first column ``%.6f``, an integer
    ``pIndex`` column ``%5d``, the others ``%20.12f``)."""
    namelist = namelist or {"SRSRUN": 1, "SRSDAT": 2021124, "SRSTIM": 2496}
    lines = [" &SRS"]
    lines.append(" " + "".join(f"{k}={v}," for k, v in namelist.items()))
    lines.append(" SRSSTN='Bran',SRSPRJ='I06-1   ',SRSEXP='Emulator',")
    lines.append("<MetaDataAtStart>")
    for k, v in (metadata or {}).items():
        lines.append(f"{k}={v}")
    lines.append("</MetaDataAtStart>")
    lines.append(" &END")
    names = list(columns)
    lines.append("\t".join(names))
    n = len(next(iter(columns.values())))
    for r in range(n):
        fields = []
        for j, name in enumerate(names):
            v = columns[name][r]
            if j == 0:
                fields.append(f"{v:.6f}")
            elif name == "pIndex":
                fields.append(f"{int(v):5d}")
            else:
                fields.append(f"{v:20.12f}")
        lines.append("\t".join(fields))
    p = Path(path)
    p.write_text("\n".join(lines) + "\n", encoding="ascii")
    return p


def write_column_text(path, columns: dict, *, delimiter: str = "\t", names: str = "line",
                      comments: list[str] | None = None) -> Path:
    """A plain column file: ``# comment`` lines, the column names on a header line (``names="line"``), on the
    last comment line (``names="comment"``) or nowhere (``names=None``), then one row per point with
    ``repr`` floats (the layout of ``numpy.savetxt`` with a header, and of most beamline ASCII exports)."""
    out = [f"# {c}" for c in (comments or [])]
    keys = list(columns)
    sep = " " if delimiter is None else delimiter
    if names == "comment":
        out.append("# " + sep.join(keys))
    elif names == "line":
        out.append(sep.join(keys))
    n = len(next(iter(columns.values())))
    for r in range(n):
        out.append(sep.join(repr(float(columns[k][r])) for k in keys))
    p = Path(path)
    p.write_text("\n".join(out) + "\n", encoding="utf-8")
    return p


def write_xyz_plane(path, x, y, z, *, delimiter: str = " ", header: str | None = None) -> Path:
    """Three columns ``e_in e_out signal``, one point per line (Larch ``RixsData.load_from_ascii``)."""
    out = [] if header is None else [header]
    out += [f"{a!r}{delimiter}{b!r}{delimiter}{c!r}" for a, b, c in zip(map(float, x), map(float, y), map(float, z))]
    p = Path(path)
    p.write_text("\n".join(out) + "\n", encoding="utf-8")
    return p


def write_larch_rixs_h5(path, x, y, z, *, sample_name: str = "SAMPLE_UNKNOWN", ene_unit: str = "eV",
                        writer_version: str | None = "1.5.2", grid: tuple | None = None) -> Path:
    """The flat dictionary that xraylarch's ``get_rixs_id26`` builds and saves with silx ``dicttoh5``
    (``larch/io/rixs_esrf_id26.py``): root datasets ``_x``, ``_y``, ``_z`` and string scalars
    (``writer_version``, ``sample_name``, ``ene_unit``, …).  ``grid=(ene_in, ene_out, rixs_map)`` adds the
    gridded plane that ``RixsData.save_to_h5`` stores (``rixs_map`` of shape (len(ene_out), len(ene_in)))."""
    import h5py
    with h5py.File(path, "w") as f:
        f["_x"] = np.asarray(x, float)
        f["_y"] = np.asarray(y, float)
        f["_z"] = np.asarray(z, float)
        f["mode"] = "rixs"
        if writer_version is not None:
            f["writer_name"] = "get_rixs_id26"
            f["writer_version"] = writer_version
            f["writer_timestamp"] = "2026-12-01_1200"
        f["counter_signal"] = "zap_det_dtc"
        f["counter_mon"] = "arr_I02sum"
        f["sample_name"] = sample_name
        f["ene_unit"] = ene_unit
        f["scans"] = np.array([1, 2, 3])
        if grid is not None:
            f["ene_in"], f["ene_out"], f["rixs_map"] = (np.asarray(a, float) for a in grid)
    return Path(path)


AI_COLUMNS = ["Time", "Frame #", "BL 8 Energy", "Izero", "Izero 2", "TFY", "TEY", "Sample Current",
              "Beam Current", "Total Flux", "Counts", "Background", "Filename"]


def write_als_scan(folder, stem: str, energy, channels: dict, ccd_counts, *, newline: str = "\n",
                   background: float = 337.0) -> Path:
    """An ALS 8.0.1 CCD scan folder as in the public picklerixs repository
    (``data/irixs/2024-3-28/CCD Scan 16491/``): ``<stem>-AI.txt`` (12 setting lines, a tab-separated column line
    ``AI_COLUMNS``, one row per excitation point with ``%.8f`` numbers, ``hh:mm:ss`` time and the CCD file stem)
    and ``Andor/<stem>-NNNNN-1D.txt`` (9 ``key: value`` lines, ``X<TAB>Counts``, one ``pixel<TAB>count`` row
    per pixel).  ``channels`` gives the numeric columns (missing ones are written as 0)."""
    folder = Path(folder)
    (folder / "Andor").mkdir(parents=True, exist_ok=True)
    ccd_counts = np.asarray(ccd_counts)
    n, npix = ccd_counts.shape
    head = ["SU", "Andor", "Scan Type: One Motor From File",
            "C:\\Beamline Controls\\BCS Setup Data\\ScanFiles\\test\\CoL3.txt", "X Motor: BL 8 Energy",
            "Delay After Move (s): 0.10000000", "Stay at End: 0", "Curvature: 0.0", "Clip to ROI: No",
            "ROI: 1309 526 2539 1627", "Background ROI: None",
            f"Data File Path: C:\\Beamline Controls\\BCS Setup Data\\240328\\{folder.name}"]
    rows = ["\t".join(AI_COLUMNS)]
    for i in range(n):
        values = []
        for c in AI_COLUMNS:
            if c == "Time":
                values.append(f"18:{26 + i // 60:02d}:{i % 60:02d}")
            elif c == "Frame #":
                values.append(f"{i + 1:.8f}")
            elif c == "BL 8 Energy":
                values.append(f"{energy[i]:.8f}")
            elif c == "Counts":
                values.append(f"{float(ccd_counts[i].sum()):.8f}")
            elif c == "Filename":
                values.append(f"{stem}-{i + 1:05d}")
            else:
                values.append(f"{float(channels.get(c, np.zeros(n))[i]):.8f}")
        rows.append("\t".join(values))
    (folder / f"{stem}-AI.txt").write_bytes((newline.join(head + rows) + newline).encode("ascii"))
    for i in range(n):
        lines = ["Instrument: Andor", f"X Size: {npix}", "Y Size: 64", "Total Flux: 0.000",
                 f"Total Counts: {int(ccd_counts[i].sum())}", f"Background: {background:.6f}", "Curvature: 0.0",
                 "Clipped to ROI: No", "ROI: 1309 526 2539 1627", "X\tCounts"]
        lines += [f"{j}\t{int(ccd_counts[i, j])}" for j in range(npix)]
        (folder / "Andor" / f"{stem}-{i + 1:05d}-1D.txt").write_bytes((newline.join(lines) + newline).encode("ascii"))
    return folder


def write_nexus_scan(path, energy, channels: dict) -> Path:
    """A NeXus scan: ``/entry`` (NXentry) with ``/entry/data`` (NXdata) holding ``energy`` (units eV) and one
    dataset per channel (signal = the first channel)."""
    import h5py
    with h5py.File(path, "w") as f:
        entry = f.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        data = entry.create_group("data")
        data.attrs["NX_class"] = "NXdata"
        data.attrs["signal"] = next(iter(channels))
        data.attrs["axes"] = "energy"
        d = data.create_dataset("energy", data=np.asarray(energy, float))
        d.attrs["units"] = "eV"
        for k, v in channels.items():
            data.create_dataset(k, data=np.asarray(v, float))
    return Path(path)

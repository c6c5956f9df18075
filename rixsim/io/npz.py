"""Maps stored as numpy ``.npz`` archives."""
from __future__ import annotations

import numpy as np

from rixsim.errors import InputError
from rixsim.io._common import _assemble_map, _check_rows, _existing_file
from rixsim.results import RixsMap

__all__ = ["read_map_npz"]



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



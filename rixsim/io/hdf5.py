"""HDF5 / NeXus maps: find the NXdata group or follow user-given dataset paths; rixsim's own layout
with its parameters."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from rixsim.errors import InputError
from rixsim.io._common import _assemble_map, _check_rows, _existing_file
from rixsim.io._encoding import (
    _py_scalar,
    _read_dict_attrs,
    _to_jsonable,
    _write_dict_attrs,
)
from rixsim.io.atomic import atomic_write
from rixsim.results import RixsMap

logger = logging.getLogger(__name__)

__all__ = ["read_map_hdf5", "read_parameters_hdf5", "write_map_hdf5"]



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
    from rixsim import __version__
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

    return atomic_write(path, overwrite, write)

"""JSON and HDF5-attribute encoding of metadata dictionaries that read back as the same types."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from rixsim.errors import InputError
from rixsim.io._common import _JSON_KEYS_ATTR, _MAX_ATTR_BYTES

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



"""The example the explorer ships: a simulated Ni²⁺ (Oh, 10Dq = 1.1 eV, 300 K) L3 mRIXS map.

``examples/ni2_oh_map.h5`` (in this package, ≈ 180 kB) is :func:`example_config` computed as ``rixsim rixs``
computes a model file (:func:`rixsim.interfaces.cli.compute_rixs`) and written by
:func:`rixsim.io.write_map_hdf5`; ``examples/ni2_oh.toml`` is the same model file for the model panel.
:func:`write_example` regenerates the map, and the tests check that the shipped file still equals it.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["EXAMPLE_MAP", "EXAMPLE_MODEL", "example_config", "write_example"]

_HERE = Path(__file__).resolve().parent / "examples"
#: the shipped example map (HDF5, rixsim's NeXus-like layout)
EXAMPLE_MAP = _HERE / "ni2_oh_map.h5"
#: the model file it was computed from
EXAMPLE_MODEL = _HERE / "ni2_oh.toml"


def example_config() -> dict:
    """The model-file dict of the example: Ni²⁺ Oh, 10Dq 1.1 eV, 300 K, powder, π in, 2θ = 90°, excitation
    850–860 eV in 0.2 eV, emission 840–862 eV in 0.1 eV, final-state 0.1 eV and resolution 0.2 eV FWHM."""
    from rixsim.interfaces.config import load_config
    cfg = load_config(EXAMPLE_MODEL)
    return {"title": cfg.title, "model": dict(cfg.model), "xas": dict(cfg.xas), "rixs": dict(cfg.rixs)}


def write_example(path=EXAMPLE_MAP, overwrite: bool = False) -> Path:
    """Compute the example map from :data:`EXAMPLE_MODEL` and write it to ``path`` (atomic)."""
    from rixsim.interfaces.cli import compute_rixs
    from rixsim.interfaces.config import load_config
    from rixsim.io import write_map_hdf5
    _, rcfg, rmap = compute_rixs(load_config(EXAMPLE_MODEL), progress=False)
    return write_map_hdf5(path, rmap, rcfg.as_parameters(), overwrite=overwrite)

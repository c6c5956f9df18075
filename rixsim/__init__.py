"""rixsim — cluster-model sXAS and mRIXS of battery materials.

The common case::

    import numpy as np, rixsim
    model = rixsim.atomic_model("Mn3+", tendq=1.8)                  # Oh, tabulated HF × 0.8
    spec = rixsim.xas(model, np.linspace(635, 660, 1000), temperature_k=300, gauss_fwhm=0.2)
    rmap = rixsim.rixs_map(model.transitions(300), np.linspace(638, 646, 100), loss=np.linspace(-1, 10, 500))

Energies are in eV; photon energies are absolute.  Widths are FWHM unless a name says ``hwhm``.
"""
from .crystal_field import CrystalField
from .errors import ConvergenceError, FileExistsRefusal, InputError, RixsimError, UnknownIonError
from .model import ChargeTransfer, ClusterModel, Multiplet, atomic_model, cluster_model
from .results import RixsMap, Spectrum
from .spectra import xas, xas_sticks
from .transitions import EdgeTransitions

__version__ = "0.1.0"

# Modules loaded on first use (keeps `import rixsim` light: no h5py, lmfit or matplotlib until needed).
_LAZY = {
    "rixs_map": ("rixs", "rixs_map"),
    "rixs_spectrum": ("rixs", "rixs_spectrum"),
    "parse_ion": ("tables", "parse_ion"),
    "available_ions": ("tables", "available_ions"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'rixsim' has no attribute {name!r}")


__all__ = ["atomic_model", "cluster_model", "xas", "xas_sticks", "ClusterModel", "Multiplet", "ChargeTransfer",
           "CrystalField", "EdgeTransitions", "Spectrum", "RixsMap", "RixsimError", "InputError",
           "UnknownIonError", "ConvergenceError", "FileExistsRefusal", *_LAZY]

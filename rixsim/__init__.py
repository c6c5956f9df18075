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
    "constant_emission_cut": ("rixs", "constant_emission_cut"),
    "constant_loss_cut": ("rixs", "constant_loss_cut"),
    "ScatteringGeometry": ("geometry", "ScatteringGeometry"),
    "polarization_channels": ("geometry", "polarization_channels"),
    "parse_ion": ("tables", "parse_ion"),
    "available_ions": ("tables", "available_ions"),
    "sweep": ("sweep", "sweep"),
    "read_spectrum": ("io", "read_spectrum"),
    "read_map_text": ("io", "read_map_text"),
    "read_map_npz": ("io", "read_map_npz"),
    "read_map_hdf5": ("io", "read_map_hdf5"),
    "write_spectrum_csv": ("io", "write_spectrum_csv"),
    "write_map_hdf5": ("io", "write_map_hdf5"),
    "fit_linear_combination": ("lcf", "fit_linear_combination"),
    "FitModel": ("fitting", "FitModel"),
    "fit_xas": ("fitting", "fit_xas"),
    "fit_rixs_map": ("fitting", "fit_rixs_map"),
    "fit_redox_map": ("redox", "fit_redox_map"),
    "spfy_quick_look": ("redox", "spfy_quick_look"),
    "predict_channels": ("channels", "predict_channels"),
    "channels_from_map": ("channels", "channels_from_map"),
    "Sample": ("sample", "Sample"),
    "Layer": ("sample", "Layer"),
    "Geometry": ("sample", "Geometry"),
    "correct_self_absorption": ("selfabsorption", "correct_self_absorption"),
    "OxygenKEdge": ("oxygen", "OxygenKEdge"),
    "oxygen_k_xas": ("oxygen", "oxygen_k_xas"),
    "lattice_oxygen_map": ("oxygen", "lattice_oxygen_map"),
    "OxidisedOxygenParameters": ("vibronic", "OxidisedOxygenParameters"),
    "vibronic_rixs_map": ("vibronic", "vibronic_rixs_map"),
    "vibronic_xas": ("vibronic", "vibronic_xas"),
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

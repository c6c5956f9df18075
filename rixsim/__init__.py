"""rixsim — cluster-model sXAS and mRIXS of battery materials.

The common case::

    import numpy as np, rixsim
    model = rixsim.atomic_model("Mn3+", tendq=1.8)                  # Oh, tabulated HF × 0.8
    spec = rixsim.xas(model, np.linspace(635, 660, 1000), temperature_k=300, gauss_fwhm=0.2)
    rmap = rixsim.rixs_map(model.transitions(300), np.linspace(638, 646, 100), loss=np.linspace(-1, 10, 500))

Energies are in eV; photon energies are absolute.  Widths are FWHM unless a name says ``hwhm``.
"""
from rixsim.cluster.crystal_field import CrystalField
from rixsim.cluster.model import (
    ChargeTransfer,
    ClusterModel,
    Multiplet,
    atomic_model,
    cluster_model,
)
from rixsim.cluster.transitions import EdgeTransitions
from rixsim.errors import (
    ConvergenceError,
    FileExistsRefusal,
    InputError,
    MemoryBudgetError,
    RixsimError,
    RixsimWarning,
    SuspiciousInputWarning,
    UnknownIonError,
)
from rixsim.results import RixsMap, Spectrum
from rixsim.spectroscopy.xas import xas, xas_sticks

__version__ = "0.1.0"

# Modules loaded on first use (keeps `import rixsim` light: no h5py, lmfit or matplotlib until needed).
_LAZY = {
    "rixs_map": ("spectroscopy.rixs", "rixs_map"),
    "rixs_spectrum": ("spectroscopy.rixs", "rixs_spectrum"),
    "constant_emission_cut": ("spectroscopy.rixs", "constant_emission_cut"),
    "constant_loss_cut": ("spectroscopy.rixs", "constant_loss_cut"),
    "ScatteringGeometry": ("spectroscopy.geometry", "ScatteringGeometry"),
    "polarization_channels": ("spectroscopy.geometry", "polarization_channels"),
    "parse_ion": ("cluster.tables", "parse_ion"),
    "available_ions": ("cluster.tables", "available_ions"),
    "sweep": ("interfaces.sweep", "sweep"),
    "read_spectrum": ("io", "read_spectrum"),
    "read_map_text": ("io", "read_map_text"),
    "read_map_npz": ("io", "read_map_npz"),
    "read_map_hdf5": ("io", "read_map_hdf5"),
    "write_spectrum_csv": ("io", "write_spectrum_csv"),
    "write_map_hdf5": ("io", "write_map_hdf5"),
    "fit_linear_combination": ("analysis.lcf", "fit_linear_combination"),
    "FitModel": ("analysis.fitting", "FitModel"),
    "fit_xas": ("analysis.fitting", "fit_xas"),
    "fit_rixs_map": ("analysis.fitting", "fit_rixs_map"),
    "fit_redox_map": ("oxygen.redox", "fit_redox_map"),
    "spfy_quick_look": ("oxygen.redox", "spfy_quick_look"),
    "predict_channels": ("detection.channels", "predict_channels"),
    "channels_from_map": ("detection.channels", "channels_from_map"),
    "Sample": ("detection.sample", "Sample"),
    "Layer": ("detection.sample", "Layer"),
    "Geometry": ("detection.sample", "Geometry"),
    "correct_self_absorption": ("detection.selfabsorption", "correct_self_absorption"),
    "OxygenKEdge": ("oxygen.kedge", "OxygenKEdge"),
    "oxygen_k_xas": ("oxygen.kedge", "oxygen_k_xas"),
    "lattice_oxygen_map": ("oxygen.kedge", "lattice_oxygen_map"),
    "OxidisedOxygenParameters": ("oxygen.potentials", "OxidisedOxygenParameters"),
    "vibronic_rixs_map": ("oxygen.vibronic", "vibronic_rixs_map"),
    "vibronic_xas": ("oxygen.vibronic", "vibronic_xas"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f"rixsim.{module}"), attr)
    raise AttributeError(f"module 'rixsim' has no attribute {name!r}")


__all__ = ["atomic_model", "cluster_model", "xas", "xas_sticks", "ClusterModel", "Multiplet", "ChargeTransfer",
           "CrystalField", "EdgeTransitions", "Spectrum", "RixsMap", "RixsimError", "InputError",
           "UnknownIonError", "ConvergenceError", "FileExistsRefusal", "MemoryBudgetError", "RixsimWarning",
           "SuspiciousInputWarning", *_LAZY]

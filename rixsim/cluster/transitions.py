"""The eigen-decomposed core-level problem that every spectrum is computed from.

A cluster model (``rixsim.cluster.model``) diagonalises its initial-state Hamiltonian (e.g. 2p⁶3dⁿ, with ligand
configurations) and its core-excited Hamiltonian (2p⁵3dⁿ⁺¹ ...), and expresses the dipole operator between the
two eigenbases.  XAS, RIXS maps and detection channels all start from this one object.

Conventions
-----------
* Energies are in eV and *relative*: the lowest initial state is at 0.  The absolute photon energy of the
  transition ``i → m`` is ``edge_offset + intermediate_energies[m] - initial_energies[i]``.
* ``dipole[a, m, i] = <m| T_a |i>`` with ``a = 0, 1, 2`` the Cartesian components x, y, z of the model's frame.
  ``T_a`` is the absorption (annihilate-core, create-valence) part of the dipole operator; the emission
  amplitude ``<f| T_a^† |m>`` is ``conj(dipole[a, m, f])``.  Normalisation: summed over a, m and all
  initial states of a closed-shell-core, empty-valence configuration, ``|T|²`` equals the number of valence
  spin-orbitals reachable (10 for 2p→3d), so isotropic XAS integrates to (10 − n)/3 for dⁿ.
* ``initial_weights`` are Boltzmann populations (sum 1); states with zero weight are still final states of RIXS.
* ``intermediate_fwhm[m]`` is the Lorentzian FWHM (eV) of core-excited state m (e.g. interpolated between the
  L3 and L2 lifetime widths by the state's 2p_{3/2} hole character).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from rixsim.errors import InputError


@dataclass(frozen=True)
class EdgeTransitions:
    initial_energies: np.ndarray
    initial_weights: np.ndarray
    intermediate_energies: np.ndarray
    intermediate_fwhm: np.ndarray
    dipole: np.ndarray
    edge_offset: float = 0.0
    temperature_k: float = 0.0
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        ei = np.asarray(self.initial_energies, dtype=float)
        wi = np.asarray(self.initial_weights, dtype=float)
        em = np.asarray(self.intermediate_energies, dtype=float)
        gm = np.asarray(self.intermediate_fwhm, dtype=float)
        d = np.asarray(self.dipole)
        if wi.shape != ei.shape or gm.shape != em.shape:
            raise InputError("weights/widths must match their energies in shape")
        if d.shape != (3, em.size, ei.size):
            raise InputError(f"dipole has shape {d.shape}; expected {(3, em.size, ei.size)}")
        if (gm < 0).any():
            raise InputError("intermediate_fwhm must be >= 0")
        for name, val in (("initial_energies", ei), ("initial_weights", wi), ("intermediate_energies", em),
                          ("intermediate_fwhm", gm), ("dipole", d)):
            bad = ~np.isfinite(val)
            if bad.any():
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                raise InputError(f"{name} has a non-finite value {val[idx]} at index {idx}")
        if (wi < 0).any() or (wi.size and wi.sum() <= 0):
            raise InputError(f"initial_weights must be >= 0 with a positive sum; got {wi!r}")
        for name, val in (("initial_energies", ei), ("initial_weights", wi), ("intermediate_energies", em),
                          ("intermediate_fwhm", gm), ("dipole", d)):
            val.setflags(write=False)
            object.__setattr__(self, name, val)

    @property
    def populated(self) -> np.ndarray:
        """Indices of initial states with non-negligible Boltzmann weight."""
        return np.flatnonzero(self.initial_weights > 1e-10 * self.initial_weights.max())

    @property
    def n_initial(self) -> int:
        return self.initial_energies.size

    @property
    def n_intermediate(self) -> int:
        return self.intermediate_energies.size

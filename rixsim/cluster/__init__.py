"""Cluster models: an ion's shells, its Hamiltonian per configuration sector, and the edge transitions.

Holds
    :mod:`~rixsim.cluster.tables` (Hartree–Fock Slater integrals, spin–orbit constants, edges, core-hole widths,
    each with its source), :mod:`~rixsim.cluster.crystal_field` (Oh, D4h, D3d and custom crystal fields),
    :mod:`~rixsim.cluster.model` (atomic multiplets and ligand-to-metal charge transfer, ``atomic_model`` and
    ``cluster_model``), :mod:`~rixsim.cluster.transitions` (:class:`EdgeTransitions`: eigenstates, Boltzmann
    weights and dipole matrices — everything a spectrum needs, computed once).

May import
    :mod:`rixsim.manybody` and the shared foundations.

Imported by
    :mod:`rixsim.spectroscopy`, :mod:`rixsim.oxygen`, :mod:`rixsim.analysis`, :mod:`rixsim.interfaces`.
"""

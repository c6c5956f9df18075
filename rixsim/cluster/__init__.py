"""Cluster models: an ion's shells, its Hamiltonian per configuration sector, and the edge transitions.

Holds
    :mod:`~rixsim.cluster.tables` (Hartree–Fock Slater integrals, spin–orbit constants of 3d and 4d ions, edges,
    core-hole widths, each with its source), :mod:`~rixsim.cluster.crystal_field` (Oh, D4h, D3d, Td, C4v, D2h and
    custom crystal fields), :mod:`~rixsim.cluster.ligand_field` (crystal field and hybridisation from ligand
    positions: angular overlap, point charges, Slater–Koster), :mod:`~rixsim.cluster.model` (atomic multiplets,
    ligand-to-metal and metal-to-ligand charge transfer, ``atomic_model`` and ``cluster_model``), :mod:`~rixsim.cluster.transitions` (:class:`EdgeTransitions`: eigenstates, Boltzmann
    weights and dipole matrices — everything a spectrum needs, computed once).

May import
    :mod:`rixsim.manybody` and the shared foundations.

Imported by
    :mod:`rixsim.spectroscopy`, :mod:`rixsim.oxygen`, :mod:`rixsim.analysis`, :mod:`rixsim.interfaces`.
"""

"""The O K edge: the cluster's ligand-hole pre-edge, lattice-oxygen maps, the vibronic oxidised-oxygen feature
and the oxygen-redox decision.

Holds
    :mod:`~rixsim.oxygen.kedge` (an O 1s shell added to a charge-transfer cluster; electrode examples),
    :mod:`~rixsim.oxygen.kedge_krylov` (the same O K edge by Krylov methods, for sectors too large to diagonalise),
    :mod:`~rixsim.oxygen.potentials` (parameters of the vibronic model and the seed review's two recipes),
    :mod:`~rixsim.oxygen.franck_condon` (vibrational levels and overlaps), :mod:`~rixsim.oxygen.vibronic`
    (Franck–Condon Kramers–Heisenberg maps and XAS), :mod:`~rixsim.oxygen.solvation` (the ion-solvation-shell
    comparison), :mod:`~rixsim.oxygen.redox` (templates, the redox fit, detection limits).

May import
    :mod:`rixsim.spectroscopy`, :mod:`rixsim.cluster`, :mod:`rixsim.manybody` and the shared foundations.

Imported by
    :mod:`rixsim.interfaces` and the validation scripts.
"""

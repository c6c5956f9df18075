"""The many-body core: Fock-space determinants, angular algebra, second-quantised operators, Krylov solvers.

Holds
    :mod:`~rixsim.manybody.basis` (determinants as uint64 bitstrings; the bit, orbital and sign conventions are
    written down there once), :mod:`~rixsim.manybody.angular` (Gaunt coefficients, real/complex harmonics,
    spin–orbit and Coulomb tensors), :mod:`~rixsim.manybody.operators` (sparse one- and two-body operators in a
    basis), :mod:`~rixsim.manybody._kernels` (the numba kernels behind them: arrays and scalars only), and
    :mod:`~rixsim.manybody.lanczos` (Lanczos tridiagonalisation and continued fractions).

May import
    numpy, scipy, numba and the shared foundations (:mod:`rixsim.errors`, :mod:`rixsim.validate`).

Imported by
    :mod:`rixsim.cluster`, :mod:`rixsim.spectroscopy`, :mod:`rixsim.oxygen`.  Nothing here knows about ions,
    edges or spectra.
"""

"""Spectra from edge transitions: XAS, Kramers–Heisenberg RIXS maps, line shapes and scattering geometry.

Holds
    :mod:`~rixsim.spectroscopy.xas` (isotropic, linear and circular XAS, Lanczos XAS for large sectors),
    :mod:`~rixsim.spectroscopy.rixs` (maps, spectra and cuts with interference, exact powder average),
    :mod:`~rixsim.spectroscopy._kh_kernels` (the numba intensity kernel), :mod:`~rixsim.spectroscopy.broadening`
    (Lorentzian, Gaussian and Voigt line shapes, FWHM everywhere), :mod:`~rixsim.spectroscopy.geometry`
    (polarisation vectors, scattering geometry, rank decomposition of the powder average),
    :mod:`~rixsim.spectroscopy.fluorescence` (Raman + fluorescence of relaxed core-excited states),
    :mod:`~rixsim.spectroscopy.krylov` (Kramers–Heisenberg and XAS by shifted Krylov spaces, never diagonalising
    the core-excited sector, for clusters too large for the dense path).

May import
    :mod:`rixsim.cluster`, :mod:`rixsim.manybody` and the shared foundations.

Imported by
    :mod:`rixsim.detection`, :mod:`rixsim.oxygen`, :mod:`rixsim.analysis`, :mod:`rixsim.interfaces`.
"""

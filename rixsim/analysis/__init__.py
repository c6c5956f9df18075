"""Analysis of measured spectra: normalisation, linear-combination fits, model fits, the reference library.

Holds
    :mod:`~rixsim.analysis.normalize` (pre-/post-edge normalisation), :mod:`~rixsim.analysis.lcf`
    (linear-combination fits with valence fractions and uncertainties), :mod:`~rixsim.analysis.fitting`
    (lmfit fits of cluster-model parameters to XAS and maps), :mod:`~rixsim.analysis.reference_library`
    (the shipped Mn1+…Ni4+ reference spectra and how they are made).

May import
    :mod:`rixsim.spectroscopy`, :mod:`rixsim.cluster`, :mod:`rixsim.detection`, :mod:`rixsim.io`, lmfit and the
    shared foundations.

Imported by
    :mod:`rixsim.interfaces`.
"""

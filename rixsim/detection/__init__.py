"""The sample and the detection channels: what a detector records from a spectrum, self-absorption included.

Holds
    :mod:`~rixsim.detection.sample` (formula parsing, layered samples, Elam attenuation with the model's resonant
    edge), :mod:`~rixsim.detection.channels` (TEY, TFY, PFY, iPFY, sPFY, ccPFY predicted with exact layered
    self-absorption, or integrated from a map), :mod:`~rixsim.detection.selfabsorption` (the inverse: corrections
    of measured fluorescence for quick looks), :mod:`~rixsim.detection.emission_bands` (every emission band with
    its natural, band and spectrometer widths), :mod:`~rixsim.detection.detected_map` (the mRIXS map a beamline
    records: all bands, self-absorption, channels as windows).

May import
    :mod:`rixsim.spectroscopy` results, xraydb and the shared foundations.

Imported by
    :mod:`rixsim.analysis`, :mod:`rixsim.interfaces`.
"""

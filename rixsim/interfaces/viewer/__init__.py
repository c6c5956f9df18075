"""The map explorer: ``rixsim view FILE…`` — a local web app to look at maps and spectra, drag emission
windows, cut, compare, overlay and fit a model, and export what was chosen.

Holds
    :mod:`~rixsim.interfaces.viewer.state` (everything the page computes, without Bokeh: display grids,
    windows, channels, cuts, differences, model previews, fits, exports, the path guard),
    :mod:`~rixsim.interfaces.viewer.app` (the Bokeh document: layout and callbacks),
    :mod:`~rixsim.interfaces.viewer.server` (the Bokeh server on 127.0.0.1 that refuses paths outside the
    allowed folders), :mod:`~rixsim.interfaces.viewer.example` (the shipped example map and how it was made).

May import
    everything below :mod:`rixsim.interfaces` and :mod:`rixsim.interfaces.config`; Bokeh only in ``app`` and
    ``server``.

Imported by
    :mod:`rixsim.interfaces.cli` (the ``view`` command), on first use.
"""

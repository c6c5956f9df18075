"""Interfaces to people and machines: model files, the command line, figures and parameter sweeps.

Holds
    :mod:`~rixsim.interfaces.config` (TOML model files: every key, its default and its check),
    :mod:`~rixsim.interfaces.cli` (``rixsim xas|rixs|channels|fit|references|validate|demo``),
    :mod:`~rixsim.interfaces.plotting` (matplotlib figures, imported only when one is drawn),
    :mod:`~rixsim.interfaces.sweep` (parameter sweeps on any ``concurrent.futures``-style executor, e.g. Dask),
    :mod:`~rixsim.interfaces.viewer` (the map explorer of ``rixsim view``, a Bokeh server app on 127.0.0.1).

May import
    everything below it.  No physics lives here.

Imported by
    nothing in the library (the ``rixsim`` console script enters at :func:`rixsim.interfaces.cli.main`).
"""

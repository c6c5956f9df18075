"""Reading measured spectra and maps, and writing results, with validation.

Holds
    :mod:`~rixsim.io.text` (spectra and maps as text tables), :mod:`~rixsim.io.npz`, :mod:`~rixsim.io.hdf5`
    (NeXus-like maps with their parameters), :mod:`~rixsim.io.atomic` (atomic writers), the beamline readers
    :mod:`~rixsim.io.scans` (multi-column text scans), :mod:`~rixsim.io.srs` (Diamond SRS ``.dat``),
    :mod:`~rixsim.io.rixs_plane` (excitation, emission, intensity points), :mod:`~rixsim.io.larch` (Larch RIXS
    HDF5), :mod:`~rixsim.io.als` (ALS 8.0.1 CCD scan folders), :mod:`~rixsim.io.hdf5_scans` (scans from HDF5
    dataset paths), :mod:`~rixsim.io.detect` (:func:`read_any`, which picks the reader), and the checks every
    reader shares (``_common``, ``_encoding``).

May import
    numpy, h5py (on first use) and the shared foundations (:mod:`rixsim.results`, :mod:`rixsim.errors`).

Imported by
    :mod:`rixsim.analysis`, :mod:`rixsim.interfaces`.

Readers turn beamline files into :class:`~rixsim.results.Spectrum` and :class:`~rixsim.results.RixsMap`;
writers store rixsim results so that they read back with the same numbers and the same ``meta``.

Validation applied by every reader
----------------------------------
* **Axes** must be finite and strictly monotonic.  A strictly *decreasing* axis (a scan taken downwards) is
  reversed together with the data, and this is logged (``logging.INFO`` on the ``rixsim.io`` logger) and
  recorded in ``meta["reversed_axes"]``.  Any other ordering raises :class:`~rixsim.errors.InputError`
  naming the first offending index.
* **NaN intensities** are masked with a :class:`MaskedDataWarning` (issued through :func:`warnings.warn`,
  so ``warnings.simplefilter("error", MaskedDataWarning)`` turns it into an exception).  For a spectrum the
  NaN points are dropped; for a map they stay NaN in ``intensity`` (a map cannot lose single points) and
  their count is in ``meta["n_masked"]``.  A map row or column that is entirely NaN, or a spectrum with
  fewer than two finite points, raises :class:`~rixsim.errors.InputError`.  ±inf is never accepted.
* **Negative intensities** raise unless ``allow_negative=True`` (e.g. data after background subtraction).
* Shapes of axes and intensities must agree; empty files and non-numeric fields raise
  :class:`~rixsim.errors.InputError` naming the file and line.

Energies are in eV and absolute photon energies, as read off the beamline, unless a file says otherwise.

Writers are atomic: the file is written to a temporary file in the destination directory, flushed and
``fsync``-ed, then moved into place with :func:`os.replace` (or :func:`os.link` when refusing to overwrite).
A failure part-way leaves any existing file untouched and no temporary file behind.  An existing file is
only replaced when ``overwrite=True``; otherwise :class:`~rixsim.errors.FileExistsRefusal` is raised.

HDF5 layout written by :func:`write_map_hdf5` (NeXus-like, readable by NeXus tools)::

    /                         attrs: default="entry", creator="rixsim", rixsim_version
    /entry          NXentry   attrs: default="data";  dataset title
    /entry/data     NXdata    attrs: signal="intensity", axes=["excitation", "emission"|"loss"],
                                     excitation_indices=0, emission_indices|loss_indices=1
        intensity                    attrs: units, long_name
        excitation, emission|loss    attrs: units="eV", long_name
        [emission] [elastic]         (present when the map has them)
    /entry/meta       NXcollection  attrs: RixsMap.meta
    /entry/parameters NXparameters  attrs: the parameter set

Dictionaries are stored one key per attribute; strings, booleans, numbers and numeric arrays are stored
natively, and anything else (nested dicts, lists, tuples, None) as a JSON string whose key is listed in the
attribute ``rixsim_json_keys``.  Inside JSON, numpy arrays, tuples and complex numbers are tagged so that
they read back as the same type; dataclasses are stored as dicts.
"""
from rixsim.io._common import MaskedDataWarning
from rixsim.io.atomic import atomic_write, write_text_atomic
from rixsim.io.hdf5 import read_map_hdf5, read_parameters_hdf5, write_map_hdf5
from rixsim.io.npz import read_map_npz
from rixsim.io.text import read_map_text, read_spectrum, write_spectrum_csv
from rixsim.io.scans import read_scan
from rixsim.io.srs import read_srs
from rixsim.io.rixs_plane import read_rixs_plane
from rixsim.io.larch import read_larch_rixs
from rixsim.io.als import AlsRixsScan, read_als_rixs
from rixsim.io.hdf5_scans import read_scan_hdf5
from rixsim.io.detect import detect_format, read_any

__all__ = [
    "MaskedDataWarning",
    "read_spectrum",
    "read_map_text",
    "read_map_npz",
    "read_map_hdf5",
    "read_parameters_hdf5",
    "write_spectrum_csv",
    "write_map_hdf5",
    "atomic_write",
    "write_text_atomic",
    "read_scan",
    "read_srs",
    "read_rixs_plane",
    "read_larch_rixs",
    "read_als_rixs",
    "AlsRixsScan",
    "read_scan_hdf5",
    "read_any",
    "detect_format",
]

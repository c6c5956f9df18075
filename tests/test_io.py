"""Tests of rixsim.io: round trips, NeXus discovery, validation of measured data, atomic and refusing writes."""
import os
import warnings

import h5py
import numpy as np
import pytest

import rixsim.io as rio
import rixsim.io._common
import rixsim.io.atomic
import rixsim.io.hdf5
import rixsim.io.text
from rixsim.errors import FileExistsRefusal, InputError
from rixsim.results import RixsMap, Spectrum


def _spectrum():
    e = np.linspace(630.0, 660.0, 301)
    y = 1e4 * np.exp(-0.5 * ((e - 641.7) / 0.6) ** 2) + 37.0 + np.sin(e) ** 2  # non-round numbers
    return Spectrum(e, y, label="Mn L3 TEY, sample #3", units="counts",
                    meta={"ion": "Mn3+", "tendq": 1.8, "temperature_k": 300, "shape": (2, 3),
                          "grid": np.arange(4.0), "nested": {"pol": [1, 0, 0], "none": None}})


def _map(loss=False):
    x = np.linspace(638.0, 646.0, 9)
    s = np.linspace(-1.0, 12.0, 14) if loss else np.linspace(620.0, 650.0, 14)
    z = np.add.outer(np.arange(9.0), 0.1 * np.arange(14.0)) ** 1.5 + 1.0 / 3.0
    kw = {"loss": s, "emission": None} if loss else {"emission": s}
    return RixsMap(excitation=x, intensity=z, label="Mn2+ mRIXS", units="counts/s",
                   meta={"ion": "Mn2+", "fwhm": {"gauss": 0.2, "lorentz": 0.3}, "flags": (True, False)},
                   elastic=z / 10, **kw)


def _meta_equal(a, b):
    assert set(a) == set(b)
    for k in a:
        va, vb = a[k], b[k]
        if isinstance(va, np.ndarray):
            assert isinstance(vb, np.ndarray) and va.dtype == vb.dtype
            np.testing.assert_array_equal(va, vb)
        elif isinstance(va, dict):
            _meta_equal(va, vb)
        else:
            assert type(va) is type(vb) and va == vb, k


# ------------------------------------------------------------------------------------------------ round trips

def test_csv_round_trip_is_exact(tmp_path):
    s = _spectrum()
    path = rio.write_spectrum_csv(tmp_path / "s.csv", s)
    r = rio.read_spectrum(path)
    np.testing.assert_array_equal(r.energy, s.energy)   # bit-identical, not approximately equal
    np.testing.assert_array_equal(r.intensity, s.intensity)
    assert (r.label, r.units, r.relative) == (s.label, s.units, s.relative)
    _meta_equal(dict(s.meta), dict(r.meta))


@pytest.mark.parametrize("loss", [False, True])
def test_hdf5_round_trip_is_exact(tmp_path, loss):
    m = _map(loss)
    params = {"ion": "Mn2+", "tendq": 1.2, "slater_scale": 0.8, "n_states": 45, "isotropic": True,
              "polarization": [[1, 0, 0], [0, 1, 0]], "broadening": {"gauss_fwhm": 0.2, "core": {"L3": 0.3}},
              "temperatures_k": np.array([10.0, 300.0]), "comment": ""}
    path = rio.write_map_hdf5(tmp_path / "m.h5", m, params)
    r = rio.read_map_hdf5(path)
    np.testing.assert_array_equal(r.excitation, m.excitation)
    np.testing.assert_array_equal(r.intensity, m.intensity)
    np.testing.assert_array_equal(r.elastic, m.elastic)
    if loss:
        np.testing.assert_array_equal(r.loss, m.loss)
        assert r.emission is None
    else:
        np.testing.assert_array_equal(r.emission, m.emission)
        assert r.loss is None
    assert (r.label, r.units, r.relative) == (m.label, m.units, m.relative)
    _meta_equal(dict(m.meta), dict(r.meta))
    _meta_equal(params, rio.read_parameters_hdf5(path))
    # Units and NeXus attributes are where NeXus tools look for them.
    with h5py.File(path, "r") as f:
        assert f["entry/data/excitation"].attrs["units"] == "eV"
        assert f["entry/data"].attrs["signal"] == "intensity"
        assert f["entry/parameters"].attrs["tendq"] == 1.2


def test_large_meta_values_round_trip(tmp_path):
    # Larger than HDF5's 64 kB attribute limit: must still be stored and read back unchanged.
    big = np.random.default_rng(0).normal(size=20000)
    m = RixsMap(excitation=[1.0, 2.0], emission=[3.0, 4.0], intensity=np.ones((2, 2)),
                meta={"grid": big, "states": {"energies": big.tolist()[:5000]}, "note": "x" * 70000})
    path = rio.write_map_hdf5(tmp_path / "big.h5", m, {"basis": list(range(20000))})
    r = rio.read_map_hdf5(path)
    _meta_equal(dict(m.meta), dict(r.meta))
    assert rio.read_parameters_hdf5(path) == {"basis": list(range(20000))}


def test_unstorable_meta_is_refused_before_writing(tmp_path):
    m = RixsMap(excitation=[1.0, 2.0], emission=[3.0, 4.0], intensity=np.ones((2, 2)), meta={"f": object()})
    with pytest.raises(InputError, match="meta"):
        rio.write_map_hdf5(tmp_path / "m.h5", m, {})
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------------ NeXus

def _nexus_file(path, transpose=False):
    """A NeXus file as a beamline might write it, with names rixsim does not choose itself."""
    x = np.linspace(528.0, 540.0, 7)
    e = np.linspace(520.0, 535.0, 11)
    z = np.outer(np.arange(1.0, 8.0), np.linspace(1.0, 2.0, 11))
    with h5py.File(path, "w") as f:
        f.attrs["default"] = "scan_12"
        entry = f.create_group("scan_12")
        entry.attrs["NX_class"] = "NXentry"
        entry.attrs["default"] = "rixs"
        other = entry.create_group("monitor")  # a decoy NXdata that the default attributes must skip
        other.attrs["NX_class"] = "NXdata"
        other.attrs["signal"] = "i0"
        other.create_dataset("i0", data=np.ones(7))
        d = entry.create_group("rixs")
        d.attrs["NX_class"] = "NXdata"
        d.attrs["signal"] = "counts"
        if transpose:
            d.attrs["axes"] = ["energy_out", "mono_energy"]
            d.create_dataset("counts", data=z.T)
        else:
            d.attrs["axes"] = ["mono_energy", "energy_out"]
            d.create_dataset("counts", data=z)
        d.create_dataset("mono_energy", data=x)
        d.create_dataset("energy_out", data=e)
        d["counts"].attrs["units"] = "counts"
    return x, e, z


@pytest.mark.parametrize("transpose", [False, True])
def test_nexus_default_signal_and_axes(tmp_path, transpose):
    x, e, z = _nexus_file(tmp_path / "scan.nxs", transpose)
    m = rio.read_map_hdf5(tmp_path / "scan.nxs")
    np.testing.assert_array_equal(m.excitation, x)
    np.testing.assert_array_equal(m.emission, e)
    np.testing.assert_array_equal(m.intensity, z)  # rows = excitation whichever way the file stores it
    assert m.units == "counts"
    assert m.meta["paths"]["intensity"] == "/scan_12/rixs/counts"


def test_hdf5_explicit_paths(tmp_path):
    x, e, z = _nexus_file(tmp_path / "scan.nxs", transpose=True)
    m = rio.read_map_hdf5(tmp_path / "scan.nxs", intensity_path="/scan_12/rixs/counts",
                          excitation_path="scan_12/rixs/mono_energy", emission_path="scan_12/rixs/energy_out",
                          rows="emission")
    np.testing.assert_array_equal(m.intensity, z)
    with pytest.raises(InputError, match="no dataset"):
        rio.read_map_hdf5(tmp_path / "scan.nxs", intensity_path="/scan_12/rixs/nope",
                          excitation_path="scan_12/rixs/mono_energy", emission_path="scan_12/rixs/energy_out")
    with pytest.raises(InputError, match="together"):
        rio.read_map_hdf5(tmp_path / "scan.nxs", intensity_path="/scan_12/rixs/counts")


def test_hdf5_without_nxdata_asks_for_paths(tmp_path):
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f.create_dataset("z", data=np.ones((2, 2)))
    with pytest.raises(InputError, match="intensity_path"):
        rio.read_map_hdf5(tmp_path / "plain.h5")


# ------------------------------------------------------------------------------------------------ text/npz maps

def test_text_map_with_axes_files_and_orientation(tmp_path):
    x = np.array([640.0, 641.0, 642.0])
    s = np.array([0.0, 1.0, 2.0, 3.0])
    z = np.arange(12.0).reshape(3, 4)
    np.savetxt(tmp_path / "z.txt", z, header="intensity, rows = excitation")
    np.savetxt(tmp_path / "zt.csv", z.T, delimiter=",")
    np.savetxt(tmp_path / "x.txt", x)
    a = rio.read_map_text(tmp_path / "z.txt", excitation=tmp_path / "x.txt", loss=s)
    b = rio.read_map_text(tmp_path / "zt.csv", excitation=x, loss=s, rows="loss")
    for m in (a, b):
        np.testing.assert_array_equal(m.intensity, z)
        np.testing.assert_array_equal(m.loss, s)
        np.testing.assert_array_equal(m.excitation, x)


@pytest.mark.parametrize("rows", ["excitation", "loss"])
def test_text_map_with_axes_in_the_file(tmp_path, rows):
    x = np.array([640.0, 641.0, 642.0])
    s = np.array([0.0, 1.5, 3.0, 4.5])
    z = np.add.outer(10 * x, s)  # z[i, j] = 10 x_i + s_j, so any mix-up of axes shows
    stored = z if rows == "excitation" else z.T
    row_axis, col_axis = (x, s) if rows == "excitation" else (s, x)
    table = np.vstack([np.concatenate([[np.nan], col_axis]), np.column_stack([row_axis, stored])])
    np.savetxt(tmp_path / "m.csv", table, delimiter=",")
    m = rio.read_map_text(tmp_path / "m.csv", axes_in_file=True, second_axis="loss", rows=rows)
    np.testing.assert_array_equal(m.excitation, x)
    np.testing.assert_array_equal(m.loss, s)
    np.testing.assert_array_equal(m.intensity, z)
    with pytest.raises(InputError, match="do not pass"):
        rio.read_map_text(tmp_path / "m.csv", axes_in_file=True, excitation=x)


def test_column_names_from_last_comment_line(tmp_path):
    (tmp_path / "als.txt").write_text("# Beamline 8.0.1, Mn L-edge\n# Time  Energy  I0  TEY\n"
                                      "0.1 640.0 2.0 10.0\n0.2 640.1 2.0 12.0\n")
    s = rio.read_spectrum(tmp_path / "als.txt", energy_column="Energy", intensity_column="TEY")
    np.testing.assert_array_equal(s.energy, [640.0, 640.1])
    np.testing.assert_array_equal(s.intensity, [10.0, 12.0])


def test_npz_map_keys(tmp_path):
    x, s, z = np.arange(3.0), np.arange(4.0) + 10, np.arange(12.0).reshape(3, 4)
    np.savez(tmp_path / "m.npz", I=z, mono=x, emission=s)
    m = rio.read_map_npz(tmp_path / "m.npz", intensity_key="I", excitation_key="mono")
    np.testing.assert_array_equal(m.intensity, z)
    np.testing.assert_array_equal(m.emission, s)
    with pytest.raises(InputError, match="no array 'intensity'"):
        rio.read_map_npz(tmp_path / "m.npz", excitation_key="mono")


# ------------------------------------------------------------------------------------------------ validation

def test_reversed_axes_are_reversed_with_the_data(tmp_path, caplog):
    e = np.linspace(660.0, 630.0, 31)  # scanned downwards
    y = e - 600.0                       # intensity tied to energy: a wrong reversal would show
    np.savetxt(tmp_path / "down.dat", np.column_stack([np.zeros_like(e), e, y]))
    with caplog.at_level("INFO", logger="rixsim.io"):
        s = rio.read_spectrum(tmp_path / "down.dat", energy_column=1, intensity_column=2)
    assert np.all(np.diff(s.energy) > 0)
    np.testing.assert_array_equal(s.intensity, s.energy - 600.0)
    assert s.meta["reversed_axes"] == ["energy"]
    assert "revers" in caplog.text

    x = np.array([642.0, 641.0, 640.0])
    em = np.array([600.0, 610.0, 620.0, 630.0])[::-1]
    z = np.add.outer(x * 100, em)  # z[i, j] = 100 x_i + e_j
    m = rio._common._assemble_map(z, x, em, "emission", "excitation", "test", False, "", "", {})
    np.testing.assert_array_equal(m.intensity, np.add.outer(m.excitation * 100, m.emission))
    assert m.meta["reversed_axes"] == ["excitation", "emission"]


def test_non_monotonic_axis_names_index(tmp_path):
    np.savetxt(tmp_path / "bad.csv", [[630, 1], [631, 2], [632, 3], [631.5, 4], [633, 5]], delimiter=",")
    with pytest.raises(InputError, match=r"index 3"):
        rio.read_spectrum(tmp_path / "bad.csv")
    np.savetxt(tmp_path / "dup.csv", [[630, 1], [630, 2], [631, 3]], delimiter=",")
    with pytest.raises(InputError, match="not strictly monotonic"):
        rio.read_spectrum(tmp_path / "dup.csv")


def test_nan_points_masked_with_warning(tmp_path):
    (tmp_path / "n.csv").write_text("# E, I\n630,1\n631,nan\n632,3\n633,\n634,5\n")
    with pytest.warns(rio.MaskedDataWarning, match="2 point"):
        s = rio.read_spectrum(tmp_path / "n.csv")
    np.testing.assert_array_equal(s.energy, [630, 632, 634])
    assert s.meta["n_masked"] == 2

    z = np.ones((3, 4))
    z[1, 2] = np.nan
    with pytest.warns(rio.MaskedDataWarning, match="1 NaN"):
        m = rio._common._assemble_map(z, [1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], "emission", "excitation", "t", False,
                              "", "", {})
    assert np.isnan(m.intensity[1, 2]) and m.meta["n_masked"] == 1
    z[:, 3] = np.nan
    with pytest.raises(InputError, match="emission index 3"):
        rio._common._assemble_map(z, [1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], "emission", "excitation", "t", False,
                          "", "", {})


def test_all_nan_spectrum_is_an_error(tmp_path):
    (tmp_path / "n.csv").write_text("630,nan\n631,nan\n632,nan\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rio.MaskedDataWarning)
        with pytest.raises(InputError, match="fewer than 2 finite points"):
            rio.read_spectrum(tmp_path / "n.csv")


@pytest.mark.parametrize("content", ["", "# only a comment\n\n   \n", "energy,intensity\n"])
def test_empty_files(tmp_path, content):
    (tmp_path / "e.csv").write_text(content)
    with pytest.raises(InputError, match="e.csv"):
        rio.read_spectrum(tmp_path / "e.csv")
    with pytest.raises(InputError, match="e.csv"):
        rio.read_map_text(tmp_path / "e.csv", excitation=[1, 2], emission=[1, 2])


def test_missing_file_and_bad_fields(tmp_path):
    with pytest.raises(InputError, match="not found"):
        rio.read_spectrum(tmp_path / "absent.csv")
    (tmp_path / "r.csv").write_text("630,1\n631,2,3\n")
    with pytest.raises(InputError, match="line 2"):
        rio.read_spectrum(tmp_path / "r.csv")
    (tmp_path / "t.csv").write_text("630,1\n631,abc\n")
    with pytest.raises(InputError, match="'abc'"):
        rio.read_spectrum(tmp_path / "t.csv")


def test_multicolumn_selection_by_name_and_sniffed_delimiter(tmp_path):
    (tmp_path / "m.tsv").write_text("# beamline 8.0.1\nenergy\tI0\tTEY\tTFY\n640\t2\t10\t5\n641\t2\t12\t6\n")
    s = rio.read_spectrum(tmp_path / "m.tsv", energy_column="energy", intensity_column="TFY")
    np.testing.assert_array_equal(s.intensity, [5, 6])
    with pytest.raises(InputError, match="columns are"):
        rio.read_spectrum(tmp_path / "m.tsv", intensity_column="PFY")
    with pytest.raises(InputError, match="out of range"):
        rio.read_spectrum(tmp_path / "m.tsv", intensity_column=7)


def test_negative_counts_refused_unless_allowed(tmp_path):
    (tmp_path / "neg.csv").write_text("630,1\n631,-0.5\n632,3\n")
    with pytest.raises(InputError, match="negative value -0.5"):
        rio.read_spectrum(tmp_path / "neg.csv")
    s = rio.read_spectrum(tmp_path / "neg.csv", allow_negative=True)
    assert s.intensity[1] == -0.5


def test_mismatched_shapes(tmp_path):
    np.savetxt(tmp_path / "z.txt", np.ones((3, 4)))
    with pytest.raises(InputError, match="shape mismatch"):
        rio.read_map_text(tmp_path / "z.txt", excitation=[1, 2, 3, 4], emission=[1, 2, 3])
    np.savez(tmp_path / "m.npz", intensity=np.ones((3, 4)), excitation=np.arange(3.0), emission=np.arange(5.0))
    with pytest.raises(InputError, match="shape mismatch"):
        rio.read_map_npz(tmp_path / "m.npz")
    with pytest.raises(InputError, match="exactly one"):
        rio.read_map_text(tmp_path / "z.txt", excitation=[1, 2, 3])


# ------------------------------------------------------------------------------------------------ writing safely

def test_refuses_to_overwrite(tmp_path):
    s = _spectrum()
    path = tmp_path / "s.csv"
    path.write_text("precious\n")
    with pytest.raises(FileExistsRefusal, match="s.csv"):
        rio.write_spectrum_csv(path, s)
    assert path.read_text() == "precious\n"
    with pytest.raises(FileExistsRefusal, match="m.h5"):
        (tmp_path / "m.h5").write_text("precious\n")
        rio.write_map_hdf5(tmp_path / "m.h5", _map(), {})
    rio.write_spectrum_csv(path, s, overwrite=True)
    np.testing.assert_array_equal(rio.read_spectrum(path).intensity, s.intensity)


def test_failing_csv_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "s.csv"
    path.write_text("old content\n")
    calls = []

    def half_then_fail(fh, text):
        calls.append(1)
        if len(calls) == 2:  # the header is already on disk (in the temp file) when this fails
            raise OSError("disk full (simulated)")
        fh.write(text)

    monkeypatch.setattr(rixsim.io.text, "_write_text", half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        rio.write_spectrum_csv(path, _spectrum(), overwrite=True)
    assert path.read_text() == "old content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]  # no temp file left


def test_failing_hdf5_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "m.h5"
    rio.write_map_hdf5(path, _map(), {"run": 1})
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("simulated failure after the datasets were written")

    monkeypatch.setattr(rixsim.io.hdf5, "_write_dict_attrs", fail)
    with pytest.raises(OSError, match="simulated"):
        rio.write_map_hdf5(path, _map(loss=True), {"run": 2}, overwrite=True)
    assert path.read_bytes() == before
    assert rio.read_parameters_hdf5(path) == {"run": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]


def test_fsync_failure_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "s.csv"
    path.write_text("old\n")

    def bad_fsync(fd):
        raise OSError("fsync failed (simulated)")

    monkeypatch.setattr(rixsim.io.atomic.os, "fsync", bad_fsync)
    with pytest.raises(OSError, match="simulated"):
        rio.write_spectrum_csv(path, _spectrum(), overwrite=True)
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]


def test_written_file_has_ordinary_permissions(tmp_path):
    path = rio.write_spectrum_csv(tmp_path / "s.csv", _spectrum())
    mask = rio.atomic._umask()
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask


def test_wrong_kind_of_file_is_an_input_error(tmp_path):
    (tmp_path / "bin.dat").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match="not a UTF-8 text file"):
        rio.read_spectrum(tmp_path / "bin.dat")
    (tmp_path / "fake.h5").write_text("630,1\n631,2\n")
    with pytest.raises(InputError, match="not a readable HDF5 file"):
        rio.read_map_hdf5(tmp_path / "fake.h5")
    with pytest.raises(InputError, match="not a readable .npz"):
        rio.read_map_npz(tmp_path / "fake.h5")
    with pytest.raises(InputError, match="directory"):
        rio.read_spectrum(tmp_path)

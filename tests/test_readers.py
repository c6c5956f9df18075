"""Beamline readers: each reads a fixture written by tests/layout_writers.py (an independent writer of the
public layout), refuses truncated or wrong-layout files with a message naming the problem, and the SRS reader
reads the measured Fe L2,3 files of ../shared/data."""
import warnings

import h5py
import layout_writers as lw
import numpy as np
import pytest

from rixsim.errors import InputError
from rixsim.io import (
    AlsRixsScan,
    detect_format,
    read_als_rixs,
    read_any,
    read_larch_rixs,
    read_rixs_plane,
    read_scan,
    read_scan_hdf5,
    read_srs,
)
from rixsim.io.srs import I06_ALIASES
from rixsim.results import RixsMap, Scan, Spectrum

RNG = np.random.default_rng(7)


def _scan_columns(n=25, decreasing=False):
    e = np.linspace(700.0, 720.0, n)
    if decreasing:
        e = e[::-1]
    return {"energy": e, "I0": RNG.integers(20000, 30000, n).astype(float),
            "TEY": RNG.integers(1000, 5000, n).astype(float), "TFY": RNG.integers(100, 900, n).astype(float)}


# --------------------------------------------------------------------------------------------------------------
# Scan and its spectra
# --------------------------------------------------------------------------------------------------------------

def test_scan_spectrum_divides_by_monitor_and_propagates_poisson_errors():
    n, m = np.array([100.0, 400.0, 0.0]), np.array([1e4, 2e4, 1e4])
    s = Scan([1.0, 2.0, 3.0], {"C1": n, "C2": m}, aliases={"I0": "C2", "TEY": "C1"}, label="s")
    sp = s.spectrum("TEY", poisson=True)
    assert isinstance(sp, Spectrum)
    np.testing.assert_allclose(sp.intensity, n / m)
    # sigma of N/M for independent Poisson N and M: (N/M) * sqrt(1/N + 1/M); a zero count gets 1/M.
    np.testing.assert_allclose(sp.sigma[:2], (n / m)[:2] * np.sqrt(1 / n[:2] + 1 / m[:2]))
    assert sp.sigma[2] == pytest.approx(1 / m[2])
    assert s.spectrum("C1", monitor=None).sigma is None
    np.testing.assert_allclose(s.spectrum("C1", monitor=None, poisson=True).sigma, np.sqrt(n))


def test_scan_names_missing_channels_and_bad_monitors():
    s = Scan([1.0, 2.0], {"C1": [1.0, 2.0], "C2": [1.0, 0.0]}, label="s")
    with pytest.raises(InputError, match=r"no channel 'I0'.*\['C1', 'C2'\]"):
        s.spectrum("C1")
    with pytest.raises(InputError, match=r"monitor 'C2' is 0.0 at index 1"):
        s.spectrum("C1", monitor="C2")
    with pytest.raises(InputError, match="alias 'I0' points to 'C9'"):
        Scan([1.0, 2.0], {"C1": [1.0, 2.0]}, aliases={"I0": "C9"})


# --------------------------------------------------------------------------------------------------------------
# Multi-column text scans
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("delimiter", ["\t", ",", ";", None])
@pytest.mark.parametrize("names", ["line", "comment"])
def test_text_scan_round_trip_any_delimiter(tmp_path, delimiter, names):
    cols = _scan_columns()
    f = lw.write_column_text(tmp_path / "scan.txt", cols, delimiter=delimiter, names=names,
                             comments=["sample: LiMn2O4", "temperature_k = 300"])
    s = read_scan(f, energy="energy")
    assert s.names == ["I0", "TEY", "TFY"]
    np.testing.assert_array_equal(s.energy, cols["energy"])
    for k in ("I0", "TEY", "TFY"):
        np.testing.assert_array_equal(s[k], cols[k])
    assert s.meta["sample"] == "LiMn2O4" and s.meta["temperature_k"] == 300.0
    np.testing.assert_allclose(s.spectrum("TEY").intensity, cols["TEY"] / cols["I0"])


def test_two_column_scan_without_names_and_a_monitor_alias(tmp_path):
    cols = _scan_columns()
    f = lw.write_column_text(tmp_path / "two.txt", {"e": cols["energy"], "y": cols["TEY"]}, names=None)
    s = read_scan(f)
    assert s.names == ["col1"]
    f3 = lw.write_column_text(tmp_path / "three.txt", {"e": cols["energy"], "mon": cols["I0"], "tey": cols["TEY"]})
    s3 = read_scan(f3, monitor="mon")
    np.testing.assert_allclose(s3.spectrum("tey").intensity, cols["TEY"] / cols["I0"])


def test_decreasing_text_scan_is_reversed_with_its_channels(tmp_path):
    cols = _scan_columns(decreasing=True)
    s = read_scan(lw.write_column_text(tmp_path / "down.txt", cols))
    np.testing.assert_array_equal(s.energy, cols["energy"][::-1])
    np.testing.assert_array_equal(s["TEY"], cols["TEY"][::-1])
    assert s.meta["reversed_axes"] == ["energy"]


def test_text_scan_errors_name_the_problem(tmp_path):
    f = lw.write_column_text(tmp_path / "scan.txt", _scan_columns())
    with pytest.raises(InputError, match=r"energy='E' is not a column.*\['energy', 'I0', 'TEY', 'TFY'\]"):
        read_scan(f, energy="E")
    truncated = tmp_path / "cut.txt"
    text = f.read_text()
    truncated.write_text(text[: text.rindex("\t")])  # last row cut inside its last field
    with pytest.raises(InputError, match=r"line 26: 3 columns where line 2 has 4"):
        read_scan(truncated)
    with pytest.raises(InputError, match="is not strictly monotonic"):
        cols = _scan_columns()
        cols["energy"][5] = cols["energy"][3]
        read_scan(lw.write_column_text(tmp_path / "bad.txt", cols))


# --------------------------------------------------------------------------------------------------------------
# SRS
# --------------------------------------------------------------------------------------------------------------

def _srs_columns(n=30):
    e = np.linspace(694.9, 738.6, n)
    return {"fastEnergy": e, "pIndex": np.arange(n), "C1": RNG.integers(40000, 60000, n).astype(float),
            "C2": RNG.integers(24000, 26000, n).astype(float), "C3": RNG.integers(4000, 9000, n).astype(float)}


def test_srs_round_trip(tmp_path):
    cols = _srs_columns()
    f = lw.write_srs(tmp_path / "1.dat", cols, namelist={"SRSRUN": 236463, "SRSDAT": 2021124},
                     metadata={"command": "scan fastEnergy 0.0 199.0 1.0", "magz": 6.0, "iddtrp": -22.426,
                               "date": "'Wed Feb 24 14:49:05 2021'"})
    s = read_srs(f, aliases=I06_ALIASES)
    np.testing.assert_allclose(s.energy, np.round(cols["fastEnergy"], 6))
    np.testing.assert_allclose(s["TEY"], cols["C1"])
    np.testing.assert_allclose(s["I0"], cols["C2"])
    assert s.meta["SRSRUN"] == 236463 and s.meta["magz"] == 6.0 and s.meta["iddtrp"] == -22.426
    assert s.meta["SRSSTN"] == "Bran" and s.meta["date"] == "Wed Feb 24 14:49:05 2021"
    assert s.meta["command"] == "scan fastEnergy 0.0 199.0 1.0"


def test_srs_rejects_truncated_and_foreign_files(tmp_path):
    f = lw.write_srs(tmp_path / "1.dat", _srs_columns())
    text = f.read_text()
    cut = tmp_path / "cut.dat"
    cut.write_text(text[: len(text) - 30])
    with pytest.raises(InputError, match=r"fields where the column line has 5.*truncated"):
        read_srs(cut)
    head = tmp_path / "head.dat"
    head.write_text(text[: text.index(" &END")])
    with pytest.raises(InputError, match="no '&END' line"):
        read_srs(head)
    only_names = tmp_path / "names.dat"
    only_names.write_text(text[: text.index("\n", text.index("fastEnergy\t")) + 1])
    with pytest.raises(InputError, match="no data rows"):
        read_srs(only_names)
    csv = lw.write_column_text(tmp_path / "x.txt", _scan_columns(), delimiter=",")
    with pytest.raises(InputError, match=r"not an SRS file: its first line is 'energy,I0,TEY,TFY'"):
        read_srs(csv)
    with pytest.raises(InputError, match="no energy column 'energy'"):
        read_srs(f, energy="energy")


FE_POSITIVE = {"236463", "236466", "236467", "236470"}  # iddtrp > 0 per the data folder's README


def test_srs_reads_the_measured_fe_l23_files(shared_data):
    files = sorted((shared_data / "fe-l23-xmcd-i06").glob("*.dat"))
    assert len(files) == 8
    for f in files:
        s = read_srs(f, aliases=I06_ALIASES)
        assert s.energy.size == 200
        assert s.energy[0] == pytest.approx(694.9, abs=0.06) and s.energy[-1] == pytest.approx(738.6, abs=0.1)
        assert s.meta["energy_column"] == "fastEnergy"
        assert {"C1", "C2", "C3"} <= set(s.names)
        assert s.meta["magz"] == 6.0 and s.meta["Tsample_mag"] == 1.9
        assert (s.meta["iddtrp"] > 0) == (f.stem in FE_POSITIVE)
        assert s.meta["SRSRUN"] == float(f.stem)
        # The files carry the beamline's own ratios idio = C1/C2 and ifio = C3/C2: an independent check of
        # channel alignment and of the monitor division.
        np.testing.assert_allclose(s.spectrum("TEY").intensity, s["idio"], rtol=1e-9)
        np.testing.assert_allclose(s.spectrum("TFY").intensity, s["ifio"], rtol=1e-9)
        assert detect_format(f) == "srs"


# --------------------------------------------------------------------------------------------------------------
# RIXS planes as points
# --------------------------------------------------------------------------------------------------------------

def _grid(nx=6, ny=9):
    exc = np.linspace(640.0, 645.0, nx)
    emi = np.linspace(630.0, 646.0, ny)
    z = RNG.random((nx, ny)) * 100
    return exc, emi, z


@pytest.mark.parametrize("delimiter", [" ", "\t", ","])
def test_rixs_plane_on_a_grid_round_trips_in_any_order(tmp_path, delimiter):
    exc, emi, z = _grid()
    xx, yy = np.meshgrid(exc, emi, indexing="ij")
    order = RNG.permutation(z.size)
    f = lw.write_xyz_plane(tmp_path / "plane.txt", xx.ravel()[order], yy.ravel()[order], z.ravel()[order],
                           delimiter=delimiter)
    m = read_rixs_plane(f)
    np.testing.assert_array_equal(m.excitation, exc)
    np.testing.assert_array_equal(m.emission, emi)
    np.testing.assert_array_equal(m.intensity, z)
    assert m.meta["grid"] == "regular"
    assert detect_format(f) == "rixs-plane"


def test_scattered_plane_needs_regrid_and_bins_by_mean(tmp_path):
    x = np.array([1.0, 1.1, 1.05, 2.0, 2.02, 2.1, 1.01, 2.04])
    y = np.array([5.0, 5.1, 6.0, 5.0, 6.1, 6.05, 6.02, 5.04])
    z = np.arange(8.0)
    f = lw.write_xyz_plane(tmp_path / "s.txt", x, y, z)
    with pytest.raises(InputError, match=r"do not lie on a regular grid.*pass regrid="):
        read_rixs_plane(f)
    m = read_rixs_plane(f, regrid=(0.5, 0.5))
    assert m.intensity.shape == (2, 2)
    cell = lambda xs, ys: z[(np.floor((x - 1.0) / 0.5) == xs) & (np.floor((y - 5.0) / 0.5) == ys)].mean()
    np.testing.assert_allclose(m.intensity, [[cell(0, 0), cell(0, 2)], [cell(2, 0), cell(2, 2)]])


def test_plane_with_two_columns_is_refused(tmp_path):
    f = lw.write_column_text(tmp_path / "two.txt", {"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match="has 2 column"):
        read_rixs_plane(f)


# --------------------------------------------------------------------------------------------------------------
# Larch RIXS HDF5
# --------------------------------------------------------------------------------------------------------------

def test_larch_points_round_trip_and_kev(tmp_path):
    exc, emi, z = _grid()
    xx, yy = np.meshgrid(exc, emi, indexing="ij")
    f = lw.write_larch_rixs_h5(tmp_path / "r.h5", xx.ravel() / 1000, yy.ravel() / 1000, z.ravel(),
                               sample_name="LiNiO2", ene_unit="keV")
    m = read_larch_rixs(f)
    np.testing.assert_allclose(m.excitation, exc, rtol=1e-13)
    np.testing.assert_allclose(m.emission, emi, rtol=1e-13)
    np.testing.assert_array_equal(m.intensity, z)
    assert m.label == "LiNiO2" and m.meta["counter_signal"] == "zap_det_dtc"
    assert detect_format(f) == "larch" and isinstance(read_any(f), RixsMap)


def test_larch_grid(tmp_path):
    exc, emi, z = _grid()
    f = lw.write_larch_rixs_h5(tmp_path / "g.h5", [1, 2], [1, 2], [1, 2], grid=(exc, emi, z.T))
    m = read_larch_rixs(f, use="grid")
    np.testing.assert_array_equal(m.intensity, z)
    np.testing.assert_array_equal(m.emission, emi)


def test_larch_rejects_other_and_truncated_files(tmp_path):
    f = lw.write_larch_rixs_h5(tmp_path / "nov.h5", [1, 2], [1, 2], [1, 2], writer_version=None)
    with pytest.raises(InputError, match="not a Larch RIXS file: no 'writer_version'"):
        read_larch_rixs(f)
    g = tmp_path / "noz.h5"
    with h5py.File(g, "w") as h:
        h["_x"], h["_y"], h["writer_version"] = [1.0], [1.0], "1.5.2"
    with pytest.raises(InputError, match=r"without the dataset\(s\) \['_z'\]"):
        read_larch_rixs(g)
    good = lw.write_larch_rixs_h5(tmp_path / "ok.h5", *(a.ravel() for a in np.meshgrid([1., 2.], [3., 4.])),
                                  [1, 2, 3, 4])
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(InputError, match="not a readable HDF5 file"):
        read_larch_rixs(cut)


# --------------------------------------------------------------------------------------------------------------
# ALS 8.0.1 CCD scan folders
# --------------------------------------------------------------------------------------------------------------

def _als(tmp_path, newline="\n", energy=None, npix=64):
    energy = np.array([775.0, 776.0, 777.0, 777.2, 777.4]) if energy is None else energy
    n = energy.size
    ccd = RNG.poisson(50, (n, npix))
    chans = {"Izero": RNG.integers(2.8e7, 2.9e7, n), "TFY": RNG.integers(9e6, 1.3e7, n),
             "TEY": RNG.integers(2.5e5, 3.5e5, n)}
    folder = lw.write_als_scan(tmp_path / "CCD Scan 16491", "CoL3_16491", energy, chans, ccd, newline=newline)
    return folder, energy, chans, ccd


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_als_folder_round_trip(tmp_path, newline):
    folder, energy, chans, ccd = _als(tmp_path, newline)
    r = read_als_rixs(folder)
    assert isinstance(r, AlsRixsScan)
    np.testing.assert_allclose(r.scan.energy, energy)
    np.testing.assert_array_equal(r.scan["I0"], chans["Izero"])
    np.testing.assert_array_equal(r.scan["TEY"], chans["TEY"])
    np.testing.assert_array_equal(r.scan["PFY"], ccd.sum(axis=1))
    np.testing.assert_array_equal(r.ccd.intensity, ccd)
    np.testing.assert_array_equal(r.ccd.emission, np.arange(ccd.shape[1]))
    assert r.ccd.meta["emission_units"] == "pixel" and r.ccd.relative
    assert r.scan.meta["X Motor"] == "BL 8 Energy" and r.ccd.meta["ccd_background"][0] == 337.0
    assert r.scan.meta["ROI"] == "1309 526 2539 1627" and "C" not in r.scan.meta  # a bare path line is skipped
    assert detect_format(folder) == "als"
    assert isinstance(read_any(folder), AlsRixsScan)


def test_als_unsorted_points_are_sorted_with_their_spectra(tmp_path):
    folder, _, chans, ccd = _als(tmp_path, energy=np.array([777.0, 775.0, 776.0]))
    r = read_als_rixs(folder / "CoL3_16491-AI.txt")
    np.testing.assert_allclose(r.scan.energy, [775.0, 776.0, 777.0])
    np.testing.assert_array_equal(r.ccd.intensity, ccd[[1, 2, 0]])
    np.testing.assert_array_equal(r.scan["TEY"], chans["TEY"][[1, 2, 0]])


def test_als_names_missing_and_truncated_files(tmp_path):
    folder, *_ = _als(tmp_path)
    (folder / "Andor" / "CoL3_16491-00003-1D.txt").unlink()
    with pytest.raises(InputError, match=r"CCD spectrum 'CoL3_16491-00003-1D.txt' \(row 3, 777.0 eV\) is missing"):
        read_als_rixs(folder)
    folder, *_ = _als(tmp_path / "b")
    one = folder / "Andor" / "CoL3_16491-00002-1D.txt"
    one.write_text(one.read_text()[:200])
    with pytest.raises(InputError, match=r"X Size: 64 but \d+ pixel rows.*truncated"):
        read_als_rixs(folder)
    folder, *_ = _als(tmp_path / "c")
    ai = folder / "CoL3_16491-AI.txt"
    ai.write_text(ai.read_text()[:-40])
    with pytest.raises(InputError, match=r"line 18: \d+ fields where the column line has 13"):
        read_als_rixs(folder)
    with pytest.raises(InputError, match=r"holds no '\*AI.txt' table"):
        read_als_rixs(tmp_path)


# --------------------------------------------------------------------------------------------------------------
# HDF5 scans and read_any
# --------------------------------------------------------------------------------------------------------------

def test_hdf5_scan_round_trip_and_missing_dataset(tmp_path):
    cols = _scan_columns()
    f = lw.write_nexus_scan(tmp_path / "s.nxs", cols["energy"], {"TEY": cols["TEY"], "I0": cols["I0"]})
    s = read_scan_hdf5(f, energy_path="/entry/data/energy",
                       channel_paths={"TEY": "/entry/data/TEY", "I0": "/entry/data/I0"})
    np.testing.assert_array_equal(s.energy, cols["energy"])
    np.testing.assert_allclose(s.spectrum("TEY").intensity, cols["TEY"] / cols["I0"])
    assert s.meta["energy_units_in_file"] == "eV"
    via_any = read_any(f, energy_path="/entry/data/energy", channel_paths={"TEY": "/entry/data/TEY"})
    np.testing.assert_array_equal(via_any["TEY"], cols["TEY"])
    with pytest.raises(InputError, match=r"no dataset '/entry/data/TFY' \(channel 'TFY'\)"):
        read_scan_hdf5(f, energy_path="/entry/data/energy", channel_paths={"TFY": "/entry/data/TFY"})
    with pytest.raises(InputError, match=r"'/entry/data' \(energy\) is a group"):
        read_scan_hdf5(f, energy_path="/entry/data", channel_paths={"TEY": "/entry/data/TEY"})


def test_read_any_picks_the_reader(tmp_path):
    scan_file = lw.write_column_text(tmp_path / "scan.csv", _scan_columns(), delimiter=",")
    assert detect_format(scan_file) == "scan" and isinstance(read_any(scan_file), Scan)
    srs = lw.write_srs(tmp_path / "1.dat", _srs_columns())
    assert isinstance(read_any(srs, aliases=I06_ALIASES), Scan)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(InputError, match="is empty"):
        read_any(empty)
    with pytest.raises(InputError, match=r"read as srs\): .*no '&END'"):
        cut = tmp_path / "cut.dat"
        cut.write_text(srs.read_text()[:60])
        read_any(cut)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_any(scan_file)


def test_the_fixture_writers_are_independent_of_the_readers():
    import ast
    from pathlib import Path
    tree = ast.parse((Path(__file__).parent / "layout_writers.py").read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "rixsim" not in imported

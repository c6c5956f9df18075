"""The map explorer's state layer (no browser): path guard, files, display grid, windows and channels, cuts,
differences, model previews and their cache, the background queue, fits, exports, the shipped example and
the ``view`` command's argument checks.  The browser itself is tested in tests/test_viewer_e2e.py."""
from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from rixsim.errors import FileExistsRefusal, InputError
from rixsim.interfaces.viewer import state as S
from rixsim.results import RixsMap, Spectrum


@pytest.fixture(scope="module")
def example():
    from rixsim.interfaces.viewer.example import EXAMPLE_MAP
    from rixsim.io import read_any
    return read_any(EXAMPLE_MAP)


def linear_map(on_loss=False):
    """z = 2 E + 3 E' + 1 on a regular grid (E excitation, E' emission): bilinear interpolation is exact."""
    exc = np.linspace(850.0, 856.0, 31)
    if on_loss:
        loss = np.linspace(-1.0, 9.0, 101)
        z = 2 * exc[:, None] + 3 * (exc[:, None] - loss[None, :]) + 1
        return RixsMap(exc, None, z, loss=loss)
    emi = np.linspace(840.0, 858.0, 181)
    return RixsMap(exc, emi, 2 * exc[:, None] + 3 * emi[None, :] + 1)


# ------------------------------------------------------------------------------------------------ paths
def test_path_guard_allows_inside_and_refuses_outside(tmp_path):
    inside = tmp_path / "a" / "x.h5"
    inside.parent.mkdir()
    inside.write_text("")
    g = S.PathGuard([tmp_path / "a"])
    assert g.check(inside) == inside.resolve()
    assert g.check(tmp_path / "a") == (tmp_path / "a").resolve()
    for bad in (tmp_path / "b.h5", tmp_path / "a" / ".." / "b.h5", "/etc/passwd", tmp_path / "ab"):
        with pytest.raises(S.PathRefused, match="outside the folders"):
            g.check(bad)
    link = tmp_path / "a" / "escape"
    link.symlink_to(tmp_path)
    with pytest.raises(S.PathRefused):
        g.check(link / "b.h5")
    with pytest.raises(InputError):
        S.PathGuard([])


# ------------------------------------------------------------------------------------------------ files
def test_load_file_carries_the_readers_message(tmp_path, example):
    from rixsim.interfaces.viewer.example import EXAMPLE_MAP
    from rixsim.io import read_any
    bad = tmp_path / "bad.txt"
    bad.write_text("850 1\n851 x\n")
    item = S.load_file(bad)
    with pytest.raises(InputError) as err:
        read_any(bad)
    assert item.kind == "error" and item.error == " ".join(str(err.value).split())
    assert S.load_file(tmp_path / "missing.h5").kind == "error"
    it = S.load_file(EXAMPLE_MAP)
    assert it.kind == "map" and np.array_equal(it.data.intensity, example.intensity)
    refused = S.load_file(EXAMPLE_MAP, S.PathGuard([tmp_path]))
    assert refused.kind == "error" and "outside" in refused.error


def test_measured_nips3_matrix_is_reported_not_raised(shared_data):
    path = shared_data / "nips3-ni-l3-rixs" / "NiPS3v2.numpy"
    if not path.exists():
        pytest.skip("NiPS3v2.numpy is not present")
    item = S.load_file(path)
    assert item.kind == "error" and "NiPS3v2.numpy" in item.error


def test_matrix_axes_read_the_measured_nips3_map(shared_data):
    """With --matrix axes the axis-less NiPS3 matrix (151 losses × 40 incident energies; axes from
    EDRIXS/Inverse_scattering_solver's NiPS3_config.py, see the data's README) is a map on a loss axis."""
    path = shared_data / "nips3-ni-l3-rixs" / "NiPS3v2.numpy"
    if not path.exists():
        pytest.skip("NiPS3v2.numpy is not present")
    item = S.load_file(path, matrix="loss=0.5:2.0:151,excitation=0:12:40")
    assert item.kind == "map" and item.data.on_loss_axis
    np.testing.assert_array_equal(item.data.intensity, np.loadtxt(path).T)
    np.testing.assert_array_equal(item.data.loss, np.linspace(0.5, 2.0, 151))


def test_parse_matrix_axes():
    ax = S.parse_matrix_axes("emission=840:860:201, excitation=850:856:31")
    assert ax["rows"] == "emission" and ax["emission"].size == 201 and ax["excitation"][-1] == 856.0
    for bad in ("loss=0:1:10", "loss=0:1:10,emission=1:2:5", "excitation=0:1,loss=0:1:3", "x=0:1:3,excitation=0:1:3"):
        with pytest.raises(InputError, match="matrix axes"):
            S.parse_matrix_axes(bad)


def test_measured_fe_scan_is_a_scan_whose_channels_are_the_files(shared_data):
    from rixsim.io import read_any
    files = sorted((shared_data / "fe-l23-xmcd-i06").glob("*.dat"))
    if not files:
        pytest.skip("Fe XMCD scans are not present")
    item = S.load_file(files[0])
    scan = read_any(files[0])
    assert item.kind == "scan"
    s = S.measured_xas(item, "C1", monitor="C2")
    np.testing.assert_array_equal(s.intensity, np.asarray(scan["C1"]) / np.asarray(scan["C2"]))


# ------------------------------------------------------------------------------------------------ display
def test_small_map_is_shown_as_it_is(example):
    img = S.map_image(example)
    assert img.block == (1, 1) and img.axis == "emission"
    np.testing.assert_array_equal(img.z, example.intensity)
    assert img.dw == pytest.approx(example.emission[-1] - example.emission[0] + 0.1)


def test_large_map_is_shown_as_block_means():
    rng = np.random.default_rng(1)
    exc = np.linspace(850, 860, 1200)
    emi = np.linspace(840, 860, 30)
    z = rng.random((1200, 30))
    img = S.map_image(RixsMap(exc, emi, z), max_points=500)
    assert img.block == (3, 1) and img.z.shape == (400, 30)
    np.testing.assert_allclose(img.z, z.reshape(400, 3, 30).mean(axis=1), rtol=1e-13)
    np.testing.assert_allclose(img.y, exc.reshape(400, 3).mean(axis=1), rtol=1e-13)


@pytest.mark.parametrize("on_loss", [False, True])
def test_other_second_axis_is_exact_for_a_linear_map(on_loss):
    """Emission ↔ loss: the value at (E, x) is the map at (E, E − x); exact for z linear in (E, E')."""
    m = linear_map(on_loss)
    axis = "emission" if on_loss else "loss"
    img = S.map_image(m, axis)
    E, X = np.meshgrid(img.y, img.x, indexing="ij")
    emission = X if axis == "emission" else E - X
    want = 2 * E + 3 * emission + 1
    ok = np.isfinite(img.z)
    assert ok.mean() > 0.3
    np.testing.assert_allclose(img.z[ok], want[ok], rtol=1e-12)


# ------------------------------------------------------------------------------------------------ windows
def test_channels_are_rixsims_and_tiling_windows_add_up_to_tfy(example):
    from rixsim.detection import channels as ch
    lo, hi = S.emission_coverage(example)
    a, b = lo + 0.3 * (hi - lo), lo + 0.35 * (hi - lo)
    wins = {"PFY": (lo, a), "iPFY": (a, hi), "sPFY": (852.0, 853.0), "ccPFY": (b, hi)}
    t = S.channel_traces(example, wins)
    np.testing.assert_array_equal(t["PFY"].intensity, ch.pfy_from_map(example, (lo, a)).intensity)
    np.testing.assert_array_equal(t["sPFY"].intensity, ch.spfy_from_map(example, (852.0, 853.0)).intensity)
    # PFY (lo, a) + the yield of (a, hi) = TFY; iPFY is its inverse
    np.testing.assert_allclose(t["PFY"].intensity + 1.0 / t["iPFY"].intensity, t["TFY"].intensity, rtol=1e-12)
    bad = S.channel_traces(example, {**wins, "PFY": (800.0, 850.0), "sPFY": (850.0, 855.0)})
    assert "outside the map's emission range" in bad["PFY"]
    assert "1–2 eV wide" in bad["sPFY"]


def test_initial_windows_lie_inside_the_map(example):
    lo, hi = S.emission_coverage(example)
    w = S.initial_windows(example)
    assert set(w) == set(S.WINDOWED)
    for a, b in w.values():
        assert lo <= a < b <= hi
    assert w["sPFY"][1] - w["sPFY"][0] <= 2.0
    assert all(isinstance(v, Spectrum) for v in S.channel_traces(example, w).values())


# ------------------------------------------------------------------------------------------------ cuts
def test_constant_excitation_cut_interpolates_between_rows(example):
    e = example.excitation
    on_row = S.constant_excitation_cut(example, e[7])
    np.testing.assert_allclose(on_row.intensity, example.intensity[7], rtol=1e-14)
    half = S.constant_excitation_cut(example, 0.5 * (e[7] + e[8]))
    np.testing.assert_allclose(half.intensity, 0.5 * (example.intensity[7] + example.intensity[8]), rtol=1e-12)
    with pytest.raises(InputError, match="outside"):
        S.constant_excitation_cut(example, e[-1] + 1.0)


def test_cuts_through_one_point_agree(example):
    """At a grid excitation the constant-emission cut and the constant-excitation cut meet in one value;
    the constant-loss cut at loss E − E' there too."""
    i, emi = 20, 852.33
    E = float(example.excitation[i])
    c = S.cuts_at(example, E, emi, "emission")
    row = c["excitation"]
    at = np.interp(emi, row.energy, row.intensity)
    assert c["emission"].intensity[i] == pytest.approx(at, rel=1e-12)
    j = int(np.flatnonzero(c["loss"].energy == E)[0])
    assert c["loss"].intensity[j] == pytest.approx(at, rel=1e-9)
    same = S.cuts_at(example, E, E - emi, "loss")
    np.testing.assert_allclose(same["emission"].intensity, c["emission"].intensity, rtol=1e-12)
    assert isinstance(S.cuts_at(example, E, 900.0, "emission")["emission"], str)


# ------------------------------------------------------------------------------------------------ difference
def test_difference_on_the_common_grid():
    a = linear_map()
    b = RixsMap(a.excitation[5:], a.emission[10:], 3.0 * a.intensity[5:, 10:])
    exc, emi = S.common_grid([a, b], "emission")
    assert exc[0] == b.excitation[0] and exc[-1] == pytest.approx(a.excitation[-1])
    assert emi[0] == b.emission[0] and emi[-1] <= a.emission[-1]
    d = S.difference_map(a, b, "emission", normalise="none")
    E, X = np.meshgrid(d.excitation, d.emission, indexing="ij")
    np.testing.assert_allclose(d.intensity, 2.0 * (2 * E + 3 * X + 1), rtol=1e-12)
    assert np.nanmax(np.abs(S.difference_map(a, b, "emission", normalise="max").intensity)) < 1e-12
    far = RixsMap(a.excitation + 100, a.emission + 100, a.intensity)
    with pytest.raises(InputError, match="do not overlap"):
        S.difference_map(a, far, "emission")


# ------------------------------------------------------------------------------------------------ model
def test_model_engine_equals_fitmodel_and_caches(example):
    from rixsim.analysis.fitting import FitModel
    eng = S.ModelEngine(S.ModelSpec("Ni2+", temperature_k=300.0))
    e = example.excitation
    y1 = eng.xas(e, {"tendq": 1.2, "edge_offset": 858.0})
    n_eval = eng.model.n_evaluations
    y2 = eng.xas(e, {"tendq": 1.2, "edge_offset": 858.0})
    assert y2 is y1 and eng.model.n_evaluations == n_eval and eng.n_computed == 1
    fresh = FitModel("Ni2+", temperature_k=300.0)
    np.testing.assert_allclose(y1, fresh.xas(e, {"tendq": 1.2, "edge_offset": 858.0}), rtol=1e-12)
    assert not np.allclose(eng.xas(e, {"tendq": 2.0, "edge_offset": 858.0}), y1)


def test_slider_ranges_follow_the_model_and_the_data():
    atomic = S.slider_ranges(S.ModelSpec("Ni2+"))
    assert "delta" not in atomic and "tendq" in atomic
    ct = S.slider_ranges(S.ModelSpec("Ni2+", charge_transfer={"delta": 4.0, "udd": 7.0, "upd": 8.5, "veg": 2.0}))
    assert ct["delta"][4] == 4.0
    relative = S.slider_ranges(S.ModelSpec("Ni2+"), np.linspace(0.0, 12.0, 40))
    lo, hi, v = relative["edge_offset"][1], relative["edge_offset"][2], relative["edge_offset"][4]
    assert v == 6.0 and lo == -4.0 and hi == 16.0


def test_least_squares_scale():
    m = np.array([1.0, 2.0, 3.0])
    assert S.least_squares_scale(m, 2.5 * m) == pytest.approx(2.5)
    assert S.least_squares_scale(np.zeros(3), m) == 1.0


def test_coalescer_runs_the_first_and_the_newest_request_only():
    gate = threading.Event()
    ran, done = [], []
    with ThreadPoolExecutor(max_workers=2) as ex:
        q = S.Coalescer(ex)

        def job(k):
            def run():
                if k == 0:
                    gate.wait(10)
                ran.append(k)
                return k
            return run
        for k in range(5):
            q.submit(job(k), lambda r, e: done.append((r, e)))
        gate.set()
        t0 = time.monotonic()
        while len(done) < 2 and time.monotonic() - t0 < 10:
            time.sleep(0.01)
        time.sleep(0.05)
    assert ran == [0, 4] and done == [(0, None), (4, None)]
    assert not q.busy


def test_coalescer_hands_errors_to_done():
    got = []
    with ThreadPoolExecutor(max_workers=1) as ex:
        S.Coalescer(ex).submit(lambda: 1 / 0, lambda r, e: got.append(e))
    assert isinstance(got[0], ZeroDivisionError)


def test_fit_job_recovers_a_known_offset():
    """Noise-free Ni2+ XAS with the edge at 858.3 eV and scale 40: a fit started 0.4 eV off finds both."""
    from rixsim.analysis.fitting import FitModel, simulate_xas
    e = np.linspace(848.0, 862.0, 141)
    truth = {"tendq": 1.1, "edge_offset": 858.3, "scale": 40.0}
    data = simulate_xas(FitModel("Ni2+", temperature_k=300.0), e, truth)
    job = S.FitJob(S.ModelSpec("Ni2+"), data, {"tendq": 1.1, "edge_offset": 857.9}, ["edge_offset"])
    res = job.run()
    assert res.values["edge_offset"] == pytest.approx(858.3, abs=1e-4)
    assert res.values["scale"] == pytest.approx(40.0, rel=1e-4)
    assert job.n_evaluations > 2 and set(res.varied) == {"edge_offset", "scale"}


# ------------------------------------------------------------------------------------------------ export
def test_model_file_round_trips(tmp_path, example):
    from rixsim.interfaces.config import load_config
    spec = S.ModelSpec("Ni2+", temperature_k=40.0)
    values = {"tendq": 1.37, "slater_scale": 0.71, "l3_fwhm": 0.6, "edge_offset": 859.1, "gauss_fwhm": 0.3,
              "final_fwhm": 0.05, "resolution_fwhm": 0.15}
    p = tmp_path / "m.toml"
    p.write_text(S.model_file_text(spec, values, example))
    cfg = load_config(p)
    assert cfg.model["tendq"] == 1.37 and cfg.model["temperature_k"] == 40.0
    assert cfg.rixs["excitation_min"] == 850.0 and cfg.rixs["emission_step"] == pytest.approx(0.1)
    back = S.ModelSpec.from_model_file(p)
    for k, v in values.items():
        assert back.start[k] == pytest.approx(v, abs=1e-9), k
    ct = S.ModelSpec("Ni2+", charge_transfer={"delta": 4.0, "udd": 7.0, "upd": 8.5, "veg": 2.0})
    p2 = tmp_path / "ct.toml"
    p2.write_text(S.model_file_text(ct, {"delta": 3.5, "tendq": 0.8}))
    assert load_config(p2).charge_transfer["delta"] == 3.5


def test_export_writes_atomically_and_never_silently_overwrites(tmp_path, example):
    import h5py
    spec = S.ModelSpec("Ni2+")
    wins = S.initial_windows(example)
    chans = S.channel_traces(example, wins)
    cuts = S.cuts_at(example, 854.0, 852.0, "emission")
    kw = {"spec": spec, "values": {"tendq": 1.1, "edge_offset": 858.0}, "windows": wins, "cuts": cuts,
          "channels": chans, "source": "example", "rmap": example}
    written = S.export_view(tmp_path, "run1", **kw)
    assert sorted(p.name for p in written) == ["run1.toml", "run1_channels.csv", "run1_cut_emission.csv",
                                               "run1_cut_excitation.csv", "run1_cut_loss.csv", "run1_view.h5",
                                               "run1_view.toml"]
    from rixsim.io import read_spectrum
    cut = read_spectrum(tmp_path / "run1_cut_emission.csv")
    np.testing.assert_array_equal(cut.intensity, cuts["emission"].intensity)
    table = np.loadtxt(tmp_path / "run1_channels.csv", delimiter=",", skiprows=2)
    np.testing.assert_array_equal(table[:, 2], chans["PFY"].intensity)
    with h5py.File(tmp_path / "run1_view.h5") as f:
        np.testing.assert_array_equal(f["cuts/emission"][:, 1], cuts["emission"].intensity)
        np.testing.assert_array_equal(f["windows"].attrs["PFY"], wins["PFY"])
    before = (tmp_path / "run1.toml").read_text()
    with pytest.raises(FileExistsRefusal, match="exists"):
        S.export_view(tmp_path, "run1", **{**kw, "values": {"tendq": 2.0}})
    assert (tmp_path / "run1.toml").read_text() == before
    S.export_view(tmp_path, "run1", **{**kw, "values": {"tendq": 2.0}}, overwrite=True)
    assert "tendq = 2.0" in (tmp_path / "run1.toml").read_text()
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(InputError):
            S.export_view(tmp_path, bad, **kw)
    assert not list(tmp_path.glob(".*.tmp"))


# ------------------------------------------------------------------------------------------------ example, server, CLI
def test_shipped_example_is_what_rixsim_computes(tmp_path, example):
    from rixsim.interfaces.viewer.example import write_example
    from rixsim.io import read_any
    fresh = read_any(write_example(tmp_path / "again.h5"))
    np.testing.assert_allclose(fresh.intensity, example.intensity, rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(fresh.emission, example.emission)


def test_sqrt_palette_puts_the_base_colour_of_sqrt_t_at_t():
    from bokeh.palettes import Viridis256

    from rixsim.interfaces.viewer.app import scale_palette
    p = scale_palette("sqrt", n=1025)
    assert p[256] == Viridis256[round(0.5 * 255)]        # t = 1/4 → √t = 1/2
    assert scale_palette("linear", n=256) == list(Viridis256)


def test_server_listens_on_loopback_and_refuses_outside_paths(tmp_path):
    from rixsim.interfaces.viewer.server import ViewerServer
    f = tmp_path / "x.txt"
    f.write_text("1 2\n")
    srv = ViewerServer([str(f)], out_dir=str(tmp_path)).start_in_thread()
    try:
        assert srv.bound_addresses() and {h for h, _ in srv.bound_addresses()} == {"127.0.0.1"}
        assert srv.url.startswith("http://127.0.0.1:")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(srv.url + "?file=" + str(Path(__file__).resolve()), timeout=30)
        assert err.value.code == 403
    finally:
        srv.stop()


def test_view_command_checks_its_arguments(capsys):
    from rixsim.interfaces.cli import EXIT_INPUT, main
    assert main(["view", "--no-browser"]) == EXIT_INPUT
    assert "give one or more files" in capsys.readouterr().err
    assert main(["view", "--example", "--no-browser", "--port", "70000"]) == EXIT_INPUT
    assert "--port" in capsys.readouterr().err


def test_view_command_prints_the_url_serves_and_stops_on_sigterm():
    """``rixsim view --example --no-browser`` prints its loopback URL, serves the page (HTTP 200), and exits
    0 on SIGTERM (Ctrl-C gives the CLI's 130, "interrupted")."""
    import os
    import signal
    import subprocess
    import sys
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    p = subprocess.Popen([sys.executable, "-m", "rixsim.interfaces.cli", "view", "--example", "--no-browser"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = p.stdout.readline()
        assert line.startswith("rixsim view: http://127.0.0.1:"), line
        url = line.split()[2]
        with urllib.request.urlopen(url, timeout=60) as r:
            assert r.status == 200 and b"bokeh" in r.read().lower()
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()

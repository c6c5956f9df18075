"""The map explorer end to end: a real server on 127.0.0.1 and Debian's Chromium driven by Playwright.

Numbers are read from the page (the Bokeh document's data sources, ``Bokeh.documents[0]``) and compared with
what rixsim's own functions compute for the same windows, cuts and parameters — never pixels.  One server and
one browser serve the whole module.  A screenshot of each view goes into the test's ``tmp_path``.

Without Chromium or the playwright package the module is skipped with the reason, unless
``RIXSIM_E2E_REQUIRED=1`` (set by ``.ci/run`` once it has installed Chromium): then it fails.
"""
from __future__ import annotations

import html
import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = os.environ.get("RIXSIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
NIPS3 = SHARED / "nips3-ni-l3-rixs" / "NiPS3v2.numpy"
FE_SCAN = SHARED / "fe-l23-xmcd-i06" / "236463.dat"


def _unavailable() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    return ""


_REASON = _unavailable()
if _REASON and os.environ.get("RIXSIM_E2E_REQUIRED") == "1":
    raise RuntimeError(f"RIXSIM_E2E_REQUIRED=1 but {_REASON}")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(_REASON), reason=_REASON or "available")]


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The shipped example, a second map (the example × 2, for the difference), an unreadable text file and,
    where the shared data are present, the measured NiPS3 matrix (no axes in the file: read_any refuses it)."""
    from rixsim.interfaces.viewer.example import EXAMPLE_MAP
    from rixsim.io import read_any, write_map_hdf5
    from rixsim.results import RixsMap
    d = tmp_path_factory.mktemp("viewer_files")
    a = read_any(EXAMPLE_MAP)
    b = RixsMap(a.excitation, a.emission, 2.0 * a.intensity, label="example x 2", units=a.units)
    write_map_hdf5(d / "double.h5", b)
    bad = d / "broken.txt"
    bad.write_text("# not a spectrum\n850.0 1.0\n850.2 x\n", encoding="utf-8")
    out = {"example": Path(EXAMPLE_MAP), "double": d / "double.h5", "bad": bad, "dir": d}
    listed = [out["example"], out["double"], bad]
    if NIPS3.exists():
        out["nips3"] = NIPS3
        listed.append(NIPS3)
    out["listed"] = listed
    return out


@pytest.fixture(scope="module")
def server(files):
    from rixsim.interfaces.viewer.example import EXAMPLE_MODEL
    from rixsim.interfaces.viewer.server import ViewerServer
    roots = [files["example"].parent, files["dir"]] + ([NIPS3.parent] if "nips3" in files else [])
    srv = ViewerServer([str(p) for p in files["listed"]], roots=roots, model_file=str(EXAMPLE_MODEL),
                       out_dir=str(files["dir"])).start_in_thread()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(server, browser):
    pg = browser.new_page(viewport={"width": 1500, "height": 1100})
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server.url)
    pg.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0 && "
                         "Bokeh.documents[0].get_model_by_name('channel_PFY') !== null", timeout=120_000)
    _wait_text(pg, "model_status", "done", 120_000)
    pg.js_errors = errors
    yield pg
    pg.close()


@pytest.fixture(scope="module")
def example_map():
    from rixsim.interfaces.viewer.example import EXAMPLE_MAP
    from rixsim.io import read_any
    return read_any(EXAMPLE_MAP)


# ------------------------------------------------------------------------------------------------ helpers
def _model(page, name: str, expr: str):
    return page.evaluate(f"() => {{ const m = Bokeh.documents[0].get_model_by_name({json.dumps(name)}); "
                         f"return {expr}; }}")


def _source(page, renderer: str) -> dict:
    """The data of a named glyph renderer's (or a named source's) ColumnDataSource, as plain lists."""
    return page.evaluate("""(name) => {
        const m = Bokeh.documents[0].get_model_by_name(name);
        const src = m.data_source !== undefined ? m.data_source : m;
        const out = {};
        const entries = (src.data instanceof Map) ? [...src.data] : Object.entries(src.data);
        for (const [k, v] of entries) { out[k] = Array.from(v, x => (x && x.length !== undefined) ? Array.from(x) : x); }
        return out; }""", renderer)

def _sliders(page) -> dict:
    """``{parameter: value}`` of every ``slider_*`` model on the page."""
    return page.evaluate("""() => { const out = {};
        for (const m of Bokeh.documents[0].all_models) {
            if (m.name && m.name.startsWith('slider_')) out[m.name.slice(7)] = m.value; }
        return out; }""")


def _slider_model(ion: str, kind: str, values: dict):
    """The FitModel the page computes with and the slider values it takes, unit scale, no background."""
    from rixsim.analysis.fitting import FitModel
    fm = FitModel(ion, temperature_k=300.0)
    v = {k: x for k, x in values.items() if k in fm.allowed_parameters(kind)}
    v.update(scale=1.0, background=0.0, background_slope=0.0)
    return fm, v



def _set(page, name: str, attr: str, value):
    page.evaluate("([n, a, v]) => { Bokeh.documents[0].get_model_by_name(n)[a] = v; }", [name, attr, value])


def _wait_text(page, name: str, needle: str, timeout=60_000):
    page.wait_for_function("([n, s]) => { if (!window.Bokeh || Bokeh.documents.length === 0) return false; "
                           "const m = Bokeh.documents[0].get_model_by_name(n); "
                           "return m !== null && m.text.includes(s); }", arg=[name, needle], timeout=timeout)


def _wait_change(page, renderer: str, column: str, before, timeout=60_000):
    page.wait_for_function("""([name, col, before]) => {
        const m = Bokeh.documents[0].get_model_by_name(name);
        const src = m.data_source !== undefined ? m.data_source : m;
        const v = (src.data instanceof Map) ? src.data.get(col) : src.data[col];
        return JSON.stringify(Array.from(v)) !== before; }""",
                           arg=[renderer, column, json.dumps(before)], timeout=timeout)


def _to_page(page, fig: str, x: float, y: float) -> tuple[float, float]:
    """Page pixel of data point (x, y) in the named figure."""
    return tuple(page.evaluate("""([name, x, y]) => {
        const fig = Bokeh.documents[0].get_model_by_name(name);
        const v = Bokeh.index.find_one_by_id(fig.id);
        const r = v.el.getBoundingClientRect();
        return [r.left + window.scrollX + v.frame.x_scale.compute(x), r.top + window.scrollY + v.frame.y_scale.compute(y)];
        }""", [fig, x, y]))


def _shot(page, tmp_path, name, selector_name=None):
    out = tmp_path / "screenshots"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def _eventually(check, timeout_s=30.0):
    """Retry ``check()`` until it passes (the server may still be sending a newer state); re-raise at the end."""
    import time
    end = time.monotonic() + timeout_s
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > end:
                raise
            time.sleep(0.25)


def _close(a, b, rtol=1e-9):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=0)


# ------------------------------------------------------------------------------------------------ tests
def test_page_loads_the_shipped_example(page, example_map, tmp_path):
    """The map image is the example's intensity (not reduced: 51 × 221 < 500 per axis), with a colour bar in
    its units, and all five channel traces are there."""
    img = _source(page, "map_0")
    z = np.array(img["image"][0], dtype=float).reshape(example_map.intensity.shape)
    _close(z, example_map.intensity, rtol=1e-12)
    assert _model(page, "map_fig_0", "m.title.text") == "ni2_oh_map.h5"
    for name in ("TFY", "PFY", "iPFY", "sPFY", "ccPFY"):
        assert len(_source(page, f"channel_{name}")["value"]) == example_map.excitation.size, name
    tips = _model(page, "hover_0", "JSON.stringify(m.tooltips)")
    for word in ("excitation", "emission", "loss", "intensity"):
        assert word in tips
    assert page.js_errors == []
    _shot(page, tmp_path, "map_view")


def test_hover_reads_out_excitation_emission_loss_and_intensity(page, example_map, tmp_path):
    """The mouse over the pixel at (emission 852.3, excitation 854.0) eV: the tooltip shows those energies,
    the loss 1.7 eV and that pixel's intensity."""
    page.evaluate("() => window.scrollTo(0, 0)")
    x, y = _to_page(page, "map_fig_0", 852.3, 854.0)
    page.mouse.move(x - 4, y)
    page.mouse.move(x, y)
    rows = page.locator(".bk-tooltip-row-value")
    rows.nth(3).wait_for(timeout=10_000)
    values = [rows.nth(k).inner_text() for k in range(rows.count())]
    assert values[:3] == ["854.000", "852.300", "1.700"], values
    i, j = int(np.argmin(abs(example_map.excitation - 854.0))), int(np.argmin(abs(example_map.emission - 852.3)))
    assert float(values[3]) == pytest.approx(example_map.intensity[i, j], rel=1e-5)
    _shot(page, tmp_path, "hover")
    page.mouse.move(5, 5)


def test_dragging_the_pfy_window_gives_rixsims_pfy(page, example_map, tmp_path):
    """A real pointer drag of the PFY box on the map moves the window; the PFY trace then equals
    rixsim.detection.channels.pfy_from_map for the window the page shows, to 1e-9."""
    from rixsim.detection.channels import pfy_from_map
    page.evaluate("() => window.scrollTo(0, 0)")
    lo0 = _model(page, "window_PFY", "m.left")
    hi0 = _model(page, "window_PFY", "m.right")
    before = _source(page, "channel_PFY")["value"]
    x0, y0 = _to_page(page, "map_fig_0", 0.5 * (lo0 + hi0), 851.0)
    x1, _ = _to_page(page, "map_fig_0", 0.5 * (lo0 + hi0) - 2.5, 851.0)
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(x0 + (x1 - x0) * k / 10, y0)
    page.mouse.up()
    _wait_change(page, "channel_PFY", "value", before)

    def check():
        # the server answers each move of the drag; the typed edges follow the box in the same callback
        # as the trace, so once they equal the box the trace is that of the final window
        lo, hi = _model(page, "window_PFY", "m.left"), _model(page, "window_PFY", "m.right")
        assert _model(page, "win_PFY_lo", "m.value") == lo and _model(page, "win_PFY_hi", "m.value") == hi
        got = _source(page, "channel_PFY")
        want = pfy_from_map(example_map, (lo, hi))
        _close(got["excitation"], want.energy)
        _close(got["value"], want.intensity)
        return lo, hi
    lo, hi = _eventually(check)
    assert lo < lo0 - 1.0 and hi < hi0 - 1.0                 # moved left by ≈ 2.5 eV
    assert hi - lo == pytest.approx(hi0 - lo0, rel=1e-6)      # moved, not resized
    _shot(page, tmp_path, "window_dragged")


def test_typed_windows_give_rixsims_channels(page, example_map):
    """Typing the sPFY and iPFY edges: the traces are spfy_from_map and ipfy_from_map of those windows."""
    from rixsim.detection.channels import ipfy_from_map, spfy_from_map
    before = _source(page, "channel_sPFY")["value"]
    _set(page, "win_sPFY_lo", "value", 851.0)
    _set(page, "win_sPFY_hi", "value", 852.5)
    _wait_change(page, "channel_sPFY", "value", before)
    page.wait_for_timeout(300)
    _close(_source(page, "channel_sPFY")["value"], spfy_from_map(example_map, (851.0, 852.5)).intensity)
    before = _source(page, "channel_iPFY")["value"]
    _set(page, "win_iPFY_lo", "value", 841.0)
    _set(page, "win_iPFY_hi", "value", 846.0)
    _wait_change(page, "channel_iPFY", "value", before)
    page.wait_for_timeout(300)
    _close(_source(page, "channel_iPFY")["value"], ipfy_from_map(example_map, (841.0, 846.0)).intensity)
    # an sPFY window wider than 2 eV is refused with rixsim's message, and its trace emptied
    _set(page, "win_sPFY_hi", "value", 855.0)
    _wait_text(page, "channel_status", "sPFY")
    assert "1–2 eV wide" in _model(page, "channel_status", "m.text")
    assert _source(page, "channel_sPFY")["value"] == []
    _set(page, "win_sPFY_hi", "value", 852.5)


def test_a_click_cuts_the_map_like_rixsim(page, example_map, tmp_path):
    """A click on the map: the constant-emission cut is constant_emission_cut at the clicked emission, the
    constant-loss cut constant_loss_cut at the clicked loss, and the constant-excitation cut the map
    interpolated linearly between the two rows around the clicked excitation."""
    from rixsim.spectroscopy.rixs import constant_emission_cut, constant_loss_cut
    page.evaluate("() => window.scrollTo(0, 0)")
    before = _source(page, "cut_emission")["y"]
    x, y = _to_page(page, "map_fig_0", 852.37, 854.13)
    page.mouse.click(x, y)
    _wait_change(page, "cut_emission", "y", before)
    page.wait_for_timeout(300)
    pt = _source(page, "cut_point")
    exc, emi, loss = pt["excitation"][0], pt["emission"][0], pt["loss"][0]
    assert emi == pytest.approx(852.37, abs=0.1) and exc == pytest.approx(854.13, abs=0.1)
    assert loss == pytest.approx(exc - emi, abs=1e-12)
    want = constant_emission_cut(example_map, emi)
    got = _source(page, "cut_emission")
    _close(got["x"], want.energy)
    _close(got["y"], want.intensity)
    want = constant_loss_cut(example_map, loss)
    got = _source(page, "cut_loss")
    _close(got["x"], want.energy)
    _close(got["y"], want.intensity)
    e = example_map.excitation
    i = int(np.searchsorted(e, exc)) - 1
    t = (exc - e[i]) / (e[i + 1] - e[i])
    row = (1 - t) * example_map.intensity[i] + t * example_map.intensity[i + 1]
    got = _source(page, "cut_excitation")
    _close(got["x"], example_map.emission)
    _close(got["y"], row)
    _shot(page, tmp_path, "cuts")


def test_loss_view_and_colour_scales(page, example_map, tmp_path):
    """The loss toggle shows the map on excitation × loss (the value at (E, loss) is the map at emission
    E − loss); sqrt and log scales change the colour mapping, not the numbers."""
    page.evaluate("() => window.scrollTo(0, 0)")
    _set(page, "axis_toggle", "active", 1)
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('map_fig_0').below[0].axis_label"
                           ".includes('loss')", timeout=30_000)
    page.wait_for_timeout(300)
    img = _source(page, "map_0")
    z = np.array(img["image"][0], dtype=float)
    x0, dw = img["x"][0], img["dw"][0]
    nx = round(len(z) / example_map.excitation.size)
    z = z.reshape(example_map.excitation.size, nx)
    step = dw / nx
    loss = x0 + step / 2 + step * np.arange(nx)
    # a row's value at loss l is the emission profile interpolated at E − l (inside the measured range)
    i = 20
    E = example_map.excitation[i]
    inside = (E - loss >= example_map.emission[0]) & (E - loss <= example_map.emission[-1])
    want = np.interp(E - loss[inside], example_map.emission, example_map.intensity[i])
    np.testing.assert_allclose(z[i, inside], want, rtol=1e-9, atol=1e-12 * example_map.intensity.max())
    tips = dict(_model(page, "hover_0", "m.tooltips"))
    assert tips["loss (eV)"].startswith("$x{0") and tips["emission (eV)"] == "$data_x{custom}"
    _shot(page, tmp_path, "loss_view")
    _set(page, "scale_toggle", "active", 2)
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('map_0').glyph.color_mapper.type"
                           " === 'LogColorMapper'", timeout=30_000)
    _shot(page, tmp_path, "log_scale")
    _set(page, "scale_toggle", "active", 1)
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('map_0').glyph.color_mapper.type"
                           " === 'LinearColorMapper'", timeout=30_000)
    _shot(page, tmp_path, "sqrt_scale")
    _set(page, "axis_toggle", "active", 0)
    _set(page, "scale_toggle", "active", 0)
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('map_fig_0').below[0].axis_label"
                           ".includes('Emission')", timeout=30_000)


def test_two_maps_side_by_side_and_their_difference(page, example_map, tmp_path):
    """Both maps share their axis ranges; with 'none' normalisation the difference (example × 2) − example
    on the common grid (identical grids: interpolation is exact at the nodes) is the example itself."""
    assert _model(page, "map_fig_0", "m.x_range.id") == _model(page, "map_fig_1", "m.x_range.id")
    assert _model(page, "map_fig_0", "m.y_range.id") == _model(page, "map_fig_1", "m.y_range.id")
    _set(page, "diff_norm", "value", "none")

    def check():
        d = np.array(_source(page, "difference")["image"][0], dtype=float)
        assert d.size == example_map.intensity.size
        # grid nodes lo + k·step differ from the map's own axis values by rounding (~1e-13 eV) only
        np.testing.assert_allclose(d.reshape(example_map.intensity.shape), example_map.intensity, rtol=1e-9,
                                   atol=1e-15)
    _eventually(check)
    page.get_by_text("Difference", exact=True).scroll_into_view_if_needed()
    _shot(page, tmp_path, "difference")


def test_a_slider_re_renders_the_model(page, tmp_path):
    """Moving the 10Dq slider recomputes the model in the background; the page's model trace is then
    FitModel.xas for the page's slider values (computed here on a fresh FitModel), and the overlay is that
    times the least-squares scale onto the measured trace."""
    before = _source(page, "model_xas")["raw"]
    _set(page, "slider_tendq", "value", 1.6)
    _wait_text(page, "model_status", "tendq 1.6")
    _wait_text(page, "model_status", "done")
    page.wait_for_timeout(300)
    got = _source(page, "model_xas")
    assert got["raw"] != before
    values = _sliders(page)
    assert values["tendq"] == 1.6
    fm, v = _slider_model("Ni2+", "xas", values)
    want = fm.xas(np.array(got["energy"]), v)
    _close(got["raw"], want)
    meas = np.array(_source(page, "measured_xas")["y"])
    s = float(want @ meas / (want @ want))
    _close(got["y"], s * want)
    page.get_by_text("measured absorption", exact=False).first.scroll_into_view_if_needed()
    _shot(page, tmp_path, "model")


def test_the_model_map_and_its_difference_to_the_measured_one(page, example_map, tmp_path):
    """Ticking 'also simulate the map': the model map is FitModel.rixs on the displayed grid for the page's
    slider values, times the least-squares scale onto the measured map; it can be the B of the difference."""
    _set(page, "map_too", "active", True)
    page.wait_for_function("() => { const d = Bokeh.documents[0].get_model_by_name('model_map').data_source.data;"
                           " const im = (d instanceof Map) ? d.get('image') : d.image; return im.length > 0; }",
                           timeout=120_000)
    _wait_text(page, "model_status", "done")
    values = _sliders(page)
    fm, v = _slider_model("Ni2+", "rixs", values)
    z = fm.rixs(example_map.excitation, example_map.emission, v, on_loss_axis=False)
    meas = example_map.intensity
    s = float(np.sum(z * meas) / np.sum(z * z))

    def check():
        got = np.array(_source(page, "model_map")["image"][0], dtype=float).reshape(meas.shape)
        np.testing.assert_allclose(got, s * z, rtol=1e-9, atol=1e-12 * np.abs(s * z).max())
    _eventually(check, 60.0)
    _set(page, "diff_b", "value", "model map")
    _set(page, "diff_a", "value", "0: ni2_oh_map.h5")
    _set(page, "diff_norm", "value", "none")

    def check_difference():
        d = np.array(_source(page, "difference")["image"][0], dtype=float).reshape(meas.shape)
        np.testing.assert_allclose(d, s * z - meas, rtol=1e-6, atol=1e-9 * np.abs(meas).max())
    _eventually(check_difference, 60.0)
    page.get_by_text("Difference", exact=True).scroll_into_view_if_needed()
    _shot(page, tmp_path, "model_map_difference")
    _set(page, "map_too", "active", False)


def test_a_fit_runs_in_the_background_and_reports_its_health(page, tmp_path):
    """'fit from current values' (edge offset and scale) shows progress, then the verdict of the fit
    health and the fitted values; the page answers meanwhile."""
    _set(page, "fit_vary", "value", ["edge_offset"])
    page.get_by_role("button", name="fit from current values").click()
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('fit_status').text.length > 0",
                           timeout=30_000)
    _wait_text(page, "fit_status", "health", 180_000)
    text = _model(page, "fit_status", "m.text")
    assert "trustworthy" in text and "edge_offset = " in text
    fitted = float(text.split("edge_offset = ")[1].split()[0])
    before = _model(page, "slider_edge_offset", "m.value")
    assert abs(before - fitted) > 1e-3                  # the fit moved the offset, so the check below can fail
    page.get_by_role("button", name="move sliders to the fit").click()
    # the status shows 6 significant digits (0.001 eV here); the slider takes the fitted value itself
    page.wait_for_function("(v) => Math.abs(Bokeh.documents[0].get_model_by_name('slider_edge_offset').value - v)"
                           " <= 1e-3", arg=fitted, timeout=30_000)
    page.get_by_text("fit from current values").scroll_into_view_if_needed()
    _shot(page, tmp_path, "fit")


def test_unreadable_files_show_the_readers_error(page, files, tmp_path):
    """The broken text file and (where present) the axis-less NiPS3 matrix are listed with the message
    rixsim.io.read_any gives for them; the readable maps still show."""
    from rixsim.errors import InputError
    from rixsim.io import read_any
    text = _model(page, "file_errors", "m.text")
    for key in ("bad", "nips3"):
        if key not in files:
            continue
        with pytest.raises(InputError) as err:      # the viewer reads the resolved path (symlinks followed)
            read_any(Path(files[key]).resolve())
        assert html.escape(" ".join(str(err.value).split())) in text, key
    page.evaluate("() => window.scrollTo(0, 0)")
    _shot(page, tmp_path, "errors")


def test_a_page_of_only_an_unreadable_file(browser, files, tmp_path):
    """A server started on an unreadable file alone shows the reader's error, not a blank page or a
    traceback."""
    from rixsim.interfaces.viewer.server import ViewerServer
    srv = ViewerServer([str(files["bad"])], out_dir=str(tmp_path)).start_in_thread()
    pg = browser.new_page()
    try:
        pg.goto(srv.url)
        _wait_text(pg, "file_errors", "broken.txt")
        text = _model(pg, "file_errors", "m.text")
        assert "is not a number" in text and "Traceback" not in text
        _shot(pg, tmp_path, "error_page")
    finally:
        pg.close()
        srv.stop()


def test_export_writes_a_model_file_and_refuses_to_overwrite(page, files):
    from rixsim.interfaces.config import load_config
    _set(page, "export_name", "value", "e2e")
    page.get_by_role("button", name="export windows, cuts, model").click()
    _wait_text(page, "export_status", "written")
    cfg = load_config(files["dir"] / "e2e.toml")
    assert cfg.model["tendq"] == pytest.approx(_model(page, "slider_tendq", "m.value"))
    page.get_by_role("button", name="export windows, cuts, model").click()
    _wait_text(page, "export_status", "refused")
    assert "exists" in _model(page, "export_status", "m.text")


def test_serves_on_loopback_only_and_refuses_outside_paths(server, page, files):
    """Every listening socket is on 127.0.0.1; ?file= outside the allowed folders is HTTP 403, inside 200;
    the page's own 'open' box refuses an outside path too."""
    assert server.bound_addresses() and all(h == "127.0.0.1" for h, _ in server.bound_addresses())
    outside = Path(__file__).resolve()
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server.url + "?file=" + str(outside), timeout=30)
    assert err.value.code == 403
    # a symlink inside an allowed folder that points outside is refused as well
    link = files["dir"] / "link.txt"
    if not link.exists():
        link.symlink_to(outside)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server.url + "?file=" + str(link), timeout=30)
    assert err.value.code == 403
    with urllib.request.urlopen(server.url + "?file=" + str(files["double"]), timeout=60) as r:
        assert r.status == 200
    _set(page, "open_path", "value", str(outside))
    page.get_by_role("button", name="open", exact=True).click()
    _wait_text(page, "open_status", "refused")
    _set(page, "open_path", "value", str(files["double"]))
    page.get_by_role("button", name="open", exact=True).click()
    _wait_text(page, "open_status", "in a new page")
    # a model file outside the allowed folders is refused as well
    _set(page, "model_file", "value", str(outside))
    page.get_by_role("button", name="use this model").click()
    _wait_text(page, "model_status", "outside the folders")
    assert page.js_errors == []


def test_shipped_example_file_is_in_the_package():
    from rixsim.interfaces.viewer.example import EXAMPLE_MAP, EXAMPLE_MODEL
    assert EXAMPLE_MAP.is_file() and EXAMPLE_MODEL.is_file()
    assert EXAMPLE_MAP.stat().st_size < 300_000


@pytest.mark.skipif(not NIPS3.exists(), reason="the measured NiPS3 map (../shared/data) is not present")
def test_the_measured_nips3_map_with_matrix_axes(browser, tmp_path):
    """The measured NiPS3 Ni L3 map (He et al., Nat. Commun. 15 (2024); a bare matrix, axes from the data's
    README) opened with --matrix: the image is the file's matrix, a typed PFY window gives pfy_from_map of
    that map, and the model's edge-offset slider sits on the data's relative incident-energy axis."""
    from rixsim.detection.channels import pfy_from_map
    from rixsim.interfaces.viewer.server import ViewerServer
    from rixsim.interfaces.viewer.state import load_file
    axes = "loss=0.5:2.0:151,excitation=0:12:40"
    rmap = load_file(NIPS3, matrix=axes).data
    srv = ViewerServer([str(NIPS3)], matrix=axes, out_dir=str(tmp_path)).start_in_thread()
    pg = browser.new_page(viewport={"width": 1500, "height": 1100})
    try:
        pg.goto(srv.url)
        _wait_text(pg, "model_status", "done", 120_000)
        z = np.array(_source(pg, "map_0")["image"][0], dtype=float).reshape(40, 151)
        np.testing.assert_array_equal(z, np.loadtxt(NIPS3).T)
        assert _model(pg, "map_fig_0", "m.below[0].axis_label") == "Energy loss (eV)"
        _set(pg, "win_PFY_lo", "value", 2.0)
        _set(pg, "win_PFY_hi", "value", 9.0)

        def check():
            assert _model(pg, "win_PFY_hi", "m.value") == 9.0
            got = _source(pg, "channel_PFY")
            _close(got["value"], pfy_from_map(rmap, (2.0, 9.0)).intensity)
        _eventually(check)
        assert _model(pg, "slider_edge_offset", "m.value") == 6.0
        _shot(pg, tmp_path, "nips3_measured")
    finally:
        pg.close()
        srv.stop()


@pytest.mark.skipif(not FE_SCAN.exists(), reason="the measured Fe L2,3 scans (../shared/data) are not present")
def test_a_measured_fe_scan_under_an_fe3_model(browser, tmp_path):
    """A measured I06-1 Fe L2,3 scan (SRS; C1 = TEY, C2 = I0 per the data's README): the model is overlaid on
    the chosen channel ÷ monitor, which is C1 / C2 of rixsim.io.read_any, and the model trace is FitModel.xas
    of Fe3+ for the page's sliders."""
    from rixsim.interfaces.viewer.server import ViewerServer
    from rixsim.io import read_any
    scan = read_any(FE_SCAN)
    srv = ViewerServer([str(FE_SCAN)], ion="Fe3+", out_dir=str(tmp_path)).start_in_thread()
    pg = browser.new_page(viewport={"width": 1500, "height": 1100})
    try:
        pg.goto(srv.url)
        _wait_text(pg, "model_status", "done", 120_000)
        assert _model(pg, "model_channel", "m.value") == "236463.dat:C1"
        _set(pg, "model_monitor", "value", "C2")
        want = np.asarray(scan["C1"]) / np.asarray(scan["C2"])

        def check():
            _close(_source(pg, "measured_xas")["y"], want)
            got = _source(pg, "model_xas")
            assert len(got["raw"]) == scan.energy.size
            values = _sliders(pg)
            fm, v = _slider_model("Fe3+", "xas", values)
            y = fm.xas(scan.energy, v)
            _close(got["raw"], y)
            _close(got["y"], float(y @ want / (y @ y)) * y)
        _eventually(check, 60.0)
        _shot(pg, tmp_path, "fe_scan_model")
    finally:
        pg.close()
        srv.stop()

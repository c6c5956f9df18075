"""Figures: the mRIXS map layout, channels integrated from a map, overlays, fit plots, atomic saving."""
from __future__ import annotations

import os

import numpy as np
import pytest

from rixsim.errors import FileExistsRefusal, InputError
from rixsim.interfaces.plotting import map_channels, plot_fit, plot_rixs_map, plot_spectra, save_figure
from rixsim.results import RixsMap, Spectrum

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def flat_map(level=2.0, loss=False):
    """A map of constant intensity: every window integral is level × window width (exactly, bins are flat)."""
    exc = np.linspace(636.0, 646.0, 21)
    if loss:
        return RixsMap(exc, None, np.full((21, 101), level), loss=np.linspace(0.0, 10.0, 101), label="flat")
    return RixsMap(exc, np.linspace(500.0, 650.0, 1501), np.full((21, 1501), level), label="flat",
                   meta={"transitions_meta": {"model": "Mn2+"}})


def test_channels_of_a_flat_map_are_window_widths():
    rmap = flat_map(2.0)
    ch = map_channels(rmap, {"TFY": None, "PFY": (630.0, 650.0), "iPFY": (520.0, 530.0), "off": (400.0, 450.0)})
    assert "off" not in ch                                     # outside the map: skipped, not extrapolated
    # bins end half-way between points, so the full map spans 500 - 0.05 ... 650 + 0.05 eV
    np.testing.assert_allclose(ch["TFY"].intensity, 2.0 * 150.1, rtol=1e-12)
    np.testing.assert_allclose(ch["PFY"].intensity, 2.0 * 20.0, rtol=1e-12)
    np.testing.assert_allclose(ch["iPFY"].intensity, 1.0 / (2.0 * 10.0), rtol=1e-12)   # inverse yield
    np.testing.assert_array_equal(ch["TFY"].energy, rmap.excitation)


def test_default_channels_include_ipfy_when_the_map_reaches_o_kalpha():
    ch = map_channels(flat_map())
    assert {"TFY", "PFY", "sPFY", "iPFY"} <= set(ch)
    # Mn default PFY window is La1 - 7 ... Lb1 + 3 eV (rixsim.detection.channels.default_windows), clipped to the map
    lo, hi = ch["PFY"].meta["window_ev"]
    assert 629.0 < lo < 631.0 and hi == pytest.approx(650.0)
    assert ch["sPFY"].meta["window_ev"][1] - ch["sPFY"].meta["window_ev"][0] <= 1.0 + 1e-12


def test_map_figure_layout_follows_the_seed_style(tmp_path):
    fig = plot_rixs_map(flat_map(), scale="sqrt")
    main, side = fig.axes[0], fig.axes[1]
    assert "Excitation" in main.get_ylabel() and "Emission" in main.get_xlabel()
    assert side.get_ylim() == pytest.approx((636.0, 646.0))
    labels = [t.get_text() for t in side.get_legend().get_texts()]
    assert labels[0] == "TFY" and "iPFY" in labels
    assert len(fig.axes) == 3                                   # map, channels, colour bar
    p = save_figure(fig, tmp_path / "map.png")
    assert p.read_bytes()[:8] == PNG_MAGIC
    fig2 = plot_rixs_map(flat_map(loss=True), channels=False, scale="log")
    assert len(fig2.axes) == 2                                  # no side panel: map and colour bar
    save_figure(fig2, tmp_path / "map.pdf")
    assert (tmp_path / "map.pdf").read_bytes()[:4] == b"%PDF"
    with pytest.raises(InputError, match="scale"):
        plot_rixs_map(flat_map(), scale="cubic")


def test_overlay_and_fit_figures(tmp_path):
    e = np.linspace(630.0, 660.0, 301)
    a = Spectrum(e, np.exp(-((e - 640.0) / 1.0) ** 2), label="a")
    b = Spectrum(e, 2 * np.exp(-((e - 642.0) / 1.0) ** 2), label="b")
    fig = plot_spectra([a, b], normalize="max")
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2 and np.max(lines[1].get_ydata()) == pytest.approx(1.0)
    with pytest.raises(InputError):
        plot_spectra([])

    class Result:
        data = Spectrum(e, a.intensity + 0.01)
        fit = a
        components = {"a": a}
        fractions = {"a": 1.0}
    fig = plot_fit(Result())
    top, bottom = fig.axes
    assert bottom.get_ylabel() == "Residual"
    resid = bottom.get_lines()[-1].get_ydata()
    np.testing.assert_allclose(resid, 0.01, rtol=1e-12)
    save_figure(fig, tmp_path / "fit.png")


def test_save_is_atomic_and_refuses_to_overwrite(tmp_path, monkeypatch):
    fig = plot_spectra([Spectrum([1.0, 2.0], [0.0, 1.0], label="x")])
    target = save_figure(fig, tmp_path / "f.png")
    content = target.read_bytes()
    with pytest.raises(FileExistsRefusal):
        save_figure(fig, target)
    assert target.read_bytes() == content
    save_figure(fig, target, overwrite=True)
    with pytest.raises(InputError, match="format"):
        save_figure(fig, tmp_path / "f.jpg2")
    with pytest.raises(InputError, match="directory"):
        save_figure(fig, tmp_path / "missing" / "f.png")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(fig, "savefig", boom)
    with pytest.raises(RuntimeError):
        save_figure(fig, tmp_path / "g.png")
    assert sorted(os.listdir(tmp_path)) == ["f.png"]            # neither g.png nor a temporary file

"""End-to-end tests of the ``rixsim`` command line with real files in tmp_path.

Ni2+ atomic models (45 initial, 60 core-excited states) keep every run to a fraction of a second; the demo
(Mn2+/3+/4+ XAS + one Mn2+ map) takes about 10 s.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import rixsim
from rixsim.interfaces.cli import demo_files, main
from rixsim.interfaces.config import SCHEMA, config_from_dict, load_config
from rixsim.spectroscopy.geometry import ScatteringGeometry
from rixsim.io import read_map_hdf5, read_parameters_hdf5, read_spectrum
from rixsim.spectroscopy.rixs import rixs_map

EXAMPLES = Path(rixsim.__file__).parent / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

NI_TOML = """
title = "Ni2+ test"
[model]
ion = "Ni2+"
tendq = 1.1
temperature_k = 300.0
[xas]
energy_min = 850.0
energy_max = 875.0
energy_step = 0.1
gauss_fwhm = 0.3
[rixs]
excitation_min = 851.0
excitation_max = 857.0
excitation_step = 0.5
emission_min = 845.0
emission_max = 858.0
emission_step = 0.1
incident = "pi"
two_theta_deg = 90.0
powder = true
final_fwhm = 0.1
resolution_fwhm = 0.25
"""


def _write(tmp_path, text, name="ni2.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_rixs_toml_to_hdf5_png_matches_python_api(tmp_path, capsys):
    model_file = _write(tmp_path, NI_TOML)
    out = tmp_path / "out"
    assert main(["rixs", str(model_file), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    h5, png = out / "ni2_rixs.h5", out / "ni2_rixs.png"
    assert str(h5) in printed and str(png) in printed
    assert png.read_bytes()[:8] == PNG_MAGIC

    got = read_map_hdf5(h5)
    # the same map through the Python API, parameters typed in by hand
    tr = rixsim.atomic_model("Ni2+", tendq=1.1).transitions(300.0)
    exc = 851.0 + 0.5 * np.arange(13)
    emi = 845.0 + 0.1 * np.arange(131)
    ref = rixs_map(tr, exc, emission=emi, geometry=ScatteringGeometry(90.0, "pi"), powder=True,
                   final_fwhm=0.1, resolution_fwhm=0.25)
    np.testing.assert_allclose(got.excitation, exc, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.emission, emi, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.intensity, ref.intensity, rtol=1e-12, atol=1e-14 * ref.intensity.max())
    assert got.units == ref.units

    # reproducible from the file alone: stored parameters -> config -> the same map
    params = read_parameters_hdf5(h5)
    assert params["model"]["ion"] == "Ni2+" and params["model"]["tendq"] == 1.1
    assert params["rixsim_version"] == rixsim.__version__
    from rixsim.interfaces.cli import compute_rixs
    _, _, again = compute_rixs(config_from_dict(params))
    np.testing.assert_array_equal(again.intensity, got.intensity)


def test_xas_csv_matches_python_api(tmp_path):
    model_file = _write(tmp_path, NI_TOML)
    assert main(["xas", str(model_file), "-o", str(tmp_path), "--no-plot"]) == 0
    assert not (tmp_path / "ni2_xas.png").exists()
    s = read_spectrum(tmp_path / "ni2_xas.csv")
    ref = rixsim.xas(rixsim.atomic_model("Ni2+", tendq=1.1), 850.0 + 0.1 * np.arange(251),
                     temperature_k=300.0, gauss_fwhm=0.3)
    np.testing.assert_array_equal(s.energy, ref.energy)
    np.testing.assert_allclose(s.intensity, ref.intensity, rtol=1e-13, atol=0)
    # the CSV carries its full parameter set
    assert s.meta["parameters"]["xas"]["gauss_fwhm"] == 0.3


BAD = {
    "unknown key": ("[model]\nion = 'Ni2+'\ntendqq = 1.0\n", "model.tendqq"),
    "wrong type": ("[model]\nion = 'Ni2+'\ntendq = 'big'\n", "model.tendq"),
    "missing ion": ("[model]\ntendq = 1.0\n", "model.ion"),
    "no model table": ("[xas]\ngauss_fwhm = 0.2\n", "model.ion"),
    "unknown table": ("[model]\nion = 'Ni2+'\n[rixss]\npowder = true\n", "rixss"),
    "bool as number": ("[model]\nion = 'Ni2+'\ntendq = true\n", "model.tendq"),
    "string for bool": ("[model]\nion = 'Ni2+'\n[rixs]\npowder = 'yes'\n", "rixs.powder"),
    "bad choice": ("[model]\nion = 'Ni2+'\nsymmetry = 'Oct'\n", "model.symmetry"),
    "unknown ion": ("[model]\nion = 'Xx2+'\n", "model.ion"),
    "ct missing delta": ("[model]\nion = 'Ni2+'\n[model.charge_transfer]\nudd = 7.0\nupd = 8.0\nveg = 2.0\n",
                         "model.charge_transfer.delta"),
    "not toml": ("[model\nion = 'Ni2+'\n", "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("command", ["xas", "rixs"])
def test_bad_toml_one_line_error_naming_the_key_nothing_written(tmp_path, capsys, case, command):
    text, key = BAD[case]
    model_file = _write(tmp_path, text, "bad.toml")
    out = tmp_path / "out"
    code = main([command, str(model_file), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert key in lines[0]
    assert lines[0].startswith("rixsim: error:")
    assert not out.exists()


def test_bad_toml_through_the_installed_script(tmp_path):
    model_file = _write(tmp_path, BAD["unknown key"][0], "bad.toml")
    proc = subprocess.run([sys.executable, "-m", "rixsim.interfaces.cli", "xas", str(model_file), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "model.tendqq" in proc.stderr
    assert proc.stdout == ""


def test_refuses_to_overwrite_unless_asked(tmp_path, capsys):
    model_file = _write(tmp_path, NI_TOML)
    assert main(["xas", str(model_file), "-o", str(tmp_path)]) == 0
    csv = tmp_path / "ni2_xas.csv"
    before = csv.read_bytes()
    _write(tmp_path, NI_TOML.replace("gauss_fwhm = 0.3", "gauss_fwhm = 0.5"))
    capsys.readouterr()
    assert main(["xas", str(model_file), "-o", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "exists" in err and "--overwrite" in err
    assert csv.read_bytes() == before
    assert main(["xas", str(model_file), "-o", str(tmp_path), "--overwrite"]) == 0
    assert read_spectrum(csv).meta["parameters"]["xas"]["gauss_fwhm"] == 0.5
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]      # no temporary files left


def test_help_documents_every_key_and_default(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["channels", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for section, keys in SCHEMA.items():
        for k in keys:
            assert k.name in text, (section, k.name)
    assert "default 0.8" in text          # slater_scale
    assert "default 300.0" in text        # temperature_k


def test_shipped_examples_load_and_document_their_keys():
    files = sorted(EXAMPLES.glob("*.toml"))
    assert len(files) >= 3
    text = "\n".join(f.read_text() for f in files)
    for f in files:
        cfg = load_config(f)
        assert cfg.build_model().name == cfg.model["ion"]
    for section, keys in SCHEMA.items():
        for k in keys:
            assert k.name in text, f"{section}.{k.name} is not shown in any example model file"


def test_import_does_not_pull_matplotlib():
    code = "import sys, rixsim, rixsim.interfaces.cli, rixsim.interfaces.plotting, rixsim.interfaces.sweep; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.slow      # ~15 s idle, longer on a loaded 2-core machine: three Mn diagonalisations, two maps
def test_demo_writes_csv_hdf5_png_and_refuses_a_second_run(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert str(out.resolve()) in stdout
    files = demo_files(out)
    for p in files.values():
        assert p.is_file() and p.stat().st_size > 0, p
    assert files["rixs_png"].read_bytes()[:8] == PNG_MAGIC
    assert files["detected_png"].read_bytes()[:8] == PNG_MAGIC
    xas = {ion: read_spectrum(files[f"xas_{ion}"]) for ion in ("Mn2+", "Mn3+", "Mn4+")}
    # isotropic XAS sum rule: the area is (10 - n)/3 for d^n, less the Lorentzian tails beyond the grid
    for ion, n in (("Mn2+", 5), ("Mn3+", 4), ("Mn4+", 3)):
        assert xas[ion].integral() == pytest.approx((10 - n) / 3, rel=0.05)
        assert xas[ion].meta["parameters"]["model"]["temperature_k"] == 300.0
        # solid-state L2 width (Keski-Rahkonen & Krause 1974): L3 above L2 for every valence
        assert xas[ion].meta["parameters"]["model"]["l2_fwhm"] == pytest.approx(0.72)
        e, y = xas[ion].energy, xas[ion].intensity
        split = e[np.argmax(y)] + 5.0
        assert y[e < split].max() > y[e >= split].max(), ion
    rmap = read_map_hdf5(files["rixs_h5"])
    params = read_parameters_hdf5(files["rixs_h5"])
    assert params["rixs"]["powder"] is True and params["model"]["ion"] == "Mn2+"
    assert rmap.intensity.shape == (rmap.excitation.size, rmap.emission.size)
    assert rmap.intensity.max() > 0
    # the map's strongest emission is at the Mn L3 resonance (638-642 eV incident)
    i = np.unravel_index(np.argmax(rmap.intensity), rmap.intensity.shape)[0]
    assert 638.0 < rmap.excitation[i] < 642.0
    # the detected electrode map: O Kα dips at the Mn L3 maximum, and the sPFY window holds intensity
    from rixsim.detection.channels import window_yield
    det = read_map_hdf5(files["detected_h5"])
    dpar = read_parameters_hdf5(files["detected_h5"])
    o = window_yield(det, (520.0, 530.0)).intensity
    tfy = det.intensity.sum(axis=1)
    i3 = int(np.argmax(np.where(det.excitation < 645.0, tfy, 0.0)))
    assert o[i3] < 0.7 * o[0]
    c = dpar["spfy_center"]
    spfy = window_yield(det, (c - 0.5, c + 0.5)).intensity
    mn = window_yield(det, (629.7, 650.9)).intensity
    assert spfy.max() > 0.05 * mn.max()
    stamp = files["rixs_h5"].stat().st_mtime_ns
    assert main(["demo", "--out", str(out)]) == 3
    assert files["rixs_h5"].stat().st_mtime_ns == stamp


def test_fit_library_recovers_a_known_mixture(tmp_path, capsys):
    from rixsim.io import write_spectrum_csv
    from rixsim.analysis.reference_library import load_reference
    from rixsim.results import Spectrum
    a, b = load_reference("Mn2+"), load_reference("Mn4+")
    mix = Spectrum(a.energy, 1000.0 * (0.3 * a.intensity + 0.7 * b.intensity), label="mixture")
    data = write_spectrum_csv(tmp_path / "mix.csv", mix)
    code = main(["fit", str(data), "--library", "Mn", "--ions", "Mn2+,Mn3+,Mn4+", "--shift", "none",
                 "--sigma", "none", "-o", str(tmp_path / "fit")])
    out = capsys.readouterr().out
    assert code == 0
    fit = read_spectrum(tmp_path / "fit" / "mix_fit.csv")
    np.testing.assert_allclose(fit.intensity, mix.intensity, rtol=1e-6, atol=1e-6 * mix.intensity.max())
    summary = (tmp_path / "fit" / "mix_fit.txt").read_text()
    vals = {line.split(":")[0].strip(): float(line.split(":")[1].split("±")[0]) for line in summary.splitlines()
            if line.split(":")[0].strip() in ("Mn2+", "Mn3+", "Mn4+", "valence")}
    assert vals["Mn2+"] == pytest.approx(0.3, abs=1e-4)
    assert vals["Mn3+"] == pytest.approx(0.0, abs=1e-4)
    assert vals["Mn4+"] == pytest.approx(0.7, abs=1e-4)
    assert vals["valence"] == pytest.approx(0.3 * 2 + 0.7 * 4, abs=1e-3)
    assert "Mn4+" in out
    assert (tmp_path / "fit" / "mix_fit.png").read_bytes()[:8] == PNG_MAGIC


def test_channels_command_writes_every_channel(tmp_path):
    text = NI_TOML + "\n[sample]\nformula = 'NiO'\ndensity_g_cm3 = 6.67\n"
    model_file = _write(tmp_path, text)
    assert main(["channels", str(model_file), "-o", str(tmp_path), "--no-plot"]) == 0
    spectra = {n: read_spectrum(tmp_path / f"ni2_{n}.csv")
               for n in ("TEY", "TFY", "PFY", "iPFY", "sPFY", "ccPFY")}
    for n, s in spectra.items():
        np.testing.assert_array_equal(s.energy, 850.0 + 0.1 * np.arange(251))
        assert np.all(np.isfinite(s.intensity)) and np.all(s.intensity > 0), n
    # TEY and PFY both peak at the Ni L3 white line (852-856 eV)
    for n in ("TEY", "PFY"):
        assert 852.0 < spectra[n].energy[np.argmax(spectra[n].intensity)] < 856.0
    assert read_map_hdf5(tmp_path / "ni2_detected.h5").intensity.shape[0] == 251


def test_channels_without_sample_table(tmp_path, capsys):
    model_file = _write(tmp_path, NI_TOML)
    assert main(["channels", str(model_file), "-o", str(tmp_path / "o")]) == 2
    assert "sample" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_validate_runs_scripts_and_writes_a_report(tmp_path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "good.py").write_text("import sys, pathlib\n"
                                     "pathlib.Path(sys.argv[1], 'report.md').write_text('ok')\nprint('fine')\n")
    (scripts / "bad.py").write_text("raise SystemExit(5)\n")
    out = tmp_path / "report"
    assert main(["validate", "--scripts", str(scripts), "--out", str(out)]) == 1
    index = (out / "index.md").read_text()
    assert "`good.py` | ok" in index and "`bad.py` | FAILED (5)" in index
    assert (out / "good" / "report.md").read_text() == "ok"
    assert (out / "good" / "stdout.txt").read_text().strip() == "fine"
    assert main(["validate", "--scripts", str(scripts), "--out", str(out), "--only", "good"]) == 3
    assert main(["validate", "--scripts", str(scripts), "--out", str(out), "--only", "good", "--overwrite"]) == 0


def test_fit_model_parameters_recovers_tendq(tmp_path, capsys):
    # synthetic data from known parameters (10Dq = 1.3 eV, scale 50); the fit starts from 1.0 eV
    from rixsim.io import write_spectrum_csv
    from rixsim.results import Spectrum
    e = np.linspace(848.0, 878.0, 301)
    truth = rixsim.xas(rixsim.atomic_model("Ni2+", tendq=1.3), e, temperature_k=300.0, gauss_fwhm=0.2)
    data = write_spectrum_csv(tmp_path / "ni.csv", Spectrum(e, 50.0 * truth.intensity))
    model_file = _write(tmp_path, "[model]\nion = 'Ni2+'\ntendq = 1.0\n[xas]\ngauss_fwhm = 0.2\n")
    code = main(["fit", str(data), "--model", str(model_file), "--vary", "tendq,scale", "--sigma", "none",
                 "-o", str(tmp_path), "--pdf"])
    assert code == 0, capsys.readouterr().err
    fit = read_spectrum(tmp_path / "ni_fit.csv")
    assert fit.meta["values"]["tendq"] == pytest.approx(1.3, abs=1e-4)
    assert fit.meta["values"]["scale"] == pytest.approx(50.0, rel=1e-4)
    assert (tmp_path / "ni_fit.pdf").read_bytes()[:4] == b"%PDF"

"""The shipped reference XAS library: complete, self-describing, obeying the sum rule, regenerable, and shaped
like a measured spectrum (solid-state L2 width, chemical shift onto a measured L3 maximum, edge step, L3 > L2)."""
from __future__ import annotations

import numpy as np
import pytest

import rixsim
from rixsim.interfaces.cli import main
from rixsim.errors import FileExistsRefusal, UnknownIonError
from rixsim.io import read_spectrum
from rixsim.analysis.reference_library import (COMMON, IONS, edge_step, energy_grid, file_name, l3_l2_maxima,
                                               library_directory, load_reference, multiplet_part,
                                               reference_spectrum, step_height, write_library)
from rixsim.cluster.tables import (core_hole_fwhm, edge_energy, measured_l3_difference, measured_l3_maximum,
                                   parse_ion, solid_state_l2_fwhm)

# the ions the library must hold (the task's list)
REQUIRED = ("Mn1+", "Mn2+", "Mn3+", "Mn4+", "Fe2+", "Fe3+", "Fe4+", "Co2+", "Co3+", "Co4+", "Ni2+", "Ni3+", "Ni4+")
# cheap to regenerate (at most 120 initial × 270 core-excited states)
FAST = ("Ni2+", "Ni3+", "Co2+")


def test_every_required_ion_is_shipped_with_its_parameters():
    assert set(REQUIRED) == set(IONS)
    for ion in REQUIRED:
        s = load_reference(ion)
        m = s.meta
        assert m["ion"] == ion and m["tendq"] == IONS[ion].tendq
        assert m["slater_scale"] == 0.8 and m["temperature_k"] == 300.0 and m["symmetry"] == "Oh"
        assert m["polarization"] == "isotropic" and m["gauss_fwhm"] == COMMON["gauss_fwhm"]
        # fails on purpose after a version bump until `rixsim references --in-place` refreshes the files
        assert m["rixsim_version"] == rixsim.__version__
        assert m["tendq_source"]
        # one grid per element, whatever the valence's shift
        assert s.energy.size == 801
        np.testing.assert_allclose(s.energy, energy_grid(ion), rtol=0, atol=1e-9)
        assert s.energy[0] == pytest.approx(m["element_edge_offset"] - 15.0)
        assert s.energy[-1] == pytest.approx(m["element_edge_offset"] + 25.0)
        assert m["edge_offset"] == pytest.approx(m["element_edge_offset"] + m["shift"])
        # every model parameter is in the header
        for key in ("l3_fwhm", "l2_fwhm", "l3_fwhm_source", "l2_fwhm_source", "shift", "measured_l3_source", "step",
                    "soc_scale", "gauss_fwhm"):
            assert key in m, key
        assert m["l3_fwhm"] == core_hole_fwhm(ion, "L3") and m["l2_fwhm"] == solid_state_l2_fwhm(ion)
    readme = (library_directory() / "README.md").read_text()
    for ion in REQUIRED:
        assert f"| {ion} |" in readme


@pytest.mark.parametrize("ion", REQUIRED)
def test_isotropic_sum_rule(ion):
    # Σ_a Σ |<m|T_a|g>|² / 3 = (10 − n)/3 for dⁿ (transitions.py normalisation); on the finite grid the
    # Lorentzian tails beyond it are missing: with FWHM ≤ 0.52 eV and lines ≥ 5 eV inside the grid ends the
    # loss is below 4 % (tail fraction of a Lorentzian beyond distance d is ≈ FWHM / (2π d) per side).  The edge
    # step is taken off first (recomputed from the header's step parameters).
    s = multiplet_part(load_reference(ion))
    n = parse_ion(ion).n_electrons
    area = s.integral()
    assert area < (10 - n) / 3
    assert area == pytest.approx((10 - n) / 3, rel=0.04)
    assert np.all(s.intensity > 0)


@pytest.mark.parametrize("ion", FAST)
def test_regenerated_spectra_equal_the_shipped_files(ion):
    shipped = load_reference(ion)
    fresh = reference_spectrum(ion)
    np.testing.assert_array_equal(fresh.energy, shipped.energy)
    np.testing.assert_allclose(fresh.intensity, shipped.intensity, rtol=1e-8, atol=1e-12 * shipped.intensity.max())


def test_cli_regenerates_into_a_directory_and_refuses_to_overwrite(tmp_path, capsys):
    assert main(["references", "--out", str(tmp_path), "--ions", "Ni2+"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / file_name("Ni2+"))
    got = read_spectrum(tmp_path / file_name("Ni2+"))
    shipped = load_reference("Ni2+")
    np.testing.assert_allclose(got.intensity, shipped.intensity, rtol=1e-8, atol=1e-12 * shipped.intensity.max())
    assert dict(got.meta) == dict(shipped.meta)
    assert main(["references", "--out", str(tmp_path), "--ions", "Ni2+"]) == 3
    with pytest.raises(FileExistsRefusal):
        write_library(tmp_path, ["Ni2+"])
    with pytest.raises(UnknownIonError):
        write_library(tmp_path, ["Cu2+"])


def test_default_output_is_a_fresh_temporary_directory(capsys):
    import shutil
    from pathlib import Path
    assert main(["references", "--ions", "Ni2+"]) == 0
    out = Path(capsys.readouterr().out.strip())
    try:
        assert out.is_file() and out.parent != library_directory()
    finally:
        shutil.rmtree(out.parent)


def _split(ion, m):
    delta = edge_energy(ion, "L2") - edge_energy(ion, "L3")
    return m["edge_offset"] + delta / 6.0 + 2.0


@pytest.mark.parametrize("ion", REQUIRED)
def test_l3_maximum_is_taller_than_l2_and_lies_on_the_measured_value(ion):
    s = load_reference(ion)
    m = s.meta
    e3, y3, e2, y2 = l3_l2_maxima(s.energy, s.intensity, _split(ion, m))
    assert y3 > y2, f"{ion}: L2 peak {y2:.3f} above the L3 maximum {y3:.3f}"
    # the L2 white line of the solid sits in the L3-L2 gap's tabulated place (spin-orbit splitting ± 3 eV)
    assert e2 - e3 == pytest.approx(edge_energy(ion, "L2") - edge_energy(ion, "L3"), abs=3.0)
    peak = measured_l3_maximum(ion)
    diff = measured_l3_difference(ion)
    if peak is None and diff is None:
        assert m["shift"] == 0.0 and m["measured_l3_maximum"] is None and m["shift_target_l3"] is None
    elif peak is None:
        # only a measured difference to another valence: it is reproduced between the shipped spectra
        other = load_reference(diff.relative_to)
        e3_other = l3_l2_maxima(other.energy, other.intensity, _split(diff.relative_to, other.meta))[0]
        assert m["measured_l3_difference"]["difference"] == diff.difference
        assert e3 - e3_other == pytest.approx(diff.difference, abs=0.03)
    else:
        # the step moves the maximum by far less than the grid step; the parabola refines between points
        assert m["measured_l3_maximum"] == peak.energy and m["measured_l3_source"] == peak.source
        assert e3 == pytest.approx(peak.energy, abs=0.03)


def test_valences_with_measured_maxima_are_ordered_and_shifted_apart():
    # van Aken et al., Phys. Chem. Minerals 25, 323 (1998): Fe2+ L3 white line 707.8 eV, Fe3+ maximum 709.5 eV
    assert measured_l3_maximum("Fe2+").energy == 707.8 and measured_l3_maximum("Fe3+").energy == 709.5
    # Yang et al., PNAS 116, 24425 (2019): Co2+ L3 peak about 2 eV below Co3+
    assert measured_l3_difference("Co3+").difference == 2.0 and measured_l3_difference("Co3+").relative_to == "Co2+"
    for lo, hi in (("Fe2+", "Fe3+"), ("Co2+", "Co3+")):
        a, b = load_reference(lo), load_reference(hi)
        assert b.meta["shift"] - a.meta["shift"] > 0.5
        assert b.meta["step"]["l3_position"] > a.meta["step"]["l3_position"] + 1.0
        np.testing.assert_array_equal(a.energy, b.energy)


@pytest.mark.parametrize("ion", ("Mn4+", "Fe3+", "Ni2+"))
def test_edge_step_is_two_to_one_at_the_white_lines(ion):
    s = load_reference(ion)
    st = s.meta["step"]
    assert st["height"] == pytest.approx(step_height()) and st["ratio_l3_l2"] == 2.0
    assert st["l3_width"] == s.meta["l3_fwhm"] and st["l2_width"] == s.meta["l2_fwhm"]
    step = edge_step(s.energy, st["l3_position"], st["l2_position"], st["height"], st["l3_width"], st["l2_width"])
    # halfway up each step at its centre, total height far away (arctan tails: 1/π · w/(2Δ) left over)
    e3, e2 = st["l3_position"], st["l2_position"]
    mid = 0.5 * (e3 + e2)
    assert edge_step([e3], e3, e2, 1.0, st["l3_width"], st["l2_width"])[0] == pytest.approx(1 / 3, abs=0.02)
    assert edge_step([mid], e3, e2, 1.0, st["l3_width"], st["l2_width"])[0] == pytest.approx(2 / 3, abs=0.03)
    assert edge_step([1e6], e3, e2, 1.0, st["l3_width"], st["l2_width"])[0] == pytest.approx(1.0, abs=1e-5)
    # the multiplet part vanishes far below the edge: the spectrum there is the (tiny) step and Lorentzian tails
    assert np.all(multiplet_part(s).intensity[s.energy < e3 - 10] < 0.05 * s.intensity.max())
    assert np.all(np.diff(step) >= 0)


def test_solid_state_l2_widths_include_coster_kronig_broadening():
    import json
    from importlib.resources import files
    table = json.loads(files("rixsim.references").joinpath("solid_state.json").read_text())
    assert set(table["l2_fwhm"]) == {"Mn", "Fe", "Co", "Ni"}
    for el, e in table["l2_fwhm"].items():
        assert e["fwhm_source"] in table["sources"] and e["f23_source"] in table["sources"]
        # Keski-Rahkonen & Krause (1974) Mn 0.7164 ... Ni 1.40 eV, rounded
        assert e["fwhm"] == round(e["keski_rahkonen_krause_value"], 2) == solid_state_l2_fwhm(el)
        assert e["ck_estimate"] == round(e["l3_fwhm"] / (1 - e["f23"]), 2)
        assert e["fwhm"] >= e["ck_estimate"] >= e["atomic_lower_bound"] == core_hole_fwhm(el, "L2")
    for ion, e in table["l3_maximum"].items():
        assert e["source"] in table["sources"] and measured_l3_maximum(ion).energy == e["energy"]
    assert measured_l3_maximum("Mn2+") is None
    for ion, e in table["l3_difference"].items():
        assert e["source"] in table["sources"] and measured_l3_difference(ion).difference == e["difference"]
        assert measured_l3_maximum(ion) is None      # an absolute value would take precedence

"""Never a silent wrong answer (issue 14): what a careless or hurried user would pass, and what rixsim does.

Every case asserts the exact exception type and that the message names the bad value or the key; cases that
are legal but almost surely a mistake (keV for eV, an axis far from every resonance) must warn with a
:class:`~rixsim.errors.RixsimWarning`; the command line must give its documented exit code and one line on
stderr, never a traceback.  The module runs under an address-space limit (``_memory_limit``) so a blow-up
fails a test instead of the machine.
"""
from __future__ import annotations

import functools
import math
import re
import resource
import textwrap
import warnings

import numpy as np
import pytest

import rixsim
from rixsim.analysis.lcf import fit_linear_combination
from rixsim.detection.channels import predict_channels
from rixsim.detection.sample import Geometry, Layer, Sample
from rixsim.errors import InputError, MemoryBudgetError, RixsimWarning, SuspiciousInputWarning, UnknownIonError
from rixsim.interfaces import cli
from rixsim.interfaces.config import ConfigError, config_from_dict, load_config
from rixsim.io import read_any, read_map_npz, read_map_text, read_spectrum
from rixsim.results import Spectrum
from rixsim.spectroscopy.geometry import ScatteringGeometry
from rixsim.spectroscopy.rixs import constant_emission_cut, constant_loss_cut, rixs_map, rixs_spectrum

NAN, INF = float("nan"), float("inf")
LIMIT_BYTES = 6 * 10**9      # address space this module may grow by (numba, BLAS and xraydb included)


@pytest.fixture(autouse=True, scope="module")
def _memory_limit():
    """An RLIMIT_AS soft limit a few GB above the current size: an unplanned n×n allocation raises
    MemoryError inside the test instead of swapping the shared machine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        size = int(fh.read().split()[0]) * resource.getpagesize()
    new = size + LIMIT_BYTES
    if hard != resource.RLIM_INFINITY:
        new = min(new, hard)
    resource.setrlimit(resource.RLIMIT_AS, (new, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# ------------------------------------------------------------------------------------------- fixtures
@functools.lru_cache(maxsize=None)
def model():
    return rixsim.atomic_model("Ni2+", tendq=1.0)


@functools.lru_cache(maxsize=None)
def tr():
    return model().transitions(10.0)


E = np.arange(845.0, 880.0, 0.1)
EXC = np.arange(851.0, 857.0, 1.0)
LOSS = np.arange(-1.0, 5.0, 0.1)


@functools.lru_cache(maxsize=None)
def rmap():
    return rixs_map(tr(), EXC, loss=LOSS)


@functools.lru_cache(maxsize=None)
def sample():
    return Sample(Layer("MnO", 5.0))


def spec(shift=0.0, lo=630.0, hi=660.0):
    e = np.arange(lo, hi, 0.1)
    return Spectrum(e, 1e3 * np.exp(-((e - 640.0 - shift) / 2.0) ** 2) + 10.0, label="s")


def refs():
    return {"a": spec(0.0), "b": spec(6.0)}


def _check(call, exc_type, names):
    with pytest.raises(Exception) as info:
        call()
    assert type(info.value) is exc_type, f"{type(info.value).__name__}: {info.value}"
    text = str(info.value)
    for n in names:
        assert n in text, f"{n!r} not in message {text!r}"


# ------------------------------------------------------------------------------------------- Python API
M = rixsim.atomic_model
C = functools.partial(rixsim.cluster_model, "Ni2+", delta=4.0, udd=7.0, upd=8.0, veg=2.0, n_ligand_holes=1)

API = {
    # atomic_model: types, finiteness, physical ranges
    "slater_scale negative": (lambda: M("Ni2+", slater_scale=-1), InputError, ["slater_scale", "[0, 2]", "-1"]),
    "slater_scale string": (lambda: M("Ni2+", slater_scale="0.8"), InputError, ["slater_scale", "'0.8'"]),
    "slater_scale nan": (lambda: M("Ni2+", slater_scale=NAN), InputError, ["slater_scale", "nan"]),
    "slater_scale 3": (lambda: M("Ni2+", slater_scale=3.0), InputError, ["slater_scale", "[0, 2]"]),
    "soc_scale negative": (lambda: M("Ni2+", soc_scale=-0.5), InputError, ["soc_scale", "-0.5"]),
    "soc_scale None": (lambda: M("Ni2+", soc_scale=None), InputError, ["soc_scale", "None"]),
    "tendq 1e6": (lambda: M("Ni2+", tendq=1e6), InputError, ["tendq", "[-20, 20] eV", "1000000.0"]),
    "tendq string": (lambda: M("Ni2+", tendq="1.0"), InputError, ["tendq", "'1.0'"]),
    "tendq None": (lambda: M("Ni2+", tendq=None), InputError, ["tendq", "None"]),
    "tendq array": (lambda: M("Ni2+", tendq=np.array([1.0, 2.0])), InputError, ["tendq", "single"]),
    "tendq inf": (lambda: M("Ni2+", tendq=INF), InputError, ["tendq", "inf"]),
    "tendq bool": (lambda: M("Ni2+", tendq=True), InputError, ["tendq", "True"]),
    "ds 50 eV": (lambda: M("Ni2+", symmetry="D4h", ds=50.0), InputError, ["ds", "50.0"]),
    "dt nan": (lambda: M("Ni2+", symmetry="D4h", dt=NAN), InputError, ["dt", "nan"]),
    "dsigma 1e3": (lambda: M("Ni2+", symmetry="D3d", dsigma=1e3), InputError, ["dsigma", "1000.0"]),
    "shift inf": (lambda: M("Ni2+", shift=INF), InputError, ["shift", "inf"]),
    "shift string": (lambda: M("Ni2+", shift="x"), InputError, ["shift", "'x'"]),
    "shift 1e4": (lambda: M("Ni2+", shift=1e4), InputError, ["shift", "[-200, 200] eV"]),
    "l3_fwhm negative": (lambda: M("Ni2+", l3_fwhm=-0.1), InputError, ["l3_fwhm", "-0.1"]),
    "l2_fwhm string": (lambda: M("Ni2+", l2_fwhm="0.5"), InputError, ["l2_fwhm", "'0.5'"]),
    "l3_fwhm 100": (lambda: M("Ni2+", l3_fwhm=100.0), InputError, ["l3_fwhm", "100.0"]),
    "ion integer": (lambda: M(28), InputError, ["28"]),
    "ion unknown element": (lambda: M("Xx2+"), UnknownIonError, ["Xx"]),
    "ion impossible charge": (lambda: M("Mn9+"), UnknownIonError, ["Mn9+"]),
    "ion without charge": (lambda: M("Mn"), InputError, ["'Mn'"]),
    "ion empty": (lambda: M(""), InputError, ["''"]),
    "symmetry unknown": (lambda: M("Ni2+", symmetry="Ih"), InputError, ["Ih", "Oh"]),
    "Oh with ds": (lambda: M("Ni2+", ds=0.1), InputError, ["Oh", "D4h"]),
    "exchange_field nan": (lambda: M("Ni2+", exchange_field=(0, 0, NAN)), InputError, ["exchange_field", "nan"]),
    "exchange_field 2 numbers": (lambda: M("Ni2+", exchange_field=(0, 0)), InputError, ["exchange_field", "(3,)"]),
    "exchange_field 100 eV": (lambda: M("Ni2+", exchange_field=(0, 0, 100)), InputError, ["exchange_field", "100"]),
    "cf_matrix nan": (lambda: M("Ni2+", cf_matrix=np.full((5, 5), NAN)), InputError, ["cf_matrix", "nan"]),
    "cf_matrix string": (lambda: M("Ni2+", cf_matrix="abc"), InputError, ["cf_matrix", "'abc'"]),
    "cf_matrix 3x3": (lambda: M("Ni2+", cf_matrix=np.eye(3)), InputError, ["cf_matrix", "(3, 3)"]),
    "cf_matrix not Hermitian": (lambda: M("Ni2+", cf_matrix=np.triu(np.ones((5, 5)))), InputError, ["Hermitian"]),
    "override nan": (lambda: M("Ni2+", overrides={"f2dd": NAN}), InputError, ["f2dd", "nan"]),
    "override string": (lambda: M("Ni2+", overrides={"f2dd": "x"}), InputError, ["f2dd", "'x'"]),
    "override unknown name": (lambda: M("Ni2+", overrides={"f9": 1.0}), InputError, ["f9"]),
    "overrides a list": (lambda: M("Ni2+", overrides=[1, 2]), InputError, ["overrides", "[1, 2]"]),
    # cluster_model
    "udd negative": (lambda: C(udd=-7.0), InputError, ["udd", "[0, 30] eV", "-7.0"]),
    "upd negative": (lambda: C(upd=-8.0), InputError, ["upd", "-8.0"]),
    "delta string": (lambda: C(delta="4"), InputError, ["delta", "'4'"]),
    "delta 1e5": (lambda: C(delta=1e5), InputError, ["delta", "[-50, 50] eV"]),
    "veg nan": (lambda: C(veg=NAN), InputError, ["veg", "nan"]),
    "vt2g inf": (lambda: C(vt2g=INF), InputError, ["vt2g", "inf"]),
    "n_ligand_holes 4": (lambda: C(n_ligand_holes=4), InputError, ["n_ligand_holes", "4"]),
    "n_ligand_holes 2.5": (lambda: C(n_ligand_holes=2.5), InputError, ["n_ligand_holes", "2.5"]),
    "n_ligand_holes string": (lambda: C(n_ligand_holes="2"), InputError, ["n_ligand_holes", "'2'"]),
    "tenq_ligand 1e3": (lambda: C(tenq_ligand=1e3), InputError, ["tenq_ligand", "1000.0"]),
    # transitions
    "transitions T negative": (lambda: model().transitions(temperature_k=-5), InputError, ["temperature_k", "-5"]),
    "transitions T string": (lambda: model().transitions(temperature_k="300"), InputError, ["temperature_k", "'300'"]),
    # xas
    "xas energies nan": (lambda: rixsim.xas(tr(), [850, NAN]), InputError, ["energies", "nan", "index 1"]),
    "xas energies string": (lambda: rixsim.xas(tr(), "850"), InputError, ["energies", "'850'"]),
    "xas energies 2-D": (lambda: rixsim.xas(tr(), np.ones((2, 2))), InputError, ["energies", "(2, 2)"]),
    "xas energies decreasing": (lambda: rixsim.xas(tr(), E[::-1]), InputError, ["energies", "increasing"]),
    "xas energies empty": (lambda: rixsim.xas(tr(), []), InputError, ["energies", "got 0"]),
    "xas energies repeated": (lambda: rixsim.xas(tr(), [850.0, 850.0]), InputError, ["energies[0]=850.0"]),
    "xas energies inf": (lambda: rixsim.xas(tr(), [850.0, INF]), InputError, ["energies", "inf"]),
    "xas energies of text": (lambda: rixsim.xas(tr(), ["a", "b"]), InputError, ["energies", "'a'"]),
    "xas gauss negative": (lambda: rixsim.xas(tr(), E, gauss_fwhm=-1), InputError, ["gauss_fwhm", "-1"]),
    "xas gauss string": (lambda: rixsim.xas(tr(), E, gauss_fwhm="0.2"), InputError, ["gauss_fwhm", "'0.2'"]),
    "xas gauss nan": (lambda: rixsim.xas(tr(), E, gauss_fwhm=NAN), InputError, ["gauss_fwhm", "nan"]),
    "xas lorentz negative": (lambda: rixsim.xas(tr(), E, lorentz_fwhm=-1), InputError, ["lorentz_fwhm", "-1"]),
    "xas T negative": (lambda: rixsim.xas(model(), E, temperature_k=-5), InputError, ["temperature_k", "-5"]),
    "xas T string": (lambda: rixsim.xas(model(), E, temperature_k="300"), InputError, ["temperature_k", "'300'"]),
    "xas T nan": (lambda: rixsim.xas(model(), E, temperature_k=NAN), InputError, ["temperature_k", "nan"]),
    "xas polarization unknown": (lambda: rixsim.xas(tr(), E, polarization="q"), InputError, ["'q'"]),
    "xas polarization zero": (lambda: rixsim.xas(tr(), E, polarization=[0, 0, 0]), InputError, ["zero"]),
    "xas polarization 2 numbers": (lambda: rixsim.xas(tr(), E, polarization=[1, 0]), InputError, ["[1, 0]"]),
    "xas polarization nan": (lambda: rixsim.xas(tr(), E, polarization=[NAN, 0, 0]), InputError, ["nan"]),
    "xas source a string": (lambda: rixsim.xas("Ni2+", E), InputError, ["str"]),
    "xas method unknown": (lambda: rixsim.xas(tr(), E, method="fast"), InputError, ["method", "'fast'"]),
    "xas lanczos on transitions": (lambda: rixsim.xas(tr(), E, method="lanczos"), InputError, ["lanczos"]),
    "xas lanczos_steps 0": (lambda: rixsim.xas(model(), E, method="lanczos", lanczos_steps=0), InputError,
                            ["lanczos_steps", "0"]),
    "xas memory_gb negative": (lambda: rixsim.xas(tr(), E, memory_gb=-1), InputError, ["memory_gb", "-1"]),
    "xas memory_gb string": (lambda: rixsim.xas(tr(), E, memory_gb="1"), InputError, ["memory_gb", "'1'"]),
    # rixs_map
    "rixs no second axis": (lambda: rixs_map(tr(), EXC), InputError, ["loss", "emission"]),
    "rixs loss and emission": (lambda: rixs_map(tr(), EXC, loss=LOSS, emission=E), InputError, ["exactly one"]),
    "rixs excitation nan": (lambda: rixs_map(tr(), [851, NAN], loss=LOSS), InputError, ["excitation", "nan"]),
    "rixs excitation string": (lambda: rixs_map(tr(), "851", loss=LOSS), InputError, ["excitation", "'851'"]),
    "rixs loss decreasing": (lambda: rixs_map(tr(), EXC, loss=LOSS[::-1]), InputError, ["loss", "increasing"]),
    "rixs emission 2-D": (lambda: rixs_map(tr(), EXC, emission=np.ones((2, 2))), InputError, ["emission", "(2, 2)"]),
    "rixs final_fwhm negative": (lambda: rixs_map(tr(), EXC, loss=LOSS, final_fwhm=-1), InputError,
                                 ["final_fwhm", "-1"]),
    "rixs resolution string": (lambda: rixs_map(tr(), EXC, loss=LOSS, resolution_fwhm="0.2"), InputError,
                               ["resolution_fwhm", "'0.2'"]),
    "rixs both widths zero": (lambda: rixs_map(tr(), EXC, loss=LOSS, final_fwhm=0, resolution_fwhm=0), InputError,
                              ["final_fwhm", "resolution_fwhm"]),
    "rixs memory_gb 0": (lambda: rixs_map(tr(), EXC, loss=LOSS, memory_gb=0), InputError, ["memory_gb", "0"]),
    "rixs memory_gb string": (lambda: rixs_map(tr(), EXC, loss=LOSS, memory_gb="1"), InputError,
                              ["memory_gb", "'1'"]),
    "rixs memory_gb nan": (lambda: rixs_map(tr(), EXC, loss=LOSS, memory_gb=NAN), InputError, ["memory_gb", "nan"]),
    "rixs geometry string": (lambda: rixs_map(tr(), EXC, loss=LOSS, geometry="pi"), InputError, ["'pi'"]),
    "rixs geometry and polarization": (lambda: rixs_map(tr(), EXC, loss=LOSS, geometry=ScatteringGeometry(),
                                                        polarization_in="x"), InputError, ["not both"]),
    "rixs margin negative": (lambda: rixs_map(tr(), EXC, loss=LOSS, margin_fwhm=-1), InputError,
                             ["margin_fwhm", "-1"]),
    "rixs temperature with transitions": (lambda: rixs_map(tr(), EXC, loss=LOSS, temperature_k=3), InputError,
                                          ["temperature_k"]),
    "rixs method unknown": (lambda: rixs_map(tr(), EXC, loss=LOSS, method="fast"), InputError, ["'fast'"]),
    "rixs transitions a string": (lambda: rixs_map("x", EXC, loss=LOSS), InputError, ["str"]),
    "rixs elastic_tol negative": (lambda: rixs_map(tr(), EXC, loss=LOSS, elastic_tol=-1), InputError,
                                  ["elastic_tol", "-1"]),
    "rixs_spectrum energy string": (lambda: rixs_spectrum(tr(), "abc", loss=LOSS), InputError,
                                    ["excitation_energy", "'abc'"]),
    "rixs_spectrum energy nan": (lambda: rixs_spectrum(tr(), NAN, loss=LOSS), InputError,
                                 ["excitation_energy", "nan"]),
    "rixs_spectrum energy None": (lambda: rixs_spectrum(tr(), None, loss=LOSS), InputError,
                                  ["excitation_energy", "None"]),
    "rixs_spectrum energy array": (lambda: rixs_spectrum(tr(), [851.0, 852.0], loss=LOSS), InputError,
                                   ["excitation_energy", "[851.0, 852.0]"]),
    # cuts
    "emission cut outside the map": (lambda: constant_emission_cut(rmap(), 500.0), InputError, ["500"]),
    "emission cut nan": (lambda: constant_emission_cut(rmap(), NAN), InputError, ["emission_energy", "nan"]),
    "emission cut string": (lambda: constant_emission_cut(rmap(), "x"), InputError, ["emission_energy", "'x'"]),
    "cut window negative": (lambda: constant_loss_cut(rmap(), 1.0, window=-1), InputError, ["window", "-1"]),
    "loss cut outside the map": (lambda: constant_loss_cut(rmap(), 100.0), InputError, ["100"]),
    "loss cut nan": (lambda: constant_loss_cut(rmap(), NAN), InputError, ["loss_energy", "nan"]),
    "loss cut string": (lambda: constant_loss_cut(rmap(), "1"), InputError, ["loss_energy", "'1'"]),
    "cut of a string": (lambda: constant_loss_cut("x", 1.0), InputError, ["RixsMap", "str"]),
    # ScatteringGeometry
    "two_theta 0": (lambda: ScatteringGeometry(two_theta_deg=0), InputError, ["two_theta_deg", "(0, 180)"]),
    "two_theta 180": (lambda: ScatteringGeometry(two_theta_deg=180), InputError, ["two_theta_deg", "180"]),
    "two_theta string": (lambda: ScatteringGeometry(two_theta_deg="ninety"), InputError,
                         ["two_theta_deg", "'ninety'"]),
    "two_theta nan": (lambda: ScatteringGeometry(two_theta_deg=NAN), InputError, ["two_theta_deg", "nan"]),
    "incident unknown": (lambda: ScatteringGeometry(incident="p"), InputError, ["'p'"]),
    "outgoing unknown": (lambda: ScatteringGeometry(outgoing="q"), InputError, ["'q'"]),
    "incident along the beam": (lambda: ScatteringGeometry(incident=[0, 0, 1]), InputError, ["perpendicular"]),
    "rotation not a rotation": (lambda: ScatteringGeometry(sample_rotation=np.ones((3, 3))), InputError,
                                ["sample_rotation"]),
    "rotation nan": (lambda: ScatteringGeometry(sample_rotation=np.full((3, 3), NAN)), InputError,
                     ["sample_rotation", "finite"]),
    "rotation 2x2": (lambda: ScatteringGeometry(sample_rotation=np.eye(2)), InputError, ["sample_rotation"]),
    # Layer, Sample, Geometry
    "formula unknown element": (lambda: Layer("Qq2O", 5.0), UnknownIonError, ["Qq"]),
    "density negative": (lambda: Layer("MnO", -5.0), InputError, ["density_g_cm3", "-5.0"]),
    "density nan": (lambda: Layer("MnO", NAN), InputError, ["density_g_cm3", "nan"]),
    "density string": (lambda: Layer("MnO", "5"), InputError, ["density_g_cm3", "'5'"]),
    "density 5e6 (kg/m3?)": (lambda: Layer("MnO", 5.4e3), InputError, ["density_g_cm3", "(0, 30]", "5400.0"]),
    "thickness 0": (lambda: Layer("MnO", 5.0, 0), InputError, ["thickness_nm", "0"]),
    "thickness nan": (lambda: Layer("MnO", 5.0, NAN), InputError, ["thickness_nm", "nan"]),
    "thickness string": (lambda: Layer("MnO", 5.0, "10"), InputError, ["thickness_nm", "'10'"]),
    "formula a number": (lambda: Layer(5, 5.0), InputError, ["formula", "5"]),
    "formula empty": (lambda: Layer("", 5.0), InputError, ["formula", "''"]),
    "sample of a string": (lambda: Sample("MnO"), InputError, ["bulk", "str"]),
    "surface of a string": (lambda: Sample(Layer("MnO", 5.0), surface=("x",)), InputError, ["surface[0]", "str"]),
    "infinite surface": (lambda: Sample(Layer("MnO", 5.0), surface=(Layer("MnO", 5.0),)), InputError,
                         ["surface[0]", "infinite"]),
    "incidence 0": (lambda: Geometry(0, 45), InputError, ["incidence_deg", "(0, 90]"]),
    "incidence 100": (lambda: Geometry(100, 45), InputError, ["incidence_deg", "100"]),
    "incidence nan": (lambda: Geometry(NAN, 45), InputError, ["incidence_deg", "nan"]),
    "incidence string": (lambda: Geometry("45", 45), InputError, ["incidence_deg", "'45'"]),
    "exit negative": (lambda: Geometry(45, -1), InputError, ["exit_deg", "-1"]),
    "solid angle 0": (lambda: Geometry(45, 45, 0), InputError, ["solid_angle_fraction", "0"]),
    "solid angle 2": (lambda: Geometry(45, 45, 2), InputError, ["solid_angle_fraction", "2"]),
    # predict_channels
    "channels element unknown": (lambda: predict_channels(sample(), Geometry(), E, "Xx"), UnknownIonError, ["Xx"]),
    "channels element lower case": (lambda: predict_channels(sample(), Geometry(), E, "mn"), UnknownIonError,
                                    ["'mn'"]),
    "channels element absent": (lambda: predict_channels(sample(), Geometry(), E, "Ni"), InputError,
                                ["'Ni'", "Mn, O"]),
    "channels sample a string": (lambda: predict_channels("MnO", Geometry(), E, "Mn"), InputError, ["str"]),
    "channels geometry a tuple": (lambda: predict_channels(sample(), (45, 45), E, "Mn"), InputError, ["tuple"]),
    "channels excitation nan": (lambda: predict_channels(sample(), Geometry(), [640, NAN], "Mn"), InputError,
                                ["excitation", "nan"]),
    "channels excitation string": (lambda: predict_channels(sample(), Geometry(), "640", "Mn"), InputError,
                                   ["excitation", "'640'"]),
    "channels line_fwhm negative": (lambda: predict_channels(sample(), Geometry(), E, "Mn", line_fwhm=-1),
                                    InputError, ["line_fwhm", "-1"]),
    "channels escape depth 0": (lambda: predict_channels(sample(), Geometry(), E, "Mn", electron_escape_nm=0),
                                InputError, ["electron_escape_nm", "> 0 nm"]),
    "channels windows a tuple": (lambda: predict_channels(sample(), Geometry(), E, "Mn", windows=(1, 2)),
                                 InputError, ["windows", "tuple"]),
    # fit_linear_combination
    "lcf no references": (lambda: fit_linear_combination(spec(), {}), InputError, ["references"]),
    "lcf data a path": (lambda: fit_linear_combination("data.csv", refs()), InputError, ["data", "str"]),
    "lcf valences incomplete": (lambda: fit_linear_combination(spec(3.0), refs(), valences={"a": 2}), InputError,
                                ["valences", "'b'"]),
    "lcf window reversed": (lambda: fit_linear_combination(spec(), refs(), energy_range=(650, 640)), InputError,
                            ["energy_range", "(650, 640)"]),
    "lcf window outside": (lambda: fit_linear_combination(spec(), refs(), energy_range=(700, 710)), InputError,
                           ["(700, 710)"]),
    "lcf shift unknown": (lambda: fit_linear_combination(spec(), refs(), shift="each"), InputError,
                          ["shift", "'each'"]),
    "lcf max_shift negative": (lambda: fit_linear_combination(spec(), refs(), max_shift=-1), InputError,
                               ["max_shift", "-1"]),
    "lcf background -1": (lambda: fit_linear_combination(spec(), refs(), background_order=-1), InputError,
                          ["background_order", "-1"]),
    "lcf background 2.5": (lambda: fit_linear_combination(spec(), refs(), background_order=2.5), InputError,
                           ["background_order", "2.5"]),
    "lcf sigma negative": (lambda: fit_linear_combination(spec(), refs(), sigma=-1.0), InputError, ["sigma"]),
    "lcf sigma unknown": (lambda: fit_linear_combination(spec(), refs(), sigma="gauss"), InputError,
                          ["sigma", "'gauss'"]),
    "lcf interpolation unknown": (lambda: fit_linear_combination(spec(), refs(), interpolation="spline"),
                                  InputError, ["interpolation", "'spline'"]),
    "lcf reference too short": (lambda: fit_linear_combination(spec(), {"a": spec(hi=635.0), "b": spec(6.0)}),
                                InputError, ["'a'", "630.0"]),
    "lcf references of arrays": (lambda: fit_linear_combination(spec(), [np.ones(3), np.ones(3)]), InputError,
                                 ["ndarray"]),
    "lcf at_bound unknown": (lambda: fit_linear_combination(spec(), refs(), at_bound="x"), InputError,
                             ["at_bound", "'x'"]),
    "lcf data in keV": (lambda: fit_linear_combination(Spectrum(spec().energy / 1000, spec().intensity), refs()),
                        InputError, ["0.63"]),
}


@pytest.mark.parametrize("case", list(API), ids=list(API))
def test_api_refuses_naming_the_value(case):
    call, exc_type, names = API[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RixsimWarning)
        _check(call, exc_type, names)


# ------------------------------------------------------------------------------- legal but suspicious
def _far_emission():
    return rixs_map(tr(), EXC, emission=np.arange(500.0, 510.0, 0.5))


SUSPICIOUS = {
    "xas in keV": (lambda: rixsim.xas(tr(), E / 1000), ["0.845", "keV"]),
    "xas 350 eV below the edge": (lambda: rixsim.xas(tr(), np.arange(500.0, 520.0, 0.1)), ["500", "absorption"]),
    "rixs excitation in keV": (lambda: rixs_map(tr(), EXC / 1000, loss=LOSS), ["excitation", "keV"]),
    "rixs emission far from every emission": (_far_emission, ["emission", "500"]),
    "rixs loss far from every final state": (lambda: rixs_map(tr(), EXC, loss=np.arange(100.0, 110.0, 0.5)),
                                             ["loss", "100"]),
    "rixs loss given as emission energies": (lambda: rixs_map(tr(), EXC, loss=np.arange(840.0, 850.0, 0.5)),
                                             ["loss", "840"]),
    "two_theta in radians": (lambda: ScatteringGeometry(two_theta_deg=math.pi / 2), ["two_theta_deg", "radians"]),
    "thickness in metres": (lambda: Layer("MnO", 5.0, 1e-7), ["thickness_nm", "1e-07"]),
}


@pytest.mark.parametrize("case", list(SUSPICIOUS), ids=list(SUSPICIOUS))
def test_legal_but_suspicious_input_warns(case):
    call, names = SUSPICIOUS[case]
    with pytest.warns(SuspiciousInputWarning) as rec:
        call()
    text = " ".join(str(w.message) for w in rec if issubclass(w.category, RixsimWarning))
    for n in names:
        assert n in text, f"{n!r} not in {text!r}"


def test_an_emission_axis_far_from_every_emission_gives_zero_and_says_so():
    with pytest.warns(SuspiciousInputWarning):
        m = _far_emission()
    assert np.max(m.intensity) == 0.0       # it *is* zero: the warning is the only way the user learns why


def test_a_sensible_call_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RixsimWarning)
        rixsim.xas(tr(), E, gauss_fwhm=0.2)
        rixs_map(tr(), EXC, loss=LOSS)
        rixs_map(tr(), EXC, emission=np.arange(840.0, 858.0, 0.2))


# ------------------------------------------------------------------------------------------- model files
NI = {"ion": "Ni2+"}
CT = {"delta": 4.0, "udd": 7.0, "upd": 8.0, "veg": 2.0}
SAMPLE = {"formula": "NiO", "density_g_cm3": 6.0}

CONFIG = {
    "axis emission with loss_min": ({"model": NI, "rixs": {"axis": "emission", "loss_min": 0.0}}, "rixs.loss_min"),
    "axis loss with emission_min": ({"model": NI, "rixs": {"axis": "loss", "emission_min": 840.0}},
                                    "rixs.emission_min"),
    "axis loss with emission_step": ({"model": NI, "rixs": {"axis": "loss", "emission_step": 0.5}},
                                     "rixs.emission_step"),
    "isotropic with two_theta": ({"model": NI, "rixs": {"incident": "isotropic", "two_theta_deg": 45.0}},
                                 "rixs.two_theta_deg"),
    "isotropic with powder false": ({"model": NI, "rixs": {"incident": "isotropic", "powder": False}},
                                    "rixs.powder"),
    "isotropic with outgoing": ({"model": NI, "rixs": {"incident": "isotropic", "outgoing": "pi"}},
                                "rixs.outgoing"),
    "slater_scale negative": ({"model": {**NI, "slater_scale": -1.0}}, "model.slater_scale"),
    "tendq 1e6": ({"model": {**NI, "tendq": 1e6}}, "model.tendq"),
    "tendq a string": ({"model": {**NI, "tendq": "big"}}, "model.tendq"),
    "tendq nan": ({"model": {**NI, "tendq": NAN}}, "model.tendq"),
    "shift inf": ({"model": {**NI, "shift": INF}}, "model.shift"),
    "temperature negative": ({"model": {**NI, "temperature_k": -5.0}}, "model.temperature_k"),
    "udd negative": ({"model": {**NI, "charge_transfer": {**CT, "udd": -7.0}}}, "model.charge_transfer.udd"),
    "n_ligand_holes 4": ({"model": {**NI, "charge_transfer": {**CT, "n_ligand_holes": 4}}},
                         "model.charge_transfer.n_ligand_holes"),
    "charge transfer empty": ({"model": {**NI, "charge_transfer": {}}}, "model.charge_transfer.delta"),
    "xas step 0": ({"model": NI, "xas": {"energy_step": 0.0}}, "xas.energy_step"),
    "xas gauss negative": ({"model": NI, "xas": {"gauss_fwhm": -0.1}}, "xas.gauss_fwhm"),
    "xas polarisation zero vector": ({"model": NI, "xas": {"polarization": [0, 0, 0]}}, "xas.polarization"),
    "xas polarisation unknown": ({"model": NI, "xas": {"polarization": "q"}}, "xas.polarization"),
    "rixs final negative": ({"model": NI, "rixs": {"final_fwhm": -0.1}}, "rixs.final_fwhm"),
    "rixs memory_gb 0": ({"model": NI, "rixs": {"memory_gb": 0.0}}, "rixs.memory_gb"),
    "rixs memory_gb negative": ({"model": NI, "rixs": {"memory_gb": -1.0}}, "rixs.memory_gb"),
    "rixs two_theta 0": ({"model": NI, "rixs": {"two_theta_deg": 0.0}}, "rixs.two_theta_deg"),
    "rixs two_theta 200": ({"model": NI, "rixs": {"two_theta_deg": 200.0}}, "rixs.two_theta_deg"),
    "rixs axis unknown": ({"model": NI, "rixs": {"axis": "energy"}}, "rixs.axis"),
    "rixs powder a string": ({"model": NI, "rixs": {"powder": "yes"}}, "rixs.powder"),
    "sample density negative": ({"model": NI, "sample": {**SAMPLE, "density_g_cm3": -1.0}}, "sample.density_g_cm3"),
    "sample incidence 0": ({"model": NI, "sample": {**SAMPLE, "incidence_deg": 0.0}}, "sample.incidence_deg"),
    "sample solid angle 2": ({"model": NI, "sample": {**SAMPLE, "solid_angle_fraction": 2.0}},
                             "sample.solid_angle_fraction"),
    "sample formula missing": ({"model": NI, "sample": {"density_g_cm3": 6.0}}, "sample.formula"),
    "surface thickness missing": ({"model": NI, "sample": {**SAMPLE, "surface": [{"formula": "NiO",
                                                                                  "density_g_cm3": 6.0}]}},
                                  "sample.surface.thickness_nm"),
    "surface density negative": ({"model": NI, "sample": {**SAMPLE, "surface": [{"formula": "NiO", "thickness_nm": 2.0,
                                                                                 "density_g_cm3": -6.0}]}},
                                 "sample.surface[0].density_g_cm3"),
    "ion an integer": ({"model": {"ion": 28}}, "model.ion"),
    "ion unknown": ({"model": {"ion": "Xx2+"}}, "model.ion"),
    "no model table": ({"xas": {}}, "model.ion"),
    "model an array": ({"model": [1]}, "model"),
    "title an integer": ({"title": 3, "model": NI}, "title"),
    "unknown table": ({"model": NI, "fit": {}}, "fit"),
    "unknown key (typo)": ({"model": {**NI, "tendQ": 1.0}}, "model.tendQ"),
    "exchange field of 2": ({"model": {**NI, "exchange_field": [0.0, 0.0]}}, "model.exchange_field"),
    "symmetry unknown": ({"model": {**NI, "symmetry": "Ih"}}, "model.symmetry"),
}


@pytest.mark.parametrize("case", list(CONFIG), ids=list(CONFIG))
def test_model_file_refuses_naming_the_key(case):
    data, key = CONFIG[case]
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    assert info.value.key == key, str(info.value)
    assert str(info.value).startswith(key + ":")


def test_a_stored_parameter_set_round_trips_despite_keys_of_the_other_axis():
    cfg = config_from_dict({"model": NI, "rixs": {"axis": "loss"}})
    full = cfg.resolved(850.0).as_parameters()        # holds emission_min … as numbers
    assert config_from_dict(full).rixs["axis"] == "loss"


def test_a_file_listing_every_key_at_its_default_is_not_a_conflict():
    cfg = config_from_dict({"model": NI, "rixs": {"axis": "emission", "loss_min": -1.0, "loss_step": 0.05}})
    assert cfg.rixs["axis"] == "emission"


API_AND_FILE = [("slater_scale", -0.5), ("tendq", 40.0), ("shift", 500.0), ("l3_fwhm", -1.0),
                ("soc_scale", 9.0)]


@pytest.mark.parametrize("key, value", API_AND_FILE)
def test_model_file_and_api_agree_on_ranges(key, value):
    with pytest.raises(InputError) as api:
        rixsim.atomic_model("Ni2+", **{key: value})
    with pytest.raises(ConfigError) as file:
        config_from_dict({"model": {**NI, key: value}})
    assert str(api.value) in str(file.value).replace(f"model.{key}: ", f"{key} ")


def test_load_config_names_a_directory_and_a_missing_file(tmp_path):
    _check(lambda: load_config(tmp_path), InputError, [str(tmp_path), "directory"])
    _check(lambda: load_config(tmp_path / "nope.toml"), InputError, ["nope.toml", "does not exist"])
    (tmp_path / "bad.toml").write_text("[model\nion = 'Ni2+'\n")
    _check(lambda: load_config(tmp_path / "bad.toml"), InputError, ["bad.toml", "TOML"])


# ------------------------------------------------------------------------------------------- data files
_E = np.arange(630.0, 660.0, 0.5)
_GOOD = "".join(f"{a:.3f},{100 + 50 * np.exp(-((a - 640) / 2) ** 2):.4f}\n" for a in _E)

FILES = {
    "empty": ("", ["is empty"]),
    "comments only": ("# energy, I\n# nothing\n", ["no data"]),
    "one point": ("640,1\n", ["fewer than 2"]),
    "ragged rows": ("630,1\n631,2,3\n632,1\n", ["line 2", "3 columns"]),
    "text in a data row": ("630,abc\n631,1\n632,2\n", ["line 1", "'abc'"]),
    "text in a later row": ("630,1\n631,x\n632,2\n", ["line 2", "'x'"]),
    "infinite intensity": ("630,1\n631,inf\n632,2\n", ["infinite", "index (1,)"]),
    "all intensities NaN": ("630,nan\n631,nan\n", ["fewer than 2"]),
    "repeated energy": ("630,1\n630,2\n631,3\n", ["energy[0]=630.0", "energy[1]=630.0"]),
    "energies not monotonic": ("630,1\n632,2\n631,3\n633,1\n", ["energy[1]=632.0"]),
    "a single column": ("630\n631\n632\n", ["intensity_column=1", "1 column"]),
    "negative intensity": ("630,1\n631,-2\n632,2\n", ["-2.0", "allow_negative"]),
    "decimal commas": ("630,0;1,5\n631,0;2,5\n632,0;3,5\n", ["line 2", "'631,0'"]),
    "a map read as a spectrum": ("\n".join(" ".join("1" for _ in range(5)) for _ in range(4)) + "\n",
                                 ["energy[0]=1.0"]),
    "header but no rows": ("energy,intensity\n", ["header", "no data"]),
    "header of 3 names for 2 columns": ("energy,i0,tey\n630,1\n631,2\n", ["3 column names", "2 columns"]),
}


@pytest.mark.filterwarnings("ignore::rixsim.errors.RixsimWarning")
@pytest.mark.parametrize("case", list(FILES), ids=list(FILES))
def test_read_spectrum_refuses_bad_data_files(tmp_path, case):
    text, names = FILES[case]
    p = tmp_path / "data.csv"
    p.write_text(text)
    _check(lambda: read_spectrum(p), InputError, names)


def test_read_spectrum_refuses_binary_and_latin1(tmp_path):
    (tmp_path / "bin.dat").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "latin.csv").write_bytes("# énergie\n630,1\n631,2\n".encode("latin-1"))
    _check(lambda: read_spectrum(tmp_path / "bin.dat"), InputError, ["bin.dat", "UTF-8"])
    _check(lambda: read_spectrum(tmp_path / "latin.csv"), InputError, ["latin.csv", "UTF-8"])


@pytest.mark.parametrize("reader", [read_spectrum, read_any], ids=["read_spectrum", "read_any"])
@pytest.mark.parametrize("where", ["missing", "a directory", "under a regular file"])
def test_readers_name_a_missing_or_wrong_path(tmp_path, reader, where):
    (tmp_path / "file.txt").write_text(_GOOD)
    (tmp_path / "adir").mkdir()
    path = {"missing": tmp_path / "nope.csv", "a directory": tmp_path / "adir",
            "under a regular file": tmp_path / "file.txt" / "x.csv"}[where]
    _check(lambda: reader(path), InputError, [str(path)])


def test_truncated_file_masks_the_last_row_with_a_rixsim_warning(tmp_path):
    p = tmp_path / "trunc.csv"
    p.write_text(_GOOD + "660.0,")
    with pytest.warns(RixsimWarning, match="1 point"):
        s = read_spectrum(p)
    assert s.energy.size == _E.size and s.meta["n_masked"] == 1


def test_nan_in_a_data_file_is_masked_and_counted(tmp_path):
    p = tmp_path / "nan.csv"
    p.write_text("630,1\n631,nan\n632,2\n633,1\n")
    with pytest.warns(RixsimWarning, match="row 1"):
        s = read_spectrum(p)
    assert s.meta["n_masked"] == 1 and np.isfinite(s.intensity).all()


def test_energies_in_kev_warn(tmp_path):
    p = tmp_path / "kev.csv"
    p.write_text("".join(f"{a / 1000:.5f},{b}\n" for a, b in zip(_E, np.ones(_E.size))))
    with pytest.warns(SuspiciousInputWarning, match="keV"):
        read_spectrum(p)


MAPS = {
    "axis length differs": (dict(excitation=np.arange(6.0), emission=np.arange(7.0)), ["excitation axis has 6"]),
    "both second axes": (dict(excitation=np.arange(5.0), emission=np.arange(7.0), loss=np.arange(7.0)), ["both"]),
    "axis with nan": (dict(excitation=[0, 1, NAN, 3, 4], emission=np.arange(7.0)), ["excitation", "nan"]),
    "no excitation axis": (dict(emission=np.arange(7.0)), ["excitation="]),
    "rows unknown": (dict(excitation=np.arange(5.0), emission=np.arange(7.0), rows="cols"), ["'cols'"]),
}


@pytest.mark.parametrize("case", list(MAPS), ids=list(MAPS))
def test_read_map_text_refuses_a_wrong_layout(tmp_path, case):
    np.savetxt(tmp_path / "m.txt", np.ones((5, 7)))
    kwargs, names = MAPS[case]
    _check(lambda: read_map_text(tmp_path / "m.txt", **kwargs), InputError, names)


def test_read_map_npz_refuses_nan_rows_and_missing_keys(tmp_path):
    np.savez(tmp_path / "bad.npz", intensity=np.full((5, 7), NAN), excitation=np.arange(5.0), emission=np.arange(7.0))
    np.savez(tmp_path / "nokey.npz", z=np.ones((5, 7)))
    _check(lambda: read_map_npz(tmp_path / "bad.npz"), InputError, ["bad.npz", "NaN"])
    _check(lambda: read_map_npz(tmp_path / "nokey.npz"), InputError, ["nokey.npz", "'z'"])


def test_a_text_file_named_h5_is_refused(tmp_path):
    from rixsim.io import read_map_hdf5
    (tmp_path / "fake.h5").write_text("not hdf5")
    _check(lambda: read_map_hdf5(tmp_path / "fake.h5"), InputError, ["fake.h5", "HDF5"])


# ------------------------------------------------------------------------------------------- command line
NI_TOML = """
[model]
ion = "Ni2+"
tendq = 1.1
[xas]
energy_min = 850.0
energy_max = 860.0
energy_step = 0.2
"""


_STARTING = re.compile(r"rixsim [a-z]+: starting \(")


def _run(capsys, argv):
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _one_error_line(err):
    # errors found once the work has started (an over-budget grid) follow the CLI's "starting" line
    lines = [ln for ln in err.splitlines() if ln.strip() and not _STARTING.match(ln)]
    assert len(lines) == 1 and lines[0].startswith("rixsim: "), err
    return lines[0]


@pytest.fixture
def toml(tmp_path):
    p = tmp_path / "ni.toml"
    p.write_text(textwrap.dedent(NI_TOML))
    return p


def _cli_cases(tmp_path, toml):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "adir").mkdir(exist_ok=True)
    (tmp_path / "bad.toml").write_text("[model]\nion = 'Ni2+'\ntendq = 'big'\n")
    (tmp_path / "conflict.toml").write_text("[model]\nion = 'Ni2+'\n[rixs]\naxis = 'loss'\nemission_min = 840.0\n")
    (tmp_path / "huge.toml").write_text("[model]\nion = 'Ni2+'\n[rixs]\nexcitation_step = 0.0001\n"
                                        "emission_step = 0.001\nmemory_gb = 0.5\n")
    out = str(tmp_path / "out")
    return {
        "missing model file": (["xas", str(tmp_path / "nope.toml"), "-o", out], cli.EXIT_INPUT, "nope.toml"),
        "model file is a directory": (["xas", str(tmp_path / "adir"), "-o", out], cli.EXIT_INPUT, "adir"),
        "model file under a file": (["xas", str(tmp_path / "file.txt" / "m.toml"), "-o", out], cli.EXIT_INPUT,
                                    "m.toml"),
        "bad value in the model file": (["xas", str(tmp_path / "bad.toml"), "-o", out], cli.EXIT_INPUT,
                                        "model.tendq"),
        "conflicting keys": (["rixs", str(tmp_path / "conflict.toml"), "-o", out], cli.EXIT_INPUT,
                             "rixs.emission_min"),
        "--out under a regular file": (["xas", str(toml), "-o", str(tmp_path / "file.txt" / "sub")],
                                       cli.EXIT_INPUT, "file.txt"),
        "--out is a regular file": (["xas", str(toml), "-o", str(tmp_path / "file.txt")], cli.EXIT_INPUT,
                                    "file.txt"),
        "fit data missing": (["fit", str(tmp_path / "nope.csv"), "--library", "Mn", "-o", out], cli.EXIT_INPUT,
                             "nope.csv"),
        "fit data is a directory": (["fit", str(tmp_path / "adir"), "--library", "Mn", "-o", out], cli.EXIT_INPUT,
                                    "adir"),
        "fit data is not text": (["fit", str(tmp_path / "bad.toml"), "--library", "Mn", "-o", out], cli.EXIT_INPUT,
                                 "bad.toml"),
        "grid over the memory budget": (["rixs", str(tmp_path / "huge.toml"), "--no-plot", "-o", out],
                                        cli.EXIT_MEMORY, "memory budget"),
    }


CLI_CASES = ["missing model file", "model file is a directory", "model file under a file",
             "bad value in the model file", "conflicting keys", "--out under a regular file",
             "--out is a regular file", "fit data missing", "fit data is a directory", "fit data is not text",
             "grid over the memory budget"]


@pytest.mark.parametrize("case", CLI_CASES)
def test_cli_user_errors_are_one_line_with_the_documented_code(tmp_path, toml, capsys, case):
    argv, code, name = _cli_cases(tmp_path, toml)[case]
    got, err = _run(capsys, argv)
    line = _one_error_line(err)
    assert got == code, err
    assert name in line
    assert not (tmp_path / "out").exists()       # refused before anything was written


def test_cli_output_name_taken_by_a_directory_is_bad_input(tmp_path, toml, capsys):
    out = tmp_path / "out"
    (out / "ni_xas.csv").mkdir(parents=True)      # the output file's name is taken by a directory
    code, err = _run(capsys, ["xas", str(toml), "--no-plot", "--overwrite", "-o", str(out)])
    assert code == cli.EXIT_INPUT
    assert "ni_xas.csv" in _one_error_line(err)


def test_cli_os_error_is_exit_6_and_names_the_path(tmp_path, toml, capsys):
    out = tmp_path / ("a" * 300)                  # ENAMETOOLONG: the operating system refuses the path
    code, err = _run(capsys, ["xas", str(toml), "--no-plot", "-o", str(out)])
    assert code == cli.EXIT_FILE
    line = _one_error_line(err)
    assert "aaaa" in line and "too long" in line


@pytest.mark.parametrize("exc, code, text", [
    (KeyboardInterrupt(), cli.EXIT_INTERRUPTED, "interrupted"),
    (MemoryError(), cli.EXIT_MEMORY, "out of memory"),
    (MemoryBudgetError("a map would need 12 GB, more than the memory budget of 1 GB"), cli.EXIT_MEMORY, "12 GB"),
    (PermissionError(13, "Permission denied", "/x/y.csv"), cli.EXIT_FILE, "/x/y.csv"),
    (ZeroDivisionError("division by zero"), cli.EXIT_FAIL, "ZeroDivisionError"),
], ids=["interrupt", "MemoryError", "over budget", "permission", "internal error"])
def test_cli_every_kind_of_failure_has_its_code(monkeypatch, toml, capsys, exc, code, text):
    def boom(args):
        raise exc
    monkeypatch.setattr(cli, "cmd_xas", boom)
    got, err = _run(capsys, ["xas", str(toml)])
    assert got == code
    assert text in _one_error_line(err)


def test_cli_debug_shows_the_traceback(monkeypatch, toml):
    def boom(args):
        raise ZeroDivisionError("division by zero")
    monkeypatch.setattr(cli, "cmd_xas", boom)
    with pytest.raises(ZeroDivisionError):
        cli.main(["--debug", "xas", str(toml)])
    with pytest.raises(ZeroDivisionError):
        cli.main(["xas", "--debug", str(toml)])


def test_cli_warnings_are_one_line(tmp_path, capsys):
    p = tmp_path / "kev.toml"
    p.write_text("[model]\nion = 'Ni2+'\n[xas]\nenergy_min = 0.85\nenergy_max = 0.86\nenergy_step = 0.0005\n")
    code, err = _run(capsys, ["xas", str(p), "--no-plot", "-o", str(tmp_path / "out")])
    assert code == cli.EXIT_OK
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines[0].startswith("rixsim xas: starting")          # the line before the numerical work
    lines = lines[1:]
    assert len(lines) == 1 and lines[0].startswith("rixsim: warning: ") and "keV" in lines[0]


def test_exit_codes_are_listed_in_help(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for code in (cli.EXIT_INPUT, cli.EXIT_EXISTS, cli.EXIT_CONVERGENCE, cli.EXIT_UNTRUSTWORTHY, cli.EXIT_FILE,
                 cli.EXIT_MEMORY, cli.EXIT_INTERRUPTED, cli.EXIT_FAIL):
        assert f"{code} " in out
    assert "--debug" in out

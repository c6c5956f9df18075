"""More of issue 14's bad inputs: model fits (FitModel, fit_xas, fit_measured), sweeps, the Krylov path of
rixs_map, predict_channels, and the memory budget of XAS, maps, channels, fits and sweeps.

Each case asserts the exact exception (or warning) type and that the message names the bad value.  The
module runs under the same address-space limit as ``test_bad_inputs`` (a blow-up fails, not the machine).
"""
from __future__ import annotations

import contextlib
import functools
import resource
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import rixsim
from rixsim.analysis.fitting import FitModel, fit_xas, simulate_xas
from rixsim.analysis.measured import (
    ClusterAbsorption,
    DetectionChannel,
    MeasuredModel,
    MeasuredScan,
    SampleSpec,
    fit_measured,
)
from rixsim.detection.channels import predict_channels
from rixsim.detection.sample import Geometry, Layer, Sample
from rixsim.errors import (
    InputError,
    MemoryBudgetError,
    SuspiciousInputWarning,
    UnknownIonError,
)
from rixsim.interfaces.sweep import sweep
from rixsim.results import Spectrum

NAN = float("nan")
LIMIT_BYTES = 6 * 10**9


@pytest.fixture(autouse=True, scope="module")
def _memory_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        size = int(fh.read().split()[0]) * resource.getpagesize()
    new = size + LIMIT_BYTES if hard == resource.RLIM_INFINITY else min(size + LIMIT_BYTES, hard)
    resource.setrlimit(resource.RLIMIT_AS, (new, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("RIXSIM_PROGRESS", "0")


# ------------------------------------------------------------------------------------------- fixtures
E_NI = np.arange(850.0, 880.0, 0.2)


@functools.cache
def fm():
    return FitModel("Ni2+")


@functools.cache
def counts():
    truth = {"tendq": 1.1, "edge_offset": 858.5, "l3_fwhm": 0.5, "gauss_fwhm": 0.3, "scale": 500.0}
    return np.random.default_rng(5).poisson(simulate_xas(fm(), E_NI, truth).intensity).astype(float)


def good():
    return Spectrum(E_NI, counts())


V = ["tendq", "scale"]


def fx(data=None, **kw):
    kw.setdefault("vary", V)
    return fit_xas(good() if data is None else data, fm(), **kw)


E_M = np.linspace(846.0, 878.0, 129)
SAMPLE = SampleSpec("NiO", 6.67, "Ni", thickness_nm=120.0, packing=0.6, incidence_deg=50.0, exit_deg=30.0)


@functools.cache
def mmodel():
    return MeasuredModel(ClusterAbsorption("Ni2+"), {"tey": DetectionChannel("TEY"), "tfy": DetectionChannel("TFY")},
                         sample=SAMPLE)


@functools.cache
def mcounts():
    truth = {"tendq": 1.1, "white_line_area": 14.0, "step_height": 1.2, "thickness_nm": 120.0, "packing": 0.6,
             "incidence_deg": 50.0, "tey_scale": 2.0e5, "tey_bg0": 400.0, "tey_bg1": 50.0, "tfy_scale": 4.0e7,
             "tfy_bg0": 800.0, "tfy_bg1": 0.0}
    rng = np.random.default_rng(1)
    return {k: rng.poisson(s.intensity).astype(float) for k, s in mmodel().predict(E_M, truth).items()}


def mscan(energy=E_M, scale=1.0):
    return MeasuredScan({k: Spectrum(energy, scale * y) for k, y in mcounts().items()})


def fm_(scan=None, **kw):
    kw.setdefault("vary", ["white_line_area"])
    kw.setdefault("sigma", "poisson")
    return fit_measured(mscan() if scan is None else scan, mmodel(), **kw)


@functools.cache
def ni():
    return rixsim.atomic_model("Ni2+", tendq=1.0)


EXC = np.arange(851.0, 857.0, 1.0)
LOSS = np.arange(-1.0, 5.0, 0.1)


def kry(**kw):
    args = {"excitation": EXC, "loss": LOSS, "method": "krylov"}
    args.update(kw)
    return rixsim.rixs_map(ni(), **args)


def dense(**kw):
    args = {"excitation": EXC, "loss": LOSS}
    args.update(kw)
    return rixsim.rixs_map(ni().transitions(10.0), **args)


def f_ab(a=1, b=2):
    return a + b


def _lambda_sweep():
    with ProcessPoolExecutor(1) as ex:
        return sweep(lambda a: a, {"a": [1, 2]}, executor=ex)


def _dup(e):
    e = e.copy()
    e[3] = e[2]
    return e


def _nan_at(y, i=5):
    y = y.copy()
    y[i] = NAN
    return y


# ------------------------------------------------------------------------------------------ the cases
CASES = {
    # FitModel
    "FitModel ion int": (lambda: FitModel(28), InputError, ["ion", "28"]),
    "FitModel symmetry unknown": (lambda: FitModel("Ni2+", symmetry="Q"), InputError, ["symmetry", "'Q'"]),
    "FitModel symmetry int": (lambda: FitModel("Ni2+", symmetry=4), InputError, ["symmetry", "4"]),
    "FitModel temperature nan": (lambda: FitModel("Ni2+", temperature_k=NAN), InputError, ["temperature_k", "nan"]),
    "FitModel temperature string": (lambda: FitModel("Ni2+", temperature_k="300"), InputError,
                                    ["temperature_k", "'300'"]),
    "FitModel charge_transfer string": (lambda: FitModel("Ni2+", charge_transfer="yes"), InputError,
                                        ["charge_transfer", "'yes'"]),
    "FitModel n_ligand_holes 0": (lambda: FitModel("Ni2+", charge_transfer=True, n_ligand_holes=0), InputError,
                                  ["n_ligand_holes", "0"]),
    # fit_xas: types
    "fit_xas data list": (lambda: fit_xas([1, 2, 3], fm(), vary=V), InputError, ["Spectrum", "list"]),
    "fit_xas model string": (lambda: fit_xas(good(), "Ni2+", vary=V), InputError, ["FitModel", "str"]),
    "fit_xas start string value": (lambda: fx(start={"tendq": "1.0"}), InputError, ["tendq", "'1.0'"]),
    "fit_xas start list value": (lambda: fx(start={"tendq": [1.0]}), InputError, ["tendq", "[1.0]"]),
    "fit_xas start not a mapping": (lambda: fx(start=[("tendq", 1.0)]), InputError, ["start", "tendq"]),
    "fit_xas vary string": (lambda: fx(vary="tendq"), InputError, ["vary", "'tendq'"]),
    "fit_xas vary int": (lambda: fx(vary=5), InputError, ["vary", "5"]),
    "fit_xas max_nfev 0": (lambda: fx(max_nfev=0), InputError, ["max_nfev", "0"]),
    "fit_xas max_nfev negative": (lambda: fx(max_nfev=-5), InputError, ["max_nfev", "-5"]),
    "fit_xas max_nfev 2.5": (lambda: fx(max_nfev=2.5), InputError, ["max_nfev", "2.5"]),
    "fit_xas max_nfev string": (lambda: fx(max_nfev="100"), InputError, ["max_nfev", "'100'"]),
    "fit_xas method unknown": (lambda: fx(method="newton-bogus"), InputError, ["method", "'newton-bogus'"]),
    "fit_xas scale_covar string": (lambda: fx(scale_covar="yes"), InputError, ["scale_covar", "'yes'"]),
    "fit_xas allow_negative string": (lambda: fx(allow_negative="no"), InputError, ["allow_negative", "'no'"]),
    "fit_xas sigma unknown": (lambda: fx(sigma="gauss"), InputError, ["sigma", "'gauss'"]),
    "fit_xas sigma wrong length": (lambda: fx(sigma=np.ones(3)), InputError, ["sigma", "(3,)"]),
    "fit_xas blas_threads 0": (lambda: fx(blas_threads=0), InputError, ["blas_threads", "0"]),
    "fit_xas blas_threads string": (lambda: fx(blas_threads="1"), InputError, ["blas_threads", "'1'"]),
    "measured blas_threads 2.5": (lambda: fm_(blas_threads=2.5), InputError, ["blas_threads", "2.5"]),
    "fit_xas polarization unknown": (lambda: fx(polarization="q"), InputError, ["polarization", "'q'"]),
    # fit_xas: data
    "fit_xas NaN in data": (lambda: fx(Spectrum(E_NI, _nan_at(counts()))), InputError, ["data intensity", "nan",
                                                                                       "(5,)"]),
    "fit_xas unsorted axis": (lambda: fx(Spectrum(E_NI[::-1], counts())), InputError,
                              ["data energy", "strictly increasing"]),
    "fit_xas duplicate energy": (lambda: fx(Spectrum(_dup(E_NI), counts())), InputError,
                                 ["data energy[2]", "data energy[3]"]),
    "fit_xas empty arrays": (lambda: fx(Spectrum(np.array([]), np.array([]))), InputError,
                             ["data energy", "got 0"]),
    "fit_xas all-zero data": (lambda: fx(Spectrum(E_NI, np.zeros(E_NI.size))), InputError,
                              ["data intensity is 0", "150 points"]),
    "fit_xas negative counts": (lambda: fx(Spectrum(E_NI, counts() - 1000)), InputError,
                                ["data intensity", "negative"]),
    "fit_xas window inverted": (lambda: fx(energy_range=(870, 855)), InputError, ["energy_range", "(870, 855)"]),
    "fit_xas window outside": (lambda: fx(energy_range=(900, 910)), InputError, ["energy_range", "(900, 910)"]),
    # fit_xas: parameters
    "fit_xas bounds inverted": (lambda: fx(vary={"tendq": (2.0, 0.5), "scale": None}), InputError,
                                ["bounds of tendq", "(2.0, 0.5)"]),
    "fit_xas start outside bounds": (lambda: fx(start={"tendq": 3.0}, vary={"tendq": (0.5, 2.0), "scale": None}),
                                     InputError, ["tendq", "3.0", "(0.5, 2.0)"]),
    "fit_xas bound string": (lambda: fx(vary={"tendq": ("0", 2.0), "scale": None}), InputError,
                             ["lower bound of tendq", "'0'"]),
    "fit_xas unknown vary name": (lambda: fx(vary=["tendqq"]), InputError, ["'tendqq'", "allowed"]),
    "fit_xas unknown start name": (lambda: fx(start={"tenddq": 1.0}), InputError, ["'tenddq'", "allowed"]),
    "fit_xas start nan": (lambda: fx(start={"tendq": NAN}), InputError, ["tendq", "nan"]),
    "fit_xas negative width start": (lambda: fx(start={"l3_fwhm": -0.5}), InputError, ["l3_fwhm", "-0.5", ">= 0"]),
    "fit_xas crystal field 1e6 eV": (lambda: fx(start={"tendq": 1e6}), InputError, ["tendq", "[-20, 20] eV"]),
    # fit_measured
    "measured scans string": (lambda: fit_measured("scan", mmodel(), vary=["white_line_area"]), InputError,
                              ["MeasuredScan"]),
    "measured model string": (lambda: fit_measured(mscan(), "m", vary=["white_line_area"]), InputError,
                              ["MeasuredModel", "str"]),
    "measured NaN in data": (lambda: MeasuredScan({"tey": Spectrum(E_M, _nan_at(mcounts()["tey"], 3))}),
                             InputError, ["'tey' intensity", "nan", "(3,)"]),
    "measured unsorted axis": (lambda: MeasuredScan({"tey": Spectrum(E_M[::-1], mcounts()["tey"])}), InputError,
                               ["'tey' energy", "strictly increasing"]),
    "measured duplicate energy": (lambda: MeasuredScan({"tey": Spectrum(_dup(E_M), mcounts()["tey"])}),
                                  InputError, ["energy[2]", "energy[3]"]),
    "measured empty arrays": (lambda: MeasuredScan({"tey": Spectrum(np.array([]), np.array([]))}), InputError,
                              ["'tey' energy", "got 0"]),
    "measured no channels": (lambda: MeasuredScan({}), InputError, ["channels", "non-empty"]),
    "measured all-zero data": (lambda: fm_(mscan(scale=0.0)), InputError, ["'tey'", "intensity is 0"]),
    "measured bounds inverted": (lambda: fm_(bounds={"white_line_area": (20, 5)}), InputError,
                                 ["white_line_area", "[20.0, 5.0]"]),
    "measured bounds not a pair": (lambda: fm_(bounds={"white_line_area": 5}), InputError,
                                   ["bounds of white_line_area", "5"]),
    "measured bound string": (lambda: fm_(bounds={"white_line_area": ("1", 50)}), InputError,
                              ["lower bound of white_line_area", "'1'"]),
    "measured bounds unknown name": (lambda: fm_(bounds={"whiteline": (1, 5)}), InputError, ["'whiteline'"]),
    "measured start outside range": (lambda: fm_(start={"packing": 3.0}), InputError, ["packing", "3.0"]),
    "measured start unknown name": (lambda: fm_(start={"tenddq": 1.0}), InputError, ["'tenddq'", "allowed"]),
    "measured start string": (lambda: fm_(start={"tendq": "1.0"}), InputError, ["tendq", "'1.0'"]),
    "measured start nan": (lambda: fm_(start={"tendq": NAN}), InputError, ["tendq", "nan"]),
    "measured vary unknown": (lambda: fm_(vary=["whiteline"]), InputError, ["'whiteline'", "allowed"]),
    "measured vary string": (lambda: fm_(vary="white_line_area"), InputError, ["vary", "'white_line_area'"]),
    "measured max_nfev 0": (lambda: fm_(max_nfev=0), InputError, ["max_nfev", "0"]),
    "measured method unknown": (lambda: fm_(method="bogus"), InputError, ["method", "'bogus'"]),
    "measured window inverted": (lambda: fm_(energy_range=(870, 850)), InputError, ["energy_range", "(870, 850)"]),
    "measured separate_scales string": (lambda: fm_(separate_scales="no"), InputError, ["separate_scales", "'no'"]),
    "measured auto_start string": (lambda: fm_(auto_start="no"), InputError, ["auto_start", "'no'"]),
    "measured sigma unknown": (lambda: fm_(sigma="gauss"), InputError, ["sigma", "'gauss'"]),
    # sweeps
    "sweep empty grid": (lambda: sweep(f_ab, {}), InputError, ["grid", "{}"]),
    "sweep empty values": (lambda: sweep(f_ab, {"a": []}), InputError, ["grid['a']", "(0,)"]),
    "sweep non-iterable values": (lambda: sweep(f_ab, {"a": 5}), InputError, ["grid['a']", "5"]),
    "sweep generator values": (lambda: sweep(f_ab, {"a": (x for x in range(3))}), InputError,
                               ["grid['a']", "generator"]),
    "sweep 2-D values": (lambda: sweep(f_ab, {"a": [[1, 2], [3, 4]]}), InputError, ["grid['a']", "(2, 2)"]),
    "sweep unknown parameter": (lambda: sweep(f_ab, {"c": [1, 2]}), InputError, ["['c']", "f_ab", "['a', 'b']"]),
    "sweep bad parameter name": (lambda: sweep(f_ab, {"a b": [1, 2]}), InputError, ["'a b'"]),
    "sweep not callable": (lambda: sweep(5, {"a": [1, 2]}), InputError, ["callable", "5"]),
    "sweep grid not a dict": (lambda: sweep(f_ab, [("a", [1, 2])]), InputError, ["grid", "[('a', [1, 2])]"]),
    "sweep lambda on a process pool": (_lambda_sweep, InputError, ["<lambda>", "process pool", "module level"]),
    "sweep executor without submit": (lambda: sweep(f_ab, {"a": [1, 2]}, executor=5), InputError,
                                      ["executor", "int"]),
    "sweep progress string": (lambda: sweep(f_ab, {"a": [1, 2]}, progress="yes"), InputError,
                              ["progress", "'yes'"]),
    "sweep memory_gb string": (lambda: sweep(f_ab, {"a": [1, 2]}, memory_gb="1"), InputError,
                               ["memory_gb", "'1'"]),
    # the Krylov path of rixs_map: the dense engine's checks
    "krylov unsorted excitation": (lambda: kry(excitation=np.array([855.0, 853.0, 851.0])), InputError,
                                   ["excitation[0]=855", "strictly increasing"]),
    "krylov NaN excitation": (lambda: kry(excitation=np.array([851.0, NAN])), InputError, ["excitation", "nan"]),
    "krylov empty excitation": (lambda: kry(excitation=np.array([])), InputError, ["excitation", "got 0"]),
    "krylov duplicate loss": (lambda: kry(loss=np.array([0.0, 1.0, 1.0, 2.0])), InputError,
                              ["loss[1]", "loss[2]"]),
    "krylov loss and emission": (lambda: kry(emission=np.arange(840.0, 850.0)), InputError,
                                 ["exactly one", "loss", "emission"]),
    "krylov no second axis": (lambda: kry(loss=None), InputError, ["exactly one", "loss", "emission"]),
    "krylov negative final_fwhm": (lambda: kry(final_fwhm=-0.1), InputError, ["final_fwhm", "-0.1"]),
    "krylov both widths zero": (lambda: kry(final_fwhm=0.0, resolution_fwhm=0.0), InputError,
                                ["final_fwhm", "resolution_fwhm", "0 eV"]),
    "krylov width string": (lambda: kry(resolution_fwhm="0.2"), InputError, ["resolution_fwhm", "'0.2'"]),
    "krylov width inf": (lambda: kry(final_fwhm=float("inf")), InputError, ["final_fwhm", "inf"]),
    "krylov temperature negative": (lambda: kry(temperature_k=-1), InputError, ["temperature_k", "-1"]),
    "krylov margin negative": (lambda: kry(margin_fwhm=-1), InputError, ["margin_fwhm", "-1"]),
    "krylov elastic string": (lambda: kry(elastic="no"), InputError, ["elastic", "'no'"]),
    "krylov memory_gb string": (lambda: kry(memory_gb="1"), InputError, ["memory_gb", "'1'"]),
    "krylov on transitions": (lambda: dense(method="krylov"), InputError, ["krylov", "model"]),
    "dense elastic string": (lambda: dense(elastic="no"), InputError, ["elastic", "'no'"]),
    "rixs_map progress string": (lambda: dense(progress="yes"), InputError, ["progress", "'yes'"]),
    # predict_channels
    "channels element unknown": (lambda: predict_channels(Sample(Layer("MnO", 5.0)), Geometry(),
                                                          np.arange(635.0, 660.0, 0.5), "Xx"), UnknownIonError, ["Xx"]),
    "channels NaN excitation": (lambda: predict_channels(Sample(Layer("MnO", 5.0)), Geometry(),
                                                         np.array([640.0, NAN]), "Mn"), InputError,
                                ["excitation", "nan"]),
    "channels memory_gb string": (lambda: predict_channels(Sample(Layer("MnO", 5.0)), Geometry(),
                                                           np.arange(635.0, 660.0, 0.5), "Mn", memory_gb="1"),
                                  InputError, ["memory_gb", "'1'"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_naming_the_value(case):
    call, exc_type, names = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SuspiciousInputWarning)
        with pytest.raises(Exception) as info:
            call()
    assert type(info.value) is exc_type, f"{type(info.value).__name__}: {info.value}"
    for n in names:
        assert n in str(info.value), f"{n!r} not in {str(info.value)!r}"


# ----------------------------------------------------------------------- legal, but almost surely a mistake
WARN = {
    "fit_xas spectrum in keV": (lambda: fx(Spectrum(E_NI / 1000.0, counts()), max_nfev=1),
                                ["data energy", "0.85", "keV"]),
    "fit_xas spectrum of another edge": (lambda: fx(Spectrum(E_NI - 200.0, counts()), max_nfev=1),
                                         ["data energy", "650", "Ni2+ L2,3 edge"]),
    "measured scan in keV": (lambda: fm_(mscan(energy=E_M / 1000.0), max_nfev=1), ["'tey' energy", "keV"]),
    "krylov excitation in keV": (lambda: kry(excitation=np.arange(0.851, 0.857, 0.001)), ["excitation", "keV"]),
    "krylov emission far from every emission": (lambda: kry(loss=None, emission=np.arange(100.0, 110.0)),
                                                ["emission", "100", "every emission"]),
    "krylov loss far from every final state": (lambda: kry(loss=np.arange(200.0, 210.0, 0.5)),
                                               ["loss", "200", "final state"]),
    "channels excitation in keV": (lambda: predict_channels(Sample(Layer("MnO", 5.0)), Geometry(),
                                                            np.arange(0.635, 0.660, 0.0005), "Mn"),
                                   ["excitation", "0.635", "keV"]),
    "channels excitation far from the edge": (lambda: predict_channels(Sample(Layer("MnO", 5.0)), Geometry(),
                                                                       np.arange(100.0, 120.0, 0.5), "Mn"),
                                              ["excitation", "100", "Mn L2,3 edge"]),
}


@pytest.mark.parametrize("case", sorted(WARN))
def test_suspicious_input_warns_naming_the_value(case):
    call, names = WARN[case]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.suppress(Exception):       # a fit on nonsense may then fail; the warning is the point
            call()
    ours = [w for w in caught if issubclass(w.category, SuspiciousInputWarning)]
    assert ours, [str(w.message) for w in caught]
    text = str(ours[0].message)
    for n in names:
        assert n in text, f"{n!r} not in {text!r}"
    first_ours = caught.index(ours[0])
    tables = [i for i, w in enumerate(caught) if w.category is UserWarning and "Elam" in str(w.message)]
    assert not tables or first_ours < tables[0], "rixsim must warn before the absorption tables are asked"


# ----------------------------------------------------------------------------- memory_gb is honoured
def _over_budget(call, names):
    with pytest.raises(MemoryBudgetError) as info:
        call()
    text = str(info.value)
    assert "would need" in text and "memory_gb=1e-07" in text
    for n in names:
        assert n in text, f"{n!r} not in {text!r}"


def test_xas_dense_from_a_model_plans_its_diagonalisation():
    _over_budget(lambda: rixsim.xas(rixsim.atomic_model("Co2+"), np.arange(770.0, 800.0, 0.1), memory_gb=1e-7),
                 ["dense XAS", "120 and 270 states"])


def test_xas_lanczos_plans_its_vectors():
    _over_budget(lambda: rixsim.xas(rixsim.atomic_model("Co2+"), np.arange(770.0, 800.0, 0.1), method="lanczos",
                                    memory_gb=1e-7), ["Lanczos XAS", "300 energies", "270 core-excited"])


def test_dense_map_honours_memory_gb():
    with pytest.raises(MemoryBudgetError) as info:
        dense(memory_gb=1e-7)
    assert "memory_gb=1e-07" in str(info.value)


def test_krylov_map_honours_memory_gb():
    with pytest.raises(InputError) as info:         # the Krylov planner's own message
        kry(memory_gb=1e-7)
    assert "memory_gb=1e-07" in str(info.value) and "GB needed" in str(info.value)


def test_channels_plan_the_detected_map_before_work():
    _over_budget(lambda: predict_channels(Sample(Layer("MnO", 5.0)), Geometry(), np.arange(635.0, 660.0, 0.5),
                                          "Mn", memory_gb=1e-7), ["detected channels", "50 excitation"])


def test_fit_xas_plans_the_optimiser_arrays():
    before = fm().n_evaluations
    _over_budget(lambda: fx(memory_gb=1e-7), ["XAS fit", "150 points", "2 free parameters"])
    assert fm().n_evaluations == before                  # refused before the first evaluation


def test_sweep_plans_the_stacked_results_after_the_first_point():
    calls = []

    def big(a):
        calls.append(a)
        return np.zeros(1000)
    with pytest.raises(MemoryBudgetError) as info:       # 100 kB: the 50 points fit, their 50 × 8 kB do not
        sweep(big, {"a": list(range(50))}, memory_gb=1e-4)
    assert "sweep of 50 points" in str(info.value) and "8 kB each" in str(info.value)
    assert calls == [0]                                   # one point, then refused: the other 49 never ran
    assert sweep(big, {"a": [1, 2]}, memory_gb=1.0).data["value"].shape == (2, 1000)


def test_measured_fit_plans_the_optimiser_arrays():
    before = mmodel().n_evaluations
    _over_budget(lambda: fm_(memory_gb=1e-7), ["measured fit", "258 points"])
    assert mmodel().n_evaluations == before


def test_map_fit_plans_the_optimiser_arrays():
    from rixsim.analysis.fitting import fit_rixs_map, simulate_rixs_map
    data = simulate_rixs_map(fm(), EXC, loss=LOSS, values={"tendq": 1.1, "edge_offset": 858.5})
    _over_budget(lambda: fit_rixs_map(data, fm(), vary=["tendq", "scale"], memory_gb=1e-7),
                 ["map fit", f"{EXC.size * LOSS.size} points"])


def test_blas_threads_limits_blas_during_the_fit_only(monkeypatch):
    """blas_threads=1: every model evaluation runs with one BLAS thread (threadpoolctl), and the limit is
    lifted when the fit returns."""
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return {i["num_threads"] for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"}
    if not blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can see")
    seen = []
    real = FitModel.xas

    def spy(self, *args, **kwargs):
        seen.append(blas_threads())
        return real(self, *args, **kwargs)
    monkeypatch.setattr(FitModel, "xas", spy)
    outside = blas_threads()
    res = fx(blas_threads=1, max_nfev=30)
    assert res.n_evaluations > 0 and seen and all(s == {1} for s in seen)
    assert blas_threads() == outside


def test_a_sweep_grid_far_too_large_is_refused_before_its_points_are_listed():
    huge = {"a": np.arange(10_000), "b": np.arange(10_000), "c": np.arange(100)}      # 10¹⁰ points
    with pytest.raises(MemoryBudgetError) as info:
        sweep(f_ab, huge)
    assert "1e+10 points" in str(info.value) and "10000 × 10000 × 100" in str(info.value)

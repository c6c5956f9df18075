"""Long work is visible without a terminal: periodic log lines on the rixsim.progress logger, none for short work."""
import logging
import time

import numpy as np
import pytest

import rixsim
from rixsim import progress as rprogress
from rixsim.progress import progress


def slow_items(n, dt):
    for i in range(n):
        time.sleep(dt)
        yield i


def test_periodic_lines_when_no_bar_is_drawn(monkeypatch, caplog):
    monkeypatch.setenv("RIXSIM_PROGRESS", "0")          # no bar: a pipe, CI, a scheduler
    monkeypatch.setenv("RIXSIM_PROGRESS_INTERVAL", "0.05")
    with caplog.at_level(logging.INFO, logger="rixsim.progress"):
        out = list(progress(slow_items(6, 0.03), desc="map", total=6, unit="energy", requested=None))
    assert out == list(range(6))
    lines = [r.getMessage() for r in caplog.records if r.name == "rixsim.progress"]
    assert any(line.startswith("map: ") and "/6 energy done after" in line for line in lines), lines
    assert lines[-1].startswith("map: all 6 energy done")


def test_short_work_and_explicitly_quiet_work_log_nothing(monkeypatch, caplog):
    monkeypatch.setenv("RIXSIM_PROGRESS", "0")
    with caplog.at_level(logging.INFO, logger="rixsim.progress"):
        assert list(progress(range(100), desc="fast", requested=None)) == list(range(100))
        monkeypatch.setenv("RIXSIM_PROGRESS_INTERVAL", "0.01")
        assert list(progress(slow_items(3, 0.02), desc="quiet", requested=False)) == [0, 1, 2]
    assert not [r for r in caplog.records if r.name == "rixsim.progress"]


# ------------------------------------------------------------------ long work of the library, off a terminal


@pytest.fixture
def no_terminal(monkeypatch, caplog):
    """stderr is not a terminal (a pipe, a scheduler) and the interval is 1 ms; the counters made are kept."""
    monkeypatch.setenv("RIXSIM_PROGRESS", "0")
    monkeypatch.setenv("RIXSIM_PROGRESS_INTERVAL", "0.001")
    made = []
    real = rprogress.Counter.__init__

    def keep(self, *args, **kwargs):
        real(self, *args, **kwargs)
        made.append(self)
    monkeypatch.setattr(rprogress.Counter, "__init__", keep)
    caplog.set_level(logging.INFO, logger="rixsim.progress")
    return made, caplog


def _lines(caplog, prefix):
    return [r.getMessage() for r in caplog.records
            if r.name == "rixsim.progress" and r.levelno == logging.INFO and r.getMessage().startswith(prefix)]


def test_a_map_counts_incident_energies_and_logs_periodic_lines(no_terminal):
    made, caplog = no_terminal
    tr = rixsim.atomic_model("Ni2+", tendq=1.0).transitions(10.0)
    exc = np.linspace(850.0, 858.0, 240)
    rixsim.rixs_map(tr, exc, loss=np.linspace(-0.5, 4.0, 300))
    maps = [c for c in made if c.desc == "RIXS map"]
    assert len(maps) == 1
    assert maps[0].total == exc.size and maps[0].unit == "incident energies"
    assert maps[0].n == pytest.approx(exc.size)
    lines = _lines(caplog, "RIXS map: ")
    assert lines[0].startswith("RIXS map: 240 incident energies × 300 loss points")      # the start line
    assert any("/240 incident energies done after" in ln for ln in lines), lines          # periodic lines
    assert lines[-1].startswith("RIXS map: all 240 incident energies done")


def test_a_map_in_many_final_state_chunks_still_counts_each_incident_energy_once(no_terminal):
    from rixsim.spectroscopy.rixs import plan_memory
    made, caplog = no_terminal
    tr = rixsim.atomic_model("Ni2+", tendq=1.0).transitions(10.0)
    exc = np.linspace(850.0, 858.0, 40)
    loss = np.linspace(-0.5, 4.0, 100)
    budget = 2e-4                                          # 200 kB: several chunks of final states
    assert plan_memory(exc.size, loss.size, tr.n_intermediate, tr.n_initial, int(tr.populated.size),
                       memory_gb=budget).final_chunk < tr.n_initial
    rixsim.rixs_map(tr, exc, loss=loss, memory_gb=budget)
    (c,) = [c for c in made if c.desc == "RIXS map"]
    assert c.total == 40 and c.n == pytest.approx(40.0)
    assert "chunk(s)" in _lines(caplog, "RIXS map: ")[0] and " 1 chunk(s)" not in _lines(caplog, "RIXS map: ")[0]


def test_a_krylov_map_counts_incident_energies_over_its_initial_states(no_terminal):
    made, caplog = no_terminal
    model = rixsim.atomic_model("Ni2+", tendq=1.0)      # 3 populated initial states at 300 K (the 3A2g triplet)
    exc = np.linspace(850.0, 858.0, 12)
    rixsim.rixs_map(model, exc, loss=np.linspace(-0.5, 4.0, 60), method="krylov", temperature_k=300.0)
    (c,) = [c for c in made if c.desc == "Krylov RIXS map"]
    assert c.total == exc.size and c.unit == "incident energies"
    assert c.n == pytest.approx(exc.size)
    lines = _lines(caplog, "Krylov RIXS map: ")
    assert lines[0].startswith("Krylov RIXS map: 12 incident energies × 60 loss points, 3 initial state(s)")
    assert lines[-1].startswith("Krylov RIXS map: all 12 incident energies done")


def test_a_fit_logs_evaluations_and_chi2(no_terminal):
    from rixsim.analysis.fitting import FitModel, fit_xas, simulate_xas
    from rixsim.results import Spectrum
    made, caplog = no_terminal
    e = np.arange(850.0, 880.0, 0.1)
    m = FitModel("Ni2+")
    truth = {"tendq": 1.1, "edge_offset": 858.5, "l3_fwhm": 0.5, "gauss_fwhm": 0.3, "scale": 500.0}
    data = Spectrum(e, np.random.default_rng(5).poisson(simulate_xas(m, e, truth).intensity))
    res = fit_xas(data, m, start={"tendq": 1.0, "edge_offset": 858.3, "l3_fwhm": 0.6, "gauss_fwhm": 0.2},
                  vary=["tendq", "edge_offset", "scale"])
    fits = [c for c in made if c.desc.startswith("fit")]
    assert [c.desc for c in fits] == ["fit", "fit (Poisson stage)"] and all(c.total == 2000 for c in fits)
    # every residual is one model evaluation (the result also counts the Poisson weights and the best fit)
    assert 0 < sum(c.n for c in fits) <= res.n_evaluations
    lines = _lines(caplog, "fit")
    assert any(" eval done after " in ln and "χ² = " in ln for ln in lines), lines
    assert lines[0].startswith("fit: 3 free parameters")
    # the model builds inside the fit are nested: DEBUG only, so the fit's own lines stay readable
    msgs = [r.getMessage() for r in caplog.records if r.name == "rixsim.progress" and r.levelno == logging.INFO]
    first = msgs.index(lines[0])
    last = max(i for i, ln in enumerate(msgs) if ln.startswith("fit (Poisson stage): all "))
    assert not [ln for ln in msgs[first:last] if ln.startswith("Ni2+ ")]


def test_a_model_build_logs_its_sectors(no_terminal):
    made, caplog = no_terminal
    m = rixsim.atomic_model("Co2+", tendq=0.9)
    m.transitions()
    sectors = {c.desc: c for c in made if c.desc.startswith("Co2+ ") and c.desc.endswith(" sector")}
    assert set(sectors) == {"Co2+ initial sector", "Co2+ core-excited sector"}
    for c in sectors.values():
        assert c.total >= 1 and c.n == c.total                      # every symmetry block counted
    lines = _lines(caplog, "Co2+ ")
    assert any("sector: " in ln and " blocks done after " in ln for ln in lines), lines


def test_a_counter_logs_while_one_long_step_runs(monkeypatch, caplog):
    """Lines come from a timer, so one long step (a diagonalisation, a first compilation) is not silent."""
    monkeypatch.setenv("RIXSIM_PROGRESS", "0")
    monkeypatch.setenv("RIXSIM_PROGRESS_INTERVAL", "0.02")
    with caplog.at_level(logging.INFO, logger="rixsim.progress"), \
            rprogress.counter("build", unit="blocks", start="on 10 determinants"):
        time.sleep(0.15)                                   # no update() at all
    lines = [r.getMessage() for r in caplog.records if r.name == "rixsim.progress"]
    assert lines[0] == "build: on 10 determinants"
    assert sum(ln.startswith("build: running for ") for ln in lines) >= 2, lines
    assert lines[-1].startswith("build: all 0 blocks done")


def test_nested_work_is_debug_only_and_the_timer_stops(monkeypatch, caplog):
    import threading
    monkeypatch.setenv("RIXSIM_PROGRESS", "0")
    monkeypatch.setenv("RIXSIM_PROGRESS_INTERVAL", "0.01")
    with caplog.at_level(logging.DEBUG, logger="rixsim.progress"), rprogress.counter("outer", total=1, start="go"), \
            rprogress.counter("inner", total=2, start="go") as inner:
        time.sleep(0.05)
        inner.update(2)
    inner_records = [r for r in caplog.records if r.getMessage().startswith("inner")]
    assert inner_records and all(r.levelno == logging.DEBUG for r in inner_records)
    time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name in ("rixsim.progress outer", "rixsim.progress inner")]
    assert list(rprogress.progress(iter([1, 2]), desc="x")) == [1, 2]
    with caplog.at_level(logging.DEBUG, logger="rixsim.progress"), rprogress.counter("after", total=1, start="go"):
        pass                                                  # depth is back to 0: INFO again
    assert [r.levelno for r in caplog.records if r.getMessage() == "after: go"] == [logging.INFO]


def test_the_cli_says_it_started_before_the_numerical_modules_load(tmp_path):
    """The first line on stderr comes before numba is imported (its first compilation can take a minute)."""
    import subprocess
    import sys
    import textwrap
    model = tmp_path / "ni.toml"
    model.write_text("[model]\nion = 'Ni2+'\ntendq = 1.0\n")
    code = textwrap.dedent("""
        import sys
        from rixsim.interfaces import cli
        real = cli._starting

        def compiled():     # numba kernels compiled or loaded from the cache so far
            from numba.core.dispatcher import Dispatcher
            return sum(len(f.signatures) for name, mod in list(sys.modules.items()) if name.startswith("rixsim")
                       for f in vars(mod).values() if isinstance(f, Dispatcher))

        def spy(cmd):
            real(cmd)
            sys.stderr.write("kernels compiled: %d\\n" % compiled())
        cli._starting = spy
        code = cli.main(sys.argv[1:])
        sys.stderr.write("kernels compiled at the end: %d\\n" % compiled())
        sys.exit(code)
    """)
    proc = subprocess.run([sys.executable, "-c", code, "xas", str(model), "--no-plot", "-o", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("rixsim xas: starting"), proc.stderr
    assert lines[1] == "kernels compiled: 0", proc.stderr
    assert int(lines[-1].split(": ")[1]) > 0, proc.stderr        # the spy sees compiled kernels


def test_a_measured_fit_logs_evaluations_and_chi2(no_terminal, monkeypatch):
    from rixsim.analysis.measured import (
        ClusterAbsorption,
        DetectionChannel,
        MeasuredModel,
        MeasuredScan,
        SampleSpec,
        fit_measured,
    )
    from rixsim.results import Spectrum
    made, caplog = no_terminal
    e = np.linspace(846.0, 878.0, 129)
    sample = SampleSpec("NiO", 6.67, "Ni", thickness_nm=120.0, packing=0.6, incidence_deg=50.0, exit_deg=30.0)
    model = MeasuredModel(ClusterAbsorption("Ni2+"), {"tey": DetectionChannel("TEY")}, sample=sample)
    truth = {"tendq": 1.1, "white_line_area": 14.0, "step_height": 1.2, "tey_scale": 2.0e5, "tey_bg0": 400.0,
             "tey_bg1": 50.0}
    y = np.random.default_rng(2).poisson(model.predict(e, truth)["tey"].intensity).astype(float)
    real_yields = MeasuredModel._yields

    def slow_yields(self, *args, **kwargs):       # ≥ 5 ms an evaluation: the 1 ms timer fires while n > 0 even
        time.sleep(0.005)                         # when the fit itself is faster than a thread switch
        return real_yields(self, *args, **kwargs)
    monkeypatch.setattr(MeasuredModel, "_yields", slow_yields)
    res = fit_measured(MeasuredScan({"tey": Spectrum(e, y)}), model, start=truth, vary=["white_line_area"],
                       sigma="poisson")
    fits = [c for c in made if c.desc.startswith("measured fit")]
    assert [c.desc for c in fits] == ["measured fit", "measured fit (Poisson stage)"]
    assert 0 < sum(c.n for c in fits) <= res.n_evaluations
    lines = _lines(caplog, "measured fit")
    assert lines[0].startswith("measured fit: ") and "free parameters, 129 points in 1 data sets" in lines[0]
    assert any(" eval done after " in ln and "χ² = " in ln for ln in lines), lines


def test_a_serial_sweep_logs_points_and_its_maps_stay_quiet(no_terminal):
    from rixsim.interfaces.sweep import sweep
    made, caplog = no_terminal
    tr = rixsim.atomic_model("Ni2+", tendq=1.0).transitions(10.0)

    def one_map(fwhm):
        time.sleep(0.005)
        return rixsim.rixs_map(tr, np.linspace(850.0, 858.0, 20), loss=np.linspace(-0.5, 4.0, 50),
                               resolution_fwhm=fwhm)
    sweep(one_map, {"fwhm": [0.1, 0.2, 0.3, 0.4]})
    (c,) = [c for c in made if c.desc == "sweep"]
    assert c.total == 4 and c.n == 4
    assert any("/4 point done after" in ln for ln in _lines(caplog, "sweep: "))
    assert not _lines(caplog, "RIXS map")                 # nested in the sweep: DEBUG only


def test_lanczos_xas_counts_its_continued_fractions(no_terminal):
    made, caplog = no_terminal
    m = rixsim.atomic_model("Ni2+", tendq=1.0)
    rixsim.xas(m, np.arange(845.0, 880.0, 0.05), method="lanczos", temperature_k=0.0)
    (c,) = [c for c in made if c.desc == "Lanczos XAS"]
    assert c.total == c.n >= 3                             # ≥ 1 ground state × 3 polarisation components
    assert _lines(caplog, "Lanczos XAS: ")[0].startswith("Lanczos XAS: ")

"""Memory is planned before it is spent (rixsim.memory): the planner refuses naming the size and the budget, the
budget follows ``memory_gb``, ``RIXSIM_MEMORY_GB`` or the available memory, and XAS, line broadening and the
emission grid of ``rixs_map`` consult it before they allocate."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import rixsim
from rixsim import memory
from rixsim.cluster.transitions import EdgeTransitions
from rixsim.errors import InputError, MemoryBudgetError
from rixsim.spectroscopy import broadening
from rixsim.spectroscopy.rixs import rixs_map


def synthetic_transitions(n_intermediate=3000, seed=0) -> EdgeTransitions:
    """One ground state and many core-excited states over 20 eV: thousands of XAS lines, built in microseconds."""
    rng = np.random.default_rng(seed)
    em = np.sort(rng.uniform(-5.0, 15.0, n_intermediate))
    return EdgeTransitions(np.zeros(1), np.ones(1), em, np.full(n_intermediate, 0.4),
                           rng.normal(size=(3, n_intermediate, 1)), edge_offset=850.0)


# ---------------------------------------------------------------------------------------------- planner
def test_plan_grants_what_fits_and_refuses_naming_both_sizes():
    assert memory.plan(1e6, "a small array", memory_gb=1) == 10**6
    with pytest.raises(MemoryBudgetError) as info:
        memory.plan(11.7e9, "XAS of 1000000 energies", memory_gb=2)
    text = str(info.value)
    assert "XAS of 1000000 energies" in text and "11.7 GB" in text and "2 GB" in text and "memory_gb=2" in text
    assert isinstance(info.value, InputError) and isinstance(info.value, MemoryError)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "1", True, None, [1]])
def test_a_bad_budget_is_refused(bad):
    if bad is None:          # None means "the default budget"
        assert memory.plan(1, "x", memory_gb=None) == 1
        return
    with pytest.raises(InputError, match="memory_gb"):
        memory.plan(1, "x", memory_gb=bad)


def test_default_budget_comes_from_available_memory(monkeypatch):
    monkeypatch.delenv("RIXSIM_MEMORY_GB", raising=False)
    monkeypatch.setattr(memory, "_available_bytes", lambda: 10 * 10**9)
    assert memory.default_budget_bytes() == (8 * 10**9, "80% of available memory")
    with pytest.raises(MemoryBudgetError, match="8 GB"):
        memory.plan(9e9, "x")
    monkeypatch.setattr(memory, "_available_bytes", lambda: None)
    assert memory.default_budget_bytes()[0] == 4 * 10**9


def test_the_real_default_budget_is_positive_and_below_the_physical_memory():
    import os
    n, source = memory.default_budget_bytes()
    phys = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < n <= phys


def test_environment_budget(monkeypatch):
    monkeypatch.setenv("RIXSIM_MEMORY_GB", "0.5")
    assert memory.default_budget_bytes() == (5 * 10**8, "RIXSIM_MEMORY_GB=0.5")
    monkeypatch.setenv("RIXSIM_MEMORY_GB", "lots")
    with pytest.raises(InputError, match="RIXSIM_MEMORY_GB.*'lots'"):
        memory.default_budget_bytes()


def test_chunk_size_fits_the_working_set_and_refuses_one_item_too_large():
    assert memory.chunk_size(1e6, 10_000, "x", memory_gb=100) == memory.WORKING_SET_BYTES // 10**6
    assert memory.chunk_size(1e6, 10, "x", memory_gb=100) == 10
    assert memory.chunk_size(1e6, 10_000, "x", memory_gb=100, target_bytes=float("inf")) == 10_000
    assert memory.chunk_size(1e9, 10, "x", memory_gb=100) == 1        # one item larger than the working set
    with pytest.raises(MemoryBudgetError, match="2 GB"):
        memory.chunk_size(2e9, 10, "x", memory_gb=1)


# -------------------------------------------------------------------------------------------- XAS
def test_xas_of_a_million_points_over_the_budget_is_refused_before_work():
    tr = synthetic_transitions(50)
    t0 = time.perf_counter()
    with pytest.raises(MemoryBudgetError) as info:
        rixsim.xas(tr, np.linspace(840.0, 880.0, 10**6), memory_gb=0.01)
    assert time.perf_counter() - t0 < 1.0
    assert "1000000 energies" in str(info.value) and "memory_gb=0.01" in str(info.value)


def test_xas_honours_the_environment_budget(monkeypatch):
    monkeypatch.setenv("RIXSIM_MEMORY_GB", "0.01")
    with pytest.raises(MemoryBudgetError, match="RIXSIM_MEMORY_GB=0.01"):
        rixsim.xas(synthetic_transitions(50), np.linspace(840.0, 880.0, 10**6))


def test_chunked_broadening_is_exact(monkeypatch):
    tr = synthetic_transitions(400)
    axis = np.linspace(840.0, 870.0, 3000)
    ref = rixsim.xas(tr, axis, gauss_fwhm=0.2).intensity
    monkeypatch.setattr(memory, "WORKING_SET_BYTES", 32 * axis.size * 7)      # 7 lines per piece
    sizes = []
    real = broadening.stick_matrix
    monkeypatch.setattr(broadening, "stick_matrix", lambda *a, **k: sizes.append(len(a[1])) or real(*a, **k))
    got = rixsim.xas(tr, axis, gauss_fwhm=0.2).intensity
    assert max(sizes) <= 7 and len(sizes) >= 400 // 7 and sum(sizes) > 390
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)


def test_xas_with_thousands_of_lines_on_a_long_axis_stays_within_its_working_set():
    """Before the planner this took chunk (4096) × n_axis × 4 temporaries: 3000 lines × 50 000 energies ≈ 5 GB."""
    code = textwrap.dedent("""
        import resource, sys
        import numpy as np
        sys.path.insert(0, %r)
        from test_memory import synthetic_transitions
        import rixsim
        tr = synthetic_transitions(3000)
        rixsim.xas(tr, np.linspace(840.0, 880.0, 50), gauss_fwhm=0.0)        # warm up imports and kernels
        with open("/proc/self/statm") as fh:
            size = int(fh.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (size + 1_500_000_000, resource.RLIM_INFINITY))
        s = rixsim.xas(tr, np.linspace(840.0, 880.0, 50_000), gauss_fwhm=0.0)
        print(float(np.trapezoid(s.intensity, s.energy)))
    """) % str(__import__("pathlib").Path(__file__).parent)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert float(proc.stdout.split()[-1]) > 0


def test_gaussian_convolution_kernel_is_planned():
    x = np.arange(200_000, dtype=float)
    with pytest.raises(MemoryBudgetError, match="200000²"):
        broadening.gaussian_convolve(x, np.ones_like(x), 1.0)


# ------------------------------------------------------------------------------------------- RIXS maps
@pytest.fixture(scope="module")
def tr_ni():
    return rixsim.atomic_model("Ni2+", tendq=1.0).transitions(10.0)


def test_rixs_emission_grid_far_too_large_is_refused_before_any_allocation(tr_ni):
    exc = np.linspace(850.0, 860.0, 20_000)
    emi = np.linspace(840.0001, 860.0003, 20_011)     # incommensurate: n×n losses before plan_memory
    t0 = time.perf_counter()
    with pytest.raises(MemoryBudgetError) as info:
        rixs_map(tr_ni, exc, emission=emi, memory_gb=1.0)
    assert time.perf_counter() - t0 < 2.0
    text = str(info.value)
    assert "20000 × 20011" in text and "memory_gb=1.0" in text


def test_rixs_memory_gb_is_honoured(tr_ni):
    exc, loss = np.arange(851.0, 857.0, 1.0), np.arange(-1.0, 5.0, 0.1)
    with pytest.raises(MemoryBudgetError, match="memory_gb=1e-06"):
        rixs_map(tr_ni, exc, loss=loss, memory_gb=1e-6)
    a = rixs_map(tr_ni, exc, loss=loss, memory_gb=1.0)
    b = rixs_map(tr_ni, exc, loss=loss, memory_gb=2e-4)       # fits only in smaller pieces
    np.testing.assert_allclose(a.intensity, b.intensity, rtol=1e-10, atol=1e-14)
    assert b.meta["block"] <= a.meta["block"]

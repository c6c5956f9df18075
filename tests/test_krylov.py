"""Krylov Kramers–Heisenberg engine (rixsim.spectroscopy.krylov, rixsim.manybody.shifted): solvers against
direct linear algebra, maps against the dense engine, convergence with the Krylov size, memory planning."""
import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp

from rixsim.cluster.model import atomic_model, cluster_model
from rixsim.errors import InputError
from rixsim.manybody.buildplan import estimate_build
from rixsim.manybody.shifted import (
    ComplexSymmetricOperator,
    apply_real,
    lanczos_broadened,
    lanczos_quadrature,
    shifted_lanczos,
    shifted_lanczos_block,
)
from rixsim.spectroscopy.geometry import ScatteringGeometry
from rixsim.spectroscopy.krylov import (
    KrylovOptions,
    check_build,
    initial_states,
    plan_krylov,
)
from rixsim.spectroscopy.rixs import rixs_map
from rixsim.spectroscopy.xas import xas


# ------------------------------------------------------------------------------------------ solvers
def _sparse_symmetric(n, seed=0, cut=1.5):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n))
    h = (a + a.T) / 2
    h[np.abs(h) < cut] = 0.0
    return sp.csr_matrix(h), h, rng


@pytest.mark.parametrize("store,reorth", [(True, True), (True, False), (False, False)])
def test_shifted_lanczos_hermitian_solves_every_shift(store, reorth):
    hs, h, rng = _sparse_symmetric(200)
    b = rng.normal(size=200) + 1j * rng.normal(size=200)
    shifts = np.linspace(-4, 4, 9) + 0.3j
    sol = shifted_lanczos(hs, b, shifts, tol=1e-10, max_iter=3000, store=store, reorthogonalize=reorth)
    ref = np.array([np.linalg.solve(s * np.eye(200) - h, b) for s in shifts])
    assert sol.converged
    assert sol.residual.max() < 1e-9
    assert np.abs(sol.x - ref).max() < 1e-8 * np.abs(ref).max()


@pytest.mark.parametrize("store", [True, False])
def test_shifted_lanczos_complex_symmetric_width_operator(store):
    hs, h, rng = _sparse_symmetric(150, seed=1)
    noise = rng.normal(size=(150, 150))
    g = sp.csr_matrix(np.diag(rng.uniform(0.2, 0.8, 150)) + 0.05 * (noise + noise.T))
    a = ComplexSymmetricOperator(hs, g)
    b = rng.normal(size=150)
    shifts = np.linspace(-3, 3, 7)
    sol = shifted_lanczos(a, b, shifts, bilinear=True, tol=1e-10, max_iter=3000, store=store)
    ref = np.array([np.linalg.solve(s * np.eye(150) - h + 0.5j * g.toarray(), b) for s in shifts])
    assert sol.residual.max() < 1e-9
    assert np.abs(sol.x - ref).max() < 1e-8 * np.abs(ref).max()


def test_shifted_residual_is_true_and_falls_as_the_space_grows():
    hs, h, rng = _sparse_symmetric(300, seed=2)
    b = rng.normal(size=300)
    shifts = np.linspace(-5, 5, 5) + 0.2j
    res = []
    for k in (20, 60, 120, 300):
        sol = shifted_lanczos(hs, b, shifts, max_iter=k, tol=1e-14, store=True, reorthogonalize=True)
        true = [np.linalg.norm(b - (s * sol.x[j] - h @ sol.x[j])) / np.linalg.norm(b) for j, s in enumerate(shifts)]
        np.testing.assert_allclose(sol.residual, true, rtol=1e-8, atol=1e-15)
        res.append(sol.residual.max())
    assert res[0] > res[1] > res[2] > res[3]
    assert res[-1] < 1e-10 and res[0] > 1e-2


def test_apply_real_equals_complex_product():
    hs, h, rng = _sparse_symmetric(50)
    x = rng.normal(size=(50, 3)) + 1j * rng.normal(size=(50, 3))
    np.testing.assert_allclose(apply_real(hs, x), h @ x, atol=1e-12)
    np.testing.assert_allclose(apply_real(hs, x[:, 0].copy()), h @ x[:, 0], atol=1e-12)


def test_lanczos_quadrature_gives_exact_broadened_spectra_and_a_valid_bound():
    hs, h, rng = _sparse_symmetric(250, seed=3)
    v = rng.normal(size=(250, 4))
    w, u = np.linalg.eigh(h)
    x = np.linspace(w[0] - 1, w[0] + 8, 80)
    eta = 0.1

    def lor(pos):
        return eta / np.pi / ((x[None, :] - pos[:, None]) ** 2 + eta**2)

    for max_iter, tol in ((30, 0.0), (3000, 1e-12)):
        q = lanczos_quadrature(hs, v, probes=x, eta=eta, max_iter=max_iter, tol=max(tol, 1e-300))
        for c in range(4):
            exact = ((u.T @ v[:, c]) ** 2) @ lor(w)
            approx = q.weights[c] @ lor(q.nodes[c])
            err = np.abs(exact - approx).max()
            # a-posteriori bound: |ΔS| ≤ bound · ‖v‖²/(π η)
            assert err <= 1.001 * q.bound[c] * (v[:, c] @ v[:, c]) / (np.pi * eta) + 1e-12
            if max_iter > 1000:
                assert err < 1e-9 * exact.max()
        np.testing.assert_allclose([wc.sum() for wc in q.weights], (v**2).sum(axis=0), rtol=1e-10)


@pytest.mark.parametrize("store", [True, False])
def test_shifted_lanczos_block_solves_every_start_vector_and_shift(store):
    hs, h, rng = _sparse_symmetric(200, seed=4)
    noise = rng.normal(size=(200, 200))
    g = np.diag(rng.uniform(0.2, 0.8, 200)) + 0.05 * (noise + noise.T)
    b = rng.normal(size=(200, 3))
    for a, bilinear, shifts in ((hs, False, np.array([np.linspace(-4, 4, 5) + 0.3j + c for c in range(3)])),
                                (sp.csr_matrix(h - 0.5j * g), True, np.array([np.linspace(-3, 3, 4) + 0.1 * c
                                                                              for c in range(3)]))):
        sols = shifted_lanczos_block(a, b, shifts, bilinear=bilinear, tol=1e-10, max_iter=3000, store=store)
        dense = a.toarray()
        for c, sol in enumerate(sols):
            ref = np.array([np.linalg.solve(s * np.eye(200) - dense, b[:, c]) for s in shifts[c]])
            assert sol.converged and sol.residual.max() < 1e-9
            assert np.abs(sol.x - ref).max() < 1e-8 * np.abs(ref).max()


PARALLEL_PROBE = """
import numpy as np, scipy.sparse as sp, numba
from rixsim.manybody import _krylov_kernels as kk, shifted
rng = np.random.default_rng(3)
a = sp.random(400, 400, density=0.05, format="csr", random_state=4) + sp.eye(400)
x = rng.normal(size=(400, 6))
parts = shifted._csr_parts(a)
assert shifted._kernels()[0] is kk.csr_spmm_parallel
out = np.empty_like(x)
shifted._kernels()[0](*parts, x, out)
assert np.abs(out - a @ x).max() < 1e-12
al, be = rng.normal(size=(40, 3)), rng.uniform(0.1, 1.0, size=(40, 3))
n1, w1, n2, w2 = (np.zeros((40, 3)) for _ in range(4))
kk.gauss_quadrature(al, be, np.array([40, 7, 1]), n1, w1)
kk.gauss_quadrature_parallel(al, be, np.array([40, 7, 1]), n2, w2)
assert np.array_equal(n1, n2) and np.array_equal(w1, w2)
print(numba.threading_layer())
"""


def test_parallel_kernels_really_run_in_parallel():
    """``RIXSIM_KRYLOV_THREADS=2`` selects ``parallel=True`` compilations that start numba's threading layer
    (they used to share the serial kernels' cache entry and ran on one thread) and equal the serial ones."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, RIXSIM_KRYLOV_THREADS="2")
    run = subprocess.run([sys.executable, "-c", PARALLEL_PROBE], env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() in ("omp", "tbb", "workqueue"), run.stdout


def test_gauss_quadrature_kernel_equals_lapack():
    from scipy.linalg import eigh_tridiagonal

    from rixsim.manybody import _krylov_kernels as kk
    rng = np.random.default_rng(5)
    alphas, betas = rng.normal(size=(120, 5)), rng.uniform(0.1, 1.5, size=(120, 5))
    ks = np.array([120, 1, 2, 37, 119])
    nodes, weights = np.zeros((120, 5)), np.zeros((120, 5))
    kk.gauss_quadrature(alphas, betas, ks, nodes, weights)
    for c, k in enumerate(ks):
        th, s = (alphas[:1, c], np.ones((1, 1))) if k == 1 else eigh_tridiagonal(alphas[:k, c], betas[:k - 1, c])
        order = np.argsort(nodes[:k, c])
        np.testing.assert_allclose(nodes[:k, c][order], th, atol=1e-12)
        np.testing.assert_allclose(weights[:k, c][order], s[0] ** 2, atol=1e-12)


def test_lanczos_broadened_converges_to_the_exact_voigt_spectrum():
    """Stopping on the broadened spectrum: a looser tolerance stops earlier, the spectra converge to the
    exact (eigendecomposition) Voigt spectrum, and a Gaussian width lets the recursion stop earlier."""
    from rixsim.spectroscopy.broadening import broaden_sticks
    hs, h, rng = _sparse_symmetric(400, seed=6)
    v = rng.normal(size=(400, 3))
    w, u = np.linalg.eigh(h)
    x = np.linspace(w[0] + 1, w[-1] - 1, 150)
    errs, steps = [], []
    for tol in (1e-2, 1e-5, 1e-9):
        q = lanczos_broadened(hs, v, probes=x, lorentz_fwhm=0.1, gauss_fwhm=0.3, max_iter=3000, tol=tol)
        err = 0.0
        for c in range(3):
            exact = broaden_sticks(x, w, (u.T @ v[:, c]) ** 2, 0.1, 0.3)
            approx = broaden_sticks(x, q.nodes[c], q.weights[c], 0.1, 0.3)
            err = max(err, np.abs(approx - exact).max() / exact.max())
        errs.append(err)
        steps.append(q.n_iter.max())
        assert q.bound.max() <= tol
    # the error follows the tolerance until round-off (the measure of 400 states is then exact)
    assert errs[0] > 1e-2 * 1e-2 and errs[0] > 1e3 * errs[1] and max(errs[1:]) < 1e-8, errs
    assert steps[0] < steps[1] <= steps[2], steps
    lor = lanczos_broadened(hs, v, probes=x, lorentz_fwhm=0.1, gauss_fwhm=0.0, max_iter=3000, tol=1e-2)
    assert lor.n_iter.max() > steps[0], (lor.n_iter.max(), steps)


# ---------------------------------------------------------------------------------- maps vs dense
def _compare(model, exc, temperature_k=300.0, **kw):
    kw.setdefault("loss", np.linspace(-0.5, 6.0, 60))
    d = rixs_map(model, exc, method="dense", temperature_k=temperature_k, margin_fwhm=None, **kw)
    k = rixs_map(model, exc, method="krylov", temperature_k=temperature_k, margin_fwhm=None, **kw)
    assert d.meta["method"] == "dense" and k.meta["method"] == "krylov"
    assert k.intensity.shape == d.intensity.shape
    scale = np.abs(d.intensity).max()
    return np.abs(k.intensity - d.intensity).max() / scale, d, k


NI_EXC = np.linspace(850.0, 858.0, 9)
GEOMETRIES = {
    "isotropic": {},
    "pi-90": {"geometry": ScatteringGeometry(90.0, "pi")},
    "powder-sigma": {"geometry": ScatteringGeometry(60.0, "sigma"), "powder": True},
    "circular-rotated": {"geometry": ScatteringGeometry(
        120.0, "circular+", sample_rotation=np.array([[0.6, -0.8, 0], [0.8, 0.6, 0], [0, 0, 1.0]]))},
}


@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_krylov_equals_dense_atomic_ni2(name):
    model = atomic_model("Ni2+", tendq=1.1, l3_fwhm=0.4, l2_fwhm=0.4)
    err, d, k = _compare(model, NI_EXC, **GEOMETRIES[name])
    assert err < 1e-6
    np.testing.assert_allclose(k.elastic, d.elastic, atol=1e-6 * np.abs(d.intensity).max())
    assert k.meta["residual_max"] < KrylovOptions().tol and k.meta["initial_residual_max"] < 1e-8


def test_krylov_equals_dense_on_an_emission_axis_at_0k():
    model = atomic_model("Ni2+", tendq=1.1, l3_fwhm=0.4, l2_fwhm=0.4)
    err, _, _ = _compare(model, NI_EXC, temperature_k=0.0, loss=None, emission=np.arange(845.0, 858.0, 0.1),
                         geometry=ScatteringGeometry(90.0, "pi"))
    assert err < 1e-6


def test_krylov_equals_dense_charge_transfer_powder():
    model = cluster_model("Ni2+", delta=4.0, udd=7.0, upd=8.5, veg=2.2, tendq=0.7, l3_fwhm=0.4, l2_fwhm=0.4)
    err, _, k = _compare(model, NI_EXC, loss=np.linspace(-0.5, 8.0, 60),
                         geometry=ScatteringGeometry(90.0, "sigma"), powder=True)
    assert err < 1e-6
    assert k.meta["final_bound_max"] <= KrylovOptions().final_tol


@pytest.mark.slow
def test_krylov_equals_dense_atomic_mn2_powder():
    model = atomic_model("Mn2+", tendq=0.9, l3_fwhm=0.3, l2_fwhm=0.3)
    err, _, k = _compare(model, np.linspace(638.0, 645.0, 6), geometry=ScatteringGeometry(90.0, "pi"),
                         powder=True)
    assert err < 1e-6
    assert k.meta["n_initial"] == 6                     # the ⁶A₁ manifold, complete


@pytest.mark.parametrize("ion,exc,limit", [("Ni2+", NI_EXC, 3e-4),
                                           pytest.param("Mn2+", np.linspace(638.0, 645.0, 6), 1e-3,
                                                        marks=pytest.mark.slow)])
def test_width_operator_against_dense_per_state_widths(ion, exc, limit):
    """Distinct L3/L2 widths: Γ̂ (operator, off-diagonal elements kept) vs the dense engine's diagonal widths."""
    model = atomic_model(ion, tendq=1.0)
    assert model.l3_fwhm != model.l2_fwhm
    err, _, k = _compare(model, exc, geometry=ScatteringGeometry(90.0, "pi"), powder=True)
    assert k.meta["core_width"] == "operator"
    assert err < limit
    # a single width instead is a much worse approximation in the L2 region
    one = rixs_map(model, exc, method="krylov", temperature_k=300.0, margin_fwhm=None,
                   loss=np.linspace(-0.5, 6.0, 60), geometry=ScatteringGeometry(90.0, "pi"), powder=True,
                   krylov=KrylovOptions(core_width="l3"))
    assert one.meta["core_width"] == model.l3_fwhm
    ref = rixs_map(model, exc, method="dense", temperature_k=300.0, margin_fwhm=None, loss=np.linspace(-0.5, 6.0, 60),
                   geometry=ScatteringGeometry(90.0, "pi"), powder=True).intensity
    assert np.abs(one.intensity - ref).max() / np.abs(ref).max() > err


def test_map_converges_as_the_krylov_size_grows():
    model = cluster_model("Ni2+", delta=4.0, udd=7.0, upd=8.5, veg=2.2, tendq=0.7, l3_fwhm=0.4, l2_fwhm=0.4)
    kw = {"loss": np.linspace(-0.5, 8.0, 40), "geometry": ScatteringGeometry(90.0, "pi"), "temperature_k": 0.0,
              "margin_fwhm": None}
    ref = rixs_map(model, NI_EXC, method="dense", **kw).intensity
    res, errs = [], []
    for k in (5, 15, 30, 200):
        m = rixs_map(model, NI_EXC, method="krylov", krylov=KrylovOptions(max_intermediate=k, tol=1e-12), **kw)
        res.append(m.meta["residual_max"])
        errs.append(np.abs(m.intensity - ref).max() / np.abs(ref).max())
    assert all(a > b for a, b in itertools.pairwise(res)), res
    assert res[0] > 1e-3 and res[-1] < 1e-10
    assert errs[0] > 1e-3 and errs[-1] < 1e-8
    # the final-state side: a short Lanczos reports a large bound, a long one a tiny one
    short = rixs_map(model, NI_EXC, method="krylov", krylov=KrylovOptions(max_final=4), **kw)
    assert short.meta["final_bound_max"] > 1e-3
    assert np.abs(short.intensity - ref).max() / np.abs(ref).max() > 1e-4


# ------------------------------------------------------------------------------------- the API
def test_auto_takes_dense_for_small_models_and_krylov_needs_a_model():
    model = atomic_model("Ni2+", tendq=1.1)
    m = rixs_map(model, NI_EXC[:2], loss=np.linspace(0, 3, 10))
    assert m.meta["method"] == "dense"
    tr = model.transitions()
    with pytest.raises(InputError, match="need a model"):
        rixs_map(tr, NI_EXC[:2], loss=np.linspace(0, 3, 10), method="krylov")
    with pytest.raises(InputError, match="method must be"):
        rixs_map(model, NI_EXC[:2], loss=np.linspace(0, 3, 10), method="lanczos")
    with pytest.raises(InputError, match="core_width"):
        KrylovOptions(core_width="wide")
    with pytest.raises(InputError, match="max_final"):
        KrylovOptions(max_final=0)


def test_executor_gives_the_local_result_exactly():
    model = atomic_model("Ni2+", tendq=1.1)
    kw = {"loss": np.linspace(-0.5, 5.0, 30), "method": "krylov", "temperature_k": 300.0, "powder": True,
              "geometry": ScatteringGeometry(90.0, "pi"), "krylov": KrylovOptions(omega_block=3)}
    local = rixs_map(model, NI_EXC, **kw)
    with ThreadPoolExecutor(2) as ex:
        par = rixs_map(model, NI_EXC, executor=ex, **kw)
    assert np.array_equal(local.intensity, par.intensity)
    assert np.array_equal(local.elastic, par.elastic)


def test_dask_local_cluster_gives_the_local_result_exactly():
    """Item 5 of issue 13: the incident-energy blocks of one map on a dask.distributed cluster (the executor
    the sweep machinery takes) — bit-identical to the local run."""
    distributed = pytest.importorskip("dask.distributed")
    model = cluster_model("Ni2+", delta=4.0, udd=7.0, upd=8.5, veg=2.2, tendq=0.7)
    kw = {"loss": np.linspace(-0.5, 6.0, 30), "method": "krylov", "temperature_k": 300.0,
              "geometry": ScatteringGeometry(90.0, "sigma"), "krylov": KrylovOptions(omega_block=2)}
    local = rixs_map(model, NI_EXC[:6], **kw)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as lc, \
            distributed.Client(lc) as client:
        par = rixs_map(model, NI_EXC[:6], executor=client, **kw)
    assert np.array_equal(local.intensity, par.intensity)
    assert np.array_equal(local.elastic, par.elastic)
    assert local.meta["omega_block"] == 2


class _MapOnly:
    """An executor with only ``map`` (like ``multiprocessing.Pool``)."""

    def map(self, fn, items):
        return map(fn, items)


def test_map_only_executor_gives_the_local_result():
    model = atomic_model("Ni2+", tendq=1.1)
    kw = {"loss": np.linspace(-0.5, 5.0, 20), "method": "krylov", "krylov": KrylovOptions(omega_block=4)}
    assert np.array_equal(rixs_map(model, NI_EXC, **kw).intensity,
                          rixs_map(model, NI_EXC, executor=_MapOnly(), **kw).intensity)


def test_initial_states_are_complete_with_residuals():
    model = atomic_model("Mn2+", tendq=0.9)
    ini = initial_states(model, 300.0)
    assert ini.energies.size == 6 and ini.residuals.max() < 1e-9
    np.testing.assert_allclose(ini.weights.sum(), 1.0)


def test_initial_states_complete_a_degenerate_quartet_of_a_large_sector():
    """Mn4+ d3+d4L+d5L2 (13 560 initial states, ARPACK path): the ⁴A₂ ground state is the Γ₈ quartet of the
    cubic double group — four exactly degenerate states (one per 2J_z mod 8 block); ARPACK on the whole sector
    finds only some of them, the per-block solve all four."""
    model = cluster_model("Mn4+", tendq=1.5, n_ligand_holes=2, delta=3.0, udd=6.0, upd=7.5, veg=2.5)
    ini = initial_states(model, 300.0)
    assert ini.energies.size == 4
    assert np.ptp(ini.energies) < 1e-9 and ini.residuals.max() < 1e-8
    np.testing.assert_allclose(ini.weights, 0.25)
    # orthonormal
    np.testing.assert_allclose(ini.vectors.conj().T @ ini.vectors, np.eye(4), atol=1e-10)


# ------------------------------------------------------------------------------------------ memory
def test_build_estimate_predicts_the_terms_and_the_peak_memory():
    import tracemalloc
    model = cluster_model("Ni2+", delta=4.0, udd=7.0, upd=8.5, veg=2.2, tendq=0.7)
    args = model.sector_terms(True)[:3]
    exact = estimate_build(*args, sample=10**9)
    sampled = estimate_build(*args, sample=60)
    assert abs(sampled.two_body_terms - exact.two_body_terms) < 0.2 * exact.two_body_terms
    tracemalloc.start()
    _, h = model.hamiltonian(True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert h.nnz <= exact.nnz
    assert peak <= exact.peak_bytes <= 4 * peak, (peak, exact.peak_bytes)
    with pytest.raises(InputError, match="memory_gb=1e-06 is too small"):
        check_build(model.with_parameters(), memory_gb=1e-6)


def test_plan_refuses_a_budget_it_cannot_meet_and_blocks_incident_energies():
    opts = KrylovOptions()
    with pytest.raises(InputError, match="too small for this Krylov map"):
        plan_krylov(159480, 38760, 4e6, 50, 3, 2, opts, True, memory_gb=0.1)
    plan = plan_krylov(159480, 38760, 4e6, 50, 3, 2, opts, True, memory_gb=8.0)
    assert 1 <= plan.omega_block <= 50 and plan.total <= 8e9
    small = plan_krylov(159480, 38760, 4e6, 50, 3, 2, KrylovOptions(store=False), True, memory_gb=8.0)
    assert not small.store and small.krylov == 0.0


# --------------------------------------------------------------------------------------------- XAS
@pytest.mark.parametrize("pol", ["isotropic", "z", "sigma+"])
@pytest.mark.parametrize("gauss", [0.0, 0.3])
def test_krylov_xas_equals_dense(pol, gauss):
    model = cluster_model("Ni2+", delta=4.0, udd=7.0, upd=8.5, veg=2.2, tendq=0.7, l3_fwhm=0.4, l2_fwhm=0.4)
    e = np.linspace(845.0, 880.0, 500)
    d = xas(model, e, pol, temperature_k=300.0, gauss_fwhm=gauss, method="dense").intensity
    k = xas(model, e, pol, temperature_k=300.0, gauss_fwhm=gauss, method="krylov")
    assert k.meta["method"] == "krylov" and k.meta["residual_max"] < KrylovOptions().tol
    assert np.abs(k.intensity - d).max() < 1e-6 * d.max()


def test_krylov_xas_width_operator_against_dense_per_state_widths():
    model = cluster_model("Ni2+", delta=4.0, udd=7.0, upd=8.5, veg=2.2, tendq=0.7)
    e = np.linspace(845.0, 880.0, 500)
    d = xas(model, e, temperature_k=300.0, method="dense").intensity
    k = xas(model, e, temperature_k=300.0, method="krylov").intensity
    assert np.abs(k - d).max() < 1e-4 * d.max()
    # the area (sum rule (10 − n)/3 in the dense engine's normalisation) is the same
    assert abs(np.trapezoid(k, e) - np.trapezoid(d, e)) < 1e-3 * np.trapezoid(d, e)


def test_gauss_hermite_shifts_give_the_exact_voigt_of_a_lorentzian():
    """The resolvent-side Gaussian (Lanczos XAS, Krylov XAS) against scipy's Voigt profile: a Lorentzian of
    FWHM 0.4 eV convolved with a Gaussian of FWHM 0.3 eV, to 1e-6 of its peak."""
    from scipy.special import voigt_profile

    from rixsim.spectroscopy.broadening import gauss_hermite_shifts
    x = np.linspace(-3.0, 3.0, 601)
    gam = 0.2                                         # Lorentzian HWHM
    s, w = gauss_hermite_shifts(0.3)
    assert w.sum() == pytest.approx(1.0, abs=1e-14)
    approx = sum(wk * (gam / np.pi) / ((x + sk) ** 2 + gam ** 2) for sk, wk in zip(s, w))
    exact = voigt_profile(x, 0.3 / (2 * np.sqrt(2 * np.log(2))), gam)
    assert np.max(np.abs(approx - exact)) < 1e-6 * exact.max()
    s0, w0 = gauss_hermite_shifts(0.0)
    assert s0.tolist() == [0.0] and w0.tolist() == [1.0]

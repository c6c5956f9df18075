"""The Krylov path of the O K edge (rixsim.oxygen.kedge_krylov) against the dense path of rixsim.oxygen.kedge on
clusters where both run, the exact pre-edge sum rule from the Lanczos zeroth moment, and the convergence of
the shifted solves.  The Krylov path builds no new sector (it uses OxygenKEdge.hamiltonian(kind,
diagonalise=False), whose Hermiticity tests/test_oxygen.py checks)."""
import itertools

import numpy as np
import pytest

import rixsim
from rixsim.errors import InputError
from rixsim.oxygen import kedge_krylov
from rixsim.oxygen.kedge import (
    OxygenKEdge,
    lattice_emission,
    lattice_oxygen_map,
    oxygen_k_xas,
)
from rixsim.spectroscopy.krylov import KrylovOptions

NI2 = {"tendq": 0.7, "delta": 6.0, "udd": 7.3, "upd": 8.5, "veg": 2.2}
NI3 = {"tendq": 1.0, "delta": 1.0, "udd": 7.0, "upd": 8.5, "veg": 2.5}
MN4 = {"tendq": 1.5, "delta": 3.0, "udd": 6.0, "upd": 7.5, "veg": 2.5}      # benchmarks/bench_krylov_large.py
XAS_AXIS = np.linspace(524.0, 540.0, 801)


def _edge(ion, holes, params):
    return OxygenKEdge(rixsim.cluster_model(ion, n_ligand_holes=holes, **params))


@pytest.fixture(scope="module")
def mn4():
    return _edge("Mn4+", 1, MN4)


def _rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.mark.parametrize("ion, holes, params, t_k", [("Ni2+", 1, NI2, 300.0), ("Ni2+", 2, NI2, 0.0),
                                                      ("Mn4+", 1, MN4, 300.0)])
def test_krylov_xas_equals_the_dense_xas(ion, holes, params, t_k, mn4):
    edge = mn4 if ion == "Mn4+" else _edge(ion, holes, params)
    dense = oxygen_k_xas(edge, XAS_AXIS, t_k, method="dense")
    kry = oxygen_k_xas(edge, XAS_AXIS, t_k, method="krylov")
    assert kry.meta["method"] == "krylov"
    assert _rel(kry.intensity, dense.intensity) <= 1e-6
    assert kry.meta["ligand_holes"] == pytest.approx(dense.meta["ligand_holes"], rel=1e-10)


def test_degenerate_ground_manifold_at_finite_temperature_is_found_complete(mn4):
    """Mn4+ d3 + d4L: the Γ8 ground quartet lies in four different symmetry blocks; at 300 K only it is
    populated (next states > 30 k_BT up).  Energies, weights and n_L as the dense eigensystem's."""
    edge = mn4
    ini = kedge_krylov.initial_states(edge, 300.0)
    _, _, keep, w_d = edge.initial_states(300.0)
    e_abs = edge.hamiltonian("initial")[2]
    live = w_d > 0
    assert ini.energies.size == int(live.sum()) == 4
    np.testing.assert_allclose(ini.energies, e_abs[keep][live], atol=1e-10)
    np.testing.assert_allclose(ini.weights, w_d[live], atol=1e-12)
    assert ini.residuals.max() < 1e-9
    cw = kedge_krylov.configuration_weights(edge, ini)
    assert cw.sum() == pytest.approx(1.0, abs=1e-12)
    assert cw @ np.arange(cw.size) == pytest.approx(edge.ligand_holes(300.0), rel=1e-10)


def test_pre_edge_zeroth_moment_is_the_ligand_hole_count(mn4):
    """Σ_g p_g Σ_c ‖L†_c s|g⟩‖² = n_L: from the Lanczos quadrature weights, to 1e-10, and equal to the dense
    stick sum."""
    for ion, holes, params, t_k in (("Mn4+", 1, MN4, 0.0), ("Ni3+", 1, NI3, 300.0)):
        edge = mn4 if ion == "Mn4+" else _edge(ion, holes, params)
        kry = kedge_krylov.krylov_oxygen_k_xas(edge, XAS_AXIS, t_k, main_edge=False)
        n_l = kry.meta["ligand_holes"]
        assert 0.05 < n_l < 1.0
        assert kry.meta["pre_edge_weight"] == pytest.approx(n_l, rel=1e-10)
        _, w, e_m, d = edge.absorption_channels(t_k)
        sticks = np.sum(np.abs(d) ** 2, axis=0) * w[None, :]
        assert kry.meta["pre_edge_weight"] == pytest.approx(float(sticks.sum()), rel=1e-10)
        # the first moment is exact too: the centroid of the sticks
        e_i = edge.absorption_channels(t_k)[0]
        pos = edge.edge_offset + e_m[:, None] - e_i[None, :]
        assert kry.meta["pre_edge_centroid"] == pytest.approx(float((sticks * pos).sum() / sticks.sum()), abs=1e-8)


@pytest.mark.parametrize("ion, holes, params, t_k", [("Ni2+", 1, NI2, 0.0), ("Ni2+", 2, NI2, 300.0),
                                                      ("Ni3+", 1, NI3, 100.0)])
def test_krylov_rixs_equals_the_dense_coherent_map(ion, holes, params, t_k):
    """The coherent cluster part (fluorescence_weight 0) at incident energies across the pre-edge; Ni3+ at
    100 K has a degenerate (Kramers) ground doublet and thermally populated states from 52 meV up."""
    edge = _edge(ion, holes, params)
    xas = oxygen_k_xas(edge, XAS_AXIS, t_k, method="dense", main_edge=False)
    peak = XAS_AXIS[np.argmax(xas.intensity)]
    exc = np.array([peak - 0.6, peak, peak + 1.0]) if ion == "Ni2+" else np.array([peak - 0.6, peak])
    emi = np.arange(peak - 16.0, peak + 1.5, 0.02)
    dense = lattice_oxygen_map(edge, exc, emi, t_k, fluorescence_weight=0.0, method="dense")
    kry = lattice_oxygen_map(edge, exc, emi, t_k, fluorescence_weight=0.0, method="krylov")
    assert kry.meta["method"] == "krylov" and kry.meta["residual_max"] < 1e-6
    for k in range(exc.size):
        assert _rel(kry.intensity[k], dense.intensity[k]) <= 1e-6
        assert _rel(kry.elastic[k], dense.elastic[k]) <= 1e-6
    populated = int(np.count_nonzero(edge.absorption_channels(t_k)[1]))
    assert kry.meta["n_initial"] == populated
    if ion == "Ni3+":
        assert populated > 2


def test_full_map_with_the_normal_emission_band_equals_dense():
    edge = _edge("Ni2+", 1, NI2)
    exc = np.array([531.0, 532.0])
    emi = np.arange(518.0, 533.0, 0.05)
    dense = lattice_oxygen_map(edge, exc, emi, 300.0, method="dense")
    kry = lattice_oxygen_map(edge, exc, emi, 300.0, method="krylov")
    assert _rel(kry.intensity, dense.intensity) <= 1e-6
    band_d = lattice_emission(edge, emi, 300.0, method="dense").intensity
    band_k = lattice_emission(edge, emi, 300.0, method="krylov").intensity
    assert _rel(band_k, band_d) <= 1e-10


def test_shifted_solve_residual_falls_as_the_krylov_space_grows(mn4):
    """The true relative residual of (s − H_m)ψ = T_c|g⟩, recomputed from ψ, against the Krylov size.  The
    Galerkin (FOM) residual need not fall at every step (from 10 to 20 vectors it stalls near 0.77), so the
    sizes are spaced; by 140 vectors it is at rounding level (the run may stop earlier, at tol 1e-14)."""
    edge = mn4
    exc, emi = np.array([528.5, 530.0]), np.arange(526.0, 531.0, 0.05)
    res = []
    for k in (10, 40, 80, 140):
        m = kedge_krylov.krylov_lattice_oxygen_map(
            edge, exc, emi, 0.0, fluorescence_weight=0.0,
            krylov=KrylovOptions(max_intermediate=k, tol=1e-14, max_final=60, check_every=10))
        assert m.meta["krylov_intermediate"] == k or (k == 140 and m.meta["krylov_intermediate"] <= k)
        res.append(m.meta["residual_max"])
    assert all(b < a for a, b in itertools.pairwise(res)), res
    assert res[-2] < 1e-4 * res[0] and res[-1] < 1e-10


def test_auto_switches_to_krylov_above_the_limit(monkeypatch):
    edge = _edge("Ni2+", 1, NI2)
    assert "method" not in oxygen_k_xas(edge, XAS_AXIS, 0.0).meta           # small: dense
    monkeypatch.setattr(kedge_krylov, "OK_DENSE_LIMIT", 10)
    assert oxygen_k_xas(edge, XAS_AXIS, 0.0).meta["method"] == "krylov"


def test_bad_input_is_refused_clearly():
    edge = _edge("Ni2+", 1, NI2)
    with pytest.raises(InputError, match="method"):
        oxygen_k_xas(edge, XAS_AXIS, method="lanczos")
    with pytest.raises(InputError, match="KrylovOptions"):
        kedge_krylov.krylov_oxygen_k_xas(edge, XAS_AXIS, krylov={"tol": 1e-6})
    with pytest.raises(InputError, match="OxygenKEdge"):
        kedge_krylov.krylov_oxygen_k_xas(edge.model, XAS_AXIS)
    with pytest.raises(InputError, match="temperature_k"):
        kedge_krylov.initial_states(edge, -1.0)
    with pytest.raises(InputError, match="memory"):
        kedge_krylov.krylov_lattice_oxygen_map(edge, [531.0], np.arange(520.0, 532.0, 0.05), memory_gb=1e-6)
    with pytest.raises(InputError, match="memory"):
        kedge_krylov.krylov_oxygen_k_xas(_edge("Mn4+", 1, MN4), XAS_AXIS, memory_gb=1e-3)


def test_complex_hamiltonian_d3d_equals_dense():
    """D3d makes the sector Hamiltonians complex: the Krylov path then runs on their real symmetric doubled
    form (rixsim.spectroscopy.krylov._real_symmetric) and complex Hermitian shifted solves."""
    edge = OxygenKEdge(rixsim.cluster_model("Ni2+", n_ligand_holes=1, symmetry="D3d", **NI2))
    assert np.abs(edge.hamiltonian("core", diagonalise=False)[1].data.imag).max() > 0.1
    dense = oxygen_k_xas(edge, XAS_AXIS, 300.0, method="dense")
    kry = oxygen_k_xas(edge, XAS_AXIS, 300.0, method="krylov")
    assert _rel(kry.intensity, dense.intensity) <= 1e-6
    assert kry.meta["pre_edge_weight"] == pytest.approx(dense.meta["ligand_holes"], rel=1e-10)
    exc, emi = np.array([531.5, 532.0]), np.arange(516.0, 533.5, 0.02)
    md = lattice_oxygen_map(edge, exc, emi, 300.0, fluorescence_weight=0.0, method="dense")
    mk = lattice_oxygen_map(edge, exc, emi, 300.0, fluorescence_weight=0.0, method="krylov")
    assert _rel(mk.intensity, md.intensity) <= 1e-6
    assert _rel(mk.elastic, md.elastic) <= 1e-6

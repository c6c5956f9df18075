"""O-K pre-edge of a charged-cathode cluster across the charge-transfer crossover (issue 13 item 6; the full
table is ``validation/charged_cathode_oxygen.py``): Ni3+ d7 + d8L̲ at Δ = +4, +1, −2 eV with the parameters of
``validation/charged_cathode_weights.py`` (Udd 7.0, Upd 8.5, Veg 2.5, 10Dq 1.0 eV)."""
import numpy as np
import pytest

import rixsim
from rixsim.oxygen.kedge import OxygenKEdge
from rixsim.spectroscopy.krylov import initial_states

PARAMS = {"udd": 7.0, "upd": 8.5, "veg": 2.5, "tendq": 1.0}
DELTAS = (4.0, 1.0, -2.0)


def _edge(delta):
    return OxygenKEdge(rixsim.cluster_model("Ni3+", delta=delta, n_ligand_holes=1, **PARAMS))


def _krylov_ligand_holes(model):
    """Σ k w_k of the 0 K ground manifold from the L-edge model's own solver (not the O-K sector)."""
    basis, _ = model.hamiltonian(False)
    ini = initial_states(model, 0.0)
    holes = basis.occupations("3d") - basis.configurations[0][0]
    return float((np.abs(ini.vectors) ** 2 * holes[:, None]).sum(axis=0) @ ini.weights)


def _lowest_bright_line(edge):
    e_i, w, e_m, d = edge.absorption_channels(0.0)
    strength = np.sum(np.abs(d) ** 2, axis=0) @ w
    m = int(np.flatnonzero(strength >= 1e-3 * strength.max())[0])
    b_m, _, e_core, v_m, _ = edge.hamiltonian("core")
    manifold = np.abs(e_core - e_core[m]) < 1e-6
    n_m = np.mean(np.sum(np.abs(v_m[:, manifold]) ** 2 * (10 - b_m.occupations("L"))[:, None], axis=0))
    return e_m[m] - e_i[0], edge.ligand_holes(0.0), n_m


def test_pre_edge_weight_is_the_ligand_hole_count_and_grows_as_delta_falls():
    n_l = []
    for delta in DELTAS:
        edge = _edge(delta)
        _e_i, w, _e_m, d = edge.absorption_channels(0.0)
        stick_sum = float(np.sum(np.abs(d) ** 2 * w[None, None, :]))
        n = edge.ligand_holes(0.0)
        assert stick_sum == pytest.approx(n, rel=1e-10)               # the module's sum rule
        assert n == pytest.approx(_krylov_ligand_holes(edge.model), abs=1e-9)   # same cluster as the L edge
        n_l.append(n)
    assert 0 < n_l[0] < n_l[1] < n_l[2] < 1, n_l


def test_lowest_pre_edge_line_moves_with_the_hellmann_feynman_slope():
    """d(E_m − E_g)/dΔ = 1 + n_L(m) − n_L(g) (the O-K sectors are placed at kΔ + … and Δ + k(Δ + Udd + Q)),
    against a central finite difference."""
    h = 1e-3
    for delta in (4.0, -2.0):
        _, n_g, n_m = _lowest_bright_line(_edge(delta))
        fd = (_lowest_bright_line(_edge(delta + h))[0] - _lowest_bright_line(_edge(delta - h))[0]) / (2 * h)
        assert fd == pytest.approx(1 + n_m - n_g, abs=1e-5)
        assert fd > 0                                  # the line moves down as Δ decreases


def test_krylov_o_k_path_gives_the_same_ligand_holes_and_pre_edge_sum():
    """The Krylov O-K path (what validation/charged_cathode_oxygen.py --mn4 uses for Mn4+ d3…d6L3) on the
    Ni3+ clusters: its ground-state weights give the L-edge solver's n_L, and its Lanczos pre-edge sum is n_L."""
    from rixsim.oxygen import kedge_krylov
    for delta in DELTAS:
        edge = _edge(delta)
        ini = kedge_krylov.initial_states(edge, 0.0)
        w = kedge_krylov.configuration_weights(edge, ini)
        n_l = float(w @ np.arange(w.size))
        assert n_l == pytest.approx(_krylov_ligand_holes(edge.model), abs=1e-9)
        xas = kedge_krylov.krylov_oxygen_k_xas(edge, np.linspace(524.0, 540.0, 161), 0.0, main_edge=False)
        assert xas.meta["pre_edge_weight"] == pytest.approx(n_l, rel=1e-10)

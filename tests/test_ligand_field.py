"""Crystal fields and hybridisation from ligand positions against the named symmetries; rotational invariance."""
import numpy as np
import pytest

from rixsim.cluster.crystal_field import CrystalField, hybridization_matrix
from rixsim.cluster.ligand_field import (
    E2_EV_ANGSTROM,
    angular_overlap_matrix,
    ligand_site,
    octahedron,
    point_charge_matrix,
    slater_koster_hybridization,
    tetrahedron,
    trigonal_octahedron,
)
from rixsim.cluster.model import ChargeTransfer, ClusterModel, Multiplet
from rixsim.errors import InputError
from rixsim.manybody import angular
from rixsim.spectroscopy.xas import xas

U = angular.real_to_complex(2)
NI_I = Multiplet(f2dd=12.234, f4dd=7.598, zeta_3d=0.083).scaled()
NI_C = Multiplet(f2dd=13.005, f4dd=8.084, f2pd=7.720, g1pd=5.783, g3pd=3.290, zeta_3d=0.102, zeta_2p=11.506).scaled()
PARAMS = {"Oh": ("tendq",), "Td": ("tendq",), "D4h": ("tendq", "ds", "dt"), "C4v": ("tendq", "ds", "dt"),
          "D3d": ("tendq", "dsigma", "dtau"), "D2h": ("tendq", "ds", "dt", "b22", "b42")}


def complex_of(real5):
    return U @ real5 @ U.conj().T


def fit_named(symmetry, real5):
    """Least-squares named-symmetry parameters of a 5×5 real-basis field (the named fields are linear in their
    parameters) and the largest residual matrix element."""
    names = PARAMS[symmetry]
    cols = [CrystalField(symmetry, **{n: 1.0}).orbital_matrix().ravel() for n in names]
    a = np.array(cols).T
    target = complex_of(real5).ravel()
    a_r, t_r = np.vstack([a.real, a.imag]), np.concatenate([target.real, target.imag])
    x, *_ = np.linalg.lstsq(a_r, t_r, rcond=None)
    resid = np.abs(a @ x - target).max()
    return dict(zip(names, x)), resid


def traceless(m):
    return m - np.trace(m) / 5 * np.eye(5)


def test_aom_octahedron_equals_named_oh():
    es, ep = 0.55, 0.12
    site = ligand_site(octahedron(2.05), e_sigma=es, e_pi=ep)
    named = CrystalField("Oh", tendq=3 * es - 4 * ep)
    assert np.abs(site.crystal_field.orbital_matrix() - named.orbital_matrix()).max() < 1e-12


@pytest.mark.parametrize("route", ["aom", "point_charge"])
def test_tetrahedron_equals_named_td_with_four_ninths_of_oh(route):
    """Same ligands, same distance: 10Dq(Td) = 4/9 · 10Dq(Oh), with e below t2 (the reverse of Oh)."""
    if route == "aom":
        oh = traceless(angular_overlap_matrix(octahedron(2.0), 0.5, 0.1))
        td = traceless(angular_overlap_matrix(tetrahedron(2.0), 0.5, 0.1))
    else:
        oh = point_charge_matrix(octahedron(2.0), -2.0, 0.3, 1.1)
        td = point_charge_matrix(tetrahedron(2.0), -2.0, 0.3, 1.1)
    tendq_oh = oh[2, 2] - oh[0, 0]                         # e_g(z²) − t_2g(xy)
    assert tendq_oh > 0
    named = CrystalField("Td", tendq=4 / 9 * tendq_oh)
    assert np.abs(complex_of(td) - named.orbital_matrix()).max() < 1e-12
    assert td[2, 2] < td[0, 0]                                # e (z²) below t2 (xy)
    assert td[2, 2] - td[0, 0] == pytest.approx(-4 / 9 * tendq_oh, abs=1e-12)


def test_point_charge_octahedron_has_the_classical_dq():
    """Dq = Z e²⟨r⁴⟩/(6a⁵) for six charges −Ze at distance a (Ballhausen 1962, ch. 5); ⟨r²⟩ drops out."""
    z, a, r4 = 2.0, 2.1, 1.3
    m = point_charge_matrix(octahedron(a), -z, 0.7, r4)
    dq = z * E2_EV_ANGSTROM * r4 / (6 * a ** 5)
    assert np.abs(complex_of(m) - CrystalField("Oh", tendq=10 * dq).orbital_matrix()).max() < 1e-12


@pytest.mark.parametrize("route", ["aom", "point_charge"])
def test_jahn_teller_octahedron_is_d4h_with_the_aom_levels(route):
    p = octahedron(1.95, elongation=2.25 / 1.95)                # Mn3+-like: 4 short, 2 long bonds
    if route == "aom":
        # e_σ, e_π per ligand from a distance law (any per-ligand values keep D4h)
        r = np.linalg.norm(p, axis=1)
        es, ep = 0.6 * (1.95 / r) ** 5, 0.15 * (1.95 / r) ** 5
        m = traceless(angular_overlap_matrix(p, es, ep))
        eq, ax = 0, 2
        b1, a1 = 3 * es[eq], 2 * es[ax] + es[eq]
        b2, e = 4 * ep[eq], 2 * ep[ax] + 2 * ep[eq]
        tendq = b1 - b2
        ds, dt = np.linalg.solve([[-4, -5], [-3, 5]], [a1 - b1, e - b2])      # Ballhausen's D4h levels
        expected = {"tendq": tendq, "ds": ds, "dt": dt}
    else:
        m = point_charge_matrix(p, -2.0, 0.4, 1.0)
        expected = None
    for sym in ("D4h", "C4v"):
        par, resid = fit_named(sym, m)
        assert resid < 1e-12
        if expected:
            for k, v in expected.items():
                assert par[k] == pytest.approx(v, abs=1e-12)
    assert m[2, 2] < m[4, 4]                      # elongation: z² below x²−y²
    assert -4 * par["ds"] - 5 * par["dt"] < 0     # … which the D4h definitions say as a1g − b1g = −4Ds − 5Dt
    # an orthorhombic site (three distances) is not D4h, but is D2h
    q = p.copy()
    q[[1, 4], 1] *= 1.05
    m2 = point_charge_matrix(q, -2.0, 0.4, 1.0)
    assert fit_named("D4h", m2)[1] > 1e-4
    par, resid = fit_named("D2h", m2)
    assert resid < 1e-12 and abs(par["b22"]) > 1e-4


@pytest.mark.parametrize("theta", [54.735610317245346, 58.0, 51.0])
def test_trigonal_octahedron_is_d3d_in_the_documented_frame(theta):
    p = trigonal_octahedron(2.0, theta)
    for m in (traceless(angular_overlap_matrix(p, 0.5, 0.1)), point_charge_matrix(p, -2.0, 0.4, 1.0)):
        par, resid = fit_named("D3d", m)
        assert resid < 1e-12
        if abs(theta - 54.735610317245346) < 1e-9:
            assert abs(par["dsigma"]) < 1e-12 and abs(par["dtau"]) < 1e-12
        else:
            assert abs(par["dsigma"]) > 1e-4
    # the regular octahedron in that frame is the rotated Oh field with the AOM 10Dq
    m = traceless(angular_overlap_matrix(trigonal_octahedron(2.0), 0.5, 0.1))
    assert np.abs(complex_of(m) - CrystalField("D3d", tendq=1.1).orbital_matrix()).max() < 1e-12


def test_slater_koster_octahedron_equals_named_hybridization_and_harrison_scaling():
    vs, vp = -1.3, 0.65
    t = slater_koster_hybridization(octahedron(2.0), vs, vp)
    named = hybridization_matrix(np.sqrt(3) * abs(vs), 2 * abs(vp), "Oh")[::2, ::2]     # orbital part
    assert np.abs(complex_of(t) - named).max() < 1e-12
    far = slater_koster_hybridization(octahedron(2.4), vs, vp, reference_distance=2.0)
    np.testing.assert_allclose(far, t * (2.0 / 2.4) ** 3.5, atol=1e-12)
    # tetrahedron: e couples through π only (T(e) = √(8/3)|Vπ|), t2 through σ and π
    td = slater_koster_hybridization(tetrahedron(2.0), vs, vp)
    assert td[2, 2] == pytest.approx(np.sqrt(8 / 3) * abs(vp), abs=1e-12)
    assert td[0, 0] == pytest.approx(np.sqrt(4 / 3 * vs ** 2 + 8 / 9 * vp ** 2), abs=1e-12)


def _random_rotation(seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def test_spectra_and_eigenvalues_are_invariant_under_rotating_the_whole_site():
    rng = np.random.default_rng(3)
    p = octahedron(2.0, elongation=1.12) + 0.05 * rng.normal(size=(6, 3))       # a low-symmetry site

    def build(positions):
        site = ligand_site(positions, e_sigma=0.6, e_pi=0.12, v_pd_sigma=1.4, v_pd_pi=-0.7, reference_distance=2.0)
        return ClusterModel("Ni2+", 8, NI_I, NI_C, site.crystal_field,
                            charge_transfer=site.charge_transfer(3.5, 6.0, 7.0, n_ligand_holes=1),
                            l3_fwhm=0.4, l2_fwhm=0.6, edge_offset=860.0)

    a, b = build(p), build(p @ _random_rotation(11).T)
    for core_hole in (False, True):
        np.testing.assert_allclose(a.eigensystem(core_hole).energies, b.eigensystem(core_hole).energies, atol=1e-10)
    e = np.linspace(845, 880, 350)
    xa = xas(a, e, temperature_k=100, method="dense").intensity
    xb = xas(b, e, temperature_k=100, method="dense").intensity
    assert np.max(np.abs(xa - xb)) < 1e-9 * xa.max()
    za = xas(a, e, "z", temperature_k=100, method="dense").intensity
    zb = xas(b, e, "z", temperature_k=100, method="dense").intensity
    assert np.max(np.abs(za - zb)) > 1e-3 * za.max()              # a linear polarisation is not invariant


def test_named_symmetries_and_bad_input():
    np.testing.assert_allclose(CrystalField("C4v", tendq=1, ds=0.1, dt=0.02).orbital_matrix(),
                               CrystalField("D4h", tendq=1, ds=0.1, dt=0.02).orbital_matrix(), atol=0)
    np.testing.assert_allclose(CrystalField("D2h", tendq=1, ds=0.1).orbital_matrix(),
                               CrystalField("D4h", tendq=1, ds=0.1).orbital_matrix(), atol=0)
    for sym, kw in (("Td", {"ds": 0.1}), ("D4h", {"b22": 0.1}), ("D3d", {"dt": 0.1}), ("C4v", {"dtau": 0.1})):
        with pytest.raises(InputError, match=sym):
            CrystalField(sym, tendq=1.0, **kw)
    with pytest.raises(InputError, match=r"\(n, 3\)"):
        ligand_site([[1.0, 0.0]], e_sigma=0.5)
    with pytest.raises(InputError, match="metal site"):
        ligand_site([[0.0, 0.0, 0.0]], e_sigma=0.5)
    with pytest.raises(InputError, match="e_sigma"):
        ligand_site(octahedron(), e_sigma=[0.5, 0.4])
    with pytest.raises(InputError, match="needs e_sigma"):
        ligand_site(octahedron())
    with pytest.raises(InputError, match="no hybridisation"):
        ligand_site(octahedron(), e_sigma=0.5).charge_transfer(3, 6, 7)
    with pytest.raises(InputError, match="either veg"):
        ChargeTransfer(3, 6, 7, 2.0, 1.0, hybridization=np.eye(5))


# ---- Td, C4v, D2h in the fitting models (rixsim.analysis.fitting.FitModel, model files) -------------------

E_CO = np.linspace(772.0, 800.0, 281)       # Co L2,3 (tabulated L3 778.1, L2 793.2 eV)


@pytest.mark.parametrize("symmetry, values", [
    ("Td", {"tendq": 0.45, "slater_scale": 0.75}),
    ("C4v", {"tendq": 0.9, "ds": 0.06, "dt": 0.02}),
    ("D2h", {"tendq": 0.9, "ds": 0.05, "dt": 0.01, "b22": 0.08, "b42": -0.04}),
])
def test_fit_model_hamiltonian_of_new_symmetries_equals_the_cluster_model(symmetry, values):
    """The fast affine Hamiltonian of FitModel and ClusterModel's own build give the same eigenstates and XAS
    for the new symmetries, and the model is the one atomic_model builds from the same numbers."""
    from rixsim.analysis.fitting import FitModel
    from rixsim.cluster.model import atomic_model
    fast, slow = FitModel("Co2+", symmetry=symmetry), FitModel("Co2+", symmetry=symmetry, fast_hamiltonian=False)
    a, b = fast.reference_transitions(values), slow.reference_transitions(values)
    np.testing.assert_allclose(a.initial_energies, b.initial_energies, atol=1e-10)
    np.testing.assert_allclose(a.intermediate_energies, b.intermediate_energies, atol=1e-10)
    xa, xb = fast.xas(E_CO, values), slow.xas(E_CO, values)
    assert np.abs(xa - xb).max() < 1e-10 * xa.max()
    cf = {k: v for k, v in values.items() if k != "slater_scale"}
    direct = atomic_model("Co2+", symmetry=symmetry, slater_scale=values.get("slater_scale", 0.8), **cf)
    np.testing.assert_allclose(np.sort(direct.eigensystem(False).energies - direct.eigensystem(False).energies[0]),
                               a.initial_energies, atol=1e-9)


def test_noise_free_td_spectrum_is_fitted_back_to_its_truth():
    """Tetrahedral Co2+ (the spinel A site): 10Dq, Slater scale, offset, widths, scale and background are
    recovered from a synthetic spectrum starting 0.15 eV / 10 % away."""
    from rixsim.analysis.fitting import FitModel, fit_xas, simulate_xas
    m = FitModel("Co2+", symmetry="Td")
    truth = {"tendq": 0.45, "slater_scale": 0.72, "edge_offset": 782.6, "l3_fwhm": 0.4, "gauss_fwhm": 0.25,
             "scale": 30.0, "background": 0.3}
    data = simulate_xas(m, E_CO, truth)
    start = {"tendq": 0.6, "slater_scale": 0.8, "edge_offset": 782.4, "l3_fwhm": 0.35, "gauss_fwhm": 0.3,
             "background": 0.0}
    r = fit_xas(data, m, start=start, vary=list(truth), sigma=1e-6)
    for k, v in truth.items():
        assert r.values[k] == pytest.approx(v, rel=1e-6, abs=1e-7), k
    assert r.r_factor < 1e-12
    # the sign matters: the same |10Dq| in Oh is a different spectrum, far outside the fit's residual
    oh = simulate_xas(FitModel("Co2+"), E_CO, truth).intensity
    assert np.abs(oh - data.intensity).max() > 0.05 * data.intensity.max()


def test_fit_model_refuses_parameters_of_another_symmetry():
    from rixsim.analysis.fitting import FitModel
    with pytest.raises(InputError, match="symmetry"):
        FitModel("Co2+", symmetry="Td").cluster_model({"tendq": 0.4, "ds": 0.1})
    with pytest.raises(InputError, match="symmetry"):
        FitModel("Co2+", symmetry="C4v").cluster_model({"tendq": 0.4, "b22": 0.1})
    with pytest.raises(InputError, match="symmetry must be"):
        FitModel("Co2+", symmetry="Oh3")
    assert "b42" in FitModel("Co2+", symmetry="D2h").allowed_parameters("xas")
    assert "ds" not in FitModel("Co2+", symmetry="Td").allowed_parameters("xas")


def test_model_file_accepts_the_new_symmetries():
    from rixsim.cluster.crystal_field import CrystalField
    from rixsim.interfaces.config import config_from_dict
    cfg = config_from_dict({"model": {"ion": "Co2+", "symmetry": "D2h", "tendq": 0.9, "ds": 0.05, "b22": 0.08}})
    assert cfg.build_model().crystal_field == CrystalField("D2h", tendq=0.9, ds=0.05, b22=0.08)
    cfg = config_from_dict({"model": {"ion": "Co2+", "symmetry": "Td", "tendq": 0.45}})
    assert cfg.build_model().crystal_field == CrystalField("Td", tendq=0.45)
    with pytest.raises(InputError, match="Td takes tendq"):
        config_from_dict({"model": {"ion": "Co2+", "symmetry": "Td", "tendq": 0.45, "ds": 0.1}}).build_model()


# ---- acceptor (L*) hopping from ligand positions -----------------------------------------------------------

def _bd_model(back, n_d=9):
    mi = Multiplet(f2dd=9.0, f4dd=5.6, zeta_3d=0.05)
    mc = Multiplet(f2dd=9.6, f4dd=6.0, f2pd=5.5, g1pd=4.0, g3pd=2.3, zeta_3d=0.07, zeta_2p=8.2)
    return ClusterModel(f"d{n_d}", n_d, mi, mc, CrystalField("Oh", tendq=2.5), back_donation=back)


def test_acceptor_hopping_from_positions_equals_the_named_route_in_oh():
    """σ+π acceptor on a regular octahedron: T*(e_g) = √3 V(pdσ), T*(t_2g) = 2 V(pdπ); the cluster built from
    the positions has the same Hamiltonian, in both sectors, as BackDonation(vt2g, veg), to 1e-12."""
    from rixsim.cluster.model import BackDonation
    vs, vp = 0.35, 0.55
    site = ligand_site(octahedron(1.95), e_sigma=0.8, acceptor_v_pd_pi=vp, acceptor_v_pd_sigma=vs)
    expected = np.diag([2 * vp, 2 * vp, np.sqrt(3) * vs, 2 * vp, np.sqrt(3) * vs])
    np.testing.assert_allclose(site.acceptor_hybridization, expected, atol=1e-12)
    kw = {"udd": 4.0, "upd": 5.0, "core_hole_ligand": 0.4}
    positions = _bd_model(site.back_donation(2.2, **kw))
    named = _bd_model(BackDonation(2.2, 2 * vp, np.sqrt(3) * vs, **kw))
    for core_hole in (False, True):
        b1, h1 = positions.hamiltonian(core_hole)
        b2, h2 = named.hamiltonian(core_hole)
        np.testing.assert_array_equal(b1.states, b2.states)
        assert abs(h1 - h2).max() < 1e-12


def test_pi_acceptor_from_positions_gives_the_spectrum_of_the_three_orbital_shell():
    """π-only acceptor (CN⁻-like) in Oh, d⁹ (t_2g⁶ back-donates): the five-combination shell from positions has two uncoupled e_g-like
    combinations; the coupled states, the ground state and the XAS equal those of BackDonation(vt2g=2V(pdπ))
    with its three t_2g combinations."""
    from rixsim.cluster.model import BackDonation
    vp = 0.6
    site = ligand_site(octahedron(1.9), e_sigma=0.8, acceptor_v_pd_pi=vp)
    kw = {"udd": 4.0, "upd": 5.0}
    five = _bd_model(site.back_donation(1.8, **kw))
    three = _bd_model(BackDonation(1.8, 2 * vp, **kw))
    assert five.shells.shells[1].l == 2 and three.shells.shells[1].l == 1
    e5, e3 = five.eigensystem(False).energies, three.eigensystem(False).energies
    assert e5[0] == pytest.approx(e3[0], abs=1e-10)
    # every level of the three-orbital cluster is a level of the five-orbital one
    assert np.abs(e5[None, :] - e3[:, None]).min(axis=1).max() < 1e-9
    x = five.edge_offset + np.linspace(-10.0, 25.0, 500)
    a = xas(five, x, temperature_k=0.0, gauss_fwhm=0.2, method="dense").intensity
    b = xas(three, x, temperature_k=0.0, gauss_fwhm=0.2, method="dense").intensity
    assert np.abs(a - b).max() < 1e-9 * b.max()
    assert a.max() > 0


def test_acceptor_hopping_of_a_distorted_site_couples_eg_and_is_rotation_invariant():
    """A trigonally compressed octahedron of π acceptors gives the e_g-like d orbitals π overlap (T*(e_g) ≠ 0
    in the cubic labels); rotating the whole site rotates T* as a d-orbital matrix (same eigenvalues)."""
    p = trigonal_octahedron(1.9, 60.0)
    t = ligand_site(p, e_sigma=0.8, acceptor_v_pd_pi=0.6).acceptor_hybridization
    assert np.abs(t - t.T).max() < 1e-12
    from scipy.spatial.transform import Rotation
    r = Rotation.from_euler("zyz", [0.3, 1.1, -0.7]).as_matrix()
    t_rot = ligand_site(p @ r.T, e_sigma=0.8, acceptor_v_pd_pi=0.6).acceptor_hybridization
    np.testing.assert_allclose(np.linalg.eigvalsh(t_rot), np.linalg.eigvalsh(t), atol=1e-12)
    regular = ligand_site(trigonal_octahedron(1.9), e_sigma=0.8, acceptor_v_pd_pi=0.6).acceptor_hybridization
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(regular)), [0, 0, 1.2, 1.2, 1.2], atol=1e-12)
    assert np.sort(np.linalg.eigvalsh(t))[1] > 1e-3          # the compressed site's e_g-like combinations couple


def test_bad_acceptor_input():
    from rixsim.cluster.model import BackDonation
    with pytest.raises(InputError, match="either"):
        BackDonation(2.0, 0.5, hybridization=np.eye(5))
    with pytest.raises(InputError, match="Hermitian"):
        BackDonation(2.0, 0.0, hybridization=np.triu(np.ones((5, 5))))
    with pytest.raises(InputError, match="acceptor"):
        ligand_site(octahedron(), e_sigma=0.8).back_donation(2.0, udd=4.0, upd=5.0)

"""Polarisation vectors, scattering geometry and the exact powder average (rixsim.spectroscopy.geometry)."""
import numpy as np
import pytest

from rixsim.errors import InputError
from rixsim.spectroscopy.geometry import (ScatteringGeometry, circular, euler_rotation, isotropic_channels, linear,
                             polarization_channels, powder_weights, rank_basis, rank_decompose,
                             rank_norms_squared, rotation_about)


def _group_closure(generators, limit=200):
    """All products of the generators (a finite rotation group), deduplicated to 1e-9."""
    elems = [np.eye(3)]
    frontier = [np.eye(3)]
    while frontier:
        new = []
        for a in frontier:
            for g in generators:
                p = g @ a
                if not any(np.allclose(p, e, atol=1e-9) for e in elems):
                    elems.append(p)
                    new.append(p)
        frontier = new
        assert len(elems) <= limit
    return np.array(elems)


def icosahedral_group():
    """The 60 proper rotations of the icosahedron with vertices (0, ±1, ±φ) and cyclic permutations."""
    phi = (1 + np.sqrt(5)) / 2
    cyc = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]], dtype=float)     # 3-fold about (1, 1, 1)
    five = rotation_about([0, 1, phi], 72.0)                           # 5-fold through a vertex
    return _group_closure([cyc, five])


def octahedral_group():
    return _group_closure([rotation_about([0, 0, 1], 90.0), rotation_about([1, 0, 0], 90.0)])


def haar_rotations(n, rng):
    """Haar-random rotations from unit quaternions."""
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1)[:, None]
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1)], 1)


def rotated_intensity(rots, f, u, v):
    """|uᵀ R F Rᵀ v|² for each rotation (u = conj(ε_out), v = ε_in)."""
    return np.abs(np.einsum("b,rbi,ij,raj,a->r", u, rots, f, rots, v)) ** 2


def cplx(rng, *shape):
    return rng.normal(size=shape) + 1j * rng.normal(size=shape)


# ------------------------------------------------------------------------------------ vectors/geometry
def test_quadrature_groups_have_expected_orders():
    assert len(icosahedral_group()) == 60
    assert len(octahedral_group()) == 24
    for r in icosahedral_group():
        assert np.allclose(r @ r.T, np.eye(3)) and np.isclose(np.linalg.det(r), 1.0)


def test_geometry_vectors_are_transverse_and_sigma_pi_right_handed():
    for tt in (10.0, 90.0, 150.0):
        g = ScatteringGeometry(two_theta_deg=tt)
        assert np.isclose(np.degrees(np.arccos(g.k_in @ g.k_out)), tt)
        for pol, k in ((g.pi_in, g.k_in), (g.pi_out, g.k_out), (g.sigma, g.k_in), (g.sigma, g.k_out)):
            assert np.isclose(np.linalg.norm(pol), 1.0) and abs(pol @ k) < 1e-14
        assert np.allclose(np.cross(g.pi_in, g.sigma), g.k_in)
        assert np.allclose(np.cross(g.pi_out, g.sigma), g.k_out)
        basis = g.polarization_out_basis          # unanalysed: σ and π_out
        assert basis.shape == (2, 3) and np.allclose(basis @ basis.conj().T, np.eye(2))


@pytest.mark.parametrize("h", [+1, -1])
@pytest.mark.parametrize("k", [[0, 0, 1], [1, 2, -0.5], [0, 1, 0], [0, 0, -1]])
def test_circular_polarisation_has_photon_spin_h_along_k(h, k):
    k = np.asarray(k, float) / np.linalg.norm(k)
    e = circular(k, h)
    assert np.isclose(np.vdot(e, e).real, 1.0) and abs(e @ k) < 1e-14
    # photon spin direction of a unit polarisation: S = Im(ε* × ε); helicity = S·k
    assert np.isclose(np.imag(np.cross(e.conj(), e)) @ k, h)


def test_circular_about_z_is_x_plus_iy():
    assert np.allclose(circular([0, 0, 1], +1), np.array([1, 1j, 0]) / np.sqrt(2))
    g = ScatteringGeometry(incident="circular+")
    assert np.allclose(g.polarization_in, np.array([1, 1j, 0]) / np.sqrt(2))
    # "left"/"right" aliases = helicity ±1 (as rixsim.spectroscopy.xas and EDRIXS), also for the outgoing beam
    g = ScatteringGeometry(two_theta_deg=60, incident="right", outgoing="left")
    assert np.isclose(np.imag(np.cross(g.polarization_in.conj(), g.polarization_in)) @ g.k_in, -1)
    eo = g.polarization_out_basis[0]
    assert np.isclose(np.imag(np.cross(eo.conj(), eo)) @ g.k_out, +1)


def test_sample_rotation_moves_polarisation_into_crystal_frame():
    r = rotation_about([0, 0, 1], 90.0)        # crystal x axis points along lab y
    g = ScatteringGeometry(incident="sigma", sample_rotation=r)
    assert np.allclose(g.to_crystal(g.polarization_in), [1, 0, 0])
    assert np.allclose(euler_rotation(90, 0, 0), r)


@pytest.mark.parametrize("kwargs", [dict(two_theta_deg=0.0), dict(two_theta_deg=180.0),
                                    dict(incident="linear"), dict(incident=[0, 0, 1]),
                                    dict(outgoing=[1.0, 0, 0]), dict(sample_rotation=np.diag([1, 1, -1])),
                                    dict(sample_rotation=np.ones((3, 3)))])
def test_bad_geometry_is_refused(kwargs):
    with pytest.raises(InputError):
        ScatteringGeometry(**kwargs)


def test_bad_polarisation_requests_are_refused():
    with pytest.raises(InputError):
        polarization_channels(ScatteringGeometry(), polarization_in=[1, 0, 0])
    with pytest.raises(InputError):
        polarization_channels(polarization_in="circular")
    with pytest.raises(InputError):
        polarization_channels(polarization_in=[0, 0, 0])
    with pytest.raises(InputError):
        linear([1, 2])
    with pytest.raises(InputError):
        circular([0, 0, 1], helicity=2)


# ------------------------------------------------------------------------------ rank decomposition
def test_rank_basis_is_orthonormal_and_rotation_closed():
    e, rank = rank_basis()
    gram = np.einsum("aij,bij->ab", e, e)
    assert np.allclose(gram, np.eye(9), atol=1e-15)
    r = rotation_about([0.3, -1.0, 0.7], 37.0)
    for k in range(3):
        sub = e[rank == k]
        rotated = np.einsum("ij,ajk,lk->ail", r, sub, r)
        # the rotated basis tensors stay inside the rank-k subspace
        coeff = np.einsum("aij,bij->ab", rotated, sub)
        assert np.allclose(coeff @ coeff.T, np.eye(len(sub)), atol=1e-12)


def test_rank_decomposition_parts_add_up_and_are_orthogonal():
    rng = np.random.default_rng(1)
    t = cplx(rng, 4, 3, 3)
    parts = rank_decompose(t)
    assert np.allclose(sum(parts), t)
    assert np.allclose(rank_norms_squared(t).sum(-1), np.sum(np.abs(t) ** 2, axis=(-2, -1)))
    assert np.allclose(np.trace(parts[2], axis1=-2, axis2=-1), 0)
    assert np.allclose(parts[1], -np.swapaxes(parts[1], -1, -2))


# ------------------------------------------------------------------------------------ powder average
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_powder_formula_equals_exact_icosahedral_quadrature(seed):
    """Rank formula vs the 60-rotation icosahedral 5-design (exact for the degree-4 polynomial |A|²)."""
    rng = np.random.default_rng(seed)
    f = cplx(rng, 3, 3)
    v = cplx(rng, 3)            # complex incident polarisation (e.g. elliptical)
    u_list = cplx(rng, 2, 3)    # two outgoing channels, complex
    # a random extra rotation keeps the quadrature exact (Haar measure is invariant) and avoids luck
    rots = icosahedral_group() @ haar_rotations(1, rng)[0]
    numeric = sum(rotated_intensity(rots, f, u, v).mean() for u in u_list)
    formula = powder_weights(v, np.conj(u_list)) @ rank_norms_squared(f)
    assert formula == pytest.approx(numeric, rel=1e-12)


def test_octahedral_group_is_not_an_exact_powder_quadrature():
    """Negative control: the 24 rotations of O are only a 3-design, so they miss the rank-2 average."""
    rng = np.random.default_rng(5)
    f, v, u = cplx(rng, 3, 3), cplx(rng, 3), cplx(rng, 3)
    formula = powder_weights(v, np.conj(u)) @ rank_norms_squared(f)
    assert abs(rotated_intensity(octahedral_group(), f, u, v).mean() / formula - 1) > 1e-4


def test_powder_formula_agrees_with_monte_carlo_over_4000_orientations():
    rng = np.random.default_rng(7)
    f = cplx(rng, 3, 3)
    g = ScatteringGeometry(two_theta_deg=120.0, incident="circular+")
    v = g.polarization_in
    samples = sum(rotated_intensity(haar_rotations(4000, rng), f, np.conj(e), v)
                  for e in g.polarization_out_basis)
    formula = powder_weights(v, g.polarization_out_basis) @ rank_norms_squared(f)
    stderr = samples.std() / np.sqrt(samples.size)
    assert abs(samples.mean() - formula) < 4 * stderr
    # and the powder channel set used by the RIXS engine gives the same number
    assert polarization_channels(g, powder=True).intensity(f) == pytest.approx(formula, rel=1e-13)


def test_powder_weights_known_values():
    """Hand-derived: real ε_out ⟂ ε_in gives w = (0, 1/6, 1/10); ε_out = ε_in gives (1/3, 0, 2/15)."""
    x, y = np.array([1.0, 0, 0]), np.array([0, 1.0, 0])
    assert np.allclose(powder_weights(x, y), [0, 1 / 6, 1 / 10])
    assert np.allclose(powder_weights(x, x), [1 / 3, 0, 2 / 15])
    # emission summed over all directions: each rank weighted 1/3, i.e. the isotropic channel set
    assert np.allclose(powder_weights(x, np.eye(3)), [1 / 3] * 3)
    rng = np.random.default_rng(3)
    f = cplx(rng, 3, 3)
    assert polarization_channels(polarization_in=x, polarization_out="all", powder=True).intensity(f) == \
        pytest.approx(isotropic_channels().intensity(f), rel=1e-13)


def test_single_crystal_channels_equal_direct_contraction():
    rng = np.random.default_rng(11)
    f = cplx(rng, 5, 3, 3)
    r = euler_rotation(20, 50, -30)
    g = ScatteringGeometry(two_theta_deg=135.0, incident="circular-", sample_rotation=r)
    ch = polarization_channels(g)
    ein = r.T @ g.polarization_in
    direct = sum(np.abs(np.einsum("b,nba,a->n", np.conj(r.T @ e), f, ein)) ** 2
                 for e in g.polarization_out_basis)
    assert np.allclose(ch.intensity(f), direct, rtol=1e-13)
    iso = isotropic_channels().intensity(f)
    assert np.allclose(iso, np.sum(np.abs(f) ** 2, axis=(-2, -1)) / 3)


@pytest.mark.reference
def test_geometry_reproduces_edrixs_polarisation_vectors():
    """EDRIXS 0.2.0's (θ_in, θ_out, φ) geometry expressed as a ScatteringGeometry with a sample rotation gives
    the same σ, π and helicity ±1 vectors in the crystal frame (up to a global phase)."""
    import warnings
    edrixs = pytest.importorskip("edrixs")
    th_in, th_out, phi = np.radians(35.0), np.radians(70.0), np.radians(20.0)
    k_in = np.asarray(edrixs.unit_wavevector(th_in, phi, np.eye(3), "in"))
    k_out = np.asarray(edrixs.unit_wavevector(th_out, phi, np.eye(3), "out"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vec = {(a, b): edrixs.dipole_polvec_rixs(th_in, th_out, phi, a, b, np.eye(3), ("linear", "linear"))
               for a in (0.0, np.pi / 2) for b in (0.0, np.pi / 2)}
        left = edrixs.dipole_polvec_rixs(th_in, th_out, phi, 0.0, 0.0, np.eye(3), ("left", "left"))
    pi_in, sigma = vec[(0.0, 0.0)][0].real, vec[(np.pi / 2, 0.0)][0].real
    # lab (x = π_in, y = σ, z = k_in) → crystal: columns of Rᵀ; flip π if EDRIXS's (π, σ, k) is left-handed
    if np.linalg.det(np.column_stack([pi_in, sigma, k_in])) < 0:
        pi_in = -pi_in
    r = np.column_stack([pi_in, sigma, k_in]).T
    two_theta = np.degrees(np.arccos(k_in @ k_out))
    same = lambda a, b: np.isclose(abs(np.vdot(a, b)), 1.0, atol=1e-12)   # equal up to a phase
    for inc, a in (("pi", 0.0), ("sigma", np.pi / 2)):
        for out, b in (("pi", 0.0), ("sigma", np.pi / 2)):
            g = ScatteringGeometry(two_theta_deg=two_theta, incident=inc, outgoing=out, sample_rotation=r)
            assert same(g.to_crystal(g.polarization_in), vec[(a, b)][0])
            assert same(g.to_crystal(g.polarization_out_basis[0]), vec[(a, b)][1])
    g = ScatteringGeometry(two_theta_deg=two_theta, incident="left", outgoing="left", sample_rotation=r)
    assert same(g.to_crystal(g.polarization_in), left[0])
    assert same(g.to_crystal(g.polarization_out_basis[0]), left[1])

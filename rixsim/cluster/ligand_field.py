"""Crystal field and metal–ligand hybridisation of a d shell from the positions of its ligands.

Three standard routes from a list of ligand positions (Å, relative to the metal, in the model's frame):

* **Angular overlap model** (AOM; Schäffer & Jørgensen, Mol. Phys. 9, 401 (1965)): every ligand raises the
  d orbitals that point at it, by :math:`e_\\sigma` times the squared σ overlap factor and :math:`e_\\pi` times
  the two π ones,

  .. math:: H_{ij} = \\sum_\\ell \\big[e_{\\sigma,\\ell} F^\\sigma_i F^\\sigma_j
            + e_{\\pi,\\ell} (F^{\\pi x}_i F^{\\pi x}_j + F^{\\pi y}_i F^{\\pi y}_j)\\big](\\hat n_\\ell),

  where :math:`F^\\sigma_i(\\hat n)` is the overlap of real d orbital i with a d_z² orbital rotated to point
  along :math:`\\hat n` (1 for a ligand on z with d_z²), :math:`F^{\\pi}` those with d_xz, d_yz rotated.
  Regular octahedron: e_g = 3e_σ, t_2g = 4e_π, 10Dq = 3e_σ − 4e_π; tetrahedron: e = 8/3 e_π,
  t_2 = 4/3 e_σ + 8/9 e_π, so E(t_2) − E(e) = 4/9 (3e_σ − 4e_π).

* **Point charges** (the crystal-field limit): charge :math:`q_\\ell e` at :math:`\\mathbf R_\\ell`,

  .. math:: H_{mm'} = -\\sum_\\ell q_\\ell \\frac{e^2}{4\\pi\\varepsilon_0}\\sum_{k=2,4}
            \\frac{\\langle r^k\\rangle}{R_\\ell^{k+1}}\\, C^{(k)*}_{m-m'}(\\hat R_\\ell)\\, c^k(2m, 2m'),

  with :math:`c^k` the Gaunt coefficients of :mod:`rixsim.manybody.angular`.  Octahedron of charges −Ze at
  distance a: :math:`Dq = Z e^2\\langle r^4\\rangle / (6a^5)`; a tetrahedron at the same distance gives
  −4/9 of it (both classical; e.g. Ballhausen, *Introduction to Ligand Field Theory* (1962), ch. 5).

* **Slater–Koster hopping** (for charge-transfer models): ligand p orbitals couple to the d orbitals with
  V(pdσ), V(pdπ) times the same angular factors; the d shell couples only to the combinations
  :math:`W = (VV^\\dagger)^{-1/2}V` of ligand orbitals, with the Hermitian, positive 5×5 hopping
  :math:`T = (VV^\\dagger)^{1/2} = \\big[\\mathrm{AOM}(V_{pd\\sigma}^2, V_{pd\\pi}^2)\\big]^{1/2}`.  This is
  exact for a ligand shell of degenerate orbitals without ligand–ligand hopping, which is what the
  ligand shell ``"L"`` of :class:`~rixsim.cluster.model.ClusterModel` is.  Regular octahedron:
  T(e_g) = √3 V(pdσ), T(t_2g) = 2 V(pdπ).  Distances enter through Harrison's law
  :math:`V(R) = V(R_0)(R_0/R)^{7/2}` for p–d (W. A. Harrison, *Electronic Structure and the Properties of
  Solids*, Freeman 1980; pass ``exponent`` to change it).

Matrices are 5×5 in the real basis ``dxy, dyz, dz2, dxz, dx2-y2`` of
:mod:`rixsim.cluster.crystal_field`, so they go straight into ``CrystalField("custom", matrix=...)`` and
``ChargeTransfer(hybridization=...)``.  The AOM field carries a trace (every ligand destabilises the
whole shell); ``traceless=True`` (default in :func:`ligand_site`) removes it, as for the named fields.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rixsim.cluster.crystal_field import CrystalField
from rixsim.errors import InputError
from rixsim.manybody import angular

E2_EV_ANGSTROM = 14.399645       # e²/(4πε0) in eV·Å (CODATA 2018: 1.439964548 eV·nm)
HARRISON_PD_EXPONENT = 3.5       # V_pd ∝ d^(−7/2), Harrison (1980)
_SIGMA, _PIX, _PIY = 2, 3, 1     # real-basis indices of dz2, dxz, dyz


def _positions(positions, name="positions") -> np.ndarray:
    p = np.asarray(positions, dtype=float)
    if p.ndim == 1 and p.size == 3:
        p = p[None, :]
    if p.ndim != 2 or p.shape[1] != 3 or not np.isfinite(p).all():
        raise InputError(f"{name} must be an (n, 3) array of finite Cartesian vectors (Å); got shape {p.shape}")
    r = np.linalg.norm(p, axis=1)
    if (r < 1e-8).any():
        raise InputError(f"{name}: a ligand at the metal site (|R| = 0) has no direction")
    return p


def _per_ligand(value, n: int, name: str) -> np.ndarray:
    v = np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy() if np.ndim(value) == 0 \
        else np.asarray(value, dtype=float)
    if v.shape != (n,) or not np.isfinite(v).all():
        raise InputError(f"{name} must be one finite number or one per ligand ({n}); got {value!r}")
    return v


def _rotation_to(n: np.ndarray) -> np.ndarray:
    """A proper rotation R with R·z = n (unit)."""
    z = n / np.linalg.norm(n)
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = helper - z * (helper @ z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.array([x, y, z]).T          # columns: images of x, y, z


def overlap_factors(direction) -> np.ndarray:
    """Angular overlap factors ``F[λ, i]`` (λ = σ, πx, πy) of the real d orbitals ``i`` with a ligand in
    ``direction``: the rows are the real-basis components of d_z², d_xz, d_yz rotated to point along it."""
    n = _positions(direction, "direction")[0]
    u = angular.real_to_complex(2)
    d = angular.rotation_matrix_l(2, _rotation_to(n))
    d_real = np.real_if_close(u.conj().T @ d @ u, tol=1e6)
    if np.iscomplexobj(d_real):
        raise RuntimeError("rotation of real harmonics is not real")   # cannot happen for a proper rotation
    return np.array([d_real[:, _SIGMA], d_real[:, _PIX], d_real[:, _PIY]])


def angular_overlap_matrix(positions, e_sigma, e_pi=0.0) -> np.ndarray:
    """AOM d-orbital matrix (5×5 real basis, eV) of ligands at ``positions`` (only directions matter)
    with σ and π parameters ``e_sigma``, ``e_pi`` (eV; one value or one per ligand)."""
    p = _positions(positions)
    es, ep = _per_ligand(e_sigma, len(p), "e_sigma"), _per_ligand(e_pi, len(p), "e_pi")
    out = np.zeros((5, 5))
    for r, a, b in zip(p, es, ep):
        f = overlap_factors(r)
        out += a * np.outer(f[0], f[0]) + b * (np.outer(f[1], f[1]) + np.outer(f[2], f[2]))
    return out


def point_charge_matrix(positions, charges, r2: float, r4: float) -> np.ndarray:
    """Point-charge crystal field (5×5 real basis, eV, traceless) of charges ``charges`` (units of e; −2
    for O²⁻) at ``positions`` (Å) acting on a d electron with radial moments ``r2`` = ⟨r²⟩ (Å²) and
    ``r4`` = ⟨r⁴⟩ (Å⁴)."""
    from scipy.special import sph_harm_y
    p = _positions(positions)
    q = _per_ligand(charges, len(p), "charges")
    for name, v in (("r2", r2), ("r4", r4)):
        if not np.isfinite(v) or v < 0:
            raise InputError(f"{name} must be a finite radial moment >= 0 (Å^k); got {v!r}")
    rad = np.linalg.norm(p, axis=1)
    theta = np.arccos(np.clip(p[:, 2] / rad, -1, 1))
    phi = np.arctan2(p[:, 1], p[:, 0])
    h = np.zeros((5, 5), dtype=complex)
    for k, rk in ((2, r2), (4, r4)):
        for i, m in enumerate(range(-2, 3)):
            for j, mp in enumerate(range(-2, 3)):
                g = angular.gaunt(2, m, k, 2, mp)
                if g == 0.0:
                    continue
                ck = np.sqrt(4 * np.pi / (2 * k + 1)) * sph_harm_y(k, m - mp, theta, phi)
                h[i, j] += g * rk * np.sum(-q * E2_EV_ANGSTROM / rad ** (k + 1) * np.conj(ck))
    u = angular.real_to_complex(2)
    return np.real_if_close(u.conj().T @ h @ u, tol=1e6).real


def slater_koster_hybridization(positions, v_pd_sigma, v_pd_pi, reference_distance: float | None = None,
                                exponent: float = HARRISON_PD_EXPONENT) -> np.ndarray:
    """Hermitian 5×5 d–ligand hopping T = (V V†)^{1/2} (real basis, eV) of p-orbital ligands.

    ``v_pd_sigma``, ``v_pd_pi`` are V(pdσ), V(pdπ) at ``reference_distance`` (Å); each ligand's values are
    scaled by (R₀/R)^exponent (Harrison's 7/2 by default).  Without a reference distance no scaling is done.
    Signs of V(pd·) do not matter (they are phases of the ligand combinations).
    """
    p = _positions(positions)
    vs, vp = _per_ligand(v_pd_sigma, len(p), "v_pd_sigma"), _per_ligand(v_pd_pi, len(p), "v_pd_pi")
    if reference_distance is not None:
        if not np.isfinite(reference_distance) or reference_distance <= 0:
            raise InputError(f"reference_distance must be > 0 Å; got {reference_distance!r}")
        scale = (reference_distance / np.linalg.norm(p, axis=1)) ** float(exponent)
        vs, vp = vs * scale, vp * scale
    g = angular_overlap_matrix(p, vs ** 2, vp ** 2)
    w, v = np.linalg.eigh(0.5 * (g + g.T))
    # combinations that do not couple (a π-only ligand set in Oh leaves e_g without partners) have w = 0 up to
    # rounding; the square root would turn 1e-17 into 1e-8 eV of spurious hopping
    w = np.where(w > 1e-13 * max(float(w.max(initial=0.0)), 1e-300), w, 0.0)
    return (v * np.sqrt(w)) @ v.T


def _traceless(m: np.ndarray) -> np.ndarray:
    return m - np.trace(m) / 5.0 * np.eye(5)


@dataclass(frozen=True)
class LigandSite:
    """A metal site built from ligand positions: its crystal field and (optionally) its d–ligand hopping.

    Attributes
    ----------
    crystal_field : CrystalField
        ``symmetry="custom"`` with the AOM and/or point-charge matrix.
    hybridization : ndarray or None
        Hermitian 5×5 hopping (real basis, eV) for ``ChargeTransfer(hybridization=...)``.
    positions : ndarray
        The ligand positions (Å) used.
    """

    crystal_field: CrystalField
    hybridization: np.ndarray | None
    positions: np.ndarray
    acceptor_hybridization: np.ndarray | None = None

    def charge_transfer(self, delta: float, udd: float, upd: float, n_ligand_holes: int = 2):
        """A :class:`~rixsim.cluster.model.ChargeTransfer` with this site's hopping."""
        from rixsim.cluster.model import ChargeTransfer
        if self.hybridization is None:
            raise InputError("this site has no hybridisation: give v_pd_sigma (and v_pd_pi) to ligand_site")
        return ChargeTransfer(delta, udd, upd, 0.0, 0.0, 0.0, n_ligand_holes, hybridization=self.hybridization)

    def back_donation(self, delta: float, **kwargs):
        """A :class:`~rixsim.cluster.model.BackDonation` (Δ* = ``delta``, eV) with this site's acceptor
        hopping T* (``acceptor_v_pd_pi`` / ``acceptor_v_pd_sigma`` of :func:`ligand_site`); ``kwargs`` go to
        BackDonation (``udd``, ``upd``, ``core_hole_ligand``, ``n_ligand_electrons``, ``mixed``)."""
        from rixsim.cluster.model import BackDonation
        if self.acceptor_hybridization is None:
            raise InputError("this site has no acceptor hopping: give acceptor_v_pd_pi (and optionally "
                             "acceptor_v_pd_sigma) to ligand_site")
        return BackDonation(delta, 0.0, 0.0, hybridization=self.acceptor_hybridization, **kwargs)


def ligand_site(positions, *, e_sigma=None, e_pi=0.0, charges=None, r2: float = 0.0, r4: float = 0.0,
                v_pd_sigma=None, v_pd_pi=0.0, reference_distance: float | None = None,
                exponent: float = HARRISON_PD_EXPONENT, traceless: bool = True,
                acceptor_v_pd_pi=None, acceptor_v_pd_sigma=0.0) -> LigandSite:
    """Crystal field (AOM ``e_sigma``/``e_pi`` and/or point ``charges`` with ⟨r²⟩, ⟨r⁴⟩) and, with
    ``v_pd_sigma``, Slater–Koster hopping of the ligands at ``positions`` (Å) — one call for any
    distorted site (Jahn–Teller octahedron, trigonal site of a layered oxide, tetrahedral spinel site).

    ``acceptor_v_pd_pi`` (and ``acceptor_v_pd_sigma``, 0 for a π acceptor such as CN⁻ 2π* or CO 2π*) give
    the hopping T* to an empty acceptor shell by the same Slater–Koster sum, with the same distance law
    (:attr:`LigandSite.acceptor_hybridization`, for :meth:`LigandSite.back_donation`): each acceptor
    contributes two π* orbitals perpendicular to its bond.  Regular octahedron: T*(t_2g) = 2V(pdπ),
    T*(e_g) = √3 V(pdσ).

    Examples
    --------
    >>> import numpy as np
    >>> octahedron = np.vstack([np.eye(3), -np.eye(3)]) * 2.0
    >>> site = ligand_site(octahedron, e_sigma=0.5, e_pi=0.1)
    >>> round(float(np.ptp(np.linalg.eigvalsh(site.crystal_field.orbital_matrix()))), 6)   # 3eσ − 4eπ
    1.1
    """
    p = _positions(positions)
    if e_sigma is None and charges is None:
        raise InputError("ligand_site needs e_sigma (angular overlap model) or charges (point charges)")
    cf = np.zeros((5, 5))
    if e_sigma is not None:
        cf += angular_overlap_matrix(p, e_sigma, e_pi)
    if charges is not None:
        cf += point_charge_matrix(p, charges, r2, r4)
    if traceless:
        cf = _traceless(cf)
    hyb = None
    if v_pd_sigma is not None:
        hyb = slater_koster_hybridization(p, v_pd_sigma, v_pd_pi, reference_distance, exponent)
    acc = None
    if acceptor_v_pd_pi is not None:
        acc = slater_koster_hybridization(p, acceptor_v_pd_sigma, acceptor_v_pd_pi, reference_distance, exponent)
    return LigandSite(CrystalField("custom", matrix=cf), hyb, p, acc)


def octahedron(distance: float = 2.0, elongation: float = 1.0) -> np.ndarray:
    """Ligand positions (Å) of an octahedron along the axes; ``elongation`` scales the two z ligands
    (> 1: the Jahn–Teller elongation of Mn³⁺, Cu²⁺)."""
    p = np.vstack([np.eye(3), -np.eye(3)]) * float(distance)
    p[[2, 5], 2] *= float(elongation)
    return p


def tetrahedron(distance: float = 2.0) -> np.ndarray:
    """Ligand positions (Å) of a regular tetrahedron in the cube frame of ``CrystalField("Td")``."""
    return np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) * float(distance) / np.sqrt(3)


def trigonal_octahedron(distance: float = 2.0, polar_angle_deg: float = 54.735610317245346) -> np.ndarray:
    """Ligand positions (Å) of a trigonally distorted octahedron in the D3d frame of ``CrystalField("D3d")``
    (z the threefold axis): two triangles at polar angles θ and 180° − θ whose azimuths are those of the
    cube's ±x, ±y, ±z ligands in that frame (:func:`~rixsim.cluster.crystal_field.trigonal_rotation`).
    θ = arccos(1/√3) = 54.7356° is the regular octahedron; θ > 54.74° compresses it along z (the
    flattened octahedra of the R-3m layered oxides)."""
    from rixsim.cluster.crystal_field import trigonal_rotation
    cube = np.vstack([np.eye(3), -np.eye(3)])
    frame = cube @ trigonal_rotation().T                 # cube ligands in the trigonal frame
    th = np.radians(float(polar_angle_deg))
    out = []
    for v in frame:
        phi = np.arctan2(v[1], v[0])
        t = th if v[2] > 0 else np.pi - th
        out.append([np.sin(t) * np.cos(phi), np.sin(t) * np.sin(phi), np.cos(t)])
    return np.array(out) * float(distance)

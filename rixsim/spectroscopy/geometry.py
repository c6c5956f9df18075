"""Photon polarisation, scattering geometry and the exact orientational (powder) average.

Glossary (the words every function name here uses)
---------------------------------------------------
lab frame
    Right-handed Cartesian frame fixed to the beamline.  The incident beam travels along +z
    (``k_in = ẑ``), the scattering plane is the x–z plane and its normal is +y.  The outgoing beam is
    ``k_out = (sin 2θ, 0, cos 2θ)`` with ``2θ = two_theta_deg`` the scattering angle.
crystal frame
    The frame of the model (``EdgeTransitions.dipole[a]`` with a = x, y, z).  ``sample_rotation`` R maps
    crystal coordinates to lab coordinates, ``v_lab = R @ v_crystal``; a polarisation vector is taken into
    the crystal frame as ``R.T @ ε_lab``.
σ, π
    σ is perpendicular to the scattering plane (ŷ, the same for both beams); π lies in the plane:
    ``π_in = σ × k_in = x̂`` and ``π_out = σ × k_out = (cos 2θ, 0, −sin 2θ)``.  (π, σ, k) is right-handed.
helicity
    Circular polarisation about a unit wave vector k with (e1, e2, k) right-handed is
    ``ε = (e1 + i·h·e2)/√2``; ``h = +1`` carries photon spin +ħ along k.  ``"left"`` is accepted as an alias
    of ``"circular+"`` and ``"right"`` of ``"circular-"``, matching :mod:`rixsim.spectroscopy.xas` and EDRIXS (whose
    ``'left'`` vectors have helicity +1, checked numerically); note that the optics and IEEE conventions
    disagree on which hand is which.
unanalysed
    The outgoing polarisation is not measured: the intensity is summed over the two polarisations
    perpendicular to ``k_out`` (σ_out and π_out).
scattering tensor
    ``F[b, a]`` with the amplitude of a channel ``A = Σ_ab ε_out,b* ε_in,a F[b, a] = uᵀ F v`` where
    ``u = conj(ε_out)``, ``v = ε_in`` (see :mod:`rixsim.spectroscopy.rixs` for F itself).
rank
    A 3×3 tensor splits into rotation-irreducible parts: rank 0 (trace), rank 1 (antisymmetric) and rank 2
    (symmetric traceless) of dimensions 1, 3, 5.
channel set
    :class:`PolarizationChannels` — everything the Kramers–Heisenberg engine needs to know about
    polarisation: a few "out" and "in" vectors to contract the dipoles with, and a weighted list of
    amplitude combinations whose squared moduli add up to the measured intensity.

Powder average (derivation)
---------------------------
For a crystallite rotated by R the amplitude is ``A(R) = uᵀ R F Rᵀ v = ⟨W, R F Rᵀ⟩`` with the
*bilinear* pairing ``⟨X, Y⟩ = Σ_ij X_ij Y_ij`` and ``W = u ⊗ v`` (``W_ba = u_b v_a``).  The map
``Y ↦ R Y Rᵀ`` is a real orthogonal representation of SO(3) on 3×3 matrices (also on complex ones: it acts on
real and imaginary parts separately) that splits into the rank-k subspaces, each an absolutely irreducible
real representation of dimension 2k+1.  Expanding W and F in a real orthonormal basis ``E_kα`` of those
subspaces, ``A(R) = Σ_k Σ_αβ w_kα D^k_αβ(R) f_kβ`` with complex coefficients.  Schur orthogonality for the
real irreducible matrices ``D^k`` under the Haar measure, ``∫ D^k_αβ D^k'_γδ dR = δ_kk' δ_αγ δ_βδ/(2k+1)``,
then gives

.. math::

    \\langle |A|^2 \\rangle_R = \\sum_{k=0}^{2} \\frac{\\|W^{(k)}\\|^2 \\, \\|F^{(k)}\\|^2}{2k+1},

with complex Frobenius norms ``‖X‖² = Σ |X_ij|²``.  Nothing is assumed about u and v being real, so circular
polarisation is covered.  ``|A|²`` is a polynomial of degree 4 in the entries of R, so any rotation 4-design
averages it exactly; the 60 rotations of the icosahedral group form a 5-design (the first SO(3) irreps with an
icosahedral invariant have ℓ = 6), which the tests use as an exact quadrature.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rixsim import validate
from rixsim.errors import InputError

__all__ = [
    "linear", "circular", "rotation_about", "euler_rotation", "ScatteringGeometry",
    "rank_basis", "rank_decompose", "rank_norms_squared", "powder_weights",
    "PolarizationChannels", "polarization_channels", "isotropic_channels",
]

_SQRT2 = np.sqrt(2.0)


# ----------------------------------------------------------------------------------------- vectors
def _vector3(value, name: str, complex_ok: bool = True) -> np.ndarray:
    try:
        v = np.asarray(value, dtype=complex if complex_ok else float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a 3-vector of numbers; got {value!r}") from exc
    if v.shape != (3,):
        raise InputError(f"{name} must be a 3-vector; got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise InputError(f"{name} must be finite; got {value!r}")
    n = np.linalg.norm(v)
    if n == 0:
        raise InputError(f"{name} must be non-zero")
    return v / n


def _unit(value, name: str) -> np.ndarray:
    v = _vector3(value, name, complex_ok=False)
    return v.real if np.iscomplexobj(v) else v


def linear(direction) -> np.ndarray:
    """Linear polarisation along ``direction`` (any frame): the normalised complex 3-vector."""
    return _vector3(direction, "polarisation direction", complex_ok=False).astype(complex)


def _transverse_basis(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Real (e1, e2) with (e1, e2, k) right-handed; e1 in the plane of k and ẑ when possible."""
    ref = np.array([0.0, 1.0, 0.0])            # σ direction of the lab frame
    if abs(k @ ref) > 0.9:
        ref = np.array([1.0, 0.0, 0.0])
    e1 = np.cross(ref, k)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(k, e1)
    return e1, e2


def circular(k, helicity: int = +1) -> np.ndarray:
    """Circular polarisation about wave vector ``k``: ``(e1 + i·h·e2)/√2``, ``h = helicity = ±1``.

    ``h = +1`` carries photon spin +ħ along ``k``.  For ``k = ẑ`` the result is ``(x̂ + i ŷ)/√2``.
    """
    if helicity not in (+1, -1):
        raise InputError(f"helicity must be +1 or -1; got {helicity!r}")
    k = _unit(k, "wave vector k")
    if abs(k[2]) > 0.9:          # keep (x̂, ŷ) as (e1, e2) for beams along ±z
        e1 = np.array([1.0, 0.0, 0.0])
        e2 = np.cross(k, e1)
        e1 = np.cross(e2, k)
    else:
        e1, e2 = _transverse_basis(k)
    return (e1 + 1j * helicity * e2) / _SQRT2


def rotation_about(axis, angle_deg: float) -> np.ndarray:
    """Rotation matrix (active, right-hand rule) by ``angle_deg`` about ``axis``."""
    n = _unit(axis, "rotation axis")
    t = np.deg2rad(float(angle_deg))
    k = np.array([[0, -n[2], n[1]], [n[2], 0, -n[0]], [-n[1], n[0], 0]])
    return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * (k @ k)


def euler_rotation(alpha_deg: float, beta_deg: float, gamma_deg: float) -> np.ndarray:
    """Active z–y–z Euler rotation ``Rz(α) Ry(β) Rz(γ)`` (angles in degrees)."""
    return (rotation_about([0, 0, 1], alpha_deg) @ rotation_about([0, 1, 0], beta_deg)
            @ rotation_about([0, 0, 1], gamma_deg))


def _rotation(value, name: str = "sample_rotation") -> np.ndarray:
    r = np.asarray(value, dtype=float)
    if r.shape != (3, 3) or not np.all(np.isfinite(r)):
        raise InputError(f"{name} must be a finite 3x3 matrix; got shape {r.shape}")
    if not np.allclose(r @ r.T, np.eye(3), atol=1e-9) or np.linalg.det(r) < 0:
        raise InputError(f"{name} must be a proper rotation (R Rᵀ = 1, det R = +1)")
    return r


# ---------------------------------------------------------------------------------------- geometry
_NAMED = ("sigma", "pi", "circular+", "circular-", "left", "right")
_ALIASES = {"left": "circular+", "right": "circular-"}


@dataclass(frozen=True, eq=False)
class ScatteringGeometry:
    """A single-crystal (or powder) RIXS geometry in the lab frame described in the module glossary.

    Parameters
    ----------
    two_theta_deg : float
        Scattering angle between ``k_in`` and ``k_out`` in degrees, 0 < 2θ < 180 (90° is common at soft
        X-ray RIXS end stations because it suppresses π-polarised elastic scattering).
    incident : str or 3-vector
        ``"sigma"``, ``"pi"``, ``"circular+"``, ``"circular-"`` (helicity ±1; aliases ``"left"``,
        ``"right"``) or a lab-frame vector (complex allowed; must be perpendicular to ``k_in``).
    outgoing : None, str or 3-vector
        None → unanalysed (sum over σ_out and π_out); ``"sigma"``, ``"pi"``, ``"circular±"`` or a lab-frame
        vector perpendicular to ``k_out`` for an analysed measurement.
    sample_rotation : (3, 3) array
        Rotation R from the crystal (model) frame to the lab frame.  Identity: crystal axes = lab axes.
    """

    two_theta_deg: float = 90.0
    incident: object = "pi"
    outgoing: object = None
    sample_rotation: np.ndarray = field(default_factory=lambda: np.eye(3))

    def __post_init__(self):
        tt = validate.number(self.two_theta_deg, "two_theta_deg", "degrees", lo=0.0, hi=180.0, lo_open=True,
                             hi_open=True)
        if tt < 2 * np.pi:
            validate.suspicious(f"two_theta_deg = {tt:g} degrees looks like radians; angles are in degrees")
        object.__setattr__(self, "two_theta_deg", tt)
        r = _rotation(self.sample_rotation)
        r.setflags(write=False)
        object.__setattr__(self, "sample_rotation", r)
        # resolve early so a bad polarisation fails at construction time
        self.polarization_in
        self.polarization_out_basis

    # wave vectors and σ/π in the lab frame
    @property
    def k_in(self) -> np.ndarray:
        return np.array([0.0, 0.0, 1.0])

    @property
    def k_out(self) -> np.ndarray:
        t = np.deg2rad(self.two_theta_deg)
        return np.array([np.sin(t), 0.0, np.cos(t)])

    @property
    def sigma(self) -> np.ndarray:
        return np.array([0.0, 1.0, 0.0])

    @property
    def pi_in(self) -> np.ndarray:
        return np.cross(self.sigma, self.k_in)

    @property
    def pi_out(self) -> np.ndarray:
        return np.cross(self.sigma, self.k_out)

    def _resolve(self, spec, k, pi, which: str) -> np.ndarray:
        if isinstance(spec, str):
            spec = _ALIASES.get(spec, spec)
            if spec == "sigma":
                return self.sigma.astype(complex)
            if spec == "pi":
                return pi.astype(complex)
            if spec in ("circular+", "circular-"):
                # (π, σ, k) is right-handed, so e1 = π, e2 = σ
                h = 1 if spec.endswith("+") else -1
                return (pi + 1j * h * self.sigma) / _SQRT2
            raise InputError(f"{which} polarisation {spec!r} unknown; allowed: {_NAMED} or a 3-vector")
        v = _vector3(spec, f"{which} polarisation")
        if abs(v @ k) > 1e-8:
            raise InputError(f"{which} polarisation {spec!r} is not perpendicular to k_{which} = {k}")
        return v

    @property
    def polarization_in(self) -> np.ndarray:
        """Incident polarisation ε_in in the lab frame (complex unit vector)."""
        return self._resolve(self.incident, self.k_in, self.pi_in, "in")

    @property
    def polarization_out_basis(self) -> np.ndarray:
        """Outgoing polarisations summed over, lab frame, shape (n, 3): n = 2 unanalysed (σ, π), 1 analysed."""
        if self.outgoing is None:
            return np.array([self.sigma, self.pi_out], dtype=complex)
        return self._resolve(self.outgoing, self.k_out, self.pi_out, "out")[None, :]

    def to_crystal(self, vectors) -> np.ndarray:
        """Lab-frame vectors (..., 3) expressed in the crystal frame: ``Rᵀ v``."""
        return np.asarray(vectors) @ self.sample_rotation


# ---------------------------------------------------------------------------- rank decomposition
def rank_basis() -> tuple[np.ndarray, np.ndarray]:
    """Real orthonormal basis of 3×3 matrices adapted to ranks: ``(E[9, 3, 3], rank[9])``.

    Orthonormal in ``⟨X, Y⟩ = Σ X_ij Y_ij``; E[0] spans rank 0, E[1:4] rank 1, E[4:9] rank 2.
    """
    e = np.zeros((9, 3, 3))
    e[0] = np.eye(3) / np.sqrt(3.0)
    for n, (i, j) in enumerate(((0, 1), (0, 2), (1, 2))):
        e[1 + n, i, j], e[1 + n, j, i] = 1 / _SQRT2, -1 / _SQRT2
        e[4 + n, i, j], e[4 + n, j, i] = 1 / _SQRT2, 1 / _SQRT2
    e[7] = np.diag([1.0, -1.0, 0.0]) / _SQRT2
    e[8] = np.diag([1.0, 1.0, -2.0]) / np.sqrt(6.0)
    return e, np.array([0, 1, 1, 1, 2, 2, 2, 2, 2])


def rank_decompose(tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split ``tensor[..., 3, 3]`` into rank-0 (isotropic), rank-1 (antisymmetric), rank-2 (symmetric
    traceless) parts; the three add up to ``tensor``."""
    t = np.asarray(tensor)
    if t.shape[-2:] != (3, 3):
        raise InputError(f"tensor must end in (3, 3); got shape {t.shape}")
    tr = np.trace(t, axis1=-2, axis2=-1)[..., None, None]
    t0 = tr * np.eye(3) / 3.0
    tt = np.swapaxes(t, -1, -2)
    t1 = 0.5 * (t - tt)
    t2 = 0.5 * (t + tt) - t0
    return t0, t1, t2


def rank_norms_squared(tensor) -> np.ndarray:
    """``‖T^(k)‖²`` (complex Frobenius) for k = 0, 1, 2; shape ``tensor.shape[:-2] + (3,)``."""
    return np.stack([np.sum(np.abs(p) ** 2, axis=(-2, -1)) for p in rank_decompose(tensor)], axis=-1)


def powder_weights(polarization_in, polarization_out) -> np.ndarray:
    """Rank weights ``w_k`` of the powder average for one incident and one or more outgoing polarisations.

    ``⟨I⟩_powder = Σ_k w_k ‖F^(k)‖²`` with
    ``w_k = Σ_e ‖(conj(ε_out,e) ⊗ ε_in)^(k)‖² / (2k+1)`` (sum over the listed outgoing polarisations).

    Parameters
    ----------
    polarization_in : 3-vector (complex allowed)
    polarization_out : 3-vector or (n, 3) array of them
    """
    v = np.asarray(polarization_in, dtype=complex)
    u = np.conj(np.atleast_2d(np.asarray(polarization_out, dtype=complex)))
    w = np.einsum("eb,a->eba", u, v)
    return rank_norms_squared(w).sum(axis=0) / np.array([1.0, 3.0, 5.0])


# ------------------------------------------------------------------------------------ channel sets
@dataclass(frozen=True, eq=False)
class PolarizationChannels:
    """The polarisation part of a RIXS calculation, in the crystal frame.

    With ``G[u, v] = Σ_ab out_vectors[u, b] · in_vectors[v, a] · F[b, a]`` the intensity is

    .. math::  I = \\sum_q w_q \\left| \\sum_{uv} C_{quv} G_{uv} \\right|^2 .

    ``out_vectors`` are already complex-conjugated outgoing polarisations (``u = conj(ε_out)``).

    Attributes
    ----------
    out_vectors : (n_u, 3) complex
    in_vectors : (n_v, 3) complex
    coefficients : (n_q, n_u, n_v) complex
    weights : (n_q,) float, >= 0
    label : str
    """

    out_vectors: np.ndarray
    in_vectors: np.ndarray
    coefficients: np.ndarray
    weights: np.ndarray
    label: str = ""

    def __post_init__(self):
        u = np.array(self.out_vectors, dtype=complex, ndmin=2)
        v = np.array(self.in_vectors, dtype=complex, ndmin=2)
        c = np.array(self.coefficients, dtype=complex)
        w = np.array(self.weights, dtype=float)
        if u.shape[1] != 3 or v.shape[1] != 3 or c.shape != (w.size, u.shape[0], v.shape[0]):
            raise InputError(f"inconsistent channel shapes: out {u.shape}, in {v.shape}, "
                             f"coefficients {c.shape}, weights {w.shape}")
        if (w < 0).any():
            raise InputError("channel weights must be >= 0")
        for name, val in (("out_vectors", u), ("in_vectors", v), ("coefficients", c), ("weights", w)):
            val.setflags(write=False)
            object.__setattr__(self, name, val)

    def intensity(self, tensor) -> np.ndarray:
        """Intensity of scattering tensors ``tensor[..., b, a]`` (reference evaluation, numpy)."""
        g = np.einsum("ub,va,...ba->...uv", self.out_vectors, self.in_vectors, np.asarray(tensor))
        amp = np.einsum("quv,...uv->...q", self.coefficients, g)
        return np.einsum("q,...q->...", self.weights, np.abs(amp) ** 2)


def _pairs(eps_in: np.ndarray, eps_out: np.ndarray, label: str) -> PolarizationChannels:
    """Single crystal: one incident, n outgoing polarisations (summed)."""
    n = eps_out.shape[0]
    return PolarizationChannels(np.conj(eps_out), eps_in[None, :], np.eye(n)[:, :, None], np.ones(n), label)


def _powder(eps_in: np.ndarray, eps_out: np.ndarray, label: str) -> PolarizationChannels:
    wk = powder_weights(eps_in, eps_out)
    e, rank = rank_basis()
    return PolarizationChannels(np.eye(3), np.eye(3), e, wk[rank], label)


def isotropic_channels() -> PolarizationChannels:
    """Incident polarisation averaged over x, y, z; outgoing summed over x, y, z: ``I = Σ_ab |F_ba|² / 3``.

    This is also the powder average of any geometry once the emission is integrated over all directions
    and polarisations (every rank weight equals 1/3), and the convention under which isotropic XAS is
    ``Σ_a |⟨m|T_a|g⟩|² / 3``.
    """
    return PolarizationChannels(np.eye(3), np.eye(3), np.eye(9).reshape(9, 3, 3), np.full(9, 1 / 3),
                                "isotropic")


def polarization_channels(geometry: ScatteringGeometry | None = None, polarization_in=None,
                          polarization_out=None, powder: bool = False) -> PolarizationChannels:
    """Turn a user's polarisation request into a :class:`PolarizationChannels` (crystal frame).

    Either ``geometry`` (a :class:`ScatteringGeometry`) or the explicit crystal-frame vectors:

    * ``polarization_in``: 3-vector (complex allowed) or ``"isotropic"`` (average over x, y, z; default);
    * ``polarization_out``: 3-vector (analysed), an (n, 3) array of outgoing polarisations to sum, or
      ``"all"`` (sum over x, y, z; default).

    ``powder=True`` averages over all crystallite orientations exactly (rank decomposition) at the given
    geometry or vectors.  Without either, the result is :func:`isotropic_channels`.
    """
    if geometry is not None:
        if polarization_in is not None or polarization_out is not None:
            raise InputError("give either geometry or polarization_in/polarization_out, not both")
        if not isinstance(geometry, ScatteringGeometry):
            raise InputError(f"geometry must be a ScatteringGeometry; got {type(geometry).__name__}")
        eps_in = geometry.to_crystal(geometry.polarization_in)
        eps_out = geometry.to_crystal(geometry.polarization_out_basis)
        label = (f"2θ={geometry.two_theta_deg:g}°, in={geometry.incident}, "
                 f"out={'unanalysed' if geometry.outgoing is None else geometry.outgoing}")
        return _powder(eps_in, eps_out, "powder, " + label) if powder else _pairs(eps_in, eps_out, label)
    pin = "isotropic" if polarization_in is None else polarization_in
    pout = "all" if polarization_out is None else polarization_out
    if isinstance(pin, str) and pin != "isotropic":
        raise InputError(f"polarization_in must be a 3-vector or 'isotropic'; got {pin!r}")
    if isinstance(pout, str) and pout != "all":
        raise InputError(f"polarization_out must be a 3-vector, an (n, 3) array or 'all'; got {pout!r}")
    if isinstance(pin, str):
        if not isinstance(pout, str):
            raise InputError("an isotropic incident beam with an analysed outgoing polarisation is not "
                             "supported; give polarization_in as a vector")
        return isotropic_channels()
    eps_in = _vector3(pin, "polarization_in")
    if isinstance(pout, str):
        eps_out = np.eye(3, dtype=complex)
    else:
        arr = np.asarray(pout)
        rows = arr[None, :] if arr.ndim == 1 else arr
        if rows.ndim != 2 or rows.shape[1] != 3:
            raise InputError(f"polarization_out must be a 3-vector or an (n, 3) array; got shape {arr.shape}")
        eps_out = np.array([_vector3(r, "polarization_out") for r in rows])
    label = "powder" if powder else "single crystal"
    return _powder(eps_in, eps_out, label) if powder else _pairs(eps_in, eps_out, label)

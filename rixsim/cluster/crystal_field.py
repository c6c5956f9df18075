"""Crystal fields of a d shell, as spin-orbital matrices in the complex-harmonic basis of :mod:`rixsim.manybody.angular`.

One-electron energies (eV), standard definitions (Ballhausen; Haverkort's thesis for D3d):

* Oh:  e_g = +6Dq, t_2g = −4Dq (``tendq`` = 10Dq).
* D4h (z the fourfold axis): b1g(x²−y²) = 6Dq + 2Ds − Dt, a1g(z²) = 6Dq − 2Ds − 6Dt,
  b2g(xy) = −4Dq + 2Ds − Dt, e_g(xz, yz) = −4Dq − Ds + 4Dt.  Equivalently the Oh field plus the axial
  terms :math:`A_{20} C^{(2)}_0 + A_{40} C^{(4)}_0` with :math:`A_{20} = -7D_s`, :math:`A_{40} = -21D_t`.
* D3d (z the threefold axis, the cube's [111]): the Oh field rotated into that frame plus
  :math:`A_{20} = -7D_\\sigma`, :math:`A_{40} = -21D_\\tau`, so a1g = −4Dq − 2Dσ − 6Dτ.
  The trigonal frame's in-plane axes (:func:`trigonal_rotation`): x = [1 −1 0]/√2 and y = [1 1 −2]/√6 of
  the cube, z = [1 1 1]/√3.  In a layered oxide (R-3m, e.g. LiCoO2) z is the hexagonal c axis; x lies
  perpendicular to a mirror plane of the octahedron (along an O–O edge direction projected into the plane).
* Td (cube axes; ligands at (1,1,1), (1,−1,−1), (−1,1,−1), (−1,−1,1)): e(z², x²−y²) = −6Dq,
  t_2(xy, yz, xz) = +4Dq with ``tendq`` = E(t_2) − E(e) > 0 for a tetrahedron — e *below* t_2, the
  reverse of Oh.  In the point-charge and angular-overlap limits the same ligands give
  10Dq(Td) = 4/9 · 10Dq(Oh) with this sign convention (−4/9 in the signed e − t_2 sense).
* C4v: within a d shell identical to D4h (the odd-parity terms of a C4v field couple d only to p and f),
  so it takes ``tendq, ds, dt`` with the D4h definitions.
* D2h (axes along the three C2 axes): the D4h field plus the orthorhombic terms
  :math:`B^2_2 (C^{(2)}_2 + C^{(2)}_{-2}) + B^4_2 (C^{(4)}_2 + C^{(4)}_{-2})` (Wybourne normalisation,
  ``b22``, ``b42`` in eV).
* custom: any Hermitian 5×5 matrix in the real basis ``dxy, dyz, dz2, dxz, dx2-y2`` (spin-independent);
  :mod:`rixsim.cluster.ligand_field` builds one from ligand positions.

All fields here are traceless except a custom matrix, whose trace is kept (it shifts the d level).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from rixsim.errors import InputError
from rixsim.manybody import angular

REAL_D_ORDER = ("dxy", "dyz", "dz2", "dxz", "dx2-y2")
_EG = (2, 4)
_T2G = (0, 1, 3)
SYMMETRIES = ("Oh", "D4h", "D3d", "Td", "C4v", "D2h", "custom")
_ALLOWED = {"Oh": ("tendq",), "D4h": ("tendq", "ds", "dt"), "C4v": ("tendq", "ds", "dt"),
            "D3d": ("tendq", "dsigma", "dtau"), "Td": ("tendq",), "D2h": ("tendq", "ds", "dt", "b22", "b42"),
            "custom": ()}


def _real_to_spin_complex(real5: np.ndarray) -> np.ndarray:
    u = angular.real_to_complex(2)
    return angular.orbital_to_spin_orbital(u @ real5 @ u.conj().T)


def _oh_real(tendq: float) -> np.ndarray:
    e = np.zeros(5)
    e[list(_EG)] = 0.6 * tendq
    e[list(_T2G)] = -0.4 * tendq
    return np.diag(e)


def orthorhombic(b22: float, b42: float) -> np.ndarray:
    """Orbital 5×5 matrix (complex basis) of :math:`\\sum_k B^k_2 (C^{(k)}_2 + C^{(k)}_{-2})`, k = 2, 4."""
    out = np.zeros((5, 5), dtype=complex)
    for i, m in enumerate(range(-2, 3)):
        for j, mp in enumerate(range(-2, 3)):
            if abs(m - mp) == 2:
                out[i, j] = b22 * angular.gaunt(2, m, 2, 2, mp) + b42 * angular.gaunt(2, m, 4, 2, mp)
    return out


def axial(a20: float, a40: float) -> np.ndarray:
    """Orbital 5×5 matrix (complex basis) of :math:`A_{20}C^{(2)}_0 + A_{40}C^{(4)}_0` for a d shell."""
    diag = [a20 * angular.gaunt(2, m, 2, 2, m) + a40 * angular.gaunt(2, m, 4, 2, m) for m in range(-2, 3)]
    return np.diag(diag).astype(complex)


def trigonal_rotation() -> np.ndarray:
    """Rotation matrix R with R·[111]/√3 = z (the cubic frame → the trigonal frame)."""
    z = np.ones(3) / np.sqrt(3)
    x = np.array([1.0, -1.0, 0.0]) / np.sqrt(2)
    y = np.cross(z, x)
    return np.array([x, y, z])


@dataclass(frozen=True)
class CrystalField:
    """Crystal field of the d shell; energies in eV.  See the module docstring for definitions."""

    symmetry: str = "Oh"
    tendq: float = 0.0
    ds: float = 0.0
    dt: float = 0.0
    dsigma: float = 0.0
    dtau: float = 0.0
    matrix: Optional[tuple] = None   # custom: 5×5 Hermitian, real-harmonic basis
    b22: float = 0.0
    b42: float = 0.0

    def __post_init__(self):
        if self.symmetry not in SYMMETRIES:
            raise InputError(f"unknown symmetry {self.symmetry!r}; allowed: {', '.join(SYMMETRIES)}")
        names = ("tendq", "ds", "dt", "dsigma", "dtau", "b22", "b42")
        for name in names:
            v = getattr(self, name)
            if not np.isfinite(v):
                raise InputError(f"crystal-field parameter {name} must be finite; got {v!r}")
        extra = [n for n in names if getattr(self, n) and n not in _ALLOWED[self.symmetry]]
        if extra and self.symmetry == "Oh":
            raise InputError("Oh takes only tendq; use symmetry='D4h' for Ds/Dt or 'D3d' for Dsigma/Dtau")
        if extra and self.symmetry != "custom":
            raise InputError(f"{self.symmetry} takes {', '.join(_ALLOWED[self.symmetry])}; got {', '.join(extra)}")
        if self.symmetry == "custom":
            if self.matrix is None:
                raise InputError("symmetry='custom' needs a 5×5 Hermitian matrix (real d basis "
                                 f"{', '.join(REAL_D_ORDER)})")
            m = np.asarray(self.matrix, dtype=complex)
            if m.shape != (5, 5):
                raise InputError(f"custom crystal-field matrix must be 5×5; got shape {m.shape}")
            dev = np.abs(m - m.conj().T).max()
            if dev > 1e-10:
                raise InputError(f"custom crystal-field matrix is not Hermitian (max |M − M†| = {dev:.3g} eV)")
            object.__setattr__(self, "matrix", tuple(map(tuple, m)))
        elif self.matrix is not None:
            raise InputError("a crystal-field matrix is only used with symmetry='custom'")

    def orbital_matrix(self) -> np.ndarray:
        """5×5 orbital matrix in the complex basis (m = −2…2)."""
        u = angular.real_to_complex(2)

        if self.symmetry == "Oh":
            return u @ _oh_real(self.tendq) @ u.conj().T
        if self.symmetry in ("D4h", "C4v"):
            return u @ _oh_real(self.tendq) @ u.conj().T + axial(-7 * self.ds, -21 * self.dt)
        if self.symmetry == "D2h":
            return (u @ _oh_real(self.tendq) @ u.conj().T + axial(-7 * self.ds, -21 * self.dt)
                    + orthorhombic(self.b22, self.b42))
        if self.symmetry == "Td":
            return u @ _oh_real(-self.tendq) @ u.conj().T
        if self.symmetry == "D3d":
            d = angular.rotation_matrix_l(2, trigonal_rotation())
            oh = d @ (u @ _oh_real(self.tendq) @ u.conj().T) @ d.conj().T
            return oh + axial(-7 * self.dsigma, -21 * self.dtau)
        m = np.asarray(self.matrix, dtype=complex)
        return u @ m @ u.conj().T

    def spin_orbital_matrix(self) -> np.ndarray:
        """10×10 spin-orbital matrix (spin-independent)."""
        return angular.orbital_to_spin_orbital(self.orbital_matrix())


def hybridization_matrix(veg: float, vt2g: float, symmetry: str = "Oh") -> np.ndarray:
    """10×10 spin-orbital matrix of d–ligand hopping: ``veg`` on e_g, ``vt2g`` on t_2g combinations.

    For D3d the cubic e_g/t_2g labels are those of the cube before rotation into the trigonal frame.
    """
    v = np.zeros(5)
    v[list(_EG)] = veg
    v[list(_T2G)] = vt2g
    u = angular.real_to_complex(2)
    m = u @ np.diag(v) @ u.conj().T
    if symmetry == "D3d":
        d = angular.rotation_matrix_l(2, trigonal_rotation())
        m = d @ m @ d.conj().T
    return angular.orbital_to_spin_orbital(m)


def t2g_acceptor_orbitals(symmetry: str = "Oh") -> np.ndarray:
    """5×3 orbital matrix (complex d basis, m = −2…2) whose columns span the cubic t_2g orbitals (for D3d
    rotated into the trigonal frame), chosen as eigenvectors of the projected L_z so that each column has
    a definite ``m`` modulo the axis order: a ligand shell of these three combinations keeps the symmetry
    blocks of :meth:`rixsim.cluster.model.ClusterModel.eigensystem`."""
    u = angular.real_to_complex(2)
    t = u[:, list(_T2G)]
    if symmetry == "D3d":
        t = angular.rotation_matrix_l(2, trigonal_rotation()) @ t
    lz = np.diag(np.arange(-2, 3)).astype(complex)
    w, v = np.linalg.eigh(t.conj().T @ lz @ t)
    out = t @ v
    for c in range(3):          # a fixed phase: largest component real and positive
        k = np.argmax(np.abs(out[:, c]))
        out[:, c] *= np.abs(out[k, c]) / out[k, c]
    return out


def t2g_acceptor_hybridization(vt2g: float, symmetry: str = "Oh") -> np.ndarray:
    """10×6 spin-orbital hopping from the d shell (rows) to a three-orbital t_2g acceptor shell (columns,
    the orbitals of :func:`t2g_acceptor_orbitals`, spin-orbital index ``2*orbital + s``)."""
    return np.kron(vt2g * t2g_acceptor_orbitals(symmetry), np.eye(2))


def ligand_field_matrix(tenq: float, symmetry: str = "Oh") -> np.ndarray:
    """10×10 spin-orbital matrix of the ligand orbitals' own e_g/t_2g splitting ``tenq`` (eV)."""
    return CrystalField("D3d" if symmetry == "D3d" else "Oh", tendq=tenq).spin_orbital_matrix()

"""Angular algebra for one shell or a pair of shells: 3j symbols, Gaunt coefficients, Coulomb tensors,
spin–orbit and dipole matrices, and the real/complex harmonic transformations.

Conventions (owned by this module and :mod:`rixsim.manybody.basis`)
-------------------------------------------------------------------
* Spin-orbitals of a shell with orbital momentum ``l`` are ordered ``index = 2*(m + l) + s`` with
  ``m = -l, ..., l`` (complex spherical harmonics, Condon–Shortley phase) and ``s = 0`` for spin up,
  ``s = 1`` for spin down, quantised along z.
* Real harmonics for d are ordered ``dxy, dyz, dz2, dxz, dx2-y2`` (m = -2 ... 2 in the real convention):
  ``real_to_complex(2)`` returns the unitary ``U`` with ``|real_r> = Σ_m U[m, r] |m>``.
* Gaunt coefficient :math:`c^k(lm, l'm') = \\sqrt{4\\pi/(2k+1)}\\int Y^*_{lm} Y_{kq} Y_{l'm'}\\,d\\Omega`.
* Two-body matrix elements are physicist's ``<ab|1/r12|cd>``; the operator is
  :math:`\\tfrac12\\sum U_{abcd}\\, c^\\dagger_a c^\\dagger_b c_d c_c`.
"""
from __future__ import annotations

from functools import lru_cache
from math import factorial, sqrt

import numpy as np


def wigner_3j(j1, j2, j3, m1, m2, m3) -> float:
    """Wigner 3j symbol for integer or half-integer arguments (Racah's formula)."""
    if abs(m1 + m2 + m3) > 1e-9:
        return 0.0
    if not (abs(j1 - j2) <= j3 <= j1 + j2):
        return 0.0
    if abs(m1) > j1 or abs(m2) > j2 or abs(m3) > j3:
        return 0.0
    args = [j1 + j2 - j3, j1 - j2 + j3, -j1 + j2 + j3, j1 + m1, j1 - m1, j2 + m2, j2 - m2, j3 + m3, j3 - m3]
    if any(abs(a - round(a)) > 1e-9 for a in args):
        return 0.0
    a = [int(round(x)) for x in args]
    tri = factorial(a[0]) * factorial(a[1]) * factorial(a[2]) / factorial(int(round(j1 + j2 + j3 + 1)))
    pref = sqrt(tri * factorial(a[3]) * factorial(a[4]) * factorial(a[5]) * factorial(a[6])
                * factorial(a[7]) * factorial(a[8]))
    t1, t2 = int(round(j2 - j3 - m1)), int(round(j1 - j3 + m2))
    t3, t4, t5 = int(round(j1 + j2 - j3)), int(round(j1 - m1)), int(round(j2 + m2))
    total = 0.0
    for t in range(max(0, t1, t2), min(t3, t4, t5) + 1):
        total += (-1) ** t / (factorial(t) * factorial(t - t1) * factorial(t - t2)
                              * factorial(t3 - t) * factorial(t4 - t) * factorial(t5 - t))
    sign = (-1) ** int(round(j1 - j2 - m3))
    return sign * pref * total


@lru_cache(maxsize=None)
def gaunt(l1: int, m1: int, k: int, l2: int, m2: int) -> float:
    """:math:`c^k(l_1 m_1, l_2 m_2)`, nonzero only for q = m1 − m2 and l1 + k + l2 even."""
    q = m1 - m2
    if abs(q) > k:
        return 0.0
    return ((-1) ** m1 * sqrt((2 * l1 + 1) * (2 * l2 + 1))
            * wigner_3j(l1, k, l2, 0, 0, 0) * wigner_3j(l1, k, l2, -m1, q, m2))


def _spin_orbitals(l: int):
    return [(m, s) for m in range(-l, l + 1) for s in (0, 1)]


def coulomb_tensor(la: int, lb: int, lc: int, ld: int, radial: dict[int, float]) -> np.ndarray:
    """``U[a, b, c, d] = <ab|1/r12|cd>`` between shells of momenta ``la, lb`` (electron 1, 2) and
    ``lc, ld``; ``radial`` maps the multipole order k to the radial integral :math:`R^k` in eV.

    .. math:: \\langle ab|cd\\rangle = \\delta_{s_a s_c}\\delta_{s_b s_d}
              \\sum_k R^k\\, c^k(l_a m_a, l_c m_c)\\, c^k(l_d m_d, l_b m_b)
    """
    oa, ob, oc, od = (_spin_orbitals(x) for x in (la, lb, lc, ld))
    u = np.zeros((len(oa), len(ob), len(oc), len(od)))
    for ia, (ma, sa) in enumerate(oa):
        for ic, (mc, sc) in enumerate(oc):
            if sa != sc:
                continue
            for ib, (mb, sb) in enumerate(ob):
                for id_, (md, sd) in enumerate(od):
                    if sb != sd or ma + mb != mc + md:
                        continue
                    u[ia, ib, ic, id_] = sum(r * gaunt(la, ma, k, lc, mc) * gaunt(ld, md, k, lb, mb)
                                             for k, r in radial.items())
    return u


def average_dd_coupling(f2: float, f4: float) -> float:
    """Multiplet part of the average d–d pair interaction, :math:`\\tfrac{2}{63}(F^2+F^4)`, so that
    :math:`U_{dd} = F^0 - \\tfrac{2}{63}(F^2+F^4)` is the configuration-averaged repulsion."""
    return 2.0 / 63.0 * (f2 + f4)


def average_pd_coupling(g1: float, g3: float) -> float:
    """Exchange part of the average 2p–3d pair interaction, :math:`\\tfrac{1}{15}G^1 + \\tfrac{3}{70}G^3`."""
    return g1 / 15.0 + 3.0 * g3 / 70.0


def angular_momentum(l: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orbital ``(Lx, Ly, Lz)`` as spin-orbital matrices of a shell (spin-diagonal)."""
    return _with_spin(*_orbital_l(l), spin=None)


def spin_operators(l: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spin ``(Sx, Sy, Sz)`` as spin-orbital matrices of a shell (orbital-diagonal)."""
    sx = np.array([[0, 0.5], [0.5, 0]], dtype=complex)
    sy = np.array([[0, -0.5j], [0.5j, 0]])
    sz = np.array([[0.5, 0], [0, -0.5]], dtype=complex)
    eye = np.eye(2 * l + 1)
    return tuple(np.kron(eye, s) for s in (sx, sy, sz))


def _orbital_l(l: int):
    ms = np.arange(-l, l + 1)
    lz = np.diag(ms).astype(complex)
    lp = np.zeros((2 * l + 1, 2 * l + 1), dtype=complex)   # L+ |m> = sqrt(l(l+1) - m(m+1)) |m+1>
    for i, m in enumerate(ms[:-1]):
        lp[i + 1, i] = sqrt(l * (l + 1) - m * (m + 1))
    lx = 0.5 * (lp + lp.conj().T)
    ly = -0.5j * (lp - lp.conj().T)
    return lx, ly, lz


def _with_spin(*ops, spin):
    return tuple(np.kron(o, np.eye(2)) for o in ops)


def spin_orbit(l: int, zeta: float) -> np.ndarray:
    """:math:`\\zeta\\, \\mathbf{l}\\cdot\\mathbf{s}` for one shell in the spin-orbital basis (eV)."""
    lops = angular_momentum(l)
    sops = spin_operators(l)
    return zeta * sum(a @ b for a, b in zip(lops, sops))


@lru_cache(maxsize=None)
def _real_to_complex(l: int) -> np.ndarray:
    u = np.zeros((2 * l + 1, 2 * l + 1), dtype=complex)
    s2 = 1 / sqrt(2)
    for r, mr in enumerate(range(-l, l + 1)):      # real index r ↔ m_r
        if mr == 0:
            u[l, r] = 1.0
        elif mr > 0:   # cos-type: (|-m> + (-1)^m |m>)/√2
            u[l - mr, r] = s2
            u[l + mr, r] = (-1) ** mr * s2
        else:          # sin-type: i(|m> - (-1)^m |-m>)/√2 with m = mr < 0
            m = -mr
            u[l - m, r] = 1j * s2
            u[l + m, r] = -1j * (-1) ** m * s2
    return u


def real_to_complex(l: int) -> np.ndarray:
    """Unitary ``U`` (orbital, no spin) with ``|real_r> = Σ_m U[m, r] |l m>``; real order for d:
    ``dxy, dyz, dz2, dxz, dx2-y2``."""
    return _real_to_complex(l).copy()


def orbital_to_spin_orbital(mat: np.ndarray) -> np.ndarray:
    """Spin-independent orbital matrix → spin-orbital matrix (``kron(mat, 1_2)``)."""
    return np.kron(np.asarray(mat), np.eye(2))


def rotation_matrix_l(l: int, rotation: np.ndarray) -> np.ndarray:
    """Representation matrix ``D[m, m']`` of a proper 3×3 rotation on the complex harmonics of momentum l.

    Built in the real-harmonic basis by exact evaluation on sample directions (least squares is exact here,
    the real harmonics of order l are closed under rotation), then transformed to the complex basis.
    """
    rotation = np.asarray(rotation, dtype=float)
    rng = np.random.default_rng(12345)
    pts = rng.normal(size=(4 * (2 * l + 1), 3))
    pts /= np.linalg.norm(pts, axis=1)[:, None]
    y_real = _real_harmonics(l, pts)                       # (npts, 2l+1)
    y_rot = _real_harmonics(l, pts @ rotation)             # Y(R^T r): function rotated by R
    d_real, *_ = np.linalg.lstsq(y_real, y_rot, rcond=None)  # Y(R^T r) = Y(r) @ d_real
    u = _real_to_complex(l)
    return u @ d_real @ u.conj().T


def _real_harmonics(l: int, pts: np.ndarray) -> np.ndarray:
    """Real harmonics (unnormalised common factor dropped) on unit vectors, order m = -l..l real convention."""
    from scipy.special import sph_harm_y
    theta = np.arccos(np.clip(pts[:, 2], -1, 1))
    phi = np.arctan2(pts[:, 1], pts[:, 0])
    y = np.array([sph_harm_y(l, m, theta, phi) for m in range(-l, l + 1)]).T   # complex, CS phase
    return np.real(y @ _real_to_complex(l))


def dipole_cartesian(l_final: int, l_initial: int) -> np.ndarray:
    """Angular dipole matrices ``T[a, i, j] = <l_f, i| r_a |l_i, j>`` (a = x, y, z) between spin-orbitals.

    Radial factor set to 1: the caller normalises.  Spherical components ``C^1_q`` give
    :math:`x = (C_{-1} - C_{+1})/\\sqrt2`, :math:`y = i(C_{-1} + C_{+1})/\\sqrt2`, :math:`z = C_0`.
    """
    nf, ni = 2 * l_final + 1, 2 * l_initial + 1
    c = {q: np.zeros((nf, ni)) for q in (-1, 0, 1)}
    for i, mf in enumerate(range(-l_final, l_final + 1)):
        for j, mi in enumerate(range(-l_initial, l_initial + 1)):
            q = mf - mi
            if abs(q) <= 1:
                c[q][i, j] = gaunt(l_final, mf, 1, l_initial, mi)
    s2 = 1 / sqrt(2)
    x = s2 * (c[-1] - c[1])
    y = 1j * s2 * (c[-1] + c[1])
    z = c[0]
    return np.array([orbital_to_spin_orbital(t) for t in (x, y, z)], dtype=complex)

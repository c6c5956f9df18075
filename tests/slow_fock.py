"""Slow, obviously-correct Fock-space reference used to test the numba kernels.

Determinants are sorted tuples of occupied spin-orbitals; c†_p / c_p carry (−1)^(number of occupied q < p).
"""
import itertools

import numpy as np


def apply(ops, det):
    """Apply [(p, dagger), ...] right to left to the determinant tuple; returns (sign, det) or (0, None)."""
    occ = list(det)
    sign = 1
    for p, dagger in reversed(ops):
        below = sum(1 for q in occ if q < p)
        if dagger:
            if p in occ:
                return 0, None
            occ.append(p)
        else:
            if p not in occ:
                return 0, None
            occ.remove(p)
        occ.sort()
        sign *= (-1) ** below
    return sign, tuple(occ)


def dets_from_states(states, n_orb):
    return [tuple(p for p in range(n_orb) if (int(s) >> p) & 1) for s in states]


def one_body_dense(bra_dets, ket_dets, h):
    index = {d: i for i, d in enumerate(bra_dets)}
    out = np.zeros((len(bra_dets), len(ket_dets)), dtype=complex)
    n = h.shape[0]
    for j, det in enumerate(ket_dets):
        for p, q in itertools.product(range(n), repeat=2):
            if h[p, q] == 0:
                continue
            sign, new = apply([(p, True), (q, False)], det)
            if sign and new in index:
                out[index[new], j] += sign * h[p, q]
    return out


def two_body_dense(dets, u):
    index = {d: i for i, d in enumerate(dets)}
    out = np.zeros((len(dets), len(dets)), dtype=complex)
    for (p, q, r, s) in zip(*np.nonzero(u)):
        for j, det in enumerate(dets):
            sign, new = apply([(p, True), (q, True), (s, False), (r, False)], det)
            if sign and new in index:
                out[index[new], j] += 0.5 * sign * u[p, q, r, s]
    return out

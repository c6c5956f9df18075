"""numba kernels of the Fock-space engine.  Arrays and scalars in, arrays out; inputs are assumed valid
(the callers in :mod:`rixsim.manybody.operators` check them).  Bit and sign conventions: :mod:`rixsim.manybody.basis`."""
import numba as nb
import numpy as np


@nb.njit(cache=True, inline="always")
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@nb.njit(cache=True, inline="always")
def _sign_below(state, p):
    """(-1)^(number of occupied spin-orbitals with index < p)."""
    below = state & ((np.uint64(1) << np.uint64(p)) - np.uint64(1))
    return 1 - 2 * (_popcount(below) & 1)


@nb.njit(cache=True)
def _find(states, s):
    """Index of bit string ``s`` in sorted ``states``, or -1."""
    lo, hi = 0, states.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if states[mid] < s:
            lo = mid + 1
        else:
            hi = mid
    if lo < states.size and states[lo] == s:
        return lo
    return -1


@nb.njit(cache=True)
def _apply_string(state, ops, daggers):
    """Apply c/c† operators right to left (ops[-1] first).  Returns (new_state, sign); sign 0 if it vanishes."""
    sign = 1
    s = state
    for t in range(ops.size - 1, -1, -1):
        p = ops[t]
        bit = np.uint64(1) << np.uint64(p)
        occupied = (s & bit) != 0
        if daggers[t]:
            if occupied:
                return s, 0
            sign *= _sign_below(s, p)
            s = s | bit
        else:
            if not occupied:
                return s, 0
            sign *= _sign_below(s, p)
            s = s ^ bit
    return s, sign


@nb.njit(cache=True)
def _count_terms(bra_states, ket_states, ops, daggers):
    n_terms = ops.shape[0]
    count = 0
    for col in range(ket_states.size):
        for t in range(n_terms):
            new, sign = _apply_string(ket_states[col], ops[t], daggers)
            if sign != 0 and _find(bra_states, new) >= 0:
                count += 1
    return count


@nb.njit(cache=True)
def _fill_terms(bra_states, ket_states, ops, daggers, coeffs, rows, cols, vals):
    n_terms = ops.shape[0]
    k = 0
    for col in range(ket_states.size):
        for t in range(n_terms):
            new, sign = _apply_string(ket_states[col], ops[t], daggers)
            if sign == 0:
                continue
            row = _find(bra_states, new)
            if row < 0:
                continue
            rows[k] = row
            cols[k] = col
            vals[k] = sign * coeffs[t]
            k += 1
    return k


def operator_triplets(bra_states, ket_states, ops, daggers, coeffs):
    """COO triplets of Σ_t coeffs[t] · (operator string ops[t]) between two determinant lists.

    ``ops`` is ``(n_terms, n_ops)`` spin-orbital indices, ``daggers`` ``(n_ops,)`` booleans (True = c†),
    applied right to left.
    """
    n = _count_terms(bra_states, ket_states, ops, daggers)
    rows = np.empty(n, dtype=np.int64)
    cols = np.empty(n, dtype=np.int64)
    vals = np.empty(n, dtype=np.complex128)
    k = _fill_terms(bra_states, ket_states, ops, daggers, coeffs, rows, cols, vals)
    return rows[:k], cols[:k], vals[:k]

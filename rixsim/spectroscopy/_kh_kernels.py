"""numba kernels of the Kramers–Heisenberg engine (arrays and scalars in, arrays out; no validation here).

Index names (shared with :mod:`rixsim.spectroscopy.rixs`): ``m`` intermediate state, ``f`` final state, ``g`` initial
(ground or thermally populated) state, ``w`` incident energy within a block, ``u`` / ``v`` the outgoing /
incident polarisation vectors of a :class:`rixsim.spectroscopy.geometry.PolarizationChannels`, ``q`` a channel.

The amplitude of the block is one complex GEMM done by the caller between the two kernels::

    M[m, (w, v, g)]  = Din[v, m, g] / (ω_w − offset − E_m + E_g + i Γ_m/2)      resonance_block
    G[(u, f), (w, v, g)] = Dout[(u, f), m] @ M                                 (zgemm, numpy)
    W[w, f, g] = Σ_q weight_q |Σ_uv C[q, u, v] G[u, f, w, v, g]|²              channel_intensity

The kernels are serial on purpose: their work is a fraction 1/(n_out·n_f) and ~nnz/(9·n_m) of the GEMM's,
and a numba thread pool running next to OpenBLAS's threads on a small machine made a Ni2+ map 40× slower
(measured: 97 ms with both pools, 2 ms with one) through thread contention.
"""
from __future__ import annotations

from numba import njit


@njit(cache=True, fastmath=False)
def resonance_block(din, e_m, hwhm_m, e_g, omegas, offset, out):
    """Fill ``out[m, w, v, g] = din[v, m, g] / (omegas[w] − offset − e_m[m] + e_g[g] + i·hwhm_m[m])``.

    ``din`` (n_v, n_m, n_g) complex128; ``out`` (n_m, n_w, n_v, n_g) complex128, C-contiguous.
    """
    n_v, n_m, n_g = din.shape
    n_w = omegas.shape[0]
    for m in range(n_m):
        for w in range(n_w):
            base = omegas[w] - offset - e_m[m]
            for g in range(n_g):
                inv = 1.0 / complex(base + e_g[g], hwhm_m[m])
                for v in range(n_v):
                    out[m, w, v, g] = din[v, m, g] * inv


@njit(cache=True, fastmath=False)
def channel_intensity(amp, q_of, u_of, v_of, coef, weights, out):
    """``out[w, f, g] = Σ_q weights[q] |Σ_(u,v) C[q, u, v] amp[u, f, w, v, g]|²`` with C given sparsely.

    ``amp`` (n_u, n_f, n_w, n_v, n_g) complex128; the non-zero entries of C as parallel arrays ``q_of``,
    ``u_of``, ``v_of`` (int64, sorted by q) and ``coef`` (complex128); ``weights`` (n_q,) float64;
    ``out`` (n_w, n_f, n_g) float64.
    """
    n_u, n_f, n_w, n_v, n_g = amp.shape
    n_nz = coef.shape[0]
    for f in range(n_f):
        for w in range(n_w):
            for g in range(n_g):
                total = 0.0
                acc = 0.0 + 0.0j
                for k in range(n_nz):
                    acc += coef[k] * amp[u_of[k], f, w, v_of[k], g]
                    if k == n_nz - 1 or q_of[k + 1] != q_of[k]:
                        total += weights[q_of[k]] * (acc.real * acc.real + acc.imag * acc.imag)
                        acc = 0.0 + 0.0j
                out[w, f, g] = total

"""Check for ``bench_edrixs_large.py``: one (ω, emission-polarisation) RIXS spectrum of its cluster evaluated
exactly — sparse LU of (ω − E₀ + E_g + iΓ_c/2 − H_m) per populated initial state, then the final states by dense
diagonalisation of H_i — on rixsim's own matrices, against rixsim's Krylov engine and, if given, an EDRIXS
result kept by ``bench_edrixs_large.py --keep``.  Same widths as the benchmark (one core width Γ_c = 0.3 eV
FWHM, final Lorentzian 0.1 eV FWHM, no Gaussian), 300 K, incident along z.  Meant for the one-ligand-hole
cluster (2 220 initial / 16 380 core-excited states, about a minute); not part of the test suite.

Measured 2026-12-01, ``--ligand-holes 1 --omega-index 25 --outs x,y``: Krylov against exact 1.1e-7 of the
maximum; EDRIXS (eigenvectors orthonormalised, linsys_tol 1e-12) against exact 2.3e-6, intensity ratio 1.0000.

Run:  python benchmarks/edrixs_exact_check.py [--ligand-holes 1] [--omega-index 25] [--outs x,y]
      [--edrixs-workdir DIR]   (DIR: the kept working directory printed by bench_edrixs_large.py --keep)
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp
import scipy.sparse.linalg as sla

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_edrixs_large as bench


def exact_spectrum(model, omega, loss, e_outs):
    """Kramers–Heisenberg spectrum at absolute incident energy ``omega``, summed over ``e_outs``."""
    from rixsim.spectroscopy.krylov import initial_states
    _, h_i = model.hamiltonian(False)
    _, h_m = model.hamiltonian(True)
    t = model.dipole_operators()
    ini = initial_states(model, 300.0)
    e_f, v_f = sl.eigh(h_i.toarray())
    t_in = sum(c * ta for c, ta in zip(bench.E_IN, t))
    t_outs = [sum(c * ta for c, ta in zip(e_out, t)) for e_out in e_outs]
    hw = bench.FINAL_FWHM / 2
    eye = sp.identity(h_m.shape[0], format="csc")
    spec = np.zeros(loss.size)
    for e_g, v_g, p_g in zip(ini.energies, ini.vectors.T, ini.weights):
        shift = omega - model.edge_offset + e_g + 0.5j * bench.GAMMA_C_FWHM
        lu = sla.splu((shift * eye - h_m).tocsc().astype(complex))
        psi = lu.solve(np.asarray(t_in @ v_g, dtype=complex))
        for t_out in t_outs:
            amp = v_f.conj().T @ (t_out.conj().T @ psi)
            lines = hw / np.pi / ((loss[:, None] - (e_f[None, :] - e_g)) ** 2 + hw ** 2)
            spec += p_g * lines @ np.abs(amp) ** 2
    return spec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ligand-holes", type=int, default=1)
    ap.add_argument("--omega-index", type=int, default=25, help="index into the benchmark's 50-point incident axis")
    ap.add_argument("--outs", default="x,y")
    ap.add_argument("--edrixs-workdir", default=None)
    args = ap.parse_args()
    from rixsim.spectroscopy.krylov import KrylovOptions
    from rixsim.spectroscopy.rixs import rixs_map
    model = bench.model_of(args.ligand_holes)
    exc, loss = bench.axes(model)
    e_outs = [bench.AXES[c] for c in args.outs.split(",")]
    w = exc[args.omega_index]
    ref = exact_spectrum(model, w, loss, e_outs)
    kry = np.zeros(loss.size)
    for e_out in e_outs:
        m = rixs_map(model, exc[[args.omega_index]], loss=loss, polarization_in=bench.E_IN, polarization_out=e_out,
                     temperature_k=300.0, final_fwhm=bench.FINAL_FWHM, resolution_fwhm=0.0, method="krylov",
                     margin_fwhm=None, memory_gb=8.0, krylov=KrylovOptions(core_width="l3"))
        kry += m.intensity[0]
    print(f"ω = {w:.4f} eV ({w - model.edge_offset:+.4f} relative), emission {args.outs}")
    print(f"rixsim Krylov vs exact: max |Δ| / max = {np.abs(kry - ref).max() / ref.max():.2e}")
    if args.edrixs_workdir:
        ed = np.load(os.path.join(args.edrixs_workdir, "edrixs_result.npz"))["spectra"][0]
        print(f"EDRIXS vs exact: max |Δ| / max = {np.abs(ed - ref).max() / ref.max():.2e} "
              f"(intensity ratio {ed.max() / ref.max():.6f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: one Krylov L3 RIXS map of the largest charge-transfer cluster, Mn4+ d3 + d4L + d5L2 + d6L3
(38 760 initial / 159 480 core-excited states): wall time, CPU time and peak resident memory.

The case of ``benchmarks/bench_krylov.py`` (``big``): Oh, 10Dq = 1.5 eV, Δ = 3, Udd = 6, Upd = 7.5, Veg = 2.5 eV,
Slater × 0.8, 300 K, π-polarised incident beam, 2θ = 90°, unanalysed emission, loss −1…14 eV on 300 points,
incident energies over the L3 edge (edge offset −8 … +2 eV), default Krylov options, 8 GB budget.
``--n-exc`` sets how many incident energies of that axis are computed (``--first`` takes the first n of the
50-point axis instead of a coarser axis, to time a fraction of the full map honestly: the time per incident
energy is not constant, the final-state side is blocked over energies).  ``--save`` writes the map (npz) for
``bench_edrixs_large.py``.  Set ``RIXSIM_KRYLOV_THREADS=2`` for the parallel kernels on an idle machine.

Measured 2026-12-01 (this engine, one process, serial kernels, 2-core machine shared with other jobs: load
average 6.9 at start, 3.5 at the end; the process got 43 % of a core on average): build 37.6 s (predicted peak
3.80 GB, process peak 1.94 GB); the full 50 × 300 map 1883 s wall, 829 s CPU, peak RSS 1.94 GB (the build's;
the map's plan 1.54 GB); 4 initial states (Γ₈), intermediate Krylov 1580 vectors (two passes), residual 7.8e-7;
final-state Lanczos ≤ 1000 steps.  Second run, same day, ``RIXSIM_KRYLOV_THREADS=2`` on a nearly idle machine
(load average 0.5 at start, 1.9 at the end: one single-threaded job of another session ran beside it part of
the time): build 12.9 s; the full 50 × 300 map 745.3 s wall, 759.2 s CPU (14.9 s per incident energy), peak RSS
1.94 GB (map plan 1.54 GB, two passes: keeping 1580 Krylov vectors of 159 480 complex amplitudes for 8 start
vectors would need 32 GB); 4 initial states, intermediate Krylov 1580, residual 9.0e-7, final Lanczos ≤ 1000
steps, largest change 9.9e-7.  CPU ≈ wall: the "parallel" kernels were running on one thread then, because
they shared the serial kernels' numba cache entry (fixed the same day, ``rixsim.manybody._krylov_kernels._twin``).
The speed-up over the first run is the machine's load, not the threads.  Third run after the fix (``RIXSIM_KRYLOV_THREADS=2``, load average 1.4
at start, 1.6 at the end, nothing else running): build 14.6 s; the map 649.1 s wall, 928.8 s CPU (13.0 s per
incident energy; 1.15× faster than the second run by wall time), peak RSS 1.94 GB; intermediate Krylov 1560,
residual 8.9e-7.  The second thread helps only the sparse products and quadratures.
EDRIXS Fortran/MPI on the same Hamiltonian: ``bench_edrixs_large.py``.

Run:  python benchmarks/bench_krylov_large.py [--n-exc 50] [--first N] [--save map.npz]
"""
from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

N_EXC, N_LOSS, TEMPERATURE_K = 50, 300, 300.0
CT = {"delta": 3.0, "udd": 6.0, "upd": 7.5, "veg": 2.5}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-exc", type=int, default=N_EXC)
    ap.add_argument("--first", type=int, default=None, help="compute only the first N energies of the axis")
    ap.add_argument("--save", default=None)
    ap.add_argument("--memory-gb", type=float, default=8.0)
    args = ap.parse_args()
    from rixsim.cluster.model import cluster_model
    from rixsim.spectroscopy.geometry import ScatteringGeometry
    from rixsim.spectroscopy.krylov import check_build
    from rixsim.spectroscopy.rixs import rixs_map
    print(f"load average at start: {os.getloadavg()}, RIXSIM_KRYLOV_THREADS={os.environ.get('RIXSIM_KRYLOV_THREADS', '1')}",
          flush=True)
    t0 = time.perf_counter()
    model = cluster_model("Mn4+", tendq=1.5, n_ligand_holes=3, **CT)
    est = check_build(model, memory_gb=args.memory_gb)
    _, h_i = model.hamiltonian(False)
    _, h_m = model.hamiltonian(True)
    t_build = time.perf_counter() - t0
    print(f"build: {t_build:.1f} s; {h_i.shape[0]} initial / {h_m.shape[0]} core-excited states, nnz {h_i.nnz} / "
          f"{h_m.nnz}; predicted build peak {max(e.peak_bytes for e in est.values()) / 1e9 if est else 0:.2f} GB, "
          f"process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB", flush=True)
    exc = np.linspace(model.edge_offset - 8.0, model.edge_offset + 2.0, args.n_exc)
    if args.first is not None:
        exc = exc[:args.first]
    loss = np.linspace(-1.0, 14.0, N_LOSS)
    t1 = time.perf_counter()
    c1 = time.process_time()
    rmap = rixs_map(model, exc, loss=loss, geometry=ScatteringGeometry(90.0, "pi"), temperature_k=TEMPERATURE_K,
                    method="krylov", memory_gb=args.memory_gb)
    wall, cpu = time.perf_counter() - t1, time.process_time() - c1
    m = rmap.meta
    print(f"map {exc.size} × {loss.size} (of a {args.n_exc}-point axis): {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"({wall / exc.size:.2f} s per incident energy); peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB "
          f"(predicted {m['predicted_bytes'] / 1e9:.2f} GB)")
    print(f"  {m['n_initial']} initial states; intermediate Krylov {m['krylov_intermediate']}, residual "
          f"{m['residual_max']:.1e}; final Lanczos {m['krylov_final']}, change {m['final_bound_max']:.1e}; "
          f"store={m['store']}, omega_block={m['omega_block']}")
    print(f"load average at end: {os.getloadavg()}")
    if args.save:
        np.savez(args.save, excitation=exc, loss=loss, intensity=rmap.intensity, edge_offset=model.edge_offset)


if __name__ == "__main__":
    main()

"""Benchmark: the Krylov map's memory, measured against its plan — peak ≈ operators (∝ nnz) + kept Krylov
vectors (∝ Krylov size × dimension) + resolvent and final-state vectors (∝ n_ω × dimension).

For each case and each Krylov size k the map runs in a fresh process with the intermediate Krylov vectors kept
(``KrylovOptions(store=True, max_intermediate=k, tol=1e-15)``: the tolerance is out of reach, so every space
runs to exactly k vectors).  The sector Hamiltonians are built first; then the kernel's peak-RSS counter is
reset (``/proc/self/clear_refs``, Linux) and the map's own peak is read from ``VmHWM`` − ``VmRSS`` before the
map.  Printed per point: k, measured map peak, the plan's prediction (``meta["predicted_bytes"]``, which
includes the already-built operators) and, per case, the measured slope d(peak)/dk against the plan's
slope (bytes per Krylov vector = dim_m × 8 or 16 × the start vectors run together), and the measured
intercept against the plan's k-independent part.  The memory model is in the module docstring of
:mod:`rixsim.spectroscopy.krylov`.

Cases (Oh, Slater × 0.8, the parameters of ``bench_krylov.py``): ``atomic`` Mn2+ d5 (1260 core-excited
states), ``mid`` Mn2+ d5 + d6L (8460), ``mid2`` Mn2+ d5 + d6L + d7L2 (20 610); a 10 × 150 map, 300 K, π
incident, 2θ = 90°.

Measured 2026-12-01 (memory does not depend on the machine's load; another benchmark ran beside it):

* ``mid`` (8460 core-excited states, 6 initial states × 2 incident components = 12 Krylov spaces): map peak
  162.6 / 487.7 / 975.1 MB at k = 200 / 600 / 1200 against a plan of 185.0 / 509.8 / 997.1 MB (measured/plan
  0.88–0.98); slope 812.4 kB per Krylov vector measured, 812.2 kB planned (12 × 8460 × 8 bytes; ratio 1.000).
* ``mid2`` (20 610 core-excited states): 423.6 / 1215.2 / 2402.3 MB against 457.6 / 1249.1 / 2436.2 MB
  (0.93–0.99); slope 1978.6 kB measured and planned (ratio 1.000).

The k-independent part measured (0.2 and 28.0 MB) lies below the plan's (22.5 and 61.9 MB), which counts the
operators built before the counter was reset.

Run:  python benchmarks/bench_krylov_memory.py [--cases mid,mid2] [--sizes 200,600,1200]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os

import numpy as np

CT = {"delta": 3.0, "udd": 6.0, "upd": 7.5, "veg": 2.5}
CASES = {"atomic": ("Mn2+", None, 0.9), "mid": ("Mn2+", 1, 0.9), "mid2": ("Mn2+", 2, 0.9)}
N_EXC, N_LOSS = 10, 150


def _status(field):
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def run(case, k, queue):
    from rixsim.cluster.model import atomic_model, cluster_model
    from rixsim.spectroscopy.geometry import ScatteringGeometry
    from rixsim.spectroscopy.krylov import KrylovOptions
    from rixsim.spectroscopy.rixs import rixs_map
    ion, n_lig, tendq = CASES[case]
    model = atomic_model(ion, tendq=tendq) if n_lig is None else cluster_model(ion, tendq=tendq,
                                                                                n_ligand_holes=n_lig, **CT)
    _, h_i = model.hamiltonian(False)
    _, h_m = model.hamiltonian(True)
    exc = np.linspace(model.edge_offset - 8.0, model.edge_offset + 2.0, N_EXC)
    loss = np.linspace(-1.0, 14.0, N_LOSS)
    opts = KrylovOptions(store=True, max_intermediate=k, tol=1e-15)
    geo = ScatteringGeometry(90.0, "pi")
    # one small map first, so that numba's compiled kernels are in memory before the peak is reset
    rixs_map(model, exc[:1], loss=loss[:10], geometry=geo, method="krylov", memory_gb=8.0,
             krylov=KrylovOptions(store=True, max_intermediate=20, tol=1e-15))
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")                                   # reset VmHWM to the current RSS
    before = _status("VmRSS")
    m = rixs_map(model, exc, loss=loss, geometry=geo, temperature_k=300.0, method="krylov", memory_gb=8.0,
                 krylov=opts)
    peak = _status("VmHWM") - before
    queue.put({"dim_m": h_m.shape[0], "dim_i": h_i.shape[0], "nnz": h_m.nnz + h_i.nnz, "k": k, "peak": peak,
               "predicted": m.meta["predicted_bytes"], "n_int": m.meta["krylov_intermediate"],
               "n_initial": m.meta["n_initial"]})


def in_subprocess(case, k):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=run, args=(case, k, q))
    p.start()
    out = q.get()
    p.join()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default="mid,mid2")
    ap.add_argument("--sizes", default="200,600,1200")
    args = ap.parse_args()
    if not os.path.exists("/proc/self/clear_refs"):
        print("SKIPPED: needs Linux /proc/self/clear_refs to reset the peak-RSS counter")
        return 77
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average at start: {os.getloadavg()}; map {N_EXC} × {N_LOSS}", flush=True)
    for case in args.cases.split(","):
        rows = [in_subprocess(case, k) for k in sizes]
        r0 = rows[0]
        print(f"\n{case}: {r0['dim_i']} initial / {r0['dim_m']} core-excited states, nnz(H_i + H_m) = {r0['nnz']}, "
              f"{r0['n_initial']} initial states")
        for r in rows:
            print(f"  k = {r['k']:5d} (used {r['n_int']}): measured map peak {r['peak'] / 1e6:8.1f} MB, "
                  f"plan {r['predicted'] / 1e6:8.1f} MB (incl. operators), measured/plan {r['peak'] / r['predicted']:.2f}")
        k = np.array([r["k"] for r in rows], float)
        meas = np.array([r["peak"] for r in rows], float)
        pred = np.array([r["predicted"] for r in rows], float)
        slope_m, icpt_m = np.polyfit(k, meas, 1)
        slope_p, icpt_p = np.polyfit(k, pred, 1)
        print(f"  slope d(peak)/dk: measured {slope_m / 1e3:.1f} kB per Krylov vector, plan {slope_p / 1e3:.1f} kB "
              f"(ratio {slope_m / slope_p:.3f}; one vector of dim_m = {r0['dim_m'] * 8 / 1e3:.1f} kB real); "
              f"k-independent part: measured {icpt_m / 1e6:.1f} MB, plan {icpt_p / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: dense vs Krylov Kramers–Heisenberg maps, side by side, and the largest cluster within ~8 GB.

Every case is one 50 × 300 L3 map (50 incident energies, 300 loss points), π-polarised incident beam,
2θ = 90°, unanalysed emission, 300 K, Oh, Slater × 0.8, default Krylov options; each engine runs in its own
subprocess so that its peak resident memory (``ru_maxrss``) and CPU time are its own (on a shared machine the
CPU time is the fairer measure; both are printed).  Times include building the sector
Hamiltonians (dense: plus both diagonalisations).  Columns: wall time, peak memory, and for cases where both
run the largest difference relative to the map maximum.

Cases
-----
* ``atomic``:  Mn2+ d5 (252 / 1260 states)
* ``mid``:     Mn2+ d5 + d6L (2352 / 8460)
* ``mid2``:    Mn2+ d5 + d6L + d7L2 (7752 / 20610)
* ``big``:     Mn4+ d3 … d6L3 (38760 / 159480), Krylov only (the dense eigenvectors alone would need 203 GB)

``--baseline-src DIR`` also runs the Krylov engine of another source tree (e.g. an earlier commit unpacked
with ``git archive <commit> rixsim | tar -x -C DIR``) in the same run, for before/after ratios; ``--n-exc`` and
``--n-loss`` shrink the map (default 50 × 300).

Run:  python benchmarks/bench_krylov.py [--cases atomic,mid,mid2,big] [--skip-dense-above 30000]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import time

import numpy as np

N_EXC, N_LOSS, TEMPERATURE_K = 50, 300, 300.0
CT = {"delta": 3.0, "udd": 6.0, "upd": 7.5, "veg": 2.5}
CASES = {
    "atomic": ("Mn2+", None, 0.9),
    "mid": ("Mn2+", 1, 0.9),
    "mid2": ("Mn2+", 2, 0.9),
    "big": ("Mn4+", 3, 1.5),
}


def build(case):
    from rixsim.cluster.model import atomic_model, cluster_model
    ion, n_lig, tendq = CASES[case]
    if n_lig is None:
        return atomic_model(ion, tendq=tendq)
    return cluster_model(ion, tendq=tendq, n_ligand_holes=n_lig, **CT)


def axes(model):
    # the L3 edge lies ~5 eV below the configuration-averaged edge offset for Mn
    exc = np.linspace(model.edge_offset - 8.0, model.edge_offset + 2.0, N_EXC)
    loss = np.linspace(-1.0, 14.0, N_LOSS)
    return exc, loss


def run(case, method, queue, src=None, n_exc=N_EXC, n_loss=N_LOSS):
    global N_EXC, N_LOSS
    N_EXC, N_LOSS = n_exc, n_loss
    if src is not None:
        import sys
        sys.path.insert(0, src)
        for name in [m for m in sys.modules if m == "rixsim" or m.startswith("rixsim.")]:
            del sys.modules[name]
    from rixsim.spectroscopy.geometry import ScatteringGeometry
    from rixsim.spectroscopy.krylov import check_build
    from rixsim.spectroscopy.rixs import rixs_map
    t0 = time.perf_counter()
    model = build(case)
    est = check_build(model, memory_gb=8.0)
    exc, loss = axes(model)
    t1 = time.perf_counter()
    model.hamiltonian(False)
    model.hamiltonian(True)
    t_build = time.perf_counter() - t1
    rss_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    rmap = rixs_map(model, exc, loss=loss, geometry=ScatteringGeometry(90.0, "pi"), temperature_k=TEMPERATURE_K,
                    method=method, memory_gb=8.0)
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    meta = {k: v for k, v in rmap.meta.items() if isinstance(v, (int, float, str, bool))}
    queue.put({"case": case, "method": method, "wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "build": t_build,
        "rss_gb": ru.ru_maxrss / 1e6, "rss_build_gb": rss_build, "dims": (model.basis(False).dim,
        model.basis(True).dim), "nnz": (int(model.hamiltonian(False)[1].nnz), int(model.hamiltonian(True)[1].nnz)),
        "predicted_build_gb": {k: e.peak_bytes / 1e9 for k, e in est.items()}, "meta": meta,
        "intensity": rmap.intensity.tolist()})


def in_subprocess(case, method, src=None, n_exc=N_EXC, n_loss=N_LOSS):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=run, args=(case, method, q, src, n_exc, n_loss))
    p.start()
    out = q.get()
    p.join()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default="atomic,mid,mid2,big")
    ap.add_argument("--skip-dense-above", type=int, default=30000, help="core-excited states")
    ap.add_argument("--json", default=None, help="also write the results (without maps) to this file")
    ap.add_argument("--baseline-src", default=None, help="source tree of an earlier rixsim to time beside this one")
    ap.add_argument("--n-exc", type=int, default=N_EXC)
    ap.add_argument("--n-loss", type=int, default=N_LOSS)
    args = ap.parse_args()
    import os
    print(f"load average at start: {os.getloadavg()}; map {args.n_exc} × {args.n_loss}", flush=True)
    rows = []
    for case in args.cases.split(","):
        kry = in_subprocess(case, "krylov", None, args.n_exc, args.n_loss)
        den = (in_subprocess(case, "dense", None, args.n_exc, args.n_loss)
               if kry["dims"][1] <= args.skip_dense_above else None)
        base = (in_subprocess(case, "krylov", args.baseline_src, args.n_exc, args.n_loss)
                if args.baseline_src else None)
        rows.append((case, kry, den))
        n_i, n_m = kry["dims"]
        print(f"\n{case}: {n_i} initial / {n_m} core-excited states, nnz(H_i) = {kry['nnz'][0]}, "
              f"nnz(H_m) = {kry['nnz'][1]}", flush=True)
        pb = kry["predicted_build_gb"]
        print(f"  build: {kry['build']:.1f} s, predicted peak {max(pb.values()) if pb else 0:.2f} GB, "
              f"process peak after build {kry['rss_build_gb']:.2f} GB")
        km = kry["meta"]
        print(f"  krylov: {kry['wall']:8.1f} s wall, {kry['cpu']:8.1f} s CPU, peak {kry['rss_gb']:.2f} GB  (intermediate Krylov {km['krylov_intermediate']}, "
              f"residual {km['residual_max']:.1e}; final Lanczos {km['krylov_final']}, bound {km['final_bound_max']:.1e}; "
              f"{km['n_initial']} initial states, predicted {km['predicted_bytes'] / 1e9:.2f} GB)")
        if den is not None:
            a, b = np.array(kry["intensity"]), np.array(den["intensity"])
            err = np.abs(a - b).max() / np.abs(b).max()
            print(f"  dense : {den['wall']:8.1f} s wall, {den['cpu']:8.1f} s CPU, peak {den['rss_gb']:.2f} GB")
            print(f"  dense/krylov CPU time {den['cpu'] / kry['cpu']:.2f}×, memory {den['rss_gb'] / kry['rss_gb']:.2f}×; "
                  f"max |Δ| / max = {err:.1e} (L3/L2 width operator vs per-state widths)")
        if base is not None:
            a, b = np.array(kry["intensity"]), np.array(base["intensity"])
            bm = base["meta"]
            print(f"  baseline krylov ({args.baseline_src}): {base['wall']:8.1f} s wall, {base['cpu']:8.1f} s CPU, "
                  f"peak {base['rss_gb']:.2f} GB (final Lanczos {bm['krylov_final']}); baseline/new CPU time "
                  f"{base['cpu'] / kry['cpu']:.2f}×, max |Δ| / max = {np.abs(a - b).max() / np.abs(b).max():.1e}")
    print(f"load average at end: {os.getloadavg()}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump([[c, {k: v for k, v in r.items() if k != "intensity"},
                        None if d is None else {k: v for k, v in d.items() if k != "intensity"}]
                       for c, r, d in rows], fh, indent=1)


if __name__ == "__main__":
    main()

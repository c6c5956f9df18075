"""Validation: ground-state configuration weights (dⁿ, dⁿ⁺¹L̲, dⁿ⁺²L̲², dⁿ⁺³L̲³) of the charged-cathode ions across
the positive-to-negative charge-transfer crossover (issue 13, item 6; the TM-L-edge part only — the O-K
pre-edge and O-K RIXS of these clusters are not done here).

Clusters with up to three ligand holes in Oh: Ni3+ (d7…d10L3, 1140 states), Ni4+ (d6…d9L3, 4635), Co4+
(d5…d8L3, 13 152) and, with ``--mn``, Mn4+ (d3…d6L3, 38 760; three Δ values).  Illustrative parameters (not a
fit): Udd = 7.0, Upd = 8.5, Veg = 2.5 eV (Vt2g = Veg/2), 10Dq = 1.0 eV for Ni and Co; Mn4+ as in
``benchmarks/bench_krylov_large.py``.  Δ is rixsim's configuration-average definition (E(dⁿ⁺¹L̲) − E(dⁿ)).
Ground manifold at 0 K by the Krylov engine's initial-state solver (per symmetry block, degenerate partners
complete), weights averaged over the manifold.

Checks that can fail (printed PASS/FAIL, exit status 1 on any FAIL):
* the weights of every state sum to 1 (1e-10) and the residuals ‖Hv − Ev‖ are below 1e-8 eV;
* ⟨n_d⟩ grows strictly as Δ decreases (more charge transferred from the ligand);
* at Δ = +6 eV the dⁿ weight is the largest; at Δ = −4 eV a ligand-hole configuration has the largest weight
  (the negative-Δ, ligand-hole ground state of the charged cathode);
* the Δ at which w(dⁿ) = w(dⁿ⁺¹L̲) is reported (linear interpolation on the grid).

Run:  python validation/charged_cathode_weights.py [--mn]
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

DELTAS = np.arange(6.0, -4.5, -1.0)
IONS = {
    "Ni3+": {"udd": 7.0, "upd": 8.5, "veg": 2.5, "tendq": 1.0},
    "Ni4+": {"udd": 7.0, "upd": 8.5, "veg": 2.5, "tendq": 1.0},
    "Co4+": {"udd": 7.0, "upd": 8.5, "veg": 2.5, "tendq": 1.0},
}
MN = ("Mn4+", {"udd": 6.0, "upd": 7.5, "veg": 2.5, "tendq": 1.5}, np.array([3.0, 0.0, -3.0]))


def weights(ion, delta, params):
    from rixsim.cluster.model import cluster_model
    from rixsim.spectroscopy.krylov import initial_states
    model = cluster_model(ion, delta=float(delta), n_ligand_holes=3, **params)
    basis, _ = model.hamiltonian(False)
    ini = initial_states(model, 0.0)
    nd = basis.occupations("3d")
    n0 = basis.configurations[0][0]
    prob = np.abs(ini.vectors) ** 2                       # (dim, n_ground)
    w = np.array([prob[nd == n0 + k].sum(axis=0) for k in range(4)])   # (4, n_ground)
    sums = w.sum(axis=0)
    return w.mean(axis=1), float(np.abs(sums - 1).max()), float(ini.residuals.max()), int(ini.energies.size), n0


def crossing(deltas, a, b):
    """Δ where a(Δ) = b(Δ), linear interpolation; NaN if they do not cross on the grid."""
    d = a - b
    for i in range(len(d) - 1):
        if d[i] == 0:
            return float(deltas[i])
        if d[i] * d[i + 1] < 0:
            return float(deltas[i] + (deltas[i + 1] - deltas[i]) * d[i] / (d[i] - d[i + 1]))
    return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", nargs="?", help="accepted for `rixsim validate`; nothing is written")
    ap.add_argument("--mn", action="store_true", help="also Mn4+ d3…d6L3 (38 760 states) at three Δ")
    args = ap.parse_args()
    cases = [(ion, p, DELTAS) for ion, p in IONS.items()] + ([MN] if args.mn else [])
    failures = 0
    for ion, params, deltas in cases:
        t0 = time.perf_counter()
        rows = [weights(ion, d, params) for d in deltas]
        w = np.array([r[0] for r in rows])
        n0 = rows[0][4]
        print(f"\n{ion} (d{n0} … d{n0 + 3}L3), {time.perf_counter() - t0:.1f} s; ground manifold "
              f"{sorted({r[3] for r in rows})} states")
        print("   Δ (eV)   " + "  ".join(f"{f'd{n0 + k}' + ('L' * 0 if k == 0 else f'L{k}'):>7s}" for k in range(4))
              + "   <n_d>")
        nd_mean = w @ (n0 + np.arange(4))
        for d, wi, m in zip(deltas, w, nd_mean):
            print(f"  {d:+6.1f}   " + "  ".join(f"{x:7.3f}" for x in wi) + f"   {m:.3f}")
        checks = {
            "weights sum to 1": max(r[1] for r in rows) < 1e-10,
            "residuals < 1e-8 eV": max(r[2] for r in rows) < 1e-8,
            "<n_d> grows as Δ decreases": bool(np.all(np.diff(nd_mean) > 0)),
        }
        if deltas[0] >= 6.0:
            checks["d^n largest at Δ = +6"] = bool(np.argmax(w[0]) == 0)
        if deltas[-1] <= -3.0:
            checks[f"ligand-hole configuration largest at Δ = {deltas[-1]:+.0f}"] = bool(np.argmax(w[-1]) > 0)
        print(f"  w(d{n0}) = w(d{n0 + 1}L) at Δ ≈ {crossing(deltas, w[:, 0], w[:, 1]):+.2f} eV")
        for name, ok in checks.items():
            print(f"  {'PASS' if ok else 'FAIL'}: {name}")
            failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Detected mRIXS map versus the plain Kramers–Heisenberg map on the same grid, side by side in one run.

    python benchmarks/bench_detected_map.py [--n-exc 150] [--n-emi 800]

Mn2+ Oh atomic model (252 initial, 1260 core-excited states), 300 K, isotropic; excitation in 0.2 eV steps
across the L2,3 edge and emission 500–660 eV in 0.2 eV steps (commensurate grids: every loss is evaluated
exactly).  Columns: ``rixs_map`` alone; Raman + fluorescence parts (``raman_fluorescence``, includes one
``rixs_map``); the detected map of a thick MnO electrode with every band and self-absorption
(``detected_mrixs_map``, given the parts); and the ratio of the whole chain to ``rixs_map``.
Numba compilation and the diagonalisation are excluded (a warm-up map is computed first).
"""
import argparse
import time

import numpy as np

import rixsim
from rixsim.detection.detected_map import detected_mrixs_map
from rixsim.detection.sample import Geometry, Layer, ResonantEdge, Sample
from rixsim.spectroscopy.fluorescence import raman_fluorescence
from rixsim.spectroscopy.rixs import rixs_map


def timed(fn, repeat=3):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-exc", type=int, default=150)
    ap.add_argument("--n-emi", type=int, default=800)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    model = rixsim.atomic_model("Mn2+", tendq=0.8)
    tr = model.transitions(300.0)
    e0 = model.edge_offset
    exc = np.round(e0 - 8.0 + 0.2 * np.arange(args.n_exc), 9)
    emi = np.round(500.0 + 0.2 * np.arange(args.n_emi), 9)
    xas = rixsim.xas(model, np.arange(e0 - 15.0, e0 + 25.0, 0.05), temperature_k=300.0, gauss_fwhm=0.2)
    sample = Sample(Layer("MnO", 5.37, resonances=(ResonantEdge("Mn", "L2,3", xas),)))
    geo = Geometry(45.0, 45.0)
    rixs_map(tr, exc[:4], emission=emi)                                      # warm-up (numba)
    _, t_kh = timed(lambda: rixs_map(tr, exc, emission=emi, final_fwhm=0.1, resolution_fwhm=0.3), args.repeat)
    parts, t_parts = timed(lambda: raman_fluorescence(tr, exc, emission=emi, final_fwhm=0.1,
                                                      resolution_fwhm=0.3), args.repeat)
    rmap = parts.combined(0.5)
    _, t_det = timed(lambda: detected_mrixs_map(sample, geo, exc, emi, resonant_element="Mn",
                                                resonant_map=rmap, resolution_fwhm=0.3), args.repeat)
    print(f"Mn2+ Oh atomic, {tr.n_initial} initial / {tr.n_intermediate} core-excited states, "
          f"grid {exc.size} x {emi.size} (best of {args.repeat})")
    print(f"{'rixs_map (s)':>14} {'raman+fluo (s)':>15} {'detected (s)':>13} {'chain (s)':>10} "
          f"{'chain / rixs_map':>17}")
    chain = t_parts + t_det
    print(f"{t_kh:>14.2f} {t_parts:>15.2f} {t_det:>13.2f} {chain:>10.2f} {chain / t_kh:>17.2f}")


if __name__ == "__main__":
    main()

"""Vibronic Kramers–Heisenberg model: structure (diagonalisation + Franck–Condon) and map times.

    python benchmarks/bench_vibronic.py

Cases: the default oxidised-oxygen model (Morse O2-like ground, three channels) with and without the
monochromator average; the solvation-shell model (monochromator × inhomogeneous quadrature); and the same
oxidised-oxygen map through rixsim's general RIXS engine (``vibronic_transitions`` + ``rixsim.spectroscopy.rixs.rixs_map``).
"""
import time

import numpy as np

from rixsim.oxygen import franck_condon as fc
from rixsim.oxygen import potentials as pot
from rixsim.oxygen import vibronic as vib


def timed(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        fc._cached_structure.cache_clear()
        fc._diagonalise.cache_clear()
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def main():
    ox = pot.OxidisedOxygenParameters()
    exc = np.arange(529.0, 533.0001, 0.02)
    emi = np.arange(519.0, 533.0001, 0.02)
    s, t = timed(lambda: fc.vibronic_structure(ox))
    print(f"oxidised O structure: basis {s.basis_size}, {s.intermediate_energies.size} intermediate, "
          f"{s.final_losses.size} final levels: {t:.3f} s")
    _, t = timed(lambda: vib.vibronic_rixs_map(ox, exc, emi))
    print(f"oxidised O map {exc.size}×{emi.size}, monochromator 0.2 eV: {t:.3f} s")
    sharp = pot.OxidisedOxygenParameters(monochromator_fwhm=0.0)
    _, t = timed(lambda: vib.vibronic_rixs_map(sharp, exc, emi))
    print(f"oxidised O map {exc.size}×{emi.size}, no monochromator average: {t:.3f} s")
    sol = pot.SolvationShellParameters()
    exc_w = np.arange(532.0, 537.0001, 0.05)
    emi_w = np.arange(528.0, 536.0001, 0.01)
    _, t = timed(lambda: vib.vibronic_rixs_map(sol, exc_w, emi_w), repeat=1)
    print(f"solvation map {exc_w.size}×{emi_w.size}, monochromator × inhomogeneous quadrature: {t:.3f} s")
    try:
        from rixsim.spectroscopy.rixs import rixs_map
    except ImportError:
        return
    tr = vib.vibronic_transitions(sharp)
    t0 = time.perf_counter()
    rixs_map(tr, exc, emission=emi, final_fwhm=0.0, resolution_fwhm=sharp.spectrometer_fwhm)
    print(f"same map through rixsim.spectroscopy.rixs.rixs_map (general engine): {time.perf_counter() - t0:.3f} s")


if __name__ == "__main__":
    main()

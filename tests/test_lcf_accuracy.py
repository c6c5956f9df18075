"""How well LCF with the shipped reference library recovers phase fractions when the data were *not* made with
the library's parameters.

A two-phase "measurement" is simulated with other 10Dq, other Lorentzian and Gaussian widths, other shifts (a
common miscalibration and a relative one between the phases), an edge step of another height, a count scale
and Poisson noise; it is then fitted with the library references (``fit_linear_combination``, one free shift
per reference, linear background).  The mismatch is scaled by one number ``m`` (:func:`mismatch`); the table
in ``references/spectra/README.md`` comes from running this file as a script::

    python tests/test_lcf_accuracy.py

and the test below asserts the accuracy stated there at the stated mismatch.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from rixsim.analysis.lcf import fit_linear_combination
from rixsim.analysis.reference_library import COMMON, IONS, edge_step, load_reference
from rixsim.results import Spectrum

#: Peak counts of the simulated measurement (Poisson noise ~ 0.3 % at the L3 maximum).
PEAK_COUNTS = 1.0e5


def mismatch(m: float) -> dict:
    """The parameter mismatch of level ``m`` between the simulated data and the library (m = 1: 'typical').

    10Dq of phase A +0.2 m eV, of phase B −0.2 m eV; L3 Lorentzian × (1 + 0.25 m), L2 Lorentzian × (1 − 0.2 m);
    Gaussian + 0.15 m eV; common energy miscalibration +0.5 m eV and a relative shift of ±0.15 m eV between the
    phases (not in the library); edge step × (1 + 0.3 m).
    """
    return {"dtendq": (0.2 * m, -0.2 * m), "l3_scale": 1 + 0.25 * m, "l2_scale": 1 - 0.2 * m,
            "dgauss": 0.15 * m, "common_shift": 0.5 * m, "relative_shift": (0.15 * m, -0.15 * m),
            "step_scale": 1 + 0.3 * m}


def _fractions(result, names) -> np.ndarray:
    """Fractions of an LCF result: ``FitResult.derived`` keyed by reference name (or the older ``fractions``)."""
    derived = getattr(result, "derived", None) or {}
    if all(n in derived for n in names):
        return np.array([derived[n].value for n in names])
    return np.array([result.fractions[n] for n in names])


def _r_factor(result) -> float:
    """Σ(y − fit)² / Σy² over the fit window (data and best fit of the result)."""
    data = result.data.intensity
    fit = result.best_fit.intensity if hasattr(result, "best_fit") else result.fit.intensity
    return float(np.sum((data - fit) ** 2) / np.sum(data ** 2))


@lru_cache(maxsize=64)
def truth_phase(ion: str, m: float, k: int) -> Spectrum:
    """Phase ``k`` (0 or 1) of the simulated measurement: the library recipe with mismatch level ``m``."""
    from rixsim.cluster.model import atomic_model
    from rixsim.spectroscopy.xas import xas
    mm = mismatch(m)
    lib = load_reference(ion).meta
    shift = lib["shift"] + mm["common_shift"] + mm["relative_shift"][k]
    model = atomic_model(ion, symmetry="Oh", tendq=IONS[ion].tendq + mm["dtendq"][k],
                         slater_scale=COMMON["slater_scale"], soc_scale=COMMON["soc_scale"],
                         l3_fwhm=lib["l3_fwhm"] * mm["l3_scale"], l2_fwhm=lib["l2_fwhm"] * mm["l2_scale"],
                         shift=shift)
    energy = load_reference(ion).energy
    s = xas(model, energy, polarization="isotropic", temperature_k=COMMON["temperature_k"],
            gauss_fwhm=COMMON["gauss_fwhm"] + mm["dgauss"])
    st = lib["step"]
    d = shift - lib["shift"]
    step = edge_step(energy, st["l3_position"] + d, st["l2_position"] + d, st["height"] * mm["step_scale"],
                     st["l3_width"] * mm["l3_scale"], st["l2_width"] * mm["l2_scale"])
    return Spectrum(energy, s.intensity + step, label=f"{ion} (mismatched)")


def lcf_error(ions: tuple[str, str], fraction_a: float, m: float, seed: int = 0) -> tuple[float, float]:
    """(|fitted − true| fraction of phase A, R-factor) for mismatch level ``m`` and one noise realisation."""
    a, b = (truth_phase(ions[0], m, 0), truth_phase(ions[1], m, 1))
    clean = fraction_a * a.intensity + (1 - fraction_a) * b.intensity
    scale = PEAK_COUNTS / clean.max()
    counts = np.random.default_rng(seed).poisson(scale * clean).astype(float)
    energy = a.energy
    data = Spectrum(energy, counts, label="two-phase simulation", units="counts")
    refs = {ion: load_reference(ion) for ion in ions}
    window = (energy[0] + 3.0, energy[-1] - 3.0)
    res = fit_linear_combination(data, refs, energy_range=window, shift="per_reference", max_shift=2.0,
                                 background_order=1, sigma="poisson", at_bound="fix")
    f = _fractions(res, ions)
    return abs(f[0] - fraction_a), _r_factor(res)


#: The accuracy stated in references/spectra/README.md: at mismatch m = 1, a 40/60 mixture of Fe2+/Fe3+ or of
#: Ni2+/Ni3+ is recovered to better than this (absolute fraction) in every noise realisation (measured worst of
#: three: 0.003 and 0.009).
STATED_ACCURACY_M1 = 0.02


@pytest.mark.parametrize("pair, seed", [(("Fe2+", "Fe3+"), 0), (("Fe2+", "Fe3+"), 1), (("Fe2+", "Fe3+"), 2),
                                        (("Ni2+", "Ni3+"), 0)])
def test_two_phase_fraction_within_stated_accuracy_at_unit_mismatch(pair, seed):
    err, r = lcf_error(pair, 0.4, 1.0, seed=seed)
    assert err < STATED_ACCURACY_M1, f"{pair}: |Δf| = {err:.3f} at m = 1 (seed {seed})"
    assert r < 0.02


@pytest.mark.slow
def test_accuracy_degrades_with_mismatch():
    # the error grows with the mismatch level (README table): m = 0.5 < m = 1 < m = 2 (here Ni2+/Ni3+)
    errs = [lcf_error(("Ni2+", "Ni3+"), 0.4, m, seed=0)[0] for m in (0.5, 1.0, 2.0)]
    assert errs[0] < errs[1] < errs[2]


def test_no_mismatch_recovers_fractions_to_the_noise_level():
    err, r = lcf_error(("Fe2+", "Fe3+"), 0.4, 0.0, seed=3)
    assert err < 0.01 and r < 1e-3


def main() -> None:  # the README table: worst |Δf| of three noise realisations (worst R-factor)
    from rixsim.errors import ConvergenceError
    pairs = (("Fe2+", "Fe3+"), ("Mn3+", "Mn4+"), ("Ni2+", "Ni3+"), ("Co2+", "Co3+"), ("Mn2+", "Mn3+"))
    levels = (0.0, 0.5, 1.0, 2.0)
    print("| pair (A/B, A = 40 %) | " + " | ".join(f"m = {m:g}" for m in levels) + " |", flush=True)
    print("| --- |" + " --- |" * len(levels), flush=True)
    for pair in pairs:
        cells = []
        for m in levels:
            errs, failed = [], 0
            for seed in range(3):
                try:
                    errs.append(lcf_error(pair, 0.4, m, seed=seed))
                except ConvergenceError:
                    failed += 1
            cell = f"{max(e for e, _ in errs):.3f} ({max(r for _, r in errs):.0e})" if errs else "no fit"
            cells.append(cell + (f", {failed}/3 failed" if failed else ""))
        print(f"| {pair[0]}/{pair[1]} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

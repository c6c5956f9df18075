"""O-K mRIXS and sXAS of a charged Li-rich Mn-based electrode with oxygen redox and of its Ru analogue without it.

Context: seed review §5, Fig. 7d,e — charged Li1.2Ni0.2Mn0.6O2 shows the oxidised-oxygen mRIXS feature
(531 eV excitation, 523.8 eV emission); Li1.2Ni0.2Ru0.6O2 does not: there Ru is the active (cationic) redox.

Models (O K edge of charge-transfer clusters, :mod:`rixsim.oxygen.kedge`; one ligand hole at most):

* Mn electrode, charged: lattice oxygen of Mn4+ (3d³) — 10Dq 2.0, Δ 1.5, Udd 6.0, Upd 7.0, V(eg) 2.6 eV — plus the
  vibronic oxidised-oxygen species of :mod:`rixsim.oxygen.vibronic` carrying ``OXIDISED_SHARE`` of the pre-edge
  area (as :func:`rixsim.oxygen.kedge.electrode_examples` does for Ni);
* Ru electrode, charged: lattice oxygen of Ru5+ (4d³, the 4d Hartree–Fock tables of rixsim.cluster.tables) —
  10Dq 3.5, Δ 1.0, Udd 3.0, Upd 3.5, V(eg) 3.5 eV (a 4d shell: larger field, smaller U, more covalent) — and no
  oxidised oxygen.

The cluster numbers are **illustrative, not fitted and not from a published table**; they were fixed before
the first run.  The Ru model uses the O K edge code unchanged (it treats any d shell).

Decision: each map is turned into counts (maximum ``PEAK_COUNTS`` per pixel + 2 counts/pixel background,
Poisson) and fitted with :func:`rixsim.oxygen.redox.fit_redox_map` (lattice template = that electrode's own
lattice-oxygen map, oxidised template = :func:`rixsim.oxygen.redox.oxidised_oxygen_template`); the verdicts of
``TRIALS`` noise realisations are printed, with the O-K sXAS pre-edge of both.

Result (first run, 2026-12-01, 20 noise realisations): ligand holes Mn4+ 0.409, Ru5+ 0.425; the map at
(531.0, 523.8) eV is 0.60 (Mn, oxidised oxygen on) and 0.024 (Ru) of its maximum; O-K pre-edge peak 527.35 /
527.80 eV, area 0.813 / 0.675 (Mn includes the oxidised-oxygen share).  Decision: Mn 20/20 "present"
(fitted 111.6 ± 2.7 counts/pixel), Ru 20/20 "absent" (0.3 ± 0.9).  The lattice templates are the electrodes'
own, noise-free lattice maps — the ideal case; with a mismatched lattice template see tests/test_redox.py.

Run:  python validation/ru_vs_mn_oxygen.py      (minutes: two cluster O-K maps)
"""
from __future__ import annotations

import time

import numpy as np

from rixsim.cluster.model import cluster_model
from rixsim.oxygen.kedge import OxygenKEdge, lattice_oxygen_map, oxygen_k_xas
from rixsim.oxygen.potentials import OxidisedOxygenParameters
from rixsim.oxygen.redox import fit_redox_map, oxidised_oxygen_template
from rixsim.oxygen.vibronic import vibronic_rixs_map, vibronic_xas
from rixsim.results import RixsMap

TEMPERATURE_K = 300.0
OXIDISED_SHARE = 0.25
PEAK_COUNTS = 200.0
TRIALS = 20
MN4 = dict(tendq=2.0, delta=1.5, udd=6.0, upd=7.0, veg=2.6, n_ligand_holes=1)
RU5 = dict(tendq=3.5, delta=1.0, udd=3.0, upd=3.5, veg=3.5, n_ligand_holes=1)


def electrode(ion, params, exc, emi, ex, oxidised_share):
    t0 = time.perf_counter()
    edge = OxygenKEdge(cluster_model(ion, **params))
    mu = oxygen_k_xas(edge, ex, TEMPERATURE_K)
    lattice = lattice_oxygen_map(edge, exc, emi, TEMPERATURE_K)
    amp = 0.0
    xas_y, map_z = mu.intensity.copy(), lattice.intensity.copy()
    if oxidised_share > 0:
        par = OxidisedOxygenParameters(temperature_k=TEMPERATURE_K)
        ox_xas = vibronic_xas(par, ex).intensity
        pre = (ex >= 526.0) & (ex <= 534.0)
        area = np.trapezoid((mu.intensity - edge.main_edge(ex))[pre], ex[pre])
        amp = oxidised_share * area / np.trapezoid(ox_xas[pre], ex[pre])
        xas_y = xas_y + amp * ox_xas
        map_z = map_z + amp * vibronic_rixs_map(par, exc, emi).intensity
    print(f"{ion}: ligand holes {edge.ligand_holes(TEMPERATURE_K):.3f}, oxidised-O amplitude {amp:.4f} "
          f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return xas_y, lattice, RixsMap(exc, emi, map_z), edge


def decide(name, data_map, lattice, oxidised, rng):
    scale = PEAK_COUNTS / data_map.intensity.max()
    mu = scale * data_map.intensity + 2.0
    verdicts, amps = [], []
    for _ in range(TRIALS):
        f = fit_redox_map(RixsMap(data_map.excitation, data_map.emission, rng.poisson(mu)), lattice, oxidised)
        verdicts.append(f.decision.verdict)
        amps.append(f.oxidised_amplitude)
    print(f"  {name}: verdicts present/absent/inconclusive = {verdicts.count('present')}/"
          f"{verdicts.count('absent')}/{verdicts.count('inconclusive')} of {TRIALS}; fitted oxidised amplitude "
          f"{np.mean(amps):.2f} ± {np.std(amps, ddof=1):.2f} counts/pixel")


def main():
    exc = np.linspace(527.0, 536.0, 37)
    emi = np.linspace(518.0, 532.0, 113)
    ex = np.linspace(525.0, 540.0, 301)
    x_mn, lat_mn, map_mn, _ = electrode("Mn4+", MN4, exc, emi, ex, OXIDISED_SHARE)
    x_ru, lat_ru, map_ru, _ = electrode("Ru5+", RU5, exc, emi, ex, 0.0)
    ox = oxidised_oxygen_template(exc, emi)
    i = np.argmin(np.abs(exc - 531.0))
    j = np.argmin(np.abs(emi - 523.8))
    for name, m in (("Mn (charged, oxygen redox)", map_mn), ("Ru (charged, cationic redox)", map_ru)):
        z = m.intensity / m.intensity.max()
        print(f"{name}: map at (531.0, 523.8) eV = {z[i, j]:.3f} of its maximum")
    print("O-K sXAS pre-edge (526–534 eV): peak position, area")
    pre = (ex >= 526.0) & (ex <= 534.0)
    for name, y in (("Mn", x_mn), ("Ru", x_ru)):
        print(f"  {name}: {ex[pre][np.argmax(y[pre])]:.2f} eV, {np.trapezoid(y[pre], ex[pre]):.3f}")
    print(f"oxygen-redox decision ({PEAK_COUNTS:g} counts/pixel at the maximum + 2 background, Poisson):")
    rng = np.random.default_rng(7)
    decide("Mn electrode", map_mn, lat_mn, ox, rng)
    decide("Ru electrode", map_ru, lat_ru, ox, rng)


if __name__ == "__main__":
    main()

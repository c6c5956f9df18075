"""Back-bonding at the Fe L edge of low-spin ferro-/ferricyanide: what could be checked, and what could not.

The issue asks for the published LMCT+MLCT (VBCI) analysis of K4[Fe(CN)6] and K3[Fe(CN)6] — Hocking,
Wasinger, de Groot, Hodgson, Hedman & Solomon, J. Am. Chem. Soc. 128, 10442 (2006) — to be reproduced: the
same parameters giving the published ground-state configuration weights and the π* satellite in place.

Search record (2026-12-01, the stored corpora of this workplace; ≈ 15 look-ups)
-----------------------------------------------------------------------------
* pages: the PubMed record https://www.ncbi.nlm.nih.gov/pubmed/16895409 (abstract only) and a full-text
  copy https://datapdf.com/and-k3fecn6.html whose stored text ends in the Introduction — neither holds the
  VBCI table (10Dq, Δ, Δ*, T, Slater reduction, core-hole shifts) nor the configuration weights.
  Kunnus et al., J. Phys. Chem. B 120, 7182 (2016) (abstract at
  https://www.helmholtz-berlin.de/pubbin/oai_publication?ID=89603&typoid=42525) gives RASPT2 covalencies,
  not VBCI parameters: Fe 3d character of the nominal CN⁻ 2π (π*) orbitals 7 % (ferric) and 9 % (ferrous);
  of the 5σ orbitals 29 % (ferric) and 20 % (ferrous).  Lundberg et al., J. Am. Chem. Soc. 135, 17121 (2013)
  (Kα RIXS of the same complexes with a charge-transfer multiplet model; https://datapdf.com/metalaligand-
  covalency-of-iron-complexes-from-high-resolutio.html) and the Miedema & de Groot review of Fe L edges
  (J. Electron Spectrosc. 187, 32 (2013)) are stored only up to their introductions; Nanba & Okada,
  J. Phys. Soc. Jpn. 80, 074710 (2011) (Fe 2p XPS/XAS of the cyanides with LMCT and MLCT) as an abstract.
* docs / issues / code and find_string ("ferricyanide", "hexacyanide", "Fe(CN)6", "back-bonding", "VBCI",
  "Hocking"): no parameter file, no Quanty/Crispy/CTM4XAS example of the cyanides (crispy issue #24
  discusses MLCT in general, without numbers).

Second search (2026-12-01, ≈ 40 look-ups: pages, docs, code, issues, find_string).  The pages corpus keeps
only the opening of each page, so a paper's results and tables are reachable only where a site serves a table
as its own page (PubMed Central does).  What it gave:

* Hocking 2006 again: queries worded like its results ("Table", "VBCI", "Δ", "T(t2g)", "3d5L*", "%",
  "back-donation", "simulation") return only the PubMed abstract and the datapdf opening — no later part of
  that paper is stored.  Lundberg 2013 (Kα RIXS, CTM of the cyanides): opening only, no table page.
* Hocking et al., J. Am. Chem. Soc. 129, 113 (2007) (low-spin heme vs non-heme, VBCI with back-bonding),
  author manuscript PMC2890250: Table 2 (https://pmc.ncbi.nlm.nih.gov/articles/PMC2890250/table/T2) is DFT
  orbital compositions; Table 3 (https://pmc.ncbi.nlm.nih.gov/articles/PMC2890250/table/T3) gives VBCI
  *outcomes* — % metal character of the unoccupied orbitals of [Fe(tpp)(ImH)2] (low-spin Fe(II), D4h):
  π back-bonding only b1 73, a1 73, π*(xz,yz) 7 %; with σ,π donation and back-bonding 65, 67, 11 %;
  Fe(III): π* 2 % — but the VBCI *parameters* behind them (10Dq, Ds, Dt, Δ, Δ', T's, reductions) are not in
  any stored table page or opening.  Outcomes without parameters cannot be reproduced without tuning, so
  they are not used here.
* Mn–CN: Asakura et al., J. Phys. Chem. Lett. (2014) (Mn PBA, CIFM of LS/HS Mn2+; datapdf opening) and
  Nanba & Okada, J. Electron Spectrosc. (2012) (Mn(CN)6 and Fe(CN)6 cluster CIFM; abstract at
  https://okayama.elsevierpure.com/ja/publications/theory-of-fe-and-mn-2p-x-ray-absorption-for-rbmnfecn-sub6sub)
  state qualitative results only (LS Mn2+ has stronger t2g–CN π charge transfer; ⟨n_3d⟩ above the formal
  valence) — no parameter values.  Bordage et al., PCCP 10, 5882 (2008) (LMCT+MLCT ligand-field multiplets
  of Prussian-blue films; PubMed abstract http://www.pubmed.gov/18818842/) and Nanba et al., PCCP 16, 7031
  (2014) (nitroprusside, strong MLCT; RSC landing page): abstracts, no numbers.  Nanba & Okada, JPSJ 80,
  074710 (2011): abstract only (MLCT shapes the XAS, LMCT the XPS).
* Not found at all: Wasinger 2003 and Baker et al. CCR 2017 (PMC5621773) beyond their openings; the
  CTM4DOC paper (J. Synchrotron Rad. 23, 1264 (2016)) beyond its opening; any PMC table page of Wilson 2013
  (oxy-picket-fence porphyrin), Yan 2017 ({FeNO}6 / [Fe(PaPy3)CO]+), Kroll 2014 (cyt c RIXS); Fe(CO)5,
  Cr(CO)6, Ni(CO)4, Ni(CN)4, Ru/Os/Ir cyanide or carbonyl CT-multiplet parameter sets.
* Code / issues / docs: crispy's release note v0.7.1 (MLCT term added; no parameters) and issue #24 (as
  before); the follmerlab/multitorch repository (a CTM4XAS re-implementation) has LMCT fixtures (NiO-type
  nid8ct) but no published MLCT fit; find_string "hexacyanoferrate", "ferrocyanide", "MLCT", "LMCT+MLCT"
  give no multiplet input file of a cyanide or carbonyl.

So the published check is **not done**: nothing computed here is claimed to reproduce Hocking et al.
(2006 or 2007).  What is checked
instead (``tests/test_hexacyanide.py``) is the exact analytic limit of the model the VBCI analysis uses —
without multiplets, a t_2g⁶ ground state mixes with one d⁵L* and one d⁷L̲ state (3×3), and the π* satellite
is an exact eigenstate — printed below with its agreement; then the same construction with the Hartree–Fock
multiplets of Fe²⁺, to show where the satellite lies in a full calculation with illustrative parameters.

Run: ``python validation/hexacyanide_backbonding.py`` (≈ 1 min).
"""
from __future__ import annotations

import numpy as np

from rixsim.cluster.crystal_field import CrystalField
from rixsim.cluster.model import (
    BackDonation,
    ChargeTransfer,
    ClusterModel,
    Multiplet,
    atomic_model,
)
from rixsim.spectroscopy.xas import xas

#: published numbers that the stored sources do give (RASPT2, not VBCI): Fe 3d character of the CN⁻ orbitals,
#: Kunnus et al., J. Phys. Chem. B 120, 7182 (2016), abstract
KUNNUS_2016 = {"2pi_ferric": 0.07, "2pi_ferrous": 0.09, "5sigma_ferric": 0.29, "5sigma_ferrous": 0.20}

# illustrative parameters (eV), not fitted and not from a publication
TENDQ, DELTA, DELTA_STAR, UDD, UPD, UPL = 3.5, 4.0, 3.0, 5.0, 6.5, 0.5
T_STAR, V_EG = 1.2, 2.0


def analytic(tstar=T_STAR, veg=V_EG):
    h = np.array([[0.0, np.sqrt(6) * tstar, 2 * veg],
                  [np.sqrt(6) * tstar, DELTA_STAR + 0.4 * TENDQ, 0.0],
                  [2 * veg, 0.0, DELTA + 0.6 * TENDQ]])
    w, v = np.linalg.eigh(h)
    c = v[:, 0] * np.sign(v[0, 0])
    e0 = w[0] - 2.4 * TENDQ
    hc = np.array([[0.0, np.sqrt(6) * tstar, np.sqrt(3) * veg],
                   [np.sqrt(6) * tstar, DELTA_STAR - UDD + UPD - UPL + 0.4 * TENDQ, 0.0],
                   [np.sqrt(3) * veg, 0.0, DELTA + UDD - UPD + 0.6 * TENDQ]])
    wc, _ = np.linalg.eigh(hc)
    main = wc[0] - 1.8 * TENDQ - e0
    sat = -2.4 * TENDQ + DELTA_STAR - UDD + UPD - UPL - e0
    return c ** 2, main, sat


def weights(model: ClusterModel) -> dict:
    es = model.eigensystem(False)
    cfg = es.basis.configuration_index()
    gs = es.energies < es.energies[0] + 1e-6
    out = {}
    for i, (k, j) in enumerate(model.transfer_counts(False)):
        out[(k, j)] = float(np.sum(np.abs(es.vectors[cfg == i][:, gs]) ** 2) / gs.sum())
    return out


def main():
    print("A. exact analytic limit (no multiplets, Oh, π-only MLCT, e_g-only LMCT), illustrative parameters")
    w_an, main_an, sat_an = analytic()
    m = ClusterModel("LS d6", 6, Multiplet(), Multiplet(), CrystalField("Oh", tendq=TENDQ),
                     charge_transfer=ChargeTransfer(DELTA, UDD, UPD, V_EG, 0.0, 0.0, 1),
                     back_donation=BackDonation(DELTA_STAR, T_STAR, core_hole_ligand=UPL))
    w = weights(m)
    cluster = np.array([w[(0, 0)], w[(0, 1)], w[(1, 0)]])
    print(f"   weights d6, d5L*, d7L_ : cluster {np.round(cluster, 6)}  3x3 formula {np.round(w_an, 6)}  "
          f"max |diff| {np.abs(cluster - w_an).max():.1e}")
    x = m.edge_offset + np.linspace(-20.0, 20.0, 4001)
    y = xas(m, x, temperature_k=0.0, lorentz_fwhm=0.1, method="lanczos", lanczos_steps=60).intensity
    peaks = [i for i in range(1, x.size - 1) if y[i] > y[i - 1] and y[i] >= y[i + 1] and y[i] > 1e-3 * y.max()]
    e_peaks = x[peaks] - m.edge_offset
    print(f"   main line at {main_an:.4f} eV, π* satellite at {sat_an:.4f} eV (rel. edge_offset): satellite "
          f"{sat_an - main_an:+.4f} eV from the main line; spectrum peaks {np.round(e_peaks, 3)}")
    print("   (tests/test_hexacyanide.py pins weights to 1e-10 and the whole spectrum to 1e-8 of its maximum)")

    print("B. the same construction with Fe2+ Hartree–Fock multiplets (slater 0.8), illustrative parameters —")
    print("   not checked against publication")
    fe = atomic_model("Fe2+", tendq=TENDQ)
    full = fe.with_parameters(charge_transfer=ChargeTransfer(DELTA, UDD, UPD, V_EG, 0.0, 0.0, 1),
                              back_donation=BackDonation(DELTA_STAR, T_STAR, core_hole_ligand=UPL))
    w = weights(full)
    print("   ground-state weights: " + ", ".join(f"(k={k}, j={j}) {v:.4f}" for (k, j), v in w.items()))
    x = full.edge_offset + np.linspace(-15.0, 25.0, 801)
    y = xas(full, x, temperature_k=0.0, gauss_fwhm=0.2, method="lanczos").intensity
    none = xas(fe.with_parameters(charge_transfer=ChargeTransfer(DELTA, UDD, UPD, V_EG, 0.0, 0.0, 1)), x,
               temperature_k=0.0, gauss_fwhm=0.2, method="lanczos").intensity
    l3 = x < full.edge_offset + 5.0
    i_main = np.argmax(y * l3)
    diff = (y - none) * l3
    i_sat = int(np.argmax(np.where(x > x[i_main] + 0.5, diff, -np.inf)))
    print(f"   L3 main peak {x[i_main]:.2f} eV; largest intensity gained by back-donation above it at "
          f"{x[i_sat]:.2f} eV ({x[i_sat] - x[i_main]:+.2f} eV), Δy = {diff[i_sat] / y[i_main]:.3f} of the peak")
    print("   context (RASPT2, Kunnus et al. 2016): Fe 3d in CN 2π* 9 % ferrous / 7 % ferric; "
          "model d5L* weight here", f"{w[(0, 1)]:.3f}")


if __name__ == "__main__":
    main()

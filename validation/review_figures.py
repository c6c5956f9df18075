"""The seed review's figures, simulated: one Markdown report with PNGs and the numbers behind each panel.

Usage::

    python validation/review_figures.py OUTDIR

writes ``OUTDIR/review_figures.md`` and ``OUTDIR/fig*.png`` (also run by ``rixsim validate``).

* **Fig. 2** — Mn-L mRIXS of an NMC-like electrode (LiNi1/3Mn1/3Co1/3O2, thick, 45°/45°) *as detected*:
  Mn4+ cluster Raman + fluorescence (:mod:`rixsim.spectroscopy.fluorescence`), O Kα, Mn 3s→2p core–core
  line, elastic scattering and self-absorption (:func:`rixsim.detection.detected_map.detected_mrixs_map`),
  emission 500–660 eV, light = high intensity; TEY, TFY, PFY (630–650 eV), iPFY (1/Σ 520–530 eV), ccPFY and
  sPFY taken from the map, each normalised to 0 below and 1 far above the edge, offset, against the true
  bulk Mn absorption.
* **Fig. 3** — water O-K at 534.2 eV with and without salt (:mod:`rixsim.oxygen.solvation`).
* **Fig. 5** — chemistry (another module): placeholder.
* **Fig. 6** — O-K pre-edge against TM valence (:mod:`rixsim.oxygen.kedge`).
* **Fig. 7** — oxygen-redox feature at ≈531/523.8 eV present and absent
  (:func:`rixsim.oxygen.kedge.electrode_examples`).
"""
from __future__ import annotations

import argparse
import logging
import pathlib
import sys
import time
from dataclasses import replace

import numpy as np

import rixsim
from rixsim.cluster.tables import solid_state_l2_fwhm
from rixsim.detection.channels import (default_windows, l3_l2_ratio, normalise_edge, r_factor, true_absorption,
                                       window_yield)
from rixsim.detection.detected_map import detected_mrixs_map
from rixsim.detection.sample import Geometry, Layer, ResonantEdge, Sample
from rixsim.interfaces.plotting import plot_rixs_map, plot_spectra, plot_stacked, save_figure
from rixsim.oxygen.kedge import ELECTRODE_NI, OxygenKEdge, electrode_examples, oxygen_k_xas, redox_contrast
from rixsim.oxygen.potentials import SolvationShellParameters
from rixsim.oxygen.vibronic import vibronic_rixs_spectrum, vibronic_xas
from rixsim.results import Spectrum
from rixsim.spectroscopy.fluorescence import raman_fluorescence

log = logging.getLogger("review_figures")

NMC = ("LiNi1/3Mn1/3Co1/3O2", 4.7)      # g/cm³, layered NMC111 crystal density ≈ 4.7–4.8
#: Raman/fluorescence balance of the Fig. 2 simulation (illustrative: fit it to a measured map with
#: rixsim.spectroscopy.fluorescence.fit_relaxed_fraction)
RELAXED_FRACTION = 0.5
#: Fe–O cluster parameters of the LiFePO4-like Fig. 6a pair (eV; illustrative, as validation/oxygen_k.py)
FE = {"Fe2+": dict(tendq=1.0, delta=6.0, udd=6.0, upd=7.0, veg=2.2),
      "Fe3+": dict(tendq=1.4, delta=3.0, udd=6.0, upd=7.0, veg=2.4)}
CHANNELS = ("TEY", "TFY", "PFY", "iPFY", "sPFY", "ccPFY")


def table(rows, head) -> list[str]:
    def fmt(v):
        return f"{v:.3g}" if isinstance(v, (float, np.floating)) else str(v)
    return ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)] + \
           ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]


def axis(lo, hi, step):
    return np.round(lo + step * np.arange(int(round((hi - lo) / step)) + 1), 9)


# ------------------------------------------------------------------------------------------------ Fig. 2
def fig2(outdir: pathlib.Path) -> list[str]:
    ion = "Mn4+"
    model = rixsim.atomic_model(ion, tendq=2.4, l2_fwhm=solid_state_l2_fwhm(ion))
    tr = model.transitions(300.0)
    exc = axis(634.0, 664.0, 0.2)
    emi = axis(500.0, 660.0, 0.2)
    xas = rixsim.xas(model, axis(model.edge_offset - 15, model.edge_offset + 25, 0.05), temperature_k=300.0,
                     gauss_fwhm=0.2)
    parts = raman_fluorescence(tr, exc, emission=emi, final_fwhm=0.1, resolution_fwhm=0.3)
    layer = Layer(*NMC, resonances=(ResonantEdge("Mn", "L2,3", xas),), name="NMC (Mn4+)")
    geo = Geometry(45.0, 45.0)
    relaxed = Spectrum(emi, parts.fluorescence.intensity[-1])
    d = detected_mrixs_map(Sample(layer), geo, exc, emi, resonant_element="Mn",
                           resonant_map=parts.combined(RELAXED_FRACTION), resolution_fwhm=0.3,
                           continuum_profile=relaxed)
    spfy_c = float(emi[np.argmax(parts.fluorescence.intensity[-1])])
    w = default_windows("Mn", spfy_center=spfy_c)
    # the review's windows: PFY 630–650 eV, iPFY 520–530 eV
    from rixsim.detection.channels import ChannelWindows
    w = ChannelWindows(pfy=(630.0, 650.0), ipfy=(520.0, 530.0), ccpfy=w.ccpfy, spfy=w.spfy, element="Mn",
                       ipfy_element="O")
    ch = d.channels(w)
    truth = true_absorption(layer, "Mn", exc)
    save_figure(plot_rixs_map(d.detected, channels={k: ch[k] for k in CHANNELS}, scale="sqrt", show_windows=True,
                              figsize=(9.0, 5.5), title="Fig. 2a: Mn-L mRIXS of NMC as detected (sim.)"),
                outdir / "fig2a_mn_nmc_map.png", overwrite=True)
    ref_n = Spectrum(exc, normalise_edge(truth), label="true μ_Mn")
    stacked = {k: Spectrum(exc, normalise_edge(ch[k]), label=k) for k in CHANNELS}
    save_figure(plot_stacked(stacked, ref_n, offset=1.6, title="Fig. 2b: channels vs true bulk μ_Mn",
                             reference_label="true μ_Mn (normalised)"),
                outdir / "fig2b_channels.png", overwrite=True)
    split = float(exc[np.argmax(np.where(exc < 648, truth.intensity, 0))]) + 0.5 * 11.2
    i3 = int(np.argmax(np.where(exc < split, truth.intensity, 0.0)))
    o = window_yield(d.detected, w.ipfy).intensity
    rows = [["true μ_Mn", 0.0, l3_l2_ratio(truth, split)]]
    for k in CHANNELS:
        rows.append([k, r_factor(ch[k], truth), l3_l2_ratio(ch[k], split, reference=truth)])
    r = {k: r_factor(ch[k], truth) for k in CHANNELS}
    between = [k for k in ("PFY", "ccPFY") if r["iPFY"] < r[k] < r["TFY"]]
    o_share = o[0] / ch["TFY"].intensity[0]
    return ["## Fig. 2 — Mn-L mRIXS of an NMC electrode and its channels", "",
            "![Fig. 2a](fig2a_mn_nmc_map.png)", "", "![Fig. 2b](fig2b_channels.png)", "",
            f"LiNi1/3Mn1/3Co1/3O2, {NMC[1]} g/cm³, thick, 45°/45°. Mn emission: Mn4+ Oh cluster (10Dq 2.4 eV, "
            f"solid-state L2 width {solid_state_l2_fwhm(ion)} eV), Raman + fluorescence with relaxed fraction "
            f"r = {RELAXED_FRACTION} (relaxed manifold thermalised at 300 K); O Kα band 3 eV FWHM; Mn Ll/Ln with "
            "their lifetime widths; Rayleigh elastic line; spectrometer 0.3 eV. Windows (eV): PFY "
            f"{w.pfy}, iPFY {w.ipfy}, ccPFY {tuple(round(v, 1) for v in w.ccpfy)}, sPFY "
            f"{tuple(round(v, 2) for v in w.spfy)} (1 eV at the relaxed-emission maximum).", "",
            f"* **O Kα drops at the Mn L3 maximum**: the iPFY-window (O Kα) yield at {exc[i3]:.1f} eV is "
            f"**{o[i3] / o[0]:.3f}** of its pre-edge value (the white arrows of Fig. 2a); O Kα is "
            f"{100 * o_share:.0f} % of the pre-edge TFY.",
            f"* **TFY distortion**: L3/L2 = {l3_l2_ratio(ch['TFY'], split, reference=truth):.2f} against "
            f"{l3_l2_ratio(truth, split):.2f} for the true μ; R = {r['TFY']:.3g}.",
            f"* **iPFY matches μ**: R = {r['iPFY']:.3g} (TEY R = {r['TEY']:.3g}).",
            f"* **PFY and ccPFY in between**: R(PFY) = {r['PFY']:.3g}, R(ccPFY) = {r['ccPFY']:.3g}; "
            f"between iPFY and TFY: {', '.join(between) if between else 'neither'}. sPFY (R = {r['sPFY']:.3g}) "
            "is RIXS on the XAS axis, intrinsically different from sXAS (seed §2.3).", "",
            "R = Σ(y − μ)²/Σμ² after matching scale and a linear background to the edge-normalised true μ "
            "(`rixsim.detection.channels.r_factor`); L3/L2 from the matched channel.", "",
            *table(rows, ["channel", "R vs true μ_Mn", "L3/L2"]), ""]


# ------------------------------------------------------------------------------------------------ Fig. 3
def fig3(outdir: pathlib.Path) -> list[str]:
    water = SolvationShellParameters()
    salt = replace(water, huang_rhys=0.5)
    e = axis(528.0, 542.0, 0.02)
    emi = axis(527.0, 536.0, 0.01)
    xas = {"pure water (S = 1.5)": vibronic_xas(water, e), "with salt, solvation shell (S = 0.5)": vibronic_xas(salt, e)}
    rixs = {"pure water (S = 1.5)": vibronic_rixs_spectrum(water, 534.2, emi),
            "with salt, solvation shell (S = 0.5)": vibronic_rixs_spectrum(salt, 534.2, emi)}
    save_figure(plot_spectra(xas, normalize="max", title="Fig. 3a: O-K sXAS of water (sim.)"),
                outdir / "fig3a_water_xas.png", overwrite=True)
    save_figure(plot_spectra(rixs, normalize="area", title="Fig. 3b: RIXS at 534.2 eV (sim.)",
                             xlabel="Emission energy (eV)"), outdir / "fig3b_water_rixs.png", overwrite=True)
    rows = []
    for k in xas:
        x, s = xas[k], rixs[k]
        tot = np.trapezoid(s.intensity, emi)
        el = np.trapezoid(s.meta["elastic"], emi) / tot
        m1 = np.trapezoid(x.intensity * e, e) / np.trapezoid(x.intensity, e)
        rows.append([k, m1, el, tot])
    a, b = (v.intensity / np.trapezoid(v.intensity, e) for v in xas.values())
    c, d = (v.intensity / np.trapezoid(v.intensity, emi) for v in rixs.values())
    tv_x = 0.5 * np.trapezoid(np.abs(a - b), e)
    tv_r = 0.5 * np.trapezoid(np.abs(c - d), emi)
    return ["## Fig. 3 — water O-K at 534.2 eV with and without salt", "",
            "![Fig. 3a](fig3a_water_xas.png)", "", "![Fig. 3b](fig3b_water_rixs.png)", "",
            "The ion's solvation shell modelled as a weaker core-excited vibronic coupling (Huang–Rhys 1.5 → "
            "0.5, `rixsim.oxygen.potentials.SolvationShellParameters`).", "",
            *table(rows, ["sample", "XAS first moment (eV)", "RIXS elastic fraction", "RIXS integral"]), "",
            f"Line-shape change (total-variation distance of area-normalised spectra): sXAS {tv_x:.3f}, "
            f"RIXS at 534.2 eV {tv_r:.3f} — the RIXS weight moves to the elastic line while the sXAS barely "
            "changes.", ""]


# ------------------------------------------------------------------------------------------------ Fig. 6
def fig6(outdir: pathlib.Path) -> list[str]:
    e = axis(525.0, 540.0, 0.05)
    rows, spectra = [], {}
    for ion, pars in {**FE, **ELECTRODE_NI}.items():
        edge = OxygenKEdge(rixsim.cluster_model(ion, n_ligand_holes=1, **pars))
        pre = oxygen_k_xas(edge, e, main_edge=False)
        y = pre.intensity
        peaks = np.flatnonzero((y[1:-1] > y[:-2]) & (y[1:-1] > y[2:]) & (y[1:-1] > 0.05 * y.max())) + 1
        rows.append([ion, edge.ligand_holes(300.0), pre.integral(), float(e[peaks[0]]) if peaks.size else "",
                     float(e[np.argmax(y)])])
        spectra[ion] = oxygen_k_xas(edge, e)
    save_figure(plot_spectra(spectra, title="Fig. 6: O-K pre-edge vs TM valence (sim.)"),
                outdir / "fig6_ok_pre_edge.png", overwrite=True)
    return ["## Fig. 6 — O-K pre-edge against TM valence (no oxygen redox)", "",
            "![Fig. 6](fig6_ok_pre_edge.png)", "",
            "Fe2+/Fe3+ (LiFePO4-like, Fig. 6a) and Ni2+/3+/4+ (LiNi0.5Mn1.5O4-like, Fig. 6b) O–TM clusters "
            "(`rixsim.oxygen.kedge`); the pre-edge area equals the ligand holes (sum rule).", "",
            *table(rows, ["ion", "ligand holes", "pre-edge area", "first peak (eV)", "maximum (eV)"]), "",
            "The pre-edge grows with TM valence from hybridisation alone, and the highest valence (Ni4+) adds a "
            "low-energy feature: lineshape and area change without any oxygen redox.", ""]


# ------------------------------------------------------------------------------------------------ Fig. 7
def fig7(outdir: pathlib.Path) -> list[str]:
    # 10 K (only the lowest multiplet populated) and a 0.5 eV × 0.2 eV grid through (531, 523.8) eV keep the
    # lattice-oxygen emission (one Lanczos run per populated state) to a few Lanczos runs per electrode
    ex = electrode_examples(excitation=axis(527.0, 536.0, 0.5), emission=axis(518.0, 532.0, 0.2),
                            temperature_k=10.0)
    keys = ("discharged", "charged_no_oxygen_redox", "charged_oxygen_redox")
    for k in keys:
        m = ex[k].rixs
        save_figure(plot_rixs_map(m, channels=False, scale="sqrt", figsize=(4.5, 4.0),
                                  title=f"Fig. 7: {ex[k].name} (sim.)"), outdir / f"fig7_{k}.png", overwrite=True)
    save_figure(plot_spectra({ex[k].name: ex[k].xas for k in keys}, title="Fig. 7: O-K sXAS (sim.)"),
                outdir / "fig7_xas.png", overwrite=True)
    rows = []
    point = (531.0, 523.8)
    for k in keys:
        m = ex[k].rixs
        i = int(np.argmin(abs(m.excitation - point[0])))
        j = int(np.argmin(abs(m.emission - point[1])))
        rows.append([ex[k].name, float(m.intensity[i, j]), ex[k].oxidised_oxygen_amplitude])
    c = redox_contrast(ex["charged_oxygen_redox"], ex["charged_no_oxygen_redox"], point=point)
    return ["## Fig. 7 — the oxygen-redox feature at ≈531 / 523.8 eV", "",
            "Ni–O lattice (`rixsim.oxygen.kedge.ELECTRODE_NI`) with and without the oxidised-oxygen species of "
            "`rixsim.oxygen.vibronic`, whose Ni lattice mixture makes the charged sXAS match "
            "(`electrode_examples`, 10 K).", "",
            *[f"![{k}](fig7_{k}.png)" for k in keys], "", "![xas](fig7_xas.png)", "",
            *table(rows, ["electrode", "map at (531, 523.8) eV", "oxidised-O amplitude"]), "",
            f"Charged with vs without oxygen redox: sXAS contrast {c['xas_contrast']:.3f}, mRIXS contrast at "
            f"(531, 523.8) eV {c['rixs_contrast']:.3f} — {c['ratio']:.1f}× larger: the feature is buried in "
            "sXAS but stands out in mRIXS.", ""]


def run(outdir: pathlib.Path) -> pathlib.Path:
    outdir.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    md = ["# The seed review's figures, simulated with rixsim", "",
          f"rixsim {rixsim.__version__}. Every number below is computed by this script "
          "(`validation/review_figures.py`).", ""]
    for name, fn in (("Fig. 2", fig2), ("Fig. 3", fig3), ("Fig. 6", fig6), ("Fig. 7", fig7)):
        t = time.time()
        md += fn(outdir)
        log.info("%s in %.1f s", name, time.time() - t)
        if name == "Fig. 3":
            md += ["## Fig. 5 — Prussian-blue anode, discharged vs charged", "",
                   "Simulated separately: `validation/mn1_vs_mn2.py --covalent` (back-bonded Mn–CN clusters).", ""]
    md += [f"Run time {time.time() - t0:.1f} s."]
    path = outdir / "review_figures.md"
    path.write_text("\n".join(md) + "\n", encoding="utf-8")
    log.info("wrote %s", path)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=pathlib.Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    run(args.outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())

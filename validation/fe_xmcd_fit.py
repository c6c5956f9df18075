"""Validation on measured data: Fe L2,3 XAS/XMCD (Diamond I06-1), TEY and TFY fitted jointly with one
model and one sample, and the XMCD sum-rule ratio ⟨Lz⟩/⟨Sz⟩ from the data and from the fitted model.

Usage::

    python validation/fe_xmcd_fit.py OUTDIR

writes ``OUTDIR/fe_xmcd_fit.md`` and PNG figures.  The data are read from ``../shared/data/fe-l23-xmcd-i06/``
beside the checkout (eight SRS scans, see that folder's README) and never copied; without them the script
prints ``SKIPPED: <reason>``, writes a report saying SKIPPED and exits with 77.

What is done (every choice is repeated in the report):

* TEY = C1/C2, TFY = C3/C2 per scan; helicity from the sign of ``iddtrp`` (positive → called σ⁺ here; which
  sign is right- or left-circular is not recorded, so the sign of the XMCD and of the fitted exchange fields is
  a convention — the ratio ⟨Lz⟩/⟨Sz⟩ does not depend on it).
* The four scans of one helicity are put on the first one's energies (linear interpolation) and matched to it
  by a gain and offset fitted in the pre-edge (< 704 eV) and post-edge (> 728 eV) only (beam and drain
  current drift between scans), then averaged; σ of the mean is the scatter of the four about it / √4,
  smoothed over 5 points and floored at the point-to-point noise.
* Model (:mod:`rixsim.analysis.measured`): Fe2+ and Fe3+ in Oh (atomic multiplets, 1.9 K, an exchange field of
  ±10 meV along the beam on each, signs chosen by the fit), mixed in a fitted atom fraction with a fitted relative shift — the two L3 maxima
  (≈707.3 and ≈709.3 eV) suggest mixed valence; arctan continuum steps 2:1 at the model's own L3/L2 edges;
  one thick sample of assumed composition Fe3O4 (5.17 g/cm³; not recorded — see README) whose incidence and
  exit angles are fitted; TEY escape depth fixed at 1.7 nm (Fe, Nakajima et al. PRB 59, 6421 (1999)); per scan
  and channel a scale and a linear background.
"""
from __future__ import annotations

import logging
import math
import sys
import time
from pathlib import Path

import numpy as np

log = logging.getLogger("fe_xmcd_fit")

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fe-l23-xmcd-i06"
REPORT = "fe_xmcd_fit.md"
FORMULA, DENSITY = "Fe3O4", 5.17           # assumed: the compound is not recorded (README)
ESCAPE_NM = 1.7                             # Fe TEY escape depth, Nakajima, Stöhr & Idzerda PRB 59, 6421 (1999)
SPLIT_EV = 716.0                            # L3 / L2 integration split (minimum between the edges)
E_LO, E_HI = 700.0, 736.0                   # sum-rule integration limits (eV)
PRE, POST = 704.0, 728.0                    # pre-edge below, post-edge above (eV)


# ------------------------------------------------------------------------------------------------ data
def read_srs(path: Path) -> tuple[dict, dict]:
    """(metadata, columns) of one SRS file: ``name=value`` lines up to ``&END``, then a tab-separated table."""
    lines = path.read_text().splitlines()
    meta = {}
    end = next(i for i, ln in enumerate(lines) if ln.strip() == "&END")
    for ln in lines[:end]:
        if "=" in ln and not ln.lstrip().startswith("&"):
            k, _, v = ln.partition("=")
            meta[k.strip()] = v.strip().strip("'")
    names = [c.strip() for c in lines[end + 1].split("\t")]
    table = np.array([[float(x) for x in ln.split("\t")] for ln in lines[end + 2:] if ln.strip()])
    return meta, {nm: table[:, j] for j, nm in enumerate(names)}


def _matched_mean(e0, scans):
    """Mean and σ of the mean of scans (e, y) on e0 after a gain + offset match in pre- and post-edge."""
    ys = [np.interp(e0, e, y) for e, y in scans]
    ref = ys[0]
    sel = (e0 < PRE) | (e0 > POST)
    out = []
    for y in ys:
        a, b = np.linalg.lstsq(np.column_stack([y[sel], np.ones(sel.sum())]), ref[sel], rcond=None)[0]
        out.append(a * y + b)
    out = np.array(out)
    mean = out.mean(axis=0)
    sem = out.std(axis=0, ddof=1) / math.sqrt(len(out))
    sem = np.sqrt(np.convolve(sem ** 2, np.ones(5) / 5, mode="same"))
    # point-to-point noise of the mean (second differences of a smooth curve are noise)
    d2 = mean[1:-1] - 0.5 * (mean[:-2] + mean[2:])
    floor = float(np.median(np.abs(d2)) / 0.6745 / math.sqrt(1.5))
    return mean, np.maximum(sem, floor), len(out)


def load():
    """{"plus"/"minus": {"tey": (e, y, σ), "tfy": (e, y, σ)}}, the per-file list and the scan count."""
    files = sorted(DATA.glob("*.dat"))
    groups = {"plus": [], "minus": []}
    listing = []
    for p in files:
        meta, col = read_srs(p)
        sign = float(meta["iddtrp"])
        groups["plus" if sign > 0 else "minus"].append(col)
        listing.append((p.name, sign, float(meta.get("magz", "nan")), float(meta.get("Tsample_mag", "nan"))))
    e0 = groups["plus"][0]["fastEnergy"]
    out = {}
    for hel, cols in groups.items():
        out[hel] = {}
        for ch, num in (("tey", "C1"), ("tfy", "C3")):
            mean, sig, n = _matched_mean(e0, [(c["fastEnergy"], c[num] / c["C2"]) for c in cols])
            out[hel][ch] = (e0, mean, sig)
    return out, listing


# ------------------------------------------------------------------------------------------- sum rules
def _steps(e, y_avg):
    """Two arctan steps (2/3, 1/3 of the edge jump 1) at the L3 and L2 maxima of the average, FWHM 1 eV."""
    l3 = float(e[(e < SPLIT_EV)][np.argmax(y_avg[e < SPLIT_EV])])
    l2 = float(e[(e >= SPLIT_EV)][np.argmax(y_avg[e >= SPLIT_EV])])
    return (2 / 3) * (0.5 + np.arctan(2 * (e - l3)) / np.pi) + (1 / 3) * (0.5 + np.arctan(2 * (e - l2)) / np.pi)


def edge_normalise(e, y, sig=None):
    """Linear pre-edge (< 704 eV) subtracted, divided by the post-edge mean (> 730 eV): edge jump = 1."""
    pre = e < PRE
    c = np.polyfit(e[pre], y[pre], 1)
    z = y - np.polyval(c, e)
    jump = float(z[e > 730.0].mean())
    return z / jump, (None if sig is None else sig / jump)


def sum_rules(e, plus, minus, sp=None, sm=None, split=SPLIT_EV, hi=E_HI):
    """p, q, r and ⟨Lz⟩/⟨Sz⟩ = 4q / (9p − 6q) of edge-normalised μ±, with σ from the data σ (linear in p, q)."""
    avg = 0.5 * (plus + minus)
    step = _steps(e, avg)
    w = np.gradient(e)                                  # trapezoid-like weights on the non-uniform grid
    l3 = (e >= E_LO) & (e < split)
    both = (e >= E_LO) & (e <= hi)
    d = plus - minus
    p = float(np.sum(w[l3] * d[l3]))
    q = float(np.sum(w[both] * d[both]))
    r = float(np.sum(w[both] * (plus + minus - 2 * step)[both]))
    ratio = 4 * q / (9 * p - 6 * q)
    out = {"p": p, "q": q, "r": r, "Lz/Sz": ratio}
    if sp is not None:
        var_d = sp ** 2 + sm ** 2
        vp = float(np.sum((w ** 2 * var_d)[l3]))
        vq = float(np.sum((w ** 2 * var_d)[both]))
        cpq = float(np.sum((w ** 2 * var_d)[l3 & both]))
        den = 9 * p - 6 * q
        dr_dq = 4 / den + 24 * q / den ** 2
        dr_dp = -36 * q / den ** 2
        out["sigma"] = math.sqrt(max(dr_dp ** 2 * vp + dr_dq ** 2 * vq + 2 * dr_dp * dr_dq * cpq, 0.0))
    return out


def l3_l2_peak_ratio(e, y):
    """Ratio of the L3 to the L2 maximum above the pre-edge (mean of the first 3 eV)."""
    z = y - y[e <= e[0] + 3.0].mean()
    return float(z[e < SPLIT_EV].max() / z[e >= SPLIT_EV].max())


# ---------------------------------------------------------------------------------------------- the fit
def build_model():
    from rixsim.analysis.measured import (ClusterAbsorption, ClusterMixture, DetectionChannel, MeasuredModel,
                                          SampleSpec)
    mix = ClusterMixture({"fe2": ClusterAbsorption("Fe2+", temperature_k=1.9),
                          "fe3": ClusterAbsorption("Fe3+", temperature_k=1.9)})
    sample = SampleSpec(FORMULA, DENSITY, "Fe", incidence_deg=45.0, exit_deg=45.0, electron_escape_nm=ESCAPE_NM)
    return MeasuredModel(mix, {"tey": DetectionChannel("TEY"), "tfy": DetectionChannel("TFY")}, sample=sample)


CHEAP = ["edge_offset", "fe3_fraction", "fe3_shift", "l3_fwhm", "l2_fwhm", "gauss_fwhm", "white_line_area",
         "step_fwhm", "incidence_deg", "exit_deg", "circular_degree"]
# the exchange fields stay at ±10 meV: at 1.9 K (kT = 0.16 meV) that saturates each ion's moment, which is all
# the spectra see; their signs are chosen in stage 1
HAM = ["fe2_tendq", "fe3_tendq"]


def fit(data, quick=False):
    from rixsim.analysis.measured import MeasuredScan, fit_measured
    from rixsim.errors import ConvergenceError
    from rixsim.results import Spectrum
    model = build_model()
    scans = [MeasuredScan({ch: Spectrum(e, y, sigma=s) for ch, (e, y, s) in data[hel].items()},
                          "sigma+" if hel == "plus" else "sigma-", hel) for hel in ("plus", "minus")]
    base = {"fe2_tendq": 1.2, "fe3_tendq": 1.6, "fe3_fraction": 0.6, "fe3_shift": 0.8, "edge_offset": 710.4,
            "l3_fwhm": 0.5, "l2_fwhm": 1.0, "gauss_fwhm": 0.4, "white_line_area": 20.0, "step_fwhm": 1.5,
            "incidence_deg": 45.0, "exit_deg": 45.0, "circular_degree": 0.6}
    # stage 1: the four relative signs of the two exchange fields (the helicity label is a convention),
    # cheap parameters only
    stage1 = []
    signs = [(1, -1)] if quick else [(1, 1), (1, -1), (-1, 1), (-1, -1)]
    for s2, s3 in signs:
        start = dict(base, fe2_exchange=0.01 * s2, fe3_exchange=0.01 * s3)
        try:
            r = fit_measured(scans, model, start=start, vary=["edge_offset"] if quick else CHEAP,
                             separate_scales=True, max_nfev=3000, method="least_squares")
        except ConvergenceError as exc:
            log.info("stage 1 (signs %+d %+d) failed: %s", s2, s3, exc)
            continue
        log.info("stage 1 signs fe2 %+d fe3 %+d: chi2_r = %.4g", s2, s3, r.reduced_chi_square)
        stage1.append((r.chi_square, start, r))
    if not stage1:
        raise ConvergenceError("no stage-1 fit converged")
    _, start, r1 = min(stage1, key=lambda t: t[0])
    # stage 2: everything, from the best stage-1 fit
    start2 = {k: v for k, v in r1.values.items() if k in CHEAP + HAM}
    start2.update({k: r1.values[k] for k in ("fe2_exchange", "fe3_exchange")})
    if quick:
        return model, scans, r1, r1, stage1, "skipped (--quick)"
    t = time.time()
    try:
        r2 = fit_measured(scans, model, start=start2, vary=CHEAP + HAM, separate_scales=True, max_nfev=800,
                          method="least_squares")
    except ConvergenceError as exc:
        log.info("stage 2 did not converge (%s); reporting stage 1", exc)
        return model, scans, r1, r1, stage1, str(exc)
    log.info("stage 2: chi2_r = %.4g, %d evaluations, %d diagonalisations, %.0f s", r2.reduced_chi_square,
             r2.n_evaluations, r2.details["n_diagonalisations"], time.time() - t)
    return model, scans, r1, r2, stage1, ""


# -------------------------------------------------------------------------------------------- figures
def _caption_params(res, names):
    parts = []
    for nm in names:
        p = res.parameters[nm]
        parts.append(f"{nm} = {p.value:.4g} ± {p.sigma:.2g}" + (f" {p.units}" if p.units else ""))
    return "; ".join(parts)


def plot_channel(res, ch, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax, axr) = plt.subplots(2, 1, figsize=(7.5, 6.2), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    for hel, col in (("plus", "C3"), ("minus", "C0")):
        d, m = res.data[f"{hel}/{ch}"], res.best_fit[f"{hel}/{ch}"]
        lab = "σ⁺ (iddtrp > 0)" if hel == "plus" else "σ⁻ (iddtrp < 0)"
        ax.errorbar(d.energy, d.intensity, yerr=d.sigma, fmt="o", ms=2.2, color=col, elinewidth=0.7, alpha=0.75,
                    label=f"data {lab}")
        ax.plot(m.energy, m.intensity, "-", color=col, lw=1.2, label=f"model {lab}")
        axr.plot(d.energy, (d.intensity - m.intensity) / d.sigma, ".", ms=2.5, color=col)
    axr.axhline(0, color="k", lw=0.6)
    ax.set_ylabel(f"{ch.upper()} = {'C1' if ch == 'tey' else 'C3'}/C2")
    axr.set_ylabel("(data − model)/σ")
    axr.set_xlabel("photon energy (eV)")
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(f"Fe L2,3 {ch.upper()}, joint TEY + TFY fit (one model, one sample)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_xmcd(e, dn, sig_d, model_d, ch, path, label_model):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.5, 4.0))
    ax.errorbar(e, dn, yerr=sig_d, fmt="o", ms=2.2, color="k", elinewidth=0.7, alpha=0.7, label="data σ⁺ − σ⁻")
    ax.plot(e, model_d, "-", color="C1", lw=1.3, label=label_model)
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(SPLIT_EV, color="0.6", ls=":", lw=0.8)
    ax.set_xlabel("photon energy (eV)")
    ax.set_ylabel(f"XMCD ({ch.upper()}, edge jump = 1)")
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------ main
def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    quick = "--quick" in argv          # a fast check of the pipeline and the report (one parameter); not a validation
    argv = [a for a in argv if a != "--quick"]
    if len(argv) != 1:
        log.info("usage: python validation/fe_xmcd_fit.py OUTDIR [--quick]")
        return 2
    outdir = Path(argv[0])
    outdir.mkdir(parents=True, exist_ok=True)
    if not DATA.is_dir() or not list(DATA.glob("*.dat")):
        reason = f"Fe L2,3 XMCD data not found at {DATA} (../shared/data beside the checkout)"
        print(f"SKIPPED: {reason}")
        (outdir / REPORT).write_text(f"# Fe L2,3 XMCD: joint TEY + TFY forward-model fit\n\nSKIPPED: {reason}\n")
        return 77
    t0 = time.time()
    data, listing = load()
    model, scans, r1, res, stage1, stage2_failure = fit(data, quick)
    v = res.values

    # ---- figures of the fit
    figs = {}
    for ch in ("tey", "tfy"):
        figs[ch] = f"fe_xmcd_{ch}.png"
        plot_channel(res, ch, outdir / figs[ch])

    # ---- L3/L2 ratios, per channel, helicity average
    ratios = {}
    for ch in ("tey", "tfy"):
        e = res.data[f"plus/{ch}"].energy
        dm = 0.5 * (res.data[f"plus/{ch}"].intensity + res.data[f"minus/{ch}"].intensity)
        mm = 0.5 * (res.best_fit[f"plus/{ch}"].intensity + res.best_fit[f"minus/{ch}"].intensity)
        ratios[ch] = (l3_l2_peak_ratio(e, dm), l3_l2_peak_ratio(e, mm))
    wide = np.linspace(695.0, 738.0, 861)
    parts_iso = model.edge_absorption(wide, v)
    n_iso = parts_iso["white_L3"] + parts_iso["white_L2"] + parts_iso["step_L3"] + parts_iso["step_L2"]
    ratios["absorption (model, undistorted)"] = (math.nan, l3_l2_peak_ratio(wide, n_iso))

    # ---- sum rules: data, the model's predicted channels through the same procedure, the model's absorption
    sr = {}
    xmcd_figs = {}
    for ch in ("tey", "tfy"):
        e = res.data[f"plus/{ch}"].energy
        dp, sp = edge_normalise(e, res.data[f"plus/{ch}"].intensity, res.data[f"plus/{ch}"].sigma)
        dmn, sm = edge_normalise(e, res.data[f"minus/{ch}"].intensity, res.data[f"minus/{ch}"].sigma)
        mp, _ = edge_normalise(e, res.best_fit[f"plus/{ch}"].intensity)
        mmn, _ = edge_normalise(e, res.best_fit[f"minus/{ch}"].intensity)
        sr[f"data {ch.upper()}"] = sum_rules(e, dp, dmn, sp, sm)
        sr[f"model {ch.upper()} (same procedure)"] = sum_rules(e, mp, mmn)
        syst = [sum_rules(e, dp, dmn, split=s, hi=h)["Lz/Sz"] for s in (715.0, 717.0) for h in (732.0, 736.0)]
        sr[f"data {ch.upper()}"]["syst"] = (min(syst), max(syst))
        xmcd_figs[ch] = f"fe_xmcd_dichroism_{ch}.png"
        plot_xmcd(e, dp - dmn, np.sqrt(sp ** 2 + sm ** 2), mp - mmn, ch, outdir / xmcd_figs[ch],
                  f"fitted model {ch.upper()} σ⁺ − σ⁻ (same normalisation)")
    pp = model.edge_absorption(wide, v, "sigma+")
    pm = model.edge_absorption(wide, v, "sigma-")
    white_p = pp["white_L3"] + pp["white_L2"]
    white_m = pm["white_L3"] + pm["white_L2"]
    w = np.gradient(wide)
    dd = white_p - white_m
    p_m = float(np.sum((w * dd)[(wide >= E_LO) & (wide < SPLIT_EV)]))
    q_m = float(np.sum((w * dd)[(wide >= E_LO) & (wide <= E_HI)]))
    sr["model absorption (white lines, no step, no saturation)"] = {"p": p_m, "q": q_m, "r": float(
        np.sum((w * (white_p + white_m))[(wide >= E_LO) & (wide <= E_HI)])), "Lz/Sz": 4 * q_m / (9 * p_m - 6 * q_m)}

    # ---- report
    L = ["# Fe L2,3 XMCD (Diamond I06-1): joint TEY + TFY forward-model fit", "",
         f"Data: `../shared/data/fe-l23-xmcd-i06/` (read, not copied), {len(listing)} SRS scans, 6 T along z, "
         "1.9 K (file headers). Per scan TEY = C1/C2 and TFY = C3/C2; helicity from the sign of `iddtrp` "
         "(positive → called σ⁺ here; which sign is right- or left-circular is not recorded, so the sign of the "
         "XMCD and of the exchange fields is a convention; ⟨Lz⟩/⟨Sz⟩ does not depend on it).", "",
         "| file | iddtrp | magz (T) | T (K) |", "| --- | ---: | ---: | ---: |"]
    L += [f"| {n} | {s:+.4g} | {b:g} | {t:g} |" for n, s, b, t in listing]
    L += ["", "Preparation: the four scans of one helicity are interpolated onto the first scan's energies, matched "
          "to it by a gain and an offset fitted only in the pre-edge (< 704 eV) and post-edge (> 728 eV), and "
          "averaged; σ of each averaged point is the scatter of the four scans about the mean / √4, smoothed over "
          "5 points and floored at the point-to-point noise of the mean (median absolute second difference).", "",
          "## Model and sample", "",
          "One forward model (`rixsim.analysis.measured`) for all four data sets (σ⁺, σ⁻ × TEY, TFY): Fe2+ and "
          "Fe3+ in Oh, atomic multiplets (Hartree–Fock Slater integrals × 0.8), 1.9 K, each with its own 10Dq and "
          "an exchange field along the beam (magnitude 10 meV, sign fitted), mixed in a fitted atom fraction with a fitted relative edge shift; "
          "per-edge Lorentzian (L3, L2) and Gaussian widths; arctan continuum steps in the statistical 2:1 ratio at "
          "the model's own L3/L2 edges (fitted width) with the tabulated Fe L2,3 edge jump as their height; the "
          "white-line area in edge jumps × eV fitted; the effective degree of circular polarisation P "
          "(`circular_degree`: beam polarisation × projected magnetisation, which the data do not separate) "
          "fitted, the model's σ± being mixed with (1 ± P)/2 of each helicity. Sample: one thick layer of **assumed** composition "
          f"{FORMULA} ({DENSITY} g/cm³; the compound is not recorded), packing 1; incidence and exit angle fitted; "
          f"TEY escape depth fixed at {ESCAPE_NM} nm (Fe; Nakajima, Stöhr & Idzerda, PRB 59, 6421 (1999)); TFY = "
          "every tabulated line above 100 eV (Fe Lα, Lβ, Ll, Lη and O Kα of the O K continuum) with its own "
          "self-absorption, μ(E) from the model itself. Each scan and channel has its own scale and linear "
          "background (beam and drain-current drift between the helicities).", "",
          "Fit in two stages (lmfit `least_squares`): (1) the four sign combinations of the two exchange fields "
          "(±10 meV along the beam: at 1.9 K, kT = 0.16 meV, this saturates each ion's moment, which is all the "
          "spectra see) with the Hamiltonian fixed (10Dq 1.2 / 1.6 eV) and the cheap parameters fitted on cached "
          "eigensystems; (2) from the best, the same plus both 10Dq (re-diagonalising).", ""]
    L += ["| stage 1: sign fe2, fe3 | χ²ᵣ |", "| --- | ---: |"]
    L += [f"| {np.sign(s['fe2_exchange']):+.0f}, {np.sign(s['fe3_exchange']):+.0f} | {r.reduced_chi_square:.4g} |"
          for _, s, r in stage1]
    scaled = math.sqrt(res.reduced_chi_square) if res.reduced_chi_square > 1 else 1.0
    title = "stage 2" if not stage2_failure else "stage 1 — stage 2 did not converge: " + stage2_failure
    L += ["", f"## Fitted parameters ({title})", "",
          f"χ² = {res.chi_square:.1f} for {res.dof} dof, χ²ᵣ = {res.reduced_chi_square:.3g} "
          f"({res.n_points} points, weighting {res.weighting}), {res.n_evaluations} model evaluations, "
          f"{res.details['n_diagonalisations']} diagonalisations. σ are from the covariance at the data σ; the "
          f"column 'σ × √χ²ᵣ' scales them by √χ²ᵣ = {scaled:.3g}, the honest figure when χ²ᵣ ≫ 1 (the model "
          "does not describe the data to within their noise).", "",
          "| parameter | value | σ | σ × √χ²ᵣ | unit |", "| --- | ---: | ---: | ---: | --- |"]
    for nm in res.varied:
        p = res.parameters[nm]
        L.append(f"| {nm} | {p.value:.5g} | {p.sigma:.3g} | {p.sigma * scaled:.3g} | {p.units} |")
    L += ["", f"Fit health: {'trustworthy' if res.trustworthy else 'NOT trustworthy'}."]
    L += [f"- {r}" for r in res.health.reasons]
    L += ["", "### Sample parameters", "",
          f"- incidence α = {v['incidence_deg']:.3g} ± {res.parameters['incidence_deg'].sigma * scaled:.2g}°, exit "
          f"β = {v['exit_deg']:.3g} ± {res.parameters['exit_deg'].sigma * scaled:.2g}° (from the surface; "
          f"sin α / sin β = {math.sin(math.radians(v['incidence_deg'])) / math.sin(math.radians(v['exit_deg'])):.3g}"
          "), thickness ∞ and packing 1 (fixed: a thick sample; for a thick sample the fluorescence saturation "
          "depends only on sin α / sin β, and the TEY saturation on λ_e / sin α).", ""]
    L += ["## L3/L2 ratio per channel (helicity average, maxima above the pre-edge, split at "
          f"{SPLIT_EV:g} eV)", "", "| channel | measured | fitted |", "| --- | ---: | ---: |"]
    for ch, (a, b) in ratios.items():
        L.append(f"| {ch.upper() if len(ch) < 4 else ch} | {'—' if math.isnan(a) else f'{a:.3f}'} | {b:.3f} |")
    L += ["", "## XMCD sum rules: ⟨Lz⟩/⟨Sz⟩", "",
          "⟨Lz⟩/⟨Sz⟩ = 2 m_orb/m_spin = 4q/(9p − 6q) (Thole et al. PRL 68, 1943 (1992); Carra et al. PRL 70, 694 "
          "(1993); in the form of Chen et al. PRL 75, 152 (1995)), with p = ∫_L3 (μ⁺ − μ⁻) dE, q = ∫_L3+L2 "
          "(μ⁺ − μ⁻) dE. Assumptions: each helicity's spectrum has its linear pre-edge (< 704 eV) subtracted and "
          "is divided by its post-edge mean (> 730 eV), so both have edge jump 1; integration "
          f"{E_LO:g}–{SPLIT_EV:g} eV (L3) and {SPLIT_EV:g}–{E_HI:g} eV (L3 + L2); the magnetic dipole term ⟨T_z⟩ "
          "is neglected; the ratio needs neither the number of 3d holes n_h nor the isotropic integral r (r "
          "= ∫(μ⁺ + μ⁻ − 2·step) with two arctan steps 2:1 of width 1 eV at the L3/L2 maxima, reported for "
          "moments per hole: m_orb = −4q n_h/(3r), m_spin = −(6p − 4q) n_h/r); incomplete circular "
          "polarisation and the angle between beam and moment scale p and q alike and cancel in the ratio. The "
          "systematic range varies the L3/L2 split (715–717 eV) and the upper limit (732–736 eV).", "",
          "| source | p | q | r | ⟨Lz⟩/⟨Sz⟩ | σ (data noise) | systematic range |",
          "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for k, d in sr.items():
        s = f"{d['sigma']:.3g}" if "sigma" in d else "—"
        syst = f"{d['syst'][0]:.3g} … {d['syst'][1]:.3g}" if "syst" in d else "—"
        L.append(f"| {k} | {d['p']:.4g} | {d['q']:.4g} | {d['r']:.4g} | {d['Lz/Sz']:.4g} | {s} | {syst} |")
    L += ["", "TFY is strongly saturated (its L3/L2 ratio above is far below the TEY's), so its sum-rule ratio is "
          "distorted and is shown only for comparison; TEY is the channel the sum rules are usually applied to. "
          "'model … (same procedure)' applies the identical normalisation and integration to the fitted model's "
          "predicted channel; 'model absorption' applies the sum rule to the model's undistorted white lines "
          "(the result an ideal, saturation-free measurement of this model would give).", "",
          "## Figures", ""]
    caption_common = _caption_params(res, ["fe3_fraction", "fe2_tendq", "fe3_tendq", "circular_degree",
                                           "incidence_deg", "exit_deg"])
    caption_common += (f"; exchange fields fe2 {res.values['fe2_exchange'] * 1e3:+.0f} meV, fe3 "
                       f"{res.values['fe3_exchange'] * 1e3:+.0f} meV (fixed magnitude)")
    for ch in ("tey", "tfy"):
        L += [f"![{ch}]({figs[ch]})", "",
              f"*{ch.upper()} of both helicities (points: averages of four scans, error bars 1σ as described "
              f"above) and the joint fit (lines); lower panel: normalised residuals. Fitted: {caption_common}; "
              f"χ²ᵣ = {res.reduced_chi_square:.3g} for the joint fit of all four data sets.*", ""]
        L += [f"![xmcd {ch}]({xmcd_figs[ch]})", "",
              f"*{ch.upper()} XMCD (σ⁺ − σ⁻ after the edge-jump normalisation of the sum-rule analysis), data with 1σ "
              f"error bars and the fitted model through the same normalisation; dotted: L3/L2 split "
              f"{SPLIT_EV:g} eV. ⟨Lz⟩/⟨Sz⟩ data = {sr[f'data {ch.upper()}']['Lz/Sz']:.3g}, model = "
              f"{sr[f'model {ch.upper()} (same procedure)']['Lz/Sz']:.3g}.*", ""]
    L += ["## Limits", "",
          "- The compound and geometry are not recorded: composition (Fe3O4) and escape depth are assumptions; the "
          "angles are fitted, which makes them effective values that also absorb any error of the assumed "
          "composition and of the tabulated edge jump.",
          "- Two octahedral ions stand in for whatever mixture of sites the sample has (a tetrahedral Fe3+ "
          "site, as in magnetite or maghemite, is not included); charge transfer is not included.",
          "- The model ⟨Lz⟩/⟨Sz⟩ is the sum rule applied to the model's spectra, not the expectation value in "
          "its ground state; the two differ by the sum rules' own errors (j-j mixing of the 2p levels, ⟨T_z⟩).",
          "", f"Run time {time.time() - t0:.0f} s."]
    (outdir / REPORT).write_text("\n".join(L) + "\n")
    log.info("wrote %s", outdir / REPORT)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fit the measured Ni L3 RIXS map of NiPS3 with an atomic Ni2+ multiplet model and compare with published values.

Usage::

    python validation/nips3_fit.py OUTDIR

writes ``OUTDIR/nips3_fit.md`` and PNG figures.  The data (``NiPS3v2.numpy``, 151 loss rows × 40 incident
columns; He et al., Nat. Commun. 15 (2024); published in EDRIXS/Inverse_scattering_solver) are read from
``../shared/data/nips3-ni-l3-rixs/`` beside the checkout and never copied; without them the script says so and
exits 0.

Axes: loss = linspace(0.5, 2.0, 151) eV; incident energies 40 points over a window relative to an unknown
origin, fitted as ``edge_offset``.  The data README gives a 12 eV window; the repository's runner
(``utils_from_NiPS.py``, ``RIXS_runner_NIPS3``) evaluates the model at ``linspace(848.5, 857.6, 40)`` − 857.15 +
xoffset, a 9.1 eV window.  Both are fitted here and compared by their residual.

The data are normalised intensities, not counts: the fits are unweighted and the covariance is scaled by χ²ᵣ,
so the quoted σ are statistical only (the residual is dominated by what the atomic model leaves out).
"""
from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nips3-ni-l3-rixs" / "NiPS3v2.numpy"
LOSS = np.linspace(0.5, 2.0, 151)

# Published values.  Lajer et al., PRB 112, 155167 (2025): started from Hartree–Fock Ni2+ values, core-hole
# HWHM 0.75 eV, final-state (Gaussian, HWHM) width 0.03 eV; searched 10Dq in 0.5–4 eV with F2dd, F4dd, F2pd,
# G1pd, G3pd free (NiPS3_config.py of EDRIXS/Inverse_scattering_solver).  Their repository's parameter file
# testparam_NiPS3.json holds one solution (eV; Gam_c is a HWHM):
LAJER_TESTPARAM = {"tendq": 1.06109425, "f2dd": 5.49641786, "f4dd": 4.50019582, "f2pd": 6.70770679,
                   "g1pd": 2.73981969, "g3pd": 2.37535680, "zeta_3d_initial": 0.123134295, "zeta_2p": 11.4642328,
                   "core_hole_hwhm": 0.543930560}
# The NiPS3 project's exact-diagonalisation helper (utils_from_NiPS.py, perform_ED_1site docstring) uses
# tenDq = 1.07 eV as its example value for NiPS3.
NIPS3_PROJECT_TENDQ = 1.07

log = logging.getLogger("nips3_fit")


def _fit(window_ev: float, vary_scales: str, temperature_k: float = 40.0, lh150: bool = False,
         d3d_from=None):
    from rixsim.analysis.fitting import FitModel, fit_rixs_map, guess_edge_offset
    from rixsim.results import RixsMap

    d = np.loadtxt(DATA)
    data = RixsMap(np.linspace(0.0, window_ev, 40), None, d.T, loss=LOSS, label="NiPS3 Ni L3 RIXS")
    model = FitModel("Ni2+", temperature_k=temperature_k, symmetry="D3d" if d3d_from is not None else "Oh")
    start = dict(tendq=1.1, slater_scale=0.6, l3_fwhm=1.5, l2_fwhm=1.5, resolution_fwhm=0.1, final_fwhm=0.02)
    vary = {"tendq": (0.5, 2.5), "edge_offset": None, "scale": None, "l3_fwhm": (0.1, 4.0),
            "resolution_fwhm": (0.01, 0.5), "final_fwhm": (0.0, 0.5)}
    t0 = time.perf_counter()
    start["edge_offset"] = guess_edge_offset(data, model, start)
    if d3d_from is not None:        # trigonal field (z ∥ [111]) on top of a converged Oh fit
        start.update({k: d3d_from.values[k] for k in ("tendq", "edge_offset", "l3_fwhm", "resolution_fwhm",
                                                      "final_fwhm", "slater_scale")}, dsigma=0.02, dtau=0.0)
        vary.update(dsigma=(-0.3, 0.3), dtau=(-0.3, 0.3))
    if vary_scales == "one":
        vary["slater_scale"] = (0.2, 1.2)
    elif vary_scales == "dd_pd":
        start.update(dd_scale=0.6, pd_scale=0.6)
        vary.update(dd_scale=(0.1, 1.2), pd_scale=(0.1, 1.2))
    else:                                   # the five integrals of Lajer et al.
        first = _fit(window_ev, "dd_pd", temperature_k)[0]
        for k in ("tendq", "edge_offset", "l3_fwhm", "resolution_fwhm", "final_fwhm"):
            start[k] = first.values[k]
        for k in ("f2dd", "f4dd"):
            start[f"{k}_scale"] = first.values["dd_scale"]
        for k in ("f2pd", "g1pd", "g3pd"):
            start[f"{k}_scale"] = first.values["pd_scale"]
        vary.update({f"{k}_scale": (0.05, 1.5) for k in ("f2dd", "f4dd", "f2pd", "g1pd", "g3pd")})
    kw = {}
    if lh150:       # π (LH) incident, unanalysed emission, 2θ = 150° (the measurement's), powder-averaged
        from rixsim.spectroscopy.geometry import ScatteringGeometry
        kw = dict(geometry=ScatteringGeometry(two_theta_deg=150.0, incident="pi"), powder=True)
    r = fit_rixs_map(data, model, start=start, vary=vary, sigma=None, max_nfev=3000, **kw)
    return r, data, model, time.perf_counter() - t0


def _absolute(r, model) -> dict:
    """Fitted Slater integrals in eV (initial-state F for dd, core-excited for pd)."""
    m = model.cluster_model(r.values)
    return {"f2dd": m.initial.f2dd, "f4dd": m.initial.f4dd, "f2pd": m.core_excited.f2pd,
            "g1pd": m.core_excited.g1pd, "g3pd": m.core_excited.g3pd}


def _abs_sigma(r, model, name):
    """σ of an absolute Slater integral from the σ of the scale that sets it."""
    hf = model._hf
    src = {"f2dd": hf.initial.f2dd, "f4dd": hf.initial.f4dd, "f2pd": hf.core_excited.f2pd,
           "g1pd": hf.core_excited.g1pd, "g3pd": hf.core_excited.g3pd}[name]
    group = "dd_scale" if name in ("f2dd", "f4dd") else "pd_scale"
    for key in (f"{name}_scale", group, "slater_scale"):
        if key in r.varied:
            return src * r.sigmas[key]
    return 0.0


def _figures(outdir: Path, data, r, tag: str) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
    ext = [data.excitation[0], data.excitation[-1], LOSS[0], LOSS[-1]]
    vmax = data.intensity.max()
    for ax, z, title in zip(axes, (data.intensity, r.best_fit.intensity, data.intensity - r.best_fit.intensity),
                            ("measured", "fit", "measured − fit")):
        im = ax.imshow(z.T, origin="lower", aspect="auto", extent=ext, cmap="RdBu_r" if "−" in title else "viridis",
                       vmin=-0.3 * vmax if "−" in title else 0, vmax=0.3 * vmax if "−" in title else vmax)
        ax.set_title(title)
        ax.set_xlabel("incident energy (eV, relative)")
        fig.colorbar(im, ax=ax)
    axes[0].set_ylabel("energy loss (eV)")
    fig.tight_layout()
    name = f"nips3_map_{tag}.png"
    fig.savefig(outdir / name, dpi=110)
    plt.close(fig)
    names.append(name)

    prof = data.intensity.sum(axis=1)
    cols = np.argsort(prof)[-3:][::-1]
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, c in enumerate(sorted(cols)):
        off = 1.2 * k * data.intensity.max()
        ax.plot(LOSS, data.intensity[c] + off, "k.", ms=3)
        ax.plot(LOSS, r.best_fit.intensity[c] + off, "r-", lw=1)
        ax.text(LOSS[-1], off + 0.1, f"{data.excitation[c]:.2f} eV", ha="right")
    ax.set_xlabel("energy loss (eV)")
    ax.set_ylabel("intensity (offset)")
    ax.set_title("NiPS3: spectra at the three strongest incident energies")
    fig.tight_layout()
    name = f"nips3_spectra_{tag}.png"
    fig.savefig(outdir / name, dpi=110)
    plt.close(fig)
    names.append(name)
    return names


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if len(argv) != 1:
        log.info("usage: python validation/nips3_fit.py OUTDIR")
        return 2
    if not DATA.exists():
        print(f"SKIPPED: NiPS3 data not found at {DATA} (../shared/data beside the checkout)")
        return 77
    from rixsim.errors import ConvergenceError

    outdir = Path(argv[0])
    outdir.mkdir(parents=True, exist_ok=True)
    runs = {}
    for tag, window, scales, lh in (("12eV_one", 12.0, "one", False), ("9.1eV_one", 9.1, "one", False),
                                    ("12eV_one_LH150powder", 12.0, "one", True), ("12eV_one_D3d", 12.0, "one", False),
                                    ("12eV_dd_pd", 12.0, "dd_pd", False), ("12eV_five", 12.0, "five", False)):
        try:
            d3d_from = runs["12eV_one"][0] if tag == "12eV_one_D3d" else None
            r, data, model, secs = _fit(window, scales, lh150=lh, d3d_from=d3d_from)
        except ConvergenceError as exc:
            log.info("%s: %s", tag, exc)
            runs[tag] = (None, str(exc), window, scales)
            continue
        log.info("%s: 10Dq = %.4f ± %.4f eV, R = %.4f, %.1f s, %d evaluations, %d diagonalisations", tag,
                 r.values["tendq"], r.sigmas["tendq"], r.r_factor, secs, r.n_evaluations, r.n_diagonalisations)
        runs[tag] = (r, (data, model, secs), window, scales)

    lines = ["# NiPS3 Ni L3 RIXS map: atomic Ni2+ (Oh) multiplet fit", "",
             "Data: He et al., Nat. Commun. 15 (2024), file `NiPS3v2.numpy` of EDRIXS/Inverse_scattering_solver "
             "(151 loss × 40 incident points), read from ../shared/data, not copied.",
             "Model: `rixsim.analysis.fitting.FitModel('Ni2+', temperature_k=40)` — tabulated Hartree–Fock Slater integrals "
             "× fitted scale(s), cubic 10Dq, isotropic scattering (the measurement's LH geometry with three twin "
             "domains is not modelled), 40 K.  Unweighted fit (normalised intensities): σ are statistical only, "
             "scaled by χ²ᵣ.  Start: core-hole FWHM 1.5 eV (HWHM 0.75 eV, Lajer et al.).", "",
             "| fit | window (eV) | 10Dq (eV) | Slater scales (and Dσ, Dτ in eV) | edge_offset (eV, relative) | L3 FWHM (eV) | "
             "resolution FWHM (eV) | final FWHM (eV) | R-factor | χ²ᵣ | time (s) | evals / diags | at a bound |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    figs = []
    for tag, (r, info, window, scales) in runs.items():
        if r is None:
            lines.append(f"| {tag} | {window:g} | — | — | — | — | — | — | — | — | — | — | {info} |")
            continue
        data, model, secs = info
        sc = ", ".join(f"{k.replace('_scale', '')} {r.values[k]:.3f} ± {r.sigmas[k]:.3f}"
                       for k in r.varied if (k.endswith("_scale") and k != "scale") or k in ("dsigma", "dtau"))
        v, s = r.values, r.sigmas
        lines.append(f"| {tag} | {window:g} | {v['tendq']:.4f} ± {s['tendq']:.4f} | {sc} | "
                     f"{v['edge_offset']:.3f} ± {s['edge_offset']:.3f} | {v['l3_fwhm']:.3f} ± {s['l3_fwhm']:.3f} | "
                     f"{v['resolution_fwhm']:.3f} ± {s['resolution_fwhm']:.3f} | {v['final_fwhm']:.3f} ± "
                     f"{s['final_fwhm']:.3f} | {r.r_factor:.4f} | {r.reduced_chi_square:.3g} | {secs:.1f} | "
                     f"{r.n_evaluations} / {r.n_diagonalisations} | {', '.join(r.at_bounds) or '—'} |")
        if tag in ("12eV_one", "12eV_five"):
            figs += _figures(outdir, data, r, tag)

    lines += ["", "R-factor = Σ(y − fit)² / Σy².  lmfit's 'Tolerance seems to be too small' means no further reduction "
              "of χ² was possible; the row is listed with its last values because its uncertainties could not be "
              "estimated (parameters at a bound)."]
    r12, r91 = runs["12eV_one"][0], runs["9.1eV_one"][0]
    if r12 is not None and r91 is not None:
        better = "12 eV (data README)" if r12.r_factor < r91.r_factor else "9.1 eV (repository runner)"
        lines.append(f"Incident window: with one Slater scale the {better} window fits better (R = {r12.r_factor:.4f} "
                     f"for 12 eV, {r91.r_factor:.4f} for 9.1 eV); the comparison below uses 12 eV rows.")
    lines += ["", "## Comparison with published values", "",
              "| quantity | this work (12 eV window) | Lajer et al. 2025 repository solution (testparam_NiPS3.json) |",
              "|---|---|---|"]
    # reference row: the lowest R-factor on the 12 eV window among fits with no parameter at a bound
    ok = [t for t, v in runs.items() if v[0] is not None and t.startswith("12eV") and not v[0].at_bounds]
    best_tag = min(ok or [t for t, v in runs.items() if v[0] is not None], key=lambda t: runs[t][0].r_factor)
    best = runs[best_tag][0]
    model = runs[best_tag][1][1]
    ab = _absolute(best, model)
    lines.append(f"| 10Dq (eV) | {best.values['tendq']:.4f} ± {best.sigmas['tendq']:.4f} | "
                 f"{LAJER_TESTPARAM['tendq']:.3f} |")
    for k in ("f2dd", "f4dd", "f2pd", "g1pd", "g3pd"):
        lines.append(f"| {k.upper()} (eV) | {ab[k]:.2f} ± {_abs_sigma(best, model, k):.2f} | "
                     f"{LAJER_TESTPARAM[k]:.2f} |")
    lines.append(f"| core-hole HWHM (eV) | {best.values['l3_fwhm'] / 2:.3f} ± {best.sigmas['l3_fwhm'] / 2:.3f} | "
                 f"{LAJER_TESTPARAM['core_hole_hwhm']:.3f} (start 0.75) |")
    tdq = [v[0].values["tendq"] for t, v in runs.items() if v[0] is not None and t.startswith("12eV")]
    lines += ["", f"Systematic spread of 10Dq over the converged 12 eV model variants: {min(tdq):.3f}–{max(tdq):.3f} eV "
              "(the statistical σ above is far smaller: the residual is model error, not noise)."]
    lines += ["", f"(Reference row: `{best_tag}` — lowest R-factor with no parameter at a bound.)  Other published value: the NiPS3 project's ED helper uses "
              f"10Dq = {NIPS3_PROJECT_TENDQ} eV.  The d–d features of the data are the ³T₂ band near 1.1 eV and the "
              "³T₁ band near 1.7 eV with the spin-singlet (Hund's) exciton near 1.47 eV (He et al. 2024).",
              "", "Correlations (best row):", "", "```",
              "\n".join(f"{a:>16s} " + " ".join(f"{best.correlation[i, j]:+.2f}" for j in range(len(best.varied)))
                        for i, a in enumerate(best.varied)), "```", ""]
    lines += [f"![{f}]({f})" for f in figs]
    (outdir / "nips3_fit.md").write_text("\n".join(lines) + "\n")
    summary = {tag: ({k: [r.values[k], r.sigmas[k]] for k in r.varied} | {"r_factor": r.r_factor})
               for tag, (r, *_rest) in runs.items() if r is not None}
    (outdir / "nips3_fit.json").write_text(json.dumps(summary, indent=1))
    log.info("wrote %s", outdir / "nips3_fit.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``rixsim`` command line.

Subcommands: ``demo``, ``xas``, ``rixs``, ``channels``, ``fit``, ``references``, ``validate``, ``view``.
``rixsim <command> --help`` lists every option, and for commands that read a model file every TOML key with
its default.  The command line holds no physics: it validates input, calls the library and writes files.

Conventions
-----------
* Outputs go into ``--out DIR`` (created if missing) and are named after the model file's stem
  (``mn2.toml`` → ``mn2_xas.csv``, ``mn2_rixs.h5``, ``mn2_rixs.png``).  Every file is written atomically
  (temporary file, then rename); existing files are never replaced without ``--overwrite``, and all
  output names are checked *before* anything is computed.
* HDF5 maps carry the complete resolved parameter set (``/entry/parameters``), so
  :func:`rixsim.interfaces.config.config_from_dict` on :func:`rixsim.io.read_parameters_hdf5` recomputes them.
* Exit codes (``_EXIT_HELP``, printed by ``--help``): 6 the operating system refused a file operation, 7 over
  the memory budget, 130 interrupted; 0 success; 2 bad input (model file, options, data); 3 an output exists (use
  ``--overwrite``); 4 a fit did not converge; 5 a fit converged but is not trustworthy (a parameter the data
  do not determine, or χ² inconsistent with counting statistics; the outputs are written and the summary
  says why); 1 anything else.  Errors are one line on stderr naming the
  offending key or value, and nothing is written.
* Logging goes to stderr (``-v`` INFO, ``-vv`` DEBUG); progress bars appear only on a terminal.  The
  paths written are printed on stdout, one per line.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from rixsim.errors import ConvergenceError, FileExistsRefusal, InputError, MemoryBudgetError, RixsimError
from rixsim.io.atomic import write_text_atomic

log = logging.getLogger("rixsim.interfaces.cli")

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_EXISTS, EXIT_CONVERGENCE = 0, 1, 2, 3, 4
EXIT_UNTRUSTWORTHY = 5
EXIT_FILE, EXIT_MEMORY, EXIT_INTERRUPTED = 6, 7, 130

_EXIT_HELP = """exit codes: 0 success, 2 bad input (the message names the key or value; also a missing or
unreadable input file, or an unusable --out), 3 an output file exists (--overwrite replaces it), 4 a fit did
not converge, 5 a fit converged but is not trustworthy (undetermined parameters or chi-square inconsistent
with counting statistics; outputs are written and the summary's "Health" section says why), 6 the
operating system refused a file operation (permission, not a directory, disk full), 7 over the memory
budget (refused before the work starts; coarser axes or a larger memory_gb) or out of memory,
130 interrupted (Ctrl-C), 1 other failures (an internal error: --debug shows its traceback).
Errors are one line on stderr; --debug shows the traceback instead."""


# ------------------------------------------------------------------------------------------------ helpers
def _outdir(path: str | Path) -> Path:
    from rixsim.validate import output_directory
    return output_directory(path, "--out")


def _check_free(paths: Sequence[Path], overwrite: bool) -> None:
    """Refuse before computing when an output exists (so a refused run costs nothing and writes nothing)."""
    if overwrite:
        return
    taken = [p for p in paths if p.exists()]
    if taken:
        more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
        raise FileExistsRefusal(f"'{taken[0]}' exists{more}; use --overwrite to replace")


def _mkdir(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)


def _report(paths: Sequence[Path]) -> None:
    for p in paths:
        print(p)


def _figures(args, base: Path, what: str) -> list[Path]:
    if getattr(args, "no_plot", False):
        return []
    out = [base.with_name(f"{base.name}_{what}.png")]
    if getattr(args, "pdf", False):
        out.append(base.with_name(f"{base.name}_{what}.pdf"))
    return out


def _save(fig, paths, overwrite) -> list[Path]:
    from rixsim.interfaces.plotting import save_figure
    return [save_figure(fig, p, overwrite=overwrite) for p in paths]


def _load(path) -> "object":
    from rixsim.interfaces.config import load_config
    return load_config(path)


def _starting(command: str) -> None:
    """One line on stderr once the inputs are checked and before the numerical modules load (numba compiles
    its kernels on the first run, which takes up to a minute): the user knows the work has started."""
    sys.stderr.write(f"rixsim {command}: starting (the first run compiles the numerical kernels, up to a "
                     f"minute)\n")
    sys.stderr.flush()


# ------------------------------------------------------------------------------------------------ compute
def compute_xas(cfg, model=None):
    """(model, resolved config, Spectrum) for a config's [model] and [xas]."""
    from rixsim.spectroscopy.xas import xas
    model = cfg.build_model() if model is None else model
    rcfg = cfg.resolved(model.edge_offset)
    s = xas(model.transitions(rcfg.temperature_k), rcfg.xas_energies(), **rcfg.xas_keywords())
    meta = {**dict(s.meta), "parameters": rcfg.as_parameters()}
    from rixsim.results import Spectrum
    return model, rcfg, Spectrum(s.energy, s.intensity, label=s.label, units=s.units, meta=meta)


def compute_rixs(cfg, model=None, progress: Optional[bool] = None):
    """(model, resolved config, RixsMap) for a config's [model] and [rixs]."""
    from rixsim.spectroscopy.rixs import rixs_map
    model = cfg.build_model() if model is None else model
    rcfg = cfg.resolved(model.edge_offset)
    axes = rcfg.rixs_axes()
    kw = rcfg.rixs_keywords()
    exc = axes.pop("excitation")
    tr = model.transitions(rcfg.temperature_k)
    t0 = time.perf_counter()
    rmap = rixs_map(tr, exc, **axes, **kw, progress=progress)     # a bar, or log lines off a terminal
    log.info("RIXS map %s computed in %.2f s", rmap.intensity.shape, time.perf_counter() - t0)
    return model, rcfg, rmap


# ------------------------------------------------------------------------------------------------ commands
def cmd_xas(args) -> int:
    from rixsim.interfaces.plotting import plot_spectra
    from rixsim.io import write_spectrum_csv
    cfg = _load(args.model)
    out = _outdir(args.out)
    base = out / Path(args.model).stem
    csv = base.with_name(base.name + "_xas.csv")
    figs = _figures(args, base, "xas")
    _check_free([csv, *figs], args.overwrite)
    _starting("xas")
    model, rcfg, s = compute_xas(cfg)
    _mkdir(out)
    written = [write_spectrum_csv(csv, s, overwrite=args.overwrite)]
    if figs:
        written += _save(plot_spectra([s], title=cfg.title or s.label), figs, args.overwrite)
    _report(written)
    return EXIT_OK


def cmd_rixs(args) -> int:
    from rixsim.interfaces.plotting import plot_rixs_map
    from rixsim.io import write_map_hdf5
    cfg = _load(args.model)
    out = _outdir(args.out)
    base = out / Path(args.model).stem
    h5 = base.with_name(base.name + "_rixs.h5")
    figs = _figures(args, base, "rixs")
    _check_free([h5, *figs], args.overwrite)
    _starting("rixs")
    model, rcfg, rmap = compute_rixs(cfg)
    _mkdir(out)
    written = [write_map_hdf5(h5, rmap, rcfg.as_parameters(), overwrite=args.overwrite)]
    if figs:
        element = model.name.rstrip("+0123456789")
        written += _save(plot_rixs_map(rmap, element=element, scale="sqrt", title=cfg.title or f"{model.name} mRIXS"),
                         figs, args.overwrite)
    _report(written)
    return EXIT_OK


def cmd_channels(args) -> int:
    from rixsim.detection.channels import predict_channels
    from rixsim.interfaces.plotting import plot_rixs_map
    from rixsim.io import write_map_hdf5, write_spectrum_csv
    cfg = _load(args.model)
    if cfg.sample is None:
        raise InputError("sample: the channels command needs a [sample] table (formula, density_g_cm3, ...)")
    out = _outdir(args.out)
    base = out / Path(args.model).stem
    names = ("TEY", "TFY", "PFY", "iPFY", "sPFY", "ccPFY")      # iPFY is absent without O (or its element)
    csvs = {n: base.with_name(f"{base.name}_{n}.csv") for n in names}
    h5 = base.with_name(base.name + "_detected.h5")
    figs = _figures(args, base, "channels")
    _check_free([*csvs.values(), h5, *figs], args.overwrite)
    _starting("channels")
    model, rcfg, spec = compute_xas(cfg)
    element = model.name.rstrip("+0123456789")
    rmap = compute_rixs(cfg, model)[2] if cfg.sample["use_rixs_map"] else None
    sample, geometry = rcfg.build_sample(element, _resonance_spectrum(model, rcfg, spec))
    s = rcfg.sample
    ch = predict_channels(sample, geometry, spec.energy, element, resonant_maps=rmap, line_fwhm=s["line_fwhm"],
                          electron_escape_nm=s["electron_escape_nm"])
    _mkdir(out)
    written = []
    params = rcfg.as_parameters()
    for name, sp in ch.as_dict().items():
        from rixsim.results import Spectrum
        meta = {**dict(sp.meta), "parameters": params}
        path = csvs.get(name, base.with_name(f"{base.name}_{name}.csv"))
        written.append(write_spectrum_csv(path, Spectrum(sp.energy, sp.intensity, sp.label, sp.units,
                                                               meta=meta), overwrite=args.overwrite))
    written.append(write_map_hdf5(h5, ch.detected, params, overwrite=args.overwrite))
    if figs:
        fig = plot_rixs_map(ch.detected, channels=ch.as_dict(), scale="log",
                            title=cfg.title or f"{s['formula']}: detected emission at the {element} L edge")
        written += _save(fig, figs, args.overwrite)
    _report(written)
    return EXIT_OK


def _resonance_spectrum(model, rcfg, spec):
    """The model's XAS on an axis wide enough for the resonance's pre-/post-edge normalisation: at least
    ``edge_offset − 15`` … ``edge_offset + 25`` eV (the sample module takes the first and last 3 eV as
    pre- and post-edge; a scan starting on the L3 rise would normalise the edge below zero)."""
    from rixsim.spectroscopy.xas import xas
    lo = min(float(spec.energy[0]), model.edge_offset - 15.0)
    hi = max(float(spec.energy[-1]), model.edge_offset + 25.0)
    if lo == spec.energy[0] and hi == spec.energy[-1]:
        return spec
    step = min(float(rcfg.xas["energy_step"]), 0.1)
    axis = lo + step * np.arange(int((hi - lo) / step) + 1)
    return xas(model.transitions(rcfg.temperature_k), axis, **rcfg.xas_keywords())


def _valence(name: str) -> Optional[float]:
    from rixsim.cluster.tables import parse_ion
    try:
        return float(parse_ion(name).charge)
    except InputError:
        return None


def cmd_fit(args) -> int:
    from rixsim.interfaces.plotting import plot_fit
    from rixsim.io import read_spectrum, write_spectrum_csv
    data = read_spectrum(args.data, allow_negative=args.allow_negative)
    out = _outdir(args.out)
    stem = args.name or Path(args.data).stem
    base = out / stem
    csv = base.with_name(base.name + "_fit.csv")
    txt = base.with_name(base.name + "_fit.txt")
    figs = _figures(args, base, "fit")
    erange = None
    if args.energy_min is not None or args.energy_max is not None:
        erange = (args.energy_min if args.energy_min is not None else float(data.energy[0]),
                  args.energy_max if args.energy_max is not None else float(data.energy[-1]))
    sigma = None if args.sigma == "none" else "poisson"
    if args.model is not None:
        _check_free([csv, txt, *figs], args.overwrite)
        result, fit_spectrum, fitres = _model_fit(args, data, erange, sigma)
    else:
        refs = _references(args)
        _check_free([csv, txt, *figs], args.overwrite)
        from rixsim.analysis.lcf import fit_linear_combination
        valences = {n: v for n, v in ((n, _valence(n)) for n in refs)}
        valences = valences if all(v is not None for v in valences.values()) else None
        result = fit_linear_combination(data, refs, valences=valences, energy_range=erange, shift=args.shift,
                                        background_order=args.background_order, sigma=sigma, at_bound="fix")
        fit_spectrum, fitres = result.fit, result
    summary = fitres.summary()
    _mkdir(out)
    written = [write_spectrum_csv(csv, fit_spectrum, overwrite=args.overwrite),
               write_text_atomic(txt, summary + "\n", args.overwrite)]
    if figs:
        written += _save(plot_fit(result, title=f"{stem}"), figs, args.overwrite)
    sys.stdout.write(summary + "\n")
    _report(written)
    if not fitres.health.trustworthy:
        sys.stderr.write("rixsim: fit not trustworthy: " + "; ".join(fitres.health.reasons) + "\n")
        return EXIT_UNTRUSTWORTHY
    return EXIT_OK


def _references(args) -> dict:
    from rixsim.analysis.reference_library import IONS, load_reference
    from rixsim.io import read_spectrum
    refs = {}
    if args.library:
        ions = [i for i in IONS if i.rstrip("+0123456789") == args.library]
        if args.ions:
            ions = [i.strip() for i in args.ions.split(",") if i.strip()]
        if not ions:
            raise InputError(f"--library {args.library!r}: no reference ions of that element; library: "
                             f"{', '.join(IONS)}")
        for ion in ions:
            refs[ion] = load_reference(ion)
    for path in args.references or []:
        s = read_spectrum(path)
        name = s.meta.get("ion")
        refs[name if isinstance(name, str) else Path(path).stem] = s
    if len(refs) < 1:
        raise InputError("give reference spectra (--references FILE ...) or --library ELEMENT, or --model TOML")
    return refs


class _FitView:
    """What plot_fit needs from a model fit: data and fit (Spectrum)."""

    def __init__(self, data, fit):
        self.data, self.fit = data, fit


def _model_fit(args, data, erange, sigma):
    from rixsim.analysis.fitting import FitModel, fit_xas
    from rixsim.results import Spectrum
    cfg = _load(args.model)
    _starting("fit")
    m = cfg.model
    fm = FitModel(m["ion"], symmetry=m["symmetry"], charge_transfer=cfg.charge_transfer is not None,
                  n_ligand_holes=cfg.charge_transfer["n_ligand_holes"] if cfg.charge_transfer else 2,
                  temperature_k=m["temperature_k"])
    start = {k: m[k] for k in ("tendq", "ds", "dt", "dsigma", "dtau", "slater_scale") if k in
             fm.allowed_parameters("xas")}
    if cfg.charge_transfer is not None:
        start.update({k: v for k, v in cfg.charge_transfer.items() if k in fm.allowed_parameters("xas")
                      and v is not None})
    start["gauss_fwhm"] = cfg.xas["gauss_fwhm"]
    start["edge_offset"] = fm.defaults("xas")["edge_offset"] + m["shift"]
    vary = [v.strip() for v in args.vary.split(",") if v.strip()]
    pol = cfg.xas["polarization"]
    res = fit_xas(data, fm, start=start, vary=vary, sigma=sigma, energy_range=erange,
                  polarization=list(pol) if isinstance(pol, tuple) else pol, allow_negative=args.allow_negative)
    best = res.best_fit
    window = (data.energy >= best.energy[0]) & (data.energy <= best.energy[-1])
    view_data = Spectrum(data.energy[window], data.intensity[window], label="data", units=data.units)
    fit = Spectrum(best.energy, best.intensity, label="model fit",
                   meta={"values": dict(res.values), "sigmas": dict(res.sigmas), "varied": list(res.varied),
                         "trustworthy": res.health.trustworthy, "model_file": str(args.model),
                         "parameters": cfg.as_parameters()})
    return _FitView(view_data, fit), fit, res


def cmd_references(args) -> int:
    import tempfile

    from rixsim.analysis.reference_library import IONS, library_directory, write_library
    if args.in_place and args.out:
        raise InputError("give either --out DIR or --in-place, not both")
    ions = None if not args.ions else [i.strip() for i in args.ions.split(",") if i.strip()]
    if args.in_place:
        d = library_directory()
        overwrite = True
    elif args.out:
        d = _outdir(args.out)
        _mkdir(d)
        overwrite = args.overwrite
    else:
        d = Path(tempfile.mkdtemp(prefix="rixsim-references-"))
        overwrite = False
    written = write_library(d, ions, overwrite=overwrite, progress=None)
    log.info("%d reference spectra of %s in %s", len(written), ", ".join(ions or IONS), d)
    _report(written)
    return EXIT_OK


# A validation script that cannot run here (e.g. measured data absent) exits with this code after printing a line
# "SKIPPED: <reason>"; the report lists it as SKIPPED with that reason, never as ok.
VALIDATION_SKIP_EXIT = 77


def _script_status(code, output: str) -> str:
    if code == 0:
        return "ok"
    if code == VALIDATION_SKIP_EXIT:
        reasons = [ln.split("SKIPPED:", 1)[1].strip() for ln in output.splitlines() if "SKIPPED:" in ln]
        return f"SKIPPED ({reasons[0] if reasons else 'no reason given'})".replace("|", "/")
    return f"FAILED ({code})"


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive, finite number of seconds, got {text!r}")
    return value


def cmd_validate(args) -> int:
    import subprocess
    scripts_dir = Path(args.scripts) if args.scripts else Path(__file__).resolve().parents[2] / "validation"
    if not scripts_dir.is_dir():
        raise InputError(f"no validation scripts at '{scripts_dir}' (run from a source checkout or give --scripts)")
    scripts = sorted(scripts_dir.glob("*.py"))
    if args.only:
        wanted = {w.strip().removesuffix(".py") for w in args.only.split(",")}
        unknown = wanted - {s.stem for s in scripts}
        if unknown:
            raise InputError(f"--only names unknown scripts {sorted(unknown)}; available: "
                             f"{', '.join(s.stem for s in scripts)}")
        scripts = [s for s in scripts if s.stem in wanted]
    out = _outdir(args.out)
    index = out / "index.md"
    _check_free([index], args.overwrite)
    _mkdir(out)
    rows, failed = [], 0
    from rixsim.progress import progress
    for script in progress(scripts, desc="validation", unit="script", requested=None):
        sub = (out / script.stem).resolve()   # absolute: the script runs with cwd=sub
        sub.mkdir(exist_ok=True)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, str(script.resolve()), str(sub)], cwd=sub, capture_output=True,
                                  text=True, timeout=args.timeout)
            code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            code, stdout, stderr = "timeout", exc.stdout or "", exc.stderr or ""
            stdout = stdout.decode() if isinstance(stdout, bytes) else stdout
            stderr = stderr.decode() if isinstance(stderr, bytes) else stderr
        dt = time.perf_counter() - t0
        (sub / "stdout.txt").write_text(stdout)
        (sub / "stderr.txt").write_text(stderr)
        status = _script_status(code, stdout + "\n" + stderr)
        failed += status.startswith("FAILED")
        rows.append(f"| `{script.name}` | {status} | {dt:.1f} | [{script.stem}/]({script.stem}/) |")
        log.info("%s: %s in %.1f s", script.name, status, dt)
    from rixsim import __version__
    text = "\n".join([f"# rixsim {__version__} validation report", "",
                      f"Scripts from `{scripts_dir}`, run with `{sys.executable}`; each wrote into its own "
                      "directory (stdout.txt, stderr.txt and the script's own files).", "",
                      "| script | result | seconds | output |", "| --- | --- | --- | --- |", *rows, ""])
    _report([write_text_atomic(index, text, overwrite=True)])
    return EXIT_FAIL if failed else EXIT_OK


# ---------------------------------------------------------------------------------------------------- demo
DEMO_IONS = ("Mn2+", "Mn3+", "Mn4+")
#: the detected demo map: a MnO electrode (bulk density 5.37 g/cm³ at 60 % packing, illustrative), 45°/45°,
#: Raman/fluorescence balance r = 0.5 (illustrative; rixsim.spectroscopy.fluorescence.fit_relaxed_fraction
#: determines it from a measured map), spectrometer 0.3 eV FWHM
DEMO_ELECTRODE = {"formula": "MnO", "density_g_cm3": 0.6 * 5.37, "incidence_deg": 45.0, "exit_deg": 45.0,
                  "relaxed_fraction": 0.5, "resolution_fwhm": 0.3, "final_fwhm": 0.1,
                  "excitation": (634.0, 660.0, 0.2), "emission": (500.0, 662.0, 0.2)}


def demo_config(ion: str, tendq: float, rixs: bool = False) -> dict:
    """The model-file dict the demo uses for ``ion`` (Oh, 300 K, isotropic XAS, powder mRIXS).

    The L2 width is the solid-state value with the L2 → L3 M4,5 Coster–Kronig decay (Mn 0.72 eV,
    Keski-Rahkonen & Krause, At. Data Nucl. Data Tables 14, 139 (1974), via
    :func:`rixsim.cluster.tables.solid_state_l2_fwhm`); with the atomic 0.34 eV the Mn4+ L2 would outgrow L3.
    """
    from rixsim.cluster.tables import solid_state_l2_fwhm
    d = {"title": f"{ion} Oh, 10Dq = {tendq} eV, 300 K",
         "model": {"ion": ion, "symmetry": "Oh", "tendq": tendq, "temperature_k": 300.0,
                   "l2_fwhm": solid_state_l2_fwhm(ion)},
         "xas": {"polarization": "isotropic", "gauss_fwhm": 0.2, "energy_step": 0.05}}
    if rixs:
        d["rixs"] = {"excitation_min": 636.0, "excitation_max": 656.0, "excitation_step": 0.2,
                     "emission_min": 626.0, "emission_max": 658.0, "emission_step": 0.1,
                     "incident": "pi", "two_theta_deg": 90.0, "powder": True,
                     "final_fwhm": 0.1, "resolution_fwhm": 0.2}
    return d


def demo_files(out: Path) -> dict:
    """Paths the demo writes into ``out``."""
    files = {f"xas_{ion}": out / f"xas_{ion}.csv" for ion in DEMO_IONS}
    files.update({"xas_png": out / "xas_Mn.png", "rixs_h5": out / "rixs_Mn2+.h5", "rixs_png": out / "rixs_Mn2+.png",
                  "detected_h5": out / "detected_MnO.h5", "detected_png": out / "detected_MnO.png"})
    return files


def _axis(lo_hi_step) -> np.ndarray:
    lo, hi, step = lo_hi_step
    return np.round(lo + step * np.arange(int(round((hi - lo) / step)) + 1), 9)


def demo_detected(model, rcfg, spec):
    """The demo's detected map: (DetectedMap, channels dict, parameters) of a MnO electrode at the Mn L edge.

    Raman + fluorescence of the Mn2+ cluster (:mod:`rixsim.spectroscopy.fluorescence`) as the Mn emission,
    every other band and self-absorption from :func:`rixsim.detection.detected_map.detected_mrixs_map`; the
    sPFY window is 1 eV at the maximum of the relaxed (constant-emission) Mn emission.
    """
    from rixsim.detection.channels import default_windows
    from rixsim.detection.detected_map import detected_mrixs_map
    from rixsim.detection.sample import Geometry, Layer, ResonantEdge, Sample
    from rixsim.spectroscopy.fluorescence import raman_fluorescence
    p = DEMO_ELECTRODE
    exc, emi = _axis(p["excitation"]), _axis(p["emission"])
    parts = raman_fluorescence(model.transitions(rcfg.temperature_k), exc, emission=emi,
                               final_fwhm=p["final_fwhm"], resolution_fwhm=p["resolution_fwhm"])
    tm_map = parts.combined(p["relaxed_fraction"])
    layer = Layer(p["formula"], p["density_g_cm3"], resonances=(ResonantEdge("Mn", "L2,3", spec),),
                  name=f"{p['formula']} electrode")
    geo = Geometry(p["incidence_deg"], p["exit_deg"])
    from rixsim.results import Spectrum
    relaxed = Spectrum(emi, parts.fluorescence.intensity[-1], label="relaxed Mn emission")
    dmap = detected_mrixs_map(Sample(layer), geo, exc, emi, resonant_element="Mn", resonant_map=tm_map,
                              resolution_fwhm=p["resolution_fwhm"], continuum_profile=relaxed)
    spfy_center = float(emi[np.argmax(parts.fluorescence.intensity[-1])])
    windows = default_windows("Mn", spfy_center=spfy_center)
    params = {"demo_electrode": {k: (list(v) if isinstance(v, tuple) else v) for k, v in p.items()},
              "spfy_center": spfy_center, "model": rcfg.as_parameters()["model"]}
    return dmap, dmap.channels(windows), params


def cmd_demo(args) -> int:
    from rixsim.analysis.reference_library import IONS
    from rixsim.interfaces.config import config_from_dict
    from rixsim.interfaces.plotting import plot_rixs_map, plot_spectra
    from rixsim.io import write_map_hdf5, write_spectrum_csv
    out = _outdir(args.out)
    files = demo_files(out)
    _check_free(list(files.values()), args.overwrite)
    _starting("demo")
    t0 = time.perf_counter()
    spectra = {}
    for ion in DEMO_IONS:
        cfg = config_from_dict(demo_config(ion, IONS[ion].tendq), source="demo")
        model, _, s = compute_xas(cfg)
        spectra[ion] = s
        if ion == "Mn2+":
            cfg_map = config_from_dict(demo_config(ion, IONS[ion].tendq, rixs=True), source="demo")
            _, rcfg, rmap = compute_rixs(cfg_map, model)
            dmap, chans, dparams = demo_detected(model, rcfg, _resonance_spectrum(model, rcfg, s))
    _mkdir(out)
    written = [write_spectrum_csv(files[f"xas_{ion}"], s, overwrite=args.overwrite) for ion, s in spectra.items()]
    written += _save(plot_spectra(spectra, title="Mn L2,3 XAS, Oh, isotropic, 300 K (no chemical shift)"),
                     [files["xas_png"]], args.overwrite)
    written.append(write_map_hdf5(files["rixs_h5"], rmap, rcfg.as_parameters(), overwrite=args.overwrite))
    win = chans["sPFY"].meta["window_ev"]
    written += _save(plot_rixs_map(rmap, windows={"TFY": None, "sPFY": win},
                                   element="Mn", scale="sqrt", show_windows=True,
                                   title="Mn2+ Oh mRIXS (powder, π in, 2θ = 90°, 300 K)"),
                     [files["rixs_png"]], args.overwrite)
    written.append(write_map_hdf5(files["detected_h5"], dmap.detected, dparams, overwrite=args.overwrite))
    side = {k: chans[k] for k in ("TEY", "TFY", "PFY", "iPFY", "sPFY", "ccPFY")}
    e = DEMO_ELECTRODE
    written += _save(plot_rixs_map(dmap.detected, channels=side, scale="sqrt", show_windows=True,
                                   figsize=(9.0, 5.5),
                                   title=f"MnO electrode at the Mn L edge, as detected "
                                         f"(r = {e['relaxed_fraction']:g}, {e['incidence_deg']:g}°/"
                                         f"{e['exit_deg']:g}°)"),
                     [files["detected_png"]], args.overwrite)
    log.info("demo finished in %.1f s", time.perf_counter() - t0)
    _report(written)
    sys.stdout.write(f"demo files are in {out.resolve()}\n")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from rixsim import __version__
    from rixsim.interfaces.config import schema_help
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(prog="rixsim", formatter_class=fmt,
                                description="Cluster-model sXAS and mRIXS of battery materials.",
                                epilog=_EXIT_HELP)
    p.add_argument("--version", action="version", version=f"rixsim {__version__}")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error instead of one line")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-v INFO, -vv DEBUG)")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of an error instead of one line")
    common.add_argument("--overwrite", action="store_true", help="replace existing output files (default: refuse)")
    plots = argparse.ArgumentParser(add_help=False)
    plots.add_argument("--no-plot", action="store_true", help="write no figures (default: PNG)")
    plots.add_argument("--pdf", action="store_true", help="also write PDF figures")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def model_cmd(name, helptext, sections, func):
        sp = sub.add_parser(name, parents=[common, plots], formatter_class=fmt, help=helptext,
                            description=helptext,
                            epilog="model file keys (TOML; energies in eV):\n" + schema_help(sections)
                                   + "\n\n" + _EXIT_HELP)
        sp.add_argument("model", help="TOML model file (examples: rixsim/examples/*.toml)")
        sp.add_argument("-o", "--out", default=".", help="output directory (default: current directory)")
        sp.set_defaults(func=func)
        return sp

    model_cmd("xas", "L2,3-edge XAS of a model file -> <stem>_xas.csv and .png", ("model", "xas"), cmd_xas)
    model_cmd("rixs", "mRIXS map of a model file -> <stem>_rixs.h5 (axes, units, all parameters) and .png",
              ("model", "rixs"), cmd_rixs)
    model_cmd("channels", "detection channels (TEY, TFY, PFY, iPFY, sPFY, ccPFY) of the model's ion in a sample "
              "-> <stem>_<channel>.csv, <stem>_detected.h5, .png", ("model", "xas", "rixs", "sample"), cmd_channels)

    sp = sub.add_parser("demo", parents=[common], formatter_class=fmt, epilog=_EXIT_HELP,
                        help="Mn2+/3+/4+ Oh L-edge XAS, a Mn2+ mRIXS map and a MnO electrode map as detected",
                        description="Compute Mn2+/Mn3+/Mn4+ Oh L2,3 XAS (isotropic, 300 K, 10Dq 0.8/1.8/2.4 eV, "
                                    "0.8 x HF Slater integrals, solid-state L2 width, 0.2 eV Gaussian), a Mn2+ "
                                    "powder mRIXS map (pi in, 2theta = 90 deg, 300 K, final-state 0.1 eV, "
                                    "resolution 0.2 eV FWHM), and the Mn-L map of a MnO electrode as detected "
                                    "(Raman + fluorescence, O K-alpha, core-core line, self-absorption, 45/45 deg) "
                                    "with its TEY/TFY/PFY/iPFY/sPFY/ccPFY windows; write CSV, HDF5 and PNG into "
                                    "--out.")
    sp.add_argument("-o", "--out", default="rixsim-demo", help="output directory (default: rixsim-demo)")
    sp.set_defaults(func=cmd_demo)

    sp = sub.add_parser("fit", parents=[common, plots], formatter_class=fmt, epilog=_EXIT_HELP,
                        help="fit a measured XAS: linear combination of references, or model parameters",
                        description="Linear-combination fit (rixsim.analysis.lcf) of a measured spectrum with reference "
                                    "spectra (files or the shipped library), or with --model a fit of cluster-model "
                                    "parameters (rixsim.analysis.fitting). Writes <name>_fit.csv, _fit.txt and _fit.png.")
    sp.add_argument("data", help="measured spectrum (text/CSV: energy, intensity columns)")
    sp.add_argument("-r", "--references", nargs="+", metavar="FILE", help="reference spectra files")
    sp.add_argument("--library", metavar="ELEMENT", help="use the shipped reference spectra of ELEMENT (e.g. Mn)")
    sp.add_argument("--ions", help="comma-separated library ions to use (default: all of --library's element)")
    sp.add_argument("--model", metavar="TOML", help="fit cluster-model parameters of this model file instead")
    sp.add_argument("--vary", default="tendq,edge_offset,scale",
                    help="model fit: comma-separated parameters to vary (default: tendq,edge_offset,scale)")
    sp.add_argument("--energy-min", type=float, help="fit window start, eV (default: data start)")
    sp.add_argument("--energy-max", type=float, help="fit window end, eV (default: data end)")
    sp.add_argument("--shift", default="per_reference", choices=("common", "per_reference", "none"),
                    help="LCF energy shifts of the references (default: per_reference)")
    sp.add_argument("--background-order", type=int, default=None,
                    help="LCF polynomial background degree (default: none)")
    sp.add_argument("--sigma", default="poisson", choices=("poisson", "none"),
                    help="data uncertainties: poisson (raw counts) or none/unweighted (default: poisson)")
    sp.add_argument("--allow-negative", action="store_true", help="accept negative intensities in the data")
    sp.add_argument("--name", help="output file stem (default: the data file's stem)")
    sp.add_argument("-o", "--out", default=".", help="output directory (default: current directory)")
    sp.set_defaults(func=cmd_fit)

    sp = sub.add_parser("references", parents=[common], formatter_class=fmt, epilog=_EXIT_HELP,
                        help="regenerate the reference XAS library",
                        description="Recompute the reference L2,3 XAS library (see references/spectra/README.md). "
                                    "Default: into a new temporary directory, printed on stdout.")
    sp.add_argument("-o", "--out", help="output directory (default: a new temporary directory)")
    sp.add_argument("--in-place", action="store_true", help="refresh the installed references/spectra files")
    sp.add_argument("--ions", help="comma-separated subset, e.g. Mn2+,Ni2+ (default: all 13)")
    sp.set_defaults(func=cmd_references)

    sp = sub.add_parser("validate", parents=[common], formatter_class=fmt, epilog=_EXIT_HELP,
                        help="run the validation/ scripts and write a report directory",
                        description="Run every validation/*.py script (each gets its own output directory as "
                                    "its argument) and write index.md with results and timings.")
    sp.add_argument("-o", "--out", default="rixsim-validation", help="report directory (default: rixsim-validation)")
    sp.add_argument("--only", help="comma-separated script names to run (default: all)")
    sp.add_argument("--scripts", help="directory of the scripts (default: validation/ of the source checkout)")
    sp.add_argument("--timeout", type=_positive_seconds, default=1800.0,
                    help="seconds per script, > 0 (default: 1800)")
    sp.set_defaults(func=cmd_validate)

    # the map explorer (rixsim.interfaces.viewer): one parser and its command, kept together here
    sp = sub.add_parser("view", parents=[common], formatter_class=fmt, epilog=_EXIT_HELP,
                        help="map explorer in the browser: maps, windows, channels, cuts, model, fit, export",
                        description="Serve an interactive explorer of maps and spectra (any file rixsim reads) on "
                                    "http://127.0.0.1:PORT/rixsim until Ctrl-C. Only 127.0.0.1; only files inside "
                                    "the folders of FILE... (or --root) can be opened. See docs/viewer.md.")
    sp.add_argument("files", nargs="*", metavar="FILE", help="maps or spectra to open (none: give --example)")
    sp.add_argument("--example", action="store_true", help="open the shipped example map (simulated Ni2+ Oh)")
    sp.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    sp.add_argument("--no-browser", action="store_true", help="only print the URL, do not open a browser")
    sp.add_argument("--root", action="append", metavar="DIR",
                    help="allowed folder (repeatable; default: the folders of the files)")
    sp.add_argument("--model", default="", metavar="TOML", help="model file of the model panel")
    sp.add_argument("--ion", default="Ni2+", help="ion of the model panel without --model (default Ni2+)")
    sp.add_argument("--element", default="", help="element whose tabulated lines place the first windows")
    sp.add_argument("--matrix", default="", metavar="AXES",
                    help="axes of FILEs that are bare text matrices, rows first, eV: e.g. "
                         "'loss=0.5:2:151,excitation=0:12:40'")
    sp.add_argument("-o", "--out", default=".", help="export folder (default: current directory)")
    sp.set_defaults(func=cmd_view)
    return p


def cmd_view(args) -> int:
    """``rixsim view``: serve the explorer until interrupted (:mod:`rixsim.interfaces.viewer.server`)."""
    from rixsim.interfaces.viewer.example import EXAMPLE_MAP, EXAMPLE_MODEL
    from rixsim.interfaces.viewer.server import ViewerServer
    files = list(args.files) + ([str(EXAMPLE_MAP)] if args.example else [])
    if not files:
        raise InputError("give one or more files to view, or --example")
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port must be 0 (a free port) or 1-65535; got {args.port}")
    model = args.model or (str(EXAMPLE_MODEL) if args.example else "")
    roots = args.root or None
    if roots is not None and args.example:
        roots = [*roots, str(EXAMPLE_MAP.parent)]
    srv = ViewerServer(files, roots=roots, port=args.port, out_dir=_outdir(args.out), model_file=model,
                       ion=args.ion, element=args.element, matrix=args.matrix)
    srv.on_ready = lambda url: (sys.stdout.write(f"rixsim view: {url}  (Ctrl-C stops)\n"), sys.stdout.flush())
    srv.serve_forever(open_browser=not args.no_browser)
    return EXIT_OK


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    root = logging.getLogger("rixsim")
    root.setLevel(level)
    # periodic progress lines of long work (rixsim.progress) are shown even at the default verbosity
    logging.getLogger("rixsim.progress").setLevel(min(level, logging.INFO))
    if not any(getattr(h, "_rixsim_cli", False) for h in root.handlers):
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        h._rixsim_cli = True
        root.addHandler(h)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line on stderr (``rixsim: warning: …``), without the source line."""
    kind = "" if category.__name__ in ("UserWarning", "SuspiciousInputWarning") else f" ({category.__name__})"
    sys.stderr.write(f"rixsim: warning{kind}: {_one_line(message)}\n")


def _exit_code(exc: BaseException) -> tuple[int, str]:
    """(exit code, one-line message) of an exception, by kind of failure (see ``_EXIT_HELP``)."""
    if isinstance(exc, FileExistsRefusal):
        return EXIT_EXISTS, f"error: {_one_line(exc)}"
    if isinstance(exc, (MemoryBudgetError, MemoryError)):
        text = _one_line(exc) or "out of memory"
        return EXIT_MEMORY, f"error: {text if isinstance(exc, MemoryBudgetError) else 'out of memory: ' + text}"
    if isinstance(exc, ConvergenceError):
        return EXIT_CONVERGENCE, f"error: {_one_line(exc)}"
    if isinstance(exc, (InputError, RixsimError)):
        return EXIT_INPUT, f"error: {_one_line(exc)}"
    if isinstance(exc, OSError):
        where = f"'{exc.filename}'" if getattr(exc, "filename", None) else ""
        reason = exc.strerror or _one_line(exc) or type(exc).__name__
        return EXIT_FILE, f"error: {where + ': ' if where else ''}{reason}"
    return EXIT_FAIL, (f"internal error: {type(exc).__name__}: {_one_line(exc)} (run with --debug for the "
                       f"traceback, and please report it)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code (the ``rixsim`` script passes it to ``sys.exit``).

    Every failure is one line on stderr and an exit code by kind (``_EXIT_HELP``); ``--debug`` re-raises
    instead, so the traceback is shown.
    """
    import warnings
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(getattr(args, "verbose", 0))
    debug = bool(getattr(args, "debug", False))
    with warnings.catch_warnings():
        if not debug:
            warnings.showwarning = _show_warning
        try:
            return int(args.func(args))
        except KeyboardInterrupt:
            if debug:
                raise
            sys.stderr.write("rixsim: interrupted\n")
            return EXIT_INTERRUPTED
        except Exception as exc:       # noqa: BLE001 - every failure becomes one line and an exit code
            if debug:
                raise
            code, text = _exit_code(exc)
            log.debug("%s", text, exc_info=True)
            sys.stderr.write(f"rixsim: {text}\n")
            return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

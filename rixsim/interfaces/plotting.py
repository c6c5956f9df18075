"""Figures: mRIXS maps with their fluorescence-yield channels, XAS overlays, fits with residuals.

The only module of rixsim that uses matplotlib, and only inside its functions (``import rixsim`` stays
free of it).  Figures are built with the object-oriented :class:`matplotlib.figure.Figure`, never
``pyplot``: no GUI backend is touched, so they work on a headless machine (the Agg canvas renders PNG,
the PDF canvas PDF) and no global figure state accumulates.  Every function takes rixsim result objects
and returns the Figure; :func:`save_figure` writes it atomically.

mRIXS map style (seed review, Fig. 2a): incident (excitation) photon energy on the vertical axis, emitted
photon energy on the horizontal axis, intensity as colour with light colours for high intensity; beside it,
sharing the excitation axis, the fluorescence-yield spectra obtained by integrating the map horizontally
over emission windows (Fig. 2b): TFY (all emission), PFY (the TM L emission window), sPFY (a 1 eV slice),
and iPFY (inverse of a non-resonant window, e.g. O Kα 520–530 eV, when the map reaches it).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np

from rixsim.errors import InputError
from rixsim.results import RixsMap, Spectrum

__all__ = ["plot_rixs_map", "plot_spectra", "plot_stacked", "plot_fit", "map_channels", "save_figure"]

log = logging.getLogger(__name__)

#: light = high intensity, as in the seed review's maps; perceptually uniform
DEFAULT_CMAP = "inferno"


def _figure(figsize):
    from matplotlib.figure import Figure
    return Figure(figsize=figsize, layout="constrained")


# ------------------------------------------------------------------------------------------ channels
def _emission_range(rmap: RixsMap) -> tuple[float, float]:
    if rmap.on_loss_axis:
        return float(rmap.excitation.min() - rmap.loss.max()), float(rmap.excitation.max() - rmap.loss.min())
    return float(rmap.emission[0]), float(rmap.emission[-1])


def _window_sum(rmap: RixsMap, lo: float, hi: float) -> np.ndarray:
    """Fallback when rixsim.detection.channels is unavailable: trapezoid of each row over the emission window."""
    out = np.empty(rmap.excitation.size)
    for i, e in enumerate(rmap.excitation):
        emi = e - rmap.loss[::-1] if rmap.on_loss_axis else rmap.emission
        row = rmap.intensity[i, ::-1] if rmap.on_loss_axis else rmap.intensity[i]
        sel = (emi >= lo) & (emi <= hi)
        out[i] = np.trapezoid(row[sel], emi[sel]) if sel.sum() > 1 else 0.0
    return out


def map_channels(rmap: RixsMap, windows: Optional[Mapping[str, tuple]] = None,
                 element: Optional[str] = None) -> dict[str, Spectrum]:
    """Fluorescence-yield spectra integrated from a map over emission windows (eV, absolute).

    Parameters
    ----------
    rmap : RixsMap
    windows : dict name → (low, high), optional
        ``"TFY"`` may be None (the whole map).  A name starting with ``"iPFY"`` is inverted.  Default: TFY;
        PFY over the TM L emission window of ``element`` (:func:`rixsim.detection.channels.default_windows`) clipped to
        the map, else the whole map; sPFY over 1 eV around the emission energy of the map's maximum; iPFY
        over O Kα 520–530 eV when the map covers it.
    element : str, optional
        Element whose default windows are used (default: from the map's meta, e.g. ``"Mn"``).

    Returns
    -------
    dict name → Spectrum on the map's excitation axis.  Windows outside the map are skipped (logged).
    """
    if not isinstance(rmap, RixsMap):
        raise InputError(f"expected a RixsMap; got {type(rmap).__name__}")
    lo_map, hi_map = _emission_range(rmap)
    if windows is None:
        windows = _default_map_windows(rmap, element, lo_map, hi_map)
    try:
        from rixsim.detection import channels as ch
    except ImportError:  # pragma: no cover - channels is part of the package
        ch = None
    out = {}
    for name, w in windows.items():
        if w is None:
            if ch is not None:         # everything, to the outer bin edges (rixsim.detection.channels.tfy_from_map)
                t = ch.tfy_from_map(rmap)
                out[name] = Spectrum(rmap.excitation, t.intensity, label=name, meta=dict(t.meta))
                continue
            w = (lo_map, hi_map)
        lo, hi = float(w[0]), float(w[1])
        if lo < lo_map - 1e-9 or hi > hi_map + 1e-9 or hi <= lo:
            log.info("channel %s: window %g–%g eV outside the map's emission range %g–%g eV; skipped",
                     name, lo, hi, lo_map, hi_map)
            continue
        if ch is not None:
            y = ch.window_yield(rmap, (lo, hi)).intensity
        else:
            y = _window_sum(rmap, lo, hi)
        if name.lower().startswith("ipfy"):
            if np.any(y <= 0):
                log.info("channel %s: no intensity in %g–%g eV at some energies; skipped", name, lo, hi)
                continue
            y = 1.0 / y
        out[name] = Spectrum(rmap.excitation, y, label=name, meta={"window_ev": (lo, hi)})
    return out


def _default_map_windows(rmap, element, lo_map, hi_map) -> dict:
    element = element or _element_of(rmap)
    wins: dict[str, Optional[tuple]] = {"TFY": None}
    pfy = (lo_map, hi_map)
    ipfy = (520.0, 530.0)
    if element:
        try:
            from rixsim.detection.channels import default_windows
            dw = default_windows(element)
            pfy = (max(dw.pfy[0], lo_map), min(dw.pfy[1], hi_map))
            ipfy = dw.ipfy
        except Exception as exc:  # noqa: BLE001 - defaults are a convenience; fall back to the whole map
            log.debug("no default windows for %s: %s", element, exc)
    if pfy[1] > pfy[0] and not np.allclose(pfy, (lo_map, hi_map)):   # else PFY would repeat TFY
        wins["PFY"] = pfy
    z = rmap.intensity - (rmap.elastic if rmap.elastic is not None else 0.0)
    i, j = np.unravel_index(int(np.argmax(z)), z.shape)
    peak = rmap.excitation[i] - rmap.loss[j] if rmap.on_loss_axis else rmap.emission[j]
    spfy = (max(peak - 0.5, lo_map), min(peak + 0.5, hi_map))
    if spfy[1] > spfy[0]:
        wins["sPFY"] = spfy
    if ipfy[0] >= lo_map and ipfy[1] <= hi_map:
        wins["iPFY"] = ipfy
    return wins


def _element_of(rmap: RixsMap) -> Optional[str]:
    import re
    for source in (rmap.meta.get("transitions_meta", {}), rmap.meta):
        name = source.get("model") if isinstance(source, Mapping) else None
        if isinstance(name, str):
            m = re.match(r"^\s*([A-Z][a-z]?)", name)
            if m:
                return m.group(1)
    return None


# ------------------------------------------------------------------------------------------ figures
def plot_rixs_map(rmap: RixsMap, channels: Optional[Mapping[str, Spectrum] | Sequence[str] | bool] = True, *,
                  windows: Optional[Mapping[str, tuple]] = None, element: Optional[str] = None,
                  cmap: str = DEFAULT_CMAP, scale: str = "linear", title: Optional[str] = None,
                  figsize=(8.0, 5.0), show_windows: bool = False, xlim: Optional[tuple] = None):
    """mRIXS map in the seed review's style, with fluorescence-yield side panel.

    Parameters
    ----------
    rmap : RixsMap
        On an emission or a loss axis (a loss map is drawn on emission energy, ``excitation − loss``).
    channels : True, False, sequence of names or dict name → Spectrum
        True: :func:`map_channels` with ``windows``; a sequence keeps those names; a dict is plotted as
        given (spectra on excitation energy, e.g. predicted channels); False: no side panel.
    windows, element
        Passed to :func:`map_channels`.
    cmap : str
        Colour map (default ``"inferno"``: light = high).
    scale : {"linear", "sqrt", "log"}
        Colour scale: linear, square root (weak d-d and charge-transfer features next to a strong elastic
        line become visible), or logarithmic (four decades).
    title : str, optional
        Default: the map's label.
    show_windows : bool
        Draw each side-panel channel's emission window (``Spectrum.meta["window_ev"]``; TFY, the whole map,
        is not drawn) on the map as a pair of vertical lines in the channel's colour, named at the top.
    xlim : (float, float), optional
        Emission range shown (eV); default the whole map.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(rmap, RixsMap):
        raise InputError(f"plot_rixs_map needs a RixsMap; got {type(rmap).__name__}")
    if channels is True or isinstance(channels, (list, tuple)):
        spectra = map_channels(rmap, windows, element)
        if isinstance(channels, (list, tuple)):
            spectra = {k: v for k, v in spectra.items() if k in channels}
    elif isinstance(channels, Mapping):
        spectra = dict(channels)
    else:
        spectra = {}
    fig = _figure(figsize)
    if spectra:
        ax, side = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3, 1]})
    else:
        ax, side = fig.subplots(1, 1), None
    exc = rmap.excitation
    z = np.asarray(rmap.intensity)
    norm = None
    if scale not in ("linear", "sqrt", "log"):
        raise InputError(f"scale must be 'linear', 'sqrt' or 'log'; got {scale!r}")
    if scale == "log":
        from matplotlib.colors import LogNorm
        pos = z[z > 0]
        vmax = float(pos.max()) if pos.size else 1.0
        vmin = max(vmax * 1e-4, float(pos.min())) if pos.size else 1e-4
        norm = LogNorm(vmin=vmin, vmax=vmax)
        z = np.clip(z, vmin, None)          # zeros and tiny values drawn in the lowest colour
    elif scale == "sqrt":
        from matplotlib.colors import PowerNorm
        norm = PowerNorm(0.5, vmin=0.0, vmax=max(float(np.nanmax(z)), 1e-300))
    if rmap.on_loss_axis:
        x = exc[:, None] - rmap.loss[None, :]
        y = np.broadcast_to(exc[:, None], x.shape)
        mesh = ax.pcolormesh(x, y, z, shading="nearest", cmap=cmap, norm=norm, rasterized=True)
    else:
        mesh = ax.pcolormesh(rmap.emission, exc, z, shading="nearest", cmap=cmap, norm=norm, rasterized=True)
    ax.set_xlabel("Emission energy (eV)")
    ax.set_ylabel("Excitation energy (eV)")
    ax.set_title(title if title is not None else (rmap.label or "mRIXS"), fontsize="medium")
    cb = fig.colorbar(mesh, ax=side if side is not None else ax, location="right", shrink=0.9)
    cb.set_label(f"Intensity ({rmap.units})" + {"linear": "", "sqrt": ", √ scale", "log": ", log scale"}[scale])
    if xlim is not None:
        ax.set_xlim(float(xlim[0]), float(xlim[1]))
    if side is not None:
        for k, (name, s) in enumerate(spectra.items()):
            y = np.asarray(s.intensity, float)
            span = np.ptp(y)
            yn = (y - y.min()) / span if span > 0 else np.zeros_like(y)
            line, = side.plot(yn, s.energy, label=name, lw=1.2)
            window = dict(s.meta).get("window_ev") if show_windows else None
            if window is not None and name != "TFY":
                _draw_window(ax, window, line.get_color(), name, k)
        side.set_xlabel("Yield (norm.)")
        side.legend(fontsize="small", loc="best")
        side.tick_params(labelleft=False)
        side.set_ylim(exc[0], exc[-1])
    return fig


def _draw_window(ax, window, color, name, k) -> None:
    """Two vertical lines at an emission window's edges with the channel's name at the top of the map."""
    lo, hi = float(window[0]), float(window[1])
    for x in (lo, hi):
        ax.axvline(x, color=color, lw=1.0, ls="--", alpha=0.9)
    ax.annotate(name, xy=(0.5 * (lo + hi), 1.0), xycoords=("data", "axes fraction"), xytext=(0, -3 - 9 * (k % 2)),
                textcoords="offset points", ha="center", va="top", color=color, fontsize="x-small",
                annotation_clip=True)


def plot_stacked(spectra: Mapping[str, Spectrum], reference: Optional[Spectrum] = None, *, offset: float = 1.2,
                 title: str = "", reference_label: str = "true μ", xlabel: str = "Excitation energy (eV)",
                 figsize=(5.0, 6.5)):
    """Spectra stacked with a vertical ``offset`` (as given: normalise them before), each drawn over the
    ``reference`` (dashed, shifted by the same offset), the way channels are compared with the bulk
    absorption in the seed review's Fig. 2b.

    Returns
    -------
    matplotlib.figure.Figure
    """
    items = list(spectra.items())
    if not items:
        raise InputError("plot_stacked needs at least one Spectrum")
    fig = _figure(figsize)
    ax = fig.subplots()
    for k, (name, s) in enumerate(items):
        if not isinstance(s, Spectrum):
            raise InputError(f"plot_stacked: item {name!r} is a {type(s).__name__}, not a Spectrum")
        base = k * offset
        if reference is not None:
            ax.plot(reference.energy, reference.intensity + base, color="0.55", lw=1.0, ls="--",
                    label=reference_label if k == 0 else None)
        ax.plot(s.energy, s.intensity + base, lw=1.4, label=name)
        ax.annotate(name, xy=(s.energy[0], base + 0.15), fontsize="small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Normalised yield (offset)")
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="x-small", loc="upper right")
    return fig


def plot_spectra(spectra: Sequence[Spectrum] | Mapping[str, Spectrum], *, normalize: Optional[str] = None,
                 offset: float = 0.0, title: str = "", xlabel: Optional[str] = None, figsize=(6.0, 4.0)):
    """Overlay spectra (e.g. XAS of several ions).

    Parameters
    ----------
    spectra : sequence of Spectrum or dict label → Spectrum
    normalize : None, "max" or "area"
        Scale each spectrum to unit maximum or unit area before plotting.
    offset : float
        Vertical offset added between consecutive spectra (after normalisation).

    Returns
    -------
    matplotlib.figure.Figure
    """
    items = list(spectra.items()) if isinstance(spectra, Mapping) else [(s.label, s) for s in spectra]
    if not items:
        raise InputError("plot_spectra needs at least one Spectrum")
    if normalize not in (None, "max", "area"):
        raise InputError(f"normalize must be None, 'max' or 'area'; got {normalize!r}")
    fig = _figure(figsize)
    ax = fig.subplots()
    for k, (label, s) in enumerate(items):
        if not isinstance(s, Spectrum):
            raise InputError(f"plot_spectra: item {label!r} is a {type(s).__name__}, not a Spectrum")
        y = np.asarray(s.intensity, float)
        if normalize == "max" and y.max() > 0:
            y = y / y.max()
        elif normalize == "area" and s.integral() != 0:
            y = y / s.integral()
        ax.plot(s.energy, y + k * offset, label=label or f"spectrum {k}", lw=1.2)
    ax.set_xlabel(xlabel or ("Energy loss (eV)" if items[0][1].relative else "Photon energy (eV)"))
    ax.set_ylabel("Intensity" + (" (norm.)" if normalize else f" ({items[0][1].units})"))
    if title:
        ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="small")
    return fig


def plot_fit(result, *, title: str = "", figsize=(6.0, 5.0)):
    """Data, fit and components with the residual below.

    ``result`` is a :class:`rixsim.analysis.lcf.LCFResult`, or any object with ``data``, ``fit`` (Spectrum) and
    optionally ``residual`` and ``components`` (dict name → Spectrum).
    """
    data, fit = getattr(result, "data", None), getattr(result, "fit", None)
    if not isinstance(data, Spectrum) or not isinstance(fit, Spectrum):
        raise InputError(f"plot_fit needs a result with .data and .fit spectra; got {type(result).__name__}")
    resid = getattr(result, "residual", None)
    r = resid.intensity if isinstance(resid, Spectrum) else data.intensity - np.interp(data.energy, fit.energy,
                                                                                       fit.intensity)
    fig = _figure(figsize)
    ax, axr = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot(data.energy, data.intensity, ".", ms=3, color="k", label="data")
    ax.plot(fit.energy, fit.intensity, "-", color="C3", lw=1.5, label="fit")
    for name, comp in dict(getattr(result, "components", {}) or {}).items():
        frac = getattr(result, "fractions", {}).get(name) if hasattr(result, "fractions") else None
        lab = name if frac is None else f"{name} ({frac:.3f})"
        ax.plot(comp.energy, comp.intensity, "--", lw=1.0, label=lab)
    ax.set_ylabel(f"Intensity ({data.units})")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title, fontsize="medium")
    axr.axhline(0.0, color="0.5", lw=0.8)
    axr.plot(data.energy, r, "-", color="k", lw=0.8)
    axr.set_xlabel("Photon energy (eV)")
    axr.set_ylabel("Residual")
    return fig


# ------------------------------------------------------------------------------------------ saving
def save_figure(fig, path, *, overwrite: bool = False, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix: .png, .pdf, .svg) atomically.

    The figure is rendered to a temporary file in the destination directory and moved into place with
    :func:`os.replace` (overwrite) or :func:`os.link` (refusing to clobber a file that appeared meanwhile),
    so a failure leaves neither a partial file nor a temporary one.

    Raises
    ------
    FileExistsRefusal
        ``path`` exists and ``overwrite`` is False.
    InputError
        Unknown format or missing directory.
    """
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("png", "pdf", "svg"):
        raise InputError(f"figure format {target.suffix!r} not supported; use .png, .pdf or .svg")
    from rixsim.io.atomic import atomic_write
    return atomic_write(target, overwrite, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi))


"""The sample a soft X-ray beam meets: composition, layers, geometry, and its X-ray attenuation.

Glossary (used by every name in this module and in :mod:`rixsim.detection.channels`)
------------------------------------------------------------------------------------
layer
    A homogeneous slab: a chemical formula, a density (g/cm³) and a thickness (nm, ``inf`` for the bulk of a
    thick electrode).  Layers are stacked from the surface down; only the last (the bulk) may be infinite.
resonance
    An absorption edge (``"L2,3"``, ``"L3"``, ``"L2"`` or ``"K"``) of one element of a layer whose near-edge
    absorption is taken from a simulated or measured spectrum instead of the atomic tables (see
    :class:`ResonantEdge`).  The resonant element is usually the 3d transition metal (TM) being scanned.
μ (mu)
    A *linear* attenuation coefficient in 1/nm when the name ends in ``_per_nm``, a *mass* attenuation
    coefficient in cm²/g when it ends in ``_cm2_g``.  ``kind="total"`` is photoabsorption + coherent +
    incoherent scattering (what attenuates a beam); ``kind="photo"`` is photoabsorption only (what creates
    core holes, hence fluorescence and electrons).
geometry
    Incidence angle α and exit angle β are measured from the sample *surface* (90° = normal), in (0, 90].
    A photon reaching depth z (normal to the surface) has travelled z / sin α; a photon emitted at depth z
    towards the detector travels z / sin β.

Attenuation data
----------------
Non-resonant mass attenuation coefficients are those of Elam, Ravel & Sieber, *Radiat. Phys. Chem.* **63**,
121 (2002), through ``xraydb.mu_elam``.  Edge energies, jump ratios, fluorescence yields and emission lines are
from the same compilation (``xraydb.xray_edge`` / ``xraydb.xray_lines``).

Atomic tables are step functions at the edges: they hold no white lines, no crystal-field or multiplet
structure, and no hybridisation.  Two consequences the model handles explicitly:

* **The scanned TM L2,3 edge.**  Within the energy range of the supplied spectrum the TM's mass absorption is
  replaced by

  .. math:: \\mu_\\mathrm{TM}(E) = \\mu_\\mathrm{pre}(E) + J(E)\\, n(E),

  where :math:`\\mu_\\mathrm{pre}` is a power law fitted to the tabulated values below the edge and extrapolated
  across it, :math:`J(E) = \\mu_\\mathrm{post}(E) - \\mu_\\mathrm{pre}(E)` is the tabulated edge jump (a power law
  fitted above the last sub-edge, extrapolated down), and :math:`n(E)` is the supplied spectrum normalised to
  0 below and 1 far above the edge (see :meth:`ResonantEdge.normalised`).  Far from the edge the result
  therefore equals the tabulated value: below the spectrum's range the tables are used as they are, above
  it the post-edge power law (n = 1) up to the end of its fit window (≈ 80 eV above the last sub-edge), then
  the tables again (continuous to ~1 %).
* **O K near edge in oxides.**  Between about 525 and 560 eV the O 1s absorption of a TM oxide is dominated by
  the O 2p–TM 3d hybridisation pre-edge (~528–533 eV) and O 2p–TM 4sp bands, none of which is in an atomic
  table (whose O K edge is a bare step at 543.1 eV).  This matters when the incident energy is at the O K edge
  and also for *emission* lines that fall there (the TM 3s→2p core–core line of Mn at ≈556 eV, O Kα's own
  high-energy tail).  Give the layer a ``ResonantEdge("O", "K", spectrum)`` holding the model's O-K XAS —
  ``rixsim.oxygen.kedge.oxygen_k_xas(OxygenKEdge(cluster_model(...)), energies)``, the cluster's hybridisation
  pre-edge plus its documented main-edge step — or a measured O-K spectrum; it is then normalised to the
  tabulated O K jump exactly as the TM edge is (a spectrum with its own step is normalised as data are).
  Without it, O is absorbed as in the atomic table: exact far from 525–560 eV, wrong inside.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping

import numpy as np
import xraydb
from scipy.special import erf

from rixsim import validate
from rixsim.errors import InputError, UnknownIonError
from rixsim.results import Spectrum

__all__ = [
    "parse_formula", "ResonantEdge", "Layer", "Sample", "Geometry",
    "element_mu_cm2_g", "layer_mu_per_nm", "element_mu_per_nm", "shell_photo_fraction",
    "edge_background_cm2_g", "known_elements",
]

# cm⁻¹ → nm⁻¹
_PER_CM_TO_PER_NM = 1e-7
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))

# Shell names of xraydb in the order core → valence; edges of the same element may sit above each other.
_SHELLS = ("K", "L1", "L2", "L3", "M1", "M2", "M3", "M4", "M5", "N1")

# The L3 white-line maximum of a step-free simulated spectrum relative to the L2,3 edge jump, when the
# spectrum has no edge step of its own.  Source: Fe metal, L3-peak X-ray attenuation length ≈17 nm (Nakajima,
# Stöhr & Idzerda, PRB 59, 6421 (1999); value as recalled, not re-checked here) ⇒ μ/ρ ≈ 7.5e4 cm²/g against
# an Elam pre-edge of 2.1e3 and an L2,3 jump of ≈9e3 cm²/g: (7.5e4 − 2.1e3)/9e3 ≈ 8.  Approximate: it sets
# how strongly every fluorescence channel saturates, so set it from your own normalised data when you can.
DEFAULT_WHITE_LINE_PEAK_OVER_JUMP = 8.0


@lru_cache(maxsize=1)
def known_elements() -> frozenset:
    """Element symbols with tabulated attenuation (H … Cf, Z = 1 … 98, Elam et al. 2002)."""
    return frozenset(xraydb.atomic_symbol(z) for z in range(1, 99))


def _check_element(el: str, where: str = "") -> str:
    if el not in known_elements():
        raise UnknownIonError(f"unknown element {el!r}{where}; allowed are element symbols H … Cf "
                              f"(capital first letter, e.g. 'Mn', 'O')")
    return el


# --------------------------------------------------------------------------------------------------------
# formula parsing
# --------------------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<el>[A-Z][a-z]?)|(?P<open>[(\[])|(?P<close>[)\]])"
                    r"|(?P<num>\d+(?:\.\d*)?(?:/\d+(?:\.\d*)?)?|\.\d+))")


def _number(text: str, formula: str) -> float:
    if "/" in text:
        num, den = text.split("/")
        if float(den) == 0:
            raise InputError(f"formula {formula!r}: division by zero in count {text!r}")
        return float(num) / float(den)
    return float(text)


def parse_formula(formula: str) -> dict[str, float]:
    """Parse a chemical formula into ``{element: atoms per formula unit}``.

    Counts may be integers, decimals or fractions (``"LiNi1/3Mn1/3Co1/3O2"``), and groups may be bracketed
    (``"Li(Ni0.8Co0.1Mn0.1)O2"``).  A repeated element is summed.  Element order is preserved.

    Raises
    ------
    InputError
        Empty formula, unknown element (an :class:`~rixsim.errors.UnknownIonError`), unbalanced brackets,
        a character that is not part of a formula, or a total count of zero.
    """
    if not isinstance(formula, str) or not formula.strip():
        raise InputError(f"formula must be a non-empty string like 'LiFePO4'; got {formula!r}")
    stack: list[dict[str, float]] = [{}]
    pos, last = 0, None  # last: the element or closed group a following number multiplies
    text = formula.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise InputError(f"formula {formula!r}: cannot read {text[pos:]!r} at position {pos}")
        pos = m.end()
        if m.group("el"):
            el = _check_element(m.group("el"), f" in formula {formula!r}")
            stack[-1][el] = stack[-1].get(el, 0.0) + 1.0
            last = ("el", el)
        elif m.group("open"):
            stack.append({})
            last = None
        elif m.group("close"):
            if len(stack) == 1:
                raise InputError(f"formula {formula!r}: unbalanced closing bracket")
            group = stack.pop()
            last = ("group", group)
            for el, n in group.items():
                stack[-1][el] = stack[-1].get(el, 0.0) + n
        else:
            count = _number(m.group("num"), formula)
            if last is None:
                raise InputError(f"formula {formula!r}: number {m.group('num')!r} follows no element")
            if last[0] == "el":
                stack[-1][last[1]] += count - 1.0
            else:
                for el, n in last[1].items():
                    stack[-1][el] += n * (count - 1.0)
            last = None
    if len(stack) != 1:
        raise InputError(f"formula {formula!r}: unbalanced opening bracket")
    comp = dict(stack[0])
    if any(n < 0 for n in comp.values()) or sum(comp.values()) <= 0:
        raise InputError(f"formula {formula!r} has no atoms")
    # counts are accumulated as 1 + (n − 1); round away the float residue of that bookkeeping
    return {el: round(n, 12) for el, n in comp.items() if round(n, 12) > 0}


# --------------------------------------------------------------------------------------------------------
# resonant edges
# --------------------------------------------------------------------------------------------------------
_EDGE_SHELLS = {"L2,3": ("L3", "L2"), "L23": ("L3", "L2"), "L3": ("L3",), "L2": ("L2",), "K": ("K",)}


@dataclass(frozen=True)
class ResonantEdge:
    """Near-edge absorption of one element's edge, taken from a spectrum instead of the atomic tables.

    Parameters
    ----------
    element : str
        Element symbol, e.g. ``"Mn"``.
    edge : str
        ``"L2,3"`` (both spin–orbit edges, the usual TM case), ``"L3"``, ``"L2"`` or ``"K"`` (e.g. O K).
    spectrum : Spectrum
        Absorption on absolute photon energies (eV), e.g. ``rixsim.xas(model, energies)`` shifted to the
        experimental edge, or a measured XAS.  It should start a few eV below the edge and end well above
        it: the first and last ``norm_window_ev`` are used as pre- and post-edge.
    white_line_peak_over_jump : float
        Only used when the spectrum has no edge step of its own (a multiplet calculation returns to zero
        above the edge): the height of its maximum after normalisation to an edge jump of 1.  Default
        :data:`DEFAULT_WHITE_LINE_PEAK_OVER_JUMP` (see its source note).
    norm_window_ev : float
        Width of the pre- and post-edge windows at the ends of the spectrum (eV).
    step_fwhm : float
        Full width (eV) of the error-function edge steps added to a step-free spectrum.

    Notes
    -----
    For ``"L2,3"`` the L3 maximum is the largest value within 0.6 × the tabulated spin–orbit splitting of the
    onset (first point 15 % of the way up), the L3/L2 split is the minimum between 0.3 and 1.1 splittings
    above it, and the L2 maximum the largest value above the split.  Steps sit at the two maxima.
    """

    element: str
    edge: str
    spectrum: Spectrum
    white_line_peak_over_jump: float = DEFAULT_WHITE_LINE_PEAK_OVER_JUMP
    norm_window_ev: float = 3.0
    step_fwhm: float = 1.0

    def __post_init__(self):
        _check_element(self.element)
        if self.edge not in _EDGE_SHELLS:
            raise InputError(f"edge {self.edge!r} is not supported; allowed are {sorted(_EDGE_SHELLS)}")
        if not isinstance(self.spectrum, Spectrum):
            raise InputError(f"spectrum must be a rixsim.results.Spectrum; got {type(self.spectrum).__name__}")
        if self.spectrum.relative:
            raise InputError("the resonant spectrum must be on absolute photon energies (Spectrum.relative "
                             "is True); shift it to the experimental edge first")
        validate.energy_axis(self.spectrum.energy, "resonant spectrum energy", min_points=8)
        validate.intensities(self.spectrum.intensity, "resonant spectrum intensity", allow_negative=True)
        validate.width(self.white_line_peak_over_jump, "white_line_peak_over_jump", allow_zero=False)
        validate.width(self.norm_window_ev, "norm_window_ev", allow_zero=False)
        validate.width(self.step_fwhm, "step_fwhm", allow_zero=False)
        span = self.spectrum.energy[-1] - self.spectrum.energy[0]
        if span < 4 * self.norm_window_ev:
            raise InputError(f"resonant spectrum spans {span:.3g} eV; it needs at least 4 × norm_window_ev = "
                             f"{4 * self.norm_window_ev:.3g} eV to find pre- and post-edge levels")
        self._parts()  # fail now, not at first use, on a spectrum without an edge

    @property
    def shells(self) -> tuple[str, ...]:
        return _EDGE_SHELLS[self.edge]

    @property
    def energy_range(self) -> tuple[float, float]:
        return float(self.spectrum.energy[0]), float(self.spectrum.energy[-1])

    # the pieces of n(E), computed once
    def _parts(self):
        cached = self.__dict__.get("_parts_cache")
        if cached is not None:
            return cached
        e, x = self.spectrum.energy, self.spectrum.intensity
        w = self.norm_window_ev
        pre = float(x[e <= e[0] + w].mean())
        post = float(x[e >= e[-1] - w].mean())
        peak = float(x.max() - pre)
        if peak <= 0:
            raise InputError(f"resonant spectrum of {self.element} {self.edge} has no peak above its pre-edge")
        has_step = (post - pre) > 0.05 * peak
        e3 = float(e[int(np.argmax(x))])
        split, e2 = None, None
        if len(self.shells) == 2:
            so = (xraydb.xray_edge(self.element, "L2").energy - xraydb.xray_edge(self.element, "L3").energy)
            # the L3 maximum is the largest value within 0.6 × spin–orbit of the onset (the L2 maximum can
            # be the higher one, e.g. in sharp high-valence multiplets)
            onset = float(e[np.argmax(x - pre > 0.15 * peak)])
            l3 = e <= onset + 0.6 * so
            e3 = float(e[l3][np.argmax(x[l3])])
            lo, hi = e3 + 0.3 * so, e3 + 1.1 * so
            sel = (e >= lo) & (e <= hi)
            if sel.sum() >= 2:
                split = float(e[sel][np.argmin(x[sel])])
            else:
                split = e3 + 0.5 * so
            above = e > split
            e2 = float(e[above][np.argmax(x[above])]) if above.any() else e3 + so
        parts = dict(pre=pre, post=post, peak=peak, has_step=has_step, e3=e3, e2=e2, split=split)
        object.__setattr__(self, "_parts_cache", parts)
        return parts

    def _step(self, energies, centre):
        # integrated Gaussian of FWHM step_fwhm: unlike an arctangent it reaches 1 within a few widths
        return 0.5 * (1.0 + erf((energies - centre) / (self.step_fwhm / _FWHM_PER_SIGMA) / math.sqrt(2.0)))

    def normalised_by_shell(self, energies, part: str = "all") -> dict[str, np.ndarray]:
        """:math:`n(E)` split into the shells whose core holes it creates (``{"L3": ..., "L2": ...}``).

        White lines below the L3/L2 split energy (the minimum between the two groups) are L3 holes, above
        it L2 holes, handed over smoothly across ``step_fwhm``; an edge step is shared 2:1 (L3:L2,
        statistical).  ``part="white"`` or ``"step"`` returns only the white lines (bound 2p→3d
        excitations, whose decay is resonant emission) or only the added edge step (2p → continuum, whose
        decay is normal fluorescence); a spectrum with its own step cannot be split and counts as all white.
        Zero outside the spectrum's range.
        """
        if part not in ("all", "white", "step"):
            raise InputError(f"part must be 'all', 'white' or 'step'; got {part!r}")
        p = self._parts()
        E = np.asarray(energies, dtype=float)
        e, x = self.spectrum.energy, self.spectrum.intensity
        inside = (E >= e[0]) & (E <= e[-1])
        xi = np.interp(E, e, x)
        if p["has_step"]:
            n = (xi - p["pre"]) / (p["post"] - p["pre"])
            if part == "step":
                n = np.zeros_like(n)
            if len(self.shells) == 1:
                out = {self.shells[0]: n}
            else:
                l2 = self._step(E, p["split"]) * np.clip(n - 2.0 / 3.0, 0.0, None)
                out = {"L3": n - l2, "L2": l2}
        else:
            white = self.white_line_peak_over_jump * np.clip(xi - p["pre"], 0.0, None) / p["peak"]
            w = 0.0 if part == "step" else 1.0
            s = 0.0 if part == "white" else 1.0
            if len(self.shells) == 1:
                edge_e = xraydb.xray_edge(self.element, self.shells[0]).energy
                centre = p["e3"] if self.shells[0] != "K" else max(edge_e, p["e3"])
                out = {self.shells[0]: w * white + s * self._step(E, centre)}
            else:
                upper = self._step(E, p["split"])  # smooth hand-over: the two groups' tails overlap
                out = {"L3": w * (1.0 - upper) * white + s * (2.0 / 3.0) * self._step(E, p["e3"]),
                       "L2": w * upper * white + s * (1.0 / 3.0) * self._step(E, p["e2"])}
        return {k: np.where(inside, v, 0.0) for k, v in out.items()}

    def normalised(self, energies) -> np.ndarray:
        """The normalised absorption :math:`n(E)`: 0 in the pre-edge, 1 far above the edge.

        A spectrum with its own edge step (post-edge mean above 5 % of the maximum) is normalised as
        measured data are, :math:`n = (x - x_\\mathrm{pre})/(x_\\mathrm{post} - x_\\mathrm{pre})`.  A step-free
        simulated spectrum gets error-function steps (2/3 at the L3 maximum, 1/3 at the L2 maximum; one step for
        a K edge, at the larger of the tabulated edge and the first maximum) plus its white lines scaled to
        ``white_line_peak_over_jump``.  Zero outside the spectrum's energy range.
        """
        return sum(self.normalised_by_shell(energies).values())


@lru_cache(maxsize=256)
def _edge_fit(element: str, edge: str) -> tuple[float, float, float, float, float]:
    """Power-law fits (log μ = a + b log E) of the tabulated photo μ below and above an edge group."""
    shells = _EDGE_SHELLS[edge]
    edges = xraydb.xray_edges(element)
    low = min(edges[s].energy for s in shells)
    high = max(edges[s].energy for s in shells)
    others = sorted(ed.energy for name, ed in edges.items() if name not in shells)
    below = [x for x in others if x < low]
    above = [x for x in others if x > high]
    lo0 = max(low - 60.0, (below[-1] + 2.0) if below else 1.0)
    hi1 = min(high + 60.0, (above[0] - 2.0) if above else np.inf)
    e_pre = np.linspace(lo0, low - 2.0, 30)
    # Elam's tables keep rising for ~20 eV above an L2 edge (interpolation between coarse knots), so
    # the post-edge power law is fitted from 20 eV above the last sub-edge
    e_post = np.linspace(high + 20.0, max(hi1, high + 22.0), 30)
    fits = []
    for grid in (e_pre, e_post):
        mu = xraydb.mu_elam(element, grid, kind="photo")
        b, a = np.polyfit(np.log(grid), np.log(mu), 1)
        fits += [a, b]
    return tuple(fits) + (float(e_post[-1]),)


def edge_background_cm2_g(element: str, edge: str, energies) -> tuple[np.ndarray, np.ndarray]:
    """Tabulated pre-edge photoabsorption extrapolated across an edge, and the edge jump (both cm²/g).

    Returns ``(mu_pre, jump)`` on ``energies`` (eV): power laws fitted to Elam et al. (2002) over up to 60 eV
    below the lowest and 20–80 eV above the highest sub-edge of ``edge`` (stopping 2 eV short of the
    element's neighbouring edges).
    """
    a0, b0, a1, b1, _ = _edge_fit(element, edge)
    E = np.asarray(energies, dtype=float)
    pre = np.exp(a0 + b0 * np.log(E))
    post = np.exp(a1 + b1 * np.log(E))
    return pre, np.clip(post - pre, 0.0, None)


# --------------------------------------------------------------------------------------------------------
# layers, samples, geometry
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Layer:
    """A homogeneous slab of a sample.

    Parameters
    ----------
    formula : str
        Chemical formula, fractions allowed (``"LiNi1/3Mn1/3Co1/3O2"``).
    density_g_cm3 : float
        Mass density (g/cm³), > 0.
    thickness_nm : float
        Thickness (nm), > 0; ``math.inf`` for a semi-infinite bulk.
    resonances : tuple of ResonantEdge
        Edges of this layer's elements whose near-edge absorption comes from a spectrum.
    name : str
        Label for reports, e.g. ``"Mn2+ surface"``.

    Attributes
    ----------
    composition : mapping
        ``{element: atoms per formula unit}`` parsed from ``formula``.
    """

    formula: str
    density_g_cm3: float
    thickness_nm: float = math.inf
    resonances: tuple = ()
    name: str = ""
    composition: Mapping[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        comp = parse_formula(self.formula)
        object.__setattr__(self, "composition", comp)
        rho = validate.number(self.density_g_cm3, "density_g_cm3", "g/cm³", lo=0.0, hi=30.0, lo_open=True)
        t = validate.number(self.thickness_nm, "thickness_nm", "nm (math.inf for a thick bulk)", allow_inf=True)
        if np.isnan(t) or t <= 0:
            raise InputError(f"thickness_nm must be > 0 nm (math.inf for a thick bulk); got {self.thickness_nm!r}")
        if t < 1e-4:       # far below an atomic layer (the thin-film limit needs ~0.01 nm): metres given as nm
            validate.suspicious(f"thickness_nm = {t:g} nm is far thinner than one atomic layer; thickness is in "
                                f"nm (100 nm = 1e-7 m)")
        object.__setattr__(self, "density_g_cm3", rho)
        object.__setattr__(self, "thickness_nm", t)
        res = tuple(self.resonances) if not isinstance(self.resonances, ResonantEdge) else (self.resonances,)
        seen = set()
        for r in res:
            if not isinstance(r, ResonantEdge):
                raise InputError(f"resonances must be ResonantEdge objects; got {type(r).__name__}")
            if r.element not in comp:
                raise InputError(f"resonance of {r.element} given, but {r.element} is not in {self.formula!r}")
            for s in r.shells:
                if (r.element, s) in seen:
                    raise InputError(f"two resonances of {r.element} share the {s} shell")
                seen.add((r.element, s))
        object.__setattr__(self, "resonances", res)

    @property
    def mass_fractions(self) -> dict[str, float]:
        """Mass fraction of each element (sums to 1)."""
        masses = {el: n * xraydb.atomic_mass(el) for el, n in self.composition.items()}
        tot = sum(masses.values())
        return {el: m / tot for el, m in masses.items()}

    def resonances_of(self, element: str) -> tuple:
        return tuple(r for r in self.resonances if r.element == element)

    def replace_resonances(self, resonances) -> "Layer":
        """A copy of this layer with other resonant spectra."""
        return Layer(self.formula, self.density_g_cm3, self.thickness_nm, tuple(resonances), self.name)


@dataclass(frozen=True)
class Sample:
    """Layers from the surface down; the last one is the bulk and may be semi-infinite.

    ``Sample(bulk)`` for a homogeneous sample; ``Sample(bulk, surface=(Layer(...),))`` for surface layers
    (reconstructed, reduced, CEI/SEI) over a bulk.
    """

    bulk: Layer
    surface: tuple = ()

    def __post_init__(self):
        if not isinstance(self.bulk, Layer):
            raise InputError(f"bulk must be a Layer; got {type(self.bulk).__name__}")
        surf = (self.surface,) if isinstance(self.surface, Layer) else tuple(self.surface)
        for i, layer in enumerate(surf):
            if not isinstance(layer, Layer):
                raise InputError(f"surface[{i}] must be a Layer; got {type(layer).__name__}")
            if not np.isfinite(layer.thickness_nm):
                raise InputError(f"surface[{i}] ({layer.formula}) has infinite thickness; only the bulk may")
        object.__setattr__(self, "surface", surf)

    @property
    def layers(self) -> tuple:
        return self.surface + (self.bulk,)

    @property
    def elements(self) -> tuple:
        seen: dict[str, None] = {}
        for layer in self.layers:
            for el in layer.composition:
                seen.setdefault(el, None)
        return tuple(seen)


@dataclass(frozen=True)
class Geometry:
    """Measurement geometry.

    Parameters
    ----------
    incidence_deg : float
        Angle of the incident beam from the sample surface, in (0, 90] degrees (90 = normal incidence).
    exit_deg : float
        Angle from the surface of the direction towards the detector, in (0, 90].
    solid_angle_fraction : float
        Detector solid angle over 4π, in (0, 1].
    """

    incidence_deg: float = 45.0
    exit_deg: float = 45.0
    solid_angle_fraction: float = 1.0

    def __post_init__(self):
        for name in ("incidence_deg", "exit_deg"):
            v = getattr(self, name)
            f = validate.number(v, name, "degrees from the surface", lo=0.0, hi=90.0, lo_open=True)
            if not (0.0 < f <= 90.0):
                raise InputError(f"{name} must be in (0, 90] degrees from the surface; got {v!r}")
            object.__setattr__(self, name, f)
        s = validate.number(self.solid_angle_fraction, "solid_angle_fraction", "(Ω/4π)", lo=0.0, hi=1.0, lo_open=True)
        if not (0.0 < s <= 1.0):
            raise InputError(f"solid_angle_fraction (Ω/4π) must be in (0, 1]; got {self.solid_angle_fraction!r}")
        object.__setattr__(self, "solid_angle_fraction", s)

    @property
    def sin_in(self) -> float:
        return math.sin(math.radians(self.incidence_deg))

    @property
    def sin_out(self) -> float:
        return math.sin(math.radians(self.exit_deg))

    @property
    def path_ratio(self) -> float:
        """sin α / sin β: weight of the outgoing attenuation against the incoming one."""
        return self.sin_in / self.sin_out


# --------------------------------------------------------------------------------------------------------
# attenuation
# --------------------------------------------------------------------------------------------------------
def _kind(kind: str) -> str:
    if kind not in ("total", "photo"):
        raise InputError(f"kind must be 'total' or 'photo'; got {kind!r}")
    return kind


def element_mu_cm2_g(element: str, energies, resonances=(), kind: str = "total") -> np.ndarray:
    """Mass attenuation coefficient (cm²/g) of one element, with its resonant edges from spectra.

    .. math:: \\mu(E) = \\mu_\\mathrm{tab}(E) \\;\\text{outside each resonance's range},\\qquad
              \\mu(E) = \\mu_\\mathrm{tab}(E) - \\mu^\\mathrm{photo}_\\mathrm{tab}(E)
              + \\mu_\\mathrm{pre}(E) + J(E)\\,n(E)
              \\;\\text{inside},

    i.e. inside the range the tabulated photoabsorption is replaced and the (tiny) scattering part kept.
    Tabulated values: Elam, Ravel & Sieber, Radiat. Phys. Chem. 63, 121 (2002), via ``xraydb.mu_elam``.
    """
    _check_element(element)
    E = validate.energy_axis(energies, "energies") if np.ndim(energies) else np.atleast_1d(
        np.asarray(energies, float))
    return _element_mu_kernel(element, E, tuple(resonances), _kind(kind))


def _element_mu_kernel(element, E, resonances, kind):
    order = np.argsort(E)
    Es = E[order]
    mu = np.asarray(xraydb.mu_elam(element, Es, kind=kind), dtype=float)
    if kind == "total":
        scatter = mu - np.asarray(xraydb.mu_elam(element, Es, kind="photo"), dtype=float)
    else:
        scatter = np.zeros_like(mu)
    for r in resonances:
        if r.element != element:
            continue
        lo, hi = r.energy_range
        # between the end of the spectrum and the end of the post-edge fit window the smooth fit (n = 1)
        # is used, so μ is continuous where the spectrum stops
        hi_ext = max(hi, _edge_fit(element, r.edge)[4])
        inside = (Es >= lo) & (Es <= hi_ext)
        if inside.any():
            pre, jump = edge_background_cm2_g(element, r.edge, Es[inside])
            n = np.where(Es[inside] <= hi, r.normalised(Es[inside]), 1.0)
            mu[inside] = scatter[inside] + pre + jump * n
    out = np.empty_like(mu)
    out[order] = mu
    return out


def element_mu_per_nm(layer: Layer, element: str, energies, kind: str = "photo") -> np.ndarray:
    """Linear attenuation (1/nm) due to one element of a layer (its mass fraction × density × μ/ρ)."""
    if element not in layer.composition:
        return np.zeros(np.shape(energies))
    E = np.atleast_1d(np.asarray(energies, dtype=float))
    w = layer.mass_fractions[element]
    return (layer.density_g_cm3 * w * _PER_CM_TO_PER_NM
            * _element_mu_kernel(element, E, layer.resonances_of(element), _kind(kind)))


def layer_mu_per_nm(layer: Layer, energies, kind: str = "total") -> np.ndarray:
    """Linear attenuation coefficient μ(E) of a layer in 1/nm (``kind`` as in the module glossary)."""
    E = np.atleast_1d(np.asarray(energies, dtype=float))
    return sum(element_mu_per_nm(layer, el, E, kind) for el in layer.composition)


def shell_photo_fraction(layer: Layer, element: str, shell: str, energies, part: str = "all") -> np.ndarray:
    """Fraction of one element's photoabsorption that ionises ``shell`` (0 … 1) at ``energies`` (eV).

    Outside every resonance's range the jump-ratio rule of the fundamental-parameter method is used: the
    shell with the highest edge below E takes ``1 − 1/r``, the next ``(1 − 1/r')/r``, and so on (r the
    tabulated jump ratios, Elam et al. 2002).  Inside a resonance's range a resonant shell takes
    ``J n_shell / μ`` (white lines and edge step, :meth:`ResonantEdge.normalised_by_shell`), and the other
    shells share the extrapolated pre-edge part ``μ_pre / μ`` by the same jump-ratio rule.

    ``part="step"`` keeps only continuum ionisation (the added edge step inside a resonance's range, the
    whole tabulated share elsewhere); ``part="white"`` only the white lines (zero outside resonances).
    """
    E = np.atleast_1d(np.asarray(energies, dtype=float))
    if part not in ("all", "white", "step"):
        raise InputError(f"part must be 'all', 'white' or 'step'; got {part!r}")
    res = layer.resonances_of(element)
    frac = _tab_fraction(element, shell, E, ())
    if part == "white":
        frac = np.zeros_like(frac)
    if not res:
        return frac
    mu = _element_mu_kernel(element, E, res, "photo")
    resonant_shells = tuple(s for r in res for s in r.shells)
    for r in res:
        inside = _inside(r, E)
        if not inside.any():
            continue
        pre, jump = edge_background_cm2_g(element, r.edge, E[inside])
        if shell in r.shells:
            frac[inside] = jump * r.normalised_by_shell(E[inside], part)[shell] / mu[inside]
        elif shell in resonant_shells:
            frac[inside] = 0.0  # another resonance's shell: handled by that resonance's own range
        elif part != "white":
            frac[inside] = pre / mu[inside] * _tab_fraction(element, shell, E[inside], resonant_shells)
    return frac


def _inside(r: ResonantEdge, E):
    lo, hi = r.energy_range
    return (E >= lo) & (E <= hi)


def _tab_fraction(element, shell, E, excluded):
    """Vectorised jump-ratio rule: walk the element's edges from the highest down; at each energy an edge at
    or below E takes (1 − 1/r) of what the edges above it left."""
    E = np.atleast_1d(np.asarray(E, dtype=float))
    edges = _edges_desc(element, tuple(sorted(excluded)))
    remaining = np.ones_like(E)
    for energy, name, r in edges:
        active = E >= energy
        take = np.where(active, remaining * (1.0 - 1.0 / r), 0.0)
        if name == shell:
            return take
        remaining = remaining - take
    return np.zeros_like(E)


@lru_cache(maxsize=512)
def _edges_desc(element, excluded):
    return tuple(sorted(((ed.energy, name, max(ed.jump_ratio, 1.0)) for name, ed in xraydb.xray_edges(element).items()
                         if name not in excluded), reverse=True))

"""Forward-model fits of L2,3 spectra as they were measured: cluster white lines, continuum edge steps,
a background, the sample's self-absorption and the detection channel, fitted jointly to several channels
(TEY + TFY of one scan) and several scans (σ⁺ and σ⁻ of an XMCD pair).

The forward model
-----------------
The resonant element's edge absorption, in units of its tabulated edge jump :math:`J(E)` (Elam et al.,
Radiat. Phys. Chem. 63, 121 (2002), as :func:`rixsim.detection.sample.edge_background_cm2_g`), is split by
the core hole it creates (s = L3, L2):

.. math::
    n_s(E) = A\\, \\hat X_s(E) + h\\, S_s(E), \\qquad
    \\mu_{a,s}(E) = p\\, \\rho\\, w_a\\, J(E)\\, n_s(E),

where :math:`\\hat X_s` (one ion: :class:`ClusterAbsorption`; several valences or sites in atom fractions:
:class:`ClusterMixture`) is the cluster XAS of the states of 2p₃/₂ (2p₁/₂) hole character, per unit area of the
*isotropic* spectrum (so σ⁺ and σ⁻ share one normalisation and XMCD keeps its sign and size), broadened
with the per-edge Lorentzian FWHM ``l3_fwhm``, ``l2_fwhm`` and the Gaussian ``gauss_fwhm`` (for circular
polarisation mixed with the opposite helicity as :math:`\\tfrac{1+P}{2}\\hat X_\\pm + \\tfrac{1-P}{2}\\hat X_\\mp`,
P = ``circular_degree``: the degree of circular polarisation times the projected magnetisation, 1 by default); :math:`A`
(``white_line_area``, eV) is the area of the white lines in edge jumps × eV; :math:`S_s` are the continuum
steps of :func:`rixsim.analysis.edge_step.edge_steps` (``step_shape`` "arctan" or "erf", FWHM ``step_fwhm``,
L3 : L2 height ``step_ratio`` = 2, total height ``step_height`` = 1 tabulated jump) at the model's own L3 and
L2 edges — the intensity-weighted mean energies of its 2p₃/₂- and 2p₁/₂-hole transitions — moved by
``step_offset``; :math:`p` is the packing fraction (``packing``), :math:`\\rho` the density and :math:`w_a` the
mass fraction.  The rest of the sample absorbs as in the tables, :math:`\\mu_b(E)`
(:func:`rixsim.detection.selfabsorption.background_mu_per_nm`, times p), and :math:`\\mu = \\mu_a + \\mu_b`.

Channels (one homogeneous layer of thickness d, ``math.inf`` = thick; incidence α and exit β from the
surface; the same depth integrals as :mod:`rixsim.detection.channels`):

* ``"absorption"``: :math:`Y = n_{L3} + n_{L2}` (no sample; the scale is the edge jump in data units);
* ``"TEY"``: :math:`Y = \\frac{\\mu^{photo}}{\\sin\\alpha}\\, \\frac{1 - e^{-kd}}{k}`,
  :math:`k = \\mu/\\sin\\alpha + 1/\\lambda_e` (``electron_escape_nm``);
* ``"TFY"``, ``"PFY"``: :math:`Y = \\sum_\\ell \\frac{q_\\ell(E)}{\\sin\\alpha}\\, \\frac{1 - e^{-k_\\ell d}}{k_\\ell}`,
  :math:`k_\\ell = \\mu(E)/\\sin\\alpha + \\mu(E_\\ell)/\\sin\\beta`, over the tabulated lines ℓ (all above
  ``min_line_energy_ev`` for TFY, those inside ``window`` for PFY).  A line of the resonant element has
  :math:`q_\\ell = \\omega_\\ell (\\mu_{a,L3} + f_{23}\\, \\mu_{a,L2})` (L3 lines) or
  :math:`\\omega_\\ell\\, \\mu_{a,L2}` (L2 lines), with Coster–Kronig :math:`f_{23}`; a line of another element
  (O Kα in an oxide — its intensity dips on the resonance) has its tabulated source
  :math:`q_\\ell = \\omega_\\ell\\, p\\, \\mu^{photo}_{el}(E)\\, h_s(E)` times ``{channel}_nonresonant`` (1).
  :math:`\\mu(E_\\ell)` includes the model's own absorption at the line energy.

Each data set is ``scale · Y + polynomial`` (:func:`rixsim.analysis.edge_step.polynomial_background` of
order ``background_order`` in the reduced energy of the scan); ``{channel}_scale`` ≥ 0 and
``{channel}_bg0``, ``{channel}_bg1`` … belong to one channel and are shared by all scans (or one set per scan
with ``separate_scales=True``).

Cost: the eigensystem is recomputed only when a Hamiltonian parameter (``tendq`` …, ``slater_scale``,
``soc_scale``, ``exchange``) changes, the broadened white lines only when one of those or ``edge_offset``,
``l3_fwhm``, ``l2_fwhm``, ``gauss_fwhm`` changes; everything else (steps, sample, channels) is array
arithmetic on the energy grid, with the tabulated absorption computed once per grid.

Weights: each Spectrum's ``sigma`` (``sigma="data"``), counting statistics (``"poisson"``: a first fit with
σ² = y + 1, then a refit with σ² = model, whose covariance is the Fisher matrix), or σ = 1 (``None``).
"""
from __future__ import annotations

import logging
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from rixsim import progress, validate
from rixsim.analysis.edge_step import STEP_SHAPES, edge_steps, polynomial_background
from rixsim.detection.channels import DEFAULT_ELECTRON_ESCAPE_NM, _window, emission_lines, hole_populations
from rixsim.detection.sample import _EDGE_SHELLS, Layer, element_mu_per_nm
from rixsim.detection.selfabsorption import background_mu_per_nm, edge_jump_mu_per_nm
from rixsim.errors import ConvergenceError, InputError
from rixsim.results import Spectrum

__all__ = ["CHANNEL_KINDS", "HAMILTONIAN_NAMES", "ClusterAbsorption", "ClusterMixture", "SampleSpec", "DetectionChannel",
           "MeasuredScan", "MeasuredModel", "fit_measured"]

log = logging.getLogger(__name__)

#: Channel kinds a :class:`DetectionChannel` may have.
CHANNEL_KINDS = ("absorption", "TEY", "TFY", "PFY")
_CF = {"Oh": ("tendq",), "D4h": ("tendq", "ds", "dt"), "D3d": ("tendq", "dsigma", "dtau")}
#: Parameters that change the eigenstates (a change re-diagonalises).
HAMILTONIAN_NAMES = ("tendq", "ds", "dt", "dsigma", "dtau", "slater_scale", "soc_scale", "exchange")
_BROADENING = ("edge_offset", "l3_fwhm", "l2_fwhm", "gauss_fwhm")
_ABSORPTION = ("white_line_area", "step_height", "step_ratio", "step_fwhm", "step_offset", "circular_degree")
_OPPOSITE = {"sigma+": "sigma-", "sigma-": "sigma+", "left": "right", "right": "left"}
_SAMPLE = ("thickness_nm", "packing", "incidence_deg", "exit_deg", "electron_escape_nm")
# the reference transitions carry these core-hole widths; a state's 2p3/2 character c is read back from
# fwhm_ref = c·1 + (1 − c)·2 (as rixsim.analysis.fitting does)
_REF_L3, _REF_L2 = 1.0, 2.0
_UNITS = {"tendq": "eV", "ds": "eV", "dt": "eV", "dsigma": "eV", "dtau": "eV", "exchange": "eV",
          "edge_offset": "eV", "l3_fwhm": "eV", "l2_fwhm": "eV", "gauss_fwhm": "eV", "white_line_area": "eV",
          "step_fwhm": "eV", "step_offset": "eV", "thickness_nm": "nm", "incidence_deg": "deg", "exit_deg": "deg",
          "electron_escape_nm": "nm"}


# ------------------------------------------------------------------------------------------- the cluster
@dataclass(frozen=True)
class _Sticks:
    energy: np.ndarray       # relative to the model's edge offset (eV)
    weight: np.ndarray       # (2, n): L3-hole and L2-hole shares of each stick, per unit isotropic area
    centroid: tuple          # (L3, L2) intensity-weighted mean energies of the isotropic spectrum, relative


class ClusterAbsorption:
    """The white lines of one ion from an atomic multiplet model, with eigensystems cached on the
    Hamiltonian parameters.

    Parameters
    ----------
    ion : str
        E.g. ``"Fe3+"`` (tables of :mod:`rixsim.cluster.tables`).
    symmetry : {"Oh", "D4h", "D3d"}
    temperature_k : float
        Temperature (K) of the initial-state populations.
    exchange_axis : 3 floats
        Direction of the exchange field :math:`h_{ex}\\,\\hat n\\cdot\\mathbf S` (parameter ``exchange``, eV);
        along the beam (z) for XMCD with ``"sigma+"`` / ``"sigma-"``.
    cache_size : int
        Eigensystems kept (least recently used dropped first).

    Notes
    -----
    ``n_diagonalisations`` counts eigensystem computations (cache misses).
    """

    def __init__(self, ion: str, *, symmetry: str = "Oh", temperature_k: float = 0.0,
                 exchange_axis=(0.0, 0.0, 1.0), cache_size: int = 16):
        from rixsim.cluster.model import atomic_model
        if symmetry not in _CF:
            raise InputError(f"symmetry must be one of {sorted(_CF)}; got {symmetry!r}")
        axis = np.asarray(exchange_axis, dtype=float)
        if axis.shape != (3,) or not np.isfinite(axis).all() or not np.linalg.norm(axis) > 0:
            raise InputError(f"exchange_axis must be a non-zero 3-vector; got {exchange_axis!r}")
        self.ion = ion
        self.symmetry = symmetry
        self.temperature_k = validate.nonnegative(temperature_k, "temperature_k", "K")
        self.exchange_axis = axis / np.linalg.norm(axis)
        self._tabulated = atomic_model(ion)       # validates the ion; tabulated edge and widths
        self._cache: OrderedDict = OrderedDict()
        self._cache_size = max(1, int(cache_size))
        self.n_diagonalisations = 0

    @property
    def hamiltonian_names(self) -> tuple:
        return _CF[self.symmetry] + ("slater_scale", "soc_scale", "exchange")

    def defaults(self) -> dict:
        """Starting values: no crystal field, Slater × 0.8, tabulated edge offset and L3/L2 widths (eV)."""
        from rixsim.cluster.model import DEFAULT_SLATER_SCALE
        d = {k: 0.0 for k in _CF[self.symmetry]}
        d.update(slater_scale=DEFAULT_SLATER_SCALE, soc_scale=1.0, exchange=0.0,
                 edge_offset=self._tabulated.edge_offset, l3_fwhm=self._tabulated.l3_fwhm,
                 l2_fwhm=self._tabulated.l2_fwhm, gauss_fwhm=0.2)
        return d

    def _key(self, v: Mapping[str, float]) -> tuple:
        return tuple(float(v[k]) for k in self.hamiltonian_names)

    def _transitions(self, v: Mapping[str, float]):
        key = self._key(v)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        from rixsim.cluster.model import K_B_EV, atomic_model
        cf = {k: float(v[k]) for k in _CF[self.symmetry]}
        model = atomic_model(self.ion, symmetry=self.symmetry, slater_scale=float(v["slater_scale"]),
                             soc_scale=float(v["soc_scale"]),
                             exchange_field=tuple(float(v["exchange"]) * self.exchange_axis),
                             l3_fwhm=_REF_L3, l2_fwhm=_REF_L2, **cf)
        cutoff = 30.0 * K_B_EV * self.temperature_k + 1e-5
        tr = model.transitions(self.temperature_k, max_initial_energy=cutoff)
        self.n_diagonalisations += 1
        entry = {"tr": tr, "sticks": {}}
        self._cache[key] = entry
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return entry

    def sticks(self, values: Mapping[str, float], polarization="isotropic") -> _Sticks:
        """Transitions for the Hamiltonian parameters in ``values`` split into L3- and L2-hole shares, per unit
        area of the isotropic spectrum, with the L3 and L2 centroids (relative to the edge offset)."""
        from rixsim.spectroscopy.xas import xas_sticks
        entry = self._transitions(values)
        pkey = polarization if isinstance(polarization, str) else tuple(np.asarray(polarization).ravel())
        if pkey in entry["sticks"]:
            return entry["sticks"][pkey]
        tr = entry["tr"]
        iso = xas_sticks(tr, "isotropic", self.temperature_k)
        area = iso.total
        if not area > 0:
            raise InputError(f"{self.ion} has no L2,3 absorption (d10?)")
        entry["area"] = area

        def split(s):
            c32 = np.clip((_REF_L2 - s.fwhm) / (_REF_L2 - _REF_L3), 0.0, 1.0)
            return s.energy - tr.edge_offset, np.stack([s.intensity * c32, s.intensity * (1.0 - c32)]) / area
        e_iso, w_iso = split(iso)
        cen = tuple(float(np.sum(w * e_iso) / np.sum(w)) if np.sum(w) > 0 else 0.0 for w in w_iso)
        if pkey == "isotropic":
            out = _Sticks(e_iso, w_iso, cen)
        else:
            e, w = split(xas_sticks(tr, polarization, self.temperature_k))
            out = _Sticks(e, w, cen)
        entry["sticks"][pkey] = out
        return out


class ClusterMixture:
    """Several ions (valences, sites) absorbing together: their white lines added in proportion to their
    atom fractions, each with its own Hamiltonian parameters and an edge shift.

    Parameters
    ----------
    components : mapping name → ClusterAbsorption
        E.g. ``{"fe2": ClusterAbsorption("Fe2+"), "fe3": ClusterAbsorption("Fe3+")}``; the names (identifiers)
        prefix the parameters: ``fe2_tendq``, ``fe3_exchange`` …, ``fe3_fraction`` (atom fraction of every
        component but the first, which has 1 − their sum) and ``fe3_shift`` (eV, of every component but the
        first, relative to the common ``edge_offset`` of the first).

    Notes
    -----
    Component k contributes :math:`x_k a_k \\hat X_k / \\sum_j x_j a_j` with :math:`a_k` its isotropic
    white-line area (∝ its number of 3d holes), so the fractions are atom fractions and the total has unit
    isotropic area.  The L3 and L2 step positions are the mixture's centroids.
    """

    def __init__(self, components: Mapping[str, ClusterAbsorption]):
        if not isinstance(components, Mapping) or len(components) < 2:
            raise InputError("a ClusterMixture needs a mapping of at least two {name: ClusterAbsorption}")
        for nm, c in components.items():
            if not isinstance(c, ClusterAbsorption):
                raise InputError(f"component {nm!r}: expected a ClusterAbsorption; got {type(c).__name__}")
            if not (isinstance(nm, str) and nm.isidentifier()):
                raise InputError(f"component name {nm!r} must be an identifier (it prefixes parameter names)")
        self.components = dict(components)
        self._names = list(self.components)
        self.ion = "+".join(c.ion for c in self.components.values())

    @property
    def n_diagonalisations(self) -> int:
        return sum(c.n_diagonalisations for c in self.components.values())

    @property
    def hamiltonian_names(self) -> tuple:
        out = []
        for i, (nm, c) in enumerate(self.components.items()):
            out += [f"{nm}_{k}" for k in c.hamiltonian_names]
            if i:
                out += [f"{nm}_fraction", f"{nm}_shift"]
        return tuple(out)

    def defaults(self) -> dict:
        first = self.components[self._names[0]].defaults()
        d = {k: first[k] for k in _BROADENING}
        n = len(self._names)
        for i, (nm, c) in enumerate(self.components.items()):
            cd = c.defaults()
            d.update({f"{nm}_{k}": cd[k] for k in c.hamiltonian_names})
            if i:
                d[f"{nm}_fraction"] = 1.0 / n
                d[f"{nm}_shift"] = cd["edge_offset"] - first["edge_offset"]
        return d

    def _key(self, v) -> tuple:
        return tuple(float(v[k]) for k in self.hamiltonian_names)

    def sticks(self, values: Mapping[str, float], polarization="isotropic") -> _Sticks:
        x = [float(values[f"{nm}_fraction"]) for nm in self._names[1:]]
        x = [1.0 - sum(x)] + x
        if min(x) < -1e-12:
            raise InputError(f"component fractions must be >= 0 and sum to <= 1; got {dict(zip(self._names, x))}")
        energies, weights, num, den, total = [], [], np.zeros(2), np.zeros(2), 0.0
        for i, (nm, c) in enumerate(self.components.items()):
            cv = {k: values[f"{nm}_{k}"] for k in c.hamiltonian_names}
            iso = c.sticks(cv)                              # also stores the isotropic area
            st = iso if polarization == "isotropic" else c.sticks(cv, polarization)
            shift = float(values[f"{nm}_shift"]) if i else 0.0
            w = max(x[i], 0.0) * c._transitions(cv)["area"]
            energies.append(st.energy + shift)
            weights.append(w * st.weight)
            share = w * iso.weight.sum(axis=1)              # L3 and L2 shares of this component's area
            num += share * (np.array(iso.centroid) + shift)
            den += share
            total += w
        if not total > 0:
            raise InputError("the component fractions leave no absorbing ion")
        return _Sticks(np.concatenate(energies), np.concatenate(weights, axis=1) / total,
                       tuple(float(a / b) if b > 0 else 0.0 for a, b in zip(num, den)))


# ---------------------------------------------------------------------------------------- sample, channels
@dataclass(frozen=True)
class SampleSpec:
    """One homogeneous layer and the measurement geometry, as starting values of the fit.

    Parameters
    ----------
    formula : str
        Chemical formula (``"Fe2O3"``, ``"LiFePO4"``).
    density_g_cm3 : float
        Crystallographic density; the effective one is ``packing`` × this.
    element : str
        The resonant element (the one the cluster models).
    edge : str
        Its edge, ``"L2,3"``.
    thickness_nm : float
        Layer (or effective film) thickness, nm; ``math.inf`` for a thick sample (then not a fit parameter).
    packing : float
        Packing fraction in (0, 1] (powder, porous electrode).
    incidence_deg, exit_deg : float
        Angles of the beam and of the fluorescence detector from the surface, (0, 90].
    electron_escape_nm : float
        TEY electron escape depth λ_e (nm).
    """

    formula: str
    density_g_cm3: float
    element: str
    edge: str = "L2,3"
    thickness_nm: float = math.inf
    packing: float = 1.0
    incidence_deg: float = 45.0
    exit_deg: float = 45.0
    electron_escape_nm: float = DEFAULT_ELECTRON_ESCAPE_NM

    def __post_init__(self):
        layer = self.layer()            # validates formula, density, thickness
        if self.element not in layer.composition:
            raise InputError(f"resonant element {self.element!r} is not in the formula {self.formula!r}")
        if self.edge not in ("L2,3", "L23"):
            raise InputError(f"only the L2,3 edge is modelled here; got edge {self.edge!r}")
        if not 0.0 < float(self.packing) <= 1.0:
            raise InputError(f"packing must be in (0, 1]; got {self.packing!r}")
        for nm in ("incidence_deg", "exit_deg"):
            if not 0.0 < float(getattr(self, nm)) <= 90.0:
                raise InputError(f"{nm} must be in (0, 90] degrees from the surface; got {getattr(self, nm)!r}")
        validate.width(self.electron_escape_nm, "electron_escape_nm", allow_zero=False)

    def layer(self) -> Layer:
        return Layer(self.formula, self.density_g_cm3, self.thickness_nm)

    def values(self) -> dict:
        return {"thickness_nm": float(self.thickness_nm), "packing": float(self.packing),
                "incidence_deg": float(self.incidence_deg), "exit_deg": float(self.exit_deg),
                "electron_escape_nm": float(self.electron_escape_nm)}


@dataclass(frozen=True)
class DetectionChannel:
    """How one data set was detected.

    Parameters
    ----------
    kind : {"absorption", "TEY", "TFY", "PFY"}
        See the module notes.
    window : (float, float), optional
        PFY emission window (eV); required for PFY, not allowed otherwise.
    background_order : int
        Order of the polynomial background (0 = constant, 1 = linear …).
    min_line_energy_ev : float
        TFY: lines below this energy (eV) are not detected.
    """

    kind: str
    window: Optional[tuple] = None
    background_order: int = 1
    min_line_energy_ev: float = 100.0

    def __post_init__(self):
        if self.kind not in CHANNEL_KINDS:
            raise InputError(f"channel kind must be one of {CHANNEL_KINDS}; got {self.kind!r}")
        if self.kind == "PFY":
            if self.window is None:
                raise InputError("a PFY channel needs window=(low, high) in eV")
            object.__setattr__(self, "window", _window(self.window, "PFY window"))
        elif self.window is not None:
            raise InputError(f"window is only for PFY channels; got window={self.window!r} for {self.kind}")
        if not isinstance(self.background_order, (int, np.integer)) or not 0 <= self.background_order <= 5:
            raise InputError(f"background_order must be an integer 0…5; got {self.background_order!r}")
        validate.nonnegative(self.min_line_energy_ev, "min_line_energy_ev", "eV")


@dataclass(frozen=True)
class MeasuredScan:
    """One scan: the data of each channel (``{channel name: Spectrum}``, on absolute photon energies) and the
    polarisation it was taken with (``"isotropic"``, ``"sigma+"``, ``"sigma-"`` …)."""

    channels: Mapping[str, Spectrum]
    polarization: Any = "isotropic"
    name: str = ""

    def __post_init__(self):
        if not isinstance(self.channels, Mapping) or not self.channels:
            raise InputError("MeasuredScan.channels must be a non-empty mapping {channel name: Spectrum}")
        for nm, s in self.channels.items():
            if not isinstance(s, Spectrum):
                raise InputError(f"channel {nm!r}: expected a Spectrum; got {type(s).__name__}")
            if s.relative:
                raise InputError(f"channel {nm!r}: the energy axis must be absolute photon energy")
            validate.energy_axis(s.energy, f"channel {nm!r} energy", min_points=8)
            validate.intensities(s.intensity, f"channel {nm!r} intensity", allow_negative=True)


# ------------------------------------------------------------------------------------------- the model
class _Grid:
    """Everything on one energy grid that does not depend on the fit parameters."""

    def __init__(self, model: "MeasuredModel", energies: np.ndarray):
        self.energies = energies
        lines = model._lines
        self.e_lines = np.array(sorted({ln[1] for ln in lines}), dtype=float)
        e_all = np.concatenate([energies, self.e_lines])
        self.order = np.argsort(e_all, kind="stable")
        self.e_all = e_all[self.order]
        self.back = np.argsort(self.order)            # e_all[back] == concat(energies, e_lines)
        n = energies.size
        self.n = n
        self.centre = 0.5 * (energies[0] + energies[-1])
        self.half_span = 0.5 * (energies[-1] - energies[0])
        s = model.sample
        if s is None:
            return
        layer, el = model._layer, s.element
        E = np.concatenate([energies, self.e_lines])
        self.jump = edge_jump_mu_per_nm(layer, el, "L2,3", E)
        self.mu_b = background_mu_per_nm(layer, el, "L2,3", E)
        self.mu_b_photo = _background_photo_per_nm(layer, el, E)
        # non-resonant line sources (per nm at the nominal density), resonant line yields
        self.line_index = {e: i for i, e in enumerate(self.e_lines)}
        self.sources = []
        for kind, energy, yld, shell, element in lines:
            if element == el:
                self.sources.append(None)
            else:
                h = hole_populations(layer, element, energies).get(shell, 0.0 * energies)
                self.sources.append(yld * element_mu_per_nm(layer, element, energies, "photo") * h)


def _background_photo_per_nm(layer: Layer, element: str, E: np.ndarray) -> np.ndarray:
    """Photoabsorption of the layer without the resonant edge (other elements + the element's pre-edge)."""
    from rixsim.detection.sample import _PER_CM_TO_PER_NM, edge_background_cm2_g
    rest = sum((element_mu_per_nm(layer, el, E, "photo") for el in layer.composition if el != element),
               np.zeros_like(E))
    pre, _ = edge_background_cm2_g(element, "L2,3", E)
    return rest + layer.density_g_cm3 * layer.mass_fractions[element] * _PER_CM_TO_PER_NM * pre


class MeasuredModel:
    """Cluster white lines + edge steps + sample + detection channels (module notes).

    Parameters
    ----------
    cluster : ClusterAbsorption or ClusterMixture
    channels : mapping name → DetectionChannel
        E.g. ``{"tey": DetectionChannel("TEY"), "tfy": DetectionChannel("TFY")}``; names are used in the
        parameter names (``tey_scale``, ``tey_bg0`` …) and must be identifiers.
    sample : SampleSpec, optional
        Needed by TEY/TFY/PFY channels.
    step_shape : {"arctan", "erf"}
    """

    def __init__(self, cluster: ClusterAbsorption, channels: Mapping[str, DetectionChannel], *,
                 sample: Optional[SampleSpec] = None, step_shape: str = "arctan"):
        if not isinstance(cluster, (ClusterAbsorption, ClusterMixture)):
            raise InputError(f"cluster must be a ClusterAbsorption or a ClusterMixture; got {type(cluster).__name__}")
        if not isinstance(channels, Mapping) or not channels:
            raise InputError("channels must be a non-empty mapping {name: DetectionChannel}")
        for nm, ch in channels.items():
            if not isinstance(ch, DetectionChannel):
                raise InputError(f"channel {nm!r}: expected a DetectionChannel; got {type(ch).__name__}")
            if not (isinstance(nm, str) and nm.isidentifier()):
                raise InputError(f"channel name {nm!r} must be an identifier (it prefixes parameter names)")
            if ch.kind != "absorption" and sample is None:
                raise InputError(f"channel {nm!r} ({ch.kind}) needs a sample=SampleSpec(...)")
        if sample is not None and not isinstance(sample, SampleSpec):
            raise InputError(f"sample must be a SampleSpec; got {type(sample).__name__}")
        if step_shape not in STEP_SHAPES:
            raise InputError(f"step_shape must be one of {STEP_SHAPES}; got {step_shape!r}")
        self.cluster = cluster
        self.channels = dict(channels)
        self.sample = sample
        self.step_shape = step_shape
        self._layer = sample.layer() if sample is not None else None
        self._lines = self._collect_lines()
        self._grids: dict = {}
        self._broadened: OrderedDict = OrderedDict()
        self.n_evaluations = 0
        self._default_area = None

    # ---- lines -------------------------------------------------------------------------------------
    def _collect_lines(self) -> list:
        """(channel, energy, yield per hole, shell, element) of every detected line."""
        out = []
        if self.sample is None:
            return out
        el = self.sample.element
        for cname, ch in self.channels.items():
            if ch.kind not in ("TFY", "PFY"):
                continue
            lo, hi = ch.window if ch.kind == "PFY" else (ch.min_line_energy_ev, math.inf)
            found = 0
            for element in self._layer.composition:
                for ln in emission_lines(element, min_energy_ev=min(lo, 100.0)):
                    if not lo <= ln.energy <= hi:
                        continue
                    if element == el and ln.shell not in _EDGE_SHELLS["L2,3"]:
                        continue            # not excited by the resonant edge (K, L1 lines)
                    out.append((cname, float(ln.energy), float(ln.yield_per_hole), ln.shell, element))
                    found += element == el
            if not found:
                raise InputError(f"channel {cname!r}: no tabulated {el} L3/L2 line lies in the window ({lo:g}, "
                                 f"{hi:g}) eV")
        return out

    def _grid(self, energies: np.ndarray) -> _Grid:
        key = (energies.size, float(energies[0]), float(energies[-1]), hash(energies.tobytes()))
        g = self._grids.get(key)
        if g is None:
            g = self._grids[key] = _Grid(self, energies)
        return g

    # ---- parameters --------------------------------------------------------------------------------
    def parameter_names(self, scans: Sequence[str] = ("",), separate_scales: bool = False) -> tuple:
        names = list(self.cluster.hamiltonian_names) + list(_BROADENING) + list(_ABSORPTION)
        if self.sample is not None:
            names += list(_SAMPLE)
        for cname, ch in self.channels.items():
            for suffix in ([f"_{s}" for s in scans] if separate_scales else [""]):
                names.append(f"{cname}_scale{suffix}")
                names += [f"{cname}_bg{k}{suffix}" for k in range(ch.background_order + 1)]
            if ch.kind in ("TFY", "PFY"):
                names.append(f"{cname}_nonresonant")
        return tuple(names)

    def defaults(self) -> dict:
        """Starting values of the physics parameters (eV, nm, degrees); channel scales 1, backgrounds 0.

        ``white_line_area`` defaults to the value that puts the isotropic white-line maximum at
        :data:`rixsim.detection.sample.DEFAULT_WHITE_LINE_PEAK_OVER_JUMP` edge jumps (see its source note).
        """
        d = self.cluster.defaults()
        if self._default_area is None:
            from rixsim.detection.sample import DEFAULT_WHITE_LINE_PEAK_OVER_JUMP
            st = self.cluster.sticks(d)
            e = d["edge_offset"] + np.linspace(st.energy.min() - 5, st.energy.max() + 5, 2001)
            x = self._white(st, e, d).sum(axis=0)
            self._default_area = float(DEFAULT_WHITE_LINE_PEAK_OVER_JUMP / x.max())
        d.update(white_line_area=self._default_area, step_height=1.0, step_ratio=2.0, step_fwhm=1.0,
                 step_offset=0.0, circular_degree=1.0)
        if self.sample is not None:
            d.update(self.sample.values())
        for cname, ch in self.channels.items():
            d[f"{cname}_scale"] = 1.0
            d.update({f"{cname}_bg{k}": 0.0 for k in range(ch.background_order + 1)})
            if ch.kind in ("TFY", "PFY"):
                d[f"{cname}_nonresonant"] = 1.0
        return d

    def parameters(self, start: Optional[Mapping[str, float]] = None, vary: Sequence[str] = (),
                   bounds: Optional[Mapping[str, tuple]] = None, scans: Sequence[str] = ("",),
                   separate_scales: bool = False):
        """lmfit.Parameters with bounds: every width, scale, height, area, thickness and the packing ≥ 0
        (widths and the step width > 0), angles in (0, 90], Slater and spin–orbit factors in [0.3, 1.5]."""
        import lmfit
        names = self.parameter_names(scans, separate_scales)
        values = {nm: 0.0 for nm in names}
        values.update({nm: 1.0 for nm in names if nm.endswith("_nonresonant") or "_scale" in nm})
        values.update({k: x for k, x in self.defaults().items() if k in values})
        if start is not None and not isinstance(start, Mapping):
            raise InputError(f"start must be a mapping of parameter name → value; got {start!r}")
        if bounds is not None and not isinstance(bounds, Mapping):
            raise InputError(f"bounds must be a mapping of parameter name → (min, max); got {bounds!r}")
        if isinstance(vary, (str, bytes)) or not hasattr(vary, "__iter__"):
            raise InputError(f"vary must be a sequence of parameter names; got {vary!r} (one name: vary=[{vary!r}])")
        start = dict(start or {})
        bounds = dict(bounds or {})
        vary = tuple(vary)
        for nm in list(start) + list(vary) + list(bounds):
            if nm not in names:
                raise InputError(f"unknown parameter {nm!r}; allowed: {list(names)}")
        values.update({k: validate.number(v, f"start value of {k}", allow_inf=True) for k, v in start.items()})
        params = lmfit.Parameters()
        for nm in names:
            lo, hi = _default_bounds(nm)
            if nm in bounds:
                try:
                    b_lo, b_hi = bounds[nm]
                except (TypeError, ValueError):
                    raise InputError(f"bounds of {nm} must be (min, max), None for open; got {bounds[nm]!r}") from None
                lo = lo if b_lo is None else validate.number(b_lo, f"lower bound of {nm}", allow_inf=True)
                hi = hi if b_hi is None else validate.number(b_hi, f"upper bound of {nm}", allow_inf=True)
            val = values[nm]
            if nm == "thickness_nm" and nm in vary and not math.isfinite(val):
                raise InputError("thickness_nm = inf cannot be fitted; give a finite starting value")
            if not (lo <= val <= hi) or not lo < hi:
                raise InputError(f"parameter {nm} = {val!r} must lie within its bounds [{lo}, {hi}]")
            params.add(nm, value=val, vary=nm in vary, min=lo, max=hi)
        return params

    # ---- evaluation --------------------------------------------------------------------------------
    def _white(self, st: _Sticks, e_all: np.ndarray, v: Mapping[str, float]) -> np.ndarray:
        from rixsim.spectroscopy.broadening import broaden_sticks
        c32 = st.weight[0] / np.maximum(st.weight.sum(axis=0), 1e-300)
        widths = c32 * float(v["l3_fwhm"]) + (1.0 - c32) * float(v["l2_fwhm"])
        return broaden_sticks(e_all, st.energy + float(v["edge_offset"]), st.weight, widths,
                              float(v["gauss_fwhm"]))

    def _white_cached(self, v, e_all, polarization):
        pk = polarization if isinstance(polarization, str) else tuple(np.ravel(polarization))
        key = (self.cluster._key(v), pk, hash(e_all.tobytes()), e_all.size) + tuple(float(v[k]) for k in _BROADENING)
        hit = self._broadened.get(key)
        if hit is not None:
            return hit
        for k in ("l3_fwhm", "l2_fwhm", "gauss_fwhm"):
            if not np.isfinite(v[k]) or v[k] < 0:
                raise InputError(f"{k} must be finite and >= 0 eV; got {v[k]!r}")
        st = self.cluster.sticks(v, polarization)
        out = (self._white(st, e_all, v), st.centroid)
        self._broadened[key] = out
        if len(self._broadened) > 16:
            self._broadened.popitem(last=False)
        return out

    def edge_absorption(self, energies, values: Mapping[str, float], polarization="isotropic") -> dict:
        """The parts of :math:`n(E)` (edge jumps) on ``energies``: ``white_L3``, ``white_L2``, ``step_L3``,
        ``step_L2`` and the step positions ``edge_L3``, ``edge_L2`` (eV)."""
        v = self.defaults() | dict(values)
        e = validate.energy_axis(energies, "energies")
        return self._parts(v, e, polarization)

    def _parts(self, v, e_all, polarization):
        white, cen = self._white_cached(v, e_all, polarization)
        opposite = _OPPOSITE.get(polarization.strip().lower()) if isinstance(polarization, str) else None
        deg = float(v.get("circular_degree", 1.0))
        if opposite is not None and deg != 1.0:
            if not 0.0 <= deg <= 1.0:
                raise InputError(f"circular_degree must be in [0, 1]; got {deg!r}")
            other, _ = self._white_cached(v, e_all, opposite)
            white = 0.5 * (1.0 + deg) * white + 0.5 * (1.0 - deg) * other
        l3 = v["edge_offset"] + cen[0] + v["step_offset"]
        l2 = v["edge_offset"] + cen[1] + v["step_offset"]
        steps = edge_steps(e_all, l3, l2, v["step_fwhm"], ratio=v["step_ratio"], height=v["step_height"],
                           shape=self.step_shape)
        a = v["white_line_area"]
        return {"white_L3": a * white[0], "white_L2": a * white[1], "step_L3": steps["L3"],
                "step_L2": steps["L2"], "edge_L3": float(l3), "edge_L2": float(l2)}

    def yields(self, energies, values: Mapping[str, float], polarization="isotropic") -> dict:
        """Unscaled yield :math:`Y(E)` of every channel on ``energies`` (module notes), ``{name: array}``."""
        e = validate.energy_axis(energies, "energies")
        return self._yields(self.defaults() | dict(values), self._grid(e), polarization)

    def _yields(self, v, g: _Grid, polarization) -> dict:
        self.n_evaluations += 1
        p = self._parts(v, g.e_all, polarization)
        n3 = (p["white_L3"] + p["step_L3"])[g.back]        # back in the order energies, line energies
        n2 = (p["white_L2"] + p["step_L2"])[g.back]
        out = {}
        if self.sample is None:
            return {c: (n3 + n2)[:g.n] for c in self.channels}
        pk = v["packing"]
        d = v["thickness_nm"]
        sa = math.sin(math.radians(v["incidence_deg"]))
        sb = math.sin(math.radians(v["exit_deg"]))
        mu3, mu2 = pk * g.jump * n3, pk * g.jump * n2
        mu = pk * g.mu_b + mu3 + mu2
        n = g.n

        def depth(k):
            return 1.0 / k if math.isinf(d) else -np.expm1(-k * d) / k
        f23 = _ck23(self.sample.element)
        for cname, ch in self.channels.items():
            if ch.kind == "absorption":
                out[cname] = (n3 + n2)[:n]
            elif ch.kind == "TEY":
                lam = v["electron_escape_nm"]
                k = mu[:n] / sa + 1.0 / lam
                out[cname] = (pk * g.mu_b_photo[:n] + mu3[:n] + mu2[:n]) / sa * depth(k)
            else:
                y = np.zeros(n)
                nr = v[f"{cname}_nonresonant"]
                for (lc, energy, yld, shell, element), src in zip(self._lines, g.sources):
                    if lc != cname:
                        continue
                    mu_f = mu[n + g.line_index[energy]]
                    if src is None:
                        q = yld * (mu3[:n] + f23 * mu2[:n] if shell == "L3" else mu2[:n])
                    else:
                        q = nr * pk * src
                    y += q / sa * depth(mu[:n] / sa + mu_f / sb)
                out[cname] = y
        return out

    def predict(self, energies, values: Mapping[str, float], polarization="isotropic", scan: str = "",
                separate_scales: bool = False) -> dict:
        """Model data ``scale · Y + background`` of every channel, ``{name: Spectrum}``."""
        e = validate.energy_axis(energies, "energies", min_points=2)
        v = self.defaults() | {nm: 1.0 for nm in self.parameter_names((scan,), separate_scales)
                               if "_scale_" in nm}
        v.update(values)
        g = self._grid(e)
        ys = self._yields(v, g, polarization)
        return {c: Spectrum(e, self._scaled(v, c, ys[c], g, scan, separate_scales), label=f"model {c}",
                            meta={"channel": self.channels[c].kind, "polarization": str(polarization)})
                for c in self.channels}

    def _scaled(self, v, cname, y, g, scan, separate):
        sfx = f"_{scan}" if separate else ""
        order = self.channels[cname].background_order
        coef = [v.get(f"{cname}_bg{k}{sfx}", 0.0) for k in range(order + 1)]
        return v[f"{cname}_scale{sfx}"] * y + polynomial_background(g.energies, coef, g.centre, g.half_span)


def _default_bounds(nm: str) -> tuple:
    if nm.endswith("slater_scale") or nm.endswith("soc_scale"):
        return 0.3, 1.5
    if nm.endswith("exchange"):
        return -1.0, 1.0
    if nm.endswith("_fraction") or nm == "circular_degree":
        return 0.0, 1.0
    if nm.endswith("_shift"):
        return -10.0, 10.0
    if nm in ("l3_fwhm", "l2_fwhm", "gauss_fwhm", "white_line_area", "step_height", "electron_escape_nm"):
        return 0.0, math.inf
    if nm == "step_fwhm":
        return 0.01, 50.0
    if nm == "step_ratio":
        return 1e-3, 1e3
    if nm == "step_offset":
        return -10.0, 10.0
    if nm == "thickness_nm":
        return 1e-3, math.inf
    if nm == "packing":
        return 1e-4, 1.0
    if nm in ("incidence_deg", "exit_deg"):
        return 0.5, 90.0
    if "_scale" in nm or nm.endswith("_nonresonant"):
        return 0.0, math.inf
    return -math.inf, math.inf


_CK_CACHE: dict = {}


def _ck23(element: str) -> float:
    if element not in _CK_CACHE:
        import xraydb
        _CK_CACHE[element] = float(xraydb.ck_probability(element, "L2", "L3", total=True))
    return _CK_CACHE[element]


# ------------------------------------------------------------------------------------------- fitting
def fit_measured(scans, model: MeasuredModel, *, start: Optional[Mapping[str, float]] = None,
                 vary: Sequence[str] = (), bounds: Optional[Mapping[str, tuple]] = None, sigma="data",
                 energy_range: Optional[tuple] = None, separate_scales: bool = False, auto_start: bool = True,
                 max_nfev: Optional[int] = 4000, method: str = "leastsq", label: str = "",
                 memory_gb: float | None = None, blas_threads: int | None = None):
    """Fit the forward model to one or more scans with one or more channels each, jointly.

    Parameters
    ----------
    scans : MeasuredScan or sequence of MeasuredScan
        Every channel named in a scan must be a channel of ``model``.  Scans share every parameter but their
        polarisation (and, with ``separate_scales``, their channel scales and backgrounds).
    model : MeasuredModel
    start : mapping name → float
        Starting (or fixed) values; see :meth:`MeasuredModel.parameter_names`.
    vary : sequence of str
        Parameters to fit.  With ``auto_start`` every channel scale and background is fitted in any case.
    bounds : mapping name → (min, max)
        Overrides of the default bounds (None for open).
    sigma : {"data", "poisson"} or None
        ``"data"``: each Spectrum's ``sigma``; ``"poisson"``: counts (two-stage, module notes); None: σ = 1.
    energy_range : (float, float), optional
        Fit window (eV) applied to every data set.
    separate_scales : bool
        One scale and background per scan and channel (``tey_scale_<scan name>``) instead of per channel.
    auto_start : bool
        Start scales and backgrounds at their linear least-squares values for the starting physics, and vary
        them.
    max_nfev : int
    method : str
        lmfit method.
    label : str
        Label of the result.
    memory_gb : float, optional
        Budget (GB) of the optimiser's arrays (Jacobian and residuals), refused before the first evaluation
        (default :func:`rixsim.memory.default_budget_bytes`).
    blas_threads : int, optional
        Limit BLAS threads during the fit (1 on a shared machine; see :mod:`rixsim.analysis.fitting`, Speed).

    Returns
    -------
    rixsim.fit_result.FitResult
        ``kind="measured"``; ``data`` and ``best_fit`` are ``{"<scan>/<channel>": Spectrum}``;
        ``details`` holds ``n_diagonalisations``, ``scans`` (names and polarisations) and ``values``.

    Raises
    ------
    InputError
        Unknown names, missing σ, bad windows.
    ConvergenceError
        The optimiser failed.
    """
    import lmfit
    from rixsim.analysis.fit_result import from_minimizer

    if isinstance(scans, MeasuredScan):
        scans = [scans]
    scans = list(scans)
    if not scans or not all(isinstance(s, MeasuredScan) for s in scans):
        raise InputError("scans must be a MeasuredScan or a non-empty sequence of them")
    if not isinstance(model, MeasuredModel):
        raise InputError(f"model must be a MeasuredModel; got {type(model).__name__}")
    names = [s.name or f"scan{i}" for i, s in enumerate(scans)]
    if len(set(names)) != len(names):
        raise InputError(f"scan names must be distinct; got {names}")
    if separate_scales and not all(n.isidentifier() for n in names):
        raise InputError(f"with separate_scales the scan names must be identifiers; got {names}")
    if sigma not in ("data", "poisson", None):
        raise InputError(f"sigma must be 'data', 'poisson' or None; got {sigma!r}")
    separate_scales = validate.flag(separate_scales, "separate_scales")
    auto_start = validate.flag(auto_start, "auto_start")
    from rixsim.analysis.fitting import _fit_options
    max_nfev = _fit_options(max_nfev, method, None, False)
    if isinstance(vary, (str, bytes)) or not hasattr(vary, "__iter__"):
        raise InputError(f"vary must be a sequence of parameter names; got {vary!r} (one name: vary=[{vary!r}])")
    edge = dict(start or {}).get("edge_offset", model.cluster.defaults().get("edge_offset"))
    ion = getattr(model.cluster, "ion", "model's")
    sets = []          # (scan index, channel, grid, y, σ)
    for i, s in enumerate(scans):
        for cname, spec in s.channels.items():
            if cname not in model.channels:
                raise InputError(f"scan {names[i]!r} has channel {cname!r}, which the model does not have "
                                 f"(model channels: {list(model.channels)})")
            if isinstance(edge, (int, float)):      # keV, or another edge: warn before the absorption tables are asked
                validate.axis_near(spec.energy, edge - 15.0, edge + 30.0, f"scan {names[i]!r} channel {cname!r} "
                                   "energy", f"the {ion} L2,3 edge", 30.0)
            mask = validate.energy_window(energy_range, spec.energy, min_points=8)
            e, y = spec.energy[mask], spec.intensity[mask]
            if not np.any(y):
                raise InputError(f"scan {names[i]!r} channel {cname!r}: intensity is 0 at every point of the fit "
                                 "window; nothing to fit")
            if sigma == "data":
                if spec.sigma is None:
                    raise InputError(f"scan {names[i]!r} channel {cname!r} has no sigma; give Spectrum(sigma=...) "
                                     "or choose sigma='poisson' (counts) or None (unit weights)")
                sg = spec.sigma[mask]
                if (sg <= 0).any():
                    raise InputError(f"scan {names[i]!r} channel {cname!r}: sigma must be > 0 everywhere")
            elif sigma == "poisson":
                if (y < 0).any():
                    raise InputError(f"sigma='poisson' needs counts >= 0; {names[i]}/{cname} has negative values")
                sg = np.sqrt(y + 1.0)
            else:
                sg = np.ones_like(y)
            sets.append((i, cname, model._grid(np.ascontiguousarray(e)), y, sg))
    vary = list(vary)
    params = model.parameters(start, (), bounds, names, separate_scales)
    lin = [nm for nm in params if "_scale" in nm or "_bg" in nm]
    lin = [nm for nm in lin if not nm.endswith(("slater_scale", "soc_scale")) and (
        any(nm.startswith(f"{s[1]}_") for s in sets))]
    from rixsim import memory
    n_free = len(dict.fromkeys(vary + lin)) if auto_start else len(vary)
    n_pts = sum(st[3].size for st in sets)
    memory.plan(8 * n_pts * (2 * n_free + 8), f"a measured fit of {n_pts} points × {n_free} free parameters",
                memory_gb)              # before the first evaluation (the linear start is one)
    if blas_threads is not None:
        validate.integer(blas_threads, "blas_threads", lo=1)
    if auto_start:
        vary = list(dict.fromkeys(vary + lin))
        from rixsim.analysis.fitting import blas_limit
        with blas_limit(blas_threads):      # the linear start evaluates the model too
            _linear_start(model, params, scans, sets, names, separate_scales, dict(start or {}))
    for nm in vary:
        if nm not in params:
            raise InputError(f"unknown parameter {nm!r}; allowed: {list(params)}")
        if nm == "thickness_nm" and not math.isfinite(params[nm].value):
            raise InputError("thickness_nm = inf cannot be fitted; give a finite starting value")
        params[nm].set(vary=True)
    n_var = sum(p.vary for p in params.values())
    n_pts = sum(s[3].size for s in sets)
    if n_var == 0:
        raise InputError("no parameter is varied; name some in vary=")
    if n_pts <= n_var:
        raise InputError(f"{n_pts} data points cannot fix {n_var} free parameters")
    ev0, dg0 = model.n_evaluations, model.cluster.n_diagonalisations

    def model_all(pv):
        out = []
        cache = {}
        for i, cname, g, _, _ in sets:
            key = (i, id(g))
            if key not in cache:
                cache[key] = model._yields(pv, g, scans[i].polarization)
            out.append(model._scaled(pv, cname, cache[key][cname], g, names[i], separate_scales))
        return out

    y_all = np.concatenate([s[3] for s in sets])

    def run(params, sig_all, y_fit, stage="measured fit"):
        # model evaluations and χ²: a bar on a terminal, else a log line every few seconds (rixsim.progress)
        with progress.counter(stage, total=max_nfev, unit="eval", requested=None,
                              start=f"{n_var} free parameters, {n_pts} points in {len(sets)} data sets") as bar:
            def residual(p):
                r = (y_fit - np.concatenate(model_all(p.valuesdict()))) / sig_all
                bar.update(1, status=f"χ² = {float(np.dot(r, r)):.6g}")
                return r
            mini = lmfit.Minimizer(residual, params, scale_covar=False, nan_policy="raise")
            try:
                out = mini.minimize(method=method, max_nfev=max_nfev)
            except (ValueError, np.linalg.LinAlgError) as exc:
                raise ConvergenceError(f"the fit failed inside the optimiser: {exc}") from exc
        if not out.success:
            raise ConvergenceError(f"the fit did not converge after {out.nfev} evaluations: {out.message}")
        return out

    sig_all = np.concatenate([s[4] for s in sets])
    weighting = {"data": "given sigma", "poisson": "poisson", None: "unit"}[sigma]
    y_first = y_all + np.minimum(y_all, 1.0) if sigma == "poisson" else y_all   # Mighell's χ²γ first stage
    from rixsim.analysis.fitting import blas_limit
    with blas_limit(blas_threads):
        out = run(params, sig_all, y_first)
        nfev = out.nfev
        if sigma == "poisson":
            sig_all = np.sqrt(np.maximum(np.concatenate(model_all(out.params.valuesdict())), 0.5))
            out = run(out.params, sig_all, y_all, "measured fit (Poisson stage)")
            nfev += out.nfev
    best_v = out.params.valuesdict()
    best = model_all(best_v)
    res = (y_all - np.concatenate(best)) / sig_all
    data, fit = {}, {}
    for (i, cname, g, y, sg), b in zip(sets, best):
        key = f"{names[i]}/{cname}"
        data[key] = Spectrum(g.energies, y, label=key, sigma=sg)
        fit[key] = Spectrum(g.energies, b, label=f"model {key}")
    details = {"n_diagonalisations": model.cluster.n_diagonalisations - dg0, "values": dict(best_v),
               "scans": [(n, s.polarization) for n, s in zip(names, scans)], "separate_scales": separate_scales,
               "step_shape": model.step_shape}
    return from_minimizer(out, kind="measured", data=data, best_fit=fit, residual=res, weighting=weighting,
                          n_evaluations=model.n_evaluations - ev0, units=_UNITS,
                          label=label or f"{model.cluster.ion} {'+'.join(model.channels)}", details=details,
                          covariance_scaled=False)


def _linear_start(model, params, scans, sets, names, separate, given):
    """Scales and backgrounds at their (weighted) linear least-squares values for the starting physics."""
    v = params.valuesdict()
    groups: dict = {}
    for i, cname, g, y, sg in sets:
        sfx = f"_{names[i]}" if separate else ""
        ys = model._yields(v, g, scans[i].polarization)[cname]
        order = model.channels[cname].background_order
        u = (g.energies - g.centre) / g.half_span
        design = np.column_stack([ys] + [u ** k for k in range(order + 1)])
        groups.setdefault((cname, sfx), []).append((design / sg[:, None], y / sg))
    for (cname, sfx), rows in groups.items():
        a = np.vstack([r[0] for r in rows])
        b = np.concatenate([r[1] for r in rows])
        coef, *_ = np.linalg.lstsq(a, b, rcond=None)
        names_lin = [f"{cname}_scale{sfx}"] + [f"{cname}_bg{k}{sfx}" for k in range(a.shape[1] - 1)]
        for nm, c in zip(names_lin, coef):
            if nm in given:
                continue
            p = params[nm]
            c = float(np.clip(c, p.min, p.max))
            if nm.startswith(f"{cname}_scale") and c <= 0:
                log.warning("linear start of %s is not positive; the model does not follow the data's edge", nm)
                c = max(float(np.max(b)) / max(float(np.max(a[:, 0])), 1e-300), 1e-12)
            p.set(value=c)

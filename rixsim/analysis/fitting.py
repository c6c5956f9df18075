"""Fits of cluster-model parameters (10Dq, Slater scaling, Δ, widths, offset, scale, background) to a measured
XAS spectrum or a whole RIXS map, with lmfit.

Model of the data
-----------------
.. math::

    y_{\\rm model}(x) = s\\,S(x;\\ \\theta_H, \\theta_B) + b_0 + b_1 (x - \\bar x),

where :math:`S` is the simulated spectrum (:func:`rixsim.spectroscopy.xas.xas`) or map (:func:`rixsim.spectroscopy.rixs.rixs_map`),
:math:`\\theta_H` the *Hamiltonian* parameters (they change the eigenstates), :math:`\\theta_B` the parameters
applied after diagonalisation (edge offset, core-hole widths, instrumental and final-state widths, elastic
scale), :math:`s` the scale and :math:`b_0, b_1` a constant and linear background (``x`` the XAS energy or
the map's loss/emission axis; :math:`\\bar x` the middle of that axis).

Glossary of parameter names (all energies in eV)
------------------------------------------------
Hamiltonian (a change re-diagonalises; the :class:`~rixsim.cluster.transitions.EdgeTransitions` are cached on them):

* ``tendq`` (10Dq), ``ds``, ``dt`` (D4h), ``dsigma``, ``dtau`` (D3d) — crystal field, see
  :mod:`rixsim.cluster.crystal_field`.
* ``slater_scale`` — one factor on every tabulated Hartree–Fock F and G (default 0.8, as
  :func:`rixsim.cluster.model.atomic_model`); ``dd_scale`` (F²dd, F⁴dd) and ``pd_scale`` (F²pd, G¹pd, G³pd) override it
  per group; ``f2dd_scale``, ``f4dd_scale``, ``f2pd_scale``, ``g1pd_scale``, ``g3pd_scale`` override per
  integral (the parameterisation of Lajer et al., PRB 112, 155167 (2025)).
* ``soc_3d_scale``, ``soc_2p_scale`` — factors on the tabulated spin–orbit constants (default 1).
* ``delta``, ``udd``, ``upd``, ``veg``, ``vt2g``, ``tenq_ligand`` — charge transfer (``charge_transfer=True``),
  see :class:`rixsim.cluster.model.ChargeTransfer`; ``vt2g`` defaults to ``veg / 2``.

Applied after diagonalisation (no re-diagonalisation):

* ``edge_offset`` — absolute photon energy (eV) of the configuration-averaged 2p⁶dⁿ → 2p⁵dⁿ⁺¹ transition,
  on the data's energy (XAS) or excitation (map) axis.  For a map whose incident axis is relative to an unknown
  origin this *is* the incident-energy offset: the fitted value is on the data's relative scale.
* ``l3_fwhm``, ``l2_fwhm`` — Lorentzian FWHM of 2p₃/₂- and 2p₁/₂-hole states (states of mixed character get
  the weighted mean, as in :class:`rixsim.cluster.model.ClusterModel`).
* ``gauss_fwhm`` — XAS Gaussian instrument FWHM.  ``final_fwhm`` (Lorentzian) and ``resolution_fwhm``
  (Gaussian) — RIXS final-state and spectrometer FWHM on the loss axis.  ``elastic_scale`` — factor on the
  elastic-line part of the map (the measured elastic line also holds specular/diffuse scattering).
* ``scale``, ``background``, ``background_slope`` (per eV).

Weights and uncertainties
-------------------------
Residuals are :math:`(y - y_{\\rm model})/\\sigma` with a scalar or per-point σ, or ``None`` (unweighted, σ = 1).
For raw counts, ``sigma="poisson"`` fits in two stages: first Mighell's :math:`\\chi^2_\\gamma` (K. J. Mighell,
ApJ 518, 380 (1999)), :math:`\\sum_i (y_i + \\min(y_i, 1) - y_{\\rm model})^2 / (y_i + 1)`, nearly unbiased down to a
few counts per point (with the common :math:`\\sigma^2 = \\max(y, 1)` a background of 2 counts per pixel is fitted
≈ 1 count low); then a refit with σ² = max(μ̂, ``MU_FLOOR``) from the first stage's model — one step of
iteratively reweighted least squares towards the Poisson maximum likelihood, whose covariance is the Fisher
matrix (data-based weights alone understate σ by 5–15 % at ~10³ counts: 1σ coverage 0.63 instead of 0.68).
The covariance is lmfit's (``leastsq``:
:math:`(J^TJ)^{-1}` at the minimum); it is multiplied by the reduced χ² only when ``scale_covar`` is true —
by default only for unweighted fits, whose χ² has no absolute meaning.  ``r_factor`` is
:math:`\\sum (y - y_{\\rm model})^2 / \\sum y^2` over the fitted points (unweighted).
"""
from __future__ import annotations

import dataclasses
import logging
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Optional

import numpy as np

from rixsim import validate
from rixsim.cluster.crystal_field import CrystalField
from rixsim.cluster.transitions import EdgeTransitions
from rixsim.errors import ConvergenceError, InputError
from rixsim.results import RixsMap, Spectrum

__all__ = ["HAMILTONIAN_PARAMETERS", "SPECTRAL_PARAMETERS", "FitModel", "ModelFitResult", "fit_xas",
           "fit_rixs_map", "simulate_xas", "simulate_rixs_map", "guess_edge_offset"]

log = logging.getLogger(__name__)

_CF_NAMES = ("tendq", "ds", "dt", "dsigma", "dtau")
_SLATER_NAMES = ("slater_scale", "dd_scale", "pd_scale", "f2dd_scale", "f4dd_scale", "f2pd_scale", "g1pd_scale",
                 "g3pd_scale", "soc_3d_scale", "soc_2p_scale")
_CT_NAMES = ("delta", "udd", "upd", "veg", "vt2g", "tenq_ligand")
HAMILTONIAN_PARAMETERS = _CF_NAMES + _SLATER_NAMES + _CT_NAMES
SPECTRAL_PARAMETERS = ("edge_offset", "l3_fwhm", "l2_fwhm", "gauss_fwhm", "final_fwhm", "resolution_fwhm",
                       "elastic_scale", "scale", "background", "background_slope")
_XAS_ONLY = ("gauss_fwhm",)
_RIXS_ONLY = ("final_fwhm", "resolution_fwhm", "elastic_scale")
_CF_ALLOWED = {"Oh": ("tendq",), "D4h": ("tendq", "ds", "dt"), "D3d": ("tendq", "dsigma", "dtau")}
_DEFAULT_SLATER = 0.8      # as rixsim.cluster.model.DEFAULT_SLATER_SCALE
# the cached transitions carry these reference core-hole widths, from which each state's 2p3/2 character
# c is read back: fwhm_ref = c·1 + (1 − c)·2  →  c = 2 − fwhm_ref
_REF_L3, _REF_L2 = 1.0, 2.0
_WIDTH_NAMES = ("l3_fwhm", "l2_fwhm", "gauss_fwhm", "final_fwhm", "resolution_fwhm")
#: expected counts below which Poisson weights 1/μ are floored (second stage of a Poisson fit)
MU_FLOOR = 0.5


# ---------------------------------------------------------------------------------------------- the model
class FitModel:
    """A cluster model of one ion whose Hamiltonian is rebuilt from named parameters, with a cache of
    eigensystems keyed on those parameters.

    Parameters
    ----------
    ion : str
        E.g. ``"Ni2+"`` (reference tables of :mod:`rixsim.cluster.tables`).
    symmetry : {"Oh", "D4h", "D3d"}
        Crystal-field symmetry; decides which of ``tendq, ds, dt, dsigma, dtau`` may be used.
    charge_transfer : bool
        Add a ligand shell (``delta``, ``udd``, ``upd``, ``veg`` are then required parameters).
    n_ligand_holes : int
        Largest number of ligand holes of the charge-transfer basis (1 or 2).
    temperature_k : float
        Temperature (K) of the initial-state Boltzmann populations.
    max_initial_energy : float, optional
        Keep initial eigenstates up to this energy (eV above the ground state) as RIXS final states.
    cache_size : int
        Number of eigensystems kept (least recently used dropped first).
    fast_hamiltonian : bool
        Assemble each Hamiltonian as a precomputed affine combination of parameter terms (exact, see
        :meth:`_terms`) instead of rebuilding its operators; False uses :class:`ClusterModel` throughout.

    Notes
    -----
    ``n_evaluations`` counts spectra/maps computed, ``n_diagonalisations`` eigensystem computations (cache
    misses).  Parameters that only broaden, shift or scale never re-diagonalise.
    """

    def __init__(self, ion: str, *, symmetry: str = "Oh", charge_transfer: bool = False, n_ligand_holes: int = 2,
                 temperature_k: float = 0.0, max_initial_energy: Optional[float] = None, cache_size: int = 64,
                 fast_hamiltonian: bool = True):
        from rixsim.cluster.model import atomic_model
        if symmetry not in _CF_ALLOWED:
            raise InputError(f"symmetry must be one of {sorted(_CF_ALLOWED)}; got {symmetry!r}")
        if n_ligand_holes not in (1, 2):
            raise InputError(f"n_ligand_holes must be 1 or 2; got {n_ligand_holes!r}")
        self.ion = ion
        self.symmetry = symmetry
        self.charge_transfer = bool(charge_transfer)
        self.n_ligand_holes = int(n_ligand_holes)
        self.temperature_k = validate.nonnegative(temperature_k, "temperature_k", "K")
        self.max_initial_energy = max_initial_energy
        # unscaled Hartree–Fock values and the tabulated edge energy and widths
        self._hf = atomic_model(ion, slater_scale=1.0, soc_scale=1.0)
        self._tabulated = atomic_model(ion)
        self._cache: OrderedDict = OrderedDict()
        self._cache_size = max(1, int(cache_size))
        self.fast_hamiltonian = bool(fast_hamiltonian)
        self._affine = None
        self.n_evaluations = 0
        self.n_diagonalisations = 0

    # ---- parameters ---------------------------------------------------------------------------------
    def allowed_parameters(self, kind: str) -> tuple[str, ...]:
        """Names a fit of ``kind`` ("xas" or "rixs") accepts."""
        ham = _CF_ALLOWED[self.symmetry] + _SLATER_NAMES + (_CT_NAMES if self.charge_transfer else ())
        drop = _RIXS_ONLY if kind == "xas" else _XAS_ONLY
        return ham + tuple(p for p in SPECTRAL_PARAMETERS if p not in drop)

    def defaults(self, kind: str) -> dict:
        """Starting values used for parameters a fit does not set (eV; tabulated edge and widths)."""
        d = {"tendq": 0.0, "ds": 0.0, "dt": 0.0, "dsigma": 0.0, "dtau": 0.0, "slater_scale": _DEFAULT_SLATER,
             "soc_3d_scale": 1.0, "soc_2p_scale": 1.0, "tenq_ligand": 0.0,
             "edge_offset": self._tabulated.edge_offset, "l3_fwhm": self._tabulated.l3_fwhm,
             "l2_fwhm": self._tabulated.l2_fwhm, "gauss_fwhm": 0.2, "final_fwhm": 0.05, "resolution_fwhm": 0.1,
             "elastic_scale": 1.0, "scale": 1.0, "background": 0.0, "background_slope": 0.0}
        allowed = set(self.allowed_parameters(kind))
        return {k: v for k, v in d.items() if k in allowed}

    def _hamiltonian_key(self, values: Mapping[str, float]) -> tuple:
        return tuple((k, float(values[k])) for k in sorted(values) if k in HAMILTONIAN_PARAMETERS)

    def cluster_model(self, values: Mapping[str, float]):
        """The :class:`~rixsim.cluster.model.ClusterModel` for these Hamiltonian parameter values (others ignored)."""
        from rixsim.cluster.model import ChargeTransfer, Multiplet

        v = dict(values)
        unknown = [k for k in v if k not in HAMILTONIAN_PARAMETERS and k not in SPECTRAL_PARAMETERS]
        if unknown:
            raise InputError(f"unknown fit parameter(s) {unknown}; allowed: {list(self.allowed_parameters('rixs'))}"
                             f" and {list(_XAS_ONLY)}")
        bad_cf = [k for k in _CF_NAMES if k in v and k not in _CF_ALLOWED[self.symmetry] and v[k] != 0.0]
        if bad_cf:
            raise InputError(f"{bad_cf} do not belong to symmetry {self.symmetry!r}, which takes "
                             f"{list(_CF_ALLOWED[self.symmetry])}")
        base = v.get("slater_scale", _DEFAULT_SLATER)

        def sc(name, group):
            return v.get(f"{name}_scale", v.get(group, base))

        def scaled(m: Multiplet) -> Multiplet:
            return Multiplet(m.f2dd * sc("f2dd", "dd_scale"), m.f4dd * sc("f4dd", "dd_scale"),
                             m.f2pd * sc("f2pd", "pd_scale"), m.g1pd * sc("g1pd", "pd_scale"),
                             m.g3pd * sc("g3pd", "pd_scale"), m.zeta_3d * v.get("soc_3d_scale", 1.0),
                             m.zeta_2p * v.get("soc_2p_scale", 1.0))
        cf_kw = {k: float(v.get(k, 0.0)) for k in _CF_ALLOWED[self.symmetry]}
        ct = None
        if self.charge_transfer:
            missing = [k for k in ("delta", "udd", "upd", "veg") if k not in v]
            if missing:
                raise InputError(f"a charge-transfer fit needs starting values of {missing} (eV)")
            ct = ChargeTransfer(float(v["delta"]), float(v["udd"]), float(v["upd"]), float(v["veg"]),
                                float(v.get("vt2g", 0.5 * v["veg"])), float(v.get("tenq_ligand", 0.0)),
                                self.n_ligand_holes)
        return self._hf.with_parameters(initial=scaled(self._hf.initial), core_excited=scaled(self._hf.core_excited),
                                        crystal_field=CrystalField(self.symmetry, **cf_kw), charge_transfer=ct,
                                        l3_fwhm=_REF_L3, l2_fwhm=_REF_L2)

    # ---- the Hamiltonian as an affine function of its parameters ---------------------------------------
    def _raw_values(self, values: Mapping[str, float]) -> dict:
        """The model's own parameters (scaled F, G, ζ per sector; crystal field; charge transfer) in eV."""
        m = self.cluster_model(values)
        raw = {}
        for sector, mult in (("initial", m.initial), ("core", m.core_excited)):
            for k, val in dataclasses.asdict(mult).items():
                raw[(sector, k)] = float(val)
        for k in _CF_ALLOWED[self.symmetry]:
            raw[("cf", k)] = float(getattr(m.crystal_field, k))
        if m.charge_transfer is not None:
            for k in _CT_NAMES:
                raw[("ct", k)] = float(getattr(m.charge_transfer, k))
        return raw

    def _model_from_raw(self, raw: Mapping[tuple, float]):
        from rixsim.cluster.model import ChargeTransfer, Multiplet
        mult = {s: Multiplet(**{k: raw.get((s, k), 0.0) for k in Multiplet.__dataclass_fields__})
                for s in ("initial", "core")}
        cf = CrystalField(self.symmetry, **{k: raw.get(("cf", k), 0.0) for k in _CF_ALLOWED[self.symmetry]})
        ct = None
        if self.charge_transfer:
            ct = ChargeTransfer(*(raw.get(("ct", k), 0.0) for k in _CT_NAMES), self.n_ligand_holes)
        return self._hf.with_parameters(initial=mult["initial"], core_excited=mult["core"], crystal_field=cf,
                                        charge_transfer=ct, l3_fwhm=_REF_L3, l2_fwhm=_REF_L2)

    def _terms(self):
        """``H(θ) = H_0 + Σ_k θ_k H_k`` for each sector — exact: every term of :meth:`ClusterModel.hamiltonian`,
        including the on-site energies fixed by Δ, Udd, Upd and the configuration averages, is linear in the
        raw parameters θ.  Built once by probing the model with unit parameters."""
        if getattr(self, "_affine", None) is not None:
            return self._affine
        names = list(self._raw_values(self.defaults("rixs") | self._ct_probe()).keys())
        zero = self._model_from_raw({})
        affine = {}
        for core in (False, True):
            basis, h0 = zero.hamiltonian(core)
            sector = "core" if core else "initial"
            terms = []
            for nm in names:
                if nm[0] in ("initial", "core") and nm[0] != sector:
                    continue
                _, h1 = self._model_from_raw({nm: 1.0}).hamiltonian(core)
                hk = (h1 - h0).tocsr()
                hk.data[np.abs(hk.data) < 1e-12] = 0.0
                hk.eliminate_zeros()
                if hk.nnz:
                    terms.append((nm, hk))
            affine[core] = (basis, h0.tocsr(), terms)
        self._affine = affine
        self._dipoles = zero.dipole_operators()
        return affine

    def _ct_probe(self) -> dict:
        return {"delta": 0.0, "udd": 0.0, "upd": 0.0, "veg": 0.0} if self.charge_transfer else {}

    def reference_transitions(self, values: Mapping[str, float]) -> EdgeTransitions:
        """Eigenstates and dipoles for the Hamiltonian parameters in ``values`` (cached), with the reference
        core-hole widths (1 eV for pure 2p₃/₂ holes, 2 eV for pure 2p₁/₂)."""
        key = self._hamiltonian_key(values)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        model = self.cluster_model(values)
        if self.fast_hamiltonian:
            raw = self._raw_values(values)
            sectors = {}
            for core, (basis, h0, terms) in self._terms().items():
                h = h0.copy()
                for nm, hk in terms:
                    if raw[nm] != 0.0:
                        h = h + raw[nm] * hk
                h.eliminate_zeros()
                sectors[core] = h
            model.use_hamiltonians(sectors[False], sectors[True], self._dipoles)
        tr = model.transitions(self.temperature_k, self.max_initial_energy)
        self.n_diagonalisations += 1
        self._cache[key] = tr
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return tr

    def transitions(self, values: Mapping[str, float]) -> EdgeTransitions:
        """:class:`EdgeTransitions` with ``edge_offset``, ``l3_fwhm`` and ``l2_fwhm`` of ``values`` applied
        (defaults: tabulated) — no re-diagonalisation when only those change."""
        tr = self.reference_transitions(values)
        d = self._tabulated
        l3 = float(values.get("l3_fwhm", d.l3_fwhm))
        l2 = float(values.get("l2_fwhm", d.l2_fwhm))
        c32 = np.clip((_REF_L2 - tr.intermediate_fwhm) / (_REF_L2 - _REF_L3), 0.0, 1.0)
        fwhm = np.maximum(c32 * l3 + (1.0 - c32) * l2, 0.0)
        return dataclasses.replace(tr, intermediate_fwhm=fwhm,
                                   edge_offset=float(values.get("edge_offset", d.edge_offset)))

    # ---- spectra ------------------------------------------------------------------------------------
    def xas(self, energies, values: Mapping[str, float], polarization="isotropic") -> np.ndarray:
        """Model XAS ``s·S + b0 + b1 (E − Ē)`` on ``energies`` (absolute eV, increasing)."""
        from rixsim.spectroscopy.xas import xas
        v = self._complete(values, "xas")
        e = np.asarray(energies, dtype=float)
        spec = xas(self.transitions(v), e, polarization=polarization, temperature_k=self.temperature_k,
                   gauss_fwhm=v["gauss_fwhm"])
        self.n_evaluations += 1
        return v["scale"] * spec.intensity + _background(e, v)

    def rixs(self, excitation, second, values: Mapping[str, float], *, on_loss_axis: bool = True,
             **rixs_kwargs) -> np.ndarray:
        """Model map ``s·(inelastic + elastic_scale·elastic) + b0 + b1 (x − x̄)`` of shape
        (n_excitation, n_second); ``second`` is the loss (relative eV) or emission (absolute eV) axis."""
        from rixsim.spectroscopy.rixs import rixs_map
        v = self._complete(values, "rixs")
        axis_kw = {"loss": second} if on_loss_axis else {"emission": second}
        m = rixs_map(self.transitions(v), excitation, final_fwhm=v["final_fwhm"],
                     resolution_fwhm=v["resolution_fwhm"], **axis_kw, **rixs_kwargs)
        self.n_evaluations += 1
        z = m.intensity
        if m.elastic is not None and v["elastic_scale"] != 1.0:
            z = z + (v["elastic_scale"] - 1.0) * m.elastic
        return v["scale"] * z + _background(np.asarray(second, dtype=float), v)[None, :]

    def _complete(self, values, kind):
        v = self.defaults(kind)
        v.update(values)
        for k in _WIDTH_NAMES:
            if k in v and (not np.isfinite(v[k]) or v[k] < 0):
                raise InputError(f"{k} must be finite and >= 0 eV; got {v[k]!r}")
        return v


def _background(x: np.ndarray, v: Mapping[str, float]) -> np.ndarray:
    xc = 0.5 * (x[0] + x[-1])
    return v.get("background", 0.0) + v.get("background_slope", 0.0) * (x - xc)


def simulate_xas(model: FitModel, energies, values: Mapping[str, float], polarization="isotropic") -> Spectrum:
    """Noise-free model XAS as a :class:`Spectrum` (absolute energies, eV) — e.g. to make synthetic data."""
    e = validate.energy_axis(energies, "energies", min_points=2)
    y = model.xas(e, values, polarization)
    return Spectrum(e, y, label=f"{model.ion} model XAS", meta={"values": dict(values)})


def simulate_rixs_map(model: FitModel, excitation, *, loss=None, emission=None,
                      values: Mapping[str, float], **rixs_kwargs) -> RixsMap:
    """Noise-free model map as a :class:`RixsMap` on the given axes (loss relative, others absolute eV)."""
    exc = validate.energy_axis(excitation, "excitation")
    if (loss is None) == (emission is None):
        raise InputError("give exactly one of loss (relative, eV) or emission (absolute, eV)")
    second = validate.energy_axis(loss if loss is not None else emission, "loss" if loss is not None else "emission",
                                  min_points=2)
    z = model.rixs(exc, second, values, on_loss_axis=loss is not None, **rixs_kwargs)
    if loss is not None:
        return RixsMap(exc, None, z, loss=second, label=f"{model.ion} model map", meta={"values": dict(values)})
    return RixsMap(exc, second, z, label=f"{model.ion} model map", meta={"values": dict(values)})


# --------------------------------------------------------------------------------------------- the result
@dataclass(frozen=True, eq=False)   # arrays inside: element-wise == would be ambiguous
class ModelFitResult:
    """Result of :func:`fit_xas` or :func:`fit_rixs_map`.

    Attributes
    ----------
    values : mapping name → float
        Every parameter of the fit (varied and fixed), eV where an energy.
    sigmas : mapping name → float
        1σ uncertainty of each parameter (0 for fixed ones).
    varied : tuple of str
        Names of the varied parameters, in the order of ``covariance`` and ``correlation``.
    covariance, correlation : ndarray, shape (n_varied, n_varied)
    chi_square, reduced_chi_square : float
        Weighted χ² and χ²/(N − n_varied).
    r_factor : float
        :math:`\\sum (y - y_{model})^2 / \\sum y^2` (unweighted).
    n_points : int
    weighting : str
        "poisson", "user" or "unweighted".
    covariance_scaled : bool
        Whether the covariance was multiplied by the reduced χ².
    best_fit : Spectrum or RixsMap
        The model at the best-fit values on the data's axes.
    residual : ndarray
        Weighted residual (y − y_model)/σ, shape of the data (Poisson: σ = √μ̂ of the second stage).
    n_evaluations, n_diagonalisations : int
        Spectra/maps computed and eigensystems computed during this fit.
    message : str
        lmfit's message.
    at_bounds : tuple of str
        Varied parameters that ended within 1e-4 (relative to the bound interval or the value) of a bound:
        their σ describe a constrained fit and deserve suspicion.
    report : str
        lmfit's fit report.
    """

    values: Mapping[str, float]
    sigmas: Mapping[str, float]
    varied: tuple
    covariance: np.ndarray
    correlation: np.ndarray
    chi_square: float
    reduced_chi_square: float
    r_factor: float
    n_points: int
    weighting: str
    covariance_scaled: bool
    best_fit: Any
    residual: np.ndarray
    n_evaluations: int
    n_diagonalisations: int
    message: str = ""
    at_bounds: tuple = ()
    report: str = field(default="", repr=False)

    def correlation_of(self, a: str, b: str) -> float:
        """Correlation coefficient of two varied parameters."""
        for nm in (a, b):
            if nm not in self.varied:
                raise InputError(f"{nm!r} was not varied; varied parameters: {list(self.varied)}")
        return float(self.correlation[self.varied.index(a), self.varied.index(b)])


# ------------------------------------------------------------------------------------------------ fitting
def _sigma(sigma, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """(σ, the data the residual uses, weighting name); Poisson: Mighell's χ²γ (module docstring)."""
    if sigma is None:
        return np.ones_like(y), y, "unweighted"
    if isinstance(sigma, str):
        if sigma != "poisson":
            raise InputError(f"sigma must be 'poisson', None, a number or an array; got {sigma!r}")
        if (y < 0).any():
            raise InputError("sigma='poisson' needs non-negative counts; the data have negative values")
        return np.sqrt(y + 1.0), y + np.minimum(y, 1.0), "poisson"
    s = np.asarray(sigma, dtype=float)
    try:
        s = np.broadcast_to(s, y.shape).astype(float)
    except ValueError:
        raise InputError(f"sigma has shape {s.shape}; the data have shape {y.shape}") from None
    if not np.all(np.isfinite(s)) or (s <= 0).any():
        raise InputError("sigma must be finite and > 0 everywhere")
    return s, y, "user"


def _parameters(model: FitModel, kind: str, start, vary):
    """lmfit.Parameters from ``start`` (name → value, or lmfit.Parameters) and ``vary`` (names or name → bounds)."""
    import lmfit

    allowed = model.allowed_parameters(kind)
    defaults = model.defaults(kind)
    if isinstance(start, lmfit.Parameters):
        params = start.copy()
        for nm in params:
            if nm not in allowed:
                raise InputError(f"unknown {kind} fit parameter {nm!r}; allowed: {list(allowed)}")
        for nm, val in defaults.items():
            if nm not in params:
                params.add(nm, value=val, vary=False)
        if vary is not None:
            raise InputError("give bounds and vary flags in the lmfit.Parameters, not in vary=")
        return params
    start = dict(start or {})
    if isinstance(vary, Mapping):
        bounds = dict(vary)
    else:
        bounds = {nm: None for nm in (vary or ())}
    for nm in list(start) + list(bounds):
        if nm not in allowed:
            raise InputError(f"unknown {kind} fit parameter {nm!r} for {model.ion} in {model.symmetry}"
                             f"{' with charge transfer' if model.charge_transfer else ''}; allowed: {list(allowed)}")
    values = dict(defaults)
    values.update({k: float(v) for k, v in start.items()})
    missing = [nm for nm in bounds if nm not in values]
    if missing:
        raise InputError(f"vary names {missing} without a starting value; give them in start=")
    params = lmfit.Parameters()
    for nm, val in values.items():
        if not np.isfinite(val):
            raise InputError(f"start value of {nm} must be finite; got {val!r}")
        lo, hi = -np.inf, np.inf
        if nm in _WIDTH_NAMES or nm.endswith("_scale"):
            lo = 0.0
        b = bounds.get(nm)
        if b is not None:
            try:
                lo_b, hi_b = b
            except (TypeError, ValueError):
                raise InputError(f"bounds of {nm} must be (min, max) with None for open; got {b!r}") from None
            lo = lo if lo_b is None else float(lo_b)
            hi = hi if hi_b is None else float(hi_b)
            if not lo < hi or not lo <= val <= hi:
                raise InputError(f"bounds of {nm} must satisfy min < max and contain the start {val}; got {b!r}")
        params.add(nm, value=val, vary=nm in bounds, min=lo, max=hi)
    return params


def _minimise(evaluate, params, ydat, sig, scale_covar, max_nfev, method):
    import lmfit

    def residual(p):
        return np.ravel((ydat - evaluate(p.valuesdict())) / sig)
    from rixsim import progress
    bar = None
    if progress.enabled(None):                 # a bar of model evaluations, only on a terminal
        from tqdm.auto import tqdm
        bar = tqdm(desc="fit", unit="eval", total=max_nfev, file=sys.stderr, leave=False)
    def tick(*args, **kws):
        bar.update(1)
        return None                            # lmfit aborts the fit when iter_cb returns True

    mini = lmfit.Minimizer(residual, params, scale_covar=bool(scale_covar), nan_policy="raise",
                           iter_cb=tick if bar is not None else None)
    try:
        out = mini.minimize(method=method, max_nfev=max_nfev)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise ConvergenceError(f"the fit failed inside the optimiser: {exc}") from exc
    finally:
        if bar is not None:
            bar.close()
    if not out.success:
        last = {nm: round(float(p.value), 6) for nm, p in out.params.items() if p.vary}
        raise ConvergenceError(f"the fit did not converge after {out.nfev} model evaluations: {out.message}; "
                               "try better starting values, tighter bounds, fewer free parameters or a larger "
                               f"max_nfev. Last values: {last}")
    return out


def _run(evaluate, params, model: FitModel, y: np.ndarray, yfit: np.ndarray, sig: np.ndarray, weighting: str,
         scale_covar, max_nfev, method: str, make_best, counts0: tuple):
    import lmfit

    n_varied = sum(p.vary for p in params.values())
    if n_varied == 0:
        raise InputError("no parameter is varied; name some in vary=")
    if y.size <= n_varied:
        raise InputError(f"{y.size} data points cannot fix {n_varied} free parameters")
    if scale_covar is None:
        scale_covar = weighting == "unweighted"
    ev0, dg0 = counts0
    out = _minimise(evaluate, params, yfit, sig, scale_covar, max_nfev, method)
    if weighting == "poisson":
        # second stage: weights from the first stage's model, σ² = max(μ̂, MU_FLOOR) — one step of iteratively
        # reweighted least squares towards the Poisson maximum likelihood; its covariance is the Fisher matrix
        sig = np.sqrt(np.maximum(evaluate(out.params.valuesdict()), MU_FLOOR))
        yfit = y
        out = _minimise(evaluate, out.params, yfit, sig, scale_covar, max_nfev, method)
    varied = tuple(out.var_names)
    at_bound = tuple(nm for nm in varied if _at_bound(out.params[nm]))
    last = {nm: round(float(out.params[nm].value), 6) for nm in varied}
    if not out.errorbars or out.covar is None:
        hint = f" (at a bound: {list(at_bound)})" if at_bound else ""
        raise ConvergenceError("the fit converged but its uncertainties could not be estimated (singular or "
                               f"indefinite covariance{hint}); a parameter is undetermined by these data or "
                               f"degenerate with another — fix it or widen the data range. Last values: {last}")
    cov = np.asarray(out.covar, dtype=float)
    sd = np.sqrt(np.diag(cov))
    if not np.all(np.isfinite(sd)) or (sd <= 0).any():
        raise ConvergenceError(f"non-finite or zero uncertainties {dict(zip(varied, sd))}")
    corr = cov / np.outer(sd, sd)
    values = {nm: float(p.value) for nm, p in out.params.items()}
    sigmas = {nm: 0.0 for nm in values}
    sigmas.update({nm: float(s) for nm, s in zip(varied, sd)})
    best = make_best(values)
    res = (yfit - best.intensity) / sig
    r_factor = float(np.sum((y - best.intensity) ** 2) / np.sum(y ** 2))
    chi2 = float(np.sum(res ** 2))
    return ModelFitResult(
        values=MappingProxyType(values), sigmas=MappingProxyType(sigmas), varied=varied, covariance=_ro(cov),
        correlation=_ro(corr), chi_square=chi2, reduced_chi_square=chi2 / (y.size - len(varied)),
        r_factor=r_factor, n_points=int(y.size), weighting=weighting, covariance_scaled=bool(scale_covar),
        best_fit=best, residual=_ro(res), n_evaluations=model.n_evaluations - ev0,
        n_diagonalisations=model.n_diagonalisations - dg0, message=str(out.message), at_bounds=at_bound,
        report=lmfit.fit_report(out))


def _at_bound(p) -> bool:
    lo, hi = p.min, p.max
    span = (hi - lo) if np.isfinite(lo) and np.isfinite(hi) else max(abs(p.value), 1.0)
    tol = 1e-4 * span
    return bool((np.isfinite(lo) and p.value - lo <= tol) or (np.isfinite(hi) and hi - p.value <= tol))


def _ro(a) -> np.ndarray:
    a = np.array(a, dtype=float, copy=True)
    a.setflags(write=False)
    return a


def fit_xas(data: Spectrum, model: FitModel, *, start: Mapping[str, float] | None = None, vary=None,
            sigma="poisson", energy_range: tuple[float, float] | None = None, polarization="isotropic",
            scale_covar: bool | None = None, allow_negative: bool = False, max_nfev: int | None = 2000,
            method: str = "leastsq") -> ModelFitResult:
    """Fit model parameters to a measured XAS spectrum.

    Parameters
    ----------
    data : Spectrum
        Measured spectrum on an absolute photon-energy axis (eV).
    model : FitModel
        Ion, symmetry and charge-transfer setup; its eigensystem cache is reused across fits.
    start : mapping name → float
        Starting (or fixed) values; unnamed parameters take :meth:`FitModel.defaults`.
    vary : iterable of names, or mapping name → (min, max)
        Parameters to fit (bounds ``None`` for open; widths and scales are kept ≥ 0 in any case).
    sigma : "poisson", None, float or array
        See the module docstring.
    energy_range : (float, float), optional
        Fit window in absolute eV.
    polarization : str or 3-vector
        As :func:`rixsim.spectroscopy.xas.xas`.
    scale_covar : bool, optional
        Rescale the covariance by χ²ᵣ (default: only for ``sigma=None``).
    allow_negative : bool
        Accept negative intensities (e.g. background-subtracted data; not with ``sigma="poisson"``).
    max_nfev : int
        Limit on model evaluations.

    Returns
    -------
    ModelFitResult

    Raises
    ------
    InputError
        Bad data, names, bounds or σ.
    ConvergenceError
        No convergence, or uncertainties that cannot be estimated.
    """
    if not isinstance(data, Spectrum):
        raise InputError(f"data must be a Spectrum; got {type(data).__name__}")
    if not isinstance(model, FitModel):
        raise InputError(f"model must be a FitModel; got {type(model).__name__}")
    counts0 = (model.n_evaluations, model.n_diagonalisations)
    e = validate.energy_axis(data.energy, "data energy", min_points=2)
    y = validate.intensities(data.intensity, "data intensity", allow_negative=allow_negative)
    sig_all, yfit_all, weighting = _sigma(sigma, y)
    mask = validate.energy_window(energy_range, e, min_points=2)
    e, y, yfit, sig = e[mask], y[mask], yfit_all[mask], sig_all[mask]
    params = _parameters(model, "xas", start, vary)
    if start is None or "scale" not in dict(start) and not _is_lmfit(start):
        _auto_scale(params, lambda v: model.xas(e, v, polarization), yfit, sig)

    def evaluate(v):
        return model.xas(e, v, polarization)

    def make_best(values):
        return Spectrum(e, evaluate(values), label=f"{model.ion} fit", meta={"values": values})
    return _run(evaluate, params, model, y, yfit, sig, weighting, scale_covar, max_nfev, method, make_best, counts0)


def _is_lmfit(obj) -> bool:
    import lmfit
    return isinstance(obj, lmfit.Parameters)


def _auto_scale(params, evaluate, y, sig):
    """Start the scale at the linear least-squares value (data and simulation differ in units)."""
    v = params.valuesdict()
    f = np.asarray(evaluate(dict(v, scale=1.0, background=0.0, background_slope=0.0)))
    rest = y - (np.asarray(evaluate(v)) - v["scale"] * f)      # data minus the background
    den = float(np.sum((f / sig) ** 2))
    if den > 0:
        s = float(np.sum(f * rest / sig ** 2) / den)
        p = params["scale"]
        if s > 0 and p.min <= s <= p.max:
            p.set(value=s)


def fit_rixs_map(data: RixsMap, model: FitModel, *, start: Mapping[str, float] | None = None, vary=None,
                 sigma="poisson", scale_covar: bool | None = None, allow_negative: bool = False,
                 max_nfev: int | None = 2000, method: str = "leastsq", **rixs_kwargs) -> ModelFitResult:
    """Fit model parameters to a whole RIXS map (2-D residual).

    Parameters
    ----------
    data : RixsMap
        Measured map on an excitation axis (eV; absolute, or relative to an unknown origin — then fit
        ``edge_offset``) and a loss (relative eV) or emission (absolute eV) axis.
    model : FitModel
    start, vary, sigma, scale_covar, allow_negative, max_nfev
        As :func:`fit_xas`.
    **rixs_kwargs
        Passed to :func:`rixsim.spectroscopy.rixs.rixs_map` (``geometry``, ``polarization_in``, ``polarization_out``,
        ``powder``, ``elastic``, ``margin_fwhm`` ...).

    Returns
    -------
    ModelFitResult
        ``best_fit`` is a :class:`RixsMap` on the data's axes.

    Raises
    ------
    InputError, ConvergenceError
        As :func:`fit_xas`.
    """
    if not isinstance(data, RixsMap):
        raise InputError(f"data must be a RixsMap; got {type(data).__name__}")
    if not isinstance(model, FitModel):
        raise InputError(f"model must be a FitModel; got {type(model).__name__}")
    counts0 = (model.n_evaluations, model.n_diagonalisations)
    for k in ("final_fwhm", "resolution_fwhm", "loss", "emission"):
        if k in rixs_kwargs:
            raise InputError(f"{k} is a fit parameter or set by the data; not a rixs_map keyword here")
    exc = validate.energy_axis(data.excitation, "data excitation")
    on_loss = data.on_loss_axis
    second = validate.energy_axis(data.loss if on_loss else data.emission, "data loss" if on_loss else
                                  "data emission", min_points=2)
    y = validate.intensities(data.intensity, "data intensity", allow_negative=allow_negative)
    if y.shape != (exc.size, second.size):
        raise InputError(f"map intensity has shape {y.shape}; axes need {(exc.size, second.size)}")
    sig, yfit, weighting = _sigma(sigma, y)
    params = _parameters(model, "rixs", start, vary)

    def evaluate(v):
        return model.rixs(exc, second, v, on_loss_axis=on_loss, **rixs_kwargs)
    if start is None or "scale" not in dict(start) and not _is_lmfit(start):
        _auto_scale(params, evaluate, yfit, sig)

    def make_best(values):
        z = evaluate(values)
        if on_loss:
            return RixsMap(exc, None, z, loss=second, label=f"{model.ion} fit", meta={"values": values})
        return RixsMap(exc, second, z, label=f"{model.ion} fit", meta={"values": values})
    return _run(evaluate, params, model, y, yfit, sig, weighting, scale_covar, max_nfev, method, make_best, counts0)


def guess_edge_offset(data, model: FitModel, values: Mapping[str, float] | None = None, **rixs_kwargs) -> float:
    """Edge offset (eV, on the data's axis) that best matches the model's absorption (XAS) or its
    incident-energy profile (map, summed over the second axis) to the data's, scale free.

    Least squares over shifts on a 0.02 eV grid within ±3 eV of the peak-to-peak match; a starting value of
    ``edge_offset`` when the data's energy axis is relative to an unknown origin.  A map on an emission axis
    (absolute) is compared at emission energies near the tabulated edge.
    """
    v = dict(values or {})
    v.update(scale=1.0, background=0.0, background_slope=0.0)
    base = 0.0
    if isinstance(data, Spectrum):
        x, prof = data.energy, data.intensity
        e_mod = np.linspace(-60.0, 60.0, 6001)      # relative to the configuration-averaged edge
        sim = model.xas(e_mod, dict(v, edge_offset=0.0))
    elif isinstance(data, RixsMap):
        x, prof = data.excitation, data.intensity.sum(axis=1)
        second = data.loss if data.on_loss_axis else data.emission
        if not data.on_loss_axis:                  # emission is absolute: the model must sit near it
            base = model.defaults("rixs")["edge_offset"]
        e_mod = base + np.linspace(-40.0, 40.0, 801)
        sim = model.rixs(e_mod, second, dict(v, edge_offset=base), on_loss_axis=data.on_loss_axis,
                         **rixs_kwargs).sum(axis=1)
    else:
        raise InputError(f"data must be a Spectrum or a RixsMap; got {type(data).__name__}")
    if not np.any(sim > 0):
        raise InputError("the model has no intensity on these axes; give edge_offset yourself")
    start = base + float(x[np.argmax(prof)] - e_mod[np.argmax(sim)])
    best, best_cost = start, np.inf
    for d in np.arange(start - 3.0, start + 3.0001, 0.02):
        s_ = np.interp(x - (d - base), e_mod, sim)
        den = float(s_ @ s_)
        if den <= 0:
            continue
        cost = float(np.sum((prof - (float(s_ @ prof) / den) * s_) ** 2))
        if cost < best_cost:
            best, best_cost = float(d), cost
    return best

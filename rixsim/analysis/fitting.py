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

* ``tendq`` (10Dq), ``ds``, ``dt`` (D4h, C4v), ``dsigma``, ``dtau`` (D3d), ``ds``, ``dt``, ``b22``, ``b42``
  (D2h) — crystal field, see :mod:`rixsim.cluster.crystal_field`; Td takes ``tendq`` = E(t₂) − E(e)
  (> 0 for a tetrahedron).
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
* ``scale``, ``background``, ``background_slope`` (per eV).  Every width, every ``*_scale`` and ``scale`` itself
  are kept ≥ 0.
* ``edge_step`` (XAS) — height (data units, ≥ 0) of the 2p → continuum steps of
  :func:`rixsim.analysis.edge_step.edge_steps` (arctan, L3 : L2 = 2 : 1) at the model's L3 and L2 centroids;
  ``step_fwhm`` their width (default 1 eV).

Speed
-----
Only the Hamiltonian parameters change eigenstates; everything else is one broadening of cached sticks.  The
Hamiltonian of each sector is exactly affine in the model's raw parameters, :math:`H = H_0 + \\sum_k \\theta_k
H_k`; the terms are probed once per :class:`FitModel`, cut into the symmetry blocks of their joint sparsity
pattern and kept dense, so a new eigensystem costs the dense sums and one real LAPACK ``eigh`` (MRRR,
``driver="evr"``) per block, with the dipoles projected onto the populated initial states only (XAS).
Eigensystems are cached on the Hamiltonian parameter values (``cache_size``).  ``benchmarks/bench_fit.py``
compares this with :class:`ClusterModel` rebuilding its operators and with a naive rebuild per evaluation.
The blocks are small (≲ 300 states for d⁵), where a multi-threaded BLAS on a busy machine is far slower than
one thread (Fe³⁺, 2 cores at load 15: 7.4 s per eigensystem with OpenBLAS's default threads, 0.3 s with
``OPENBLAS_NUM_THREADS=1``): on a shared machine run fits with one BLAS thread — ``blas_threads=1`` of
:func:`fit_xas`, :func:`fit_rixs_map` and :func:`rixsim.analysis.measured.fit_measured` does it for the fit
alone (threadpoolctl; the environment variable is read only once, when numpy loads, so setting it inside a
running program has no effect).  The default ``None`` leaves BLAS as it is, because larger charge-transfer
blocks (thousands of states) do gain from threads on an idle machine.

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
by default only for unweighted fits, whose χ² has no absolute meaning.  The result is a
:class:`~rixsim.fit_result.FitResult` whose ``health`` says which parameters the data do not determine and
whether χ² agrees with counting statistics; ``details["r_factor"]`` is
:math:`\\sum (y - y_{\\rm model})^2 / \\sum y^2` over the fitted points (unweighted).
"""
from __future__ import annotations

import dataclasses
import logging
import time
from collections import OrderedDict
from typing import Mapping, Optional

import numpy as np

from rixsim import validate
from rixsim.cluster.crystal_field import CrystalField
from rixsim.cluster.transitions import EdgeTransitions
from rixsim.errors import ConvergenceError, InputError
from rixsim.analysis.fit_result import FitResult, from_minimizer
from rixsim.results import RixsMap, Spectrum

__all__ = ["HAMILTONIAN_PARAMETERS", "SPECTRAL_PARAMETERS", "FitModel", "FitResult", "fit_xas",
           "fit_rixs_map", "simulate_xas", "simulate_rixs_map", "guess_edge_offset"]

log = logging.getLogger(__name__)

_CF_NAMES = ("tendq", "ds", "dt", "dsigma", "dtau", "b22", "b42")
_SLATER_NAMES = ("slater_scale", "dd_scale", "pd_scale", "f2dd_scale", "f4dd_scale", "f2pd_scale", "g1pd_scale",
                 "g3pd_scale", "soc_3d_scale", "soc_2p_scale")
_CT_NAMES = ("delta", "udd", "upd", "veg", "vt2g", "tenq_ligand")
HAMILTONIAN_PARAMETERS = _CF_NAMES + _SLATER_NAMES + _CT_NAMES
SPECTRAL_PARAMETERS = ("edge_offset", "l3_fwhm", "l2_fwhm", "gauss_fwhm", "final_fwhm", "resolution_fwhm",
                       "elastic_scale", "scale", "background", "background_slope", "edge_step", "step_fwhm")
_XAS_ONLY = ("gauss_fwhm", "edge_step", "step_fwhm")
_RIXS_ONLY = ("final_fwhm", "resolution_fwhm", "elastic_scale")
# the named symmetries of rixsim.cluster.crystal_field and the parameters each takes (its _ALLOWED, minus custom)
_CF_ALLOWED = {"Oh": ("tendq",), "D4h": ("tendq", "ds", "dt"), "D3d": ("tendq", "dsigma", "dtau"),
               "Td": ("tendq",), "C4v": ("tendq", "ds", "dt"), "D2h": ("tendq", "ds", "dt", "b22", "b42")}
_DEFAULT_SLATER = 0.8      # as rixsim.cluster.model.DEFAULT_SLATER_SCALE
# the cached transitions carry these reference core-hole widths, from which each state's 2p3/2 character
# c is read back: fwhm_ref = c·1 + (1 − c)·2  →  c = 2 − fwhm_ref
_REF_L3, _REF_L2 = 1.0, 2.0
_WIDTH_NAMES = ("l3_fwhm", "l2_fwhm", "gauss_fwhm", "final_fwhm", "resolution_fwhm", "step_fwhm")
_ENERGY_NAMES = _CF_NAMES + _CT_NAMES + _WIDTH_NAMES + ("edge_offset",)
#: σ above which a signed energy parameter counts as undetermined: max(|value|, this) eV (fit health)
_ENERGY_SIGMA_FLOOR = 0.1
#: σ (eV) above which the edge offset counts as undetermined (fit health)
_OFFSET_SIGMA_LIMIT = 1.0
_STEP_FWHM_MIN = 1e-3
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
    symmetry : {"Oh", "D4h", "D3d", "Td", "C4v", "D2h"}
        Crystal-field symmetry; decides which of ``tendq, ds, dt, dsigma, dtau, b22, b42`` may be used.
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
    misses) and ``diagonalisation_seconds`` the wall time they took.  Parameters that only broaden, shift or scale never re-diagonalise.
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
        self.charge_transfer = validate.flag(charge_transfer, "charge_transfer")
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
        self._blocks = None
        self.n_evaluations = 0
        self.n_diagonalisations = 0
        self.diagonalisation_seconds = 0.0

    # ---- parameters ---------------------------------------------------------------------------------
    def allowed_parameters(self, kind: str) -> tuple[str, ...]:
        """Names a fit of ``kind`` ("xas" or "rixs") accepts."""
        ham = _CF_ALLOWED[self.symmetry] + _SLATER_NAMES + (_CT_NAMES if self.charge_transfer else ())
        drop = _RIXS_ONLY if kind == "xas" else _XAS_ONLY
        return ham + tuple(p for p in SPECTRAL_PARAMETERS if p not in drop)

    def defaults(self, kind: str) -> dict:
        """Starting values used for parameters a fit does not set (eV; tabulated edge and widths)."""
        d = {"tendq": 0.0, "ds": 0.0, "dt": 0.0, "dsigma": 0.0, "dtau": 0.0, "b22": 0.0, "b42": 0.0,
             "slater_scale": _DEFAULT_SLATER,
             "soc_3d_scale": 1.0, "soc_2p_scale": 1.0, "tenq_ligand": 0.0,
             "edge_offset": self._tabulated.edge_offset, "l3_fwhm": self._tabulated.l3_fwhm,
             "l2_fwhm": self._tabulated.l2_fwhm, "gauss_fwhm": 0.2, "final_fwhm": 0.05, "resolution_fwhm": 0.1,
             "elastic_scale": 1.0, "scale": 1.0, "background": 0.0, "background_slope": 0.0, "edge_step": 0.0,
             "step_fwhm": 1.0}
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
        self._zero = zero
        self._dipoles = [d.tocsr() for d in zero.dipole_operators()]
        return affine

    def _ct_probe(self) -> dict:
        return {"delta": 0.0, "udd": 0.0, "upd": 0.0, "veg": 0.0} if self.charge_transfer else {}

    def _dense_blocks(self):
        """Per sector, the symmetry blocks of the union of the sparsity patterns of all terms (exact invariant
        subspaces for every parameter value), each with the dense block of ``H_0`` and of every ``H_k``; and
        the 2p₃/₂-hole number per core-excited block.  Built once; a new eigensystem then costs only the
        dense sums ``H_0 + Σ θ_k H_k`` and one real LAPACK ``eigh`` (MRRR, ``driver="evr"``) per block."""
        if getattr(self, "_blocks", None) is not None:
            return self._blocks
        from rixsim.cluster.model import symmetry_blocks
        affine = self._terms()
        out = {}
        for core, (basis, h0, terms) in affine.items():
            pattern = abs(h0)
            for _, hk in terms:
                pattern = pattern + abs(hk)
            mats = [h0] + [hk for _, hk in terms]
            real = all(np.abs(m.data.imag).max(initial=0.0) < 1e-13 for m in mats)
            blocks = []
            for idx in symmetry_blocks(pattern.tocsr()):
                def dense(m, idx=idx):
                    d = m[idx][:, idx].toarray()
                    return np.ascontiguousarray(d.real) if real else d
                parts = [(nm, dense(hk)) for nm, hk in terms]
                blocks.append((idx, dense(h0), [(nm, d) for nm, d in parts if np.any(d)]))
            out[core] = blocks
        n32 = self._zero.j32_hole_operator().tocsr()
        out["n32"] = [np.real(n32[idx][:, idx].toarray()) for idx, _, _ in out[True]]
        self._blocks = out
        return out

    def _fast_transitions(self, values: Mapping[str, float], cutoff: Optional[float]) -> EdgeTransitions:
        """:class:`EdgeTransitions` from the dense affine blocks (same content as
        :meth:`ClusterModel.transitions`, initial states up to ``cutoff`` eV)."""
        import scipy.linalg as sla
        from rixsim.cluster.model import boltzmann_weights
        raw = self._raw_values(values)
        blocks = self._dense_blocks()
        eig = {}
        for core in (False, True):
            parts = []
            for idx, h0, terms in blocks[core]:
                h = h0.copy()
                for nm, hk in terms:
                    c = raw.get(nm, 0.0)
                    if c != 0.0:
                        h += c * hk
                w, v = sla.eigh(h, driver="evr", overwrite_a=True, check_finite=False)
                parts.append((idx, w, v))
            eig[core] = parts
        e_all = np.concatenate([w for _, w, _ in eig[False]])
        e0 = e_all.min()
        keep_state = [(idx, w, v, (w - e0) <= cutoff if cutoff is not None else np.ones(w.size, bool))
                      for idx, w, v in eig[False]]
        dim_i = sum(idx.size for idx, _, _ in eig[False])
        e_i = np.concatenate([w[k] for _, w, _, k in keep_state]) - e0
        order_i = np.argsort(e_i, kind="stable")
        e_i = e_i[order_i]
        real = all(np.isrealobj(v) for _, _, v in eig[False] + eig[True])
        v_i = np.zeros((dim_i, e_i.size), dtype=float if real else complex)
        col = 0
        cols_i = np.empty(e_i.size, dtype=np.int64)
        cols_i[order_i] = np.arange(e_i.size)
        for idx, w, v, k in keep_state:
            n = int(k.sum())
            v_i[np.ix_(idx, cols_i[col:col + n])] = v[:, k]
            col += n
        e_m = np.concatenate([w for _, w, _ in eig[True]]) - e0
        dip = np.zeros((3, e_m.size, e_i.size), dtype=complex)
        c32 = np.empty(e_m.size)
        start = 0
        x = [ta @ v_i for ta in self._dipoles]                  # (dim_m, n_keep) per component
        for b, (idx, w, v) in enumerate(eig[True]):
            sl = slice(start, start + w.size)
            for a in range(3):
                xa = x[a][idx]
                dip[a, sl, :] = v.T @ xa if np.isrealobj(v) else v.conj().T @ xa
            c32[sl] = np.einsum("ij,ij->j", v.conj(), blocks["n32"][b] @ v).real
            start += w.size
        order_m = np.argsort(e_m, kind="stable")
        c32 = np.clip(c32[order_m], 0.0, 1.0)
        fwhm = c32 * _REF_L3 + (1.0 - c32) * _REF_L2
        return EdgeTransitions(e_i, boltzmann_weights(e_i, self.temperature_k), e_m[order_m], fwhm,
                               dip[:, order_m, :], edge_offset=self._zero.edge_offset,
                               temperature_k=self.temperature_k,
                               meta={"model": self._zero.name, "n_d": self._zero.n_d})

    def reference_transitions(self, values: Mapping[str, float], *, populated_only: bool = False) -> EdgeTransitions:
        """Eigenstates and dipoles for the Hamiltonian parameters in ``values`` (cached), with the reference
        core-hole widths (1 eV for pure 2p₃/₂ holes, 2 eV for pure 2p₁/₂).  ``populated_only`` keeps only
        the initial states an absorption spectrum needs (Boltzmann factor above e⁻³⁰), as
        :func:`rixsim.spectroscopy.xas.xas` does."""
        return self._entry(values, populated_only)["tr"]

    def _entry(self, values: Mapping[str, float], populated_only: bool) -> dict:
        from rixsim.cluster.model import K_B_EV
        cutoff = 30.0 * K_B_EV * self.temperature_k + 1e-5 if populated_only else self.max_initial_energy
        key = (self._hamiltonian_key(values), cutoff)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        t0 = time.perf_counter()
        if self.fast_hamiltonian and self._has_core_states():
            tr = self._fast_transitions(values, cutoff)
        else:
            tr = self.cluster_model(values).transitions(self.temperature_k, cutoff)
        self.n_diagonalisations += 1
        self.diagonalisation_seconds += time.perf_counter() - t0
        entry = {"tr": tr, "sticks": {}}
        self._cache[key] = entry
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return entry

    def _has_core_states(self) -> bool:
        self._terms()
        return self._zero.basis(True).dim > 0 and bool(self._zero._configurations(True))

    def _sticks(self, values: Mapping[str, float], polarization) -> tuple:
        """Cached XAS sticks of the reference transitions: (energy relative to the edge offset, intensity,
        2p₃/₂ character c) and the L3 and L2 centroids (relative, eV) of the isotropic spectrum."""
        from rixsim.spectroscopy.xas import xas_sticks
        entry = self._entry(values, populated_only=True)
        pkey = polarization if isinstance(polarization, str) else tuple(np.asarray(polarization, float).ravel())
        if pkey not in entry["sticks"]:
            tr = entry["tr"]

            def split(st):
                c = np.clip((_REF_L2 - st.fwhm) / (_REF_L2 - _REF_L3), 0.0, 1.0)
                return st.energy - tr.edge_offset, st.intensity, c
            iso = split(xas_sticks(tr, "isotropic", self.temperature_k))
            w3, w2 = iso[1] * iso[2], iso[1] * (1.0 - iso[2])
            cen = tuple(float(np.sum(w * iso[0]) / np.sum(w)) if np.sum(w) > 0 else 0.0 for w in (w3, w2))
            st = iso if pkey == "isotropic" else split(xas_sticks(tr, polarization, self.temperature_k))
            entry["sticks"][pkey] = (st, cen)
        return entry["sticks"][pkey]

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
        """Model XAS ``s·S + h·step + b0 + b1 (E − Ē)`` on ``energies`` (absolute eV, increasing).

        ``S`` is the cluster absorption (:func:`rixsim.spectroscopy.xas.xas`, Lorentzian L3/L2 widths and
        the Gaussian ``gauss_fwhm``); ``step`` the L3 and L2 continuum steps of
        :func:`rixsim.analysis.edge_step.edge_steps` (arctan, 2:1, FWHM ``step_fwhm``) of total height
        ``edge_step`` (data units) at the model's L3 and L2 centroids.  Only a change of a Hamiltonian
        parameter recomputes eigenstates and sticks; the rest is one broadening of cached sticks."""
        from rixsim.spectroscopy import broadening
        v = self._complete(values, "xas")
        e = np.asarray(energies, dtype=float)
        (e_rel, inten, c32), cen = self._sticks(v, polarization)
        self.n_evaluations += 1
        # the broadened cluster spectrum depends only on these: a change of scale, step or background (and
        # their finite-difference columns) reuses it
        pkey = polarization if isinstance(polarization, str) else tuple(np.asarray(polarization, float).ravel())
        bkey = (pkey, e.size, float(e[0]), float(e[-1]), float(e.sum()), float(v["edge_offset"]),
                float(v["l3_fwhm"]), float(v["l2_fwhm"]), float(v["gauss_fwhm"]))
        done = self._entry(v, populated_only=True).setdefault("broadened", OrderedDict())
        if bkey in done:
            spec = done[bkey]
        elif e_rel.size:
            widths = np.maximum(c32 * v["l3_fwhm"] + (1.0 - c32) * v["l2_fwhm"], 0.0)
            if v["gauss_fwhm"] == 0 and np.any(widths == 0):
                raise InputError("zero Lorentzian width with gauss_fwhm = 0 gives delta lines; set a width > 0")
            spec = broadening.broaden_sticks(e, v["edge_offset"] + e_rel, inten, widths, v["gauss_fwhm"])
        else:
            spec = np.zeros_like(e)
        if bkey not in done:
            spec.setflags(write=False)
            done[bkey] = spec
            if len(done) > 4:
                done.popitem(last=False)
        y = v["scale"] * spec + _background(e, v)
        if v["edge_step"] != 0.0:
            from rixsim.analysis.edge_step import edge_steps
            st = edge_steps(e, v["edge_offset"] + cen[0], v["edge_offset"] + cen[1], v["step_fwhm"],
                            height=v["edge_step"])
            y = y + st["L3"] + st["L2"]
        return y

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
#: the result of :func:`fit_xas` and :func:`fit_rixs_map` is the common :class:`~rixsim.fit_result.FitResult`
#: (``kind`` "xas" or "map"; ``details``: ``r_factor``, ``n_diagonalisations``, ``at_bounds``, lmfit's
#: ``report``); the old
#: name is kept for code that imports it
ModelFitResult = FitResult


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
    if start is not None and not isinstance(start, Mapping):
        raise InputError(f"start must be a mapping of parameter name → value; got {start!r}")
    start = dict(start or {})
    if isinstance(vary, Mapping):
        bounds = dict(vary)
    elif isinstance(vary, (str, bytes)) or (vary is not None and not hasattr(vary, "__iter__")):
        raise InputError(f"vary must be a list of parameter names or a mapping name → (min, max); got {vary!r} "
                         f"(one name: vary=[{vary!r}])")
    else:
        bounds = {nm: None for nm in (vary or ())}
    for nm in list(start) + list(bounds):
        if nm not in allowed:
            raise InputError(f"unknown {kind} fit parameter {nm!r} for {model.ion} in {model.symmetry}"
                             f"{' with charge transfer' if model.charge_transfer else ''}; allowed: {list(allowed)}")
    values = dict(defaults)
    values.update({k: validate.number(v, f"start value of {k}", allow_inf=True) for k, v in start.items()})
    missing = [nm for nm in bounds if nm not in values]
    if missing:
        raise InputError(f"vary names {missing} without a starting value; give them in start=")
    params = lmfit.Parameters()
    for nm, val in values.items():
        if not np.isfinite(val):
            raise InputError(f"start value of {nm} must be finite; got {val!r}")
        lo, hi = -np.inf, np.inf
        if _nonnegative(nm):
            lo = _STEP_FWHM_MIN if nm == "step_fwhm" else 0.0
        b = bounds.get(nm)
        if b is not None:
            try:
                lo_b, hi_b = b
            except (TypeError, ValueError):
                raise InputError(f"bounds of {nm} must be (min, max) with None for open; got {b!r}") from None
            lo = lo if lo_b is None else validate.number(lo_b, f"lower bound of {nm}", allow_inf=True)
            hi = hi if hi_b is None else validate.number(hi_b, f"upper bound of {nm}", allow_inf=True)
            if not lo < hi or not lo <= val <= hi:
                raise InputError(f"bounds of {nm} must satisfy min < max and contain the start {val}; got {b!r}")
        elif not lo <= val:          # a negative width or scale would be clipped to 0 by the optimiser, unseen
            raise InputError(f"start value of {nm} must be >= {lo:g}; got {val!r}")
        if nm in validate.MODEL_RANGES and nm != "temperature_k":
            validate.model_parameter(val, nm)      # a crystal field of 10⁶ eV is never what was meant
        params.add(nm, value=val, vary=nm in bounds, min=lo, max=hi)
    return params


def _nonnegative(name: str) -> bool:
    """Widths, every scale factor (``scale`` included) and the edge-step height are kept ≥ 0."""
    return name in _WIDTH_NAMES or name == "scale" or name.endswith("_scale") or name == "edge_step"


def _fit_options(max_nfev, method, scale_covar, allow_negative) -> int | None:
    """Checked optimiser options shared by the model fits: ``max_nfev`` (an integer >= 1 or None), ``method``
    (a method lmfit knows: an unknown name would silently fall back to another), the two flags."""
    import lmfit
    if scale_covar is not None:
        validate.flag(scale_covar, "scale_covar")
    validate.flag(allow_negative, "allow_negative")
    known = set(getattr(lmfit.minimizer, "SCALAR_METHODS", {})) | {
        "leastsq", "least_squares", "differential_evolution", "brute", "basinhopping", "ampgo", "shgo",
        "dual_annealing", "emcee", "nelder", "lbfgsb", "powell", "cg", "newton", "cobyla", "bfgs", "tnc",
        "trust-ncg", "trust-exact", "trust-krylov", "trust-constr", "dogleg", "slsqp"}
    if not isinstance(method, str) or method.lower() not in known:
        raise InputError(f"method must be an lmfit method name such as 'leastsq' or 'least_squares'; "
                         f"got {method!r}")
    return None if max_nfev is None else validate.integer(max_nfev, "max_nfev", lo=1)


def blas_limit(blas_threads):
    """A context that limits BLAS/OpenMP threads to ``blas_threads`` (an integer >= 1) for its duration via
    threadpoolctl, or does nothing for None."""
    import contextlib
    if blas_threads is None:
        return contextlib.nullcontext()
    n = validate.integer(blas_threads, "blas_threads", lo=1)
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=n)


def _minimise(evaluate, params, ydat, sig, scale_covar, max_nfev, method, stage: str = "fit"):
    import lmfit

    from rixsim import progress
    n_free = sum(p.vary for p in params.values())
    # model evaluations and the current χ²: a bar on a terminal, else a log line every few seconds
    with progress.counter(stage, total=max_nfev, unit="eval", requested=None,
                          start=f"{n_free} free parameters, {np.size(ydat)} points, at most "
                                f"{max_nfev if max_nfev is not None else 'unlimited'} model evaluations") as bar:
        def residual(p):
            r = np.ravel((ydat - evaluate(p.valuesdict())) / sig)
            bar.update(1, status=f"χ² = {float(np.dot(r, r)):.6g}")
            return r

        mini = lmfit.Minimizer(residual, params, scale_covar=bool(scale_covar), nan_policy="raise")
        try:
            out = mini.minimize(method=method, max_nfev=max_nfev)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise ConvergenceError(f"the fit failed inside the optimiser: {exc}") from exc
    if not out.success:
        last = {nm: round(float(p.value), 6) for nm, p in out.params.items() if p.vary}
        raise ConvergenceError(f"the fit did not converge after {out.nfev} model evaluations: {out.message}; "
                               "try better starting values, tighter bounds, fewer free parameters or a larger "
                               f"max_nfev. Last values: {last}")
    return out


def _run(evaluate, params, model: FitModel, y: np.ndarray, yfit: np.ndarray, sig: np.ndarray, weighting: str,
         scale_covar, max_nfev, method: str, make_best, counts0: tuple, kind: str, data) -> FitResult:
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
        out = _minimise(evaluate, out.params, yfit, sig, scale_covar, max_nfev, method, "fit (Poisson stage)")
    best = make_best(out.params.valuesdict())
    res = (yfit - best.intensity) / sig
    r_factor = float(np.sum((y - best.intensity) ** 2) / np.sum(y ** 2))
    values = out.params.valuesdict()
    limits = {}
    for nm in out.var_names:
        if nm == "edge_offset":
            limits[nm] = _OFFSET_SIGMA_LIMIT
        elif nm in _CF_NAMES + _CT_NAMES:
            limits[nm] = max(abs(values[nm]), _ENERGY_SIGMA_FLOOR)
    units = {nm: "eV" for nm in values if nm in _ENERGY_NAMES}
    units["background_slope"] = "1/eV"
    result = from_minimizer(
        out, kind=kind, data=data, best_fit=best, residual=res, weighting=_WEIGHTING_KIND[weighting],
        n_evaluations=model.n_evaluations - ev0, units=units, sigma_limits=limits,
        covariance_scaled=bool(scale_covar), label=f"{model.ion} {model.symmetry}"
        + (" charge transfer" if model.charge_transfer else ""),
        details={"r_factor": r_factor, "n_diagonalisations": model.n_diagonalisations - dg0,
                 "report": lmfit.fit_report(out)})
    result = dataclasses.replace(result, details=dict(result.details, at_bounds=result.health.at_bounds))
    if not result.health.trustworthy:
        log.warning("fit not trustworthy: %s", "; ".join(result.health.reasons))
    return result


_WEIGHTING_KIND = {"poisson": "poisson", "user": "given sigma", "unweighted": "unit"}


def fit_xas(data: Spectrum, model: FitModel, *, start: Mapping[str, float] | None = None, vary=None,
            sigma="poisson", energy_range: tuple[float, float] | None = None, polarization="isotropic",
            scale_covar: bool | None = None, allow_negative: bool = False, max_nfev: int | None = 2000,
            method: str = "leastsq", memory_gb: float | None = None, blas_threads: int | None = None) -> FitResult:
    """Fit model parameters to a measured XAS spectrum.

    ``memory_gb`` (GB; default :func:`rixsim.memory.default_budget_bytes`) bounds the optimiser's arrays (the
    Jacobian, points × free parameters, and the residuals), refused before the first evaluation.
    ``blas_threads`` (e.g. 1 on a shared machine) limits BLAS threads during the fit (module notes, Speed).

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
    FitResult

    Raises
    ------
    InputError
        Bad data, names, bounds or σ.
    ConvergenceError
        No convergence.  Uncertainties that cannot be estimated do not raise: those σ are NaN and
        ``result.health`` names the undetermined parameters (see :mod:`rixsim.fit_result`).
    """
    if not isinstance(data, Spectrum):
        raise InputError(f"data must be a Spectrum; got {type(data).__name__}")
    if not isinstance(model, FitModel):
        raise InputError(f"model must be a FitModel; got {type(model).__name__}")
    counts0 = (model.n_evaluations, model.n_diagonalisations)
    max_nfev = _fit_options(max_nfev, method, scale_covar, allow_negative)
    if blas_threads is not None:
        validate.integer(blas_threads, "blas_threads", lo=1)
    e = validate.energy_axis(data.energy, "data energy", min_points=2)
    y = validate.intensities(data.intensity, "data intensity", allow_negative=allow_negative)
    sig_all, yfit_all, weighting = _sigma(sigma, y)
    mask = validate.energy_window(energy_range, e, min_points=2)
    e, y, yfit, sig = e[mask], y[mask], yfit_all[mask], sig_all[mask]
    if not np.any(y):
        raise InputError(f"data intensity is 0 at every one of its {y.size} points in the fit window; "
                         "nothing to fit")
    params = _parameters(model, "xas", start, vary)
    from rixsim import memory
    n_free = sum(p.vary for p in params.values())
    memory.plan(8 * y.size * (2 * n_free + 8), f"an XAS fit of {y.size} points × {n_free} free parameters",
                memory_gb)
    if "edge_offset" in params:     # data in keV, or far from this ion's edge: the fit would find nothing
        off = float(params["edge_offset"].value)
        validate.axis_near(e, off - 15.0, off + 30.0, "data energy", f"the {model.ion} L2,3 edge", 30.0)

    def evaluate(v):
        return model.xas(e, v, polarization)

    def make_best(values):
        return Spectrum(e, evaluate(values), label=f"{model.ion} fit", meta={"values": values})
    kind = "xas"
    fitted = Spectrum(e, y, label=data.label, units=data.units, meta=dict(data.meta))
    with blas_limit(blas_threads):         # every model evaluation, the scale's start included
        if start is None or "scale" not in dict(start) and not _is_lmfit(start):
            _auto_scale(params, evaluate, yfit, sig)
        return _run(evaluate, params, model, y, yfit, sig, weighting, scale_covar, max_nfev, method, make_best,
                    counts0, kind, fitted)


def _is_lmfit(obj) -> bool:
    import lmfit
    return isinstance(obj, lmfit.Parameters)


def _auto_scale(params, evaluate, y, sig):
    """Start the scale at the linear least-squares value (data and simulation differ in units)."""
    v = params.valuesdict()
    off = dict(scale=1.0, background=0.0, background_slope=0.0)
    if "edge_step" in v:
        off["edge_step"] = 0.0
    f = np.asarray(evaluate(dict(v, **off)))
    rest = y - (np.asarray(evaluate(v)) - v["scale"] * f)      # data minus the background
    den = float(np.sum((f / sig) ** 2))
    if den > 0:
        s = float(np.sum(f * rest / sig ** 2) / den)
        p = params["scale"]
        if s > 0 and p.min <= s <= p.max:
            p.set(value=s)


def fit_rixs_map(data: RixsMap, model: FitModel, *, start: Mapping[str, float] | None = None, vary=None,
                 sigma="poisson", scale_covar: bool | None = None, allow_negative: bool = False,
                 max_nfev: int | None = 2000, method: str = "leastsq", memory_gb: float | None = None,
                 blas_threads: int | None = None, **rixs_kwargs) -> FitResult:
    """Fit model parameters to a whole RIXS map (2-D residual).

    ``memory_gb`` and ``blas_threads`` as in :func:`fit_xas`; ``memory_gb`` is also the budget of each map.

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
    FitResult
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
    max_nfev = _fit_options(max_nfev, method, scale_covar, allow_negative)
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
    if blas_threads is not None:
        validate.integer(blas_threads, "blas_threads", lo=1)
    from rixsim import memory
    n_free = sum(p.vary for p in params.values())
    memory.plan(8 * y.size * (2 * n_free + 8), f"a map fit of {y.size} points × {n_free} free parameters",
                memory_gb)
    if memory_gb is not None:
        rixs_kwargs["memory_gb"] = memory_gb

    def evaluate(v):
        return model.rixs(exc, second, v, on_loss_axis=on_loss, **rixs_kwargs)

    def make_best(values):
        z = evaluate(values)
        if on_loss:
            return RixsMap(exc, None, z, loss=second, label=f"{model.ion} fit", meta={"values": values})
        return RixsMap(exc, second, z, label=f"{model.ion} fit", meta={"values": values})
    kind, fitted = "map", data
    with blas_limit(blas_threads):         # every model evaluation, the scale's start included
        if start is None or "scale" not in dict(start) and not _is_lmfit(start):
            _auto_scale(params, evaluate, yfit, sig)
        return _run(evaluate, params, model, y, yfit, sig, weighting, scale_covar, max_nfev, method, make_best,
                    counts0, kind, fitted)


def guess_edge_offset(data, model: FitModel, values: Mapping[str, float] | None = None, **rixs_kwargs) -> float:
    """Edge offset (eV, on the data's axis) that best matches the model's absorption (XAS) or its
    incident-energy profile (map, summed over the second axis) to the data's, scale free.

    Least squares over shifts on a 0.02 eV grid within ±3 eV of the peak-to-peak match; a starting value of
    ``edge_offset`` when the data's energy axis is relative to an unknown origin.  A map on an emission axis
    (absolute) is compared at emission energies near the tabulated edge.
    """
    v = dict(values or {})
    v.update(scale=1.0, background=0.0, background_slope=0.0)
    if isinstance(data, Spectrum):
        v["edge_step"] = 0.0                       # match the white lines, not the continuum step
    else:
        v.pop("edge_step", None)
        v.pop("step_fwhm", None)
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

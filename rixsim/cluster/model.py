"""Cluster models of a transition-metal ion for its L2,3 edge: atomic multiplets, crystal field and
charge transfer to a ligand shell, diagonalised into an :class:`~rixsim.cluster.transitions.EdgeTransitions`.

Hamiltonian (one operator per sector: initial 2p⁶, core-excited 2p⁵)
----------------------------------------------------------------------
.. math::
    H = H_{dd}(F^0,F^2,F^4) + H_{pd}(F^0_{pd},F^2_{pd},G^1_{pd},G^3_{pd}) + \\zeta_{3d}\\,l\\cdot s
        + \\zeta_{2p}\\,l\\cdot s + H_{CF} + \\mathbf h_{ex}\\cdot\\mathbf S_{3d}
        + \\sum V_\\gamma (d^\\dagger_\\gamma L_\\gamma + h.c.) + H_{LF} + \\epsilon_d N_d + \\epsilon_L N_L

Charge transfer, as in the literature (e.g. Zaanen, Sawatzky & Allen, PRL 55, 418 (1985); de Groot &
Kotani, *Core Level Spectroscopy of Solids*, ch. 6): Δ is the configuration-averaged energy of dⁿ⁺¹L̲
relative to dⁿ, before multiplets, crystal field and hybridisation.  The monopole integrals are set so that
``Udd`` and ``Upd`` are the configuration-averaged repulsions,
:math:`F^0_{dd} = U_{dd} + \\tfrac{2}{63}(F^2+F^4)`, :math:`F^0_{pd} = U_{pd} + \\tfrac{1}{15}G^1 + \\tfrac{3}{70}G^3`,
and the on-site energy difference ε_d − ε_L of each sector is computed from the configuration averages so that

* initial sector:       E(dⁿ⁺ᵏL̲ᵏ) − E(dⁿ) = kΔ + k(k−1)/2 · Udd,
* core-excited sector:  E(2p⁵dⁿ⁺¹⁺ᵏL̲ᵏ) − E(2p⁵dⁿ⁺¹) = k(Δ + Udd − Upd) + k(k−1)/2 · Udd,

(the k = 2 relation then holds by construction of F⁰; a test checks it).  Each sector's dⁿ (2p⁵dⁿ⁺¹)
configuration average is the zero of its energies, so the photon energy of the configuration-averaged
transition 2p⁶dⁿ → 2p⁵dⁿ⁺¹ is ``edge_offset`` (absolute, eV).

Metal-to-ligand charge transfer (π back-donation, :class:`BackDonation`) adds a second, empty ligand shell
``"L*"`` (the acceptor's π* combinations) and the configurations dⁿ⁻ʲL*ʲ.  As for the ligand-to-metal
energy Δ, and as in the valence-bond configuration-interaction (VBCI) analyses of back-bonding at the
Fe L edge (Hocking et al., J. Am. Chem. Soc. 128, 10442 (2006); the LMCT-only VBCI model: Wasinger et al.,
J. Am. Chem. Soc. 125, 12894 (2003)), the MLCT energy Δ* is the configuration-averaged energy of dⁿ⁻¹L*
relative to dⁿ.  With k ligand holes and j acceptor
electrons (``ClusterModel.transfer_counts``):

* initial sector:       E(dⁿ⁺ᵏ⁻ʲL̲ᵏL*ʲ) − E(dⁿ) = kΔ + jΔ* + Udd·[k(k−1)/2 + j(j−1)/2 − kj],
* core-excited sector:  the same with Δ → Δ + Udd − Upd and Δ* → Δ* − Udd + Upd − U_pL*,

where U_pL* (``core_hole_ligand``) is the core hole's attraction of an L* electron (0 by default).  The
electron that leaves the metal no longer screens the core hole, so the MLCT configuration moves *up* by
Upd − Udd in the core-excited sector while the LMCT one moves down by as much.  The k(k−1)/2, j(j−1)/2 and
−kj terms are the change in the number of d–d pairs (a test checks every configuration).

Single-configuration (atomic) models have no ligand shell.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from rixsim import validate
from rixsim.cluster.crystal_field import (
    CrystalField,
    hybridization_matrix,
    ligand_field_matrix,
    t2g_acceptor_hybridization,
)
from rixsim.cluster.transitions import EdgeTransitions
from rixsim.errors import InputError
from rixsim.manybody import angular, operators
from rixsim.manybody.basis import Basis, Shell, ShellSet

log = logging.getLogger(__name__)

K_B_EV = 8.617333262e-5          # Boltzmann constant, eV/K (CODATA 2018)
DEFAULT_SLATER_SCALE = 0.8       # reduction of atomic HF F and G for multiplet terms (interatomic screening)


@dataclass(frozen=True)
class Multiplet:
    """Radial parameters of one configuration (eV), as used in the Hamiltonian (already scaled)."""

    f2dd: float = 0.0
    f4dd: float = 0.0
    f2pd: float = 0.0
    g1pd: float = 0.0
    g3pd: float = 0.0
    zeta_3d: float = 0.0
    zeta_2p: float = 0.0

    def __post_init__(self):
        for k, v in self.__dict__.items():
            if not np.isfinite(v):
                raise InputError(f"multiplet parameter {k} must be finite; got {v!r}")

    def scaled(self, slater: float = DEFAULT_SLATER_SCALE, soc: float = 1.0) -> "Multiplet":
        return Multiplet(self.f2dd * slater, self.f4dd * slater, self.f2pd * slater, self.g1pd * slater,
                         self.g3pd * slater, self.zeta_3d * soc, self.zeta_2p * soc)


@dataclass(frozen=True)
class ChargeTransfer:
    """Ligand-shell parameters (eV): Δ, Udd, Upd (core-hole potential), hoppings V(e_g), V(t_2g), the ligand
    orbitals' own e_g–t_2g splitting, and the largest number of ligand holes (1: dⁿ+dⁿ⁺¹L̲, 2: +dⁿ⁺²L̲²).

    ``hybridization`` (optional): a Hermitian 5×5 d–ligand hopping matrix in the real basis
    ``dxy, dyz, dz2, dxz, dx2-y2`` (eV), e.g. from :func:`rixsim.cluster.ligand_field.ligand_site`; it
    replaces ``veg``/``vt2g`` (pass 0 for those)."""

    delta: float
    udd: float
    upd: float
    veg: float
    vt2g: float
    tenq_ligand: float = 0.0
    n_ligand_holes: int = 2
    hybridization: Optional[tuple] = None

    def __post_init__(self):
        for k in ("delta", "udd", "upd", "veg", "vt2g", "tenq_ligand"):
            if not np.isfinite(getattr(self, k)):
                raise InputError(f"charge-transfer parameter {k} must be finite; got {getattr(self, k)!r}")
        if self.n_ligand_holes not in (1, 2, 3):
            raise InputError(f"n_ligand_holes must be 1, 2 or 3; got {self.n_ligand_holes!r}")
        if self.hybridization is not None:
            m = np.asarray(self.hybridization, dtype=complex)
            if m.shape != (5, 5) or not np.isfinite(m).all():
                raise InputError(f"hybridization must be a finite 5×5 matrix (eV); got shape {m.shape}")
            if np.abs(m - m.conj().T).max() > 1e-10:
                raise InputError("hybridization matrix is not Hermitian")
            if self.veg or self.vt2g:
                raise InputError(f"give either veg/vt2g ({self.veg!r}, {self.vt2g!r}) or a hybridization matrix")
            object.__setattr__(self, "hybridization", tuple(map(tuple, m)))


@dataclass(frozen=True)
class BackDonation:
    """Metal-to-ligand charge transfer (MLCT, π back-donation) into an empty acceptor shell L* (eV).

    L* is a second ligand shell of symmetry-adapted combinations of the acceptor orbitals (for Oh the π*
    orbitals of six ligands, e.g. CN⁻ 2π*, whose t_2g combination overlaps the metal t_2g), empty in the
    dⁿ configuration.  With ``veg = 0`` (π-only acceptor) L* holds only the three t_2g combinations
    (a shell of 6 spin-orbitals, stored as ``Shell("L*", 1)``: its orbitals are
    :func:`~rixsim.cluster.crystal_field.t2g_acceptor_orbitals`, not p orbitals); with ``veg ≠ 0`` it holds
    five d-like combinations (``Shell("L*", 2)``).  Δ* is the average over the orbitals L* holds.

    Attributes
    ----------
    delta : float
        Δ*: configuration-averaged energy of dⁿ⁻¹L*¹ relative to dⁿ (the MLCT energy, Δ' in the
        valence-bond configuration-interaction literature), before multiplets, crystal field and hopping.
    vt2g, veg : float
        Hoppings T(t_2g), T(e_g) between the d orbitals and the L* combinations of the same symmetry
        (``veg = 0``: π-only acceptor, the usual case).
    udd, upd : float or None
        Configuration-averaged d–d repulsion and 2p-hole–d attraction.  Taken from the model's
        :class:`ChargeTransfer` when it has one (given here they must then be equal); required otherwise.
    core_hole_ligand : float
        Attraction between the 2p core hole and an electron in L* (≥ 0 lowers dⁿL* in the core-excited
        sector); 0 treats the acceptor as beyond the reach of the core hole.
    tenq_ligand : float
        Splitting of the L* orbitals' own t_2g-like and e_g-like combinations (traceless, as
        :func:`~rixsim.cluster.crystal_field.ligand_field_matrix`); only with ``veg ≠ 0``.
    n_ligand_electrons : {1, 2}
        Largest number of electrons in L* (1: dⁿ⁻¹L*, 2: also dⁿ⁻²L*²).
    mixed : bool
        Also keep the configurations with ligand holes *and* L* electrons (dⁿL̲L*, …) when the model has
        LMCT too.
    hybridization : 5×5 array, optional
        Hermitian d–L* hopping in the real basis ``dxy, dyz, dz2, dxz, dx2-y2`` (eV), e.g. from the
        acceptor positions by :func:`rixsim.cluster.ligand_field.ligand_site` (``acceptor_v_pd_pi``); it
        replaces ``vt2g``/``veg`` (pass 0 for both) and gives L* five d-like combinations (``Shell("L*", 2)``),
        those a distorted site needs.  In Oh a π-only acceptor's matrix is T*(t_2g) = 2V(pdπ) on t_2g and 0
        on e_g, the named route ``vt2g = 2V(pdπ)`` (whose three-orbital shell lacks the two uncoupled e_g-like
        combinations; a test checks that the two give the same states that couple and the same spectra).
    """

    delta: float
    vt2g: float
    veg: float = 0.0
    udd: Optional[float] = None
    upd: Optional[float] = None
    core_hole_ligand: float = 0.0
    tenq_ligand: float = 0.0
    n_ligand_electrons: int = 1
    mixed: bool = False
    hybridization: Optional[tuple] = None

    def __post_init__(self):
        for k in ("delta", "vt2g", "veg", "core_hole_ligand", "tenq_ligand"):
            if not np.isfinite(getattr(self, k)):
                raise InputError(f"back-donation parameter {k} must be finite; got {getattr(self, k)!r}")
        for k in ("udd", "upd"):
            v = getattr(self, k)
            if v is not None and not np.isfinite(v):
                raise InputError(f"back-donation parameter {k} must be finite or None; got {v!r}")
        if self.n_ligand_electrons not in (1, 2):
            raise InputError(f"n_ligand_electrons must be 1 or 2; got {self.n_ligand_electrons!r}")
        if self.hybridization is not None:
            m = np.asarray(self.hybridization, dtype=complex)
            if m.shape != (5, 5) or not np.isfinite(m).all():
                raise InputError(f"back-donation hybridization must be a finite 5×5 matrix (eV); got shape {m.shape}")
            if np.abs(m - m.conj().T).max() > 1e-10:
                raise InputError("back-donation hybridization matrix is not Hermitian")
            if self.veg or self.vt2g:
                raise InputError(f"give either vt2g/veg ({self.vt2g!r}, {self.veg!r}) or a hybridization matrix")
            object.__setattr__(self, "hybridization", tuple(map(tuple, m)))
        elif self.veg == 0.0 and self.tenq_ligand != 0.0:
            raise InputError(f"tenq_ligand = {self.tenq_ligand!r} needs e_g-like acceptor orbitals: with "
                             "veg = 0 the acceptor shell holds only its three t2g combinations")

    @property
    def shell(self) -> Shell:
        """The acceptor shell: three t_2g combinations (``veg == 0``) or five d-like ones (``veg ≠ 0`` or a
        hybridisation matrix)."""
        return Shell("L*", 1 if (self.veg == 0.0 and self.hybridization is None) else 2)


@dataclass(frozen=True)
class Eigensystem:
    """Eigenvalues (ascending, eV) and eigenvectors (columns) of one sector's Hamiltonian."""

    energies: np.ndarray
    vectors: np.ndarray
    basis: Basis
    blocks: tuple = ()    # (row indices, column indices) of each symmetry block of ``vectors``


@dataclass(frozen=True, eq=False)
class ClusterModel:
    """A 2p→3d (L2,3-edge) cluster model with explicit parameters.  Build it with :func:`atomic_model` or
    :func:`cluster_model` from an ion name, or directly for full control.

    Attributes
    ----------
    name : str
        Label, e.g. ``"Mn2+"``.
    n_d : int
        d electrons of the dⁿ configuration (0…10).
    initial, core_excited : Multiplet
        Scaled radial parameters of 2p⁶dⁿ and 2p⁵dⁿ⁺¹ (eV).
    crystal_field : CrystalField
    charge_transfer : ChargeTransfer or None
    exchange_field : tuple of 3 floats
        :math:`\\mathbf h_{ex}` in eV, acting as :math:`\\mathbf h_{ex}\\cdot\\mathbf S` on the d shell.
    l3_fwhm, l2_fwhm : float
        Lorentzian FWHM (eV) of 2p₃/₂- and 2p₁/₂-hole states; mixed states get the weighted mean.
    edge_offset : float
        Absolute photon energy (eV) of the configuration-averaged transition 2p⁶dⁿ → 2p⁵dⁿ⁺¹.
    back_donation : BackDonation or None
        Metal-to-ligand charge transfer into an empty acceptor shell ``"L*"`` (see the module docstring).
    """

    name: str
    n_d: int
    initial: Multiplet
    core_excited: Multiplet
    crystal_field: CrystalField = CrystalField()
    charge_transfer: Optional[ChargeTransfer] = None
    exchange_field: tuple = (0.0, 0.0, 0.0)
    l3_fwhm: float = 0.3
    l2_fwhm: float = 0.6
    edge_offset: float = 0.0
    back_donation: Optional[BackDonation] = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.n_d, (int, np.integer)) or not 0 <= self.n_d <= 10:
            raise InputError(f"n_d must be an integer 0…10; got {self.n_d!r}")
        if self.n_d == 10:
            log.info("d10 has no empty d orbital: its L2,3 absorption is zero")
        h = np.asarray(self.exchange_field, dtype=float)
        if h.shape != (3,) or not np.isfinite(h).all():
            raise InputError(f"exchange_field must be 3 finite numbers (eV); got {self.exchange_field!r}")
        object.__setattr__(self, "exchange_field", tuple(float(x) for x in h))
        for k in ("l3_fwhm", "l2_fwhm"):
            v = getattr(self, k)
            if not np.isfinite(v) or v < 0:
                raise InputError(f"{k} must be finite and >= 0 eV; got {v!r}")
        bd, ct = self.back_donation, self.charge_transfer
        if bd is not None:
            for k in ("udd", "upd"):
                own = getattr(bd, k)
                if ct is None and own is None:
                    raise InputError(f"back_donation needs {k} (eV) when the model has no charge_transfer")
                if ct is not None and own is not None and abs(own - getattr(ct, k)) > 1e-12:
                    raise InputError(f"back_donation.{k} = {own!r} differs from charge_transfer.{k} = "
                                     f"{getattr(ct, k)!r}; give it once (None here takes the LMCT value)")

    @property
    def udd(self) -> float:
        """Configuration-averaged d–d repulsion Udd (eV; 0 for an atomic model)."""
        if self.charge_transfer is not None:
            return self.charge_transfer.udd
        if self.back_donation is not None:
            return self.back_donation.udd
        return 0.0

    @property
    def upd(self) -> float:
        """Configuration-averaged 2p-hole–d attraction Upd (eV; 0 for an atomic model)."""
        if self.charge_transfer is not None:
            return self.charge_transfer.upd
        if self.back_donation is not None:
            return self.back_donation.upd
        return 0.0

    # ---- structure -----------------------------------------------------------------------------------
    @property
    def shells(self) -> ShellSet:
        shells = [Shell("3d", 2)] + ([Shell("L", 2)] if self.charge_transfer is not None else []) \
            + ([self.back_donation.shell] if self.back_donation is not None else [])
        return ShellSet(tuple(shells) + (Shell("2p", 1),))

    def transfer_counts(self, core_hole: bool) -> list[tuple[int, int]]:
        """``(k, j)`` of every configuration of a sector, in basis order: k ligand holes (LMCT, dⁿ⁺ᵏL̲ᵏ) and
        j acceptor electrons (MLCT, dⁿ⁻ʲL*ʲ); ``(0, 0)`` (dⁿ, or 2p⁵dⁿ⁺¹) comes first."""
        n0 = self.n_d + (1 if core_hole else 0)
        if n0 > 10:
            return []
        ct, bd = self.charge_transfer, self.back_donation
        kmax = 0 if ct is None else ct.n_ligand_holes
        jmax = 0 if bd is None else bd.n_ligand_electrons
        pairs = [(k, j) for k in range(kmax + 1) for j in range(jmax + 1)
                 if 0 <= n0 + k - j <= 10 and (k == 0 or j == 0 or (bd is not None and bd.mixed))]
        return sorted(pairs, key=lambda kj: (kj[0] + kj[1], kj[1]))

    def _configurations(self, core_hole: bool) -> list[tuple[int, ...]]:
        n0 = self.n_d + (1 if core_hole else 0)
        core = 5 if core_hole else 6
        out = []
        for k, j in self.transfer_counts(core_hole):
            c = [n0 + k - j]
            if self.charge_transfer is not None:
                c.append(10 - k)
            if self.back_donation is not None:
                c.append(j)
            out.append(tuple(c) + (core,))
        return out

    def configuration_targets(self, core_hole: bool) -> np.ndarray:
        """Configuration-averaged energies (eV) the Hamiltonian is built to have, one per configuration of
        :meth:`transfer_counts` — see the module docstring:
        :math:`E(k, j) = k\\Delta + j\\Delta^* + U_{dd}\\,[k(k-1)/2 + j(j-1)/2 - kj]`, with Δ → Δ + Udd − Upd
        and Δ* → Δ* − Udd + Upd − U_{pL*} in the core-excited sector."""
        ct, bd = self.charge_transfer, self.back_donation
        udd, upd = self.udd, self.upd
        d = 0.0 if ct is None else ct.delta + ((udd - upd) if core_hole else 0.0)
        ds = 0.0 if bd is None else bd.delta + ((upd - udd - bd.core_hole_ligand) if core_hole else 0.0)
        return np.array([k * d + j * ds + udd * (k * (k - 1) / 2 + j * (j - 1) / 2 - k * j)
                         for k, j in self.transfer_counts(core_hole)])

    def basis(self, core_hole: bool) -> Basis:
        configs = self._configurations(core_hole)
        if not configs:
            raise InputError(f"{self.name}: d{self.n_d} has no empty d orbital, no core-excited 2p⁵d¹¹ state")
        return Basis.from_configurations(self.shells, configs)

    # ---- operators ---------------------------------------------------------------------------------
    def valence_blocks(self, mult: Multiplet) -> dict:
        """One-body blocks of the valence shells ("3d" and, with charge transfer, "L"): 3d spin–orbit, crystal
        field, exchange field, hybridisation and ligand field (eV).  Shared by every edge of the model."""
        blocks = {("3d", "3d"): angular.spin_orbit(2, mult.zeta_3d) + self.crystal_field.spin_orbital_matrix()}
        h = np.asarray(self.exchange_field)
        if np.any(h):
            blocks[("3d", "3d")] = blocks[("3d", "3d")] + sum(hi * si for hi, si in zip(h, angular.spin_operators(2)))
        ct = self.charge_transfer
        if ct is not None:
            sym = self.crystal_field.symmetry
            if ct.hybridization is not None:
                u = angular.real_to_complex(2)
                v = angular.orbital_to_spin_orbital(u @ np.asarray(ct.hybridization) @ u.conj().T)
            else:
                v = hybridization_matrix(ct.veg, ct.vt2g, sym)
            blocks[("3d", "L")] = v
            blocks[("L", "3d")] = v.conj().T
            blocks[("L", "L")] = ligand_field_matrix(ct.tenq_ligand, sym)
        bd = self.back_donation
        if bd is not None:
            sym = self.crystal_field.symmetry
            if bd.hybridization is not None:
                u = angular.real_to_complex(2)
                t = angular.orbital_to_spin_orbital(u @ np.asarray(bd.hybridization) @ u.conj().T)
                blocks[("L*", "L*")] = ligand_field_matrix(bd.tenq_ligand, sym)
            elif bd.shell.l == 1:
                t = t2g_acceptor_hybridization(bd.vt2g, sym)
            else:
                t = hybridization_matrix(bd.veg, bd.vt2g, sym)
                blocks[("L*", "L*")] = ligand_field_matrix(bd.tenq_ligand, sym)
            blocks[("3d", "L*")] = t
            blocks[("L*", "3d")] = t.conj().T
        return blocks

    def dd_coulomb(self, mult: Multiplet) -> np.ndarray:
        """d–d Coulomb tensor (10⁴, eV) with F⁰ = Udd + 2/63 (F² + F⁴)."""
        f0dd = self.udd + angular.average_dd_coupling(mult.f2dd, mult.f4dd)
        return angular.coulomb_tensor(2, 2, 2, 2, {0: f0dd, 2: mult.f2dd, 4: mult.f4dd})

    def _one_body_blocks(self, mult: Multiplet) -> np.ndarray:
        blocks = self.valence_blocks(mult)
        blocks[("2p", "2p")] = angular.spin_orbit(1, mult.zeta_2p)
        return operators.embed(self.shells, blocks)

    def _coulomb(self, mult: Multiplet) -> np.ndarray:
        f0pd = self.upd + angular.average_pd_coupling(mult.g1pd, mult.g3pd)
        pd_direct = {0: f0pd, 2: mult.f2pd}
        pd_exch = {1: mult.g1pd, 3: mult.g3pd}
        return operators.embed_two_body(self.shells, {
            ("3d", "3d", "3d", "3d"): self.dd_coulomb(mult),
            ("3d", "2p", "3d", "2p"): angular.coulomb_tensor(2, 1, 2, 1, pd_direct),
            ("2p", "3d", "2p", "3d"): angular.coulomb_tensor(1, 2, 1, 2, pd_direct),
            ("3d", "2p", "2p", "3d"): angular.coulomb_tensor(2, 1, 1, 2, pd_exch),
            ("2p", "3d", "3d", "2p"): angular.coulomb_tensor(1, 2, 2, 1, pd_exch),
        })

    def sector_terms(self, core_hole: bool):
        """The terms a sector Hamiltonian is assembled from, to plan its build before it starts.

        Parameters
        ----------
        core_hole : bool
            The core-excited (True) or the initial sector.

        Returns
        -------
        basis : Basis
            The sector's determinants.
        one_body : ndarray
            One-body matrix over all spin-orbitals (eV).
        two_body : ndarray
            Two-body (Coulomb) tensor over all spin-orbitals (eV).
        built : bool
            Whether :meth:`hamiltonian` has already built (and cached) this sector.
        """
        mult = self.core_excited if core_hole else self.initial
        return (self.basis(core_hole), self._one_body_blocks(mult), self._coulomb(mult),
                ("H", core_hole) in self._cache)

    def hamiltonian(self, core_hole: bool):
        """Sparse Hamiltonian (eV) of the initial (``core_hole=False``) or core-excited sector, with the
        on-site energies fixed by the charge-transfer definitions above."""
        key = ("H", core_hole)
        if key in self._cache:
            return self._cache[key]
        basis = self.basis(core_hole)
        mult = self.core_excited if core_hole else self.initial
        with _sector_progress(self, core_hole, "building", basis.dim, "Hamiltonian"):
            h = operators.one_body(basis, basis, self._one_body_blocks(mult)) + operators.two_body(basis, self._coulomb(mult))
        if self.back_donation is None:
            ct = self.charge_transfer
            step = 0.0 if ct is None else ct.delta + ((ct.udd - ct.upd) if core_hole else 0.0)
            h = place_configurations(basis, h, base=0.0, step=step)
        else:
            # all configurations: the targets are affine in the shell occupations once F⁰ has added the Udd pair
            # terms, so the fit is exact; fitting only k + j ≤ 1 would leave ε_d − ε_L free where dⁿ⁺¹L̲ cannot
            # exist (2p⁵d¹⁰ of d⁹) but the mixed dⁿ⁺¹L̲L* does
            first = list(range(len(self.transfer_counts(core_hole))))
            h = _place_general(basis, h, self.configuration_targets(core_hole), first,
                               [s.name for s in self.shells.shells if s.name != "2p"])
        self._cache[key] = (basis, h)
        return basis, h

    def configuration_averages(self, core_hole: bool) -> np.ndarray:
        """Average energy (eV) of each configuration of a sector (for checks of Δ, U definitions)."""
        return configuration_averages(*self.hamiltonian(core_hole))

    def dipole_operators(self):
        """Sparse ``T_a`` (a = x, y, z) from the initial to the core-excited sector (2p → 3d), normalised so
        that ``Σ_a Σ |t_ij|² = 10`` over spin-orbital pairs."""
        if "T" in self._cache:
            return self._cache["T"]
        b_i, _ = self.hamiltonian(False)
        b_m, _ = self.hamiltonian(True)
        t = angular.dipole_cartesian(2, 1)
        t = t * np.sqrt(10.0 / np.sum(np.abs(t) ** 2))
        ops = [operators.one_body(b_m, b_i, operators.embed(self.shells, {("3d", "2p"): ta})) for ta in t]
        self._cache["T"] = ops
        return ops

    def j32_hole_operator(self):
        """Number of 2p₃/₂ holes (sparse, core-excited sector): 4 − Σ n over the j = 3/2 spin-orbitals."""
        b_m, _ = self.hamiltonian(True)
        ls = angular.spin_orbit(1, 1.0)
        w, v = np.linalg.eigh(ls)
        p32 = v[:, w > 0] @ v[:, w > 0].conj().T        # l·s = +1/2 on j = 3/2
        n32 = operators.one_body(b_m, b_m, operators.embed(self.shells, {("2p", "2p"): p32}))
        return 4.0 * sp.identity(b_m.dim, format="csr") - n32

    # ---- diagonalisation --------------------------------------------------------------------------
    def eigensystem(self, core_hole: bool) -> Eigensystem:
        """All eigenstates of a sector by dense LAPACK diagonalisation of each symmetry block.

        The blocks are the connected components of the Hamiltonian's sparsity graph (for Oh and D4h fields
        with z quantisation they are the classes of 2J_z mod 8, for D3d of 2J_z mod 6): exact, and a block
        of size n/4 costs 1/64 of the full diagonalisation.  Real symmetric blocks use the real solver.
        """
        key = ("E", core_hole)
        if key not in self._cache:
            with _sector_progress(self, core_hole, "building and diagonalising", self.basis(core_hole).dim) as bar:
                basis, h = self.hamiltonian(core_hole)
                w, v, blocks = block_eigh(h, bar)
            self._cache[key] = Eigensystem(w, v, basis, blocks)
        return self._cache[key]

    def transitions(self, temperature_k: float = 0.0, max_initial_energy: Optional[float] = None) -> EdgeTransitions:
        """Initial and core-excited eigenstates with the dipole matrix between them.

        Parameters
        ----------
        temperature_k : float
            Temperature (K) of the Boltzmann populations; 0 K weighs the degenerate ground manifold equally.
        max_initial_energy : float, optional
            Keep only initial eigenstates up to this energy (eV, relative to the ground state) — they are
            the possible final states of RIXS; all by default.
        """
        from rixsim import validate
        t = validate.nonnegative(temperature_k, "temperature_k", "K")
        gi = self.eigensystem(False)
        e_i = gi.energies - gi.energies[0]
        keep = np.ones(e_i.size, bool) if max_initial_energy is None else e_i <= max_initial_energy
        e_i, v_i = e_i[keep], gi.vectors[:, keep]
        weights = boltzmann_weights(e_i, t)
        meta = {"model": self.name, "n_d": self.n_d}
        if not self._configurations(True):          # d10: no empty d orbital, no L2,3 absorption
            return EdgeTransitions(e_i, weights, np.zeros(0), np.zeros(0), np.zeros((3, 0, e_i.size), complex),
                                   edge_offset=self.edge_offset, temperature_k=t, meta=meta)
        gm = self.eigensystem(True)
        t_ops = self.dipole_operators()
        dip = np.zeros((3, gm.energies.size, e_i.size), dtype=complex)
        for rows, cols in gm.blocks:          # eigenvectors of a block vanish outside its rows
            v_b = gm.vectors[np.ix_(rows, cols)]
            for a, ta in enumerate(t_ops):
                dip[a, cols, :] = _project(v_b, real_if_possible(ta[rows]), v_i)
        n32 = real_if_possible(self.j32_hole_operator())
        c32 = np.empty(gm.energies.size)
        for rows, cols in gm.blocks:
            v_b = gm.vectors[np.ix_(rows, cols)]
            c32[cols] = np.real(np.sum(v_b.conj() * (n32[rows][:, rows] @ v_b), axis=0))
        c32 = np.clip(c32, 0.0, 1.0)
        fwhm = c32 * self.l3_fwhm + (1.0 - c32) * self.l2_fwhm
        e_m = gm.energies - gi.energies[0]
        return EdgeTransitions(e_i, weights, e_m, fwhm, dip, edge_offset=self.edge_offset,
                               temperature_k=t, meta=meta)

    def low_energy_states(self, temperature_k: float, n_min: int = 8, h=None):
        """Populated initial states without full diagonalisation: ``(energies, vectors, weights)`` with
        energies in the Hamiltonian's own frame, every state within 30 k_BT of the ground state.

        Sectors of ≤ 3000 states are diagonalised densely (block by block).  Larger ones are solved per
        symmetry block (:func:`symmetry_blocks`, the connected components of H): blocks of ≤ 400 states
        densely, the others by ARPACK (``eigsh``, smallest algebraic), growing the number of states of a
        block until its highest one lies beyond the cut-off.  ARPACK on the whole sector can miss partners
        of a degenerate ground state (a Krylov space holds one vector of a degenerate eigenspace: it
        returned three of the four Γ₈ states of Mn4+ d3…d6L3), while the partners of a cubic or Kramers
        multiplet lie in different blocks.  ``h`` is the sector's Hamiltonian when the caller has it.
        """
        if h is None:
            _, h = self.hamiltonian(False)
        if h.shape[0] <= 3000:
            es = self.eigensystem(False)
            e, v = es.energies, es.vectors
        else:
            e, v = lowest_per_block(real_if_possible(h), 30 * K_B_EV * temperature_k + 1e-5, n_min)
        rel = e - e[0]
        keep = rel <= 30 * K_B_EV * temperature_k + 1e-5
        return e[keep], v[:, keep], boltzmann_weights(rel[keep], temperature_k)

    def use_hamiltonians(self, initial, core_excited, dipole_operators=None) -> "ClusterModel":
        """Install precomputed sector Hamiltonians (sparse, on :meth:`basis` of each sector) — e.g. assembled by
        a fit from parameter-linear terms — so that eigenstates and spectra skip the operator build.  The
        caller guarantees they equal what :meth:`hamiltonian` would build; shapes are checked.  Returns self."""
        for core_hole, h in ((False, initial), (True, core_excited)):
            basis = self.basis(core_hole)
            if h.shape != (basis.dim, basis.dim):
                raise InputError(f"{'core-excited' if core_hole else 'initial'} Hamiltonian has shape {h.shape}; "
                                 f"the sector has {basis.dim} states")
            for key in [k for k in self._cache if k in (("H", core_hole), ("E", core_hole))]:
                del self._cache[key]
            self._cache[("H", core_hole)] = (basis, sp.csr_matrix(h))
        if dipole_operators is not None:
            self._cache["T"] = list(dipole_operators)
        return self

    def with_parameters(self, **changes) -> "ClusterModel":
        """A copy with some fields replaced (e.g. ``crystal_field=CrystalField('Oh', tendq=1.2)``)."""
        return replace(self, _cache={}, **changes)


def configuration_averages(basis: Basis, h: sp.spmatrix) -> np.ndarray:
    """Average diagonal energy of each configuration of ``basis`` (eV)."""
    cfg = basis.configuration_index()
    diag = np.real(h.diagonal())
    return np.array([diag[cfg == c].mean() for c in range(len(basis.configurations))])


def place_configurations(basis: Basis, h: sp.spmatrix, base: float, step: float) -> sp.csr_matrix:
    """Add on-site energies ε_d N_d (relative to the first configuration) and a constant so that the first
    configuration averages to ``base`` and the next (one more d electron, one ligand hole) to
    ``base + step``; the third then follows from F⁰ (``2·step + Udd``)."""
    avg = configuration_averages(basis, h)
    onsite = (base - avg[0]) * np.ones(basis.dim)
    if len(avg) > 1:
        eps = step - (avg[1] - avg[0])          # ε_d − ε_L
        onsite += eps * (basis.occupations("3d") - basis.configurations[0][0])
    return (h + sp.diags(onsite.astype(complex))).tocsr()


def _place_general(basis: Basis, h: sp.spmatrix, targets: np.ndarray, first: list[int],
                   valence: list[str]) -> sp.csr_matrix:
    """Add a constant and on-site energies ε_s N_s of the valence shells so that the configurations
    ``first`` average to ``targets`` (least squares; exact when the targets are affine in the occupations
    after F⁰ (Udd), as the documented definitions are) — the tests check every configuration with
    :func:`configuration_averages`."""
    avg = configuration_averages(basis, h)
    cfg = np.array(basis.configurations, dtype=float)
    a = np.hstack([np.ones((len(first), 1)), cfg[first][:, :len(valence)]])
    x, *_ = np.linalg.lstsq(a, (np.asarray(targets) - avg)[first], rcond=None)
    onsite = x[0] + sum(x[1 + i] * basis.occupations(name) for i, name in enumerate(valence))
    return (h + sp.diags(np.asarray(onsite, dtype=float).astype(complex))).tocsr()


def symmetry_blocks(h: sp.spmatrix) -> list[np.ndarray]:
    """Index sets of the connected components of the sparsity graph of ``h`` (exact invariant subspaces)."""
    from scipy.sparse.csgraph import connected_components
    pattern = sp.csr_matrix((np.ones(h.nnz), h.nonzero()), shape=h.shape)
    n_comp, labels = connected_components(pattern, directed=False)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_comp + 1))
    return [order[bounds[c]:bounds[c + 1]] for c in range(n_comp)]


def lowest_per_block(h: sp.spmatrix, span: float, n_min: int = 8) -> tuple:
    """All eigenpairs of a sparse Hermitian ``h`` within ``span`` of its lowest eigenvalue, block by block.

    The solver of :meth:`ClusterModel.low_energy_states`, for any sector Hamiltonian (e.g. the O K edge's):
    each symmetry block (:func:`symmetry_blocks`) densely when it has ≤ 400 states, by ARPACK otherwise,
    growing the number of eigenpairs until the cut-off is passed, so that degenerate manifolds are complete.

    Parameters
    ----------
    h : sparse matrix
        Hermitian sector Hamiltonian (eV).
    span : float
        Energy window above the lowest eigenvalue (eV).
    n_min : int
        Eigenpairs asked of ARPACK per block at first.

    Returns
    -------
    tuple
        ``(energies, vectors)``: eigenvalues sorted ascending and eigenvectors on the whole space (columns).
    """
    from scipy.sparse.linalg import eigsh
    found = []
    for idx in symmetry_blocks(h):
        sub = h[idx][:, idx]
        if idx.size <= 400:
            eb, vb = np.linalg.eigh(sub.toarray())
            found.append([idx, eb, vb, idx.size])
            continue
        k = min(n_min, idx.size - 2)
        eb, vb = eigsh(sub, k=k, which="SA", tol=1e-12)
        found.append([idx, eb, vb, k])
    e0 = min(float(f[1].min()) for f in found)
    for f in found:                                  # grow the blocks whose highest state is inside the cut
        while f[3] < f[0].size - 2 and f[1].max() - e0 <= span:
            f[3] = min(2 * f[3], f[0].size - 2)
            f[1], f[2] = eigsh(h[f[0]][:, f[0]], k=f[3], which="SA", tol=1e-12)
    dtype = np.result_type(*[f[2].dtype for f in found])
    picks = [(f[0], f[1][j], f[2][:, j]) for f in found for j in np.flatnonzero(f[1] - e0 <= span)]
    picks.sort(key=lambda t: t[1])
    e = np.array([p[1] for p in picks])
    v = np.zeros((h.shape[0], len(picks)), dtype=dtype)
    for j, (idx, _, vec) in enumerate(picks):
        v[idx, j] = vec
    return e, v


#: sectors from this many determinants announce their build with an INFO line (smaller ones take milliseconds)
ANNOUNCE_DIM = 1000


def _sector_progress(model, core_hole: bool, what: str, dim: int, part: str = "sector"):
    """A :func:`rixsim.progress.counter` over the symmetry blocks of one sector: a start line for large
    sectors, periodic lines while it runs (nested in a fit or another build: DEBUG only)."""
    from rixsim import progress
    sector = "core-excited" if core_hole else "initial"
    return progress.counter(f"{model.name} {sector} {part}", unit="blocks", requested=None,
                            start=f"{what} on {dim} determinants", announce=dim >= ANNOUNCE_DIM)


def block_eigh(h: sp.spmatrix, bar=None):
    """Eigen-decomposition of a sparse Hermitian matrix, block by block.

    Returns ascending eigenvalues, dense eigenvectors (columns) and, for each symmetry block, the pair
    (row indices, column indices) where its eigenvectors live — zero elsewhere.  ``bar``: a
    :class:`rixsim.progress.Counter` told the number of blocks and each one done.
    """
    h = sp.csr_matrix(h)
    real = np.abs(h.data.imag).max(initial=0.0) < 1e-13
    dim = h.shape[0]
    parts = []
    index_sets = symmetry_blocks(h)
    if bar is not None:
        bar.set_total(len(index_sets))
    for idx in index_sets:
        sub = h[idx][:, idx].toarray()
        sub = sub.real if real else sub
        w, v = sla.eigh(sub, driver="evd", overwrite_a=True, check_finite=False)
        parts.append((idx, w, v))
        if bar is not None:
            bar.update(1)
    energies = np.concatenate([w for _, w, _ in parts])
    order = np.argsort(energies, kind="stable")
    column_of = np.empty(dim, dtype=np.int64)
    column_of[order] = np.arange(dim)
    vectors = np.zeros((dim, dim), dtype=float if real else complex)
    blocks, start = [], 0
    for idx, w, v in parts:
        cols = column_of[start:start + w.size]
        vectors[np.ix_(idx, cols)] = v
        blocks.append((idx, cols))
        start += w.size
    return energies[order], vectors, tuple(blocks)


def real_if_possible(op: sp.spmatrix) -> sp.spmatrix:
    """``op`` as CSR, real when its imaginary part vanishes (below 1e-14), so that products with real
    eigenvectors stay real.

    Parameters
    ----------
    op : sparse matrix
        An operator matrix.

    Returns
    -------
    scipy.sparse.csr_matrix
    """
    op = sp.csr_matrix(op)
    return op.real if np.abs(op.data.imag).max(initial=0.0) < 1e-14 else op


def _project(bra_vectors: np.ndarray, op: sp.spmatrix, ket_vectors: np.ndarray) -> np.ndarray:
    """``bra_vectors^† · op · ket_vectors`` keeping real matrices real (two real GEMMs, not one complex)."""
    x = op @ ket_vectors
    if np.isrealobj(bra_vectors):
        if np.iscomplexobj(x):
            return bra_vectors.T @ x.real + 1j * (bra_vectors.T @ x.imag)
        return bra_vectors.T @ x
    return bra_vectors.conj().T @ x


def boltzmann_weights(energies: np.ndarray, temperature_k: float, degeneracy_tol: float = 1e-6) -> np.ndarray:
    """Boltzmann populations of states with ``energies`` (eV, ground at min).  At 0 K the states within
    ``degeneracy_tol`` eV of the ground state share the population equally."""
    e = np.asarray(energies, dtype=float) - np.min(energies)
    if temperature_k <= 0:
        w = (e <= degeneracy_tol).astype(float)
    else:
        w = np.exp(-e / (K_B_EV * temperature_k))
        w[w < 1e-12] = 0.0
    return w / w.sum()


# ---- builders from ion names --------------------------------------------------------------------------

def _table_model_inputs(ion: str, slater_scale: float, soc_scale: float, overrides: Optional[dict]):
    from rixsim.cluster import tables
    parsed = tables.parse_ion(ion)
    ini = tables.atomic_parameters(parsed, "initial")
    cex = tables.atomic_parameters(parsed, "core_excited")
    def mult(p):
        return Multiplet(p.f2dd, p.f4dd, p.f2pd, p.g1pd, p.g3pd, p.zeta_3d, p.zeta_2p).scaled(slater_scale, soc_scale)
    m_i, m_c = mult(ini), mult(cex)
    if overrides:
        allowed = set(Multiplet.__dataclass_fields__)
        for key, val in overrides.items():
            scope, par = "both", key
            for prefix in ("initial_", "core_"):
                if key.startswith(prefix):
                    scope, par = prefix[:-1], key[len(prefix):]
            if par not in allowed:
                raise InputError(f"unknown Slater/spin–orbit override {key!r}; allowed names: "
                                 f"{sorted(allowed)} (optionally prefixed initial_ or core_)")
            if scope in ("initial", "both"):
                m_i = replace(m_i, **{par: float(val)})
            if scope in ("core", "both"):
                m_c = replace(m_c, **{par: float(val)})
    l3 = tables.edge_energy(parsed.element, "L3")
    l2 = tables.edge_energy(parsed.element, "L2")
    widths = (tables.core_hole_fwhm(parsed.element, "L3"), tables.core_hole_fwhm(parsed.element, "L2"))
    return parsed, m_i, m_c, (2 * l3 + l2) / 3.0, widths


def _crystal_field(symmetry, tendq, ds, dt, dsigma, dtau, cf_matrix, b22=0.0, b42=0.0):
    if cf_matrix is not None:
        return CrystalField("custom", matrix=cf_matrix)
    return CrystalField(symmetry, tendq=tendq, ds=ds, dt=dt, dsigma=dsigma, dtau=dtau, b22=b22, b42=b42)


def atomic_model(ion: str, *, symmetry: str = "Oh", tendq: float = 0.0, ds: float = 0.0, dt: float = 0.0,
                 dsigma: float = 0.0, dtau: float = 0.0, cf_matrix=None, slater_scale: float = DEFAULT_SLATER_SCALE,
                 soc_scale: float = 1.0, overrides: Optional[dict] = None, exchange_field=(0.0, 0.0, 0.0),
                 l3_fwhm: Optional[float] = None, l2_fwhm: Optional[float] = None, shift: float = 0.0,
                 charge_transfer: Optional[ChargeTransfer] = None,
                 back_donation: Optional[BackDonation] = None, b22: float = 0.0, b42: float = 0.0) -> ClusterModel:
    """Ionic crystal-field multiplet model of ``ion`` (e.g. ``"Mn3+"``) from the reference tables.

    Slater integrals (F and G) are the tabulated Hartree–Fock values times ``slater_scale`` (default 0.8);
    spin–orbit constants times ``soc_scale`` (1.0).  ``overrides`` sets any scaled value by name
    (``f2dd``, ``f4dd``, ``f2pd``, ``g1pd``, ``g3pd``, ``zeta_3d``, ``zeta_2p``; prefix ``initial_`` or
    ``core_`` for one configuration only).  Crystal field parameters in eV (``tendq`` = 10Dq).  Lifetime
    widths default to the tabulated L3/L2 FWHM.  ``shift`` (eV) moves the absolute energy axis.
    ``charge_transfer`` (LMCT) and ``back_donation`` (MLCT) add the ligand shells.  ``b22``, ``b42`` (eV) are
    the orthorhombic terms of ``symmetry="D2h"`` (:mod:`rixsim.cluster.crystal_field`).
    """
    b22 = validate.number(b22, "b22", "eV", lo=-10.0, hi=10.0)
    b42 = validate.number(b42, "b42", "eV", lo=-10.0, hi=10.0)
    tendq, ds, dt, dsigma, dtau, slater_scale, soc_scale, shift, l3_fwhm, l2_fwhm, exchange_field, cf_matrix, overrides = validate.model_inputs(tendq=tendq, ds=ds, dt=dt, dsigma=dsigma, dtau=dtau, slater_scale=slater_scale, soc_scale=soc_scale, shift=shift, l3_fwhm=l3_fwhm, l2_fwhm=l2_fwhm, exchange_field=exchange_field, cf_matrix=cf_matrix, overrides=overrides)  # noqa: E501
    parsed, m_i, m_c, edge, widths = _table_model_inputs(ion, slater_scale, soc_scale, overrides)
    return ClusterModel(
        name=ion, n_d=parsed.n_electrons, initial=m_i, core_excited=m_c,
        crystal_field=_crystal_field(symmetry, tendq, ds, dt, dsigma, dtau, cf_matrix, b22, b42),
        charge_transfer=charge_transfer, back_donation=back_donation, exchange_field=tuple(exchange_field),
        l3_fwhm=widths[0] if l3_fwhm is None else l3_fwhm, l2_fwhm=widths[1] if l2_fwhm is None else l2_fwhm,
        edge_offset=edge + float(shift))


def cluster_model(ion: str, *, delta: float, udd: float, upd: float, veg: float, vt2g: Optional[float] = None,
                  tenq_ligand: float = 0.0, n_ligand_holes: int = 2, **kwargs) -> ClusterModel:
    """Charge-transfer cluster model dⁿ + dⁿ⁺¹L̲ (+ dⁿ⁺²L̲²): :func:`atomic_model` plus a ligand shell.

    ``vt2g`` defaults to ``veg / 2`` (the usual pdσ/pdπ ratio: V(t2g) ≈ −V(eg)/2 in magnitude, e.g.
    Harrison's scaling; Bocquet et al., PRB 53, 1161 (1996) use V(t2g) = V(eg)/2).
    """
    delta, udd, upd, veg, vt2g, tenq_ligand, n_ligand_holes = validate.model_inputs(delta=delta, udd=udd, upd=upd, veg=veg, vt2g=vt2g, tenq_ligand=tenq_ligand, n_ligand_holes=n_ligand_holes)  # noqa: E501
    ct = ChargeTransfer(delta, udd, upd, veg, veg / 2.0 if vt2g is None else vt2g, tenq_ligand, n_ligand_holes)
    return atomic_model(ion, charge_transfer=ct, **kwargs)

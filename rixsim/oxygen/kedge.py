"""The O K edge of a transition-metal oxide from the charge-transfer cluster: the hybridisation pre-edge,
the lattice-oxygen mRIXS (coherent low-loss features and the broad ≈525 eV normal emission), and electrode
maps with and without the oxidised-oxygen feature of :mod:`rixsim.oxygen.vibronic`.

Physics (seed section 5.1; de Groot et al., PRB 40, 5715 (1989))
-------------------------------------------------------------------
The O 1s → O 2p transition reaches only O 2p holes, and in the cluster the O 2p holes are the ligand holes
L̲ that covalency mixes into the ground state (dⁿ⁺¹L̲, dⁿ⁺²L̲², ...).  The pre-edge therefore measures TM–O
hybridisation and TM valence — no oxygen redox is needed to change it.  The shells are 3d, L (the ligand
combinations of e_g/t_2g symmetry, as in :mod:`rixsim.cluster.model`) and O 1s:

* initial sector 1s² dⁿ⁺ᵏL¹⁰⁻ᵏ with the L-edge model's valence Hamiltonian (same Δ, Udd, V, 10Dq);
* core-excited sector 1s¹ dⁿ⁺¹⁺ᵏL¹⁰⁻ᵏ: E(1s¹dⁿ⁺¹L¹⁰) − E(dⁿ) = Δ (the 1s → L̲ excitation of the dⁿ⁺¹L̲
  component costs only ``edge_offset``), each further L → d transfer costs Δ + Udd + Q with Q the O 1s
  hole's attraction on the ligand electrons (``core_hole_ligand``);
* dipole: :math:`T_{\\gamma\\sigma} = L^\\dagger_{\\gamma\\sigma} s_\\sigma` for the ten ligand spin-orbitals, summed
  incoherently (a powder of O sites whose 2p holes are spread over the ligand combinations).  Exact sum
  rule: the integrated pre-edge intensity equals the number of ligand holes of the initial state.

Back-donation (a model with :class:`~rixsim.cluster.model.BackDonation`): the acceptor shell L* is kept in
all three sectors, with the configurations dⁿ⁺ᵏ⁻ʲL̲ᵏL*ʲ of the L-edge model (``transfer_counts``), so the
ground state mixes LMCT and MLCT exactly as at the L edge.  The K-edge channel is 1s → L̲ of the *donor*
shell only (a ligand K edge of the σ-donor orbitals; for a π-acceptor such as CN⁻ the ligand 1s → π*
transition is a molecular feature the cluster does not describe), so the sum rule above still holds with
"ligand holes" the holes of L.  Configuration averages, with k holes in L and j electrons in L*:

* initial and valence-hole sector: E(k, j) = kΔ + jΔ* + Udd[k(k−1)/2 + j(j−1)/2 − kj] (as the L edge);
* core-excited sector (1s¹, the excited electron in L): E(k, j) = E_initial(k + 1, j) + kQ − jQ*, with
  Q = ``core_hole_ligand`` and Q* = ``core_hole_acceptor`` (the 1s hole's attraction of an L* electron,
  0 by default).  Without L* these are the relations above.

Photon energies are absolute: a core-excited state m is reached at ``edge_offset + E_m − E_g``.  The
default ``edge_offset`` = 523.5 eV is a calibration: it puts the pre-edge of a NiO-like Ni2+ cluster
(Δ 6.0, Udd 7.3, V(e_g) 2.2, 10Dq 0.7 eV, dⁿ⁺²L̲² included) at 532.0 eV, the NiO pre-edge (de Groot et al. 1989).
The main edge above ≈ 535 eV (O 2p mixed with TM 4sp, not in the cluster) is a documented arctan step.

Lattice-oxygen emission: the normal (fluorescence-like) O Kα band is the ligand-removal spectrum of the
initial state, :math:`\\sum_{f,\\gamma\\sigma}|\\langle f|L_{\\gamma\\sigma}|g\\rangle|^2`, at emission energy
``lattice_emission − (E_f − E_g)`` (E_f in the dⁿ⁺ᵏL¹⁹⁻ᵏ valence-hole sector, zero at its dⁿL̲ average),
broadened by the O 2p band width (Gaussian ``band_fwhm``), times the O-K absorption at the excitation energy.

Large clusters: the functions here diagonalise both sectors (``method="dense"``), which is fine up to ~10⁴
states.  ``method="krylov"`` (and ``"auto"`` above :data:`rixsim.oxygen.kedge_krylov.OK_DENSE_LIMIT` states)
evaluates the same XAS, normal-emission band and map from the sparse Hamiltonians by Lanczos and shifted
Krylov solves (:mod:`rixsim.oxygen.kedge_krylov`), e.g. for Mn4+ d3 … d6L̲³.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rixsim import validate
from rixsim.cluster.model import (
    K_B_EV,
    ClusterModel,
    _place_general,
    _project,
    real_if_possible,
    block_eigh,
    boltzmann_weights,
    place_configurations,
)
from rixsim.errors import InputError
from rixsim.manybody import operators
from rixsim.manybody.basis import Basis, Shell, ShellSet
from rixsim.results import RixsMap, Spectrum
from rixsim.spectroscopy import broadening

#: Default absolute energy of the configuration-averaged 1s → L̲ transition (see module docstring)
DEFAULT_OK_OFFSET = 523.5
#: O 1s core-hole Lorentzian FWHM (eV): Keski-Rahkonen & Krause, At. Data Nucl. Data Tables 14, 139 (1974)
O_1S_FWHM = 0.156
#: centre of the broad lattice-oxygen emission band (eV), seed section 5.2 ("broad ≈525 eV emission")
LATTICE_EMISSION = 525.0


@dataclass(frozen=True, eq=False)
class OxygenKEdge:
    """O K edge of a charge-transfer :class:`~rixsim.cluster.model.ClusterModel` (energies in eV).

    Attributes
    ----------
    model : ClusterModel
        Must have ``charge_transfer``; its initial-state multiplets, crystal field and Δ, Udd, V are used.
    edge_offset : float
        Absolute photon energy of the configuration-averaged 1s → L̲ transition.
    core_hole_ligand : float
        Q ≥ 0: extra cost of moving a ligand electron to the TM while the O 1s hole is present.
    core_fwhm : float
        O 1s core-hole Lorentzian FWHM.
    core_hole_acceptor : float
        Q* ≥ 0: the ligand 1s hole's attraction of an electron in the acceptor shell L* (models with
        back-donation only; see the module docstring).
    main_edge_energy, main_edge_height, main_edge_fwhm : float
        The phenomenological main edge: ``height · (1/2 + arctan((E − energy)/(fwhm/2))/π)`` per eV.
    """

    model: ClusterModel
    edge_offset: float = DEFAULT_OK_OFFSET
    core_hole_ligand: float = 1.0
    core_fwhm: float = O_1S_FWHM
    main_edge_energy: float = 535.0
    main_edge_height: float = 0.6
    main_edge_fwhm: float = 2.0
    core_hole_acceptor: float = 0.0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        if self.model.charge_transfer is None:
            if self.model.back_donation is not None:
                raise InputError("a ligand K edge needs the donor shell L (charge_transfer): back-donation alone "
                                 "puts electrons into the acceptor L*, leaving no ligand holes for 1s → L̲; add "
                                 "ChargeTransfer(...) to the model")
            raise InputError("the O K edge needs a charge-transfer model (cluster_model(...)): an ionic model "
                             "has no O 2p holes")
        validate.nonnegative(self.core_hole_ligand, "core_hole_ligand", "eV")
        validate.nonnegative(self.core_hole_acceptor, "core_hole_acceptor", "eV")
        if self.core_hole_acceptor and self.model.back_donation is None:
            raise InputError(f"core_hole_acceptor = {self.core_hole_acceptor!r} eV needs a model with "
                             "back_donation (an acceptor shell L*)")
        validate.width(self.core_fwhm, "core_fwhm", allow_zero=False)
        validate.width(self.main_edge_fwhm, "main_edge_fwhm", allow_zero=False)
        validate.nonnegative(self.main_edge_height, "main_edge_height", "per eV")

    @property
    def shells(self) -> ShellSet:
        bd = self.model.back_donation
        return ShellSet((Shell("3d", 2), Shell("L", 2)) + ((bd.shell,) if bd is not None else ()) + (Shell("1s", 0),))

    def _pairs(self, kind: str) -> list[tuple[int, int]]:
        """(k, j) of each configuration of a sector: k holes in L (counted from L¹⁰ for 'initial' and
        'core', from L⁹ for 'hole'), j electrons in L*; the d count is first + k − j."""
        return self.model.transfer_counts(kind == "core")

    def _sector(self, kind: str) -> Basis:
        n, nh = self.model.n_d, self.model.charge_transfer.n_ligand_holes
        if self.model.back_donation is not None:
            first, n_l, n_s = {"initial": (n, 10, 2), "core": (n + 1, 10, 1), "hole": (n, 9, 2)}[kind]
            configs = [(first + k - j, n_l - k, j, n_s) for k, j in self._pairs(kind) if n_l - k >= 0]
            if not configs:
                raise InputError(f"{self.model.name}: no {kind} configuration (d{first} exceeds 10)")
            return Basis.from_configurations(self.shells, configs)
        if kind == "initial":
            first, n_l, n_s = n, 10, 2
        elif kind == "core":
            first, n_l, n_s = n + 1, 10, 1
        else:                                   # valence-hole sector reached by O Kα emission
            first, n_l, n_s = n, 9, 2
        configs = [(first + k, n_l - k, n_s) for k in range(nh + 1) if first + k <= 10 and n_l - k >= 0]
        if not configs:
            raise InputError(f"{self.model.name}: no {kind} configuration (d{first} exceeds 10)")
        return Basis.from_configurations(self.shells, configs)

    def hamiltonian(self, kind: str, diagonalise: bool = True):
        """Sparse valence Hamiltonian of sector ``kind`` ('initial', 'core', 'hole') and, when
        ``diagonalise``, its eigenvalues, eigenvectors and symmetry blocks; cached."""
        if not diagonalise:
            key = ("sparse", kind)
            if key not in self._cache:
                basis = self._sector(kind)
                self._cache[key] = (basis, self._operator(basis, kind))
            return self._cache[key]
        if kind not in self._cache:
            basis, h = self.hamiltonian(kind, diagonalise=False)
            self._cache[kind] = (basis, h, *block_eigh(h))
        return self._cache[kind]

    def _terms(self):
        m = self.model
        one = operators.embed(self.shells, m.valence_blocks(m.initial))
        two = operators.embed_two_body(self.shells, {("3d",) * 4: m.dd_coulomb(m.initial)})
        return one, two

    def sector_terms(self, kind: str):
        """``(basis, one_body, two_body)`` of sector ``kind`` ('initial', 'core', 'hole'): what its Hamiltonian
        is built from, to plan the build before it starts (the on-site placement is added afterwards)."""
        return (self._sector(kind), *self._terms())

    def sector_dim(self, kind: str) -> int:
        """Number of determinants of sector ``kind`` ('initial', 'core', 'hole'), without building it."""
        return self._sector(kind).dim

    def _operator(self, basis: Basis, kind: str):
        m, ct = self.model, self.model.charge_transfer
        one, two = self._terms()
        h = operators.one_body(basis, basis, one) + operators.two_body(basis, two)
        if m.back_donation is not None:
            return self._place_with_acceptor(basis, h, kind)
        if kind == "core":
            return place_configurations(basis, h, base=ct.delta, step=ct.delta + ct.udd + self.core_hole_ligand)
        return place_configurations(basis, h, base=0.0, step=ct.delta)

    def configuration_targets(self, kind: str) -> np.ndarray:
        """Configuration-averaged energies (eV) of sector ``kind`` with back-donation, one per configuration
        of the basis (see the module docstring); with ``kind='core'`` the 1s¹ sector."""
        m = self.model
        ct, bd = m.charge_transfer, m.back_donation
        if bd is None:
            raise InputError("configuration_targets is defined here for models with back_donation; without it "
                             "the sectors are placed by Δ, Udd and core_hole_ligand alone")

        def e0(k, j):
            return k * ct.delta + j * bd.delta + ct.udd * (k * (k - 1) / 2 + j * (j - 1) / 2 - k * j)
        out = []
        for c in self._sector(kind).configurations:
            k, j = (10 if kind != "hole" else 9) - c[1], c[2]
            out.append(e0(k + 1, j) + k * self.core_hole_ligand - j * self.core_hole_acceptor
                       if kind == "core" else e0(k, j))
        return np.array(out)

    def _place_with_acceptor(self, basis: Basis, h, kind: str):
        targets = self.configuration_targets(kind)
        # every configuration (exact: the targets are affine in the occupations after F⁰; see ClusterModel)
        return _place_general(basis, h, targets, list(range(len(basis.configurations))), ["3d", "L", "L*"])

    def _channel(self, bra: Basis, ket: Basis, annihilate_core: bool):
        """The ten channel operators L†_i s_σ(i) (or L_i alone for emission), as sparse matrices."""
        sh = self.shells
        ops = []
        for i in range(10):
            mat = np.zeros((sh.n_spin_orbitals, sh.n_spin_orbitals), complex)
            if annihilate_core:
                mat[sh.offset("L") + i, sh.offset("1s") + (i % 2)] = 1.0
                ops.append(real_if_possible(operators.one_body(bra, ket, mat)))
            else:
                ops.append(_annihilator(bra, ket, sh.offset("L") + i))
        return ops

    def initial_states(self, temperature_k: float):
        _basis, _, e, v, _ = self.hamiltonian("initial")
        e = e - e[0]
        cutoff = 30 * K_B_EV * temperature_k + 1e-5
        keep = e <= cutoff
        w = boltzmann_weights(e[keep], temperature_k)
        return e, v, keep, w

    def absorption_channels(self, temperature_k: float):
        """``(E_i, weights, E_m, D)`` with ``D[c, m, i]`` = ⟨m|L†_c s|i⟩ for populated initial states i."""
        e_i, v_i, keep, w = self.initial_states(temperature_k)
        b_i = self.hamiltonian("initial")[0]
        b_m, _, e_m, v_m, _ = self.hamiltonian("core")
        ops = self._channel(b_m, b_i, annihilate_core=True)
        d = np.stack([_project(v_m, op, v_i[:, keep]) for op in ops])
        return e_i[keep], w, e_m - self.hamiltonian("initial")[2][0], d

    def ligand_holes(self, temperature_k: float = 0.0) -> float:
        """Boltzmann-averaged number of ligand (O 2p) holes of the initial state."""
        _e_i, v_i, keep, w = self.initial_states(temperature_k)
        basis = self.hamiltonian("initial")[0]
        holes = 10 - basis.occupations("L")
        per_state = np.sum(np.abs(v_i[:, keep]) ** 2 * holes[:, None], axis=0)
        return float(per_state @ w)

    def main_edge(self, energies) -> np.ndarray:
        e = np.asarray(energies, dtype=float)
        return self.main_edge_height * (0.5 + np.arctan((e - self.main_edge_energy) / (0.5 * self.main_edge_fwhm)) / np.pi)


def _annihilator(bra: Basis, ket: Basis, p: int):
    """Matrix of c_p from ``ket`` (N electrons) to ``bra`` (N − 1) by bit manipulation."""
    import scipy.sparse as sp
    bit = np.uint64(1) << np.uint64(p)
    has = (ket.states & bit) != 0
    cols = np.flatnonzero(has)
    new = ket.states[cols] ^ bit
    below = ket.states[cols] & (bit - np.uint64(1))
    from rixsim.manybody.basis import _popcount
    sign = 1.0 - 2.0 * (_popcount(below) % 2)
    rows = np.searchsorted(bra.states, new)
    ok = (rows < bra.dim) & (bra.states[np.minimum(rows, bra.dim - 1)] == new)
    return sp.csr_matrix((sign[ok], (rows[ok], cols[ok])), shape=(bra.dim, ket.dim))


def oxygen_k_xas(edge: OxygenKEdge, energies, temperature_k: float = 300.0, gauss_fwhm: float = 0.2,
                 main_edge: bool = True, method: str = "auto", *, krylov=None,
                 memory_gb: float | None = None) -> Spectrum:
    """O K-edge absorption on absolute photon energies: the cluster pre-edge (+ the phenomenological main edge).

    The pre-edge integrates to the number of ligand holes (see :meth:`OxygenKEdge.ligand_holes`).  ``method``:
    'dense' (both sectors diagonalised), 'krylov' (:func:`rixsim.oxygen.kedge_krylov.krylov_oxygen_k_xas`, with
    ``krylov`` options and ``memory_gb``) or 'auto' (Krylov when a sector has more than
    :data:`~rixsim.oxygen.kedge_krylov.OK_DENSE_LIMIT` states).
    """
    if _use_krylov(edge, method):
        from rixsim.oxygen.kedge_krylov import krylov_oxygen_k_xas
        return krylov_oxygen_k_xas(edge, energies, temperature_k, gauss_fwhm, main_edge, krylov=krylov,
                                   memory_gb=memory_gb)
    axis = validate.energy_axis(energies, "energies")
    gauss = validate.width(gauss_fwhm, "gauss_fwhm")
    e_i, w, e_m, d = edge.absorption_channels(temperature_k)
    strength = np.sum(np.abs(d) ** 2, axis=0) * w[None, :]          # (n_m, n_i)
    pos = edge.edge_offset + e_m[:, None] - e_i[None, :]
    keep = strength > 1e-12 * max(strength.max(initial=0), 1e-300)
    y = broadening.broaden_sticks(axis, pos[keep], strength[keep], edge.core_fwhm, gauss)
    if main_edge:
        y = y + edge.main_edge(axis)
    return Spectrum(axis, y, label=f"{edge.model.name} O K XAS",
                    meta={"temperature_k": temperature_k, "gauss_fwhm": gauss, "main_edge": main_edge,
                          "ligand_holes": edge.ligand_holes(temperature_k)})


def lattice_emission(edge: OxygenKEdge, emission, temperature_k: float = 300.0, band_fwhm: float = 3.0,
                     center: float = LATTICE_EMISSION, method: str = "auto", *, krylov=None,
                     memory_gb: float | None = None) -> Spectrum:
    """Normal O Kα emission of lattice oxygen (unit area) on absolute emission energies: the ligand-removal
    spectrum of the initial state broadened by the O 2p band (Gaussian FWHM ``band_fwhm``).

    ``method``: 'dense' (initial states from the dense eigensystem), 'krylov' (from the sparse initial-sector
    Hamiltonian, :func:`rixsim.oxygen.kedge_krylov.krylov_lattice_emission`, with ``krylov`` and
    ``memory_gb``) or 'auto' (Krylov above :data:`~rixsim.oxygen.kedge_krylov.OK_DENSE_LIMIT` states).
    """
    if _use_krylov(edge, method):
        from rixsim.oxygen.kedge_krylov import krylov_lattice_emission
        return krylov_lattice_emission(edge, emission, temperature_k, band_fwhm, center, krylov=krylov,
                                       memory_gb=memory_gb)
    axis = validate.energy_axis(emission, "emission")
    band = validate.width(band_fwhm, "band_fwhm", allow_zero=False)
    e_i, v_i, keep, w = edge.initial_states(temperature_k)
    e_abs = edge.hamiltonian("initial")[2][0] + e_i[keep]
    return _removal_band(edge, axis, band, center, e_abs, v_i[:, keep], w)


def _removal_band(edge: OxygenKEdge, axis, band: float, center: float, energies, vectors, weights) -> Spectrum:
    """The lattice O Kα band of :func:`lattice_emission` from populated initial states (absolute energies in
    the Hamiltonian's frame, vectors on the initial-sector basis, Boltzmann weights)."""
    from rixsim.manybody.lanczos import continued_fraction, lanczos_coefficients
    b_i = edge.hamiltonian("initial", diagonalise=False)[0]
    b_h, h_h = edge.hamiltonian("hole", diagonalise=False)
    h_h = real_if_possible(h_h)
    ops = edge._channel(b_h, b_i, annihilate_core=False)
    # removal spectral function by Lanczos (no diagonalisation of the valence-hole sector): binding energy
    # E_f − E_g on a grid, a tiny Lorentzian, then the O 2p band Gaussian along emission
    binding = center - axis
    y = np.zeros_like(axis)
    area = 0.0
    for e_g, vg, wg in zip(energies, vectors.T, weights):
        for op in ops:
            a, b, n2 = lanczos_coefficients(h_h, op @ vg, n_iter=80)
            y += wg * -continued_fraction(a, b, n2, binding + e_g + 0.05j).imag / np.pi
            area += wg * n2
    y = broadening.gaussian_convolve(axis, y, band)
    return Spectrum(axis, y / area, label=f"{edge.model.name} lattice O Kα", meta={"band_fwhm": band})


def _use_krylov(edge: OxygenKEdge, method: str) -> bool:
    """Whether ``method`` ('auto', 'dense', 'krylov') selects the Krylov path for ``edge``."""
    if method not in ("auto", "dense", "krylov"):
        raise InputError(f"method must be 'auto', 'dense' or 'krylov'; got {method!r}")
    if method == "auto":
        from rixsim.oxygen.kedge_krylov import OK_DENSE_LIMIT
        return max(edge.sector_dim("initial"), edge.sector_dim("core")) > OK_DENSE_LIMIT
    return method == "krylov"


def coherent_loss_grid(excitation: np.ndarray, emission: np.ndarray) -> tuple[np.ndarray, float]:
    """The loss grid (eV, relative) on which the coherent O-K map is broadened before it is read off at
    loss = excitation − emission, and its step: half the emission step, at most 0.025 eV, covering every loss of
    the map with 1 eV to spare on both sides."""
    step = min(np.min(np.diff(emission)) if emission.size > 1 else 0.05, 0.05) / 2
    return np.arange(excitation[0] - emission[-1] - 1.0, excitation[-1] - emission[0] + 1.0 + step, step), step


def coherent_on_emission(edge: OxygenKEdge, excitation, emission, loss, on_loss, on_loss_el):
    """``(coherent, elastic)`` on the (excitation × emission) axes from rows broadened on ``loss``, per absorbed
    photon: Γ/2π makes the emission-integrated coherent part equal absorption × emission branching, the same
    normalisation as the fluorescence band and as :mod:`rixsim.oxygen.vibronic`."""
    per_photon = edge.core_fwhm / (2 * np.pi)
    coherent = per_photon * np.array([np.interp(om - emission, loss, row) for om, row in zip(excitation, on_loss)])
    elastic = per_photon * np.array([np.interp(om - emission, loss, row) for om, row in zip(excitation, on_loss_el)])
    return coherent, elastic


def lattice_oxygen_map(edge: OxygenKEdge, excitation, emission, temperature_k: float = 300.0,
                       final_fwhm: float = 0.1, resolution_fwhm: float = 0.3, band_fwhm: float = 3.0,
                       fluorescence_weight: float = 1.0, xas_gauss_fwhm: float = 0.2, method: str = "auto", *,
                       krylov=None, memory_gb: float | None = None) -> RixsMap:
    """O-K mRIXS map of lattice oxygen on absolute axes (rows excitation, columns emission, eV).

    Two parts: (i) the coherent cluster Kramers–Heisenberg scattering through the pre-edge states (elastic line,
    d–d and charge-transfer losses), channel-diagonal in the ten ligand spin-orbitals, times Γ/2π so that its
    emission integral is the absorption times the emission branching (per absorbed photon); (ii) the normal emission
    band, :math:`\\mu_O(\\omega_{in})\\,X(\\omega_{out})` with X from :func:`lattice_emission`, weighted by
    ``fluorescence_weight``.  ``elastic`` holds the elastic part of (i).  ``method``: 'dense' (eigenstates of
    both sectors), 'krylov' (:func:`rixsim.oxygen.kedge_krylov.krylov_lattice_oxygen_map`: the same quantity
    from shifted Krylov spaces, with ``krylov`` options and ``memory_gb``) or 'auto' (Krylov when a sector has
    more than :data:`~rixsim.oxygen.kedge_krylov.OK_DENSE_LIMIT` states).
    """
    if _use_krylov(edge, method):
        from rixsim.oxygen.kedge_krylov import krylov_lattice_oxygen_map
        return krylov_lattice_oxygen_map(edge, excitation, emission, temperature_k, final_fwhm, resolution_fwhm,
                                         band_fwhm, fluorescence_weight, xas_gauss_fwhm, krylov=krylov,
                                         memory_gb=memory_gb)
    exc = validate.energy_axis(excitation, "excitation")
    emi = validate.energy_axis(emission, "emission")
    ff = validate.width(final_fwhm, "final_fwhm")
    res = validate.width(resolution_fwhm, "resolution_fwhm")
    e_g, w, e_m, d = edge.absorption_channels(temperature_k)
    # final states: all initial-sector eigenstates within the loss range of the map
    _, _, e_all, v_all, _ = edge.hamiltonian("initial")
    e_f = e_all - e_all[0]
    max_loss = exc[-1] - emi[0] + 5 * (ff + res)
    fsel = e_f <= max_loss
    b_i = edge.hamiltonian("initial")[0]
    b_m, _, _, v_m, _ = edge.hamiltonian("core")
    ops = edge._channel(b_m, b_i, annihilate_core=True)
    d_f = np.stack([_project(v_m, op, v_all[:, fsel]) for op in ops])          # (c, m, f)
    e_f = e_f[fsel]
    hw = 0.5 * edge.core_fwhm
    shift = (e_f[:, None] - e_g[None, :]).ravel()                             # loss of each (f, g) pair
    d_f_h = np.ascontiguousarray(np.conj(np.transpose(d_f, (0, 2, 1))))       # (c, f, m)
    pair_weights = np.empty((exc.size, shift.size))
    for k, om in enumerate(exc):                                              # Python loop over ω only
        denom = om - (edge.edge_offset + e_m[:, None] - e_g[None, :]) + 1j * hw   # (m, g)
        amp = np.matmul(d_f_h, d / denom[None])                                  # (c, f, g)
        pair_weights[k] = (np.sum(np.abs(amp) ** 2, axis=0) * w[None, :]).ravel()
    keep = pair_weights.max(axis=0) > 1e-10 * max(pair_weights.max(), 1e-300)
    # broaden on a loss grid once (one GEMM), then read each row off at loss = ω − emission
    loss, step = coherent_loss_grid(exc, emi)
    line = broadening.stick_matrix(loss, shift[keep], max(ff, 2 * step))
    on_loss = broadening.gaussian_convolve(loss, pair_weights[:, keep] @ line, res)
    on_loss_el = broadening.gaussian_convolve(loss, (pair_weights[:, keep] * (np.abs(shift[keep]) < 1e-5)) @ line, res)
    coherent, elastic = coherent_on_emission(edge, exc, emi, loss, on_loss, on_loss_el)
    mu = oxygen_k_xas(edge, exc, temperature_k, xas_gauss_fwhm, method="dense").intensity
    xes = lattice_emission(edge, emi, temperature_k, band_fwhm, method="dense").intensity
    total = coherent + fluorescence_weight * mu[:, None] * xes[None, :]
    return RixsMap(exc, emi, total, elastic=elastic, label=f"{edge.model.name} lattice-oxygen O K mRIXS",
                   meta={"temperature_k": temperature_k, "final_fwhm": ff, "resolution_fwhm": res,
                         "band_fwhm": band_fwhm, "fluorescence_weight": fluorescence_weight})


# ---- electrode examples (seed sections 5.1–5.2) ---------------------------------------------------------

#: Ni–O cluster parameters of the electrode examples (eV).  Δ falls with Ni valence as in the
#: Zaanen–Sawatzky–Allen picture (Ni3+/Ni4+ oxides are negative- or small-Δ); Udd, V(e_g), 10Dq typical of
#: published NiO-type cluster analyses.  Illustrative, not fitted.
ELECTRODE_NI = {
    "Ni2+": {"tendq": 0.7, "delta": 6.0, "udd": 7.3, "upd": 8.5, "veg": 2.2},
    "Ni3+": {"tendq": 1.2, "delta": 3.0, "udd": 7.3, "upd": 8.5, "veg": 2.4},
    "Ni4+": {"tendq": 1.6, "delta": 0.5, "udd": 7.3, "upd": 8.5, "veg": 2.6},
}


@dataclass(frozen=True)
class ElectrodeOK:
    """O-K sXAS and mRIXS of one electrode state (absolute energies, eV)."""

    name: str
    xas: Spectrum
    rixs: RixsMap
    oxidised_oxygen_amplitude: float


def electrode_examples(excitation=None, emission=None, xas_energies=None, temperature_k: float = 300.0,
                       n_ligand_holes: int = 1, oxidised_share: float = 0.25) -> dict[str, ElectrodeOK]:
    """Three built-in O-K electrode states in the spirit of the seed's Figs. 6–7:

    * ``discharged`` — Ni2+ lattice oxygen only;
    * ``charged_no_oxygen_redox`` — the TM oxidised to Ni4+, lattice oxygen only (the pre-edge grows from
      hybridisation alone, seed §5.1, Fig. 6b);
    * ``charged_oxygen_redox`` — the oxidised-oxygen species of :mod:`rixsim.oxygen.vibronic` carrying
      ``oxidised_share`` of the pre-edge area, on a Ni lattice whose Ni2+/3+/4+ fractions (non-negative least
      squares) make its sXAS match the no-oxygen-redox charged state as closely as possible (the seed's
      point: sXAS cannot tell them apart, mRIXS at (531, 523.7) eV can).
    """
    from rixsim.oxygen import potentials, vibronic
    exc = validate.energy_axis(np.linspace(527.0, 536.0, 46) if excitation is None else excitation, "excitation")
    emi = validate.energy_axis(np.linspace(518.0, 532.0, 141) if emission is None else emission, "emission")
    ex = validate.energy_axis(np.linspace(525.0, 540.0, 301) if xas_energies is None else xas_energies, "xas_energies")
    from rixsim.cluster.model import cluster_model
    edges = {k: OxygenKEdge(cluster_model(k, n_ligand_holes=n_ligand_holes, **v)) for k, v in ELECTRODE_NI.items()}
    mu = {k: oxygen_k_xas(e, ex, temperature_k) for k, e in edges.items()}
    lat = {k: lattice_oxygen_map(e, exc, emi, temperature_k) for k, e in (("Ni2+", edges["Ni2+"]),
                                                                          ("Ni3+", edges["Ni3+"]),
                                                                          ("Ni4+", edges["Ni4+"]))}
    params = potentials.OxidisedOxygenParameters(temperature_k=temperature_k)
    ox_xas = vibronic.vibronic_xas(params, ex).intensity
    ox_map = vibronic.vibronic_rixs_map(params, exc, emi).intensity
    # oxidised oxygen carries `oxidised_share` of the charged state's pre-edge area; the Ni lattice mixture
    # (non-negative Ni2+/3+/4+ fractions) is then chosen to make the sXAS match the no-oxygen-redox state
    from scipy.optimize import nnls
    pre = (ex >= 526.0) & (ex <= 534.0)
    target_area = np.trapezoid((mu["Ni4+"].intensity - edges["Ni4+"].main_edge(ex))[pre], ex[pre])
    amp = oxidised_share * target_area / np.trapezoid(ox_xas[pre], ex[pre])
    basis = np.stack([mu[k].intensity for k in ("Ni2+", "Ni3+", "Ni4+")], axis=1)
    frac, _ = nnls(basis, mu["Ni4+"].intensity - amp * ox_xas)
    mix_xas = basis @ frac + amp * ox_xas
    mix_map = sum(f * lat[k].intensity for f, k in zip(frac, ("Ni2+", "Ni3+", "Ni4+"))) + amp * ox_map
    out = {
        "discharged": ElectrodeOK("discharged", mu["Ni2+"], lat["Ni2+"], 0.0),
        "charged_no_oxygen_redox": ElectrodeOK("charged, no oxygen redox", mu["Ni4+"], lat["Ni4+"], 0.0),
        "charged_oxygen_redox": ElectrodeOK(
            "charged, oxygen redox",
            Spectrum(ex, mix_xas, label="charged (Ni lattice + oxidised O) O K XAS",
                     meta={"ni_fractions": frac.tolist()}),
            RixsMap(exc, emi, mix_map, label="charged (Ni lattice + oxidised O) O K mRIXS"),
            float(amp)),
    }
    return out


def redox_contrast(a: ElectrodeOK, b: ElectrodeOK, point=(531.0, 523.7), half_window=(0.3, 0.3),
                   xas_range=(526.0, 534.0)) -> dict:
    """Contrast between two electrode states: sXAS (normalised L1 difference over ``xas_range``) and mRIXS
    (relative intensity difference in a box around ``point`` = (excitation, emission)).  Returns numbers."""
    sel = (a.xas.energy >= xas_range[0]) & (a.xas.energy <= xas_range[1])
    xa, xb = a.xas.intensity[sel], b.xas.intensity[sel]
    xas_c = float(np.sum(np.abs(xa - xb)) / np.sum(np.abs(xa + xb)) * 2)
    r = (np.abs(a.rixs.excitation - point[0]) <= half_window[0])
    c = (np.abs(a.rixs.emission - point[1]) <= half_window[1])
    ia = float(a.rixs.intensity[np.ix_(r, c)].sum())
    ib = float(b.rixs.intensity[np.ix_(r, c)].sum())
    rixs_c = abs(ia - ib) / (0.5 * (ia + ib))
    return {"xas_contrast": xas_c, "rixs_contrast": rixs_c, "ratio": rixs_c / max(xas_c, 1e-300)}

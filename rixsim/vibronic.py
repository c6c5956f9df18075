"""Vibronic Kramers–Heisenberg model of sXAS and mRIXS: harmonic or Morse potentials along one vibrational
coordinate, optionally with further separable modes (:class:`Mode`).

Two uses in rixsim:

* the oxygen-redox mRIXS feature of localised oxidised oxygen (trapped O2-like species) in charged Li-rich
  oxides — a sharp feature at 531 eV excitation and 523.8 eV emission (seed review, section 5.2, point 3) —
  built by :class:`OxidisedOxygenParameters`;
* the ion-solvation-shell example of the seed review (section 3.2, Fig. 3): at 534.2 eV excitation of water,
  weaker vibrational coupling moves RIXS weight to the elastic line while the sXAS barely changes — built by
  :class:`SolvationShellParameters` and summarised by :func:`solvation_shell_comparison`.

Glossary (every name below uses these words in this sense)
----------------------------------------------------------
state
    An electronic state: the *ground* state g, the *intermediate* (core-excited) state m, and the *final*
    states reached by emission, grouped in *channels*.  The *ground channel* is the decay back to the
    electronic ground state (elastic line plus vibrational progression); every other channel is an
    electronically excited final state (e.g. the 7.2 eV-loss state of the oxygen-redox feature).
level
    A vibrational eigenstate of one electronic state, counted from 0.  With extra modes, a *product level*:
    energies add over modes, Franck–Condon overlaps multiply (the potentials are separable).
coordinate
    The vibrational coordinate x is dimensionless, measured in units of the zero-point length of the *ground*
    state's harmonic oscillator: :math:`x = q\\sqrt{\\mu\\omega_g/\\hbar}`.  The ground harmonic potential is
    :math:`\\omega_g x^2/2`.
potential
    A harmonic potential :math:`V(x) = \\frac{\\omega^2}{2\\omega_g}(x-x_0)^2`, or, when the anharmonicity
    :math:`\\omega_e x_e > 0`, a Morse potential :math:`V(x) = D(1 - e^{-a(x-x_0)})^2` with
    :math:`D = \\omega_e^2/(4\\omega_e x_e)` and :math:`a = \\omega_e/\\sqrt{2\\omega_g D}`, whose levels are
    :math:`\\omega_e(n+\\tfrac12) - \\omega_e x_e(n+\\tfrac12)^2`.  ``frequency`` is :math:`\\omega_e` (eV),
    ``anharmonicity`` is :math:`\\omega_e x_e` (eV), ``displacement`` is :math:`x_0` (signed, dimensionless).
Huang–Rhys factor
    :math:`S = \\lambda/\\omega_e` with :math:`\\lambda = V(0) - V(x_0)` the reorganisation energy; for a
    harmonic potential :math:`S = \\omega_e x_0^2 / (2\\omega_g)`, i.e. :math:`x_0^2/2` for equal frequencies,
    where :math:`|\\langle n|0\\rangle|^2 = e^{-S}S^n/n!`.
energies
    ``vertical_excitation`` is the absolute photon energy (eV) of the vertical core excitation from the ground
    vibrational level, :math:`\\langle 0_g|H_m|0_g\\rangle - E_{g,0}` — the first moment of the T = 0 XAS
    band (Franck–Condon principle).  A channel's ``loss`` is its 0–0 energy loss (eV, relative): the energy of
    final level 0 above ground level 0.

Basis conventions (the one place they are written down)
-------------------------------------------------------
Every state is diagonalised in one truncated basis of ground harmonic-oscillator functions :math:`|k\\rangle`,
k = 0 … N−1, with :math:`x = (a + a^\\dagger)/\\sqrt2`.  The kinetic energy :math:`\\frac{\\omega_g}{2}p^2` is
used exactly (non-zero on k and k±2); potentials are evaluated in the harmonic-oscillator discrete variable
representation (the Gauss–Hermite nodes are the eigenvalues of the truncated x matrix).  Franck–Condon
overlaps are products of eigenvector matrices (GEMM) — no factorials.  The basis grows (by half) until every
level used has less than 1e-12 of its weight in the top eighth of the basis, and until the kept levels
exhaust the Franck–Condon sum rules to 1e-10 / 1e-8 (see :func:`vibronic_structure`); otherwise
:class:`~rixsim.errors.ConvergenceError`.  Eigenvector signs are fixed by making the largest component
positive; no intensity depends on that choice.

Kramers–Heisenberg
------------------
For an initial level i (Boltzmann weight :math:`p_i`) and final level f of channel c (branching weight
:math:`w_c`), at photon energy :math:`\\omega`:

.. math::

    A_{fi}(\\omega) = \\sum_n \\frac{\\langle f|n\\rangle\\langle n|i\\rangle}
                              {\\omega - (E_n - E_i) + i\\Gamma/2},
    \\qquad I(\\omega, \\omega') = \\frac{\\Gamma}{2\\pi}\\sum_{i,c,f} p_i w_c |A_{fi}(\\omega)|^2
    \\, L_c(\\omega' - \\omega + E_f - E_i),

with Γ the core-hole lifetime FWHM and :math:`L_c` the unit-area emission line shape (Gaussian spectrometer
FWHM, optional final-state Lorentzian FWHM of the channel).  With the factor Γ/2π and a complete set of final
levels, the emission-integrated RIXS of a channel equals :math:`w_c` times the XAS,
:math:`\\sum_{i,n} p_i|\\langle n|i\\rangle|^2 \\, \\mathrm{Lorentzian}(\\omega - E_n + E_i; \\Gamma)` — the
sum rule the tests check.  The incident bandwidth (``monochromator_fwhm``, emission follows the photon) and
an inhomogeneous spread of the intermediate electronic energy (``inhomogeneous_fwhm``, emission does not
follow it) are Gaussian averages: trapezoidal quadrature over the resonance offset, the rest exactly (see
:func:`_quadrature`).

References
----------
L. J. P. Ament et al., "Determining the electron-phonon coupling strength from resonant inelastic x-ray
scattering at transition metal L-edges", EPL 95, 27008 (2011); L. J. P. Ament, F. Forte, J. van den Brink, "Ultrashort lifetime expansion for indirect
resonant inelastic x-ray scattering", PRB 75, 115118 (2007); F. Gel'mukhanov and H. Ågren, "Resonant X-ray
Raman scattering", Phys. Rep. 312, 87 (1999).
"""
from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from . import validate
from .broadening import broaden_sticks, gaussian, voigt
from .errors import ConvergenceError, InputError
from .results import RixsMap, Spectrum
from .transitions import EdgeTransitions

__all__ = ["Potential", "FinalChannel", "Mode", "VibronicModel", "OxidisedOxygenParameters", "SolvationShellParameters",
           "VibronicStructure", "LossSticks", "SolvationComparison", "vibrational_energies", "franck_condon",
           "vibronic_structure", "kh_amplitudes", "vibronic_rixs_map", "vibronic_rixs_spectrum", "vibronic_xas",
           "loss_sticks", "solvation_shell_comparison", "vibronic_transitions", "O2_GROUND_FREQUENCY",
           "O2_GROUND_ANHARMONICITY",
           "O_1S_CORE_HOLE_FWHM"]

logger = logging.getLogger(__name__)

_K_B_EV_PER_K = 8.617333262e-5          # Boltzmann constant, eV/K (CODATA 2018, exact in SI)
_CM1_TO_EV = 1.0 / 8065.543937          # 1 cm^-1 in eV (CODATA 2018)
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))

# Convergence thresholds (see module docstring)
_TAIL_TOL = 1e-12          # weight of a used level in the top eighth of the basis
_FC_SUM_TOL = 1e-10        # missing |<n|i>|^2 weight of the kept intermediate levels
_FINAL_SUM_TOL = 1e-8      # missing final-level weight of the kept intermediate wave packet
_MAX_BASIS = 1024
_BOLTZMANN_CUTOFF = 1e-6   # initial levels with p_i / p_0 below this are dropped
_CONTINUUM_TOL = 1e-3      # largest wave-packet weight allowed in a Morse continuum that the model omits
_CONTINUUM_BASIS = 512     # basis size up to which unconverged bound Morse levels make the basis grow
_MAX_FINE_GRID = 400_000   # points of the emission binning grid


# --------------------------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------------------------
def _positive(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a number in eV; got {value!r}") from exc
    if not math.isfinite(v) or v <= 0:
        raise InputError(f"{name} must be finite and > 0 eV; got {value!r}")
    return v


def _finite(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a number; got {value!r}") from exc
    if not math.isfinite(v):
        raise InputError(f"{name} must be finite; got {value!r}")
    return v


@dataclass(frozen=True)
class Potential:
    """The potential of one electronic state along the vibrational coordinate (see the module glossary).

    Attributes
    ----------
    frequency : float
        Harmonic frequency ωe at the minimum, eV (> 0).
    anharmonicity : float
        ωe·xe in eV (>= 0, < ωe/2).  Zero: harmonic; positive: Morse potential.
    displacement : float
        Position x0 of the minimum in ground-state oscillator units (signed; the ground state has 0).
    """

    frequency: float
    anharmonicity: float = 0.0
    displacement: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "frequency", _positive(self.frequency, "frequency"))
        chi = validate.nonnegative(self.anharmonicity, "anharmonicity", "eV")
        if chi >= 0.5 * self.frequency:
            raise InputError(f"anharmonicity (ωe·xe) must be < frequency/2 = {0.5 * self.frequency} eV so the "
                             f"Morse well holds a level; got {chi}")
        object.__setattr__(self, "anharmonicity", chi)
        object.__setattr__(self, "displacement", _finite(self.displacement, "displacement"))

    @classmethod
    def from_huang_rhys(cls, frequency: float, huang_rhys: float, ground_frequency: float,
                        anharmonicity: float = 0.0, sign: float = 1.0) -> "Potential":
        """Potential whose harmonic Huang–Rhys factor is ``huang_rhys``: x0 = sign·sqrt(2 S ω_g / ωe)."""
        s = validate.nonnegative(huang_rhys, "huang_rhys")
        wg = _positive(ground_frequency, "ground_frequency")
        w = _positive(frequency, "frequency")
        return cls(w, anharmonicity, math.copysign(math.sqrt(2.0 * s * wg / w), float(sign)))

    @property
    def is_morse(self) -> bool:
        return self.anharmonicity > 0.0

    @property
    def dissociation_energy(self) -> float:
        """Well depth D = ωe²/(4 ωe·xe) in eV (inf for a harmonic potential)."""
        return self.frequency**2 / (4.0 * self.anharmonicity) if self.is_morse else math.inf

    def huang_rhys(self, ground_frequency: float) -> float:
        """Harmonic Huang–Rhys factor S = ωe x0² / (2 ω_g) (dimensionless)."""
        return self.frequency * self.displacement**2 / (2.0 * _positive(ground_frequency, "ground_frequency"))

    def energy(self, x, ground_frequency: float) -> np.ndarray:
        """V(x) in eV, zero at the minimum; ``x`` in units of the ground oscillator of ``ground_frequency`` (eV)."""
        return _potential_values(self, np.asarray(x, dtype=float), _positive(ground_frequency, "ground_frequency"))


@dataclass(frozen=True)
class FinalChannel:
    """An electronically excited final state reached by emission.

    Attributes
    ----------
    name : str
        Label, e.g. ``"O2 3Πg-like (π_u → 1s)"``.
    loss : float
        0–0 energy loss in eV (relative): final level 0 above ground level 0 (> 0).
    potential : Potential
        Its potential along the coordinate.
    weight : float
        Electronic branching weight w_c (relative emission strength, >= 0).
    fwhm : float
        Lorentzian FWHM (eV) of the final state (its own lifetime / unresolved structure), >= 0.
    """

    name: str
    loss: float
    potential: Potential
    weight: float = 1.0
    fwhm: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "loss", _positive(self.loss, f"loss of channel {self.name!r}"))
        if not isinstance(self.potential, Potential):
            raise InputError(f"channel {self.name!r}: potential must be a Potential; got {self.potential!r}")
        object.__setattr__(self, "weight", validate.nonnegative(self.weight, f"weight of channel {self.name!r}"))
        object.__setattr__(self, "fwhm", validate.width(self.fwhm, f"fwhm of channel {self.name!r}"))


@dataclass(frozen=True)
class Mode:
    """An additional vibrational coordinate, separable from the model's main one (potentials add mode by mode).

    Attributes
    ----------
    name : str
        Label, e.g. ``"lattice O mode"``.
    ground, intermediate : Potential
        This mode's potentials in its own coordinate units (its ground frequency); ground displacement 0.
    finals : tuple of Potential or None
        One potential per excited channel of the model, in order; None: the mode keeps its ground potential in
        every excited final state.  In the ground channel the mode always has its ground potential.
    """

    name: str
    ground: Potential
    intermediate: Potential
    finals: tuple | None = None

    def __post_init__(self):
        for name in ("ground", "intermediate"):
            if not isinstance(getattr(self, name), Potential):
                raise InputError(f"mode {self.name!r}: {name} must be a Potential; got {getattr(self, name)!r}")
        if self.ground.displacement != 0.0:
            raise InputError(f"mode {self.name!r}: the ground potential defines the origin, displacement must be 0;"
                             f" got {self.ground.displacement}")
        if self.finals is not None:
            finals = tuple(self.finals)
            for f in finals:
                if not isinstance(f, Potential):
                    raise InputError(f"mode {self.name!r}: finals must be Potentials; got {f!r}")
            object.__setattr__(self, "finals", finals)


@dataclass(frozen=True)
class VibronicModel:
    """Everything the vibronic Kramers–Heisenberg calculation needs.

    Attributes
    ----------
    ground, intermediate : Potential
        Ground (displacement must be 0) and core-excited potentials.
    vertical_excitation : float
        Absolute photon energy (eV) of the vertical excitation from ground level 0 (XAS first moment at T = 0).
    channels : tuple of FinalChannel
        Electronically excited final states.
    ground_channel_weight : float
        Branching weight of the decay back to the electronic ground state (elastic + vibrational progression).
    core_hole_fwhm : float
        Lifetime (Lorentzian) FWHM of the intermediate state, eV (> 0).
    monochromator_fwhm, spectrometer_fwhm : float
        Gaussian FWHM (eV) of the incident bandwidth and of the emission resolution.
    inhomogeneous_fwhm : float
        Gaussian FWHM (eV) of a static spread of the intermediate electronic energy (site disorder).  It moves
        the resonance, not the emission lines: final-state energies are taken as not spread.
    temperature_k : float
        Temperature for the Boltzmann population of ground levels, K.
    label : str
        Name carried into the labels of the results.
    modes : tuple of Mode
        Further vibrational coordinates, separable from the main one (ground/intermediate/channel potentials
        above).  ``vertical_excitation`` is then the vertical energy of all modes together.
    """

    ground: Potential
    intermediate: Potential
    vertical_excitation: float
    channels: tuple = ()
    ground_channel_weight: float = 1.0
    core_hole_fwhm: float = 0.156           # O 1s natural width, see O_1S_CORE_HOLE_FWHM
    monochromator_fwhm: float = 0.0
    spectrometer_fwhm: float = 0.0
    inhomogeneous_fwhm: float = 0.0
    temperature_k: float = 0.0
    label: str = "vibronic model"
    modes: tuple = ()

    def __post_init__(self):
        for name in ("ground", "intermediate"):
            if not isinstance(getattr(self, name), Potential):
                raise InputError(f"{name} must be a Potential; got {getattr(self, name)!r}")
        if self.ground.displacement != 0.0:
            raise InputError(f"the ground potential defines the coordinate origin: displacement must be 0; "
                             f"got {self.ground.displacement}")
        object.__setattr__(self, "vertical_excitation", _positive(self.vertical_excitation, "vertical_excitation"))
        chans = tuple(self.channels)
        for c in chans:
            if not isinstance(c, FinalChannel):
                raise InputError(f"channels must be FinalChannel objects; got {c!r}")
        object.__setattr__(self, "channels", chans)
        object.__setattr__(self, "ground_channel_weight",
                           validate.nonnegative(self.ground_channel_weight, "ground_channel_weight"))
        object.__setattr__(self, "core_hole_fwhm", validate.width(self.core_hole_fwhm, "core_hole_fwhm",
                                                                  allow_zero=False))
        for name in ("monochromator_fwhm", "spectrometer_fwhm", "inhomogeneous_fwhm"):
            object.__setattr__(self, name, validate.width(getattr(self, name), name))
        object.__setattr__(self, "temperature_k", validate.nonnegative(self.temperature_k, "temperature_k", "K"))
        modes = tuple(self.modes)
        for md in modes:
            if not isinstance(md, Mode):
                raise InputError(f"modes must be Mode objects; got {md!r}")
            if md.finals is not None and len(md.finals) != len(chans):
                raise InputError(f"mode {md.name!r} has {len(md.finals)} final potentials; the model has "
                                 f"{len(chans)} excited channels")
        object.__setattr__(self, "modes", modes)
        if self.spectrometer_fwhm == 0.0:
            if self.ground_channel_weight > 0:
                raise InputError("spectrometer_fwhm must be > 0 eV: the ground channel has no final-state width")
            for c in chans:
                if c.weight > 0 and c.fwhm == 0.0:
                    raise InputError(f"spectrometer_fwhm must be > 0 eV: channel {c.name!r} has fwhm 0")

    def model(self) -> "VibronicModel":
        return self


def _as_model(params) -> VibronicModel:
    if isinstance(params, VibronicModel):
        return params
    build = getattr(params, "model", None)
    if callable(build):
        m = build()
        if isinstance(m, VibronicModel):
            return m
    raise InputError(f"expected a VibronicModel or parameters with a .model() method; got {type(params).__name__}")


# O2 X 3Σg− ground-state constants: ωe = 1580.19 cm⁻¹, ωe·xe = 11.98 cm⁻¹ (K. P. Huber and G. Herzberg,
# Constants of Diatomic Molecules, 1979, via the NIST Chemistry WebBook).
O2_GROUND_FREQUENCY = 1580.19 * _CM1_TO_EV          # 0.19592 eV
O2_GROUND_ANHARMONICITY = 11.98 * _CM1_TO_EV        # 0.001485 eV
# O 1s (K-level) natural width 0.156 eV FWHM: Keski-Rahkonen & Krause, At. Data Nucl. Data Tables 14, 139
# (1974), as tabulated by xraydb.core_width("O", "K").
O_1S_CORE_HOLE_FWHM = 0.156


@dataclass(frozen=True)
class OxidisedOxygenParameters:
    """Vibronic model of the oxygen-redox mRIXS feature of localised oxidised (O2-like) oxygen.

    What is implemented: the intermediate state is the O 1s → π* core excitation of an O2-like unit; it decays
    (i) back to the electronic ground state — elastic line plus the O2 vibrational progression (spacing
    ≈ 0.193 eV, the high-resolution observation of trapped O2 by House et al., Nature Energy 5, 777 (2020));
    (ii) to the main excited final state (O2 ³Πg-like, π_u hole; Radin et al. below) at 7.2 eV 0–0 loss, which
    is the sharp feature at 531 eV excitation / 523.8 eV emission (seed review §5.2 point 3 and Fig. 7; 523.7 eV
    in parts of the Li-rich oxide literature).  With the default widths the broadened maximum of the map falls
    at ≈ (530.96, 523.73) eV: vibrational sidebands pull it ≈ 0.05 eV below the 0–0 emission;
    (iii) optionally to the weaker secondary final state at ≈ 4.3 eV loss (≈ 526.7 eV emission) that Radin et
    al., arXiv:2503.14390 (2025) assign to O2 ³Σu+/³Δu states made
    allowed by a low-symmetry site (O2 A³Σu+ Te = 4.39 eV, A'³Δu Te = 4.30 eV, Huber & Herzberg).  This is
    *not* the broad TM–O hybridisation feature near 525 eV emission (seed §5.2 point 3), which lies outside
    this model.

    Energies below are in eV; "assumed" marks model choices that no measurement pins.

    Attributes
    ----------
    excitation_energy : 531.0 — vertical O 1s → π* energy (seed §5.2, Fig. 7; Li2O2/O2 feature ≈ 531 eV, §5.1).
    main_loss : 7.2 — 0–0 loss of the main feature: 0–0 emission 523.8 eV at 531.0 eV excitation (seed §5.2).
    secondary_loss : 4.2 — 0–0 loss of the secondary feature, chosen so that its broadened maximum falls at the
        observed 4.3 eV loss (Radin et al. 2025); its vibrational sidebands (0.099 eV) pull the maximum up.
    ground_frequency, ground_anharmonicity : O2 X³Σg− ωe = 0.19592, ωe·xe = 0.001485 (Huber & Herzberg).
    intermediate_frequency : 0.130 — assumed, guided by the Z+1 (equivalent-core) analogue of O 1s⁻¹π*³, the
        FO radical (ωe ≈ 1030–1050 cm⁻¹, i.e. ≈ 0.13 eV).
    intermediate_huang_rhys : 1.0 — assumed; keeps the feature compact along excitation as observed (a rough
        Z+1 bond-length estimate, r(FO) − r(O2) ≈ 0.15 Å, would give S ≈ 3).
    main_frequency, main_anharmonicity, main_huang_rhys : O2-like (0.19592, 0.001485, 0.0) — assumed; the
        ³Πg vibrational constants are not pinned by the battery data.
    secondary_frequency : 0.099 — O2 A³Σu+ ωe = 799 cm⁻¹ (Huber & Herzberg); secondary_huang_rhys 0 (assumed).
    main_weight, ground_channel_weight, secondary_weight : 1.0, 0.35, 0.15 — assumed relative branching
        (main feature strongest in the published maps; the secondary is weak).
    core_hole_fwhm : 0.156 — O 1s natural width (Keski-Rahkonen & Krause 1974 via xraydb).
    main_fwhm, secondary_fwhm : 0.0 — final-state Lorentzians (assumed none).
    monochromator_fwhm : 0.2, spectrometer_fwhm : 0.3 — assumed, typical of soft-X-ray mRIXS end stations.
    temperature_k : 300.
    """

    excitation_energy: float = 531.0
    main_loss: float = 7.2
    secondary_loss: float = 4.2
    ground_frequency: float = O2_GROUND_FREQUENCY
    ground_anharmonicity: float = O2_GROUND_ANHARMONICITY
    intermediate_frequency: float = 0.130
    intermediate_anharmonicity: float = 0.0
    intermediate_huang_rhys: float = 1.0
    main_frequency: float = O2_GROUND_FREQUENCY
    main_anharmonicity: float = O2_GROUND_ANHARMONICITY
    main_huang_rhys: float = 0.0
    secondary_frequency: float = 799.07 * _CM1_TO_EV
    secondary_huang_rhys: float = 0.0
    main_weight: float = 1.0
    ground_channel_weight: float = 0.35
    secondary_weight: float = 0.15
    core_hole_fwhm: float = O_1S_CORE_HOLE_FWHM
    main_fwhm: float = 0.0
    secondary_fwhm: float = 0.0
    monochromator_fwhm: float = 0.2
    spectrometer_fwhm: float = 0.3
    temperature_k: float = 300.0

    def model(self) -> VibronicModel:
        """The :class:`VibronicModel` these parameters describe (validates every value)."""
        wg = _positive(self.ground_frequency, "ground_frequency")
        ground = Potential(wg, self.ground_anharmonicity, 0.0)
        inter = Potential.from_huang_rhys(self.intermediate_frequency, self.intermediate_huang_rhys, wg,
                                          self.intermediate_anharmonicity)
        channels = [FinalChannel("O2 3Πg-like main feature", self.main_loss,
                                 Potential.from_huang_rhys(self.main_frequency, self.main_huang_rhys, wg,
                                                           self.main_anharmonicity),
                                 self.main_weight, self.main_fwhm)]
        if self.secondary_weight > 0:
            channels.append(FinalChannel("O2 3Σu+/3Δu-like secondary feature", self.secondary_loss,
                                         Potential.from_huang_rhys(self.secondary_frequency,
                                                                   self.secondary_huang_rhys, wg),
                                         self.secondary_weight, self.secondary_fwhm))
        return VibronicModel(ground=ground, intermediate=inter, vertical_excitation=self.excitation_energy,
                             channels=tuple(channels), ground_channel_weight=self.ground_channel_weight,
                             core_hole_fwhm=self.core_hole_fwhm, monochromator_fwhm=self.monochromator_fwhm,
                             spectrometer_fwhm=self.spectrometer_fwhm, temperature_k=self.temperature_k,
                             label="oxidised oxygen (O2-like) vibronic model")


@dataclass(frozen=True)
class SolvationShellParameters:
    """Water-like O K pre-edge with one O–H stretch coordinate, for the solvation-shell example (seed §3.2).

    The seed (Fig. 3, ref. [46]) shows that ions barely change the O K sXAS of water but move the RIXS weight at
    534.2 eV excitation towards the elastic line, i.e. suppress vibrational (phonon) losses.  Here the ion's
    effect is modelled as a smaller Huang–Rhys factor of the core-excited state at a fixed vertical energy
    (the Franck–Condon principle keeps the XAS first moment at the vertical energy exactly); the sXAS width is
    dominated by the inhomogeneous (hydrogen-bond disorder) spread, so it changes little.

    Energies below are in eV; "assumed" marks model choices.

    Attributes
    ----------
    excitation_energy : 534.2 — vertical pre-edge energy, set at the seed's RIXS excitation (pre-edge ~534 eV).
    ground_frequency : 0.42 — O–H stretch of liquid water, ≈ 3400 cm⁻¹.
    ground_anharmonicity : 0.0 — assumed harmonic (the OH local mode has ωe·xe ≈ 0.01 eV; set it to use Morse).
    intermediate_frequency : 0.35 — assumed softer O–H bond in the core-excited (4a1) state.
    huang_rhys : 1.5 — assumed coupling of bulk water; the solvation shell has a smaller value (e.g. 0.5).
    inhomogeneous_fwhm : 1.0 — assumed disorder width of the pre-edge.
    core_hole_fwhm : 0.156 (O 1s, as above); monochromator_fwhm 0.2, spectrometer_fwhm 0.3 (assumed).
    """

    excitation_energy: float = 534.2
    ground_frequency: float = 0.42
    ground_anharmonicity: float = 0.0
    intermediate_frequency: float = 0.35
    huang_rhys: float = 1.5
    inhomogeneous_fwhm: float = 1.0
    core_hole_fwhm: float = O_1S_CORE_HOLE_FWHM
    monochromator_fwhm: float = 0.2
    spectrometer_fwhm: float = 0.3
    temperature_k: float = 300.0

    def model(self) -> VibronicModel:
        wg = _positive(self.ground_frequency, "ground_frequency")
        return VibronicModel(
            ground=Potential(wg, self.ground_anharmonicity, 0.0),
            intermediate=Potential.from_huang_rhys(self.intermediate_frequency, self.huang_rhys, wg),
            vertical_excitation=self.excitation_energy, channels=(), ground_channel_weight=1.0,
            core_hole_fwhm=self.core_hole_fwhm, monochromator_fwhm=self.monochromator_fwhm,
            spectrometer_fwhm=self.spectrometer_fwhm, inhomogeneous_fwhm=self.inhomogeneous_fwhm,
            temperature_k=self.temperature_k, label=f"water-like O-H stretch, Huang-Rhys {self.huang_rhys:g}")


# --------------------------------------------------------------------------------------------------------------
# Vibrational levels and Franck–Condon overlaps (kernels: arrays and scalars in, arrays out)
# --------------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _ho_basis(n: int):
    """Kinetic matrix p²/2 (exact), DVR nodes x_k and the transform U (x = U diag(x_k) Uᵀ) of an n-function basis."""
    k = np.arange(n, dtype=float)
    off1 = np.sqrt(k[1:] / 2.0)
    x = np.diag(off1, 1) + np.diag(off1, -1)
    nodes, u = np.linalg.eigh(x)
    # p² = (2k+1)/2 on the diagonal, −sqrt((k+1)(k+2))/2 on the second off-diagonals
    p2 = np.diag(k + 0.5)
    off2 = -0.5 * np.sqrt((k[:-2] + 1.0) * (k[:-2] + 2.0))
    p2 += np.diag(off2, 2) + np.diag(off2, -2)
    half_p2 = 0.5 * p2
    for a in (half_p2, nodes, u):
        a.setflags(write=False)
    return half_p2, nodes, u


def _potential_values(pot: Potential, x: np.ndarray, ground_frequency: float) -> np.ndarray:
    if pot.is_morse:
        d = pot.dissociation_energy
        a = pot.frequency / math.sqrt(2.0 * ground_frequency * d)
        arg = np.minimum(-a * (x - pot.displacement), 700.0)
        return d * (1.0 - np.exp(arg)) ** 2
    return pot.frequency**2 / (2.0 * ground_frequency) * (x - pot.displacement) ** 2


@functools.lru_cache(maxsize=64)
def _diagonalise(pot: Potential, ground_frequency: float, n: int):
    """Lowest n/2 eigenpairs of one state in the n-function basis: (energies from the minimum, vectors (n, n/2),
    H, tails)."""
    half_p2, nodes, u = _ho_basis(n)
    v = _potential_values(pot, nodes, ground_frequency)
    h = ground_frequency * half_p2 + (u * v) @ u.T
    h = 0.5 * (h + h.T)
    # Only the lower half of the spectrum can be converged in an n-function basis: compute just that.
    m = max(8, n // 2)
    eps, c = np.linalg.eigh(h)
    eps, c = eps[:m].copy(), c[:, :m].copy()
    big = np.argmax(np.abs(c), axis=0)
    c *= np.sign(c[big, np.arange(m)])
    top = max(4, n // 8)
    tails = np.sum(c[n - top:, :] ** 2, axis=0)
    for a in (eps, c, h, tails):
        a.setflags(write=False)
    return eps, c, h, tails


def _basis_guess(pots, ground_frequency: float, n_levels: int = 0) -> int:
    """Starting basis size (the basis grows if it is too small): room for the displacements and the levels."""
    need = 0.0
    for p in pots:
        ratio = max(ground_frequency / p.frequency, p.frequency / ground_frequency)
        need = max(need, 0.5 * (abs(p.displacement) + 6.0) ** 2 + 1.5 * n_levels * ratio)
    return int(max(64, min(_MAX_BASIS, 32 * math.ceil((need + 16) / 32))))


def _grow(n: int) -> int:
    return min(_MAX_BASIS, 32 * math.ceil(1.5 * n / 32))


def _n_bound(pot: Potential) -> int:
    """Number of bound Morse levels (levels with n < ωe/(2ωe·xe) − 1/2)."""
    return int(math.floor(pot.frequency / (2.0 * pot.anharmonicity) - 0.5)) + 1


def _check_levels(name: str, pot: Potential, eps, tails, count: int) -> bool:
    if pot.is_morse:
        n_bound = _n_bound(pot)
        if count > n_bound:
            raise ConvergenceError(f"{name}: {count} Morse levels needed but only {n_bound} are bound (dissociation "
                                   f"energy {pot.dissociation_energy:.4g} eV); reduce the displacement, the "
                                   f"temperature or the anharmonicity")
    if count > eps.size:
        return False
    return not np.any(tails[:count] > _TAIL_TOL)


def vibrational_energies(potential: Potential, ground_frequency: float, n_levels: int,
                         basis_size: int | None = None) -> np.ndarray:
    """Lowest ``n_levels`` vibrational energies of ``potential``, eV, relative to its level 0.

    Diagonalises in the ground harmonic-oscillator basis (see module docstring), growing the basis until the
    levels are converged.  Harmonic: n·ωe; Morse: ωe·n − ωe·xe·n(n+1).
    """
    wg = _positive(ground_frequency, "ground_frequency")
    n_levels = _count(n_levels, "n_levels")
    n = basis_size or _basis_guess([potential], wg, n_levels)
    while True:
        eps, c, h, tails = _diagonalise(potential, wg, n)
        if _check_levels("potential", potential, eps, tails, n_levels):
            return eps[:n_levels] - eps[0]
        if basis_size is not None or n >= _MAX_BASIS:
            raise ConvergenceError(f"{n_levels} levels not converged in a basis of {n} functions")
        n = _grow(n)


def _count(value, name: str) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a positive integer; got {value!r}") from exc
    if v != value or v < 1:
        raise InputError(f"{name} must be a positive integer; got {value!r}")
    return v


def franck_condon(bra: Potential, ket: Potential, ground_frequency: float, n_bra: int, n_ket: int,
                  basis_size: int | None = None) -> np.ndarray:
    """Franck–Condon overlap matrix ``S[j, k] = <bra_j | ket_k>`` (real), shape ``(n_bra, n_ket)``.

    Both potentials are diagonalised in one ground harmonic-oscillator basis; the overlap is the product of the
    eigenvector matrices.  The basis grows until every returned level is converged (see module docstring).
    For equal harmonic frequencies and displacement x0, :math:`|S_{n0}|^2 = e^{-g}g^n/n!` with
    :math:`g = x_0^2/2` (``ket`` undisplaced).

    Parameters
    ----------
    bra, ket : Potential
    ground_frequency : float
        ω_g in eV, the frequency that defines the coordinate unit.
    n_bra, n_ket : int
        Number of levels of each.
    basis_size : int, optional
        Fix the basis size (no growth; ConvergenceError if too small).
    """
    wg = _positive(ground_frequency, "ground_frequency")
    n_bra, n_ket = _count(n_bra, "n_bra"), _count(n_ket, "n_ket")
    for name, p in (("bra", bra), ("ket", ket)):
        if not isinstance(p, Potential):
            raise InputError(f"{name} must be a Potential; got {p!r}")
    n = basis_size or _basis_guess([bra, ket], wg, max(n_bra, n_ket))
    while True:
        eb, cb, _, tb = _diagonalise(bra, wg, n)
        ek, ck, _, tk = _diagonalise(ket, wg, n)
        if _check_levels("bra", bra, eb, tb, n_bra) and _check_levels("ket", ket, ek, tk, n_ket):
            return cb[:, :n_bra].T @ ck[:, :n_ket]
        if basis_size is not None or n >= _MAX_BASIS:
            raise ConvergenceError(f"Franck–Condon overlaps not converged in a basis of {n} functions")
        n = _grow(n)


# --------------------------------------------------------------------------------------------------------------
# The vibronic structure: levels, populations, overlaps
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VibronicStructure:
    """Levels and Franck–Condon overlaps of a :class:`VibronicModel`, converged and truncated.

    Attributes
    ----------
    ground_energies : ndarray (n_g,)
        Energies of the populated ground levels, eV, relative to ground level 0.
    ground_weights : ndarray (n_g,)
        Boltzmann populations (sum 1).
    intermediate_energies : ndarray (n_m,)
        Absolute photon energies (eV) of the transitions ground level 0 → intermediate level n.
    overlap_mg : ndarray (n_m, n_g)
        <n_m | i_g>.
    final_losses : ndarray (F,)
        Energy of every final level above ground level 0, eV (relative); ground-channel levels first.
    final_channel : ndarray of int (F,)
        Channel index of each final level: 0 = ground channel, c ≥ 1 = ``model.channels[c-1]``.
    final_level : ndarray of int (F,)
        Vibrational quantum number of each final level within its channel.
    overlap_fm : ndarray (F, n_m)
        <f | n_m>.
    channel_weights, channel_fwhm : ndarray (n_channels + 1,)
        Branching weight and final-state Lorentzian FWHM of each channel (ground channel first, FWHM 0).
    channel_names : tuple of str
    basis_size : int
    continuum_weight : ndarray (n_channels + 1,)
        Per channel, the population-weighted wave-packet norm not carried by the kept final levels because it
        lies in a Morse continuum (or in bound levels too close to dissociation to converge); 0 otherwise.
        At most 1e-3 — larger values raise :class:`~rixsim.errors.ConvergenceError`.
    elastic_mask : ndarray of bool (n_g, F)
        True where final level f is initial level i again (the elastic line).

    With extra modes, levels are product levels of all modes, ``final_level`` is the quantum number of the
    main mode, and product levels carrying negligible weight (cumulative < 1e-10 for intermediate, < 1e-9 for
    final levels) are dropped.
    """

    ground_energies: np.ndarray
    ground_weights: np.ndarray
    intermediate_energies: np.ndarray
    overlap_mg: np.ndarray
    final_losses: np.ndarray
    final_channel: np.ndarray
    final_level: np.ndarray
    overlap_fm: np.ndarray
    channel_weights: np.ndarray
    channel_fwhm: np.ndarray
    channel_names: tuple
    basis_size: int
    continuum_weight: np.ndarray
    elastic_mask: np.ndarray = None

    def __post_init__(self):
        if self.elastic_mask is None:
            mask = (self.final_channel[None, :] == 0) & (
                self.final_level[None, :] == np.arange(self.ground_energies.size)[:, None])
            object.__setattr__(self, "elastic_mask", mask)


def _boltzmann(e: np.ndarray, temperature_k: float) -> np.ndarray:
    if temperature_k == 0.0:
        p = np.zeros_like(e)
        p[0] = 1.0
        return p
    p = np.exp(-(e - e[0]) / (_K_B_EV_PER_K * temperature_k))
    return p / p.sum()


def _needed_count(cum_missing: np.ndarray, tol: float) -> int:
    """Smallest count k (>= 1) with cum_missing[k-1] <= tol, or cum_missing.size + 1 if none."""
    ok = np.flatnonzero(cum_missing <= tol)
    return int(ok[0]) + 1 if ok.size else cum_missing.size + 1


def _try_structure(model: VibronicModel, n: int, can_grow: bool = True):
    wg = model.ground.frequency
    eg, cg, _, tg = _diagonalise(model.ground, wg, n)
    p_all = _boltzmann(eg - eg[0], model.temperature_k) if model.temperature_k > 0 else None
    if p_all is None:
        n_g = 1
    else:
        n_g = int(np.count_nonzero(p_all / p_all[0] > _BOLTZMANN_CUTOFF))
    p = _boltzmann(eg[:n_g] - eg[0], model.temperature_k)
    em, cm, hm, tm = _diagonalise(model.intermediate, wg, n)
    s_mg_all = cm.T @ cg[:, :n_g]                                       # (N, n_g)
    missing = 1.0 - np.cumsum(s_mg_all**2, axis=0)                    # (N, n_g)
    n_m = _needed_count(missing @ p, _FC_SUM_TOL)
    if n_m > n:
        return None
    channel_pots = [model.ground] + [c.potential for c in model.channels]
    finals = []
    for ci, pot in enumerate(channel_pots):
        ef, cf, _, tf = (eg, cg, None, tg) if ci == 0 else _diagonalise(pot, wg, n)
        s_fm_all = cf.T @ cm[:, :n_m]                                  # (N, n_m)
        miss_f = 1.0 - np.cumsum(s_fm_all**2, axis=0)                 # (N, n_m): missing weight per n
        packet = miss_f @ (s_mg_all[:n_m] ** 2 @ p)                    # (N,)
        n_f = _needed_count(packet, _FINAL_SUM_TOL)
        lost = 0.0
        if pot.is_morse and n_f > _n_bound(pot):
            # The wave packet reaches the Morse continuum, which the model leaves out: keep the converged bound
            # levels and accept the missing weight if it is small.
            good = np.flatnonzero(tf[:min(_n_bound(pot), tf.size)] > _TAIL_TOL)
            n_f = int(good[0]) if good.size else min(_n_bound(pot), tf.size)
            lost = float(packet[n_f - 1]) if n_f > 0 else 1.0
            if can_grow and n_f < _n_bound(pot) and lost > _FINAL_SUM_TOL and n < _CONTINUUM_BASIS:
                return None          # a larger basis converges more of the bound levels
            if lost > _CONTINUUM_TOL:
                if n >= _MAX_BASIS or not can_grow:
                    raise ConvergenceError(
                        f"channel {ci} ({'ground' if ci == 0 else model.channels[ci - 1].name}): a fraction "
                        f"{lost:.2g} of the wave packet lies in the Morse continuum or in unconverged bound "
                        f"levels (allowed {_CONTINUUM_TOL:g}); reduce the displacement or the anharmonicity")
                return None
        finals.append((ef, cf, tf, n_f, lost))
    ok = (_check_levels("ground", model.ground, eg, tg, n_g)
          and _check_levels("intermediate", model.intermediate, em, tm, n_m))
    for pot, (ef, cf, tf, n_f, _) in zip(channel_pots, finals):
        ok = ok and _check_levels("final", pot, ef, tf, n_f)
    if not ok:
        return None
    # Ground-channel final levels must include every populated initial level (elastic lines).
    n_f0 = max(finals[0][3], n_g)
    finals[0] = finals[0][:3] + (n_f0, finals[0][4])
    if not _check_levels("ground", model.ground, eg, tg, n_f0):
        return None
    lost = np.array([f[4] for f in finals])
    if lost.max() > 0:
        logger.warning("vibronic model %r: Morse continuum / unconverged top bound levels left out; missing "
                       "wave-packet weight per channel %s (RIXS intensity lost by about that fraction)",
                       model.label, ", ".join(f"{x:.2g}" for x in lost))
    e_rel_g = eg - eg[0]
    mean_hm = float(cg[:, 0] @ hm @ cg[:, 0])
    e_m = model.vertical_excitation + em[:n_m] - mean_hm
    losses, chan, level, s_fm = [], [], [], []
    for ci, (ef, cf, tf, n_f, _) in enumerate(finals):
        loss0 = 0.0 if ci == 0 else model.channels[ci - 1].loss
        losses.append(loss0 + ef[:n_f] - ef[0])
        chan.append(np.full(n_f, ci))
        level.append(np.arange(n_f))
        s_fm.append(cf[:, :n_f].T @ cm[:, :n_m])
    weights = np.array([model.ground_channel_weight] + [c.weight for c in model.channels])
    fwhm = np.array([0.0] + [c.fwhm for c in model.channels])
    names = ("ground (elastic + vibrational progression)",) + tuple(c.name for c in model.channels)
    return VibronicStructure(e_rel_g[:n_g].copy(), p, e_m, s_mg_all[:n_m].copy(), np.concatenate(losses),
                             np.concatenate(chan), np.concatenate(level), np.concatenate(s_fm, axis=0),
                             weights, fwhm, names, n, lost)


def vibronic_structure(params, basis_size: int | None = None) -> VibronicStructure:
    """Converged levels and Franck–Condon overlaps of a model (or of parameters with ``.model()``).

    Kept levels (a Morse final state keeps at most its converged bound levels; see ``continuum_weight``):
    ground levels with Boltzmann weight above 1e-6 of level 0; intermediate levels until the
    population-weighted Franck–Condon sum :math:`\\sum_i p_i\\sum_n|\\langle n|i\\rangle|^2` misses < 1e-10;
    final levels of each channel until
    :math:`\\sum_{i,n} p_i|\\langle n|i\\rangle|^2 (1-\\sum_f|\\langle f|n\\rangle|^2)` < 1e-8.

    Results are cached per (model, basis_size); their arrays are read-only.
    """
    model = _as_model(params)
    if basis_size is not None:
        basis_size = _count(basis_size, "basis_size")
    return _cached_structure(model, basis_size)


@functools.lru_cache(maxsize=32)
def _cached_structure(model: VibronicModel, basis_size: int | None) -> VibronicStructure:
    s = _vibronic_structure(model, basis_size)
    for name in ("ground_energies", "ground_weights", "intermediate_energies", "overlap_mg", "final_losses",
                 "final_channel", "final_level", "overlap_fm", "channel_weights", "channel_fwhm",
                 "continuum_weight", "elastic_mask"):
        getattr(s, name).setflags(write=False)
    return s


def _vibronic_structure(model: VibronicModel, basis_size: int | None = None) -> VibronicStructure:
    if not model.modes:
        return _single_mode_structure(model, basis_size)
    main = _single_mode_structure(replace(model, modes=()), basis_size)
    parts = [main]
    for md in model.modes:
        finals = md.finals if md.finals is not None else (md.ground,) * len(model.channels)
        # A stand-in model for this coordinate alone: dummy vertical energy and losses (1 eV), removed below.
        sub = VibronicModel(ground=md.ground, intermediate=md.intermediate, vertical_excitation=1.0,
                            channels=tuple(FinalChannel(c.name, 1.0, f) for c, f in zip(model.channels, finals)),
                            core_hole_fwhm=model.core_hole_fwhm, spectrometer_fwhm=1.0,
                            temperature_k=model.temperature_k, label=f"mode {md.name}")
        parts.append(_cached_structure(sub, basis_size))
    return _combine_modes(main, parts[1:])


def _kron_index(*sizes):
    """Per-factor index arrays of the row-major product of ranges of the given sizes."""
    return [ix.ravel() for ix in np.meshgrid(*[np.arange(n) for n in sizes], indexing="ij")]


def _drop_smallest(weights: np.ndarray, tol: float) -> np.ndarray:
    """Indices (sorted) kept after dropping the smallest weights whose cumulative sum stays <= tol."""
    order = np.argsort(weights)
    drop = np.cumsum(weights[order]) <= tol
    drop[-1] = False
    return np.sort(order[~drop])


def _combine_modes(main: VibronicStructure, extras) -> VibronicStructure:
    """Product levels of separable modes: energies add, Franck–Condon overlaps multiply (Kronecker products)."""
    parts = [main] + list(extras)
    # ground
    gi = _kron_index(*[p.ground_energies.size for p in parts])
    ge = sum(p.ground_energies[ix] for p, ix in zip(parts, gi))
    gp = np.prod([p.ground_weights[ix] for p, ix in zip(parts, gi)], axis=0)
    kg = np.flatnonzero(gp / gp.max() > _BOLTZMANN_CUTOFF)
    ge, gp, gi = ge[kg], gp[kg] / gp[kg].sum(), [ix[kg] for ix in gi]
    # intermediate (extra modes carry a dummy vertical energy of 1 eV)
    mi = _kron_index(*[p.intermediate_energies.size for p in parts])
    me = main.intermediate_energies[mi[0]] + sum(p.intermediate_energies[ix] - 1.0
                                                 for p, ix in zip(parts[1:], mi[1:]))
    omg = np.prod([p.overlap_mg[ix][:, gix] for p, ix, gix in zip(parts, mi, gi)], axis=0)
    km = _drop_smallest(omg**2 @ gp, _FC_SUM_TOL)
    me, omg, mi = me[km], omg[km], [ix[km] for ix in mi]
    packet = omg**2 @ gp                                                # weight of each intermediate level
    losses, chan, level, ofm, elastic_rows = [], [], [], [], []
    n_channels = main.channel_weights.size
    for c in range(n_channels):
        rows = [np.flatnonzero(p.final_channel == c) for p in parts]
        fi = _kron_index(*[r.size for r in rows])
        rr = [r[ix] for r, ix in zip(rows, fi)]                          # row of each factor, per product level
        fl = main.final_losses[rr[0]] + sum(p.final_losses[r] - (1.0 if c > 0 else 0.0)
                                            for p, r in zip(parts[1:], rr[1:]))
        o = np.prod([p.overlap_fm[r][:, ix] for p, r, ix in zip(parts, rr, mi)], axis=0)
        kf = _drop_smallest(o**2 @ packet, 10 * _FINAL_SUM_TOL)
        if c == 0:   # keep every populated ground level as a possible final level (elastic lines)
            lv = [p.final_level[r] for p, r in zip(parts, rr)]
            is_init = np.zeros(fl.size, dtype=bool)
            for k in range(ge.size):
                is_init |= np.logical_and.reduce([lv_k == g_k[k] for lv_k, g_k in zip(lv, gi)])
            kf = np.union1d(kf, np.flatnonzero(is_init))
            lv = [x[kf] for x in lv]
            elastic_rows = np.logical_and.reduce([lv_k[None, :] == g_k[:, None] for lv_k, g_k in zip(lv, gi)])
        losses.append(fl[kf])
        chan.append(np.full(kf.size, c))
        level.append(main.final_level[rr[0][kf]])
        ofm.append(o[kf])
    f_total = sum(x.size for x in losses)
    elastic = np.zeros((ge.size, f_total), dtype=bool)
    elastic[:, :losses[0].size] = elastic_rows
    return VibronicStructure(ge, gp, me, omg, np.concatenate(losses), np.concatenate(chan),
                             np.concatenate(level), np.concatenate(ofm, axis=0), main.channel_weights.copy(),
                             main.channel_fwhm.copy(), main.channel_names, main.basis_size,
                             np.sum([p.continuum_weight for p in parts], axis=0), elastic)


def _single_mode_structure(model: VibronicModel, basis_size: int | None = None) -> VibronicStructure:
    """Grow the basis until :func:`_try_structure` succeeds."""
    pots = [model.ground, model.intermediate] + [c.potential for c in model.channels]
    n = basis_size or _basis_guess(pots, model.ground.frequency)
    while True:
        s = _try_structure(model, n, can_grow=basis_size is None)
        if s is not None:
            logger.debug("vibronic structure converged in a basis of %d functions", n)
            return s
        if basis_size is not None or n >= _MAX_BASIS:
            raise ConvergenceError(f"vibronic levels not converged in a basis of {n} functions "
                                   f"(largest allowed {_MAX_BASIS}); reduce displacements, frequency ratios "
                                   f"or the temperature")
        n = _grow(n)
        logger.debug("growing vibronic basis to %d functions", n)


# --------------------------------------------------------------------------------------------------------------
# Kramers–Heisenberg kernels
# --------------------------------------------------------------------------------------------------------------
def _gauss_nodes(fwhm: float, step: float):
    """Trapezoid nodes over ±5σ of a unit-area Gaussian of ``fwhm``: offsets and weights summing to 1."""
    if fwhm == 0.0:
        return np.zeros(1), np.ones(1)
    sigma = fwhm / _FWHM_PER_SIGMA
    m = int(math.ceil(5.0 * sigma / step))
    t = np.linspace(-5.0 * sigma, 5.0 * sigma, 2 * m + 1)
    w = np.exp(-0.5 * (t / sigma) ** 2)
    return t, w / w.sum()


def _quadrature(model: VibronicModel):
    """Gaussian averages over the incident bandwidth δ (σ_m) and the site energy η (σ_h), reduced to one dimension.

    The resonance sees r = δ − η ~ N(0, σ_m² + σ_h²); the emission lines follow the photon, i.e. move by δ.
    Given r, δ is Gaussian with mean r·σ_m²/(σ_m² + σ_h²) and variance σ_m²σ_h²/(σ_m² + σ_h²), so the δ average
    is exact: shift the lines by the mean and add the conditional width to the emission Gaussian.

    Returns (emission shift, resonance offset, weight) per node and the extra emission Gaussian FWHM (eV).
    """
    var_m = (model.monochromator_fwhm / _FWHM_PER_SIGMA) ** 2
    var_h = (model.inhomogeneous_fwhm / _FWHM_PER_SIGMA) ** 2
    if var_m + var_h == 0.0:
        return np.zeros(1), np.zeros(1), np.ones(1), 0.0
    fwhm_r = _FWHM_PER_SIGMA * math.sqrt(var_m + var_h)
    # The integrand has Lorentzian structure of FWHM Γ: trapezoid steps of Γ/4 converge like exp(−πΓ/step),
    # i.e. to ~1e-6; steps of fwhm/5 resolve the Gaussian weight itself.
    r, w = _gauss_nodes(fwhm_r, min(model.core_hole_fwhm / 4.0, fwhm_r / 5.0))
    shift = r * var_m / (var_m + var_h)
    extra_fwhm = _FWHM_PER_SIGMA * math.sqrt(var_m * var_h / (var_m + var_h))
    return shift, r, w, extra_fwhm


def kh_amplitudes(structure: VibronicStructure, photon_energy, core_hole_fwhm: float) -> np.ndarray:
    """Kramers–Heisenberg amplitudes ``A[i, w, f]`` for initial level i, photon energy w, final level f.

    :math:`A = \\sum_n \\langle f|n\\rangle\\langle n|i\\rangle / (\\omega - (E_n - E_i) + i\\Gamma/2)`, computed as
    one batched matrix product over intermediate levels.  ``photon_energy`` in eV (absolute), any order.
    """
    w = np.asarray(photon_energy, dtype=float).reshape(-1)
    gamma = validate.width(core_hole_fwhm, "core_hole_fwhm", allow_zero=False)
    s = structure
    trans = s.intermediate_energies[None, :] - s.ground_energies[:, None]          # (n_g, n_m)
    den = 1.0 / (w[None, :, None] - trans[:, None, :] + 0.5j * gamma)             # (n_g, W, n_m)
    den *= s.overlap_mg.T[:, None, :]                                              # <n|i> / (ω − ΔE + iΓ/2)
    return den @ s.overlap_fm.T                                                    # (n_g, W, F)


def _rixs_sticks(s: VibronicStructure, model: VibronicModel, photon: np.ndarray, site: np.ndarray):
    """Stick weights (Γ/2π normalised) and emission positions for photon energies ``photon`` (W,).

    Returns weights (W, n_g, F), emission (W, n_g, F), elastic mask (n_g, F).
    """
    a = kh_amplitudes(s, photon - site, model.core_hole_fwhm)                   # (n_g, W, F)
    scale = model.core_hole_fwhm / (2.0 * math.pi)
    wt = (a.real**2 + a.imag**2) * (scale * s.ground_weights[:, None, None]
                                    * s.channel_weights[s.final_channel][None, None, :])
    loss = s.final_losses[None, :] - s.ground_energies[:, None]                   # (n_g, F)
    emission = photon[:, None, None] - loss[None, :, :]                            # (W, n_g, F)
    return np.moveaxis(wt, 1, 0), emission, s.elastic_mask


def _voigt_fwhm(lor: float, gau: float) -> float:
    # Olivero & Longbothum (1977) approximation, ample for choosing a grid step
    return 0.5346 * lor + math.sqrt(0.2166 * lor**2 + gau**2)


def _fine_grid(emission: np.ndarray, gauss_fwhm: float, s: VibronicStructure, channels: np.ndarray):
    """Uniform binning grid for the emission broadening: (lo, step, n_points)."""
    lor = s.channel_fwhm
    widths = [_voigt_fwhm(lor[c], gauss_fwhm) for c in channels]
    margin = 10.0 * gauss_fwhm + 40.0 * float(max(lor[c] for c in channels))
    lo, hi = emission[0] - margin, emission[-1] + margin
    h = min(widths) / 32.0
    g = int(math.ceil((hi - lo) / h)) + 2
    if g > _MAX_FINE_GRID:
        g = _MAX_FINE_GRID
        h = (hi - lo) / (g - 2)
        logger.warning("emission binning grid capped at %d points (step %.3g eV)", g, h)
    return lo, h, g


def _emission_broadening(rows, positions, weights, channel, emission, gauss_fwhm: float, s: VibronicStructure,
                         n_rows, grid, block: int = 2048):
    """Bin sticks linearly onto a fine uniform grid (area and first moment kept), then GEMMs per channel with
    the unit-area Voigt line shape of that channel (Gaussian ``gauss_fwhm``, the channel's Lorentzian), in
    blocks of grid points to bound memory.  Returns (n_rows, n_emission)."""
    out = np.zeros((n_rows, emission.size))
    lo, h, g = grid
    lor = s.channel_fwhm
    points = lo + h * np.arange(g)
    for c in np.unique(channel):
        sel = channel == c
        t = (positions[sel] - lo) / h
        j = np.floor(t).astype(np.int64)
        inside = (j >= 0) & (j < g - 1)
        j, frac, wsel, r = j[inside], (t - np.floor(t))[inside], weights[sel][inside], rows[sel][inside]
        idx = r * g + j
        hist = (np.bincount(idx, wsel * (1.0 - frac), minlength=n_rows * g)
                + np.bincount(idx + 1, wsel * frac, minlength=n_rows * g)).reshape(n_rows, g)
        nz = np.flatnonzero(hist.any(axis=0))
        for start in range(0, nz.size, block):
            cols = nz[start:start + block]
            if lor[c] == 0.0:
                # pure Gaussian: only emission points within 8 FWHM of the block matter (exp(−177) beyond)
                j0, j1 = np.searchsorted(emission, [points[cols[0]] - 8 * gauss_fwhm,
                                                    points[cols[-1]] + 8 * gauss_fwhm])
                if j1 > j0:
                    b = gaussian(emission[None, j0:j1], points[cols, None], gauss_fwhm)
                    out[:, j0:j1] += hist[:, cols] @ b
            else:
                b = voigt(emission[None, :], points[cols, None], lor[c], gauss_fwhm)   # (block, J)
                out += hist[:, cols] @ b
    return out


def _rixs_rows(model: VibronicModel, s: VibronicStructure, excitation: np.ndarray, emission: np.ndarray,
               max_elements: int = 4_000_000):
    """Intensity and elastic part (n_exc, n_emi), chunked over excitation energies to bound memory."""
    shift, res, wq, extra_fwhm = _quadrature(model)
    gauss = math.hypot(model.spectrometer_fwhm, extra_fwhm)
    used = np.flatnonzero(s.channel_weights > 0)
    total = np.zeros((excitation.size, emission.size))
    elastic = np.zeros_like(total)
    if used.size == 0:
        return total, elastic
    grid = _fine_grid(emission, gauss, s, used)
    n_g, n_f = s.ground_energies.size, s.final_losses.size
    per_row = max(shift.size * n_g * n_f, grid[2])
    chunk = max(1, max_elements // per_row)
    for start in range(0, excitation.size, chunk):
        exc = excitation[start:start + chunk]
        photon = (exc[:, None] + shift[None, :]).reshape(-1)          # where the emission lines sit
        site = np.tile(shift - res, exc.size)                         # photon − site = exc + res
        wt, pos, el = _rixs_sticks(s, model, photon, site)                         # (W, n_g, F)
        wt = wt * np.tile(wq, exc.size)[:, None, None]
        rows = np.broadcast_to(np.repeat(np.arange(exc.size), shift.size)[:, None, None], wt.shape)
        chan = np.broadcast_to(s.final_channel[None, None, :], wt.shape)
        keep = np.broadcast_to((s.channel_weights[s.final_channel] > 0)[None, None, :], wt.shape)
        total[start:start + chunk] = _emission_broadening(rows[keep], pos[keep], wt[keep], chan[keep],
                                                          emission, gauss, s, exc.size, grid)
        elm = np.broadcast_to(el[None], wt.shape) & keep
        if elm.any():
            elastic[start:start + chunk] = _emission_broadening(rows[elm], pos[elm], wt[elm], chan[elm],
                                                                emission, gauss, s, exc.size, grid)
    return total, elastic


def _meta(model: VibronicModel, s: VibronicStructure) -> dict:
    return {"model": model, "basis_size": s.basis_size, "n_intermediate_levels": int(s.intermediate_energies.size),
            "n_final_levels": int(s.final_losses.size), "channels": s.channel_names}


# --------------------------------------------------------------------------------------------------------------
# Public spectra
# --------------------------------------------------------------------------------------------------------------
def vibronic_rixs_map(params, excitation, emission) -> RixsMap:
    """mRIXS map of the vibronic model on absolute photon-energy axes.

    Parameters
    ----------
    params : OxidisedOxygenParameters, SolvationShellParameters or VibronicModel
    excitation : array_like
        Incident photon energies, eV, strictly increasing.
    emission : array_like
        Emitted photon energies, eV, strictly increasing.

    Returns
    -------
    RixsMap
        ``intensity`` of shape (n_exc, n_emi), normalised as in the module docstring (the emission integral of a
        channel is its weight times the XAS); ``elastic`` holds the elastic-line part.
    """
    model = _as_model(params)
    exc = validate.energy_axis(excitation, "excitation")
    emi = validate.energy_axis(emission, "emission", min_points=2)
    s = vibronic_structure(model)
    total, elastic = _rixs_rows(model, s, exc, emi)
    return RixsMap(excitation=exc, emission=emi, intensity=total, elastic=elastic,
                   label=f"{model.label}: vibronic RIXS", meta=_meta(model, s))


def vibronic_rixs_spectrum(params, excitation_energy: float, emission) -> Spectrum:
    """RIXS spectrum on the emission axis (absolute photon energies, eV) at one excitation energy (eV)."""
    model = _as_model(params)
    exc = validate.energy_axis([_positive(excitation_energy, "excitation_energy")], "excitation_energy")
    emi = validate.energy_axis(emission, "emission", min_points=2)
    s = vibronic_structure(model)
    total, elastic = _rixs_rows(model, s, exc, emi)
    meta = _meta(model, s)
    meta["excitation_energy"] = float(exc[0])
    meta["elastic"] = elastic[0]
    return Spectrum(emi, total[0], label=f"{model.label}: RIXS at {exc[0]:g} eV", meta=meta)


def vibronic_xas(params, energies) -> Spectrum:
    """XAS of the same model: Franck–Condon sticks, Voigt of the core-hole Lorentzian and the Gaussian
    monochromator ⊕ inhomogeneous widths.  Unit area over an infinite axis.  ``energies``: absolute eV."""
    model = _as_model(params)
    e = validate.energy_axis(energies, "energies")
    s = vibronic_structure(model)
    pos = (s.intermediate_energies[:, None] - s.ground_energies[None, :]).ravel()
    wts = (s.overlap_mg**2 * s.ground_weights[None, :]).ravel()
    gauss = math.hypot(model.monochromator_fwhm, model.inhomogeneous_fwhm)
    y = broaden_sticks(e, pos, wts, model.core_hole_fwhm, gauss)
    return Spectrum(e, y, label=f"{model.label}: XAS", units="1/eV", meta=_meta(model, s))


def vibronic_transitions(params) -> EdgeTransitions:
    """The vibronic model as :class:`~rixsim.transitions.EdgeTransitions`, for rixsim's general RIXS engine.

    Vibronic states become the engine's states: initial/final states are the kept ground-channel levels
    (Boltzmann weights) followed by the levels of every excited channel (weight 0); intermediate states are the
    core-excited levels, all with FWHM ``core_hole_fwhm``.  ``edge_offset`` is ``vertical_excitation``.  The
    transition dipole lies along z with :math:`d_z = \\sqrt3\\,\\langle n|f\\rangle\\sqrt{w_c/w_0}`, so the
    isotropic XAS is the Franck–Condon XAS of :func:`vibronic_xas` and the isotropic engine map equals
    :func:`vibronic_rixs_map` × 3·2π/(Γ w_0) (the engine's isotropic RIXS sums the emission over x, y, z;
    w_0 = ``ground_channel_weight``, which must be > 0: one dipole matrix serves absorption and emission, so the
    branching is expressed relative to the ground channel).  The
    monochromator and inhomogeneous averages and the per-channel final-state widths are not carried over.
    """
    model = _as_model(params)
    if model.ground_channel_weight <= 0:
        raise InputError("vibronic_transitions needs ground_channel_weight > 0 (absorption uses the ground "
                         f"channel's dipoles); got {model.ground_channel_weight}")
    s = vibronic_structure(model)
    n_g = s.ground_energies.size
    weights = np.zeros(s.final_losses.size)
    weights[:n_g] = s.ground_weights                  # ground-channel levels come first, in order
    scale = np.sqrt(3.0 * s.channel_weights[s.final_channel] / model.ground_channel_weight)
    dipole = np.zeros((3, s.intermediate_energies.size, s.final_losses.size))
    dipole[2] = s.overlap_fm.T * scale[None, :]
    return EdgeTransitions(initial_energies=s.final_losses, initial_weights=weights,
                           intermediate_energies=s.intermediate_energies - model.vertical_excitation,
                           intermediate_fwhm=np.full(s.intermediate_energies.size, model.core_hole_fwhm),
                           dipole=dipole, edge_offset=model.vertical_excitation, temperature_k=model.temperature_k,
                           meta={"source": "rixsim.vibronic", "label": model.label, "channels": s.channel_names,
                                 "basis_size": s.basis_size})


@dataclass(frozen=True)
class LossSticks:
    """RIXS at one photon energy without instrumental broadening: energy losses and weights of every final level.

    ``loss`` (eV, relative: photon − emission), ``weight`` (Γ/2π-normalised |A|² p_i w_c), ``channel``
    (0 = ground channel), ``level`` (final vibrational quantum number), ``initial`` (initial level index),
    ``elastic`` (bool mask).
    """

    excitation_energy: float
    loss: np.ndarray
    weight: np.ndarray
    channel: np.ndarray
    level: np.ndarray
    initial: np.ndarray
    elastic: np.ndarray

    @property
    def elastic_fraction(self) -> float:
        """Fraction of the ground-channel weight in the elastic line (final level = initial level)."""
        g = self.channel == 0
        tot = self.weight[g].sum()
        return float(self.weight[self.elastic].sum() / tot) if tot > 0 else float("nan")


def loss_sticks(params, excitation_energy: float) -> LossSticks:
    """Kramers–Heisenberg stick spectrum at a single photon energy (eV), no monochromator/inhomogeneous average."""
    model = _as_model(params)
    w = _positive(excitation_energy, "excitation_energy")
    s = vibronic_structure(model)
    wt, pos, el = _rixs_sticks(s, model, np.array([w]), np.zeros(1))
    n_g, n_f = s.ground_energies.size, s.final_losses.size
    return LossSticks(excitation_energy=w, loss=(w - pos[0]).ravel(), weight=wt[0].ravel(),
                      channel=np.broadcast_to(s.final_channel, (n_g, n_f)).ravel().copy(),
                      level=np.broadcast_to(s.final_level, (n_g, n_f)).ravel().copy(),
                      initial=np.repeat(np.arange(n_g), n_f), elastic=el.ravel().copy())


# --------------------------------------------------------------------------------------------------------------
# Solvation-shell recipe (seed §3.2)
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SolvationComparison:
    """RIXS and XAS figures of merit versus the core-excited Huang–Rhys factor (seed §3.2, Fig. 3).

    Attributes
    ----------
    huang_rhys : ndarray
    elastic_fraction : ndarray
        Elastic part / total of the broadened RIXS spectrum at ``excitation_energy`` (integrated over emission).
    rixs_integral : ndarray
        Emission-integrated RIXS at ``excitation_energy`` (equals the XAS there, by the sum rule).
    xas_first_moment, xas_fwhm : ndarray
        First moment (eV) and full width at half maximum (eV) of the XAS band.
    rixs_shape_change, xas_shape_change : ndarray
        Total-variation distance :math:`\\tfrac12\\int|\\hat y_k - \\hat y_0|` between the area-normalised
        spectrum of entry k and that of entry 0 (0: identical line shape, 1: disjoint).
    excitation_energy : float
    """

    huang_rhys: np.ndarray
    elastic_fraction: np.ndarray
    rixs_integral: np.ndarray
    xas_first_moment: np.ndarray
    xas_fwhm: np.ndarray
    rixs_shape_change: np.ndarray
    xas_shape_change: np.ndarray
    excitation_energy: float
    meta: Mapping[str, Any] = field(default_factory=dict)


def _fwhm_of(x: np.ndarray, y: np.ndarray) -> float:
    k = int(np.argmax(y))
    half = 0.5 * y[k]
    left = np.flatnonzero(y[:k] < half)
    right = np.flatnonzero(y[k:] < half)
    if left.size == 0 or right.size == 0:
        return float("nan")
    i, j = left[-1], k + right[0]
    xl = np.interp(half, [y[i], y[i + 1]], [x[i], x[i + 1]])
    xr = np.interp(half, [y[j], y[j - 1]], [x[j], x[j - 1]])
    return float(xr - xl)


def solvation_shell_comparison(huang_rhys_values, params: SolvationShellParameters | None = None,
                               excitation_energy: float | None = None, energies=None,
                               emission=None) -> SolvationComparison:
    """Elastic fraction of RIXS and XAS first moment / FWHM for several core-excited Huang–Rhys factors.

    The seed's point (§3.2): weaker vibrational coupling in the ion-solvation shell moves RIXS weight to the
    elastic line (elastic fraction rises) while the sXAS barely changes (first moment fixed at the vertical
    energy; width dominated by the inhomogeneous spread), and the emission-integrated RIXS stays ≈ the XAS.

    Parameters
    ----------
    huang_rhys_values : sequence of float (>= 0)
    params : SolvationShellParameters, optional (defaults)
    excitation_energy : float, optional
        eV; default ``params.excitation_energy`` (534.2 eV).
    energies, emission : array_like, optional
        XAS axis (default vertical ± 6 eV) and emission axis (default excitation − 6 eV … + 1.5 eV).
    """
    params = params or SolvationShellParameters()
    g = np.asarray(huang_rhys_values, dtype=float).reshape(-1)
    if g.size == 0 or not np.all(np.isfinite(g)) or np.any(g < 0):
        raise InputError(f"huang_rhys_values must be finite and >= 0; got {huang_rhys_values!r}")
    w = params.excitation_energy if excitation_energy is None else _positive(excitation_energy, "excitation_energy")
    e = (validate.energy_axis(energies, "energies", 3) if energies is not None
         else np.linspace(params.excitation_energy - 6.0, params.excitation_energy + 6.0, 1201))
    emi = (validate.energy_axis(emission, "emission", 2) if emission is not None
           else np.linspace(w - 6.0, w + 1.5, 1501))
    ef, integ, m1, fw, rixs_norm, xas_norm = [], [], [], [], [], []
    for gi in g:   # a handful of parameter values, not vibrational states
        p = replace(params, huang_rhys=float(gi))
        spec = vibronic_rixs_spectrum(p, w, emi)
        tot = np.trapezoid(spec.intensity, emi)
        ef.append(np.trapezoid(spec.meta["elastic"], emi) / tot)
        integ.append(tot)
        rixs_norm.append(spec.intensity / tot)
        xas = vibronic_xas(p, e)
        area = np.trapezoid(xas.intensity, e)
        m1.append(np.trapezoid(xas.intensity * e, e) / area)
        fw.append(_fwhm_of(e, xas.intensity))
        xas_norm.append(xas.intensity / area)
    rixs_tv = 0.5 * np.trapezoid(np.abs(np.array(rixs_norm) - rixs_norm[0]), emi, axis=1)
    xas_tv = 0.5 * np.trapezoid(np.abs(np.array(xas_norm) - xas_norm[0]), e, axis=1)
    return SolvationComparison(g, np.array(ef), np.array(integ), np.array(m1), np.array(fw), rixs_tv, xas_tv,
                               float(w), meta={"params": params})

"""Parameters of the vibronic model: potentials, final-state channels, extra modes, and the two
recipes of the seed review (oxidised oxygen, ion solvation shell).  Energies in eV; widths FWHM."""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from rixsim import validate
from rixsim.errors import InputError

__all__ = ["Potential", "FinalChannel", "Mode", "VibronicModel", "O2_GROUND_FREQUENCY", "O2_GROUND_ANHARMONICITY", "O_1S_CORE_HOLE_FWHM", "OxidisedOxygenParameters", "SolvationShellParameters"]

logger = logging.getLogger(__name__)

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


def _potential_values(pot: Potential, x: np.ndarray, ground_frequency: float) -> np.ndarray:
    if pot.is_morse:
        d = pot.dissociation_energy
        a = pot.frequency / math.sqrt(2.0 * ground_frequency * d)
        arg = np.minimum(-a * (x - pot.displacement), 700.0)
        return d * (1.0 - np.exp(arg)) ** 2
    return pot.frequency**2 / (2.0 * ground_frequency) * (x - pot.displacement) ** 2


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



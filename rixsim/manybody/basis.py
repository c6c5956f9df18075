"""Many-body basis: named shells of spin-orbitals and the Slater determinants of selected configurations.

Conventions (owned here and in :mod:`rixsim.manybody.angular`)
--------------------------------------------------------------
* A :class:`Shell` of orbital momentum ``l`` holds ``2(2l+1)`` spin-orbitals ordered
  ``2*(m + l) + s`` (m = −l…l complex harmonics, s = 0 up / 1 down, quantised along z).
* Shells are concatenated in the order given to :class:`ShellSet`; spin-orbital ``p`` of the whole set is
  bit ``p`` of an unsigned 64-bit integer (so at most 64 spin-orbitals).
* A determinant with occupied spin-orbitals ``p1 < p2 < … < pN`` is
  :math:`c^\\dagger_{p_1} c^\\dagger_{p_2}\\cdots c^\\dagger_{p_N}|0\\rangle`; hence
  :math:`c^\\dagger_p` and :math:`c_p` acting on it carry the sign :math:`(-1)^{\\#\\{q<p\\ \\text{occupied}\\}}`.
* A :class:`Basis` is the union of all determinants of a list of *configurations*, each a tuple with the
  electron count of every shell (e.g. ``(8, 10, 6)`` for 3d⁸ L¹⁰ 2p⁶).  Its determinants are sorted
  ascending as integers; a determinant's index is found by binary search.

Glossary: *shell* — a set of 2(2l+1) spin-orbitals with one radial function; *configuration* — electron
count per shell; *sector* — the basis of one or several configurations an operator acts within.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from rixsim.errors import InputError

MAX_SPIN_ORBITALS = 64


@dataclass(frozen=True)
class Shell:
    """A shell of spin-orbitals: ``name`` (e.g. "3d", "L", "2p", "1s") and orbital momentum ``l``."""

    name: str
    l: int

    @property
    def size(self) -> int:
        return 2 * (2 * self.l + 1)


@dataclass(frozen=True)
class ShellSet:
    """Ordered shells; spin-orbital offsets follow from the order."""

    shells: tuple[Shell, ...]

    def __post_init__(self):
        names = [s.name for s in self.shells]
        if len(set(names)) != len(names):
            raise InputError(f"shell names must be unique; got {names}")
        if self.n_spin_orbitals > MAX_SPIN_ORBITALS:
            raise InputError(f"at most {MAX_SPIN_ORBITALS} spin-orbitals; got {self.n_spin_orbitals}")

    @property
    def n_spin_orbitals(self) -> int:
        return sum(s.size for s in self.shells)

    def index(self, name: str) -> int:
        for i, s in enumerate(self.shells):
            if s.name == name:
                return i
        raise InputError(f"no shell named {name!r}; shells are {[s.name for s in self.shells]}")

    def offset(self, name: str) -> int:
        i = self.index(name)
        return sum(s.size for s in self.shells[:i])

    def slice(self, name: str) -> slice:
        start = self.offset(name)
        return slice(start, start + self.shells[self.index(name)].size)

    def shell(self, name: str) -> Shell:
        return self.shells[self.index(name)]


def _shell_masks(offset: int, size: int, n: int) -> np.ndarray:
    masks = [sum(1 << (offset + p) for p in occ) for occ in combinations(range(size), n)]
    return np.array(masks, dtype=np.uint64)


@dataclass(frozen=True, eq=False)
class Basis:
    """The determinants of a set of configurations of a :class:`ShellSet` (see module conventions)."""

    shells: ShellSet
    configurations: tuple[tuple[int, ...], ...]
    states: np.ndarray   # sorted uint64 bit strings

    @classmethod
    def from_configurations(cls, shells: ShellSet, configurations) -> "Basis":
        configs = tuple(tuple(int(n) for n in c) for c in configurations)
        if not configs:
            raise InputError("a basis needs at least one configuration")
        parts = []
        for c in configs:
            if len(c) != len(shells.shells):
                raise InputError(f"configuration {c} must give one electron count per shell "
                                 f"{[s.name for s in shells.shells]}")
            per_shell = []
            for n, sh in zip(c, shells.shells):
                if not 0 <= n <= sh.size:
                    raise InputError(f"{n} electrons in shell {sh.name!r} is impossible (allowed 0…{sh.size})")
                per_shell.append(_shell_masks(shells.offset(sh.name), sh.size, n))
            grid = np.zeros(1, dtype=np.uint64)
            for masks in per_shell:
                grid = (grid[:, None] | masks[None, :]).ravel()
            parts.append(grid)
        states = np.unique(np.concatenate(parts))
        return cls(shells, configs, states)

    @property
    def dim(self) -> int:
        return int(self.states.size)

    def occupations(self, name: str) -> np.ndarray:
        """Electron count of shell ``name`` in every determinant."""
        sl = self.shells.slice(name)
        mask = np.uint64(sum(1 << p for p in range(sl.start, sl.stop)))
        return _popcount(self.states & mask)

    def configuration_index(self) -> np.ndarray:
        """For every determinant, the index of its configuration in ``configurations``."""
        occ = np.stack([self.occupations(s.name) for s in self.shells.shells], axis=1)
        configs = np.array(self.configurations)
        match = (occ[:, None, :] == configs[None, :, :]).all(axis=2)
        return np.argmax(match, axis=1)


def _popcount(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint64)
    count = np.zeros(x.shape, dtype=np.int64)
    for _ in range(MAX_SPIN_ORBITALS):
        if not x.any():
            break
        count += (x & np.uint64(1)).astype(np.int64)
        x = x >> np.uint64(1)
    return count

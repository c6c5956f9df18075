"""The memory planner: every large allocation is checked against a budget *before* work starts.

One function, :func:`plan`, answers "may I allocate ``nbytes`` for ``what``?"  It returns the number of bytes
granted or raises :class:`~rixsim.errors.MemoryBudgetError` (an :class:`~rixsim.errors.InputError`) naming the
size needed, the budget and where the budget came from, so a grid that is far too large is refused in
microseconds instead of swapping the machine.

The budget is ``memory_gb`` (GB, 1e9 bytes) when a caller gives one, else :func:`default_budget_bytes`:
``RIXSIM_MEMORY_GB`` from the environment when set, otherwise 80 % of the memory the operating system reports
as available (``os.sysconf('SC_AVPHYS_PAGES')``; 4 GB when it cannot tell).  Functions that can work in
pieces use :func:`chunk_size` to pick a piece that fits.
"""
from __future__ import annotations

import math
import os
from typing import Optional

from rixsim.errors import InputError, MemoryBudgetError

__all__ = ["plan", "chunk_size", "default_budget_bytes", "budget_bytes", "format_bytes"]

#: fraction of the available memory granted when no budget is given
AVAILABLE_FRACTION = 0.8
#: working set aimed at by work that is cut into pieces (a piece larger than this gains no speed)
WORKING_SET_BYTES = 256 * 10**6
_FALLBACK_BYTES = 4 * 10**9


def format_bytes(n: float) -> str:
    """``n`` bytes as a short human string in decimal units (``"11.7 GB"``)."""
    n = float(n)
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def _available_bytes() -> Optional[int]:
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):   # not POSIX, or the name is unknown
        return None


def default_budget_bytes() -> tuple[int, str]:
    """``(bytes, source)`` of the budget used when a caller gives none (see the module docstring)."""
    env = os.environ.get("RIXSIM_MEMORY_GB", "").strip()
    if env:
        try:
            gb = float(env)
        except ValueError:
            raise InputError(f"RIXSIM_MEMORY_GB must be a number of GB > 0; got {env!r}") from None
        return budget_bytes(gb, "RIXSIM_MEMORY_GB"), f"RIXSIM_MEMORY_GB={env}"
    avail = _available_bytes()
    if avail is None or avail <= 0:
        return _FALLBACK_BYTES, "fallback (available memory unknown)"
    return int(AVAILABLE_FRACTION * avail), f"{AVAILABLE_FRACTION:.0%} of available memory"


def budget_bytes(memory_gb, name: str = "memory_gb") -> int:
    """``memory_gb`` (GB, finite and > 0) as bytes; refuse anything else naming ``name``."""
    if isinstance(memory_gb, (bool, str, bytes)):
        raise InputError(f"{name} must be a number of GB > 0; got {memory_gb!r}")
    try:
        gb = float(memory_gb)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number of GB > 0; got {memory_gb!r}") from None
    if not math.isfinite(gb) or gb <= 0:
        raise InputError(f"{name} must be finite and > 0 GB; got {memory_gb!r}")
    return int(gb * 1e9)


def _budget(memory_gb) -> tuple[int, str]:
    if memory_gb is None:
        return default_budget_bytes()
    return budget_bytes(memory_gb), f"memory_gb={memory_gb!r}"


def plan(nbytes, what: str, memory_gb=None) -> int:
    """Grant ``nbytes`` for ``what`` or refuse before anything is allocated.

    Parameters
    ----------
    nbytes : int or float
        Estimated peak bytes of the work (arrays alive at once).
    what : str
        What would be allocated, for the message (e.g. ``"XAS: 1000000 energies × 4096 lines"``).
    memory_gb : float, optional
        Budget in GB (1e9 bytes); default :func:`default_budget_bytes`.

    Returns
    -------
    int
        ``nbytes`` (rounded up), when it fits.

    Raises
    ------
    MemoryBudgetError
        ``nbytes`` exceeds the budget; the message names both sizes and how to proceed.
    """
    need = float(nbytes)
    if not math.isfinite(need) or need < 0:
        raise InputError(f"memory plan of {what}: size must be finite and >= 0 bytes; got {nbytes!r}")
    budget, source = _budget(memory_gb)
    if need > budget:
        raise MemoryBudgetError(f"{what} would need {format_bytes(need)}, more than the memory budget of "
                                f"{format_bytes(budget)} ({source}); use a coarser or shorter axis, or raise "
                                f"memory_gb")
    return int(math.ceil(need))


def chunk_size(bytes_per_item, n_items: int, what: str, memory_gb=None, fixed_bytes: float = 0.0,
               target_bytes: float | None = None) -> int:
    """Items per piece so that ``fixed_bytes + piece × bytes_per_item`` stays within the budget, and within
    ``target_bytes`` (a working set that keeps the caches warm and the machine responsive) when that is larger
    than one item (default :data:`WORKING_SET_BYTES`; ``math.inf`` for none).

    Raises :class:`MemoryBudgetError` when not even one item fits the budget.
    """
    budget, source = _budget(memory_gb)
    avail = budget - float(fixed_bytes)
    per = max(float(bytes_per_item), 1.0)
    if avail < per:
        raise MemoryBudgetError(f"{what} would need at least {format_bytes(fixed_bytes + per)}, more than the "
                                f"memory budget of {format_bytes(budget)} ({source}); use a coarser or shorter "
                                f"axis, or raise memory_gb")
    target = WORKING_SET_BYTES if target_bytes is None else float(target_bytes)
    cap = min(avail, max(target - float(fixed_bytes), per))
    return int(max(1, min(int(n_items), cap // per)))

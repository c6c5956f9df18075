"""Progress bars for long work (maps, sweeps, fits, reference libraries), quiet when nobody watches.

A bar is shown only when it is asked for *and* standard error is a terminal, so logs, pipes, CI and
``pytest`` stay free of carriage-return noise.  ``RIXSIM_PROGRESS=0`` (or ``1``) in the environment forces
bars off (or on) regardless of the terminal.  tqdm is imported only when a bar is actually drawn.

Where no bar is drawn, long work is still visible: every ``RIXSIM_PROGRESS_INTERVAL`` seconds (default 5) an
INFO line ``"<desc>: k/n done after t s"`` goes to the ``rixsim.progress`` logger (the command line shows that
logger on stderr), so a job piped to a file or run by a scheduler does not look hung.  Work shorter than the
interval logs nothing.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from typing import Iterable, Iterator, Optional, TypeVar

__all__ = ["enabled", "progress"]

T = TypeVar("T")


def enabled(requested: Optional[bool] = True) -> bool:
    """Whether a progress bar should be drawn.

    Parameters
    ----------
    requested : bool or None
        False: never.  True or None: when ``RIXSIM_PROGRESS`` says so, else when stderr is a terminal.
    """
    if requested is False:
        return False
    env = os.environ.get("RIXSIM_PROGRESS", "").strip().lower()
    if env in ("0", "false", "no", "off"):
        return False
    if env in ("1", "true", "yes", "on"):
        return True
    stream = sys.stderr
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):       # closed or replaced stream
        return False


def progress(iterable: Iterable[T], desc: str = "", total: Optional[int] = None, unit: str = "it",
             requested: Optional[bool] = True) -> Iterator[T]:
    """Iterate over ``iterable`` with a tqdm bar on stderr when :func:`enabled` (``requested``), else plainly.

    Parameters
    ----------
    iterable : iterable
    desc : str
        Short label shown before the bar (e.g. ``"sweep"``).
    total : int, optional
        Number of items when ``iterable`` has no ``len``.
    unit : str
        Name of one item.
    requested : bool or None
        See :func:`enabled`.
    """
    if requested is False:
        return iter(iterable)
    if not enabled(requested):
        return _logged(iterable, desc or "work", total, unit)
    from tqdm.auto import tqdm
    return iter(tqdm(iterable, desc=desc, total=total, unit=unit, file=sys.stderr, leave=False))


_log = logging.getLogger("rixsim.progress")


def _interval() -> float:
    try:
        value = float(os.environ.get("RIXSIM_PROGRESS_INTERVAL", "5"))
    except ValueError:
        return 5.0
    return value if value > 0 else 5.0


def _logged(iterable: Iterable[T], desc: str, total: Optional[int], unit: str) -> Iterator[T]:
    """Yield from ``iterable``, logging a progress line whenever ``interval`` seconds have passed."""
    n = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
    every = _interval()
    t0 = last = time.monotonic()
    k = 0
    for item in iterable:
        yield item
        k += 1
        now = time.monotonic()
        if now - last >= every:
            last = now
            _log.info("%s: %d/%s %s done after %.0f s", desc, k, "?" if n is None else n, unit, now - t0)
    if last != t0:
        _log.info("%s: all %d %s done after %.0f s", desc, k, unit, time.monotonic() - t0)

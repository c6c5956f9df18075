"""Progress bars for long work (maps, sweeps, fits, reference libraries), quiet when nobody watches.

A bar is shown only when it is asked for *and* standard error is a terminal, so logs, pipes, CI and
``pytest`` stay free of carriage-return noise.  ``RIXSIM_PROGRESS=0`` (or ``1``) in the environment forces
bars off (or on) regardless of the terminal.  tqdm is imported only when a bar is actually drawn.
"""
from __future__ import annotations

import os
import sys
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
    if not enabled(requested):
        return iter(iterable)
    from tqdm.auto import tqdm
    return iter(tqdm(iterable, desc=desc, total=total, unit=unit, file=sys.stderr, leave=False))

"""Progress of long work (model building, maps, fits, sweeps, validation), quiet when nobody watches.

A bar is shown only when it is asked for *and* standard error is a terminal, so logs, pipes, CI and
``pytest`` stay free of carriage-return noise.  ``RIXSIM_PROGRESS=0`` (or ``1``) in the environment forces
bars off (or on) regardless of the terminal.  tqdm is imported only when a bar is actually drawn.

Where no bar is drawn, long work is still visible: every ``RIXSIM_PROGRESS_INTERVAL`` seconds (default 5) an
INFO line ``"<desc>: k/n <unit> done after t s"`` goes to the ``rixsim.progress`` logger (the command line shows
that logger on stderr), so a job piped to a file or run by a scheduler does not look hung.  The line comes
from a timer thread, so it appears on time even while one step (a diagonalisation, a model evaluation, a
first compilation) runs for long.  Work shorter than the interval logs nothing.

Two ways in: :func:`progress` wraps an iterable; :func:`counter` is a context manager for work that counts
itself (``c.update(1, status="χ² = 3.2")``: model evaluations of a fit, incident energies of a map).

Nesting: work started while other reported work runs in the same thread (the model builds inside a fit, the
maps inside a serial sweep) draws no bar and logs at DEBUG only, so the outer work's lines stay readable.
"""
from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["Counter", "counter", "enabled", "progress"]

T = TypeVar("T")

_log = logging.getLogger("rixsim.progress")
_depth = threading.local()


def enabled(requested: bool | None = True) -> bool:
    """Whether a progress bar should be drawn.

    Parameters
    ----------
    requested : bool or None
        False: never.  True or None: when ``RIXSIM_PROGRESS`` says so, else when stderr is a terminal.

    Returns
    -------
    bool
        True when a bar is drawn.
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


def _interval() -> float:
    try:
        value = float(os.environ.get("RIXSIM_PROGRESS_INTERVAL", "5"))
    except ValueError:
        return 5.0
    return value if value > 0 and math.isfinite(value) else 5.0


def _seconds(t: float) -> str:
    return f"{t:.1f}" if t < 10 else f"{t:.0f}"


def _nested() -> bool:
    return getattr(_depth, "n", 0) > 0


class Counter:
    """Count done work: a tqdm bar on a terminal, else periodic INFO lines on ``rixsim.progress``.

    Use :func:`counter` to make one.  ``update(n, status=...)`` adds ``n`` (may be fractional: a map counts
    incident energies done per chunk of final states) and sets a short status shown after the count.

    Attributes
    ----------
    desc, unit : str
    total : float or None
    n : float
        Work done so far.
    lines : int
        Progress lines logged at INFO so far.
    """

    def __init__(self, desc: str, total: float | None = None, unit: str = "it",
                 requested: bool | None = True, start: str = "", announce: bool = True):
        self.desc, self.unit = desc or "work", unit
        self.total = None if total is None else float(total)
        self.n = 0.0
        self.status = ""
        self.lines = 0
        self._quiet = requested is False
        self._nested = _nested()
        self._level = logging.DEBUG if (self._quiet or self._nested) else logging.INFO
        self._t0 = time.monotonic()
        self._bar = None
        self._stop = None
        self._closed = False
        self._lock = threading.Lock()
        _depth.n = getattr(_depth, "n", 0) + 1
        if start:
            _log.log(self._level if announce else logging.DEBUG, "%s: %s", self.desc, start)
        if self._quiet:
            return
        if not self._nested and enabled(requested):
            from tqdm.auto import tqdm
            self._bar = tqdm(desc=self.desc, total=total, unit=unit, file=sys.stderr, leave=False)
            return
        if self._level == logging.INFO:
            self._stop = threading.Event()
            threading.Thread(target=self._beat, args=(_interval(),), daemon=True,
                             name=f"rixsim.progress {self.desc}").start()

    def _line(self) -> str:
        t = _seconds(time.monotonic() - self._t0)
        status = f" ({self.status})" if self.status else ""
        if self.n == 0 and self.total is None:
            return f"{self.desc}: running for {t} s{status}"
        done = f"{int(self.n + 1e-9)}" if self.total is None else f"{int(self.n + 1e-9)}/{int(self.total)}"
        return f"{self.desc}: {done} {self.unit} done after {t} s{status}"

    def _beat(self, every: float) -> None:
        while not self._stop.wait(every):
            with self._lock:
                if self._closed:
                    return
                self.lines += 1
                _log.info("%s", self._line())

    def set_total(self, total: float | None) -> None:
        """Set the number of items once it is known (e.g. the symmetry blocks of a Hamiltonian)."""
        self.total = None if total is None else float(total)
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def update(self, n: float = 1, status: str | None = None) -> None:
        """Add ``n`` done items; ``status`` (e.g. ``"χ² = 3.21"``) replaces the shown status."""
        before = int(self.n + 1e-9)
        self.n += n
        if status is not None:
            self.status = status
        if self._bar is not None:
            step = int(self.n + 1e-9) - before
            if status is not None:
                self._bar.set_postfix_str(status, refresh=False)
            if step:
                self._bar.update(step)

    def close(self) -> None:
        """Stop the bar or the timer; log a last line when any progress line was logged."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        _depth.n = max(getattr(_depth, "n", 1) - 1, 0)
        if self._bar is not None:
            self._bar.close()
        if self._stop is not None:
            self._stop.set()
            if self.lines:
                status = f" ({self.status})" if self.status else ""
                _log.info("%s: all %d %s done after %s s%s", self.desc, int(self.n + 1e-9), self.unit,
                          _seconds(time.monotonic() - self._t0), status)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def counter(desc: str, total: float | None = None, unit: str = "it", requested: bool | None = True,
            start: str = "", announce: bool = True) -> Counter:
    """A :class:`Counter` for work that counts itself; use it as a context manager.

    Parameters
    ----------
    desc : str
        Short label (``"fit"``, ``"RIXS map"``).
    total : float, optional
        Items expected (None when unknown, e.g. model evaluations of a fit without ``max_nfev``).
    unit : str
        Name of one item.
    requested : bool or None
        See :func:`enabled`; False reports nothing at INFO (DEBUG only).
    start : str
        A first line logged at once (INFO, DEBUG when nested or not requested): says the work has started.
    announce : bool
        False logs the ``start`` line at DEBUG only (work that is usually short); periodic lines still appear.

    Returns
    -------
    Counter
    """
    return Counter(desc, total, unit, requested, start, announce)


def progress(iterable: Iterable[T], desc: str = "", total: int | None = None, unit: str = "it",
             requested: bool | None = True) -> Iterator[T]:
    """Iterate over ``iterable`` with a tqdm bar on stderr when :func:`enabled` (``requested``), else with
    periodic log lines.

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

    Returns
    -------
    iterator
        The items of ``iterable``.
    """
    if requested is False:
        return iter(iterable)
    n = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
    return _counted(iterable, desc, n, unit, requested)


def _counted(iterable: Iterable[T], desc, n, unit, requested) -> Iterator[T]:
    c = Counter(desc, n, unit, requested)       # made on the first next(): an unstarted generator leaks nothing
    try:
        for item in iterable:
            yield item
            c.update(1)
    finally:
        c.close()

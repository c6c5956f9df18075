"""Parameter sweeps: one function evaluated over the Cartesian product of parameter values.

.. code-block:: python

    def l3_peak(tendq):                               # a module-level function (picklable)
        s = rixsim.xas(rixsim.atomic_model("Mn3+", tendq=tendq), np.linspace(635, 660, 500))
        return s                                      # a Spectrum: its energy axis becomes a coordinate

    res = sweep(l3_peak, {"tendq": np.linspace(0.5, 2.5, 9)})
    res.data["intensity"].shape                       # (9, 500)
    res.sel(tendq=1.0)["intensity"]                   # one point

Any ``concurrent.futures``-style executor runs the points in parallel: an object with ``submit(fn, *args,
**kwargs)`` returning futures with ``.result()`` (``ProcessPoolExecutor``, ``ThreadPoolExecutor``, a Dask
``distributed.Client``), or, failing that, one with ``map(fn, iterable)``.  Points are evaluated in C order of
the grid (the last parameter varies fastest) and the results are gathered in that order, so a parallel run
gives exactly the numbers of a serial one.

What a point may return, and how it is stacked (``shape`` = the grid shape):

* a number or an array → ``data["value"]`` of shape ``shape + value.shape``;
* a :class:`~rixsim.results.Spectrum` → ``data["intensity"]`` (``shape + (n_energy,)``) with
  ``coords["energy"]`` (every point must share the energy axis);
* a :class:`~rixsim.results.RixsMap` → ``data["intensity"]`` (and ``data["elastic"]`` when present) with
  ``coords["excitation"]`` and ``coords["emission"]`` or ``coords["loss"]``;
* a mapping of names to numbers or arrays → one entry of ``data`` per name.
"""
from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rixsim import memory, validate
from rixsim.errors import InputError
from rixsim.progress import counter as _counter
from rixsim.results import RixsMap, Spectrum

__all__ = ["SweepResult", "grid_points", "sweep"]

log = logging.getLogger(__name__)


def _readonly(a) -> np.ndarray:
    arr = np.array(a, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Results of a sweep, labelled by the grid.

    Attributes
    ----------
    dims : tuple of str
        Parameter names in grid order (axis ``i`` of every array in ``data`` belongs to ``dims[i]``).
    axes : mapping name → ndarray
        The values of each swept parameter.
    data : mapping name → ndarray
        Stacked results, each of shape ``shape + per-point shape``.
    coords : mapping name → ndarray
        Axes of the per-point results (e.g. ``energy`` of a spectrum), shared by every point.
    kind : str
        ``"value"``, ``"mapping"``, ``"spectrum"`` or ``"map"``: what each point returned.
    meta : mapping
        The function's name and, for spectra and maps, the label and units of the first point.
    """

    dims: tuple
    axes: Mapping[str, np.ndarray]
    data: Mapping[str, np.ndarray]
    coords: Mapping[str, np.ndarray] = field(default_factory=dict)
    kind: str = "value"
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple:
        """Grid shape: one length per swept parameter."""
        return tuple(self.axes[d].size for d in self.dims)

    def sel(self, **values) -> dict:
        """The results at one grid point, e.g. ``res.sel(tendq=1.2, temperature_k=300)``.

        Every parameter must be given; each value must equal one of the grid values (to 1e-12 relative).
        """
        missing = [d for d in self.dims if d not in values]
        extra = [k for k in values if k not in self.dims]
        if missing or extra:
            raise InputError(f"sel needs exactly the parameters {list(self.dims)}; missing {missing}, "
                             f"unknown {extra}")
        index = []
        for d in self.dims:
            ax = self.axes[d]
            v = values[d]
            if ax.dtype.kind in "biufc":
                hits = np.flatnonzero(np.isclose(ax, v, rtol=1e-12, atol=0.0))
            else:
                hits = np.flatnonzero(ax == v)
            if hits.size == 0:
                raise InputError(f"{d}={v!r} is not on the grid; values: {ax.tolist()}")
            index.append(int(hits[0]))
        return {k: v[tuple(index)] for k, v in self.data.items()}


#: bytes of one listed point (its keyword dictionary) and of one result slot, for the memory plan
_BYTES_PER_POINT = 400


def grid_points(grid: Mapping[str, Any], memory_gb: float | None = None) -> tuple[tuple, dict, list]:
    """Validate a grid and list its points in C order (refused before listing when the list alone would
    exceed ``memory_gb``, default :func:`rixsim.memory.default_budget_bytes`).

    Parameters
    ----------
    grid : dict name → sequence
        Values of each parameter (see :func:`sweep`).
    memory_gb : float, optional
        Budget (GB) of the list of points.

    Returns
    -------
    dims : tuple of str
    axes : dict name → ndarray
    points : list of dict
        One keyword dictionary per point.
    """
    if not isinstance(grid, Mapping) or not grid:
        raise InputError(f"grid must be a non-empty dict of parameter name → sequence of values; got {grid!r}")
    dims, axes = [], {}
    for name, values in grid.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise InputError(f"grid parameter names must be identifiers (they become keywords); got {name!r}")
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise InputError(f"grid[{name!r}] must be a sequence of values; got {values!r}")
        arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values)
        if arr.ndim != 1 or arr.size == 0:
            raise InputError(f"grid[{name!r}] must be a non-empty 1-D sequence; got shape {arr.shape}")
        dims.append(name)
        axes[name] = _readonly(arr)
    n_points = int(np.prod([axes[d].size for d in dims], dtype=float))
    memory.plan(float(_BYTES_PER_POINT) * n_points * max(len(dims), 1),
                f"a sweep grid of {n_points:g} points ({' × '.join(str(axes[d].size) for d in dims)})", memory_gb)
    lists = [list(grid[d]) if not isinstance(grid[d], np.ndarray) else grid[d].tolist() for d in dims]
    points = [dict(zip(dims, combo)) for combo in itertools.product(*lists)]
    return tuple(dims), axes, points


class _Call:
    """Picklable ``lambda kw: function(**kw)`` for executors that only have ``map``."""

    def __init__(self, function):
        self.function = function

    def __call__(self, kwargs):
        return self.function(**kwargs)


def _check_callable(function, dims, executor) -> None:
    """Refuse before any work: grid names the function does not take, and a function a process pool cannot
    send to its workers (a lambda or a local function; its pickling error would come from deep inside)."""
    import inspect
    import pickle
    try:
        sig = inspect.signature(function)
    except (TypeError, ValueError):       # builtins without a signature: nothing to check
        sig = None
    if sig is not None and not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        takes = [n for n, p in sig.parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        unknown = [d for d in dims if d not in takes]
        if unknown:
            raise InputError(f"grid parameter(s) {unknown} are not arguments of "
                             f"{getattr(function, '__qualname__', function)!s}; it takes {takes}")
    from concurrent.futures import ProcessPoolExecutor
    if isinstance(executor, ProcessPoolExecutor):
        try:
            pickle.dumps(function)
        except Exception as exc:          # noqa: BLE001 - pickling fails with several exception types
            raise InputError(f"function {getattr(function, '__qualname__', function)!s} cannot be sent to a "
                             f"process pool ({exc}); define it at module level (or use functools.partial of "
                             "one), or use a thread executor") from None


def _plan_results(first, n_points: int, memory_gb) -> None:
    """The stacked results are about n_points × the first result's arrays (twice: the list and the stack)."""
    def nbytes(x):
        if isinstance(x, np.ndarray):
            return x.nbytes
        if isinstance(x, Spectrum):
            return x.energy.nbytes + x.intensity.nbytes
        if isinstance(x, RixsMap):
            return x.intensity.nbytes * (2 if x.elastic is not None else 1)
        if isinstance(x, Mapping):
            return sum(nbytes(v) for v in x.values())
        return 8
    memory.plan(2 * n_points * nbytes(first), f"a sweep of {n_points} points stacking results of "
                f"{memory.format_bytes(nbytes(first))} each", memory_gb)


def _run(function, points, executor, show, memory_gb=None) -> list:
    bar = {"desc": "sweep", "total": len(points), "unit": "point", "requested": show}
    if executor is not None and not hasattr(executor, "submit") and not hasattr(executor, "map"):
        raise InputError(f"executor must have .submit or .map (concurrent.futures style); got "
                         f"{type(executor).__name__}")
    with _counter(**bar) as c:
        # the first point alone: its result fixes the memory the whole sweep will need, checked before the rest
        first = function(**points[0]) if executor is None else (
            executor.submit(function, **points[0]).result() if hasattr(executor, "submit")
            else next(iter(executor.map(_Call(function), points[:1]))))
        c.update(1)
        _plan_results(first, len(points), memory_gb)
        rest = points[1:]
        out = [first]
        if executor is None:
            for kw in rest:
                out.append(function(**kw))
                c.update(1)
        elif hasattr(executor, "submit"):
            for f in [executor.submit(function, **kw) for kw in rest]:
                out.append(f.result())
                c.update(1)
        else:
            for r in executor.map(_Call(function), rest):
                out.append(r)
                c.update(1)
    return out


def _same_axis(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a, b)


def _stack(results: list, shape: tuple) -> tuple[str, dict, dict, dict]:
    first = results[0]
    if isinstance(first, Spectrum):
        for i, r in enumerate(results):
            if not isinstance(r, Spectrum) or not _same_axis(r.energy, first.energy):
                raise InputError(f"sweep point {i} returned {type(r).__name__} on a different energy axis; "
                                 f"every point must return a Spectrum on the same axis")
        data = {"intensity": np.stack([r.intensity for r in results])}
        coords = {"energy": first.energy}
        meta = {"label": first.label, "units": first.units, "relative": first.relative}
        kind = "spectrum"
    elif isinstance(first, RixsMap):
        second = "loss" if first.on_loss_axis else "emission"
        for i, r in enumerate(results):
            if (not isinstance(r, RixsMap) or not _same_axis(r.excitation, first.excitation)
                    or r.on_loss_axis != first.on_loss_axis
                    or not _same_axis(getattr(r, second), getattr(first, second))):
                raise InputError(f"sweep point {i} returned a map on different axes; every point must share them")
        data = {"intensity": np.stack([r.intensity for r in results])}
        if all(r.elastic is not None for r in results):
            data["elastic"] = np.stack([r.elastic for r in results])
        coords = {"excitation": first.excitation, second: getattr(first, second)}
        meta = {"label": first.label, "units": first.units}
        kind = "map"
    elif isinstance(first, Mapping):
        keys = list(first)
        data = {}
        for k in keys:
            try:
                data[str(k)] = np.stack([np.asarray(r[k]) for r in results])
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(f"sweep results disagree on key {k!r} (missing or different shapes): {exc}") from exc
        coords, meta, kind = {}, {}, "mapping"
    else:
        try:
            data = {"value": np.stack([np.asarray(r) for r in results])}
        except ValueError as exc:
            raise InputError(f"sweep results have different shapes: {exc}") from exc
        if data["value"].dtype == object:
            raise InputError(f"sweep results must be numbers, arrays, Spectrum, RixsMap or dicts of arrays; "
                             f"got {type(first).__name__}")
        coords, meta, kind = {}, {}, "value"
    data = {k: _readonly(v.reshape(shape + v.shape[1:])) for k, v in data.items()}
    return kind, data, {k: _readonly(v) for k, v in coords.items()}, meta


def sweep(function: Callable[..., Any], grid: Mapping[str, Any], executor=None,
          progress: bool | None = None, memory_gb: float | None = None) -> SweepResult:
    """Evaluate ``function(**point)`` at every point of the Cartesian product of ``grid`` and stack the results.

    Parameters
    ----------
    function : callable
        Called with one keyword argument per grid parameter.  With a process-based executor it must be
        picklable (a module-level function or a ``functools.partial`` of one).
    grid : dict name → sequence
        Values of each parameter; the result axes follow the dict's order.
    executor : optional
        ``concurrent.futures``-style executor (``.submit`` → future with ``.result()``, e.g.
        ``ProcessPoolExecutor`` or a Dask ``distributed.Client``), or an object with ``.map``.  None: serial.
    progress : bool or None
        Progress over the points (:mod:`rixsim.progress`): None (default) or True a bar when stderr is a
        terminal, else a log line every few seconds; False none.
    memory_gb : float, optional
        Budget (GB) of the list of points (checked before it is made) and of the stacked results (checked
        after the first point and before the others; default:
        :func:`rixsim.memory.default_budget_bytes`).

    Returns
    -------
    SweepResult
        Labelled, stacked results (see the module docstring for how each kind of return value is stacked).

    Raises
    ------
    InputError
        Bad grid or executor, or points that return results which cannot be stacked.
    """
    if not callable(function):
        raise InputError(f"function must be callable; got {function!r}")
    if memory_gb is not None:
        memory.budget_bytes(memory_gb)
    dims, axes, points = grid_points(grid, memory_gb)
    if progress is not None:
        validate.flag(progress, "progress")
    _check_callable(function, dims, executor)
    shape = tuple(axes[d].size for d in dims)
    log.info("sweep of %s over %s: %d points%s", getattr(function, "__name__", function), dict(zip(dims, shape)),
             len(points), "" if executor is None else f" on {type(executor).__name__}")
    results = _run(function, points, executor, progress, memory_gb)
    kind, data, coords, meta = _stack(results, shape)
    meta = {"function": getattr(function, "__qualname__", repr(function)), **meta}
    return SweepResult(dims, axes, data, coords, kind, meta)

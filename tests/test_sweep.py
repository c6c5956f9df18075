"""Parameter sweeps: labelling, stacking, and identical numbers from serial, process-pool and Dask runs."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

import rixsim
from rixsim.errors import InputError
from rixsim.interfaces.sweep import SweepResult, grid_points, sweep

NI_ENERGIES = np.linspace(848.0, 878.0, 301)


def poly(a, b):
    """A point function whose values are known in closed form."""
    return {"sum": a + b, "vector": np.array([a, b, a * b])}


def ni_xas(tendq, temperature_k):
    """Ni2+ Oh XAS: the smallest real physics point (45 × 60 states)."""
    return rixsim.xas(rixsim.atomic_model("Ni2+", tendq=tendq), NI_ENERGIES, temperature_k=temperature_k,
                      gauss_fwhm=0.2)


def ni_map(tendq):
    from rixsim.spectroscopy.rixs import rixs_map
    tr = rixsim.atomic_model("Ni2+", tendq=tendq).transitions(0.0)
    return rixs_map(tr, np.linspace(852.0, 856.0, 5), loss=np.linspace(-0.5, 4.0, 46))


def scalar(x):
    return x ** 2


def test_grid_is_cartesian_in_c_order():
    dims, axes, points = grid_points({"a": [1, 2, 3], "b": [10.0, 20.0]})
    assert dims == ("a", "b")
    assert [tuple(p.values()) for p in points] == [(1, 10.0), (1, 20.0), (2, 10.0), (2, 20.0), (3, 10.0), (3, 20.0)]
    res = sweep(poly, {"a": [1, 2, 3], "b": [10.0, 20.0]})
    assert res.shape == (3, 2) and res.kind == "mapping"
    a, b = np.meshgrid([1, 2, 3], [10.0, 20.0], indexing="ij")
    np.testing.assert_array_equal(res.data["sum"], a + b)
    np.testing.assert_array_equal(res.data["vector"][..., 2], a * b)
    assert res.data["vector"].shape == (3, 2, 3)
    assert res.sel(a=2, b=20.0)["sum"] == 22.0
    with pytest.raises(InputError, match="not on the grid"):
        res.sel(a=4, b=10.0)
    with pytest.raises(InputError, match="missing"):
        res.sel(a=1)
    assert not res.data["sum"].flags.writeable


def test_scalar_results_and_result_is_frozen():
    res = sweep(scalar, {"x": np.arange(5.0)})
    np.testing.assert_array_equal(res.data["value"], np.arange(5.0) ** 2)
    assert isinstance(res, SweepResult)
    with pytest.raises(AttributeError):
        res.dims = ("y",)


def test_spectra_are_stacked_with_their_energy_axis():
    res = sweep(ni_xas, {"tendq": [0.8, 1.1], "temperature_k": [0.0, 300.0]})
    assert res.kind == "spectrum"
    np.testing.assert_array_equal(res.coords["energy"], NI_ENERGIES)
    assert res.data["intensity"].shape == (2, 2, NI_ENERGIES.size)
    direct = ni_xas(1.1, 300.0)
    np.testing.assert_array_equal(res.sel(tendq=1.1, temperature_k=300.0)["intensity"], direct.intensity)
    # a different 10Dq really changes the spectrum (the stacking keeps points apart)
    assert np.abs(res.data["intensity"][0, 0] - res.data["intensity"][1, 0]).max() > 1e-3


def test_maps_are_stacked_with_their_axes():
    res = sweep(ni_map, {"tendq": [1.0, 1.2]})
    assert res.kind == "map"
    assert set(res.coords) == {"excitation", "loss"}
    assert res.data["intensity"].shape == (2, 5, 46)
    assert "elastic" in res.data


def test_process_pool_gives_the_serial_numbers():
    grid = {"tendq": [0.9, 1.3], "temperature_k": [0.0, 300.0]}
    serial = sweep(ni_xas, grid)
    with ProcessPoolExecutor(max_workers=2) as ex:
        parallel = sweep(ni_xas, grid, executor=ex)
    np.testing.assert_array_equal(parallel.data["intensity"], serial.data["intensity"])
    assert parallel.dims == serial.dims


def test_dask_distributed_gives_the_serial_numbers():
    distributed = pytest.importorskip("distributed")
    grid = {"tendq": [0.9, 1.3], "temperature_k": [300.0]}
    serial = sweep(ni_xas, grid)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        res = sweep(ni_xas, grid, executor=client)
    np.testing.assert_array_equal(res.data["intensity"], serial.data["intensity"])
    np.testing.assert_array_equal(res.coords["energy"], serial.coords["energy"])


class MapOnly:
    """An executor with only ``map`` (e.g. a multiprocessing Pool wrapper)."""

    def map(self, fn, iterable):
        return map(fn, iterable)


def test_map_only_and_thread_executors():
    grid = {"a": [1, 2], "b": [3.0]}
    ref = sweep(poly, grid)
    for ex in (MapOnly(), ThreadPoolExecutor(2)):
        res = sweep(poly, grid, executor=ex)
        np.testing.assert_array_equal(res.data["sum"], ref.data["sum"])


@pytest.mark.parametrize("grid, match", [
    ({}, "non-empty"),
    ({"a": 3}, "sequence"),
    ({"a": []}, "non-empty"),
    ({"a": "abc"}, "sequence"),
    ({"not valid": [1]}, "identifiers"),
])
def test_bad_grids(grid, match):
    with pytest.raises(InputError, match=match):
        sweep(scalar, grid)


def _ragged(x):
    return np.zeros(int(x))


def test_unstackable_results_and_bad_executor():
    with pytest.raises(InputError, match="different shapes"):
        sweep(_ragged, {"x": [1, 2]})
    with pytest.raises(InputError, match="submit or .map"):
        sweep(scalar, {"x": [1]}, executor=object())
    with pytest.raises(InputError, match="callable"):
        sweep(3, {"x": [1]})

"""Continuum edge steps and polynomial backgrounds (rixsim.analysis.edge_step)."""
import numpy as np
import pytest

from rixsim.analysis.edge_step import edge_steps, polynomial_background, unit_step
from rixsim.errors import InputError


def _fwhm(x, y):
    above = x[y >= 0.5 * y.max()]
    return above[-1] - above[0]


@pytest.mark.parametrize("shape", ["arctan", "erf"])
def test_unit_step_is_the_integral_of_a_line_of_the_given_fwhm(shape):
    e = np.linspace(-40.0, 40.0, 160001)
    s = unit_step(e, 0.0, 1.7, shape)
    assert unit_step(0.0, 0.0, 1.7, shape) == pytest.approx(0.5, abs=1e-15)
    assert np.all(np.diff(s) >= 0)
    assert _fwhm(e, np.gradient(s, e)) == pytest.approx(1.7, abs=2e-3)
    # arctan tails: 1/2 − s(−x) = s(x) − 1/2 and s(5 w) = 1/2 + atan(10)/π ≈ 0.968; erf saturates
    if shape == "arctan":
        assert unit_step(5 * 1.7, 0.0, 1.7, shape) == pytest.approx(0.5 + np.arctan(10.0) / np.pi)
    else:
        assert unit_step(5 * 1.7, 0.0, 1.7, shape) == pytest.approx(1.0, abs=1e-12)


def test_edge_steps_statistical_ratio_and_height():
    e = np.array([600.0, 700.0, 1e6])
    st = edge_steps(e, 707.0, 720.0, 0.5, height=3.0, shape="erf")
    total = st["L3"] + st["L2"]
    assert total[0] == pytest.approx(0.0, abs=1e-12)
    assert total[-1] == pytest.approx(3.0)
    assert st["L3"][-1] / st["L2"][-1] == pytest.approx(2.0)
    st = edge_steps(e, 707.0, 720.0, 0.5, ratio=1.5)
    assert st["L3"][-1] / st["L2"][-1] == pytest.approx(1.5)


def test_bad_step_input():
    with pytest.raises(InputError, match="shape"):
        unit_step(0.0, 0.0, 1.0, "tanh")
    with pytest.raises(InputError, match="fwhm"):
        unit_step(0.0, 0.0, 0.0)
    with pytest.raises(InputError, match="ratio"):
        edge_steps([0.0], 1.0, 2.0, 1.0, ratio=-2)
    with pytest.raises(InputError, match="height"):
        edge_steps([0.0], 1.0, 2.0, 1.0, height=-1)


def test_polynomial_background_in_reduced_energy():
    e = np.linspace(690.0, 740.0, 11)
    u = (e - 715.0) / 25.0
    np.testing.assert_allclose(polynomial_background(e, [1.0, -2.0, 0.5], 715.0, 25.0), 1 - 2 * u + 0.5 * u ** 2)
    with pytest.raises(InputError, match="half_span"):
        polynomial_background(e, [1.0], 715.0, 0.0)

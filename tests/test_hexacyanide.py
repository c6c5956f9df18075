"""Back-bonding in a low-spin d⁶ hexacyanide-like cluster (LMCT + MLCT) against its exact analytic limit.

Not a check against publication: no stored source gives the parameters or the configuration weights of the
valence-bond configuration-interaction (VBCI) fit of K4[Fe(CN)6]/K3[Fe(CN)6] (Hocking et al., J. Am. Chem.
Soc. 128, 10442 (2006)); ``validation/hexacyanide_backbonding.py`` records what was searched.  What is
checked instead, exactly, is the model that analysis rests on: without multiplets (F = G = ζ = 0) and with
π-only back-donation and e_g-only σ donation, the t_2g⁶ ground state mixes with exactly two states,

* d⁵L*: ψ₁ = (1/√6) Σ L*†_γσ d_γσ |t_2g⁶⟩, coupled by √6 T*, at Δ* + 4Dq (t_2g⁵ costs 4Dq less field),
* d⁷L̲: ψ₂ = (1/2) Σ d†_eσ L_eσ |t_2g⁶⟩, coupled by 2V(e_g), at Δ + 6Dq,

so the configuration weights are the squared components of the ground vector of a 3×3 matrix.  At the L edge
the π* satellite is the 2p → t_2g transition that only back-bonding allows (t_2g is full in d⁶): it reaches
2p⁵t_2g⁶L*, an exact eigenstate at −24Dq + Δ* − Udd + Upd − U_pL* (relative to the 2p⁵d⁷ average), with
isotropic intensity w(d⁵L*)/3; the main line is the lowest of the 3×3 problem of 2p⁵t_2g⁶e_g¹ with its
MLCT (√6 T*, +4Dq) and LMCT (√3 V(e_g), +6Dq) partners, with amplitude a₀c₀ + a₁c₁ + (√3/2)a₂c₂.
"""
import numpy as np
import pytest

from rixsim.cluster.crystal_field import CrystalField
from rixsim.cluster.model import BackDonation, ChargeTransfer, ClusterModel, Multiplet

# illustrative values of the size met in charge-transfer analyses of low-spin cyanides (eV); not published fits
TENDQ, DELTA, DELTA_STAR, UDD, UPD, UPL = 3.5, 4.0, 3.0, 5.0, 6.5, 0.5
CASES = [(0.8, 1.5), (1.2, 2.0), (0.4, 0.0)]        # (T*, V(e_g))


def _model(tstar, veg):
    return ClusterModel("LS d6", 6, Multiplet(), Multiplet(), CrystalField("Oh", tendq=TENDQ),
                        charge_transfer=ChargeTransfer(DELTA, UDD, UPD, veg, 0.0, 0.0, 1),
                        back_donation=BackDonation(DELTA_STAR, tstar, core_hole_ligand=UPL))


def _ground(tstar, veg):
    h = np.array([[0.0, np.sqrt(6) * tstar, 2 * veg],
                  [np.sqrt(6) * tstar, DELTA_STAR + 0.4 * TENDQ, 0.0],
                  [2 * veg, 0.0, DELTA + 0.6 * TENDQ]])
    w, v = np.linalg.eigh(h)
    return w[0] - 2.4 * TENDQ, v[:, 0] * np.sign(v[0, 0])


def _core(tstar, veg):
    d_c, ds_c = DELTA + UDD - UPD, DELTA_STAR - UDD + UPD - UPL
    h = np.array([[0.0, np.sqrt(6) * tstar, np.sqrt(3) * veg],
                  [np.sqrt(6) * tstar, ds_c + 0.4 * TENDQ, 0.0],
                  [np.sqrt(3) * veg, 0.0, d_c + 0.6 * TENDQ]])
    w, v = np.linalg.eigh(h)
    return w - 1.8 * TENDQ, v


@pytest.mark.parametrize("tstar, veg", CASES)
def test_ground_state_configuration_weights_equal_the_three_state_formula(tstar, veg):
    m = _model(tstar, veg)
    es = m.eigensystem(False)
    e0, c = _ground(tstar, veg)
    assert es.energies[0] == pytest.approx(e0, abs=1e-10)
    assert es.energies[1] - es.energies[0] > 0.1                     # ¹A₁g: non-degenerate
    cfg = es.basis.configuration_index()
    weights = np.array([np.sum(np.abs(es.vectors[cfg == i, 0]) ** 2) for i in range(len(es.basis.configurations))])
    order = {(k, j): i for i, (k, j) in enumerate(m.transfer_counts(False))}
    np.testing.assert_allclose([weights[order[(0, 0)]], weights[order[(0, 1)]], weights[order[(1, 0)]]],
                               c ** 2, atol=1e-10)
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)


def _analytic_lines(tstar, veg):
    """(energies relative to edge_offset, isotropic intensities) of every line of the analytic limit."""
    e0, c = _ground(tstar, veg)
    w_m, a = _core(tstar, veg)
    amp = a[0] * c[0] + a[1] * c[1] + np.sqrt(3) / 2 * a[2] * c[2]
    e_sat = -2.4 * TENDQ + DELTA_STAR - UDD + UPD - UPL
    return np.append(w_m - e0, e_sat - e0), np.append(4 * amp ** 2 / 3, c[1] ** 2 / 3)


def _lorentzians(x, centres, heights, fwhm):
    hw = fwhm / 2
    return np.sum(heights[:, None] * hw / np.pi / ((x[None, :] - centres[:, None]) ** 2 + hw ** 2), axis=0)


@pytest.mark.parametrize("tstar, veg", CASES)
def test_pi_star_satellite_position_and_weight_equal_the_analytic_limit(tstar, veg):
    """The whole isotropic L-edge spectrum (a Lanczos resolvent of the cluster, one Lorentzian FWHM) equals the
    analytic lines: three main-edge levels and the π* satellite with weight w(d⁵L*)/3."""
    from rixsim.spectroscopy.xas import xas
    m = _model(tstar, veg)
    centres, heights = _analytic_lines(tstar, veg)
    x = m.edge_offset + np.linspace(-25.0, 25.0, 1001)
    y = xas(m, x, temperature_k=0.0, lorentz_fwhm=0.3, method="lanczos", lanczos_steps=60).intensity
    expected = _lorentzians(x - m.edge_offset, centres, heights, 0.3)
    assert np.abs(y - expected).max() < 1e-8 * expected.max()
    # all intensity accounted for: Σ = ⟨d holes⟩/3 = (4c₀² + 5c₁² + 3c₂²)/3
    _, c = _ground(tstar, veg)
    assert heights.sum() == pytest.approx((4 * c[0] ** 2 + 5 * c[1] ** 2 + 3 * c[2] ** 2) / 3, rel=1e-12)
    # the satellite lies above the main (lowest, strongest) line
    assert heights[0] > 0.5 * heights.sum() and centres[-1] > centres[0]


def test_without_back_donation_there_is_no_pi_star_satellite():
    """T* = 0: the 2p → t_2g channel is closed (t_2g⁶); the spectrum has no line at the satellite energy."""
    from rixsim.spectroscopy.xas import xas
    m = _model(0.0, 1.5)
    centres, heights = _analytic_lines(0.0, 1.5)
    assert heights[-1] == 0.0
    x = m.edge_offset + centres[-1] + np.linspace(-0.05, 0.05, 11)
    y = xas(m, x, temperature_k=0.0, lorentz_fwhm=0.3, method="lanczos", lanczos_steps=60).intensity
    np.testing.assert_allclose(y, _lorentzians(x - m.edge_offset, centres, heights, 0.3), rtol=1e-8)

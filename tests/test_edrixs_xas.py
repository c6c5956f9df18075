"""Independent reference: rixsim's L2,3 XAS against EDRIXS (pure-Python solver) with identical parameters.

EDRIXS conventions (shared/notes/edrixs-0.2.0.md): widths are HWHM; energies relative (ω = E_n − E_i); its
examples set F0 so that the configuration-averaged U is zero — which is rixsim's zero of energy for an atomic
model with ``edge_offset = 0``.  Measured agreement: max |Δ| / max below 1e-12 for Ni2+ and Mn2+ Oh.
"""
import warnings

import numpy as np
import pytest

from rixsim.cluster.crystal_field import CrystalField
from rixsim.cluster.model import ClusterModel, Multiplet
from rixsim.spectroscopy.xas import xas

edrixs = pytest.importorskip("edrixs")
pytestmark = pytest.mark.reference

CASES = {
    # ion: (n_d, 10Dq, initial HF (F2, F4, ζ3d), core-excited HF (F2, F4, F2pd, G1, G3, ζ3d, ζ2p)); Cowan values
    "Ni2+": (8, 1.1, (12.234, 7.598, 0.083), (13.005, 8.084, 7.720, 5.783, 3.290, 0.102, 11.506)),
    "Mn2+": (5, 0.8, (10.3156, 6.4135, 0.0401), (11.1551, 6.9425, 6.3211, 4.6064, 2.6177, 0.0527, 6.8458)),
}


def _edrixs_xas(n_d, tendq, mi, mc, omega, hwhm, n_ground, temperature_k):
    f0i = 2 / 63 * (mi.f2dd + mi.f4dd)
    f0c = 2 / 63 * (mc.f2dd + mc.f4dd)
    f0pd = mc.g1pd / 15 + 3 * mc.g3pd / 70
    slater = ([f0i, mi.f2dd, mi.f4dd], [f0c, mc.f2dd, mc.f4dd, f0pd, mc.f2pd, mc.g1pd, mc.g3pd])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ei, en, top = edrixs.ed_1v1c_py(("d", "p"), v_soc=(mi.zeta_3d, mc.zeta_3d), c_soc=mc.zeta_2p,
                                        v_noccu=n_d, slater=slater, v_cfmat=edrixs.cf_cubic_d(tendq))
        spec = edrixs.xas_1v1c_py(ei, en, top, omega, gamma_c=hwhm, pol_type=[("isotropic", 0)],
                                  gs_list=list(range(n_ground)), temperature=temperature_k)
    return spec[:, 0]


@pytest.mark.parametrize("ion", sorted(CASES))
def test_isotropic_xas_agrees_with_edrixs(ion):
    n_d, tendq, hi, hc = CASES[ion]
    mi = Multiplet(f2dd=hi[0], f4dd=hi[1], zeta_3d=hi[2]).scaled()
    mc = Multiplet(*hc).scaled()
    omega = np.linspace(-20, 20, 801)
    hwhm, temperature_k = 0.2, 300.0
    model = ClusterModel(ion, n_d, mi, mc, CrystalField("Oh", tendq=tendq), l3_fwhm=2 * hwhm, l2_fwhm=2 * hwhm)
    ours = xas(model, omega, temperature_k=temperature_k).intensity
    # EDRIXS takes an explicit list of initial states: all states within 0.3 eV (≥ 10 kT at 300 K)
    n_ground = int(np.sum(model.transitions(0).initial_energies < 0.3))
    theirs = _edrixs_xas(n_d, tendq, mi, mc, omega, hwhm, n_ground, temperature_k)
    assert np.max(np.abs(ours - theirs)) < 1e-10 * theirs.max()

"""4d ions (Zr, Nb, Mo, Ru): Hartree–Fock tables checked against a fresh Cowan run, trends, tender-X-ray edges."""
import json
from importlib.resources import files

import numpy as np
import pytest

from rixsim.cluster import tables
from rixsim.cluster.model import atomic_model
from rixsim.spectroscopy.xas import xas_sticks

IONS_4D = ("Zr3+", "Zr4+", "Nb3+", "Nb4+", "Nb5+", "Mo3+", "Mo4+", "Mo5+", "Mo6+", "Ru2+", "Ru3+", "Ru4+", "Ru5+")


def test_4d_ions_are_listed_and_parsed():
    for name in IONS_4D:
        assert name in tables.available_ions()
        ion = tables.parse_ion(name)
        assert ion.shell == "4d" and ion.n_electrons == ion.z - 36 - ion.charge
    assert tables.parse_ion("Ru4+").n_electrons == 4
    p = tables.atomic_parameters("Ru4+", "core_excited")
    assert p.configuration == "2p5 4d5"


def test_pinned_values_and_the_second_source():
    """Ru4+ as shipped (crispy 2026.3 Cowan RCN31 table, eV, unscaled) — and every 4d configuration equal to
    a fresh run of the Cowan rcn binary (the second source; edrixs 0.2.0 has no 4d tables)."""
    p_i = tables.atomic_parameters("Ru4+", "initial")
    p_c = tables.atomic_parameters("Ru4+", "core_excited")
    assert (p_i.f2dd, p_i.f4dd, p_i.zeta_3d) == (9.2137, 6.0952, 0.1604)
    assert (p_c.f2pd, p_c.g1pd, p_c.g3pd, p_c.zeta_3d, p_c.zeta_2p) == (2.2939, 1.9083, 1.1121, 0.1884, 87.7384)
    doc = json.loads(files("rixsim.references").joinpath("atomic_hf.json").read_text(encoding="utf-8"))
    n_checked = 0
    for element in ("Zr", "Nb", "Mo", "Ru"):
        for key, entry in doc["configurations"][element].items():
            assert key.startswith(("4d", "2p5,4d"))
            if entry["source"] == "crispy-2026.3":
                assert entry["checked_against"]["rcn31-run"] == entry["values"], (element, key)
                n_checked += 1
    assert n_checked >= 30


def test_4d_trends():
    f2 = [tables.atomic_parameters(f"Ru{q}+").f2dd for q in (2, 3, 4, 5)]
    zeta = [tables.atomic_parameters(f"Ru{q}+").zeta_3d for q in (2, 3, 4, 5)]
    assert all(b > a for a, b in zip(f2, f2[1:])) and all(b > a for a, b in zip(zeta, zeta[1:]))
    # a 4d orbital is more extended than a 3d one (smaller F), with a larger spin–orbit constant
    for d4, d3 in (("Ru4+", "Fe4+"), ("Ru3+", "Fe3+"), ("Mo3+", "Cr3+")):
        a, b = tables.atomic_parameters(d4), tables.atomic_parameters(d3)
        assert a.f2dd < 0.8 * b.f2dd and a.zeta_3d > 2.0 * b.zeta_3d
    # 2p spin–orbit: a deep level, independent of valence, and 1.5 ζ2p ≈ L2 − L3 (Elam) within 5 %
    for element in ("Zr", "Nb", "Mo", "Ru"):
        ions = [i for i in IONS_4D if i.startswith(element)]
        z2p = [tables.atomic_parameters(i, "core_excited").zeta_2p for i in ions]
        assert max(z2p) / min(z2p) < 1.001
        split = tables.edge_energy(element, "L2") - tables.edge_energy(element, "L3")
        assert 1.5 * z2p[0] == pytest.approx(split, rel=0.05)


@pytest.mark.parametrize("element,l3,l2,w3,w2", [
    # Elam, Ravel & Sieber (2002) energies; Krause & Oliver (1979) FWHM — as in xraydb 4.5.8
    ("Zr", 2223.0, 2307.0, 1.57, 1.78), ("Nb", 2371.0, 2465.0, 1.66, 1.87),
    ("Mo", 2520.0, 2625.0, 1.78, 1.97), ("Ru", 2838.0, 2967.0, 2.00, 2.23)])
def test_tender_l_edges(element, l3, l2, w3, w2):
    assert tables.edge_energy(element, "L3") == l3 and tables.edge_energy(element, "L2") == l2
    assert tables.core_hole_fwhm(element, "L3") == w3 and tables.core_hole_fwhm(element, "L2") == w2
    lv = tables.edge_level(element, "L3")
    doc = json.loads(files("rixsim.references").joinpath("edges.json").read_text(encoding="utf-8"))
    keski = doc["elements"][element]["edges"]["L3"]["checked_against"]["keski-rahkonen-krause-1974"]["fwhm"]
    assert keski == pytest.approx(lv.fwhm, rel=0.15)      # the second width table agrees to 15 %


def test_a_4d_model_runs_at_the_tender_edge():
    m = atomic_model("Ru4+", tendq=3.0)
    assert 2830 < m.edge_offset < 2900
    assert (m.l3_fwhm, m.l2_fwhm) == (2.0, 2.23)
    s = xas_sticks(m, "isotropic", temperature_k=300)
    assert s.total == pytest.approx((10 - 4) / 3, abs=1e-10)
    # low-spin t2g⁴ at 10Dq = 3 eV: the 2p3/2 edge sits ~130 eV below 2p1/2 (1.5 ζ2p)
    e = s.energy[s.intensity > 1e-6]
    assert np.ptp(e) > 120


def test_o_k_edge_of_a_4d_oxide_cluster_runs_unchanged():
    """rixsim.oxygen.kedge takes a 4d charge-transfer model as it is (Mo5+ 4d¹ + 4d²L̲: small): the pre-edge
    integrates to the ground state's ligand-hole count."""
    from rixsim.cluster.model import cluster_model
    from rixsim.oxygen.kedge import OxygenKEdge, oxygen_k_xas
    edge = OxygenKEdge(cluster_model("Mo5+", tendq=3.0, delta=3.0, udd=3.0, upd=3.5, veg=3.0, n_ligand_holes=1))
    e = np.linspace(400.0, 660.0, 26001)
    s = oxygen_k_xas(edge, e, 300.0, main_edge=False)
    holes = s.meta["ligand_holes"]
    assert 0.05 < holes < 1.0
    assert np.trapezoid(s.intensity, e) == pytest.approx(holes, rel=0.01)

"""Validation: rixsim RIXS maps against EDRIXS 0.2.0 (independent code) for atomic Ni2+ and Mn2+ in Oh.

Both codes get identical explicit parameters — rixsim's scaled Hartree–Fock Slater integrals, spin–orbit
constants and 10Dq are passed to EDRIXS's ``ed_1v1c_py`` with its F0 convention (F0_dd = 2/63 (F2+F4),
F0_dp = G1/15 + 3 G3/70, i.e. configuration-averaged U = 0, as in rixsim's atomic model).  Conventions that
differ and are converted here (see ../shared/notes/edrixs-0.2.0.md beside the checkout):

* widths: EDRIXS ``gamma_c``/``gamma_f`` are Lorentzian HWHM; rixsim takes FWHM (×2).  EDRIXS has one core
  width for all intermediate states, so the rixsim model is built with ``l3_fwhm = l2_fwhm``;
* energies: EDRIXS's incident energy is relative (E_n − E_i), rixsim's is absolute — EDRIXS ω = rixsim ω −
  ``edge_offset`` (both place the configuration averages at zero; the eigenvalues agree to ~1e-14 eV);
* polarisation: EDRIXS's vectors for a (θ_in, θ_out, φ, α, β) geometry are taken from
  ``edrixs.dipole_polvec_rixs`` and given to rixsim as crystal-frame vectors;
* temperature: both Boltzmann-average the populated initial states at 300 K (gs_list = every state with a
  non-zero rixsim weight).

Three comparisons per ion: (1) the eigen-spectra of the two models; (2) the RIXS engine alone, rixsim fed
EDRIXS's own eigenstates and transition operators; (3) model + engine, rixsim's own ``atomic_model``.
Reported: max |Δ| of the maps each normalised to its own maximum.

Run:  python validation/rixs_edrixs_compare.py
"""
from __future__ import annotations

import contextlib
import io
import time
import warnings

import numpy as np

from rixsim.cluster.model import atomic_model
from rixsim.spectroscopy.rixs import rixs_map
from rixsim.cluster.transitions import EdgeTransitions

CASES = (("Ni2+", 8, 1.1), ("Mn2+", 5, 0.9))
GAMMA_C_HWHM = 0.2            # eV, EDRIXS convention (→ 0.4 eV FWHM in rixsim)
GAMMA_F_HWHM = 0.05           # eV (→ 0.1 eV FWHM)
TEMPERATURE_K = 300.0
REL_EXC = np.linspace(-6.0, 18.0, 41)      # relative incident energies (EDRIXS axis)
LOSS = np.linspace(-0.5, 10.0, 211)
# single-crystal geometry, EDRIXS angles in radians: θ_in = 40°, θ_out = 50° (2θ = 90°), φ = 0
THIN, THOUT, PHI = np.radians(40.0), np.radians(50.0), 0.0
GEOMETRIES = {
    "π in, unanalysed out": [("linear", 0.0, "linear", 0.0), ("linear", 0.0, "linear", np.pi / 2)],
    "left circular in, σ out": [("left", 0.0, "linear", np.pi / 2)],
}


def _quiet():
    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    return stack


def edrixs_model(model, n_d, tendq):
    import edrixs
    mi, mc = model.initial, model.core_excited
    slater = ([2 / 63 * (mi.f2dd + mi.f4dd), mi.f2dd, mi.f4dd],
              [2 / 63 * (mc.f2dd + mc.f4dd), mc.f2dd, mc.f4dd, mc.g1pd / 15 + 3 * mc.g3pd / 70,
               mc.f2pd, mc.g1pd, mc.g3pd])
    with _quiet():
        return edrixs.ed_1v1c_py(("d", "p"), v_soc=(mi.zeta_3d, mc.zeta_3d), c_soc=mc.zeta_2p, v_noccu=n_d,
                                 slater=slater, v_cfmat=edrixs.cf_cubic_d(tendq))


def edrixs_map(ei, en, top, pols, gs_list, thin=THIN, thout=THOUT):
    import edrixs
    with _quiet():
        r = edrixs.rixs_1v1c_py(ei, en, top, REL_EXC, LOSS, gamma_c=GAMMA_C_HWHM, gamma_f=GAMMA_F_HWHM,
                                thin=thin, thout=thout, phi=PHI, pol_type=pols, gs_list=gs_list,
                                temperature=TEMPERATURE_K)
    return r.sum(axis=2)


def edrixs_vectors(pols):
    import edrixs
    vin, vout = None, []
    for it, a, jt, b in pols:
        ei, ef = edrixs.dipole_polvec_rixs(THIN, THOUT, PHI, a, b, np.eye(3), (it, jt))
        vin = ei if vin is None else vin
        assert np.allclose(vin, ei)
        vout.append(ef)
    return np.asarray(vin), np.asarray(vout)


def edrixs_isotropic(ei, en, top, gs_list):
    """(1/3) Σ over the nine Cartesian pairs, the rixsim isotropic convention."""
    import sys
    sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/benchmarks")
    from bench_rixs import EDRIXS_CARTESIAN_CALLS
    return sum(edrixs_map(ei, en, top, pols, gs_list, th_in, th_out)
               for th_in, th_out, pols in EDRIXS_CARTESIAN_CALLS) / 3.0


def norm_dev(a, b):
    return float(np.max(np.abs(a / a.max() - b / b.max())))


def main():
    print(f"widths: core {2 * GAMMA_C_HWHM} eV FWHM (EDRIXS gamma_c = {GAMMA_C_HWHM} HWHM), final "
          f"{2 * GAMMA_F_HWHM} eV FWHM; T = {TEMPERATURE_K} K; map {REL_EXC.size} × {LOSS.size}")
    for ion, n_d, tendq in CASES:
        model = atomic_model(ion, tendq=tendq, l3_fwhm=2 * GAMMA_C_HWHM, l2_fwhm=2 * GAMMA_C_HWHM)
        tr = model.transitions(temperature_k=TEMPERATURE_K)
        t0 = time.perf_counter()
        ei, en, top = edrixs_model(model, n_d, tendq)
        t_ed = time.perf_counter() - t0
        gs = [int(i) for i in np.flatnonzero(tr.initial_weights > 0)]
        d_init = np.max(np.abs((ei - ei[0]) - tr.initial_energies))
        d_int = np.max(np.abs((en - ei[0]) - tr.intermediate_energies))
        print(f"\n{ion} Oh 10Dq = {tendq} eV: {tr.n_initial} initial, {tr.n_intermediate} intermediate states, "
              f"{len(gs)} populated at 300 K; EDRIXS ED {t_ed:.1f} s")
        print(f"  (1) eigenvalues: max |ΔE| initial {d_init:.1e} eV, intermediate {d_int:.1e} eV")
        # rixsim fed with EDRIXS's own eigenstates: the engine alone
        w = np.exp(-(ei[gs] - ei[0]) / (8.617333262e-5 * TEMPERATURE_K))
        p = np.zeros(ei.size)
        p[gs] = w / w.sum()
        tr_ed = EdgeTransitions(ei - ei[0], p, en - ei[0], np.full(en.size, 2 * GAMMA_C_HWHM), top,
                                edge_offset=0.0)
        kw = dict(loss=LOSS, final_fwhm=2 * GAMMA_F_HWHM, resolution_fwhm=0.0, margin_fwhm=None)
        for name, pols in GEOMETRIES.items():
            vin, vout = edrixs_vectors(pols)
            t0 = time.perf_counter()
            ref = edrixs_map(ei, en, top, pols, gs)
            t_ref = time.perf_counter() - t0
            eng = rixs_map(tr_ed, REL_EXC, polarization_in=vin, polarization_out=vout, **kw).intensity
            t0 = time.perf_counter()
            own = rixs_map(tr, tr.edge_offset + REL_EXC, polarization_in=vin, polarization_out=vout,
                           **kw).intensity
            t_own = time.perf_counter() - t0
            print(f"  {name:26s}: (2) engine {norm_dev(eng, ref):.1e}, (3) model+engine "
                  f"{norm_dev(own, ref):.1e}  [abs. scale ratio {own.max() / ref.max():.6f}; "
                  f"EDRIXS {t_ref:.1f} s, rixsim {t_own:.3f} s]")
        ref = edrixs_isotropic(ei, en, top, gs)
        own = rixs_map(tr, tr.edge_offset + REL_EXC, **kw).intensity
        print(f"  {'isotropic (9 pairs / 3)':26s}: (3) model+engine {norm_dev(own, ref):.1e}  "
              f"[abs. scale ratio {own.max() / ref.max():.6f}]")


if __name__ == "__main__":
    main()

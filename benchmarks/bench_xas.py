"""Cluster engine and XAS: build, diagonalisation and spectrum times, side by side in one run.

    python benchmarks/bench_xas.py [--skip-large]

Cases: Ni2+ and Mn2+ Oh atomic; Ni2+ and Mn2+ with charge transfer (dⁿ + dⁿ⁺¹L̲, and with dⁿ⁺²L̲²).
Core-excited sectors above 6000 states use the Lanczos path (as ``xas(method="auto")`` does).
Where EDRIXS is installed, its pure-Python ED + XAS time for the same atomic models is printed beside ours.
Numba compilation is excluded (a warm-up model is built first).
"""
import argparse
import time
import warnings

import numpy as np

import rixsim


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def run_case(name, model, energies, method="auto"):
    (b_i, _), t_build_i = timed(lambda: model.hamiltonian(False))
    (b_m, _), t_build_m = timed(lambda: model.hamiltonian(True))
    lanczos = method == "lanczos" or (method == "auto" and b_m.dim > 6000)   # as xas(method="auto")
    if lanczos:
        _, t_diag = timed(lambda: model.low_energy_states(300.0))
    else:
        _, t_diag = timed(lambda: (model.eigensystem(False), model.eigensystem(True)))
    _, t_spec = timed(lambda: rixsim.xas(model, energies, temperature_k=300, gauss_fwhm=0.2,
                                         method="lanczos" if lanczos else "dense"))
    print(f"{name:<22} {b_i.dim:>6} {b_m.dim:>6} {'lanczos' if lanczos else 'dense':>8} "
          f"{t_build_i + t_build_m:>9.3f} {t_diag:>9.3f} {t_spec:>9.3f}", flush=True)


def edrixs_time(model, energies):
    try:
        import edrixs
    except ImportError:
        return None
    mi, mc = model.initial, model.core_excited
    f0i = 2 / 63 * (mi.f2dd + mi.f4dd)
    f0c = 2 / 63 * (mc.f2dd + mc.f4dd)
    f0pd = mc.g1pd / 15 + 3 * mc.g3pd / 70
    slater = ([f0i, mi.f2dd, mi.f4dd], [f0c, mc.f2dd, mc.f4dd, f0pd, mc.f2pd, mc.g1pd, mc.g3pd])
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ei, en, top = edrixs.ed_1v1c_py(("d", "p"), v_soc=(mi.zeta_3d, mc.zeta_3d), c_soc=mc.zeta_2p,
                                        v_noccu=model.n_d, slater=slater,
                                        v_cfmat=edrixs.cf_cubic_d(model.crystal_field.tendq))
        n_g = int(np.sum(ei - ei[0] < 0.3))
        edrixs.xas_1v1c_py(ei, en, top, energies - model.edge_offset, gamma_c=0.15,
                           pol_type=[("isotropic", 0)], gs_list=list(range(n_g)), temperature=300)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-large", action="store_true", help="skip the dⁿ⁺²L̲² Mn2+ case (the slowest)")
    args = ap.parse_args()
    rixsim.xas(rixsim.atomic_model("Ni2+", tendq=1.1), np.linspace(845, 880, 50))   # numba warm-up
    ni_e = np.linspace(845, 880, 1000)
    mn_e = np.linspace(630, 665, 1000)
    ni_ct = dict(delta=4.0, udd=7.3, upd=8.5, veg=2.2, tenq_ligand=0.0)      # NiO-like (Bocquet 1996 scale)
    mn_ct = dict(delta=5.0, udd=5.5, upd=6.5, veg=1.8, tenq_ligand=0.0)
    cases = [
        ("Ni2+ Oh atomic", rixsim.atomic_model("Ni2+", tendq=1.1), ni_e),
        ("Mn2+ Oh atomic", rixsim.atomic_model("Mn2+", tendq=0.8), mn_e),
        ("Ni2+ Oh CT d8+d9L", rixsim.cluster_model("Ni2+", tendq=0.7, n_ligand_holes=1, **ni_ct), ni_e),
        ("Ni2+ Oh CT +d10L2", rixsim.cluster_model("Ni2+", tendq=0.7, n_ligand_holes=2, **ni_ct), ni_e),
        ("Mn2+ Oh CT d5+d6L", rixsim.cluster_model("Mn2+", tendq=0.6, n_ligand_holes=1, **mn_ct), mn_e),
        ("Mn2+ d5+d6L (dense)", rixsim.cluster_model("Mn2+", tendq=0.6, n_ligand_holes=1, **mn_ct), mn_e, "dense"),
    ]
    if not args.skip_large:
        cases.append(("Mn2+ Oh CT +d7L2", rixsim.cluster_model("Mn2+", tendq=0.6, n_ligand_holes=2, **mn_ct), mn_e))
    print("diag_s: dense = all eigenstates of both sectors (symmetry blocks); lanczos = populated initial "
          "states only (the core-excited sector is never diagonalised)")
    print(f"{'case':<22} {'dim_i':>6} {'dim_m':>6} {'method':>8} {'build_s':>9} {'diag_s':>9} {'xas_s':>9}")
    for name, model, e, *method in cases:
        run_case(name, model, e, *method)
    print()
    print(f"{'atomic XAS, total time':<28} {'rixsim_s':>9} {'edrixs_s':>9} {'ratio':>7}")
    for name, model, e, *_ in cases[:2]:
        fresh = model.with_parameters()
        _, t_ours = timed(lambda: rixsim.xas(fresh, e, temperature_k=300, gauss_fwhm=0.2))
        t_ed = edrixs_time(model, e)
        if t_ed is None:
            print(f"{name:<28} {t_ours:>9.3f} {'absent':>9}")
        else:
            print(f"{name:<28} {t_ours:>9.3f} {t_ed:>9.3f} {t_ed / t_ours:>7.1f}")


if __name__ == "__main__":
    main()

"""Figures for docs/rixs_maps.md: L3-edge maps of an atomic (Mn2+) and a charge-transfer (Ni2+) model on
excitation × emission and excitation × loss axes.  Run: python docs/make_rixs_figures.py docs/figures"""
import sys
from pathlib import Path

import numpy as np

import rixsim


def panel(ax_em, ax_loss, model, exc, emi, loss, title):
    tr = model.transitions(300.0, max_initial_energy=float(loss[-1]) + 1.0)
    kw = dict(powder=True, final_fwhm=0.1, resolution_fwhm=0.2)
    m_em = rixsim.rixs_map(tr, exc, emission=emi, **kw)
    m_loss = rixsim.rixs_map(tr, exc, loss=loss, **kw)
    for ax, x, m, xl in ((ax_em, emi, m_em, "Emission energy (eV)"), (ax_loss, loss, m_loss, "Energy loss (eV)")):
        ax.pcolormesh(x, exc, np.sqrt(np.clip(m.intensity, 0, None)), shading="auto", cmap="inferno")
        ax.set(xlabel=xl, ylabel="Excitation energy (eV)", title=title)
    return m_em, m_loss


def main(outdir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(2, 2, figsize=(11, 9))
    mn = rixsim.atomic_model("Mn2+", tendq=0.8)
    panel(axes[0, 0], axes[0, 1], mn, np.linspace(637, 646, 91), np.linspace(628, 648, 401),
          np.linspace(-0.5, 8, 341), "Mn2+ Oh atomic (powder, 300 K)")
    ni = rixsim.cluster_model("Ni2+", tendq=0.7, delta=4.0, udd=7.3, upd=8.5, veg=2.2, n_ligand_holes=2)
    panel(axes[1, 0], axes[1, 1], ni, np.linspace(848, 862, 141), np.linspace(836, 864, 561),
          np.linspace(-0.5, 12, 501), "Ni2+ Oh charge transfer d8+d9L+d10L2")
    fig.tight_layout()
    fig.savefig(out / "rixs_maps_atomic_vs_ct.png", dpi=110)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/figures")

"""Regenerate ``references/edges.json`` from xraydb (developer tool, not installed).

Usage::

    python references/tools/make_edges.py > references/edges.json

Edge energies: xraydb ``xray_levels`` table (Elam, Ravel & Sieber 2002).  Core-hole widths: xraydb
``Krause_Oliver`` table (Krause & Oliver 1979) where it has the level, else ``KeskiRahkonen_Krause``
(Keski-Rahkonen & Krause 1974).  Both are full widths at half maximum (FWHM).  The Keski-Rahkonen &
Krause width and the edrixs 0.2.0 table (energy and FWHM) are stored beside each number as checks.
"""

from __future__ import annotations

import importlib.resources
import json
import sys

import xraydb
from sqlalchemy import select

ELEMENTS = ("O", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zr", "Nb", "Mo", "Ru")
EDGES = ("K", "L1", "L2", "L3")
# O 2p is the valence shell, not a core level: no L2/L3 edge for O.
SKIP = {("O", "L2"), ("O", "L3")}


def width_table(name: str) -> dict[tuple[str, str], float]:
    db = xraydb.get_xraydb()
    table = db.tables[name]
    rows = db.session.execute(select(table)).fetchall()
    return {(row.element, row.edge): float(row.width) for row in rows}


def edrixs_table(element: str) -> dict | None:
    try:
        text = importlib.resources.files("edrixs.atom_data").joinpath(f"{element}.json").read_text()
    except FileNotFoundError:
        return None
    return json.loads(text)


def main() -> None:
    krause_oliver = width_table("Krause_Oliver")
    keski = width_table("KeskiRahkonen_Krause")
    elements = {}
    for element in ELEMENTS:
        edrixs = edrixs_table(element)
        edges = {}
        for edge in EDGES:
            if (element, edge) in SKIP:
                continue
            level = xraydb.xray_edge(element, edge)
            if level is None or level.energy <= 0:
                continue
            if (element, edge) in krause_oliver and krause_oliver[(element, edge)] > 0:
                fwhm, fwhm_source = krause_oliver[(element, edge)], "krause-oliver-1979"
            else:
                fwhm, fwhm_source = keski[(element, edge)], "keski-rahkonen-krause-1974"
            checks = {}
            if fwhm_source != "keski-rahkonen-krause-1974" and (element, edge) in keski:
                checks["keski-rahkonen-krause-1974"] = {"fwhm": keski[(element, edge)]}
            if edrixs is not None and edge in edrixs:
                checks["edrixs-0.2.0"] = {
                    "energy": float(edrixs[edge]["ene"][0]),
                    "fwhm": float(edrixs[edge]["gamma"][0]),
                }
            edges[edge] = {
                "energy": float(level.energy),
                "energy_source": "elam-2002",
                "fwhm": fwhm,
                "fwhm_source": fwhm_source,
                "checked_against": checks,
            }
        elements[element] = {"z": xraydb.atomic_number(element), "edges": edges}
    document = {
        "title": "Absorption-edge energies and core-hole Lorentzian widths",
        "units": "eV",
        "energy_convention": (
            "absolute binding energy of the level (edge position) for the free element as tabulated; "
            "L3 = 2p3/2, L2 = 2p1/2, L1 = 2s, K = 1s"
        ),
        "width_convention": (
            "fwhm: full width at half maximum of the Lorentzian lifetime broadening of the core hole "
            "(natural level width Gamma = hbar/tau); HWHM = fwhm / 2"
        ),
        "sources": {
            "elam-2002": (
                "W. T. Elam, B. D. Ravel, J. R. Sieber, Radiat. Phys. Chem. 63, 121 (2002), "
                "as tabulated in xraydb 4.5.8 (xray_levels.absorption_edge)"
            ),
            "krause-oliver-1979": (
                "M. O. Krause, J. H. Oliver, J. Phys. Chem. Ref. Data 8, 329 (1979), "
                "as tabulated in xraydb 4.5.8 (table Krause_Oliver)"
            ),
            "keski-rahkonen-krause-1974": (
                "O. Keski-Rahkonen, M. O. Krause, At. Data Nucl. Data Tables 14, 139 (1974), "
                "as tabulated in xraydb 4.5.8 (table KeskiRahkonen_Krause)"
            ),
            "edrixs-0.2.0": (
                "edrixs 0.2.0 edrixs/atom_data/<El>.json keys 'ene' and 'gamma' (FWHM; "
                "edrixs.get_atom_data halves it); its source is not stated"
            ),
        },
        "elements": elements,
    }
    json.dump(document, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

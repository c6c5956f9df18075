"""Add the 4d ions to ``references/atomic_hf.json`` (developer tool, not installed).

Same inputs and rules as ``make_atomic_hf.py`` (whose functions it reuses): crispy 2026.3's Cowan RCN31
(HFR) tables where they have the configuration, else a fresh run of the wheel's ``rcn``; every value is
checked against the other.  edrixs 0.2.0 has no 4d tables.  Configuration keys are ``4dN`` (2p6 4d^N) and
``2p5,4dN``; the d count of an ion is N = Z - 36 - charge.  The 3d entries of the file are left untouched.

Usage::

    python references/tools/make_atomic_hf_4d.py /path/to/unzipped/crispy-wheel references/atomic_hf.json \
        2> discrepancies_4d.txt
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import h5py
import xraydb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_atomic_hf as base  # noqa: E402  (sibling developer tool)

IONS_4D = {
    "Zr": (3, 4),
    "Nb": (3, 4, 5),
    "Mo": (3, 4, 5, 6),
    "Ru": (2, 3, 4, 5),
}
NAMES_4D = {
    "f2dd": "F2(4d,4d)",
    "f4dd": "F4(4d,4d)",
    "f2pd": "F2(2p,4d)",
    "g1pd": "G1(2p,4d)",
    "g3pd": "G3(2p,4d)",
    "zeta_3d": "ζ(4d)",
    "zeta_2p": "ζ(2p)",
}


def needed() -> dict[str, set[str]]:
    need: dict[str, set[str]] = {}
    for element, charges in IONS_4D.items():
        z = xraydb.atomic_number(element)
        for charge in charges:
            n = z - 36 - charge
            for extra in base.EXTRA_D:
                if n + extra <= 10:
                    need.setdefault(element, set()).add(f"4d{n + extra}")
                if n + 1 + extra <= 10:
                    need.setdefault(element, set()).add(f"2p5,4d{n + 1 + extra}")
    return need


def fields_of(configuration: str) -> tuple[str, ...]:
    return base.CORE_FIELDS if configuration.startswith("2p5") else base.INITIAL_FIELDS


def read_crispy(wheel: Path, element: str, configuration: str) -> dict[str, float] | None:
    with h5py.File(wheel / "crispy" / "quanty" / "parameters" / f"{element}.h5", "r") as h5:
        if configuration not in h5:
            return None
        atomic = h5[configuration]["Atomic"]
        return {f: float(atomic[NAMES_4D[f]][()]) for f in fields_of(configuration)}


def run_rcn(driver, element_cls, element: str, configuration: str) -> dict[str, float] | None:
    saved = base.NAMES
    base.NAMES = NAMES_4D
    try:
        return base.run_rcn(driver, element_cls, element, configuration)
    finally:
        base.NAMES = saved


def main(wheel: Path, table: Path) -> None:
    document = json.loads(table.read_text(encoding="utf-8"))
    driver, element_cls = base.load_cowan_driver(wheel)
    for element, configurations in needed().items():
        z = xraydb.atomic_number(element)
        for configuration in sorted(configurations, key=lambda c: (c.startswith("2p5"), len(c), c)):
            crispy = read_crispy(wheel, element, configuration)
            rcn = run_rcn(driver, element_cls, element, configuration)
            d_count = int(configuration.split("4d")[1])
            for values in (crispy, rcn):
                if values is not None and d_count < 2:
                    values["f2dd"] = values["f4dd"] = 0.0
                if values is not None and d_count == 0:
                    values["zeta_3d"] = 0.0
            shipped, source = (crispy, "crispy-2026.3") if crispy is not None else (rcn, "rcn31-run")
            if shipped is None:
                continue
            inputs = {"crispy-2026.3": crispy, "rcn31-run": rcn}
            for field in fields_of(configuration):
                present = {k: v[field] for k, v in inputs.items() if v is not None}
                if len(present) == 2:
                    a, b = present.values()
                    if base.relative_difference(a, b) > 0.01:
                        sys.stderr.write(f"DISCREPANCY {element} {configuration} {field}: crispy={a:g} rcn={b:g}\n")
            entry = {
                "charge": z - 36 - d_count + (1 if configuration.startswith("2p5") else 0),
                "values": {f: round(shipped[f], 4) for f in fields_of(configuration)},
                "source": source,
                "checked_against": {k: {f: round(v[f], 4) for f in fields_of(configuration)}
                                    for k, v in inputs.items() if v is not None and k != source},
            }
            document["configurations"].setdefault(element, {})[configuration] = entry
    ions = [i for i in document["ions"] if not any(i.startswith(e) and i[len(e)].isdigit() for e in IONS_4D)]
    ions += [f"{e}{c}+" for e, charges in IONS_4D.items() for c in charges]
    document["ions"] = ions
    document["title"] = ("Hartree-Fock atomic parameters for 3d and 4d transition-metal ions, "
                         "L2,3 (2p->nd) edge")
    document["conventions"]["4d"] = ("4d ions: '4dN' is 2p6 4d^N and '2p5,4dN' is 2p^5 4d^N (N = Z - 36 - "
                                     "charge); the field names f2dd, f4dd, zeta_3d, f2pd, g1pd, g3pd mean the "
                                     "valence d shell, here 4d")
    table.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

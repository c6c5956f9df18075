"""Regenerate ``references/atomic_hf.json`` and the cross-check report (developer tool, not installed).

Three inputs, all Cowan RCN31 Hartree-Fock (HFR) numbers, unscaled, converted from Rydberg to eV:

``crispy``  the pre-computed tables ``crispy/quanty/parameters/<El>.h5`` of the crispy 2026.3 wheel
            (``pip download --no-deps crispy==2026.3``, unzip);
``rcn31``   a fresh run of the ``rcn`` binary shipped in the same wheel, driven through the wheel's own
            ``crispy/quanty/cowan.py`` (used for configurations the tables lack, and to check them);
``edrixs``  ``edrixs/atom_data/<El>.json`` of edrixs 0.2.0 (three decimals; key ``3dM`` is 3d^M,
            key ``3dM_2p5`` is 2p^5 3d^M).

Usage::

    python references/tools/make_atomic_hf.py /path/to/unzipped/crispy-wheel  > report.txt

The shipped value is crispy's table where it has the configuration, otherwise the rcn31 run.  Every
value that differs by more than 1 % between any two inputs is printed; the README lists them with
the resolution.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import os
import sys
import tempfile
import types
from pathlib import Path

import h5py
import xraydb

# Ions the table covers: element -> charges.  d count n = Z - 18 - charge.
IONS = {
    "Ti": (2, 3, 4),
    "V": (2, 3, 4, 5),
    "Cr": (2, 3, 4),
    "Mn": (1, 2, 3, 4),
    "Fe": (2, 3, 4),
    "Co": (2, 3, 4),
    "Ni": (1, 2, 3, 4),
    "Cu": (1, 2, 3),
}
EXTRA_D = (0, 1)
# our field name -> crispy / rcn parameter name
NAMES = {
    "f2dd": "F2(3d,3d)",
    "f4dd": "F4(3d,3d)",
    "f2pd": "F2(2p,3d)",
    "g1pd": "G1(2p,3d)",
    "g3pd": "G3(2p,3d)",
    "zeta_3d": "ζ(3d)",
    "zeta_2p": "ζ(2p)",
}
INITIAL_FIELDS = ("f2dd", "f4dd", "zeta_3d")
CORE_FIELDS = ("f2dd", "f4dd", "f2pd", "g1pd", "g3pd", "zeta_3d", "zeta_2p")


def needed_configurations() -> dict[str, set[str]]:
    """Every configuration (crispy spelling, ``3d8`` or ``2p5,3d9``) the ion list asks for."""
    need: dict[str, set[str]] = {}
    for element, charges in IONS.items():
        z = xraydb.atomic_number(element)
        for charge in charges:
            n = z - 18 - charge
            for extra in EXTRA_D:
                if n + extra <= 10:
                    need.setdefault(element, set()).add(f"3d{n + extra}")
                if n + 1 + extra <= 10:
                    need.setdefault(element, set()).add(f"2p5,3d{n + 1 + extra}")
    return need


def fields_of(configuration: str) -> tuple[str, ...]:
    return CORE_FIELDS if configuration.startswith("2p5") else INITIAL_FIELDS


def read_crispy(wheel: Path, element: str, configuration: str) -> dict[str, float] | None:
    path = wheel / "crispy" / "quanty" / "parameters" / f"{element}.h5"
    with h5py.File(path, "r") as h5:
        if configuration not in h5:
            return None
        atomic = h5[configuration]["Atomic"]
        return {f: float(atomic[NAMES[f]][()]) for f in fields_of(configuration)}


def read_edrixs(element: str, configuration: str) -> dict[str, float] | None:
    table = json.loads(
        importlib.resources.files("edrixs.atom_data").joinpath(f"{element}.json").read_text()
    )
    if configuration.startswith("2p5,"):
        key = configuration.split(",")[1] + "_2p5"
    else:
        key = configuration
    if key not in table:
        return None
    slater, soc = table[key]["slater"], table[key]["soc"]
    if key.endswith("_2p5"):
        values = dict(zip(("f2dd", "f4dd"), slater[1:3]))
        values.update(dict(zip(("f2pd", "g1pd", "g3pd"), slater[4:7])))
        values.update(zeta_3d=soc[0], zeta_2p=soc[1])
    else:
        values = dict(zip(("f2dd", "f4dd"), slater[1:3]))
        values["zeta_3d"] = soc[0]
    return {k: float(v) for k, v in values.items()}


def load_cowan_driver(wheel: Path):
    """Import the wheel's cowan.py without the GUI half of crispy (stub its two imports)."""
    root = wheel / "crispy"
    crispy = types.ModuleType("crispy")
    crispy.__path__ = []
    crispy.resourceAbsolutePath = lambda p: str(root / p)
    quanty = types.ModuleType("crispy.quanty")
    quanty.__path__ = []
    calculation = types.ModuleType("crispy.quanty.calculation")
    calculation.OCCUPANCIES = {"s": 2, "p": 6, "d": 10, "f": 14}

    class Element:
        symbol = None

        @property
        def atomicNumber(self):  # noqa: N802 - name fixed by crispy
            return xraydb.atomic_number(self.symbol)

    calculation.Element = Element
    sys.modules.update(
        {"crispy": crispy, "crispy.quanty": quanty, "crispy.quanty.calculation": calculation}
    )
    spec = importlib.util.spec_from_file_location("crispy.quanty.cowan", root / "quanty" / "cowan.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for binary in (root / "quanty" / "parameters" / "cowan" / "bin" / "linux-x86_64").iterdir():
        binary.chmod(0o755)
    return module, Element


def run_rcn(driver, element_cls, element: str, configuration: str) -> dict[str, float] | None:
    """Parameters from a fresh rcn run, or None when rcn reports NO CONVERGENCE."""
    element_obj = element_cls()
    element_obj.symbol = element
    cowan = driver.Cowan(element_obj, driver.parse_configuration(configuration))
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            _, params = cowan.get_parameters()
            converged = "NO CONVERGENCE" not in Path(f"{cowan.basename}.rcn_out").read_text()
        finally:
            os.chdir(here)
    if not converged:
        sys.stderr.write(f"NO CONVERGENCE {element} {configuration}: rcn values dropped\n")
        return None
    return {f: float(params.get(NAMES[f], 0.0)) for f in fields_of(configuration)}


def relative_difference(a: float, b: float) -> float:
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0.0 else abs(a - b) / scale


def main(wheel: Path) -> None:
    driver, element_cls = load_cowan_driver(wheel)
    out_configs: dict[str, dict] = {}
    discrepancies = []
    for element, configurations in needed_configurations().items():
        z = xraydb.atomic_number(element)
        for configuration in sorted(configurations, key=lambda c: (c.startswith("2p5"), len(c), c)):
            crispy = read_crispy(wheel, element, configuration)
            rcn = run_rcn(driver, element_cls, element, configuration)
            edrixs = read_edrixs(element, configuration)
            d_count = int(configuration.split("3d")[1])
            # Fewer than two 3d electrons: no 3d-3d repulsion.  rcn prints none; store 0.
            for values in (crispy, rcn, edrixs):
                if values is not None and d_count < 2:
                    values["f2dd"] = values["f4dd"] = 0.0
            if crispy is not None:
                shipped, source = crispy, "crispy-2026.3"
            elif rcn is not None:
                shipped, source = rcn, "rcn31-run"
            else:
                continue
            inputs = {"crispy-2026.3": crispy, "rcn31-run": rcn, "edrixs-0.2.0": edrixs}
            for field in fields_of(configuration):
                present = {k: v[field] for k, v in inputs.items() if v is not None}
                names = list(present)
                for i, a in enumerate(names):
                    for b in names[i + 1:]:
                        if relative_difference(present[a], present[b]) > 0.01:
                            discrepancies.append(
                                (element, configuration, field, a, present[a], b, present[b])
                            )
            entry = {
                "charge": z - 18 - d_count + (1 if configuration.startswith("2p5") else 0),
                "values": {f: round(shipped[f], 4) for f in fields_of(configuration)},
                "source": source,
                "checked_against": {
                    k: {f: round(v[f], 4) for f in fields_of(configuration)}
                    for k, v in inputs.items()
                    if v is not None and k != source
                },
            }
            out_configs.setdefault(element, {})[configuration] = entry
    ions = [
        f"{element}{charge}+"
        for element, charges in IONS.items()
        for charge in charges
    ]
    document = {
        "title": "Hartree-Fock atomic parameters for 3d transition-metal ions, L2,3 (2p->3d) edge",
        "units": "eV",
        "scaling": "none: 100 % Hartree-Fock values; the engine applies its own reduction (typically 80 %)",
        "method": (
            "Cowan RCN31 Hartree-Fock with relativistic corrections (HFR), free ion, no 4s electrons; "
            "Rydberg values times 13.605693122994 eV/Ry, rounded to 1e-4 eV"
        ),
        "conventions": {
            "configuration": "'3dN' is the initial 2p6 3d^N configuration, '2p5,3dN' is 2p^5 3d^N",
            "charge": "charge of the free ion in the initial state (3d count N = Z - 18 - charge)",
            "f2dd, f4dd": "3d-3d Slater integrals F2(3d,3d), F4(3d,3d); 0 when N < 2",
            "f2pd, g1pd, g3pd": "2p-3d direct F2(2p,3d) and exchange G1(2p,3d), G3(2p,3d) integrals",
            "zeta_3d, zeta_2p": "spin-orbit parameters zeta of the 3d and 2p shells (Blume-Watson)",
            "F0": "not tabulated (set by the model, e.g. from U and the configuration average)",
        },
        "sources": {
            "crispy-2026.3": (
                "pre-computed table crispy/quanty/parameters/<El>.h5 in the crispy 2026.3 wheel "
                "(M. Retegan, Crispy, https://github.com/mretegan/crispy; Cowan RCN31 HFR)"
            ),
            "rcn31-run": (
                "fresh run of the Cowan rcn (RCN31) binary shipped in the crispy 2026.3 wheel with "
                "crispy's standard input deck (references/tools/make_atomic_hf.py); R. D. Cowan, "
                "The Theory of Atomic Structure and Spectra (Univ. California Press, 1981)"
            ),
            "edrixs-0.2.0": (
                "edrixs 0.2.0 edrixs/atom_data/<El>.json (Cowan code via "
                "https://github.com/mretegan/atomic-parameters), three decimals"
            ),
        },
        "ions": ions,
        "configurations": out_configs,
    }
    json.dump(document, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    for row in discrepancies:
        element, configuration, field, a, va, b, vb = row
        note = " [rounding]" if abs(va - vb) <= 0.00051 else ""
        sys.stderr.write(
            f"DISCREPANCY {element} {configuration} {field}: {a}={va:g} {b}={vb:g} "
            f"({100 * relative_difference(va, vb):.1f} %){note}\n"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))

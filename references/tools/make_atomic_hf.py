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


# QuantyLF 0.1.22, src/QuantyLF/cases/utils/slater_integrals.lua (PyPI package quantylf), whose Cr..Ni
# entries are marked "Thesis de Groot" (F. M. F. de Groot, PhD thesis, Nijmegen 1991).  Per ion:
# initial (f2dd, f4dd, zeta_3d), core-excited (f2dd, f4dd, f2pd, g1pd, g3pd, zeta_3d, zeta_2p).
# Typed from the file as a third check; its V3+ and Ti3+ rows are themselves copy errors.
QUANTYLF = {
    ("Cu", 2): ((12.854, 7.980, 0.102), (13.611, 8.457, 8.177, 6.169, 3.510, 0.124, 13.498)),
    ("Ni", 2): ((12.234, 7.598, 0.083), (13.005, 8.084, 7.721, 5.787, 3.291, 0.102, 11.507)),
    ("Ni", 3): ((13.277, 8.295, 0.091), (14.022, 8.764, 8.350, 6.332, 3.603, 0.112, 11.506)),
    ("Co", 2): ((11.605, 7.209, 0.066), (12.396, 7.708, 7.260, 5.397, 3.069, 0.092, 9.746)),
    ("Co", 3): ((12.663, 7.917, 0.074), (13.422, 8.395, 7.900, 5.961, 3.386, 0.082, 9.748)),
    ("Fe", 2): ((10.966, 6.815, 0.052), (11.779, 7.327, 6.793, 5.004, 2.844, 0.067, 8.200)),
    ("Fe", 3): ((12.043, 7.535, 0.059), (12.818, 8.023, 7.446, 5.566, 3.166, 0.074, 8.199)),
    ("Mn", 2): ((10.316, 6.414, 0.040), (11.155, 6.943, 6.321, 4.606, 2.618, 0.053, 6.846)),
    ("Mn", 3): ((11.415, 7.148, 0.046), (12.210, 7.649, 6.988, 5.179, 2.945, 0.059, 6.845)),
    ("Mn", 4): ((12.416, 7.820, 0.052), (13.177, 8.299, 7.658, 5.776, 3.288, 0.066, 6.845)),
    ("Cr", 2): ((9.649, 6.002, 0.030), (10.522, 6.552, 5.841, 4.204, 2.388, 0.041, 5.668)),
    ("Cr", 3): ((10.777, 6.755, 0.035), (11.596, 7.270, 6.526, 4.788, 2.722, 0.047, 5.667)),
    ("V", 2): ((8.962, 5.577, 0.022), (9.876, 6.153, 5.351, 3.793, 2.154, 0.031, 4.650)),
    ("V", 3): ((8.962, 5.577, 0.022), (9.876, 6.153, 5.351, 3.793, 2.154, 0.031, 4.650)),
    ("V", 4): ((0.0, 0.0, 0.031), (11.965, 7.554, 6.758, 5.012, 2.852, 0.042, 4.650)),
    ("V", 5): ((0.0, 0.0, 0.0), (0.0, 0.0, 7.460, 5.661, 3.226, 0.047, 4.652)),
    ("Ti", 2): ((8.243, 5.132, 0.016), (9.213, 5.744, 4.849, 3.376, 1.917, 0.023, 3.776)),
    ("Ti", 3): ((5.907, 3.711, 0.019), (10.342, 6.499, 3.187, 3.393, 1.258, 0.027, 3.710)),
    ("Ti", 4): ((0.0, 0.0, 0.019), (0.0, 0.0, 6.301, 4.626, 2.632, 0.032, 3.776)),
}


def read_quantylf(element: str, configuration: str) -> dict[str, float] | None:
    """The QuantyLF value for a configuration, if it lists the ion that has it (extra_d = 0)."""
    z = xraydb.atomic_number(element)
    m = int(configuration.split("3d")[1])
    core = configuration.startswith("2p5")
    charge = z - 18 - (m - 1 if core else m)
    row = QUANTYLF.get((element, charge))
    if row is None:
        return None
    values = row[1] if core else row[0]
    return dict(zip(fields_of(configuration), values))


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
            quantylf = read_quantylf(element, configuration)
            d_count = int(configuration.split("3d")[1])
            # Fewer than two 3d electrons: no 3d-3d repulsion.  rcn prints none; store 0.
            for values in (crispy, rcn, edrixs, quantylf):
                if values is not None and d_count < 2:
                    values["f2dd"] = values["f4dd"] = 0.0
            if crispy is not None:
                shipped, source = crispy, "crispy-2026.3"
            elif rcn is not None:
                shipped, source = rcn, "rcn31-run"
            else:
                continue
            inputs = {"crispy-2026.3": crispy, "rcn31-run": rcn, "edrixs-0.2.0": edrixs,
                      "quantylf-0.1.22": quantylf}
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
            "quantylf-0.1.22": (
                "QuantyLF 0.1.22 src/QuantyLF/cases/utils/slater_integrals.lua, Cr..Ni rows marked as "
                "F. M. F. de Groot, PhD thesis (Nijmegen, 1991); three decimals, initial-state ions only"
            ),
        },
        "ions": ions,
        "configurations": out_configs,
    }
    json.dump(document, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    for row in discrepancies:
        element, configuration, field, a, va, b, vb = row
        note = " [rounding]" if abs(va - vb) <= 0.0011 else ""
        sys.stderr.write(
            f"DISCREPANCY {element} {configuration} {field}: {a}={va:g} {b}={vb:g} "
            f"({100 * relative_difference(va, vb):.1f} %){note}\n"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))

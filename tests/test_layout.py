"""The package layout follows the pipeline: each subpackage imports only the layers below it (including
imports inside functions), and every module of the tree is reachable from the documented layers."""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "rixsim"
FOUNDATION = {"errors", "results", "fit_result", "validate", "progress", "memory", "__init__"}
BELOW = {
    "foundation": set(),
    "manybody": {"foundation"},
    "io": {"foundation"},
    "cluster": {"foundation", "manybody"},
    "spectroscopy": {"foundation", "manybody", "cluster"},
    "detection": {"foundation", "manybody", "cluster", "spectroscopy"},
    "oxygen": {"foundation", "manybody", "cluster", "spectroscopy"},
    "analysis": {"foundation", "manybody", "cluster", "spectroscopy", "detection", "io"},
    "interfaces": {"foundation", "manybody", "cluster", "spectroscopy", "detection", "oxygen", "io", "analysis"},
}


def layer_of(parts):
    """Layer of a module given as its path parts below rixsim/ (or its dotted name's parts after 'rixsim')."""
    if len(parts) == 0 or parts[0] in FOUNDATION or parts[0].removesuffix(".py") in FOUNDATION:
        return "foundation"
    return parts[0].removesuffix(".py")


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rixsim":
            assert node.level == 0, f"{path}: relative import"
            yield node.module.split(".")[1:], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level:
            pytest.fail(f"{path}:{node.lineno}: relative import (the tree uses absolute rixsim.* imports)")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "rixsim":
                    yield alias.name.split(".")[1:], node.lineno


# rixsim/__init__.py is the facade over every layer (its imports are lazy); every other module is checked.
MODULES = sorted(p for p in PKG.rglob("*.py") if "references" not in p.parts and p != PKG / "__init__.py")


def test_every_module_is_in_a_known_layer():
    layers = {layer_of(p.relative_to(PKG).parts) for p in MODULES}
    assert layers <= set(BELOW), layers - set(BELOW)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_imports_go_down_the_pipeline(path):
    mine = layer_of(path.relative_to(PKG).parts)
    for target, line in imported_modules(path):
        theirs = layer_of(target)
        assert theirs == mine or theirs in BELOW[mine], (
            f"{path.relative_to(PKG)}:{line} ({mine}) imports rixsim.{'.'.join(target)} ({theirs})")


def test_each_subpackage_says_what_it_holds_and_what_it_may_import():
    for sub in BELOW:
        if sub == "foundation":
            continue
        doc = ast.get_docstring(ast.parse((PKG / sub / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "Holds" in doc and "May import" in doc and "Imported by" in doc, sub

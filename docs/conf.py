"""Sphinx configuration of the rixsim documentation.

Build (warnings are errors, as in CI)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The API pages are generated from the docstrings by autosummary (``docs/api/generated``, not committed), so a
module added to a subpackage appears without editing the docs.  No network is needed: no intersphinx.
"""
import os
import re
import sys
from pathlib import Path

from docutils.statemachine import StringList
from sphinx.ext.autosummary import Autosummary

ROOT = Path(__file__).resolve().parents[1]
if (ROOT / "rixsim").is_dir() and str(ROOT) not in sys.path:  # document this checkout, installed or not
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("RIXSIM_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

import rixsim

project = "rixsim"
author = "the rixsim developers"
copyright = "the rixsim developers"
release = version = rixsim.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "figures/*.py", "make_rixs_figures.py"]
templates_path = ["_templates"]

# --- robust, offline settings -------------------------------------------------------------------------------
nitpicky = False
intersphinx_mapping = {}
autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_imported_members = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"            # numpydoc's "Parameters" sections carry the types
autodoc_default_options = {"show-inheritance": True}
autodoc_mock_imports = []
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = False

myst_enable_extensions = ["dollarmath", "deflist", "colon_fence"]
myst_heading_anchors = 3
# The Markdown pages link to files of the repository (README → docs/…, tutorials → rixsim/…): such links are
# kept as plain links rather than resolved as documents.
suppress_warnings = ["myst.xref_missing", "myst.header"]

html_theme = "alabaster"
html_static_path = []
html_title = f"rixsim {release}"


class FacadeSummary(Autosummary):
    """``.. rixsim-facade::`` — an autosummary table of every name in ``rixsim.__all__``, each under the
    module that defines it, so the table follows the facade without editing the docs."""

    def run(self):
        names = []
        for name in rixsim.__all__:
            obj = getattr(rixsim, name)
            names.append(f"~{obj.__module__}.{getattr(obj, '__qualname__', name)}")   # shown as the short name
        self.content = StringList(names, source="rixsim.__all__")
        return super().run()


# In rixsim docstrings a pair of bars is an absolute value or a norm (|A|², |E_f − E_g|), never a reST
# substitution.  Escape bars outside literals and maths before numpydoc and docutils read the docstring.
_SPANS = re.compile(r"(``.+?``|:math:`[^`]*`|`[^`]*`)")


def _escape_bars(app, what, name, obj, options, lines):
    block_indent = None                      # indentation of a ``.. math::`` or literal (``::``) block opener
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                continue
            block_indent = None
        stripped = line.strip()
        if stripped.startswith((".. math::", ".. code-block::")) or stripped.endswith("::"):
            block_indent = indent
            if stripped.startswith(".. math::"):
                continue
        if "|" in line:
            parts = _SPANS.split(line)
            lines[i] = "".join(p if k % 2 else re.sub(r"(?<!\\)\|", r"\\|", p) for k, p in enumerate(parts))


def setup(app):
    app.add_directive("rixsim-facade", FacadeSummary)
    app.connect("autodoc-process-docstring", _escape_bars, priority=100)
    return {"parallel_read_safe": True}

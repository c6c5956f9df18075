"""The documentation is tested like code.

* Every ```python block of README.md and docs/*.md runs: the blocks of one file in order, in one namespace,
  in a fresh temporary working directory.  A block may opt out only with a first line
  ``# docs-test: skip — <reason>`` (it must genuinely be unable to run); ``# docs-test: slow — <reason>``
  still runs it, in a test marked ``slow``.
* Every ``rixsim.…`` dotted name and every ``from rixsim… import a, b`` of those files imports, and every
  repository path they mention (``rixsim/…/x.py``, ``docs/…``) exists, so renaming a module breaks a test.
* The Sphinx build passes with warnings as errors (``-W``), in a temporary copy of ``docs/``.
"""
from __future__ import annotations

import ast
import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", ROOT / "ARCHITECTURE.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"^#\s*docs-test:\s*(skip|slow)\b\s*(?:[—–:-]+\s*)?(.*)$")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")


def code_blocks(path: Path) -> list[dict]:
    """The fenced code blocks of a Markdown file: ``info`` (language), ``code``, ``line`` (1-based, of the
    first code line) and ``marker`` (``None`` or ``(kind, reason)``)."""
    blocks, lines, i = [], path.read_text(encoding="utf-8").splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, start = m["fence"], m["info"].strip(), i + 1
        j = start
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        code = "\n".join(lines[start:j])
        first = code.lstrip("\n").splitlines()[0] if code.strip() else ""
        mm = MARKER.match(first.strip())
        blocks.append({"info": info.split()[0].lower() if info else "", "code": code, "line": start + 1,
                       "marker": (mm[1], mm[2].strip()) if mm else None})
        i = j + 1
    return blocks


def python_blocks(path: Path) -> list[dict]:
    return [b for b in code_blocks(path) if b["info"] in ("python", "py")]


def _files_with_python():
    params = []
    for path in DOC_FILES:
        blocks = python_blocks(path)
        if not blocks:
            continue
        slow = any(b["marker"] and b["marker"][0] == "slow" for b in blocks)
        params.append(pytest.param(path, id=str(path.relative_to(ROOT)),
                                   marks=[pytest.mark.slow] if slow else []))
    return params


def test_doc_files_are_found():
    names = {p.name for p in DOC_FILES}
    assert {"README.md", "user_guide.md", "theory_tutorial.md", "experiment_tutorial.md"} <= names, names


@pytest.mark.parametrize("path", _files_with_python())
def test_python_blocks_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("RIXSIM_PROGRESS", "0")
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    namespace = {"__name__": f"docs_{path.stem}"}
    ran = 0
    try:
        for block in python_blocks(path):
            where = f"{path.relative_to(ROOT)}:{block['line']}"
            if block["marker"]:
                kind, reason = block["marker"]
                assert reason, f"{where}: a '# docs-test: {kind}' marker must give its reason"
                if kind == "skip":
                    continue
            exec(compile(block["code"], where, "exec"), namespace)  # noqa: S102 — the docs are the test
            ran += 1
    finally:
        plt.close("all")
    assert ran > 0, f"{path.name}: every python block is skipped"


def test_skip_markers_are_rare_and_explained():
    for path in DOC_FILES:
        for b in python_blocks(path):
            if b["marker"]:
                kind, reason = b["marker"]
                assert len(reason) > 10, f"{path.name}:{b['line']}: '# docs-test: {kind}' needs a reason"
        skipped = [b for b in python_blocks(path) if b["marker"] and b["marker"][0] == "skip"]
        assert len(skipped) <= 1, f"{path.name}: {len(skipped)} skipped blocks; make them runnable"


def test_block_parser_reads_markers(tmp_path):
    md = tmp_path / "x.md"
    md.write_text("text\n\n```python\n# docs-test: skip — needs a Dask cluster\nx = 1\n```\n\n"
                  "```bash\nls\n```\n\n````python\ny = 2\n````\n", encoding="utf-8")
    blocks = code_blocks(md)
    assert [b["info"] for b in blocks] == ["python", "bash", "python"]
    assert blocks[0]["marker"] == ("skip", "needs a Dask cluster")
    assert blocks[2]["code"] == "y = 2" and blocks[2]["marker"] is None


# ------------------------------------------------------------------------------------------ names and paths
DOTTED = re.compile(r"(?<![\w./-])rixsim(?:\.[A-Za-z_]\w*)+")
PATH = re.compile(r"(?<![\w./-])((?:rixsim|docs|tests|validation|benchmarks|references)/[\w./+-]*\w)")


def _python_names(text: str) -> set[str]:
    """``from rixsim.x import a, b`` and ``import rixsim.x`` statements of the python blocks."""
    names = set()
    for src in text:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rixsim":
                names.update(f"{node.module}.{a.name}" for a in node.names if a.name != "*")
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names if a.name.split(".")[0] == "rixsim")
    return names


def mentioned_names(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    names = {m.rstrip(".") for m in DOTTED.findall(text)}
    names |= _python_names([b["code"] for b in python_blocks(path)])
    # prose "from rixsim.x import a, b" lines outside python blocks (e.g. in inline code)
    for m in re.finditer(r"from (rixsim(?:\.\w+)*) import ([\w, ]+)", text):
        names.update(f"{m[1]}.{n.strip()}" for n in m[2].split(",") if n.strip())
    return names


def resolve(dotted: str):
    """Import the longest module prefix of ``dotted`` and get the rest as attributes."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ModuleNotFoundError as exc:
            if exc.name and not ".".join(parts[:k]).startswith(exc.name):
                raise                     # the module exists but one of its own imports is missing
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_mentioned_rixsim_names_import(path):
    bad = []
    for name in sorted(mentioned_names(path)):
        try:
            resolve(name)
        except (ImportError, AttributeError) as exc:
            bad.append(f"{name} ({type(exc).__name__}: {exc})")
    assert not bad, f"{path.name} mentions names that do not import:\n  " + "\n  ".join(bad)


def test_name_scanner_finds_names(tmp_path):
    md = tmp_path / "x.md"
    md.write_text("Use `rixsim.io.read_spectrum`, and rixsim.xas.\n\n```python\n"
                  "from rixsim.analysis.lcf import fit_linear_combination, LCFResult\n```\n", encoding="utf-8")
    assert mentioned_names(md) == {"rixsim.io.read_spectrum", "rixsim.xas", "rixsim.analysis.lcf",
                                   "rixsim.analysis.lcf.fit_linear_combination", "rixsim.analysis.lcf.LCFResult"}
    with pytest.raises((ImportError, AttributeError)):
        resolve("rixsim.cluster.no_such_module.thing")
    with pytest.raises(AttributeError):
        resolve("rixsim.io.no_such_reader")


def mentioned_paths(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    out = set()
    for p in PATH.findall(text):
        if any(c in p for c in "*<>{}") or Path(p).stem.isupper():
            continue                                  # a pattern (spectra/*.csv) or a placeholder (NAME.py)
        if "." in Path(p).name:                       # files only: directories may be outputs
            out.add(p)
    return out


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_mentioned_repository_files_exist(path):
    missing = sorted(p for p in mentioned_paths(path) if not (ROOT / p).exists() and not (path.parent / p).exists())
    assert not missing, f"{path.name} mentions files that do not exist: {missing}"


# ------------------------------------------------------------------------------------------------ Sphinx
def _copy_docs(dest: Path) -> Path:
    """docs/ and the Markdown files it includes, without build outputs, into ``dest`` (the build writes its
    autosummary pages into its source tree: a copy keeps the shared checkout clean)."""
    shutil.copytree(ROOT / "docs", dest / "docs",
                    ignore=shutil.ignore_patterns("_build", "generated", "__pycache__"))
    for name in ("README.md", "ARCHITECTURE.md"):
        shutil.copy2(ROOT / name, dest / name)
    return dest / "docs"


@pytest.mark.slow
def test_sphinx_build_has_no_warnings(tmp_path):
    for module in ("sphinx", "numpydoc", "myst_parser"):   # in the test extra; CI requires them
        if os.environ.get("RIXSIM_DOCS_REQUIRED"):
            importlib.import_module(module)
        else:
            pytest.importorskip(module)
    src = _copy_docs(tmp_path)
    env = dict(os.environ, MPLBACKEND="Agg", RIXSIM_PROGRESS="0", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           "-d", str(tmp_path / "doctrees"), str(src), str(tmp_path / "html")],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, f"sphinx-build -W failed:\n{proc.stdout[-5000:]}\n{proc.stderr[-10000:]}"
    html = tmp_path / "html"
    for page in ("index.html", "api/index.html", "user_guide.html", "theory_tutorial.html",
                 "experiment_tutorial.html", "architecture.html", "rixs_maps.html"):
        assert (html / page).is_file(), f"{page} was not built"
    api = {p.name for p in (html / "api" / "generated").glob("*.html")}
    for sub in ("manybody", "cluster", "spectroscopy", "detection", "oxygen", "analysis", "io", "interfaces"):
        pkg = importlib.import_module(f"rixsim.{sub}")
        modules = {p.stem for p in Path(pkg.__file__).parent.glob("*.py") if not p.stem.startswith("_")}
        expected = {f"rixsim.{sub}.html"} | {f"rixsim.{sub}.{m}.html" for m in modules}
        assert expected <= api, f"API pages missing: {sorted(expected - api)}"
    assert {"rixsim.results.html", "rixsim.errors.html"} <= api
    text = (html / "api" / "generated" / "rixsim.cluster.model.html").read_text(encoding="utf-8")
    assert "atomic_model" in text and "Parameters" in (html / "api" / "generated" /
                                                        "rixsim.spectroscopy.xas.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------- README's first lines
def test_readme_starts_with_the_two_setup_commands():
    first = code_blocks(ROOT / "README.md")[0]
    lines = [ln.split("#")[0].strip() for ln in first["code"].splitlines()]
    assert first["info"] == "bash" and first["line"] <= 4
    assert lines == ["pip install -e . && rixsim demo --out rixsim-demo",
                     'pip install -e ".[test]" && python -m pytest -q']
    assert "python -m pytest -q" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_commands_exist():
    from rixsim.interfaces.cli import main
    for command in ("demo", "validate", "xas", "rixs", "channels", "fit", "references"):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0, command
    for bench in re.findall(r"python (benchmarks/\w+\.py)", (ROOT / "README.md").read_text(encoding="utf-8")):
        assert (ROOT / bench).is_file(), bench


def test_docs_extra_matches_what_the_build_needs():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    names = {re.split(r"[<>=\[ ;]", req)[0].lower() for req in extras["docs"]}
    assert names == {"sphinx", "numpydoc", "myst-parser"}
    assert names <= {re.split(r"[<>=\[ ;]", req)[0].lower() for req in extras["test"]}

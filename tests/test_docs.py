"""The Sphinx documentation builds cleanly, offline, and covers the public API."""

import importlib
import inspect
import pkgutil
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sklearn_hser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: Public modules that are not Python API (documented in the CLI guide page).
NOT_IN_API_REFERENCE = {"sklearn_hser.cli", "sklearn_hser.__main__"}


def _doc_tools():
    for module in ("sphinx", "numpydoc", "myst_parser"):
        pytest.importorskip(module)


def _copy_docs(tmp_path) -> Path:
    """The docs sources in a scratch folder, so a build never writes into the tree."""
    src = tmp_path / "docs"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("_build", "generated"))
    return src


def test_sphinx_build_has_no_warnings(tmp_path):
    """``sphinx-build -W --keep-going -b html``, as CI would run it by hand."""
    _doc_tools()
    src = _copy_docs(tmp_path)
    out = tmp_path / "html"
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-d",
        str(tmp_path / "doctrees"),
        str(src),
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-10000:]
    assert (out / "index.html").is_file()
    assert (out / "api.html").is_file()
    assert (out / "generated" / "sklearn_hser.HierarchicalClassifier.html").is_file()
    hierarchy_page = (out / "guide" / "hierarchy.html").read_text()
    assert "hierarchy.svg" in hierarchy_page
    assert (out / "_images" / "hierarchy.svg").is_file()


def test_configuration_fetches_nothing():
    """No intersphinx: the build must not reach the network."""
    namespace = runpy.run_path(str(DOCS / "conf.py"))
    assert not any("intersphinx" in ext for ext in namespace["extensions"])
    assert "intersphinx_mapping" not in namespace


def _public_modules():
    names = ["sklearn_hser"]
    for info in pkgutil.iter_modules(sklearn_hser.__path__, "sklearn_hser."):
        if not info.name.rsplit(".", 1)[1].startswith("_"):
            names.append(info.name)
    return [n for n in sorted(names) if n not in NOT_IN_API_REFERENCE]


def _public_names(module):
    """A module's public API: ``__all__``, else its own classes and functions."""
    if hasattr(module, "__all__"):
        return {n for n in module.__all__ if not n.startswith("__")}
    return {
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__ == module.__name__
    }


def _documented_names(api_rst: str) -> set:
    """Fully qualified names listed in the autosummary tables of ``api.rst``."""
    documented, module, in_table = set(), None, False
    for line in api_rst.splitlines():
        stripped = line.strip()
        if stripped.startswith(".. currentmodule::"):
            module = stripped.split("::", 1)[1].strip()
            in_table = False
        elif stripped.startswith(".. autosummary::"):
            in_table = True
        elif in_table:
            if not stripped or stripped.startswith(":"):
                continue
            if not line.startswith(" "):
                in_table = False
                continue
            documented.add(f"{module}.{stripped.lstrip('~')}")
    return documented


def _api_rst() -> str:
    return (DOCS / "api.rst").read_text()


def _resolve(qualified_name):
    module, _, name = qualified_name.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_api_reference_lists_every_public_name():
    """Every public name has a page (re-exported names count once, anywhere)."""
    documented = {id(_resolve(n)) for n in _documented_names(_api_rst())}
    missing = []
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        for name in sorted(_public_names(module)):
            if id(getattr(module, name)) not in documented:
                missing.append(f"{module_name}.{name}")
    assert not missing, f"add to docs/api.rst: {missing}"


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.+?)```", page.read_text(), flags=re.DOTALL)


@pytest.mark.slow
def test_quickstart_runs(capsys):
    """The quickstart's code block runs as printed (it extracts MFCC: ~30 s)."""
    code = _python_blocks(DOCS / "guide" / "quickstart.md")[0]
    exec(compile(code, "quickstart.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "'UA'" in printed and "'WA'" in printed

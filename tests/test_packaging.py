"""Packaging: a lean core, honest extras, the licence, ``hser --version``."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import sklearn_hser

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
HEAVY = ("torch", "skorch", "transformers", "opensmile", "optuna")


def _names(requirements):
    return {re.split(r"[<>=\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def _expand(extra, seen=None):
    """Requirement names of an extra, with self-references expanded."""
    names = set()
    for requirement in PYPROJECT["optional-dependencies"][extra]:
        inner = re.fullmatch(r"sklearn-hser\[(.+)\]", requirement)
        if inner:
            for name in inner.group(1).split(","):
                names |= _expand(name.strip())
        else:
            names |= _names([requirement])
    return names


def test_core_requirements_are_lean():
    assert not _names(PYPROJECT["dependencies"]) & set(HEAVY)


def test_test_extra_pulls_in_every_optional_library():
    test = _expand("test")
    for name in (*HEAVY, "onnxruntime", "faster-whisper", "dask", "sphinx", "pytest"):
        assert name in test


def test_licence_file_ships():
    assert PYPROJECT["license"] == "BSD-3-Clause"
    assert PYPROJECT["license-files"] == ["LICENSE"]
    assert "BSD 3-Clause License" in (ROOT / "LICENSE").read_text()


def test_hser_version():
    done = subprocess.run(
        [sys.executable, "-m", "sklearn_hser", "--version"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"hser {sklearn_hser.__version__}"

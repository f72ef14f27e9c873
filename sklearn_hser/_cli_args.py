"""Argument types of the ``hser`` command, checked before any work starts.

Each function is an ``argparse`` ``type=``: it turns the text of one
argument into its value or raises :class:`argparse.ArgumentTypeError` with a
one-line reason, which :class:`OneLineParser` reports as
``hser: error: argument --flag: reason`` with exit status 2. Sub-commands
share them, so the same flag is checked the same way everywhere, and a
mistake costs no time: nothing has been loaded or fitted yet when it shows.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

#: File names that hold a checkpoint's weights (transformers' save formats).
_WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.h5", "*.msgpack")


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: ``hser: error: ...``."""

    def error(self, message):
        self.exit(2, f"hser: error: {message.splitlines()[0]}\n")


def positive_int(text: str) -> int:
    """A whole number of at least 1 (epochs, workers)."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """A whole number of at least 0 (seeds)."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def n_jobs(text: str) -> int:
    """A joblib worker count: a positive number, or negative (all CPUs but ...)."""
    value = _int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must not be 0 (1: no workers, -1: all CPUs)")
    return value


def probability(text: str) -> float:
    """A number in [0, 1] (thresholds)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0 <= value <= 1:  # also refuses NaN
        raise argparse.ArgumentTypeError(f"must lie in [0, 1], got {text}")
    return value


def threshold_choice(text: str):
    """``auto`` (chosen on validation data), ``none`` or a number in [0, 1]."""
    if text.lower() == "auto":
        return "auto"
    if text.lower() == "none":
        return None
    return probability(text)


def checkpoint_dir(text: str) -> str:
    """A local model folder saved with ``save_pretrained``: config and weights."""
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no such directory")
    if not (path / "config.json").is_file():
        raise argparse.ArgumentTypeError(
            f"{text} has no config.json: not a model saved with save_pretrained"
        )
    if not any(any(path.glob(p)) for p in _WEIGHT_PATTERNS):
        raise argparse.ArgumentTypeError(f"{text} has a config.json but no weights")
    return str(path)


def output_dir(text: str) -> str:
    """A folder to write into: existing, or creatable, and not a file."""
    path = _usable_name(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a directory")
    _check_writable(path if path.exists() else path.parent, text)
    return str(path)


def output_file(text: str) -> str:
    """A file to write: a new name, or an existing file (replaced at the end)."""
    path = _usable_name(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory, not a file name")
    _check_writable(path.parent, text)
    return str(path)


def existing_file(text: str) -> str:
    """A file that exists (an input)."""
    path = _usable_name(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory, not a file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return text


def readable_dir(text: str) -> str:
    """A folder to read (it may be read-only), or a name not yet used."""
    path = _usable_name(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a directory")
    return str(path)


def _usable_name(text: str) -> Path:
    """``text`` as a path the file system accepts (each name short enough)."""
    path = Path(text).expanduser()
    try:
        path.exists()
    except OSError as exc:  # e.g. "File name too long"
        shown = text if len(text) <= 60 else f"{text[:28]}...{text[-28:]}"
        raise argparse.ArgumentTypeError(f"{shown}: {exc.strerror}") from None
    return path


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number, got {text!r}"
        ) from None


def _check_writable(folder: Path, text: str) -> None:
    """The nearest existing ancestor of ``folder`` must be a writable folder."""
    ancestor = folder if str(folder) else Path(".")
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text}: {ancestor} is not writable")

"""Where the shared, read-only corpora live on this machine (if anywhere)."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the directory that holds ``ravdess/``, ``meld/``...
DATA_DIR_ENV = "HSER_DATA_DIR"


def shared_data_dir() -> Path | None:
    """Return the directory holding the shared corpora, or ``None``.

    The corpora are never part of the repository: they are read from
    ``$HSER_DATA_DIR`` when that variable is set, else from
    ``<repo>/../shared/data`` (the layout of the development machines).

    Returns
    -------
    path : pathlib.Path or None
        The absolute directory, or ``None`` when it does not exist (a fresh
        machine, or an installed package without the checkout around it).
        A set but non-existent ``$HSER_DATA_DIR`` also gives ``None`` rather
        than silently falling back, so that tests skip instead of reading a
        directory the user did not mean.
    """
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        path = Path(env).expanduser()
    else:
        # this file is <repo>/sklearn_hser/datasets/_paths.py
        repo = Path(__file__).resolve().parents[2]
        path = repo.parent / "shared" / "data"
    return path.resolve() if path.is_dir() else None

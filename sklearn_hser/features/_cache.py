"""A content-addressed disk cache for per-utterance features.

Features are stored one ``.npy`` file per (extractor configuration, input)
pair.  The key of an input is a digest of its *content* (the bytes of a file,
or of a waveform array with its sampling rate), not of its name, so a renamed
or copied file hits the cache and an edited file misses it.  The key of a
configuration is a digest of the extractor's class, its parameters that change
the output, and the versions of the libraries that compute it.

Writes go to a temporary file that is then renamed, so several processes (the
``n_jobs`` workers, or concurrent ``GridSearchCV`` fits) can share one cache
directory safely.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

_CHUNK = 1 << 20


def digest_input(item, kind: str = "audio") -> str:
    """Return a hex digest of an input's content.

    Parameters
    ----------
    item : path-like, str, ndarray, tuple or dict
        An audio input in any form :func:`~sklearn_hser.features.audio.load_audio`
        accepts (a ``str`` is a file path), or a text string.
    kind : {"audio", "text"}, default="audio"
        With ``"text"`` a string is hashed as text, never opened as a file.

    Returns
    -------
    str
        32 hex characters.
    """
    h = hashlib.blake2b(digest_size=16)
    if kind == "text":
        h.update(b"text" + str(item).encode("utf-8"))
    elif isinstance(item, (str, os.PathLike)):
        h.update(b"file")
        with open(item, "rb") as f:
            for block in iter(lambda: f.read(_CHUNK), b""):
                h.update(block)
    elif isinstance(item, dict):
        _update_array(h, item.get("array"), item.get("sampling_rate"))
    elif isinstance(item, tuple) and len(item) == 2:
        _update_array(h, item[0], item[1])
    else:
        _update_array(h, item, None)
    return h.hexdigest()


def _update_array(h, array, sampling_rate) -> None:
    array = np.ascontiguousarray(array)
    h.update(f"array{array.dtype.str}{array.shape}{sampling_rate}".encode())
    h.update(array.tobytes())


class FeatureCache:
    """One extractor configuration's slice of a cache directory.

    Parameters
    ----------
    directory : path-like
        Root of the cache; created on first write.
    namespace : str
        Identifies the extractor configuration (class name and parameter
        digest).  Entries of different namespaces never collide.
    """

    def __init__(self, directory, namespace: str):
        self.root = Path(directory) / namespace

    def _path(self, key: str) -> Path:
        # Two-character fan-out keeps directories small on big corpora.
        return self.root / key[:2] / f"{key}.npy"

    def get(self, key: str):
        """Return the stored array for ``key``, or None on a miss."""
        path = self._path(key)
        try:
            return np.load(path, allow_pickle=False)
        except (FileNotFoundError, ValueError, OSError, EOFError):
            # A missing or truncated file is a miss; it will be rewritten.
            return None

    def put(self, key: str, value: np.ndarray) -> None:
        """Store ``value`` under ``key`` atomically."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, np.asarray(value), allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

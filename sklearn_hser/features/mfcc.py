"""MFCC features: 13 coefficients with deltas, pooled or as frame sequences."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._warmup import LibrosaExtractor
from .audio import SAMPLING_RATE, pad_to_length


class MFCC(LibrosaExtractor):
    """Mel-frequency cepstral coefficients with their deltas (librosa).

    The paper's speech feature: 13 MFCCs plus their first and second
    derivatives (39 values per frame) at 16 kHz, averaged over the frames of
    each utterance.

    Parameters
    ----------
    n_mfcc : int, default=13
        Number of cepstral coefficients.
    delta_order : {0, 1, 2}, default=2
        Highest derivative appended: 2 gives ``3 * n_mfcc`` values per frame.
    pooling : {"mean", "mean+std"} or None, default="mean"
        How frames are summarised per utterance. ``None`` returns the frame
        sequences (a sequence batch, see :mod:`sklearn_hser._sequences`).
    n_fft : int, default=2048
        FFT window in samples (librosa's default: 128 ms at 16 kHz).
    hop_length : int, default=512
        Hop between frames in samples (32 ms).
    n_mels : int, default=128
        Mel bands the cepstrum is computed from.
    column : str, default=None
        Column of a DataFrame ``X`` holding the audio inputs.
    cache_dir : str or path-like, default=None
        Directory of the on-disk feature cache; ``None`` disables caching.
    n_jobs : int, default=None
        Worker processes for extraction (``-1``: all cores).

    Notes
    -----
    Audio shorter than ``n_fft`` samples is zero-padded at the end to
    ``n_fft`` samples. The delta window is librosa's 9 frames, narrowed to
    the largest odd width an utterance's frame count allows (at least 3).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hser.features import MFCC
    >>> waves = [np.random.default_rng(0).normal(0, 0.1, 16000).astype("float32")]
    >>> MFCC().fit_transform(waves).shape
    (1, 39)
    """

    def __init__(
        self,
        n_mfcc=13,
        delta_order=2,
        pooling="mean",
        n_fft=2048,
        hop_length=512,
        n_mels=128,
        column=None,
        cache_dir=None,
        n_jobs=None,
    ):
        self.n_mfcc = n_mfcc
        self.delta_order = delta_order
        self.pooling = pooling
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.column = column
        self.cache_dir = cache_dir
        self.n_jobs = n_jobs

    _parameter_constraints: dict = {
        **LibrosaExtractor._parameter_constraints,
        "n_mfcc": [Interval(Integral, 1, None, closed="left")],
        "delta_order": [Interval(Integral, 0, 2, closed="both")],
        "pooling": [StrOptions({"mean", "mean+std"}), None],
        "n_fft": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
    }

    def _returns_sequences(self):
        return self.pooling is None

    def _frame_names(self):
        prefixes = ["mfcc", "delta_mfcc", "delta2_mfcc"][: self.delta_order + 1]
        return [f"{p}_{i}" for p in prefixes for i in range(self.n_mfcc)]

    def _feature_names(self):
        names = self._frame_names()
        if self.pooling == "mean":
            return [f"{n}_mean" for n in names]
        if self.pooling == "mean+std":
            return [f"{n}_mean" for n in names] + [f"{n}_std" for n in names]
        return names

    def frames(self, waveform: np.ndarray) -> np.ndarray:
        """Frame-level features of one 16 kHz waveform, ``(n_frames, n_values)``."""
        import librosa

        waveform = pad_to_length(waveform, self.n_fft)
        mfcc = librosa.feature.mfcc(
            y=waveform,
            sr=SAMPLING_RATE,
            n_mfcc=self.n_mfcc,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            n_mels=self.n_mels,
        )
        blocks = [mfcc]
        if self.delta_order:
            n_frames = mfcc.shape[1]
            width = min(9, n_frames if n_frames % 2 else n_frames - 1)
            for order in range(1, self.delta_order + 1):
                if width >= 3:
                    blocks.append(librosa.feature.delta(mfcc, width=width, order=order))
                else:  # a single frame has no measurable change
                    blocks.append(np.zeros_like(mfcc))
        return np.vstack(blocks).T

    def _extract_one(self, waveform):
        frames = self.frames(waveform)
        if self.pooling == "mean":
            return frames.mean(axis=0)
        if self.pooling == "mean+std":
            return np.concatenate([frames.mean(axis=0), frames.std(axis=0)])
        return frames

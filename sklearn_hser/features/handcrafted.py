"""The eight handcrafted utterance features of Sahu (2019), vectorised."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._warmup import LibrosaExtractor
from .audio import pad_to_length

FEATURE_NAMES = (
    "abs_mean",
    "std",
    "rms_mean",
    "rms_std",
    "silence_ratio",
    "harmonic",
    "autocorr_max",
    "autocorr_std",
)


_FRAME_LENGTH = 2048


class HandcraftedFeatures(LibrosaExtractor):
    """Eight prosodic/energy features per utterance (Sahu, 2019).

    In order (:data:`FEATURE_NAMES`):

    * ``abs_mean``: mean absolute amplitude;
    * ``std``: standard deviation of the signal;
    * ``rms_mean`` and ``rms_std``: mean and standard deviation of the
      frame RMS energy (librosa's default 2048/512 framing);
    * ``silence_ratio``: share of RMS frames at or below
      ``silence_threshold`` times the mean RMS;
    * ``harmonic``: 1000 times the mean of the harmonic component of a
      harmonic/percussive source separation (``librosa.effects.hpss``);
    * ``autocorr_max`` and ``autocorr_std``: from the autocorrelation of
      the centre-clipped signal (clip level ``clip_level`` times the mean
      absolute amplitude), 1000 times its maximum divided by its length, and
      its standard deviation.

    Parameters
    ----------
    silence_threshold : float, default=0.4
        Relative RMS level under which a frame counts as silence.
    clip_level : float, default=0.45
        Centre-clipping level relative to the mean absolute amplitude.
    column, cache_dir, n_jobs
        As in :class:`MFCC`.

    Notes
    -----
    Audio shorter than 2048 samples (128 ms) is zero-padded to that length.
    Silent audio gives finite values: zeros for amplitude and energy
    features and a silence ratio of 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hser.features import HandcraftedFeatures
    >>> waves = [np.random.default_rng(0).normal(0, 0.1, 16000).astype("float32")]
    >>> HandcraftedFeatures().fit_transform(waves).shape
    (1, 8)
    """

    def __init__(
        self,
        silence_threshold=0.4,
        clip_level=0.45,
        column=None,
        cache_dir=None,
        n_jobs=None,
    ):
        self.silence_threshold = silence_threshold
        self.clip_level = clip_level
        self.column = column
        self.cache_dir = cache_dir
        self.n_jobs = n_jobs

    _parameter_constraints: dict = {
        **LibrosaExtractor._parameter_constraints,
        "silence_threshold": [Interval(Real, 0, None, closed="left")],
        "clip_level": [Interval(Real, 0, None, closed="left")],
    }

    def _feature_names(self):
        return list(FEATURE_NAMES)

    def _extract_one(self, waveform):
        import librosa

        # Shorter than one 2048-sample RMS/STFT frame: pad, as librosa would,
        # but explicitly so every feature sees the same signal.
        y = pad_to_length(waveform, _FRAME_LENGTH).astype(np.float64)
        abs_mean = np.mean(np.abs(y))
        rms = librosa.feature.rms(y=y)[0]
        rms_mean = rms.mean()
        silence_ratio = np.mean(rms <= self.silence_threshold * rms_mean)
        harmonic = 1000 * np.mean(librosa.effects.hpss(y)[0])
        level = self.clip_level * abs_mean
        # Centre clipping: shrink every sample towards 0 by `level`, zeroing
        # the band in between, which sharpens periodicity for pitch analysis.
        clipped = np.where(y >= level, y - level, np.where(y <= -level, y + level, 0.0))
        autocorr = librosa.autocorrelate(clipped)
        return np.array(
            [
                abs_mean,
                np.std(y),
                rms_mean,
                rms.std(),
                silence_ratio,
                harmonic,
                1000 * np.max(autocorr) / len(autocorr),
                np.std(autocorr),
            ]
        )

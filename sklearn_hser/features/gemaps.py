"""GeMAPS / eGeMAPS acoustic parameters through openSMILE."""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import StrOptions

from .._optional import require
from ._base import BaseFeatureExtractor
from .audio import SAMPLING_RATE, pad_to_length

_FEATURE_SETS = ("GeMAPSv01b", "eGeMAPSv02")
_LEVELS = {"functionals": "Functionals", "lld": "LowLevelDescriptors"}

#: openSMILE needs about 60 ms of signal for its functionals; shorter audio
#: is zero-padded to this many samples (100 ms) instead of yielding NaN.
MIN_SAMPLES = SAMPLING_RATE // 10

# One openSMILE engine per configuration and process: building one costs
# tens of milliseconds, and the engine itself cannot be pickled.
_SMILES: dict = {}


def _smile(feature_set: str, level: str):
    key = (feature_set, level)
    if key not in _SMILES:
        opensmile = require("opensmile", "GeMAPS")

        _SMILES[key] = opensmile.Smile(
            feature_set=getattr(opensmile.FeatureSet, feature_set),
            feature_level=getattr(opensmile.FeatureLevel, _LEVELS[level]),
        )
    return _SMILES[key]


class GeMAPS(BaseFeatureExtractor):
    """The Geneva Minimalistic Acoustic Parameter Set, computed by openSMILE.

    ``GeMAPSv01b`` has 18 low-level descriptors (pitch, jitter, shimmer,
    loudness, HNR, formants, spectral slopes, ...) summarised by functionals
    into 62 values; ``eGeMAPSv02`` extends it to 25 descriptors and 88
    functionals.

    Parameters
    ----------
    feature_set : {"GeMAPSv01b", "eGeMAPSv02"}, default="GeMAPSv01b"
        The openSMILE configuration.
    feature_level : {"functionals", "lld"}, default="functionals"
        ``"functionals"`` gives one vector per utterance; ``"lld"`` the
        low-level descriptor frames (10 ms hop) as a sequence batch.
    column : str, default=None
        Column of a DataFrame ``X`` holding the audio inputs.
    cache_dir : str or path-like, default=None
        Directory of the on-disk feature cache; ``None`` disables caching.
    n_jobs : int, default=None
        Worker processes. openSMILE runs on one thread, so processes are the
        way to use several cores.

    Notes
    -----
    Audio shorter than 100 ms is zero-padded to 100 ms (openSMILE would
    return NaN). Silent audio gives openSMILE's values for silence (zeros).
    Feature names are openSMILE's own (:meth:`get_feature_names_out`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hser.features import GeMAPS
    >>> waves = [np.random.default_rng(0).normal(0, 0.1, 16000).astype("float32")]
    >>> GeMAPS().fit_transform(waves).shape
    (1, 62)
    """

    def __init__(
        self,
        feature_set="GeMAPSv01b",
        feature_level="functionals",
        column=None,
        cache_dir=None,
        n_jobs=None,
    ):
        self.feature_set = feature_set
        self.feature_level = feature_level
        self.column = column
        self.cache_dir = cache_dir
        self.n_jobs = n_jobs

    _parameter_constraints: dict = {
        **BaseFeatureExtractor._parameter_constraints,
        "feature_set": [StrOptions(set(_FEATURE_SETS))],
        "feature_level": [StrOptions(set(_LEVELS))],
    }

    def _check_params(self):
        # Before any audio is read: without openSMILE, say which extra
        # installs it (not a feature-extraction failure of the first item).
        require("opensmile", "GeMAPS")

    def _returns_sequences(self):
        return self.feature_level == "lld"

    def _library_versions(self):
        opensmile = require("opensmile", "GeMAPS")

        return (opensmile.__version__,)

    def _feature_names(self):
        return list(_smile(self.feature_set, self.feature_level).feature_names)

    def _extract_one(self, waveform):
        smile = _smile(self.feature_set, self.feature_level)
        values = smile.process_signal(
            pad_to_length(waveform, MIN_SAMPLES), SAMPLING_RATE
        )
        values = values.to_numpy(dtype=np.float32)
        return values[0] if self.feature_level == "functionals" else values

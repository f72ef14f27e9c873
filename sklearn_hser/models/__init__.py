"""Classifiers: an LSTM over features or sequences, and fine-tuned wav2vec2.

Both are scikit-learn estimators that own a skorch network built in ``fit``.
Importing this package imports torch and skorch, never transformers: the
wav2vec2 model is loaded from a local directory only when
:class:`Wav2Vec2Classifier` is fitted.
"""

from .._optional import require

# A clear error, naming the extra, when torch or skorch is missing.
require("torch", "sklearn_hser.models")
require("skorch", "sklearn_hser.models")

from .lstm import LSTMClassifier  # noqa: E402
from .wav2vec2 import Wav2Vec2Classifier  # noqa: E402

__all__ = ["LSTMClassifier", "Wav2Vec2Classifier"]

"""Speaker normalisation: remove each speaker's average from utterance features.

Much of what separates two speakers' recordings in any acoustic or encoder
feature space is who they are and what they were recorded with (voice
pitch and timbre, microphone, room), not what they feel. Subtracting each
speaker's mean feature vector, computed over that speaker's recordings,
removes this offset; it is the most common speaker normalisation in speech
emotion recognition and needs no labels, so at prediction time it is
computed from the test speaker's own, unlabelled recordings.

When a speaker has too few recordings in the call for a stable mean (a
single file passed to ``hser predict``, a speaker-dependent test set with a
few files per speaker), that speaker's mean from training is subtracted if
the speaker was in the training data; otherwise the average of the training
speakers' means: the features keep the same centring as in training,
without the speaker-specific correction.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from .._sequences import (
    check_sequence_array,
    is_sequence_array,
    make_sequence_array,
    pool_sequences,
)


class SpeakerNormalizer(TransformerMixin, BaseEstimator):
    """Per-speaker mean normalisation of the features of another transformer.

    Wraps a feature transformer (e.g.
    :class:`~sklearn_hser.features.WhisperEmbeddings`) and subtracts, from
    each utterance's feature vector, the mean vector of its speaker's
    recordings in the same call, read from ``speaker_column`` of the input
    DataFrame. When the wrapped transformer returns frame sequences (a 1-D
    object array of ``(t_i, d)`` arrays, e.g. ``pooling=None``), the
    speaker's mean is the average of its utterances' mean frames, and it is
    subtracted from every frame; the output is then a sequence batch of the
    same lengths. A speaker with fewer than ``min_utterances`` recordings in
    the call gets its mean from training subtracted when it was a training
    speaker; other speakers, and inputs without the column, get the training
    speakers' average mean subtracted (see the module docstring for why).

    Parameters
    ----------
    transformer : transformer
        Maps the input (e.g. a corpus DataFrame) to a 2-D feature matrix.
        Cloned and fitted in ``fit``.
    speaker_column : str or None, default="speaker"
        Column of a DataFrame input naming each utterance's speaker.
        ``None`` never uses speaker identity (every sample falls back).
    min_utterances : int, default=10
        Fewest recordings of one speaker in a call for that speaker's own
        mean to be used; a mean over fewer is dominated by what was said and
        felt in those few recordings.
    class_balanced : bool, default=False
        In ``fit`` (given ``y``), take each training speaker's centre as the
        mean of its per-class means instead of the mean of its recordings,
        so that a speaker (or corpus) with more of one emotion is not shifted
        toward it; the training features then look as a speaker with every
        class in equal shares does. Labels are unknown at prediction time,
        where the plain mean is used.

    Attributes
    ----------
    transformer_ : transformer
        The fitted clone of ``transformer``.
    reference_mean_ : ndarray of shape (n_features,)
        Average of the training speakers' mean vectors (the mean of all
        training features when no training speaker had enough recordings):
        what is subtracted when a speaker's own mean is not available.
    n_speakers_ : int
        Training speakers with at least ``min_utterances`` recordings.
    speaker_means_ : dict
        Mean vector (the class-balanced one with ``class_balanced=True``) of
        each of those training speakers, by speaker name.

    Notes
    -----
    The output for one recording depends on the speaker's other recordings
    passed in the same call; this is the point of the method (it is
    *transductive* over each speaker's unlabelled recordings). Pass all of a
    speaker's recordings together for the full effect; a subset, or one
    file, gives a noisier correction or the fallback. The mean also depends
    on which emotions the recordings express: a speaker heard only in anger
    has anger partly subtracted away. Acted corpora balance emotions per
    speaker; with real recordings, pass enough of each speaker.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn_hser.features import SpeakerNormalizer
    >>> X = pd.DataFrame({"f": [1.0, 3.0, 10.0, 12.0], "speaker": list("aabb")})
    >>> pick = FunctionTransformer(lambda d: d[["f"]].to_numpy())
    >>> SpeakerNormalizer(pick, min_utterances=2).fit_transform(X).ravel().tolist()
    [-1.0, 1.0, -1.0, 1.0]
    """

    _parameter_constraints: dict = {
        "transformer": [HasMethods(["fit", "transform"])],
        "speaker_column": [str, None],
        "min_utterances": [Interval(Integral, 1, None, closed="left")],
        "class_balanced": ["boolean"],
    }

    def __init__(
        self,
        transformer,
        *,
        speaker_column="speaker",
        min_utterances=10,
        class_balanced=False,
    ):
        self.transformer = transformer
        self.speaker_column = speaker_column
        self.min_utterances = min_utterances
        self.class_balanced = class_balanced

    def fit(self, X, y=None):
        """Fit the wrapped transformer and the fallback mean.

        Parameters
        ----------
        X : DataFrame or array-like
            Input of the wrapped transformer; a DataFrame with
            ``speaker_column`` for per-speaker statistics.
        y : array-like, default=None
            Passed to the wrapped transformer's ``fit``.

        Returns
        -------
        self : object
        """
        self.fit_transform(X, y)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y=None):
        """Fit, then return the normalised training features.

        Parameters
        ----------
        X : DataFrame or array-like
            As in :meth:`fit`.
        y : array-like, default=None
            Passed to the wrapped transformer's ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features), or a sequence batch
            Sequences when the wrapped transformer returns sequences.
        """
        self.transformer_ = clone(self.transformer)
        features = self._features(self.transformer_.fit_transform(X, y))
        vectors = self._utterance_vectors(features)
        rows_by_speaker = self._rows_by_speaker(X)
        labels = None if y is None or not self.class_balanced else np.asarray(y)
        self.speaker_means_ = {
            speaker: _centre(vectors[rows], None if labels is None else labels[rows])
            for speaker, rows in rows_by_speaker.items()
            if len(rows) >= self.min_utterances
        }
        self.n_speakers_ = len(self.speaker_means_)
        means = list(self.speaker_means_.values())
        self.reference_mean_ = (
            np.mean(means, axis=0) if means else _centre(vectors, labels)
        ).astype(np.float32)
        offsets = self._offsets(vectors, rows_by_speaker, self.speaker_means_)
        return self._subtract(features, offsets)

    def transform(self, X):
        """Subtract each speaker's mean (or the reference mean).

        Parameters
        ----------
        X : DataFrame or array-like
            As in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples, n_features), or a sequence batch
            Sequences when the wrapped transformer returns sequences.
        """
        check_is_fitted(self)
        features = self._features(self.transformer_.transform(X))
        vectors = self._utterance_vectors(features)
        if vectors.shape[1] != len(self.reference_mean_):
            raise ValueError(
                f"the wrapped transformer gave {vectors.shape[1]} features, "
                f"but {len(self.reference_mean_)} were seen in fit."
            )
        offsets = self._offsets(vectors, self._rows_by_speaker(X))
        return self._subtract(features, offsets)

    def get_feature_names_out(self, input_features=None):
        """Names of the wrapped transformer's output features.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Passed to the wrapped transformer.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self)
        return self.transformer_.get_feature_names_out(input_features)

    @property
    def n_features_in_(self):
        """Input width seen by the wrapped transformer (when it defines one)."""
        return self.transformer_.n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = clone(self.transformer).__sklearn_tags__()
        tags.input_tags = inner.input_tags
        # Dense float32 out, whatever the wrapped transformer takes.
        tags.input_tags.sparse = False
        tags.transformer_tags.preserves_dtype = []
        return tags

    # -- helpers ------------------------------------------------------------
    @staticmethod
    def _features(values) -> np.ndarray:
        """The wrapped transformer's output: a float32 matrix or sequences."""
        if is_sequence_array(values):
            return check_sequence_array(values)
        if sp.issparse(values):
            raise TypeError(
                "SpeakerNormalizer does not support sparse input or features; "
                "dense data is required."
            )
        values = np.asarray(values, dtype=np.float32)
        if values.ndim != 2:
            raise ValueError(
                f"the wrapped transformer must return a 2-D array, got {values.ndim}-D."
            )
        return values

    @staticmethod
    def _utterance_vectors(features) -> np.ndarray:
        """One vector per utterance: the rows, or each sequence's mean frame."""
        if is_sequence_array(features):
            return pool_sequences(features, "mean").astype(np.float32)
        return features

    def _rows_by_speaker(self, X) -> dict:
        """``{speaker: row positions}`` of each named speaker in ``X``."""
        if self.speaker_column is None or not isinstance(X, pd.DataFrame):
            return {}
        if self.speaker_column not in X.columns:
            return {}
        speakers = X[self.speaker_column].to_numpy()
        named = pd.notna(speakers) & (pd.Series(speakers).astype(str) != "").to_numpy()
        return {
            # Plain Python names: the fitted model loads with the safe unpickler.
            speaker.item() if isinstance(speaker, np.generic) else speaker: (
                np.flatnonzero(named & (speakers == speaker))
            )
            for speaker in pd.unique(speakers[named])
        }

    def _offsets(self, vectors, rows_by_speaker: dict, centres=None) -> np.ndarray:
        """The mean subtracted from each utterance: its speaker's over this
        call (with enough recordings; ``centres`` gives it in ``fit``), else
        its speaker's from training, else the reference mean."""
        trained = self.speaker_means_
        offsets = np.broadcast_to(self.reference_mean_, vectors.shape).copy()
        for speaker, rows in rows_by_speaker.items():
            if centres is not None and speaker in centres:
                offsets[rows] = centres[speaker]
            elif len(rows) >= self.min_utterances:
                offsets[rows] = vectors[rows].mean(axis=0)
            elif speaker in trained:
                offsets[rows] = trained[speaker]
        return offsets

    @staticmethod
    def _subtract(features, offsets):
        """``features`` less one offset per utterance (from every frame)."""
        if is_sequence_array(features):
            pairs = zip(features, offsets, strict=True)
            return make_sequence_array(frames - offset for frames, offset in pairs)
        return (features - offsets).astype(np.float32, copy=False)


def _centre(vectors: np.ndarray, labels=None) -> np.ndarray:
    """The mean of ``vectors``; with ``labels``, the mean of the class means."""
    if labels is None:
        return vectors.mean(axis=0).astype(np.float32)
    classes = pd.unique(labels)
    means = [vectors[labels == c].mean(axis=0) for c in classes]
    return np.mean(means, axis=0).astype(np.float32)

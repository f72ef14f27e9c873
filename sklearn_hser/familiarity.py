"""How familiar a voice is: a conformal novelty score against the training speakers.

A speech model trained on some speakers is reliable on voices like theirs and
can be confidently wrong on others (another corpus, another language, a
synthetic voice). :class:`VoiceFamiliarity` measures, for each utterance, how
far its speech features lie from the training utterances (mean distance to
the ``n_neighbors`` nearest), and turns that distance into a familiarity in
(0, 1]: the share of training utterances that lie at least as far from the
*other* training speakers. The reference distances are taken leave one
speaker out, so a new speaker of the training kind scores like the training
speakers did, and the score is a conformal p-value: about 5% of the
utterances of such speakers fall below 0.05, whatever the features' scale.

:class:`~sklearn_hser.HierarchicalClassifier` uses it (``voice_familiarity``)
to let the words decide where the voice is unfamiliar.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["VoiceFamiliarity"]


class VoiceFamiliarity(BaseEstimator):
    """Conformal familiarity of utterances' speech features.

    Parameters
    ----------
    n_neighbors : int, default=10
        Training utterances whose mean distance measures how far an
        utterance lies from the training set.
    max_reference : int, default=4000
        Most training utterances kept as neighbours (a random subset beyond
        that), which bounds the size of a saved model and the cost of a query.
    random_state : int, RandomState instance or None, default=0
        Seed of that subset.

    Attributes
    ----------
    scaler_ : StandardScaler
        Standardises the features before distances are taken.
    reference_features_ : ndarray of shape (n_reference, n_features)
        The (standardised) training utterances kept as neighbours, float32.
    reference_distances_ : ndarray of shape (n_reference,)
        Each training utterance's mean distance to its nearest utterances of
        *other* speakers, sorted: the scale against which a new utterance's
        distance is ranked.
    n_features_in_ : int
        Number of features seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hser.familiarity import VoiceFamiliarity
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 4))
    >>> speakers = np.repeat(np.arange(6), 20)
    >>> fam = VoiceFamiliarity(n_neighbors=5).fit(X, groups=speakers)
    >>> bool(fam.score_samples(X[:5] + 20.0).max() < 0.05)
    True
    """

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "max_reference": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_neighbors=10, max_reference=4000, random_state=0):
        self.n_neighbors = n_neighbors
        self.max_reference = max_reference
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, groups):
        """Learn the training utterances and their leave-one-speaker-out distances.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Speech features of the training utterances.
        y : None
            Ignored.
        groups : array-like of shape (n_samples,)
            Speaker of each utterance; at least two speakers.

        Returns
        -------
        self : VoiceFamiliarity
        """
        X = validate_data(self, X, dtype=np.float64)
        groups = np.asarray(groups)
        if groups.shape != (len(X),):
            raise ValueError(
                f"groups needs one speaker per utterance ({len(X)}), got shape "
                f"{groups.shape}."
            )
        if len(np.unique(groups)) < 2:
            raise ValueError(
                "VoiceFamiliarity needs utterances of at least two speakers: "
                "its scale is how far one speaker lies from the others."
            )
        rng = check_random_state(self.random_state)
        if len(X) > self.max_reference:
            keep = np.sort(rng.choice(len(X), self.max_reference, replace=False))
            X, groups = X[keep], groups[keep]
        self.scaler_ = StandardScaler().fit(X)
        Z = self.scaler_.transform(X).astype(np.float32)
        distances = np.empty(len(Z))
        for rest, speaker in LeaveOneGroupOut().split(Z, groups=groups):
            distances[speaker] = self._mean_distance(Z[speaker], Z[rest])
        self.reference_distances_ = np.sort(distances)
        self.reference_features_ = Z
        return self

    def _mean_distance(self, queries, reference):
        """Each query's mean distance to its ``n_neighbors`` nearest references."""
        # Brute force: no tree object in the fitted state, which keeps it
        # loadable by the safe model loader.
        k = min(self.n_neighbors, len(reference))
        search = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(reference)
        return search.kneighbors(queries)[0].mean(axis=1)

    def score_samples(self, X):
        """Familiarity of each utterance: a conformal p-value in (0, 1].

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Speech features, as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``(1 + number of reference distances >= d) / (n_reference + 1)``
            for each utterance's mean distance ``d`` to its nearest training
            utterances: small where an utterance lies farther from the
            training speakers than a new speaker of their kind would.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        distance = self._mean_distance(
            self.scaler_.transform(X).astype(np.float32), self.reference_features_
        )
        reference = self.reference_distances_
        farther = len(reference) - np.searchsorted(reference, distance, side="left")
        return (1.0 + farther) / (len(reference) + 1.0)


def _fit_familiarity(X, X_speech):
    """A :class:`VoiceFamiliarity` of the training utterances' speech features."""
    if not (isinstance(X, pd.DataFrame) and "speaker" in X.columns):
        raise ValueError(
            "voice_familiarity needs the training speakers: X must be a "
            "DataFrame with a 'speaker' column."
        )
    try:
        features = np.asarray(X_speech, dtype=np.float64)
    except (TypeError, ValueError):
        features = None
    if features is None or features.ndim != 2:
        raise ValueError(
            "voice_familiarity needs a speech_features step that outputs one "
            "numeric vector per utterance."
        )
    return VoiceFamiliarity().fit(features, groups=X["speaker"].astype(str))

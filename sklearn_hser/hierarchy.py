"""The hierarchical speech + text classifier of the paper (Algorithm 1)."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.dummy import DummyClassifier
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_is_fitted,
    check_memory,
    column_or_1d,
    indexable,
)

from ._algorithm import apply_threshold_rule
from ._fingerprint import data_fingerprint
from ._labels import EMOTIONAL, NEUTRAL

#: Branch names reported by :meth:`HierarchicalClassifier.route`.
EMOTION_BRANCH = "speech_emotion"
TEXT_BRANCH = "text"


def _fit_clone(estimator, X, y, data_key=None):
    """Fit a clone; module level so that ``joblib.Memory`` can cache it.

    Under a memory, the cache key is ``(estimator, data_key)``: ``X`` and ``y``
    are left out of joblib's hashing and stand in as ``data_key``, a cheaper
    digest of their content.
    """
    return clone(estimator).fit(X, y)


def _cached_fit(memory):
    """A ``fit(estimator, X, y)`` that reads and fills ``memory``."""
    memory = check_memory(memory)
    if memory.location is None:
        return _fit_clone
    cached = memory.cache(_fit_clone, ignore=["X", "y"])

    def fit(estimator, X, y):
        key = (data_fingerprint(X), data_fingerprint(np.asarray(y)))
        return cached(estimator, X, y, data_key=key)

    return fit


def _fit_or_constant(fit, estimator, X, y):
    """Fit ``estimator``, or a constant predictor when ``y`` has one class.

    A level of the hierarchy can see a single class (e.g. one emotional
    class, or no neutral sample); a classifier cannot be trained on that,
    and the level's answer is then certain anyway.
    """
    if len(np.unique(y)) > 1:
        return fit(estimator, X, y)
    return DummyClassifier(strategy="most_frequent").fit(X, y)


def _all_have(method):
    def check(self):
        return all(
            hasattr(est, method)
            for est in (self.speech_gate, self.speech_emotion, self.text)
        )

    return check


class HierarchicalClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Two-level speech emotion classifier with text re-classification.

    The method of Alqurashi et al. (IJCNN 2024), Algorithm 1:

    * **level 1**, ``speech_gate``: a speech model trained on all samples with
      the labels collapsed to *neutral* vs *emotional* routes each sample;
    * **level 2, emotional route**, ``speech_emotion``: a speech model trained
      on the emotional samples only picks the emotion (e.g. angry, happy,
      sad);
    * **level 2, neutral route**, ``text``: a text model trained on all
      samples and all classes re-classifies the samples the gate called
      neutral. With ``threshold`` set, such a sample stays neutral when the
      text model's probability of neutral is at least ``threshold``, and
      takes the text model's most probable class otherwise.

    Errors of the gate propagate: a neutral sample routed to the emotional
    branch is necessarily misclassified, as in the paper (no oracle routing).

    Parameters
    ----------
    speech_gate : estimator
        Classifier for neutral vs emotional. It sees ``X`` and the labels
        ``"neutral"`` / ``"emotional"``. Typically a pipeline that picks the
        audio column, e.g. ``make_pipeline(MFCC(column="audio"), ...)``.
    speech_emotion : estimator
        Classifier over the emotional classes, fitted on the emotional
        samples of ``X`` only. When the training labels hold a single
        emotional class it is not fitted; that class is predicted instead
        (likewise the gate, when ``y`` holds no neutral sample: a warning
        says so and every sample takes the emotional route).
    text : estimator
        Classifier over all classes, typically a pipeline over the transcript
        column. Needs ``predict_proba`` when ``threshold`` is set.
    threshold : float in [0, 1] or None, default=None
        Confidence threshold of the modality-consistency rule; ``None`` gives
        the plain proposed system (text argmax). Used only at prediction
        time: changing it never requires a refit.
    neutral_label : str or int, default="neutral"
        The label of the neutral class in ``y``.
    memory : str, joblib.Memory or None, default=None
        Cache of the sub-model fits, as in :class:`sklearn.pipeline.Pipeline`.
        With a cache, a ``GridSearchCV`` over ``threshold`` (or over the
        parameters of one sub-model) fits each unchanged sub-model once per
        fold instead of once per candidate.

    Attributes
    ----------
    speech_gate_ : estimator
        The fitted level-1 model.
    speech_emotion_ : estimator
        The fitted level-2 speech model (a constant ``DummyClassifier`` when
        the training data hold a single emotional class).
    text_ : estimator
        The fitted text model.
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    n_features_in_ : int
        Number of features seen by the gate, when it defines it.

    See Also
    --------
    sklearn_hser.baselines.SpeechOnlyClassifier : The flat speech baseline.
    sklearn_hser.baselines.LateFusionClassifier : Flat speech + text fusion.

    Notes
    -----
    ``predict_proba`` returns, for each sample, the probabilities of the
    model that decides it: ``speech_emotion_`` on the emotional route (zero
    for neutral), ``text_`` on the neutral route. ``predict`` applies the
    threshold rule to those probabilities, as
    :class:`sklearn.model_selection.FixedThresholdClassifier` does: without a
    threshold, ``predict`` is the argmax of ``predict_proba``; with one, it
    differs exactly for the samples that :meth:`route` marks
    ``kept_neutral``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_hser import HierarchicalClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["neutral", "happy", "sad", "angry"], 25)
    >>> classes = ["neutral", "happy", "sad", "angry"]
    >>> X = rng.normal(size=(100, 4)) + (y[:, None] == classes)
    >>> clf = HierarchicalClassifier(
    ...     LogisticRegression(), LogisticRegression(), LogisticRegression(),
    ...     threshold=0.3,
    ... ).fit(X, y)
    >>> clf.classes_.tolist()
    ['angry', 'happy', 'neutral', 'sad']
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "speech_gate": [HasMethods(["fit", "predict"])],
        "speech_emotion": [HasMethods(["fit", "predict"])],
        "text": [HasMethods(["fit", "predict"])],
        "threshold": [Interval(Real, 0, 1, closed="both"), None],
        "neutral_label": [str, int, np.integer],
        "memory": [None, str, HasMethods(["cache"])],
    }

    def __init__(
        self,
        speech_gate,
        speech_emotion,
        text,
        *,
        threshold=None,
        neutral_label=NEUTRAL,
        memory=None,
    ):
        self.speech_gate = speech_gate
        self.speech_emotion = speech_emotion
        self.text = text
        self.threshold = threshold
        self.neutral_label = neutral_label
        self.memory = memory

    # -- fitting ---------------------------------------------------------
    def fit(self, X, y):
        """Fit the three sub-models.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            Anything the sub-estimators accept and that
            :func:`sklearn.utils._safe_indexing` can index by rows (a corpus
            DataFrame with ``audio`` and ``text`` columns, a feature matrix).
        y : array-like of shape (n_samples,)
            Class labels; must contain ``neutral_label`` and at least one
            other class.

        Returns
        -------
        self : object
        """
        self._validate_params()
        self._check_text_method()
        X = _indexable(X)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if len(y) != _num_samples(X):
            raise ValueError(
                f"X has {_num_samples(X)} samples but y has {len(y)} labels."
            )
        is_neutral = y == self.neutral_label
        if not is_neutral.any():
            warnings.warn(
                f"neutral_label={self.neutral_label!r} does not occur in y "
                f"(classes: {np.unique(y).tolist()[:10]}); every sample will be "
                "routed to the emotional branch. Set neutral_label to the label "
                "of the neutral class.",
                UserWarning,
                stacklevel=2,
            )
        elif is_neutral.all():
            raise ValueError(
                "y holds only the neutral class; at least one other class is needed."
            )
        self.classes_ = np.unique(y)
        fit = _cached_fit(self.memory)

        gate_y = np.where(is_neutral, NEUTRAL, EMOTIONAL)
        self.speech_gate_ = _fit_or_constant(fit, self.speech_gate, X, gate_y)
        emotional = np.flatnonzero(~is_neutral)
        self.speech_emotion_ = _fit_or_constant(
            fit, self.speech_emotion, _safe_indexing(X, emotional), y[emotional]
        )
        self.text_ = fit(self.text, X, y)
        unknown = set(self.text_.classes_) - set(self.classes_)
        if unknown:  # pragma: no cover - only with a text model that invents labels
            raise ValueError(f"The text model predicts unknown classes {unknown}.")
        return self

    def _check_text_method(self):
        if self.threshold is not None and not hasattr(self.text, "predict_proba"):
            raise ValueError(
                "A threshold needs the text model's probabilities, but "
                f"{type(self.text).__name__} has no predict_proba."
            )

    @property
    def n_features_in_(self):
        """Number of features seen by the gate (when it defines it)."""
        return self.speech_gate_.n_features_in_

    @property
    def feature_names_in_(self):
        """Feature names seen by the gate (when it defines them)."""
        return self.speech_gate_.feature_names_in_

    # -- prediction ------------------------------------------------------
    def _run_branches(self, X, *, with_proba: bool) -> dict:
        """Run each sub-model once, on the samples routed to it."""
        check_is_fitted(self)
        self._check_text_method()
        X = _indexable(X)
        n = _num_samples(X)
        gate = np.asarray(self.speech_gate_.predict(X))
        out = {
            "n": n,
            "gate": gate,
            "to_text": np.flatnonzero(gate == NEUTRAL),
            "to_emotion": np.flatnonzero(gate != NEUTRAL),
            "emotion_pred": None,
            "emotion_proba": None,
            "text_proba": None,
            "text_pred": None,
        }
        if len(out["to_emotion"]):
            X_emotion = _safe_indexing(X, out["to_emotion"])
            out["emotion_pred"] = self.speech_emotion_.predict(X_emotion)
            if with_proba:
                out["emotion_proba"] = self.speech_emotion_.predict_proba(X_emotion)
        if len(out["to_text"]):
            X_text = _safe_indexing(X, out["to_text"])
            if hasattr(self.text_, "predict_proba"):
                out["text_proba"] = self.text_.predict_proba(X_text)
            else:
                out["text_pred"] = np.asarray(self.text_.predict(X_text))
        return out

    def _apply_rule(self, branches: dict, threshold) -> dict:
        """Algorithm 1 on the branch outputs, for one threshold."""
        n, to_text, to_emotion = (
            branches["n"],
            branches["to_text"],
            branches["to_emotion"],
        )
        final = np.empty(n, dtype=self.classes_.dtype)
        text_pred = np.full(n, None, dtype=object)
        neutral_proba = np.full(n, np.nan)
        kept_neutral = np.zeros(n, dtype=bool)
        if len(to_emotion):
            final[to_emotion] = branches["emotion_pred"]
        if len(to_text):
            text_proba = branches["text_proba"]
            if text_proba is not None:
                text_classes = self.text_.classes_
                argmax = text_classes[np.argmax(text_proba, axis=1)]
                decided = apply_threshold_rule(
                    text_proba, text_classes, threshold, self.neutral_label
                )
                column = list(text_classes).index(self.neutral_label)
                neutral_proba[to_text] = text_proba[:, column]
            else:
                argmax = decided = branches["text_pred"]
            final[to_text] = decided
            text_pred[to_text] = argmax
            kept_neutral[to_text] = np.asarray(decided != argmax)
        return {
            "gate": branches["gate"],
            "final": final,
            "text_pred": text_pred,
            "neutral_proba": neutral_proba,
            "kept_neutral": kept_neutral,
        }

    def _columns(self, labels):
        return np.searchsorted(self.classes_, labels)

    def predict(self, X):
        """Predict class labels with Algorithm 1.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            Samples, in the form used in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        branches = self._run_branches(X, with_proba=False)
        return self._apply_rule(branches, self.threshold)["final"]

    def predict_for_thresholds(self, X, thresholds):
        """Predictions for several thresholds from one run of the sub-models.

        What a threshold search needs: the sub-models run once, and
        Algorithm 1 is applied once per threshold, as
        :class:`sklearn.model_selection.TunedThresholdClassifierCV` scores
        every cut-off from the same predictions.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            Samples, in the form used in ``fit``.
        thresholds : iterable of float or None
            Thresholds to apply (``None``: plain text argmax).

        Returns
        -------
        dict
            ``{threshold: ndarray of shape (n_samples,)}``, in the given order.
        """
        branches = self._run_branches(X, with_proba=False)
        return {t: self._apply_rule(branches, t)["final"] for t in thresholds}

    @available_if(_all_have("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the model that decides each sample.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            Samples, in the form used in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``. See the Notes of the class docstring
            for how they relate to ``predict`` when a threshold is set.
        """
        branches = self._run_branches(X, with_proba=True)
        proba = np.zeros((branches["n"], len(self.classes_)))
        if len(branches["to_emotion"]):
            columns = self._columns(self.speech_emotion_.classes_)
            proba[np.ix_(branches["to_emotion"], columns)] = branches["emotion_proba"]
        if len(branches["to_text"]):
            columns = self._columns(self.text_.classes_)
            proba[np.ix_(branches["to_text"], columns)] = branches["text_proba"]
        return proba

    def route(self, X):
        """How each sample was decided.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            Samples, in the form used in ``fit``.

        Returns
        -------
        pandas.DataFrame
            One row per sample, with the columns ``speech_gate`` (the level-1
            decision, ``"neutral"`` or ``"emotional"``), ``branch``
            (``"speech_emotion"`` or ``"text"``), ``text_neutral_proba``
            (the text model's P(neutral), NaN on the emotional route),
            ``text_prediction`` (the text argmax, missing on the emotional
            route), ``kept_neutral`` (True where the threshold kept neutral a
            sample whose text argmax is emotional) and ``prediction``.
        """
        decision = self._apply_rule(
            self._run_branches(X, with_proba=False), self.threshold
        )
        return pd.DataFrame(
            {
                "speech_gate": decision["gate"],
                "branch": np.where(
                    decision["gate"] == NEUTRAL, TEXT_BRANCH, EMOTION_BRANCH
                ),
                "text_neutral_proba": decision["neutral_proba"],
                "text_prediction": decision["text_pred"],
                "kept_neutral": decision["kept_neutral"],
                "prediction": decision["final"],
            }
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        subs = (self.speech_gate, self.speech_emotion, self.text)
        # The meta-estimator only slices rows: it takes what all of its
        # sub-models take.
        tags.input_tags.sparse = all(get_tags(est).input_tags.sparse for est in subs)
        tags.input_tags.allow_nan = all(
            get_tags(est).input_tags.allow_nan for est in subs
        )
        return tags


def _indexable(X):
    """Make ``X`` sliceable by rows (sparse -> CSR, array-likes -> ndarray)."""
    return indexable(X)[0]


def _num_samples(X) -> int:
    from sklearn.utils.validation import _num_samples as count

    return count(X)

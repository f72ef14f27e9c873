"""Flat baselines to compare the hierarchy against, with the same interface.

* :class:`SpeechOnlyClassifier`: the paper's *S* systems, one speech model
  over all classes.
* :class:`LateFusionClassifier`: a flat speech + text system that averages the
  two models' class probabilities, the usual multimodal baseline.

Both take unfitted sub-estimators, fit clones, and expose ``classes_``,
``predict``, ``predict_proba`` and ``route`` like
:class:`~sklearn_hser.HierarchicalClassifier`, so experiment code can swap
them in without special cases.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _num_samples,
    check_is_fitted,
    column_or_1d,
    indexable,
)

from ._routing import fit_router, routed_fit_params


def _models_have_proba(owner) -> bool:
    return all(hasattr(getattr(owner, name), "predict_proba") for name in owner._models)


class _FlatClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """What the baselines share: clones of the sub-estimators named in
    ``_models``, all fitted on all samples; subclasses define ``_predict`` and
    ``_predict_proba`` over validated samples, and ``_branch``."""

    _models: tuple = ()
    _branch: str = ""

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit a clone of each sub-estimator on all samples.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            Training samples (carrying every modality the models read).
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, passed to every sub-estimator (with metadata
            routing enabled, to those that request them).
        **fit_params : dict
            Other metadata, only with metadata routing enabled.

        Returns
        -------
        self : object
        """
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        X = indexable(X)[0]
        names = list(self._models)
        params = routed_fit_params(self, X, sample_weight, fit_params, names)
        fitted = [clone(getattr(self, n)).fit(X, y, **params[n]) for n in names]
        for name, model in zip(names, fitted):
            setattr(self, f"{name}_", model)
        classes = [model.classes_ for model in fitted]
        self.classes_ = (
            classes[0] if len(classes) == 1 else np.unique(np.concatenate(classes))
        )
        return self

    def get_metadata_routing(self):
        """Routing of ``fit`` metadata to the sub-estimators.

        Returns
        -------
        routing : MetadataRouter
        """
        return fit_router(self, list(self._models))

    @property
    def n_features_in_(self):
        """Number of features seen by the speech model (when it defines it)."""
        return self.speech_.n_features_in_

    def predict(self, X):
        """Predict class labels of the samples ``X``."""
        check_is_fitted(self)
        return self._predict(indexable(X)[0])

    @available_if(_models_have_proba)
    def predict_proba(self, X):
        """Class probabilities of the samples ``X``, columns as ``classes_``."""
        check_is_fitted(self)
        return self._predict_proba(indexable(X)[0])

    def route(self, X):
        """Every sample is decided by the same model, named in ``branch``."""
        return pd.DataFrame({"branch": self._branch, "prediction": self.predict(X)})

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = all(
            get_tags(getattr(self, name)).input_tags.sparse for name in self._models
        )
        return tags


class SpeechOnlyClassifier(_FlatClassifier):
    """A flat speech classifier over all classes (the paper's *S* systems).

    Parameters
    ----------
    speech : estimator
        Classifier over all classes, typically a pipeline over the audio
        column.

    Attributes
    ----------
    speech_ : estimator
        The fitted clone.
    classes_ : ndarray of shape (n_classes,)
        The class labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_hser.baselines import SpeechOnlyClassifier
    >>> X = np.eye(4).repeat(5, axis=0)
    >>> y = np.repeat(["neutral", "happy", "sad", "angry"], 5)
    >>> SpeechOnlyClassifier(LogisticRegression()).fit(X, y).predict(X[:2]).tolist()
    ['neutral', 'neutral']
    """

    _parameter_constraints: dict = {"speech": [HasMethods(["fit", "predict"])]}
    _models = ("speech",)
    _branch = "speech"

    def __init__(self, speech):
        self.speech = speech

    def _predict(self, X):
        return self.speech_.predict(X)

    def _predict_proba(self, X):
        return self.speech_.predict_proba(X)


class LateFusionClassifier(_FlatClassifier):
    """Flat speech + text classifier: a weighted mean of class probabilities.

    Parameters
    ----------
    speech : estimator
        Classifier over all classes with ``predict_proba`` (audio column).
    text : estimator
        Classifier over all classes with ``predict_proba`` (text column).
    speech_weight : float in [0, 1], default=0.5
        Weight of the speech probabilities; the text model gets
        ``1 - speech_weight``. Tunable with ``GridSearchCV`` without
        refitting anything but the two models.

    Attributes
    ----------
    speech_ : estimator
        The fitted speech model.
    text_ : estimator
        The fitted text model.
    classes_ : ndarray of shape (n_classes,)
        Union of the two models' classes, sorted.

    Examples
    --------
    With ``speech_weight=1`` the text model is not heard:

    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_hser.baselines import LateFusionClassifier
    >>> X = np.eye(4).repeat(5, axis=0)
    >>> y = np.repeat(["neutral", "happy", "sad", "angry"], 5)
    >>> speech, text = LogisticRegression(), DummyClassifier()
    >>> fusion = LateFusionClassifier(speech, text, speech_weight=1.0)
    >>> speech.fit(X, y)
    LogisticRegression()
    >>> bool((fusion.fit(X, y).predict_proba(X) == speech.predict_proba(X)).all())
    True
    """

    _parameter_constraints: dict = {
        "speech": [HasMethods(["fit", "predict_proba"])],
        "text": [HasMethods(["fit", "predict_proba"])],
        "speech_weight": [Interval(Real, 0, 1, closed="both")],
    }
    _models = ("speech", "text")
    _branch = "fusion"

    def __init__(self, speech, text, *, speech_weight=0.5):
        self.speech = speech
        self.text = text
        self.speech_weight = speech_weight

    def _aligned(self, model, X):
        proba = np.zeros((_num_samples(X), len(self.classes_)))
        proba[:, np.searchsorted(self.classes_, model.classes_)] = model.predict_proba(
            X
        )
        return proba

    def _predict_proba(self, X):
        """The weighted mean of the two models' probabilities."""
        w = self.speech_weight
        return w * self._aligned(self.speech_, X) + (1 - w) * self._aligned(
            self.text_, X
        )

    def _predict(self, X):
        return self.classes_[np.argmax(self._predict_proba(X), axis=1)]

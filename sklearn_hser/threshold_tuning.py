"""Tuning the hierarchy's threshold with one fit per fold.

The threshold of Algorithm 1 only acts at prediction time. A
``GridSearchCV`` over ``threshold`` still refits (or, with ``memory=``,
reloads) every sub-model once per candidate; :class:`TunedThresholdHierarchyCV`
does what :class:`sklearn.model_selection.TunedThresholdClassifierCV` does for
binary cut-offs: it fits the hierarchy once per fold, scores every threshold
from the same sub-model outputs
(:meth:`~sklearn_hser.HierarchicalClassifier.predict_for_thresholds`), and
refits once on all the data with the best threshold.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d, indexable

_METRICS = {
    "ua": "unweighted_accuracy",
    "unweighted_accuracy": "unweighted_accuracy",
    "wa": "weighted_accuracy",
    "weighted_accuracy": "weighted_accuracy",
}


def _metric(scoring):
    if callable(scoring):
        return scoring
    from . import metrics

    if scoring not in _METRICS:
        raise ValueError(
            f"scoring must be a callable score(y_true, y_pred) or one of "
            f"{sorted(_METRICS)}; got {scoring!r}."
        )
    return getattr(metrics, _METRICS[scoring])


def _fold_scores(estimator, X, y, train, test, thresholds, metric):
    fitted = clone(estimator).fit(_safe_indexing(X, train), y[train])
    predictions = fitted.predict_for_thresholds(_safe_indexing(X, test), thresholds)
    return [metric(y[test], predictions[t]) for t in thresholds]


class TunedThresholdHierarchyCV(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Pick the hierarchy's threshold by cross-validation, one fit per fold.

    Parameters
    ----------
    estimator : HierarchicalClassifier
        The hierarchy to tune (its own ``threshold`` is ignored).
    thresholds : sequence of float or None, default=(0.0, 0.25, 0.3, 0.35, 0.4, None)
        Candidates; ``None`` is the plain text argmax. Ties in the mean score
        go to the candidate listed first. The default adds ``0.0`` to the
        paper's four: at 0 the text never overrides speech's *neutral*, so the
        search can keep the speech decision when transcripts carry no emotion
        (listed first, it also wins ties).
    cv : int, cross-validation generator or iterable, default=5
        As in ``GridSearchCV``, e.g.
        :class:`~sklearn_hser.datasets.LeaveOneSessionOut`.
    scoring : {"ua", "wa"} or callable, default="ua"
        ``score(y_true, y_pred)``, higher is better.
    refit : bool, default=True
        Refit the hierarchy on all data with the best threshold.
    n_jobs : int, default=None
        Folds fitted in parallel.

    Attributes
    ----------
    best_threshold_ : float or None
        The threshold with the best mean score.
    best_score_ : float
        Its mean score over the folds.
    cv_scores_ : ndarray of shape (n_folds, n_thresholds)
        Score of every threshold on every fold.
    estimator_ : HierarchicalClassifier
        Refitted on all data with ``threshold=best_threshold_`` (when
        ``refit``).
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    See Also
    --------
    sklearn.model_selection.TunedThresholdClassifierCV : The same idea for
        binary classifiers.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_hser import HierarchicalClassifier
    >>> from sklearn_hser.threshold_tuning import TunedThresholdHierarchyCV
    >>> rng = np.random.default_rng(0)
    >>> y = np.tile(["neutral", "happy", "sad", "angry"], 25)
    >>> X = rng.normal(size=(100, 3)) + (y[:, None] == ["happy", "sad", "angry"])
    >>> lr = LogisticRegression()
    >>> tuner = TunedThresholdHierarchyCV(HierarchicalClassifier(lr, lr, lr), cv=3)
    >>> tuner.fit(X, y).cv_scores_.shape
    (3, 6)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_for_thresholds"])],
        "thresholds": ["array-like", list, tuple],
        "cv": ["cv_object"],
        "scoring": [str, callable],
        "refit": ["boolean"],
        "n_jobs": [None, int],
    }

    def __init__(
        self,
        estimator,
        *,
        thresholds=(0.0, 0.25, 0.3, 0.35, 0.4, None),
        cv=5,
        scoring="ua",
        refit=True,
        n_jobs=None,
    ):
        self.estimator = estimator
        self.thresholds = thresholds
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.n_jobs = n_jobs

    def fit(self, X, y, groups=None):
        """Score every threshold across the folds, then refit the best.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            Training samples.
        y : array-like of shape (n_samples,)
            Class labels.
        groups : array-like of shape (n_samples,), default=None
            Group labels for group-aware splitters.

        Returns
        -------
        self : object
        """
        self._validate_params()
        thresholds = list(self.thresholds)
        if not thresholds:
            raise ValueError("thresholds is empty.")
        for t in thresholds:
            if t is not None and not (isinstance(t, Real) and 0 <= t <= 1):
                raise ValueError(f"thresholds must be None or in [0, 1]; got {t!r}.")
        metric = _metric(self.scoring)
        X = indexable(X)[0]
        y = column_or_1d(y)
        cv = check_cv(self.cv, y, classifier=True)
        scores = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_scores)(self.estimator, X, y, train, test, thresholds, metric)
            for train, test in cv.split(X, y, groups)
        )
        self.cv_scores_ = np.asarray(scores, dtype=float)
        best = int(np.argmax(self.cv_scores_.mean(axis=0)))
        self.best_threshold_ = thresholds[best]
        self.best_score_ = float(self.cv_scores_.mean(axis=0)[best])
        if self.refit:
            self.estimator_ = clone(self.estimator).set_params(
                threshold=self.best_threshold_
            )
            self.estimator_.fit(X, y)
            self.classes_ = self.estimator_.classes_
        else:
            self.classes_ = np.unique(y)
        return self

    def _fitted(self):
        check_is_fitted(self, "estimator_")
        return self.estimator_

    def predict(self, X):
        """Predict with the refitted hierarchy at the best threshold.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._fitted().predict(X)

    @available_if(lambda self: hasattr(self.estimator, "predict_proba"))
    def predict_proba(self, X):
        """Routed probabilities of the refitted hierarchy.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._fitted().predict_proba(X)

    def route(self, X):
        """How each sample was decided (see ``HierarchicalClassifier.route``).

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            Samples.

        Returns
        -------
        pandas.DataFrame
        """
        return self._fitted().route(X)

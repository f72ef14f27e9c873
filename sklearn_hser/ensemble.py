"""Seed averaging: one classifier trained from several random seeds.

A neural network trained on a few hundred utterances lands somewhere
different with every seed (initial weights, batch order, dropout masks).
Averaging the class probabilities of a few such networks removes most of
that variance, which is why it is a usual way to report and deploy small
speech-emotion networks. :class:`SeedEnsembleClassifier` does this for any
classifier with a ``random_state`` parameter and ``predict_proba``. What it
changes in the study is measured in ``docs/guide/accuracy.md`` ("Averaging
networks from several seeds").
"""

from __future__ import annotations

import logging
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, column_or_1d, indexable

from ._config import progress_bar
from ._routing import fit_router, routed_fit_params

__all__ = ["SeedEnsembleClassifier"]


class SeedEnsembleClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Mean class probabilities of a classifier fitted from several seeds.

    Fits ``n_seeds`` clones of ``estimator`` on the same data, each with its
    own ``random_state``, and predicts the class of highest mean probability.
    It is a :class:`~sklearn.ensemble.BaggingClassifier` without the
    resampling, that also accepts what ``estimator`` accepts (e.g. the frame
    sequences of :class:`~sklearn_hser.models.LSTMClassifier`), and whose
    members differ by seed only.

    Parameters
    ----------
    estimator : classifier
        Has a ``random_state`` parameter and ``predict_proba``, e.g.
        :class:`~sklearn_hser.models.LSTMClassifier`. Cloned, never fitted.
    n_seeds : int, default=5
        Number of members. Training takes ``n_seeds`` times the work of one
        member.
    random_state : int, RandomState instance or None, default=None
        The members' seeds: an int ``r`` gives ``r, r + 1, ...``, so that
        ``n_seeds=1`` fits exactly ``estimator`` with ``random_state=r``;
        otherwise consecutive seeds from a random start.
    n_jobs : int or None, default=None
        Worker processes that fit the members (joblib), each member in one
        process; ``None`` means 1 unless in a :func:`joblib.parallel_config`
        context, ``-1`` all cores. The members and their predictions do not
        depend on it, beyond float32 rounding where torch's thread count
        differs (pin it with the estimator's ``torch_threads``, as in
        :class:`~sklearn_hser.models.LSTMClassifier`). Worth it for small
        networks (a few hundred utterances of pooled features), whose
        training is mostly Python overhead that one core runs. Each worker
        gives torch ``cpu_count // n_jobs`` threads (joblib's default for its
        workers) unless the estimator sets its own. A large network that
        already keeps every core busy gains nothing. Workers start once per
        process and are reused, at the cost of importing torch in each.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members, in the order of ``seeds_``.
    seeds_ : ndarray of shape (n_seeds,)
        The ``random_state`` each member was fitted with.
    classes_ : ndarray of shape (n_classes,)
        The class labels.

    See Also
    --------
    sklearn.ensemble.BaggingClassifier : members trained on resampled data.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sklearn_hser.ensemble import SeedEnsembleClassifier
    >>> X, y = make_classification(n_samples=60, n_classes=4, n_informative=4,
    ...                            random_state=0)
    >>> member = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=2000)
    >>> clf = SeedEnsembleClassifier(member, n_seeds=3, random_state=0).fit(X, y)
    >>> clf.seeds_.tolist()
    [0, 1, 2]
    >>> clf.predict_proba(X[:2]).shape
    (2, 4)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "n_seeds": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, estimator, n_seeds=5, random_state=None, n_jobs=None):
        self.estimator = estimator
        self.n_seeds = n_seeds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _member_seeds(self) -> np.ndarray:
        if isinstance(self.random_state, Integral):
            start = int(self.random_state)
        else:
            limit = np.iinfo(np.int32).max - self.n_seeds
            start = int(check_random_state(self.random_state).randint(limit))
        return start + np.arange(self.n_seeds)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit ``n_seeds`` clones of ``estimator``, one per seed.

        Parameters
        ----------
        X : array-like, DataFrame or sequence batch
            Training samples, in whatever form ``estimator`` accepts.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, passed to every member (with metadata routing
            enabled, only when ``estimator`` requests them).
        **fit_params : dict
            Other metadata, only with metadata routing enabled.

        Returns
        -------
        self : object
        """
        if "random_state" not in self.estimator.get_params(deep=False):
            raise ValueError(
                f"{type(self.estimator).__name__} has no random_state parameter, "
                "so every member would be the same model; give the ensemble an "
                "estimator that takes a seed."
            )
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        X = indexable(X)[0]
        params = routed_fit_params(self, X, sample_weight, fit_params, ["estimator"])
        self.seeds_ = self._member_seeds()
        members = [
            clone(self.estimator).set_params(random_state=int(seed))
            for seed in self.seeds_
        ]
        n_jobs = min(effective_n_jobs(self.n_jobs), len(members))
        if n_jobs == 1:
            self.estimators_ = [m.fit(X, y, **params["estimator"]) for m in members]
        else:
            fitted = Parallel(n_jobs=n_jobs, return_as="generator")(
                delayed(_fit_member)(m, X, y, params["estimator"]) for m in members
            )
            # The workers' own progress is not seen here: report the members.
            description = f"{type(self).__name__} ({n_jobs} processes)"
            with progress_bar(len(members), description, level=logging.DEBUG) as bar:
                self.estimators_ = []
                for member in fitted:
                    self.estimators_.append(member)
                    bar.update()
        self.classes_ = self.estimators_[0].classes_
        return self

    def get_metadata_routing(self):
        """Routing of ``fit`` metadata to ``estimator``.

        Returns
        -------
        routing : MetadataRouter
        """
        return fit_router(self, ["estimator"])

    @property
    def n_features_in_(self):
        """Number of features seen by the members (when they define it)."""
        return self.estimators_[0].n_features_in_

    def predict_proba(self, X):
        """The members' mean class probabilities, columns as ``classes_``.

        Parameters
        ----------
        X : array-like, DataFrame or sequence batch
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = indexable(X)[0]
        return np.mean([member.predict_proba(X) for member in self.estimators_], axis=0)

    def predict(self, X):
        """The class of highest mean probability.

        Parameters
        ----------
        X
            As in :meth:`predict_proba`.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)  # checks that the ensemble is fitted
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = inner.input_tags
        tags.target_tags.required = True
        return tags


def _fit_member(member, X, y, params):
    """Fit one member (in a worker process); module level, so it pickles."""
    return member.fit(X, y, **params)

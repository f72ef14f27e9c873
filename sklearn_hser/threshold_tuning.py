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

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils._param_validation import HasMethods, StrOptions, validate_params
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_method_params,
    check_is_fitted,
    column_or_1d,
    indexable,
)

from ._algorithm import check_threshold
from .hierarchy import GATE_OPTIONS
from .metrics import SCORING_NAMES
from .selection import SELECTIONS, select_candidate_over_folds

#: Thresholds tried by the paper.
PAPER_THRESHOLDS = (0.25, 0.30, 0.35, 0.40)

#: Thresholds the package searches by default: the paper's, and 0.0, at which
#: the text never overrides speech's *neutral* (the hierarchy then falls back
#: to its two speech models), so that a search can keep speech's decision when
#: the transcripts carry no emotion. Listed first: on a tie the search keeps
#: the choice that trusts speech.
DEFAULT_THRESHOLDS = (0.0, *PAPER_THRESHOLDS)

#: The candidates a search scores by default: :data:`DEFAULT_THRESHOLDS`, then
#: ``None`` (the plain text argmax).
SEARCH_THRESHOLDS = (*DEFAULT_THRESHOLDS, None)

#: Which gate options a joint search scores at threshold 0 (``speech_only_gates``).
SPEECH_ONLY_GATES = ("reference", "every_gate")


@validate_params(
    {
        "gate_options": [list, tuple],
        "thresholds": [list, tuple],
        "speech_only_gates": [StrOptions(set(SPEECH_ONLY_GATES))],
    },
    prefer_skip_nested_validation=True,
)
def search_candidates(gate_options, thresholds, *, speech_only_gates="reference"):
    """The ``(gate_labels, threshold)`` pairs a joint search scores, in order.

    Gate options outer, thresholds inner, each in the given order (the first
    pair is the reference of the one-standard-error rule). At threshold 0 the
    text never overrides speech: the hierarchy is then a speech-only
    classifier, the gate plus the emotion model. With
    ``speech_only_gates="reference"`` only the first gate option is scored
    there, so that a search that finds the text useless keeps that gate's
    speech decisions, with the default options those of the flat speech
    model. The other gates then compete only with the text in use, which is
    what they are for; whether a two-stage speech model beats a flat one on
    new speakers is a separate question, which held-out speakers of the same
    corpus answered inconsistently (``docs/guide/accuracy.md``).

    Parameters
    ----------
    gate_options : list or tuple of {"flat", "all", "collapsed"}
        The gate options, the reference first; repeats are dropped.
    thresholds : list or tuple of float or None
        The thresholds, as ``TunedThresholdHierarchyCV``'s.
    speech_only_gates : {"reference", "every_gate"}, default="reference"
        ``"every_gate"`` scores every gate option at threshold 0 too.

    Returns
    -------
    list of tuple

    Examples
    --------
    >>> from sklearn_hser.threshold_tuning import search_candidates
    >>> search_candidates(["flat", "collapsed"], [0.0, 0.3])
    [('flat', 0.0), ('flat', 0.3), ('collapsed', 0.3)]
    >>> search_candidates(["flat", "all"], [0.0], speech_only_gates="every_gate")
    [('flat', 0.0), ('all', 0.0)]
    """
    options = list(dict.fromkeys(gate_options))
    if not options or any(g not in GATE_OPTIONS for g in options):
        raise ValueError(
            "gate_labels options must be a non-empty sequence of 'flat' / "
            f"'all' / 'collapsed'; got {gate_options!r}."
        )
    return [
        (gate, t)
        for gate in options
        for t in thresholds
        if speech_only_gates == "every_gate"
        or gate == options[0]
        or t is None
        or t != 0
    ]


def _fold_scores(estimator, X, y, train, test, candidates, metric, fit_params):
    """Fit on ``train`` (once per gate option); score every candidate on ``test``.

    ``candidates`` are ``(gate_labels, threshold)`` pairs, grouped by
    ``gate_labels`` (``None``: the estimator's own); returns the scores and
    the predictions on ``test`` in their order, and ``{gate_labels: fitted
    hierarchy}``.
    """
    params = _check_method_params(X, fit_params, train)
    X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
    scores, predicted, fitted = [], [], {}
    for gate in dict.fromkeys(g for g, _ in candidates):
        model = clone(estimator)
        if gate is not None:
            model.set_params(gate_labels=gate)
        fitted[gate] = model.fit(X_train, y[train], **params)
        thresholds = [t for g, t in candidates if g == gate]
        predictions = model.predict_for_thresholds(X_test, thresholds)
        scores += [metric(y[test], predictions[t]) for t in thresholds]
        predicted += [np.asarray(predictions[t]) for t in thresholds]
    return scores, predicted, fitted


def _cv_results(candidates, scores) -> dict:
    """``GridSearchCV``-shaped results, one entry per candidate."""
    mean = scores.mean(axis=0)
    order = np.argsort(-mean, kind="stable")
    rank = np.empty(len(mean), dtype=np.int32)
    rank[order] = np.arange(1, len(mean) + 1)
    searched_gate = candidates[0][0] is not None
    params = [
        {"gate_labels": g, "threshold": t} if searched_gate else {"threshold": t}
        for g, t in candidates
    ]
    results = {
        "param_threshold": np.asarray([t for _, t in candidates], dtype=object),
        "params": params,
        "mean_test_score": mean,
        "std_test_score": scores.std(axis=0),
        "rank_test_score": rank,
    }
    if searched_gate:
        results["param_gate_labels"] = np.asarray(
            [g for g, _ in candidates], dtype=object
        )
    for k, fold in enumerate(scores):
        results[f"split{k}_test_score"] = fold
    return results


class TunedThresholdHierarchyCV(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Pick the hierarchy's threshold by cross-validation, one fit per fold.

    Parameters
    ----------
    estimator : HierarchicalClassifier
        The hierarchy to tune (its own ``threshold`` is ignored).
    thresholds : sequence of float or None, default=SEARCH_THRESHOLDS
        Candidates; ``None`` is the plain text argmax. Ties in the mean score
        go to the candidate listed first. The default,
        :data:`SEARCH_THRESHOLDS`, adds ``0.0`` to the paper's four: at 0 the
        text never overrides speech's *neutral* (listed first, it also wins
        ties).
    gate_labels : sequence of {"flat", "all", "collapsed"} or None, default=None
        Also choose the hierarchy's ``gate_labels`` among these, jointly with
        the threshold: the hierarchy is fitted once per option and fold, and
        every ``(gate_labels, threshold)`` pair is scored (at threshold 0, as
        ``speech_only_gates`` says). ``None`` keeps the
        estimator's own. Ties go to the option listed first. Which gate is
        better depends on the transcripts: the neutral-vs-emotional gate
        (``"collapsed"``) sends more samples to the text model, which pays
        when words carry emotion; the four-class gates (``"all"``,
        ``"flat"``) keep the flat speech model's neutral decisions, which is
        safer when they do not, and ``"flat"`` at threshold 0 *is* the flat
        speech model. Give the estimator a ``memory`` to fit the four-class
        gate once for both ``"all"`` and ``"flat"``.
    speech_only_gates : {"reference", "every_gate"}, default="reference"
        With ``gate_labels`` searched, which options are scored at threshold
        0, where the text never overrides speech and the hierarchy is a
        speech-only classifier: only the first option (the reference;
        ``"flat"`` first makes it the flat speech model), or every option
        (:func:`search_candidates`). With ``"reference"``, a search that
        finds the text useless ends at the reference's speech decisions.
    cv : int, cross-validation generator or iterable, default=5
        As in ``GridSearchCV``, e.g.
        :class:`~sklearn_hser.datasets.LeaveOneSessionOut`.
    scoring : {"ua", "wa"} or callable, default="ua"
        ``score(y_true, y_pred)``, higher is better.
    selection : {"one_se", "best"}, default="one_se"
        How the candidate is chosen from the mean scores
        (:func:`~sklearn_hser.selection.select_candidate_over_folds`). ``"best"``: the
        highest mean score. ``"one_se"``: the first candidate (the first
        gate option at the first threshold, by default threshold 0) unless
        the best one beats it by more than the standard error of their
        difference, computed over the out-of-fold predictions of all folds.
        A gain within the noise of a few held-out speakers then does not
        move the decision away from the cautious setting.
    refit : bool, default=True
        Refit the hierarchy on all data with the best threshold. ``False``
        keeps the hierarchy fitted on the training part of the split, which
        needs a ``cv`` of exactly one split (e.g. a ``ShuffleSplit`` with
        ``n_splits=1``), as in ``TunedThresholdClassifierCV``.
    n_jobs : int, default=None
        Folds fitted in parallel.

    Attributes
    ----------
    best_threshold_ : float or None
        The threshold of the chosen candidate (by ``selection``).
    best_gate_labels_ : str or None
        The ``gate_labels`` option of the chosen candidate (``None`` when
        ``gate_labels`` was not searched).
    best_index_ : int
        The chosen candidate's index in ``cv_results_``.
    best_score_ : float
        Its mean score over the folds.
    cv_scores_ : ndarray of shape (n_folds, n_candidates)
        Score of every candidate on every fold: one column per threshold, or
        with ``gate_labels`` searched, per ``(gate_labels, threshold)`` pair
        (gate options outer, thresholds inner; :func:`search_candidates`).
    cv_results_ : dict of ndarray
        As ``GridSearchCV``'s, one entry per candidate: ``param_threshold``
        (and ``param_gate_labels`` when searched), ``params``,
        ``mean_test_score``, ``std_test_score``, ``rank_test_score`` and
        ``split{k}_test_score``; ``pandas.DataFrame(cv_results_)`` tabulates
        it.
    estimator_ : HierarchicalClassifier
        The hierarchy used to predict, with ``threshold=best_threshold_``
        (and ``gate_labels=best_gate_labels_`` when searched):
        refitted on all data (``refit=True``) or fitted on the one training
        split.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen by ``estimator_`` (when it defines it).

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
        "gate_labels": [list, tuple, None],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(SCORING_NAMES)), callable],
        "selection": [StrOptions(set(SELECTIONS))],
        "speech_only_gates": [StrOptions(set(SPEECH_ONLY_GATES))],
        "refit": ["boolean"],
        "n_jobs": [None, int],
    }

    def __init__(
        self,
        estimator,
        *,
        thresholds=SEARCH_THRESHOLDS,
        gate_labels=None,
        cv=5,
        scoring="ua",
        selection="one_se",
        speech_only_gates="reference",
        refit=True,
        n_jobs=None,
    ):
        self.estimator = estimator
        self.thresholds = thresholds
        self.gate_labels = gate_labels
        self.cv = cv
        self.scoring = scoring
        self.selection = selection
        self.speech_only_gates = speech_only_gates
        self.refit = refit
        self.n_jobs = n_jobs

    @_fit_context(
        # The hierarchy validates its own parameters when fitted.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, groups=None, **params):
        """Score every threshold across the folds, then refit the best.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            Training samples.
        y : array-like of shape (n_samples,)
            Class labels.
        groups : array-like of shape (n_samples,), default=None
            Group labels for group-aware splitters.
        **params : dict
            Metadata. Without metadata routing, only ``sample_weight``, passed
            to the hierarchy's ``fit`` (fold by fold, then for the refit); with
            routing enabled, whatever the hierarchy and the splitter request.
            Scores are not weighted.

        Returns
        -------
        self : object
        """
        thresholds = list(self.thresholds)
        if not thresholds:
            raise ValueError("thresholds is empty.")
        for t in thresholds:  # what a constraint cannot say of each element
            check_threshold(t)
        candidates = self._candidates(thresholds)
        scoring = self.scoring
        metric = scoring if callable(scoring) else SCORING_NAMES[scoring]
        X = indexable(X)[0]
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        cv = check_cv(self.cv, y, classifier=True)
        if _routing_enabled():
            if groups is not None:
                params = {**params, "groups": groups}
            routed = process_routing(self, "fit", **params)
            fit_params, split_params = routed.estimator.fit, routed.splitter.split
        else:
            _raise_for_params(params, self, "fit", allow=["sample_weight"])
            fit_params, split_params = params, {"groups": groups}
        splits = list(cv.split(X, y, **split_params))
        if not self.refit and len(splits) != 1:
            raise ValueError(
                f"refit=False uses the hierarchy fitted on the one training split, "
                f"but cv gives {len(splits)} splits; use refit=True, or a cv of a "
                "single split (e.g. ShuffleSplit(n_splits=1))."
            )
        folds = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_scores)(
                self.estimator, X, y, train, test, candidates, metric, fit_params
            )
            for train, test in splits
        )
        self.cv_scores_ = np.asarray([scores for scores, _, _ in folds], dtype=float)
        best = select_candidate_over_folds(
            self.cv_scores_,
            [y[test] for _, test in splits],
            [predicted for _, predicted, _ in folds],
            scoring=self.scoring,
            selection=self.selection,
        )
        self.best_index_ = best
        self.best_gate_labels_, self.best_threshold_ = candidates[best]
        self.best_score_ = float(self.cv_scores_[:, best].mean())
        self.cv_results_ = _cv_results(candidates, self.cv_scores_)
        chosen = {"threshold": self.best_threshold_}
        if self.best_gate_labels_ is not None:
            chosen["gate_labels"] = self.best_gate_labels_
        if self.refit:
            self.estimator_ = clone(self.estimator).set_params(**chosen)
            self.estimator_.fit(X, y, **_check_method_params(X, fit_params))
        else:
            fitted = folds[0][2][self.best_gate_labels_]
            self.estimator_ = fitted.set_params(threshold=self.best_threshold_)
        self.classes_ = self.estimator_.classes_
        return self

    def _candidates(self, thresholds):
        """The ``(gate_labels, threshold)`` pairs to score, in order."""
        if self.gate_labels is None:
            return [(None, t) for t in thresholds]
        if "gate_labels" not in self.estimator.get_params(deep=False):
            raise ValueError(
                "gate_labels can only be searched for an estimator with a "
                f"gate_labels parameter; {type(self.estimator).__name__} has none."
            )
        return search_candidates(
            list(self.gate_labels), thresholds, speech_only_gates=self.speech_only_gates
        )

    def get_metadata_routing(self):
        """Routing of ``fit`` metadata to the hierarchy and the splitter.

        Returns
        -------
        routing : MetadataRouter
        """
        return (
            MetadataRouter(owner=self)
            .add(
                estimator=self.estimator,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
            .add(
                splitter=check_cv(self.cv, classifier=True),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        )

    @property
    def n_features_in_(self):
        """Number of features seen by ``estimator_`` (when it defines it)."""
        return self._fitted().n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        return tags

    def _fitted(self):
        check_is_fitted(self, "estimator_")
        return self.estimator_

    # Prediction is the chosen hierarchy's: ``estimator_``'s methods, whose
    # docstrings say what they return.
    def predict(self, X):
        """``estimator_.predict(X)``: Algorithm 1 at the best threshold."""
        return self._fitted().predict(X)

    @available_if(lambda self: hasattr(self.estimator, "predict_proba"))
    def predict_proba(self, X):
        """``estimator_.predict_proba(X)``: the routed class probabilities."""
        return self._fitted().predict_proba(X)

    def outputs(self, X, *, proba=True):
        """``estimator_.outputs(X, proba=proba)``: its outputs from one pass."""
        return self._fitted().outputs(X, proba=proba)

    def route(self, X):
        """``estimator_.route(X)``: how each sample was decided."""
        return self._fitted().route(X)

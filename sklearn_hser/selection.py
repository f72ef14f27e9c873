"""Choosing a setting on held-out data without chasing noise.

A threshold search scores a dozen candidate settings on a few held-out
speakers. The best of them is often better only by chance: on a hundred
validation utterances, candidates a few points apart on validation swap
places on the test speakers (``docs/guide/accuracy.md``). The rule here is the
one-standard-error rule of model selection (Breiman et al., 1984; Hastie,
Tibshirani and Friedman, *The Elements of Statistical Learning*, 7.10): the
first candidate is the *reference*, the most cautious setting, and the best
candidate replaces it only when it beats it by more than the standard error
of their difference, measured on the same samples.

With the study's defaults the reference is the flat speech model (the
``"flat"`` gate at threshold 0), so a hierarchy departs from what speech
alone decides only where held-out data show that the departure pays.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import StrOptions, validate_params

from .metrics import SCORING_NAMES, unweighted_accuracy

#: The rules :func:`select_candidate` knows.
SELECTIONS = ("one_se", "best")


def _unweighted_accuracy_se(correct, reference_correct, y_true):
    """Standard error of a UA difference: per-class recall differences."""
    diff = correct.astype(float) - reference_correct
    classes = np.unique(y_true)
    variance = 0.0
    for label in classes:
        d = diff[y_true == label]
        if len(d) > 1:
            variance += d.var(ddof=1) / len(d)
    return float(np.sqrt(variance) / len(classes))


def _bootstrap_se(metric, y_true, y_pred, y_reference, n_resamples, random_state):
    """Standard error of ``metric(pred) - metric(reference)``, class-stratified."""
    rng = np.random.default_rng(random_state)
    by_class = [np.flatnonzero(y_true == c) for c in np.unique(y_true)]
    diffs = np.empty(n_resamples)
    for k in range(n_resamples):
        rows = np.concatenate([rng.choice(idx, size=len(idx)) for idx in by_class])
        diffs[k] = metric(y_true[rows], y_pred[rows]) - metric(
            y_true[rows], y_reference[rows]
        )
    return float(diffs.std(ddof=1))


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "y_reference": ["array-like"],
        "scoring": [StrOptions(set(SCORING_NAMES)), callable],
    },
    prefer_skip_nested_validation=True,
)
def paired_standard_error(y_true, y_pred, y_reference, *, scoring="ua"):
    """Standard error of a score difference between two predictions.

    Both predictions are of the same samples, so the difference is paired:
    only the samples on which they disagree contribute.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred, y_reference : array-like of shape (n_samples,)
        The two predictions to compare.
    scoring : {"ua", "wa"} or callable, default="ua"
        The score. UA (mean per-class recall) and WA (accuracy) have a
        closed form (the per-class recall differences are independent
        means); a callable ``score(y_true, y_pred)`` gets a bootstrap over
        samples within each class (500 resamples, fixed seed, so the result
        is reproducible).

    Returns
    -------
    float
        The standard error of ``score(y_pred) - score(y_reference)``; 0 when
        the two predictions are right on the same samples.

    Examples
    --------
    >>> from sklearn_hser.selection import paired_standard_error
    >>> y = ["sad", "sad", "angry", "angry"]
    >>> round(paired_standard_error(y, ["sad", "sad", "angry", "sad"], y), 3)
    0.25
    """
    y_true, y_pred, y_reference = (np.asarray(a) for a in (y_true, y_pred, y_reference))
    if not len(y_true) == len(y_pred) == len(y_reference):
        raise ValueError(
            f"y_true, y_pred and y_reference differ in length: {len(y_true)}, "
            f"{len(y_pred)}, {len(y_reference)}."
        )
    if len(y_true) == 0:
        raise ValueError("No samples to compare.")
    correct, reference_correct = y_pred == y_true, y_reference == y_true
    if isinstance(scoring, str) and SCORING_NAMES[scoring] is unweighted_accuracy:
        return _unweighted_accuracy_se(correct, reference_correct, y_true)
    if isinstance(scoring, str):  # WA
        diff = correct.astype(float) - reference_correct
        return float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    if np.array_equal(correct, reference_correct):
        return 0.0
    return _bootstrap_se(
        scoring, y_true, y_pred, y_reference, n_resamples=500, random_state=0
    )


@validate_params(
    {
        "scores": ["array-like"],
        "y_true": ["array-like"],
        "predictions": [list, tuple],
        "scoring": [StrOptions(set(SCORING_NAMES)), callable],
        "selection": [StrOptions(set(SELECTIONS))],
    },
    prefer_skip_nested_validation=True,
)
def select_candidate(scores, y_true, predictions, *, scoring="ua", selection="one_se"):
    """Index of the chosen candidate; the first one is the reference.

    Parameters
    ----------
    scores : array-like of shape (n_candidates,)
        Held-out score of each candidate, higher is better.
    y_true : array-like of shape (n_samples,)
        The held-out labels.
    predictions : list of array-like of shape (n_samples,)
        Each candidate's held-out predictions, in the order of ``scores``.
    scoring : {"ua", "wa"} or callable, default="ua"
        The score, for the standard error (:func:`paired_standard_error`).
    selection : {"one_se", "best"}, default="one_se"
        ``"best"``: the highest score (the first one on ties, including
        scores equal but for rounding).
        ``"one_se"``: that candidate only when its score exceeds the
        reference's by more than the standard error of their difference;
        the reference (index 0) otherwise.

    Returns
    -------
    int

    Examples
    --------
    >>> from sklearn_hser.selection import select_candidate
    >>> y = ["sad"] * 4 + ["angry"] * 4
    >>> reference = ["sad"] * 4 + ["angry", "angry", "sad", "sad"]
    >>> one_more = ["sad"] * 4 + ["angry", "angry", "angry", "sad"]
    >>> scores = [0.75, 0.875]
    >>> select_candidate(scores, y, [reference, one_more], selection="best")
    1
    >>> select_candidate(scores, y, [reference, one_more])  # within the noise
    0
    """
    scores = np.asarray(scores, dtype=float)
    if len(scores) != len(predictions) or len(scores) == 0:
        raise ValueError(
            f"Need one score per prediction; got {len(scores)} scores and "
            f"{len(predictions)} predictions."
        )
    if not np.isfinite(scores).all():
        raise ValueError(
            f"Scores must be finite; got {scores.tolist()} (a scoring function "
            "returned NaN or infinity)."
        )
    # Scores equal but for rounding (the same UA summed in another order)
    # are a tie, which the earlier candidate wins.
    best = int(np.flatnonzero(scores >= scores.max() - 1e-9)[0])
    if selection == "best" or best == 0:
        return best
    se = paired_standard_error(
        y_true, predictions[best], predictions[0], scoring=scoring
    )
    # The margin absorbs rounding: with a single sample of difference the
    # gain equals its standard error, which is no evidence.
    return best if scores[best] - scores[0] > se + 1e-9 else 0


@validate_params(
    {
        "fold_scores": ["array-like"],
        "y_true": [list, tuple],
        "predictions": [list, tuple],
        "scoring": [StrOptions(set(SCORING_NAMES)), callable],
        "selection": [StrOptions(set(SELECTIONS))],
    },
    prefer_skip_nested_validation=True,
)
def select_candidate_over_folds(
    fold_scores, y_true, predictions, *, scoring="ua", selection="one_se"
):
    """:func:`select_candidate` over several folds of held-out samples.

    A candidate's score is its mean over the folds; the standard error of
    its difference to the reference comes from the predictions of all folds
    pooled. Folds of held-out *speakers* are what make the choice carry over
    to new speakers: the more speakers the folds cover together, the less a
    few speakers' quirks can pass for a gain.

    Parameters
    ----------
    fold_scores : array-like of shape (n_folds, n_candidates)
        Score of each candidate on each fold, higher is better.
    y_true : list of array-like
        The held-out labels of each fold.
    predictions : list of list of array-like
        Per fold, each candidate's predictions of that fold's samples.
    scoring : {"ua", "wa"} or callable, default="ua"
        The score of ``fold_scores`` (see :func:`paired_standard_error`).
    selection : {"one_se", "best"}, default="one_se"
        The rule (see :func:`select_candidate`).

    Returns
    -------
    int

    Examples
    --------
    >>> from sklearn_hser.selection import select_candidate_over_folds
    >>> y = ["sad"] * 4 + ["angry"] * 4
    >>> reference = ["sad"] * 4 + ["angry"] * 3 + ["sad"]
    >>> fold_scores = [[0.875, 1.0]] * 6  # the same gain of one sample, 6 folds
    >>> select_candidate_over_folds(fold_scores, [y] * 6, [[reference, y]] * 6)
    1
    >>> select_candidate_over_folds(fold_scores[:1], [y], [[reference, y]])
    0
    """
    fold_scores = np.asarray(fold_scores, dtype=float)
    if (
        fold_scores.ndim != 2
        or not len(fold_scores) == len(y_true) == len(predictions)
        or any(len(fold) != fold_scores.shape[1] for fold in predictions)
    ):
        raise ValueError(
            "Need fold_scores of shape (n_folds, n_candidates), one y_true per "
            "fold and, per fold, one prediction per candidate; got fold_scores "
            f"of shape {fold_scores.shape}, {len(y_true)} y_true and "
            f"{[len(fold) for fold in predictions]} predictions per fold."
        )
    pooled = [
        np.concatenate([np.asarray(fold[c]) for fold in predictions])
        for c in range(fold_scores.shape[1])
    ]
    return select_candidate(
        fold_scores.mean(axis=0),
        np.concatenate([np.asarray(y) for y in y_true]),
        pooled,
        scoring=scoring,
        selection=selection,
    )

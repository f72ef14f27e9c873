"""UA and WA, the package's scorers, per-class tables and confusion matrices."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    make_scorer,
    precision_recall_fscore_support,
)
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.multiclass import unique_labels

from .._labels import EMOTIONS

#: Parameter constraints of the (y_true, y_pred) pair, for validate_params.
_LABEL_PAIR = {"y_true": ["array-like"], "y_pred": ["array-like"]}

#: Names of the summary rows that :func:`per_class_report` appends.
_SUMMARY_ROWS = ("UA", "WA")


# --------------------------------------------------------------- validation


def _as_label_array(y, name):
    """``y`` as a 1-D numpy array (a single column is flattened)."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}.")
    return arr


def _check_targets(*named_arrays):
    """Validate label arrays given as ``(name, array)`` pairs.

    All arrays must be 1-D, non-empty, of the same length, and hold labels of
    one kind (all strings or all numbers).  Returns the arrays as numpy arrays.
    """
    arrays = [_as_label_array(y, name) for name, y in named_arrays]
    lengths = {name: len(a) for (name, _), a in zip(named_arrays, arrays, strict=True)}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"Inputs have different lengths: {lengths}.")
    if len(arrays[0]) == 0:
        raise ValueError(f"{named_arrays[0][0]} is empty.")
    unique_labels(*arrays)  # raises on mixed string / number labels
    return arrays


def _check_labels(labels):
    """``labels`` as a list of distinct labels (ValueError otherwise)."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"labels must be a non-empty 1-D sequence, got shape {arr.shape}."
        )
    out = arr.tolist()
    if len(set(out)) != len(out):
        raise ValueError(f"labels has duplicates: {out!r}.")
    return out


def ordered_labels(*arrays, all_emotions=False) -> list:
    """The distinct labels of ``arrays`` in the package's table order.

    The one rule for the order of classes in every table and report: when
    every label is one of the paper's four classes, paper order (neutral,
    happy, sad, angry, :data:`~sklearn_hser._labels.EMOTIONS`); otherwise the
    labels sorted.

    Parameters
    ----------
    *arrays : array-like
        Labels, possibly repeated: e.g. a model's ``classes_``, or ``y_true``
        and ``y_pred``.
    all_emotions : bool, default=False
        When every label is one of the four, return all four, present or not,
        so that tables of different systems have the same rows.

    Returns
    -------
    labels : list
    """
    seen = unique_labels(*arrays).tolist()
    if all(isinstance(lab, str) and lab in EMOTIONS for lab in seen):
        return [c for c in EMOTIONS if all_emotions or c in seen]
    return seen


def _report_labels(labels, *arrays):
    """Labels for tables: the given ones, else :func:`ordered_labels` of those seen."""
    if labels is not None:
        return _check_labels(labels)
    return ordered_labels(*arrays, all_emotions=True)


def _per_class(y_true, y_pred, labels, sample_weight=None):
    """scikit-learn's per-class (precision, recall, f1, support), NaN for 0 / 0."""
    return precision_recall_fscore_support(
        y_true,
        y_pred,
        labels=labels,
        sample_weight=sample_weight,
        zero_division=np.nan,
    )


# ------------------------------------------------------------------ UA / WA


@validate_params(
    {
        **_LABEL_PAIR,
        "labels": ["array-like", None],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def unweighted_accuracy(y_true, y_pred, *, labels=None, sample_weight=None):
    """Unweighted accuracy (UA): the mean of the per-class recalls.

    UA gives every class the same weight whatever its size; it is also called
    balanced accuracy, and equals scikit-learn's
    :func:`~sklearn.metrics.balanced_accuracy_score` (scoring string
    ``"balanced_accuracy"``) when ``labels`` is None.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    labels : array-like, default=None
        Classes whose recalls are averaged.  None means the classes present in
        ``y_true``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights: each class's recall is the weighted share of its
        samples predicted right (as in ``balanced_accuracy_score``).

    Returns
    -------
    score : float
        UA in ``[0, 1]``.

    Raises
    ------
    ValueError
        If the inputs are empty, of different lengths or mix label kinds, or if
        none of ``labels`` occurs in ``y_true``.

    Notes
    -----
    The recall of a class is only defined when the class has true samples.
    Classes of ``labels`` that do not occur in ``y_true`` are therefore left
    out of the mean (they do not count as a recall of 0), exactly as
    ``balanced_accuracy_score`` leaves out predicted classes absent from
    ``y_true``.  Samples whose true label is not in ``labels`` are ignored;
    a prediction outside ``labels`` counts as a miss for its true class.

    Examples
    --------
    >>> from sklearn_hser.metrics import unweighted_accuracy
    >>> y_true = ["neutral", "neutral", "neutral", "neutral", "sad", "sad"]
    >>> y_pred = ["neutral", "neutral", "neutral", "neutral", "sad", "neutral"]
    >>> unweighted_accuracy(y_true, y_pred)  # (4/4 + 1/2) / 2
    0.75
    >>> unweighted_accuracy(y_true, y_pred, labels=["neutral", "sad", "angry"])
    0.75
    """
    y_true, y_pred = _check_targets(("y_true", y_true), ("y_pred", y_pred))
    labels = unique_labels(y_true).tolist() if labels is None else _check_labels(labels)
    _, recall, _, support = _per_class(y_true, y_pred, labels, sample_weight)
    present = support > 0
    if not present.any():
        raise ValueError(f"None of the labels {labels!r} occurs in y_true.")
    return float(np.mean(recall[present]))


@validate_params(
    {
        **_LABEL_PAIR,
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def weighted_accuracy(y_true, y_pred, *, sample_weight=None):
    """Weighted accuracy (WA): the share of correctly classified samples.

    This is plain accuracy (:func:`sklearn.metrics.accuracy_score`); "weighted"
    because each class's recall counts in proportion to its size.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights: WA is then the weighted share of right predictions.

    Returns
    -------
    score : float
        WA in ``[0, 1]``.

    Examples
    --------
    >>> from sklearn_hser.metrics import weighted_accuracy
    >>> y_true = ["neutral", "neutral", "neutral", "neutral", "sad", "sad"]
    >>> y_pred = ["neutral", "neutral", "neutral", "neutral", "sad", "neutral"]
    >>> round(weighted_accuracy(y_true, y_pred), 4)  # 5 / 6
    0.8333
    """
    y_true, y_pred = _check_targets(("y_true", y_true), ("y_pred", y_pred))
    return float(accuracy_score(y_true, y_pred, sample_weight=sample_weight))


#: Scorer for UA (greater is better); same values as ``"balanced_accuracy"``.
ua_scorer = make_scorer(unweighted_accuracy)

#: Scorer for WA (greater is better); same values as ``"accuracy"``.
wa_scorer = make_scorer(weighted_accuracy)

#: Multi-metric scoring dict, e.g. ``GridSearchCV(..., scoring=SCORERS,
#: refit="ua")``; ``cv_results_`` then has ``mean_test_ua`` and
#: ``mean_test_wa``.
SCORERS = {"ua": ua_scorer, "wa": wa_scorer}

#: The one registry of ``scoring`` names: the study's two headline scores,
#: short and long, and the function of this module each one names.
SCORING_NAMES = {
    name: function
    for function, names in (
        (unweighted_accuracy, ("ua", "UA", "unweighted_accuracy")),
        (weighted_accuracy, ("wa", "WA", "weighted_accuracy")),
    )
    for name in names
}


@validate_params({"scoring": [str, callable, None]}, prefer_skip_nested_validation=True)
def get_scorer(scoring):
    """Scorer for a name, knowing the package's metric names.

    Parameters
    ----------
    scoring : str, callable or None
        ``"unweighted_accuracy"``, ``"ua"`` or ``"UA"`` give a UA scorer;
        ``"weighted_accuracy"``, ``"wa"`` or ``"WA"`` give a WA scorer.
        Anything else is passed to :func:`sklearn.metrics.get_scorer`.

    Returns
    -------
    scorer : callable
        A scorer ``scorer(estimator, X, y)``, usable as
        ``GridSearchCV(scoring=...)``.  Like scikit-learn's, each call returns a
        fresh copy.

    Notes
    -----
    scikit-learn's own string registry does not know the package's names, so
    ``GridSearchCV(scoring="ua")`` fails; write
    ``scoring=get_scorer("ua")`` or ``scoring=SCORERS``.  The built-in string
    ``"balanced_accuracy"`` computes the same value as UA.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn_hser.metrics import get_scorer
    >>> X = [[0.0], [0.1], [0.2], [1.0], [1.1], [1.2]]
    >>> y = ["neutral", "neutral", "neutral", "sad", "sad", "sad"]
    >>> scores = cross_val_score(LogisticRegression(), X, y, cv=3,
    ...                          scoring=get_scorer("ua"))
    >>> scores.tolist()
    [1.0, 1.0, 1.0]
    """
    if isinstance(scoring, str) and scoring in SCORING_NAMES:
        return make_scorer(SCORING_NAMES[scoring])
    return _sklearn_get_scorer(scoring)


# --------------------------------------------------------- per-class tables


@validate_params(
    {
        **_LABEL_PAIR,
        "labels": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def per_class_report(y_true, y_pred, *, labels=None):
    """Per-class precision, recall, F1 and support, followed by UA and WA.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    labels : array-like, default=None
        Classes to report, in row order.  None means all four classes of
        :data:`sklearn_hser._labels.EMOTIONS` in paper order (neutral, happy,
        sad, angry) when every label seen is one of them (so that reports of
        different systems line up, even if one lacks a class), and otherwise
        the sorted labels seen in ``y_true`` and ``y_pred``.

    Returns
    -------
    report : pandas.DataFrame
        Index (named ``"class"``): the labels, then two summary rows ``"UA"``
        and ``"WA"``.  Columns: ``precision``, ``recall``, ``f1`` (floats) and
        ``support`` (number of true samples, int).  The summary rows hold UA
        (macro-averaged recall, see :func:`unweighted_accuracy`) and WA
        (accuracy over all samples) in the ``recall`` column, NaN in
        ``precision`` and ``f1``, and in ``support`` the number of samples
        each is computed over.

    Notes
    -----
    An undefined ratio is NaN, without warning: the precision of a class never
    predicted, the recall of a class with no true sample (its support is then
    0), and the F1 of a class neither predicted nor present.  Absent classes
    are left out of UA (see :func:`unweighted_accuracy`).  A prediction
    outside ``labels`` counts against the recall of its true class.

    Examples
    --------
    >>> from sklearn_hser.metrics import per_class_report
    >>> y_true = ["neutral", "neutral", "happy", "sad", "angry", "angry"]
    >>> y_pred = ["neutral", "sad", "neutral", "sad", "angry", "angry"]
    >>> report = per_class_report(y_true, y_pred)
    >>> report.round(3)  # doctest: +NORMALIZE_WHITESPACE
             precision  recall     f1  support
    class
    neutral        0.5   0.500  0.500        2
    happy          NaN   0.000  0.000        1
    sad            0.5   1.000  0.667        1
    angry          1.0   1.000  1.000        2
    UA             NaN   0.625    NaN        6
    WA             NaN   0.667    NaN        6
    """
    y_true, y_pred = _check_targets(("y_true", y_true), ("y_pred", y_pred))
    labels = _report_labels(labels, y_true, y_pred)
    clash = [lab for lab in labels if lab in _SUMMARY_ROWS]
    if clash:
        raise ValueError(f"Class labels {clash!r} clash with the summary rows.")

    precision, recall, f1, support = _per_class(y_true, y_pred, labels)
    ua = unweighted_accuracy(y_true, y_pred, labels=labels)
    wa = weighted_accuracy(y_true, y_pred)
    report = pd.DataFrame(
        {
            "precision": [*precision, np.nan, np.nan],
            "recall": [*recall, ua, wa],
            "f1": [*f1, np.nan, np.nan],
            "support": [*support, int(support.sum()), len(y_true)],
        },
        index=pd.Index([*labels, *_SUMMARY_ROWS], name="class", dtype=object),
    )
    report["support"] = report["support"].astype(int)
    return report


@validate_params(
    {
        "name": [str],
        **_LABEL_PAIR,
        "labels": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def system_row(name, y_true, y_pred, *, labels=None):
    """One flat Table II row for a system: per-class precision/recall, UA, WA.

    Parameters
    ----------
    name : str
        System name, e.g. ``"w2v-ST-D"``.
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        The system's predictions.
    labels : array-like, default=None
        Classes, in column order; None as in :func:`per_class_report`.

    Returns
    -------
    row : dict
        ``{"system": name, "<label>_precision": ..., "<label>_recall": ...,
        ..., "UA": ..., "WA": ...}`` with float values (NaN where a ratio is
        undefined, see :func:`per_class_report`), classes in ``labels``
        order.  ``pandas.DataFrame([system_row(...), ...])`` builds the table.

    Examples
    --------
    >>> from sklearn_hser.metrics import system_row
    >>> y_true = ["neutral", "neutral", "happy", "sad", "angry", "angry"]
    >>> y_pred = ["neutral", "sad", "neutral", "sad", "angry", "angry"]
    >>> row = system_row("LSTM-ST-D", y_true, y_pred)
    >>> list(row)[:3]
    ['system', 'neutral_precision', 'neutral_recall']
    >>> row["sad_recall"], row["UA"]
    (1.0, 0.625)
    """
    report = per_class_report(y_true, y_pred, labels=labels)
    row = {"system": name}
    for label in report.index[: -len(_SUMMARY_ROWS)]:
        row[f"{label}_precision"] = float(report.at[label, "precision"])
        row[f"{label}_recall"] = float(report.at[label, "recall"])
    row["UA"] = float(report.at["UA", "recall"])
    row["WA"] = float(report.at["WA", "recall"])
    return row


@validate_params(
    {
        **_LABEL_PAIR,
        "labels": ["array-like", None],
        "normalize": [StrOptions({"true", "pred", "all"}), None],
    },
    prefer_skip_nested_validation=True,
)
def confusion_table(y_true, y_pred, *, labels=None, normalize=None):
    """Confusion matrix as a DataFrame with labelled rows and columns.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    labels : array-like, default=None
        Classes, in row and column order; None as in :func:`per_class_report`.
    normalize : {None, "true", "pred", "all"}, default=None
        As in :func:`sklearn.metrics.confusion_matrix`: counts (None), or
        shares over each true class (rows sum to one), each predicted class
        (columns sum to one) or all samples.  An all-zero row or column stays
        zero.

    Returns
    -------
    table : pandas.DataFrame of shape (n_labels, n_labels)
        Entry ``[t, p]`` counts samples of true class ``t`` predicted as
        ``p``.  The index is named ``"true"``, the columns ``"predicted"``.

    Notes
    -----
    As in scikit-learn, samples whose true or predicted label is not in
    ``labels`` are left out of the table.

    Examples
    --------
    >>> from sklearn_hser.metrics import confusion_table
    >>> y_true = ["neutral", "neutral", "sad", "sad"]
    >>> y_pred = ["neutral", "sad", "sad", "sad"]
    >>> table = confusion_table(y_true, y_pred, labels=["neutral", "sad"])
    >>> table  # doctest: +NORMALIZE_WHITESPACE
    predicted  neutral  sad
    true
    neutral          1    1
    sad              0    2
    """
    y_true, y_pred = _check_targets(("y_true", y_true), ("y_pred", y_pred))
    labels = _report_labels(labels, y_true, y_pred)
    matrix = confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)
    return pd.DataFrame(
        matrix,
        index=pd.Index(labels, name="true", dtype=object),
        columns=pd.Index(labels, name="predicted", dtype=object),
    )


@validate_params(
    {
        **_LABEL_PAIR,
        "labels": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def scores_record(y_true, y_pred, *, labels=None):
    """Every score of one system's predictions, as plain JSON-ready values.

    The one record of a system's results: ``hser evaluate``
    (:func:`~sklearn_hser.evaluation.evaluate_model`) and the study
    (:func:`~sklearn_hser.experiments.run_experiment`) both write it.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    labels : array-like, default=None
        Classes, in table order; None as in :func:`per_class_report`.

    Returns
    -------
    record : dict
        ``UA`` and ``WA`` (floats); ``labels`` (str); ``per_class``,
        ``{label: {"precision", "recall", "f1", "support"}}`` with ``None``
        where a ratio is undefined (see :func:`per_class_report`); and
        ``confusion_matrix``, a list of rows (true class) of counts per
        predicted class, in ``labels`` order.

    Examples
    --------
    >>> from sklearn_hser.metrics import scores_record
    >>> record = scores_record(["sad", "sad", "angry"], ["sad", "angry", "angry"],
    ...                        labels=["sad", "angry", "happy"])
    >>> record["UA"], record["per_class"]["happy"]["precision"]
    (0.75, None)
    >>> record["confusion_matrix"]
    [[1, 1, 0], [0, 1, 0], [0, 0, 0]]
    """
    report = per_class_report(y_true, y_pred, labels=labels)
    classes = list(report.index[: -len(_SUMMARY_ROWS)])
    per_class = {
        str(label): {
            "precision": _defined(report.at[label, "precision"]),
            "recall": _defined(report.at[label, "recall"]),
            "f1": _defined(report.at[label, "f1"]),
            "support": int(report.at[label, "support"]),
        }
        for label in classes
    }
    matrix = confusion_table(y_true, y_pred, labels=classes)
    return {
        "UA": float(report.at["UA", "recall"]),
        "WA": float(report.at["WA", "recall"]),
        "labels": [str(c) for c in classes],
        "per_class": per_class,
        "confusion_matrix": matrix.to_numpy().tolist(),
    }


def _defined(value):
    """``value`` as a float, None where it is undefined (NaN)."""
    return None if np.isnan(value) else float(value)


@validate_params(
    {
        "value": [Real, None],
        "digits": [Interval(Integral, 0, None, closed="left")],
        "missing": [str],
    },
    prefer_skip_nested_validation=True,
)
def format_score(value, *, digits=3, missing="n/a") -> str:
    """A score as printed in tables and logs: ``digits`` decimals, or ``missing``.

    ``missing`` stands for an undefined value (None or NaN).

    Examples
    --------
    >>> format_score(0.87512), format_score(None)
    ('0.875', 'n/a')
    >>> format_score(float("nan"), missing="-")
    '-'
    """
    if value is None or value != value:  # NaN is the one value unequal to itself
        return missing
    return f"{value:.{digits}f}"

"""The metrics of the paper's Fig. 2 (correction rate) and Fig. 3 (neutral
precision and recall over thresholds)."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import validate_params
from sklearn.utils.multiclass import unique_labels

from .._algorithm import HierarchyOutputs, check_threshold
from .._labels import EMOTIONAL, NEUTRAL
from ._scores import (
    _as_label_array,
    _check_targets,
    unweighted_accuracy,
    weighted_accuracy,
)


def _ratio(num, den):
    """``num / den`` as a float; NaN (undefined) when ``den`` is zero."""
    return float(num) / float(den) if den else np.nan


# ---------------------------------------------------------- correction rate

#: Parameter constraints of the two correction-rate functions.
_CORRECTION_PARAMS = {
    "y_true": ["array-like"],
    "speech_pred": ["array-like"],
    "final_pred": ["array-like"],
    "neutral_label": "no_validation",
}


@validate_params(_CORRECTION_PARAMS, prefer_skip_nested_validation=True)
def correction_counts(y_true, speech_pred, final_pred, *, neutral_label=NEUTRAL):
    """Counts behind the correction rate (the paper's Fig. 2).

    A *missed* sample is an emotional one (true label other than
    ``neutral_label``) that the speech model predicted neutral.  It is
    *corrected* when the final, text-integrated prediction equals its true
    label.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    speech_pred : array-like of shape (n_samples,)
        The speech model's decision for each sample, either as class labels
        (a flat 4-class speech model) or as the level-1 binary labels
        ``neutral_label`` / ``"emotional"``
        (:data:`sklearn_hser._labels.EMOTIONAL`).  Only whether it equals
        ``neutral_label`` matters.
    final_pred : array-like of shape (n_samples,)
        Final predictions of the speech + text system.
    neutral_label : object, default="neutral"
        The label of the neutral class.

    Returns
    -------
    counts : dict
        ``n_emotional`` (emotional samples), ``n_missed`` (emotional samples
        the speech model predicted neutral), ``n_corrected`` (missed samples
        whose final prediction is right) and ``rate``
        (``n_corrected / n_missed``; NaN when ``n_missed`` is 0).

    Raises
    ------
    ValueError
        If the inputs are empty or differ in length, or if ``speech_pred``
        holds a label that is neither ``neutral_label``, ``"emotional"`` nor a
        label of ``y_true`` / ``final_pred`` (e.g. a misspelt class).

    Examples
    --------
    >>> from sklearn_hser.metrics import correction_counts
    >>> y_true = ["sad", "sad", "angry", "happy", "neutral"]
    >>> speech = ["neutral", "neutral", "emotional", "neutral", "neutral"]
    >>> final = ["sad", "neutral", "angry", "happy", "neutral"]
    >>> correction_counts(y_true, speech, final)
    {'n_emotional': 4, 'n_missed': 3, 'n_corrected': 2, 'rate': 0.6666666666666666}
    """
    y_true, speech_pred, final_pred = _check_targets(
        ("y_true", y_true), ("speech_pred", speech_pred), ("final_pred", final_pred)
    )
    known = set(y_true.tolist()) | set(final_pred.tolist()) | {neutral_label}
    known.add(EMOTIONAL)
    unexpected = sorted(map(str, set(speech_pred.tolist()) - known))
    if unexpected:
        raise ValueError(
            f"speech_pred has labels {unexpected} that are neither "
            f"{neutral_label!r}, {EMOTIONAL!r} nor labels of y_true/final_pred."
        )

    emotional = y_true != neutral_label
    missed = emotional & (speech_pred == neutral_label)
    corrected = missed & (final_pred == y_true)
    n_missed = int(np.count_nonzero(missed))
    n_corrected = int(np.count_nonzero(corrected))
    return {
        "n_emotional": int(np.count_nonzero(emotional)),
        "n_missed": n_missed,
        "n_corrected": n_corrected,
        "rate": _ratio(n_corrected, n_missed),
    }


@validate_params(_CORRECTION_PARAMS, prefer_skip_nested_validation=True)
def correction_rate(y_true, speech_pred, final_pred, *, neutral_label=NEUTRAL):
    """Share of speech-missed emotional samples that the text model got right.

    Among the samples whose true label is emotional and that the speech model
    predicted neutral, the share whose final (text-corrected) prediction equals
    the true label (the paper's Fig. 2; see ``docs/guide/evaluation.md``).
    See :func:`correction_counts` for the parameters; this returns its
    ``rate``.

    Returns
    -------
    rate : float
        In ``[0, 1]``, or **NaN when no emotional sample was predicted
        neutral** by the speech model: the rate is then undefined (0 would
        wrongly claim that the text model fixed none of the errors).  Average
        rates over folds with :func:`numpy.nanmean`, or better, sum the counts
        of :func:`correction_counts`.

    Examples
    --------
    >>> from sklearn_hser.metrics import correction_rate
    >>> y_true = ["sad", "sad", "angry", "happy", "neutral"]
    >>> speech = ["neutral", "sad", "neutral", "happy", "neutral"]
    >>> final = ["sad", "sad", "happy", "happy", "neutral"]
    >>> correction_rate(y_true, speech, final)
    0.5
    >>> correction_rate(["sad"], ["sad"], ["sad"])
    nan
    """
    return correction_counts(
        y_true, speech_pred, final_pred, neutral_label=neutral_label
    )["rate"]


# ------------------------------------------------------- threshold analysis


def _as_routing_mask(speech_is_neutral, n_samples):
    """Validate the level-1 routing as a boolean mask of length n_samples."""
    mask = np.asarray(speech_is_neutral)
    if mask.ndim != 1 or len(mask) != n_samples:
        raise ValueError(
            f"speech_is_neutral must be 1-D of length {n_samples} (one entry per "
            f"sample of y_true), got shape {mask.shape}."
        )
    if mask.dtype != bool:
        if not (np.issubdtype(mask.dtype, np.integer) and np.isin(mask, (0, 1)).all()):
            raise ValueError(
                "speech_is_neutral must be boolean (True where the speech model "
                "predicted neutral), e.g. speech_pred == 'neutral'; got dtype "
                f"{mask.dtype}."
            )
        mask = mask.astype(bool)
    return mask


def _rows_for(values, mask, name):
    """Rows of ``values`` for the samples in ``mask``.

    ``values`` may have one row per sample (then it is indexed by ``mask``) or
    exactly one row per sample selected by ``mask``.
    """
    n_total, n_selected = len(mask), int(np.count_nonzero(mask))
    if len(values) == n_total:
        return values[mask]
    if len(values) == n_selected:
        return values
    raise ValueError(
        f"{name} has {len(values)} rows; expected {n_total} (one per sample) or "
        f"{n_selected} (one per sample in the group it applies to)."
    )


def _thresholds_list(thresholds):
    """Validated thresholds, without None (the argmax row is always added)."""
    if thresholds is None:
        return []
    if isinstance(thresholds, numbers.Real):
        thresholds = [thresholds]
    return [check_threshold(t) for t in thresholds if t is not None]


@validate_params(
    {
        "y_true": ["array-like"],
        "speech_is_neutral": ["array-like"],
        "text_proba": ["array-like"],
        "text_classes": ["array-like"],
        "thresholds": ["array-like", numbers.Real, None],
        "emotion_pred": ["array-like", None],
        "neutral_label": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def neutral_precision_recall(
    y_true,
    speech_is_neutral,
    text_proba,
    text_classes,
    thresholds,
    *,
    emotion_pred=None,
    neutral_label=NEUTRAL,
):
    """Neutral-class precision and recall over confidence thresholds (Fig. 3).

    For each threshold the final predictions follow the paper's Algorithm 1:
    a sample the speech model predicted neutral stays neutral if the text
    model's P(neutral) is at least the threshold, and otherwise takes the text
    model's most probable class (see
    :func:`sklearn_hser._algorithm.apply_threshold_rule`); a sample the speech
    model predicted emotional takes its level-2 prediction ``emotion_pred``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    speech_is_neutral : array-like of bool, shape (n_samples,)
        Level-1 routing: True where the speech model predicted neutral.
        Integer 0/1 is accepted too.
    text_proba : array-like of shape (n_samples, n_classes) or (n_neutral, n_classes)
        Text-model probabilities, either for every sample or only for the
        ``n_neutral`` samples routed to the text model (in sample order).
    text_classes : array-like of shape (n_classes,)
        Column labels of ``text_proba``; must include ``neutral_label``.
    thresholds : iterable of float
        Thresholds in ``[0, 1]``, reported in the order given.  A ``None``
        entry is dropped: the no-threshold point is always the first row.
    emotion_pred : array-like of shape (n_samples,) or (n_emotional,), default=None
        Level-2 predictions of the samples routed as emotional, for every
        sample or only for those.  None means those samples simply count as
        "not neutral"; the neutral precision and recall do not need more, but
        UA and WA are then NaN.
    neutral_label : object, default="neutral"
        The label of the neutral class.

    Returns
    -------
    table : pandas.DataFrame
        One row per point, the first being the plain text argmax
        (``threshold`` NaN, ``no_threshold`` True), then one per threshold
        (``no_threshold`` False).  Columns: ``threshold``, ``no_threshold``,
        ``precision`` and ``recall`` of the neutral class, ``n_pred_neutral``
        and ``n_true_neutral``, and ``UA`` and ``WA`` of the final predictions
        (NaN without ``emotion_pred``).  Precision with no neutral prediction
        and recall with no neutral sample are undefined: NaN.

    Notes
    -----
    Lowering the threshold can only keep more samples neutral, so neutral
    recall never decreases as the threshold decreases, while neutral precision
    usually drops.  The paper tries 0.25, 0.30, 0.35 and 0.40.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hser.metrics import neutral_precision_recall
    >>> y_true = ["neutral", "neutral", "sad", "happy"]
    >>> speech_is_neutral = [True, True, True, False]
    >>> classes = ["angry", "happy", "neutral", "sad"]
    >>> proba = np.array([[0.1, 0.1, 0.7, 0.1],   # text: neutral
    ...                   [0.1, 0.1, 0.3, 0.5],   # text: sad, P(neutral) 0.3
    ...                   [0.1, 0.1, 0.2, 0.6]])  # text: sad, P(neutral) 0.2
    >>> table = neutral_precision_recall(
    ...     y_true, speech_is_neutral, proba, classes, [0.4, 0.3, 0.2],
    ...     emotion_pred=["happy"])
    >>> table[["threshold", "no_threshold", "precision", "recall", "UA"]]
       threshold  no_threshold  precision  recall        UA
    0        NaN          True   1.000000     0.5  0.833333
    1        0.4         False   1.000000     0.5  0.833333
    2        0.3         False   1.000000     1.0  1.000000
    3        0.2         False   0.666667     1.0  0.666667
    """
    (y_true,) = _check_targets(("y_true", y_true))
    n_samples = len(y_true)
    routed = _as_routing_mask(speech_is_neutral, n_samples)

    proba = np.asarray(text_proba)
    if proba.ndim != 2:
        raise ValueError(
            f"text_proba must be 2-D (n_samples, n_classes), got shape {proba.shape}."
        )
    proba = _rows_for(proba, routed, "text_proba")

    emotion = None
    if emotion_pred is not None:
        emotion = _as_label_array(emotion_pred, "emotion_pred")
        emotion = _rows_for(emotion, ~routed, "emotion_pred")
        if len(emotion):
            unique_labels(y_true, emotion)  # same kind of labels

    points = [None, *_thresholds_list(thresholds)]
    true_neutral = y_true == neutral_label
    n_true_neutral = int(np.count_nonzero(true_neutral))
    # Every label the final predictions can hold, in the labels' own dtype
    # (integers stay integers for scikit-learn's metrics; no string is cut).
    labels = [neutral_label, *np.asarray(text_classes).tolist()]
    if emotion is not None:
        labels += emotion.tolist()
    outputs = HierarchyOutputs(
        gate=np.where(routed, NEUTRAL, EMOTIONAL),
        classes=np.asarray(labels),
        text_classes=text_classes,
        emotion_pred=emotion,
        text_proba=proba,
        neutral_label=neutral_label,
    )
    rows = []
    for threshold in points:
        final = outputs.predict(threshold)
        pred_neutral = final == neutral_label
        tp = int(np.count_nonzero(pred_neutral & true_neutral))
        n_pred_neutral = int(np.count_nonzero(pred_neutral))
        ua = wa = np.nan
        if emotion is not None:
            ua = unweighted_accuracy(y_true, final)
            wa = weighted_accuracy(y_true, final)
        rows.append(
            {
                "threshold": np.nan if threshold is None else threshold,
                "no_threshold": threshold is None,
                "precision": _ratio(tp, n_pred_neutral),
                "recall": _ratio(tp, n_true_neutral),
                "n_pred_neutral": n_pred_neutral,
                "n_true_neutral": n_true_neutral,
                "UA": ua,
                "WA": wa,
            }
        )
    return pd.DataFrame(rows)

"""The modality-consistency rule of the paper's Algorithm 1, as one pure function.

For a sample that the level-1 speech model routes to *neutral*, the text model
(Model 3) gives a probability for each of the four classes.  The rule decides
whether the speech decision is kept or the text model takes over:

* if the text's probability of *neutral* is at least ``threshold``, the sample
  stays neutral (the two modalities agree well enough);
* otherwise the text model's most probable class is the final prediction.

With no threshold the final prediction is simply the text argmax.

The hierarchical estimator and the evaluation helpers in
:mod:`sklearn_hser.metrics` both call :func:`apply_threshold_rule`, so the rule
is written down exactly once.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._labels import NEUTRAL

__all__ = ["apply_threshold_rule", "check_threshold"]


def check_threshold(threshold):
    """Validate a confidence threshold and return it as a float (or None).

    Parameters
    ----------
    threshold : float or None
        ``None`` (no threshold) or a real number in ``[0, 1]``.

    Returns
    -------
    threshold : float or None
        The threshold as a Python float, or ``None``.

    Raises
    ------
    ValueError
        If ``threshold`` is not ``None`` and not a finite real number in
        ``[0, 1]`` (booleans are refused too).

    Examples
    --------
    >>> from sklearn_hser._algorithm import check_threshold
    >>> check_threshold(0.3)
    0.3
    >>> check_threshold(None) is None
    True
    """
    if threshold is None:
        return None
    if isinstance(threshold, bool | np.bool_) or not isinstance(
        threshold, numbers.Real
    ):
        raise ValueError(
            f"threshold must be None or a real number in [0, 1], got {threshold!r}."
        )
    value = float(threshold)
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise ValueError(f"threshold must lie in [0, 1], got {threshold!r}.")
    return value


def apply_threshold_rule(text_proba, text_classes, threshold, neutral_label=NEUTRAL):
    """Final labels of speech-neutral samples under the confidence-threshold rule.

    Every row of ``text_proba`` is taken to be a sample that the level-1 speech
    model predicted as neutral.  For each row, with ``p`` the text model's
    probability of ``neutral_label``::

        if threshold is not None and p >= threshold:  final = neutral_label
        else:                                         final = argmax of the row

    Parameters
    ----------
    text_proba : array-like of shape (n_samples, n_classes)
        Class probabilities from the text model, one row per speech-neutral
        sample, columns in the order of ``text_classes`` (as returned by
        ``predict_proba``).  Values must be finite; rows are not required to
        sum to one.
    text_classes : array-like of shape (n_classes,)
        Class label of each column (the text model's ``classes_``).  Must be
        distinct and contain ``neutral_label``.
    threshold : float or None
        Confidence threshold in ``[0, 1]``, or ``None`` for the plain text
        argmax.  The comparison is ``p >= threshold``: a probability exactly
        equal to the threshold keeps the sample neutral, ``threshold=0`` keeps
        every sample neutral, and ``threshold=1`` keeps a sample neutral through
        the threshold only when ``p == 1`` (otherwise the argmax decides, which
        may still be neutral).
    neutral_label : object, default="neutral"
        The label of the neutral class.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        The final label of each row, taken from ``text_classes`` (same dtype as
        ``np.asarray(text_classes)``).

    Raises
    ------
    ValueError
        If ``text_proba`` is not 2-D, has non-finite values or a number of
        columns different from ``len(text_classes)``; if ``text_classes`` has
        duplicates or lacks ``neutral_label``; or if ``threshold`` is not
        ``None`` and not in ``[0, 1]``.

    Notes
    -----
    Ties in the argmax are resolved in favour of the class that comes first
    in ``text_classes`` (``numpy.argmax`` semantics).  When the rule falls back
    to the argmax, the argmax can itself be neutral: the threshold only changes
    the decision for rows whose argmax is emotional while ``p`` is still at
    least ``threshold``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hser._algorithm import apply_threshold_rule
    >>> classes = ["angry", "happy", "neutral", "sad"]
    >>> proba = np.array([[0.10, 0.50, 0.35, 0.05],
    ...                   [0.05, 0.20, 0.25, 0.50],
    ...                   [0.10, 0.10, 0.70, 0.10]])
    >>> apply_threshold_rule(proba, classes, None).tolist()
    ['happy', 'sad', 'neutral']
    >>> apply_threshold_rule(proba, classes, 0.3).tolist()
    ['neutral', 'sad', 'neutral']
    >>> apply_threshold_rule(proba, classes, 0.25).tolist()
    ['neutral', 'neutral', 'neutral']
    """
    threshold = check_threshold(threshold)

    classes = np.asarray(text_classes)
    if classes.ndim != 1 or classes.size == 0:
        raise ValueError(
            "text_classes must be a non-empty 1-D sequence of labels, got shape "
            f"{classes.shape}."
        )
    class_list = classes.tolist()
    if len(set(class_list)) != len(class_list):
        raise ValueError(f"text_classes has duplicate labels: {class_list!r}.")
    try:
        neutral_col = class_list.index(neutral_label)
    except ValueError:
        raise ValueError(
            f"neutral_label {neutral_label!r} is not one of text_classes "
            f"{class_list!r}."
        ) from None

    try:
        proba = np.asarray(text_proba, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"text_proba must be numeric: {exc}") from None
    if proba.ndim != 2:
        raise ValueError(
            f"text_proba must be 2-D (n_samples, n_classes), got shape {proba.shape}."
        )
    if proba.shape[1] != classes.size:
        raise ValueError(
            f"text_proba has {proba.shape[1]} columns but text_classes has "
            f"{classes.size} labels."
        )
    if not np.all(np.isfinite(proba)):
        raise ValueError("text_proba contains NaN or infinite values.")

    labels = classes[np.argmax(proba, axis=1)]
    if threshold is not None:
        labels[proba[:, neutral_col] >= threshold] = classes[neutral_col]
    return labels

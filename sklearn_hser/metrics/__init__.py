"""Evaluation metrics of the paper, as plain functions and scikit-learn scorers.

* :func:`unweighted_accuracy` (UA, mean per-class recall) and
  :func:`weighted_accuracy` (WA, plain accuracy), with scorers
  (:data:`ua_scorer`, :data:`wa_scorer`, :data:`SCORERS`, :func:`get_scorer`)
  for ``cross_val_score`` / ``GridSearchCV``.
* :func:`per_class_report` and :func:`system_row`: per-class precision and
  recall plus UA and WA, the content of one row of the paper's Table II.
* :func:`confusion_table`: a labelled confusion matrix.
* :func:`scores_record`: all of these for one system, as plain JSON-ready
  values: the one record that ``hser evaluate`` and the study write.
* :func:`format_score`: how a score is printed.
* :func:`correction_counts` / :func:`correction_rate`: the share of emotional
  samples missed by the speech model (predicted neutral) that the text model
  got right (the paper's Fig. 2).
* :func:`neutral_precision_recall`: the neutral class's precision and recall
  over confidence thresholds (the paper's Fig. 3).

Conventions shared by every function here:

* Labels are compared with ``==``; strings (the package's own labels, see
  :mod:`sklearn_hser._labels`) and integers both work, but one array must not
  mix the two kinds.
* Undefined ratios in per-class tables (precision of a class that is never
  predicted, recall of a class with no true sample) are NaN, and ``None``
  once written as JSON; no warning is raised.  This is
  ``zero_division=np.nan`` in scikit-learn's terms.  F1 is defined (0.0)
  whenever the class is predicted or present.

Plotting lives elsewhere; this module depends only on numpy, pandas and
scikit-learn.
"""

from ._figures import correction_counts, correction_rate, neutral_precision_recall
from ._scores import (  # noqa: F401 - SCORING_NAMES, ordered_labels: package-wide
    SCORERS,
    SCORING_NAMES,
    confusion_table,
    format_score,
    get_scorer,
    ordered_labels,
    per_class_report,
    scores_record,
    system_row,
    ua_scorer,
    unweighted_accuracy,
    wa_scorer,
    weighted_accuracy,
)

__all__ = [
    "SCORERS",
    "confusion_table",
    "correction_counts",
    "correction_rate",
    "format_score",
    "get_scorer",
    "neutral_precision_recall",
    "per_class_report",
    "scores_record",
    "system_row",
    "ua_scorer",
    "unweighted_accuracy",
    "wa_scorer",
    "weighted_accuracy",
]

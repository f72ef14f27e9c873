"""Which model decided each sample of a hierarchy, and its probabilities.

``HierarchicalClassifier.predict_proba`` gives the probabilities of the
branch model a sample was routed to. On the text branch with a threshold,
the text model does not always decide: where the threshold rule keeps the
gate's *neutral* although the text model's argmax is an emotion, and at
threshold 0 everywhere (the text model is never consulted there), the
speech gate decided. ``hser predict`` and ``hser timeline`` report, for each
sample, the model that decided it (``decided_by``) and that model's
probabilities, so that a row labelled *neutral* never shows another class
as the more probable one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, validate_params

from ._algorithm import GATE_DECIDED

__all__ = ["deciding_model", "deciding_proba", "route_and_proba"]


def deciding_model(route):
    """Which model decided each sample: ``route``'s ``decided_by``, else its branch.

    A hierarchy's route names it (``text``, ``speech_gate`` or
    ``speech_emotion``; see :meth:`HierarchicalClassifier.route
    <sklearn_hser.HierarchicalClassifier.route>`); a flat model or a baseline
    decides each sample on its one branch.
    """
    column = "decided_by" if "decided_by" in route else "branch"
    return route[column].to_numpy(dtype=object)


def _gate_proba(model, X, rows, classes):
    """The speech gate's probabilities of ``rows``, columns as ``classes``.

    A gate over every class gives them all; the paper's neutral-vs-emotional
    gate gives only P(neutral) (the other columns are NaN).
    """
    out = np.full((len(rows), len(classes)), np.nan)
    gate = getattr(model, "speech_gate_", None)
    if gate is None or not hasattr(gate, "predict_proba") or not len(rows):
        return out
    X_rows = _safe_indexing(X, rows)
    features = getattr(model, "speech_features_", None)
    if features is not None:
        X_rows = features.transform(X_rows)
    proba = gate.predict_proba(X_rows)
    gate_classes = list(gate.classes_)
    for j, label in enumerate(classes):
        if label in gate_classes:
            out[:, j] = proba[:, gate_classes.index(label)]
    return out


def deciding_proba(model, X, route, proba):
    """Probabilities of the model that decided each sample.

    Parameters
    ----------
    model : fitted classifier
    X : the samples given to ``route_and_proba``
    route : DataFrame from ``route_and_proba``
    proba : ndarray or None from ``route_and_proba``

    Returns
    -------
    decided_by : ndarray of str
    proba : ndarray or None
        ``proba``, with the rows the gate decided replaced by the gate's own
        probabilities (see :func:`_gate_proba`).
    """
    # A TunedThresholdHierarchyCV decides by its refitted hierarchy: the
    # gate is that one's. Imported here: evaluation imports the hierarchy,
    # which imports this module.
    from .evaluation import _hierarchy_of

    model = _hierarchy_of(model) or model
    decided_by = deciding_model(route)
    if proba is None:
        return decided_by, None
    proba = np.array(proba, dtype=float)
    rows = np.flatnonzero(decided_by == GATE_DECIDED)
    if len(rows):
        proba[rows] = _gate_proba(model, X, rows, list(model.classes_))
    return decided_by, proba


@validate_params(
    {"model": [HasMethods(["predict"])], "X": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def route_and_proba(model, X):
    """``model.route(X)`` and ``model.predict_proba(X)`` from one pass when possible.

    A :class:`HierarchicalClassifier` runs its sub-models once
    (:meth:`HierarchicalClassifier.outputs`); any other model with ``route``
    (the baselines, :class:`~sklearn_hser.threshold_tuning.TunedThresholdHierarchyCV`)
    is asked twice; a model without ``route`` (a flat classifier or pipeline)
    decides every sample itself, on one ``"flat"`` branch.

    Parameters
    ----------
    model : fitted classifier
    X : DataFrame, array-like or sequence

    Returns
    -------
    route : pandas.DataFrame
        With at least the columns ``branch``, ``kept_neutral`` and
        ``prediction``.
    proba : ndarray of shape (n_samples, n_classes) or None
        ``None`` when the model has no ``predict_proba``.
    """
    has_proba = hasattr(model, "predict_proba")
    if hasattr(model, "outputs"):
        outputs = model.outputs(X, proba=has_proba)
        return outputs.route(), outputs.predict_proba() if has_proba else None
    if hasattr(model, "route"):
        route = model.route(X)
    else:
        prediction = np.asarray(model.predict(X))
        route = pd.DataFrame(
            {"branch": "flat", "kept_neutral": False, "prediction": prediction}
        )
    return route, model.predict_proba(X) if has_proba else None

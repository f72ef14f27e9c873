"""How any fitted classifier decided each sample, and with what probabilities.

``hser predict`` and ``hser timeline`` label samples with a hierarchy, a
baseline or any flat classifier, and report for each sample its route, the
model that decided it (``decided_by``) and that model's probabilities, so
that a row labelled *neutral* never shows another class as the more
probable one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import HasMethods, validate_params

__all__ = ["route_and_proba"]


@validate_params(
    {"model": [HasMethods(["predict"])], "X": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def route_and_proba(model, X):
    """How ``model`` decided each sample, and the deciding model's probabilities.

    A :class:`HierarchicalClassifier` (or a
    :class:`~sklearn_hser.threshold_tuning.TunedThresholdHierarchyCV`) runs
    its sub-models once (:meth:`HierarchicalClassifier.outputs`); its
    probabilities are :meth:`HierarchyOutputs.deciding_proba
    <sklearn_hser.hierarchy.HierarchyOutputs.deciding_proba>`: the routed
    branch's, or the gate's where its neutral stood. Any other model with
    ``route`` (the baselines) decides each sample on the branch it names; a
    model without ``route`` (a flat classifier or pipeline) decides every
    sample itself, on one ``"flat"`` branch.

    Parameters
    ----------
    model : fitted classifier
    X : DataFrame, array-like or sequence

    Returns
    -------
    route : pandas.DataFrame
        ``model.route(X)`` where it has one, with at least the columns
        ``speech_gate`` (None for a model without a gate), ``branch``,
        ``kept_neutral``, ``decided_by`` and ``prediction``.
    proba : ndarray of shape (n_samples, n_classes) or None
        ``None`` when the model has no ``predict_proba``.
    """
    has_proba = hasattr(model, "predict_proba")
    if hasattr(model, "outputs"):
        outputs = model.outputs(X, proba=has_proba)
        return outputs.route(), outputs.deciding_proba() if has_proba else None
    if hasattr(model, "route"):
        route = model.route(X)
    else:
        prediction = np.asarray(model.predict(X))
        route = pd.DataFrame({"branch": "flat", "prediction": prediction})
    defaults = dict(speech_gate=None, kept_neutral=False, decided_by=route["branch"])
    route = route.assign(**{k: v for k, v in defaults.items() if k not in route})
    return route, model.predict_proba(X) if has_proba else None

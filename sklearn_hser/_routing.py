"""Fitting the sub-estimators of a meta-estimator: their metadata, a fit cache.

The package's meta-estimators route ``fit`` metadata as scikit-learn's own
do: with metadata routing enabled, each sub-estimator gets what it requests
(``set_fit_request``); without it, only ``sample_weight`` is accepted, and it
goes to every sub-estimator but the transformers, as in sklearn's stacking
estimators.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import _check_method_params, check_memory

from ._fingerprint import data_fingerprint


def routed_fit_params(owner, X, sample_weight, fit_params, names, *, transformers=()):
    """``{name: fit params}`` for each sub-estimator ``name`` of ``owner``.

    Parameters
    ----------
    owner : estimator
        The meta-estimator (defines ``get_metadata_routing``).
    X : array-like
        The training samples (params of their length are made indexable).
    sample_weight : array-like or None
    fit_params : dict
        Other metadata given to ``owner.fit``.
    names : list of str
        Sub-estimator names, as in ``owner``'s router.
    transformers : tuple of str, default=()
        Names that get no ``sample_weight`` without routing.

    Returns
    -------
    dict
    """
    if _routing_enabled():
        if sample_weight is not None:
            fit_params = {**fit_params, "sample_weight": sample_weight}
        routed = process_routing(owner, "fit", **fit_params)
        return {name: _check_method_params(X, dict(routed[name].fit)) for name in names}
    _raise_for_params(fit_params, owner, "fit")
    params = {} if sample_weight is None else {"sample_weight": sample_weight}
    return {
        name: {} if name in transformers else _check_method_params(X, params)
        for name in names
    }


def fit_router(owner, names):
    """A router sending ``owner.fit``'s metadata to each sub-estimator's ``fit``.

    Parameters
    ----------
    owner : estimator
        The meta-estimator; ``names`` are its attributes.
    names : list of str
        Sub-estimator parameter names.

    Returns
    -------
    MetadataRouter
    """
    router = MetadataRouter(owner=owner)
    for name in names:
        router.add(
            **{name: getattr(owner, name)},
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
    return router


def _fit_clone(estimator, X, y, params=None, data_key=None):
    """Fit a clone; module level so that ``joblib.Memory`` can cache it.

    Under a memory, the cache key is ``(estimator, data_key)``: ``X``, ``y``
    and ``params`` are left out of joblib's hashing and stand in as
    ``data_key``, a cheaper digest of their content.
    """
    return clone(estimator).fit(X, y, **(params or {}))


def _fit_transform_clone(transformer, X, y, params=None, data_key=None):
    """Fit a clone of the shared feature step; return it and its output."""
    fitted = clone(transformer)
    return fitted, fitted.fit_transform(X, y, **(params or {}))


def _cached(function, memory):
    """``function(estimator, X, y, params)`` reading and filling ``memory``."""
    memory = check_memory(memory)
    if memory.location is None:
        return function
    cached = memory.cache(function, ignore=["X", "y", "params"])

    def run(estimator, X, y, params=None):
        if isinstance(estimator, FrozenEstimator):
            # Nothing to fit; caching would only hash and pickle the model.
            return function(estimator, X, y, params)
        params = params or {}
        key = (
            data_fingerprint(X),
            data_fingerprint(np.asarray(y)),
            {k: data_fingerprint(v) for k, v in sorted(params.items())},
        )
        return cached(estimator, X, y, params, data_key=key)

    return run


def _fit_or_constant(fit, estimator, X, y, params):
    """Fit ``estimator``, or a constant predictor when ``y`` has one class.

    A level of the hierarchy can see a single class (e.g. one emotional
    class, or no neutral sample); a classifier cannot be trained on that,
    and the level's answer is then certain anyway.
    """
    if len(np.unique(y)) > 1:
        return fit(estimator, X, y, params)
    weight = (params or {}).get("sample_weight")
    return DummyClassifier(strategy="most_frequent").fit(X, y, sample_weight=weight)


def check_known_classes(model, classes, name):
    """Refuse a fitted sub-model that can answer a class outside ``classes``.

    A frozen or pre-fitted sub-model may know classes that the hierarchy's
    ``y`` lacks; its answers would then be labels the hierarchy does not
    have, and probabilities in no column.
    """
    known = np.asarray(classes).tolist()
    unknown = [c for c in np.asarray(model.classes_).tolist() if c not in known]
    if unknown:
        raise ValueError(
            f"The {name} model can predict {unknown}, which y does not hold "
            f"(classes {known}); fit it on these classes only."
        )

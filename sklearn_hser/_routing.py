"""Metadata (``sample_weight``, ...) for the sub-estimators of a meta-estimator.

The package's meta-estimators route ``fit`` metadata as scikit-learn's own
do: with metadata routing enabled, each sub-estimator gets what it requests
(``set_fit_request``); without it, only ``sample_weight`` is accepted, and it
goes to every sub-estimator but the transformers, as in sklearn's stacking
estimators.
"""

from __future__ import annotations

from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import _check_method_params


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

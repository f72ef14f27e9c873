"""Saving and loading fitted systems, with the package version checked on load.

A saved file is a joblib pickle of a small envelope: the fitted estimator and
metadata (package version, class labels, free-form details such as the
system name and threshold). Loading compares the saved package version with
the running one and warns on a mismatch, as scikit-learn does for its own
estimators: a model pickled by another version may behave differently.

Like every pickle, only load files you trust.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import joblib

_FORMAT = "sklearn-hser-model"


class ModelVersionWarning(UserWarning):
    """A model saved by another version of sklearn-hser was loaded."""


def save_model(model, path, **metadata) -> Path:
    """Save a fitted estimator with its metadata.

    Parameters
    ----------
    model : estimator
        A fitted estimator (e.g. a :class:`~sklearn_hser.HierarchicalClassifier`).
    path : path-like
        Destination file (conventionally ``*.joblib``).
    **metadata
        JSON-like details stored beside the model (system name, corpus, ...).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from sklearn.utils.validation import check_is_fitted

    from . import __version__

    check_is_fitted(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    envelope = {
        "format": _FORMAT,
        "version": __version__,
        "classes": [str(c) for c in getattr(model, "classes_", [])],
        "metadata": metadata,
        "model": model,
    }
    joblib.dump(envelope, path)
    return path


def load_model(path):
    """Load a model saved by :func:`save_model`.

    Parameters
    ----------
    path : path-like
        A file written by :func:`save_model`.

    Returns
    -------
    model : estimator
        The fitted estimator.
    info : dict
        ``version``, ``classes`` and ``metadata`` as saved.

    Raises
    ------
    ValueError
        If the file is missing or is not a sklearn-hser model file.

    Warns
    -----
    ModelVersionWarning
        If the file was saved by another sklearn-hser version.
    """
    from . import __version__

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"model file {str(path)!r} not found")
    try:
        envelope = joblib.load(path)
    except Exception as exc:
        raise ValueError(f"{str(path)!r} is not a readable model file ({exc})") from exc
    if not isinstance(envelope, dict) or envelope.get("format") != _FORMAT:
        raise ValueError(f"{str(path)!r} was not written by sklearn-hser's save_model")
    if envelope["version"] != __version__:
        warnings.warn(
            f"{path} was saved by sklearn-hser {envelope['version']} and is loaded "
            f"by {__version__}; predictions may differ. Refit to be safe.",
            ModelVersionWarning,
            stacklevel=2,
        )
    info = {k: envelope[k] for k in ("version", "classes", "metadata")}
    return envelope["model"], info

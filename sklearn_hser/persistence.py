"""Saving and loading fitted systems, with the package version checked on load.

A saved file is a joblib pickle of a small envelope: the fitted estimator and
metadata (package version, class labels, free-form details such as the
system name and threshold). Loading compares the saved package version with
the running one and warns on a mismatch, as scikit-learn does for its own
estimators: a model pickled by another version may behave differently.

Files are written atomically (a temporary file renamed over the
destination), so a killed ``save_model`` leaves the previous file or none,
never a torn one.

Loading does not run code from the file: :func:`load_model` reads it with
an unpickler that only accepts what fitted sklearn-hser models are made of
(estimators, torch modules and optimisers, skorch nets, arrays) and refuses
any other function or class the file names, before calling it. A model that
uses other estimators (your own classes, say) is refused too; load it with
``trusted=True`` (``hser predict --trust``) if, and only if, you trust
where it came from, since that is a plain unpickling.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import joblib
from sklearn.utils._param_validation import HasMethods, validate_params

_FORMAT = "sklearn-hser-model"


class ModelVersionWarning(UserWarning):
    """A model saved by another version of sklearn-hser was loaded."""


@validate_params(
    {"model": [HasMethods(["fit"])], "path": [str, os.PathLike]},
    prefer_skip_nested_validation=True,
)
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
    from ._atomic import atomic_write

    check_is_fitted(model)
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a directory, not a model file name")
    envelope = {
        "format": _FORMAT,
        "version": __version__,
        "classes": [str(c) for c in getattr(model, "classes_", [])],
        "metadata": metadata,
        "model": model,
    }
    return atomic_write(path, lambda f: joblib.dump(envelope, f))


@validate_params(
    {"path": [str, os.PathLike], "trusted": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_model(path, *, trusted: bool = False):
    """Load a model saved by :func:`save_model`.

    Parameters
    ----------
    path : path-like
        A file written by :func:`save_model`.
    trusted : bool, default=False
        False: refuse any function or class a fitted sklearn-hser model is
        not made of, without running it. True: unpickle without checks, which
        runs whatever code the file names; only for files you trust.

    Returns
    -------
    model : estimator
        The fitted estimator.
    info : dict
        ``version``, ``classes`` and ``metadata`` as saved.

    Raises
    ------
    ValueError
        If the file is missing, is not a sklearn-hser model file, holds
        something other than an estimator, or (unless ``trusted``) names
        code a model is not made of.

    Warns
    -----
    ModelVersionWarning
        If the file was saved by another sklearn-hser version.
    """
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from . import __version__
    from ._safe_pickle import UnsafeModelError, load_restricted

    path = Path(path)
    try:
        if path.is_dir():
            raise ValueError(f"{str(path)!r} is a folder, not a model file")
        if not path.is_file():
            raise ValueError(f"model file {str(path)!r} not found")
    except OSError as exc:  # e.g. a name too long for the file system
        raise ValueError(f"model file {str(path)[:60]!r}...: {exc.strerror}") from None
    try:
        envelope = joblib.load(path) if trusted else load_restricted(path)
    except UnsafeModelError as exc:
        raise ValueError(
            f"{str(path)!r} was not loaded: {exc}. Load it as trusted only if "
            "you trust its source (hser predict --trust)"
        ) from exc
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"{str(path)!r} is not a readable model file ({reason})"
        ) from exc
    if not isinstance(envelope, dict) or envelope.get("format") != _FORMAT:
        raise ValueError(f"{str(path)!r} was not written by sklearn-hser's save_model")
    missing = {"version", "classes", "metadata", "model"} - set(envelope)
    if missing or not isinstance(envelope["metadata"], dict):
        raise ValueError(f"{str(path)!r} is an incomplete sklearn-hser model file")
    if not isinstance(envelope["model"], BaseEstimator):
        raise ValueError(
            f"{str(path)!r} holds a {type(envelope['model']).__name__}, "
            "not a fitted estimator"
        )
    try:
        check_is_fitted(envelope["model"])
    except NotFittedError:
        raise ValueError(
            f"{str(path)!r} holds an unfitted {type(envelope['model']).__name__}, "
            "not a fitted estimator"
        ) from None
    if envelope["version"] != __version__:
        warnings.warn(
            f"{path} was saved by sklearn-hser {envelope['version']} and is loaded "
            f"by {__version__}; predictions may differ. Refit to be safe.",
            ModelVersionWarning,
            stacklevel=3,  # the caller, past validate_params's wrapper
        )
    info = {k: envelope[k] for k in ("version", "classes", "metadata")}
    return envelope["model"], info


def _saved_fit_key(path) -> str | None:
    """The ``fit_key`` metadata of the model at ``path``; None if unreadable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelVersionWarning)
            _, info = load_model(path)
    except ValueError:
        return None
    return info["metadata"].get("fit_key")

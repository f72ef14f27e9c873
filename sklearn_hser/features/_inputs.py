"""Reading per-utterance items (audio or transcripts) out of any ``X``.

Shared by the feature extractors and by the estimators that take raw audio
(e.g. the wav2vec2 classifier), so that every one of them accepts the same
forms of input:

* a 1-D sequence of items: list, tuple, 1-D object/str array, pandas Series;
* a one-column DataFrame or 2-D object array;
* any DataFrame (or dict of columns) with ``column=`` naming the column;
* for audio only, a 2-D numeric array or all-numeric DataFrame, read as a
  batch of equal-length 16 kHz waveforms, one per row.  It is validated like
  any scikit-learn feature matrix (``n_features_in_``, ``feature_names_in_``).
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import validate_data


def select_items(estimator, X, *, column=None, kind="audio", reset=True) -> list:
    """Return the items of ``X`` as a list.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator reading ``X``: named in errors, and given
        ``n_features_in_`` when ``X`` is a numeric waveform matrix.
    X : object
        One of the forms listed in the module docstring.
    column : str, default=None
        Column of a DataFrame (or key of a dict) holding the items.
    kind : {"audio", "text"}, default="audio"
        Text items must be strings; only audio accepts a numeric matrix.
    reset : bool, default=True
        As in :func:`sklearn.utils.validation.validate_data`: True in ``fit``.

    Returns
    -------
    list

    Raises
    ------
    ValueError
        On an empty ``X``, a missing column, an ambiguous multi-column
        DataFrame, a 1-D numeric array, or (text) a non-string item.
    """
    import pandas as pd
    import scipy.sparse as sp

    owner = type(estimator).__name__
    if column is not None:
        try:
            selected = X[column]
        except (KeyError, IndexError, TypeError, ValueError):
            columns = list(getattr(X, "columns", getattr(X, "keys", list)()))
            raise ValueError(
                f"{owner}: column {column!r} not found in X (available: {columns})."
            ) from None
        items = list(selected)
    elif isinstance(X, pd.Series):
        items = list(X)
    elif (
        isinstance(X, pd.DataFrame)
        and X.shape[1] == 1
        and not pd.api.types.is_numeric_dtype(X.dtypes.iloc[0])
    ):
        items = list(X.iloc[:, 0])
    elif (
        isinstance(X, pd.DataFrame)
        and kind == "audio"
        and all(pd.api.types.is_numeric_dtype(t) for t in X.dtypes)
    ):
        items = _waveform_rows(estimator, X, reset)
    elif isinstance(X, pd.DataFrame):
        raise ValueError(
            f"{owner}: X is a DataFrame with columns {list(X.columns)}; set "
            f"column= to the one holding the {kind} inputs."
        )
    elif sp.issparse(X):
        validate_data(estimator, X, reset=reset)  # raises sklearn's sparse error
        raise TypeError("Sparse input is not supported.")  # pragma: no cover
    elif isinstance(X, (list, tuple)):
        items = list(X)
    else:
        items = _items_from_array(estimator, np.asarray(X), kind, reset)
    if len(items) == 0:
        raise ValueError(f"{owner}: found 0 samples; at least 1 is required.")
    if kind == "text":
        check_texts(estimator, items)
    return items


def _items_from_array(estimator, array: np.ndarray, kind: str, reset: bool) -> list:
    owner = type(estimator).__name__
    textual = array.dtype == object or array.dtype.kind in "US"
    if textual and array.ndim == 1:
        return list(array)
    if textual and array.ndim == 2 and array.shape[1] == 1:
        return list(array[:, 0])
    if array.ndim == 2 and kind == "audio":
        return _waveform_rows(estimator, array, reset)
    if array.ndim == 1:
        raise ValueError(
            f"{owner}: got a 1-D numeric array. Pass a list of items (one "
            "waveform or path per sample), or a 2-D array with one waveform per "
            "row. Reshape your data either using array.reshape(-1, 1) or "
            "array.reshape(1, -1)."
        )
    raise ValueError(
        f"{owner}: cannot read {kind} inputs from an array of shape "
        f"{array.shape} and dtype {array.dtype}."
    )


def _waveform_rows(estimator, X, reset: bool) -> list:
    """Validate a numeric matrix whose rows are 16 kHz waveforms."""
    array = validate_data(estimator, X, reset=reset, dtype=[np.float32, np.float64])
    return list(np.asarray(array, dtype=np.float32))


def check_texts(estimator, items: list) -> None:
    """Raise a ValueError naming the first item that is not a string."""
    import pandas as pd

    for position, text in enumerate(items):
        if isinstance(text, str):
            continue
        missing = text is None or bool(np.ndim(text) == 0 and pd.isna(text))
        what = "a missing transcript" if missing else type(text).__name__
        raise ValueError(
            f"{type(estimator).__name__}: expected a transcript string at "
            f"position {position}; got {what}. Fill missing transcripts "
            "(e.g. with '') before extracting text features."
        )

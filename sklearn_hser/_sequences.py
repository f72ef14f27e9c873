"""The package's one representation of variable-length feature sequences.

A batch of ``n`` sequences is a **1-D NumPy array of dtype object** whose
items are 2-D float32 arrays of shape ``(t_i, d)``: ``t_i`` frames (tokens,
analysis frames, encoder steps) of a common dimension ``d``.  This travels
unchanged through everything that indexes rows: ``Pipeline``,
``sklearn.utils._safe_indexing`` (hence ``GridSearchCV`` and
``cross_val_score`` slicing), ``train_test_split``, pickling and joblib.
Estimators that consume sequences (``LSTMClassifier``) pad them per batch and
keep the true lengths, so padding never leaks into results.

Fixed-length features are ordinary 2-D float arrays ``(n, d)``.
"""

from __future__ import annotations

import numpy as np


def make_sequence_array(sequences) -> np.ndarray:
    """Pack 2-D arrays of a common width into a 1-D object array.

    ``np.array(list_of_arrays, dtype=object)`` would build a 3-D array when
    all items happen to share a length; filling an empty object array keeps
    the representation the same whatever the lengths are.

    Parameters
    ----------
    sequences : iterable of array-like of shape (t_i, d)
        The sequences. 1-D items are read as ``(t_i, 1)``.

    Returns
    -------
    ndarray of shape (n,), dtype object
        Items are C-contiguous float32 arrays of shape ``(t_i, d)``.
    """
    items = [np.ascontiguousarray(s, dtype=np.float32) for s in sequences]
    items = [s[:, None] if s.ndim == 1 else s for s in items]
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def is_sequence_array(X) -> bool:
    """Return True when ``X`` is a 1-D object array whose items are 2-D arrays."""
    return (
        isinstance(X, np.ndarray)
        and X.dtype == object
        and X.ndim == 1
        and len(X) > 0
        and all(isinstance(s, np.ndarray) and s.ndim == 2 for s in X)
    )


def check_sequence_array(X, *, allow_nan: bool = False) -> np.ndarray:
    """Validate a sequence batch and return it as float32 items.

    Parameters
    ----------
    X : ndarray of shape (n,), dtype object, or list of array-like
        Sequences of shape ``(t_i, d)``.
    allow_nan : bool, default=False
        Whether NaN/inf values are accepted.

    Returns
    -------
    ndarray of shape (n,), dtype object

    Raises
    ------
    ValueError
        If the batch is empty, an item is empty or not 2-D, the widths
        differ, or (unless ``allow_nan``) an item holds NaN or inf.
    """
    if isinstance(X, np.ndarray) and X.dtype != object:
        raise ValueError(
            "Expected a sequence batch (1-D object array of (t_i, d) arrays); "
            f"got a numeric array of shape {X.shape}."
        )
    if len(X) == 0:
        raise ValueError("Found an empty sequence batch (0 samples).")
    raw = list(X)
    for i, s in enumerate(raw):
        if np.ndim(s) != 2:
            raise ValueError(
                f"Sequence {i} has {np.ndim(s)} dimension(s); expected 2 (t, d)."
            )
    seqs = make_sequence_array(raw)
    widths = {s.shape[1] for s in seqs}
    if len(widths) != 1:
        raise ValueError(f"Sequences have different widths {sorted(widths)}.")
    for i, s in enumerate(seqs):
        if s.shape[0] == 0:
            raise ValueError(f"Sequence {i} has no frames.")
        if not allow_nan and not np.isfinite(s).all():
            raise ValueError(f"Sequence {i} contains NaN or infinity.")
    return seqs


def pool_sequences(X, method: str = "mean") -> np.ndarray:
    """Pool each sequence over time into one vector.

    Parameters
    ----------
    X : ndarray of shape (n,), dtype object
        Sequences of shape ``(t_i, d)``.
    method : {"mean", "max", "mean+std"}, default="mean"
        ``"mean+std"`` concatenates the mean and the standard deviation.

    Returns
    -------
    ndarray of shape (n, d) or (n, 2 * d), float32
    """
    if method == "mean":
        return np.stack([s.mean(axis=0) for s in X]).astype(np.float32)
    if method == "max":
        return np.stack([s.max(axis=0) for s in X]).astype(np.float32)
    if method == "mean+std":
        return np.stack(
            [np.concatenate([s.mean(axis=0), s.std(axis=0)]) for s in X]
        ).astype(np.float32)
    raise ValueError(f"Unknown pooling {method!r}; use 'mean', 'max' or 'mean+std'.")

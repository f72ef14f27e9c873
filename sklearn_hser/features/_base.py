"""Machinery shared by every per-utterance feature extractor.

A feature extractor maps each input (an audio item or a transcript) to one
feature array on its own, independently of the others.  This base class gives
all of them the same behaviour:

* **Inputs**: a 1-D sequence of items (list, tuple, 1-D array, pandas Series),
  a one-column 2-D array or DataFrame, or a multi-column DataFrame together
  with ``column=`` naming the column to read (so the extractor can sit inside
  a ``Pipeline`` over a multimodal corpus DataFrame).  Audio extractors also
  take a 2-D *numeric* array, read as a batch of equal-length 16 kHz
  waveforms, one per row; like any scikit-learn feature matrix, its width
  must then stay the same between ``fit`` and ``transform``.
* **Outputs**: a 2-D float32 array ``(n_samples, n_features)`` for pooled
  features, or a sequence batch (see :mod:`sklearn_hser._sequences`) for
  frame-level features.
* **Statelessness**: extractors learn nothing from data.  ``fit`` only
  validates its input, and ``transform`` works on an unfitted extractor, as
  for :class:`sklearn.preprocessing.Normalizer`.
* **Caching**: with ``cache_dir`` set, each item's features are stored on disk
  under a digest of the item's content and of the extractor's configuration,
  and are never computed twice (:mod:`sklearn_hser.features._cache`).
* **Parallelism**: ``n_jobs`` worker processes (joblib) extract the items not
  found in the cache.
* **Batching**: extractors built on neural networks override
  :meth:`BaseFeatureExtractor._extract_batch` and
  :meth:`BaseFeatureExtractor._batch_size` to run one forward pass over several
  decoded items; caching and ``n_jobs`` work the same, and the features of an
  item never depend on which other items share its batch.
"""

from __future__ import annotations

import os
import warnings
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from joblib import hash as joblib_hash
from sklearn import get_config
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._set_output import _get_output_config

from .._config import progress_bar
from .._sequences import make_sequence_array
from ._cache import FeatureCache, digest_input
from ._inputs import select_items
from .audio import (
    AudioInputError,
    ClippedAudioWarning,
    clipping_ratio,
    describe_item,
    load_audio,
)

#: Parameters that never change what an extractor computes; they are left
#: out of the cache key so that, e.g., a parallel run reuses a serial run's cache.
_NON_OUTPUT_PARAMS = frozenset({"column", "cache_dir", "n_jobs"})

#: A clipped item is one with at least this share of samples at full scale.
_CLIPPED_SHARE = 0.01


class BaseFeatureExtractor(TransformerMixin, BaseEstimator):
    """Base class for per-item feature extractors (not for direct use).

    Subclasses set ``_input_kind`` (``"audio"`` or ``"text"``) and implement
    :meth:`_extract_one` and :meth:`_feature_names`; they may override
    :meth:`_returns_sequences` and :meth:`_library_versions`, and, to process
    several items per call, :meth:`_extract_batch` with :meth:`_batch_size`.
    Their ``__init__`` must accept ``column``, ``cache_dir`` and ``n_jobs``.
    """

    _input_kind = "audio"

    #: Declarative checks of the shared parameters; subclasses extend it.
    _parameter_constraints: dict = {
        "column": [str, None],
        "cache_dir": [str, os.PathLike, None],
        "n_jobs": [Integral, None],
    }

    #: Parameters of a subclass that never change its output (e.g. a batch
    #: size); like ``column``, ``cache_dir`` and ``n_jobs`` they are left out
    #: of the cache key.
    _non_output_params: frozenset = frozenset()

    # -- subclass hooks -------------------------------------------------
    def _extract_one(self, value) -> np.ndarray:
        """Features of one decoded item (waveform or transcript)."""
        raise NotImplementedError

    def _extract_batch(self, values: list) -> list[np.ndarray]:
        """Features of several decoded items, one array per item, in order.

        The default calls :meth:`_extract_one` on each item. Overrides must
        give every item the features it would get on its own (no leak of
        padding or of other items), so that cached values do not depend on
        batch composition.
        """
        return [self._extract_one(value) for value in values]

    def _batch_size(self) -> int:
        """How many decoded items :meth:`_extract_batch` receives at once."""
        return 1

    def _feature_names(self) -> list[str]:
        """Names of the output columns (of each frame, for sequences)."""
        raise NotImplementedError

    def _returns_sequences(self) -> bool:
        """Whether each item gives a ``(t, d)`` sequence rather than a vector."""
        return False

    def _library_versions(self) -> tuple:
        """Versions of the libraries that compute the features (cache key)."""
        return ()

    def _check_params(self) -> None:
        """Checks beyond ``_parameter_constraints`` (e.g. a model's layers)."""

    def _validate(self) -> None:
        """Validate the parameters (the declarative part unless skipped).

        ``transform`` works unfitted, so it validates too; like ``fit``, it
        honours ``sklearn.config_context(skip_parameter_validation=True)``.
        """
        if not get_config()["skip_parameter_validation"]:
            self._validate_params()
        self._check_params()

    def _check_output_config(self) -> None:
        # set_output containers need one row of named columns per sample;
        # variable-length sequences have none.
        dense = _get_output_config("transform", self)["dense"]
        if dense != "default" and self._returns_sequences():
            raise ValueError(
                f"{type(self).__name__} returns variable-length frame sequences "
                f"(pooling=None), which cannot be a {dense} container; use "
                "set_output(transform='default'), or a pooling that gives one "
                "row per sample."
            )

    def set_output(self, *, transform=None):
        """Set the output container of ``transform`` (pooled features only).

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None
            As in scikit-learn. ``"pandas"`` and ``"polars"`` are refused for
            frame-sequence outputs (``pooling=None``), which have no column
            per feature.

        Returns
        -------
        self : object
        """
        super().set_output(transform=transform)
        self._check_output_config()
        return self

    # -- scikit-learn API ----------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the input; extractors learn nothing from data.

        Parameters
        ----------
        X : sequence of items, DataFrame or array-like
            See the class docstring for the accepted forms.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._check_params()
        self._select_items(X, reset=True)
        return self

    def transform(self, X):
        """Extract the features of every item.

        Parameters
        ----------
        X : sequence of items, DataFrame or array-like
            See the class docstring for the accepted forms.

        Returns
        -------
        ndarray of shape (n_samples, n_features), or sequence batch
            Float32 features; a 1-D object array of ``(t_i, n_features)``
            arrays when the extractor returns frame sequences.
        """
        self._validate()
        self._check_output_config()
        items = self._select_items(X, reset=False)
        features = self._extract_all(items)
        if self._returns_sequences():
            return make_sequence_array(features)
        return np.vstack(features).astype(np.float32, copy=False)

    def get_feature_names_out(self, input_features=None):
        """Names of the output features (of each frame, for sequences).

        Parameters
        ----------
        input_features : array-like of str, default=None
            Ignored; present for API compatibility.

        Returns
        -------
        ndarray of str
        """
        self._validate()
        return np.asarray(self._feature_names(), dtype=object)

    def __sklearn_is_fitted__(self):
        # Stateless: an extractor is usable without fit, like Normalizer.
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = []  # always float32 out
        if self._input_kind == "text":
            tags.input_tags.two_d_array = False
            tags.input_tags.string = True
        return tags

    # -- input handling -----------------------------------------------
    def _select_items(self, X, *, reset: bool) -> list:
        """Turn any accepted form of ``X`` into a list of items."""
        return select_items(
            self, X, column=self.column, kind=self._input_kind, reset=reset
        )

    # -- extraction ------------------------------------------------------
    def _cache(self) -> FeatureCache | None:
        if self.cache_dir is None:
            return None
        params = {
            k: v
            for k, v in self.get_params(deep=False).items()
            if k not in _NON_OUTPUT_PARAMS and k not in self._non_output_params
        }
        config = (
            type(self).__qualname__,
            sorted(params.items()),
            self._library_versions(),
        )
        return FeatureCache(
            self.cache_dir, f"{type(self).__name__}-{joblib_hash(config)}"
        )

    def _extract_all(self, items: list) -> list[np.ndarray]:
        cache = self._cache()
        results: list = [None] * len(items)
        keys: list = [None] * len(items)
        if cache is not None:
            for position, item in enumerate(items):
                keys[position] = self._digest(item, position)
                results[position] = cache.get(keys[position])
        todo = [p for p, r in enumerate(results) if r is None]
        n_clipped = 0
        with progress_bar(len(todo), type(self).__name__) as bar:
            for position, features, clipped in self._run(items, todo):
                results[position] = features
                n_clipped += clipped
                if cache is not None:
                    cache.put(keys[position], features)
                bar.update()
        if n_clipped:
            warnings.warn(
                f"{n_clipped} of {len(todo)} audio inputs are clipped (at least "
                f"{_CLIPPED_SHARE:.0%} of samples at or beyond full scale); "
                "their features "
                "are computed as they are.",
                ClippedAudioWarning,
                stacklevel=3,
            )
        return results

    def _digest(self, item, position: int) -> str:
        try:
            return digest_input(item, kind=self._input_kind)
        except OSError as exc:
            raise AudioInputError(
                f"{describe_item(item, position)}: cannot read ({exc})."
            ) from exc

    def _run(self, items: list, todo: list[int]):
        """Extract ``items[todo]``, yielding (position, features, clipped)."""
        if not todo:
            return []
        n_jobs = effective_n_jobs(self.n_jobs)
        if n_jobs == 1 or len(todo) == 1:
            # A generator: each item is cached as soon as it is extracted, so
            # an interrupted long run keeps what it has done.
            return _iter_chunk(self, [(p, items[p]) for p in todo])
        # A few chunks per worker: balances uneven utterance lengths while
        # keeping the per-task overhead of joblib small.
        n_chunks = min(len(todo), 4 * n_jobs)
        chunks = [todo[i::n_chunks] for i in range(n_chunks)]
        parts = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(_extract_chunk)(self, [(p, items[p]) for p in chunk])
            for chunk in chunks
        )
        # Rows carry their positions, so chunks may finish in any order; a
        # generator lets the caller cache and report each chunk as it lands.
        return (row for part in parts for row in part)


def _extract_chunk(extractor: BaseFeatureExtractor, chunk):
    """Decode and extract a list of (position, item) pairs in one process."""
    return list(_iter_chunk(extractor, chunk))


def _iter_chunk(extractor: BaseFeatureExtractor, chunk):
    """Yield (position, features, clipped) for (position, item) pairs.

    Items are decoded and handed to ``_extract_batch`` in groups of
    ``_batch_size()``; only one group of decoded items is held at a time.
    """
    size = max(1, int(extractor._batch_size()))
    for start in range(0, len(chunk), size):
        group = []
        for position, item in chunk[start : start + size]:
            name = describe_item(item, position)
            clipped = False
            if extractor._input_kind == "audio":
                value = load_audio(item, name=name)
                clipped = clipping_ratio(value) >= _CLIPPED_SHARE
            else:
                value = item
            group.append((position, name, value, clipped))
        values = [value for _, _, value, _ in group]
        try:
            features = _checked_batch(extractor, values)
        except AudioInputError:
            raise
        except Exception as exc:
            if len(group) > 1:
                # Name the item that fails: retry the group one item at a time.
                for _, name, value, _ in group:
                    _extract_named(extractor, [value], name)
            names = ", ".join(name for _, name, _, _ in group)
            raise ValueError(
                f"{type(extractor).__name__}: feature extraction failed for "
                f"{names}: {exc}"
            ) from exc
        for (position, name, _, clipped), out in zip(group, features, strict=True):
            out = np.asarray(out, dtype=np.float32)
            if not np.isfinite(out).all():
                raise ValueError(
                    f"{type(extractor).__name__}: non-finite features for {name}; "
                    "the input is probably degenerate (check its content)."
                )
            yield position, out, clipped


def _checked_batch(extractor: BaseFeatureExtractor, values: list) -> list:
    features = list(extractor._extract_batch(values))
    if len(features) != len(values):
        raise RuntimeError(
            f"_extract_batch returned {len(features)} results for {len(values)} items."
        )
    return features


def _extract_named(extractor: BaseFeatureExtractor, values: list, name: str) -> list:
    """Extract ``values``, naming ``name`` in any error (never a bare traceback)."""
    try:
        return _checked_batch(extractor, values)
    except AudioInputError:
        raise
    except Exception as exc:
        raise ValueError(
            f"{type(extractor).__name__}: feature extraction failed for {name}: {exc}"
        ) from exc

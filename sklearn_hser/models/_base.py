"""The base shared by the skorch-based classifiers.

:class:`~sklearn_hser.models.LSTMClassifier` and
:class:`~sklearn_hser.models.Wav2Vec2Classifier` are thin scikit-learn
estimators that build and own a skorch network in ``fit``. What they have in
common lives here:

* :class:`SkorchClassifierBase`: target encoding, the network's construction
  (validation split and early stopping, class weights, progress bar, the
  user's ``callbacks``, and the ``net__*`` parameters a user or a
  ``GridSearchCV`` sets), the seeded fit, ``predict`` from ``predict_proba``.
* :class:`WeightedLossNet`: a ``NeuralNetClassifier`` whose loss weighs each
  sample by its ``sample_weight`` when ``fit`` receives one.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    column_or_1d,
)
from skorch import NeuralNetClassifier

from ._training import (
    EpochProgress,
    _resolve_device,
    class_weight_tensor,
    fit_seeded,
    validation_and_early_stopping,
)

#: Key of the per-sample weights in the dict a weighted fit gives skorch.
WEIGHT_KEY = "sample_weight"

#: Prefix of the parameters passed on to the skorch network.
NET_PREFIX = "net__"


class WeightedLossNet(NeuralNetClassifier):
    """``NeuralNetClassifier`` that weighs each sample's loss.

    When the batch ``X`` is a dict with a ``"sample_weight"`` entry (the
    collate functions of this package put it there when ``fit`` was given
    weights), the criterion must be built with ``reduction="none"``; the loss
    is then the mean of ``weight * per-sample loss``. The weights never reach
    the module's ``forward``.
    """

    def infer(self, x, **fit_params):
        if isinstance(x, dict) and WEIGHT_KEY in x:
            x = {k: v for k, v in x.items() if k != WEIGHT_KEY}
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if loss.ndim == 0:  # reduced by the criterion: no weights given
            return loss
        if isinstance(X, dict) and WEIGHT_KEY in X:
            weight = X[WEIGHT_KEY].to(device=loss.device, dtype=loss.dtype)
            return (loss * weight).mean()
        return loss.mean()


def split_weights(batch):
    """``(items, targets, weights or None)`` of a batch of skorch items.

    A weighted fit gives skorch ``X = {"x": ..., "sample_weight": ...}``, so
    each item is then a dict; otherwise items are the samples themselves.
    """
    items, targets = zip(*batch, strict=True)
    if items and isinstance(items[0], dict):
        weights = torch.as_tensor(
            np.array([item[WEIGHT_KEY] for item in items], dtype=np.float32)
        )
        return [item["x"] for item in items], targets, weights
    return list(items), targets, None


class SkorchClassifierBase(ClassifierMixin, BaseEstimator):
    """Common machinery of the skorch-based classifiers (not for direct use).

    Subclasses define ``_parameter_constraints`` (including those of
    :attr:`_base_constraints`), their ``__init__`` (with the parameters of
    :attr:`_base_constraints`: ``lr``, ``weight_decay``, ``batch_size``,
    ``max_epochs``, ``validation_fraction``, ``patience``, ``class_weight``,
    ``random_state``, ``device``, ``verbose``, ``callbacks`` and
    ``net_params``) and ``fit``, which checks ``y`` with :meth:`_check_y` where
    ``validate_data`` cannot and calls :meth:`_train`.

    The skorch network (a :class:`skorch.NeuralNetClassifier` subclass) is
    built in ``fit``, never in ``__init__``: a scikit-learn estimator does no
    work when it is constructed, so that ``clone``, ``get_params`` and
    ``set_params`` deal with its parameters only. There is no network object
    before ``fit``, and none is needed to configure one:

    * before ``fit``, the network's parameters are given in skorch's naming
      with a ``net__`` prefix: ``set_params(net__optimizer__betas=(0.9,
      0.98))``, a ``GridSearchCV`` grid over ``"net__lr"``, or the same keys
      without the prefix in ``net_params={"lr": 3e-3}``. They are kept in
      ``net_params`` and override what the estimator's own parameters say;
      skorch callbacks go in ``callbacks``;
    * after ``fit``, ``net_`` is the trained skorch network (its
      ``history``, ``module_``, ``save_params`` ...); every ``fit`` builds a
      new one.
    """

    _base_constraints: dict = {
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "random_state": ["random_state"],
        "device": [str],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "net_params": [dict, None],
    }

    # -- net__ parameters, the skorch way ------------------------------------
    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        # isinstance: get_params must not fail on a bad value (checked in fit).
        if deep and isinstance(self.net_params, dict):
            for key, value in self.net_params.items():
                params[NET_PREFIX + key] = value
        return params

    def set_params(self, **params):
        net = {
            key[len(NET_PREFIX) :]: params.pop(key)
            for key in list(params)
            if key.startswith(NET_PREFIX)
        }
        if net:
            current = self.net_params if isinstance(self.net_params, dict) else {}
            self.net_params = {**current, **net}
        return super().set_params(**params)

    # -- fitting -------------------------------------------------------------
    def _check_y(self, X, y):
        """``y`` as a 1-D array as long as ``X`` (where ``validate_data`` cannot
        check ``X``: sequence batches, audio items)."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        if y.dtype.kind in "fc":
            assert_all_finite(y, input_name="y")
        return y

    def _encode_targets(self, y):
        """Set ``classes_``; return ``y`` as int64 codes."""
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in y; "
                f"got 1 class ({self.classes_[0]!r})."
            )
        return encoder.transform(y).astype(np.int64)

    def _seed(self) -> int:
        """The seed of one fit, drawn from ``random_state``."""
        rng = check_random_state(self.random_state)
        return int(rng.randint(np.iinfo(np.int32).max))

    def _train(
        self, net_class, X, y, y_encoded, sample_weight, *, seed=None, **net_kwargs
    ):
        """Build ``net_`` from ``net_kwargs`` and the shared settings; fit it.

        ``X`` is what the collate functions read; with ``sample_weight`` it
        is wrapped with the weights (normalised to mean 1, so the loss keeps
        its scale) and the criterion returns per-sample losses. ``seed``
        (drawn here when None) seeds the fit and the validation split.
        """
        device = _resolve_device(self.device)
        seed = self._seed() if seed is None else seed
        train_split, callbacks = validation_and_early_stopping(self, y_encoded, seed)
        callbacks.append(("progress", EpochProgress(type(self).__name__)))
        callbacks.extend(net_kwargs.pop("extra_callbacks", []))
        callbacks.extend(_named_callbacks(self.callbacks))
        criterion = {
            "criterion": torch.nn.CrossEntropyLoss,
            "criterion__weight": class_weight_tensor(
                self.class_weight, self.classes_, y
            ),
        }
        if sample_weight is not None:
            weight = _check_sample_weight(sample_weight, y_encoded, dtype=np.float32)
            total = weight.sum()
            if not total > 0:
                raise ValueError("sample_weight must have a positive sum.")
            X = {"x": X, WEIGHT_KEY: weight * (len(weight) / total)}
            criterion["criterion__reduction"] = "none"
        kwargs = {
            **criterion,
            **net_kwargs,
            "train_split": train_split,
            "callbacks": callbacks,
            "iterator_train__shuffle": True,
            "classes": np.arange(len(self.classes_)),
            "device": str(device),
            "verbose": self.verbose,
        }
        kwargs.update(self.net_params or {})
        self.net_ = net_class(**kwargs)
        fit_seeded(
            self.net_,
            X,
            y_encoded,
            device=device,
            seed=seed,
            seeded=self.random_state is not None,
        )
        self.history_ = self.net_.history
        self.n_iter_ = len(self.history_)
        return self

    @staticmethod
    def _normalized(proba):
        proba = np.asarray(proba, dtype=np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predicted class labels, ``(n_samples,)``.

        Parameters
        ----------
        X : array-like, sequence batch or audio items
            Samples, in the form used in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


def _named_callbacks(callbacks) -> list:
    """The user's callbacks as ``(name, callback)`` pairs with unique names."""
    named = []
    for i, callback in enumerate(callbacks or []):
        if isinstance(callback, tuple):
            named.append(callback)
        else:
            named.append((f"user_{i}_{type(callback).__name__}", callback))
    return named

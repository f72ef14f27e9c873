"""Loading model files without running code from them.

A pickle names the functions and classes that rebuild its objects, and
unpickling calls them: a crafted file can name ``os.system``. This module
reads joblib pickles with every such name checked against what fitted
sklearn-hser models are made of (estimators and what fitted ones hold,
torch modules and optimisers, skorch nets and callbacks, numpy arrays, a few
rebuild helpers). Anything else stops the load before it is called.

Two places inside a model file hold pickles of their own, and are checked
the same way: object arrays (joblib routes them through this unpickler) and
the torch state of a skorch net (its ``__setstate__`` unpickles it with
``skorch.net._TorchLoadUnpickler``, which is swapped for a checked one while
a file loads). Tensors are read by ``torch.load(weights_only=True)``
whatever the file asks for.

The check is an allow-list of *callables*: calling an estimator class only
stores its arguments (scikit-learn convention), and rebuilding an array or a
tensor only reads bytes. It keeps a file from running code; it cannot make a
model's predictions trustworthy.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import threading

#: Functions (and classes outside the base-class rule) a model may name.
_ALLOWED_NAMES = frozenset(
    {
        ("builtins", "dict"),
        ("builtins", "list"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "tuple"),
        ("builtins", "slice"),
        ("builtins", "complex"),
        ("builtins", "bytearray"),
        ("builtins", "range"),
        ("builtins", "object"),
        ("builtins", "print"),  # skorch's PrintLog keeps print as its sink
        ("collections", "OrderedDict"),
        ("collections", "defaultdict"),
        ("collections", "Counter"),
        ("functools", "partial"),
        ("copyreg", "_reconstructor"),
        ("joblib.numpy_pickle", "NumpyArrayWrapper"),
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy.ma.core", "_mareconstruct"),  # masked arrays (cv_results_)
        ("numpy.random._pickle", "__bit_generator_ctor"),
        ("numpy.random._pickle", "__generator_ctor"),
        ("numpy.random._pickle", "__randomstate_ctor"),
        ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_parameter"),
        ("torch._utils", "_rebuild_parameter_with_state"),
        ("skorch.utils", "to_numpy"),
        ("skorch.utils", "_indexing_other"),
        ("skorch.setter", "optimizer_setter"),
        ("sklearn_hser.models.lstm", "collate_frames"),
        ("sklearn_hser.models.wav2vec2", "WaveformCollate"),
    }
)

#: Packages whose classes may be named at all (then see ``_allowed_class``).
_PACKAGES = frozenset(
    {"sklearn_hser", "sklearn", "skorch", "torch", "numpy", "transformers", "pathlib"}
)

_swap_lock = threading.Lock()


class UnsafeModelError(ValueError):
    """A model file names something that loading it would have to run."""


def check_global(module: str, name: str):
    """Return the object a pickle names, if a model may name it.

    Parameters
    ----------
    module, name : str
        As found in the pickle stream.

    Returns
    -------
    object
        The named function, class or constant.

    Raises
    ------
    UnsafeModelError
        If the name is not one a fitted sklearn-hser model is made of.
    """
    if (module, name) == ("torch.storage", "_load_from_bytes"):
        return _load_tensor_bytes
    package = module.split(".", 1)[0]
    allowed = (module, name) in _ALLOWED_NAMES
    if allowed or package in _PACKAGES:
        try:
            obj = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            obj = None
        if obj is not None and (allowed or _allowed_object(obj)):
            return obj
    raise UnsafeModelError(
        f"it names {module}.{name}, which is not part of a fitted sklearn-hser "
        "model; refusing to run it"
    )


#: Modules whose functions a model may refer to: the metrics a stored
#: scorer computes (they only compute on the arrays they are given).
_METRIC_MODULES = ("sklearn.metrics", "sklearn_hser.metrics")


def _allowed_object(obj) -> bool:
    if isinstance(obj, type):
        return _allowed_class(obj)
    if inspect.isfunction(obj):
        return obj.__module__.startswith(_METRIC_MODULES)
    # Constants such as torch.float32 cannot be called, only referred to.
    import torch

    return isinstance(obj, torch.dtype | torch.device | torch.layout)


def _allowed_class(cls: type) -> bool:
    """Whether calling ``cls`` (to rebuild an object) is known to run no code.

    Estimators, modules, optimisers and callbacks only store what they are
    given, and numpy and torch containers only hold data. Base classes rather
    than a list of names keep new estimators of the package loadable.
    """
    import pathlib

    import numpy as np
    import torch
    from sklearn.base import BaseEstimator

    if issubclass(cls, np.memmap):  # np.memmap(path, mode="w+") writes a file
        return False
    bases = [
        BaseEstimator,
        torch.nn.Module,
        torch.optim.Optimizer,
        torch.utils.data.DataLoader,
        np.ndarray,
        np.dtype,
        np.generic,
        np.random.BitGenerator,
        np.random.SeedSequence,
        np.random.Generator,
        pathlib.PurePath,
    ]
    with contextlib.suppress(ImportError):
        import skorch

        bases += [
            skorch.NeuralNet,
            skorch.callbacks.Callback,
            skorch.history.History,
            skorch.dataset.Dataset,
            skorch.dataset.ValidSplit,
        ]
    with contextlib.suppress(ImportError):
        from transformers import PretrainedConfig

        bases.append(PretrainedConfig)
    # What fitted scikit-learn objects hold besides estimators: trees,
    # optimiser states, cross-validation splitters and scorers.
    with contextlib.suppress(ImportError):
        from sklearn.metrics._scorer import _BaseScorer, _MultimetricScorer
        from sklearn.model_selection._split import (
            BaseCrossValidator,
            BaseShuffleSplit,
            _RepeatedSplits,
        )
        from sklearn.neural_network._stochastic_optimizers import BaseOptimizer
        from sklearn.tree._tree import Tree

        bases += [
            _BaseScorer,
            _MultimetricScorer,
            BaseCrossValidator,
            BaseShuffleSplit,
            _RepeatedSplits,
            BaseOptimizer,
            Tree,
        ]
    return issubclass(cls, tuple(bases))


def _load_tensor_bytes(data: bytes):
    import torch

    # torch's own weights-only unpickler: tensors and storages, nothing else.
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def load_restricted(path):
    """Read a joblib file, refusing any name :func:`check_global` refuses.

    Parameters
    ----------
    path : path-like
        A file written by ``joblib.dump`` (compressed or not).

    Returns
    -------
    object

    Raises
    ------
    UnsafeModelError
        If the file names anything a model is not made of.
    """
    from joblib.numpy_pickle import NumpyUnpickler, _validate_fileobject_and_memmap

    class Restricted(NumpyUnpickler):
        def find_class(self, module, name):
            return check_global(module, name)

    with (
        open(path, "rb") as f,
        _skorch_checked(),
        _validate_fileobject_and_memmap(f, str(path), None) as (fobj, _),
    ):
        if isinstance(fobj, str):
            raise UnsafeModelError("it uses joblib's pre-0.10 format")
        return Restricted(str(path), fobj, True).load()


@contextlib.contextmanager
def _skorch_checked():
    """Make skorch nets unpickle their torch state through :func:`check_global`."""
    try:
        import skorch.net
    except ImportError:  # pragma: no cover - skorch is a dependency
        yield
        return
    original = skorch.net._TorchLoadUnpickler

    class Checked(original):
        def find_class(self, module, name):
            return check_global(module, name)

    with _swap_lock:
        skorch.net._TorchLoadUnpickler = Checked
        try:
            yield
        finally:
            skorch.net._TorchLoadUnpickler = original

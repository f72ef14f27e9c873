"""Running searches, cross-validation and feature extraction on a Dask cluster.

Everything in this package that runs in parallel goes through joblib:
``GridSearchCV(n_jobs=...)``, ``cross_val_score``, and the feature
transformers' ``n_jobs`` (see :mod:`sklearn_hser.features._base`). Inside
:func:`dask_backend`, joblib sends those tasks to the workers of a Dask
cluster instead of local processes, so the same code runs on a laptop, on a
:class:`~dask.distributed.LocalCluster` or on a cluster of machines:

* :func:`dask_backend` connects to a cluster (or starts a local one) and
  makes it joblib's backend;
* :func:`transform_on_cluster` maps a transformer over row blocks of ``X``
  with :class:`dask.distributed.Client` futures, one task per block; the
  features are computed, and cached, on the workers;
* :func:`optuna_search_on_cluster` runs one Optuna search per worker thread,
  all adding trials to one study kept in a shared RDB storage (an SQLite file
  on one machine, PostgreSQL on a cluster).

Workers must be able to import this package and read what the tasks read: the
audio files (by the same paths), the model directories and the
``cache_dir``/``memory`` directories. ``docs/cluster.md`` shows a complete
setup. Requires ``dask[distributed]`` (``pip install "sklearn-hser[dask]"``).
"""

from __future__ import annotations

import copy
import warnings
from contextlib import contextmanager
from numbers import Integral
from uuid import uuid4

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, validate_params
from sklearn.utils.validation import _num_samples

__all__ = ["dask_backend", "optuna_search_on_cluster", "transform_on_cluster"]


def _distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "sklearn_hser.distributed needs dask.distributed: "
            'pip install "sklearn-hser[dask]"'
        ) from exc
    return distributed


@validate_params(
    {
        # a scheduler address, or a Client or cluster object (both close())
        "client": [str, HasMethods(["close"]), None],
        "n_workers": [Interval(Integral, 1, None, closed="left"), None],
        "threads_per_worker": [Interval(Integral, 1, None, closed="left")],
    },
    # Only the call is checked here; the block's body runs on entering it.
    prefer_skip_nested_validation=False,
)
@contextmanager
def dask_backend(
    client=None, *, n_workers=None, threads_per_worker=1, **backend_params
):
    """Run joblib's parallel tasks on a Dask cluster within a ``with`` block.

    Inside the block, every joblib-parallel call of scikit-learn and of this
    package sends its tasks to the cluster's workers: ``GridSearchCV`` and
    ``cross_val_score`` (for any ``n_jobs`` but 1), and feature extraction
    of transformers whose ``n_jobs`` is not 1. An extractor then splits its
    items into about four chunks per worker thread of the cluster. Tasks
    started on a worker (e.g. the extraction inside a ``GridSearchCV`` fit)
    go to the cluster too. Results are the same as in a serial run.

    Parameters
    ----------
    client : Client, str, cluster or None, default=None
        The cluster to use: a :class:`dask.distributed.Client`, a scheduler
        address such as ``"tcp://scheduler:8786"``, or a cluster object (e.g.
        a ``dask_jobqueue.SLURMCluster``). ``None`` starts a
        :class:`~dask.distributed.LocalCluster` of worker processes on this
        machine, listening on 127.0.0.1 only.
    n_workers : int, default=None
        Worker processes of the local cluster started when ``client`` is
        None (Dask's default: about one per core); ignored otherwise.
    threads_per_worker : int, default=1
        Threads of each local worker; ignored unless ``client`` is None. One
        thread per process suits the GIL-bound work of feature extraction.
    **backend_params
        Passed to joblib's Dask backend (through
        :func:`joblib.parallel_config`), e.g. ``wait_for_workers_timeout=60``
        for a cluster whose workers are still starting.

    Yields
    ------
    dask.distributed.Client
        The client in use. A client or cluster this function created is
        closed on exit; one passed in is left open.

    Notes
    -----
    Extraction through joblib runs on the workers, but the feature cache of
    an extractor called on the client is read and written by the client
    process (workers only compute the missing items). With
    :func:`transform_on_cluster`, the workers use the cache themselves.

    On a cluster with a single worker thread in all, joblib runs the tasks
    in the calling process (it treats the cluster as ``n_jobs=1``).
    Warnings raised inside tasks go to the worker logs.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_hser.distributed import dask_backend
    >>> with dask_backend("tcp://scheduler:8786"):  # doctest: +SKIP
    ...     search = GridSearchCV(model, grid, n_jobs=-1).fit(X, y)
    """
    distributed = _distributed()
    from joblib import parallel_config

    owned = []
    try:
        if client is None:
            cluster = distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=threads_per_worker,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            owned.append(cluster)
            client = distributed.Client(cluster)
            owned.append(client)
        elif not isinstance(client, distributed.Client):
            client = distributed.Client(client)
            owned.append(client)
        with parallel_config(backend="dask", client=client, **backend_params):
            yield client
    finally:
        for resource in reversed(owned):
            resource.close()


@validate_params(
    {
        "transformer": [HasMethods(["transform"])],
        "X": ["array-like"],
        "client": [HasMethods(["scatter", "map", "gather"]), None],
        "n_tasks": [Interval(Integral, 1, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def transform_on_cluster(transformer, X, *, client=None, n_tasks=None):
    """``transformer.transform(X)``, computed by the workers of a Dask cluster.

    ``X`` is cut into ``n_tasks`` blocks of consecutive rows; each block is
    one task, in which a copy of ``transformer`` (with ``n_jobs=1``, the task
    being the unit of parallelism) transforms it. The outputs are put back
    together in the order of ``X``, so the result equals the serial one. With
    a ``cache_dir`` on a file system that all workers share, the workers
    reuse each other's cached features: the cache is content-addressed and
    writes atomically.

    Parameters
    ----------
    transformer : transformer
        A feature extractor of :mod:`sklearn_hser.features` (or any
        transformer that transforms rows independently, fitted if it needs
        to be), e.g. ``MFCC(column="audio", cache_dir="/shared/features")``.
    X : sequence of items, DataFrame or array-like
        What ``transformer.transform`` takes. Audio given by path must be
        readable by the workers under the same path.
    client : dask.distributed.Client, default=None
        The cluster's client; ``None`` uses the current one (e.g. inside
        :func:`dask_backend`).
    n_tasks : int, default=None
        Number of blocks; by default about four per worker thread, so that
        faster workers take more of them.

    Returns
    -------
    ndarray, sparse matrix or DataFrame
        What ``transformer.transform(X)`` returns (for an extractor: a
        ``(n_samples, n_features)`` float32 array, or a sequence batch).
        Warnings raised on the workers (e.g. about clipped audio) are raised
        again here.

    Examples
    --------
    >>> from sklearn_hser.distributed import transform_on_cluster
    >>> from sklearn_hser.features import MFCC
    >>> features = transform_on_cluster(  # doctest: +SKIP
    ...     MFCC(column="audio", cache_dir="/shared/cache"), corpus, client=client
    ... )
    """
    distributed = _distributed()
    client = client if client is not None else distributed.get_client()
    n_samples = _num_samples(X)
    if n_tasks is None:
        n_threads = sum(client.nthreads().values())
        n_tasks = 4 * max(1, n_threads)
    n_tasks = max(1, min(int(n_tasks), n_samples))

    worker_copy = copy.copy(transformer)
    if "n_jobs" in worker_copy.get_params(deep=False):
        worker_copy.set_params(n_jobs=1)
    blocks = [
        _safe_indexing(X, rows)
        for rows in np.array_split(np.arange(n_samples), n_tasks)
    ]
    # Each block (and the transformer, once) travels as data, not inside the
    # task graph.
    [transformer_future] = client.scatter([worker_copy], hash=False)
    block_futures = client.scatter(blocks, hash=False)
    token = uuid4().hex
    futures = client.map(
        _transform_block,
        block_futures,
        transformer=transformer_future,
        key=[f"hser-transform-{i}-{token}" for i in range(n_tasks)],
    )
    outputs = []
    for output, caught in client.gather(futures):
        outputs.append(output)
        for category, message in caught:
            warnings.warn(message, category, stacklevel=2)
    return _concatenate(outputs)


def _transform_block(block, transformer):
    """Transform one block on a worker; returns (output, caught warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        output = transformer.transform(block)
    return output, [(w.category, str(w.message)) for w in caught]


def _concatenate(outputs):
    """Stack the per-block outputs of a transform along the rows."""
    first = outputs[0]
    if len(outputs) == 1:
        return first
    if isinstance(first, np.ndarray):
        # Also right for sequence batches: 1-D object arrays stay 1-D.
        return np.concatenate(outputs, axis=0)
    if hasattr(first, "tocsr"):
        import scipy.sparse as sp

        return sp.vstack(outputs, format=first.format)
    if hasattr(first, "iloc"):
        import pandas as pd

        return pd.concat(outputs)
    raise TypeError(
        f"Cannot put together transform outputs of type {type(first).__name__}."
    )


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "param_distributions": [dict],
        "X": ["array-like"],
        "y": ["array-like", None],
        # a URL, or an Optuna storage object
        "storage": [str, HasMethods(["create_new_study"])],
        "study_name": [str],
        "client": [HasMethods(["scatter", "submit", "gather"]), None],
        "n_tasks": [Interval(Integral, 1, None, closed="left"), None],
        "n_trials": [Interval(Integral, 1, None, closed="left")],
        "groups": ["array-like", None],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    },
    # The searches validate their own arguments on the workers.
    prefer_skip_nested_validation=False,
)
def optuna_search_on_cluster(
    estimator,
    param_distributions,
    X,
    y=None,
    *,
    storage,
    study_name,
    client=None,
    n_tasks=None,
    n_trials=20,
    groups=None,
    random_state=None,
    **search_params,
):
    """Tune one Optuna study with several searches on a Dask cluster.

    The study is created (or loaded) in ``storage``; then ``n_tasks``
    searches of :func:`sklearn_hser.tuning.optuna_search` run at once, one
    task each (spread over the workers), each adding ``n_trials`` trials to
    the shared study. Each search samples with its own seed
    (``random_state + i``) and sees the trials of the others, so the TPE
    sampler learns from all of them. Searches started elsewhere with the
    same ``storage`` and ``study_name`` (e.g. ``optuna_search(...).fit`` on
    another machine) join the same study.

    Parameters
    ----------
    estimator : estimator
        What to tune, e.g. a :class:`~sklearn_hser.HierarchicalClassifier`.
    param_distributions : dict of str to optuna distribution
        As in :func:`~sklearn_hser.tuning.optuna_search`.
    X : DataFrame, array-like or sequence
        Training data; sent to the workers once.
    y : array-like of shape (n_samples,), default=None
        Labels.
    storage : str or optuna.storages.RDBStorage
        Storage that every worker can reach: ``"sqlite:///path/study.db"``
        (all workers on one machine, or on a file system with working locks)
        or ``"postgresql://user:password@host/db"``.
    study_name : str
        Name of the shared study.
    client : dask.distributed.Client, default=None
        The cluster's client; ``None`` uses the current one.
    n_tasks : int, default=None
        Searches run at once; by default one per worker thread.
    n_trials : int, default=20
        Trials added by each search (``n_tasks * n_trials`` in all).
    groups : array-like of shape (n_samples,), default=None
        Groups for ``cv`` (e.g. sessions for ``LeaveOneSessionOut``).
    random_state : int, default=None
        Seed of the first search's sampler; search ``i`` uses
        ``random_state + i``.
    **search_params
        Other arguments of :func:`~sklearn_hser.tuning.optuna_search`
        (``cv``, ``scoring``, ``timeout``, ``verbose``...). Searches never
        refit; refit the best parameters yourself (see the example).

    Returns
    -------
    optuna.Study
        The shared study, with the trials of every search (and of any other
        process that tuned it).

    Examples
    --------
    >>> from sklearn.base import clone
    >>> study = optuna_search_on_cluster(  # doctest: +SKIP
    ...     model, distributions, X, y, storage="sqlite:///study.db",
    ...     study_name="hser", client=client, n_trials=10, cv=5, random_state=0,
    ... )
    >>> best = clone(model).set_params(**study.best_params).fit(X, y)  # doctest: +SKIP
    """
    distributed = _distributed()
    from ._optional import require

    optuna = require("optuna", "optuna_search_on_cluster")

    from .tuning import _open_storage

    if storage is None or study_name is None:
        raise ValueError(
            "A shared study needs a storage every worker can reach and a study_name."
        )
    fixed = {"refit", "storage", "study_name", "n_trials", "random_state"}
    clash = fixed & set(search_params)
    if clash:
        raise TypeError(f"optuna_search_on_cluster sets {sorted(clash)} itself.")
    client = client if client is not None else distributed.get_client()
    # Create the study and its tables once, here, before the searches start.
    optuna.create_study(
        storage=_open_storage(storage),
        study_name=study_name,
        direction="maximize",
        load_if_exists=True,
    )
    workers = client.nthreads()
    if n_tasks is None:
        n_tasks = max(1, sum(workers.values()))
    # One search per worker thread: place search i on worker thread i.
    slots = [address for address, n in workers.items() for _ in range(n)]
    [X_future, y_future, groups_future] = client.scatter([X, y, groups], hash=False)
    token = uuid4().hex
    futures = [
        client.submit(
            _search_task,
            estimator,
            param_distributions,
            X_future,
            y_future,
            groups_future,
            storage=storage,
            study_name=study_name,
            n_trials=n_trials,
            random_state=None if random_state is None else random_state + i,
            search_params=search_params,
            key=f"hser-optuna-{i}-{token}",
            workers=[slots[i % len(slots)]] if slots else None,
            allow_other_workers=True,
        )
        for i in range(n_tasks)
    ]
    client.gather(futures)
    return optuna.load_study(study_name=study_name, storage=_open_storage(storage))


def _search_task(
    estimator,
    param_distributions,
    X,
    y,
    groups,
    *,
    storage,
    study_name,
    n_trials,
    random_state,
    search_params,
):
    """One search of :func:`optuna_search_on_cluster`, run on a worker."""
    from .tuning import optuna_search

    search = optuna_search(
        estimator,
        param_distributions,
        n_trials=n_trials,
        storage=storage,
        study_name=study_name,
        random_state=random_state,
        refit=False,
        **search_params,
    )
    search.fit(X, y, groups=groups)

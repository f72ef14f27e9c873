"""Hyper-parameter search with Optuna, the paper's tuner, as an sklearn search.

``GridSearchCV`` covers small grids (the threshold, a few sizes). For the
"other hyper-parameters" the paper tunes with Optuna, :func:`optuna_search`
builds an :class:`optuna_integration.OptunaSearchCV` (a drop-in
``GridSearchCV`` alternative: ``fit``, ``best_params_``, ``best_estimator_``,
``cv_results_``-like ``trials_dataframe()``) with this package's defaults:
UA as the score, a seeded TPE sampler, and an optional shared study storage so
that several processes or machines can work on one study (an SQLite file on
one machine, a PostgreSQL URL on a cluster).
"""

from __future__ import annotations

import time
import warnings
from numbers import Integral, Real

from sklearn.utils._param_validation import HasMethods, Interval, validate_params

#: Seconds an SQLite connection waits for another process's write lock; the
#: sqlite3 default (5 s) is short when several workers share one study file.
SQLITE_TIMEOUT = 30


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "param_distributions": [dict],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "n_trials": [Interval(Integral, 1, None, closed="left"), None],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "storage": "no_validation",  # a URL or an optuna storage object
        "study_name": [str, None],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "n_jobs": [Integral],
        "refit": ["boolean"],
        "verbose": ["verbose"],
    },
    # The search validates the estimator's own parameters when it fits.
    prefer_skip_nested_validation=False,
)
def optuna_search(
    estimator,
    param_distributions: dict,
    *,
    cv=5,
    scoring="ua",
    n_trials: int = 20,
    timeout: float | None = None,
    storage=None,
    study_name: str | None = None,
    random_state: int | None = None,
    n_jobs: int = 1,
    refit: bool = True,
    verbose: int = 0,
):
    """An Optuna search over ``estimator``'s parameters, scored by UA.

    Parameters
    ----------
    estimator : estimator
        What to tune, e.g. a :class:`~sklearn_hser.HierarchicalClassifier`;
        nested parameters use the usual ``step__param`` names.
    param_distributions : dict of str to optuna distribution
        E.g. ``{"threshold": FloatDistribution(0.2, 0.5),
        "speech_gate__lstmclassifier__hidden_size": IntDistribution(32, 256)}``.
    cv : int, cross-validation generator or iterable, default=5
        As in ``GridSearchCV``; e.g. :class:`~sklearn_hser.datasets.LeaveOneSessionOut`.
    scoring : str or callable, default="ua"
        A name known to :func:`sklearn_hser.metrics.get_scorer` (``"ua"``,
        ``"wa"``, or any scikit-learn scorer name) or a scorer.
    n_trials : int, default=20
        Trials run by this call (other workers of a shared study add theirs).
    timeout : float, default=None
        Stop starting trials after this many seconds.
    storage : str or optuna storage, default=None
        Optuna storage URL, e.g. ``"sqlite:///study.db"`` or
        ``"postgresql://user:password@host/db"``, or a storage object such as
        :class:`optuna.storages.RDBStorage`. With ``study_name``, every
        worker pointing at the same storage and name contributes trials to,
        and reads the best of, one study. An SQLite URL is opened with a
        ``SQLITE_TIMEOUT``-second lock timeout (unless the URL sets
        ``?timeout=``) so that concurrent workers wait for each other's
        writes; see :mod:`sklearn_hser.distributed` to run workers on a Dask
        cluster.
    study_name : str, default=None
        Name of the (possibly shared) study; created when missing.
    random_state : int, default=None
        Seed of the TPE sampler.
    n_jobs : int, default=1
        Parallel trials in this process.
    refit : bool, default=True
        Refit the best configuration on all data.
    verbose : int, default=0
        Optuna's log level: 0 is warnings only.

    Returns
    -------
    optuna_integration.OptunaSearchCV
        Unfitted; call ``fit(X, y)`` (with ``groups=`` if ``cv`` needs it).

    Examples
    --------
    >>> import numpy as np
    >>> from optuna.distributions import FloatDistribution
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_hser.tuning import optuna_search
    >>> X, y = np.eye(3).repeat(10, axis=0), np.repeat(["neutral", "sad", "angry"], 10)
    >>> search = optuna_search(LogisticRegression(), {"C": FloatDistribution(0.1, 10)},
    ...                        cv=2, n_trials=3, random_state=0).fit(X, y)
    >>> sorted(search.best_params_)
    ['C']
    """
    from ._optional import require

    optuna = require("optuna", "optuna_search")
    OptunaSearchCV = require("optuna_integration", "optuna_search").OptunaSearchCV

    from .metrics import get_scorer

    optuna.logging.set_verbosity(
        optuna.logging.INFO if verbose else optuna.logging.WARNING
    )
    study = optuna.create_study(
        storage=_open_storage(storage),
        study_name=study_name,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=random_state),
        load_if_exists=study_name is not None,
    )
    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    with warnings.catch_warnings():
        # OptunaSearchCV is marked experimental; the warning is no news to users.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return OptunaSearchCV(
            estimator,
            param_distributions,
            cv=cv,
            scoring=scorer,
            n_trials=n_trials,
            timeout=timeout,
            study=study,
            n_jobs=n_jobs,
            refit=refit,
            random_state=random_state,
            verbose=verbose,
            error_score="raise",
        )


def _open_storage(storage):
    """An Optuna storage for ``storage`` (a URL, a storage object or None).

    A URL becomes an :class:`optuna.storages.RDBStorage`, as Optuna itself
    does, with two additions for several processes starting on one fresh
    database at once: SQLite connections wait up to ``SQLITE_TIMEOUT`` seconds
    for a lock, and a failure while the tables are being created (another
    process creating them at the same moment) is retried.
    """
    if not isinstance(storage, str):
        return storage
    import optuna
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import IntegrityError, OperationalError

    url = make_url(storage)
    is_sqlite = url.get_backend_name() == "sqlite"
    engine_kwargs = {}
    if is_sqlite and "timeout" not in url.query:
        engine_kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT}}
    retried = (IntegrityError, OperationalError) if is_sqlite else (IntegrityError,)
    for attempt in range(3):
        try:
            return optuna.storages.RDBStorage(storage, engine_kwargs=engine_kwargs)
        except retried:
            if attempt == 2:
                raise
            time.sleep(0.2 * (attempt + 1))

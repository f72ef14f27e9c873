"""Optuna search over the hierarchy, alone and on a shared study storage."""

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("optuna_integration")

from optuna.distributions import FloatDistribution  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from sklearn_hser import HierarchicalClassifier  # noqa: E402
from sklearn_hser.datasets import LeaveOneSessionOut  # noqa: E402
from sklearn_hser.tuning import optuna_search  # noqa: E402

DISTRIBUTIONS = {
    "threshold": FloatDistribution(0.2, 0.5),
    "speech_gate__C": FloatDistribution(0.01, 10, log=True),
}


def _data():
    rng = np.random.default_rng(0)
    y = np.tile(["neutral", "happy", "sad", "angry"], 25)
    X = rng.normal(size=(100, 3)) + (y[:, None] == ["happy", "sad", "angry"])
    sessions = np.repeat([1, 2, 3, 4, 5], 20)
    return X, y, sessions


def _hierarchy():
    lr = LogisticRegression()
    return HierarchicalClassifier(lr, lr, lr)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_optuna_search_tunes_nested_parameters_with_session_folds():
    X, y, sessions = _data()
    search = optuna_search(
        _hierarchy(), DISTRIBUTIONS, cv=LeaveOneSessionOut(), n_trials=4, random_state=0
    )
    search.fit(X, y, groups=sessions)
    assert set(search.best_params_) == set(DISTRIBUTIONS)
    assert 0.2 <= search.best_params_["threshold"] <= 0.5
    assert len(search.trials_) == 4
    assert search.best_estimator_.threshold == search.best_params_["threshold"]
    assert search.predict(X).shape == (100,)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_workers_share_one_study_through_storage(tmp_path):
    X, y, sessions = _data()
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    for seed in (0, 1):  # two "workers" in turn
        optuna_search(
            _hierarchy(),
            DISTRIBUTIONS,
            cv=LeaveOneSessionOut(),
            n_trials=2,
            storage=storage,
            study_name="hser",
            random_state=seed,
            refit=False,
        ).fit(X, y, groups=sessions)
    study = optuna.load_study(study_name="hser", storage=storage)
    assert len(study.trials) == 4
    assert {"threshold", "speech_gate__C"} <= set(study.best_params)

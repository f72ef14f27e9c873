"""SeedEnsembleClassifier: members differ by seed only, probabilities averaged."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_hser._sequences import make_sequence_array
from sklearn_hser.ensemble import SeedEnsembleClassifier
from sklearn_hser.models import LSTMClassifier

LABELS = np.array(["angry", "happy", "neutral", "sad"])


def _data(n_per_class=15, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(LABELS, n_per_class)
    X = rng.normal(0, 1, (len(y), 4)) + 1.5 * (y[:, None] == LABELS).astype(float)
    return X, y


def _mlp():
    return MLPClassifier(hidden_layer_sizes=(8,), max_iter=200)


def test_members_take_consecutive_seeds_and_the_first_is_the_single_model():
    X, y = _data()
    ensemble = SeedEnsembleClassifier(_mlp(), n_seeds=3, random_state=7).fit(X, y)
    assert ensemble.seeds_.tolist() == [7, 8, 9]
    assert [m.random_state for m in ensemble.estimators_] == [7, 8, 9]
    single = clone(_mlp()).set_params(random_state=7).fit(X, y)
    np.testing.assert_allclose(
        ensemble.estimators_[0].predict_proba(X), single.predict_proba(X)
    )
    one = SeedEnsembleClassifier(_mlp(), n_seeds=1, random_state=7).fit(X, y)
    np.testing.assert_allclose(one.predict_proba(X), single.predict_proba(X))


def test_probabilities_are_the_members_mean_and_predict_their_argmax():
    X, y = _data()
    ensemble = SeedEnsembleClassifier(_mlp(), n_seeds=4, random_state=0).fit(X, y)
    members = np.stack([m.predict_proba(X) for m in ensemble.estimators_])
    # Different seeds, different networks: an average of copies proves nothing.
    assert not np.allclose(members[0], members[1])
    np.testing.assert_allclose(ensemble.predict_proba(X), members.mean(axis=0))
    np.testing.assert_array_equal(
        ensemble.predict(X), ensemble.classes_[members.mean(axis=0).argmax(axis=1)]
    )
    np.testing.assert_array_equal(ensemble.classes_, LABELS)


def test_no_random_state_means_random_but_distinct_seeds():
    X, y = _data()
    a = SeedEnsembleClassifier(_mlp(), n_seeds=3).fit(X, y)
    b = SeedEnsembleClassifier(_mlp(), n_seeds=3).fit(X, y)
    assert len(set(a.seeds_.tolist())) == 3
    assert a.seeds_.tolist() != b.seeds_.tolist()


def test_an_estimator_without_a_seed_is_refused():
    X, y = _data()
    with pytest.raises(ValueError, match="no random_state parameter"):
        SeedEnsembleClassifier(KNeighborsClassifier(), n_seeds=2).fit(X, y)


def test_bad_parameters_and_unfitted_use_raise_clearly():
    X, y = _data()
    with pytest.raises(ValueError, match="n_seeds"):
        SeedEnsembleClassifier(_mlp(), n_seeds=0).fit(X, y)
    with pytest.raises(Exception, match="not fitted"):
        SeedEnsembleClassifier(_mlp()).predict(X)


def test_sample_weight_reaches_every_member():
    X, y = _data()
    weight = np.where(y == "neutral", 5.0, 1.0)
    ensemble = SeedEnsembleClassifier(
        LogisticRegression(), n_seeds=2, random_state=0
    ).fit(X, y, sample_weight=weight)
    weighted = LogisticRegression().fit(X, y, sample_weight=weight)
    for member in ensemble.estimators_:
        np.testing.assert_allclose(member.coef_, weighted.coef_, rtol=1e-4)


def test_tunable_by_grid_search_inside_a_pipeline():
    X, y = _data()
    pipe = make_pipeline(
        StandardScaler(), SeedEnsembleClassifier(_mlp(), n_seeds=2, random_state=0)
    )
    search = GridSearchCV(
        pipe,
        {"seedensembleclassifier__estimator__alpha": [1e-4, 1.0]},
        cv=2,
    ).fit(X, y)
    assert set(search.best_params_) == {"seedensembleclassifier__estimator__alpha"}


def test_averages_lstms_over_frame_sequences():
    rng = np.random.default_rng(0)
    y = np.repeat(LABELS, 6)
    X = make_sequence_array(
        rng.normal(float(i % 4), 1, (int(rng.integers(3, 8)), 5)) for i in range(len(y))
    )
    lstm = LSTMClassifier(
        hidden_size=4, fc_size=4, max_epochs=2, validation_fraction=None
    )
    ensemble = SeedEnsembleClassifier(lstm, n_seeds=2, random_state=3).fit(X, y)
    proba = ensemble.predict_proba(X)
    assert proba.shape == (len(y), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert [m.random_state for m in ensemble.estimators_] == [3, 4]


@pytest.mark.parametrize("name", ["lstm-mfcc", "lstm-handcrafted", "lstm-whisper"])
def test_study_lstm_systems_average_the_configured_number_of_networks(name):
    from sklearn_hser.systems import SYSTEMS, ExperimentConfig

    config = ExperimentConfig(lstm_seeds=3, random_state=4)
    classifier = SYSTEMS[name].build(config, None).steps[-1][1]
    assert isinstance(classifier, SeedEnsembleClassifier)
    assert (classifier.n_seeds, classifier.random_state) == (3, 4)
    assert isinstance(classifier.estimator, LSTMClassifier)
    # One seed is the paper's single network, with no wrapper around it.
    single = SYSTEMS[name].build(ExperimentConfig(lstm_seeds=1), None).steps[-1][1]
    assert isinstance(single, LSTMClassifier)
    assert single.get_params() == classifier.estimator.get_params() | {
        "random_state": 0
    }


def test_a_saved_ensemble_of_lstms_loads_and_predicts_the_same(tmp_path):
    from sklearn_hser.persistence import load_model, save_model

    X, y = _data()
    lstm = LSTMClassifier(
        hidden_size=4, fc_size=4, max_epochs=2, validation_fraction=None
    )
    ensemble = SeedEnsembleClassifier(lstm, n_seeds=2, random_state=0).fit(X, y)
    path = save_model(ensemble, tmp_path / "ensemble.joblib")
    loaded, _ = load_model(path)
    np.testing.assert_allclose(loaded.predict_proba(X), ensemble.predict_proba(X))


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_members_fitted_in_parallel_are_those_fitted_one_after_another(n_jobs, caplog):
    import logging

    from joblib import parallel_config

    X, y = _data()
    lstm = LSTMClassifier(
        hidden_size=8, fc_size=4, max_epochs=6, validation_fraction=0.2
    )
    serial = SeedEnsembleClassifier(lstm, n_seeds=3, random_state=0).fit(X, y)
    parallel = SeedEnsembleClassifier(lstm, n_seeds=3, random_state=0, n_jobs=n_jobs)
    with caplog.at_level(logging.DEBUG, logger="sklearn_hser"):
        parallel.fit(X, y)
    # hser -v: the members' own lines stay in the workers; the ensemble's come.
    done = [r for r in caplog.records if r.getMessage().endswith("s)")]
    assert any("3/3 done" in r.getMessage() for r in done) == (n_jobs > 1)
    assert parallel.seeds_.tolist() == serial.seeds_.tolist()
    for a, b in zip(parallel.estimators_, serial.estimators_):
        assert a.n_iter_ == b.n_iter_
    np.testing.assert_array_equal(parallel.predict_proba(X), serial.predict_proba(X))
    # n_jobs=None follows joblib's parallel_config, as scikit-learn's do.
    with parallel_config(n_jobs=2):
        inherited = SeedEnsembleClassifier(lstm, n_seeds=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(inherited.predict_proba(X), serial.predict_proba(X))


def test_n_jobs_is_validated():
    X, y = _data()
    with pytest.raises(ValueError, match="n_jobs"):
        SeedEnsembleClassifier(_mlp(), n_jobs="all").fit(X, y)

"""Tuning the hierarchy with GridSearchCV over the paper's splits."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_hser import HierarchicalClassifier
from sklearn_hser.datasets import (
    LeaveOneSessionOut,
    load_iemocap,
    make_iemocap_fixture,
    speaker_dependent_split,
    speaker_independent_split,
    validation_split,
)
from sklearn_hser.features import MFCC
from sklearn_hser.metrics import SCORERS


@pytest.fixture(scope="module")
def iemocap(tmp_path_factory):
    root = make_iemocap_fixture(tmp_path_factory.mktemp("iemocap"), n_per_speaker=8)
    return load_iemocap(root)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("features")


def _hierarchy(cache_dir, **params):
    speech = make_pipeline(
        MFCC(column="audio", cache_dir=cache_dir),
        StandardScaler(),
        LogisticRegression(),
    )
    text = make_pipeline(
        make_column_transformer((TfidfVectorizer(), "text")), LogisticRegression()
    )
    return HierarchicalClassifier(speech, speech, text, **params)


def test_grid_search_leave_one_session_out_on_the_fixture(iemocap, cache_dir):
    grid = {
        "threshold": [None, 0.3],
        "speech_gate__logisticregression__C": [0.1, 1.0],
    }
    search = GridSearchCV(
        _hierarchy(cache_dir),
        grid,
        cv=LeaveOneSessionOut(),
        scoring=SCORERS,
        refit="ua",
    )
    search.fit(iemocap, iemocap["label"])
    results = search.cv_results_
    assert len(results["params"]) == 4
    # Five folds, one per session; each held-out fold is one whole session.
    folds = list(LeaveOneSessionOut().split(iemocap))
    assert len(folds) == 5
    for _, test_rows in folds:
        assert iemocap["session"].iloc[test_rows].nunique() == 1
    assert all(f"split{i}_test_ua" in results for i in range(5))
    assert set(search.best_params_) == set(grid)
    assert np.isfinite(results["mean_test_ua"]).all()

    best = search.best_estimator_
    again = clone(best).fit(iemocap, iemocap["label"])
    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(best.predict(iemocap), again.predict(iemocap))
    np.testing.assert_array_equal(best.predict(iemocap), restored.predict(iemocap))


def test_speaker_independent_split_as_predefined_validation(iemocap, cache_dir):
    train, val, test = speaker_independent_split(iemocap)
    rows = np.concatenate([train, val])
    search = GridSearchCV(
        _hierarchy(cache_dir),
        {"threshold": [0.25, 0.4]},
        cv=validation_split(train, val),
        scoring=SCORERS["ua"],
    )
    subset = iemocap.iloc[rows]
    search.fit(subset, subset["label"])
    assert search.n_splits_ == 1
    held_out = iemocap.iloc[test]
    assert set(held_out["speaker"]) == {"Ses05_F"}
    assert len(search.predict(held_out)) == len(held_out)


def test_speaker_dependent_split_fits_and_scores(iemocap, cache_dir):
    train, val, test = speaker_dependent_split(iemocap["label"], random_state=0)
    clf = _hierarchy(cache_dir, threshold=0.3).fit(
        iemocap.iloc[train], iemocap["label"].iloc[train]
    )
    score = SCORERS["ua"](clf, iemocap.iloc[test], iemocap["label"].iloc[test])
    assert 0.0 <= score <= 1.0

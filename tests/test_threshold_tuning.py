"""TunedThresholdHierarchyCV: one fit per fold, every threshold scored."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_hser import HierarchicalClassifier
from sklearn_hser.threshold_tuning import TunedThresholdHierarchyCV

from ._stubs import CountingClassifier

THRESHOLDS = [None, 0.25, 0.3, 0.35, 0.4]


def _data():
    rng = np.random.default_rng(0)
    y = np.tile(["neutral", "happy", "sad", "angry"], 30)
    X = rng.normal(size=(120, 3)) + 0.8 * (y[:, None] == ["happy", "sad", "angry"])
    return X, y


def test_scores_equal_a_grid_search_over_threshold():
    X, y = _data()
    lr = LogisticRegression()
    hierarchy = HierarchicalClassifier(lr, lr, lr)
    cv = KFold(4, shuffle=True, random_state=0)
    tuner = TunedThresholdHierarchyCV(hierarchy, thresholds=THRESHOLDS, cv=cv).fit(X, y)
    grid = GridSearchCV(
        hierarchy, {"threshold": THRESHOLDS}, cv=cv, scoring="balanced_accuracy"
    ).fit(X, y)
    np.testing.assert_allclose(
        tuner.cv_scores_.mean(axis=0), grid.cv_results_["mean_test_score"]
    )
    assert tuner.best_threshold_ == grid.best_params_["threshold"]
    assert tuner.estimator_.threshold == tuner.best_threshold_
    refit = clone(hierarchy).set_params(threshold=tuner.best_threshold_).fit(X, y)
    np.testing.assert_array_equal(tuner.predict(X), refit.predict(X))
    assert tuner.route(X).shape[0] == len(y)


def test_fits_each_sub_model_once_per_fold(tmp_path):
    X, y = _data()
    log = tmp_path / "fits.log"
    log.write_text("")
    sub = CountingClassifier(log_path=str(log))
    TunedThresholdHierarchyCV(
        HierarchicalClassifier(sub, sub, sub), thresholds=THRESHOLDS, cv=3
    ).fit(X, y)
    # 3 sub-models x (3 folds + the final refit), whatever the number of thresholds.
    assert len(log.read_text().splitlines()) == 3 * 4


def test_bad_thresholds_and_scoring():
    X, y = _data()
    lr = LogisticRegression()
    hierarchy = HierarchicalClassifier(lr, lr, lr)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        TunedThresholdHierarchyCV(hierarchy, thresholds=[0.3, 2]).fit(X, y)
    with pytest.raises(ValueError, match="scoring"):
        TunedThresholdHierarchyCV(hierarchy, scoring="f1").fit(X, y)

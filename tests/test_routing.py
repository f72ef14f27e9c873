"""Sample weights and metadata routing through the meta-estimators and metrics."""

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_validate
from sklearn.preprocessing import StandardScaler

from sklearn_hser import HierarchicalClassifier
from sklearn_hser.baselines import LateFusionClassifier, SpeechOnlyClassifier
from sklearn_hser.metrics import unweighted_accuracy, weighted_accuracy
from sklearn_hser.threshold_tuning import TunedThresholdHierarchyCV


def _data():
    rng = np.random.default_rng(0)
    y = np.tile(["neutral", "happy", "sad", "angry"], 20)
    X = rng.normal(size=(80, 3)) + 0.8 * (y[:, None] == ["happy", "sad", "angry"])
    return X, y


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _coefs(clf):
    return [m.coef_.copy() for m in (clf.speech_gate_, clf.speech_emotion_, clf.text_)]


def test_sample_weight_reaches_every_sub_model():
    X, y = _data()
    w = np.random.default_rng(1).uniform(0.1, 3, size=len(y))
    lr = LogisticRegression()
    weighted = HierarchicalClassifier(lr, lr, lr).fit(X, y, sample_weight=w)
    plain = HierarchicalClassifier(lr, lr, lr).fit(X, y)
    emotional = y != "neutral"
    by_hand = LogisticRegression().fit(
        X[emotional], y[emotional], sample_weight=w[emotional]
    )
    np.testing.assert_allclose(weighted.speech_emotion_.coef_, by_hand.coef_)
    for a, b in zip(_coefs(weighted), _coefs(plain)):
        assert not np.allclose(a, b)
    # Integer weights are repetitions.
    counts = np.arange(len(y)) % 3
    repeated = HierarchicalClassifier(lr, lr, lr).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    by_weight = HierarchicalClassifier(lr, lr, lr).fit(X, y, sample_weight=counts)
    for a, b in zip(_coefs(repeated), _coefs(by_weight)):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_other_metadata_needs_routing():
    X, y = _data()
    lr = LogisticRegression()
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        HierarchicalClassifier(lr, lr, lr).fit(X, y, groups=np.zeros(len(y)))


def test_routing_goes_only_where_requested(routing):
    X, y = _data()
    w = np.random.default_rng(1).uniform(0.1, 3, size=len(y))
    gate = LogisticRegression().set_fit_request(sample_weight=True)
    emotion = LogisticRegression().set_fit_request(sample_weight=False)
    text = LogisticRegression().set_fit_request(sample_weight=True)
    clf = HierarchicalClassifier(
        gate,
        emotion,
        text,
        speech_features=StandardScaler().set_fit_request(sample_weight=False),
    ).fit(X, y, sample_weight=w)
    emotional = y != "neutral"
    Xs = StandardScaler().fit_transform(X)
    unweighted = LogisticRegression().fit(Xs[emotional], y[emotional])
    np.testing.assert_allclose(clf.speech_emotion_.coef_, unweighted.coef_)
    weighted_text = LogisticRegression().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(clf.text_.coef_, weighted_text.coef_)


def test_cross_validate_routes_sample_weight(routing):
    X, y = _data()
    w = np.random.default_rng(1).uniform(0.1, 3, size=len(y))
    lr = LogisticRegression().set_fit_request(sample_weight=True)
    for estimator in (
        HierarchicalClassifier(lr, lr, lr),
        SpeechOnlyClassifier(lr),
        LateFusionClassifier(lr, lr),
        TunedThresholdHierarchyCV(HierarchicalClassifier(lr, lr, lr), cv=2),
    ):
        result = cross_validate(estimator, X, y, cv=3, params={"sample_weight": w})
        assert result["test_score"].shape == (3,)


def test_unrequested_weights_are_an_error_under_routing(routing):
    X, y = _data()
    lr = LogisticRegression()  # no request set
    with pytest.raises(ValueError, match="sample_weight"):
        HierarchicalClassifier(lr, lr, lr).fit(X, y, sample_weight=np.ones(len(y)))


def test_tuner_passes_weights_to_each_fold_and_the_refit():
    X, y = _data()
    w = np.random.default_rng(2).uniform(0.1, 3, size=len(y))
    lr = LogisticRegression()
    tuner = TunedThresholdHierarchyCV(HierarchicalClassifier(lr, lr, lr), cv=3)
    tuner.fit(X, y, sample_weight=w)
    direct = HierarchicalClassifier(lr, lr, lr, threshold=tuner.best_threshold_)
    direct.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(tuner.estimator_.text_.coef_, direct.text_.coef_)


def test_tuner_results_and_refit_false():
    X, y = _data()
    lr = LogisticRegression()
    hierarchy = HierarchicalClassifier(lr, lr, lr)
    tuner = TunedThresholdHierarchyCV(hierarchy, thresholds=[None, 0.3], cv=4).fit(X, y)
    results = tuner.cv_results_
    assert list(results["param_threshold"]) == [None, 0.3]
    np.testing.assert_allclose(results["mean_test_score"], tuner.cv_scores_.mean(0))
    assert results["rank_test_score"][[None, 0.3].index(tuner.best_threshold_)] == 1
    assert "split3_test_score" in results and tuner.n_features_in_ == 3
    with pytest.raises(ValueError, match="refit=False"):
        TunedThresholdHierarchyCV(hierarchy, cv=3, refit=False).fit(X, y)
    single = [next(KFold(4).split(X))]
    kept = TunedThresholdHierarchyCV(hierarchy, cv=single, refit=False).fit(X, y)
    assert kept.predict(X).shape == (80,)
    assert kept.estimator_.threshold == kept.best_threshold_


def test_metrics_take_sample_weight():
    y_true = ["neutral", "neutral", "sad", "sad"]
    y_pred = ["neutral", "sad", "sad", "sad"]
    w = [3, 1, 1, 1]
    assert weighted_accuracy(y_true, y_pred, sample_weight=w) == pytest.approx(5 / 6)
    assert unweighted_accuracy(y_true, y_pred, sample_weight=w) == pytest.approx(
        (3 / 4 + 1) / 2
    )
    from sklearn.metrics import balanced_accuracy_score

    assert unweighted_accuracy(y_true, y_pred, sample_weight=w) == pytest.approx(
        balanced_accuracy_score(y_true, y_pred, sample_weight=w)
    )
    with pytest.raises(ValueError):
        weighted_accuracy(y_true, y_pred, sample_weight=[1, 2])

"""Choosing a candidate setting with the one-standard-error rule."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import GroupKFold

from sklearn_hser import HierarchicalClassifier
from sklearn_hser.metrics import unweighted_accuracy, weighted_accuracy
from sklearn_hser.selection import (
    paired_standard_error,
    select_candidate,
    select_candidate_over_folds,
)
from sklearn_hser.threshold_tuning import TunedThresholdHierarchyCV

CLASSES = np.array(["neutral", "happy", "sad", "angry"])


def _flip(y, rate, rng):
    """``y`` with a share ``rate`` of its labels replaced at random."""
    pred = y.copy()
    wrong = rng.random(len(y)) < rate
    pred[wrong] = rng.choice(CLASSES, size=wrong.sum())
    return pred


def test_the_ua_standard_error_matches_a_bootstrap_of_the_difference():
    rng = np.random.default_rng(0)
    y = rng.choice(CLASSES, size=400, p=[0.1, 0.3, 0.3, 0.3])
    a, b = _flip(y, 0.3, rng), _flip(y, 0.4, rng)
    closed_form = paired_standard_error(y, a, b)
    bootstrap = paired_standard_error(y, a, b, scoring=balanced_accuracy_score)
    assert closed_form > 0
    assert bootstrap == pytest.approx(closed_form, rel=0.15)
    # The same for WA (plain accuracy).
    accuracy = paired_standard_error(y, a, b, scoring="wa")
    sampled = paired_standard_error(y, a, b, scoring=weighted_accuracy)
    assert sampled == pytest.approx(accuracy, rel=0.15)


def test_the_standard_error_shrinks_with_more_samples_and_vanishes_when_equal():
    rng = np.random.default_rng(1)
    small = rng.choice(CLASSES, size=100)
    large = np.tile(small, 16)
    a, b = _flip(large, 0.3, rng), _flip(large, 0.3, rng)
    se_large = paired_standard_error(large, a, b)
    se_small = paired_standard_error(small, a[:100], b[:100])
    assert se_large < se_small / 2
    assert paired_standard_error(large, a, a) == 0.0
    assert paired_standard_error(large, a, a, scoring=f1_weighted) == 0.0


def f1_weighted(y_true, y_pred):
    return f1_score(y_true, y_pred, average="weighted")


def test_one_se_keeps_the_reference_unless_the_gain_is_beyond_the_noise():
    rng = np.random.default_rng(2)
    y = rng.choice(CLASSES, size=200)
    reference = _flip(y, 0.4, rng)
    # Three samples more right and two more wrong: a gain inside the noise.
    slightly = reference.copy()
    fixed = np.flatnonzero(reference != y)[:3]
    slightly[fixed] = y[fixed]
    broken = np.flatnonzero(reference == y)[:2]
    slightly[broken] = np.where(y[broken] == "sad", "angry", "sad")
    much = _flip(y, 0.05, rng)
    predictions = [reference, slightly, much]
    scores = [unweighted_accuracy(y, p) for p in predictions]
    assert select_candidate(scores[:2], y, predictions[:2], selection="best") == 1
    assert select_candidate(scores[:2], y, predictions[:2]) == 0
    assert select_candidate(scores, y, predictions) == 2
    # A single sample of difference is no evidence either way.
    one = reference.copy()
    one[fixed[0]] = y[fixed[0]]
    one_score = unweighted_accuracy(y, one)
    assert select_candidate([scores[0], one_score], y, [reference, one]) == 0


def test_selection_inputs_are_checked():
    y = np.array(["sad", "angry"])
    with pytest.raises(ValueError, match="length"):
        paired_standard_error(y, y[:1], y)
    with pytest.raises(ValueError, match="No samples"):
        paired_standard_error([], [], [])
    with pytest.raises(ValueError, match="one score per prediction"):
        select_candidate([0.5, 0.6], y, [y])
    with pytest.raises(ValueError, match="selection"):
        select_candidate([0.5], y, [y], selection="fastest")
    with pytest.raises(ValueError, match="Scores must be finite"):
        select_candidate([np.nan, np.nan], y, [y, y])
    with pytest.raises(ValueError, match="scoring"):
        paired_standard_error(y, y, y, scoring="f1")


def _noisy_hierarchy_data(n, seed):
    """Speech that decides well; text that says nothing (one sentence)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(CLASSES, size=n)
    X = rng.normal(size=(n, 4)) + 1.5 * (y[:, None] == CLASSES)
    return X, y, np.arange(n) % 10


def test_the_tuner_records_its_choice_and_one_se_never_prefers_a_noisier_setting():
    X, y, groups = _noisy_hierarchy_data(600, 3)
    lr = LogisticRegression(max_iter=1000)
    hierarchy = HierarchicalClassifier(lr, lr, lr)
    kwargs = dict(gate_labels=["flat", "all", "collapsed"], cv=GroupKFold(5))
    best = TunedThresholdHierarchyCV(hierarchy, selection="best", **kwargs)
    best.fit(X, y, groups=groups)
    one_se = TunedThresholdHierarchyCV(hierarchy, **kwargs).fit(X, y, groups=groups)
    mean = best.cv_scores_.mean(axis=0)
    assert best.best_index_ == int(np.argmax(mean))
    assert one_se.best_index_ in (0, best.best_index_)
    assert (one_se.best_gate_labels_, one_se.best_threshold_) == (
        one_se.cv_results_["param_gate_labels"][one_se.best_index_],
        one_se.cv_results_["param_threshold"][one_se.best_index_],
    )
    if one_se.best_index_ == 0:
        # The reference: the flat speech model at threshold 0.
        assert (one_se.best_gate_labels_, one_se.best_threshold_) == ("flat", 0.0)
        flat = lr.fit(X, y).predict(X)
        np.testing.assert_array_equal(one_se.predict(X), flat)


def test_scores_equal_but_for_rounding_are_a_tie_won_by_the_first():
    y = np.array(["sad", "angry", "sad", "angry"])
    a = np.array(["sad", "angry", "angry", "angry"])
    b = np.array(["sad", "sad", "sad", "angry"])
    # The same UA, summed in another order, can differ in its last bit.
    scores = [0.75, 0.75 + 1e-15]
    assert select_candidate(scores, y, [a, b], selection="best") == 0
    assert select_candidate([0.75, 0.76], y, [a, b], selection="best") == 1


def test_the_study_refuses_an_unknown_rule_before_fitting_anything():
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from sklearn_hser.experiments import _chosen_on_validation
    from sklearn_hser.systems import ExperimentConfig

    empty = pd.DataFrame({"label": []})
    config = ExperimentConfig(gate_labels="flat", selection="fastest")
    with pytest.raises(ValueError, match="selection"):
        _chosen_on_validation(
            LogisticRegression(), LogisticRegression(), empty, empty, config
        )


def test_over_folds_is_the_rule_on_mean_scores_and_pooled_predictions():
    rng = np.random.default_rng(3)
    ys = [rng.choice(CLASSES, size=n) for n in (60, 80, 70)]
    folds = [[_flip(y, 0.5, rng), _flip(y, 0.35, rng), _flip(y, 0.3, rng)] for y in ys]
    fold_scores = [
        [unweighted_accuracy(y, p) for p in fold] for y, fold in zip(ys, folds)
    ]
    pooled = [np.concatenate([fold[c] for fold in folds]) for c in range(3)]
    for selection in ("one_se", "best"):
        expected = select_candidate(
            np.mean(fold_scores, axis=0),
            np.concatenate(ys),
            pooled,
            selection=selection,
        )
        assert expected > 0  # the reference is the noisiest: a real choice
        assert (
            select_candidate_over_folds(fold_scores, ys, folds, selection=selection)
            == expected
        )


def test_over_folds_checks_that_the_folds_line_up():
    y = np.array(["sad", "angry"])
    with pytest.raises(ValueError, match="one prediction per candidate"):
        select_candidate_over_folds([[0.5, 1.0]], [y], [[y]])
    with pytest.raises(ValueError, match="one y_true per fold"):
        select_candidate_over_folds([[0.5, 1.0]] * 2, [y], [[y, y]] * 2)
    with pytest.raises(ValueError, match="selection"):
        select_candidate_over_folds([[1.0]], [y], [[y]], selection="median")


@pytest.mark.parametrize("thresholds", [[1.5], [0.3, None], [], [True]])
def test_a_study_config_refuses_bad_thresholds_at_once(thresholds):
    from sklearn_hser.systems import ExperimentConfig

    with pytest.raises(ValueError, match="threshold"):
        ExperimentConfig(thresholds=thresholds)
    assert ExperimentConfig(thresholds=[0, 0.25]).thresholds == [0.0, 0.25]


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"systems": ["lstm-mfcc", "svm"]}, "unknown system svm; choose from"),
        ({"systems": []}, r"unknown system \(none given\)"),
        ({"splits": ["sd", "xx"]}, "unknown split xx; choose from sd, si"),
        ({"splits": []}, r"unknown split \(none given\)"),
        ({"gate_labels": "binary"}, "gate_labels must be 'auto' or one of"),
    ],
)
def test_a_study_config_refuses_unknown_names_at_once(settings, message):
    from sklearn_hser.systems import ExperimentConfig

    with pytest.raises(ValueError, match=message):
        ExperimentConfig(**settings)

"""UA / WA, scorers, Table II rows, correction rate and the neutral PR table."""

import json
import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from sklearn_hser._labels import EMOTIONAL, EMOTIONS, NEUTRAL
from sklearn_hser.metrics import (
    SCORERS,
    confusion_table,
    correction_counts,
    correction_rate,
    format_score,
    get_scorer,
    neutral_precision_recall,
    per_class_report,
    scores_record,
    system_row,
    ua_scorer,
    unweighted_accuracy,
    wa_scorer,
    weighted_accuracy,
)


def _random_labels(n, seed, classes=EMOTIONS, p=None):
    return np.random.default_rng(seed).choice(np.array(classes), size=n, p=p)


@pytest.fixture(autouse=True)
def _no_warnings():
    """Every metric here must run without warnings (zero division included)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# -------------------------------------------------------------------- UA / WA


def test_ua_by_hand():
    y_true = ["neutral"] * 4 + ["sad"] * 2
    y_pred = ["neutral"] * 4 + ["sad", "neutral"]
    assert unweighted_accuracy(y_true, y_pred) == pytest.approx((1 + 0.5) / 2)
    assert weighted_accuracy(y_true, y_pred) == pytest.approx(5 / 6)


@pytest.mark.parametrize("seed", range(5))
def test_ua_matches_sklearn(seed):
    y_true = _random_labels(200, seed, p=[0.5, 0.25, 0.15, 0.10])
    y_pred = _random_labels(200, seed + 100)
    ua = unweighted_accuracy(y_true, y_pred)
    assert ua == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    assert ua == pytest.approx(np.mean(recall_score(y_true, y_pred, average=None)))
    assert weighted_accuracy(y_true, y_pred) == pytest.approx(
        accuracy_score(y_true, y_pred)
    )


def test_ua_with_predicted_class_absent_from_truth_matches_balanced_accuracy():
    y_true = ["neutral", "neutral", "sad", "sad", "sad"]
    y_pred = ["neutral", "angry", "sad", "angry", "sad"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about 'angry'
        expected = balanced_accuracy_score(y_true, y_pred)
    assert unweighted_accuracy(y_true, y_pred) == pytest.approx(expected)
    assert expected == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_ua_labels_absent_from_truth_are_left_out():
    y_true = ["neutral", "neutral", "sad", "sad"]
    y_pred = ["neutral", "sad", "sad", "sad"]
    base = unweighted_accuracy(y_true, y_pred)
    assert base == pytest.approx((0.5 + 1.0) / 2)
    assert unweighted_accuracy(y_true, y_pred, labels=EMOTIONS) == pytest.approx(base)


def test_ua_labels_subset_ignores_other_true_classes():
    y_true = ["neutral", "neutral", "sad", "happy"]
    y_pred = ["neutral", "happy", "happy", "happy"]
    # only neutral is averaged; its miss predicted as 'happy' still counts
    assert unweighted_accuracy(y_true, y_pred, labels=["neutral"]) == 0.5
    expected = recall_score(y_true, y_pred, labels=["neutral", "sad"], average="macro")
    got = unweighted_accuracy(y_true, y_pred, labels=["neutral", "sad"])
    assert got == pytest.approx(expected)


def test_ua_integer_labels():
    y_true = [0, 0, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 0]
    assert unweighted_accuracy(y_true, y_pred) == pytest.approx(
        balanced_accuracy_score(y_true, y_pred)
    )


@pytest.mark.parametrize(
    "y_true, y_pred, kwargs, match",
    [
        (["sad", "sad"], ["sad"], {}, "different lengths"),
        ([], [], {}, "empty"),
        (["sad", "happy"], [0, 1], {}, "Mix"),
        (["sad", "happy"], ["sad", "sad"], {"labels": ["angry"]}, "None of the"),
        (["sad", "happy"], ["sad", "sad"], {"labels": ["sad", "sad"]}, "duplicates"),
        ([["sad", "happy"]], [["sad", "sad"]], {}, "1-D"),
    ],
)
def test_ua_invalid_inputs(y_true, y_pred, kwargs, match):
    with pytest.raises(ValueError, match=match):
        unweighted_accuracy(y_true, y_pred, **kwargs)


# -------------------------------------------------------------------- scorers


def _tiny_dataset(n_per_class=12, seed=0):
    rng = np.random.default_rng(seed)
    centres = {"neutral": (0, 0), "happy": (3, 0), "sad": (0, 3), "angry": (3, 3)}
    X, y = [], []
    for label, centre in centres.items():
        X.append(rng.normal(centre, 1.2, size=(n_per_class, 2)))
        y += [label] * n_per_class
    return np.vstack(X), np.array(y)


@pytest.mark.parametrize("name", ["ua", "UA", "unweighted_accuracy"])
def test_ua_scorer_equals_balanced_accuracy_in_cross_val_score(name):
    X, y = _tiny_dataset()
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    ours = cross_val_score(LogisticRegression(), X, y, cv=cv, scoring=get_scorer(name))
    ref = cross_val_score(
        LogisticRegression(), X, y, cv=cv, scoring="balanced_accuracy"
    )
    np.testing.assert_allclose(ours, ref)
    assert 0.0 <= ours.min() and ours.max() <= 1.0


@pytest.mark.parametrize("name", ["wa", "WA", "weighted_accuracy"])
def test_wa_scorer_equals_accuracy(name):
    X, y = _tiny_dataset()
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    ours = cross_val_score(LogisticRegression(), X, y, cv=cv, scoring=get_scorer(name))
    ref = cross_val_score(LogisticRegression(), X, y, cv=cv, scoring="accuracy")
    np.testing.assert_allclose(ours, ref)


def test_grid_search_multi_metric_with_scorers_dict():
    X, y = _tiny_dataset()
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    grid = {"C": [0.01, 1.0]}
    search = GridSearchCV(
        LogisticRegression(), grid, cv=cv, scoring=SCORERS, refit="ua"
    )
    search.fit(X, y)
    ref = GridSearchCV(
        LogisticRegression(),
        grid,
        cv=cv,
        scoring={"ua": "balanced_accuracy", "wa": "accuracy"},
        refit="ua",
    ).fit(X, y)
    for key in ("mean_test_ua", "mean_test_wa"):
        np.testing.assert_allclose(search.cv_results_[key], ref.cv_results_[key])
    assert search.best_params_ == ref.best_params_
    assert search.best_score_ == pytest.approx(ref.best_score_)


def test_grid_search_single_scorer():
    X, y = _tiny_dataset()
    search = GridSearchCV(
        LogisticRegression(), {"C": [0.1, 1.0]}, cv=3, scoring=get_scorer("ua")
    ).fit(X, y)
    assert 0.0 <= search.best_score_ <= 1.0


def test_get_scorer_delegates_and_copies():
    X, y = _tiny_dataset()
    model = LogisticRegression().fit(X, y)
    assert get_scorer("accuracy")(model, X, y) == pytest.approx(model.score(X, y))
    assert get_scorer("ua") is not ua_scorer
    assert get_scorer("ua")(model, X, y) == pytest.approx(ua_scorer(model, X, y))
    assert get_scorer("wa")(model, X, y) == pytest.approx(wa_scorer(model, X, y))
    assert set(SCORERS) == {"ua", "wa"}
    with pytest.raises(ValueError):
        get_scorer("no_such_metric")


def test_scorers_pickle_for_parallel_search():
    X, y = _tiny_dataset()
    model = LogisticRegression().fit(X, y)
    for scorer in (ua_scorer, wa_scorer, get_scorer("ua")):
        clone = pickle.loads(pickle.dumps(scorer))
        assert clone(model, X, y) == pytest.approx(scorer(model, X, y))


# ----------------------------------------------------------- per-class tables


def test_per_class_report_by_hand():
    y_true = ["neutral", "neutral", "happy", "sad", "angry", "angry"]
    y_pred = ["neutral", "sad", "neutral", "sad", "angry", "angry"]
    report = per_class_report(y_true, y_pred)
    assert report.index.tolist() == [*EMOTIONS, "UA", "WA"]
    assert report.loc["neutral", "precision"] == 0.5
    assert report.loc["neutral", "recall"] == 0.5
    assert report.loc["sad", "precision"] == 0.5
    assert report.loc["sad", "recall"] == 1.0
    assert report.loc["sad", "f1"] == pytest.approx(2 / 3)
    assert np.isnan(report.loc["happy", "precision"])  # never predicted
    assert report.loc["happy", ["recall", "f1"]].tolist() == [0, 0]
    assert report.loc["UA", "recall"] == pytest.approx(0.625)
    assert report.loc["WA", "recall"] == pytest.approx(4 / 6)
    assert np.isnan(report.loc["UA", "precision"])
    assert report["support"].tolist() == [2, 1, 1, 2, 6, 6]
    assert report["support"].dtype.kind == "i"


@pytest.mark.parametrize("seed", range(3))
def test_per_class_report_matches_sklearn(seed):
    y_true = _random_labels(150, seed, p=[0.4, 0.3, 0.2, 0.1])
    y_pred = _random_labels(150, seed + 7, p=[0.7, 0.1, 0.1, 0.1])
    labels = list(EMOTIONS)
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=np.nan
    )
    report = per_class_report(y_true, y_pred)
    np.testing.assert_allclose(report.loc[labels, "precision"], p)
    np.testing.assert_allclose(report.loc[labels, "recall"], r)
    np.testing.assert_allclose(report.loc[labels, "f1"], f)
    np.testing.assert_array_equal(report.loc[labels, "support"], s)
    assert report.loc["UA", "recall"] == pytest.approx(
        balanced_accuracy_score(y_true, y_pred)
    )


def test_per_class_report_undefined_ratios_are_nan_without_warning():
    # 'angry' is never true nor predicted, 'happy' never predicted.
    y_true = ["neutral", "happy", "sad"]
    y_pred = ["neutral", "sad", "sad"]
    report = per_class_report(y_true, y_pred)  # autouse fixture: warnings fail
    assert report.loc["angry", ["precision", "recall", "f1"]].isna().all()
    assert report.loc["angry", "support"] == 0
    assert np.isnan(report.loc["happy", "precision"])
    # happy is present and missed: its recall and F1 are defined, and 0
    assert report.loc["happy", ["recall", "f1"]].tolist() == [0.0, 0.0]
    # angry is absent from y_true, so UA averages three recalls
    assert report.loc["UA", "recall"] == pytest.approx(2 / 3)
    assert report.loc["UA", "support"] == 3


def test_per_class_report_other_labels_sorted_and_explicit_order():
    y_true = ["emotional", "neutral", "neutral"]
    y_pred = ["emotional", "emotional", "neutral"]
    assert per_class_report(y_true, y_pred).index.tolist()[:2] == [
        EMOTIONAL,
        NEUTRAL,
    ]
    report = per_class_report(y_true, y_pred, labels=[NEUTRAL, EMOTIONAL])
    assert report.index.tolist() == [NEUTRAL, EMOTIONAL, "UA", "WA"]
    assert report.loc[NEUTRAL, "recall"] == 0.5


def test_per_class_report_rejects_clashing_labels():
    with pytest.raises(ValueError, match="clash"):
        per_class_report(["UA", "x"], ["UA", "x"])


def test_system_rows_build_table_two():
    y_true = ["neutral", "neutral", "happy", "sad", "angry", "angry"]
    speech = ["neutral", "neutral", "neutral", "neutral", "angry", "angry"]
    hierarchy = ["neutral", "sad", "happy", "sad", "angry", "angry"]
    rows = [system_row("S", y_true, speech), system_row("ST", y_true, hierarchy)]
    table = pd.DataFrame(rows)
    expected_columns = ["system"]
    for label in EMOTIONS:
        expected_columns += [f"{label}_precision", f"{label}_recall"]
    assert table.columns.tolist() == [*expected_columns, "UA", "WA"]
    assert table["system"].tolist() == ["S", "ST"]
    assert table.loc[0, "neutral_precision"] == 0.5
    assert table.loc[0, "neutral_recall"] == 1.0
    assert table.loc[1, "neutral_precision"] == 1.0
    assert table.loc[1, "neutral_recall"] == 0.5
    np.testing.assert_allclose(
        table["UA"], [balanced_accuracy_score(y_true, p) for p in (speech, hierarchy)]
    )
    np.testing.assert_allclose(
        table["WA"], [accuracy_score(y_true, p) for p in (speech, hierarchy)]
    )
    assert all(isinstance(v, float) for k, v in rows[0].items() if k != "system")


def test_confusion_table_matches_sklearn():
    y_true = _random_labels(80, 1)
    y_pred = _random_labels(80, 2)
    table = confusion_table(y_true, y_pred)
    assert table.index.tolist() == list(EMOTIONS)
    assert table.columns.tolist() == list(EMOTIONS)
    assert table.index.name == "true"
    assert table.columns.name == "predicted"
    np.testing.assert_array_equal(
        table.to_numpy(), confusion_matrix(y_true, y_pred, labels=list(EMOTIONS))
    )
    norm = confusion_table(y_true, y_pred, normalize="true")
    np.testing.assert_allclose(norm.sum(axis=1), 1.0)


def test_confusion_table_by_hand_and_labels():
    y_true = ["neutral", "neutral", "sad", "sad"]
    y_pred = ["neutral", "sad", "sad", "sad"]
    table = confusion_table(y_true, y_pred, labels=["sad", "neutral"])
    assert table.loc["neutral", "sad"] == 1
    assert table.loc["sad", "neutral"] == 0
    assert table.to_numpy().tolist() == [[2, 0], [1, 1]]
    pred_norm = confusion_table(y_true, y_pred, normalize="pred")
    assert pred_norm.loc["neutral", "sad"] == pytest.approx(1 / 3)
    # the absent classes give all-zero rows and columns, not NaN
    assert pred_norm.loc["happy"].tolist() == [0.0] * 4
    assert pred_norm["angry"].tolist() == [0.0] * 4
    with pytest.raises(ValueError):
        confusion_table(y_true, y_pred, normalize="rows")


# ------------------------------------------------------------ correction rate


def _correction_example():
    """10 emotional samples (4 missed by speech, 3 of them corrected) + 4 neutral."""
    y_true = ["sad"] * 4 + ["angry"] * 3 + ["happy"] * 3 + ["neutral"] * 4
    speech4 = (
        ["neutral", "neutral", "sad", "sad"]  # 2 sad missed
        + ["neutral", "angry", "happy"]  # 1 angry missed
        + ["neutral", "happy", "happy"]  # 1 happy missed
        + ["neutral", "neutral", "neutral", "sad"]
    )
    final = (
        ["sad", "sad", "sad", "sad"]  # both missed sad corrected
        + ["angry", "angry", "happy"]  # missed angry corrected
        + ["sad", "happy", "happy"]  # missed happy not corrected
        + ["neutral", "sad", "neutral", "sad"]
    )
    speech2 = [NEUTRAL if s == NEUTRAL else EMOTIONAL for s in speech4]
    return y_true, speech4, speech2, final


def test_correction_rate_four_class_and_binary_speech():
    y_true, speech4, speech2, final = _correction_example()
    expected = {"n_emotional": 10, "n_missed": 4, "n_corrected": 3, "rate": 0.75}
    assert correction_counts(y_true, speech4, final) == expected
    assert correction_counts(y_true, speech2, final) == expected
    assert correction_rate(y_true, speech4, final) == 0.75
    assert correction_rate(y_true, speech2, final) == 0.75
    # also as numpy arrays / pandas Series
    assert correction_rate(
        pd.Series(y_true), np.array(speech2), np.array(final, dtype=object)
    ) == pytest.approx(0.75)


def test_correction_rate_is_nan_without_missed_samples():
    y_true = ["sad", "happy", "neutral"]
    speech = ["sad", "emotional", "neutral"]
    final = ["sad", "happy", "neutral"]
    counts = correction_counts(y_true, speech, final)
    assert counts["n_missed"] == 0 and counts["n_corrected"] == 0
    assert math.isnan(counts["rate"])
    assert math.isnan(correction_rate(y_true, speech, final))


def test_correction_rate_custom_neutral_label():
    y_true = ["neu", "sad", "sad"]
    speech = ["neu", "neu", "neu"]
    final = ["neu", "sad", "neu"]
    assert correction_rate(y_true, speech, final, neutral_label="neu") == 0.5


def test_correction_rate_rejects_unknown_speech_labels():
    with pytest.raises(ValueError, match="speech_pred"):
        correction_rate(["sad", "neutral"], ["Neutral", "sad"], ["sad", "neutral"])
    with pytest.raises(ValueError, match="different lengths"):
        correction_rate(["sad", "neutral"], ["neutral"], ["sad", "neutral"])


# -------------------------------------------------- neutral precision/recall

CLASSES = ["angry", "happy", "neutral", "sad"]


def test_neutral_precision_recall_by_hand():
    y_true = ["neutral", "neutral", "sad", "happy", "neutral"]
    speech_is_neutral = [True, True, True, False, False]
    proba = np.array(
        [
            [0.1, 0.1, 0.7, 0.1],  # P(neutral) 0.7, argmax neutral
            [0.1, 0.1, 0.3, 0.5],  # 0.3, argmax sad
            [0.1, 0.1, 0.2, 0.6],  # 0.2, argmax sad
        ]
    )
    table = neutral_precision_recall(
        y_true,
        speech_is_neutral,
        proba,
        CLASSES,
        [0.4, 0.3, 0.2],
        emotion_pred=["happy", "sad"],
    )
    assert table.columns.tolist() == [
        "threshold",
        "no_threshold",
        "precision",
        "recall",
        "n_pred_neutral",
        "n_true_neutral",
        "UA",
        "WA",
    ]
    assert table["no_threshold"].tolist() == [True, False, False, False]
    assert np.isnan(table.loc[0, "threshold"])
    assert table["threshold"].tolist()[1:] == [0.4, 0.3, 0.2]
    assert table["n_pred_neutral"].tolist() == [1, 1, 2, 3]
    assert table["n_true_neutral"].tolist() == [3] * 4
    np.testing.assert_allclose(table["precision"], [1, 1, 1, 2 / 3])
    np.testing.assert_allclose(table["recall"], [1 / 3, 1 / 3, 2 / 3, 2 / 3])
    # threshold 0.3: final = neutral, neutral, sad, happy, sad
    final = ["neutral", "neutral", "sad", "happy", "sad"]
    assert table.loc[2, "UA"] == pytest.approx(balanced_accuracy_score(y_true, final))
    assert table.loc[2, "WA"] == pytest.approx(accuracy_score(y_true, final))


def _random_case(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y_true = rng.choice(np.array(EMOTIONS), size=n, p=[0.4, 0.2, 0.2, 0.2])
    # speech routes true neutrals to neutral more often than emotional ones
    speech_is_neutral = rng.random(n) < np.where(y_true == NEUTRAL, 0.8, 0.3)
    proba = rng.dirichlet(np.ones(len(CLASSES)), size=n)
    emotion_pred = rng.choice(np.array(["angry", "happy", "sad"]), size=n)
    return y_true, speech_is_neutral, proba, emotion_pred


def _direct_final(y_true, speech_is_neutral, proba, emotion_pred, threshold):
    """Algorithm 1 written out row by row, independently of the package."""
    final = []
    for i in range(len(y_true)):
        if not speech_is_neutral[i]:
            final.append(emotion_pred[i])
        elif proba[i, CLASSES.index(NEUTRAL)] >= threshold:
            final.append(NEUTRAL)
        else:
            final.append(CLASSES[int(np.argmax(proba[i]))])
    return np.array(final)


@pytest.mark.parametrize("seed", range(3))
def test_neutral_recall_non_decreasing_as_threshold_decreases(seed):
    y_true, routed, proba, emotion_pred = _random_case(seed=seed)
    thresholds = np.round(np.linspace(1.0, 0.0, 21), 2)  # decreasing
    table = neutral_precision_recall(
        y_true, routed, proba, CLASSES, thresholds, emotion_pred=emotion_pred
    )
    curve = table[~table["no_threshold"]]
    assert np.all(np.diff(curve["recall"].to_numpy()) >= 0)
    assert np.all(np.diff(curve["n_pred_neutral"].to_numpy()) >= 0)
    # threshold 0: every speech-neutral sample stays neutral
    assert curve["n_pred_neutral"].iloc[-1] == routed.sum()
    # recall rises strictly somewhere on this example
    assert curve["recall"].iloc[-1] > curve["recall"].iloc[0]


@pytest.mark.parametrize("threshold", [0.25, 0.3, 0.35, 0.4])
def test_neutral_precision_recall_equals_direct_sklearn(threshold):
    y_true, routed, proba, emotion_pred = _random_case(seed=11)
    table = neutral_precision_recall(
        y_true, routed, proba, CLASSES, [threshold], emotion_pred=emotion_pred
    )
    row = table.iloc[1]
    final = _direct_final(y_true, routed, proba, emotion_pred, threshold)
    assert row["threshold"] == threshold
    assert row["precision"] == pytest.approx(
        precision_score(y_true, final, labels=[NEUTRAL], average="macro")
    )
    assert row["recall"] == pytest.approx(
        recall_score(y_true, final, labels=[NEUTRAL], average="macro")
    )
    assert row["UA"] == pytest.approx(balanced_accuracy_score(y_true, final))
    assert row["WA"] == pytest.approx(accuracy_score(y_true, final))


def test_no_threshold_row_is_plain_argmax():
    y_true, routed, proba, emotion_pred = _random_case(seed=5)
    table = neutral_precision_recall(
        y_true, routed, proba, CLASSES, [], emotion_pred=emotion_pred
    )
    assert len(table) == 1 and table.loc[0, "no_threshold"]
    final = np.where(routed, np.array(CLASSES)[proba.argmax(axis=1)], emotion_pred)
    pred_neutral = final == NEUTRAL
    true_neutral = y_true == NEUTRAL
    assert table.loc[0, "precision"] == pytest.approx(
        (pred_neutral & true_neutral).sum() / pred_neutral.sum()
    )
    assert table.loc[0, "recall"] == pytest.approx(
        (pred_neutral & true_neutral).sum() / true_neutral.sum()
    )


def test_subset_inputs_and_missing_emotion_pred_agree():
    y_true, routed, proba, emotion_pred = _random_case(seed=3)
    thresholds = [0.4, 0.3, None]  # None is dropped: argmax row is always first
    full = neutral_precision_recall(
        y_true, routed, proba, CLASSES, thresholds, emotion_pred=emotion_pred
    )
    subset = neutral_precision_recall(
        y_true,
        routed.astype(int),
        proba[routed],
        CLASSES,
        thresholds,
        emotion_pred=emotion_pred[~routed],
    )
    pd.testing.assert_frame_equal(full, subset)
    assert len(full) == 3
    # Level-2 predictions are never neutral, so neutral P/R need no emotion_pred.
    bare = neutral_precision_recall(y_true, routed, proba, CLASSES, thresholds)
    pd.testing.assert_frame_equal(
        bare[["threshold", "precision", "recall", "n_pred_neutral"]],
        full[["threshold", "precision", "recall", "n_pred_neutral"]],
    )
    assert bare["UA"].isna().all() and bare["WA"].isna().all()


def test_neutral_precision_recall_zero_division():
    # No sample routed to neutral at all: no neutral prediction, so the
    # precision is undefined; the one neutral sample is missed: recall 0.
    table = neutral_precision_recall(
        ["neutral", "sad"], [False, False], np.empty((0, 4)), CLASSES, [0.3]
    )
    assert table["precision"].isna().all()
    assert table["recall"].tolist() == [0.0, 0.0]


def test_neutral_precision_recall_integer_labels():
    # Classes 0 (neutral) to 3; the same table as with string labels.
    names = np.array(CLASSES)
    proba = np.array([[0.1, 0.1, 0.7, 0.1], [0.1, 0.1, 0.3, 0.5], [0.5, 0.1, 0.2, 0.2]])
    y = ["neutral", "neutral", "sad", "happy"]
    routed = [True, True, True, False]
    strings = neutral_precision_recall(
        y, routed, proba, names, [0.3], emotion_pred=["happy"]
    )
    to_int = {c: i for i, c in enumerate(["neutral", "angry", "happy", "sad"])}
    integers = neutral_precision_recall(
        [to_int[c] for c in y],
        routed,
        proba,
        [to_int[c] for c in names],
        [0.3],
        emotion_pred=[to_int["happy"]],
        neutral_label=0,
    )
    pd.testing.assert_frame_equal(integers, strings)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"thresholds": [1.2]}, r"\[0, 1\]"),
        ({"thresholds": [-0.1]}, r"\[0, 1\]"),
        ({"speech_is_neutral": ["neutral", "sad", "sad"]}, "boolean"),
        ({"speech_is_neutral": [True, False]}, "length"),
        ({"text_proba": np.full((1, 4), 0.25)}, "text_proba has 1 rows"),
        ({"text_proba": np.full(3, 0.25)}, "2-D"),
        ({"text_classes": ["angry", "happy", "calm", "sad"]}, "neutral_label"),
        ({"emotion_pred": ["sad", "sad"]}, "emotion_pred has 2 rows"),
    ],
)
def test_neutral_precision_recall_invalid_inputs(kwargs, match):
    args = {
        "y_true": ["neutral", "sad", "sad"],
        "speech_is_neutral": [True, False, True],
        "text_proba": np.full((3, 4), 0.25),
        "text_classes": CLASSES,
        "thresholds": [0.3],
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        neutral_precision_recall(**args)


def test_scores_record_is_the_report_as_plain_values():
    y_true = ["neutral", "happy", "sad", "sad"]
    y_pred = ["neutral", "sad", "sad", "angry"]
    record = scores_record(y_true, y_pred)
    report = per_class_report(y_true, y_pred)
    assert record["labels"] == list(EMOTIONS)
    assert record["UA"] == report.loc["UA", "recall"]
    assert record["WA"] == report.loc["WA", "recall"]
    # Undefined ratios are None (JSON null), defined ones plain floats.
    assert record["per_class"]["happy"] == {
        "precision": None,
        "recall": 0.0,
        "f1": 0.0,
        "support": 1,
    }
    assert record["per_class"]["angry"]["precision"] == 0.0
    assert record["per_class"]["angry"]["recall"] is None
    assert record["confusion_matrix"] == confusion_table(y_true, y_pred).values.tolist()
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    row = system_row("S", y_true, y_pred)
    assert np.isnan(row["happy_precision"]) and row["sad_recall"] == 0.5


@pytest.mark.parametrize(
    "value, expected",
    [(0.87549, "0.875"), (None, "n/a"), (float("nan"), "n/a"), (1, "1.000")],
)
def test_format_score(value, expected):
    assert format_score(value) == expected

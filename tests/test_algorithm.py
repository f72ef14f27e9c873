"""The confidence-threshold rule of Algorithm 1 (sklearn_hser._algorithm)."""

import numpy as np
import pytest

from sklearn_hser._algorithm import apply_threshold_rule, check_threshold

# Columns in the order a fitted classifier's classes_ would have them.
CLASSES = ["angry", "happy", "neutral", "sad"]

# One row per speech-neutral sample; the comment gives P(neutral) and argmax.
PROBA = np.array(
    [
        [0.10, 0.10, 0.70, 0.10],  # 0.70, neutral
        [0.05, 0.50, 0.35, 0.10],  # 0.35, happy
        [0.05, 0.20, 0.25, 0.50],  # 0.25, sad
        [0.60, 0.05, 0.30, 0.05],  # 0.30, angry
        [0.10, 0.40, 0.10, 0.40],  # 0.10, happy/sad tie -> happy
        [0.20, 0.20, 0.40, 0.20],  # 0.40, neutral
    ]
)


def test_no_threshold_is_plain_argmax():
    got = apply_threshold_rule(PROBA, CLASSES, None)
    assert got.tolist() == ["neutral", "happy", "sad", "angry", "happy", "neutral"]


def test_threshold_zero_keeps_every_sample_neutral():
    got = apply_threshold_rule(PROBA, CLASSES, 0.0)
    assert got.tolist() == ["neutral"] * len(PROBA)
    # Even a sample with P(neutral) == 0.
    assert apply_threshold_rule([[0.5, 0.5, 0.0, 0.0]], CLASSES, 0).tolist() == [
        "neutral"
    ]


def test_threshold_one_keeps_neutral_only_when_certain_or_argmax():
    # At 1 the rule reduces to the argmax except where P(neutral) == 1.
    got = apply_threshold_rule(PROBA, CLASSES, 1.0)
    assert got.tolist() == apply_threshold_rule(PROBA, CLASSES, None).tolist()
    certain = [[0.0, 0.0, 1.0, 0.0], [0.0, 0.99, 0.01, 0.0]]
    assert apply_threshold_rule(certain, CLASSES, 1.0).tolist() == ["neutral", "happy"]


@pytest.mark.parametrize(
    "threshold, expected",
    [
        (0.40, ["neutral", "happy", "sad", "angry", "happy", "neutral"]),
        (0.36, ["neutral", "happy", "sad", "angry", "happy", "neutral"]),
        # exactly 0.35 for row 1: ">=" keeps it neutral
        (0.35, ["neutral", "neutral", "sad", "angry", "happy", "neutral"]),
        (0.30, ["neutral", "neutral", "sad", "neutral", "happy", "neutral"]),
        (0.25, ["neutral", "neutral", "neutral", "neutral", "happy", "neutral"]),
        (0.11, ["neutral", "neutral", "neutral", "neutral", "happy", "neutral"]),
        (0.10, ["neutral"] * 6),
    ],
)
def test_intermediate_thresholds(threshold, expected):
    assert apply_threshold_rule(PROBA, CLASSES, threshold).tolist() == expected


def test_probability_equal_to_threshold_stays_neutral():
    # Exactly representable values and a non-representable one (0.3 == 0.3).
    for p in (0.25, 0.5, 0.3):
        row = [[1 - p, 0.0, p, 0.0]]
        assert apply_threshold_rule(row, CLASSES, p).tolist() == ["neutral"]
        above = np.nextafter(p, 1.0)
        assert apply_threshold_rule(row, CLASSES, above).tolist() == ["angry"]


def test_argmax_tie_goes_to_first_class_in_text_classes_order():
    row = [[0.1, 0.4, 0.1, 0.4]]  # happy and sad tied
    assert apply_threshold_rule(row, CLASSES, None).tolist() == ["happy"]
    reordered = ["angry", "sad", "neutral", "happy"]
    row_reordered = [[0.1, 0.4, 0.1, 0.4]]  # now columns are sad ... happy
    assert apply_threshold_rule(row_reordered, reordered, None).tolist() == ["sad"]


def test_tie_between_neutral_and_emotional_argmax():
    # Neutral tied with sad for the argmax: column order decides when the
    # threshold does not apply.
    row = [[0.1, 0.1, 0.4, 0.4]]
    assert apply_threshold_rule(row, CLASSES, None).tolist() == ["neutral"]
    assert apply_threshold_rule(row, CLASSES, 0.5).tolist() == ["neutral"]
    sad_first = ["angry", "happy", "sad", "neutral"]
    assert apply_threshold_rule(row, sad_first, None).tolist() == ["sad"]
    assert apply_threshold_rule(row, sad_first, 0.5).tolist() == ["sad"]
    assert apply_threshold_rule(row, sad_first, 0.4).tolist() == ["neutral"]


def test_argmax_neutral_stays_neutral_below_threshold():
    # P(neutral) < threshold, but neutral is still the text argmax.
    row = [[0.2, 0.2, 0.35, 0.25]]
    assert apply_threshold_rule(row, CLASSES, 0.4).tolist() == ["neutral"]


def test_output_labels_come_from_text_classes():
    classes = np.array([3, 0, 1, 2])  # integer labels, neutral = 0
    proba = [[0.6, 0.3, 0.05, 0.05], [0.2, 0.1, 0.6, 0.1]]
    got = apply_threshold_rule(proba, classes, 0.3, neutral_label=0)
    assert got.tolist() == [0, 1]
    assert got.dtype == classes.dtype


def test_custom_neutral_label_and_object_classes():
    classes = np.array(["ang", "neu", "sad"], dtype=object)
    got = apply_threshold_rule([[0.5, 0.45, 0.05]], classes, 0.4, neutral_label="neu")
    assert got.tolist() == ["neu"]


def test_empty_input_gives_empty_output():
    got = apply_threshold_rule(np.empty((0, 4)), CLASSES, 0.3)
    assert got.shape == (0,)


def test_input_is_not_modified():
    proba = PROBA.copy()
    apply_threshold_rule(proba, CLASSES, 0.3)
    np.testing.assert_array_equal(proba, PROBA)


@pytest.mark.parametrize(
    "proba, classes, threshold, match",
    [
        (PROBA[0], CLASSES, 0.3, "2-D"),
        (PROBA[:, :3], CLASSES, 0.3, "columns"),
        (PROBA, ["angry", "happy", "calm", "sad"], 0.3, "neutral_label"),
        (PROBA, ["angry", "happy", "neutral", "happy"], 0.3, "duplicate"),
        (PROBA, CLASSES, -0.1, r"\[0, 1\]"),
        (PROBA, CLASSES, 1.5, r"\[0, 1\]"),
        (PROBA, CLASSES, float("nan"), r"\[0, 1\]"),
        (PROBA, CLASSES, "0.3", "real number"),
        (PROBA, CLASSES, True, "real number"),
        (np.where(PROBA == 0.7, np.nan, PROBA), CLASSES, 0.3, "NaN"),
        ([["a", "b", "c", "d"]], CLASSES, 0.3, "numeric"),
        (PROBA, [], 0.3, "text_classes"),
    ],
)
def test_invalid_inputs(proba, classes, threshold, match):
    with pytest.raises(ValueError, match=match):
        apply_threshold_rule(proba, classes, threshold)


def test_check_threshold():
    assert check_threshold(None) is None
    assert check_threshold(0) == 0.0
    assert check_threshold(np.float32(0.5)) == 0.5
    assert isinstance(check_threshold(np.float64(0.25)), float)
    with pytest.raises(ValueError):
        check_threshold(np.bool_(True))


@pytest.mark.parametrize(
    "threshold, expected",
    [
        # no threshold: the text's argmax decides every text row
        (None, ["speech_emotion", "text", "text", "text"]),
        # 0.5: the text's neutral (P 0.6) and its happy (P(neutral) 0.3) stand
        (0.5, ["speech_emotion", "text", "text", "text"]),
        # 0.25: P(neutral) 0.3 keeps the gate's neutral against the text's happy
        (0.25, ["speech_emotion", "text", "speech_gate", "text"]),
        # at 0 the words are never consulted, except where the voice is not
        # trusted (the last row)
        (0.0, ["speech_emotion", "speech_gate", "speech_gate", "text"]),
    ],
)
def test_route_names_the_model_that_decided(threshold, expected):
    from sklearn_hser._algorithm import HierarchyOutputs

    classes = np.array(["angry", "happy", "neutral", "sad"])
    outputs = HierarchyOutputs(
        gate=np.array(["emotional", "neutral", "neutral", "neutral"]),
        classes=classes,
        text_classes=classes,
        emotion_pred=np.array(["angry"]),
        text_proba=np.array(
            [[0.1, 0.1, 0.6, 0.2], [0.1, 0.5, 0.3, 0.1], [0.7, 0.1, 0.1, 0.1]]
        ),
        threshold=threshold,
        words_decide=np.array([False, False, False, True]),
    )
    assert outputs.route()["decided_by"].tolist() == expected

"""The threshold search keeps the hierarchy from harm when words carry nothing.

Constructed data: speech features that separate the four classes fairly
well, and transcripts that either carry no emotion (the same two sentences
for every class, as in RAVDESS) or name it (as in the synthetic corpus). The
text model is TF-IDF + LogisticRegression, so the test runs in a second.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline

from sklearn_hser import HierarchicalClassifier
from sklearn_hser.baselines import SpeechOnlyClassifier
from sklearn_hser.metrics import unweighted_accuracy
from sklearn_hser.threshold_tuning import (
    DEFAULT_THRESHOLDS,
    PAPER_THRESHOLDS,
    TunedThresholdHierarchyCV,
)

CLASSES = np.array(["neutral", "happy", "sad", "angry"])
WORDS = {
    "neutral": "the meeting is at noon",
    "happy": "what a wonderful lovely day",
    "sad": "i miss her so much it hurts",
    "angry": "this is outrageous i am furious",
}


def _corpus(n, informative, seed):
    rng = np.random.default_rng(seed)
    # Neutral is the smallest class, as in RAVDESS (4 of 28 per actor).
    y = rng.choice(CLASSES, size=n, p=[0.16, 0.28, 0.28, 0.28])
    # The same class centres for every draw: train and test share them. One
    # direction sets neutral apart (as low arousal does), so the speech gate
    # itself is learnable by a linear model: what is tested is the text.
    centres = np.random.default_rng(123).normal(0, 1.0, size=(4, 6))
    centres[0, 0] += 3.0
    codes = np.array([list(CLASSES).index(label) for label in y])
    speech = centres[codes] + rng.normal(0, 1.6, size=(n, 6))
    if informative:
        text = [WORDS[label] for label in y]
    else:
        sentences = ["kids are talking by the door", "dogs are sitting by the door"]
        text = [sentences[i] for i in rng.integers(0, 2, n)]
    frame = pd.DataFrame(speech, columns=[f"s{i}" for i in range(6)])
    frame["text"] = text
    frame["speaker"] = [f"spk{i % 12}" for i in range(n)]
    return frame, y


def _models():
    columns = [f"s{i}" for i in range(6)]
    speech = make_pipeline(
        make_column_transformer(("passthrough", columns)),
        LogisticRegression(max_iter=1000, class_weight="balanced"),
    )
    text = make_pipeline(
        make_column_transformer((TfidfVectorizer(), "text")),
        LogisticRegression(max_iter=1000),
    )
    return speech, text


def _tuned_vs_flat(informative, thresholds, seed=0):
    train, y_train = _corpus(720, informative, seed)
    test, y_test = _corpus(480, informative, seed + 1)
    speech, text = _models()
    tuner = TunedThresholdHierarchyCV(
        HierarchicalClassifier(speech, speech, text),
        thresholds=thresholds,
        cv=GroupKFold(4),
    ).fit(train, y_train, groups=train["speaker"])
    flat = SpeechOnlyClassifier(speech).fit(train, y_train)
    return (
        tuner,
        unweighted_accuracy(y_test, tuner.predict(test)),
        unweighted_accuracy(y_test, flat.predict(test)),
        tuner.predict(test),
        y_test,
    )


def test_paper_thresholds_alone_lose_neutral_when_text_is_uninformative():
    # The failure the wider grid exists for: every paper threshold lies above
    # the text model's P(neutral), so every speech-neutral sample is moved.
    tuner, _, _, predicted, y_test = _tuned_vs_flat(False, [*PAPER_THRESHOLDS, None])
    neutral = y_test == "neutral"
    assert (predicted[neutral] == "neutral").mean() < 0.2


def test_default_grid_keeps_speech_decision_when_text_is_uninformative():
    tuner, hierarchy_ua, flat_ua, predicted, y_test = _tuned_vs_flat(
        False, [*DEFAULT_THRESHOLDS, None]
    )
    assert tuner.best_threshold_ == 0.0
    assert hierarchy_ua >= flat_ua - 0.01
    assert (predicted[y_test == "neutral"] == "neutral").mean() > 0.5


def test_default_grid_keeps_the_text_gain_when_text_is_informative():
    tuner, hierarchy_ua, flat_ua, _, _ = _tuned_vs_flat(
        True, [*DEFAULT_THRESHOLDS, None]
    )
    assert tuner.best_threshold_ != 0.0
    assert hierarchy_ua >= flat_ua + 0.05


def test_tuner_default_grid_is_the_package_default():
    speech, text = _models()
    tuner = TunedThresholdHierarchyCV(HierarchicalClassifier(speech, speech, text))
    assert list(tuner.thresholds) == [*DEFAULT_THRESHOLDS, None]
    assert DEFAULT_THRESHOLDS[0] == 0.0
    assert set(PAPER_THRESHOLDS) <= set(DEFAULT_THRESHOLDS)


@pytest.mark.parametrize("threshold", [0.0, 0.25])
def test_paper_rule_is_unchanged_at_its_settings(threshold):
    # The rule itself is still the paper's: threshold 0 keeps every
    # speech-neutral sample neutral, a paper threshold keeps those whose text
    # P(neutral) reaches it and gives the others the text argmax.
    train, y_train = _corpus(300, True, 3)
    speech, text = _models()
    model = HierarchicalClassifier(speech, speech, text, threshold=threshold)
    model.fit(train, y_train)
    route = model.route(train)
    to_text = route["branch"].to_numpy() == "text"
    proba = model.text_.predict_proba(train[to_text])
    p_neutral = proba[:, list(model.text_.classes_).index("neutral")]
    argmax = model.text_.classes_[proba.argmax(axis=1)]
    expected = np.where(p_neutral >= threshold, "neutral", argmax)
    np.testing.assert_array_equal(route["prediction"].to_numpy()[to_text], expected)

"""The hierarchy on the synthetic corpus: text corrects flat-toned speech."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_hser import HierarchicalClassifier
from sklearn_hser.datasets import make_emotional_speech
from sklearn_hser.features import MFCC
from sklearn_hser.metrics import correction_counts


@pytest.fixture(scope="module")
def corpus_split():
    # Speaker-independent: sessions 1-4 train, both session-5 speakers test.
    corpus = make_emotional_speech(n_per_speaker=32, random_state=3)
    in_test = (corpus["session"] == 5).to_numpy()
    return (
        corpus[~in_test].reset_index(drop=True),
        corpus[in_test].reset_index(drop=True),
    )


def _models(cache_dir):
    speech = make_pipeline(
        MFCC(column="audio", pooling="mean+std", cache_dir=cache_dir),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )
    text = make_pipeline(
        make_column_transformer((TfidfVectorizer(), "text")),
        LogisticRegression(max_iter=1000, C=10),
    )
    return speech, text


def test_text_corrects_what_speech_calls_neutral(corpus_split, tmp_path):
    train, test = corpus_split
    speech, text = _models(tmp_path)
    clf = HierarchicalClassifier(speech, speech, text).fit(train, train["label"])
    predicted = clf.predict(test)

    # The same three models fitted and combined by hand, independently.
    y_train = train["label"].to_numpy()
    neutral = y_train == "neutral"
    gate = clone(speech).fit(train, np.where(neutral, "neutral", "emotional"))
    emotion = clone(speech).fit(train[~neutral], y_train[~neutral])
    text_model = clone(text).fit(train, y_train)
    gate_pred = gate.predict(test)
    expected = np.where(
        gate_pred == "neutral", text_model.predict(test), emotion.predict(test)
    )
    np.testing.assert_array_equal(predicted, expected)

    # The hard case: emotional words in flat (neutral-sounding) speech.
    y_test = test["label"].to_numpy()
    missed = (gate_pred == "neutral") & (y_test != "neutral")
    corrected_by_hand = int((missed & (text_model.predict(test) == y_test)).sum())
    counts = correction_counts(y_test, gate_pred, predicted)
    assert counts["n_missed"] == int(missed.sum()) > 0
    assert counts["n_corrected"] == corrected_by_hand > 0
    flat = (test["style"] == "flat").to_numpy()
    # Flat samples that sound neutral are mostly rescued by the words.
    assert (missed & flat).sum() > 0
    assert ((predicted == y_test) & missed & flat).sum() >= 0.6 * (missed & flat).sum()


def test_hierarchy_beats_speech_alone_on_flat_samples(corpus_split, tmp_path):
    from sklearn_hser.baselines import SpeechOnlyClassifier

    train, test = corpus_split
    speech, text = _models(tmp_path)
    flat = (test["style"] == "flat").to_numpy()
    y = test["label"].to_numpy()
    flat_only = SpeechOnlyClassifier(speech).fit(train, train["label"])
    hierarchy = HierarchicalClassifier(speech, speech, text, threshold=0.4)
    hierarchy.fit(train, train["label"])
    speech_right = (flat_only.predict(test) == y)[flat].mean()
    hierarchy_right = (hierarchy.predict(test) == y)[flat].mean()
    assert hierarchy_right > speech_right + 0.2

"""The hierarchy's gate: the paper's neutral-vs-emotional one, or four-class.

Constructed data where neutral lies *between* the emotions on one axis (sad
below it, happy and angry above, as in arousal): a linear model cannot cut
neutral off from the union of the emotions with a single boundary, but a
four-class linear model isolates it with one boundary per emotion.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_hser import HierarchicalClassifier
from sklearn_hser.baselines import SpeechOnlyClassifier
from sklearn_hser.hierarchy import GATE_OPTIONS as GATE_LABELS
from sklearn_hser.metrics import unweighted_accuracy
from sklearn_hser.systems import ExperimentConfig
from sklearn_hser.threshold_tuning import DEFAULT_THRESHOLDS, TunedThresholdHierarchyCV

CLASSES = np.array(["neutral", "happy", "sad", "angry"])
# (arousal, valence): neutral in the middle of the arousal axis.
CENTRES = {"neutral": (0, 0), "happy": (2.5, 2), "sad": (-2.5, 0), "angry": (2.5, -2)}
WORDS = {
    "neutral": "the meeting is at noon",
    "happy": "what a wonderful lovely day",
    "sad": "i miss her so much it hurts",
    "angry": "this is outrageous i am furious",
}
SPEECH_COLUMNS = ["arousal", "valence", "noise"]


def _corpus(n, seed, informative=False, spread=0.8):
    rng = np.random.default_rng(seed)
    y = rng.choice(CLASSES, size=n, p=[0.16, 0.28, 0.28, 0.28])
    centres = np.array([CENTRES[label] for label in y], dtype=float)
    speech = centres + rng.normal(0, spread, size=(n, 2))
    frame = pd.DataFrame(speech, columns=SPEECH_COLUMNS[:2])
    frame["noise"] = rng.normal(size=n)
    if informative:
        frame["text"] = [WORDS[label] for label in y]
    else:
        sentences = ["kids are talking by the door", "dogs are sitting by the door"]
        frame["text"] = [sentences[i] for i in rng.integers(0, 2, n)]
    frame["speaker"] = [f"spk{i % 8}" for i in range(n)]
    return frame, y


def _models():
    speech = make_pipeline(
        make_column_transformer(("passthrough", SPEECH_COLUMNS)),
        LogisticRegression(max_iter=1000, class_weight="balanced"),
    )
    text = make_pipeline(
        make_column_transformer((TfidfVectorizer(), "text")),
        LogisticRegression(max_iter=1000),
    )
    return speech, text


def _hierarchy(**params):
    speech, text = _models()
    return HierarchicalClassifier(speech, speech, text, **params)


def test_four_class_gate_learns_every_class_and_routes_its_neutral():
    X, y = _corpus(600, 0)
    model = _hierarchy(gate_labels="all", threshold=0.0).fit(X, y)
    assert sorted(model.speech_gate_.classes_) == sorted(CLASSES)
    routes = model.route(X)
    gate_says_neutral = model.speech_gate_.predict(X) == "neutral"
    np.testing.assert_array_equal(routes["speech_gate"] == "neutral", gate_says_neutral)
    assert set(routes["speech_gate"]) == {"neutral", "emotional"}
    paper = _hierarchy(threshold=0.0).fit(X, y)
    assert sorted(paper.speech_gate_.classes_) == ["emotional", "neutral"]


@pytest.mark.parametrize("gates", ["flat", "collapsed"])
def test_the_study_s_row_is_the_flat_speech_model(gates):
    # With the flat gate chosen, evaluate_run reads S from the chosen
    # hierarchy's own pass over the test set; otherwise from the flat one.
    from sklearn_hser.experiments import _chosen_on_validation, evaluate_run
    from sklearn_hser.systems import SYSTEMS

    X, y = _corpus(300, 3)
    X_val, y_val = _corpus(100, 5)
    X_test, y_test = _corpus(100, 4)
    X_test["id"] = [f"u{i}" for i in range(len(X_test))]
    speech, text = _models()
    text = text.fit(X, y)
    config = ExperimentConfig(gate_labels=gates, thresholds=[0.0, 0.3])
    data = {
        "train": X.assign(label=y),
        "val": X_val.assign(label=y_val),
        "test": X_test.assign(label=y_test),
    }
    tuner, flat = _chosen_on_validation(
        speech, text, data["train"], data["val"], config
    )
    assert (flat is tuner.estimator_) == (gates == "flat")
    record = evaluate_run(SYSTEMS["lstm-mfcc"], "sd", speech, text, data, config)
    fresh = SpeechOnlyClassifier(speech).fit(X, y).predict(X_test)
    s_row = next(r for r in record["rows"] if r["kind"] == "S")
    assert s_row["UA"] == unweighted_accuracy(y_test, fresh)
    assert record["gate_labels_on_validation"] == gates


def test_four_class_gate_keeps_the_flat_neutral_decision_a_linear_gate_loses():
    X, y = _corpus(800, 1)
    X_test, y_test = _corpus(800, 2)
    speech, _ = _models()
    flat = SpeechOnlyClassifier(speech).fit(X, y).predict(X_test)
    paper = _hierarchy(threshold=0.0).fit(X, y).predict(X_test)
    four = _hierarchy(gate_labels="all", threshold=0.0).fit(X, y).predict(X_test)
    flat_ua = unweighted_accuracy(y_test, flat)
    # One linear boundary cannot hold the middle class: the collapsed gate
    # calls a whole emotion (here sad) neutral.
    assert unweighted_accuracy(y_test, paper) < flat_ua - 0.1
    np.testing.assert_array_equal(four == "neutral", flat == "neutral")
    assert unweighted_accuracy(y_test, four) >= flat_ua - 0.01


def test_flat_gate_at_threshold_zero_is_the_flat_speech_model():
    X, y = _corpus(600, 9)
    X_test, _ = _corpus(400, 10)
    speech, _ = _models()
    flat = SpeechOnlyClassifier(speech).fit(X, y)
    model = _hierarchy(gate_labels="flat", threshold=0.0).fit(X, y)
    # No second speech model: the gate names the emotion.
    assert model.speech_emotion_ is model.speech_gate_
    np.testing.assert_array_equal(model.predict(X_test), flat.predict(X_test))
    routes = model.route(X_test)
    emotional = (routes["branch"] == "speech_emotion").to_numpy()
    assert 0 < emotional.sum() < len(X_test)
    np.testing.assert_allclose(
        model.predict_proba(X_test)[emotional], flat.predict_proba(X_test)[emotional]
    )
    # A separate emotion model ("all") names some emotions differently.
    four = _hierarchy(gate_labels="all", threshold=0.0).fit(X, y)
    np.testing.assert_array_equal(
        four.predict(X_test) == "neutral", flat.predict(X_test) == "neutral"
    )


def test_flat_gate_lets_informative_text_revise_the_neutral_decisions():
    X, y = _corpus(800, 11, informative=True, spread=1.5)
    X_test, y_test = _corpus(600, 12, informative=True, spread=1.5)
    speech, _ = _models()
    flat_ua = unweighted_accuracy(
        y_test, SpeechOnlyClassifier(speech).fit(X, y).predict(X_test)
    )
    model = _hierarchy(gate_labels="flat", threshold=None).fit(X, y)
    assert unweighted_accuracy(y_test, model.predict(X_test)) >= flat_ua + 0.05


class _CountingLogisticRegression(LogisticRegression):
    """Counts its fits, to see which fits a memory saves."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


def test_a_memory_fits_the_four_class_gate_once_for_all_and_flat(tmp_path):
    X, y = _corpus(300, 13)
    X_speech = X[SPEECH_COLUMNS].to_numpy()
    speech = _CountingLogisticRegression(max_iter=1000)
    _CountingLogisticRegression.fits = 0
    for gate in ("all", "flat", "collapsed"):
        HierarchicalClassifier(
            speech, speech, LogisticRegression(), gate_labels=gate, memory=str(tmp_path)
        ).fit(X_speech, y)
    # all: gate + emotion; flat: cached gate; collapsed: gate + cached emotion.
    assert _CountingLogisticRegression.fits == 3


@pytest.mark.parametrize(
    "informative, speech_only_gates",
    [(False, "reference"), (False, "every_gate"), (True, "reference")],
)
def test_joint_search_picks_the_gate_on_held_out_groups(informative, speech_only_gates):
    # Noisier speech than elsewhere, so that the text has something to add.
    X, y = _corpus(800, 3, informative, spread=1.5)
    X_test, y_test = _corpus(600, 4, informative, spread=1.5)
    tuner = TunedThresholdHierarchyCV(
        _hierarchy(),
        thresholds=[*DEFAULT_THRESHOLDS, None],
        gate_labels=list(GATE_LABELS),
        speech_only_gates=speech_only_gates,
        cv=GroupKFold(4),
    ).fit(X, y, groups=X["speaker"])
    speech, _ = _models()
    flat_pred = SpeechOnlyClassifier(speech).fit(X, y).predict(X_test)
    flat_ua = unweighted_accuracy(y_test, flat_pred)
    tuned_ua = unweighted_accuracy(y_test, tuner.predict(X_test))
    assert tuner.estimator_.gate_labels == tuner.best_gate_labels_
    assert tuner.estimator_.threshold == tuner.best_threshold_
    if informative:
        assert tuned_ua >= flat_ua + 0.05
    elif speech_only_gates == "reference":
        # The text is useless and no other gate competes without it: the
        # search ends at the flat speech model, sample for sample.
        assert (tuner.best_gate_labels_, tuner.best_threshold_) == ("flat", 0.0)
        np.testing.assert_array_equal(tuner.predict(X_test), flat_pred)
    else:
        # Both four-class gates keep the flat model's neutral decisions.
        assert tuner.best_gate_labels_ in ("flat", "all")
        assert tuned_ua >= flat_ua - 0.01


@pytest.mark.parametrize("speech_only_gates", ["every_gate", "reference"])
def test_joint_search_results_have_one_entry_per_gate_and_threshold(speech_only_gates):
    X, y = _corpus(300, 5)
    thresholds = [0.0, None]
    tuner = TunedThresholdHierarchyCV(
        _hierarchy(),
        thresholds=thresholds,
        gate_labels=["all", "collapsed"],
        speech_only_gates=speech_only_gates,
        cv=3,
    ).fit(X, y)
    results = tuner.cv_results_
    if speech_only_gates == "every_gate":
        gates = ["all", "all", "collapsed", "collapsed"]
        searched = [0.0, None, 0.0, None]
    else:  # at threshold 0 only the first option, the reference
        gates, searched = ["all", "all", "collapsed"], [0.0, None, None]
    assert tuner.cv_scores_.shape == (3, len(gates))
    assert list(results["param_gate_labels"]) == gates
    assert list(results["param_threshold"]) == searched
    assert results["params"][2] == {
        "gate_labels": "collapsed",
        "threshold": searched[2],
    }
    best = int(np.argmax(tuner.cv_scores_.mean(0)))
    assert (tuner.best_gate_labels_, tuner.best_threshold_) == (
        results["param_gate_labels"][best],
        results["param_threshold"][best],
    )
    # Without the search, the results keep their threshold-only shape.
    plain = TunedThresholdHierarchyCV(_hierarchy(), thresholds=thresholds, cv=3)
    plain.fit(X, y)
    assert plain.best_gate_labels_ is None and "param_gate_labels" not in (
        plain.cv_results_
    )


@pytest.mark.parametrize("gate", ["all", "collapsed"])
def test_refit_false_keeps_the_split_model_of_the_chosen_gate(gate):
    X, y = _corpus(300, 6)
    single = [next(KFold(4).split(X))]
    tuner = TunedThresholdHierarchyCV(
        _hierarchy(), thresholds=[0.0], gate_labels=[gate], cv=single, refit=False
    ).fit(X, y)
    assert tuner.estimator_.gate_labels == gate
    assert tuner.predict(X).shape == (300,)


def test_bad_gate_options_are_clear_errors():
    X, y = _corpus(120, 7)
    with pytest.raises(InvalidParameterError, match="gate_labels"):
        _hierarchy(gate_labels="binary").fit(X, y)
    with pytest.raises(ValueError, match="gate_labels"):
        TunedThresholdHierarchyCV(_hierarchy(), gate_labels=["binary"], cv=3).fit(X, y)
    with pytest.raises(ValueError, match="gate_labels"):
        TunedThresholdHierarchyCV(_hierarchy(), gate_labels=[], cv=3).fit(X, y)
    with pytest.raises(ValueError, match="no gate_labels parameter|has none"):
        TunedThresholdHierarchyCV(
            _OtherHierarchy(_hierarchy()), gate_labels=["all"], cv=3
        ).fit(X, y)
    with pytest.raises(ValueError, match="gate_labels"):
        ExperimentConfig(gate_labels="binary")


class _OtherHierarchy:
    """A model with ``predict_for_thresholds`` but no ``gate_labels``."""

    def __init__(self, inner):
        self.inner = inner

    def get_params(self, deep=True):
        return {"inner": self.inner}

    def set_params(self, **params):
        return self

    def fit(self, X, y):
        return self

    def predict_for_thresholds(self, X, thresholds):
        return {}


def test_config_gate_options():
    assert ExperimentConfig().gate_options() == ["flat", "all", "collapsed"]
    assert ExperimentConfig(gate_labels="collapsed").gate_options() == ["collapsed"]


def test_without_the_text_another_gate_competes_only_when_asked():
    """A gate that hears valence through noise confuses happy and angry; the
    emotion model does not. At threshold 0 (the text unused) the four-class
    gate with that emotion model is a better *speech* model than the flat
    one: ``every_gate`` takes it, ``reference`` keeps the flat speech model,
    and the useless text gives no other candidate a way past it."""
    X, y = _corpus(800, 3)
    X["valence_heard"] = X["valence"] + np.random.default_rng(0).normal(0, 2, len(X))
    speech, text = _models()
    noisy_valence = make_pipeline(
        make_column_transformer(("passthrough", ["arousal", "valence_heard"])),
        LogisticRegression(max_iter=1000, class_weight="balanced"),
    )
    hierarchy = HierarchicalClassifier(noisy_valence, speech, text)
    search = dict(
        thresholds=[*DEFAULT_THRESHOLDS, None],
        gate_labels=list(GATE_LABELS),
        cv=GroupKFold(4),
    )
    every = TunedThresholdHierarchyCV(
        hierarchy, speech_only_gates="every_gate", **search
    )
    every.fit(X, y, groups=X["speaker"])
    assert (every.best_gate_labels_, every.best_threshold_) == ("all", 0.0)
    reference = TunedThresholdHierarchyCV(hierarchy, **search)
    reference.fit(X, y, groups=X["speaker"])
    assert (reference.best_gate_labels_, reference.best_threshold_) == ("flat", 0.0)
    flat = SpeechOnlyClassifier(noisy_valence).fit(X, y)
    np.testing.assert_array_equal(reference.predict(X), flat.predict(X))


@pytest.mark.parametrize("gates", ["auto", "collapsed"])
def test_the_study_s_system_is_the_flat_gate_its_search_fitted(gates):
    # evaluate_run takes the S system from the search's memory of sub-model
    # fits instead of training the same model twice; it must predict what a
    # fresh fit does (with the paper's gate alone, it is trained afresh).
    from sklearn_hser.experiments import _chosen_on_validation
    from sklearn_hser.systems import ExperimentConfig

    X, y = _corpus(300, 3)
    X_val, y_val = _corpus(100, 5)
    X_test, _ = _corpus(100, 4)
    speech, text = _models()
    text = text.fit(X, y)
    config = ExperimentConfig(gate_labels=gates, thresholds=[0.0, 0.3])
    _, flat = _chosen_on_validation(
        speech, text, X.assign(label=y), X_val.assign(label=y_val), config
    )
    fresh = SpeechOnlyClassifier(speech).fit(X, y)
    np.testing.assert_array_equal(flat.speech_gate_.classes_, fresh.classes_)
    outputs = flat.outputs(X_test)
    np.testing.assert_array_equal(outputs.speech_only, fresh.predict(X_test))
    # Where the gate calls a sample emotional, its probabilities are those of
    # the fresh fit to the last bit.
    np.testing.assert_allclose(
        outputs.emotion_proba,
        fresh.predict_proba(X_test)[outputs.to_emotion],
        rtol=0,
        atol=0,
    )

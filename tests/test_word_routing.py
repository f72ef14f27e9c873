"""The words decide where the voice is unsure or unfamiliar, and the choice of when."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline

from sklearn_hser import HierarchicalClassifier
from sklearn_hser.word_routing import (
    SPEECH_CONFIDENCES,
    VOICE_FAMILIARITIES,
    choose_routing,
)

CLASSES = np.array(["angry", "happy", "neutral", "sad"])
CORNERS = np.array([[4, 4], [4, -4], [-4, -4], [-4, 4]], dtype=float)


def _part(kind, n_per_class, rng, noise=1.0):
    """``voice``: the speech columns name the class and the words say nothing;
    ``words``: the reverse (a calm, unfamiliar voice reading emotional text)."""
    y = np.repeat(CLASSES, n_per_class)
    centres = CORNERS[np.searchsorted(CLASSES, y)]
    informative = centres + rng.normal(0, noise, (len(y), 2))
    flat = rng.normal(0, 0.3, (len(y), 2))
    speech, text = (informative, flat) if kind == "voice" else (flat, informative)
    frame = pd.DataFrame(
        {"s0": speech[:, 0], "s1": speech[:, 1], "t0": text[:, 0], "t1": text[:, 1]}
    )
    frame["label"] = y
    frame["speaker"] = [f"{kind}{i % 6}" for i in range(len(y))]
    return frame


def _model(**params):
    def over(columns):
        pick = make_column_transformer(("passthrough", columns))
        return make_pipeline(pick, LogisticRegression())

    speech = over(["s0", "s1"])
    return HierarchicalClassifier(
        speech, speech, over(["t0", "t1"]), gate_labels="flat", **params
    )


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    train = pd.concat([_part("voice", 40, rng), _part("words", 40, rng)])
    return (
        train.reset_index(drop=True),
        _part("voice", 25, rng),
        _part("words", 25, rng),
    )


def _ua(model, frame):
    return balanced_accuracy_score(frame["label"], model.predict(frame))


def test_unsure_voices_are_decided_by_the_words(data):
    train, voice, words = data
    paper = _model().fit(train, train["label"])
    listening = _model(speech_confidence=0.6).fit(train, train["label"])
    # The voice's own samples are unchanged; the calm voice's go to the text.
    assert _ua(listening, voice) == pytest.approx(_ua(paper, voice), abs=0.02)
    assert _ua(paper, words) < 0.5
    assert _ua(listening, words) > 0.9
    routes = listening.route(words)["branch"].value_counts()
    assert routes.get("text", 0) > 0.9 * len(words)


def test_speech_confidence_acts_at_prediction_time_only(data):
    train, _, words = data
    model = _model().fit(train, train["label"])
    before = model.predict(words)
    model.set_params(speech_confidence=0.6)
    assert (model.predict(words) != before).mean() > 0.3
    model.set_params(speech_confidence=None)
    np.testing.assert_array_equal(model.predict(words), before)


def test_a_gate_without_probabilities_is_refused(data):
    from sklearn.svm import LinearSVC

    train, voice, _ = data
    pick = make_column_transformer(("passthrough", ["s0", "s1"]))
    speech = make_pipeline(pick, LinearSVC())
    model = HierarchicalClassifier(
        speech, speech, _model().text, gate_labels="flat", speech_confidence=0.5
    ).fit(train, train["label"])
    with pytest.raises(ValueError, match="needs a speech gate with predict_proba"):
        model.predict(voice)


def test_the_choice_listens_only_when_the_words_help(data):
    train, voice, words = data
    held_out = np.flatnonzero(train["speaker"].isin(["voice0", "words0"]))
    thresholds = [0.0, None]
    choice, scores = choose_routing(
        _model(), train, words, held_out=held_out, thresholds=thresholds
    )
    assert choice["speech_confidence"] is not None
    # No shared speech features: nothing to measure familiarity on.
    assert set(scores) == {(c, None, t) for c in SPEECH_CONFIDENCES for t in thresholds}
    # Validation whose words say nothing keeps the paper's routing.
    voice_only = np.flatnonzero(train["speaker"] == "voice0")
    choice, _ = choose_routing(
        _model(), train, voice, held_out=voice_only, thresholds=thresholds
    )
    assert choice["speech_confidence"] is None
    assert choice["voice_familiarity"] is None


def test_empty_validation_is_refused(data):
    train, voice, _ = data
    with pytest.raises(ValueError, match="at least one sample"):
        choose_routing(_model(), train, voice.iloc[:0], held_out=[0], thresholds=[None])


def _noisy_voices():
    """Noisy voices: where the gate is unsure, the words (which say nothing
    for these speakers) decide worse than the voice would have. Returns the
    training corpus, voiced words, and two held-out speakers' rows."""
    rng = np.random.default_rng(1)
    noisy = [_part("voice", 40, rng, noise=5.0), _part("words", 40, rng)]
    train = pd.concat(noisy).reset_index(drop=True)
    held_out = np.flatnonzero(train["speaker"].isin(["voice0", "voice1"]))
    return train, _part("words", 25, rng), held_out


def test_no_choice_costs_the_voice_more_than_allowed():
    train, words, held_out = _noisy_voices()
    kwargs = dict(held_out=held_out, thresholds=[None])
    free, scores = choose_routing(_model(), train, words, max_speech_loss=1.0, **kwargs)
    reference = scores[None, None, None][0]
    free = tuple(free.values())
    assert scores[free][0] < reference - 0.01  # the words win, at a cost
    bound, _ = choose_routing(_model(), train, words, max_speech_loss=0.01, **kwargs)
    bound = tuple(bound.values())
    assert scores[bound][0] >= reference - 0.01
    assert bound != free


def test_the_bound_holds_when_the_hierarchys_threshold_is_not_searched():
    train, words, held_out = _noisy_voices()
    _, reference = choose_routing(
        _model(), train, words, held_out=held_out, thresholds=[None]
    )
    paper = reference[None, None, None][0]
    # The hierarchy's threshold (None) is not among those searched: the
    # paper's routing at it is still the reference of the bound.
    choice, scores = choose_routing(
        _model(), train, words, held_out=held_out, thresholds=[0.3, 0.4]
    )
    assert scores[tuple(choice.values())][0] >= paper - 0.01
    with pytest.raises(ValueError, match="search that threshold too"):
        choose_routing(
            _model(),
            train,
            words,
            held_out=held_out,
            thresholds=[0.0],
            confidences=[0.99],
            max_speech_loss=0.0,
        )


def _familiar_model(**params):
    """Speech over shared numeric features, so that familiarity applies."""
    pick = make_column_transformer(("passthrough", ["s0", "s1"]))
    text = make_pipeline(
        make_column_transformer(("passthrough", ["t0", "t1"])), LogisticRegression()
    )
    return HierarchicalClassifier(
        LogisticRegression(),
        LogisticRegression(),
        text,
        gate_labels="flat",
        speech_features=pick,
        **params,
    )


def _unfamiliar(frame, shift=30.0):
    """The same utterances heard through another voice: far from any training one."""
    return frame.assign(s0=frame["s0"] + shift, s1=frame["s1"] - shift)


def test_unfamiliar_voices_are_decided_by_the_words(data):
    train, voice, words = data
    paper = _familiar_model().fit(train, train["label"])
    listening = _familiar_model(voice_familiarity=0.01).fit(train, train["label"])
    far = _unfamiliar(words)
    assert _ua(paper, far) < 0.5  # the gate is sure, and wrong
    assert _ua(listening, far) > 0.9
    route = listening.route(far)
    assert (route["branch"] == "text").all()
    assert (route["voice_familiarity"] < 0.01).all()
    # New speakers like the training ones keep the voice's decision: about
    # 1% of them take the text route.
    assert (listening.route(voice)["branch"] == "text").mean() <= (
        paper.route(voice)["branch"] == "text"
    ).mean() + 0.04
    assert _ua(listening, voice) == pytest.approx(_ua(paper, voice), abs=0.03)
    assert "voice_familiarity" not in paper.route(voice)
    # The threshold keeps neutral only what the voice called neutral: a
    # voice that is not trusted called nothing, and the words decide.
    listening.set_params(threshold=0.0)
    assert _ua(listening, far) > 0.9
    assert not listening.route(far)["kept_neutral"].any()
    # ... and the reports name the text model as the one that decided.
    route = listening.route(far)
    assert route["words_decide"].all()
    assert set(route["decided_by"]) == {"text"}


def test_voice_familiarity_needs_what_it_measures(data):
    train, voice, _ = data
    with pytest.raises(ValueError, match="'speaker' column"):
        _familiar_model(voice_familiarity=0.05).fit(
            train.drop(columns="speaker"), train["label"]
        )
    with pytest.raises(ValueError, match="numeric vector per utterance"):
        _model(voice_familiarity=0.05).fit(train, train["label"])
    model = _familiar_model().fit(train, train["label"])
    model.set_params(voice_familiarity=0.05)
    with pytest.raises(ValueError, match="refit the hierarchy"):
        model.predict(voice)


def test_the_choice_turns_to_familiarity_for_unfamiliar_voices(data):
    train, voice, words = data
    # The speech corpus has only voices; the words come from elsewhere.
    speech_corpus = train[train["speaker"].str.startswith("voice")]
    speech_corpus = speech_corpus.reset_index(drop=True)
    text = make_pipeline(
        make_column_transformer(("passthrough", ["t0", "t1"])), LogisticRegression()
    ).fit(words, words["label"])
    from sklearn.frozen import FrozenEstimator

    hierarchy = _familiar_model().set_params(text=FrozenEstimator(text))
    held_out = np.flatnonzero(speech_corpus["speaker"] == "voice0")
    choice, scores = choose_routing(
        hierarchy,
        speech_corpus,
        _unfamiliar(words),
        held_out=held_out,
        thresholds=[None],
        confidences=[None],
    )
    assert choice["voice_familiarity"] is not None
    assert {f for _, f, _ in scores} == set(VOICE_FAMILIARITIES)
    reference = scores[None, None, None]
    chosen = scores[tuple(choice.values())]
    assert chosen[1] > reference[1] + 0.3
    assert chosen[0] >= reference[0] - 0.01


def test_a_saved_hierarchy_keeps_its_familiarity(data, tmp_path):
    from sklearn_hser.persistence import load_model, save_model

    train, _, words = data
    model = _familiar_model(voice_familiarity=0.01).fit(train, train["label"])
    save_model(model, tmp_path / "model.joblib")
    loaded, _ = load_model(tmp_path / "model.joblib")  # the safe loader
    far = _unfamiliar(words)
    np.testing.assert_array_equal(loaded.predict(far), model.predict(far))
    pd.testing.assert_frame_equal(loaded.route(far), model.route(far))


def test_a_gate_without_probabilities_can_still_choose_familiarity(data):
    from sklearn.svm import LinearSVC

    train, _, words = data
    model = _familiar_model().set_params(speech_gate=LinearSVC())
    held_out = np.flatnonzero(train["speaker"].isin(["voice0", "words0"]))
    choice, scores = choose_routing(
        model,
        train,
        _unfamiliar(words),
        held_out=held_out,
        thresholds=[None],
        confidences=[None],
    )
    assert {c for c, _, _ in scores} == {None}
    assert choice["speech_confidence"] is None


def test_a_tuned_hierarchy_reports_what_its_hierarchy_decided():
    from sklearn_hser.hierarchy import route_and_proba
    from sklearn_hser.threshold_tuning import TunedThresholdHierarchyCV

    rng = np.random.default_rng(0)
    y = np.repeat(CLASSES, 50)
    X = rng.normal(size=(len(y), 4)) + 2 * (y[:, None] == CLASSES)
    lr = LogisticRegression()
    hierarchy = HierarchicalClassifier(lr, lr, lr, threshold=0.0)
    tuned = TunedThresholdHierarchyCV(hierarchy, thresholds=[0.0], cv=2).fit(X, y)
    inner = tuned.estimator_
    expected_route, expected_proba = route_and_proba(inner, X)
    route, proba = route_and_proba(tuned, X)
    decided_by = route["decided_by"].to_numpy()
    assert (decided_by == "speech_gate").any()  # at threshold 0 the gate decides
    np.testing.assert_array_equal(decided_by, expected_route["decided_by"])
    np.testing.assert_array_equal(proba, expected_proba)
    # There the gate's own P(neutral), not the text model's; the
    # neutral-vs-emotional gate gives no probability of each emotion.
    stood = decided_by == "speech_gate"
    gate = inner.speech_gate_
    neutral = list(gate.classes_).index("neutral")
    np.testing.assert_allclose(
        proba[stood, 2], gate.predict_proba(X[stood])[:, neutral]
    )
    assert np.isnan(proba[stood][:, [0, 1, 3]]).all()

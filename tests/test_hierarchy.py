"""HierarchicalClassifier: Algorithm 1, training subsets, tuning and persistence."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from sklearn_hser import HierarchicalClassifier

from ._stubs import CountingClassifier, TableClassifier

TEXT_CLASSES = ["angry", "happy", "neutral", "sad"]
# Rows: samples. Gate table: P(emotional), P(neutral) in that class order.
GATE = [[0.2, 0.8], [0.1, 0.9], [0.3, 0.7], [0.6, 0.4], [0.4, 0.6], [0.45, 0.55]]
EMOTION = [
    [0.7, 0.2, 0.1],
    [0.1, 0.8, 0.1],
    [0.2, 0.2, 0.6],
    [0.1, 0.1, 0.8],
    [0.5, 0.3, 0.2],
    [0.3, 0.4, 0.3],
]
TEXT = [
    [0.10, 0.50, 0.35, 0.05],  # argmax happy, P(neutral) 0.35
    [0.05, 0.20, 0.25, 0.50],  # argmax sad, P(neutral) 0.25
    [0.10, 0.10, 0.70, 0.10],  # argmax neutral
    [0.40, 0.20, 0.30, 0.10],  # routed to the emotion branch
    [0.30, 0.30, 0.30, 0.10],  # tie angry/happy/neutral at 0.30
    [0.00, 0.60, 0.40, 0.00],  # argmax happy, P(neutral) 0.40
]
Y = np.array(["neutral", "happy", "neutral", "sad", "angry", "neutral"])


def _table_hierarchy(threshold):
    return HierarchicalClassifier(
        TableClassifier(GATE, ["emotional", "neutral"]),
        TableClassifier(EMOTION, ["angry", "happy", "sad"]),
        TableClassifier(TEXT, TEXT_CLASSES),
        threshold=threshold,
    )


def _expected(threshold):
    """Algorithm 1 written out independently, row by row."""
    out = []
    for gate, emotion, text in zip(GATE, EMOTION, TEXT):
        if gate[1] < 0.5:  # gate argmax is "emotional"
            out.append(["angry", "happy", "sad"][int(np.argmax(emotion))])
        elif threshold is not None and text[2] >= threshold:
            out.append("neutral")
        else:
            out.append(TEXT_CLASSES[int(np.argmax(text))])
    return out


X_IDS = np.arange(6).reshape(-1, 1)


@pytest.mark.parametrize("threshold", [None, 0.0, 0.25, 0.3, 0.35, 0.4, 0.41, 1.0])
def test_algorithm_1_on_hand_made_tables(threshold):
    clf = _table_hierarchy(threshold).fit(X_IDS, Y)
    assert clf.predict(X_IDS).tolist() == _expected(threshold)


def test_hand_made_table_cases_spelled_out():
    clf = _table_hierarchy(None).fit(X_IDS, Y)
    # No threshold: the text argmax; the 3-way tie goes to the first class.
    assert clf.predict(X_IDS).tolist() == [
        "happy",
        "sad",
        "neutral",
        "sad",
        "angry",
        "happy",
    ]
    # 0.35: P(neutral) == threshold keeps row 0 neutral (>=); rows 1 (0.25) and
    # 4 (0.30) fall back to the argmax; row 5 (0.40) stays neutral.
    clf.set_params(threshold=0.35)
    assert clf.predict(X_IDS).tolist() == [
        "neutral",
        "sad",
        "neutral",
        "sad",
        "angry",
        "neutral",
    ]
    # 0 keeps every speech-neutral sample neutral; 1 never overrides the argmax.
    clf.set_params(threshold=0.0)
    assert clf.predict(X_IDS)[[0, 1, 2, 4, 5]].tolist() == ["neutral"] * 5
    clf.set_params(threshold=1.0)
    assert clf.predict(X_IDS).tolist() == _expected(None)


def test_sub_models_see_the_right_samples_and_labels():
    clf = _table_hierarchy(None).fit(X_IDS, Y)
    assert clf.speech_gate_.fit_y_.tolist() == [
        "neutral",
        "emotional",
        "neutral",
        "emotional",
        "emotional",
        "neutral",
    ]
    assert clf.speech_emotion_.fit_rows_.tolist() == [1, 3, 4]
    assert clf.speech_emotion_.fit_y_.tolist() == ["happy", "sad", "angry"]
    assert clf.text_.fit_rows_.tolist() == list(range(6))
    assert clf.text_.fit_y_.tolist() == Y.tolist()
    assert clf.classes_.tolist() == TEXT_CLASSES


def test_changing_threshold_needs_no_refit():
    clf = _table_hierarchy(None).fit(X_IDS, Y)
    fitted = (clf.speech_gate_, clf.speech_emotion_, clf.text_)
    before = clf.predict(X_IDS)
    clf.set_params(threshold=0.3)
    after = clf.predict(X_IDS)
    assert (clf.speech_gate_, clf.speech_emotion_, clf.text_) == fitted
    assert np.flatnonzero(before != after).tolist() == [0, 4, 5]  # flip to neutral


def test_route_explains_every_decision():
    clf = _table_hierarchy(0.3).fit(X_IDS, Y)
    route = clf.route(X_IDS)
    assert route["branch"].tolist() == [
        "text",
        "text",
        "text",
        "speech_emotion",
        "text",
        "text",
    ]
    assert route["kept_neutral"].tolist() == [True, False, False, False, True, True]
    np.testing.assert_allclose(
        route["text_neutral_proba"], [0.35, 0.25, 0.70, np.nan, 0.30, 0.40]
    )
    assert route["prediction"].tolist() == clf.predict(X_IDS).tolist()
    assert pd.isna(route.loc[3, "text_prediction"])


def test_predict_proba_is_the_deciding_branch():
    clf = _table_hierarchy(None).fit(X_IDS, Y)
    proba = clf.predict_proba(X_IDS)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # Emotional route: the emotion model's probabilities, 0 for neutral.
    np.testing.assert_allclose(proba[3], [0.1, 0.1, 0.0, 0.8])
    np.testing.assert_allclose(proba[0], TEXT[0])
    # Without a threshold, predict is the argmax (ties to the first class).
    assert (clf.classes_[proba.argmax(axis=1)] == clf.predict(X_IDS)).all()
    # With one, predict differs exactly on the rows kept neutral.
    clf.set_params(threshold=0.3)
    argmax = clf.classes_[clf.predict_proba(X_IDS).argmax(axis=1)]
    differs = argmax != clf.predict(X_IDS)
    assert differs.tolist() == clf.route(X_IDS)["kept_neutral"].tolist()


def test_route_and_proba_gives_the_probabilities_of_the_deciding_model():
    from sklearn_hser.hierarchy import route_and_proba

    clf = _table_hierarchy(0.3).fit(X_IDS, Y)
    route, proba = route_and_proba(clf, X_IDS)
    pd.testing.assert_frame_equal(route, clf.route(X_IDS))
    # Rows 0, 4 and 5 are kept neutral by the threshold: the gate decided
    # them, with its P(neutral) and no probability of each emotion.
    stood = [0, 4, 5]
    assert np.flatnonzero(route["decided_by"] == "speech_gate").tolist() == stood
    np.testing.assert_allclose(proba[stood, 2], [0.8, 0.6, 0.55])
    assert np.isnan(proba[stood][:, [0, 1, 3]]).all()
    # Elsewhere, the routed branch's probabilities, as predict_proba.
    others = [1, 2, 3]
    np.testing.assert_allclose(proba[others], clf.predict_proba(X_IDS)[others])


def test_route_and_proba_names_the_branch_of_a_baseline():
    from sklearn_hser.baselines import SpeechOnlyClassifier
    from sklearn_hser.hierarchy import route_and_proba

    lr = LogisticRegression()
    X = np.random.default_rng(0).normal(size=(len(Y) * 4, 2))
    y = np.tile(Y, 4)
    for model in (SpeechOnlyClassifier(lr).fit(X, y), clone(lr).fit(X, y)):
        route, proba = route_and_proba(model, X)
        assert route["decided_by"].tolist() == route["branch"].tolist()
        assert not route["kept_neutral"].any() and route["speech_gate"].isna().all()
        assert route["prediction"].tolist() == model.predict(X).tolist()
        np.testing.assert_allclose(proba, model.predict_proba(X))


@pytest.mark.parametrize(
    "labels, neutral_label",
    [
        ([0, 1, 2, 3], 0),  # integer classes
        (["neu", "hap", "sad", "ang"], "neu"),
        # RAVDESS-like: a class named "neutral" that is not the neutral one
        (["calm", "neutral", "sad", "angry"], "calm"),
    ],
)
def test_the_paper_gate_decides_with_its_p_neutral_for_any_neutral_label(
    labels, neutral_label
):
    from sklearn_hser.hierarchy import route_and_proba

    rng = np.random.default_rng(0)
    y = np.repeat(np.array(labels, dtype=object), 30)
    X = rng.normal(size=(len(y), 4)) + 2 * (y[:, None] == np.array(labels))
    y = y.astype(type(labels[0]))
    lr = LogisticRegression()
    clf = HierarchicalClassifier(lr, lr, lr, neutral_label=neutral_label, threshold=0)
    clf.fit(X, y)
    route, proba = route_and_proba(clf, X)
    stood = (route["decided_by"] == "speech_gate").to_numpy()
    assert stood.any()  # at threshold 0 the gate's neutral stands
    gate = clf.speech_gate_
    neutral = list(gate.classes_).index("neutral")  # the collapsed gate's class
    column = list(clf.classes_).index(neutral_label)
    expected = gate.predict_proba(X[stood])[:, neutral]
    np.testing.assert_allclose(proba[stood, column], expected)
    others = [j for j in range(len(labels)) if j != column]
    assert np.isnan(proba[stood][:, others]).all()


def test_a_sub_model_that_knows_other_classes_is_refused():
    from sklearn.frozen import FrozenEstimator

    rng = np.random.default_rng(0)
    y = np.repeat(np.array(["angry", "happy", "neutral", "sad"]), 20)
    X = rng.normal(size=(len(y), 3))
    emotional = y != "neutral"
    emotion = LogisticRegression().fit(X[emotional], y[emotional])
    lr = LogisticRegression()
    without_happy = y != "happy"
    clf = HierarchicalClassifier(lr, FrozenEstimator(emotion), lr)
    with pytest.raises(
        ValueError, match=r"speech_emotion model can predict \['happy'\]"
    ):
        clf.fit(X[without_happy], y[without_happy])
    clf.fit(X, y)  # the same classes as y: accepted


def test_thresholds_need_the_text_probabilities_wherever_they_are_given():
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(0)
    classes = np.array(["angry", "happy", "neutral", "sad"])
    y = np.repeat(classes, 20)
    X = rng.normal(size=(len(y), 4)) + 2 * (y[:, None] == classes)
    lr = LogisticRegression()
    clf = HierarchicalClassifier(lr, lr, LinearSVC()).fit(X, y)
    assert (clf.route(X)["branch"] == "text").any()
    plain = clf.predict_for_thresholds(X, [None])[None]
    np.testing.assert_array_equal(plain, clf.predict(X))
    with pytest.raises(ValueError, match="threshold.*no predict_proba"):
        clf.predict_for_thresholds(X, [None, 0.3])


def test_no_neutral_sample_with_speech_confidence():
    rng = np.random.default_rng(0)
    y = np.repeat(np.array(["angry", "happy", "sad"]), 20)
    X = rng.normal(size=(len(y), 3)) + 2 * (y[:, None] == ["angry", "happy", "sad"])
    lr = LogisticRegression()
    clf = HierarchicalClassifier(lr, lr, lr, gate_labels="all", speech_confidence=0.9)
    with pytest.warns(UserWarning, match="does not occur in y"):
        clf.fit(X, y)
    route = clf.route(X)
    assert route["words_decide"].any()  # unsure samples go to the words...
    text = clf.text_.predict(X[route["words_decide"].to_numpy()])
    # ... whose most probable class answers, with no P(neutral) to report.
    assert route.loc[route["words_decide"], "prediction"].tolist() == text.tolist()
    assert route["text_neutral_proba"].isna().all()
    with pytest.raises(ValueError, match="neutral_label 'neutral' is not one of"):
        clf.set_params(threshold=0.3).predict(X)


def test_predict_proba_needs_only_the_models_whose_probabilities_are_given():
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(0)
    classes = np.array(["angry", "happy", "neutral", "sad"])
    y = np.repeat(classes, 20)
    X = rng.normal(size=(len(y), 4)) + 2 * (y[:, None] == classes)
    lr, svc = LogisticRegression(), LinearSVC()
    # The flat gate is the emotion model: the unused emotion model's
    # methods do not matter; a gate that only routes needs no probabilities.
    for clf in (
        HierarchicalClassifier(lr, svc, lr, gate_labels="flat"),
        HierarchicalClassifier(svc, lr, lr),
    ):
        proba = clf.fit(X, y).predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert not hasattr(HierarchicalClassifier(lr, svc, lr), "predict_proba")
    assert not hasattr(HierarchicalClassifier(lr, lr, svc), "predict_proba")


def test_make_hierarchy_gives_the_gate_and_the_emotion_model_their_own_objects():
    from sklearn_hser import make_hierarchy

    clf = make_hierarchy(LogisticRegression(), LogisticRegression())
    clf.set_params(speech_gate__C=0.01)
    assert clf.speech_gate.C == 0.01 and clf.speech_emotion.C == 1.0


def test_bad_input_and_parameters():
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.array(["neutral", "sad"] * 10)
    lr = LogisticRegression()
    with pytest.raises(ValueError, match="threshold"):
        HierarchicalClassifier(lr, lr, lr, threshold=1.5).fit(X, y)
    with pytest.raises(ValueError, match="only the neutral class"):
        HierarchicalClassifier(lr, lr, lr).fit(X, np.array(["neutral"] * 20))
    with pytest.warns(UserWarning, match="does not occur in y"):
        clf = HierarchicalClassifier(lr, lr, lr, neutral_label="neu").fit(X, y)
    assert set(clf.route(X)["branch"]) == {"speech_emotion"}
    with pytest.raises(ValueError, match="predict_proba"):
        from sklearn.svm import LinearSVC

        HierarchicalClassifier(lr, lr, LinearSVC(), threshold=0.3).fit(X, y)
    with pytest.raises(ValueError, match="20 samples"):
        HierarchicalClassifier(lr, lr, lr).fit(X, y[:10])


def test_single_emotional_class_uses_a_constant():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = np.where(X[:, 0] > 0, "angry", "neutral")
    clf = HierarchicalClassifier(
        LogisticRegression(), LogisticRegression(), LogisticRegression()
    )
    clf.fit(X, y)
    assert set(clf.predict(X)) <= {"angry", "neutral"}
    assert type(clf.speech_emotion_).__name__ == "DummyClassifier"


def test_memory_fits_each_sub_model_once_per_fold_in_a_threshold_grid(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat(["neutral", "happy", "sad", "angry"], 15)
    X = rng.normal(size=(60, 3)) + (y[:, None] == ["happy", "sad", "angry"])
    log = tmp_path / "fits.log"
    sub = CountingClassifier(log_path=str(log))
    grid = {"threshold": [None, 0.25, 0.3, 0.35, 0.4]}

    def n_fits(memory):
        log.write_text("")
        clf = HierarchicalClassifier(sub, sub, sub, memory=memory)
        GridSearchCV(clf, grid, cv=3, refit=False).fit(X, y)
        return len(log.read_text().splitlines())

    assert n_fits(None) == 3 * 3 * len(grid["threshold"])  # 3 models x 3 folds x 5
    assert n_fits(str(tmp_path / "cache")) == 3 * 3  # once per model and fold


class _UnpicklableText(LogisticRegression):
    """A fitted text model that cannot be pickled (e.g. one holding a lock)."""

    def __reduce__(self):
        raise TypeError("cannot pickle this model")


@pytest.mark.filterwarnings("error")  # joblib warns when it cannot store
def test_memory_leaves_a_frozen_sub_model_out(tmp_path):
    """A frozen model has nothing to fit: the memory must not hash, pickle or
    store it (the study shares a frozen text model between gate options)."""
    from sklearn.frozen import FrozenEstimator

    rng = np.random.default_rng(0)
    y = np.repeat(["neutral", "happy", "sad", "angry"], 15)
    X = rng.normal(size=(60, 3)) + (y[:, None] == ["happy", "sad", "angry"])
    text = _UnpicklableText().fit(X, y)
    lr = LogisticRegression()
    clf = HierarchicalClassifier(
        lr, lr, FrozenEstimator(text), memory=str(tmp_path / "cache"), threshold=0.3
    ).fit(X, y)
    assert clf.text_.estimator is text
    without = HierarchicalClassifier(lr, lr, FrozenEstimator(text), threshold=0.3)
    np.testing.assert_array_equal(clf.predict(X), without.fit(X, y).predict(X))


def test_clone_and_pickle_give_identical_predictions():
    rng = np.random.default_rng(1)
    y = np.repeat(["neutral", "happy", "sad", "angry"], 20)
    X = pd.DataFrame(
        rng.normal(size=(80, 4)) + (y[:, None] == ["happy", "sad", "angry", "neutral"]),
        columns=list("abcd"),
    )
    clf = HierarchicalClassifier(
        LogisticRegression(), LogisticRegression(), LogisticRegression(), threshold=0.3
    )
    clf.fit(X, y)
    again = clone(clf).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clf.predict(X), again.predict(X))
    np.testing.assert_array_equal(clf.predict_proba(X), restored.predict_proba(X))
    assert list(clf.feature_names_in_) == list("abcd") and clf.n_features_in_ == 4


def test_predict_for_thresholds_matches_one_threshold_at_a_time():
    clf = _table_hierarchy(None).fit(X_IDS, Y)
    thresholds = [None, 0.0, 0.25, 0.3, 0.35, 1.0]
    many = clf.predict_for_thresholds(X_IDS, thresholds)
    assert list(many) == thresholds
    for t in thresholds:
        assert many[t].tolist() == _expected(t)


@pytest.mark.parametrize("bad", [True, 1.5, -0.1, "0.3"])
def test_bad_threshold_set_after_fit_is_refused_at_predict(bad):
    # The gate sends every sample to the emotion branch: the text branch, where
    # the threshold is used, never runs, yet the bad value must be refused.
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.array(["neutral", "sad"] * 10)
    gate = DummyClassifier(strategy="constant", constant="emotional")
    clf = HierarchicalClassifier(gate, LogisticRegression(), LogisticRegression())
    clf.fit(X, y)
    clf.set_params(threshold=bad)
    for method in (clf.predict, clf.route, clf.predict_proba):
        with pytest.raises((ValueError, TypeError), match="threshold"):
            method(X)
    with pytest.raises((ValueError, TypeError), match="threshold"):
        clf.fit(X, y)


@pytest.mark.parametrize("good", [0, 0.0, 1, None, np.float32(0.3)])
def test_threshold_bounds_and_none_stay_valid(good):
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.array(["neutral", "sad"] * 10)
    lr = LogisticRegression()
    clf = HierarchicalClassifier(lr, lr, lr, threshold=good).fit(X, y)
    assert clf.predict(X).shape == (20,)


def test_outputs_give_every_view_from_one_pass():
    clf = _table_hierarchy(0.3).fit(X_IDS, Y)
    out = clf.outputs(X_IDS)
    pd.testing.assert_frame_equal(out.route(), clf.route(X_IDS))
    np.testing.assert_array_equal(out.predict(), clf.predict(X_IDS))
    np.testing.assert_allclose(out.predict_proba(), clf.predict_proba(X_IDS))
    many = out.predict_for_thresholds([None, 0.35])
    assert many[None].tolist() == _expected(None)
    assert many[0.35].tolist() == _expected(0.35)
    assert out.to_text.tolist() == [0, 1, 2, 4, 5]


def test_shared_feature_step_runs_once_per_predict(tmp_path):
    from sklearn.pipeline import make_pipeline

    from sklearn_hser import make_hierarchy

    X, y = X_IDS.astype(float), Y
    log = tmp_path / "transforms.log"
    speech = make_pipeline(
        _LoggingIdentity(str(log)), _table_hierarchy(None).speech_gate
    )
    clf = make_hierarchy(speech, TableClassifier(TEXT, TEXT_CLASSES))
    # The emotion model is the gate's table here; only the sharing is tested.
    clf.set_params(speech_emotion=TableClassifier(EMOTION, ["angry", "happy", "sad"]))
    clf.fit(X, y)
    log.write_text("")
    clf.predict(X)
    assert log.read_text().splitlines() == ["transform 6"]
    assert clf.predict(X).tolist() == _expected(None)
    assert clf.n_features_in_ == 1


class _LoggingIdentity(TransformerMixin, BaseEstimator):
    def __init__(self, log_path=None):
        self.log_path = log_path

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        with open(self.log_path, "a") as f:
            f.write(f"transform {len(X)}\n")
        return np.asarray(X)

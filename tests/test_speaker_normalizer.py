"""SpeakerNormalizer: per-speaker centring with a documented fallback."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, Normalizer
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_hser.features import MFCC, SpeakerNormalizer


def _pick(frame):
    return frame[["a", "b"]].to_numpy(dtype=float)


PICK = FunctionTransformer(_pick)


def _frame(values, speakers):
    values = np.asarray(values, dtype=float)
    return pd.DataFrame({"a": values[:, 0], "b": values[:, 1], "speaker": speakers})


def test_each_speaker_is_centred_on_its_own_mean():
    rng = np.random.default_rng(0)
    values = np.vstack([rng.normal(5, 1, (12, 2)), rng.normal(-3, 1, (12, 2))])
    speakers = ["x"] * 12 + ["y"] * 12
    out = SpeakerNormalizer(PICK).fit_transform(_frame(values, speakers))
    np.testing.assert_allclose(out[:12].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out[12:].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out[:12], values[:12] - values[:12].mean(0), atol=1e-5)


def test_class_balanced_centres_ignore_a_speakers_emotion_mix():
    # Speaker x says "b" three times as often as "a"; y says each equally.
    # The class-balanced centre is midway between the two class means for
    # both, so the same class lands at the same place for both speakers.
    a, b = np.array([0.0, 0.0]), np.array([4.0, 0.0])
    x = np.vstack([np.tile(a, (4, 1)), np.tile(b, (12, 1))]) + 10
    y_ = np.vstack([np.tile(a, (8, 1)), np.tile(b, (8, 1))]) - 10
    frame = _frame(np.vstack([x, y_]), ["x"] * 16 + ["y"] * 16)
    labels = np.array((["a"] * 4 + ["b"] * 12) + (["a"] * 8 + ["b"] * 8))
    balanced = SpeakerNormalizer(PICK, class_balanced=True)
    out = balanced.fit_transform(frame, labels)
    np.testing.assert_allclose(out[labels == "a"], [[-2.0, 0.0]] * 12, atol=1e-5)
    np.testing.assert_allclose(out[labels == "b"], [[2.0, 0.0]] * 20, atol=1e-5)
    np.testing.assert_allclose(balanced.speaker_means_["x"], [12.0, 10.0], atol=1e-5)
    # The plain mean shifts speaker x's "a" further from its "b" centre.
    plain = SpeakerNormalizer(PICK).fit_transform(frame, labels)
    np.testing.assert_allclose(plain[0], [-3.0, 0.0], atol=1e-5)
    # Without labels at prediction time, each speaker's plain mean is used.
    np.testing.assert_allclose(balanced.transform(frame)[:16], plain[:16], atol=1e-5)


def test_fallback_subtracts_the_average_of_training_speaker_means():
    rng = np.random.default_rng(1)
    train = np.vstack([rng.normal(5, 1, (10, 2)), rng.normal(-1, 1, (20, 2))])
    speakers = ["x"] * 10 + ["y"] * 20
    norm = SpeakerNormalizer(PICK).fit(_frame(train, speakers))
    reference = (train[:10].mean(0) + train[10:].mean(0)) / 2
    np.testing.assert_allclose(norm.reference_mean_, reference, rtol=1e-5)
    assert norm.n_speakers_ == 2
    one_file = np.array([[2.0, 3.0]])
    # A single recording of a new speaker, and the same without any speaker column.
    for frame in (
        _frame(one_file, ["new"]),
        _frame(one_file, ["new"]).drop(columns="speaker"),
    ):
        np.testing.assert_allclose(
            norm.transform(frame), one_file - reference, rtol=1e-5
        )


def test_too_few_recordings_or_missing_speaker_fall_back():
    train = _frame(np.arange(40, dtype=float).reshape(20, 2), ["s"] * 20)
    norm = SpeakerNormalizer(PICK, min_utterances=5).fit(train)
    test_values = np.array([[1.0, 1.0], [3.0, 3.0], [10.0, 10.0]] * 2)
    speakers = ["a", "a", "a", None, "", "a"]  # 4 of "a": under 5
    out = norm.transform(_frame(test_values, speakers))
    np.testing.assert_allclose(out, test_values - norm.reference_mean_, rtol=1e-5)
    # With five of speaker "b", that speaker is centred on its own mean.
    five = _frame(np.arange(10, dtype=float).reshape(5, 2), ["b"] * 5)
    np.testing.assert_allclose(norm.transform(five).mean(axis=0), 0, atol=1e-6)


def test_speaker_column_none_never_uses_identity():
    values = np.array([[1.0, 2.0], [3.0, 4.0]] * 6)
    frame = _frame(values, ["x"] * 12)
    norm = SpeakerNormalizer(PICK, speaker_column=None).fit(frame)
    np.testing.assert_allclose(norm.reference_mean_, values.mean(axis=0))
    np.testing.assert_allclose(norm.transform(frame), values - values.mean(axis=0))


def _frames(frame):
    """Each row as a sequence of ``n`` frames, all equal to its (a, b)."""
    from sklearn_hser._sequences import make_sequence_array

    rows = frame[["a", "b"]].to_numpy(dtype=np.float32)
    return make_sequence_array(np.tile(r, (n, 1)) for r, n in zip(rows, frame["n"]))


def test_frame_sequences_lose_their_speakers_mean_frame():
    from sklearn_hser._sequences import is_sequence_array

    rng = np.random.default_rng(3)
    values = np.vstack([rng.normal(4, 1, (10, 2)), rng.normal(-2, 1, (10, 2))])
    frame = _frame(values, ["x"] * 10 + ["y"] * 10).assign(n=rng.integers(1, 6, 20))
    norm = SpeakerNormalizer(FunctionTransformer(_frames), min_utterances=5)
    out = norm.fit_transform(frame)
    assert is_sequence_array(out)
    assert [len(s) for s in out] == frame["n"].tolist()
    for rows in (slice(0, 10), slice(10, 20)):
        # The mean of the utterances' mean frames, whatever their lengths.
        expected = values[rows] - values[rows].mean(axis=0)
        got = np.array([s[0] for s in out[rows]])
        np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(
        norm.reference_mean_,
        np.mean([values[:10].mean(0), values[10:].mean(0)], axis=0),
        atol=1e-5,
    )
    lone = norm.transform(frame.iloc[[0]].drop(columns="speaker"))
    np.testing.assert_allclose(lone[0][0], values[0] - norm.reference_mean_, atol=1e-5)


def test_width_changes_are_refused():
    norm = SpeakerNormalizer(PICK).fit(_frame(np.ones((3, 2)), ["x"] * 3))
    norm.transformer_ = FunctionTransformer(lambda f: f[["a"]].to_numpy())
    with pytest.raises(ValueError, match="1 features, but 2 were seen"):
        norm.transform(_frame(np.ones((3, 2)), ["x"] * 3))


def test_in_a_pipeline_with_clone_and_feature_names():
    rng = np.random.default_rng(2)
    values = rng.normal(size=(40, 2))
    y = np.where(values[:, 0] > 0, "happy", "sad")
    frame = _frame(values, ["p", "q"] * 20)
    model = make_pipeline(SpeakerNormalizer(PICK), LogisticRegression())
    fitted = clone(model).fit(frame, y)
    assert fitted.score(frame, y) > 0.8
    extractor = SpeakerNormalizer(MFCC(column="audio"))
    audio = pd.DataFrame({"audio": [np.zeros(4000, np.float32)] * 2})
    assert len(extractor.fit(audio).get_feature_names_out()) == 39


@parametrize_with_checks([SpeakerNormalizer(Normalizer())])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- the study's systems ------------------------------------------------------
LSTM_SYSTEMS = [
    "lstm-mfcc",
    "lstm-gemaps",
    "lstm-handcrafted",
    "lstm-wakehubert",
    "lstm-whisper",
]


@pytest.mark.parametrize("name", LSTM_SYSTEMS)
def test_lstm_systems_normalise_speakers_unless_told_not_to(name):
    from sklearn_hser.systems import SYSTEMS, ExperimentConfig

    default = SYSTEMS[name].build(ExperimentConfig(), None)
    paper = SYSTEMS[name].build(ExperimentConfig(speaker_normalization=False), None)
    assert isinstance(default.steps[0][1], SpeakerNormalizer)
    assert not isinstance(paper.steps[0][1], SpeakerNormalizer)
    # The same extractor underneath: only the normalisation differs.
    assert type(default.steps[0][1].transformer) is type(paper.steps[0][1])


def test_the_plain_baseline_is_never_normalised():
    from sklearn_hser.systems import SYSTEMS, ExperimentConfig

    built = SYSTEMS["lr-egemaps"].build(ExperimentConfig(), None)
    assert not isinstance(built.steps[0][1], SpeakerNormalizer)


def test_the_setting_keys_study_runs():
    from sklearn_hser.systems import ExperimentConfig

    on, off = ExperimentConfig(), ExperimentConfig(speaker_normalization=False)
    assert on.digest("lstm-mfcc", "si") != off.digest("lstm-mfcc", "si")


def test_a_normalised_lstm_system_predicts_a_single_file_without_speaker():
    from sklearn_hser.datasets import make_emotional_speech
    from sklearn_hser.systems import SYSTEMS, ExperimentConfig

    corpus = make_emotional_speech(n_sessions=2, n_per_speaker=12, random_state=0)
    y = corpus["label"].to_numpy()
    model = SYSTEMS["lstm-mfcc"].build(ExperimentConfig(max_epochs=2), None)
    model.fit(corpus, y)
    normaliser = model.steps[0][1]
    lone = corpus.iloc[[0]].drop(columns="speaker")
    # One file, no speaker: the training speakers' average mean is used.
    expected = normaliser.transformer_.transform(lone) - normaliser.reference_mean_
    np.testing.assert_allclose(normaliser.transform(lone), expected, rtol=1e-5)
    assert model.predict(lone)[0] in set(y)


def test_a_training_speaker_with_few_files_gets_its_training_mean():
    rng = np.random.default_rng(4)
    values = np.vstack([rng.normal(6, 1, (12, 2)), rng.normal(-4, 1, (12, 2))])
    norm = SpeakerNormalizer(PICK).fit(_frame(values, ["x"] * 12 + ["y"] * 12))
    assert sorted(norm.speaker_means_) == ["x", "y"]
    assert all(type(name) is str for name in norm.speaker_means_)
    # Three new files of "x" (too few for a mean of their own), one of an
    # unknown speaker: "x" loses its training mean, the stranger the reference.
    new = np.array([[7.0, 5.0], [5.5, 6.5], [6.0, 6.0], [1.0, 1.0]])
    out = norm.transform(_frame(new, ["x", "x", "x", "z"]))
    np.testing.assert_allclose(out[:3], new[:3] - values[:12].mean(0), rtol=1e-5)
    np.testing.assert_allclose(out[3], new[3] - norm.reference_mean_, rtol=1e-5)
    # Enough files of "x" in the call: their own mean is used, as in fit.
    many = rng.normal(6, 1, (10, 2))
    out = norm.transform(_frame(many, ["x"] * 10))
    np.testing.assert_allclose(out, many - many.mean(0), rtol=1e-4, atol=1e-5)


def test_only_the_frame_sequence_lstm_mean_pools_its_outputs():
    from sklearn_hser.systems import SYSTEMS, ExperimentConfig

    pooling = {
        name: SYSTEMS[name]
        .build(ExperimentConfig(lstm_seeds=1), None)
        .steps[-1][1]
        .pooling
        for name in LSTM_SYSTEMS
    }
    assert pooling.pop("lstm-whisper") == "mean"
    assert set(pooling.values()) == {"last"}  # the paper's final state

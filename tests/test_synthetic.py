"""Tests for the synthetic demo corpus (sklearn_hser.datasets.synthetic)."""

import re

import librosa
import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_hser._labels import ANGRY, EMOTIONS, HAPPY, NEUTRAL, SAD
from sklearn_hser.datasets.synthetic import (
    STYLES,
    _make_transcript,
    make_emotional_speech,
    synthesize_utterance,
)

SR = 16000
COLUMNS = ["id", "audio", "text", "label", "speaker", "gender", "session", "style"]


@pytest.fixture(scope="module")
def corpus():
    """The default corpus: 5 sessions x 2 speakers x 40 utterances."""
    return make_emotional_speech(random_state=0)


@pytest.fixture(scope="module")
def mfcc_features(corpus):
    """Utterance-level mean of 13 MFCCs and their deltas (26 values)."""
    feats = []
    for y in corpus["audio"]:
        m = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13)
        feats.append(np.concatenate([m.mean(axis=1), librosa.feature.delta(m).mean(1)]))
    return np.stack(feats)


def _session_cv_predict(X, y, sessions, train_mask, make_model):
    """Leave-one-session-out predictions for every row; fit on rows in train_mask."""
    pred = np.empty(len(y), dtype=object)
    for s in np.unique(sessions):
        test = sessions == s
        model = make_model().fit(X[train_mask & ~test], y[train_mask & ~test])
        pred[test] = model.predict(X[test])
    return pred


# ---------------------------------------------------------------------------
# Schema and layout
# ---------------------------------------------------------------------------
def test_schema(corpus):
    assert list(corpus.columns) == COLUMNS
    assert isinstance(corpus.index, pd.RangeIndex)
    assert len(corpus) == 5 * 2 * 40
    assert pd.api.types.is_integer_dtype(corpus["session"])
    for col in ["id", "text", "label", "speaker", "gender", "style"]:
        assert all(isinstance(v, str) for v in corpus[col]), col
    assert corpus["id"].is_unique
    assert set(corpus["label"]) == set(EMOTIONS)
    assert set(corpus["style"]) == set(STYLES)
    assert (corpus["text"].str.len() > 0).all()
    for _, row in corpus.iterrows():
        assert re.fullmatch(r"Syn\d\d_[FM]_\d{3}", row["id"])
        assert row["id"].startswith(row["speaker"] + "_")
        assert row["speaker"] == f"Syn{row['session']:02d}_{row['gender']}"


def test_sessions_speakers_genders(corpus):
    assert sorted(corpus["session"].unique()) == [1, 2, 3, 4, 5]
    for _, group in corpus.groupby("session"):
        speakers = group.groupby("speaker")["gender"].unique()
        assert len(speakers) == 2
        assert sorted(g for (g,) in speakers) == ["F", "M"]
    assert corpus["speaker"].nunique() == 10
    assert (corpus.groupby("speaker").size() == 40).all()
    # The IEMOCAP speaker-independent split has all three parts.
    train = corpus[corpus["session"] <= 4]
    val = corpus[(corpus["session"] == 5) & (corpus["gender"] == "M")]
    test = corpus[(corpus["session"] == 5) & (corpus["gender"] == "F")]
    assert len(train) == 320 and len(val) == 40 and len(test) == 40
    assert set(train["speaker"]).isdisjoint(set(val["speaker"]) | set(test["speaker"]))
    assert set(test["label"]) == set(val["label"]) == set(EMOTIONS)


def test_class_balance_and_flat_fraction(corpus):
    counts = corpus.groupby(["speaker", "label"]).size().unstack()
    assert (counts == 10).all().all()
    assert (corpus.loc[corpus["label"] == NEUTRAL, "style"] == "congruent").all()
    emotional = corpus[corpus["label"] != NEUTRAL]
    flat_per_speaker = emotional.groupby("speaker")["style"].apply(
        lambda s: (s == "flat").sum()
    )
    assert (flat_per_speaker == 8).all()  # round(0.25 * 30)
    assert abs((emotional["style"] == "flat").mean() - 0.25) < 0.02
    # Flat samples are spread over the three emotions for every speaker.
    flat_by_class = (
        emotional[emotional["style"] == "flat"].groupby(["speaker", "label"]).size()
    )
    assert flat_by_class.min() >= 2 and flat_by_class.max() <= 3


@pytest.mark.parametrize("flat_fraction", [0.0, 1.0])
def test_flat_fraction_extremes(flat_fraction):
    df = make_emotional_speech(
        n_sessions=1, n_per_speaker=8, flat_fraction=flat_fraction, random_state=1
    )
    emotional = df["label"] != NEUTRAL
    assert (df.loc[emotional, "style"] == "flat").mean() == flat_fraction
    assert (df.loc[~emotional, "style"] == "congruent").all()


def test_uneven_counts_stay_balanced():
    df = make_emotional_speech(n_sessions=2, n_per_speaker=7, random_state=0)
    counts = df.groupby(["speaker", "label"]).size().unstack(fill_value=0)
    assert (counts.sum(axis=1) == 7).all()
    assert (counts.max(axis=1) - counts.min(axis=1) <= 1).all()


# ---------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------
def test_audio_is_valid(corpus):
    durations = []
    for y in corpus["audio"]:
        assert isinstance(y, np.ndarray) and y.ndim == 1
        assert y.dtype == np.float32
        assert np.isfinite(y).all()
        assert np.abs(y).max() <= 0.95
        assert np.sqrt(np.mean(y**2)) > 1e-3  # not silent
        durations.append(len(y) / SR)
    durations = np.array(durations)
    assert durations.min() >= 1.0 - 1e-3 and durations.max() <= 2.5 + 1e-3
    # Duration is no giveaway: the class means are close to each other.
    by_class = pd.Series(durations).groupby(corpus["label"].to_numpy()).mean()
    assert by_class.max() - by_class.min() < 0.2


def test_custom_duration_range():
    df = make_emotional_speech(
        n_sessions=1, n_per_speaker=4, duration=(0.5, 0.6), random_state=0
    )
    lengths = df["audio"].map(len) / SR
    assert lengths.between(0.5 - 1e-3, 0.6 + 1e-3).all()


def _prosody_stats(y):
    """Median pitch (semitones re 1 Hz) of loud frames and RMS level (dBFS)."""
    f0 = librosa.yin(y, fmin=60, fmax=600, sr=SR, frame_length=1024, hop_length=256)
    rms = librosa.feature.rms(y=y, frame_length=1024, hop_length=256)[0]
    n = min(len(f0), len(rms))
    loud = rms[:n] > 0.3 * rms[:n].max()
    semitones = 12 * np.log2(np.median(f0[:n][loud]))
    level = 20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    return semitones, level


def test_prosody_differs_by_class_measured_from_audio(corpus):
    # All flat samples plus four of each (speaker, label) congruent group.
    sample = corpus.groupby(["speaker", "label", "style"]).head(4)
    stats = pd.DataFrame(
        [_prosody_stats(y) for y in sample["audio"]],
        columns=["f0", "db"],
        index=sample.index,
    )
    stats["group"] = sample["label"] + "/" + sample["style"]
    # Pitch relative to each speaker's neutral pitch (removes the F/M offset).
    neutral_f0 = stats["f0"][sample["label"] == NEUTRAL].groupby(sample["speaker"])
    stats["f0"] -= sample["speaker"].map(neutral_f0.mean())
    mean = stats.groupby("group")[["f0", "db"]].mean()
    cong = {e: mean.loc[f"{e}/congruent"] for e in EMOTIONS}

    # Pitch: angry and happy well above sad (semitones).
    assert cong[ANGRY]["f0"] > cong[SAD]["f0"] + 2
    assert cong[HAPPY]["f0"] > cong[SAD]["f0"] + 2
    assert cong[ANGRY]["f0"] > cong[NEUTRAL]["f0"] > cong[SAD]["f0"]
    # Energy: sad quietest, angry loudest.
    assert cong[SAD]["db"] == min(c["db"] for c in cong.values())
    assert cong[ANGRY]["db"] == max(c["db"] for c in cong.values())
    assert cong[ANGRY]["db"] > cong[NEUTRAL]["db"] + 3
    assert cong[NEUTRAL]["db"] > cong[SAD]["db"] + 3

    # Flat emotional samples sound neutral, not like their label.
    for emotion in (HAPPY, SAD, ANGRY):
        flat = mean.loc[f"{emotion}/flat"]
        for stat in ("f0", "db"):
            to_neutral = abs(flat[stat] - cong[NEUTRAL][stat])
            to_label = abs(flat[stat] - cong[emotion][stat])
            assert to_neutral < to_label, (emotion, stat, dict(mean[stat]))


def test_brightness_angry_above_sad(corpus):
    """Share of energy above 1 kHz in loud frames: angry > neutral > sad."""
    freqs = librosa.fft_frequencies(sr=SR, n_fft=1024)

    def high_band_db(y):
        power = np.abs(librosa.stft(y, n_fft=1024, hop_length=256)) ** 2
        loud = power.sum(axis=0) > 0.1 * power.sum(axis=0).max()
        return 10 * np.log10(power[freqs > 1000][:, loud].sum() / power[:, loud].sum())

    cong = corpus[corpus["style"] == "congruent"]
    values = cong["audio"].map(high_band_db).groupby(cong["label"]).mean()
    assert values[ANGRY] > values[HAPPY] > values[NEUTRAL] > values[SAD], values


# ---------------------------------------------------------------------------
# Learnability: speech informative but imperfect, flat samples look neutral,
# text recovers the flat samples.
# ---------------------------------------------------------------------------
def test_speech_learnable_and_flat_looks_neutral(corpus, mfcc_features):
    y = corpus["label"].to_numpy()
    sessions = corpus["session"].to_numpy()
    congruent = (corpus["style"] == "congruent").to_numpy()
    pred = _session_cv_predict(
        mfcc_features,
        y,
        sessions,
        congruent,
        lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
    )
    ua = balanced_accuracy_score(y[congruent], pred[congruent])
    assert 0.5 < ua < 0.95, ua  # well above chance (0.25), not trivially perfect
    flat_to_neutral = np.mean(pred[~congruent] == NEUTRAL)
    emotional_to_neutral = np.mean(pred[congruent & (y != NEUTRAL)] == NEUTRAL)
    assert flat_to_neutral > 0.5, flat_to_neutral
    assert flat_to_neutral > 2 * emotional_to_neutral


def test_text_recovers_flat_samples(corpus):
    text = corpus["text"].to_numpy()
    y = corpus["label"].to_numpy()
    sessions = corpus["session"].to_numpy()
    congruent = (corpus["style"] == "congruent").to_numpy()
    assert corpus["text"].nunique() >= 200  # the text model has to generalise
    pred = _session_cv_predict(
        text,
        y,
        sessions,
        congruent,
        lambda: make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=2000)),
    )
    assert np.mean(pred[~congruent] == y[~congruent]) > 0.85
    # Some congruent emotional samples have neutral words: text is imperfect.
    assert balanced_accuracy_score(y[congruent], pred[congruent]) < 0.97
    # Neutral utterances always have neutral-sounding words.
    assert np.mean(pred[y == NEUTRAL] == NEUTRAL) > 0.9


def test_paper_example_sentence_is_possible():
    rng = np.random.default_rng(0)
    texts = {_make_transcript(SAD, rng) for _ in range(2000)}
    assert "It must be really really hard to lose a child." in texts


# ---------------------------------------------------------------------------
# Determinism, return_X_y, validation
# ---------------------------------------------------------------------------
def test_deterministic_for_a_seed_and_varies_across_seeds():
    a = make_emotional_speech(n_sessions=1, n_per_speaker=8, random_state=3)
    b = make_emotional_speech(n_sessions=1, n_per_speaker=8, random_state=3)
    c = make_emotional_speech(n_sessions=1, n_per_speaker=8, random_state=4)
    cols = ["id", "text", "label", "speaker", "gender", "session", "style"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    for ya, yb in zip(a["audio"], b["audio"], strict=True):
        np.testing.assert_array_equal(ya, yb)
    assert not a[["text", "label"]].equals(c[["text", "label"]])
    assert any(
        len(ya) != len(yc) or not np.array_equal(ya, yc)
        for ya, yc in zip(a["audio"], c["audio"], strict=True)
    )
    # A Generator is accepted and consumed like any seeded source.
    g = make_emotional_speech(
        n_sessions=1, n_per_speaker=8, random_state=np.random.default_rng(3)
    )
    assert len(g) == 16


def test_return_X_y():
    X, y = make_emotional_speech(n_sessions=1, n_per_speaker=8, return_X_y=True)
    full = make_emotional_speech(n_sessions=1, n_per_speaker=8)
    assert "label" not in X.columns
    assert list(X.columns) == [c for c in COLUMNS if c != "label"]
    assert isinstance(y, pd.Series) and y.name == "label"
    assert y.tolist() == full["label"].tolist()
    assert X["id"].tolist() == full["id"].tolist()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_sessions": 0},
        {"n_sessions": 1.5},
        {"n_per_speaker": 3},
        {"flat_fraction": -0.1},
        {"flat_fraction": 1.1},
        {"neutral_text_fraction": 2.0},
        {"intensity": (0.5, 1.5)},
        {"intensity": (0.8, 0.2)},
        {"duration": (0.1, 1.0)},
        {"duration": (2.0, 1.0)},
        {"duration": 1.0},
        {"noise_level": -1.0},
        {"random_state": "seed"},
    ],
)
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        make_emotional_speech(**kwargs)


# ---------------------------------------------------------------------------
# synthesize_utterance
# ---------------------------------------------------------------------------
def test_synthesize_utterance_basics():
    y = synthesize_utterance("happy", rng=5, speaker_f0=220.0, duration=1.25)
    assert y.shape == (20000,) and y.dtype == np.float32
    assert np.isfinite(y).all() and np.abs(y).max() < 1.0
    np.testing.assert_array_equal(
        y, synthesize_utterance("happy", rng=5, speaker_f0=220.0, duration=1.25)
    )
    y8k = synthesize_utterance("sad", rng=0, sr=8000, duration=1.0)
    assert y8k.shape == (8000,)
    free = synthesize_utterance("angry", rng=1)
    assert 1.0 <= len(free) / SR <= 2.5


def test_synthesize_utterance_pitch_follows_speaker():
    low = [
        _prosody_stats(synthesize_utterance(NEUTRAL, rng=i, speaker_f0=110.0))[0]
        for i in range(3)
    ]
    high = [
        _prosody_stats(synthesize_utterance(NEUTRAL, rng=i, speaker_f0=220.0))[0]
        for i in range(3)
    ]
    # About an octave (12 semitones) apart.
    assert 9 < np.mean(high) - np.mean(low) < 15


def test_synthesize_utterance_flat_style_is_neutral_prosody():
    def level(style, seed):
        return _prosody_stats(
            synthesize_utterance(ANGRY, rng=seed, style=style, intensity=1.0)
        )[1]

    congruent = np.mean([level("congruent", i) for i in range(4)])
    flat = np.mean([level("flat", i) for i in range(4)])
    assert congruent > flat + 4


@pytest.mark.parametrize(
    "kwargs",
    [
        {"label": "fear"},
        {"label": "sad", "style": "whisper"},
        {"label": "sad", "intensity": 1.5},
        {"label": "sad", "speaker_f0": -100.0},
        {"label": "sad", "duration": 0.1},
        {"label": "sad", "sr": 4000},
        {"label": "sad", "noise_level": -0.1},
    ],
)
def test_synthesize_utterance_invalid(kwargs):
    with pytest.raises(ValueError):
        synthesize_utterance(**kwargs)

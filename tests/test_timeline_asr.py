"""Offline ASR: packing segments into Whisper windows, and its use by the CLI."""

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import sklearn_hser.timeline as timeline
from sklearn_hser.datasets._paths import shared_data_dir
from sklearn_hser.features import load_audio
from sklearn_hser.timeline.asr import _nearest_span

SR = 16_000


def test_words_go_to_the_span_they_fall_in_or_the_nearest():
    starts, ends = np.array([0.0, 3.0, 7.0]), np.array([2.0, 5.0, 9.0])
    assert [_nearest_span(starts, ends, t) for t in (-0.1, 1.0, 2.4, 2.6)] == [
        0,
        0,
        0,
        1,
    ]
    assert [_nearest_span(starts, ends, t) for t in (4.9, 6.5, 8.0, 12.0)] == [
        1,
        2,
        2,
        2,
    ]


needs_asr = pytest.mark.skipif(
    not timeline.asr_available(), reason="faster-whisper or Whisper-base missing"
)


@needs_asr
def test_transcriber_gives_one_row_per_waveform():
    quiet = np.zeros(SR, dtype=np.float32)
    heard = timeline.WhisperTranscriber(language="en").transcribe(
        [quiet, np.zeros(0, np.float32)]
    )
    assert list(heard.columns) == ["text", "asr_confidence", "language"]
    assert len(heard) == 2 and heard["text"].iloc[1] == ""
    confidence = heard["asr_confidence"].dropna()
    assert ((confidence >= 0) & (confidence <= 1)).all()


RAVDESS = shared_data_dir() / "ravdess" if shared_data_dir() else None


@needs_asr
@pytest.mark.shared_data
@pytest.mark.skipif(
    RAVDESS is None or not RAVDESS.is_dir(), reason="../shared/data absent"
)
def test_packed_segments_keep_their_own_words():
    # Statement 01 is "Kids are talking by the door", 02 "Dogs are sitting ...".
    kids = load_audio(RAVDESS / "Actor_01" / "03-01-01-01-01-01-01.flac")
    dogs = load_audio(RAVDESS / "Actor_01" / "03-01-01-01-02-01-01.flac")
    heard = timeline.WhisperTranscriber(language="en").transcribe([dogs, kids, dogs])
    words = heard["text"].str.lower().tolist()
    assert "dogs" in words[0] and "kids" in words[1] and "dogs" in words[2]
    assert "kids" not in words[0] + words[2]
    assert (heard["asr_confidence"] > 0.5).all()


class _FakeASR:
    def transcribe(self, waveforms):
        return pd.DataFrame({"text": ["I am furious"] * len(waveforms)})


def test_predict_without_text_uses_asr(tmp_path, monkeypatch, capsys):
    from sklearn.dummy import DummyClassifier

    from sklearn_hser import HierarchicalClassifier
    from sklearn_hser.cli import main
    from sklearn_hser.persistence import save_model

    X = pd.DataFrame({"audio": [np.zeros(10)] * 4, "text": ["a", "b", "c", "d"]})
    y = ["neutral", "angry", "neutral", "sad"]
    dummy = DummyClassifier(strategy="most_frequent")
    model = save_model(
        HierarchicalClassifier(dummy, dummy, dummy).fit(X, y), tmp_path / "m.joblib"
    )
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(SR, dtype=np.float32), SR)
    monkeypatch.setattr(timeline, "asr_available", lambda: True)
    monkeypatch.setattr(timeline, "WhisperTranscriber", _FakeASR)
    assert main(["predict", str(model), str(wav), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["text"] == "I am furious" and row["text_source"] == "asr"
    assert main(["predict", str(model), str(wav), "--json", "--no-asr"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["text"] == "" and row["text_source"] == "none"

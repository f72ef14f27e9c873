"""voice_texts: a text/label table voiced into FLAC files and a manifest."""

import sys

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sklearn_hser.datasets import load_manifest, voice_texts
from sklearn_hser.datasets.voicing import PiperEngine


class StubEngine:
    """A stand-in text-to-speech engine: a 22.05 kHz tone, 50 ms per character."""

    name = "stub-voice"

    def __init__(self):
        self.calls = []

    def __call__(self, text):
        self.calls.append(text)
        sr = 22050
        t = np.arange(int(0.05 * sr * len(text))) / sr
        return (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr


def _table():
    return pd.DataFrame(
        {
            "text": [
                "I love this!",
                "Leave me alone.",
                "It is on the table.",
                "I miss her.",
            ],
            "label": ["joy", "Angry", "neutral", "sadness"],
            "speaker": ["Ross", "Monica", "Ross", "Phoebe"],
            "id": ["a1", "a2", "a3", "a4"],
        }
    )


def test_voices_rows_into_a_manifest_load_manifest_reads(tmp_path):
    engine = StubEngine()
    out = voice_texts(_table(), tmp_path / "v", engine=engine)
    assert out == tmp_path / "v" / "manifest.csv"
    raw = pd.read_csv(out)
    assert list(raw.columns[:4]) == ["audio", "label", "text", "speaker"]
    corpus = load_manifest(out)
    assert corpus["label"].tolist() == ["happy", "angry", "neutral", "sad"]
    assert corpus["text"].tolist() == _table()["text"].tolist()
    # one voice is one speaker; the table's speakers are kept aside
    assert set(corpus["speaker"]) == {"stub-voice"}
    assert corpus["source_speaker"].tolist() == ["Ross", "Monica", "Ross", "Phoebe"]
    for path, text in zip(corpus["audio"], corpus["text"]):
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.format) == (16000, 1, "FLAC")
        assert info.duration == pytest.approx(0.05 * len(text), abs=0.01)
    assert not list((tmp_path / "v").rglob("*.tmp"))


def test_resumes_without_voicing_twice(tmp_path):
    engine = StubEngine()
    voice_texts(_table(), tmp_path, engine=engine)
    assert len(engine.calls) == 4
    first = sorted((tmp_path / "audio").iterdir())
    first[1].unlink()  # as if the run had been cut short
    voice_texts(_table(), tmp_path, engine=engine)
    assert engine.calls[4:] == ["Leave me alone."]
    assert sorted((tmp_path / "audio").iterdir()) == first
    # a changed text is a new file, not the old one reused
    changed = _table()
    changed.loc[0, "text"] = "I hate this!"
    voice_texts(changed, tmp_path, engine=engine)
    assert engine.calls[5:] == ["I hate this!"]


def test_csv_input_numbers_files_without_ids_and_names_the_speaker(tmp_path):
    csv = tmp_path / "t.csv"
    _table().drop(columns=["id", "speaker"]).to_csv(csv, index=False)
    out = voice_texts(csv, tmp_path / "v", engine=StubEngine(), speaker="tts-A")
    corpus = load_manifest(out)
    assert set(corpus["speaker"]) == {"tts-A"}
    assert pd.read_csv(out)["audio"].str.startswith("audio/utt000000_").iloc[0]


def test_a_plain_function_engine_gets_a_generic_speaker(tmp_path):
    def engine(text):
        return np.full(1600, 0.1, dtype=np.float32), 16000

    corpus = load_manifest(voice_texts(_table().head(1), tmp_path, engine=engine))
    assert corpus["speaker"].tolist() == ["tts"]


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda t: t.drop(columns="text"), r"lacks the column\(s\) \['text'\]"),
        (lambda t: t.drop(columns="label"), r"lacks the column\(s\) \['label'\]"),
        (lambda t: t.iloc[:0], "no rows"),
        (
            lambda t: t.assign(text=["a", "  ", "c", "d"]),
            "row 1: the text is empty or missing",
        ),
        (
            lambda t: t.assign(text=["a", "b", None, "d"]),
            "row 2: the text is empty or missing",
        ),
        (
            lambda t: t.assign(label=["joy", "joy", "surprise", "sad"]),
            "row 2: unknown label 'surprise'",
        ),
    ],
)
def test_bad_tables_are_refused_before_voicing(tmp_path, change, match):
    engine = StubEngine()
    with pytest.raises(ValueError, match=match):
        voice_texts(change(_table()), tmp_path, engine=engine)
    assert engine.calls == []


def test_silence_raises_or_is_left_out(tmp_path):
    def engine(text):
        n = 0 if text == "..." else 1600
        return np.full(n, 0.1, dtype=np.float32), 16000

    table = pd.DataFrame({"text": ["Hi there.", "..."], "label": ["neutral", "sad"]})
    with pytest.raises(ValueError, match="no audio"):
        voice_texts(table, tmp_path / "a", engine=engine)
    with pytest.warns(UserWarning, match="left out"):
        out = voice_texts(table, tmp_path / "b", engine=engine, on_silence="skip")
    assert load_manifest(out)["text"].tolist() == ["Hi there."]


def test_missing_piper_names_the_tts_extra(tmp_path, monkeypatch):
    voice = tmp_path / "any.onnx"
    voice.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "piper", None)  # import piper -> ImportError
    with pytest.raises(ImportError, match=r'pip install "sklearn-hser\[tts\]"'):
        voice_texts(_table(), tmp_path / "v", voice=voice)


def test_a_missing_voice_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="is not a file"):
        PiperEngine(tmp_path / "nope.onnx")("hello")


@pytest.mark.slow
def test_real_piper_voice(tmp_path):
    pytest.importorskip("piper")
    try:
        engine = PiperEngine(n_threads=1)
        assert engine.voice_path.is_file()
    except ImportError:
        pytest.skip("the default Piper voice is not installed")
    table = pd.DataFrame({"text": ["I am so happy today!"], "label": ["happy"]})
    corpus = load_manifest(voice_texts(table, tmp_path, engine=engine))
    assert corpus["speaker"].tolist() == [engine.name]
    audio, sr = sf.read(corpus["audio"].iloc[0])
    assert sr == 16000 and audio.ndim == 1
    assert 0.5 < len(audio) / sr < 5 and np.abs(audio).max() > 0.05

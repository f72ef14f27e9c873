"""The emotion timeline: recordings read by offset, segments, awkward input, CLI."""

import contextlib
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sklearn_hser.cli import main
from sklearn_hser.features import AudioInputError
from sklearn_hser.persistence import save_model
from sklearn_hser.timeline import (
    Recording,
    TranscriptError,
    emotion_timeline,
    segments_table,
    speech_segments,
    write_timeline,
)

SR = 16_000


GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide" / "timeline.md"


@pytest.fixture(scope="module")
def guide(tmp_path_factory):
    """The guide's worked example, run as printed, in a scratch folder."""
    code = re.findall(r"```python\n(.+?)```", GUIDE.read_text(), flags=re.DOTALL)[0]
    folder = tmp_path_factory.mktemp("guide")
    namespace = {}
    here = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            exec(compile(code, str(GUIDE), "exec"), namespace)
    finally:
        os.chdir(here)
    namespace["folder"], namespace["printed"] = folder, printed.getvalue()
    return namespace


@pytest.fixture(scope="module")
def model(guide):
    """A cheap hierarchy: MFCC + logistic regression, TF-IDF + logistic regression."""
    return guide["model"]


@pytest.fixture(scope="module")
def recorded(guide):
    """Twelve utterances of the corpus with pauses, as a WAV file and an .srt."""
    folder = guide["folder"]
    return folder / "talk.wav", folder / "talk.srt", guide["part"], guide["truth"]


# -- the constructed recording of the guide ---------------------------------
def test_guide_timeline_recovers_known_labels_and_times(guide):
    table, truth, model, part = (guide[k] for k in ("table", "truth", "model", "part"))
    assert len(table) == len(truth) == 12
    # Boundaries honoured to within 10 ms (the .srt stores milliseconds).
    assert np.abs(table["start"] - truth["start"]).max() < 0.01
    assert np.abs(table["end"] - truth["end"]).max() < 0.01
    assert table["text"].tolist() == truth["text"].tolist()
    assert (table["text_source"] == "transcript").all()
    # The same decisions as the model on the separate utterances...
    separate = model.predict(part)
    assert (table["prediction"].to_numpy() == separate).mean() >= 11 / 12
    # ... and, these being training utterances, the known labels.
    assert (table["prediction"] == truth["label"]).mean() >= 0.9
    assert "labels recovered: " in guide["printed"]
    proba = table[[f"p_{c}" for c in model.classes_]].to_numpy(dtype=float)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    for path in guide["paths"].values():
        assert (guide["folder"] / path).is_file()  # relative to the scratch folder


def test_timeline_without_transcript_finds_the_utterances(model, recorded):
    wav, _, _, truth = recorded
    table = emotion_timeline(model, wav, vad="energy", asr=False, min_pause=0.3)
    assert len(table) == len(truth)
    # Energy frames are 20 ms: the found speech lies within the true spans.
    assert np.abs(table["start"] - truth["start"]).max() < 0.2
    assert np.abs(table["end"] - truth["end"]).max() < 0.2
    assert (table["text_source"] == "none").all()
    wordless = table["branch"] == "speech_only"
    assert (table.loc[wordless, "prediction"] == "neutral").all()
    assert table.loc[wordless, "note"].str.contains("no words: speech only").all()
    assert table.loc[wordless, "p_neutral"].isna().all()


def test_timeline_of_a_baseline_names_its_branch(recorded):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_hser.baselines import SpeechOnlyClassifier
    from sklearn_hser.features import MFCC

    wav, srt, part, truth = recorded
    speech = make_pipeline(MFCC(column="audio"), LogisticRegression(max_iter=1000))
    baseline = SpeechOnlyClassifier(speech).fit(part, truth["label"])
    table = emotion_timeline(baseline, wav, srt, asr=False)
    assert len(table) == len(truth)
    assert (table["branch"] == "speech").all()
    assert (table["decided_by"] == "speech").all()
    assert table["speech_gate"].isna().all()
    assert table["prediction"].tolist() == baseline.predict(part).tolist()


def test_timeline_of_a_plain_pipeline_with_integer_labels(recorded):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_hser.features import MFCC

    wav, srt, part, truth = recorded
    codes = {label: i for i, label in enumerate(sorted(set(truth["label"])))}
    y = truth["label"].map(codes).to_numpy()
    flat = make_pipeline(MFCC(column="audio"), LogisticRegression(max_iter=1000))
    flat.fit(part, y)
    table = emotion_timeline(flat, wav, srt, asr=False)
    assert (table["branch"] == "flat").all() and (table["decided_by"] == "flat").all()
    assert table["prediction"].tolist() == flat.predict(part).tolist()


def test_wordless_segments_of_an_untrusted_voice_keep_the_speech_answer(
    model, recorded
):
    from sklearn.base import clone

    wav, srt, part, truth = recorded
    # Every voice untrusted: each segment is sent to the words, which are
    # missing, so the speech models' own answer stands.
    untrusted = clone(model).set_params(gate_labels="flat", speech_confidence=1.0)
    untrusted.fit(part, truth["label"])
    cues = [(row.start, row.end, "") for row in truth.itertuples()]
    table = emotion_timeline(untrusted, wav, cues, asr=False)
    speech = untrusted.outputs(part.assign(text=""), proba=False).speech_only
    assert (table["branch"] == "speech_only").all()
    assert table["prediction"].tolist() == speech.tolist()
    assert set(table["prediction"]) != {"neutral"}
    emotional = table["prediction"] != "neutral"
    assert (table.loc[emotional, "decided_by"] == "speech_emotion").all()


def test_silero_segments_match_the_utterances(recorded):
    pytest.importorskip("faster_whisper")
    wav, _, _, truth = recorded
    found = speech_segments(wav, vad="silero")
    assert len(found) == len(truth)
    assert np.abs(found["start"] - truth["start"]).max() < 0.25


# -- reading by offset -------------------------------------------------------
def test_recording_reads_spans_by_offset(tmp_path):
    rng = np.random.default_rng(0)
    wave = rng.uniform(-0.5, 0.5, 5 * SR).astype(np.float32)
    path = tmp_path / "a.wav"
    sf.write(path, wave, SR, subtype="FLOAT")
    rec = Recording(path)
    assert rec.duration == 5.0 and rec.channels == 1
    np.testing.assert_array_equal(rec.read(1.25, 2.0), wave[20_000:32_000])
    np.testing.assert_array_equal(Recording(wave).read(1.25, 2.0), wave[20_000:32_000])
    assert len(rec.read(4.5, 9.0)) == SR // 2  # clipped to the end
    with pytest.raises(AudioInputError, match="nothing to read between 6.000"):
        rec.read(6.0, 7.0)


def test_other_rates_and_channels_are_converted(tmp_path):
    t = np.arange(3 * 8000) / 8000
    left = 0.3 * np.sin(2 * np.pi * 200 * t)
    path = tmp_path / "phone.wav"
    sf.write(path, np.stack([left, left], axis=1), 8000)
    with pytest.warns(UserWarning, match="8000 Hz"):
        rec = Recording(path)
    assert rec.channels == 2 and rec.duration == 3.0
    piece = rec.read(1.0, 2.0)
    assert piece.dtype == np.float32 and len(piece) == SR  # 16 kHz mono


# -- voice-activity rules ------------------------------------------------------
def _bursts(spans, total):
    wave = np.zeros(int(total * SR), dtype=np.float32)
    for a, b in spans:
        t = np.arange(int((b - a) * SR)) / SR
        wave[int(a * SR) : int(a * SR) + len(t)] = 0.3 * np.sin(2 * np.pi * 220 * t)
    return wave


def test_energy_rules_bridge_drop_and_split():
    wave = _bursts([(1, 2), (2.1, 3), (5, 5.2), (7, 27)], 30)
    found = speech_segments(
        wave, vad="energy", min_pause=0.3, min_segment=0.5, max_segment=8
    )
    spans = found[["start", "end"]].to_numpy()
    assert spans[0] == pytest.approx([1, 3], abs=0.03)  # 0.1 s pause bridged
    # The 0.2 s burst is dropped; 20 s of speech is cut into <= 8 s pieces.
    assert spans[1][0] == pytest.approx(7, abs=0.03)
    assert spans[-1][1] == pytest.approx(27, abs=0.03)
    assert (np.diff(spans, axis=1) <= 8 + 1e-9).all()
    assert len(spans) == 5 and (spans[2:, 0] == spans[1:-1, 1]).all()
    with pytest.raises(ValueError, match="max_segment"):
        speech_segments(wave, vad="energy", max_segment=0.2)
    with pytest.raises(ValueError, match="'vad' parameter of speech_segments"):
        speech_segments(wave, vad="webrtc")


# -- awkward input ----------------------------------------------------------
def test_awkward_cues_are_noted(model, recorded):
    wav, _, _, truth = recorded
    end = Recording(wav).duration
    cues = segments_table(
        [
            (truth["start"][2], truth["end"][2], truth["text"][2]),
            (truth["start"][0], truth["end"][0], ""),  # empty and out of order
            (truth["start"][0] + 0.5, truth["end"][0] + 0.2, "overlapping"),
            (truth["start"][3], truth["start"][3] + 0.1, "too short"),
            (end - 0.5, end + 3.0, "runs past the end"),
        ]
    )
    with pytest.warns(UserWarning, match="not in time order.*cue 2"):
        table = emotion_timeline(model, wav, cues, asr=False)
    assert table["start"].is_monotonic_increasing
    notes = dict(zip(table["text"], table["note"]))
    assert notes[""].startswith("empty cue")
    assert notes["overlapping"] == "overlaps cue 2"
    assert notes["too short"] == "shorter than 0.25 s: not classified"
    assert notes["runs past the end"].startswith("cut at the end of the recording")
    assert table["end"].max() == pytest.approx(end)
    short = table[table["text"] == "too short"].iloc[0]
    assert short["prediction"] == "" and np.isnan(short["p_neutral"])


def test_cue_after_the_end_names_the_cue(model, recorded, tmp_path):
    wav, *_ = recorded
    srt = tmp_path / "other.srt"
    srt.write_text(
        "1\n00:00:01,000 --> 00:00:02,000\na\n\n2\n00:08:20,000 --> 00:08:21,000\nb\n"
    )
    with pytest.raises(TranscriptError, match=r"cue 2 \(line 5\) starts at 500.000 s"):
        emotion_timeline(model, wav, srt, asr=False)


def test_silent_recording(model):
    silence = np.zeros(5 * SR, dtype=np.float32)
    with pytest.raises(ValueError, match="no speech found"):
        emotion_timeline(model, silence, vad="energy", asr=False)
    table = emotion_timeline(model, silence, [(1.0, 2.0, "I am so happy")], asr=False)
    assert table["note"].iloc[0] == "silent"


class _FakeASR:
    """Stands in for Whisper: a fixed sentence per segment."""

    def transcribe(self, waveforms):
        n = len(waveforms)
        return pd.DataFrame({"text": ["I am furious"] * n, "asr_confidence": 0.5})


def test_recognised_words_are_marked(model, recorded):
    wav, _, _, truth = recorded
    cues = segments_table([(truth["start"][0], truth["end"][0], "")])
    table = emotion_timeline(model, wav, cues, asr=_FakeASR())
    row = table.iloc[0]
    assert row["text"] == "I am furious" and row["text_source"] == "asr"
    assert row["asr_confidence"] == 0.5
    assert row["note"] == "empty cue: words recognised"
    with pytest.raises(ValueError, match="'asr' parameter of emotion_timeline"):
        emotion_timeline(model, wav, cues, asr="yes")


# -- files and command line ---------------------------------------------------
def test_write_timeline_files(model, recorded, tmp_path):
    wav, srt, *_ = recorded
    table = emotion_timeline(model, wav, srt, asr=False)
    paths = write_timeline(table, tmp_path, title="Talk")
    rows = json.loads(paths["json"].read_text())
    assert len(rows) == len(table) and rows[0]["text"] == table["text"][0]
    assert pd.read_csv(paths["csv"]).shape[0] == len(table)
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"
    page = paths["html"].read_text()
    assert "data:image/png;base64," in page and table["text"][1] in page


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip()
    assert err.startswith("hser: error: ")
    assert "\n" not in err and "Traceback" not in err
    return err


def test_cli_timeline(model, recorded, tmp_path, capsys):
    wav, srt, _, truth = recorded
    saved = save_model(model, tmp_path / "m.joblib", system="tiny")
    out = tmp_path / "out"
    argv = ["timeline", str(saved), str(wav), "--transcript", str(srt)]
    assert main([*argv, "--out", str(out)]) == 0
    assert f"{len(truth)} segments" in capsys.readouterr().out
    for name in ("timeline.csv", "timeline.json", "timeline.png", "timeline.html"):
        assert (out / name).is_file()
    bad = tmp_path / "bad.vtt"
    bad.write_text("WEBVTT\n\n00:01.000 --> later\nhi\n")
    assert main(["timeline", str(saved), str(wav), "--transcript", str(bad)]) == 2
    assert "bad.vtt, line 3" in _one_line_error(capsys)
    argv = ["timeline", str(saved), str(wav), "--vad", "energy", "--no-asr"]
    assert main([*argv, "--out", str(tmp_path / "v")]) == 0
    rows = json.loads((tmp_path / "v" / "timeline.json").read_text())
    assert len(rows) == len(truth) and all(r["text_source"] == "none" for r in rows)
    for row in rows:  # without words, each row says it kept the speech path
        assert (row["branch"] == "speech_only") == ("speech only" in row["note"])
    assert main(["timeline", str(saved), str(tmp_path / "none.wav")]) == 2
    assert "no such file" in _one_line_error(capsys)
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(3 * SR, dtype=np.float32), SR)
    argv = ["timeline", str(saved), str(silent), "--vad", "energy", "--no-asr"]
    assert main([*argv, "--out", str(tmp_path / "s")]) == 2
    assert "no speech found" in _one_line_error(capsys)

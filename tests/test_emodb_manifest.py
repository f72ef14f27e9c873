"""load_emodb and load_manifest on generated trees, and speaker_holdout_split."""

import warnings

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sklearn_hser.datasets import (
    load_emodb,
    load_manifest,
    speaker_holdout_split,
)
from sklearn_hser.datasets.emodb import EMODB_SENTENCES, EMODB_SPEAKER_GENDER
from sklearn_hser.experiments import split_indices
from sklearn_hser.systems import ExperimentConfig

SR = 16_000


def _write(path, seconds=0.1):
    path.parent.mkdir(parents=True, exist_ok=True)
    wave = np.sin(np.linspace(0, 200, int(SR * seconds))).astype(np.float32) * 0.1
    sf.write(path, wave, SR)
    return path


# ----------------------------------------------------------------- EmoDB

KEPT = ["03a01Wa", "08b02Fb", "09a04Tc", "10a05Nd"]  # angry, happy, sad, neutral
DROPPED = ["11a07La", "12b09Ea", "13b10Aa"]  # boredom, disgust, fear
ODD = ["99a01Wa", "03x01Wa", "03a03Wa", "03a01Wa_copy"]  # speaker / code / name


def _emodb_tree(folder, ext=".wav"):
    for stem in KEPT + DROPPED + ODD:
        _write(folder / f"{stem}{ext}")
    (folder / "README.txt").write_text("not audio")
    (folder / ".DS_Store").write_text("")


@pytest.mark.parametrize("layout", ["flat", "wav-subfolder", "flac"])
def test_emodb_layouts(tmp_path, layout):
    folder = tmp_path / "wav" if layout == "wav-subfolder" else tmp_path
    _emodb_tree(folder, ext=".flac" if layout == "flac" else ".wav")
    if layout == "wav-subfolder":  # the download's other folders are not read
        (tmp_path / "lablaut").mkdir()
        (tmp_path / "lablaut" / "03a01Wa.lab").write_text("x")
    with pytest.warns(UserWarning, match="Skipped 4 audio file") as record:
        df = load_emodb(tmp_path)
    message = str(record[0].message)
    assert "99a01Wa" in message and "03x01Wa" in message
    assert df["id"].tolist() == KEPT  # sorted by id; other emotions dropped
    assert df["label"].tolist() == ["angry", "happy", "sad", "neutral"]
    assert df["label_raw"].tolist() == ["W", "F", "T", "N"]
    assert df["speaker"].tolist() == ["EmoDB_03", "EmoDB_08", "EmoDB_09", "EmoDB_10"]
    assert df["gender"].tolist() == ["M", "F", "F", "M"]
    assert df["session"].tolist() == [3, 8, 9, 10]
    assert df["session"].dtype == np.int64
    assert df["text"].tolist() == [
        "Der Lappen liegt auf dem Eisschrank.",
        "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
        "Heute abend könnte ich es ihm sagen.",
        "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    ]
    assert df["text_code"].tolist() == ["a01", "b02", "a04", "a05"]
    assert df["version"].tolist() == ["a", "b", "c", "d"]
    assert all(p.startswith(str(folder)) for p in df["audio"])
    assert list(df.index) == list(range(len(df)))


def test_emodb_tables_are_complete():
    assert sorted(EMODB_SENTENCES) == [
        "a01",
        "a02",
        "a04",
        "a05",
        "a07",
        "b01",
        "b02",
        "b03",
        "b09",
        "b10",
    ]
    females = sorted(s for s, g in EMODB_SPEAKER_GENDER.items() if g == "F")
    assert females == ["08", "09", "13", "14", "16"]
    assert len(EMODB_SPEAKER_GENDER) == 10


def test_emodb_flac_preferred_over_wav(tmp_path):
    _write(tmp_path / "03a01Wa.wav")
    _write(tmp_path / "03a01Wa.flac")
    with pytest.warns(UserWarning, match="both as .flac and .wav"):
        df = load_emodb(tmp_path)
    assert len(df) == 1 and df["audio"][0].endswith(".flac")


def test_emodb_warnings_point_at_the_caller(tmp_path):
    # warn_caller's stacklevel, from the loader and from its helper prefer_flac
    _write(tmp_path / "03a01Wa.wav")
    _write(tmp_path / "03a01Wa.flac")
    _write(tmp_path / "notes.wav")
    with pytest.warns(UserWarning) as record:
        load_emodb(tmp_path)
    assert len(record) == 2
    assert all(r.filename == __file__ for r in record)


def test_emodb_clean_tree_gives_no_warning(tmp_path):
    _write(tmp_path / "16b10Nb.wav")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = load_emodb(tmp_path)
    assert df["gender"].tolist() == ["F"] and df["label"].tolist() == ["neutral"]


def test_emodb_errors(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        load_emodb(tmp_path / "absent")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="No EmoDB recordings"):
        load_emodb(tmp_path)


# -------------------------------------------------------------- manifest


def _manifest(folder, text, name="manifest.csv"):
    path = folder / name
    path.write_text(text)
    return path


def test_manifest_paths_labels_and_defaults(tmp_path):
    _write(tmp_path / "clips" / "a.wav")
    absolute = _write(tmp_path / "elsewhere" / "b.wav")
    csv = _manifest(
        tmp_path / "clips",
        f"audio,label,room\na.wav, Anger ,r1\n{absolute},HAPPY,r2\n",
    )
    df = load_manifest(csv)
    assert df["audio"].tolist() == [
        str((tmp_path / "clips" / "a.wav").resolve()),
        str(absolute.resolve()),
    ]
    assert df["label"].tolist() == ["angry", "happy"]
    assert df["label_raw"].tolist() == [" Anger ", "HAPPY"]
    assert df["id"].tolist() == ["a.wav", str(absolute)]
    assert df["text"].tolist() == ["", ""]
    assert df["speaker"].tolist() == ["unknown", "unknown"]
    assert df["gender"].tolist() == ["U", "U"]
    assert df["session"].tolist() == [1, 1] and df["session"].dtype == np.int64
    assert df["room"].tolist() == ["r1", "r2"]  # extra columns kept
    assert list(df.columns[:8]) == [
        "id",
        "audio",
        "text",
        "label",
        "label_raw",
        "speaker",
        "gender",
        "session",
    ]


def test_manifest_optional_columns(tmp_path):
    for name in ("x.wav", "y.flac"):
        _write(tmp_path / name)
    csv = _manifest(
        tmp_path,
        "id,audio,label,text,speaker,gender,session\n"
        "u1,x.wav,excited,Great news!,s1,female,2\n"
        "u2,y.flac,sadness,,s2,M,3\n",
    )
    df = load_manifest(csv)
    assert df["id"].tolist() == ["u1", "u2"]
    assert df["label"].tolist() == ["happy", "sad"]
    assert df["text"].tolist() == ["Great news!", ""]
    assert df["speaker"].tolist() == ["s1", "s2"]
    assert df["gender"].tolist() == ["F", "M"]
    assert df["session"].tolist() == [2, 3]


@pytest.mark.parametrize(
    "text, message",
    [
        ("audio,text\na.wav,hi\n", r"lacks the required column\(s\) \['label'\]"),
        ("audio,label\n", "has no rows"),
        ("audio,label\na.wav,neutral\nb.wav,fear\n", "line 3: label 'fear'"),
        ("audio,label\n,neutral\n", "line 2: the audio cell is empty"),
        ("audio,label,gender\na.wav,sad,x\n", "line 2: gender 'x'"),
        ("audio,label,session\na.wav,sad,one\n", "line 2: session 'one'"),
        (
            "audio,label,session\na.wav,sad,99999999999999999999\n",
            "line 2: session '99999999999999999999'.*64-bit integer",
        ),
        ("audio,label,id\na.wav,sad,u\na.wav,sad,u\n", "duplicate id"),
        (
            "audio,label\na.wav,sad\nmissing1.wav,sad\nmissing2.wav,sad\n",
            "2 audio file\\(s\\) not found: .*missing1.wav, .*missing2.wav",
        ),
    ],
)
def test_manifest_errors(tmp_path, text, message):
    _write(tmp_path / "a.wav")
    with pytest.raises(ValueError, match=message):
        load_manifest(_manifest(tmp_path, text))


def test_manifest_not_a_file(tmp_path):
    with pytest.raises(ValueError, match="is not a file"):
        load_manifest(tmp_path / "absent.csv")


# ------------------------------------------------------------------ splits


def _speakers(n_per_gender=5, rows=3):
    speakers = [f"F{i}" for i in range(n_per_gender)] + [
        f"M{i}" for i in range(n_per_gender)
    ]
    return pd.DataFrame(
        {
            "speaker": np.repeat(speakers, rows),
            "gender": np.repeat([s[0] for s in speakers], rows),
            "label": "neutral",
        }
    )


def test_speaker_holdout_split_is_speaker_independent_and_balanced():
    corpus = _speakers()
    train, val, test = speaker_holdout_split(
        corpus, validation_fraction=0.2, test_fraction=0.2, random_state=3
    )
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(
        range(len(corpus))
    )
    groups = [set(corpus["speaker"].iloc[idx]) for idx in (train, val, test)]
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    for held in (val, test):  # two speakers each, one of each gender
        assert sorted(corpus["gender"].iloc[held].unique()) == ["F", "M"]
        assert corpus["speaker"].iloc[held].nunique() == 2
    again = speaker_holdout_split(
        corpus, validation_fraction=0.2, test_fraction=0.2, random_state=3
    )
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again))


def test_speaker_holdout_split_defaults_like_iemocap():
    corpus = _speakers()
    _, val, test = speaker_holdout_split(corpus)
    assert corpus["gender"].iloc[test].unique().tolist() == ["F"]
    assert corpus["gender"].iloc[val].unique().tolist() == ["M"]
    assert corpus["speaker"].iloc[val].nunique() == 1


def test_speaker_holdout_split_errors():
    one = pd.DataFrame({"speaker": ["unknown"] * 4, "label": "sad"})
    with pytest.raises(ValueError, match="needs at least 3 speakers.*has 1"):
        speaker_holdout_split(one)
    with pytest.raises(ValueError, match="no column 'speaker'"):
        speaker_holdout_split(one.drop(columns="speaker"))
    with pytest.raises(ValueError, match="test_fraction"):
        speaker_holdout_split(_speakers(), test_fraction=0)


@pytest.mark.parametrize("corpus_name", ["emodb", "manifest"])
def test_split_indices_uses_the_speaker_holdout(corpus_name):
    corpus = _speakers()
    config = ExperimentConfig(corpus=corpus_name, splits=["si"])
    train, val, test = split_indices(corpus, config)["si"]
    expected = speaker_holdout_split(corpus, random_state=config.random_state)
    assert np.array_equal(test, expected[2]) and np.array_equal(val, expected[1])
    assert set(corpus["speaker"].iloc[test]).isdisjoint(corpus["speaker"].iloc[train])


# ------------------------------------------------------ the command line


def test_cli_features_on_emodb_and_manifest(tmp_path, capsys):
    from sklearn_hser.cli import main

    emodb = tmp_path / "emodb"
    for stem in KEPT:
        _write(emodb / "wav" / f"{stem}.wav", seconds=0.3)
    _write(tmp_path / "mine" / "a.wav", seconds=0.3)
    _write(tmp_path / "mine" / "b.wav", seconds=0.3)
    csv = _manifest(tmp_path / "mine", "audio,label\na.wav,sad\nb.wav,Neutral\n")
    for corpus, root, n in (("emodb", emodb, 4), ("manifest", csv, 2)):
        out = tmp_path / f"features-{corpus}"
        argv = [
            "features",
            "--corpus",
            corpus,
            "--root",
            str(root),
            "--sets",
            "mfcc",
            "--out",
            str(out),
        ]
        assert main(argv) == 0
        assert np.load(out / "mfcc.npy", allow_pickle=True).shape[0] == n
        assert len(pd.read_csv(out / "corpus.csv")) == n
    capsys.readouterr()
    assert main(["features", "--corpus", "manifest", "--root", str(emodb)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hser: error: cannot read manifest") and "not a file" in err


def test_cli_reproduce_without_speakers_is_a_usage_error(tmp_path, capsys):
    from sklearn_hser.cli import main

    _write(tmp_path / "a.wav")
    _write(tmp_path / "b.wav")
    csv = _manifest(tmp_path, "audio,label\na.wav,sad\nb.wav,neutral\n")
    argv = [
        "reproduce",
        "--corpus",
        "manifest",
        "--root",
        str(csv),
        "--splits",
        "si",
        "--systems",
        "lstm-mfcc",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hser: error: ") and "\n" not in err
    assert "'speaker' column" in err

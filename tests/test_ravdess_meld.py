"""load_ravdess and load_meld, on the shared real data and on small hand-made trees."""

from pathlib import Path

import pandas as pd
import pytest

from sklearn_hser.datasets._paths import shared_data_dir
from sklearn_hser.datasets.meld import load_meld
from sklearn_hser.datasets.ravdess import load_ravdess

DATA = shared_data_dir()
STATEMENTS = {1: "Kids are talking by the door", 2: "Dogs are sitting by the door"}


# ----------------------------------------------------------------- RAVDESS real

HAS_RAVDESS = DATA is not None and (DATA / "ravdess").is_dir()


@pytest.fixture(scope="module")
def ravdess():
    return load_ravdess(DATA / "ravdess")


@pytest.mark.shared_data
@pytest.mark.skipif(not HAS_RAVDESS, reason="shared data ravdess/ absent")
def test_ravdess_real_counts(ravdess):
    df = ravdess
    assert len(df) == 504
    assert df["actor"].nunique() == 18 and df["speaker"].nunique() == 18
    counts = df.groupby(["actor", "label"]).size().unstack()
    assert sorted(counts.columns) == ["angry", "happy", "neutral", "sad"]
    assert (counts["neutral"] == 4).all()
    for label in ("happy", "sad", "angry"):
        assert (counts[label] == 8).all()
    assert set(df.loc[df.label == "neutral", "intensity"]) == {"normal"}


@pytest.mark.shared_data
@pytest.mark.skipif(not HAS_RAVDESS, reason="shared data ravdess/ absent")
def test_ravdess_real_columns(ravdess):
    df = ravdess
    assert isinstance(df.index, pd.RangeIndex)
    assert df["id"].tolist() == sorted(df["id"])
    for row in df.itertuples():
        path = Path(row.audio)
        assert path.is_absolute() and path.is_file()
        assert path.stem == row.id and path.parent.name == row.speaker
        assert row.speaker == f"Actor_{row.actor:02d}"
        assert row.session == row.actor
        assert row.gender == ("M" if row.actor % 2 else "F")
        assert row.text == STATEMENTS[row.statement]
        assert int(row.id.split("-")[4]) == row.statement
        assert int(row.id.split("-")[5]) == row.repetition
    assert set(df["intensity"]) == {"normal", "strong"}


# --------------------------------------------------------------- RAVDESS synthetic


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def test_ravdess_names_labels_and_malformed(tmp_path):
    a1, a2 = tmp_path / "Actor_01", tmp_path / "Actor_02"
    _touch(a1 / "03-01-01-01-01-01-01.flac")  # neutral
    _touch(a1 / "03-01-05-02-02-02-01.wav")  # angry, strong, wav
    _touch(a1 / "03-01-02-01-01-01-01.flac")  # calm: dropped by default
    _touch(a2 / "03-01-08-02-01-01-02.flac")  # surprised
    _touch(a2 / "03-01-04-01-01-01-02.flac")  # sad
    _touch(a1 / "03-01-04-01-01-01-02.flac")  # actor field != folder
    _touch(a2 / "notes.flac")
    _touch(a2 / "03-01-09-01-01-01-02.flac")  # unknown emotion code
    _touch(a2 / "._03-01-04-01-01-01-02.flac")  # AppleDouble: silent

    with pytest.warns(UserWarning, match="Skipped 3 file") as record:
        df = load_ravdess(tmp_path)
    assert "notes.flac" in str(record[0].message)
    assert df["id"].tolist() == [
        "03-01-01-01-01-01-01",
        "03-01-04-01-01-01-02",
        "03-01-05-02-02-02-01",
    ]
    assert df["label"].tolist() == ["neutral", "sad", "angry"]
    assert df["label_raw"].tolist() == ["01", "04", "05"]
    assert df["gender"].tolist() == ["M", "F", "M"]
    assert df["intensity"].tolist() == ["normal", "normal", "strong"]
    assert df["text"].tolist() == [STATEMENTS[1], STATEMENTS[1], STATEMENTS[2]]
    assert df["audio"].iloc[2].endswith(".wav")

    with pytest.warns(UserWarning):
        raw = load_ravdess(tmp_path, labels="raw")
    assert sorted(raw["label"]) == ["angry", "calm", "neutral", "sad", "surprised"]


def test_ravdess_bad_roots(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        load_ravdess(tmp_path / "nope")
    with pytest.raises(ValueError, match="Actor_01"):
        load_ravdess(tmp_path)
    (tmp_path / "Actor_01").mkdir()
    with pytest.raises(ValueError, match="No valid RAVDESS"):
        load_ravdess(tmp_path)
    with pytest.raises(ValueError, match="labels"):
        load_ravdess(tmp_path, labels="eight")


# -------------------------------------------------------------------- MELD real

HAS_MELD = DATA is not None and (DATA / "meld").is_dir()


@pytest.fixture(scope="module")
def meld():
    return load_meld(DATA / "meld")


@pytest.mark.shared_data
@pytest.mark.skipif(not HAS_MELD, reason="shared data meld/ absent")
def test_meld_real_counts(meld):
    counts = meld.groupby("split", sort=False).size().to_dict()
    assert counts == {"train": 8245, "dev": 897, "test": 2211}
    assert set(meld["label"]) == {"neutral", "happy", "sad", "angry"}
    assert meld["id"].is_unique
    assert meld["id"].str.fullmatch(r"(train|dev|test)_dia\d+_utt\d+").all()
    assert isinstance(meld.index, pd.RangeIndex)
    assert "audio" not in meld.columns and "gender" not in meld.columns
    assert (meld["session"] == meld["season"]).all()
    # joy -> happy etc.
    pairs = set(zip(meld["emotion_raw"], meld["label"], strict=True))
    assert pairs == {
        ("neutral", "neutral"),
        ("joy", "happy"),
        ("sadness", "sad"),
        ("anger", "angry"),
    }


@pytest.mark.shared_data
@pytest.mark.skipif(not HAS_MELD, reason="shared data meld/ absent")
def test_meld_real_text_is_clean(meld):
    assert meld["text"].notna().all()
    assert not meld["text"].str.contains("[\x80-\x9f]").any()
    assert (meld["text"].str.len() > 0).all()
    assert meld["text"].str.contains("\u2019").any()  # curly quotes decoded
    assert (meld["end"] >= meld["start"]).mean() > 0.99


@pytest.mark.shared_data
@pytest.mark.skipif(not HAS_MELD, reason="shared data meld/ absent")
def test_meld_real_raw_and_split_selection():
    dev = load_meld(DATA / "meld", splits="dev", labels="raw")
    assert len(dev) == 1109 and set(dev["split"]) == {"dev"}
    assert set(dev["label"]) == {
        "neutral",
        "joy",
        "surprise",
        "anger",
        "sadness",
        "disgust",
        "fear",
    }


# --------------------------------------------------------------- MELD synthetic

HEADER = (
    "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,"
    "Season,Episode,StartTime,EndTime\n"
)


def test_meld_odd_encodings(tmp_path):
    # a cp1252 file (invalid UTF-8) and a UTF-8 file carrying a C1 character
    rows = [
        '1,"It\u2019s fine, caf\xe9",Ross,joy,positive,0,0,1,2,'
        '"00:00:01,500","00:00:02,000"',
        '2,NA,Rachel,anger,negative,0,1,1,2,"00:00:02,100","00:00:03,000"',
        '3,Whoa!,Joey,surprise,positive,0,2,1,2,"00:00:03,100","00:00:04,000"',
    ]
    data = (HEADER + "\n".join(rows) + "\n").encode("cp1252")
    assert b"\x92" in data  # not valid UTF-8
    (tmp_path / "train_sent_emo.csv").write_bytes(data)
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "dev_sent_emo.csv").write_text(
        HEADER + "1,  Don\u0092t.  ,Monica,sadness,negative,4,0,3,1,"
        '"00:01:00,000","00:01:01,250"\n',
        encoding="utf-8",
    )
    df = load_meld(tmp_path, splits=("train", "dev"))
    assert df["id"].tolist() == ["train_dia0_utt0", "train_dia0_utt1", "dev_dia4_utt0"]
    assert df["text"].tolist() == ["It\u2019s fine, caf\u00e9", "NA", "Don\u2019t."]
    assert df["label"].tolist() == ["happy", "angry", "sad"]
    assert df["start"].tolist() == [1.5, 2.1, 60.0]
    assert df["end"].tolist() == [2.0, 3.0, 61.25]
    assert len(load_meld(tmp_path, splits="train", labels="raw")) == 3


def test_meld_errors(tmp_path):
    with pytest.raises(ValueError, match="splits"):
        load_meld(tmp_path, splits=("valid",))
    with pytest.raises(ValueError, match="labels"):
        load_meld(tmp_path, labels="x")
    with pytest.raises(ValueError, match="test_sent_emo.csv"):
        load_meld(tmp_path, splits="test")
    (tmp_path / "test_sent_emo.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="lacks MELD column"):
        load_meld(tmp_path, splits="test")

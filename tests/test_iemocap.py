"""load_iemocap on fixture trees in the release layout (and on a real copy if any)."""

import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_hser.datasets._paths import shared_data_dir
from sklearn_hser.datasets.fixtures import (
    make_iemocap_fixture,
    read_iemocap_fixture_manifest,
)
from sklearn_hser.datasets.iemocap import clean_transcript, load_iemocap

# written out here rather than imported, so the test checks the mapping too
FOUR_CLASS = {
    "neu": "neutral",
    "hap": "happy",
    "exc": "happy",
    "sad": "sad",
    "ang": "angry",
}
COLUMNS = [
    "id",
    "audio",
    "text",
    "text_raw",
    "label",
    "label_raw",
    "speaker",
    "gender",
    "session",
    "dialog",
    "method",
    "valence",
    "activation",
    "dominance",
    "start",
    "end",
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("iemocap")
    release = make_iemocap_fixture(root)
    return root, release, read_iemocap_fixture_manifest(root)


@pytest.fixture(scope="module")
def loaded(tree):
    root, _, _ = tree
    with warnings.catch_warnings():
        # a clean tree (decoys included) must load without any warning
        warnings.simplefilter("error")
        return load_iemocap(root)


@pytest.fixture
def small(tmp_path):
    """A one-session tree that a test may damage."""
    release = make_iemocap_fixture(tmp_path, n_sessions=1)
    return tmp_path, release, read_iemocap_fixture_manifest(tmp_path)


def test_four_class_rows_and_labels(tree, loaded):
    _, _, manifest = tree
    kept = manifest[manifest["label_raw"].isin(list(FOUR_CLASS))]
    assert len(loaded) == len(kept) == 50
    assert loaded["label"].value_counts().to_dict() == {
        "happy": 20,
        "neutral": 10,
        "sad": 10,
        "angry": 10,
    }
    expected = dict(zip(kept["id"], kept["label_raw"].map(FOUR_CLASS), strict=True))
    assert dict(zip(loaded["id"], loaded["label"], strict=True)) == expected
    # exc merged into happy, dropped codes absent
    assert set(loaded.loc[loaded["label_raw"] == "exc", "label"]) == {"happy"}
    assert not set(loaded["label_raw"]) & {"fru", "xxx", "sur"}


def test_raw_labels_keep_every_code(tree):
    root, _, manifest = tree
    df = load_iemocap(root, labels="raw")
    assert len(df) == len(manifest) == 80
    assert (df["label"] == df["label_raw"]).all()
    assert df["label"].value_counts().to_dict() == dict.fromkeys(
        ["neu", "hap", "exc", "sad", "ang", "fru", "xxx", "sur"], 10
    )


def test_schema_order_and_index(loaded):
    assert list(loaded.columns) == COLUMNS
    assert isinstance(loaded.index, pd.RangeIndex)
    assert loaded["id"].tolist() == sorted(loaded["id"])
    assert loaded["id"].is_unique
    assert loaded["session"].dtype == np.int64
    for col in ("valence", "activation", "dominance", "start", "end"):
        assert loaded[col].dtype == np.float64


def test_gender_comes_from_last_group_not_dialog_name(loaded):
    row = loaded.set_index("id").loc["Ses01M_script01_1_F000"]
    assert row["gender"] == "F"
    assert row["speaker"] == "Ses01_F"
    row = loaded.set_index("id").loc["Ses03F_impro01_M000"]
    assert row["gender"] == "M"
    assert row["speaker"] == "Ses03_M"
    last_letter = loaded["id"].str.extract(r"_([FM])\d{3}$")[0]
    assert (loaded["gender"] == last_letter).all()
    expected = [
        f"Ses{s:02d}_{g}" for s, g in zip(loaded.session, loaded.gender, strict=True)
    ]
    assert loaded["speaker"].tolist() == expected
    assert loaded["speaker"].nunique() == 10
    # both genders occur in dialogs of both name letters
    assert set(loaded.loc[loaded.dialog.str[5] == "M", "gender"]) == {"F", "M"}


def test_text_cleaned_and_raw_kept(tree, loaded):
    _, _, manifest = tree
    m = manifest.set_index("id").loc[loaded["id"]]
    assert loaded["text_raw"].tolist() == m["text_raw"].tolist()
    assert loaded["text"].tolist() == m["text"].tolist()
    assert loaded["text_raw"].str.contains(r"\[LAUGHTER\]").sum() > 0
    assert loaded["text_raw"].str.contains(r"\[BREATHING\]").sum() > 0
    assert not loaded["text"].str.contains(r"[\[\]]").any()
    assert not loaded["text"].str.contains("  ").any()
    assert not loaded["text_raw"].str.contains("DECOY").any()


def test_clean_transcript():
    assert clean_transcript("[LAUGHTER]  Oh   my [BREATHING] god. ") == "Oh my god."
    assert clean_transcript("[GARBAGE]") == ""


def test_decoys_and_unlabelled_turns_ignored(loaded, tree):
    root, _, _ = tree
    raw = load_iemocap(root, labels="raw")
    assert not raw["id"].str.contains(r"_(?:F900|M901|F902|M903|MXX0)$").any()


def test_paths_times_vad_and_method(tree, loaded):
    _, release, manifest = tree
    m = manifest.set_index("id").loc[loaded["id"]]
    expected = [str((release / w).resolve()) for w in m["wav"]]
    assert loaded["audio"].tolist() == expected
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in loaded["audio"])
    for dialog, utt, path in zip(loaded.dialog, loaded.id, loaded.audio, strict=True):
        assert Path(path).parts[-4:] == ("sentences", "wav", dialog, f"{utt}.wav")
        assert utt[:-5] == dialog
    for col in ("start", "end", "valence", "activation", "dominance"):
        np.testing.assert_allclose(loaded[col], m[col], atol=1e-4)
    assert set(loaded.loc[loaded.dialog.str.contains("impro"), "method"]) == {
        "improvised"
    }
    assert set(loaded.loc[loaded.dialog.str.contains("script"), "method"]) == {
        "scripted"
    }


def test_nested_and_parent_roots(tmp_path):
    inner = make_iemocap_fixture(tmp_path, n_sessions=2, nested=True)
    outer = tmp_path / "IEMOCAP_full_release"
    assert inner == outer / "IEMOCAP_full_release"
    frames = [load_iemocap(p) for p in (tmp_path, outer, inner, str(inner))]
    assert len(frames[0]) == 2 * 2 * 5
    for df in frames[1:]:
        pd.testing.assert_frame_equal(df, frames[0])


def test_sessions_argument(tree):
    root, _, _ = tree
    df = load_iemocap(root, sessions=[3, 1])
    assert sorted(df["session"].unique()) == [1, 3]
    assert len(df) == 20
    with pytest.raises(ValueError, match="Session"):
        load_iemocap(root, sessions=[6])


def test_root_without_sessions(tmp_path):
    (tmp_path / "IEMOCAP_full_release").mkdir()
    with pytest.raises(ValueError, match=r"Session1\.\.Session5"):
        load_iemocap(tmp_path)
    with pytest.raises(ValueError, match="Session1"):
        load_iemocap(tmp_path / "does-not-exist")


def test_bad_options(tree):
    root, _, _ = tree
    with pytest.raises(ValueError, match="labels"):
        load_iemocap(root, labels="five_class")
    with pytest.raises(ValueError, match="missing_audio"):
        load_iemocap(root, missing_audio="drop")
    with pytest.raises(ValueError, match="missing_text"):
        load_iemocap(root, missing_text="none")


def _kept_ids(manifest):
    return manifest.loc[manifest["label_raw"].isin(list(FOUR_CLASS)), "id"].tolist()


def test_missing_wav_raise_and_skip(small):
    root, release, manifest = small
    kept = _kept_ids(manifest)
    gone = kept[2]
    (release / manifest.set_index("id").loc[gone, "wav"]).unlink()
    # a missing wav of a dropped code does not matter for four_class
    dropped = manifest.loc[manifest["label_raw"] == "fru", "wav"].iloc[0]
    (release / dropped).unlink()

    with pytest.raises(ValueError, match=rf"1 wav file\(s\) missing: .*{gone}\.wav"):
        load_iemocap(root)
    with pytest.warns(UserWarning, match="Skipping 1 utterance"):
        df = load_iemocap(root, missing_audio="skip")
    assert len(df) == len(kept) - 1 and gone not in set(df["id"])
    # "ignore" does not check
    assert len(load_iemocap(root, missing_audio="ignore")) == len(kept)
    with pytest.raises(ValueError, match="2 wav file"):
        load_iemocap(root, labels="raw")


def test_missing_wav_message_is_short(small):
    root, release, manifest = small
    for rel in manifest["wav"]:
        (release / rel).unlink()
    with pytest.raises(ValueError) as info:
        load_iemocap(root)
    message = str(info.value)
    assert "10 in all" in message and message.count(".wav") == 3


def test_missing_transcript(small):
    root, release, manifest = small
    victim = _kept_ids(manifest)[3]
    path = release / "Session1" / "dialog" / "transcriptions"
    path = path / f"{victim[:-5]}.txt"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(x for x in lines if not x.startswith(victim)) + "\n")

    with pytest.raises(ValueError, match=rf"No transcript for 1 .*{victim}"):
        load_iemocap(root)
    with pytest.warns(UserWarning, match=victim):
        df = load_iemocap(root, missing_text="empty")
    row = df.set_index("id").loc[victim]
    assert row["text"] == "" and row["text_raw"] == ""
    with pytest.warns(UserWarning):
        df = load_iemocap(root, missing_text="skip")
    assert victim not in set(df["id"]) and len(df) == 9


def test_appledouble_and_subfolders_would_change_result(small):
    """Sanity check of the decoys: reading them naively gives other rows."""
    _, release, _ = small
    emo = release / "Session1" / "dialog" / "EmoEvaluation"
    first = re.compile(r"^\[(\d+\.\d+) - (\d+\.\d+)\]\t(\S+)\t(\S+)\t\[(.+)\]$")
    naive = set()
    for p in emo.rglob("*.txt"):
        text = p.read_text(errors="replace")
        naive |= {m.group(3) for line in text.splitlines() if (m := first.match(line))}
    assert {i for i in naive if re.search(r"_(F900|M901|F902|M903)$", i)}


def test_duplicate_label_warns(small):
    root, release, manifest = small
    emo = release / "Session1" / "dialog" / "EmoEvaluation"
    a, b = sorted(p for p in emo.glob("Ses*.txt"))
    extra = "\n".join(a.read_text().splitlines()[2:8])
    b.write_text(b.read_text() + extra + "\n")
    with pytest.warns(UserWarning, match="more than once") as record:
        df = load_iemocap(root)
    assert df["id"].is_unique
    assert record[0].filename == __file__  # the caller, past validate_params


def _real_iemocap():
    data = shared_data_dir()
    if data is None:
        return None
    for name in ("IEMOCAP_full_release", "iemocap", "IEMOCAP"):
        if (data / name).is_dir():
            return data / name
    return None


@pytest.mark.shared_data
@pytest.mark.skipif(_real_iemocap() is None, reason="no IEMOCAP copy in shared data")
def test_real_iemocap_counts():
    df = load_iemocap(_real_iemocap(), missing_audio="ignore")
    assert len(df) == 5531
    assert df["label"].value_counts().to_dict() == {
        "neutral": 1708,
        "happy": 1636,
        "angry": 1103,
        "sad": 1084,
    }
    assert df["speaker"].nunique() == 10


def test_fixture_copy_is_independent(tmp_path, tree):
    """Loading a copied tree gives paths under the copy (absolute, resolved)."""
    _, release, _ = tree
    shutil.copytree(release, tmp_path / "IEMOCAP_full_release")
    df = load_iemocap(tmp_path)
    assert all(p.startswith(str(tmp_path.resolve())) for p in df["audio"])

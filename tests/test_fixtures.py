"""The IEMOCAP fixture writer: layout, formats, determinism, audio hook."""

import hashlib
import re

import numpy as np
import pytest
import soundfile as sf

from sklearn_hser.datasets.fixtures import (
    FIXTURE_CODES,
    make_iemocap_fixture,
    read_iemocap_fixture_manifest,
)

HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("iemocap")
    release = make_iemocap_fixture(root, seed=3)
    return root, release


def test_returned_path_and_manifest(tree):
    root, release = tree
    assert release == root / "IEMOCAP_full_release"
    assert sorted(p.name for p in release.iterdir()) == [
        f"Session{n}" for n in range(1, 6)
    ]
    manifest = read_iemocap_fixture_manifest(root)
    assert len(manifest) == 5 * 2 * 8
    assert manifest["id"].is_unique
    # every speaker has every code once with n_per_speaker=8
    per_speaker = manifest.groupby(["session", "gender"])["label_raw"].agg(sorted)
    assert all(codes == sorted(FIXTURE_CODES) for codes in per_speaker)


def test_dialogs_mix_genders_and_differ_from_dialog_letter(tree):
    root, _ = tree
    manifest = read_iemocap_fixture_manifest(root)
    for dialog, group in manifest.groupby("dialog"):
        assert set(group["gender"]) == {"F", "M"}, dialog
        assert re.fullmatch(r"Ses0\d[FM]_(impro01|script01_1)", dialog)
    # e.g. a female speaker in a dialog named Ses01M_...
    assert "Ses01M_script01_1_F000" in set(manifest["id"])


def test_wav_files_are_16k_mono_pcm16(tree):
    root, release = tree
    manifest = read_iemocap_fixture_manifest(root)
    for rel in manifest["wav"]:
        info = sf.info(str(release / rel))
        assert info.samplerate == 16000
        assert info.channels == 1
        assert info.subtype == "PCM_16"
        assert 0.3 <= info.duration <= 1.0
    n_wavs = sum(
        1
        for p in release.glob("Session*/sentences/wav/*/*.wav")
        if not p.name.startswith("._")
    )
    assert n_wavs == len(manifest)
    # the times in the label files match the audio lengths
    durations = manifest["end"] - manifest["start"]
    lengths = [sf.info(str(release / r)).duration for r in manifest["wav"]]
    np.testing.assert_allclose(durations, lengths, atol=2e-4)


def test_label_and_transcript_files_follow_the_release_format(tree):
    _, release = tree
    emo_dir = release / "Session2" / "dialog" / "EmoEvaluation"
    text = (emo_dir / "Ses02F_impro01.txt").read_text()
    lines = text.split("\n")
    assert lines[0] == HEADER and lines[1] == ""
    first = re.compile(r"^\[(\d+\.\d+) - (\d+\.\d+)\]\t(\S+)\t(\S+)\t\[(.+)\]$")
    blocks = [b for b in text.split("\n\n")[1:] if b.strip()]
    assert len(blocks) == 8
    for block in blocks:
        head, *votes = block.strip("\n").split("\n")
        assert first.match(head), head
        assert votes and all(re.match(r"^[CA]-[EFP]\d:\t", v) for v in votes)
    for sub in ("Attribute", "Categorical", "Self-evaluation"):
        assert any((emo_dir / sub).iterdir())
    assert (emo_dir / "._Ses02F_impro01.txt").is_file()

    trans = release / "Session2" / "dialog" / "transcriptions"
    lines = (trans / "Ses02M_script01_1.txt").read_text().splitlines()
    assert "M: hello" in lines
    utt = re.compile(r"^(\S+)\s+\[(\d{3}\.\d{4})-(\d{3}\.\d{4})\]:\s*(.*)$")
    assert sum(bool(utt.match(line)) for line in lines) == 8 + 1  # + the MXX0 turn
    assert (trans / "._Ses02M_script01_1.txt").is_file()
    assert any("[LAUGHTER]" in line for line in lines)


def _digest(release):
    h = hashlib.sha256()
    for p in sorted(release.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(release)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_deterministic_from_seed(tmp_path):
    a = make_iemocap_fixture(tmp_path / "a", n_sessions=1, seed=7)
    b = make_iemocap_fixture(tmp_path / "b", n_sessions=1, seed=7)
    c = make_iemocap_fixture(tmp_path / "c", n_sessions=1, seed=8)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)
    # the label layout does not depend on the seed
    ma = read_iemocap_fixture_manifest(tmp_path / "a")
    mc = read_iemocap_fixture_manifest(tmp_path / "c")
    assert ma["id"].tolist() == mc["id"].tolist()
    assert ma["label_raw"].tolist() == mc["label_raw"].tolist()


def test_audio_hook_receives_labels_and_is_written(tmp_path):
    calls = []

    def audio(label, index, rng):
        calls.append((label, index))
        assert isinstance(rng, np.random.Generator)
        return np.full(1600 + index, 0.25, dtype=np.float32)

    release = make_iemocap_fixture(
        tmp_path, n_sessions=1, n_per_speaker=8, audio=audio, nested=True
    )
    assert release == tmp_path / "IEMOCAP_full_release" / "IEMOCAP_full_release"
    manifest = read_iemocap_fixture_manifest(tmp_path)
    assert [i for _, i in calls] == list(range(len(manifest)))
    mapping = {"neu": "neutral", "hap": "happy", "exc": "happy", "sad": "sad"}
    mapping["ang"] = "angry"
    expected = [mapping.get(c, c) for c in manifest["label_raw"]]
    assert [label for label, _ in calls] == expected
    assert {"fru", "xxx", "sur"} <= {label for label, _ in calls}
    wave, sr = sf.read(str(release / manifest["wav"][5]), dtype="float32")
    assert sr == 16000 and wave.shape == (1605,)
    np.testing.assert_allclose(wave, 0.25, atol=1e-4)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="1-D"):
        make_iemocap_fixture(
            tmp_path / "x", n_sessions=1, audio=lambda *a: np.zeros((10, 2))
        )
    with pytest.raises(ValueError, match="n_sessions"):
        make_iemocap_fixture(tmp_path / "y", n_sessions=6)
    make_iemocap_fixture(tmp_path / "z", n_sessions=1, n_per_speaker=1)
    with pytest.raises(FileExistsError):
        make_iemocap_fixture(tmp_path / "z", n_sessions=1)

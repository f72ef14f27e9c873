"""The content-addressed feature cache."""

import shutil

import numpy as np
import pytest

from sklearn_hser.features import MFCC, HandcraftedFeatures


def _forbid_extraction(monkeypatch, cls):
    def fail(self, value):
        raise AssertionError("features were recomputed instead of read from cache")

    monkeypatch.setattr(cls, "_extract_one", fail)


def test_second_run_reads_the_cache(tmp_path, wav_files, waveforms, monkeypatch):
    cache = tmp_path / "cache"
    first = MFCC(cache_dir=cache).transform(wav_files + waveforms)
    _forbid_extraction(monkeypatch, MFCC)
    # n_jobs is not part of the key: a parallel run reuses a serial run's cache.
    second = MFCC(cache_dir=cache, n_jobs=2).transform(wav_files + waveforms)
    np.testing.assert_array_equal(first, second)


def test_key_follows_content_not_name(tmp_path, wav_files, monkeypatch):
    cache = tmp_path / "cache"
    expected = MFCC(cache_dir=cache).transform(wav_files[:1])
    renamed = tmp_path / "renamed.wav"
    shutil.copy(wav_files[0], renamed)
    calls = []
    original = MFCC._extract_one

    def counting(self, value):
        calls.append(1)
        return original(self, value)

    monkeypatch.setattr(MFCC, "_extract_one", counting)
    np.testing.assert_array_equal(
        MFCC(cache_dir=cache).transform([str(renamed)]), expected
    )
    assert calls == []
    # Edited content misses the cache.
    with open(renamed, "r+b") as f:
        f.seek(-200, 2)
        f.write(b"\x10" * 200)
    MFCC(cache_dir=cache).transform([str(renamed)])
    assert calls == [1]


def test_parameters_are_part_of_the_key(tmp_path, waveforms):
    cache = tmp_path / "cache"
    a = MFCC(cache_dir=cache).transform(waveforms)
    b = MFCC(cache_dir=cache, n_mfcc=20).transform(waveforms)
    assert a.shape == (5, 39) and b.shape == (5, 60)
    c = HandcraftedFeatures(cache_dir=cache).transform(waveforms)
    d = HandcraftedFeatures(cache_dir=cache, silence_threshold=0.8).transform(waveforms)
    assert not np.allclose(c[:, 4], d[:, 4])


def test_corrupt_cache_entry_is_recomputed(tmp_path, waveforms):
    cache = tmp_path / "cache"
    expected = MFCC(cache_dir=cache).transform(waveforms)
    for entry in cache.rglob("*.npy"):
        entry.write_bytes(b"truncated")
    np.testing.assert_array_equal(MFCC(cache_dir=cache).transform(waveforms), expected)


def test_missing_file_with_cache_names_the_file(tmp_path):
    from sklearn_hser.features import AudioInputError

    with pytest.raises(AudioInputError, match="gone.wav"):
        MFCC(cache_dir=tmp_path).transform([str(tmp_path / "gone.wav")])

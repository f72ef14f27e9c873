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
    entries = list(cache.rglob("*.feat"))
    assert len(entries) == len(waveforms)
    for entry in entries:
        entry.write_bytes(b"truncated")
    np.testing.assert_array_equal(MFCC(cache_dir=cache).transform(waveforms), expected)


def test_missing_file_with_cache_names_the_file(tmp_path):
    from sklearn_hser.features import AudioInputError

    with pytest.raises(AudioInputError, match="gone.wav"):
        MFCC(cache_dir=tmp_path).transform([str(tmp_path / "gone.wav")])


def _entries(cache):
    entries = sorted(cache.rglob("*.feat"))
    assert entries
    return entries


def _flip_bytes(path):
    data = bytearray(path.read_bytes())
    for i in range(-40, -20):
        data[i] ^= 0xFF  # inside the float data, far from the header
    path.write_bytes(bytes(data))


def _write_npy(path, array):
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    path.write_bytes(buffer.getvalue())


@pytest.mark.parametrize(
    "corrupt",
    [
        _flip_bytes,
        lambda p: _write_npy(p, np.zeros((3, 7), np.float32)),  # valid, wrong shape
        lambda p: _write_npy(p, np.full(39, np.nan, np.float32)),  # NaN features
        lambda p: p.write_bytes(p.read_bytes()[:-10]),  # truncated
    ],
    ids=["flipped-bytes", "foreign-npy", "nan-npy", "truncated"],
)
def test_damaged_entry_is_recomputed_not_returned(tmp_path, waveforms, corrupt):
    cache = tmp_path / "cache"
    expected = MFCC(cache_dir=cache).transform(waveforms)
    damaged = _entries(cache)[0]
    corrupt(damaged)
    again = MFCC(cache_dir=cache).transform(waveforms)
    np.testing.assert_array_equal(again, expected)
    # The entry was rewritten intact: a third run reads it back unchanged.
    from sklearn_hser.features._cache import _decode

    assert _decode(damaged.read_bytes()) is not None


def test_cache_size_limit_evicts_least_recently_used(tmp_path, waveforms, monkeypatch):
    from sklearn_hser.features import cache_info

    cache = tmp_path / "cache"
    MFCC(cache_dir=cache).transform(waveforms[:1])
    one_entry = cache_info(cache)["n_bytes"]
    monkeypatch.setenv("HSER_CACHE_MAX_BYTES", str(3 * one_entry))
    MFCC(cache_dir=cache).transform(waveforms)
    info = cache_info(cache)
    assert info["max_bytes"] == 3 * one_entry
    assert info["n_bytes"] <= 3 * one_entry and info["n_entries"] == 3


def test_bad_size_limit_is_a_clear_error(tmp_path, waveforms, monkeypatch):
    monkeypatch.setenv("HSER_CACHE_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="HSER_CACHE_MAX_BYTES"):
        MFCC(cache_dir=tmp_path).transform(waveforms[:1])


def test_cache_info_and_clear(tmp_path, waveforms):
    from sklearn_hser.features import cache_info, clear_cache

    cache = tmp_path / "cache"
    MFCC(cache_dir=cache).transform(waveforms)
    HandcraftedFeatures(cache_dir=cache).transform(waveforms[:2])
    (cache / "notes.txt").write_text("not a cache entry")
    info = cache_info(cache)
    assert info["n_entries"] == len(waveforms) + 2
    assert sorted(ns["n_entries"] for ns in info["namespaces"].values()) == [2, 5]
    assert clear_cache(cache) == len(waveforms) + 2
    assert cache_info(cache)["n_entries"] == 0
    assert (cache / "notes.txt").read_text() == "not a cache entry"
    assert [p.name for p in cache.iterdir()] == ["notes.txt"]  # folders removed


def test_clearing_a_folder_keeps_what_is_not_the_caches(tmp_path, waveforms):
    from sklearn_hser.features import cache_info, clear_cache

    project = tmp_path / "project"
    for folder in ("data/raw", "src/package", "notes"):
        (project / folder).mkdir(parents=True)
    outside = tmp_path / "outside"
    MFCC(cache_dir=outside).transform(waveforms[:1])  # a cache elsewhere...
    (project / "link").symlink_to(outside)  # ... linked from the project
    assert cache_info(project)["n_entries"] == 0
    assert clear_cache(project) == 0
    for folder in ("data/raw", "src/package", "notes"):
        assert (project / folder).is_dir()  # empty, but not the cache's
    assert cache_info(outside)["n_entries"] == 1  # not reached through the link

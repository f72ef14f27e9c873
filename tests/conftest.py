"""Shared fixtures: short synthetic waveforms written in several formats."""

import numpy as np
import pytest
import soundfile as sf

SR = 16_000


def tone(seconds=1.0, f0=180.0, sr=SR, seed=0, amplitude=0.3):
    """A voiced-like test signal: a few harmonics plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    wave = sum(amplitude / k * np.sin(2 * np.pi * k * f0 * t) for k in range(1, 6))
    wave = wave * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))  # syllable-like envelope
    return (wave + rng.normal(0, 0.01, t.size)).astype(np.float32)


@pytest.fixture
def waveforms():
    """Five mono 16 kHz float32 waveforms of different lengths and pitches."""
    return [
        tone(seconds, f0, seed=i)
        for i, (seconds, f0) in enumerate(
            [(0.8, 120), (1.3, 210), (0.5, 300), (2.0, 160), (1.1, 250)]
        )
    ]


@pytest.fixture
def wav_files(tmp_path, waveforms):
    """The waveforms written as 16 kHz PCM16 WAV files; returns their paths."""
    paths = []
    for i, wave in enumerate(waveforms):
        path = tmp_path / f"utt{i}.wav"
        sf.write(path, wave, SR, subtype="PCM_16")
        paths.append(str(path))
    return paths

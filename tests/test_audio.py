"""Audio decoding: every accepted input form, and every rejected one."""

import numpy as np
import pytest
import soundfile as sf

from sklearn_hser.features import MFCC, AudioInputError, ClippedAudioWarning, load_audio
from sklearn_hser.features.audio import SAMPLING_RATE

from .conftest import tone


def test_path_at_other_rate_and_stereo_matches_librosa(tmp_path):
    import librosa

    left, right = tone(1.0, 150, sr=44_100, seed=1), tone(1.0, 230, sr=44_100, seed=2)
    path = tmp_path / "stereo.flac"
    sf.write(path, np.stack([left, right], axis=1), 44_100)
    decoded = load_audio(str(path))
    expected, _ = librosa.load(path, sr=SAMPLING_RATE, mono=True)
    assert decoded.dtype == np.float32
    assert decoded.shape == expected.shape == (SAMPLING_RATE,)
    np.testing.assert_allclose(decoded, expected, atol=1e-4)


def test_array_forms_agree():
    wave = tone(0.5, 200, sr=8_000)
    as_tuple = load_audio((wave, 8_000))
    as_dict = load_audio({"array": wave, "sampling_rate": 8_000})
    np.testing.assert_array_equal(as_tuple, as_dict)
    assert as_tuple.shape == (8_000,)  # 0.5 s at 16 kHz
    same_rate = tone(0.5, 200)
    np.testing.assert_array_equal(load_audio(same_rate), same_rate)
    np.testing.assert_array_equal(load_audio(list(same_rate[:10])), same_rate[:10])


def test_integer_pcm_is_scaled_and_channels_first_is_averaged():
    pcm = np.array([0, 16384, -32768, 32767], dtype=np.int16)
    np.testing.assert_allclose(load_audio(pcm), [0, 0.5, -1, 32767 / 32768])
    stereo = np.array([[0.2, 0.4, 0.6], [0.0, 0.0, 0.2]], dtype=np.float32)
    np.testing.assert_allclose(load_audio(stereo), [0.1, 0.2, 0.4])


@pytest.mark.parametrize(
    "item, message",
    [
        (np.array([], dtype=np.float32), "empty audio"),
        (np.array([0.1, np.nan, 0.2], dtype=np.float32), "NaN"),
        (np.array([0.1, np.inf], dtype=np.float32), "NaN or infinite"),
        (np.zeros((2, 2, 2), dtype=np.float32), "1-D"),
        (np.zeros((16000, 2), dtype=np.float32), "channels"),
        ((np.zeros(10), 0), "sampling rate"),
        ({"array": np.zeros(10)}, "sampling_rate"),
        (np.array(["a", "b"]), "numbers"),
        (3.5, "expected a file path"),
    ],
)
def test_bad_arrays_raise_clear_errors(item, message):
    with pytest.raises(AudioInputError, match=message):
        load_audio(item)


def test_missing_and_corrupt_files_name_the_file(tmp_path):
    with pytest.raises(AudioInputError, match="not found") as info:
        load_audio(tmp_path / "nope.wav")
    assert "nope.wav" in str(info.value)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_text("this is not audio")
    with pytest.raises(AudioInputError, match="corrupt.wav.*not a readable audio"):
        load_audio(corrupt)
    # Through a transformer the error still names the file.
    with pytest.raises(AudioInputError, match="corrupt.wav"):
        MFCC().transform([str(corrupt)])


def test_audio_input_error_is_a_value_error():
    assert issubclass(AudioInputError, ValueError)


def test_clipped_audio_warns_but_is_processed():
    wave = np.clip(tone(1.0, 200, amplitude=3.0), -1, 1)
    with pytest.warns(ClippedAudioWarning, match="1 of 1"):
        features = MFCC().transform([wave])
    assert np.isfinite(features).all()


def test_silent_and_very_short_audio_give_finite_features():
    silent = np.zeros(SAMPLING_RATE, dtype=np.float32)
    blip = tone(0.005, 200)  # 80 samples, far below one analysis window
    features = MFCC().transform([silent, blip])
    assert np.isfinite(features).all()
    assert features.shape == (2, 39)

"""MFCC, handcrafted and GeMAPS features against direct library calls."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_hser._sequences import is_sequence_array
from sklearn_hser.features import MFCC, GeMAPS, HandcraftedFeatures
from sklearn_hser.features.handcrafted import FEATURE_NAMES

SR = 16_000


def test_mfcc_equals_librosa(wav_files):
    import librosa

    out = MFCC().fit_transform(wav_files)
    for path, row in zip(wav_files, out):
        y, _ = librosa.load(path, sr=SR)
        mfcc = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13)
        stacked = np.vstack(
            [mfcc, librosa.feature.delta(mfcc), librosa.feature.delta(mfcc, order=2)]
        )
        np.testing.assert_allclose(row, stacked.mean(axis=1), rtol=1e-5, atol=1e-4)


def test_mfcc_sequences_and_pooling_variants(waveforms):
    sequences = MFCC(pooling=None).fit_transform(waveforms)
    assert is_sequence_array(sequences)
    assert [s.shape[1] for s in sequences] == [39] * len(waveforms)
    # Longer audio, more frames (hop 512): frame counts follow the lengths.
    assert [len(s) for s in sequences] == [1 + len(w) // 512 for w in waveforms]
    pooled = MFCC().fit_transform(waveforms)
    np.testing.assert_allclose(
        pooled, np.stack([s.mean(0) for s in sequences]), rtol=1e-5, atol=1e-4
    )
    with_std = MFCC(pooling="mean+std", delta_order=0).fit_transform(waveforms)
    assert with_std.shape == (len(waveforms), 26)
    names = MFCC(pooling="mean+std", delta_order=0).get_feature_names_out()
    assert names[0] == "mfcc_0_mean" and names[-1] == "mfcc_12_std"


def _handcrafted_reference(y):
    """The eight features written out sample by sample, as first described."""
    import librosa

    y = y.astype(np.float64)
    abs_mean = np.mean(np.abs(y))
    rms = librosa.feature.rms(y=y)[0]
    silence = sum(1 for e in rms if e <= 0.4 * np.mean(rms)) / len(rms)
    harmonic = np.mean(librosa.effects.hpss(y)[0]) * 1000
    level = 0.45 * abs_mean
    clipped = []
    for s in y:  # the loop the transformer vectorises
        if s >= level:
            clipped.append(s - level)
        elif s <= -level:
            clipped.append(s + level)
        else:
            clipped.append(0.0)
    ac = librosa.autocorrelate(np.array(clipped))
    return [
        abs_mean,
        np.std(y),
        rms.mean(),
        rms.std(),
        silence,
        harmonic,
        1000 * ac.max() / len(ac),
        ac.std(),
    ]


def test_handcrafted_equals_reference(waveforms):
    out = HandcraftedFeatures().fit_transform(waveforms)
    assert out.shape == (len(waveforms), 8)
    assert list(HandcraftedFeatures().get_feature_names_out()) == list(FEATURE_NAMES)
    for wave, row in zip(waveforms, out):
        np.testing.assert_allclose(
            row, _handcrafted_reference(wave), rtol=1e-4, atol=1e-7
        )


def test_handcrafted_silence_ratio_responds_to_pauses():
    from .conftest import tone

    speech = tone(1.0, 200)
    with_pause = np.concatenate([speech, np.zeros(SR, dtype=np.float32)])
    ratios = HandcraftedFeatures().fit_transform([speech, with_pause])[:, 4]
    assert ratios[1] > ratios[0] + 0.3


@pytest.mark.parametrize("feature_set, n", [("GeMAPSv01b", 62), ("eGeMAPSv02", 88)])
def test_gemaps_equals_opensmile(wav_files, feature_set, n):
    import opensmile

    smile = opensmile.Smile(
        feature_set=getattr(opensmile.FeatureSet, feature_set),
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    out = GeMAPS(feature_set=feature_set).fit_transform(wav_files[:2])
    expected = np.vstack([smile.process_file(p).to_numpy() for p in wav_files[:2]])
    assert out.shape == (2, n)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert (
        list(GeMAPS(feature_set=feature_set).get_feature_names_out())
        == smile.feature_names
    )


def test_gemaps_lld_sequences(waveforms):
    out = GeMAPS(feature_level="lld").fit_transform(waveforms)
    assert is_sequence_array(out)
    assert {s.shape[1] for s in out} == {18}


def test_dataframe_column_selection_in_a_pipeline(waveforms):
    frame = pd.DataFrame({"audio": waveforms * 4, "text": ["hello"] * 20})
    y = np.array(["neutral", "angry"] * 10)
    pipe = make_pipeline(
        MFCC(column="audio"), StandardScaler(), LogisticRegression(max_iter=200)
    )
    pipe.fit(frame, y)
    assert pipe.predict(frame).shape == (20,)
    with pytest.raises(ValueError, match="column 'speech' not found"):
        MFCC(column="speech").fit(frame)
    with pytest.raises(ValueError, match="set column="):
        MFCC().fit(frame)


def test_set_output_pandas_keeps_feature_names(waveforms):
    out = HandcraftedFeatures().set_output(transform="pandas").fit_transform(waveforms)
    assert list(out.columns) == list(FEATURE_NAMES)


def test_parallel_extraction_equals_serial(wav_files):
    serial = MFCC(n_jobs=1).transform(wav_files)
    parallel = MFCC(n_jobs=2).transform(wav_files)
    # Same computation in other processes: equal up to float32 rounding.
    np.testing.assert_allclose(serial, parallel, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize(
    "extractor",
    [
        MFCC(n_mfcc=0),
        MFCC(pooling="median"),
        MFCC(delta_order=3),
        HandcraftedFeatures(clip_level=-1),
        GeMAPS(feature_set="ComParE"),
        GeMAPS(feature_level="frames"),
    ],
)
def test_bad_parameters_raise_value_error(extractor, waveforms):
    with pytest.raises(ValueError):
        extractor.fit_transform(waveforms)


def test_empty_input_raises():
    with pytest.raises(ValueError, match="0 samples"):
        MFCC().fit_transform([])


def test_parameters_are_validated_declaratively_and_can_be_skipped():
    import sklearn
    from sklearn.utils._param_validation import InvalidParameterError

    wave = [np.zeros(4000, dtype=np.float32)]
    for bad in (
        MFCC(pooling="max"),
        MFCC(n_mfcc=0),
        HandcraftedFeatures(clip_level=-1),
    ):
        with pytest.raises(InvalidParameterError):
            bad.fit(wave)
        with pytest.raises(InvalidParameterError):
            bad.transform(wave)
    # Skipping validation skips it: a refused (but computable) value passes.
    with sklearn.config_context(skip_parameter_validation=True):
        unchecked = HandcraftedFeatures(clip_level=-1)
        assert unchecked.fit_transform(wave).shape == (1, len(FEATURE_NAMES))


def test_set_output_pandas_on_pooled_and_refused_on_sequences():
    wave = [np.zeros(4000, dtype=np.float32)] * 2
    frame = MFCC().set_output(transform="pandas").fit_transform(wave)
    assert list(frame.columns) == list(MFCC().get_feature_names_out())
    with pytest.raises(ValueError, match="variable-length"):
        MFCC(pooling=None).set_output(transform="pandas")
    later = MFCC().set_output(transform="pandas").set_params(pooling=None)
    with pytest.raises(ValueError, match="variable-length"):
        later.transform(wave)

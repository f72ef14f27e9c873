"""Speech-encoder embeddings: wav2vec2-family checkpoints and WakeHuBERT-tiny."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pickle  # noqa: E402
import shutil  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

import sklearn_hser.features.speech_encoder as se  # noqa: E402
from sklearn_hser._sequences import is_sequence_array  # noqa: E402
from sklearn_hser.features import (  # noqa: E402
    AudioInputError,
    ClippedAudioWarning,
    SpeechEncoderEmbeddings,
    WakeHuBERTEmbeddings,
)

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from sklearn_hser.models._tiny import save_tiny_wav2vec2  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # Tiny models run as many small ops; on a busy 2-core machine torch's
    # thread pool then waits on descheduled threads (measured 30-60x slower
    # than one thread). Restored afterwards for the other test modules.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


#: Lengths in samples: shorter than the receptive field (400), one frame, a
#: few frames, and two of the same length.
LENGTHS = [120, 400, 5000, 8000, 8000, 11111]


@pytest.fixture(scope="module")
def waves():
    rng = np.random.default_rng(0)
    return [rng.normal(0, 0.1, n).astype(np.float32) for n in LENGTHS]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Tiny wav2vec2 folders: group-norm (like wav2vec2-base), layer-norm
    (like wav2vec2-large-lv60), CTC (like wav2vec2-base-960h)."""
    root = tmp_path_factory.mktemp("w2v")
    return {
        "group": save_tiny_wav2vec2(root / "group"),
        "layer": save_tiny_wav2vec2(root / "layer", feat_extract_norm="layer"),
        "ctc": save_tiny_wav2vec2(root / "ctc", ctc=True, seed=3),
    }


def _n_frames(n):
    return (max(n, 400) - 400) // 320 + 1


def _direct(path, wave, layer=-1):
    """Frames computed with transformers directly, one utterance alone."""
    from transformers import AutoFeatureExtractor, AutoModel

    fe = AutoFeatureExtractor.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    inputs = fe(wave, sampling_rate=16000, return_tensors="pt")
    with torch.inference_mode():
        out = model(inputs["input_values"], output_hidden_states=True)
    return out.hidden_states[layer][0].numpy()


# -- SpeechEncoderEmbeddings ---------------------------------------------------
@pytest.mark.parametrize("layer", [-1, 0, 1])
def test_equals_feature_extractor_plus_model(models, waves, layer):
    path = models["group"]
    emb = SpeechEncoderEmbeddings(path, layer=layer, pooling=None)
    X = emb.fit_transform(waves[1:4])
    assert is_sequence_array(X)
    for wave, seq in zip(waves[1:4], X, strict=True):
        direct = _direct(path, wave, layer)
        assert seq.shape == (_n_frames(len(wave)), 32) == direct.shape
        np.testing.assert_allclose(seq, direct, atol=1e-5)
    pooled = SpeechEncoderEmbeddings(path, layer=layer).transform(waves[1:4])
    assert pooled.shape == (3, 32) and pooled.dtype == np.float32
    np.testing.assert_allclose(pooled, np.stack([s.mean(axis=0) for s in X]), atol=1e-6)


@pytest.mark.parametrize("norm", ["group", "layer"])
def test_batched_mean_equals_each_utterance_alone(models, waves, norm):
    path = models[norm]
    batched = SpeechEncoderEmbeddings(path, batch_size=8).transform(waves)
    alone = np.vstack([SpeechEncoderEmbeddings(path).transform([w]) for w in waves])
    assert batched.shape == (len(waves), 32)
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    seqs = SpeechEncoderEmbeddings(path, pooling=None, batch_size=8).transform(waves)
    assert [len(s) for s in seqs] == [_n_frames(n) for n in LENGTHS]


def test_padding_would_leak_without_the_safeguards(models, waves):
    # The test above is meaningful: feeding a padded batch naively changes the
    # short utterance's frames for both kinds of normalisation.
    for norm in ("group", "layer"):
        encoder = se._load_encoder(models[norm].resolve(), "cpu")
        short, long = (
            se.SpeechEncoderEmbeddings(models[norm])._prepare(w, 400, True)
            for w in (waves[2], waves[5])
        )
        padded = np.zeros((2, len(long)), np.float32)
        padded[0, : len(short)], padded[1] = short, long
        with torch.inference_mode():
            naive = encoder.model(torch.from_numpy(padded)).last_hidden_state[0].numpy()
        proper = encoder.forward([short], -1)[0]
        assert np.abs(naive[: len(proper)] - proper).max() > 1e-3


def test_ctc_checkpoint_gives_the_encoder_output(models, waves, tmp_path):
    from transformers import Wav2Vec2ForCTC

    ctc = Wav2Vec2ForCTC.from_pretrained(models["ctc"], local_files_only=True)
    base = tmp_path / "base"
    ctc.wav2vec2.save_pretrained(base)  # the same weights, without the CTC head
    shutil.copy(models["ctc"] / "preprocessor_config.json", base)
    a = SpeechEncoderEmbeddings(models["ctc"], pooling=None).transform(waves)
    b = SpeechEncoderEmbeddings(base, pooling=None).transform(waves)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    # ... and not the output of another random model.
    other = SpeechEncoderEmbeddings(models["group"]).transform(waves)
    assert not np.allclose(np.stack([s.mean(axis=0) for s in a]), other)


def test_short_audio_is_padded_to_the_receptive_field(models):
    emb = SpeechEncoderEmbeddings(models["group"], pooling=None)
    rng = np.random.default_rng(1)
    for n in (1, 100, 399):
        wave = rng.normal(0, 0.1, n).astype(np.float32)
        seq = emb.transform([wave])[0]
        assert seq.shape == (1, 32)
        np.testing.assert_array_equal(
            seq, emb.transform([np.pad(wave, (0, 400 - n))])[0]
        )


def test_normalisation(models, waves, tmp_path):
    path = models["group"]
    bare = tmp_path / "bare"
    shutil.copytree(path, bare)
    (bare / "preprocessor_config.json").unlink()
    with_fe = SpeechEncoderEmbeddings(path).transform(waves)
    # Without a preprocessor config, wav2vec2's normalisation is applied too.
    np.testing.assert_allclose(
        SpeechEncoderEmbeddings(bare).transform(waves), with_fe, atol=1e-6
    )
    # Normalised input: the gain of the recording does not matter.
    louder = [3 * w for w in waves]
    np.testing.assert_allclose(
        SpeechEncoderEmbeddings(path).transform(louder), with_fe, atol=1e-4
    )
    raw = SpeechEncoderEmbeddings(path, normalize=False).transform(waves)
    assert not np.allclose(raw, with_fe, atol=1e-3)


def test_max_duration_crops(models, waves):
    emb = SpeechEncoderEmbeddings(models["layer"], max_duration=0.25)
    np.testing.assert_allclose(
        emb.transform([waves[5]]),
        SpeechEncoderEmbeddings(models["layer"]).transform([waves[5][:4000]]),
        atol=1e-6,
    )


def test_bad_audio_raises_the_package_error(models):
    emb = SpeechEncoderEmbeddings(models["group"])
    with pytest.raises(AudioInputError, match="NaN"):
        emb.transform([np.array([0.1, np.nan, 0.2] * 200, dtype=np.float32)])
    with pytest.raises(AudioInputError, match="empty"):
        emb.transform([np.zeros(0, dtype=np.float32)])


def test_cache_hit_does_not_run_the_model(models, waves, tmp_path, monkeypatch):
    calls = []
    original = se._Encoder.forward

    def counting(self, batch, layer):
        calls.append(len(batch))
        return original(self, batch, layer)

    monkeypatch.setattr(se._Encoder, "forward", counting)
    cache = tmp_path / "cache"
    first = SpeechEncoderEmbeddings(models["layer"], cache_dir=cache).transform(waves)
    assert sum(calls) == len(waves)
    calls.clear()
    again = SpeechEncoderEmbeddings(models["layer"], cache_dir=cache, batch_size=2)
    np.testing.assert_array_equal(again.transform(waves), first)
    assert calls == []
    SpeechEncoderEmbeddings(models["layer"], cache_dir=cache, layer=1).transform(waves)
    assert sum(calls) == len(waves)  # another layer misses the cache


def test_failing_item_is_named_and_earlier_batches_stay_cached(
    models, waves, tmp_path, monkeypatch
):
    original = se._Encoder.forward
    calls = []

    def fragile(self, batch, layer):
        if any(len(w) == 5000 for w in batch):  # waves[2]
            raise RuntimeError("boom")
        calls.append(len(batch))
        return original(self, batch, layer)

    monkeypatch.setattr(se._Encoder, "forward", fragile)
    cache = tmp_path / "cache"
    emb = SpeechEncoderEmbeddings(models["layer"], batch_size=2, cache_dir=cache)
    # Batches of two in input order: [0, 1] succeeds, [2, 3] fails; the retry
    # one item at a time names the culprit.
    with pytest.raises(ValueError, match="ndarray input at position 2: boom"):
        emb.transform(waves)
    assert calls == [2]
    emb.transform([waves[0], waves[1]])  # cached by the failed run
    assert calls == [2]


def test_clone_and_pickle_stay_small(models, waves):
    emb = SpeechEncoderEmbeddings(models["group"], layer=1, batch_size=2)
    before = pickle.dumps(emb)
    X = emb.fit_transform(waves)
    after = pickle.dumps(emb)
    assert len(before) < 2000 and len(after) < 2000  # no model inside
    np.testing.assert_array_equal(pickle.loads(after).transform(waves), X)
    cloned = clone(emb)
    assert cloned.get_params() == emb.get_params()
    np.testing.assert_array_equal(cloned.transform(waves), X)


def test_parameter_and_path_errors(models, tmp_path):
    with pytest.raises(ValueError, match="needs model_path"):
        SpeechEncoderEmbeddings().fit([np.zeros(800)])
    with pytest.raises(ValueError, match="never downloaded"):
        SpeechEncoderEmbeddings("facebook/wav2vec2-base").fit([np.zeros(800)])
    with pytest.raises(ValueError, match="layer=3 is out of range"):
        SpeechEncoderEmbeddings(models["group"], layer=3).fit([np.zeros(800)])
    for bad in (
        {"pooling": "max"},
        {"normalize": "yes"},
        {"max_duration": 0},
        {"batch_size": 0},
        {"layer": "last"},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            SpeechEncoderEmbeddings(models["group"], **bad).fit([np.zeros(800)])


def test_text_model_is_rejected(tmp_path):
    from transformers import BertConfig, BertModel

    BertModel(
        BertConfig(
            vocab_size=10,
            hidden_size=8,
            num_hidden_layers=1,
            num_attention_heads=1,
            intermediate_size=8,
        )
    ).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="input_values"):
        SpeechEncoderEmbeddings(tmp_path).transform([np.zeros(800)])


@pytest.mark.parametrize("norm", ["group", "layer"])
def test_sklearn_estimator_checks(models, norm):
    with warnings.catch_warnings():
        # The checks feed random data beyond [-1, 1]: clipped "audio".
        warnings.simplefilter("ignore", ClippedAudioWarning)
        check_estimator(SpeechEncoderEmbeddings(str(models[norm])))


# -- WakeHuBERTEmbeddings --------------------------------------------------------
@pytest.fixture(scope="module")
def wakehubert():
    pytest.importorskip("onnxruntime")
    try:
        path = se.wakehubert_model_path()
    except ImportError:
        pytest.skip("ovos-ww-plugin-wakeforge is not installed")
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_wakehubert_equals_onnxruntime(wakehubert, waves):
    seqs = WakeHuBERTEmbeddings(pooling=None).fit_transform(waves[1:])
    pooled = WakeHuBERTEmbeddings().transform(waves[1:])
    assert pooled.shape == (5, 128) and pooled.dtype == np.float32
    for wave, seq, mean in zip(waves[1:], seqs, pooled, strict=True):
        direct = wakehubert.run(None, {"waveform": wave[None]})[0][0]
        assert seq.shape == (len(wave) // 320, 128) == direct.shape
        np.testing.assert_allclose(seq, direct, atol=1e-6)
        np.testing.assert_allclose(mean, direct.mean(axis=0), atol=1e-6)
    names = WakeHuBERTEmbeddings().get_feature_names_out()
    assert len(names) == 128 and names[0] == "wakehubert_0_mean"


def test_wakehubert_short_audio_is_padded(wakehubert, waves):
    short = waves[0][:100]
    seq = WakeHuBERTEmbeddings(pooling=None).transform([short])[0]
    assert seq.shape == (1, 128)
    padded = np.pad(short, (0, 220))
    np.testing.assert_allclose(
        seq, wakehubert.run(None, {"waveform": padded[None]})[0][0]
    )


def test_wakehubert_parallel_cache_and_pickle(wakehubert, waves, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    serial = WakeHuBERTEmbeddings().transform(waves)
    parallel = WakeHuBERTEmbeddings(n_jobs=2, cache_dir=cache).transform(waves)
    np.testing.assert_allclose(parallel, serial, atol=1e-6)

    def fail(*args, **kwargs):
        raise AssertionError("the model ran despite the cache")

    monkeypatch.setattr(se, "_wakehubert_session", fail)
    emb = WakeHuBERTEmbeddings(cache_dir=cache)
    np.testing.assert_array_equal(emb.transform(waves), parallel)
    assert len(pickle.dumps(emb)) < 1000
    with pytest.raises(AudioInputError, match="NaN"):
        WakeHuBERTEmbeddings().transform([np.full(800, np.nan, dtype=np.float32)])


def test_wakehubert_missing_package_is_explained(monkeypatch):
    monkeypatch.setattr(se, "_WAKEFORGE", "no_such_package_for_wakehubert")
    with pytest.raises(ImportError, match="--no-deps"):
        WakeHuBERTEmbeddings().transform([np.zeros(800, dtype=np.float32)])


def test_wakehubert_sklearn_estimator_checks(wakehubert):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClippedAudioWarning)
        check_estimator(WakeHuBERTEmbeddings())


@pytest.mark.parametrize(
    "extractor, X",
    [
        ("SpeechEncoderEmbeddings", [np.zeros(1600, dtype=np.float32)]),
        ("WhisperEmbeddings", [np.zeros(1600, dtype=np.float32)]),
        ("BertTokenEmbeddings", ["some words"]),
    ],
)
def test_pretrained_extractors_check_the_device_before_the_model(extractor, X):
    from sklearn_hser import features

    # PretrainedExtractor's check: before the (here missing) model is read.
    est = getattr(features, extractor)(model_path="/no/such/model", device="")
    with pytest.raises(ValueError, match="torch device string"):
        est.fit(X)

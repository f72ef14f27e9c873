"""Tests of sklearn_hser.models.Wav2Vec2Classifier, with tiny random checkpoints."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from sklearn_hser.features.audio import AudioInputError
from sklearn_hser.models import Wav2Vec2Classifier
from sklearn_hser.models._tiny import save_tiny_wav2vec2
from sklearn_hser.models.wav2vec2 import Wav2Vec2Module, Wav2Vec2Net, masked_mean

#: No dropout anywhere: training is a deterministic function of the data.
NO_DROPOUT = dict(
    hidden_dropout=0.0,
    attention_dropout=0.0,
    activation_dropout=0.0,
    feat_proj_dropout=0.0,
    final_dropout=0.0,
)
FAST = dict(batch_size=4, max_epochs=2, max_duration=0.5, lr=1e-3, random_state=0)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A group-norm checkpoint, like wav2vec2-base."""
    return save_tiny_wav2vec2(tmp_path_factory.mktemp("w2v") / "base")


@pytest.fixture(scope="module")
def tiny_ctc(tmp_path_factory):
    """A CTC checkpoint, like wav2vec2-base-960h."""
    return save_tiny_wav2vec2(tmp_path_factory.mktemp("w2v") / "ctc", ctc=True, seed=1)


@pytest.fixture(scope="module")
def tiny_layer(tmp_path_factory):
    """A layer-norm checkpoint (uses attention masks), without dropout."""
    return save_tiny_wav2vec2(
        tmp_path_factory.mktemp("w2v") / "layer",
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
        **NO_DROPOUT,
    )


@pytest.fixture(scope="module")
def tiny_no_dropout(tmp_path_factory):
    return save_tiny_wav2vec2(tmp_path_factory.mktemp("w2v") / "nodrop", **NO_DROPOUT)


def _waves(n=12, seed=0, low=2000, high=12000):
    """Random waveforms of 0.125-0.75 s; class "high" is louder and brighter."""
    rng = np.random.default_rng(seed)
    y = np.array(["low", "high"] * (n // 2))
    t = np.arange(high) / 16000
    waves = []
    for label in y:
        length = int(rng.integers(low, high))
        freq = 2000.0 if label == "high" else 200.0
        tone = np.sin(2 * np.pi * freq * t[:length])
        waves.append((0.3 * tone + rng.normal(0, 0.05, length)).astype(np.float32))
    return waves, y


def _encoder_state(path):
    return {
        k: v.clone()
        for k, v in Wav2Vec2Module(str(path), 2).encoder.state_dict().items()
    }


def test_fit_predict_on_waveforms(tiny):
    X, y = _waves()
    clf = Wav2Vec2Classifier(model_path=tiny, **FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (12, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert set(clf.predict(X)) <= {"high", "low"}
    np.testing.assert_array_equal(clf.classes_, ["high", "low"])
    assert clf.n_iter_ == 2
    assert clf.net_.optimizer_steps_ == 6  # 3 batches x 2 epochs
    # On CPU mixed precision is always off.
    assert clf.net_.amp_dtype is None


def test_fit_predict_on_files_and_dataframe(tiny, tmp_path):
    import soundfile as sf

    X, y = _waves(n=8)
    paths = []
    for i, wave in enumerate(X):
        paths.append(str(tmp_path / f"utt{i}.wav"))
        sf.write(paths[-1], wave, 16000)
    clf = Wav2Vec2Classifier(model_path=tiny, **FAST).fit(paths, y)
    from_files = clf.predict_proba(paths)
    # WAV stores 16-bit samples: close to, not exactly, the float waveforms.
    np.testing.assert_allclose(from_files, clf.predict_proba(X), atol=1e-3)
    frame = pd.DataFrame({"audio": paths, "text": ["..."] * len(paths)})
    by_column = Wav2Vec2Classifier(model_path=tiny, column="audio", **FAST)
    np.testing.assert_array_equal(
        by_column.fit(frame, y).predict_proba(frame), from_files
    )


def test_ctc_checkpoint_loads_encoder_and_drops_head(tiny_ctc):
    from transformers import Wav2Vec2ForCTC

    module = Wav2Vec2Module(str(tiny_ctc), 3)
    ctc = Wav2Vec2ForCTC.from_pretrained(tiny_ctc, local_files_only=True)
    expected = ctc.wav2vec2.state_dict()
    loaded = module.encoder.state_dict()
    assert loaded.keys() == expected.keys()
    for name, value in expected.items():
        torch.testing.assert_close(loaded[name], value, rtol=0, atol=0)
    assert not any("lm_head" in name for name, _ in module.named_parameters())

    X, y = _waves(n=8)
    clf = Wav2Vec2Classifier(model_path=tiny_ctc, **FAST).fit(X, y)
    assert clf.predict_proba(X).shape == (8, 2)


def test_feature_encoder_frozen_transformer_trained(tiny):
    before = _encoder_state(tiny)
    X, y = _waves(n=8)
    clf = Wav2Vec2Classifier(model_path=tiny, **FAST).fit(X, y)
    after = clf.net_.module_.encoder.state_dict()
    conv = [k for k in before if k.startswith("feature_extractor.")]
    blocks = [k for k in before if k.startswith("encoder.layers.")]
    assert conv and blocks
    for name in conv:
        torch.testing.assert_close(after[name], before[name], rtol=0, atol=0)
    assert all(not torch.equal(after[name], before[name]) for name in blocks)

    unfrozen = Wav2Vec2Classifier(model_path=tiny, freeze_feature_encoder=False, **FAST)
    after = unfrozen.fit(X, y).net_.module_.encoder.state_dict()
    assert any(not torch.equal(after[name], before[name]) for name in conv)


def test_padding_invariance_with_attention_mask(tiny_layer):
    X, y = _waves(n=8, high=6000)
    clf = Wav2Vec2Classifier(model_path=tiny_layer, **{**FAST, "max_duration": 1.0})
    clf.fit(X, y)
    assert clf.net_.module_.use_attention_mask
    rng = np.random.default_rng(5)
    short = X[0][:3000]
    longer = [rng.normal(0, 0.1, n).astype(np.float32) for n in (9000, 12000, 15000)]
    alone = clf.predict_proba([short])
    in_batch = clf.predict_proba([short, *longer])
    np.testing.assert_allclose(in_batch[0], alone[0], atol=1e-5)
    assert clf.predict([short])[0] == clf.predict([short, *longer])[0]

    # The module itself, in eval mode, on one zero-padded batch.
    module = clf.net_.module_.eval()
    padded = torch.zeros(2, 15000)
    padded[0, :3000] = torch.from_numpy((short - short.mean()) / short.std())
    padded[1] = torch.from_numpy(longer[2])
    with torch.no_grad():
        both = module(padded, torch.tensor([3000, 15000]))
        single = module(padded[:1, :3000], torch.tensor([3000]))
    torch.testing.assert_close(both[:1], single, atol=1e-5, rtol=1e-5)


def test_group_norm_model_gets_no_attention_mask_but_masked_pooling(tiny):
    module = Wav2Vec2Module(str(tiny), 2)
    assert not module.use_attention_mask
    hidden = torch.randn(2, 6, 3)
    hidden[0, 4:] = 1e6  # padding frames must not count
    pooled = masked_mean(hidden, torch.tensor([4, 6]))
    torch.testing.assert_close(pooled[0], hidden[0, :4].mean(dim=0))
    torch.testing.assert_close(pooled[1], hidden[1].mean(dim=0))


def _record_gradients(monkeypatch):
    """Record the summed gradients at every optimizer step."""
    steps = []
    original = Wav2Vec2Net._apply_gradients

    def recording(net, batch):
        steps.append(
            {
                name: p.grad.detach().clone()
                for name, p in net.module_.named_parameters()
                if p.grad is not None
            }
        )
        original(net, batch)

    monkeypatch.setattr(Wav2Vec2Net, "_apply_gradients", recording)
    return steps


def test_gradient_accumulation_matches_larger_batch(tiny_no_dropout, monkeypatch):
    X, y = _waves(n=8, low=4000, high=4001)  # equal lengths: no padding
    params = dict(FAST, max_epochs=1, head_dropout=0.0)
    steps = _record_gradients(monkeypatch)
    Wav2Vec2Classifier(model_path=tiny_no_dropout, **{**params, "batch_size": 8}).fit(
        X, y
    )
    Wav2Vec2Classifier(
        model_path=tiny_no_dropout, **{**params, "batch_size": 4}, accumulation_steps=2
    ).fit(X, y)
    assert len(steps) == 2  # one optimizer step each
    one_batch, accumulated = steps
    assert one_batch.keys() == accumulated.keys()
    assert not any(name.startswith("encoder.feature_extractor.") for name in one_batch)
    for name, grad in one_batch.items():
        torch.testing.assert_close(accumulated[name], grad, rtol=1e-4, atol=1e-7)


def test_gradient_accumulation_steps_less_often(tiny):
    X, y = _waves(n=12)
    params = dict(FAST, batch_size=2, max_epochs=1)
    plain = Wav2Vec2Classifier(model_path=tiny, **params).fit(X, y)
    accumulated = Wav2Vec2Classifier(model_path=tiny, **params, accumulation_steps=2)
    assert plain.net_.optimizer_steps_ == 6
    assert accumulated.fit(X, y).net_.optimizer_steps_ == 3
    # 6 batches in groups of 4: one full step and one for the remainder.
    assert (
        Wav2Vec2Classifier(model_path=tiny, **params, accumulation_steps=4)
        .fit(X, y)
        .net_.optimizer_steps_
        == 2
    )


def test_pickle_clone_and_reproducibility(tiny):
    X, y = _waves()
    clf = Wav2Vec2Classifier(model_path=tiny, **FAST).fit(X, y)
    proba = clf.predict_proba(X)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    encoder = restored.net_.module_.encoder
    assert not any(p.requires_grad for p in encoder.feature_extractor.parameters())

    copy = clone(clf)
    assert not hasattr(copy, "net_")
    np.testing.assert_array_equal(copy.fit(X, y).predict_proba(X), proba)
    unfitted = pickle.loads(pickle.dumps(Wav2Vec2Classifier(model_path=tiny)))
    assert unfitted.get_params()["model_path"] == tiny


def test_validation_split_and_head_lr(tiny):
    X, y = _waves(n=12)
    clf = Wav2Vec2Classifier(
        model_path=tiny, **FAST, validation_fraction=0.34, head_lr=1e-2
    ).fit(X, y)
    assert "valid_loss" in clf.history_[-1]
    lrs = sorted(group["lr"] for group in clf.net_.optimizer_.param_groups)
    assert lrs == [1e-3, 1e-2]


def test_class_weight(tiny):
    X, y = _waves(n=8)
    y = np.array(["low"] * 6 + ["high"] * 2)
    clf = Wav2Vec2Classifier(model_path=tiny, **FAST, class_weight="balanced")
    weight = clf.fit(X, y).net_.criterion_.weight
    np.testing.assert_allclose(weight.numpy(), [2.0, 8 / 12])


def test_clear_errors(tiny, tmp_path):
    X, y = _waves(n=4)
    with pytest.raises(ValueError, match="model_path is None"):
        Wav2Vec2Classifier().fit(X, y)
    with pytest.raises(ValueError, match="not a local directory"):
        Wav2Vec2Classifier(model_path=tmp_path / "missing").fit(X, y)
    not_speech = tmp_path / "bert"
    not_speech.mkdir()
    (not_speech / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ValueError, match="not a wav2vec2-family"):
        Wav2Vec2Classifier(model_path=not_speech).fit(X, y)

    with pytest.raises(AudioInputError, match="not found"):
        Wav2Vec2Classifier(model_path=tiny).fit([*X[:3], str(tmp_path / "no.wav")], y)
    bad = X[0].copy()
    bad[10] = np.nan
    with pytest.raises(AudioInputError, match="NaN"):
        Wav2Vec2Classifier(model_path=tiny).fit([bad, *X[1:]], y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        Wav2Vec2Classifier(model_path=tiny).fit(X, ["low"] * 4)

    clf = Wav2Vec2Classifier(model_path=tiny, **FAST).fit(X, y)
    with pytest.raises(AudioInputError, match="empty"):
        clf.predict([np.zeros(0, dtype=np.float32)])
    # Shorter than the receptive field (400 samples) is padded, not an error.
    assert clf.predict([np.ones(100, dtype=np.float32)]).shape == (1,)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            Wav2Vec2Classifier(model_path=tiny, device="cuda").fit(X, y)


def test_waveform_matrix_input(tiny):
    X, y = _waves(n=8, low=3000, high=3001)
    matrix = np.stack(X)
    clf = Wav2Vec2Classifier(model_path=tiny, **FAST).fit(matrix, y)
    assert clf.n_features_in_ == 3000
    np.testing.assert_allclose(clf.predict_proba(matrix), clf.predict_proba(X))
    with pytest.raises(ValueError, match="3000 features"):
        clf.predict(matrix[:, :2000])
    assert not hasattr(clf.fit(X, y), "n_features_in_")


def test_warmup_schedule_and_weighted_loss(tiny):
    X, y = _waves(n=8)
    clf = Wav2Vec2Classifier(model_path=tiny, **FAST, warmup_fraction=0.5)
    clf.fit(X, y, sample_weight=np.linspace(0.5, 2, len(y)))
    # 2 epochs x 2 batches: 2 warm-up steps, then linear decay to 0.
    schedule = dict(clf.net_.callbacks_)["warmup"].lr_scheduler_
    assert schedule.get_last_lr()[0] == pytest.approx(0.0)
    assert clf.net_.criterion_.reduction == "none"
    assert clf.predict(X).shape == (8,)
    # Linear warm-up, then decay.
    from sklearn_hser.models.wav2vec2 import LinearWarmup

    factors = [LinearWarmup(2, 6)(step) for step in range(7)]
    assert factors[:3] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert factors[-1] == 0.0 and factors[3] > factors[4] > factors[5]


def test_net_params_set_before_fit(tiny):
    X, y = _waves(n=8)
    clf = Wav2Vec2Classifier(model_path=tiny, **FAST).set_params(net__lr=5e-3)
    assert clf.fit(X, y).net_.optimizer_.param_groups[0]["lr"] == 5e-3

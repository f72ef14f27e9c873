"""Text models trained on a text corpus: corpora, registry, fitting."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pickle  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from sklearn_hser.text_models import (  # noqa: E402
    DEFAULT_TEXT_MODEL,
    TEXT_MODELS,
    FineTunedTextClassifier,
    fit_text_model,
    load_text_corpus,
    spoken_form,
)

MELD_HEADER = (
    "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,"
    "Season,Episode,StartTime,EndTime"
)
TIME = '"00:00:01,000","00:00:02,000"'


def _meld(root, split, rows):
    lines = [MELD_HEADER]
    for i, (text, emotion) in enumerate(rows):
        lines.append(f'{i + 1},"{text}",Ross,{emotion},neutral,0,{i},1,1,{TIME}')
    (root / f"{split}_sent_emo.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture
def meld_root(tmp_path):
    _meld(
        tmp_path,
        "train",
        [
            ("I love it!", "joy"),
            ("Wow, really?", "surprise"),
            ("Get out!", "anger"),
            ("Fine.", "neutral"),
            ("I miss him.", "sadness"),
        ],
    )
    _meld(tmp_path, "dev", [("Great news!", "joy"), ("Okay.", "neutral")])
    _meld(tmp_path, "test", [("Ugh, gross.", "disgust"), ("So sad.", "sadness")])
    return tmp_path


# four well-separated classes, repeated so that min_df=2 keeps the words
TINY = pd.DataFrame(
    {
        "text": [
            "I am so happy, I love this",
            "what a wonderful happy day",
            "leave me alone, I hate you",
            "I hate this, get out now",
            "I miss her so much, so sad",
            "sad and lonely without him",
            "the bus leaves at ten",
            "the meeting is at ten today",
        ]
        * 2,
        "label": [
            "happy",
            "happy",
            "angry",
            "angry",
            "sad",
            "sad",
            "neutral",
            "neutral",
        ]
        * 2,
    }
)


def test_meld_corpus_train_by_default_with_four_classes(meld_root):
    df = load_text_corpus("meld", meld_root)
    assert list(df.columns[:2]) == ["text", "label"]
    assert df["text"].tolist() == ["I love it!", "Get out!", "Fine.", "I miss him."]
    assert df["label"].tolist() == ["happy", "angry", "neutral", "sad"]
    assert set(df["split"]) == {"train"}
    assert load_text_corpus("meld", meld_root, split="dev")["label"].tolist() == [
        "happy",
        "neutral",
    ]
    assert load_text_corpus("meld", meld_root, split="test")["text"].tolist() == [
        "So sad."
    ]


def test_manifest_corpus_maps_labels_and_selects_a_split(tmp_path):
    csv = tmp_path / "lines.csv"
    csv.write_text(
        "text,label,split\n I love it! ,Joy,train\nGo away.,anger,train\nHm.,neu,test\n"
    )
    df = load_text_corpus("manifest", csv)
    assert df["text"].tolist() == ["I love it!", "Go away.", "Hm."]
    assert df["label"].tolist() == ["happy", "angry", "neutral"]
    assert load_text_corpus("manifest", csv, split="test")["text"].tolist() == ["Hm."]


@pytest.mark.parametrize(
    "content, split, match",
    [
        ("words,label\nhi,joy\n", None, r"lacks the column\(s\) \['text'\]"),
        ("text,emotion\nhi,joy\n", None, r"lacks the column\(s\) \['label'\]"),
        ("text,label\n", None, "has no rows"),
        ("text,label\nhi,joy\n  ,sad\n", None, "row 1: the text is empty"),
        ("text,label\nhi,joy\nho,surprise\n", None, "row 1: unknown label 'surprise'"),
        ("text,label\nhi,joy\n", "dev", "no 'split' column"),
    ],
)
def test_bad_manifest_corpora_are_refused(tmp_path, content, split, match):
    csv = tmp_path / "c.csv"
    csv.write_text(content)
    with pytest.raises(ValueError, match=match):
        load_text_corpus("manifest", csv, split=split)


def test_missing_sources_and_unknown_names(tmp_path):
    with pytest.raises(ValueError, match="is not a file"):
        load_text_corpus("manifest", tmp_path / "absent.csv")
    with pytest.raises(ValueError, match="not found"):
        load_text_corpus("meld", tmp_path)
    with pytest.raises(ValueError, match="name"):
        load_text_corpus("iemocap", tmp_path)


def test_registry_and_default():
    assert {"tfidf-lr", "minilm-lr", "minilm-ft", "bert-lstm"} <= set(TEXT_MODELS)
    assert DEFAULT_TEXT_MODEL in TEXT_MODELS


@pytest.mark.parametrize("class_weight", ["balanced", None])
def test_tfidf_lr_fits_and_predicts_probabilities(class_weight):
    model = fit_text_model(TINY, "tfidf-lr", class_weight=class_weight)
    assert sorted(model.classes_) == ["angry", "happy", "neutral", "sad"]
    proba = model.predict_proba(pd.DataFrame({"text": ["I hate you", "so sad"]}))
    assert proba.shape == (2, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.predict(TINY[["text"]]).tolist() == TINY["label"].tolist()
    # extra columns (an audio path, a speaker) are ignored
    assert len(model.predict(TINY.assign(audio="x.wav", speaker="s"))) == len(TINY)


def test_builders_clone_and_expose_params():
    for name in ("tfidf-lr", "minilm-lr", "minilm-ft"):
        model = TEXT_MODELS[name](class_weight=None, random_state=3)
        params = clone(model).get_params()
        assert any(k.endswith("class_weight") and v is None for k, v in params.items())


def test_fit_text_model_errors():
    with pytest.raises(ValueError, match="at least two classes"):
        fit_text_model(TINY[TINY["label"] == "sad"], "tfidf-lr")
    with pytest.raises(ValueError, match="unknown label 'fear'"):
        fit_text_model(TINY.assign(label="fear"), "tfidf-lr")
    with pytest.raises(ValueError, match="kind"):
        fit_text_model(TINY, "gpt")


# -- models on a tiny random BERT -------------------------------------------


@pytest.fixture
def _one_torch_thread():
    # tiny models run as many small ops: one thread is the fastest on a busy
    # machine (see test_text_features.py); restored afterwards
    torch = pytest.importorskip("torch")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A random 1-layer BERT (hidden 16) whose vocabulary covers TINY."""
    import json

    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from transformers import BertConfig, BertModel

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(
        {w for t in TINY["text"] for w in t.replace(",", " ,").split()} | {","}
    )
    path = tmp_path_factory.mktemp("tiny_bert")
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        BertModel(config).save_pretrained(path)
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    (path / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": True})
    )
    return path


@pytest.mark.usefixtures("_one_torch_thread")
def test_minilm_lr_on_a_tiny_bert(tiny_bert):
    model = fit_text_model(TINY, "minilm-lr", model_path=tiny_bert)
    proba = model.predict_proba(TINY[["text"]])
    assert proba.shape == (len(TINY), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert set(model.predict(TINY[["text"]])) <= set(model.classes_)


@pytest.mark.usefixtures("_one_torch_thread")
def test_fine_tuned_classifier_on_a_tiny_bert(tiny_bert):
    est = FineTunedTextClassifier(
        model_path=tiny_bert, max_epochs=3, lr=1e-3, batch_size=4, max_length=16
    )
    with pytest.raises(NotFittedError):
        est.predict_proba(TINY[["text"]])
    est.fit(TINY[["text"]], TINY["label"])
    assert est.n_iter_ == 3 * 4
    proba = est.predict_proba(TINY[["text"]])
    assert proba.shape == (len(TINY), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    # a list of strings works as well as a DataFrame column
    np.testing.assert_allclose(est.predict_proba(list(TINY["text"])), proba, rtol=1e-5)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(est.predict_proba(TINY[["text"]]), proba, rtol=1e-5)
    np.testing.assert_allclose(again.predict_proba(TINY[["text"]]), proba, rtol=1e-5)
    assert clone(est).get_params() == est.get_params()
    # the same seed gives the same model
    twin = clone(est).fit(TINY[["text"]], TINY["label"])
    np.testing.assert_allclose(twin.predict_proba(TINY[["text"]]), proba, atol=1e-5)


def test_spoken_form_writes_what_a_transcript_of_a_calm_voice_holds():
    written = ["Get OUT!!!", "Really?!", "No way!? Fine\u2026"]
    assert spoken_form(written) == ["Get OUT.", "Really?", "No way? Fine..."]
    quoted = "I\u2019m \u2014 \u201cin\u201d"
    assert spoken_form([quoted]) == ['I\'m, "in"']
    assert spoken_form(["  the bus  leaves at ten. "]) == ["the bus leaves at ten."]
    with pytest.raises(ValueError, match="text 1 is nan, not a string"):
        spoken_form(pd.Series(["fine!", np.nan]))
    with pytest.raises(ValueError, match="texts"):
        spoken_form("one string")


@pytest.mark.parametrize("spoken_copies", [True, False])
def test_fine_tuned_classifier_learns_the_spoken_form_too(
    monkeypatch, tiny_bert, spoken_copies
):
    seen = {}

    def train(self, texts, codes):
        seen.update(texts=texts, labels=list(self.classes_[codes]))

    monkeypatch.setattr(FineTunedTextClassifier, "_train", train)
    texts = ["Get out!", "so sad.", "I love it!!", "at ten."]
    labels = ["angry", "sad", "happy", "neutral"]
    est = FineTunedTextClassifier(model_path=tiny_bert, spoken_copies=spoken_copies)
    est.fit(texts, labels)
    copies = ["Get out.", "I love it."] if spoken_copies else []
    assert seen["texts"] == texts + copies
    assert seen["labels"] == labels + (["angry", "happy"] if spoken_copies else [])


@pytest.mark.usefixtures("_one_torch_thread")
def test_fine_tuned_classifier_reports_its_steps(tiny_bert, caplog):
    import logging

    est = FineTunedTextClassifier(model_path=tiny_bert, batch_size=8, max_length=16)
    with caplog.at_level(logging.DEBUG, logger="sklearn_hser"):
        est.fit(TINY[["text"]], TINY["label"])
    lines = [
        r.getMessage()
        for r in caplog.records
        if "FineTunedTextClassifier" in r.getMessage()
    ]
    assert any(f"{est.n_iter_}/{est.n_iter_} done" in m for m in lines)


@pytest.mark.usefixtures("_one_torch_thread")
def test_fine_tuned_classifier_input_errors(tiny_bert):
    est = FineTunedTextClassifier(model_path=tiny_bert, max_epochs=1)
    with pytest.raises(ValueError, match="no column 'text'"):
        est.fit(pd.DataFrame({"words": ["a", "b"]}), ["happy", "sad"])
    with pytest.raises(ValueError, match="not a string"):
        est.fit(["a", None], ["happy", "sad"])
    with pytest.raises(ValueError, match="at least two classes"):
        est.fit(["a", "b"], ["sad", "sad"])
    with pytest.raises(ValueError, match="max_epochs"):
        FineTunedTextClassifier(max_epochs=0).fit(["a", "b"], ["happy", "sad"])


@pytest.mark.usefixtures("_one_torch_thread")
@pytest.mark.parametrize("kind", ["tfidf-lr", "minilm-lr", "minilm-ft"])
def test_fitted_text_models_pass_the_restricted_model_loader(tmp_path, tiny_bert, kind):
    from sklearn_hser.persistence import load_model, save_model

    if kind == "minilm-ft":
        model = FineTunedTextClassifier(model_path=tiny_bert, max_epochs=1)
        model.fit(TINY[["text"]], TINY["label"])
    else:
        model = fit_text_model(TINY, kind, model_path=tiny_bert)
    save_model(model, tmp_path / "m.joblib")
    loaded = load_model(tmp_path / "m.joblib")[0]  # refuses code-running names
    np.testing.assert_allclose(
        loaded.predict_proba(TINY[["text"]]),
        model.predict_proba(TINY[["text"]]),
        rtol=1e-5,
    )

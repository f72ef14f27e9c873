"""Several corpora as one training set: concat_corpora and the paired CLI options."""

import pandas as pd
import pytest

from sklearn_hser.cli import build_parser, main
from sklearn_hser.cli._common import corpus_counts, corpus_pairs
from sklearn_hser.datasets import concat_corpora
from sklearn_hser.experiments import speaker_folds


def _corpus(speakers, n_per_speaker=4, audio_prefix="a"):
    labels = ["neutral", "happy", "sad", "angry"]
    rows = [
        {
            "id": f"{s}-{i}",
            "audio": f"{audio_prefix}{s}-{i}.wav",
            "text": "words",
            "label": labels[i % 4],
            "speaker": s,
        }
        for s in speakers
        for i in range(n_per_speaker)
    ]
    return pd.DataFrame(rows)


def test_speakers_stay_distinct_and_rows_keep_their_corpus():
    a, b = _corpus(["01", "02"]), _corpus(["01", "03"], audio_prefix="b")
    combined = concat_corpora({"ravdess": a, "emodb": b})
    assert len(combined) == len(a) + len(b)
    assert combined["corpus"].tolist() == ["ravdess"] * len(a) + ["emodb"] * len(b)
    # Speaker "01" of each corpus is a different person.
    assert combined["speaker"].nunique() == 4
    assert set(combined.loc[combined["corpus"] == "emodb", "speaker"]) == {
        "emodb/01",
        "emodb/03",
    }
    assert combined["source_speaker"].tolist() == [*a["speaker"], *b["speaker"]]
    assert combined["id"].is_unique
    # The input frames are left as they were.
    assert "corpus" not in a and a["speaker"].iloc[0] == "01"


def test_columns_of_one_corpus_only_are_kept_with_missing_values():
    a = _corpus(["01"]).assign(gender="F")
    combined = concat_corpora([("x", a), ("y", _corpus(["02"]))])
    assert combined["gender"].isna().sum() == 4
    assert (combined.loc[combined["corpus"] == "x", "gender"] == "F").all()


def test_validation_folds_group_by_corpus_and_speaker():
    combined = concat_corpora(
        {"ravdess": _corpus(["01", "02", "03"]), "emodb": _corpus(["01", "02", "03"])}
    )
    cv, groups = speaker_folds(combined, n_splits=3)
    assert groups is not None
    for train, test in cv.split(combined, combined["label"], groups):
        held_out = set(combined["speaker"].iloc[test])
        assert not held_out & set(combined["speaker"].iloc[train])
        # "01" of RAVDESS can be held out while "01" of EmoDB trains.
        assert all("/" in s for s in held_out)


@pytest.mark.parametrize(
    "corpora, message",
    [
        ({}, "at least one corpus"),
        ([("a", _corpus(["1"])), ("a", _corpus(["2"]))], "given twice"),
        ({"a/b": _corpus(["1"])}, "without '/'"),
        ({"a": _corpus(["1"]).drop(columns="speaker")}, "no column speaker"),
        ({"a": _corpus(["1"]).iloc[:0]}, "no rows"),
        ({"a": _corpus(["1"]).assign(corpus="x")}, "already has a 'corpus'"),
        ([("a",)], "pairs"),
    ],
)
def test_bad_corpora_are_refused(corpora, message):
    with pytest.raises(ValueError, match=message):
        concat_corpora(corpora)


def test_cli_pairs_corpus_and_root_in_order():
    parser = build_parser()
    args = parser.parse_args(
        ["fit", "--corpus", "ravdess", "--root", "R", "--corpus", "emodb"]
        + ["--root", "E", "--corpus", "manifest", "--root", "T.csv"]
    )
    assert corpus_pairs(args) == [
        ("ravdess", "ravdess", "R"),
        ("emodb", "emodb", "E"),
        ("manifest", "manifest", "T.csv"),
    ]
    twice = parser.parse_args(
        ["fit", "--corpus", "manifest", "--root", "a.csv"]
        + ["--corpus", "manifest", "--root", "b.csv"]
    )
    assert [name for name, _, _ in corpus_pairs(twice)] == ["manifest", "manifest-2"]
    # The default corpus when none is given.
    assert corpus_pairs(parser.parse_args(["fit"])) == [("demo", "demo", None)]


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["fit", "--corpus", "ravdess", "--root", "R", "--corpus", "emodb"],
            "do not pair: 2 --corpus but 1 --root",
        ),
        (["fit", "--corpus", "emodb", "--root", "a", "--root", "b"], "one --root"),
        (
            ["fit", "--corpus", "demo", "--corpus", "emodb", "--root", "E"],
            "cannot be combined",
        ),
        (
            ["features", "--corpus", "ravdess", "--corpus", "emodb", "--root", "x"],
            "do not pair",
        ),
    ],
)
def test_unpaired_options_fail_in_one_line_before_any_work(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hser: error: ") and "\n" not in err
    assert message in err


def test_fit_reports_utterances_per_corpus():
    combined = concat_corpora({"ravdess": _corpus(["01"]), "emodb": _corpus(["01"], 3)})
    assert corpus_counts(combined) == "7 utterances (ravdess 4, emodb 3)"
    assert corpus_counts(_corpus(["01"])) == "4 utterances"


def test_fit_with_a_text_corpus_uses_its_text_model_frozen(tmp_path, capsys):
    from sklearn.frozen import FrozenEstimator

    from sklearn_hser.datasets import make_iemocap_fixture
    from sklearn_hser.persistence import load_model

    root = make_iemocap_fixture(tmp_path / "iemocap", n_per_speaker=8)
    words = {
        "neutral": "the meeting is at noon on tuesday",
        "happy": "wonderful news I love it so much",
        "sad": "I miss her and I feel so alone",
        "angry": "this is outrageous I hate you",
    }
    rows = [(f"{text} {i}", label) for label, text in words.items() for i in range(6)]
    text_csv = tmp_path / "text.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(text_csv, index=False)
    # Recordings whose words carry the emotion: the routing validation.
    from sklearn_hser.datasets import load_iemocap

    audio = load_iemocap(root)["audio"].head(8)
    voiced = pd.DataFrame(
        {
            "audio": audio,
            "label": list(words) * 2,
            "text": list(words.values()) * 2,
            "speaker": "voice",
        }
    )
    voiced_csv = tmp_path / "voiced.csv"
    voiced.to_csv(voiced_csv, index=False)
    model_path = tmp_path / "model.joblib"
    argv = ["fit", "--corpus", "iemocap", "--root", str(root)]
    argv += ["--routing-validation", str(voiced_csv)]
    argv += ["--text-corpus", "manifest", "--text-root", str(text_csv)]
    argv += ["--text-model", "tfidf-lr", "--threshold", "0.3", "--gate-labels", "flat"]
    argv += ["--cache-dir", str(tmp_path / "cache"), "--out", str(model_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Fitting the text model tfidf-lr on 24 sentences of manifest" in out
    assert "Routing chosen on held-out speakers and" in out
    model, info = load_model(model_path)
    metadata = info["metadata"]
    assert model.speech_confidence == metadata["speech_confidence"]
    assert model.voice_familiarity == metadata["voice_familiarity"]
    # confidences x familiarities x one threshold
    assert len(metadata["routing_scores"]) == 6 * 3
    assert metadata["text_corpus"] == "manifest"
    assert metadata["text_model"] == "tfidf-lr"
    assert isinstance(model.text_, FrozenEstimator)
    # The text model learned the text corpus, not the speech transcripts.
    probe = pd.DataFrame({"text": ["outrageous I hate you", "wonderful I love it"]})
    assert model.text_.predict(probe).tolist() == ["angry", "happy"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--text-corpus", "meld"], "--text-corpus and --text-root go together"),
        (["--text-root", "x.csv"], "--text-corpus and --text-root go together"),
        (["--text-corpus", "manifest", "--text-root", "/nonexistent.csv"], "no such"),
    ],
)
def test_text_corpus_options_fail_in_one_line(extra, message, capsys):
    assert main(["fit", "--corpus", "demo", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hser: error: ") and "\n" not in err
    assert message in err


def test_a_chosen_familiarity_is_what_a_refit_would_learn(tmp_path, monkeypatch):
    # fit_system learns only the familiarity after choosing it, instead of
    # refitting every sub-model: the result must be the refit's.
    import numpy as np
    from sklearn.base import clone

    from sklearn_hser import word_routing
    from sklearn_hser.datasets import load_iemocap, make_iemocap_fixture
    from sklearn_hser.experiments import fit_system

    choice = {"speech_confidence": None, "voice_familiarity": 0.01, "threshold": 0.3}
    monkeypatch.setattr(word_routing, "choose_routing", lambda *a, **k: (choice, {}))
    corpus = load_iemocap(make_iemocap_fixture(tmp_path / "iemocap", n_per_speaker=6))
    model, info = fit_system(
        corpus,
        "lr-whisper",
        threshold=0.3,
        cache_dir=tmp_path / "cache",
        routing_validation=corpus.head(4),
    )
    assert info["voice_familiarity"] == 0.01 and model.voice_familiarity == 0.01
    refit = clone(model).fit(corpus, corpus["label"])
    np.testing.assert_array_equal(
        model.familiarity_.reference_features_, refit.familiarity_.reference_features_
    )
    np.testing.assert_array_equal(
        model.familiarity_.reference_distances_,
        refit.familiarity_.reference_distances_,
    )
    np.testing.assert_array_equal(model.predict(corpus), refit.predict(corpus))

"""evaluate_model / format_evaluation, and ``hser evaluate`` end to end."""

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    precision_score,
    recall_score,
)
from sklearn.pipeline import make_pipeline

from sklearn_hser import HierarchicalClassifier
from sklearn_hser.cli import main
from sklearn_hser.evaluation import evaluate_model, format_evaluation
from sklearn_hser.persistence import save_model
from sklearn_hser.threshold_tuning import TunedThresholdHierarchyCV

CLASSES = ["neutral", "happy", "sad", "angry"]
FEATURES = ["f0", "f1", "f2", "f3"]


def _numeric_corpus(n_per_class=30, seed=0, classes=CLASSES):
    rng = np.random.default_rng(seed)
    y = np.repeat(classes, n_per_class)
    X = rng.normal(size=(len(y), 4)) + 1.2 * (y[:, None] == np.array(CLASSES))
    corpus = pd.DataFrame(X, columns=FEATURES)
    corpus["label"] = y
    return corpus


def _lr():
    return make_pipeline(
        make_column_transformer(("passthrough", FEATURES)), LogisticRegression()
    )


@pytest.fixture(scope="module")
def hierarchy():
    train = _numeric_corpus()
    return HierarchicalClassifier(_lr(), _lr(), _lr(), threshold=0.3).fit(
        train, train["label"]
    )


def test_numbers_equal_sklearn_metrics(hierarchy):
    test = _numeric_corpus(n_per_class=15, seed=1)
    result = evaluate_model(hierarchy, test)
    y, pred = test["label"], hierarchy.predict(test)
    labels = result["labels"]
    assert labels == CLASSES  # paper order, not sorted
    assert result["n"] == len(test)
    assert result["UA"] == pytest.approx(balanced_accuracy_score(y, pred))
    assert result["WA"] == pytest.approx(accuracy_score(y, pred))
    matrix = confusion_matrix(y, pred, labels=labels).tolist()
    assert result["confusion_matrix"] == matrix
    precision = precision_score(y, pred, labels=labels, average=None, zero_division=0)
    recall = recall_score(y, pred, labels=labels, average=None, zero_division=0)
    for label, p, r in zip(labels, precision, recall):
        assert result["per_class"][label]["precision"] == pytest.approx(p)
        assert result["per_class"][label]["recall"] == pytest.approx(r)
        assert result["per_class"][label]["support"] == int((y == label).sum())
    assert result["kind"] == "hierarchy" and result["threshold"] == 0.3


def test_speech_only_is_the_hierarchy_at_threshold_zero(hierarchy):
    test = _numeric_corpus(n_per_class=15, seed=2)
    result = evaluate_model(hierarchy, test)
    speech = hierarchy.predict_for_thresholds(test, [0.0])[0.0]
    # the same rule written out: gate-neutral stays neutral, else the emotion model
    gate = hierarchy.speech_gate_.predict(test)
    manual = np.where(
        gate == "neutral", "neutral", hierarchy.speech_emotion_.predict(test)
    )
    assert np.array_equal(speech, manual)
    y = test["label"]
    assert result["speech_only_UA"] == pytest.approx(balanced_accuracy_score(y, speech))
    assert result["speech_only_WA"] == pytest.approx(accuracy_score(y, speech))
    text = hierarchy.text_.predict(test)
    assert result["text_only_UA"] == pytest.approx(balanced_accuracy_score(y, text))
    assert result["text_only_WA"] == pytest.approx(accuracy_score(y, text))
    assert (
        result["speech_only_confusion_matrix"]
        == confusion_matrix(y, speech, labels=result["labels"]).tolist()
    )
    route = hierarchy.route(test)
    routes = result["routes"]
    assert routes["text_branch"] == int((gate == "neutral").sum())
    assert routes["emotion_branch"] + routes["text_branch"] == len(test)
    assert routes["kept_neutral"] == int(route["kept_neutral"].sum())


def test_route_counts_without_threshold(hierarchy):
    test = _numeric_corpus(n_per_class=10, seed=3)
    plain = evaluate_model(hierarchy.set_params(threshold=None), test)
    hierarchy.set_params(threshold=0.3)
    assert plain["routes"]["kept_neutral"] == 0 and plain["threshold"] is None


def test_tuned_hierarchy_is_evaluated_as_a_hierarchy():
    train = _numeric_corpus(n_per_class=20)
    tuned = TunedThresholdHierarchyCV(
        HierarchicalClassifier(_lr(), _lr(), _lr()),
        thresholds=(None, 0.3),
        gate_labels=["flat", "all", "collapsed"],
        cv=2,
    ).fit(train, train["label"])
    test = _numeric_corpus(n_per_class=10, seed=4)
    result = evaluate_model(tuned, test)
    assert result["kind"] == "hierarchy"
    assert result["model"] == "TunedThresholdHierarchyCV"
    assert result["threshold"] == tuned.best_threshold_
    assert result["gate_labels"] == tuned.best_gate_labels_
    gate = {
        "flat": "flat speech model as gate",
        "all": "four-class gate",
        "collapsed": "neutral/emotional gate",
    }
    assert gate[tuned.best_gate_labels_] in format_evaluation(result)
    assert result["UA"] == pytest.approx(
        balanced_accuracy_score(test["label"], tuned.predict(test))
    )
    assert result["routes"] is not None


def test_flat_model_is_its_own_speech_only():
    train = _numeric_corpus(n_per_class=20)
    model = _lr().fit(train, train["label"])
    result = evaluate_model(model, train)
    assert result["kind"] == "flat" and result["routes"] is None
    assert result["speech_only_UA"] == result["UA"]
    assert result["text_only_UA"] is None and result["text_only_WA"] is None
    assert "not a hierarchy" in result["note"]
    assert "note: Pipeline is not a hierarchy" in format_evaluation(result)


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_absent_class_gives_null_not_nan(hierarchy):
    test = _numeric_corpus(n_per_class=10, seed=5, classes=["neutral", "sad"])
    result = evaluate_model(hierarchy, test)
    text = json.dumps(result, allow_nan=False)  # strict JSON
    assert json.loads(text)["per_class"]["angry"]["recall"] is None
    y, pred = test["label"], hierarchy.predict(test)
    assert result["UA"] == pytest.approx(balanced_accuracy_score(y, pred))
    recall = recall_score(y, pred, labels=CLASSES, average=None, zero_division=np.nan)
    got = [result["per_class"][c]["recall"] for c in CLASSES]
    assert [g is None for g in got] == np.isnan(recall).tolist()
    assert [g for g in got if g is not None] == pytest.approx(
        recall[~np.isnan(recall)].tolist()
    )


def test_the_text_model_reads_each_sample_once(hierarchy, monkeypatch):
    test = _numeric_corpus(n_per_class=15, seed=3)
    text = hierarchy.text_
    seen = []
    for method in ("predict", "predict_proba"):
        run = getattr(text, method)
        monkeypatch.setattr(
            text, method, lambda X, run=run: seen.extend(X.index) or run(X)
        )
    result = evaluate_model(hierarchy, test)
    assert sorted(seen) == list(test.index)
    monkeypatch.undo()
    y = test["label"]
    truth = balanced_accuracy_score(y, hierarchy.text_.predict(test))
    assert result["text_only_UA"] == pytest.approx(truth)


def test_format_evaluation(hierarchy):
    result = evaluate_model(hierarchy, _numeric_corpus(n_per_class=5, seed=6))
    text = format_evaluation(result)
    assert f"{result['UA']:.3f}" in text and f"{result['speech_only_UA']:.3f}" in text
    assert f"{result['routes']['text_branch']} to the text branch" in text
    assert "confusion matrix" in text and "threshold 0.3" in text
    absent = evaluate_model(hierarchy, _numeric_corpus(5, classes=["sad", "angry"]))
    text = format_evaluation(absent)
    assert "nan" not in text.lower()
    neutral_row = next(line for line in text.splitlines() if line.startswith("neutral"))
    assert neutral_row.split() == ["neutral", "-", "-", "-", "0"]


def test_bad_corpus(hierarchy):
    test = _numeric_corpus(n_per_class=3)
    test.loc[[0, 1], "label"] = "fear"
    with pytest.raises(ValueError, match=r"2 corpus row\(s\).*\['fear'\]"):
        evaluate_model(hierarchy, test)
    with pytest.raises(ValueError, match="empty"):
        evaluate_model(hierarchy, test.iloc[:0])
    with pytest.raises(ValueError, match="no 'label' column"):
        evaluate_model(hierarchy, test.drop(columns="label"))


# ------------------------------------------------------------ hser evaluate

F0 = {"neutral": 120.0, "happy": 260.0, "sad": 150.0, "angry": 330.0}
WORDS = {
    "neutral": "the bus leaves at ten",
    "happy": "wonderful great news",
    "sad": "I miss her so much",
    "angry": "I told you twice stop it",
}


def _clip(path, f0, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.3 * 16_000)) / 16_000
    wave = 0.3 * np.sin(2 * np.pi * f0 * t) + rng.normal(0, 0.01, t.size)
    sf.write(path, wave.astype(np.float32), 16_000)


def _manifest_corpus(folder, classes=CLASSES, n=6):
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for c in classes:
        for i in range(n):
            name = f"{c}{i}.wav"
            _clip(folder / name, F0[c] * (1 + 0.02 * i), seed=i)
            rows.append(
                {"audio": name, "label": c, "text": WORDS[c], "speaker": f"s{i % 3}"}
            )
    csv = folder / "manifest.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    return csv


def _speech():
    from sklearn_hser.features import MFCC

    return make_pipeline(MFCC(column="audio"), LogisticRegression(max_iter=500))


def _text():
    return make_pipeline(
        make_column_transformer((TfidfVectorizer(), "text")), LogisticRegression()
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    from sklearn_hser.datasets import load_manifest

    folder = tmp_path_factory.mktemp("corpus")
    csv = _manifest_corpus(folder / "train")
    train = load_manifest(csv)
    model = HierarchicalClassifier(_speech(), _speech(), _text(), threshold=0.3)
    path = save_model(model.fit(train, train["label"]), folder / "model.joblib")
    return {"model": path, "csv": csv, "folder": folder}


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip()
    assert err.startswith("hser: error: ")
    assert "\n" not in err and "Traceback" not in err
    return err


def test_cli_evaluate_json(saved, capsys):
    from sklearn_hser.datasets import load_manifest
    from sklearn_hser.persistence import load_model

    argv = [
        "evaluate",
        str(saved["model"]),
        "--corpus",
        "manifest",
        "--root",
        str(saved["csv"]),
        "--json",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    result = json.loads(out)  # one strict JSON object
    assert {"UA", "WA", "n", "speech_only_UA", "routes"} <= set(result)
    assert "NaN" not in out
    model, _ = load_model(saved["model"])
    expected = evaluate_model(model, load_manifest(saved["csv"]))
    assert result["n"] == 24 and result["corpus"] == "manifest"
    assert result["UA"] == pytest.approx(expected["UA"])
    assert result["speech_only_UA"] == pytest.approx(expected["speech_only_UA"])


def test_cli_evaluate_cross_corpus_text(saved, tmp_path, capsys):
    # an EmoDB tree: trained on the manifest corpus, evaluated on another
    for i, (stem, label) in enumerate(
        [
            ("03a01Na", "neutral"),
            ("08a02Fa", "happy"),
            ("09b01Ta", "sad"),
            ("10b02Wa", "angry"),
            ("11a04Wb", "angry"),
        ]
    ):
        _clip(tmp_path / f"{stem}.wav", F0[label], seed=i)
    argv = [
        "evaluate",
        str(saved["model"]),
        "--corpus",
        "emodb",
        "--root",
        str(tmp_path),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "corpus: emodb" in out and "on 5 samples" in out
    assert "speech only" in out and "to the text branch" in out


def test_cli_evaluate_bad_input(saved, tmp_path, capsys):
    model = str(saved["model"])
    assert main(["evaluate", str(tmp_path / "absent.joblib")]) == 2
    assert "not found" in _one_line_error(capsys)
    # labels the model was not trained on
    narrow = _manifest_corpus(tmp_path / "narrow", classes=["neutral", "happy"], n=3)
    from sklearn_hser.datasets import load_manifest

    small = load_manifest(narrow)
    three = HierarchicalClassifier(_speech(), _speech(), _text())
    three_path = save_model(three.fit(small, small["label"]), tmp_path / "two.joblib")
    argv = [
        "evaluate",
        str(three_path),
        "--corpus",
        "manifest",
        "--root",
        str(saved["csv"]),
    ]
    assert main(argv) == 2
    err = _one_line_error(capsys)
    assert "labels the model does not know" in err and "'sad'" in err
    # an empty corpus
    empty = tmp_path / "empty.csv"
    empty.write_text("audio,label\n")
    argv = ["evaluate", model, "--corpus", "manifest", "--root", str(empty)]
    assert main(argv) == 2
    assert "has no rows" in _one_line_error(capsys)
    argv = [
        "evaluate",
        model,
        "--corpus",
        "manifest",
        "--root",
        str(tmp_path / "x.csv"),
    ]
    assert main(argv) == 2
    assert "no such file" in _one_line_error(capsys)

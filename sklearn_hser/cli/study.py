"""``hser reproduce``, ``hser demo`` and ``hser evaluate``."""

from __future__ import annotations

import sys
import time

from . import _common
from ._common import (
    UsageError,
    _experiment_config,
    corpus_counts,
    load_corpora,
)


def _training_overlap(info, corpus):
    """How many of ``corpus``'s recordings the saved model was trained on.

    None when the model file does not record its training audio (models not
    saved by ``hser fit``, or saved before it did).
    """
    from .._fingerprint import audio_digests

    trained = info["metadata"].get("train_audio")
    if not isinstance(trained, list):
        return None
    trained = set(trained)
    return sum(d in trained for d in audio_digests(corpus))


def run_reproduce(args) -> int:
    """The paper's study on a corpus: tables, figures, JSON and HTML report."""
    from ..experiments import run_experiment, split_indices
    from ..report import format_table_ii, package_versions, write_report

    start = time.perf_counter()
    config = _experiment_config(args)
    corpus = load_corpora(args)
    try:  # e.g. a manifest without speakers has no speaker-independent split
        split_indices(corpus, config)
    except ValueError as exc:
        raise UsageError(f"cannot split {config.corpus}: {exc}") from exc
    print(
        f"{config.corpus}: {corpus_counts(corpus)}, "
        f"{corpus['speaker'].nunique()} speakers; systems {', '.join(config.systems)}"
    )
    try:
        results = run_experiment(corpus, config, args.out, log=print)
    except ValueError as exc:  # e.g. an SI split the corpus cannot give
        raise UsageError(str(exc).splitlines()[0]) from exc
    title = f"Hierarchical SER with text integration: {config.corpus}"
    paths = write_report(results, args.out, title=title, versions=package_versions())
    print()
    print(format_table_ii(results))
    print(f"\nReport: {paths['html']}  ({time.perf_counter() - start:.0f} s)")
    return 0


def run_evaluate(args) -> int:
    """Score a saved system on a labelled corpus."""
    import json

    from ..evaluation import evaluate_model, format_evaluation
    from ..persistence import load_model

    corpus = _common.load_corpus(args.corpus, args.root)
    try:
        model, info = load_model(args.model, trusted=args.trust)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    try:
        result = evaluate_model(model, corpus)
    except ValueError as exc:
        raise UsageError(f"cannot evaluate on {args.corpus}: {exc}") from exc
    result["corpus"] = args.corpus
    result["training_overlap"] = _training_overlap(info, corpus)
    if result["training_overlap"]:
        print(
            f"hser: warning: {result['training_overlap']} of {len(corpus)} "
            f"recordings of {args.corpus} were in {args.model}'s training data: "
            "these scores are not held-out",
            file=sys.stderr,
        )
    if args.json:
        # strict JSON: evaluate_model gives None, never NaN, for undefined values
        print(json.dumps(result, allow_nan=False))
    else:
        print(f"corpus: {args.corpus}")
        if result["training_overlap"] is not None:
            print(
                f"recordings also in the training data: "
                f"{result['training_overlap']} of {len(corpus)}"
            )
        print(format_evaluation(result))
    return 0

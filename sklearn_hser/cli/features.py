"""``hser features`` and ``hser cache``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .. import _cli_args as check
from .. import _optional
from ._common import (
    FEATURE_SET_NEEDS,
    UsageError,
    corpus_counts,
    corpus_label,
    feature_extractors,
    load_corpora,
    logger,
)


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


def run_features(args) -> int:
    """Extract feature sets of a corpus into ``--out``."""
    import numpy as np

    from .._atomic import atomic_write, atomic_write_text

    extractors = feature_extractors(args.cache_dir, args.n_jobs)
    names = list(extractors) if args.sets == "all" else args.sets.split(",")
    for name, modules in FEATURE_SET_NEEDS.items():
        message = _optional.missing_message(modules, f"feature set {name}")
        if message and name in names:
            raise UsageError(message)
        if message and args.sets == "all":
            logger.info("not extracted: %s", message)
    unknown = [n for n in names if n not in extractors]
    if unknown:
        raise UsageError(
            f"unknown feature set(s) {', '.join(unknown)}; "
            f"choose from {', '.join(FEATURE_SET_NEEDS)}"
        )
    corpus = load_corpora(args)
    out = Path(args.out)
    print(f"{corpus_label(args)}: {corpus_counts(corpus)}")
    try:
        results = extract_all(corpus, {n: extractors[n] for n in names})
    except ValueError as exc:
        raise UsageError(str(exc).splitlines()[0]) from exc
    out.mkdir(parents=True, exist_ok=True)  # only once there is something to write
    for name, features in results.items():
        atomic_write(
            out / f"{name}.npy",
            lambda f, a=features: np.save(f, a, allow_pickle=a.dtype == object),
        )
    atomic_write_text(
        out / "corpus.csv", corpus.drop(columns=["audio"]).to_csv(index=False)
    )
    print(f"Wrote {len(results)} feature files and corpus.csv to {out}")
    return 0


def run_cache(args) -> int:
    """Show the size of a feature cache, or clear it."""
    from ..features import cache_info, clear_cache

    if args.clear:
        try:  # deleting needs write access; listing does not
            check.output_dir(args.directory)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"cannot clear {exc}") from None
        print(f"Deleted {clear_cache(args.directory)} entries from {args.directory}")
        return 0
    info = cache_info(args.directory)
    mib = 1024**2
    print(
        f"{info['directory']}: {info['n_entries']} entries, "
        f"{info['n_bytes'] / mib:.1f} MiB (limit {info['max_bytes'] / mib:.0f} MiB)"
    )
    for name, ns in sorted(info["namespaces"].items()):
        print(f"  {name:<40} {ns['n_entries']:>7} {ns['n_bytes'] / mib:9.1f} MiB")
    return 0

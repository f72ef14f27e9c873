"""Accuracy on a corpus left out of training, beside the plain baselines.

What a user with their own recordings should expect: every model here is
scored on speakers it never heard, and in most rows on a whole corpus (a
language, a recording set-up, a set of actors) it never heard.

Scenarios, each one row per system:

* ``loco``: leave one corpus out over RAVDESS (English), EmoDB (German) and
  TESS (English): train on the other two combined
  (:func:`~sklearn_hser.datasets.concat_corpora`), test on the one left out;
* ``ravdess-only``: train on RAVDESS alone (the package's earlier default
  recipe), test on EmoDB and on TESS;
* ``held-out actors``: RAVDESS alone, ``--folds`` groups of actors, each
  group tested by a model trained on the others (the within-corpus check).

Systems, fitted on the same training rows in the same run:

* ``recommended``: what ``hser fit`` saves (``fit_system`` with the
  recommended system: gate and threshold chosen on held-out speakers of the
  training data, with the text model trained on its transcripts);
* ``rec:speech-only`` and ``rec:text-only``: the same fitted hierarchy's
  speech models alone (its text branch removed; from the pass of its
  sub-models that gives ``recommended``) and its text model alone, on every
  test row;
* ``previous``: the recommended system's speech model before it was chosen
  to travel (mean of every Whisper block, plain per-speaker mean
  subtraction, ``C=1``), flat (``--no-previous`` skips it);
* ``egemaps``: the plain eGeMAPS functionals + StandardScaler +
  LogisticRegression pipeline, flat;
* ``egemaps-z``: the same with each speaker's features z-scored over that
  speaker's recordings (in training and at test time).

It prints one table: UA (macro recall), WA (accuracy), the recall of each
class and the share of the test set predicted as each class; then the mean
UA of each system over the left-out corpora, and its difference to the
plain baseline.

Per-speaker statistics (the recommended system's centring, ``egemaps-z``)
are computed from each test speaker's own unlabelled recordings: those
numbers are transductive over each speaker's recordings, as they would be
for a user who passes all of a speaker's files together.

Usage::

    python benchmarks/bench_cross_corpus.py [--data DIR] [--folds 3]
        [--cache-dir DIR] [--no-previous] [--json FILE]

``--data`` holds ``ravdess/``, ``emodb/`` and ``tess/manifest.csv``; it
defaults to ``$HSER_DATA_DIR`` or ``../shared/data``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone

CLASSES = ("angry", "happy", "neutral", "sad")
BASELINE = "egemaps"


class SpeakerZScore(TransformerMixin, BaseEstimator):
    """Z-score the features of ``transformer`` over each speaker's recordings.

    The per-speaker normalisation a practitioner adds to a plain pipeline:
    each speaker's mean and standard deviation are computed over that
    speaker's rows in the call (training or test), so it needs a DataFrame
    with a ``speaker`` column and several recordings per speaker.
    """

    def __init__(self, transformer):
        self.transformer = transformer

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):
        self.transformer_ = clone(self.transformer)
        return self._zscore(self.transformer_.fit_transform(X, y), X)

    def transform(self, X):
        return self._zscore(self.transformer_.transform(X), X)

    @staticmethod
    def _zscore(features, X):
        features = np.asarray(features, dtype=np.float64)
        out = np.empty_like(features)
        for speaker in pd.unique(X["speaker"]):
            rows = (X["speaker"] == speaker).to_numpy()
            part = features[rows]
            out[rows] = (part - part.mean(axis=0)) / (part.std(axis=0) + 1e-8)
        return out


def load_corpora(data: Path) -> dict:
    from sklearn_hser.datasets import load_emodb, load_manifest, load_ravdess

    return {
        "ravdess": load_ravdess(data / "ravdess"),
        "emodb": load_emodb(data / "emodb"),
        "tess": load_manifest(data / "tess" / "manifest.csv"),
    }


def flat_systems(config, cache_dir, previous: bool) -> dict:
    """Unfitted flat speech pipelines, by row name."""
    from sklearn.pipeline import make_pipeline

    from sklearn_hser.features import GeMAPS, SpeakerNormalizer, WhisperEmbeddings
    from sklearn_hser.systems import linear_classifier

    def egemaps():
        return GeMAPS(feature_set="eGeMAPSv02", column="audio", cache_dir=cache_dir)

    systems = {
        "egemaps": make_pipeline(egemaps(), linear_classifier(config)),
        "egemaps-z": make_pipeline(SpeakerZScore(egemaps()), linear_classifier(config)),
    }
    if previous:
        whisper = WhisperEmbeddings(column="audio", cache_dir=cache_dir)
        systems["previous"] = make_pipeline(
            SpeakerNormalizer(whisper), linear_classifier(config)
        )
    return systems


def scenarios(corpora: dict, n_folds: int):
    """``(scenario, test name, train frame, test frame)`` in the order run."""
    from sklearn_hser.datasets import concat_corpora

    for left_out in corpora:
        train = concat_corpora({n: c for n, c in corpora.items() if n != left_out})
        test = concat_corpora({left_out: corpora[left_out]})
        yield "loco", left_out, train, test
    ravdess = concat_corpora({"ravdess": corpora["ravdess"]})
    for other in ("emodb", "tess"):
        yield "ravdess-only", other, ravdess, concat_corpora({other: corpora[other]})
    actors = sorted(ravdess["speaker"].unique())
    for k in range(n_folds):
        held_out = ravdess["speaker"].isin(actors[k::n_folds]).to_numpy()
        yield (
            "held-out actors",
            f"fold {k + 1}",
            ravdess[~held_out].reset_index(drop=True),
            ravdess[held_out].reset_index(drop=True),
        )


def score(y_true, y_pred) -> dict:
    """The package's evaluation record, reduced to the table's columns (a
    recall is None for a class absent from the test set)."""
    from sklearn_hser.metrics import scores_record

    record = scores_record(y_true, y_pred, labels=CLASSES)
    return {
        "UA": record["UA"],
        "WA": record["WA"],
        "recall": {c: record["per_class"][c]["recall"] for c in CLASSES},
        "share": {c: float(np.mean(np.asarray(y_pred) == c)) for c in CLASSES},
    }


def run(corpora, config, cache_dir, n_folds, previous, log) -> list:
    from sklearn_hser.experiments import fit_system
    from sklearn_hser.systems import RECOMMENDED_SYSTEM

    rows = []
    for scenario, test_name, train, test in scenarios(corpora, n_folds):
        y = train["label"].to_numpy()
        models = {}
        start = time.perf_counter()
        models["recommended"], info = fit_system(
            train, RECOMMENDED_SYSTEM, config, cache_dir=cache_dir
        )
        for name, pipeline in flat_systems(config, cache_dir, previous).items():
            models[name] = pipeline.fit(train, y)
        hierarchy = models.pop("recommended")
        # One pass of the sub-models gives the hierarchy, its speech models
        # alone (the flat model with the flat gate) and, beside them, its
        # text model alone.
        outputs = hierarchy.outputs(test, proba=False)
        predictions = {
            "recommended": outputs.predict(),
            "rec:speech-only": outputs.speech_only,
            "rec:text-only": hierarchy.text_.predict(test),
        }
        predictions.update({name: m.predict(test) for name, m in models.items()})
        for name, y_pred in predictions.items():
            result = score(test["label"].to_numpy(), y_pred)
            rows.append(
                {"scenario": scenario, "test": test_name, "system": name, **result}
            )
        scored = rows[-len(predictions) :]
        log(
            f"{scenario:<15} {test_name:<8} trained on {len(train)}: "
            + ", ".join(f"{r['system']} {r['UA']:.3f}" for r in scored)
            + f"  (recommended chose gate {info['gate_labels']}, "
            f"threshold {info['threshold']}; {time.perf_counter() - start:.0f} s)"
        )
    return rows


def format_table(rows) -> str:
    from sklearn_hser.metrics import format_score

    head = (
        f"{'scenario':<15} {'test':<8} {'system':<16} {'UA':>6} {'WA':>6}   "
        + " ".join(f"R:{c[:3]:>4}" for c in CLASSES)
        + "   "
        + " ".join(f"S:{c[:3]:>4}" for c in CLASSES)
    )
    legend = "R: recall of each class; S: share of the test set predicted as it"
    lines = [legend, head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['scenario']:<15} {r['test']:<8} {r['system']:<16} "
            f"{r['UA']:6.3f} {r['WA']:6.3f}   "
            + " ".join(f"{format_score(r['recall'][c], digits=2):>6}" for c in CLASSES)
            + "   "
            + " ".join(f"{r['share'][c]:6.2f}" for c in CLASSES)
        )
    lines.append("")
    lines.append("Mean UA per scenario (difference to the plain eGeMAPS baseline):")
    frame = pd.DataFrame(rows)
    for scenario, part in frame.groupby("scenario", sort=False):
        means = part.groupby("system", sort=False)["UA"].mean()
        min_neutral = part.groupby("system", sort=False)["recall"].apply(
            lambda r: min(x["neutral"] for x in r if x["neutral"] is not None)
        )
        cells = ", ".join(
            f"{s} {m:.3f} ({m - means[BASELINE]:+.3f}; neutral recall >= "
            f"{min_neutral[s]:.2f})"
            for s, m in means.items()
        )
        lines.append(f"  {scenario:<15} {cells}")
    return "\n".join(lines)


def main(argv=None) -> int:
    from sklearn_hser.datasets import shared_data_dir
    from sklearn_hser.systems import RECOMMENDED_SYSTEM, ExperimentConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=shared_data_dir())
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--cache-dir", default=".hser-cache")
    parser.add_argument("--no-previous", dest="previous", action="store_false")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.data is None or not (args.data / "ravdess").is_dir():
        print("bench_cross_corpus: no data folder (--data or $HSER_DATA_DIR)")
        return 2
    start = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - start:6.0f} s] {message}", flush=True)

    corpora = load_corpora(args.data)
    log(", ".join(f"{n}: {len(c)} utterances" for n, c in corpora.items()))
    config = ExperimentConfig(systems=[RECOMMENDED_SYSTEM])
    rows = run(corpora, config, args.cache_dir, args.folds, args.previous, log)
    print()
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Prediction cost: the hierarchy against the flat speech-only baseline.

For each LSTM system of the study (``lstm-mfcc``, ``lstm-gemaps``,
``lstm-handcrafted``, ``lstm-wakehubert``), it fits, quickly (few epochs, on
a small synthetic corpus), the hierarchy as the study builds it
(``make_hierarchy``: the system's feature step shared by the gate and the
emotion model, plus the paper's BERT token embeddings + LSTM text model), the
same hierarchy without the shared step (each speech pipeline extracts its own
features, as before ``speech_features`` existed) and the flat baseline
(``SpeechOnlyClassifier`` over the same speech model), then times in the same
run:

* **latency**: ``predict`` on one 4-second utterance given as a WAV file
  path, features computed from scratch (every feature cache disabled,
  pretrained models already loaded by a warm-up call), for one utterance
  the gate sends to the text branch and one it sends to the emotion branch
  (the two routes of the hierarchy cost differently: the text branch adds
  BERT, the emotion branch a second classifier, and, without the shared
  step, a second speech feature extraction);
* **throughput**: ``predict`` on a batch of 4-second WAV files (utterances
  per second).

It prints milliseconds, utterances per second and the ratios
``hierarchy / flat`` (time), the flat baseline being the named alternative.

Usage::

    python benchmarks/bench_predict_latency.py [--quick]
        [--systems lstm-mfcc,lstm-gemaps,lstm-handcrafted,lstm-wakehubert]
        [--batch 64] [--repeat 5] [--epochs 3] [--threads 1]
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

LSTM_SYSTEMS = "lstm-mfcc,lstm-gemaps,lstm-handcrafted,lstm-wakehubert"


def _write_utterances(folder: Path, n: int, seconds: float):
    """``n`` synthetic utterances of ``seconds`` s as WAV files + transcripts."""
    import soundfile as sf

    from sklearn_hser.datasets import make_emotional_speech

    corpus = make_emotional_speech(
        n_sessions=1,
        n_per_speaker=max(4, -(-n // 2)),
        duration=(seconds, seconds),
        random_state=1,
    ).iloc[:n]
    paths = []
    for row in corpus.itertuples():
        path = folder / f"{row.id}.wav"
        sf.write(path, row.audio, 16000)
        paths.append(str(path))
    return corpus.assign(audio=paths).reset_index(drop=True)


def _drop_feature_caches(*estimators):
    """Disable the on-disk feature cache of every fitted extractor.

    Walks pipelines and wrappers (a ``SpeakerNormalizer``'s fitted
    ``transformer_``), since the extractor doing the work may be nested.
    """
    for estimator in estimators:
        if hasattr(estimator, "named_steps"):
            _drop_feature_caches(*estimator.named_steps.values())
            continue
        if hasattr(estimator, "transformer_"):
            _drop_feature_caches(estimator.transformer_)
        if "cache_dir" in estimator.get_params(deep=False):
            estimator.set_params(cache_dir=None)


def _timed(fn, repeat):
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes")
    parser.add_argument(
        "--systems", default=None, help=f"default {LSTM_SYSTEMS} (--quick: lstm-mfcc)"
    )
    parser.add_argument("--batch", type=int, default=64, help="throughput batch")
    parser.add_argument("--seconds", type=float, default=4.0, help="utterance length")
    parser.add_argument("--n-per-speaker", type=int, default=20, help="fit corpus")
    parser.add_argument("--epochs", type=int, default=3, help="LSTM epochs")
    parser.add_argument("--repeat", type=int, default=5, help="median of N runs")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args(argv)
    if args.quick:
        args.systems = args.systems or "lstm-mfcc"
        args.batch, args.repeat, args.n_per_speaker, args.epochs = 8, 2, 8, 1
    args.systems = args.systems or LSTM_SYSTEMS
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]

    import torch
    from sklearn.frozen import FrozenEstimator

    from sklearn_hser import HierarchicalClassifier, make_hierarchy
    from sklearn_hser.baselines import SpeechOnlyClassifier
    from sklearn_hser.datasets import make_emotional_speech
    from sklearn_hser.systems import SYSTEMS, ExperimentConfig, build_text_model

    unknown = [s for s in systems if s not in SYSTEMS or not s.startswith("lstm-")]
    if unknown:
        parser.error(f"unknown or non-LSTM system(s) {unknown}")
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    config = ExperimentConfig(corpus="demo", max_epochs=args.epochs)
    train = make_emotional_speech(n_sessions=2, n_per_speaker=args.n_per_speaker)

    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="hser-latency-") as tmp,
        tempfile.TemporaryDirectory(prefix="hser-fit-cache-") as fit_cache,
    ):
        batch = _write_utterances(Path(tmp), args.batch, args.seconds)
        print(
            f"fitted on {len(train)} synthetic utterances, {args.epochs} LSTM "
            f"epoch(s); predicting {args.seconds:g}-s WAV files, no feature cache; "
            f"torch threads {torch.get_num_threads()}, {os.cpu_count()} CPUs; "
            f"median of {args.repeat}"
        )
        sys.stdout.flush()
        text = build_text_model(config, fit_cache).fit(train, train["label"])
        for name in systems:
            speech = SYSTEMS[name].build(config, fit_cache)
            hierarchy = make_hierarchy(speech, FrozenEstimator(text))
            hierarchy.fit(train, train["label"])
            unshared = HierarchicalClassifier(speech, speech, FrozenEstimator(text))
            unshared.fit(train, train["label"])
            flat = SpeechOnlyClassifier(speech).fit(train, train["label"])
            _drop_feature_caches(
                hierarchy.speech_features_,
                unshared.speech_gate_,
                unshared.speech_emotion_,
                flat.speech_,
                text,
            )
            # Warm-up (pretrained models loaded, openSMILE started) and routes.
            branch = hierarchy.route(batch)["branch"].to_numpy()
            flat.predict(batch.iloc[:1])

            flat_batch = _timed(lambda: flat.predict(batch), args.repeat)
            hier_batch = _timed(lambda: hierarchy.predict(batch), args.repeat)
            unshared_batch = _timed(lambda: unshared.predict(batch), args.repeat)
            row = {
                "system": name,
                "flat_ups": len(batch) / flat_batch,
                "hier_ups": len(batch) / hier_batch,
                "batch_ratio": hier_batch / flat_batch,
                "unshared_ratio": unshared_batch / flat_batch,
            }
            for route in ("text", "speech_emotion"):
                picked = [i for i, b in enumerate(branch) if b == route]
                if not picked:
                    row[route] = None  # the gate sent no utterance this way
                    continue
                one = batch.iloc[picked[:1]]
                flat_one = _timed(lambda: flat.predict(one), args.repeat)
                hier_one = _timed(lambda: hierarchy.predict(one), args.repeat)
                unshared_one = _timed(lambda: unshared.predict(one), args.repeat)
                row[route] = (
                    1000 * flat_one,
                    1000 * hier_one,
                    hier_one / flat_one,
                    unshared_one / flat_one,
                )
            rows.append(row)
            print(f"  done: {name} ({(branch == 'text').mean():.0%} routed to text)")
            sys.stdout.flush()

    print()
    print(f"latency, one {args.seconds:g}-s utterance (ms; ratio hierarchy/flat):")
    header = f"{'system':<18}{'flat':>9}{'hier(text)':>12}{'ratio':>7}"
    header += f"{'hier(emo)':>11}{'ratio':>7}{'unshared(text/emo)':>20}"
    print(header)
    for row in rows:
        routes = [(row["text"], 12), (row["speech_emotion"], 11)]
        flat_ms = next(r[0] for r, _ in routes if r is not None)
        line = f"{row['system']:<18}{flat_ms:>9.0f}"
        unshared = []
        for route, width in routes:
            if route is None:
                line += f"{'-':>{width}}{'-':>7}"
                unshared.append("-")
            else:
                line += f"{route[1]:>{width}.0f}{route[2]:>7.2f}"
                unshared.append(f"{route[3]:.2f}")
        print(line + f"{' / '.join(unshared):>20}")
    print(f"\nthroughput, batch of {args.batch} (utterances/s; time hierarchy/flat):")
    print(f"{'system':<18}{'flat':>9}{'hierarchy':>11}{'ratio':>7}{'unshared':>10}")
    for row in rows:
        print(
            f"{row['system']:<18}{row['flat_ups']:>9.1f}{row['hier_ups']:>11.1f}"
            f"{row['batch_ratio']:>7.2f}{row['unshared_ratio']:>10.2f}"
        )
    print(
        "\nalternative: SpeechOnlyClassifier over the same fitted speech pipeline "
        "(flat); hier(text)/hier(emo): utterance routed to the text / emotion branch; "
        "unshared: ratio of the hierarchy without the shared feature step"
    )


if __name__ == "__main__":
    main()

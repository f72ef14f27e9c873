"""Accuracy on held-out speakers: every system against the plain baseline.

What a researcher would compare before adopting the package: the
recommended system, each of the paper's LSTM systems and a plain eGeMAPS +
StandardScaler + LogisticRegression pipeline, speech-only (S) and with the
text branch (ST), all measured in the same run over the same folds of
held-out speakers.

Protocol (RAVDESS by default: the 18 actors here, 6 folds of 3 actors):

* speakers are sorted and cut into ``--folds`` groups; fold ``k`` tests on
  group ``k`` with models trained on every group but ``k`` and ``k + 1``, so
  no number comes from a speaker seen in training or in the choice of gate
  and threshold;
* per model, one text model (the paper's BERT tokens -> LSTM) is fitted on
  the training transcripts and shared by every system;
* per system, the flat speech model (S) and the hierarchy (gate, emotion
  model, text) are fitted on the training speakers; the hierarchy's
  threshold, among :data:`~sklearn_hser.threshold_tuning.SEARCH_THRESHOLDS`,
  and its gate (the flat speech model, four-class with a separate emotion
  model, or the paper's neutral vs emotional; ``--gate-labels auto``) are
  chosen together by the one-standard-error rule against the
  flat speech model (``--selection``), then applied to the test speakers
  (ST); at threshold 0, where the text never overrides speech, only the flat
  speech model is a candidate (``--speech-only-gates reference``; ``every_gate``
  lets the other gates compete there as speech-only models);
* where they are chosen (``--choose-on``): by default by cross-validation
  over the other groups (``inner-cv``): each other group ``g`` is predicted
  by a model trained without ``g`` and without the test group, and the
  rule reads all of them, as :class:`~sklearn_hser.TunedThresholdHierarchyCV`
  and ``hser fit`` do over a user's speakers. It fits every pair of left-out
  groups (15 models for 6 groups, against 6), and each serves two folds.
  ``validation`` chooses on group ``k + 1`` alone (one group of 3 actors);
  with ``inner-cv`` that choice is scored too (the ``ST 1 group`` column);
* next to each system, a LogisticRegression over the same features (mean
  over frames where the system reads sequences) is scored on the same folds:
  a network that loses to a linear model on its own input has wrong defaults.

It prints one table: UA (mean and spread over folds, and per fold) of S, ST
with the chosen gate and threshold, ST with no threshold (the paper's plain
rule), and the linear model; then each system's UA difference to the plain
baseline. ``--test-corpus`` adds a cross-corpus table: every system trained
on all of the main corpus (threshold chosen on held-out speakers) and
scored on another corpus. ``--test-channel telephone`` keeps training and
validation audio as recorded but passes the test speakers' recordings
through a simulated telephone channel (300-3400 Hz band, -10 dB gain, white
noise at 20 dB SNR): a change of recording channel, one of the ways corpora
differ, measurable where no second corpus is at hand.

Usage::

    python benchmarks/bench_accuracy.py [--corpus ravdess] [--root DIR]
        [--systems lr-whisper,lr-egemaps,lstm-mfcc,...] [--folds 6]
        [--out DIR] [--test-corpus emodb --test-root DIR]
        [--no-speaker-normalization] [--gate-labels auto|flat|all|collapsed]
        [--lstm-seeds 5] [--selection one_se|best] [--test-channel telephone]
        [--choose-on inner-cv|validation] [--speech-only-gates reference|every_gate]
        [--save-predictions]

``--root`` defaults to ``$HSER_DATA_DIR/ravdess`` or ``../shared/data/ravdess``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_SYSTEMS = (
    "lr-whisper,lr-egemaps,lstm-mfcc,lstm-gemaps,lstm-handcrafted,lstm-wakehubert"
)
BASELINE = "lr-egemaps"

#: Where each fold's gate and threshold are chosen (see :func:`run_folds`).
CHOICES = ("inner-cv", "validation")


def _default_root() -> str:
    base = os.environ.get("HSER_DATA_DIR")
    if base:
        return str(Path(base) / "ravdess")
    repo = Path(__file__).resolve().parents[1]
    return str(repo.parent / "shared" / "data" / "ravdess")


def speaker_groups(speakers, n_groups: int) -> list:
    """Row positions of each group of speakers, the sorted names cut in order."""
    names = sorted(set(speakers))
    if len(names) < 3:
        raise SystemExit(f"need at least 3 speakers for folds; got {len(names)}")
    if n_groups < 3:
        # Each model leaves out two groups and trains on the rest.
        raise SystemExit(f"need at least 3 folds; got {n_groups}")
    n_groups = min(n_groups, len(names))
    # Consecutive groups, not strided: RAVDESS alternates male / female actors,
    # so three consecutive actors hold both genders.
    groups = np.array_split(np.array(names, dtype=object), n_groups)
    speakers = np.asarray(speakers, dtype=object)
    return [np.flatnonzero(np.isin(speakers, group)) for group in groups]


def model_pairs(n_groups: int, choose_on: str) -> list:
    """The groups each model leaves out, as sorted pairs.

    The model without groups ``k`` and ``k + 1`` is fold ``k``'s: it is tested
    on ``k`` and validated on ``k + 1``. Choosing by inner cross-validation
    also needs, for every other group ``g``, the model without ``k`` and
    ``g``: that is every pair. Each model serves two folds: without ``a`` and
    ``b``, it validates fold ``a``'s choice on ``b`` and fold ``b``'s on ``a``.
    """
    if choose_on == "validation":
        return sorted({tuple(sorted((k, (k + 1) % n_groups))) for k in range(n_groups)})
    return list(combinations(range(n_groups), 2))


def choose_setting(
    y_parts, predicted_parts, selection: str, speech_only_gates="reference"
):
    """The (gate, threshold) chosen on one or more groups of held-out speakers.

    Parameters
    ----------
    y_parts : list of ndarray
        True labels of each held-out group.
    predicted_parts : list of dict
        Per group, ``{(gate, threshold): predictions}``, the same keys in
        each, gate options outer and thresholds inner, the reference (the
        flat speech model) first.
    selection : str
        Rule of :func:`~sklearn_hser.selection.select_candidate`.
    speech_only_gates : str
        Which gates are candidates at threshold 0
        (:func:`~sklearn_hser.threshold_tuning.search_candidates`).

    Returns
    -------
    tuple
        The chosen key. Scored, like
        :class:`~sklearn_hser.TunedThresholdHierarchyCV`, by the mean UA over
        the groups, with the standard error from the pooled predictions.
    """
    from sklearn_hser.metrics import unweighted_accuracy as ua
    from sklearn_hser.selection import select_candidate_over_folds
    from sklearn_hser.threshold_tuning import search_candidates

    predicted = list(predicted_parts[0])
    gates = list(dict.fromkeys(g for g, _ in predicted))
    thresholds = list(dict.fromkeys(t for _, t in predicted))
    searched = set(
        search_candidates(gates, thresholds, speech_only_gates=speech_only_gates)
    )
    keys = [key for key in predicted if key in searched]
    chosen = select_candidate_over_folds(
        [
            [ua(y, part[key]) for key in keys]
            for y, part in zip(y_parts, predicted_parts)
        ],
        list(y_parts),
        [[part[key] for key in keys] for part in predicted_parts],
        scoring="ua",
        selection=selection,
    )
    return keys[chosen]


def telephone_channel(waveform, rng, *, snr_db=20.0, gain_db=-10.0):
    """``waveform`` (16 kHz) as heard through a simulated telephone line.

    Band-limited to 300-3400 Hz (4th-order Butterworth band-pass), attenuated
    by ``gain_db`` and mixed with white noise ``snr_db`` below the signal.
    """
    from scipy.signal import butter, sosfiltfilt

    band = butter(4, [300, 3400], btype="bandpass", fs=16000, output="sos")
    signal = sosfiltfilt(band, np.asarray(waveform, dtype=np.float64))
    signal *= 10 ** (gain_db / 20)
    power = np.mean(signal**2) if signal.size else 0.0
    noise = rng.normal(scale=np.sqrt(power / 10 ** (snr_db / 10)), size=signal.shape)
    return np.clip(signal + noise, -1.0, 1.0).astype(np.float32)


def through_channel(corpus, channel: str, seed: int = 0):
    """A copy of ``corpus`` whose audio went through ``channel``."""
    from sklearn_hser.features import load_audio

    rng = np.random.default_rng(seed)
    degrade = {"telephone": telephone_channel}[channel]
    audio = [degrade(load_audio(item), rng) for item in corpus["audio"]]
    return corpus.assign(audio=pd.Series(audio, index=corpus.index, dtype=object))


def _linear_twin_features(speech, corpus):
    """Features of ``speech``'s extraction step, pooled to one vector each."""
    from sklearn_hser._sequences import is_sequence_array, pool_sequences

    extractor = speech.steps[0][1]
    features = extractor.fit_transform(corpus)
    if is_sequence_array(features):
        features = pool_sequences(features, "mean")
    return np.asarray(features, dtype=np.float32)


def _fit_gate_options(speech, text, train, gates) -> dict:
    """``{gate_labels: hierarchy}``, one per gate option, fitted on ``train``.

    ``text`` is fitted and used frozen; a memory shared by the gate options
    fits what they have in common once.
    """
    import tempfile

    from sklearn.frozen import FrozenEstimator

    from sklearn_hser import make_hierarchy

    hierarchies = {}
    with tempfile.TemporaryDirectory(prefix="hser-gates-") as memory:
        for gate in gates:
            hierarchies[gate] = make_hierarchy(
                speech, FrozenEstimator(text), gate_labels=gate, memory=memory
            ).fit(train, train["label"].to_numpy())
            hierarchies[gate].set_params(memory=None)
    return hierarchies


def fit_held_out_models(
    corpus, systems, config, cache_dir, groups, pairs, log, test_view
):
    """Fit one model per pair of left-out groups, yielding ``(pair, store)``.

    ``store`` holds every prediction the folds are scored from, filled as
    each model is done; it has four entries, each ``{system: ...}``:

    * ``held_out[name][pair, g]``: ``{(gate, threshold): predictions}`` on
      group ``g`` of the model trained without both groups of ``pair``;
    * ``on_test[name][k]``: the same for fold ``k``'s test rows, read from
      ``test_view`` (the same rows, other audio) when given;
    * ``flat_test[name][k]``: the flat speech model's (S) test predictions:
      the speech-only result of the hierarchy with the ``"flat"`` gate,
      fitted with the gate options (no second fit of the speech model);
    * ``twin_test[name][k]``: those of a LogisticRegression over the same
      features, pooled over frames.

    Fold ``k``'s test model is the one without groups ``k`` and ``k + 1``.
    """
    from sklearn_hser.systems import SYSTEMS, build_text_model, linear_classifier
    from sklearn_hser.threshold_tuning import SEARCH_THRESHOLDS

    y = corpus["label"].to_numpy()
    n = len(groups)
    candidates = list(SEARCH_THRESHOLDS)
    test_source = corpus if test_view is None else test_view
    gates = config.gate_options()
    store = {
        key: {name: {} for name in systems}
        for key in ("held_out", "on_test", "flat_test", "twin_test")
    }
    twins, test_twins = {}, {}  # pooled features of the corpus and the test view

    def rows(frame, positions):
        return frame.iloc[positions].reset_index(drop=True)

    for number, pair in enumerate(pairs, 1):
        train = np.setdiff1d(
            np.arange(len(y)), np.concatenate([groups[g] for g in pair])
        )
        tr = rows(corpus, train)
        test_folds = [k for k in range(n) if set(pair) == {k, (k + 1) % n}]
        start = time.perf_counter()
        text = build_text_model(config, cache_dir).fit(tr, y[train])
        log(
            f"model {number}/{len(pairs)} (without groups {pair[0] + 1} and "
            f"{pair[1] + 1}): text model {time.perf_counter() - start:.0f} s"
        )
        for name in systems:
            start = time.perf_counter()
            speech = SYSTEMS[name].build(config, cache_dir)
            # The flat gate too, searched or not: its speech-only result is S.
            fitted = list(dict.fromkeys([*gates, "flat"]))
            hierarchies = _fit_gate_options(speech, text, tr, fitted)

            def predictions(frame, positions):
                view = rows(frame, positions)
                out = {}
                for gate in gates:
                    by_t = hierarchies[gate].predict_for_thresholds(view, candidates)
                    out.update({(gate, t): by_t[t] for t in candidates})
                return out

            held_out = store["held_out"][name]
            for g in pair:
                held_out[pair, g] = predictions(corpus, groups[g])
            for k in test_folds:
                store["on_test"][name][k] = (
                    held_out[pair, k]
                    if test_view is None
                    else predictions(test_view, groups[k])
                )
                flat = hierarchies["flat"].outputs(
                    rows(test_source, groups[k]), proba=False
                )
                store["flat_test"][name][k] = flat.speech_only
                if name not in twins:
                    twins[name] = _linear_twin_features(speech, corpus)
                    test_twins[name] = (
                        twins[name]
                        if test_view is None
                        else _linear_twin_features(speech, test_view)
                    )
                twin = linear_classifier(config).fit(twins[name][train], y[train])
                store["twin_test"][name][k] = twin.predict(test_twins[name][groups[k]])
            log(f"  {name:<18} ({time.perf_counter() - start:.0f} s)")
        yield pair, store


def score_fold(store, y, groups, name, k, config, choose_on, log) -> dict:
    """Fold ``k``'s numbers for system ``name``, from the held-out models.

    The gate and threshold are chosen by :func:`choose_setting` on group
    ``k + 1`` alone and, with ``choose_on="inner-cv"``, on every group but
    ``k`` (the ``ST`` entry then; the one-group choice is ``ST-1group``).
    """
    from sklearn_hser.metrics import unweighted_accuracy as ua

    n = len(groups)
    held_out, on_test = store["held_out"][name], store["on_test"][name][k]
    y_test = y[groups[k]]
    nxt = (k + 1) % n
    one_group = choose_setting(
        [y[groups[nxt]]],
        [held_out[tuple(sorted((k, nxt))), nxt]],
        config.selection,
        config.speech_only_gates,
    )
    chosen = one_group
    if choose_on == "inner-cv":
        others = [g for g in range(n) if g != k]
        chosen = choose_setting(
            [y[groups[g]] for g in others],
            [held_out[tuple(sorted((k, g))), g] for g in others],
            config.selection,
            config.speech_only_gates,
        )
    gate, best = chosen
    result = {
        "S": ua(y_test, store["flat_test"][name][k]),
        "ST": ua(y_test, on_test[chosen]),
        "ST-none": ua(y_test, on_test[gate, None]),
        "LR": ua(y_test, store["twin_test"][name][k]),
        "t": best,
        "gate": gate,
    }
    message = (
        f"fold {k + 1}/{n} {name:<18} S {result['S']:.3f}  ST "
        f"{result['ST']:.3f} (gate {gate}, t={best})  LR-twin {result['LR']:.3f}"
    )
    if choose_on == "inner-cv":
        result["ST-1group"] = ua(y_test, on_test[one_group])
        result["t-1group"], result["gate-1group"] = one_group[1], one_group[0]
        message += (
            f"  [chosen on group {nxt + 1} alone: ST {result['ST-1group']:.3f} "
            f"(gate {one_group[0]}, t={one_group[1]})]"
        )
    log(message)
    return result


def run_folds(
    corpus,
    systems,
    config,
    cache_dir,
    groups,
    log,
    test_view=None,
    choose_on=CHOICES[0],
    save_predictions=None,
):
    """Scores per system and fold of held-out speaker ``groups``.

    ``test_view``: the corpus the test rows are read from (the same rows,
    other audio), default ``corpus``. ``choose_on``: where each fold's gate
    and threshold are chosen: ``"inner-cv"``, every other group, each
    predicted by a model trained without it and without the test group;
    ``"validation"``, group ``k + 1`` alone. With ``"inner-cv"`` the choice on
    group ``k + 1`` alone is scored too (``ST-1group``), from the same models.
    ``save_predictions``: a path to write every model's predictions to
    (joblib), so that other selection rules can be compared without refits.
    """
    if choose_on not in CHOICES:
        raise ValueError(f"choose_on must be one of {CHOICES}; got {choose_on!r}")
    y = corpus["label"].to_numpy()
    n = len(groups)
    pairs = model_pairs(n, choose_on)
    # Each fold is scored, and logged, as soon as the models it reads exist.
    needs = [
        {p for p in pairs if k in p and (choose_on == "inner-cv" or (k + 1) % n in p)}
        for k in range(n)
    ]
    per_fold = {name: {} for name in systems}
    done = set()
    models = fit_held_out_models(
        corpus, systems, config, cache_dir, groups, pairs, log, test_view
    )
    for pair, store in models:
        done.add(pair)
        for k in range(n):
            if k not in per_fold[systems[0]] and needs[k] <= done:
                for name in systems:
                    per_fold[name][k] = score_fold(
                        store, y, groups, name, k, config, choose_on, log
                    )
    if save_predictions is not None:
        import joblib

        joblib.dump({"y": y, "groups": groups, **store}, save_predictions)
    return {
        name: {
            key: [per_fold[name][k][key] for k in range(n)] for key in per_fold[name][0]
        }
        for name in systems
    }


def _cell(values) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def format_table(scores, baseline: str | None) -> str:
    """UA per system: mean ± spread over folds, then S per fold.

    ``ST 1 group`` (when scored): ST with the gate and threshold chosen on
    the single validation group instead of by inner cross-validation.
    """
    one_group = all("ST-1group" in row for row in scores.values())
    header = (
        f"{'system':<18} {'S UA':>14} {'ST UA (t val)':>14} {'ST UA (t none)':>15} "
        + (f"{'ST 1 group':>14} " if one_group else "")
        + f"{'LR same feats':>14}  ST-S    S per fold"
    )
    lines = [header, "-" * len(header)]
    for name, row in scores.items():
        per_fold = " ".join(f"{v:.2f}" for v in row["S"])
        lines.append(
            f"{name:<18} {_cell(row['S']):>14} {_cell(row['ST']):>14} "
            f"{_cell(row['ST-none']):>15} "
            + (f"{_cell(row['ST-1group']):>14} " if one_group else "")
            + f"{_cell(row['LR']):>14} "
            f"{np.mean(row['ST']) - np.mean(row['S']):+.3f}  {per_fold}"
        )
    if baseline in scores:
        base = np.mean(scores[baseline]["S"])
        lines.append("")
        lines.append(f"UA difference to the plain baseline ({baseline}, S {base:.3f}):")
        for name, row in scores.items():
            if name != baseline:
                lines.append(
                    f"  {name:<18} S {np.mean(row['S']) - base:+.3f}   "
                    f"ST {np.mean(row['ST']) - base:+.3f}"
                )
    return "\n".join(lines)


def run_cross_corpus(corpus, test_corpus, systems, config, cache_dir, log):
    from sklearn_hser.baselines import SpeechOnlyClassifier
    from sklearn_hser.experiments import fit_system
    from sklearn_hser.metrics import unweighted_accuracy as ua
    from sklearn_hser.systems import SYSTEMS

    y, y_test = corpus["label"].to_numpy(), test_corpus["label"].to_numpy()
    rows = {}
    for name in systems:
        start = time.perf_counter()
        flat = SpeechOnlyClassifier(SYSTEMS[name].build(config, cache_dir))
        flat.fit(corpus, y)
        model, info = fit_system(corpus, name, config, cache_dir=cache_dir)
        rows[name] = {
            "S": ua(y_test, flat.predict(test_corpus)),
            "ST": ua(y_test, model.predict(test_corpus)),
            "t": info["threshold"],
            "gate": info["gate_labels"],
        }
        log(
            f"  cross-corpus {name:<18} S {rows[name]['S']:.3f}  ST "
            f"{rows[name]['ST']:.3f} (gate {info['gate_labels']}, "
            f"t={info['threshold']}) "
            f"({time.perf_counter() - start:.0f} s)"
        )
    return rows


def main(argv=None) -> int:
    from sklearn_hser.hierarchy import GATE_OPTIONS
    from sklearn_hser.selection import SELECTIONS
    from sklearn_hser.threshold_tuning import SPEECH_ONLY_GATES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="ravdess")
    parser.add_argument("--root", default=None)
    parser.add_argument("--systems", default=DEFAULT_SYSTEMS)
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--max-epochs", type=int, default=60)
    parser.add_argument("--out", default="hser-output/bench-accuracy")
    parser.add_argument(
        "--no-speaker-normalization",
        dest="speaker_normalization",
        action="store_false",
        help="the paper's raw features for the LSTM systems",
    )
    parser.add_argument("--test-corpus", default=None)
    parser.add_argument(
        "--test-channel",
        choices=("telephone",),
        default=None,
        help="pass the test speakers' audio through this simulated channel",
    )
    parser.add_argument("--test-root", default=None)
    parser.add_argument(
        "--gate-labels",
        choices=("auto", *GATE_OPTIONS),
        default="auto",
        help="the hierarchy's level-1 model: the flat four-class speech model, "
        "four-class with a separate emotion model, the paper's neutral vs "
        "emotional, or auto (chosen with the threshold on held-out speakers)",
    )
    parser.add_argument(
        "--lstm-seeds",
        type=int,
        default=5,
        help="LSTM networks averaged per model (1: the paper's single network)",
    )
    parser.add_argument(
        "--selection",
        choices=SELECTIONS,
        default="one_se",
        help="how the gate and threshold are chosen on held-out speakers: "
        "keep the flat speech model unless another setting beats it by more than "
        "one standard error, or the top score",
    )
    parser.add_argument(
        "--speech-only-gates",
        choices=SPEECH_ONLY_GATES,
        default="reference",
        help="which gates are candidates at threshold 0, where the text never "
        "overrides speech: the flat speech model alone (reference), or the "
        "paper's and the four-class gate with their emotion model too",
    )
    parser.add_argument(
        "--choose-on",
        choices=CHOICES,
        default=CHOICES[0],
        help="where each fold's gate and threshold are chosen: by cross-validation "
        "over every speaker group but the test one (inner-cv; about 2.5x the "
        "fits), or on the next group alone (validation)",
    )
    parser.add_argument(
        "--save-predictions",
        action="store_true",
        help="also write every model's held-out predictions to OUT/predictions.joblib",
    )
    args = parser.parse_args(argv)

    from sklearn_hser.cli._common import load_corpus
    from sklearn_hser.systems import ExperimentConfig

    warnings.filterwarnings("ignore", category=UserWarning)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    try:
        config = ExperimentConfig(
            corpus=args.corpus,
            systems=systems,
            max_epochs=args.max_epochs,
            speaker_normalization=args.speaker_normalization,
            gate_labels=args.gate_labels,
            lstm_seeds=args.lstm_seeds,
            selection=args.selection,
            speech_only_gates=args.speech_only_gates,
        )
    except ValueError as exc:  # e.g. an unknown system
        parser.error(str(exc))
    root = args.root if args.corpus == "demo" else (args.root or _default_root())
    corpus = load_corpus(args.corpus, root)
    out = Path(args.out)
    cache_dir = out / "cache"
    groups = speaker_groups(corpus["speaker"].astype(str).to_numpy(), args.folds)
    print(
        f"{args.corpus}: {len(corpus)} utterances, {corpus['speaker'].nunique()} "
        f"speakers, {len(groups)} folds of held-out speakers; systems {systems}; "
        f"speaker normalisation of the LSTM systems: {args.speaker_normalization}; "
        f"LSTM seeds averaged: {args.lstm_seeds}; selection: {args.selection} "
        f"({args.choose_on}; speech-only candidates: {args.speech_only_gates})",
        flush=True,
    )
    start = time.perf_counter()

    def log(message):
        print(message, file=sys.stderr, flush=True)

    test_view = None
    if args.test_channel:
        test_view = through_channel(corpus, args.test_channel)
        print(f"test speakers' audio through a simulated {args.test_channel} channel")
    out.mkdir(parents=True, exist_ok=True)
    scores = run_folds(
        corpus,
        systems,
        config,
        cache_dir,
        groups,
        log,
        test_view,
        args.choose_on,
        out / "predictions.joblib" if args.save_predictions else None,
    )
    print()
    print(format_table(scores, BASELINE))
    result = {
        "corpus": args.corpus,
        "folds": len(groups),
        "choose_on": args.choose_on,
        "test_channel": args.test_channel,
        "scores": scores,
    }
    if args.test_corpus:
        test_corpus = load_corpus(args.test_corpus, args.test_root)
        cross = run_cross_corpus(corpus, test_corpus, systems, config, cache_dir, log)
        print(f"\nCross-corpus: trained on {args.corpus}, tested on {args.test_corpus}")
        for name, row in cross.items():
            print(
                f"  {name:<18} S {row['S']:.3f}   ST {row['ST']:.3f} "
                f"(gate {row['gate']}, t={row['t']})"
            )
        result["cross_corpus"] = {"test_corpus": args.test_corpus, "scores": cross}
    (out / "accuracy.json").write_text(json.dumps(result, indent=1, default=str))
    print(f"\n{time.perf_counter() - start:.0f} s; numbers in {out / 'accuracy.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

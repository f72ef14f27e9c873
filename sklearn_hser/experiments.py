"""The paper's study as code: systems x splits x thresholds, with resumable runs.

For each speech classifier kind (a *system*: LSTM over MFCC, GeMAPS,
handcrafted or WakeHuBERT features; wav2vec2; ASR-fine-tuned wav2vec2) and
each split (speaker-dependent ``sd``, speaker-independent ``si``), a run

1. fits the flat speech baseline (the paper's *S* system) on the training set;
2. fits the hierarchy (gate, emotion model, and the split's text model) on
   the training set;
3. predicts the test set with no threshold (the paper's *ST* system) and at
   every threshold, from one pass of the sub-models;
4. picks the threshold that maximises UA on the validation set;
5. records per-class precision/recall, UA, WA, the correction counts (Fig. 2),
   the neutral precision-recall across thresholds (Fig. 3) and examples of
   samples re-classified by the text model (Table I).

The text model does not depend on the speech system, so it is fitted once per
split and shared (frozen) by every system's hierarchy.

Each finished run is written to ``<out>/runs/<system>-<split>.json`` together
with a digest of its configuration; a later call with the same configuration
reads it back instead of recomputing it, so an interrupted study resumes
where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ._labels import EMOTIONS, NEUTRAL

#: Thresholds tried by the paper.
PAPER_THRESHOLDS = (0.25, 0.30, 0.35, 0.40)

SPLITS = ("sd", "si")


@dataclass
class ExperimentConfig:
    """Everything that determines a study's numbers.

    Parameters
    ----------
    corpus : str
        ``"demo"``, ``"iemocap"`` or ``"ravdess"`` (reported, and picks the
        speaker-independent split).
    systems : list of str
        Names from :data:`SYSTEMS`.
    splits : list of str
        ``"sd"`` and/or ``"si"``.
    thresholds : list of float
        Thresholds of the modality-consistency rule.
    max_epochs : int
        Epoch budget of every LSTM (early stopping may end sooner).
    w2v_epochs : int
        Epoch budget of the wav2vec2 fine-tuning.
    w2v_path, w2v_asr_path : str or None
        Local wav2vec2-base and wav2vec2-base-960h checkpoints; their systems
        are skipped (and the report says so) when missing.
    bert_path : str or None
        Local BERT-family model for the text branch; ``None``: packaged MiniLM.
    random_state : int
        Seed of the splits and of every model.
    """

    corpus: str = "demo"
    systems: list = field(default_factory=lambda: ["lstm-mfcc"])
    splits: list = field(default_factory=lambda: list(SPLITS))
    thresholds: list = field(default_factory=lambda: list(PAPER_THRESHOLDS))
    max_epochs: int = 60
    w2v_epochs: int = 3
    w2v_path: str | None = None
    w2v_asr_path: str | None = None
    bert_path: str | None = None
    random_state: int = 0

    def digest(self, system: str, split: str) -> str:
        """A key of everything that affects one run's numbers."""
        relevant = asdict(self)
        relevant.update(systems=[system], splits=[split])
        text = json.dumps(relevant, sort_keys=True, default=str)
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


@dataclass(frozen=True)
class SpeechSystem:
    """One speech classifier kind of the study.

    Parameters
    ----------
    name : str
        Command-line name, e.g. ``"lstm-mfcc"``.
    family : str
        The paper's prefix: ``"LSTM"``, ``"w2v"`` or ``"w2vASR"``.
    encoder : str
        What turns audio into the classifier's input, for the report.
    build : callable
        ``build(config, cache_dir) -> estimator``: an unfitted speech
        classifier reading the ``audio`` column.
    checkpoint : str or None
        Name of the :class:`ExperimentConfig` field holding the local
        checkpoint the system needs, if any.
    features : str or None
        Short name of the LSTM's input features, shown in system names.
    """

    name: str
    family: str
    encoder: str
    build: Callable
    checkpoint: str | None = None
    features: str | None = None

    def label(self, kind: str, split: str) -> str:
        """Paper-style system name, e.g. ``LSTM[MFCC]-ST-D`` or ``w2v-S-I``."""
        tag = f"{self.family}[{self.features}]" if self.features else self.family
        return f"{tag}-{kind}-{'D' if split == 'sd' else 'I'}"


def lstm_classifier(config: ExperimentConfig, **params):
    """The paper's LSTM + 2 FC classifier with this study's defaults."""
    from .models import LSTMClassifier

    defaults = dict(
        hidden_size=64,
        fc_size=32,
        max_epochs=config.max_epochs,
        patience=8,
        validation_fraction=0.15,
        class_weight="balanced",
        random_state=config.random_state,
    )
    return LSTMClassifier(**{**defaults, **params})


def _lstm_over(extractor_factory):
    def build(config, cache_dir):
        from sklearn.pipeline import make_pipeline

        return make_pipeline(extractor_factory(cache_dir), lstm_classifier(config))

    return build


def _mfcc(cache_dir):
    from .features import MFCC

    return MFCC(column="audio", cache_dir=cache_dir)


def _gemaps(cache_dir):
    from .features import GeMAPS

    return GeMAPS(column="audio", cache_dir=cache_dir)


def _handcrafted(cache_dir):
    from .features import HandcraftedFeatures

    return HandcraftedFeatures(column="audio", cache_dir=cache_dir)


def _wakehubert(cache_dir):
    from .features import WakeHuBERTEmbeddings

    return WakeHuBERTEmbeddings(column="audio", cache_dir=cache_dir)


def _wav2vec2(checkpoint_field):
    def build(config, cache_dir):
        from .models import Wav2Vec2Classifier

        return Wav2Vec2Classifier(
            model_path=getattr(config, checkpoint_field),
            column="audio",
            max_epochs=config.w2v_epochs,
            random_state=config.random_state,
        )

    return build


#: The speech classifier kinds of the study, by command-line name.
SYSTEMS = {
    s.name: s
    for s in [
        SpeechSystem(
            "lstm-mfcc",
            "LSTM",
            "MFCC-39 mean (librosa)",
            _lstm_over(_mfcc),
            features="MFCC",
        ),
        SpeechSystem(
            "lstm-gemaps",
            "LSTM",
            "GeMAPSv01b functionals (openSMILE)",
            _lstm_over(_gemaps),
            features="GeMAPS",
        ),
        SpeechSystem(
            "lstm-handcrafted",
            "LSTM",
            "8 handcrafted features (Sahu 2019)",
            _lstm_over(_handcrafted),
            features="HC",
        ),
        SpeechSystem(
            "lstm-wakehubert",
            "LSTM",
            "WakeHuBERT-tiny mean embeddings (frozen, packaged ONNX)",
            _lstm_over(_wakehubert),
            features="WakeHuBERT",
        ),
        SpeechSystem(
            "w2v",
            "w2v",
            "wav2vec2-base, fine-tuned, CNN frozen",
            _wav2vec2("w2v_path"),
            checkpoint="w2v_path",
        ),
        SpeechSystem(
            "w2v-asr",
            "w2vASR",
            "wav2vec2-base-960h encoder, fine-tuned, CNN frozen",
            _wav2vec2("w2v_asr_path"),
            checkpoint="w2v_asr_path",
        ),
    ]
}


def build_text_model(config: ExperimentConfig, cache_dir):
    """BERT token embeddings -> LSTM -> 2 FC layers (the paper's Model 3)."""
    from sklearn.pipeline import make_pipeline

    from .features import BertTokenEmbeddings

    return make_pipeline(
        BertTokenEmbeddings(
            column="text", model_path=config.bert_path, cache_dir=cache_dir
        ),
        lstm_classifier(config, hidden_size=128, fc_size=64),
    )


def split_indices(corpus, config: ExperimentConfig) -> dict:
    """``{split: (train, validation, test)}`` positional indices per split.

    SD is stratified 80/10/10 over all rows. SI is the paper's protocol for
    IEMOCAP-like corpora (the synthetic one included): sessions 1-4 train,
    session 5 male validation, session 5 female test. RAVDESS has no
    sessions: actors 1-12 train, 13-14 validate, 15-18 test (two male and
    two female speakers in each held-out group).
    """
    from .datasets import speaker_dependent_split, speaker_independent_split

    out = {}
    for split in config.splits:
        if split == "sd":
            out[split] = speaker_dependent_split(
                corpus["label"], random_state=config.random_state
            )
        elif config.corpus == "ravdess":
            out[split] = speaker_independent_split(
                corpus,
                validation_speakers=["Actor_13", "Actor_14"],
                test_speakers=["Actor_15", "Actor_16", "Actor_17", "Actor_18"],
            )
        else:
            out[split] = speaker_independent_split(corpus)
    return out


def missing_checkpoint(system: SpeechSystem, config: ExperimentConfig) -> str | None:
    """Why ``system`` cannot run with ``config``, or None when it can."""
    if system.checkpoint is None:
        return None
    path = getattr(config, system.checkpoint)
    if path is None:
        flag = "--" + system.checkpoint.replace("_path", "").replace("_", "-")
        return f"no local checkpoint given ({flag})"
    if not Path(path, "config.json").is_file():
        return f"{path} is not a local checkpoint directory (no config.json)"
    return None


def evaluate_run(system, split, speech, text, data, config) -> dict:
    """Fit and evaluate the S and ST systems of one (system, split) pair.

    Parameters
    ----------
    system : SpeechSystem
        The speech classifier kind.
    split : str
        ``"sd"`` or ``"si"``.
    speech : estimator
        Unfitted speech classifier.
    text : estimator
        Fitted text model (used frozen).
    data : dict
        ``train``, ``val``, ``test`` corpus frames.
    config : ExperimentConfig
        The study's configuration.

    Returns
    -------
    dict
        JSON-ready record of the run.
    """
    from sklearn.frozen import FrozenEstimator

    from .baselines import SpeechOnlyClassifier
    from .hierarchy import make_hierarchy
    from .metrics import (
        confusion_table,
        correction_counts,
        neutral_precision_recall,
        system_row,
        unweighted_accuracy,
    )

    start = time.perf_counter()
    train, val, test = data["train"], data["val"], data["test"]
    y_train, y_val, y_test = (d["label"].to_numpy() for d in (train, val, test))
    flat = SpeechOnlyClassifier(speech).fit(train, y_train)
    # The two speech models share one feature extraction per sample.
    hierarchy = make_hierarchy(speech, FrozenEstimator(text))
    hierarchy.fit(train, y_train)

    thresholds = [None, *config.thresholds]
    # One pass of the sub-models per set: routes, text probabilities and the
    # predictions at every threshold all come from it.
    outputs = hierarchy.outputs(test, proba=False)
    on_test = outputs.predict_for_thresholds(thresholds)
    on_val = hierarchy.predict_for_thresholds(val, config.thresholds)
    best = max(config.thresholds, key=lambda t: unweighted_accuracy(y_val, on_val[t]))
    gate = outputs.gate
    text_proba = outputs.text_proba  # rows of the speech-neutral samples
    if text_proba is None:  # the gate routed nothing to the text model
        text_proba = np.empty((0, len(text.classes_)))

    flat_pred = flat.predict(test)
    rows = [
        {
            "kind": "S",
            "threshold": None,
            **system_row(system.label("S", split), y_test, flat_pred),
        }
    ]
    for t in thresholds:
        name = system.label("ST", split) + ("" if t is None else f" t={t:.2f}")
        row = system_row(name, y_test, on_test[t])
        row.update(kind="ST", threshold=t, chosen_on_validation=t == best)
        row.update(correction_counts(y_test, gate, on_test[t]))
        rows.append(row)
    curve = neutral_precision_recall(
        y_test,
        gate == NEUTRAL,
        text_proba,
        text.classes_,
        config.thresholds,
        emotion_pred=on_test[None],
    )
    confusion = {
        kind: confusion_table(y_test, pred)
        for kind, pred in (
            ("S", flat_pred),
            ("ST", on_test[None]),
            ("ST-chosen", on_test[best]),
        )
    }
    reclassified = (gate == NEUTRAL) & (y_test != NEUTRAL) & (on_test[None] != NEUTRAL)
    examples = test.loc[reclassified, ["id", "text", "label"]].head(10).copy()
    examples["speech_prediction"] = NEUTRAL
    examples["text_prediction"] = on_test[None][reclassified][: len(examples)]
    return {
        "system": system.name,
        "split": split,
        "speech_encoder": system.encoder,
        "n_train": len(train),
        "n_val": len(val),
        "n_test": len(test),
        "best_threshold_on_validation": best,
        "rows": rows,
        "confusion": {
            kind: {"labels": list(t.index), "matrix": t.to_numpy().tolist()}
            for kind, t in confusion.items()
        },
        "neutral_pr": curve.replace({np.nan: None}).to_dict(orient="records"),
        "examples": examples.rename(columns={"label": "true_label"}).to_dict(
            orient="records"
        ),
        "seconds": time.perf_counter() - start,
    }


def run_experiment(corpus, config: ExperimentConfig, out_dir, *, log=print) -> dict:
    """Run (or resume) the study and return every run's record.

    Parameters
    ----------
    corpus : pandas.DataFrame
        A corpus frame with ``audio``, ``text``, ``label``, ``speaker``,
        ``gender`` and ``session`` columns.
    config : ExperimentConfig
        What to run.
    out_dir : path-like
        Where runs, the feature cache and the fitted-model cache go.
    log : callable, default=print
        Progress messages.

    Returns
    -------
    dict
        ``{"config": ..., "runs": [...], "skipped": [...]}``.
    """
    out = Path(out_dir)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    cache_dir = out / "cache" / "features"
    unknown = [s for s in config.systems if s not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown system(s) {unknown}; choose from {list(SYSTEMS)}")
    labels = set(corpus["label"])
    if not labels <= set(EMOTIONS) or NEUTRAL not in labels:
        raise ValueError(f"corpus labels {sorted(labels)} are not the four-class set")

    runs, skipped = [], []
    for split, (train, val, test) in split_indices(corpus, config).items():
        data = {
            "train": corpus.iloc[train].reset_index(drop=True),
            "val": corpus.iloc[val].reset_index(drop=True),
            "test": corpus.iloc[test].reset_index(drop=True),
        }
        text = None
        for name in config.systems:
            system = SYSTEMS[name]
            reason = missing_checkpoint(system, config)
            if reason:
                skipped.append({"system": name, "split": split, "reason": reason})
                log(f"[{split}] {name}: skipped, {reason}")
                continue
            path = out / "runs" / f"{name}-{split}.json"
            digest = config.digest(name, split)
            if path.is_file():
                record = json.loads(path.read_text())
                if record.get("digest") == digest:
                    log(f"[{split}] {name}: done earlier, read from {path}")
                    runs.append(record)
                    continue
            if text is None:
                log(
                    f"[{split}] text model: fitting on {len(data['train'])} transcripts"
                )
                text = build_text_model(config, cache_dir).fit(
                    data["train"], data["train"]["label"]
                )
            log(f"[{split}] {name}: fitting S and ST systems")
            speech = system.build(config, cache_dir)
            record = evaluate_run(system, split, speech, text, data, config)
            record["digest"] = digest
            path.write_text(json.dumps(record, indent=1, default=_json_default))
            runs.append(record)
            st = next(
                r
                for r in record["rows"]
                if r["kind"] == "ST" and r["threshold"] is None
            )
            ua, wa, seconds = st["UA"], st["WA"], record["seconds"]
            log(f"[{split}] {name}: ST UA {ua:.3f} WA {wa:.3f} ({seconds:.0f} s)")
    return {"config": asdict(config), "runs": runs, "skipped": skipped}


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")

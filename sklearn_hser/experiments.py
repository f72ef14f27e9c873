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

import json
import os
import tempfile
import time
from dataclasses import asdict
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)

from ._algorithm import THRESHOLD
from ._atomic import atomic_write_text, exclusive_lock, strict_json
from ._fingerprint import corpus_fingerprint
from ._labels import EMOTIONS, NEUTRAL
from .metrics import format_score
from .systems import (
    RECOMMENDED_SYSTEM,
    SPLITS,
    SYSTEMS,
    ExperimentConfig,
    SpeechSystem,
    build_text_model,
    missing_checkpoint,
)
from .threshold_tuning import SEARCH_THRESHOLDS, TunedThresholdHierarchyCV


@validate_params(
    {
        "corpus": [pd.DataFrame],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def speaker_folds(corpus, n_splits: int = 3, random_state: int = 0):
    """Cross-validation folds that hold out whole speakers, as ``cv=``.

    A threshold (or any setting) chosen on these folds is chosen on speakers
    the models did not train on, as it will be used. With fewer than
    ``n_splits`` speakers, stratified folds over utterances are used instead
    (and the choice is then speaker-dependent).

    Returns
    -------
    cv : cross-validation splitter
    groups : ndarray or None
        The groups to pass to ``split`` / ``fit(..., groups=)``.
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    speakers = corpus["speaker"].astype(str).to_numpy()
    if len(np.unique(speakers)) >= n_splits:
        cv = StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state)
        return cv, speakers
    return StratifiedKFold(n_splits, shuffle=True, random_state=random_state), None


@validate_params(
    {
        "corpus": [pd.DataFrame],
        "system": [StrOptions(set(SYSTEMS))],
        "config": [ExperimentConfig, None],
        "threshold": [StrOptions({"auto"}), *THRESHOLD],
        "cache_dir": [str, os.PathLike, None],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "text_model": [HasMethods(["predict_proba"]), None],
        "routing_validation": [pd.DataFrame, None],
    },
    # The models are built from the config's values: let them check those.
    prefer_skip_nested_validation=False,
)
def fit_system(
    corpus,
    system: str = RECOMMENDED_SYSTEM,
    config: ExperimentConfig | None = None,
    *,
    threshold="auto",
    cache_dir=None,
    n_splits: int = 3,
    text_model=None,
    routing_validation=None,
):
    """Fit one hierarchical system on a whole corpus, ready to save.

    Parameters
    ----------
    corpus : pandas.DataFrame
        Corpus frame with ``audio``, ``text``, ``label`` and ``speaker``.
    system : str, default=RECOMMENDED_SYSTEM
        Name from :data:`SYSTEMS`.
    config : ExperimentConfig, optional
        Epoch budgets, checkpoints, seed.
    threshold : "auto", float in [0, 1] or None, default="auto"
        ``"auto"`` chooses it from :data:`SEARCH_THRESHOLDS` by
        UA over ``n_splits`` folds of held-out speakers
        (:class:`~sklearn_hser.TunedThresholdHierarchyCV`), then refits on
        everything; a number or ``None`` is used as it is. The gate
        (``config.gate_labels="auto"``) is chosen in the same search, also
        for a fixed threshold.
    cache_dir : path-like, optional
        Feature cache shared by the folds and the final fit.
    n_splits : int, default=3
        Folds of the threshold search.
    text_model : fitted classifier or None, default=None
        A text model already fitted elsewhere (e.g. on a text corpus by
        :func:`~sklearn_hser.text_models.fit_text_model`), used as it is
        (frozen) as the hierarchy's text branch; its classes must be the
        corpus's. ``None``: the paper's text model
        (:func:`build_text_model`) is fitted on the corpus's transcripts.
    routing_validation : pandas.DataFrame or None, default=None
        Labelled utterances whose words carry the emotion (e.g. voiced
        text-corpus sentences, :func:`~sklearn_hser.datasets.voice_texts`).
        When given, the hierarchy's ``speech_confidence`` and
        ``voice_familiarity`` (when the words decide though the voice named an
        emotion) are chosen with the threshold, on these and on held-out
        speakers of ``corpus`` (:func:`~sklearn_hser.word_routing.choose_routing`),
        after the gate is chosen; otherwise the paper's routing is kept.

    Returns
    -------
    model : HierarchicalClassifier
        Fitted on the whole corpus, ``threshold`` set; its two speech models
        share one feature step (:func:`~sklearn_hser.make_hierarchy`), so
        per-speaker statistics see all of a speaker's recordings.
    info : dict
        ``threshold`` and ``gate_labels``; after a search, also the mean
        validation UA of every threshold with the chosen gate
        (``threshold_scores``) and of each gate at its best threshold
        (``gate_scores``).
    """
    from .hierarchy import make_hierarchy

    config = config or ExperimentConfig(systems=[system])
    speech = SYSTEMS[system].build(config, cache_dir)
    y = corpus["label"].to_numpy()
    if text_model is None:
        text = build_text_model(config, cache_dir)
    else:
        text = _frozen_text_model(text_model, y)
    gates = config.gate_options()
    candidates = list(SEARCH_THRESHOLDS) if threshold == "auto" else [threshold]
    cv, groups = speaker_folds(corpus, n_splits, config.random_state)

    def listening(model, info):
        """``model`` and ``info`` with the routing chosen, when asked for."""
        if routing_validation is None:
            return model, info
        from .word_routing import choose_routing

        _, held_out = next(cv.split(corpus, y, groups))
        choice, scores = choose_routing(
            model, corpus, routing_validation, held_out=held_out, thresholds=candidates
        )
        model.set_params(**choice)
        if choice["voice_familiarity"] is not None:
            from .familiarity import _fit_familiarity

            # What a refit would add: the familiarity of the training voices.
            # The sub-models stay as they are, fitted on the same data.
            model.familiarity_ = _fit_familiarity(corpus, model._speech_input(corpus))
        return model, {
            **info,
            **choice,
            "routing_scores": {
                "@".join(map(str, key)): value for key, value in scores.items()
            },
        }

    if threshold != "auto" and len(gates) == 1:
        model = make_hierarchy(speech, text, threshold=threshold, gate_labels=gates[0])
        info = {"threshold": threshold, "gate_labels": gates[0]}
        return listening(model.fit(corpus, y), info)
    with tempfile.TemporaryDirectory(prefix="hser-gates-") as memory:
        # The memory fits what the gate options share once per fold.
        tuner = TunedThresholdHierarchyCV(
            make_hierarchy(speech, text, memory=memory),
            thresholds=candidates,
            gate_labels=gates,
            cv=cv,
            selection=config.selection,
            speech_only_gates=config.speech_only_gates,
        ).fit(corpus, y, groups=groups)
        tuner.estimator_.set_params(memory=None)
    results = tuner.cv_results_
    searched = list(zip(results["param_gate_labels"], results["param_threshold"]))
    mean = dict(zip(searched, results["mean_test_score"]))
    return listening(
        tuner.estimator_,
        {
            "threshold": tuner.best_threshold_,
            "gate_labels": tuner.best_gate_labels_,
            "threshold_scores": {
                str(t): float(v)
                for (g, t), v in mean.items()
                if g == tuner.best_gate_labels_
            },
            "gate_scores": {
                g: float(max(v for (h, _), v in mean.items() if h == g)) for g in gates
            },
        },
    )


def _frozen_text_model(text_model, y):
    """``text_model`` wrapped so that fitting the hierarchy leaves it as it is."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(text_model)
    missing = sorted(set(map(str, np.unique(y))) - set(map(str, text_model.classes_)))
    if missing:
        raise ValueError(
            f"The text model knows the classes {list(text_model.classes_)}, "
            f"not {missing} of the speech corpus."
        )
    return FrozenEstimator(text_model)


@validate_params(
    {"corpus": [pd.DataFrame], "config": [ExperimentConfig]},
    # The splitters check the config's seed and speakers.
    prefer_skip_nested_validation=False,
)
def split_indices(corpus, config: ExperimentConfig) -> dict:
    """``{split: (train, validation, test)}`` positional indices per split.

    The speaker-independent (SI) split of EmoDB, manifest and combined
    corpora (:func:`~sklearn_hser.datasets.concat_corpora`) holds out
    speakers drawn from those present
    (:func:`~sklearn_hser.datasets.speaker_holdout_split`); the others:

    SD is stratified 80/10/10 over all rows. SI is the paper's protocol for
    IEMOCAP-like corpora (the synthetic one included): sessions 1-4 train,
    session 5 male validation, session 5 female test, unless
    ``config.si_validation_speakers`` and ``config.si_test_speakers`` name the
    held-out speakers. RAVDESS has no sessions: without named speakers they
    are chosen from the actors present by
    ``sklearn_hser.datasets.splits.balanced_held_out_speakers`` (on the 18
    actors of the four-class subset: 13-14 validate, 15-18 test).
    """
    from .datasets import speaker_dependent_split, speaker_independent_split
    from .datasets.splits import balanced_held_out_speakers

    out = {}
    for split in config.splits:
        if split == "sd":
            out[split] = speaker_dependent_split(
                corpus["label"], random_state=config.random_state
            )
        elif config.corpus == "ravdess" or _given_speakers(config):
            val, test = config.si_validation_speakers, config.si_test_speakers
            if not _given_speakers(config):
                val, test = balanced_held_out_speakers(corpus)
            out[split] = speaker_independent_split(
                corpus, validation_speakers=val, test_speakers=test
            )
        elif config.corpus in ("emodb", "manifest") or "corpus" in corpus:
            from .datasets import speaker_holdout_split

            out[split] = speaker_holdout_split(corpus, random_state=config.random_state)
        else:
            out[split] = speaker_independent_split(corpus)
    return out


def _given_speakers(config: ExperimentConfig) -> bool:
    return (
        config.si_validation_speakers is not None or config.si_test_speakers is not None
    )


def _chosen_on_validation(speech, text, train, val, config):
    """The gate and threshold chosen on ``val``, and the flat speech model.

    :class:`~sklearn_hser.threshold_tuning.TunedThresholdHierarchyCV` over one
    predefined split (``train`` to fit, ``val`` to score) with
    ``refit=False``: its ``estimator_`` is the hierarchy of the chosen gate,
    fitted on ``train``. ``text`` is fitted, and used frozen. The candidates
    are ``config.thresholds`` and then None (the plain text argmax).

    Returns the tuner and the hierarchy with the ``"flat"`` gate fitted on
    ``train``, whose speech-only result is the S system: the tuner's
    ``estimator_`` when the search chose that gate, else one whose gate is
    ``speech``'s model, read back from the search's cache of sub-model fits
    rather than trained a second time.
    """
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import PredefinedSplit

    from .hierarchy import make_hierarchy

    data = pd.concat([train, val], ignore_index=True)
    fold = np.r_[np.full(len(train), -1), np.zeros(len(val), dtype=int)]
    y = data["label"].to_numpy()
    # A memory shared by the gate options fits what they have in common once.
    with tempfile.TemporaryDirectory(prefix="hser-gates-") as memory:
        hierarchy = make_hierarchy(speech, FrozenEstimator(text), memory=memory)
        tuner = TunedThresholdHierarchyCV(
            hierarchy,
            thresholds=[*config.thresholds, None],
            gate_labels=config.gate_options(),
            cv=PredefinedSplit(fold),
            selection=config.selection,
            speech_only_gates=config.speech_only_gates,
            refit=False,
        ).fit(data, y)
        tuner.estimator_.set_params(memory=None)
        if tuner.best_gate_labels_ == "flat":
            return tuner, tuner.estimator_
        # The same rows the search fitted on, so that the memory answers.
        flat = clone(hierarchy).set_params(gate_labels="flat")
        flat.fit(data.iloc[: len(train)], y[: len(train)])
    return tuner, flat


@validate_params(
    {
        "system": [SpeechSystem],
        "split": [StrOptions(set(SPLITS))],
        "speech": [HasMethods(["fit", "predict"])],
        "text": [HasMethods(["predict_proba"])],
        "data": [dict],
        "config": [ExperimentConfig],
    },
    # The speech model is fitted here: let it check its parameters.
    prefer_skip_nested_validation=False,
)
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

    from .metrics import (
        correction_counts,
        neutral_precision_recall,
        scores_record,
        system_row,
    )

    start = time.perf_counter()
    train, val, test = data["train"], data["val"], data["test"]
    y_test = test["label"].to_numpy()
    tuner, flat = _chosen_on_validation(speech, text, train, val, config)
    hierarchy, best = tuner.estimator_, tuner.best_threshold_
    results = tuner.cv_results_
    # Each gate's validation UA at its best threshold.
    per_gate = (
        pd.Series(results["mean_test_score"])
        .groupby(results["param_gate_labels"])
        .max()
    )

    thresholds = [None, *config.thresholds]
    # One pass of the sub-models per set: routes, text probabilities and the
    # predictions at every threshold all come from it.
    outputs = hierarchy.outputs(test, proba=False)
    on_test = outputs.predict_for_thresholds(thresholds)
    gate = outputs.gate
    text_proba = outputs.text_proba  # rows of the speech-neutral samples
    if text_proba is None:  # the gate routed nothing to the text model
        text_proba = np.empty((0, len(text.classes_)))

    # The S system; the same pass when the search chose the flat gate.
    flat_outputs = outputs if flat is hierarchy else flat.outputs(test, proba=False)
    flat_pred = flat_outputs.speech_only
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
        kind: scores_record(y_test, pred)
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
        "gate_labels_on_validation": tuner.best_gate_labels_,
        "validation_ua_per_gate": {g: per_gate[g] for g in config.gate_options()},
        "rows": rows,
        "confusion": {
            kind: {"labels": r["labels"], "matrix": r["confusion_matrix"]}
            for kind, r in confusion.items()
        },
        "neutral_pr": curve.replace({np.nan: None}).to_dict(orient="records"),
        "examples": examples.rename(columns={"label": "true_label"}).to_dict(
            orient="records"
        ),
        "seconds": time.perf_counter() - start,
    }


@validate_params(
    {
        "corpus": [pd.DataFrame],
        "config": [ExperimentConfig],
        "out_dir": [str, os.PathLike],
        "log": [callable],
    },
    # The models are built from the config's values: let them check those.
    prefer_skip_nested_validation=False,
)
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
    labels = set(corpus["label"])
    if not labels <= set(EMOTIONS) or NEUTRAL not in labels:
        raise ValueError(f"corpus labels {sorted(labels)} are not the four-class set")

    fingerprint = corpus_fingerprint(corpus)
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
            digest = config.digest(name, split, data=fingerprint)
            # A second process on the same --out waits here, then reads the
            # record the first one wrote instead of redoing the run.
            with exclusive_lock(path.with_suffix(".lock")):
                record = _read_run_record(path, digest, log=log)
                if record is not None:
                    log(f"[{split}] {name}: done earlier, read from {path}")
                    runs.append(record)
                    continue
                if text is None:
                    log(f"[{split}] text model: fitting on {len(data['train'])} texts")
                    text = build_text_model(config, cache_dir).fit(
                        data["train"], data["train"]["label"]
                    )
                log(f"[{split}] {name}: fitting S and ST systems")
                speech = system.build(config, cache_dir)
                record = evaluate_run(system, split, speech, text, data, config)
                record["digest"] = digest
                text_record = strict_json(record)
                atomic_write_text(path, text_record)
                # What a resumed study would read: NaN as None, no numpy types.
                record = json.loads(text_record)
            runs.append(record)
            st = next(
                r
                for r in record["rows"]
                if r["kind"] == "ST" and r["threshold"] is None
            )
            ua, wa = format_score(st["UA"]), format_score(st["WA"])
            log(f"[{split}] {name}: ST UA {ua} WA {wa} ({record['seconds']:.0f} s)")
    return {"config": asdict(config), "runs": runs, "skipped": skipped}


def _read_run_record(path, digest: str, *, log=print) -> dict | None:
    """The finished run stored at ``path`` if it matches ``digest``, else None.

    A record of another configuration or corpus is ignored (the run is
    redone and the file replaced); so is a file that is not a JSON object
    with a digest, e.g. one truncated by a crash before writes were atomic,
    with a note through ``log``.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        log(f"note: {path} is unreadable ({type(exc).__name__}); redoing the run")
        return None
    if not isinstance(record, dict) or not isinstance(record.get("digest"), str):
        log(f"note: {path} is not a run record; redoing the run")
        return None
    return record if record["digest"] == digest else None

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
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)

from ._atomic import atomic_write_text, exclusive_lock
from ._fingerprint import corpus_fingerprint
from ._labels import EMOTIONS, NEUTRAL
from .threshold_tuning import GATE_OPTIONS

#: Thresholds tried by the paper.
PAPER_THRESHOLDS = (0.25, 0.30, 0.35, 0.40)

#: Thresholds the package searches by default: the paper's, and 0.0, at which
#: the text never overrides speech's *neutral* (the hierarchy then falls back
#: to its two speech models). With 0.0 in the grid a validation search can
#: keep speech's decision when the transcripts carry no emotion, where every
#: paper threshold lies above the text model's P(neutral) and moves every
#: speech-neutral sample to an emotion. Listed first: on a tie the search
#: keeps the choice that trusts speech.
DEFAULT_THRESHOLDS = (0.0, *PAPER_THRESHOLDS)

#: The system ``hser fit`` trains when none is named.
RECOMMENDED_SYSTEM = "lr-whisper"

SPLITS = ("sd", "si")

#: The hierarchy's gate options, in the order a tie is broken: first the flat
#: speech model as the gate (at threshold 0 the hierarchy is that model), then
#: the four-class gate with its own emotion model, then the paper's.
GATE_LABELS = GATE_OPTIONS


@dataclass
class ExperimentConfig:
    """Everything that determines a study's numbers.

    Parameters
    ----------
    corpus : str
        ``"demo"``, ``"iemocap"``, ``"ravdess"``, ``"emodb"`` or ``"manifest"``
        (reported, and picks the speaker-independent split).
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
    si_validation_speakers, si_test_speakers : list of str or None
        Held-out speakers of the speaker-independent split; ``None`` (both):
        the corpus's default (see :func:`split_indices`).
    speaker_normalization : bool
        Whether the LSTM systems subtract each speaker's mean feature vector
        (:class:`~sklearn_hser.features.SpeakerNormalizer`; from every frame
        for ``lstm-whisper``) before the classifier. Not in the paper;
        ``False`` reproduces its inputs exactly. On by default, for the
        held-out-speaker results in ``docs/guide/accuracy.md``.
        ``lr-whisper`` always normalises; the plain ``lr-egemaps`` baseline
        never does.
    gate_labels : {"auto", "flat", "all", "collapsed"}
        What the hierarchy's level-1 speech model learns
        (:class:`~sklearn_hser.HierarchicalClassifier`'s ``gate_labels``):
        ``"collapsed"`` is the paper's neutral-vs-emotional gate, ``"all"`` a
        four-class gate that routes to the text branch what it calls neutral
        and the rest to the paper's emotion model, ``"flat"`` the same gate
        naming the emotion too (the flat speech model, whose neutral
        decisions the text model may revise). ``"auto"`` (default) chooses
        among them with the threshold, on the same held-out speakers, by
        ``selection``. The collapsed gate sends more samples to the text
        model, which pays when words carry emotion; the four-class gates keep
        the flat speech model's neutral decisions, which is safer when they
        do not (see ``docs/guide/accuracy.md``).
    lstm_seeds : int
        Networks, one per seed, whose class probabilities each LSTM system
        averages (:class:`~sklearn_hser.ensemble.SeedEnsembleClassifier`);
        ``1`` trains the single network of the paper. Not in the paper. The
        default 5 makes training five times longer and removes most of the
        seed-to-seed spread of single networks (measured in
        ``docs/guide/accuracy.md``).
    selection : {"one_se", "best"}
        How the gate and threshold are chosen on held-out speakers
        (:func:`~sklearn_hser.selection.select_candidate`). ``"one_se"``
        (default) keeps the first candidate (with the default gates and
        thresholds, the ``"flat"`` gate at threshold 0: the flat speech
        model) unless the best candidate beats it by more than one standard
        error of their UA difference; ``"best"`` takes the highest validation
        UA.
    speech_only_gates : {"reference", "every_gate"}
        Which gate options the search scores at threshold 0, where the text
        never overrides speech
        (:func:`~sklearn_hser.threshold_tuning.search_candidates`):
        ``"reference"`` (default), the first option alone (with ``"auto"``,
        the flat speech model), so that when the text is useless the chosen
        hierarchy predicts what the flat speech model predicts; the other
        gates compete with the text in use. ``"every_gate"`` also scores the
        four-class and the paper's gate without the text: two-stage speech
        models, whose gain over the flat one did not carry from some
        held-out speakers to others (see ``docs/guide/accuracy.md``).
    """

    corpus: str = "demo"
    systems: list = field(default_factory=lambda: ["lstm-mfcc"])
    splits: list = field(default_factory=lambda: list(SPLITS))
    thresholds: list = field(default_factory=lambda: list(DEFAULT_THRESHOLDS))
    max_epochs: int = 60
    w2v_epochs: int = 3
    w2v_path: str | None = None
    w2v_asr_path: str | None = None
    bert_path: str | None = None
    random_state: int = 0
    si_validation_speakers: list | None = None
    si_test_speakers: list | None = None
    speaker_normalization: bool = True
    gate_labels: str = "auto"
    lstm_seeds: int = 5
    selection: str = "one_se"
    speech_only_gates: str = "reference"

    def gate_options(self) -> list:
        """The ``gate_labels`` values the threshold search chooses among."""
        if self.gate_labels == "auto":
            return list(GATE_LABELS)
        if self.gate_labels not in GATE_LABELS:
            raise ValueError(
                f"gate_labels must be 'auto' or one of {list(GATE_LABELS)}; "
                f"got {self.gate_labels!r}."
            )
        return [self.gate_labels]

    def digest(self, system: str, split: str, data: str = "") -> str:
        """A key of everything that affects one run's numbers.

        ``data`` is the corpus fingerprint
        (:func:`sklearn_hser._fingerprint.corpus_fingerprint`), so that a run
        on one corpus is never read back as a run on another.
        """
        relevant = asdict(self)
        relevant.update(systems=[system], splits=[split], data=data)
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
    """The paper's LSTM + 2 FC classifier with this study's speech defaults.

    The paper tunes these with Optuna per corpus; these defaults were chosen
    on folds of held-out RAVDESS speakers for speech inputs of a few hundred
    utterances: strong regularisation (dropout 0.5, weight decay 0.01) and a
    larger step size (the comparison is in ``docs/guide/accuracy.md``).
    ``lstm-handcrafted`` overrides three of them
    (``weight_decay=1e-3``, ``dropout=0.2``, no early-stopping split): over
    its 8 features these defaults underfit. Torch runs these small networks
    on one thread (``torch_threads=1``), which is faster than several;
    ``lstm-whisper``, over hundreds of 512-wide frames, keeps torch's setting.
    """
    from .models import LSTMClassifier

    defaults = dict(
        hidden_size=128,
        fc_size=64,
        dropout=0.5,
        weight_decay=1e-2,
        lr=3e-3,
        max_epochs=config.max_epochs,
        patience=15,
        validation_fraction=0.15,
        class_weight="balanced",
        random_state=config.random_state,
        torch_threads=1,
    )
    return LSTMClassifier(**{**defaults, **params})


#: Inverse regularisation strength of the recommended system's logistic
#: regression: strong, so that it leans on what many speakers and corpora
#: share (see ``docs/guide/own-recordings.md``).
RECOMMENDED_C = 0.003

#: The Whisper-base blocks whose states the recommended system averages: the
#: middle ones, which carry more of how a thing is said than of the words
#: and the language (see ``docs/guide/own-recordings.md``).
RECOMMENDED_LAYERS = (2, 3, 4)


def linear_classifier(config: ExperimentConfig, C: float = 1.0):
    """Standardised features -> class-balanced logistic regression.

    The plain model a practitioner reaches for first; the recommended
    system's classifier over Whisper embeddings (with ``C`` set to
    :data:`RECOMMENDED_C`), and the drop-in baseline over eGeMAPS
    functionals (scikit-learn's default ``C=1``).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(),
        LogisticRegression(
            C=C,
            class_weight="balanced",
            max_iter=5000,
            random_state=config.random_state,
        ),
    )


def _linear_over(extractor_factory, C: float = 1.0):
    def build(config, cache_dir):
        from sklearn.pipeline import Pipeline

        return Pipeline(
            [
                ("features", extractor_factory(cache_dir)),
                ("classifier", linear_classifier(config, C=C)),
            ]
        )

    return build


#: Worker processes (``n_jobs``) of the LSTM seed ensembles
#: (:class:`~sklearn_hser.ensemble.SeedEnsembleClassifier`) and of the
#: GeMAPS and handcrafted feature extraction: every core. The study's networks
#: are small, so one network keeps one core busy with Python overhead
#: whatever torch's thread count. The members and these features come out
#: the same as in one process (joblib's ``LOKY_MAX_CPU_COUNT=1`` keeps them
#: there); the other feature sets lean on multithreaded libraries, whose last
#: bits would change in a one-thread worker, and stay in the main process.
STUDY_N_JOBS = -1


def _lstm_over(extractor_factory, **classifier_params):
    """Builder of an LSTM system, speaker-normalised when the config says so.

    ``classifier_params`` override :func:`lstm_classifier`'s defaults. With
    ``config.lstm_seeds > 1`` the classifier is a seed ensemble of LSTMs,
    fitted on features extracted once, its members in parallel on every core
    (:data:`STUDY_N_JOBS`).
    """

    def build(config, cache_dir):
        from sklearn.pipeline import make_pipeline

        from .ensemble import SeedEnsembleClassifier
        from .features import SpeakerNormalizer

        features = extractor_factory(cache_dir)
        if config.speaker_normalization:
            features = SpeakerNormalizer(features)
        classifier = lstm_classifier(config, **classifier_params)
        if config.lstm_seeds > 1:
            classifier = SeedEnsembleClassifier(
                classifier,
                n_seeds=config.lstm_seeds,
                random_state=config.random_state,
                n_jobs=STUDY_N_JOBS,
            )
        return make_pipeline(features, classifier)

    return build


def _mfcc(cache_dir):
    from .features import MFCC

    return MFCC(column="audio", cache_dir=cache_dir)


def _gemaps(cache_dir):
    from .features import GeMAPS

    return GeMAPS(column="audio", cache_dir=cache_dir, n_jobs=STUDY_N_JOBS)


def _handcrafted(cache_dir):
    from .features import HandcraftedFeatures

    return HandcraftedFeatures(
        column="audio", cache_dir=cache_dir, n_jobs=STUDY_N_JOBS
    )


def _egemaps(cache_dir):
    from .features import GeMAPS

    return GeMAPS(feature_set="eGeMAPSv02", column="audio", cache_dir=cache_dir)


def _whisper_speaker_normalised(cache_dir):
    from .features import SpeakerNormalizer, WhisperEmbeddings

    whisper = WhisperEmbeddings(
        layer=RECOMMENDED_LAYERS, column="audio", cache_dir=cache_dir
    )
    # Class-balanced training centres: corpora differ in their emotion mix.
    return SpeakerNormalizer(whisper, class_balanced=True)


def _whisper_frames(cache_dir):
    from .features import WhisperEmbeddings

    # 25 Hz frames: half the LSTM steps of Whisper's 50 Hz, little lost.
    return WhisperEmbeddings(
        pooling=None, frame_stride=2, column="audio", cache_dir=cache_dir
    )


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
            # Eight inputs leave little to regularise: the default weight
            # decay and dropout, right for 39-128 inputs, underfit them, and
            # the early-stopping split costs 15% of a small training set.
            # Chosen on the validation speakers of 6 held-out-actor folds
            # among 26 settings (docs/guide/accuracy.md).
            _lstm_over(
                _handcrafted, weight_decay=1e-3, dropout=0.2, validation_fraction=None
            ),
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
            "lstm-whisper",
            "LSTM",
            "Whisper-base encoder frames, mean of layers, 25 Hz (frozen, packaged); "
            "LSTM outputs mean-pooled",
            # Mean of the LSTM's outputs: a final state forgets most of the
            # ~50-200 frames of an utterance. Dropout 0.3 was chosen on the
            # validation speakers of 6 held-out-actor folds
            # (docs/guide/accuracy.md).
            _lstm_over(
                _whisper_frames, pooling="mean", dropout=0.3, torch_threads=None
            ),
            features="Whisper",
        ),
        SpeechSystem(
            "lr-whisper",
            "LR",
            "Whisper-base encoder, mean of blocks 2-4 and of frames, "
            "speaker-normalised (frozen, packaged); recommended",
            _linear_over(_whisper_speaker_normalised, C=RECOMMENDED_C),
            features="Whisper+SN",
        ),
        SpeechSystem(
            "lr-egemaps",
            "LR",
            "eGeMAPSv02 functionals (openSMILE); plain baseline",
            _linear_over(_egemaps),
            features="eGeMAPS",
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


@validate_params(
    {"config": [ExperimentConfig], "cache_dir": [str, os.PathLike, None]},
    # The models are built from the config's values: let them check those.
    prefer_skip_nested_validation=False,
)
def build_text_model(config: ExperimentConfig, cache_dir):
    """BERT token embeddings -> LSTM -> 2 FC layers (the paper's Model 3)."""
    from sklearn.pipeline import make_pipeline

    from .features import BertTokenEmbeddings

    return make_pipeline(
        BertTokenEmbeddings(
            column="text", model_path=config.bert_path, cache_dir=cache_dir
        ),
        # The text model keeps the settings it was validated with on MELD.
        lstm_classifier(
            config,
            hidden_size=128,
            fc_size=64,
            dropout=0.0,
            weight_decay=0.0,
            lr=1e-3,
            patience=8,
        ),
    )


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
        "threshold": [
            StrOptions({"auto"}),
            Interval(Real, 0, 1, closed="both"),
            None,
        ],
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
        ``"auto"`` chooses it from :data:`DEFAULT_THRESHOLDS` and ``None`` by
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
    from .threshold_tuning import TunedThresholdHierarchyCV

    config = config or ExperimentConfig(systems=[system])
    speech = SYSTEMS[system].build(config, cache_dir)
    y = corpus["label"].to_numpy()
    if text_model is None:
        text = build_text_model(config, cache_dir)
    else:
        text = _frozen_text_model(text_model, y)
    gates = config.gate_options()
    candidates = [*DEFAULT_THRESHOLDS, None] if threshold == "auto" else [threshold]
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
            # The familiarity is learnt in fit, from the training voices.
            model.fit(corpus, y)
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


@validate_params(
    {"system": [SpeechSystem], "config": [ExperimentConfig]},
    prefer_skip_nested_validation=True,
)
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


def _fit_gate_options(speech, text, train, gates) -> dict:
    """One hierarchy per gate option, fitted on ``train``; ``text`` used frozen.

    Returns ``{gate_labels: fitted HierarchicalClassifier}``.
    """
    from sklearn.frozen import FrozenEstimator

    from .hierarchy import make_hierarchy

    y_train = train["label"].to_numpy()
    hierarchies = {}
    # A memory shared by the gate options fits what they have in common once:
    # the feature step, the four-class gate ("flat", "all") and the emotion
    # model ("all", "collapsed").
    with tempfile.TemporaryDirectory(prefix="hser-gates-") as memory:
        for gate_labels in gates:
            # The two speech models share one feature extraction per sample.
            hierarchies[gate_labels] = make_hierarchy(
                speech, FrozenEstimator(text), gate_labels=gate_labels, memory=memory
            ).fit(train, y_train)
            hierarchies[gate_labels].set_params(memory=None)
    return hierarchies


def _hierarchy_chosen_on_validation(
    speech,
    text,
    train,
    val,
    gates,
    thresholds,
    selection="one_se",
    speech_only_gates="reference",
    hierarchies=None,
):
    """Fit one hierarchy per gate option; choose the gate and threshold on ``val``.

    ``text`` is fitted and used frozen; ``hierarchies``, when given, are
    those of :func:`_fit_gate_options`, already fitted. Candidates are every
    ``thresholds`` value and then None (the plain text argmax), for each of
    ``gates``, at threshold 0 as ``speech_only_gates`` says
    (:func:`~sklearn_hser.threshold_tuning.search_candidates`); the
    first one is the reference of ``selection``
    (:func:`~sklearn_hser.selection.select_candidate`), and the first best
    wins ties, so earlier (more cautious) thresholds and earlier gate options
    are preferred.

    Returns
    -------
    hierarchy : HierarchicalClassifier
        The fitted hierarchy of the chosen gate.
    choice : tuple
        ``(gate_labels, threshold)``.
    scores : dict
        Validation UA of every ``(gate_labels, threshold)`` pair.
    """
    from .metrics import unweighted_accuracy
    from .selection import SELECTIONS, select_candidate
    from .threshold_tuning import search_candidates

    if selection not in SELECTIONS:  # before any fit
        raise ValueError(f"selection must be one of {SELECTIONS}; got {selection!r}.")
    keys = search_candidates(
        gates, [*thresholds, None], speech_only_gates=speech_only_gates
    )
    y_val = val["label"].to_numpy()
    if hierarchies is None:
        hierarchies = _fit_gate_options(speech, text, train, gates)
    scores, predicted = {}, {}
    for gate_labels, hierarchy in hierarchies.items():
        candidates = [t for g, t in keys if g == gate_labels]
        predictions = hierarchy.predict_for_thresholds(val, candidates)
        for t in candidates:
            predicted[gate_labels, t] = predictions[t]
            scores[gate_labels, t] = unweighted_accuracy(y_val, predictions[t])
    chosen = select_candidate(
        [scores[k] for k in keys],
        y_val,
        [predicted[k] for k in keys],
        scoring="ua",
        selection=selection,
    )
    choice = keys[chosen]
    return hierarchies[choice[0]], choice, scores


def _flat_speech(flat_hierarchy, speech, train, y_train):
    """The S system: ``speech`` fitted on ``train``, flat.

    A hierarchy with the ``"flat"`` gate holds that model already: its
    feature step and gate are ``speech``'s steps fitted on the same data with
    the same seeds, so they are reused rather than trained a second time.
    """
    from sklearn.pipeline import Pipeline

    from .baselines import SpeechOnlyClassifier

    flat = SpeechOnlyClassifier(speech)
    if flat_hierarchy is None:
        return flat.fit(train, y_train)
    features, gate = flat_hierarchy.speech_features_, flat_hierarchy.speech_gate_
    if features is not None:
        gate = Pipeline([*features.steps, ("gate", gate)])
    flat.speech_ = gate
    flat.classes_ = flat_hierarchy.speech_gate_.classes_
    return flat


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
        confusion_table,
        correction_counts,
        neutral_precision_recall,
        system_row,
    )

    start = time.perf_counter()
    train, val, test = data["train"], data["val"], data["test"]
    y_train, y_test = (d["label"].to_numpy() for d in (train, test))
    hierarchies = _fit_gate_options(speech, text, train, config.gate_options())
    flat = _flat_speech(hierarchies.get("flat"), speech, train, y_train)
    hierarchy, (chosen_gate, best), on_val = _hierarchy_chosen_on_validation(
        speech,
        text,
        train,
        val,
        config.gate_options(),
        config.thresholds,
        config.selection,
        config.speech_only_gates,
        hierarchies=hierarchies,
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
        "gate_labels_on_validation": chosen_gate,
        "validation_ua_per_gate": {
            g: max(v for (gate, _), v in on_val.items() if gate == g)
            for g in config.gate_options()
        },
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
    unknown = [s for s in config.systems if s not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown system(s) {unknown}; choose from {list(SYSTEMS)}")
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
                text_record = _strict_json(record)
                atomic_write_text(path, text_record)
                # What a resumed study would read: NaN as None, no numpy types.
                record = json.loads(text_record)
            runs.append(record)
            st = next(
                r
                for r in record["rows"]
                if r["kind"] == "ST" and r["threshold"] is None
            )
            ua, wa, seconds = _f3(st["UA"]), _f3(st["WA"]), record["seconds"]
            log(f"[{split}] {name}: ST UA {ua} WA {wa} ({seconds:.0f} s)")
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


def _f3(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _strict_json(record) -> str:
    """``record`` as strict JSON: numpy values unwrapped, NaN and inf as null."""
    return json.dumps(_finite(record), indent=1, allow_nan=False)


def _finite(value):
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value

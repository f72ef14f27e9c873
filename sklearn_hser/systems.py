"""The study's speech systems and its configuration.

:data:`SYSTEMS` names every speech classifier kind of the study (the paper's
LSTMs over MFCC, GeMAPS, handcrafted or WakeHuBERT features; wav2vec2;
the recommended linear model over Whisper embeddings; ...), each with the
builder of its unfitted estimator; :class:`ExperimentConfig` holds everything
that determines a study's numbers; :func:`build_text_model` builds the
paper's text model. Fitting and evaluating them is
:mod:`sklearn_hser.experiments`'s.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sklearn.utils._param_validation import validate_params

from ._algorithm import check_threshold
from .hierarchy import GATE_OPTIONS
from .threshold_tuning import DEFAULT_THRESHOLDS

#: The system ``hser fit`` trains when none is named.
RECOMMENDED_SYSTEM = "lr-whisper"

SPLITS = ("sd", "si")


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

    Raises
    ------
    ValueError
        On creation, for an unknown or empty ``systems`` or ``splits``, an
        unknown ``gate_labels``, or a threshold outside ``[0, 1]``.
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

    def __post_init__(self):
        # A study runs for hours before it scores a threshold: refuse a bad
        # setting now (a threshold by the rule every threshold follows).
        for name, given, known in (
            ("system", self.systems, SYSTEMS),
            ("split", self.splits, SPLITS),
        ):
            unknown = [value for value in given if value not in known]
            if unknown or not given:
                raise ValueError(
                    f"unknown {name} {', '.join(unknown) or '(none given)'}; "
                    f"choose from {', '.join(known)}"
                )
        if self.gate_labels != "auto" and self.gate_labels not in GATE_OPTIONS:
            raise ValueError(
                f"gate_labels must be 'auto' or one of {list(GATE_OPTIONS)}; "
                f"got {self.gate_labels!r}."
            )
        self.thresholds = [check_threshold(t) for t in self.thresholds]
        if None in self.thresholds or not self.thresholds:
            raise ValueError(
                "thresholds must be a non-empty list of numbers in [0, 1]; "
                "the plain text argmax (None) is always scored besides."
            )

    def gate_options(self) -> list:
        """The ``gate_labels`` values the threshold search chooses among."""
        return list(GATE_OPTIONS) if self.gate_labels == "auto" else [self.gate_labels]

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


def _features(name, **params):
    """Factory of ``sklearn_hser.features.<name>`` over the ``audio`` column."""

    def make(cache_dir):
        from . import features

        return getattr(features, name)(column="audio", cache_dir=cache_dir, **params)

    return make


def _whisper_speaker_normalised(cache_dir):
    from .features import SpeakerNormalizer

    whisper = _features("WhisperEmbeddings", layer=RECOMMENDED_LAYERS)(cache_dir)
    # Class-balanced training centres: corpora differ in their emotion mix.
    return SpeakerNormalizer(whisper, class_balanced=True)


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
            _lstm_over(_features("MFCC")),
            features="MFCC",
        ),
        SpeechSystem(
            "lstm-gemaps",
            "LSTM",
            "GeMAPSv01b functionals (openSMILE)",
            _lstm_over(_features("GeMAPS", n_jobs=STUDY_N_JOBS)),
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
                _features("HandcraftedFeatures", n_jobs=STUDY_N_JOBS),
                weight_decay=1e-3,
                dropout=0.2,
                validation_fraction=None,
            ),
            features="HC",
        ),
        SpeechSystem(
            "lstm-wakehubert",
            "LSTM",
            "WakeHuBERT-tiny mean embeddings (frozen, packaged ONNX)",
            _lstm_over(_features("WakeHuBERTEmbeddings")),
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
            # 25 Hz frames: half the LSTM steps of Whisper's 50 Hz, little lost.
            _lstm_over(
                _features("WhisperEmbeddings", pooling=None, frame_stride=2),
                pooling="mean",
                dropout=0.3,
                torch_threads=None,
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
            _linear_over(_features("GeMAPS", feature_set="eGeMAPSv02")),
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

"""Fine-tuning a wav2vec 2.0-family speech encoder for classification.

The paper's best speech model: wav2vec 2.0 base (or its ASR fine-tuned
``base-960h`` variant) with the convolutional feature encoder frozen, the
transformer blocks fine-tuned, and a classification head on the frame
outputs.  :class:`Wav2Vec2Classifier` is a scikit-learn estimator that owns a
skorch network (:class:`Wav2Vec2Net`, which adds gradient accumulation and
CUDA mixed precision to ``NeuralNetClassifier``) over :class:`Wav2Vec2Module`;
the network's pieces live in :mod:`sklearn_hser.models._wav2vec2_net`.

Checkpoints are read from a local directory only (``local_files_only=True``);
nothing is downloaded.  transformers is imported when a model is loaded, not
when this module is imported.
"""

from __future__ import annotations

import json
import math
import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..features._inputs import select_items
from ..features.audio import SAMPLING_RATE, describe_item, load_audio
from ._base import SkorchClassifierBase
from ._training import _resolve_device
from ._wav2vec2_net import (
    LinearWarmup,
    Wav2Vec2Module,
    Wav2Vec2Net,
    WaveformCollate,
    masked_mean,
)

__all__ = [
    "LinearWarmup",
    "Wav2Vec2Classifier",
    "Wav2Vec2Module",
    "Wav2Vec2Net",
    "WaveformCollate",
    "masked_mean",
]


def _read_preprocessor(path: Path) -> dict:
    file = path / "preprocessor_config.json"
    if not file.is_file():
        return {}
    with open(file, encoding="utf-8") as f:
        return json.load(f)


def _receptive_field(kernels, strides) -> int:
    """Samples that one output frame of the convolutional encoder sees."""
    field, jump = 1, 1
    for kernel, stride in zip(kernels, strides, strict=True):
        field += (kernel - 1) * jump
        jump *= stride
    return field


def _waveform_array(waveforms) -> np.ndarray:
    out = np.empty(len(waveforms), dtype=object)
    for i, w in enumerate(waveforms):
        out[i] = w
    return out


class Wav2Vec2Classifier(SkorchClassifierBase):
    """Fine-tune a wav2vec 2.0-family encoder to classify utterances.

    The encoder is loaded from ``model_path`` (a local ``save_pretrained``
    directory: e.g. a copy of ``facebook/wav2vec2-base``, or of the ASR
    fine-tuned ``facebook/wav2vec2-base-960h``, whose CTC head is dropped) when
    ``fit`` builds the network; nothing is downloaded and nothing is loaded
    before ``fit``.  The convolutional feature encoder is frozen (by default),
    the transformer blocks are fine-tuned, and a head classifies the mean of
    the last hidden states over each utterance's valid frames (see
    :class:`Wav2Vec2Module`).  Training uses AdamW on the cross-entropy.

    Audio handling:

    * Inputs are read with :func:`~sklearn_hser.features._inputs.select_items`
      (paths, waveform arrays, ``(waveform, sr)`` tuples, a column of a
      DataFrame with ``column=``, or a 2-D matrix of equal-length waveforms)
      and decoded once per call to 16 kHz mono float32 with
      :func:`~sklearn_hser.features.audio.load_audio` (bad audio raises
      :class:`~sklearn_hser.features.audio.AudioInputError` naming the item).
    * Utterances longer than ``max_duration`` seconds are cropped: a random
      window, redrawn every epoch, in training (seeded by ``random_state``);
      the **centre** window at prediction and for the validation loss.
    * Each (cropped) waveform is scaled to zero mean and unit variance (unless
      the checkpoint's ``preprocessor_config.json`` says
      ``do_normalize: false``); waveforms shorter than the encoder's receptive
      field (400 samples for wav2vec2) are zero-padded to it.
    * Mini-batches are zero-padded; see :class:`Wav2Vec2Module` for when an
      attention mask is used.  At prediction the inputs are batched in order
      of length, which keeps padding (and, for group-norm checkpoints such as
      wav2vec2-base, its small effect on the outputs) to a minimum.

    The checkpoint's own regularisation (dropout, layer drop, SpecAugment
    time masking) is active during training, as in the usual Hugging Face
    fine-tuning recipe.

    Parameters
    ----------
    model_path : str or path-like
        Local checkpoint directory (``config.json`` and weights).
    column : str, default=None
        Column of a DataFrame ``X`` holding the audio inputs.
    freeze_feature_encoder : bool, default=True
        Keep the convolutional feature encoder's weights fixed.
    max_duration : float or None, default=6.0
        Longest audio, in seconds, fed to the model; ``None`` never crops.
    head_size : int, default=256
        Units of the head's projection layer.
    head_dropout : float, default=0.1
        Dropout in the head.
    lr : float, default=3e-5
        Learning rate of the encoder (and of the head unless ``head_lr``).
    head_lr : float or None, default=None
        Learning rate of the head; ``None`` uses ``lr``.
    weight_decay : float, default=0.0
        AdamW's decoupled weight decay.
    batch_size : int, default=8
        Mini-batch size (also for prediction).
    accumulation_steps : int, default=1
        Gradient accumulation: one optimizer step per ``accumulation_steps``
        mini-batches, i.e. an effective batch of
        ``batch_size * accumulation_steps``.
    max_epochs : int, default=3
        Passes over the training data.
    validation_fraction : float or None, default=None
        Share of the training data held out (stratified) to monitor the
        validation loss for early stopping; ``None`` disables both.
    patience : int, default=3
        Epochs without improvement of the validation loss before stopping;
        the best epoch's weights are restored.
    class_weight : "balanced", dict or None, default=None
        Class weights of the cross-entropy, as in :class:`LSTMClassifier`.
    random_state : int, RandomState instance or None, default=None
        Seeds the head's initialisation, dropout, shuffling, the training
        crops and the validation split (torch's global RNG is restored
        afterwards).  ``None`` uses torch's global RNG.
    device : str, default="cpu"
        Torch device; ``"cuda"`` raises a ValueError when CUDA is unavailable.
    mixed_precision : {"auto", "bf16", "fp16"} or None, default="auto"
        Autocast of the forward pass **on CUDA only**: ``"auto"`` picks
        bfloat16 where the GPU supports it, else float16 (with loss scaling).
        On CPU, training and prediction always run in float32, whatever this
        says.  ``None`` disables it.
    verbose : int, default=0
        skorch's per-epoch log when positive.
    warmup_fraction : float in [0, 1), default=0.0
        Learning-rate schedule of the usual fine-tuning recipe: over this
        share of the training mini-batches the learning rates rise linearly
        from 0, then decay linearly to 0 at the end of ``max_epochs``
        (:class:`~sklearn_hser.models.wav2vec2.LinearWarmup`, stepped every
        mini-batch). ``0`` keeps them constant.
    callbacks : list of skorch callbacks or (name, callback) pairs, default=None
        Added to the network's own (early stopping, progress, warm-up), e.g.
        a ``skorch.callbacks.Checkpoint`` or another ``LRScheduler``.
    net_params : dict, default=None
        Parameters of the skorch network in skorch's naming (e.g.
        ``{"optimizer__betas": (0.9, 0.98)}``), overriding the settings
        above; also settable as ``set_params(net__lr=...)`` or through a
        ``GridSearchCV`` grid over ``"net__..."`` keys.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    net_ : Wav2Vec2Net
        The trained skorch network; ``net_.module_.encoder`` is the
        fine-tuned transformers model.
    history_ : skorch.History
        Per-epoch losses.
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
        Samples per row, only when fitted on a 2-D waveform matrix.

    Notes
    -----
    Fitting decodes all training audio into memory (about 230 MB per hour of
    audio).  On CPU, fine-tuning wav2vec2-base costs about 11 s per step of
    8 x 4.5 s (see ASSETS.md): a GPU job; torch's thread settings are left
    as they are.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn_hser.models import Wav2Vec2Classifier
    >>> from sklearn_hser.models._tiny import save_tiny_wav2vec2
    >>> path = save_tiny_wav2vec2(tempfile.mkdtemp())  # tiny random weights
    >>> rng = np.random.default_rng(0)
    >>> waves = [rng.normal(0, 0.1, 8000).astype("float32") for _ in range(4)]
    >>> clf = Wav2Vec2Classifier(model_path=path, max_epochs=1, random_state=0)
    >>> clf.fit(waves, ["neutral", "sad", "neutral", "sad"]).predict(waves).shape
    (4,)
    """

    _parameter_constraints: dict = {
        **SkorchClassifierBase._base_constraints,
        "warmup_fraction": [Interval(Real, 0, 1, closed="left")],
        "model_path": [str, os.PathLike, None],
        "column": [str, None],
        "freeze_feature_encoder": ["boolean"],
        "max_duration": [Interval(Real, 0, None, closed="neither"), None],
        "head_size": [Interval(Integral, 1, None, closed="left")],
        "head_dropout": [Interval(Real, 0, 1, closed="left")],
        "head_lr": [Interval(Real, 0, None, closed="neither"), None],
        "accumulation_steps": [Interval(Integral, 1, None, closed="left")],
        "mixed_precision": [StrOptions({"auto", "bf16", "fp16"}), None],
    }

    def __init__(
        self,
        model_path=None,
        column=None,
        freeze_feature_encoder=True,
        max_duration=6.0,
        head_size=256,
        head_dropout=0.1,
        lr=3e-5,
        head_lr=None,
        weight_decay=0.0,
        batch_size=8,
        accumulation_steps=1,
        max_epochs=3,
        validation_fraction=None,
        patience=3,
        class_weight=None,
        random_state=None,
        device="cpu",
        mixed_precision="auto",
        verbose=0,
        warmup_fraction=0.0,
        callbacks=None,
        net_params=None,
    ):
        self.model_path = model_path
        self.column = column
        self.freeze_feature_encoder = freeze_feature_encoder
        self.max_duration = max_duration
        self.head_size = head_size
        self.head_dropout = head_dropout
        self.lr = lr
        self.head_lr = head_lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.accumulation_steps = accumulation_steps
        self.max_epochs = max_epochs
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.class_weight = class_weight
        self.random_state = random_state
        self.device = device
        self.mixed_precision = mixed_precision
        self.verbose = verbose
        self.warmup_fraction = warmup_fraction
        self.callbacks = callbacks
        self.net_params = net_params

    # -- helpers ------------------------------------------------------------
    def _decode(self, X, *, reset: bool) -> np.ndarray:
        items = select_items(self, X, column=self.column, kind="audio", reset=reset)
        return _waveform_array(
            [
                load_audio(item, name=describe_item(item, i))
                for i, item in enumerate(items)
            ]
        )

    def _max_samples(self):
        if self.max_duration is None:
            return None
        return max(1, int(round(self.max_duration * SAMPLING_RATE)))

    def _amp_dtype(self, device: torch.device):
        if device.type != "cuda" or self.mixed_precision is None:
            return None
        if self.mixed_precision == "auto":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return {"bf16": torch.bfloat16, "fp16": torch.float16}[self.mixed_precision]

    def _load_config(self, path: Path):
        from transformers import AutoConfig

        from ..features._pretrained import quiet_transformers

        with quiet_transformers():
            config = AutoConfig.from_pretrained(path, local_files_only=True)
        kernels = getattr(config, "conv_kernel", None)
        strides = getattr(config, "conv_stride", None)
        if not kernels or not strides:
            raise ValueError(
                f"{type(self).__name__}: {os.fspath(path)!r} holds a "
                f"{config.model_type!r} model, not a wav2vec2-family speech "
                "encoder (no convolutional feature encoder in its config)."
            )
        preprocessor = _read_preprocessor(path)
        rate = preprocessor.get("sampling_rate", SAMPLING_RATE)
        if rate != SAMPLING_RATE:
            raise ValueError(
                f"{type(self).__name__}: {os.fspath(path)!r} expects {rate} Hz "
                f"audio; the package works at {SAMPLING_RATE} Hz."
            )
        return (
            _receptive_field(kernels, strides),
            bool(preprocessor.get("do_normalize", True)),
        )

    # -- estimator API ------------------------------------------------------
    def _warmup(self, n_samples: int) -> list:
        """The warm-up schedule callback, as ``[(name, callback)]`` or ``[]``."""
        if not self.warmup_fraction:
            return []
        from skorch.callbacks import LRScheduler

        n_train = n_samples
        if self.validation_fraction is not None:
            n_train -= math.ceil(self.validation_fraction * n_samples)
        total = self.max_epochs * math.ceil(n_train / self.batch_size)
        schedule = LinearWarmup(int(self.warmup_fraction * total), total)
        return [
            (
                "warmup",
                LRScheduler(policy="LambdaLR", lr_lambda=schedule, step_every="batch"),
            )
        ]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fine-tune the encoder and train the head.

        Parameters
        ----------
        X : sequence of audio items, DataFrame or 2-D waveform matrix
            See the class docstring.
        y, sample_weight
            As in :meth:`LSTMClassifier.fit <sklearn_hser.models.LSTMClassifier.fit>`.

        Returns
        -------
        self : Wav2Vec2Classifier
        """

        from ..features._pretrained import resolve_model_dir

        if self.model_path is None:
            raise ValueError(
                f"{type(self).__name__}: model_path is None; pass the local "
                "directory of a wav2vec2-family checkpoint."
            )
        path = resolve_model_dir(self.model_path, type(self).__name__)
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self, attr):
                delattr(self, attr)
        items = select_items(self, X, column=self.column, kind="audio", reset=True)
        y = self._check_y(items, y)
        y_encoded = self._encode_targets(y)

        device = _resolve_device(self.device)
        min_samples, normalize = self._load_config(path)
        waveforms = _waveform_array(
            [
                load_audio(item, name=describe_item(item, i))
                for i, item in enumerate(items)
            ]
        )
        seed = self._seed()
        optimizer_params = {"optimizer__weight_decay": self.weight_decay}
        if self.head_lr is not None:
            optimizer_params["optimizer__param_groups"] = [
                ("head.*", {"lr": self.head_lr})
            ]
        collate = {"max_samples": self._max_samples(), "min_samples": min_samples}
        collate["normalize"] = normalize
        return self._train(
            Wav2Vec2Net,
            waveforms,
            y,
            y_encoded,
            sample_weight,
            seed=seed,
            module=Wav2Vec2Module,
            module__model_path=str(path),
            module__n_classes=len(self.classes_),
            module__freeze_feature_encoder=self.freeze_feature_encoder,
            module__head_size=self.head_size,
            module__head_dropout=self.head_dropout,
            accumulation_steps=self.accumulation_steps,
            amp_dtype=self._amp_dtype(device),
            optimizer=torch.optim.AdamW,
            lr=self.lr,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            iterator_train__collate_fn=WaveformCollate(
                **collate, random_crop=True, seed=seed
            ),
            iterator_valid__collate_fn=WaveformCollate(**collate),
            extra_callbacks=self._warmup(len(waveforms)),
            **optimizer_params,
        )

    def predict_proba(self, X):
        """Class probabilities, ``(n_samples, n_classes)``; rows sum to 1.

        Parameters
        ----------
        X : sequence of audio items, DataFrame or 2-D waveform matrix
            Samples, in the form used in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "net_")
        waveforms = self._decode(X, reset=False)
        max_samples = self._max_samples() or np.iinfo(np.int64).max
        lengths = np.minimum([len(w) for w in waveforms], max_samples)
        order = np.argsort(-lengths, kind="stable")
        proba = np.empty((len(waveforms), len(self.classes_)), dtype=np.float64)
        proba[order] = self.net_.predict_proba(waveforms[order])
        return proba / proba.sum(axis=1, keepdims=True)

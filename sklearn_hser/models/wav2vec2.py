"""Fine-tuning a wav2vec 2.0-family speech encoder for classification.

The paper's best speech model: wav2vec 2.0 base (or its ASR fine-tuned
``base-960h`` variant) with the convolutional feature encoder frozen, the
transformer blocks fine-tuned, and a classification head on the frame
outputs.  :class:`Wav2Vec2Classifier` is a scikit-learn estimator that owns a
skorch network (:class:`Wav2Vec2Net`, which adds gradient accumulation and
CUDA mixed precision to ``NeuralNetClassifier``) over :class:`Wav2Vec2Module`.

Checkpoints are read from a local directory only (``local_files_only=True``);
nothing is downloaded.  transformers is imported when a model is loaded, not
when this module is imported.
"""

from __future__ import annotations

import json
import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)
from skorch import NeuralNetClassifier
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator
from torch import nn

from ..features._inputs import select_items
from ..features.audio import SAMPLING_RATE, describe_item, load_audio
from ._training import (
    EpochProgress,
    _resolve_device,
    class_weight_tensor,
    fit_seeded,
    validation_and_early_stopping,
)

__all__ = ["Wav2Vec2Classifier", "Wav2Vec2Module", "Wav2Vec2Net", "WaveformCollate"]


def masked_mean(hidden, n_frames):
    """Mean of ``hidden`` ``(B, T, H)`` over the first ``n_frames[i]`` frames."""
    steps = torch.arange(hidden.shape[1], device=hidden.device)
    mask = (steps[None, :] < n_frames[:, None]).to(hidden.dtype)
    total = (hidden * mask[:, :, None]).sum(dim=1)
    return total / mask.sum(dim=1, keepdim=True).clamp(min=1.0)


class Wav2Vec2Module(nn.Module):
    """A wav2vec 2.0-family encoder with a pooled classification head.

    Parameters
    ----------
    model_path : str
        Local directory of a checkpoint saved with ``save_pretrained``; a
        checkpoint with a task head (e.g. ``Wav2Vec2ForCTC``) loads its
        encoder and drops the head.
    n_classes : int
        Number of output logits.
    freeze_feature_encoder : bool, default=True
        Freeze the convolutional feature encoder.
    head_size : int, default=256
        Units of the head's projection layer.
    head_dropout : float, default=0.1
        Dropout before and after the projection.

    Notes
    -----
    ``forward(input_values, lengths)`` takes zero-padded waveforms
    ``(B, n_samples)`` and their true lengths.  The attention mask is passed
    to the encoder only for checkpoints whose feature encoder uses layer norm
    (``feat_extract_norm == "layer"``); "group"-norm checkpoints (wav2vec2
    base) were trained without one and get zero padding only, as the
    transformers documentation prescribes.  In both cases the frame outputs
    are averaged over the valid frames only (``_get_feat_extract_output_lengths``
    of the true lengths), then go through dropout -> Linear(head_size) ->
    tanh -> dropout -> Linear(n_classes).
    """

    def __init__(
        self,
        model_path,
        n_classes,
        freeze_feature_encoder=True,
        head_size=256,
        head_dropout=0.1,
    ):
        super().__init__()
        from transformers import AutoModel

        from ..features._pretrained import quiet_transformers

        with quiet_transformers():
            encoder = AutoModel.from_pretrained(model_path, local_files_only=True)
        if getattr(encoder, "main_input_name", None) != "input_values" or not hasattr(
            encoder, "_get_feat_extract_output_lengths"
        ):
            raise ValueError(
                f"{os.fspath(model_path)!r} holds a {type(encoder).__name__}, which "
                "is not a wav2vec2-family speech encoder (wav2vec2, HuBERT, WavLM, "
                "data2vec-audio)."
            )
        self.encoder = encoder.float()
        if freeze_feature_encoder:
            self.encoder.freeze_feature_encoder()
        config = self.encoder.config
        self.use_attention_mask = getattr(config, "feat_extract_norm", None) == "layer"
        self.head = nn.Sequential(
            nn.Dropout(head_dropout),
            nn.Linear(config.hidden_size, head_size),
            nn.Tanh(),
            nn.Dropout(head_dropout),
            nn.Linear(head_size, n_classes),
        )

    def pooled(self, input_values, lengths):
        """Masked mean of the last hidden states over valid frames, ``(B, H)``."""
        kwargs = {}
        if self.use_attention_mask:
            steps = torch.arange(input_values.shape[1], device=input_values.device)
            kwargs["attention_mask"] = (steps[None, :] < lengths[:, None]).long()
        hidden = self.encoder(input_values, **kwargs).last_hidden_state
        n_frames = self.encoder._get_feat_extract_output_lengths(lengths)
        return masked_mean(hidden, n_frames.clamp(1, hidden.shape[1]))

    def forward(self, input_values, lengths):
        return self.head(self.pooled(input_values, lengths))

    # transformers' encoders hold weight-norm parametrizations, which torch
    # refuses to pickle; pickle the encoder as (class, config, parameters)
    # and rebuild it, keeping the very Parameter objects (so an optimizer
    # pickled alongside still points at them).
    def __getstate__(self):
        state = self.__dict__.copy()
        modules = dict(self._modules)
        encoder = modules.pop("encoder")
        state["_modules"] = modules
        state["_encoder_spec"] = {
            "cls": type(encoder),
            "config": encoder.config,
            "params": encoder.state_dict(keep_vars=True),
            "frozen": [n for n, p in encoder.named_parameters() if not p.requires_grad],
            "training": encoder.training,
        }
        return state

    def __setstate__(self, state):
        from ..features._pretrained import quiet_transformers

        spec = state.pop("_encoder_spec")
        super().__setstate__(state)
        with torch.random.fork_rng(devices=[]), quiet_transformers():
            encoder = spec["cls"](spec["config"])
        encoder.load_state_dict(spec["params"], assign=True)
        frozen = set(spec["frozen"])
        if frozen and hasattr(encoder, "freeze_feature_encoder"):
            encoder.freeze_feature_encoder()
        for name, param in encoder.named_parameters():
            param.requires_grad_(name not in frozen)
        encoder.train(spec["training"])
        self._modules = {"encoder": encoder, **self._modules}


class WaveformCollate:
    """Crop, normalise and zero-pad 16 kHz waveforms into a batch.

    Parameters
    ----------
    max_samples : int or None
        Longer waveforms are cropped to this many samples: a random window
        when ``random_crop`` (training), else the centre window.
    min_samples : int, default=1
        Shorter waveforms are zero-padded to this length (the encoder's
        receptive field, so that each gives at least one frame); the padding
        counts as signal.
    normalize : bool, default=True
        Scale each (cropped) waveform to zero mean and unit variance, as
        ``Wav2Vec2FeatureExtractor(do_normalize=True)`` does.
    random_crop : bool, default=False
        Draw crop positions from a generator seeded with ``seed``.
    seed : int or None, default=None

    Returns (when called on a list of ``(waveform, target)`` pairs)
    ``({"input_values": (B, L), "lengths": (B,)}, targets)``.
    """

    def __init__(
        self, max_samples, min_samples=1, normalize=True, random_crop=False, seed=None
    ):
        self.max_samples = max_samples
        self.min_samples = min_samples
        self.normalize = normalize
        self.random_crop = random_crop
        self.rng = np.random.default_rng(seed)

    def crop(self, waveform: np.ndarray) -> np.ndarray:
        n, keep = len(waveform), self.max_samples
        if keep is None or n <= keep:
            return waveform
        if self.random_crop:
            start = int(self.rng.integers(0, n - keep + 1))
        else:
            start = (n - keep) // 2
        return waveform[start : start + keep]

    def __call__(self, batch):
        waveforms, targets = zip(*batch, strict=True)
        prepared = []
        for waveform in waveforms:
            w = self.crop(np.asarray(waveform, dtype=np.float32))
            if self.normalize:
                w = (w - w.mean()) / np.sqrt(w.var() + 1e-7)
            if len(w) < self.min_samples:
                w = np.pad(w, (0, self.min_samples - len(w)))
            prepared.append(w.astype(np.float32, copy=False))
        lengths = np.array([len(w) for w in prepared], dtype=np.int64)
        padded = np.zeros((len(prepared), int(lengths.max())), dtype=np.float32)
        for i, w in enumerate(prepared):
            padded[i, : len(w)] = w
        x = {
            "input_values": torch.from_numpy(padded),
            "lengths": torch.from_numpy(lengths),
        }
        return x, torch.utils.data.default_collate(list(targets))


class Wav2Vec2Net(NeuralNetClassifier):
    """``NeuralNetClassifier`` with gradient accumulation and CUDA autocast.

    Parameters
    ----------
    accumulation_steps : int, default=1
        Mini-batches whose gradients are summed before each optimizer step
        (each loss is divided by ``accumulation_steps``, so with equal-sized
        mini-batches the step is that of one batch ``accumulation_steps``
        times larger).  Left-over mini-batches at the end of an epoch make
        one last, smaller step.
    amp_dtype : torch.dtype or None, default=None
        Autocast dtype of the forward pass (CUDA only); float16 also scales
        the loss with a ``GradScaler``.
    **kwargs
        Passed to ``NeuralNetClassifier``.

    Attributes
    ----------
    optimizer_steps_ : int
        Optimizer steps taken since the net was initialised.
    """

    def __init__(self, module, *, accumulation_steps=1, amp_dtype=None, **kwargs):
        super().__init__(module, **kwargs)
        self.accumulation_steps = accumulation_steps
        self.amp_dtype = amp_dtype

    def initialize(self):
        super().initialize()
        self.optimizer_steps_ = 0
        self.pending_batches_ = 0
        self.grad_scaler_ = None
        return self

    def _scaler(self):
        if self.amp_dtype != torch.float16:
            return None
        if getattr(self, "grad_scaler_", None) is None:
            if hasattr(torch.amp, "GradScaler"):  # torch >= 2.3
                self.grad_scaler_ = torch.amp.GradScaler("cuda")
            else:  # pragma: no cover
                self.grad_scaler_ = torch.cuda.amp.GradScaler()
        return self.grad_scaler_

    def infer(self, x, **fit_params):
        device_type = torch.device(self.device).type
        with torch.autocast(
            device_type=device_type,
            dtype=self.amp_dtype,
            enabled=self.amp_dtype is not None,
        ):
            y_pred = super().infer(x, **fit_params)
        return y_pred.float()

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        scaled = loss / self.accumulation_steps
        scaler = self._scaler()
        (scaler.scale(scaled) if scaler is not None else scaled).backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        step = self.train_step_single(batch, **fit_params)
        self.pending_batches_ += 1
        if self.pending_batches_ >= self.accumulation_steps:
            self._apply_gradients(batch)
        return step

    def _apply_gradients(self, batch):
        scaler = self._scaler()
        optimizers = [getattr(self, name + "_") for name in self._optimizers]
        if scaler is not None:
            for optimizer in optimizers:
                scaler.unscale_(optimizer)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        if scaler is not None:
            for optimizer in optimizers:
                scaler.step(optimizer)
            scaler.update()
        else:
            self._step_optimizer(None)
        self._zero_grad_optimizer()
        self.pending_batches_ = 0
        self.optimizer_steps_ += 1

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if training and iterator is not None:
            self._zero_grad_optimizer()
            self.pending_batches_ = 0
        super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        if training and self.pending_batches_:
            self._apply_gradients(None)

    def __getstate__(self):
        state = super().__getstate__()
        state["grad_scaler_"] = None  # recreated on demand; may hold CUDA tensors
        return state


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


class Wav2Vec2Classifier(ClassifierMixin, BaseEstimator):
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
        "model_path": [str, os.PathLike, None],
        "column": [str, None],
        "freeze_feature_encoder": ["boolean"],
        "max_duration": [Interval(Real, 0, None, closed="neither"), None],
        "head_size": [Interval(Integral, 1, None, closed="left")],
        "head_dropout": [Interval(Real, 0, 1, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "head_lr": [Interval(Real, 0, None, closed="neither"), None],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "accumulation_steps": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "random_state": ["random_state"],
        "device": [str],
        "mixed_precision": [StrOptions({"auto", "bf16", "fp16"}), None],
        "verbose": ["verbose"],
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
    def fit(self, X, y):
        """Fine-tune the encoder and train the head.

        Parameters
        ----------
        X : sequence of audio items, DataFrame or 2-D waveform matrix
            See the class docstring.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : Wav2Vec2Classifier
        """

        from ..features._pretrained import resolve_model_dir

        self._validate_params()
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
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        y = column_or_1d(y, warn=True)
        check_consistent_length(items, y)
        if y.dtype.kind in "fc":
            assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in y; "
                f"got 1 class ({self.classes_[0]!r})."
            )
        y_encoded = encoder.transform(y).astype(np.int64)
        n_classes = len(self.classes_)

        device = _resolve_device(self.device)
        min_samples, normalize = self._load_config(path)
        waveforms = _waveform_array(
            [
                load_audio(item, name=describe_item(item, i))
                for i, item in enumerate(items)
            ]
        )
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))

        train_split, callbacks = validation_and_early_stopping(self, y_encoded, seed)
        callbacks.append(("progress", EpochProgress(type(self).__name__)))
        weight = class_weight_tensor(self.class_weight, self.classes_, y)
        optimizer_params = {"optimizer__weight_decay": self.weight_decay}
        if self.head_lr is not None:
            optimizer_params["optimizer__param_groups"] = [
                ("head.*", {"lr": self.head_lr})
            ]
        collate = {"max_samples": self._max_samples(), "min_samples": min_samples}
        collate["normalize"] = normalize
        self.net_ = Wav2Vec2Net(
            Wav2Vec2Module,
            module__model_path=str(path),
            module__n_classes=n_classes,
            module__freeze_feature_encoder=self.freeze_feature_encoder,
            module__head_size=self.head_size,
            module__head_dropout=self.head_dropout,
            accumulation_steps=self.accumulation_steps,
            amp_dtype=self._amp_dtype(device),
            criterion=nn.CrossEntropyLoss,
            criterion__weight=weight,
            optimizer=torch.optim.AdamW,
            lr=self.lr,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            train_split=train_split,
            callbacks=callbacks,
            iterator_train__shuffle=True,
            iterator_train__collate_fn=WaveformCollate(
                **collate, random_crop=True, seed=seed
            ),
            iterator_valid__collate_fn=WaveformCollate(**collate),
            classes=np.arange(n_classes),
            device=str(device),
            verbose=self.verbose,
            **optimizer_params,
        )
        fit_seeded(
            self.net_,
            waveforms,
            y_encoded,
            device=device,
            seed=seed,
            seeded=self.random_state is not None,
        )
        self.history_ = self.net_.history
        self.n_iter_ = len(self.history_)
        return self

    def predict_proba(self, X):
        """Class probabilities, ``(n_samples, n_classes)``; rows sum to 1."""
        check_is_fitted(self, "net_")
        waveforms = self._decode(X, reset=False)
        max_samples = self._max_samples() or np.iinfo(np.int64).max
        lengths = np.minimum([len(w) for w in waveforms], max_samples)
        order = np.argsort(-lengths, kind="stable")
        proba = np.empty((len(waveforms), len(self.classes_)), dtype=np.float64)
        proba[order] = self.net_.predict_proba(waveforms[order])
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predicted class labels, ``(n_samples,)``."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

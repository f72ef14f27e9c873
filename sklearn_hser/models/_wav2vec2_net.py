"""The wav2vec 2.0 network of :class:`~sklearn_hser.models.Wav2Vec2Classifier`.

* :class:`Wav2Vec2Module`: the pretrained encoder with a pooled head;
* :class:`WaveformCollate`: cropping, normalising and padding waveforms into
  batches (and carrying sample weights);
* :class:`Wav2Vec2Net`: the skorch network, with gradient accumulation and
  CUDA mixed precision;
* :class:`LinearWarmup`: the learning-rate schedule of Hugging Face's
  fine-tuning recipe (linear warm-up, then linear decay).

transformers is imported when a module is built, not when this is imported.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator
from torch import nn

from ._base import WeightedLossNet, split_weights

__all__ = [
    "LinearWarmup",
    "Wav2Vec2Module",
    "Wav2Vec2Net",
    "WaveformCollate",
    "masked_mean",
]


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
        waveforms, targets, weights = split_weights(batch)
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
        if weights is not None:
            x["sample_weight"] = weights
        return x, torch.utils.data.default_collate(list(targets))


class Wav2Vec2Net(WeightedLossNet):
    """``NeuralNetClassifier`` with gradient accumulation and CUDA autocast.

    Per-sample weights in the loss come from :class:`WeightedLossNet`.

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


class LinearWarmup:
    """Learning-rate factor: linear warm-up, then linear decay to zero.

    A picklable ``lr_lambda`` for :class:`torch.optim.lr_scheduler.LambdaLR`,
    stepped once per training mini-batch (skorch's
    ``LRScheduler(step_every="batch")``).

    Parameters
    ----------
    warmup_steps : int
        Steps over which the factor rises linearly from 0 to 1.
    total_steps : int
        Step at which the factor reaches 0 again (linear decay after the
        warm-up).
    """

    def __init__(self, warmup_steps, total_steps):
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps

    def __call__(self, step):
        if step < self.warmup_steps:
            return (step + 1) / (self.warmup_steps + 1)
        remaining = self.total_steps - step
        return max(0.0, remaining / max(1, self.total_steps - self.warmup_steps))

"""Embeddings from frozen self-supervised speech encoders.

* :class:`SpeechEncoderEmbeddings` runs a wav2vec 2.0 / HuBERT / WavLM
  checkpoint from a local directory through transformers (the encoder only:
  a CTC or pre-training head in the checkpoint is ignored) and returns the
  hidden states of one layer, pooled or as frame sequences.
* :class:`WakeHuBERTEmbeddings` runs WakeHuBERT-tiny, a small ONNX student of
  HuBERT-base shipped by ``ovos-ww-plugin-wakeforge``: a fast offline
  alternative that needs neither torch nor any downloaded weights.

Both take 16 kHz audio in any form :func:`~sklearn_hser.features.load_audio`
accepts, and 2-D numeric arrays as batches of equal-length waveforms.
"""

from __future__ import annotations

import importlib.util
import os
from numbers import Real
from pathlib import Path

import numpy as np
from joblib import effective_n_jobs
from sklearn.utils._param_validation import Interval, StrOptions

from .._optional import require
from ._base import BaseFeatureExtractor
from ._pretrained import (
    TransformersExtractor,
    cached_model,
    model_config,
    model_fingerprint,
    quiet_transformers,
    resolve_model_dir,
)
from .audio import SAMPLING_RATE, pad_to_length

#: wav2vec 2.0's convolutional feature encoder (kernel, stride) per layer,
#: used when a config does not list its own.
_WAV2VEC2_CONV = ((10, 5), (3, 2), (3, 2), (3, 2), (3, 2), (2, 2), (2, 2))

#: The variance floor of transformers' Wav2Vec2FeatureExtractor normalisation.
_NORM_EPS = 1e-7

# One loaded encoder per (directory, device, file signature) and process.
_ENCODERS: dict = {}

# One onnxruntime session per (model file, thread count) and process.
_SESSIONS: dict = {}


class SpeechEncoderEmbeddings(TransformersExtractor):
    """Hidden states of a frozen wav2vec 2.0-family encoder from a local folder.

    Parameters
    ----------
    model_path : str or path-like
        Local directory of a checkpoint saved with ``save_pretrained``:
        wav2vec 2.0 (e.g. a copy of ``facebook/wav2vec2-base``), its CTC
        fine-tuned variant (``wav2vec2-base-960h``: the encoder is loaded and
        the CTC head ignored), HuBERT, WavLM, data2vec-audio. Required
        (``None`` raises on use); model hub names are not accepted: nothing
        is downloaded.
    layer : int, default=-1
        Index into the encoder's hidden states: ``0`` is the input of the
        first transformer layer (projected CNN features with positional
        convolution), ``i`` the output of transformer layer ``i``, ``-1`` the
        last (``last_hidden_state``).
    pooling : {"mean", None}, default="mean"
        ``"mean"`` averages the frames of each utterance into one vector;
        ``None`` returns the frame sequences (50 frames per second for
        wav2vec 2.0) as a sequence batch (see :mod:`sklearn_hser._sequences`).
    normalize : {"auto", True, False}, default="auto"
        Zero-mean, unit-variance normalisation of each waveform before the
        encoder (what wav2vec 2.0 checkpoints are trained with). ``"auto"``
        follows ``do_normalize`` of the folder's ``preprocessor_config.json``
        (read with ``AutoFeatureExtractor``), and normalises when the folder
        has none.
    max_duration : float or None, default=None
        Crop each utterance to its first ``max_duration`` seconds (self-
        attention cost grows with the square of the length); ``None`` keeps
        everything.
    batch_size : int, default=8
        Utterances per forward pass. It never changes the result (see Notes)
        and is not part of the cache key.
    column : str, default=None
        Column of a DataFrame ``X`` holding the audio inputs.
    cache_dir : str or path-like, default=None
        Directory of the on-disk feature cache; ``None`` disables caching.
        Extraction is the slow step: caching is recommended.
    n_jobs : int, default=None
        Worker processes, each with its own copy of the model. One process
        (the default) already uses several threads through torch.
    device : str, default="cpu"
        Torch device of the model, e.g. ``"cuda"``.

    Notes
    -----
    * **Short audio**: an utterance shorter than the convolutional encoder's
      receptive field (400 samples, 25 ms, for wav2vec 2.0) is zero-padded at
      the end to that length, which gives exactly one frame.
    * **Normalisation** is applied to each utterance on its own, after
      cropping and padding, as ``(x - mean) / sqrt(var + 1e-7)`` (the
      formula of transformers' ``Wav2Vec2FeatureExtractor``).
    * **Batching without leaks**: models whose feature encoder uses layer
      normalisation (``feat_extract_norm="layer"``: wav2vec2-large-lv60,
      HuBERT-large, WavLM, data2vec) get padded batches with an attention
      mask, and padded frames are dropped. Models with group normalisation
      (``"group"``: wav2vec2-base, wav2vec2-base-960h, HuBERT-base) normalise
      over the whole time axis, so padding would change every frame; their
      batches therefore only group utterances of identical length, and
      everything else runs one utterance at a time. Either way each
      utterance's features equal those it gets on its own.
    * The frame count of an utterance of ``n`` samples is the output length
      of the convolutional encoder (for wav2vec 2.0, ``floor((n - 400) / 320)
      + 1``); the mean is taken over those frames only.
    * The model is loaded on first use, once per process, and never stored in
      the estimator (cloning and pickling stay cheap). The cache key holds the
      transformers and torch versions and a digest of the model folder.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hser.features import SpeechEncoderEmbeddings
    >>> emb = SpeechEncoderEmbeddings("wav2vec2-base/", layer=6)  # doctest: +SKIP
    >>> waves = [np.zeros(16000, dtype="float32")]
    >>> emb.fit_transform(waves).shape  # doctest: +SKIP
    (1, 768)
    """

    _non_output_params = frozenset({"batch_size", "device"})

    def __init__(
        self,
        model_path=None,
        layer=-1,
        pooling="mean",
        normalize="auto",
        max_duration=None,
        batch_size=8,
        column=None,
        cache_dir=None,
        n_jobs=None,
        device="cpu",
    ):
        super().__init__(model_path, layer, pooling, column, cache_dir, n_jobs, device)
        self.normalize = normalize
        self.max_duration = max_duration
        self.batch_size = batch_size

    _parameter_constraints: dict = {
        **TransformersExtractor._parameter_constraints,
        "normalize": [StrOptions({"auto"}), "boolean"],
        "max_duration": [Interval(Real, 0, None, closed="neither"), None],
    }

    # -- hooks ------------------------------------------------------------
    def _feature_names(self):
        config = model_config(self._path())
        suffix = "_mean" if self.pooling == "mean" else ""
        return [
            f"{config['model_type']}_{i}{suffix}" for i in range(config["hidden_size"])
        ]

    def _extract_batch(self, waveforms):
        encoder = _load_encoder(self._path(), self.device)
        normalize = encoder.do_normalize if self.normalize == "auto" else self.normalize
        inputs = [self._prepare(w, encoder.min_samples, normalize) for w in waveforms]
        results: list = [None] * len(inputs)
        for group in _batches(inputs, self.batch_size, encoder.pad_batches):
            frames = encoder.forward([inputs[i] for i in group], self.layer)
            for i, sequence in zip(group, frames, strict=True):
                results[i] = (
                    sequence.mean(axis=0) if self.pooling == "mean" else sequence
                )
        return results

    # -- helpers ------------------------------------------------------------
    def _path(self) -> Path:
        if self.model_path is None:
            raise ValueError(
                "SpeechEncoderEmbeddings needs model_path: the local directory of a "
                "wav2vec2 / HuBERT / WavLM checkpoint saved with save_pretrained "
                "(no speech encoder weights ship with the package; for a packaged "
                "offline encoder use WakeHuBERTEmbeddings)."
            )
        return resolve_model_dir(self.model_path, type(self).__name__)

    def _prepare(self, waveform, min_samples: int, normalize: bool) -> np.ndarray:
        waveform = np.asarray(waveform, dtype=np.float32)
        if self.max_duration is not None:
            waveform = waveform[: max(1, int(round(self.max_duration * SAMPLING_RATE)))]
        waveform = pad_to_length(waveform, min_samples)
        if normalize:
            waveform = (waveform - waveform.mean()) / np.sqrt(
                waveform.var() + _NORM_EPS
            )
        return np.ascontiguousarray(waveform, dtype=np.float32)


def _batches(inputs: list, batch_size: int, pad: bool) -> list[list[int]]:
    """Indices of ``inputs`` grouped into forward passes.

    With ``pad``, utterances sorted by length fill batches of ``batch_size``
    (similar lengths waste little padding); without, only utterances of the
    same length share a batch.
    """
    order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
    if pad:
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    by_length: dict = {}
    for i in order:
        by_length.setdefault(len(inputs[i]), []).append(i)
    return [
        same[i : i + batch_size]
        for same in by_length.values()
        for i in range(0, len(same), batch_size)
    ]


class _Encoder:
    """A loaded transformers speech encoder and what is needed to run it."""

    def __init__(self, path: Path, device: str):
        require("transformers", "SpeechEncoderEmbeddings")
        import torch
        from transformers import AutoConfig, AutoFeatureExtractor, AutoModel

        with quiet_transformers():
            config = AutoConfig.from_pretrained(path, local_files_only=True)
            model = AutoModel.from_pretrained(path, local_files_only=True)
            processor = None
            if (path / "preprocessor_config.json").is_file():
                processor = AutoFeatureExtractor.from_pretrained(
                    path, local_files_only=True
                )
        if getattr(model, "main_input_name", None) != "input_values":
            raise ValueError(
                f"SpeechEncoderEmbeddings: {os.fspath(path)!r} holds a "
                f"{type(model).__name__}, which does not take raw waveforms "
                "(input_values); use a wav2vec2, HuBERT, WavLM or data2vec-audio "
                "checkpoint."
            )
        rate = getattr(processor, "sampling_rate", SAMPLING_RATE)
        if rate != SAMPLING_RATE:
            raise ValueError(
                f"SpeechEncoderEmbeddings: {os.fspath(path)!r} expects {rate} Hz "
                f"audio; the package works at {SAMPLING_RATE} Hz."
            )
        self.torch = torch
        self.device = device
        self.model = model.float().to(device).eval()
        self.do_normalize = bool(getattr(processor, "do_normalize", True))
        # Group norm spans the time axis: padding would leak into every frame.
        self.pad_batches = getattr(config, "feat_extract_norm", "layer") == "layer"
        kernels = getattr(config, "conv_kernel", None)
        strides = getattr(config, "conv_stride", None)
        if not kernels or not strides:
            kernels = [k for k, _ in _WAV2VEC2_CONV]
            strides = [s for _, s in _WAV2VEC2_CONV]
        self.conv = tuple(zip(kernels, strides, strict=True))
        self.min_samples = _receptive_field(self.conv)

    def n_frames(self, n_samples: int) -> int:
        for kernel, stride in self.conv:
            n_samples = (n_samples - kernel) // stride + 1
        return n_samples

    def forward(self, waveforms: list, layer: int) -> list[np.ndarray]:
        torch = self.torch
        lengths = [len(w) for w in waveforms]
        batch = np.zeros((len(waveforms), max(lengths)), dtype=np.float32)
        mask = np.zeros(batch.shape, dtype=np.int64)
        for i, w in enumerate(waveforms):
            batch[i, : len(w)] = w
            mask[i, : len(w)] = 1
        kwargs = {"output_hidden_states": True}
        if self.pad_batches:
            kwargs["attention_mask"] = torch.from_numpy(mask).to(self.device)
        with torch.inference_mode():
            output = self.model(torch.from_numpy(batch).to(self.device), **kwargs)
        hidden = output.hidden_states[layer].float().cpu().numpy()
        frames = [self.n_frames(n) for n in lengths]
        if hidden.shape[1] != max(frames):
            raise RuntimeError(
                f"the encoder returned {hidden.shape[1]} frames where its "
                f"convolutional layers give {max(frames)}; this architecture is "
                "not supported."
            )
        return [hidden[i, :n] for i, n in enumerate(frames)]


def _receptive_field(conv) -> int:
    """Samples one output frame of a stack of (kernel, stride) convolutions sees."""
    field, jump = 1, 1
    for kernel, stride in conv:
        field += (kernel - 1) * jump
        jump *= stride
    return field


def _load_encoder(path: Path, device: str) -> _Encoder:
    return cached_model(_ENCODERS, path, device, _Encoder)


# -- WakeHuBERT-tiny (ONNX) -----------------------------------------------------
_WAKEFORGE = "ovos_ww_plugin_wakeforge"
_WAKEFORGE_HINT = (
    "WakeHuBERTEmbeddings needs the model files of the 'ovos-ww-plugin-wakeforge' "
    "package; install them with `pip install --no-deps "
    "ovos-ww-plugin-wakeforge==0.3.0` (or `pip install --no-deps -r "
    "requirements/assets.txt`)."
)
_ONNXRUNTIME_HINT = (
    "WakeHuBERTEmbeddings needs onnxruntime: `pip install onnxruntime` (or "
    "install this package with its 'onnx' extra)."
)

#: WakeHuBERT-tiny emits one 128-dim frame per 320 samples (20 ms, 50 Hz).
WAKEHUBERT_HOP = 320
WAKEHUBERT_DIM = 128


def wakehubert_model_path() -> Path:
    """Return the path of the packaged WakeHuBERT-tiny ONNX file.

    The ``ovos_ww_plugin_wakeforge`` package is located, not imported (its
    ``__init__`` needs the OVOS plugin framework).

    Raises
    ------
    ImportError
        If the package or its model file is missing.
    """
    spec = importlib.util.find_spec(_WAKEFORGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(_WAKEFORGE_HINT)
    folder = Path(list(spec.submodule_search_locations)[0])
    path = folder / "featurizers" / "wakehubert-tiny" / "wakehubert.onnx"
    if not path.is_file():
        raise ImportError(f"{path} is missing. {_WAKEFORGE_HINT}")
    return path


def _wakehubert_session(path: Path, threads: int):
    key = (str(path), threads)
    if key not in _SESSIONS:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ImportError(_ONNXRUNTIME_HINT) from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # No busy-waiting between runs: the CPU is shared with other workers.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        _SESSIONS[key] = ort.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
    return _SESSIONS[key]


class WakeHuBERTEmbeddings(BaseFeatureExtractor):
    """Frames of WakeHuBERT-tiny, a small ONNX student of HuBERT-base.

    WakeHuBERT-tiny (0.64M parameters, Apache-2.0) is a causal convolutional
    network distilled from layers 4, 8 and 12 of HuBERT-base; it maps 16 kHz
    audio to 128-dim frames at 50 Hz, about a hundred times faster than
    HuBERT-base on CPU. The model ships inside the
    ``ovos-ww-plugin-wakeforge==0.3.0`` package, so it works offline.

    Parameters
    ----------
    pooling : {"mean", None}, default="mean"
        ``"mean"`` averages the frames of each utterance into one 128-dim
        vector; ``None`` returns the frame sequences (a sequence batch, see
        :mod:`sklearn_hser._sequences`).
    column : str, default=None
        Column of a DataFrame ``X`` holding the audio inputs.
    cache_dir : str or path-like, default=None
        Directory of the on-disk feature cache; ``None`` disables caching.
    n_jobs : int, default=None
        Worker processes. With more than one, each onnxruntime session runs
        on one thread; otherwise onnxruntime picks its thread count.

    Notes
    -----
    * An utterance of ``n`` samples gives ``floor(n / 320)`` frames. The
      model needs at least 320 samples (20 ms, one frame); shorter audio is
      zero-padded at the end to 320 samples. Being causal, each frame
      depends only on the audio up to its end (at most 2.5 s back).
    * The waveform is used as decoded (floats in [-1, 1]); the model applies
      its own mel front end, so no normalisation is done.
    * The onnxruntime session is created on first use, once per process, and
      never stored in the estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hser.features import WakeHuBERTEmbeddings
    >>> waves = [np.random.default_rng(0).normal(0, 0.1, 16000).astype("float32")]
    >>> WakeHuBERTEmbeddings().fit_transform(waves).shape  # doctest: +SKIP
    (1, 128)
    """

    _parameter_constraints: dict = {
        **BaseFeatureExtractor._parameter_constraints,
        "pooling": [StrOptions({"mean"}), None],
    }

    def __init__(self, pooling="mean", column=None, cache_dir=None, n_jobs=None):
        self.pooling = pooling
        self.column = column
        self.cache_dir = cache_dir
        self.n_jobs = n_jobs

    def _check_params(self):
        # Missing pieces are reported in fit, before any audio is decoded.
        wakehubert_model_path()
        if importlib.util.find_spec("onnxruntime") is None:
            raise ImportError(_ONNXRUNTIME_HINT)

    def _returns_sequences(self):
        return self.pooling is None

    def _library_versions(self):
        from importlib.metadata import PackageNotFoundError, version

        path = wakehubert_model_path()
        versions = []
        for dist in ("ovos-ww-plugin-wakeforge", "onnxruntime"):
            try:
                versions.append(version(dist))
            except PackageNotFoundError:
                versions.append(None)
        return (*versions, model_fingerprint(path.parent))

    def _feature_names(self):
        suffix = "_mean" if self.pooling == "mean" else ""
        return [f"wakehubert_{i}{suffix}" for i in range(WAKEHUBERT_DIM)]

    def frames(self, waveform: np.ndarray) -> np.ndarray:
        """Frame-level features of one 16 kHz waveform, ``(n_frames, 128)``."""
        threads = 1 if effective_n_jobs(self.n_jobs) > 1 else 0  # 0: ORT default
        session = _wakehubert_session(wakehubert_model_path(), threads)
        waveform = pad_to_length(np.asarray(waveform, dtype=np.float32), WAKEHUBERT_HOP)
        (features,) = session.run(["features"], {"waveform": waveform[None]})
        return features[0]

    def _extract_one(self, waveform):
        frames = self.frames(waveform)
        return frames.mean(axis=0) if self.pooling == "mean" else frames

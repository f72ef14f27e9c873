"""Tiny randomly initialised wav2vec 2.0 checkpoints, for tests and examples.

No real wav2vec 2.0 weights can be downloaded here, so code that loads a
checkpoint from a local folder is exercised with a model small enough to run
in milliseconds, saved with ``save_pretrained`` exactly as a real checkpoint
is: the same loading code path, only the numbers differ.
"""

from __future__ import annotations

from pathlib import Path

#: The tiny configuration: hidden size 32, 2 layers of 2 heads, a 7-layer CNN
#: of 32 channels with wav2vec 2.0's kernels and strides (receptive field 400
#: samples, hop 320). No masking and no layer drop, so training is
#: deterministic given the seed.
TINY_WAV2VEC2_CONFIG = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "conv_dim": (32,) * 7,
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 2,
    "mask_time_prob": 0.0,
    "layerdrop": 0.0,
}


def save_tiny_wav2vec2(
    path, *, ctc=False, seed=0, feature_extractor=True, **config_overrides
) -> Path:
    """Build a tiny random wav2vec 2.0 model and save it to ``path``.

    Parameters
    ----------
    path : str or path-like
        Output directory (created if needed).
    ctc : bool, default=False
        Save a ``Wav2Vec2ForCTC`` (encoder plus CTC head, like
        ``wav2vec2-base-960h``) instead of a bare ``Wav2Vec2Model`` (like
        ``wav2vec2-base``).
    seed : int, default=0
        Seed of the random initialisation; torch's global random state is
        left as it was.
    feature_extractor : bool, default=True
        Also save a ``preprocessor_config.json`` (a ``Wav2Vec2FeatureExtractor``
        at 16 kHz with ``do_normalize=True``), as real checkpoints have.
    **config_overrides
        Values that replace those of :data:`TINY_WAV2VEC2_CONFIG` or of
        ``Wav2Vec2Config``'s defaults, e.g. ``feat_extract_norm="layer"``,
        ``vocab_size=12``.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Model,
    )

    from ..features._pretrained import quiet_transformers

    config = Wav2Vec2Config(**{**TINY_WAV2VEC2_CONFIG, **config_overrides})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = (Wav2Vec2ForCTC if ctc else Wav2Vec2Model)(config)
    path = Path(path)
    with quiet_transformers():
        model.save_pretrained(path)
        if feature_extractor:
            Wav2Vec2FeatureExtractor(
                feature_size=1,
                sampling_rate=16_000,
                padding_value=0.0,
                do_normalize=True,
                return_attention_mask=config.feat_extract_norm == "layer",
            ).save_pretrained(path)
    return path

"""Corpus loaders, the synthetic demo corpus, fixtures and evaluation splits.

Every loader returns a pandas DataFrame with one row per utterance and the
columns ``id``, ``audio`` (path or waveform; MELD has none), ``text``,
``label``, ``speaker``, ``gender`` and ``session``, plus corpus-specific ones.
"""

from ._paths import shared_data_dir
from .combine import concat_corpora
from .emodb import load_emodb
from .fixtures import make_iemocap_fixture, read_iemocap_fixture_manifest
from .iemocap import load_iemocap
from .manifest import load_manifest
from .meld import load_meld
from .ravdess import load_ravdess
from .splits import (
    LeaveOneSessionOut,
    speaker_dependent_split,
    speaker_holdout_split,
    speaker_independent_split,
    validation_split,
)
from .synthetic import make_emotional_speech, synthesize_utterance
from .voicing import PiperEngine, voice_texts

__all__ = [
    "LeaveOneSessionOut",
    "PiperEngine",
    "concat_corpora",
    "load_emodb",
    "load_iemocap",
    "load_manifest",
    "load_meld",
    "load_ravdess",
    "make_emotional_speech",
    "make_iemocap_fixture",
    "read_iemocap_fixture_manifest",
    "shared_data_dir",
    "speaker_dependent_split",
    "speaker_holdout_split",
    "speaker_independent_split",
    "synthesize_utterance",
    "validation_split",
    "voice_texts",
]

"""Feature transformers: acoustic features, text and speech-encoder embeddings.

Every transformer here is a stateless scikit-learn transformer over a
sequence of inputs (audio items or transcripts); see
:mod:`sklearn_hser.features._base` for the accepted input forms, caching and
parallel extraction, and :mod:`sklearn_hser.features.audio` for how audio is
decoded and which inputs are rejected.
"""

from ._cache import cache_info, clear_cache
from .audio import AudioInputError, ClippedAudioWarning, load_audio
from .gemaps import GeMAPS
from .handcrafted import HandcraftedFeatures
from .mfcc import MFCC
from .speaker import SpeakerNormalizer
from .speech_encoder import SpeechEncoderEmbeddings, WakeHuBERTEmbeddings
from .text import BertTokenEmbeddings
from .whisper import WhisperEmbeddings

__all__ = [
    "MFCC",
    "AudioInputError",
    "ClippedAudioWarning",
    "GeMAPS",
    "HandcraftedFeatures",
    "load_audio",
    "BertTokenEmbeddings",
    "SpeakerNormalizer",
    "SpeechEncoderEmbeddings",
    "WakeHuBERTEmbeddings",
    "WhisperEmbeddings",
    "cache_info",
    "clear_cache",
]

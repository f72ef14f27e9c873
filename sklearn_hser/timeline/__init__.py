"""Emotion timelines of long recordings, with or without a transcript.

Interviews, calls, podcasts and lectures come as long recordings, often
with subtitles or a transcript beside them. This subpackage cuts such a
recording into segments (the cues of a ``.srt``/``.vtt``/``.csv``
transcript, or speech found by voice activity with words from the packaged
offline Whisper ASR), runs a fitted hierarchy on every segment with its
text, and returns one row per segment with times, words, route, label and
class probabilities (:func:`emotion_timeline`); :func:`write_timeline`
writes the table, a figure and an HTML page.
"""

from .asr import WhisperTranscriber, asr_available
from .recording import Recording
from .report import plot_timeline, write_timeline
from .segmentation import speech_segments
from .synthetic import concatenate_utterances
from .timeline import emotion_timeline
from .transcripts import TranscriptError, read_transcript, segments_table, write_srt

__all__ = [
    "Recording",
    "TranscriptError",
    "WhisperTranscriber",
    "asr_available",
    "concatenate_utterances",
    "emotion_timeline",
    "plot_timeline",
    "read_transcript",
    "segments_table",
    "speech_segments",
    "write_srt",
    "write_timeline",
]

"""Speech segments of a recording that comes without a transcript.

Two detectors of speech activity, run block by block so that a long
recording is never decoded whole:

* ``"silero"``: the Silero VAD (ONNX) that faster-whisper ships in its wheel
  (the ``asr`` extra); a neural detector that ignores most non-speech sound;
* ``"energy"``: frames whose level stands ``energy_margin_db`` above the
  block's noise floor; no dependency, fine for clean recordings.

Both then apply the same rules, documented in :func:`speech_segments`:
pauses shorter than ``min_pause`` are bridged, speech shorter than
``min_segment`` is dropped, and speech longer than ``max_segment`` is cut
at its quietest moment.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..features.audio import SAMPLING_RATE
from .recording import _RECORDING_CONSTRAINTS, Recording
from .transcripts import segments_table

__all__ = ["speech_segments"]

#: The voice activity detectors of :func:`speech_segments`.
VADS = ("silero", "energy")
# Blocks of this length are analysed at once: ~19 MB of float32 at 16 kHz.
_BLOCK_SECONDS = 300.0
_FRAME = 0.02  # seconds per energy frame


def _silero_regions(waveform: np.ndarray, threshold: float) -> list:
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
    except ImportError as exc:
        raise ImportError(
            "vad='silero' needs faster-whisper, which ships the Silero VAD: "
            "pip install 'sklearn-hser[asr]', or use vad='energy'."
        ) from exc
    # Raw regions only: the merging and splitting rules below are our own.
    options = VadOptions(
        threshold=threshold,
        min_silence_duration_ms=100,
        speech_pad_ms=30,
        min_speech_duration_ms=0,
    )
    stamps = get_speech_timestamps(waveform, options, sampling_rate=SAMPLING_RATE)
    return [(s["start"] / SAMPLING_RATE, s["end"] / SAMPLING_RATE) for s in stamps]


def _frame_levels(waveform: np.ndarray) -> np.ndarray:
    """Level of consecutive ``_FRAME``-second frames, dBFS."""
    size = int(_FRAME * SAMPLING_RATE)
    n = len(waveform) // size
    if n == 0:
        return np.full(1, -120.0)
    frames = waveform[: n * size].reshape(n, size).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-6))


def _energy_regions(waveform: np.ndarray, margin_db: float) -> list:
    levels = _frame_levels(waveform)
    floor = np.percentile(levels, 10)
    # Never call digital silence or faint hiss speech, whatever the floor.
    active = levels > max(floor + margin_db, -60.0)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(int), [0]])))
    return [(a * _FRAME, b * _FRAME) for a, b in zip(edges[::2], edges[1::2])]


def _merge(regions, min_pause):
    merged = []
    for start, end in sorted(regions):
        if merged and start - merged[-1][1] < min_pause:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _split_long(recording, start, end, max_segment):
    """Cut ``[start, end]`` into pieces of at most ``max_segment`` seconds.

    Each cut falls at the quietest frame of the last third of the allowed
    span, where a breath or a word boundary most likely lies.
    """
    pieces = []
    while end - start > max_segment:
        lo, hi = start + max_segment * 2 / 3, start + max_segment
        levels = _frame_levels(recording.read(lo, hi))
        cut = lo + (int(np.argmin(levels)) + 0.5) * _FRAME
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


@validate_params(
    {
        "recording": _RECORDING_CONSTRAINTS,
        "vad": [StrOptions(set(VADS))],
        "min_segment": [Interval(Real, 0, None, closed="left")],
        "min_pause": [Interval(Real, 0, None, closed="left")],
        "max_segment": [Interval(Real, 0, None, closed="neither")],
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "energy_margin_db": [Interval(Real, None, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def speech_segments(
    recording,
    *,
    vad: str = "silero",
    min_segment: float = 0.5,
    min_pause: float = 0.3,
    max_segment: float = 15.0,
    threshold: float = 0.5,
    energy_margin_db: float = 15.0,
):
    """Split a recording into speech segments by voice activity.

    Parameters
    ----------
    recording : Recording, path-like, ndarray or tuple
        The recording (anything :class:`Recording` takes).
    vad : {"silero", "energy"}, default="silero"
        The detector; ``"silero"`` needs faster-whisper (the ``asr`` extra).
    min_segment : float, default=0.5
        Speech shorter than this many seconds (after bridging pauses) is
        dropped: too short to carry an emotion or words.
    min_pause : float, default=0.3
        Pauses shorter than this many seconds do not end a segment.
    max_segment : float, default=15.0
        Longer speech is cut into pieces of at most this many seconds, at
        the quietest moment near each limit (Whisper reads at most 30 s).
    threshold : float, default=0.5
        Silero's speech probability threshold.
    energy_margin_db : float, default=15.0
        For ``vad="energy"``: how far above the noise floor (the 10th
        percentile of 20 ms frame levels in each 5-minute block) a frame
        must be to count as speech; frames below -60 dBFS never do.

    Returns
    -------
    pandas.DataFrame
        A segments table (see :mod:`sklearn_hser.timeline.transcripts`) with
        empty texts; empty if no speech is found (e.g. a silent recording).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hser.timeline import speech_segments
    >>> t = np.arange(48000) / 16000
    >>> tone = (0.3 * np.sin(2 * np.pi * 200 * t)).astype("float32")
    >>> tone[16000:32000] = 0  # a one-second pause
    >>> speech_segments(tone, vad="energy")[["start", "end"]]
       start  end
    0    0.0  1.0
    1    2.0  3.0
    """
    for name, value in [
        ("min_segment", min_segment),
        ("min_pause", min_pause),
        ("max_segment", max_segment),
    ]:
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    if max_segment <= max(min_segment, 3 * _FRAME):
        raise ValueError(
            f"max_segment ({max_segment}) must exceed min_segment ({min_segment})"
        )
    if not isinstance(recording, Recording):
        recording = Recording(recording)
    regions = []
    for offset, block in recording.blocks(_BLOCK_SECONDS):
        found = (
            _silero_regions(block, threshold)
            if vad == "silero"
            else _energy_regions(block, energy_margin_db)
        )
        regions += [(offset + a, offset + b) for a, b in found]
    # Merging also joins speech that a block boundary cut in two.
    segments = []
    for start, end in _merge(regions, min_pause):
        end = min(end, recording.duration)
        if end - start >= min_segment:
            segments += _split_long(recording, start, end, max_segment)
    return segments_table(segments)

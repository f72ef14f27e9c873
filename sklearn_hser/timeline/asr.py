"""Offline speech recognition with the packaged Whisper-base (faster-whisper).

Used where a recording comes without words: the segments found by
:func:`~sklearn_hser.timeline.speech_segments` (or the empty cues of a
transcript, or the files given to ``hser predict`` without ``--text``) are
transcribed so that the text branch of the hierarchy has something to read.

Whisper's encoder always reads a 30-second window, so transcribing one short
segment per window would waste most of it. The segments are packed end to end
(a short silence between them) into clips of up to 24 s, the clips go through
faster-whisper's batched pipeline several at once, and each recognised word,
which comes back with its time, goes to the segment it falls in (or, in a
gap, the nearest one). Each segment's text and confidence are thus its own,
and a 10-minute recording costs about 25 windows, not one per segment.
Nothing is downloaded: the model is the packaged Whisper-base
(:mod:`sklearn_hser.features._whisper_assets`) or a local CTranslate2 Whisper
directory.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ..features.audio import SAMPLING_RATE

__all__ = ["WhisperTranscriber", "asr_available"]

# Whisper's frame: 10 ms at 16 kHz.
_FRAME = 160
# Segments packed into one clip, with this much silence between them.
# (Whisper tends to drop the last words of a window that is nearly full.)
_PACK_SAMPLES = int(24.0 * SAMPLING_RATE)
_GAP_SECONDS = 0.3
_EMPTY = {"text": "", "asr_confidence": float("nan"), "language": None}


def asr_available() -> bool:
    """Whether offline ASR can run: faster-whisper and the packaged model."""
    import importlib.util

    from ..features._whisper_assets import packaged_whisper_installed

    return (
        importlib.util.find_spec("faster_whisper") is not None
        and packaged_whisper_installed()
    )


@functools.lru_cache(maxsize=2)
def _load_model(path: str, compute_type: str, cpu_threads: int):
    try:
        from faster_whisper import BatchedInferencePipeline, WhisperModel
    except ImportError as exc:
        raise ImportError(
            "Transcribing needs faster-whisper: pip install 'sklearn-hser[asr]' "
            "(or give a transcript, or switch ASR off)."
        ) from exc
    model = WhisperModel(
        path, device="cpu", compute_type=compute_type, cpu_threads=cpu_threads
    )
    return BatchedInferencePipeline(model)


def _nearest_span(starts, ends, time) -> int:
    """The span holding ``time``, else the closest one (a word in a gap)."""
    k = int(np.searchsorted(starts, time, side="right")) - 1
    if k < 0:
        return 0
    if time <= ends[k] or k + 1 == len(starts):
        return k
    return k if time - ends[k] <= starts[k + 1] - time else k + 1


class WhisperTranscriber:
    """Transcribe short waveforms with an offline Whisper model.

    Parameters
    ----------
    model_path : str or path-like, default=None
        A local CTranslate2 Whisper directory; ``None`` uses the packaged
        Whisper-base (needs its two data wheels, see ``requirements/assets.txt``).
    language : str, default=None
        Language code, e.g. ``"en"``; ``None`` detects it once, from the
        first batch, and keeps it for the rest of the recording.
    batch_size : int, default=8
        Segments decoded together.
    beam_size : int, default=1
        Beam width; 1 (greedy) is several times faster than 5 and nearly as
        accurate on short segments.
    cpu_threads : int, default=2
        Threads of the CTranslate2 runtime.
    compute_type : str, default="int8"
        CTranslate2 quantisation of the weights.
    no_speech_threshold : float, default=0.6
        A segment whose no-speech probability is above this, and whose
        confidence is below ``exp(-1)``, gets an empty text: Whisper's own
        rule against writing words into noise.

    Examples
    --------
    >>> from sklearn_hser.timeline import WhisperTranscriber, asr_available
    >>> if asr_available():  # doctest: +SKIP
    ...     WhisperTranscriber(language="en").transcribe([waveform])
    """

    def __init__(
        self,
        model_path=None,
        *,
        language: str | None = None,
        batch_size: int = 8,
        beam_size: int = 1,
        cpu_threads: int = 2,
        compute_type: str = "int8",
        no_speech_threshold: float = 0.6,
    ):
        self.model_path = model_path
        self.language = language
        self.batch_size = batch_size
        self.beam_size = beam_size
        self.cpu_threads = cpu_threads
        self.compute_type = compute_type
        self.no_speech_threshold = no_speech_threshold

    def _pipeline(self):
        path = self.model_path
        if path is None:
            from ..features._whisper_assets import packaged_whisper_dir

            path = packaged_whisper_dir()
        return _load_model(str(path), self.compute_type, int(self.cpu_threads))

    def transcribe(self, waveforms) -> pd.DataFrame:
        """Transcribe each 16 kHz mono waveform on its own.

        Parameters
        ----------
        waveforms : sequence of ndarray
            16 kHz mono float32 waveforms, e.g. the segments of a recording.

        Returns
        -------
        pandas.DataFrame
            One row per waveform: ``text``, ``asr_confidence`` (the mean
            probability of its recognised words, in [0, 1]; NaN without
            words) and ``language``.
        """
        waveforms = [np.asarray(w, dtype=np.float32).ravel() for w in waveforms]
        pipeline = self._pipeline()
        rows = []
        # A group per call bounds the size of the packed audio (~10 min).
        group = 200
        for first in range(0, len(waveforms), group):
            rows += self._transcribe_group(pipeline, waveforms[first : first + group])
        # Whisper sometimes stops decoding a packed clip after its first
        # sentence, leaving the later segments of the clip without words
        # (4 of 18 segments of a 62 s RAVDESS recording). Segments left empty
        # are transcribed once more, packed among themselves: a segment that
        # really holds no words costs one more pass, one that was skipped
        # gets its words.
        empty = [i for i, row in enumerate(rows) if not row["text"]]
        if empty and len(empty) < len(rows):
            again = self._transcribe_group(pipeline, [waveforms[i] for i in empty])
            for i, row in zip(empty, again):
                if row["text"]:
                    rows[i] = row
        return pd.DataFrame(rows, columns=["text", "asr_confidence", "language"])

    def _transcribe_group(self, pipeline, waveforms) -> list:
        # Packing: see the module docstring.
        gap, limit = int(_GAP_SECONDS * SAMPLING_RATE), _PACK_SAMPLES
        clips, spans, pieces = [], [], []
        offset = clip_start = 0
        for i, wave in enumerate(waveforms):
            for lo in range(0, len(wave), limit):
                piece = wave[lo : lo + limit]
                if offset + len(piece) - clip_start > limit:
                    clips.append((clip_start, offset))
                    # Clips start on Whisper's 10 ms frames.
                    offset = clip_start = (offset // _FRAME + 2) * _FRAME
                pieces.append((offset, piece))
                spans.append((offset, offset + len(piece), i))
                offset += len(piece) + gap
        if not spans:
            return [_EMPTY.copy() for _ in waveforms]
        clips.append((clip_start, offset))
        audio = np.zeros(offset, dtype=np.float32)
        for first, piece in pieces:
            audio[first : first + len(piece)] = piece
        segments, info = pipeline.transcribe(
            audio,
            language=self.language,
            clip_timestamps=[
                {"start": a / SAMPLING_RATE, "end": b / SAMPLING_RATE} for a, b in clips
            ],
            batch_size=int(self.batch_size),
            beam_size=int(self.beam_size),
            # Timestamp tokens keep Whisper from skipping repeated sentences.
            without_timestamps=False,
            word_timestamps=True,
            log_progress=False,
        )
        if self.language is None:
            self.language = info.language  # detected once, kept for the rest
        starts = np.array([a for a, _, _ in spans]) / SAMPLING_RATE
        ends = np.array([b for _, b, _ in spans]) / SAMPLING_RATE
        words = [[] for _ in waveforms]
        for segment in segments:
            quiet = (
                segment.no_speech_prob > self.no_speech_threshold
                and segment.avg_logprob < -1.0
            )
            for word in () if quiet else segment.words or ():
                k = _nearest_span(starts, ends, (word.start + word.end) / 2)
                words[spans[k][2]].append(word)
        return [
            {
                "text": "".join(w.word for w in ws).strip(),
                "asr_confidence": (
                    float(np.mean([w.probability for w in ws])) if ws else float("nan")
                ),
                "language": info.language,
            }
            for ws in words
        ]

"""Offline speech recognition with the packaged Whisper-base (faster-whisper).

Used where a recording comes without words: the segments found by
:func:`~sklearn_hser.timeline.speech_segments` (or the empty cues of a
transcript, or the files given to ``hser predict`` without ``--text``) are
transcribed so that the text branch of the hierarchy has something to read.

All segments go through faster-whisper's batched pipeline, several at once,
each as its own clip: the decoder never merges two segments, and each
segment's text and confidence are its own. Nothing is downloaded: the model
is the packaged Whisper-base (:mod:`sklearn_hser.features._whisper_assets`)
or a local CTranslate2 Whisper directory.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

from ..features.audio import SAMPLING_RATE

__all__ = ["WhisperTranscriber", "asr_available"]

# Whisper reads 30-second windows; longer segments are transcribed in pieces.
_WINDOW_SECONDS = 30.0
# Whisper's frame: 10 ms at 16 kHz.
_FRAME = 160
_EMPTY = {
    "text": "",
    "asr_confidence": float("nan"),
    "no_speech_prob": float("nan"),
    "language": None,
}


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
            token probability, ``exp(avg_logprob)``, in [0, 1]),
            ``no_speech_prob`` and ``language``.
        """
        waveforms = [np.asarray(w, dtype=np.float32).ravel() for w in waveforms]
        pipeline = self._pipeline()
        rows = []
        # A group of batches per call bounds the concatenated audio's size.
        group = max(int(self.batch_size), 1) * 8
        for first in range(0, len(waveforms), group):
            rows += self._transcribe_group(pipeline, waveforms[first : first + group])
        return pd.DataFrame(
            rows, columns=["text", "asr_confidence", "no_speech_prob", "language"]
        )

    def _transcribe_group(self, pipeline, waveforms) -> list:
        # Lay the segments end to end and name each (<= 30 s) piece as a clip:
        # the pipeline decodes every clip alone and tags its output with the
        # clip's start frame ("seek"), which maps text back to its segment.
        window = int(_WINDOW_SECONDS * SAMPLING_RATE)
        clips, owner, pieces, offset = [], [], [], 0
        for i, wave in enumerate(waveforms):
            for lo in range(0, len(wave), window):
                piece = wave[lo : lo + window]
                clips.append(
                    {
                        "start": offset / SAMPLING_RATE,
                        "end": (offset + len(piece)) / SAMPLING_RATE,
                    }
                )
                owner.append(i)
                pieces.append((offset, piece))
                # Clips start on 10 ms frames, at least two frames apart, so
                # that no rounding in the pipeline gives two clips one seek.
                offset += (len(piece) // _FRAME + 2) * _FRAME
        if not clips:
            return [_EMPTY.copy() for _ in waveforms]
        audio = np.zeros(offset, dtype=np.float32)
        for start, piece in pieces:
            audio[start : start + len(piece)] = piece
        fps = pipeline.model.frames_per_second
        # The same arithmetic as the pipeline's, so the seeks match exactly.
        seek_of = {
            int(int(c["start"] * SAMPLING_RATE) / SAMPLING_RATE * fps): k
            for k, c in enumerate(clips)
        }
        segments, info = pipeline.transcribe(
            audio,
            language=self.language,
            clip_timestamps=clips,
            batch_size=int(self.batch_size),
            beam_size=int(self.beam_size),
            without_timestamps=True,
            log_progress=False,
        )
        if self.language is None:
            self.language = info.language  # detected once, kept for the rest
        texts = [[] for _ in waveforms]
        scores = [[] for _ in waveforms]
        no_speech = [[] for _ in waveforms]
        for segment in segments:
            k = seek_of.get(segment.seek)
            if k is None:  # pragma: no cover - a pipeline change broke the mapping
                raise RuntimeError("faster-whisper returned text for an unknown clip")
            i = owner[k]
            quiet = (
                segment.no_speech_prob > self.no_speech_threshold
                and segment.avg_logprob < -1.0
            )
            if not quiet:
                texts[i].append(segment.text.strip())
            scores[i].append(segment.avg_logprob)
            no_speech[i].append(segment.no_speech_prob)
        return [
            {
                "text": " ".join(t for t in texts[i] if t),
                "asr_confidence": (
                    math.exp(float(np.mean(scores[i]))) if scores[i] else float("nan")
                ),
                "no_speech_prob": (
                    float(np.max(no_speech[i])) if no_speech[i] else float("nan")
                ),
                "language": info.language,
            }
            for i in range(len(waveforms))
        ]

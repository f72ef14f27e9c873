"""``hser predict`` and ``hser timeline``."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from ._common import UsageError, _is_file, _short_name


def _prediction_inputs(args):
    import pandas as pd

    if args.csv:
        if args.audio or args.text:
            given = "audio files" if args.audio else "--text"
            raise UsageError(
                f"give audio files (with --text) or --csv, not both: --csv "
                f"{args.csv} and {given} on the command line"
            )
        try:
            # Every cell as text: an 'audio' of 1 is the file named "1".
            table = pd.read_csv(args.csv, keep_default_na=False, dtype=str)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--csv {args.csv}: {exc}") from exc
        if "audio" not in table.columns:
            raise UsageError(f"--csv {args.csv}: needs an 'audio' column")
        if table.empty:
            raise UsageError(f"--csv {args.csv}: has no rows")
        base = Path(args.csv).resolve().parent
        table["audio"] = [str(base / p) for p in table["audio"]]
    else:
        if not args.audio:
            raise UsageError("give audio files, or --csv with an 'audio' column")
        table = pd.DataFrame({"audio": [str(Path(p)) for p in args.audio]})
        if args.text:
            if len(args.text) != len(args.audio):
                raise UsageError(
                    f"{len(args.text)} --text values for {len(args.audio)} audio files"
                )
            table["text"] = args.text
    if "text" not in table.columns:
        table["text"] = ""
    # A transcript of spaces holds no words: it is missing, as an empty one.
    table.loc[table["text"].str.strip() == "", "text"] = ""
    missing = [p for p in table["audio"] if not _is_file(p)]
    if missing:
        raise UsageError(f"audio file not found: {_short_name(missing[0])}")
    table["note"] = [_too_short(p) for p in table["audio"]]
    table["text_source"] = "given"
    if not getattr(args, "no_asr", False) and (table["text"] == "").any():
        _recognise_missing_text(table)
    # An empty transcript was not given: say so, as the timeline does.
    table.loc[table["text"] == "", "text_source"] = "none"
    return table


def _too_short(path) -> str:
    """The note of a recording under :data:`MIN_DURATION`, else ``""``."""
    import soundfile as sf

    from ..timeline.timeline import MIN_DURATION

    try:
        duration = sf.info(str(path)).duration
    except Exception:  # unreadable: the feature step names the file
        return ""
    if duration < MIN_DURATION:
        return f"shorter than {MIN_DURATION:g} s: not classified"
    return ""


def _recognise_missing_text(table) -> None:
    """Fill empty transcripts with the packaged offline ASR, when installed."""
    from ..features import load_audio
    from ..timeline import WhisperTranscriber, asr_available

    if not asr_available():
        return
    empty = table.index[(table["text"] == "") & (table["note"] == "")]
    if not len(empty):
        return
    waves = [load_audio(p) for p in table.loc[empty, "audio"]]
    heard = WhisperTranscriber().transcribe(waves)
    table.loc[empty, "text"] = heard["text"].to_numpy()
    table.loc[empty, "text_source"] = "asr"


def run_predict(args) -> int:
    """Label recordings with a saved system."""
    import json

    import numpy as np
    import pandas as pd

    from ..hierarchy import route_and_proba
    from ..persistence import load_model

    # The inputs first: a typo must not wait for the model to load.
    table = _prediction_inputs(args)
    try:
        model, info = load_model(args.model, trusted=args.trust)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    rows = np.flatnonzero(table["note"] == "")
    classified = table.iloc[rows].reset_index(drop=True)
    if (classified["text"] == "").any():
        print(
            "note: samples without a transcript reach the text branch with an "
            "empty one",
            file=sys.stderr,
        )
    out = table[["audio", "text", "text_source"]].copy()
    out["prediction"] = pd.Series("", index=out.index, dtype=object)  # any labels
    out["branch"] = ""
    out["decided_by"] = ""
    out["kept_neutral"] = False
    labels = [f"p_{label}" for label in model.classes_]
    for column in labels:
        out[column] = np.nan
    if len(rows):
        X = classified.drop(columns=["note"])  # every column the CSV gave
        try:
            route, proba = route_and_proba(model, X)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, _audio_error()):
                raise
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise UsageError(
                f"the model in {args.model} cannot label these recordings: {first}"
            ) from exc
        out.loc[rows, "prediction"] = route["prediction"].tolist()  # plain values
        out.loc[rows, "branch"] = route["branch"].to_numpy()
        out.loc[rows, "decided_by"] = route["decided_by"].to_numpy()
        out.loc[rows, "kept_neutral"] = route["kept_neutral"].to_numpy(dtype=bool)
        if proba is not None:
            out.loc[rows, labels] = np.round(proba, 4)
    out["note"] = table["note"].to_numpy()
    if args.json:
        # Strict JSON: a probability that was not computed is null, not NaN.
        records = out.astype(object).where(out.notna(), None).to_dict(orient="records")
        print(json.dumps(records, indent=1, allow_nan=False))
    else:
        system = info["metadata"].get("system", "?")
        print(f"model: {system} (sklearn-hser {info['version']})")
        print(out.to_string(index=False))
    return 0


def _audio_error():
    from ..features import AudioInputError

    return AudioInputError


def run_timeline(args) -> int:
    """Emotions over time in a long recording: table, figure, HTML page."""
    from ..persistence import load_model
    from ..timeline import TranscriptError, emotion_timeline, write_timeline

    try:
        model, _ = load_model(args.model, trusted=args.trust)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not Path(args.recording).is_file():
        raise UsageError(f"recording {args.recording}: no such file")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = emotion_timeline(
                model,
                args.recording,
                args.transcript,
                asr=False if args.no_asr else "auto",
                vad=args.vad,
                min_segment=args.min_segment,
                min_pause=args.min_pause,
                max_segment=args.max_segment,
            )
    except (TranscriptError, ImportError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    for warning in caught:  # one line each, not Python's file:line form
        print(f"hser: warning: {warning.message}", file=sys.stderr)
    title = f"Emotion timeline: {Path(args.recording).name}"
    paths = write_timeline(table, args.out, title=title)
    counts = table["prediction"].replace("", "not classified").value_counts()
    print(
        f"{len(table)} segments of {args.recording}: "
        + ", ".join(f"{n} {label}" for label, n in counts.items())
    )
    print(f"Wrote {', '.join(str(p) for p in paths.values())}")
    return 0

"""Transcripts with times: SubRip, WebVTT and CSV files into a segments table.

A *segments table* is a :class:`pandas.DataFrame` with one row per cue and
the columns ``start`` and ``end`` (seconds, floats), ``text`` (str, ``""``
for an empty cue), ``cue`` (the cue's name for messages: its SubRip number,
its WebVTT identifier, or its 1-based position) and ``line`` (the line of the
file where the cue starts, 0 when the segments do not come from a file).

Syntax errors (a missing or malformed timing line, a cue that ends before it
starts, a CSV without ``start``, ``end`` and ``text`` columns) raise
:class:`TranscriptError` naming the file and line. Problems that need the
recording to judge (cues past its end, overlapping or unsorted cues, empty
or very short cues) are handled by :func:`~sklearn_hser.timeline.emotion_timeline`.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from sklearn.utils._param_validation import StrOptions, validate_params

__all__ = ["TranscriptError", "read_transcript", "segments_table", "write_srt"]

#: Columns of a segments table, in order.
SEGMENT_COLUMNS = ("start", "end", "text", "cue", "line")

# HH:MM:SS,mmm (SubRip) or [HH:]MM:SS.mmm (WebVTT); both separators accepted,
# since files in the wild mix them.
_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+.*)?$")
# Markup inside cue text: <i>, <v Speaker>, <00:01.000>, {\an8}.
_TAGS = re.compile(r"<[^>]*>|\{\\[^}]*\}")


class TranscriptError(ValueError):
    """A transcript file that cannot be read, naming the file and line."""


def _seconds(hours, minutes, seconds, millis) -> float:
    # "1,5" means 500 ms, as in most players: pad the fraction to 3 digits.
    return (
        int(hours or 0) * 3600
        + int(minutes) * 60
        + int(seconds)
        + int(millis.ljust(3, "0")) / 1000
    )


def _parse_timing(line: str):
    match = _TIMING.match(line)
    if match is None:
        return None
    groups = match.groups()
    return _seconds(*groups[:4]), _seconds(*groups[4:])


def _clean(lines) -> str:
    text = " ".join(_TAGS.sub("", line).strip() for line in lines)
    return " ".join(html.unescape(text).split())


def _blocks(lines):
    """``(first_line_number, [lines])`` for each blank-line separated block."""
    block, start = [], 0
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if not block:
                start = number
            block.append(line.rstrip("\r\n"))
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _cue(path, number, block, name, timing_at):
    times = _parse_timing(block[timing_at])
    if times is None:
        raise TranscriptError(
            f"{path}, line {number + timing_at}: expected a timing line like "
            f"'00:00:01,000 --> 00:00:02,500', got {block[timing_at].strip()!r}"
        )
    start, end = times
    # A cue of no length is listed, not classified (as any short cue).
    if end < start:
        raise TranscriptError(
            f"{path}, line {number + timing_at}: cue {name} ends "
            f"({end:.3f} s) before it starts ({start:.3f} s)"
        )
    return {
        "start": start,
        "end": end,
        "text": _clean(block[timing_at + 1 :]),
        "cue": name,
        "line": number,
    }


def _read_srt(path, lines):
    cues = []
    for number, block in _blocks(lines):
        # The cue number is optional in practice; the timing line is not.
        has_index = "-->" not in block[0]
        if has_index and len(block) < 2:
            raise TranscriptError(
                f"{path}, line {number}: cue {block[0].strip()!r} has no timing line"
            )
        name = block[0].strip() if has_index else str(len(cues) + 1)
        cues.append(_cue(path, number, block, name, 1 if has_index else 0))
    return cues


def _read_vtt(path, lines):
    if not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise TranscriptError(f"{path}, line 1: a WebVTT file starts with 'WEBVTT'")
    cues = []
    for number, block in _blocks(lines):
        head = block[0].strip()
        if number == 1 or head.split(" ")[0] in {"NOTE", "STYLE", "REGION"}:
            continue  # the header block and comment/style blocks hold no cue
        has_id = "-->" not in block[0]
        if has_id and len(block) < 2:
            raise TranscriptError(
                f"{path}, line {number}: cue {head!r} has no timing line"
            )
        name = head if has_id else str(len(cues) + 1)
        cues.append(_cue(path, number, block, name, 1 if has_id else 0))
    return cues


def _read_csv(path):
    try:
        table = pd.read_csv(path, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise TranscriptError(f"{path}: not a readable CSV file ({exc})") from exc
    missing = [c for c in ("start", "end", "text") if c not in table.columns]
    if missing:
        raise TranscriptError(
            f"{path}: a transcript CSV needs the columns start, end, text; "
            f"missing {', '.join(missing)}"
        )
    cues = []
    for i, row in enumerate(table.itertuples(index=False)):
        line = i + 2  # the header is line 1
        try:
            start, end = float(row.start), float(row.end)
        except (TypeError, ValueError):
            raise TranscriptError(
                f"{path}, line {line}: start and end must be numbers of seconds, "
                f"got {row.start!r} and {row.end!r}"
            ) from None
        if not (0 <= start <= end < float("inf")):
            raise TranscriptError(
                f"{path}, line {line}: need 0 <= start <= end, got start={start} "
                f"and end={end}"
            )
        cues.append(
            {
                "start": start,
                "end": end,
                "text": " ".join(str(row.text).split()),
                "cue": str(i + 1),
                "line": line,
            }
        )
    return cues


@validate_params({"cues": [Iterable]}, prefer_skip_nested_validation=True)
def segments_table(cues=()) -> pd.DataFrame:
    """Build a segments table from dicts or ``(start, end, text)`` tuples.

    Parameters
    ----------
    cues : iterable of dict or tuple
        Each a dict with ``start``, ``end`` and optional ``text``, ``cue``
        and ``line``, or a ``(start, end)`` / ``(start, end, text)`` tuple.

    Returns
    -------
    pandas.DataFrame
        The columns ``start``, ``end``, ``text``, ``cue``, ``line``.

    Examples
    --------
    >>> from sklearn_hser.timeline import segments_table
    >>> segments_table([(0.0, 1.5, "hello"), (2.0, 3.0, "there")])
       start  end   text cue  line
    0    0.0  1.5  hello   1     0
    1    2.0  3.0  there   2     0
    """
    rows = []
    for i, cue in enumerate(cues):
        if not isinstance(cue, dict):
            cue = dict(zip(("start", "end", "text"), cue))
        rows.append(
            {
                "start": float(cue["start"]),
                "end": float(cue["end"]),
                "text": str(cue.get("text", "") or ""),
                "cue": str(cue.get("cue", i + 1)),
                "line": int(cue.get("line", 0)),
            }
        )
    table = pd.DataFrame(rows, columns=list(SEGMENT_COLUMNS))
    return table.astype({"start": float, "end": float, "line": int})


@validate_params(
    {
        "path": [str, os.PathLike],
        "format": [StrOptions({"srt", "vtt", "csv"}), None],
    },
    prefer_skip_nested_validation=True,
)
def read_transcript(path, format: str | None = None) -> pd.DataFrame:
    """Read a timed transcript into a segments table.

    Parameters
    ----------
    path : path-like
        A SubRip (``.srt``), WebVTT (``.vtt``) or CSV (``.csv``, columns
        ``start``, ``end`` and ``text`` in seconds) file, UTF-8 encoded.
    format : {"srt", "vtt", "csv"}, default=None
        The format; ``None`` takes it from the file extension.

    Returns
    -------
    pandas.DataFrame
        One row per cue, in file order: ``start``, ``end``, ``text``, ``cue``
        and ``line`` (see the module docstring). Markup in the text
        (``<i>``, ``<v Speaker>``, ``{\\an8}``) is removed and HTML entities
        are decoded.

    Raises
    ------
    TranscriptError
        If the file is missing, of an unknown format, or malformed; the
        message names the line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn_hser.timeline import read_transcript
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "talk.srt"
    >>> _ = path.write_text("1\\n00:00:00,500 --> 00:00:02,000\\n<i>Hello</i> there\\n")
    >>> read_transcript(path)
       start  end         text cue  line
    0    0.5  2.0  Hello there   1     1
    """
    path = Path(path)
    kind = (format or path.suffix.lstrip(".")).lower()
    if kind not in {"srt", "vtt", "csv"}:
        raise TranscriptError(
            f"{path}: unknown transcript format {kind!r}; use .srt, .vtt or .csv"
        )
    if not path.is_file():
        raise TranscriptError(f"{path}: transcript file not found")
    if kind == "csv":
        return segments_table(_read_csv(path))
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise TranscriptError(f"{path}: not UTF-8 text ({exc})") from None
    cues = _read_srt(path, lines) if kind == "srt" else _read_vtt(path, lines)
    return segments_table(cues)


def _srt_time(seconds: float) -> str:
    millis = int(round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


@validate_params(
    {"segments": [pd.DataFrame], "path": [str, os.PathLike]},
    prefer_skip_nested_validation=True,
)
def write_srt(segments: pd.DataFrame, path):
    """Write a segments table as a SubRip file (times to the millisecond).

    Parameters
    ----------
    segments : DataFrame
        With ``start``, ``end`` (seconds) and ``text`` columns.
    path : path-like
        The ``.srt`` file to write.

    Returns
    -------
    pathlib.Path
    """
    blocks = [
        f"{i}\n{_srt_time(row.start)} --> {_srt_time(row.end)}\n{row.text}\n"
        for i, row in enumerate(segments.itertuples(index=False), start=1)
    ]
    path = Path(path)
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path

"""Loader for a user's own corpus, described by a CSV manifest."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import validate_params

from .._labels import ANGRY, HAPPY, NEUTRAL, SAD

__all__ = ["load_manifest", "MANIFEST_LABELS", "UNKNOWN_SPEAKER"]

#: Accepted label spellings (after lower-casing and stripping) -> class.
#: ``excited``/``exc`` are merged into happy as in the IEMOCAP four-class task.
MANIFEST_LABELS = {
    "neutral": NEUTRAL,
    "neu": NEUTRAL,
    "happy": HAPPY,
    "hap": HAPPY,
    "happiness": HAPPY,
    "joy": HAPPY,
    "excited": HAPPY,
    "exc": HAPPY,
    "sad": SAD,
    "sadness": SAD,
    "angry": ANGRY,
    "ang": ANGRY,
    "anger": ANGRY,
}

#: ``speaker`` of every row when the manifest has no speaker column.
UNKNOWN_SPEAKER = "unknown"

_GENDERS = {"f": "F", "female": "F", "w": "F", "m": "M", "male": "M"}
_REQUIRED = ("audio", "label")


def _line(row: int) -> str:
    # line 1 of the file is the header
    return f"line {row + 2}"


def _bad_values(values, accepted, csv, column, what):
    """ValueError naming the first row whose value is not accepted."""
    bad = [i for i, v in enumerate(values) if v not in accepted]
    if not bad:
        return None
    first = bad[0]
    more = f" ({len(bad) - 1} more row(s) like it)" if len(bad) > 1 else ""
    return ValueError(
        f"{csv}, {_line(first)}: {column} {values[first]!r} is not {what}{more}"
    )


@validate_params(
    {"csv": [str, os.PathLike]},
    prefer_skip_nested_validation=True,
)
def load_manifest(csv) -> pd.DataFrame:
    """Load a corpus listed in a CSV file: one row per recording.

    Parameters
    ----------
    csv : str or path-like
        A CSV file with a header.  Required columns:

        - ``audio``: path of the recording; a relative path is taken relative
          to the folder of the CSV file, an absolute one is kept.
        - ``label``: the emotion.  Case and surrounding spaces are ignored;
          accepted are ``neutral``, ``happy``, ``sad``, ``angry`` and the
          synonyms of :data:`MANIFEST_LABELS` (``neu``; ``hap``,
          ``happiness``, ``joy``, ``excited``, ``exc``; ``sadness``; ``ang``,
          ``anger``).

        Optional columns (default when absent):

        - ``text``: the transcript (``""``: the text branch then sees an empty
          transcript).
        - ``speaker``: speaker id (``"unknown"`` for every row; a
          speaker-independent split then cannot be made, and says so).
        - ``gender``: ``F``/``M``, also ``female``/``male``/``w``, any case
          (``"U"``, unknown, for every row; an empty cell also gives ``"U"``).
        - ``session``: integer recording session (``1`` for every row).
        - ``id``: unique utterance id (the ``audio`` value as written).

        Other columns are kept as they are.

    Returns
    -------
    df : pandas.DataFrame
        One row per CSV row, in file order, RangeIndex, with the columns
        ``id``, ``audio`` (absolute path), ``text``, ``label`` (one of the four
        classes), ``label_raw`` (the label as written), ``speaker``,
        ``gender``, ``session`` (int), then any extra column of the file.

    Raises
    ------
    ValueError
        If the file cannot be read, has no rows, lacks ``audio`` or ``label``,
        has an empty ``audio`` cell, a label, gender or session it does not
        accept (naming the line and the value), duplicate ids, or lists audio
        files that do not exist (one error with their count and the first
        few).

    Examples
    --------
    A manifest ``my_corpus/manifest.csv``::

        audio,label,text,speaker
        clips/a.wav,Angry,I told you twice!,spk1
        clips/b.wav,neutral,The bus leaves at ten.,spk2
    """
    csv = Path(csv).expanduser().resolve()
    if not csv.is_file():
        raise ValueError(f"manifest {csv} is not a file")
    try:
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    except UnicodeDecodeError as exc:
        raise ValueError(f"cannot read manifest {csv}: {_not_utf8(csv)}") from exc
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read manifest {csv}: {exc}") from exc
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise ValueError(
            f"manifest {csv} lacks the required column(s) {missing} "
            f"(has {list(table.columns)})"
        )
    if table.empty:
        raise ValueError(f"manifest {csv} has no rows")

    raw_audio = table["audio"].str.strip().tolist()
    empty = [i for i, a in enumerate(raw_audio) if not a]
    if empty:
        raise ValueError(f"{csv}, {_line(empty[0])}: the audio cell is empty")
    # relative paths are relative to the manifest, not to the working directory
    audio = [str((csv.parent / Path(a).expanduser()).resolve()) for a in raw_audio]

    label_raw = table["label"].tolist()
    keys = [str(v).strip().lower() for v in label_raw]
    error = _bad_values(
        keys,
        MANIFEST_LABELS,
        csv,
        "label",
        f"an accepted label (one of {sorted(MANIFEST_LABELS)})",
    )
    if error:
        raise error

    out = pd.DataFrame(
        {
            "id": table["id"].str.strip() if "id" in table else raw_audio,
            "audio": audio,
            "text": table["text"] if "text" in table else "",
            "label": [MANIFEST_LABELS[k] for k in keys],
            "label_raw": label_raw,
            "speaker": (
                table["speaker"].str.strip() if "speaker" in table else UNKNOWN_SPEAKER
            ),
            "gender": _genders(table, csv),
            "session": _sessions(table, csv),
        }
    )
    duplicated = out["id"][out["id"].duplicated()].tolist()
    if duplicated:
        raise ValueError(
            f"manifest {csv}: {len(duplicated)} duplicate id(s), e.g. {duplicated[:3]}"
        )
    absent = [a for a in audio if not Path(a).is_file()]
    if absent:
        raise ValueError(
            f"manifest {csv}: {len(absent)} audio file(s) not found: "
            f"{', '.join(absent[:5])}"
        )
    extra = [c for c in table.columns if c not in out.columns]
    for column in extra:
        out[column] = table[column].to_numpy()
    return out


def _genders(table: pd.DataFrame, csv: Path) -> list[str]:
    if "gender" not in table:
        return ["U"] * len(table)
    keys = [g.strip().lower() for g in table["gender"]]
    accepted = {**_GENDERS, "": "U", "u": "U"}
    error = _bad_values(keys, accepted, csv, "gender", "F, M, female, male or empty")
    if error:
        raise error
    return [accepted[k] for k in keys]


def _sessions(table: pd.DataFrame, csv: Path) -> np.ndarray:
    if "session" not in table:
        return np.ones(len(table), dtype=np.int64)
    values = [s.strip() for s in table["session"]]
    limit = np.iinfo(np.int64).max
    ints = {v for v in values if v.lstrip("-").isdigit() and abs(int(v)) <= limit}
    error = _bad_values(values, ints, csv, "session", "a 64-bit integer")
    if error:
        raise error
    return np.array([int(v) for v in values], dtype=np.int64)


def _not_utf8(path) -> str:
    """Where a file stops being UTF-8: its line number and the byte found."""
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return (
            f"line {line} is not UTF-8 (byte 0x{data[exc.start]:02x}); "
            "save the manifest as UTF-8"
        )
    return "not UTF-8; save the manifest as UTF-8"


def labelled_texts(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check the ``text`` and ``label`` columns of a table of sentences.

    Parameters
    ----------
    df : pandas.DataFrame
        A table with ``text`` and ``label`` (any other columns are kept).
    source : str
        What the table is, for the error messages (e.g. ``"the table"``).

    Returns
    -------
    pandas.DataFrame
        A copy with a RangeIndex, stripped texts and the labels mapped to the
        four classes as :func:`load_manifest` maps them.

    Raises
    ------
    ValueError
        If a column is missing, the table is empty, or a row has an empty
        text or an unknown label (naming the first such row).
    """
    missing = [c for c in ("text", "label") if c not in df.columns]
    if missing:
        raise ValueError(
            f"{source} lacks the column(s) {missing} (has {list(df.columns)})"
        )
    if df.empty:
        raise ValueError(f"{source} has no rows")
    texts = ["" if pd.isna(t) else str(t).strip() for t in df["text"]]
    empty = [i for i, t in enumerate(texts) if not t]
    if empty:
        raise ValueError(
            f"{source}, row {empty[0]}: the text is empty or missing "
            f"({len(empty)} row(s) like it)"
        )
    keys = ["" if pd.isna(v) else str(v).strip().lower() for v in df["label"]]
    bad = [i for i, k in enumerate(keys) if k not in MANIFEST_LABELS]
    if bad:
        raise ValueError(
            f"{source}, row {bad[0]}: unknown label {df['label'].iloc[bad[0]]!r} "
            f"({len(bad)} row(s) like it); accepted: {sorted(MANIFEST_LABELS)}"
        )
    out = df.copy()
    out["text"] = texts
    out["label"] = [MANIFEST_LABELS[k] for k in keys]
    return out.reset_index(drop=True)

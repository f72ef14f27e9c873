"""Loader for the IEMOCAP corpus (``IEMOCAP_full_release``).

IEMOCAP is licensed and never shipped; this module only reads a copy the
user already has.  The on-disk layout it expects is described in the
function docstring; :func:`sklearn_hser.datasets.fixtures.make_iemocap_fixture`
writes a tiny tree in the same layout for tests.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import StrOptions, validate_params

from .._labels import IEMOCAP_CODE_TO_LABEL
from ._audio_files import warn_caller

__all__ = ["load_iemocap", "clean_transcript"]

RELEASE_DIR = "IEMOCAP_full_release"
N_SESSIONS = 5

COLUMNS = [
    "id",
    "audio",
    "text",
    "text_raw",
    "label",
    "label_raw",
    "speaker",
    "gender",
    "session",
    "dialog",
    "method",
    "valence",
    "activation",
    "dominance",
    "start",
    "end",
]

# First line of a label block: "[5.3661 - 9.6150]<TAB>utt<TAB>neu<TAB>[4.0, 3.0, 2.0]".
# Whitespace is matched loosely so that a copy re-saved by an editor still
# parses; annotator lines ("C-E1:", "A-E3:") and the header never match.
_LABEL_LINE = re.compile(
    r"^\[\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*\]\s+(\S+)\s+(\S+)\s+\[([^\]]*)\]\s*$"
)
# Transcript line: "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me."
_TRANSCRIPT_LINE = re.compile(r"^(\S+)\s+\[([\d.]+)-([\d.]+)\]:\s*(.*)$")
# Utterance id: dialog + "_" + the LAST group, whose first letter is the
# speaker's gender ("F000"); the letter after "Ses01" is not.
_UTTERANCE_ID = re.compile(r"^(Ses\d\d[FM]_.+)_([FM])[0-9A-Z]+$")
# Bracketed non-speech tokens: [LAUGHTER], [BREATHING], [GARBAGE], ...
_NON_SPEECH = re.compile(r"\[[^\[\]]*\]")
_SPACES = re.compile(r"\s+")

_LABEL_MODES = ("four_class", "raw")
_MISSING_AUDIO = ("raise", "skip", "ignore")
_MISSING_TEXT = ("raise", "empty", "skip")


def clean_transcript(text: str) -> str:
    """Remove bracketed non-speech tokens and collapse whitespace.

    Parameters
    ----------
    text : str
        A raw IEMOCAP transcript, e.g. ``"[LAUGHTER]  Oh   my god."``.

    Returns
    -------
    cleaned : str
        The words only, single-spaced and stripped, e.g. ``"Oh my god."``.
        A transcript made only of such tokens becomes ``""``.
    """
    return _SPACES.sub(" ", _NON_SPEECH.sub(" ", text)).strip()


def _find_release_root(root: Path) -> Path:
    """Return the directory that directly contains the ``SessionN`` folders."""
    candidates = [root, root / RELEASE_DIR, root / RELEASE_DIR / RELEASE_DIR]
    for cand in candidates:
        if any((cand / f"Session{n}").is_dir() for n in range(1, N_SESSIONS + 1)):
            return cand
    raise ValueError(
        f"No IEMOCAP sessions found under {root}: expected folders "
        f"Session1..Session{N_SESSIONS} in it, in {root / RELEASE_DIR}, or in "
        f"{root / RELEASE_DIR / RELEASE_DIR} (the layout of IEMOCAP_full_release)."
    )


def _text_files(directory: Path) -> list[Path]:
    """Regular ``*.txt`` files directly in ``directory``, no AppleDouble ``._*``.

    Subfolders (EmoEvaluation's Attribute/, Categorical/, Self-evaluation/)
    are not descended into: they hold per-annotator files, not the consensus.
    """
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix == ".txt" and not p.name.startswith("._") and p.is_file()
    )


def _read_lines(path: Path) -> list[str]:
    # the release is ASCII; "replace" keeps one odd byte from killing a load
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _parse_vad(field: str) -> tuple[float, float, float]:
    parts = [p.strip() for p in field.split(",")]
    values = []
    for p in parts[:3]:
        try:
            values.append(float(p))
        except ValueError:
            values.append(np.nan)
    values += [np.nan] * (3 - len(values))
    return values[0], values[1], values[2]


def _shorten(items: list[str], n: int = 5) -> str:
    shown = ", ".join(items[:n])
    more = f", ... ({len(items)} in all)" if len(items) > n else f" ({len(items)})"
    return shown + more


@validate_params(
    {
        "root": [str, os.PathLike],
        "labels": [StrOptions(set(_LABEL_MODES))],
        "missing_audio": [StrOptions(set(_MISSING_AUDIO))],
        "missing_text": [StrOptions(set(_MISSING_TEXT))],
        "sessions": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def load_iemocap(
    root,
    *,
    labels: str = "four_class",
    missing_audio: str = "raise",
    missing_text: str = "raise",
    sessions: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Load IEMOCAP utterance labels, transcripts and wav paths.

    The loader reads the text files of the release only; no audio is read
    (the ``audio`` column holds paths), so a full load takes about a second.

    Layout read (as distributed)::

        IEMOCAP_full_release/
          Session1 .. Session5/
            dialog/EmoEvaluation/<dialog>.txt    consensus labels
            dialog/transcriptions/<dialog>.txt   transcripts
            sentences/wav/<dialog>/<utterance>.wav

    Only the regular ``.txt`` files directly inside ``EmoEvaluation/`` and
    ``transcriptions/`` are read: the subfolders ``Attribute/``,
    ``Categorical/`` and ``Self-evaluation/`` (per-annotator files) and
    AppleDouble files (``._*``) are ignored.  Label blocks are recognised by
    their first line (``[start - end] <TAB> utterance <TAB> code <TAB> [V, A,
    D]``); transcript lines by ``utterance [start-end]: text``.  Any other line
    (header, annotator votes, turns without an id such as ``M: ...``) is
    skipped.

    Parameters
    ----------
    root : str or path-like
        The ``IEMOCAP_full_release`` directory, its parent, or the outer
        folder of a nested ``IEMOCAP_full_release/IEMOCAP_full_release`` copy.
    labels : {"four_class", "raw"}, default="four_class"
        ``"four_class"``: the paper's task; ``neu`` -> ``neutral``, ``hap`` and
        ``exc`` -> ``happy``, ``sad`` -> ``sad``, ``ang`` -> ``angry``; every
        other code (``fru``, ``sur``, ``fea``, ``dis``, ``oth``, ``xxx``) is
        dropped.  On the full release this gives 5,531 utterances.
        ``"raw"``: every labelled utterance is kept and ``label`` is the raw
        code (e.g. ``"exc"``, ``"xxx"``).
    missing_audio : {"raise", "skip", "ignore"}, default="raise"
        What to do with kept utterances whose wav file does not exist.
        ``"raise"``: one ``ValueError`` listing the first missing files and
        their count; ``"skip"``: drop them with a ``UserWarning`` giving the
        count; ``"ignore"``: do not check (e.g. for text-only use of a copy
        without ``sentences/wav``).
    missing_text : {"raise", "empty", "skip"}, default="raise"
        What to do with kept utterances that have no transcript line.
        ``"raise"``: a ``ValueError`` naming the utterance ids; ``"empty"``:
        keep them with ``text == text_raw == ""`` and a ``UserWarning``;
        ``"skip"``: drop them with a ``UserWarning``.
    sessions : array-like of int, default=None
        Sessions to load (1-5), e.g. a list or ``range(1, 5)``.  Default:
        every ``SessionN`` folder present.  A requested session whose folder
        is missing raises ``ValueError``.

    Returns
    -------
    df : pandas.DataFrame
        One row per utterance, sorted by ``id``, with a RangeIndex and the
        columns:

        - ``id`` (str): utterance id, e.g. ``"Ses01F_impro01_F000"``.
        - ``audio`` (str): absolute path
          ``Session{n}/sentences/wav/{dialog}/{id}.wav``.
        - ``text`` (str): the transcript with bracketed non-speech tokens
          (``[LAUGHTER]``, ``[BREATHING]``, ``[GARBAGE]``, ...) removed and
          whitespace collapsed (:func:`clean_transcript`); may be ``""`` when
          the turn holds only such tokens.
        - ``text_raw`` (str): the transcript exactly as in the file.
        - ``label`` (str): four-class name (or the raw code, ``labels="raw"``).
        - ``label_raw`` (str): the IEMOCAP code (``neu``, ``exc``, ...).
        - ``speaker`` (str): ``"Ses01_F"``: session + the gender letter of the
          LAST group of the utterance id (``..._F000`` -> ``F``).  The letter
          in the dialog name (``Ses01M_...``) is who led the dialog, not who
          speaks, and is not used.
        - ``gender`` (str): ``"F"`` or ``"M"``, as for ``speaker``.
        - ``session`` (int): 1-5.
        - ``dialog`` (str): e.g. ``"Ses01F_script01_1"``.
        - ``method`` (str): ``"improvised"`` or ``"scripted"``.
        - ``valence``, ``activation``, ``dominance`` (float): the consensus
          dimensional ratings (1-5; NaN if unparsable).
        - ``start``, ``end`` (float): seconds within the dialog, from the
          label file.

    Raises
    ------
    ValueError
        If no ``SessionN`` folder is found, no label file is found, a
        requested session is missing, an option has an unknown value, or
        (with the default options) transcripts or wav files are missing.
    """
    release = _find_release_root(Path(root).expanduser().resolve())
    present = [
        n for n in range(1, N_SESSIONS + 1) if (release / f"Session{n}").is_dir()
    ]
    if sessions is None:
        wanted = present
    else:
        wanted = sorted({int(s) for s in sessions})
        absent = [n for n in wanted if n not in present]
        if absent:
            raise ValueError(
                f"Session(s) {absent} requested but not found in {release} "
                f"(present: {present})."
            )

    rows: list[dict] = []
    seen: set[str] = set()
    duplicates: list[str] = []
    odd_ids: list[str] = []
    n_label_files = 0
    for n in wanted:
        session_dir = release / f"Session{n}"
        label_files = _text_files(session_dir / "dialog" / "EmoEvaluation")
        n_label_files += len(label_files)

        transcripts: dict[str, str] = {}
        for path in _text_files(session_dir / "dialog" / "transcriptions"):
            for line in _read_lines(path):
                m = _TRANSCRIPT_LINE.match(line.strip())
                if m:
                    transcripts.setdefault(m.group(1), m.group(4).strip())

        for path in label_files:
            for line in _read_lines(path):
                m = _LABEL_LINE.match(line.strip())
                if m is None:
                    continue
                start, end, utt, code, vad = m.groups()
                uid = _UTTERANCE_ID.match(utt)
                if uid is None:
                    # no gender / wav path can be derived from it
                    odd_ids.append(utt)
                    continue
                if utt in seen:
                    duplicates.append(utt)
                    continue
                seen.add(utt)
                if labels == "four_class":
                    if code not in IEMOCAP_CODE_TO_LABEL:
                        continue
                    label = IEMOCAP_CODE_TO_LABEL[code]
                else:
                    label = code
                dialog, gender = uid.group(1), uid.group(2)
                v, a, d = _parse_vad(vad)
                wav = session_dir / "sentences" / "wav" / dialog / f"{utt}.wav"
                rows.append(
                    {
                        "id": utt,
                        "audio": str(wav),
                        "text": None,
                        "text_raw": transcripts.get(utt),
                        "label": label,
                        "label_raw": code,
                        "speaker": f"Ses{n:02d}_{gender}",
                        "gender": gender,
                        "session": n,
                        "dialog": dialog,
                        "method": "improvised" if "_impro" in dialog else "scripted",
                        "valence": v,
                        "activation": a,
                        "dominance": d,
                        "start": float(start),
                        "end": float(end),
                    }
                )

    if n_label_files == 0:
        raise ValueError(
            f"No label files found in {release}/Session*/dialog/EmoEvaluation/ "
            f"(sessions {wanted})."
        )
    if odd_ids:
        warn_caller(
            f"Skipped {len(odd_ids)} label line(s) whose utterance id is not of "
            f"the form <dialog>_<F|M>NNN: {_shorten(odd_ids)}"
        )
    if duplicates:
        warn_caller(
            f"{len(duplicates)} utterance id(s) labelled more than once; the "
            f"first label was kept: {_shorten(duplicates)}"
        )

    no_text = [r["id"] for r in rows if r["text_raw"] is None]
    if no_text:
        msg = f"No transcript for {len(no_text)} utterance(s): {_shorten(no_text)}"
        if missing_text == "raise":
            raise ValueError(
                msg + ". Pass missing_text='empty' or 'skip' to load anyway."
            )
        warn_caller(
            msg + ("; their text is ''." if missing_text == "empty" else "; skipped.")
        )
        if missing_text == "skip":
            rows = [r for r in rows if r["text_raw"] is not None]
    for r in rows:
        if r["text_raw"] is None:
            r["text_raw"] = ""
        r["text"] = clean_transcript(r["text_raw"])

    if missing_audio != "ignore":
        missing = [r["audio"] for r in rows if not Path(r["audio"]).is_file()]
        if missing:
            if missing_audio == "raise":
                raise ValueError(
                    f"{len(missing)} wav file(s) missing: {_shorten(missing, 3)}. "
                    "Pass missing_audio='skip' to drop these utterances."
                )
            warn_caller(
                f"Skipping {len(missing)} utterance(s) whose wav file is missing."
            )
            lost = set(missing)
            rows = [r for r in rows if r["audio"] not in lost]

    df = pd.DataFrame(rows, columns=COLUMNS)
    df["session"] = df["session"].astype(np.int64)
    for col in ("valence", "activation", "dominance", "start", "end"):
        df[col] = df[col].astype(np.float64)
    return df.sort_values("id", kind="stable").reset_index(drop=True)

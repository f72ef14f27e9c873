"""Loader for the speech part of RAVDESS (Livingstone & Russo, 2018).

Every field of a RAVDESS recording is encoded in its file name, so the loader
lists files and never opens them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import StrOptions, validate_params

from .._labels import ANGRY, HAPPY, NEUTRAL, SAD
from ._audio_files import (
    AUDIO_EXTENSIONS,
    LEADING_COLUMNS,
    prefer_flac,
    warn_caller,
)

__all__ = ["load_ravdess", "RAVDESS_EMOTIONS", "RAVDESS_STATEMENTS"]

#: Emotion field code -> emotion name.  Codes 01, 03, 04, 05 are the four
#: classes of the package; the others are dropped by ``labels="four_class"``.
RAVDESS_EMOTIONS = {
    "01": NEUTRAL,
    "02": "calm",
    "03": HAPPY,
    "04": SAD,
    "05": ANGRY,
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
_FOUR_CLASS_CODES = ("01", "03", "04", "05")

#: Statement field code -> the sentence spoken.
RAVDESS_STATEMENTS = {
    "01": "Kids are talking by the door",
    "02": "Dogs are sitting by the door",
}
_INTENSITY = {"01": "normal", "02": "strong"}
_VOCAL_CHANNEL = {"01": "speech", "02": "song"}

# modality-vocal-emotion-intensity-statement-repetition-actor
_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
_ACTOR_DIR = re.compile(r"^Actor_(\d\d)$")
_LABEL_MODES = ("four_class", "raw")

COLUMNS = [
    *LEADING_COLUMNS,
    "actor",
    "intensity",
    "statement",
    "repetition",
    "vocal_channel",
]


def _parse_name(stem: str, actor_dir: int) -> dict | None:
    """Fields of one file name, or None if it is not a valid RAVDESS name."""
    m = _NAME.match(stem)
    if m is None:
        return None
    modality, vocal, emotion, intensity, statement, repetition, actor = m.groups()
    if (
        modality != "03"  # audio-only; 01/02 are video files
        or vocal not in _VOCAL_CHANNEL
        or emotion not in RAVDESS_EMOTIONS
        or intensity not in _INTENSITY
        or statement not in RAVDESS_STATEMENTS
        or repetition not in ("01", "02")
        or int(actor) != actor_dir  # a file in the wrong folder is suspect
    ):
        return None
    return {
        "emotion": emotion,
        "intensity": _INTENSITY[intensity],
        "statement": int(statement),
        "text": RAVDESS_STATEMENTS[statement],
        "repetition": int(repetition),
        "actor": int(actor),
        "vocal_channel": _VOCAL_CHANNEL[vocal],
    }


@validate_params(
    {"root": [str, os.PathLike], "labels": [StrOptions(set(_LABEL_MODES))]},
    prefer_skip_nested_validation=True,
)
def load_ravdess(root, *, labels: str = "four_class") -> pd.DataFrame:
    """List the RAVDESS audio-only recordings under ``root``.

    Reads ``root/Actor_NN/03-VV-EE-II-SS-RR-AA.flac`` (or ``.wav``), where the
    fields are modality (``03`` audio-only), vocal channel (``01`` speech,
    ``02`` song), emotion, intensity (``01`` normal, ``02`` strong), statement,
    repetition and actor.  No audio is read.

    File names that do not follow this pattern (other modalities, unknown
    codes, an actor field that differs from the ``Actor_NN`` folder) are
    skipped with one ``UserWarning`` that counts them and names a few;
    hidden files (AppleDouble ``._*``, ``.DS_Store``) are ignored silently.

    Parameters
    ----------
    root : str or path-like
        Directory holding the ``Actor_NN`` folders.
    labels : {"four_class", "raw"}, default="four_class"
        ``"four_class"``: keep emotions ``01`` neutral, ``03`` happy, ``04``
        sad, ``05`` angry; drop ``02`` calm, ``06`` fearful, ``07`` disgust,
        ``08`` surprised.  ``"raw"``: keep every file, ``label`` being the
        RAVDESS emotion name (``"calm"``, ``"fearful"``, ...).

    Returns
    -------
    df : pandas.DataFrame
        One row per file, sorted by ``id``, RangeIndex, columns:

        - ``id`` (str): the file stem, e.g. ``"03-01-05-02-01-01-12"``.
        - ``audio`` (str): absolute path of the file.
        - ``text`` (str): the statement spoken, ``"Kids are talking by the
          door"`` or ``"Dogs are sitting by the door"`` (the same for every
          class: the words carry no emotion).
        - ``label`` (str): emotion name (see ``labels``).
        - ``label_raw`` (str): the two-digit emotion code, e.g. ``"05"``.
        - ``speaker`` (str): ``"Actor_01"`` ...
        - ``gender`` (str): ``"M"`` for odd actors, ``"F"`` for even ones.
        - ``session`` (int): the actor number.  RAVDESS has no recording
          sessions; using the actor makes session-grouped tools
          (``LeaveOneSessionOut``) leave one actor out, i.e. speaker
          independent.
        - ``actor`` (int), ``intensity`` (``"normal"``/``"strong"``),
          ``statement`` (int, 1 or 2), ``repetition`` (int, 1 or 2),
          ``vocal_channel`` (``"speech"``/``"song"``).

    Raises
    ------
    ValueError
        If ``root`` does not exist, holds no ``Actor_NN`` folder, or no valid
        recording, or ``labels`` is unknown.
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"RAVDESS root {root} is not a directory")
    actor_dirs = sorted(
        (d, int(m.group(1)))
        for d in root.iterdir()
        if d.is_dir() and (m := _ACTOR_DIR.match(d.name))
    )
    if not actor_dirs:
        raise ValueError(
            f"No RAVDESS actor folders in {root}: expected Actor_01 ... Actor_24 "
            "holding files named 03-01-EE-II-SS-RR-AA.flac or .wav"
        )

    rows = []
    malformed = []
    n_valid = 0
    for directory, actor in actor_dirs:
        for path in directory.iterdir():
            # hidden files: AppleDouble "._*", ".DS_Store"
            if path.name.startswith(".") or not path.is_file():
                continue
            if path.suffix.lower() not in AUDIO_EXTENSIONS:
                malformed.append(path.name)
                continue
            fields = _parse_name(path.stem, actor)
            if fields is None:
                malformed.append(path.name)
                continue
            n_valid += 1
            if labels == "four_class" and fields["emotion"] not in _FOUR_CLASS_CODES:
                continue
            rows.append(
                {
                    "id": path.stem,
                    "audio": str(path),
                    "text": fields["text"],
                    "label": RAVDESS_EMOTIONS[fields["emotion"]],
                    "label_raw": fields["emotion"],
                    "speaker": f"Actor_{fields['actor']:02d}",
                    "gender": "M" if fields["actor"] % 2 else "F",
                    "session": fields["actor"],
                    "actor": fields["actor"],
                    "intensity": fields["intensity"],
                    "statement": fields["statement"],
                    "repetition": fields["repetition"],
                    "vocal_channel": fields["vocal_channel"],
                }
            )
    if malformed:
        warn_caller(
            f"Skipped {len(malformed)} file(s) not named like RAVDESS audio "
            f"(03-VV-EE-II-SS-RR-AA.flac/.wav in the matching Actor_NN folder): "
            f"{', '.join(sorted(malformed)[:5])}"
        )
    if n_valid == 0:
        raise ValueError(f"No valid RAVDESS recordings found under {root}")

    df = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("session", "actor", "statement", "repetition"):
        df[col] = df[col].astype(np.int64)
    df = prefer_flac(df)
    return df.sort_values("id", kind="stable").reset_index(drop=True)

"""Loader for the Berlin Database of Emotional Speech (EmoDB; Burkhardt et al., 2005).

Every field of an EmoDB recording (speaker, sentence, emotion, version) is
encoded in its file name, so the loader lists files and never opens them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import validate_params

from .._labels import ANGRY, HAPPY, NEUTRAL, SAD
from ._audio_files import (
    AUDIO_EXTENSIONS,
    LEADING_COLUMNS,
    prefer_flac,
    warn_caller,
)

__all__ = [
    "load_emodb",
    "EMODB_EMOTIONS",
    "EMODB_SENTENCES",
    "EMODB_SPEAKER_GENDER",
]

#: Emotion letter (German initial) -> class.  Only these four letters are
#: kept; ``L`` (Langeweile, boredom), ``E`` (Ekel, disgust) and ``A`` (Angst,
#: fear) are dropped by the four-class task.
EMODB_EMOTIONS = {"W": ANGRY, "F": HAPPY, "T": SAD, "N": NEUTRAL}
_OTHER_EMOTIONS = {"L": "boredom", "E": "disgust", "A": "fear"}

#: Text code -> the German sentence spoken (ten sentences, five short ``a``
#: and five long ``b`` ones).
EMODB_SENTENCES = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": (
        "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe "
        "Agnes besucht."
    ),
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}

#: Speaker number -> gender, from the EmoDB speaker table.
EMODB_SPEAKER_GENDER = {
    "03": "M",
    "08": "F",
    "09": "F",
    "10": "M",
    "11": "M",
    "12": "M",
    "13": "F",
    "14": "F",
    "15": "M",
    "16": "F",
}

# speaker (2 digits), text code, emotion letter, version letter: 03a01Fa
_NAME = re.compile(r"^(\d\d)([ab]\d\d)([A-Z])([a-z])$")

COLUMNS = [*LEADING_COLUMNS, "text_code", "version"]


def _parse_name(stem: str) -> dict | None:
    """Fields of one file name, or None if it is not a valid EmoDB name."""
    m = _NAME.match(stem)
    if m is None:
        return None
    speaker, text_code, emotion, version = m.groups()
    known = speaker in EMODB_SPEAKER_GENDER and text_code in EMODB_SENTENCES
    if not known or (emotion not in EMODB_EMOTIONS and emotion not in _OTHER_EMOTIONS):
        return None
    return {
        "speaker": speaker,
        "text_code": text_code,
        "emotion": emotion,
        "version": version,
    }


def _audio_dir(root: Path) -> Path:
    """``root/wav`` when it exists (the layout of the download), else ``root``."""
    wav = root / "wav"
    return wav if wav.is_dir() else root


@validate_params(
    {"root": [str, os.PathLike]},
    prefer_skip_nested_validation=True,
)
def load_emodb(root) -> pd.DataFrame:
    """List the EmoDB recordings under ``root`` (four-class task).

    Reads files named like ``03a01Fa.wav``: speaker number (two digits),
    text code (``a01`` ... ``b10``, one of the ten sentences), emotion letter
    and version letter.  The files may lie in ``root/wav/`` (the layout of the
    download, whose other folders are ignored) or directly in ``root``, as
    ``.wav`` or ``.flac``.  No audio is read.

    Emotion letters ``W`` (Wut), ``F`` (Freude), ``T`` (Trauer) and ``N``
    (neutral) give ``angry``, ``happy``, ``sad`` and ``neutral``; recordings
    of the other three emotions (``L`` boredom, ``E`` disgust, ``A`` fear)
    are dropped.  Audio files whose name does not follow the pattern, or names
    a speaker or sentence code that EmoDB does not have, are skipped with one
    ``UserWarning`` that counts them and names a few; files with another
    extension and hidden files (``._*``, ``.DS_Store``) are ignored silently.

    Parameters
    ----------
    root : str or path-like
        The EmoDB folder (holding ``wav/``) or the folder of the audio files.

    Returns
    -------
    df : pandas.DataFrame
        One row per kept recording, sorted by ``id``, RangeIndex, columns:

        - ``id`` (str): the file stem, e.g. ``"03a01Wa"``.
        - ``audio`` (str): absolute path of the file.
        - ``text`` (str): the German sentence of the text code (the same
          ten sentences in every emotion: the words carry no emotion).
        - ``label`` (str): ``neutral``, ``happy``, ``sad`` or ``angry``.
        - ``label_raw`` (str): the emotion letter, e.g. ``"W"``.
        - ``speaker`` (str): ``"EmoDB_03"`` ... ``"EmoDB_16"``.
        - ``gender`` (str): from the EmoDB speaker table (03, 10, 11, 12, 15
          male; 08, 09, 13, 14, 16 female).
        - ``session`` (int): the speaker number.  EmoDB has no recording
          sessions; as for RAVDESS, using the speaker makes session-grouped
          tools (``LeaveOneSessionOut``) leave one speaker out.
        - ``text_code`` (str), e.g. ``"a01"``; ``version`` (str), e.g.
          ``"a"`` (several takes of the same sentence and emotion).

    Raises
    ------
    ValueError
        If ``root`` is not a directory or holds no valid EmoDB recording.

    Warns
    -----
    UserWarning
        For audio files not named like EmoDB recordings, and for recordings
        present both as ``.flac`` and ``.wav`` (the ``.flac`` one is used).
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"EmoDB root {root} is not a directory")
    folder = _audio_dir(root)
    rows = []
    malformed = []
    n_valid = 0
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lower() not in AUDIO_EXTENSIONS:
            continue
        fields = _parse_name(path.stem)
        if fields is None:
            malformed.append(path.name)
            continue
        n_valid += 1
        if fields["emotion"] not in EMODB_EMOTIONS:
            continue
        rows.append(
            {
                "id": path.stem,
                "audio": str(path),
                "text": EMODB_SENTENCES[fields["text_code"]],
                "label": EMODB_EMOTIONS[fields["emotion"]],
                "label_raw": fields["emotion"],
                "speaker": f"EmoDB_{fields['speaker']}",
                "gender": EMODB_SPEAKER_GENDER[fields["speaker"]],
                "session": int(fields["speaker"]),
                "text_code": fields["text_code"],
                "version": fields["version"],
            }
        )
    if malformed:
        warn_caller(
            f"Skipped {len(malformed)} audio file(s) in {folder} not named like "
            f"EmoDB recordings (e.g. 03a01Wa.wav): {', '.join(malformed[:5])}"
        )
    if n_valid == 0:
        raise ValueError(
            f"No EmoDB recordings (files like 03a01Wa.wav or .flac) in {folder}"
        )
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["session"] = df["session"].astype(np.int64)
    df = prefer_flac(df)
    return df.sort_values("id", kind="stable").reset_index(drop=True)

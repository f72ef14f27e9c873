"""Loader for the text of MELD (Poria et al., 2019), ``{split}_sent_emo.csv``."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import StrOptions, validate_params

from .._labels import ANGRY, HAPPY, NEUTRAL, SAD

__all__ = ["load_meld", "MELD_EMOTION_TO_LABEL"]

#: MELD emotion -> four-class label; surprise, disgust and fear are dropped.
MELD_EMOTION_TO_LABEL = {
    "neutral": NEUTRAL,
    "joy": HAPPY,
    "sadness": SAD,
    "anger": ANGRY,
}
SPLITS = ("train", "dev", "test")
_LABEL_MODES = ("four_class", "raw")
_REQUIRED = (
    "Utterance",
    "Speaker",
    "Emotion",
    "Sentiment",
    "Dialogue_ID",
    "Utterance_ID",
    "Season",
    "Episode",
)
COLUMNS = [
    "id",
    "text",
    "label",
    "emotion_raw",
    "sentiment",
    "speaker",
    "session",
    "dialogue_id",
    "utterance_id",
    "split",
    "season",
    "episode",
    "start",
    "end",
]
# C1 control characters (U+0080..U+009F) are Windows-1252 punctuation that
# was decoded as Latin-1 somewhere upstream (e.g. "\x92" for a right quote).
_C1 = re.compile("[\x80-\x9f]")
_TIME = re.compile(r"^(\d+):(\d+):(\d+)[,.](\d+)$")


def _decode(data: bytes) -> str:
    """Decode a MELD csv whatever its encoding, repairing cp1252 leftovers."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # copies re-saved by spreadsheet programs are Windows-1252
        text = data.decode("cp1252", errors="replace")

    def fix(m: re.Match) -> str:
        try:
            return bytes([ord(m.group())]).decode("cp1252")
        except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d: undefined
            return ""

    return _C1.sub(fix, text)


def _seconds(stamp: str) -> float:
    """``"00:16:16,059"`` -> 976.059; NaN if unparsable."""
    m = _TIME.match(stamp.strip())
    if m is None:
        return np.nan
    h, mi, s, frac = m.groups()
    return int(h) * 3600 + int(mi) * 60 + int(s) + float(f"0.{frac}")


def _find_csv(root: Path, split: str) -> Path:
    name = f"{split}_sent_emo.csv"
    # flat copies, and the MELD.Raw release (dev/test csv at top, train in train/)
    for cand in (
        root / name,
        root / split / name,
        root / "MELD.Raw" / name,
        root / "MELD.Raw" / split / name,
    ):
        if cand.is_file():
            return cand
    raise ValueError(f"MELD file {name} not found in {root} (nor in its {split}/)")


@validate_params(
    {
        "root": [str, os.PathLike],
        # a single split name, or several; each name is checked below
        "splits": [StrOptions(set(SPLITS)), "array-like"],
        "labels": [StrOptions(set(_LABEL_MODES))],
    },
    prefer_skip_nested_validation=True,
)
def load_meld(
    root,
    *,
    splits: Iterable[str] = SPLITS,
    labels: str = "four_class",
) -> pd.DataFrame:
    """Load the transcripts and emotion labels of MELD (no audio).

    Parameters
    ----------
    root : str or path-like
        Directory holding ``train_sent_emo.csv``, ``dev_sent_emo.csv`` and
        ``test_sent_emo.csv`` (directly, in ``<split>/`` or in ``MELD.Raw/``).
    splits : str or array-like of str, default=("train", "dev", "test")
        Which official splits to load, among ``"train"``, ``"dev"`` and
        ``"test"``: one name, or several (e.g. a list or tuple).
    labels : {"four_class", "raw"}, default="four_class"
        ``"four_class"``: neutral -> ``neutral``, joy -> ``happy``, sadness ->
        ``sad``, anger -> ``angry``; surprise, disgust and fear are dropped
        (8,245 / 897 / 2,211 rows for train / dev / test).  ``"raw"``: keep
        every row with ``label`` = the MELD emotion.

    Returns
    -------
    df : pandas.DataFrame
        One row per utterance, in split order then by dialogue and utterance
        number, RangeIndex.  Columns:

        - ``id`` (str): ``"{split}_dia{Dialogue_ID}_utt{Utterance_ID}"``, the
          name of the matching MELD video clip with the split prefixed.
        - ``text`` (str): the utterance.  The file is decoded as UTF-8 (or
          Windows-1252 if that fails); stray Windows-1252 control characters
          (e.g. ``\\x92``) become the punctuation they stand for, and outer
          whitespace is stripped.  Otherwise unchanged.
        - ``label`` (str), ``emotion_raw`` (str, MELD emotion),
          ``sentiment`` (str: ``"neutral"``, ``"positive"``, ``"negative"``).
        - ``speaker`` (str): the character's name, e.g. ``"Chandler"``.
        - ``session`` (int): the Friends season (1-9).  MELD has no recording
          sessions; the season is the nearest coarse grouping that holds
          across splits.  Group by ``split`` + ``dialogue_id`` for
          dialogue-level grouping.
        - ``dialogue_id``, ``utterance_id``, ``season``, ``episode`` (int),
          ``split`` (str).  Dialogue ids restart in each split.
        - ``start``, ``end`` (float): clip times in seconds within the episode.

        MELD is text-only here: there is no ``audio`` column, and no
        ``gender`` column (the corpus does not give speakers' genders).

    Raises
    ------
    ValueError
        If a split name or ``labels`` is unknown, or a file is missing or
        lacks MELD's columns.
    """
    splits = (splits,) if isinstance(splits, str) else tuple(splits)
    unknown = [s for s in splits if s not in SPLITS]
    if unknown or not splits:
        raise ValueError(f"splits must be a non-empty subset of {SPLITS}, got {splits}")
    root = Path(root).expanduser().resolve()

    frames = []
    for split in splits:
        path = _find_csv(root, split)
        # keep_default_na=False: utterances such as "NA" or "None" stay text
        raw = pd.read_csv(
            io.StringIO(_decode(path.read_bytes())),
            dtype=str,
            keep_default_na=False,
        )
        missing = [c for c in _REQUIRED if c not in raw.columns]
        if missing:
            raise ValueError(f"{path} lacks MELD column(s) {missing}")
        emotion = raw["Emotion"].str.strip().str.lower()
        if labels == "four_class":
            keep = emotion.isin(list(MELD_EMOTION_TO_LABEL)).to_numpy()
            label = emotion.map(MELD_EMOTION_TO_LABEL)
        else:
            keep = np.ones(len(raw), dtype=bool)
            label = emotion
        dia = raw["Dialogue_ID"].astype(np.int64)
        utt = raw["Utterance_ID"].astype(np.int64)
        season = raw["Season"].astype(np.int64)
        frame = pd.DataFrame(
            {
                "id": [f"{split}_dia{d}_utt{u}" for d, u in zip(dia, utt, strict=True)],
                "text": raw["Utterance"].str.strip(),
                "label": label,
                "emotion_raw": emotion,
                "sentiment": raw["Sentiment"].str.strip().str.lower(),
                "speaker": raw["Speaker"].str.strip(),
                "session": season,
                "dialogue_id": dia,
                "utterance_id": utt,
                "split": split,
                "season": season,
                "episode": raw["Episode"].astype(np.int64),
                "start": [_seconds(t) for t in raw.get("StartTime", [""] * len(raw))],
                "end": [_seconds(t) for t in raw.get("EndTime", [""] * len(raw))],
            }
        )[keep]
        frames.append(frame.sort_values(["dialogue_id", "utterance_id"], kind="stable"))
    return pd.concat(frames, ignore_index=True)[COLUMNS]

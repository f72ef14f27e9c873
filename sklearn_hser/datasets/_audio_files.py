"""Helpers shared by the loaders that list audio files (RAVDESS, EmoDB)."""

from __future__ import annotations

import warnings

import pandas as pd

#: The leading columns of the listing loaders' frames (docs/CONVENTIONS.md,
#: plus the corpus's own label code); corpus-specific columns follow.
LEADING_COLUMNS = [
    "id",
    "audio",
    "text",
    "label",
    "label_raw",
    "speaker",
    "gender",
    "session",
]

#: Audio file extensions the listing loaders read; ".flac" first, preferred.
AUDIO_EXTENSIONS = (".flac", ".wav")


def prefer_flac(df: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per ``id`` when a recording is present as .flac and .wav.

    The ``.flac`` row is kept (it sorts before ``.wav``), with one
    ``UserWarning`` giving the count, attributed to the loader's caller.
    """
    duplicated = df["id"].duplicated()
    if not duplicated.any():
        return df
    warnings.warn(
        f"{int(duplicated.sum())} recording(s) present both as .flac and .wav; "
        "the .flac file is used.",
        UserWarning,
        # prefer_flac <- the loader <- validate_params's wrapper <- the caller
        stacklevel=4,
    )
    return df.sort_values(["id", "audio"]).drop_duplicates("id", keep="first")

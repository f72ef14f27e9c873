"""Helpers shared by the corpus loaders (most by those that list audio files)."""

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
    warn_caller(
        f"{int(duplicated.sum())} recording(s) present both as .flac and .wav; "
        "the .flac file is used.",
        depth=1,
    )
    return df.sort_values(["id", "audio"]).drop_duplicates("id", keep="first")


def warn_caller(message: str, depth: int = 0) -> None:
    """Warn (``UserWarning``) on behalf of a loader, attributed to its caller.

    ``depth`` counts the helpers between the loader and this call.
    """
    # warn_caller <- helpers <- the loader <- validate_params's wrapper <- caller
    warnings.warn(message, UserWarning, stacklevel=4 + depth)

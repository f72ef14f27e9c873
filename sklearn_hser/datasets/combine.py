"""Several corpora as one training set."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sklearn.utils._param_validation import validate_params

#: Columns every corpus frame must have to be combined.
REQUIRED_COLUMNS = ("audio", "text", "label", "speaker")

#: Separator between a corpus name and a speaker (or id) in combined frames.
SEPARATOR = "/"


@validate_params({"corpora": [dict, list, tuple]}, prefer_skip_nested_validation=True)
def concat_corpora(corpora) -> pd.DataFrame:
    """Concatenate loaded corpora into one frame, keeping speakers distinct.

    Speaker names are only unique within a corpus (RAVDESS's actor ``"03"``
    and EmoDB's speaker ``"03"`` are different people), so each corpus's
    ``speaker`` (and ``id``) is prefixed with the corpus name, e.g.
    ``"emodb/03"``; the original is kept in ``source_speaker``. Grouped
    cross-validation over ``speaker`` (as in
    :func:`sklearn_hser.experiments.speaker_folds`) then groups by corpus and
    speaker, and per-speaker statistics
    (:class:`~sklearn_hser.features.SpeakerNormalizer`) never pool two
    corpora's speakers.

    Parameters
    ----------
    corpora : dict, or list or tuple of (name, DataFrame) pairs
        Corpus frames as returned by the loaders of
        :mod:`sklearn_hser.datasets`, by corpus name. Names must be unique
        and non-empty, and must not contain ``"/"``.

    Returns
    -------
    corpus : pandas.DataFrame
        The rows of every corpus, in the order given, with a RangeIndex and
        a ``corpus`` column naming each row's corpus. Columns present in only
        some corpora (``gender``, ``session``, ...) are kept, missing values
        being NaN.

    Raises
    ------
    ValueError
        If no corpus is given, a name is repeated or malformed, a frame is
        empty, lacks one of ``audio``, ``text``, ``label``, ``speaker``, or
        already has a ``corpus`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_hser.datasets import concat_corpora
    >>> a = pd.DataFrame({"audio": ["a.wav"], "text": ["hi"], "label": ["sad"],
    ...                   "speaker": ["03"]})
    >>> b = a.assign(audio="b.wav", label="angry")
    >>> concat_corpora({"ravdess": a, "emodb": b})["speaker"].tolist()
    ['ravdess/03', 'emodb/03']
    """
    pairs = list(corpora.items()) if isinstance(corpora, dict) else list(corpora)
    if not pairs:
        raise ValueError("concat_corpora needs at least one corpus; got none.")
    frames, seen = [], set()
    for pair in pairs:
        if not (isinstance(pair, Sequence) and len(pair) == 2):
            raise ValueError(
                "concat_corpora takes (name, DataFrame) pairs or a dict; "
                f"got {pair!r:.60}."
            )
        name, frame = pair
        _check_corpus(name, frame, seen)
        seen.add(name)
        frame = frame.copy()
        frame["source_speaker"] = frame["speaker"]
        frame["speaker"] = [f"{name}{SEPARATOR}{s}" for s in frame["speaker"]]
        if "id" in frame:
            frame["id"] = [f"{name}{SEPARATOR}{i}" for i in frame["id"]]
        frame.insert(0, "corpus", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True, sort=False)


def _check_corpus(name, frame, seen: set) -> None:
    if not isinstance(name, str) or not name or SEPARATOR in name:
        raise ValueError(
            f"Corpus names must be non-empty strings without {SEPARATOR!r}; "
            f"got {name!r}."
        )
    if name in seen:
        raise ValueError(f"Corpus name {name!r} is given twice; names must be unique.")
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(
            f"Corpus {name!r} must be a DataFrame; got {type(frame).__name__}."
        )
    if frame.empty:
        raise ValueError(f"Corpus {name!r} has no rows.")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame]
    if missing:
        raise ValueError(f"Corpus {name!r} has no column {', '.join(missing)}.")
    if "corpus" in frame:
        raise ValueError(
            f"Corpus {name!r} already has a 'corpus' column (already combined?)."
        )

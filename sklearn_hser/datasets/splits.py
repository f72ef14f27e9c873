"""The evaluation splits of the paper, and CV splitters for hyper-parameter search.

- :func:`speaker_dependent_split` (SD): all sessions pooled, stratified
  80 / 10 / 10 train / validation / test.
- :func:`speaker_independent_split` (SI): IEMOCAP sessions 1-4 train,
  session 5 male validation, session 5 female test (or named speakers).
- :class:`LeaveOneSessionOut`: one fold per session, as ``cv=`` for
  ``GridSearchCV``.
- :func:`validation_split`: a fixed train / validation split as ``cv=``.
- :func:`speaker_holdout_split`: SI split for corpora without IEMOCAP's
  sessions, holding out speakers drawn from those present.

Every function returns positional (``iloc``) integer indices.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator, PredefinedSplit
from sklearn.model_selection import train_test_split as _train_test_split
from sklearn.utils._param_validation import Interval, validate_params

try:  # lets metadata routing pass ``groups`` to split() by default
    from sklearn.model_selection._split import GroupsConsumerMixin as _GroupsMixin
except ImportError:  # pragma: no cover - private name moved
    _GroupsMixin = object

__all__ = [
    "speaker_dependent_split",
    "speaker_independent_split",
    "LeaveOneSessionOut",
    "validation_split",
    "speaker_holdout_split",
]

#: IEMOCAP session whose two speakers make up the SI validation and test sets.
SI_HELD_OUT_SESSION = 5


@validate_params(
    {
        "y": ["array-like"],
        "validation_size": [Interval(Real, 0, 1, closed="left")],
        "test_size": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def speaker_dependent_split(
    y,
    *,
    validation_size: float = 0.1,
    test_size: float = 0.1,
    random_state: int | None = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified train / validation / test split of all rows (SD protocol).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels, used for stratification.
    validation_size : float, default=0.1
        Share of all rows in the validation set, in [0, 1).
    test_size : float, default=0.1
        Share of all rows in the test set, in (0, 1).
        ``validation_size + test_size`` must be below 1.  Both sizes are
        rounded to whole rows of all ``n`` rows (at least one each when
        non-zero); the training set gets the rest.
    random_state : int, RandomState instance or None, default=0
        Seed; the same seed and ``y`` give the same split.

    Returns
    -------
    train_idx, val_idx, test_idx : ndarray of int
        Sorted positional indices into ``y``, disjoint and covering every row.
        ``val_idx`` is empty when ``validation_size == 0``.

    Raises
    ------
    ValueError
        If the sizes are out of range, or a class has too few members to be
        stratified (scikit-learn's message).
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    if validation_size + test_size >= 1:
        raise ValueError(
            f"validation_size + test_size must be < 1, got "
            f"{validation_size} + {test_size}"
        )
    # absolute sizes, rounded once here: chaining fractions through two
    # train_test_split calls would be off by one from float rounding
    n = len(y)
    n_test = max(1, round(test_size * n))
    n_val = max(1, round(validation_size * n)) if validation_size > 0 else 0
    if n_test + n_val >= n:
        raise ValueError(f"Too few rows ({n}) for the requested split sizes")
    idx = np.arange(n)
    rest, test = _train_test_split(
        idx, test_size=n_test, stratify=y, random_state=random_state
    )
    if n_val == 0:
        return np.sort(rest), np.array([], dtype=int), np.sort(test)
    train, val = _train_test_split(
        rest, test_size=n_val, stratify=y[rest], random_state=random_state
    )
    return np.sort(train), np.sort(val), np.sort(test)


def _as_speaker_set(speakers, name: str) -> set:
    if isinstance(speakers, str) or not isinstance(speakers, Iterable):
        speakers = [speakers]
    speakers = set(speakers)
    if not speakers:
        raise ValueError(f"{name} is empty")
    return speakers


@validate_params(
    {
        "df": [pd.DataFrame],
        "test_speakers": [str, Iterable, None],
        "validation_speakers": [str, Iterable, None],
        "speaker_column": [str],
    },
    prefer_skip_nested_validation=True,
)
def speaker_independent_split(
    df: pd.DataFrame,
    *,
    test_speakers=None,
    validation_speakers=None,
    speaker_column: str = "speaker",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Speaker-independent train / validation / test split (SI protocol).

    Default (both speaker arguments ``None``), for IEMOCAP-like frames with
    ``session`` and ``gender`` columns: validation = session 5, gender
    ``"M"``; test = session 5, gender ``"F"``; train = every other session
    (sessions 1-4 on IEMOCAP).  For other corpora pass the speakers of the
    validation and test sets; every other speaker is trained on.

    Parameters
    ----------
    df : pandas.DataFrame
        Corpus frame (one row per utterance).
    test_speakers : str or iterable of str, optional
        Values of ``df[speaker_column]`` making up the test set.
    validation_speakers : str or iterable of str, optional
        Values of ``df[speaker_column]`` making up the validation set.  Give
        both arguments or neither.
    speaker_column : str, default="speaker"
        Column naming the speaker.

    Returns
    -------
    train_idx, val_idx, test_idx : ndarray of int
        Sorted positional indices into ``df``, disjoint, with no speaker in
        more than one of them.

    Raises
    ------
    ValueError
        If the default cannot apply (no ``session``/``gender`` column, no
        session 5, or session 5 lacks a male or a female speaker), only one
        of the speaker arguments is given, a speaker set is empty or names a
        speaker absent from ``df``, the two sets overlap, or nothing is left
        to train on.
    """
    if (test_speakers is None) != (validation_speakers is None):
        raise ValueError(
            "Give both test_speakers and validation_speakers, or neither "
            "(neither: the corpus's default held-out speakers)."
        )
    if test_speakers is None:
        missing = [c for c in ("session", "gender") if c not in df.columns]
        if missing:
            raise ValueError(
                f"The default SI split needs columns 'session' and 'gender' "
                f"(missing {missing}); otherwise name test_speakers and "
                "validation_speakers."
            )
        session = df["session"].to_numpy()
        gender = df["gender"].to_numpy()
        held = session == SI_HELD_OUT_SESSION
        val = held & (gender == "M")
        test = held & (gender == "F")
        if not val.any() or not test.any():
            raise ValueError(
                f"The default SI split needs session {SI_HELD_OUT_SESSION} with "
                f"both a male and a female speaker (found {int(val.sum())} M and "
                f"{int(test.sum())} F rows); for corpora other than IEMOCAP name "
                "test_speakers and validation_speakers."
            )
        train = ~held
    else:
        if speaker_column not in df.columns:
            raise ValueError(f"df has no column {speaker_column!r}")
        test_set = _as_speaker_set(test_speakers, "test_speakers")
        val_set = _as_speaker_set(validation_speakers, "validation_speakers")
        overlap = test_set & val_set
        if overlap:
            raise ValueError(
                f"Speakers both in test and validation sets: {sorted(overlap)}"
            )
        speaker = df[speaker_column].to_numpy()
        present = set(pd.unique(speaker))
        absent = sorted(map(str, (test_set | val_set) - present))
        if absent:
            raise ValueError(f"Speakers not found in df[{speaker_column!r}]: {absent}")
        test = np.isin(speaker, list(test_set))
        val = np.isin(speaker, list(val_set))
        train = ~(test | val)
    if not train.any():
        raise ValueError("No rows left for training")
    return np.flatnonzero(train), np.flatnonzero(val), np.flatnonzero(test)


@validate_params(
    {
        "corpus": [pd.DataFrame],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "test_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "speaker_column": [str],
        "gender_column": [str],
    },
    prefer_skip_nested_validation=True,
)
def speaker_holdout_split(
    corpus: pd.DataFrame,
    *,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    random_state: int | None = 0,
    speaker_column: str = "speaker",
    gender_column: str = "gender",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Speaker-independent split that holds out speakers drawn from the corpus.

    For corpora without IEMOCAP's sessions (EmoDB, a user's manifest): the
    speakers present are shuffled within each gender and then taken in turn
    from each gender (female first), so that the test speakers, and then the
    validation speakers, are balanced by gender when the corpus allows.  With
    the default fractions and ten speakers (EmoDB, IEMOCAP) this holds out one
    female speaker for testing and one male speaker for validation, like the
    IEMOCAP protocol of :func:`speaker_independent_split`.

    Parameters
    ----------
    corpus : pandas.DataFrame
        Corpus frame with a speaker column (and optionally a gender column).
    validation_fraction : float, default=0.1
        Share of the *speakers* held out for validation, in [0, 1); rounded
        to whole speakers, at least one when non-zero.
    test_fraction : float, default=0.1
        Share of the speakers held out for testing, in (0, 1); at least one.
    random_state : int or None, default=0
        Seed of the speaker shuffle.
    speaker_column : str, default="speaker"
        Column naming the speaker.
    gender_column : str, default="gender"
        Column of the speaker's gender; when absent, all speakers form one
        group.

    Returns
    -------
    train_idx, val_idx, test_idx : ndarray of int
        Sorted positional indices into ``corpus``, disjoint, covering every
        row, with no speaker in more than one of them.  ``val_idx`` is empty
        when ``validation_fraction == 0``.

    Raises
    ------
    ValueError
        If the speaker column is missing or has missing values, the fractions
        are out of range, or there are too few speakers to leave at least one
        for training.

    Examples
    --------
    >>> import pandas as pd
    >>> corpus = pd.DataFrame({"speaker": list("aabbccdd"),
    ...                        "gender": list("FFMMFFMM")})
    >>> train, val, test = speaker_holdout_split(corpus, validation_fraction=0.25,
    ...                                          test_fraction=0.25)
    >>> len(train), len(val), len(test)
    (4, 2, 2)
    """
    if speaker_column not in corpus.columns:
        raise ValueError(f"corpus has no column {speaker_column!r}")
    speaker = corpus[speaker_column].to_numpy()
    if pd.isna(speaker).any():
        raise ValueError(f"corpus[{speaker_column!r}] has missing values")
    speakers = sorted(pd.unique(speaker), key=str)
    n_test = max(1, round(test_fraction * len(speakers)))
    n_val = max(1, round(validation_fraction * len(speakers)))
    n_val = n_val if validation_fraction > 0 else 0
    if n_test + n_val >= len(speakers):
        raise ValueError(
            f"A speaker-independent split needs at least {n_test + n_val + 1} "
            f"speakers ({n_test} test, {n_val} validation, 1 training); the "
            f"corpus has {len(speakers)}: {[str(s) for s in speakers[:5]]} "
            "(a manifest names its speakers in a 'speaker' column)"
        )
    if gender_column in corpus.columns:
        # a speaker's gender: its most frequent value (one in a clean corpus)
        genders = corpus.groupby(speaker_column, sort=False)[gender_column].agg(
            lambda g: str(g.mode().iloc[0])
        )
    else:
        genders = pd.Series("", index=speakers)
    rng = np.random.default_rng(random_state)
    groups = [
        list(rng.permutation([s for s in speakers if genders[s] == g]))
        for g in sorted(set(genders[s] for s in speakers))
    ]
    # take one speaker of each gender in turn: F, M, F, M, ...
    order = []
    while any(groups):
        order.extend(group.pop(0) for group in groups if group)
    test_idx = np.flatnonzero(np.isin(speaker, order[:n_test]))
    val_idx = np.flatnonzero(np.isin(speaker, order[n_test : n_test + n_val]))
    train_idx = np.flatnonzero(~np.isin(speaker, order[: n_test + n_val]))
    return train_idx, val_idx, test_idx


class LeaveOneSessionOut(_GroupsMixin, BaseCrossValidator):
    """Cross-validation with one fold per recording session.

    Each fold tests on all rows of one session and trains on the others
    (IEMOCAP: 5 folds, each holding out both speakers of a session).  Folds
    come in sorted session order.  Usable as ``cv=`` in ``GridSearchCV``,
    ``cross_val_score`` and friends.

    The session of each row is taken from ``groups`` when given (e.g.
    ``search.fit(X, y, groups=df["session"])``), else from the column
    ``session_column`` of ``X`` when ``X`` is a DataFrame.

    Parameters
    ----------
    session_column : str, default="session"
        Column of a DataFrame ``X`` read when ``groups`` is not given.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"f": range(6), "session": [1, 1, 2, 2, 3, 3]})
    >>> [test.tolist() for _, test in LeaveOneSessionOut().split(X)]
    [[0, 1], [2, 3], [4, 5]]
    """

    def __init__(self, session_column: str = "session"):
        self.session_column = session_column

    def _sessions(self, X, groups) -> np.ndarray:
        if groups is not None:
            sessions = np.asarray(groups)
        elif isinstance(X, pd.DataFrame) and self.session_column in X.columns:
            sessions = X[self.session_column].to_numpy()
        else:
            raise ValueError(
                "LeaveOneSessionOut needs the session of each row: pass "
                f"groups=..., or X as a DataFrame with a {self.session_column!r} "
                "column."
            )
        if sessions.ndim != 1:
            raise ValueError(f"groups must be 1-D, got shape {sessions.shape}")
        if pd.isna(sessions).any():
            raise ValueError("Session values must not be missing (NaN/None)")
        return sessions

    def split(self, X, y=None, groups=None):
        """Generate (train, test) positional indices, one pair per session.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)
            Data; its ``session_column`` is read when ``groups`` is None.
        y : array-like, optional
            Ignored.
        groups : array-like of shape (n_samples,), optional
            Session of each row.

        Yields
        ------
        train, test : ndarray of int
            Positional indices of the training and the held-out rows.
        """
        sessions = self._sessions(X, groups)
        if X is not None and len(sessions) != len(X):
            raise ValueError(
                f"groups has {len(sessions)} values for {len(X)} rows of X"
            )
        unique = np.unique(sessions)
        if len(unique) < 2:
            raise ValueError(
                f"LeaveOneSessionOut needs at least 2 sessions, got {list(unique)}"
            )
        for value in unique:
            test = sessions == value
            yield np.flatnonzero(~test), np.flatnonzero(test)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds: the number of distinct sessions.

        Parameters
        ----------
        X : array-like or pandas.DataFrame, optional
            Read for its ``session_column`` when ``groups`` is None.
        y : array-like, optional
            Ignored.
        groups : array-like of shape (n_samples,), optional
            Session of each row.

        Returns
        -------
        n_splits : int
        """
        return len(np.unique(self._sessions(X, groups)))


@validate_params(
    {"train_idx": ["array-like"], "val_idx": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def validation_split(train_idx, val_idx) -> PredefinedSplit:
    """A single fixed train / validation fold, as ``cv=`` for a search.

    The returned splitter works on the rows ``np.concatenate([train_idx,
    val_idx])`` of the full data, in that order: fit the search on
    ``X.iloc[rows]``, ``y[rows]``.  It has one fold, training on the first
    ``len(train_idx)`` of those rows and validating on the rest; with
    ``refit=True`` the best model is then refit on train + validation.

    Parameters
    ----------
    train_idx, val_idx : array-like of int
        Positional indices (e.g. from :func:`speaker_dependent_split` or
        :func:`speaker_independent_split`); non-empty and disjoint.

    Returns
    -------
    cv : sklearn.model_selection.PredefinedSplit
        Splitter with ``test_fold`` = -1 for training rows, 0 for validation.

    Examples
    --------
    >>> import numpy as np
    >>> train_idx, val_idx = np.array([0, 1, 2]), np.array([5, 6])
    >>> rows = np.concatenate([train_idx, val_idx])
    >>> cv = validation_split(train_idx, val_idx)
    >>> [(tr.tolist(), te.tolist()) for tr, te in cv.split()]
    [([0, 1, 2], [3, 4])]
    """
    train_idx = np.asarray(train_idx).ravel()
    val_idx = np.asarray(val_idx).ravel()
    if train_idx.size == 0 or val_idx.size == 0:
        raise ValueError("train_idx and val_idx must both be non-empty")
    overlap = np.intersect1d(train_idx, val_idx)
    if overlap.size:
        raise ValueError(
            f"{overlap.size} row(s) both in train_idx and val_idx, "
            f"e.g. {overlap[:5].tolist()}"
        )
    test_fold = np.concatenate(
        [np.full(train_idx.size, -1, dtype=int), np.zeros(val_idx.size, dtype=int)]
    )
    return PredefinedSplit(test_fold)


def balanced_held_out_speakers(
    df: pd.DataFrame, *, speaker_column: str = "speaker", gender_column: str = "gender"
) -> tuple[list, list]:
    """Validation and test speakers for corpora without sessions (RAVDESS).

    Within each gender the speakers present are sorted by name; the last two
    are held out for testing and the one before them for validation (with
    fewer than five speakers of a gender: the last one for testing, the one
    before for validation). On RAVDESS's 18 actors of the four-class subset
    this is actors 13-14 for validation and 15-18 for testing, two male and
    two female test speakers; on another selection of actors it adapts
    instead of naming absent speakers.

    Parameters
    ----------
    df : pandas.DataFrame
        Corpus frame with speaker and gender columns.
    speaker_column, gender_column : str
        Column names.

    Returns
    -------
    validation_speakers, test_speakers : list of str

    Raises
    ------
    ValueError
        If a column is missing or a gender has fewer than three speakers
        (one each to train, validate and test on).
    """
    for column in (speaker_column, gender_column):
        if column not in df.columns:
            raise ValueError(f"corpus has no {column!r} column")
    validation, test = [], []
    pairs = df[[speaker_column, gender_column]].drop_duplicates()
    for gender, group in pairs.groupby(gender_column, sort=True):
        speakers = sorted(group[speaker_column].unique(), key=str)
        if len(speakers) < 3:
            raise ValueError(
                f"a speaker-independent split needs at least 3 speakers of each "
                f"gender; gender {gender!r} has {len(speakers)}: {speakers}. "
                "Name the held-out speakers instead."
            )
        n_test = 2 if len(speakers) >= 5 else 1
        test += speakers[-n_test:]
        validation.append(speakers[-n_test - 1])
    return sorted(validation), sorted(test)

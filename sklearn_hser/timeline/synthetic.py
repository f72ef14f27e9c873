"""A long recording with a known timeline, built from utterances of a corpus."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, validate_params

from ..features.audio import SAMPLING_RATE, load_audio
from .transcripts import segments_table

__all__ = ["concatenate_utterances"]


@validate_params(
    {
        "corpus": [pd.DataFrame],
        # one length, or the (low, high) bounds of a uniform draw
        "pause": [Interval(Real, 0, None, closed="left"), "array-like"],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def concatenate_utterances(corpus: pd.DataFrame, *, pause=(0.4, 1.2), random_state=0):
    """Lay a corpus's utterances end to end, with pauses, as one recording.

    What a test or a worked example needs: a long recording whose true
    segments, words and labels are known.

    Parameters
    ----------
    corpus : DataFrame
        Rows with an ``audio`` column (waveform or file path) and a ``text``
        column, e.g. from :func:`~sklearn_hser.datasets.make_emotional_speech`;
        any other column (``label``, ``id``, ...) is carried over.
    pause : float or (float, float), default=(0.4, 1.2)
        Silence before each utterance, in seconds: a fixed length, or the
        bounds of a uniform draw.
    random_state : int, default=0
        Seed of the pause lengths.

    Returns
    -------
    waveform : ndarray of shape (n_samples,), float32
        The 16 kHz recording, ending with one more pause.
    segments : DataFrame
        Its segments table (``start``, ``end``, ``text``, ``cue``, ``line``)
        plus the corpus's other columns; times are exact to the sample.

    Examples
    --------
    >>> from sklearn_hser.datasets import make_emotional_speech
    >>> from sklearn_hser.timeline.synthetic import concatenate_utterances
    >>> corpus = make_emotional_speech(n_per_speaker=4, n_sessions=1, random_state=0)
    >>> wave, segments = concatenate_utterances(corpus, pause=0.5)
    >>> len(segments), float(segments["start"].iloc[0])
    (8, 0.5)
    """
    rng = np.random.default_rng(random_state)
    low, high = (pause, pause) if np.isscalar(pause) else pause
    pieces, cues, position = [], [], 0
    for row in corpus.itertuples(index=False):
        gap = int(round(rng.uniform(low, high) * SAMPLING_RATE))
        speech = load_audio(row.audio)
        pieces += [np.zeros(gap, dtype=np.float32), speech]
        start = position + gap
        position = start + len(speech)
        cues.append((start / SAMPLING_RATE, position / SAMPLING_RATE, row.text))
    pieces.append(np.zeros(int(round(high * SAMPLING_RATE)), dtype=np.float32))
    segments = segments_table(cues)
    extra = corpus.drop(columns=["audio", "text"], errors="ignore").reset_index(
        drop=True
    )
    return np.concatenate(pieces), pd.concat([segments, extra], axis=1)

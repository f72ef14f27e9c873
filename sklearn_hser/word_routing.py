"""Choosing when the words decide: the hierarchy's ``speech_confidence``.

The paper's rule sends to the text model only the samples that the speech
gate calls neutral. On a voice unlike the training speakers the gate is
often unsure, and its decision is then little better than chance. With
``speech_confidence`` set, such samples take the text route too
(:class:`~sklearn_hser.HierarchicalClassifier`). Whether that pays depends on
the words: a choice made only on a speech corpus whose transcripts carry no
emotion (RAVDESS, EmoDB) always keeps the paper's rule. It is therefore made
on two kinds of validation data at once: held-out speakers of the speech
corpus, where the voice carries the emotion, and a routing-validation set
(for example text-corpus sentences voiced by
:func:`~sklearn_hser.datasets.voice_texts`), where the words do. Each kind
counts for half of the score, and no choice may cost the held-out speakers
more than :data:`MAX_SPEECH_LOSS` of UA against the paper's routing.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score
from sklearn.utils._param_validation import HasMethods, Interval, validate_params

#: The ``speech_confidence`` values searched: the paper's routing first.
SPEECH_CONFIDENCES = (None, 0.5, 0.6, 0.7, 0.8, 0.9)

#: How much UA on held-out speakers of the speech corpus a routing may give
#: up for the words: where the voice carries the emotion, listening to the
#: words must not cost more than this.
MAX_SPEECH_LOSS = 0.01


@validate_params(
    {
        "hierarchy": [HasMethods(["fit", "predict_for_thresholds"])],
        "corpus": [pd.DataFrame],
        "routing_validation": [pd.DataFrame],
        "held_out": ["array-like"],
        "thresholds": [list, tuple],
        "confidences": [list, tuple],
        "max_speech_loss": [Interval(Real, 0, 1, closed="both")],
    },
    prefer_skip_nested_validation=False,
)
def choose_speech_confidence(
    hierarchy,
    corpus,
    routing_validation,
    *,
    held_out,
    thresholds,
    confidences=SPEECH_CONFIDENCES,
    max_speech_loss=MAX_SPEECH_LOSS,
):
    """Choose ``speech_confidence`` and ``threshold`` on two kinds of data.

    ``hierarchy`` (unfitted, or fitted: it is cloned) is fitted on the rows
    of ``corpus`` outside ``held_out``; every pair of ``confidences`` and
    ``thresholds`` is scored on the held-out rows of ``corpus`` and on
    ``routing_validation``. Pairs whose UA on the held-out speakers falls
    more than ``max_speech_loss`` below that of the hierarchy's own routing
    (``speech_confidence=None`` at its ``threshold``) are not candidates;
    among the others the best mean of the two UAs wins, the first on a tie,
    so that the paper's routing (``None``, listed first) and the earlier
    threshold are kept.

    Parameters
    ----------
    hierarchy : HierarchicalClassifier
        The hierarchy whose routing is chosen; its text model is typically
        frozen (fitted on a text corpus).
    corpus : pandas.DataFrame
        The speech corpus the hierarchy is trained on, with ``label``.
    routing_validation : pandas.DataFrame
        Labelled utterances, in the same form (``audio``, ``text``,
        ``label``), whose words carry the emotion.
    held_out : array-like of int
        Positions of the rows of ``corpus`` held out (whole speakers).
    thresholds : list or tuple of float or None
        Thresholds of the modality-consistency rule to try.
    confidences : list or tuple of float or None, default=SPEECH_CONFIDENCES
        ``speech_confidence`` values to try, the reference first.
    max_speech_loss : float in [0, 1], default=MAX_SPEECH_LOSS
        The most UA on the held-out speakers a chosen pair may lose against
        the hierarchy's own routing.

    Returns
    -------
    choice : tuple
        ``(speech_confidence, threshold)``.
    scores : dict
        ``{(speech_confidence, threshold): (UA on held-out speakers, UA on
        routing_validation)}``.
    """
    held_out = np.asarray(held_out)
    if len(held_out) == 0 or len(routing_validation) == 0:
        raise ValueError("Both kinds of validation data need at least one sample.")
    train = np.setdiff1d(np.arange(len(corpus)), held_out)
    y = corpus["label"].to_numpy()
    model = clone(hierarchy).set_params(speech_confidence=None)
    model.fit(corpus.iloc[train], y[train])
    speech_part = corpus.iloc[held_out]
    parts = [(speech_part, y[held_out])]
    parts.append((routing_validation, routing_validation["label"].to_numpy()))
    scores = {}
    for confidence in confidences:
        model.set_params(speech_confidence=confidence)
        predicted = [model.predict_for_thresholds(X, thresholds) for X, _ in parts]
        for t in thresholds:
            scores[confidence, t] = tuple(
                float(balanced_accuracy_score(truth, p[t]))
                for (_, truth), p in zip(parts, predicted)
            )
    reference = scores.get((None, hierarchy.threshold))
    floor = -np.inf if reference is None else reference[0] - max_speech_loss
    allowed = [k for k in scores if scores[k][0] >= floor]
    choice = max(allowed, key=lambda k: np.mean(scores[k]))
    return choice, scores

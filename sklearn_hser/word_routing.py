"""Choosing when the words decide: the hierarchy's routing settings.

The paper's rule sends to the text model only the samples that the speech
gate calls neutral. On a voice unlike the training speakers the gate can be
unsure, or sure and wrong, and its decision is then little better than
chance. Two settings of :class:`~sklearn_hser.HierarchicalClassifier` send
such samples to the text route: ``speech_confidence`` (the gate's own
probability is low) and ``voice_familiarity`` (the voice lies far from the
training speakers, :class:`~sklearn_hser.familiarity.VoiceFamiliarity`).
Whether that pays depends on the words: a choice made only on a speech corpus
whose transcripts carry no emotion (RAVDESS, EmoDB) always keeps the paper's
rule. It is therefore made on two kinds of validation data at once: held-out
speakers of the speech corpus, where the voice carries the emotion, and a
routing-validation set (for example text-corpus sentences voiced by
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
from sklearn.utils.validation import indexable

from ._algorithm import gate_confidence, words_decide
from ._labels import NEUTRAL

#: The ``speech_confidence`` values searched: the paper's routing first.
SPEECH_CONFIDENCES = (None, 0.5, 0.6, 0.7, 0.8, 0.9)

#: The ``voice_familiarity`` values searched: not used first. A value is
#: about the share of utterances of new speakers like the training ones that
#: are sent to the words, so none is above :data:`MAX_SPEECH_LOSS`.
VOICE_FAMILIARITIES = (None, 0.005, 0.01)

#: How much UA on held-out speakers of the speech corpus a routing may give
#: up for the words: where the voice carries the emotion, listening to the
#: words must not cost more than this.
MAX_SPEECH_LOSS = 0.01

#: The hierarchy's parameters a routing sets, in the order of a choice.
ROUTING_PARAMETERS = ("speech_confidence", "voice_familiarity", "threshold")


@validate_params(
    {
        "hierarchy": [HasMethods(["fit", "predict_for_thresholds"])],
        "corpus": [pd.DataFrame],
        "routing_validation": [pd.DataFrame],
        "held_out": ["array-like"],
        "thresholds": [list, tuple],
        "confidences": [list, tuple],
        "familiarities": [list, tuple],
        "max_speech_loss": [Interval(Real, 0, 1, closed="both")],
    },
    prefer_skip_nested_validation=False,
)
def choose_routing(
    hierarchy,
    corpus,
    routing_validation,
    *,
    held_out,
    thresholds,
    confidences=SPEECH_CONFIDENCES,
    familiarities=VOICE_FAMILIARITIES,
    max_speech_loss=MAX_SPEECH_LOSS,
):
    """Choose the routing settings and the threshold on two kinds of data.

    ``hierarchy`` (unfitted, or fitted: it is cloned) is fitted once on the
    rows of ``corpus`` outside ``held_out``; every combination of
    ``confidences``, ``familiarities`` and ``thresholds`` is scored on the
    held-out rows of ``corpus`` and on ``routing_validation``, from one pass
    of each sub-model over each. Combinations whose UA on the held-out
    speakers falls more than ``max_speech_loss`` below that of the paper's
    routing (both settings ``None``, at the hierarchy's ``threshold``) are
    not candidates; among the others the best mean of the two UAs wins, the
    first on a tie, so that the paper's routing (listed first) and the
    earlier threshold are kept.

    Parameters
    ----------
    hierarchy : HierarchicalClassifier
        The hierarchy whose routing is chosen; its text model is typically
        frozen (fitted on a text corpus) and needs ``predict_proba``.
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
        ``speech_confidence`` values to try, ``None`` first.
    familiarities : list or tuple of float or None, default=VOICE_FAMILIARITIES
        ``voice_familiarity`` values to try, ``None`` first; only ``None``
        for a hierarchy without ``speech_features``.
    max_speech_loss : float in [0, 1], default=MAX_SPEECH_LOSS
        The most UA on the held-out speakers a chosen combination may lose
        against the paper's routing.

    Returns
    -------
    choice : dict
        The chosen ``speech_confidence``, ``voice_familiarity`` and
        ``threshold`` (:data:`ROUTING_PARAMETERS`).
    scores : dict
        ``{(speech_confidence, voice_familiarity, threshold): (UA on
        held-out speakers, UA on routing_validation)}``.
    """
    held_out = np.asarray(held_out)
    if len(held_out) == 0 or len(routing_validation) == 0:
        raise ValueError("Both kinds of validation data need at least one sample.")
    train = np.setdiff1d(np.arange(len(corpus)), held_out)
    y = corpus["label"].to_numpy()
    if hierarchy.speech_features is None:
        # Familiarity is measured on the shared speech features.
        familiarities = [None]
    # Fitted with the strictest familiarity searched, so that it learns the
    # training voices; every setting is then applied to the same outputs.
    strictest = max((f for f in familiarities if f is not None), default=None)
    model = clone(hierarchy).set_params(
        speech_confidence=None, voice_familiarity=strictest
    )
    model.fit(corpus.iloc[train], y[train])
    parts = [
        (corpus.iloc[held_out], y[held_out]),
        (routing_validation, routing_validation["label"].to_numpy()),
    ]
    needs_confidence = any(c is not None for c in confidences)
    routes = [_RoutingOutputs(model, X, needs_confidence) for X, _ in parts]
    scores = {}
    for confidence in confidences:
        for familiarity in familiarities:
            predicted = [
                r.outputs(confidence, familiarity).predict_for_thresholds(thresholds)
                for r in routes
            ]
            for t in thresholds:
                scores[confidence, familiarity, t] = tuple(
                    float(balanced_accuracy_score(truth, p[t]))
                    for (_, truth), p in zip(parts, predicted)
                )
    # The paper's routing at the hierarchy's threshold, searched or not.
    (_, truth), paper = parts[0], routes[0].outputs(None, None)
    reference = paper.predict_for_thresholds([hierarchy.threshold])
    paper_ua = balanced_accuracy_score(truth, reference[hierarchy.threshold])
    allowed = [k for k in scores if scores[k][0] >= paper_ua - max_speech_loss]
    if not allowed:
        raise ValueError(
            f"No combination keeps the held-out speakers' UA within "
            f"{max_speech_loss} of the paper's routing at the hierarchy's "
            f"threshold ({hierarchy.threshold}, UA {paper_ua:.3f}); search that "
            "threshold too."
        )
    choice = max(allowed, key=lambda k: np.mean(scores[k]))
    return dict(zip(ROUTING_PARAMETERS, choice)), scores


class _RoutingOutputs:
    """A fitted hierarchy's outputs on ``X`` under any routing settings.

    Each sub-model runs once, with every sample on the text route: the text
    model's probabilities of every sample, the emotion model's labels of the
    samples the gate calls emotional (the speech-only result), the gate's
    decisions, its probabilities and the familiarity. A routing setting only
    moves samples from the emotional route to the text route, so its outputs
    are read from these.

    ``model`` is fitted with ``speech_confidence=None``, and with
    ``voice_familiarity`` set where familiarities are searched.
    """

    def __init__(self, model, X, needs_confidence):
        X = indexable(X)[0]
        X_speech = model._speech_input(X)
        gate_pred, _, self.familiarity = model._gate_decisions(X_speech)
        # Only a searched speech_confidence needs the gate's probabilities.
        self.confidence = np.full(len(gate_pred), np.nan)
        if needs_confidence:
            _, self.confidence = gate_confidence(model.speech_gate_, X_speech)
        every = np.ones(len(gate_pred), dtype=bool)
        heard = model._outputs(X, X_speech, gate_pred, every, self.familiarity, False)
        if heard.text_proba is None:
            raise ValueError(
                "choose_routing needs a text model with predict_proba; "
                f"{type(model.text_).__name__} has none."
            )
        self.speech_gate = model._speech_gate(gate_pred)
        self.speech_only, self.text_proba = heard.speech_only, heard.text_proba
        self.model = model

    def outputs(self, confidence, familiarity):
        unsure = words_decide(
            self.confidence, self.familiarity, confidence, familiarity
        )
        gate = np.where(unsure, NEUTRAL, self.speech_gate)
        return self.model._branch_outputs(
            gate=gate,
            emotion_pred=self.speech_only[gate != NEUTRAL],
            text_proba=self.text_proba[gate == NEUTRAL],
            familiarity=self.familiarity,
            words_decide=unsure,
            routing=(confidence, familiarity),
        )

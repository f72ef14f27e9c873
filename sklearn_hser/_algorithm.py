"""The modality-consistency rule of the paper's Algorithm 1, and its assembly.

For a sample that the level-1 speech model routes to *neutral*, the text model
(Model 3) gives a probability for each of the four classes.  The rule decides
whether the speech decision is kept or the text model takes over:

* if the text's probability of *neutral* is at least ``threshold``, the sample
  stays neutral (the two modalities agree well enough);
* otherwise the text model's most probable class is the final prediction.

With no threshold the final prediction is simply the text argmax.

:class:`HierarchyOutputs` assembles the final labels of Algorithm 1 from the
branch outputs (the gate's routing, the emotion model's labels, the text
model's probabilities) for any threshold; the hierarchical estimator and the
evaluation helpers in :mod:`sklearn_hser.metrics` both use it, so the rule and
its assembly are written down exactly once.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval

from ._labels import NEUTRAL

__all__ = ["HierarchyOutputs", "apply_threshold_rule", "check_threshold"]


class _Threshold(Interval):
    """``Interval(Real, 0, 1, closed="both")`` without the booleans (a plain
    ``Interval`` of reals lets ``True`` through)."""

    def __init__(self):
        super().__init__(numbers.Real, 0, 1, closed="both")

    def is_satisfied_by(self, val):
        return not isinstance(val, bool | np.bool_) and super().is_satisfied_by(val)


#: A threshold's value: a real number in [0, 1].
_UNIT_INTERVAL = _Threshold()

#: The constraint of a ``threshold`` parameter.
THRESHOLD = [_UNIT_INTERVAL, None]

#: Branch names reported by :meth:`HierarchicalClassifier.route`.
EMOTION_BRANCH = "speech_emotion"
TEXT_BRANCH = "text"
#: What ``route()``'s ``decided_by`` names where the gate's *neutral* stood on
#: the text branch (beside the two branch names).
GATE_DECIDED = "speech_gate"


def check_threshold(threshold):
    """Validate a confidence threshold and return it as a float (or None).

    Parameters
    ----------
    threshold : float or None
        ``None`` (no threshold) or a real number in ``[0, 1]``.

    Returns
    -------
    threshold : float or None
        The threshold as a Python float, or ``None``.

    Raises
    ------
    ValueError
        If ``threshold`` is not ``None`` and not a finite real number in
        ``[0, 1]`` (booleans are refused too).

    Examples
    --------
    >>> from sklearn_hser._algorithm import check_threshold
    >>> check_threshold(0.3)
    0.3
    >>> check_threshold(None) is None
    True
    """
    if threshold is None:
        return None
    if not _UNIT_INTERVAL.is_satisfied_by(threshold):  # also refuses NaN
        raise ValueError(
            f"threshold must be None or a real number in [0, 1], got {threshold!r}."
        )
    return float(threshold)


def apply_threshold_rule(text_proba, text_classes, threshold, neutral_label=NEUTRAL):
    """Final labels of speech-neutral samples under the confidence-threshold rule.

    Every row of ``text_proba`` is taken to be a sample that the level-1 speech
    model predicted as neutral.  For each row, with ``p`` the text model's
    probability of ``neutral_label``::

        if threshold is not None and p >= threshold:  final = neutral_label
        else:                                         final = argmax of the row

    Parameters
    ----------
    text_proba : array-like of shape (n_samples, n_classes)
        Class probabilities from the text model, one row per speech-neutral
        sample, columns in the order of ``text_classes`` (as returned by
        ``predict_proba``).  Values must be finite; rows are not required to
        sum to one.
    text_classes : array-like of shape (n_classes,)
        Class label of each column (the text model's ``classes_``).  Must be
        distinct and contain ``neutral_label``.
    threshold : float or None
        Confidence threshold in ``[0, 1]``, or ``None`` for the plain text
        argmax.  The comparison is ``p >= threshold``: a probability exactly
        equal to the threshold keeps the sample neutral, ``threshold=0`` keeps
        every sample neutral, and ``threshold=1`` keeps a sample neutral through
        the threshold only when ``p == 1`` (otherwise the argmax decides, which
        may still be neutral).
    neutral_label : object, default="neutral"
        The label of the neutral class.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        The final label of each row, taken from ``text_classes`` (same dtype as
        ``np.asarray(text_classes)``).

    Raises
    ------
    ValueError
        If ``text_proba`` is not 2-D, has non-finite values or a number of
        columns different from ``len(text_classes)``; if ``text_classes`` has
        duplicates or lacks ``neutral_label``; or if ``threshold`` is not
        ``None`` and not in ``[0, 1]``.

    Notes
    -----
    Ties in the argmax are resolved in favour of the class that comes first
    in ``text_classes`` (``numpy.argmax`` semantics).  When the rule falls back
    to the argmax, the argmax can itself be neutral: the threshold only changes
    the decision for rows whose argmax is emotional while ``p`` is still at
    least ``threshold``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hser._algorithm import apply_threshold_rule
    >>> classes = ["angry", "happy", "neutral", "sad"]
    >>> proba = np.array([[0.10, 0.50, 0.35, 0.05],
    ...                   [0.05, 0.20, 0.25, 0.50],
    ...                   [0.10, 0.10, 0.70, 0.10]])
    >>> apply_threshold_rule(proba, classes, None).tolist()
    ['happy', 'sad', 'neutral']
    >>> apply_threshold_rule(proba, classes, 0.3).tolist()
    ['neutral', 'sad', 'neutral']
    >>> apply_threshold_rule(proba, classes, 0.25).tolist()
    ['neutral', 'neutral', 'neutral']
    """
    threshold = check_threshold(threshold)

    classes = np.asarray(text_classes)
    if classes.ndim != 1 or classes.size == 0:
        raise ValueError(
            "text_classes must be a non-empty 1-D sequence of labels, got shape "
            f"{classes.shape}."
        )
    class_list = classes.tolist()
    if len(set(class_list)) != len(class_list):
        raise ValueError(f"text_classes has duplicate labels: {class_list!r}.")
    try:
        neutral_col = class_list.index(neutral_label)
    except ValueError:
        raise ValueError(
            f"neutral_label {neutral_label!r} is not one of text_classes "
            f"{class_list!r}."
        ) from None

    try:
        proba = np.asarray(text_proba, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"text_proba must be numeric: {exc}") from None
    if proba.ndim != 2:
        raise ValueError(
            f"text_proba must be 2-D (n_samples, n_classes), got shape {proba.shape}."
        )
    if proba.shape[1] != classes.size:
        raise ValueError(
            f"text_proba has {proba.shape[1]} columns but text_classes has "
            f"{classes.size} labels."
        )
    if not np.all(np.isfinite(proba)):
        raise ValueError("text_proba contains NaN or infinite values.")

    labels = classes[np.argmax(proba, axis=1)]
    if threshold is not None:
        labels[proba[:, neutral_col] >= threshold] = classes[neutral_col]
    return labels


class HierarchyOutputs:
    """The sub-models' outputs on a set of samples, from one pass.

    Returned by :meth:`HierarchicalClassifier.outputs`, and built by
    :func:`~sklearn_hser.metrics.neutral_precision_recall` from given branch
    outputs. Algorithm 1 is applied on demand, for any threshold, without
    running a sub-model again.

    Parameters
    ----------
    gate : ndarray of shape (n_samples,)
        The level-1 routing, ``"neutral"`` (to the text model) or
        ``"emotional"``.
    classes : ndarray
        The classes of the hierarchy (the dtype of the final labels).
    text_classes : array-like
        The columns of ``text_proba`` (the text model's ``classes_``).
    emotion_pred : array-like of shape (n_emotional,) or None
        The labels of the samples routed to the emotion model.
    emotion_proba : ndarray or None
        Their probabilities, columns ``emotion_classes``.
    text_proba : ndarray of shape (n_neutral, n_text_classes) or None
        The text model's probabilities of the samples routed to it.
    text_pred : array-like of shape (n_neutral,) or None
        The text model's labels, when it has no ``predict_proba``.
    emotion_classes : array-like, default=()
        The columns of ``emotion_proba``.
    threshold : float or None, default=None
        The threshold of ``predict(threshold="fitted")``.
    neutral_label : object, default="neutral"
        The label of the neutral class.
    familiarity : ndarray of shape (n_samples,) or None, default=None
        Each sample's voice familiarity, reported by :meth:`route`; ``None``
        when the hierarchy does not use it.
    words_decide : ndarray of bool of shape (n_samples,) or None, default=None
        Where the voice was not trusted: there the text model's most probable
        class is the answer, whatever the threshold. Reported by :meth:`route`
        when given (the hierarchy routes by the voice's trust).
    speech_only : ndarray of shape (n_samples,) or None, default=None
        The **speech-only** result, the one meaning the package gives the
        term: the hierarchy's speech models without its text branch. A
        sample the gate calls neutral is neutral, any other takes the emotion
        model's class (with ``gate_labels="flat"``, the gate's own class: the
        flat speech model). Voice trust plays no part in it. None when the
        outputs were built from given branch outputs without it.
    speech_gate : classifier or None, default=None
        The fitted speech gate, and ``X_speech`` what it saw: with both,
        :meth:`deciding_proba` reports the gate's own probabilities where its
        neutral stood (the gate runs again on those samples only).
    X_speech : indexable of shape (n_samples, ...) or None, default=None
        The speech gate's input.
    gate_labels : {"flat", "all", "collapsed"} or None, default=None
        The gate's kind. The paper's gate (``"collapsed"``) gives P(neutral)
        and P(emotional): its neutral column is ``neutral_label``'s. Any
        other gate's columns are classes of the hierarchy.

    Attributes
    ----------
    to_text, to_emotion : ndarray of int
        Positions of the samples routed to the text / the emotion model.
    """

    def __init__(
        self,
        *,
        gate,
        classes,
        text_classes,
        emotion_pred=None,
        emotion_proba=None,
        text_proba=None,
        text_pred=None,
        emotion_classes=(),
        threshold=None,
        neutral_label=NEUTRAL,
        familiarity=None,
        words_decide=None,
        speech_only=None,
        speech_gate=None,
        X_speech=None,
        gate_labels=None,
    ):
        self.classes_ = np.asarray(classes)
        self.threshold = threshold
        self.neutral_label = neutral_label
        self.text_classes = np.asarray(text_classes)
        self.emotion_classes = np.asarray(emotion_classes)
        self.gate = gate
        self.to_text = np.flatnonzero(gate == NEUTRAL)
        self.to_emotion = np.flatnonzero(gate != NEUTRAL)
        self.emotion_pred = emotion_pred
        self.emotion_proba = emotion_proba
        self.text_proba = text_proba
        self.text_pred = text_pred
        self.familiarity = familiarity
        self.speech_only = speech_only
        self.speech_gate, self.X_speech = speech_gate, X_speech
        self.gate_labels = gate_labels
        self.routes_by_voice = words_decide is not None
        self.words_decide = (
            np.zeros(len(gate), dtype=bool) if words_decide is None else words_decide
        )

    def __len__(self):
        return len(self.gate)

    def _decide(self, threshold) -> dict:
        """Algorithm 1 on the branch outputs, for one threshold."""
        n, to_text, to_emotion = len(self), self.to_text, self.to_emotion
        final = np.empty(n, dtype=self.classes_.dtype)
        text_pred = np.full(n, None, dtype=object)
        neutral_proba = np.full(n, np.nan)
        kept_neutral = np.zeros(n, dtype=bool)
        to_branch = np.where(self.gate == NEUTRAL, TEXT_BRANCH, EMOTION_BRANCH)
        decided_by = to_branch.astype(object)
        if len(to_emotion):
            final[to_emotion] = self.emotion_pred
        if len(to_text):
            if self.text_proba is not None:
                argmax = self.text_classes[np.argmax(self.text_proba, axis=1)]
                text_classes = list(self.text_classes)
                # A text model without the neutral class (y without one) gives
                # no P(neutral): only the plain argmax, threshold None, works.
                decided = argmax
                if threshold is not None or self.neutral_label in text_classes:
                    decided = apply_threshold_rule(
                        self.text_proba, text_classes, threshold, self.neutral_label
                    )
                    column = text_classes.index(self.neutral_label)
                    neutral_proba[to_text] = self.text_proba[:, column]
                # The threshold keeps neutral what the voice called neutral;
                # where the voice was not trusted, the words decide outright.
                decided = np.where(self.words_decide[to_text], argmax, decided)
                # The gate's neutral stands where the threshold kept it, and
                # at threshold 0, where the words are never consulted.
                gate_stands = (decided != argmax) | (
                    (threshold == 0) & ~self.words_decide[to_text]
                )
                decided_by[to_text[gate_stands]] = GATE_DECIDED
            elif threshold is not None:
                raise ValueError(
                    f"A threshold ({threshold}) needs the text model's "
                    "probabilities, but it has no predict_proba."
                )
            else:
                argmax = decided = self.text_pred
            final[to_text] = decided
            text_pred[to_text] = argmax
            kept_neutral[to_text] = np.asarray(decided != argmax)
        return {
            "final": final,
            "text_pred": text_pred,
            "neutral_proba": neutral_proba,
            "kept_neutral": kept_neutral,
            "decided_by": decided_by,
        }

    def _resolve(self, threshold):
        """``threshold``, or the hierarchy's own for ``"fitted"``."""
        if isinstance(threshold, str) and threshold == "fitted":
            return self.threshold
        return threshold

    def predict(self, threshold="fitted"):
        """Final labels, by Algorithm 1 at ``threshold``.

        Parameters
        ----------
        threshold : float, None or "fitted", default="fitted"
            ``"fitted"``: the hierarchy's own ``threshold``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._decide(self._resolve(threshold))["final"]

    def predict_for_thresholds(self, thresholds) -> dict:
        """``{threshold: labels}`` for each of ``thresholds``, in order.

        Parameters
        ----------
        thresholds : iterable of float or None

        Returns
        -------
        dict
        """
        return {t: self._decide(t)["final"] for t in thresholds}

    def predict_proba(self):
        """Probabilities of the deciding model, columns as ``classes_``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        proba = np.zeros((len(self), len(self.classes_)))
        if len(self.to_emotion):
            if self.emotion_proba is None:
                raise ValueError(
                    "These outputs were computed with proba=False, or the "
                    "emotion model has no predict_proba."
                )
            columns = np.searchsorted(self.classes_, self.emotion_classes)
            proba[np.ix_(self.to_emotion, columns)] = self.emotion_proba
        if len(self.to_text):
            if self.text_proba is None:
                raise ValueError("The text model has no predict_proba.")
            columns = np.searchsorted(self.classes_, self.text_classes)
            proba[np.ix_(self.to_text, columns)] = self.text_proba
        return proba

    def deciding_proba(self, threshold="fitted"):
        """Probabilities of the model that decided each sample.

        Those of :meth:`predict_proba`, except where the gate's neutral stood
        (``decided_by`` is ``"speech_gate"`` in :meth:`route`): there, the
        gate's own, so that a sample labelled neutral never shows another
        class as the more probable one. A class the gate does not predict
        (each emotion, behind a neutral-vs-emotional gate) is NaN there, and
        so is every class when the gate has no ``predict_proba`` or the
        outputs were built without it.

        Parameters
        ----------
        threshold : float, None or "fitted", default="fitted"
            As in :meth:`predict`.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        proba = self.predict_proba()
        decided_by = self._decide(self._resolve(threshold))["decided_by"]
        rows = np.flatnonzero(decided_by == GATE_DECIDED)
        if not len(rows):
            return proba
        proba[rows] = np.nan
        gate = self.speech_gate
        if gate is not None and hasattr(gate, "predict_proba"):
            gate_proba = gate.predict_proba(_safe_indexing(self.X_speech, rows))
            labels = list(gate.classes_)
            if self.gate_labels == "collapsed":
                labels = [self.neutral_label if c == NEUTRAL else None for c in labels]
            for j, label in enumerate(labels):
                if label is not None and label in self.classes_:
                    column = np.searchsorted(self.classes_, label)
                    proba[rows, column] = gate_proba[:, j]
        return proba

    def route(self, threshold="fitted"):
        """How each sample was decided, as :meth:`HierarchicalClassifier.route`.

        Parameters
        ----------
        threshold : float, None or "fitted", default="fitted"
            As in :meth:`predict`.

        Returns
        -------
        pandas.DataFrame
        """
        decision = self._decide(self._resolve(threshold))
        table = pd.DataFrame(
            {
                "speech_gate": self.gate,
                "branch": np.where(self.gate == NEUTRAL, TEXT_BRANCH, EMOTION_BRANCH),
                "text_neutral_proba": decision["neutral_proba"],
                "text_prediction": decision["text_pred"],
                "kept_neutral": decision["kept_neutral"],
                "decided_by": decision["decided_by"],
                "prediction": decision["final"],
            }
        )
        if self.routes_by_voice:
            table["words_decide"] = self.words_decide
        if self.familiarity is not None:
            table["voice_familiarity"] = self.familiarity
        return table


# --------------------------------------------- where the voice is not trusted


def gate_confidence(gate, X_speech):
    """The gate's decisions and its probability for each of them."""
    if not hasattr(gate, "predict_proba"):
        raise ValueError(
            "speech_confidence needs a speech gate with predict_proba; "
            f"{type(gate).__name__} has none."
        )
    proba = np.asarray(gate.predict_proba(X_speech))
    return np.asarray(gate.classes_)[np.argmax(proba, axis=1)], proba.max(axis=1)


def words_decide(confidence, familiarity, speech_confidence, voice_familiarity):
    """Where the text route is taken whatever the gate said.

    A sample takes it when the gate's probability for its own decision
    (``confidence``) is below ``speech_confidence``, or its voice's
    familiarity is below ``voice_familiarity``; a ``None`` setting never
    sends a sample.
    """
    unsure = np.zeros(len(confidence), dtype=bool)
    if speech_confidence is not None:
        unsure |= confidence < speech_confidence
    if voice_familiarity is not None:
        unsure |= familiarity < voice_familiarity
    return unsure

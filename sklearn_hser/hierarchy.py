"""The hierarchical speech + text classifier of the paper (Algorithm 1)."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_method_params,
    _num_samples,
    check_is_fitted,
    column_or_1d,
    indexable,
)

from ._algorithm import (  # noqa: F401 - HierarchyOutputs, the branches: public here
    EMOTION_BRANCH,
    TEXT_BRANCH,
    THRESHOLD,
    HierarchyOutputs,
    check_threshold,
    gate_confidence,
    words_decide,
)
from ._deciding import route_and_proba  # noqa: F401 - public here
from ._labels import EMOTIONAL, NEUTRAL
from ._routing import (
    _cached,
    _fit_clone,
    _fit_or_constant,
    _fit_transform_clone,
    check_known_classes,
    fit_router,
    routed_fit_params,
)

#: The ``gate_labels`` options of :class:`HierarchicalClassifier`, the flat
#: speech model first (the reference of a search among them).
GATE_OPTIONS = ("flat", "all", "collapsed")


#: The sub-estimator parameters, in the order they are fitted.
_SUB_MODELS = ("speech_features", "speech_gate", "speech_emotion", "text")


class HierarchicalClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Two-level speech emotion classifier with text re-classification.

    The method of Alqurashi et al. (IJCNN 2024), Algorithm 1:

    * **level 1**, ``speech_gate``: a speech model trained on all samples with
      the labels collapsed to *neutral* vs *emotional* routes each sample;
    * **level 2, emotional route**, ``speech_emotion``: a speech model trained
      on the emotional samples only picks the emotion (e.g. angry, happy,
      sad);
    * **level 2, neutral route**, ``text``: a text model trained on all
      samples and all classes re-classifies the samples the gate called
      neutral. With ``threshold`` set, such a sample stays neutral when the
      text model's probability of neutral is at least ``threshold``, and
      takes the text model's most probable class otherwise.

    Errors of the gate propagate: a neutral sample routed to the emotional
    branch is necessarily misclassified, as in the paper (no oracle routing).

    ``gate_labels="all"`` trains the gate on every class instead and routes
    to the text branch the samples whose most probable class is neutral. A
    linear gate then draws the neutral region as several boundaries (one
    against each emotion) instead of a single one against their union, which
    matters because neutral speech lies *between* the emotions (sad below it
    in arousal, angry and happy above). The routing then equals the flat
    speech model's neutral decision, so with ``threshold=0`` the hierarchy
    cannot fall below the flat model by more than the emotion model's
    differences. ``gate_labels="flat"`` removes that difference too: the
    four-class gate also names the emotion of the samples it calls
    emotional, and ``speech_emotion`` is not used. The speech level is then
    exactly the flat speech model, whose neutral decisions the text model
    may revise; with ``threshold=0`` the hierarchy predicts what the flat
    model predicts.

    Parameters
    ----------
    speech_gate : estimator
        Classifier for neutral vs emotional. It sees ``X`` and the labels
        ``"neutral"`` / ``"emotional"``. Typically a pipeline that picks the
        audio column, e.g. ``make_pipeline(MFCC(column="audio"), ...)``.
    speech_emotion : estimator
        Classifier over the emotional classes, fitted on the emotional
        samples of ``X`` only; not used with ``gate_labels="flat"``. When
        the training labels hold a single
        emotional class it is not fitted; that class is predicted instead
        (likewise the gate, when ``y`` holds no neutral sample: a warning
        says so and every sample takes the emotional route).
    text : estimator
        Classifier over all classes, typically a pipeline over the transcript
        column. Needs ``predict_proba`` when ``threshold`` is set.
    threshold : float in [0, 1] or None, default=None
        Confidence threshold of the modality-consistency rule; ``None`` gives
        the plain proposed system (text argmax). Used only at prediction
        time: changing it never requires a refit.
    neutral_label : str or int, default="neutral"
        The label of the neutral class in ``y``.
    gate_labels : {"collapsed", "all", "flat"}, default="collapsed"
        What ``speech_gate`` learns and decides. ``"collapsed"`` (the
        paper): the labels collapsed to ``"neutral"`` / ``"emotional"``.
        ``"all"``: every class; a sample takes the text route when the gate
        predicts ``neutral_label``, the emotion route otherwise, where
        ``speech_emotion`` names the emotion. ``"flat"``: as ``"all"``, but
        the gate's own prediction is the emotion (``speech_emotion`` is not
        fitted). Changing it requires a refit.
    memory : str, joblib.Memory or None, default=None
        Cache of the sub-model fits, as in :class:`sklearn.pipeline.Pipeline`.
        With a cache, a ``GridSearchCV`` over ``threshold`` (or over the
        parameters of one sub-model) fits each unchanged sub-model once per
        fold instead of once per candidate. Sub-models wrapped in
        :class:`sklearn.frozen.FrozenEstimator` are not cached: they have
        nothing to fit.
    speech_features : transformer or None, default=None
        A feature step shared by the two speech models: fitted once on
        ``X``, its output is what ``speech_gate`` and ``speech_emotion`` see,
        so each sample's speech features are extracted once per ``predict``
        instead of once per speech model. The text model still sees ``X``.
        E.g. ``MFCC(column="audio")`` with two classifiers over its features.
    speech_confidence : float in [0, 1] or None, default=None
        Lets the words decide where the voice is unsure (not in the paper).
        A sample whose gate probability for the gate's own decision is below
        ``speech_confidence`` takes the text route too, however the gate
        decided; there the text model's most probable class is the answer
        (the threshold rule keeps neutral only what the voice called
        neutral). Needs a
        gate with ``predict_proba``. ``None`` (default): the paper's routing,
        on the gate's decision alone. Used only at prediction time.
    voice_familiarity : float in (0, 1) or None, default=None
        Lets the words decide where the voice is unfamiliar (not in the
        paper). A sample whose speech features are less familiar than this
        (:class:`~sklearn_hser.familiarity.VoiceFamiliarity`: a conformal
        p-value against the training speakers, taken leave one speaker out)
        takes the text route, however the gate decided, and the text model's
        most probable class is the answer; e.g. ``0.01`` sends
        about 1% of the utterances of new speakers like the training ones.
        Needs ``speech_features`` with numeric output and a ``speaker``
        column in ``X`` at ``fit``. ``None`` (default): not used.

    Attributes
    ----------
    speech_features_ : transformer or None
        The fitted shared feature step (``None`` without one).
    familiarity_ : VoiceFamiliarity or None
        Fitted on the shared features of the training utterances when
        ``voice_familiarity`` is set, else ``None``.
    speech_gate_ : estimator
        The fitted level-1 model.
    speech_emotion_ : estimator
        The fitted level-2 speech model (a constant ``DummyClassifier`` when
        the training data hold a single emotional class; ``speech_gate_``
        itself with ``gate_labels="flat"``).
    text_ : estimator
        The fitted text model.
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    n_features_in_ : int
        Number of features seen by the first step (the shared feature step,
        else the gate), when it defines it.

    See Also
    --------
    sklearn_hser.baselines.SpeechOnlyClassifier : The flat speech baseline.
    sklearn_hser.baselines.LateFusionClassifier : Flat speech + text fusion.

    Notes
    -----
    ``predict_proba`` returns, for each sample, the probabilities of the
    model that decides it: ``speech_emotion_`` on the emotional route (zero
    for neutral, except with ``gate_labels="flat"``, where they are the
    gate's four-class probabilities), ``text_`` on the neutral route.
    ``predict`` applies the threshold rule to those probabilities, as
    :class:`sklearn.model_selection.FixedThresholdClassifier` does: without a
    threshold, ``predict`` is the argmax of ``predict_proba``; with one, it
    differs exactly for the samples that :meth:`route` marks
    ``kept_neutral``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_hser import HierarchicalClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["neutral", "happy", "sad", "angry"], 25)
    >>> classes = ["neutral", "happy", "sad", "angry"]
    >>> X = rng.normal(size=(100, 4)) + (y[:, None] == classes)
    >>> clf = HierarchicalClassifier(
    ...     LogisticRegression(), LogisticRegression(), LogisticRegression(),
    ...     threshold=0.3,
    ... ).fit(X, y)
    >>> clf.classes_.tolist()
    ['angry', 'happy', 'neutral', 'sad']
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "speech_gate": [HasMethods(["fit", "predict"])],
        "speech_emotion": [HasMethods(["fit", "predict"])],
        "text": [HasMethods(["fit", "predict"])],
        "threshold": THRESHOLD,
        "neutral_label": [str, int, np.integer],
        "gate_labels": [StrOptions(set(GATE_OPTIONS))],
        "memory": [None, str, HasMethods(["cache"])],
        "speech_features": [HasMethods(["fit", "transform"]), None],
        "speech_confidence": [Interval(Real, 0, 1, closed="both"), None],
        "voice_familiarity": [Interval(Real, 0, 1, closed="neither"), None],
    }

    def __init__(
        self,
        speech_gate,
        speech_emotion,
        text,
        *,
        threshold=None,
        neutral_label=NEUTRAL,
        gate_labels="collapsed",
        memory=None,
        speech_features=None,
        speech_confidence=None,
        voice_familiarity=None,
    ):
        self.speech_gate = speech_gate
        self.speech_emotion = speech_emotion
        self.text = text
        self.threshold = threshold
        self.neutral_label = neutral_label
        self.gate_labels = gate_labels
        self.memory = memory
        self.speech_features = speech_features
        self.speech_confidence = speech_confidence
        self.voice_familiarity = voice_familiarity

    # -- fitting ---------------------------------------------------------
    @_fit_context(
        # The sub-estimators are validated when they are fitted.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the three sub-models (and the shared feature step).

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            Anything the sub-estimators accept and that
            :func:`sklearn.utils._safe_indexing` can index by rows (a corpus
            DataFrame with ``audio`` and ``text`` columns, a feature matrix).
        y : array-like of shape (n_samples,)
            Class labels; must contain ``neutral_label`` and at least one
            other class.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights. Without metadata routing they go to every
            sub-model's ``fit`` (``speech_emotion`` gets those of the
            emotional samples); with routing enabled
            (``sklearn.set_config(enable_metadata_routing=True)``), to the
            sub-models that request them (``set_fit_request``).
        **fit_params : dict
            Other metadata, only with metadata routing enabled; routed like
            ``sample_weight``.

        Returns
        -------
        self : object
        """
        self._check_text_method()
        X = indexable(X)[0]
        y = column_or_1d(y, warn=True)
        missing = pd.isna(y)
        if missing.any():  # as scikit-learn's own estimators say it
            raise ValueError(
                f"Input y contains NaN: {int(missing.sum())} missing label(s), "
                f"the first at position {int(np.flatnonzero(missing)[0])}."
            )
        check_classification_targets(y)
        if len(y) != _num_samples(X):
            raise ValueError(
                f"X has {_num_samples(X)} samples but y has {len(y)} labels."
            )
        present = [n for n in _SUB_MODELS if getattr(self, n) is not None]
        params = routed_fit_params(
            self,
            X,
            sample_weight,
            fit_params,
            present,
            transformers=("speech_features",),
        )
        is_neutral = y == self.neutral_label
        if not is_neutral.any():
            warnings.warn(
                f"neutral_label={self.neutral_label!r} does not occur in y "
                f"(classes: {np.unique(y).tolist()[:10]}); every sample will be "
                "routed to the emotional branch. Set neutral_label to the label "
                "of the neutral class.",
                UserWarning,
                stacklevel=2,
            )
        elif is_neutral.all():
            raise ValueError(
                "y holds only the neutral class; at least one other class is needed."
            )
        self.classes_ = np.unique(y)
        fit = _cached(_fit_clone, self.memory)

        X_speech = X
        self.speech_features_ = None
        if self.speech_features is not None:
            self.speech_features_, X_speech = _cached(
                _fit_transform_clone, self.memory
            )(self.speech_features, X, y, params["speech_features"])
            X_speech = indexable(X_speech)[0]
        self.familiarity_ = None
        if self.voice_familiarity is not None:
            from .familiarity import _fit_familiarity

            self.familiarity_ = _fit_familiarity(X, X_speech)
        # The paper's gate learns neutral vs emotional; "all" and "flat",
        # every class.
        gate_y = (
            np.where(is_neutral, NEUTRAL, EMOTIONAL)
            if self.gate_labels == "collapsed"
            else y
        )
        self.speech_gate_ = _fit_or_constant(
            fit, self.speech_gate, X_speech, gate_y, params["speech_gate"]
        )
        if self.gate_labels == "flat":
            # The gate names the emotion too: no second speech model.
            self.speech_emotion_ = self.speech_gate_
        else:
            emotional = np.flatnonzero(~is_neutral)
            self.speech_emotion_ = _fit_or_constant(
                fit,
                self.speech_emotion,
                _safe_indexing(X_speech, emotional),
                y[emotional],
                _check_method_params(X, params["speech_emotion"], emotional),
            )
        self.text_ = fit(self.text, X, y, params["text"])
        for name in ("speech_emotion", "text"):
            check_known_classes(getattr(self, f"{name}_"), self.classes_, name)
        return self

    def get_metadata_routing(self):
        """How metadata (e.g. ``sample_weight``) reach the sub-estimators.

        Returns
        -------
        routing : MetadataRouter
            ``fit`` metadata go to each sub-estimator's ``fit``.
        """
        return fit_router(
            self, [n for n in _SUB_MODELS if getattr(self, n) is not None]
        )

    def _check_text_method(self):
        if self.threshold is not None and not hasattr(self.text, "predict_proba"):
            raise ValueError(
                "A threshold needs the text model's probabilities, but "
                f"{type(self.text).__name__} has no predict_proba."
            )

    def _first_step(self):
        features = self.speech_features_
        return self.speech_gate_ if features is None else features

    @property
    def n_features_in_(self):
        """Number of features seen by the first step (when it defines it)."""
        return self._first_step().n_features_in_

    @property
    def feature_names_in_(self):
        """Feature names seen by the first step (when it defines them)."""
        return self._first_step().feature_names_in_

    # -- prediction ------------------------------------------------------
    def outputs(self, X, *, proba=True):
        """Run each sub-model once, on the samples routed to it.

        Everything :meth:`predict`, :meth:`predict_proba`, :meth:`route` and
        :meth:`predict_for_thresholds` return, and the speech-only result,
        can be read from the result without running the sub-models again
        (for that result the emotion model also runs where the gate called
        the voice emotional but did not trust it): what an evaluation or a
        command-line prediction that needs several of them should call.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            As in :meth:`predict`.
        proba : bool, default=True
            Also keep the emotion model's probabilities (needed by
            ``predict_proba``; the text model's are always kept when it has
            ``predict_proba``).

        Returns
        -------
        HierarchyOutputs
            The sub-models' outputs, with ``predict``, ``predict_proba``,
            ``route`` and ``predict_for_thresholds`` methods.
        """
        check_is_fitted(self)
        # The threshold may have changed since fit (set_params): refuse a bad
        # one here, before any sub-model runs, whatever the routes.
        check_threshold(self.threshold)
        self._check_text_method()
        X = indexable(X)[0]
        X_speech = self._speech_input(X)
        return self._outputs(X, X_speech, *self._gate_decisions(X_speech), proba)

    def _speech_input(self, X):
        """What the speech models see: the shared features of ``X``, or ``X``."""
        features = self.speech_features_
        return X if features is None else indexable(features.transform(X))[0]

    def _speech_gate(self, gate_pred):
        """The gate's labels as its routing, ``"neutral"`` or ``"emotional"``."""
        if self.gate_labels == "collapsed":
            return gate_pred
        return np.where(gate_pred == self.neutral_label, NEUTRAL, EMOTIONAL)

    def _outputs(self, X, X_speech, gate_pred, unsure, familiarity, proba):
        """The branch outputs, ``unsure`` (not trusted) samples to the text route."""
        gate_labels = self.gate_labels
        speech_gate = self._speech_gate(gate_pred)
        # The speech level's own answer for every sample, before the words
        # are heard: the emotion model also runs where the voice is not trusted.
        speech_pred = np.full(len(gate_pred), self.neutral_label, dtype=object)
        heard = np.flatnonzero(speech_gate != NEUTRAL)
        emotion_pred = emotion_proba = text_proba = text_pred = None
        if len(heard):
            X_emotion = _safe_indexing(X_speech, heard)
            if gate_labels == "flat":
                # The gate's decision is final; its probabilities only on demand.
                emotion_pred = gate_pred[heard]
                if proba and hasattr(self.speech_emotion_, "predict_proba"):
                    emotion_proba = self.speech_emotion_.predict_proba(X_emotion)
            elif proba and hasattr(self.speech_emotion_, "predict_proba"):
                emotion_proba = self.speech_emotion_.predict_proba(X_emotion)
                classes = self.speech_emotion_.classes_
                emotion_pred = classes[np.argmax(emotion_proba, axis=1)]
            else:
                emotion_pred = np.asarray(self.speech_emotion_.predict(X_emotion))
            speech_pred[heard] = emotion_pred
            # The words decide where the voice is unsure or unfamiliar.
            kept = ~unsure[heard]
            emotion_pred = emotion_pred[kept]
            emotion_proba = None if emotion_proba is None else emotion_proba[kept]
        gate = np.where(unsure, NEUTRAL, speech_gate)
        to_text = np.flatnonzero(gate == NEUTRAL)
        if len(to_text):
            X_text = _safe_indexing(X, to_text)
            if hasattr(self.text_, "predict_proba"):
                text_proba = self.text_.predict_proba(X_text)
            else:
                text_pred = np.asarray(self.text_.predict(X_text))
        return self._branch_outputs(
            gate=gate,
            speech_only=speech_pred.astype(self.classes_.dtype),
            emotion_pred=emotion_pred,
            emotion_proba=emotion_proba,
            text_proba=text_proba,
            text_pred=text_pred,
            familiarity=familiarity,
            words_decide=unsure,
            speech_gate=self.speech_gate_,
            X_speech=X_speech,
            gate_labels=self.gate_labels,
        )

    def _branch_outputs(self, *, familiarity, words_decide, routing=None, **outputs):
        """:class:`HierarchyOutputs` of these branch ``outputs`` and this model.

        ``routing``: the ``(speech_confidence, voice_familiarity)`` they were
        routed by, this model's by default.
        """
        if routing is None:
            routing = (self.speech_confidence, self.voice_familiarity)
        familiar = routing[1] is not None
        by_voice = familiar or routing[0] is not None
        return HierarchyOutputs(
            classes=self.classes_,
            text_classes=self.text_.classes_,
            emotion_classes=getattr(self.speech_emotion_, "classes_", ()),
            threshold=self.threshold,
            neutral_label=self.neutral_label,
            familiarity=familiarity if familiar else None,
            words_decide=words_decide if by_voice else None,
            **outputs,
        )

    def predict(self, X):
        """Predict class labels with Algorithm 1.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            Samples, in the form used in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.outputs(X, proba=False).predict()

    def predict_for_thresholds(self, X, thresholds):
        """Predictions for several thresholds from one run of the sub-models.

        What a threshold search needs: the sub-models run once, and
        Algorithm 1 is applied once per threshold, as
        :class:`sklearn.model_selection.TunedThresholdClassifierCV` scores
        every cut-off from the same predictions.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            As in :meth:`predict`.
        thresholds : iterable of float or None
            Thresholds to apply (``None``: plain text argmax).

        Returns
        -------
        dict
            ``{threshold: ndarray of shape (n_samples,)}``, in the given order.
        """
        return self.outputs(X, proba=False).predict_for_thresholds(thresholds)

    @available_if(  # the models whose probabilities a sample can take
        lambda self: (
            hasattr(self.text, "predict_proba")
            and hasattr(
                self.speech_gate if self.gate_labels == "flat" else self.speech_emotion,
                "predict_proba",
            )
        )
    )
    def predict_proba(self, X):
        """Class probabilities from the model that decides each sample.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            As in :meth:`predict`.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``. See the Notes of the class docstring
            for how they relate to ``predict`` when a threshold is set.
        """
        return self.outputs(X).predict_proba()

    def route(self, X):
        """How each sample was decided.

        Parameters
        ----------
        X : DataFrame, array-like or sequence
            The samples to route, as for :meth:`predict`.

        Returns
        -------
        pandas.DataFrame
            One row per sample, with the columns ``speech_gate`` (the level-1
            decision, ``"neutral"`` or ``"emotional"``), ``branch``
            (``"speech_emotion"`` or ``"text"``), ``text_neutral_proba``
            (the text model's P(neutral), NaN on the emotional route),
            ``text_prediction`` (the text argmax, missing on the emotional
            route), ``kept_neutral`` (True where the threshold kept neutral a
            sample whose text argmax is emotional), ``decided_by`` (the branch,
            or ``"speech_gate"`` where the gate's neutral stood: kept by the
            threshold, or at threshold 0) and ``prediction``. With
            ``speech_confidence`` or ``voice_familiarity`` set, also
            ``words_decide`` (True where the voice was not trusted and the
            text model's argmax is the answer); with ``voice_familiarity``
            set, also ``voice_familiarity``, each sample's familiarity.
            ``speech_gate`` is ``"neutral"`` for every sample on the text
            route.
        """
        return self.outputs(X, proba=False).route()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        subs = (self.speech_gate, self.speech_emotion, self.text)
        # The meta-estimator only slices rows: it takes what all of its
        # sub-models take.
        if self.speech_features is not None:
            # The speech models see the feature step's output, not X.
            subs = (self.speech_features, self.text)
        tags.input_tags.sparse = all(get_tags(est).input_tags.sparse for est in subs)
        tags.input_tags.allow_nan = all(
            get_tags(est).input_tags.allow_nan for est in subs
        )
        return tags

    def _gate_decisions(self, X_speech):
        """The gate's decisions, and where the voice is too unsure or unfamiliar.

        Returns the gate's labels, a mask of the samples that take the text
        route whatever the gate said (``_algorithm.words_decide``), and each
        sample's familiarity (NaN unless ``voice_familiarity`` is set).
        """
        n = _num_samples(X_speech)
        familiarity = confidence = np.full(n, np.nan)
        if self.voice_familiarity is not None:
            if self.familiarity_ is None:
                raise ValueError(
                    "voice_familiarity was set after fit; refit the hierarchy "
                    "so that it learns how its training voices sound."
                )
            familiarity = self.familiarity_.score_samples(X_speech)
        if self.speech_confidence is None:
            gate_pred = np.asarray(self.speech_gate_.predict(X_speech))
        else:
            gate_pred, confidence = gate_confidence(self.speech_gate_, X_speech)
        unsure = words_decide(
            confidence, familiarity, self.speech_confidence, self.voice_familiarity
        )
        return gate_pred, unsure, familiarity


@validate_params(
    {
        "speech": [HasMethods(["fit", "predict"])],
        "text": [HasMethods(["fit", "predict"])],
    },
    # **params are HierarchicalClassifier's, checked when it is fitted.
    prefer_skip_nested_validation=True,
)
def make_hierarchy(speech, text, **params) -> HierarchicalClassifier:
    """A hierarchy whose two speech models share one feature extraction.

    ``speech`` is the speech classifier one would use flat, e.g.
    ``make_pipeline(MFCC(column="audio"), LSTMClassifier())``. When it is a
    :class:`~sklearn.pipeline.Pipeline` of several steps, all but the last
    become the hierarchy's ``speech_features`` and the last one (and a
    clone of it) serves as ``speech_gate`` (and ``speech_emotion``), so
    ``predict`` extracts each sample's features once; otherwise ``speech``
    (and a clone) serves as both models.

    Parameters
    ----------
    speech : estimator or Pipeline
        The speech classifier (unfitted).
    text : estimator
        The text model.
    **params : dict
        Other parameters of :class:`HierarchicalClassifier` (``threshold``,
        ``memory``, ``neutral_label``).

    Returns
    -------
    HierarchicalClassifier

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_hser import make_hierarchy
    >>> speech = make_pipeline(StandardScaler(), LogisticRegression())
    >>> clf = make_hierarchy(speech, LogisticRegression(), threshold=0.3)
    >>> type(clf.speech_features).__name__, type(clf.speech_gate).__name__
    ('Pipeline', 'LogisticRegression')
    """
    from sklearn.pipeline import Pipeline

    # Two objects: set_params on one model leaves the other as it was.
    if isinstance(speech, Pipeline) and len(speech) > 1:
        model = speech[-1]
        return HierarchicalClassifier(
            model, clone(model), text, speech_features=speech[:-1], **params
        )
    return HierarchicalClassifier(speech, clone(speech), text, **params)

"""Evaluating a fitted system on a labelled corpus (e.g. another corpus).

:func:`evaluate_model` scores a fitted :class:`~sklearn_hser.HierarchicalClassifier`
(or a :class:`~sklearn_hser.threshold_tuning.TunedThresholdHierarchyCV`, or
any fitted classifier) on a corpus frame: UA, WA, per-class precision and
recall, the confusion matrix, the flat speech-only result of the same fitted
speech models, and how many samples took each route.  Training on one corpus
and evaluating on another (cross-corpus) is the usual use; ``hser evaluate``
is its command line.  :func:`format_evaluation` renders the result as text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import HasMethods, validate_params
from sklearn.utils.validation import check_is_fitted

from ._atomic import jsonable
from .hierarchy import TEXT_BRANCH, HierarchicalClassifier
from .metrics import format_score, ordered_labels, scores_record

__all__ = ["evaluate_model", "format_evaluation"]


def _hierarchy_of(model):
    """The fitted hierarchy inside ``model``, or None for a flat classifier."""
    if isinstance(model, HierarchicalClassifier):
        return model
    # TunedThresholdHierarchyCV: the hierarchy refitted at the best threshold
    inner = getattr(model, "estimator_", None)
    return inner if isinstance(inner, HierarchicalClassifier) else None


def _check_corpus(model, corpus, label_column) -> np.ndarray:
    if label_column not in corpus.columns:
        raise ValueError(f"corpus has no {label_column!r} column")
    if len(corpus) == 0:
        raise ValueError("the corpus is empty: nothing to evaluate")
    y_true = corpus[label_column].to_numpy()
    if pd.isna(y_true).any():
        raise ValueError(f"corpus[{label_column!r}] has missing values")
    outside = pd.Series(y_true)[~np.isin(y_true, model.classes_)]
    if len(outside):
        raise ValueError(
            f"{len(outside)} corpus row(s) have labels the model does not know: "
            f"{sorted(map(str, outside.unique()))} (model classes: "
            f"{[str(c) for c in model.classes_]})"
        )
    return y_true


@validate_params(
    {
        "model": [HasMethods(["predict"])],
        "corpus": [pd.DataFrame],
        "label_column": [str],
    },
    prefer_skip_nested_validation=True,
)
def evaluate_model(model, corpus, *, label_column: str = "label") -> dict:
    """Score a fitted system on a labelled corpus.

    For a hierarchy the sub-models run once (:meth:`HierarchicalClassifier.outputs
    <sklearn_hser.HierarchicalClassifier.outputs>`), and both results come from
    that single pass: the hierarchy's prediction at its threshold, and the
    **speech-only** result of the same fitted speech models, the hierarchy
    without its text branch (a sample the gate calls neutral stays neutral,
    any other takes the emotion model's class; see
    :attr:`HierarchyOutputs.speech_only
    <sklearn_hser.hierarchy.HierarchyOutputs>`).

    Parameters
    ----------
    model : estimator
        A fitted :class:`~sklearn_hser.HierarchicalClassifier`, a fitted
        :class:`~sklearn_hser.threshold_tuning.TunedThresholdHierarchyCV`
        (its refitted hierarchy is evaluated), or any fitted classifier or
        pipeline (then the speech-only result is the model's own and there
        are no route counts).
    corpus : pandas.DataFrame
        Corpus frame in the form the model was fitted on (``audio``, ``text``
        ...), with the true classes in ``label_column``.
    label_column : str, default="label"
        Column of the true classes.

    Returns
    -------
    result : dict
        Plain JSON-ready values (``None`` where a value is undefined, never
        NaN):

        - ``model`` (class name), ``kind`` (``"hierarchy"`` or ``"flat"``),
          ``threshold`` (the hierarchy's threshold; None for plain argmax or
          a flat model), ``gate_labels`` (the hierarchy's gate, ``"flat"``,
          ``"all"`` or ``"collapsed"``; None for a flat model), ``n`` (samples),
          ``labels`` (the model's classes, paper order first: the rows and
          columns of the matrices).
        - ``UA``, ``WA``: unweighted accuracy (mean recall over the classes
          present in the corpus, as
          :func:`~sklearn.metrics.balanced_accuracy_score`) and accuracy.
        - ``per_class``: ``{label: {"precision", "recall", "f1", "support"}}``
          (precision None for a class never predicted, recall None for a
          class absent from the corpus).
        - ``confusion_matrix``: list of rows, true class by predicted class,
          in ``labels`` order.
        - ``speech_only_UA``, ``speech_only_WA``, ``speech_only_per_class``,
          ``speech_only_confusion_matrix``: the same for the speech-only
          result.
        - ``text_only_UA``, ``text_only_WA``: the hierarchy's text model
          alone (its most probable class for every sample); None for a flat
          model.
        - ``routes``: ``{"emotion_branch", "text_branch", "kept_neutral"}``
          sample counts (``kept_neutral``: samples of the text branch kept
          neutral by the threshold although the text model's argmax is an
          emotion), or None for a flat model.
        - ``note``: None, or why the speech-only result is the model's own.

    Raises
    ------
    ValueError
        If ``corpus`` is not a DataFrame, is empty, lacks ``label_column``, or
        holds labels that are not classes of the model (naming them).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.dummy import DummyClassifier
    >>> corpus = pd.DataFrame({"f": [0, 1, 2, 3],
    ...                        "label": ["sad", "sad", "angry", "neutral"]})
    >>> model = DummyClassifier().fit(corpus[["f"]], corpus["label"])
    >>> result = evaluate_model(model, corpus)
    >>> result["kind"], result["WA"], result["UA"]
    ('flat', 0.5, 0.3333333333333333)
    """
    check_is_fitted(model)
    y_true = _check_corpus(model, corpus, label_column)
    labels = ordered_labels(model.classes_)
    hierarchy = _hierarchy_of(model)
    if hierarchy is not None:
        outputs = hierarchy.outputs(corpus, proba=False)
        route = outputs.route()
        y_pred = route["prediction"].to_numpy()
        to_text = (route["branch"] == TEXT_BRANCH).to_numpy()
        speech_only = outputs.speech_only
        routes = {
            "emotion_branch": int(np.count_nonzero(~to_text)),
            "text_branch": int(np.count_nonzero(to_text)),
            "kept_neutral": int(route["kept_neutral"].sum()),
        }
        # The text model already ran on the text route; only the rest is left.
        text_only = np.array(route["text_prediction"], dtype=object)
        if (~to_text).any():
            rest = corpus.iloc[np.flatnonzero(~to_text)]
            text_only[~to_text] = hierarchy.text_.predict(rest)
        text_only = text_only.astype(hierarchy.classes_.dtype)
        threshold = hierarchy.threshold
        gate_labels = hierarchy.gate_labels
        note = None
    else:
        y_pred = np.asarray(model.predict(corpus))
        speech_only = y_pred
        routes = threshold = gate_labels = text_only = None
        note = (
            f"{type(model).__name__} is not a hierarchy: the speech-only result "
            "is the model's own, and there are no route counts"
        )
    result = {
        "model": type(model).__name__,
        "kind": "flat" if hierarchy is None else "hierarchy",
        "threshold": None if threshold is None else float(threshold),
        "gate_labels": gate_labels,
        "n": len(y_true),
        **scores_record(y_true, y_pred, labels=labels),
    }
    speech = scores_record(y_true, speech_only, labels=labels)
    del speech["labels"]
    result.update({f"speech_only_{key}": value for key, value in speech.items()})
    text = {"UA": None, "WA": None}
    if text_only is not None:
        text = scores_record(y_true, text_only, labels=labels)
    result.update({f"text_only_{key}": text[key] for key in ("UA", "WA")})
    result["routes"] = routes
    result["note"] = note
    return jsonable(result)  # None where a value is undefined, never NaN


def _fmt(value) -> str:
    return format_score(value, missing="-")


@validate_params({"result": [dict]}, prefer_skip_nested_validation=True)
def format_evaluation(result: dict) -> str:
    """Render a result of :func:`evaluate_model` as a plain-text report.

    Parameters
    ----------
    result : dict
        As returned by :func:`evaluate_model`.

    Returns
    -------
    text : str
        UA and WA of the system and of its speech-only result, route counts,
        per-class precision and recall (``-`` where undefined: a class never
        predicted, or absent from the corpus), and the confusion matrix.
    """
    threshold = result["threshold"]
    if result["kind"] == "flat":
        kind = "flat"
    elif threshold is None:
        kind = "hierarchy, no threshold: text argmax"
    else:
        kind = f"hierarchy, threshold {threshold:g}"
    gate = {
        "flat": "flat speech model as gate",
        "all": "four-class gate",
        "collapsed": "neutral/emotional gate",
    }
    if result.get("gate_labels") in gate:
        kind += f", {gate[result['gate_labels']]}"
    lines = [
        f"{result['model']} ({kind}) on {result['n']} samples",
        "",
        f"{'':<13}{'UA':>7}{'WA':>7}",
        f"{'system':<13}{_fmt(result['UA']):>7}{_fmt(result['WA']):>7}",
        f"{'speech only':<13}{_fmt(result['speech_only_UA']):>7}"
        f"{_fmt(result['speech_only_WA']):>7}",
        f"{'text only':<13}{_fmt(result.get('text_only_UA')):>7}"
        f"{_fmt(result.get('text_only_WA')):>7}",
        "",
    ]
    routes = result["routes"]
    if routes is not None:
        lines += [
            f"routes: {routes['emotion_branch']} to the emotion branch, "
            f"{routes['text_branch']} to the text branch "
            f"({routes['kept_neutral']} kept neutral by the threshold)",
            "",
        ]
    if result["note"]:
        lines += [f"note: {result['note']}", ""]
    table = pd.DataFrame(
        [
            [_fmt(s["precision"]), _fmt(s["recall"]), _fmt(s["f1"]), s["support"]]
            for s in result["per_class"].values()
        ],
        index=pd.Index(list(result["per_class"]), name="class"),
        columns=["precision", "recall", "f1", "support"],
    )
    lines += ["per class:", table.to_string(), ""]
    matrix = pd.DataFrame(
        result["confusion_matrix"], index=result["labels"], columns=result["labels"]
    )
    lines += ["confusion matrix (rows: true, columns: predicted):", matrix.to_string()]
    return "\n".join(lines)

"""Text emotion models trained on a text corpus, and the corpora they read.

The hierarchy's text branch only helps if its model knows emotional
language.  A speech corpus's own transcripts rarely teach it that (RAVDESS
and EmoDB repeat a few fixed sentences), so the text model can be fitted on
a separate text corpus, such as MELD's dialogue lines, and then used frozen.

* :func:`load_text_corpus` reads such a corpus into a DataFrame with
  ``text`` and ``label``.
* :data:`TEXT_MODELS` names the candidate text models; each builder returns
  an unfitted scikit-learn classifier that reads the ``text`` column of a
  DataFrame and has ``predict_proba`` over the four classes.
* :func:`fit_text_model` fits one of them on a corpus.

``docs/guide/text.md`` compares the candidates on MELD's dev and test splits
and says why :data:`DEFAULT_TEXT_MODEL` is the default.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from numbers import Integral
from pathlib import Path

import pandas as pd
from sklearn.utils._param_validation import StrOptions, validate_params

from ._finetuned_text import FineTunedTextClassifier, spoken_form
from .datasets.manifest import labelled_texts

__all__ = [
    "DEFAULT_TEXT_MODEL",
    "TEXT_CORPORA",
    "TEXT_MODELS",
    "FineTunedTextClassifier",
    "fit_text_model",
    "load_text_corpus",
    "spoken_form",
]

#: Text corpora :func:`load_text_corpus` reads.
TEXT_CORPORA = ("meld", "manifest")


# -- corpora --------------------------------------------------------------


def _check_text_frame(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Validate ``text``/``label`` and map labels to the four classes."""
    return labelled_texts(df, source)


@validate_params(
    {
        "name": [StrOptions(set(TEXT_CORPORA))],
        "root": [str, os.PathLike],
        "split": [StrOptions({"train", "dev", "test"}), None],
    },
    prefer_skip_nested_validation=True,
)
def load_text_corpus(name: str, root, *, split: str | None = None) -> pd.DataFrame:
    """Load a text corpus of emotion-labelled sentences.

    Parameters
    ----------
    name : {"meld", "manifest"}
        ``"meld"``: MELD's ``{train,dev,test}_sent_emo.csv`` with the
        four-class mapping of :func:`~sklearn_hser.datasets.load_meld`
        (neutral, joy -> happy, sadness -> sad, anger -> angry; the other
        emotions are dropped).  ``"manifest"``: any CSV file with the
        columns ``text`` and ``label`` (labels as
        :func:`~sklearn_hser.datasets.load_manifest` accepts them, e.g.
        ``joy``; no audio needed).
    root : str or path-like
        For ``"meld"`` the folder of the MELD csv files; for ``"manifest"``
        the CSV file.
    split : {"train", "dev", "test"}, default=None
        For ``"meld"``, the official split (``None``: ``"train"``).  For
        ``"manifest"``, keep only the rows whose ``split`` column has this
        value (``None``: every row).

    Returns
    -------
    df : pandas.DataFrame
        One row per sentence, RangeIndex, with ``text`` (stripped) and
        ``label`` (one of the four classes), then the source's other columns
        (for MELD: ``id``, ``speaker``, ``split``, ...).

    Raises
    ------
    ValueError
        If the source is missing, lacks ``text`` or ``label`` (or ``split``
        when one is asked for), has no rows, or has an empty text or an
        unknown label (naming the first such row).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> csv = pathlib.Path(tempfile.mkdtemp()) / "lines.csv"
    >>> _ = csv.write_text("text,label\\nI love it!,joy\\nLeave me alone.,anger\\n")
    >>> load_text_corpus("manifest", csv)[["text", "label"]].values.tolist()
    [['I love it!', 'happy'], ['Leave me alone.', 'angry']]
    """
    root = Path(root).expanduser()
    if name == "meld":
        from .datasets import load_meld

        split = split or "train"
        df = load_meld(root, splits=split)
        source = f"MELD {split} split in {root}"
    else:
        if not root.is_file():
            raise ValueError(f"text corpus {root} is not a file")
        try:
            df = pd.read_csv(root, dtype=str, keep_default_na=False)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read text corpus {root}: {exc}") from exc
        df.columns = [str(c).strip() for c in df.columns]
        source = f"text corpus {root}"
        if split is not None:
            if "split" not in df.columns:
                raise ValueError(
                    f"{source} has no 'split' column to select split={split!r} from"
                )
            df = df[df["split"].str.strip() == split]
            source = f"{source} (split {split!r})"
    out = _check_text_frame(df, source)
    front = ["text", "label"]
    return out[front + [c for c in out.columns if c not in front]]


# -- the registry ---------------------------------------------------------


def _logistic(class_weight, random_state):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=1.0, max_iter=2000, class_weight=class_weight, random_state=random_state
    )


def build_tfidf_lr(*, class_weight="balanced", random_state=0, **_):
    """TF-IDF of word 1-2 grams -> logistic regression (the baseline).

    Parameters
    ----------
    class_weight : {"balanced"} or None, default="balanced"
        Class weighting of the logistic regression.
    random_state : int, default=0
        Seed of the solver.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted; reads the ``text`` column of a DataFrame.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    return Pipeline(
        [
            ("text", ColumnTransformer([("tfidf", vectorizer, "text")])),
            ("clf", _logistic(class_weight, random_state)),
        ]
    )


def build_minilm_lr(
    *, class_weight="balanced", random_state=0, model_path=None, cache_dir=None, **_
):
    """Mean-pooled sentence embeddings of a frozen BERT-family model -> LR.

    The encoder is the packaged MiniLM-L6 unless ``model_path`` names
    another local model; token states of the last layer are averaged
    (:class:`~sklearn_hser.features.BertTokenEmbeddings` with
    ``pooling="mean"``), standardised, and classified by a logistic
    regression.

    Parameters
    ----------
    class_weight, random_state
        Of the logistic regression, as in :func:`build_tfidf_lr`.
    model_path : str or path-like, default=None
        Local BERT-family model folder (``None``: packaged MiniLM-L6).
    cache_dir : str or path-like, default=None
        Feature cache of the embeddings.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted; reads the ``text`` column of a DataFrame.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from .features import BertTokenEmbeddings

    return Pipeline(
        [
            (
                "embed",
                BertTokenEmbeddings(
                    model_path=model_path,
                    pooling="mean",
                    column="text",
                    cache_dir=cache_dir,
                ),
            ),
            ("scale", StandardScaler()),
            ("clf", _logistic(class_weight, random_state)),
        ]
    )


def build_minilm_ft(
    *, class_weight="balanced", random_state=0, model_path=None, **params
):
    """MiniLM (or another local BERT) fine-tuned end to end with a linear head.

    Parameters
    ----------
    class_weight : {"balanced"} or None, default="balanced"
        Class weighting of the loss.
    random_state : int, default=0
        Seed.
    model_path : str or path-like, default=None
        Local BERT-family model folder (``None``: packaged MiniLM-L6).
    **params
        Other :class:`FineTunedTextClassifier` parameters (``lr``, ...);
        unknown keys are ignored.  ``max_epochs`` defaults to 1 here, which
        keeps fine-tuning on MELD's train split within CPU reach.

    Returns
    -------
    FineTunedTextClassifier
        Unfitted.
    """
    known = FineTunedTextClassifier().get_params()
    extra = {k: v for k, v in params.items() if k in known and k != "cache_dir"}
    extra.setdefault("max_epochs", 1)
    return FineTunedTextClassifier(
        model_path=model_path,
        class_weight=class_weight,
        random_state=random_state,
        **extra,
    )


def build_bert_lstm(*, random_state=0, model_path=None, cache_dir=None, **_):
    """The paper's text model: BERT token embeddings -> LSTM -> 2 FC layers.

    Built by :func:`sklearn_hser.systems.build_text_model` with the study's
    settings (its class weighting is always ``"balanced"``).

    Parameters
    ----------
    random_state : int, default=0
        Seed.
    model_path : str or path-like, default=None
        Local BERT-family model folder (``None``: packaged MiniLM-L6).
    cache_dir : str or path-like, default=None
        Feature cache of the token embeddings.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted.
    """
    from .systems import ExperimentConfig, build_text_model

    config = ExperimentConfig(random_state=random_state, bert_path=model_path)
    return build_text_model(config, cache_dir)


#: Name -> builder of an unfitted text model.  Every builder takes the
#: keyword arguments ``class_weight``, ``random_state``, ``model_path`` and
#: ``cache_dir`` (ignoring those it has no use for).
TEXT_MODELS: dict[str, Callable] = {
    "tfidf-lr": build_tfidf_lr,
    "minilm-lr": build_minilm_lr,
    "minilm-ft": build_minilm_ft,
    "bert-lstm": build_bert_lstm,
}

#: The text model :func:`fit_text_model` fits unless told otherwise, chosen
#: on MELD's dev split (``docs/guide/text.md``).
DEFAULT_TEXT_MODEL = "minilm-ft"


@validate_params(
    {
        "corpus": [pd.DataFrame],
        "kind": [StrOptions(set(TEXT_MODELS))],
        "random_state": [Integral],
        "class_weight": [StrOptions({"balanced"}), None],
        "model_path": [str, os.PathLike, None],
        "cache_dir": [str, os.PathLike, None],
    },
    prefer_skip_nested_validation=True,
)
def fit_text_model(
    corpus,
    kind: str = DEFAULT_TEXT_MODEL,
    random_state: int = 0,
    *,
    class_weight: str | None = "balanced",
    model_path=None,
    cache_dir=None,
):
    """Fit a text emotion model on a text corpus.

    Parameters
    ----------
    corpus : pandas.DataFrame
        Sentences with ``text`` and ``label`` (e.g. from
        :func:`load_text_corpus`); labels are mapped to the four classes.
    kind : str, default=DEFAULT_TEXT_MODEL
        A key of :data:`TEXT_MODELS`.
    random_state : int, default=0
        Seed of the model.
    class_weight : {"balanced"} or None, default="balanced"
        Weigh classes inversely to their frequency (``None``: every sentence
        alike).  ``"bert-lstm"`` always weighs them.
    model_path : str or path-like, default=None
        Local BERT-family model for the models that use one (``None``: the
        packaged MiniLM-L6).
    cache_dir : str or path-like, default=None
        Feature cache for the models with frozen embeddings.

    Returns
    -------
    estimator
        The fitted model: ``predict_proba`` on a DataFrame with a ``text``
        column, ``classes_`` a subset of ``("neutral", "happy", "sad",
        "angry")``.

    Raises
    ------
    ValueError
        If the corpus lacks ``text`` or ``label``, has an empty text or an
        unknown label, or holds fewer than two classes.
    """
    corpus = _check_text_frame(corpus, "the text corpus")
    if corpus["label"].nunique() < 2:
        raise ValueError("the text corpus needs at least two classes")
    model = TEXT_MODELS[kind](
        class_weight=class_weight,
        random_state=random_state,
        model_path=model_path,
        cache_dir=cache_dir,
    )
    return model.fit(corpus[["text"]], corpus["label"].to_numpy())

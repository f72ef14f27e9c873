"""LSTM classifier over fixed-length features or variable-length sequences.

The paper's speech (MFCC, handcrafted, GeMAPS) and text (BERT token
embeddings) models: an LSTM followed by two fully connected layers, trained
with Adam on the cross-entropy.  :class:`LSTMClassifier` is a thin
scikit-learn estimator that builds and owns a skorch ``NeuralNetClassifier``
in ``fit``; the torch module is :class:`LSTMModule`.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .._sequences import check_sequence_array, make_sequence_array
from ._base import SkorchClassifierBase, WeightedLossNet, split_weights
from ._training import torch_threads

__all__ = ["LSTMClassifier", "LSTMModule", "collate_frames"]


class LSTMModule(nn.Module):
    """LSTM encoder and a two-layer fully connected head.

    Parameters
    ----------
    input_size : int
        Width ``d`` of each frame.
    n_classes : int
        Number of output logits.
    hidden_size, num_layers, bidirectional, dropout, fc_size, pooling
        See :class:`LSTMClassifier`, which holds their defaults.

    Notes
    -----
    ``forward(x, lengths)`` takes a right-padded batch ``x`` of shape
    ``(batch, time, d)`` and the true ``lengths``; sequences are packed with
    :func:`torch.nn.utils.rnn.pack_padded_sequence` so that the final hidden
    state of each one is taken at its own last frame and padded frames never
    enter the computation.  With ``bidirectional=True`` the final states of
    the forward and the backward direction of the last layer are concatenated.
    With ``pooling="mean"`` the last layer's outputs are averaged over each
    sequence's true frames instead of taking its final state.
    """

    def __init__(
        self,
        input_size,
        n_classes,
        *,
        hidden_size,
        num_layers,
        bidirectional,
        dropout,
        fc_size,
        pooling,
    ):
        super().__init__()
        self.bidirectional = bidirectional
        self.pooling = pooling
        self.lstm = nn.LSTM(
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            # torch applies this between stacked layers only (and warns
            # when there is a single layer).
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        encoded = hidden_size * (2 if bidirectional else 1)
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(encoded, fc_size)
        self.fc2 = nn.Linear(fc_size, n_classes)

    def encode(self, x, lengths):
        """The sequence encoding, ``(batch, encoded)``: the last LSTM layer's
        final hidden state, or its outputs' mean over the true frames."""
        lengths = lengths.to("cpu", torch.int64)
        if self.pooling == "mean":
            return self._mean_output(x, lengths)
        if bool((lengths == x.shape[1]).all()):
            _, (h_n, _) = self.lstm(x)  # nothing is padded
        else:
            packed = pack_padded_sequence(
                x, lengths, batch_first=True, enforce_sorted=False
            )
            _, (h_n, _) = self.lstm(packed)
        if self.bidirectional:
            return torch.cat([h_n[-2], h_n[-1]], dim=1)
        return h_n[-1]

    def _mean_output(self, x, lengths):
        packed = pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        outputs, _ = pad_packed_sequence(
            self.lstm(packed)[0], batch_first=True, total_length=x.shape[1]
        )
        # Padded steps come back as zeros; divide by the true lengths only.
        counts = lengths.to(device=outputs.device, dtype=outputs.dtype)
        return outputs.sum(dim=1) / counts[:, None]

    def forward(self, x, lengths):
        z = self.dropout(self.encode(x, lengths))
        z = self.dropout(torch.relu(self.fc1(z)))
        return self.fc2(z)


def collate_frames(batch):
    """Collate ``(frames, target)`` items into a padded batch with lengths.

    Items are 1-D feature vectors (read as one-frame sequences) or 2-D
    ``(t_i, d)`` arrays.  Returns ``({"x": (B, T, d), "lengths": (B,)}, y)``,
    with a ``"sample_weight"`` entry too when the fit is weighted.
    """
    frames, targets, weights = split_weights(batch)
    frames = [np.asarray(f, dtype=np.float32) for f in frames]
    if all(f.ndim == 1 for f in frames):
        x = torch.from_numpy(np.stack(frames)[:, None, :])
        lengths = torch.ones(len(frames), dtype=torch.int64)
    else:
        frames = [f.reshape(-1, f.shape[-1]) for f in frames]
        lengths_np = np.array([len(f) for f in frames], dtype=np.int64)
        padded = np.zeros(
            (len(frames), int(lengths_np.max()), frames[0].shape[1]), dtype=np.float32
        )
        for i, f in enumerate(frames):
            padded[i, : len(f)] = f
        x = torch.from_numpy(padded)
        lengths = torch.from_numpy(lengths_np)
    y = torch.utils.data.default_collate(list(targets))
    out = {"x": x, "lengths": lengths}
    if weights is not None:
        out["sample_weight"] = weights
    return out, y


def _is_sequence_input(X) -> bool:
    """Whether ``X`` is a sequence batch rather than a feature matrix."""
    if isinstance(X, np.ndarray):
        return X.dtype == object and X.ndim == 1
    if isinstance(X, (list, tuple)):
        return len(X) > 0 and np.ndim(X[0]) == 2
    try:  # a pandas Series of (t, d) arrays
        import pandas as pd
    except ImportError:  # pragma: no cover
        return False
    return isinstance(X, pd.Series) and X.dtype == object


class LSTMClassifier(SkorchClassifierBase):
    """LSTM followed by two fully connected layers (skorch, PyTorch).

    Accepts two forms of ``X``:

    * **fixed-length features**, a 2-D array ``(n_samples, d)``: each row is
      fed to the LSTM as a *one-step sequence*.  This is how the paper runs an
      LSTM over utterance-level features (the 39-dim mean MFCC, the 8
      handcrafted features, the GeMAPS functionals): the LSTM then acts as a
      gated non-linear layer in front of the fully connected head.
    * **sequences**, a 1-D object array of ``(t_i, d)`` float arrays (see
      :mod:`sklearn_hser._sequences`), e.g. MFCC frames or BERT token
      embeddings.  Each mini-batch is right-padded to its longest sequence
      and packed with the true lengths, so the prediction for a sequence does
      not depend on what else is in its batch.

    The network is LSTM (``hidden_size``, ``num_layers``, ``bidirectional``)
    -> final hidden state of the last layer (both directions concatenated if
    bidirectional), or with ``pooling="mean"`` the mean of its outputs over
    the true frames -> dropout -> Linear(``fc_size``) -> ReLU -> dropout ->
    Linear(n_classes).  It is trained with Adam on the cross-entropy.

    Parameters
    ----------
    hidden_size : int, default=128
        LSTM hidden units (per direction).
    num_layers : int, default=1
        Stacked LSTM layers.
    bidirectional : bool, default=False
        Whether the LSTM also reads the sequences backwards.
    dropout : float, default=0.0
        Dropout between stacked LSTM layers, on the LSTM's final state and
        after the first fully connected layer.
    fc_size : int, default=64
        Units of the first fully connected layer.
    pooling : {"last", "mean"}, default="last"
        How a sequence becomes one vector: the LSTM's final hidden state (the
        paper's choice), or the mean of the LSTM's outputs over the sequence's
        frames, which keeps more of a long sequence (hundreds of encoder
        frames). The same for one-step inputs (fixed-length features).
    lr : float, default=1e-3
        Adam learning rate.
    weight_decay : float, default=0.0
        Adam's L2 penalty.
    batch_size : int, default=64
        Mini-batch size (the paper's 64), also used for prediction.
    max_epochs : int, default=50
        Maximum number of passes over the training data.
    validation_fraction : float or None, default=0.1
        Share of the training data held out (stratified, via skorch's
        ``ValidSplit``) to monitor the validation loss for early stopping.
        ``None`` trains on all data for ``max_epochs`` epochs.
    patience : int, default=5
        Epochs without improvement of the validation loss before training
        stops; the weights of the best epoch are then restored.  Unused when
        ``validation_fraction=None``.
    class_weight : "balanced", dict or None, default=None
        Weights of the classes in the cross-entropy: ``"balanced"`` gives
        ``n_samples / (n_classes * count(class))``; a dict maps class labels
        to weights (missing classes weigh 1); ``None`` weighs all classes 1.
    standardize : bool, default=True
        Standardize each feature by the mean and standard deviation over all
        training frames (raw MFCC and GeMAPS values differ in scale by orders
        of magnitude); the same statistics are applied at prediction.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, dropout, shuffling and the
        validation split; two fits with the same int give identical
        predictions.  The global torch RNG is left as it was (the fit runs
        in :func:`torch.random.fork_rng`).  ``None`` uses torch's global RNG.
    device : str, default="cpu"
        Torch device; ``"cuda"`` raises a ValueError when CUDA is unavailable.
    torch_threads : int or None, default=None
        Threads torch computes with on the CPU while this estimator fits and
        predicts (``torch.set_num_threads``, restored afterwards); ``None``
        keeps torch's current setting (by default, every core). A network of
        this size on a few hundred utterances runs faster on one thread: its
        operations are too small to share, and the threads waste time
        waiting for each other, the more so when other processes load the
        machine. The weights may differ from another thread count's in the
        last bits of float32, as from another machine's.
    verbose : int, default=0
        skorch's per-epoch log when positive.
    callbacks : list of skorch callbacks or (name, callback) pairs, default=None
        Added to the network's own (early stopping, progress), e.g.
        ``[skorch.callbacks.LRScheduler(policy="StepLR", step_size=10)]``.
    net_params : dict, default=None
        Parameters of the skorch ``NeuralNetClassifier``, in skorch's naming
        (``{"optimizer__betas": (0.9, 0.98), "iterator_train__num_workers":
        2}``); they override the settings above. Also settable one by one
        with a ``net__`` prefix: ``set_params(net__lr=1e-2)``, or a
        ``GridSearchCV`` grid over ``"net__lr"``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (any labels :class:`~sklearn.preprocessing.LabelEncoder`
        takes, e.g. strings).
    n_features_in_ : int
        Width of a frame (columns of a 2-D ``X``).
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names, when fitted on a DataFrame with string column names.
    mean_, scale_ : ndarray of shape (``n_features_in_``,) or None
        Standardization statistics (``None`` when ``standardize=False``).
    net_ : skorch.NeuralNetClassifier
        The trained network.
    history_ : skorch.History
        Per-epoch losses (``net_.history``).
    n_iter_ : int
        Number of epochs run.

    Notes
    -----
    Training runs with torch's current thread settings unless
    ``torch_threads`` is given, and then only while it fits or predicts.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hser.models import LSTMClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5)).astype("float32")
    >>> y = np.where(X[:, 0] > 0, "happy", "sad")
    >>> clf = LSTMClassifier(hidden_size=8, fc_size=8, max_epochs=5,
    ...                      validation_fraction=None, random_state=0)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **SkorchClassifierBase._base_constraints,
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "fc_size": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"last", "mean"})],
        "standardize": ["boolean"],
        "torch_threads": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        hidden_size=128,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        fc_size=64,
        pooling="last",
        lr=1e-3,
        weight_decay=0.0,
        batch_size=64,
        max_epochs=50,
        validation_fraction=0.1,
        patience=5,
        class_weight=None,
        standardize=True,
        random_state=None,
        device="cpu",
        torch_threads=None,
        verbose=0,
        callbacks=None,
        net_params=None,
    ):
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.fc_size = fc_size
        self.pooling = pooling
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.class_weight = class_weight
        self.standardize = standardize
        self.random_state = random_state
        self.device = device
        self.torch_threads = torch_threads
        self.verbose = verbose
        self.callbacks = callbacks
        self.net_params = net_params

    # -- data ---------------------------------------------------------------
    def _check_X(self, X, *, reset: bool):
        """Return ``(X, is_sequence)`` with X float32 and validated."""
        if _is_sequence_input(X):
            seqs = check_sequence_array(X)
            width = seqs[0].shape[1]
            if reset:
                self.n_features_in_ = width
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
            elif width != self.n_features_in_:
                raise ValueError(
                    f"X has {width} features, but {type(self).__name__} is "
                    f"expecting {self.n_features_in_} features as input."
                )
            return seqs, True
        X = validate_data(self, X, reset=reset, dtype=np.float32)
        return X, False

    def _standardize(self, X, is_sequence: bool):
        if self.mean_ is None:
            return X
        if is_sequence:
            return make_sequence_array((s - self.mean_) / self.scale_ for s in X)
        return ((X - self.mean_) / self.scale_).astype(np.float32)

    def _fit_scaler(self, X, is_sequence: bool) -> None:
        if not self.standardize:
            self.mean_ = self.scale_ = None
            return
        frames = X if is_sequence else [X]
        count = sum(len(f) for f in frames)
        total = sum(f.sum(axis=0, dtype=np.float64) for f in frames)
        mean = total / count
        sq = sum(((f - mean) ** 2).sum(axis=0, dtype=np.float64) for f in frames)
        std = np.sqrt(sq / count)
        # Constant features keep their (centred) values, as in StandardScaler.
        std[std < 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))] = 1.0
        self.mean_ = mean.astype(np.float32)
        self.scale_ = std.astype(np.float32)

    # -- estimator API ------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or sequence batch
            Fixed-length features, or a 1-D object array (or list) of
            ``(t_i, n_features)`` arrays.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the cross-entropy (on top of
            ``class_weight``).

        Returns
        -------
        self : LSTMClassifier
        """
        if _is_sequence_input(X):
            X, is_sequence = self._check_X(X, reset=True)
            y = self._check_y(X, y)
        else:
            X, y = validate_data(self, X, y, dtype=np.float32)
            is_sequence = False
        y_encoded = self._encode_targets(y)
        self._fit_scaler(X, is_sequence)
        with torch_threads(self.torch_threads):
            return self._train(
                WeightedLossNet,
                self._standardize(X, is_sequence),
                y,
                y_encoded,
                sample_weight,
                module=LSTMModule,
                module__input_size=self.n_features_in_,
                module__n_classes=len(self.classes_),
                module__hidden_size=self.hidden_size,
                module__num_layers=self.num_layers,
                module__bidirectional=self.bidirectional,
                module__dropout=self.dropout,
                module__fc_size=self.fc_size,
                module__pooling=self.pooling,
                optimizer=torch.optim.Adam,
                optimizer__weight_decay=self.weight_decay,
                lr=self.lr,
                batch_size=self.batch_size,
                max_epochs=self.max_epochs,
                iterator_train__collate_fn=collate_frames,
                iterator_valid__collate_fn=collate_frames,
            )

    def predict_proba(self, X):
        """Class probabilities, ``(n_samples, n_classes)``; rows sum to 1.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or sequence batch
            Samples, in the form used in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "net_")
        X, is_sequence = self._check_X(X, reset=False)
        with torch_threads(self.torch_threads):
            proba = self.net_.predict_proba(self._standardize(X, is_sequence))
        return self._normalized(proba)

"""Training set-up shared by the skorch-based classifiers.

Device resolution, RNG forking on CUDA, the stratified internal validation
split with early stopping, and class weights: the same for
:class:`~sklearn_hser.models.LSTMClassifier` and
:class:`~sklearn_hser.models.Wav2Vec2Classifier`.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight
from skorch.callbacks import Callback, EarlyStopping
from skorch.dataset import ValidSplit


def _resolve_device(device) -> torch.device:
    """Return ``torch.device(device)``, failing clearly when CUDA is absent."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"Invalid device {device!r}: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available to this "
            "torch build/machine; use device='cpu'."
        )
    return resolved


def _rng_devices(device: torch.device) -> list:
    """CUDA devices whose RNG must be forked together with the CPU one."""
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def _check_validation_split(estimator, y_encoded, fraction) -> None:
    """Raise a clear error when a stratified split of this size is impossible."""
    counts = np.bincount(y_encoded)
    n_samples, n_classes = len(y_encoded), len(counts)
    n_valid = math.ceil(fraction * n_samples)
    if counts.min() < 2 or n_valid < n_classes or n_samples - n_valid < n_classes:
        raise ValueError(
            f"{type(estimator).__name__}: cannot hold out a stratified "
            f"validation_fraction={fraction} of {n_samples} samples with "
            f"{n_classes} classes (smallest class: {counts.min()} samples). Use "
            "more data, a larger fraction, or validation_fraction=None to "
            "disable the internal validation split and early stopping."
        )


def fit_seeded(net, X, y, *, device, seed: int, seeded: bool):
    """Fit a skorch net, seeding torch inside a forked RNG when ``seeded``.

    The fork leaves the caller's global torch RNG as it was, so a seeded fit
    neither depends on nor disturbs other random draws.
    """
    with torch.random.fork_rng(devices=_rng_devices(device), enabled=seeded):
        if seeded:
            torch.manual_seed(seed)
        net.fit(X, y)


@contextlib.contextmanager
def torch_threads(n_threads):
    """Run the block with torch on ``n_threads`` threads, then restore them.

    ``None`` leaves torch's setting alone. The setting is the process's: a
    thread that runs torch at the same time sees it too.
    """
    if n_threads is None:
        yield
        return
    before = torch.get_num_threads()
    if before == n_threads:
        yield
        return
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def validation_and_early_stopping(estimator, y_encoded, seed: int):
    """skorch ``train_split`` and callbacks for ``validation_fraction``.

    Returns ``(None, [])`` when the estimator's ``validation_fraction`` is
    None; otherwise a seeded stratified split and early stopping on the
    validation loss that restores the best epoch's weights.
    """
    fraction = estimator.validation_fraction
    if fraction is None:
        return None, []
    _check_validation_split(estimator, y_encoded, fraction)
    split = ValidSplit(fraction, stratified=True, random_state=seed)
    stopping = EarlyStopping(
        monitor="valid_loss", patience=estimator.patience, load_best=True
    )
    return split, [("early_stopping", stopping)]


def class_weight_tensor(class_weight, classes, y):
    """Cross-entropy class weights as a float32 tensor, or None."""
    if class_weight is None:
        return None
    weights = compute_class_weight(class_weight, classes=classes, y=y)
    return torch.as_tensor(weights, dtype=torch.float32)


class EpochProgress(Callback):
    """An epoch-level progress bar (shown when the package's progress is on).

    Parameters
    ----------
    description : str
        Label of the bar.
    """

    def __init__(self, description="training"):
        self.description = description

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        import logging

        from .._config import progress_bar

        # One network of many: its lines are details (hser -v).
        self.bar_ = progress_bar(net.max_epochs, self.description, level=logging.DEBUG)

    def on_epoch_end(self, net, **kwargs):
        last = net.history[-1]
        loss = last.get("valid_loss", last.get("train_loss"))
        if loss is not None:
            self.bar_.set_postfix(loss=f"{loss:.3f}", refresh=False)
        self.bar_.update()

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self.bar_.close()

    def __getstate__(self):
        # A live tqdm bar does not pickle; the bar only exists during fit.
        state = dict(self.__dict__)
        state.pop("bar_", None)
        return state

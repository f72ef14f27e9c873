"""Tests of sklearn_hser.models.LSTMClassifier."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_hser._sequences import make_sequence_array
from sklearn_hser.models import LSTMClassifier
from sklearn_hser.models.lstm import LSTMModule, collate_frames

#: Small and fast, yet enough to pass the accuracy checks of sklearn's suite.
FAST = dict(hidden_size=8, fc_size=8, max_epochs=20, lr=1e-2, validation_fraction=None)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # Tiny networks run faster on one thread, and much faster than on two
    # busy ones; the estimator changes torch's setting only when told to
    # (torch_threads).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _blobs(n=200, d=5, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = rng.normal(0, 3, (3, d))
    X = (centres[y] + rng.normal(0, 1, (n, d))).astype(np.float32)
    return X, np.array(["angry", "happy", "sad"])[y]


def _sequences(n=160, d=3, seed=0):
    """Class = sign of the mean of feature 0; lengths 2 to 15 frames."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    seqs = []
    for label in y:
        t = int(rng.integers(2, 16))
        frames = rng.normal(0, 1, (t, d))
        frames[:, 0] += 1.0 if label else -1.0
        seqs.append(frames * 50.0 + 100.0)  # raw scale: needs standardize
    return make_sequence_array(seqs), y


#: Mini-batch training on shuffled data: a weight of 2 is not the same as a
#: repeated sample (sklearn expects the same failure of its MLPClassifier).
WEIGHT_EQUIVALENCE = {
    "check_sample_weight_equivalence_on_dense_data": (
        "stochastic mini-batch training: weights are not repetitions"
    )
}


@parametrize_with_checks(
    [LSTMClassifier(**FAST, random_state=0)],
    expected_failed_checks=lambda estimator: WEIGHT_EQUIVALENCE,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_learns_fixed_vectors():
    X, y = _blobs()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0, stratify=y)
    clf = LSTMClassifier(**FAST, random_state=0).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) > 0.9
    assert set(clf.classes_) == {"angry", "happy", "sad"}
    assert clf.n_features_in_ == 5
    assert clf.n_iter_ == FAST["max_epochs"]
    proba = clf.predict_proba(X_te)
    assert proba.shape == (len(X_te), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


def test_learns_sequences():
    X, y = _sequences()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0, stratify=y)
    clf = LSTMClassifier(**{**FAST, "hidden_size": 16}, random_state=0)
    clf.fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) > 0.85
    # A plain list of (t, d) arrays is a sequence batch too.
    np.testing.assert_array_equal(clf.predict(list(X_te)), clf.predict(X_te))


def test_standardizes_over_all_frames():
    X, y = _sequences(n=30)
    clf = LSTMClassifier(**{**FAST, "max_epochs": 1}).fit(X, y)
    frames = np.concatenate(list(X))
    np.testing.assert_allclose(clf.mean_, frames.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(clf.scale_, frames.std(axis=0), rtol=1e-5)
    raw = LSTMClassifier(**{**FAST, "max_epochs": 1}, standardize=False).fit(X, y)
    assert raw.mean_ is None and raw.scale_ is None


def test_rows_are_one_step_sequences():
    X, y = _blobs(n=60)
    clf = LSTMClassifier(**FAST, random_state=0).fit(X, y)
    as_sequences = make_sequence_array(row[None, :] for row in X)
    np.testing.assert_allclose(
        clf.predict_proba(X), clf.predict_proba(as_sequences), atol=1e-6
    )


@pytest.mark.parametrize("pooling", ["last", "mean"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_never_leaks(bidirectional, pooling):
    X, y = _sequences(n=40)
    clf = LSTMClassifier(
        **FAST,
        num_layers=2,
        bidirectional=bidirectional,
        pooling=pooling,
        random_state=0,
    ).fit(X, y)
    short = X[np.argmin([len(s) for s in X])]
    rng = np.random.default_rng(1)
    longer = [rng.normal(0, 1, (40 + 10 * i, 3)).astype(np.float32) for i in range(3)]
    alone = clf.predict_proba(make_sequence_array([short]))
    in_batch = clf.predict_proba(make_sequence_array([short, *longer]))
    np.testing.assert_allclose(alone[0], in_batch[0], atol=1e-6)

    # Whatever the padded frames hold, the module's output is unchanged.
    module = clf.net_.module_.eval()
    batch, _ = collate_frames([(s, 0) for s in [short, *longer]])
    noisy = batch["x"].clone()
    noisy[0, len(short) :] = 1e3 * torch.randn_like(noisy[0, len(short) :])
    with torch.no_grad():
        clean_out = module(batch["x"], batch["lengths"])
        noisy_out = module(noisy, batch["lengths"])
    torch.testing.assert_close(clean_out, noisy_out)


def _small_module(**architecture):
    """An LSTMModule of hidden size 4 over 2-dim frames: one LSTM layer, no
    dropout, the final state, unless ``architecture`` says otherwise."""
    settings = dict(num_layers=1, bidirectional=False, dropout=0.0, pooling="last")
    return LSTMModule(2, 2, hidden_size=4, fc_size=3, **{**settings, **architecture})


def test_module_takes_final_state_of_each_direction():
    torch.manual_seed(0)
    module = _small_module(bidirectional=True)
    x = torch.randn(1, 5, 2)
    encoded = module.encode(x, torch.tensor([5]))
    out, _ = module.lstm(x)
    # forward direction: last frame; backward direction: first frame
    torch.testing.assert_close(encoded[0, :4], out[0, -1, :4])
    torch.testing.assert_close(encoded[0, 4:], out[0, 0, 4:])


def test_mean_pooling_averages_the_outputs_over_true_frames():
    torch.manual_seed(0)
    module = _small_module(pooling="mean")
    x = torch.randn(2, 6, 2)
    encoded = module.encode(x, torch.tensor([6, 3]))
    with torch.no_grad():
        full, _ = module.lstm(x[:1])
        short, _ = module.lstm(x[1:, :3])
    torch.testing.assert_close(encoded[0], full[0].mean(dim=0))
    torch.testing.assert_close(encoded[1], short[0].mean(dim=0))


def test_mean_pooling_equals_last_state_on_one_step_inputs():
    X, y = _blobs(n=60)
    last = LSTMClassifier(**FAST, random_state=0).fit(X, y)
    mean = LSTMClassifier(**FAST, pooling="mean", random_state=0).fit(X, y)
    np.testing.assert_allclose(last.predict_proba(X), mean.predict_proba(X), atol=1e-5)


def test_reproducible_with_random_state():
    X, y = _sequences(n=40)
    params = dict(FAST, max_epochs=5, dropout=0.3, validation_fraction=0.25)
    state = torch.get_rng_state()
    a = LSTMClassifier(**params, random_state=3).fit(X, y)
    b = LSTMClassifier(**params, random_state=3).fit(X, y)
    c = LSTMClassifier(**params, random_state=4).fit(X, y)
    # Seeded fits leave the global torch RNG as it was.
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X))


def test_clone_and_pickle_round_trip():
    X, y = _sequences(n=40)
    clf = LSTMClassifier(**FAST, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    copy = clone(clf)
    assert not hasattr(copy, "net_")
    assert copy.get_params() == clf.get_params()
    np.testing.assert_array_equal(copy.fit(X, y).predict_proba(X), clf.predict_proba(X))


def test_pipeline_and_grid_search_in_parallel():
    X, y = _blobs(n=80)
    pipe = make_pipeline(StandardScaler(), LSTMClassifier(**FAST, random_state=0))
    assert pipe.fit(X, y).score(X, y) > 0.9

    seqs, labels = _sequences(n=60)
    search = GridSearchCV(
        LSTMClassifier(**{**FAST, "max_epochs": 10}, random_state=0),
        {"hidden_size": [4, 8]},
        cv=2,
        n_jobs=2,
    ).fit(seqs, labels)
    assert search.best_params_["hidden_size"] in (4, 8)
    assert search.predict(seqs[:5]).shape == (5,)


def test_class_weight_sets_criterion_weights():
    X, y = _blobs(n=60)
    y = np.where(np.arange(60) < 45, "neutral", y)  # imbalanced
    clf = LSTMClassifier(**{**FAST, "max_epochs": 1}, class_weight="balanced")
    weight = clf.fit(X, y).net_.criterion_.weight
    expected = compute_class_weight("balanced", classes=clf.classes_, y=y)
    np.testing.assert_allclose(weight.numpy(), expected, rtol=1e-6)
    assert (
        LSTMClassifier(**{**FAST, "max_epochs": 1}).fit(X, y).net_.criterion_.weight
        is None
    )
    as_dict = LSTMClassifier(**{**FAST, "max_epochs": 1}, class_weight={"neutral": 0.5})
    np.testing.assert_allclose(
        as_dict.fit(X, y).net_.criterion_.weight.numpy(),
        [1.0 if c != "neutral" else 0.5 for c in clf.classes_],
    )


def test_early_stopping_on_validation_plateau():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4)).astype(np.float32)
    y = rng.integers(0, 2, 80)  # no signal: the validation loss soon stops improving
    clf = LSTMClassifier(
        hidden_size=16, fc_size=16, lr=5e-2, max_epochs=60, patience=3, random_state=0
    ).fit(X, y)
    assert clf.n_iter_ < 60
    assert "valid_loss" in clf.history_[-1]
    # Training stopped `patience` epochs after the last real improvement.
    best = int(np.argmin(clf.history_[:, "valid_loss"]))
    assert clf.n_iter_ - 1 - best <= 3


def test_errors():
    X, y = _blobs(n=30)
    clf = LSTMClassifier(**{**FAST, "max_epochs": 1})
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(bad, y)
    seqs, labels = _sequences(n=10)
    bad_seqs = seqs.copy()
    bad_seqs[3] = np.full((4, 3), np.inf, dtype=np.float32)
    with pytest.raises(ValueError, match="NaN or infinity"):
        clf.fit(bad_seqs, labels)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(X, np.full(len(X), "sad"))

    clf.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="features"):
        clf.predict(make_sequence_array([np.zeros((4, 3))]))

    with pytest.raises(ValueError, match="validation_fraction=None"):
        LSTMClassifier(validation_fraction=0.1).fit(X[:8], y[:8])
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            LSTMClassifier(device="cuda").fit(X, y)


def test_sample_weight_enters_the_loss():
    X, y = _blobs(120)
    params = {**FAST, "max_epochs": 3}
    plain = LSTMClassifier(**params, random_state=0).fit(X, y)
    ones = LSTMClassifier(**params, random_state=0).fit(
        X, y, sample_weight=np.ones(len(y))
    )
    # Weights of one: the same training as none.
    np.testing.assert_allclose(plain.predict_proba(X), ones.predict_proba(X), atol=1e-5)
    # Zero weight on a class: the net stops learning it.
    w = np.where(y == y[0], 0.0, 1.0)
    skewed = LSTMClassifier(**params, random_state=0).fit(X, y, sample_weight=w)
    column = list(skewed.classes_).index(y[0])
    assert (
        skewed.predict_proba(X)[:, column].mean()
        < plain.predict_proba(X)[:, column].mean()
    )


def test_net_params_and_callbacks_reach_skorch():
    from sklearn.base import clone
    from skorch.callbacks import Callback

    class Count(Callback):
        def initialize(self):
            self.epochs_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs_ += 1

    X, y = _blobs(60)
    clf = LSTMClassifier(**{**FAST, "max_epochs": 2}, callbacks=[("count", Count())])
    clf.set_params(net__lr=0.5, net__optimizer__betas=(0.8, 0.9))
    assert clf.get_params()["net__lr"] == 0.5
    assert clone(clf).net_params == {"lr": 0.5, "optimizer__betas": (0.8, 0.9)}
    clf.fit(X, y)
    assert clf.net_.lr == 0.5
    assert clf.net_.optimizer_.param_groups[0]["betas"] == (0.8, 0.9)
    assert dict(clf.net_.callbacks_)["count"].epochs_ == 2


def test_grid_search_over_net_params():
    from sklearn.model_selection import GridSearchCV

    X, y = _blobs(60)
    grid = GridSearchCV(
        LSTMClassifier(**{**FAST, "max_epochs": 1}), {"net__lr": [1e-3, 1e-2]}, cv=2
    ).fit(X, y)
    assert grid.best_estimator_.net_.lr in (1e-3, 1e-2)
    assert list(grid.cv_results_["param_net__lr"]) == [1e-3, 1e-2]


def test_torch_threads_hold_while_it_fits_and_predicts_only():
    from skorch.callbacks import Callback

    class Threads(Callback):
        def on_epoch_end(self, net, **kwargs):
            seen.append(torch.get_num_threads())

    X, y = _blobs()
    seen = []
    torch.set_num_threads(2)
    try:
        clf = LSTMClassifier(
            **{**FAST, "max_epochs": 2}, torch_threads=1, callbacks=[Threads()]
        ).fit(X, y)
        assert seen == [1, 1]
        assert torch.get_num_threads() == 2
        proba = clf.predict_proba(X)
        assert torch.get_num_threads() == 2
        # The thread count changes speed, not the numbers.
        clf.set_params(torch_threads=None)
        np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-5)
    finally:
        torch.set_num_threads(1)
    with pytest.raises(ValueError, match="torch_threads"):
        LSTMClassifier(**FAST, torch_threads=0).fit(X, y)

"""VoiceFamiliarity: a conformal familiarity of voices against the training speakers."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sklearn_hser.familiarity import VoiceFamiliarity


def _speakers(rng, n_speakers, n_each, dim=6, spread=1.0):
    """Utterances of speakers whose own offsets vary like their utterances do."""
    offsets = rng.normal(0, spread, (n_speakers, dim))
    X = np.repeat(offsets, n_each, axis=0) + rng.normal(
        0, 1, (n_speakers * n_each, dim)
    )
    return X, np.repeat(np.arange(n_speakers), n_each)


def test_new_speakers_of_the_training_kind_score_like_a_p_value():
    rng = np.random.default_rng(0)
    X, groups = _speakers(rng, 30, 20)
    fam = VoiceFamiliarity().fit(X[:400], groups=groups[:400])
    new = fam.score_samples(X[400:])
    assert new.min() > 0 and new.max() <= 1
    # About alpha of them fall below alpha: leave one speaker out made the scale.
    for alpha in (0.05, 0.2, 0.5):
        assert abs((new < alpha).mean() - alpha) < 0.1


def test_far_voices_are_unfamiliar_and_nearer_ones_more_familiar():
    rng = np.random.default_rng(1)
    X, groups = _speakers(rng, 10, 20)
    fam = VoiceFamiliarity(n_neighbors=5).fit(X, groups=groups)
    far, nearer = fam.score_samples(X[:50] + 25.0), fam.score_samples(X[:50] + 2.0)
    assert far.max() == pytest.approx(1 / (len(X) + 1))
    assert nearer.mean() > far.mean()


def test_the_reference_is_bounded_and_reproducible():
    rng = np.random.default_rng(2)
    X, groups = _speakers(rng, 10, 30)
    a = VoiceFamiliarity(max_reference=100, random_state=0).fit(X, groups=groups)
    b = VoiceFamiliarity(max_reference=100, random_state=0).fit(X, groups=groups)
    assert len(a.reference_distances_) == 100
    np.testing.assert_array_equal(a.score_samples(X[:20]), b.score_samples(X[:20]))
    again = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(a.score_samples(X[:20]), again.score_samples(X[:20]))
    assert clone(a).get_params() == a.get_params()


def test_bad_input_is_refused():
    rng = np.random.default_rng(3)
    X, groups = _speakers(rng, 3, 5)
    with pytest.raises(ValueError, match="at least two speakers"):
        VoiceFamiliarity().fit(X, groups=np.zeros(len(X)))
    with pytest.raises(ValueError, match="one speaker per utterance"):
        VoiceFamiliarity().fit(X, groups=groups[:-1])
    with pytest.raises(ValueError, match="NaN"):
        VoiceFamiliarity().fit(np.where(X > 1, np.nan, X), groups=groups)
    with pytest.raises(ValueError, match="n_neighbors"):
        VoiceFamiliarity(n_neighbors=0).fit(X, groups=groups)
    with pytest.raises(NotFittedError):
        VoiceFamiliarity().score_samples(X)
    fam = VoiceFamiliarity().fit(X, groups=groups)
    with pytest.raises(ValueError, match="features"):
        fam.score_samples(X[:, :2])

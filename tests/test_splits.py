"""SD / SI splits, LeaveOneSessionOut and validation_split."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline

from sklearn_hser.datasets.fixtures import make_iemocap_fixture
from sklearn_hser.datasets.iemocap import load_iemocap
from sklearn_hser.datasets.splits import (
    LeaveOneSessionOut,
    speaker_dependent_split,
    speaker_independent_split,
    validation_split,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("iemocap")
    make_iemocap_fixture(root, n_per_speaker=16)
    return load_iemocap(root)


CLASSES = ("neutral", "happy", "sad", "angry")
COUNTS = (500, 300, 150, 50)


def _labels(seed=0):
    y = np.repeat(CLASSES, COUNTS)
    return np.random.default_rng(seed).permutation(y)


# ------------------------------------------------------------------------- SD


def test_sd_sizes_disjoint_and_stratified():
    y = _labels()
    train, val, test = speaker_dependent_split(y)
    assert (len(train), len(val), len(test)) == (800, 100, 100)
    assert np.array_equal(np.sort(np.concatenate([train, val, test])), np.arange(1000))
    assert train.dtype.kind == "i"
    for part, share in ((train, 0.8), (val, 0.1), (test, 0.1)):
        for label, n in zip(CLASSES, COUNTS, strict=True):
            assert abs((y[part] == label).sum() - share * n) <= 1, (label, share)


def test_sd_reproducible_and_seeded():
    y = pd.Series(_labels())
    a = speaker_dependent_split(y, random_state=3)
    b = speaker_dependent_split(y, random_state=3)
    c = speaker_dependent_split(y, random_state=4)
    for x, z in zip(a, b, strict=True):
        assert np.array_equal(x, z)
    assert not np.array_equal(a[2], c[2])


def test_sd_options_and_errors():
    y = _labels()
    train, val, test = speaker_dependent_split(y, validation_size=0, test_size=0.2)
    assert (len(train), len(val), len(test)) == (800, 0, 200)
    train, val, test = speaker_dependent_split(y, validation_size=0.2, test_size=0.3)
    assert (len(train), len(val), len(test)) == (500, 200, 300)
    with pytest.raises(ValueError, match="< 1"):
        speaker_dependent_split(y, validation_size=0.5, test_size=0.5)
    with pytest.raises(ValueError, match="test_size"):
        speaker_dependent_split(y, test_size=0)


# ------------------------------------------------------------------------- SI


def test_si_default_iemocap(corpus):
    train, val, test = speaker_independent_split(corpus)
    tr, va, te = corpus.iloc[train], corpus.iloc[val], corpus.iloc[test]
    assert set(tr["session"]) == {1, 2, 3, 4}
    assert set(va["session"]) == {5} and set(va["gender"]) == {"M"}
    assert set(te["session"]) == {5} and set(te["gender"]) == {"F"}
    assert set(va["speaker"]) == {"Ses05_M"} and set(te["speaker"]) == {"Ses05_F"}
    speakers = [set(p["speaker"]) for p in (tr, va, te)]
    assert not (speakers[0] & speakers[1] or speakers[0] & speakers[2])
    assert len(train) + len(val) + len(test) == len(corpus)
    # the fixture gives every speaker 2 neu, 4 happy, 2 sad, 2 angry
    assert len(val) == len(test) == 10 and len(train) == 80


def test_si_default_needs_session5(corpus):
    with pytest.raises(ValueError, match="session 5"):
        speaker_independent_split(corpus[corpus.session < 5])
    with pytest.raises(ValueError, match="session 5"):
        speaker_independent_split(corpus[corpus.speaker != "Ses05_F"])
    with pytest.raises(ValueError, match="'gender'"):
        speaker_independent_split(corpus.drop(columns="gender"))


def test_si_named_speakers():
    df = pd.DataFrame(
        {
            "speaker": [f"Actor_{a:02d}" for a in (1, 1, 2, 2, 3, 3, 4, 4)],
            "x": range(8),
        }
    )
    train, val, test = speaker_independent_split(
        df, test_speakers=["Actor_04"], validation_speakers="Actor_03"
    )
    assert train.tolist() == [0, 1, 2, 3]
    assert val.tolist() == [4, 5] and test.tolist() == [6, 7]
    with pytest.raises(ValueError, match="both"):
        speaker_independent_split(df, test_speakers=["Actor_04"])
    with pytest.raises(ValueError, match="both in test and validation"):
        speaker_independent_split(
            df, test_speakers=["Actor_04"], validation_speakers=["Actor_04"]
        )
    with pytest.raises(ValueError, match="empty"):
        speaker_independent_split(
            df, test_speakers=[], validation_speakers=["Actor_03"]
        )
    with pytest.raises(ValueError, match="Actor_09"):
        speaker_independent_split(
            df, test_speakers=["Actor_09"], validation_speakers=["Actor_03"]
        )
    with pytest.raises(ValueError, match="training"):
        speaker_independent_split(
            df,
            test_speakers=["Actor_01", "Actor_02"],
            validation_speakers=["Actor_03", "Actor_04"],
        )


# ------------------------------------------------------- LeaveOneSessionOut


def _numeric_frame(corpus):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "f0": rng.normal(size=len(corpus)),
            "f1": rng.normal(size=len(corpus)),
            "session": corpus["session"].to_numpy(),
        }
    )
    # make the label learnable so the search has something to compare
    y = corpus["label"].to_numpy()
    X.loc[y == "angry", "f0"] += 3
    return X, y


def _model():
    return make_pipeline(
        ColumnTransformer([("num", "passthrough", ["f0", "f1"])]),
        LogisticRegression(max_iter=200),
    )


def test_loso_in_grid_search_reads_session_column(corpus):
    X, y = _numeric_frame(corpus)
    cv = LeaveOneSessionOut()
    assert cv.get_n_splits(X) == 5
    search = GridSearchCV(_model(), {"logisticregression__C": [0.1, 1.0]}, cv=cv)
    search.fit(X, y)
    assert search.n_splits_ == 5
    result = cross_validate(_model(), X, y, cv=cv, return_indices=True)
    held_out = [set(X["session"].iloc[t]) for t in result["indices"]["test"]]
    assert held_out == [{1}, {2}, {3}, {4}, {5}]
    for train, test in zip(
        result["indices"]["train"], result["indices"]["test"], strict=True
    ):
        assert len(train) + len(test) == len(X)
        assert not set(X["session"].iloc[train]) & set(X["session"].iloc[test])


def test_loso_with_groups_and_numpy(corpus):
    X, y = _numeric_frame(corpus)
    groups = X["session"].to_numpy()
    Xn = X[["f0", "f1"]].to_numpy()
    search = GridSearchCV(
        LogisticRegression(max_iter=200), {"C": [1.0]}, cv=LeaveOneSessionOut()
    )
    search.fit(Xn, y, groups=groups)
    assert search.n_splits_ == 5
    # groups win over the column
    folds = list(LeaveOneSessionOut().split(X, groups=np.arange(len(X)) % 2))
    assert len(folds) == 2
    with pytest.raises(ValueError, match="groups"):
        list(LeaveOneSessionOut().split(Xn))
    with pytest.raises(ValueError, match="at least 2"):
        list(LeaveOneSessionOut().split(X[X.session == 1]))
    cv = LeaveOneSessionOut(session_column="sess")
    assert cv.get_n_splits(X.rename(columns={"session": "sess"})) == 5
    assert "session_column='sess'" in repr(cv)


def test_loso_with_metadata_routing(corpus):
    X, y = _numeric_frame(corpus)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            LogisticRegression(max_iter=200), {"C": [1.0]}, cv=LeaveOneSessionOut()
        )
        search.fit(X[["f0", "f1"]].to_numpy(), y, groups=X["session"].to_numpy())
    assert search.n_splits_ == 5


# ------------------------------------------------------------ validation_split


def test_validation_split_in_grid_search(corpus):
    X, y = _numeric_frame(corpus)
    train, val, _ = speaker_independent_split(corpus)
    cv = validation_split(train, val)
    rows = np.concatenate([train, val])
    folds = list(cv.split())
    assert len(folds) == 1
    assert folds[0][0].tolist() == list(range(len(train)))
    assert folds[0][1].tolist() == list(range(len(train), len(rows)))
    search = GridSearchCV(_model(), {"logisticregression__C": [0.1, 1.0]}, cv=cv)
    search.fit(X.iloc[rows], y[rows])
    assert search.n_splits_ == 1
    with pytest.raises(ValueError, match="both in train_idx and val_idx"):
        validation_split([1, 2, 3], [3, 4])
    with pytest.raises(ValueError, match="non-empty"):
        validation_split([1, 2, 3], [])

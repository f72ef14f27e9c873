"""Content digests used as fitted-model cache keys."""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from sklearn_hser._fingerprint import data_fingerprint


def _frame():
    rng = np.random.default_rng(0)
    waves = [rng.normal(size=n).astype(np.float32) for n in (100, 200, 150)]
    return pd.DataFrame({"audio": waves, "text": ["a", "b", "c"], "session": [1, 2, 3]})


def test_equal_content_equal_digest():
    a, b = _frame(), _frame()
    assert a["audio"][0] is not b["audio"][0]
    assert data_fingerprint(a) == data_fingerprint(b)


def test_any_change_changes_the_digest():
    base = data_fingerprint(_frame())
    changed_wave = _frame()
    changed_wave.at[1, "audio"][5] += 1e-6
    changed_text = _frame()
    changed_text.at[2, "text"] = "d"
    reordered = _frame().iloc[[1, 0, 2]]
    renamed = _frame().rename(columns={"text": "transcript"})
    digests = {
        data_fingerprint(x) for x in (changed_wave, changed_text, reordered, renamed)
    }
    assert base not in digests and len(digests) == 4


def test_arrays_dtypes_and_sparse():
    x = np.arange(12, dtype=np.float64).reshape(3, 4)
    assert data_fingerprint(x) != data_fingerprint(x.astype(np.float32))
    assert data_fingerprint(x) != data_fingerprint(x.reshape(4, 3))
    assert data_fingerprint(sp.csr_matrix(x)) == data_fingerprint(sp.csc_matrix(x))
    assert data_fingerprint(["a", "b"]) != data_fingerprint(["ab"])

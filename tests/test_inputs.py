"""Every accepted form of X gives the same items; ambiguous forms are refused."""

import numpy as np
import pandas as pd
import pytest

from sklearn_hser.features import MFCC
from sklearn_hser.features._inputs import select_items

TEXTS = ["one", "two", "three"]


@pytest.mark.parametrize(
    "X",
    [
        TEXTS,
        tuple(TEXTS),
        np.array(TEXTS),
        np.array(TEXTS, dtype=object),
        np.array(TEXTS, dtype=object).reshape(-1, 1),
        pd.Series(TEXTS),
        pd.DataFrame({"text": TEXTS}),  # pandas' own string dtype
        pd.DataFrame({"text": pd.Series(TEXTS, dtype=object)}),
    ],
    ids=[
        "list",
        "tuple",
        "str-array",
        "object-array",
        "column",
        "series",
        "frame-str",
        "frame-object",
    ],
)
def test_text_forms(X):
    assert select_items(MFCC(), X, kind="text") == TEXTS


def test_named_column_of_a_wider_frame():
    frame = pd.DataFrame({"audio": ["a.wav"] * 3, "text": TEXTS})
    assert select_items(MFCC(), frame, column="text", kind="text") == TEXTS
    assert select_items(MFCC(), {"text": TEXTS}, column="text", kind="text") == TEXTS


def test_numeric_matrix_is_a_batch_of_waveforms():
    X = np.zeros((4, 800))
    items = select_items(MFCC(), X, kind="audio")
    assert len(items) == 4 and items[0].shape == (800,)
    with pytest.raises(ValueError, match="1-D numeric"):
        select_items(MFCC(), np.zeros(800), kind="audio")


def test_text_refuses_missing_and_numeric_items():
    with pytest.raises(ValueError, match="position 1.*missing transcript"):
        select_items(MFCC(), ["ok", None], kind="text")
    with pytest.raises(ValueError, match="position 0"):
        select_items(MFCC(), pd.Series([np.nan, "x"]), kind="text")
    with pytest.raises(ValueError, match="cannot read text"):
        select_items(MFCC(), np.zeros((3, 2)), kind="text")

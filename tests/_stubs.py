"""Small deterministic estimators for testing the hierarchy's logic."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class TableClassifier(ClassifierMixin, BaseEstimator):
    """Looks each sample's probabilities up in a fixed table.

    ``X`` is a 2-D array whose first column is a row index into ``table``;
    ``fit`` records what it was trained on so tests can inspect it.
    """

    def __init__(self, table=None, classes=None):
        self.table = table
        self.classes = classes

    def fit(self, X, y):
        self.classes_ = np.asarray(self.classes)
        self.fit_y_ = np.asarray(y)
        self.fit_rows_ = np.asarray(X)[:, 0].astype(int)
        return self

    def predict_proba(self, X):
        rows = np.asarray(X)[:, 0].astype(int)
        return np.asarray(self.table, dtype=float)[rows]

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class CountingClassifier(ClassifierMixin, BaseEstimator):
    """A LogisticRegression-like classifier that logs each fit to a file."""

    def __init__(self, log_path=None, C=1.0):
        self.log_path = log_path
        self.C = C

    def fit(self, X, y):
        from sklearn.linear_model import LogisticRegression

        with open(self.log_path, "a") as f:
            f.write("fit\n")
        self.model_ = LogisticRegression(C=self.C).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)

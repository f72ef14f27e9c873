"""RAVDESS speech with a text model trained on MELD: flat baseline vs hierarchy.

RAVDESS actors speak two fixed, emotionally neutral sentences, so the words
carry no emotion there: the experiment checks that the hierarchy's text
branch, trained on real conversational text (MELD), does no harm where the
words are uninformative, and shows what the speech gate alone achieves.

For each speech feature set (MFCC, GeMAPS, handcrafted, WakeHuBERT) it runs
speaker-independent cross-validation (``GroupKFold`` over actors) of

* ``S``: a flat 4-class LSTM speech classifier;
* ``ST``: the hierarchy (LSTM gate + LSTM emotion model + the MELD text model,
  frozen), without threshold and at each threshold,

pools the out-of-fold predictions and prints UA / WA per system.

Usage::

    python examples/ravdess_meld_hierarchy.py [--data ../shared/data] [--folds 6]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline

from sklearn_hser import HierarchicalClassifier
from sklearn_hser.baselines import SpeechOnlyClassifier
from sklearn_hser.datasets import load_meld, load_ravdess
from sklearn_hser.features import (
    MFCC,
    BertTokenEmbeddings,
    GeMAPS,
    HandcraftedFeatures,
    WakeHuBERTEmbeddings,
)
from sklearn_hser.metrics import (
    correction_counts,
    unweighted_accuracy,
    weighted_accuracy,
)
from sklearn_hser.models import LSTMClassifier

THRESHOLDS = (0.25, 0.30, 0.35, 0.40)


def lstm(**params):
    defaults = dict(
        hidden_size=64,
        fc_size=32,
        max_epochs=60,
        patience=8,
        validation_fraction=0.15,
        class_weight="balanced",
        random_state=0,
    )
    return LSTMClassifier(**{**defaults, **params})


def speech_extractors(cache_dir):
    return {
        "MFCC": MFCC(column="audio", cache_dir=cache_dir, n_jobs=2),
        "GeMAPS": GeMAPS(column="audio", cache_dir=cache_dir, n_jobs=2),
        "handcrafted": HandcraftedFeatures(
            column="audio", cache_dir=cache_dir, n_jobs=2
        ),
        "WakeHuBERT": WakeHuBERTEmbeddings(column="audio", cache_dir=cache_dir),
    }


def train_text_model(meld_root, cache_dir):
    meld = load_meld(meld_root, splits=("train", "dev"))
    train, dev = meld[meld["split"] == "train"], meld[meld["split"] == "dev"]
    model = make_pipeline(
        BertTokenEmbeddings(column="text", cache_dir=cache_dir),
        lstm(hidden_size=128, fc_size=64, max_epochs=30, patience=4),
    )
    model.fit(train, train["label"])
    dev_pred = model.predict(dev)
    print(
        f"MELD text model (MiniLM tokens -> LSTM): dev UA "
        f"{unweighted_accuracy(dev['label'], dev_pred):.3f}, "
        f"WA {weighted_accuracy(dev['label'], dev_pred):.3f}"
    )
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get(
        "HSER_DATA_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    parser.add_argument("--data", default=default)
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--cache-dir", default=".hser-cache")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    start = time.perf_counter()

    corpus = load_ravdess(Path(args.data) / "ravdess")
    y = corpus["label"].to_numpy()
    text = FrozenEstimator(train_text_model(Path(args.data) / "meld", args.cache_dir))
    folds = list(GroupKFold(n_splits=args.folds).split(corpus, y, corpus["actor"]))

    rows = []
    for name, extractor in speech_extractors(args.cache_dir).items():
        extractor.transform(corpus)  # fill the cache once, in parallel
        speech = make_pipeline(extractor, lstm())
        predictions = {"S": np.empty_like(y)}
        predictions.update(
            {f"ST t={t}" if t else "ST": np.empty_like(y) for t in (None, *THRESHOLDS)}
        )
        gate_pred = np.empty_like(y)
        for train, test in folds:
            X_train, X_test = corpus.iloc[train], corpus.iloc[test]
            flat = SpeechOnlyClassifier(speech).fit(X_train, y[train])
            predictions["S"][test] = flat.predict(X_test)
            hierarchy = HierarchicalClassifier(speech, speech, text).fit(
                X_train, y[train]
            )
            gate_pred[test] = hierarchy.route(X_test)["speech_gate"].to_numpy()
            for t in (None, *THRESHOLDS):  # same fitted models, no refit
                hierarchy.set_params(threshold=t)
                predictions[f"ST t={t}" if t else "ST"][test] = hierarchy.predict(
                    X_test
                )
        for system, pred in predictions.items():
            counts = correction_counts(y, gate_pred, pred) if system != "S" else {}
            rows.append(
                {
                    "features": name,
                    "system": system,
                    "UA": unweighted_accuracy(y, pred),
                    "WA": weighted_accuracy(y, pred),
                    "neutral_precision": np.mean(y[pred == "neutral"] == "neutral")
                    if (pred == "neutral").any()
                    else np.nan,
                    "corrected": f"{counts['n_corrected']}/{counts['n_missed']}"
                    if counts
                    else "",
                }
            )
        print(
            pd.DataFrame(rows[-len(predictions) :]).round(3).to_string(index=False),
            flush=True,
        )

    table = pd.DataFrame(rows)
    print(
        f"\nRAVDESS, leave-actors-out (GroupKFold, {args.folds} folds), "
        "pooled out-of-fold predictions"
    )
    print(table.round(3).to_string(index=False))
    print(f"\nWall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

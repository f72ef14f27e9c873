"""The fold and selection logic of ``benchmarks/bench_accuracy.py``.

The benchmark's numbers are only as honest as its folds: no model that
decides a fold's gate and threshold, or that is scored on its test speakers,
may have seen those speakers.
"""

import importlib.util
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from sklearn_hser.systems import ExperimentConfig

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_accuracy.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_accuracy", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_speaker_groups_partition_the_rows_by_speaker(bench):
    speakers = np.array([f"{a:02d}" for a in range(1, 19)] * 3)
    groups = bench.speaker_groups(speakers, 6)
    assert len(groups) == 6
    rows = np.sort(np.concatenate(groups))
    np.testing.assert_array_equal(rows, np.arange(len(speakers)))
    names = [sorted(set(speakers[g])) for g in groups]
    assert names[0] == ["01", "02", "03"]  # consecutive: both genders in RAVDESS
    for a, b in combinations(names, 2):
        assert not set(a) & set(b)


def test_speaker_groups_need_three_speakers(bench):
    with pytest.raises(SystemExit, match="at least 3 speakers"):
        bench.speaker_groups(np.array(["a", "b", "a"]), 2)


def test_speaker_groups_need_three_folds(bench):
    """Each model leaves out two groups: two folds would train on nothing."""
    with pytest.raises(SystemExit, match="at least 3 folds"):
        bench.speaker_groups(np.array(["a", "b", "c", "d"]), 2)


@pytest.mark.parametrize("n", [3, 4, 6])
def test_every_fold_is_decided_and_tested_without_its_speakers(bench, n):
    """Fold k tests the model without k and k + 1; its inner choice reads,
    for every other group g, the model without k and g: all are fitted."""
    validation = bench.model_pairs(n, "validation")
    inner = bench.model_pairs(n, "inner-cv")
    assert len(validation) == n
    assert len(inner) == n * (n - 1) // 2
    for k in range(n):
        test_model = tuple(sorted((k, (k + 1) % n)))
        assert test_model in validation and test_model in inner
        for g in range(n):
            if g != k:
                assert tuple(sorted((k, g))) in inner


def test_choosing_on_one_group_fits_only_the_test_models(bench):
    assert set(bench.model_pairs(6, "validation")) == {
        (0, 1),
        (1, 2),
        (2, 3),
        (3, 4),
        (4, 5),
        (0, 5),
    }


def _group(reference_misses: int, candidate_misses: int = 0, candidate=("all", 0.3)):
    """Eight samples, two classes; each prediction misses some of class a."""
    y = np.array(["a"] * 4 + ["b"] * 4)
    reference, predicted = y.copy(), y.copy()
    reference[:reference_misses] = "b"
    predicted[4 - candidate_misses : 4] = "b"
    return y, {("flat", 0.0): reference, candidate: predicted}


def test_one_group_keeps_the_reference_within_its_noise(bench):
    y, predicted = _group(1)
    assert bench.choose_setting([y], [predicted], "one_se") == ("flat", 0.0)
    assert bench.choose_setting([y], [predicted], "best") == ("all", 0.3)


def test_a_gain_repeated_over_groups_is_taken(bench):
    """The same one-sample gain in six groups is no longer noise when pooled."""
    parts = [_group(1) for _ in range(6)]
    chosen = bench.choose_setting(
        [y for y, _ in parts], [p for _, p in parts], "one_se"
    )
    assert chosen == ("all", 0.3)


def test_a_gain_that_other_speakers_take_back_is_not_taken(bench):
    """A clear gain on one group, half of it lost on another: within the noise."""
    parts = [_group(2), _group(0, 1)] + [_group(0) for _ in range(4)]
    chosen = bench.choose_setting(
        [y for y, _ in parts], [p for _, p in parts], "one_se"
    )
    assert chosen == ("flat", 0.0)
    # Chosen on the first group alone, as with a single validation group.
    y, predicted = parts[0]
    assert bench.choose_setting([y], [predicted], "one_se") == ("all", 0.3)


def _with_no_threshold(y, predicted):
    """``_group``'s candidates plus ``threshold=None`` ones, never better."""
    reference = predicted["flat", 0.0]
    return y, {**predicted, ("flat", None): reference, ("all", None): reference}


@pytest.mark.parametrize("choose_on", ["inner-cv", "validation"])
def test_a_fold_is_scored_without_its_test_group(bench, choose_on):
    """Fold 0 of 4: the gain shows in each other group (inner CV takes it),
    but the next group alone is within the noise. No prediction of group 0
    by a model that chose for fold 0 exists, so reading one would fail."""
    n = 4
    y_part, predicted = _with_no_threshold(*_group(1))
    y = np.concatenate([y_part] * n)
    groups = [np.arange(8 * g, 8 * (g + 1)) for g in range(n)]
    test = {
        ("flat", 0.0): y_part.copy(),  # the reference is right on fold 0...
        ("all", 0.3): np.where(y_part == "a", "b", "a"),  # ...the candidate wrong
        ("flat", None): y_part.copy(),
        ("all", None): y_part.copy(),
    }
    store = {
        "held_out": {"sys": {((0, g), g): predicted for g in range(1, n)}},
        "on_test": {"sys": {0: test}},
        "flat_test": {"sys": {0: y_part.copy()}},
        "twin_test": {"sys": {0: np.full(8, "a")}},
    }
    logged = []
    config = ExperimentConfig()
    result = bench.score_fold(
        store, y, groups, "sys", 0, config, choose_on, logged.append
    )
    assert result["S"] == 1.0 and result["LR"] == 0.5
    assert result["ST-none"] == 1.0
    if choose_on == "inner-cv":
        assert (result["gate"], result["t"]) == ("all", 0.3)
        assert result["ST"] == 0.0
        assert (result["gate-1group"], result["t-1group"]) == ("flat", 0.0)
        assert result["ST-1group"] == 1.0
    else:
        assert (result["gate"], result["t"]) == ("flat", 0.0)
        assert result["ST"] == 1.0 and "ST-1group" not in result
    assert len(logged) == 1 and logged[0].startswith("fold 1/4 sys")


@pytest.mark.parametrize("speech_only_gates", ["reference", "every_gate"])
def test_another_gate_without_the_text_competes_only_when_asked(
    bench, speech_only_gates
):
    """At threshold 0 the text never overrides: another gate there is a
    different speech model, a candidate only with ``every_gate``."""
    parts = [_group(1, candidate=("all", 0.0)) for _ in range(6)]
    y_parts, predicted = [y for y, _ in parts], [p for _, p in parts]
    chosen = bench.choose_setting(y_parts, predicted, "one_se", speech_only_gates)
    assert chosen == (
        ("flat", 0.0) if speech_only_gates == "reference" else ("all", 0.0)
    )


@pytest.mark.parametrize("gate_labels", ["auto", "collapsed"])
def test_the_s_system_is_the_flat_speech_model_of_the_fold(
    bench, monkeypatch, gate_labels
):
    """S is read from the flat-gate hierarchy fitted with the gate options:
    what a separate fit of the flat speech model predicts; only the searched
    gates are candidates."""
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_hser import systems
    from sklearn_hser.baselines import SpeechOnlyClassifier

    rng = np.random.default_rng(0)
    classes = np.array(["neutral", "happy", "sad", "angry"])
    y = np.tile(classes, 60)
    centres = {"neutral": (0, 0), "happy": (2, 2), "sad": (-2, 0), "angry": (2, -2)}
    xy = np.array([centres[c] for c in y]) + rng.normal(0, 1.0, (len(y), 2))
    words = rng.choice(["the door is open", "what a day", "oh no"], len(y))
    corpus = pd.DataFrame({"a": xy[:, 0], "b": xy[:, 1], "text": words, "label": y})
    corpus["speaker"] = [f"s{i % 6}" for i in range(len(y))]

    def speech_model():
        return make_pipeline(
            make_column_transformer(("passthrough", ["a", "b"])),
            LogisticRegression(max_iter=1000),
        )

    def text_model(config, cache_dir):
        return make_pipeline(
            make_column_transformer((TfidfVectorizer(), "text")),
            LogisticRegression(max_iter=1000),
        )

    system = systems.SpeechSystem("stub", "LR", "stub", lambda c, d: speech_model())
    monkeypatch.setattr(systems, "SYSTEMS", {"stub": system})
    monkeypatch.setattr(systems, "build_text_model", text_model)
    config = ExperimentConfig(systems=["stub"], gate_labels=gate_labels)
    groups = bench.speaker_groups(corpus["speaker"].to_numpy(), 3)
    pairs = bench.model_pairs(3, "validation")
    models = bench.fit_held_out_models(
        corpus, ["stub"], config, None, groups, pairs, lambda m: None, None
    )
    *_, (_, store) = models
    for k in range(3):
        test = groups[k]
        train = np.setdiff1d(np.arange(len(y)), np.r_[test, groups[(k + 1) % 3]])
        fresh = SpeechOnlyClassifier(speech_model()).fit(corpus.iloc[train], y[train])
        np.testing.assert_array_equal(
            store["flat_test"]["stub"][k], fresh.predict(corpus.iloc[test])
        )
        searched = {gate for gate, _ in store["on_test"]["stub"][k]}
        assert searched == set(config.gate_options())

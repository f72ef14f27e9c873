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


def _group(reference_misses: int, candidate_misses: int = 0):
    """Eight samples, two classes; each prediction misses some of class a."""
    y = np.array(["a"] * 4 + ["b"] * 4)
    reference, candidate = y.copy(), y.copy()
    reference[:reference_misses] = "b"
    candidate[4 - candidate_misses : 4] = "b"
    return y, {("flat", 0.0): reference, ("all", 0.0): candidate}


def test_one_group_keeps_the_reference_within_its_noise(bench):
    y, predicted = _group(1)
    assert bench.choose_setting([y], [predicted], "one_se") == ("flat", 0.0)
    assert bench.choose_setting([y], [predicted], "best") == ("all", 0.0)


def test_a_gain_repeated_over_groups_is_taken(bench):
    """The same one-sample gain in six groups is no longer noise when pooled."""
    parts = [_group(1) for _ in range(6)]
    chosen = bench.choose_setting(
        [y for y, _ in parts], [p for _, p in parts], "one_se"
    )
    assert chosen == ("all", 0.0)


def test_a_gain_that_other_speakers_take_back_is_not_taken(bench):
    """A clear gain on one group, half of it lost on another: within the noise."""
    parts = [_group(2), _group(0, 1)] + [_group(0) for _ in range(4)]
    chosen = bench.choose_setting(
        [y for y, _ in parts], [p for _, p in parts], "one_se"
    )
    assert chosen == ("flat", 0.0)
    # Chosen on the first group alone, as with a single validation group.
    y, predicted = parts[0]
    assert bench.choose_setting([y], [predicted], "one_se") == ("all", 0.0)

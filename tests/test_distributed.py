"""Searches, extraction and a shared Optuna study on a local 2-worker Dask cluster.

Every result computed on the cluster is compared with the same computation
run serially, and the scheduler's task stream shows which workers ran what.
"""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask")
distributed = pytest.importorskip("dask.distributed")

from joblib import effective_n_jobs, parallel_config  # noqa: E402
from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_hser import HierarchicalClassifier  # noqa: E402
from sklearn_hser.distributed import (  # noqa: E402
    dask_backend,
    optuna_search_on_cluster,
    transform_on_cluster,
)
from sklearn_hser.features import MFCC  # noqa: E402

from .conftest import tone  # noqa: E402

CLASSES = ["neutral", "happy", "sad", "angry"]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    try:
        client.wait_for_workers(2, timeout=60)
        yield client
    finally:
        client.close()
        cluster.close()


def _task_stream(client):
    """Records the cluster's tasks; ``.data`` is filled when the block ends."""
    return distributed.get_task_stream(client=client)


def _workers_of(stream, key_part):
    """Addresses of the workers that ran tasks whose key contains ``key_part``."""
    return {task["worker"] for task in stream.data if key_part in str(task["key"])}


def _numeric_data():
    rng = np.random.default_rng(0)
    y = np.tile(CLASSES, 15)
    X = rng.normal(size=(len(y), 3)) + (y[:, None] == CLASSES[1:])
    return X, y


def _lr_hierarchy():
    lr = LogisticRegression()
    return HierarchicalClassifier(lr, lr, lr)


def _speech_corpus():
    """12 short utterances: the pitch carries the emotion, the words too."""
    pitch = {"neutral": 120.0, "happy": 260.0, "sad": 150.0, "angry": 200.0}
    words = {"neutral": "okay fine", "happy": "great fun", "sad": "so alone"}
    words["angry"] = "stop now"
    labels = np.tile(CLASSES, 3)
    audio = [
        tone(0.25, pitch[label] * (1 + 0.03 * i), seed=i)
        for i, label in enumerate(labels)
    ]
    text = [words[label] for label in labels]
    return pd.DataFrame({"audio": audio, "text": text}), labels


def _speech_hierarchy(cache_dir):
    speech = make_pipeline(
        MFCC(column="audio", cache_dir=cache_dir, n_jobs=-1),
        StandardScaler(),
        LogisticRegression(),
    )
    text = make_pipeline(
        make_column_transformer((TfidfVectorizer(), "text")), LogisticRegression()
    )
    return HierarchicalClassifier(speech, speech, text)


def _assert_same_features(got, expected):
    # Same computation in other processes, whose BLAS may use another number
    # of threads: equal up to float32 rounding (as for n_jobs > 1).
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)


def _assert_same_search(serial, parallel):
    assert parallel.best_params_ == serial.best_params_
    assert [p for p in parallel.cv_results_["params"]] == serial.cv_results_["params"]
    np.testing.assert_allclose(
        parallel.cv_results_["mean_test_score"],
        serial.cv_results_["mean_test_score"],
        rtol=1e-12,
    )


def test_backend_sees_the_cluster_workers(client):
    # By address, as for a remote scheduler; joblib chunks for 2 worker threads.
    with dask_backend(client.scheduler.address) as own_client:
        assert own_client is not client
        assert effective_n_jobs(-1) == 2
        assert effective_n_jobs(None) == 2  # the extractors' default n_jobs
        assert effective_n_jobs(1) == 1
    assert own_client.status == "closed"
    assert client.status == "running"


def test_grid_search_on_numeric_data_matches_serial(client):
    X, y = _numeric_data()
    grid = {"threshold": [None, 0.3], "speech_gate__C": [0.1, 1.0]}
    serial = GridSearchCV(_lr_hierarchy(), grid, cv=3).fit(X, y)
    with _task_stream(client) as stream, dask_backend(client):
        parallel = GridSearchCV(_lr_hierarchy(), grid, cv=3, n_jobs=-1).fit(X, y)
        scores = cross_val_score(_lr_hierarchy(), X, y, cv=3, n_jobs=-1)
    _assert_same_search(serial, parallel)
    np.testing.assert_allclose(scores, cross_val_score(_lr_hierarchy(), X, y, cv=3))
    workers = _workers_of(stream, "fit_and_score")
    assert workers and workers <= set(client.nthreads())


def test_grid_search_over_an_mfcc_pipeline_matches_serial(client, tmp_path):
    X, y = _speech_corpus()
    grid = {"speech_gate__logisticregression__C": [0.1, 1.0]}
    # Each run has its own feature cache: every utterance is extracted once per
    # run, by whichever fit needs it first, instead of once per fit.
    with parallel_config(backend="sequential"):
        serial = GridSearchCV(_speech_hierarchy(tmp_path / "serial"), grid, cv=2)
        serial.fit(X, y)
    with _task_stream(client) as stream, dask_backend(client):
        hierarchy = _speech_hierarchy(tmp_path / "cluster")
        parallel = GridSearchCV(hierarchy, grid, cv=2, n_jobs=-1).fit(X, y)
    _assert_same_search(serial, parallel)
    np.testing.assert_array_equal(parallel.predict(X), serial.predict(X))
    cluster = set(client.nthreads())
    assert _workers_of(stream, "fit_and_score") <= cluster
    # The MFCC extraction inside each fit was itself split into worker tasks.
    workers = _workers_of(stream, "extract_chunk")
    assert workers and workers <= cluster


def test_feature_extraction_on_the_cluster_matches_serial(
    client, wav_files, waveforms, tmp_path
):
    items = wav_files + waveforms  # file paths and in-memory waveforms
    serial = MFCC().transform(items)
    sequences = MFCC(pooling=None).transform(items)

    # Through joblib: the extractor's chunks run as tasks on the workers.
    with _task_stream(client) as stream, dask_backend(client):
        _assert_same_features(MFCC(n_jobs=-1).transform(items), serial)
    workers = _workers_of(stream, "extract_chunk")
    assert workers and workers <= set(client.nthreads())

    # Through futures: one task per block of rows, in the order of X.
    frame = pd.DataFrame({"audio": items, "other": range(len(items))})
    mfcc = MFCC(column="audio", n_jobs=-1)
    with _task_stream(client) as stream:
        direct = transform_on_cluster(mfcc, frame, client=client, n_tasks=3)
    assert len([t for t in stream.data if "hser-transform" in str(t["key"])]) == 3
    assert direct.dtype == np.float32
    _assert_same_features(direct, serial)
    assert mfcc.n_jobs == -1  # the caller's transformer is left as it was
    frames = transform_on_cluster(MFCC(pooling=None), items, client=client)
    assert frames.shape == (len(items),) and frames.dtype == object
    for got, expected in zip(frames, sequences, strict=True):
        _assert_same_features(got, expected)

    # A cache directory shared by the workers: filled there, reused here.
    cache = tmp_path / "cache"
    cached = transform_on_cluster(MFCC(cache_dir=cache), items, client=client)
    _assert_same_features(cached, serial)
    from sklearn_hser.features import cache_info

    assert cache_info(cache)["n_entries"] == len(items)
    np.testing.assert_array_equal(MFCC(cache_dir=cache).transform(items), cached)


def test_optuna_searches_on_two_workers_share_one_sqlite_study(client, tmp_path):
    optuna = pytest.importorskip("optuna")
    pytest.importorskip("optuna_integration")
    from optuna.distributions import FloatDistribution

    X, y = _numeric_data()
    distributions = {
        "threshold": FloatDistribution(0.2, 0.5),
        "speech_gate__C": FloatDistribution(0.01, 10, log=True),
    }
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    with _task_stream(client) as stream:
        study = optuna_search_on_cluster(
            _lr_hierarchy(),
            distributions,
            X,
            y,
            storage=storage,
            study_name="hser",
            client=client,
            n_trials=3,
            cv=3,
            random_state=0,
        )
    # Two searches, one on each worker, each added its 3 trials to the study.
    assert _workers_of(stream, "hser-optuna") == set(client.nthreads())
    assert len(study.trials) == 6
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert set(study.best_params) == set(distributions)
    reloaded = optuna.load_study(study_name="hser", storage=storage)
    assert len(reloaded.trials) == 6

"""Package settings: progress bars on request, silent by default."""

import numpy as np

from sklearn_hser import config_context, get_config, set_config
from sklearn_hser.features import MFCC
from sklearn_hser.models import LSTMClassifier


def test_progress_is_off_by_default_and_scoped():
    assert get_config() == {"progress": False}
    with config_context(progress=True):
        assert get_config()["progress"] is True
    assert get_config()["progress"] is False
    set_config(progress=True)
    set_config(progress=False)
    assert get_config()["progress"] is False


def test_progress_bars_go_to_stderr_only_when_asked(capsys):
    waves = [
        np.random.default_rng(i).normal(0, 0.1, 4000).astype("float32")
        for i in range(3)
    ]
    X = np.random.default_rng(0).normal(size=(30, 4)).astype("float32")
    y = np.repeat(["a", "b"], 15)
    lstm = LSTMClassifier(
        hidden_size=4, fc_size=4, max_epochs=2, validation_fraction=None
    )
    MFCC().transform(waves)
    lstm.fit(X, y)
    assert capsys.readouterr().err == ""
    with config_context(progress=True):
        MFCC().transform(waves)
        lstm.fit(X, y)
    err = capsys.readouterr().err
    assert "MFCC" in err and "LSTMClassifier" in err

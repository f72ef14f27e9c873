"""The core installs and imports without the optional libraries."""

import subprocess
import sys
import textwrap

import pytest

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

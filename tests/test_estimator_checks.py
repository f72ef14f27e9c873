"""scikit-learn's estimator checks, over every estimator of the package.

Each estimator appears with a small, fast configuration. Checks that are
expected to fail are listed in EXPECTED_FAILED_CHECKS with the reason.
"""

from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_hser import HierarchicalClassifier
from sklearn_hser.baselines import LateFusionClassifier, SpeechOnlyClassifier
from sklearn_hser.ensemble import SeedEnsembleClassifier
from sklearn_hser.features import MFCC, GeMAPS, HandcraftedFeatures
from sklearn_hser.threshold_tuning import TunedThresholdHierarchyCV


def _hierarchy(**params):
    # The checks label classes 0, 1, 2: class 0 plays neutral.
    return HierarchicalClassifier(
        LogisticRegression(),
        DecisionTreeClassifier(max_depth=3, random_state=0),
        LogisticRegression(),
        neutral_label=0,
        **params,
    )


ESTIMATORS = [
    MFCC(),
    MFCC(pooling="mean+std", delta_order=1),
    HandcraftedFeatures(),
    GeMAPS(),
    _hierarchy(),
    _hierarchy(threshold=0.3),
    _hierarchy(speech_features=StandardScaler()),
    _hierarchy(gate_labels="all"),
    _hierarchy(gate_labels="flat"),
    TunedThresholdHierarchyCV(_hierarchy(), thresholds=[None, 0.3], cv=3),
    TunedThresholdHierarchyCV(
        _hierarchy(),
        thresholds=[None],
        gate_labels=["flat", "all", "collapsed"],
        cv=3,
    ),
    SpeechOnlyClassifier(LogisticRegression()),
    LateFusionClassifier(
        LogisticRegression(), DecisionTreeClassifier(max_depth=3, random_state=0)
    ),
    SeedEnsembleClassifier(DecisionTreeClassifier(max_depth=3), n_seeds=3),
    SeedEnsembleClassifier(LogisticRegression(), n_seeds=2, random_state=0),
]

#: {estimator class name: {check name: reason}}
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}

#: With a threshold, predict applies Algorithm 1's cut-off to the routed
#: probabilities, so it is not their argmax (as for sklearn's
#: FixedThresholdClassifier, which expects the same failure).
THRESHOLD_FAILED_CHECKS = {
    "check_classifiers_train": (
        "a threshold makes predict differ from argmax(predict_proba)"
    )
}


def _expected_failures(estimator):
    # The tuner may pick a threshold (here 0.3) too.
    tuned = isinstance(estimator, TunedThresholdHierarchyCV) and any(
        t is not None for t in estimator.thresholds
    )
    if tuned or getattr(estimator, "threshold", None) is not None:
        return THRESHOLD_FAILED_CHECKS
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)

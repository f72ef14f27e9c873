"""scikit-learn's estimator checks, over every estimator of the package.

Each estimator appears with a small, fast configuration. Checks that are
expected to fail are listed in EXPECTED_FAILED_CHECKS with the reason.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_hser.features import MFCC, GeMAPS, HandcraftedFeatures

ESTIMATORS = [
    MFCC(),
    MFCC(pooling="mean+std", delta_order=1),
    HandcraftedFeatures(),
    GeMAPS(),
]

#: {estimator class name: {check name: reason}}
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)

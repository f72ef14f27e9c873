"""sklearn-hser: hierarchical speech emotion recognition with text integration.

The public estimators live in the subpackages (``sklearn_hser.datasets``,
``sklearn_hser.features``, ...); heavy dependencies (torch, transformers,
openSMILE) are imported only when the estimator that needs them is used.
"""

__version__ = "0.1.0.dev0"

from .hierarchy import HierarchicalClassifier  # noqa: E402  (light: sklearn only)

__all__ = ["HierarchicalClassifier", "__version__"]

"""sklearn-hser: hierarchical speech emotion recognition with text integration.

The public estimators live in the subpackages (``sklearn_hser.datasets``,
``sklearn_hser.features``, ...); heavy dependencies (torch, transformers,
openSMILE) are imported only when the estimator that needs them is used.
"""

__version__ = "0.1.0.dev0"

# Both light: sklearn, numpy and pandas only.
from ._config import config_context, get_config, set_config  # noqa: E402
from .hierarchy import HierarchicalClassifier, make_hierarchy  # noqa: E402

__all__ = [
    "HierarchicalClassifier",
    "make_hierarchy",
    "__version__",
    "config_context",
    "get_config",
    "set_config",
]

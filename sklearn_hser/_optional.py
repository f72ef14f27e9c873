"""Optional dependencies: which extra installs each, and a clear error if absent.

The core of the package (datasets, librosa features, the hierarchy over any
scikit-learn models, metrics, report) needs none of them. A component that
does calls :func:`require` before importing one, so that a missing library
ends with the ``pip install`` line that brings it, not a bare
``ModuleNotFoundError``.
"""

from __future__ import annotations

import importlib

#: Top-level module -> the extra of sklearn-hser that installs it.
EXTRAS = {
    "torch": "torch",
    "skorch": "torch",
    "transformers": "transformers",
    "opensmile": "opensmile",
    "optuna": "optuna",
    "optuna_integration": "optuna",
    "onnxruntime": "onnx",
    "distributed": "dask",
    "dask": "dask",
    "faster_whisper": "asr",
    "piper": "tts",
}

_CPU_TORCH = (
    " For the CPU-only torch build, first run: pip install torch "
    "--index-url https://download.pytorch.org/whl/cpu"
)


def require(module: str, needed_by: str):
    """Import ``module``, or raise an ImportError naming the extra to install.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"torch"``.
    needed_by : str
        What needs it, for the message (e.g. ``"LSTMClassifier"``).

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    ImportError
        If the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = EXTRAS.get(top, top)
        hint = _CPU_TORCH if extra in ("torch", "transformers") else ""
        raise ImportError(
            f"{needed_by} needs {top}, which is not installed: "
            f'pip install "sklearn-hser[{extra}]".{hint}'
        ) from exc

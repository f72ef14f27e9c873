"""Package-wide settings, in the style of :func:`sklearn.set_config`.

Only one setting for now: ``progress``, whether long steps (feature
extraction, network training) show progress bars on standard error. It is
off by default, so library use stays silent; the ``hser`` command turns it
on when standard error is a terminal.
"""

from __future__ import annotations

import contextlib
import threading

from sklearn.utils._param_validation import validate_params

_DEFAULTS = {"progress": False}
_local = threading.local()


def _settings() -> dict:
    if not hasattr(_local, "settings"):
        _local.settings = dict(_DEFAULTS)
    return _local.settings


def get_config() -> dict:
    """Return a copy of the current settings.

    Returns
    -------
    dict
        ``{"progress": bool}``.
    """
    return dict(_settings())


@validate_params({"progress": ["boolean", None]}, prefer_skip_nested_validation=True)
def set_config(*, progress: bool | None = None) -> None:
    """Change settings for the current thread.

    Parameters
    ----------
    progress : bool, default=None
        Show progress bars for feature extraction and training; ``None``
        leaves the setting unchanged.
    """
    if progress is not None:
        _settings()["progress"] = bool(progress)


@validate_params({"progress": ["boolean", None]}, prefer_skip_nested_validation=True)
@contextlib.contextmanager
def config_context(*, progress: bool | None = None):
    """Change settings inside a ``with`` block only.

    Parameters
    ----------
    progress : bool, default=None
        As in :func:`set_config`.

    Examples
    --------
    >>> from sklearn_hser import config_context, get_config
    >>> with config_context(progress=True):
    ...     get_config()["progress"]
    True
    >>> get_config()["progress"]
    False
    """
    old = get_config()
    set_config(progress=progress)
    try:
        yield
    finally:
        set_config(**old)


def progress_bar(total: int, description: str):
    """A tqdm bar when progress is on, else a silent stand-in."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=description,
        disable=not _settings()["progress"],
        leave=False,
        dynamic_ncols=True,
    )

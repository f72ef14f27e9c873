"""Package-wide settings, in the style of :func:`sklearn.set_config`.

Only one setting for now: ``progress``, whether long steps (feature
extraction, network training) show progress bars on standard error. It is
off by default, so library use stays silent; the ``hser`` command turns it
on when standard error is a terminal. Without bars, the same steps report to
the ``sklearn_hser`` logger (:func:`progress_bar`), which ``hser`` shows on
standard error when it is not a terminal.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

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


def progress_bar(total: int, description: str, *, level: int = logging.INFO):
    """A tqdm bar when progress is on, else progress as log lines.

    Without a bar, steps report to the ``sklearn_hser`` logger at ``level``
    (silent unless logging is configured, as ``hser`` does): a step that
    runs longer than ``_LOG_EVERY`` seconds logs its count that often and a
    last line when it ends; shorter ones log nothing. With the logger at
    DEBUG (``hser -v``), every step logs when it starts and ends.
    """
    if not _settings()["progress"]:
        return _LoggedProgress(total, description, level)
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=description,
        leave=False,
        dynamic_ncols=True,
    )


#: Seconds between two progress lines of one step.
_LOG_EVERY = 15.0


class _LoggedProgress:
    """The part of tqdm's interface the package uses, reporting to a logger."""

    def __init__(self, total: int, description: str, level: int):
        self.total = total
        self.description = description
        self.level = level
        self.n = 0
        self.postfix = ""
        self._logger = logging.getLogger("sklearn_hser")
        self._on = total > 0 and self._logger.isEnabledFor(level)
        self._every_step = self._logger.isEnabledFor(logging.DEBUG)
        self._logged = False
        self._start = self._last = time.monotonic()
        if self._on and self._every_step:
            self._log(f"{total} to do")

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if self._on and now - self._last >= _LOG_EVERY and self.n < self.total:
            self._last = now
            self._log(f"{self.n}/{self.total}")

    def set_postfix(self, refresh: bool = True, **values) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def close(self) -> None:
        if self._on and (self._logged or self._every_step):
            self._log(f"{self.n}/{self.total} done")
        self._on = False

    def _log(self, what: str) -> None:
        self._logged = True
        seconds = time.monotonic() - self._start
        extra = f", {self.postfix}" if self.postfix else ""
        self._logger.log(
            self.level, "%s: %s (%.0f s%s)", self.description, what, seconds, extra
        )

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is not None:
            self._on = False  # the error says what happened
        self.close()
        return False

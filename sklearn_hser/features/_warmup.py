"""Compile librosa's numba code in another process while other work runs.

librosa compiles numba functions when its modules are first imported and
called. numba keeps the result on disk (next to librosa's sources, or in a
user cache folder when those are read-only), so the cost is paid once per
environment; but on a fresh install the first MFCC extraction waits for it
(see the features guide for the measured cost). A thread would not help:
compiling holds the interpreter lock. So ``hser`` starts
:func:`start_librosa_warmup` for commands that will extract MFCC or
handcrafted features after other work (loading the corpus, fitting the text
model): a second process compiles and fills numba's cache on another core,
and the extraction then loads the compiled code from the cache. Should the
extraction come first, it waits for that process
(:func:`wait_for_librosa_warmup`) instead of compiling the same code a second
time beside it, which on a machine of few cores takes longer than waiting.
:class:`LibrosaExtractor`, the base of those extractors, does so.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
from pathlib import Path

from ._base import BaseFeatureExtractor

#: The warm-up process this process started, while it may be running.
_started: subprocess.Popen | None = None

#: The longest wait for it (seconds); then this process compiles on its own.
_WAIT_LIMIT = 300.0

_WARM = (
    "import numpy as np\n"
    "from sklearn_hser.features import MFCC, HandcraftedFeatures\n"
    "wave = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)\n"
    "MFCC().fit_transform([wave])\n"
    "HandcraftedFeatures().fit_transform([wave])\n"
)


def librosa_cache_is_warm() -> bool:
    """Whether numba's cache holds librosa's compiled code.

    Looks where numba writes it: ``NUMBA_CACHE_DIR`` when set, else the
    ``__pycache__`` folder beside librosa's sources. (numba's last resort, a
    user cache folder used when those sources are read-only, is not looked
    at: there the warm-up process only loads the cached code again.)
    """
    marker = "audio._zc_wrapper-*.nbi"  # compiled when librosa.core loads
    if os.environ.get("NUMBA_CACHE_DIR"):
        return any(Path(os.environ["NUMBA_CACHE_DIR"]).glob(f"core_*/{marker}"))
    spec = importlib.util.find_spec("librosa")
    if spec is None or spec.origin is None:
        return False
    return any((Path(spec.origin).parent / "core" / "__pycache__").glob(marker))


def start_librosa_warmup() -> subprocess.Popen | None:
    """Start a process that compiles librosa's numba code, unless it is cached.

    Returns
    -------
    subprocess.Popen or None
        The process (its output discarded), or None when numba's cache
        beside librosa already holds compiled code.
    """
    global _started
    if librosa_cache_is_warm():
        return None
    _started = subprocess.Popen(
        [sys.executable, "-c", _WARM],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return _started


def wait_for_librosa_warmup() -> None:
    """Let a warm-up process this process started finish its compiling.

    Called before librosa's compiled functions are first used: they are then
    loaded from numba's cache rather than compiled again beside the warm-up
    process. Returns at once when there is none, or when it has ended; after
    :data:`_WAIT_LIMIT` seconds it stops waiting.
    """
    global _started
    process = _started
    if process is None:
        return
    if process.poll() is None:
        logging.getLogger("sklearn_hser").info(
            "waiting for librosa's code to be compiled (once after installing)"
        )
        try:
            process.wait(timeout=_WAIT_LIMIT)
        except subprocess.TimeoutExpired:
            pass
    _started = None


class LibrosaExtractor(BaseFeatureExtractor):
    """Base of the extractors computed by librosa (MFCC, handcrafted).

    librosa's version is part of the cache key, and extraction first waits
    for a warm-up process (:func:`wait_for_librosa_warmup`), before any
    worker process compiles librosa's code as well.
    """

    def _library_versions(self):
        import librosa

        return (librosa.__version__,)

    def _run(self, items, todo):
        if todo:
            wait_for_librosa_warmup()
        return super()._run(items, todo)

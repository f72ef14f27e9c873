"""Tables, figures and a self-contained HTML report of a study's results.

Everything here reads the dictionary returned by
:func:`sklearn_hser.experiments.run_experiment` (``{"config": ...,
"runs": [...], "skipped": [...]}``) and renders the paper's outputs:

* :func:`table_ii`: per-class precision and recall, UA and WA of every
  system row (S, ST, ST at each threshold), **in percent**;
* :func:`table_i`: examples of emotional utterances that the speech model
  called neutral and the text model re-classified;
* :func:`plot_correction_rates`: the correction rate of each system (Fig. 2);
* :func:`plot_neutral_pr`: neutral precision against recall across
  thresholds (Fig. 3);
* :func:`format_table_ii`: Table II as fixed-width text for a terminal;
* :func:`write_report`: all of the above as CSV, Markdown, PNG, JSON and one
  HTML file with the figures embedded.

matplotlib is imported only by the plotting functions, which draw on an Agg
canvas of their own (no pyplot, so the caller's backend is left untouched).
"""

from __future__ import annotations

import base64
import html
import json
import math
import numbers
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ._labels import EMOTIONS

__all__ = [
    "correction_label",
    "format_table_ii",
    "markdown_table",
    "package_versions",
    "plot_correction_rates",
    "plot_neutral_pr",
    "table_i",
    "table_ii",
    "write_report",
]

#: Distributions whose versions :func:`package_versions` reports.
VERSION_PACKAGES = (
    "sklearn-hser",
    "numpy",
    "pandas",
    "scikit-learn",
    "torch",
    "skorch",
    "transformers",
    "librosa",
    "opensmile",
    "matplotlib",
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

#: File names written by :func:`write_report`, by key of its return value.
REPORT_FILES = {
    "table_ii_csv": "table_ii.csv",
    "table_ii_md": "table_ii.md",
    "table_i_csv": "table_i.csv",
    "table_i_md": "table_i.md",
    "fig2": "fig2_correction_rate.png",
    "fig3": "fig3_neutral_pr.png",
    "json": "results.json",
    "html": "report.html",
}

_SPLIT_ORDER = {"sd": 0, "si": 1}
_SPLIT_NAMES = {"sd": "SD (speaker-dependent)", "si": "SI (speaker-independent)"}
_NO_VALUE = "n/a"
_NO_THRESHOLD = "—"


# ------------------------------------------------------------------ helpers


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
        return f"{_number(value):.2f}" if _is_number(value) else _NO_THRESHOLD
    if column == "chosen on validation":
        return "✓" if value is True or value == 1 else ""
    if column.endswith("(%)"):
        return f"{_number(value):.1f}" if _is_number(value) else _NO_VALUE
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


# ------------------------------------------------------------------- tables


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


# ------------------------------------------------------------------ figures


def _new_figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", bbox_inches="tight", facecolor="white")
    return path


def _empty_figure(path, title, message) -> Path:
    fig = _new_figure(6, 3)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=14, color="0.4")
    return _save(fig, path)


def correction_label(n_corrected, n_missed, rate) -> str:
    """Annotation of one Fig. 2 bar: ``"59.5%\\n25/42"``, or ``"n/a\\n0/0"``.

    The rate is undefined (NaN, or None after a JSON round trip) when the
    speech model called no emotional sample neutral; it is then shown as
    ``n/a``, never as 0.
    """
    counts = (
        f"{int(n_corrected)}/{int(n_missed)}"
        if _is_number(n_corrected) and _is_number(n_missed)
        else "?/?"
    )
    if not _is_number(rate) or not _number(n_missed):
        return f"{_NO_VALUE}\n{counts}"
    return f"{_number(rate) * 100:.1f}%\n{counts}"


def plot_correction_rates(results, path) -> Path:
    """Fig. 2: correction rate of each system and split, as a bar chart.

    The rate is the share of emotional test samples that the speech model
    predicted neutral and the text model then classified correctly, for the
    plain ST system (no threshold).  Bars are grouped by system, one colour
    per split, and annotated with the rate and ``n_corrected/n_missed``; an
    undefined rate (no sample missed) draws no bar and reads ``n/a``.

    Parameters
    ----------
    results : dict
        The return value of :func:`~sklearn_hser.experiments.run_experiment`.
    path : path-like
        Where the PNG goes (parent folders are created).

    Returns
    -------
    path : pathlib.Path
    """
    title = "Fig. 2: correction rate of the text model"
    runs = _runs(results)
    if not runs:
        return _empty_figure(path, title, "no runs")

    systems, labels = [], {}
    for run in sorted(runs, key=lambda r: str(r.get("system"))):
        if run.get("system") not in labels:
            systems.append(run.get("system"))
            labels[run.get("system")] = _group_label(run)
    splits = sorted(
        {r.get("split") for r in runs},
        key=lambda s: (_SPLIT_ORDER.get(s, len(_SPLIT_ORDER)), str(s)),
    )
    by_key = {(r.get("system"), r.get("split")): r for r in runs}
    skipped = {(s.get("system"), s.get("split")) for s in _skipped(results)}

    fig = _new_figure(max(6.0, 1.3 * len(systems) * max(len(splits), 1) + 2), 4.8)
    ax = fig.add_subplot()
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    width = 0.8 / len(splits)
    for j, split in enumerate(splits):
        for i, system in enumerate(systems):
            x = i - 0.4 + width * (j + 0.5)
            run = by_key.get((system, split))
            if run is None:
                if (system, split) in skipped:
                    ax.text(
                        x,
                        2,
                        "skipped",
                        ha="center",
                        va="bottom",
                        fontsize=8,
                        rotation=90,
                        color="0.4",
                    )
                continue
            row = _plain_st_row(run) or {}
            rate = _number(row.get("rate"))
            label = correction_label(
                row.get("n_corrected"), row.get("n_missed"), row.get("rate")
            )
            if math.isnan(rate):
                ax.text(
                    x,
                    2,
                    label,
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    color="0.35",
                    style="italic",
                )
                continue
            ax.bar(x, rate * 100, width * 0.92, color=colors[j % len(colors)])
            ax.text(x, rate * 100 + 1.5, label, ha="center", va="bottom", fontsize=8)
    for j, split in enumerate(splits):
        ax.bar(
            np.nan,
            np.nan,
            color=colors[j % len(colors)],
            label=_SPLIT_NAMES.get(split, str(split)),
        )
    ax.set_xticks(range(len(systems)))
    ax.set_xticklabels([labels[s] for s in systems])
    ax.set_xlim(-0.6, len(systems) - 0.4)
    ax.set_ylim(0, 118)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("correction rate (%)")
    ax.set_xlabel("system (ST, no threshold; test set)")
    ax.set_title(
        f"{title}\nemotional samples the speech model called neutral, "
        "re-classified correctly (label: rate, corrected/missed)",
        fontsize=10,
    )
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return _save(fig, path)


def _pr_points(run) -> list[tuple]:
    """``(threshold or None, recall %, precision %)`` of a run's neutral curve.

    Ordered like the curve is traced: the no-threshold point, then
    thresholds from high to low (a lower threshold keeps more samples
    neutral).  Points without numbers are dropped.
    """
    plain, thresholded = [], []
    for rec in run.get("neutral_pr") or []:
        recall, precision = _percent(rec.get("recall")), _percent(rec.get("precision"))
        if math.isnan(recall) or math.isnan(precision):
            continue
        threshold = _number(rec.get("threshold"))
        if rec.get("no_threshold") or math.isnan(threshold):
            plain.append((None, recall, precision))
        else:
            thresholded.append((threshold, recall, precision))
    thresholded.sort(key=lambda p: -p[0])
    return plain[:1] + thresholded


def plot_neutral_pr(results, path) -> Path:
    """Fig. 3: neutral precision against recall across thresholds.

    One line per run (system and split), through the no-threshold point
    (text argmax, a star) and each threshold (a dot labelled with its value;
    points that coincide share one label).  A cross marks the speech-only S
    system of the same run, for reference.

    Parameters
    ----------
    results : dict
        The return value of :func:`~sklearn_hser.experiments.run_experiment`.
    path : path-like
        Where the PNG goes (parent folders are created).

    Returns
    -------
    path : pathlib.Path
    """
    from matplotlib.lines import Line2D

    title = "Fig. 3: neutral precision vs recall across thresholds (test set)"
    runs = [r for r in _runs(results) if _pr_points(r)]
    if not runs:
        message = "no runs" if not _runs(results) else "no precision-recall points"
        return _empty_figure(path, title, message)

    fig = _new_figure(8.5, 5.5)
    ax = fig.add_subplot()
    palette = [f"C{i}" for i in range(10)]
    handles, drawn = [], set()
    for k, run in enumerate(runs):
        color = palette[k % len(palette)]
        style = "-" if run.get("split") != "si" else "--"
        points = _pr_points(run)
        xs = [p[1] for p in points]
        ys = [p[2] for p in points]
        (line,) = ax.plot(
            xs, ys, style, color=color, marker="o", markersize=5, label=_run_label(run)
        )
        handles.append(line)
        for threshold, x, y in points:
            if threshold is None:
                ax.plot(
                    x,
                    y,
                    marker="*",
                    markersize=15,
                    color=color,
                    markeredgecolor="black",
                    linestyle="none",
                    zorder=3,
                )
        # Thresholds that give the same point share one label; the
        # no-threshold point is told by its star, not by a label.
        groups: dict = {}
        for threshold, x, y in points:
            names = groups.setdefault((round(x, 6), round(y, 6)), [])
            if threshold is not None:
                names.append(f"{threshold:.2f}")
        for (x, y), names in groups.items():
            text = ", ".join(names)
            if not text:
                continue
            if (x, y, text) in drawn:  # same label at the same place: once
                continue
            drawn.add((x, y, text))
            ax.annotate(
                text,
                (x, y),
                textcoords="offset points",
                xytext=(5, 4),
                fontsize=7,
                color=color,
            )
        s_row = next((r for r in run.get("rows") or [] if r.get("kind") == "S"), None)
        if s_row is not None:
            sx, sy = (
                _percent(s_row.get("neutral_recall")),
                _percent(s_row.get("neutral_precision")),
            )
            if not (math.isnan(sx) or math.isnan(sy)):
                ax.plot(
                    sx,
                    sy,
                    marker="x",
                    markersize=8,
                    markeredgewidth=2,
                    color=color,
                    linestyle="none",
                )
    handles += [
        Line2D(
            [],
            [],
            marker="*",
            markersize=13,
            color="0.5",
            markeredgecolor="black",
            linestyle="none",
            label="no threshold (text argmax)",
        ),
        Line2D(
            [],
            [],
            marker="o",
            color="0.5",
            linestyle="none",
            label="threshold (labelled)",
        ),
        Line2D(
            [],
            [],
            marker="x",
            markeredgewidth=2,
            color="0.5",
            linestyle="none",
            label="speech only (S)",
        ),
        Line2D([], [], linestyle="-", color="0.5", label="SD split"),
        Line2D([], [], linestyle="--", color="0.5", label="SI split"),
    ]
    ax.set_xlabel("neutral recall (%)")
    ax.set_ylabel("neutral precision (%)")
    ax.set_title(title, fontsize=10)
    ax.margins(0.08)
    lo_x, hi_x = ax.get_xlim()
    lo_y, hi_y = ax.get_ylim()
    ax.set_xlim(max(lo_x, -2), min(hi_x, 102))
    ax.set_ylim(max(lo_y, -2), min(hi_y, 102))
    ax.grid(alpha=0.3)
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        fontsize=8,
        frameon=False,
    )
    return _save(fig, path)


# ------------------------------------------------------------------- report


def package_versions() -> dict:
    """Installed versions of the packages behind the numbers.

    Returns
    -------
    versions : dict
        ``{"python": ..., "<distribution>": version or None}`` for the
        distributions in :data:`VERSION_PACKAGES` (None: not installed).
    """
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for name in VERSION_PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _jsonable(value):
    """``value`` as strict JSON data: numpy scalars unwrapped, NaN -> None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
       margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .5em 0 1.5em; font-size: .85em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.chosen td { background: #fff4c2; font-weight: 600; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #555; }
.note { color: #555; font-size: .9em; }
"""


def _esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _html_table(headers, rows, *, numeric=(), row_classes=None) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = []
    for i, cells in enumerate(rows):
        cls = row_classes[i] if row_classes else ""
        attr = f' class="{_esc(cls)}"' if cls else ""
        tds = "".join(
            f'<td class="num">{_esc(c)}</td>' if h in numeric else f"<td>{_esc(c)}</td>"
            for h, c in zip(headers, cells)
        )
        body.append(f"<tr{attr}>{tds}</tr>")
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _html_frame(df: pd.DataFrame, *, row_classes=None) -> str:
    numeric = {c for c in df.columns if _is_numeric_column(c)}
    return _html_table(
        list(df.columns), _display_frame(df), numeric=numeric, row_classes=row_classes
    )


def _config_value(value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "—" if value is None else str(value)


def _html_report(results, title, versions, t2, t1, fig2_png, fig3_png) -> str:
    runs, skipped = _runs(results), _skipped(results)
    config = (results or {}).get("config") or {}
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        f'<p class="note">Generated {_esc(when)} by sklearn-hser '
        f"{_esc(versions.get('sklearn-hser'))}. {len(runs)} run(s), "
        f"{len(skipped)} skipped. Metrics on the test set, in percent.</p>",
        "<h2>Configuration</h2>",
    ]
    if config:
        parts.append(
            _html_table(
                ["setting", "value"],
                [[k, _config_value(v)] for k, v in config.items()],
            )
        )
    else:
        parts.append("<p>No configuration recorded.</p>")

    parts.append("<h2>Runs</h2>")
    if runs:
        headers = [
            "system",
            "split",
            "speech encoder",
            "train",
            "validation",
            "test",
            "threshold chosen on validation",
            "seconds",
        ]
        rows = [
            [
                r.get("system"),
                r.get("split"),
                r.get("speech_encoder"),
                r.get("n_train"),
                r.get("n_val"),
                r.get("n_test"),
                _format_cell("threshold", r.get("best_threshold_on_validation")),
                f"{_number(r.get('seconds')):.0f}"
                if _is_number(r.get("seconds"))
                else "",
            ]
            for r in runs
        ]
        numeric = {
            "train",
            "validation",
            "test",
            "seconds",
            "threshold chosen on validation",
        }
        parts.append(_html_table(headers, rows, numeric=numeric))
    else:
        parts.append("<p><strong>No runs.</strong></p>")

    parts.append("<h2>Skipped systems</h2>")
    if skipped:
        parts.append(
            _html_table(
                ["system", "split", "reason"],
                [[s.get("system"), s.get("split"), s.get("reason")] for s in skipped],
            )
        )
    else:
        parts.append("<p>None.</p>")

    parts += [
        "<h2>Table II: per-class precision and recall, UA and WA (%)</h2>",
        '<p class="note">S: speech only (flat 4-class); ST: hierarchy with text; '
        "t: confidence threshold of the modality-consistency rule. The "
        "highlighted row (✓) is the threshold chosen by UA on the validation "
        "set.</p>",
    ]
    if t2.empty:
        parts.append("<p>No runs.</p>")
    else:
        classes = ["chosen" if c else "" for c in t2["chosen on validation"]]
        parts.append(_html_frame(t2, row_classes=classes))

    for png, caption in (
        (
            fig2_png,
            "Fig. 2: correction rate per system and split (ST, no "
            "threshold): of the emotional test samples that the speech "
            "model called neutral, the share the text model classified "
            "correctly; n/a where the speech model missed none.",
        ),
        (
            fig3_png,
            "Fig. 3: precision and recall of the neutral class across "
            "thresholds; star: no threshold, cross: speech only.",
        ),
    ):
        data = base64.b64encode(png).decode("ascii")
        parts.append(
            f'<figure><img alt="{_esc(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_esc(caption)}</figcaption></figure>"
        )

    parts.append(
        "<h2>Table I: emotional utterances the speech model called neutral, "
        "re-classified by the text model</h2>"
    )
    parts.append(_html_frame(t1) if not t1.empty else "<p>No examples.</p>")

    parts.append("<h2>Versions</h2>")
    parts.append(
        _html_table(
            ["package", "version"],
            [[k, "not installed" if v is None else v] for k, v in versions.items()],
        )
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(
    results, out_dir, *, title="Hierarchical SER with text integration", versions=None
) -> dict:
    """Write the study's tables, figures, JSON and a self-contained HTML report.

    Parameters
    ----------
    results : dict
        The return value of :func:`~sklearn_hser.experiments.run_experiment`.
    out_dir : path-like
        Folder for the files (created if needed).
    title : str
        Title of the HTML report.
    versions : dict or None, default=None
        Package versions to record; None: :func:`package_versions`.

    Returns
    -------
    paths : dict of pathlib.Path
        By key: ``table_ii_csv`` (``table_ii.csv``), ``table_ii_md``
        (``table_ii.md``), ``table_i_csv`` (``table_i.csv``), ``table_i_md``
        (``table_i.md``), ``fig2`` (``fig2_correction_rate.png``), ``fig3``
        (``fig3_neutral_pr.png``), ``json`` (``results.json``: the results
        plus ``versions``, strict JSON with NaN written as null) and ``html``
        (``report.html``: one file, figures embedded, no external resource).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {key: out / name for key, name in REPORT_FILES.items()}
    versions = package_versions() if versions is None else dict(versions)
    results = results or {}

    t2, t1 = table_ii(results), table_i(results)
    t2.to_csv(paths["table_ii_csv"], index=False)
    t1.to_csv(paths["table_i_csv"], index=False)
    note = "" if not t2.empty else "No runs.\n\n"
    paths["table_ii_md"].write_text(
        "# Table II: per-class precision and recall, UA and WA (test set, %)\n\n"
        "✓ marks the threshold chosen on the validation set.\n\n"
        + note
        + markdown_table(t2),
        encoding="utf-8",
    )
    paths["table_i_md"].write_text(
        "# Table I: emotional utterances the speech model called neutral, "
        "re-classified by the text model\n\n" + markdown_table(t1),
        encoding="utf-8",
    )
    plot_correction_rates(results, paths["fig2"])
    plot_neutral_pr(results, paths["fig3"])

    record = _jsonable({**results, "versions": versions})
    paths["json"].write_text(
        json.dumps(record, indent=1, allow_nan=False), encoding="utf-8"
    )
    paths["html"].write_text(
        _html_report(
            results,
            title,
            versions,
            t2,
            t1,
            paths["fig2"].read_bytes(),
            paths["fig3"].read_bytes(),
        ),
        encoding="utf-8",
    )
    return paths

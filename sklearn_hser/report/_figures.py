"""The report's figures, drawn with matplotlib.

Each ``plot_*`` function draws on the ``ax`` it is given (any matplotlib
Axes, e.g. from ``pyplot.subplots``) and returns it, so that figures can be
composed and restyled; given a ``path`` instead, it draws on a figure of its
own (an Agg canvas: no pyplot, the caller's backend is left alone) and saves
it as PNG.
"""

from __future__ import annotations

import math
import os

import numpy as np
from sklearn.utils._param_validation import StrOptions, validate_params

from ._common import (
    _NO_VALUE,
    _SPLIT_NAMES,
    _SPLIT_ORDER,
    _group_label,
    _is_number,
    _number,
    _percent,
    _plain_st_row,
    _run_label,
    _runs,
    _skipped,
)


def _new_figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _axes(ax, width, height):
    """``ax``, or the Axes of a new figure of this size."""
    return _new_figure(width, height).add_subplot() if ax is None else ax


def _finish(ax, path):
    """Save ``ax``'s figure to ``path`` and return the path; else return ``ax``."""
    if path is None:
        return ax
    from .._atomic import atomic_write

    # Atomic: a full disk leaves the earlier figure or none, never a torn one.
    return atomic_write(
        path,
        lambda f: ax.figure.savefig(
            f, format="png", bbox_inches="tight", facecolor="white"
        ),
    )


def _empty(ax, path, title, message):
    ax = _axes(ax, 6, 3)
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=14, color="0.4")
    return _finish(ax, path)


def correction_label(n_corrected, n_missed, rate) -> str:
    """Annotation of one Fig. 2 bar: ``"50.0%\\n21/42"``, or ``"n/a\\n0/0"``.

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


@validate_params(
    {"results": [dict, None], "path": [str, os.PathLike, None], "ax": "no_validation"},
    prefer_skip_nested_validation=True,
)
def plot_correction_rates(results, path=None, *, ax=None):
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
    path : path-like, default=None
        Where the PNG goes (parent folders are created).
    ax : matplotlib Axes, default=None
        Where to draw; None: a new figure sized for the runs.

    Returns
    -------
    pathlib.Path or matplotlib Axes
        The PNG's path when ``path`` is given, else the Axes drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from sklearn_hser.report import plot_correction_rates
    >>> fig, ax = plt.subplots()
    >>> plot_correction_rates({"runs": []}, ax=ax) is ax
    True
    """
    title = "Fig. 2: correction rate of the text model"
    runs = _runs(results)
    if not runs:
        return _empty(ax, path, title, "no runs")

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

    ax = _axes(ax, max(6.0, 1.3 * len(systems) * max(len(splits), 1) + 2), 4.8)
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
    return _finish(ax, path)


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


@validate_params(
    {"results": [dict, None], "path": [str, os.PathLike, None], "ax": "no_validation"},
    prefer_skip_nested_validation=True,
)
def plot_neutral_pr(results, path=None, *, ax=None):
    """Fig. 3: neutral precision against recall across thresholds.

    One line per run (system and split), through the no-threshold point
    (text argmax, a star) and each threshold (a dot labelled with its value;
    points that coincide share one label).  A cross marks the speech-only S
    system of the same run, for reference.

    Parameters
    ----------
    results, path
        As in :func:`plot_correction_rates`.
    ax : matplotlib Axes, default=None
        Where to draw; None: a new figure.

    Returns
    -------
    pathlib.Path or matplotlib Axes
        The PNG's path when ``path`` is given, else the Axes drawn on.
    """
    from matplotlib.lines import Line2D

    title = "Fig. 3: neutral precision vs recall across thresholds (test set)"
    runs = [r for r in _runs(results) if _pr_points(r)]
    if not runs:
        message = "no runs" if not _runs(results) else "no precision-recall points"
        return _empty(ax, path, title, message)

    ax = _axes(ax, 8.5, 5.5)
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
    return _finish(ax, path)


def _confusions(results, kind):
    """``(run, labels, matrix)`` of each run that recorded ``kind``'s matrix."""
    out = []
    for run in _runs(results):
        confusion = (run.get("confusion") or {}).get(kind)
        if confusion and confusion.get("labels") and confusion.get("matrix"):
            matrix = np.asarray(confusion["matrix"], dtype=float)
            out.append((run, list(confusion["labels"]), matrix))
    return out


@validate_params(
    {
        "results": [dict, None],
        "path": [str, os.PathLike, None],
        "kind": [StrOptions({"S", "ST", "ST-chosen"})],
        "axes": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def plot_confusion_matrices(results, path=None, *, kind="ST", axes=None):
    """A confusion matrix per system and split, as scikit-learn displays it.

    Each panel is a :class:`sklearn.metrics.ConfusionMatrixDisplay` of the
    test set's counts; the colours show each true class's share (rows sum to
    one), so that classes of different sizes compare.

    Parameters
    ----------
    results : dict
        The return value of :func:`~sklearn_hser.experiments.run_experiment`
        (each run's ``confusion`` entry).
    path : path-like, default=None
        Where the PNG goes (parent folders are created).
    kind : {"S", "ST", "ST-chosen"}, default="ST"
        Which system of each run: speech only, the hierarchy without
        threshold, or the hierarchy at the threshold chosen on validation.
    axes : sequence of matplotlib Axes, default=None
        One per run (in the order of the runs); None: a new figure with one
        panel per run.

    Returns
    -------
    pathlib.Path or list of matplotlib Axes
        The PNG's path when ``path`` is given, else the Axes drawn on.
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    title = f"Confusion matrices ({kind}, test set)"
    panels = _confusions(results, kind)
    if not panels:
        return _empty(None if axes is None else axes[0], path, title, "no matrices")
    if axes is None:
        n_cols = min(3, len(panels))
        n_rows = math.ceil(len(panels) / n_cols)
        fig = _new_figure(4.2 * n_cols, 3.9 * n_rows)
        axes = [fig.add_subplot(n_rows, n_cols, i + 1) for i in range(len(panels))]
    elif len(axes) < len(panels):
        raise ValueError(f"{len(panels)} runs to draw but {len(axes)} axes given.")
    for ax, (run, labels, matrix) in zip(axes, panels):
        totals = matrix.sum(axis=1, keepdims=True)
        shares = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
        display = ConfusionMatrixDisplay(shares, display_labels=labels)
        display.plot(ax=ax, colorbar=False, cmap="Blues", values_format=".2f")
        # Write the counts, not the shares the colours encode.
        for (i, j), text in np.ndenumerate(display.text_):
            text.set_text(f"{int(matrix[i, j])}\n{shares[i, j]:.0%}")
            text.set_fontsize(8)
        display.im_.set_clim(0, 1)
        ax.set_title(_run_label(run), fontsize=9)
    axes[0].figure.suptitle(title, fontsize=10)
    if path is None:
        return list(axes)
    return _finish(axes[0], path)

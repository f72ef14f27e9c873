"""The emotion timeline as files: CSV, JSON, a figure and an HTML page."""

from __future__ import annotations

import base64
import json
import os
from numbers import Real
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, validate_params

from .._labels import EMOTIONS
from ..report._figures import _finish, _new_figure
from ..report._html import _CSS, _esc, _html_table

__all__ = ["plot_timeline", "write_timeline"]

# One colour per class, the same in the figure and the HTML table.
_COLOURS = {
    "neutral": "#9e9e9e",
    "happy": "#f2b01e",
    "sad": "#3b75af",
    "angry": "#c8372d",
}
_OTHER = ["#6a3d9a", "#33a02c", "#b15928", "#1f78b4"]
# Roughly the advance of one character of the 7-point font, and the height
# of one line of it, in inches.
_CHAR_INCHES = 0.055
_LINE_INCHES = 0.11
_WORDS_INCHES = 2.6  # height of the panel of words


def _colour(label, classes) -> str:
    if label in _COLOURS:
        return _COLOURS[label]
    extra = [c for c in classes if c not in _COLOURS]
    return _OTHER[extra.index(label) % len(_OTHER)] if label in extra else "#dddddd"


def _classes(table) -> list:
    return [c[2:] for c in table.columns if c.startswith("p_")] or list(EMOTIONS)


@validate_params(
    {
        "table": [pd.DataFrame],
        "title": [str, None],
        "width": [Interval(Real, 0, None, closed="neither"), None],
    },
    prefer_skip_nested_validation=True,
)
def plot_timeline(table: pd.DataFrame, *, title: str | None = None, width=None):
    """Draw the timeline: labels and probabilities over time, words below.

    The upper panel shows each class's probability as a step line over its
    segments; the band below colours each segment by its final label, and
    under the band each segment's text is written where it fits (shortened
    with an ellipsis otherwise).

    Parameters
    ----------
    table : DataFrame
        As returned by :func:`emotion_timeline`.
    title : str, default=None
        Figure title.
    width : float, default=None
        Figure width in inches; ``None`` grows it with the recording's length
        (from 10 to 40 inches).

    Returns
    -------
    matplotlib.figure.Figure
    """
    classes = _classes(table)
    end = float(table["end"].max()) if len(table) else 1.0
    width = width or float(np.clip(end / 20.0, 10.0, 40.0))
    fig = _new_figure(width, 3.0 + 0.4 + _WORDS_INCHES)
    grid = fig.add_gridspec(3, 1, height_ratios=[3.0, 0.4, _WORDS_INCHES], hspace=0.08)
    ax = fig.add_subplot(grid[0])
    band = fig.add_subplot(grid[1], sharex=ax)
    words = fig.add_subplot(grid[2], sharex=ax)
    for label in classes:
        xs, ys = [], []
        for row in table.itertuples(index=False):
            xs += [row.start, row.end, np.nan]
            p = getattr(row, f"p_{label}")
            ys += [p, p, np.nan]
        ax.plot(xs, ys, color=_colour(label, classes), label=label, lw=1.6)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("probability")
    ax.legend(
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncol=len(classes),
        fontsize=8,
        frameon=False,
    )
    if title:
        ax.set_title(title, loc="left")
    inches_per_second = width * 0.8 / end
    for row in table.itertuples(index=False):
        colour = _colour(row.prediction, classes)
        band.axvspan(row.start, row.end, color=colour, lw=0)
        # Words run upwards under their segment, shortened to the panel's
        # height, wherever the segment is at least one line wide.
        text = str(row.text)
        if text and (row.end - row.start) * inches_per_second >= _LINE_INCHES:
            room = int(_WORDS_INCHES * 0.75 / _CHAR_INCHES)
            short = text if len(text) <= room else text[: room - 1] + "…"
            words.text(
                (row.start + row.end) / 2,
                0.02,
                short,
                ha="center",
                va="bottom",
                rotation=90,
                fontsize=7,
                clip_on=True,
            )
    band.set_yticks([])
    band.set_ylabel("label", rotation=0, ha="right", va="center")
    words.set_ylim(0, 1)
    words.set_yticks([])
    words.set_xlabel("time (s)")
    for axis in (ax, band):
        axis.tick_params(labelbottom=False)
    ax.set_xlim(0, end)
    return fig


def _html_page(table, title, png) -> str:
    classes = _classes(table)
    shown = ["segment", "start", "end", "prediction", "branch", "text", "note"]
    shown += [f"p_{c}" for c in classes]
    rows = []
    for row in table[shown].itertuples(index=False):
        rows.append(
            [
                ""
                if (isinstance(v, float) and np.isnan(v))
                else (f"{v:.2f}" if isinstance(v, float) else v)
                for v in row
            ]
        )
    legend = " ".join(
        f'<span style="background:{_colour(c, classes)};padding:0 .5em">'
        f"{_esc(c)}</span>"
        for c in classes
    )
    data = base64.b64encode(png).decode("ascii")
    numeric = {"segment", "start", "end"} | {f"p_{c}" for c in classes}
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{_esc(title)}</h1>",
            f"<p>{len(table)} segments. Labels: {legend}</p>",
            f'<figure><img alt="emotion timeline" src="data:image/png;base64,{data}">'
            "</figure>",
            _html_table(shown, rows, numeric=numeric),
            "</body></html>",
        ]
    )


@validate_params(
    {"table": [pd.DataFrame], "out_dir": [str, os.PathLike], "title": [str]},
    prefer_skip_nested_validation=True,
)
def write_timeline(table: pd.DataFrame, out_dir, *, title: str = "Emotion timeline"):
    """Write the timeline table, its figure and a self-contained HTML page.

    Parameters
    ----------
    table : DataFrame
        As returned by :func:`emotion_timeline`.
    out_dir : path-like
        Folder to write into (created if needed).
    title : str, default="Emotion timeline"
        Title of the figure and the page.

    Returns
    -------
    dict
        Paths by kind: ``csv`` (``timeline.csv``), ``json``
        (``timeline.json``, a list of row objects, NaN as null), ``png``
        (``timeline.png``) and ``html`` (``timeline.html``, the figure
        embedded, no external file needed).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": out / "timeline.csv",
        "json": out / "timeline.json",
        "png": out / "timeline.png",
        "html": out / "timeline.html",
    }
    from .._atomic import atomic_write_text

    # Times to the millisecond, probabilities to 4 decimals: what the
    # figure and the page show, without float noise like 0.30000000000000004.
    rounded = _rounded(table)
    # Each file atomically: a full disk leaves the earlier file or none.
    atomic_write_text(paths["csv"], rounded.to_csv(index=False))
    records = json.loads(rounded.to_json(orient="records"))  # NaN -> null
    atomic_write_text(paths["json"], json.dumps(records, indent=1, ensure_ascii=False))
    fig = plot_timeline(table, title=title)
    _finish(fig.axes[0], paths["png"])
    page = _html_page(table, title, paths["png"].read_bytes())
    atomic_write_text(paths["html"], page)
    return paths


def _rounded(table):
    """The table with times rounded to 3 decimals and probabilities to 4."""
    decimals = {c: 3 for c in ("start", "end", "asr_confidence") if c in table}
    decimals.update({c: 4 for c in table.columns if str(c).startswith("p_")})
    return table.round(decimals)

"""The self-contained HTML report and :func:`write_report`."""

from __future__ import annotations

import base64
import html
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from sklearn.utils._param_validation import validate_params

from .._atomic import strict_json
from ._common import (
    _display_frame,
    _format_cell,
    _is_number,
    _is_numeric_column,
    _number,
    _runs,
    _skipped,
)
from ._figures import plot_confusion_matrices, plot_correction_rates, plot_neutral_pr
from ._tables import markdown_table, table_i, table_ii

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

#: File names written by :func:`write_report`, by key of its return value.
REPORT_FILES = {
    "table_ii_csv": "table_ii.csv",
    "table_ii_md": "table_ii.md",
    "table_i_csv": "table_i.csv",
    "table_i_md": "table_i.md",
    "fig2": "fig2_correction_rate.png",
    "fig3": "fig3_neutral_pr.png",
    "confusion": "confusion_matrices.png",
    "json": "results.json",
    "html": "report.html",
}


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


def _html_report(results, title, versions, t2, t1, fig2_png, fig3_png, cm_png) -> str:
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
            "gate chosen on validation",
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
                r.get("gate_labels_on_validation", ""),
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
        (
            cm_png,
            "Confusion matrices of the hierarchy (ST, no threshold) per system "
            "and split: counts, and each true class's share.",
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


@validate_params(
    {
        "results": [dict, None],
        "out_dir": [str, os.PathLike],
        "title": [str],
        "versions": [dict, None],
    },
    prefer_skip_nested_validation=True,
)
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
        (``fig3_neutral_pr.png``), ``confusion`` (``confusion_matrices.png``:
        one confusion matrix per run, of the ST system), ``json``
        (``results.json``: the results plus ``versions``, strict JSON with
        NaN written as null) and ``html`` (``report.html``: one file, figures
        embedded, no external resource).
    """
    from .._atomic import atomic_write_text as write_text

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {key: out / name for key, name in REPORT_FILES.items()}
    versions = package_versions() if versions is None else dict(versions)
    results = results or {}

    t2, t1 = table_ii(results), table_i(results)
    # Every file atomically: a full disk or a kill leaves the earlier report
    # file or none, never a torn one.
    write_text(paths["table_ii_csv"], t2.to_csv(index=False))
    write_text(paths["table_i_csv"], t1.to_csv(index=False))
    note = "" if not t2.empty else "No runs.\n\n"
    write_text(
        paths["table_ii_md"],
        "# Table II: per-class precision and recall, UA and WA (test set, %)\n\n"
        "✓ marks the threshold chosen on the validation set.\n\n"
        + note
        + markdown_table(t2),
    )
    write_text(
        paths["table_i_md"],
        "# Table I: emotional utterances the speech model called neutral, "
        "re-classified by the text model\n\n" + markdown_table(t1),
    )
    plot_correction_rates(results, paths["fig2"])
    plot_neutral_pr(results, paths["fig3"])
    plot_confusion_matrices(results, paths["confusion"])

    write_text(paths["json"], strict_json({**results, "versions": versions}))
    write_text(
        paths["html"],
        _html_report(
            results,
            title,
            versions,
            t2,
            t1,
            paths["fig2"].read_bytes(),
            paths["fig3"].read_bytes(),
            paths["confusion"].read_bytes(),
        ),
    )
    return paths

"""The report: tables, figures, JSON and the self-contained HTML file."""

import html
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from sklearn_hser._labels import EMOTIONS
from sklearn_hser.report import (
    correction_label,
    format_table_ii,
    markdown_table,
    package_versions,
    plot_correction_rates,
    plot_neutral_pr,
    table_i,
    table_ii,
    write_report,
)
from sklearn_hser.report._html import REPORT_FILES
from sklearn_hser.report._tables import TABLE_II_COLUMNS

THRESHOLDS = [0.25, 0.3, 0.4]
NASTY = 'He said <script>alert("x")</script> & left | again'
ENCODERS = {"lstm-mfcc": "MFCC-39 mean (librosa)", "w2v": "wav2vec2-base <fine-tuned>"}
TAGS = {"lstm-mfcc": "LSTM[MFCC]", "w2v": "w2v"}


def _metric_row(name, seed):
    """A ``system_row``-like dict with distinct, reproducible values."""
    rng = np.random.default_rng(seed)
    row = {"system": name}
    for c in EMOTIONS:
        row[f"{c}_precision"] = float(rng.uniform())
        row[f"{c}_recall"] = float(rng.uniform())
    row["UA"], row["WA"] = float(rng.uniform()), float(rng.uniform())
    return row


def _run(system, split, best, *, missed=10, seed=0, thresholds=THRESHOLDS):
    suffix = "D" if split == "sd" else "I"
    tag = TAGS[system]
    rows = [{"kind": "S", "threshold": None, **_metric_row(f"{tag}-S-{suffix}", seed)}]
    for k, t in enumerate([None, *thresholds]):
        name = f"{tag}-ST-{suffix}" + ("" if t is None else f" t={t:.2f}")
        corrected = min(missed, 4 + k)
        rows.append(
            {
                **_metric_row(name, seed + k + 1),
                "kind": "ST",
                "threshold": t,
                "chosen_on_validation": t == best,
                "n_emotional": 40,
                "n_missed": missed,
                "n_corrected": corrected,
                "rate": corrected / missed if missed else math.nan,
            }
        )
    pr = [
        {"threshold": None, "no_threshold": True, "precision": 0.8, "recall": 0.3}
    ] + [
        {
            "threshold": t,
            "no_threshold": False,
            "precision": 0.8 - 0.1 * (len(thresholds) - k),
            "recall": 0.3 + 0.15 * (len(thresholds) - k),
        }
        for k, t in enumerate(thresholds)
    ]
    for rec in pr:
        rec.update(n_pred_neutral=12, n_true_neutral=20, UA=0.5, WA=0.55)
    return {
        "system": system,
        "split": split,
        "speech_encoder": ENCODERS[system],
        "n_train": 80,
        "n_val": 10,
        "n_test": 10,
        "best_threshold_on_validation": best,
        "rows": rows,
        "neutral_pr": pr,
        "examples": [
            {
                "id": f"{system}-{split}-0",
                "text": NASTY,
                "true_label": "sad",
                "speech_prediction": "neutral",
                "text_prediction": "sad",
            }
        ],
        "seconds": 1.5,
    }


@pytest.fixture
def results():
    """Two systems x two splits (SI of w2v missed nothing), one skipped."""
    return {
        "config": {
            "corpus": "demo",
            "systems": ["w2v", "lstm-mfcc", "w2v-asr"],
            "splits": ["sd", "si"],
            "thresholds": THRESHOLDS,
        },
        # deliberately unsorted: SI first, systems reversed
        "runs": [
            _run("w2v", "si", 0.4, missed=0, seed=30),
            _run("lstm-mfcc", "si", 0.25, seed=20),
            _run("w2v", "sd", 0.3, seed=10),
            _run("lstm-mfcc", "sd", 0.3, seed=0),
        ],
        "skipped": [
            {
                "system": "w2v-asr",
                "split": "sd",
                "reason": "no local checkpoint given (--w2v-asr)",
            }
        ],
    }


def _png_ok(path):
    import matplotlib.image as mpimg

    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert float(np.var(image[..., :3])) > 0  # not blank
    return image


# ------------------------------------------------------------------ Table II


def test_table_ii_rows_order_and_percent(results):
    table = table_ii(results)
    assert list(table.columns) == TABLE_II_COLUMNS
    # per run: S + ST + one ST per threshold
    assert len(table) == 4 * (2 + len(THRESHOLDS))
    assert list(table["split"].unique()) == ["sd", "si"]
    sd = table[table["split"] == "sd"]
    assert sd["system"].iloc[0] == "LSTM[MFCC]-S-D"  # lstm-mfcc before w2v
    assert sd["system"].iloc[-1] == "w2v-ST-D t=0.40"
    # percent: the fraction in the record times 100
    run = results["runs"][3]  # lstm-mfcc, sd
    row = table[table["system"] == "LSTM[MFCC]-ST-D t=0.30"].iloc[0]
    record = next(r for r in run["rows"] if r["system"] == "LSTM[MFCC]-ST-D t=0.30")
    assert row["neutral precision (%)"] == pytest.approx(
        100 * record["neutral_precision"]
    )
    assert row["UA (%)"] == pytest.approx(100 * record["UA"])
    assert row["speech encoder"] == ENCODERS["lstm-mfcc"]


def test_table_ii_marks_the_chosen_threshold(results):
    table = table_ii(results)
    chosen = table[table["chosen on validation"]]
    assert sorted(chosen["system"]) == sorted(
        [
            "LSTM[MFCC]-ST-D t=0.30",
            "w2v-ST-D t=0.30",
            "LSTM[MFCC]-ST-I t=0.25",
            "w2v-ST-I t=0.40",
        ]
    )
    assert (chosen["kind"] == "ST").all()
    # without the per-row flag the run's best threshold is used
    for run in results["runs"]:
        for row in run["rows"]:
            row.pop("chosen_on_validation", None)
    assert table_ii(results)["chosen on validation"].equals(
        table["chosen on validation"]
    )


def test_format_table_ii_names_every_system(results):
    text = format_table_ii(results)
    for name in table_ii(results)["system"]:
        assert name in text
    assert "w2v-asr" in text and "no local checkpoint" in text
    assert sum(line.endswith(" *") for line in text.splitlines()) == 4
    assert format_table_ii({"runs": [], "skipped": []}).endswith("no runs")


# ------------------------------------------------------------------- Table I


def test_table_i_interleaves_runs(results):
    table = table_i(results)
    assert len(table) == 4
    assert set(table["transcript"]) == {NASTY}
    assert list(table["split"]) == ["sd", "sd", "si", "si"]
    assert len(table_i(results, max_rows=2)) == 2
    assert table_i({"runs": []}).empty


# ------------------------------------------------------------------- figures


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((7, 12, 7 / 12), "58.3%\n7/12"),
        ((0, 0, math.nan), "n/a\n0/0"),
        ((0, 0, None), "n/a\n0/0"),  # NaN after a JSON round trip
        ((0, 5, 0.0), "0.0%\n0/5"),  # a real zero stays a zero
    ],
)
def test_correction_label(counts, expected):
    assert correction_label(*counts) == expected


def test_figures_handle_edge_cases(tmp_path, results):
    # every rate undefined, a single threshold, no runs at all
    for run in results["runs"]:
        run.update(_run(run["system"], run["split"], 0.3, missed=0, thresholds=[0.3]))
    _png_ok(plot_correction_rates(results, tmp_path / "nan.png"))
    _png_ok(plot_neutral_pr(results, tmp_path / "one.png"))
    _png_ok(plot_correction_rates({"runs": []}, tmp_path / "empty2.png"))
    _png_ok(plot_neutral_pr({"runs": []}, tmp_path / "empty3.png"))


# -------------------------------------------------------------- write_report


def test_write_report(tmp_path, results):
    versions = package_versions()
    assert versions["numpy"] == np.__version__
    paths = write_report(results, tmp_path / "out", title="Demo & <test>")
    assert set(paths) == set(REPORT_FILES)
    for key, name in REPORT_FILES.items():
        assert paths[key].name == name and paths[key].is_file()

    # CSV round trip
    table = table_ii(results)
    back = pd.read_csv(paths["table_ii_csv"])
    assert list(back.columns) == TABLE_II_COLUMNS
    numeric = [c for c in TABLE_II_COLUMNS if c.endswith("(%)")] + ["threshold"]
    np.testing.assert_allclose(
        back[numeric].to_numpy(float), table[numeric].to_numpy(float), equal_nan=True
    )
    assert (
        back["chosen on validation"].tolist() == table["chosen on validation"].tolist()
    )
    assert back["system"].tolist() == table["system"].tolist()
    assert pd.read_csv(paths["table_i_csv"])["transcript"].tolist() == [NASTY] * 4

    # Markdown: escaped pipes, one line per row
    md = paths["table_ii_md"].read_text(encoding="utf-8")
    assert md.count("\n| ") == len(table) + 2  # header, rule, rows
    assert "\\|" in paths["table_i_md"].read_text(encoding="utf-8")

    # JSON: strict, whole results plus versions
    record = json.loads(
        paths["json"].read_text(encoding="utf-8"),
        parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"),
    )
    assert record["versions"]["numpy"] == np.__version__
    assert len(record["runs"]) == 4 and record["skipped"] == results["skipped"]

    # PNGs
    _png_ok(paths["fig2"])
    _png_ok(paths["fig3"])
    _png_ok(paths["confusion"])

    # HTML: self-contained and escaped
    page = paths["html"].read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<link" not in page and "<script" not in page
    assert "http://" not in page and "https://" not in page
    assert html.escape(NASTY) in page
    assert html.escape("Demo & <test>") in page
    assert "w2v-asr" in page and "no local checkpoint given (--w2v-asr)" in page
    for encoder in ENCODERS.values():
        assert html.escape(encoder) in page
    assert page.count('class="chosen"') == 4
    assert html.escape(versions["numpy"]) in page


def test_write_report_without_runs(tmp_path):
    paths = write_report({"config": {}, "runs": [], "skipped": []}, tmp_path)
    page = paths["html"].read_text(encoding="utf-8")
    assert "No runs." in page and "No examples." in page
    assert page.count("data:image/png;base64,") == 3
    assert pd.read_csv(paths["table_ii_csv"]).empty
    _png_ok(paths["fig2"])
    assert "_(no rows)_" in paths["table_i_md"].read_text(encoding="utf-8")


def test_markdown_table_escapes_cells():
    md = markdown_table(pd.DataFrame({"transcript": ["a | b\nc <i>"], "UA (%)": [0.5]}))
    assert "a \\| b c \\<i\\>" in md and "| 0.5 |" in md


def test_figures_draw_on_given_axes_and_confusion_matrices(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_hser.report import plot_confusion_matrices

    labels = ["neutral", "happy", "sad", "angry"]
    matrix = [[5, 1, 0, 0], [2, 3, 0, 1], [0, 0, 4, 0], [1, 0, 0, 6]]
    run = {
        "system": "lstm-mfcc",
        "split": "si",
        "rows": [],
        "confusion": {"ST": {"labels": labels, "matrix": matrix}},
    }
    results = {"runs": [run, {**run, "split": "sd"}]}
    fig, axes = plt.subplots(1, 3)
    drawn = plot_confusion_matrices(results, axes=axes[:2])
    assert list(drawn) == list(axes[:2])
    texts = [t.get_text() for t in axes[0].texts]
    assert "5\n83%" in texts and len(texts) == 16
    assert [t.get_text() for t in axes[0].get_xticklabels()] == labels
    assert plot_correction_rates(results, ax=axes[2]) is axes[2]
    plt.close(fig)
    _png_ok(plot_confusion_matrices(results, tmp_path / "cm.png"))
    _png_ok(plot_confusion_matrices({"runs": []}, tmp_path / "none.png"))

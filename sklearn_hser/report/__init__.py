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
* :func:`plot_confusion_matrices`: a confusion matrix per system and split;
* :func:`format_table_ii`: Table II as fixed-width text for a terminal;
* :func:`write_report`: all of the above as CSV, Markdown, PNG, JSON and one
  HTML file with the figures embedded.

matplotlib is imported only by the plotting functions, which draw on the
``ax`` they are given, or on an Agg canvas of their own (no pyplot, so the
caller's backend is left untouched).
"""

from ._figures import (
    correction_label,
    plot_confusion_matrices,
    plot_correction_rates,
    plot_neutral_pr,
)
from ._html import package_versions, write_report
from ._tables import format_table_ii, markdown_table, table_i, table_ii

__all__ = [
    "correction_label",
    "format_table_ii",
    "markdown_table",
    "package_versions",
    "plot_confusion_matrices",
    "plot_correction_rates",
    "plot_neutral_pr",
    "table_i",
    "table_ii",
    "write_report",
]

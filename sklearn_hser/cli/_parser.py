"""The argument parser of the ``hser`` command."""

from __future__ import annotations

import argparse

from .. import _cli_args as check
from ._common import CORPORA, DEMO_SYSTEMS, FEATURE_SET_NEEDS
from .features import run_cache, run_features
from .fit import run_fit
from .predict import run_predict, run_timeline
from .study import run_evaluate, run_reproduce


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help with each option's default, except where it is None or False."""

    def _get_help_string(self, action):
        if action.default is None or action.nargs == 0:  # flags: no value shown
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hser`` command."""
    from .. import __version__
    from ..hierarchy import GATE_OPTIONS
    from ..selection import SELECTIONS
    from ..systems import RECOMMENDED_SYSTEM, SPLITS, SYSTEMS, ExperimentConfig
    from ..text_models import DEFAULT_TEXT_MODEL, TEXT_CORPORA, TEXT_MODELS
    from ..threshold_tuning import DEFAULT_THRESHOLDS, SPEECH_ONLY_GATES
    from ..timeline.segmentation import VADS

    parser = check.OneLineParser(
        prog="hser",
        description="Hierarchical speech emotion recognition with text.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    # -q / -v on every sub-command: progress lines on standard error.
    verbosity = argparse.ArgumentParser(add_help=False)
    loudness = verbosity.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q",
        "--quiet",
        dest="verbosity",
        action="store_const",
        const=-1,
        default=0,
        help="no progress lines on standard error, only warnings and errors",
    )
    loudness.add_argument(
        "-v",
        "--verbose",
        dest="verbosity",
        action="store_const",
        const=1,
        help="more progress lines (each network trained, each step's time)",
    )

    def add_command(name, help):
        return sub.add_parser(
            name,
            help=help,
            description=help[0].upper() + help[1:] + ".",
            parents=[verbosity],
            formatter_class=_HelpFormatter,
        )

    def corpus_args(p, default="demo", several=False):
        if not several:
            p.add_argument(
                "--corpus",
                choices=CORPORA,
                default=default,
                help="corpus to read (demo: the embedded synthetic one)",
            )
            p.add_argument(
                "--root",
                default=None,
                help="corpus directory (not for demo; the CSV file for manifest)",
            )
            return
        p.add_argument(
            "--corpus",
            choices=CORPORA,
            action="append",
            help=f"corpus to read (default: {default}; demo: the embedded synthetic "
            "one); repeat, each with its --root, to train on several corpora",
        )
        p.add_argument(
            "--root",
            action="append",
            help="corpus directory (not for demo; the CSV file for manifest), "
            "one per --corpus, in the same order",
        )
        p.set_defaults(corpus_default=default)

    def model_args(p):
        p.add_argument(
            "--max-epochs",
            type=check.positive_int,
            default=ExperimentConfig.max_epochs,
            help="LSTM epochs",
        )
        p.add_argument(
            "--seed",
            type=check.non_negative_int,
            default=ExperimentConfig.random_state,
            help="random seed of the splits and the models",
        )
        p.add_argument(
            "--no-speaker-normalization",
            dest="speaker_normalization",
            action="store_false",
            help="feed the LSTM systems the paper's raw features (no per-speaker "
            "mean subtraction)",
        )
        p.add_argument(
            "--gate-labels",
            choices=("auto", *GATE_OPTIONS),
            default=ExperimentConfig.gate_labels,
            help="what the level-1 speech model learns: all classes and it names "
            "the emotion too (flat), all classes with a separate emotion model "
            "(all), the paper's neutral vs emotional (collapsed), or auto "
            "(chosen with the threshold on held-out speakers)",
        )
        p.add_argument(
            "--lstm-seeds",
            type=check.positive_int,
            default=ExperimentConfig.lstm_seeds,
            help="LSTM networks averaged per model, one per seed (1: the paper's "
            "single network)",
        )
        p.add_argument(
            "--selection",
            choices=SELECTIONS,
            default=ExperimentConfig.selection,
            help="how the gate and threshold are chosen on held-out speakers: "
            "one_se keeps the flat speech model unless another setting beats it "
            "by more than one standard error; best takes the top score",
        )
        p.add_argument(
            "--speech-only-gates",
            choices=SPEECH_ONLY_GATES,
            default=ExperimentConfig.speech_only_gates,
            help="which gates are candidates at threshold 0, where the text never "
            "overrides speech: the flat speech model alone (reference), "
            "or every gate, with its emotion model (every_gate)",
        )
        ckpt = dict(type=check.checkpoint_dir, default=None)
        p.add_argument(
            "--w2v-path", **ckpt, help="local wav2vec2-base directory (for w2v)"
        )
        p.add_argument(
            "--w2v-asr-path",
            **ckpt,
            help="local wav2vec2-base-960h directory (for w2v-asr)",
        )
        p.add_argument(
            "--bert-path",
            **ckpt,
            help="local BERT directory for the text model (default: the packaged "
            "MiniLM)",
        )

    def study_args(p, systems):
        p.add_argument(
            "--systems",
            default=systems,
            help=f"comma-separated speech systems, from: {', '.join(SYSTEMS)}",
        )
        p.add_argument(
            "--splits",
            default=",".join(SPLITS),
            help="comma-separated splits: sd (speaker-dependent: every speaker "
            "in training and test) and si (speaker-independent: held-out "
            "speakers)",
        )
        p.add_argument(
            "--thresholds",
            default=",".join(f"{t:.2f}" for t in DEFAULT_THRESHOLDS),
            help="comma-separated thresholds in [0, 1] at which the ST systems are "
            "scored: a sample the speech model calls neutral stays neutral when "
            "the text model's probability of neutral is at least the threshold, "
            "and takes the text model's class otherwise",
        )
        held_out = "comma-separated held-out speakers of the SI split"
        p.add_argument("--si-validation-speakers", default=None, help=held_out)
        p.add_argument("--si-test-speakers", default=None, help=held_out)

    lstm_systems = ",".join(DEMO_SYSTEMS)

    def saved_model_args(p):
        p.add_argument("model", help="file written by hser fit")
        p.add_argument(
            "--trust",
            action="store_true",
            help="load the model without safety checks (runs code it names)",
        )

    out_dir = dict(type=check.output_dir)

    reproduce = add_command("reproduce", "the paper's study on a corpus")
    corpus_args(reproduce, default="iemocap", several=True)
    study_args(
        reproduce,
        f"{RECOMMENDED_SYSTEM},lr-egemaps,{lstm_systems},w2v,w2v-asr",
    )
    model_args(reproduce)
    reproduce.add_argument(
        "--out",
        default="hser-output/reproduce",
        help="output folder (runs, cache, tables, figures, report)",
        **out_dir,
    )
    reproduce.set_defaults(run=run_reproduce)

    demo = add_command("demo", "the study on the embedded synthetic corpus")
    study_args(demo, lstm_systems)
    model_args(demo)
    demo.add_argument(
        "--out", default="hser-output/demo", help="output folder", **out_dir
    )
    demo.set_defaults(run=run_reproduce, corpus=["demo"], root=None)

    fit = add_command("fit", "fit one hierarchical system and save it")
    corpus_args(fit, several=True)
    fit.add_argument(
        "--system",
        default=RECOMMENDED_SYSTEM,
        help=f"speech system, one of: {', '.join(SYSTEMS)} ({RECOMMENDED_SYSTEM} "
        "is the recommended one)",
    )
    fit.add_argument(
        "--threshold",
        type=check.threshold_choice,
        default="auto",
        help="auto (chosen on held-out speakers), none, or a number in [0, 1]",
    )
    fit.add_argument(
        "--text-corpus",
        choices=TEXT_CORPORA,
        default=None,
        help="fit the text model on this labelled text corpus (used frozen in the "
        "hierarchy) instead of the speech corpus's transcripts",
    )
    fit.add_argument(
        "--text-root",
        default=None,
        help="the text corpus: MELD's folder, or a CSV with text and label",
    )
    fit.add_argument(
        "--text-model",
        choices=list(TEXT_MODELS),
        default=DEFAULT_TEXT_MODEL,
        help="text model fitted on --text-corpus (default: %(default)s)",
    )
    fit.add_argument(
        "--routing-validation",
        type=check.existing_file,
        default=None,
        help="manifest CSV of utterances whose words carry the emotion (e.g. "
        "voiced text-corpus sentences): choose when the words decide though the "
        "voice named an emotion (speech_confidence, voice_familiarity) on these "
        "and on held-out speakers",
    )
    fit.add_argument(
        "--cache-dir", default=".hser-cache", help="feature cache", **out_dir
    )
    fit.add_argument(
        "--out",
        default="hser-output/model.joblib",
        type=check.output_file,
        help="model file to write",
    )
    model_args(fit)
    fit.set_defaults(run=run_fit)

    predict = add_command("predict", "label audio files with a saved system")
    saved_model_args(predict)
    predict.add_argument("audio", nargs="*", help="audio files")
    predict.add_argument("--text", action="append", help="transcript (once per file)")
    predict.add_argument(
        "--csv",
        type=check.existing_file,
        help="CSV with 'audio' (and optional 'text') columns",
    )
    predict.add_argument("--json", action="store_true", help="print JSON")
    predict.add_argument(
        "--no-asr", action="store_true", help="no offline ASR for missing --text"
    )
    predict.set_defaults(run=run_predict)

    evaluate = add_command("evaluate", "score a saved system on a corpus")
    saved_model_args(evaluate)
    corpus_args(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=run_evaluate)

    feats = add_command("features", "extract feature sets of a corpus")
    corpus_args(feats, several=True)
    feats.add_argument(
        "--sets",
        default="all",
        help=f"comma-separated feature sets, from: {', '.join(FEATURE_SET_NEEDS)} "
        "(all: every installed one)",
    )
    feats.add_argument(
        "--out", default="hser-output/features", help="output folder", **out_dir
    )
    feats.add_argument("--cache-dir", default=None, help="feature cache", **out_dir)
    feats.add_argument(
        "--n-jobs", type=check.n_jobs, default=None, help="worker processes"
    )
    feats.set_defaults(run=run_features)

    cache = add_command("cache", "show the size of a feature cache, or clear it")
    cache.add_argument(
        "directory",
        nargs="?",
        default=".hser-cache",
        type=check.readable_dir,
        help="cache folder",
    )
    cache.add_argument("--clear", action="store_true", help="delete every entry")
    cache.set_defaults(run=run_cache)

    timeline = add_command("timeline", "emotions over time in a recording")
    saved_model_args(timeline)
    timeline.add_argument("recording", help="audio file of any length")
    timeline.add_argument("--transcript", help=".srt, .vtt or start,end,text .csv")
    timeline.add_argument(
        "--out", default="hser-output/timeline", help="output folder", **out_dir
    )
    timeline.add_argument(
        "--no-asr", action="store_true", help="no words without a transcript"
    )
    timeline.add_argument(
        "--vad",
        choices=VADS,
        default=VADS[0],
        help="how speech segments are found without a transcript",
    )
    timeline.add_argument(
        "--min-segment", type=float, default=0.5, help="shortest segment, seconds"
    )
    timeline.add_argument(
        "--min-pause",
        type=float,
        default=0.3,
        help="shortest pause between segments, seconds",
    )
    timeline.add_argument(
        "--max-segment", type=float, default=15.0, help="longest segment, seconds"
    )
    timeline.set_defaults(run=run_timeline)
    return parser

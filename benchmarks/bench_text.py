"""Text emotion models on MELD: every candidate against TF-IDF + LR.

Question: which text model should the hierarchy's text branch use, and how
far above the plain TF-IDF + LogisticRegression baseline is it?  Every
candidate of :data:`sklearn_hser.text_models.TEXT_MODELS` is fitted once on
MELD's train split (four classes) and scored on the dev split (where the
default is chosen) and the test split (where it is reported), in one run.
Columns: UA (macro recall), WA (accuracy), recall of each class, and the UA
difference and ratio against ``tfidf-lr`` on the same split.

The table is built section by section (one function per section, each
returning rows of the same shape), so that speech rows (speech-only, late
fusion, the hierarchy on voiced MELD and on RAVDESS) can be added as further
sections.

    python benchmarks/bench_text.py --meld ../shared/data/meld
    python benchmarks/bench_text.py --meld ../shared/data/meld --quick
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    accuracy_score,
    balanced_accuracy_score,
    recall_score,
)

from sklearn_hser._labels import EMOTIONS  # noqa: E402
from sklearn_hser.text_models import (  # noqa: E402
    DEFAULT_TEXT_MODEL,
    TEXT_MODELS,
    fit_text_model,
    load_text_corpus,
)

BASELINE = "tfidf-lr"
_SLOW = ("minilm-ft", "bert-lstm")


def score_row(section, system, data, y_true, y_pred, **extra):
    """One table row: UA, WA and per-class recall of ``y_pred``."""
    recalls = recall_score(
        y_true, y_pred, labels=list(EMOTIONS), average=None, zero_division=0
    )
    return {
        "section": section,
        "system": system,
        "data": data,
        "n": len(y_true),
        "UA": balanced_accuracy_score(y_true, y_pred),
        "WA": accuracy_score(y_true, y_pred),
        **{f"rec_{c}": r for c, r in zip(EMOTIONS, recalls)},
        **extra,
    }


def text_only_section(
    meld_root, models, *, cache_dir=None, limit=None, seed=0, n_jobs=1, threads=None
):
    """Text-only rows: each text model fitted on MELD train, scored on dev and test.

    Parameters
    ----------
    meld_root : path
        Folder of MELD's csv files.
    models : list of str
        Keys of ``TEXT_MODELS``; each may end in ``:none`` for no class
        weighting (e.g. ``"tfidf-lr:none"``).
    cache_dir : path, default=None
        Feature cache of the frozen-embedding models.
    limit : int, default=None
        Use only this many sentences of each split (smoke test).
    seed : int, default=0
        Seed of every model.
    n_jobs : int, default=1
        Models fitted at the same time, each in its own process.
    threads : int, default=None
        Torch threads of each process.
    """
    splits = {
        s: load_text_corpus("meld", meld_root, split=s)
        for s in ("train", "dev", "test")
    }
    if limit:
        splits = {
            s: df.groupby("label", group_keys=False).head(max(2, limit // 4))
            for s, df in splits.items()
        }
    # the slowest (fine-tuned, LSTM) first, so that they overlap the rest
    order = sorted(models, key=lambda m: m.split(":")[0] not in _SLOW)
    jobs = Parallel(n_jobs=n_jobs, backend="loky")(
        delayed(_text_rows)(name, splits, cache_dir, seed, threads) for name in order
    )
    jobs = dict(zip(order, jobs))
    jobs = [jobs[name] for name in models]
    return [row for rows in jobs for row in rows]


def _text_rows(name, splits, cache_dir, seed, threads):
    """Fit one text model on MELD train; its rows on dev and test."""
    if threads:
        import torch

        torch.set_num_threads(threads)
    kind, _, weighting = name.partition(":")
    class_weight = None if weighting == "none" else "balanced"
    start = time.perf_counter()
    model = fit_text_model(
        splits["train"], kind, seed, class_weight=class_weight, cache_dir=cache_dir
    )
    fit_s = time.perf_counter() - start
    rows = []
    for split in ("dev", "test"):
        df = splits[split]
        pred = model.predict(df[["text"]])
        r = score_row(
            "text-only",
            name,
            f"MELD {split}",
            df["label"].to_numpy(),
            pred,
            fit_s=fit_s,
        )
        rows.append(r)
        print(
            f"  {name} on {r['data']}: UA {r['UA']:.3f} WA {r['WA']:.3f} "
            f"(fitted in {fit_s:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    return rows


def _voiced(manifest, limit, seed):
    """A voiced manifest (``voice_texts``), or a class-stratified sample of it."""
    from sklearn_hser.datasets import load_manifest

    corpus = load_manifest(manifest)
    if limit and limit < len(corpus):
        corpus = corpus.sample(n=limit, random_state=seed).reset_index(drop=True)
    return corpus


def _with_asr_words(corpus):
    """``corpus`` with its gold words replaced by the packaged Whisper's."""
    from sklearn_hser.features import load_audio
    from sklearn_hser.timeline import WhisperTranscriber

    heard = WhisperTranscriber().transcribe([load_audio(a) for a in corpus["audio"]])
    words = heard["text"].fillna("").astype(str).str.strip().to_numpy()
    return corpus.assign(text=np.where(words == "", "...", words))


def _without_exclamations(corpus):
    """``corpus`` with each run of ``!`` (and ``?!``) written as ASR writes a
    calm voice's sentence end: ``.`` (``?`` where the run held one)."""
    calm = corpus["text"].str.replace(
        r"[!?]*![!?]*", lambda m: "?" if "?" in m.group(0) else ".", regex=True
    )
    return corpus.assign(text=calm)


def speech_text_section(
    ravdess_root,
    meld_root,
    voiced_test,
    *,
    voiced_dev=None,
    text_kind=DEFAULT_TEXT_MODEL,
    cache_dir=None,
    limit=None,
    asr=False,
    seed=0,
):
    """Speech, text and their combinations on two kinds of speech.

    The speech model (the recommended system's) is trained on RAVDESS
    actors 01-12; the text model (``text_kind``) on MELD's train split.
    Every system is scored on the held-out actors 13-18 (emotion in the
    voice, fixed neutral words), on voiced MELD test sentences (emotion in
    the words, a calm synthetic voice), and on their union: speech-only,
    text-only, late fusion (mean of probabilities), the paper's hierarchy
    (neutral/emotional gate, threshold chosen by
    :func:`~sklearn_hser.experiments.fit_system` on held-out training
    actors) and the hierarchy whose routing (``speech_confidence``,
    ``voice_familiarity``) is chosen on held-out training actors and
    ``voiced_dev`` (when given). With ``asr``, the voiced sentences are scored
    again with the packaged Whisper's words in place of the gold ones, and
    with the gold words less their exclamation marks.
    """
    from sklearn.frozen import FrozenEstimator

    from sklearn_hser.baselines import LateFusionClassifier, SpeechOnlyClassifier
    from sklearn_hser.datasets import load_ravdess
    from sklearn_hser.experiments import fit_system
    from sklearn_hser.systems import RECOMMENDED_SYSTEM, SYSTEMS, ExperimentConfig

    ravdess = load_ravdess(ravdess_root)
    test_actor = ravdess["actor"].astype(int) >= 13
    train, held_out = ravdess[~test_actor], ravdess[test_actor]
    y = train["label"].to_numpy()
    text = fit_text_model(
        load_text_corpus("meld", meld_root, split="train"),
        text_kind,
        seed,
        cache_dir=cache_dir,
    )
    config = ExperimentConfig(systems=[RECOMMENDED_SYSTEM], random_state=seed)
    speech = SYSTEMS[RECOMMENDED_SYSTEM].build(config, cache_dir)
    paper_config = ExperimentConfig(
        systems=[RECOMMENDED_SYSTEM], random_state=seed, gate_labels="collapsed"
    )
    routing = _voiced(voiced_dev, limit, seed) if voiced_dev else None
    hierarchy, chosen = fit_system(
        train,
        RECOMMENDED_SYSTEM,
        config,
        cache_dir=cache_dir,
        text_model=text,
        routing_validation=routing,
    )
    print(
        "hierarchy: "
        + ", ".join(
            f"{k}={chosen.get(k)}"
            for k in (
                "gate_labels",
                "threshold",
                "speech_confidence",
                "voice_familiarity",
            )
        )
    )
    models = {
        "speech-only": SpeechOnlyClassifier(speech).fit(train, y),
        "text-only": text,
        "late fusion": LateFusionClassifier(speech, FrozenEstimator(text)).fit(
            train, y
        ),
        "paper hierarchy": fit_system(
            train,
            RECOMMENDED_SYSTEM,
            paper_config,
            cache_dir=cache_dir,
            text_model=text,
        )[0],
        "hierarchy": hierarchy,
    }
    voiced = _voiced(voiced_test, limit, seed)
    sets = {"gold": {"RAVDESS 13-18": held_out, "voiced MELD test": voiced}}
    if asr:
        # The calm voice does not speak exclamation marks, so no recogniser
        # can hear them: the gold words without them say how much of the gap
        # between gold and ASR words is the recogniser's.
        sets["gold, no '!'"] = {"voiced MELD test": _without_exclamations(voiced)}
        sets["ASR"] = {"voiced MELD test": _with_asr_words(voiced)}
    rows = []
    for words, data in sets.items():
        if len(data) == 2:
            data["union"] = pd.concat(list(data.values()), ignore_index=True)
        for name, frame in data.items():
            for system, model in models.items():
                rows.append(
                    score_row(
                        f"speech+text ({words} words)",
                        system,
                        name,
                        frame["label"].to_numpy(),
                        model.predict(frame),
                    )
                )
                print(
                    f"  {system} on {name} ({words} words): UA {rows[-1]['UA']:.3f}",
                    file=sys.stderr,
                    flush=True,
                )
    return rows


def add_baseline_columns(rows, baseline=BASELINE):
    """``dUA``/``xUA``: UA minus / over the baseline's UA on the same data."""
    base = {r["data"]: r["UA"] for r in rows if r["system"] == baseline}
    for r in rows:
        ua0 = base.get(r["data"])
        r["dUA"] = np.nan if ua0 is None else r["UA"] - ua0
        r["xUA"] = np.nan if not ua0 else r["UA"] / ua0
    return rows


def format_table(rows):
    """The rows as one fixed-width text table (markdown-compatible)."""
    cols = ["section", "system", "data", "n", "UA", "WA"] + [
        f"rec_{c}" for c in EMOTIONS
    ]
    cols += ["dUA", "xUA"]
    head = "| " + " | ".join(cols) + " |"
    lines = [head, "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            if isinstance(v, float):
                v = "" if np.isnan(v) else (f"{v:+.3f}" if c == "dUA" else f"{v:.3f}")
            cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meld", required=True, help="folder of MELD's csv files")
    parser.add_argument(
        "--models",
        nargs="+",
        default=[
            BASELINE,
            f"{BASELINE}:none",
            "minilm-lr",
            "minilm-lr:none",
            "minilm-ft",
            "bert-lstm",
        ],
        help=f"text models (keys of TEXT_MODELS: {sorted(TEXT_MODELS)}; "
        "':none' for no class weighting)",
    )
    parser.add_argument("--cache-dir", default=None, help="feature cache folder")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument(
        "--n-jobs", type=int, default=1, help="models fitted at once (processes)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke test on a few rows")
    parser.add_argument("--json", default=None, help="also write the rows here")
    parser.add_argument(
        "--voiced-test",
        default=None,
        help="manifest of voiced MELD test sentences (voice_texts): adds the "
        "speech+text rows",
    )
    parser.add_argument(
        "--voiced-dev",
        default=None,
        help="manifest of voiced MELD dev sentences: routing validation",
    )
    parser.add_argument("--ravdess", default=None, help="RAVDESS folder")
    parser.add_argument(
        "--voiced-limit", type=int, default=None, help="sample this many voiced rows"
    )
    parser.add_argument(
        "--asr", action="store_true", help="also score with Whisper's words"
    )
    parser.add_argument(
        "--speech-text-model",
        default=DEFAULT_TEXT_MODEL,
        help="text model of the speech+text rows (default: %(default)s)",
    )
    parser.add_argument(
        "--speech-only-section",
        action="store_true",
        help="skip the text-only section",
    )
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    models = list(args.models)
    if BASELINE not in models:
        models.insert(0, BASELINE)
    rows = []
    if not args.speech_only_section:
        rows = text_only_section(
            Path(args.meld),
            models,
            cache_dir=args.cache_dir,
            limit=40 if args.quick else None,
            seed=args.seed,
            n_jobs=args.n_jobs,
            threads=args.threads,
        )
        rows = add_baseline_columns(rows)
    if args.voiced_test:
        from sklearn_hser.datasets import shared_data_dir

        ravdess = args.ravdess or shared_data_dir() / "ravdess"
        rows += speech_text_section(
            ravdess,
            Path(args.meld),
            args.voiced_test,
            voiced_dev=args.voiced_dev,
            text_kind=args.speech_text_model,
            cache_dir=args.cache_dir,
            limit=args.voiced_limit,
            asr=args.asr,
            seed=args.seed,
        )
    print(f"default text model: {DEFAULT_TEXT_MODEL}")
    print(format_table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=float))


if __name__ == "__main__":
    main()

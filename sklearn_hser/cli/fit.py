"""``hser fit``: train one hierarchical system on a corpus and save it."""

from __future__ import annotations

from pathlib import Path

from . import _common
from ._common import UsageError, _model_config, corpus_counts, load_corpora


def run_fit(args) -> int:
    """Fit one hierarchical system on a whole corpus and save it."""
    from .._atomic import exclusive_lock
    from .._fingerprint import audio_digests, corpus_fingerprint
    from ..experiments import fit_system
    from ..metrics import format_score
    from ..persistence import _saved_fit_key, save_model
    from ..systems import SYSTEMS, missing_checkpoint

    config = _model_config(args, [args.system])
    system = SYSTEMS[args.system]
    reason = missing_checkpoint(system, config)
    if reason:
        raise UsageError(f"{args.system}: {reason}")
    if (args.text_corpus is None) != (args.text_root is None):
        raise UsageError("--text-corpus and --text-root go together")
    corpus = load_corpora(args)
    text_corpus = _load_text_corpus(args)
    routing_validation = None
    if args.routing_validation is not None:
        routing_validation = _common.load_corpus("manifest", args.routing_validation)
    # The text model and the routing data are part of what is fitted.
    data = [corpus_fingerprint(corpus)]
    if text_corpus is not None:
        data += [args.text_model, corpus_fingerprint(text_corpus)]
    if routing_validation is not None:
        data.append(corpus_fingerprint(routing_validation))
    fit_key = config.digest(args.system, f"fit-{args.threshold}", data="|".join(data))
    how = (
        "threshold chosen on held-out speakers"
        if args.threshold == "auto"
        else f"threshold {args.threshold}"
    )
    # A second fit on the same --out waits for the first and keeps its model.
    with exclusive_lock(f"{args.out}.lock"):
        if _saved_fit_key(args.out) == fit_key:
            print(f"{args.out} holds this model already (same options and corpus)")
            return 0
        print(
            f"Fitting {args.system} on {corpus_counts(corpus)} of {config.corpus} "
            f"({how}) ..."
        )
        try:
            text_model = None
            if text_corpus is not None:
                from ..text_models import fit_text_model

                print(
                    f"Fitting the text model {args.text_model} on "
                    f"{len(text_corpus)} sentences of {args.text_corpus} ..."
                )
                text_model = fit_text_model(
                    text_corpus,
                    args.text_model,
                    random_state=args.seed,
                    model_path=args.bert_path,
                    cache_dir=args.cache_dir,
                )
            model, info = fit_system(
                corpus,
                args.system,
                config,
                threshold=args.threshold,
                cache_dir=args.cache_dir,
                text_model=text_model,
                routing_validation=routing_validation,
            )
        except ValueError as exc:  # e.g. features that cannot be extracted
            raise UsageError(str(exc).splitlines()[0]) from exc
        if text_corpus is not None:
            info["text_corpus"] = args.text_corpus
            info["text_model"] = args.text_model
        if "speech_confidence" in info:
            print(
                f"Routing chosen on held-out speakers and {args.routing_validation}:"
                f" speech_confidence={info['speech_confidence']}, "
                f"voice_familiarity={info['voice_familiarity']}, "
                f"threshold={info['threshold']}"
            )
        if "threshold_scores" in info:
            scores = ", ".join(
                f"{t}: {format_score(v)}" for t, v in info["threshold_scores"].items()
            )
            gates = ", ".join(
                f"{g}: {format_score(v)}" for g, v in info["gate_scores"].items()
            )
            print(
                f"Validation UA per gate ({gates}) and per threshold with the "
                f"{info['gate_labels']!r} gate ({scores}); chose "
                f"gate_labels={info['gate_labels']!r}, threshold={info['threshold']} "
                f"(selection: {config.selection})"
            )
        path = save_model(
            model,
            args.out,
            system=args.system,
            speech_encoder=system.encoder,
            corpus=config.corpus,
            fit_key=fit_key,
            train_audio=audio_digests(corpus),  # for hser evaluate's overlap note
            **info,
        )
    print(f"Saved to {path}")
    return 0


def _load_text_corpus(args):
    """The ``--text-corpus`` of ``args`` as a text/label frame, or None."""
    if args.text_corpus is None:
        return None
    from ..text_models import load_text_corpus

    if not Path(args.text_root).exists():
        raise UsageError(f"--text-root {args.text_root}: no such file or directory")
    try:
        return load_text_corpus(args.text_corpus, args.text_root)
    except ValueError as exc:
        raise UsageError(
            f"cannot read {args.text_corpus} at {args.text_root}: {exc}"
        ) from exc

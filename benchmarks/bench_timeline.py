"""Emotion timeline of long recordings: time and peak memory.

Two questions, each against a named alternative measured in the same run:

1. **Transcript path.** A ``--minutes``-long 16 kHz WAV built from the
   synthetic corpus (``--cues`` utterances with pauses) and its ``.srt``.
   ``timeline`` runs :func:`sklearn_hser.timeline.emotion_timeline` on the
   recording and the ``.srt`` (reading each cue by offset); ``separate files``
   passes the same segments, cut beforehand into one WAV file each, to the
   model's ``route`` and ``predict_proba`` as ``hser predict --csv`` does.
   The system is ``lstm-mfcc`` with the BERT (MiniLM) text model, briefly
   fitted on the synthetic corpus. Target: under 2 minutes and 2 GB for 60
   minutes and 1,000 cues.
2. **No transcript.** A ``--asr-minutes``-long recording of real speech
   (RAVDESS clips with pauses, from ``../shared/data``; synthetic audio
   otherwise) through voice activity + packed Whisper-base ASR + the
   hierarchy (``emotion_timeline(..., transcript=None)``), against
   faster-whisper's own batched pipeline transcribing the same recording
   (its VAD, 30-second chunks, no per-segment words and no emotions).
   Target: under 2 minutes for 10 minutes.

Each measurement runs in a fresh child process (import and model loading
included); its peak resident set size and CPU time (user + system) come from
``os.wait4``. On a shared machine, CPU seconds / 2 bounds what the wall time
would be on 2 idle cores better than the wall time itself.

Usage::

    python benchmarks/bench_timeline.py [--quick] [--minutes 60] [--cues 1000]
        [--asr-minutes 10] [--max-epochs 5] [--skip-asr]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TIMELINE = """
import sys
from sklearn_hser.persistence import load_model
from sklearn_hser.timeline import emotion_timeline
model, _ = load_model(sys.argv[1])
transcript = sys.argv[3] if sys.argv[3] != "-" else None
table = emotion_timeline(model, sys.argv[2], transcript)
print(len(table), "segments;", table["prediction"].value_counts().to_dict())
"""

SEPARATE = """
import sys
import pandas as pd
from sklearn_hser.persistence import load_model
model, _ = load_model(sys.argv[1])
table = pd.read_csv(sys.argv[2], keep_default_na=False)
route = model.route(table)
proba = model.predict_proba(table)
print(len(route), "files;", route["prediction"].value_counts().to_dict())
"""

WHISPER_ONLY = """
import sys
from faster_whisper import BatchedInferencePipeline, WhisperModel
from sklearn_hser.features import load_audio
from sklearn_hser.features._whisper_assets import packaged_whisper_dir
model = WhisperModel(str(packaged_whisper_dir()), device="cpu", compute_type="int8",
                     cpu_threads=2)
segments, info = BatchedInferencePipeline(model).transcribe(
    load_audio(sys.argv[1]), batch_size=8, beam_size=1)
print(sum(len(s.text) for s in segments), "characters")
"""


def _peak_of_child(code, args, log_path):
    """Run ``python -c code args``; return (status, peak MiB, wall s, CPU s)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *map(str, args)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024, seconds, cpu


def _fit_model(path, max_epochs):
    from sklearn_hser import HierarchicalClassifier
    from sklearn_hser.datasets import make_emotional_speech
    from sklearn_hser.persistence import save_model
    from sklearn_hser.systems import SYSTEMS, ExperimentConfig, build_text_model

    config = ExperimentConfig(corpus="demo", max_epochs=max_epochs)
    corpus = make_emotional_speech(n_per_speaker=20, random_state=0)
    speech = SYSTEMS["lstm-mfcc"].build(config, None)
    model = HierarchicalClassifier(speech, speech, build_text_model(config, None))
    model.fit(corpus, corpus["label"])
    save_model(model, path, system="lstm-mfcc")


def _synthetic_recording(folder, minutes, cues):
    import soundfile as sf

    from sklearn_hser.datasets import make_emotional_speech
    from sklearn_hser.timeline import concatenate_utterances, write_srt

    per_speaker = max(-(-cues // 10), 4)
    corpus = make_emotional_speech(n_per_speaker=per_speaker, random_state=1)
    corpus = corpus.head(cues)
    mean_pause = max(minutes * 60 / cues - 1.75, 0.2)
    wave, truth = concatenate_utterances(
        corpus, pause=(0.6 * mean_pause, 1.4 * mean_pause), random_state=0
    )
    sf.write(folder / "long.wav", wave, 16000, subtype="PCM_16")
    write_srt(truth, folder / "long.srt")
    # The alternative: the same cues cut into separate files beforehand.
    rows = []
    (folder / "cues").mkdir()
    for i, row in enumerate(truth.itertuples(index=False)):
        path = folder / "cues" / f"{i:05d}.wav"
        a, b = round(row.start * 16000), round(row.end * 16000)
        sf.write(path, wave[a:b], 16000, subtype="PCM_16")
        rows.append({"audio": str(path), "text": row.text})
    import pandas as pd

    pd.DataFrame(rows).to_csv(folder / "cues.csv", index=False)
    return len(wave) / 16000, len(truth)


def _speech_recording(folder, minutes):
    import glob

    import pandas as pd
    import soundfile as sf

    from sklearn_hser.datasets._paths import shared_data_dir
    from sklearn_hser.timeline import concatenate_utterances

    data = shared_data_dir()
    files = sorted(glob.glob(str(data / "ravdess" / "*" / "*.flac"))) if data else []
    if files:
        kind = "RAVDESS speech"
        corpus = pd.DataFrame({"audio": files, "text": ""})
    else:
        from sklearn_hser.datasets import make_emotional_speech

        kind = "synthetic audio (no ../shared/data)"
        corpus = make_emotional_speech(n_per_speaker=40, random_state=2)
    wave, _ = concatenate_utterances(corpus, pause=(0.5, 1.5), random_state=0)
    wave = wave[: int(minutes * 60 * 16000)]
    sf.write(folder / "speech.wav", wave, 16000, subtype="PCM_16")
    return kind, len(wave) / 16000


def _prepare(folder, args):
    _fit_model(folder / "model.joblib", args.max_epochs)
    seconds, n = _synthetic_recording(folder, args.minutes, args.cues)
    kind, speech = ("", 0.0)
    if not args.skip_asr:
        kind, speech = _speech_recording(folder, args.asr_minutes)
    (folder / "info.txt").write_text(f"{seconds}\t{n}\t{kind}\t{speech}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--cues", type=int, default=1000)
    parser.add_argument("--asr-minutes", type=float, default=10.0)
    parser.add_argument("--max-epochs", type=int, default=5)
    parser.add_argument("--skip-asr", action="store_true")
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.cues, args.asr_minutes, args.max_epochs = 1, 20, 0.5, 1
    if args.prepare:
        _prepare(Path(args.prepare), args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = folder / "model.joblib"
        print(f"fitting lstm-mfcc + BERT text ({args.max_epochs} epochs), data ...")
        # In a child: a child's peak RSS starts at its parent's at fork time,
        # so this process stays small.
        subprocess.run(
            [sys.executable, __file__, "--prepare", tmp, *(argv or sys.argv[1:])],
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        info = (folder / "info.txt").read_text().split("\t")
        seconds, n, kind, speech_seconds = float(info[0]), info[1], info[2], info[3]
        print(f"\n1. transcript path: {seconds / 60:.1f} min recording, {n} cues")
        rows = [
            ("timeline", TIMELINE, [model, folder / "long.wav", folder / "long.srt"]),
            ("separate files", SEPARATE, [model, folder / "cues.csv"]),
        ]
        results = _measure(rows, folder)
        _ratio(results, "timeline", "separate files")
        if not args.skip_asr:
            minutes = float(speech_seconds) / 60
            print(f"\n2. no transcript: {minutes:.1f} min of {kind}")
            rows = [
                ("VAD+ASR+hierarchy", TIMELINE, [model, folder / "speech.wav", "-"]),
                ("faster-whisper alone", WHISPER_ONLY, [folder / "speech.wav"]),
            ]
            results = _measure(rows, folder)
            _ratio(results, "VAD+ASR+hierarchy", "faster-whisper alone")


def _measure(rows, folder):
    results = {}
    print(f"{'run':<22} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9}  output")
    for name, code, args in rows:
        log = folder / f"{name.replace(' ', '_')}.log"
        status, peak, seconds, cpu = _peak_of_child(code, args, log)
        last = (log.read_text().strip().splitlines() or ["(no output)"])[-1]
        if status:
            last = f"FAILED ({status}): {last}"
        results[name] = (seconds, cpu, peak)
        print(f"{name:<22} {seconds:8.1f} {cpu:8.1f} {peak:9.0f}  {last[:60]}")
    return results


def _ratio(results, ours, theirs):
    (t1, c1, m1), (t2, c2, m2) = results[ours], results[theirs]
    print(
        f"ratio {ours} / {theirs}: wall {t1 / t2:.2f}x, CPU {c1 / c2:.2f}x, "
        f"peak memory {m1 / m2:.2f}x"
    )


if __name__ == "__main__":
    main()

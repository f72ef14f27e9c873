"""Are a timeline segment's words the ones spoken inside it?

Builds recordings from RAVDESS files laid end to end, so that every file's
span and sentence are known ("Kids are talking by the door" or "Dogs are
sitting by the door", field 5 of the name), finds speech segments by voice
activity as ``hser timeline`` does without a transcript, recognises their
words with the packaged Whisper-base, and checks each file's words:

* ``lost``: words of the file's sentence found in none of its segments;
* ``foreign``: words in a segment that belong to another file's sentence
  (a segment that spans two files, or words assigned to the wrong segment);
* ``split``: files whose sentence came out over several segments (a pause
  inside the sentence longer than ``--min-pause``: each part holds the
  words spoken in it, which is correct, but worth knowing).

Run::

    python benchmarks/bench_timeline_words.py /path/to/ravdess --seeds 1 2 3 4

Needs the ``asr`` extra and the packaged Whisper-base; reads the audio by
path only.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from pathlib import Path

import numpy as np

SENTENCES = {"01": "kids are talking by the door", "02": "dogs are sitting by the door"}


def _words(text: str) -> list:
    return re.findall(r"[a-z']+", text.lower())


def _sentence(path) -> list:
    """The words said in a RAVDESS file (its statement, field 5 of the name)."""
    return SENTENCES[Path(path).name.split("-")[4]].split()


def one_recording(files, min_pause: float) -> dict:
    from sklearn_hser.features import load_audio
    from sklearn_hser.features.audio import SAMPLING_RATE
    from sklearn_hser.timeline import WhisperTranscriber, speech_segments

    waves = [load_audio(f) for f in files]
    bounds = np.cumsum([0] + [len(w) for w in waves]) / SAMPLING_RATE
    recording = np.concatenate(waves)
    segments = speech_segments((recording, SAMPLING_RATE), min_pause=min_pause)
    pieces = [
        recording[int(s * SAMPLING_RATE) : int(e * SAMPLING_RATE)]
        for s, e in zip(segments["start"], segments["end"])
    ]
    start = time.perf_counter()
    heard = WhisperTranscriber(language="en").transcribe(pieces)
    seconds = time.perf_counter() - start
    got = [[] for _ in files]  # words per file, from the segments inside it
    foreign = 0
    for (s, e), text in zip(zip(segments["start"], segments["end"]), heard["text"]):
        # The file holding most of the segment.
        overlap = [max(0, min(e, b) - max(s, a)) for a, b in zip(bounds, bounds[1:])]
        k = int(np.argmax(overlap))
        said = set(SENTENCES[Path(files[k]).name.split("-")[4]].split())
        words = _words(text)
        foreign += sum(w not in said for w in words)
        got[k].append(words)
    lost = split = 0
    for f, parts in zip(files, got):
        said = SENTENCES[Path(f).name.split("-")[4]].split()
        heard_words = [w for part in parts for w in part]
        lost += sum(w not in heard_words for w in said)
        split += sum(bool(p) for p in parts) > 1
    return {
        "seconds of audio": round(float(bounds[-1]), 1),
        "files": len(files),
        "segments": len(segments),
        "words said": sum(len(_sentence(f)) for f in files),
        "lost": lost,
        "foreign": foreign,
        "split files": split,
        "asr seconds": round(seconds, 1),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="RAVDESS folder (Actor_*/*.wav or *.flac)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--files", type=int, default=17, help="files per recording")
    parser.add_argument("--min-pause", type=float, default=0.3)
    args = parser.parse_args(argv)
    every = sorted(
        str(p)
        for p in Path(args.root).glob("Actor_*/*")
        if p.suffix in (".wav", ".flac")
    )
    for seed in args.seeds:
        files = list(every)
        random.Random(seed).shuffle(files)
        print(f"seed {seed}:", one_recording(files[: args.files], args.min_pause))


if __name__ == "__main__":
    main()

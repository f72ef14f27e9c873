"""Tiny on-disk corpus trees in the exact layout of the real releases.

IEMOCAP is licensed, so tests and examples cannot use it; this module writes
a few dozen utterances in the layout of ``IEMOCAP_full_release`` (including
the traps of real copies: annotator subfolders, AppleDouble files, turns
without ids) so that :func:`sklearn_hser.datasets.iemocap.load_iemocap` is
exercised on the same file formats it meets in the wild.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from sklearn.utils._param_validation import Interval, validate_params

from .._labels import IEMOCAP_CODE_TO_LABEL

__all__ = [
    "FIXTURE_CODES",
    "FIXTURE_SAMPLE_RATE",
    "MANIFEST_NAME",
    "make_iemocap_fixture",
    "read_iemocap_fixture_manifest",
]

#: Label codes given, in this cycle, to each speaker's utterances.  Five are
#: kept by the four-class task (``exc`` merges into happy), three are dropped.
FIXTURE_CODES = ("neu", "hap", "exc", "sad", "ang", "fru", "xxx", "sur")

#: Sample rate of the fixture's wav files (that of IEMOCAP).
FIXTURE_SAMPLE_RATE = 16000

#: File name of the manifest written next to the release directory.
MANIFEST_NAME = "fixture_manifest.csv"

_RELEASE = "IEMOCAP_full_release"
_HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"
_APPLEDOUBLE_MAGIC = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "

# Words spoken per code, so text models see label-related vocabulary.
_PHRASES = {
    "neu": ["I will see you tomorrow.", "The form is on the desk.", "It is ten."],
    "hap": ["That is wonderful news!", "I love it so much.", "We did it!"],
    "exc": ["Oh wow, this is amazing!", "I can't wait to go!", "Yes, finally!"],
    "sad": ["I miss him so much.", "It is really hard to lose a child.", "Sorry."],
    "ang": ["Get out of my way!", "This is ridiculous.", "I told you already!"],
    "fru": ["Why does this never work?", "I have been waiting for hours."],
    "xxx": ["Well, I don't know.", "Maybe, whatever."],
    "sur": ["Really? Are you serious?", "What? No way."],
}
# Annotator vote words, as in the C-E1: lines of the real files.
_VOTE = {
    "neu": "Neutral",
    "hap": "Happiness",
    "exc": "Excited",
    "sad": "Sadness",
    "ang": "Anger",
    "fru": "Frustration",
    "xxx": "Other",
    "sur": "Surprise",
}


def _default_audio(label: str, index: int, rng: np.random.Generator) -> np.ndarray:
    """A voiced-like tone (harmonics, vibrato, envelope) plus a little noise."""
    sr = FIXTURE_SAMPLE_RATE
    n = int(sr * rng.uniform(0.3, 1.0))
    t = np.arange(n) / sr
    # pitch and loudness move with the label, so features are not constant
    f0 = {"angry": 230.0, "happy": 210.0, "sad": 130.0, "neutral": 160.0}.get(
        label, 180.0
    ) * rng.uniform(0.85, 1.15)
    gain = {"angry": 0.5, "happy": 0.4, "sad": 0.15, "neutral": 0.25}.get(label, 0.3)
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.03 * np.sin(2 * np.pi * 5 * t))) / sr
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6))
    # clip: sin(pi) is a hair below zero in floating point
    envelope = np.sqrt(np.clip(np.sin(np.pi * t / max(t[-1], 1e-9)), 0.0, None))
    wave = gain * envelope * voiced / 2.3 + 0.01 * rng.standard_normal(n)
    return wave.astype(np.float32)


def _check_wave(wave, index: int) -> np.ndarray:
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim != 1 or wave.size == 0 or not np.all(np.isfinite(wave)):
        raise ValueError(
            f"audio callable must return a non-empty, finite, 1-D waveform; "
            f"utterance {index} got shape {wave.shape}"
            f"{'' if np.all(np.isfinite(wave)) else ' with non-finite values'}"
        )
    return np.clip(wave, -1.0, 1.0)


def _layout(n_sessions: int, n_per_speaker: int, seed: int) -> list[dict]:
    """Utterance table of the fixture (no audio): the documented layout."""
    rng = np.random.default_rng([seed, 0])
    rows = []
    for session in range(1, n_sessions + 1):
        # the letter after "Ses01" is who leads the dialog, not who speaks
        dialogs = (f"Ses{session:02d}F_impro01", f"Ses{session:02d}M_script01_1")
        for k in range(n_per_speaker):
            for gender in ("F", "M"):
                code = FIXTURE_CODES[k % len(FIXTURE_CODES)]
                dialog = dialogs[k % 2]
                words = str(rng.choice(_PHRASES[code]))
                rows.append(
                    {
                        "id": f"{dialog}_{gender}{k // 2:03d}",
                        "session": session,
                        "dialog": dialog,
                        "gender": gender,
                        "label_raw": code,
                        "text": words,
                        "valence": float(rng.integers(2, 11)) / 2,
                        "activation": float(rng.integers(2, 11)) / 2,
                        "dominance": float(rng.integers(2, 11)) / 2,
                    }
                )
    for i, row in enumerate(rows):
        # some turns carry non-speech tokens, at the start or between words
        words = row["text"]
        if i % 3 == 0:
            raw = f"[LAUGHTER] {words}"
        elif i % 5 == 1 and " " in words:
            first, rest = words.split(" ", 1)
            raw = f"{first} [BREATHING] {rest}"
        else:
            raw = words
        row["text_raw"] = raw
    return rows


@validate_params(
    {
        "root": [str, os.PathLike],
        "n_sessions": [Interval(Integral, 1, 5, closed="both")],
        "n_per_speaker": [Interval(Integral, 1, 1000, closed="both")],
        "seed": [Interval(Integral, 0, None, closed="left")],
        "nested": ["boolean"],
        "audio": [callable, None],
    },
    prefer_skip_nested_validation=True,
)
def make_iemocap_fixture(
    root,
    *,
    n_sessions: int = 5,
    n_per_speaker: int = 8,
    seed: int = 0,
    nested: bool = False,
    audio: Callable[[str, int, np.random.Generator], np.ndarray] | None = None,
) -> Path:
    """Write a tiny IEMOCAP-like tree in the exact release layout.

    Layout of the tree (per session ``n``, ``NN = f"{n:02d}"``)::

        <root>/fixture_manifest.csv                      expected rows
        <root>/IEMOCAP_full_release/                     (twice if nested)
          SessionN/dialog/EmoEvaluation/<dialog>.txt     labels
          SessionN/dialog/EmoEvaluation/{Attribute,Categorical,
                                         Self-evaluation}/...   decoys
          SessionN/dialog/EmoEvaluation/._<dialog>.txt   AppleDouble decoy
          SessionN/dialog/transcriptions/<dialog>.txt    transcripts
          SessionN/dialog/transcriptions/._<dialog>.txt  AppleDouble decoy
          SessionN/sentences/wav/<dialog>/<utt>.wav      16 kHz mono PCM16

    Each session has two dialogs, ``SesNNF_impro01`` (improvised) and
    ``SesNNM_script01_1`` (scripted), and two speakers, ``F`` and ``M``, who
    both speak in both dialogs (so ``Ses01M_script01_1_F000`` is a female
    speaker in a dialog whose name carries ``M``).

    Label layout (deterministic, independent of ``seed``): the ``k``-th
    utterance (``k = 0 .. n_per_speaker - 1``) of every speaker has code
    ``FIXTURE_CODES[k % 8]``, i.e. ``neu, hap, exc, sad, ang, fru, xxx, sur``,
    and lies in the improvised dialog for even ``k``, the scripted one for
    odd ``k``.  With the defaults (5 sessions, 8 per speaker) that is 80
    utterances of which the four-class task keeps 50: 10 neutral, 20 happy
    (10 ``hap`` + 10 ``exc``), 10 sad, 10 angry; each of the 10 speakers
    holds 1 neutral, 2 happy, 1 sad, 1 angry.

    Transcripts: row ``i`` of the manifest starts with ``[LAUGHTER]`` when
    ``i % 3 == 0``, else has ``[BREATHING]`` after its first word when
    ``i % 5 == 1``.  Every transcript file also holds turns that are not
    utterances (``M: hello``, ``F: [LAUGHTER]``) and one unlabelled id
    (``<dialog>_MXX0``).  The decoy files contain label-like lines with ids
    ``<dialog>_F900`` .. ``_M903`` and transcript lines reading ``DECOY``: a
    loader that reads them produces extra rows or wrong text.

    Parameters
    ----------
    root : str or path-like
        Directory to write into (created if needed).  Its
        ``IEMOCAP_full_release`` subfolder must not exist yet.
    n_sessions : int, default=5
        Number of sessions, 1-5.
    n_per_speaker : int, default=8
        Utterances per speaker (1-1000); a multiple of 8 gives every speaker
        every code.
    seed : int, default=0
        Seed (non-negative) of the word choice, dimensional ratings and audio.
    nested : bool, default=False
        Write ``IEMOCAP_full_release/IEMOCAP_full_release/`` as some copies do.
    audio : callable, optional
        ``audio(label, index, rng) -> 1-D float32 waveform`` at 16 kHz, called
        once per utterance in manifest order.  ``label`` is the four-class
        name (``"neutral"``, ``"happy"``, ``"sad"``, ``"angry"``) for kept
        codes and the raw code (``"fru"``, ``"xxx"``, ``"sur"``) otherwise;
        ``index`` is the manifest row; ``rng`` a seeded
        ``numpy.random.Generator`` reserved for audio.  Values are clipped to
        [-1, 1].  Default: voiced-like tones of 0.3-1.0 s plus noise.

    Returns
    -------
    release : pathlib.Path
        The directory that directly contains ``Session1`` ...  The manifest
        (:func:`read_iemocap_fixture_manifest`) lies in ``root``.
    """
    root = Path(root).expanduser().resolve()
    top = root / _RELEASE
    if top.exists():
        raise FileExistsError(f"{top} already exists; use an empty directory")
    release = top / _RELEASE if nested else top

    rows = _layout(int(n_sessions), int(n_per_speaker), int(seed))
    make_audio = _default_audio if audio is None else audio
    audio_rng = np.random.default_rng([int(seed), 1])

    # audio first: the turn times follow from the waveform lengths
    clock: dict[str, float] = {}
    for i, row in enumerate(rows):
        code = row["label_raw"]
        wave = _check_wave(
            make_audio(IEMOCAP_CODE_TO_LABEL.get(code, code), i, audio_rng), i
        )
        rel = Path(f"Session{row['session']}/sentences/wav/{row['dialog']}")
        (release / rel).mkdir(parents=True, exist_ok=True)
        sf.write(
            release / rel / f"{row['id']}.wav",
            wave,
            FIXTURE_SAMPLE_RATE,
            subtype="PCM_16",
        )
        start = clock.get(row["dialog"], 1.0)
        end = start + wave.size / FIXTURE_SAMPLE_RATE
        clock[row["dialog"]] = end + 0.25
        row["start"] = round(start, 4)
        row["end"] = round(end, 4)
        row["wav"] = (rel / f"{row['id']}.wav").as_posix()

    by_dialog: dict[tuple[int, str], list[dict]] = {}
    for row in rows:
        by_dialog.setdefault((row["session"], row["dialog"]), []).append(row)
    for (session, dialog), turns in by_dialog.items():
        _write_dialog(release / f"Session{session}", dialog, turns)

    manifest = pd.DataFrame(rows)[
        [
            "id",
            "session",
            "dialog",
            "gender",
            "label_raw",
            "valence",
            "activation",
            "dominance",
            "start",
            "end",
            "text_raw",
            "text",
            "wav",
        ]
    ]
    manifest.to_csv(root / MANIFEST_NAME, index=False)
    return release


def _fmt_label_line(row: dict) -> str:
    return (
        f"[{row['start']:.4f} - {row['end']:.4f}]\t{row['id']}\t{row['label_raw']}\t"
        f"[{row['valence']:.4f}, {row['activation']:.4f}, {row['dominance']:.4f}]"
    )


def _write_dialog(session_dir: Path, dialog: str, turns: list[dict]) -> None:
    emo = session_dir / "dialog" / "EmoEvaluation"
    trans = session_dir / "dialog" / "transcriptions"
    for d in (emo / "Attribute", emo / "Categorical", emo / "Self-evaluation", trans):
        d.mkdir(parents=True, exist_ok=True)

    # consensus labels: header, blank line, blocks separated by blank lines
    lines = [_HEADER, ""]
    for row in turns:
        vote = _VOTE[row["label_raw"]]
        lines += [
            _fmt_label_line(row),
            f"C-E1:\t{vote};\t()",
            f"C-E2:\t{vote}; Other;\t(tone)",
            "C-F1:\tNeutral;\t()",
            f"A-E3:\tval {int(row['valence'])}; act {int(row['activation'])}; "
            f"dom  {int(row['dominance'])};\t()",
            "",
        ]
    (emo / f"{dialog}.txt").write_text("\n".join(lines) + "\n")

    # decoys: label-like lines with ids that are not in the consensus file
    decoy = {
        **turns[0],
        "valence": 1.0,
        "activation": 1.0,
        "dominance": 1.0,
    }
    (emo / "Attribute" / f"{dialog}_atr.txt").write_text(
        "".join(
            f"{r['id']} :val {int(r['valence'])}; act 3; dom  3; ()\n" for r in turns
        )
        + _fmt_label_line({**decoy, "id": f"{dialog}_F900", "label_raw": "neu"})
        + "\n"
    )
    (emo / "Categorical" / f"{dialog}_e1_cat.txt").write_text(
        "".join(f"{r['id']} :{_VOTE[r['label_raw']]}; ()\n" for r in turns)
        + _fmt_label_line({**decoy, "id": f"{dialog}_M901", "label_raw": "ang"})
        + "\n"
    )
    (emo / "Self-evaluation" / f"{dialog}.txt").write_text(
        "\n".join(
            [
                _HEADER,
                "",
                _fmt_label_line({**decoy, "id": f"{dialog}_F902", "label_raw": "hap"}),
                "",
            ]
        )
    )
    (emo / f"._{dialog}.txt").write_bytes(
        _APPLEDOUBLE_MAGIC
        + b"\n"
        + _fmt_label_line(
            {**decoy, "id": f"{dialog}_M903", "label_raw": "neu"}
        ).encode()
        + b"\n"
    )

    # transcripts, in turn order, with non-utterance lines mixed in
    lines = []
    for j, row in enumerate(turns):
        lines.append(
            f"{row['id']} [{row['start']:08.4f}-{row['end']:08.4f}]: {row['text_raw']}"
        )
        if j == 0:
            lines.append("M: hello")
        if j == 1:
            lines.append("F: [LAUGHTER]")
    last_end = turns[-1]["end"]
    lines.append(f"{dialog}_MXX0 [{last_end + 0.3:08.4f}-{last_end + 0.9:08.4f}]: Hmm.")
    (trans / f"{dialog}.txt").write_text("\n".join(lines) + "\n")
    (trans / f"._{dialog}.txt").write_bytes(
        _APPLEDOUBLE_MAGIC
        + b"\n"
        + "".join(
            f"{r['id']} [{r['start']:08.4f}-{r['end']:08.4f}]: DECOY\n" for r in turns
        ).encode()
    )
    wav_dir = session_dir / "sentences" / "wav" / dialog
    (wav_dir / f"._{turns[0]['id']}.wav").write_bytes(_APPLEDOUBLE_MAGIC)


@validate_params(
    {"root": [str, os.PathLike]},
    prefer_skip_nested_validation=True,
)
def read_iemocap_fixture_manifest(root) -> pd.DataFrame:
    """Read the manifest written by :func:`make_iemocap_fixture`.

    Parameters
    ----------
    root : str or path-like
        The ``root`` given to :func:`make_iemocap_fixture`.

    Returns
    -------
    manifest : pandas.DataFrame
        One row per utterance written (every code, before any label mapping):
        ``id``, ``session`` (int), ``dialog``, ``gender``, ``label_raw``,
        ``valence``, ``activation``, ``dominance``, ``start``, ``end``
        (float), ``text_raw`` (as in the transcript file), ``text`` (the
        words without non-speech tokens) and ``wav`` (path relative to the
        release directory, POSIX separators).
    """
    return pd.read_csv(
        Path(root) / MANIFEST_NAME,
        keep_default_na=False,
        dtype={
            "id": str,
            "dialog": str,
            "gender": str,
            "label_raw": str,
            "text_raw": str,
            "text": str,
            "wav": str,
        },
    )

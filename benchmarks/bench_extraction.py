"""Feature extraction: our transformers against the libraries called directly.

For each feature set it times, on the same files and in the same run:

* ``direct``: the underlying library (librosa, openSMILE, onnxruntime,
  transformers) called in a plain Python loop, one file at a time;
* ``n_jobs=1`` and ``n_jobs=2``: the transformer, no cache;
* ``cached``: the transformer again over a warm cache directory.

and prints seconds, throughput (seconds of audio per second) and the ratios
``n_jobs=1 / direct`` (overhead), ``n_jobs=1 / n_jobs=2`` (parallel speed-up)
and ``uncached / cached``.

Usage::

    python benchmarks/bench_extraction.py [--root ../shared/data/ravdess]
        [--limit 504] [--sets mfcc,handcrafted,gemaps,wakehubert,whisper,bert]

``whisper``'s direct alternative is CTranslate2's own encoder (int8, last
layer) on the 30-second padded input, as faster-whisper runs it; the
transformer computes every layer in torch on the unpadded clip.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _direct_mfcc(path):
    import librosa

    y, _ = librosa.load(path, sr=16000)
    m = librosa.feature.mfcc(y=y, sr=16000, n_mfcc=13)
    return np.vstack(
        [m, librosa.feature.delta(m), librosa.feature.delta(m, order=2)]
    ).mean(1)


def _direct_handcrafted(path):
    import librosa

    y, _ = librosa.load(path, sr=16000)
    y = y.astype(np.float64)
    rms = librosa.feature.rms(y=y)[0]
    level = 0.45 * np.abs(y).mean()
    clipped = np.where(y >= level, y - level, np.where(y <= -level, y + level, 0.0))
    ac = librosa.autocorrelate(clipped)
    return [
        np.abs(y).mean(),
        y.std(),
        rms.mean(),
        rms.std(),
        np.mean(rms <= 0.4 * rms.mean()),
        1000 * librosa.effects.hpss(y)[0].mean(),
        1000 * ac.max() / len(ac),
        ac.std(),
    ]


_SMILE = None


def _direct_gemaps(path):
    global _SMILE
    import opensmile

    if _SMILE is None:
        _SMILE = opensmile.Smile(
            feature_set=opensmile.FeatureSet.GeMAPSv01b,
            feature_level=opensmile.FeatureLevel.Functionals,
        )
    return _SMILE.process_file(path).to_numpy()[0]


_ORT = None


def _direct_wakehubert(path):
    global _ORT
    import soundfile as sf

    from sklearn_hser.features.speech_encoder import wakehubert_model_path

    if _ORT is None:
        import onnxruntime as ort

        _ORT = ort.InferenceSession(
            str(wakehubert_model_path()), providers=["CPUExecutionProvider"]
        )
    wav, _ = sf.read(path, dtype="float32")
    return _ORT.run(None, {"waveform": wav[None]})[0][0].mean(0)


_CT2 = None


def _direct_whisper(path):
    """What a faster-whisper user would do: CTranslate2's encoder (last layer,
    int8) on the 30-second padded log-mel, mean over the clip's frames."""
    global _CT2
    import ctranslate2
    import soundfile as sf
    from faster_whisper.feature_extractor import FeatureExtractor

    from sklearn_hser.features._whisper_assets import packaged_whisper_dir

    if _CT2 is None:
        model = ctranslate2.models.Whisper(
            str(packaged_whisper_dir()), device="cpu", compute_type="int8"
        )
        _CT2 = (model, FeatureExtractor())
    model, extractor = _CT2
    wav, _ = sf.read(path, dtype="float32")
    padded = np.zeros(480_000, np.float32)
    padded[: len(wav)] = wav[:480_000]
    mel = extractor(padded)[None, :, :3000].astype(np.float32)
    encoded = np.array(model.encode(ctranslate2.StorageView.from_array(mel)))
    return encoded[0, : max(1, len(wav) // 320)].mean(0)


_BERT = None


def _direct_bert(text):
    global _BERT
    import torch
    from transformers import AutoModel, AutoTokenizer

    from sklearn_hser.features.text import default_text_model_path

    if _BERT is None:
        path = default_text_model_path()
        _BERT = (
            AutoTokenizer.from_pretrained(path),
            AutoModel.from_pretrained(path).eval(),
        )
    tok, model = _BERT
    with torch.inference_mode():
        return (
            model(**tok(text, return_tensors="pt")).last_hidden_state[0, 1:-1].numpy()
        )


def _extractor(name, **kw):
    from sklearn_hser import features as f

    return {
        "mfcc": lambda: f.MFCC(**kw),
        "handcrafted": lambda: f.HandcraftedFeatures(**kw),
        "gemaps": lambda: f.GeMAPS(**kw),
        "wakehubert": lambda: f.WakeHuBERTEmbeddings(**kw),
        "whisper": lambda: f.WhisperEmbeddings(**kw),
        "bert": lambda: f.BertTokenEmbeddings(**kw),
    }[name]()


DIRECT = {
    "mfcc": _direct_mfcc,
    "handcrafted": _direct_handcrafted,
    "gemaps": _direct_gemaps,
    "wakehubert": _direct_wakehubert,
    "whisper": _direct_whisper,
    "bert": _direct_bert,
}


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_root = os.environ.get("HSER_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--root", default=str(Path(default_root) / "ravdess"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument(
        "--sets", default="mfcc,handcrafted,gemaps,wakehubert,whisper,bert"
    )
    args = parser.parse_args(argv)

    import soundfile as sf

    from sklearn_hser.datasets import load_ravdess

    corpus = load_ravdess(args.root)
    if args.limit:
        corpus = corpus.iloc[: args.limit]
    paths = corpus["audio"].tolist()
    texts = corpus["text"].tolist()
    audio_seconds = sum(sf.info(p).duration for p in paths)
    print(f"{len(paths)} files, {audio_seconds:.0f} s of audio, {os.cpu_count()} CPUs")
    header = f"{'set':<12}{'direct':>9}{'n_jobs=1':>10}{'n_jobs=2':>10}{'cached':>9}"
    header += f"{'audio s/s':>11}{'1/direct':>10}{'1/2':>7}{'uncached/cached':>17}"
    print(header)
    for name in args.sets.split(","):
        inputs = texts if name == "bert" else paths
        direct_fn = DIRECT[name]
        # Warm-up outside the timings: models loaded, worker processes started
        # (joblib reuses them across calls, as in a search over many fits).
        direct_fn(inputs[0])
        _extractor(name).transform(inputs[:1])
        _extractor(name, n_jobs=2).transform(inputs[:8])
        direct = _timed(lambda: [direct_fn(x) for x in inputs])
        serial = _timed(lambda: _extractor(name, n_jobs=1).transform(inputs))
        parallel = _timed(lambda: _extractor(name, n_jobs=2).transform(inputs))
        with tempfile.TemporaryDirectory() as cache:
            _extractor(name, cache_dir=cache).transform(inputs)
            cached = _timed(lambda: _extractor(name, cache_dir=cache).transform(inputs))
        print(
            f"{name:<12}{direct:>8.1f}s{serial:>9.1f}s{parallel:>9.1f}s{cached:>8.2f}s"
            f"{audio_seconds / serial:>11.0f}{serial / direct:>10.2f}"
            f"{serial / parallel:>7.2f}{serial / cached:>17.0f}"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()

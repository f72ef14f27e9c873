"""Training: the skorch-owning estimators against hand-written torch loops.

For each case it trains, on the same data, with the same module class, batch
size, optimizer, learning rate and number of epochs (no validation split, no
early stopping, no standardization in either), and times in the same run:

* ``skorch``: the package's estimator, ``fit`` (``LSTMClassifier`` or
  ``Wav2Vec2Classifier``);
* ``loop``: a hand-written loop over the same module (``LSTMModule`` or
  ``Wav2Vec2Module``) with a ``DataLoader`` and the package's collate
  function (``collate_frames`` / ``WaveformCollate``), the named alternative
  (target: skorch <= 1.15x loop);
* ``tensors`` (LSTM cases only): the tightest loop, slicing preloaded tensors
  (padding each batch of sequences with ``pad_sequence``), no ``DataLoader``,
  for contrast.

Each time covers a whole training run: building the module and optimizer
(loading the checkpoint, for wav2vec2) and every epoch. The measurements are
interleaved and repeated; the median is reported, per step (one optimizer
step per mini-batch), with the ratios ``skorch / loop`` and
``skorch / tensors``.

Cases: ``lstm-fixed`` (4096 x 39 vectors, each a one-frame sequence),
``lstm-seq`` (1024 sequences of 20-100 frames x 39) and ``w2v`` (wav2vec2
fine-tuning, CNN frozen, on waveforms of the synthetic corpus, with the tiny
random model of ``sklearn_hser.models._tiny`` unless ``--model-path`` names a
local checkpoint).

Usage::

    python benchmarks/bench_training_step.py [--quick] [--cases lstm-fixed,lstm-seq,w2v]
        [--epochs 5] [--repeat 5] [--threads 1] [--model-path DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np

N_CLASSES = 4


# -- data ---------------------------------------------------------------------
def _fixed_data(n, width, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, N_CLASSES, n)
    X = rng.normal(size=(n, width)).astype(np.float32) + y[:, None] * 0.1
    return X.astype(np.float32), y.astype(np.int64)


def _sequence_data(n, width, min_len, max_len, seed=0):
    from sklearn_hser._sequences import make_sequence_array

    rng = np.random.default_rng(seed)
    y = rng.integers(0, N_CLASSES, n)
    seqs = [
        rng.normal(size=(int(rng.integers(min_len, max_len + 1)), width)).astype(
            np.float32
        )
        + np.float32(0.1 * label)
        for label in y
    ]
    return make_sequence_array(seqs), y.astype(np.int64)


def _waveform_data(n, seconds):
    from sklearn_hser.datasets import make_emotional_speech

    corpus = make_emotional_speech(
        n_sessions=1,
        n_per_speaker=max(4, n // 2),
        duration=seconds,
        random_state=0,
    ).iloc[:n]
    codes = {label: i for i, label in enumerate(sorted(set(corpus["label"])))}
    y = np.array([codes[label] for label in corpus["label"]], dtype=np.int64)
    return list(corpus["audio"]), y


# -- LSTM ---------------------------------------------------------------------
LSTM_SIZES = {"hidden_size": 128, "fc_size": 64}


def _lstm_skorch(X, y, batch_size, epochs):
    from sklearn_hser.models import LSTMClassifier

    clf = LSTMClassifier(
        **LSTM_SIZES,
        batch_size=batch_size,
        max_epochs=epochs,
        validation_fraction=None,
        standardize=False,
        random_state=0,
    )
    start = time.perf_counter()
    clf.fit(X, y)
    return time.perf_counter() - start


def _lstm_module(width):
    import torch

    from sklearn_hser.models.lstm import LSTMClassifier, LSTMModule

    torch.manual_seed(0)
    architecture = {
        name: LSTMClassifier().get_params()[name]
        for name in ("num_layers", "bidirectional", "dropout", "pooling")
    }
    module = LSTMModule(width, N_CLASSES, **LSTM_SIZES, **architecture)
    return module, torch.optim.Adam(module.parameters(), lr=1e-3)


def _train(module, optimizer, batches, epochs):
    """The loop every hand-written variant shares."""
    import torch

    criterion = torch.nn.CrossEntropyLoss()
    module.train()
    for _ in range(epochs):
        for inputs, target in batches():
            optimizer.zero_grad()
            loss = criterion(module(**inputs), target)
            loss.backward()
            optimizer.step()


def _lstm_loop(X, y, batch_size, epochs):
    """DataLoader over (item, target) pairs with the package's collate."""
    import torch

    from sklearn_hser.models.lstm import collate_frames

    start = time.perf_counter()
    module, optimizer = _lstm_module(X[0].shape[-1])
    loader = torch.utils.data.DataLoader(
        list(zip(X, y)), batch_size=batch_size, shuffle=True, collate_fn=collate_frames
    )
    _train(module, optimizer, lambda: loader, epochs)
    return time.perf_counter() - start


def _lstm_tensors(X, y, batch_size, epochs):
    """Preloaded tensors sliced by a random permutation; no DataLoader."""
    import torch
    from torch.nn.utils.rnn import pad_sequence

    start = time.perf_counter()
    module, optimizer = _lstm_module(X[0].shape[-1])
    target = torch.from_numpy(y)
    if X.dtype == object:
        seqs = [torch.from_numpy(s) for s in X]
        lengths = torch.tensor([len(s) for s in seqs])

        def inputs(idx):
            batch = [seqs[i] for i in idx.tolist()]
            return {"x": pad_sequence(batch, batch_first=True), "lengths": lengths[idx]}

    else:
        frames = torch.from_numpy(X)[:, None, :]
        ones = torch.ones(len(X), dtype=torch.int64)

        def inputs(idx):
            return {"x": frames[idx], "lengths": ones[idx]}

    def batches():
        order = torch.randperm(len(y))
        for begin in range(0, len(y), batch_size):
            idx = order[begin : begin + batch_size]
            yield inputs(idx), target[idx]

    _train(module, optimizer, batches, epochs)
    return time.perf_counter() - start


# -- wav2vec2 -----------------------------------------------------------------
W2V_LR = 3e-5


def _w2v_skorch(model_path, waves, y, batch_size, epochs, max_duration):
    from sklearn_hser.models import Wav2Vec2Classifier

    clf = Wav2Vec2Classifier(
        model_path=model_path,
        batch_size=batch_size,
        max_epochs=epochs,
        max_duration=max_duration,
        lr=W2V_LR,
        random_state=0,
    )
    start = time.perf_counter()
    clf.fit(waves, y)
    return time.perf_counter() - start


def _w2v_loop(model_path, waves, y, batch_size, epochs, max_duration):
    import torch

    from sklearn_hser.models.wav2vec2 import (
        Wav2Vec2Module,
        WaveformCollate,
        _receptive_field,
    )

    start = time.perf_counter()
    torch.manual_seed(0)
    module = Wav2Vec2Module(model_path, N_CLASSES)
    config = module.encoder.config
    optimizer = torch.optim.AdamW(module.parameters(), lr=W2V_LR, weight_decay=0.0)
    collate = WaveformCollate(
        max_samples=None if max_duration is None else int(max_duration * 16000),
        min_samples=_receptive_field(config.conv_kernel, config.conv_stride),
        random_crop=True,
        seed=0,
    )
    loader = torch.utils.data.DataLoader(
        list(zip(waves, y)), batch_size=batch_size, shuffle=True, collate_fn=collate
    )
    _train(module, optimizer, lambda: loader, epochs)
    return time.perf_counter() - start


# -- driver -------------------------------------------------------------------
def _measure(fns: dict, repeat: int) -> dict:
    """Median seconds of each function; runs interleaved, after a warm-up."""
    times = {name: [] for name in fns}
    for fn in fns.values():
        fn(epochs=1)  # warm-up: imports, allocator, kernels
    for _ in range(repeat):
        for name, fn in fns.items():
            times[name].append(fn())
    return {name: statistics.median(runs) for name, runs in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes")
    parser.add_argument("--cases", default="lstm-fixed,lstm-seq,w2v")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5, help="median of N runs")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--batch-size", type=int, default=64, help="LSTM batch")
    parser.add_argument("--n-fixed", type=int, default=4096)
    parser.add_argument("--n-seq", type=int, default=1024)
    parser.add_argument("--model-path", default=None, help="local wav2vec2 checkpoint")
    parser.add_argument("--w2v-n", type=int, default=64, help="utterances")
    parser.add_argument("--w2v-batch-size", type=int, default=8)
    parser.add_argument("--w2v-epochs", type=int, default=None, help="default --epochs")
    parser.add_argument("--w2v-max-duration", type=float, default=6.0)
    args = parser.parse_args(argv)
    if args.quick:
        args.n_fixed, args.n_seq, args.w2v_n = 512, 128, 16
        args.epochs, args.repeat = 2, 1
    w2v_epochs = args.w2v_epochs or args.epochs

    import torch

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    warnings.filterwarnings("ignore", category=UserWarning)
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} torch thread(s) in "
        f"every variant, {os.cpu_count()} CPUs; median of {args.repeat}"
    )
    header = f"{'case':<34}{'steps':>6}{'skorch':>10}{'loop':>10}{'tensors':>10}"
    header += f"{'skorch/loop':>13}{'skorch/tensors':>16}"
    rows = []

    def report(case, steps, times):
        per_step = {k: 1000 * v / steps for k, v in times.items()}
        tensors = per_step.get("tensors")
        row = (
            f"{case:<34}{steps:>6}{per_step['skorch']:>8.2f}ms"
            f"{per_step['loop']:>8.2f}ms"
            + (f"{tensors:>8.2f}ms" if tensors else f"{'-':>10}")
            + f"{times['skorch'] / times['loop']:>13.2f}"
            + (f"{times['skorch'] / times['tensors']:>16.2f}" if tensors else "")
        )
        rows.append(row)
        print(f"  done: {row}")
        sys.stdout.flush()

    cases = args.cases.split(",")
    unknown = set(cases) - {"lstm-fixed", "lstm-seq", "w2v"}
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}")
    for case in cases:
        if case == "w2v":
            continue
        if case == "lstm-fixed":
            X, y = _fixed_data(args.n_fixed, 39)
            name = f"LSTM fixed {len(X)}x39, batch {args.batch_size}"
        else:
            X, y = _sequence_data(args.n_seq, 39, 20, 100)
            name = f"LSTM seq {len(X)}x(20-100)x39, b {args.batch_size}"
        b, e = args.batch_size, args.epochs
        times = _measure(
            {
                "skorch": lambda epochs=e: _lstm_skorch(X, y, b, epochs),
                "loop": lambda epochs=e: _lstm_loop(X, y, b, epochs),
                "tensors": lambda epochs=e: _lstm_tensors(X, y, b, epochs),
            },
            args.repeat,
        )
        report(name, e * -(-len(y) // b), times)

    if "w2v" in cases:
        with tempfile.TemporaryDirectory(prefix="hser-tiny-w2v-") as tmp:
            model_path = args.model_path
            if model_path is None:
                from sklearn_hser.models._tiny import save_tiny_wav2vec2

                model_path = str(save_tiny_wav2vec2(tmp))
                label = "tiny"
            else:
                label = os.path.basename(os.path.normpath(model_path))
            waves, y = _waveform_data(args.w2v_n, (2.0, 4.0))
            b, e, dur = args.w2v_batch_size, w2v_epochs, args.w2v_max_duration
            times = _measure(
                {
                    "skorch": lambda epochs=e: _w2v_skorch(
                        model_path, waves, y, b, epochs, dur
                    ),
                    "loop": lambda epochs=e: _w2v_loop(
                        model_path, waves, y, b, epochs, dur
                    ),
                },
                args.repeat,
            )
            report(
                f"w2v {label} {len(y)}x(2-4 s), batch {b}", e * -(-len(y) // b), times
            )

    print()
    print("per optimizer step, whole training run (module build + all epochs):")
    print(header)
    for row in rows:
        print(row)
    print(
        "\nskorch/loop: package estimator against a hand-written DataLoader loop "
        "over the same module and collate (target <= 1.15x)"
    )
    print("skorch/tensors: against a loop over preloaded tensors (no DataLoader)")


if __name__ == "__main__":
    main()

"""wav2vec2 fine-tuning steps on the GPU against the same steps on the CPU.

Trains ``Wav2Vec2Classifier`` (CNN feature encoder frozen, transformer and
head fine-tuned, AdamW) on the same small batch of synthetic 16 kHz
utterances, in the same run:

* ``cpu``: ``device="cpu"`` (float32), the named alternative;
* ``cuda fp32``: ``device="cuda"``, ``mixed_precision=None``;
* ``cuda amp``: ``device="cuda"``, ``mixed_precision="auto"`` (bfloat16
  autocast where the GPU supports it, else float16 with loss scaling), the
  estimator's default on a GPU.

The time of a step is read from skorch's per-epoch durations (the first
epoch, which pays for CUDA initialisation and kernel selection, is left
out) divided by the optimizer steps of an epoch. It prints seconds per step,
steps per second and the speed-up ``cpu / gpu`` (how many times faster the
GPU step is).

Without CUDA (no NVIDIA GPU, or a CPU-only torch build) it says so and exits
with status 0. Nothing is downloaded: the model is the tiny random wav2vec2
of ``sklearn_hser.models._tiny`` unless ``--model-path`` names a local
checkpoint (e.g. a copy of facebook/wav2vec2-base).

Usage::

    python benchmarks/bench_gpu_w2v.py [--quick] [--model-path DIR]
        [--batch-size 4] [--steps 4] [--epochs 3] [--seconds 4] [--repeat 3]
        [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _data(n, seconds):
    import numpy as np

    from sklearn_hser.datasets import make_emotional_speech

    corpus = make_emotional_speech(
        n_sessions=1,
        n_per_speaker=max(4, -(-n // 2)),
        duration=(seconds, seconds),
        random_state=0,
    ).iloc[:n]
    return list(corpus["audio"]), np.asarray(corpus["label"])


def _fit(model_path, waves, y, device, amp, batch_size, epochs):
    import torch

    from sklearn_hser.models import Wav2Vec2Classifier

    clf = Wav2Vec2Classifier(
        model_path=model_path,
        batch_size=batch_size,
        max_epochs=epochs,
        max_duration=None,
        device=device,
        mixed_precision=amp,
        random_state=0,
    )
    clf.fit(waves, y)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return clf


def _seconds_per_step(model_path, waves, y, device, amp, batch_size, epochs):
    clf = _fit(model_path, waves, y, device, amp, batch_size, epochs)
    steps = -(-len(y) // batch_size)
    durations = clf.history_[:, "dur"][1:]  # epoch 1 is the warm-up
    return statistics.median(durations) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes")
    parser.add_argument("--model-path", default=None, help="local wav2vec2 checkpoint")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=4, help="optimizer steps/epoch")
    parser.add_argument("--epochs", type=int, default=3, help="first is warm-up")
    parser.add_argument("--seconds", type=float, default=4.0, help="utterance length")
    parser.add_argument("--repeat", type=int, default=3, help="median of N fits")
    parser.add_argument("--threads", type=int, default=None, help="CPU torch threads")
    parser.add_argument(
        "--device",
        default="cuda",
        help="accelerator to compare with the CPU (default cuda; 'cpu' only "
        "exercises the script)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.epochs, args.seconds, args.repeat = 2, 2, 2.0, 1
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first is a warm-up)")

    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(
            f"No CUDA GPU available to torch {torch.__version__} "
            f"(torch.cuda.is_available() is False): nothing to compare, skipping."
        )
        return 0
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)

    n = args.batch_size * args.steps
    waves, y = _data(n, args.seconds)
    accel = args.device
    if accel.startswith("cuda"):
        accel_name = torch.cuda.get_device_name(torch.device(accel))
    else:
        accel_name = accel
    variants = [("cpu", "cpu", None), (f"{args.device} fp32", args.device, None)]
    if args.device.startswith("cuda"):
        variants.append((f"{args.device} amp", args.device, "auto"))

    with tempfile.TemporaryDirectory(prefix="hser-tiny-w2v-") as tmp:
        model_path = args.model_path
        if model_path is None:
            from sklearn_hser.models._tiny import save_tiny_wav2vec2

            model_path = str(save_tiny_wav2vec2(tmp))
            label = "tiny random wav2vec2 (sklearn_hser.models._tiny)"
        else:
            label = model_path
        print(
            f"model: {label}\naccelerator: {accel_name}; CPU: {os.cpu_count()} "
            f"cores, {torch.get_num_threads()} torch threads; torch {torch.__version__}"
            f"\n{n} utterances of {args.seconds:g} s, batch {args.batch_size}, "
            f"{args.steps} steps/epoch, {args.epochs - 1} timed epoch(s) per fit, "
            f"median of {args.repeat} fit(s)"
        )
        sys.stdout.flush()
        # Warm-up, untimed: one full-size step per variant (imports, CUDA
        # context, allocators, kernel selection), so that no variant pays
        # for them; then the variants run interleaved, --repeat times.
        # (classes interleaved, so that the warm-up batch holds two or more)
        seen = [list(y[:i]).count(label) for i, label in enumerate(y)]
        first = sorted(range(n), key=lambda i: seen[i])[: max(2, args.batch_size)]
        for _, device, amp in variants:
            _fit(
                model_path,
                [waves[i] for i in first],
                y[first],
                device,
                amp,
                args.batch_size,
                1,
            )
        runs = {name: [] for name, _, _ in variants}
        for _ in range(args.repeat):
            for name, device, amp in variants:
                runs[name].append(
                    _seconds_per_step(
                        model_path, waves, y, device, amp, args.batch_size, args.epochs
                    )
                )
                print(f"  measured {name}: {runs[name][-1]:.3f} s/step")
                sys.stdout.flush()
        results = {name: statistics.median(r) for name, r in runs.items()}

    cpu = results["cpu"]
    print()
    print(f"{'variant':<16}{'s/step':>10}{'steps/s':>10}{'vs cpu':>8}")
    for name, seconds in results.items():
        print(f"{name:<16}{seconds:>10.4f}{1 / seconds:>10.2f}{cpu / seconds:>8.1f}")
    print(
        "\nalternative: the same fine-tuning steps on the CPU (float32); "
        "vs cpu = variant steps/s / cpu steps/s (GPU/CPU speed-up)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

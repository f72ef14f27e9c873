"""Peak memory of ``hser reproduce`` against loading the corpus alone.

Each measurement runs in a fresh child process, and its peak resident set
size is read from the kernel's accounting of that child when it is reaped
(``os.wait4``: the largest ``ru_maxrss`` of the child and of the processes
it waited for, as ``getrusage(RUSAGE_CHILDREN)`` reports after one child):

* ``baseline``: ``import sklearn_hser`` and load the corpus (what every run
  pays before fitting anything);
* one row per system: ``python -m sklearn_hser reproduce --corpus ...
  --systems <system> --splits si --out <fresh tmp>``, from an empty output
  folder (so features are extracted, nothing is resumed).

It prints each child's peak (MiB), its wall time, and the ratio to the
baseline.

Usage::

    python benchmarks/bench_memory.py [--quick] [--corpus ravdess|iemocap|demo]
        [--root ../shared/data/ravdess] [--systems lstm-mfcc,lstm-gemaps,...]
        [--splits si] [--max-epochs 60] [--together]
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
LSTM_SYSTEMS = "lstm-mfcc,lstm-gemaps,lstm-handcrafted,lstm-wakehubert"

BASELINE = """
import sys
import sklearn_hser
from sklearn_hser.cli._common import load_corpus
corpus = load_corpus(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
print(len(corpus), "utterances")
"""


def _peak_of_child(cmd, log_path):
    """Run ``cmd``; return (exit status, peak RSS in MiB, wall seconds)."""
    start = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        # wait4 reaps this very child and returns its own resource usage
        # (RUSAGE_CHILDREN would mix in every earlier measurement).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    kib = usage.ru_maxrss  # KiB on Linux
    if sys.platform == "darwin":  # bytes on macOS
        kib /= 1024
    return proc.returncode, kib / 1024, seconds


def _tail(path, n=5):
    lines = Path(path).read_text(errors="replace").splitlines()
    return "\n".join("      " + line for line in lines[-n:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("HSER_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--quick", action="store_true", help="one system, 1 epoch")
    parser.add_argument("--corpus", choices=["ravdess", "iemocap", "demo"])
    parser.add_argument("--root", default=None, help="corpus directory")
    parser.add_argument("--systems", default=None, help=f"default {LSTM_SYSTEMS}")
    parser.add_argument("--splits", default="si")
    parser.add_argument("--max-epochs", type=int, default=None, help="default: CLI's")
    parser.add_argument(
        "--together", action="store_true", help="also one run with all systems"
    )
    parser.add_argument("--keep", action="store_true", help="keep outputs and logs")
    args = parser.parse_args(argv)
    args.corpus = args.corpus or "ravdess"
    if args.quick:
        args.systems = args.systems or "lstm-mfcc"
        args.max_epochs = args.max_epochs or 1
    systems = [s.strip() for s in (args.systems or LSTM_SYSTEMS).split(",")]
    if args.corpus != "demo" and args.root is None:
        args.root = str(Path(default_data) / args.corpus)
    if args.corpus != "demo" and not Path(args.root).is_dir():
        parser.error(f"--root {args.root}: no such directory")

    corpus_args = ["--corpus", args.corpus]
    if args.corpus != "demo":
        corpus_args += ["--root", str(args.root)]
    extra = ["--splits", args.splits]
    if args.max_epochs is not None:
        extra += ["--max-epochs", str(args.max_epochs)]
    runs = [(s, [s]) for s in systems]
    if args.together and len(systems) > 1:
        runs.append(("all: " + ",".join(systems), systems))

    work = Path(tempfile.mkdtemp(prefix="hser-bench-memory-"))
    print(
        f"corpus {args.corpus}{'' if args.root is None else ' at ' + args.root}; "
        f"splits {args.splits}; "
        f"max epochs {args.max_epochs or 'CLI default'}; {os.cpu_count()} CPUs"
    )
    sys.stdout.flush()
    baseline_cmd = [sys.executable, "-c", BASELINE, args.corpus]
    if args.root is not None:
        baseline_cmd.append(str(args.root))
    status, base_mib, base_s = _peak_of_child(baseline_cmd, work / "baseline.log")
    if status != 0:
        print(f"baseline child failed (exit {status}):\n{_tail(work / 'baseline.log')}")
        return 1
    rows = [("baseline (import + load corpus)", status, base_mib, base_s)]
    for name, chosen in runs:
        slug = name.split(":")[0]
        cmd = [sys.executable, "-m", "sklearn_hser", "reproduce", *corpus_args]
        cmd += ["--systems", ",".join(chosen), *extra, "--out", str(work / slug)]
        status, mib, seconds = _peak_of_child(cmd, work / f"{slug}.log")
        rows.append((f"reproduce {name}", status, mib, seconds))
        if status != 0:
            print(f"  {name}: exit {status}; last lines of its log:")
            print(_tail(work / f"{slug}.log"))
        else:
            print(f"  done: {name} ({mib:.0f} MiB, {seconds:.0f} s)")
        sys.stdout.flush()

    print()
    print(
        f"{'child process':<44}{'exit':>5}{'peak RSS':>11}{'wall':>8}{'/baseline':>11}"
    )
    for label, status, mib, seconds in rows:
        print(
            f"{label:<44}{status:>5}{mib:>7.0f} MiB{seconds:>7.0f}s"
            f"{mib / base_mib:>11.2f}"
        )
    print("\nalternative: a child that only imports sklearn_hser and loads the corpus")
    if args.keep:
        print(f"outputs and logs kept in {work}")
    else:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r[1] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

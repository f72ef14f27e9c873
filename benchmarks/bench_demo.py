"""``hser demo`` as a new user's first run: wall and CPU time, by stage.

Each variant runs ``python -m sklearn_hser demo`` in a fresh child process,
with a fresh ``--out`` (no feature cache, no finished runs) and, unless
``--warm-numba``, an empty ``NUMBA_CACHE_DIR`` (librosa's code not yet
compiled, as right after installing). The child's wall time is measured
here, and its CPU time (user + system, its own and that of the processes it
waited for: the joblib workers and the librosa warm-up) from ``os.wait4``.

Variants (``--variants``, in the order given):

* ``package``: the working tree's package, as it is;
* ``one-process``: the same with ``LOKY_MAX_CPU_COUNT=1``, so the LSTM seed
  ensembles fit their members one after another in the main process (on
  one torch thread, as in the workers);
* ``before``: the package at ``--before-rev`` (default ``ce1ac3c``, the last
  commit before the demo was made faster), unpacked into a temporary folder
  with ``git archive`` and run with the same interpreter and libraries.

Stages are read from the output: each run's ``seconds`` (its S and ST
systems: features, three seed ensembles, predictions), summed per speech
system, and the rest (start, corpus, text models, report). Ratios are to
the last variant (``before`` by default). The outputs are compared too:
Table II and the run records, less their ``seconds``, identical or not.

Usage::

    python benchmarks/bench_demo.py [--quick] [--variants package,before]
        [--before-rev ce1ac3c] [--warm-numba] [--keep DIR]

``--quick`` runs the demo on one system, one split, two networks of two
epochs: a smoke test whose numbers mean nothing. Measure on an otherwise
idle machine; the load average before and after each variant is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("package", "one-process", "before")
QUICK = [
    "--systems",
    "lstm-mfcc",
    "--splits",
    "si",
    "--lstm-seeds",
    "2",
    "--max-epochs",
    "2",
]


def _unpack(rev: str, into: Path) -> Path:
    """The package at ``rev``, unpacked under ``into``; returns the folder."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "sklearn_hser"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _run_demo(variant, work: Path, args) -> dict:
    out = work / variant / "out"
    env = dict(os.environ)
    source = ROOT
    if variant == "before":
        source = _unpack(args.before_rev, (work / variant / "src").resolve())
    if variant == "one-process":
        env["LOKY_MAX_CPU_COUNT"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(source), *filter(None, [env.get("PYTHONPATH")])]
    )
    if not args.warm_numba:
        numba = work / variant / "numba"
        numba.mkdir(parents=True)
        env["NUMBA_CACHE_DIR"] = str(numba)
    where = subprocess.run(
        [sys.executable, "-c", "import sklearn_hser; print(sklearn_hser.__file__)"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(where).is_relative_to(source):
        sys.exit(f"{variant}: imports {where}, not the package under {source}")
    cmd = [sys.executable, "-m", "sklearn_hser", "demo", "--out", str(out)]
    cmd += QUICK if args.quick else []
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with open(work / variant / "log.txt", "w") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, cwd=work, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{variant}: hser demo failed; see {work / variant / 'log.txt'}")
    runs = [json.loads(p.read_text()) for p in sorted(out.glob("runs/*.json"))]
    per_system: dict = {}
    for run in runs:
        per_system[run["system"]] = per_system.get(run["system"], 0) + run["seconds"]
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "load": (load_before, os.getloadavg()[0]),
        "systems": per_system,
        "outputs": _outputs(out),
    }


def _outputs(out: Path) -> dict:
    """What the demo shows, less the seconds each run took."""

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "seconds"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    shown = {p.name: strip(json.loads(p.read_text())) for p in out.glob("runs/*.json")}
    for name in ("table_ii.csv", "table_i.csv"):
        shown[name] = (out / name).read_text()
    return shown


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke test")
    parser.add_argument(
        "--variants",
        default="package,before",
        help=f"comma-separated, from {', '.join(VARIANTS)}; ratios to the last",
    )
    parser.add_argument(
        "--before-rev",
        default="ce1ac3c",
        help="git revision of the 'before' variant (default: ce1ac3c)",
    )
    parser.add_argument(
        "--warm-numba",
        action="store_true",
        help="keep numba's usual cache (librosa compiled already)",
    )
    parser.add_argument("--keep", default=None, help="keep the outputs in DIR")
    args = parser.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown or not variants:
        parser.error(f"unknown variant(s) {unknown}; choose from {VARIANTS}")

    with _work_dir(args.keep) as tmp:
        work = Path(tmp)
        results = {}
        for variant in variants:
            (work / variant).mkdir()
            print(f"running {variant} ...", flush=True)
            results[variant] = _run_demo(variant, work, args)
        _print(results, variants[-1])
    return 0


def _work_dir(keep):
    """A fresh folder for the variants: under ``keep`` and left there, or a
    temporary one, removed at the end."""
    if keep is None:
        return tempfile.TemporaryDirectory(prefix="bench-demo-")
    Path(keep).mkdir(parents=True, exist_ok=True)
    return contextlib.nullcontext(tempfile.mkdtemp(prefix="bench-demo-", dir=keep))


def _print(results: dict, reference: str) -> None:
    ref = results[reference]
    systems = sorted({s for r in results.values() for s in r["systems"]})
    print(f"\nhser demo, first run; ratios: variant / {reference}")
    print(f"{'stage':24s}" + "".join(f"{v:>14s}" for v in results) + "   ratio(s)")

    def row(name, get):
        values = [get(r) for r in results.values()]
        ratios = [
            f"{v / get(ref):.2f}" for k, v in zip(results, values) if k != reference
        ]
        cells = "".join(f"{v:13.1f}s" for v in values)
        print(f"{name:24s}{cells}   {' '.join(ratios)}")

    row("total, wall", lambda r: r["wall"])
    row("total, CPU", lambda r: r["cpu"])
    for system in systems:
        row(f"runs of {system}", lambda r, s=system: r["systems"].get(s, 0.0))
    row("rest (text, start, ...)", lambda r: r["wall"] - sum(r["systems"].values()))
    for variant, r in results.items():
        same = "identical" if r["outputs"] == ref["outputs"] else "DIFFERENT"
        load = "load average {:.1f} -> {:.1f}".format(*r["load"])
        print(f"{variant}: {load}; outputs {same} to {reference}'s")


if __name__ == "__main__":
    sys.exit(main())

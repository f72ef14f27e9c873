"""The lean install, for real: ``pip install -e .`` without extras, then ``hser``.

The test suite simulates a missing torch or openSMILE (``tests/test_optional.py``,
``tests/test_robustness.py``); this script checks the real thing once, in a
fresh virtual environment without torch:

* ``hser fit``, ``hser demo`` and ``hser features --sets gemaps`` stop at
  once with one ``hser: error:`` line naming the extra, exit status 2, and
  write nothing;
* ``hser features --sets mfcc,handcrafted`` works without any extra;
* the first MFCC extraction of the fresh environment (numba compiling
  librosa's code) against the same in a second process (numba's on-disk
  cache), the ratio the docs quote.

Usage::

    python benchmarks/check_lean_install.py              # in a new venv
    python benchmarks/check_lean_install.py --venv DIR   # reuse or create DIR

It needs the package index (pip) and prints one line per check, then the
timings; it exits 1 if a check fails.
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

#: (argv, the extra the one-line error must name)
MUST_STOP = [
    (["fit", "--corpus", "demo", "--out", "out/model.joblib"], "torch"),
    (["fit", "--system", "lr-egemaps", "--out", "out/model.joblib"], "opensmile"),
    (["demo", "--out", "out"], "torch"),
    (["features", "--sets", "gemaps", "--out", "out"], "opensmile"),
]

_FIRST_MFCC = (
    "import time, numpy as np; from sklearn_hser.features import MFCC; "
    "w = [np.random.default_rng(0).normal(0, 0.1, 16000).astype('float32')]; "
    "t = time.perf_counter(); MFCC().fit_transform(w); "
    "print(time.perf_counter() - t)"
)


def _venv(path: Path) -> Path:
    python = path / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        start = time.perf_counter()
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-e", str(ROOT)], check=True
        )
        print(f"pip install -e . (no extras): {time.perf_counter() - start:.0f} s")
    done = subprocess.run(
        [str(python), "-c", "import torch"], capture_output=True, text=True
    )
    if done.returncode == 0:
        sys.exit(f"{path} has torch installed: not a lean install")
    return path / "bin" / "hser"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=None, help="virtual env folder")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory(prefix="hser-lean-")
    hser = _venv(args.venv or Path(scratch.name) / "venv")
    python = hser.parent / "python"
    failed = 0
    for argv, extra in MUST_STOP:
        with tempfile.TemporaryDirectory() as work:
            start = time.perf_counter()
            done = subprocess.run(
                [str(hser), *argv], capture_output=True, text=True, cwd=work
            )
            seconds = time.perf_counter() - start
            err = done.stderr.strip()
            ok = (
                done.returncode == 2
                and err.startswith("hser: error: ")
                and "\n" not in err
                and extra in err
                and not any(Path(work).iterdir())
            )
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} hser {' '.join(argv)}: {seconds:.1f} s")
        if not ok:
            print(f"     status {done.returncode}: {err[-500:]}")
    with tempfile.TemporaryDirectory() as work:
        argv = ["features", "--sets", "mfcc,handcrafted", "--out", "f", "-q"]
        done = subprocess.run(
            [str(hser), *argv], capture_output=True, text=True, cwd=work
        )
        ok = done.returncode == 0 and (Path(work) / "f" / "mfcc.npy").is_file()
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} hser {' '.join(argv)} (no extra needed)")
        if not ok:
            print(f"     status {done.returncode}: {done.stderr[-500:]}")
    # numba: a cold cache, then the same call in a new process.
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        first, second = (
            float(
                subprocess.run(
                    [str(python), "-c", _FIRST_MFCC],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=True,
                ).stdout
            )
            for _ in range(2)
        )
    print(
        f"first MFCC call: {first:.1f} s with numba's cache empty, {second:.1f} s "
        f"in the next process ({first / second:.0f}x)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

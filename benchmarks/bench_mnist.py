"""Benchmark of the book's §3.6 on real digits (issue 11), ratios measured side by side in one run.

    python benchmarks/bench_mnist.py [--quick]

1. In one process, on the shipped digits (10,000; --quick: the first 1,000): NumPy float64 and
   float32 batched forward passes vs the full check (certified enclosures, derived bounds,
   verdicts) and the certified predictions, per digit, as ratios to the float64 forward.
2. The command itself, ``nnverify check --weights book-mnist --inputs mnist-digits`` (text and
   ``--json``), in a subprocess: wall time and peak resident memory (the target is under ~60 s
   on 2 cores). --quick adds ``--first 1000``.

It also checks the figures it prints: accuracy 0.9374 on the 10,000 digits.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

from nnverify.compare import check
from nnverify.datasets import mnist_digits
from nnverify.numeric import forward
from nnverify.predictions import predictions
from nnverify.weights import load_network


def per_call(fn: Callable[[], object], budget: float) -> float:
    """Seconds per call: repeat ``fn`` for about ``budget`` seconds (at least 3 calls)."""
    fn()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= budget and n >= 3:
            return elapsed / n


def run_cli(argv: list[str]) -> tuple[float, float, bytes]:
    """Wall seconds, peak RSS in MiB and stdout of ``python -m nnverify ARGV`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nnverify", *argv], capture_output=True, check=False)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux: the largest child so far
    if proc.returncode != 0:
        raise SystemExit(f"nnverify {' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return wall, max(peak, before) / 1024, proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the first 1,000 digits, shorter budgets")
    quick = ap.parse_args().quick
    n = 1000 if quick else 10_000
    budget = 0.5 if quick else 2.0
    print(f"nnverify MNIST benchmark — Python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()}, {n:,} digits")

    net = load_network("book-mnist")
    net64 = net.astype(np.float64)
    d = mnist_digits(first=n)
    inputs = d.inputs()
    x32 = inputs.as_dtype(np.float32)
    x64 = inputs.as_dtype(np.float64)
    t64 = per_call(lambda: forward(net64, x64), budget) / n
    t32 = per_call(lambda: forward(net, x32), budget) / n

    start = time.perf_counter()
    report = check(net, inputs, progress=False)
    t_check = (time.perf_counter() - start) / n
    start = time.perf_counter()
    preds = predictions(report, d.labels)
    t_pred = (time.perf_counter() - start) / n
    print("\n1. in one process, per digit (batched)")
    print(f"   {'step':<58}{'time/digit':>12}{'vs float64':>12}")
    for name, t in [
        ("NumPy float64 forward (batch of all digits)", t64),
        ("NumPy float32 forward, as the book runs it", t32),
        ("check: certified enclosures + derived bounds + verdicts", t_check),
        ("certified predictions from the check (exact comparisons)", t_pred),
    ]:
        ratio = t / t64
        print(f"   {name:<58}{t * 1e3:>9.4f} ms{ratio:>11.{0 if ratio >= 10 else 2}f}x")
    print(f"   accuracy {preds.accuracy} ({preds.n_correct} of {n}); certified {preds.n_certified}; "
          f"not certified {len(preds.not_certified)}; flipped {len(preds.flipped)}")
    if not quick and preds.accuracy != 0.9374:
        raise SystemExit(f"accuracy {preds.accuracy} is not the 0.9374 the README states")

    sel = ["--first", "1000"] if quick else []
    print("\n2. the command, in a fresh process (import, load, check, print)")
    print(f"   {'command':<80}{'wall':>9}{'peak RSS':>12}")
    for extra in ([], ["--json"]):
        argv = ["check", "--weights", "book-mnist", "--inputs", "mnist-digits", *sel, *extra]
        wall, peak, out = run_cli(argv)
        size = f", {len(out) / 2**20:.1f} MiB of JSON" if extra else ""
        if extra:
            doc = json.loads(out)
            assert doc["predictions"]["certified"] == preds.n_certified
        print(f"   {'nnverify ' + ' '.join(argv):<80}{wall:>7.1f} s{peak:>8.0f} MiB{size}")


if __name__ == "__main__":
    main()

"""Speed of the certified check (issue 14), every figure a ratio measured side by side in one run.

    python benchmarks/bench_speed.py [--quick]

1. Full check per input (NumPy forward + certified reference + derived bound + verdicts, batch of
   1000) on book-mnist float32, book-mnist float64 and the book network, each as a ratio to the
   NumPy float64 batched forward pass of the same network (targets: <= 10x, <= 50x).
2. Property-suite examples per second on the book network and on book-mnist (target >= 150/s).
3. Start-up of ``nnverify forward`` and ``nnverify check`` (fresh processes, best of 3), beside
   ``python -c pass``.
4. Loading a JSON weights file of 1e6 numbers, as a ratio to ``json.load`` (target <= 5x).
5. ``nnverify check --weights book-mnist --inputs mnist-digits``: 10,000 real digits, wall time and
   peak memory of the process (targets: under 5 s and 200 MiB).

Machine, NumPy/BLAS and the load average are printed first: absolute times on a shared machine
are noisy, ratios measured in one run are what to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nnverify.bounds import DEFAULT_ROUNDING
from nnverify.bounds.tiers import error_bounds
from nnverify.certified.fastpass import fast_forward
from nnverify.compare import check
from nnverify.numeric import forward
from nnverify.suite import SuiteConfig, run_suite
from nnverify.weights import book_network, load_network


def per_call(fn: Callable[[], object], budget: float, least: int = 3) -> float:
    """Seconds per call: repeat ``fn`` for about ``budget`` seconds (at least ``least`` calls), after a warm-up."""
    fn()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= budget and n >= least:
            return elapsed / n


def side_by_side(fns: list[Callable[[], object]], budget: float) -> list[float]:
    """Seconds per call of each function, measured in alternation and the fastest of the rounds kept:
    a load spike on a shared machine then hits every function alike, or none."""
    best = [float("inf")] * len(fns)
    for fn in fns:
        fn()  # warm-up
    start = time.perf_counter()
    rounds = 0
    while rounds < 3 or time.perf_counter() - start < budget:
        for i, fn in enumerate(fns):
            best[i] = min(best[i], per_call(fn, 0.0, least=1))
        rounds += 1
    return best


def run_cli(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of ``python -m nnverify ARGV`` in a fresh process."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        f"p = subprocess.run([sys.executable, '-m', 'nnverify', *{argv!r}], capture_output=True)\n"
        "wall = time.perf_counter() - t\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(p.returncode, wall, peak / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    if out[0] not in ("0", "1"):
        raise SystemExit(f"nnverify {' '.join(argv)} exited {out[0]}")
    return float(out[1]), float(out[2])


def startup(argv: list[str], repeat: int = 3) -> float:
    """Best wall time of ``python ARGV`` over ``repeat`` fresh processes."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, *argv], capture_output=True, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def _flag(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def checks(budget: float) -> None:
    print("\n1. full check per input (forward + certified reference + bound + verdicts), batch of 1000")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (1000, 784))
    mnist32 = load_network("book-mnist")
    cases = [
        ("book-mnist float32", mnist32, x.astype(np.float32), 10.0),
        ("book-mnist float64", mnist32.astype(np.float64), x, 50.0),
        ("book 2-3-2-2 float64", book_network(), rng.uniform(-10, 10, (1000, 2)), None),
    ]
    print(f"   {'network':<24}{'NumPy f64 batched':>19}{'full check':>13}{'ratio':>9}  target")
    for name, net, xs, target in cases:
        net64, x64 = net.astype(np.float64), xs.astype(np.float64)
        t_np, t_check = side_by_side([lambda n=net64, v=x64: forward(n, v),
                                      lambda n=net, v=xs: check(n, v, progress=False)], budget)
        t_np, t_check = t_np / len(xs), t_check / len(xs)
        report = check(net, xs, progress=False)
        ratio = t_check / t_np
        goal = f"<= {target:.0f}x: {_flag(ratio <= target)}" if target else "(no target)"
        print(f"   {name:<24}{t_np * 1e6:>16.2f} us{t_check * 1e6:>10.1f} us{ratio:>8.1f}x  {goal}")
        counts = report.counts()
        print(f"   {'':<24}verdicts {counts}, max error {report.max_ulp:.3g} ulp")
        if net.n_inputs == 784:  # where the time goes: the fast reference and both tiers of the bound alone
            fp = fast_forward(net, xs)
            t_np2, t_ref, t_bound = side_by_side([
                lambda n=net64, v=x64: forward(n, v),
                lambda n=net, v=xs: fast_forward(n, v),
                lambda n=net, f=fp: error_bounds(n, f.balls, DEFAULT_ROUNDING)], budget)
            print(f"   {'':<24}of which: certified reference {t_ref / t_np2:.1f}x, "
                  f"both tiers of the bound {t_bound / t_np2:.1f}x")


def suite(examples: int) -> None:
    print(f"\n2. property suite, {examples} examples per property, nnverify's forward, seed 0")
    for name, cfg, target in [
        ("book 2-3-2-2", SuiteConfig(book_network()), None),
        ("book-mnist 784-50-100-10", SuiteConfig(load_network("book-mnist"), min_value=0.0, max_value=1.0), 150.0),
    ]:
        run_suite(cfg, max_examples=3, seed=0)  # warm-up: imports, first compilations
        start = time.perf_counter()
        result = run_suite(cfg, max_examples=examples, seed=0)
        total = time.perf_counter() - start
        n = sum(r.examples for r in result.results if r.status == "passed")
        rate = n / total
        goal = (f">= {target:.0f}/s: {_flag(rate >= target)}" if target
                else "(target: no slower than before the fast path)")
        print(f"   {name:<26}{n:>6} examples in {total:6.2f} s = {rate:7.1f} examples/s  {goal}"
              + ("" if result.ok else "  (A PROPERTY FAILED)"))


def startups() -> None:
    print("\n3. start-up, fresh process, best of 3")
    base = startup(["-c", "pass"])
    for argv in (["-m", "nnverify", "forward"], ["-m", "nnverify", "check"]):
        t = startup(argv)
        print(f"   {'python ' + ' '.join(argv):<32}{t:7.3f} s  ({t - base:.3f} s above python -c pass, {base:.3f} s)")


def json_load(n_numbers: int) -> None:
    print(f"\n4. JSON weights of {n_numbers:,} numbers")
    rng = np.random.default_rng(1)
    cols = 1000
    W = rng.standard_normal((n_numbers // cols - 1, cols)).tolist()
    doc = {"dtype": "float64", "layers": [{"W": W, "b": rng.standard_normal(cols).tolist(), "activation": "sigmoid"}]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.json"
        path.write_text(json.dumps(doc))
        t_json = per_call(lambda: json.loads(path.read_bytes()), 1.0)
        for dtype in ("float64", "float32"):
            doc["dtype"] = dtype
            path.write_text(json.dumps(doc))
            t_load = per_call(lambda: load_network(str(path)), 1.0)
            ratio = t_load / t_json
            print(f"   load_network ({dtype}) {t_load:6.3f} s, json.loads {t_json:6.3f} s: {ratio:4.1f}x  "
                  f"<= 5x: {_flag(ratio <= 5)}")


def digits(quick: bool) -> None:
    argv = ["check", "--weights", "book-mnist", "--inputs", "mnist-digits"] + (["--first", "1000"] if quick else [])
    wall, peak = run_cli(argv)
    n = 1000 if quick else 10000
    print(f"\n5. nnverify {' '.join(argv)}")
    print(f"   {n:,} digits: {wall:.2f} s wall, peak {peak:.0f} MiB  (under 5 s: {_flag(wall < 5)}; "
          f"under 200 MiB: {_flag(peak < 200)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter budgets, fewer examples, 1000 digits")
    args = ap.parse_args()
    load = os.getloadavg()
    print(f"nnverify speed benchmark — Python {platform.python_version()}, NumPy {np.__version__}, "
          f"{platform.machine()}, {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    checks(0.5 if args.quick else 2.0)
    suite(20 if args.quick else 60)
    startups()
    json_load(200_000 if args.quick else 1_000_000)
    digits(args.quick)
    print(f"\nload average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()

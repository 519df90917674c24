"""Examples per second of the property suite: the book network vs the book's 784-50-100-10 MNIST
network (sample_weight.pkl), measured side by side in one run.

Usage: ``python benchmarks/bench_properties.py [--examples N] [--seed S]``. Each property runs
``N`` Hypothesis examples (default 60, the ``ci`` profile) with nnverify's own forward pass;
every example includes the certified evaluation and the derived bound, which is where the time
goes. A warm-up run first (SymPy and python-flint imports, first compilations) is not timed.

The second table runs a user's forward pass (the book's code, ``examples/ch03_fixed.py`` and
``examples/book_layout/ch03/neuralnet_mnist.py``) in nnverify's process and in the worker
process, side by side: the cost of isolating the user's code (target: isolated >= 0.8x).
Takes about two minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import time

from nnverify import book_network, load_network
from nnverify.suite import PROFILES, SuiteConfig, run_suite


def _measure(ctx: SuiteConfig, examples: int, seed: int) -> tuple[dict[str, tuple[int, float, str]], float]:
    start = time.perf_counter()
    result = run_suite(ctx, max_examples=examples, seed=seed)
    total = time.perf_counter() - start
    if not result.ok:
        bad = [r.name for r in result.results if r.status == "failed"]
        raise SystemExit(f"a property failed on nnverify's own forward pass: {bad}")
    return {r.name: (r.examples, r.seconds, r.status) for r in result.results}, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=PROFILES["ci"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    book = SuiteConfig(book_network())
    mnist = SuiteConfig(load_network("book-mnist"), min_value=0.0, max_value=1.0)
    run_suite(book, max_examples=3, seed=args.seed)  # warm-up, not timed
    run_suite(mnist, max_examples=3, seed=args.seed)

    rows_b, total_b = _measure(book, args.examples, args.seed)
    rows_m, total_m = _measure(mnist, args.examples, args.seed)

    print(f"property suite, {args.examples} examples per property, seed {args.seed}, nnverify forward")
    print(f"{'property':<20} {'book 2-3-2-2 ex/s':>18} {'mnist 784-50-100-10 ex/s':>25} {'book/mnist':>11}")

    def rate(row: tuple[int, float, str]) -> float | None:
        n, s, status = row
        return n / s if status == "passed" and s > 0 else None

    for name in rows_b:
        rb, rm = rate(rows_b[name]), rate(rows_m[name])
        fb = f"{rb:18.0f}" if rb else f"{'skipped':>18}"
        fm = f"{rm:25.1f}" if rm else f"{'skipped':>25}"
        ratio = f"{rb / rm:10.1f}x" if rb and rm else f"{'-':>11}"
        print(f"{name:<20} {fb} {fm} {ratio}")
    nb = sum(n for n, _, st in rows_b.values() if st == "passed")
    nm = sum(n for n, _, st in rows_m.values() if st == "passed")
    print(f"{'whole suite':<20} {nb / total_b:18.0f} {nm / total_m:25.1f} {(nb / total_b) / (nm / total_m):10.1f}x")
    print(f"wall time: book {total_b:.1f} s, mnist {total_m:.1f} s")
    _isolation(args.examples, args.seed)
    return 0


def _isolation(examples: int, seed: int) -> None:
    """Examples/s of the whole suite on a user's forward: in-process vs the worker process."""
    from nnverify.under_test import ForwardUnderTest, load_function

    cases = [("book 2-3-2-2", book_network(), "examples/ch03_fixed.py:forward", -10.0, 10.0),
             ("mnist 784-50-100-10", load_network("book-mnist"), "examples/book_layout/ch03/neuralnet_mnist.py:predict",
              0.0, 1.0)]
    print(f"\nuser's forward, whole suite, {examples} examples per property: in-process vs isolated (worker process)")
    print(f"{'network':<22} {'in-process ex/s':>16} {'isolated ex/s':>14} {'isolated/in-process':>20}")
    for name, net, spec, lo, hi in cases:
        rates = []
        for isolate in (False, True):
            ctx = SuiteConfig(net, ForwardUnderTest(load_function(spec, isolate=isolate)), min_value=lo, max_value=hi)
            run_suite(ctx, max_examples=3, seed=seed)  # warm-up: the worker's start and imports are not timed
            start = time.perf_counter()
            result = run_suite(ctx, max_examples=examples, seed=seed)
            total = time.perf_counter() - start
            if not result.ok:
                bad = [r.name for r in result.results if r.status == "failed"]
                raise SystemExit(f"{spec} failed a property: {bad}")
            rates.append(sum(r.examples for r in result.results if r.status == "passed") / total)
        print(f"{name:<22} {rates[0]:16.0f} {rates[1]:14.0f} {rates[1] / rates[0]:19.2f}x")


if __name__ == "__main__":
    sys.exit(main())

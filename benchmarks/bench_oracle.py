"""Benchmark of the oracle (issue 3), every ratio measured side by side in one run.

    python benchmarks/bench_oracle.py [--quick]

1. Book network, one input: certified evaluations per second (python-flint balls, both
   routes) vs SymPy ``evalf(subs=...)`` on the same closed form.
2. 784-50-100-10 (the book's MNIST weights), batch of 1000: per-input cost of the certified
   reference (matrix route) and of the full check (reference + derived bound + verdicts) vs
   NumPy float64.
3. Time to build the layered SymPy model of 784-50-100-10 (binary and symbolic weights).

Also prints the bound's looseness: derived bound / measured NumPy error.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import numpy as np
import sympy

from nnverify.bounds import forward_error_bounds
from nnverify.certified import certify
from nnverify.compare import check_outputs
from nnverify.model import Layer, Network
from nnverify.numeric import forward
from nnverify.symbolic import Mode, build_model, x_symbol
from nnverify.weights import BOOK_X, book_network, load_network


def per_call(fn: Callable[[], object], budget: float) -> float:
    """Seconds per call: repeat ``fn`` for about ``budget`` seconds (at least 3 calls)."""
    fn()  # warm caches (model compilation, imports)
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= budget and n >= 3:
            return elapsed / n


def fresh(network: Network) -> Network:
    """A copy with no caches attached: build times measured from scratch."""
    return Network(tuple(Layer(ly.W, ly.b, ly.activation, ly.W_text, ly.b_text) for ly in network.layers),
                   name=network.name)


def fmt_time(s: float) -> str:
    return f"{s * 1e3:.3f} ms" if s < 1 else f"{s:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter timing budgets")
    budget = 0.5 if ap.parse_args().quick else 2.0
    print(f"nnverify oracle benchmark — Python {platform.python_version()}, numpy {np.__version__}, "
          f"sympy {sympy.__version__}, {platform.machine()}")

    # 1. Book network, one input --------------------------------------------------------------
    net = book_network()
    model = build_model(net, Mode.BINARY)
    closed = [model.closed_form(k) for k in (1, 2)]
    point = {x_symbol(1): sympy.Rational(1), x_symbol(2): sympy.Rational(1, 2)}
    t_evalf = per_call(lambda: [c.evalf(20, subs=point) for c in closed], budget)
    t_sympy = per_call(lambda: certify(net, BOOK_X, route="sympy"), budget)
    t_matrix = per_call(lambda: certify(net, BOOK_X, route="matrix"), budget)
    t_numpy = per_call(lambda: forward(net, BOOK_X), budget)
    print("\n1. book network (2-3-2-2), one input, both outputs")
    print(f"   {'method':<46}{'time/eval':>12}{'evals/s':>12}{'vs evalf':>10}")
    for name, t in [
        ("SymPy evalf(subs=...) on the closed form, 20 d", t_evalf),
        ("certified, SymPy model compiled to arb (128 b)", t_sympy),
        ("certified, arb_mat layer by layer (128 b)", t_matrix),
        ("NumPy float64 forward (not certified)", t_numpy),
    ]:
        print(f"   {name:<46}{fmt_time(t):>12}{1 / t:>12,.0f}{t_evalf / t:>9.0f}x")

    # 2. 784-50-100-10, batch of 1000 ----------------------------------------------------------
    mnist = load_network("book-mnist").astype(np.float64)
    x = np.random.default_rng(0).uniform(0, 1, (1000, 784))
    y = forward(mnist, x).y
    t_np = per_call(lambda: forward(mnist, x), budget)
    t_cert = per_call(lambda: certify(mnist, x, route="matrix"), budget)
    cert = certify(mnist, x, route="matrix")
    t_bound = per_call(lambda: forward_error_bounds(mnist, x, cert), budget)
    start = time.perf_counter()
    report = check_outputs(mnist, x, y, progress=False)
    t_check = time.perf_counter() - start
    print("\n2. 784-50-100-10 (book-mnist as float64), batch of 1000 inputs")
    print(f"   {'method':<46}{'per input':>12}{'vs NumPy':>12}")
    for name, t in [
        ("NumPy float64 forward (batched)", t_np),
        ("certified reference, arb_mat 128 b", t_cert),
        ("derived error bound (arb, 64 b)", t_bound),
        ("full check: reference + bound + verdicts", t_check),
    ]:
        print(f"   {name:<46}{fmt_time(t / 1000):>12}{t / t_np:>11,.0f}x")
    print(f"   check verdict: {report.counts()}, max error {report.max_ulp:.3g} ulp")

    # 3. Layered model build -------------------------------------------------------------------
    print("\n3. building the layered SymPy model of 784-50-100-10 (fresh network, no cache)")
    mnist32 = load_network("book-mnist")
    for mode in (Mode.BINARY, Mode.SYMBOLIC):
        start = time.perf_counter()
        m = build_model(fresh(mnist32), mode)
        t = time.perf_counter() - start
        print(f"   {mode.value:<10} {t:6.2f} s   (y_1 expanded would have {m.expanded_size(3, 1):,} nodes: "
              "refused above --max-ops)")

    # 4. Looseness of the bound ------------------------------------------------------------------
    print("\n4. derived bound / measured NumPy error (worst output = largest error)")
    for name, network, xs in [
        ("book, x = (1.0, 0.5), float64", book_network(), BOOK_X),
        ("book-mnist float64, 200 uniform inputs", mnist, x[:200]),
        ("book-mnist float32, 200 uniform inputs", mnist32, x[:200].astype(np.float32)),
    ]:
        rep = check_outputs(network, xs, forward(network, xs).y, progress=False)
        w = rep.worst
        ratios = [r.bound_ulp / r.ulp for r in rep.results if r.ulp > 0]
        print(f"   {name:<40} worst error {w.ulp:8.3g} ulp, its bound {w.bound_ulp:9.3g} ulp "
              f"(ratio {w.bound_ulp / w.ulp:,.0f}); median ratio {np.median(ratios):,.0f}")


if __name__ == "__main__":
    main()
